// Connects the SDK's events to the views: each event redraws what it
// changed. This is the only place the UI listens to the client.
import { $, humanError, toast } from './dom.js';
import { currentRoom, ui } from './state.js';
import { renderSidebar } from './sidebar.js';
import { closeRoom, maybeMarkRead, renderHeader, renderMessages, renderTyping } from './conversation.js';
import { renderMembers } from './dialogs.js';
import { setConnState, wireLiveness } from './connection.js';

const ROOMS_REFRESH_MS = 30_000;

export function wireClient(client) {
  client.on('connection', ({ state, retryAt }) => {
    if (state === 'online') {
      const wasReconnect = ui.everConnected;
      ui.everConnected = true;
      if (wasReconnect) {
        // Presence and names may have changed while we were away.
        client.loadRooms().catch(() => {});
        if (ui.currentId) client.loadRoom(ui.currentId).then(() => { renderHeader(); renderMessages(); }).catch(() => {});
      }
      maybeMarkRead();
    }
    if (state === 'offline') ui.retryAt = retryAt || 0;
    setConnState(state === 'online' ? 'online' : state === 'connecting' ? 'connecting' : 'offline');
  });
  client.on('messages', ({ roomId }) => {
    if (ui.currentId === roomId) {
      renderMessages();
      renderTyping();
      maybeMarkRead();
    }
    renderSidebar();
  });
  client.on('pending', ({ roomId }) => { if (ui.currentId === roomId) renderMessages(); });
  client.on('receipt', ({ roomId }) => { if (ui.currentId === roomId) renderMessages(); });
  client.on('presence', () => {
    renderSidebar();
    renderHeader();
    if ($('members-dialog').open) renderMembers();
  });
  client.on('typing', ({ roomId }) => {
    if (ui.currentId === roomId) renderTyping();
    renderSidebar();
  });
  client.on('rooms', () => { renderSidebar(); renderHeader(); });
  client.on('room', ({ roomId }) => {
    renderSidebar();
    if (ui.currentId === roomId) { renderHeader(); renderMessages(); renderTyping(); }
    if (ui.currentId === roomId && $('members-dialog').open) renderMembers();
  });
  client.on('roomRemoved', ({ roomId }) => { if (ui.currentId === roomId) closeRoom(); });
  // A refused send shows on the message itself (its note and Retry) and is
  // announced there; other refusals get a toast in words, never the
  // server's text.
  client.on('serverError', (f) => toast(humanError(f.code)));
  wireLiveness(client);

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') { maybeMarkRead(); renderSidebar(); client.checkAlive(); }
    else client.stopTyping();
  });
  window.addEventListener('pagehide', () => client.stopTyping());
  setInterval(() => {
    if (document.visibilityState === 'visible' && client.isOnline) client.loadRooms().catch(() => {});
  }, ROOMS_REFRESH_MS);
  // Keep the open room's header fresh when its cursors or members move.
  if (currentRoom()) renderHeader();
}
