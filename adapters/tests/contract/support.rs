//! Real services on loopback (started by `chat-testkit`): one
//! `moto_server` and one `redis-server` per test binary (started on first
//! use), plus dedicated Redis servers for the fault tests. Each test makes its
//! own table, queue and key prefix, so tests run in parallel.

use std::time::Duration;

use aws_config::SdkConfig;
use chat_adapters::dynamo::{create_table, DynamoStores, Table};
use chat_adapters::redis_cache::{CacheConfig, RedisCache};
use chat_shared::contract::unique;
pub use chat_testkit::{moto, redis, redis_server, shutdown_redis};

/// SDK configuration for the moto server (static dummy credentials).
pub async fn sdk() -> SdkConfig {
    chat_adapters::aws::emulator_config(&moto().url("http")).await
}

/// A fresh table with the production key design.
pub async fn table_with(sdk: &SdkConfig) -> Table {
    let client = aws_sdk_dynamodb::Client::new(sdk);
    let name = format!("chat-{}", unique());
    create_table(&client, &name)
        .await
        .expect("create table in moto");
    Table::new(client, name)
}

pub async fn table() -> Table {
    table_with(&sdk().await).await
}

pub async fn stores() -> DynamoStores {
    table().await.stores()
}

/// Cache settings for `port` with a fresh key prefix. The contract tests use
/// a roomier timeout than production's 50 ms: they check answers, and a
/// loaded two-core machine should not turn them into tests of the fallback.
pub fn cache_config(port: u16) -> CacheConfig {
    CacheConfig {
        timeout: Duration::from_millis(500),
        key_prefix: format!("test:{}:", unique()),
        ..CacheConfig::new(format!("redis://127.0.0.1:{port}"))
    }
}

pub fn cache() -> RedisCache {
    RedisCache::new(cache_config(redis().port)).expect("a valid redis url")
}

pub async fn queue_url(sdk: &SdkConfig) -> String {
    aws_sdk_sqs::Client::new(sdk)
        .create_queue()
        .queue_name(format!("chat-{}", unique()))
        .send()
        .await
        .expect("create queue in moto")
        .queue_url
        .expect("a queue url")
}
