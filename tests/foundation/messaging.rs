use chat_tests::Platform;
use serde_json::json;

fn send(room: &str, cmid: &str, body: &str) -> serde_json::Value {
    json!({"action":"sendMessage","roomId":room,"clientMsgId":cmid,"body":body})
}

#[tokio::test]
async fn a_message_reaches_every_members_connections_and_the_sender_gets_an_ack() {
    let p = Platform::default();
    let (mut alice, mut alice_phone, mut bob, mut carol) = (
        p.connect("alice").await,
        p.connect("alice").await,
        p.connect("bob").await,
        p.connect("carol").await,
    );
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    p.send(&alice, send(&room, "c1", "hello")).await;

    let ack = alice.one("ack");
    assert_eq!(
        (
            ack["clientMsgId"].as_str(),
            ack["status"].as_str(),
            ack["seq"].as_u64()
        ),
        (Some("c1"), Some("sent"), Some(1))
    );
    assert!(
        alice.take("message").is_empty(),
        "the sending connection gets the ack, not an echo"
    );
    let on_phone = alice_phone.one("message");
    let at_bob = bob.one("message");
    assert_eq!(on_phone, at_bob);
    assert_eq!(at_bob["body"], "hello");
    assert_eq!(at_bob["senderId"], "alice");
    assert_eq!(at_bob["messageId"], ack["messageId"]);
    assert!(carol.take("message").is_empty(), "carol is not a member");
}

#[tokio::test]
async fn seqs_are_strictly_increasing_per_room() {
    let p = Platform::default();
    let mut alice = p.connect("alice").await;
    let r1 = p.create_room(&alice, "group", "one", &[]).await;
    let r2 = p.create_room(&alice, "group", "two", &[]).await;
    for i in 0..5 {
        p.send(&alice, send(&r1, &format!("a{i}"), "x")).await;
    }
    p.send(&alice, send(&r2, "b0", "x")).await;
    let acks = alice.take("ack");
    let seqs: Vec<u64> = acks
        .iter()
        .filter(|a| a["roomId"] == r1.as_str())
        .map(|a| a["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    assert_eq!(
        acks.iter().find(|a| a["roomId"] == r2.as_str()).unwrap()["seq"],
        1
    );
}

#[tokio::test]
async fn resending_a_client_msg_id_returns_the_same_ack_and_creates_one_message() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "direct", "dm", &[&bob]).await;
    p.send(&alice, send(&room, "same", "once")).await;
    p.send(&alice, send(&room, "same", "once")).await;
    p.send(&alice, send(&room, "same", "changed body")).await;
    let acks = alice.take("ack");
    assert_eq!(acks.len(), 3);
    assert!(acks.iter().all(|a| a == &acks[0]), "{acks:?}");
    // Each resend is pushed again (docs/PROTOCOL.md): one message, one id.
    let pushed = bob.take("message");
    assert_eq!(pushed.len(), 3, "{pushed:?}");
    assert!(
        pushed
            .iter()
            .all(|m| m["messageId"] == acks[0]["messageId"] && m["body"] == "once"),
        "{pushed:?}"
    );
    p.persist().await;
    assert_eq!(p.mem.messages.stored_count(), 1);
    let (_, page) = p
        .rest(
            Some(&bob.token),
            "GET",
            &format!("/rooms/{room}/messages"),
            None,
        )
        .await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    assert_eq!(page["messages"][0]["body"], "once");
}

#[tokio::test]
async fn oversize_and_malformed_frames_get_errors_and_the_connection_stays_usable() {
    let p = Platform::default();
    let mut alice = p.connect("alice").await;
    let room = p.create_room(&alice, "group", "g", &[]).await;

    p.send(&alice, send(&room, "big", &"x".repeat(4097))).await;
    let e = alice.one("error");
    assert_eq!(
        (e["code"].as_str(), e["clientMsgId"].as_str()),
        (Some("too_large"), Some("big"))
    );

    p.send_text(&alice, "{not json").await;
    assert_eq!(alice.one("error")["code"], "bad_request");
    p.send(&alice, json!({"action":"sendMessage","roomId":room}))
        .await;
    assert_eq!(alice.one("error")["code"], "bad_request");
    p.send(&alice, json!({"action":"fly"})).await;
    assert_eq!(alice.one("error")["code"], "bad_request");
    p.send(&alice, send(&room, "blank", "   ")).await;
    assert_eq!(alice.one("error")["code"], "bad_request");
    assert!(p.mem.queue.is_empty(), "nothing was accepted");

    p.send(&alice, send(&room, "ok", "still works")).await;
    assert_eq!(
        alice.one("ack")["seq"],
        1,
        "rejected frames consumed no seq"
    );
}

#[tokio::test]
async fn error_frames_do_not_echo_attacker_input() {
    let p = Platform::default();
    let mut alice = p.connect("alice").await;
    p.send(&alice, json!({"action":"<img src=x onerror=alert(1)>"}))
        .await;
    let e = alice.one("error");
    assert!(!e["message"].as_str().unwrap().contains("<img"), "{e}");
    p.send(
        &alice,
        json!({"action":"sendMessage","roomId":"<script>","clientMsgId":"<b>","body":"x"}),
    )
    .await;
    let e = alice.one("error");
    assert!(
        !e.to_string().contains("<script>") && e.get("clientMsgId").is_none(),
        "{e}"
    );
}

#[tokio::test]
async fn a_non_member_cannot_send_type_or_mark_read_and_nothing_happens() {
    let p = Platform::default();
    let (alice, mut bob, mut mallory) = (
        p.connect("alice").await,
        p.connect("bob").await,
        p.connect("mallory").await,
    );
    let room = p.create_room(&alice, "group", "private", &[&bob]).await;
    p.send(&mallory, send(&room, "m1", "let me in")).await;
    p.send(
        &mallory,
        json!({"action":"typing","roomId":room,"isTyping":true}),
    )
    .await;
    p.send(&mallory, json!({"action":"markRead","roomId":room,"seq":1}))
        .await;
    let errors = mallory.take("error");
    assert_eq!(errors.len(), 3);
    assert!(
        errors.iter().all(|e| e["code"] == "forbidden"),
        "{errors:?}"
    );
    assert!(p.mem.queue.is_empty());
    assert!(bob.take("message").is_empty() && bob.take("typing").is_empty());
    p.send(&mallory, send("r_doesnotexist", "m2", "x")).await;
    assert_eq!(mallory.one("error")["code"], "not_found");
}

#[tokio::test]
async fn typing_reaches_the_other_members_only() {
    let p = Platform::default();
    let (mut alice, mut bob, mut carol) = (
        p.connect("alice").await,
        p.connect("bob").await,
        p.connect("carol").await,
    );
    let room = p.create_room(&alice, "group", "g", &[&bob]).await;
    p.send(
        &alice,
        json!({"action":"typing","roomId":room,"isTyping":true}),
    )
    .await;
    let t = bob.one("typing");
    assert_eq!(
        (
            t["userId"].as_str(),
            t["isTyping"].as_bool(),
            t["roomId"].as_str()
        ),
        (Some("alice"), Some(true), Some(room.as_str()))
    );
    assert!(alice.take("typing").is_empty());
    assert!(carol.take("typing").is_empty());
}

#[tokio::test]
async fn when_the_queue_is_down_the_sender_resends_and_the_message_is_one_message() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "g", &[&bob]).await;
    p.mem.queue.fail_next_enqueues(1);
    p.send(&alice, send(&room, "c1", "hello")).await;
    let e = alice.one("error");
    assert_eq!(
        (
            e["code"].as_str(),
            e["clientMsgId"].as_str(),
            e["message"].as_str()
        ),
        (Some("internal"), Some("c1"), Some("internal error"))
    );
    // The reservation holds the whole message, so the pushes ran alongside
    // the failed enqueue: bob may already have it.
    let first = bob.take("message");
    assert_eq!(first.len(), 1, "{first:?}");
    // The client retries with the same clientMsgId: one message, with the
    // id and seq bob already has (he de-duplicates the repeat by messageId).
    p.send(&alice, send(&room, "c1", "hello")).await;
    let ack = alice.one("ack");
    assert_eq!(ack["seq"], 1);
    let again = bob.take("message");
    for m in first.iter().chain(&again) {
        assert_eq!(
            (&m["body"], &m["messageId"], &m["seq"]),
            (&json!("hello"), &ack["messageId"], &json!(1))
        );
    }
    p.persist().await;
    assert_eq!(p.mem.messages.stored_count(), 1);
}

#[tokio::test]
async fn a_message_whose_enqueue_failed_and_was_never_resent_is_still_synced_and_stored() {
    let p = Platform::default();
    let (alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "g", &[&bob]).await;
    p.mem.queue.fail_next_enqueues(1);
    p.send(&alice, send(&room, "c1", "reserved only")).await;
    bob.take("message");
    // No resend. A member who syncs gets it, and the sync repairs history.
    p.send(
        &bob,
        json!({"action":"sync","rooms":[{"roomId":room,"afterSeq":0}]}),
    )
    .await;
    let r = bob.one("syncResult");
    assert_eq!(
        (r["messages"][0]["body"].as_str(), r["throughSeq"].as_u64()),
        (Some("reserved only"), Some(1))
    );
    assert_eq!(p.mem.messages.stored_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_resend_reaches_the_member_whose_push_failed_the_first_time() {
    let p = Platform::default();
    let (mut alice, mut alice_phone, mut bob) = (
        p.connect("alice").await,
        p.connect("alice").await,
        p.connect("bob").await,
    );
    let room = p.create_room(&alice, "group", "g", &[&bob]).await;
    // Every attempt of the first round to bob fails: the ack still comes
    // (the message is durable), bob has nothing yet.
    p.mem
        .pusher
        .fail_next_posts(&bob.conn, p.chat.limits.push_retries + 1);
    p.send(&alice, send(&room, "c1", "second chance")).await;
    let first = alice.one("ack");
    assert_eq!(alice_phone.take("message").len(), 1);
    // The ack was lost on the way, say: the client resends.
    p.send(&alice, send(&room, "c1", "second chance")).await;
    assert_eq!(alice.one("ack"), first);
    let got = bob.take("message");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["messageId"], first["messageId"]);
    // A repeat push to the phone is possible; it carries the same messageId.
    let again = alice_phone.take("message");
    assert!(again.iter().all(|m| m["messageId"] == first["messageId"]));
    p.persist().await;
    assert_eq!(p.mem.messages.stored_count(), 1);
}

#[tokio::test]
async fn a_gone_recipient_connection_is_removed_and_the_senders_is_kept() {
    let p = Platform::default();
    let (mut alice, bob_dead, mut bob_live) = (
        p.connect("alice").await,
        p.connect("bob").await,
        p.connect("bob").await,
    );
    let room = p.create_room(&alice, "group", "g", &[&bob_live]).await;
    // bob's first device vanished without a $disconnect: API Gateway answers 410.
    p.mem.pusher.drop_connection(&bob_dead.conn);
    p.send(&alice, send(&room, "c1", "hi")).await;
    assert_eq!(alice.one("ack")["seq"], 1);
    assert_eq!(bob_live.one("message")["body"], "hi");
    assert!(
        p.chat
            .connections
            .get(&bob_dead.conn)
            .await
            .unwrap()
            .is_none(),
        "the gone connection is cleaned up"
    );
    assert!(
        p.chat.connections.get(&alice.conn).await.unwrap().is_some(),
        "the sender's connection is kept"
    );
    assert!(p
        .chat
        .connections
        .get(&bob_live.conn)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test(start_paused = true)]
async fn a_push_that_fails_transiently_is_retried() {
    let p = Platform::default();
    let (alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "g", &[&bob]).await;
    p.mem.pusher.fail_next_posts(&bob.conn, 2);
    p.send(&alice, send(&room, "c1", "eventually")).await;
    assert_eq!(bob.one("message")["body"], "eventually");
    assert!(
        p.chat.connections.get(&bob.conn).await.unwrap().is_some(),
        "a throttled connection is not gone"
    );
}

#[tokio::test]
async fn a_failure_after_the_message_is_queued_still_acks_and_sync_recovers_it() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "g", &[&bob]).await;
    // The members' connections cannot be looked up after the enqueue.
    p.lab.fail_store(chat_twin::StoreOp::ConnectionsForUsers, 1);
    p.send(&alice, send(&room, "c1", "durable")).await;
    assert_eq!(alice.one("ack")["seq"], 1);
    assert!(alice.take("error").is_empty(), "a durable message is acked");
    p.persist().await;
    p.send(
        &bob,
        json!({"action":"sync","rooms":[{"roomId":room,"afterSeq":0}]}),
    )
    .await;
    let r = bob.one("syncResult");
    assert_eq!(r["messages"][0]["body"], "durable");
    // The push never happened: the only copy bob has is the synced one.
    assert!(bob.take("message").is_empty());
}
