// Chat web app for the local platform (protocol v1, docs/PROTOCOL.md).
//
// An ES module, no build step, no external resources. Sign-in and tokens:
// auth.js (Cognito hosted UI, code + PKCE); endpoints: config.js. SECURITY: every piece
// of user content (message bodies, names, room names, ids, avatar URLs)
// reaches the DOM through textContent, element properties or setAttribute on
// inert attributes. innerHTML is never used. Avatar images are shown only
// for http(s) URLs.
import { loadConfig as loadRuntimeConfig } from './config.js';
import { Auth } from './auth.js';

(() => {
  // ---------------------------------------------------------------- constants

  const PAGE_SIZE = 50;
  // Under API Gateway's 10-minute idle timeout, with a minute to spare; the
  // server refreshes presence only when it nears expiry (docs/PROTOCOL.md).
  const PING_MS = 540_000;
  const TYPING_SEND_MS = 3_000;   // at most one typing=true per 3 s
  const TYPING_IDLE_MS = 4_000;   // typing=false after this long without input
  const TYPING_SHOW_MS = 5_000;   // others' typing expires after this long
  const GROUP_GAP_MS = 5 * 60_000;
  const ROOMS_REFRESH_MS = 30_000;
  const ACK_RESEND_MS = 15_000;
  const MAX_BODY_BYTES = 4096;
  const MAX_SYNC_ROOMS = 100;
  const SYNC_RETRY_MS = 1_000;    // a sync answered `internal` is asked again after this
  const SYNC_OVERDUE_MS = 10_000; // a sync unanswered this long is asked again
  const BACKOFF_BASE_MS = 1_000;
  const BACKOFF_MAX_MS = 30_000;

  // ------------------------------------------------------------------- state

  const state = {
    session: null,            // {userId, name}, from the ID token
    config: null,             // config.json, checked (config.js)
    auth: null,               // Auth (auth.js): the tokens
    restUrl: location.origin,
    wsUrl: null,
    ws: null,
    connected: false,
    everConnected: false,
    stopped: false,
    attempt: 0,               // reconnect attempts since the last open
    failedOpens: 0,           // handshakes in a row that never opened
    reconnectAt: 0,
    reconnectTimer: null,
    syncRetryTimer: null,
    rooms: new Map(),         // roomId -> room
    users: new Map(),         // userId -> {displayName, avatarUrl, presence}
    currentId: null,
    typingRoomId: null,       // room we last told "typing: true"
    typingIdleTimer: null,
    refreshTimer: null,
    newChatKind: 'direct',
  };

  // --------------------------------------------------------------- utilities

  const $ = (id) => document.getElementById(id);

  /** Builds an element. Strings and numbers among children become text nodes. */
  function el(tag, props, ...children) {
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
  };
  const SVG_NS = 'http://www.w3.org/2000/svg';
  function icon(name) {
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

  function uuid() {
    if (window.crypto && typeof crypto.randomUUID === 'function') {
      try { return crypto.randomUUID(); } catch { /* insecure context: fall through */ }
    }
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /** A URL usable as an image source: only http(s), anything else is dropped. */
  function safeImageUrl(raw) {
    if (typeof raw !== 'string' || raw.length === 0 || raw.length > 1024) return null;
    try {
      const u = new URL(raw);
      return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
    } catch {
      return null;
    }
  }

  const utf8 = new TextEncoder();
  const byteLength = (s) => utf8.encode(s).length;

  function hashHue(s) {
    let h = 0;
    for (const ch of String(s)) h = (h * 31 + ch.codePointAt(0)) >>> 0;
    return h % 8;
  }

  function initials(name) {
    const words = String(name || '?').trim().split(/[\s._@-]+/).filter(Boolean);
    const first = (w) => Array.from(w)[0] || '';
    const s = words.length >= 2 ? first(words[0]) + first(words[1]) : first(words[0] || '?');
    return s.toUpperCase();
  }

  const timeFmt = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
  const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
  const dateFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
  const longDateFmt = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' });
  const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

  function startOfDay(ms) { const d = new Date(ms); d.setHours(0, 0, 0, 0); return d.getTime(); }
  function shortTime(ms) {
    if (!ms) return '';
    const today = startOfDay(Date.now());
    if (ms >= today) return timeFmt.format(ms);
    if (ms >= today - 6 * 86_400_000) return dayFmt.format(ms);
    return dateFmt.format(ms);
  }
  function dayLabel(ms) {
    const today = startOfDay(Date.now());
    const day = startOfDay(ms);
    if (day === today) return 'Today';
    if (day === today - 86_400_000) return 'Yesterday';
    return longDateFmt.format(ms);
  }

  function toast(text, kind = 'error') {
    const t = el('div', { class: 'toast', testid: 'toast', role: kind === 'error' ? 'alert' : 'status', dataset: { kind } },
      icon(kind === 'error' ? 'alert' : 'info'), el('span', { class: 'toast-text', text }));
    const box = $('toasts');
    box.append(t);
    while (box.children.length > 4) box.firstElementChild.remove();
    setTimeout(() => t.remove(), 6000);
  }

  function showError(node, msg) {
    node.textContent = msg || '';
    node.hidden = !msg;
  }

  // ---------------------------------------------------------------- session

  // With a message: the session ended by itself (refresh refused); back to
  // the sign-in page. Without: the user signs out, at the hosted UI too.
  function signOut(message) {
    state.stopped = true;
    stopTyping();
    try { state.ws && state.ws.close(1000, 'sign out'); } catch { /* ignore */ }
    if (!message) { state.auth.signOut(); return; }
    state.auth.clear();
    sessionStorage.setItem('chat.signin.message', message);
    location.reload();
  }

  // ----------------------------------------------------------------- config

  function loadConfig() {
    state.restUrl = pickRestUrl(state.config.restUrl);
    state.wsUrl = state.config.wsUrl;
  }

  // The page is served by the same process: if the configured REST URL is
  // this very server under another loopback name (127.0.0.1 vs localhost),
  // use the page's own origin so requests stay same-origin.
  function pickRestUrl(raw) {
    if (typeof raw !== 'string') return location.origin;
    try {
      const u = new URL(raw);
      if (u.origin === location.origin) return location.origin;
      const loop = (h) => h === 'localhost' || h === '127.0.0.1' || h === '[::1]';
      if (loop(u.hostname) && loop(location.hostname) && u.port === location.port) return location.origin;
      return u.origin;
    } catch {
      return location.origin;
    }
  }

  // -------------------------------------------------------------------- REST

  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }

  // A 401 refreshes the tokens once and retries; a refused refresh signs out.
  async function api(method, path, body, retried = false) {
    const headers = { authorization: `Bearer ${state.auth.token()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(state.restUrl + path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'network', 'Cannot reach the server');
    }
    if (res.status === 204) return null;
    let data = null;
    try { data = await res.json(); } catch { /* empty or not JSON */ }
    if (!res.ok) {
      const err = data && data.error ? data.error : {};
      // A refused refresh fires the 'expired' event: boot() signs out then.
      if (res.status === 401 && !retried) {
        const fresh = await state.auth.refresh().catch(() => null);
        if (fresh) return api(method, path, body, true);
      }
      throw new ApiError(res.status, err.code || 'http', typeof err.message === 'string' ? err.message : `Request failed (${res.status})`);
    }
    return data;
  }

  const enc = encodeURIComponent;
  const USER_ID_RE = /^[A-Za-z0-9._@-]{1,128}$/;
  const BAD_USER_ID = 'User ids are letters, digits and . _ @ - only (e.g. bob).';

  // ------------------------------------------------------------------ model

  function userInfo(userId) {
    let u = state.users.get(userId);
    if (!u) { u = { displayName: null, avatarUrl: null, presence: null }; state.users.set(userId, u); }
    return u;
  }
  function nameOf(userId) {
    if (state.session && userId === state.session.userId) return state.session.name || userId;
    const u = state.users.get(userId);
    return (u && u.displayName) || userId;
  }

  function newRoom(id) {
    return {
      id, kind: 'group', name: '', ownerId: null, createdAt: 0,
      lastMessage: null, lastSeq: 0, readSeq: 0, markedSeq: 0,
      // Gap-free recovery (docs/PROTOCOL.md, "Recovering missed messages"):
      // every seq up to `through` is held or burned; null until the first
      // sync (or live message) sets the baseline.
      through: null, seqs: new Set(), syncing: false, syncSentAt: 0,
      members: new Map(),       // userId -> {role, deliveredSeq, readSeq, joinedAt}
      detailLoaded: false, detailLoading: null,
      msgs: new Map(),          // messageId -> message
      pending: new Map(),       // clientMsgId -> {clientMsgId, roomId, body, createdAt, sentAt, tries, failed, error}
      historyLoaded: false, historyLoading: false, prevCursor: null, historyError: null,
      typing: new Map(),        // userId -> expiresAt
      typingSentAt: 0,
      draft: '',
    };
  }

  function applyRoomView(room, v) {
    if (!v) return;
    if (typeof v.kind === 'string') room.kind = v.kind;
    if (typeof v.name === 'string') room.name = v.name;
    if (typeof v.ownerId === 'string') room.ownerId = v.ownerId;
    if (typeof v.createdAt === 'number') room.createdAt = v.createdAt;
  }

  function applyDetail(room, d) {
    applyRoomView(room, d);
    if (!Array.isArray(d.members)) return;
    const members = new Map();
    for (const m of d.members) {
      if (!m || typeof m.userId !== 'string') continue;
      const prev = room.members.get(m.userId);
      members.set(m.userId, {
        role: m.role,
        joinedAt: m.joinedAt,
        deliveredSeq: Math.max(Number(m.deliveredSeq) || 0, prev ? prev.deliveredSeq : 0),
        readSeq: Math.max(Number(m.readSeq) || 0, prev ? prev.readSeq : 0),
      });
      const u = userInfo(m.userId);
      if (typeof m.displayName === 'string') u.displayName = m.displayName;
      u.avatarUrl = typeof m.avatarUrl === 'string' ? m.avatarUrl : null;
      if (m.presence === 'online' || m.presence === 'offline') u.presence = m.presence;
      if (m.userId === state.session.userId) room.readSeq = Math.max(room.readSeq, Number(m.readSeq) || 0);
    }
    room.members = members;
    room.detailLoaded = true;
  }

  function peerOf(room) {
    if (room.kind !== 'direct') return null;
    for (const id of room.members.keys()) if (id !== state.session.userId) return id;
    return null;
  }

  function roomTitle(room) {
    const peer = peerOf(room);
    if (peer) return nameOf(peer);
    if (room.kind === 'direct') return room.name && room.name !== 'direct' ? room.name : 'Direct message';
    return room.name || 'Untitled';
  }

  function activity(room) {
    return room.lastMessage ? room.lastMessage.sentAt : room.createdAt;
  }

  function unreadOf(room) { return Math.max(0, room.lastSeq - room.readSeq); }

  function sortedMessages(room) {
    return Array.from(room.msgs.values()).sort((a, b) => a.seq - b.seq);
  }

  function maxHeldSeq(room) {
    let max = 0;
    for (const m of room.msgs.values()) if (m.seq > max) max = m.seq;
    return max;
  }

  function validMessage(m) {
    return m && typeof m.messageId === 'string' && typeof m.roomId === 'string' &&
      Number.isSafeInteger(m.seq) && typeof m.senderId === 'string' && typeof m.body === 'string';
  }

  /** Adds messages (de-duplicated by messageId); returns how many were new. */
  function addMessages(room, list) {
    let added = 0;
    for (const m of list) {
      if (!validMessage(m) || m.roomId !== room.id) continue;
      if (m.senderId === state.session.userId && m.clientMsgId && room.pending.has(m.clientMsgId)) {
        room.pending.delete(m.clientMsgId);
      }
      if (room.msgs.has(m.messageId) || room.seqs.has(m.seq)) continue;
      room.seqs.add(m.seq);
      room.msgs.set(m.messageId, {
        messageId: m.messageId, roomId: m.roomId, seq: m.seq, senderId: m.senderId,
        body: m.body, sentAt: Number(m.sentAt) || Date.now(), clientMsgId: m.clientMsgId || null,
      });
      added++;
      room.typing.delete(m.senderId);
      if (m.seq > room.lastSeq) room.lastSeq = m.seq;
      if (!room.lastMessage || m.seq >= room.lastMessage.seq) room.lastMessage = room.msgs.get(m.messageId);
      // A sender has read everything up to their own message: the server
      // moves their read cursor there when it stores it, without sending a
      // receipt, so the message itself is the news.
      if (m.senderId === state.session.userId) room.readSeq = Math.max(room.readSeq, m.seq);
      const sender = room.members.get(m.senderId);
      if (sender) {
        sender.readSeq = Math.max(sender.readSeq, m.seq);
        sender.deliveredSeq = Math.max(sender.deliveredSeq, m.seq);
      }
    }
    return added;
  }

  /** delivered/read for one of my messages, from the other members' cursors. */
  function receiptStatus(room, seq) {
    const others = Array.from(room.members.entries()).filter(([id]) => id !== state.session.userId);
    if (others.length === 0) return 'sent';
    if (others.every(([, m]) => m.readSeq >= seq)) return 'read';
    if (others.every(([, m]) => Math.max(m.deliveredSeq, m.readSeq) >= seq)) return 'delivered';
    return 'sent';
  }

  // ---------------------------------------------------------- room loading

  let refreshing = null;
  let refreshAgain = false;

  /** GET /rooms and merge. Concurrent calls coalesce into one more round. */
  function refreshRooms(opts = {}) {
    if (refreshing) { refreshAgain = true; return refreshing; }
    refreshing = (async () => {
      try {
        const data = await api('GET', '/rooms');
        const seen = new Set();
        for (const s of (data && Array.isArray(data.rooms)) ? data.rooms : []) {
          if (!s || typeof s.roomId !== 'string') continue;
          seen.add(s.roomId);
          let room = state.rooms.get(s.roomId);
          const isNew = !room;
          if (isNew) { room = newRoom(s.roomId); state.rooms.set(s.roomId, room); }
          applyRoomView(room, s);
          room.readSeq = Math.max(room.readSeq, Number(s.readSeq) || 0);
          if (validMessage(s.lastMessage)) {
            const lm = s.lastMessage;
            if (lm.seq > room.lastSeq) room.lastSeq = lm.seq;
            if (!room.lastMessage || lm.seq > room.lastMessage.seq) room.lastMessage = { ...lm, sentAt: Number(lm.sentAt) || 0 };
          }
          if (isNew || opts.details) loadDetail(room).catch(() => {});
          // A room that appeared while connected: follow it from now on.
          if (isNew && state.connected) syncRooms([room]);
        }
        for (const id of Array.from(state.rooms.keys())) {
          if (!seen.has(id)) {
            state.rooms.delete(id);
            if (state.currentId === id) closeRoom();
          }
        }
        renderSidebar();
        renderHeader();
      } catch (e) {
        if (e.status !== 401) toast(`Could not load conversations: ${e.message}`);
      } finally {
        refreshing = null;
        if (refreshAgain) { refreshAgain = false; refreshRooms(opts); }
      }
    })();
    return refreshing;
  }

  let refreshSoonTimer = null;
  function refreshRoomsSoon() {
    clearTimeout(refreshSoonTimer);
    refreshSoonTimer = setTimeout(() => refreshRooms(), 150);
  }

  function loadDetail(room) {
    if (room.detailLoading) return room.detailLoading;
    room.detailLoading = (async () => {
      try {
        const d = await api('GET', `/rooms/${enc(room.id)}`);
        if (d) applyDetail(room, d);
        renderSidebar();
        if (state.currentId === room.id) { renderHeader(); renderMessages(); renderTyping(); }
      } catch (e) {
        if (e.status === 403 || e.status === 404) {
          state.rooms.delete(room.id);
          if (state.currentId === room.id) closeRoom();
          renderSidebar();
        }
        throw e;
      } finally {
        room.detailLoading = null;
      }
    })();
    return room.detailLoading;
  }

  async function loadNewest(room) {
    if (room.historyLoading) return;
    room.historyLoading = true;
    room.historyError = null;
    renderHistoryStatus();
    try {
      const page = await api('GET', `/rooms/${enc(room.id)}/messages?limit=${PAGE_SIZE}`);
      addMessages(room, (page && page.messages) || []);
      room.prevCursor = page && typeof page.prevCursor === 'string' ? page.prevCursor : null;
      room.historyLoaded = true;
    } catch (e) {
      room.historyError = e.message;
    } finally {
      room.historyLoading = false;
    }
    if (state.currentId === room.id) {
      renderMessages({ toBottom: true });
      renderHistoryStatus();
      maybeMarkRead();
      fillViewport(room);
    }
    renderSidebar();
  }

  async function loadOlder(room) {
    if (!room.prevCursor || room.historyLoading) return;
    room.historyLoading = true;
    renderHistoryStatus();
    const scroller = $('message-scroll');
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    try {
      const page = await api('GET', `/rooms/${enc(room.id)}/messages?limit=${PAGE_SIZE}&before=${enc(room.prevCursor)}`);
      addMessages(room, (page && page.messages) || []);
      room.prevCursor = page && typeof page.prevCursor === 'string' ? page.prevCursor : null;
    } catch (e) {
      toast(`Could not load older messages: ${e.message}`);
    } finally {
      room.historyLoading = false;
    }
    if (state.currentId === room.id) {
      drawMessagesNow();
      scroller.scrollTop = scroller.scrollHeight - fromBottom;
      renderHistoryStatus();
      fillViewport(room);
    }
  }

  // If the newest page does not fill the pane, page back until it does.
  function fillViewport(room) {
    const scroller = $('message-scroll');
    if (state.currentId === room.id && room.prevCursor && scroller.scrollHeight <= scroller.clientHeight + 40) {
      loadOlder(room);
    }
  }

  // -------------------------------------------------------------- WebSocket

  function wsSend(frame) {
    const ws = state.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  function connect() {
    if (state.stopped || state.ws) return;
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    const sep = state.wsUrl.includes('?') ? '&' : '?';
    let ws;
    try {
      ws = new WebSocket(`${state.wsUrl}${sep}token=${enc(state.auth.token())}`);
    } catch {
      scheduleReconnect();
      return;
    }
    state.ws = ws;
    setConnState('connecting');
    let opened = false;
    ws.addEventListener('open', () => {
      if (state.ws !== ws) return;
      opened = true;
      state.connected = true;
      state.attempt = 0;
      state.failedOpens = 0;
      setConnState('online');
      onConnected();
    });
    ws.addEventListener('message', (ev) => {
      if (state.ws !== ws || typeof ev.data !== 'string') return;
      let frame;
      try { frame = JSON.parse(ev.data); } catch { return; }
      if (frame && typeof frame === 'object') handleFrame(frame);
    });
    ws.addEventListener('close', () => {
      if (state.ws !== ws) return;
      state.ws = null;
      state.connected = false;
      if (state.stopped) return;
      // A refused handshake may be an expired token: refresh one that is due.
      if (!opened) { state.failedOpens++; state.auth.freshToken().catch(() => {}); }
      // Others' presence and typing may be stale until we are back.
      for (const room of state.rooms.values()) room.typing.clear();
      renderTyping();
      scheduleReconnect();
      if (state.failedOpens >= 3) checkSession();
    });
  }

  function scheduleReconnect() {
    if (state.stopped || state.reconnectTimer) return;
    const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** state.attempt);
    const delay = Math.round(exp * (0.6 + Math.random() * 0.4));
    state.attempt = Math.min(state.attempt + 1, 10);
    state.reconnectAt = Date.now() + delay;
    state.reconnectTimer = setTimeout(() => { state.reconnectTimer = null; connect(); }, delay);
    setConnState('offline');
  }

  function reconnectNow() {
    if (state.ws || state.stopped) return;
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    connect();
  }

  // A handshake refused with 401 looks like any failed connection in a
  // browser: after a few, ask REST whether the token is still good.
  async function checkSession() {
    try { await api('GET', '/users/me'); } catch { /* api() signs out on 401 */ }
  }

  function onConnected() {
    const wasReconnect = state.everConnected;
    state.everConnected = true;
    syncRooms(Array.from(state.rooms.values()));
    resendPending();
    if (wasReconnect) {
      refreshRooms({ details: true });
    }
    maybeMarkRead();
  }

  /**
   * sync rooms from `through`: below it nothing is missing, so a hole under
   * a later message is asked for too. A room's first sync starts from the
   * highest seq we hold (or know of): older messages come from history.
   */
  function syncRooms(rooms) {
    const now = Date.now();
    const entries = rooms.map((r) => {
      if (r.through === null) r.through = maxHeldSeq(r) || r.lastSeq;
      r.syncing = true;
      r.syncSentAt = now;
      return { roomId: r.id, afterSeq: r.through };
    });
    for (let i = 0; i < entries.length; i += MAX_SYNC_ROOMS) {
      if (!wsSend({ action: 'sync', rooms: entries.slice(i, i + MAX_SYNC_ROOMS) })) {
        for (const r of rooms) r.syncing = false; // the next connect syncs again
      }
    }
  }

  /** Moves `through` over held seqs; true when a held seq is still above it (a hole). */
  function advanceThrough(room) {
    if (room.through === null) return false;
    while (room.seqs.has(room.through + 1)) room.through++;
    return maxHeldSeq(room) > room.through;
  }

  function resendPending() {
    for (const room of state.rooms.values()) {
      for (const p of room.pending.values()) if (!p.failed) transmit(p);
    }
  }

  function transmit(p) {
    p.sentAt = Date.now();
    p.tries++;
    wsSend({ action: 'sendMessage', roomId: p.roomId, clientMsgId: p.clientMsgId, body: p.body });
  }

  function handleFrame(f) {
    switch (f.type) {
      case 'message': onMessage(f); break;
      case 'ack': onAck(f); break;
      case 'receipt': onReceipt(f); break;
      case 'presence': onPresence(f); break;
      case 'typing': onTyping(f); break;
      case 'syncResult': onSyncResult(f); break;
      case 'pong': break;
      // Added to or removed from a room: the room list (and its members'
      // presence) comes from REST.
      case 'roomAdded': case 'roomRemoved': refreshRoomsSoon(); break;
      case 'error': onErrorFrame(f); break;
      default: break; // newer server, unknown frame: ignore
    }
  }

  function onMessage(f) {
    const room = state.rooms.get(f.roomId);
    if (!room) { refreshRoomsSoon(); return; }
    // Not synced yet: what we knew before this message is the baseline.
    if (room.through === null) room.through = maxHeldSeq(room) || room.lastSeq;
    if (!addMessages(room, [f])) return;
    // A hole below this message: ask for it (one sync at a time per room).
    if (advanceThrough(room) && !room.syncing) syncRooms([room]);
    afterNewMessages(room);
  }

  function afterNewMessages(room) {
    if (state.currentId === room.id) {
      renderMessages();
      renderTyping();
      maybeMarkRead();
    }
    renderSidebar();
  }

  function onAck(f) {
    const room = state.rooms.get(f.roomId);
    if (!room || !Number.isSafeInteger(f.seq) || typeof f.messageId !== 'string') return;
    const p = room.pending.get(f.clientMsgId);
    if (!p) return; // already settled (a resend answered twice)
    room.pending.delete(f.clientMsgId);
    addMessages(room, [{
      roomId: room.id, messageId: f.messageId, seq: f.seq, senderId: state.session.userId,
      body: p.body, sentAt: p.createdAt, clientMsgId: p.clientMsgId,
    }]);
    afterNewMessages(room);
  }

  function onReceipt(f) {
    const room = state.rooms.get(f.roomId);
    if (!room || !Array.isArray(f.userIds) || !Number.isSafeInteger(f.seq)) return;
    let changed = false;
    for (const userId of f.userIds) {
      if (typeof userId !== 'string') continue;
      if (userId === state.session.userId) {
        if (f.status === 'read' && f.seq > room.readSeq) { room.readSeq = f.seq; renderSidebar(); }
        continue;
      }
      let m = room.members.get(userId);
      if (!m) { m = { role: 'member', deliveredSeq: 0, readSeq: 0 }; room.members.set(userId, m); }
      if (f.status === 'read') { m.readSeq = Math.max(m.readSeq, f.seq); m.deliveredSeq = Math.max(m.deliveredSeq, f.seq); }
      else if (f.status === 'delivered') m.deliveredSeq = Math.max(m.deliveredSeq, f.seq);
      changed = true;
    }
    if (changed && state.currentId === room.id) renderMessages();
  }

  function onPresence(f) {
    if (typeof f.userId !== 'string' || (f.status !== 'online' && f.status !== 'offline')) return;
    userInfo(f.userId).presence = f.status;
    if (f.status === 'offline') {
      for (const room of state.rooms.values()) room.typing.delete(f.userId);
      renderTyping();
    }
    renderSidebar();
    renderHeader();
    if ($('members-dialog').open) renderMembers();
  }

  function onTyping(f) {
    const room = state.rooms.get(f.roomId);
    if (!room || typeof f.userId !== 'string' || f.userId === state.session.userId) return;
    if (f.isTyping === true) room.typing.set(f.userId, Date.now() + TYPING_SHOW_MS);
    else room.typing.delete(f.userId);
    if (state.currentId === room.id) renderTyping();
    renderSidebar();
  }

  function onSyncResult(f) {
    const room = state.rooms.get(f.roomId);
    if (!room) { refreshRoomsSoon(); return; }
    const msgs = Array.isArray(f.messages) ? f.messages : [];
    const added = addMessages(room, msgs);
    // Up to throughSeq nothing is missing: seqs not held there were burned.
    const through = Number.isSafeInteger(f.throughSeq) ? f.throughSeq : maxHeldSeq(room);
    room.through = Math.max(room.through === null ? 0 : room.through, through);
    const hole = advanceThrough(room);
    room.syncing = false;
    if (f.hasMore === true || hole) syncRooms([room]);
    if (added) afterNewMessages(room);
  }

  /**
   * Asks again, from `through`, for every room whose sync is outstanding:
   * after an `internal` error that names no message (a sync that failed),
   * or when an answer is overdue (its push can be lost like any other).
   * Asking again is harmless: a repeated answer changes nothing.
   */
  function retrySyncs(olderThan) {
    const now = Date.now();
    const rooms = Array.from(state.rooms.values()).filter((r) => r.syncing && now - r.syncSentAt >= olderThan);
    if (rooms.length && state.connected) syncRooms(rooms);
  }

  function onErrorFrame(f) {
    const message = typeof f.message === 'string' ? f.message : 'Something went wrong';
    if (f.code === 'internal' && typeof f.clientMsgId !== 'string') {
      clearTimeout(state.syncRetryTimer);
      state.syncRetryTimer = setTimeout(() => retrySyncs(0), SYNC_RETRY_MS);
    }
    if (typeof f.clientMsgId === 'string') {
      for (const room of state.rooms.values()) {
        const p = room.pending.get(f.clientMsgId);
        if (p) {
          p.failed = true;
          p.error = message;
          if (state.currentId === room.id) renderMessages();
        }
      }
    }
    toast(message);
  }

  // ------------------------------------------------------------ read & typing

  function maybeMarkRead() {
    const room = state.rooms.get(state.currentId);
    if (!room || document.visibilityState !== 'visible') return;
    const seq = maxHeldSeq(room);
    if (seq <= 0) return;
    if (seq > room.readSeq) room.readSeq = seq;
    if (seq > room.markedSeq && wsSend({ action: 'markRead', roomId: room.id, seq })) room.markedSeq = seq;
    renderSidebar();
  }

  function onComposerInput() {
    autoGrow();
    updateSendButton();
    const room = state.rooms.get(state.currentId);
    if (!room) return;
    const text = $('composer-input').value;
    if (!text.trim()) { stopTyping(); return; }
    const now = Date.now();
    if (state.typingRoomId !== room.id && state.typingRoomId) stopTyping();
    if (now - room.typingSentAt >= TYPING_SEND_MS) {
      if (wsSend({ action: 'typing', roomId: room.id, isTyping: true })) {
        room.typingSentAt = now;
        state.typingRoomId = room.id;
      }
    }
    clearTimeout(state.typingIdleTimer);
    state.typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(state.typingIdleTimer);
    state.typingIdleTimer = null;
    if (!state.typingRoomId) return;
    wsSend({ action: 'typing', roomId: state.typingRoomId, isTyping: false });
    state.typingRoomId = null;
  }

  // ------------------------------------------------------------------ send

  function sendCurrent() {
    const room = state.rooms.get(state.currentId);
    const input = $('composer-input');
    const body = input.value.replace(/^\s*\n|\s+$/g, '');
    if (!room || !body.trim()) return;
    if (byteLength(body) > MAX_BODY_BYTES) {
      toast(`Message is too long (at most ${MAX_BODY_BYTES} bytes).`);
      return;
    }
    const p = {
      clientMsgId: uuid(), roomId: room.id, body, createdAt: Date.now(), sentAt: 0, tries: 0, failed: false, error: null,
    };
    room.pending.set(p.clientMsgId, p);
    stopTyping();
    transmit(p);
    input.value = '';
    room.draft = '';
    autoGrow();
    updateSendButton();
    renderMessages({ toBottom: true });
  }

  function retry(room, clientMsgId) {
    const p = room.pending.get(clientMsgId);
    if (!p) return;
    p.failed = false;
    p.error = null;
    p.tries = 0;
    transmit(p);
    renderMessages();
  }

  // No ack for a while although connected: resend (idempotent), then give up.
  function checkPendingAcks() {
    if (!state.connected) return;
    const now = Date.now();
    for (const room of state.rooms.values()) {
      for (const p of room.pending.values()) {
        if (p.failed || now - p.sentAt < ACK_RESEND_MS) continue;
        if (p.tries >= 3) {
          p.failed = true;
          p.error = 'Not delivered';
          if (state.currentId === room.id) renderMessages();
        } else {
          transmit(p);
        }
      }
    }
  }

  // ------------------------------------------------------------ rendering

  function avatarFor(userId, size = '') {
    const u = state.users.get(userId);
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

  function roomAvatar(room, size = '') {
    const peer = peerOf(room);
    if (peer) {
      const a = avatarFor(peer, size);
      const presence = userInfo(peer).presence || 'offline';
      a.append(el('span', { class: 'presence-dot', testid: 'room-presence', dataset: { status: presence }, title: presence === 'online' ? 'Online' : 'Offline' }));
      return a;
    }
    if (room.kind === 'channel') {
      return el('span', { class: `avatar square ${size} av-${hashHue(room.id)}`, 'aria-hidden': 'true' }, icon('hash'));
    }
    return el('span', { class: `avatar square ${size} av-${hashHue(room.id)}`, 'aria-hidden': 'true' }, initials(roomTitle(room)));
  }

  let sidebarQueued = false;
  function renderSidebar() {
    if (sidebarQueued) return;
    sidebarQueued = true;
    requestAnimationFrame(() => { sidebarQueued = false; drawSidebar(); });
  }

  function drawSidebar() {
    const list = $('room-list');
    const q = $('room-search').value.trim().toLowerCase();
    const rooms = Array.from(state.rooms.values())
      .sort((a, b) => activity(b) - activity(a) || (a.id < b.id ? -1 : 1))
      .filter((r) => !q || roomTitle(r).toLowerCase().includes(q));
    const frag = document.createDocumentFragment();
    let totalUnread = 0;
    for (const room of rooms) {
      const unread = state.currentId === room.id && document.visibilityState === 'visible' ? 0 : unreadOf(room);
      totalUnread += unread;
      const typers = activeTypers(room);
      let preview;
      if (typers.length) preview = typingText(typers);
      else if (room.lastMessage) {
        const lm = room.lastMessage;
        const who = lm.senderId === state.session.userId ? 'You: ' : room.kind === 'direct' ? '' : `${nameOf(lm.senderId)}: `;
        preview = who + lm.body.replace(/\s+/g, ' ');
      } else preview = room.kind === 'channel' ? 'Channel · no messages yet' : room.kind === 'group' ? 'Group · no messages yet' : 'Say hello 👋';
      const item = el('button', {
        type: 'button', class: `room-item${unread ? ' has-unread' : ''}`, testid: 'room-item',
        dataset: { roomId: room.id, kind: room.kind }, 'aria-current': state.currentId === room.id ? 'true' : 'false',
        onclick: () => openRoom(room.id),
      },
      roomAvatar(room),
      el('span', { class: 'room-item-info' },
        el('span', { class: 'room-item-top' },
          el('span', { class: 'room-item-name', testid: 'room-name', text: roomTitle(room) }),
          el('span', { class: 'room-item-time', text: shortTime(activity(room)) })),
        el('span', { class: 'room-item-bottom' },
          el('span', { class: `room-item-preview${typers.length ? ' is-typing' : ''}`, text: preview }),
          unread ? el('span', { class: 'unread-badge', testid: 'room-unread', text: unread > 99 ? '99+' : unread, 'aria-label': `${unread} unread` }) : null)));
      frag.append(item);
    }
    list.replaceChildren(frag);
    if (rooms.length === 0) {
      list.append(el('div', { class: 'room-list-empty' },
        q ? 'No conversations match.' : 'No conversations yet.',
        q ? null : el('div', null, el('button', { type: 'button', class: 'btn btn-primary btn-sm', onclick: () => openNewChat('direct') }, 'Start one'))));
    }
    document.title = totalUnread ? `(${totalUnread}) Chat` : 'Chat';
  }

  function renderHeader() {
    const room = state.rooms.get(state.currentId);
    if (!room) return;
    $('room-title').textContent = roomTitle(room);
    $('room-avatar').replaceChildren(roomAvatar(room, 'avatar-md'));
    const sub = $('room-subtitle');
    const peer = peerOf(room);
    if (peer) {
      const status = userInfo(peer).presence || 'offline';
      sub.replaceChildren(
        el('span', { class: 'presence-label', testid: 'peer-presence', dataset: { status, userId: peer }, text: status === 'online' ? 'Online' : 'Offline' }),
        el('span', { text: `· @${peer}` }));
    } else if (room.kind === 'direct') {
      sub.replaceChildren(el('span', { text: 'Direct message' }));
    } else {
      const n = room.members.size;
      const online = Array.from(room.members.keys()).filter((id) => userInfo(id).presence === 'online').length;
      const kind = room.kind === 'channel' ? 'Public channel' : 'Group';
      sub.replaceChildren(el('span', { testid: 'room-members-summary', text: room.detailLoaded ? `${kind} · ${n} member${n === 1 ? '' : 's'} · ${online} online` : kind }));
    }
    const me = state.session.userId;
    $('add-member-button').hidden = !(room.kind !== 'direct' && room.ownerId === me);
    $('leave-button').hidden = !(room.kind !== 'direct' && room.ownerId !== me);
  }

  function renderHistoryStatus() {
    const room = state.rooms.get(state.currentId);
    const box = $('history-status');
    if (!room) { box.textContent = ''; return; }
    if (room.historyLoading) box.textContent = 'Loading messages…';
    else if (room.historyError) box.textContent = `Could not load messages: ${room.historyError}`;
    else if (room.historyLoaded && !room.prevCursor && room.msgs.size > 0) box.textContent = 'This is the beginning of the conversation.';
    else if (room.historyLoaded && room.msgs.size === 0 && room.pending.size === 0) box.textContent = 'No messages yet. Say hello!';
    else box.textContent = '';
  }

  let messagesQueued = null;
  function renderMessages(opts = {}) {
    if (messagesQueued) { messagesQueued.toBottom = messagesQueued.toBottom || !!opts.toBottom; return; }
    messagesQueued = { toBottom: !!opts.toBottom };
    requestAnimationFrame(() => { const o = messagesQueued; if (!o) return; messagesQueued = null; drawMessages(o); });
  }

  /** Draws now (and drops a queued draw): for callers that must measure after. */
  function drawMessagesNow(opts = {}) {
    const queued = messagesQueued;
    messagesQueued = null;
    drawMessages({ toBottom: !!opts.toBottom || !!(queued && queued.toBottom) });
  }

  function drawMessages({ toBottom }) {
    const room = state.rooms.get(state.currentId);
    const list = $('message-list');
    const scroller = $('message-scroll');
    if (!room) { list.replaceChildren(); return; }
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    const me = state.session.userId;
    const items = sortedMessages(room).map((m) => ({ m, status: m.senderId === me ? receiptStatus(room, m.seq) : null }));
    for (const p of Array.from(room.pending.values()).sort((a, b) => a.createdAt - b.createdAt)) {
      items.push({ m: { messageId: null, seq: null, senderId: me, body: p.body, sentAt: p.createdAt, clientMsgId: p.clientMsgId }, status: p.failed ? 'failed' : 'pending', pending: p });
    }
    const frag = document.createDocumentFragment();
    let group = null;
    let lastDay = null;
    let prev = null;
    for (const it of items) {
      const { m } = it;
      const day = startOfDay(m.sentAt);
      if (day !== lastDay) {
        frag.append(el('div', { class: 'day-sep', role: 'separator', text: dayLabel(m.sentAt) }));
        lastDay = day;
        group = null;
      }
      if (!group || prev.senderId !== m.senderId || m.sentAt - prev.sentAt > GROUP_GAP_MS) {
        group = newGroup(room, m.senderId);
        frag.append(group.node);
      }
      group.stack.append(messageNode(room, it));
      prev = m;
    }
    list.replaceChildren(frag);
    renderHistoryStatus();
    if (toBottom || atBottom) {
      scroller.scrollTop = scroller.scrollHeight;
      $('jump-latest').hidden = true;
    } else if (items.length && items[items.length - 1].m.senderId !== me) {
      $('jump-latest').hidden = false;
    }
  }

  function newGroup(room, senderId) {
    const mine = senderId === state.session.userId;
    const stack = el('div', { class: 'msg-stack' });
    if (!mine && room.kind !== 'direct') stack.append(el('span', { class: 'msg-sender', testid: 'message-sender', text: nameOf(senderId) }));
    const node = el('div', { class: `msg-group ${mine ? 'out' : 'in'}`, testid: 'message-group', dataset: { sender: senderId } },
      mine ? null : avatarFor(senderId, 'avatar-sm'), stack);
    return { node, stack };
  }

  const TICK_LABEL = { pending: 'Sending', sent: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'Not sent' };
  const TICK_ICON = { pending: 'clock', sent: 'check', delivered: 'checks', read: 'checks', failed: 'alert' };

  function messageNode(room, { m, status, pending }) {
    const meta = el('span', { class: 'msg-meta', title: fullFmt.format(m.sentAt) },
      el('time', { datetime: new Date(m.sentAt).toISOString(), text: timeFmt.format(m.sentAt) }));
    if (status) {
      meta.append(el('span', { class: 'tick', testid: 'message-status', dataset: { status }, title: pending && pending.error ? pending.error : TICK_LABEL[status], 'aria-label': TICK_LABEL[status] }, icon(TICK_ICON[status])));
    }
    const bubble = el('div', { class: 'bubble' }, el('span', { class: 'msg-body', testid: 'message-body', text: m.body }), meta);
    const node = el('div', {
      class: 'msg', testid: 'message',
      dataset: { messageId: m.messageId || undefined, seq: m.seq === null ? undefined : String(m.seq), sender: m.senderId, status: status || 'received', clientMsgId: m.clientMsgId || undefined },
    }, bubble);
    if (status === 'failed') {
      return el('div', { class: 'msg-failed-wrap' }, node,
        el('button', { type: 'button', class: 'msg-retry', testid: 'message-retry', onclick: () => retry(room, pending.clientMsgId) }, 'Not sent · Retry'));
    }
    return node;
  }

  function activeTypers(room) {
    const now = Date.now();
    const out = [];
    for (const [id, exp] of room.typing) if (exp > now) out.push(id);
    return out;
  }
  function typingText(ids) {
    if (ids.length === 1) return `${nameOf(ids[0])} is typing…`;
    if (ids.length === 2) return `${nameOf(ids[0])} and ${nameOf(ids[1])} are typing…`;
    return 'Several people are typing…';
  }

  function renderTyping() {
    const room = state.rooms.get(state.currentId);
    const box = $('typing');
    const ids = room ? activeTypers(room) : [];
    box.dataset.active = String(ids.length > 0);
    $('typing-text').textContent = ids.length ? typingText(ids) : '';
  }

  function expireTyping() {
    const now = Date.now();
    let changed = false;
    for (const room of state.rooms.values()) {
      for (const [id, exp] of room.typing) if (exp <= now) { room.typing.delete(id); changed = true; }
    }
    if (changed) { renderTyping(); renderSidebar(); }
  }

  function setConnState(s) {
    const status = $('me-status');
    status.dataset.state = s;
    status.textContent = s === 'online' ? 'Online' : s === 'connecting' ? 'Connecting…' : 'Offline';
    updateBanner();
  }

  function updateBanner() {
    const banner = $('conn-banner');
    const s = $('me-status').dataset.state;
    if (s === 'online' || !state.everConnected && s === 'connecting') { banner.hidden = true; return; }
    banner.hidden = false;
    if (s === 'connecting') $('conn-banner-text').textContent = 'Reconnecting…';
    else {
      const secs = Math.max(0, Math.ceil((state.reconnectAt - Date.now()) / 1000));
      $('conn-banner-text').textContent = `Connection lost. Reconnecting in ${secs}s…`;
    }
  }

  function renderMe() {
    $('me-name').textContent = state.session.name || state.session.userId;
    $('me-avatar').replaceChildren(avatarFor(state.session.userId, 'avatar-md'));
    $('me-name').title = `@${state.session.userId}`;
  }

  function autoGrow() {
    const t = $('composer-input');
    t.style.height = 'auto';
    t.style.height = `${Math.min(t.scrollHeight, 160)}px`;
  }
  function updateSendButton() {
    $('composer-send').disabled = !$('composer-input').value.trim();
  }

  // ------------------------------------------------------------ navigation

  function openRoom(id) {
    const room = state.rooms.get(id);
    if (!room) return;
    if (state.currentId !== id) { stopTyping(); saveDraft(); }
    const changed = state.currentId !== id;
    state.currentId = id;
    if (changed) {
      $('composer-input').value = room.draft || '';
      autoGrow();
      updateSendButton();
    }
    $('empty-state').hidden = true;
    $('room-view').hidden = false;
    $('app').classList.add('show-room');
    $('jump-latest').hidden = true;
    renderHeader();
    renderMessages({ toBottom: true });
    renderTyping();
    renderSidebar();
    renderHistoryStatus();
    if (!room.historyLoaded) loadNewest(room);
    else maybeMarkRead();
    loadDetail(room).catch((e) => { if (e.status && e.status !== 401) toast(e.message); });
    if (matchMedia('(pointer: fine)').matches) $('composer-input').focus();
  }

  function saveDraft() {
    const prev = state.rooms.get(state.currentId);
    if (prev) prev.draft = $('composer-input').value;
  }

  function closeRoom() {
    stopTyping();
    saveDraft();
    $('composer-input').value = '';
    state.currentId = null;
    $('room-view').hidden = true;
    $('empty-state').hidden = false;
    $('app').classList.remove('show-room');
    renderSidebar();
  }

  // -------------------------------------------------------------- dialogs

  function openNewChat(kind) {
    const d = $('new-chat-dialog');
    for (const id of ['new-chat-user', 'new-chat-name', 'new-chat-members']) $(id).value = '';
    showError($('new-chat-error'), '');
    setNewChatKind(kind || 'direct');
    if (!d.open) d.showModal();
  }

  function setNewChatKind(kind) {
    state.newChatKind = kind;
    const d = $('new-chat-dialog');
    for (const tab of d.querySelectorAll('.tab')) tab.setAttribute('aria-selected', String(tab.dataset.kind === kind));
    for (const node of d.querySelectorAll('[data-for]')) node.hidden = !node.dataset.for.split(' ').includes(kind);
    showError($('new-chat-error'), '');
    $('new-chat-submit').textContent = kind === 'direct' ? 'Start chat' : kind === 'group' ? 'Create group' : 'Create channel';
    if (kind === 'browse') loadChannels();
    else setTimeout(() => (kind === 'direct' ? $('new-chat-user') : $('new-chat-name')).focus(), 0);
  }

  function parseIds(raw) {
    return Array.from(new Set(raw.split(/[\s,;]+/).map((s) => s.trim().replace(/^@/, '')).filter(Boolean)));
  }

  async function submitNewChat(ev) {
    ev.preventDefault();
    const kind = state.newChatKind;
    if (kind === 'browse') return;
    const err = $('new-chat-error');
    let body;
    if (kind === 'direct') {
      const other = $('new-chat-user').value.trim().replace(/^@/, '');
      if (!other) return showError(err, 'Enter the user id of the person to chat with.');
      if (!USER_ID_RE.test(other)) return showError(err, BAD_USER_ID);
      if (other === state.session.userId) return showError(err, 'That is you. Pick someone else.');
      body = { kind: 'direct', members: [other] };
    } else {
      const name = $('new-chat-name').value.trim();
      if (!name) return showError(err, 'Give it a name.');
      const members = parseIds($('new-chat-members').value);
      const bad = members.find((id) => !USER_ID_RE.test(id));
      if (bad !== undefined) return showError(err, `"${bad}": ${BAD_USER_ID}`);
      body = { kind, name, members };
    }
    const submit = $('new-chat-submit');
    submit.disabled = true;
    try {
      const detail = await api('POST', '/rooms', body);
      const room = upsertDetail(detail);
      $('new-chat-dialog').close();
      if (room) { syncRooms([room]); openRoom(room.id); }
    } catch (e) {
      showError(err, e.message);
    } finally {
      submit.disabled = false;
    }
  }

  function upsertDetail(detail) {
    if (!detail || typeof detail.roomId !== 'string') return null;
    let room = state.rooms.get(detail.roomId);
    if (!room) { room = newRoom(detail.roomId); state.rooms.set(room.id, room); }
    applyDetail(room, detail);
    renderSidebar();
    return room;
  }

  async function loadChannels() {
    const list = $('channel-list');
    list.replaceChildren(el('li', { class: 'list-empty', text: 'Loading channels…' }));
    try {
      const data = await api('GET', '/channels?limit=50');
      const channels = (data && Array.isArray(data.channels)) ? data.channels : [];
      list.replaceChildren();
      if (channels.length === 0) {
        list.append(el('li', { class: 'list-empty', text: 'No public channels yet. Create one!' }));
        return;
      }
      for (const c of channels) {
        if (!c || typeof c.roomId !== 'string') continue;
        const joined = state.rooms.has(c.roomId);
        const btn = el('button', {
          type: 'button', class: `btn btn-sm${joined ? '' : ' btn-primary'}`, testid: 'channel-join',
          onclick: () => (joined ? ($('new-chat-dialog').close(), openRoom(c.roomId)) : joinChannel(c.roomId, btn)),
        }, joined ? 'Open' : 'Join');
        list.append(el('li', { class: 'channel-row', testid: 'channel-item', dataset: { roomId: c.roomId } },
          el('span', { class: `avatar square avatar-md av-${hashHue(c.roomId)}`, 'aria-hidden': 'true' }, icon('hash')),
          el('div', { class: 'row-info' },
            el('div', { class: 'row-title', text: typeof c.name === 'string' ? c.name : c.roomId }),
            el('div', { class: 'row-sub', text: `Created ${typeof c.createdAt === 'number' ? dateFmt.format(c.createdAt) : ''}` })),
          btn));
      }
    } catch (e) {
      list.replaceChildren(el('li', { class: 'list-empty', text: `Could not load channels: ${e.message}` }));
    }
  }

  async function joinChannel(roomId, btn) {
    btn.disabled = true;
    try {
      const detail = await api('POST', `/rooms/${enc(roomId)}/members`, { userId: state.session.userId });
      let room = upsertDetail(detail);
      if (!room) { await refreshRooms(); room = state.rooms.get(roomId); }
      $('new-chat-dialog').close();
      if (room) { syncRooms([room]); openRoom(room.id); }
    } catch (e) {
      showError($('new-chat-error'), e.message);
      btn.disabled = false;
    }
  }

  async function submitAddMember(ev) {
    ev.preventDefault();
    const room = state.rooms.get(state.currentId);
    const userId = $('add-member-input').value.trim().replace(/^@/, '');
    const err = $('add-member-error');
    if (!room) return;
    if (!userId) return showError(err, 'Enter a user id.');
    if (!USER_ID_RE.test(userId)) return showError(err, BAD_USER_ID);
    try {
      const detail = await api('POST', `/rooms/${enc(room.id)}/members`, { userId });
      if (detail && Array.isArray(detail.members)) applyDetail(room, detail);
      else await loadDetail(room);
      $('add-member-dialog').close();
      toast(`Added ${nameOf(userId)} to ${roomTitle(room)}.`, 'info');
      renderHeader();
    } catch (e) {
      showError(err, e.message);
    }
  }

  function renderMembers() {
    const room = state.rooms.get(state.currentId);
    const list = $('member-list');
    list.replaceChildren();
    if (!room) return;
    const ids = Array.from(room.members.keys()).sort((a, b) => {
      const on = (id) => (userInfo(id).presence === 'online' ? 0 : 1);
      return on(a) - on(b) || nameOf(a).localeCompare(nameOf(b));
    });
    for (const id of ids) {
      const presence = userInfo(id).presence || 'offline';
      const a = avatarFor(id, 'avatar-md');
      a.append(el('span', { class: 'presence-dot', dataset: { status: presence } }));
      const m = room.members.get(id);
      list.append(el('li', { class: 'member-row', testid: 'member-item', dataset: { userId: id, presence } },
        a,
        el('div', { class: 'row-info' },
          el('div', { class: 'row-title', text: id === state.session.userId ? `${nameOf(id)} (you)` : nameOf(id) }),
          el('div', { class: 'row-sub', text: `@${id} · ${presence === 'online' ? 'Online' : 'Offline'}` })),
        m && m.role === 'owner' ? el('span', { class: 'role-pill', text: 'Owner' }) : null));
    }
  }

  async function leaveCurrent() {
    const room = state.rooms.get(state.currentId);
    if (!room) return;
    if (!confirm(`Leave ${roomTitle(room)}?`)) return;
    try {
      await api('DELETE', `/rooms/${enc(room.id)}/members/${enc(state.session.userId)}`);
      state.rooms.delete(room.id);
      closeRoom();
    } catch (e) {
      toast(e.message);
    }
  }

  // ---------------------------------------------------------------- sign in

  // Sign-in happens at the hosted UI (auth.js); this page only sends the
  // browser there and shows why the last attempt failed.
  function showSignIn(problem) {
    $('app').hidden = true;
    $('signin').hidden = false;
    const msg = problem || sessionStorage.getItem('chat.signin.message');
    sessionStorage.removeItem('chat.signin.message');
    if (msg) showError($('signin-error'), msg);
    $('signin-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const btn = ev.submitter || $('signin-form').querySelector('button[type=submit]');
      if (!state.auth) return showError($('signin-error'), msg || 'The app is not configured.');
      btn.disabled = true;
      try {
        await state.auth.signIn();
      } catch (e) {
        btn.disabled = false;
        showError($('signin-error'), e.message);
      }
    });
    $('signin-form').querySelector('button[type=submit]').focus();
  }

  // The profile is created on the first authenticated call; make sure it
  // carries the name picked at sign-in.
  async function ensureProfile() {
    try {
      const me = await api('GET', '/users/me');
      if (!me) return;
      const u = userInfo(state.session.userId);
      u.avatarUrl = typeof me.avatarUrl === 'string' ? me.avatarUrl : null;
      if (state.session.name && me.displayName !== state.session.name) {
        const updated = await api('PATCH', '/users/me', { displayName: state.session.name });
        if (updated && typeof updated.displayName === 'string') u.displayName = updated.displayName;
      } else if (typeof me.displayName === 'string') {
        u.displayName = me.displayName;
        if (!state.session.name) state.session.name = me.displayName;
      }
      renderMe();
    } catch (e) {
      if (e.status !== 401) toast(`Could not load your profile: ${e.message}`);
    }
  }

  async function startApp(session) {
    state.session = session;
    $('signin').hidden = true;
    $('app').hidden = false;
    renderMe();
    setConnState('connecting');
    loadConfig();
    state.auth.start();
    await ensureProfile();
    if (state.stopped) return;
    await refreshRooms();
    connect();
    setInterval(() => { if (state.connected) wsSend({ action: 'ping' }); }, PING_MS);
    setInterval(expireTyping, 1000);
    setInterval(checkPendingAcks, 5000);
    setInterval(() => retrySyncs(SYNC_OVERDUE_MS), 5000);
    setInterval(() => { if (document.visibilityState === 'visible') updateBanner(); }, 1000);
    state.refreshTimer = setInterval(() => {
      if (document.visibilityState === 'visible' && state.connected) refreshRooms();
    }, ROOMS_REFRESH_MS);
  }

  // ----------------------------------------------------------------- wiring

  function wire() {
    $('new-chat-button').append(icon('compose'));
    $('signout-button').append(icon('logout'));
    $('back-button').append(icon('back'));
    $('add-member-button').append(icon('userPlus'));
    $('members-button').append(icon('users'));
    $('leave-button').append(icon('leave'));
    $('composer-send').append(icon('send'));
    $('jump-latest').prepend(icon('down'));
    for (const b of document.querySelectorAll('.dialog-close')) b.append(icon('x'));

    $('new-chat-button').addEventListener('click', () => openNewChat('direct'));
    $('empty-new-chat').addEventListener('click', () => openNewChat('direct'));
    $('signout-button').addEventListener('click', () => signOut());
    $('back-button').addEventListener('click', closeRoom);
    $('room-search').addEventListener('input', renderSidebar);
    $('conn-retry').addEventListener('click', reconnectNow);
    $('jump-latest').addEventListener('click', () => {
      const s = $('message-scroll');
      s.scrollTop = s.scrollHeight;
      $('jump-latest').hidden = true;
    });

    for (const tab of document.querySelectorAll('#new-chat-dialog .tab')) {
      tab.addEventListener('click', () => setNewChatKind(tab.dataset.kind));
    }
    $('new-chat-form').addEventListener('submit', submitNewChat);
    $('add-member-form').addEventListener('submit', submitAddMember);
    $('add-member-button').addEventListener('click', () => {
      $('add-member-input').value = '';
      showError($('add-member-error'), '');
      $('add-member-dialog').showModal();
    });
    $('members-button').addEventListener('click', () => {
      const room = state.rooms.get(state.currentId);
      $('members-title').textContent = room ? `Members of ${roomTitle(room)}` : 'Members';
      renderMembers();
      $('members-dialog').showModal();
      if (room) loadDetail(room).then(renderMembers).catch(() => {});
    });
    $('leave-button').addEventListener('click', leaveCurrent);
    for (const b of document.querySelectorAll('[data-close]')) {
      b.addEventListener('click', () => b.closest('dialog').close());
    }
    for (const d of document.querySelectorAll('dialog')) {
      d.addEventListener('click', (ev) => { if (ev.target === d) d.close(); }); // backdrop
    }

    const input = $('composer-input');
    input.addEventListener('input', onComposerInput);
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        sendCurrent();
      }
    });
    input.addEventListener('blur', () => { if (!input.value.trim()) stopTyping(); });
    $('composer').addEventListener('submit', (ev) => { ev.preventDefault(); sendCurrent(); });
    updateSendButton();

    const scroller = $('message-scroll');
    scroller.addEventListener('scroll', () => {
      const room = state.rooms.get(state.currentId);
      if (!room) return;
      if (scroller.scrollTop < 120) loadOlder(room);
      if (scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80) $('jump-latest').hidden = true;
    }, { passive: true });

    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') { maybeMarkRead(); renderSidebar(); }
      else stopTyping();
    });
    window.addEventListener('online', reconnectNow);
    window.addEventListener('pagehide', () => stopTyping());
  }

  async function boot() {
    wire();
    try {
      state.config = await loadRuntimeConfig();
    } catch (e) {
      return showSignIn(e.message);
    }
    state.auth = new Auth(state.config.auth);
    state.auth.addEventListener('expired', () => signOut('Your session has expired. Sign in again.'));
    try {
      await state.auth.handleRedirect();
    } catch (e) {
      return showSignIn(e.message);
    }
    const session = state.auth.session();
    if (session) startApp(session);
    else showSignIn();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
