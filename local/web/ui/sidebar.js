// The conversation list: one row per room, most recently active first, with
// the last message (or who is typing) and the unread badge.
import { $, el, shortTime, srOnly } from './dom.js';
import { activity, me, nameOf, roomAvatar, roomTitle, typingText, ui } from './state.js';
import { openRoom } from './conversation.js';
import { e2eePreview } from './e2ee-app.js';
import { openNewChat } from './dialogs.js';

let queued = false;
/** Redraws the list on the next frame (many events coalesce into one draw). */
export function renderSidebar() {
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => { if (!queued) return; queued = false; drawSidebar(); });
}

/** Draws the list now (e.g. before moving focus into it). */
export function drawSidebarNow() {
  queued = false;
  drawSidebar();
}

function unreadShown(room) {
  return ui.currentId === room.roomId && document.visibilityState === 'visible' ? 0 : room.unreadCount;
}

function drawSidebar() {
  const client = ui.client;
  const list = $('room-list');
  const q = $('room-search').value.trim().toLowerCase();
  const rooms = Array.from(client.rooms.values())
    .sort((a, b) => activity(b) - activity(a) || (a.roomId < b.roomId ? -1 : 1))
    .filter((r) => !q || roomTitle(r).toLowerCase().includes(q));
  const frag = document.createDocumentFragment();
  let totalUnread = 0;
  const sigs = [];
  for (const room of rooms) {
    const unread = unreadShown(room);
    totalUnread += unread;
    const typers = client.typingIn(room.roomId);
    let preview;
    if (typers.length) preview = typingText(typers);
    else if (room.lastMessage) {
      const lm = e2eePreview(room, room.lastMessage); // an encrypted room's: opened
      const who = lm.senderId === me() ? 'You: ' : room.kind === 'direct' ? '' : `${nameOf(lm.senderId)}: `;
      preview = lm.senderId !== me() && ui.blocked.has(lm.senderId)
        ? 'Hidden message from a blocked user'
        : lm.deletedAt ? `${who}Message deleted` : who + lm.body.replace(/\s+/g, ' ');
    } else preview = room.kind === 'channel' ? 'Channel · no messages yet' : room.kind === 'group' ? 'Group · no messages yet' : 'Say hello 👋';
    const item = el('button', {
      type: 'button', class: `room-item${unread ? ' has-unread' : ''}`, testid: 'room-item',
      dataset: { roomId: room.roomId, kind: room.kind }, 'aria-current': ui.currentId === room.roomId ? 'true' : 'false',
      onclick: () => openRoom(room.roomId),
    },
    roomAvatar(room),
    el('span', { class: 'room-item-info' },
      el('span', { class: 'room-item-top' },
        el('span', { class: 'room-item-name', testid: 'room-name', text: roomTitle(room) }),
        el('span', { class: 'room-item-time', text: shortTime(activity(room)) })),
      el('span', { class: 'room-item-bottom' },
        el('span', { class: `room-item-preview${typers.length ? ' is-typing' : ''}`, text: preview }),
        unread ? el('span', { class: 'unread-badge', testid: 'room-unread' }, el('span', { 'aria-hidden': 'true', text: unread > 99 ? '99+' : unread }), srOnly(`, ${unread} unread`)) : null)));
    // What the row shows, to redraw only rows that changed.
    item.dataset.sig = [roomTitle(room), unread, preview, shortTime(activity(room)), ui.currentId === room.roomId, room.kind,
      item.querySelector('.presence-dot') ? item.querySelector('.presence-dot').dataset.status : ''].join('\u0001');
    sigs.push(item);
    frag.append(item);
  }
  // Same rows in the same order: swap only the rows that changed (a new
  // message changes one), so the list is not laid out again as a whole.
  const now = Array.from(list.children);
  if (rooms.length > 0 && now.length === sigs.length && now.every((n, i) => n.dataset.roomId === sigs[i].dataset.roomId)) {
    now.forEach((n, i) => {
      if (n.dataset.sig === sigs[i].dataset.sig) return;
      const focused = document.activeElement === n;
      n.replaceWith(sigs[i]);
      if (focused) sigs[i].focus();
    });
    document.title = totalUnread ? `(${totalUnread}) Chat` : 'Chat';
    return;
  }
  // Keyboard focus on a row survives the redraw.
  const active = document.activeElement;
  const focusedId = active && active.classList && active.classList.contains('room-item') ? active.dataset.roomId : null;
  list.replaceChildren(frag);
  if (focusedId) {
    const again = list.querySelector(`.room-item[data-room-id="${CSS.escape(focusedId)}"]`);
    if (again) again.focus();
  }
  if (rooms.length === 0) {
    list.append(el('div', { class: 'room-list-empty' },
      q ? 'No conversations match.' : 'No conversations yet.',
      q ? null : el('div', null, el('button', { type: 'button', class: 'btn btn-primary btn-sm', onclick: () => openNewChat('direct') }, 'Start one'))));
  }
  document.title = totalUnread ? `(${totalUnread}) Chat` : 'Chat';
}
