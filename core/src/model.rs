//! The chat domain's records. They are plain data: rules live in
//! [`crate::authz`] and [`crate::service`], storage behind [`crate::ports`].

use serde::{Deserialize, Serialize};

use crate::ids::{
    AvatarUrl, ClientMsgId, ConnectionId, DisplayName, MessageBody, MessageId, Millis, RoomId,
    RoomName, Seq, UserId,
};

/// What kind of room this is decides who may join and who may add members.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomKind {
    /// Private: the owner adds members.
    Group,
    /// Public: anyone may join.
    Channel,
    /// Exactly two users, one room per pair.
    Direct,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Room {
    pub room_id: RoomId,
    pub kind: RoomKind,
    pub name: RoomName,
    pub owner_id: UserId,
    pub created_at: Millis,
}

#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Member,
}

/// One user's membership of one room, with their delivery cursors:
/// every message with `seq <= delivered_seq` reached one of their devices,
/// every message with `seq <= read_seq` was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub room_id: RoomId,
    pub user_id: UserId,
    pub role: Role,
    pub joined_at: Millis,
    pub delivered_seq: Seq,
    pub read_seq: Seq,
}

impl Membership {
    pub fn new(room_id: RoomId, user_id: UserId, role: Role, joined_at: Millis) -> Self {
        Self {
            room_id,
            user_id,
            role,
            joined_at,
            delivered_seq: 0,
            read_seq: 0,
        }
    }
}

/// A chat message once the server has accepted it: id and `seq` assigned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub room_id: RoomId,
    pub message_id: MessageId,
    pub seq: Seq,
    pub sender_id: UserId,
    pub body: MessageBody,
    pub sent_at: Millis,
    pub client_msg_id: ClientMsgId,
}

/// What the message path asks the store to reserve: everything but `seq`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageDraft {
    pub room_id: RoomId,
    pub message_id: MessageId,
    pub sender_id: UserId,
    pub body: MessageBody,
    pub sent_at: Millis,
    pub client_msg_id: ClientMsgId,
}

impl MessageDraft {
    pub fn with_seq(self, seq: Seq) -> Message {
        Message {
            room_id: self.room_id,
            message_id: self.message_id,
            seq,
            sender_id: self.sender_id,
            body: self.body,
            sent_at: self.sent_at,
            client_msg_id: self.client_msg_id,
        }
    }
}

/// The outcome of reserving a `clientMsgId`: either a new message with a fresh
/// `seq`, or the message an earlier send with the same key already created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reservation {
    New(Message),
    Duplicate(Message),
}

/// What became of an allocated `seq` that has no stored message
/// ([`crate::ports::MessageStore::settle`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeqFate {
    /// A message was reserved at it: it is accepted and will be stored (its
    /// first attempt may still be in the queue, or may have failed there).
    Reserved(Message),
    /// No message has it, and from now on none ever will.
    Burned,
}

impl Reservation {
    pub fn message(&self) -> &Message {
        match self {
            Reservation::New(m) | Reservation::Duplicate(m) => m,
        }
    }
}

/// A live WebSocket connection and the identity verified when it connected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRecord {
    pub connection_id: ConnectionId,
    pub user_id: UserId,
    pub connected_at: Millis,
    /// Presence expiry: refreshed by `ping`. Past it the connection no longer
    /// counts as "online" (API Gateway delivers `$disconnect` best-effort only).
    pub expires_at: Millis,
}

impl ConnectionRecord {
    pub fn is_live(&self, now: Millis) -> bool {
        self.expires_at > now
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub user_id: UserId,
    pub display_name: DisplayName,
    pub avatar_url: Option<AvatarUrl>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// A partial profile update. `avatar_url: Some(None)` clears the avatar.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfilePatch {
    pub display_name: Option<DisplayName>,
    pub avatar_url: Option<Option<AvatarUrl>>,
}

/// Presence as shown to other users.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PresenceStatus {
    Online,
    Offline,
}

/// Which cursor a receipt is about.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiptStatus {
    Delivered,
    Read,
}

/// Work handed to the persistence worker through the queue. The JSON form is
/// the SQS message body, so it is versioned by its `kind` tag: add kinds,
/// never change one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Job {
    /// Store this accepted message (idempotent: a redelivery changes nothing).
    #[serde(rename_all = "camelCase")]
    PersistMessage { message: Message },
    /// Advance the delivered cursor of `user_ids` in `room_id` to `seq` and
    /// tell `notify` (their connections) with `receipt` frames.
    #[serde(rename_all = "camelCase")]
    MarkDelivered {
        room_id: RoomId,
        seq: Seq,
        user_ids: Vec<UserId>,
        notify: Vec<UserId>,
    },
}
