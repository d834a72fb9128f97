// Dialogs: start a conversation (direct, group, channel, browse channels),
// add a member, the member list, and leaving a room.
import { $, dateFmt, el, hashHue, icon, showError, srOnly, toast } from './dom.js';
import { avatarFor, BAD_USER_ID, currentRoom, me, nameOf, PRESENCE_LABEL, presenceOf, roomTitle, ui, USER_ID_RE } from './state.js';
import { closeRoom, openRoom, renderHeader, renderMessages } from './conversation.js';
import { e2eeChoice } from './e2ee-verify.js';

export function openNewChat(kind) {
  const d = $('new-chat-dialog');
  for (const id of ['new-chat-user', 'new-chat-name', 'new-chat-members']) $(id).value = '';
  showError($('new-chat-error'), '');
  setNewChatKind(kind || 'direct');
  if (!d.open) d.showModal();
  // Focus starts in the first field (the tab list is one Tab away).
  const first = ui.newChatKind === 'direct' ? $('new-chat-user') : ui.newChatKind === 'browse' ? d.querySelector('.tab[aria-selected="true"]') : $('new-chat-name');
  first.focus();
}

function setNewChatKind(kind) {
  ui.newChatKind = kind;
  const d = $('new-chat-dialog');
  for (const tab of d.querySelectorAll('.tab')) {
    const on = tab.dataset.kind === kind;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1; // roving tabindex: Tab enters the list at the selected tab
    if (on) $('new-chat-form').setAttribute('aria-labelledby', tab.id);
  }
  for (const node of d.querySelectorAll('[data-for]')) node.hidden = !node.dataset.for.split(' ').includes(kind);
  showError($('new-chat-error'), '');
  $('new-chat-submit').textContent = kind === 'direct' ? 'Start chat' : kind === 'group' ? 'Create group' : 'Create channel';
  if (kind === 'browse') loadChannels();
}

/**
 * Looks each id up (GET /users/{id}): a user who never signed in has no
 * profile, and adding them would silently add no one. Returns the unknown ids.
 */
async function unknownUsers(ids) {
  const unknown = [];
  for (const id of ids) {
    try {
      const p = await ui.client.rest.user(id);
      const u = ui.client.user(id);
      if (p.displayName) u.displayName = p.displayName;
    } catch (e) {
      if (e.status === 404) unknown.push(id);
      else throw e;
    }
  }
  return unknown;
}

const noSuchUsers = (ids) => (ids.length === 1
  ? `There is no user "${ids[0]}". Check the id: it is the handle under their name, e.g. bob.`
  : `There are no users ${ids.map((i) => `"${i}"`).join(', ')}. Check the ids.`);

function parseIds(raw) {
  return Array.from(new Set(raw.split(/[\s,;]+/).map((s) => s.trim().replace(/^@/, '')).filter(Boolean)));
}

async function submitNewChat(ev) {
  ev.preventDefault();
  const kind = ui.newChatKind;
  if (kind === 'browse') return;
  const err = $('new-chat-error');
  let members;
  let name;
  if (kind === 'direct') {
    const other = $('new-chat-user').value.trim().replace(/^@/, '');
    if (!other) return showError(err, 'Enter the user id of the person to chat with.');
    if (!USER_ID_RE.test(other)) return showError(err, BAD_USER_ID);
    if (other === me()) return showError(err, 'That is you. Pick someone else.');
    members = [other];
  } else {
    name = $('new-chat-name').value.trim();
    if (!name) return showError(err, 'Give it a name.');
    members = parseIds($('new-chat-members').value);
    const bad = members.find((id) => !USER_ID_RE.test(id));
    if (bad !== undefined) return showError(err, `"${bad}": ${BAD_USER_ID}`);
  }
  const submit = $('new-chat-submit');
  submit.disabled = true;
  try {
    const unknown = await unknownUsers(members);
    if (unknown.length) { showError(err, noSuchUsers(unknown)); return; }
    const encrypted = kind === 'direct' && e2eeChoice().checked;
    const room = await ui.client.createRoom(kind, members, name, { encrypted });
    $('new-chat-dialog').close();
    openRoom(room.roomId);
  } catch (e) {
    showError(err, e.message);
  } finally {
    submit.disabled = false;
  }
}

async function loadChannels() {
  const list = $('channel-list');
  list.replaceChildren(el('li', { class: 'list-empty', text: 'Loading channels…' }));
  try {
    const { channels } = await ui.client.rest.channels(50);
    list.replaceChildren();
    if (channels.length === 0) {
      list.append(el('li', { class: 'list-empty', text: 'No public channels yet. Create one!' }));
      return;
    }
    for (const c of channels) {
      const joined = ui.client.rooms.has(c.roomId);
      const btn = el('button', {
        type: 'button', class: `btn btn-sm${joined ? '' : ' btn-primary'}`, testid: 'channel-join',
        onclick: () => (joined ? ($('new-chat-dialog').close(), openRoom(c.roomId)) : joinChannel(c.roomId, btn)),
      }, joined ? 'Open' : 'Join', srOnly(` ${c.name || c.roomId}`));
      list.append(el('li', { class: 'channel-row', testid: 'channel-item', dataset: { roomId: c.roomId } },
        el('span', { class: `avatar square avatar-md av-${hashHue(c.roomId)}`, 'aria-hidden': 'true' }, icon('hash')),
        el('div', { class: 'row-info' },
          el('div', { class: 'row-title', text: c.name || c.roomId }),
          el('div', { class: 'row-sub', text: `Created ${dateFmt.format(c.createdAt)}` })),
        btn));
    }
  } catch (e) {
    list.replaceChildren(el('li', { class: 'list-empty', text: `Could not load channels: ${e.message}` }));
  }
}

async function joinChannel(roomId, btn) {
  btn.disabled = true;
  try {
    await ui.client.addMember(roomId);
    $('new-chat-dialog').close();
    openRoom(roomId);
  } catch (e) {
    showError($('new-chat-error'), e.message);
    btn.disabled = false;
  }
}

async function submitAddMember(ev) {
  ev.preventDefault();
  const room = currentRoom();
  const userId = $('add-member-input').value.trim().replace(/^@/, '');
  const err = $('add-member-error');
  if (!room) return;
  if (!userId) return showError(err, 'Enter a user id.');
  if (!USER_ID_RE.test(userId)) return showError(err, BAD_USER_ID);
  if (room.members.has(userId)) return showError(err, `${nameOf(userId)} is already in ${roomTitle(room)}.`);
  try {
    const unknown = await unknownUsers([userId]);
    if (unknown.length) return showError(err, noSuchUsers(unknown));
    await ui.client.addMember(room.roomId, userId);
    $('add-member-dialog').close();
    toast(`Added ${nameOf(userId)} to ${roomTitle(room)}.`, 'info');
    renderHeader();
  } catch (e) {
    showError(err, e.message);
  }
}

export function renderMembers() {
  const room = currentRoom();
  const list = $('member-list');
  list.replaceChildren();
  if (!room) return;
  const ids = Array.from(room.members.keys()).sort((a, b) => {
    const on = (id) => (presenceOf(id) === 'online' ? 0 : 1);
    return on(a) - on(b) || nameOf(a).localeCompare(nameOf(b));
  });
  for (const id of ids) {
    const presence = presenceOf(id);
    const a = avatarFor(id, 'avatar-md');
    a.append(el('span', { class: 'presence-dot', dataset: { status: presence } }));
    const label = presence === 'unknown' ? 'Presence unknown' : PRESENCE_LABEL[presence];
    const m = room.members.get(id);
    list.append(el('li', { class: 'member-row', testid: 'member-item', dataset: { userId: id, presence } },
      a,
      el('div', { class: 'row-info' },
        el('div', { class: 'row-title', text: id === me() ? `${nameOf(id)} (you)` : nameOf(id) }),
        el('div', { class: 'row-sub', text: `@${id} · ${label}` })),
      m && m.role === 'owner' ? el('span', { class: 'role-pill', text: 'Owner' }) : null,
      id === me() ? null : muteButton(id),
      id === me() ? null : blockButton(id)));
  }
}

// Mute or unmute a member: their messages notify you nowhere.
function muteButton(id) {
  const muted = ui.muted.has(id);
  return el('button', {
    type: 'button', class: 'member-block', testid: muted ? 'unmute-user' : 'mute-user',
    'aria-label': `${muted ? 'Unmute' : 'Mute'} notifications from ${nameOf(id)}`,
    onclick: async () => {
      try {
        const policy = muted ? await ui.client.rest.unmute(id) : await ui.client.rest.mute(id);
        ui.muted = new Set(policy.mutedUsers);
      } catch (e) {
        toast(e.message);
      }
      renderMembers();
    },
  }, muted ? 'Unmute' : 'Mute');
}

// Block or unblock a member: no direct messages, presence or typing either
// way, no notifications of theirs; in shared groups their messages are
// hidden behind a row you can open (conversation.js).
function blockButton(id) {
  const blocked = ui.blocked.has(id);
  return el('button', {
    type: 'button', class: 'member-block', testid: blocked ? 'unblock-user' : 'block-user',
    'aria-label': `${blocked ? 'Unblock' : 'Block'} ${nameOf(id)}`,
    onclick: async () => {
      if (!blocked && !confirm(`Block ${nameOf(id)}? They cannot message you directly, and you will not see each other's presence or typing.`)) return;
      try {
        if (blocked) { await ui.client.rest.unblock(id); ui.blocked.delete(id); }
        else { await ui.client.rest.block(id); ui.blocked.add(id); }
        toast(blocked ? `${nameOf(id)} unblocked` : `${nameOf(id)} blocked`);
      } catch (e) {
        toast(e.message);
      }
      renderMembers();
      renderMessages();
      // Presence across a block reads offline: ask the room again.
      const room = currentRoom();
      if (room) ui.client.loadRoom(room.roomId).then(() => { renderHeader(); renderMembers(); }).catch(() => {});
    },
  }, blocked ? 'Unblock' : 'Block');
}

async function leaveCurrent() {
  const room = currentRoom();
  if (!room) return;
  if (!confirm(`Leave ${roomTitle(room)}?`)) return;
  try {
    await ui.client.removeMember(room.roomId);
    closeRoom();
  } catch (e) {
    toast(e.message);
  }
}

export function wireDialogs() {
  $('new-chat-button').addEventListener('click', () => openNewChat('direct'));
  $('empty-new-chat').addEventListener('click', () => openNewChat('direct'));
  // WAI-ARIA tabs: arrows move between tabs (and select: automatic
  // activation), Home/End jump to the ends.
  const tabs = Array.from(document.querySelectorAll('#new-chat-dialog .tab'));
  for (const tab of tabs) {
    tab.addEventListener('click', () => setNewChatKind(tab.dataset.kind));
    tab.addEventListener('keydown', (ev) => {
      const i = tabs.indexOf(tab);
      const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[ev.key];
      if (to === undefined) return;
      ev.preventDefault();
      const next = tabs[(to + tabs.length) % tabs.length];
      setNewChatKind(next.dataset.kind);
      next.focus();
    });
  }
  $('new-chat-form').addEventListener('submit', submitNewChat);
  $('add-member-form').addEventListener('submit', submitAddMember);
  $('add-member-button').addEventListener('click', () => {
    $('add-member-input').value = '';
    showError($('add-member-error'), '');
    $('add-member-dialog').showModal();
  });
  $('members-button').addEventListener('click', () => {
    const room = currentRoom();
    $('members-title').textContent = room ? `Members of ${roomTitle(room)}` : 'Members';
    renderMembers();
    $('members-dialog').showModal();
    if (room) ui.client.loadRoom(room.roomId).then(renderMembers).catch(() => {});
  });
  $('leave-button').addEventListener('click', leaveCurrent);
  for (const b of document.querySelectorAll('[data-close]')) {
    b.addEventListener('click', () => b.closest('dialog').close());
  }
  for (const d of document.querySelectorAll('dialog')) {
    d.addEventListener('click', (ev) => { if (ev.target === d) d.close(); }); // backdrop
  }
}
