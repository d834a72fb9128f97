// The web app's end-to-end encryption (local/web/ui/e2ee.js, WebCrypto)
// against the vector made with Python's `cryptography`
// (client/tests/vectors/e2ee-v1.json), which the Rust client checks too:
// the JS opens it, reseals it byte for byte from the same random values,
// computes the same safety number, and what it seals the Python-made key
// opens, while a moved ciphertext does not.
//
// Then the web app served by chat-local: Alice and Bob talk in an encrypted
// direct room both ways while the server holds only ciphertext; their
// safety numbers match; Bob's new browser is "Bob's keys changed" on
// Alice's page (flagged in the header, as she had verified him); and the
// page talks with the Rust client's example `e2ee_peer` both ways (its
// answers are sealed replies; Carol's sealed edit opens in Rust). Dave
// edits a sealed message (Up arrow, then its edit button) and Erin reads
// each edit; she replies from the menu and both pages quote their opened
// copy, while the server's quote has no text.
//
// Files: Frank attaches a real PNG, the page encrypts it before upload,
// Gina's page decrypts and shows it, the server holds only ciphertext under a neutral
// name and type, and a download changed on the way shows a clear error.
//
//   cargo build -p chat-local && cargo build -p chat-client --example e2ee_peer
//   CHAT_LOCAL_BIN=$CARGO_TARGET_DIR/debug/chat-local npm test --prefix local/web-tests
//
// Env as harness.mjs; E2EE_PEER_BIN names the example's binary (default:
// beside chat-local, in examples/).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';

import {
  launchBrowser, messageWithBody, newUser as openPage, send, shot, signIn, startServer, STEP_MS, teardown, waitForAttr, waitForFrame,
} from './harness.mjs';

import {
  aad, b64, editAad, generateDeviceKey, importPrivate, open, openEdit, openFile, publicKeyOf, safetyNumber, seal, sealEdit,
  sealFile, unb64,
} from '../web/ui/e2ee.js';
import { png } from './png.mjs';

const v = JSON.parse(readFileSync(new URL('../../client/tests/vectors/e2ee-v1.json', import.meta.url)));
const hex = (h) => Uint8Array.from(h.match(/../g), (x) => parseInt(x, 16));

test('the Python vector opens, reseals byte for byte, and gives the same safety number', async () => {
  const me = await importPrivate(hex(v.recipientPrivate), unb64(v.recipientPublic));
  const content = await open(v.sealed, v.roomId, v.senderId, v.clientMsgId, v.recipientUserId, v.recipientDeviceId, me, v.recipientPublic);
  assert.equal(content.body, v.body);

  const ephRaw = unb64(v.sealed.envelopes[0].ephemeralKey);
  const eph = await importPrivate(hex(v.ephemeralPrivate), ephRaw);
  const again = await seal(
    v.roomId,
    v.senderId,
    v.clientMsgId,
    { body: v.body },
    [{ userId: v.recipientUserId, deviceId: v.recipientDeviceId, publicKey: v.recipientPublic }],
    { messageKey: hex(v.messageKey), nonce: hex(v.nonce), ephemerals: [{ pair: eph, publicRaw: ephRaw, nonce: hex(v.envelopeNonce) }] },
  );
  assert.deepEqual(again, v.sealed);

  assert.equal(await safetyNumber(v.senderId, v.senderKeys, v.recipientUserId, v.recipientKeys), v.safetyNumber);
  assert.equal(await safetyNumber(v.recipientUserId, v.recipientKeys, v.senderId, v.senderKeys), v.safetyNumber);
});

test('fresh keys: every device opens, a moved ciphertext does not', async () => {
  const bob = await generateDeviceKey();
  const bobPub = await publicKeyOf(bob);
  const alice = await generateDeviceKey();
  const alicePub = await publicKeyOf(alice);
  const to = [
    { userId: 'alice', deviceId: 'a1', publicKey: alicePub },
    { userId: 'bob', deviceId: 'b1', publicKey: bobPub },
  ];
  const s = await seal('dme_x', 'alice', 'c1', { body: 'hi bob' }, to);
  assert.equal((await open(s, 'dme_x', 'alice', 'c1', 'bob', 'b1', bob, bobPub)).body, 'hi bob');
  assert.equal((await open(s, 'dme_x', 'alice', 'c1', 'alice', 'a1', alice, alicePub)).body, 'hi bob');
  await assert.rejects(open(s, 'dme_y', 'alice', 'c1', 'bob', 'b1', bob, bobPub));
  await assert.rejects(open(s, 'dme_x', 'bob', 'c1', 'bob', 'b1', bob, bobPub));
  await assert.rejects(open(s, 'dme_x', 'alice', 'c2', 'bob', 'b1', bob, bobPub));
  await assert.rejects(open(s, 'dme_x', 'alice', 'c1', 'bob', 'b2', bob, bobPub));
  assert.equal(new TextDecoder().decode(aad('r', 's', 'c')), 'chat-e2ee/v1\nr\ns\nc');
});

test('an edit opens only as the edit of its message, never as a send; a flipped byte does not open', async () => {
  const bob = await generateDeviceKey();
  const bobPub = await publicKeyOf(bob);
  const to = [{ userId: 'bob', deviceId: 'b1', publicKey: bobPub }];
  // The format docs/PROTOCOL.md gives and core/src/e2ee.rs::edit_aad builds.
  assert.equal(new TextDecoder().decode(editAad('dme_x', 'alice', 4)), 'chat-e2ee/v1 edit\ndme_x\nalice\n4');
  const s = await sealEdit('dme_x', 'alice', 4, { body: 'noon, not ten' }, to);
  assert.equal((await openEdit(s, 'dme_x', 'alice', 4, 'bob', 'b1', bob, bobPub)).body, 'noon, not ten');
  await assert.rejects(openEdit(s, 'dme_x', 'alice', 5, 'bob', 'b1', bob, bobPub), 'another message\'s edit');
  await assert.rejects(openEdit(s, 'dme_x', 'bob', 4, 'bob', 'b1', bob, bobPub), 'another sender\'s');
  await assert.rejects(open(s, 'dme_x', 'alice', '4', 'bob', 'b1', bob, bobPub), 'not a send');
  const sent = await seal('dme_x', 'alice', '4', { body: 'x' }, to);
  await assert.rejects(openEdit(sent, 'dme_x', 'alice', 4, 'bob', 'b1', bob, bobPub), 'a send is no edit');
  const ct = unb64(s.ciphertext);
  ct[0] ^= 1;
  await assert.rejects(openEdit({ ...s, ciphertext: b64(ct) }, 'dme_x', 'alice', 4, 'bob', 'b1', bob, bobPub), 'a flipped byte');
});

test('a file opens only with its key, in its room, from its sender', async () => {
  const bytes = png(3, 2, [10, 200, 30]);
  const f = await sealFile('dme_x', 'alice', bytes);
  assert.equal(f.ciphertext.length, bytes.length + 16, 'the bytes and the tag');
  const entry = { key: f.key, nonce: f.nonce, size: bytes.length };
  assert.deepEqual(Buffer.from(await openFile('dme_x', 'alice', f.ciphertext, entry)), bytes);
  const flipped = Uint8Array.from(f.ciphertext);
  flipped[5] ^= 1;
  await assert.rejects(openFile('dme_x', 'alice', flipped, entry));
  await assert.rejects(openFile('dme_y', 'alice', f.ciphertext, entry));
  await assert.rejects(openFile('dme_x', 'bob', f.ciphertext, entry));
  const other = await sealFile('dme_x', 'alice', bytes);
  await assert.rejects(openFile('dme_x', 'alice', f.ciphertext, { ...entry, key: other.key }));
  await assert.rejects(openFile('dme_x', 'alice', f.ciphertext, { ...entry, size: bytes.length + 1 }), /size/);
  assert.notDeepEqual(other.ciphertext, f.ciphertext, 'a fresh key and nonce per file');
});

// ------------------------------------------------------------ the web app

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let server = null;
after(teardown);

async function serverUp() {
  if (!server) {
    server = await startServer();
    await launchBrowser();
  }
  return server;
}

async function newUser(name, opts = {}) {
  const user = await openPage(name, opts);
  await signIn(user, name);
  return user;
}

async function axe(page, view) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const finite = document.getAnimations().filter((an) => an.effect && an.effect.getTiming().iterations !== Infinity);
    await Promise.all(finite.map((an) => an.finished.catch(() => {})));
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} ×${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
  });
  assert.deepEqual(violations, [], `axe-core in view "${view}"`);
}

/** Starts the encrypted direct room with `peer` from the new-chat dialog (keyboard: the checkbox with Space). */
async function startEncrypted(user, peer) {
  const { page } = user;
  await page.getByTestId('new-chat-button').click();
  await page.getByTestId('new-chat-kind-direct').click();
  await page.getByTestId('new-chat-user').fill(peer);
  await page.getByTestId('new-chat-e2ee').focus();
  await page.keyboard.press('Space');
  assert.equal(await page.getByTestId('new-chat-e2ee').isChecked(), true);
  await page.getByTestId('new-chat-submit').click();
  await page.locator('[data-testid="e2ee-badge"]:not([hidden])').waitFor({ timeout: STEP_MS });
  const id = decodeURIComponent(new URL(page.url()).hash.replace(/^#\/r\//, ''));
  assert.match(id, /^dme_/, 'an encrypted direct room');
  return id;
}

/**
 * Opens the only conversation of the list (titled "Direct message" until its
 * details load) once its preview shows `preview` opened: the list is redrawn
 * when the page opens it, and a click during that redraw would be lost.
 */
async function openRoomItem(user, title, preview) {
  await user.page.getByTestId('room-item').filter({ hasText: preview }).click({ timeout: STEP_MS });
  await user.page.getByTestId('conversation-title').filter({ hasText: title }).waitFor({ timeout: STEP_MS });
}

async function devToken(userId) {
  const r = await fetch(`${server.url}/dev/token`, { method: 'POST', body: JSON.stringify({ userId }), headers: { 'content-type': 'application/json' } });
  return (await r.json()).token;
}

async function safetyNumberOn(user) {
  const { page } = user;
  await page.getByTestId('safety-button').click();
  const n = page.locator('[data-testid="safety-number"][data-number]');
  await n.waitFor({ timeout: STEP_MS });
  const digits = await n.getAttribute('data-number');
  assert.match(digits, /^(\d{5} ){11}\d{5}$/);
  return digits;
}

test('the web app: sealed both ways, only ciphertext stored, equal safety numbers, a key change shown', { timeout: 240_000 }, async (t) => {
  await serverUp();
  t.diagnostic(`chat-local at ${server.url}`);
  const alice = await newUser('Alice', { controlSockets: true });
  const bob = await newUser('Bob');
  const users = [alice, bob];
  try {
    const roomId = await startEncrypted(alice, 'bob');
    const secrets = ['the vault code is 7319', 'meet under the clock tower', 'bring the blue folder'];
    await send(alice.page, secrets[0]);
    // The room shows on Bob's list with its first message.
    await openRoomItem(bob, 'Alice', secrets[0]);
    await bob.page.locator('[data-testid="e2ee-badge"]:not([hidden])').waitFor({ timeout: STEP_MS });
    await messageWithBody(bob.page, secrets[0]).waitFor({ timeout: STEP_MS });
    await send(bob.page, secrets[1]);
    await messageWithBody(alice.page, secrets[1]).waitFor({ timeout: STEP_MS });
    await send(alice.page, secrets[2]);
    await messageWithBody(bob.page, secrets[2]).waitFor({ timeout: STEP_MS });
    await messageWithBody(alice.page, secrets[0]).locator('[data-testid="message-status"][data-status="delivered"], [data-testid="message-status"][data-status="read"]').waitFor({ timeout: STEP_MS });
    await axe(alice.page, 'encrypted conversation');

    // What the server holds, as its history API reads the store: sealed
    // payloads, empty bodies, none of the words; its search finds nothing.
    const token = await devToken('alice');
    const auth = { headers: { authorization: `Bearer ${token}` } };
    let history = null;
    for (const until = Date.now() + STEP_MS; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
      history = await (await fetch(`${server.url}/rooms/${roomId}/messages?limit=50`, auth)).json();
      if (history.messages.length >= 3) break; // all stored (the template's queue batches)
    }
    assert.equal(history.messages.length, 3);
    for (const m of history.messages) {
      assert.equal(m.body, '', 'no plaintext body stored');
      assert.equal(m.sealed.v, 1);
      assert.ok(m.sealed.ciphertext.length > 20 && m.sealed.envelopes.length === 2, JSON.stringify(m.sealed));
    }
    const raw = JSON.stringify(history);
    for (const w of ['vault', '7319', 'clock tower', 'blue folder']) assert.ok(!raw.includes(w), `"${w}" is not in what the server holds`);
    const found = await (await fetch(`${server.url}/search?q=vault`, auth)).json();
    assert.deepEqual(found.hits, [], 'the server indexes nothing of an encrypted room');

    // The page's own search finds it, in what the page opened.
    await alice.page.getByTestId('room-search').fill('vault');
    const hit = alice.page.getByTestId('search-result').filter({ hasText: 'vault code' });
    await hit.waitFor({ timeout: STEP_MS });
    assert.equal(await hit.getAttribute('data-room-id'), roomId);
    await alice.page.getByTestId('room-search').fill('');

    // Safety numbers: the same on both pages; Alice marks Bob verified.
    const a = await safetyNumberOn(alice);
    const b = await safetyNumberOn(bob);
    assert.equal(a, b, 'both see one safety number');
    await axe(alice.page, 'safety number dialog');
    await shot(alice, 'e2ee-safety-number.png');
    await alice.page.getByTestId('safety-verify').click();
    await alice.page.getByTestId('safety-status').filter({ hasText: 'You verified Bob' }).waitFor({ timeout: STEP_MS });
    await alice.page.keyboard.press('Escape');
    await bob.page.keyboard.press('Escape');
    await alice.page.locator('[data-testid="e2ee-badge"][data-state="verified"]').waitFor({ timeout: STEP_MS });

    // Bob signs in on a new browser: a new device key. Alice's page says so
    // in the room, and the header flags her verified peer.
    const bob2 = await newUser('Bob');
    users.push(bob2);
    const notice = alice.page.getByTestId('member-notice').filter({ hasText: "Bob's keys changed" });
    await notice.waitFor({ timeout: STEP_MS });
    await alice.page.locator('[data-testid="e2ee-badge"][data-state="changed"]').waitFor({ timeout: STEP_MS });
    await shot(alice, 'e2ee-keys-changed.png');
    await axe(alice.page, 'keys changed');
    // The new number differs; verifying again clears the flag.
    const a2 = await safetyNumberOn(alice);
    assert.notEqual(a2, a, 'a new key, a new safety number');
    await alice.page.getByTestId('safety-verify').click();
    await alice.page.keyboard.press('Escape');
    await alice.page.locator('[data-testid="e2ee-badge"][data-state="verified"]').waitFor({ timeout: STEP_MS });

    // Sealed to both of Bob's devices now: each opens it; what was sealed
    // before the new browser existed cannot be opened there.
    const fresh = 'hello both of your browsers';
    await send(alice.page, fresh);
    await messageWithBody(bob.page, fresh).waitFor({ timeout: STEP_MS });
    await openRoomItem(bob2, 'Alice', fresh);
    await messageWithBody(bob2.page, fresh).waitFor({ timeout: STEP_MS });
    await messageWithBody(bob2.page, "Can't decrypt this message").first().waitFor({ timeout: STEP_MS });
    assert.equal(await messageWithBody(bob2.page, secrets[0]).count(), 0);
    await shot(bob2, 'e2ee-new-device.png');

    // A seal from stale keys: Bob adds a device while Alice's page misses
    // the keysChanged frame (its socket's listeners frozen until the frame
    // went by). The server refuses her seal (conflict, naming the device);
    // the page reads the keys again and seals once more, and Bob reads it.
    await alice.page.evaluate(() => { for (const w of window.__sockets) w.__frozen = true; });
    const seen = alice.frames.length; // frames from here on: the new device's
    const extra = await generateDeviceKey();
    const bobToken = await devToken('bob');
    const put = await fetch(`${server.url}/users/me/keys/bob-extra`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${bobToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'bob', publicKey: await publicKeyOf(extra) }),
    });
    assert.equal(put.status, 201);
    await waitForFrame(alice, (f) => f.type === 'keysChanged' && f.userId === 'bob' && alice.frames.indexOf(f) >= seen, 'keysChanged reached the (frozen) page');
    await alice.page.evaluate(() => { for (const w of window.__sockets) w.__frozen = false; });
    const retried = 'sealed again after a conflict';
    await send(alice.page, retried);
    await waitForFrame(alice, (f) => f.type === 'error' && f.code === 'conflict', 'the stale seal was refused');
    await messageWithBody(bob.page, retried).waitFor({ timeout: STEP_MS });
    await waitForAttr(messageWithBody(alice.page, retried).getByTestId('message-status'), 'data-status', ['sent', 'delivered', 'read'], 'the resealed message was acked');
    // Stored once persisted (the template's queue batches for a second).
    const cmid = await messageWithBody(alice.page, retried).getAttribute('data-client-msg-id');
    let stored = null;
    for (const until = Date.now() + STEP_MS; !stored && Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
      stored = (await (await fetch(`${server.url}/rooms/${roomId}/messages?limit=50`, auth)).json()).messages.find((m) => m.clientMsgId === cmid);
    }
    assert.ok(stored, `"${retried}" (${cmid}) is stored`);
    assert.deepEqual(stored.sealed.envelopes.map((e) => `${e.userId}/${e.deviceId}`).filter((d) => d.startsWith('bob/')).length, 3, 'sealed to all three of Bob\'s devices');

    for (const u of users) assert.deepEqual(u.errors, [], `${u.name}'s page logged no errors`);
  } catch (e) {
    for (const u of users) {
      try { if (!u.page.isClosed()) await shot(u, `e2ee-failure-${u.name.toLowerCase()}.png`); } catch { /* best effort */ }
    }
    e.message += `\n--- errors: ${JSON.stringify(users.map((u) => u.errors))}\n--- chat-local output (tail):\n${server ? server.output.slice(-60).join('\n') : ''}`;
    throw e;
  } finally {
    for (const u of users) await u.context.close().catch(() => {});
  }
});

test('the web app: a sealed edit (Up arrow, then the menu) and a sealed reply (menu), read by both; the server holds no text', { timeout: 180_000 }, async () => {
  await serverUp();
  const dave = await newUser('Dave');
  const erin = await newUser('Erin');
  const users = [dave, erin];
  const row = (page, seq) => page.getByTestId('message-list').locator(`[data-testid="message"][data-seq="${seq}"]`);
  try {
    const roomId = await startEncrypted(dave, 'erin');
    await send(dave.page, 'the review is at ten');
    await openRoomItem(erin, 'Dave', 'the review is at ten');
    await messageWithBody(erin.page, 'the review is at ten').waitFor({ timeout: STEP_MS });
    const mine = messageWithBody(dave.page, 'the review is at ten');
    await waitForAttr(mine, 'data-status', ['sent', 'delivered', 'read'], 'the message was acked');
    const seq = await mine.getAttribute('data-seq');

    // Up in the empty composer: the opened text to edit; Enter seals it.
    const input = dave.page.getByTestId('composer-input');
    await input.click();
    await input.press('ArrowUp');
    await dave.page.getByTestId('edit-banner').waitFor({ state: 'visible', timeout: STEP_MS });
    assert.equal(await input.inputValue(), 'the review is at ten');
    await input.fill('the review is at eleven');
    await input.press('Enter');
    await row(erin.page, seq).getByTestId('message-edited').waitFor({ timeout: STEP_MS });
    await messageWithBody(erin.page, 'the review is at eleven').waitFor({ timeout: STEP_MS });
    await messageWithBody(dave.page, 'the review is at eleven').getByTestId('message-edited').waitFor({ timeout: STEP_MS });

    // Again from the message's edit button.
    const r = row(dave.page, seq);
    await r.hover();
    await r.getByTestId('edit-button').click();
    assert.equal(await input.inputValue(), 'the review is at eleven');
    await input.fill('the review moved to noon');
    await input.press('Enter');
    const edited = messageWithBody(erin.page, 'the review moved to noon');
    await edited.getByTestId('message-edited').waitFor({ timeout: STEP_MS });

    // Erin replies from the menu: the quote is her opened copy, on both pages.
    await edited.hover();
    await edited.getByTestId('message-menu-button').click();
    await erin.page.getByTestId('message-menu').getByTestId('message-reply').click();
    await erin.page.getByTestId('reply-bar-text').filter({ hasText: 'the review moved to noon' }).waitFor({ timeout: STEP_MS });
    await send(erin.page, 'noon suits everyone');
    for (const u of users) {
      const reply = messageWithBody(u.page, 'noon suits everyone');
      await reply.getByTestId('reply-quote').filter({ hasText: 'the review moved to noon' }).waitFor({ timeout: STEP_MS });
    }
    await axe(erin.page, 'encrypted reply and edit');

    // The server's copy: sealed edit, a quote without text, none of the words.
    const auth = { headers: { authorization: `Bearer ${await devToken('dave')}` } };
    let history = null;
    for (const until = Date.now() + STEP_MS; Date.now() < until; await new Promise((res) => setTimeout(res, 200))) {
      history = await (await fetch(`${server.url}/rooms/${roomId}/messages?limit=50`, auth)).json();
      if (history.messages.length >= 2) break;
    }
    const [first, reply] = history.messages;
    assert.ok(first.editedAt && first.sealed && first.body === '', JSON.stringify(first));
    assert.deepEqual([reply.replyTo.seq, reply.replyTo.excerpt, reply.replyTo.sealed], [Number(seq), '', true]);
    const raw = JSON.stringify(history);
    for (const w of ['review', 'eleven', 'noon', 'suits']) assert.ok(!raw.includes(w), `"${w}" is not in what the server holds`);
    for (const u of users) assert.deepEqual(u.errors, [], `${u.name}'s page logged no errors`);
  } catch (e) {
    for (const u of users) {
      try { if (!u.page.isClosed()) await shot(u, `e2ee-edits-failure-${u.name.toLowerCase()}.png`); } catch { /* best effort */ }
    }
    e.message += `\n--- errors: ${JSON.stringify(users.map((u) => u.errors))}\n--- chat-local output (tail):\n${server ? server.output.slice(-60).join('\n') : ''}`;
    throw e;
  } finally {
    for (const u of users) await u.context.close().catch(() => {});
  }
});

test('the web app: a PNG is encrypted before upload, opened on the other side, and a changed download is refused', { timeout: 180_000 }, async (t) => {
  await serverUp();
  // A pair of their own: a fresh encrypted room, whatever ran before.
  const alice = await newUser('Frank');
  const bob = await newUser('Gina');
  const users = [alice, bob];
  try {
    const roomId = await startEncrypted(alice, 'gina');
    const hello = 'a picture is coming';
    await send(alice.page, hello);
    await openRoomItem(bob, 'Frank', hello);
    await messageWithBody(bob.page, hello).waitFor({ timeout: STEP_MS });

    const dir = join(tmpdir(), `chat-e2ee-files-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    const bytes = png(24, 16, [30, 90, 220]);
    const file = join(dir, 'secret-floorplan.png');
    writeFileSync(file, bytes);

    // First, Bob's page gets a download with one byte changed on the way:
    // it must say it cannot decrypt the file, and show nothing of it.
    await bob.page.route(/\/blobs\/rooms\//, async (route) => {
      const resp = await route.fetch();
      const body = Buffer.from(await resp.body());
      body[body.length - 1] ^= 1;
      await route.fulfill({ response: resp, body });
    });
    await alice.page.getByTestId('composer-file').setInputFiles(file);
    const bad = bob.page.getByTestId('message-list').getByTestId('message-file-error');
    await bad.waitFor({ timeout: STEP_MS });
    assert.match(await bad.textContent(), /Can't decrypt this file: secret-floorplan\.png/);
    assert.equal(await bob.page.getByTestId('message-list').getByTestId('message-image').count(), 0);
    await bob.page.unroute(/\/blobs\/rooms\//);

    // Then the same file again, untouched: Bob sees the image, decrypted.
    await alice.page.getByTestId('composer-file').setInputFiles([]);
    await alice.page.getByTestId('composer-file').setInputFiles(file);
    // Alice's own copies, acked (shown from the file she picked).
    await alice.page.getByTestId('message-list').getByTestId('message')
      .filter({ has: alice.page.getByTestId('message-image') })
      .and(alice.page.locator('[data-status="sent"], [data-status="delivered"], [data-status="read"]'))
      .nth(1).waitFor({ timeout: STEP_MS });
    const img = bob.page.getByTestId('message-list').locator('[data-testid="message-image"][data-sealed="true"]');
    await img.waitFor({ timeout: STEP_MS });
    const shown = async () => img.evaluate((i) => ({ complete: i.complete, w: i.naturalWidth, h: i.naturalHeight, alt: i.alt, src: i.src }));
    let s = await shown();
    for (const until = Date.now() + STEP_MS; !(s.complete && s.w > 0) && Date.now() < until; s = await shown()) await bob.page.waitForTimeout(100);
    assert.deepEqual([s.w, s.h, s.alt], [24, 16, 'secret-floorplan.png'], JSON.stringify(s));
    assert.match(s.src, /^blob:/, 'rendered from the decrypted bytes in page memory');
    // The first, changed one still says so.
    assert.equal(await bad.count(), 1);
    await axe(bob.page, 'encrypted image');
    await shot(bob, 'e2ee-image.png');

    // What the server holds: two octet-stream objects named "sealed", of
    // the ciphertext's size, whose bytes are not the PNG; nothing of the
    // name or type anywhere in what it stores.
    const token = await devToken('frank');
    const auth = { headers: { authorization: `Bearer ${token}` } };
    let files = [];
    let raw = '';
    for (const until = Date.now() + STEP_MS; files.length < 2 && Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
      const history = await (await fetch(`${server.url}/rooms/${roomId}/messages?limit=50`, auth)).json();
      raw = JSON.stringify(history);
      files = history.messages.flatMap((m) => m.attachments || []);
    }
    assert.equal(files.length, 2, raw);
    for (const a of files) {
      assert.deepEqual([a.contentType, a.fileName, a.size, a.width, a.height], ['application/octet-stream', 'sealed', bytes.length + 16, undefined, undefined]);
      const got = Buffer.from(await (await fetch(a.url)).arrayBuffer());
      assert.equal(got.length, bytes.length + 16);
      assert.ok(!got.equals(bytes) && got.indexOf(bytes.subarray(0, 8)) < 0 && got.indexOf(bytes.subarray(16, 24)) < 0, 'the stored object is not the PNG');
    }
    for (const w of ['floorplan', 'image/png']) assert.ok(!raw.includes(w), `"${w}" is not in what the server holds`);

    // An edit of the message with the image seals the new text and the
    // file's key again (the edit's content replaces the whole): Bob reads
    // the caption and still sees the image.
    const imageRow = bob.page.getByTestId('message-list').getByTestId('message')
      .filter({ has: bob.page.locator('[data-testid="message-image"][data-sealed="true"]') });
    const imageSeq = await imageRow.getAttribute('data-seq');
    const input = alice.page.getByTestId('composer-input');
    await input.click();
    await input.press('ArrowUp');
    await alice.page.getByTestId('edit-banner').waitFor({ state: 'visible', timeout: STEP_MS });
    await input.fill('the new floor');
    await input.press('Enter');
    const edited = bob.page.getByTestId('message-list').locator(`[data-testid="message"][data-seq="${imageSeq}"]`);
    await edited.getByTestId('message-edited').waitFor({ timeout: STEP_MS });
    await messageWithBody(bob.page, 'the new floor').waitFor({ timeout: STEP_MS });
    const still = edited.locator('[data-testid="message-image"][data-sealed="true"]');
    await still.waitFor({ timeout: STEP_MS });
    assert.match(await still.getAttribute('src'), /^blob:/, 'the edited message still opens its file');

    for (const u of users) assert.deepEqual(u.errors.filter((e) => !/Failed to load resource/.test(e)), [], `${u.name}'s page logged no errors`);
  } catch (e) {
    for (const u of users) {
      try { if (!u.page.isClosed()) await shot(u, `e2ee-files-failure-${u.name.toLowerCase()}.png`); } catch { /* best effort */ }
    }
    e.message += `\n--- errors: ${JSON.stringify(users.map((u) => u.errors))}\n--- chat-local output (tail):\n${server ? server.output.slice(-60).join('\n') : ''}`;
    throw e;
  } finally {
    for (const u of users) await u.context.close().catch(() => {});
  }
});

function peerBinary() {
  if (process.env.E2EE_PEER_BIN) return resolve(process.env.E2EE_PEER_BIN);
  if (process.env.CHAT_LOCAL_BIN) return join(dirname(resolve(process.env.CHAT_LOCAL_BIN)), 'examples', 'e2ee_peer');
  if (process.env.CARGO_TARGET_DIR) return resolve(process.env.CARGO_TARGET_DIR, 'debug', 'examples', 'e2ee_peer');
  return resolve(dirname(new URL(import.meta.url).pathname), '..', '..', 'target', 'debug', 'examples', 'e2ee_peer');
}

test('the web app and the Rust client (example e2ee_peer) talk sealed both ways', { timeout: 180_000 }, async (t) => {
  await serverUp();
  const bin = peerBinary();
  assert.ok(existsSync(bin), `the example is built: cargo build -p chat-client --example e2ee_peer (looked for ${bin})`);
  const carol = await newUser('Carol');
  const lines = [];
  const peer = spawn(bin, [server.url, 'rusty', 'carol'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  peer.stdout.setEncoding('utf8');
  peer.stdout.on('data', (c) => { buf += c; let i; while ((i = buf.indexOf('\n')) >= 0) { lines.push(buf.slice(0, i)); buf = buf.slice(i + 1); } });
  peer.stderr.setEncoding('utf8');
  peer.stderr.on('data', (c) => lines.push(`[err] ${c.trim()}`));
  const line = async (re, what) => {
    const deadline = Date.now() + STEP_MS;
    for (;;) {
      const l = lines.find((x) => re.test(x));
      if (l) return l;
      if (Date.now() > deadline || peer.exitCode !== null) throw new Error(`e2ee_peer: ${what}; it printed:\n${lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    const ready = await line(/^ready dme_/, 'not ready');
    const roomId = ready.split(' ')[1];
    t.diagnostic(ready);
    // Carol starts the encrypted room with rusty: the one the Rust client made.
    assert.equal(await startEncrypted(carol, 'rusty'), roomId);
    const text = 'sealed in a browser, opened in Rust';
    await send(carol.page, text);
    await line(new RegExp(`^opened carol: ${text}$`), 'the browser\'s message was not opened');
    const echo = messageWithBody(carol.page, `echo: ${text}`);
    await echo.waitFor({ timeout: STEP_MS });
    await line(/^replied \d+$/, 'no reply acknowledged');
    // The Rust reply quotes Carol's message: her page quotes its own copy.
    await echo.getByTestId('reply-quote').filter({ hasText: text }).waitFor({ timeout: STEP_MS });
    // Carol's edit, sealed by WebCrypto, opens in Rust as that message's edit.
    const seq = await messageWithBody(carol.page, text).getAttribute('data-seq');
    const input = carol.page.getByTestId('composer-input');
    await input.click();
    await input.press('ArrowUp');
    await carol.page.getByTestId('edit-banner').waitFor({ state: 'visible', timeout: STEP_MS });
    await input.fill('edited in a browser, opened in Rust');
    await input.press('Enter');
    await line(new RegExp(`^opened edit ${seq}: edited in a browser, opened in Rust$`), 'the browser\'s edit was not opened');
    assert.deepEqual(carol.errors, []);
  } finally {
    peer.kill('SIGTERM');
    await carol.context.close().catch(() => {});
  }
});
