// What the UI keeps beside the SDK's state, and the names and pictures it
// derives from it. The SDK (`ui.client`, a ChatClient) owns everything the
// protocol decides: rooms, messages, pending sends, members' cursors,
// presence, typing. The UI keeps only what is about the screen.
import { el, hashHue, icon, initials, safeImageUrl } from './dom.js';

export const ui = {
  /** @type {import('../sdk/index.js').ChatClient | null} */
  client: null,
  /** The message being edited in the composer: {roomId, seq}, or null. */
  editing: null,
  /** {token, userId, name} from sign-in. */
  session: null,
  /** The open conversation's room id. */
  currentId: null,
  /** Unsent composer text per room (kept in localStorage: see composer.js). */
  drafts: new Map(),
  /** The connection as shown: 'online' only once verified (connection.js). */
  conn: 'connecting',
  /** The open room's read cursor when it was opened: the unread marker. */
  unreadFrom: null,
  /** Members last seen per room, and the join/leave notices drawn from changes. */
  memberSnap: new Map(),
  notices: new Map(),
  /** The new-conversation dialog's tab. */
  newChatKind: 'direct',
  /** Rooms whose newest history page was asked for. */
  historyRequested: new Set(),
  historyLoading: new Set(),
  historyErrors: new Map(),
  /** Set once the socket was online once: later drops show the banner. */
  everConnected: false,
  retryAt: 0,
  /** The message the composer answers: {roomId, preview} (replies.js). */
  replyTo: null,
  /** Whom you block (GET /users/me/blocks): their messages in shared groups are hidden. */
  blocked: new Set(),
  /** Keys of hidden messages you chose to show anyway. */
  revealed: new Set(),
  /** Whom you muted (`mutedUsers` of your notification policy). */
  muted: new Set(),
};

/** Loads whom you block; a failure leaves the list as it was. */
export async function loadBlocks() {
  try {
    const list = await ui.client.rest.blocks();
    ui.blocked = new Set(list.blocks.map((b) => b.userId));
    const policy = await ui.client.rest.call('GET', '/users/me/notifications');
    ui.muted = new Set(policy.mutedUsers);
  } catch { /* shown as not blocked or muted; the server still enforces both */ }
}

export const me = () => ui.session.userId;
export const currentRoom = () => (ui.currentId ? ui.client.rooms.get(ui.currentId) ?? null : null);

export function nameOf(userId) {
  if (ui.session && userId === ui.session.userId) return ui.session.name || userId;
  const u = ui.client && ui.client.users.get(userId);
  return (u && u.displayName) || userId;
}

/** 'online', 'offline', or 'unknown' while we are not connected ourselves. */
export function presenceOf(userId) {
  if (ui.conn !== 'online') return 'unknown';
  const u = ui.client.users.get(userId);
  return (u && u.presence) || 'offline';
}

export const PRESENCE_LABEL = { online: 'Online', offline: 'Offline', unknown: 'Presence unknown while you are offline' };

export function peerOf(room) {
  if (room.kind !== 'direct') return null;
  for (const id of room.members.keys()) if (id !== me()) return id;
  return null;
}

export function roomTitle(room) {
  const peer = peerOf(room);
  if (peer) return nameOf(peer);
  if (room.kind === 'direct') return room.name && room.name !== 'direct' ? room.name : 'Direct message';
  return room.name || 'Untitled';
}

export function activity(room) {
  return room.lastMessage ? room.lastMessage.sentAt : room.createdAt;
}

export function avatarFor(userId, size = '') {
  const u = ui.client && ui.client.users.get(userId);
  const name = nameOf(userId);
  const a = el('span', { class: `avatar ${size} av-${hashHue(userId)}`, title: name, 'aria-hidden': 'true' }, initials(name));
  const src = safeImageUrl(u && u.avatarUrl);
  if (src) {
    const img = new Image();
    img.alt = '';
    img.referrerPolicy = 'no-referrer';
    img.decoding = 'async';
    img.addEventListener('error', () => { img.remove(); a.textContent = initials(name); });
    img.src = src;
    a.textContent = '';
    a.append(img);
  }
  return a;
}

export function roomAvatar(room, size = '') {
  const peer = peerOf(room);
  if (peer) {
    const a = avatarFor(peer, size);
    const presence = presenceOf(peer);
    a.append(el('span', { class: 'presence-dot', testid: 'room-presence', dataset: { status: presence }, title: PRESENCE_LABEL[presence] }));
    return a;
  }
  if (room.kind === 'channel') {
    return el('span', { class: `avatar square ${size} av-${hashHue(room.roomId)}`, 'aria-hidden': 'true' }, icon('hash'));
  }
  return el('span', { class: `avatar square ${size} av-${hashHue(room.roomId)}`, 'aria-hidden': 'true' }, initials(roomTitle(room)));
}

export function typingText(ids) {
  if (ids.length === 1) return `${nameOf(ids[0])} is typing…`;
  if (ids.length === 2) return `${nameOf(ids[0])} and ${nameOf(ids[1])} are typing…`;
  return 'Several people are typing…';
}

export const USER_ID_RE = /^[A-Za-z0-9._@-]{1,128}$/;
export const BAD_USER_ID = 'User ids are letters, digits and . _ @ - only (e.g. bob).';
