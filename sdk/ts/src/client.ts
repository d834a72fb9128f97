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
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import type {
  Sealed,
  AckFrame,
  ChangeFrame,
  ClientFrame,
  ErrorCode,
  ErrorFrame,
  MessageView,
  PresenceStatus,
  ReceiptFrame,
  RoomDetail,
  RoomKind,
  RoomSummary,
  RoomView,
  ServerFrame,
  SyncRoom,
} from './protocol.js';
import { ApiError, RestClient, type GetToken } from './rest.js';
import { MAX_SYNC_ROOMS, Timeline, type Applied } from './timeline.js';

/** The part of the WebSocket API the client uses (browsers' and `ws`'s both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (ev: { data?: unknown }) => void): void;
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
  error: { code: ErrorCode | 'timeout' | 'closed'; message: string } | null;
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
export class SendError extends Error {
  constructor(
    readonly code: ErrorCode | 'timeout' | 'closed',
    message: string,
    readonly clientMsgId: string,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

export interface ClientEvents {
  /** The connection changed state; `retryAt` (epoch ms) when a reconnect is scheduled. */
  connection: { state: ConnectionState; retryAt: number | null; reason: string | null };
  /** Messages were added to a room's timeline (released in seq order; history may add older ones). */
  messages: { roomId: string; added: MessageView[] };
  /** The set of pending sends of a room changed (queued, acked, failed, retried). */
  pending: { roomId: string };
  /** One of your sends was acknowledged. */
  ack: SendResult;
  /** A send was refused for good (see `PendingSend.error`); `retrySend` tries again. */
  sendFailed: { roomId: string; clientMsgId: string; code: string; message: string };
  /**
   * Whether the socket is verified: `false` while a frame (ping, send, sync)
   * awaits an answer, `true` once any frame arrived. Emitted on changes only.
   */
  liveness: { verified: boolean };
  /** The server rate-limited a frame; the client resends it by itself after `retryAfterMs`. */
  rateLimited: { clientMsgId: string | null; retryAfterMs: number };
  /**
   * A message you hold was edited, deleted (a tombstone now: empty body,
   * `deletedAt`) or its reactions changed, live or found by sync.
   * `messages(roomId)` has it updated.
   */
  changed: { roomId: string; message: MessageView; change: ChangeFrame | null };
  /** Members' delivered/read cursors moved. */
  receipt: { roomId: string; userIds: string[]; status: 'delivered' | 'read'; seq: number };
  /** A user came online or went offline. */
  presence: { userId: string; status: PresenceStatus };
  /** Who is typing in a room changed. */
  typing: { roomId: string; userIds: string[] };
  /** The room list changed (rooms added, removed, renamed, reordered, unread counts). */
  rooms: { roomIds: string[] };
  /** A room's details (members, cursors, name) changed. */
  room: { roomId: string };
  /** You were removed from a room (or left it). */
  roomRemoved: { roomId: string; removedBy: string | null };
  /**
   * Someone else joined or left a group you are in (`by`: who added or
   * removed them; themselves when they left). The room's details are
   * reloaded, and a `room` event follows.
   */
  member: { roomId: string; userId: string; change: 'joined' | 'left'; by: string };
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
  keysChanged: { userId: string; fingerprint: string };
}

const OPEN = 1;

function uuid(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') {
    try {
      return c.randomUUID();
    } catch {
      // insecure context (plain http on a LAN address): fall through
    }
  }
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

interface PendingEntry extends PendingSend {
  /** In an end-to-end encrypted room: the sealed content (`body` is ""). */
  sealed: Sealed | null;
  sentAt: number;
  waiters: Array<{ resolve: (r: SendResult) => void; reject: (e: SendError) => void }>;
  timer: ReturnType<typeof setTimeout> | null;
}

export class ChatClient extends Emitter<ClientEvents> {
  readonly rest: RestClient;
  /** Rooms you are in, by id. */
  readonly rooms = new Map<string, RoomState>();
  /** Users met in rooms, by id. */
  readonly users = new Map<string, UserState>();
  private readonly timeline = new Timeline();
  private readonly pendingSends = new Map<string, PendingEntry>();
  private readonly o: Required<Omit<ChatClientOptions, 'userId' | 'WebSocket' | 'fetch' | 'backoff'>> & {
    backoff: BackoffOptions;
  };
  private me: string | null;
  private ws: WebSocketLike | null = null;
  private wsState: ConnectionState = 'idle';
  private stopped = true;
  private attempt = 0;
  private refreshToken = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setTimeout> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private housekeeping: ReturnType<typeof setInterval> | null = null;
  private syncRetryTimer: ReturnType<typeof setTimeout> | null = null;
  private typingRoom: string | null = null;
  private typingSentAt = new Map<string, number>();
  private typingIdleTimer: ReturnType<typeof setTimeout> | null = null;
  /** Highest seq told to the server per room with `markRead`. */
  private markedSeq = new Map<string, number>();
  /** Messages of others counted into `unreadCount` up to this seq, per room. */
  private countedSeq = new Map<string, number>();
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;

  constructor(private readonly opts: ChatClientOptions) {
    super();
    this.me = opts.userId ?? null;
    this.rest = new RestClient({ baseUrl: opts.restUrl, getToken: opts.getToken, fetch: opts.fetch });
    this.o = {
      wsUrl: opts.wsUrl,
      restUrl: opts.restUrl,
      getToken: opts.getToken,
      backoff: opts.backoff ?? {},
      pingIntervalMs: opts.pingIntervalMs ?? 540_000,
      pongTimeoutMs: opts.pongTimeoutMs ?? 10_000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
      ackTimeoutMs: opts.ackTimeoutMs ?? 15_000,
      maxSendAttempts: opts.maxSendAttempts ?? 5,
      syncOverdueMs: opts.syncOverdueMs ?? 10_000,
      syncRetryMs: opts.syncRetryMs ?? 1_000,
      typingSendEveryMs: opts.typingSendEveryMs ?? 3_000,
      typingIdleMs: opts.typingIdleMs ?? 4_000,
      typingShowMs: opts.typingShowMs ?? 5_000,
    };
  }

  // ------------------------------------------------------------ lifecycle

  /** The signed-in user's id (known after `start`). */
  get userId(): string {
    if (this.me === null) throw new Error('the user id is known once start() resolved');
    return this.me;
  }

  get connectionState(): ConnectionState {
    return this.wsState;
  }

  get isOnline(): boolean {
    return this.wsState === 'online';
  }

  /**
   * Loads who you are (unless given) and your rooms, then connects. Resolves
   * once the first connection attempt is under way; follow `connection`.
   */
  async start(): Promise<void> {
    this.stopped = false;
    if (this.me === null) {
      const me = await this.rest.me();
      this.me = me.userId;
      this.user(me.userId).displayName = me.displayName;
      this.user(me.userId).avatarUrl = me.avatarUrl;
    }
    await this.loadRooms().catch(() => undefined);
    if (this.stopped) return;
    this.connect();
  }

  /**
   * Connects without loading anything first (`start` loads who you are and
   * your rooms, then calls this). Needs `userId` in the options.
   */
  connect(): void {
    if (this.me === null) throw new Error('connect() needs the `userId` option (or call start())');
    this.stopped = false;
    if (!this.housekeeping) this.housekeeping = setInterval(() => this.tick(), 1_000);
    void this.open();
  }

  /** Closes the socket for good; pending sends fail with `closed`. */
  close(): void {
    this.stopped = true;
    this.stopTyping();
    this.clearTimers();
    if (this.housekeeping) clearInterval(this.housekeeping);
    this.housekeeping = null;
    const ws = this.ws;
    this.ws = null;
    try {
      ws?.close(1000, 'bye');
    } catch {
      // already closed
    }
    for (const p of Array.from(this.pendingSends.values())) {
      this.failSend(p, 'closed', 'the client was closed', false);
    }
    this.setState('closed', null);
  }

  /**
   * Reconnects at once if offline (e.g. on the browser's `online` event or a
   * "Retry" button), and restarts the backoff from its first step.
   */
  reconnectNow(): void {
    // A network that came back starts the backoff over: an attempt in
    // flight that fails (it began offline) retries within `baseMs`.
    this.attempt = 0;
    if (this.stopped || this.ws) return;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    void this.open();
  }

  /**
   * Checks the socket now: sends `ping` and declares it dead if nothing
   * arrives within `pongTimeoutMs` (e.g. when a page comes back to the
   * foreground after the device slept).
   */
  checkAlive(): void {
    if (this.wsState === 'online') this.sendPing();
  }

  private clearTimers(): void {
    for (const t of [this.reconnectTimer, this.pingTimer, this.pongTimer, this.syncRetryTimer]) {
      if (t) clearTimeout(t);
    }
    this.reconnectTimer = this.pingTimer = this.pongTimer = this.syncRetryTimer = null;
  }

  private setState(state: ConnectionState, retryAt: number | null, reason: string | null = null): void {
    this.wsState = state;
    this.emit('connection', { state, retryAt, reason });
  }

  private async open(): Promise<void> {
    if (this.stopped || this.ws) return;
    this.setState('connecting', null);
    let token: string;
    try {
      token = await this.o.getToken({ forceRefresh: this.refreshToken });
      this.refreshToken = false;
    } catch (e) {
      this.scheduleReconnect(`getToken failed: ${(e as Error).message}`);
      return;
    }
    if (this.stopped || this.ws) return;
    const Ctor = this.opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) throw new Error('no WebSocket: pass the `WebSocket` option (e.g. `ws` on Node 20)');
    const sep = this.o.wsUrl.includes('?') ? '&' : '?';
    let ws: WebSocketLike;
    try {
      ws = new Ctor(`${this.o.wsUrl}${sep}token=${encodeURIComponent(token)}`);
    } catch (e) {
      this.scheduleReconnect(`cannot open a WebSocket: ${(e as Error).message}`);
      return;
    }
    this.ws = ws;
    let opened = false;
    const openTimer = setTimeout(() => {
      if (this.ws === ws && !opened) this.drop(ws, 'handshake timed out');
    }, this.o.connectTimeoutMs);
    ws.addEventListener('open', () => {
      clearTimeout(openTimer);
      if (this.ws !== ws) return;
      opened = true;
      this.attempt = 0;
      this.setState('online', null);
      this.armPing();
      this.onConnected();
    });
    ws.addEventListener('message', (ev) => {
      if (this.ws !== ws || typeof ev.data !== 'string') return;
      this.armPing();
      let frame: unknown;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (frame && typeof frame === 'object' && typeof (frame as { type?: unknown }).type === 'string') {
        this.handleFrame(frame as ServerFrame);
      }
    });
    const onGone = () => {
      clearTimeout(openTimer);
      if (this.ws !== ws) return;
      this.lost(opened ? 'connection lost' : 'handshake failed', opened, token);
    };
    ws.addEventListener('close', onGone);
    ws.addEventListener('error', onGone);
  }

  /** Abandons a socket that is dead or stuck, without waiting for its close handshake. */
  private drop(ws: WebSocketLike, reason: string): void {
    if (this.ws !== ws) return;
    const terminate = (ws as { terminate?: () => void }).terminate;
    try {
      if (typeof terminate === 'function') terminate.call(ws);
      else ws.close(4000, reason);
    } catch {
      // already closed
    }
    this.lost(reason, true, null);
  }

  private lost(reason: string, opened: boolean, token: string | null): void {
    this.ws = null;
    if (this.pingTimer) clearTimeout(this.pingTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pingTimer = this.pongTimer = null;
    // Others' typing may be stale until we are back.
    for (const room of this.rooms.values()) {
      if (room.typing.size) {
        room.typing.clear();
        this.emit('typing', { roomId: room.roomId, userIds: [] });
      }
    }
    if (this.stopped) return;
    if (!opened && token !== null) {
      // A refused upgrade (401) is indistinguishable from a network failure in
      // a browser: ask REST whether this token is still good.
      void this.probeToken(token);
    }
    this.scheduleReconnect(reason);
  }

  private async probeToken(token: string): Promise<void> {
    try {
      const res = await (this.opts.fetch ?? globalThis.fetch)(`${this.o.restUrl.replace(/\/+$/, '')}/users/me`, {
        headers: { authorization: `Bearer ${token}` },
        cache: 'no-store',
      });
      if (res.status === 401) this.refreshToken = true;
    } catch {
      // unreachable: the reconnect's backoff covers it
    }
  }

  private scheduleReconnect(reason: string): void {
    if (this.stopped || this.reconnectTimer) return;
    const delay = backoffDelay(this.attempt, this.o.backoff);
    this.attempt = Math.min(this.attempt + 1, 30);
    const retryAt = Date.now() + delay;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.open();
    }, delay);
    this.setState('offline', retryAt, reason);
  }

  private armPing(): void {
    if (this.pongTimer) {
      clearTimeout(this.pongTimer);
      this.pongTimer = null;
      this.emit('liveness', { verified: true });
    }
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => this.sendPing(), this.o.pingIntervalMs);
  }

  private sendPing(): void {
    if (!this.ws || this.pongTimer) return;
    this.sendFrame({ action: 'ping' });
    this.expectReply('no pong: the socket is dead');
  }

  /**
   * A frame that the server answers went out: unless some frame arrives
   * within `pongTimeoutMs`, the socket is dead (one deadline at a time).
   */
  private expectReply(reason: string): void {
    const ws = this.ws;
    if (!ws || this.pongTimer) return;
    this.pongTimer = setTimeout(() => this.drop(ws, reason), this.o.pongTimeoutMs);
    this.emit('liveness', { verified: false });
  }

  /** True while a frame awaits its answer (the socket is not known to be alive). */
  get awaitingReply(): boolean {
    return this.pongTimer !== null;
  }

  private sendFrame(frame: ClientFrame): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN || this.wsState !== 'online') return false;
    try {
      ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  private onConnected(): void {
    this.sendSync(this.timeline.resync());
    for (const p of this.pendingSends.values()) if (p.status === 'pending') this.transmit(p);
    for (const room of this.rooms.values()) {
      const marked = this.markedSeq.get(room.roomId) ?? 0;
      if (room.readSeq > marked) this.sendMarkRead(room.roomId, room.readSeq);
    }
  }

  private sendSync(rooms: SyncRoom[]): void {
    for (let i = 0; i < rooms.length; i += MAX_SYNC_ROOMS) {
      const chunk = rooms.slice(i, i + MAX_SYNC_ROOMS);
      if (!this.sendFrame({ action: 'sync', rooms: chunk })) this.timeline.unsent(chunk);
      else this.expectReply('no answer to sync: the socket is dead');
    }
  }

  /** Once a second: overdue syncs and acks, expired typing indicators. */
  private tick(): void {
    const now = Date.now();
    if (this.wsState === 'online') {
      this.sendSync(this.timeline.retry(this.o.syncOverdueMs, now));
      for (const p of this.pendingSends.values()) {
        if (p.status !== 'pending' || p.timer || now - p.sentAt < this.o.ackTimeoutMs) continue;
        if (p.tries >= this.o.maxSendAttempts) this.failSend(p, 'timeout', 'no acknowledgement from the server', true);
        else this.transmit(p);
      }
    }
    for (const room of this.rooms.values()) {
      let changed = false;
      for (const [id, exp] of room.typing) {
        if (exp <= now) {
          room.typing.delete(id);
          changed = true;
        }
      }
      if (changed) this.emit('typing', { roomId: room.roomId, userIds: this.typingIn(room.roomId) });
    }
  }

  // ---------------------------------------------------------------- frames

  private handleFrame(f: ServerFrame): void {
    switch (f.type) {
      case 'message':
        this.onReleased(f.roomId, this.timeline.applyMessage(stripType(f)), true);
        break;
      case 'ack':
        this.onAck(f);
        break;
      case 'syncResult':
        // A late answer for a room we left is dropped.
        if (this.timeline.has(f.roomId)) {
          const applied = this.timeline.applySync(f);
          this.onReleased(f.roomId, applied, true);
          for (const m of applied.changed ?? []) this.onChanged(f.roomId, m, null);
        }
        break;
      case 'receipt':
        this.onReceipt(f);
        break;
      case 'messageEdited':
      case 'messageDeleted':
      case 'reaction': {
        if (!this.timeline.has(f.roomId)) break;
        const applied = this.timeline.applyChange(f, this.me);
        if (applied.sync.length) this.sendSync(applied.sync);
        if (applied.changed) this.onChanged(f.roomId, applied.changed, f);
        break;
      }
      case 'presence':
        this.user(f.userId).presence = f.status;
        if (f.status === 'offline') {
          for (const room of this.rooms.values()) {
            if (room.typing.delete(f.userId)) this.emit('typing', { roomId: room.roomId, userIds: this.typingIn(room.roomId) });
          }
        }
        this.emit('presence', { userId: f.userId, status: f.status });
        break;
      case 'typing': {
        const room = this.rooms.get(f.roomId);
        if (!room || f.userId === this.me) break;
        if (f.isTyping) room.typing.set(f.userId, Date.now() + this.o.typingShowMs);
        else room.typing.delete(f.userId);
        this.emit('typing', { roomId: f.roomId, userIds: this.typingIn(f.roomId) });
        break;
      }
      case 'roomAdded':
        this.upsertRoom(f);
        this.emit('rooms', { roomIds: this.roomIds() });
        // Its summary (last message, unread) sets where its timeline starts.
        void this.loadRooms().catch(() => undefined);
        break;
      case 'roomRemoved':
        this.removeRoom(f.roomId, f.removedBy);
        break;
      case 'memberJoined':
      case 'memberLeft':
        if (!this.rooms.has(f.roomId)) break;
        this.emit('member', f.type === 'memberJoined'
          ? { roomId: f.roomId, userId: f.userId, change: 'joined', by: f.addedBy }
          : { roomId: f.roomId, userId: f.userId, change: 'left', by: f.removedBy });
        void this.loadRoom(f.roomId).catch(() => undefined);
        break;
      case 'error':
        this.onError(f);
        break;
      case 'pong':
        break;
      case 'keysChanged':
        this.emit('keysChanged', { userId: f.userId, fingerprint: f.fingerprint });
        break;
      default:
        break; // a newer server's frame: ignored
    }
  }

  private onReleased(roomId: string, applied: Applied, live: boolean): void {
    this.sendSync(applied.sync);
    if (applied.released.length === 0) return;
    const room = this.rooms.get(roomId);
    if (room) {
      let typingChanged = false;
      for (const m of applied.released) {
        if (!room.lastMessage || m.seq > room.lastMessage.seq) room.lastMessage = m;
        if (room.typing.delete(m.senderId)) typingChanged = true;
        const sender = room.members.get(m.senderId);
        // A member's own message is their read (and delivered) point.
        if (sender) {
          sender.readSeq = Math.max(sender.readSeq, m.seq);
          sender.deliveredSeq = Math.max(sender.deliveredSeq, m.seq);
        }
        if (m.senderId === this.me) room.readSeq = Math.max(room.readSeq, m.seq);
        // A pending send of ours that arrives as a message (another device
        // resent it, or a sync found it) is settled.
        if (m.senderId === this.me && this.pendingSends.has(m.clientMsgId)) {
          this.settle(m.clientMsgId, { clientMsgId: m.clientMsgId, roomId, messageId: m.messageId, seq: m.seq });
        }
        const counted = this.countedSeq.get(roomId) ?? 0;
        if (m.seq > counted) {
          this.countedSeq.set(roomId, m.seq);
          if (m.senderId !== this.me && m.seq > room.readSeq) room.unreadCount += 1;
        }
      }
      if (room.readSeq > 0) this.recount(room);
      if (typingChanged) this.emit('typing', { roomId, userIds: this.typingIn(roomId) });
    }
    else if (live) {
      // A message of a room we did not know yet: its summary comes from REST.
      void this.loadRooms().catch(() => undefined);
    }
    this.emit('messages', { roomId, added: applied.released });
    if (live) this.emit('rooms', { roomIds: this.roomIds() });
  }

  /** A held message changed: the room list's last message follows it. */
  private onChanged(roomId: string, m: MessageView, change: ChangeFrame | null): void {
    const room = this.rooms.get(roomId);
    if (room && room.lastMessage && room.lastMessage.seq === m.seq) {
      room.lastMessage = m;
      this.emit('rooms', { roomIds: this.roomIds() });
    }
    this.emit('changed', { roomId, message: m, change });
  }

  private onAck(f: AckFrame): void {
    const p = this.pendingSends.get(f.clientMsgId);
    if (!p) return; // already settled (a resend answered twice)
    const result = { clientMsgId: f.clientMsgId, roomId: f.roomId, messageId: f.messageId, seq: f.seq };
    const own: MessageView = {
      roomId: f.roomId,
      messageId: f.messageId,
      seq: f.seq,
      senderId: this.me ?? '',
      body: p.body,
      sentAt: p.createdAt,
      clientMsgId: f.clientMsgId,
      ...(f.attachments && f.attachments.length > 0 ? { attachments: f.attachments } : {}),
      ...(f.replyTo ? { replyTo: f.replyTo } : {}),
    };
    this.settle(f.clientMsgId, result);
    // Your own message goes into the timeline like any other (a later push
    // or sync of it is a repeat).
    if (this.rooms.has(f.roomId) || this.timeline.has(f.roomId)) {
      this.onReleased(f.roomId, this.timeline.applyMessage(own), true);
    }
  }

  private settle(clientMsgId: string, result: SendResult): void {
    const p = this.pendingSends.get(clientMsgId);
    if (!p) return;
    if (p.timer) clearTimeout(p.timer);
    this.pendingSends.delete(clientMsgId);
    for (const w of p.waiters) w.resolve(result);
    this.emit('ack', result);
    this.emit('pending', { roomId: p.roomId });
  }

  private onReceipt(f: ReceiptFrame): void {
    const room = this.rooms.get(f.roomId);
    if (!room) return;
    for (const userId of f.userIds) {
      if (userId === this.me) {
        if (f.status === 'read' && f.seq > room.readSeq) {
          room.readSeq = f.seq;
          this.recount(room);
          this.emit('rooms', { roomIds: this.roomIds() });
        }
        continue;
      }
      let m = room.members.get(userId);
      if (!m) {
        m = { userId, role: 'member', joinedAt: 0, deliveredSeq: 0, readSeq: 0 };
        room.members.set(userId, m);
      }
      m.deliveredSeq = Math.max(m.deliveredSeq, f.seq);
      if (f.status === 'read') m.readSeq = Math.max(m.readSeq, f.seq);
    }
    this.emit('receipt', { roomId: f.roomId, userIds: f.userIds, status: f.status, seq: f.seq });
  }

  private onError(f: ErrorFrame): void {
    const p = f.clientMsgId ? this.pendingSends.get(f.clientMsgId) : undefined;
    if (f.code === 'rate_limited') {
      const wait = Math.max(0, f.retryAfterMs ?? 1_000);
      this.emit('rateLimited', { clientMsgId: f.clientMsgId ?? null, retryAfterMs: wait });
      if (p) {
        this.later(p, wait);
        p.retryAt = Date.now() + wait;
        this.emit('pending', { roomId: p.roomId });
      } else {
        // A sync or markRead was refused: ask again once allowed.
        setTimeout(() => {
          if (this.wsState !== 'online') return;
          this.sendSync(this.timeline.retry(0));
          for (const room of this.rooms.values()) {
            if (room.readSeq > (this.markedSeq.get(room.roomId) ?? 0)) this.sendMarkRead(room.roomId, room.readSeq);
          }
        }, wait);
      }
      return;
    }
    if (p) {
      if (f.code === 'internal' && p.tries < this.o.maxSendAttempts) {
        // Safe to resend: the same clientMsgId never makes a second message.
        this.later(p, backoffDelay(p.tries, { baseMs: 250, maxMs: 5_000 }));
      } else {
        this.failSend(p, f.code, f.message, true);
      }
      return;
    }
    if (f.code === 'forbidden' || f.code === 'not_found') {
      // A room we may no longer read (a sync, markRead or typing for it; the
      // frame names no room): the room list drops it, and with it its
      // outstanding sync, which would otherwise be asked again and again.
      void this.loadRooms().catch(() => undefined);
      this.emit('serverError', f);
      return;
    }
    if (f.code === 'internal') {
      // A sync failed on the server (it names no room): ask again shortly.
      if (this.syncRetryTimer) clearTimeout(this.syncRetryTimer);
      this.syncRetryTimer = setTimeout(() => {
        this.syncRetryTimer = null;
        this.sendSync(this.timeline.retry(0));
      }, this.o.syncRetryMs);
      // Handled here: nothing for the user to act on.
      return;
    }
    this.emit('serverError', f);
  }

  // -------------------------------------------------------------- sending

  /**
   * Sends a message; resolves with its ack. It stays pending (shown by
   * `pending(roomId)`) and is resent with the same `clientMsgId` until
   * acked: offline sends go out on the next connect. Rejects with a
   * {@link SendError} when refused for good.
   */
  send(
    roomId: string,
    body: string,
    opts: { clientMsgId?: string; attachments?: string[]; replyTo?: number; sealed?: Sealed } = {},
  ): Promise<SendResult> {
    const clientMsgId = opts.clientMsgId ?? uuid();
    const existing = this.pendingSends.get(clientMsgId);
    if (existing) return new Promise((resolve, reject) => existing.waiters.push({ resolve, reject }));
    const p: PendingEntry = {
      clientMsgId,
      roomId,
      body,
      attachments: opts.attachments ?? [],
      replyTo: opts.replyTo ?? null,
      sealed: opts.sealed ?? null,
      createdAt: Date.now(),
      status: 'pending',
      tries: 0,
      error: null,
      retryAt: null,
      sentAt: 0,
      waiters: [],
      timer: null,
    };
    const done = new Promise<SendResult>((resolve, reject) => p.waiters.push({ resolve, reject }));
    this.pendingSends.set(clientMsgId, p);
    // The send ends the indicator, and the throttle restarts: typing the
    // next message shows at once.
    if (this.typingRoom === roomId) this.stopTyping();
    this.typingSentAt.delete(roomId);
    this.transmit(p);
    this.emit('pending', { roomId });
    return done;
  }

  /** Tries a failed send again (same `clientMsgId`). */
  retrySend(clientMsgId: string): Promise<SendResult> {
    const p = this.pendingSends.get(clientMsgId);
    if (!p) return Promise.reject(new SendError('bad_request', 'no such pending send', clientMsgId));
    const done = new Promise<SendResult>((resolve, reject) => p.waiters.push({ resolve, reject }));
    if (p.status === 'failed') {
      p.status = 'pending';
      p.error = null;
      p.tries = 0;
      this.transmit(p);
      this.emit('pending', { roomId: p.roomId });
    }
    return done;
  }

  /** Gives up a pending or failed send. */
  discardSend(clientMsgId: string): void {
    const p = this.pendingSends.get(clientMsgId);
    if (!p) return;
    this.failSend(p, 'closed', 'discarded', false);
  }

  /** Your unacknowledged sends in a room, oldest first. */
  pending(roomId: string): PendingSend[] {
    return Array.from(this.pendingSends.values())
      .filter((p) => p.roomId === roomId)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map(({ clientMsgId, roomId: r, body, attachments, replyTo, createdAt, status, tries, error, retryAt }) => ({
        clientMsgId,
        roomId: r,
        attachments: [...attachments],
        replyTo,
        body,
        createdAt,
        status,
        tries,
        error,
        retryAt,
      }));
  }

  private transmit(p: PendingEntry): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = null;
    p.sentAt = Date.now();
    p.retryAt = null;
    const frame = { action: 'sendMessage' as const, roomId: p.roomId, clientMsgId: p.clientMsgId, body: p.body };
    const withFiles = p.attachments.length > 0 ? { ...frame, attachments: p.attachments } : frame;
    const withReply = p.replyTo !== null ? { ...withFiles, replyTo: p.replyTo } : withFiles;
    const withSealed = p.sealed !== null ? { ...withReply, sealed: p.sealed } : withReply;
    if (this.sendFrame(withSealed)) {
      p.tries += 1;
      this.expectReply('no ack: the socket is dead');
    }
  }

  private later(p: PendingEntry, ms: number): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      p.timer = null;
      if (this.pendingSends.get(p.clientMsgId) === p && p.status === 'pending') this.transmit(p);
    }, ms);
  }

  private failSend(p: PendingEntry, code: SendError['code'], message: string, keep: boolean): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = null;
    p.retryAt = null;
    p.status = 'failed';
    p.error = { code, message };
    const waiters = p.waiters;
    p.waiters = [];
    if (!keep) this.pendingSends.delete(p.clientMsgId);
    for (const w of waiters) w.reject(new SendError(code, message, p.clientMsgId));
    this.emit('sendFailed', { roomId: p.roomId, clientMsgId: p.clientMsgId, code, message });
    this.emit('pending', { roomId: p.roomId });
  }

  // ------------------------------------------- edits, deletes, reactions

  /**
   * Edits your message `seq` (same limits as a send). The answer is a
   * `changed` event (every member gets the edit), or a `serverError`.
   * False when offline (nothing is queued: edit again once online).
   * In an end-to-end encrypted room, `body` is `''` and `opts.sealed` the
   * new content sealed under the edit's associated data (docs/PROTOCOL.md).
   */
  editMessage(roomId: string, seq: number, body: string, opts: { sealed?: Sealed } = {}): boolean {
    return this.sendFrame(opts.sealed ? { action: 'editMessage', roomId, seq, body, sealed: opts.sealed } : { action: 'editMessage', roomId, seq, body });
  }

  /** Deletes message `seq` (yours; anyone's in a group or channel you own). False when offline. */
  deleteMessage(roomId: string, seq: number): boolean {
    return this.sendFrame({ action: 'deleteMessage', roomId, seq });
  }

  /** Toggles your `emoji` on message `seq`. False when offline. */
  react(roomId: string, seq: number, emoji: string): boolean {
    return this.sendFrame({ action: 'react', roomId, seq, emoji });
  }

  // ------------------------------------------------------- read and typing

  /**
   * Marks the room read up to `seq` (default: its newest message). Sent at
   * once when online, else on the next connect; a cursor never moves back.
   */
  markRead(roomId: string, seq?: number): void {
    const room = this.rooms.get(roomId);
    const msgs = this.timeline.messages(roomId);
    const upTo = seq ?? msgs[msgs.length - 1]?.seq ?? 0;
    if (!room || upTo <= 0) return;
    if (upTo > room.readSeq) room.readSeq = upTo;
    this.recount(room);
    if (upTo > (this.markedSeq.get(roomId) ?? 0)) this.sendMarkRead(roomId, upTo);
    this.emit('rooms', { roomIds: this.roomIds() });
  }

  private sendMarkRead(roomId: string, seq: number): void {
    if (this.sendFrame({ action: 'markRead', roomId, seq })) this.markedSeq.set(roomId, seq);
  }

  private recount(room: RoomState): void {
    const msgs = this.timeline.messages(room.roomId);
    let n = 0;
    for (let i = msgs.length - 1; i >= 0; i--) {
      const m = msgs[i]!;
      if (m.seq <= room.readSeq) break;
      if (m.senderId !== this.me) n += 1;
    }
    // Messages counted from the summary but not held cannot be recounted:
    // only a read cursor at or past the newest seq clears them.
    const newest = room.lastMessage?.seq ?? 0;
    room.unreadCount = room.readSeq >= newest ? n : Math.max(n, Math.min(room.unreadCount, newest - room.readSeq));
  }

  /**
   * Call on each keystroke in a room's composer: sends `typing: true` at most
   * once per `typingSendEveryMs` per room, and `typing: false` after `typingIdleMs`
   * without a call (or at once with `stopTyping`, or when you send).
   */
  typed(roomId: string): void {
    const now = Date.now();
    if (this.typingRoom && this.typingRoom !== roomId) this.stopTyping();
    // Per room, and kept across stops: typing, pausing, typing again within
    // the interval costs no second `typing: true` (the `typing` limit is
    // 2 a second, and every frame is a push to each member). A send resets
    // it (see `send`).
    if (now - (this.typingSentAt.get(roomId) ?? 0) >= this.o.typingSendEveryMs) {
      if (this.sendFrame({ action: 'typing', roomId, isTyping: true })) {
        this.typingRoom = roomId;
        this.typingSentAt.set(roomId, now);
      }
    }
    if (this.typingIdleTimer) clearTimeout(this.typingIdleTimer);
    this.typingIdleTimer = setTimeout(() => this.stopTyping(), this.o.typingIdleMs);
  }

  /** Tells the room you stopped typing (if you had said you were). */
  stopTyping(): void {
    if (this.typingIdleTimer) clearTimeout(this.typingIdleTimer);
    this.typingIdleTimer = null;
    const room = this.typingRoom;
    if (!room) return;
    this.typingRoom = null;
    this.sendFrame({ action: 'typing', roomId: room, isTyping: false });
  }

  /** Users typing in a room now (you excluded). */
  typingIn(roomId: string): string[] {
    const room = this.rooms.get(roomId);
    if (!room) return [];
    const now = Date.now();
    return Array.from(room.typing.entries())
      .filter(([, exp]) => exp > now)
      .map(([id]) => id);
  }

  // ------------------------------------------------------------ room state

  /** Room ids, most recently active first. */
  roomIds(): string[] {
    const activity = (r: RoomState) => r.lastMessage?.sentAt ?? r.createdAt;
    return Array.from(this.rooms.values())
      .sort((a, b) => activity(b) - activity(a) || (a.roomId < b.roomId ? -1 : 1))
      .map((r) => r.roomId);
  }

  /** A room's messages: in seq order, each once, without holes. */
  messages(roomId: string): readonly MessageView[] {
    return this.timeline.messages(roomId);
  }

  /** No hole is known in the room and no sync of it is outstanding. */
  isSettled(roomId: string): boolean {
    return this.timeline.isSettled(roomId);
  }

  /** `read` when every other member read `seq`, `delivered` when each has it, else `sent`. */
  receiptStatus(roomId: string, seq: number): 'sent' | 'delivered' | 'read' {
    const room = this.rooms.get(roomId);
    if (!room) return 'sent';
    const others = Array.from(room.members.values()).filter((m) => m.userId !== this.me);
    if (others.length === 0) return 'sent';
    if (others.every((m) => m.readSeq >= seq)) return 'read';
    if (others.every((m) => Math.max(m.deliveredSeq, m.readSeq) >= seq)) return 'delivered';
    return 'sent';
  }

  /** What is known of a user (a blank record if nothing yet). */
  user(userId: string): UserState {
    let u = this.users.get(userId);
    if (!u) {
      u = { userId, displayName: null, avatarUrl: null, presence: null };
      this.users.set(userId, u);
    }
    return u;
  }

  private upsertRoom(v: RoomView): RoomState {
    let room = this.rooms.get(v.roomId);
    if (!room) {
      room = {
        roomId: v.roomId,
        kind: v.kind,
        name: v.name,
        ownerId: v.ownerId,
        createdAt: v.createdAt,
        members: new Map(),
        detailLoaded: false,
        lastMessage: null,
        readSeq: 0,
        unreadCount: 0,
        typing: new Map(),
        prevCursor: null,
        historyLoaded: false,
      };
      this.rooms.set(v.roomId, room);
    } else {
      room.kind = v.kind;
      room.name = v.name;
      room.ownerId = v.ownerId;
      room.createdAt = v.createdAt;
    }
    return room;
  }

  /** Starts a room's timeline where nothing older needs recovering, and syncs it when online. */
  private follow(roomId: string, through: number, first: MessageView | null): void {
    if (this.timeline.has(roomId)) return;
    this.timeline.track(roomId, through);
    if (first) this.onReleased(roomId, this.timeline.applyMessage(first), false);
    if (this.wsState === 'online') this.sendSync(this.timeline.resync().filter((r) => r.roomId === roomId));
  }

  private removeRoom(roomId: string, removedBy: string | null): void {
    if (!this.rooms.delete(roomId)) return;
    this.timeline.forget(roomId);
    this.emit('roomRemoved', { roomId, removedBy });
    this.emit('rooms', { roomIds: this.roomIds() });
  }

  private applySummary(s: RoomSummary): void {
    const known = this.rooms.has(s.roomId);
    const room = this.upsertRoom(s);
    const last = s.lastMessage;
    if (known && s.readSeq > room.readSeq) {
      // Read on another device: your own cursor's moves are not pushed.
      room.readSeq = s.readSeq;
      if (last && (!room.lastMessage || last.seq > room.lastMessage.seq)) room.lastMessage = last;
      this.recount(room);
    }
    room.readSeq = Math.max(room.readSeq, s.readSeq);
    if (!known || !this.timeline.has(s.roomId)) {
      // The server's count covers every message up to its last one.
      room.unreadCount = s.unreadCount;
      this.countedSeq.set(s.roomId, Math.max(this.countedSeq.get(s.roomId) ?? 0, last?.seq ?? 0));
    }
    if (!this.timeline.has(s.roomId)) {
      // Start just below the newest stored message (never at it: one accepted
      // but not yet stored may sit below) and hold that message.
      this.follow(s.roomId, last ? last.seq - 1 : 0, last);
    }
    if (last && (!room.lastMessage || last.seq > room.lastMessage.seq)) room.lastMessage = last;
  }

  private applyDetail(d: RoomDetail): RoomState {
    const room = this.upsertRoom(d);
    const members = new Map<string, MemberState>();
    for (const m of d.members) {
      const prev = room.members.get(m.userId);
      members.set(m.userId, {
        userId: m.userId,
        role: m.role,
        joinedAt: m.joinedAt,
        deliveredSeq: Math.max(m.deliveredSeq, prev?.deliveredSeq ?? 0),
        readSeq: Math.max(m.readSeq, prev?.readSeq ?? 0),
      });
      const u = this.user(m.userId);
      u.displayName = m.displayName;
      u.avatarUrl = m.avatarUrl ?? null;
      u.presence = m.presence;
      if (m.userId === this.me) room.readSeq = Math.max(room.readSeq, m.readSeq);
    }
    room.members = members;
    room.detailLoaded = true;
    this.emit('room', { roomId: room.roomId });
    return room;
  }

  // ------------------------------------------------------------------ REST

  /** `GET /rooms`, merged into `rooms` (rooms you left are dropped). Concurrent calls coalesce. */
  loadRooms(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        const list = await this.rest.listRooms();
        const seen = new Set<string>();
        for (const s of list.rooms) {
          seen.add(s.roomId);
          this.applySummary(s);
        }
        for (const id of Array.from(this.rooms.keys())) if (!seen.has(id)) this.removeRoom(id, null);
        this.emit('rooms', { roomIds: this.roomIds() });
      } finally {
        this.refreshing = null;
        if (this.refreshAgain) {
          this.refreshAgain = false;
          void this.loadRooms().catch(() => undefined);
        }
      }
    })();
    return this.refreshing;
  }

  /** `GET /rooms/{roomId}`: members, their cursors and presence. A 403/404 drops the room. */
  async loadRoom(roomId: string): Promise<RoomState> {
    try {
      return this.applyDetail(await this.rest.getRoom(roomId));
    } catch (e) {
      if (e instanceof ApiError && (e.status === 403 || e.status === 404)) this.removeRoom(roomId, null);
      throw e;
    }
  }

  /** The newest history page (`limit`, default 50). */
  async loadHistory(roomId: string, limit = 50): Promise<void> {
    const page = await this.rest.history(roomId, { limit });
    const room = this.rooms.get(roomId);
    if (room) {
      room.prevCursor = page.prevCursor ?? null;
      room.historyLoaded = true;
    }
    const fresh = !this.timeline.has(roomId);
    this.onReleased(roomId, this.timeline.addHistory(roomId, page.messages), false);
    if (fresh && this.wsState === 'online') this.sendSync(this.timeline.resync().filter((r) => r.roomId === roomId));
  }

  /** The history page before the oldest loaded; false when there is none. */
  async loadOlder(roomId: string, limit = 50): Promise<boolean> {
    const room = this.rooms.get(roomId);
    if (!room?.prevCursor) return false;
    const page = await this.rest.history(roomId, { before: room.prevCursor, limit });
    room.prevCursor = page.prevCursor ?? null;
    this.onReleased(roomId, this.timeline.addHistory(roomId, page.messages), false);
    return true;
  }

  /** `POST /rooms`; the room is followed at once. */
  async createRoom(kind: RoomKind, members: string[], name?: string, opts: { encrypted?: boolean } = {}): Promise<RoomState> {
    const d = await this.rest.createRoom({
      kind,
      members,
      ...(name === undefined ? {} : { name }),
      ...(opts.encrypted ? { encrypted: true } : {}),
    });
    const room = this.applyDetail(d);
    // A new room starts at 0; an existing direct room, from its summary.
    if (!this.timeline.has(room.roomId)) await this.loadRooms().catch(() => undefined);
    this.emit('rooms', { roomIds: this.roomIds() });
    return room;
  }

  /** Adds a member (the owner), or joins a channel yourself (`userId` omitted). */
  async addMember(roomId: string, userId?: string): Promise<RoomState> {
    const d = await this.rest.addMember(roomId, userId ?? this.userId);
    const room = this.applyDetail(d);
    if (!this.timeline.has(roomId)) await this.loadRooms().catch(() => undefined);
    this.emit('rooms', { roomIds: this.roomIds() });
    return room;
  }

  /** Leaves a room (or, as its owner, removes `userId`). */
  async removeMember(roomId: string, userId?: string): Promise<void> {
    const who = userId ?? this.userId;
    await this.rest.removeMember(roomId, who);
    if (who === this.me) this.removeRoom(roomId, this.me);
    else await this.loadRoom(roomId).catch(() => undefined);
  }
}

function stripType(f: { type: 'message' } & MessageView): MessageView {
  return {
    roomId: f.roomId,
    messageId: f.messageId,
    seq: f.seq,
    senderId: f.senderId,
    body: f.body,
    sentAt: f.sentAt,
    clientMsgId: f.clientMsgId,
    ...(f.attachments && f.attachments.length > 0 ? { attachments: f.attachments } : {}),
    ...(f.replyTo ? { replyTo: f.replyTo } : {}),
    // An end-to-end encrypted room's content: the app opens it.
    ...(f.sealed ? { sealed: f.sealed } : {}),
  };
}
