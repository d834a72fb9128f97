// The Timeline on its own: the recovery contract's steps, frame by frame
// (the same cases as client/src/timeline.rs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Timeline, backoffDelay } from '../dist/index.js';

const msg = (room, seq) => ({ roomId: room, seq, messageId: `m${seq}`, senderId: 'a', body: `b${seq}`, sentAt: seq, clientMsgId: `c${seq}` });
const seqs = (t, room) => t.messages(room).map((m) => m.seq);

test('a hole in live seqs asks one sync and the answer fills it in order', () => {
  const t = new Timeline();
  t.track('r', 0);
  assert.deepEqual(t.applyMessage(msg('r', 1)).sync, []);
  assert.deepEqual(t.applyMessage(msg('r', 4)).sync, [{ roomId: 'r', afterSeq: 1 }]);
  // Another live message while the sync is out asks nothing more.
  assert.deepEqual(t.applyMessage(msg('r', 5)).sync, []);
  assert.deepEqual(seqs(t, 'r'), [1]);
  const r = { type: 'syncResult', roomId: 'r', messages: [msg('r', 2), msg('r', 4)], burned: [3], throughSeq: 4, hasMore: false };
  const applied = t.applySync(r);
  assert.deepEqual(applied.released.map((m) => m.seq), [2, 4, 5]);
  assert.deepEqual(applied.sync, []);
  assert.deepEqual(seqs(t, 'r'), [1, 2, 4, 5]);
  assert.ok(t.isSettled('r'));
  // A late repeat push of a held message changes nothing.
  assert.deepEqual(t.applyMessage(msg('r', 2)).released, []);
  assert.deepEqual(seqs(t, 'r'), [1, 2, 4, 5]);
});

test('pages are followed and a resync starts below the first hole', () => {
  const t = new Timeline();
  t.track('r', 0);
  t.applyMessage(msg('r', 1));
  t.applyMessage(msg('r', 3));
  // Reconnected: the sync starts at the hole, not at the highest seq.
  assert.deepEqual(t.resync(), [{ roomId: 'r', afterSeq: 1 }]);
  const next = t.applySync({ type: 'syncResult', roomId: 'r', messages: [msg('r', 2)], throughSeq: 2, hasMore: true });
  // 2 fills the hole: the held 3 follows, and the next page starts there
  // (with the change cursor the answer gave: 0, none changed yet).
  assert.deepEqual(next.sync, [{ roomId: 'r', afterSeq: 3, afterChange: 0 }]);
  assert.deepEqual(t.applySync({ type: 'syncResult', roomId: 'r', messages: [msg('r', 4)], throughSeq: 4, hasMore: false }).sync, []);
  assert.deepEqual(seqs(t, 'r'), [1, 2, 3, 4]);
  assert.ok(t.isSettled('r'));
});

test('a sync that failed is asked again from where the room stands', () => {
  const t = new Timeline();
  t.track('a', 0);
  t.track('b', 0);
  t.applyMessage(msg('a', 1));
  t.applyMessage(msg('b', 1));
  assert.deepEqual(t.retry(0), [], 'nothing outstanding');
  t.applyMessage(msg('a', 3));
  assert.deepEqual(t.retry(0), [{ roomId: 'a', afterSeq: 1 }]);
  const r = { type: 'syncResult', roomId: 'a', messages: [msg('a', 2)], throughSeq: 3, hasMore: false };
  t.applySync(r);
  // A repeated answer (the first one came late) changes nothing.
  assert.deepEqual(t.applySync(r).released, []);
  assert.deepEqual(seqs(t, 'a'), [1, 2, 3]);
  assert.deepEqual(t.retry(0), []);
});

test('history starts just below its oldest message, and a gap in it is synced', () => {
  const t = new Timeline();
  // 3 was accepted but not stored yet when the page was read.
  const a = t.addHistory('r', [msg('r', 4), msg('r', 1), msg('r', 2)]);
  assert.deepEqual(a.released.map((m) => m.seq), [1, 2]);
  assert.deepEqual(a.sync, [{ roomId: 'r', afterSeq: 2 }]);
  t.applySync({ type: 'syncResult', roomId: 'r', messages: [msg('r', 3), msg('r', 4)], throughSeq: 4, hasMore: false });
  // An older page fills in below, in order, without repeats.
  const older = t.addHistory('r', [msg('r', 1)]);
  assert.deepEqual(older.released, []);
  assert.deepEqual(seqs(t, 'r'), [1, 2, 3, 4]);
});

test('an older history page is merged below what is held', () => {
  const t = new Timeline();
  t.addHistory('r', [msg('r', 5), msg('r', 6)]);
  t.addHistory('r', [msg('r', 3), msg('r', 4)]);
  assert.deepEqual(seqs(t, 'r'), [3, 4, 5, 6]);
  assert.equal(t.through('r'), 6);
});

test('backoff is capped and fully jittered', () => {
  assert.equal(backoffDelay(0, { baseMs: 100, maxMs: 1000 }, () => 0.999999), 99);
  assert.equal(backoffDelay(3, { baseMs: 100, maxMs: 1000 }, () => 0.5), 400);
  assert.equal(backoffDelay(20, { baseMs: 100, maxMs: 1000 }, () => 0.999999), 999);
  assert.equal(backoffDelay(20, { baseMs: 100, maxMs: 1000 }, () => 0), 0);
});

test('changes apply in order and the change cursor rides in every sync', () => {
  const t = new Timeline();
  t.track('r', 0);
  t.applyMessage(msg('r', 1));
  t.applyMessage(msg('r', 2));
  t.applySync({ type: 'syncResult', roomId: 'r', messages: [], burned: [], throughSeq: 2, hasMore: false, throughChange: 4 });
  const edit = { type: 'messageEdited', roomId: 'r', seq: 1, messageId: 'm1', body: 'new', editedAt: 9, change: 5 };
  assert.equal(t.applyChange(edit, 'bob').changed.body, 'new');
  assert.equal(t.messages('r')[0].body, 'new');
  const react = (change, userId, added) => ({ type: 'reaction', roomId: 'r', seq: 2, messageId: 'm2', emoji: '👍', userId, added, change });
  t.applyChange(react(6, 'bob', true), 'bob');
  t.applyChange(react(7, 'alice', true), 'bob');
  assert.deepEqual(t.messages('r')[1].reactions, [{ emoji: '👍', count: 2, me: true }]);
  // A repeat changes nothing.
  assert.equal(t.applyChange(react(7, 'alice', true), 'bob').changed, null);
  // A skipped change number asks a sync from both cursors.
  const del = { type: 'messageDeleted', roomId: 'r', seq: 1, messageId: 'm1', deletedAt: 10, deletedBy: 'alice', change: 9 };
  assert.deepEqual(t.applyChange(del, 'bob').sync, [{ roomId: 'r', afterSeq: 2, afterChange: 7 }]);
  assert.equal(t.messages('r')[0].body, '');
  assert.equal(t.messages('r')[0].deletedAt, 10);
  const answer = t.applySync({
    type: 'syncResult', roomId: 'r', messages: [], burned: [], throughSeq: 2, hasMore: false, throughChange: 9,
    changes: [{ seq: 2, messageId: 'm2', change: 8, body: 'b2, edited', editedAt: 11, reactions: [{ emoji: '👍', count: 2, me: true }] }],
  });
  assert.deepEqual(answer.changed.map((m) => m.body), ['b2, edited']);
  assert.deepEqual(t.resync(), [{ roomId: 'r', afterSeq: 2, afterChange: 9 }]);
});

test('a sealed edit replaces the held seal, live and from sync; a delete drops it', () => {
  const t = new Timeline();
  t.track('dme_r', 0);
  const sealed = (n) => ({ v: 1, nonce: `n${n}`, ciphertext: `c${n}`, envelopes: [] });
  t.applyMessage({ ...msg('dme_r', 1), body: '', sealed: sealed(1) });
  t.applyMessage({ ...msg('dme_r', 2), body: '', sealed: sealed(2) });
  t.applySync({ type: 'syncResult', roomId: 'dme_r', messages: [], burned: [], throughSeq: 2, hasMore: false, throughChange: 0 });
  const edit = { type: 'messageEdited', roomId: 'dme_r', seq: 1, messageId: 'm1', body: '', editedAt: 9, change: 1, sealed: sealed(3) };
  t.applyChange(edit, 'bob');
  assert.deepEqual(t.messages('dme_r')[0].sealed, sealed(3));
  assert.equal(t.messages('dme_r')[0].editedAt, 9);
  t.applySync({
    type: 'syncResult', roomId: 'dme_r', messages: [], burned: [], throughSeq: 2, hasMore: false, throughChange: 2,
    changes: [{ seq: 2, messageId: 'm2', change: 2, body: '', editedAt: 11, reactions: [], sealed: sealed(4) }],
  });
  assert.deepEqual(t.messages('dme_r')[1].sealed, sealed(4));
  t.applyChange({ type: 'messageDeleted', roomId: 'dme_r', seq: 1, messageId: 'm1', deletedAt: 12, deletedBy: 'alice', change: 3 }, 'bob');
  assert.equal(t.messages('dme_r')[0].sealed, undefined);
});
