// Browser test of the web app's service worker, served by chat-local: the
// app registers /sw.js at its root scope and it becomes active (it is what
// shows offline notifications and opens their room when clicked), and
// /sw.js is served as a script that may control the whole app. What the
// worker shows is the payload docs/PROTOCOL.md describes; headless
// Chromium has no push service, so the notifications themselves are
// checked in the outbox by the e2e suite (local/tests/e2e/notify.rs).
//
//   npm test --prefix local/web-tests
//
// Env as harness.mjs: CHAT_LOCAL_BIN, CHROMIUM_BIN, CHAT_LOCAL_TEMPLATE,
// CHAT_LOCAL_ARGS.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newUser as openPage, shot, signIn, startServer, STEP_MS, teardown } from './harness.mjs';

let server = null;
after(teardown);

test('the app registers its service worker at the root scope and it becomes active', { timeout: 120_000 }, async (t) => {
  server = await startServer();
  t.diagnostic(`chat-local at ${server.url}`);
  const head = await fetch(`${server.url}/sw.js`);
  assert.equal(head.status, 200);
  assert.match(head.headers.get('content-type') || '', /^text\/javascript/);
  assert.equal(head.headers.get('service-worker-allowed'), '/');
  assert.equal(head.headers.get('cache-control'), 'no-cache');
  const config = await (await fetch(`${server.url}/config.json`)).json();
  assert.match(config.vapidPublicKey, /^B[A-Za-z0-9_-]{86}$/, 'the VAPID public key to subscribe with');

  await launchBrowser();
  const bob = await openPage('Bob');
  try {
    await signIn(bob, 'Bob');
    const sw = await bob.page.evaluate(async (ms) => {
      const reg = await Promise.race([
        navigator.serviceWorker.ready,
        new Promise((_, fail) => setTimeout(() => fail(new Error('no service worker became ready')), ms)),
      ]);
      return { scope: reg.scope, script: reg.active && reg.active.scriptURL, state: reg.active && reg.active.state };
    }, STEP_MS);
    assert.equal(sw.scope, `${new URL(server.url).origin}/`);
    assert.equal(sw.script, `${new URL(server.url).origin}/sw.js`);
    assert.ok(['activating', 'activated'].includes(sw.state), JSON.stringify(sw));
  } catch (e) {
    await shot(bob, 'push-failure');
    throw e;
  }
});
