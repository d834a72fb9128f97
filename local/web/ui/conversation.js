// The open conversation: its header (title, presence, members), the message
// list (grouped by sender and day, with delivery ticks), the typing line,
// history paging, and marking it read while it is on screen.
import { $, dayLabel, el, fullFmt, icon, startOfDay, timeFmt, toast } from './dom.js';
import { avatarFor, currentRoom, me, nameOf, peerOf, presenceOf, roomAvatar, roomTitle, typingText, ui } from './state.js';
import { renderSidebar } from './sidebar.js';
import { attachmentNodes } from './attachments.js';
import { loadDraft, saveDraft, stopTyping } from './composer.js';

const PAGE_SIZE = 50;
const GROUP_GAP_MS = 5 * 60_000;

export function openRoom(id) {
  const client = ui.client;
  const room = client.rooms.get(id);
  if (!room) return;
  const changed = ui.currentId !== id;
  if (changed) { stopTyping(); saveDraft(); }
  ui.currentId = id;
  if (changed) loadDraft(id);
  $('empty-state').hidden = true;
  $('room-view').hidden = false;
  $('app').classList.add('show-room');
  $('jump-latest').hidden = true;
  renderHeader();
  renderMessages({ toBottom: true });
  renderTyping();
  renderSidebar();
  renderHistoryStatus();
  if (!ui.historyRequested.has(id)) loadNewest(id);
  else maybeMarkRead();
  client.loadRoom(id).catch((e) => { if (e.status && e.status !== 401 && e.status !== 403 && e.status !== 404) toast(e.message); });
  if (matchMedia('(pointer: fine)').matches) $('composer-input').focus();
}

export function closeRoom() {
  stopTyping();
  saveDraft();
  $('composer-input').value = '';
  ui.currentId = null;
  $('room-view').hidden = true;
  $('empty-state').hidden = false;
  $('app').classList.remove('show-room');
  renderSidebar();
}

async function loadNewest(roomId) {
  ui.historyRequested.add(roomId);
  ui.historyLoading.add(roomId);
  ui.historyErrors.delete(roomId);
  renderHistoryStatus();
  try {
    await ui.client.loadHistory(roomId, PAGE_SIZE);
  } catch (e) {
    ui.historyRequested.delete(roomId);
    ui.historyErrors.set(roomId, e.message);
  } finally {
    ui.historyLoading.delete(roomId);
  }
  if (ui.currentId === roomId) {
    renderMessages({ toBottom: true });
    renderHistoryStatus();
    maybeMarkRead();
    fillViewport(roomId);
  }
  renderSidebar();
}

async function loadOlder(roomId) {
  const room = ui.client.rooms.get(roomId);
  if (!room || !room.prevCursor || ui.historyLoading.has(roomId)) return;
  ui.historyLoading.add(roomId);
  renderHistoryStatus();
  const scroller = $('message-scroll');
  const fromBottom = scroller.scrollHeight - scroller.scrollTop;
  try {
    await ui.client.loadOlder(roomId, PAGE_SIZE);
  } catch (e) {
    toast(`Could not load older messages: ${e.message}`);
  } finally {
    ui.historyLoading.delete(roomId);
  }
  if (ui.currentId === roomId) {
    drawMessagesNow();
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
    renderHistoryStatus();
    fillViewport(roomId);
  }
}

// If the newest page does not fill the pane, page back until it does.
function fillViewport(roomId) {
  const room = ui.client.rooms.get(roomId);
  const scroller = $('message-scroll');
  if (ui.currentId === roomId && room && room.prevCursor && scroller.scrollHeight <= scroller.clientHeight + 40) {
    loadOlder(roomId);
  }
}

/** Marks the open room read while the page is visible. */
export function maybeMarkRead() {
  const room = currentRoom();
  if (!room || document.visibilityState !== 'visible') return;
  ui.client.markRead(room.roomId);
}

export function renderHeader() {
  const room = currentRoom();
  if (!room) return;
  $('room-title').textContent = roomTitle(room);
  $('room-avatar').replaceChildren(roomAvatar(room, 'avatar-md'));
  const sub = $('room-subtitle');
  const peer = peerOf(room);
  if (peer) {
    const status = presenceOf(peer);
    sub.replaceChildren(
      el('span', { class: 'presence-label', testid: 'peer-presence', dataset: { status, userId: peer }, text: status === 'online' ? 'Online' : 'Offline' }),
      el('span', { text: `· @${peer}` }));
  } else if (room.kind === 'direct') {
    sub.replaceChildren(el('span', { text: 'Direct message' }));
  } else {
    const n = room.members.size;
    const online = Array.from(room.members.keys()).filter((id) => presenceOf(id) === 'online').length;
    const kind = room.kind === 'channel' ? 'Public channel' : 'Group';
    sub.replaceChildren(el('span', { testid: 'room-members-summary', text: room.detailLoaded ? `${kind} · ${n} member${n === 1 ? '' : 's'} · ${online} online` : kind }));
  }
  $('add-member-button').hidden = !(room.kind !== 'direct' && room.ownerId === me());
  $('leave-button').hidden = !(room.kind !== 'direct' && room.ownerId !== me());
}

export function renderHistoryStatus() {
  const room = currentRoom();
  const box = $('history-status');
  if (!room) { box.textContent = ''; return; }
  const id = room.roomId;
  const held = ui.client.messages(id).length;
  if (ui.historyLoading.has(id)) box.textContent = 'Loading messages…';
  else if (ui.historyErrors.has(id)) box.textContent = `Could not load messages: ${ui.historyErrors.get(id)}`;
  else if (room.historyLoaded && !room.prevCursor && held > 0) box.textContent = 'This is the beginning of the conversation.';
  else if (room.historyLoaded && held === 0 && ui.client.pending(id).length === 0) box.textContent = 'No messages yet. Say hello!';
  else box.textContent = '';
}

let queued = null;
/** Redraws the message list on the next frame; `toBottom` scrolls to the newest. */
export function renderMessages(opts = {}) {
  if (queued) { queued.toBottom = queued.toBottom || !!opts.toBottom; return; }
  queued = { toBottom: !!opts.toBottom };
  requestAnimationFrame(() => { const o = queued; if (!o) return; queued = null; drawMessages(o); });
}

/** Draws now (and drops a queued draw): for callers that must measure after. */
function drawMessagesNow(opts = {}) {
  const q = queued;
  queued = null;
  drawMessages({ toBottom: !!opts.toBottom || !!(q && q.toBottom) });
}

function drawMessages({ toBottom }) {
  const client = ui.client;
  const room = currentRoom();
  const list = $('message-list');
  const scroller = $('message-scroll');
  if (!room) { list.replaceChildren(); return; }
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  const mine = me();
  const items = client.messages(room.roomId).map((m) => ({ m, status: m.senderId === mine ? client.receiptStatus(room.roomId, m.seq) : null }));
  for (const p of client.pending(room.roomId)) {
    items.push({
      m: { messageId: null, seq: null, senderId: mine, body: p.body, sentAt: p.createdAt, clientMsgId: p.clientMsgId },
      status: p.status === 'failed' ? 'failed' : 'pending',
      pending: p,
    });
  }
  const frag = document.createDocumentFragment();
  let group = null;
  let lastDay = null;
  let prev = null;
  for (const it of items) {
    const { m } = it;
    const day = startOfDay(m.sentAt);
    if (day !== lastDay) {
      frag.append(el('div', { class: 'day-sep', role: 'separator', text: dayLabel(m.sentAt) }));
      lastDay = day;
      group = null;
    }
    if (!group || prev.senderId !== m.senderId || m.sentAt - prev.sentAt > GROUP_GAP_MS) {
      group = newGroup(room, m.senderId);
      frag.append(group.node);
    }
    group.stack.append(messageNode(it));
    prev = m;
  }
  list.replaceChildren(frag);
  renderHistoryStatus();
  if (toBottom || atBottom) {
    scroller.scrollTop = scroller.scrollHeight;
    $('jump-latest').hidden = true;
  } else if (items.length && items[items.length - 1].m.senderId !== mine) {
    $('jump-latest').hidden = false;
  }
}

function newGroup(room, senderId) {
  const mine = senderId === me();
  const stack = el('div', { class: 'msg-stack' });
  if (!mine && room.kind !== 'direct') stack.append(el('span', { class: 'msg-sender', testid: 'message-sender', text: nameOf(senderId) }));
  const node = el('div', { class: `msg-group ${mine ? 'out' : 'in'}`, testid: 'message-group', dataset: { sender: senderId } },
    mine ? null : avatarFor(senderId, 'avatar-sm'), stack);
  return { node, stack };
}

const TICK_LABEL = { pending: 'Sending', sent: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'Not sent' };
const TICK_ICON = { pending: 'clock', sent: 'check', delivered: 'checks', read: 'checks', failed: 'alert' };

function messageNode({ m, status, pending }) {
  const meta = el('span', { class: 'msg-meta', title: fullFmt.format(m.sentAt) },
    el('time', { datetime: new Date(m.sentAt).toISOString(), text: timeFmt.format(m.sentAt) }));
  if (status) {
    const title = pending && pending.error ? pending.error.message : TICK_LABEL[status];
    meta.append(el('span', { class: 'tick', testid: 'message-status', dataset: { status }, title, 'aria-label': TICK_LABEL[status] }, icon(TICK_ICON[status])));
  }
  const bubble = el('div', { class: 'bubble' }, el('span', { class: 'msg-body', testid: 'message-body', text: m.body }),
    attachmentNodes(m.attachments), meta);
  const node = el('div', {
    class: 'msg', testid: 'message',
    dataset: { messageId: m.messageId || undefined, seq: m.seq === null ? undefined : String(m.seq), sender: m.senderId, status: status || 'received', clientMsgId: m.clientMsgId || undefined },
  }, bubble);
  if (status === 'failed') {
    return el('div', { class: 'msg-failed-wrap' }, node,
      el('button', {
        type: 'button', class: 'msg-retry', testid: 'message-retry',
        onclick: () => ui.client.retrySend(pending.clientMsgId).catch(() => { /* shown as failed again */ }),
      }, 'Not sent · Retry'));
  }
  return node;
}

export function renderTyping() {
  const room = currentRoom();
  const box = $('typing');
  const ids = room ? ui.client.typingIn(room.roomId) : [];
  box.dataset.active = String(ids.length > 0);
  $('typing-text').textContent = ids.length ? typingText(ids) : '';
}

/** Scrolling near the top pages back; at the bottom hides "jump to latest". */
export function wireConversation() {
  const scroller = $('message-scroll');
  scroller.addEventListener('scroll', () => {
    if (!ui.currentId) return;
    if (scroller.scrollTop < 120) loadOlder(ui.currentId);
    if (scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80) $('jump-latest').hidden = true;
  }, { passive: true });
  $('jump-latest').addEventListener('click', () => {
    scroller.scrollTop = scroller.scrollHeight;
    $('jump-latest').hidden = true;
  });
  $('back-button').addEventListener('click', closeRoom);
}
