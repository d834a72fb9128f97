//! Ports: the small async traits the domain needs from the outside world,
//! named after what the domain asks, not after a vendor. Each has an
//! in-memory adapter in [`crate::memory`]; the AWS/Redis adapters implement
//! the same traits, and one contract suite ([`crate::contract`]) checks both.
//!
//! All methods are fallible and batch-friendly where a real backend batches
//! (`for_users`, `get_many`, `put_batch`, `enqueue(&[Job])`), so an adapter can
//! map them onto BatchGetItem / BatchWriteItem / SendMessageBatch.

use async_trait::async_trait;

use crate::block::{Block, Relations};
use crate::changes::{Change, MessageState};
use crate::error::{PushError, QueueError, StoreError, WebPushError};
use crate::ids::{ClientMsgId, ConnectionId, Millis, RoomId, Seq, UserId};
use crate::model::{
    ConnectionRecord, Job, Membership, Message, MessageDraft, Profile, ProfilePatch, ReceiptStatus,
    Reservation, Room, SeqFate,
};
use crate::notify::{Device, DeviceId, NotifyPolicy, Payload};
use crate::search::{IndexEntry, RoomMatches, SearchKey, SearchQuery};

/// Live connections and the identity bound to each at `$connect`.
#[async_trait]
pub trait ConnectionStore: Send + Sync {
    async fn put(&self, conn: &ConnectionRecord) -> Result<(), StoreError>;
    async fn get(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError>;
    /// Moves the presence expiry; `false` when the connection is unknown.
    async fn touch(&self, id: &ConnectionId, expires_at: Millis) -> Result<bool, StoreError>;
    /// Removes the connection from every index; returns what was removed.
    async fn delete(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError>;
    /// Every recorded connection of these users (expired ones too: a push to a
    /// dead one answers 410 and cleans it up). Reads only these users' entries,
    /// never the whole table.
    async fn for_users(&self, users: &[UserId]) -> Result<Vec<ConnectionRecord>, StoreError>;
}

/// Rooms, membership in both directions, and per-member cursors.
#[async_trait]
pub trait RoomStore: Send + Sync {
    /// Creates the room with its first members, all or nothing. `false` (and
    /// nothing changed) when a room with that id exists.
    async fn create(&self, room: &Room, members: &[Membership]) -> Result<bool, StoreError>;
    async fn get(&self, id: &RoomId) -> Result<Option<Room>, StoreError>;
    /// The rooms that exist among `ids`, in any order.
    async fn get_many(&self, ids: &[RoomId]) -> Result<Vec<Room>, StoreError>;
    async fn membership(
        &self,
        room: &RoomId,
        user: &UserId,
    ) -> Result<Option<Membership>, StoreError>;
    /// room → members.
    async fn members(&self, room: &RoomId) -> Result<Vec<Membership>, StoreError>;
    /// user → rooms.
    async fn rooms_of(&self, user: &UserId) -> Result<Vec<Membership>, StoreError>;
    /// `false` (unchanged) when already a member.
    async fn add_member(&self, m: &Membership) -> Result<bool, StoreError>;
    /// `false` when not a member.
    async fn remove_member(&self, room: &RoomId, user: &UserId) -> Result<bool, StoreError>;
    /// Raises a cursor to `seq`, never lowers it; raising `read` raises
    /// `delivered` too. `true` when the cursor moved.
    async fn advance_cursor(
        &self,
        room: &RoomId,
        user: &UserId,
        status: ReceiptStatus,
        seq: Seq,
    ) -> Result<bool, StoreError>;
    /// Public channels, newest first.
    async fn list_channels(&self, limit: usize) -> Result<Vec<Room>, StoreError>;
}

/// Which slice of a room's messages to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeQuery {
    /// Only `seq > after`.
    pub after: Option<Seq>,
    /// Only `seq < before`.
    pub before: Option<Seq>,
    pub limit: usize,
    /// When more than `limit` match: `true` keeps the newest, `false` the oldest.
    pub newest_first: bool,
}

/// Message sequence allocation, idempotency keys and the history itself.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Atomically: when `(room, sender, clientMsgId)` was reserved before,
    /// returns that message as [`Reservation::Duplicate`]; otherwise allocates
    /// the room's next `seq` (strictly increasing, never reused, durable) and
    /// records the reservation with the whole message.
    async fn reserve(&self, draft: MessageDraft) -> Result<Reservation, StoreError>;
    /// The fate of `seq` (`sync` asks up to the room's
    /// [`MessageStore::last_seq`]) when no stored message has it: the message
    /// reserved at it, or [`SeqFate::Burned`], in which case no reservation
    /// can take it any more (a reservation racing this call either wins the
    /// seq and this answers `Reserved`, or loses it and counts another).
    /// Either answer is final: asking again answers the same.
    async fn settle(&self, room: &RoomId, seq: Seq) -> Result<SeqFate, StoreError>;
    /// The highest `seq` allocated in the room, 0 when none.
    async fn last_seq(&self, room: &RoomId) -> Result<Seq, StoreError>;
    /// Stores accepted messages, idempotently (storing the same message again
    /// changes nothing). One outcome per message, in order.
    async fn put_batch(&self, messages: &[Message]) -> Vec<Result<(), StoreError>>;
    /// Stored messages of a room in the range, ascending by `seq`.
    async fn range(&self, room: &RoomId, q: RangeQuery) -> Result<Vec<Message>, StoreError>;
    /// The newest stored message of each room that has one.
    async fn latest(&self, rooms: &[RoomId]) -> Result<Vec<Message>, StoreError>;
    /// The stored message at `seq`, if any.
    async fn get(&self, room: &RoomId, seq: Seq) -> Result<Option<Message>, StoreError> {
        let q = RangeQuery {
            after: seq.checked_sub(1),
            before: seq.checked_add(1),
            limit: 1,
            newest_first: false,
        };
        Ok(self
            .range(room, q)
            .await?
            .into_iter()
            .find(|m| m.seq == seq))
    }
    /// Stored replies to the message at `target` ([`Message::reply_to`]),
    /// ascending by `seq`, those after `after`, at most `limit`. May lag a
    /// reply stored a moment ago (DynamoDB serves it from an index).
    async fn replies(
        &self,
        room: &RoomId,
        target: Seq,
        after: Option<Seq>,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError>;
}

/// Edits, deletes and reactions: each message's [`MessageState`] and the
/// room's change log, numbered by the room's change counter
/// ([`crate::changes`] has the design).
#[async_trait]
pub trait MessageChanges: Send + Sync {
    /// The room's change counter: the number of its last change, 0 when none.
    async fn last_change(&self, room: &RoomId) -> Result<Change, StoreError>;
    /// The state of `(room, seq)`; `None` when it never changed.
    async fn state(&self, room: &RoomId, seq: Seq) -> Result<Option<MessageState>, StoreError>;
    /// The states of the changed messages with `lo <= seq <= hi`, ascending
    /// by seq (history and sync lay them over the messages they answer).
    async fn states(
        &self,
        room: &RoomId,
        lo: Seq,
        hi: Seq,
    ) -> Result<Vec<MessageState>, StoreError>;
    /// Atomically, when the room's counter is `state.change - 1`: moves it
    /// to `state.change`, stores `state` as the message's and appends it to
    /// the log. `false` (and nothing changed) when the counter was other:
    /// another change committed first.
    async fn commit(&self, state: &MessageState) -> Result<bool, StoreError>;
    /// The log entries after `after`, ascending by change, at most `limit`.
    async fn changes_after(
        &self,
        room: &RoomId,
        after: Change,
        limit: usize,
    ) -> Result<Vec<MessageState>, StoreError>;
}

/// The message search index ([`crate::search`] says what is indexed and
/// what matches). The persist worker indexes each message it stores; an
/// edit or a delete (when the protocol has them) removes the entry of its
/// `(room, seq)` and, for an edit, indexes the new body.
#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// Indexes each entry, idempotently (indexing the same entry again
    /// changes nothing). One outcome per entry, in order.
    async fn index(&self, entries: &[IndexEntry]) -> Vec<Result<(), StoreError>>;
    /// Removes the entry of `(room, seq)`, whatever its terms; nothing to
    /// do when there is none.
    async fn remove(&self, room: &RoomId, seq: Seq) -> Result<(), StoreError>;
    /// The entries of `room` matching `q` whose keys are below `below` (all
    /// when `None`), greatest key first, at most `limit`. When it stops
    /// before the room's last match (`limit` reached, or the adapter's read
    /// budget spent), `more_below` names the last key it read.
    async fn search(
        &self,
        room: &RoomId,
        q: &SearchQuery,
        below: Option<&SearchKey>,
        limit: usize,
    ) -> Result<RoomMatches, StoreError>;
}

#[async_trait]
pub trait ProfileStore: Send + Sync {
    async fn get(&self, user: &UserId) -> Result<Option<Profile>, StoreError>;
    async fn get_many(&self, users: &[UserId]) -> Result<Vec<Profile>, StoreError>;
    /// Stores `p` unless a profile exists; returns the stored one either way.
    async fn create_if_absent(&self, p: &Profile) -> Result<Profile, StoreError>;
    /// `None` when there is no such profile.
    async fn update(
        &self,
        user: &UserId,
        patch: &ProfilePatch,
        now: Millis,
    ) -> Result<Option<Profile>, StoreError>;
}

/// Registered push devices, notification policies and the coalescing
/// windows of offline notifications ([`crate::notify`]).
#[async_trait]
pub trait NotifyStore: Send + Sync {
    /// Stores the device (replacing one with the same id). `false` (and
    /// nothing stored) when the user has [`crate::notify::MAX_DEVICES`]
    /// other devices.
    async fn put_device(&self, device: &Device) -> Result<bool, StoreError>;
    /// The user's devices, by id.
    async fn devices(&self, user: &UserId) -> Result<Vec<Device>, StoreError>;
    /// The devices of these users (reads only their entries).
    async fn devices_of(&self, users: &[UserId]) -> Result<Vec<Device>, StoreError>;
    /// `false` when there was no such device.
    async fn remove_device(&self, user: &UserId, device: &DeviceId) -> Result<bool, StoreError>;
    /// The user's policy; the default when none was stored.
    async fn policy(&self, user: &UserId) -> Result<NotifyPolicy, StoreError>;
    async fn put_policy(&self, user: &UserId, policy: &NotifyPolicy) -> Result<(), StoreError>;
    /// Records `n` messages of `room` for `user` at `now`. When no window
    /// of `window_ms` is open (none, or the last opened at or before
    /// `now - window_ms`), opens one at `now` and returns the count to
    /// notify: `n` plus what the closed window counted without notifying.
    /// Otherwise adds `n` to the open window and returns `None`. Atomic:
    /// of concurrent claims, exactly one opens the window.
    async fn claim(
        &self,
        user: &UserId,
        room: &RoomId,
        n: u32,
        now: Millis,
        window_ms: Millis,
    ) -> Result<Option<u32>, StoreError>;
}

/// Blocks between users ([`crate::block`]): each stored under both users,
/// so one read of a user answers both directions.
#[async_trait]
pub trait BlockStore: Send + Sync {
    /// Records that `block.user_id` blocks `block.target_id`, in both
    /// users' entries at once. `Ok(false)` (and nothing changed) when that
    /// block exists already, or when the user blocks
    /// [`crate::block::MAX_BLOCKS`] people already.
    async fn block(&self, block: &Block) -> Result<bool, StoreError>;
    /// Removes the block of `target` by `user` from both entries; `false`
    /// when there was none.
    async fn unblock(&self, user: &UserId, target: &UserId) -> Result<bool, StoreError>;
    /// Whom `user` blocks and who blocks `user`, in one read of the user's
    /// entries.
    async fn relations(&self, user: &UserId) -> Result<Relations, StoreError>;
}

/// Device public keys of end-to-end encrypted rooms, and the replay guard
/// of their ciphertexts ([`crate::e2ee`]).
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Publishes (or replaces) a device's key. `Ok(false)`, nothing
    /// changed, when the user has [`crate::e2ee::MAX_DEVICES_PER_USER`]
    /// other devices already.
    async fn put_key(&self, key: &crate::e2ee::DeviceKey) -> Result<bool, StoreError>;
    /// A user's device keys, in device id order.
    async fn keys(&self, user: &UserId) -> Result<Vec<crate::e2ee::DeviceKey>, StoreError>;
    /// Removes a device's key; `false` when there was none.
    async fn delete_key(
        &self,
        user: &UserId,
        device: &crate::e2ee::DeviceId,
    ) -> Result<bool, StoreError>;
    /// Claims ciphertext `digest` ([`crate::e2ee::seal_digest`]) in `room`
    /// for the message `(sender, client_msg_id)`. `true` when it was
    /// unclaimed or is that message's already (a resend); `false` when
    /// another message holds it (a replay).
    async fn claim_seal(
        &self,
        room: &RoomId,
        digest: &str,
        sender: &UserId,
        client_msg_id: &ClientMsgId,
    ) -> Result<bool, StoreError>;
}

/// The durable hand-off to the persistence worker (SQS in AWS).
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// All or nothing from the caller's view: `Ok` means every job is durable.
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), QueueError>;
}

/// Pushes frames to connections (the API Gateway Management API in AWS).
#[async_trait]
pub trait Pusher: Send + Sync {
    async fn post(&self, conn: &ConnectionId, frame: &[u8]) -> Result<(), PushError>;
    /// Closes the connection server-side.
    async fn disconnect(&self, conn: &ConnectionId) -> Result<(), PushError>;
}

/// A request a client makes itself, presigned: the URL, and the headers it
/// must send exactly as given (they are part of the signature).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presigned {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// What an upload must be: the store refuses a PUT whose content type,
/// length or metadata differ from these.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadSpec {
    pub content_type: String,
    pub content_length: u64,
    /// `x-amz-meta-<name>` values (ASCII).
    pub metadata: std::collections::BTreeMap<String, String>,
}

/// How a download answers: its `Content-Type` and `Content-Disposition`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadSpec {
    pub content_type: String,
    pub disposition: String,
}

/// An object's head: what the store recorded at upload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobHead {
    pub content_type: String,
    pub size: u64,
    pub metadata: std::collections::BTreeMap<String, String>,
}

/// The object store of attachments (S3 in AWS). Bytes never pass through
/// it: clients upload and download with presigned requests. Presigning is
/// local computation (no request), so it is cheap per message.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// A PUT of `key` valid for `ttl_ms` from `now`, that stores only an
    /// object of exactly `spec`.
    async fn presign_put(
        &self,
        key: &str,
        spec: &UploadSpec,
        now: Millis,
        ttl_ms: i64,
    ) -> Result<Presigned, StoreError>;
    /// A GET of `key` valid for `ttl_ms` from `now`, answering with `spec`'s
    /// headers.
    async fn presign_get(
        &self,
        key: &str,
        spec: &DownloadSpec,
        now: Millis,
        ttl_ms: i64,
    ) -> Result<String, StoreError>;
    /// The head of `key`; `None` when there is no such object.
    async fn head(&self, key: &str) -> Result<Option<BlobHead>, StoreError>;
    /// Copies `from` to `to` with `content_type` and `metadata` in place of
    /// its own, then deletes `from`. Moving an object that is already moved
    /// fails, and a failure leaves `from` in place (the copy may exist).
    async fn promote(
        &self,
        from: &str,
        to: &str,
        content_type: &str,
        metadata: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), StoreError>;
    /// Removes `key` (a deleted message's attachment); nothing to do when
    /// there is no such object.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// Sends offline notifications to push devices: Web Push (RFC 8291
/// encryption, RFC 8292 VAPID) in AWS, a local outbox in the local
/// platform.
#[async_trait]
pub trait WebPush: Send + Sync {
    async fn send(&self, device: &Device, payload: &Payload) -> Result<(), WebPushError>;
}

/// Sends offline notifications to native apps through a mobile push
/// service (SNS platform endpoints for FCM and APNs in AWS; an in-memory
/// outbox locally). Endpoints are created when a device registers and
/// deleted when it is removed or the service reports it disabled.
#[async_trait]
pub trait MobilePush: Send + Sync {
    /// Whether the deployment can push to `platform` at all.
    fn configured(&self, platform: crate::mobile::MobilePlatform) -> bool;
    /// The endpoint of `token` (created, or the existing one: idempotent
    /// per token), tagged with its owner.
    async fn create_endpoint(
        &self,
        token: &crate::mobile::MobileToken,
        owner: &UserId,
    ) -> Result<String, crate::error::MobilePushError>;
    /// Publishes `message` ([`crate::mobile::sns_message`]) to the endpoint.
    /// [`WebPushError::Gone`]: the endpoint is disabled (the token expired
    /// or the app was removed) and the device should be removed.
    async fn publish(&self, endpoint: &str, message: &str) -> Result<(), WebPushError>;
    /// Deletes the endpoint; deleting a missing one succeeds.
    async fn delete_endpoint(&self, endpoint: &str) -> Result<(), crate::error::MobilePushError>;
}

/// Wall-clock time, behind a port so TTL logic is tested without sleeping.
pub trait Clock: Send + Sync {
    fn now(&self) -> Millis;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
    }
}
