// Browser tests of the web app as a product (issue "The web app as a
// product"): connection truth, accessibility (axe-core, WCAG 2.1 AA, in
// every view), message states, incremental rendering with 2,000 messages,
// deep links and persistence, and everyday features.
//
//   npm test --prefix local/web-tests
//
// These test what the page does, against the plain local platform (rate
// limits raised so 2,000 messages seed in seconds); chat.test.mjs runs the
// flow against a synthesized template too. Env: as harness.mjs.

import { test as nodeTest, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  launchBrowser, messageWithBody, newUser, send, signIn, startServer, STEP_MS, teardown, waitForAttr,
} from './harness.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
// The documented deadlines (README, "Web app"): a send on a dead socket is
// noticed within the SDK's pong deadline.
const PONG_DEADLINE_MS = 10_000;
const SEED = 2_000;

// They ignore the template: in the template-mode run of the suite they are
// skipped (chat.test.mjs is what runs on it), not run a second time.
const SKIP = process.env.CHAT_LOCAL_TEMPLATE ? 'run once, on the plain platform' : false;
const test = (name, opts, fn) => nodeTest(name, { ...opts, skip: SKIP }, fn);

let server = null;
let alice = null;
let bob = null;
let direct = null; // alice and bob's room id

before(async () => {
  if (SKIP) return;
  const fast = '100000';
  server = await startServer({
    template: false,
    env: {
      CHAT_RATE_MSG_CONN_PER_SEC: fast, CHAT_RATE_MSG_CONN_BURST: fast,
      CHAT_RATE_MSG_USER_PER_SEC: fast, CHAT_RATE_MSG_USER_BURST: fast,
      CHAT_RATE_REST_PER_SEC: fast, CHAT_RATE_REST_BURST: fast,
    },
  });
  await launchBrowser();
  alice = await newUser('Alice', { controlSockets: true });
  bob = await newUser('Bob', { controlSockets: true });
  // The sign-in page first: no violations, light and dark.
  await alice.page.getByTestId('signin-submit').waitFor();
  await assertNoViolations(alice.page, 'sign-in');
  await alice.page.emulateMedia({ colorScheme: 'dark' });
  await assertNoViolations(alice.page, 'sign-in, dark');
  await alice.page.emulateMedia({ colorScheme: 'light' });
  await signIn(alice, 'Alice');
  // Focus moved from the sign-in page into the app, not dropped on the body.
  assert.equal(await alice.page.evaluate(() => document.activeElement.id), 'app-title');
  await signIn(bob, 'Bob');
});
after(teardown);

/** axe-core's WCAG 2.1 A/AA rules on the page as it is: no violations. */
async function assertNoViolations(page, view) {
  // Evaluated by the devtools protocol: the app's CSP (script-src 'self') stays on.
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    // Colours mid-transition (after a colour-scheme switch) or mid-fade (a
    // toast coming in) are not the page's: let finite ones end.
    const finite = document.getAnimations().filter((an) => an.effect && an.effect.getTiming().iterations !== Infinity);
    await Promise.all(finite.map((an) => an.finished.catch(() => {})));
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} ×${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')} (${n.failureSummary.split('\n').slice(1, 2).join('')})`).join('; ')}`);
  });
  assert.deepEqual(violations, [], `axe-core in view "${view}"`);
}

async function openDirectWithBob() {
  if (direct) return direct;
  await alice.page.getByTestId('new-chat-button').click();
  await alice.page.getByTestId('new-chat-user').fill('bob');
  await alice.page.getByTestId('new-chat-submit').click();
  await alice.page.getByTestId('conversation-title').filter({ hasText: /bob/i }).waitFor({ timeout: STEP_MS });
  direct = decodeURIComponent(new URL(alice.page.url()).hash.replace('#/r/', ''));
  assert.match(direct, /^dm_/, `the URL names the room: ${alice.page.url()}`);
  return direct;
}

async function openRoomOf(user, roomId) {
  await user.page.locator(`[data-testid="room-item"][data-room-id="${roomId}"]`).click();
  await user.page.locator('#room-view:not([hidden])').waitFor({ timeout: STEP_MS });
}

const announced = (page) => page.getByTestId('announcer').evaluate((n) => Array.from(n.children, (p) => p.textContent));

test('a socket that dies silently is shown within the pong deadline; others\' presence turns unknown', { timeout: 60_000 }, async () => {
  await openDirectWithBob();
  await waitForAttr(alice.page.getByTestId('peer-presence'), 'data-status', 'online', 'alice sees bob online');
  // The network vanishes without a close: the socket just goes silent.
  await alice.page.evaluate(() => { window.__sockets.at(-1).__frozen = true; });
  const t0 = Date.now();
  await send(alice.page, 'Into the void');
  await waitForAttr(messageWithBody(alice.page, 'Into the void'), 'data-status', 'pending', 'the message waits');
  await alice.page.waitForFunction(() => document.querySelector('[data-testid="connection-status"]').dataset.state !== 'online'
    && document.querySelector('[data-testid="connection-status"]').dataset.state !== 'checking', null, { timeout: PONG_DEADLINE_MS + 5_000 });
  const took = Date.now() - t0;
  assert.ok(took <= PONG_DEADLINE_MS + 2_000, `shown after ${took} ms (deadline ${PONG_DEADLINE_MS} ms)`);
  // While we are not connected, bob's presence is not claimed either way.
  await waitForAttr(alice.page.getByTestId('peer-presence'), 'data-status', 'unknown', 'bob\'s presence is unknown');
  // The SDK reconnects by itself (a new socket, not frozen) and the message goes out once.
  await waitForAttr(alice.page.getByTestId('connection-status'), 'data-state', 'online', 'alice reconnects');
  await waitForAttr(messageWithBody(alice.page, 'Into the void'), 'data-status', ['sent', 'delivered', 'read'], 'sent after the reconnect');
  await openRoomOf(bob, direct);
  await messageWithBody(bob.page, 'Into the void').waitFor({ timeout: STEP_MS });
  assert.equal(await messageWithBody(bob.page, 'Into the void').count(), 1);
  await waitForAttr(alice.page.getByTestId('peer-presence'), 'data-status', 'online', 'bob online again');

  // The browser says the network is gone: shown at once, not after a timeout.
  await alice.context.setOffline(true);
  await waitForAttr(alice.page.getByTestId('connection-status'), 'data-state', 'offline', 'offline at once');
  await alice.page.getByTestId('connection-banner').filter({ hasText: 'You are offline' }).waitFor({ timeout: 2_000 });
  await alice.context.setOffline(false);
  await waitForAttr(alice.page.getByTestId('connection-status'), 'data-state', 'online', 'back online');
});

test('messages are announced once, with sender, time and status; axe finds nothing in a direct room, light, dark and on a phone', { timeout: 60_000 }, async () => {
  await openDirectWithBob();
  if (!(await bob.page.locator(`[data-testid="room-item"][data-room-id="${direct}"][aria-current="true"]`).count())) await openRoomOf(bob, direct);
  const before = (await announced(alice.page)).length;
  await send(bob.page, 'Hello from Bob');
  await messageWithBody(alice.page, 'Hello from Bob').waitFor({ timeout: STEP_MS });
  await send(alice.page, 'Hello from Alice');
  await waitForAttr(messageWithBody(alice.page, 'Hello from Alice'), 'data-status', ['sent', 'delivered', 'read'], 'acked');
  await waitForAttr(messageWithBody(alice.page, 'Hello from Alice'), 'data-status', 'read', 'read by bob');
  const said = (await announced(alice.page)).slice(before);
  const time = /\d{1,2}:\d{2}/.source;
  assert.equal(said.filter((t) => new RegExp(`^Bob, ${time}.*: Hello from Bob$`).test(t)).length, 1, JSON.stringify(said));
  assert.equal(said.filter((t) => new RegExp(`^You, ${time}.*, (sent|delivered|read): Hello from Alice$`).test(t)).length, 1, JSON.stringify(said));
  assert.equal(said.filter((t) => t.includes('Hello from Alice')).length, 1, `read receipts are not announced again: ${JSON.stringify(said)}`);
  // The list itself is not a live region (it would re-read history).
  assert.equal(await alice.page.getByTestId('message-list').getAttribute('aria-live'), null);
  // Every message says who wrote it to a screen reader.
  const sr = await messageWithBody(alice.page, 'Hello from Bob').locator('.sr-only').first().textContent();
  assert.equal(sr, 'Bob: ');
  await assertNoViolations(alice.page, 'direct room');
  await alice.page.emulateMedia({ colorScheme: 'dark' });
  await assertNoViolations(alice.page, 'direct room, dark');
  await alice.page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
  const anim = await alice.page.evaluate(() => getComputedStyle(document.querySelector('.typing-dots i')).animationName);
  assert.equal(anim, 'none', 'prefers-reduced-motion stops the typing animation');
  await alice.page.emulateMedia({ reducedMotion: 'no-preference' });
  // A phone: the list or the room; the Back arrow returns to the list with focus on the room.
  await alice.page.setViewportSize({ width: 390, height: 780 });
  await assertNoViolations(alice.page, 'direct room, phone');
  await alice.page.getByTestId('back-button').click();
  await alice.page.getByTestId('room-list').waitFor({ state: 'visible' });
  assert.equal(await alice.page.evaluate(() => document.activeElement.dataset.roomId), direct, 'focus on the room just left');
  await assertNoViolations(alice.page, 'conversation list, phone');
  await alice.page.setViewportSize({ width: 1280, height: 800 });
});

test('keyboard: skip link, heading, WAI-ARIA tabs with arrow keys, named Join buttons; axe in dialogs, a group and Browse', { timeout: 60_000 }, async () => {
  const page = alice.page;
  assert.equal(await page.locator('h1:visible').count(), 1, 'one visible h1');
  // New conversation: tabs move with the arrow keys, and select.
  await page.getByTestId('new-chat-button').click();
  await page.getByTestId('new-chat-dialog').waitFor();
  await assertNoViolations(page, 'new conversation');
  await page.getByTestId('new-chat-kind-direct').focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.kind), 'group');
  assert.equal(await page.getByTestId('new-chat-kind-group').getAttribute('aria-selected'), 'true');
  await page.keyboard.press('End');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.kind), 'browse');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.kind), 'direct', 'wraps around');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.kind), 'channel');
  // A channel, then a group with bob: unknown people are refused by name.
  await page.getByTestId('new-chat-name').fill('Announcements');
  await page.getByTestId('new-chat-submit').click();
  await page.getByTestId('conversation-title').filter({ hasText: 'Announcements' }).waitFor({ timeout: STEP_MS });
  await page.getByTestId('new-chat-button').click();
  await page.getByTestId('new-chat-kind-group').click();
  await page.getByTestId('new-chat-name').fill('Lunch crew');
  await page.getByTestId('new-chat-members').fill('bob, nobody-here');
  const rooms = await page.getByTestId('room-item').count();
  await page.getByTestId('new-chat-submit').click();
  await page.getByTestId('new-chat-error').filter({ hasText: 'There is no user "nobody-here"' }).waitFor({ timeout: STEP_MS });
  assert.equal(await page.getByTestId('room-item').count(), rooms, 'no room was made');
  await page.getByTestId('new-chat-members').fill('bob');
  await page.getByTestId('new-chat-submit').click();
  await page.getByTestId('conversation-title').filter({ hasText: 'Lunch crew' }).waitFor({ timeout: STEP_MS });
  await bob.page.locator('[data-testid="room-item"]', { hasText: 'Lunch crew' }).click();
  await send(bob.page, 'Pizza?');
  await messageWithBody(page, 'Pizza?').waitFor({ timeout: STEP_MS });
  await assertNoViolations(page, 'group');
  // Add people: an unknown id is refused with a clear message.
  await page.getByTestId('add-member-button').click();
  await page.getByTestId('add-member-input').fill('ghost');
  await page.getByTestId('add-member-submit').click();
  await page.getByTestId('add-member-error').filter({ hasText: 'There is no user "ghost"' }).waitFor({ timeout: STEP_MS });
  await assertNoViolations(page, 'add member');
  await page.keyboard.press('Escape');
  // Bob browses channels: each Join button names its channel.
  await bob.page.getByTestId('new-chat-button').click();
  await bob.page.getByTestId('new-chat-kind-browse').click();
  await bob.page.getByTestId('channel-item').first().waitFor({ timeout: STEP_MS });
  const join = bob.page.getByRole('button', { name: 'Join Announcements' });
  assert.equal(await join.count(), 1, 'the Join button is named after its channel');
  await assertNoViolations(bob.page, 'browse channels');
  await bob.page.keyboard.press('Escape');
  // The skip link is the first stop, shown when focused, and leads into the conversation.
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => document.querySelector('a[href], button:not([hidden]), input, textarea, [tabindex="0"]').id), 'skip-link');
  await page.locator('#skip-link').focus();
  const box = await page.locator('#skip-link').boundingBox();
  assert.ok(box && box.y >= 0, `visible when focused: ${JSON.stringify(box)}`);
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'composer-input');
  // The message list scrolls by keyboard.
  assert.equal(await page.getByTestId('message-scroll').getAttribute('tabindex'), '0');
});

test('message states: rate-limited is resent by itself in plain words, failed looks failed with Retry, local ones at the end; toasts keep off Send', { timeout: 60_000 }, async () => {
  const page = alice.page;
  await openRoomOf(alice, await openDirectWithBob());
  // The server refuses the next send as rate-limited for 1.5 s.
  await page.evaluate(() => {
    window.__intercept = (f) => {
      if (f.action !== 'sendMessage') return null;
      window.__intercept = null;
      return { type: 'error', code: 'rate_limited', message: 'rate limit exceeded', clientMsgId: f.clientMsgId, retryAfterMs: 1500 };
    };
  });
  const t0 = Date.now();
  await send(page, 'Slow down');
  const slow = messageWithBody(page, 'Slow down');
  await page.getByText('Sending too fast: this one goes out in a moment.').waitFor({ timeout: STEP_MS });
  assert.equal(await page.getByText('rate limit exceeded').count(), 0, 'never the server\'s text');
  await waitForAttr(slow, 'data-status', ['sent', 'delivered', 'read'], 'resent by itself');
  assert.ok(Date.now() - t0 >= 1_400, 'not before retryAfterMs');
  assert.equal(await page.getByText('Sending too fast').count(), 0, 'the note goes once sent');

  // Refused for good: failed, in words, with Retry; the outgoing colour does not win.
  await page.evaluate(() => {
    window.__intercept = (f) => {
      if (f.action !== 'sendMessage') return null;
      window.__intercept = null;
      return { type: 'error', code: 'bad_request', message: 'body: invalid utf-8 at 3', clientMsgId: f.clientMsgId };
    };
  });
  await send(page, 'This one fails');
  const failed = messageWithBody(page, 'This one fails');
  await waitForAttr(failed, 'data-status', 'failed', 'failed');
  assert.equal(await page.getByText('invalid utf-8').count(), 0, 'never the server\'s text');
  const bg = await failed.locator('.bubble').evaluate((n) => getComputedStyle(n).backgroundColor);
  assert.notEqual(bg, 'rgb(79, 70, 229)', 'not the outgoing bubble colour');
  // A later message is confirmed and goes above the failed one: local ones stay at the end.
  await send(page, 'After the failure');
  await waitForAttr(messageWithBody(page, 'After the failure'), 'data-status', ['sent', 'delivered', 'read'], 'acked');
  const order = await page.getByTestId('message-list').getByTestId('message').evaluateAll((ns) => ns.map((n) => n.querySelector('[data-testid="message-body"]').textContent));
  assert.deepEqual(order.slice(-2), ['After the failure', 'This one fails']);
  await assertNoViolations(page, 'failed message');
  await failed.getByTestId('message-retry').click();
  await waitForAttr(messageWithBody(page, 'This one fails'), 'data-status', ['sent', 'delivered', 'read'], 'retried and sent');

  // A toast (an error about no message) does not cover the Send button.
  await page.evaluate(() => {
    const ws = window.__sockets.at(-1);
    for (const fn of ws.__listeners) fn({ data: JSON.stringify({ type: 'error', code: 'conflict', message: 'x' }) });
  });
  const toast = page.getByTestId('toast').first();
  await toast.waitFor({ timeout: STEP_MS });
  const [a, b] = [await toast.boundingBox(), await page.getByTestId('composer-send').boundingBox()];
  const overlap = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
  assert.equal(overlap, false, `toast ${JSON.stringify(a)} covers Send ${JSON.stringify(b)}`);
});

test('members: joins and leaves show in the conversation, with the count', { timeout: 60_000 }, async () => {
  const page = alice.page;
  // Carol exists (her profile is made by her first call) but is not signed in here.
  const carol = await (await fetch(`${server.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'carol', name: 'Carol' }) })).json();
  const auth = { authorization: `Bearer ${carol.token}` };
  assert.equal((await fetch(`${server.url}/users/me`, { headers: auth })).status, 200);
  await page.locator('[data-testid="room-item"]', { hasText: 'Lunch crew' }).click();
  const summary = page.getByTestId('room-members-summary');
  await summary.filter({ hasText: '2 members' }).waitFor({ timeout: STEP_MS });
  await page.getByTestId('add-member-button').click();
  await page.getByTestId('add-member-input').fill('carol');
  await page.getByTestId('add-member-submit').click();
  await page.getByTestId('member-notice').filter({ hasText: 'Carol joined' }).waitFor({ timeout: STEP_MS });
  await summary.filter({ hasText: '3 members' }).waitFor({ timeout: STEP_MS });
  // Carol leaves (elsewhere): alice's page hears it live (memberLeft),
  // without a focus, a reload or the periodic refresh (30 s, past STEP_MS).
  const roomId = decodeURIComponent(new URL(page.url()).hash.replace('#/r/', ''));
  assert.equal((await fetch(`${server.url}/rooms/${encodeURIComponent(roomId)}/members/carol`, { method: 'DELETE', headers: auth })).status, 204);
  await page.getByTestId('member-notice').filter({ hasText: 'Carol left' }).waitFor({ timeout: STEP_MS });
  await summary.filter({ hasText: '2 members' }).waitFor({ timeout: STEP_MS });
  const said = await announced(page);
  assert.ok(said.includes('Carol joined') && said.includes('Carol left'), JSON.stringify(said));
  await assertNoViolations(page, 'group with notices');
});

test('deep links: each room has a URL, Back and Forward move inside the app, a reload keeps the room and the draft', { timeout: 60_000 }, async () => {
  const page = alice.page;
  const room = await openDirectWithBob();
  await openRoomOf(alice, room);
  assert.equal(new URL(page.url()).hash, `#/r/${encodeURIComponent(room)}`);
  await page.getByTestId('composer-input').fill('A half-written thought');
  await page.locator('[data-testid="room-item"]', { hasText: 'Lunch crew' }).click();
  await page.getByTestId('conversation-title').filter({ hasText: 'Lunch crew' }).waitFor();
  await page.goBack();
  await page.getByTestId('conversation-title').filter({ hasText: /bob/i }).waitFor({ timeout: STEP_MS });
  assert.equal(await page.getByTestId('composer-input').inputValue(), 'A half-written thought', 'the draft per room');
  await page.goForward();
  await page.getByTestId('conversation-title').filter({ hasText: 'Lunch crew' }).waitFor({ timeout: STEP_MS });
  await page.goBack();
  await page.getByTestId('conversation-title').filter({ hasText: /bob/i }).waitFor({ timeout: STEP_MS });
  // Reload: the same room, the draft still there.
  await page.reload();
  await page.getByTestId('conversation-title').filter({ hasText: /bob/i }).waitFor({ timeout: STEP_MS });
  assert.equal(await page.getByTestId('composer-input').inputValue(), 'A half-written thought');
  await waitForAttr(page.getByTestId('connection-status'), 'data-state', 'online', 'online after reload');
  // The link opened in a new tab (signed out there: tokens are per tab)
  // leads through sign-in to the room.
  const tab = await alice.context.newPage();
  await tab.goto(`${server.url}/#/r/${encodeURIComponent(room)}`);
  await tab.getByTestId('signin-submit').click();
  await tab.getByTestId('hosted-ui-name').fill('Alice');
  await tab.getByTestId('hosted-ui-submit').click();
  await tab.getByTestId('conversation-title').filter({ hasText: /bob/i }).waitFor({ timeout: STEP_MS });
  assert.equal(new URL(tab.url()).hash, `#/r/${encodeURIComponent(room)}`);
  await tab.close();
});

test('links are clickable and safe; an unread line marks where you left off', { timeout: 60_000 }, async () => {
  const page = alice.page;
  const room = await openDirectWithBob();
  // Alice looks elsewhere while bob writes.
  await page.locator('[data-testid="room-item"]', { hasText: 'Lunch crew' }).click();
  await page.getByTestId('conversation-title').filter({ hasText: 'Lunch crew' }).waitFor();
  await openRoomOf(bob, room);
  const body = 'Menu: https://example.com/menu?day=fri. Not this: javascript:alert(1) <b>x</b>';
  await send(bob.page, 'Unread one');
  await send(bob.page, body);
  await page.locator(`[data-testid="room-item"][data-room-id="${room}"] [data-testid="room-unread"]`).waitFor({ timeout: STEP_MS });
  await openRoomOf(alice, room);
  const marker = page.getByTestId('unread-marker');
  await marker.waitFor({ timeout: STEP_MS });
  const next = await marker.evaluate((n) => {
    const rows = Array.from(document.querySelectorAll('#message-list [data-testid="message"], #message-list [data-testid="unread-marker"]'));
    return rows[rows.indexOf(n) + 1].querySelector('[data-testid="message-body"]').textContent;
  });
  assert.equal(next, 'Unread one', 'the line is above the first unread message');
  const msg = messageWithBody(page, body);
  await msg.waitFor({ timeout: STEP_MS });
  const links = await msg.locator('a').evaluateAll((as) => as.map((a) => ({ href: a.href, text: a.textContent, rel: a.rel, target: a.target })));
  assert.deepEqual(links, [{ href: 'https://example.com/menu?day=fri', text: 'https://example.com/menu?day=fri', rel: 'noopener noreferrer', target: '_blank' }]);
  assert.equal(await msg.locator('b').count(), 0, 'markup stays text');
});

test(`a room of ${SEED} messages: each new one is one small DOM update, no long task`, { timeout: 150_000 }, async (t) => {
  const page = alice.page;
  // A seeder (its own page, the protocol by hand) fills a group alice is in.
  const { token } = await (await fetch(`${server.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'seeder', name: 'Seeder' }) })).json();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const made = await (await fetch(`${server.url}/rooms`, { method: 'POST', headers, body: JSON.stringify({ kind: 'group', name: 'History', members: ['alice'] }) })).json();
  const roomId = made.roomId;
  assert.ok(roomId, JSON.stringify(made));
  const { wsUrl } = await (await fetch(`${server.url}/config.json`)).json();
  const seeder = await alice.context.browser().newContext().then((c) => c.newPage());
  await seeder.goto(`${server.url}/config.json`);
  await seeder.evaluate(async ({ url, roomId: r, n }) => {
    const ws = new WebSocket(url);
    await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = fail; });
    window.__ws = ws;
    window.__acked = 0;
    const want = new Map();
    ws.onmessage = (ev) => {
      const f = JSON.parse(ev.data);
      if (f.type === 'ack' && want.delete(f.clientMsgId)) window.__acked += 1;
      if (f.type === 'error' && f.clientMsgId && want.has(f.clientMsgId)) {
        setTimeout(() => ws.send(JSON.stringify(want.get(f.clientMsgId))), f.retryAfterMs || 200);
      }
    };
    window.__send = (i, body) => {
      const frame = { action: 'sendMessage', roomId: r, clientMsgId: `seed-${i}`, body };
      want.set(frame.clientMsgId, frame);
      ws.send(JSON.stringify(frame));
    };
    for (let i = 0; i < n; i++) {
      window.__send(i, `History message ${i + 1}`);
      if (i % 100 === 99) await new Promise((ok) => setTimeout(ok, 20));
    }
  }, { url: `${wsUrl}?token=${encodeURIComponent(token)}`, roomId, n: SEED });
  await seeder.waitForFunction((n) => window.__acked >= n, SEED, { timeout: 90_000, polling: 250 });
  // Alice opens it and pages back to the beginning (all of it in the DOM).
  await page.locator(`[data-testid="room-item"][data-room-id="${roomId}"]`).waitFor({ timeout: STEP_MS });
  await openRoomOf(alice, roomId);
  const count = () => page.getByTestId('message-list').getByTestId('message').count();
  for (let i = 0; (await count()) < SEED; i++) {
    if (i > 400) throw new Error(`only ${await count()} of ${SEED} messages loaded`);
    await page.getByTestId('message-scroll').evaluate((n) => { n.scrollTop = 0; });
    await page.waitForTimeout(50);
  }
  await page.getByTestId('message-scroll').evaluate((n) => { n.scrollTop = n.scrollHeight; });
  // The jump to the bottom lays out the chunks now in view: let it settle.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 200)))));
  // Watch: long tasks, and what each message changes in the list.
  await page.evaluate(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask' });
    window.__mut = { added: 0, removed: 0 };
    new MutationObserver((ms) => {
      for (const m of ms) { window.__mut.added += m.addedNodes.length; window.__mut.removed += m.removedNodes.length; }
    }).observe(document.getElementById('message-list'), { childList: true, subtree: true });
  });
  const N = 20;
  const times = [];
  for (let i = 0; i < N; i++) {
    const text = `Live message ${i + 1}`;
    // Waited for inside the page, by a MutationObserver: the test's own
    // polling (a text query over 2,000 rows) must not be what is measured.
    const shown = page.evaluate((want) => new Promise((resolve) => {
      const list = document.getElementById('message-list');
      const last = () => { const rows = list.querySelectorAll('.msg-chunk:last-child > [data-testid="message"]'); return rows.length ? rows[rows.length - 1].querySelector('[data-testid="message-body"]') : null; };
      const done = () => last() && last().textContent === want;
      if (done()) return resolve();
      const mo = new MutationObserver(() => { if (done()) { mo.disconnect(); resolve(); } });
      mo.observe(list, { childList: true, subtree: true });
    }), text);
    const t0 = Date.now();
    await seeder.evaluate(([k, b]) => window.__send(k, b), [SEED + i, text]);
    await shown;
    times.push(Date.now() - t0);
  }
  const { long, mut } = await page.evaluate(() => ({ long: window.__long, mut: window.__mut }));
  const worst = long.length ? Math.max(...long) : 0;
  t.diagnostic(`${SEED} messages in the list; ${N} live ones: long tasks ${JSON.stringify(long.map(Math.round))} (worst ${Math.round(worst)} ms), DOM list mutations +${mut.added}/-${mut.removed}, send->shown median ${times.sort((a, b) => a - b)[N >> 1]} ms`);
  // Before incremental rendering every message was a long task (a full
  // rebuild: 50-180 ms at ~190 messages, far more at 2,000). Now none is;
  // one stray task over 50 ms (a GC, or the OS descheduling Chromium on a
  // loaded CI machine) is tolerated, not two, and none may reach 100 ms.
  const over = long.filter((d) => d > 50);
  assert.ok(over.length <= 1 && worst < 100, `long tasks over 50 ms while ${N} messages arrived: ${JSON.stringify(over.map(Math.round))}`);
  assert.ok(mut.added <= N * 2 && mut.removed <= N, `one small update per message: +${mut.added}/-${mut.removed} for ${N} messages`);
  assert.equal(await count(), SEED + N);
  await seeder.context().close();
});
