use std::collections::BTreeSet;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::Serialize;

use super::lock;
use crate::error::WebPushError;
use crate::ids::UserId;
use crate::notify::{Device, DeviceId, Payload};
use crate::ports::WebPush;

/// One notification the outbox took: what the device would decrypt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub endpoint: String,
    #[serde(flatten)]
    pub payload: Payload,
}

/// The local platform's push service: keeps every notification (the
/// plaintext its device would read) for `GET /dev/notifications`, and
/// answers "gone" for endpoints marked so, as a real push service answers
/// 410 for an expired subscription.
#[derive(Default)]
pub struct MemoryOutbox {
    sent: Mutex<Vec<OutboxEntry>>,
    gone: Mutex<BTreeSet<String>>,
}

impl MemoryOutbox {
    pub fn sent(&self) -> Vec<OutboxEntry> {
        lock(&self.sent).clone()
    }

    /// From now on, sending to `endpoint` answers [`WebPushError::Gone`].
    pub fn mark_gone(&self, endpoint: &str) {
        lock(&self.gone).insert(endpoint.to_owned());
    }
}

#[async_trait]
impl WebPush for MemoryOutbox {
    async fn send(&self, device: &Device, payload: &Payload) -> Result<(), WebPushError> {
        let Some(subscription) = device.web_push() else {
            return Err(WebPushError::Transient("not a Web Push device".into()));
        };
        if lock(&self.gone).contains(&subscription.endpoint) {
            return Err(WebPushError::Gone);
        }
        lock(&self.sent).push(OutboxEntry {
            user_id: device.user_id.clone(),
            device_id: device.device_id.clone(),
            endpoint: subscription.endpoint.clone(),
            payload: payload.clone(),
        });
        Ok(())
    }
}
