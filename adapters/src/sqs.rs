//! The job queue to the persistence worker on SQS (a standard queue: the
//! worker is idempotent, so neither order nor exactly-once matters).
//!
//! One job is one SendMessage; several go in SendMessageBatch calls of at
//! most 10 entries and 256 KiB, sent at once. A batch can partly fail: entries SQS failed on
//! its side are retried with backoff, and an entry that still fails, or that
//! SQS refuses as our fault (`SenderFault`), fails the whole call. That keeps
//! the port's promise ("`Ok` means every job is durable"); on `Err` some jobs
//! may already be queued, which is harmless since the caller retries the lot
//! and persisting is idempotent.
//!
//! The body is exactly `serde_json::to_string(&job)` (the contract the
//! in-memory queue and the worker share). Each message carries the String
//! attributes `traceId` and `requestId` of the current invocation when known
//! ([`crate::trace`]).

use async_trait::async_trait;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use aws_sdk_sqs::Client;
use chat_core::error::QueueError;
use chat_core::model::Job;
use chat_core::ports::JobQueue;
use std::collections::HashMap;
use std::sync::Arc;

use crate::backoff;
use crate::trace::TraceContext;

/// Entries per SendMessageBatch.
pub const MAX_BATCH: usize = 10;
/// SQS's limit on a message, and on a batch's total payload.
pub const MAX_PAYLOAD: usize = chat_core::model::JOB_MAX_BYTES;

/// The queue the message Lambda feeds and the persist Lambda drains.
#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    url: Arc<str>,
}

type Attributes = HashMap<String, MessageAttributeValue>;

fn attributes(ctx: &TraceContext) -> Result<Attributes, QueueError> {
    let mut out = HashMap::new();
    for (name, value) in [("traceId", &ctx.trace_id), ("requestId", &ctx.request_id)] {
        if let Some(v) = value {
            let attr = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .map_err(|e| QueueError(e.into()))?;
            out.insert(name.to_owned(), attr);
        }
    }
    Ok(out)
}

fn attributes_size(attrs: &Attributes) -> usize {
    attrs
        .iter()
        .map(|(k, v)| k.len() + v.data_type.len() + v.string_value.as_deref().map_or(0, str::len))
        .sum()
}

/// Splits bodies into batches of at most [`MAX_BATCH`] entries and
/// [`MAX_PAYLOAD`] bytes (bodies plus attributes).
fn batches(bodies: &[String], per_message_extra: usize) -> Vec<&[String]> {
    let mut out = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (i, b) in bodies.iter().enumerate() {
        let len = b.len() + per_message_extra;
        if i > start && (i - start == MAX_BATCH || size + len > MAX_PAYLOAD) {
            out.push(&bodies[start..i]);
            (start, size) = (i, 0);
        }
        size += len;
    }
    if start < bodies.len() {
        out.push(&bodies[start..]);
    }
    out
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<Arc<str>>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    async fn send_one(&self, body: &str, attrs: Attributes) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(self.url.as_ref())
            .message_body(body)
            .set_message_attributes(Some(attrs).filter(|a| !a.is_empty()))
            .send()
            .await
            .map_err(|e| QueueError(e.into()))?;
        Ok(())
    }

    async fn send_batch(&self, bodies: &[String], attrs: &Attributes) -> Result<(), QueueError> {
        // Entry ids are indices into `bodies`.
        let mut pending: Vec<usize> = (0..bodies.len()).collect();
        let mut attempt = 0;
        loop {
            let entries = pending
                .iter()
                .map(|&i| {
                    SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_body(&bodies[i])
                        .set_message_attributes(Some(attrs.clone()).filter(|a| !a.is_empty()))
                        .build()
                        .map_err(|e| QueueError(e.into()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let out = self
                .client
                .send_message_batch()
                .queue_url(self.url.as_ref())
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| QueueError(e.into()))?;
            let failed = out.failed();
            if failed.is_empty() {
                return Ok(());
            }
            if let Some(f) = failed.iter().find(|f| f.sender_fault()) {
                return Err(QueueError(
                    format!(
                        "SQS refused job {}: {} {}",
                        f.id(),
                        f.code(),
                        f.message().unwrap_or_default()
                    )
                    .into(),
                ));
            }
            attempt += 1;
            if attempt > backoff::BATCH_RETRIES {
                return Err(QueueError(
                    format!(
                        "{} jobs still failing after {} retries (first: {})",
                        failed.len(),
                        backoff::BATCH_RETRIES,
                        failed[0].code()
                    )
                    .into(),
                ));
            }
            pending = failed.iter().filter_map(|f| f.id().parse().ok()).collect();
            tracing::debug!(
                failed = pending.len(),
                attempt,
                "retrying failed batch entries"
            );
            tokio::time::sleep(backoff::delay(attempt)).await;
        }
    }
}

#[async_trait]
impl JobQueue for SqsQueue {
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), QueueError> {
        let bodies: Vec<String> = jobs
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<_, _>>()
            .map_err(|e| QueueError(e.into()))?;
        let attrs = attributes(&TraceContext::current())?;
        match bodies.as_slice() {
            [] => Ok(()),
            [one] => self.send_one(one, attrs).await,
            // The batches go at once: a big room's fan-out shards wait one
            // round trip, not one per ten jobs.
            many => futures::future::try_join_all(
                batches(many, attributes_size(&attrs))
                    .into_iter()
                    .map(|batch| self.send_batch(batch, &attrs)),
            )
            .await
            .map(|_| ()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_the_entry_and_byte_limits() {
        let small: Vec<String> = (0..23).map(|i| format!("job{i}")).collect();
        let sizes: Vec<usize> = batches(&small, 0).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, vec![10, 10, 3]);
        let big: Vec<String> = (0..5).map(|_| "x".repeat(100 * 1024)).collect();
        let sizes: Vec<usize> = batches(&big, 0).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, vec![2, 2, 1]);
        assert!(batches(&[], 0).is_empty());
    }
}
