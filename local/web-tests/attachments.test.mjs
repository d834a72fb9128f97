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
import {
  launchBrowser, newUser, signIn, startServer, STEP_MS, teardown,
} from './harness.mjs';
import { png } from './png.mjs';

// CHAT_LOCAL_TEMPLATE (harness.mjs): the synthesized stack, each function's
// role enforced on its S3 actions too.
after(teardown);

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
