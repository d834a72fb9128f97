//! The benchmark against the in-process platform and the bare broadcast
//! server, small and short: every message must arrive exactly once. No
//! timing is asserted (the machine is shared).

use std::time::Duration;

use chat_bench::baseline::Baseline;
use chat_bench::load::{self, LoadConfig, Target, Tokens};

fn small() -> LoadConfig {
    LoadConfig {
        connections: 20,
        room_size: 5,
        rate: 100.0,
        warmup: Duration::from_millis(200),
        duration: Duration::from_secs(1),
        // The drain ends as soon as every send is answered; the long bound
        // only matters on a machine busy with other builds.
        drain: Duration::from_secs(20),
        progress: false,
        ..LoadConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_reaches_every_other_member_once_on_the_platform() {
    let running = chat_local::start(chat_local::Options {
        port: 0,
        ..chat_local::Options::default()
    })
    .await
    .unwrap();
    let target = Target::Platform {
        ws_url: running.ws_url(),
        rest_url: running.http_url(),
        tokens: Tokens::Mint {
            secret: chat_local::DEFAULT_SECRET.into(),
        },
    };
    let r = load::run(&target, &small()).await.unwrap();
    running.stop().await;
    assert_eq!(r.connected, 20, "{}", r.table());
    assert!(r.acked > 0, "{}", r.table());
    assert_eq!(r.delivery.missing, 0, "{}", r.table());
    assert_eq!(r.delivery.duplicates, 0, "{}", r.table());
    assert_eq!(r.delivery.unexpected, 0, "{}", r.table());
    assert_eq!(r.delivery.expected, r.acked * 4, "{}", r.table());
    assert!(r.is_clean(), "{}", r.table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bare_broadcast_server_delivers_exactly_once_too() {
    let server = Baseline::start().await.unwrap();
    let target = Target::Baseline {
        ws_url: server.ws_url(),
    };
    let r = load::run(&target, &small()).await.unwrap();
    server.stop();
    assert!(r.acked > 0, "{}", r.table());
    assert_eq!(r.delivery.missing, 0, "{}", r.table());
    assert_eq!(r.delivery.duplicates, 0, "{}", r.table());
    assert!(r.is_clean(), "{}", r.table());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_joined_by_their_members_deliver_once_through_the_queued_fan_out() {
    // Rooms of 5 above an inline fan-out of 2: every message goes to its
    // members in shards, from the queue (as 10,000-member channels do).
    let running = chat_local::start(chat_local::Options {
        port: 0,
        limits: chat_core::config::Limits {
            fanout_inline_max: 2,
            fanout_shard_size: 2,
            ..chat_core::config::Limits::default()
        },
        ..chat_local::Options::default()
    })
    .await
    .unwrap();
    let target = Target::Platform {
        ws_url: running.ws_url(),
        rest_url: running.http_url(),
        tokens: Tokens::Mint {
            secret: chat_local::DEFAULT_SECRET.into(),
        },
    };
    let cfg = LoadConfig {
        channels: true,
        ..small()
    };
    let r = load::run(&target, &cfg).await.unwrap();
    running.stop().await;
    assert_eq!(r.connected, 20, "{}", r.table());
    assert!(r.acked > 0, "{}", r.table());
    assert_eq!(r.delivery.missing, 0, "{}", r.table());
    assert_eq!(r.delivery.duplicates, 0, "{}", r.table());
    assert_eq!(r.delivery.expected, r.acked * 4, "{}", r.table());
    assert!(r.is_clean(), "{}", r.table());
}
