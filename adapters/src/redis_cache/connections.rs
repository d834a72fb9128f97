use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use chat_core::error::StoreError;
use chat_core::ids::{ConnectionId, Millis, UserId};
use chat_core::model::ConnectionRecord;
use chat_core::ports::ConnectionStore;

use super::RedisCache;

/// Caches user → connections (the fan-out and presence lookup; empty lists
/// included, since most members of a room are offline) and connection →
/// record (resolved on every frame). Every change deletes both entries.
#[derive(Clone)]
pub struct CachedConnections {
    inner: Arc<dyn ConnectionStore>,
    cache: RedisCache,
}

impl CachedConnections {
    pub fn new(inner: Arc<dyn ConnectionStore>, cache: RedisCache) -> Self {
        Self { inner, cache }
    }

    fn conn_key(&self, id: &ConnectionId) -> String {
        self.cache.key("conn", id.as_str())
    }

    fn user_key(&self, user: &UserId) -> String {
        self.cache.key("uconns", user.as_str())
    }

    /// The cached record of `id`, if Redis has it.
    async fn cached_record(&self, id: &ConnectionId) -> Option<ConnectionRecord> {
        let seen = self.cache.read(&[self.conn_key(id)]).await?;
        serde_json::from_str(seen.first()?.value.as_deref()?).ok()
    }
}

#[async_trait]
impl ConnectionStore for CachedConnections {
    async fn put(&self, conn: &ConnectionRecord) -> Result<(), StoreError> {
        self.inner.put(conn).await?;
        let mut lists = vec![self.user_key(&conn.user_id)];
        // A record re-bound to another user leaves that user's list stale too.
        if let Some(old) = self.cached_record(&conn.connection_id).await {
            if old.user_id != conn.user_id {
                lists.push(self.user_key(&old.user_id));
            }
        }
        // Lists come from the index: held until it shows this write.
        self.cache
            .invalidate_held(&[self.conn_key(&conn.connection_id)], &lists)
            .await;
        Ok(())
    }

    async fn get(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        let keys = [self.conn_key(id)];
        let ttl = self.cache.ttl().connections;
        let mut out = self
            .cache
            .cached(&keys, ttl, |_| async {
                Ok(vec![self.inner.get(id).await?])
            })
            .await?;
        Ok(out.pop().flatten())
    }

    async fn touch(&self, id: &ConnectionId, expires_at: Millis) -> Result<bool, StoreError> {
        let moved = self.inner.touch(id, expires_at).await?;
        if moved && self.cache.is_healthy() {
            // The user's list holds the old expiry: find the user (cache
            // first, the store otherwise) and drop both entries.
            let user = match self.cached_record(id).await {
                Some(r) => Some(r.user_id),
                None => self.inner.get(id).await?.map(|r| r.user_id),
            };
            let lists: Vec<String> = user.iter().map(|u| self.user_key(u)).collect();
            self.cache
                .invalidate_held(&[self.conn_key(id)], &lists)
                .await;
        }
        Ok(moved)
    }

    async fn delete(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        let removed = self.inner.delete(id).await?;
        let lists: Vec<String> = removed.iter().map(|r| self.user_key(&r.user_id)).collect();
        self.cache
            .invalidate_held(&[self.conn_key(id)], &lists)
            .await;
        Ok(removed)
    }

    async fn for_users(&self, users: &[UserId]) -> Result<Vec<ConnectionRecord>, StoreError> {
        let distinct: Vec<UserId> = users
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let keys: Vec<String> = distinct.iter().map(|u| self.user_key(u)).collect();
        let ttl = self.cache.ttl().connections;
        let lists = self
            .cache
            .cached(&keys, ttl, |misses| {
                let wanted: Vec<UserId> = misses.iter().map(|&i| distinct[i].clone()).collect();
                async move {
                    let mut by_user: HashMap<UserId, Vec<ConnectionRecord>> = HashMap::new();
                    for c in self.inner.for_users(&wanted).await? {
                        by_user.entry(c.user_id.clone()).or_default().push(c);
                    }
                    Ok(wanted
                        .iter()
                        .map(|u| Some(by_user.remove(u).unwrap_or_default()))
                        .collect())
                }
            })
            .await?;
        Ok(lists.into_iter().flatten().flatten().collect())
    }
}
