// End-to-end encrypted direct rooms with WebCrypto: the same format as the
// Rust client (client/src/e2ee.rs) and the Python vector
// (client/tests/vectors/e2ee-v1.json); docs/PROTOCOL.md, "End-to-end
// encrypted direct rooms". Pure functions over `globalThis.crypto`, so the
// vector test runs them in Node too; the device key lives in IndexedDB,
// its private half non-extractable.

const subtle = () => globalThis.crypto.subtle;
const enc = new TextEncoder();
const dec = new TextDecoder();
const WRAP_INFO = enc.encode('chat-e2ee/v1 wrap');

export function b64(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function unb64(s) {
  const t = s.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(t + '='.repeat((4 - (t.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  return out;
}

/** The associated data binding a ciphertext to its room, sender and id. */
export function aad(roomId, senderId, clientMsgId) {
  return enc.encode(`chat-e2ee/v1\n${roomId}\n${senderId}\n${clientMsgId}`);
}

/**
 * The associated data of an edit of message `seq` (`editMessage` with
 * `sealed`): another label than a send's, so an edit opens only as the edit
 * of that message by that sender.
 */
export function editAad(roomId, senderId, seq) {
  return enc.encode(`chat-e2ee/v1 edit\n${roomId}\n${senderId}\n${seq}`);
}

const ECDH = { name: 'ECDH', namedCurve: 'P-256' };

/** A fresh device key pair: the private key cannot be exported. */
export async function generateDeviceKey() {
  return subtle().generateKey(ECDH, false, ['deriveBits']);
}

/** The public key as published: the 65-byte point, base64url. */
export async function publicKeyOf(pair) {
  return b64(await subtle().exportKey('raw', pair.publicKey));
}

/** A private key from its scalar and public point (test vectors). */
export async function importPrivate(scalar, publicRaw) {
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    d: b64(scalar),
    x: b64(publicRaw.slice(1, 33)),
    y: b64(publicRaw.slice(33, 65)),
    ext: false,
  };
  const privateKey = await subtle().importKey('jwk', jwk, ECDH, false, ['deriveBits']);
  const publicKey = await subtle().importKey('raw', publicRaw, ECDH, true, []);
  return { privateKey, publicKey };
}

async function wrapKey(privateKey, peerRaw, ephRaw, deviceRaw) {
  const peer = await subtle().importKey('raw', peerRaw, ECDH, true, []);
  const z = await subtle().deriveBits({ name: 'ECDH', public: peer }, privateKey, 256);
  const ikm = await subtle().importKey('raw', z, 'HKDF', false, ['deriveBits']);
  const w = await subtle().deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: concat(ephRaw, deviceRaw), info: WRAP_INFO },
    ikm,
    256,
  );
  return subtle().importKey('raw', w, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

async function gcm(op, rawKey, iv, data, additionalData) {
  const key = rawKey instanceof CryptoKey ? rawKey : await subtle().importKey('raw', rawKey, 'AES-GCM', false, [op]);
  return new Uint8Array(await subtle()[op]({ name: 'AES-GCM', iv, additionalData }, key, data));
}

function random(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

/** The associated data binding a file's ciphertext to its room and sender. */
export function fileAad(roomId, senderId) {
  return enc.encode(`chat-e2ee/v1 file\n${roomId}\n${senderId}`);
}

/** The content type every encrypted upload declares, and its neutral name. */
export const SEALED_TYPE = 'application/octet-stream';
export const SEALED_NAME = 'sealed';

/**
 * Encrypts a file's bytes (an ArrayBuffer or Uint8Array) from `senderId`
 * in `roomId` under a fresh key and nonce: {ciphertext (bytes and tag),
 * key, nonce} (key and nonce base64url, for the sealed content's `files`).
 */
export async function sealFile(roomId, senderId, bytes, fixed) {
  const key = fixed?.key ?? random(32);
  const nonce = fixed?.nonce ?? random(12);
  const ciphertext = await gcm('encrypt', key, nonce, new Uint8Array(bytes), fileAad(roomId, senderId));
  return { ciphertext, key: b64(key), nonce: b64(nonce) };
}

/**
 * Decrypts a downloaded file of the sealed content's `files` entry `f`
 * ({key, nonce, size}); throws when it does not open (changed, moved to
 * another room or sender, another key) or is not of the size `f` says.
 */
export async function openFile(roomId, senderId, ciphertext, f) {
  const key = unb64(f.key);
  const nonce = unb64(f.nonce);
  if (key.length !== 32 || nonce.length !== 12) throw new Error('malformed file key');
  const plain = await gcm('decrypt', key, nonce, new Uint8Array(ciphertext), fileAad(roomId, senderId));
  if (plain.length !== f.size) throw new Error('the file is not of the size its message says');
  return plain;
}

/**
 * Seals `content` ({body}) from `senderId` in `roomId` to every recipient
 * ({userId, deviceId, publicKey}). `fixed` gives the random values (tests):
 * {messageKey, nonce, ephemerals: [{pair, publicRaw, nonce}]}.
 */
export async function seal(roomId, senderId, clientMsgId, content, recipients, fixed) {
  return sealAad(aad(roomId, senderId, clientMsgId), content, recipients, fixed);
}

/** Seals the new content of message `seq` sent by `senderId` (an edit). */
export async function sealEdit(roomId, senderId, seq, content, recipients) {
  return sealAad(editAad(roomId, senderId, seq), content, recipients);
}

async function sealAad(a, content, recipients, fixed) {
  const messageKey = fixed?.messageKey ?? random(32);
  const nonce = fixed?.nonce ?? random(12);
  // A text message seals as {"body":…}; files only when there are some.
  const inner = content.files && content.files.length ? { body: content.body, files: content.files } : { body: content.body };
  const ciphertext = await gcm('encrypt', messageKey, nonce, enc.encode(JSON.stringify(inner)), a);
  const envelopes = [];
  for (const [i, r] of recipients.entries()) {
    const eph = fixed?.ephemerals[i] ?? { pair: await subtle().generateKey(ECDH, true, ['deriveBits']), nonce: random(12) };
    const ephRaw = eph.publicRaw ?? new Uint8Array(await subtle().exportKey('raw', eph.pair.publicKey));
    const deviceRaw = unb64(r.publicKey);
    const w = await wrapKey(eph.pair.privateKey, deviceRaw, ephRaw, deviceRaw);
    const wrapped = await gcm('encrypt', w, eph.nonce, messageKey, concat(a, enc.encode(`\n${r.userId}\n${r.deviceId}`)));
    envelopes.push({
      userId: r.userId,
      deviceId: r.deviceId,
      ephemeralKey: b64(ephRaw),
      nonce: b64(eph.nonce),
      wrappedKey: b64(wrapped),
    });
  }
  return { v: 1, nonce: b64(nonce), ciphertext: b64(ciphertext), envelopes };
}

/**
 * Opens a sealed message as device `deviceId` of `userId` (its key pair and
 * published public key); throws when it is not for this device or does
 * not open (moved to another room, sender or id, or forged).
 */
export async function open(sealed, roomId, senderId, clientMsgId, userId, deviceId, pair, publicKey) {
  return openAad(sealed, aad(roomId, senderId, clientMsgId), userId, deviceId, pair, publicKey);
}

/** Opens the edit of message `seq` sent by `senderId`; throws like `open`. */
export async function openEdit(sealed, roomId, senderId, seq, userId, deviceId, pair, publicKey) {
  return openAad(sealed, editAad(roomId, senderId, seq), userId, deviceId, pair, publicKey);
}

async function openAad(sealed, a, userId, deviceId, pair, publicKey) {
  const env = sealed.envelopes.find((e) => e.userId === userId && e.deviceId === deviceId);
  if (!env) throw new Error('no envelope for this device');
  const ephRaw = unb64(env.ephemeralKey);
  const w = await wrapKey(pair.privateKey, ephRaw, ephRaw, unb64(publicKey));
  const key = await gcm('decrypt', w, unb64(env.nonce), unb64(env.wrappedKey), concat(a, enc.encode(`\n${userId}\n${deviceId}`)));
  const plain = await gcm('decrypt', key, unb64(sealed.nonce), unb64(sealed.ciphertext), a);
  return JSON.parse(dec.decode(plain));
}

async function userDigits(userId, keys) {
  const sorted = [...keys].sort();
  const d = new Uint8Array(await subtle().digest('SHA-512', enc.encode(`chat-safety/v1\n${userId}\n${sorted.join('\n')}`)));
  let out = '';
  for (let i = 0; i < 30; i += 5) {
    let n = 0n;
    for (const b of d.slice(i, i + 5)) n = (n << 8n) | BigInt(b);
    out += String(n % 100000n).padStart(5, '0');
  }
  return out;
}

/** The 60-digit safety number of two users' keys: the same on both sides. */
export async function safetyNumber(userA, keysA, userB, keysB) {
  const [a, b] = [await userDigits(userA, keysA), await userDigits(userB, keysB)];
  const all = userA <= userB ? a + b : b + a;
  return all.match(/.{5}/g).join(' ');
}

const DB = 'chat-e2ee';

function idb(mode, f) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore('keys');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const tx = req.result.transaction('keys', mode);
      const r = f(tx.objectStore('keys'));
      tx.oncomplete = () => resolve(r?.result);
      tx.onerror = () => reject(tx.error);
    };
  });
}

/**
 * This browser's device key for `userId`: loaded from IndexedDB, or made
 * and stored there (the CryptoKey itself: its private half never leaves
 * WebCrypto). Answers {deviceId, pair, publicKey}.
 */
export async function deviceKey(userId) {
  const found = await idb('readonly', (s) => s.get(userId));
  if (found) return { ...found, publicKey: await publicKeyOf(found.pair) };
  const pair = await generateDeviceKey();
  const deviceId = `web-${b64(random(9))}`;
  await idb('readwrite', (s) => s.put({ deviceId, pair }, userId));
  return { deviceId, pair, publicKey: await publicKeyOf(pair) };
}
