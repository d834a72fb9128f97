// Connects the SDK's events to the views: each event redraws what it
// changed. This is the only place the UI listens to the client.
import { $, humanError, toast } from './dom.js';
import { currentRoom, me, nameOf, ui } from './state.js';
import { renderSidebar } from './sidebar.js';
import { closeRoom, maybeMarkRead, renderHeader, renderMessages, renderTyping } from './conversation.js';
import { renderMembers } from './dialogs.js';
import { setConnState, wireLiveness } from './connection.js';
import { threadMessages } from './replies.js';

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
  client.on('messages', ({ roomId, added }) => {
    // A sender we do not know as a member joined since we looked: refresh.
    const room = client.rooms.get(roomId);
    if (room && room.detailLoaded && added.some((m) => !room.members.has(m.senderId))) client.loadRoom(roomId).catch(() => {});
    if (ui.currentId === roomId) {
      renderMessages();
      renderTyping();
      maybeMarkRead();
    }
    renderSidebar();
    threadMessages(roomId, added);
  });
  client.on('pending', ({ roomId }) => { if (ui.currentId === roomId) renderMessages(); });
  // An edit, a delete or a reaction, live or found by sync.
  client.on('changed', ({ roomId }) => {
    if (ui.currentId === roomId) renderMessages();
    renderSidebar();
  });
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
    noteMemberChanges(client, roomId);
    renderSidebar();
    if (ui.currentId === roomId) { renderHeader(); renderMessages(); renderTyping(); }
    if (ui.currentId === roomId && $('members-dialog').open) renderMembers();
  });
  client.on('roomRemoved', ({ roomId }) => { if (ui.currentId === roomId) closeRoom('replace'); });
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
  // A group's joins and leaves arrive live (memberJoined/memberLeft: the
  // SDK reloads the room, and its `room` event makes the notice). Channels
  // carry none, and a push can be lost: the open room is also refreshed now
  // and then, when the page comes back, and when a stranger posts.
  const refreshOpen = () => { if (ui.currentId && client.isOnline) client.loadRoom(ui.currentId).catch(() => {}); };
  setInterval(() => {
    if (document.visibilityState === 'visible' && client.isOnline) { client.loadRooms().catch(() => {}); refreshOpen(); }
  }, ROOMS_REFRESH_MS);
  window.addEventListener('focus', refreshOpen);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') refreshOpen(); });
  // Keep the open room's header fresh when its cursors or members move.
  if (currentRoom()) renderHeader();
}

/**
 * Compares a room's members with the last look: who joined and who left
 * become notices in the conversation (and are announced).
 */
function noteMemberChanges(client, roomId) {
  const room = client.rooms.get(roomId);
  if (!room || !room.detailLoaded || room.kind === 'direct') return;
  const now = new Set(room.members.keys());
  const before = ui.memberSnap.get(roomId);
  ui.memberSnap.set(roomId, now);
  if (!before) return;
  const list = ui.notices.get(roomId) || [];
  const at = Date.now();
  for (const id of now) if (!before.has(id)) list.push({ key: `n:${at}:+${id}`, at, text: `${id === me() ? 'You' : nameOf(id)} joined` });
  for (const id of before) if (!now.has(id)) list.push({ key: `n:${at}:-${id}`, at, text: `${id === me() ? 'You' : nameOf(id)} left` });
  if (list.length) ui.notices.set(roomId, list);
  if (ui.currentId === roomId) renderMessages();
}
