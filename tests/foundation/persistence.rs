use chat_core::model::Job;
use chat_core::ports::Clock;
use chat_tests::{Platform, QUEUE_ARN};
use chat_twin::events::{self, SqsRecord};
use serde_json::json;

async fn two_messages(p: &Platform) -> (chat_tests::Client, String) {
    let alice = p.connect("alice").await;
    let room = p.create_room(&alice, "group", "g", &[]).await;
    for c in ["c1", "c2"] {
        p.send(
            &alice,
            json!({"action":"sendMessage","roomId":room,"clientMsgId":c,"body":c}),
        )
        .await;
    }
    (alice, room)
}

#[tokio::test]
async fn only_the_failed_records_of_a_batch_are_reported_and_a_retry_stores_them() {
    let p = Platform::default();
    two_messages(&p).await;
    p.faults.fail_next_puts(1);
    let resp = p.persist_batch(10).await;
    assert_eq!(
        resp.batch_item_failures.len(),
        1,
        "exactly the failed record is retried"
    );
    assert_eq!(p.mem.messages.stored_count(), 1);
    assert_eq!(p.mem.queue.len(), 1);
    let resp = p.persist_batch(10).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(p.mem.messages.stored_count(), 2);
}

#[tokio::test]
async fn a_redelivered_record_changes_nothing() {
    let p = Platform::default();
    let (alice, room) = two_messages(&p).await;
    let jobs = p.mem.queue.take(10);
    let records: Vec<SqsRecord> = jobs
        .iter()
        .map(|j| SqsRecord {
            message_id: j.id.clone(),
            body: j.body.clone(),
            receive_count: 1,
            sent_at: p.clock.now(),
        })
        .collect();
    // SQS is at-least-once: the same records arrive twice.
    for receive in 1..=2 {
        let mut again = records.clone();
        again.iter_mut().for_each(|r| r.receive_count = receive);
        let resp =
            chat_persist::handle(&p.chat, events::sqs_event(QUEUE_ARN, &again, p.clock.now()))
                .await;
        assert!(resp.batch_item_failures.is_empty());
    }
    assert_eq!(p.mem.messages.stored_count(), 2);
    let (_, page) = p
        .rest(
            Some(&alice.token),
            "GET",
            &format!("/rooms/{room}/messages"),
            None,
        )
        .await;
    let seqs: Vec<u64> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2]);
}

#[tokio::test]
async fn an_undecodable_record_fails_alone() {
    let p = Platform::default();
    two_messages(&p).await;
    let mut jobs = p.mem.queue.take(10);
    jobs.push(chat_core::memory::QueuedJob {
        id: "poison".into(),
        body: "{\"kind\":\"unknown\"}".into(),
    });
    let records: Vec<SqsRecord> = jobs
        .iter()
        .map(|j| SqsRecord {
            message_id: j.id.clone(),
            body: j.body.clone(),
            receive_count: 1,
            sent_at: p.clock.now(),
        })
        .collect();
    let resp = chat_persist::handle(
        &p.chat,
        events::sqs_event(QUEUE_ARN, &records, p.clock.now()),
    )
    .await;
    let failed: Vec<&str> = resp
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["poison"]);
    assert_eq!(p.mem.messages.stored_count(), 2);
}

#[tokio::test]
async fn queued_jobs_are_the_documented_json() {
    let p = Platform::default();
    let (_alice, room) = two_messages(&p).await;
    let jobs = p.mem.queue.take(1);
    let job: Job = serde_json::from_str(&jobs[0].body).unwrap();
    let v: serde_json::Value = serde_json::from_str(&jobs[0].body).unwrap();
    assert_eq!(v["kind"], "persistMessage");
    assert_eq!(v["message"]["roomId"], room.as_str());
    assert!(matches!(job, Job::PersistMessage { ref message } if message.seq == 1));
}

#[tokio::test]
async fn the_persist_handler_decodes_a_real_sqs_event() {
    let p = Platform::default();
    let (_alice, _room) = two_messages(&p).await;
    let job = p.mem.queue.take(1).remove(0);
    // The shape AWS documents for an SQS event delivered to Lambda.
    let raw = include_str!("fixtures/sqs_event.json")
        .replace("\"{{BODY}}\"", &serde_json::to_string(&job.body).unwrap());
    let event: aws_lambda_events::sqs::SqsEvent = serde_json::from_str(&raw).unwrap();
    let resp = chat_persist::handle(&p.chat, event).await;
    assert!(resp.batch_item_failures.is_empty());
    assert_eq!(p.mem.messages.stored_count(), 1);
    let out = serde_json::to_value(&resp).unwrap();
    assert_eq!(out, json!({"batchItemFailures": []}));
}

/// A room store that counts the cursor writes in flight at once, and holds
/// the first `gate` of them until that many are in flight together (or a
/// timeout lets a one-at-a-time caller through, so the test fails instead of
/// hanging).
struct CursorProbe {
    inner: std::sync::Arc<dyn chat_core::ports::RoomStore>,
    gate: std::sync::Arc<tokio::sync::Barrier>,
    gated: usize,
    calls: std::sync::atomic::AtomicUsize,
    in_flight: std::sync::atomic::AtomicUsize,
    max_in_flight: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl chat_core::ports::RoomStore for CursorProbe {
    async fn create(
        &self,
        room: &chat_core::model::Room,
        members: &[chat_core::model::Membership],
    ) -> Result<bool, chat_core::error::StoreError> {
        self.inner.create(room, members).await
    }
    async fn get(
        &self,
        id: &chat_core::ids::RoomId,
    ) -> Result<Option<chat_core::model::Room>, chat_core::error::StoreError> {
        self.inner.get(id).await
    }
    async fn get_many(
        &self,
        ids: &[chat_core::ids::RoomId],
    ) -> Result<Vec<chat_core::model::Room>, chat_core::error::StoreError> {
        self.inner.get_many(ids).await
    }
    async fn membership(
        &self,
        room: &chat_core::ids::RoomId,
        user: &chat_core::ids::UserId,
    ) -> Result<Option<chat_core::model::Membership>, chat_core::error::StoreError> {
        self.inner.membership(room, user).await
    }
    async fn members(
        &self,
        room: &chat_core::ids::RoomId,
    ) -> Result<Vec<chat_core::model::Membership>, chat_core::error::StoreError> {
        self.inner.members(room).await
    }
    async fn rooms_of(
        &self,
        user: &chat_core::ids::UserId,
    ) -> Result<Vec<chat_core::model::Membership>, chat_core::error::StoreError> {
        self.inner.rooms_of(user).await
    }
    async fn add_member(
        &self,
        m: &chat_core::model::Membership,
    ) -> Result<bool, chat_core::error::StoreError> {
        self.inner.add_member(m).await
    }
    async fn remove_member(
        &self,
        room: &chat_core::ids::RoomId,
        user: &chat_core::ids::UserId,
    ) -> Result<bool, chat_core::error::StoreError> {
        self.inner.remove_member(room, user).await
    }
    async fn advance_cursor(
        &self,
        room: &chat_core::ids::RoomId,
        user: &chat_core::ids::UserId,
        status: chat_core::model::ReceiptStatus,
        seq: chat_core::ids::Seq,
    ) -> Result<bool, chat_core::error::StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        let now = self.in_flight.fetch_add(1, SeqCst) + 1;
        self.max_in_flight.fetch_max(now, SeqCst);
        if self.calls.fetch_add(1, SeqCst) < self.gated {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.gate.wait()).await;
        }
        let r = self.inner.advance_cursor(room, user, status, seq).await;
        self.in_flight.fetch_sub(1, SeqCst);
        r
    }
    async fn list_channels(
        &self,
        limit: usize,
    ) -> Result<Vec<chat_core::model::Room>, chat_core::error::StoreError> {
        self.inner.list_channels(limit).await
    }
}

#[tokio::test]
async fn a_big_rooms_delivered_receipt_writes_its_cursors_concurrently_and_each_once() {
    use chat_core::ports::JobQueue;
    use std::sync::atomic::Ordering::SeqCst;
    let mut p = Platform::default();
    let mut alice = p.connect("alice").await;
    let room = p.create_room(&alice, "channel", "big", &[]).await;
    let room_id = chat_core::ids::RoomId::parse(&room).unwrap();
    let members: Vec<chat_core::ids::UserId> = (0..200)
        .map(|i| chat_core::ids::UserId::parse(&format!("u{i}")).unwrap())
        .collect();
    for u in &members {
        let m = chat_core::model::Membership {
            room_id: room_id.clone(),
            user_id: u.clone(),
            role: chat_core::model::Role::Member,
            joined_at: 0,
            delivered_seq: 0,
            read_seq: 0,
        };
        p.chat.rooms.add_member(&m).await.unwrap();
    }
    let gated = 8;
    let probe = std::sync::Arc::new(CursorProbe {
        inner: p.chat.rooms.clone(),
        gate: std::sync::Arc::new(tokio::sync::Barrier::new(gated)),
        gated,
        calls: Default::default(),
        in_flight: Default::default(),
        max_in_flight: Default::default(),
    });
    p.chat.rooms = probe.clone();
    let job = Job::MarkDelivered {
        room_id: room_id.clone(),
        seq: 1,
        user_ids: members.clone(),
        notify: vec![alice.user.clone()],
    };
    p.mem
        .queue
        .enqueue(std::slice::from_ref(&job))
        .await
        .unwrap();
    p.persist().await;
    assert!(
        probe.max_in_flight.load(SeqCst) >= gated,
        "cursor writes overlapped: at most {} at once",
        probe.max_in_flight.load(SeqCst)
    );
    let receipts = alice.take("receipt");
    assert_eq!(receipts.len(), 1, "one receipt names every member");
    assert_eq!(receipts[0]["userIds"].as_array().map(Vec::len), Some(200));
    // The same record again (SQS redelivers): no cursor moves, no receipt.
    p.mem.queue.enqueue(&[job]).await.unwrap();
    p.persist().await;
    let first_again = p.chat.rooms.members(&room_id).await.unwrap();
    assert!(first_again
        .iter()
        .filter(|m| m.user_id != alice.user)
        .all(|m| m.delivered_seq == 1));
    assert!(alice.take("receipt").is_empty());
}

#[tokio::test]
async fn a_batch_writes_each_members_cursor_once_however_many_of_its_messages_they_got() {
    use std::sync::atomic::Ordering::SeqCst;
    let mut p = Platform::default();
    let (alice, mut bob, mut carol) = (
        p.connect("alice").await,
        p.connect("bob").await,
        p.connect("carol").await,
    );
    let room = p.create_room(&alice, "group", "g", &[&bob, &carol]).await;
    let probe = std::sync::Arc::new(CursorProbe {
        inner: p.chat.rooms.clone(),
        gate: std::sync::Arc::new(tokio::sync::Barrier::new(1)),
        gated: 0,
        calls: Default::default(),
        in_flight: Default::default(),
        max_in_flight: Default::default(),
    });
    p.chat.rooms = probe.clone();
    for i in 0..4 {
        p.send(
            &alice,
            json!({"action":"sendMessage","roomId":room,"clientMsgId":format!("c{i}"),"body":"x"}),
        )
        .await;
    }
    assert_eq!(
        (bob.take("message").len(), carol.take("message").len()),
        (4, 4)
    );
    p.persist().await;
    // Four messages: alice's read cursor once, bob's and carol's delivered
    // cursors once each (it was twelve writes, one per message and member).
    assert_eq!(probe.calls.load(SeqCst), 3);
    let members = p
        .chat
        .rooms
        .members(&chat_core::ids::RoomId::parse(&room).unwrap())
        .await
        .unwrap();
    let cursors: Vec<(String, u64, u64)> = members
        .iter()
        .map(|m| (m.user_id.to_string(), m.delivered_seq, m.read_seq))
        .collect();
    assert!(cursors.contains(&("alice".into(), 4, 4)), "{cursors:?}");
    assert!(cursors.contains(&("bob".into(), 4, 0)), "{cursors:?}");
    assert!(cursors.contains(&("carol".into(), 4, 0)), "{cursors:?}");
}
