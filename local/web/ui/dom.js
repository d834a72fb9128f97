// DOM and formatting helpers shared by the UI modules.
//
// SECURITY: every piece of user content (message bodies, names, room names,
// ids, avatar URLs) reaches the DOM through textContent, element properties
// or setAttribute on inert attributes (see `el`). innerHTML is never used.
// Avatar images are shown only for http(s) URLs (`safeImageUrl`).

export const $ = (id) => document.getElementById(id);

/** Builds an element. Strings and numbers among children become text nodes. */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = String(v);
      else if (k === 'testid') node.dataset.testid = v;
      else if (k === 'dataset') {
        for (const [dk, dv] of Object.entries(v)) if (dv !== undefined && dv !== null) node.dataset[dk] = String(dv);
      }
      else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// Static icon paths (24x24, stroked). Never built from user data.
const ICONS = {
  plus: ['M12 5v14', 'M5 12h14'],
  compose: ['M12 20h9', 'M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4z'],
  send: ['M22 2 11 13', 'M22 2 15 22l-4-9-9-4z'],
  check: ['M20 6 9 17l-5-5'],
  checks: ['M17 7 8.5 16.5 5 13', 'M22 7l-9.5 9.5-1.2-1.2'],
  clock: ['M12 7v5l3 2', 'M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0z'],
  alert: ['M12 8v5', 'M12 16.5h.01', 'M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0z'],
  back: ['M15 18l-6-6 6-6'],
  userPlus: ['M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2', 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M19 8v6', 'M22 11h-6'],
  users: ['M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2', 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z', 'M23 21v-2a4 4 0 0 0-3-3.87', 'M16 3.13a4 4 0 0 1 0 7.75'],
  logout: ['M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4', 'M16 17l5-5-5-5', 'M21 12H9'],
  leave: ['M10 17l-5-5 5-5', 'M5 12h11', 'M14 3h5a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2h-5'],
  hash: ['M4 9h16', 'M4 15h16', 'M10 3 8 21', 'M16 3l-2 18'],
  x: ['M18 6 6 18', 'M6 6l12 12'],
  info: ['M12 16v-4', 'M12 8h.01', 'M21 12a9 9 0 1 1-18 0 9 9 0 0 1 18 0z'],
  down: ['M12 5v14', 'M19 12l-7 7-7-7'],
  reply: ['M9 14 4 9l5-5', 'M4 9h10.5a5.5 5.5 0 0 1 0 11H11'],
  more: ['M12 5h.01', 'M12 12h.01', 'M12 19h.01'],
  bell: ['M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9', 'M13.73 21a2 2 0 0 1-3.46 0'],
  lock: ['M7 11V7a5 5 0 0 1 10 0v4', 'M5 11h14v10H5z'],
};
const SVG_NS = 'http://www.w3.org/2000/svg';
export function icon(name) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  for (const d of ICONS[name] || []) {
    const p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}

/** A URL usable as an image source: only http(s), anything else is dropped. */
export function safeImageUrl(raw) {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 1024) return null;
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

const utf8 = new TextEncoder();
export const byteLength = (s) => utf8.encode(s).length;

export function hashHue(s) {
  let h = 0;
  for (const ch of String(s)) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return h % 8;
}

export function initials(name) {
  const words = String(name || '?').trim().split(/[\s._@-]+/).filter(Boolean);
  const first = (w) => Array.from(w)[0] || '';
  const s = words.length >= 2 ? first(words[0]) + first(words[1]) : first(words[0] || '?');
  return s.toUpperCase();
}

export const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
export const dateFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const longDateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
export const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function startOfDay(ms) { const d = new Date(ms); d.setHours(0, 0, 0, 0); return d.getTime(); }
export function shortTime(ms) {
  if (!ms) return '';
  const today = startOfDay(Date.now());
  if (ms >= today) return timeFmt.format(ms);
  if (ms >= today - 6 * 86_400_000) return dayFmt.format(ms);
  return dateFmt.format(ms);
}
export function dayLabel(ms) {
  const today = startOfDay(Date.now());
  const day = startOfDay(ms);
  if (day === today) return 'Today';
  if (day === today - 86_400_000) return 'Yesterday';
  return longDateFmt.format(ms);
}

/** Text only a screen reader reads. */
export const srOnly = (text) => el('span', { class: 'sr-only', text });

// Links in message bodies: http(s) only, each checked by the URL parser and
// set as a property (never markup); trailing punctuation stays text.
const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;
export function linkify(text) {
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const m of text.matchAll(URL_RE)) {
    let raw = m[0];
    const trail = TRAILING.exec(raw);
    if (trail) raw = raw.slice(0, raw.length - trail[0].length);
    let href = null;
    try {
      const u = new URL(raw);
      if (u.protocol === 'http:' || u.protocol === 'https:') href = u.href;
    } catch { /* not a URL: stays text */ }
    if (!href) continue;
    if (m.index > at) frag.append(document.createTextNode(text.slice(at, m.index)));
    const a = document.createElement('a');
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.className = 'msg-link';
    a.textContent = raw;
    frag.append(a);
    at = m.index + raw.length;
  }
  if (at < text.length) frag.append(document.createTextNode(text.slice(at)));
  return frag;
}

// What a refusal means to the person, by code: server text is for logs.
const HUMAN = {
  bad_request: 'The server could not accept that.',
  unauthorized: 'Your session has expired. Sign in again.',
  forbidden: 'You can no longer post in this conversation.',
  not_found: 'This conversation no longer exists.',
  conflict: 'That clashed with another change. Try again.',
  too_large: 'That message is too long.',
  rate_limited: 'You are sending messages too fast. They will be sent in a moment.',
  internal: 'Something went wrong on our side. Try again.',
  timeout: 'The server did not confirm this message.',
  closed: 'This message was not sent.',
};
export const humanError = (code) => HUMAN[code] || 'Something went wrong. Try again.';

export function toast(text, kind = 'error') {
  const t = el('div', { class: 'toast', testid: 'toast', role: kind === 'error' ? 'alert' : 'status', dataset: { kind } },
    icon(kind === 'error' ? 'alert' : 'info'), el('span', { class: 'toast-text', text }));
  const box = $('toasts');
  box.append(t);
  while (box.children.length > 4) box.firstElementChild.remove();
  setTimeout(() => t.remove(), 6000);
}

export function showError(node, msg) {
  node.textContent = msg || '';
  node.hidden = !msg;
}

