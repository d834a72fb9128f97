// Edits, deletes and reactions in the conversation: each message's action
// bar (react, and for whoever may: edit, delete), the reaction picker and
// chips, the edit mode of the composer (Up arrow in an empty composer edits
// your last message; Escape cancels), and the delete confirmation.
// What the server decides (who may, limits) is the SDK's and the server's;
// refusals come back as `serverError` and are toasted in words.
import { $, el, toast } from './dom.js';
import { currentRoom, me, ui } from './state.js';
import { e2eeView, editSealed, isEncrypted } from './e2ee-app.js';

/** The picker's emoji: the common set chat apps offer first. */
export const PICKER = ['👍', '❤️', '😂', '🎉', '😮', '😢'];

/** Whether you may delete `m` in `room`: your own, or any as owner of a group or channel. */
function mayDelete(room, m) {
  return m.senderId === me() || (room.kind !== 'direct' && room.ownerId === me());
}

/** The tombstone's bubble content. */
export function deletedNode() {
  return el('span', { class: 'msg-deleted', testid: 'message-deleted', text: 'Message deleted' });
}

/** "(edited)", with the time of the edit as its title. */
export function editedNode(m) {
  if (!m.editedAt || m.deletedAt) return null;
  return el('span', { class: 'msg-edited', testid: 'message-edited', title: new Date(m.editedAt).toLocaleString(), text: '(edited)' });
}

/** The reaction chips of `m`: one toggle button per emoji, with its count. */
export function reactionChips(room, m) {
  const list = m.deletedAt ? [] : (m.reactions || []);
  if (!list.length || m.seq === null) return null;
  return el('div', { class: 'reactions', testid: 'reactions', role: 'group', 'aria-label': 'Reactions' },
    list.map((r) => el('button', {
      type: 'button', class: `reaction-chip${r.me ? ' mine' : ''}`, testid: 'reaction-chip',
      dataset: { emoji: r.emoji, count: String(r.count) }, 'aria-pressed': r.me ? 'true' : 'false',
      'aria-label': `${r.emoji} ${r.count} ${r.count === 1 ? 'reaction' : 'reactions'}${r.me ? ', including yours' : ''}`,
      onclick: () => react(room.roomId, m.seq, r.emoji),
    }, el('span', { 'aria-hidden': 'true', text: r.emoji }), el('span', { class: 'reaction-count', 'aria-hidden': 'true', text: String(r.count) }))));
}

/** The action bar of a stored, not deleted message. */
export function messageActions(room, m) {
  if (m.seq === null || m.deletedAt) return null;
  const bar = el('div', { class: 'msg-actions', testid: 'message-actions' });
  bar.append(el('button', {
    type: 'button', class: 'msg-action', testid: 'react-button', 'aria-label': 'Add reaction', 'aria-haspopup': 'true',
    onclick: (ev) => openPicker(ev.currentTarget, room.roomId, m.seq),
  }, el('span', { 'aria-hidden': 'true', text: '☺' })));
  if (m.senderId === me() && (!m.e2ee || m.e2ee === 'open')) { // an encrypted room's once opened
    bar.append(el('button', {
      type: 'button', class: 'msg-action', testid: 'edit-button', 'aria-label': 'Edit message',
      onclick: () => startEdit(room.roomId, m),
    }, el('span', { 'aria-hidden': 'true', text: '✎' })));
  }
  if (mayDelete(room, m)) {
    bar.append(el('button', {
      type: 'button', class: 'msg-action', testid: 'delete-button', 'aria-label': 'Delete message',
      onclick: () => confirmDelete(room.roomId, m.seq),
    }, el('span', { 'aria-hidden': 'true', text: '🗑' })));
  }
  return bar;
}

function react(roomId, seq, emoji) {
  if (!ui.client.react(roomId, seq, emoji)) toast('You are offline: try again once connected.');
}

let picker = null;
function closePicker() {
  if (picker) { picker.remove(); picker = null; }
}

function openPicker(anchor, roomId, seq) {
  closePicker();
  picker = el('div', { class: 'reaction-picker', testid: 'reaction-picker', role: 'menu', 'aria-label': 'Pick a reaction' },
    PICKER.map((e) => el('button', {
      type: 'button', role: 'menuitem', class: 'reaction-option', testid: 'reaction-option', dataset: { emoji: e }, 'aria-label': `React with ${e}`,
      onclick: () => { closePicker(); react(roomId, seq, e); anchor.focus(); },
    }, el('span', { 'aria-hidden': 'true', text: e }))));
  anchor.parentElement.append(picker);
  picker.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') { closePicker(); anchor.focus(); } });
  picker.querySelector('button').focus();
}

// ------------------------------------------------------------------ edit

/** Puts `m` in the composer to edit it. */
export function startEdit(roomId, m) {
  ui.editing = { roomId, seq: m.seq };
  const input = $('composer-input');
  input.value = m.body;
  $('edit-banner').hidden = false;
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
  input.dispatchEvent(new Event('input'));
}

export function cancelEdit() {
  if (!ui.editing) return;
  ui.editing = null;
  $('edit-banner').hidden = true;
  $('composer-input').value = '';
  $('composer-input').dispatchEvent(new Event('input'));
}

/** Saves the edit in the composer; true when the composer was in edit mode. */
export function finishEdit(body) {
  const e = ui.editing;
  if (!e) return false;
  const held = ui.client.messages(e.roomId).find((m) => m.seq === e.seq);
  const room = ui.client.rooms.get(e.roomId);
  if (held && isEncrypted(room)) {
    // Sealed under the edit's own associated data; the text as opened here.
    if (e2eeView(room, held).body !== body) editSealed(room, e.seq, body);
  } else if (held && held.body !== body && !ui.client.editMessage(e.roomId, e.seq, body)) {
    toast('You are offline: the edit was not saved.');
    return true;
  }
  ui.editing = null;
  $('edit-banner').hidden = true;
  return true;
}

/** Up arrow in an empty composer: edit your newest message of the room. */
export function editLast() {
  const room = currentRoom();
  if (!room) return false;
  const mine = ui.client.messages(room.roomId).filter((m) => m.senderId === me() && !m.deletedAt && m.seq !== null);
  const last = mine[mine.length - 1];
  if (!last) return false;
  // An encrypted room's: its text as opened here (not until it is).
  const view = e2eeView(room, last);
  if (view.e2ee && view.e2ee !== 'open') return false;
  startEdit(room.roomId, view);
  return true;
}

// ---------------------------------------------------------------- delete

function confirmDelete(roomId, seq) {
  const dialog = $('delete-dialog');
  dialog.dataset.roomId = roomId;
  dialog.dataset.seq = String(seq);
  dialog.showModal();
}

export function wireChanges() {
  const dialog = $('delete-dialog');
  $('delete-confirm').addEventListener('click', () => {
    const seq = Number(dialog.dataset.seq);
    dialog.close();
    if (!ui.client.deleteMessage(dialog.dataset.roomId, seq)) toast('You are offline: the message was not deleted.');
  });
  for (const b of dialog.querySelectorAll('[data-close]')) b.addEventListener('click', () => dialog.close());
  $('edit-cancel').addEventListener('click', cancelEdit);
  document.addEventListener('click', (ev) => {
    if (picker && !picker.contains(ev.target) && !ev.target.closest('[data-testid="react-button"]')) closePicker();
  });
}
