use chat_tests::Platform;
use serde_json::json;

#[tokio::test]
async fn the_sender_gets_a_delivered_receipt_once_the_worker_records_it() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "g", &[&bob]).await;
    p.send(
        &alice,
        json!({"action":"sendMessage","roomId":room,"clientMsgId":"c1","body":"hi"}),
    )
    .await;
    bob.one("message");
    p.persist().await;
    let r = alice.one("receipt");
    assert_eq!(
        r,
        json!({"type":"receipt","roomId":room,"userIds":["bob"],"status":"delivered","seq":1})
    );
    let bob_view = p.member_view(&alice.token, &room, "bob").await;
    assert_eq!(
        (
            bob_view["deliveredSeq"].as_u64(),
            bob_view["readSeq"].as_u64()
        ),
        (Some(1), Some(0))
    );
}

#[tokio::test]
async fn mark_read_sends_read_receipts_and_clears_unread_counts() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "g", &[&bob]).await;
    for i in 0..3 {
        p.send(
            &alice,
            json!({"action":"sendMessage","roomId":room,"clientMsgId":format!("c{i}"),"body":"x"}),
        )
        .await;
    }
    p.persist().await;
    let unread = |v: &serde_json::Value| v["rooms"][0]["unreadCount"].as_u64().unwrap();
    let (_, bobs) = p.rest(Some(&bob.token), "GET", "/rooms", None).await;
    assert_eq!(unread(&bobs), 3);
    assert_eq!(bobs["rooms"][0]["lastMessage"]["seq"], 3);
    let (_, alices) = p.rest(Some(&alice.token), "GET", "/rooms", None).await;
    assert_eq!(unread(&alices), 0, "your own messages are read");

    alice.take("receipt");
    p.send(&bob, json!({"action":"markRead","roomId":room,"seq":2}))
        .await;
    let r = alice.one("receipt");
    assert_eq!(
        (
            r["userIds"][0].as_str(),
            r["status"].as_str(),
            r["seq"].as_u64()
        ),
        (Some("bob"), Some("read"), Some(2))
    );
    let (_, bobs) = p.rest(Some(&bob.token), "GET", "/rooms", None).await;
    assert_eq!(
        (unread(&bobs), bobs["rooms"][0]["readSeq"].as_u64()),
        (1, Some(2))
    );

    // Going backwards changes nothing and tells nobody.
    p.send(&bob, json!({"action":"markRead","roomId":room,"seq":1}))
        .await;
    assert!(alice.take("receipt").is_empty());
    // Beyond the last message is a client bug.
    p.send(&bob, json!({"action":"markRead","roomId":room,"seq":99}))
        .await;
    assert_eq!(bob.one("error")["code"], "bad_request");
    // The last message itself may be marked read.
    p.send(&bob, json!({"action":"markRead","roomId":room,"seq":3}))
        .await;
    assert_eq!(alice.one("receipt")["seq"], 3);
    assert!(bob.take("error").is_empty());
}

#[tokio::test]
async fn deliveries_persisted_together_come_to_the_sender_as_one_receipt_naming_every_member() {
    let p = Platform::default();
    let (mut alice, mut bob, mut carol) = (
        p.connect("alice").await,
        p.connect("bob").await,
        p.connect("carol").await,
    );
    let room = p.create_room(&alice, "group", "g", &[&bob, &carol]).await;
    for i in 0..3 {
        p.send(
            &alice,
            json!({"action":"sendMessage","roomId":room,"clientMsgId":format!("c{i}"),"body":"x"}),
        )
        .await;
    }
    assert_eq!(
        (bob.take("message").len(), carol.take("message").len()),
        (3, 3)
    );
    // The three messages' delivery jobs land in one batch: each member's
    // cursor is written once, to seq 3, and alice hears it in one frame.
    p.persist().await;
    let receipts = alice.take("receipt");
    assert_eq!(
        receipts,
        vec![
            json!({"type":"receipt","roomId":room,"userIds":["bob","carol"],"status":"delivered","seq":3})
        ]
    );
    for member in ["bob", "carol"] {
        let view = p.member_view(&alice.token, &room, member).await;
        assert_eq!(view["deliveredSeq"], 3, "{member}");
    }
}
