//! Push retries and what a failed push leaves behind: the bounds of
//! `Chat::settle` (fan-out) and `Chat::reply` (the caller's own frames), and
//! the presence that a gone last connection ends. Written for the mutants
//! `cargo mutants` found surviving in `core/src/service/fanout.rs`
//! (docs/MUTANTS.md): each assertion fails under one of them.

use chat_tests::{Client, Platform};
use serde_json::json;

fn send(room: &str, cmid: &str, body: &str) -> serde_json::Value {
    json!({"action":"sendMessage","roomId":room,"clientMsgId":cmid,"body":body})
}

async fn pair(p: &Platform) -> (Client, Client, String) {
    let (alice, bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "g", &[&bob]).await;
    (alice, bob, room)
}

#[tokio::test(start_paused = true)]
async fn a_fanout_push_is_retried_exactly_push_retries_times_then_left_to_sync() {
    let p = Platform::default();
    let retries = p.chat.limits.push_retries;
    assert!(retries >= 1, "the default retries at least once");
    let (mut alice, mut bob, room) = pair(&p).await;
    bob.take("presence");

    // `retries` failures: the last retry gets through.
    p.mem.pusher.fail_next_posts(&bob.conn, retries);
    let before = p.mem.pusher.posts();
    p.send(&alice, send(&room, "c1", "through")).await;
    assert_eq!(bob.one("message")["body"], "through");
    assert_eq!(alice.one("ack")["seq"], 1);
    // bob: 1 + retries attempts; alice: her ack.
    assert_eq!(p.mem.pusher.posts() - before, u64::from(retries) + 2);

    // One failure more than that: no more attempts, the message is not
    // pushed, the connection is kept (a throttled socket is not gone), and
    // sync recovers it.
    p.mem.pusher.fail_next_posts(&bob.conn, retries + 1);
    let before = p.mem.pusher.posts();
    p.send(&alice, send(&room, "c2", "later")).await;
    assert_eq!(alice.one("ack")["seq"], 2);
    assert_eq!(p.mem.pusher.posts() - before, u64::from(retries) + 2);
    assert!(bob.take("message").is_empty(), "the handler has returned");
    assert!(p.chat.connections.get(&bob.conn).await.unwrap().is_some());
    p.persist().await;
    p.send(
        &bob,
        json!({"action":"sync","rooms":[{"roomId":room,"afterSeq":1}]}),
    )
    .await;
    let result = bob.one("syncResult");
    assert_eq!(result["messages"][0]["body"], "later", "{result}");
}

#[tokio::test(start_paused = true)]
async fn a_send_whose_pushes_all_succeed_never_waits_on_a_backoff() {
    let p = Platform::default();
    let (mut alice, mut bob, room) = pair(&p).await;
    let start = tokio::time::Instant::now();
    p.send(&alice, send(&room, "c1", "fast")).await;
    assert_eq!(bob.one("message")["body"], "fast");
    assert_eq!(alice.one("ack")["seq"], 1);
    // The clock is paused: only a backoff sleep could move it.
    assert_eq!(start.elapsed(), std::time::Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn the_callers_ack_is_retried_exactly_push_retries_times() {
    let p = Platform::default();
    let retries = p.chat.limits.push_retries;
    let (mut alice, _bob, room) = pair(&p).await;
    alice.take("presence");

    p.mem.pusher.fail_next_posts(&alice.conn, retries);
    p.send(&alice, send(&room, "c1", "one")).await;
    assert_eq!(alice.one("ack")["seq"], 1);

    p.mem.pusher.fail_next_posts(&alice.conn, retries + 1);
    p.send(&alice, send(&room, "c2", "two")).await;
    assert!(alice.take("ack").is_empty(), "the ack was given up on");
    // The failures are used up, with no attempt past the bound: the next
    // frame is the next ack, not the lost one.
    p.send(&alice, send(&room, "c3", "three")).await;
    let acks = alice.take("ack");
    assert_eq!(acks.len(), 1, "{acks:?}");
    assert_eq!(acks[0]["clientMsgId"], "c3");
}

#[tokio::test]
async fn a_gone_last_connection_tells_contacts_offline_and_a_gone_spare_does_not() {
    let p = Platform::default();
    let (mut alice, bob_phone, bob_laptop) = (
        p.connect("alice").await,
        p.connect("bob").await,
        p.connect("bob").await,
    );
    let room = p.create_room(&alice, "group", "g", &[&bob_phone]).await;
    alice.take("presence");

    // bob's phone vanished without a $disconnect; his laptop is live.
    p.mem.pusher.drop_connection(&bob_phone.conn);
    p.send(&alice, send(&room, "c1", "one")).await;
    assert_eq!(alice.one("ack")["seq"], 1);
    assert!(
        alice.take("presence").is_empty(),
        "bob is still online on his laptop"
    );

    // Now the laptop vanishes too: bob has no live connection left.
    p.mem.pusher.drop_connection(&bob_laptop.conn);
    p.send(&alice, send(&room, "c2", "two")).await;
    assert_eq!(alice.one("ack")["seq"], 2);
    let off = alice.one("presence");
    assert_eq!(
        (off["userId"].as_str(), off["status"].as_str()),
        (Some("bob"), Some("offline"))
    );
}
