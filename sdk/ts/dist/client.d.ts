/**
 * `ChatClient`: one user's connection to the platform, and the state a UI
 * shows, kept by the protocol's rules (docs/PROTOCOL.md):
 *
 * - **Connection.** The WebSocket carries the token as `?token=` (browsers
 *   cannot set headers on a WebSocket; the deployed authorizer reads the
 *   query string). A dropped socket is reconnected with capped exponential
 *   backoff and full jitter ({@link backoffDelay}). A handshake that never
 *   opens looks the same in a browser whatever the reason, so the client
 *   asks `GET /users/me` with the same token: a 401 there makes the next
 *   attempt call `getToken({ forceRefresh: true })`.
 * - **Liveness.** After `pingIntervalMs` without a frame from the server the
 *   client sends `ping`; no frame within `pongTimeoutMs` declares the socket
 *   dead (a peer that vanished without a FIN never fires `close`) and it
 *   reconnects. Every `sendMessage` and `sync` is a ping too: it expects an
 *   answer, so a socket that died silently is noticed `pongTimeoutMs` after
 *   the user's next send, not only at the next idle ping. `liveness` tells
 *   when the socket is unverified (a frame awaits its answer) and verified.
 * - **Sends** are idempotent: each has a `clientMsgId` and stays pending until
 *   its `ack`; pending sends are resent with the same id after a reconnect,
 *   when an ack is overdue, after `internal`, and after a `rate_limited`
 *   refusal's `retryAfterMs`. The server answers a resend with the same ack
 *   and never stores it twice.
 * - **Rooms** keep their messages gap-free and in `seq` order through a
 *   {@link Timeline}; every (re)connect syncs every followed room from its
 *   `through`, a live gap asks for a sync, an `internal` error or an overdue
 *   answer asks again.
 * - **Presence, typing, receipts, unread counts** are folded into
 *   `rooms`/`users`; a UI subscribes to events ({@link ClientEvents}).
 */
import { type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import type { Sealed, ChangeFrame, ErrorCode, ErrorFrame, MessageView, PresenceStatus, RoomKind } from './protocol.js';
import { RestClient, type GetToken } from './rest.js';
/** The part of the WebSocket API the client uses (browsers' and `ws`'s both fit). */
export interface WebSocketLike {
    readonly readyState: number;
    send(data: string): void;
    close(code?: number, reason?: string): void;
    addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (ev: {
        data?: unknown;
    }) => void): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;
export type ConnectionState = 'idle' | 'connecting' | 'online' | 'offline' | 'closed';
export interface ChatClientOptions {
    /** The WebSocket stage URL, e.g. `wss://abc.execute-api.eu-west-1.amazonaws.com/prod` or `ws://127.0.0.1:8080/local`. */
    wsUrl: string;
    /** The REST API's base URL. */
    restUrl: string;
    /** Supplies the token (a Cognito ID token in AWS); `forceRefresh` after the server refused the last one. */
    getToken: GetToken;
    /** The signed-in user's id (the token's `sub`); fetched from `GET /users/me` when absent. */
    userId?: string;
    /** Defaults to `globalThis.WebSocket` (Node 20 needs `ws` here; Node 22+ and browsers have it). */
    WebSocket?: WebSocketConstructor;
    fetch?: typeof fetch;
    /** Reconnect delays (default: 500 ms doubling, capped at 30 s, full jitter). */
    backoff?: BackoffOptions;
    /** Inbound silence before a `ping` (default 540 s: under API Gateway's 10-minute idle timeout). */
    pingIntervalMs?: number;
    /** How long a ping may go unanswered before the socket is declared dead (default 10 s). */
    pongTimeoutMs?: number;
    /** A handshake that has not opened by then is abandoned (default 10 s). */
    connectTimeoutMs?: number;
    /** An ack not received this long after a send, while online, resends it (default 15 s). */
    ackTimeoutMs?: number;
    /** Tries of one send (resends after timeouts and `internal`) before it fails (default 5). */
    maxSendAttempts?: number;
    /** A sync unanswered this long is asked again (default 10 s). */
    syncOverdueMs?: number;
    /** After an `internal` error naming no message, outstanding syncs are asked again this much later (default 1 s). */
    syncRetryMs?: number;
    /** At most one `typing: true` per this long while the user keeps typing (default 3 s). */
    typingSendEveryMs?: number;
    /** `typing: false` after this long without a keystroke (default 4 s). */
    typingIdleMs?: number;
    /** Another user's `typing: true` shows this long unless renewed (default 5 s). */
    typingShowMs?: number;
}
/** A member's cursors in a room. */
export interface MemberState {
    userId: string;
    role: 'owner' | 'member';
    joinedAt: number;
    deliveredSeq: number;
    readSeq: number;
}
/** What the client knows of a user. */
export interface UserState {
    userId: string;
    displayName: string | null;
    avatarUrl: string | null;
    presence: PresenceStatus | null;
}
/** A room as the client keeps it. */
export interface RoomState {
    roomId: string;
    kind: RoomKind;
    name: string;
    ownerId: string;
    createdAt: number;
    /** Empty until `loadRoom` (or a create/join answer) fills it. */
    members: Map<string, MemberState>;
    detailLoaded: boolean;
    lastMessage: MessageView | null;
    /** Your read cursor. */
    readSeq: number;
    /** Messages of others above your read cursor. */
    unreadCount: number;
    /** Users typing, with when their indicator expires. */
    typing: Map<string, number>;
    /** Older history exists: `loadOlder` fetches it. */
    prevCursor: string | null;
    historyLoaded: boolean;
}
export type SendStatus = 'pending' | 'failed';
/** A send not yet acknowledged. */
export interface PendingSend {
    clientMsgId: string;
    roomId: string;
    body: string;
    /** Ids of uploaded attachments it shares. */
    attachments: string[];
    /** The seq of the message (same room) it replies to. */
    replyTo: number | null;
    createdAt: number;
    status: SendStatus;
    tries: number;
    error: {
        code: ErrorCode | 'timeout' | 'closed';
        message: string;
    } | null;
    /** Set while the server's rate limit holds it back: when it is resent by itself (epoch ms). */
    retryAt: number | null;
}
export interface SendResult {
    clientMsgId: string;
    roomId: string;
    messageId: string;
    seq: number;
}
/** A send the server refused (or that ran out of tries). */
export declare class SendError extends Error {
    readonly code: ErrorCode | 'timeout' | 'closed';
    readonly clientMsgId: string;
    constructor(code: ErrorCode | 'timeout' | 'closed', message: string, clientMsgId: string);
}
export interface ClientEvents {
    /** The connection changed state; `retryAt` (epoch ms) when a reconnect is scheduled. */
    connection: {
        state: ConnectionState;
        retryAt: number | null;
        reason: string | null;
    };
    /** Messages were added to a room's timeline (released in seq order; history may add older ones). */
    messages: {
        roomId: string;
        added: MessageView[];
    };
    /** The set of pending sends of a room changed (queued, acked, failed, retried). */
    pending: {
        roomId: string;
    };
    /** One of your sends was acknowledged. */
    ack: SendResult;
    /** A send was refused for good (see `PendingSend.error`); `retrySend` tries again. */
    sendFailed: {
        roomId: string;
        clientMsgId: string;
        code: string;
        message: string;
    };
    /**
     * Whether the socket is verified: `false` while a frame (ping, send, sync)
     * awaits an answer, `true` once any frame arrived. Emitted on changes only.
     */
    liveness: {
        verified: boolean;
    };
    /** The server rate-limited a frame; the client resends it by itself after `retryAfterMs`. */
    rateLimited: {
        clientMsgId: string | null;
        retryAfterMs: number;
    };
    /**
     * A message you hold was edited, deleted (a tombstone now: empty body,
     * `deletedAt`) or its reactions changed, live or found by sync.
     * `messages(roomId)` has it updated.
     */
    changed: {
        roomId: string;
        message: MessageView;
        change: ChangeFrame | null;
    };
    /** Members' delivered/read cursors moved. */
    receipt: {
        roomId: string;
        userIds: string[];
        status: 'delivered' | 'read';
        seq: number;
    };
    /** A user came online or went offline. */
    presence: {
        userId: string;
        status: PresenceStatus;
    };
    /** Who is typing in a room changed. */
    typing: {
        roomId: string;
        userIds: string[];
    };
    /** The room list changed (rooms added, removed, renamed, reordered, unread counts). */
    rooms: {
        roomIds: string[];
    };
    /** A room's details (members, cursors, name) changed. */
    room: {
        roomId: string;
    };
    /** You were removed from a room (or left it). */
    roomRemoved: {
        roomId: string;
        removedBy: string | null;
    };
    /**
     * Someone else joined or left a group you are in (`by`: who added or
     * removed them; themselves when they left). The room's details are
     * reloaded, and a `room` event follows.
     */
    member: {
        roomId: string;
        userId: string;
        change: 'joined' | 'left';
        by: string;
    };
    /**
     * An error frame the client does not handle by itself: not about a pending
     * send, not a rate limit, not an `internal` naming no message (a failed
     * sync, asked again).
     */
    serverError: ErrorFrame;
    /**
     * A user's device keys changed (end-to-end encrypted direct rooms): a
     * peer's, or your own from another device. Compare `fingerprint` with the
     * one you pinned.
     */
    keysChanged: {
        userId: string;
        fingerprint: string;
    };
}
export declare class ChatClient extends Emitter<ClientEvents> {
    private readonly opts;
    readonly rest: RestClient;
    /** Rooms you are in, by id. */
    readonly rooms: Map<string, RoomState>;
    /** Users met in rooms, by id. */
    readonly users: Map<string, UserState>;
    private readonly timeline;
    private readonly pendingSends;
    private readonly o;
    private me;
    private ws;
    private wsState;
    private stopped;
    private attempt;
    private refreshToken;
    private reconnectTimer;
    private pingTimer;
    private pongTimer;
    private housekeeping;
    private syncRetryTimer;
    private typingRoom;
    private typingSentAt;
    private typingIdleTimer;
    /** Highest seq told to the server per room with `markRead`. */
    private markedSeq;
    /** Messages of others counted into `unreadCount` up to this seq, per room. */
    private countedSeq;
    private refreshing;
    private refreshAgain;
    constructor(opts: ChatClientOptions);
    /** The signed-in user's id (known after `start`). */
    get userId(): string;
    get connectionState(): ConnectionState;
    get isOnline(): boolean;
    /**
     * Loads who you are (unless given) and your rooms, then connects. Resolves
     * once the first connection attempt is under way; follow `connection`.
     */
    start(): Promise<void>;
    /**
     * Connects without loading anything first (`start` loads who you are and
     * your rooms, then calls this). Needs `userId` in the options.
     */
    connect(): void;
    /** Closes the socket for good; pending sends fail with `closed`. */
    close(): void;
    /**
     * Reconnects at once if offline (e.g. on the browser's `online` event or a
     * "Retry" button), and restarts the backoff from its first step.
     */
    reconnectNow(): void;
    /**
     * Checks the socket now: sends `ping` and declares it dead if nothing
     * arrives within `pongTimeoutMs` (e.g. when a page comes back to the
     * foreground after the device slept).
     */
    checkAlive(): void;
    private clearTimers;
    private setState;
    private open;
    /** Abandons a socket that is dead or stuck, without waiting for its close handshake. */
    private drop;
    private lost;
    private probeToken;
    private scheduleReconnect;
    private armPing;
    private sendPing;
    /**
     * A frame that the server answers went out: unless some frame arrives
     * within `pongTimeoutMs`, the socket is dead (one deadline at a time).
     */
    private expectReply;
    /** True while a frame awaits its answer (the socket is not known to be alive). */
    get awaitingReply(): boolean;
    private sendFrame;
    private onConnected;
    private sendSync;
    /** Once a second: overdue syncs and acks, expired typing indicators. */
    private tick;
    private handleFrame;
    private onReleased;
    /** A held message changed: the room list's last message follows it. */
    private onChanged;
    private onAck;
    private settle;
    private onReceipt;
    private onError;
    /**
     * Sends a message; resolves with its ack. It stays pending (shown by
     * `pending(roomId)`) and is resent with the same `clientMsgId` until
     * acked: offline sends go out on the next connect. Rejects with a
     * {@link SendError} when refused for good.
     */
    send(roomId: string, body: string, opts?: {
        clientMsgId?: string;
        attachments?: string[];
        replyTo?: number;
        sealed?: Sealed;
    }): Promise<SendResult>;
    /** Tries a failed send again (same `clientMsgId`). */
    retrySend(clientMsgId: string): Promise<SendResult>;
    /** Gives up a pending or failed send. */
    discardSend(clientMsgId: string): void;
    /** Your unacknowledged sends in a room, oldest first. */
    pending(roomId: string): PendingSend[];
    private transmit;
    private later;
    private failSend;
    /**
     * Edits your message `seq` (same limits as a send). The answer is a
     * `changed` event (every member gets the edit), or a `serverError`.
     * False when offline (nothing is queued: edit again once online).
     * In an end-to-end encrypted room, `body` is `''` and `opts.sealed` the
     * new content sealed under the edit's associated data (docs/PROTOCOL.md).
     */
    editMessage(roomId: string, seq: number, body: string, opts?: {
        sealed?: Sealed;
    }): boolean;
    /** Deletes message `seq` (yours; anyone's in a group or channel you own). False when offline. */
    deleteMessage(roomId: string, seq: number): boolean;
    /** Toggles your `emoji` on message `seq`. False when offline. */
    react(roomId: string, seq: number, emoji: string): boolean;
    /**
     * Marks the room read up to `seq` (default: its newest message). Sent at
     * once when online, else on the next connect; a cursor never moves back.
     */
    markRead(roomId: string, seq?: number): void;
    private sendMarkRead;
    private recount;
    /**
     * Call on each keystroke in a room's composer: sends `typing: true` at most
     * once per `typingSendEveryMs` per room, and `typing: false` after `typingIdleMs`
     * without a call (or at once with `stopTyping`, or when you send).
     */
    typed(roomId: string): void;
    /** Tells the room you stopped typing (if you had said you were). */
    stopTyping(): void;
    /** Users typing in a room now (you excluded). */
    typingIn(roomId: string): string[];
    /** Room ids, most recently active first. */
    roomIds(): string[];
    /** A room's messages: in seq order, each once, without holes. */
    messages(roomId: string): readonly MessageView[];
    /** No hole is known in the room and no sync of it is outstanding. */
    isSettled(roomId: string): boolean;
    /** `read` when every other member read `seq`, `delivered` when each has it, else `sent`. */
    receiptStatus(roomId: string, seq: number): 'sent' | 'delivered' | 'read';
    /** What is known of a user (a blank record if nothing yet). */
    user(userId: string): UserState;
    private upsertRoom;
    /** Starts a room's timeline where nothing older needs recovering, and syncs it when online. */
    private follow;
    private removeRoom;
    private applySummary;
    private applyDetail;
    /** `GET /rooms`, merged into `rooms` (rooms you left are dropped). Concurrent calls coalesce. */
    loadRooms(): Promise<void>;
    /** `GET /rooms/{roomId}`: members, their cursors and presence. A 403/404 drops the room. */
    loadRoom(roomId: string): Promise<RoomState>;
    /** The newest history page (`limit`, default 50). */
    loadHistory(roomId: string, limit?: number): Promise<void>;
    /** The history page before the oldest loaded; false when there is none. */
    loadOlder(roomId: string, limit?: number): Promise<boolean>;
    /** `POST /rooms`; the room is followed at once. */
    createRoom(kind: RoomKind, members: string[], name?: string, opts?: {
        encrypted?: boolean;
    }): Promise<RoomState>;
    /** Adds a member (the owner), or joins a channel yourself (`userId` omitted). */
    addMember(roomId: string, userId?: string): Promise<RoomState>;
    /** Leaves a room (or, as its owner, removes `userId`). */
    removeMember(roomId: string, userId?: string): Promise<void>;
}
