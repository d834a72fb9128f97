//! Devices and notification policy over REST, through
//! [`crate::authz::authorize_account`] and, for a room's level,
//! [`crate::authz::authorize`].

use super::Chat;
use crate::auth::Identity;
use crate::authz::{authorize_account, AccountAction, Action};
use crate::error::ChatError;
use crate::ids::RoomId;
use crate::notify::{Device, DeviceId, NotifyPolicy, PushSubscription};
use crate::protocol::rest::{
    DeviceList, DeviceView, RegisterDeviceRequest, RoomNotifyLevel, RoomNotifyRequest,
};

fn view(d: Device) -> DeviceView {
    DeviceView {
        device_id: d.device_id.to_string(),
        endpoint: d.subscription.endpoint,
        created_at: d.created_at,
    }
}

impl Chat {
    /// Registers (or re-registers) a Web Push subscription of the caller.
    /// `true` when it is new.
    pub async fn register_device(
        &self,
        actor: &Identity,
        req: RegisterDeviceRequest,
    ) -> Result<(bool, DeviceView), ChatError> {
        let me = &actor.user_id;
        authorize_account(me, AccountAction::Devices, me)?;
        let subscription = PushSubscription::parse(
            &req.endpoint,
            &req.keys.p256dh,
            &req.keys.auth,
            self.limits.push_endpoints,
        )?;
        let device_id = subscription.device_id();
        let existing = self.notify.devices(me).await?;
        let new = !existing.iter().any(|d| d.device_id == device_id);
        let device = Device {
            device_id,
            user_id: me.clone(),
            subscription,
            created_at: self.clock.now(),
        };
        if !self.notify.put_device(&device).await? {
            return Err(ChatError::Conflict(format!(
                "at most {} devices per user: remove one first",
                crate::notify::MAX_DEVICES
            )));
        }
        tracing::info!(device_id = %device.device_id, new, "push device registered");
        Ok((new, view(device)))
    }

    pub async fn list_devices(&self, actor: &Identity) -> Result<DeviceList, ChatError> {
        let me = &actor.user_id;
        authorize_account(me, AccountAction::Devices, me)?;
        let devices = self.notify.devices(me).await?;
        Ok(DeviceList {
            devices: devices.into_iter().map(view).collect(),
        })
    }

    pub async fn remove_device(&self, actor: &Identity, device: &DeviceId) -> Result<(), ChatError> {
        let me = &actor.user_id;
        authorize_account(me, AccountAction::Devices, me)?;
        if self.notify.remove_device(me, device).await? {
            Ok(())
        } else {
            Err(ChatError::NotFound("device"))
        }
    }

    pub async fn notify_policy(&self, actor: &Identity) -> Result<NotifyPolicy, ChatError> {
        let me = &actor.user_id;
        authorize_account(me, AccountAction::NotifyPolicy, me)?;
        Ok(self.notify.policy(me).await?)
    }

    pub async fn put_notify_policy(
        &self,
        actor: &Identity,
        policy: NotifyPolicy,
    ) -> Result<NotifyPolicy, ChatError> {
        let me = &actor.user_id;
        authorize_account(me, AccountAction::NotifyPolicy, me)?;
        policy.validate()?;
        self.notify.put_policy(me, &policy).await?;
        Ok(policy)
    }

    /// Sets how one room notifies the caller (members only).
    pub async fn set_room_notify(
        &self,
        actor: &Identity,
        room_id: &RoomId,
        req: RoomNotifyRequest,
    ) -> Result<NotifyPolicy, ChatError> {
        let me = &actor.user_id;
        self.authorized_room(me, room_id, Action::Notify).await?;
        let mut policy = self.notify.policy(me).await?;
        policy.muted_rooms.remove(room_id);
        policy.mentions_only_rooms.remove(room_id);
        match req.level {
            RoomNotifyLevel::All => {}
            RoomNotifyLevel::Mentions => {
                policy.mentions_only_rooms.insert(room_id.clone());
            }
            RoomNotifyLevel::Muted => {
                policy.muted_rooms.insert(room_id.clone());
            }
        }
        policy.validate()?;
        self.notify.put_policy(me, &policy).await?;
        Ok(policy)
    }
}
