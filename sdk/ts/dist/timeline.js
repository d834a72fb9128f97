/** The most rooms one `sync` frame may name. */
export const MAX_SYNC_ROOMS = 100;
export class Timeline {
    rooms = new Map();
    log(roomId) {
        let l = this.rooms.get(roomId);
        if (!l) {
            l = { through: null, ahead: new Map(), released: [], seqs: new Set(), syncing: false, syncSentAt: 0 };
            this.rooms.set(roomId, l);
        }
        return l;
    }
    /** Rooms followed. */
    roomIds() {
        return Array.from(this.rooms.keys()).sort();
    }
    has(roomId) {
        return this.rooms.has(roomId);
    }
    /** Stops following a room (you left it). */
    forget(roomId) {
        this.rooms.delete(roomId);
    }
    /**
     * Follows `roomId` from `through` on: every seq up to it is known (0 for
     * the whole room). Never lowers a baseline already set.
     */
    track(roomId, through) {
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
    addHistory(roomId, messages) {
        const l = this.log(roomId);
        const sorted = messages.slice().sort((a, b) => a.seq - b.seq);
        if (l.through === null) {
            const first = sorted[0];
            l.through = first ? first.seq - 1 : 0;
        }
        const older = [];
        for (const m of sorted) {
            if (m.seq <= l.through) {
                if (!l.seqs.has(m.seq)) {
                    l.seqs.add(m.seq);
                    older.push(m);
                }
            }
            else if (!l.ahead.has(m.seq)) {
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
    applyMessage(m, now = Date.now()) {
        const l = this.log(m.roomId);
        if (l.through === null)
            l.through = m.seq - 1;
        if (m.seq > l.through && !l.ahead.has(m.seq))
            l.ahead.set(m.seq, m);
        const released = this.release(l);
        return { released, sync: this.holeSync(m.roomId, l, now) };
    }
    /** A `syncResult`: up to `throughSeq` nothing is missing any more (what is not held there was burned). */
    applySync(f, now = Date.now()) {
        const l = this.log(f.roomId);
        if (l.through === null)
            l.through = 0;
        for (const m of f.messages) {
            if (m.seq > l.through && !l.ahead.has(m.seq))
                l.ahead.set(m.seq, { ...m, roomId: f.roomId });
        }
        const released = [];
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
    resync(now = Date.now()) {
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
    retry(olderThanMs, now = Date.now()) {
        const out = [];
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
    unsent(rooms) {
        for (const r of rooms) {
            const l = this.rooms.get(r.roomId);
            if (l)
                l.syncing = false;
        }
    }
    /** The room's messages in `seq` order, each once, without holes. */
    messages(roomId) {
        return this.rooms.get(roomId)?.released ?? [];
    }
    /** Every seq of the room up to this one is held or burned (0 when unknown). */
    through(roomId) {
        return this.rooms.get(roomId)?.through ?? 0;
    }
    /** No hole is known in the room and no `sync` of it is outstanding. */
    isSettled(roomId) {
        const l = this.rooms.get(roomId);
        return !l || (!l.syncing && l.ahead.size === 0);
    }
    push(l, m) {
        l.seqs.add(m.seq);
        l.released.push(m);
    }
    release(l) {
        const out = [];
        if (l.through === null)
            return out;
        for (;;) {
            const m = l.ahead.get(l.through + 1);
            if (!m)
                break;
            l.ahead.delete(l.through + 1);
            l.through += 1;
            this.push(l, m);
            out.push(m);
        }
        return out;
    }
    holeSync(roomId, l, now = Date.now()) {
        if (l.ahead.size > 0 && !l.syncing) {
            l.syncing = true;
            l.syncSentAt = now;
            return [{ roomId, afterSeq: l.through ?? 0 }];
        }
        return [];
    }
}
function mergeBySeq(a, b) {
    return a.concat(b).sort((x, y) => x.seq - y.seq);
}
