/**
 * The wire types of protocol v1 (docs/PROTOCOL.md), named as the SDK uses
 * them.
 *
 * GAP (temporary): written by hand from core/src/protocol/{ws,rest}.rs until
 * docs/schema/frames.schema.json and docs/openapi.json exist; then these
 * names become aliases of src/generated/*.ts and nothing here is typed twice.
 */

export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'rate_limited'
  | 'internal';
export type RoomKind = 'group' | 'channel' | 'direct';
export type Role = 'owner' | 'member';
export type PresenceStatus = 'online' | 'offline';
export type ReceiptStatus = 'delivered' | 'read';

/** A message as it travels to clients (`message` frames, sync and history). */
export interface MessageView {
  roomId: string;
  messageId: string;
  seq: number;
  senderId: string;
  body: string;
  sentAt: number;
  clientMsgId: string;
}

export type MessageFrame = { type: 'message' } & MessageView;
export interface AckFrame {
  type: 'ack';
  clientMsgId: string;
  roomId: string;
  messageId: string;
  seq: number;
  status: 'sent';
}
export interface ReceiptFrame {
  type: 'receipt';
  roomId: string;
  userIds: string[];
  status: ReceiptStatus;
  seq: number;
}
export interface PresenceFrame {
  type: 'presence';
  userId: string;
  status: PresenceStatus;
}
export interface TypingFrame {
  type: 'typing';
  roomId: string;
  userId: string;
  isTyping: boolean;
}
export interface SyncResultFrame {
  type: 'syncResult';
  roomId: string;
  messages: MessageView[];
  hasMore: boolean;
  throughSeq: number;
  burned?: number[];
}
export interface PongFrame {
  type: 'pong';
}
export interface RoomAddedFrame {
  type: 'roomAdded';
  roomId: string;
  kind: RoomKind;
  name: string;
  ownerId: string;
  createdAt: number;
  addedBy: string;
}
export interface RoomRemovedFrame {
  type: 'roomRemoved';
  roomId: string;
  removedBy: string;
}
export interface ErrorFrame {
  type: 'error';
  code: ErrorCode;
  message: string;
  clientMsgId?: string;
  retryAfterMs?: number;
}
export type ServerFrame =
  | MessageFrame
  | AckFrame
  | ReceiptFrame
  | PresenceFrame
  | TypingFrame
  | SyncResultFrame
  | PongFrame
  | RoomAddedFrame
  | RoomRemovedFrame
  | ErrorFrame;

export interface SyncRoom {
  roomId: string;
  afterSeq?: number;
}
export type ClientFrame =
  | { action: 'sendMessage'; roomId: string; clientMsgId: string; body: string }
  | { action: 'markRead'; roomId: string; seq: number }
  | { action: 'typing'; roomId: string; isTyping: boolean }
  | { action: 'sync'; rooms: SyncRoom[] }
  | { action: 'ping' };

// ------------------------------------------------------------------ REST

export interface CreateRoomRequest {
  name?: string | null;
  kind: RoomKind;
  members?: string[];
}
export interface AddMemberRequest {
  userId: string;
}
export interface UpdateProfileRequest {
  displayName?: string | null;
  avatarUrl?: string | null;
}
export interface RoomView {
  roomId: string;
  kind: RoomKind;
  name: string;
  ownerId: string;
  createdAt: number;
}
export interface RoomSummary extends RoomView {
  lastMessage: MessageView | null;
  unreadCount: number;
  readSeq: number;
}
export interface RoomList {
  rooms: RoomSummary[];
}
export interface MemberView {
  userId: string;
  role: Role;
  displayName: string;
  avatarUrl: string | null;
  joinedAt: number;
  deliveredSeq: number;
  readSeq: number;
  presence: PresenceStatus;
}
export interface RoomDetail extends RoomView {
  members: MemberView[];
}
export interface ChannelList {
  channels: RoomView[];
}
export interface ProfileView {
  userId: string;
  displayName: string;
  avatarUrl: string | null;
  presence?: PresenceStatus | null;
  updatedAt: number;
}
export interface HistoryPage {
  messages: MessageView[];
  prevCursor: string | null;
  nextCursor: string | null;
}
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}
