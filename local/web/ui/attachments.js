// Attachments: the attach button, drag and drop onto the conversation,
// pasting files (a screenshot from the clipboard), a progress bar per file
// while it uploads, and how a message's files show.
// A file never goes through the chat API: the SDK asks for an upload slot,
// PUTs the file straight to the object store with the slot's signed
// headers, and the message names the slot's id (docs/PROTOCOL.md,
// "Attachments"). Members get a download URL per file with each message:
// images show inline, other files as download links. In an end-to-end
// encrypted room files are encrypted before upload and opened after
// download (ui/e2ee-files.js).
import { $, el, icon, toast } from './dom.js';
import { currentRoom, ui } from './state.js';
import { renderMessages } from './conversation.js';
import { takeReply } from './replies.js';
import { isEncrypted, sendSealed } from './e2ee-app.js';
import { sealedFileNode, uploadSealed } from './e2ee-files.js';

/** An image's pixel size, where the browser can tell cheaply. */
async function imageSize(file) {
  if (!file.type.startsWith('image/') || typeof createImageBitmap !== 'function') return undefined;
  try {
    const bitmap = await createImageBitmap(file);
    const size = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
    return size;
  } catch {
    return undefined;
  }
}

/** A download URL from the server: http(s) only (a presigned URL with a
 * role session token runs to a few KB). */
function httpUrl(raw) {
  if (typeof raw !== 'string' || raw.length > 16384) return null;
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** How long a finished upload's bar stays on screen. */
const DONE_SHOWN_MS = 4000;

/** A file's row in the upload tray: its name and a progress bar. */
function progressRow(file) {
  const bar = el('progress', { max: 100, value: 0, 'aria-label': `Uploading ${file.name}` });
  const row = el('div', { class: 'upload-item', testid: 'upload-progress', dataset: { state: 'uploading', file: file.name } },
    el('span', { class: 'upload-name', text: file.name }), bar,
    el('span', { class: 'upload-pct', testid: 'upload-percent', text: '0%' }));
  $('upload-tray').append(row);
  $('upload-tray').hidden = false;
  return {
    progress(loaded, total) {
      const pct = total > 0 ? Math.min(100, Math.round((loaded / total) * 100)) : 0;
      bar.value = pct;
      bar.setAttribute('value', String(pct));
      row.lastChild.textContent = `${pct}%`;
    },
    finish(state) {
      row.dataset.state = state;
      if (state === 'done') this.progress(1, 1);
      bar.setAttribute('aria-label', `${file.name}: ${state === 'done' ? 'uploaded' : 'upload failed'}`);
      setTimeout(() => {
        row.remove();
        if (!$('upload-tray').childElementCount) $('upload-tray').hidden = true;
      }, DONE_SHOWN_MS);
    },
  };
}

/**
 * Uploads `file` to a new slot of `roomId` as the SDK's `rest.upload`
 * does (slot, then the slot's method, URL and signed headers), with
 * XMLHttpRequest so the bytes sent can be shown; answers the attachment id.
 */
async function uploadWithProgress(roomId, file, onProgress) {
  const size = await imageSize(file);
  const slot = await ui.client.rest.uploadSlot(roomId, {
    contentType: file.type, size: file.size, fileName: file.name || 'file', ...(size ?? {}),
  });
  await putWithProgress(slot, file, onProgress, file.size);
  return slot.attachmentId;
}

/** PUTs `body` (a File or Blob of `total` bytes) to `slot` with its signed headers. */
function putWithProgress(slot, body, onProgress, total) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(slot.method, slot.uploadUrl);
    for (const [k, v] of Object.entries(slot.headers || {})) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (ev) => onProgress(ev.loaded, ev.lengthComputable ? ev.total : total));
    xhr.addEventListener('load', () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error('the file store refused the upload'))));
    xhr.addEventListener('error', () => reject(new Error('cannot reach the file store')));
    xhr.addEventListener('abort', () => reject(new Error('upload cancelled')));
    xhr.send(body);
  });
}

/** In an encrypted room: the file encrypted here first (ui/e2ee-files.js). */
async function uploadEncrypted(roomId, file, onProgress) {
  return uploadSealed(roomId, file, onProgress, putWithProgress, await imageSize(file));
}

/** Uploads `files` (each with its progress bar) and sends them as one message. */
export async function attach(files) {
  const room = currentRoom();
  if (!room || !files.length) return;
  const button = $('composer-attach');
  button.disabled = true;
  button.dataset.state = 'uploading';
  const ids = [];
  const sealed = [];
  const encrypted = isEncrypted(room);
  try {
    await Promise.all(files.map(async (file) => {
      const row = progressRow(file);
      try {
        if (encrypted) {
          const entry = await uploadEncrypted(room.roomId, file, (l, t) => row.progress(l, t));
          ids.push(entry.attachmentId);
          sealed.push(entry);
        } else {
          ids.push(await uploadWithProgress(room.roomId, file, (l, t) => row.progress(l, t)));
        }
        row.finish('done');
      } catch (e) {
        row.finish('failed');
        toast(`Could not upload ${file.name}: ${e.message}`);
      }
    }));
  } finally {
    button.disabled = false;
    delete button.dataset.state;
  }
  if (!ids.length) return;
  if (encrypted) {
    // The keys go inside the sealed message; the ids in the clear.
    await sendSealed(room, '', { files: sealed, attachments: ids, ...takeReply(room.roomId) });
    renderMessages({ toBottom: true });
    return;
  }
  // Pending until acked, like any send; a refusal shows as "Not sent".
  ui.client.send(room.roomId, '', { attachments: ids, ...takeReply(room.roomId) }).catch(() => { /* shown as failed */ });
  renderMessages({ toBottom: true });
}

/** A pasted file's name: clipboard images come as "image.png", or nameless. */
function named(file, i) {
  if (file.name && file.name !== 'image.png') return file;
  const ext = (file.type.split('/')[1] || 'bin').replace(/[^a-z0-9]/gi, '').slice(0, 8) || 'bin';
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return new File([file], `pasted-${stamp}${i ? `-${i}` : ''}.${ext}`, { type: file.type });
}

function hasFiles(ev) {
  return !!ev.dataTransfer && Array.from(ev.dataTransfer.types || []).includes('Files');
}

/** Drop files anywhere on the open conversation. */
function wireDrop() {
  const view = $('room-view');
  const zone = el('div', { class: 'drop-zone', testid: 'drop-zone', hidden: true, 'aria-hidden': 'true' },
    el('div', { class: 'drop-zone-inner' }, icon('plus'), el('span', { text: 'Drop files to send them' })));
  view.append(zone);
  let depth = 0;
  const hide = () => { depth = 0; zone.hidden = true; };
  view.addEventListener('dragenter', (ev) => {
    if (!hasFiles(ev) || !currentRoom()) return;
    ev.preventDefault();
    depth += 1;
    zone.hidden = false;
  });
  view.addEventListener('dragover', (ev) => {
    if (!hasFiles(ev) || !currentRoom()) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'copy';
  });
  view.addEventListener('dragleave', (ev) => {
    if (!hasFiles(ev)) return;
    depth = Math.max(0, depth - 1);
    if (!depth) zone.hidden = true;
  });
  view.addEventListener('drop', (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    hide();
    attach(Array.from(ev.dataTransfer.files || []));
  });
  window.addEventListener('dragend', hide);
}

/** Paste files (a copied screenshot) into the message box. */
function wirePaste() {
  $('composer-input').addEventListener('paste', (ev) => {
    const files = Array.from((ev.clipboardData && ev.clipboardData.files) || []);
    if (!files.length) return; // text pastes as text
    ev.preventDefault();
    attach(files.map(named));
  });
}

/** The nodes of a message's attachments (none: null). */
export function attachmentNodes(list) {
  if (!list || !list.length) return null;
  return el('div', { class: 'msg-attachments' }, list.map((a) => {
    if (a.sealedFile !== undefined) return sealedFileNode(a, sizeText);
    const label = `${a.fileName} (${sizeText(a.size)})`;
    const url = httpUrl(a.url);
    if (!url) return el('span', { class: 'msg-file', testid: 'message-file', text: label });
    if (a.contentType.startsWith('image/')) {
      return el('img', {
        class: 'msg-image', testid: 'message-image', src: url, alt: a.fileName, title: label,
        loading: 'lazy', width: a.width, height: a.height,
      });
    }
    return el('a', { class: 'msg-file', testid: 'message-file', href: url, target: '_blank', rel: 'noopener', text: label });
  }));
}

export function wireAttachments() {
  const composer = $('composer');
  composer.parentNode.insertBefore(el('div', { id: 'upload-tray', class: 'upload-tray', testid: 'upload-tray', hidden: true, role: 'status', 'aria-label': 'Uploads' }), composer);
  wireDrop();
  wirePaste();
  const input = $('composer-file');
  const button = $('composer-attach');
  button.append(icon('plus'));
  button.addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    const files = Array.from(input.files || []);
    input.value = '';
    attach(files);
  });
}
