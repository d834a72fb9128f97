/**
 * The REST API, typed (docs/PROTOCOL.md, "REST"). Every call carries the
 * token from `getToken()`; a 401 asks for a fresh one (`forceRefresh`) and
 * retries once. A 429 is retried after its `Retry-After` (up to
 * `maxRateLimitRetries` times): the server did nothing.
 */
import type { BlockList, BlockView, ChannelList, CreateRoomRequest, DeviceKey, DeviceList, DeviceView, ErrorCode, HistoryPage, KeyList, NotifyPolicy, ProfileView, RegisterDeviceRequest, RoomDetail, RoomList, SearchPage, ThreadPage, UpdateProfileRequest, UploadSlot, UploadSlotRequest } from './protocol.js';
/** Supplies the bearer token; `forceRefresh` after the server refused the last one. */
export type GetToken = (opts: {
    forceRefresh: boolean;
}) => Promise<string>;
/** A REST call that failed: `status` 0 when the server could not be reached. */
export declare class ApiError extends Error {
    readonly status: number;
    readonly code: ErrorCode | 'network' | 'http';
    constructor(status: number, code: ErrorCode | 'network' | 'http', message: string);
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
export declare class RestClient {
    private readonly opts;
    private readonly base;
    private readonly fetchImpl;
    constructor(opts: RestOptions);
    /** Any call; answers the parsed JSON body (`null` for 204). */
    call<T>(method: string, path: string, body?: unknown): Promise<T>;
    listRooms(): Promise<RoomList>;
    createRoom(req: CreateRoomRequest): Promise<RoomDetail>;
    getRoom(roomId: string): Promise<RoomDetail>;
    addMember(roomId: string, userId: string): Promise<RoomDetail>;
    removeMember(roomId: string, userId: string): Promise<null>;
    history(roomId: string, q?: HistoryQuery): Promise<HistoryPage>;
    /**
     * The message at `seq` and a page of its replies, oldest first
     * (`after`: a `nextCursor`). Members only.
     */
    thread(roomId: string, seq: number, q?: {
        after?: string;
        limit?: number;
    }): Promise<ThreadPage>;
    /**
     * Messages matching `q.q`, newest first: in one room (`roomId`) or in all
     * the caller's rooms. Open a hit with `history(hit.roomId, { around: hit.seq })`.
     */
    search(q: SearchQuery): Promise<SearchPage>;
    channels(limit?: number): Promise<ChannelList>;
    me(): Promise<ProfileView>;
    updateMe(req: UpdateProfileRequest): Promise<ProfileView>;
    user(userId: string): Promise<ProfileView>;
    /** Whom the caller blocks (never who blocks them). */
    blocks(): Promise<BlockList>;
    /**
     * Blocks a user: no direct room or direct message between you either
     * way, no presence or typing either way, no notification of theirs.
     * Shared groups still work: hide their messages on screen.
     */
    block(userId: string): Promise<BlockView>;
    unblock(userId: string): Promise<null>;
    /**
     * Publishes (or replaces) the public key of one of your devices, for
     * end-to-end encrypted direct rooms; `userId` must be yours. Your
     * direct-room peers get `keysChanged`.
     */
    publishKey(deviceId: string, userId: string, publicKey: string): Promise<DeviceKey>;
    removeKey(deviceId: string): Promise<null>;
    /** A user's device keys and their fingerprint (pin it; seal to every device). */
    keys(userId: string): Promise<KeyList>;
    /** Mutes a person: their messages notify you nowhere. Answers your whole policy. */
    mute(userId: string): Promise<NotifyPolicy>;
    unmute(userId: string): Promise<NotifyPolicy>;
    /**
     * Registers a push device for offline notifications: a browser's Web
     * Push subscription (`subscription.toJSON()`), or a native app's token
     * `{ kind: 'fcm' | 'apns', token }`. The same one again replaces it.
     */
    registerDevice(req: RegisterDeviceRequest): Promise<DeviceView>;
    /** The caller's push devices. */
    listDevices(): Promise<DeviceList>;
    removeDevice(deviceId: string): Promise<null>;
    /** An upload slot for an attachment in a room (members only). */
    uploadSlot(roomId: string, req: UploadSlotRequest): Promise<UploadSlot>;
    /**
     * Uploads `file` to a new slot of `roomId`, straight to the object store
     * (never through the API), and answers its attachment id to send with
     * `ChatClient.send(roomId, body, { attachments: [id] })`. `dimensions`:
     * an image's pixel size, recorded with it.
     */
    upload(roomId: string, file: Blob & {
        name?: string;
    }, dimensions?: {
        width: number;
        height: number;
    }): Promise<string>;
}
