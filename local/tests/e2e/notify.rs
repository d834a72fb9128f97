//! Offline notifications end to end: devices registered over REST, a
//! message to an offline member ends in the local outbox
//! (`GET /dev/notifications`), coalesced per window, and the policy holds.

use serde_json::{json, Value};

use crate::{spawn_with, Env};

/// The platform with records hidden for 30 s once received, as in AWS
/// (Lambda requires the queue's visibility timeout to be at least the
/// function's). The harness's default 50 ms (a second in moto) lets a
/// persist invocation slowed by a loaded machine see its own record again,
/// and a redelivered record counts its message again in the next
/// notification's count: these tests count exactly, and never retry.
async fn spawn() -> Env {
    spawn_with(|o| o.queue.visibility_timeout = std::time::Duration::from_secs(30)).await
}

const P256: &str =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";

async fn register(e: &Env, user: &str) {
    let (s, d) = e
        .rest(user)
        .post(
            "/users/me/devices",
            &json!({"endpoint": format!("https://push.example.com/{user}"), "keys": {"p256dh": P256, "auth": AUTH}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{d}");
}

/// The outbox's notifications for `user` in `room`: their counts.
async fn counts(e: &Env, user: &str, room: &str) -> Vec<u64> {
    let (s, body) = e
        .rest(user)
        .get(&format!("/dev/notifications?userId={user}"))
        .await
        .unwrap();
    assert_eq!(s, 200, "{body}");
    body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["roomId"] == room)
        .map(|n| n["count"].as_u64().unwrap())
        .collect()
}

async fn notifications(e: &Env) -> Vec<Value> {
    let (_, body) = e.rest("x").get("/dev/notifications").await.unwrap();
    body["notifications"].as_array().unwrap().clone()
}

/// Why the outbox tests cannot run with the functions in other processes.
/// Under watch the persist binary is wired as deployed: it reads the VAPID
/// secret the template names (`CHAT_VAPID_SECRET_ARN`), which moto does not
/// hold, so Web Push is off there (`WebPushDisabled`) and nothing reaches
/// this process's outbox. Turning it on would need a push service twin
/// that decrypts (these tests register keys whose private half they do not
/// have) and a loopback relaxation of the endpoint rules in the deployed
/// binary, which stays impossible on purpose.
const OUTBOX: &str = "the outbox and the manual clock live in the platform's process; the persist binary under watch reads the template's VAPID secret, which moto does not hold, so its Web Push is off (WebPushDisabled), and its sender never accepts loopback endpoints";

async fn put(e: &Env, user: &str, path: &str, body: Value) {
    let (s, r) = e.rest(user).call("PUT", path, Some(&body)).await.unwrap();
    assert_eq!(s, 200, "{r}");
}

#[tokio::test]
async fn an_offline_member_gets_one_notification_per_window_with_the_count() {
    if crate::watch::in_process_only(
        "an_offline_member_gets_one_notification_per_window_with_the_count",
        OUTBOX,
    ) {
        return;
    }
    let e = spawn().await;
    register(&e, "bob").await;
    let alice = e.connect("alice").await;
    let room = e.room("alice", "group", &["bob"]).await;
    alice.send(&room, "hello bob").await.unwrap();
    e.persisted().await;
    let sent = notifications(&e).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let n = &sent[0];
    assert_eq!(
        (&n["userId"], &n["senderId"], &n["roomId"], &n["count"]),
        (&json!("bob"), &json!("alice"), &json!(room), &json!(1))
    );
    assert!(n.get("body").is_none(), "no bodies by default: {n}");

    // A burst of five in the window: counted, not sent.
    for i in 0..5 {
        alice.send(&room, &format!("burst {i}")).await.unwrap();
    }
    e.persisted().await;
    assert_eq!(counts(&e, "bob", &room).await, vec![1]);
    // After the window the next one carries the five and itself.
    e.clock.advance(30_000);
    alice.send(&room, "after the window").await.unwrap();
    e.persisted().await;
    assert_eq!(counts(&e, "bob", &room).await, vec![1, 6]);
}

#[tokio::test]
async fn a_burst_to_a_quiet_room_gives_one_notification_and_the_counts_add_up() {
    if crate::watch::in_process_only(
        "a_burst_to_a_quiet_room_gives_one_notification_and_the_counts_add_up",
        OUTBOX,
    ) {
        return;
    }
    let e = spawn().await;
    register(&e, "bob").await;
    let alice = e.connect("alice").await;
    let room = e.room("alice", "group", &["bob"]).await;
    for i in 0..5 {
        alice.send(&room, &format!("burst {i}")).await.unwrap();
    }
    e.persisted().await;
    let first = counts(&e, "bob", &room).await;
    assert_eq!(first.len(), 1, "{first:?}");
    e.clock.advance(30_000);
    alice.send(&room, "later").await.unwrap();
    e.persisted().await;
    let all = counts(&e, "bob", &room).await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(
        all.iter().sum::<u64>(),
        6,
        "every message counted once: {all:?}"
    );
}

#[tokio::test]
async fn an_online_member_is_not_notified() {
    if crate::watch::in_process_only("an_online_member_is_not_notified", OUTBOX) {
        return;
    }
    let e = spawn().await;
    register(&e, "bob").await;
    let alice = e.connect("alice").await;
    let room = e.room("alice", "group", &["bob"]).await;
    let bob = e.connect("bob").await;
    alice.send(&room, "you are here").await.unwrap();
    e.persisted().await;
    drop(bob);
    e.wait_disconnected("bob").await;
    alice.send(&room, "you left").await.unwrap();
    e.persisted().await;
    // Only the message after Bob left, counted alone.
    assert_eq!(counts(&e, "bob", &room).await, vec![1]);
}

#[tokio::test]
async fn muted_rooms_dnd_and_mentions_only_hold() {
    if crate::watch::in_process_only("muted_rooms_dnd_and_mentions_only_hold", OUTBOX) {
        return;
    }
    let e = spawn().await;
    register(&e, "bob").await;
    let alice = e.connect("alice").await;
    let (muted, quiet, mentions, open) = (
        e.room("alice", "group", &["bob"]).await,
        e.room("alice", "group", &["bob"]).await,
        e.room("alice", "group", &["bob"]).await,
        e.room("alice", "group", &["bob"]).await,
    );
    put(
        &e,
        "bob",
        &format!("/rooms/{muted}/notifications"),
        json!({"level": "muted"}),
    )
    .await;
    put(
        &e,
        "bob",
        &format!("/rooms/{mentions}/notifications"),
        json!({"level": "mentions"}),
    )
    .await;
    alice.send(&muted, "muted room").await.unwrap();
    alice.send(&mentions, "no mention here").await.unwrap();
    e.persisted().await;
    // Do-not-disturb for an hour: nothing from the open room either.
    let (_, mut policy) = e.rest("bob").get("/users/me/notifications").await.unwrap();
    policy["dnd"] = json!({"mode": "until", "until": crate::now(&e) + 3_600_000});
    put(&e, "bob", "/users/me/notifications", policy.clone()).await;
    alice.send(&quiet, "during dnd").await.unwrap();
    e.persisted().await;
    policy["dnd"] = json!({"mode": "off"});
    put(&e, "bob", "/users/me/notifications", policy).await;
    alice.send(&mentions, "hey @bob, look").await.unwrap();
    alice.send(&open, "the positive control").await.unwrap();
    e.persisted().await;
    assert_eq!(counts(&e, "bob", &open).await, vec![1]);
    assert_eq!(counts(&e, "bob", &mentions).await, vec![1]);
    assert_eq!(counts(&e, "bob", &muted).await, Vec::<u64>::new());
    assert_eq!(counts(&e, "bob", &quiet).await, Vec::<u64>::new());
}

#[tokio::test]
async fn a_subscription_to_a_private_address_is_refused_and_nothing_is_stored() {
    let e = spawn().await;
    let bob = e.rest("bob");
    for endpoint in [
        "https://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:9/push",
        "https://10.0.0.1/x",
    ] {
        let (s, r) = bob
            .post(
                "/users/me/devices",
                &json!({"endpoint": endpoint, "keys": {"p256dh": P256, "auth": AUTH}}),
            )
            .await
            .unwrap();
        assert_eq!(s, 400, "{endpoint}: {r}");
    }
    let (_, list) = bob.get("/users/me/devices").await.unwrap();
    assert_eq!(list["devices"], json!([]));
}

#[tokio::test]
async fn malformed_registrations_are_refused_with_the_reason_and_nothing_is_stored() {
    let e = spawn().await;
    let bob = e.rest("bob");
    for (body, reason) in [
        (
            json!({"kind": "gcm", "token": "x".repeat(40)}),
            "kind must be",
        ),
        (json!({"kind": "fcm", "token": "short"}), "fcm token"),
        (json!({"kind": "apns", "token": "zz"}), "apns token"),
        (json!({"kind": "fcm"}), "kind and token"),
        (
            json!({"endpoint": "https://push.example.com/b", "kind": "fcm", "token": "x".repeat(40)}),
            "not both",
        ),
        (
            json!({"endpoint": "https://push.example.com/b", "keys": {"p256dh": "AAAA", "auth": AUTH}}),
            "p256dh",
        ),
        (
            json!({"endpoint": "http://push.example.com/b", "keys": {"p256dh": P256, "auth": AUTH}}),
            "https",
        ),
        (
            json!({"endpoint": "https://10.0.0.1/b", "keys": {"p256dh": P256, "auth": AUTH}}),
            "private address",
        ),
        (json!({}), "required"),
    ] {
        let (s, r) = bob.post("/users/me/devices", &body).await.unwrap();
        assert_eq!(s, 400, "{body}: {r}");
        let msg = r["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(reason), "{body}: {msg}");
    }
    let (s, list) = bob.devices().await.unwrap();
    assert_eq!(
        (s, list["devices"].as_array().map(Vec::len)),
        (200, Some(0))
    );
}

#[tokio::test]
async fn a_mobile_token_is_registered_listed_and_removed() {
    let e = spawn().await;
    let bob = e.rest("bob");
    let token = format!("dQw4w9WgXcQ:APA91b{}", "x".repeat(40));
    let req = chat_core::protocol::rest::RegisterDeviceRequest::mobile("fcm", &token);
    // With a template, the users function has the environment the template
    // gives it (in process as under watch): a stack synthesized without an
    // FCM platform application has no mobile push, and a token answers 409.
    if crate::template::from_env().is_some_and(|stack| {
        stack
            .environment("chat-users", &chat_local::template::Locals::default())
            .map(|env| !env.contains_key(chat_core::config::vars::SNS_FCM_APP_ARN))
            .unwrap_or(true)
    }) {
        let (s, d) = bob.register_device(&req).await.unwrap();
        assert_eq!(s, 409, "{d}");
        return;
    }
    let (s, d) = bob.register_device(&req).await.unwrap();
    assert_eq!((s, &d["kind"]), (201, &json!("fcm")), "{d}");
    let (s, _) = bob.register_device(&req).await.unwrap();
    assert_eq!(s, 200, "the same token again replaces it");
    register(&e, "bob").await;
    let (_, list) = bob.devices().await.unwrap();
    let mut kinds: Vec<&str> = list["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["fcm", "webpush"]);
    let device = d["deviceId"].as_str().unwrap();
    let (s, _) = bob.remove_device(device).await.unwrap();
    assert_eq!(s, 204);
    let (s, _) = bob.remove_device(device).await.unwrap();
    assert_eq!(s, 404);
}
