// Shared by the SDK's tests: a real chat-local on a free port, development
// tokens, clients wired to `ws`, and a TCP proxy a test can cut or freeze.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { ChatClient } from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));

function binaryPath() {
  if (process.env.CHAT_LOCAL_BIN) return resolve(process.env.CHAT_LOCAL_BIN);
  if (process.env.CARGO_TARGET_DIR) return resolve(process.env.CARGO_TARGET_DIR, 'debug', 'chat-local');
  return resolve(here, '..', '..', '..', 'target', 'debug', 'chat-local');
}

/** Spawns chat-local on a free port; resolves once it says it listens. */
export function startServer(args = []) {
  const bin = binaryPath();
  if (!existsSync(bin)) {
    throw new Error(`chat-local binary not found at ${bin}: build it with \`cargo build -p chat-local\` or set CHAT_LOCAL_BIN`);
  }
  const child = spawn(bin, ['--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'warn' },
  });
  const output = [];
  const keep = (l) => { output.push(l); if (output.length > 200) output.shift(); };
  return new Promise((resolveP, reject) => {
    const timer = setTimeout(() => reject(new Error(`chat-local did not report a port within 60 s\n${output.join('\n')}`)), 60_000);
    let buf = '';
    let url = null;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        keep(`[out] ${line}`);
        const m = /chat-local listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(line);
        if (m && !url) {
          url = m[1];
          clearTimeout(timer);
          resolveP({
            child,
            url,
            port: Number(m[2]),
            output,
            async stop() {
              if (child.exitCode !== null || child.signalCode !== null) return;
              const exited = new Promise((r) => child.once('exit', r));
              child.kill('SIGINT');
              const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
              await exited;
              clearTimeout(t);
            },
          });
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c) => { for (const l of c.split('\n')) if (l) keep(`[err] ${l}`); });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code, signal) => {
      if (!url) { clearTimeout(timer); reject(new Error(`chat-local exited (${code ?? signal}) before listening\n${output.join('\n')}`)); }
    });
  });
}

/** `POST /dev/token`: a development token for `userId`. */
export async function devToken(base, userId) {
  const res = await fetch(`${base}/dev/token`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId }),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`dev token: ${res.status} ${JSON.stringify(body)}`);
  return body.token;
}

/** `POST /dev/faults` (README, "Fault lab"). */
export async function stageFaults(base, faults) {
  const res = await fetch(`${base}/dev/faults`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults),
  });
  return res.json();
}

/** Waits until the staged push failures have all happened. */
export async function pushesSpent(base) {
  for (let i = 0; ; i++) {
    const { pushesPending } = await (await fetch(`${base}/dev/faults`)).json();
    if (pushesPending === 0) return;
    if (i > 150) throw new Error(`staged push failures did not happen: ${pushesPending} left`);
    await sleep(100);
  }
}

let unique = 0;
/** A user id no other test uses. */
export function freshUser(name) {
  unique += 1;
  return `${name}-${process.pid}-${unique}`;
}

/**
 * A ChatClient for `userId` against `server` (or `wsBase`, e.g. a proxy),
 * started; resolves once online. `getToken` may be overridden.
 */
export async function client(server, userId, opts = {}) {
  const token = await devToken(server.url, userId);
  const { wsBase, ...rest } = opts;
  const c = new ChatClient({
    wsUrl: `${(wsBase ?? server.url).replace(/^http/, 'ws')}/local`,
    restUrl: server.url,
    getToken: async () => token,
    WebSocket,
    backoff: { baseMs: 50, maxMs: 500 },
    ...rest,
  });
  const online = waitFor(c, 'connection', (e) => e.state === 'online');
  await c.start();
  await online;
  return c;
}

/** Resolves with the first `event` payload that `pred` accepts (or rejects after `ms`). */
export function waitFor(emitter, event, pred = () => true, ms = 10_000) {
  return new Promise((resolveP, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`timed out waiting for ${event}`)); }, ms);
    const off = emitter.on(event, (p) => {
      if (!pred(p)) return;
      clearTimeout(timer);
      off();
      resolveP(p);
    });
  });
}

/** Polls `cond` until true (or throws after `ms`). */
export async function until(cond, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(25);
  }
  throw new Error(`timed out: ${what}`);
}

/** `promise`, or a rejection naming `what` after `ms`. */
export function within(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A TCP proxy on a free loopback port in front of `port`. `freeze(dir)`
 * silently drops what flows on the connections open now ('down': server to
 * client, 'up', or 'both'): a peer that vanished without a FIN, no close
 * ever fires. `cut()` drops every connection; `refuse(true)` closes new
 * ones at once.
 */
export async function tcpProxy(port) {
  const pairs = new Set();
  let refusing = false;
  const server = net.createServer((down) => {
    if (refusing) { down.destroy(); return; }
    const up = net.connect(port, '127.0.0.1');
    const pair = { down, up, frozenUp: false, frozenDown: false };
    pairs.add(pair);
    down.on('data', (d) => { if (!pair.frozenUp) up.write(d); });
    up.on('data', (d) => { if (!pair.frozenDown) down.write(d); });
    const end = () => { pairs.delete(pair); down.destroy(); up.destroy(); };
    down.on('close', end); up.on('close', end);
    down.on('error', end); up.on('error', end);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${addr.port}`,
    freeze(dir = 'both') {
      for (const p of pairs) {
        if (dir !== 'up') p.frozenDown = true;
        if (dir !== 'down') p.frozenUp = true;
      }
    },
    cut() { for (const p of Array.from(pairs)) { p.down.destroy(); p.up.destroy(); } pairs.clear(); },
    refuse(on) { refusing = on; },
    get connections() { return pairs.size; },
    close() { this.cut(); return new Promise((r) => server.close(r)); },
  };
}
