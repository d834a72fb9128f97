use std::collections::BTreeSet;
use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chat_core::error::StoreError;
use chat_core::ids::{Millis, UserId};
use chat_core::model::{Profile, ProfilePatch};
use chat_core::ports::ProfileStore;

use super::RedisCache;

/// Caches profiles; `create_if_absent` and `update` delete the entry.
#[derive(Clone)]
pub struct CachedProfiles {
    inner: Arc<dyn ProfileStore>,
    cache: RedisCache,
}

impl CachedProfiles {
    pub fn new(inner: Arc<dyn ProfileStore>, cache: RedisCache) -> Self {
        Self { inner, cache }
    }

    fn key(&self, user: &UserId) -> String {
        self.cache.key("profile", user.as_str())
    }
}

#[async_trait]
impl ProfileStore for CachedProfiles {
    async fn get(&self, user: &UserId) -> Result<Option<Profile>, StoreError> {
        let ttl = self.cache.ttl().profiles;
        let mut out = self
            .cache
            .cached(&[self.key(user)], ttl, |_| async {
                Ok(vec![self.inner.get(user).await?])
            })
            .await?;
        Ok(out.pop().flatten())
    }

    async fn get_many(&self, users: &[UserId]) -> Result<Vec<Profile>, StoreError> {
        let distinct: Vec<UserId> = users
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let keys: Vec<String> = distinct.iter().map(|u| self.key(u)).collect();
        let ttl = self.cache.ttl().profiles;
        let found = self
            .cache
            .cached(&keys, ttl, |misses| {
                let wanted: Vec<UserId> = misses.iter().map(|&i| distinct[i].clone()).collect();
                async move {
                    let mut got: HashMap<UserId, Profile> = self
                        .inner
                        .get_many(&wanted)
                        .await?
                        .into_iter()
                        .map(|p| (p.user_id.clone(), p))
                        .collect();
                    Ok(wanted.iter().map(|u| got.remove(u)).collect())
                }
            })
            .await?;
        let by_user: HashMap<&UserId, Profile> = distinct
            .iter()
            .zip(found)
            .filter_map(|(u, p)| p.map(|p| (u, p)))
            .collect();
        // In the order asked, like the stores.
        Ok(users
            .iter()
            .filter_map(|u| by_user.get(u).cloned())
            .collect())
    }

    async fn create_if_absent(&self, p: &Profile) -> Result<Profile, StoreError> {
        let stored = self.inner.create_if_absent(p).await?;
        self.cache.invalidate(&[self.key(&p.user_id)]).await;
        Ok(stored)
    }

    async fn update(
        &self,
        user: &UserId,
        patch: &ProfilePatch,
        now: Millis,
    ) -> Result<Option<Profile>, StoreError> {
        let updated = self.inner.update(user, patch, now).await?;
        if updated.is_some() {
            self.cache.invalidate(&[self.key(user)]).await;
        }
        Ok(updated)
    }
}
