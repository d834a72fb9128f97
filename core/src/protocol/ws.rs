//! WebSocket protocol v1. Client frames are routed by `action` (API Gateway's
//! route selection expression `$request.body.action`); server frames are told
//! apart by `type`. Unknown fields are ignored on purpose (newer clients may
//! send more); unknown actions are refused with `bad_request`.

use serde::{Deserialize, Serialize};

use super::decode::{self, DecodeError};
use crate::attachments::Attachment;
use crate::changes::{Change, Emoji, MessageState, Reaction};
use crate::e2ee::Sealed;
use crate::error::{ChatError, ErrorCode};
use crate::ids::{AttachmentId, ClientMsgId, MessageId, Millis, RoomId, RoomName, Seq, UserId};
use crate::model::{Message, PresenceStatus, ReceiptStatus, RoomKind};
use crate::replies::ReplyPreview;

/// The actions a client may send, as routed by API Gateway.
pub const ACTIONS: [&str; 8] = [
    "sendMessage",
    "markRead",
    "typing",
    "sync",
    "ping",
    "editMessage",
    "deleteMessage",
    "react",
];

/// Most rooms one `sync` may name.
pub const MAX_SYNC_ROOMS: usize = 100;

/// Largest frame decoded: API Gateway's WebSocket message limit (128 KB).
/// The gateway enforces it in AWS; this keeps every other path honest.
pub const MAX_FRAME_BYTES: usize = 128 * 1024;

/// A frame a client sends, routed by `action`.
// Decoded by hand (`ClientFrame::decode`: `action` first, then the frame's
// own fields, for precise errors); its schema says the same with the tag
// serde would use, and `protocol::schema` checks its actions are `ACTIONS`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(tag = "action", rename_all = "camelCase"))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientFrame {
    SendMessage(SendMessage),
    MarkRead(MarkRead),
    Typing(Typing),
    Sync(SyncRequest),
    Ping,
    EditMessage(EditMessage),
    DeleteMessage(DeleteMessage),
    React(React),
}

/// Replaces the body of the sender's own message `seq` (same limits as
/// `sendMessage`). It keeps its `seq` and `messageId`; members get
/// `messageEdited`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditMessage {
    pub room_id: RoomId,
    pub seq: Seq,
    pub body: String,
    /// In an end-to-end encrypted room (and only there): the new content
    /// sealed, with `body` `""` (bound to the message by
    /// [`crate::e2ee::edit_aad`]).
    #[serde(default)]
    pub sealed: Option<Box<Sealed>>,
}

/// Deletes message `seq`: the sender's own, or any in a group or channel
/// the caller owns. It becomes a tombstone (no body, attachments or
/// reactions); members get `messageDeleted`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteMessage {
    pub room_id: RoomId,
    pub seq: Seq,
}

/// Toggles the caller's `emoji` on message `seq`: adds it, or removes it
/// when they had reacted with it. Members get `reaction`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct React {
    pub room_id: RoomId,
    pub seq: Seq,
    /// One emoji of the Unicode list (skin tones included).
    pub emoji: Emoji,
}

/// Posts `body` to a room. `clientMsgId` is the idempotency key: sending
/// the same one again never posts twice. The body must not be blank and is
/// limited by the deployment's configuration (4 KiB by default); it may be
/// empty (`""`) when the message has `attachments`: ids of upload slots the
/// sender got in this room and uploaded to, each used by one message only.
// `body` stays a raw string here: its limits are configuration, so it is
// parsed into a `MessageBody` by the service.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    pub room_id: RoomId,
    pub client_msg_id: ClientMsgId,
    pub body: String,
    #[serde(default)]
    pub attachments: Vec<AttachmentId>,
    /// The `seq` of a message of the same room this one replies to. The
    /// server quotes it ([`crate::replies`]); a seq that names no message
    /// of the room is refused with `not_found`, nothing sent.
    #[serde(default)]
    pub reply_to: Option<Seq>,
    /// In an end-to-end encrypted room (and only there): the sealed
    /// content, with `body` `""` ([`crate::e2ee`]).
    #[serde(default)]
    pub sealed: Option<Box<Sealed>>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkRead {
    pub room_id: RoomId,
    pub seq: Seq,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Typing {
    pub room_id: RoomId,
    pub is_typing: bool,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncRequest {
    #[cfg_attr(feature = "schema", schemars(length(max = MAX_SYNC_ROOMS)))]
    pub rooms: Vec<SyncRoom>,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncRoom {
    pub room_id: RoomId,
    #[serde(default)]
    pub after_seq: Seq,
    /// The last change cursor (`throughChange`) the client applied: the
    /// answer then carries the changes after it to messages it holds.
    /// Without it, no changes come, and `throughChange` is where to start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_change: Option<Change>,
}

fn invalid(action: &str, e: DecodeError) -> ChatError {
    let mut msg = format!("invalid {action} frame: {}", e.public_message());
    if let Some((cut, _)) = msg.char_indices().nth(decode::MAX_MESSAGE_CHARS) {
        msg.truncate(cut);
    }
    ChatError::BadRequest(msg)
}

impl ClientFrame {
    /// Decodes one text frame. Never panics; every failure is a `bad_request`
    /// (or `too_large` for an oversize `sync`).
    pub fn decode(text: &str) -> Result<Self, ChatError> {
        if text.len() > MAX_FRAME_BYTES {
            return Err(ChatError::TooLarge(format!(
                "frames are limited to {MAX_FRAME_BYTES} bytes"
            )));
        }
        let value = decode::value(text.as_bytes())
            .map_err(|e| ChatError::BadRequest(format!("invalid frame: {}", e.public_message())))?;
        let action = value
            .get("action")
            .and_then(|a| a.as_str())
            .map(str::to_owned)
            .ok_or_else(|| ChatError::BadRequest("frame has no \"action\" string".into()))?;
        match action.as_str() {
            "sendMessage" => decode::from_value(value)
                .map(ClientFrame::SendMessage)
                .map_err(|e| invalid("sendMessage", e)),
            "markRead" => decode::from_value(value)
                .map(ClientFrame::MarkRead)
                .map_err(|e| invalid("markRead", e)),
            "typing" => decode::from_value(value)
                .map(ClientFrame::Typing)
                .map_err(|e| invalid("typing", e)),
            "sync" => {
                let req: SyncRequest = decode::from_value(value).map_err(|e| invalid("sync", e))?;
                if req.rooms.len() > MAX_SYNC_ROOMS {
                    return Err(ChatError::TooLarge(format!(
                        "sync names more than {MAX_SYNC_ROOMS} rooms"
                    )));
                }
                Ok(ClientFrame::Sync(req))
            }
            "ping" => Ok(ClientFrame::Ping),
            "editMessage" => decode::from_value(value)
                .map(ClientFrame::EditMessage)
                .map_err(|e| invalid("editMessage", e)),
            "deleteMessage" => decode::from_value(value)
                .map(ClientFrame::DeleteMessage)
                .map_err(|e| invalid("deleteMessage", e)),
            "react" => decode::from_value(value)
                .map(ClientFrame::React)
                .map_err(|e| invalid("react", e)),
            _ => Err(ChatError::BadRequest("unknown action".into())),
        }
    }

    /// The `clientMsgId` of a frame that carries one, for error frames.
    pub fn client_msg_id(&self) -> Option<&ClientMsgId> {
        match self {
            ClientFrame::SendMessage(m) => Some(&m.client_msg_id),
            _ => None,
        }
    }
}

/// Best effort: the `clientMsgId` of a frame that failed to decode, so the
/// client can match the error to its pending send. Only a valid id is echoed.
pub fn salvage_client_msg_id(text: &str) -> Option<ClientMsgId> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    ClientMsgId::parse(value.get("clientMsgId")?.as_str()?).ok()
}

/// A message as it travels to clients (`message` frames, sync and history).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub room_id: RoomId,
    pub message_id: MessageId,
    pub seq: Seq,
    pub sender_id: UserId,
    pub body: String,
    pub sent_at: Millis,
    pub client_msg_id: ClientMsgId,
    /// The files it shares, each with a download URL for members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentView>,
    /// The message it replies to, quoted: `deleted` when that message was
    /// deleted since (resolved whenever history, a thread or sync is read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<ReplyPreview>,
    /// When its body was last edited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Millis>,
    /// Set on a tombstone: the message was deleted (its body is empty and
    /// it has no attachments or reactions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<Millis>,
    /// Reaction counts, in the order each emoji was first added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<ReactionCount>,
    /// In an end-to-end encrypted room: the sealed content (`body` is
    /// empty). Absent on a tombstone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Box<Sealed>>,
}

/// How many members reacted to a message with `emoji`, and whether the
/// reader is one of them.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactionCount {
    pub emoji: Emoji,
    pub count: u32,
    pub me: bool,
}

impl ReactionCount {
    /// The counts of `reactions` as `reader` sees them.
    pub fn of(reactions: &[Reaction], reader: &UserId) -> Vec<Self> {
        reactions
            .iter()
            .map(|r| ReactionCount {
                emoji: r.emoji.clone(),
                count: u32::try_from(r.user_ids.len()).unwrap_or(u32::MAX),
                me: r.user_ids.contains(reader),
            })
            .collect()
    }
}

/// A change to a message the client already holds (`syncResult.changes`):
/// its state as of `change`. Apply it over the held message by `seq`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageChangeView {
    pub seq: Seq,
    pub message_id: MessageId,
    pub change: Change,
    /// The current body (empty on a tombstone).
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<Millis>,
    #[serde(default)]
    pub reactions: Vec<ReactionCount>,
    /// In an end-to-end encrypted room, once edited: the current content
    /// sealed (absent on a tombstone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Box<Sealed>>,
}

impl MessageChangeView {
    /// `state` as `reader` sees it; `sent_body` is the body the message was
    /// sent with (when it was never edited).
    pub fn of(state: &MessageState, reader: &UserId) -> Self {
        Self {
            seq: state.seq,
            message_id: state.message_id.clone(),
            change: state.change,
            body: if state.is_deleted() {
                String::new()
            } else {
                state
                    .body
                    .as_ref()
                    .map(|b| b.as_str().to_owned())
                    .unwrap_or_default()
            },
            edited_at: state.edited_at,
            deleted_at: state.deleted_at,
            reactions: ReactionCount::of(&state.reactions, reader),
            sealed: if state.is_deleted() {
                None
            } else {
                state.sealed.clone()
            },
        }
    }
}

/// An attachment as members see it: what it is, and a presigned GET of it
/// valid until `urlExpiresAt` (history and sync hand out fresh ones).
/// Media answer `Content-Disposition: inline`, documents `attachment`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentView {
    #[serde(flatten)]
    pub attachment: Attachment,
    /// Absent only when it could not be signed just now: ask history again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub url_expires_at: Millis,
}

impl MessageView {
    /// The view of `m` with its attachments' download URLs.
    pub fn with_attachments(m: &Message, attachments: Vec<AttachmentView>) -> Self {
        Self {
            room_id: m.room_id.clone(),
            message_id: m.message_id.clone(),
            seq: m.seq,
            sender_id: m.sender_id.clone(),
            body: m.body.as_str().to_owned(),
            sent_at: m.sent_at,
            client_msg_id: m.client_msg_id.clone(),
            attachments,
            reply_to: m.reply_to.as_deref().cloned(),
            edited_at: None,
            deleted_at: None,
            reactions: Vec::new(),
            sealed: m.sealed.clone(),
        }
    }

    /// Lays `state` (its changes since it was sent) over the view, as
    /// `reader` sees them.
    pub fn with_state(mut self, state: &MessageState, reader: &UserId) -> Self {
        if state.is_deleted() {
            self.body = String::new();
            self.attachments.clear();
            self.sealed = None;
        } else if let Some(b) = &state.body {
            self.body = b.as_str().to_owned();
        }
        if !state.is_deleted() && state.sealed.is_some() {
            self.sealed = state.sealed.clone();
        }
        self.edited_at = state.edited_at;
        self.deleted_at = state.deleted_at;
        self.reactions = ReactionCount::of(&state.reactions, reader);
        self
    }
}

/// `ack.status`: the message is accepted and durably queued.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AckStatus {
    Sent,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ServerFrame {
    Message(MessageView),
    #[serde(rename_all = "camelCase")]
    Ack {
        client_msg_id: ClientMsgId,
        room_id: RoomId,
        message_id: MessageId,
        seq: Seq,
        status: AckStatus,
        /// The message's attachments, with download URLs: the sender's
        /// devices show them like everyone else's.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<AttachmentView>,
        /// The quote of the message it replies to, as the members got it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<ReplyPreview>,
    },
    /// `userIds` have received (`delivered`) or read (`read`) the room up to
    /// `seq`. One frame covers every member whose cursor moved to `seq`.
    #[serde(rename_all = "camelCase")]
    Receipt {
        room_id: RoomId,
        user_ids: Vec<UserId>,
        status: ReceiptStatus,
        seq: Seq,
    },
    #[serde(rename_all = "camelCase")]
    Presence {
        user_id: UserId,
        status: PresenceStatus,
    },
    #[serde(rename_all = "camelCase")]
    Typing {
        room_id: RoomId,
        user_id: UserId,
        is_typing: bool,
    },
    #[serde(rename_all = "camelCase")]
    /// Every seq in `(afterSeq, throughSeq]` is either one of `messages` or
    /// in `burned` (no message has it, and none ever will): the range has no
    /// holes. `hasMore`: the room has seqs past `throughSeq`; ask again from it.
    SyncResult {
        room_id: RoomId,
        messages: Vec<MessageView>,
        has_more: bool,
        through_seq: Seq,
        #[serde(default)]
        burned: Vec<Seq>,
        /// With `afterChange`: the changes after it to messages up to the
        /// request's `afterSeq` (newer messages come whole, in `messages`,
        /// with their changes), the newest state of each.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        changes: Vec<MessageChangeView>,
        /// The room's change cursor this answer brings the client to: send
        /// it as `afterChange` next time. Absent when 0.
        #[serde(default, skip_serializing_if = "is_zero")]
        through_change: Change,
    },
    Pong,
    /// You were made a member of a room (created with you in it, added by its
    /// owner, or you joined a channel from another device).
    #[serde(rename_all = "camelCase")]
    RoomAdded {
        room_id: RoomId,
        kind: RoomKind,
        name: RoomName,
        owner_id: UserId,
        created_at: Millis,
        added_by: UserId,
    },
    /// You are no longer a member of a room.
    #[serde(rename_all = "camelCase")]
    RoomRemoved {
        room_id: RoomId,
        removed_by: UserId,
    },
    /// Someone else became a member of a group you are in (the person
    /// added gets `roomAdded`). Channels carry none.
    #[serde(rename_all = "camelCase")]
    MemberJoined {
        room_id: RoomId,
        user_id: UserId,
        added_by: UserId,
    },
    /// Someone else left, or was removed from, a group you are in (the
    /// person removed gets `roomRemoved`). Channels carry none.
    #[serde(rename_all = "camelCase")]
    MemberLeft {
        room_id: RoomId,
        user_id: UserId,
        removed_by: UserId,
    },
    /// Message `seq` was edited (to everyone in the room, the editor's
    /// devices too: that is their acknowledgement).
    #[serde(rename_all = "camelCase")]
    MessageEdited {
        room_id: RoomId,
        seq: Seq,
        message_id: MessageId,
        body: String,
        edited_at: Millis,
        change: Change,
        /// In an end-to-end encrypted room: the new content sealed
        /// (`body` is empty); open it with the edit's associated data.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sealed: Option<Box<Sealed>>,
    },
    /// Message `seq` was deleted: show it as a tombstone.
    #[serde(rename_all = "camelCase")]
    MessageDeleted {
        room_id: RoomId,
        seq: Seq,
        message_id: MessageId,
        deleted_at: Millis,
        deleted_by: UserId,
        change: Change,
    },
    /// `userId` added (`added`) or removed their `emoji` on message `seq`.
    #[serde(rename_all = "camelCase")]
    Reaction {
        room_id: RoomId,
        seq: Seq,
        message_id: MessageId,
        emoji: Emoji,
        user_id: UserId,
        added: bool,
        change: Change,
    },
    /// `userId`'s device keys changed (a device published, replaced or
    /// removed a key): to that user's devices and to the other member of
    /// each of their direct rooms. `fingerprint` is the new
    /// [`crate::e2ee::keys_fingerprint`]; fetch `GET /users/{userId}/keys`.
    #[serde(rename_all = "camelCase")]
    KeysChanged {
        user_id: UserId,
        fingerprint: String,
    },
    #[serde(rename_all = "camelCase")]
    Error {
        code: ErrorCode,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        client_msg_id: Option<ClientMsgId>,
        /// With `rate_limited`: how long to wait before sending again.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        retry_after_ms: Option<u64>,
    },
}

fn is_zero(n: &Change) -> bool {
    *n == 0
}

impl ServerFrame {
    /// The ack of `m`, seen as `view` (its attachments' URLs).
    pub fn ack(view: MessageView) -> Self {
        ServerFrame::Ack {
            client_msg_id: view.client_msg_id,
            room_id: view.room_id,
            message_id: view.message_id,
            seq: view.seq,
            status: AckStatus::Sent,
            attachments: view.attachments,
            reply_to: view.reply_to,
        }
    }

    pub fn error(e: &ChatError, client_msg_id: Option<ClientMsgId>) -> Self {
        ServerFrame::Error {
            code: e.code(),
            message: e.public_message(),
            client_msg_id,
            retry_after_ms: e.retry_after_ms(),
        }
    }

    /// The JSON text of this frame.
    pub fn encode(&self) -> String {
        // Serializing these plain data types cannot fail (no maps with
        // non-string keys, no custom serializers that error).
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","code":"internal","message":"internal error"}"#.to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_action_of_protocol_v1() {
        let f = ClientFrame::decode(
            r#"{"action":"sendMessage","roomId":"r_1","clientMsgId":"c1","body":"hi"}"#,
        )
        .unwrap();
        assert!(matches!(f, ClientFrame::SendMessage(ref m) if m.body == "hi"));
        let f = ClientFrame::decode(r#"{"action":"markRead","roomId":"r_1","seq":7}"#).unwrap();
        assert_eq!(
            f,
            ClientFrame::MarkRead(MarkRead {
                room_id: RoomId::parse("r_1").unwrap(),
                seq: 7
            })
        );
        assert!(matches!(
            ClientFrame::decode(r#"{"action":"typing","roomId":"r_1","isTyping":true}"#),
            Ok(ClientFrame::Typing(_))
        ));
        let f = ClientFrame::decode(
            r#"{"action":"sync","rooms":[{"roomId":"r_1","afterSeq":3},{"roomId":"r_2"}]}"#,
        )
        .unwrap();
        match f {
            ClientFrame::Sync(s) => {
                assert_eq!((s.rooms[0].after_seq, s.rooms[1].after_seq), (3, 0))
            }
            other => panic!("expected sync, got {other:?}"),
        }
        assert_eq!(
            ClientFrame::decode(r#"{"action":"ping"}"#).unwrap(),
            ClientFrame::Ping
        );
    }

    #[test]
    fn malformed_frames_are_bad_requests() {
        for bad in [
            "not json",
            "[]",
            r#"{"no":"action"}"#,
            r#"{"action":42}"#,
            r#"{"action":"launchMissiles"}"#,
            r#"{"action":"sendMessage","roomId":"r_1"}"#,
            r#"{"action":"markRead","roomId":"r_1","seq":-1}"#,
            r#"{"action":"sendMessage","roomId":"../etc","clientMsgId":"c","body":"x"}"#,
        ] {
            let e = ClientFrame::decode(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::BadRequest, "{bad}");
        }
    }

    #[test]
    fn unknown_fields_are_ignored_but_identity_fields_have_no_effect() {
        // A client cannot smuggle a sender: the frame type has no such field.
        let f = ClientFrame::decode(r#"{"action":"sendMessage","roomId":"r_1","clientMsgId":"c1","body":"hi","senderId":"mallory"}"#).unwrap();
        assert!(matches!(f, ClientFrame::SendMessage(_)));
    }

    #[test]
    fn oversize_sync_is_too_large() {
        let rooms: Vec<String> = (0..=MAX_SYNC_ROOMS)
            .map(|i| format!(r#"{{"roomId":"r_{i}"}}"#))
            .collect();
        let text = format!(r#"{{"action":"sync","rooms":[{}]}}"#, rooms.join(","));
        assert_eq!(
            ClientFrame::decode(&text).unwrap_err().code(),
            ErrorCode::TooLarge
        );
    }

    #[test]
    fn server_frames_have_the_documented_shape() {
        let f = ServerFrame::Presence {
            user_id: UserId::parse("bob").unwrap(),
            status: PresenceStatus::Online,
        };
        assert_eq!(
            f.encode(),
            r#"{"type":"presence","userId":"bob","status":"online"}"#
        );
        assert_eq!(ServerFrame::Pong.encode(), r#"{"type":"pong"}"#);
        let e = ServerFrame::error(&ChatError::Forbidden("not a member of this room"), None);
        assert_eq!(
            e.encode(),
            r#"{"type":"error","code":"forbidden","message":"not a member of this room"}"#
        );
    }

    #[test]
    fn salvages_only_valid_client_msg_ids() {
        assert_eq!(
            salvage_client_msg_id(r#"{"clientMsgId":"c-1","body":5}"#)
                .unwrap()
                .as_str(),
            "c-1"
        );
        assert!(salvage_client_msg_id(r#"{"clientMsgId":"<img>"}"#).is_none());
    }
}
