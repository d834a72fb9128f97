// Offline notifications (docs/PROTOCOL.md "Offline notifications"): the bell
// in the sidebar's header opens a dialog where the user
//
//   - turns notifications on for this browser: asks Notification
//     permission, subscribes through the service worker's pushManager with
//     the deployment's VAPID public key (config.json `vapidPublicKey`), and
//     registers the subscription over REST (SDK registerDevice); off
//     unsubscribes and removes the device;
//   - sees their devices (kind, endpoint masked) and removes any;
//   - sets the policy the server applies: do-not-disturb, mentions only
//     everywhere, and the open conversation's level (all, mentions, muted);
//   - on the local platform only (config.json `dev`, which chat-local sets
//     and a deployment never does), reads the notification outbox
//     (GET /dev/notifications?userId=): what the push service would have
//     delivered, shown as the system would, newest first; choosing one
//     opens its room. Headless or de-Googled browsers have no push service:
//     there the dialog says so and offers to register a subscription of the
//     real shape (a P-256 key pair and auth secret made with WebCrypto) whose
//     notifications land only in that outbox.
//
// Every failure is shown in the dialog in plain words, never swallowed.
import { $, el, icon, showError } from './dom.js';
import { nameOf, roomTitle, ui } from './state.js';
import { openRoom } from './conversation.js';

const POLL_MS = 2000;
/** A public https host the server accepts; the outbox never calls it. */
const OUTBOX_ENDPOINT = 'https://push.example.com/chat-local-outbox/';

let config = null;   // {vapidPublicKey, dev}
let policy = null;   // the server's NotifyPolicy, as last read
let devices = [];    // DeviceView[]
let outbox = [];     // the user's notifications, newest first, one per (room, seq)
let poll = null;
let pushProblem = ''; // why this browser cannot subscribe (shown with the outbox fallback)

const storeKey = () => `chat.notify.device.${ui.session.userId}`;
const seenKey = () => `chat.notify.seen.${ui.session.userId}`;
/** This browser's device: {deviceId, via: 'push'|'outbox'}, or null. */
function thisDevice() {
  try { return JSON.parse(localStorage.getItem(storeKey()) || 'null'); } catch { return null; }
}

// ------------------------------------------------------------- encoding

function fromB64url(s) {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}
function toB64url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** An endpoint as shown: its host and the end of its path. */
export function maskEndpoint(device) {
  if (device.kind !== 'webpush') return device.endpoint; // the server shows `fcm:dQw4w9Wg…`
  try {
    const u = new URL(device.endpoint);
    const tail = u.pathname.replace(/\/+$/, '').slice(-6);
    return `${u.host}/…${tail}`;
  } catch {
    return '…';
  }
}

const KIND = { webpush: 'Web browser', fcm: 'Android (FCM)', apns: 'Apple (APNs)' };

// ------------------------------------------------------------ subscribing

/** Why a rejected subscribe() happened, in the user's words. */
function subscribeProblem(e) {
  const why = e && e.message ? ` (${e.name}: ${e.message})` : '';
  if (e && e.name === 'NotAllowedError') {
    return `The browser refused to subscribe to push: notifications are not allowed for this site${why}.`;
  }
  if (e && e.name === 'AbortError') {
    return `This browser could not register with a push service (private windows, headless browsers and some builds have none), so it cannot receive notifications while the app is closed${why}.`;
  }
  return `Subscribing to push failed${why || ''}.`;
}

function setBusy(on) {
  for (const b of $('notify-dialog').querySelectorAll('button.notify-action')) b.disabled = on;
}

/** Runs one of the dialog's actions: buttons off meanwhile, its failure shown, then everything read again. */
async function act(action) {
  showError($('notify-error'), '');
  setBusy(true);
  try {
    await action();
  } catch (e) {
    showError($('notify-error'), e.message);
  } finally {
    setBusy(false);
    await refresh();
  }
}

async function enable() {
  pushProblem = '';
  if (!config.vapidPublicKey) throw new Error('This deployment does not offer notifications.');
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    pushProblem = 'This browser does not support push notifications.';
    throw new Error(pushProblem);
  }
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    throw new Error(permission === 'denied'
      ? 'Notifications are blocked for this site. Allow them in the browser’s site settings, then turn them on again.'
      : 'You did not allow notifications, so they stay off.');
  }
  const reg = await navigator.serviceWorker.ready;
  let sub;
  try {
    sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromB64url(config.vapidPublicKey) });
  } catch (e) {
    pushProblem = subscribeProblem(e);
    throw new Error(pushProblem);
  }
  const json = sub.toJSON();
  let device;
  try {
    device = await ui.client.rest.registerDevice({ endpoint: json.endpoint, keys: json.keys });
  } catch (e) {
    await sub.unsubscribe().catch(() => {}); // not kept by the browser either: the server refused it
    throw new Error(`The server did not register this browser: ${e.message}`);
  }
  localStorage.setItem(storeKey(), JSON.stringify({ deviceId: device.deviceId, via: 'push' }));
}

/**
 * Local platform only: a subscription of the real shape (an uncompressed
 * P-256 public key and a 16-byte auth secret, made here with WebCrypto) at
 * an endpoint nobody serves: the server encrypts to it as to any browser,
 * and chat-local's outbox keeps what it would have sent.
 */
async function enableOutbox() {
  const pair = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
  const p256dh = toB64url(await crypto.subtle.exportKey('raw', pair.publicKey));
  const auth = toB64url(crypto.getRandomValues(new Uint8Array(16)));
  const id = toB64url(crypto.getRandomValues(new Uint8Array(12)));
  let device;
  try {
    device = await ui.client.rest.registerDevice({ endpoint: `${OUTBOX_ENDPOINT}${id}`, keys: { p256dh, auth } });
  } catch (e) {
    throw new Error(`The server did not register the outbox device: ${e.message}`);
  }
  localStorage.setItem(storeKey(), JSON.stringify({ deviceId: device.deviceId, via: 'outbox' }));
  pushProblem = '';
}

async function disable() {
  const mine = thisDevice();
  try {
    if ('serviceWorker' in navigator && 'PushManager' in window) {
      const reg = await navigator.serviceWorker.getRegistration();
      const sub = reg && (await reg.pushManager.getSubscription());
      if (sub && !(await sub.unsubscribe())) throw new Error('the browser did not end its push subscription');
    }
    if (mine) await removeDevice(mine.deviceId);
  } catch (e) {
    throw new Error(`Could not turn notifications off: ${e.message}`);
  }
  localStorage.removeItem(storeKey());
}

async function removeDevice(deviceId) {
  await ui.client.rest.removeDevice(deviceId);
  const mine = thisDevice();
  if (mine && mine.deviceId === deviceId) localStorage.removeItem(storeKey());
}

// ----------------------------------------------------------------- policy

const dndOn = (p) => p.dnd.mode === 'on' || (p.dnd.mode === 'until' && p.dnd.until > Date.now());

async function putPolicy(changes) {
  showError($('notify-error'), '');
  try {
    const next = { ...policy, ...changes };
    policy = await ui.client.rest.call('PUT', '/users/me/notifications', {
      dnd: next.dnd, mentionsOnly: next.mentionsOnly, mentionsOnlyRooms: next.mentionsOnlyRooms,
      mutedRooms: next.mutedRooms, mutedUsers: next.mutedUsers,
    });
    ui.muted = new Set(policy.mutedUsers);
  } catch (e) {
    showError($('notify-error'), `Could not save your notification settings: ${e.message}`);
  }
  renderPolicy();
}

async function setRoomLevel(roomId, level) {
  showError($('notify-error'), '');
  try {
    policy = await ui.client.rest.call('PUT', `/rooms/${encodeURIComponent(roomId)}/notifications`, { level });
    ui.muted = new Set(policy.mutedUsers);
  } catch (e) {
    showError($('notify-error'), `Could not change this conversation’s notifications: ${e.message}`);
  }
  renderPolicy();
}

function roomLevel(roomId) {
  if (policy.mutedRooms.includes(roomId)) return 'muted';
  if (policy.mentionsOnlyRooms.includes(roomId)) return 'mentions';
  return 'all';
}

// ----------------------------------------------------------------- outbox

/** The user's outbox, newest first, one entry per message notified. */
async function loadOutbox() {
  const res = await fetch(`/dev/notifications?userId=${encodeURIComponent(ui.session.userId)}`, { cache: 'no-store' });
  if (!res.ok) throw new Error(`the outbox answered ${res.status}`);
  const { notifications } = await res.json();
  const seen = new Set();
  const list = [];
  for (const n of notifications) {
    const key = `${n.roomId}/${n.seq}`;
    if (seen.has(key)) continue; // one per device: show each once
    seen.add(key);
    list.push(n);
  }
  return list.reverse();
}

function renderBadge() {
  const bell = $('notify-button');
  let fresh = 0;
  if (config && config.dev) fresh = Math.max(0, outbox.length - Number(localStorage.getItem(seenKey()) || 0));
  const badge = bell.querySelector('.notify-badge');
  badge.textContent = fresh ? String(fresh) : '';
  badge.hidden = !fresh;
  bell.setAttribute('aria-label', fresh ? `Notifications, ${fresh} new` : 'Notifications');
}

async function refreshOutbox() {
  if (!config || !config.dev || !ui.session) return;
  try {
    outbox = await loadOutbox();
    showError($('notify-outbox-error'), '');
  } catch (e) {
    showError($('notify-outbox-error'), `Could not read the local outbox: ${e.message}`);
  }
  if ($('notify-dialog').open) localStorage.setItem(seenKey(), String(outbox.length));
  renderOutbox();
  renderBadge();
  loadSenderNames();
}

/** Senders the client has no name for yet (the page just opened): read their profiles, then redraw. */
async function loadSenderNames() {
  const unknown = new Set(outbox.map((n) => n.senderId).filter((id) => !ui.client.user(id).displayName));
  if (!unknown.size) return;
  await Promise.all([...unknown].map(async (id) => {
    try {
      ui.client.user(id).displayName = (await ui.client.rest.user(id)).displayName;
    } catch { /* shown by user id, as everywhere a profile is unreadable */ }
  }));
  renderOutbox();
}

function renderOutbox() {
  const list = $('notify-outbox-list');
  if (!list) return;
  list.replaceChildren(...outbox.map((n) => {
    const room = ui.client && ui.client.rooms.get(n.roomId);
    const count = Number(n.count) || 1;
    const text = typeof n.body === 'string' ? n.body : count > 1 ? `${count} new messages` : 'New message';
    return el('li', {},
      el('button', {
        type: 'button', class: 'notify-notice', testid: 'notify-outbox-item',
        dataset: { roomId: n.roomId, seq: n.seq, count },
        onclick: () => {
          $('notify-dialog').close();
          if (ui.client.rooms.has(n.roomId)) openRoom(n.roomId);
          else showError($('notify-error'), 'That conversation is not one of yours any more.');
        },
      },
      el('span', { class: 'notify-notice-app', text: room ? roomTitle(room) : 'Chat' }),
      el('span', { class: 'notify-notice-title', testid: 'notify-outbox-sender', text: nameOf(n.senderId) }),
      el('span', { class: 'notify-notice-body', testid: 'notify-outbox-text', text })));
  }));
  $('notify-outbox-empty').hidden = outbox.length > 0;
}

// ----------------------------------------------------------------- render

function renderState() {
  const mine = thisDevice();
  const registered = mine && devices.some((d) => d.deviceId === mine.deviceId);
  $('notify-status').textContent = registered
    ? mine.via === 'outbox'
      ? 'On: this browser’s notifications go to the local outbox below.'
      : 'On: this browser shows notifications while the app is closed.'
    : 'Off in this browser.';
  $('notify-enable').hidden = Boolean(registered);
  $('notify-disable').hidden = !registered;
  $('notify-outbox-fallback').hidden = !(config.dev && !registered && pushProblem);
}

function renderDevices() {
  const mine = thisDevice();
  $('notify-devices').replaceChildren(...devices.map((d) => {
    const label = `${KIND[d.kind] || d.kind} ${maskEndpoint(d)}`;
    return el('li', { class: 'notify-device', testid: 'notify-device', dataset: { deviceId: d.deviceId, kind: d.kind } },
      el('div', { class: 'notify-device-info' },
        el('span', { class: 'notify-device-kind', text: KIND[d.kind] || d.kind }),
        mine && mine.deviceId === d.deviceId ? el('span', { class: 'role-pill', text: 'This browser' }) : null,
        el('span', { class: 'notify-device-endpoint', testid: 'notify-device-endpoint', text: maskEndpoint(d) })),
      el('button', {
        type: 'button', class: 'btn btn-sm notify-action', testid: 'notify-device-remove', 'aria-label': `Remove ${label}`,
        onclick: () => act(async () => {
          try { await removeDevice(d.deviceId); } catch (e) { throw new Error(`Could not remove the device: ${e.message}`); }
        }),
      }, 'Remove'));
  }));
  $('notify-devices-empty').hidden = devices.length > 0;
}

function renderPolicy() {
  const box = $('notify-policy');
  box.hidden = !policy;
  if (!policy) return;
  $('notify-dnd').checked = dndOn(policy);
  $('notify-mentions').checked = policy.mentionsOnly;
  const room = ui.currentId ? ui.client.rooms.get(ui.currentId) : null;
  $('notify-room').hidden = !room;
  if (room) {
    $('notify-room-label').textContent = `Notify me in ${roomTitle(room)}`;
    $('notify-room-level').value = roomLevel(room.roomId);
    $('notify-room-level').dataset.roomId = room.roomId;
  }
}

/** Reads devices and policy (and the outbox locally), then redraws. */
async function refresh() {
  try {
    [devices, policy] = await Promise.all([
      ui.client.rest.listDevices().then((l) => l.devices),
      ui.client.rest.call('GET', '/users/me/notifications'),
    ]);
  } catch (e) {
    showError($('notify-error'), `Could not load your notification settings: ${e.message}`);
  }
  renderState();
  renderDevices();
  renderPolicy();
  await refreshOutbox();
}

// ----------------------------------------------------------------- wiring

function buildDialog() {
  const d = el('dialog', { id: 'notify-dialog', class: 'dialog dialog-sm notify-dialog', testid: 'notify-dialog', 'aria-labelledby': 'notify-title' },
    el('div', { class: 'dialog-head' },
      el('h2', { id: 'notify-title', text: 'Notifications' }),
      el('button', { class: 'icon-btn dialog-close', type: 'button', 'aria-label': 'Close', onclick: () => d.close() }, icon('x'))),
    el('div', { class: 'dialog-body' },
      el('p', { class: 'form-error', id: 'notify-error', testid: 'notify-error', role: 'alert', hidden: true }),
      el('section', { class: 'notify-section', 'aria-labelledby': 'notify-browser-title' },
        el('h3', { id: 'notify-browser-title', text: 'This browser' }),
        el('p', { id: 'notify-status', class: 'notify-status', testid: 'notify-status', role: 'status' }),
        el('div', { class: 'notify-buttons' },
          el('button', { type: 'button', class: 'btn btn-primary btn-sm notify-action', id: 'notify-enable', testid: 'notify-enable', onclick: () => act(enable) }, 'Turn on'),
          el('button', { type: 'button', class: 'btn btn-sm notify-action', id: 'notify-disable', testid: 'notify-disable', hidden: true, onclick: () => act(disable) }, 'Turn off'),
          el('button', { type: 'button', class: 'btn btn-sm notify-action', id: 'notify-outbox-fallback', testid: 'notify-outbox-fallback', hidden: true, onclick: () => act(enableOutbox) }, 'Use the local outbox instead'))),
      el('section', { class: 'notify-section', id: 'notify-policy', 'aria-labelledby': 'notify-policy-title', hidden: true },
        el('h3', { id: 'notify-policy-title', text: 'When to notify me' }),
        el('label', { class: 'notify-check' },
          el('input', { type: 'checkbox', id: 'notify-dnd', testid: 'notify-dnd', onchange: (ev) => putPolicy({ dnd: { mode: ev.target.checked ? 'on' : 'off' } }) }),
          'Do not disturb'),
        el('label', { class: 'notify-check' },
          el('input', { type: 'checkbox', id: 'notify-mentions', testid: 'notify-mentions-only', onchange: (ev) => putPolicy({ mentionsOnly: ev.target.checked }) }),
          'Only when someone mentions me'),
        el('div', { class: 'field', id: 'notify-room', hidden: true },
          el('label', { class: 'field-label', id: 'notify-room-label', for: 'notify-room-level' }),
          el('select', { id: 'notify-room-level', testid: 'notify-room-level', onchange: (ev) => setRoomLevel(ev.target.dataset.roomId, ev.target.value) },
            el('option', { value: 'all' }, 'Every message'),
            el('option', { value: 'mentions' }, 'Only mentions'),
            el('option', { value: 'muted' }, 'Nothing (muted)')))),
      el('section', { class: 'notify-section', 'aria-labelledby': 'notify-devices-title' },
        el('h3', { id: 'notify-devices-title', text: 'Your devices' }),
        el('ul', { id: 'notify-devices', class: 'notify-devices', testid: 'notify-devices' }),
        el('p', { id: 'notify-devices-empty', class: 'field-help', text: 'No device receives your notifications.' })),
      config.dev ? el('section', { class: 'notify-section', testid: 'notify-outbox', 'aria-labelledby': 'notify-outbox-title' },
        el('h3', { id: 'notify-outbox-title', text: 'Local notification outbox' }),
        el('p', { class: 'field-help', text: 'What the push service would deliver to your devices (this local platform has none).' }),
        el('p', { class: 'form-error', id: 'notify-outbox-error', role: 'alert', hidden: true }),
        el('ul', { id: 'notify-outbox-list', class: 'notify-outbox-list', testid: 'notify-outbox-list' }),
        el('p', { id: 'notify-outbox-empty', class: 'field-help', text: 'No notifications yet.' })) : null));
  d.addEventListener('click', (ev) => { if (ev.target === d) d.close(); }); // backdrop
  d.addEventListener('close', () => {
    clearInterval(poll);
    poll = null;
    $('notify-button').focus();
  });
  return d;
}

async function openDialog() {
  const d = $('notify-dialog');
  d.showModal();
  if (config.dev) poll = setInterval(refreshOutbox, POLL_MS);
  await refresh();
}

/** The bell in the sidebar's header (before the app has its config). */
export function wireNotifications() {
  const bell = el('button', {
    class: 'icon-btn notify-button', type: 'button', id: 'notify-button', testid: 'notify-button',
    title: 'Notifications', 'aria-label': 'Notifications', 'aria-haspopup': 'dialog', hidden: true,
  }, icon('bell'), el('span', { class: 'notify-badge', 'aria-hidden': 'true', hidden: true }));
  $('new-chat-button').before(bell);
  bell.addEventListener('click', openDialog);
  document.head.append(el('link', { rel: 'stylesheet', href: 'ui/notifications.css' }));
}

/** Signed in: the dialog, and (locally) the outbox's badge, read again on focus. */
export function startNotifications(cfg) {
  config = cfg;
  document.body.append(buildDialog());
  $('notify-button').hidden = false;
  if (config.dev) {
    refreshOutbox();
    window.addEventListener('focus', refreshOutbox);
  }
}
