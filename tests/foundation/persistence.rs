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
