//! Faults a managed service can have, staged on purpose in front of the
//! ports: [`FailingPuts`] (message writes) and the [`FaultLab`] (pushes to a
//! connection, the queue, any named store operation, a lagging index).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use chat_core::error::{PushError, QueueError, StoreError};
use chat_core::ids::{ConnectionId, Millis, RoomId, Seq, UserId};
use chat_core::model::{
    ConnectionRecord, Job, Membership, Message, MessageDraft, ReceiptStatus, Reservation, Room,
    SeqFate,
};
use chat_core::ports::{ConnectionStore, JobQueue, MessageStore, Pusher, RangeQuery, RoomStore};
use chat_core::service::Chat;

/// Fault injection in front of any [`MessageStore`]: the next `n` message
/// writes fail as if the database were down, whatever the backend. The local
/// platform (`POST /dev/faults`) and the persistence tests use it to prove
/// that failed records are retried and nothing is lost or duplicated.
pub struct FailingPuts {
    inner: Arc<dyn MessageStore>,
    remaining: AtomicU32,
}

impl FailingPuts {
    pub fn new(inner: Arc<dyn MessageStore>) -> Self {
        Self {
            inner,
            remaining: AtomicU32::new(0),
        }
    }

    /// Makes the next `n` message writes fail.
    pub fn fail_next_puts(&self, n: u32) {
        self.remaining.store(n, Ordering::SeqCst);
    }

    /// How many staged write failures are still to come.
    pub fn pending(&self) -> u32 {
        self.remaining.load(Ordering::SeqCst)
    }

    fn take_failure(&self) -> bool {
        self.remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

#[async_trait]
impl MessageStore for FailingPuts {
    async fn reserve(&self, draft: MessageDraft) -> Result<Reservation, StoreError> {
        self.inner.reserve(draft).await
    }

    async fn last_seq(&self, room: &RoomId) -> Result<Seq, StoreError> {
        self.inner.last_seq(room).await
    }

    async fn settle(&self, room: &RoomId, seq: Seq) -> Result<SeqFate, StoreError> {
        self.inner.settle(room, seq).await
    }

    async fn put_batch(&self, messages: &[Message]) -> Vec<Result<(), StoreError>> {
        let failing: Vec<bool> = messages.iter().map(|_| self.take_failure()).collect();
        let through: Vec<Message> = messages
            .iter()
            .zip(&failing)
            .filter(|(_, f)| !**f)
            .map(|(m, _)| m.clone())
            .collect();
        let mut stored = self.inner.put_batch(&through).await.into_iter();
        failing
            .into_iter()
            .map(|fail| {
                if fail {
                    Err(StoreError::unavailable(
                        "injected failure: message store down",
                    ))
                } else {
                    stored.next().unwrap_or_else(|| {
                        Err(StoreError::Corrupt(
                            "inner store answered too few results".into(),
                        ))
                    })
                }
            })
            .collect()
    }

    async fn range(&self, room: &RoomId, q: RangeQuery) -> Result<Vec<Message>, StoreError> {
        self.inner.range(room, q).await
    }

    async fn latest(&self, rooms: &[RoomId]) -> Result<Vec<Message>, StoreError> {
        self.inner.latest(rooms).await
    }

    async fn get(&self, room: &RoomId, seq: Seq) -> Result<Option<Message>, StoreError> {
        self.inner.get(room, seq).await
    }

    async fn replies(
        &self,
        room: &RoomId,
        target: Seq,
        after: Option<Seq>,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.inner.replies(room, target, after, limit).await
    }
}

/// How a staged push fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushFailure {
    /// Throttled or 5xx: the platform retries it, then leaves it to `sync`.
    Transient,
    /// 410: the platform forgets the connection.
    Gone,
}

/// A store operation the lab can fail, named `store.operation` as in
/// `POST /dev/faults {"failStore": {"op": "connections.forUsers", "n": 1}}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StoreOp {
    ConnectionsPut,
    ConnectionsGet,
    ConnectionsTouch,
    ConnectionsDelete,
    ConnectionsForUsers,
    MessagesReserve,
    MessagesLastSeq,
    MessagesSettle,
    MessagesRange,
    MessagesLatest,
    RoomsCreate,
    RoomsGet,
    RoomsGetMany,
    RoomsMembership,
    RoomsMembers,
    RoomsRoomsOf,
    RoomsAddMember,
    RoomsRemoveMember,
    RoomsAdvanceCursor,
    RoomsListChannels,
}

impl StoreOp {
    /// Every operation with its name.
    pub const ALL: [(StoreOp, &'static str); 20] = [
        (StoreOp::ConnectionsPut, "connections.put"),
        (StoreOp::ConnectionsGet, "connections.get"),
        (StoreOp::ConnectionsTouch, "connections.touch"),
        (StoreOp::ConnectionsDelete, "connections.delete"),
        (StoreOp::ConnectionsForUsers, "connections.forUsers"),
        (StoreOp::MessagesReserve, "messages.reserve"),
        (StoreOp::MessagesLastSeq, "messages.lastSeq"),
        (StoreOp::MessagesSettle, "messages.settle"),
        (StoreOp::MessagesRange, "messages.range"),
        (StoreOp::MessagesLatest, "messages.latest"),
        (StoreOp::RoomsCreate, "rooms.create"),
        (StoreOp::RoomsGet, "rooms.get"),
        (StoreOp::RoomsGetMany, "rooms.getMany"),
        (StoreOp::RoomsMembership, "rooms.membership"),
        (StoreOp::RoomsMembers, "rooms.members"),
        (StoreOp::RoomsRoomsOf, "rooms.roomsOf"),
        (StoreOp::RoomsAddMember, "rooms.addMember"),
        (StoreOp::RoomsRemoveMember, "rooms.removeMember"),
        (StoreOp::RoomsAdvanceCursor, "rooms.advanceCursor"),
        (StoreOp::RoomsListChannels, "rooms.listChannels"),
    ];

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(op, _)| *op)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(op, _)| *op == self)
            .map_or("unknown", |(_, n)| n)
    }
}

/// Which pushes a staged push fault hits.
struct PushFault {
    /// `None`: any connection.
    target: Option<ConnectionId>,
    failure: PushFailure,
    remaining: u32,
}

/// The fault lab: faults staged on purpose in front of the platform's ports,
/// whatever the backend, and consumed as the calls come. [`FaultLab::install`]
/// puts its decorators around a [`Chat`]'s pusher, queue, connection store
/// and message store; the local platform stages faults through
/// `POST /dev/faults`, the acceptance tests directly.
#[derive(Default)]
pub struct FaultLab {
    pushes: Mutex<Vec<PushFault>>,
    enqueues: AtomicU32,
    /// Queue records the persistence function is to fail.
    records: AtomicU32,
    /// Reservations to fail between counting their seq and claiming it.
    claims: AtomicU32,
    /// Per operation: calls to let through first, then calls to fail.
    ops: Mutex<HashMap<StoreOp, (u32, u32)>>,
    index: Mutex<IndexLag>,
}

/// Where a store decorator sits: where the domain calls the store (failed
/// operations; the index lag too when nothing is beneath), or beneath a
/// cache, where the index really is (the lag only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layer {
    Faults,
    IndexLag,
    Both,
}

impl Layer {
    fn faults(self, lab: &FaultLab, op: StoreOp) -> Result<(), StoreError> {
        match self {
            Layer::IndexLag => Ok(()),
            Layer::Faults | Layer::Both => lab.store_fault(op),
        }
    }
    fn lags(self) -> bool {
        self != Layer::Faults
    }
    fn lagging(self, lab: &FaultLab) -> Option<std::sync::MutexGuard<'_, IndexLag>> {
        if self.lags() {
            lab.lagging()
        } else {
            None
        }
    }
}

/// A lagging index (DynamoDB's GSI1): while `lag` is set, the index reads
/// (`connections.forUsers`, `rooms.roomsOf`) do not show writes younger than
/// it yet, and still show what was deleted within it.
#[derive(Default)]
struct IndexLag {
    lag: Duration,
    conns_put: HashMap<ConnectionId, Instant>,
    conns_deleted: Vec<(ConnectionRecord, Instant)>,
    joined: HashMap<(RoomId, UserId), Instant>,
    left: Vec<(Membership, Instant)>,
}

impl IndexLag {
    fn forget_settled(&mut self) {
        let lag = self.lag;
        let fresh = |t: &Instant| t.elapsed() < lag;
        self.conns_put.retain(|_, t| fresh(t));
        self.conns_deleted.retain(|(_, t)| fresh(t));
        self.joined.retain(|_, t| fresh(t));
        self.left.retain(|(_, t)| fresh(t));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn take_one(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

impl FaultLab {
    pub fn new() -> Arc<FaultLab> {
        Arc::new(FaultLab::default())
    }

    /// Wraps `chat`'s ports in the lab's decorators, the index lag included;
    /// returns the lab.
    pub fn install(chat: &mut Chat) -> Arc<FaultLab> {
        let lab = Arc::new(FaultLab::default());
        lab.install_on(chat, true);
        lab
    }

    /// Wraps `chat`'s ports in the lab's decorators; `with_index_lag` false
    /// when [`FaultLab::beneath_cache`] already put the index lag where the
    /// index is.
    pub fn install_on(self: &Arc<Self>, chat: &mut Chat, with_index_lag: bool) {
        let layer = if with_index_lag {
            Layer::Both
        } else {
            Layer::Faults
        };
        let lab = self;
        chat.pusher = Arc::new(FaultyPusher {
            inner: chat.pusher.clone(),
            lab: lab.clone(),
        });
        chat.queue = Arc::new(FaultyQueue {
            inner: chat.queue.clone(),
            lab: lab.clone(),
        });
        chat.connections = Arc::new(FaultyConnections {
            inner: chat.connections.clone(),
            lab: lab.clone(),
            layer,
        });
        chat.messages = Arc::new(FaultyMessages {
            inner: chat.messages.clone(),
            lab: lab.clone(),
        });
        chat.rooms = Arc::new(FaultyRooms {
            inner: chat.rooms.clone(),
            lab: lab.clone(),
            layer,
        });
    }

    /// The index lag alone, for the stores beneath a cache (what the DynamoDB
    /// adapters are to the Redis decorators): so the cache sees the lag as it
    /// would see GSI1's.
    pub fn beneath_cache(
        self: &Arc<Self>,
        connections: Arc<dyn ConnectionStore>,
        rooms: Arc<dyn RoomStore>,
    ) -> (Arc<dyn ConnectionStore>, Arc<dyn RoomStore>) {
        (
            Arc::new(FaultyConnections {
                inner: connections,
                lab: self.clone(),
                layer: Layer::IndexLag,
            }),
            Arc::new(FaultyRooms {
                inner: rooms,
                lab: self.clone(),
                layer: Layer::IndexLag,
            }),
        )
    }

    /// Index writes the lag still hides (or deletions it still shows).
    pub fn index_pending(&self) -> usize {
        match self.lagging() {
            Some(g) => g.conns_put.len() + g.conns_deleted.len() + g.joined.len() + g.left.len(),
            None => 0,
        }
    }

    /// Index reads lag `lag` behind writes from now on (zero: no lag).
    pub fn lag_index(&self, lag: Duration) {
        let mut g = lock(&self.index);
        *g = IndexLag {
            lag,
            ..IndexLag::default()
        };
    }

    fn lagging(&self) -> Option<std::sync::MutexGuard<'_, IndexLag>> {
        let mut g = lock(&self.index);
        if g.lag.is_zero() {
            return None;
        }
        g.forget_settled();
        Some(g)
    }

    /// The next `n` pushes to `target` (`None`: to any connection) fail.
    /// Staging again for the same target replaces what is left of it.
    pub fn fail_pushes(&self, target: Option<ConnectionId>, failure: PushFailure, n: u32) {
        let mut g = lock(&self.pushes);
        g.retain(|f| f.target != target);
        g.push(PushFault {
            target,
            failure,
            remaining: n,
        });
    }

    /// The queue refuses the next `n` sends.
    pub fn refuse_enqueues(&self, n: u32) {
        self.enqueues.store(n, Ordering::SeqCst);
    }

    /// The next `n` calls to `op` fail as if the database were down.
    pub fn fail_store(&self, op: StoreOp, n: u32) {
        self.fail_store_after(op, 0, n);
    }

    /// The `n` calls to `op` that follow the next `after` fail as if the
    /// database were down (a failure in the middle of a batch of calls).
    pub fn fail_store_after(&self, op: StoreOp, after: u32, n: u32) {
        lock(&self.ops).insert(op, (after, n));
    }

    /// The persistence function fails the next `n` queue records it is
    /// handed: it reports them in `batchItemFailures` without acting on
    /// them, as when DynamoDB is down for it. The event source then does
    /// what it does with any failed record (visibility timeout, redelivery,
    /// the dead-letter queue past `maxReceiveCount`).
    pub fn fail_records(&self, n: u32) {
        self.records.store(n, Ordering::SeqCst);
    }

    /// The next `n` reservations count a seq and then fail before claiming
    /// it (a Lambda that died, or a claim transaction DynamoDB refused):
    /// each leaves a burned seq, and the send fails.
    pub fn fail_claims(&self, n: u32) {
        self.claims.store(n, Ordering::SeqCst);
    }

    /// How many staged claim failures are still to come.
    pub fn claims_pending(&self) -> u32 {
        self.claims.load(Ordering::SeqCst)
    }

    /// Takes up to `k` of the staged record failures; answers how many.
    pub fn take_record_failures(&self, k: usize) -> usize {
        let k = u32::try_from(k).unwrap_or(u32::MAX);
        let mut taken = 0;
        let _ = self
            .records
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                taken = n.min(k);
                Some(n - taken)
            });
        taken as usize
    }

    /// How many staged push failures are still to come.
    pub fn pushes_pending(&self) -> u32 {
        lock(&self.pushes).iter().map(|f| f.remaining).sum()
    }

    /// How many staged record failures are still to come.
    pub fn records_pending(&self) -> u32 {
        self.records.load(Ordering::SeqCst)
    }

    /// How many staged queue refusals are still to come.
    pub fn enqueues_pending(&self) -> u32 {
        self.enqueues.load(Ordering::SeqCst)
    }

    /// The store operations with failures still to come, and how many.
    pub fn store_pending(&self) -> Vec<(StoreOp, u32)> {
        let mut left: Vec<(StoreOp, u32)> = lock(&self.ops)
            .iter()
            .filter(|(_, (_, n))| *n > 0)
            .map(|(op, (_, n))| (*op, *n))
            .collect();
        left.sort_by_key(|(op, _)| op.name());
        left
    }

    /// Clears every staged fault of the lab.
    pub fn clear(&self) {
        lock(&self.pushes).clear();
        self.enqueues.store(0, Ordering::SeqCst);
        self.records.store(0, Ordering::SeqCst);
        self.claims.store(0, Ordering::SeqCst);
        lock(&self.ops).clear();
        self.lag_index(Duration::ZERO);
    }

    fn push_fault(&self, conn: &ConnectionId) -> Option<PushFailure> {
        let mut g = lock(&self.pushes);
        // A fault staged for this connection comes before one for any.
        let i = g
            .iter()
            .position(|f| f.remaining > 0 && f.target.as_ref() == Some(conn))
            .or_else(|| g.iter().position(|f| f.remaining > 0 && f.target.is_none()))?;
        g[i].remaining -= 1;
        Some(g[i].failure)
    }

    fn store_fault(&self, op: StoreOp) -> Result<(), StoreError> {
        let mut g = lock(&self.ops);
        match g.get_mut(&op) {
            Some((after, _)) if *after > 0 => {
                *after -= 1;
                Ok(())
            }
            Some((_, n)) if *n > 0 => {
                *n -= 1;
                Err(StoreError::unavailable(format!(
                    "injected failure: {} unavailable",
                    op.name()
                )))
            }
            _ => Ok(()),
        }
    }
}

struct FaultyPusher {
    inner: Arc<dyn Pusher>,
    lab: Arc<FaultLab>,
}

#[async_trait]
impl Pusher for FaultyPusher {
    async fn post(&self, conn: &ConnectionId, frame: &[u8]) -> Result<(), PushError> {
        match self.lab.push_fault(conn) {
            Some(PushFailure::Transient) => {
                Err(PushError::Transient("injected failure: throttled".into()))
            }
            Some(PushFailure::Gone) => Err(PushError::Gone),
            None => self.inner.post(conn, frame).await,
        }
    }

    async fn disconnect(&self, conn: &ConnectionId) -> Result<(), PushError> {
        self.inner.disconnect(conn).await
    }
}

struct FaultyQueue {
    inner: Arc<dyn JobQueue>,
    lab: Arc<FaultLab>,
}

#[async_trait]
impl JobQueue for FaultyQueue {
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), QueueError> {
        if take_one(&self.lab.enqueues) {
            return Err(QueueError(
                "injected failure: queue refused the send".into(),
            ));
        }
        self.inner.enqueue(jobs).await
    }
}

struct FaultyConnections {
    inner: Arc<dyn ConnectionStore>,
    lab: Arc<FaultLab>,
    layer: Layer,
}

impl FaultyConnections {
    fn fault(&self, op: StoreOp) -> Result<(), StoreError> {
        self.layer.faults(&self.lab, op)
    }
    fn lagging(&self) -> Option<std::sync::MutexGuard<'_, IndexLag>> {
        self.layer.lagging(&self.lab)
    }
}

#[async_trait]
impl ConnectionStore for FaultyConnections {
    async fn put(&self, conn: &ConnectionRecord) -> Result<(), StoreError> {
        self.fault(StoreOp::ConnectionsPut)?;
        self.inner.put(conn).await?;
        if let Some(mut index) = self.lagging() {
            index
                .conns_put
                .insert(conn.connection_id.clone(), Instant::now());
        }
        Ok(())
    }
    async fn get(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        self.fault(StoreOp::ConnectionsGet)?;
        self.inner.get(id).await
    }
    async fn touch(&self, id: &ConnectionId, expires_at: Millis) -> Result<bool, StoreError> {
        self.fault(StoreOp::ConnectionsTouch)?;
        self.inner.touch(id, expires_at).await
    }
    async fn delete(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>, StoreError> {
        self.fault(StoreOp::ConnectionsDelete)?;
        let removed = self.inner.delete(id).await?;
        if let (Some(r), Some(mut index)) = (&removed, self.lagging()) {
            index.conns_deleted.push((r.clone(), Instant::now()));
        }
        Ok(removed)
    }
    async fn for_users(&self, users: &[UserId]) -> Result<Vec<ConnectionRecord>, StoreError> {
        self.fault(StoreOp::ConnectionsForUsers)?;
        let mut conns = self.inner.for_users(users).await?;
        if let Some(index) = self.lagging() {
            conns.retain(|c| !index.conns_put.contains_key(&c.connection_id));
            conns.extend(
                index
                    .conns_deleted
                    .iter()
                    .filter(|(c, _)| users.contains(&c.user_id))
                    .map(|(c, _)| c.clone()),
            );
        }
        Ok(conns)
    }
}

struct FaultyMessages {
    inner: Arc<dyn MessageStore>,
    lab: Arc<FaultLab>,
}

impl FaultyMessages {
    /// A reservation that counted the room's next seq and failed before
    /// claiming it, through the port: the next seq is settled first, which
    /// burns it (the race [`MessageStore::settle`] documents, won by the
    /// settle), so the next reservation counts past it as it would past a
    /// seq left unclaimed. What the room's members see is the same: a seq
    /// that holds no message, which `sync` lists in `burned`.
    async fn fail_claim(&self, room: &RoomId) -> StoreError {
        let burned = match self.inner.last_seq(room).await {
            Ok(last) => self
                .inner
                .settle(room, last + 1)
                .await
                .map(|f| (last + 1, f == SeqFate::Burned)),
            Err(e) => Err(e),
        };
        match burned {
            Ok((seq, true)) => StoreError::unavailable(format!(
                "injected failure: the reservation counted seq {seq} and failed before its claim"
            )),
            // A concurrent reservation claimed that seq first: this one
            // fails all the same.
            Ok((seq, false)) => StoreError::unavailable(format!(
                "injected failure: the reservation failed (seq {seq} was claimed by another)"
            )),
            Err(e) => e,
        }
    }
}

#[async_trait]
impl MessageStore for FaultyMessages {
    async fn reserve(&self, draft: MessageDraft) -> Result<Reservation, StoreError> {
        self.lab.store_fault(StoreOp::MessagesReserve)?;
        if take_one(&self.lab.claims) {
            return Err(self.fail_claim(&draft.room_id).await);
        }
        self.inner.reserve(draft).await
    }
    async fn settle(&self, room: &RoomId, seq: Seq) -> Result<SeqFate, StoreError> {
        self.lab.store_fault(StoreOp::MessagesSettle)?;
        self.inner.settle(room, seq).await
    }
    async fn last_seq(&self, room: &RoomId) -> Result<Seq, StoreError> {
        self.lab.store_fault(StoreOp::MessagesLastSeq)?;
        self.inner.last_seq(room).await
    }
    /// Message writes fail through [`FailingPuts`] (`failNextPuts`).
    async fn put_batch(&self, messages: &[Message]) -> Vec<Result<(), StoreError>> {
        self.inner.put_batch(messages).await
    }
    async fn range(&self, room: &RoomId, q: RangeQuery) -> Result<Vec<Message>, StoreError> {
        self.lab.store_fault(StoreOp::MessagesRange)?;
        self.inner.range(room, q).await
    }
    async fn latest(&self, rooms: &[RoomId]) -> Result<Vec<Message>, StoreError> {
        self.lab.store_fault(StoreOp::MessagesLatest)?;
        self.inner.latest(rooms).await
    }

    async fn get(&self, room: &RoomId, seq: Seq) -> Result<Option<Message>, StoreError> {
        self.lab.store_fault(StoreOp::MessagesRange)?;
        self.inner.get(room, seq).await
    }

    async fn replies(
        &self,
        room: &RoomId,
        target: Seq,
        after: Option<Seq>,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.lab.store_fault(StoreOp::MessagesRange)?;
        self.inner.replies(room, target, after, limit).await
    }
}

struct FaultyRooms {
    inner: Arc<dyn RoomStore>,
    lab: Arc<FaultLab>,
    layer: Layer,
}

impl FaultyRooms {
    fn fault(&self, op: StoreOp) -> Result<(), StoreError> {
        self.layer.faults(&self.lab, op)
    }
    fn lagging(&self) -> Option<std::sync::MutexGuard<'_, IndexLag>> {
        self.layer.lagging(&self.lab)
    }
}

#[async_trait]
impl RoomStore for FaultyRooms {
    async fn create(&self, room: &Room, members: &[Membership]) -> Result<bool, StoreError> {
        self.fault(StoreOp::RoomsCreate)?;
        let created = self.inner.create(room, members).await?;
        if let (true, Some(mut index)) = (created, self.lagging()) {
            for m in members {
                index
                    .joined
                    .insert((m.room_id.clone(), m.user_id.clone()), Instant::now());
            }
        }
        Ok(created)
    }
    async fn get(&self, id: &RoomId) -> Result<Option<Room>, StoreError> {
        self.fault(StoreOp::RoomsGet)?;
        self.inner.get(id).await
    }
    async fn get_many(&self, ids: &[RoomId]) -> Result<Vec<Room>, StoreError> {
        self.fault(StoreOp::RoomsGetMany)?;
        self.inner.get_many(ids).await
    }
    async fn membership(
        &self,
        room: &RoomId,
        user: &UserId,
    ) -> Result<Option<Membership>, StoreError> {
        self.fault(StoreOp::RoomsMembership)?;
        self.inner.membership(room, user).await
    }
    async fn members(&self, room: &RoomId) -> Result<Vec<Membership>, StoreError> {
        self.fault(StoreOp::RoomsMembers)?;
        self.inner.members(room).await
    }
    async fn rooms_of(&self, user: &UserId) -> Result<Vec<Membership>, StoreError> {
        self.fault(StoreOp::RoomsRoomsOf)?;
        let mut rooms = self.inner.rooms_of(user).await?;
        if let Some(index) = self.lagging() {
            rooms.retain(|m| {
                !index
                    .joined
                    .contains_key(&(m.room_id.clone(), m.user_id.clone()))
            });
            rooms.extend(
                index
                    .left
                    .iter()
                    .filter(|(m, _)| &m.user_id == user)
                    .map(|(m, _)| m.clone()),
            );
        }
        Ok(rooms)
    }
    async fn add_member(&self, m: &Membership) -> Result<bool, StoreError> {
        self.fault(StoreOp::RoomsAddMember)?;
        let added = self.inner.add_member(m).await?;
        if let (true, Some(mut index)) = (added, self.lagging()) {
            index
                .joined
                .insert((m.room_id.clone(), m.user_id.clone()), Instant::now());
        }
        Ok(added)
    }
    async fn remove_member(&self, room: &RoomId, user: &UserId) -> Result<bool, StoreError> {
        self.fault(StoreOp::RoomsRemoveMember)?;
        let lagging = self.layer.lags() && !lock(&self.lab.index).lag.is_zero();
        let was = match lagging {
            true => self.inner.membership(room, user).await?,
            false => None,
        };
        let removed = self.inner.remove_member(room, user).await?;
        if let (true, Some(m), Some(mut index)) = (removed, was, self.lagging()) {
            index.left.push((m, Instant::now()));
        }
        Ok(removed)
    }
    async fn advance_cursor(
        &self,
        room: &RoomId,
        user: &UserId,
        status: ReceiptStatus,
        seq: Seq,
    ) -> Result<bool, StoreError> {
        self.fault(StoreOp::RoomsAdvanceCursor)?;
        self.inner.advance_cursor(room, user, status, seq).await
    }
    async fn list_channels(&self, limit: usize) -> Result<Vec<Room>, StoreError> {
        self.fault(StoreOp::RoomsListChannels)?;
        self.inner.list_channels(limit).await
    }
}
