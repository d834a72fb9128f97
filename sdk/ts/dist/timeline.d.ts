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
import type { ChangeFrame, MessageView, SyncResultFrame, SyncRoom } from './protocol.js';
/** The most rooms one `sync` frame may name. */
export declare const MAX_SYNC_ROOMS = 100;
/** What applying a frame changed: messages released in order, and syncs to send. */
export interface Applied {
    released: MessageView[];
    sync: SyncRoom[];
    /** Held messages a sync's `changes` changed (edited, deleted, reactions). */
    changed?: MessageView[];
}
export declare class Timeline {
    private rooms;
    private log;
    /** Rooms followed. */
    roomIds(): string[];
    has(roomId: string): boolean;
    /** Stops following a room (you left it). */
    forget(roomId: string): void;
    /**
     * Follows `roomId` from `through` on: every seq up to it is known (0 for
     * the whole room). Never lowers a baseline already set.
     */
    track(roomId: string, through: number): MessageView[];
    /**
     * Adds a history page (ascending, stored messages). A room without a
     * baseline starts just below the page's oldest message (never at its
     * newest: a message accepted but not yet stored is missing from history,
     * and the gap it leaves is recovered by `sync`). Older pages only fill
     * in below `through`.
     */
    addHistory(roomId: string, messages: MessageView[]): Applied;
    /** A live message (push, or your own message once acked). */
    applyMessage(m: MessageView, now?: number): Applied;
    /** A `syncResult`: up to `throughSeq` nothing is missing any more (what is not held there was burned). */
    applySync(f: SyncResultFrame, now?: number): Applied;
    /**
     * A live change (`messageEdited`, `messageDeleted`, `reaction`), seen by
     * user `me`: the message it changed (null when not held, or a repeat), and
     * the sync to send when a change number was skipped.
     */
    applyChange(f: ChangeFrame, me: string | null, now?: number): {
        changed: MessageView | null;
        sync: SyncRoom[];
    };
    /** The rooms to sync after (re)connecting: every followed room from its `through`. */
    resync(now?: number): SyncRoom[];
    /**
     * The rooms to sync again: those whose sync is outstanding and was sent at
     * least `olderThanMs` ago (after an `internal` error frame naming no
     * message, use 0; for an overdue answer, the overdue time).
     */
    retry(olderThanMs: number, now?: number): SyncRoom[];
    /** The sync of these rooms was not sent (no socket): the next connect asks. */
    unsent(rooms: SyncRoom[]): void;
    /** The room's messages in `seq` order, each once, without holes. */
    messages(roomId: string): readonly MessageView[];
    /** Every seq of the room up to this one is held or burned (0 when unknown). */
    through(roomId: string): number;
    /** No hole is known in the room and no `sync` of it is outstanding. */
    isSettled(roomId: string): boolean;
    private push;
    private release;
    private holeSync;
    /** Whether change `change` of `seq` is newer than what was applied (noting it). */
    private newer;
    /** Replaces the held message at `seq` (a new object, for renderers that compare). */
    private replace;
}
