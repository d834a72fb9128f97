//! The SQS consumer: stores messages and delivery cursors, and answers a
//! partial batch response so only the records that failed are retried.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use chat_core::Chat;
use chat_lambda::sqs;
use tracing::Instrument;

/// This function as deployed: the ports it links beyond the stores, which
/// `deploy/functions.json` must grant (checked at cold start and by tests).
pub const FUNCTION: chat_adapters::wiring::Function = chat_adapters::wiring::Function {
    name: "chat-persist",
    ports: &[
        chat_adapters::wiring::PUSHER,
        chat_adapters::wiring::BLOBS,
        chat_adapters::wiring::WEBPUSH,
        chat_adapters::wiring::MOBILE_PUSH,
    ],
};

pub async fn handle(chat: &Chat, event: SqsEvent) -> SqsBatchResponse {
    let records = sqs::records(&event);
    sqs::record_queue_age(&event, chat.clock.now());
    let span = tracing::info_span!("persist", batch_size = records.len());
    async {
        let outcomes = chat.persist_batch(&records).await;
        let resp = sqs::batch_response(&records, &outcomes);
        tracing::info!(failed = resp.batch_item_failures.len(), "batch processed");
        resp
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::config::Limits;
    use chat_twin::events::{sqs_event, SqsRecord};

    const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:1:q";

    /// The job the message λ queues for message `id`, alone in its room,
    /// sent at `sent_at` (ms since the epoch).
    fn message_job(id: &str, sent_at: i64) -> String {
        serde_json::json!({
            "kind": "persistMessage",
            "message": {"roomId":format!("r_{id}"),"messageId":id,"seq":1,"senderId":"carol","body":"x","sentAt":sent_at,"clientMsgId":id}
        })
        .to_string()
    }

    /// An SQS record received once, `SentTimestamp` 1 ms after the epoch.
    fn record(message_id: &str, body: String) -> SqsRecord {
        SqsRecord {
            message_id: message_id.into(),
            body,
            receive_count: 1,
            sent_at: 1,
        }
    }

    fn failed_ids(resp: &SqsBatchResponse) -> Vec<&str> {
        resp.batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect()
    }

    #[tokio::test]
    async fn a_batch_reports_exactly_its_undecodable_record() {
        let (chat, mem) = Chat::in_memory(Limits::default());
        let records = [
            record("ok-1", message_job("m1", 1)),
            SqsRecord {
                receive_count: 3,
                ..record("bad-1", "not json".into())
            },
        ];
        let resp = handle(&chat, sqs_event(QUEUE_ARN, &records, 2)).await;
        assert_eq!(failed_ids(&resp), vec!["bad-1"]);
        assert_eq!(mem.messages.stored_count(), 1);
    }

    #[tokio::test]
    async fn a_batch_records_its_size_storage_lag_and_queue_age() {
        use chat_core::metrics::snapshot;
        let count = |name| snapshot().get(name).map_or(0, |s| s.count);
        let before = (
            count("PersistBatchSize"),
            count("PersistLatencyMs"),
            count("QueueAgeMs"),
        );
        let (chat, _mem) = Chat::in_memory(Limits::default());
        let records = [record("ok-2", message_job("m2", 1))];
        handle(&chat, sqs_event(QUEUE_ARN, &records, 1)).await;
        let after = (
            count("PersistBatchSize"),
            count("PersistLatencyMs"),
            count("QueueAgeMs"),
        );
        // Other tests in this process may add to the totals, never take away.
        assert!(after.0 > before.0, "{before:?} -> {after:?}");
        assert!(after.1 > before.1, "{before:?} -> {after:?}");
        assert!(after.2 > before.2, "{before:?} -> {after:?}");
        let age = snapshot()["QueueAgeMs"];
        assert!(
            age.max > 1.0e12,
            "age from SentTimestamp near the epoch: {age:?}"
        );
    }

    #[tokio::test]
    async fn storage_lag_counts_only_the_messages_that_were_stored() {
        use chat_core::memory::ManualClock;
        use chat_core::metrics::snapshot;
        use chat_twin::FailingPuts;
        use std::sync::Arc;
        // A clock far beyond any other test's, so the failed message's lag
        // (~1e15 ms) is one no other test can record: if it shows up as the
        // maximum, a write that failed was counted.
        let now = 1_000_000_000_000_000;
        let (mut chat, _mem) =
            Chat::in_memory_with_clock(Limits::default(), Arc::new(ManualClock::new(now)));
        let faults = Arc::new(FailingPuts::new(chat.messages.clone()));
        chat.messages = faults.clone();
        faults.fail_next_puts(1);
        let records = [
            record("fails", message_job("m-fails", 1)),
            record("lands", message_job("m-lands", now - 5)),
        ];
        let resp = handle(&chat, sqs_event(QUEUE_ARN, &records, 1)).await;
        assert_eq!(failed_ids(&resp), vec!["fails"]);
        let lag = snapshot()["PersistLatencyMs"];
        assert!(lag.count >= 1, "{lag:?}");
        assert!(
            lag.max < 1.0e15 - 10.0,
            "a failed write was counted: {lag:?}"
        );
    }
}
