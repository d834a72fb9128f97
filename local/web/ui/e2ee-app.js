// End-to-end encrypted direct rooms in the app (docs/PROTOCOL.md, "End-to-end
// encrypted direct rooms"; the crypto is ui/e2ee.js). This browser's device
// key is made or loaded at sign-in and published; the composer seals in an
// encrypted room; history, sync and live messages are opened here, as they
// are drawn, and the plaintext stays in this page's memory only (search of an
// encrypted room looks there: the server indexes nothing of it).
//
// Keys are pinned: the first fingerprint seen per person is stored
// (localStorage, per signed-in user); a different one later, from a listing
// or a `keysChanged` frame, puts "Bob's keys changed" in your rooms with
// them. The safety-number dialog (ui/e2ee-verify.js) marks a person
// verified; a later change of a verified person's keys is flagged in the
// header until verified again.
//
// Edits are sealed too (editSealed, changes.js), under the edit's own
// associated data, and opened with it when a message has `editedAt`.
// Replies are sealed messages with `replyTo`; the server's quote of a sealed
// target has no text, so replies.js quotes the copy opened here
// (sealedQuoteText, fetching a target that is not held).
//
// Hooks into the other modules: startE2ee (app.js, at sign-in), e2eeView
// (conversation.js, every message drawn; it hands each attachment its
// opened `files` entry for ui/e2ee-files.js), sendSealed (composer.js, and
// attachments.js with the encrypted files),
// sealedHits (search.js), the new-chat checkbox (dialogs.js) and
// renderE2eeHeader (conversation.js).
import * as E from './e2ee.js';
import { toast } from './dom.js';
import { me, nameOf, peerOf, ui } from './state.js';
import { renderMessages } from './conversation.js';
import { renderSidebar } from './sidebar.js';
import { fileState } from './e2ee-files.js';

export const CANT_DECRYPT = "Can't decrypt this message";

const s = {
  /** {deviceId, pair, publicKey}: this browser's key for the signed-in user. */
  device: null,
  /** Resolves once the device key is loaded (or failed: null). */
  ready: null,
  /** userId -> {fingerprint, devices}: the last listing read. */
  keys: new Map(),
  /** `${roomId}\n${senderId}\n${clientMsgId}` -> {body} | {failed: true}. */
  plain: new Map(),
  opening: new Set(),
  listeners: new Set(),
};

/** Whether a room is an end-to-end encrypted direct room. */
export function isEncrypted(room) {
  return !!room && (room.encrypted === true || String(room.roomId).startsWith('dme_'));
}

/** This browser's device ({deviceId, publicKey}), once loaded. */
export function myDevice() {
  return s.device;
}

/** Called whenever a pin or a listing changes (the header redraws). */
export function onKeysUpdate(fn) {
  s.listeners.add(fn);
}

function changed() {
  for (const fn of s.listeners) fn();
}

// ------------------------------------------------------------ the pins

const pinsKey = () => `chat.e2ee.pins.v1.${me()}`;

function pins() {
  try {
    const raw = JSON.parse(localStorage.getItem(pinsKey()) || '{}');
    return raw && typeof raw === 'object' ? raw : {};
  } catch {
    return {};
  }
}

function savePins(all) {
  try { localStorage.setItem(pinsKey(), JSON.stringify(all)); } catch { /* storage denied: pins last the session */ }
}

/** What you pinned for `userId`: {fingerprint, verified, changedAfterVerify} or null. */
export function pinOf(userId) {
  return pins()[userId] || null;
}

/** Marks `userId` verified at `fingerprint` (the safety-number dialog). */
export function markVerified(userId, fingerprint) {
  const all = pins();
  all[userId] = { fingerprint, verified: true, changedAfterVerify: false };
  savePins(all);
  changed();
}

/**
 * Compares a fingerprint seen for `userId` with the pin: the first one is
 * pinned; a different one replaces it and says so in your encrypted rooms
 * with them. An empty fingerprint (no devices) pins nothing.
 */
function seeFingerprint(userId, fingerprint) {
  if (!fingerprint || userId === me()) return;
  const all = pins();
  const pin = all[userId];
  if (pin && pin.fingerprint === fingerprint) return;
  all[userId] = pin
    ? { fingerprint, verified: false, changedAfterVerify: !!(pin.verified || pin.changedAfterVerify) }
    : { fingerprint, verified: false, changedAfterVerify: false };
  savePins(all);
  if (pin) noteKeysChanged(userId);
  changed();
}

function noteKeysChanged(userId) {
  const at = Date.now();
  for (const room of ui.client.rooms.values()) {
    if (!isEncrypted(room) || peerOf(room) !== userId) continue;
    const list = ui.notices.get(room.roomId) || [];
    list.push({ key: `k:${at}:${userId}`, at, text: `${nameOf(userId)}'s keys changed` });
    ui.notices.set(room.roomId, list);
    if (ui.currentId === room.roomId) renderMessages();
  }
}

/** A user's keys (cached unless `fresh`), checked against the pin. */
export async function keysOf(userId, fresh = false) {
  if (!fresh && s.keys.has(userId)) return s.keys.get(userId);
  const list = await ui.client.rest.keys(userId);
  s.keys.set(userId, list);
  seeFingerprint(userId, list.fingerprint);
  return list;
}

// ------------------------------------------------------------ sign-in

/**
 * Loads or makes this browser's device key for the signed-in user and
 * publishes it; listens for key changes. A browser without WebCrypto or
 * IndexedDB can use the app, not its encrypted rooms.
 */
export function startE2ee(client, userId) {
  client.on('keysChanged', ({ userId: who, fingerprint }) => {
    s.keys.delete(who);
    seeFingerprint(who, fingerprint);
  });
  s.ready = (async () => {
    try {
      const d = await E.deviceKey(userId);
      await client.rest.publishKey(d.deviceId, userId, d.publicKey);
      s.device = d;
    } catch (e) {
      toast(`End-to-end encryption is unavailable in this browser: ${e.message}`);
      s.device = null;
    }
    // Messages drawn before the key was there are opened now.
    if (ui.currentId) renderMessages();
    return s.device;
  })();
  return s.ready;
}

// ------------------------------------------------------------ opening

const plainKey = (roomId, senderId, clientMsgId) => `${roomId}\n${senderId}\n${clientMsgId}`;
/**
 * Where the opened text of `m` is kept: an edited message carries its
 * latest edit's seal (opened with the edit's associated data), one per
 * edit (each seal has its own nonce); else the sent one.
 */
const viewKey = (roomId, m) => (m.editedAt && m.sealed
  ? `edit\n${roomId}\n${m.senderId}\n${m.seq}\n${m.sealed.nonce}`
  : plainKey(roomId, m.senderId, m.clientMsgId));

/**
 * The message as it is drawn: in an encrypted room, with its opened text as
 * `body` (and `e2ee`: 'open', 'opening' or 'failed'); opening starts here
 * and redraws when done. Others' messages are returned as they are.
 */
export function e2eeView(room, m) {
  if (!isEncrypted(room) || m.deletedAt) return m;
  const got = s.plain.get(viewKey(room.roomId, m));
  if (got) return got.failed ? { ...m, body: CANT_DECRYPT, e2ee: 'failed', attachments: withFiles(room, m, null) } : { ...m, body: got.body, e2ee: 'open', attachments: withFiles(room, m, got.files) };
  if (m.sealed && s.ready) {
    openLater(room.roomId, m);
    return { ...m, body: 'Decrypting…', e2ee: 'opening', attachments: withFiles(room, m, null) };
  }
  return { ...m, body: CANT_DECRYPT, e2ee: 'failed', attachments: withFiles(room, m, null) };
}

/**
 * A message's attachments decorated for ui/e2ee-files.js: each with its
 * entry of the opened content's `files` (matched by attachmentId; null
 * while the message is not open, or when the content names no such file),
 * the room and sender its key is bound to, and its decryption state.
 */
function withFiles(room, m, opened) {
  if (!m.attachments || !m.attachments.length) return m.attachments;
  const list = Array.isArray(opened) ? opened : [];
  return m.attachments.map((a) => ({
    ...a,
    sealedFile: list.find((f) => f && f.attachmentId === a.attachmentId) || null,
    roomId: room.roomId,
    senderId: m.senderId,
    fileState: fileState(a.attachmentId),
  }));
}

/**
 * The room list's last message: opened from the copy the timeline holds
 * (the room summary's carries no sealed content); "Encrypted message" until then.
 */
export function e2eePreview(room, m) {
  if (!isEncrypted(room) || m.deletedAt) return m;
  const held = m.sealed ? m : ui.client.messages(room.roomId).find((x) => x.seq === m.seq);
  const view = e2eeView(room, held || m);
  return view.e2ee === 'open' ? view : { ...m, body: view.e2ee === 'opening' || !held ? 'Encrypted message' : view.body };
}

function openLater(roomId, m) {
  const k = viewKey(roomId, m);
  if (s.opening.has(k)) return;
  s.opening.add(k);
  (async () => {
    const d = await s.ready;
    try {
      if (!d) throw new Error('no device key');
      const c = m.editedAt
        ? await E.openEdit(m.sealed, roomId, m.senderId, m.seq, me(), d.deviceId, d.pair, d.publicKey)
        : await E.open(m.sealed, roomId, m.senderId, m.clientMsgId, me(), d.deviceId, d.pair, d.publicKey);
      if (typeof c.body !== 'string') throw new Error('no body');
      s.plain.set(k, { body: c.body, files: Array.isArray(c.files) ? c.files : [] });
    } catch {
      s.plain.set(k, { failed: true });
    }
    s.opening.delete(k);
    if (ui.currentId === roomId) renderMessages();
    renderSidebar();
  })();
}

// ------------------------------------------------------------ sending

async function recipients(room, fresh) {
  const peer = peerOf(room);
  if (!peer) throw new Error('the other member is not known yet');
  const out = [];
  for (const userId of [me(), peer]) {
    const list = await keysOf(userId, fresh);
    if (userId === peer && !list.devices.length) {
      throw new Error(`${nameOf(peer)} has no device key yet: they can read this conversation once they sign in`);
    }
    for (const d of list.devices) out.push({ userId, deviceId: d.deviceId, publicKey: d.publicKey });
  }
  return out;
}

/**
 * Seals `body` to every device of both members and sends it. A `conflict`
 * (a device came or went since the keys were read) reads the keys again and
 * seals once more under the same clientMsgId. False when it could not be
 * sealed at all (said in a toast).
 */
export async function sendSealed(room, body, { files = [], attachments = [], ...extra } = {}) {
  const d = await s.ready;
  if (!d) { toast('This browser has no encryption key: messages here cannot be sent.'); return false; }
  const clientMsgId = globalThis.crypto.randomUUID();
  const attempt = async (fresh) => {
    const sealed = await E.seal(room.roomId, me(), clientMsgId, { body, files }, await recipients(room, fresh));
    return ui.client.send(room.roomId, '', { ...extra, clientMsgId, sealed, ...(attachments.length ? { attachments } : {}) });
  };
  s.plain.set(plainKey(room.roomId, me(), clientMsgId), { body, files });
  try {
    await attempt(false);
  } catch (e) {
    if (e && e.code === 'conflict') {
      ui.client.discardSend(clientMsgId);
      attempt(true).catch((again) => { if (!again.code) toast(again.message); });
    } else if (e && !e.code) {
      // Not sealed (no keys to seal to): nothing was sent.
      s.plain.delete(plainKey(room.roomId, me(), clientMsgId));
      toast(e.message);
      return false;
    }
    // Refused otherwise: shown on the message ("Not sent · Retry").
  }
  return true;
}

// ------------------------------------------------------------ edits

/**
 * Seals `body` as the new content of your message `seq` (the edit's own
 * associated data) to every device of both members, read afresh (an edit
 * has no clientMsgId to reseal under after a `conflict`), and sends it.
 * The opened text is kept under the new seal's nonce, so the edit shows as
 * soon as `messageEdited` brings it back. False when it could not be sent.
 */
export async function editSealed(room, seq, body) {
  const d = await s.ready;
  if (!d) { toast('This browser has no encryption key: messages here cannot be edited.'); return false; }
  // The message's files stay: their keys travel in the new content too
  // (the edit's content replaces the message's whole).
  const held = ui.client.messages(room.roomId).find((x) => x.seq === seq);
  const opened = held ? s.plain.get(viewKey(room.roomId, held)) : null;
  if (held && held.attachments && held.attachments.length && !(opened && opened.files)) {
    toast('This message is not decrypted yet: it cannot be edited.');
    return false;
  }
  const files = (opened && opened.files) || [];
  let sealed;
  try {
    sealed = await E.sealEdit(room.roomId, me(), seq, { body, files }, await recipients(room, true));
  } catch (e) {
    toast(e.message);
    return false;
  }
  s.plain.set(`edit\n${room.roomId}\n${me()}\n${seq}\n${sealed.nonce}`, { body, files });
  if (!ui.client.editMessage(room.roomId, seq, '', { sealed })) {
    toast('You are offline: the edit was not saved.');
    return false;
  }
  return true;
}

// ------------------------------------------------------------ replies

/** Targets of quotes fetched because they were not held: `${roomId}\n${seq}` -> message | null. */
const fetched = new Map();

/**
 * The text of message `seq` of encrypted room `roomId` as this page opened
 * it, for a reply's quote (the server's quote of a sealed target has no
 * text): {body} once opened, or null while it is being opened or fetched
 * (the row is drawn again then). A target not held is fetched once with the
 * history page around it.
 */
export function sealedQuoteText(roomId, seq) {
  const room = ui.client.rooms.get(roomId);
  if (!room) return null;
  const k = `${roomId}\n${seq}`;
  const target = ui.client.messages(roomId).find((x) => x.seq === seq) || fetched.get(k);
  if (!target) {
    if (!fetched.has(k)) {
      fetched.set(k, null);
      ui.client.rest.history(roomId, { around: seq, limit: 10 })
        .then((page) => {
          const m = page.messages.find((x) => x.seq === seq);
          if (m) fetched.set(k, m);
          if (ui.currentId === roomId) renderMessages();
        })
        .catch(() => { fetched.delete(k); });
    }
    return null;
  }
  const v = e2eeView(room, target);
  return v.e2ee === 'open' ? { body: v.body } : null;
}

// ------------------------------------------------------------ search

/**
 * Messages of encrypted rooms held (and opened) by this page whose text
 * `matches`, newest first, shaped as the server's search hits.
 */
export function sealedHits(matches) {
  const hits = [];
  if (!ui.client) return hits;
  for (const room of ui.client.rooms.values()) {
    if (!isEncrypted(room)) continue;
    for (const m of ui.client.messages(room.roomId)) {
      if (m.deletedAt) continue;
      const got = s.plain.get(viewKey(room.roomId, m));
      if (got && !got.failed && matches(got.body)) {
        hits.push({ roomId: room.roomId, seq: m.seq, messageId: m.messageId, senderId: m.senderId, sentAt: m.sentAt, snippet: got.body });
      }
    }
  }
  return hits.sort((a, b) => b.sentAt - a.sentAt);
}
