// RestClient's own rules, against a scripted fetch: a 401 refreshes the
// token once, a 429 waits its Retry-After, errors decode into ApiError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, RestClient } from '../dist/index.js';

function scripted(answers) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, auth: init.headers.authorization, method: init.method, body: init.body });
    const a = answers.shift();
    if (!a) throw new Error('no more answers');
    return new Response(a.body === undefined ? null : JSON.stringify(a.body), { status: a.status, headers: a.headers });
  };
  return { fetch, calls };
}

test('a 401 asks for a fresh token once and retries with it', async () => {
  const { fetch, calls } = scripted([
    { status: 401, body: { error: { code: 'unauthorized', message: 'expired' } } },
    { status: 200, body: { userId: 'u', displayName: 'U', avatarUrl: null, updatedAt: 1 } },
  ]);
  const asked = [];
  const rest = new RestClient({ baseUrl: 'http://x/', fetch, getToken: async ({ forceRefresh }) => { asked.push(forceRefresh); return forceRefresh ? 'new' : 'old'; } });
  assert.equal((await rest.me()).userId, 'u');
  assert.deepEqual(asked, [false, true]);
  assert.deepEqual(calls.map((c) => [c.url, c.auth]), [['http://x/users/me', 'Bearer old'], ['http://x/users/me', 'Bearer new']]);
});

test('a second 401 is the caller\'s: ApiError with the code', async () => {
  const { fetch } = scripted([
    { status: 401, body: { error: { code: 'unauthorized', message: 'no' } } },
    { status: 401, body: { error: { code: 'unauthorized', message: 'still no' } } },
  ]);
  const rest = new RestClient({ baseUrl: 'http://x', fetch, getToken: async () => 't' });
  await assert.rejects(rest.me(), (e) => e instanceof ApiError && e.status === 401 && e.code === 'unauthorized' && e.message === 'still no');
});

test('a 429 is retried after its Retry-After, and nothing else is', async () => {
  const { fetch, calls } = scripted([
    { status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'rate_limited', message: 'slow down' } } },
    { status: 201, body: { roomId: 'r', kind: 'group', name: 'n', ownerId: 'u', createdAt: 1, members: [] } },
    { status: 403, body: { error: { code: 'forbidden', message: 'not a member' } } },
  ]);
  const rest = new RestClient({ baseUrl: 'http://x', fetch, getToken: async () => 't' });
  const t0 = Date.now();
  const room = await rest.createRoom({ kind: 'group', name: 'n', members: [] });
  assert.equal(room.roomId, 'r');
  assert.ok(Date.now() - t0 >= 950, 'waited the Retry-After');
  assert.deepEqual(JSON.parse(calls[1].body), { kind: 'group', name: 'n', members: [] });
  await assert.rejects(rest.getRoom('r/../x'), (e) => e instanceof ApiError && e.status === 403 && e.code === 'forbidden');
  assert.equal(calls[2].url, 'http://x/rooms/r%2F..%2Fx', 'path parameters are encoded');
});

test('an unreachable server is an ApiError with status 0', async () => {
  const rest = new RestClient({ baseUrl: 'http://x', fetch: async () => { throw new TypeError('fetch failed'); }, getToken: async () => 't' });
  await assert.rejects(rest.channels(), (e) => e instanceof ApiError && e.status === 0 && e.code === 'network');
});

test('upload asks for a slot, PUTs the file to the store with the slot\'s headers, and answers the id', async () => {
  const calls = [];
  const slot = {
    attachmentId: 'a1', method: 'PUT', uploadUrl: 'http://store/pending/a1?sig=x',
    headers: { 'content-type': 'image/png', 'x-amz-meta-owner': 'u' }, expiresAt: 1,
  };
  const answers = [{ status: 201, body: slot }, { status: 200 }, { status: 201, body: slot }, { status: 403 }];
  const fetch = async (url, init) => {
    calls.push({ url, method: init.method, headers: init.headers, body: init.body });
    const a = answers.shift();
    return new Response(a.body === undefined ? null : JSON.stringify(a.body), { status: a.status });
  };
  const rest = new RestClient({ baseUrl: 'http://x', fetch, getToken: async () => 't' });
  const file = new File([new Uint8Array([1, 2, 3])], 'dot.png', { type: 'image/png' });
  assert.equal(await rest.upload('r_1', file, { width: 1, height: 1 }), 'a1');
  assert.equal(calls[0].url, 'http://x/rooms/r_1/attachments');
  assert.deepEqual(JSON.parse(calls[0].body), { contentType: 'image/png', size: 3, fileName: 'dot.png', width: 1, height: 1 });
  assert.equal(calls[1].url, slot.uploadUrl);
  assert.equal(calls[1].method, 'PUT');
  assert.deepEqual(calls[1].headers, slot.headers, 'exactly the signed headers, no token');
  assert.equal(calls[1].body, file);
  await assert.rejects(rest.upload('r_1', file), (e) => e instanceof ApiError && e.status === 403);
});

test('block, unblock and the block list call their routes, the user id encoded', async () => {
  const { fetch, calls } = scripted([
    { status: 201, body: { userId: 'a b', createdAt: 5 } },
    { status: 200, body: { blocks: [{ userId: 'a b', createdAt: 5 }] } },
    { status: 204 },
  ]);
  const rest = new RestClient({ baseUrl: 'http://x', fetch, getToken: async () => 't' });
  assert.equal((await rest.block('a b')).createdAt, 5);
  assert.equal((await rest.blocks()).blocks.length, 1);
  assert.equal(await rest.unblock('a b'), null);
  assert.deepEqual(calls.map((c) => [c.method, c.url]), [
    ['PUT', 'http://x/users/me/blocks/a%20b'],
    ['GET', 'http://x/users/me/blocks'],
    ['DELETE', 'http://x/users/me/blocks/a%20b'],
  ]);
});

test('mute and unmute a person call their routes and answer the policy', async () => {
  const policy = { dnd: { mode: 'off' }, mentionsOnly: false, mentionsOnlyRooms: [], mutedRooms: [], mutedUsers: ['carol'] };
  const { fetch, calls } = scripted([{ status: 200, body: policy }, { status: 200, body: { ...policy, mutedUsers: [] } }]);
  const rest = new RestClient({ baseUrl: 'http://x', fetch, getToken: async () => 't' });
  assert.deepEqual((await rest.mute('carol')).mutedUsers, ['carol']);
  assert.deepEqual((await rest.unmute('carol')).mutedUsers, []);
  assert.deepEqual(calls.map((c) => [c.method, c.url]), [
    ['PUT', 'http://x/users/me/mutes/carol'],
    ['DELETE', 'http://x/users/me/mutes/carol'],
  ]);
});

test('devices: register a subscription or a mobile token, list and remove them', async () => {
  const view = { deviceId: 'd_AAAAAAAAAAAAAAAAAAAAAA', kind: 'fcm', endpoint: 'fcm:abc…', createdAt: 1 };
  const { fetch, calls } = scripted([
    { status: 201, body: view },
    { status: 200, body: { devices: [view] } },
    { status: 204 },
  ]);
  const rest = new RestClient({ baseUrl: 'http://x', fetch, getToken: async () => 't' });
  assert.equal((await rest.registerDevice({ kind: 'fcm', token: 'abc' })).kind, 'fcm');
  assert.equal((await rest.listDevices()).devices.length, 1);
  await rest.removeDevice('d_AAAAAAAAAAAAAAAAAAAAAA');
  assert.deepEqual(calls.map((c) => [c.method, c.url]), [
    ['POST', 'http://x/users/me/devices'],
    ['GET', 'http://x/users/me/devices'],
    ['DELETE', 'http://x/users/me/devices/d_AAAAAAAAAAAAAAAAAAAAAA'],
  ]);
  assert.deepEqual(JSON.parse(calls[0].body), { kind: 'fcm', token: 'abc' });
});
