// Attachments: the attach button, and how a message's files show.
// A file never goes through the chat API: the SDK asks for an upload slot,
// PUTs the file straight to the object store with the slot's signed
// headers, and the message names the slot's id (docs/PROTOCOL.md,
// "Attachments"). Members get a download URL per file with each message:
// images show inline, other files as download links.
import { $, el, icon, toast } from './dom.js';
import { currentRoom, ui } from './state.js';
import { renderMessages } from './conversation.js';

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

async function attach(files) {
  const room = currentRoom();
  if (!room || !files.length) return;
  const button = $('composer-attach');
  button.disabled = true;
  button.dataset.state = 'uploading';
  const ids = [];
  try {
    for (const file of files) {
      try {
        ids.push(await ui.client.rest.upload(room.roomId, file, await imageSize(file)));
      } catch (e) {
        toast(`Could not upload ${file.name}: ${e.message}`);
      }
    }
  } finally {
    button.disabled = false;
    delete button.dataset.state;
  }
  if (!ids.length) return;
  // Pending until acked, like any send; a refusal shows as "Not sent".
  ui.client.send(room.roomId, '', { attachments: ids }).catch(() => { /* shown as failed */ });
  renderMessages({ toBottom: true });
}

/** The nodes of a message's attachments (none: null). */
export function attachmentNodes(list) {
  if (!list || !list.length) return null;
  return el('div', { class: 'msg-attachments' }, list.map((a) => {
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
