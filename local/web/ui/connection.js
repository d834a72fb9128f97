// The connection indicator under your name and the "Connection lost" banner
// with its Retry button.
import { $ } from './dom.js';
import { ui } from './state.js';

export function setConnState(s) {
  const status = $('me-status');
  status.dataset.state = s;
  status.textContent = s === 'online' ? 'Online' : s === 'connecting' ? 'Connecting…' : 'Offline';
  updateBanner();
}

export function updateBanner() {
  const banner = $('conn-banner');
  const s = $('me-status').dataset.state;
  if (s === 'online' || (!ui.everConnected && s === 'connecting')) { banner.hidden = true; return; }
  banner.hidden = false;
  if (s === 'connecting') $('conn-banner-text').textContent = 'Reconnecting…';
  else {
    const secs = Math.max(0, Math.ceil((ui.retryAt - Date.now()) / 1000));
    $('conn-banner-text').textContent = `Connection lost. Reconnecting in ${secs}s…`;
  }
}

export function wireConnection() {
  $('conn-retry').addEventListener('click', () => ui.client && ui.client.reconnectNow());
  // Back on a network: reconnect now if offline, else check the socket
  // survived (a dead one never says so by itself).
  window.addEventListener('online', () => { if (ui.client) { ui.client.reconnectNow(); ui.client.checkAlive(); } });
  setInterval(() => { if (document.visibilityState === 'visible') updateBanner(); }, 1000);
}
