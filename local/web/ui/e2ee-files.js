// Files in end-to-end encrypted direct rooms (docs/PROTOCOL.md, "End-to-end
// encrypted direct rooms", Files). Sending: each file is encrypted here with
// its own fresh key (ui/e2ee.js sealFile), only the ciphertext is uploaded,
// to an `application/octet-stream` slot named "sealed", and the key, real
// name, type and size go inside the sealed message (ui/e2ee-app.js
// sendSealed). Receiving: the ciphertext is downloaded from its presigned
// URL, decrypted with the key from the opened message, and shown from a
// Blob URL in page memory: raster images inline, anything else (SVG
// included: it can carry script) as a download under its real name, typed
// application/octet-stream so the browser never renders it in this origin.
//
// Hooks: uploadSealed (attachments.js attach, in an encrypted room),
// sealedFileNode (attachments.js attachmentNodes, for a decorated
// attachment: e2ee-app.js e2eeView adds `sealedFile`, `roomId`, `senderId`
// and `fileState`).
import * as E from './e2ee.js';
import { el } from './dom.js';
import { me, ui } from './state.js';
import { renderMessages } from './conversation.js';

/** Shown inline: raster images a browser decodes without running anything. */
const INLINE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif']);

/** attachmentId -> {state: 'opening'|'ready'|'failed', url?, error?}. */
const files = new Map();

export const CANT_DECRYPT_FILE = "Can't decrypt this file";

/** The state of a file's decryption, for the row's redraw signature. */
export function fileState(attachmentId) {
  const f = files.get(attachmentId);
  return f ? f.state : '';
}

function blobUrl(bytes, f) {
  const type = INLINE.has(f.contentType) ? f.contentType : E.SEALED_TYPE;
  return URL.createObjectURL(new Blob([bytes], { type }));
}

/**
 * Encrypts `file` for `roomId`, uploads the ciphertext to a new encrypted
 * slot with `put(slot, body, onProgress, total)` (attachments.js, with its
 * progress bar) and answers the sealed content's entry for it. The
 * sender's own copy shows from the file itself: no download.
 */
export async function uploadSealed(roomId, file, onProgress, put, dimensions) {
  const sealed = await E.sealFile(roomId, me(), await file.arrayBuffer());
  const size = sealed.ciphertext.length;
  const slot = await ui.client.rest.uploadSlot(roomId, { contentType: E.SEALED_TYPE, size, fileName: E.SEALED_NAME });
  await put(slot, new Blob([sealed.ciphertext], { type: E.SEALED_TYPE }), onProgress, size);
  const entry = {
    attachmentId: slot.attachmentId,
    key: sealed.key,
    nonce: sealed.nonce,
    name: file.name || 'file',
    contentType: (file.type || E.SEALED_TYPE).toLowerCase(),
    size: file.size,
    ...(dimensions ?? {}),
  };
  files.set(slot.attachmentId, { state: 'ready', url: blobUrl(file, entry) });
  return entry;
}

function openLater(a) {
  const f = a.sealedFile;
  files.set(a.attachmentId, { state: 'opening' });
  (async () => {
    try {
      if (typeof a.url !== 'string' || !/^https?:/i.test(a.url)) throw new Error('no download URL yet');
      const res = await fetch(a.url);
      if (!res.ok) throw new Error(`the download failed (${res.status})`);
      const ciphertext = await res.arrayBuffer();
      let plain;
      try {
        plain = await E.openFile(a.roomId, a.senderId, ciphertext, f);
      } catch (e) {
        throw new Error(e && /size|malformed/.test(e.message) ? e.message : 'it does not open with its key (changed or forged)');
      }
      files.set(a.attachmentId, { state: 'ready', url: blobUrl(plain, f) });
    } catch (e) {
      files.set(a.attachmentId, { state: 'failed', error: e.message });
    }
    if (ui.currentId === a.roomId) renderMessages();
  })();
}

/**
 * The node of one attachment of an encrypted room: "Decrypting…" while
 * it downloads and opens, then the image or the download link, or a
 * clear error when it does not open. `sizeText` formats a byte count.
 */
export function sealedFileNode(a, sizeText) {
  const f = a.sealedFile;
  if (!f) {
    // The message is not open (yet, or not for this device).
    return el('span', { class: 'msg-file', testid: 'message-file-sealed', text: `Encrypted file (${sizeText(a.size)})` });
  }
  const label = `${f.name} (${sizeText(f.size)})`;
  const got = files.get(a.attachmentId);
  if (!got) openLater(a);
  if (!got || got.state === 'opening') {
    return el('span', { class: 'msg-file', testid: 'message-file-opening', text: `Decrypting ${label}…` });
  }
  if (got.state === 'failed') {
    return el('span', { class: 'msg-file msg-file-error', testid: 'message-file-error', role: 'alert', text: `${CANT_DECRYPT_FILE}: ${f.name}: ${got.error}` });
  }
  if (INLINE.has(f.contentType)) {
    return el('img', {
      class: 'msg-image', testid: 'message-image', src: got.url, alt: f.name, title: label,
      width: f.width, height: f.height, dataset: { sealed: 'true' },
    });
  }
  return el('a', { class: 'msg-file', testid: 'message-file', href: got.url, download: f.name, rel: 'noopener', text: label, dataset: { sealed: 'true' } });
}
