// Browser test of the web app served by chat-local: two users in two browser
// contexts sign in through the hosted UI twin (authorization code + PKCE, the
// same code path as against Cognito), their short-lived ID tokens are
// refreshed while they chat, they open a direct room, see each other's presence, exchange
// messages, and an HTML-looking message stays text.
//
//   npm test --prefix local/web-tests
//
// Env: CHAT_LOCAL_BIN (the chat-local binary; default target/debug/chat-local
// of this repo, or $CARGO_TARGET_DIR/debug/chat-local), CHROMIUM_BIN
// (default /usr/bin/chromium), CHAT_LOCAL_TEMPLATE (a synthesized template:
// chat-local runs that stack, IAM enforced, and the test fails on any denial),
// CHAT_LOCAL_ARGS (more chat-local options, space-separated, after those).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const OUT = join(here, 'out');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const STEP_MS = 15_000;
// ID token lifetime the server issues: short, so the app refreshes during the test.
const TOKEN_TTL_SECS = 6;

function binaryPath() {
  if (process.env.CHAT_LOCAL_BIN) return resolve(process.env.CHAT_LOCAL_BIN);
  if (process.env.CARGO_TARGET_DIR) return resolve(process.env.CARGO_TARGET_DIR, 'debug', 'chat-local');
  return resolve(here, '..', '..', 'target', 'debug', 'chat-local');
}

// ------------------------------------------------------------------ server

let server = null;       // {child, url, output: string[]}
let browser = null;

/** Spawns chat-local on a free port; resolves once it says it listens. */
function startServer() {
  const bin = binaryPath();
  if (!existsSync(bin)) {
    throw new Error(`chat-local binary not found at ${bin}: build it with \`cargo build -p chat-local\` or set CHAT_LOCAL_BIN`);
  }
  const template = process.env.CHAT_LOCAL_TEMPLATE ? ['--template', resolve(process.env.CHAT_LOCAL_TEMPLATE)] : [];
  const extra = (process.env.CHAT_LOCAL_ARGS || '').split(' ').filter(Boolean);
  const child = spawn(bin, [...template, '--port', '0', '--token-ttl-secs', String(TOKEN_TTL_SECS), ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  const output = [];
  const keep = (line) => { output.push(line); if (output.length > 400) output.shift(); };
  const s = { child, url: null, output };
  server = s;
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`chat-local did not report a port within 60 s\n${output.join('\n')}`)), 60_000);
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        keep(`[out] ${line}`);
        const m = /chat-local listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(line);
        if (m && !s.url) {
          s.url = m[1];
          clearTimeout(timer);
          resolvePromise(s);
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => { for (const l of chunk.split('\n')) if (l) keep(`[err] ${l}`); });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code, signal) => {
      if (!s.url) {
        clearTimeout(timer);
        reject(new Error(`chat-local exited (${code ?? signal}) before listening\n${output.join('\n')}`));
      }
    });
  });
}

async function stopServer() {
  const s = server;
  server = null;
  if (!s || s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGINT'); // chat-local stops cleanly on Ctrl-C
  const t = setTimeout(() => s.child.kill('SIGKILL'), 5_000);
  const t0 = Date.now();
  await exited;
  clearTimeout(t);
  if (Date.now() - t0 > 4_000) console.error(`chat-local took ${Date.now() - t0} ms to stop after SIGINT`);
}

// Last resort if the runner is torn down without the hook.
process.on('exit', () => { try { server && server.child.kill('SIGKILL'); } catch { /* gone */ } });

after(async () => {
  try { if (browser) await browser.close(); } catch { /* already closed */ }
  await stopServer();
});

// ------------------------------------------------------------------ helpers

/**
 * Signs in as the app does against Cognito: the app's button goes to
 * /oauth2/authorize (PKCE S256), the hosted UI twin's page takes the name,
 * and the app exchanges the code it gets back for tokens.
 */
async function signIn(user, name) {
  const { page, oauth } = user;
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('hosted-ui-name').fill(name);
  await shot(user, `hosted-ui-${name.toLowerCase()}.png`);
  await page.getByTestId('hosted-ui-submit').click();
  await page.getByTestId('me-name').filter({ hasText: name }).waitFor({ timeout: STEP_MS });
  await page.locator('[data-testid="connection-status"][data-state="online"]').waitFor({ timeout: STEP_MS });
  // What went over the wire: an S256 challenge out, its verifier back.
  const authorize = new URL(oauth.find((r) => r.url.includes('/oauth2/authorize')).url);
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.match(authorize.searchParams.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  assert.equal(authorize.searchParams.get('response_type'), 'code');
  const exchange = oauth.find((r) => r.grant === 'authorization_code');
  assert.ok(exchange, 'the app exchanged the code');
  assert.match(exchange.body.get('code_verifier'), /^[A-Za-z0-9_-]{43}$/);
  assert.equal(exchange.body.get('redirect_uri'), `${server.url}/`);
  assert.equal(exchange.status, 200);
  // The code and state are gone from the address bar.
  assert.equal(new URL(page.url()).search, '', `address bar: ${page.url()}`);
}

/** The ID token the page holds now. */
function idToken(page) {
  return page.evaluate(() => (JSON.parse(sessionStorage.getItem('chat.auth.v1') || 'null') || {}).idToken);
}

// Lets the test drop a page's WebSocket and hold off its reconnection, to
// check reconnect + sync + resend. Only the test context is wrapped; the
// page's own code is what runs.
function socketControl() {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.__blockWs = false;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      // Blocked: dial a port nothing listens on, so the attempt fails.
      super(window.__blockWs ? 'ws://127.0.0.1:9/' : url, protocols);
      window.__sockets.push(this);
    }
  };
}

async function newUser(name, { controlSockets = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  if (controlSockets) await context.addInitScript(socketControl);
  const page = await context.newPage();
  // Every request to the hosted UI twin's endpoints, with its form body.
  const oauth = [];
  page.on('request', (r) => {
    if (!/\/oauth2\/|\/logout/.test(r.url())) return;
    const body = new URLSearchParams(r.postData() || '');
    const entry = { url: r.url(), grant: body.get('grant_type'), body, status: null, at: Date.now() };
    oauth.push(entry);
    r.response().then((res) => { entry.status = res && res.status(); }).catch(() => {});
  });
  // Frames the page's sockets received, for sequencing (waitForFrame).
  const frames = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    try { frames.push(JSON.parse(String(f.payload))); } catch { /* not JSON */ }
  }));
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  await page.goto(`${server.url}/`);
  return { name, context, page, errors, oauth, frames };
}

/** The message in the open conversation whose body is exactly `text`. */
function messageWithBody(page, text) {
  return page.getByTestId('message-list').getByTestId('message')
    .filter({ has: page.getByTestId('message-body').getByText(text, { exact: true }) });
}

async function waitForAttr(locator, name, values, what) {
  const wanted = Array.isArray(values) ? values : [values];
  const deadline = Date.now() + STEP_MS;
  let last = null;
  while (Date.now() < deadline) {
    last = await locator.getAttribute(name, { timeout: STEP_MS }).catch(() => null);
    if (wanted.includes(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: expected ${name} in [${wanted.join(', ')}], last saw ${last}`);
}

async function waitForFrame(user, pred, what) {
  const deadline = Date.now() + STEP_MS;
  while (!user.frames.some(pred)) {
    if (Date.now() > deadline) throw new Error(`${what}: no such frame within ${STEP_MS} ms: ${JSON.stringify(user.frames.filter((f) => f.type !== 'message' && f.type !== 'syncResult').slice(-8))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function send(page, text) {
  const input = page.getByTestId('composer-input');
  await input.fill(text);
  await input.press('Enter');
}

/**
 * Sends without typing notices (the value is set, not typed): the fault
 * stages below count bob's frames, three tries of each message's push.
 */
async function sendQuiet(page, text) {
  const input = page.getByTestId('composer-input');
  await input.evaluate((el, t) => { el.value = t; }, text);
  await input.press('Enter');
}

async function shot(user, file) {
  mkdirSync(OUT, { recursive: true });
  await user.page.screenshot({ path: join(OUT, file) });
}

// --------------------------------------------------------------------- test

test('two users chat through the web app', { timeout: 180_000 }, async (t) => {
  const started = Date.now();
  await startServer();
  t.diagnostic(`chat-local at ${server.url}`);

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  const alice = await newUser('Alice', { controlSockets: true });
  // Bob's sockets are counted too: his page recovers holes on the socket it has.
  const bob = await newUser('Bob', { controlSockets: true });

  try {
    // Sign in through the hosted UI twin; the page connects the WebSocket.
    await alice.page.getByTestId('signin-submit').waitFor();
    await shot(alice, 'signin.png');
    await signIn(alice, 'Alice');
    await signIn(bob, 'Bob');

    // The ID token lives TOKEN_TTL_SECS: the page refreshes it before it
    // expires, with the refresh token, and carries on with the new one.
    const first = await idToken(alice.page);
    const deadline = Date.now() + TOKEN_TTL_SECS * 1000 + STEP_MS;
    while ((await idToken(alice.page)) === first) {
      if (Date.now() > deadline) throw new Error('alice\'s ID token was not refreshed');
      await alice.page.waitForTimeout(200);
    }
    const refreshes = alice.oauth.filter((r) => r.grant === 'refresh_token');
    assert.ok(refreshes.length >= 1, 'a refresh_token grant was sent');
    assert.ok(refreshes.every((r) => r.status === 200 || r.status === null), JSON.stringify(refreshes.map((r) => r.status)));

    // Alice starts a direct conversation with bob and sees him online.
    await alice.page.getByTestId('new-chat-button').click();
    await alice.page.getByTestId('new-chat-kind-direct').click();
    await alice.page.getByTestId('new-chat-user').fill('bob');
    await alice.page.getByTestId('new-chat-submit').click();
    await alice.page.getByTestId('conversation-title').filter({ hasText: /bob/i }).waitFor({ timeout: STEP_MS });
    await waitForAttr(alice.page.getByTestId('peer-presence'), 'data-status', 'online', 'alice sees bob');

    // Alice -> Bob.
    const hello = 'Hi Bob! Are we still on for lunch? 🍜';
    await send(alice.page, hello);
    await waitForAttr(messageWithBody(alice.page, hello), 'data-status', ['sent', 'delivered', 'read'], 'alice\'s message is acked');

    // Bob's list gets the new room with an unread badge; he opens it.
    const bobRoom = bob.page.getByTestId('room-item').first();
    await bobRoom.getByTestId('room-unread').waitFor({ timeout: STEP_MS });
    await bobRoom.click();
    await messageWithBody(bob.page, hello).waitFor({ timeout: STEP_MS });
    await bob.page.getByTestId('conversation-title').filter({ hasText: /alice/i }).waitFor({ timeout: STEP_MS });
    await waitForAttr(bob.page.getByTestId('peer-presence'), 'data-status', 'online', 'bob sees alice');

    // Bob opened the room: alice's message turns read.
    await waitForAttr(messageWithBody(alice.page, hello), 'data-status', 'read', 'alice sees her message read');

    // Bob types: alice sees "Bob is typing…"; then he sends.
    const reply = 'Yes! 12:30 at the usual place.';
    await bob.page.getByTestId('composer-input').pressSequentially('Yes!', { delay: 20 });
    await alice.page.getByTestId('typing-indicator').filter({ hasText: 'Bob is typing' }).waitFor({ timeout: STEP_MS });
    await send(bob.page, reply);
    await messageWithBody(alice.page, reply).waitFor({ timeout: STEP_MS });
    await alice.page.getByTestId('typing-indicator').waitFor({ state: 'hidden', timeout: STEP_MS });

    // Shift+Enter is a new line, Enter sends.
    const input = alice.page.getByTestId('composer-input');
    await input.fill('See you there.');
    await input.press('Shift+Enter');
    await input.pressSequentially('I\'ll book a table.');
    await input.press('Enter');
    const twoLines = 'See you there.\nI\'ll book a table.';
    await messageWithBody(bob.page, twoLines).waitFor({ timeout: STEP_MS });

    // Every push to bob fails for a stretch (each try of a few frames): his
    // page misses messages. The next one that reaches him shows the hole
    // below it, and the page syncs it, without a reload (the marker set on
    // this document survives) or a reconnect (the same socket).
    const bobSockets = await bob.page.evaluate(() => { window.__sameDocument = true; return window.__sockets.length; });
    const stageFaults = (faults) => fetch(`${server.url}/dev/faults`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(faults),
    }).then((r) => r.json());
    const stage = await fetch(`${server.url}/dev/faults`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ failPushes: { userId: 'bob', n: 9 } }),
    }).then((r) => r.json());
    assert.equal(stage.failPushes.connections.length, 1, `bob's connection is targeted: ${JSON.stringify(stage)}`);
    const lost = ['Lost in transit 1', 'Lost in transit 2', 'Lost in transit 3'];
    for (const text of lost) {
      await sendQuiet(alice.page, text);
      await waitForAttr(messageWithBody(alice.page, text), 'data-status', ['sent', 'delivered', 'read'], 'alice\'s message is acked');
    }
    for (let i = 0; ; i++) {
      const { pushesPending } = await fetch(`${server.url}/dev/faults`).then((r) => r.json());
      if (pushesPending === 0) break;
      if (i > 150) throw new Error(`the staged push failures did not happen: ${pushesPending} left`);
      await alice.page.waitForTimeout(100);
    }
    const found = 'Pushes work again';
    await send(alice.page, found);
    await messageWithBody(bob.page, found).waitFor({ timeout: STEP_MS });
    for (const text of lost) await messageWithBody(bob.page, text).waitFor({ timeout: STEP_MS });
    const bobSeqs = await bob.page.getByTestId('message-list').getByTestId('message')
      .evaluateAll((ns) => ns.map((n) => Number(n.dataset.seq)));
    assert.deepEqual(bobSeqs, [...bobSeqs].sort((a, b) => a - b), 'bob\'s messages are in seq order');
    assert.equal(new Set(bobSeqs).size, bobSeqs.length, 'bob has no message twice');
    for (const text of [...lost, found]) {
      assert.equal(await messageWithBody(bob.page, text).count(), 1, `bob shows ${text} once`);
    }
    const sameSocket = () => bob.page.evaluate(() => [window.__sameDocument === true, window.__sockets.length]);
    assert.deepEqual(await sameSocket(), [true, bobSockets], 'no reload, no reconnect');

    // Again, and the sync that fills the hole fails on the server: the page
    // asks again by itself.
    const again = await stageFaults({ failPushes: { userId: 'bob', n: 3 }, failStore: { op: 'messages.range', n: 1 } });
    assert.equal(again.failPushes.connections.length, 1, JSON.stringify(again));
    const missedOnce = 'Lost, and its sync failed';
    await sendQuiet(alice.page, missedOnce);
    await waitForAttr(messageWithBody(alice.page, missedOnce), 'data-status', ['sent', 'delivered', 'read'], 'alice\'s message is acked');
    for (let i = 0; ; i++) {
      const { pushesPending } = await fetch(`${server.url}/dev/faults`).then((r) => r.json());
      if (pushesPending === 0) break;
      if (i > 150) throw new Error(`the staged push failures did not happen: ${pushesPending} left`);
      await alice.page.waitForTimeout(100);
    }
    const revealer = 'This one reveals the hole';
    await send(alice.page, revealer);
    await messageWithBody(bob.page, revealer).waitFor({ timeout: STEP_MS });
    await messageWithBody(bob.page, missedOnce).waitFor({ timeout: STEP_MS });
    const left = await fetch(`${server.url}/dev/faults`).then((r) => r.json());
    assert.deepEqual(left.storePending, {}, `the sync did fail once: ${JSON.stringify(left)}`);
    assert.equal(await messageWithBody(bob.page, missedOnce).count(), 1, 'shown once');
    assert.deepEqual(await sameSocket(), [true, bobSockets], 'no reload, no reconnect');

    // HTML in a message is text, never markup.
    const xss = '<img src=x onerror=window.__xss=1>';
    await send(alice.page, xss);
    const bobXss = messageWithBody(bob.page, xss);
    await bobXss.waitFor({ timeout: STEP_MS });
    await messageWithBody(alice.page, xss).waitFor({ timeout: STEP_MS });
    const bodyText = await bobXss.getByTestId('message-body').textContent();
    assert.ok(bodyText.includes('<img'), `bob's page shows the literal text, got ${JSON.stringify(bodyText)}`);
    for (const u of [alice, bob]) {
      assert.equal(await u.page.evaluate(() => typeof window.__xss), 'undefined', `${u.name}: onerror did not run`);
      assert.equal(await u.page.getByTestId('message-list').locator('img[src="x"]').count(), 0, `${u.name}: no <img src=x> in the list`);
    }

    // Alice's connection drops. While she is away bob writes, and she writes
    // too (pending). Back online she syncs what she missed and resends hers
    // with the same clientMsgId: it arrives once.
    await alice.page.evaluate(() => { window.__blockWs = true; window.__sockets.at(-1).close(); });
    await waitForAttr(alice.page.getByTestId('connection-status'), 'data-state', ['offline', 'connecting'], 'alice is disconnected');
    await alice.page.getByTestId('connection-banner').waitFor({ timeout: STEP_MS });
    await waitForAttr(bob.page.getByTestId('peer-presence'), 'data-status', 'offline', 'bob sees alice drop');
    const missed = ['Did you get my last message?', 'Hello? 🙂'];
    for (const text of missed) {
      await send(bob.page, text);
      await waitForAttr(messageWithBody(bob.page, text), 'data-status', ['sent', 'delivered', 'read'], 'bob\'s message is acked');
    }
    const offline = 'Sorry, my train went into a tunnel.';
    await send(alice.page, offline);
    await waitForAttr(messageWithBody(alice.page, offline), 'data-status', 'pending', 'alice\'s offline message waits');
    // Back online the page reloads its rooms; that request gets a 401 (as
    // from an HTTP API whose JWT authorizer refuses the token): the page
    // refreshes its tokens and retries, and stays signed in.
    const rooms = [];
    await alice.page.route(/\/rooms$/, async (route) => {
      const req = route.request();
      if (req.method() !== 'GET') return route.continue();
      const entry = { at: Date.now(), status: 401 };
      rooms.push(entry);
      if (rooms.length === 1) {
        return route.fulfill({ status: 401, contentType: 'application/json', body: '{"message":"Unauthorized"}' });
      }
      const response = await route.fetch();
      entry.status = response.status();
      return route.fulfill({ response });
    });
    // Retry now, deterministically: wait until the page has given up an
    // attempt and shows the countdown (offline, a retry scheduled), then in
    // one task unblock and press Retry, so the SDK's own backoff timer cannot
    // reconnect in between (nor the banner move under a pointer).
    await alice.page.waitForFunction(() => {
      const s = document.querySelector('[data-testid="connection-status"]');
      return s.dataset.state === 'offline' && !document.getElementById('conn-banner').hidden;
    }, null, { timeout: STEP_MS });
    const pressed = await alice.page.evaluate(() => {
      window.__blockWs = false;
      const before = window.__sockets.length;
      const retry = document.getElementById('conn-retry');
      if (retry.closest('[hidden]')) return 'the banner was hidden';
      retry.click();
      return { before };
    });
    assert.equal(typeof pressed, 'object', `Retry was pressed while offline: ${pressed}`);
    await waitForAttr(alice.page.getByTestId('connection-status'), 'data-state', 'online', 'alice reconnects');
    for (let i = 0; rooms.length < 2 || rooms[1].status === 401; i++) {
      if (i > 150) throw new Error(`the page did not retry GET /rooms after its 401: ${JSON.stringify(rooms)}`);
      await alice.page.waitForTimeout(100);
    }
    await alice.page.unroute(/\/rooms$/);
    const refreshAfter401 = alice.oauth.find((r) => r.grant === 'refresh_token' && r.at >= rooms[0].at && r.at <= rooms[1].at);
    assert.ok(refreshAfter401, 'a refresh between the 401 and the retry');
    assert.equal(rooms[1].status, 200, 'the retry, with the refreshed ID token, goes through');
    assert.equal(await alice.page.getByTestId('signin-submit').isVisible(), false, 'still signed in');
    for (const text of missed) await messageWithBody(alice.page, text).waitFor({ timeout: STEP_MS });
    await waitForAttr(messageWithBody(alice.page, offline), 'data-status', ['sent', 'delivered', 'read'], 'alice\'s resent message is acked');
    await messageWithBody(bob.page, offline).waitFor({ timeout: STEP_MS });
    await waitForAttr(bob.page.getByTestId('peer-presence'), 'data-status', 'online', 'bob sees alice back');
    for (const text of missed) {
      await waitForAttr(messageWithBody(bob.page, text), 'data-status', 'read', 'bob sees alice read what she missed');
    }
    await alice.page.waitForTimeout(300);
    assert.equal(await messageWithBody(bob.page, offline).count(), 1, 'the resent message arrives once');
    assert.equal(await messageWithBody(alice.page, offline).count(), 1, 'alice shows her message once');
    const seqs = await alice.page.getByTestId('message-list').getByTestId('message')
      .evaluateAll((ns) => ns.map((n) => Number(n.dataset.seq)));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'messages are in seq order');
    assert.equal(new Set(seqs).size, seqs.length, 'no message twice');

    await shot(alice, 'alice.png');
    await shot(bob, 'bob.png');

    // Bob leaves: alice sees him offline.
    await bob.context.close();
    await waitForAttr(alice.page.getByTestId('peer-presence'), 'data-status', 'offline', 'alice sees bob go offline');
    await shot(alice, 'alice-bob-offline.png');

    // The same page on a phone-sized screen.
    await alice.page.setViewportSize({ width: 390, height: 780 });
    await shot(alice, 'alice-mobile.png');

    // Alice signs out: her refresh token is revoked, the hosted UI's /logout
    // sends her back to the app's sign-in page, and nothing is kept.
    await alice.page.setViewportSize({ width: 1280, height: 800 });
    await alice.page.getByTestId('signout').click();
    await alice.page.getByTestId('signin-submit').waitFor({ timeout: STEP_MS });
    assert.equal(await idToken(alice.page), undefined, 'no tokens left');
    const revoke = alice.oauth.find((r) => r.url.endsWith('/oauth2/revoke'));
    assert.ok(revoke && revoke.body.get('token'), 'the refresh token was revoked');
    assert.ok(alice.oauth.some((r) => new URL(r.url).pathname === '/logout'), 'the hosted UI logout was visited');
    const reuse = await fetch(`${server.url}/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: revoke.body.get('client_id'), refresh_token: revoke.body.get('token') }),
    });
    assert.equal(reuse.status, 400);
    assert.deepEqual((await reuse.json()).error, 'invalid_grant');

    // The blocked reconnect dials a dead port on purpose; nothing else may fail.
    // ... and the 401 staged above is logged by the browser, once.
    const staged401 = alice.errors.findIndex((e) => e.includes('status of 401'));
    if (staged401 >= 0) alice.errors.splice(staged401, 1);
    assert.deepEqual(alice.errors.filter((e) => !e.includes('ws://127.0.0.1:9/')), [], 'alice\'s page logged no errors');
    assert.deepEqual(bob.errors.filter((e) => !/WebSocket/.test(e)), [], 'bob\'s page logged no errors');
    if (process.env.CHAT_LOCAL_TEMPLATE) {
      // Everything the app did, the deployed roles allow.
      const { denied } = await (await fetch(`${server.url}/dev/denied`)).json();
      assert.deepEqual(denied, [], 'IAM denied calls of the stack about to deploy');
    }
    t.diagnostic(`done in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${OUT}`);
  } catch (e) {
    for (const u of [alice, bob]) {
      try { if (!u.page.isClosed()) await shot(u, `failure-${u.name.toLowerCase()}.png`); } catch { /* best effort */ }
    }
    const tail = server ? server.output.slice(-60).join('\n') : '';
    e.message += `\n--- alice errors: ${JSON.stringify(alice.errors)}\n--- bob errors: ${JSON.stringify(bob.errors)}\n--- chat-local output (tail):\n${tail}`;
    throw e;
  }
});
