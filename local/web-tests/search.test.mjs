// Browser test of message search in the web app served by chat-local: a
// word of a message sent a moment earlier is found from the sidebar's search
// box by a member, not by someone outside the room, and choosing the result
// opens the room scrolled to that message, paging its history back to it
// (it is older than the newest page the room opens with).
//
//   npm test --prefix local/web-tests
//
// Env as chat.test.mjs: CHAT_LOCAL_BIN, CHROMIUM_BIN, CHAT_LOCAL_TEMPLATE,
// CHAT_LOCAL_ARGS.

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
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];
const STEP_MS = 15_000;
/** More than the 50 messages the web app opens a room with. */
const FILLERS = 70;

function binaryPath() {
  if (process.env.CHAT_LOCAL_BIN) return resolve(process.env.CHAT_LOCAL_BIN);
  if (process.env.CARGO_TARGET_DIR) return resolve(process.env.CARGO_TARGET_DIR, 'debug', 'chat-local');
  return resolve(here, '..', '..', 'target', 'debug', 'chat-local');
}

let server = null;
let browser = null;

function startServer() {
  const bin = binaryPath();
  if (!existsSync(bin)) throw new Error(`chat-local binary not found at ${bin}: build it with \`cargo build -p chat-local\` or set CHAT_LOCAL_BIN`);
  const template = process.env.CHAT_LOCAL_TEMPLATE ? ['--template', resolve(process.env.CHAT_LOCAL_TEMPLATE)] : [];
  const extra = (process.env.CHAT_LOCAL_ARGS || '').split(' ').filter(Boolean);
  const child = spawn(bin, [...template, '--port', '0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  const output = [];
  const keep = (line) => { output.push(line); if (output.length > 400) output.shift(); };
  server = { child, url: null, output };
  const s = server;
  return new Promise((resolveP, reject) => {
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
        if (m && !s.url) { s.url = m[1]; clearTimeout(timer); resolveP(s); }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => { for (const l of chunk.split('\n')) if (l) keep(`[err] ${l}`); });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code, signal) => {
      if (!s.url) { clearTimeout(timer); reject(new Error(`chat-local exited (${code ?? signal}) before listening\n${output.join('\n')}`)); }
    });
  });
}

async function stopServer() {
  const s = server;
  server = null;
  if (!s || s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGINT');
  const t = setTimeout(() => s.child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(t);
}

process.on('exit', () => { try { server && server.child.kill('SIGKILL'); } catch { /* gone */ } });

after(async () => {
  try { if (browser) await browser.close(); } catch { /* already closed */ }
  await stopServer();
});

async function newUser(name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  await page.goto(`${server.url}/`);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('hosted-ui-name').fill(name);
  await page.getByTestId('hosted-ui-submit').click();
  await page.getByTestId('me-name').filter({ hasText: name }).waitFor({ timeout: STEP_MS });
  await page.locator('[data-testid="connection-status"][data-state="online"]').waitFor({ timeout: STEP_MS });
  return { name, page, errors };
}

/**
 * Sends `bodies` to `roomId` in order on a socket of the page's own (the
 * page's token, the app's WebSocket URL), each after the last one's ack,
 * resending after `retryAfterMs` when rate limited (docs/PROTOCOL.md).
 */
function sendAll(page, roomId, bodies) {
  return page.evaluate(async ({ roomId, bodies }) => {
    const { wsUrl } = await (await fetch('/config.json')).json();
    const token = (JSON.parse(sessionStorage.getItem('chat.auth.v1') || 'null') || {}).idToken;
    const ws = new WebSocket(`${wsUrl}${wsUrl.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`);
    await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail(new Error('socket failed')); });
    const seqs = [];
    for (const [i, body] of bodies.entries()) {
      const clientMsgId = `search-${Date.now()}-${i}`;
      for (;;) {
        const answer = new Promise((ok) => {
          ws.onmessage = (ev) => {
            const f = JSON.parse(ev.data);
            if (f.clientMsgId === clientMsgId && (f.type === 'ack' || f.type === 'error')) ok(f);
          };
        });
        ws.send(JSON.stringify({ action: 'sendMessage', roomId, clientMsgId, body }));
        const f = await answer;
        if (f.type === 'ack') { seqs.push(f.seq); break; }
        if (f.code !== 'rate_limited') throw new Error(`send refused: ${JSON.stringify(f)}`);
        await new Promise((r) => setTimeout(r, f.retryAfterMs || 100));
      }
    }
    ws.close();
    return seqs;
  }, { roomId, bodies });
}

async function searchFor(page, q) {
  const box = page.getByTestId('room-search');
  await box.fill('');
  await box.fill(q);
}

async function shot(user, file) {
  mkdirSync(OUT, { recursive: true });
  await user.page.screenshot({ path: join(OUT, file) });
}

test('search finds a word of a message sent a moment earlier, for members only, and jumps to it', { timeout: 180_000 }, async (t) => {
  await startServer();
  t.diagnostic(`chat-local at ${server.url}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  const alice = await newUser('Alice');
  const bob = await newUser('Bob');
  const carol = await newUser('Carol');
  const users = [alice, bob, carol];
  try {
    // A group of alice and bob (not carol), created from alice's page.
    const room = await alice.page.evaluate(async () => {
      const token = (JSON.parse(sessionStorage.getItem('chat.auth.v1') || 'null') || {}).idToken;
      const res = await fetch('/rooms', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'group', name: 'Trip planning', members: ['bob'] }),
      });
      return res.json();
    });
    assert.ok(room.roomId, JSON.stringify(room));
    await bob.page.getByTestId('room-item').filter({ hasText: 'Trip planning' }).waitFor({ timeout: STEP_MS });

    // The message to find, then enough after it that it is not on the
    // page the room opens with.
    const needle = 'Meet at the Zeppelin museum — Grüße from Friedrichshafen!';
    const fillers = Array.from({ length: FILLERS }, (_, i) => `filler message number ${i}`);
    const [seq] = await sendAll(alice.page, room.roomId, [needle, ...fillers]);

    // Bob searches (a prefix, another case) a moment later and finds it.
    await searchFor(bob.page, 'zeppel');
    const results = bob.page.getByTestId('search-result');
    await results.first().waitFor({ timeout: STEP_MS });
    assert.equal(await results.count(), 1);
    const hit = results.first();
    assert.equal(await hit.getAttribute('data-room-id'), room.roomId);
    assert.equal(await hit.getAttribute('data-seq'), String(seq));
    assert.match(await hit.textContent(), /Trip planning/);
    assert.equal(await hit.locator('mark').first().textContent(), 'Zeppelin');
    await shot(bob, 'search-results.png');

    // Choosing it opens the room at that message, older than the first page.
    await hit.click();
    await bob.page.getByTestId('conversation-title').filter({ hasText: 'Trip planning' }).waitFor({ timeout: STEP_MS });
    const target = bob.page.locator('#message-list [data-search-target="true"]');
    await target.waitFor({ timeout: STEP_MS });
    assert.equal(await target.getAttribute('data-seq'), String(seq));
    assert.equal(await target.getByTestId('message-body').textContent(), needle);
    const inView = await target.evaluate((node) => {
      const box = node.getBoundingClientRect();
      const pane = document.getElementById('message-scroll').getBoundingClientRect();
      return box.top >= pane.top && box.bottom <= pane.bottom;
    });
    assert.ok(inView, 'the message is scrolled into view');
    await shot(bob, 'search-jump.png');

    // Carol is in no room with it: nothing found.
    await searchFor(carol.page, 'zeppelin');
    await carol.page.getByTestId('search-status').filter({ hasText: 'No messages match.' }).waitFor({ timeout: STEP_MS });
    assert.equal(await carol.page.getByTestId('search-result').count(), 0);

    for (const u of users) assert.deepEqual(u.errors, [], `${u.name}'s page logged no errors`);
    if (process.env.CHAT_LOCAL_TEMPLATE) {
      const { denied } = await (await fetch(`${server.url}/dev/denied`)).json();
      assert.deepEqual(denied, [], 'IAM denied calls of the stack about to deploy');
    }
  } catch (e) {
    for (const u of users) {
      try { if (!u.page.isClosed()) await shot(u, `search-failure-${u.name.toLowerCase()}.png`); } catch { /* best effort */ }
    }
    const tail = server ? server.output.slice(-60).join('\n') : '';
    e.message += `\n--- errors: ${JSON.stringify(users.map((u) => u.errors))}\n--- chat-local output (tail):\n${tail}`;
    throw e;
  }
});
