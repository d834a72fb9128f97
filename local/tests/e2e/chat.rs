use serde_json::json;

use crate::{seqs, spawn};

#[tokio::test]
async fn two_users_chat_in_a_group_and_a_direct_room() {
    let e = spawn().await;
    let (mut alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    let group = e.room("alice", "group", &["bob"]).await;
    let dm = e.room("bob", "direct", &["alice"]).await;

    let ack = alice.send(&group, "hello team").await.unwrap();
    assert_eq!(ack.seq, 1);
    let m = bob.next_of("message").await.unwrap();
    assert_eq!(
        (
            m["body"].as_str(),
            m["senderId"].as_str(),
            m["roomId"].as_str()
        ),
        (Some("hello team"), Some("alice"), Some(group.as_str()))
    );

    bob.send(&dm, "psst").await.unwrap();
    let m = alice.next_of("message").await.unwrap();
    assert_eq!(
        (m["body"].as_str(), m["roomId"].as_str()),
        (Some("psst"), Some(dm.as_str()))
    );
}

#[tokio::test]
async fn a_non_member_is_refused_on_the_socket_and_over_rest() {
    let e = spawn().await;
    let (_alice, mallory) = (e.connect("alice").await, e.connect("mallory").await);
    let room = e.room("alice", "group", &[]).await;
    let err = mallory.send(&room, "let me in").await.unwrap_err();
    assert!(
        matches!(err, chat_client::ClientError::Frame { ref code, .. } if code == "forbidden"),
        "{err}"
    );
    let (s, _) = e
        .rest("mallory")
        .get(&format!("/rooms/{room}/messages"))
        .await
        .unwrap();
    assert_eq!(s, 403);
    let (s, _) = e
        .rest("mallory")
        .get(&format!("/rooms/{room}"))
        .await
        .unwrap();
    assert_eq!(s, 403);
}

#[tokio::test]
async fn history_pages_both_ways() {
    let e = spawn().await;
    let alice = e.connect("alice").await;
    let room = e.room("alice", "group", &[]).await;
    for i in 0..5 {
        alice.send(&room, &format!("m{i}")).await.unwrap();
    }
    e.persisted().await;
    let newest = e.history("alice", &room, "?limit=2").await;
    assert_eq!(seqs(&newest), vec![4, 5]);
    let older = e
        .history(
            "alice",
            &room,
            &format!("?limit=2&before={}", newest["prevCursor"].as_str().unwrap()),
        )
        .await;
    assert_eq!(seqs(&older), vec![2, 3]);
    let newer = e
        .history(
            "alice",
            &room,
            &format!("?limit=2&after={}", older["nextCursor"].as_str().unwrap()),
        )
        .await;
    assert_eq!(seqs(&newer), vec![4, 5]);
}

#[tokio::test]
async fn typing_reaches_the_other_member() {
    let e = spawn().await;
    let (alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "direct", &["bob"]).await;
    alice
        .send_json(&json!({"action":"typing","roomId":room,"isTyping":true}))
        .unwrap();
    let t = bob.next_of("typing").await.unwrap();
    assert_eq!(
        (t["userId"].as_str(), t["isTyping"].as_bool()),
        (Some("alice"), Some(true))
    );
}

#[tokio::test]
async fn delivered_and_read_receipts_and_unread_counts() {
    let e = spawn().await;
    let (mut alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    alice.send(&room, "one").await.unwrap();
    alice.send(&room, "two").await.unwrap();
    bob.next_of("message").await.unwrap();
    let r = alice.next_of("receipt").await.unwrap();
    assert_eq!(
        (r["userIds"][0].as_str(), r["status"].as_str()),
        (Some("bob"), Some("delivered"))
    );
    e.persisted().await;
    let (_, rooms) = e.rest("bob").get("/rooms").await.unwrap();
    assert_eq!(rooms["rooms"][0]["unreadCount"], 2);
    bob.send_json(&json!({"action":"markRead","roomId":room,"seq":2}))
        .unwrap();
    loop {
        let r = alice.next_of("receipt").await.unwrap();
        if r["status"] == "read" {
            assert_eq!(
                (r["userIds"][0].as_str(), r["seq"].as_u64()),
                (Some("bob"), Some(2))
            );
            break;
        }
    }
    let (_, rooms) = e.rest("bob").get("/rooms").await.unwrap();
    assert_eq!(rooms["rooms"][0]["unreadCount"], 0);
}

#[tokio::test]
async fn resending_a_client_msg_id_gives_one_message() {
    let e = spawn().await;
    let (alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    let a1 = alice.send_with_id(&room, "retry-me", "once").await.unwrap();
    let a2 = alice.send_with_id(&room, "retry-me", "once").await.unwrap();
    assert_eq!(a1, a2);
    e.persisted().await;
    assert_eq!(seqs(&e.history("bob", &room, "").await), vec![1]);
    // The resend is pushed again: the same message, by its id.
    let first = bob.next_of("message").await.unwrap();
    let second = bob.next_of("message").await.unwrap();
    assert_eq!(first, second);
    assert_eq!(first["messageId"].as_str(), Some(a1.message_id.as_str()));
}

#[tokio::test]
async fn a_client_that_was_away_recovers_exactly_what_it_missed_with_sync() {
    let e = spawn().await;
    let (alice, bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    alice.send(&room, "before").await.unwrap();
    bob.close();
    let mut bob_gone = bob;
    bob_gone.wait_closed().await.unwrap();
    for i in 0..3 {
        alice.send(&room, &format!("missed {i}")).await.unwrap();
    }
    e.persisted().await;
    let mut bob = e.connect("bob").await;
    bob.send_json(&json!({"action":"sync","rooms":[{"roomId":room,"afterSeq":1}]}))
        .unwrap();
    let r = bob.next_of("syncResult").await.unwrap();
    let bodies: Vec<&str> = r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["missed 0", "missed 1", "missed 2"]);
    assert_eq!(r["hasMore"], false);
}

#[tokio::test]
async fn presence_follows_devices_and_expires_without_disconnect() {
    let e = spawn().await;
    let mut alice = e.connect("alice").await;
    let bob_laptop = e.connect("bob").await;
    let dm = e.room("alice", "direct", &["bob"]).await;
    let bob_phone = e.connect("bob").await;
    bob_laptop.close();
    let presence = |v: &serde_json::Value| v["presence"].as_str().unwrap_or_default().to_owned();
    // Still online on the phone, once the laptop's $disconnect has run.
    e.wait_connections("bob", 1).await;
    let (_, b) = e.rest("alice").get("/users/bob").await.unwrap();
    assert_eq!(presence(&b), "online");
    // No presence frame reached alice before a message bob sent after that:
    // a positive event that comes later, never a sleep.
    bob_phone.send(&dm, "still here").await.unwrap();
    let mut before = Vec::new();
    loop {
        let f = alice.next().await.expect("alice gets bob's message");
        if f["type"] == "message" && f["body"] == "still here" {
            break;
        }
        before.push(f);
    }
    assert!(before.iter().all(|f| f["type"] != "presence"), "{before:?}");
    bob_phone.close();
    let off = alice.next_of("presence").await.unwrap();
    assert_eq!(
        (off["userId"].as_str(), off["status"].as_str()),
        (Some("bob"), Some("offline"))
    );

    // A device whose network dies without $disconnect stays online until its TTL.
    let carol = e.connect("carol").await;
    e.room("alice", "direct", &["carol"]).await;
    let conn_id = {
        // Ask the gateway which connection is carol's through the store.
        let conns =
            e.p.chat
                .connections
                .for_users(&[chat_core::ids::UserId::parse("carol").unwrap()])
                .await
                .unwrap();
        conns[0].connection_id.to_string()
    };
    assert!(e.p.gateway.lose_connection(&conn_id));
    drop(carol);
    let (_, c) = e.rest("alice").get("/users/carol").await.unwrap();
    assert_eq!(presence(&c), "online", "nobody told the platform");
    if crate::watch::in_process_only(
        "presence_follows_devices_and_expires_without_disconnect (its TTL step)",
        "advances the platform's manual clock, which the functions under watch do not read",
    ) {
        return;
    }
    e.clock.advance(e.p.chat.limits.connection_ttl_ms + 1);
    let (_, c) = e.rest("alice").get("/users/carol").await.unwrap();
    assert_eq!(presence(&c), "offline", "the TTL ran out");
}

#[tokio::test]
async fn a_connection_gone_before_the_push_is_cleaned_up_and_the_others_still_get_the_message() {
    let e = spawn().await;
    let users = [chat_core::ids::UserId::parse("bob").unwrap()];
    let alice = e.connect("alice").await;
    let bob_laptop = e.connect("bob").await;
    let laptop_id = e.p.chat.connections.for_users(&users).await.unwrap()[0]
        .connection_id
        .to_string();
    let mut bob_phone = e.connect("bob").await;
    let room = e.room("alice", "group", &["bob"]).await;
    assert_eq!(e.connections_of("bob").await, 2);
    // The laptop's network dies; API Gateway never delivers $disconnect, so
    // the store still lists it when alice's message fans out.
    assert!(e.p.gateway.lose_connection(&laptop_id));
    drop(bob_laptop);
    alice.send(&room, "still here?").await.unwrap();
    assert_eq!(
        bob_phone.next_of("message").await.unwrap()["body"],
        "still here?"
    );
    for _ in 0..200 {
        if e.connections_of("bob").await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let left = e.p.chat.connections.for_users(&users).await.unwrap();
    assert_eq!(left.len(), 1, "the gone connection was removed");
    assert_ne!(left[0].connection_id.as_str(), laptop_id);
}

/// Membership changes are pushed by the rooms function. Each function is
/// wired as it deploys (deploy/functions.json), so this fails if chat-rooms
/// is deployed without the pusher, as it once was.
#[tokio::test]
async fn members_added_to_or_removed_from_a_group_are_told_live() {
    members_are_told_live(&spawn().await).await;
}

/// The membership-event scenario, shared with the test that runs it on a
/// template whose rooms function lacks `execute-api:ManageConnections`.
pub async fn members_are_told_live(e: &crate::Env) {
    let mut carol = e.connect("carol").await;
    let room = e.room("alice", "group", &["bob"]).await;

    let (s, r) = e
        .rest("alice")
        .post(
            &format!("/rooms/{room}/members"),
            &json!({"userId":"carol"}),
        )
        .await
        .unwrap();
    assert!(s == 200 || s == 201, "{s} {r}");
    let added = carol.next_of("roomAdded").await.unwrap();
    assert_eq!(added["roomId"], room.as_str());

    let (s, r) = e
        .rest("alice")
        .delete(&format!("/rooms/{room}/members/carol"))
        .await
        .unwrap();
    assert!(s == 200 || s == 204, "{s} {r}");
    let removed = carol.next_of("roomRemoved").await.unwrap();
    assert_eq!(removed["roomId"], room.as_str());
}

/// 25 sends on one connection while the clock stands still: the
/// connection's bucket gives its burst of 20 and refuses the other five. On
/// the aws backend the buckets live in Redis (one server or the cluster), and
/// the cache's circuit must not open meanwhile: a limiter that fell back to
/// its own memory would still limit in this one process, but not across
/// Lambda instances.
#[tokio::test]
async fn a_burst_on_one_connection_gets_its_burst_then_rate_limited() {
    use chat_core::metrics::{snapshot, Metric};
    if crate::watch::in_process_only(
        "a_burst_on_one_connection_gets_its_burst_then_rate_limited",
        "the burst is counted while chat-local's manual clock stands still; function \
         processes refill their buckets on the system clock as the sends go by",
    ) {
        return;
    }
    let opened = || {
        snapshot()
            .get(Metric::CacheCircuitOpened.name())
            .map_or(0, |s| s.count)
    };
    let e = spawn().await;
    let alice = e.connect("alice").await;
    let room = e.room("alice", "group", &[]).await;
    let before = opened();
    let mut limited = 0;
    for i in 0..25 {
        match alice.send(&room, &format!("m{i}")).await {
            Ok(_) => {}
            Err(chat_client::ClientError::Frame { code, .. }) if code == "rate_limited" => {
                limited += 1
            }
            Err(other) => panic!("send {i}: {other}"),
        }
    }
    assert_eq!(limited, 5, "20 allowed, then rate_limited");
    assert_eq!(opened(), before, "the cache's circuit stayed closed");
}

/// `GET /openapi.json` answers the committed document without a token, in
/// every mode (embedded, template: the stack's unauthenticated route to the
/// users function, and the function binaries under watch), as the deployed
/// HTTP API does; every other route still wants one.
#[tokio::test]
async fn the_openapi_document_is_served_without_a_token_and_only_it() {
    let e = spawn().await;
    let anonymous = chat_client::Rest::new(&e.p.http_url(), None);
    let (status, doc) = anonymous.get("/openapi.json").await.unwrap();
    assert_eq!(status, 200);
    let committed: serde_json::Value =
        serde_json::from_str(chat_lambda::http::OPENAPI_JSON).unwrap();
    assert_eq!(doc, committed);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(anonymous.get("/users/me").await.unwrap().0, 401);
    assert_eq!(anonymous.get("/channels").await.unwrap().0, 401);
}
