// The open conversation: its header (title, presence, members), the message
// list (grouped by sender and day, with delivery ticks), the typing line,
// history paging, and marking it read while it is on screen.
import { $, dayLabel, el, fullFmt, humanError, icon, linkify, srOnly, startOfDay, timeFmt, toast } from './dom.js';
import { avatarFor, currentRoom, me, nameOf, peerOf, PRESENCE_LABEL, presenceOf, roomAvatar, roomTitle, typingText, ui } from './state.js';
import { drawSidebarNow, renderSidebar } from './sidebar.js';
import { attachmentNodes } from './attachments.js';
import { loadDraft, saveDraft, stopTyping } from './composer.js';
import { quoteSig, renderReplyBar, replyCounts, replyParts } from './replies.js';
import { cancelEdit, deletedNode, editedNode, messageActions, reactionChips } from './changes.js';
import { e2eeView } from './e2ee-app.js';
import { renderE2eeHeader } from './e2ee-verify.js';

const PAGE_SIZE = 50;
const GROUP_GAP_MS = 5 * 60_000;

/**
 * Opens a room. `how`: 'push' (a new history entry: the Back button
 * returns), 'replace', or 'none' (the URL already says so: popstate, reload).
 */
export function openRoom(id, how = 'push') {
  const client = ui.client;
  const room = client.rooms.get(id);
  if (!room) return;
  const changed = ui.currentId !== id;
  const fromList = ui.currentId === null;
  if (changed) {
    stopTyping();
    cancelEdit();
    saveDraft();
    // The unread line goes above the first message you have not read.
    ui.unreadFrom = room.unreadCount > 0 ? { roomId: id, seq: room.readSeq } : null;
  }
  ui.currentId = id;
  if (changed) loadDraft(id);
  setRoute(id, how, fromList);
  $('empty-state').hidden = true;
  $('room-view').hidden = false;
  $('app').classList.add('show-room');
  $('jump-latest').hidden = true;
  renderHeader();
  renderMessages({ toBottom: true });
  renderTyping();
  renderSidebar();
  renderHistoryStatus();
  if (!ui.historyRequested.has(id)) loadNewest(id);
  else maybeMarkRead();
  client.loadRoom(id).catch((e) => { if (e.status && e.status !== 401 && e.status !== 403 && e.status !== 404) toast(e.message); });
  if (changed) {
    // Focus follows the navigation: the message box where there is a
    // keyboard, else the conversation's title.
    if (matchMedia('(pointer: fine)').matches) $('composer-input').focus();
    else $('room-title').focus();
  }
}

/** Closes the open room; `how` as for openRoom. Focus goes back to the list. */
export function closeRoom(how = 'push') {
  const was = ui.currentId;
  stopTyping();
  cancelEdit();
  saveDraft();
  $('composer-input').value = '';
  ui.currentId = null;
  ui.unreadFrom = null;
  resetDrawn(null);
  $('room-view').hidden = true;
  $('empty-state').hidden = false;
  $('app').classList.remove('show-room');
  setRoute(null, how);
  renderSidebar();
  drawSidebarNow();
  const item = was && document.querySelector(`.room-item[data-room-id="${CSS.escape(was)}"]`);
  if (item) item.focus();
  else $('app-title').focus();
}

// ------------------------------------------------------------------ routes
// Each room has a URL: #/r/<roomId> (a fragment, so the same index.html
// answers every deep link locally and behind CloudFront, with no rewrite).

export const ROOM_HASH = /^#\/r\/([^/]+)$/;

export function roomFromUrl() {
  const m = ROOM_HASH.exec(location.hash);
  if (!m) return null;
  try { return decodeURIComponent(m[1]); } catch { return null; }
}

function setRoute(id, how, fromList = false) {
  if (how === 'none') return;
  const want = id ? `#/r/${encodeURIComponent(id)}` : '';
  if ((location.hash || '') === want) return;
  const url = location.pathname + location.search + want;
  if (how === 'replace') history.replaceState({ roomId: id }, '', url);
  else history.pushState({ roomId: id, fromList }, '', url);
}

async function loadNewest(roomId) {
  ui.historyRequested.add(roomId);
  ui.historyLoading.add(roomId);
  ui.historyErrors.delete(roomId);
  renderHistoryStatus();
  try {
    await ui.client.loadHistory(roomId, PAGE_SIZE);
  } catch (e) {
    ui.historyRequested.delete(roomId);
    ui.historyErrors.set(roomId, e.message);
  } finally {
    ui.historyLoading.delete(roomId);
  }
  if (ui.currentId === roomId) {
    renderMessages({ toBottom: true });
    renderHistoryStatus();
    maybeMarkRead();
    fillViewport(roomId);
  }
  renderSidebar();
}

async function loadOlder(roomId) {
  const room = ui.client.rooms.get(roomId);
  if (!room || !room.prevCursor || ui.historyLoading.has(roomId)) return;
  ui.historyLoading.add(roomId);
  renderHistoryStatus();
  const scroller = $('message-scroll');
  const fromBottom = scroller.scrollHeight - scroller.scrollTop;
  try {
    await ui.client.loadOlder(roomId, PAGE_SIZE);
  } catch (e) {
    toast(`Could not load older messages: ${e.message}`);
  } finally {
    ui.historyLoading.delete(roomId);
  }
  if (ui.currentId === roomId) {
    drawMessagesNow();
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
    renderHistoryStatus();
    fillViewport(roomId);
  }
}

// If the newest page does not fill the pane, page back until it does.
function fillViewport(roomId) {
  const room = ui.client.rooms.get(roomId);
  const scroller = $('message-scroll');
  if (ui.currentId === roomId && room && room.prevCursor && scroller.scrollHeight <= scroller.clientHeight + 40) {
    loadOlder(roomId);
  }
}

/** Marks the open room read while the page is visible. */
export function maybeMarkRead() {
  const room = currentRoom();
  if (!room || document.visibilityState !== 'visible') return;
  ui.client.markRead(room.roomId);
}

let headerSig = '';
export function renderHeader() {
  const room = currentRoom();
  if (!room) return;
  renderE2eeHeader(room);
  // Redrawn only when what it shows changed (it is asked on every message).
  const peer0 = peerOf(room);
  const sig = [room.roomId, roomTitle(room), peer0 ? presenceOf(peer0) : '', room.detailLoaded, room.members.size,
    Array.from(room.members.keys()).filter((id) => presenceOf(id) === 'online').length, room.ownerId, ui.conn].join('\u0001');
  if (sig === headerSig && $('room-title').textContent) return;
  headerSig = sig;
  $('room-title').textContent = roomTitle(room);
  $('room-avatar').replaceChildren(roomAvatar(room, 'avatar-md'));
  const sub = $('room-subtitle');
  const peer = peerOf(room);
  if (peer) {
    const status = presenceOf(peer);
    sub.replaceChildren(
      el('span', { class: 'presence-label', testid: 'peer-presence', dataset: { status, userId: peer }, text: status === 'unknown' ? 'Presence unknown' : PRESENCE_LABEL[status] }),
      el('span', { text: `· @${peer}` }));
  } else if (room.kind === 'direct') {
    sub.replaceChildren(el('span', { text: 'Direct message' }));
  } else {
    const n = room.members.size;
    const online = Array.from(room.members.keys()).filter((id) => presenceOf(id) === 'online').length;
    const kind = room.kind === 'channel' ? 'Public channel' : 'Group';
    sub.replaceChildren(el('span', { testid: 'room-members-summary', text: room.detailLoaded ? `${kind} · ${n} member${n === 1 ? '' : 's'} · ${online} online` : kind }));
  }
  $('add-member-button').hidden = !(room.kind !== 'direct' && room.ownerId === me());
  $('leave-button').hidden = !(room.kind !== 'direct' && room.ownerId !== me());
}

export function renderHistoryStatus() {
  const room = currentRoom();
  const box = $('history-status');
  if (!room) { box.textContent = ''; return; }
  const id = room.roomId;
  const held = ui.client.messages(id).length;
  if (ui.historyLoading.has(id)) box.textContent = 'Loading messages…';
  else if (ui.historyErrors.has(id)) box.textContent = `Could not load messages: ${ui.historyErrors.get(id)}`;
  else if (room.historyLoaded && !room.prevCursor && held > 0) box.textContent = 'This is the beginning of the conversation.';
  else if (room.historyLoaded && held === 0 && ui.client.pending(id).length === 0) box.textContent = 'No messages yet. Say hello!';
  else box.textContent = '';
}

let queued = null;
/** Redraws the message list on the next frame; `toBottom` scrolls to the newest. */
export function renderMessages(opts = {}) {
  if (queued) { queued.toBottom = queued.toBottom || !!opts.toBottom; return; }
  queued = { toBottom: !!opts.toBottom };
  requestAnimationFrame(() => { const o = queued; if (!o) return; queued = null; drawMessages(o); });
}

/** Draws now (and drops a queued draw): for callers that must measure after. */
function drawMessagesNow(opts = {}) {
  const q = queued;
  queued = null;
  drawMessages({ toBottom: !!opts.toBottom || !!(q && q.toBottom) });
}

// The list is drawn incrementally: every row (message, day line, unread
// line) has a key and a signature of what it shows; a draw walks the rows
// in order and touches only those that are new, changed or moved. A row
// depends only on itself and the row before it (avatar and name head a
// run; a day line precedes a new day), so a new message at the end is one
// insertion whatever the length of the history. Rows sit in chunks of
// CHUNK, each skipped by layout and paint while off screen
// (content-visibility): the browser's cost per message is that of the
// visible chunks, not of the history held.
const CHUNK = 50;
const drawn = { roomId: null, rows: new Map(), chunks: [], announced: new Set(), lowSeq: Infinity };

function resetDrawn(roomId) {
  drawn.roomId = roomId;
  drawn.rows.clear();
  drawn.chunks = [];
  drawn.announced.clear();
  drawn.lowSeq = Infinity;
  $('message-list').replaceChildren();
}

/** The rows to show, in order: messages by seq, then your unsent ones by when you wrote them. */
function rowsOf(room) {
  const client = ui.client;
  const mine = me();
  const items = [];
  for (const held of client.messages(room.roomId)) {
    const m = e2eeView(room, held); // an encrypted room's: opened
    const own = m.senderId === mine;
    items.push({
      key: own && m.clientMsgId ? `c:${m.clientMsgId}` : `m:${m.messageId}`,
      m, own, status: own ? client.receiptStatus(room.roomId, m.seq) : null, pending: null,
    });
  }
  for (const p of client.pending(room.roomId)) {
    items.push({
      key: `c:${p.clientMsgId}`,
      m: e2eeView(room, { messageId: null, seq: null, senderId: mine, body: p.body, sentAt: p.createdAt, clientMsgId: p.clientMsgId, replyTo: null }),
      own: true, status: p.status === 'failed' ? 'failed' : 'pending', pending: p,
    });
  }
  const rows = [];
  const counts = replyCounts(room.roomId);
  // Join/leave notices go where they happened in time among the messages.
  const notices = (ui.notices.get(room.roomId) || []).slice();
  const noticeRow = (n) => ({ key: n.key, sig: 'n', notice: n, build: () => el('div', { class: 'member-notice', testid: 'member-notice', role: 'note' }, n.text, ' · ', el('time', { datetime: new Date(n.at).toISOString(), text: timeFmt.format(n.at) })) });
  const from = ui.unreadFrom && ui.unreadFrom.roomId === room.roomId ? ui.unreadFrom.seq : null;
  let marked = false;
  let prev = null;
  let lastDay = null;
  for (const it of items) {
    const { m } = it;
    while (notices.length && (it.pending || notices[0].at <= m.sentAt)) { rows.push(noticeRow(notices.shift())); prev = null; }
    const day = startOfDay(m.sentAt);
    let head = !prev || prev.senderId !== m.senderId || m.sentAt - prev.sentAt > GROUP_GAP_MS;
    if (day !== lastDay) {
      rows.push({ key: `d:${day}`, sig: 'd', build: () => el('div', { class: 'day-sep', role: 'separator', 'aria-label': dayLabel(m.sentAt) }, el('span', { 'aria-hidden': 'true', text: dayLabel(m.sentAt) })) });
      lastDay = day;
      head = true;
    }
    if (from !== null && !marked && m.seq !== null && m.seq > from && !it.own) {
      rows.push({ key: 'unread', sig: 'u', build: () => el('div', { class: 'unread-sep', testid: 'unread-marker', role: 'separator', 'aria-label': 'New messages' }, el('span', { 'aria-hidden': 'true', text: 'New messages' })) });
      marked = true;
      head = true;
    }
    const retrying = it.pending && it.pending.retryAt ? 'r' : '';
    it.head = head;
    // Attachments' URLs come with the ack (and fresh ones with history).
    // An encrypted room's files redraw as they open (ui/e2ee-files.js).
    const files = (m.attachments || []).map((a) => `${a.url || ''}${a.sealedFile ? `|${a.fileState}` : ''}`).join(' ');
    // A blocked person's message in a shared group: a row that says so,
    // opened on request (the server still delivers it: blocks are
    // client-side in groups).
    const hidden = !it.own && ui.blocked.has(m.senderId) && !ui.revealed.has(it.key);
    if (hidden) {
      rows.push({ key: it.key, sig: `hidden|${m.seq}`, build: () => hiddenRow(it) });
      prev = null;
      continue;
    }
    it.replies = m.seq === null ? 0 : counts.get(m.seq) || 0;
    const reply = `${it.replies}|${quoteSig(room.roomId, m, it.pending)}`;
    // Edits, deletes and reactions redraw the row (ui/changes.js).
    const changed = `${m.body}|${m.editedAt || ''}|${m.deletedAt || ''}|${(m.reactions || []).map((r) => `${r.emoji}${r.count}${r.me ? '*' : ''}`).join(',')}`;
    rows.push({ key: it.key, sig: `${it.status}|${head ? 1 : 0}|${retrying}|${m.seq}|${files}|${reply}|${changed}|${ui.blocked.has(m.senderId) ? 'b' : ''}`, item: it, build: () => messageRow(room, it) });
    prev = m;
  }
  for (const n of notices) rows.push(noticeRow(n));
  return rows;
}

function drawMessages({ toBottom }) {
  const room = currentRoom();
  const list = $('message-list');
  const scroller = $('message-scroll');
  if (!room) { resetDrawn(null); renderReplyBar(); return; }
  const first = drawn.roomId !== room.roomId;
  if (first) resetDrawn(room.roomId);
  const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  const rows = rowsOf(room);
  const keep = new Set();
  let lastItem = null;
  const fresh = [];
  let box = null;
  let cursor = null;
  const chunkEnd = () => { while (cursor) { const next = cursor.nextSibling; cursor.remove(); cursor = next; } };
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (i % CHUNK === 0) {
      if (box) chunkEnd();
      const c = i / CHUNK;
      if (!drawn.chunks[c]) {
        drawn.chunks[c] = el('div', { class: 'msg-chunk' });
        list.append(drawn.chunks[c]);
      }
      box = drawn.chunks[c];
      cursor = box.firstChild;
    }
    keep.add(row.key);
    let entry = drawn.rows.get(row.key);
    if (!entry || entry.sig !== row.sig) {
      const node = row.build();
      if (entry) {
        if (cursor === entry.node) cursor = cursor.nextSibling;
        entry.node.remove();
      }
      entry = { node, sig: row.sig };
      drawn.rows.set(row.key, entry);
    }
    if (entry.node === cursor) cursor = cursor.nextSibling;
    else box.insertBefore(entry.node, cursor);
    if (row.item) { lastItem = row.item; fresh.push(row.item); }
    if (row.notice && !drawn.announced.has(row.key)) { drawn.announced.add(row.key); if (!first) $('announcer').append(el('p', { text: row.notice.text })); }
  }
  if (box) chunkEnd();
  const used = Math.ceil(rows.length / CHUNK);
  for (const c of drawn.chunks.splice(used)) c.remove();
  for (const key of drawn.rows.keys()) if (!keep.has(key)) drawn.rows.delete(key);
  announce(fresh, first, !!room.historyLoaded);
  renderHistoryStatus();
  renderReplyBar();
  if (first && toBottom) {
    const marker = list.querySelector('.unread-sep');
    if (marker && marker.offsetTop > scroller.clientHeight) marker.scrollIntoView({ block: 'center' });
    else scroller.scrollTop = scroller.scrollHeight;
    $('jump-latest').hidden = true;
  } else if (toBottom || atBottom) {
    scroller.scrollTop = scroller.scrollHeight;
    $('jump-latest').hidden = true;
  } else if (lastItem && !lastItem.own) {
    $('jump-latest').hidden = false;
  }
}

// Screen readers hear each message once, in the live region: others' as
// they arrive, yours once the server took it (or refused it). History
// pages and the messages present when the room opened are not read out.
function announce(items, first, historyLoaded) {
  const out = [];
  let low = drawn.lowSeq;
  for (const it of items) {
    if (drawn.announced.has(it.key)) continue;
    if (it.own && it.status === 'pending') continue;
    drawn.announced.add(it.key);
    const seq = it.m.seq;
    const older = seq !== null && (seq < drawn.lowSeq || (drawn.lowSeq === Infinity && !historyLoaded));
    if (first || older) continue;
    out.push(spoken(it));
  }
  for (const it of items) if (it.m.seq !== null && it.m.seq < low) low = it.m.seq;
  drawn.lowSeq = low;
  if (!out.length) return;
  const box = $('announcer');
  for (const text of out) box.append(el('p', { text }));
  while (box.childElementCount > 5) box.firstElementChild.remove();
}

const STATUS_WORD = { pending: 'sending', sent: 'sent', delivered: 'delivered', read: 'read', failed: 'not sent' };
function spoken(it) {
  const who = it.own ? 'You' : nameOf(it.m.senderId);
  const status = it.own && it.status ? `, ${STATUS_WORD[it.status]}` : '';
  const n = (it.m.attachments || []).length;
  const files = n ? ` (${n} ${n === 1 ? 'attachment' : 'attachments'})` : '';
  const re = it.m.replyTo ? `, replying to ${it.m.replyTo.senderId === me() ? 'you' : nameOf(it.m.replyTo.senderId)}` : '';
  return `${who}, ${timeFmt.format(it.m.sentAt)}${status}${re}: ${it.m.body}${files}`;
}

function hiddenRow(it) {
  return el('div', { class: 'msg in hidden-msg', testid: 'hidden-message', role: 'note', dataset: { sender: it.m.senderId, seq: it.m.seq === null ? undefined : String(it.m.seq) } },
    el('span', { class: 'msg-note', text: 'Hidden message from a blocked user' }),
    el('button', {
      type: 'button', class: 'msg-reveal', testid: 'reveal-message',
      onclick: () => { ui.revealed.add(it.key); renderMessages(); },
    }, 'Show'));
}

const TICK_LABEL = { pending: 'Sending', sent: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'Not sent' };
const TICK_ICON = { pending: 'clock', sent: 'check', delivered: 'checks', read: 'checks', failed: 'alert' };

function messageRow(room, { m, own, status, pending, head, replies }) {
  const name = own ? 'You' : nameOf(m.senderId);
  const meta = el('span', { class: 'msg-meta', title: fullFmt.format(m.sentAt) },
    el('time', { datetime: new Date(m.sentAt).toISOString(), text: timeFmt.format(m.sentAt) }));
  if (status) {
    const waiting = pending && pending.retryAt;
    const label = waiting ? 'Waiting to send' : TICK_LABEL[status];
    meta.append(el('span', { class: 'tick', testid: 'message-status', dataset: { status } },
      icon(TICK_ICON[status]), srOnly(label)));
  }
  const reply = replyParts(room, { m, pending }, replies);
  const bubble = m.deletedAt
    ? el('div', { class: 'bubble' }, srOnly(`${name}: `), deletedNode(), meta)
    : el('div', { class: 'bubble' },
      srOnly(`${name}: `),
      reply.quote,
      el('span', { class: 'msg-body', testid: 'message-body' }, linkify(m.body)),
      editedNode(m),
      attachmentNodes(m.attachments), meta);
  const showName = head && !own && room.kind !== 'direct';
  const col = el('div', { class: 'msg-col' },
    showName ? el('span', { class: 'msg-sender', testid: 'message-sender', 'aria-hidden': 'true', text: nameOf(m.senderId) }) : null,
    el('div', { class: 'msg-line' }, bubble, m.deletedAt || (m.e2ee && m.e2ee !== 'open') ? null : reply.menu),
    reactionChips(room, m), messageActions(room, m), reply.count);
  if (pending && pending.retryAt) {
    col.append(el('span', { class: 'msg-note', testid: 'message-note', text: 'Sending too fast: this one goes out in a moment.' }));
  }
  if (status === 'failed') {
    const why = pending && pending.error ? humanError(pending.error.code) : 'Not sent.';
    col.append(el('div', { class: 'msg-failed' },
      el('span', { class: 'msg-note', testid: 'message-note', text: why }),
      el('button', {
        type: 'button', class: 'msg-retry', testid: 'message-retry',
        onclick: () => ui.client.retrySend(pending.clientMsgId).catch(() => { /* shown as failed again */ }),
      }, 'Retry')));
  }
  const avatar = own ? null : head ? avatarFor(m.senderId, 'avatar-sm') : el('span', { class: 'avatar-spacer' });
  return el('div', {
    class: `msg ${own ? 'out' : 'in'}${head ? ' head' : ''}`, testid: 'message',
    dataset: { messageId: m.messageId || undefined, seq: m.seq === null ? undefined : String(m.seq), sender: m.senderId, status: status || 'received', e2ee: m.e2ee, clientMsgId: m.clientMsgId || undefined, deleted: m.deletedAt ? 'true' : undefined, edited: m.editedAt ? 'true' : undefined },
  }, avatar, col);
}

export function renderTyping() {
  const room = currentRoom();
  const box = $('typing');
  const ids = room ? ui.client.typingIn(room.roomId) : [];
  box.dataset.active = String(ids.length > 0);
  $('typing-text').textContent = ids.length ? typingText(ids) : '';
}

/** Scrolling near the top pages back; at the bottom hides "jump to latest". */
export function wireConversation() {
  const scroller = $('message-scroll');
  scroller.addEventListener('scroll', () => {
    if (!ui.currentId) return;
    if (scroller.scrollTop < 120) loadOlder(ui.currentId);
    if (scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80) $('jump-latest').hidden = true;
  }, { passive: true });
  $('jump-latest').addEventListener('click', () => {
    scroller.scrollTop = scroller.scrollHeight;
    $('jump-latest').hidden = true;
  });
  // The in-app Back arrow is the browser's Back when the room was opened
  // from the list (so the history stays as the user made it).
  $('back-button').addEventListener('click', () => {
    if (history.state && history.state.roomId === ui.currentId && history.state.fromList) history.back();
    else closeRoom();
  });
}
