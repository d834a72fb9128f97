//! The chat domain's records. They are plain data: rules live in
//! [`crate::authz`] and [`crate::service`], storage behind [`crate::ports`].

use serde::{Deserialize, Serialize};

use crate::attachments::Attachment;
use crate::e2ee::Sealed;
use crate::ids::{
    AvatarUrl, ClientMsgId, ConnectionId, DisplayName, MessageBody, MessageId, Millis, RoomId,
    RoomName, Seq, UserId,
};
use crate::replies::ReplyPreview;

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
    /// The files it shares ([`crate::attachments`]); its body may be empty
    /// when it has some.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// The message it replies to, quoted as it was when this was sent
    /// ([`crate::replies`]). Boxed: most messages are not replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Box<ReplyPreview>>,
    /// The sealed content of a message of an encrypted room
    /// ([`crate::e2ee`]): its body is empty. Boxed: most messages are plain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<Box<Sealed>>,
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
    pub attachments: Vec<Attachment>,
    pub reply_to: Option<Box<ReplyPreview>>,
    pub sealed: Option<Box<Sealed>>,
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
            attachments: self.attachments,
            reply_to: self.reply_to,
            sealed: self.sealed,
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

impl Reservation {
    /// The message, and whether an earlier send already created it.
    pub fn into_message(self) -> (Message, bool) {
        match self {
            Reservation::New(m) => (m, false),
            Reservation::Duplicate(m) => (m, true),
        }
    }
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
    /// One shard of a big room's fan-out: push `message` to every
    /// connection of `user_ids` except `skip` (the sending connection), then
    /// advance their delivered cursors and tell the sender, as the message
    /// function does for a small room (see [`Job::fan_out`]).
    #[serde(rename_all = "camelCase")]
    FanOut {
        message: Message,
        user_ids: Vec<UserId>,
        skip: ConnectionId,
    },
    /// One shard of a big room's push of a change frame (`messageEdited`,
    /// `messageDeleted`, `reaction`): push `frame` to every connection of
    /// `user_ids` (see [`Job::broadcast`]).
    #[serde(rename_all = "camelCase")]
    Broadcast {
        frame: crate::protocol::ws::ServerFrame,
        user_ids: Vec<UserId>,
    },
}

/// The largest job body the queue carries: SQS's limit on one message
/// (256 KiB). The SQS adapter batches by it; [`Job::fan_out`] keeps each
/// shard within it, less [`JOB_HEADROOM`].
pub const JOB_MAX_BYTES: usize = 256 * 1024;

/// Room left in a job for what travels beside its body (the trace
/// attributes).
pub const JOB_HEADROOM: usize = 2048;

impl Job {
    /// The fan-out jobs of `message` to `members`: shards of at most
    /// `shard_size` members, fewer where the encoded job would pass
    /// [`JOB_MAX_BYTES`] (a long body leaves room for fewer ids). Every
    /// member is in exactly one shard, in the order given.
    pub fn fan_out(
        message: &Message,
        members: &[UserId],
        skip: &ConnectionId,
        shard_size: usize,
    ) -> Vec<Job> {
        sharded(members, shard_size, |user_ids| Job::FanOut {
            message: message.clone(),
            user_ids,
            skip: skip.clone(),
        })
    }

    /// The broadcast jobs of a change `frame` to `members`, sharded as
    /// [`Job::fan_out`] shards a message.
    pub fn broadcast(
        frame: &crate::protocol::ws::ServerFrame,
        members: &[UserId],
        shard_size: usize,
    ) -> Vec<Job> {
        sharded(members, shard_size, |user_ids| Job::Broadcast {
            frame: frame.clone(),
            user_ids,
        })
    }
}

/// `members` in shards of at most `shard_size`, fewer where the encoded job
/// would pass [`JOB_MAX_BYTES`]; each shard made a job by `job`. Every member
/// is in exactly one shard, in the order given.
fn sharded(members: &[UserId], shard_size: usize, job: impl Fn(Vec<UserId>) -> Job) -> Vec<Job> {
    let base = serde_json::to_string(&job(Vec::new())).map_or(0, |s| s.len());
    let budget = JOB_MAX_BYTES.saturating_sub(JOB_HEADROOM + base);
    let mut jobs = Vec::new();
    let (mut shard, mut size) = (Vec::new(), 0);
    for m in members {
        // `"id",`: ids hold no character JSON escapes.
        let cost = m.as_str().len() + 3;
        if !shard.is_empty() && (shard.len() >= shard_size.max(1) || size + cost > budget) {
            jobs.push(job(std::mem::take(&mut shard)));
            size = 0;
        }
        shard.push(m.clone());
        size += cost;
    }
    if !shard.is_empty() {
        jobs.push(job(shard));
    }
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(body_bytes: usize) -> Message {
        message_of(&"x".repeat(body_bytes))
    }

    fn message_of(body: &str) -> Message {
        Message {
            sealed: None,
            room_id: RoomId::parse("r_big").unwrap(),
            message_id: MessageId::generate(),
            seq: 7,
            sender_id: UserId::parse("alice").unwrap(),
            body: MessageBody::parse(body, 122_880, 122_880).unwrap(),
            sent_at: 1,
            client_msg_id: ClientMsgId::parse("c1").unwrap(),
            attachments: Vec::new(),
            reply_to: None,
        }
    }

    fn members(n: usize) -> Vec<UserId> {
        // The longest ids there are: the byte bound bites first.
        (0..n)
            .map(|i| UserId::parse(&format!("{i:0>128}")).unwrap())
            .collect()
    }

    #[test]
    fn fan_out_puts_every_member_in_one_shard_of_at_most_the_shard_size() {
        let m = message(64);
        let users = members(1234);
        let skip = ConnectionId::parse("c=").unwrap();
        let jobs = Job::fan_out(&m, &users, &skip, 500);
        let shards: Vec<Vec<UserId>> = jobs
            .into_iter()
            .map(|j| match j {
                Job::FanOut { user_ids, .. } => user_ids,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            shards.iter().map(Vec::len).collect::<Vec<_>>(),
            [500, 500, 234]
        );
        assert_eq!(shards.concat(), users);
    }

    #[test]
    fn a_long_body_makes_shards_smaller_so_every_job_fits_the_queue() {
        // 120 KB of quotes is 240 KB of JSON: room for few ids beside it.
        let m = message_of(&"\"".repeat(120_000));
        let users = members(1000);
        let skip = ConnectionId::parse("c=").unwrap();
        let jobs = Job::fan_out(&m, &users, &skip, 1000);
        assert!(
            jobs.len() > 1,
            "1,000 ids of 128 bytes beside 240 KB of body"
        );
        let mut all = Vec::new();
        for j in &jobs {
            let size = serde_json::to_string(j).unwrap().len();
            assert!(size + JOB_HEADROOM <= JOB_MAX_BYTES, "{size}");
            if let Job::FanOut { user_ids, .. } = j {
                all.extend(user_ids.iter().cloned());
            }
        }
        assert_eq!(all, users);
    }

    #[test]
    fn a_change_frame_is_sharded_like_a_message_and_round_trips() {
        let m = message(8);
        let frame = crate::protocol::ws::ServerFrame::MessageDeleted {
            room_id: m.room_id.clone(),
            seq: m.seq,
            message_id: m.message_id.clone(),
            deleted_at: 5,
            deleted_by: m.sender_id.clone(),
            change: 3,
        };
        let users = members(1234);
        let jobs = Job::broadcast(&frame, &users, 500);
        assert_eq!(jobs.len(), 3);
        let mut all = Vec::new();
        for j in &jobs {
            let back: Job = serde_json::from_str(&serde_json::to_string(j).unwrap()).unwrap();
            assert_eq!(&back, j);
            if let Job::Broadcast { user_ids, frame: f } = back {
                assert_eq!(f, frame);
                all.extend(user_ids);
            }
        }
        assert_eq!(all, users);
    }

    #[test]
    fn nobody_to_tell_is_no_job() {
        let skip = ConnectionId::parse("c=").unwrap();
        assert!(Job::fan_out(&message(1), &[], &skip, 10).is_empty());
    }
}
