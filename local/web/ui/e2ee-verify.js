// What an encrypted direct room shows of its encryption: the lock badge in
// the header (flagged when a verified person's keys changed since), the
// "Safety number" button and its dialog (the 60-digit number both people
// compare, ui/e2ee.js safetyNumber, the same as the Rust client's; "Mark as
// verified" pins it), and the "End-to-end encrypted" choice of the new
// direct message dialog. Its elements are made here, so index.html stays as
// it is.
import { $, el, icon } from './dom.js';
import { currentRoom, me, nameOf, peerOf, ui } from './state.js';
import { safetyNumber } from './e2ee.js';
import { isEncrypted, keysOf, markVerified, onKeysUpdate, pinOf } from './e2ee-app.js';

function badge() {
  let b = $('e2ee-badge');
  if (!b) {
    b = el('span', { id: 'e2ee-badge', class: 'e2ee-badge', testid: 'e2ee-badge', hidden: true });
    $('room-subtitle').after(b);
  }
  return b;
}

function verifyButton() {
  let b = $('safety-button');
  if (!b) {
    b = el('button', {
      id: 'safety-button', type: 'button', class: 'btn btn-sm e2ee-safety-btn', testid: 'safety-button',
      'aria-haspopup': 'dialog', hidden: true, onclick: () => openSafety(),
    }, 'Safety number');
    document.querySelector('.room-actions').prepend(b);
  }
  return b;
}

/** The header's encryption badge and button for the open room. */
export function renderE2eeHeader(room) {
  const b = badge();
  const btn = verifyButton();
  const on = isEncrypted(room);
  b.hidden = !on;
  btn.hidden = !on;
  if (!on) return;
  const peer = peerOf(room);
  const pin = peer ? pinOf(peer) : null;
  const state = pin && pin.changedAfterVerify ? 'changed' : pin && pin.verified ? 'verified' : 'encrypted';
  b.dataset.state = state;
  b.replaceChildren(icon('lock'), state === 'changed'
    ? `Encrypted · ${nameOf(peer)}'s keys changed: verify again`
    : state === 'verified' ? 'Encrypted · Verified' : 'End-to-end encrypted');
}

// ------------------------------------------------------------ the dialog

function dialog() {
  let d = $('safety-dialog');
  if (d) return d;
  d = el('dialog', { id: 'safety-dialog', class: 'dialog dialog-sm', testid: 'safety-dialog', 'aria-labelledby': 'safety-title', 'aria-describedby': 'safety-help' },
    el('div', { class: 'dialog-head' },
      el('h2', { id: 'safety-title', text: 'Safety number' }),
      el('button', { type: 'button', class: 'icon-btn dialog-close', 'aria-label': 'Close', onclick: () => d.close() }, '✕')),
    el('div', { class: 'dialog-body' },
      el('p', { id: 'safety-help', class: 'field-help' }),
      el('p', { id: 'safety-number', class: 'safety-number', testid: 'safety-number', role: 'group', 'aria-label': 'Safety number' }),
      el('p', { id: 'safety-status', class: 'safety-status', testid: 'safety-status', role: 'status' }),
      el('div', { class: 'dialog-foot' },
        el('button', { type: 'button', class: 'btn', onclick: () => d.close() }, 'Close'),
        el('button', { type: 'button', id: 'safety-verify', class: 'btn btn-primary', testid: 'safety-verify' }, 'Mark as verified'))));
  d.addEventListener('click', (ev) => { if (ev.target === d) d.close(); });
  document.body.append(d);
  return d;
}

/** Opens the safety-number dialog of the open room, with fresh keys. */
export async function openSafety() {
  const room = currentRoom();
  const peer = room && peerOf(room);
  if (!peer) return;
  const d = dialog();
  const number = $('safety-number');
  const status = $('safety-status');
  const verify = $('safety-verify');
  $('safety-title').textContent = `Safety number with ${nameOf(peer)}`;
  $('safety-help').textContent = `Compare this number with the one ${nameOf(peer)} sees, in person or on a call. If they match, nobody is reading along.`;
  number.replaceChildren('Loading…');
  delete number.dataset.number;
  status.textContent = '';
  verify.disabled = true;
  if (!d.open) d.showModal();
  try {
    const [mine, theirs] = [await keysOf(me(), true), await keysOf(peer, true)];
    const digits = await safetyNumber(me(), mine.devices.map((k) => k.publicKey), peer, theirs.devices.map((k) => k.publicKey));
    number.dataset.number = digits;
    const groups = digits.split(' ');
    number.replaceChildren(...[0, 4, 8].map((i) => el('span', { class: 'safety-row', text: groups.slice(i, i + 4).join(' ') })));
    const pin = pinOf(peer);
    const verified = pin && pin.verified && pin.fingerprint === theirs.fingerprint;
    status.textContent = verified ? `You verified ${nameOf(peer)}.` : pin && pin.changedAfterVerify ? `${nameOf(peer)}'s keys changed since you verified them.` : `Not verified yet.`;
    verify.disabled = !!verified || !theirs.devices.length;
    verify.onclick = () => {
      markVerified(peer, theirs.fingerprint);
      status.textContent = `You verified ${nameOf(peer)}.`;
      verify.disabled = true;
      d.querySelector('.dialog-foot .btn').focus();
    };
    (verify.disabled ? d.querySelector('.dialog-foot .btn') : verify).focus();
  } catch (e) {
    number.replaceChildren('');
    status.textContent = `Could not read the keys: ${e.message}`;
  }
}

// ------------------------------------------------------ new direct chat

/** The "End-to-end encrypted" checkbox of the new-chat dialog (direct only). */
export function e2eeChoice() {
  let box = $('new-chat-e2ee');
  if (!box) {
    box = el('input', { id: 'new-chat-e2ee', type: 'checkbox', testid: 'new-chat-e2ee' });
    const label = el('label', { class: 'field field-check', dataset: { for: 'direct' } },
      box, el('span', null, 'End-to-end encrypted'),
      el('span', { class: 'field-help', text: 'Only you and they can read it, files included: not the server.' }));
    $('new-chat-error').before(label);
  }
  return box;
}

export function wireE2ee() {
  e2eeChoice();
  onKeysUpdate(() => { const room = currentRoom(); if (room) renderE2eeHeader(room); });
  // The choice starts unticked each time the dialog opens.
  $('new-chat-button').addEventListener('click', () => { e2eeChoice().checked = false; });
}
