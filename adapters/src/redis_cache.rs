//! Redis as a cache in front of the stores, never the source of truth.
//!
//! Each decorator wraps any implementation of its port
//! (`Arc<dyn ConnectionStore>`, …) and answers exactly what the inner store
//! would: the decorated stores pass the same contract suites.
//!
//! | Decorator | Cached | Kept fresh by |
//! |---|---|---|
//! | [`CachedConnections`] | user → connections (`{uconns:USER}`, empty lists too), connection → record (`{conn:ID}`) | delete-on-write on `put`/`touch`/`delete` |
//! | [`CachedRooms`] | room meta (`{room:ID}`), room → members (`{members:ROOM}`) and user → rooms (`{urooms:USER}`) as hashes | delete-on-write on `create`/`add_member`/`remove_member`; cursor advances are written through (raised in place) |
//! | [`CachedProfiles`] | profiles (`{profile:USER}`) | delete-on-write on `create_if_absent`/`update` |
//! | [`CachedMessages`] | the newest messages of a room (`{recent:ROOM}`, a sorted set capped at [`CacheConfig::recent_cap`]) | written through by `put_batch` |
//!
//! Sequence allocation (`reserve`, `last_seq`) and the channel listing always
//! go to the inner store.
//!
//! The same connection also holds the rate limiter's token buckets
//! ([`RedisRateLimiter`], keys `{rl:SCOPE}:BUCKET`), the one thing here that
//! is state rather than a copy of it.
//!
//! # Freshness
//!
//! Every change made through a decorator reaches Redis after the inner store
//! accepted it, so the next read sees it. Reads fill the cache *conditionally*:
//! each entry has a generation counter (`KEY:gen`), every write bumps it,
//! and a fill (a Lua script) only lands if the generation is still the one the
//! reader saw before it read the inner store. So a slow reader can never put
//! back a value older than a write that overlapped it.
//!
//! Two entries are loaded from DynamoDB's eventually consistent index (GSI1):
//! user → connections and user → rooms. Right after a change the index may
//! not show it yet, and a fill from it would hide a new device or a new room
//! for a whole TTL. So a change to those puts a *hold* on the entry
//! ([`Ttls::index_settle`]: `redisIndexHoldMs` in deploy/settings.json, 5 s
//! by default): while it lasts, reads are served from the
//! inner store and never cached, so the cache is never staler than the index
//! once the index has caught up within the hold. Everything else is loaded by
//! consistent reads of base-table items, and needs no hold.
//!
//! Cursor advances (one per delivered message per member) would otherwise
//! empty the member lists of every active room all the time; instead they
//! raise the cursor inside the cached hashes (`max`, so order does not matter),
//! with the cursors stored as the first 40 characters of each value,
//! zero-padded, so Lua compares them as strings.
//!
//! The recent-messages window holds *every* stored message of the room with
//! `seq >= floor` (`{recent:ROOM}:floor`). It is loaded from the newest page of
//! the inner store (a room with fewer messages than the cap gets floor 0), and
//! `put_batch` adds messages at or above the floor and trims the oldest past
//! the cap, raising the floor. `range` is answered from it only when that is
//! provably the inner store's answer: an oldest-first read must start at or
//! above the floor; a newest-first read must either start at or above the
//! floor or find `limit` messages in the window. Otherwise it falls through.
//!
//! When Redis cannot be told about a write (down, slow, breaker open) the
//! entry may be stale until it expires: writes never refresh a TTL, so the
//! TTLs ([`Ttls`]) bound staleness after a Redis failure.
//!
//! # Failure handling
//!
//! Every Redis round trip is bounded by [`CacheConfig::timeout`] (default
//! 50 ms) and goes through a circuit breaker ([`breaker`]): after
//! [`CacheConfig::failure_threshold`] consecutive failures Redis is skipped
//! for [`CacheConfig::cool_down`], then one probe is let through. A failed,
//! slow or skipped call only means "no cache": the operation is served by the
//! inner store and still succeeds. Connecting happens in a background task
//! (bounded by [`CacheConfig::connect_timeout`]), so a slow TLS handshake is
//! not cancelled by the 50 ms bound of the call that triggered it.
//!
//! Every round trip of a call goes through one bound and one breaker verdict,
//! even when it is several commands (one per entity, see below): the breaker
//! counts calls, not commands. When the circuit opens it is logged and
//! counted ([`CacheStats::circuit_opened`], metric `CacheCircuitOpened`).
//!
//! # Deployment: one shard or a Redis Cluster
//!
//! [`CacheConfig::mode`] picks the client: [`RedisMode::Single`] for one
//! shard (a standalone server, or ElastiCache with cluster mode disabled
//! through its primary endpoint), [`RedisMode::Cluster`] for the Redis
//! Cluster protocol (ElastiCache Serverless, the stack's default, or cluster
//! mode enabled): the cluster client follows MOVED/ASK and routes each
//! command by its keys' hash slot. Both sit behind one connection type, so
//! every command takes the same path (timeout, breaker, reconnect).
//!
//! A cluster refuses any multi-key command, script or pipeline whose keys
//! are in different hash slots (`CROSSSLOT`), so the key scheme and the
//! calls are cut along entities, and work the same on one shard:
//!
//! - **Keys are hash-tagged by entity**: `PREFIX{KIND:ID}`, with its
//!   generation `PREFIX{KIND:ID}:gen` and floor `PREFIX{KIND:ID}:floor`. Only
//!   the part between the first braces is hashed, so an entry and its
//!   counters always share a slot and each script over one entity is legal.
//!   The prefix must not contain `{`.
//! - **Reads across entities** (`MGET` of several users' entries and their
//!   generations) are one command: on a cluster the client splits an `MGET`
//!   into one sub-command per slot and puts the answers back in order (redis
//!   1.x routes `MGET` as multi-slot; the cluster contract tests exercise
//!   it). Each entity's value and generation come from one slot, so from one
//!   atomic sub-command, which is all the conditional fill needs.
//! - **Scripts and pipelines are per entity**: fills, invalidations, window
//!   heads and cursor raises that concern several entities send one script
//!   (or pipeline) per entity, concurrently, within the one bounded call.
//!
//! Why splitting keeps the freshness guarantee: the guarantee is per entry.
//! A fill of entry `K` lands only if `K:gen` still reads what the reader saw,
//! and every write to `K` bumps `K:gen` in the same script that changes `K`;
//! no script ever relied on two entities changing together. The cursor raise
//! used to raise a member's cursor in the room's member hash and in the
//! user's room hash in one script; now it is two scripts, each bumping its
//! own hash's generation together with the raise, so an overlapping fill of
//! either hash still cannot land an older list. Between the two scripts a
//! reader may see the new cursor in one list and the old one in the other:
//! the two lists were never read atomically together (they are filled by
//! separate reads of the store), and the inner store's cursors only move
//! forward, so this is the same window as a reader that reads the lists just
//! before and just after the advance. When a split call fails half-way
//! (timeout, breaker), the entries it may have missed are invalidated or
//! expire, exactly as when a single script's outcome was unknown.
//!
//! The rate limiter's buckets of one request share a scope (the user), and
//! the scope is the hash tag: one script, one slot, still all or nothing.
//!
//! Keys start with [`CacheConfig::key_prefix`] (`chat:v1:` by default; bump
//! the version when an encoding changes).

pub mod breaker;
mod connections;
mod messages;
mod profiles;
mod ratelimit;
mod rooms;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_core::config::{RedisConfig, RedisMode};
use chat_core::error::StoreError;
use chat_core::metrics::{self, Metric};
use futures::future::try_join_all;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, RedisFuture, RedisResult, Script, ScriptInvocation};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Notify;
use tokio::time::Instant;
use tracing::{debug, warn};

pub use connections::CachedConnections;
pub use messages::CachedMessages;
pub use profiles::CachedProfiles;
pub use ratelimit::RedisRateLimiter;
pub use rooms::CachedRooms;

use breaker::{Breaker, Verdict};

/// How long each kind of entry lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ttls {
    /// Connections per user and connection records.
    pub connections: Duration,
    /// Member and room lists (with cursors).
    pub memberships: Duration,
    /// Room metadata (never changes after creation).
    pub rooms: Duration,
    pub profiles: Duration,
    /// The recent-messages window of a room.
    pub recent: Duration,
    /// Generation counters: must outlive any reader between its read and its fill.
    pub generations: Duration,
    /// How long after a change an entry loaded from the eventually consistent
    /// index (user → connections, user → rooms) is not cached: a read in that
    /// time may not see the change yet, and caching it would hide the change
    /// for a whole TTL. It bounds the index lag this cache tolerates. Zero
    /// holds nothing back.
    pub index_settle: Duration,
}

impl Default for Ttls {
    fn default() -> Self {
        Self {
            connections: Duration::from_secs(60),
            memberships: Duration::from_secs(60),
            rooms: Duration::from_secs(3600),
            profiles: Duration::from_secs(300),
            recent: Duration::from_secs(600),
            generations: Duration::from_secs(3600),
            index_settle: Duration::from_millis(
                chat_core::deploy::settings().redis_index_hold_ms.default,
            ),
        }
    }
}

#[derive(Clone, Debug)]
pub struct CacheConfig {
    /// `redis://host:port` or `rediss://` (TLS). In cluster mode, any node
    /// (or the configuration endpoint): the others are discovered.
    pub url: String,
    /// One shard or a Redis Cluster (see the module docs).
    pub mode: RedisMode,
    /// Bound on every Redis round trip.
    pub timeout: Duration,
    /// Bound on establishing the connection (in the background).
    pub connect_timeout: Duration,
    /// Consecutive failures that open the breaker.
    pub failure_threshold: u32,
    /// How long an open breaker skips Redis before probing it.
    pub cool_down: Duration,
    pub key_prefix: String,
    pub ttl: Ttls,
    /// Messages kept per room. The default history page asks for 51 (50 and
    /// one to learn whether there are more), so the default keeps 64.
    pub recent_cap: usize,
}

impl CacheConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            mode: RedisMode::Single,
            timeout: Duration::from_millis(50),
            connect_timeout: Duration::from_secs(1),
            failure_threshold: 3,
            cool_down: Duration::from_secs(5),
            key_prefix: "chat:v1:".into(),
            ttl: Ttls::default(),
            recent_cap: 64,
        }
    }

    pub fn from_config(c: &RedisConfig) -> Self {
        let base = Self::new(c.url.expose());
        Self {
            timeout: Duration::from_millis(c.timeout_ms),
            mode: c.mode,
            ttl: Ttls {
                index_settle: Duration::from_millis(c.index_hold_ms),
                ..base.ttl.clone()
            },
            ..base
        }
    }
}

/// Counters of what the cache did, for tests and metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Round trips attempted (the breaker let them through).
    pub attempts: u64,
    /// Attempts that failed or timed out.
    pub failures: u64,
    /// Calls skipped because the breaker was open.
    pub skipped: u64,
    /// Times the breaker went from closed to open.
    pub circuit_opened: u64,
}

// --- the connection ---

/// A connection to one shard or to a cluster: the one type every command
/// goes through. Both are multiplexed and cheap to clone.
#[derive(Clone)]
pub(crate) enum Conn {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> RedisFuture<'a, redis::Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

// One per cache, behind the `Arc` of its link: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
enum Client {
    Single(redis::Client),
    Cluster(ClusterClient),
}

impl Client {
    fn open(url: &str, mode: RedisMode, connect_timeout: Duration) -> RedisResult<Self> {
        Ok(match mode {
            RedisMode::Single => Client::Single(redis::Client::open(url)?),
            RedisMode::Cluster => Client::Cluster(
                ClusterClient::builder([url])
                    .connection_timeout(connect_timeout)
                    .build()?,
            ),
        })
    }

    async fn connect(&self, connect_timeout: Duration) -> RedisResult<Conn> {
        match self {
            Client::Single(c) => {
                let cfg = AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(connect_timeout))
                    .set_response_timeout(None);
                c.get_multiplexed_async_connection_with_config(&cfg)
                    .await
                    .map(Conn::Single)
            }
            // Reads the slot map from the node(s) given, then connects to
            // every primary.
            Client::Cluster(c) => c.get_async_connection().await.map(Conn::Cluster),
        }
    }
}

enum Slot {
    Idle,
    Connecting(Instant),
    Ready(Conn),
}

/// One multiplexed connection, (re)established in the background on demand.
struct Link {
    client: Client,
    connect_timeout: Duration,
    slot: Mutex<Slot>,
    changed: Notify,
}

impl Link {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn connection(self: &Arc<Self>) -> RedisResult<Conn> {
        let notified = self.changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut g = self.lock();
            match &*g {
                Slot::Ready(c) => return Ok(c.clone()),
                // A connect whose task died with its runtime is replaced.
                Slot::Connecting(since) if since.elapsed() < self.connect_timeout * 2 => {}
                _ => {
                    *g = Slot::Connecting(Instant::now());
                    let link = self.clone();
                    tokio::spawn(async move { link.connect().await });
                }
            }
        }
        notified.await;
        match &*self.lock() {
            Slot::Ready(c) => Ok(c.clone()),
            _ => Err(redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "could not connect to redis",
            ))),
        }
    }

    async fn connect(&self) {
        let r = tokio::time::timeout(
            self.connect_timeout,
            self.client.connect(self.connect_timeout),
        )
        .await;
        let next = match r {
            Ok(Ok(c)) => Slot::Ready(c),
            Ok(Err(e)) => {
                debug!(error = %e, "redis connect failed");
                Slot::Idle
            }
            Err(_) => {
                debug!("redis connect timed out");
                Slot::Idle
            }
        };
        *self.lock() = next;
        self.changed.notify_waiters();
    }

    /// Drops the connection after a failure: the next call reconnects.
    fn reset(&self) {
        let mut g = self.lock();
        if matches!(*g, Slot::Ready(_)) {
            *g = Slot::Idle;
        }
    }
}

// --- scripts ---
//
// Every script touches one entity: its keys share a hash tag, so a slot.

/// Sets `KEYS[1]` to `ARGV[3]` only if its generation `KEYS[2]` still reads
/// `ARGV[2]` ('' for none) and no hold `KEYS[3]` is on it. `ARGV[1]` is the
/// TTL in seconds.
const FILL: &str = r"
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if (redis.call('GET', KEYS[2]) or '') == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[1])
end
return 1";

/// Deletes entry `KEYS[1]` and its floor `KEYS[2]`, bumps its generation
/// `KEYS[3]`. `ARGV[1]` is the generation TTL. `ARGV[2]` > 0 puts a hold
/// `KEYS[4]` on the entry for that many milliseconds: no fill lands while it
/// lasts (an entry loaded from an index that may not show the write yet).
const INVALIDATE: &str = r"
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[1])
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[4], '1', 'PX', ARGV[2])
end
return 1";

/// Replaces hash `KEYS[1]` with the field/value pairs from `ARGV[3]` on, plus
/// the sentinel field `~`, if generation `KEYS[2]` still reads `ARGV[2]` and
/// no hold `KEYS[3]` is on it.
const FILL_HASH: &str = r"
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '~', '1')
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1";

/// Raises a member's cursors in one cached hash (`KEYS[1]`: room → members
/// with the user as field, or user → rooms with the room) at field `ARGV[2]`
/// to `ARGV[3]` (20 digits); `ARGV[4]` = '1' raises `read` too. Bumps the
/// generation `KEYS[2]` (TTL `ARGV[1]`) so an overlapping fill cannot land
/// an older value.
const RAISE: &str = r"
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
local v = redis.call('HGET', KEYS[1], ARGV[2])
if not v then return 1 end
local d, r, rest = string.sub(v, 1, 20), string.sub(v, 21, 40), string.sub(v, 41)
if ARGV[3] > d then d = ARGV[3] end
if ARGV[4] == '1' and ARGV[3] > r then r = ARGV[3] end
redis.call('HSET', KEYS[1], ARGV[2], d .. r .. rest)
return 1";

/// Loads a window: sorted set `KEYS[1]` from the (score, member) pairs from
/// `ARGV[4]` on, floor `KEYS[2]` = `ARGV[3]`, if generation `KEYS[3]` still
/// reads `ARGV[2]`. `ARGV[1]` is the TTL.
const FILL_WINDOW: &str = r"
if (redis.call('GET', KEYS[3]) or '') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
for i = 4, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1";

/// Adds stored messages (score, member pairs from `ARGV[3]` on) to an
/// existing window: those at or above the floor whose seq is not there yet
/// (the first stored copy wins, as in the stores), then trims the oldest past
/// the cap `ARGV[2]` and raises the floor. Bumps the generation (TTL
/// `ARGV[1]`) so a window being loaded concurrently does not land.
const ADD_WINDOW: &str = r"
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[1])
local floor = redis.call('GET', KEYS[2])
if not floor then return 0 end
floor = tonumber(floor)
for i = 3, #ARGV, 2 do
  local s = tonumber(ARGV[i])
  if s >= floor and #redis.call('ZRANGEBYSCORE', KEYS[1], s, s) == 0 then
    redis.call('ZADD', KEYS[1], s, ARGV[i + 1])
  end
end
local n = redis.call('ZCARD', KEYS[1])
local cap = tonumber(ARGV[2])
if n > cap then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - cap - 1)
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  redis.call('SET', KEYS[2], first[2], 'KEEPTTL')
end
return 1";

struct Scripts {
    fill: Script,
    invalidate: Script,
    fill_hash: Script,
    raise: Script,
    fill_window: Script,
    add_window: Script,
}

// --- the cache ---

struct Shared {
    link: Arc<Link>,
    breaker: Breaker,
    timeout: Duration,
    prefix: String,
    ttl: Ttls,
    recent_cap: usize,
    scripts: Scripts,
    attempts: AtomicU64,
    failures: AtomicU64,
    skipped: AtomicU64,
    circuit_opened: AtomicU64,
}

/// A Redis connection with its timeout, breaker and key scheme, shared by
/// the decorators. Cheap to clone.
#[derive(Clone)]
pub struct RedisCache {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("prefix", &self.shared.prefix)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// What a cached entry read returned: the value and the generation seen.
pub(crate) struct Seen {
    pub value: Option<String>,
    pub gen: String,
}

fn secs(d: Duration) -> u64 {
    d.as_secs().max(1)
}

fn gen_key(key: &str) -> String {
    format!("{key}:gen")
}

fn floor_key(key: &str) -> String {
    format!("{key}:floor")
}

fn hold_key(key: &str) -> String {
    format!("{key}:hold")
}

/// Runs one script invocation per entity, concurrently on clones of `c`.
async fn invoke_each(c: Conn, invs: Vec<ScriptInvocation<'_>>) -> RedisResult<()> {
    try_join_all(invs.into_iter().map(|inv| {
        let mut c = c.clone();
        async move { inv.invoke_async::<i64>(&mut c).await }
    }))
    .await
    .map(drop)
}

impl RedisCache {
    /// Parses the URL; nothing connects until the first call.
    pub fn new(cfg: CacheConfig) -> Result<Self, redis::RedisError> {
        let client = Client::open(cfg.url.as_str(), cfg.mode, cfg.connect_timeout)?;
        Ok(Self {
            shared: Arc::new(Shared {
                link: Arc::new(Link {
                    client,
                    connect_timeout: cfg.connect_timeout,
                    slot: Mutex::new(Slot::Idle),
                    changed: Notify::new(),
                }),
                breaker: Breaker::new(cfg.failure_threshold, cfg.cool_down),
                timeout: cfg.timeout,
                prefix: cfg.key_prefix,
                ttl: cfg.ttl,
                recent_cap: cfg.recent_cap.max(1),
                scripts: Scripts {
                    fill: Script::new(FILL),
                    invalidate: Script::new(INVALIDATE),
                    fill_hash: Script::new(FILL_HASH),
                    raise: Script::new(RAISE),
                    fill_window: Script::new(FILL_WINDOW),
                    add_window: Script::new(ADD_WINDOW),
                },
                attempts: AtomicU64::new(0),
                failures: AtomicU64::new(0),
                skipped: AtomicU64::new(0),
                circuit_opened: AtomicU64::new(0),
            }),
        })
    }

    pub fn stats(&self) -> CacheStats {
        let s = &self.shared;
        CacheStats {
            attempts: s.attempts.load(Ordering::Relaxed),
            failures: s.failures.load(Ordering::Relaxed),
            skipped: s.skipped.load(Ordering::Relaxed),
            circuit_opened: s.circuit_opened.load(Ordering::Relaxed),
        }
    }

    /// Is the breaker closed (Redis believed healthy)?
    pub fn is_healthy(&self) -> bool {
        self.shared.breaker.is_closed()
    }

    pub(crate) fn ttl(&self) -> &Ttls {
        &self.shared.ttl
    }

    pub(crate) fn recent_cap(&self) -> usize {
        self.shared.recent_cap
    }

    /// The key of one entity, hash-tagged so that it and its `:gen` and
    /// `:floor` share a slot: `PREFIX{KIND:ID}`.
    pub(crate) fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{{{kind}:{id}}}", self.shared.prefix)
    }

    /// One round trip, through the breaker and under the timeout. `None`
    /// when Redis was skipped, failed or was too slow.
    async fn call<T, F, Fut>(&self, op: &'static str, f: F) -> Option<T>
    where
        F: FnOnce(Conn) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let s = &self.shared;
        if s.breaker.check() == Verdict::Skip {
            s.skipped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        s.attempts.fetch_add(1, Ordering::Relaxed);
        let link = s.link.clone();
        let r = tokio::time::timeout(s.timeout, async move {
            let conn = link.connection().await?;
            f(conn).await
        })
        .await;
        match r {
            Ok(Ok(v)) => {
                s.breaker.success();
                Some(v)
            }
            Ok(Err(e)) => {
                self.failed(op, &e.to_string());
                None
            }
            Err(_) => {
                self.failed(op, "timed out");
                None
            }
        }
    }

    fn failed(&self, op: &'static str, why: &str) {
        let s = &self.shared;
        s.failures.fetch_add(1, Ordering::Relaxed);
        s.link.reset();
        let was_closed = s.breaker.is_closed();
        s.breaker.failure();
        if was_closed && !s.breaker.is_closed() {
            s.circuit_opened.fetch_add(1, Ordering::Relaxed);
            metrics::record(&[(Metric::CacheCircuitOpened, 1.0)]);
            warn!(
                op,
                error = why,
                "redis failing: circuit opened, serving from the stores alone"
            );
        } else {
            debug!(op, error = why, "redis call failed");
        }
    }

    // --- string entries ---

    /// Values and generations of `keys` in one MGET (split per slot by the
    /// cluster client; see the module docs).
    pub(crate) async fn read(&self, keys: &[String]) -> Option<Vec<Seen>> {
        if keys.is_empty() {
            return Some(Vec::new());
        }
        let mut cmd = redis::cmd("MGET");
        for k in keys {
            cmd.arg(k);
        }
        for k in keys {
            cmd.arg(gen_key(k));
        }
        let mut all: Vec<Option<String>> = self
            .call("read", |mut c| async move { cmd.query_async(&mut c).await })
            .await?;
        if all.len() != keys.len() * 2 {
            return None;
        }
        let gens = all.split_off(keys.len());
        Some(
            all.into_iter()
                .zip(gens)
                .map(|(value, gen)| Seen {
                    value,
                    gen: gen.unwrap_or_default(),
                })
                .collect(),
        )
    }

    /// Sets `(key, generation seen, value)` entries whose generation is
    /// unchanged: one script per entry.
    pub(crate) async fn fill(&self, fills: Vec<(String, String, String)>, ttl: Duration) {
        if fills.is_empty() {
            return;
        }
        let invs = fills
            .iter()
            .map(|(key, gen, value)| {
                let mut inv = self.shared.scripts.fill.prepare_invoke();
                inv.key(key)
                    .key(gen_key(key))
                    .key(hold_key(key))
                    .arg(secs(ttl))
                    .arg(gen)
                    .arg(value);
                inv
            })
            .collect();
        self.call("fill", |c| invoke_each(c, invs)).await;
    }

    /// Deletes the entries and bumps their generations: one script per entry.
    pub(crate) async fn invalidate(&self, entries: &[String]) {
        self.invalidate_held(entries, &[]).await;
    }

    /// [`RedisCache::invalidate`] for `entries`, and for `from_index`, the
    /// entries loaded from an eventually consistent index (GSI1): those are
    /// also held for [`Ttls::index_settle`], so a read that still finds the
    /// index without the write serves it but does not cache it. One round
    /// trip for all.
    pub(crate) async fn invalidate_held(&self, entries: &[String], from_index: &[String]) {
        if entries.is_empty() && from_index.is_empty() {
            return;
        }
        // Zero: no hold (an index that never lags, as in moto).
        let hold_ms = self.shared.ttl.index_settle.as_millis().to_string();
        let invs = entries
            .iter()
            .map(|e| (e, "0"))
            .chain(from_index.iter().map(|e| (e, hold_ms.as_str())))
            .map(|(e, hold)| {
                let mut inv = self.shared.scripts.invalidate.prepare_invoke();
                inv.key(e)
                    .key(floor_key(e))
                    .key(gen_key(e))
                    .key(hold_key(e))
                    .arg(secs(self.shared.ttl.generations))
                    .arg(hold);
                inv
            })
            .collect();
        self.call("invalidate", |c| invoke_each(c, invs)).await;
    }

    /// Cache-aside over JSON string entries: hits from Redis, the misses
    /// (their indices) from `load`, which returns one value per miss
    /// (`None`: absent, not cached); the loaded values are filled under the
    /// generation seen. When Redis does not answer, everything is loaded and
    /// nothing filled.
    pub(crate) async fn cached<T, F, Fut>(
        &self,
        keys: &[String],
        ttl: Duration,
        load: F,
    ) -> Result<Vec<Option<T>>, StoreError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce(Vec<usize>) -> Fut,
        Fut: Future<Output = Result<Vec<Option<T>>, StoreError>>,
    {
        let seen = self.read(keys).await;
        let mut out: Vec<Option<T>> = keys.iter().map(|_| None).collect();
        let mut misses = Vec::new();
        match &seen {
            Some(entries) => {
                for (i, e) in entries.iter().enumerate() {
                    match e.value.as_deref().map(serde_json::from_str::<T>) {
                        Some(Ok(v)) => out[i] = Some(v),
                        Some(Err(err)) => {
                            debug!(key = %keys[i], error = %err, "undecodable cache entry, reloading");
                            misses.push(i);
                        }
                        None => misses.push(i),
                    }
                }
            }
            None => misses.extend(0..keys.len()),
        }
        if misses.is_empty() {
            return Ok(out);
        }
        let loaded = load(misses.clone()).await?;
        if loaded.len() != misses.len() {
            return Err(StoreError::Corrupt(
                "cache loader returned the wrong number of values".into(),
            ));
        }
        let mut fills = Vec::new();
        for (i, v) in misses.into_iter().zip(loaded) {
            if let (Some(entries), Some(v)) = (&seen, &v) {
                if let Ok(json) = serde_json::to_string(v) {
                    fills.push((keys[i].clone(), entries[i].gen.clone(), json));
                }
            }
            out[i] = v;
        }
        self.fill(fills, ttl).await;
        Ok(out)
    }

    // --- hash entries (member and room lists) ---

    /// All fields of hash `key` and its generation; `None` if Redis did not
    /// answer. A loaded hash always has the sentinel field `~`.
    pub(crate) async fn read_hash(&self, key: &str) -> Option<(Vec<(String, String)>, String)> {
        let mut p = redis::pipe();
        p.cmd("HGETALL").arg(key).cmd("GET").arg(gen_key(key));
        let (fields, gen): (Vec<(String, String)>, Option<String>) = self
            .call(
                "read_hash",
                |mut c| async move { p.query_async(&mut c).await },
            )
            .await?;
        Some((fields, gen.unwrap_or_default()))
    }

    /// Some fields of hash `key` (with the sentinel first), `None` if Redis
    /// did not answer.
    pub(crate) async fn read_fields(
        &self,
        key: &str,
        fields: &[&str],
    ) -> Option<Vec<Option<String>>> {
        let mut cmd = redis::cmd("HMGET");
        cmd.arg(key).arg("~");
        for f in fields {
            cmd.arg(*f);
        }
        self.call("read_fields", |mut c| async move {
            cmd.query_async(&mut c).await
        })
        .await
    }

    pub(crate) async fn fill_hash(
        &self,
        key: &str,
        gen: &str,
        fields: Vec<(String, String)>,
        ttl: Duration,
    ) {
        let mut inv = self.shared.scripts.fill_hash.prepare_invoke();
        inv.key(key)
            .key(gen_key(key))
            .key(hold_key(key))
            .arg(secs(ttl))
            .arg(gen);
        for (f, v) in &fields {
            inv.arg(f).arg(v);
        }
        self.call("fill_hash", |mut c| async move {
            inv.invoke_async::<i64>(&mut c).await
        })
        .await;
    }

    /// Raises cursors in place in both lists (see [`RAISE`]): one script per
    /// hash, so per slot (why that is enough: the module docs).
    pub(crate) async fn raise(
        &self,
        members_key: &str,
        rooms_key: &str,
        user: &str,
        room: &str,
        seq: u64,
        read: bool,
    ) {
        let invs = [(members_key, user), (rooms_key, room)]
            .into_iter()
            .map(|(key, field)| {
                let mut inv = self.shared.scripts.raise.prepare_invoke();
                inv.key(key)
                    .key(gen_key(key))
                    .arg(secs(self.shared.ttl.generations))
                    .arg(field)
                    .arg(format!("{seq:020}"))
                    .arg(if read { "1" } else { "0" });
                inv
            })
            .collect();
        let done = self.call("raise", |c| invoke_each(c, invs)).await;
        if done.is_none() {
            // The raise may or may not have landed: drop both lists.
            self.invalidate(&[members_key.to_owned(), rooms_key.to_owned()])
                .await;
        }
    }

    // --- windows (recent messages) ---

    /// A window's floor, generation and members (ascending by score); `None`
    /// if Redis did not answer. No floor means no window.
    pub(crate) async fn read_window(
        &self,
        key: &str,
    ) -> Option<(Option<u64>, String, Vec<String>)> {
        let mut p = redis::pipe();
        p.cmd("GET")
            .arg(floor_key(key))
            .cmd("GET")
            .arg(gen_key(key))
            .cmd("ZRANGE")
            .arg(key)
            .arg(0)
            .arg(-1);
        let (floor, gen, members): (Option<String>, Option<String>, Vec<String>) = self
            .call(
                "read_window",
                |mut c| async move { p.query_async(&mut c).await },
            )
            .await?;
        let floor = match floor.map(|f| f.parse::<u64>()) {
            Some(Ok(f)) => Some(f),
            Some(Err(_)) => return None,
            None => None,
        };
        Some((floor, gen.unwrap_or_default(), members))
    }

    /// The newest member of each window, with whether the window exists:
    /// one pipeline per window (so per slot), concurrently.
    pub(crate) async fn window_heads(
        &self,
        keys: &[String],
    ) -> Option<Vec<(bool, Option<String>)>> {
        if keys.is_empty() {
            return Some(Vec::new());
        }
        let pipes: Vec<redis::Pipeline> = keys
            .iter()
            .map(|k| {
                let mut p = redis::pipe();
                p.cmd("EXISTS").arg(floor_key(k));
                p.cmd("ZRANGE").arg(k).arg(-1).arg(-1);
                p
            })
            .collect();
        let heads: Vec<(i64, Vec<String>)> = self
            .call("window_heads", |c| {
                try_join_all(pipes.into_iter().map(move |p| {
                    let mut c = c.clone();
                    async move { p.query_async(&mut c).await }
                }))
            })
            .await?;
        Some(
            heads
                .into_iter()
                .map(|(exists, head)| (exists == 1, head.into_iter().next()))
                .collect(),
        )
    }

    pub(crate) async fn fill_window(
        &self,
        key: &str,
        gen: &str,
        floor: u64,
        members: &[(u64, String)],
    ) {
        let mut inv = self.shared.scripts.fill_window.prepare_invoke();
        inv.key(key)
            .key(floor_key(key))
            .key(gen_key(key))
            .arg(secs(self.shared.ttl.recent))
            .arg(gen)
            .arg(floor);
        for (score, m) in members {
            inv.arg(*score).arg(m);
        }
        self.call("fill_window", |mut c| async move {
            inv.invoke_async::<i64>(&mut c).await
        })
        .await;
    }

    pub(crate) async fn add_to_window(&self, key: &str, members: &[(u64, String)]) {
        let mut inv = self.shared.scripts.add_window.prepare_invoke();
        inv.key(key)
            .key(floor_key(key))
            .key(gen_key(key))
            .arg(secs(self.shared.ttl.generations))
            .arg(self.shared.recent_cap);
        for (score, m) in members {
            inv.arg(*score).arg(m);
        }
        let done = self
            .call("add_to_window", |mut c| async move {
                inv.invoke_async::<i64>(&mut c).await
            })
            .await;
        if done.is_none() {
            // It may or may not have landed: a window with a hole must go.
            self.invalidate(&[key.to_owned()]).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::config::Secret;

    #[test]
    fn tls_urls_are_supported_in_both_modes_and_the_settings_come_from_config() {
        for mode in [RedisMode::Single, RedisMode::Cluster] {
            let c = CacheConfig::from_config(&RedisConfig {
                url: Secret::new("rediss://cache.example.internal:6379"),
                timeout_ms: 50,
                mode,
                index_hold_ms: 1234,
            });
            assert_eq!(
                (c.timeout, c.mode, c.ttl.index_settle),
                (Duration::from_millis(50), mode, Duration::from_millis(1234))
            );
            assert!(
                RedisCache::new(c).is_ok(),
                "rediss:// needs the TLS feature ({mode:?})"
            );
            let bad = CacheConfig {
                mode,
                ..CacheConfig::new("not a url")
            };
            assert!(RedisCache::new(bad).is_err(), "{mode:?}");
        }
    }

    #[test]
    fn an_entry_and_its_counters_share_one_hash_tag() {
        let cache = RedisCache::new(CacheConfig::new("redis://127.0.0.1:1")).unwrap();
        let k = cache.key("conn", "abc");
        assert_eq!(k, "chat:v1:{conn:abc}");
        assert_eq!(gen_key(&k), "chat:v1:{conn:abc}:gen");
        assert_eq!(floor_key(&k), "chat:v1:{conn:abc}:floor");
    }

    /// The only test of this binary that opens a breaker, so the metric's
    /// count moves by exactly this one opening.
    #[tokio::test]
    async fn with_nothing_listening_calls_fail_fast_open_the_breaker_and_record_it() {
        let opened = || {
            metrics::snapshot()
                .get(Metric::CacheCircuitOpened.name())
                .map_or(0, |s| s.count)
        };
        let before = opened();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cache = RedisCache::new(CacheConfig::new(format!("redis://127.0.0.1:{port}"))).unwrap();
        for _ in 0..10 {
            assert!(cache.read(&["k".to_owned()]).await.is_none());
        }
        let s = cache.stats();
        assert_eq!((s.attempts, s.failures, s.skipped), (3, 3, 7));
        assert!(!cache.is_healthy());
        assert_eq!(s.circuit_opened, 1);
        assert_eq!(opened(), before + 1, "one CacheCircuitOpened per opening");
    }

    #[tokio::test]
    async fn a_failed_tls_handshake_is_a_cache_failure_not_a_panic() {
        // Speaks no TLS: accepts and hangs up. Building the TLS client config
        // would panic here if rustls had no crypto provider.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                drop(sock);
            }
        });
        let cfg = CacheConfig {
            timeout: Duration::from_secs(2),
            ..CacheConfig::new(format!("rediss://127.0.0.1:{port}"))
        };
        let cache = RedisCache::new(cfg).unwrap();
        assert!(cache.read(&["k".to_owned()]).await.is_none());
        assert_eq!(cache.stats().failures, 1);
    }
}
