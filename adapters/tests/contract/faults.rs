//! Failures: Redis dying, Redis hanging (one server or a cluster), Redis
//! coming back, and DynamoDB errors surfacing as errors rather than panics.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chat_adapters::dynamo::Table;
use chat_adapters::redis_cache::{
    CacheConfig, CachedConnections, CachedMessages, CachedProfiles, CachedRooms, RedisCache,
};
use chat_core::config::RedisMode;
use chat_core::contract::*;
use chat_core::ids::{RoomId, UserId};
use chat_core::model::{ReceiptStatus, Role, RoomKind};
use chat_core::ports::{ConnectionStore, MessageStore, ProfileStore, RangeQuery, RoomStore};

use crate::support::{self, on_both, Topology};

on_both!(
    with_redis_killed_mid_run_every_operation_succeeds_and_the_breaker_stops_calling_it,
    a_redis_that_accepts_but_never_answers_costs_only_the_timeout,
);

/// The four cached stores over a fresh table, and a small world in them.
struct World {
    conns: CachedConnections,
    rooms: CachedRooms,
    messages: CachedMessages,
    profiles: CachedProfiles,
    room: RoomId,
    users: Vec<UserId>,
    /// Connections added by the operations, and the last read cursor set.
    added: AtomicUsize,
    cursor: AtomicU64,
}

fn config(port: u16, cool_down: Duration) -> CacheConfig {
    CacheConfig {
        timeout: Duration::from_millis(50),
        failure_threshold: 3,
        cool_down,
        key_prefix: format!("fault:{}:", unique()),
        ..CacheConfig::new(format!("redis://127.0.0.1:{port}"))
    }
}

async fn world(cache: &RedisCache) -> World {
    let s = support::stores().await;
    let w = World {
        conns: CachedConnections::new(Arc::new(s.connections), cache.clone()),
        rooms: CachedRooms::new(Arc::new(s.rooms), cache.clone()),
        messages: CachedMessages::new(Arc::new(s.messages), cache.clone()),
        profiles: CachedProfiles::new(Arc::new(s.profiles), cache.clone()),
        room: room_id(),
        users: (0..3).map(|i| user(&format!("u{i}"))).collect(),
        added: AtomicUsize::new(0),
        cursor: AtomicU64::new(0),
    };
    let mut r = room(RoomKind::Group, &w.users[0], 1_000);
    r.room_id = w.room.clone();
    let members: Vec<_> = w
        .users
        .iter()
        .map(|u| member(&r, u, Role::Member))
        .collect();
    assert!(w.rooms.create(&r, &members).await.unwrap());
    for u in &w.users {
        w.conns
            .put(&conn_record(&connection("c"), u, 5_000))
            .await
            .unwrap();
        w.profiles
            .create_if_absent(&profile(u, "Name"))
            .await
            .unwrap();
    }
    let m = w
        .messages
        .reserve(draft(&w.room, &w.users[0], "m0", "hi"))
        .await
        .unwrap();
    w.messages.put_batch(&[m.message().clone()]).await;
    w
}

/// One of twenty operations, checked against what the stores hold.
async fn operation(w: &World, i: usize) {
    let newest = RangeQuery {
        after: None,
        before: None,
        limit: 51,
        newest_first: true,
    };
    match i % 6 {
        0 => assert_eq!(
            w.conns.for_users(&w.users).await.unwrap().len(),
            3 + w.added.load(Ordering::SeqCst)
        ),
        1 => assert_eq!(w.rooms.members(&w.room).await.unwrap().len(), 3),
        2 => assert_eq!(w.messages.range(&w.room, newest).await.unwrap().len(), 1),
        3 => assert!(w.profiles.get(&w.users[1]).await.unwrap().is_some()),
        4 => {
            let seq = w.cursor.fetch_add(1, Ordering::SeqCst) + 1;
            assert!(w
                .rooms
                .advance_cursor(&w.room, &w.users[2], ReceiptStatus::Read, seq)
                .await
                .unwrap());
            let m = w
                .rooms
                .membership(&w.room, &w.users[2])
                .await
                .unwrap()
                .unwrap();
            assert_eq!((m.read_seq, m.delivered_seq), (seq, seq));
        }
        _ => {
            w.conns
                .put(&conn_record(&connection("n"), &w.users[0], 5_000))
                .await
                .unwrap();
            w.added.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn twenty_operations(w: &World) {
    for i in 0..20 {
        let started = Instant::now();
        operation(w, i).await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "op {i} took {:?}",
            started.elapsed()
        );
    }
}

fn config_for(t: Topology, port: u16, cool_down: Duration) -> CacheConfig {
    let mode = match t {
        Topology::Single => RedisMode::Single,
        Topology::Cluster => RedisMode::Cluster,
    };
    CacheConfig {
        mode,
        ..config(port, cool_down)
    }
}

async fn with_redis_killed_mid_run_every_operation_succeeds_and_the_breaker_stops_calling_it(
    t: Topology,
) {
    let (_servers, ports) = match t {
        Topology::Single => {
            let redis = support::redis_server(None);
            let ports = vec![redis.port];
            (vec![redis], ports)
        }
        Topology::Cluster => {
            let cluster = support::redis_cluster();
            let ports = cluster.ports();
            (cluster.nodes, ports)
        }
    };
    let cache = RedisCache::new(config_for(t, ports[0], Duration::from_secs(600))).unwrap();
    let w = world(&cache).await;
    twenty_operations(&w).await;
    assert!(
        cache.stats().attempts > 20,
        "the cache was in use: {:?}",
        cache.stats()
    );

    for port in ports {
        support::shutdown_redis(port);
    }
    let before = cache.stats();
    twenty_operations(&w).await;
    let after = cache.stats();
    assert!(
        after.attempts - before.attempts <= 3,
        "the breaker opened after 3 failures: {before:?} → {after:?}"
    );
    assert!(after.skipped > before.skipped + 20, "{after:?}");
    assert!(!cache.is_healthy());
    assert!(
        after.circuit_opened > before.circuit_opened,
        "the opening is counted: {before:?} → {after:?}"
    );
}

async fn a_redis_that_accepts_but_never_answers_costs_only_the_timeout(t: Topology) {
    // Accepts connections, reads whatever comes, never replies.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let cache = RedisCache::new(config_for(t, port, Duration::from_secs(600))).unwrap();
    let w = world(&cache).await;
    let started = Instant::now();
    let mut succeeded = 0;
    for i in 0..20 {
        operation(&w, i).await;
        succeeded += 1;
    }
    assert_eq!(succeeded, 20);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let stats = cache.stats();
    assert_eq!(
        stats.attempts, 3,
        "three 50 ms timeouts open the breaker: {stats:?}"
    );
    assert_eq!(stats.failures, 3);
}

#[tokio::test]
async fn after_the_cool_down_a_probe_finds_redis_back_and_the_cache_resumes() {
    let redis = support::redis_server(None);
    let port = redis.port;
    let cache = RedisCache::new(config(port, Duration::from_millis(300))).unwrap();
    let w = world(&cache).await;
    support::shutdown_redis(port);
    drop(redis);
    for i in 0..6 {
        operation(&w, i).await;
    }
    assert!(!cache.is_healthy());
    let _back = support::redis_server(Some(port));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let before = cache.stats();
    for i in 0..6 {
        operation(&w, i).await;
    }
    assert!(cache.is_healthy(), "{:?}", cache.stats());
    assert!(
        cache.stats().attempts >= before.attempts + 6,
        "{:?}",
        cache.stats()
    );
}

#[tokio::test]
async fn dynamodb_errors_come_back_as_errors_per_item_not_panics() {
    let sdk = support::sdk().await;
    let stores = Table::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        format!("missing-{}", unique()),
    )
    .stores();
    let (r, u) = (room_id(), user("u"));
    let ms: Vec<_> = (0..30)
        .map(|i| draft(&r, &u, &format!("c{i}"), "m").with_seq(i + 1))
        .collect();
    let outcomes = stores.messages.put_batch(&ms).await;
    assert_eq!(outcomes.len(), 30);
    assert!(outcomes.iter().all(Result::is_err), "{outcomes:?}");
    assert!(stores
        .messages
        .reserve(draft(&r, &u, "x", "m"))
        .await
        .is_err());
    assert!(stores
        .connections
        .for_users(std::slice::from_ref(&u))
        .await
        .is_err());
    assert!(stores.rooms.members(&r).await.is_err());
}
