/**
 * @chat-platform/client: the TypeScript client of the chat platform
 * (docs/PROTOCOL.md). Runs in browsers and Node >= 20.
 */
export * from './protocol.js';
export { Emitter } from './emitter.js';
export { backoffDelay } from './backoff.js';
export { Timeline, MAX_SYNC_ROOMS } from './timeline.js';
export { RestClient, ApiError } from './rest.js';
export { ChatClient, SendError, } from './client.js';
