// Browser test of message search in the web app served by chat-local: a
// word of a message sent a moment earlier is found from the sidebar's search
// box by a member, not by someone outside the room, and choosing the result
// opens the room scrolled to that message, paging its history back to it
// (it is older than the newest page the room opens with).
//
//   npm test --prefix local/web-tests
//
// Env as harness.mjs: CHAT_LOCAL_BIN, CHROMIUM_BIN, CHAT_LOCAL_TEMPLATE,
// CHAT_LOCAL_ARGS.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchBrowser, newUser as openPage, shot, signIn, startServer, STEP_MS, teardown,
} from './harness.mjs';

/** More than the 50 messages the web app opens a room with. */
const FILLERS = 70;

let server = null;
after(teardown);

async function newUser(name) {
  const user = await openPage(name);
  await signIn(user, name);
  return user;
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


test('search finds a word of a message sent a moment earlier, for members only, and jumps to it', { timeout: 180_000 }, async (t) => {
  server = await startServer();
  t.diagnostic(`chat-local at ${server.url}`);
  await launchBrowser();
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
