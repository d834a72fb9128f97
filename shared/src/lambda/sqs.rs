//! SQS events for the persistence worker, with partial batch responses.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};

use crate::service::RecordOutcome;

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
