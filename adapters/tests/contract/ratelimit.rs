//! The Redis token buckets (redis-server and a Redis Cluster): the rate
//! limiter contract, buckets shared between instances, and what happens when
//! Redis is not there.

use chat_adapters::redis_cache::{CacheConfig, CacheStats, RedisCache, RedisRateLimiter};
use chat_core::contract::{connection, unique, user};
use chat_core::ratelimit::{Bucket, Rate, RateLimiter, RateLimits, Verdict};

use crate::support::{on_both, Topology};

mod single {
    chat_core::rate_limiter_contract!(async {
        chat_adapters::redis_cache::RedisRateLimiter::new(crate::support::cache())
    });
}

mod cluster {
    chat_core::rate_limiter_contract!(async {
        chat_adapters::redis_cache::RedisRateLimiter::new(crate::support::cluster_cache())
    });
}

on_both!(
    instances_share_their_buckets,
    a_burst_of_frames_on_one_connection_is_limited_across_instances,
    buckets_spanning_scopes_are_decided_in_memory_and_never_sent_to_redis,
);

/// Two instances (two limiters, each with its own Redis connection) share
/// one bucket: that is the point of keeping it in Redis.
async fn instances_share_their_buckets(t: Topology) {
    // The same prefix for both, as two Lambdas of one deployment have.
    let [one, two]: [RedisCache; 2] = t.instances(2).try_into().expect("two");
    let (a, b) = (RedisRateLimiter::new(one), RedisRateLimiter::new(two));
    let bucket = [Bucket::new(
        format!("shared:{}", chat_core::contract::unique()),
        Rate::new(1, 2),
    )];
    assert_eq!(a.acquire(&bucket, 0).await.unwrap(), Verdict::Allowed);
    assert_eq!(b.acquire(&bucket, 0).await.unwrap(), Verdict::Allowed);
    assert!(matches!(
        a.acquire(&bucket, 0).await.unwrap(),
        Verdict::Limited { .. }
    ));
    assert!(matches!(
        b.acquire(&bucket, 0).await.unwrap(),
        Verdict::Limited { .. }
    ));
}

/// 25 frames at once on one connection, alternating between two instances:
/// the connection's bucket (burst 20) and the user's bucket are taken
/// together, all or nothing, in Redis. Exactly 20 pass, and Redis answered
/// every one (no failure, no fallback to an instance's own memory, which
/// would let each instance pass its own 20).
async fn a_burst_of_frames_on_one_connection_is_limited_across_instances(t: Topology) {
    let cache = t.cache();
    let (a, b) = (
        RedisRateLimiter::new(cache.clone()),
        RedisRateLimiter::new(cache.clone()),
    );
    let buckets = RateLimits::default().for_frame(&connection("c"), &user("u"), false);
    assert_eq!(buckets.len(), 2);
    let mut limited = 0;
    for i in 0..25 {
        let l = if i % 2 == 0 { &a } else { &b };
        if let Verdict::Limited { .. } = l.acquire(&buckets, 1_000).await.unwrap() {
            limited += 1;
        }
    }
    assert_eq!(limited, 5, "20 allowed, then limited");
    let s = cache.stats();
    assert_eq!((s.attempts, s.failures, s.skipped), (25, 0, 0), "{s:?}");
    assert!(cache.is_healthy());
}

/// Buckets of one request in different scopes could not be taken atomically
/// on a cluster (`CROSSSLOT`): they are a caller's bug, decided on the
/// instance's memory without a Redis call that would fail and count against
/// the breaker.
async fn buckets_spanning_scopes_are_decided_in_memory_and_never_sent_to_redis(t: Topology) {
    let cache = t.cache();
    let l = RedisRateLimiter::new(cache.clone());
    let buckets = [
        Bucket::new(format!("a:{}", unique()), Rate::new(1, 1)),
        Bucket::new(format!("b:{}", unique()), Rate::new(1, 1)),
    ];
    assert_eq!(l.acquire(&buckets, 0).await.unwrap(), Verdict::Allowed);
    assert!(matches!(
        l.acquire(&buckets, 0).await.unwrap(),
        Verdict::Limited { .. }
    ));
    assert_eq!(cache.stats(), CacheStats::default());
    assert!(cache.is_healthy());
}

/// With Redis gone the instance still limits, on its own memory.
#[tokio::test]
async fn without_redis_each_instance_limits_on_its_own() {
    let port = chat_testkit::free_port();
    let cache = RedisCache::new(CacheConfig {
        timeout: std::time::Duration::from_millis(100),
        ..CacheConfig::new(format!("redis://127.0.0.1:{port}"))
    })
    .expect("a valid url");
    let l = RedisRateLimiter::new(cache);
    let bucket = [Bucket::new("down".into(), Rate::new(1, 2))];
    assert_eq!(l.acquire(&bucket, 0).await.unwrap(), Verdict::Allowed);
    assert_eq!(l.acquire(&bucket, 0).await.unwrap(), Verdict::Allowed);
    assert_eq!(
        l.acquire(&bucket, 0).await.unwrap(),
        Verdict::Limited {
            retry_after_ms: 1_000
        }
    );
}
