// Browser test of the web app's service worker, served by chat-local: the
// app registers /sw.js at its root scope and it becomes active (it is what
// shows offline notifications and opens their room when clicked), and
// /sw.js is served as a script that may control the whole app. What the
// worker shows is the payload docs/PROTOCOL.md describes. Then the whole
// way of an offline notification: bob turns notifications on from the bell
// (headless Chromium has no push service: the app says why and registers a
// subscription of the real shape whose notifications go to chat-local's
// outbox), leaves; alice writes; the outbox holds bob's notification
// (sender, room, count, no body) and his page shows it and opens its room.
//
//   npm test --prefix local/web-tests
//
// Env as harness.mjs: CHAT_LOCAL_BIN, CHROMIUM_BIN, CHAT_LOCAL_TEMPLATE,
// CHAT_LOCAL_ARGS.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertNoViolations, idToken, launchBrowser, messageWithBody, newUser as openPage, send, shot, signIn, startServer, STEP_MS, teardown, waitForAttr,
} from './harness.mjs';

let server = null;
let launched = false;
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
  launched = true;
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
    await shot(bob, 'push-failure.png');
    throw e;
  } finally {
    await bob.context.close(); // gone: the next test's bob is offline when he leaves
  }
});

// ------------------------------------------------- offline notifications

/** The caller's devices over REST, with the page's own token. */
async function devicesOf(user) {
  const res = await fetch(`${server.url}/users/me/devices`, { headers: { authorization: `Bearer ${await idToken(user.page)}` } });
  assert.equal(res.status, 200);
  return (await res.json()).devices;
}

/** Polls the outbox until `pred` holds for one of `userId`'s notifications. */
async function outboxEntry(userId, pred, what) {
  const deadline = Date.now() + STEP_MS;
  let last = [];
  while (Date.now() < deadline) {
    const res = await fetch(`${server.url}/dev/notifications?userId=${encodeURIComponent(userId)}`);
    assert.equal(res.status, 200);
    last = (await res.json()).notifications;
    const hit = last.find(pred);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not in the outbox within ${STEP_MS} ms: ${JSON.stringify(last)}`);
}

test('bob turns notifications on, is offline when alice writes, and the notification reaches the outbox and his page', { timeout: 180_000 }, async (t) => {
  if (!server) server = await startServer();
  if (!launched) { await launchBrowser(); launched = true; }
  const alice = await openPage('Alice');
  const bob = await openPage('Bob');
  try {
    await signIn(alice, 'Alice');
    await signIn(bob, 'Bob');
    const config = await (await fetch(`${server.url}/config.json`)).json();
    assert.equal(config.dev, true, 'chat-local says it is the local platform');

    // Alice opens a direct room with bob.
    await alice.page.getByTestId('new-chat-button').click();
    await alice.page.getByTestId('new-chat-user').fill('bob');
    await alice.page.getByTestId('new-chat-submit').click();
    await alice.page.getByTestId('conversation-title').filter({ hasText: /bob/i }).waitFor({ timeout: STEP_MS });
    const roomId = decodeURIComponent(new URL(alice.page.url()).hash.replace('#/r/', ''));
    await bob.page.locator(`[data-testid="room-item"][data-room-id="${roomId}"]`).waitFor({ timeout: STEP_MS });

    // The bell: reached by keyboard, opens the dialog; nothing on for bob yet.
    const bell = bob.page.getByTestId('notify-button');
    await bell.focus();
    await bob.page.keyboard.press('Enter');
    const dialog = bob.page.getByTestId('notify-dialog');
    await dialog.waitFor({ state: 'visible', timeout: STEP_MS });
    await bob.page.getByTestId('notify-status').filter({ hasText: 'Off in this browser' }).waitFor({ timeout: STEP_MS });
    await bob.page.getByTestId('notify-outbox').waitFor({ timeout: STEP_MS });
    await assertNoViolations(bob.page, 'bell dialog open');

    // Permission not granted (headless Chromium denies by default): the dialog says why.
    await bob.page.getByTestId('notify-enable').click();
    await bob.page.getByTestId('notify-error').filter({ hasText: /blocked for this site|did not allow/ }).waitFor({ timeout: STEP_MS });

    // Granted: the app subscribes with the VAPID key. Headless Chromium has no
    // push service, so subscribe() rejects and the dialog says so, offering
    // the local outbox; a browser with one registers its real subscription.
    await bob.context.grantPermissions(['notifications'], { origin: server.url });
    const turnOn = async () => {
      await bob.page.getByTestId('notify-enable').click();
      const on = bob.page.getByTestId('notify-status').filter({ hasText: /^On:/ });
      const refused = bob.page.getByTestId('notify-error').filter({ hasText: /push service|refused to subscribe|Subscribing to push failed/ });
      await on.or(refused).first().waitFor({ timeout: STEP_MS });
      if (await refused.isVisible()) {
        const why = await refused.textContent();
        t.diagnostic(`no push service here: ${why}`);
        assert.match(why, /\([A-Za-z]+Error: /, 'the browser\'s own reason is shown');
        await bob.page.getByTestId('notify-outbox-fallback').click();
        await bob.page.getByTestId('notify-status').filter({ hasText: 'local outbox' }).waitFor({ timeout: STEP_MS });
        assert.equal(await bob.page.getByTestId('notify-error').isVisible(), false, 'the error is gone once it worked');
      } else {
        t.diagnostic('this Chromium has a push service: the real subscription is registered');
      }
      await on.waitFor({ timeout: STEP_MS });
    };
    await turnOn();

    // The device list shows it, endpoint masked; the server has it with a real key shape.
    const row = bob.page.getByTestId('notify-device');
    await row.first().waitFor({ timeout: STEP_MS });
    assert.equal(await row.count(), 1);
    const masked = await row.getByTestId('notify-device-endpoint').textContent();
    const [device] = await devicesOf(bob);
    assert.equal(device.kind, 'webpush');
    assert.notEqual(masked, device.endpoint, 'the endpoint is masked');
    assert.ok(masked.includes(new URL(device.endpoint).host), masked);
    await assertNoViolations(bob.page, 'bell dialog with a device');
    await shot(bob, 'push-devices.png');
    await bob.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden', timeout: STEP_MS });
    assert.equal(await bob.page.evaluate(() => document.activeElement.dataset.testid), 'notify-button', 'focus back on the bell');

    // Bob leaves the app (his socket closes); alice sees him offline, then writes.
    await bob.page.goto('about:blank');
    await waitForAttr(alice.page.getByTestId('peer-presence'), 'data-status', 'offline', 'alice sees bob offline');
    await send(alice.page, 'Are you there, Bob?');
    const n = await outboxEntry('bob', (e) => e.roomId === roomId, 'bob\'s notification');
    assert.equal(n.senderId, 'alice');
    assert.equal(n.count, 1);
    assert.equal(n.deviceId, device.deviceId);
    assert.ok(!('body' in n), `no body by default: ${JSON.stringify(n)}`);

    // Bob comes back: the bell counts it, the dev panel shows it as the system would.
    await bob.page.goto(`${server.url}/`);
    await bob.page.locator('[data-testid="connection-status"][data-state="online"]').waitFor({ timeout: STEP_MS });
    await bob.page.locator('[data-testid="notify-button"][aria-label="Notifications, 1 new"]').waitFor({ timeout: STEP_MS });
    await bob.page.getByTestId('notify-button').click();
    const item = bob.page.getByTestId('notify-outbox-item');
    await item.first().waitFor({ timeout: STEP_MS });
    assert.equal(await item.count(), 1);
    assert.equal(await item.getAttribute('data-room-id'), roomId);
    assert.equal(await item.getByTestId('notify-outbox-sender').textContent(), 'Alice');
    assert.equal(await item.getByTestId('notify-outbox-text').textContent(), 'New message');
    await assertNoViolations(bob.page, 'bell dialog with the outbox');
    await shot(bob, 'push-outbox.png');
    await item.click();
    await dialog.waitFor({ state: 'hidden', timeout: STEP_MS });
    await bob.page.getByTestId('conversation-title').filter({ hasText: /alice/i }).waitFor({ timeout: STEP_MS });
    assert.equal(decodeURIComponent(new URL(bob.page.url()).hash.replace('#/r/', '')), roomId);
    await messageWithBody(bob.page, 'Are you there, Bob?').waitFor({ timeout: STEP_MS });

    // The policy is reachable: this room muted, then every message again.
    await bob.page.getByTestId('notify-button').click();
    const level = bob.page.getByTestId('notify-room-level');
    assert.equal(await level.inputValue(), 'all');
    await level.selectOption('muted');
    const muted = async () => {
      const res = await fetch(`${server.url}/users/me/notifications`, { headers: { authorization: `Bearer ${await idToken(bob.page)}` } });
      return (await res.json()).mutedRooms;
    };
    for (let i = 0; i < 50 && !(await muted()).includes(roomId); i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await muted(), [roomId]);
    await level.selectOption('all');
    for (let i = 0; i < 50 && (await muted()).length; i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await muted(), []);

    // Remove: the device is gone from the list and from the server.
    await bob.page.getByTestId('notify-device-remove').click();
    await bob.page.getByTestId('notify-devices').getByTestId('notify-device').first().waitFor({ state: 'detached', timeout: STEP_MS });
    await bob.page.getByTestId('notify-status').filter({ hasText: 'Off in this browser' }).waitFor({ timeout: STEP_MS });
    assert.deepEqual(await devicesOf(bob), []);
    // On again, then Turn off: unsubscribed and the device removed.
    await turnOn();
    assert.equal((await devicesOf(bob)).length, 1);
    await bob.page.getByTestId('notify-disable').click();
    await bob.page.getByTestId('notify-status').filter({ hasText: 'Off in this browser' }).waitFor({ timeout: STEP_MS });
    assert.deepEqual(await devicesOf(bob), []);
    assert.equal(await bob.page.getByTestId('notify-device').count(), 0);
    assert.equal(await bob.page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      return reg ? await reg.pushManager.getSubscription() : null;
    }), null, 'no push subscription left');
    // Chromium logs its own reason for the refused subscribe (a Playwright
    // context is incognito: no Push API); the app logged nothing.
    assert.deepEqual(bob.errors.filter((e) => !/does not support the Push API in incognito mode/.test(e)), []);
  } catch (e) {
    await shot(bob, 'push-notify-failure.png');
    await shot(alice, 'push-notify-failure-alice.png');
    throw e;
  }
});
