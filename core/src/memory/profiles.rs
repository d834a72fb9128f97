use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::error::StoreError;
use crate::ids::{Millis, UserId};
use crate::model::{Profile, ProfilePatch};
use crate::ports::ProfileStore;

#[derive(Default)]
pub struct MemoryProfiles {
    inner: Mutex<HashMap<UserId, Profile>>,
}

#[async_trait]
impl ProfileStore for MemoryProfiles {
    async fn get(&self, user: &UserId) -> Result<Option<Profile>, StoreError> {
        Ok(lock(&self.inner).get(user).cloned())
    }

    async fn get_many(&self, users: &[UserId]) -> Result<Vec<Profile>, StoreError> {
        let g = lock(&self.inner);
        Ok(users.iter().filter_map(|u| g.get(u).cloned()).collect())
    }

    async fn create_if_absent(&self, p: &Profile) -> Result<Profile, StoreError> {
        Ok(lock(&self.inner)
            .entry(p.user_id.clone())
            .or_insert_with(|| p.clone())
            .clone())
    }

    async fn update(
        &self,
        user: &UserId,
        patch: &ProfilePatch,
        now: Millis,
    ) -> Result<Option<Profile>, StoreError> {
        let mut g = lock(&self.inner);
        Ok(g.get_mut(user).map(|p| {
            if let Some(name) = &patch.display_name {
                p.display_name = name.clone();
            }
            if let Some(avatar) = &patch.avatar_url {
                p.avatar_url = avatar.clone();
            }
            p.updated_at = now;
            p.clone()
        }))
    }
}
