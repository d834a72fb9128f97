// Message search: the sidebar's search box also searches the messages of all
// the user's rooms on the server (GET /search, docs/PROTOCOL.md "Search").
// Results show under the search box, newest first, with the matched words
// marked; choosing one opens the room scrolled to that message, paging the
// room's history back until the message is loaded.
//
// The only hooks into the other modules: the search box (#room-search),
// openRoom() and renderMessages() of conversation.js, and the message
// nodes' data-seq in #message-list.
import { $, el, shortTime, toast } from './dom.js';
import { nameOf, roomTitle, ui } from './state.js';
import { openRoom, renderMessages } from './conversation.js';
import { sealedHits } from './e2ee-app.js';

const DEBOUNCE_MS = 300;
/** Shorter input only filters the conversation list. */
const MIN_CHARS = 2;
const PAGE = 20;
/** History pages read back to reach a result (100 messages each). */
const MAX_PAGES_BACK = 20;
const HISTORY_PAGE = 100;
/** As the server matches (core/src/search.rs): shorter words only whole. */
const PREFIX_MIN = 3;

let timer = null;
let current = null; // { q, hits, nextCursor, loading, error }
let generation = 0;
/** The message a result opened: marked again whenever the list is redrawn. */
let target = null; // { roomId, seq }

function markTarget() {
  const list = $('message-list');
  if (!list) return;
  const node = target && ui.currentId === target.roomId ? list.querySelector(`[data-seq="${target.seq}"]`) : null;
  for (const old of list.querySelectorAll('[data-search-target]')) {
    if (old !== node) { old.classList.remove('search-target'); delete old.dataset.searchTarget; }
  }
  if (node && !node.dataset.searchTarget) {
    node.classList.add('search-target');
    node.dataset.searchTarget = 'true';
    node.setAttribute('tabindex', '-1');
  }
  return node;
}

/** Words of `text` about as the server sees them: NFKC, case folded (upper then
 * lower case: ß and SS alike become ss), word segments. */
function words(text) {
  const seg = new Intl.Segmenter(undefined, { granularity: 'word' });
  return Array.from(seg.segment(text))
    .filter((s) => s.isWordLike)
    .map((s) => fold(s.segment));
}

function fold(word) {
  return word.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

function matchesWord(word, terms) {
  return terms.some((q) => word === q || ([...q].length >= PREFIX_MIN && word.startsWith(q)));
}

/** The snippet with the words that match marked (text nodes only). */
function marked(snippet, q) {
  const terms = words(q);
  const seg = new Intl.Segmenter(undefined, { granularity: 'word' });
  const out = [];
  for (const s of seg.segment(snippet)) {
    const norm = fold(s.segment);
    out.push(s.isWordLike && matchesWord(norm, terms) ? el('mark', { text: s.segment }) : s.segment);
  }
  return out;
}

function section() {
  let box = $('message-search');
  if (!box) {
    box = el('section', { id: 'message-search', class: 'message-search', testid: 'message-search', 'aria-label': 'Messages found', hidden: true });
    $('room-list').before(box);
  }
  return box;
}

function draw() {
  const box = section();
  if (!current) { box.hidden = true; box.replaceChildren(); return; }
  box.hidden = false;
  const head = el('h2', { class: 'message-search-head', text: 'Messages' });
  const list = el('ul', { class: 'message-search-list', testid: 'search-results' });
  for (const hit of current.hits) {
    const room = ui.client.rooms.get(hit.roomId);
    list.append(el('li', null, el('button', {
      type: 'button', class: 'search-hit', testid: 'search-result',
      dataset: { roomId: hit.roomId, seq: String(hit.seq) },
      onclick: () => jumpTo(hit),
    },
    el('span', { class: 'search-hit-top' },
      el('span', { class: 'search-hit-room', text: room ? roomTitle(room) : hit.roomId }),
      el('span', { class: 'search-hit-time', text: shortTime(hit.sentAt) })),
    el('span', { class: 'search-hit-body' },
      el('span', { class: 'search-hit-sender', text: `${nameOf(hit.senderId)}: ` }),
      marked(hit.snippet, current.q)))));
  }
  const status = el('p', { class: 'message-search-status', role: 'status', testid: 'search-status' });
  if (current.loading) status.textContent = 'Searching messages…';
  else if (current.error) status.textContent = current.error;
  else if (!current.hits.length) status.textContent = 'No messages match.';
  const more = current.nextCursor && !current.loading
    ? el('button', { type: 'button', class: 'btn btn-sm message-search-more', testid: 'search-more', onclick: () => run(current.q, current.nextCursor) }, 'More results')
    : null;
  box.replaceChildren(...[head, list, status, more].filter(Boolean));
}

async function run(q, cursor) {
  const mine = ++generation;
  current = cursor ? { ...current, loading: true, error: null } : { q, hits: [], nextCursor: null, loading: true, error: null };
  draw();
  try {
    const page = await ui.client.rest.search({ q, cursor: cursor ?? undefined, limit: PAGE });
    if (mine !== generation) return;
    // Encrypted rooms' messages are found here, in what this page opened.
    const sealed = cursor ? [] : sealedHits((text) => { const ws = words(text); return words(q).every((t) => ws.some((w) => matchesWord(w, [t]))); });
    current = { q, hits: [...sealed, ...current.hits, ...page.hits], nextCursor: page.nextCursor ?? null, loading: false, error: null };
  } catch (e) {
    if (mine !== generation) return;
    current = { ...current, loading: false, error: e.status === 400 ? e.message : `Search failed: ${e.message}` };
  }
  draw();
}

function onInput() {
  clearTimeout(timer);
  const q = $('room-search').value.trim();
  if ([...q].length < MIN_CHARS || !words(q).length) {
    generation += 1;
    current = null;
    draw();
    return;
  }
  timer = setTimeout(() => run(q, null), DEBOUNCE_MS);
}

const frame = () => new Promise((r) => requestAnimationFrame(() => r()));

/** Opens the hit's room and scrolls to its message, paging back to it. */
export async function jumpTo(hit) {
  const client = ui.client;
  if (!client.rooms.has(hit.roomId)) {
    toast('You are no longer a member of that conversation.');
    return;
  }
  openRoom(hit.roomId);
  const has = () => client.messages(hit.roomId).some((m) => m.seq === hit.seq);
  // The newest page first (openRoom asked for it), then older ones.
  for (let i = 0; i < 200 && !client.rooms.get(hit.roomId)?.historyLoaded; i++) await new Promise((r) => setTimeout(r, 25));
  for (let pages = 0; !has() && pages < MAX_PAGES_BACK; pages++) {
    const room = client.rooms.get(hit.roomId);
    if (!room || !room.prevCursor) break;
    ui.historyLoading.add(hit.roomId);
    try {
      await client.loadOlder(hit.roomId, HISTORY_PAGE);
    } catch (e) {
      toast(`Could not load the message: ${e.message}`);
      return;
    } finally {
      ui.historyLoading.delete(hit.roomId);
    }
  }
  if (ui.currentId !== hit.roomId) return;
  renderMessages();
  await frame();
  await frame();
  const node = $('message-list').querySelector(`[data-seq="${hit.seq}"]`);
  if (!node) {
    toast('That message is too far back to show here.');
    return;
  }
  target = { roomId: hit.roomId, seq: hit.seq };
  markTarget();
  node.scrollIntoView({ block: 'center' });
  node.focus({ preventScroll: true });
}

/** Wires the search box to message search (the room filter stays as is). */
export function wireSearch() {
  document.head.append(el('link', { rel: 'stylesheet', href: 'ui/search.css' }));
  const input = $('room-search');
  input.placeholder = 'Search conversations and messages';
  input.setAttribute('aria-label', 'Search conversations and messages');
  input.addEventListener('input', onInput);
  // Redraws of the conversation replace the message nodes: mark the
  // result's message again each time.
  new MutationObserver(() => { if (target) markTarget(); }).observe($('message-list'), { childList: true, subtree: true });
}
