//! Rate limits (token buckets, `chat_core::ratelimit`): they trip at the
//! configured burst, refuse with `rate_limited` and change nothing else, and
//! recover as the clock moves. Time is the platform's `ManualClock`: no sleeps.

use chat_core::config::Limits;
use chat_core::ids::RoomId;
use chat_core::ratelimit::{Rate, RateLimits};
use chat_tests::{Client, Platform};
use serde_json::{json, Value};

fn send(room: &str, cmid: &str) -> Value {
    json!({"action":"sendMessage","roomId":room,"clientMsgId":cmid,"body":"x"})
}

async fn last_seq(p: &Platform, room: &str) -> u64 {
    p.chat
        .messages
        .last_seq(&RoomId::parse(room).unwrap())
        .await
        .unwrap()
}

fn assert_rate_limited(c: &mut Client, cmid: Option<&str>, retry_after_ms: u64) {
    let e = c.one("error");
    assert_eq!(e["code"], "rate_limited", "{e}");
    assert_eq!(e["clientMsgId"].as_str(), cmid, "{e}");
    assert_eq!(e["retryAfterMs"], retry_after_ms, "{e}");
}

#[tokio::test]
async fn a_connection_past_its_burst_is_refused_and_nothing_else_happens_until_tokens_refill() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    bob.all();
    // Default: 10 frames/s per connection, burst 20.
    for i in 0..20 {
        p.send(&alice, send(&room, &format!("c{i}"))).await;
    }
    assert_eq!(alice.take("ack").len(), 20);
    assert_eq!(bob.take("message").len(), 20);
    let queued = p.mem.queue.len();
    let expires = p
        .chat
        .connections
        .get(&alice.conn)
        .await
        .unwrap()
        .unwrap()
        .expires_at;

    p.send(&alice, send(&room, "c20")).await;
    assert_rate_limited(&mut alice, Some("c20"), 100);
    p.send(&alice, json!({"action":"markRead","roomId":room,"seq":20}))
        .await;
    assert_rate_limited(&mut alice, None, 100);
    p.send(&alice, json!({"action":"ping"})).await;
    assert_rate_limited(&mut alice, None, 100);
    assert!(alice.take("pong").is_empty());
    // Nothing happened: no seq, nothing queued, nothing pushed, no cursor
    // moved, no presence TTL refreshed.
    assert_eq!(last_seq(&p, &room).await, 20);
    assert_eq!(p.mem.queue.len(), queued);
    assert!(bob.all().is_empty());
    let rec = p.chat.connections.get(&alice.conn).await.unwrap().unwrap();
    assert_eq!(rec.expires_at, expires);
    assert!(alice.all().is_empty());

    // 100 ms refill one token: the refused message goes through on resend,
    // and the connection is as usable as before.
    p.clock.advance(100);
    p.send(&alice, send(&room, "c20")).await;
    assert_eq!(alice.one("ack")["seq"], 21);
    assert_eq!(bob.one("message")["clientMsgId"], "c20");
    p.send(&alice, send(&room, "c21")).await;
    assert_rate_limited(&mut alice, Some("c21"), 100);
    p.clock.advance(2_000);
    for i in 21..41 {
        p.send(&alice, send(&room, &format!("c{i}"))).await;
    }
    assert_eq!(alice.take("ack").len(), 20, "a full burst again");
}

#[tokio::test]
async fn the_per_user_limit_spans_connections_and_other_users_are_unaffected() {
    let p = Platform::default();
    let (mut a1, mut a2, mut a3) = (
        p.connect("alice").await,
        p.connect("alice").await,
        p.connect("alice").await,
    );
    let mut bob = p.connect("bob").await;
    let room = p.create_room(&a1, "group", "team", &[&bob]).await;
    // Per user: 20/s, burst 40 — two connections' bursts.
    for i in 0..20 {
        p.send(&a1, send(&room, &format!("a{i}"))).await;
        p.send(&a2, send(&room, &format!("b{i}"))).await;
    }
    assert_eq!(a1.take("ack").len() + a2.take("ack").len(), 40);
    // A third connection has a full bucket of its own, but the user has none.
    p.send(&a3, send(&room, "c0")).await;
    assert_rate_limited(&mut a3, Some("c0"), 50);
    assert_eq!(last_seq(&p, &room).await, 40);
    // Bob's buckets are his own.
    bob.all();
    p.send(&bob, send(&room, "bob-1")).await;
    assert_eq!(bob.one("ack")["seq"], 41);
    // 50 ms later the user has one token again.
    p.clock.advance(50);
    p.send(&a3, send(&room, "c0")).await;
    assert_eq!(a3.one("ack")["seq"], 42);
}

#[tokio::test]
async fn typing_has_its_own_smaller_bucket() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    let typing = json!({"action":"typing","roomId":room,"isTyping":true});
    // 2/s, burst 4.
    for _ in 0..4 {
        p.send(&alice, typing.clone()).await;
    }
    assert_eq!(bob.take("typing").len(), 4);
    p.send(&alice, typing.clone()).await;
    assert_rate_limited(&mut alice, None, 500);
    assert!(bob.take("typing").is_empty());
    // Typing did not spend message tokens, nor the other way round.
    p.send(&alice, send(&room, "m1")).await;
    assert_eq!(alice.one("ack")["seq"], 1);
    p.clock.advance(500);
    p.send(&alice, typing).await;
    assert_eq!(bob.take("typing").len(), 1);
}

#[tokio::test]
async fn frames_that_fail_to_decode_count_too() {
    let p = Platform::default();
    let mut alice = p.connect("alice").await;
    let room = p.create_room(&alice, "group", "solo", &[]).await;
    for _ in 0..20 {
        p.send_text(&alice, "garbage").await;
    }
    assert_eq!(alice.take("error").len(), 20);
    p.send_text(&alice, "garbage").await;
    assert_rate_limited(&mut alice, None, 100);
    p.send(&alice, send(&room, "c1")).await;
    assert_rate_limited(&mut alice, Some("c1"), 100);
}

#[tokio::test]
async fn limits_come_from_configuration() {
    let p = Platform::new(Limits {
        rate: RateLimits {
            message_per_connection: Rate::new(1, 2),
            ..RateLimits::default()
        },
        ..Limits::default()
    });
    let mut alice = p.connect("alice").await;
    let room = p.create_room(&alice, "group", "solo", &[]).await;
    p.send(&alice, send(&room, "c1")).await;
    p.send(&alice, send(&room, "c2")).await;
    p.send(&alice, send(&room, "c3")).await;
    assert_eq!(alice.take("ack").len(), 2);
    assert_rate_limited(&mut alice, Some("c3"), 1_000);
}

#[tokio::test]
async fn rest_calls_past_the_limit_get_429_with_retry_after_and_change_nothing() {
    let p = Platform::default();
    let mut alice = p.connect("alice").await;
    let token = alice.token.clone();
    // 20/s, burst 40 per user.
    for _ in 0..40 {
        let (status, me) = p.rest(Some(&token), "GET", "/users/me", None).await;
        assert_eq!((status, me["userId"].as_str()), (200, Some("alice")));
    }
    let (status, headers, body) = p
        .rest_with_headers(Some(&token), "GET", "/users/me", None)
        .await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(
        headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1"),
        "50 ms, rounded up to whole seconds"
    );
    let (status, _) = p
        .rest(
            Some(&token),
            "POST",
            "/rooms",
            Some(json!({"name":"late","kind":"group"})),
        )
        .await;
    assert_eq!(status, 429);
    // Another user's REST calls, and alice's WebSocket, are unaffected.
    let bob = p.token("bob");
    assert_eq!(p.rest(Some(&bob), "GET", "/users/me", None).await.0, 200);
    p.send(&alice, json!({"action":"ping"})).await;
    alice.one("pong");

    p.clock.advance(50);
    let (status, rooms) = p.rest(Some(&token), "GET", "/rooms", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        rooms["rooms"].as_array().map(Vec::len),
        Some(0),
        "the refused POST created nothing"
    );
}
