use chat_core::config::Limits;
use chat_tests::Platform;
use serde_json::json;

#[tokio::test]
async fn a_client_that_missed_messages_recovers_exactly_them_with_sync() {
    let p = Platform::default();
    let (mut alice, bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "g", &[&bob]).await;
    p.send(
        &alice,
        json!({"action":"sendMessage","roomId":room,"clientMsgId":"c1","body":"seen"}),
    )
    .await;
    p.disconnect(&bob).await;
    for i in 2..=4 {
        p.send(&alice, json!({"action":"sendMessage","roomId":room,"clientMsgId":format!("c{i}"),"body":format!("missed {i}")})).await;
    }
    p.persist().await;
    alice.take("receipt");

    let mut bob = p.connect("bob").await;
    p.send(
        &bob,
        json!({"action":"sync","rooms":[{"roomId":room,"afterSeq":1}]}),
    )
    .await;
    let r = bob.one("syncResult");
    let seqs: Vec<u64> = r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![2, 3, 4]);
    assert_eq!(r["hasMore"], false);
    // Synced messages count as delivered.
    p.persist().await;
    let receipts = alice.take("receipt");
    assert_eq!(
        receipts,
        vec![json!({"type":"receipt","roomId":room,"userId":"bob","status":"delivered","seq":4})]
    );
}

#[tokio::test]
async fn sync_pages_with_has_more_and_refuses_rooms_the_caller_is_not_in() {
    let p = Platform::new(Limits {
        history_page_max: 2,
        ..Limits::default()
    });
    let (alice, mut mallory) = (p.connect("alice").await, p.connect("mallory").await);
    let room = p.create_room(&alice, "group", "g", &[]).await;
    for i in 0..3 {
        p.send(
            &alice,
            json!({"action":"sendMessage","roomId":room,"clientMsgId":format!("c{i}"),"body":"x"}),
        )
        .await;
    }
    p.persist().await;
    let mine = p.create_room(&mallory, "group", "mine", &[]).await;
    p.send(
        &mallory,
        json!({"action":"sync","rooms":[{"roomId":room},{"roomId":mine}]}),
    )
    .await;
    assert_eq!(mallory.one("error")["code"], "forbidden");
    let r = mallory.one("syncResult");
    assert_eq!(r["roomId"], mine.as_str());

    let mut alice = alice;
    p.send(
        &alice,
        json!({"action":"sync","rooms":[{"roomId":room,"afterSeq":0}]}),
    )
    .await;
    let r = alice.one("syncResult");
    assert_eq!(
        (
            r["messages"].as_array().unwrap().len(),
            r["hasMore"].as_bool()
        ),
        (2, Some(true))
    );
    // Exactly a page left: all of it, and nothing more to come.
    p.send(
        &alice,
        json!({"action":"sync","rooms":[{"roomId":room,"afterSeq":1}]}),
    )
    .await;
    let r = alice.one("syncResult");
    assert_eq!(
        (
            r["messages"].as_array().unwrap().len(),
            r["hasMore"].as_bool()
        ),
        (2, Some(false))
    );
}
