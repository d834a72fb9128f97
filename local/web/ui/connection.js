// The connection indicator under your name and the "Connection lost" banner
// with its Retry button.
//
// "Online" is shown only when verified: the socket opened and nothing it
// was asked is overdue. The SDK's pong deadline (10 s) covers every ping,
// send and sync; the browser's `offline` event shows "Offline" at once, and
// `online`, a return to the foreground and window focus check the socket
// with a ping. Deadlines (README, "Web app"):
//   - network interface gone (`offline`): shown at once;
//   - a send, or a return to the page: dead sockets shown within 10 s;
//   - idle, visible or not: within 550 s (the 540 s heartbeat + 10 s), the
//     cost-sized ping every API Gateway socket needs inside its 10-minute
//     idle timeout.
import { $ } from './dom.js';
import { ui } from './state.js';

let sdkState = 'connecting';
let verified = true;
let netOnline = typeof navigator === 'undefined' ? true : navigator.onLine !== false;
let onChange = () => {};

/** What the page shows: 'online' | 'checking' | 'connecting' | 'offline'. */
function shown() {
  if (!netOnline) return 'offline';
  if (sdkState === 'online') return verified ? 'online' : 'checking';
  return sdkState;
}

/** The SDK's state: 'online' | 'connecting' | 'offline'. */
export function setConnState(s) {
  sdkState = s;
  if (s !== 'online') verified = true; // a fresh socket starts verified by its handshake
  apply();
}

function apply() {
  const s = shown();
  const before = ui.conn;
  ui.conn = s === 'online' ? 'online' : s;
  const status = $('me-status');
  status.dataset.state = s;
  status.textContent = { online: 'Online', checking: 'Checking connection…', connecting: 'Connecting…', offline: 'Offline' }[s];
  updateBanner();
  if ((before === 'online') !== (ui.conn === 'online')) onChange();
}

export function updateBanner() {
  const banner = $('conn-banner');
  const s = $('me-status').dataset.state;
  if (s === 'online' || s === 'checking' || (!ui.everConnected && s === 'connecting' && netOnline)) { banner.hidden = true; return; }
  banner.hidden = false;
  let text;
  if (!netOnline) text = 'You are offline. Messages you write are sent when the network is back.';
  else if (s === 'connecting') text = 'Reconnecting…';
  else {
    const secs = Math.max(0, Math.ceil((ui.retryAt - Date.now()) / 1000));
    text = `Connection lost. Reconnecting in ${secs}s…`;
  }
  if ($('conn-banner-text').textContent !== text) $('conn-banner-text').textContent = text;
}

/**
 * `changed` runs when the page goes from online to not (or back): others'
 * presence turns unknown while we are not connected.
 */
export function wireConnection(changed) {
  onChange = changed || onChange;
  $('conn-retry').addEventListener('click', () => ui.client && ui.client.reconnectNow());
  window.addEventListener('offline', () => {
    netOnline = false;
    apply();
    if (ui.client) ui.client.checkAlive();
  });
  // Back on a network: reconnect now if offline, else check the socket
  // survived (a dead one never says so by itself).
  window.addEventListener('online', () => {
    netOnline = true;
    apply();
    if (ui.client) { ui.client.reconnectNow(); ui.client.checkAlive(); }
  });
  window.addEventListener('focus', () => { if (ui.client) ui.client.checkAlive(); });
  setInterval(() => { if (document.visibilityState === 'visible') updateBanner(); }, 1000);
}

/** Wires the SDK's liveness: unverified while a frame awaits its answer for long. */
export function wireLiveness(client) {
  let slow = null;
  client.on('liveness', ({ verified: v }) => {
    if (slow) { clearTimeout(slow); slow = null; }
    if (v) { verified = true; apply(); return; }
    // A send awaits its ack for a moment every time: only say "Checking"
    // once it is slower than a healthy round trip.
    slow = setTimeout(() => { slow = null; if (client.awaitingReply) { verified = false; apply(); } }, 1500);
  });
}
