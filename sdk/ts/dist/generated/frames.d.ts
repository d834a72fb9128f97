/**
 * Every WebSocket frame, both directions (docs/PROTOCOL.md). A client sends a ClientFrame (routed by `action`) as a text frame of at most 128 KiB; the server sends a ServerFrame (told apart by `type`). Unknown fields are ignored in both directions: a client must ignore fields and frame types it does not know. Generated from the Rust types by chat-contracts: do not edit.
 */
export type ChatWebSocketFramesProtocolV1 = (ClientFrame | ServerFrame);
/**
 * A frame a client sends, routed by `action`.
 */
export type ClientFrame = ((SendMessage & {
    action: "sendMessage";
}) | (MarkRead & {
    action: "markRead";
}) | (Typing & {
    action: "typing";
}) | (SyncRequest & {
    action: "sync";
}) | {
    action: "ping";
} | (EditMessage & {
    action: "editMessage";
}) | (DeleteMessage & {
    action: "deleteMessage";
}) | (React & {
    action: "react";
}));
export type AttachmentId = string;
export type ClientMsgId = string;
export type RoomId = string;
/**
 * AES-256-GCM ciphertext with its tag, unpadded base64url, at most 16 KiB decoded
 */
export type Ciphertext = string;
export type KeyDeviceId = string;
/**
 * An uncompressed SEC1 P-256 point, unpadded base64url (87 characters)
 */
export type PublicKey = string;
/**
 * 12 bytes, unpadded base64url
 */
export type Nonce = string;
export type UserId = string;
/**
 * 48 bytes, unpadded base64url
 */
export type WrappedKey = string;
export type ServerFrame = ((MessageView & {
    type: "message";
}) | {
    /**
     * The message's attachments, with download URLs: the sender's
     * devices show them like everyone else's.
     */
    attachments?: AttachmentView[];
    clientMsgId: ClientMsgId;
    messageId: MessageId;
    /**
     * The quote of the message it replies to, as the members got it.
     */
    replyTo?: (ReplyPreview | null);
    roomId: RoomId;
    seq: number;
    status: AckStatus;
    type: "ack";
} | {
    roomId: RoomId;
    seq: number;
    status: ReceiptStatus;
    type: "receipt";
    userIds: UserId[];
} | {
    status: PresenceStatus;
    type: "presence";
    userId: UserId;
} | {
    isTyping: boolean;
    roomId: RoomId;
    type: "typing";
    userId: UserId;
} | {
    burned: number[];
    /**
     * With `afterChange`: the changes after it to messages up to the
     * request's `afterSeq` (newer messages come whole, in `messages`,
     * with their changes), the newest state of each.
     */
    changes?: MessageChangeView[];
    hasMore: boolean;
    messages: MessageView[];
    roomId: RoomId;
    /**
     * The room's change cursor this answer brings the client to: send
     * it as `afterChange` next time. Absent when 0.
     */
    throughChange?: number;
    throughSeq: number;
    type: "syncResult";
} | {
    type: "pong";
} | {
    addedBy: UserId;
    createdAt: number;
    kind: RoomKind;
    name: RoomName;
    ownerId: UserId;
    roomId: RoomId;
    type: "roomAdded";
} | {
    removedBy: UserId;
    roomId: RoomId;
    type: "roomRemoved";
} | {
    addedBy: UserId;
    roomId: RoomId;
    type: "memberJoined";
    userId: UserId;
} | {
    removedBy: UserId;
    roomId: RoomId;
    type: "memberLeft";
    userId: UserId;
} | {
    body: string;
    change: number;
    editedAt: number;
    messageId: MessageId;
    roomId: RoomId;
    /**
     * In an end-to-end encrypted room: the new content sealed
     * (`body` is empty); open it with the edit's associated data.
     */
    sealed?: (Sealed | null);
    seq: number;
    type: "messageEdited";
} | {
    change: number;
    deletedAt: number;
    deletedBy: UserId;
    messageId: MessageId;
    roomId: RoomId;
    seq: number;
    type: "messageDeleted";
} | {
    added: boolean;
    change: number;
    emoji: Emoji;
    messageId: MessageId;
    roomId: RoomId;
    seq: number;
    type: "reaction";
    userId: UserId;
} | {
    fingerprint: string;
    type: "keysChanged";
    userId: UserId;
} | {
    clientMsgId?: (ClientMsgId | null);
    code: ErrorCode;
    message: string;
    /**
     * With `rate_limited`: how long to wait before sending again.
     */
    retryAfterMs?: (number | null);
    type: "error";
});
export type ContentType = ("image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/avif" | "image/heic" | "image/heif" | "video/mp4" | "video/webm" | "video/quicktime" | "audio/mpeg" | "audio/mp4" | "audio/aac" | "audio/ogg" | "audio/wav" | "audio/webm" | "application/pdf" | "text/plain" | "text/csv" | "application/rtf" | "application/msword" | "application/vnd.ms-excel" | "application/vnd.ms-powerpoint" | "application/vnd.openxmlformats-officedocument.wordprocessingml.document" | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" | "application/vnd.openxmlformats-officedocument.presentationml.presentation" | "application/vnd.oasis.opendocument.text" | "application/vnd.oasis.opendocument.spreadsheet" | "application/vnd.oasis.opendocument.presentation" | "application/octet-stream");
export type FileName = string;
export type MessageId = string;
/**
 * One emoji of the Unicode emoji list (skin-tone variants included): a
 * single grapheme of at most [`MAX_EMOJI_BYTES`] bytes.
 */
export type Emoji = string;
/**
 * `ack.status`: the message is accepted and durably queued.
 */
export type AckStatus = "sent";
/**
 * Which cursor a receipt is about.
 */
export type ReceiptStatus = ("delivered" | "read");
/**
 * Presence as shown to other users.
 */
export type PresenceStatus = ("online" | "offline");
/**
 * What kind of room this is decides who may join and who may add members.
 */
export type RoomKind = ("group" | "channel" | "direct");
export type RoomName = string;
/**
 * The error codes of the wire protocol's `error` frame and REST error body.
 */
export type ErrorCode = ("bad_request" | "unauthorized" | "forbidden" | "not_found" | "conflict" | "too_large" | "rate_limited" | "internal");
/**
 * Posts `body` to a room. `clientMsgId` is the idempotency key: sending
 * the same one again never posts twice. The body must not be blank and is
 * limited by the deployment's configuration (4 KiB by default); it may be
 * empty (`""`) when the message has `attachments`: ids of upload slots the
 * sender got in this room and uploaded to, each used by one message only.
 */
export interface SendMessage {
    attachments?: AttachmentId[];
    body: string;
    clientMsgId: ClientMsgId;
    /**
     * The `seq` of a message of the same room this one replies to. The
     * server quotes it ([`crate::replies`]); a seq that names no message
     * of the room is refused with `not_found`, nothing sent.
     */
    replyTo?: (number | null);
    roomId: RoomId;
    /**
     * In an end-to-end encrypted room (and only there): the sealed
     * content, with `body` `""` ([`crate::e2ee`]).
     */
    sealed?: (Sealed | null);
}
/**
 * What an encrypted room's message carries instead of a body.
 */
export interface Sealed {
    ciphertext: Ciphertext;
    /**
     * One per current device of both members: 1 to [`MAX_ENVELOPES`]
     * (checked by the server, not the schema: a bounded array becomes a
     * tuple type in generated TypeScript).
     */
    envelopes: Envelope[];
    nonce: Nonce;
    /**
     * Always 1.
     */
    v: number;
}
/**
 * The message key wrapped to one device: ECDH of a fresh ephemeral key
 * with the device's key, HKDF-SHA256, AES-256-GCM (docs/PROTOCOL.md).
 */
export interface Envelope {
    deviceId: KeyDeviceId;
    ephemeralKey: PublicKey;
    nonce: Nonce;
    userId: UserId;
    wrappedKey: WrappedKey;
}
export interface MarkRead {
    roomId: RoomId;
    seq: number;
}
export interface Typing {
    isTyping: boolean;
    roomId: RoomId;
}
export interface SyncRequest {
    /**
     * @maxItems 100
     */
    rooms: SyncRoom[];
}
export interface SyncRoom {
    /**
     * The last change cursor (`throughChange`) the client applied: the
     * answer then carries the changes after it to messages it holds.
     * Without it, no changes come, and `throughChange` is where to start.
     */
    afterChange?: (number | null);
    afterSeq?: number;
    roomId: RoomId;
}
/**
 * Replaces the body of the sender's own message `seq` (same limits as
 * `sendMessage`). It keeps its `seq` and `messageId`; members get
 * `messageEdited`.
 */
export interface EditMessage {
    body: string;
    roomId: RoomId;
    /**
     * In an end-to-end encrypted room (and only there): the new content
     * sealed, with `body` `""` (bound to the message by
     * [`crate::e2ee::edit_aad`]).
     */
    sealed?: (Sealed | null);
    seq: number;
}
/**
 * Deletes message `seq`: the sender's own, or any in a group or channel
 * the caller owns. It becomes a tombstone (no body, attachments or
 * reactions); members get `messageDeleted`.
 */
export interface DeleteMessage {
    roomId: RoomId;
    seq: number;
}
/**
 * Toggles the caller's `emoji` on message `seq`: adds it, or removes it
 * when they had reacted with it. Members get `reaction`.
 */
export interface React {
    /**
     * One emoji of the Unicode list (skin tones included).
     */
    emoji: string;
    roomId: RoomId;
    seq: number;
}
/**
 * A message as it travels to clients (`message` frames, sync and history).
 */
export interface MessageView {
    /**
     * The files it shares, each with a download URL for members.
     */
    attachments?: AttachmentView[];
    body: string;
    clientMsgId: ClientMsgId;
    /**
     * Set on a tombstone: the message was deleted (its body is empty and
     * it has no attachments or reactions).
     */
    deletedAt?: (number | null);
    /**
     * When its body was last edited.
     */
    editedAt?: (number | null);
    messageId: MessageId;
    /**
     * Reaction counts, in the order each emoji was first added.
     */
    reactions?: ReactionCount[];
    /**
     * The message it replies to, quoted: `deleted` when that message was
     * deleted since (resolved whenever history, a thread or sync is read).
     */
    replyTo?: (ReplyPreview | null);
    roomId: RoomId;
    /**
     * In an end-to-end encrypted room: the sealed content (`body` is
     * empty). Absent on a tombstone.
     */
    sealed?: (Sealed | null);
    senderId: UserId;
    sentAt: number;
    seq: number;
}
/**
 * An attachment as members see it: what it is, and a presigned GET of it
 * valid until `urlExpiresAt` (history and sync hand out fresh ones).
 * Media answer `Content-Disposition: inline`, documents `attachment`.
 */
export interface AttachmentView {
    attachmentId: AttachmentId;
    contentType: ContentType;
    fileName: FileName;
    height?: (number | null);
    /**
     * Bytes.
     */
    size: number;
    /**
     * Absent only when it could not be signed just now: ask history again.
     */
    url?: (string | null);
    urlExpiresAt: number;
    /**
     * Pixels, as the sender declared them for an image.
     */
    width?: (number | null);
}
/**
 * How many members reacted to a message with `emoji`, and whether the
 * reader is one of them.
 */
export interface ReactionCount {
    count: number;
    emoji: Emoji;
    me: boolean;
}
/**
 * The quote a reply carries of its target.
 */
export interface ReplyPreview {
    attachmentCount: number;
    /**
     * The target was deleted: render "deleted" instead of a quote.
     */
    deleted?: boolean;
    /**
     * The first characters of its body (at most [`EXCERPT_CHARS`]); empty
     * when it had only attachments, or was deleted.
     */
    excerpt: string;
    messageId: MessageId;
    /**
     * The target is sealed (an end-to-end encrypted room): the server
     * has no text to quote, so `excerpt` is empty; clients quote their
     * own opened copy of message `seq`.
     */
    sealed?: boolean;
    senderId: UserId;
    /**
     * The target's seq in the same room.
     */
    seq: number;
    /**
     * Whether the excerpt stops short of the whole body.
     */
    truncated?: boolean;
}
/**
 * A change to a message the client already holds (`syncResult.changes`):
 * its state as of `change`. Apply it over the held message by `seq`.
 */
export interface MessageChangeView {
    /**
     * The current body (empty on a tombstone).
     */
    body: string;
    change: number;
    deletedAt?: (number | null);
    editedAt?: (number | null);
    messageId: MessageId;
    reactions: ReactionCount[];
    /**
     * In an end-to-end encrypted room, once edited: the current content
     * sealed (absent on a tombstone).
     */
    sealed?: (Sealed | null);
    seq: number;
}
