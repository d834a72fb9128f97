//! The domain services: everything the handlers do, expressed over ports.
//! A [`Chat`] holds the ports and limits, is built once per process (cold
//! start) and shared by every invocation. It holds no per-request state:
//! who is calling is always an argument ([`Caller`], [`crate::auth::Identity`]),
//! never something remembered, so a warm Lambda serving many users in turn (or
//! the local platform serving them at once) cannot mix them up.

mod attachments;
mod blocks;
mod changes;
mod e2ee_edits;
mod fanout;
mod history;
mod keys;
mod messaging;
mod notify;
mod persist;
mod replies;
mod rooms;
#[cfg(test)]
mod sealed_files;
mod search;
mod session;
mod users;

use std::sync::Arc;

pub use history::HistoryQuery;
pub use persist::RecordOutcome;
pub use replies::ThreadQuery;
pub use rooms::Created;
pub use search::SearchRequest;

use crate::authz::{authorize_in, Action};
use crate::config::Limits;
use crate::error::ChatError;
use crate::ids::{ConnectionId, Millis, RoomId, UserId};
use crate::memory::{
    ManualClock, MemoryBlobs, MemoryBlocks, MemoryChanges, MemoryConnections, MemoryKeys,
    MemoryMessages, MemoryMobile, MemoryNotify, MemoryOutbox, MemoryProfiles, MemoryPusher,
    MemoryQueue, MemoryRooms, MemorySearch,
};
use crate::model::{Membership, Room};
use crate::ports::{
    BlobStore, BlockStore, Clock, ConnectionStore, JobQueue, KeyStore, MessageChanges,
    MessageStore, MobilePush, NotifyStore, ProfileStore, Pusher, RoomStore, SearchIndex,
    SystemClock, WebPush,
};
use crate::ratelimit::{Bucket, MemoryRateLimiter, RateLimiter, Verdict};

/// The caller of a WebSocket action: the connection it came on and the user
/// bound to that connection at `$connect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub user_id: UserId,
    pub connection_id: ConnectionId,
    /// The connection's presence expiry as read with it (0 when unknown:
    /// a `ping` then refreshes it).
    pub expires_at: Millis,
}

/// The ports and limits every service function works with.
#[derive(Clone)]
pub struct Chat {
    pub connections: Arc<dyn ConnectionStore>,
    pub rooms: Arc<dyn RoomStore>,
    pub messages: Arc<dyn MessageStore>,
    /// Edits, deletes and reactions, and each room's change cursor.
    pub changes: Arc<dyn MessageChanges>,
    pub profiles: Arc<dyn ProfileStore>,
    /// The message search index, kept by the persist worker.
    pub search: Arc<dyn SearchIndex>,
    /// Push devices, notification policies and coalescing windows.
    pub notify: Arc<dyn NotifyStore>,
    /// Blocks between users ([`crate::block`]).
    pub blocks: Arc<dyn BlockStore>,
    /// Device keys of encrypted rooms and their replay guard ([`crate::e2ee`]).
    pub keys: Arc<dyn KeyStore>,
    /// Sends offline notifications (the persist worker); `None` where the
    /// deployment has no sender, and then nobody is notified (and nothing
    /// is read for it).
    pub webpush: Option<Arc<dyn WebPush>>,
    /// Mobile push (SNS platform endpoints for FCM and APNs): registering
    /// a mobile device creates its endpoint (the users function), the
    /// persist worker publishes to it. `None` where the function has no
    /// mobile push: registering a mobile token is then refused (409) and
    /// mobile devices are not notified.
    pub mobile: Option<Arc<dyn MobilePush>>,
    pub queue: Arc<dyn JobQueue>,
    pub pusher: Arc<dyn Pusher>,
    /// The attachments' object store (S3 in AWS).
    pub blobs: Arc<dyn BlobStore>,
    pub clock: Arc<dyn Clock>,
    /// Token buckets per connection and user ([`crate::ratelimit`]).
    pub rate_limiter: Arc<dyn RateLimiter>,
    pub limits: Limits,
}

/// The concrete in-memory adapters behind a [`Chat`], for whoever needs more
/// than the port (the local platform drains the queue and attaches sockets;
/// tests inject faults and inspect state).
#[derive(Clone, Default)]
pub struct MemoryBackends {
    pub connections: Arc<MemoryConnections>,
    pub rooms: Arc<MemoryRooms>,
    pub messages: Arc<MemoryMessages>,
    pub changes: Arc<MemoryChanges>,
    pub profiles: Arc<MemoryProfiles>,
    pub search: Arc<MemorySearch>,
    pub notify: Arc<MemoryNotify>,
    pub blocks: Arc<MemoryBlocks>,
    pub keys: Arc<MemoryKeys>,
    pub outbox: Arc<MemoryOutbox>,
    pub mobile: Arc<MemoryMobile>,
    pub queue: Arc<MemoryQueue>,
    pub pusher: Arc<MemoryPusher>,
    pub blobs: Arc<MemoryBlobs>,
    pub rate_limiter: Arc<MemoryRateLimiter>,
}

impl MemoryBackends {
    /// A [`Chat`] over these adapters with the given clock.
    pub fn chat(&self, limits: Limits, clock: Arc<dyn Clock>) -> Chat {
        Chat {
            connections: self.connections.clone(),
            rooms: self.rooms.clone(),
            messages: self.messages.clone(),
            changes: self.changes.clone(),
            profiles: self.profiles.clone(),
            search: self.search.clone(),
            notify: self.notify.clone(),
            blocks: self.blocks.clone(),
            keys: self.keys.clone(),
            webpush: Some(self.outbox.clone()),
            mobile: Some(self.mobile.clone()),
            queue: self.queue.clone(),
            pusher: self.pusher.clone(),
            blobs: self.blobs.clone(),
            clock,
            rate_limiter: self.rate_limiter.clone(),
            limits,
        }
    }
}

impl Chat {
    /// The whole platform in memory, on the system clock.
    pub fn in_memory(limits: Limits) -> (Chat, MemoryBackends) {
        let b = MemoryBackends::default();
        (b.chat(limits, Arc::new(SystemClock)), b)
    }

    /// The whole platform in memory on a clock the caller moves.
    pub fn in_memory_with_clock(limits: Limits, clock: Arc<ManualClock>) -> (Chat, MemoryBackends) {
        let b = MemoryBackends::default();
        (b.chat(limits, clock), b)
    }

    /// Loads the room and the actor's membership, and asks
    /// [`authorize_in`], with what stands between the actor and the other
    /// member when the room is direct and the action reaches them. A room
    /// that does not exist is `not_found`.
    pub(crate) async fn authorized_room(
        &self,
        actor: &UserId,
        room_id: &RoomId,
        action: Action<'_>,
    ) -> Result<(Room, Option<Membership>), ChatError> {
        let (room, membership) = tokio::try_join!(
            self.rooms.get(room_id),
            self.rooms.membership(room_id, actor)
        )?;
        let room = room.ok_or(ChatError::NotFound("room"))?;
        let peer = if action.reaches_peer() && membership.is_some() {
            self.peer_in(actor, &room).await?
        } else {
            crate::block::Between::Clear
        };
        authorize_in(actor, action, &room, membership.as_ref(), peer)?;
        Ok((room, membership))
    }

    /// Takes a token from each bucket, or refuses with `rate_limited`. A
    /// limiter that fails lets the request through: it is an abuse brake,
    /// and a cache outage must not become a chat outage.
    pub(crate) async fn within_rate(&self, buckets: &[Bucket]) -> Result<(), ChatError> {
        match self.rate_limiter.acquire(buckets, self.clock.now()).await {
            Ok(Verdict::Allowed) => Ok(()),
            Ok(Verdict::Limited { retry_after_ms }) => {
                crate::metrics::record(&[(crate::metrics::Metric::RateLimited, 1.0)]);
                tracing::info!(bucket = %buckets.first().map_or("", |b| b.key.as_str()), retry_after_ms, "rate limited");
                Err(ChatError::RateLimited { retry_after_ms })
            }
            Err(e) => {
                tracing::warn!(error = %crate::error::chain(&e), "rate limiter unavailable; request let through");
                Ok(())
            }
        }
    }

    /// The REST rate limit of `user` (one token per call).
    pub async fn limit_rest(&self, user: &UserId) -> Result<(), ChatError> {
        self.within_rate(&self.limits.rate.for_rest(user)).await
    }

    /// The user ids of a room's members.
    pub(crate) async fn member_ids(&self, room_id: &RoomId) -> Result<Vec<UserId>, ChatError> {
        Ok(self
            .rooms
            .members(room_id)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect())
    }
}
