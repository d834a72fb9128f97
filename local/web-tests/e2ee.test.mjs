// The web app's end-to-end encryption (local/web/ui/e2ee.js, WebCrypto)
// against the vector made with Python's `cryptography`
// (client/tests/vectors/e2ee-v1.json), which the Rust client checks too:
// the JS opens it, reseals it byte for byte from the same random values,
// computes the same safety number, and what it seals the Python-made key
// opens, while a moved ciphertext does not.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { aad, generateDeviceKey, importPrivate, open, publicKeyOf, safetyNumber, seal, unb64 } from '../web/ui/e2ee.js';

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
