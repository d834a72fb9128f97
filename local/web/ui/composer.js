// The composer: typing notices (debounced by the SDK), Enter to send,
// Shift+Enter for a new line, drafts kept per room.
import { $, byteLength, toast } from './dom.js';
import { currentRoom, ui } from './state.js';
import { renderMessages } from './conversation.js';
import { takeReply } from './replies.js';
import { cancelEdit, editLast, finishEdit } from './changes.js';
import { isEncrypted, sendSealed } from './e2ee-app.js';

const MAX_BODY_BYTES = 4096;

function autoGrow() {
  const t = $('composer-input');
  t.style.height = 'auto';
  t.style.height = `${Math.min(t.scrollHeight, 160)}px`;
}

function updateSendButton() {
  $('composer-send').disabled = !$('composer-input').value.trim();
}

// Drafts live in localStorage per user and room, so a reload (or a crash)
// keeps what was being written; signing out clears them.
const draftsKey = () => `chat.drafts.v1.${ui.session ? ui.session.userId : ''}`;

/** Reads the stored drafts (at start). */
export function restoreDrafts() {
  ui.drafts.clear();
  try {
    const raw = JSON.parse(localStorage.getItem(draftsKey()) || '{}');
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'string' && v) ui.drafts.set(k, v);
  } catch { /* unreadable: start empty */ }
}

function storeDrafts() {
  try {
    if (ui.drafts.size) localStorage.setItem(draftsKey(), JSON.stringify(Object.fromEntries(ui.drafts)));
    else localStorage.removeItem(draftsKey());
  } catch { /* storage full or denied: drafts stay in memory */ }
}

export function clearDrafts() {
  ui.drafts.clear();
  try { localStorage.removeItem(draftsKey()); } catch { /* denied */ }
}

export function saveDraft() {
  if (!ui.currentId) return;
  const v = $('composer-input').value;
  if (v.trim()) ui.drafts.set(ui.currentId, v);
  else ui.drafts.delete(ui.currentId);
  storeDrafts();
}

export function loadDraft(roomId) {
  $('composer-input').value = ui.drafts.get(roomId) || '';
  autoGrow();
  updateSendButton();
}

export function stopTyping() {
  if (ui.client) ui.client.stopTyping();
}

let draftTimer = null;
function onInput() {
  autoGrow();
  updateSendButton();
  clearTimeout(draftTimer);
  draftTimer = setTimeout(saveDraft, 300);
  const room = currentRoom();
  if (!room) return;
  if (!$('composer-input').value.trim()) { stopTyping(); return; }
  ui.client.typed(room.roomId);
}

function sendCurrent() {
  const room = currentRoom();
  const input = $('composer-input');
  const body = input.value.replace(/^\s*\n|\s+$/g, '');
  if (!room || !body.trim()) return;
  if (byteLength(body) > MAX_BODY_BYTES) {
    toast(`That message is too long: at most ${MAX_BODY_BYTES} bytes (about ${Math.floor(MAX_BODY_BYTES / 4)} emoji or ${MAX_BODY_BYTES} letters).`);
    return;
  }
  if (finishEdit(body)) {
    input.value = '';
    autoGrow();
    updateSendButton();
    return;
  }
  // Pending until acked; the SDK resends it (same clientMsgId) as needed and
  // reports a refusal as `sendFailed`. An encrypted room's is sealed first
  // (the text comes back when it could not be).
  if (isEncrypted(room)) {
    sendSealed(room, body, takeReply(room.roomId)).then((sent) => { if (!sent && !input.value) { input.value = body; autoGrow(); updateSendButton(); } });
  } else ui.client.send(room.roomId, body, takeReply(room.roomId)).catch(() => { /* shown as "Not sent · Retry" */ });
  input.value = '';
  clearTimeout(draftTimer);
  ui.drafts.delete(room.roomId);
  storeDrafts();
  autoGrow();
  updateSendButton();
  renderMessages({ toBottom: true });
}

export function wireComposer() {
  const input = $('composer-input');
  input.addEventListener('input', onInput);
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      sendCurrent();
    } else if (ev.key === 'ArrowUp' && !input.value && !ev.isComposing && !ui.editing) {
      // Up in an empty composer edits your last message, as chat apps do.
      if (editLast()) ev.preventDefault();
    } else if (ev.key === 'Escape' && ui.editing) {
      ev.preventDefault();
      cancelEdit();
    }
  });
  input.addEventListener('blur', () => { if (!input.value.trim()) stopTyping(); saveDraft(); });
  window.addEventListener('pagehide', saveDraft);
  $('composer').addEventListener('submit', (ev) => { ev.preventDefault(); sendCurrent(); });
  updateSendButton();
}
