use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::error::StoreError;
use crate::ids::{Millis, RoomId, UserId};
use crate::notify::{Device, DeviceId, NotifyPolicy, MAX_DEVICES};
use crate::ports::NotifyStore;

/// An open coalescing window: when it opened, and the messages counted in
/// it without a notification.
#[derive(Clone, Copy, Debug)]
struct Window {
    opened_at: Millis,
    pending: u32,
}

#[derive(Default)]
struct State {
    devices: HashMap<UserId, BTreeMap<DeviceId, Device>>,
    policies: HashMap<UserId, NotifyPolicy>,
    windows: HashMap<(UserId, RoomId), Window>,
}

#[derive(Default)]
pub struct MemoryNotify {
    inner: Mutex<State>,
}

#[async_trait]
impl NotifyStore for MemoryNotify {
    async fn put_device(&self, device: &Device) -> Result<bool, StoreError> {
        let mut g = lock(&self.inner);
        let mine = g.devices.entry(device.user_id.clone()).or_default();
        if !mine.contains_key(&device.device_id) && mine.len() >= MAX_DEVICES {
            return Ok(false);
        }
        mine.insert(device.device_id.clone(), device.clone());
        Ok(true)
    }

    async fn devices(&self, user: &UserId) -> Result<Vec<Device>, StoreError> {
        Ok(lock(&self.inner)
            .devices
            .get(user)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn devices_of(&self, users: &[UserId]) -> Result<Vec<Device>, StoreError> {
        let g = lock(&self.inner);
        let mut seen = std::collections::BTreeSet::new();
        Ok(users
            .iter()
            .filter(|u| seen.insert(*u))
            .filter_map(|u| g.devices.get(u))
            .flat_map(|m| m.values().cloned())
            .collect())
    }

    async fn remove_device(&self, user: &UserId, device: &DeviceId) -> Result<bool, StoreError> {
        Ok(lock(&self.inner)
            .devices
            .get_mut(user)
            .is_some_and(|m| m.remove(device).is_some()))
    }

    async fn policy(&self, user: &UserId) -> Result<NotifyPolicy, StoreError> {
        Ok(lock(&self.inner)
            .policies
            .get(user)
            .cloned()
            .unwrap_or_default())
    }

    async fn put_policy(&self, user: &UserId, policy: &NotifyPolicy) -> Result<(), StoreError> {
        lock(&self.inner)
            .policies
            .insert(user.clone(), policy.clone());
        Ok(())
    }

    async fn claim(
        &self,
        user: &UserId,
        room: &RoomId,
        n: u32,
        now: Millis,
        window_ms: Millis,
    ) -> Result<Option<u32>, StoreError> {
        let mut g = lock(&self.inner);
        let w = g
            .windows
            .entry((user.clone(), room.clone()))
            .or_insert(Window {
                opened_at: Millis::MIN,
                pending: 0,
            });
        if w.opened_at <= now.saturating_sub(window_ms) {
            let count = w.pending.saturating_add(n);
            *w = Window {
                opened_at: now,
                pending: 0,
            };
            Ok(Some(count))
        } else {
            w.pending = w.pending.saturating_add(n);
            Ok(None)
        }
    }
}
