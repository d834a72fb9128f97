//! The Redis token buckets (redis-server): the rate limiter contract, and
//! what happens when Redis is not there.

use chat_adapters::redis_cache::{CacheConfig, RedisCache, RedisRateLimiter};
use chat_shared::ratelimit::{Bucket, Rate, RateLimiter, Verdict};

chat_shared::rate_limiter_contract!(async {
    chat_adapters::redis_cache::RedisRateLimiter::new(crate::support::cache())
});

/// Two instances (two limiters, two connections) share one bucket: that is
/// the point of keeping it in Redis.
#[tokio::test]
async fn instances_share_their_buckets() {
    // The same prefix for both, as two Lambdas of one deployment have.
    let cache = crate::support::cache();
    let (a, b) = (
        RedisRateLimiter::new(cache.clone()),
        RedisRateLimiter::new(cache),
    );
    let bucket = [Bucket::new(
        format!("shared:{}", chat_shared::contract::unique()),
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
