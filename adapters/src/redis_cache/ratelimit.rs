//! Token buckets in Redis: the [`RateLimiter`] every Lambda instance shares.
//!
//! One request is one script call, atomic over all of its buckets (a frame
//! takes from its connection's and its user's bucket, all or nothing). Each
//! bucket is a hash `PREFIX{rl:SCOPE}:KEY` with its level `l` (thousandths of
//! a token) and the time `t` it was last taken from. The buckets of one
//! request share a [`Bucket::scope`] (the user), which is the hash tag: on a
//! Redis Cluster they live in one slot, so the one script stays legal and
//! all or nothing. Buckets of different scopes in one request are a caller's
//! bug; they are decided on this instance's memory (and logged) rather than
//! sent to fail with `CROSSSLOT` and open the breaker. The arithmetic is the
//! in-memory adapter's ([`chat_core::ratelimit::refill`]), and the key
//! expires once the bucket would be full again, so idle clients cost nothing.
//!
//! Time is the caller's clock (`ARGV[1]`), as in the in-memory adapter, so
//! both pass the same contract with a hand-moved clock. Instances' clocks
//! differ by milliseconds at most; `t` never moves backwards, so a lagging
//! clock refills nothing rather than refilling twice.
//!
//! When Redis is down, slow or its breaker is open (see the parent module),
//! the request is decided by an in-memory limiter of this instance instead:
//! weaker (per instance, not per fleet), but never a reason to refuse chat.

use async_trait::async_trait;
use chat_core::error::StoreError;
use chat_core::ids::Millis;
use chat_core::ratelimit::{Bucket, MemoryRateLimiter, RateLimiter, Verdict};
use redis::Script;
use tracing::warn;

use super::RedisCache;

/// `KEYS`: the buckets. `ARGV[1]`: now (ms); then `per_sec`, `burst` per key.
/// Returns 0 when a token was taken from every bucket, else the milliseconds
/// until each has one (and nothing was taken).
const TAKE: &str = r"
local now = tonumber(ARGV[1])
local levels, ats = {}, {}
local wait = 0
for i = 1, #KEYS do
  local rate = tonumber(ARGV[2 * i])
  local cap = tonumber(ARGV[2 * i + 1]) * 1000
  local v = redis.call('HMGET', KEYS[i], 'l', 't')
  local level, at = cap, now
  if v[1] and v[2] then
    level, at = tonumber(v[1]), tonumber(v[2])
    local elapsed = now - at
    if elapsed < 0 then elapsed = 0 end
    level = math.min(cap, level + elapsed * rate)
  end
  levels[i], ats[i] = level, math.max(at, now)
  if level < 1000 then
    local w = math.ceil((1000 - level) / rate)
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
for i = 1, #KEYS do
  local rate = tonumber(ARGV[2 * i])
  local cap = tonumber(ARGV[2 * i + 1]) * 1000
  local left = levels[i] - 1000
  redis.call('HSET', KEYS[i], 'l', left, 't', ats[i])
  redis.call('PEXPIRE', KEYS[i], math.ceil((cap - left) / rate) + 1000)
end
return 0";

/// Shared token buckets, with this instance's memory as the fallback.
pub struct RedisRateLimiter {
    cache: RedisCache,
    script: Script,
    fallback: MemoryRateLimiter,
}

impl RedisRateLimiter {
    pub fn new(cache: RedisCache) -> Self {
        Self {
            cache,
            script: Script::new(TAKE),
            fallback: MemoryRateLimiter::new(),
        }
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn acquire(&self, buckets: &[Bucket], now: Millis) -> Result<Verdict, StoreError> {
        let Some(first) = buckets.first() else {
            return Ok(Verdict::Allowed);
        };
        if buckets.iter().any(|b| b.scope != first.scope) {
            warn!(
                scopes = ?buckets.iter().map(|b| b.scope.as_str()).collect::<Vec<_>>(),
                "rate limit buckets of one request span scopes: decided in memory"
            );
            return Ok(self.fallback.take(buckets, now));
        }
        let tag = self.cache.key("rl", &first.scope);
        let mut inv = self.script.prepare_invoke();
        inv.arg(now);
        for b in buckets {
            inv.key(format!("{tag}:{}", b.key))
                .arg(b.rate.per_sec.max(1))
                .arg(b.rate.burst);
        }
        let answer = self
            .cache
            .call("rate_limit", |mut c| async move {
                inv.invoke_async::<i64>(&mut c).await
            })
            .await;
        Ok(match answer {
            Some(0) => Verdict::Allowed,
            Some(wait) => Verdict::Limited {
                retry_after_ms: u64::try_from(wait).unwrap_or(0),
            },
            None => self.fallback.take(buckets, now),
        })
    }
}
