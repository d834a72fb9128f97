use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::error::StoreError;
use crate::ids::{ConnectionId, Millis, UserId};
use crate::model::ConnectionRecord;
use crate::ports::ConnectionStore;

#[derive(Default)]
struct Inner {
    by_id: HashMap<ConnectionId, ConnectionRecord>,
    by_user: HashMap<UserId, BTreeSet<ConnectionId>>,
}

/// Connections indexed by id and by user, like the table and its GSI.
#[derive(Default)]
pub struct MemoryConnections {
    inner: Mutex<Inner>,
    records_read: AtomicU64,
}

impl MemoryConnections {
    /// How many connection records lookups have returned so far: fan-out must
    /// read only the room members' connections, and tests count it.
    pub fn records_read(&self) -> u64 {
        self.records_read.load(Ordering::Relaxed)
    }

    pub fn len(&self) -> usize {
        lock(&self.inner).by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl ConnectionStore for MemoryConnections {
    async fn put(&self, conn: &ConnectionRecord) -> Result<(), StoreError> {
        let mut g = lock(&self.inner);
        if let Some(old) = g.by_id.insert(conn.connection_id.clone(), conn.clone()) {
            if old.user_id != conn.user_id {
                if let Some(set) = g.by_user.get_mut(&old.user_id) {
                    set.remove(&old.connection_id);
                }
            }
        }
        g.by_user
            .entry(conn.user_id.clone())
            .or_default()
            .insert(conn.connection_id.clone());
        Ok(())
    }

    async fn get(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        let found = lock(&self.inner).by_id.get(id).cloned();
        self.records_read
            .fetch_add(u64::from(found.is_some()), Ordering::Relaxed);
        Ok(found)
    }

    async fn touch(&self, id: &ConnectionId, expires_at: Millis) -> Result<bool, StoreError> {
        let mut g = lock(&self.inner);
        match g.by_id.get_mut(id) {
            Some(c) => {
                c.expires_at = expires_at;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        let mut g = lock(&self.inner);
        let removed = g.by_id.remove(id);
        if let Some(r) = &removed {
            let now_empty = g.by_user.get_mut(&r.user_id).map(|set| {
                set.remove(id);
                set.is_empty()
            });
            if now_empty == Some(true) {
                g.by_user.remove(&r.user_id);
            }
        }
        Ok(removed)
    }

    async fn for_users(&self, users: &[UserId]) -> Result<Vec<ConnectionRecord>, StoreError> {
        let g = lock(&self.inner);
        let out: Vec<ConnectionRecord> = users
            .iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter_map(|u| g.by_user.get(u))
            .flat_map(|ids| ids.iter().filter_map(|id| g.by_id.get(id).cloned()))
            .collect();
        self.records_read
            .fetch_add(out.len() as u64, Ordering::Relaxed);
        Ok(out)
    }
}
