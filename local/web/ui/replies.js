// Replies (docs/PROTOCOL.md, "Replies"): reply to a message from its menu,
// or by swiping its row sideways (touch, pen or mouse); the composer shows
// the quote being answered with a cancel button; a sent reply shows the
// quote the server took of its target, and choosing the quote scrolls to
// the original (paging the history back to it, as a search result does:
// the SDK's timeline holds one gap-free run per room, so a page fetched
// `?around=` could not sit in it). A message with replies shows their
// count; the thread view lists them all (GET
// /rooms/{roomId}/messages/{seq}/replies, with the replies held here,
// which may not be stored yet) and grows live.
//
// Deleted targets: the server marks a quote `deleted` when it serves
// history, threads and sync; a quote whose target is held here and is a
// tombstone (no body and no files, or a `deleted` mark) reads deleted too,
// so a delete seen live shows at once.
//
// Encrypted rooms: the server's quote of a sealed target has no text
// (`sealed: true`); the quote shows this page's opened copy of the target
// (e2ee-app.js sealedQuoteText fetches one not held), "Encrypted message"
// until it is opened.
//
// Hooks into the other modules: conversation.js calls replyCounts(),
// quoteSig(), replyParts() and renderReplyBar(); composer.js and
// attachments.js take the reply to send with takeReply().
import { $, el, fullFmt, icon, linkify, srOnly, timeFmt, toast } from './dom.js';
import { me, nameOf, ui } from './state.js';
import { attachmentNodes } from './attachments.js';
import { jumpTo } from './search.js';
import { e2eeView, sealedQuoteText } from './e2ee-app.js';

const EXCERPT_CHARS = 100;
/** How far a row must be dragged sideways to reply. */
const SWIPE_PX = 64;
const THREAD_PAGE = 50;

/**
 * Whether a held message is what a delete leaves. An encrypted room's
 * messages have no body (and your own, as acked, no seal held either): there
 * only the delete's mark makes one.
 */
export function isTombstone(m) {
  if (!m) return false;
  if (m.deleted === true || m.deletedAt) return true;
  if (m.sealed || String(m.roomId || '').startsWith('dme_')) return false;
  return !m.body && !(m.attachments && m.attachments.length);
}

/** A held message as it reads here: an encrypted room's, opened. */
function shown(roomId, m) {
  const room = m && ui.client.rooms.get(roomId);
  return room ? e2eeView(room, m) : m;
}

function held(roomId, seq) {
  return ui.client.messages(roomId).find((m) => m.seq === seq) || null;
}

/** A quote of a message held here (the composer's, before the server's). */
function localPreview(m) {
  const chars = Array.from(m.body || '');
  return {
    seq: m.seq, messageId: m.messageId, senderId: m.senderId,
    excerpt: chars.slice(0, EXCERPT_CHARS).join(''), truncated: chars.length > EXCERPT_CHARS,
    attachmentCount: (m.attachments || []).length, deleted: isTombstone(m),
  };
}

/** The quote to show for `preview` in `roomId`: deleted if its target is, here. */
function resolved(roomId, preview) {
  const target = held(roomId, preview.seq);
  return target && isTombstone(target) ? { ...preview, deleted: true } : preview;
}

/** Replies held per target seq in a room. */
export function replyCounts(roomId) {
  const counts = new Map();
  for (const m of ui.client.messages(roomId)) {
    if (m.replyTo) counts.set(m.replyTo.seq, (counts.get(m.replyTo.seq) || 0) + 1);
  }
  return counts;
}

/**
 * The quote of a sealed target: the server's has no text, so the text is
 * this page's opened copy of the target (`pendingText` until it is opened).
 */
function withSealedText(roomId, p) {
  if (!p.sealed || p.deleted) return p;
  const got = sealedQuoteText(roomId, p.seq);
  if (!got) return { ...p, pendingText: true };
  const chars = Array.from(got.body);
  return { ...p, excerpt: chars.slice(0, EXCERPT_CHARS).join(''), truncated: chars.length > EXCERPT_CHARS };
}

function previewOf(roomId, m, pending) {
  if (m.replyTo) return withSealedText(roomId, resolved(roomId, m.replyTo));
  if (pending && pending.replyTo !== null && pending.replyTo !== undefined) {
    const target = held(roomId, pending.replyTo);
    return target ? localPreview(shown(roomId, target)) : null;
  }
  return null;
}

/** What a row's quote shows, for its redraw signature. */
export function quoteSig(roomId, m, pending) {
  const p = previewOf(roomId, m, pending);
  return p ? `${p.seq}:${p.deleted ? 'x' : ''}:${p.excerpt.length}` : '';
}

function quoteText(p) {
  if (p.deleted) return 'Original message deleted';
  if (p.pendingText) return 'Encrypted message';
  const files = p.attachmentCount ? `${p.attachmentCount} ${p.attachmentCount === 1 ? 'attachment' : 'attachments'}` : '';
  const text = p.excerpt ? `${p.excerpt}${p.truncated ? '…' : ''}` : '';
  return [text, files && `📎 ${files}`].filter(Boolean).join(' · ') || 'Message';
}

function quoteNode(roomId, p, testid) {
  const who = p.senderId === me() ? 'You' : nameOf(p.senderId);
  return el('button', {
    type: 'button', class: 'reply-quote', testid, title: 'Show the original message',
    dataset: { seq: p.seq, deleted: p.deleted ? 'true' : undefined },
    onclick: (ev) => { ev.stopPropagation(); jumpTo({ roomId, seq: p.seq }); },
  }, srOnly('In reply to '), el('span', { class: 'reply-quote-who', text: who }), srOnly(': '),
  el('span', { class: 'reply-quote-text', text: quoteText(p) }));
}

/**
 * The reply parts of a message row: its quote (first in the bubble), the
 * count of its replies (opens the thread) and its menu.
 */
export function replyParts(room, { m, pending }, count) {
  const p = previewOf(room.roomId, m, pending);
  const quote = p ? quoteNode(room.roomId, p, 'reply-quote') : null;
  if (m.seq === null || m.seq === undefined || isTombstone(m)) return { quote, count: null, menu: null };
  const thread = count
    ? el('button', {
      type: 'button', class: 'reply-count', testid: 'message-replies',
      onclick: () => openThread(room.roomId, m.seq),
    }, icon('reply'), `${count} ${count === 1 ? 'reply' : 'replies'}`)
    : null;
  return { quote, count: thread, menu: menuFor(room, m) };
}

// ------------------------------------------------------------- message menu

let openMenu = null;

function closeMenu(focusButton = false) {
  if (!openMenu) return;
  const { menu, button } = openMenu;
  openMenu = null;
  menu.hidden = true;
  menu.remove();
  button.setAttribute('aria-expanded', 'false');
  if (focusButton) button.focus();
}

function menuFor(room, m) {
  const who = m.senderId === me() ? 'your message' : `${nameOf(m.senderId)}'s message`;
  const item = (label, testid, action, ico) => el('button', {
    type: 'button', role: 'menuitem', class: 'msg-menu-item', testid,
    onclick: () => { closeMenu(); action(); },
  }, icon(ico), label);
  const menu = el('div', { class: 'msg-menu', role: 'menu', testid: 'message-menu', hidden: true, 'aria-label': `Actions on ${who}` },
    item('Reply', 'message-reply', () => startReply(room.roomId, m), 'reply'),
    item('View thread', 'message-thread', () => openThread(room.roomId, m.seq), 'users'));
  const button = el('button', {
    type: 'button', class: 'msg-menu-btn', testid: 'message-menu-button',
    'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-label': `Actions on ${who}`, title: 'More actions',
    onclick: (ev) => {
      ev.stopPropagation();
      const was = openMenu && openMenu.menu === menu;
      closeMenu();
      if (was) return;
      // On the page, not in the row: the list's chunks clip what leaves
      // them (content-visibility). Below the button, or above it where the
      // window has no room below; on the side of the bubble.
      document.body.append(menu);
      menu.hidden = false;
      const r = button.getBoundingClientRect();
      const below = r.bottom + menu.offsetHeight + 8 <= window.innerHeight;
      menu.style.top = below ? `${r.bottom + 4}px` : '';
      menu.style.bottom = below ? '' : `${window.innerHeight - r.top + 4}px`;
      const out = m.senderId === me();
      menu.style.left = out ? '' : `${r.left}px`;
      menu.style.right = out ? `${window.innerWidth - r.right}px` : '';
      button.setAttribute('aria-expanded', 'true');
      openMenu = { menu, button };
      menu.querySelector('[role="menuitem"]').focus();
    },
  }, icon('more'));
  menu.addEventListener('keydown', (ev) => {
    const items = Array.from(menu.querySelectorAll('[role="menuitem"]'));
    const i = items.indexOf(document.activeElement);
    if (ev.key === 'Escape') { ev.preventDefault(); closeMenu(true); }
    else if (ev.key === 'ArrowDown') { ev.preventDefault(); items[(i + 1) % items.length].focus(); }
    else if (ev.key === 'ArrowUp') { ev.preventDefault(); items[(i - 1 + items.length) % items.length].focus(); }
  });
  menu.remove();
  return el('div', { class: 'msg-menu-wrap' }, button);
}

// ---------------------------------------------------------------- composer

/** Starts replying to `m` (a held message of `roomId`). */
export function startReply(roomId, m) {
  if (m.seq === null || m.seq === undefined) return;
  if (isTombstone(m)) { toast('That message was deleted.'); return; }
  ui.replyTo = { roomId, preview: localPreview(m) };
  renderReplyBar();
  $('composer-input').focus();
}

export function cancelReply() {
  if (!ui.replyTo) return;
  ui.replyTo = null;
  renderReplyBar();
}

/** The reply to send with the next message of `roomId` ({replyTo} or {}), and clears it. */
export function takeReply(roomId) {
  const r = ui.replyTo;
  if (!r || r.roomId !== roomId) return {};
  ui.replyTo = null;
  renderReplyBar();
  return { replyTo: r.preview.seq };
}

/** Shows the quote being answered above the composer (in its room only). */
export function renderReplyBar() {
  const bar = $('reply-bar');
  if (!bar) return;
  const r = ui.replyTo;
  if (!r || r.roomId !== ui.currentId) {
    if (!bar.hidden) { bar.hidden = true; bar.replaceChildren(); }
    return;
  }
  const p = resolved(r.roomId, r.preview);
  const sig = `${r.roomId}|${p.seq}|${p.deleted}`;
  if (!bar.hidden && bar.dataset.sig === sig) return;
  bar.dataset.sig = sig;
  const who = p.senderId === me() ? 'yourself' : nameOf(p.senderId);
  bar.replaceChildren(
    icon('reply'),
    el('div', { class: 'reply-bar-body' },
      el('span', { class: 'reply-bar-title', text: `Replying to ${who}` }),
      el('span', { class: 'reply-bar-text', testid: 'reply-bar-text', text: quoteText(p) })),
    el('button', { type: 'button', class: 'icon-btn', testid: 'reply-cancel', 'aria-label': 'Cancel reply', title: 'Cancel reply (Esc)', onclick: () => { cancelReply(); $('composer-input').focus(); } }, icon('x')));
  bar.hidden = false;
}

// ------------------------------------------------------------------- swipe

function wireSwipe(list) {
  let drag = null;
  const reset = () => {
    if (drag) { drag.row.style.transform = ''; drag.row.classList.remove('swiping'); }
    drag = null;
  };
  list.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0) return;
    const row = ev.target.closest('.msg[data-seq]');
    if (!row || ev.target.closest('a, button, img, video, audio, input, textarea')) return;
    drag = { row, x: ev.clientX, y: ev.clientY, id: ev.pointerId, dx: 0 };
  });
  list.addEventListener('pointermove', (ev) => {
    if (!drag || ev.pointerId !== drag.id) return;
    const dx = ev.clientX - drag.x;
    const dy = ev.clientY - drag.y;
    if (Math.abs(dy) > 40 && Math.abs(dy) > Math.abs(dx)) { reset(); return; }
    drag.dx = dx;
    if (dx > 8) {
      drag.row.classList.add('swiping');
      drag.row.style.transform = `translateX(${Math.min(dx, SWIPE_PX * 1.5)}px)`;
    }
  });
  const end = (ev) => {
    if (!drag || ev.pointerId !== drag.id) return;
    const { row, dx } = drag;
    reset();
    if (ev.type !== 'pointerup' || dx < SWIPE_PX) return;
    const roomId = ui.currentId;
    const seq = Number(row.dataset.seq);
    const m = roomId && held(roomId, seq);
    if (m) startReply(roomId, shown(roomId, m));
  };
  list.addEventListener('pointerup', end);
  list.addEventListener('pointercancel', end);
}

// ------------------------------------------------------------------ thread

const thread = { roomId: null, seq: null, next: null, seen: new Set(), gen: 0 };

function threadRow(held) {
  const m = shown(thread.roomId, held);
  const row = el('li', { class: 'thread-item', testid: 'thread-reply', dataset: { seq: m.seq } },
    el('div', { class: 'thread-item-head' },
      el('span', { class: 'thread-item-who', text: m.senderId === me() ? 'You' : nameOf(m.senderId) }),
      el('time', { datetime: new Date(m.sentAt).toISOString(), title: fullFmt.format(m.sentAt), text: timeFmt.format(m.sentAt) })),
    el('div', { class: 'thread-item-body' }, isTombstone(m) ? el('em', { text: 'Message deleted' }) : linkify(m.body)),
    attachmentNodes(m.attachments));
  return row;
}

function addReplies(ms) {
  const list = $('thread-list');
  for (const m of ms) {
    if (thread.seen.has(m.seq)) continue;
    thread.seen.add(m.seq);
    // In seq order: live replies may pass a page still loading.
    const after = Array.from(list.children).find((n) => Number(n.dataset.seq) > m.seq);
    list.insertBefore(threadRow(m), after || null);
  }
  $('thread-empty').hidden = list.childElementCount > 0;
}

async function loadThread(more) {
  const gen = thread.gen;
  const status = $('thread-status');
  status.textContent = 'Loading…';
  try {
    const page = await ui.client.rest.thread(thread.roomId, thread.seq, { limit: THREAD_PAGE, ...(more && thread.next ? { after: thread.next } : {}) });
    if (gen !== thread.gen) return;
    if (!more) {
      // Not stored yet (the persist worker batches): the copy held here.
      const target = shown(thread.roomId, page.target || held(thread.roomId, thread.seq));
      $('thread-target').replaceChildren(target
        ? el('div', { class: 'thread-target-body', testid: 'thread-target' },
          el('span', { class: 'thread-item-who', text: target.senderId === me() ? 'You' : nameOf(target.senderId) }),
          el('div', {}, isTombstone(target) ? el('em', { text: 'Message deleted' }) : linkify(target.body)),
          attachmentNodes(target.attachments))
        : el('em', { text: 'The message is on its way.' }));
    }
    addReplies(page.replies);
    thread.next = page.nextCursor ?? null;
    $('thread-more').hidden = !thread.next;
    status.textContent = '';
  } catch (e) {
    if (gen === thread.gen) status.textContent = `Could not load the thread: ${e.message}`;
  }
}

/** Opens the thread of the message at `seq` in `roomId`. */
export function openThread(roomId, seq) {
  const d = $('thread-dialog');
  thread.roomId = roomId;
  thread.seq = seq;
  thread.next = null;
  thread.seen = new Set();
  thread.gen += 1;
  $('thread-list').replaceChildren();
  $('thread-target').replaceChildren();
  $('thread-empty').hidden = true;
  $('thread-more').hidden = true;
  if (!d.open) d.showModal();
  // The replies held here show at once (the newest may not be stored
  // yet); the server's pages add the rest.
  addReplies(ui.client.messages(roomId).filter((m) => m.replyTo && m.replyTo.seq === seq));
  loadThread(false);
}

function buildThreadDialog() {
  const close = el('button', { class: 'icon-btn dialog-close', type: 'button', 'aria-label': 'Close', onclick: () => $('thread-dialog').close() }, icon('x'));
  const d = el('dialog', { id: 'thread-dialog', class: 'dialog thread-dialog', testid: 'thread-dialog', 'aria-labelledby': 'thread-title' },
    el('div', { class: 'dialog-head' }, el('h2', { id: 'thread-title', text: 'Thread' }), close),
    el('div', { class: 'dialog-body' },
      el('div', { id: 'thread-target', class: 'thread-target' }),
      el('h3', { class: 'thread-sub', text: 'Replies' }),
      el('p', { id: 'thread-empty', class: 'thread-empty', testid: 'thread-empty', text: 'No replies yet.', hidden: true }),
      el('ol', { id: 'thread-list', class: 'thread-list', testid: 'thread-list' }),
      el('p', { id: 'thread-status', class: 'thread-status', role: 'status' }),
      el('div', { class: 'dialog-foot' },
        el('button', { id: 'thread-more', type: 'button', class: 'btn', testid: 'thread-more', hidden: true, onclick: () => loadThread(true) }, 'More replies'),
        el('button', {
          type: 'button', class: 'btn btn-primary', testid: 'thread-reply-button',
          onclick: () => {
            const m = shown(thread.roomId, held(thread.roomId, thread.seq));
            $('thread-dialog').close();
            if (m && thread.roomId === ui.currentId) startReply(thread.roomId, m);
            else toast('Open the message in its conversation to reply.');
          },
        }, 'Reply'))));
  document.body.append(d);
}

export function wireReplies() {
  document.head.append(el('link', { rel: 'stylesheet', href: 'ui/replies.css' }));
  const composer = $('composer');
  composer.parentNode.insertBefore(el('div', { id: 'reply-bar', class: 'reply-bar', testid: 'reply-bar', hidden: true, role: 'group', 'aria-label': 'Reply' }), composer);
  buildThreadDialog();
  wireSwipe($('message-list'));
  $('composer-input').addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && ui.replyTo) { ev.preventDefault(); cancelReply(); }
  });
  document.addEventListener('click', (ev) => { if (openMenu && !openMenu.menu.contains(ev.target) && !openMenu.button.contains(ev.target)) closeMenu(); });
  // A menu stays by its button: scrolling or resizing closes it.
  $('message-scroll').addEventListener('scroll', () => closeMenu(), { passive: true });
  window.addEventListener('resize', () => closeMenu());
}

/** The open thread grows as replies arrive (live.js calls it on `messages`). */
export function threadMessages(roomId, added) {
  if (!$('thread-dialog') || !$('thread-dialog').open || roomId !== thread.roomId) return;
  addReplies(added.filter((m) => m.replyTo && m.replyTo.seq === thread.seq));
}
