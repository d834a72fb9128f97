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
 */
import type { MessageView, SyncResultFrame, SyncRoom } from './protocol.js';

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
}

/** What applying a frame changed: messages released in order, and syncs to send. */
export interface Applied {
  released: MessageView[];
  sync: SyncRoom[];
}

export class Timeline {
  private rooms = new Map<string, RoomLog>();

  private log(roomId: string): RoomLog {
    let l = this.rooms.get(roomId);
    if (!l) {
      l = { through: null, ahead: new Map(), released: [], seqs: new Set(), syncing: false, syncSentAt: 0 };
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
    if (f.hasMore || l.ahead.size > 0) {
      l.syncing = true;
      l.syncSentAt = now;
      return { released, sync: [{ roomId: f.roomId, afterSeq: l.through }] };
    }
    l.syncing = false;
    return { released, sync: [] };
  }

  /** The rooms to sync after (re)connecting: every followed room from its `through`. */
  resync(now = Date.now()): SyncRoom[] {
    return this.roomIds().map((id) => {
      const l = this.log(id);
      l.syncing = true;
      l.syncSentAt = now;
      return { roomId: id, afterSeq: l.through ?? 0 };
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
        out.push({ roomId: id, afterSeq: l.through ?? 0 });
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
      return [{ roomId, afterSeq: l.through ?? 0 }];
    }
    return [];
  }
}

function mergeBySeq(a: MessageView[], b: MessageView[]): MessageView[] {
  return a.concat(b).sort((x, y) => x.seq - y.seq);
}
