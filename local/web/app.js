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
//
// ES modules, no build step, no external resources.
import { ChatClient } from './sdk/index.js';
import { loadConfig as loadRuntimeConfig } from './config.js';
import { Auth } from './auth.js';
import { $, icon, showError, toast } from './ui/dom.js';
import { avatarFor, ui } from './ui/state.js';
import { renderSidebar } from './ui/sidebar.js';
import { wireConversation } from './ui/conversation.js';
import { wireComposer, stopTyping } from './ui/composer.js';
import { wireAttachments } from './ui/attachments.js';
import { wireDialogs } from './ui/dialogs.js';
import { setConnState, wireConnection } from './ui/connection.js';
import { wireClient } from './ui/live.js';

let config = null;   // config.json, checked (config.js)
let auth = null;     // Auth (auth.js): the tokens

// ---------------------------------------------------------------- session

// With a message: the session ended by itself (refresh refused); back to
// the sign-in page. Without: the user signs out, at the hosted UI too.
function signOut(message) {
  stopTyping();
  if (ui.client) ui.client.close();
  if (!message) { auth.signOut(); return; }
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

async function startApp(session) {
  ui.session = session;
  $('signin').hidden = true;
  $('app').hidden = false;
  setConnState('connecting');
  const { wsUrl, restUrl } = loadConfig();
  auth.start();
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
  wireAttachments();
  wireDialogs();
  wireConnection();
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
