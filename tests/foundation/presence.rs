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
