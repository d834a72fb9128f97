use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use chat_core::error::StoreError;
use chat_core::ids::{RoomId, Seq, UserId};
use chat_core::model::{Membership, ReceiptStatus, Room};
use chat_core::ports::RoomStore;

use super::RedisCache;

/// The sentinel field of a loaded member/room hash (ids cannot contain `~`).
const LOADED: &str = "~";

/// A membership as a hash value: both cursors zero-padded to 20 digits first
/// (so the raise script compares them as strings), then the JSON record
/// (whose cursor fields the prefix overrides).
fn encode(m: &Membership) -> Option<String> {
    let json = serde_json::to_string(m).ok()?;
    Some(format!("{:020}{:020}{json}", m.delivered_seq, m.read_seq))
}

fn decode(v: &str) -> Option<Membership> {
    let delivered: Seq = v.get(..20)?.parse().ok()?;
    let read: Seq = v.get(20..40)?.parse().ok()?;
    let mut m: Membership = serde_json::from_str(v.get(40..)?).ok()?;
    m.delivered_seq = delivered;
    m.read_seq = read;
    Some(m)
}

/// Caches room meta, room → members and user → rooms. Membership changes
/// delete the lists they touch; cursor advances raise the cursor inside the
/// cached lists instead (see the module docs).
#[derive(Clone)]
pub struct CachedRooms {
    inner: Arc<dyn RoomStore>,
    cache: RedisCache,
}

impl CachedRooms {
    pub fn new(inner: Arc<dyn RoomStore>, cache: RedisCache) -> Self {
        Self { inner, cache }
    }

    fn room_key(&self, r: &RoomId) -> String {
        self.cache.key("room", r.as_str())
    }

    fn members_key(&self, r: &RoomId) -> String {
        self.cache.key("members", r.as_str())
    }

    fn rooms_key(&self, u: &UserId) -> String {
        self.cache.key("urooms", u.as_str())
    }

    /// A membership list from its hash, or from `load` (then cached).
    async fn list<F, Fut>(
        &self,
        key: String,
        field: fn(&Membership) -> String,
        load: F,
    ) -> Result<Vec<Membership>, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<Membership>, StoreError>>,
    {
        let Some((fields, gen)) = self.cache.read_hash(&key).await else {
            return load().await;
        };
        if fields.iter().any(|(f, _)| f == LOADED) {
            let decoded: Option<Vec<Membership>> = fields
                .iter()
                .filter(|(f, _)| f != LOADED)
                .map(|(_, v)| decode(v))
                .collect();
            if let Some(list) = decoded {
                return Ok(list);
            }
        }
        let list = load().await?;
        let fields: Option<Vec<(String, String)>> = list
            .iter()
            .map(|m| encode(m).map(|v| (field(m), v)))
            .collect();
        if let Some(fields) = fields {
            let ttl = self.cache.ttl().memberships;
            self.cache.fill_hash(&key, &gen, fields, ttl).await;
        }
        Ok(list)
    }

    async fn membership_changed(&self, room: &RoomId, users: &[&UserId]) {
        // user → rooms comes from the index: held until it shows the change.
        let lists: Vec<String> = users.iter().map(|u| self.rooms_key(u)).collect();
        self.cache
            .invalidate_held(&[self.members_key(room)], &lists)
            .await;
    }
}

#[async_trait]
impl RoomStore for CachedRooms {
    async fn create(&self, room: &Room, members: &[Membership]) -> Result<bool, StoreError> {
        let created = self.inner.create(room, members).await?;
        if created {
            let stale = [
                self.room_key(&room.room_id),
                self.members_key(&room.room_id),
            ];
            let lists: Vec<String> = members.iter().map(|m| self.rooms_key(&m.user_id)).collect();
            self.cache.invalidate_held(&stale, &lists).await;
        }
        Ok(created)
    }

    async fn get(&self, id: &RoomId) -> Result<Option<Room>, StoreError> {
        let ttl = self.cache.ttl().rooms;
        let mut out = self
            .cache
            .cached(&[self.room_key(id)], ttl, |_| async {
                Ok(vec![self.inner.get(id).await?])
            })
            .await?;
        Ok(out.pop().flatten())
    }

    async fn get_many(&self, ids: &[RoomId]) -> Result<Vec<Room>, StoreError> {
        let distinct: Vec<RoomId> = ids
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let keys: Vec<String> = distinct.iter().map(|r| self.room_key(r)).collect();
        let ttl = self.cache.ttl().rooms;
        let found = self
            .cache
            .cached(&keys, ttl, |misses| {
                let wanted: Vec<RoomId> = misses.iter().map(|&i| distinct[i].clone()).collect();
                async move {
                    let mut got: HashMap<RoomId, Room> = self
                        .inner
                        .get_many(&wanted)
                        .await?
                        .into_iter()
                        .map(|r| (r.room_id.clone(), r))
                        .collect();
                    Ok(wanted.iter().map(|r| got.remove(r)).collect())
                }
            })
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn membership(
        &self,
        room: &RoomId,
        user: &UserId,
    ) -> Result<Option<Membership>, StoreError> {
        // Served from the room's member hash when it is loaded; otherwise one
        // GetItem (a single membership does not load the whole list).
        if let Some(vals) = self
            .cache
            .read_fields(&self.members_key(room), &[user.as_str()])
            .await
        {
            if let [Some(_), found] = vals.as_slice() {
                match found.as_deref().map(decode) {
                    None => return Ok(None),
                    Some(Some(m)) => return Ok(Some(m)),
                    Some(None) => {}
                }
            }
        }
        self.inner.membership(room, user).await
    }

    async fn members(&self, room: &RoomId) -> Result<Vec<Membership>, StoreError> {
        let mut list = self
            .list(
                self.members_key(room),
                |m| m.user_id.to_string(),
                || self.inner.members(room),
            )
            .await?;
        list.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        Ok(list)
    }

    async fn rooms_of(&self, user: &UserId) -> Result<Vec<Membership>, StoreError> {
        let mut list = self
            .list(
                self.rooms_key(user),
                |m| m.room_id.to_string(),
                || self.inner.rooms_of(user),
            )
            .await?;
        list.sort_by(|a, b| a.room_id.cmp(&b.room_id));
        Ok(list)
    }

    async fn add_member(&self, m: &Membership) -> Result<bool, StoreError> {
        let added = self.inner.add_member(m).await?;
        if added {
            self.membership_changed(&m.room_id, &[&m.user_id]).await;
        }
        Ok(added)
    }

    async fn remove_member(&self, room: &RoomId, user: &UserId) -> Result<bool, StoreError> {
        let removed = self.inner.remove_member(room, user).await?;
        if removed {
            self.membership_changed(room, &[user]).await;
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
        let moved = self.inner.advance_cursor(room, user, status, seq).await?;
        if moved {
            self.cache
                .raise(
                    &self.members_key(room),
                    &self.rooms_key(user),
                    user.as_str(),
                    room.as_str(),
                    seq,
                    status == ReceiptStatus::Read,
                )
                .await;
        }
        Ok(moved)
    }

    async fn list_channels(&self, limit: usize) -> Result<Vec<Room>, StoreError> {
        self.inner.list_channels(limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::contract;
    use chat_core::model::{Role, RoomKind};

    #[test]
    fn hash_values_round_trip_and_lead_with_sortable_cursors() {
        let u = contract::user("u");
        let r = contract::room(RoomKind::Group, &u, 1);
        let mut m = contract::member(&r, &u, Role::Owner);
        m.delivered_seq = 12;
        m.read_seq = 9;
        let v = encode(&m).unwrap();
        assert_eq!(&v[..40], "0000000000000000001200000000000000000009");
        assert_eq!(decode(&v), Some(m));
        assert_eq!(decode("garbage"), None);
    }
}
