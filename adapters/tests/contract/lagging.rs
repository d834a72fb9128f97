//! The cache against a fake index that lags: GSI1 (user → connections, user
//! → rooms) is eventually consistent in DynamoDB, moto's never lags, so these
//! fakes hold writes back from the index reads until told to catch up. A
//! cache must never serve an older answer than the index gives once it has
//! caught up (a new device or a new room hidden for a whole TTL).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chat_adapters::redis_cache::{CachedConnections, CachedRooms};
use chat_core::contract::*;
use chat_core::error::StoreError;
use chat_core::ids::{ConnectionId, Millis, RoomId, Seq, UserId};
use chat_core::memory::{MemoryConnections, MemoryRooms};
use chat_core::model::{ConnectionRecord, Membership, ReceiptStatus, Role, Room, RoomKind};
use chat_core::ports::{ConnectionStore, RoomStore};

use crate::support::{on_both, Topology};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Connections whose index (`for_users`) does not show the latest writes
/// until [`LaggingConnections::catch_up`]; the base table (`get`) does.
#[derive(Default)]
struct LaggingConnections {
    inner: MemoryConnections,
    /// Written, not in the index yet.
    unseen: Mutex<Vec<ConnectionId>>,
    /// Deleted, still in the index.
    ghosts: Mutex<Vec<ConnectionRecord>>,
}

impl LaggingConnections {
    fn catch_up(&self) {
        lock(&self.unseen).clear();
        lock(&self.ghosts).clear();
    }
}

#[async_trait]
impl ConnectionStore for LaggingConnections {
    async fn put(&self, conn: &ConnectionRecord) -> Result<(), StoreError> {
        self.inner.put(conn).await?;
        lock(&self.unseen).push(conn.connection_id.clone());
        Ok(())
    }
    async fn get(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        self.inner.get(id).await
    }
    async fn touch(&self, id: &ConnectionId, expires_at: Millis) -> Result<bool, StoreError> {
        self.inner.touch(id, expires_at).await
    }
    async fn delete(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        let removed = self.inner.delete(id).await?;
        lock(&self.ghosts).extend(removed.clone());
        Ok(removed)
    }
    async fn for_users(&self, users: &[UserId]) -> Result<Vec<ConnectionRecord>, StoreError> {
        let unseen = lock(&self.unseen).clone();
        let mut out: Vec<ConnectionRecord> = self
            .inner
            .for_users(users)
            .await?
            .into_iter()
            .filter(|c| !unseen.contains(&c.connection_id))
            .collect();
        out.extend(
            lock(&self.ghosts)
                .iter()
                .filter(|g| users.contains(&g.user_id))
                .cloned(),
        );
        Ok(out)
    }
}

/// Rooms whose user → rooms index (`rooms_of`) does not show memberships
/// added lately until [`LaggingRooms::catch_up`].
#[derive(Default)]
struct LaggingRooms {
    inner: MemoryRooms,
    unseen: Mutex<Vec<(RoomId, UserId)>>,
}

impl LaggingRooms {
    fn catch_up(&self) {
        lock(&self.unseen).clear();
    }
}

#[async_trait]
impl RoomStore for LaggingRooms {
    async fn create(&self, room: &Room, members: &[Membership]) -> Result<bool, StoreError> {
        let created = self.inner.create(room, members).await?;
        if created {
            lock(&self.unseen).extend(
                members
                    .iter()
                    .map(|m| (m.room_id.clone(), m.user_id.clone())),
            );
        }
        Ok(created)
    }
    async fn get(&self, id: &RoomId) -> Result<Option<Room>, StoreError> {
        self.inner.get(id).await
    }
    async fn get_many(&self, ids: &[RoomId]) -> Result<Vec<Room>, StoreError> {
        self.inner.get_many(ids).await
    }
    async fn membership(
        &self,
        room: &RoomId,
        user: &UserId,
    ) -> Result<Option<Membership>, StoreError> {
        self.inner.membership(room, user).await
    }
    async fn members(&self, room: &RoomId) -> Result<Vec<Membership>, StoreError> {
        self.inner.members(room).await
    }
    async fn rooms_of(&self, user: &UserId) -> Result<Vec<Membership>, StoreError> {
        let unseen = lock(&self.unseen).clone();
        Ok(self
            .inner
            .rooms_of(user)
            .await?
            .into_iter()
            .filter(|m| !unseen.contains(&(m.room_id.clone(), m.user_id.clone())))
            .collect())
    }
    async fn add_member(&self, m: &Membership) -> Result<bool, StoreError> {
        let added = self.inner.add_member(m).await?;
        if added {
            lock(&self.unseen).push((m.room_id.clone(), m.user_id.clone()));
        }
        Ok(added)
    }
    async fn remove_member(&self, room: &RoomId, user: &UserId) -> Result<bool, StoreError> {
        self.inner.remove_member(room, user).await
    }
    async fn advance_cursor(
        &self,
        room: &RoomId,
        user: &UserId,
        status: ReceiptStatus,
        seq: Seq,
    ) -> Result<bool, StoreError> {
        self.inner.advance_cursor(room, user, status, seq).await
    }
    async fn list_channels(&self, limit: usize) -> Result<Vec<Room>, StoreError> {
        self.inner.list_channels(limit).await
    }
}

on_both!(
    a_new_device_is_not_hidden_by_a_lagging_index,
    a_closed_device_is_not_kept_by_a_lagging_index,
    a_new_room_is_not_hidden_by_a_lagging_index,
);

fn ids(conns: &[ConnectionRecord]) -> Vec<String> {
    let mut v: Vec<String> = conns.iter().map(|c| c.connection_id.to_string()).collect();
    v.sort();
    v
}

async fn a_new_device_is_not_hidden_by_a_lagging_index(t: Topology) {
    let index = Arc::new(LaggingConnections::default());
    let conns = CachedConnections::new(index.clone(), t.cache_holding());
    let u = user("u");
    let (phone, laptop) = (connection("phone"), connection("laptop"));
    conns.put(&conn_record(&phone, &u, 5_000)).await.unwrap();
    index.catch_up();
    assert_eq!(
        ids(&conns.for_users(std::slice::from_ref(&u)).await.unwrap()),
        ids(&[conn_record(&phone, &u, 5_000)])
    );
    // A second device: the index does not show it yet, and that read is
    // what a fan-out right after the connect would get.
    conns.put(&conn_record(&laptop, &u, 5_000)).await.unwrap();
    let during = conns.for_users(std::slice::from_ref(&u)).await.unwrap();
    assert_eq!(during.len(), 1, "the index lags: {during:?}");
    // Once the index shows it, so does the cache.
    index.catch_up();
    let after = conns.for_users(std::slice::from_ref(&u)).await.unwrap();
    assert_eq!(
        ids(&after),
        ids(&[
            conn_record(&phone, &u, 5_000),
            conn_record(&laptop, &u, 5_000)
        ])
    );
}

async fn a_closed_device_is_not_kept_by_a_lagging_index(t: Topology) {
    let index = Arc::new(LaggingConnections::default());
    let conns = CachedConnections::new(index.clone(), t.cache_holding());
    let u = user("u");
    let (phone, laptop) = (connection("phone"), connection("laptop"));
    conns.put(&conn_record(&phone, &u, 5_000)).await.unwrap();
    conns.put(&conn_record(&laptop, &u, 5_000)).await.unwrap();
    index.catch_up();
    assert_eq!(
        conns
            .for_users(std::slice::from_ref(&u))
            .await
            .unwrap()
            .len(),
        2
    );
    conns.delete(&laptop).await.unwrap();
    assert_eq!(
        conns
            .for_users(std::slice::from_ref(&u))
            .await
            .unwrap()
            .len(),
        2,
        "the index lags"
    );
    index.catch_up();
    assert_eq!(
        ids(&conns.for_users(std::slice::from_ref(&u)).await.unwrap()),
        ids(&[conn_record(&phone, &u, 5_000)])
    );
}

async fn a_new_room_is_not_hidden_by_a_lagging_index(t: Topology) {
    let index = Arc::new(LaggingRooms::default());
    let rooms = CachedRooms::new(index.clone(), t.cache_holding());
    let (owner, u) = (user("owner"), user("u"));
    let first = room(RoomKind::Group, &owner, 1_000);
    rooms
        .create(
            &first,
            &[
                member(&first, &owner, Role::Owner),
                member(&first, &u, Role::Member),
            ],
        )
        .await
        .unwrap();
    index.catch_up();
    assert_eq!(rooms.rooms_of(&u).await.unwrap().len(), 1);
    // Added to a second room: the index does not show it yet.
    let second = room(RoomKind::Group, &owner, 2_000);
    rooms
        .create(&second, &[member(&second, &owner, Role::Owner)])
        .await
        .unwrap();
    rooms
        .add_member(&member(&second, &u, Role::Member))
        .await
        .unwrap();
    assert_eq!(rooms.rooms_of(&u).await.unwrap().len(), 1, "the index lags");
    index.catch_up();
    let mut mine: Vec<RoomId> = rooms
        .rooms_of(&u)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.room_id)
        .collect();
    mine.sort();
    let mut want = vec![first.room_id.clone(), second.room_id.clone()];
    want.sort();
    assert_eq!(mine, want);
}
