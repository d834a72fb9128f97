// The composer: typing notices (debounced by the SDK), Enter to send,
// Shift+Enter for a new line, drafts kept per room.
import { $, byteLength, toast } from './dom.js';
import { currentRoom, ui } from './state.js';
import { renderMessages } from './conversation.js';

const MAX_BODY_BYTES = 4096;

function autoGrow() {
  const t = $('composer-input');
  t.style.height = 'auto';
  t.style.height = `${Math.min(t.scrollHeight, 160)}px`;
}

function updateSendButton() {
  $('composer-send').disabled = !$('composer-input').value.trim();
}

export function saveDraft() {
  if (ui.currentId) ui.drafts.set(ui.currentId, $('composer-input').value);
}

export function loadDraft(roomId) {
  $('composer-input').value = ui.drafts.get(roomId) || '';
  autoGrow();
  updateSendButton();
}

export function stopTyping() {
  if (ui.client) ui.client.stopTyping();
}

function onInput() {
  autoGrow();
  updateSendButton();
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
    toast(`Message is too long (at most ${MAX_BODY_BYTES} bytes).`);
    return;
  }
  // Pending until acked; the SDK resends it (same clientMsgId) as needed and
  // reports a refusal as `sendFailed`.
  ui.client.send(room.roomId, body).catch(() => { /* shown as "Not sent · Retry" */ });
  input.value = '';
  ui.drafts.delete(room.roomId);
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
    }
  });
  input.addEventListener('blur', () => { if (!input.value.trim()) stopTyping(); });
  $('composer').addEventListener('submit', (ev) => { ev.preventDefault(); sendCurrent(); });
  updateSendButton();
}
