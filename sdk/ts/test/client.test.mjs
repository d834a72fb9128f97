// The SDK against a real chat-local: reconnect and resend, hole recovery,
// rate limits, the pong deadline, typing, unread counts and receipts, token
// refresh, and the typed REST calls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ApiError, ChatClient } from '../dist/index.js';
import {
  client, devToken, freshUser, pushesSpent, sleep, stageFaults, startServer, tcpProxy, until, waitFor, within,
} from './helpers.mjs';

let server;
const open = [];
const proxies = [];
before(async () => { server = await startServer(); });
after(async () => {
  for (const c of open) c.close();
  // A test that failed half-way leaves its proxy listening: close them all.
  await Promise.all(proxies.map((p) => p.close()));
  await server?.stop();
});

async function newProxy() {
  const p = await tcpProxy(server.port);
  proxies.push(p);
  return p;
}

async function user(name, opts) {
  const id = freshUser(name);
  const c = await client(server, id, opts);
  open.push(c);
  return c;
}

/** alice and bob in a direct room, both following it. */
async function pair(aliceOpts = {}, bobOpts = {}) {
  const alice = await user('alice', aliceOpts);
  const bob = await user('bob', bobOpts);
  const added = waitFor(bob, 'rooms', () => bob.rooms.size === 1);
  const room = await alice.createRoom('direct', [bob.userId]);
  await added;
  await until(() => bob.messages(room.roomId) && bob.isSettled(room.roomId), 'bob follows the room');
  return { alice, bob, roomId: room.roomId };
}

const seqsOf = (c, roomId) => c.messages(roomId).map((m) => m.seq);
const bodiesOf = (c, roomId) => c.messages(roomId).map((m) => m.body);

function assertGapFree(c, roomId, what) {
  const s = seqsOf(c, roomId);
  assert.deepEqual(s, [...s].sort((a, b) => a - b), `${what}: in seq order`);
  assert.equal(new Set(s).size, s.length, `${what}: no seq twice`);
  const ids = c.messages(roomId).map((m) => m.messageId);
  assert.equal(new Set(ids).size, ids.length, `${what}: no message twice`);
}

test('a send whose ack was lost is resent after the reconnect and arrives once', async () => {
  const proxy = await newProxy();
  // No ack timeout within the test: only the reconnect can resend.
  const { alice, bob, roomId } = await pair({ wsBase: proxy.url, ackTimeoutMs: 120_000 });
  // The server gets the send and pushes it to bob, but the ack never reaches alice.
  proxy.freeze('down');
  const sent = alice.send(roomId, 'ack lost on the way');
  await until(() => bodiesOf(bob, roomId).includes('ack lost on the way'), 'bob got it');
  assert.equal(alice.pending(roomId).length, 1, 'still pending for alice');
  // And one written while the connection is down for good.
  proxy.cut();
  proxy.refuse(true);
  await waitFor(alice, 'connection', (e) => e.state === 'offline');
  const offline = alice.send(roomId, 'written offline');
  await sleep(200);
  assert.equal(alice.pending(roomId).length, 2, 'both pending while offline');
  proxy.refuse(false);
  const [first, second] = await within(Promise.all([sent, offline]), 5_000, 'both acked after the reconnect');
  // The resend answered the same message: bob's copy has the same id.
  const bobFirst = bob.messages(roomId).find((m) => m.body === 'ack lost on the way');
  assert.equal(first.messageId, bobFirst.messageId);
  await until(() => bodiesOf(bob, roomId).includes('written offline'), 'bob got the offline one');
  assert.equal(bob.messages(roomId).find((m) => m.body === 'written offline').messageId, second.messageId);
  // A later message proves the repeats (if any) were all seen.
  await alice.send(roomId, 'after');
  await until(() => bodiesOf(bob, roomId).includes('after'), 'bob got the last one');
  assert.deepEqual(bodiesOf(bob, roomId), ['ack lost on the way', 'written offline', 'after']);
  assert.deepEqual(bodiesOf(alice, roomId), ['ack lost on the way', 'written offline', 'after']);
  assert.equal(alice.pending(roomId).length, 0);
  assertGapFree(bob, roomId, 'bob');
  // Each resend burned a seq (the server counts one while it looks the key
  // up): bob's timeline went past them through sync, and holds no hole.
  const s = seqsOf(bob, roomId);
  assert.ok(s.at(-1) - s[0] + 1 > s.length, `a burned seq among ${s}`);
  await until(() => bob.isSettled(roomId), 'bob settled');
  await proxy.close();
});

test('holes are recovered live, and after a reconnect when the lost push was the newest', async () => {
  const proxy = await newProxy();
  const { alice, bob, roomId } = await pair({}, { wsBase: proxy.url });
  const sent = [];
  const sendAcked = async (body) => { sent.push((await alice.send(roomId, body)).seq); };
  await sendAcked('one');
  await until(() => seqsOf(bob, roomId).length === 1, 'bob has one');

  // Live: bob misses "two"; "three" reveals the hole and bob syncs it.
  let staged = await stageFaults(server.url, { failPushes: { userId: bob.userId, n: 3 } });
  assert.equal(staged.failPushes.connections.length, 1, JSON.stringify(staged));
  await sendAcked('two');
  await pushesSpent(server.url);
  await sendAcked('three');
  await until(() => seqsOf(bob, roomId).length === 3 && bob.isSettled(roomId), 'bob recovered two');
  assert.deepEqual(bodiesOf(bob, roomId), ['one', 'two', 'three']);

  // Offline: what alice sends while bob is away arrives with the sync after his reconnect.
  proxy.cut();
  proxy.refuse(true);
  await waitFor(bob, 'connection', (e) => e.state === 'offline');
  await sendAcked('four');
  await sendAcked('five');
  proxy.refuse(false);
  await until(() => seqsOf(bob, roomId).length === 5 && bob.isSettled(roomId), 'bob synced four and five');

  // The newest push is lost: no gap shows until the next message, but the
  // reconnect's sync finds it.
  staged = await stageFaults(server.url, { failPushes: { userId: bob.userId, n: 3 } });
  assert.equal(staged.failPushes.connections.length, 1, JSON.stringify(staged));
  await sendAcked('six');
  await pushesSpent(server.url);
  assert.equal(seqsOf(bob, roomId).length, 5, 'six was lost');
  proxy.cut();
  await until(() => seqsOf(bob, roomId).length === 6 && bob.isSettled(roomId), 'the reconnect recovered six');

  assert.deepEqual(bodiesOf(bob, roomId), ['one', 'two', 'three', 'four', 'five', 'six']);
  assert.deepEqual(seqsOf(bob, roomId), sent);
  assertGapFree(bob, roomId, 'bob');
  await proxy.close();
});

test('a room you were removed from while its push was lost is dropped at the next sync', async () => {
  const proxy = await newProxy();
  const alice = await user('alice');
  const bob = await user('bob', { wsBase: proxy.url });
  const added = waitFor(bob, 'rooms', () => bob.rooms.size === 1);
  const room = await alice.createRoom('group', [bob.userId], 'team');
  await added;
  // The room list roomAdded asked for must not answer after the removal
  // (it would drop the room on its own): let it, and any round it queued, finish.
  await bob.loadRooms();
  await bob.loadRooms();
  // The roomRemoved push to bob is lost.
  const staged = await stageFaults(server.url, { failPushes: { userId: bob.userId, n: 3 } });
  assert.equal(staged.failPushes.connections.length, 1, JSON.stringify(staged));
  await alice.removeMember(room.roomId, bob.userId);
  await pushesSpent(server.url);
  assert.ok(bob.rooms.has(room.roomId), 'bob does not know yet');
  // Reconnected, his sync of the room is refused: the room list drops it.
  const dropped = waitFor(bob, 'roomRemoved', (e) => e.roomId === room.roomId);
  proxy.cut();
  await dropped;
  assert.ok(!bob.rooms.has(room.roomId));
  assert.ok(bob.isSettled(room.roomId), 'no sync left outstanding for it');
  await proxy.close();
});

test('a group\'s members hear joins and leaves live, and the room\'s member list follows', async () => {
  const alice = await user('alice');
  const bob = await user('bob');
  const carol = await user('carol');
  const added = waitFor(bob, 'rooms', () => bob.rooms.size === 1);
  const room = await alice.createRoom('group', [bob.userId], 'team');
  await added;
  await bob.loadRoom(room.roomId);
  const joined = waitFor(bob, 'member', (e) => e.change === 'joined' && e.userId === carol.userId);
  await alice.addMember(room.roomId, carol.userId);
  assert.equal((await joined).by, alice.userId);
  await until(() => bob.rooms.get(room.roomId).members.has(carol.userId), 'bob\'s list shows carol');
  const left = waitFor(bob, 'member', (e) => e.change === 'left' && e.userId === carol.userId);
  await carol.removeMember(room.roomId, carol.userId);
  assert.equal((await left).by, carol.userId);
  await until(() => !bob.rooms.get(room.roomId).members.has(carol.userId), 'bob\'s list drops carol');
});

test('rate-limited sends are resent after retryAfterMs until each is acked once', async () => {
  const { alice, bob, roomId } = await pair();
  const limited = [];
  alice.on('rateLimited', (e) => limited.push(e));
  const bodies = Array.from({ length: 30 }, (_, i) => `burst ${i}`);
  const acks = await Promise.all(bodies.map((b) => alice.send(roomId, b)));
  assert.ok(limited.length > 0, 'the burst went over the connection limit (20)');
  assert.ok(limited.every((e) => e.retryAfterMs > 0 && e.clientMsgId), JSON.stringify(limited.slice(0, 3)));
  assert.equal(new Set(acks.map((a) => a.messageId)).size, 30, 'thirty messages');
  await until(() => seqsOf(bob, roomId).length === 30 && bob.isSettled(roomId), 'bob has all thirty');
  assert.deepEqual([...bodiesOf(bob, roomId)].sort(), [...bodies].sort());
  assertGapFree(bob, roomId, 'bob');
});

test('a socket gone silent is declared dead by the pong deadline and replaced', async () => {
  const proxy = await newProxy();
  const alice = await user('alice', { wsBase: proxy.url, pingIntervalMs: 300, pongTimeoutMs: 400 });
  // Pings are answered: the connection stays up over several intervals.
  const drops = [];
  alice.on('connection', (e) => { if (e.state === 'offline') drops.push(e); });
  await sleep(1_200);
  assert.deepEqual(drops, [], 'answered pings keep it up');
  // The network goes silent without closing anything.
  proxy.freeze('both');
  const t0 = Date.now();
  const dead = await waitFor(alice, 'connection', (e) => e.state === 'offline', 5_000);
  const took = Date.now() - t0;
  assert.match(dead.reason, /pong/);
  assert.ok(took < 3_000, `declared dead after ${took} ms (ping after 300 ms, deadline 400 ms)`);
  await waitFor(alice, 'connection', (e) => e.state === 'online', 5_000);
  assert.equal(alice.connectionState, 'online');
  await proxy.close();
});

test('a send on a socket gone silent is its own ping: dead within pongTimeoutMs, then delivered', async () => {
  const proxy = await newProxy();
  // The idle ping is 540 s away: only the send can notice.
  const alice = await user('alice', { wsBase: proxy.url, pingIntervalMs: 540_000, pongTimeoutMs: 500 });
  const bob = await user('bob');
  const added = waitFor(bob, 'rooms', () => bob.rooms.size === 1);
  const room = await alice.createRoom('direct', [bob.userId]);
  await added;
  await until(() => alice.isSettled(room.roomId) && !alice.awaitingReply, 'alice settled and verified');
  const liveness = [];
  alice.on('liveness', (e) => liveness.push(e.verified));
  proxy.freeze('both');
  const t0 = Date.now();
  const dead = waitFor(alice, 'connection', (e) => e.state === 'offline', 5_000);
  const sent = alice.send(room.roomId, 'into the void');
  const { reason } = await dead;
  const took = Date.now() - t0;
  assert.match(reason, /no ack/);
  assert.ok(took >= 450 && took < 2_000, `declared dead after ${took} ms (deadline 500 ms)`);
  assert.equal(liveness[0], false, 'unverified while the send awaited its ack');
  const ack = await within(sent, 10_000, 'the send is acked after the reconnect');
  await until(() => bob.messages(room.roomId).some((m) => m.messageId === ack.messageId), 'bob gets it');
  assert.ok(liveness.includes(true), 'verified again once a frame arrived');
  await proxy.close();
});

test('reconnect attempts back off exponentially, capped, with full jitter', async () => {
  const proxy = await newProxy();
  const alice = await user('alice', { wsBase: proxy.url, backoff: { baseMs: 100, maxMs: 400 } });
  const delays = [];
  alice.on('connection', (e) => { if (e.state === 'offline') delays.push(e.retryAt - Date.now()); });
  proxy.refuse(true);
  proxy.cut();
  await until(() => delays.length >= 8, 'eight failed attempts', 15_000);
  // Attempt n waits at most min(400, 100 * 2^n) ms; jitter spreads them.
  delays.slice(0, 8).forEach((d, n) => assert.ok(d <= Math.min(400, 100 * 2 ** n) + 5, `attempt ${n} waited ${d} ms`));
  assert.ok(new Set(delays.map((d) => Math.round(d / 10))).size > 2, `jittered: ${delays}`);
  proxy.refuse(false);
  await waitFor(alice, 'connection', (e) => e.state === 'online', 5_000);
  await proxy.close();
});

test('reconnectNow (the network is back) restarts the backoff: an attempt that fails after it waits at most baseMs', async () => {
  const proxy = await newProxy();
  const alice = await user('alice', { wsBase: proxy.url, backoff: { baseMs: 100, maxMs: 60_000 } });
  const delays = [];
  alice.on('connection', (e) => { if (e.state === 'offline') delays.push(e.retryAt - Date.now()); });
  proxy.refuse(true);
  proxy.cut();
  await until(() => delays.length >= 6, 'six failed attempts', 15_000);
  // The next wait may be up to 6.4 s; the network comes back (still
  // refused once more: the attempt in flight fails).
  const before = delays.length;
  alice.reconnectNow();
  await until(() => delays.length > before, 'the next attempt failed', 10_000);
  assert.ok(delays[before] <= 105, `waited ${delays[before]} ms after reconnectNow, not the grown backoff`);
  proxy.refuse(false);
  await waitFor(alice, 'connection', (e) => e.state === 'online', 5_000);
  await proxy.close();
});

test('typing is debounced: one start while typing, one stop when idle', async () => {
  const { alice, bob, roomId } = await pair({ typingSendEveryMs: 3_000, typingIdleMs: 400 });
  const seen = [];
  bob.on('typing', (e) => { if (e.roomId === roomId) seen.push(e.userIds.slice()); });
  for (let i = 0; i < 20; i++) {
    alice.typed(roomId);
    await sleep(30);
  }
  await until(() => seen.length >= 2, 'bob saw typing start and stop');
  // A later message proves every typing frame before it was seen.
  await alice.send(roomId, 'done typing');
  await until(() => bodiesOf(bob, roomId).includes('done typing'), 'bob got the message');
  assert.deepEqual(seen, [[alice.userId], []]);
});

test('a send resets the typing throttle: typing the next message shows at once', async () => {
  const { alice, bob, roomId } = await pair({ typingSendEveryMs: 60_000, typingIdleMs: 60_000 });
  const seen = [];
  bob.on('typing', (e) => { if (e.roomId === roomId) seen.push(e.userIds.slice()); });
  alice.typed(roomId);
  await until(() => seen.length === 1, 'bob sees alice typing');
  await alice.send(roomId, 'first');
  await until(() => bodiesOf(bob, roomId).includes('first'), 'bob got the message');
  // The send ended the indicator at bob's.
  await until(() => seen.length === 2, 'the indicator ended');
  assert.deepEqual(seen, [[alice.userId], []]);
  alice.typed(roomId);
  await until(() => seen.length === 3, 'bob sees alice typing the next one, inside the 60 s throttle');
  assert.deepEqual(seen[2], [alice.userId]);
});

test('unread counts follow messages, markRead and a new device; receipts turn read', async () => {
  const { alice, bob, roomId } = await pair();
  const acks = [];
  for (const b of ['a', 'b', 'c']) acks.push(await alice.send(roomId, b));
  await until(() => bob.rooms.get(roomId).unreadCount === 3, 'bob has three unread');
  assert.equal(alice.rooms.get(roomId).unreadCount, 0, 'your own messages are read');
  await alice.loadRoom(roomId);
  const last = acks[2].seq;
  const read = waitFor(alice, 'receipt', (e) => e.status === 'read' && e.seq >= last);
  bob.markRead(roomId);
  assert.equal(bob.rooms.get(roomId).unreadCount, 0);
  await read;
  assert.equal(alice.receiptStatus(roomId, last), 'read');
  // Two more; bob's new device learns the count from the server.
  await alice.send(roomId, 'd');
  await alice.send(roomId, 'e');
  await until(() => bob.rooms.get(roomId).unreadCount === 2, 'bob has two unread');
  const tablet = new ChatClient({
    wsUrl: `${server.url.replace(/^http/, 'ws')}/local`,
    restUrl: server.url,
    getToken: async () => devToken(server.url, bob.userId),
    WebSocket,
  });
  open.push(tablet);
  await tablet.start();
  assert.equal(tablet.rooms.get(roomId).unreadCount, 2);
  // Reading on one device clears the count on the other at its next room list.
  const read2 = waitFor(alice, 'receipt', (e) => e.status === 'read' && e.userIds.includes(bob.userId) && e.seq > last);
  bob.markRead(roomId);
  await read2;
  assert.equal(tablet.rooms.get(roomId).unreadCount, 2, 'not pushed to your other devices');
  await tablet.loadRooms();
  assert.equal(tablet.rooms.get(roomId).unreadCount, 0);
});

test('presence: a member is online from the room, offline when their last socket goes', async () => {
  const { alice, bob, roomId } = await pair();
  await alice.loadRoom(roomId);
  assert.equal(alice.users.get(bob.userId).presence, 'online');
  const gone = waitFor(alice, 'presence', (e) => e.userId === bob.userId && e.status === 'offline');
  bob.close();
  await gone;
  assert.equal(alice.users.get(bob.userId).presence, 'offline');
});

test('a refused upgrade asks getToken for a fresh token, then connects', async () => {
  const id = freshUser('carol');
  const good = await devToken(server.url, id);
  const calls = [];
  let refreshed = false;
  const urls = [];
  class Recording extends WebSocket {
    constructor(url) { super(url); urls.push(url); }
  }
  const c = new ChatClient({
    wsUrl: `${server.url.replace(/^http/, 'ws')}/local`,
    restUrl: server.url,
    userId: id,
    WebSocket: Recording,
    backoff: { baseMs: 50, maxMs: 200 },
    getToken: async ({ forceRefresh }) => {
      calls.push(forceRefresh);
      if (forceRefresh) refreshed = true;
      return refreshed ? good : 'expired.token.value';
    },
  });
  open.push(c);
  const online = waitFor(c, 'connection', (e) => e.state === 'online');
  c.connect();
  await online;
  assert.equal(calls[0], false);
  assert.ok(calls.includes(true), `a forced refresh: ${JSON.stringify(calls)}`);
  assert.ok(urls[0].includes('token=expired.token.value'));
  assert.ok(urls.at(-1).endsWith(`token=${encodeURIComponent(good)}`));
});

test('REST calls are typed and history pages join the live timeline without holes', async () => {
  const { alice, bob, roomId } = await pair();
  const me = await alice.rest.updateMe({ displayName: 'Alice A.' });
  assert.equal(me.displayName, 'Alice A.');
  assert.equal((await bob.rest.user(alice.userId)).displayName, 'Alice A.');
  for (let i = 0; i < 7; i++) await alice.send(roomId, `h${i}`);
  const detail = await bob.rest.getRoom(roomId);
  assert.deepEqual(detail.members.map((m) => m.userId).sort(), [alice.userId, bob.userId].sort());
  // A third device of bob's reads history three at a time.
  const reader = new ChatClient({
    wsUrl: `${server.url.replace(/^http/, 'ws')}/local`, restUrl: server.url, WebSocket,
    getToken: async () => devToken(server.url, bob.userId),
  });
  open.push(reader);
  await reader.start();
  await until(async () => (await reader.rest.history(roomId)).messages.length === 7, 'all stored');
  await reader.loadHistory(roomId, 3);
  while (await reader.loadOlder(roomId, 3)) { /* page back */ }
  assert.deepEqual(bodiesOf(reader, roomId), Array.from({ length: 7 }, (_, i) => `h${i}`));
  assertGapFree(reader, roomId, 'reader');
  const channel = await alice.createRoom('channel', [], `chan-${process.pid}`);
  const listed = await bob.rest.channels(100);
  assert.ok(listed.channels.some((c) => c.roomId === channel.roomId));
  await bob.addMember(channel.roomId);
  assert.ok(bob.rooms.has(channel.roomId));
  await bob.removeMember(channel.roomId);
  assert.ok(!bob.rooms.has(channel.roomId));
  await assert.rejects(bob.rest.getRoom(channel.roomId), (e) => e instanceof ApiError && e.status === 403 && e.code === 'forbidden');
});

test('search finds a word of a message sent a moment earlier, for members only, and opens it in context', async () => {
  const alice = await user('alice');
  const bob = await user('bob');
  const carol = await user('carol');
  const added = waitFor(bob, 'rooms', () => bob.rooms.size === 1);
  const room = await alice.createRoom('group', [bob.userId], `search-${process.pid}`);
  await added;
  for (let i = 0; i < 5; i++) await alice.send(room.roomId, `filler ${i}`);
  await alice.send(room.roomId, 'The Zeppelin lands at Grüße-Platz 🎈');
  for (let i = 5; i < 9; i++) await alice.send(room.roomId, `filler ${i}`);
  // Indexed by the persist worker a moment after the ack.
  let page;
  await until(async () => {
    page = await bob.rest.search({ q: 'zepp' });
    return page.hits.length === 1;
  }, 'bob finds it');
  const [hit] = page.hits;
  assert.equal(hit.roomId, room.roomId);
  assert.equal(hit.senderId, alice.userId);
  assert.equal(hit.seq, 6);
  assert.match(hit.snippet, /Zeppelin lands/);
  assert.equal(page.nextCursor ?? null, null);
  assert.equal((await bob.rest.search({ q: 'grüße zeppelin', roomId: room.roomId })).hits.length, 1);
  // In context: the page around the hit holds it and its neighbours.
  const around = await bob.rest.history(room.roomId, { around: hit.seq, limit: 4 });
  assert.deepEqual(around.messages.map((m) => m.seq), [5, 6, 7, 8]);
  // Not a member: nothing from all rooms, refused for the room.
  assert.equal((await carol.rest.search({ q: 'zeppelin' })).hits.length, 0);
  await assert.rejects(carol.rest.search({ q: 'zeppelin', roomId: room.roomId }),
    (e) => e instanceof ApiError && e.status === 403 && e.code === 'forbidden');
  await assert.rejects(bob.rest.search({ q: '  ' }),
    (e) => e instanceof ApiError && e.status === 400 && /empty/.test(e.message));
  // Paged, newest first.
  const first = await alice.rest.search({ q: 'filler', limit: 5 });
  assert.equal(first.hits.length, 5);
  assert.ok(first.nextCursor);
  const second = await alice.rest.search({ q: 'filler', limit: 5, cursor: first.nextCursor });
  const seqs = [...first.hits, ...second.hits].map((h) => h.seq);
  assert.deepEqual(seqs, [10, 9, 8, 7, 5, 4, 3, 2, 1]);
});

test('a reply carries the server\'s quote for both sides, and its thread pages through rest.thread', async () => {
  const { alice, bob, roomId } = await pair();
  const first = await alice.send(roomId, 'lunch at noon?');
  const got = waitFor(alice, 'messages', () => alice.messages(roomId).some((m) => m.body === 'noon works'));
  const sent = await bob.send(roomId, 'noon works', { replyTo: first.seq });
  await got;
  const theirs = alice.messages(roomId).find((m) => m.seq === sent.seq);
  assert.equal(theirs.replyTo.seq, first.seq);
  assert.equal(theirs.replyTo.excerpt, 'lunch at noon?');
  assert.equal(theirs.replyTo.senderId, alice.userId);
  // The sender's own copy (built from the ack) has it too.
  assert.deepEqual(bob.messages(roomId).find((m) => m.seq === sent.seq).replyTo, theirs.replyTo);
  await bob.send(roomId, 'or one', { replyTo: first.seq });
  await until(async () => (await alice.rest.thread(roomId, first.seq)).replies.length === 2, 'both replies stored');
  const page = await alice.rest.thread(roomId, first.seq, { limit: 1 });
  assert.equal(page.target.body, 'lunch at noon?');
  assert.deepEqual(page.replies.map((m) => m.body), ['noon works']);
  const next = await alice.rest.thread(roomId, first.seq, { after: page.nextCursor });
  assert.deepEqual(next.replies.map((m) => m.body), ['or one']);
  // A seq that names no message: refused, nothing pending.
  await assert.rejects(bob.send(roomId, 'to nothing', { replyTo: 999 }), (e) => e.code === 'not_found');
});
