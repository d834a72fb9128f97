use std::time::Duration;

use crate::watch::in_process_only;
use crate::{seqs, spawn, spawn_with};

const FAULTS: &str = "injects faults in front of the platform's own message store, \
                      which functions in other processes do not use";

#[tokio::test]
async fn persistence_failures_are_retried_and_nothing_is_lost_or_duplicated() {
    if in_process_only("persistence_failures_are_retried…", FAULTS) {
        return;
    }
    let e = spawn().await;
    let alice = e.connect("alice").await;
    let room = e.room("alice", "group", &[]).await;
    // The database fails the next three writes.
    e.p.faults.fail_next_puts(3);
    for i in 0..10 {
        alice.send(&room, &format!("m{i}")).await.unwrap();
    }
    e.persisted().await;
    let page = e.history("alice", &room, "?limit=100").await;
    assert_eq!(seqs(&page), (1..=10).collect::<Vec<u64>>());
    let d = e.p.queue.depth().await.unwrap();
    assert_eq!(d.dead_letter, 0);
    assert!(d.invocations >= 2, "the failed records were retried: {d:?}");
}

#[tokio::test]
async fn a_record_that_keeps_failing_ends_in_the_dead_letter_queue() {
    let e = spawn_with(|o| {
        o.queue.max_receive_count = 3;
        o.queue.visibility_timeout = Duration::from_millis(20);
    })
    .await;
    match &e.watch {
        // The persistence function runs in watch's process, out of reach
        // of the fault injection: a record it cannot decode fails every
        // receive the same way.
        Some(watch) => watch.send_to_queue("doomed: not a job").await,
        None => {
            let alice = e.connect("alice").await;
            let room = e.room("alice", "group", &[]).await;
            e.p.faults.fail_next_puts(100);
            alice.send(&room, "doomed").await.unwrap();
        }
    }
    // SQS moves it after the queue's visibility timeout (at least 1 s) times
    // maxReceiveCount; the in-memory twin much sooner.
    for _ in 0..200 {
        if e.p.queue.depth().await.unwrap().dead_letter == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let d = e.p.queue.depth().await.unwrap();
    assert_eq!(
        (d.dead_letter, d.visible, d.not_visible),
        (1, 0, 0),
        "{d:?}"
    );
    let dlq = e.p.queue.dead_letters().await;
    assert!(dlq[0]["receiveCount"].as_u64().unwrap() >= 3, "{dlq:?}");
    assert!(dlq[0]["body"].as_str().unwrap().contains("doomed"));
}

/// Without `ReportBatchItemFailures` on the event source mapping, Lambda
/// ignores the `batchItemFailures` a response lists: the invocation
/// succeeded, so the whole batch is deleted, and a record the function
/// could not store is gone. What a template without the setting would do.
#[tokio::test]
async fn without_report_batch_item_failures_a_record_the_function_reports_failed_is_dropped() {
    if in_process_only("without_report_batch_item_failures…", FAULTS) {
        return;
    }
    let e = spawn_with(|o| o.queue.report_batch_item_failures = false).await;
    let alice = e.connect("alice").await;
    let room = e.room("alice", "group", &[]).await;
    e.p.faults.fail_next_puts(1);
    alice.send(&room, "lost").await.unwrap();
    alice.send(&room, "kept").await.unwrap();
    e.persisted().await;
    let page = e.history("alice", &room, "?limit=100").await;
    let d = e.p.queue.depth().await.unwrap();
    assert_eq!(seqs(&page), vec![2], "{page}");
    assert_eq!(d.dead_letter, 0, "{d:?}");
}

#[tokio::test]
async fn a_room_too_big_to_push_inline_reaches_every_member_through_the_queue() {
    if in_process_only(
        "a_room_too_big_to_push_inline…",
        "lowers CHAT_FANOUT_INLINE_MAX for the platform's own functions; \
         the function processes under watch run with the defaults",
    ) {
        return;
    }
    // Shards of two: four members make two fan-out jobs beside the
    // persistence job, pushed by the persist function from the queue.
    let e = spawn_with(|o| {
        o.limits.fanout_inline_max = 2;
        o.limits.fanout_shard_size = 2;
    })
    .await;
    let alice = e.connect("alice").await;
    let mut others = Vec::new();
    for u in ["bob", "carol", "dave"] {
        others.push(e.connect(u).await);
    }
    let room = e.room("alice", "group", &["bob", "carol", "dave"]).await;
    let ack = alice.send(&room, "to every shard").await.unwrap();
    for c in others.iter_mut() {
        let m = c.next_of("message").await.unwrap();
        assert_eq!(m["messageId"].as_str(), Some(ack.message_id.as_str()));
    }
    e.persisted().await;
    assert_eq!(seqs(&e.history("bob", &room, "").await), vec![1]);
    let d = e.p.queue.depth().await.unwrap();
    assert_eq!(d.dead_letter, 0, "{d:?}");
}
