/** The most rooms one `sync` frame may name. */
export const MAX_SYNC_ROOMS = 100;
export class Timeline {
    rooms = new Map();
    log(roomId) {
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
        const changed = [];
        for (const c of f.changes ?? []) {
            if (!this.newer(l, c.seq, c.change))
                continue;
            const m = this.replace(l, c.seq, (held) => withState(held, c));
            if (m)
                changed.push(m);
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
    applyChange(f, me, now = Date.now()) {
        const l = this.log(f.roomId);
        let changed = null;
        if (this.newer(l, f.seq, f.change))
            changed = this.replace(l, f.seq, (m) => withChange(m, f, me));
        if (l.throughChange !== null) {
            if (f.change === l.throughChange + 1)
                l.throughChange = f.change;
            else if (f.change > l.throughChange + 1 && !l.syncing) {
                l.syncing = true;
                l.syncSentAt = now;
                return { changed, sync: [entry(f.roomId, l)] };
            }
        }
        return { changed, sync: [] };
    }
    /** The rooms to sync after (re)connecting: every followed room from its `through`. */
    resync(now = Date.now()) {
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
    retry(olderThanMs, now = Date.now()) {
        const out = [];
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
            return [entry(roomId, l)];
        }
        return [];
    }
    /** Whether change `change` of `seq` is newer than what was applied (noting it). */
    newer(l, seq, change) {
        if (change <= (l.changed.get(seq) ?? 0))
            return false;
        l.changed.set(seq, change);
        return true;
    }
    /** Replaces the held message at `seq` (a new object, for renderers that compare). */
    replace(l, seq, f) {
        const ahead = l.ahead.get(seq);
        if (ahead) {
            const m = f(ahead);
            l.ahead.set(seq, m);
            return m;
        }
        for (let i = l.released.length - 1; i >= 0; i--) {
            if (l.released[i].seq === seq) {
                const m = f(l.released[i]);
                l.released[i] = m;
                return m;
            }
        }
        return null;
    }
}
function entry(roomId, l) {
    const e = { roomId, afterSeq: l.through ?? 0 };
    if (l.throughChange !== null)
        e.afterChange = l.throughChange;
    return e;
}
/** `m` with a live change laid over it. */
function withChange(m, f, me) {
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
                const r = list[i];
                r.count += f.added ? 1 : -1;
                if (mine)
                    r.me = f.added;
                if (r.count <= 0)
                    list.splice(i, 1);
            }
            else if (f.added) {
                list.push({ emoji: f.emoji, count: 1, me: mine });
            }
            return { ...m, reactions: list };
        }
    }
}
/** `m` with a sync's change (its whole state) laid over it. */
function withState(m, c) {
    const { editedAt: _e, deletedAt: _d, ...rest } = m;
    const out = { ...rest, body: c.body, reactions: c.reactions };
    if (c.editedAt != null)
        out.editedAt = c.editedAt;
    if (c.sealed)
        out.sealed = c.sealed;
    if (c.deletedAt != null) {
        out.deletedAt = c.deletedAt;
        delete out.attachments;
        delete out.sealed;
    }
    return out;
}
function mergeBySeq(a, b) {
    return a.concat(b).sort((x, y) => x.seq - y.seq);
}
