// Chat web app for the local platform: the entry point. Sign-in, the
// session, where the APIs are, and starting the client; everything the
// protocol decides is in the SDK (@chat-platform/client, served at sdk/),
// everything on screen in ui/:
//
//   ui/state.js        what the UI keeps beside the SDK; names and avatars
//   ui/dom.js          DOM and formatting helpers (the XSS rules live here)
//   ui/live.js         SDK events -> redraws
//   ui/sidebar.js      the conversation list
//   ui/conversation.js the open conversation: header, messages, typing, history
//   ui/composer.js     the message box
//   ui/dialogs.js      new conversation, members, add member, leave
//   ui/connection.js   connection status and banner
//
// ES modules, no build step, no external resources.
import { ChatClient } from './sdk/index.js';
import { $, el, icon, showError, toast } from './ui/dom.js';
import { avatarFor, ui } from './ui/state.js';
import { renderSidebar } from './ui/sidebar.js';
import { wireConversation } from './ui/conversation.js';
import { wireComposer, stopTyping } from './ui/composer.js';
import { wireDialogs } from './ui/dialogs.js';
import { setConnState, wireConnection } from './ui/connection.js';
import { wireClient } from './ui/live.js';

const SESSION_KEY = 'chat.session.v1';

// ---------------------------------------------------------------- session

function loadSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null');
    if (s && typeof s.token === 'string' && typeof s.userId === 'string') return s;
  } catch { /* ignore */ }
  return null;
}
function saveSession(s) { sessionStorage.setItem(SESSION_KEY, JSON.stringify(s)); }

function signOut(message) {
  stopTyping();
  if (ui.client) ui.client.close();
  sessionStorage.removeItem(SESSION_KEY);
  if (message) sessionStorage.setItem('chat.signin.message', message);
  location.reload();
}

/**
 * The token for the SDK. A development token cannot be refreshed: when the
 * server refuses it, sign in again.
 */
async function getToken({ forceRefresh }) {
  if (forceRefresh) {
    signOut('Your session has expired. Sign in again.');
    throw new Error('session expired');
  }
  return ui.session.token;
}

// ----------------------------------------------------------------- config

async function loadConfig() {
  let cfg = {};
  try {
    const res = await fetch('/dev/config', { cache: 'no-store' });
    if (res.ok) cfg = await res.json();
  } catch { /* fall back to this page's origin */ }
  const wsDefault = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/local`;
  return {
    restUrl: pickRestUrl(cfg.restUrl),
    wsUrl: typeof cfg.wsUrl === 'string' && /^wss?:\/\//.test(cfg.wsUrl) ? cfg.wsUrl : wsDefault,
  };
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

// ---------------------------------------------------------------- sign in

/** A user id from a typed name: "Alice Smith" -> "alice-smith". */
function toUserId(name) {
  return name
    .normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._@-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 64);
}

function showSignIn() {
  $('app').hidden = true;
  $('signin').hidden = false;
  const msg = sessionStorage.getItem('chat.signin.message');
  if (msg) { sessionStorage.removeItem('chat.signin.message'); showError($('signin-error'), msg); }
  const input = $('signin-name');
  const handle = $('signin-handle');
  const update = () => {
    const id = toUserId(input.value);
    handle.replaceChildren();
    if (id) handle.append('Your user id will be ', el('b', { text: `@${id}` }));
  };
  input.addEventListener('input', update);
  update();
  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = input.value.trim().replace(/\s+/g, ' ');
    const userId = toUserId(name);
    const err = $('signin-error');
    if (!name || !userId) return showError(err, 'Use at least one letter or digit.');
    const btn = ev.submitter || $('signin-form').querySelector('button[type=submit]');
    btn.disabled = true;
    showError(err, '');
    try {
      const res = await fetch('/dev/token', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId, name }),
      });
      const data = await res.json().catch(() => null);
      if (!res.ok || !data || typeof data.token !== 'string') {
        throw new Error((data && data.error && data.error.message) || `Sign-in failed (${res.status})`);
      }
      const session = { token: data.token, userId: typeof data.userId === 'string' ? data.userId : userId, name };
      saveSession(session);
      $('signin').hidden = true;
      startApp(session);
    } catch (e) {
      showError(err, e.message === 'Failed to fetch' ? 'Cannot reach the local server.' : e.message);
    } finally {
      btn.disabled = false;
    }
  });
  input.focus();
}

function renderMe() {
  $('me-name').textContent = ui.session.name || ui.session.userId;
  $('me-avatar').replaceChildren(avatarFor(ui.session.userId, 'avatar-md'));
  $('me-name').title = `@${ui.session.userId}`;
}

// The profile is created on the first authenticated call; make sure it
// carries the name picked at sign-in.
async function ensureProfile(client) {
  try {
    const me = await client.rest.me();
    const u = client.user(ui.session.userId);
    u.avatarUrl = me.avatarUrl ?? null;
    if (ui.session.name && me.displayName !== ui.session.name) {
      const updated = await client.rest.updateMe({ displayName: ui.session.name });
      u.displayName = updated.displayName;
    } else {
      u.displayName = me.displayName;
      if (!ui.session.name) { ui.session.name = me.displayName; saveSession(ui.session); }
    }
    renderMe();
  } catch (e) {
    if (e.status !== 401) toast(`Could not load your profile: ${e.message}`);
  }
}

async function startApp(session) {
  ui.session = session;
  $('signin').hidden = true;
  $('app').hidden = false;
  setConnState('connecting');
  const { wsUrl, restUrl } = await loadConfig();
  const client = new ChatClient({ wsUrl, restUrl, getToken, userId: session.userId });
  ui.client = client;
  renderMe();
  wireClient(client);
  await ensureProfile(client);
  try {
    await client.start();
  } catch (e) {
    toast(`Could not load conversations: ${e.message}`);
  }
  renderSidebar();
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

  $('signout-button').addEventListener('click', () => signOut());
  $('room-search').addEventListener('input', renderSidebar);
  wireConversation();
  wireComposer();
  wireDialogs();
  wireConnection();
}

function boot() {
  wire();
  const session = loadSession();
  if (session) startApp(session);
  else showSignIn();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
