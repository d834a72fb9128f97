// Browser test of attachments in the web app served by chat-local: Alice
// attaches a real PNG with the attach button (the file goes to chat-local's
// object store through an upload slot, never through the API), and Bob sees
// the image rendered in the conversation, downloaded from its presigned URL.
//
//   npm test --prefix local/web-tests
//
// Env: CHAT_LOCAL_BIN (default $CARGO_TARGET_DIR/debug/chat-local, else
// target/debug/chat-local), CHROMIUM_BIN (default /usr/bin/chromium),
// CHAT_LOCAL_TEMPLATE (a synthesized template chat-local runs).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import {
  launchBrowser, newUser, signIn, startServer, STEP_MS, teardown,
} from './harness.mjs';

// CHAT_LOCAL_TEMPLATE (harness.mjs): the synthesized stack, each function's
// role enforced on its S3 actions too.
after(teardown);

/** A real PNG of `w` × `h` pixels, one colour (RGB, 8 bits). */
function png(w, h, [r, g, b]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => { let c = 0xffffffff; for (const x of buf) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4); sum.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8 bits, RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: w }, () => [r, g, b]).flat())]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

async function user(name) {
  const u = await newUser(name);
  await signIn(u, name);
  return u;
}

test('a PNG attached by one user is rendered for the other', { timeout: 120_000 }, async () => {
  await startServer();
  await launchBrowser();
  const alice = await user('Alice');
  const bob = await user('Bob');

  await alice.page.getByTestId('new-chat-button').click();
  await alice.page.getByTestId('new-chat-kind-direct').click();
  await alice.page.getByTestId('new-chat-user').fill('bob');
  await alice.page.getByTestId('new-chat-submit').click();
  await alice.page.getByTestId('conversation-title').filter({ hasText: /bob/i }).waitFor({ timeout: STEP_MS });

  const dir = join(tmpdir(), `chat-attachments-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'red-square.png');
  writeFileSync(file, png(24, 16, [220, 30, 30]));
  // The attach button opens this input; the test sets the file on it.
  await alice.page.getByTestId('composer-file').setInputFiles(file);

  // Alice's own message, acked: the ack carries its attachments too.
  await alice.page.getByTestId('message-list').getByTestId('message')
    .filter({ has: alice.page.getByTestId('message-image') })
    .and(alice.page.locator('[data-status="sent"], [data-status="delivered"], [data-status="read"]'))
    .waitFor({ timeout: STEP_MS });

  // Bob opens the room and sees the image, decoded at its real size.
  await bob.page.getByTestId('room-item').first().click();
  const img = bob.page.getByTestId('message-list').getByTestId('message-image');
  await img.waitFor({ timeout: STEP_MS }).catch(async (e) => {
    console.error(await bob.page.getByTestId('message-list').innerHTML());
    throw e;
  });
  const shown = async () => img.evaluate((i) => ({ complete: i.complete, w: i.naturalWidth, h: i.naturalHeight, alt: i.alt, src: i.src, width: i.getAttribute('width') }));
  const deadline = Date.now() + STEP_MS;
  let s = await shown();
  while (!(s.complete && s.w > 0) && Date.now() < deadline) {
    await bob.page.waitForTimeout(100);
    s = await shown();
  }
  assert.deepEqual([s.w, s.h, s.alt], [24, 16, 'red-square.png'], JSON.stringify(s));
  assert.equal(s.width, '24', 'the size the browser measured was recorded with it');
  assert.match(s.src, /\/blobs\/rooms\/[^/]+\/[0-9a-f]+\?X-Chat-Expires=\d+.*X-Chat-Signature=/, 'a presigned URL');
  // The file came from the store: the bytes Bob's page loaded are the PNG.
  const fetched = await bob.page.evaluate(async (src) => {
    const r = await fetch(src);
    return { status: r.status, type: r.headers.get('content-type'), size: (await r.arrayBuffer()).byteLength };
  }, s.src);
  assert.deepEqual(fetched, { status: 200, type: 'image/png', size: png(24, 16, [220, 30, 30]).length });
  assert.deepEqual([...alice.errors, ...bob.errors], [], 'no page errors');
});
