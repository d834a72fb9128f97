use chat_core::ports::Clock;
use chat_tests::Platform;
use serde_json::json;

#[tokio::test]
async fn contacts_see_online_at_the_first_device_and_offline_after_the_last() {
    let p = Platform::default();
    let mut alice = p.connect("alice").await;
    let bob_setup = p.connect("bob").await;
    p.create_room(&alice, "direct", "dm", &[&bob_setup]).await;
    p.disconnect(&bob_setup).await;
    alice.take("presence");

    let bob_laptop = p.connect("bob").await;
    let on = alice.one("presence");
    assert_eq!(
        (on["userId"].as_str(), on["status"].as_str()),
        (Some("bob"), Some("online"))
    );
    let bob_phone = p.connect("bob").await;
    assert!(
        alice.take("presence").is_empty(),
        "a second device changes nothing"
    );
    p.disconnect(&bob_laptop).await;
    assert!(
        alice.take("presence").is_empty(),
        "still online on the phone"
    );
    p.disconnect(&bob_phone).await;
    let off = alice.one("presence");
    assert_eq!(
        (off["userId"].as_str(), off["status"].as_str()),
        (Some("bob"), Some("offline"))
    );
}

#[tokio::test]
async fn strangers_are_not_told_about_presence() {
    let p = Platform::default();
    let mut stranger = p.connect("stranger").await;
    let _bob = p.connect("bob").await;
    assert!(stranger.take("presence").is_empty());
    let (_, profile) = p
        .rest(Some(&stranger.token), "GET", "/users/bob", None)
        .await;
    assert!(
        profile.get("presence").is_none(),
        "presence is for room members only: {profile}"
    );
}

#[tokio::test]
async fn a_connection_that_vanishes_without_disconnect_goes_offline_after_its_ttl() {
    let p = Platform::default();
    let alice = p.connect("alice").await;
    let bob = p.connect("bob").await;
    p.create_room(&alice, "direct", "dm", &[&bob]).await;
    let presence = |v: serde_json::Value| v["presence"].as_str().unwrap().to_owned();
    let (_, b) = p.rest(Some(&alice.token), "GET", "/users/bob", None).await;
    assert_eq!(presence(b), "online");
    // bob's socket died and API Gateway never delivered $disconnect.
    p.clock.advance(p.chat.limits.connection_ttl_ms + 1);
    let (_, b) = p.rest(Some(&alice.token), "GET", "/users/bob", None).await;
    assert_eq!(presence(b), "offline");
}

#[tokio::test]
async fn ping_answers_pong_and_keeps_the_connection_online() {
    let p = Platform::default();
    let alice = p.connect("alice").await;
    let mut bob = p.connect("bob").await;
    p.create_room(&alice, "direct", "dm", &[&bob]).await;
    let ttl = p.chat.limits.connection_ttl_ms;
    p.clock.advance(ttl - 1000);
    p.send(&bob, json!({"action":"ping"})).await;
    bob.one("pong");
    p.clock.advance(ttl - 1000);
    let (_, b) = p.rest(Some(&alice.token), "GET", "/users/bob", None).await;
    assert_eq!(b["presence"], "online", "the ping extended bob's presence");
    // By exactly one TTL from the ping, not forever.
    p.clock.advance(1000 + 1);
    let (_, b) = p.rest(Some(&alice.token), "GET", "/users/bob", None).await;
    assert_eq!(b["presence"], "offline", "one TTL after the ping");
}

#[tokio::test]
async fn a_room_lists_which_members_are_online() {
    let p = Platform::default();
    let alice = p.connect("alice").await;
    let bob = p.connect("bob").await;
    let carol = p.connect("carol").await;
    let room = p.create_room(&alice, "group", "g", &[&bob, &carol]).await;
    p.disconnect(&carol).await;
    let (status, detail) = p
        .rest(Some(&alice.token), "GET", &format!("/rooms/{room}"), None)
        .await;
    assert_eq!(status, 200, "{detail}");
    let presence: std::collections::BTreeMap<String, String> = detail["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["userId"].as_str().unwrap_or_default().to_owned(),
                m["presence"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(presence["alice"], "online");
    assert_eq!(presence["bob"], "online");
    assert_eq!(presence["carol"], "offline");
}

#[tokio::test]
async fn disconnect_is_idempotent() {
    let p = Platform::default();
    let alice = p.connect("alice").await;
    assert_eq!(p.disconnect(&alice).await.status_code, 200);
    assert_eq!(p.disconnect(&alice).await.status_code, 200);
}

/// bob's connection record as the store holds it.
async fn record(p: &Platform, c: &chat_tests::Client) -> chat_core::model::ConnectionRecord {
    p.chat.connections.get(&c.conn).await.unwrap().unwrap()
}

#[tokio::test]
async fn an_early_ping_answers_pong_without_writing_and_one_near_expiry_refreshes_the_ttl() {
    let p = Platform::default();
    let mut bob = p.connect("bob").await;
    let ttl = p.chat.limits.connection_ttl_ms;
    let window = p.chat.limits.presence_refresh_ms;
    let connected = record(&p, &bob).await.expires_at;

    // Well before expiry: pong, and the expiry is where $connect put it (a
    // write would have moved it, the clock having moved).
    p.clock.advance(60_000);
    p.send(&bob, json!({"action":"ping"})).await;
    bob.one("pong");
    assert_eq!(record(&p, &bob).await.expires_at, connected);

    // Inside the refresh window: the expiry moves to a full TTL from now.
    p.clock.advance(ttl - window + 1_000 - 60_000);
    p.send(&bob, json!({"action":"ping"})).await;
    bob.one("pong");
    assert_eq!(record(&p, &bob).await.expires_at, p.clock.now() + ttl);
}

#[tokio::test]
async fn a_client_pinging_every_540_s_stays_online_and_once_it_vanishes_goes_offline_within_the_ttl(
) {
    let p = Platform::default();
    let alice = p.connect("alice").await;
    let mut bob = p.connect("bob").await;
    p.create_room(&alice, "direct", "dm", &[&bob]).await;
    let presence = |v: serde_json::Value| v["presence"].as_str().unwrap().to_owned();
    let ttl = p.chat.limits.connection_ttl_ms;
    let mut expiry = record(&p, &bob).await.expires_at;
    let mut writes = 0;
    for _ in 0..8 {
        // Just before each ping bob is still online: it never lapses.
        p.clock.advance(540_000 - 1);
        let (_, b) = p.rest(Some(&alice.token), "GET", "/users/bob", None).await;
        assert_eq!(presence(b), "online");
        p.clock.advance(1);
        p.send(&bob, json!({"action":"ping"})).await;
        bob.one("pong");
        let now = record(&p, &bob).await.expires_at;
        if now != expiry {
            writes += 1;
            expiry = now;
        }
    }
    // Every other ping writes with the default TTL and window: 4 of 8.
    assert!((1..8).contains(&writes), "{writes} writes for 8 pings");

    // bob's socket dies after that last ping and $disconnect never comes.
    let last_ping = p.clock.now();
    assert!(expiry - last_ping <= ttl, "the bound is the TTL");
    p.clock.advance(expiry - last_ping - 1);
    let (_, b) = p.rest(Some(&alice.token), "GET", "/users/bob", None).await;
    assert_eq!(presence(b), "online");
    p.clock.advance(last_ping + ttl + 1 - p.clock.now());
    let (_, b) = p.rest(Some(&alice.token), "GET", "/users/bob", None).await;
    assert_eq!(
        presence(b),
        "offline",
        "offline at most a TTL after the last ping"
    );
}

#[tokio::test]
async fn a_channel_carries_no_presence_pushes_and_its_members_presence_is_read_on_demand() {
    let p = Platform::default();
    let mut alice = p.connect("alice").await;
    let bob_setup = p.connect("bob").await;
    let carol_setup = p.connect("carol").await;
    let channel = p
        .create_room(&alice, "channel", "town square", &[&bob_setup])
        .await;
    p.create_room(&alice, "group", "pair", &[&carol_setup])
        .await;
    p.disconnect(&bob_setup).await;
    p.disconnect(&carol_setup).await;
    alice.take("presence");

    // bob shares only the channel with alice: no push. carol shares a group.
    let _bob = p.connect("bob").await;
    let _carol = p.connect("carol").await;
    let pushed: Vec<String> = alice
        .take("presence")
        .iter()
        .map(|f| f["userId"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(pushed, vec!["carol".to_owned()]);
    let bob = p.member_view(&alice.token, &channel, "bob").await;
    assert_eq!(bob["presence"], "online");
}
