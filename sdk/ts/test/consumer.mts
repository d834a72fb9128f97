// Type-checked only (npm run typecheck): the package as a third party
// imports it by name, under Node's ESM resolution, against the shipped .d.ts.
import {
  ApiError,
  ChatClient,
  SendError,
  type ClientFrame,
  type HistoryPage,
  type RoomState,
  type ServerFrame,
} from '@chat-platform/client';

const chat = new ChatClient({
  wsUrl: 'wss://example.invalid/prod',
  restUrl: 'https://example.invalid',
  getToken: async ({ forceRefresh }) => (forceRefresh ? 'fresh' : 'cached'),
});
chat.on('messages', ({ roomId, added }) => {
  const seqs: number[] = added.map((m) => m.seq);
  const room: RoomState | undefined = chat.rooms.get(roomId);
  void seqs;
  void room?.unreadCount;
});
chat.on('connection', ({ state }) => {
  // @ts-expect-error: not a connection state
  const bad: typeof state = 'sleeping';
  void bad;
});
export async function sample(roomId: string): Promise<HistoryPage> {
  try {
    await chat.send(roomId, 'hi');
  } catch (e) {
    if (e instanceof SendError && e.code === 'rate_limited') throw e;
  }
  const frames: ServerFrame[] = [{ type: 'pong' }, { type: 'typing', roomId, userId: 'u', isTyping: true }];
  // @ts-expect-error: sendMessage needs a clientMsgId
  const wrong: ClientFrame = { action: 'sendMessage', roomId, body: 'x' };
  void frames;
  void wrong;
  try {
    return await chat.rest.history(roomId, { limit: 10 });
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) throw new Error('not a member');
    throw e;
  }
}
