//! Real services on loopback (started by `chat-testkit`): one
//! `moto_server`, one `redis-server` and one 3-master Redis Cluster per test
//! binary (started on first use), plus dedicated Redis servers for the fault
//! tests. Each test makes its own table, queue and key prefix, so tests run
//! in parallel.
//!
//! Every Redis test runs on both topologies ([`Topology`], [`on_both!`]):
//! the cluster is what ElastiCache Serverless speaks, where a key scheme or a
//! call that spans hash slots fails.

use std::time::Duration;

use aws_config::SdkConfig;
use chat_adapters::dynamo::{create_table, DynamoStores, Table};
use chat_adapters::redis_cache::{CacheConfig, RedisCache};
use chat_core::config::RedisMode;
use chat_core::contract::unique;
pub use chat_testkit::{cluster, moto, redis, redis_cluster, redis_server, shutdown_redis};

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
/// moto's index never lags, so these caches hold nothing back after a
/// change (`index_settle` zero): the tests of hits see a lookup right after
/// a write cached. The lagging-index tests use [`Topology::cache_holding`].
pub fn cache_config(port: u16) -> CacheConfig {
    let base = CacheConfig::new(format!("redis://127.0.0.1:{port}"));
    CacheConfig {
        timeout: Duration::from_millis(500),
        key_prefix: format!("test:{}:", unique()),
        ttl: chat_adapters::redis_cache::Ttls {
            index_settle: Duration::ZERO,
            ..base.ttl.clone()
        },
        ..base
    }
}

pub fn cache() -> RedisCache {
    RedisCache::new(cache_config(redis().port)).expect("a valid redis url")
}

/// The same settings for the cluster client, through any node of it.
pub fn cluster_config(port: u16) -> CacheConfig {
    CacheConfig {
        mode: RedisMode::Cluster,
        ..cache_config(port)
    }
}

pub fn cluster_cache() -> RedisCache {
    RedisCache::new(cluster_config(cluster().nodes[0].port)).expect("a valid redis url")
}

/// One Redis server, or a Redis Cluster of three masters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topology {
    Single,
    Cluster,
}

impl Topology {
    /// A cache with a fresh prefix on the shared server or cluster.
    pub fn cache(self) -> RedisCache {
        match self {
            Topology::Single => cache(),
            Topology::Cluster => cluster_cache(),
        }
    }

    /// A cache with the default hold after changes to index-backed entries.
    pub fn cache_holding(self) -> RedisCache {
        let port = match self {
            Topology::Single => redis().port,
            Topology::Cluster => cluster().nodes[0].port,
        };
        let mut config = match self {
            Topology::Single => cache_config(port),
            Topology::Cluster => cluster_config(port),
        };
        config.ttl.index_settle = chat_adapters::redis_cache::Ttls::default().index_settle;
        RedisCache::new(config).expect("a valid redis url")
    }

    /// A cache configured as the functions configure theirs
    /// ([`CacheConfig::from_config`]), with `redisIndexHoldMs` =
    /// `index_hold_ms`, the contract tests' timeout and a fresh prefix.
    pub fn cache_from_settings(self, index_hold_ms: u64) -> RedisCache {
        let port = match self {
            Topology::Single => redis().port,
            Topology::Cluster => cluster().nodes[0].port,
        };
        let config = CacheConfig::from_config(&chat_core::config::RedisConfig {
            url: chat_core::config::Secret::new(format!("redis://127.0.0.1:{port}")),
            timeout_ms: 500,
            mode: match self {
                Topology::Single => RedisMode::Single,
                Topology::Cluster => RedisMode::Cluster,
            },
            index_hold_ms,
        });
        RedisCache::new(CacheConfig {
            key_prefix: format!("test:{}:", unique()),
            ..config
        })
        .expect("a valid redis url")
    }

    /// `n` caches with one fresh prefix, each with its own connection: the
    /// Lambda instances of one deployment.
    pub fn instances(self, n: usize) -> Vec<RedisCache> {
        let config = match self {
            Topology::Single => cache_config(redis().port),
            Topology::Cluster => cluster_config(cluster().nodes[0].port),
        };
        (0..n)
            .map(|_| RedisCache::new(config.clone()).expect("a valid redis url"))
            .collect()
    }
}

/// For each `async fn name(t: Topology)`, a module `name` with two tests,
/// `single` and `cluster`, running it on each topology.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn single() {
                super::$name($crate::support::Topology::Single).await
            }
            #[tokio::test]
            async fn cluster() {
                super::$name($crate::support::Topology::Cluster).await
            }
        }
    )*};
}
pub(crate) use on_both;

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
