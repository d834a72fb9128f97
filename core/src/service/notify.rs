//! Offline notifications: devices and policy over REST, through
//! [`crate::authz::authorize_account`] and, for a room's level,
//! [`crate::authz::authorize`]; and the persist worker's delivery
//! ([`Chat::notify_offline`]).

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt};
use tracing::{info, warn, Instrument};

use super::Chat;
use crate::auth::Identity;
use crate::authz::{authorize_account, authorize_peer, AccountAction, Action, PeerAction};
use crate::block::{Between, Relations};
use crate::error::{ChatError, WebPushError};
use crate::ids::{RoomId, UserId};
use crate::metrics::Metric;
use crate::mobile::{sns_message, MobileToken, Registration};
use crate::model::Message;
use crate::notify::{Channel, Device, DeviceId, NotifyPolicy, Payload};
use crate::protocol::rest::{
    DeviceList, DeviceView, RegisterDeviceRequest, RoomNotifyLevel, RoomNotifyRequest,
};

fn view(d: Device) -> DeviceView {
    let (kind, endpoint) = match d.channel {
        Channel::WebPush { subscription } => ("webpush".to_owned(), subscription.endpoint),
        Channel::Mobile { mobile } => (
            mobile.token.platform.as_str().to_owned(),
            mobile.token.display(),
        ),
    };
    DeviceView {
        device_id: d.device_id.to_string(),
        kind,
        endpoint,
        created_at: d.created_at,
    }
}

impl Chat {
    /// Registers (or re-registers) a Web Push subscription or a mobile
    /// token of the caller ([`Registration::parse`]). `true` when it is new.
    /// A mobile token gets its push endpoint first (SNS), so a stored
    /// mobile device always has one.
    pub async fn register_device(
        &self,
        actor: &Identity,
        req: RegisterDeviceRequest,
    ) -> Result<(bool, DeviceView), ChatError> {
        let me = &actor.user_id;
        authorize_account(me, AccountAction::Devices, me)?;
        let registration = Registration::parse(&req, self.limits.push_endpoints)?;
        let device_id = match &registration {
            Registration::WebPush(s) => s.device_id(),
            Registration::Mobile(t) => t.device_id(),
        };
        let existing = self.notify.devices(me).await?;
        let new = !existing.iter().any(|d| d.device_id == device_id);
        let channel = match registration {
            Registration::WebPush(subscription) => Channel::WebPush { subscription },
            Registration::Mobile(token) => Channel::Mobile {
                mobile: crate::mobile::MobileEndpoint {
                    endpoint_arn: self.mobile_endpoint(&token, me).await?,
                    token,
                },
            },
        };
        let device = Device {
            device_id,
            user_id: me.clone(),
            channel,
            created_at: self.clock.now(),
        };
        if !self.notify.put_device(&device).await? {
            // Only a new device meets the limit: its endpoint is nobody's.
            if let (Some(m), Some(mobile)) = (&self.mobile, device.mobile()) {
                if let Err(e) = m.delete_endpoint(&mobile.endpoint_arn).await {
                    warn!(error = %crate::error::chain(&e), "could not delete the endpoint of a refused device");
                }
            }
            return Err(ChatError::Conflict(format!(
                "at most {} devices per user: remove one first",
                crate::notify::MAX_DEVICES
            )));
        }
        tracing::info!(device_id = %device.device_id, new, "push device registered");
        Ok((new, view(device)))
    }

    /// The push endpoint of a mobile token: refused (409) when this
    /// deployment has no platform application for its kind.
    async fn mobile_endpoint(&self, token: &MobileToken, me: &UserId) -> Result<String, ChatError> {
        match &self.mobile {
            Some(m) if m.configured(token.platform) => Ok(m.create_endpoint(token, me).await?),
            _ => Err(crate::error::MobilePushError::NotConfigured(token.platform).into()),
        }
    }

    pub async fn list_devices(&self, actor: &Identity) -> Result<DeviceList, ChatError> {
        let me = &actor.user_id;
        authorize_account(me, AccountAction::Devices, me)?;
        let devices = self.notify.devices(me).await?;
        Ok(DeviceList {
            devices: devices.into_iter().map(view).collect(),
        })
    }

    pub async fn remove_device(
        &self,
        actor: &Identity,
        device: &DeviceId,
    ) -> Result<(), ChatError> {
        let me = &actor.user_id;
        authorize_account(me, AccountAction::Devices, me)?;
        let found = self
            .notify
            .devices(me)
            .await?
            .into_iter()
            .find(|d| &d.device_id == device);
        if !self.notify.remove_device(me, device).await? {
            return Err(ChatError::NotFound("device"));
        }
        if let Some(d) = found {
            self.drop_endpoint(&d).await;
        }
        Ok(())
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

    /// Mutes (or unmutes) a person for the caller: their messages notify
    /// the caller nowhere (`mutedUsers` of the policy). Answers the whole
    /// policy.
    pub async fn set_person_mute(
        &self,
        actor: &Identity,
        target: &UserId,
        muted: bool,
    ) -> Result<NotifyPolicy, ChatError> {
        let me = &actor.user_id;
        authorize_account(me, AccountAction::NotifyPolicy, me)?;
        authorize_peer(me, PeerAction::Mute, target, Between::Clear)?;
        let mut policy = self.notify.policy(me).await?;
        let changed = if muted {
            if self.profiles.get(target).await?.is_none() {
                return Err(ChatError::NotFound("user"));
            }
            policy.muted_users.insert(target.clone())
        } else {
            policy.muted_users.remove(target)
        };
        if changed {
            policy.validate()?;
            self.notify.put_policy(me, &policy).await?;
        }
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

/// Rooms with more members notify nobody offline: a channel of thousands
/// would cost a policy read, a window claim and a device query per member
/// and message; their members follow them by opening the app.
pub const NOTIFY_MAX_MEMBERS: usize = 256;

/// How many offline members of one room are notified at once.
const NOTIFY_CONCURRENCY: usize = 16;

/// What one offline member's notification did.
#[derive(Default)]
struct Sent {
    sent: usize,
    failed: usize,
    /// Of `failed`, the publishes to mobile endpoints.
    mobile_failed: usize,
}

impl Chat {
    /// Notifies the offline members of the rooms of `stored` (messages the
    /// persist worker just stored), per their policy, coalesced per
    /// (member, room) ([`crate::notify`]). Off the send path, and best
    /// effort: a failure is logged and counted (`NotificationFailures`),
    /// never a reason to retry the record (a retry would notify again).
    /// A device the push service reports gone is removed.
    pub async fn notify_offline(&self, stored: &[Message]) {
        if self.webpush.is_none() && self.mobile.is_none() {
            return;
        }
        let mut by_room: BTreeMap<&RoomId, Vec<&Message>> = BTreeMap::new();
        for m in stored {
            by_room.entry(&m.room_id).or_default().push(m);
        }
        let mut total = Sent::default();
        for (room, msgs) in by_room {
            let span = tracing::info_span!("notify", room_id = %room);
            let r = self.notify_room(room, &msgs).instrument(span).await;
            total.sent += r.sent;
            total.failed += r.failed;
            total.mobile_failed += r.mobile_failed;
        }
        if total.sent + total.failed > 0 {
            crate::metrics::record(&[
                (Metric::NotificationsSent, total.sent as f64),
                (Metric::NotificationFailures, total.failed as f64),
                (Metric::MobilePushFailures, total.mobile_failed as f64),
            ]);
        }
    }

    /// Deletes a removed mobile device's push endpoint (best effort: an
    /// endpoint left behind is never published to again).
    async fn drop_endpoint(&self, d: &Device) {
        if let (Some(m), Some(mobile)) = (&self.mobile, d.mobile()) {
            if let Err(e) = m.delete_endpoint(&mobile.endpoint_arn).await {
                warn!(device_id = %d.device_id, error = %crate::error::chain(&e), "could not delete a removed device's push endpoint");
            }
        }
    }

    /// Whether this function can send to `d` (a sender for its channel).
    fn reachable(&self, d: &Device) -> bool {
        match &d.channel {
            Channel::WebPush { .. } => self.webpush.is_some(),
            Channel::Mobile { mobile } => self
                .mobile
                .as_ref()
                .is_some_and(|m| m.configured(mobile.token.platform)),
        }
    }

    async fn notify_room(&self, room: &RoomId, msgs: &[&Message]) -> Sent {
        let now = self.clock.now();
        let offline = match self.offline_members(room, now).await {
            Ok(Some(users)) => users,
            Ok(None) => return Sent::default(),
            Err(e) => {
                warn!(error = %crate::error::chain(&e), "could not find the room's offline members; no notifications");
                return Sent {
                    failed: 1,
                    ..Sent::default()
                };
            }
        };
        if offline.is_empty() {
            return Sent::default();
        }
        let devices = match self.notify.devices_of(&offline).await {
            Ok(d) => d,
            Err(e) => {
                warn!(error = %crate::error::chain(&e), "could not read the offline members' devices; no notifications");
                return Sent {
                    failed: 1,
                    ..Sent::default()
                };
            }
        };
        let mut per_user: BTreeMap<UserId, Vec<Device>> = BTreeMap::new();
        for d in devices.into_iter().filter(|d| self.reachable(d)) {
            per_user.entry(d.user_id.clone()).or_default().push(d);
        }
        if per_user.is_empty() {
            return Sent::default();
        }
        // Whom each sender's messages may notify: one read of each
        // sender's blocks answers for every recipient.
        let senders: BTreeSet<&UserId> = msgs.iter().map(|m| &m.sender_id).collect();
        let mut blocks: BTreeMap<UserId, Relations> = BTreeMap::new();
        for sender in senders {
            match self.blocks.relations(sender).await {
                Ok(r) => {
                    blocks.insert(sender.clone(), r);
                }
                Err(e) => {
                    warn!(error = %crate::error::chain(&e), "could not read the sender's blocks; no notifications");
                    return Sent {
                        failed: 1,
                        ..Sent::default()
                    };
                }
            }
        }
        let blocks = &blocks;
        let results: Vec<Sent> = stream::iter(per_user)
            .map(|(user, devices)| async move {
                // The messages of senders this member blocks do not notify.
                let msgs: Vec<&Message> = msgs
                    .iter()
                    .copied()
                    .filter(|m| {
                        let between = blocks
                            .get(&m.sender_id)
                            .map_or(Between::Clear, |r| r.between(&user));
                        authorize_peer(&m.sender_id, PeerAction::Notify, &user, between).is_ok()
                    })
                    .collect();
                self.notify_member(&user, room, &msgs, &devices, now).await
            })
            .buffer_unordered(NOTIFY_CONCURRENCY)
            .collect()
            .await;
        results.into_iter().fold(Sent::default(), |a, b| Sent {
            sent: a.sent + b.sent,
            failed: a.failed + b.failed,
            mobile_failed: a.mobile_failed + b.mobile_failed,
        })
    }

    /// The members of `room` without a live connection; `None` when the
    /// room is too big to notify.
    async fn offline_members(
        &self,
        room: &RoomId,
        now: crate::ids::Millis,
    ) -> Result<Option<Vec<UserId>>, ChatError> {
        let members = self.member_ids(room).await?;
        if members.len() > NOTIFY_MAX_MEMBERS {
            tracing::debug!(
                members = members.len(),
                "room too big for offline notifications"
            );
            return Ok(None);
        }
        let online: BTreeSet<UserId> = self
            .connections
            .for_users(&members)
            .await?
            .into_iter()
            .filter(|c| c.expires_at > now)
            .map(|c| c.user_id)
            .collect();
        Ok(Some(
            members
                .into_iter()
                .filter(|u| !online.contains(u))
                .collect(),
        ))
    }

    async fn notify_member(
        &self,
        user: &UserId,
        room: &RoomId,
        msgs: &[&Message],
        devices: &[Device],
        now: crate::ids::Millis,
    ) -> Sent {
        let policy = match self.notify.policy(user).await {
            Ok(p) => p,
            Err(e) => {
                warn!(user_id = %user, error = %crate::error::chain(&e), "could not read the notification policy");
                return Sent {
                    failed: 1,
                    ..Sent::default()
                };
            }
        };
        let allowed: Vec<&&Message> = msgs
            .iter()
            .filter(|m| &m.sender_id != user)
            .filter(|m| policy.allows(user, room, &m.sender_id, m.body.as_str(), now))
            .collect();
        let Some(last) = allowed.last() else {
            return Sent::default();
        };
        let n = u32::try_from(allowed.len()).unwrap_or(u32::MAX);
        let count = match self
            .notify
            .claim(user, room, n, now, self.limits.notify_window_ms)
            .await
        {
            Ok(Some(count)) => count,
            Ok(None) => {
                tracing::debug!(user_id = %user, n, "coalesced into the open window");
                return Sent::default();
            }
            Err(e) => {
                warn!(user_id = %user, error = %crate::error::chain(&e), "could not claim the notification window");
                return Sent {
                    failed: 1,
                    ..Sent::default()
                };
            }
        };
        // Encrypted rooms never put a body in a notification: the one
        // rule, [`crate::notify::encrypted_room`].
        let encrypted_room = crate::notify::encrypted_room(last);
        let payload = Payload::new(
            room.clone(),
            last.sender_id.clone(),
            count,
            last.seq,
            last.body.as_str(),
            self.limits.notify_bodies,
            encrypted_room,
        );
        let mut out = Sent::default();
        let mut message = None;
        for d in devices {
            let sent = match (&d.channel, &self.webpush, &self.mobile) {
                (Channel::WebPush { .. }, Some(w), _) => w.send(d, &payload).await,
                (Channel::Mobile { mobile }, _, Some(m)) => {
                    let message = message.get_or_insert_with(|| sns_message(&payload));
                    m.publish(&mobile.endpoint_arn, message).await
                }
                _ => continue,
            };
            match sent {
                Ok(()) => {
                    out.sent += 1;
                    info!(user_id = %user, device_id = %d.device_id, count, "notified");
                }
                Err(WebPushError::Gone) => {
                    info!(user_id = %user, device_id = %d.device_id, "push subscription gone; device removed");
                    if let Err(e) = self.notify.remove_device(user, &d.device_id).await {
                        warn!(error = %crate::error::chain(&e), "could not remove a gone device");
                    }
                    self.drop_endpoint(d).await;
                }
                Err(e) => {
                    out.failed += 1;
                    if d.mobile().is_some() {
                        out.mobile_failed += 1;
                    }
                    warn!(user_id = %user, device_id = %d.device_id, error = %crate::error::chain(&e), "notification failed");
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::Limits;
    use crate::ids::{ClientMsgId, ConnectionId};
    use crate::memory::ManualClock;
    use crate::model::{ConnectionRecord, RoomKind};
    use crate::notify::Dnd;
    use crate::protocol::rest::CreateRoomRequest;
    use crate::protocol::ws::SendMessage;
    use crate::service::MemoryBackends;
    use crate::Caller;

    const T0: i64 = 1_800_000_000_000;
    const W: i64 = 30_000;

    fn who(name: &str) -> Identity {
        Identity {
            user_id: UserId::parse(name).unwrap(),
            name: None,
        }
    }

    struct World {
        chat: Chat,
        mem: MemoryBackends,
        clock: Arc<ManualClock>,
        alice: Identity,
        bob: Identity,
        room: RoomId,
    }

    async fn world(limits: Limits) -> World {
        let clock = Arc::new(ManualClock::new(T0));
        let (chat, mem) = Chat::in_memory_with_clock(limits, clock.clone());
        let (alice, bob) = (who("alice"), who("bob"));
        let (_, room) = chat
            .create_room(
                &alice,
                CreateRoomRequest {
                    encrypted: false,
                    name: Some("g".into()),
                    kind: RoomKind::Group,
                    members: vec![bob.user_id.clone()],
                },
            )
            .await
            .unwrap();
        chat.register_device(
            &bob,
            RegisterDeviceRequest::web_push(
                "https://push.example.com/bob",
                "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
                "BTBZMqHH6r4Tts7J_aSIgg",
            ),
        )
        .await
        .unwrap();
        World {
            chat,
            mem,
            clock,
            alice,
            bob,
            room: room.room.room_id,
        }
    }

    impl World {
        /// Alice sends `bodies`, then the persist worker takes them in one batch.
        async fn send(&self, bodies: &[&str]) {
            let caller = Caller {
                user_id: self.alice.user_id.clone(),
                connection_id: ConnectionId::parse("alice=").unwrap(),
                expires_at: 0,
            };
            for body in bodies {
                let req = SendMessage {
                    sealed: None,
                    room_id: self.room.clone(),
                    client_msg_id: ClientMsgId::parse(&crate::contract::unique()).unwrap(),
                    body: (*body).into(),
                    attachments: Vec::new(),
                    reply_to: None,
                };
                self.chat.send_message(&caller, req).await.unwrap();
            }
            let records: Vec<_> = self
                .mem
                .queue
                .take(100)
                .into_iter()
                .map(|j| (j.id, j.body))
                .collect();
            self.chat.persist_batch(&records).await;
        }

        fn counts(&self) -> Vec<u32> {
            self.mem
                .outbox
                .sent()
                .iter()
                .map(|e| e.payload.count)
                .collect()
        }

        /// The kinds of Bob's registered devices, as he lists them.
        async fn bobs_device_kinds(&self) -> Vec<String> {
            self.chat
                .list_devices(&self.bob)
                .await
                .unwrap()
                .devices
                .into_iter()
                .map(|d| d.kind)
                .collect()
        }
    }

    #[tokio::test]
    async fn a_muted_person_notifies_nobody_who_muted_them_and_unmuting_restores() {
        let w = world(Limits::default()).await;
        assert!(matches!(
            w.chat.set_person_mute(&w.bob, &w.bob.user_id, true).await,
            Err(ChatError::BadRequest(_))
        ));
        assert!(matches!(
            w.chat
                .set_person_mute(&w.bob, &UserId::parse("nobody").unwrap(), true)
                .await,
            Err(ChatError::NotFound("user"))
        ));
        w.chat.ensure_profile(&w.alice).await.unwrap();
        let p = w
            .chat
            .set_person_mute(&w.bob, &w.alice.user_id, true)
            .await
            .unwrap();
        assert!(p.muted_users.contains(&w.alice.user_id));
        w.send(&["muted"]).await;
        assert!(w.mem.outbox.sent().is_empty());
        let p = w
            .chat
            .set_person_mute(&w.bob, &w.alice.user_id, false)
            .await
            .unwrap();
        assert!(p.muted_users.is_empty());
        w.clock.advance(W);
        w.send(&["heard"]).await;
        assert_eq!(w.counts(), vec![1], "the muted message is not counted");
    }

    #[tokio::test]
    async fn an_offline_member_is_notified_once_per_window_with_the_count() {
        let w = world(Limits::default()).await;
        w.send(&["one", "two", "three", "four", "five"]).await;
        let sent = w.mem.outbox.sent();
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(
            (
                &sent[0].user_id,
                &sent[0].payload.sender_id,
                &sent[0].payload.room_id,
                sent[0].payload.count
            ),
            (&w.bob.user_id, &w.alice.user_id, &w.room, 5)
        );
        assert_eq!(sent[0].payload.body, None, "no bodies by default");
        // Inside the window: counted, not sent.
        w.clock.advance(W - 1);
        w.send(&["six", "seven"]).await;
        assert_eq!(w.counts(), vec![5]);
        // The window closed: the next carries the two counted and itself.
        w.clock.advance(1);
        w.send(&["eight"]).await;
        assert_eq!(w.counts(), vec![5, 3]);
    }

    #[tokio::test]
    async fn an_online_member_is_not_notified_and_nor_is_the_sender() {
        let w = world(Limits::default()).await;
        let bob_conn = ConnectionId::parse("bob=").unwrap();
        let _inbox = w.mem.pusher.open(&bob_conn);
        w.chat
            .connections
            .put(&ConnectionRecord {
                connection_id: ConnectionId::parse("bob=").unwrap(),
                user_id: w.bob.user_id.clone(),
                connected_at: T0,
                expires_at: T0 + 60_000,
            })
            .await
            .unwrap();
        w.send(&["hi"]).await;
        assert_eq!(w.counts(), Vec::<u32>::new());
        // Past the presence expiry Bob counts as offline again.
        w.clock.advance(60_000);
        w.send(&["still there?"]).await;
        assert_eq!(w.counts(), vec![1]);
        assert!(w
            .mem
            .outbox
            .sent()
            .iter()
            .all(|e| e.user_id == w.bob.user_id));
    }

    #[tokio::test]
    async fn the_policy_mutes_dnd_and_mentions_only() {
        let w = world(Limits::default()).await;
        let set = |p: NotifyPolicy| {
            let (chat, bob) = (w.chat.clone(), w.bob.clone());
            async move { chat.put_notify_policy(&bob, p).await.unwrap() }
        };
        set(NotifyPolicy {
            muted_rooms: [w.room.clone()].into(),
            ..Default::default()
        })
        .await;
        w.send(&["muted room"]).await;
        set(NotifyPolicy {
            muted_users: [w.alice.user_id.clone()].into(),
            ..Default::default()
        })
        .await;
        w.send(&["muted person"]).await;
        set(NotifyPolicy {
            dnd: Dnd::Until { until: T0 + 1_000 },
            ..Default::default()
        })
        .await;
        w.send(&["do not disturb"]).await;
        assert_eq!(w.counts(), Vec::<u32>::new());
        set(NotifyPolicy {
            mentions_only: true,
            ..Default::default()
        })
        .await;
        w.send(&["no mention", "hey @bob", "again no mention"])
            .await;
        let sent = w.mem.outbox.sent();
        assert_eq!(sent.len(), 1);
        // Only the mention counts, and it is the one the notification names.
        assert_eq!(sent[0].payload.count, 1);
        let mention_seq = sent[0].payload.seq;
        assert!(mention_seq > 0);
    }

    #[tokio::test]
    async fn bodies_are_included_when_enabled_and_a_gone_device_is_removed() {
        let limits = Limits {
            notify_bodies: true,
            ..Limits::default()
        };
        let w = world(limits).await;
        w.send(&["hello bob"]).await;
        let sent = w.mem.outbox.sent();
        assert_eq!(sent[0].payload.body.as_deref(), Some("hello bob"));
        w.mem.outbox.mark_gone("https://push.example.com/bob");
        w.clock.advance(W);
        w.send(&["are you there"]).await;
        assert_eq!(w.mem.outbox.sent().len(), 1);
        assert!(w.bobs_device_kinds().await.is_empty());
    }

    #[tokio::test]
    async fn without_a_sender_nobody_is_notified_and_no_window_is_claimed() {
        let mut w = world(Limits::default()).await;
        let sender = w.chat.webpush.take();
        w.send(&["nobody hears this"]).await;
        assert_eq!(w.counts(), Vec::<u32>::new());
        // No window was opened nor counted: the next message, with a sender,
        // notifies at once with its own count alone.
        w.chat.webpush = sender;
        w.send(&["now they do"]).await;
        assert_eq!(w.counts(), vec![1]);
    }

    const FCM: &str = "dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx";

    #[tokio::test]
    async fn a_mobile_token_gets_an_endpoint_is_listed_beside_web_push_and_is_notified() {
        let w = world(Limits::default()).await;
        let (new, v) = w
            .chat
            .register_device(&w.bob, RegisterDeviceRequest::mobile("fcm", FCM))
            .await
            .unwrap();
        assert!(new);
        assert_eq!(
            (v.kind.as_str(), v.endpoint.as_str()),
            ("fcm", "fcm:dQw4w9Wg…")
        );
        // Again: the same device and the same endpoint.
        let (new, again) = w
            .chat
            .register_device(&w.bob, RegisterDeviceRequest::mobile("fcm", FCM))
            .await
            .unwrap();
        assert!(!new);
        assert_eq!(again.device_id, v.device_id);
        assert_eq!(w.mem.mobile.endpoints().len(), 1);
        let kinds = w.bobs_device_kinds().await;
        assert_eq!(kinds.len(), 2);
        assert!(kinds.contains(&"webpush".to_owned()) && kinds.contains(&"fcm".to_owned()));

        w.send(&["hello on the phone"]).await;
        let published = w.mem.mobile.published();
        assert_eq!(published.len(), 1, "{published:?}");
        assert_eq!(published[0].owner, w.bob.user_id);
        assert!(
            published[0].message.contains("\\\"roomId\\\""),
            "{}",
            published[0].message
        );
        assert!(
            !published[0].message.contains("hello on the phone"),
            "no bodies by default"
        );
        assert_eq!(w.counts(), vec![1], "Web Push too, one window for both");

        // Removing it deletes its endpoint.
        let id = DeviceId::parse(&v.device_id).unwrap();
        w.chat.remove_device(&w.bob, &id).await.unwrap();
        assert!(w.mem.mobile.endpoints().is_empty());
    }

    /// SNS failing a publish (throttled, 5xx): not "gone", so the device
    /// stays; counted in `NotificationFailures` and, being a mobile
    /// endpoint's, in `MobilePushFailures` (its alarm).
    #[tokio::test]
    async fn a_failed_mobile_publish_is_counted_in_mobile_push_failures() {
        use crate::ports::MobilePush;
        struct Failing(Arc<crate::memory::MemoryMobile>);
        #[async_trait::async_trait]
        impl MobilePush for Failing {
            fn configured(&self, platform: crate::mobile::MobilePlatform) -> bool {
                self.0.configured(platform)
            }
            async fn create_endpoint(
                &self,
                token: &crate::mobile::MobileToken,
                owner: &UserId,
            ) -> Result<String, crate::error::MobilePushError> {
                self.0.create_endpoint(token, owner).await
            }
            async fn publish(&self, _: &str, _: &str) -> Result<(), WebPushError> {
                Err(WebPushError::Transient("SNS throttled".into()))
            }
            async fn delete_endpoint(
                &self,
                endpoint: &str,
            ) -> Result<(), crate::error::MobilePushError> {
                self.0.delete_endpoint(endpoint).await
            }
        }
        let mut w = world(Limits::default()).await;
        w.chat.mobile = Some(Arc::new(Failing(w.mem.mobile.clone())));
        w.chat
            .register_device(&w.bob, RegisterDeviceRequest::mobile("fcm", FCM))
            .await
            .unwrap();
        let capture = crate::metrics::capture::Capture::start();
        w.send(&["lost on the way"]).await;
        assert_eq!(capture.sum(Metric::MobilePushFailures), 1.0);
        assert_eq!(capture.sum(Metric::NotificationFailures), 1.0);
        assert_eq!(
            capture.sum(Metric::NotificationsSent),
            1.0,
            "Web Push still sent"
        );
        assert_eq!(w.mem.mobile.endpoints().len(), 1, "not gone: kept");
    }

    #[tokio::test]
    async fn a_disabled_endpoint_removes_the_device_and_deletes_the_endpoint() {
        let w = world(Limits::default()).await;
        w.chat
            .register_device(&w.bob, RegisterDeviceRequest::mobile("fcm", FCM))
            .await
            .unwrap();
        let arn = w.mem.mobile.endpoints().remove(0);
        w.mem.mobile.disable(&arn);
        w.send(&["are you there"]).await;
        let kinds = w.bobs_device_kinds().await;
        assert_eq!(kinds, vec!["webpush".to_owned()]);
        assert!(w.mem.mobile.endpoints().is_empty());
    }

    #[tokio::test]
    async fn bad_registrations_and_unconfigured_platforms_are_refused_and_nothing_is_stored() {
        let mut w = world(Limits::default()).await;
        let bad = [
            RegisterDeviceRequest::mobile("gcm", FCM),
            RegisterDeviceRequest::mobile("fcm", "short"),
            RegisterDeviceRequest::mobile("apns", "not hex at all"),
            RegisterDeviceRequest {
                kind: Some("fcm".into()),
                ..RegisterDeviceRequest::web_push("https://push.example.com/x", "a", "b")
            },
            RegisterDeviceRequest {
                token: None,
                ..RegisterDeviceRequest::mobile("fcm", FCM)
            },
            RegisterDeviceRequest {
                keys: None,
                ..RegisterDeviceRequest::web_push("https://push.example.com/x", "a", "b")
            },
            RegisterDeviceRequest {
                kind: None,
                token: None,
                ..RegisterDeviceRequest::mobile("fcm", FCM)
            },
        ];
        for req in bad {
            let e = w.chat.register_device(&w.bob, req.clone()).await;
            assert!(matches!(e, Err(ChatError::BadRequest(_))), "{req:?}: {e:?}");
        }
        w.chat.mobile = Some(Arc::new(crate::memory::MemoryMobile::new([
            crate::mobile::MobilePlatform::Apns,
        ])));
        let e = w
            .chat
            .register_device(&w.bob, RegisterDeviceRequest::mobile("fcm", FCM))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, ChatError::Conflict(m) if m == "mobile push is not configured for fcm"),
            "{e:?}"
        );
        w.chat.mobile = None;
        let e = w
            .chat
            .register_device(
                &w.bob,
                RegisterDeviceRequest::mobile("apns", &"ab".repeat(32)),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&e, ChatError::Conflict(m) if m == "mobile push is not configured for apns"),
            "{e:?}"
        );
        assert_eq!(w.bobs_device_kinds().await.len(), 1);
    }
}
