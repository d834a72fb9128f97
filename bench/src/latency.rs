//! Modeled latency: what the platform's send path would take as deployed,
//! predicted from how long each AWS call it makes takes.
//!
//! The same decorators that count port calls for the cost model
//! ([`crate::metering::Metered`]) also wait, when given a [`Latency`], for a
//! time drawn from the distribution of the AWS operation(s) the port call is
//! in the adapters of `adapters/` ([`plan`]): `messages.reserve` is a
//! GetItem, then an UpdateItem, then a conditional PutItem, one after the
//! other; `connections.for_users` is one GSI Query per user, 16 in flight.
//! Everything runs on a tokio runtime with **paused time**, so the waits
//! cost no wall time and the services' own concurrency (`try_join!`,
//! `buffer_unordered`) decides what overlaps: the figures are the modeled
//! network time of the real code paths, not of a hand-drawn diagram.
//!
//! Each distribution is log-normal, fixed by its p50 and p99 ([`DEFAULT_TABLE`],
//! overridable with `--latency-file` and `--latency NAME=P50:P99`). A second
//! run with every call taking exactly 1 ms counts the **sequential round
//! trips** on the critical path: the time of the first push is that count.
//!
//! What is not modeled: the client's own network to API Gateway, the
//! functions' CPU time beyond what this machine's run of the in-memory
//! adapters takes (request signing, TLS and JSON of the SDKs), cold starts,
//! throttling and retries.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cost;
use crate::metering::{decorated, Meter, Tally};
use crate::stats::Percentiles;
use chat_core::auth::Identity;
use chat_core::ids::{ConnectionId, UserId};
use chat_core::memory::ManualClock;
use chat_core::model::RoomKind;
use chat_core::ports::SystemClock;
use chat_core::service::MemoryBackends;

/// One AWS (or Redis) operation's latency distribution, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dist {
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// z of the 99th percentile of the standard normal distribution.
const Z99: f64 = 2.326_347_874;

impl Dist {
    /// A log-normal draw from a uniform `u1, u2` in (0, 1] (Box–Muller).
    fn draw(&self, u1: f64, u2: f64) -> f64 {
        let p50 = self.p50_ms.max(0.0);
        if p50 == 0.0 {
            return 0.0;
        }
        let sigma = (self.p99_ms.max(p50) / p50).ln() / Z99;
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        p50 * (sigma * z).exp()
    }
}

/// The default figures, with where they come from. Same-region calls from a
/// warm Lambda over a kept-alive HTTPS connection; see docs/BENCHMARKS.md
/// ("Modeled latency") for the sources and the assumptions.
pub const DEFAULT_TABLE: &[(&str, f64, f64, &str)] = &[
    (
        "dynamodb.GetItem",
        4.0,
        12.0,
        "single-digit ms (DynamoDB docs); commonly measured p50 3-5, p99 10-15 from Lambda",
    ),
    (
        "dynamodb.Query",
        5.0,
        15.0,
        "like GetItem, one partition, results under 4 KB",
    ),
    (
        "dynamodb.PutItem",
        6.0,
        18.0,
        "writes wait for 2 of 3 AZs: ~1.5x a read",
    ),
    ("dynamodb.UpdateItem", 6.0, 18.0, "as PutItem"),
    ("dynamodb.DeleteItem", 6.0, 18.0, "as PutItem"),
    (
        "dynamodb.TransactWriteItems",
        12.0,
        35.0,
        "two phases: ~2x a write",
    ),
    (
        "dynamodb.BatchWriteItem",
        10.0,
        30.0,
        "25 items written in parallel server-side",
    ),
    (
        "dynamodb.BatchGetItem",
        6.0,
        20.0,
        "up to 100 keys read in parallel server-side",
    ),
    (
        "sqs.SendMessage",
        10.0,
        40.0,
        "SQS standard: commonly 5-20 ms, long tail",
    ),
    (
        "apigw.PostToConnection",
        15.0,
        50.0,
        "Management API: commonly 10-30 ms, long tail",
    ),
    (
        "redis.Command",
        0.6,
        2.0,
        "ElastiCache in the same AZ over TLS: sub-ms p50",
    ),
    (
        "lambda.Invoke",
        10.0,
        35.0,
        "API Gateway WebSocket route to a warm Lambda, integration overhead",
    ),
    (
        "lambda.SqsPoll",
        25.0,
        120.0,
        "SQS event source: a visible message reaches a warm function through Lambda's long-polling pollers, commonly tens of ms (plus any batching window, modeled apart)",
    ),
];

/// Why a latency override could not be used.
#[derive(Debug, Error)]
pub enum TableError {
    #[error("unknown latency operation {0:?} (known: {1})")]
    Unknown(String, String),
    #[error("latency {0:?}: expected NAME=P50:P99 in ms, with 0 <= P50 <= P99")]
    Malformed(String),
    #[error("latency file: {0}")]
    File(String),
}

/// Per-operation distributions, by the names of [`DEFAULT_TABLE`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table(pub BTreeMap<String, Dist>);

impl Default for Table {
    fn default() -> Self {
        Table(
            DEFAULT_TABLE
                .iter()
                .map(|(n, p50, p99, _)| {
                    (
                        (*n).to_owned(),
                        Dist {
                            p50_ms: *p50,
                            p99_ms: *p99,
                        },
                    )
                })
                .collect(),
        )
    }
}

impl Table {
    /// Every operation taking exactly `ms` (the round-trip count uses 1).
    pub fn constant(ms: f64) -> Self {
        let mut t = Table::default();
        for d in t.0.values_mut() {
            *d = Dist {
                p50_ms: ms,
                p99_ms: ms,
            };
        }
        t
    }

    fn set(&mut self, name: &str, d: Dist) -> Result<(), TableError> {
        if !(d.p50_ms >= 0.0 && d.p99_ms >= d.p50_ms && d.p99_ms.is_finite()) {
            return Err(TableError::Malformed(name.to_owned()));
        }
        match self.0.get_mut(name) {
            Some(slot) => {
                *slot = d;
                Ok(())
            }
            None => Err(TableError::Unknown(
                name.to_owned(),
                self.0.keys().cloned().collect::<Vec<_>>().join(", "),
            )),
        }
    }

    /// Applies one `NAME=P50:P99` override.
    pub fn apply(&mut self, spec: &str) -> Result<(), TableError> {
        let bad = || TableError::Malformed(spec.to_owned());
        let (name, v) = spec.split_once('=').ok_or_else(bad)?;
        let (a, b) = v.split_once(':').ok_or_else(bad)?;
        let p50_ms = a.trim().parse().map_err(|_| bad())?;
        let p99_ms = b.trim().parse().map_err(|_| bad())?;
        self.set(name.trim(), Dist { p50_ms, p99_ms })
    }

    /// Applies a JSON object `{"dynamodb.GetItem": {"p50Ms": 4, "p99Ms": 12}, …}`.
    pub fn apply_json(&mut self, text: &str) -> Result<(), TableError> {
        let m: BTreeMap<String, Dist> =
            serde_json::from_str(text).map_err(|e| TableError::File(e.to_string()))?;
        for (name, d) in m {
            self.set(&name, d)?;
        }
        Ok(())
    }
}

/// SplitMix64: small, seedable, good enough for drawing latencies.
struct Rng(u64);

impl Rng {
    fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // (0, 1]: never 0, so ln() is finite.
        ((z >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }
}

/// Most queries the DynamoDB adapter runs at once (`QUERY_CONCURRENCY`).
pub const QUERY_CONCURRENCY: usize = 16;
/// Keys per BatchGetItem, items per BatchWriteItem, jobs per SendMessageBatch.
const BATCH_GET: usize = 100;
const BATCH_WRITE: usize = 25;
const SQS_BATCH: usize = 10;
/// A Query page stops at 1 MB of items.
const QUERY_PAGE_BYTES: u64 = 1024 * 1024;

/// How the adapters of `adapters/` perform one port operation: which AWS
/// calls, how many, and how many at once. `n` is the operation's size (users
/// looked up, items written, jobs sent, bytes returned for a query).
/// Steps run one after another; the calls of one step run at once.
pub type Plan = Vec<Vec<Calls>>;
/// (AWS operation, calls, in flight at once)
pub type Calls = (&'static str, usize, usize);

pub fn plan(op: &str, n: usize) -> Plan {
    let seq = |call: &'static str, count: usize| vec![vec![(call, count.max(1), 1)]];
    match op {
        "connections.get"
        | "rooms.get"
        | "rooms.membership"
        | "messages.last_seq"
        | "profiles.get"
        | "messages.reserve.duplicate" => seq("dynamodb.GetItem", 1),
        "connections.put" | "rooms.add_member" | "profiles.create_if_absent" => {
            seq("dynamodb.PutItem", 1)
        }
        "connections.touch" | "rooms.advance_cursor.delivered" | "profiles.update" => {
            seq("dynamodb.UpdateItem", 1)
        }
        "connections.delete" | "rooms.remove_member" => seq("dynamodb.DeleteItem", 1),
        // Delivered, then read: two conditional UpdateItems.
        "rooms.advance_cursor.read" => seq("dynamodb.UpdateItem", 2),
        "rooms.create" => seq("dynamodb.TransactWriteItems", 1),
        // One Query (GSI1 or the room's partition), paged at 1 MB.
        "rooms.members" | "rooms.rooms_of" | "rooms.list_channels" | "messages.range" => seq(
            "dynamodb.Query",
            (n as u64).div_ceil(QUERY_PAGE_BYTES) as usize,
        ),
        // One GSI query per distinct user, or per room.
        "connections.for_users" | "messages.latest" => {
            if n == 0 {
                Vec::new()
            } else {
                vec![vec![("dynamodb.Query", n, QUERY_CONCURRENCY)]]
            }
        }
        "rooms.get_many" | "profiles.get_many" => {
            seq("dynamodb.BatchGetItem", n.div_ceil(BATCH_GET))
        }
        // Read the claim and count at once, then claim it and the seq's
        // slot in one transaction: two round trips.
        "messages.reserve.new" => vec![
            vec![("dynamodb.GetItem", 1, 1), ("dynamodb.UpdateItem", 1, 1)],
            vec![("dynamodb.TransactWriteItems", 1, 1)],
        ],
        // A conditional PutItem of the burned marker.
        "messages.settle" => seq("dynamodb.PutItem", 1),
        "messages.put_batch" => seq("dynamodb.BatchWriteItem", n.div_ceil(BATCH_WRITE)),
        // The index items of a batch's messages (`n` items), 25 a call, one
        // call after the other.
        "search.index" => seq("dynamodb.BatchWriteItem", n.div_ceil(BATCH_WRITE)),
        "search.search" => seq("dynamodb.Query", 1),
        "changes.last_change" | "changes.state" => seq("dynamodb.GetItem", 1),
        "changes.states" | "changes.changes_after" => seq("dynamodb.Query", 1),
        "changes.commit" => seq("dynamodb.TransactWriteItems", 1),
        "search.remove" => vec![
            vec![("dynamodb.GetItem", 1, 1)],
            vec![("dynamodb.BatchWriteItem", 1, 1)],
            vec![("dynamodb.BatchWriteItem", 1, 1)],
        ],
        // SendMessageBatch calls of 10, all at once.
        "queue.enqueue" => {
            let calls = n.div_ceil(SQS_BATCH).max(1);
            vec![vec![("sqs.SendMessage", calls, calls)]]
        }
        "pusher.post" | "pusher.disconnect" => seq("apigw.PostToConnection", 1),
        // Offline notifications: a policy read and a window claim per
        // offline member, a Query per member's devices, at once.
        "notify.policy" | "notify.devices" => seq("dynamodb.GetItem", 1),
        "notify.claim" => seq("dynamodb.UpdateItem", 1),
        "notify.put_policy" => seq("dynamodb.PutItem", 1),
        "notify.remove_device" => seq("dynamodb.DeleteItem", 1),
        "notify.put_device" => vec![
            vec![("dynamodb.Query", 1, 1)],
            vec![("dynamodb.PutItem", 1, 1)],
        ],
        "notify.devices_of" => {
            if n == 0 {
                Vec::new()
            } else {
                vec![vec![("dynamodb.Query", n, QUERY_CONCURRENCY)]]
            }
        }
        "blocks.relations" => seq("dynamodb.Query", 1),
        "blocks.block" => vec![
            vec![("dynamodb.Query", 1, 1)],
            vec![("dynamodb.TransactWriteItems", 1, 1)],
        ],
        "blocks.unblock" => seq("dynamodb.TransactWriteItems", 1),
        // "webpush.send" goes to the browser vendor's push service, outside
        // AWS: not modeled.
        "ratelimit.acquire.redis" => seq("redis.Command", 1),
        _ => Vec::new(),
    }
}

/// What a push carried, read off the frame's `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    Message,
    Ack,
    Other,
}

fn pushed_kind(frame: &[u8]) -> Pushed {
    #[derive(Deserialize)]
    struct Head<'a> {
        #[serde(borrow, rename = "type")]
        kind: &'a str,
    }
    match serde_json::from_slice::<Head>(frame) {
        Ok(h) if h.kind == "message" => Pushed::Message,
        Ok(h) if h.kind == "ack" => Pushed::Ack,
        _ => Pushed::Other,
    }
}

/// The pushes of one invocation, timed from its start.
#[derive(Debug, Default)]
pub struct Timeline {
    start: Option<tokio::time::Instant>,
    /// When the first push of any kind was started.
    pub first_push: Option<Duration>,
    /// When each push completed, by what it carried.
    pub pushes: Vec<(Pushed, Duration)>,
}

/// Draws latencies and waits them out; records the pushes of the invocation
/// under way. Shared by every decorated port of one [`crate::metering::Metered`] chat.
pub struct Latency {
    table: Table,
    rng: Mutex<Rng>,
    /// Whether the rate limiter is Redis (a round trip) or in-process.
    pub redis_rate_limit: bool,
    timeline: Mutex<Timeline>,
}

impl Latency {
    pub fn new(table: Table, seed: u64, redis_rate_limit: bool) -> Arc<Self> {
        Arc::new(Self {
            table,
            rng: Mutex::new(Rng(seed)),
            redis_rate_limit,
            timeline: Mutex::new(Timeline::default()),
        })
    }

    /// One draw of `name`'s latency, ms (0 for an unknown name).
    pub fn draw(&self, name: &str) -> f64 {
        let Some(d) = self.table.0.get(name) else {
            return 0.0;
        };
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        let (u1, u2) = (rng.next_unit(), rng.next_unit());
        d.draw(u1, u2)
    }

    fn sample(&self, name: &str) -> Duration {
        Duration::from_secs_f64(self.draw(name) / 1000.0)
    }

    /// Waits as long as the port operation `op` of size `n` takes.
    pub async fn wait(&self, op: &str, n: usize) {
        for step in plan(op, n) {
            futures::future::join_all(step.into_iter().map(|calls| self.wait_calls(calls))).await;
        }
    }

    async fn wait_calls(&self, (call, count, width): Calls) {
        if width <= 1 {
            for _ in 0..count {
                tokio::time::sleep(self.sample(call)).await;
            }
        } else {
            stream::iter(0..count)
                .map(|_| tokio::time::sleep(self.sample(call)))
                .buffer_unordered(width)
                .collect::<Vec<()>>()
                .await;
        }
    }

    /// A push is about to start.
    pub fn push_started(&self) {
        let mut t = self.timeline.lock().unwrap_or_else(|p| p.into_inner());
        if let (Some(start), None) = (t.start, t.first_push) {
            t.first_push = Some(start.elapsed());
        }
    }

    /// A push of `frame` completed.
    pub fn pushed(&self, frame: &[u8]) {
        let mut t = self.timeline.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(start) = t.start {
            let at = start.elapsed();
            t.pushes.push((pushed_kind(frame), at));
        }
    }

    /// Starts timing a new invocation; returns the previous one's timeline.
    pub fn begin(&self) -> Timeline {
        let mut t = self.timeline.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(
            &mut *t,
            Timeline {
                start: Some(tokio::time::Instant::now()),
                ..Timeline::default()
            },
        )
    }
}

/// One shape of load: rooms of `members` online members.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Shape {
    pub name: String,
    pub channel: bool,
    pub members: usize,
    pub rooms: usize,
    pub messages: usize,
}

/// The three shapes of the issue: rooms of 10, channels of 1,000 and of
/// 10,000 online members. `smoke` sends a handful of messages in each.
pub fn shapes(smoke: bool) -> Vec<Shape> {
    let shape = |name: &str, channel, members, rooms, messages, smoke_messages| Shape {
        name: name.to_owned(),
        channel,
        members,
        rooms,
        messages: if smoke { smoke_messages } else { messages },
    };
    vec![
        shape("rooms of 10", false, 10, 20, 2000, 40),
        shape("channels of 1,000", true, 1000, 2, 200, 4),
        shape("channels of 10,000", true, 10_000, 1, 30, 2),
    ]
}

/// What `chat-bench latency` is asked.
#[derive(Clone, Debug)]
pub struct LatencyConfig {
    pub table: Table,
    pub seed: u64,
    /// The rate limiter is Redis (one round trip per frame) rather than the
    /// function's own memory.
    pub redis_rate_limit: bool,
    /// Lambda memory: CPU is allotted in proportion (1,769 MB = 1 vCPU), so
    /// this machine's CPU time is scaled by `1769 / memory_mb` (at least 1).
    pub memory_mb: f64,
    /// Persist λ batch size (the event source's).
    pub batch_size: usize,
    /// The persist event source's batching window, ms: a batch smaller than
    /// `batch_size` waits it out (the stack's `persistBatchWindowSecs`).
    pub batch_window_ms: u64,
    /// Persist λ invocations at once (the event source's maximum
    /// concurrency, the stack's `persistMaxConcurrency`).
    pub persist_concurrency: usize,
    /// How often an idle client pings (the web app's `PING_MS`).
    pub ping_secs: u64,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        Self {
            table: Table::default(),
            seed: 0x5eed,
            redis_rate_limit: false,
            memory_mb: 256.0,
            batch_size: 25,
            batch_window_ms: 1000,
            persist_concurrency: 10,
            ping_secs: 540,
        }
    }
}

/// Mean billed duration of one kind of invocation, split into the modeled
/// waits on AWS and the (scaled) CPU time this machine spent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    pub invocations: u64,
    /// Mean of the billed durations (each rounded up to 1 ms, as Lambda bills).
    pub billed_ms: f64,
    pub wait_ms: f64,
    pub cpu_ms: f64,
}

#[derive(Default)]
struct DurationSum {
    n: u64,
    billed: f64,
    wait: f64,
    cpu: f64,
}

impl DurationSum {
    fn add(&mut self, wait: Duration, cpu: Duration, cpu_scale: f64) {
        let wait_ms = wait.as_secs_f64() * 1000.0;
        let cpu_ms = cpu.as_secs_f64() * 1000.0 * cpu_scale;
        self.n += 1;
        self.wait += wait_ms;
        self.cpu += cpu_ms;
        self.billed += (wait_ms + cpu_ms).ceil().max(1.0);
    }

    fn mean(&self) -> Invocation {
        let n = self.n.max(1) as f64;
        Invocation {
            invocations: self.n,
            billed_ms: self.billed / n,
            wait_ms: self.wait / n,
            cpu_ms: self.cpu / n,
        }
    }
}

/// What one shape predicts.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShapeReport {
    pub shape: Shape,
    /// Sequential round trips before the first push leaves (every AWS call
    /// counted once, whatever its latency).
    pub round_trips_to_first_push: u32,
    /// … before the ack reaches API Gateway (the ack's own push included).
    pub round_trips_to_ack: u32,
    /// … before the last member's copy is pushed.
    pub round_trips_to_last_deliver: u32,
    /// Invocation overhead + handler time until the ack push completed.
    pub send_to_ack: Percentiles,
    /// Invocation overhead + handler time until each member's push completed.
    pub send_to_deliver: Percentiles,
    pub message_lambda: Invocation,
    pub persist_lambda: Invocation,
    pub ping_lambda: Invocation,
    /// One member of this shape kept connected and idle.
    pub keepalive: Keepalive,
    pub refused: usize,
}

/// What keeping one member connected and idle asks of the backends: its
/// pings, and its reconnections (API Gateway closes every WebSocket after
/// 2 hours), each announcing it offline then online to its contacts.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Keepalive {
    pub ping_secs: u64,
    pub pings: u64,
    /// Port calls of those pings, summed.
    pub ping_calls: BTreeMap<&'static str, Tally>,
    pub ping_lambda: Invocation,
    /// Contacts told of each presence change.
    pub contacts: usize,
    /// Port calls of one `$disconnect` followed by one `$connect`.
    pub reconnect_calls: BTreeMap<&'static str, Tally>,
    pub connect_lambda: Invocation,
    pub disconnect_lambda: Invocation,
}

fn percentiles(values_ms: &[f64]) -> Percentiles {
    let mut h = crate::stats::histogram();
    for v in values_ms {
        crate::stats::record(&mut h, (v * 1000.0).round() as u64);
    }
    Percentiles::of(&h)
}

fn frame(room: &chat_core::ids::RoomId, n: usize) -> String {
    format!(
        r#"{{"action":"sendMessage","roomId":"{room}","clientMsgId":"lat-{n}","body":"modeled latency, 64 bytes of text to look like a chat message."}}"#
    )
}

/// Runs one shape on the current (paused-time) runtime.
async fn simulate(shape: &Shape, cfg: &LatencyConfig) -> ShapeReport {
    let cpu_scale = (1769.0 / cfg.memory_mb.max(1.0)).max(1.0);
    let (trips_first, trips_ack, trips_last) = round_trips(shape, cfg).await;

    let k = shape.members.max(2);
    let (mem, chat, mut pop) = populated(shape, shape.rooms).await;
    let latency = Latency::new(cfg.table.clone(), cfg.seed, cfg.redis_rate_limit);
    let meter = Meter::new();
    let chat = decorated(&chat, &meter, Some(latency.clone()));
    let rooms = shape.rooms.max(1);
    let (mut acks, mut delivers) = (Vec::new(), Vec::new());
    let mut message_lambda = DurationSum::default();
    let mut persist_lambda = DurationSum::default();
    let mut refused = 0;
    // A room this big is pushed to by the persist workers, from the queue.
    let queued = k > chat.limits.fanout_inline_max;
    for m in 0..shape.messages {
        let (room, conn, user) = &pop.senders[(m % rooms) * k + (m / rooms) % k];
        let invoke = latency.draw("lambda.Invoke");
        latency.begin();
        let (t0, c0) = (tokio::time::Instant::now(), std::time::Instant::now());
        if chat
            .handle_text(conn, Some(user), &frame(room, m))
            .await
            .is_err()
        {
            refused += 1;
        }
        let (wait, cpu) = (t0.elapsed(), c0.elapsed());
        message_lambda.add(wait, cpu, cpu_scale);
        if queued {
            let window = Duration::from_millis(cfg.batch_window_ms);
            for (w, c) in event_source(&mem, &chat, &latency, cfg, window).await {
                persist_lambda.add(w, c, cpu_scale);
            }
        }
        let t = latency.begin();
        let ms = |d: Duration| invoke + d.as_secs_f64() * 1000.0;
        for (kind, at) in t.pushes {
            match kind {
                Pushed::Ack => acks.push(ms(at)),
                Pushed::Message => delivers.push(ms(at)),
                Pushed::Other => {}
            }
        }
        pop.drain();
    }
    // The persist λ, one invocation per batch of what the sends queued.
    loop {
        let jobs = mem.queue.take(cfg.batch_size.max(1));
        if jobs.is_empty() {
            break;
        }
        let batch: Vec<(String, String)> = jobs.into_iter().map(|j| (j.id, j.body)).collect();
        let (t0, c0) = (tokio::time::Instant::now(), std::time::Instant::now());
        chat.persist_batch(&batch).await;
        persist_lambda.add(t0.elapsed(), c0.elapsed(), cpu_scale);
        pop.drain();
    }
    // The message λ answering `ping`.
    let mut ping_lambda = DurationSum::default();
    for (_, conn, user) in pop.senders.iter().take(20) {
        let (t0, c0) = (tokio::time::Instant::now(), std::time::Instant::now());
        if chat
            .handle_text(conn, Some(user), r#"{"action":"ping"}"#)
            .await
            .is_err()
        {
            refused += 1;
        }
        ping_lambda.add(t0.elapsed(), c0.elapsed(), cpu_scale);
    }
    pop.drain();
    let keepalive = keepalive(k, cfg, cpu_scale).await;
    ShapeReport {
        shape: shape.clone(),
        round_trips_to_first_push: trips_first,
        round_trips_to_ack: trips_ack,
        round_trips_to_last_deliver: trips_last,
        send_to_ack: percentiles(&acks),
        send_to_deliver: percentiles(&delivers),
        message_lambda: message_lambda.mean(),
        persist_lambda: persist_lambda.mean(),
        ping_lambda: ping_lambda.mean(),
        keepalive,
        refused,
    }
}

/// The persist event source handing what is queued to the persist λ: a
/// batch smaller than `batch_size` waits out `window`, then Lambda's pollers
/// deliver it; the batches run at once, up to `persist_concurrency`.
/// Returns each invocation's (modeled wait, CPU) time. Time starts when the
/// message function returned, just after the enqueue: a few ms late.
async fn event_source(
    mem: &MemoryBackends,
    chat: &chat_core::Chat,
    latency: &Latency,
    cfg: &LatencyConfig,
    window: Duration,
) -> Vec<(Duration, Duration)> {
    let jobs = mem.queue.take(usize::MAX);
    if jobs.is_empty() {
        return Vec::new();
    }
    let size = cfg.batch_size.max(1);
    let wait = if jobs.len() >= size {
        Duration::ZERO
    } else {
        window
    };
    tokio::time::sleep(wait + latency.sample("lambda.SqsPoll")).await;
    let batches: Vec<Vec<(String, String)>> = jobs
        .chunks(size)
        .map(|c| c.iter().map(|j| (j.id.clone(), j.body.clone())).collect())
        .collect();
    stream::iter(batches)
        .map(|batch| async move {
            let (t0, c0) = (tokio::time::Instant::now(), std::time::Instant::now());
            chat.persist_batch(&batch).await;
            (t0.elapsed(), c0.elapsed())
        })
        .buffer_unordered(cfg.persist_concurrency.max(1))
        .collect()
        .await
}

/// Times a future: modeled waits and this machine's CPU, scaled.
async fn timed<F: std::future::Future>(sum: &mut DurationSum, cpu_scale: f64, f: F) -> F::Output {
    let (t0, c0) = (tokio::time::Instant::now(), std::time::Instant::now());
    let out = f.await;
    sum.add(t0.elapsed(), c0.elapsed(), cpu_scale);
    out
}

/// One member of a room of `k` online members, kept connected and idle:
/// pinging every `cfg.ping_secs` for a while, and reconnecting once.
async fn keepalive(k: usize, cfg: &LatencyConfig, cpu_scale: f64) -> Keepalive {
    let mem = MemoryBackends::default();
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let chat = mem.chat(cost::unlimited_limits(), clock.clone());
    let mut pop = cost::populate(&mem, &chat, RoomKind::Group, k.max(2), 1, 0).await;
    let user = UserId::parse("m0-0").expect("valid id");
    let identity = Identity {
        user_id: user,
        name: None,
    };
    let latency = Latency::new(cfg.table.clone(), cfg.seed, cfg.redis_rate_limit);
    let meter = Meter::new();
    let counted = decorated(&chat, &meter, Some(latency));
    let (_, first, _) = pop.senders[0].clone();
    let fresh = ConnectionId::parse("cidle").expect("valid id");
    pop.inboxes.push(mem.pusher.open(&fresh));

    // API Gateway ends the member's 2-hour connection; the client reconnects.
    let (mut connect_lambda, mut disconnect_lambda) =
        (DurationSum::default(), DurationSum::default());
    meter.reset();
    let _ = timed(
        &mut disconnect_lambda,
        cpu_scale,
        counted.disconnect(&first),
    )
    .await;
    let _ = timed(
        &mut connect_lambda,
        cpu_scale,
        counted.connect(fresh.clone(), &identity),
    )
    .await;
    let reconnect_calls = meter.snapshot();
    pop.drain();

    // Then it idles, pinging; the clock moves a ping interval each time.
    meter.reset();
    let mut ping_lambda = DurationSum::default();
    let pings = 40u64;
    for _ in 0..pings {
        clock.advance(cfg.ping_secs as i64 * 1000);
        let _ = timed(
            &mut ping_lambda,
            cpu_scale,
            counted.handle_text(&fresh, Some(&identity.user_id), r#"{"action":"ping"}"#),
        )
        .await;
    }
    let ping_calls = meter.snapshot();
    pop.drain();
    Keepalive {
        ping_secs: cfg.ping_secs,
        pings,
        ping_calls,
        ping_lambda: ping_lambda.mean(),
        contacts: k.max(2) - 1,
        reconnect_calls,
        connect_lambda: connect_lambda.mean(),
        disconnect_lambda: disconnect_lambda.mean(),
    }
}

/// In-memory backends with `rooms` rooms of `shape`'s kind and size, every
/// member connected, rate limits lifted.
async fn populated(
    shape: &Shape,
    rooms: usize,
) -> (MemoryBackends, chat_core::Chat, cost::Population) {
    let mem = MemoryBackends::default();
    let chat = mem.chat(cost::unlimited_limits(), Arc::new(SystemClock));
    let kind = if shape.channel {
        RoomKind::Channel
    } else {
        RoomKind::Group
    };
    let pop = cost::populate(&mem, &chat, kind, shape.members.max(2), rooms, 0).await;
    (mem, chat, pop)
}

/// Sequential round trips of one message, by running it with every call
/// taking exactly 1 ms (and no invocation overhead).
async fn round_trips(shape: &Shape, cfg: &LatencyConfig) -> (u32, u32, u32) {
    let (mem, chat, mut pop) = populated(shape, 1).await;
    let latency = Latency::new(Table::constant(1.0), cfg.seed, cfg.redis_rate_limit);
    let chat = decorated(&chat, &Meter::new(), Some(latency.clone()));
    let (room, conn, user) = &pop.senders[1];
    latency.begin();
    // The outcome shows in the pushes: a refused send has no ack.
    let _ = chat.handle_text(conn, Some(user), &frame(room, 0)).await;
    // A big room's pushes come from the queue: its poll counts as one
    // round trip, the batching window as none.
    if shape.members.max(2) > chat.limits.fanout_inline_max {
        event_source(&mem, &chat, &latency, cfg, Duration::ZERO).await;
    }
    let t = latency.begin();
    pop.drain();
    let ms = |d: Duration| d.as_millis() as u32;
    let ack = t
        .pushes
        .iter()
        .find(|(k, _)| *k == Pushed::Ack)
        .map_or(0, |(_, at)| ms(*at));
    let last = t
        .pushes
        .iter()
        .filter(|(k, _)| *k == Pushed::Message)
        .map(|(_, at)| ms(*at))
        .max()
        .unwrap_or(0);
    (t.first_push.map_or(0, ms), ack, last)
}

/// Why the simulation could not run.
#[derive(Debug, Error)]
pub enum RunError {
    #[error("could not build the paused-time runtime: {0}")]
    Runtime(#[from] std::io::Error),
    #[error("the simulation thread panicked")]
    Panicked,
}

/// Runs every shape on its own thread with a current-thread runtime whose
/// clock is paused: the modeled waits take no wall time.
pub fn run(shapes: &[Shape], cfg: &LatencyConfig) -> Result<Vec<ShapeReport>, RunError> {
    let (shapes, cfg) = (shapes.to_vec(), cfg.clone());
    std::thread::spawn(move || -> Result<Vec<ShapeReport>, RunError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()?;
        Ok(rt.block_on(async {
            let mut out = Vec::new();
            for s in &shapes {
                out.push(simulate(s, &cfg).await);
            }
            out
        }))
    })
    .join()
    .map_err(|_| RunError::Panicked)?
}

/// The report as a table.
pub fn table(reports: &[ShapeReport], cfg: &LatencyConfig) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "modeled latency as deployed (log-normal per AWS call, seed {:#x}; rate limiter {}; Lambda {} MB)",
        cfg.seed,
        if cfg.redis_rate_limit { "Redis" } else { "in-process" },
        cfg.memory_mb
    );
    let _ = writeln!(
        s,
        "  {:<20} {:>5} {:>16} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "shape",
        "msgs",
        "round trips",
        "ack p50",
        "ack p99",
        "dlv p50",
        "dlv p99",
        "dlv max",
        "refused"
    );
    for r in reports {
        let _ = writeln!(
            s,
            "  {:<20} {:>5} {:>16} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10}",
            r.shape.name,
            r.shape.messages,
            format!(
                "{}/{}/{}",
                r.round_trips_to_first_push, r.round_trips_to_ack, r.round_trips_to_last_deliver
            ),
            r.send_to_ack.p50_ms,
            r.send_to_ack.p99_ms,
            r.send_to_deliver.p50_ms,
            r.send_to_deliver.p99_ms,
            r.send_to_deliver.max_ms,
            r.refused,
        );
    }
    let _ = writeln!(
        s,
        "  round trips: sequential AWS calls before the first push / the ack / the last delivery; times in ms from API Gateway receiving the frame"
    );
    let _ = writeln!(
        s,
        "  {:<20} {:>22} {:>22} {:>22}",
        "λ duration (ms)",
        "message: billed (wait)",
        "persist: billed (wait)",
        "ping: billed (wait)"
    );
    for r in reports {
        let d = |x: &Invocation| format!("{:.1} ({:.1})", x.billed_ms, x.wait_ms);
        let _ = writeln!(
            s,
            "  {:<20} {:>22} {:>22} {:>22}",
            r.shape.name,
            d(&r.message_lambda),
            d(&r.persist_lambda),
            d(&r.ping_lambda)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_have_the_table_percentiles() {
        let l = Latency::new(Table::default(), 7, false);
        let mut v: Vec<f64> = (0..20_000).map(|_| l.draw("dynamodb.GetItem")).collect();
        v.sort_by(f64::total_cmp);
        let p50 = v[10_000];
        let p99 = v[19_800];
        assert!((p50 - 4.0).abs() < 0.3, "{p50}");
        assert!((p99 - 12.0).abs() < 1.5, "{p99}");
    }

    #[test]
    fn overrides_replace_known_operations_and_refuse_unknown_ones() {
        let mut t = Table::default();
        t.apply("sqs.SendMessage=3:9").unwrap();
        assert_eq!(
            t.0["sqs.SendMessage"],
            Dist {
                p50_ms: 3.0,
                p99_ms: 9.0
            }
        );
        assert!(matches!(
            t.apply("sqs.Nope=1:2"),
            Err(TableError::Unknown(..))
        ));
        assert!(matches!(
            t.apply("sqs.SendMessage=9:3"),
            Err(TableError::Malformed(_))
        ));
        t.apply_json(r#"{"redis.Command":{"p50Ms":1,"p99Ms":4}}"#)
            .unwrap();
        assert_eq!(t.0["redis.Command"].p99_ms, 4.0);
        assert!(t.apply_json(r#"{"x":{"p50Ms":1,"p99Ms":4}}"#).is_err());
    }

    #[test]
    fn plans_follow_the_adapters() {
        assert_eq!(plan("messages.reserve.new", 1).len(), 2);
        assert_eq!(
            plan("connections.for_users", 1000),
            vec![vec![("dynamodb.Query", 1000, QUERY_CONCURRENCY)]]
        );
        assert_eq!(
            plan("queue.enqueue", 11),
            vec![vec![("sqs.SendMessage", 2, 2)]]
        );
        assert!(plan("connections.for_users", 0).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_fan_of_queries_takes_one_round_trip_per_wave() {
        let l = Latency::new(Table::constant(1.0), 1, false);
        let t0 = tokio::time::Instant::now();
        l.wait("connections.for_users", 2 * QUERY_CONCURRENCY + 1)
            .await;
        assert_eq!(t0.elapsed(), Duration::from_millis(3));
        let t0 = tokio::time::Instant::now();
        l.wait("messages.reserve.new", 1).await;
        assert_eq!(t0.elapsed(), Duration::from_millis(2));
    }

    #[test]
    fn every_member_gets_each_message_and_the_ack_does_not_wait_for_the_pushes() {
        let shape = |name: &str, channel: bool, members: usize| Shape {
            name: name.into(),
            channel,
            members,
            rooms: if channel { 1 } else { 2 },
            messages: 6,
        };
        let r = run(&[shape("rooms of 5", false, 5)], &LatencyConfig::default()).unwrap();
        let r = &r[0];
        assert_eq!(r.refused, 0);
        assert_eq!(r.send_to_ack.count, 6);
        assert_eq!(r.send_to_deliver.count, 6 * 4);
        // The room and members; the claim read with the seq count (and the
        // connections lookup alongside); the claim: then the pushes.
        assert_eq!(r.round_trips_to_first_push, 3);
        assert_eq!(r.message_lambda.invocations, 6);
        assert!(r.message_lambda.wait_ms > 0.0 && r.persist_lambda.invocations >= 1);
        // In a channel the pushes take waves; the ack is not behind them.
        let c = run(
            &[shape("channel of 300", true, 300)],
            &LatencyConfig::default(),
        )
        .unwrap();
        let c = &c[0];
        assert_eq!(c.refused, 0);
        assert!(
            c.round_trips_to_ack + 5 < c.round_trips_to_last_deliver,
            "ack after {} round trips, last delivery after {}",
            c.round_trips_to_ack,
            c.round_trips_to_last_deliver
        );
        assert!(c.send_to_ack.p99_ms < c.send_to_deliver.p99_ms);
    }
}
