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
import {
  launchBrowser, messageWithBody, newUser, OUT, send, sendQuiet, shot, signIn, idToken,
  startServer, STEP_MS, teardown, TOKEN_TTL_SECS, waitForAttr, waitForFrame,
} from './harness.mjs';

let server = null;
after(teardown);

// --------------------------------------------------------------------- test

test('two users chat through the web app', { timeout: 180_000 }, async (t) => {
  const started = Date.now();
  server = await startServer();
  t.diagnostic(`chat-local at ${server.url}`);

  await launchBrowser();
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
