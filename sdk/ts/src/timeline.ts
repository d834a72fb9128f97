/**
 * Gap-free recovery of each room's messages, as docs/PROTOCOL.md
 * ("Recovering missed messages") asks of a client; the same algorithm as
 * chat-client's `Timeline` (client/src/timeline.rs).
 *
 * Per room it keeps `through`: every seq up to it is held or known to be
 * burned. Messages above it wait in `ahead` until the hole below them is
 * filled, so they are released in `seq` order, each once (de-duplicated by
 * seq, which names one message for good). `apply` answers the rooms to
 * `sync` (and from which seq) when a frame revealed a hole or a synced page
 * asks for the next one.
 *
 * Edits, deletes and reactions (docs/PROTOCOL.md, "Edits, deletes and
 * reactions") are laid over the held messages in each message's `change`
 * order (repeats and older changes are dropped); the room's change cursor
 * rides in every sync as `afterChange`, so changes made while away come back.
 */
import type { ChangeFrame, MessageChangeView, MessageView, SyncResultFrame, SyncRoom } from './protocol.js';

/** The most rooms one `sync` frame may name. */
export const MAX_SYNC_ROOMS = 100;

interface RoomLog {
  /** Every seq up to this one is released or was burned; null until a baseline is known. */
  through: number | null;
  /** Messages held above `through + 1`, by seq. */
  ahead: Map<number, MessageView>;
  /** Messages in `seq` order, each once. */
  released: MessageView[];
  /** Seqs released, to drop repeats that arrive below older history. */
  seqs: Set<number>;
  /** A `sync` of this room is outstanding (and since when). */
  syncing: boolean;
  syncSentAt: number;
  /** Every change of the room up to this one is applied; null until a sync gave one. */
  throughChange: number | null;
  /** The last change applied to each message, by seq. */
  changed: Map<number, number>;
}

/** What applying a frame changed: messages released in order, and syncs to send. */
export interface Applied {
  released: MessageView[];
  sync: SyncRoom[];
  /** Held messages a sync's `changes` changed (edited, deleted, reactions). */
  changed?: MessageView[];
}

export class Timeline {
  private rooms = new Map<string, RoomLog>();

  private log(roomId: string): RoomLog {
    let l = this.rooms.get(roomId);
    if (!l) {
      l = {
        through: null,
        ahead: new Map(),
        released: [],
        seqs: new Set(),
        syncing: false,
        syncSentAt: 0,
        throughChange: null,
        changed: new Map(),
      };
      this.rooms.set(roomId, l);
    }
    return l;
  }

  /** Rooms followed. */
  roomIds(): string[] {
    return Array.from(this.rooms.keys()).sort();
  }

  has(roomId: string): boolean {
    return this.rooms.has(roomId);
  }

  /** Stops following a room (you left it). */
  forget(roomId: string): void {
    this.rooms.delete(roomId);
  }

  /**
   * Follows `roomId` from `through` on: every seq up to it is known (0 for
   * the whole room). Never lowers a baseline already set.
   */
  track(roomId: string, through: number): MessageView[] {
    const l = this.log(roomId);
    l.through = Math.max(l.through ?? 0, through);
    return this.release(l);
  }

  /**
   * Adds a history page (ascending, stored messages). A room without a
   * baseline starts just below the page's oldest message (never at its
   * newest: a message accepted but not yet stored is missing from history,
   * and the gap it leaves is recovered by `sync`). Older pages only fill
   * in below `through`.
   */
  addHistory(roomId: string, messages: MessageView[]): Applied {
    const l = this.log(roomId);
    const sorted = messages.slice().sort((a, b) => a.seq - b.seq);
    if (l.through === null) {
      const first = sorted[0];
      l.through = first ? first.seq - 1 : 0;
    }
    const older: MessageView[] = [];
    for (const m of sorted) {
      if (m.seq <= l.through) {
        if (!l.seqs.has(m.seq)) {
          l.seqs.add(m.seq);
          older.push(m);
        }
      } else if (!l.ahead.has(m.seq)) {
        l.ahead.set(m.seq, m);
      }
    }
    if (older.length) {
      l.released = mergeBySeq(l.released, older);
    }
    const released = older.concat(this.release(l));
    return { released, sync: this.holeSync(roomId, l) };
  }

  /** A live message (push, or your own message once acked). */
  applyMessage(m: MessageView, now = Date.now()): Applied {
    const l = this.log(m.roomId);
    if (l.through === null) l.through = m.seq - 1;
    if (m.seq > l.through && !l.ahead.has(m.seq)) l.ahead.set(m.seq, m);
    const released = this.release(l);
    return { released, sync: this.holeSync(m.roomId, l, now) };
  }

  /** A `syncResult`: up to `throughSeq` nothing is missing any more (what is not held there was burned). */
  applySync(f: SyncResultFrame, now = Date.now()): Applied {
    const l = this.log(f.roomId);
    if (l.through === null) l.through = 0;
    for (const m of f.messages) {
      if (m.seq > l.through && !l.ahead.has(m.seq)) l.ahead.set(m.seq, { ...m, roomId: f.roomId });
    }
    const released: MessageView[] = [];
    while (l.through < f.throughSeq) {
      l.through += 1;
      const m = l.ahead.get(l.through);
      if (m) {
        l.ahead.delete(l.through);
        this.push(l, m);
        released.push(m);
      }
    }
    released.push(...this.release(l));
    const changed: MessageView[] = [];
    for (const c of f.changes ?? []) {
      if (!this.newer(l, c.seq, c.change)) continue;
      const m = this.replace(l, c.seq, (held) => withState(held, c));
      if (m) changed.push(m);
    }
    l.throughChange = Math.max(l.throughChange ?? 0, f.throughChange ?? 0);
    if (f.hasMore || l.ahead.size > 0) {
      l.syncing = true;
      l.syncSentAt = now;
      return { released, sync: [entry(f.roomId, l)], changed };
    }
    l.syncing = false;
    return { released, sync: [], changed };
  }

  /**
   * A live change (`messageEdited`, `messageDeleted`, `reaction`), seen by
   * user `me`: the message it changed (null when not held, or a repeat), and
   * the sync to send when a change number was skipped.
   */
  applyChange(f: ChangeFrame, me: string | null, now = Date.now()): { changed: MessageView | null; sync: SyncRoom[] } {
    const l = this.log(f.roomId);
    let changed: MessageView | null = null;
    if (this.newer(l, f.seq, f.change)) changed = this.replace(l, f.seq, (m) => withChange(m, f, me));
    if (l.throughChange !== null) {
      if (f.change === l.throughChange + 1) l.throughChange = f.change;
      else if (f.change > l.throughChange + 1 && !l.syncing) {
        l.syncing = true;
        l.syncSentAt = now;
        return { changed, sync: [entry(f.roomId, l)] };
      }
    }
    return { changed, sync: [] };
  }

  /** The rooms to sync after (re)connecting: every followed room from its `through`. */
  resync(now = Date.now()): SyncRoom[] {
    return this.roomIds().map((id) => {
      const l = this.log(id);
      l.syncing = true;
      l.syncSentAt = now;
      return entry(id, l);
    });
  }

  /**
   * The rooms to sync again: those whose sync is outstanding and was sent at
   * least `olderThanMs` ago (after an `internal` error frame naming no
   * message, use 0; for an overdue answer, the overdue time).
   */
  retry(olderThanMs: number, now = Date.now()): SyncRoom[] {
    const out: SyncRoom[] = [];
    for (const id of this.roomIds()) {
      const l = this.log(id);
      if (l.syncing && now - l.syncSentAt >= olderThanMs) {
        l.syncSentAt = now;
        out.push(entry(id, l));
      }
    }
    return out;
  }

  /** The sync of these rooms was not sent (no socket): the next connect asks. */
  unsent(rooms: SyncRoom[]): void {
    for (const r of rooms) {
      const l = this.rooms.get(r.roomId);
      if (l) l.syncing = false;
    }
  }

  /** The room's messages in `seq` order, each once, without holes. */
  messages(roomId: string): readonly MessageView[] {
    return this.rooms.get(roomId)?.released ?? [];
  }

  /** Every seq of the room up to this one is held or burned (0 when unknown). */
  through(roomId: string): number {
    return this.rooms.get(roomId)?.through ?? 0;
  }

  /** No hole is known in the room and no `sync` of it is outstanding. */
  isSettled(roomId: string): boolean {
    const l = this.rooms.get(roomId);
    return !l || (!l.syncing && l.ahead.size === 0);
  }

  private push(l: RoomLog, m: MessageView): void {
    l.seqs.add(m.seq);
    l.released.push(m);
  }

  private release(l: RoomLog): MessageView[] {
    const out: MessageView[] = [];
    if (l.through === null) return out;
    for (;;) {
      const m = l.ahead.get(l.through + 1);
      if (!m) break;
      l.ahead.delete(l.through + 1);
      l.through += 1;
      this.push(l, m);
      out.push(m);
    }
    return out;
  }

  private holeSync(roomId: string, l: RoomLog, now = Date.now()): SyncRoom[] {
    if (l.ahead.size > 0 && !l.syncing) {
      l.syncing = true;
      l.syncSentAt = now;
      return [entry(roomId, l)];
    }
    return [];
  }

  /** Whether change `change` of `seq` is newer than what was applied (noting it). */
  private newer(l: RoomLog, seq: number, change: number): boolean {
    if (change <= (l.changed.get(seq) ?? 0)) return false;
    l.changed.set(seq, change);
    return true;
  }

  /** Replaces the held message at `seq` (a new object, for renderers that compare). */
  private replace(l: RoomLog, seq: number, f: (m: MessageView) => MessageView): MessageView | null {
    const ahead = l.ahead.get(seq);
    if (ahead) {
      const m = f(ahead);
      l.ahead.set(seq, m);
      return m;
    }
    for (let i = l.released.length - 1; i >= 0; i--) {
      if (l.released[i]!.seq === seq) {
        const m = f(l.released[i]!);
        l.released[i] = m;
        return m;
      }
    }
    return null;
  }
}

function entry(roomId: string, l: RoomLog): SyncRoom {
  const e: SyncRoom = { roomId, afterSeq: l.through ?? 0 };
  if (l.throughChange !== null) e.afterChange = l.throughChange;
  return e;
}

/** `m` with a live change laid over it. */
function withChange(m: MessageView, f: ChangeFrame, me: string | null): MessageView {
  switch (f.type) {
    case 'messageEdited':
      // An encrypted room's edit brings its new seal.
      return f.sealed ? { ...m, body: f.body, editedAt: f.editedAt, sealed: f.sealed } : { ...m, body: f.body, editedAt: f.editedAt };
    case 'messageDeleted': {
      const { attachments: _a, reactions: _r, sealed: _s, ...rest } = m;
      return { ...rest, body: '', deletedAt: f.deletedAt };
    }
    case 'reaction': {
      const list = (m.reactions ?? []).map((r) => ({ ...r }));
      const mine = me !== null && f.userId === me;
      const i = list.findIndex((r) => r.emoji === f.emoji);
      if (i >= 0) {
        const r = list[i]!;
        r.count += f.added ? 1 : -1;
        if (mine) r.me = f.added;
        if (r.count <= 0) list.splice(i, 1);
      } else if (f.added) {
        list.push({ emoji: f.emoji, count: 1, me: mine });
      }
      return { ...m, reactions: list };
    }
  }
}

/** `m` with a sync's change (its whole state) laid over it. */
function withState(m: MessageView, c: MessageChangeView): MessageView {
  const { editedAt: _e, deletedAt: _d, ...rest } = m;
  const out: MessageView = { ...rest, body: c.body, reactions: c.reactions };
  if (c.editedAt != null) out.editedAt = c.editedAt;
  if (c.sealed) out.sealed = c.sealed;
  if (c.deletedAt != null) {
    out.deletedAt = c.deletedAt;
    delete out.attachments;
    delete out.sealed;
  }
  return out;
}

function mergeBySeq(a: MessageView[], b: MessageView[]): MessageView[] {
  return a.concat(b).sort((x, y) => x.seq - y.seq);
}
