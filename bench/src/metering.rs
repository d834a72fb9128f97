//! Counting decorators over the ports: what a message costs is what it asks
//! of the backends, so the cost model counts calls at the port boundary.
//!
//! [`metered`] wraps every port of a [`Chat`] in a [`Metered`] decorator that
//! delegates each call and adds it to one shared [`Meter`]: calls, records
//! read or written, their encoded size, and the size-rounded units a
//! key-value store bills by (1 KiB per written record, 4 KiB per key looked
//! up). The decorators know nothing of any vendor: mapping a port operation
//! onto DynamoDB request units or SQS requests is the cost model's job
//! (`chat-bench cost`), which keeps that table next to its prices.
//!
//! The encoded size of a record is its JSON, a stand-in for the stored item
//! (the real item adds its key attributes, a few dozen bytes).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::Serialize;

use chat_core::block::{Block, Relations};
use chat_core::changes::{Change, MessageState};
use chat_core::e2ee::{DeviceId as KeyDeviceId, DeviceKey};
use chat_core::error::{PushError, QueueError, StoreError, WebPushError};
use chat_core::ids::{ClientMsgId, ConnectionId, Millis, RoomId, Seq, UserId};
use chat_core::model::{
    ConnectionRecord, Job, Membership, Message, MessageDraft, Profile, ProfilePatch, ReceiptStatus,
    Reservation, Room, SeqFate,
};
use chat_core::notify::{Device, DeviceId, NotifyPolicy, Payload};
use chat_core::ports::{
    BlockStore, ConnectionStore, JobQueue, KeyStore, MessageChanges, MessageStore, MobilePush,
    NotifyStore, ProfileStore, Pusher, RangeQuery, RoomStore, SearchIndex, WebPush,
};
use chat_core::ratelimit::{Bucket, RateLimiter, Verdict};
use chat_core::search::{buckets, IndexEntry, RoomMatches, SearchKey, SearchQuery};
use chat_core::service::Chat;

use crate::latency::Latency;

/// What one port operation added up to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    pub calls: u64,
    /// Records (or frames, or jobs) read or written.
    pub items: u64,
    /// Their encoded size in bytes.
    pub bytes: u64,
    /// Σ over records of ⌈size / 1 KiB⌉: what writing each alone is billed.
    pub item_kib: u64,
    /// Keys or key prefixes asked of the store (a get, one query, one user's
    /// connections): one round trip each in a key-value store.
    pub lookups: u64,
    /// Σ over lookups of ⌈bytes returned / 4 KiB⌉, at least 1: what reading
    /// each is billed.
    pub lookup_4kib: u64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.calls += o.calls;
        self.items += o.items;
        self.bytes += o.bytes;
        self.item_kib += o.item_kib;
        self.lookups += o.lookups;
        self.lookup_4kib += o.lookup_4kib;
    }
}

fn kib_units(bytes: u64, unit: u64) -> u64 {
    bytes.div_ceil(unit).max(1)
}

fn encoded_len<T: Serialize>(v: &T) -> u64 {
    serde_json::to_vec(v).map_or(0, |b| b.len() as u64)
}

/// One call's worth of counting, built up then added to the meter.
#[derive(Default)]
struct Call(Tally);

impl Call {
    fn new() -> Self {
        Call(Tally {
            calls: 1,
            ..Tally::default()
        })
    }

    /// Records written (each billed by its own size).
    fn wrote<T: Serialize>(mut self, records: &[T]) -> Self {
        for r in records {
            let b = encoded_len(r);
            self.0.items += 1;
            self.0.bytes += b;
            self.0.item_kib += kib_units(b, 1024);
        }
        self
    }

    /// One lookup that returned `records` (a get, or one query).
    fn looked_up<T: Serialize>(mut self, records: &[T]) -> Self {
        let b: u64 = records.iter().map(encoded_len).sum();
        self.0.items += records.len() as u64;
        self.0.bytes += b;
        self.0.lookups += 1;
        self.0.lookup_4kib += kib_units(b, 4096);
        self
    }

    /// `n` lookups that found nothing more than what `looked_up` counted.
    fn empty_lookups(mut self, n: u64) -> Self {
        self.0.lookups += n;
        self.0.lookup_4kib += n;
        self
    }

    /// Opaque items (frames, jobs) of these sizes.
    fn sent(mut self, sizes: impl IntoIterator<Item = u64>) -> Self {
        for b in sizes {
            self.0.items += 1;
            self.0.bytes += b;
            self.0.item_kib += kib_units(b, 1024);
        }
        self
    }
}

/// The counts of every metered operation, keyed `port.operation`.
#[derive(Default)]
pub struct Meter {
    tallies: Mutex<BTreeMap<&'static str, Tally>>,
}

impl Meter {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    fn add(&self, op: &'static str, call: Call) {
        let mut g = self.tallies.lock().unwrap_or_else(|p| p.into_inner());
        g.entry(op).or_default().add(&call.0);
    }

    /// Every operation counted so far.
    pub fn snapshot(&self) -> BTreeMap<&'static str, Tally> {
        self.tallies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The tally of one operation (zero when never called).
    pub fn get(&self, op: &str) -> Tally {
        self.snapshot().get(op).copied().unwrap_or_default()
    }

    /// Forgets every count (after setting up the scenario to measure).
    pub fn reset(&self) {
        self.tallies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

/// A port decorated with counting: delegates to `inner`, adds to `meter`,
/// and, given a [`Latency`], waits as long as the AWS calls behind the port
/// call would take (`chat-bench latency`).
pub struct Metered<T: ?Sized> {
    inner: Arc<T>,
    meter: Arc<Meter>,
    latency: Option<Arc<Latency>>,
}

impl<T: ?Sized> Metered<T> {
    pub fn new(inner: Arc<T>, meter: Arc<Meter>) -> Self {
        Self {
            inner,
            meter,
            latency: None,
        }
    }

    fn with_latency(inner: Arc<T>, meter: Arc<Meter>, latency: Option<Arc<Latency>>) -> Self {
        Self {
            inner,
            meter,
            latency,
        }
    }

    /// The modeled time of port operation `op` of size `n` (nothing unmodeled).
    async fn pause(&self, op: &str, n: usize) {
        if let Some(l) = &self.latency {
            l.wait(op, n).await;
        }
    }
}

/// The same [`Chat`] with every port counted by `meter`.
pub fn metered(chat: &Chat, meter: &Arc<Meter>) -> Chat {
    decorated(chat, meter, None)
}

/// The same [`Chat`] with every port counted by `meter` and, when `latency`
/// is given, taking the modeled time of the AWS calls behind it.
pub fn decorated(chat: &Chat, meter: &Arc<Meter>, latency: Option<Arc<Latency>>) -> Chat {
    let m = meter.clone();
    let l = latency;
    Chat {
        connections: Arc::new(Metered::with_latency(
            chat.connections.clone(),
            m.clone(),
            l.clone(),
        )),
        rooms: Arc::new(Metered::with_latency(
            chat.rooms.clone(),
            m.clone(),
            l.clone(),
        )),
        messages: Arc::new(Metered::with_latency(
            chat.messages.clone(),
            m.clone(),
            l.clone(),
        )),
        changes: Arc::new(Metered::with_latency(
            chat.changes.clone(),
            m.clone(),
            l.clone(),
        )),
        profiles: Arc::new(Metered::with_latency(
            chat.profiles.clone(),
            m.clone(),
            l.clone(),
        )),
        search: Arc::new(Metered::with_latency(
            chat.search.clone(),
            m.clone(),
            l.clone(),
        )),
        notify: Arc::new(Metered::with_latency(
            chat.notify.clone(),
            m.clone(),
            l.clone(),
        )),
        blocks: Arc::new(Metered::with_latency(
            chat.blocks.clone(),
            m.clone(),
            l.clone(),
        )),
        keys: Arc::new(Metered::with_latency(
            chat.keys.clone(),
            m.clone(),
            l.clone(),
        )),
        webpush: chat.webpush.clone().map(|w| -> Arc<dyn WebPush> {
            Arc::new(Metered::with_latency(w, m.clone(), l.clone()))
        }),
        mobile: chat.mobile.clone().map(|w| -> Arc<dyn MobilePush> {
            Arc::new(Metered::with_latency(w, m.clone(), l.clone()))
        }),
        queue: Arc::new(Metered::with_latency(
            chat.queue.clone(),
            m.clone(),
            l.clone(),
        )),
        pusher: Arc::new(Metered::with_latency(
            chat.pusher.clone(),
            m.clone(),
            l.clone(),
        )),
        blobs: chat.blobs.clone(),
        clock: chat.clock.clone(),
        rate_limiter: Arc::new(Metered::with_latency(chat.rate_limiter.clone(), m, l)),
        limits: chat.limits.clone(),
    }
}

#[async_trait]
impl ConnectionStore for Metered<dyn ConnectionStore> {
    async fn put(&self, conn: &ConnectionRecord) -> Result<(), StoreError> {
        self.pause("connections.put", 1).await;
        self.meter.add(
            "connections.put",
            Call::new().wrote(std::slice::from_ref(conn)),
        );
        self.inner.put(conn).await
    }

    async fn get(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        self.pause("connections.get", 1).await;
        let r = self.inner.get(id).await?;
        let found: Vec<_> = r.iter().collect();
        self.meter
            .add("connections.get", Call::new().looked_up(&found));
        Ok(r)
    }

    async fn touch(&self, id: &ConnectionId, expires_at: Millis) -> Result<bool, StoreError> {
        self.pause("connections.touch", 1).await;
        self.meter.add("connections.touch", Call::new().sent([0]));
        self.inner.touch(id, expires_at).await
    }

    async fn delete(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        self.pause("connections.delete", 1).await;
        let r = self.inner.delete(id).await?;
        let gone: Vec<_> = r.iter().collect();
        self.meter
            .add("connections.delete", Call::new().wrote(&gone));
        Ok(r)
    }

    async fn for_users(&self, users: &[UserId]) -> Result<Vec<ConnectionRecord>, StoreError> {
        self.pause(
            "connections.for_users",
            users
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
        )
        .await;
        let r = self.inner.for_users(users).await?;
        // One lookup per distinct user (one index query each).
        let mut per_user: BTreeMap<&UserId, Vec<&ConnectionRecord>> =
            users.iter().map(|u| (u, Vec::new())).collect();
        for c in &r {
            per_user.entry(&c.user_id).or_default().push(c);
        }
        let mut call = Call::new();
        for records in per_user.values() {
            call = call.looked_up(records);
        }
        self.meter.add("connections.for_users", call);
        Ok(r)
    }
}

#[async_trait]
impl RoomStore for Metered<dyn RoomStore> {
    async fn create(&self, room: &Room, members: &[Membership]) -> Result<bool, StoreError> {
        self.pause("rooms.create", 1).await;
        self.meter.add(
            "rooms.create",
            Call::new().wrote(std::slice::from_ref(room)).wrote(members),
        );
        self.inner.create(room, members).await
    }

    async fn get(&self, id: &RoomId) -> Result<Option<Room>, StoreError> {
        self.pause("rooms.get", 1).await;
        let r = self.inner.get(id).await?;
        let found: Vec<_> = r.iter().collect();
        self.meter.add("rooms.get", Call::new().looked_up(&found));
        Ok(r)
    }

    async fn get_many(&self, ids: &[RoomId]) -> Result<Vec<Room>, StoreError> {
        self.pause("rooms.get_many", ids.len()).await;
        let r = self.inner.get_many(ids).await?;
        let mut call = Call::new();
        for room in &r {
            call = call.looked_up(std::slice::from_ref(room));
        }
        call = call.empty_lookups(ids.len().saturating_sub(r.len()) as u64);
        self.meter.add("rooms.get_many", call);
        Ok(r)
    }

    async fn membership(
        &self,
        room: &RoomId,
        user: &UserId,
    ) -> Result<Option<Membership>, StoreError> {
        self.pause("rooms.membership", 1).await;
        let r = self.inner.membership(room, user).await?;
        let found: Vec<_> = r.iter().collect();
        self.meter
            .add("rooms.membership", Call::new().looked_up(&found));
        Ok(r)
    }

    async fn members(&self, room: &RoomId) -> Result<Vec<Membership>, StoreError> {
        let r = self.inner.members(room).await?;
        self.pause(
            "rooms.members",
            r.iter().map(encoded_len).sum::<u64>() as usize,
        )
        .await;
        self.meter.add("rooms.members", Call::new().looked_up(&r));
        Ok(r)
    }

    async fn rooms_of(&self, user: &UserId) -> Result<Vec<Membership>, StoreError> {
        let r = self.inner.rooms_of(user).await?;
        self.pause(
            "rooms.rooms_of",
            r.iter().map(encoded_len).sum::<u64>() as usize,
        )
        .await;
        self.meter.add("rooms.rooms_of", Call::new().looked_up(&r));
        Ok(r)
    }

    async fn add_member(&self, m: &Membership) -> Result<bool, StoreError> {
        self.pause("rooms.add_member", 1).await;
        self.meter.add(
            "rooms.add_member",
            Call::new().wrote(std::slice::from_ref(m)),
        );
        self.inner.add_member(m).await
    }

    async fn remove_member(&self, room: &RoomId, user: &UserId) -> Result<bool, StoreError> {
        self.pause("rooms.remove_member", 1).await;
        self.meter.add("rooms.remove_member", Call::new().sent([0]));
        self.inner.remove_member(room, user).await
    }

    async fn advance_cursor(
        &self,
        room: &RoomId,
        user: &UserId,
        status: ReceiptStatus,
        seq: Seq,
    ) -> Result<bool, StoreError> {
        let op = match status {
            ReceiptStatus::Delivered => "rooms.advance_cursor.delivered",
            ReceiptStatus::Read => "rooms.advance_cursor.read",
        };
        self.pause(op, 1).await;
        self.meter.add(op, Call::new().sent([0]));
        self.inner.advance_cursor(room, user, status, seq).await
    }

    async fn list_channels(&self, limit: usize) -> Result<Vec<Room>, StoreError> {
        let r = self.inner.list_channels(limit).await?;
        self.pause(
            "rooms.list_channels",
            r.iter().map(encoded_len).sum::<u64>() as usize,
        )
        .await;
        self.meter
            .add("rooms.list_channels", Call::new().looked_up(&r));
        Ok(r)
    }
}

#[async_trait]
impl MessageStore for Metered<dyn MessageStore> {
    async fn reserve(&self, draft: MessageDraft) -> Result<Reservation, StoreError> {
        let r = self.inner.reserve(draft).await?;
        let op = match &r {
            Reservation::New(_) => "messages.reserve.new",
            Reservation::Duplicate(_) => "messages.reserve.duplicate",
        };
        self.pause(op, 1).await;
        self.meter
            .add(op, Call::new().wrote(std::slice::from_ref(r.message())));
        Ok(r)
    }

    async fn last_seq(&self, room: &RoomId) -> Result<Seq, StoreError> {
        self.pause("messages.last_seq", 1).await;
        self.meter
            .add("messages.last_seq", Call::new().empty_lookups(1));
        self.inner.last_seq(room).await
    }

    async fn settle(&self, room: &RoomId, seq: Seq) -> Result<SeqFate, StoreError> {
        let fate = self.inner.settle(room, seq).await?;
        let call = match &fate {
            SeqFate::Reserved(m) => Call::new().looked_up(std::slice::from_ref(m)),
            SeqFate::Burned => Call::new().empty_lookups(1),
        };
        self.meter.add("messages.settle", call);
        Ok(fate)
    }

    async fn put_batch(&self, messages: &[Message]) -> Vec<Result<(), StoreError>> {
        self.pause("messages.put_batch", messages.len()).await;
        self.meter
            .add("messages.put_batch", Call::new().wrote(messages));
        self.inner.put_batch(messages).await
    }

    async fn range(&self, room: &RoomId, q: RangeQuery) -> Result<Vec<Message>, StoreError> {
        let r = self.inner.range(room, q).await?;
        self.pause(
            "messages.range",
            r.iter().map(encoded_len).sum::<u64>() as usize,
        )
        .await;
        self.meter.add("messages.range", Call::new().looked_up(&r));
        Ok(r)
    }

    async fn replies(
        &self,
        room: &RoomId,
        target: Seq,
        after: Option<Seq>,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let r = self.inner.replies(room, target, after, limit).await?;
        self.pause(
            "messages.replies",
            r.iter().map(encoded_len).sum::<u64>() as usize,
        )
        .await;
        self.meter
            .add("messages.replies", Call::new().looked_up(&r));
        Ok(r)
    }

    async fn get(&self, room: &RoomId, seq: Seq) -> Result<Option<Message>, StoreError> {
        self.pause("messages.get", 1).await;
        let r = self.inner.get(room, seq).await?;
        let call = match &r {
            Some(m) => Call::new().looked_up(std::slice::from_ref(m)),
            None => Call::new().empty_lookups(1),
        };
        self.meter.add("messages.get", call);
        Ok(r)
    }

    async fn latest(&self, rooms: &[RoomId]) -> Result<Vec<Message>, StoreError> {
        self.pause("messages.latest", rooms.len()).await;
        let r = self.inner.latest(rooms).await?;
        let mut call = Call::new();
        for m in &r {
            call = call.looked_up(std::slice::from_ref(m));
        }
        call = call.empty_lookups(rooms.len().saturating_sub(r.len()) as u64);
        self.meter.add("messages.latest", call);
        Ok(r)
    }
}

#[async_trait]
impl ProfileStore for Metered<dyn ProfileStore> {
    async fn get(&self, user: &UserId) -> Result<Option<Profile>, StoreError> {
        self.pause("profiles.get", 1).await;
        let r = self.inner.get(user).await?;
        let found: Vec<_> = r.iter().collect();
        self.meter
            .add("profiles.get", Call::new().looked_up(&found));
        Ok(r)
    }

    async fn get_many(&self, users: &[UserId]) -> Result<Vec<Profile>, StoreError> {
        self.pause("profiles.get_many", users.len()).await;
        let r = self.inner.get_many(users).await?;
        let mut call = Call::new();
        for p in &r {
            call = call.looked_up(std::slice::from_ref(p));
        }
        call = call.empty_lookups(users.len().saturating_sub(r.len()) as u64);
        self.meter.add("profiles.get_many", call);
        Ok(r)
    }

    async fn create_if_absent(&self, p: &Profile) -> Result<Profile, StoreError> {
        self.pause("profiles.create_if_absent", 1).await;
        self.meter.add(
            "profiles.create_if_absent",
            Call::new().wrote(std::slice::from_ref(p)),
        );
        self.inner.create_if_absent(p).await
    }

    async fn update(
        &self,
        user: &UserId,
        patch: &ProfilePatch,
        now: Millis,
    ) -> Result<Option<Profile>, StoreError> {
        self.pause("profiles.update", 1).await;
        let r = self.inner.update(user, patch, now).await?;
        let written: Vec<_> = r.iter().collect();
        self.meter
            .add("profiles.update", Call::new().wrote(&written));
        Ok(r)
    }
}

/// The size of a search index item beyond its terms: keys and numbers,
/// as the DynamoDB adapter writes them (`SRCH#{room}#{bucket}`,
/// `{sentAt:020}#{seq:020}`, type, seq, sentAt).
const INDEX_ITEM_OVERHEAD: u64 = 120;

#[async_trait]
impl MessageChanges for Metered<dyn MessageChanges> {
    async fn last_change(&self, room: &RoomId) -> Result<Change, StoreError> {
        self.pause("changes.last_change", 1).await;
        self.meter
            .add("changes.last_change", Call::new().empty_lookups(1));
        self.inner.last_change(room).await
    }

    async fn state(&self, room: &RoomId, seq: Seq) -> Result<Option<MessageState>, StoreError> {
        self.pause("changes.state", 1).await;
        let r = self.inner.state(room, seq).await?;
        let found: Vec<_> = r.iter().collect();
        self.meter
            .add("changes.state", Call::new().looked_up(&found));
        Ok(r)
    }

    async fn states(
        &self,
        room: &RoomId,
        lo: Seq,
        hi: Seq,
    ) -> Result<Vec<MessageState>, StoreError> {
        self.pause("changes.states", 1).await;
        let r = self.inner.states(room, lo, hi).await?;
        self.meter.add("changes.states", Call::new().looked_up(&r));
        Ok(r)
    }

    async fn commit(&self, state: &MessageState) -> Result<bool, StoreError> {
        // The counter (small), the state and its log entry: one transaction.
        self.pause("changes.commit", 1).await;
        self.meter.add(
            "changes.commit",
            Call::new().wrote(&[state.clone(), state.clone()]),
        );
        self.inner.commit(state).await
    }

    async fn changes_after(
        &self,
        room: &RoomId,
        after: Change,
        limit: usize,
    ) -> Result<Vec<MessageState>, StoreError> {
        self.pause("changes.changes_after", 1).await;
        let r = self.inner.changes_after(room, after, limit).await?;
        self.meter
            .add("changes.changes_after", Call::new().looked_up(&r));
        Ok(r)
    }
}

#[async_trait]
impl SearchIndex for Metered<dyn SearchIndex> {
    async fn index(&self, entries: &[IndexEntry]) -> Vec<Result<(), StoreError>> {
        // One entry item per distinct bucket, each holding all the terms,
        // and one manifest of the buckets: what the DynamoDB adapter writes.
        let mut sizes = Vec::new();
        for e in entries {
            let b = buckets(&e.terms);
            let entry = INDEX_ITEM_OVERHEAD + encoded_len(&e.terms);
            sizes.extend(std::iter::repeat_n(entry, b.len()));
            sizes.push(INDEX_ITEM_OVERHEAD + encoded_len(&b));
        }
        self.pause("search.index", sizes.len()).await;
        self.meter.add("search.index", Call::new().sent(sizes));
        self.inner.index(entries).await
    }

    async fn remove(&self, room: &RoomId, seq: Seq) -> Result<(), StoreError> {
        self.pause("search.remove", 1).await;
        self.meter
            .add("search.remove", Call::new().empty_lookups(1));
        self.inner.remove(room, seq).await
    }

    async fn search(
        &self,
        room: &RoomId,
        q: &SearchQuery,
        below: Option<&SearchKey>,
        limit: usize,
    ) -> Result<RoomMatches, StoreError> {
        self.pause("search.search", 1).await;
        let r = self.inner.search(room, q, below, limit).await?;
        self.meter
            .add("search.search", Call::new().empty_lookups(1));
        Ok(r)
    }
}

/// A device, policy or window item: a user key, a few attributes and a
/// JSON document (a subscription's endpoint and keys, ~400 bytes).
const NOTIFY_ITEM_BYTES: u64 = 500;

#[async_trait]
impl NotifyStore for Metered<dyn NotifyStore> {
    async fn put_device(&self, device: &Device) -> Result<bool, StoreError> {
        self.pause("notify.put_device", 2).await;
        self.meter.add(
            "notify.put_device",
            Call::new().empty_lookups(1).sent(vec![NOTIFY_ITEM_BYTES]),
        );
        self.inner.put_device(device).await
    }
    async fn devices(&self, user: &UserId) -> Result<Vec<Device>, StoreError> {
        self.pause("notify.devices", 1).await;
        self.meter
            .add("notify.devices", Call::new().empty_lookups(1));
        self.inner.devices(user).await
    }
    async fn devices_of(&self, users: &[UserId]) -> Result<Vec<Device>, StoreError> {
        self.pause("notify.devices_of", users.len()).await;
        self.meter.add(
            "notify.devices_of",
            Call::new().empty_lookups(users.len() as u64),
        );
        self.inner.devices_of(users).await
    }
    async fn remove_device(&self, user: &UserId, device: &DeviceId) -> Result<bool, StoreError> {
        self.pause("notify.remove_device", 1).await;
        self.meter.add(
            "notify.remove_device",
            Call::new().sent(vec![NOTIFY_ITEM_BYTES]),
        );
        self.inner.remove_device(user, device).await
    }
    async fn policy(&self, user: &UserId) -> Result<NotifyPolicy, StoreError> {
        self.pause("notify.policy", 1).await;
        self.meter
            .add("notify.policy", Call::new().empty_lookups(1));
        self.inner.policy(user).await
    }
    async fn put_policy(&self, user: &UserId, policy: &NotifyPolicy) -> Result<(), StoreError> {
        self.pause("notify.put_policy", 1).await;
        self.meter.add(
            "notify.put_policy",
            Call::new().sent(vec![NOTIFY_ITEM_BYTES]),
        );
        self.inner.put_policy(user, policy).await
    }
    async fn claim(
        &self,
        user: &UserId,
        room: &RoomId,
        n: u32,
        now: Millis,
        window_ms: Millis,
    ) -> Result<Option<u32>, StoreError> {
        self.pause("notify.claim", 1).await;
        self.meter.add("notify.claim", Call::new().sent(vec![100]));
        self.inner.claim(user, room, n, now, window_ms).await
    }
}

/// Blocks: one consistent Query of the user's partition per check (a
/// direct room's send, typing, presence, a notified room's senders); a
/// block is that Query and a transaction of two small puts, an unblock a
/// transaction of two deletes.
#[async_trait]
impl BlockStore for Metered<dyn BlockStore> {
    async fn block(&self, block: &Block) -> Result<bool, StoreError> {
        self.pause("blocks.block", 1).await;
        self.meter.add(
            "blocks.block",
            Call::new().empty_lookups(1).sent([100, 100]),
        );
        self.inner.block(block).await
    }
    async fn unblock(&self, user: &UserId, target: &UserId) -> Result<bool, StoreError> {
        self.pause("blocks.unblock", 1).await;
        self.meter
            .add("blocks.unblock", Call::new().sent([100, 100]));
        self.inner.unblock(user, target).await
    }
    async fn relations(&self, user: &UserId) -> Result<Relations, StoreError> {
        self.pause("blocks.relations", 1).await;
        self.meter
            .add("blocks.relations", Call::new().empty_lookups(1));
        self.inner.relations(user).await
    }
}

/// Device keys of encrypted rooms: one consistent Query of the user's
/// partition per read (each sealed send reads both members'); publishing
/// is that Query and one PutItem (~200 bytes); each sealed message claims
/// its ciphertext with one conditional PutItem (~150 bytes).
#[async_trait]
impl KeyStore for Metered<dyn KeyStore> {
    async fn put_key(&self, key: &DeviceKey) -> Result<bool, StoreError> {
        self.pause("keys.put", 1).await;
        self.meter
            .add("keys.put", Call::new().empty_lookups(1).wrote(&[key]));
        self.inner.put_key(key).await
    }
    async fn keys(&self, user: &UserId) -> Result<Vec<DeviceKey>, StoreError> {
        self.pause("keys.keys", 1).await;
        let out = self.inner.keys(user).await;
        let found: &[DeviceKey] = out.as_deref().unwrap_or(&[]);
        self.meter.add("keys.keys", Call::new().looked_up(found));
        out
    }
    async fn delete_key(&self, user: &UserId, device: &KeyDeviceId) -> Result<bool, StoreError> {
        self.pause("keys.delete", 1).await;
        self.meter.add("keys.delete", Call::new().sent([200]));
        self.inner.delete_key(user, device).await
    }
    async fn claim_seal(
        &self,
        room: &RoomId,
        digest: &str,
        sender: &UserId,
        client_msg_id: &ClientMsgId,
    ) -> Result<bool, StoreError> {
        self.pause("keys.claim_seal", 1).await;
        self.meter.add("keys.claim_seal", Call::new().sent([150]));
        self.inner
            .claim_seal(room, digest, sender, client_msg_id)
            .await
    }
}

/// A Web Push request: the encrypted payload (~200 bytes) and its
/// headers, one HTTPS POST to the push service (no AWS request).
#[async_trait]
impl WebPush for Metered<dyn WebPush> {
    async fn send(&self, device: &Device, payload: &Payload) -> Result<(), WebPushError> {
        self.pause("webpush.send", 1).await;
        self.meter.add("webpush.send", Call::new());
        self.inner.send(device, payload).await
    }
}

/// SNS mobile push: CreatePlatformEndpoint when a device registers,
/// Publish per notification, DeleteEndpoint when it is removed; one SNS
/// request each (SNS bills publishes to mobile endpoints per million).
#[async_trait]
impl MobilePush for Metered<dyn MobilePush> {
    fn configured(&self, platform: chat_core::mobile::MobilePlatform) -> bool {
        self.inner.configured(platform)
    }

    async fn create_endpoint(
        &self,
        token: &chat_core::mobile::MobileToken,
        owner: &chat_core::ids::UserId,
    ) -> Result<String, chat_core::error::MobilePushError> {
        self.pause("sns.create_endpoint", 1).await;
        self.meter.add("sns.create_endpoint", Call::new());
        self.inner.create_endpoint(token, owner).await
    }

    async fn publish(&self, endpoint: &str, message: &str) -> Result<(), WebPushError> {
        self.pause("sns.publish", 1).await;
        self.meter
            .add("sns.publish", Call::new().sent([message.len() as u64]));
        self.inner.publish(endpoint, message).await
    }

    async fn delete_endpoint(
        &self,
        endpoint: &str,
    ) -> Result<(), chat_core::error::MobilePushError> {
        self.pause("sns.delete_endpoint", 1).await;
        self.meter.add("sns.delete_endpoint", Call::new());
        self.inner.delete_endpoint(endpoint).await
    }
}

#[async_trait]
impl JobQueue for Metered<dyn JobQueue> {
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), QueueError> {
        self.pause("queue.enqueue", jobs.len()).await;
        self.meter.add(
            "queue.enqueue",
            Call::new().sent(jobs.iter().map(encoded_len)),
        );
        self.inner.enqueue(jobs).await
    }
}

#[async_trait]
impl Pusher for Metered<dyn Pusher> {
    async fn post(&self, conn: &ConnectionId, frame: &[u8]) -> Result<(), PushError> {
        if let Some(l) = &self.latency {
            l.push_started();
        }
        self.pause("pusher.post", 1).await;
        let r = self.inner.post(conn, frame).await;
        if let (Some(l), Ok(())) = (&self.latency, &r) {
            l.pushed(frame);
        }
        let op = match &r {
            Ok(()) => "pusher.post",
            Err(PushError::Gone) => "pusher.post.gone",
            Err(PushError::Transient(_)) => "pusher.post.failed",
        };
        self.meter.add(op, Call::new().sent([frame.len() as u64]));
        r
    }

    async fn disconnect(&self, conn: &ConnectionId) -> Result<(), PushError> {
        self.pause("pusher.disconnect", 1).await;
        self.meter.add("pusher.disconnect", Call::new());
        self.inner.disconnect(conn).await
    }
}

#[async_trait]
impl RateLimiter for Metered<dyn RateLimiter> {
    async fn acquire(&self, buckets: &[Bucket], now: Millis) -> Result<Verdict, StoreError> {
        let redis = self.latency.as_ref().is_some_and(|l| l.redis_rate_limit);
        if redis {
            self.pause("ratelimit.acquire.redis", 1).await;
        }
        self.meter.add("ratelimit.acquire", Call::new());
        self.inner.acquire(buckets, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::config::Limits;
    use chat_core::model::{Role, RoomKind};

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    #[test]
    fn sizes_round_up_to_their_unit_and_never_to_zero() {
        assert_eq!(kib_units(0, 1024), 1);
        assert_eq!(kib_units(1024, 1024), 1);
        assert_eq!(kib_units(1025, 1024), 2);
        assert_eq!(kib_units(4097, 4096), 2);
    }

    #[tokio::test]
    async fn counts_calls_items_and_one_lookup_per_user() {
        let (chat, _mem) = Chat::in_memory(Limits::default());
        let meter = Meter::new();
        let chat = metered(&chat, &meter);
        for (id, user) in [("c1", "alice"), ("c2", "alice"), ("c3", "bob")] {
            chat.connections
                .put(&ConnectionRecord {
                    connection_id: ConnectionId::parse(id).unwrap(),
                    user_id: uid(user),
                    connected_at: 0,
                    expires_at: 1,
                })
                .await
                .unwrap();
        }
        let found = chat
            .connections
            .for_users(&[uid("alice"), uid("bob"), uid("carol")])
            .await
            .unwrap();
        assert_eq!(found.len(), 3);
        let t = meter.get("connections.for_users");
        assert_eq!((t.calls, t.items, t.lookups, t.lookup_4kib), (1, 3, 3, 3));
        let puts = meter.get("connections.put");
        assert_eq!((puts.calls, puts.items, puts.item_kib), (3, 3, 3));
        assert!(puts.bytes > 0);
        meter.reset();
        assert!(meter.snapshot().is_empty());
    }

    #[tokio::test]
    async fn cursor_moves_are_counted_by_status() {
        let (chat, _mem) = Chat::in_memory(Limits::default());
        let meter = Meter::new();
        let chat = metered(&chat, &meter);
        let room = Room {
            room_id: RoomId::generate(),
            kind: RoomKind::Group,
            name: chat_core::ids::RoomName::parse("r").unwrap(),
            owner_id: uid("alice"),
            created_at: 0,
        };
        let m = Membership::new(room.room_id.clone(), uid("alice"), Role::Owner, 0);
        assert!(chat.rooms.create(&room, &[m]).await.unwrap());
        chat.rooms
            .advance_cursor(&room.room_id, &uid("alice"), ReceiptStatus::Read, 1)
            .await
            .unwrap();
        assert_eq!(meter.get("rooms.advance_cursor.read").calls, 1);
        assert_eq!(meter.get("rooms.advance_cursor.delivered").calls, 0);
        assert_eq!(meter.get("rooms.create").items, 2);
    }
}
