/**
 * @chat-platform/client: the TypeScript client of the chat platform
 * (docs/PROTOCOL.md). Runs in browsers and Node >= 20.
 */
export * from './protocol.js';
export { Emitter } from './emitter.js';
export { backoffDelay, type BackoffOptions } from './backoff.js';
export { Timeline, MAX_SYNC_ROOMS, type Applied } from './timeline.js';
export { RestClient, ApiError, type GetToken, type RestOptions, type HistoryQuery, type SearchQuery } from './rest.js';
export { ChatClient, SendError, type ChatClientOptions, type ClientEvents, type ConnectionState, type MemberState, type PendingSend, type RoomState, type SendResult, type SendStatus, type UserState, type WebSocketConstructor, type WebSocketLike, } from './client.js';
