//! The SQS consumer: stores messages and delivery cursors, and answers a
//! partial batch response so only the records that failed are retried.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use chat_shared::lambda::sqs;
use chat_shared::Chat;
use tracing::Instrument;

pub async fn handle(chat: &Chat, event: SqsEvent) -> SqsBatchResponse {
    let records = sqs::records(&event);
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
