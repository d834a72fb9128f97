//! Connections and presence: `$connect`, `$disconnect`, `ping`.
//! A user is online while at least one of their connections is live (several
//! devices); a connection stays live until its TTL passes without a `ping`,
//! so a socket whose `$disconnect` never arrives still goes offline.

use std::collections::BTreeSet;

use futures::stream::{self, StreamExt, TryStreamExt};
use tracing::{debug, info, warn};

use super::{Caller, Chat};
use crate::auth::Identity;
use crate::authz::PeerAction;
use crate::error::ChatError;
use crate::ids::{ConnectionId, DisplayName, RoomId, UserId};
use crate::model::{ConnectionRecord, PresenceStatus, Profile, RoomKind};
use crate::protocol::ws::ServerFrame;

impl Chat {
    /// Binds a new connection to the verified identity; announces the user
    /// online to their contacts when this is their first live connection.
    pub async fn connect(
        &self,
        connection_id: ConnectionId,
        identity: &Identity,
    ) -> Result<ConnectionRecord, ChatError> {
        let now = self.clock.now();
        self.ensure_profile(identity).await?;
        let was_online = self.is_online(&identity.user_id).await?;
        let record = ConnectionRecord {
            connection_id,
            user_id: identity.user_id.clone(),
            connected_at: now,
            expires_at: now + self.limits.connection_ttl_ms,
        };
        self.connections.put(&record).await?;
        info!(connection_id = %record.connection_id, user_id = %record.user_id, "connected");
        if !was_online {
            self.broadcast_presence(&identity.user_id, PresenceStatus::Online)
                .await;
        }
        Ok(record)
    }

    /// Forgets the connection; announces the user offline when it was their
    /// last live one. Unknown connections are fine (`$disconnect` may repeat).
    pub async fn disconnect(&self, connection_id: &ConnectionId) -> Result<(), ChatError> {
        let Some(removed) = self.connections.delete(connection_id).await? else {
            return Ok(());
        };
        info!(connection_id = %connection_id, user_id = %removed.user_id, "disconnected");
        if !self.is_online(&removed.user_id).await? {
            self.broadcast_presence(&removed.user_id, PresenceStatus::Offline)
                .await;
        }
        Ok(())
    }

    /// Answers `pong`, refreshing the connection's presence TTL only when
    /// less than `presence_refresh_ms` is left of it: a client pinging every
    /// few minutes costs a write every few pings, not one per ping.
    pub async fn ping(&self, caller: &Caller) -> Result<(), ChatError> {
        let now = self.clock.now();
        if caller.expires_at - now > self.limits.presence_refresh_ms {
            debug!(connection_id = %caller.connection_id, left_ms = caller.expires_at - now, "presence fresh enough; ping writes nothing");
            self.reply(&caller.connection_id, &ServerFrame::Pong).await;
            return Ok(());
        }
        let expires_at = now + self.limits.connection_ttl_ms;
        if !self
            .connections
            .touch(&caller.connection_id, expires_at)
            .await?
        {
            return Err(ChatError::Unauthorized);
        }
        self.reply(&caller.connection_id, &ServerFrame::Pong).await;
        Ok(())
    }

    /// Resolves the user bound to a connection. Identity comes from here (the
    /// store written at `$connect`), never from a frame's body.
    pub async fn caller(&self, connection_id: &ConnectionId) -> Result<Caller, ChatError> {
        let record = self
            .connections
            .get(connection_id)
            .await?
            .ok_or(ChatError::Unauthorized)?;
        Ok(Caller {
            user_id: record.user_id,
            connection_id: record.connection_id,
            expires_at: record.expires_at,
        })
    }

    pub async fn is_online(&self, user: &UserId) -> Result<bool, ChatError> {
        let now = self.clock.now();
        let conns = self
            .connections
            .for_users(std::slice::from_ref(user))
            .await?;
        Ok(conns.iter().any(|c| c.is_live(now)))
    }

    /// Presence of several users at once.
    pub async fn online_users(&self, users: &[UserId]) -> Result<BTreeSet<UserId>, ChatError> {
        let now = self.clock.now();
        let conns = self.connections.for_users(users).await?;
        Ok(conns
            .into_iter()
            .filter(|c| c.is_live(now))
            .map(|c| c.user_id)
            .collect())
    }

    /// Whom `user`'s presence changes are pushed to: everyone who shares a
    /// direct or group room with them, except `user`. Channels carry no
    /// presence pushes: in a channel of n online members, every connect and
    /// disconnect would push to all n, n² pushes per reconnect wave, and list
    /// all n members first. Channel members' presence is read on demand
    /// (`GET /rooms/{id}`, `GET /users/{id}`).
    pub(crate) async fn contacts_of(&self, user: &UserId) -> Result<Vec<UserId>, ChatError> {
        let ids: Vec<RoomId> = self
            .rooms
            .rooms_of(user)
            .await?
            .into_iter()
            .map(|m| m.room_id)
            .collect();
        let rooms: Vec<RoomId> = if ids.is_empty() {
            Vec::new()
        } else {
            self.rooms
                .get_many(&ids)
                .await?
                .into_iter()
                .filter(|r| r.kind != RoomKind::Channel)
                .map(|r| r.room_id)
                .collect()
        };
        let sets: Vec<Vec<UserId>> = stream::iter(rooms)
            .map(|room| async move { self.member_ids(&room).await })
            .buffer_unordered(8)
            .try_collect()
            .await?;
        let mut all: BTreeSet<UserId> = sets.into_iter().flatten().collect();
        all.remove(user);
        Ok(all.into_iter().collect())
    }

    /// Tells `user`'s contacts about a presence change. Best effort: a failure
    /// is logged, and readers still see the truth through `GET /users/{id}`.
    pub(crate) async fn broadcast_presence(&self, user: &UserId, status: PresenceStatus) {
        let contacts = match self.contacts_of(user).await {
            Ok(c) => c,
            Err(e) => {
                warn!(user_id = %user, error = %crate::error::chain(&e), "could not list contacts for presence");
                return;
            }
        };
        // Nobody on either side of a block with the user sees it.
        let contacts = match self
            .who_may_see(user, PeerAction::SeePresence, contacts)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                warn!(user_id = %user, error = %crate::error::chain(&e), "could not read blocks; no presence pushed");
                return;
            }
        };
        let frame = ServerFrame::Presence {
            user_id: user.clone(),
            status,
        };
        let conns = match self.connections.for_users(&contacts).await {
            Ok(c) => c,
            Err(e) => {
                warn!(user_id = %user, error = %crate::error::chain(&e), "could not look up contacts' connections");
                return;
            }
        };
        let bytes = frame.encode().into_bytes();
        let round = self.push_round(conns, &bytes).await;
        // Gone contacts are removed, but their own offline announcement is not
        // chained from here: one presence change never fans out recursively.
        self.settle_quietly(round, &bytes).await;
    }

    /// The caller's profile, created on first authenticated use.
    pub async fn ensure_profile(&self, identity: &Identity) -> Result<Profile, ChatError> {
        if let Some(p) = self.profiles.get(&identity.user_id).await? {
            return Ok(p);
        }
        let now = self.clock.now();
        let display_name = identity
            .name
            .as_deref()
            .and_then(|n| DisplayName::parse(n).ok())
            .unwrap_or_else(|| DisplayName::for_user(&identity.user_id));
        let profile = Profile {
            user_id: identity.user_id.clone(),
            display_name,
            avatar_url: None,
            created_at: now,
            updated_at: now,
        };
        Ok(self.profiles.create_if_absent(&profile).await?)
    }
}
