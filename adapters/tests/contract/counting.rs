//! Decorators that count the calls reaching a store and the items it
//! returned, per method.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chat_core::error::StoreError;
use chat_core::ids::{ConnectionId, Millis, RoomId, Seq, UserId};
use chat_core::model::{ConnectionRecord, Membership, ReceiptStatus, Room};
use chat_core::ports::{ConnectionStore, RoomStore};

/// Calls and items returned, per port method.
#[derive(Default)]
pub struct Counts(Mutex<BTreeMap<&'static str, (u64, u64)>>);

impl Counts {
    pub fn note(&self, method: &'static str, items: usize) {
        let mut g = self.0.lock().unwrap();
        let e = g.entry(method).or_default();
        e.0 += 1;
        e.1 += items as u64;
    }

    pub fn calls(&self, method: &str) -> u64 {
        self.0.lock().unwrap().get(method).map_or(0, |c| c.0)
    }

    pub fn take(&self) -> BTreeMap<&'static str, (u64, u64)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

pub struct CountingConnections(pub Arc<dyn ConnectionStore>, pub Arc<Counts>);
pub struct CountingRooms(pub Arc<dyn RoomStore>, pub Arc<Counts>);

#[async_trait]
impl ConnectionStore for CountingConnections {
    async fn put(&self, c: &ConnectionRecord) -> Result<(), StoreError> {
        self.1.note("connections.put", 0);
        self.0.put(c).await
    }
    async fn get(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        let r = self.0.get(id).await?;
        self.1.note("connections.get", r.iter().len());
        Ok(r)
    }
    async fn touch(&self, id: &ConnectionId, at: Millis) -> Result<bool, StoreError> {
        self.1.note("connections.touch", 0);
        self.0.touch(id, at).await
    }
    async fn delete(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        self.1.note("connections.delete", 0);
        self.0.delete(id).await
    }
    async fn for_users(&self, users: &[UserId]) -> Result<Vec<ConnectionRecord>, StoreError> {
        let r = self.0.for_users(users).await?;
        self.1.note("connections.for_users", r.len());
        Ok(r)
    }
}

#[async_trait]
impl RoomStore for CountingRooms {
    async fn create(&self, r: &Room, m: &[Membership]) -> Result<bool, StoreError> {
        self.1.note("rooms.create", 0);
        self.0.create(r, m).await
    }
    async fn get(&self, id: &RoomId) -> Result<Option<Room>, StoreError> {
        let r = self.0.get(id).await?;
        self.1.note("rooms.get", r.iter().len());
        Ok(r)
    }
    async fn get_many(&self, ids: &[RoomId]) -> Result<Vec<Room>, StoreError> {
        let r = self.0.get_many(ids).await?;
        self.1.note("rooms.get_many", r.len());
        Ok(r)
    }
    async fn membership(&self, r: &RoomId, u: &UserId) -> Result<Option<Membership>, StoreError> {
        let m = self.0.membership(r, u).await?;
        self.1.note("rooms.membership", m.iter().len());
        Ok(m)
    }
    async fn members(&self, r: &RoomId) -> Result<Vec<Membership>, StoreError> {
        let m = self.0.members(r).await?;
        self.1.note("rooms.members", m.len());
        Ok(m)
    }
    async fn rooms_of(&self, u: &UserId) -> Result<Vec<Membership>, StoreError> {
        let m = self.0.rooms_of(u).await?;
        self.1.note("rooms.rooms_of", m.len());
        Ok(m)
    }
    async fn add_member(&self, m: &Membership) -> Result<bool, StoreError> {
        self.1.note("rooms.add_member", 0);
        self.0.add_member(m).await
    }
    async fn remove_member(&self, r: &RoomId, u: &UserId) -> Result<bool, StoreError> {
        self.1.note("rooms.remove_member", 0);
        self.0.remove_member(r, u).await
    }
    async fn advance_cursor(
        &self,
        r: &RoomId,
        u: &UserId,
        s: ReceiptStatus,
        q: Seq,
    ) -> Result<bool, StoreError> {
        self.1.note("rooms.advance_cursor", 0);
        self.0.advance_cursor(r, u, s, q).await
    }
    async fn list_channels(&self, limit: usize) -> Result<Vec<Room>, StoreError> {
        let r = self.0.list_channels(limit).await?;
        self.1.note("rooms.list_channels", r.len());
        Ok(r)
    }
}
