use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::error::StoreError;
use crate::ids::{RoomId, Seq, UserId};
use crate::model::{Membership, ReceiptStatus, Room, RoomKind};
use crate::ports::RoomStore;

#[derive(Default)]
struct Inner {
    rooms: HashMap<RoomId, Room>,
    members: HashMap<RoomId, BTreeMap<UserId, Membership>>,
    by_user: HashMap<UserId, BTreeSet<RoomId>>,
}

#[derive(Default)]
pub struct MemoryRooms {
    inner: Mutex<Inner>,
}

impl Inner {
    fn insert_member(&mut self, m: &Membership) -> bool {
        let room = self.members.entry(m.room_id.clone()).or_default();
        if room.contains_key(&m.user_id) {
            return false;
        }
        room.insert(m.user_id.clone(), m.clone());
        self.by_user
            .entry(m.user_id.clone())
            .or_default()
            .insert(m.room_id.clone());
        true
    }
}

#[async_trait]
impl RoomStore for MemoryRooms {
    async fn create(&self, room: &Room, members: &[Membership]) -> Result<bool, StoreError> {
        let mut g = lock(&self.inner);
        if g.rooms.contains_key(&room.room_id) {
            return Ok(false);
        }
        g.rooms.insert(room.room_id.clone(), room.clone());
        for m in members {
            g.insert_member(m);
        }
        Ok(true)
    }

    async fn get(&self, id: &RoomId) -> Result<Option<Room>, StoreError> {
        Ok(lock(&self.inner).rooms.get(id).cloned())
    }

    async fn get_many(&self, ids: &[RoomId]) -> Result<Vec<Room>, StoreError> {
        let g = lock(&self.inner);
        Ok(ids
            .iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter_map(|id| g.rooms.get(id).cloned())
            .collect())
    }

    async fn membership(
        &self,
        room: &RoomId,
        user: &UserId,
    ) -> Result<Option<Membership>, StoreError> {
        Ok(lock(&self.inner)
            .members
            .get(room)
            .and_then(|m| m.get(user))
            .cloned())
    }

    async fn members(&self, room: &RoomId) -> Result<Vec<Membership>, StoreError> {
        Ok(lock(&self.inner)
            .members
            .get(room)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn rooms_of(&self, user: &UserId) -> Result<Vec<Membership>, StoreError> {
        let g = lock(&self.inner);
        Ok(g.by_user
            .get(user)
            .map(|rooms| {
                rooms
                    .iter()
                    .filter_map(|r| g.members.get(r).and_then(|m| m.get(user)).cloned())
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn add_member(&self, m: &Membership) -> Result<bool, StoreError> {
        Ok(lock(&self.inner).insert_member(m))
    }

    async fn remove_member(&self, room: &RoomId, user: &UserId) -> Result<bool, StoreError> {
        let mut g = lock(&self.inner);
        let removed = g
            .members
            .get_mut(room)
            .and_then(|m| m.remove(user))
            .is_some();
        if removed {
            if let Some(set) = g.by_user.get_mut(user) {
                set.remove(room);
            }
        }
        Ok(removed)
    }

    async fn advance_cursor(
        &self,
        room: &RoomId,
        user: &UserId,
        status: ReceiptStatus,
        seq: Seq,
    ) -> Result<bool, StoreError> {
        let mut g = lock(&self.inner);
        let Some(m) = g.members.get_mut(room).and_then(|m| m.get_mut(user)) else {
            return Ok(false);
        };
        let moved = match status {
            ReceiptStatus::Delivered => seq > m.delivered_seq,
            ReceiptStatus::Read => seq > m.read_seq,
        };
        if status == ReceiptStatus::Read {
            m.read_seq = m.read_seq.max(seq);
        }
        m.delivered_seq = m.delivered_seq.max(seq);
        Ok(moved)
    }

    async fn list_channels(&self, limit: usize) -> Result<Vec<Room>, StoreError> {
        let g = lock(&self.inner);
        let mut channels: Vec<Room> = g
            .rooms
            .values()
            .filter(|r| r.kind == RoomKind::Channel)
            .cloned()
            .collect();
        channels.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.room_id.cmp(&a.room_id))
        });
        channels.truncate(limit);
        Ok(channels)
    }
}
