/**
 * The REST API, typed (docs/PROTOCOL.md, "REST"). Every call carries the
 * token from `getToken()`; a 401 asks for a fresh one (`forceRefresh`) and
 * retries once. A 429 is retried after its `Retry-After` (up to
 * `maxRateLimitRetries` times): the server did nothing.
 */
import type {
  BlockList,
  BlockView,
  ChannelList,
  CreateRoomRequest,
  DeviceKey,
  DeviceList,
  DeviceView,
  ErrorCode,
  HistoryPage,
  KeyList,
  NotifyPolicy,
  ProfileView,
  RegisterDeviceRequest,
  RoomDetail,
  RoomList,
  SearchPage,
  ThreadPage,
  UpdateProfileRequest,
  UploadSlot,
  UploadSlotRequest,
} from './protocol.js';

/** Supplies the bearer token; `forceRefresh` after the server refused the last one. */
export type GetToken = (opts: { forceRefresh: boolean }) => Promise<string>;

/** A REST call that failed: `status` 0 when the server could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network' | 'http',
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface RestOptions {
  /** e.g. `https://abc.execute-api.eu-west-1.amazonaws.com` or `http://127.0.0.1:8080`. */
  baseUrl: string;
  getToken: GetToken;
  fetch?: typeof fetch;
  /** 429s retried after `Retry-After` before the call fails (default 2). */
  maxRateLimitRetries?: number;
}

export interface HistoryQuery {
  before?: string;
  after?: string;
  /** A seq (a search hit's): the page around it. Not with `before`/`after`. */
  around?: number;
  limit?: number;
}

export interface SearchQuery {
  /** The words to find: every word must match, words of 3+ characters as prefixes. */
  q: string;
  /** Only this room (else every room of the caller). */
  roomId?: string;
  /** A `nextCursor` of the previous page. */
  cursor?: string;
  /** 1 to 50 (20 by default). */
  limit?: number;
}

const enc = encodeURIComponent;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class RestClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly opts: RestOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** Any call; answers the parsed JSON body (`null` for 204). */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let refreshed = false;
    let limited = 0;
    for (;;) {
      const token = await this.opts.getToken({ forceRefresh: refreshed });
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res: Response;
      try {
        res = await this.fetchImpl(this.base + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          cache: 'no-store',
        });
      } catch (e) {
        throw new ApiError(0, 'network', `cannot reach the server: ${(e as Error).message}`);
      }
      if (res.status === 401 && !refreshed) {
        refreshed = true;
        continue;
      }
      if (res.status === 429 && limited < (this.opts.maxRateLimitRetries ?? 2)) {
        limited += 1;
        const secs = Number(res.headers.get('retry-after'));
        await sleep(Number.isFinite(secs) && secs > 0 ? secs * 1000 : 1000);
        continue;
      }
      if (res.status === 204) return null as T;
      const text = await res.text();
      let data: unknown = null;
      if (text) {
        try {
          data = JSON.parse(text);
        } catch {
          data = null;
        }
      }
      if (!res.ok) {
        const err = (data as { error?: { code?: ErrorCode; message?: string } } | null)?.error;
        throw new ApiError(
          res.status,
          err?.code ?? 'http',
          typeof err?.message === 'string' ? err.message : `request failed (${res.status})`,
        );
      }
      return data as T;
    }
  }

  listRooms(): Promise<RoomList> {
    return this.call('GET', '/rooms');
  }
  createRoom(req: CreateRoomRequest): Promise<RoomDetail> {
    return this.call('POST', '/rooms', req);
  }
  getRoom(roomId: string): Promise<RoomDetail> {
    return this.call('GET', `/rooms/${enc(roomId)}`);
  }
  addMember(roomId: string, userId: string): Promise<RoomDetail> {
    return this.call('POST', `/rooms/${enc(roomId)}/members`, { userId });
  }
  removeMember(roomId: string, userId: string): Promise<null> {
    return this.call('DELETE', `/rooms/${enc(roomId)}/members/${enc(userId)}`);
  }
  history(roomId: string, q: HistoryQuery = {}): Promise<HistoryPage> {
    const params = new URLSearchParams();
    if (q.before !== undefined) params.set('before', q.before);
    if (q.after !== undefined) params.set('after', q.after);
    if (q.around !== undefined) params.set('around', String(q.around));
    if (q.limit !== undefined) params.set('limit', String(q.limit));
    const qs = params.toString();
    return this.call('GET', `/rooms/${enc(roomId)}/messages${qs ? `?${qs}` : ''}`);
  }
  /**
   * The message at `seq` and a page of its replies, oldest first
   * (`after`: a `nextCursor`). Members only.
   */
  thread(roomId: string, seq: number, q: { after?: string; limit?: number } = {}): Promise<ThreadPage> {
    const params = new URLSearchParams();
    if (q.after !== undefined) params.set('after', q.after);
    if (q.limit !== undefined) params.set('limit', String(q.limit));
    const qs = params.toString();
    return this.call('GET', `/rooms/${enc(roomId)}/messages/${seq}/replies${qs ? `?${qs}` : ''}`);
  }
  /**
   * Messages matching `q.q`, newest first: in one room (`roomId`) or in all
   * the caller's rooms. Open a hit with `history(hit.roomId, { around: hit.seq })`.
   */
  search(q: SearchQuery): Promise<SearchPage> {
    const params = new URLSearchParams({ q: q.q });
    if (q.cursor !== undefined) params.set('cursor', q.cursor);
    if (q.limit !== undefined) params.set('limit', String(q.limit));
    const path = q.roomId === undefined ? '/search' : `/rooms/${enc(q.roomId)}/search`;
    return this.call('GET', `${path}?${params.toString()}`);
  }
  channels(limit?: number): Promise<ChannelList> {
    return this.call('GET', `/channels${limit === undefined ? '' : `?limit=${limit}`}`);
  }
  me(): Promise<ProfileView> {
    return this.call('GET', '/users/me');
  }
  updateMe(req: UpdateProfileRequest): Promise<ProfileView> {
    return this.call('PATCH', '/users/me', req);
  }
  user(userId: string): Promise<ProfileView> {
    return this.call('GET', `/users/${enc(userId)}`);
  }
  /** Whom the caller blocks (never who blocks them). */
  blocks(): Promise<BlockList> {
    return this.call('GET', '/users/me/blocks');
  }
  /**
   * Blocks a user: no direct room or direct message between you either
   * way, no presence or typing either way, no notification of theirs.
   * Shared groups still work: hide their messages on screen.
   */
  block(userId: string): Promise<BlockView> {
    return this.call('PUT', `/users/me/blocks/${enc(userId)}`);
  }
  unblock(userId: string): Promise<null> {
    return this.call('DELETE', `/users/me/blocks/${enc(userId)}`);
  }
  /**
   * Publishes (or replaces) the public key of one of your devices, for
   * end-to-end encrypted direct rooms; `userId` must be yours. Your
   * direct-room peers get `keysChanged`.
   */
  publishKey(deviceId: string, userId: string, publicKey: string): Promise<DeviceKey> {
    return this.call('PUT', `/users/me/keys/${enc(deviceId)}`, { userId, publicKey });
  }
  removeKey(deviceId: string): Promise<null> {
    return this.call('DELETE', `/users/me/keys/${enc(deviceId)}`);
  }
  /** A user's device keys and their fingerprint (pin it; seal to every device). */
  keys(userId: string): Promise<KeyList> {
    return this.call('GET', `/users/${enc(userId)}/keys`);
  }
  /** Mutes a person: their messages notify you nowhere. Answers your whole policy. */
  mute(userId: string): Promise<NotifyPolicy> {
    return this.call('PUT', `/users/me/mutes/${enc(userId)}`);
  }
  unmute(userId: string): Promise<NotifyPolicy> {
    return this.call('DELETE', `/users/me/mutes/${enc(userId)}`);
  }
  /**
   * Registers a push device for offline notifications: a browser's Web
   * Push subscription (`subscription.toJSON()`), or a native app's token
   * `{ kind: 'fcm' | 'apns', token }`. The same one again replaces it.
   */
  registerDevice(req: RegisterDeviceRequest): Promise<DeviceView> {
    return this.call('POST', '/users/me/devices', req);
  }
  /** The caller's push devices. */
  listDevices(): Promise<DeviceList> {
    return this.call('GET', '/users/me/devices');
  }
  removeDevice(deviceId: string): Promise<null> {
    return this.call('DELETE', `/users/me/devices/${enc(deviceId)}`);
  }
  /** An upload slot for an attachment in a room (members only). */
  uploadSlot(roomId: string, req: UploadSlotRequest): Promise<UploadSlot> {
    return this.call('POST', `/rooms/${enc(roomId)}/attachments`, req);
  }
  /**
   * Uploads `file` to a new slot of `roomId`, straight to the object store
   * (never through the API), and answers its attachment id to send with
   * `ChatClient.send(roomId, body, { attachments: [id] })`. `dimensions`:
   * an image's pixel size, recorded with it.
   */
  async upload(
    roomId: string,
    file: Blob & { name?: string },
    dimensions?: { width: number; height: number },
  ): Promise<string> {
    const slot = await this.uploadSlot(roomId, {
      contentType: file.type as UploadSlotRequest['contentType'],
      size: file.size,
      fileName: file.name || 'file',
      ...(dimensions ?? {}),
    });
    let res: Response;
    try {
      res = await this.fetchImpl(slot.uploadUrl, { method: slot.method, headers: slot.headers, body: file });
    } catch (e) {
      throw new ApiError(0, 'network', `cannot reach the file store: ${(e as Error).message}`);
    }
    if (!res.ok) throw new ApiError(res.status, 'bad_request', 'the file store refused the upload');
    return slot.attachmentId;
  }
}
