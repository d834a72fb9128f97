/**
 * The wire types of protocol v1 (docs/PROTOCOL.md), under the names the SDK
 * uses. Nothing is written here: every type is an alias of one generated
 * from the Rust types' contracts (src/generated/, from
 * docs/schema/frames.schema.json and docs/openapi.json; CI fails if they
 * drift).
 */
import type * as F from './generated/frames.js';
import type { components } from './generated/openapi.js';

type S = components['schemas'];

// ------------------------------------------------------------- WebSocket

export type ClientFrame = F.ClientFrame;
export type ServerFrame = F.ServerFrame;
export type SyncRoom = F.SyncRoom;
export type ErrorCode = F.ErrorCode;
export type RoomKind = F.RoomKind;
export type PresenceStatus = F.PresenceStatus;
export type ReceiptStatus = F.ReceiptStatus;
export type MessageView = F.MessageView;
export type ReactionCount = F.ReactionCount;
export type MessageChangeView = F.MessageChangeView;

type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;
export type MessageFrame = FrameOf<'message'>;
export type AckFrame = FrameOf<'ack'>;
export type ReceiptFrame = FrameOf<'receipt'>;
export type PresenceFrame = FrameOf<'presence'>;
export type TypingFrame = FrameOf<'typing'>;
export type SyncResultFrame = FrameOf<'syncResult'>;
export type PongFrame = FrameOf<'pong'>;
export type RoomAddedFrame = FrameOf<'roomAdded'>;
export type RoomRemovedFrame = FrameOf<'roomRemoved'>;
export type MemberJoinedFrame = FrameOf<'memberJoined'>;
export type MemberLeftFrame = FrameOf<'memberLeft'>;
export type ErrorFrame = FrameOf<'error'>;
export type MessageEditedFrame = FrameOf<'messageEdited'>;
export type MessageDeletedFrame = FrameOf<'messageDeleted'>;
export type ReactionFrame = FrameOf<'reaction'>;
/** A user's device keys changed: fetch `GET /users/{userId}/keys` (end-to-end encrypted rooms). */
export type KeysChangedFrame = FrameOf<'keysChanged'>;
/** A live change of a message: edited, deleted, or a reaction toggled. */
export type ChangeFrame = MessageEditedFrame | MessageDeletedFrame | ReactionFrame;

// ------------------------------------------------------------------ REST

export type Role = S['Role'];
export type CreateRoomRequest = S['CreateRoomRequest'];
export type AddMemberRequest = S['AddMemberRequest'];
export type UpdateProfileRequest = S['UpdateProfileRequest'];
export type RoomView = S['RoomView'];
export type RoomSummary = S['RoomSummary'];
export type RoomList = S['RoomList'];
export type MemberView = S['MemberView'];
export type RoomDetail = S['RoomDetail'];
export type ChannelList = S['ChannelList'];
export type ProfileView = S['ProfileView'];
export type HistoryPage = S['HistoryPage'];
export type SearchPage = S['SearchPage'];
export type SearchHit = S['SearchHit'];
export type UploadSlotRequest = S['UploadSlotRequest'];
export type UploadSlot = S['UploadSlot'];
export type AttachmentView = F.AttachmentView;
export type ReplyPreview = F.ReplyPreview;
export type ThreadPage = S['ThreadPage'];
export type ErrorBody = S['ErrorBody'];
export type BlockView = S['BlockView'];
export type BlockList = S['BlockList'];
/** End-to-end encrypted direct rooms (docs/PROTOCOL.md): device keys and sealed payloads. */
export type PublishKeyRequest = S['PublishKeyRequest'];
export type DeviceKey = S['DeviceKey'];
export type KeyList = S['KeyList'];
export type Sealed = F.Sealed;
export type Envelope = F.Envelope;
export type NotifyPolicy = S['NotifyPolicy'];
export type RegisterDeviceRequest = S['RegisterDeviceRequest'];
export type DeviceView = S['DeviceView'];
export type DeviceList = S['DeviceList'];

/** The REST API's paths and operations, as generated (for typed calls of your own). */
export type { paths as RestPaths, components as RestComponents } from './generated/openapi.js';
