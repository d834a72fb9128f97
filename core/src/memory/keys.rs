use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::e2ee::{DeviceId, DeviceKey, MAX_DEVICES_PER_USER};
use crate::error::StoreError;
use crate::ids::{ClientMsgId, RoomId, UserId};
use crate::ports::KeyStore;

/// Device keys per user, and each room's claimed ciphertexts.
#[derive(Default)]
pub struct MemoryKeys {
    keys: Mutex<HashMap<UserId, BTreeMap<DeviceId, DeviceKey>>>,
    seals: Mutex<HashMap<(RoomId, String), (UserId, ClientMsgId)>>,
}

impl MemoryKeys {
    /// How many ciphertexts are claimed (for tests).
    pub fn seal_count(&self) -> usize {
        lock(&self.seals).len()
    }
}

#[async_trait]
impl KeyStore for MemoryKeys {
    async fn put_key(&self, key: &DeviceKey) -> Result<bool, StoreError> {
        let mut g = lock(&self.keys);
        let mine = g.entry(key.user_id.clone()).or_default();
        if !mine.contains_key(&key.device_id) && mine.len() >= MAX_DEVICES_PER_USER {
            return Ok(false);
        }
        mine.insert(key.device_id.clone(), key.clone());
        Ok(true)
    }

    async fn keys(&self, user: &UserId) -> Result<Vec<DeviceKey>, StoreError> {
        Ok(lock(&self.keys)
            .get(user)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn delete_key(&self, user: &UserId, device: &DeviceId) -> Result<bool, StoreError> {
        Ok(lock(&self.keys)
            .get_mut(user)
            .is_some_and(|m| m.remove(device).is_some()))
    }

    async fn claim_seal(
        &self,
        room: &RoomId,
        digest: &str,
        sender: &UserId,
        client_msg_id: &ClientMsgId,
    ) -> Result<bool, StoreError> {
        let mut g = lock(&self.seals);
        let owner = g
            .entry((room.clone(), digest.to_owned()))
            .or_insert_with(|| (sender.clone(), client_msg_id.clone()));
        Ok(owner.0 == *sender && owner.1 == *client_msg_id)
    }
}
