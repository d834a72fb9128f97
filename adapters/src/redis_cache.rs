//! Redis as a cache in front of the stores, never the source of truth.
//!
//! Each decorator wraps any implementation of its port
//! (`Arc<dyn ConnectionStore>`, …) and answers exactly what the inner store
//! would: the decorated stores pass the same contract suites.
//!
//! | Decorator | Cached | Kept fresh by |
//! |---|---|---|
//! | [`CachedConnections`] | user → connections (`uconns:{user}`, empty lists too), connection → record (`conn:{id}`) | delete-on-write on `put`/`touch`/`delete` |
//! | [`CachedRooms`] | room meta (`room:{id}`), room → members (`members:{room}`) and user → rooms (`urooms:{user}`) as hashes | delete-on-write on `create`/`add_member`/`remove_member`; cursor advances are written through (raised in place) |
//! | [`CachedProfiles`] | profiles (`profile:{user}`) | delete-on-write on `create_if_absent`/`update` |
//! | [`CachedMessages`] | the newest messages of a room (`recent:{room}`, a sorted set capped at [`CacheConfig::recent_cap`]) | written through by `put_batch` |
//!
//! Sequence allocation (`reserve`, `last_seq`) and the channel listing always
//! go to the inner store.
//!
//! The same connection also holds the rate limiter's token buckets
//! ([`RedisRateLimiter`], keys `rl:{bucket}`), the one thing here that is
//! state rather than a copy of it.
//!
//! # Freshness
//!
//! Every change made through a decorator reaches Redis after the inner store
//! accepted it, so the next read sees it. Reads fill the cache *conditionally*:
//! each entry has a generation counter (`{key}:gen`), every write bumps it,
//! and a fill (a Lua script) only lands if the generation is still the one the
//! reader saw before it read the inner store. So a slow reader can never put
//! back a value older than a write that overlapped it.
//!
//! Cursor advances (one per delivered message per member) would otherwise
//! empty the member lists of every active room all the time; instead they
//! raise the cursor inside the cached hashes (`max`, so order does not matter),
//! with the cursors stored as the first 40 characters of each value,
//! zero-padded, so Lua compares them as strings.
//!
//! The recent-messages window holds *every* stored message of the room with
//! `seq >= floor` (`recent:{room}:floor`). It is loaded from the newest page of
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
//! # Deployment
//!
//! One Redis shard (ElastiCache with cluster mode disabled, or a replication
//! group): the scripts touch several keys and multi-key reads span users and
//! rooms. Keys start with [`CacheConfig::key_prefix`] (`chat:v1:` by default;
//! bump the version when an encoding changes).

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

use chat_shared::config::RedisConfig;
use chat_shared::error::StoreError;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisResult, Script};
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
        }
    }
}

#[derive(Clone, Debug)]
pub struct CacheConfig {
    /// `redis://host:port` or `rediss://` (TLS).
    pub url: String,
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
        Self {
            timeout: Duration::from_millis(c.timeout_ms),
            ..Self::new(c.url.expose())
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
}

// --- the connection ---

enum Slot {
    Idle,
    Connecting(Instant),
    Ready(MultiplexedConnection),
}

/// One multiplexed connection, (re)established in the background on demand.
struct Link {
    client: redis::Client,
    connect_timeout: Duration,
    slot: Mutex<Slot>,
    changed: Notify,
}

impl Link {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn connection(self: &Arc<Self>) -> RedisResult<MultiplexedConnection> {
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
        let cfg = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(None);
        let r = tokio::time::timeout(
            self.connect_timeout,
            self.client
                .get_multiplexed_async_connection_with_config(&cfg),
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

/// Sets each `KEYS[2p-1]` to `ARGV[2p+1]` only if its generation `KEYS[2p]`
/// still reads `ARGV[2p]` ('' for none). `ARGV[1]` is the TTL in seconds.
const FILL: &str = r"
for i = 1, #KEYS, 2 do
  if (redis.call('GET', KEYS[i + 1]) or '') == ARGV[i + 1] then
    redis.call('SET', KEYS[i], ARGV[i + 2], 'EX', ARGV[1])
  end
end
return 1";

/// For each triple (entry, entry:floor, entry:gen): delete the entry and its
/// floor, bump the generation. `ARGV[1]` is the generation TTL.
const INVALIDATE: &str = r"
for i = 1, #KEYS, 3 do
  redis.call('DEL', KEYS[i], KEYS[i + 1])
  redis.call('INCR', KEYS[i + 2])
  redis.call('EXPIRE', KEYS[i + 2], ARGV[1])
end
return 1";

/// Replaces hash `KEYS[1]` with the field/value pairs from `ARGV[3]` on, plus
/// the sentinel field `~`, if generation `KEYS[2]` still reads `ARGV[2]`.
const FILL_HASH: &str = r"
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '~', '1')
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1";

/// Raises a member's cursors in both cached hashes (room → members with field
/// user `ARGV[2]`, user → rooms with field room `ARGV[3]`) to `ARGV[4]` (20
/// digits); `ARGV[5]` = '1' raises `read` too. Bumps both generations so an
/// overlapping fill cannot land an older value.
const RAISE: &str = r"
local function raise(key, gen, field)
  redis.call('INCR', gen)
  redis.call('EXPIRE', gen, ARGV[1])
  local v = redis.call('HGET', key, field)
  if not v then return end
  local d, r, rest = string.sub(v, 1, 20), string.sub(v, 21, 40), string.sub(v, 41)
  if ARGV[4] > d then d = ARGV[4] end
  if ARGV[5] == '1' and ARGV[4] > r then r = ARGV[4] end
  redis.call('HSET', key, field, d .. r .. rest)
end
raise(KEYS[1], KEYS[2], ARGV[2])
raise(KEYS[3], KEYS[4], ARGV[3])
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

impl RedisCache {
    /// Parses the URL; nothing connects until the first call.
    pub fn new(cfg: CacheConfig) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(cfg.url.as_str())?;
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
            }),
        })
    }

    pub fn stats(&self) -> CacheStats {
        let s = &self.shared;
        CacheStats {
            attempts: s.attempts.load(Ordering::Relaxed),
            failures: s.failures.load(Ordering::Relaxed),
            skipped: s.skipped.load(Ordering::Relaxed),
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

    pub(crate) fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.shared.prefix)
    }

    /// One round trip, through the breaker and under the timeout. `None`
    /// when Redis was skipped, failed or was too slow.
    async fn call<T, F, Fut>(&self, op: &'static str, f: F) -> Option<T>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
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

    /// Values and generations of `keys` in one MGET.
    pub(crate) async fn read(&self, keys: &[String]) -> Option<Vec<Seen>> {
        if keys.is_empty() {
            return Some(Vec::new());
        }
        let mut cmd = redis::cmd("MGET");
        for k in keys {
            cmd.arg(k);
        }
        for k in keys {
            cmd.arg(format!("{k}:gen"));
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

    /// Sets `(key, generation seen, value)` entries whose generation is unchanged.
    pub(crate) async fn fill(&self, fills: Vec<(String, String, String)>, ttl: Duration) {
        if fills.is_empty() {
            return;
        }
        let mut inv = self.shared.scripts.fill.prepare_invoke();
        inv.arg(secs(ttl));
        for (key, gen, value) in &fills {
            inv.key(key).key(format!("{key}:gen")).arg(gen).arg(value);
        }
        self.call("fill", |mut c| async move {
            inv.invoke_async::<i64>(&mut c).await
        })
        .await;
    }

    /// Deletes the entries and bumps their generations.
    pub(crate) async fn invalidate(&self, entries: &[String]) {
        if entries.is_empty() {
            return;
        }
        let mut inv = self.shared.scripts.invalidate.prepare_invoke();
        inv.arg(secs(self.shared.ttl.generations));
        for e in entries {
            inv.key(e).key(format!("{e}:floor")).key(format!("{e}:gen"));
        }
        self.call("invalidate", |mut c| async move {
            inv.invoke_async::<i64>(&mut c).await
        })
        .await;
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
        p.cmd("HGETALL")
            .arg(key)
            .cmd("GET")
            .arg(format!("{key}:gen"));
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
            .key(format!("{key}:gen"))
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

    /// Raises cursors in place (see [`RAISE`]).
    pub(crate) async fn raise(
        &self,
        members_key: &str,
        rooms_key: &str,
        user: &str,
        room: &str,
        seq: u64,
        read: bool,
    ) {
        let mut inv = self.shared.scripts.raise.prepare_invoke();
        inv.key(members_key)
            .key(format!("{members_key}:gen"))
            .key(rooms_key)
            .key(format!("{rooms_key}:gen"))
            .arg(secs(self.shared.ttl.generations))
            .arg(user)
            .arg(room)
            .arg(format!("{seq:020}"))
            .arg(if read { "1" } else { "0" });
        let done = self
            .call("raise", |mut c| async move {
                inv.invoke_async::<i64>(&mut c).await
            })
            .await;
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
            .arg(format!("{key}:floor"))
            .cmd("GET")
            .arg(format!("{key}:gen"))
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

    /// The newest member of each window, with whether the window exists.
    pub(crate) async fn window_heads(
        &self,
        keys: &[String],
    ) -> Option<Vec<(bool, Option<String>)>> {
        if keys.is_empty() {
            return Some(Vec::new());
        }
        let mut p = redis::pipe();
        for k in keys {
            p.cmd("EXISTS").arg(format!("{k}:floor"));
            p.cmd("ZRANGE").arg(k).arg(-1).arg(-1);
        }
        let raw: Vec<redis::Value> = self
            .call("window_heads", |mut c| async move {
                p.query_async(&mut c).await
            })
            .await?;
        let mut out = Vec::with_capacity(keys.len());
        let mut it = raw.into_iter();
        while let (Some(exists), Some(head)) = (it.next(), it.next()) {
            let exists: i64 = redis::from_redis_value(exists).ok()?;
            let head: Vec<String> = redis::from_redis_value(head).ok()?;
            out.push((exists == 1, head.into_iter().next()));
        }
        (out.len() == keys.len()).then_some(out)
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
            .key(format!("{key}:floor"))
            .key(format!("{key}:gen"))
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
            .key(format!("{key}:floor"))
            .key(format!("{key}:gen"))
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
    use chat_shared::config::Secret;

    #[test]
    fn tls_urls_are_supported_and_the_timeout_comes_from_config() {
        let c = CacheConfig::from_config(&RedisConfig {
            url: Secret::new("rediss://cache.example.internal:6379"),
            timeout_ms: 50,
        });
        assert_eq!(c.timeout, Duration::from_millis(50));
        assert!(
            RedisCache::new(c).is_ok(),
            "rediss:// needs the TLS feature"
        );
        assert!(RedisCache::new(CacheConfig::new("not a url")).is_err());
    }

    #[tokio::test]
    async fn with_nothing_listening_calls_fail_fast_and_open_the_breaker() {
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
