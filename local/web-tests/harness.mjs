// What the browser tests share: chat-local on a free port, headless
// Chromium, users signed in through the hosted UI twin, and waits that poll
// the page (never sleep). Used by every browser test file.
//
// Env: CHAT_LOCAL_BIN (the chat-local binary; default target/debug/chat-local
// of this repo, or $CARGO_TARGET_DIR/debug/chat-local), CHROMIUM_BIN
// (default /usr/bin/chromium), CHAT_LOCAL_TEMPLATE (a synthesized template:
// chat-local runs that stack, IAM enforced), CHAT_LOCAL_ARGS (more
// chat-local options, space-separated, after those).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const OUT = join(here, 'out');
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
export const STEP_MS = 15_000;
// ID token lifetime the server issues: short, so the app refreshes during the test.
export const TOKEN_TTL_SECS = 6;

function binaryPath() {
  if (process.env.CHAT_LOCAL_BIN) return resolve(process.env.CHAT_LOCAL_BIN);
  if (process.env.CARGO_TARGET_DIR) return resolve(process.env.CARGO_TARGET_DIR, 'debug', 'chat-local');
  return resolve(here, '..', '..', 'target', 'debug', 'chat-local');
}

// ------------------------------------------------------------------ server

let server = null;       // {child, url, output: string[]}
let browser = null;

/** Headless Chromium, launched once per test file. */
export async function launchBrowser() {
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  return browser;
}

/** Spawns chat-local on a free port; resolves once it says it listens. */
/** Spawns chat-local (`env`: more environment, e.g. rate limits); resolves once it listens. */
export function startServer({ env = {}, template = true } = {}) {
  const bin = binaryPath();
  if (!existsSync(bin)) {
    throw new Error(`chat-local binary not found at ${bin}: build it with \`cargo build -p chat-local\` or set CHAT_LOCAL_BIN`);
  }
  const stack = template && process.env.CHAT_LOCAL_TEMPLATE ? ['--template', resolve(process.env.CHAT_LOCAL_TEMPLATE)] : [];
  const extra = (process.env.CHAT_LOCAL_ARGS || '').split(' ').filter(Boolean);
  const child = spawn(bin, [...stack, '--port', '0', '--token-ttl-secs', String(TOKEN_TTL_SECS), ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn', ...env },
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

export async function stopServer() {
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

/** Closes the browser and stops chat-local (an `after` hook of each file). */
export async function teardown() {
  try { if (browser) await browser.close(); } catch { /* already closed */ }
  browser = null;
  await stopServer();
}

// ------------------------------------------------------------------ helpers

/**
 * Signs in as the app does against Cognito: the app's button goes to
 * /oauth2/authorize (PKCE S256), the hosted UI twin's page takes the name,
 * and the app exchanges the code it gets back for tokens.
 */
export async function signIn(user, name) {
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
export function idToken(page) {
  return page.evaluate(() => (JSON.parse(sessionStorage.getItem('chat.auth.v1') || 'null') || {}).idToken);
}

// Lets the test drop a page's WebSocket and hold off its reconnection, to
// check reconnect + sync + resend. Only the test context is wrapped; the
// page's own code is what runs.
function socketControl() {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.__blockWs = false;
  // `socket.__frozen = true`: the socket goes silent both ways without
  // closing (a network that vanished). `window.__intercept(frame)` may
  // answer a sent frame itself (returns the reply, which is not sent on).
  window.__intercept = null;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      // Blocked: dial a port nothing listens on, so the attempt fails.
      super(window.__blockWs ? 'ws://127.0.0.1:9/' : url, protocols);
      this.__frozen = false;
      this.__listeners = [];
      window.__sockets.push(this);
    }
    addEventListener(type, fn, opts) {
      if (type !== 'message') return super.addEventListener(type, fn, opts);
      this.__listeners.push(fn);
      return super.addEventListener(type, (ev) => { if (!this.__frozen) fn(ev); }, opts);
    }
    send(data) {
      if (this.__frozen) return;
      const reply = window.__intercept && window.__intercept(JSON.parse(data));
      if (reply) {
        setTimeout(() => { for (const fn of this.__listeners) fn({ data: JSON.stringify(reply) }); }, 5);
        return;
      }
      super.send(data);
    }
  };
}

export async function newUser(name, { controlSockets = false } = {}) {
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
export function messageWithBody(page, text) {
  return page.getByTestId('message-list').getByTestId('message')
    .filter({ has: page.getByTestId('message-body').getByText(text, { exact: true }) });
}

export async function waitForAttr(locator, name, values, what) {
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

export async function waitForFrame(user, pred, what) {
  const deadline = Date.now() + STEP_MS;
  while (!user.frames.some(pred)) {
    if (Date.now() > deadline) throw new Error(`${what}: no such frame within ${STEP_MS} ms: ${JSON.stringify(user.frames.filter((f) => f.type !== 'message' && f.type !== 'syncResult').slice(-8))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function send(page, text) {
  const input = page.getByTestId('composer-input');
  await input.fill(text);
  await input.press('Enter');
}

/**
 * Sends without typing notices (the value is set, not typed): the fault
 * stages below count bob's frames, three tries of each message's push.
 */
export async function sendQuiet(page, text) {
  const input = page.getByTestId('composer-input');
  await input.evaluate((el, t) => { el.value = t; }, text);
  await input.press('Enter');
}

export async function shot(user, file) {
  mkdirSync(OUT, { recursive: true });
  await user.page.screenshot({ path: join(OUT, file) });
}


const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's WCAG 2.1 A/AA rules on the page as it is: no violations.
 * Injected through the devtools protocol, so the app's CSP stays on;
 * finite animations (a colour-scheme switch, a toast) end first.
 */
export async function assertNoViolations(page, view) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const finite = document.getAnimations().filter((an) => an.effect && an.effect.getTiming().iterations !== Infinity);
    await Promise.all(finite.map((an) => an.finished.catch(() => {})));
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} ×${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
  });
  assert.deepEqual(violations, [], `axe-core in view "${view}"`);
}
