//! Rate limiting: token buckets per connection and per user.
//!
//! Every WebSocket frame and every REST call takes one token from a few
//! buckets ([`RateLimits`] says which, and how big they are); when any of them
//! is empty the request is refused with `rate_limited` and *nothing else
//! happens*: no `seq` is allocated, nothing is queued or pushed, no cursor or
//! presence TTL moves. Buckets refill continuously, so a client that backs
//! off recovers by itself; the refusal says how long to wait.
//!
//! | bucket | key | default | what it covers |
//! |---|---|---|---|
//! | messages per connection | `msg:c:{connectionId}` | 10/s, burst 20 | every frame but `typing` (`sendMessage`, `markRead`, `sync`, `ping`, and frames that fail to decode) |
//! | messages per user | `msg:u:{userId}` | 20/s, burst 40 | the same frames, over all of the user's connections |
//! | typing per user | `typ:u:{userId}` | 2/s, burst 4 | `typing` frames |
//! | REST per user | `rest:u:{userId}` | 20/s, burst 40 | every authenticated REST call |
//!
//! Every bucket of a user, the per-connection one included (a connection
//! belongs to one user), has the *scope* `u:{userId}`: the buckets one request
//! takes from always share a scope, which lets a sharded store (Redis
//! Cluster) keep them together and take from them atomically.
//!
//! The limiter is a port ([`RateLimiter`]) so the buckets can live where every
//! Lambda instance sees them (Redis, one atomic script per request); the
//! in-memory adapter here ([`MemoryRateLimiter`]) is the local platform's and
//! the tests', and the fallback when no shared store is configured, where it
//! limits per Lambda instance. Time comes from the caller (the `Clock` port),
//! so tests move it by hand instead of sleeping.
//!
//! A limiter that fails (its store is down) lets the request through and logs
//! a warning: it is an abuse brake, not an access control, and must not turn
//! a cache outage into a chat outage.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::StoreError;
use crate::ids::{ConnectionId, Millis, UserId};
use crate::memory::lock;

/// A token bucket's shape: `per_sec` tokens a second, at most `burst` saved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub per_sec: u32,
    pub burst: u32,
}

impl Rate {
    pub const fn new(per_sec: u32, burst: u32) -> Self {
        Self { per_sec, burst }
    }
}

/// The limits of every bucket (configured by the `CHAT_RATE_*` variables).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    pub message_per_connection: Rate,
    pub message_per_user: Rate,
    pub typing_per_user: Rate,
    pub rest_per_user: Rate,
}

impl Default for RateLimits {
    /// The defaults of deploy/settings.json.
    fn default() -> Self {
        crate::config::Limits::default().rate
    }
}

impl RateLimits {
    /// The buckets a WebSocket frame takes a token from.
    pub fn for_frame(&self, conn: &ConnectionId, user: &UserId, is_typing: bool) -> Vec<Bucket> {
        if is_typing {
            vec![Bucket::new(format!("typ:u:{user}"), self.typing_per_user).in_scope(scope(user))]
        } else {
            vec![
                Bucket::new(format!("msg:c:{conn}"), self.message_per_connection)
                    .in_scope(scope(user)),
                Bucket::new(format!("msg:u:{user}"), self.message_per_user).in_scope(scope(user)),
            ]
        }
    }

    /// The bucket a REST call takes a token from.
    pub fn for_rest(&self, user: &UserId) -> Vec<Bucket> {
        vec![Bucket::new(format!("rest:u:{user}"), self.rest_per_user).in_scope(scope(user))]
    }
}

/// The scope of every bucket of `user` (see the module docs).
fn scope(user: &UserId) -> String {
    format!("u:{user}")
}

/// One bucket to take a token from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// Built only from validated ids, so it is safe as a Redis key.
    pub key: String,
    pub rate: Rate,
    /// Buckets taken together in one [`RateLimiter::acquire`] share a scope
    /// (a sharded store keeps a scope's buckets together). A bucket's scope
    /// never changes. Defaults to the key.
    pub scope: String,
}

impl Bucket {
    pub fn new(key: String, rate: Rate) -> Self {
        Self {
            scope: key.clone(),
            key,
            rate,
        }
    }

    /// The same bucket in `scope`.
    pub fn in_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }
}

/// The limiter's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A token was taken from every bucket.
    Allowed,
    /// Some bucket is empty; nothing was taken. Every bucket has a token
    /// again after `retry_after_ms`.
    Limited { retry_after_ms: u64 },
}

/// Takes tokens from buckets, atomically.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Takes one token from each of `buckets`, all or nothing: when any is
    /// empty, none is touched. `now` is the caller's clock. The buckets share
    /// one [`Bucket::scope`].
    async fn acquire(&self, buckets: &[Bucket], now: Millis) -> Result<Verdict, StoreError>;
}

/// Tokens are counted in thousandths, so refills need no floating point.
const ONE: i64 = 1000;

/// The token-bucket arithmetic shared by every adapter (the Redis script does
/// the same sums): the level of a bucket last at `level` at `at`, now.
pub fn refill(level: i64, at: Millis, now: Millis, rate: Rate) -> i64 {
    let elapsed = now.saturating_sub(at).max(0);
    let cap = i64::from(rate.burst) * ONE;
    level
        .saturating_add(elapsed.saturating_mul(i64::from(rate.per_sec)))
        .min(cap)
}

/// How long until a bucket at `level` holds a whole token.
pub fn wait_ms(level: i64, rate: Rate) -> u64 {
    let missing = (ONE - level).max(0);
    let per_ms = i64::from(rate.per_sec.max(1));
    u64::try_from((missing + per_ms - 1) / per_ms).unwrap_or(0)
}

#[derive(Clone, Copy, Debug)]
struct Level {
    /// Thousandths of a token.
    level: i64,
    at: Millis,
    rate: Rate,
}

/// Token buckets in process memory. Buckets that have refilled completely are
/// the same as absent ones, so they are swept away now and then: memory stays
/// proportional to the clients active in the last few seconds.
#[derive(Default)]
pub struct MemoryRateLimiter {
    buckets: Mutex<HashMap<String, Level>>,
    calls: AtomicU64,
}

/// Sweep full buckets every this many calls, or whenever this many exist.
const SWEEP_EVERY: u64 = 1024;
const SWEEP_ABOVE: usize = 10_000;

impl MemoryRateLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Buckets currently held.
    pub fn len(&self) -> usize {
        lock(&self.buckets).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes a token from each bucket, all or nothing (see [`RateLimiter`]).
    pub fn take(&self, buckets: &[Bucket], now: Millis) -> Verdict {
        let calls = self.calls.fetch_add(1, Ordering::Relaxed);
        let mut map = lock(&self.buckets);
        if calls % SWEEP_EVERY == 0 || map.len() > SWEEP_ABOVE {
            map.retain(|_, b| refill(b.level, b.at, now, b.rate) < i64::from(b.rate.burst) * ONE);
        }
        let levels: Vec<i64> = buckets
            .iter()
            .map(|b| {
                let full = i64::from(b.rate.burst) * ONE;
                map.get(&b.key)
                    .map_or(full, |l| refill(l.level, l.at, now, b.rate))
            })
            .collect();
        let wait = buckets
            .iter()
            .zip(&levels)
            .filter(|(_, &level)| level < ONE)
            .map(|(b, &level)| wait_ms(level, b.rate))
            .max();
        if let Some(retry_after_ms) = wait {
            return Verdict::Limited { retry_after_ms };
        }
        for (b, level) in buckets.iter().zip(levels) {
            map.insert(
                b.key.clone(),
                Level {
                    level: level - ONE,
                    at: now,
                    rate: b.rate,
                },
            );
        }
        Verdict::Allowed
    }
}

#[async_trait]
impl RateLimiter for MemoryRateLimiter {
    async fn acquire(&self, buckets: &[Bucket], now: Millis) -> Result<Verdict, StoreError> {
        Ok(self.take(buckets, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(key: &str, per_sec: u32, burst: u32) -> Bucket {
        Bucket::new(key.into(), Rate::new(per_sec, burst))
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let l = MemoryRateLimiter::new();
        let k = [b("k", 10, 20)];
        for _ in 0..20 {
            assert_eq!(l.take(&k, 0), Verdict::Allowed);
        }
        assert_eq!(
            l.take(&k, 0),
            Verdict::Limited {
                retry_after_ms: 100
            }
        );
        assert_eq!(l.take(&k, 60), Verdict::Limited { retry_after_ms: 40 });
        assert_eq!(l.take(&k, 100), Verdict::Allowed);
        assert!(matches!(l.take(&k, 100), Verdict::Limited { .. }));
        // A full second gives back exactly ten.
        for _ in 0..10 {
            assert_eq!(l.take(&k, 1100), Verdict::Allowed);
        }
        assert!(matches!(l.take(&k, 1100), Verdict::Limited { .. }));
        // Idle long enough, it is full again, never fuller.
        for _ in 0..20 {
            assert_eq!(l.take(&k, 100_000), Verdict::Allowed);
        }
        assert!(matches!(l.take(&k, 100_000), Verdict::Limited { .. }));
    }

    #[test]
    fn all_or_nothing_across_buckets() {
        let l = MemoryRateLimiter::new();
        let conn = b("conn", 1, 5);
        let user = b("user", 1, 2);
        assert_eq!(l.take(&[conn.clone(), user.clone()], 0), Verdict::Allowed);
        assert_eq!(l.take(&[conn.clone(), user.clone()], 0), Verdict::Allowed);
        // The user bucket is empty: the refusal leaves the connection's alone.
        assert_eq!(
            l.take(&[conn.clone(), user.clone()], 0),
            Verdict::Limited {
                retry_after_ms: 1000
            }
        );
        for _ in 0..3 {
            assert_eq!(l.take(std::slice::from_ref(&conn), 0), Verdict::Allowed);
        }
        assert!(matches!(
            l.take(std::slice::from_ref(&conn), 0),
            Verdict::Limited { .. }
        ));
    }

    #[test]
    fn the_buckets_of_one_request_share_the_users_scope() {
        let limits = RateLimits::default();
        let (conn, user) = (
            ConnectionId::parse("L0SM9cOFvHcCIhw=").unwrap(),
            UserId::parse("alice").unwrap(),
        );
        let requests = [
            limits.for_frame(&conn, &user, false),
            limits.for_frame(&conn, &user, true),
            limits.for_rest(&user),
        ];
        for buckets in requests {
            assert!(buckets.iter().all(|b| b.scope == "u:alice"), "{buckets:?}");
        }
        assert_eq!(Bucket::new("k".into(), Rate::new(1, 1)).scope, "k");
    }

    #[test]
    fn a_clock_going_backwards_refills_nothing() {
        let l = MemoryRateLimiter::new();
        let k = [b("k", 1, 1)];
        assert_eq!(l.take(&k, 10_000), Verdict::Allowed);
        assert!(matches!(l.take(&k, 0), Verdict::Limited { .. }));
    }

    #[test]
    fn full_buckets_are_swept_so_memory_stays_bounded() {
        let l = MemoryRateLimiter::new();
        for i in 0..(SWEEP_ABOVE + 10) {
            let _ = l.take(&[b(&format!("k{i}"), 10, 10)], 0);
        }
        assert!(l.len() > SWEEP_ABOVE);
        // One second later every one of them is full again: the next call sweeps.
        let _ = l.take(&[b("late", 10, 10)], 1_000);
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn arithmetic_saturates_instead_of_overflowing() {
        let r = Rate::new(u32::MAX, u32::MAX);
        assert_eq!(refill(0, i64::MIN, i64::MAX, r), i64::from(u32::MAX) * ONE);
        assert!(wait_ms(i64::MIN / 2, Rate::new(1, 1)) > 0);
        assert_eq!(wait_ms(ONE, Rate::new(0, 1)), 0);
    }
}
