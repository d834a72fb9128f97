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
        vec![
            json!({"type":"receipt","roomId":room,"userIds":["bob"],"status":"delivered","seq":4})
        ]
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

#[tokio::test]
async fn sync_is_gap_free_it_stores_a_reserved_message_and_names_burned_seqs() {
    let p = Platform::default();
    let (alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "g", &[&bob]).await;
    let send =
        |cmid: &str| json!({"action":"sendMessage","roomId":room,"clientMsgId":cmid,"body":cmid});
    p.send(&alice, send("c1")).await;
    // Seq 2 is burned (a reservation that lost a race leaves one); seq 3 is
    // reserved, but the queue refused it and the sender never retried.
    let room_id = chat_core::ids::RoomId::parse(&room).unwrap();
    assert_eq!(p.mem.messages.skip_seq(&room_id), 2);
    p.mem.queue.fail_next_enqueues(1);
    p.send(&alice, send("c3")).await;
    p.send(&alice, send("c4")).await;
    p.persist().await;
    bob.take("message");

    p.send(
        &bob,
        json!({"action":"sync","rooms":[{"roomId":room,"afterSeq":0}]}),
    )
    .await;
    let r = bob.one("syncResult");
    let got: Vec<(u64, &str)> = r["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["seq"].as_u64().unwrap(), m["body"].as_str().unwrap()))
        .collect();
    assert_eq!(got, vec![(1, "c1"), (3, "c3"), (4, "c4")]);
    assert_eq!(
        (&r["burned"], &r["throughSeq"], &r["hasMore"]),
        (&json!([2]), &json!(4), &json!(false))
    );
    // The reserved message is in history from now on.
    assert_eq!(p.mem.messages.stored_count(), 3);
}

#[tokio::test]
async fn a_page_counts_burned_seqs_and_the_next_page_starts_at_through_seq() {
    let p = Platform::new(Limits {
        history_page_max: 2,
        ..Limits::default()
    });
    let mut alice = p.connect("alice").await;
    let room = p.create_room(&alice, "group", "g", &[]).await;
    let room_id = chat_core::ids::RoomId::parse(&room).unwrap();
    p.mem.messages.skip_seq(&room_id);
    p.mem.messages.skip_seq(&room_id);
    p.send(
        &alice,
        json!({"action":"sendMessage","roomId":room,"clientMsgId":"c3","body":"x"}),
    )
    .await;
    p.persist().await;
    let sync = |after: u64| json!({"action":"sync","rooms":[{"roomId":room,"afterSeq":after}]});
    p.send(&alice, sync(0)).await;
    let r = alice.one("syncResult");
    assert_eq!(
        (
            &r["messages"],
            &r["burned"],
            &r["throughSeq"],
            &r["hasMore"]
        ),
        (&json!([]), &json!([1, 2]), &json!(2), &json!(true))
    );
    p.send(&alice, sync(2)).await;
    let r = alice.one("syncResult");
    assert_eq!(r["messages"][0]["seq"], 3);
    assert_eq!(
        (&r["burned"], &r["throughSeq"], &r["hasMore"]),
        (&json!([]), &json!(3), &json!(false))
    );
}

/// A message store that holds the first `gate` reads of a room's last seq
/// until that many are in flight together (a timeout lets one-at-a-time
/// reads through, so the test fails instead of hanging).
struct SyncProbe {
    inner: std::sync::Arc<dyn chat_core::ports::MessageStore>,
    gate: tokio::sync::Barrier,
    gated: usize,
    calls: std::sync::atomic::AtomicUsize,
    in_flight: std::sync::atomic::AtomicUsize,
    max_in_flight: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl chat_core::ports::MessageStore for SyncProbe {
    async fn reserve(
        &self,
        draft: chat_core::model::MessageDraft,
    ) -> Result<chat_core::model::Reservation, chat_core::error::StoreError> {
        self.inner.reserve(draft).await
    }
    async fn settle(
        &self,
        room: &chat_core::ids::RoomId,
        seq: chat_core::ids::Seq,
    ) -> Result<chat_core::model::SeqFate, chat_core::error::StoreError> {
        self.inner.settle(room, seq).await
    }
    async fn last_seq(
        &self,
        room: &chat_core::ids::RoomId,
    ) -> Result<chat_core::ids::Seq, chat_core::error::StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.in_flight.fetch_add(1, SeqCst) + 1;
        self.max_in_flight.fetch_max(now, SeqCst);
        if self.calls.fetch_add(1, SeqCst) < self.gated {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.gate.wait()).await;
        }
        let r = self.inner.last_seq(room).await;
        self.in_flight.fetch_sub(1, SeqCst);
        r
    }
    async fn put_batch(
        &self,
        messages: &[chat_core::model::Message],
    ) -> Vec<Result<(), chat_core::error::StoreError>> {
        self.inner.put_batch(messages).await
    }
    async fn range(
        &self,
        room: &chat_core::ids::RoomId,
        q: chat_core::ports::RangeQuery,
    ) -> Result<Vec<chat_core::model::Message>, chat_core::error::StoreError> {
        self.inner.range(room, q).await
    }
    async fn latest(
        &self,
        rooms: &[chat_core::ids::RoomId],
    ) -> Result<Vec<chat_core::model::Message>, chat_core::error::StoreError> {
        self.inner.latest(rooms).await
    }
    async fn replies(
        &self,
        room: &chat_core::ids::RoomId,
        target: chat_core::ids::Seq,
        after: Option<chat_core::ids::Seq>,
        limit: usize,
    ) -> Result<Vec<chat_core::model::Message>, chat_core::error::StoreError> {
        self.inner.replies(room, target, after, limit).await
    }
}

#[tokio::test]
async fn a_sync_over_many_rooms_reads_them_concurrently_and_answers_in_request_order() {
    use std::sync::atomic::Ordering::SeqCst;
    let mut p = Platform::default();
    let mut alice = p.connect("alice").await;
    let mut rooms = Vec::new();
    // Twelve sends and the sync stay within the connection's burst.
    for i in 0..12 {
        let room = p.create_room(&alice, "group", &format!("r{i}"), &[]).await;
        p.send(
            &alice,
            json!({"action":"sendMessage","roomId":room,"clientMsgId":format!("c{i}"),"body":format!("in r{i}")}),
        )
        .await;
        rooms.push(room);
    }
    p.persist().await;
    alice.take("ack");
    let gated = 8;
    let probe = std::sync::Arc::new(SyncProbe {
        inner: p.chat.messages.clone(),
        gate: tokio::sync::Barrier::new(gated),
        gated,
        calls: Default::default(),
        in_flight: Default::default(),
        max_in_flight: Default::default(),
    });
    p.chat.messages = probe.clone();
    let entries: Vec<_> = rooms
        .iter()
        .map(|r| json!({"roomId": r, "afterSeq": 0}))
        .collect();
    p.send(&alice, json!({"action":"sync","rooms":entries}))
        .await;
    assert!(
        probe.max_in_flight.load(SeqCst) >= gated,
        "rooms were read one after another: at most {} at once",
        probe.max_in_flight.load(SeqCst)
    );
    let results = alice.take("syncResult");
    let order: Vec<&str> = results
        .iter()
        .map(|r| r["roomId"].as_str().unwrap())
        .collect();
    assert_eq!(order, rooms.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(results
        .iter()
        .enumerate()
        .all(|(i, r)| r["messages"][0]["body"] == format!("in r{i}")));
}
