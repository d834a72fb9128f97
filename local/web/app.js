// Chat web app: the entry point. Sign-in (auth.js: Cognito hosted UI, code
// + PKCE), where the APIs are (config.js), and starting the client; everything the
// protocol decides is in the SDK (@chat-platform/client, served at sdk/),
// everything on screen in ui/:
//
//   ui/state.js        what the UI keeps beside the SDK; names and avatars
//   ui/dom.js          DOM and formatting helpers (the XSS rules live here)
//   ui/live.js         SDK events -> redraws
//   ui/sidebar.js      the conversation list
//   ui/conversation.js the open conversation: header, messages, typing, history
//   ui/composer.js     the message box
//   ui/attachments.js  the attach button; images and files in messages
//   ui/dialogs.js      new conversation, members, add member, leave
//   ui/connection.js   connection status and banner
//   ui/search.js       message search (the search box) and jumping to a result
//   ui/notifications.js the bell: push on/off, devices, policy, the local outbox
//   ui/e2ee-app.js     end-to-end encrypted rooms: device key, sealing, opening, pins
//   ui/e2ee-verify.js  their lock badge, safety number and the new-chat choice
//
// ES modules, no build step, no external resources.
import { ChatClient } from './sdk/index.js';
import { loadConfig as loadRuntimeConfig } from './config.js';
import { Auth } from './auth.js';
import { $, icon, showError, toast } from './ui/dom.js';
import { avatarFor, loadBlocks, ui } from './ui/state.js';
import { renderSidebar } from './ui/sidebar.js';
import { closeRoom, openRoom, renderHeader, roomFromUrl, wireConversation } from './ui/conversation.js';
import { clearDrafts, restoreDrafts, wireComposer, stopTyping } from './ui/composer.js';
import { renderMembers } from './ui/dialogs.js';
import { wireAttachments } from './ui/attachments.js';
import { wireDialogs } from './ui/dialogs.js';
import { setConnState, wireConnection } from './ui/connection.js';
import { wireClient } from './ui/live.js';
import { wireSearch } from './ui/search.js';
import { wireReplies } from './ui/replies.js';
import { wireChanges } from './ui/changes.js';
import { startNotifications, wireNotifications } from './ui/notifications.js';
import { startE2ee } from './ui/e2ee-app.js';
import { wireE2ee } from './ui/e2ee-verify.js';

let config = null;   // config.json, checked (config.js)
let auth = null;     // Auth (auth.js): the tokens

// ---------------------------------------------------------------- session

// With a message: the session ended by itself (refresh refused); back to
// the sign-in page. Without: the user signs out, at the hosted UI too.
function signOut(message) {
  stopTyping();
  if (ui.client) ui.client.close();
  if (!message) { clearDrafts(); auth.signOut(); return; }
  auth.clear();
  sessionStorage.setItem('chat.signin.message', message);
  location.reload();
}

/**
 * The ID token for the SDK: refreshed when due, or at once when the server
 * refused the last one. A refused refresh fires auth's 'expired' (boot()
 * signs out then).
 */
async function getToken({ forceRefresh }) {
  const token = forceRefresh ? await auth.refresh() : await auth.freshToken();
  if (!token) throw new Error('signed out');
  return token;
}

// ----------------------------------------------------------------- config

function loadConfig() {
  return { restUrl: pickRestUrl(config.restUrl), wsUrl: config.wsUrl };
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
    if (!auth) return showError($('signin-error'), msg || 'The app is not configured.');
    btn.disabled = true;
    // The hosted UI sends the browser back to the app's root: keep the
    // deep link it came with.
    if (roomFromUrl()) sessionStorage.setItem('chat.deeplink', location.hash);
    try {
      await auth.signIn();
    } catch (e) {
      btn.disabled = false;
      showError($('signin-error'), e.message);
    }
  });
  $('signin-form').querySelector('button[type=submit]').focus();
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
      if (!ui.session.name) ui.session.name = me.displayName;
    }
    renderMe();
  } catch (e) {
    if (e.status !== 401) toast(`Could not load your profile: ${e.message}`);
  }
}

/**
 * Registers the service worker (sw.js: shows offline notifications and
 * opens their room when clicked) at the app's root scope; a click on a
 * notification while the app is open moves it to that room.
 */
function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('./sw.js', { scope: './' }).catch((e) => console.warn('service worker', e));
  navigator.serviceWorker.addEventListener('message', (e) => {
    if (e.data && e.data.type === 'openRoom' && typeof e.data.roomId === 'string') {
      location.hash = `#/r/${encodeURIComponent(e.data.roomId)}`;
    }
  });
}

async function startApp(session) {
  ui.session = session;
  $('signin').hidden = true;
  $('app').hidden = false;
  setConnState('connecting');
  const { wsUrl, restUrl } = loadConfig();
  registerServiceWorker();
  startNotifications(config);
  auth.start();
  const client = new ChatClient({ wsUrl, restUrl, getToken, userId: session.userId });
  ui.client = client;
  restoreDrafts();
  renderMe();
  wireClient(client);
  // Focus moves from the sign-in page to the app's heading.
  $('app-title').focus();
  await ensureProfile(client);
  startE2ee(client, session.userId);
  await loadBlocks();
  try {
    await client.start();
  } catch (e) {
    toast(`Could not load conversations: ${e.message}`);
  }
  renderSidebar();
  // The URL names the room (a deep link, or the room open before a reload).
  const linked = sessionStorage.getItem('chat.deeplink');
  sessionStorage.removeItem('chat.deeplink');
  if (linked && !roomFromUrl()) history.replaceState(null, '', location.pathname + location.search + linked);
  route('replace');
}

/** Shows what the URL names: a room (if it is one of yours) or the list. */
function route(how) {
  if (!ui.client) return;
  const id = roomFromUrl();
  if (id && ui.client.rooms.has(id)) { if (ui.currentId !== id) openRoom(id, how); }
  else if (id) {
    toast('That conversation is not one of yours (or no longer exists).');
    if (ui.currentId) closeRoom('replace'); else history.replaceState(null, '', location.pathname + location.search);
  } else if (ui.currentId) closeRoom('none');
}

// Others' presence is unknown while we are not connected ourselves.
function presenceShown() {
  renderSidebar();
  renderHeader();
  if ($('members-dialog').open) renderMembers();
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
  wireAttachments();
  wireDialogs();
  wireConnection(presenceShown);
  wireSearch();
  wireReplies();
  wireChanges();
  wireNotifications();
  wireE2ee();
  // Back and Forward move between rooms and the list inside the app.
  window.addEventListener('popstate', () => route('none'));
  $('skip-link').addEventListener('click', (ev) => {
    ev.preventDefault(); // the fragment is the app's route
    const target = ui.currentId ? $('composer-input') : $('main');
    target.focus();
  });
}

async function boot() {
  wire();
  try {
    config = await loadRuntimeConfig();
  } catch (e) {
    return showSignIn(e.message);
  }
  auth = new Auth(config.auth);
  auth.addEventListener('expired', () => signOut('Your session has expired. Sign in again.'));
  try {
    await auth.handleRedirect();
  } catch (e) {
    return showSignIn(e.message);
  }
  const session = auth.session();
  if (session) startApp(session);
  else showSignIn();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
