//! SQS events for the persistence worker, with partial batch responses.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};

use chat_core::service::RecordOutcome;

/// `(messageId, body)` of every record. A record without a message id cannot
/// be reported as failed, so it is given an empty one and logged by the caller.
pub fn records(event: &SqsEvent) -> Vec<(String, String)> {
    event
        .records
        .iter()
        .map(|r| {
            (
                r.message_id.clone().unwrap_or_default(),
                r.body.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// Records each record's time spent queued (`now` − SQS `SentTimestamp`, in
/// ms since the epoch, from the caller's [`Clock`](chat_core::ports::Clock)) as
/// the `QueueAgeMs` metric. Records without the attribute are skipped.
pub fn record_queue_age(event: &SqsEvent, now: chat_core::ids::Millis) {
    let ages: Vec<f64> = event
        .records
        .iter()
        .filter_map(|r| r.attributes.get("SentTimestamp")?.parse::<i64>().ok())
        .map(|sent| now.saturating_sub(sent).max(0) as f64)
        .collect();
    chat_core::metrics::record_all(chat_core::metrics::Metric::QueueAgeMs, &ages);
}

/// The partial batch response: exactly the failed records' ids.
pub fn batch_response(
    records: &[(String, String)],
    outcomes: &[RecordOutcome],
) -> SqsBatchResponse {
    let mut resp = SqsBatchResponse::default();
    resp.batch_item_failures = records
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| **o == RecordOutcome::Failed)
        .map(|((id, _), _)| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id.clone();
            f
        })
        .collect();
    resp
}
