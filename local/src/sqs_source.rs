//! The event source mapping over a real SQS queue (the `aws` backend): long
//! polls the queue, hands each batch to the persistence function as the SQS
//! event Lambda would build, and deletes exactly the records the function
//! did not list in `batchItemFailures`. Retries and the dead-letter queue are
//! the queue's own (visibility timeout, redrive policy), as in AWS.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName,
};
use serde_json::{json, Value};
use tracing::warn;

use chat_twin::FaultLab;

use crate::functions::Functions;
use crate::queue::{QueueConfig, QueueDepth};

pub struct SqsEventSource {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    dlq_url: Option<String>,
    functions: Arc<Functions>,
    lab: Arc<FaultLab>,
    batch_size: i32,
    config: QueueConfig,
    in_flight: AtomicUsize,
    invocations: AtomicU64,
}

/// Creates a queue and its dead-letter queue with a redrive policy; returns
/// (queue URL, DLQ URL).
pub async fn create_queues(
    client: &aws_sdk_sqs::Client,
    name: &str,
    visibility_timeout: Duration,
    max_receive_count: u32,
) -> Result<(String, String), String> {
    let dlq = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let dlq_url = dlq.queue_url.ok_or("no DLQ url")?;
    let attrs = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let dlq_arn = attrs
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or("no DLQ arn")?;
    let redrive =
        json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count }).to_string();
    let attrs = HashMap::from([
        (QueueAttributeName::RedrivePolicy, redrive),
        (
            QueueAttributeName::VisibilityTimeout,
            visibility_timeout.as_secs().max(1).to_string(),
        ),
    ]);
    let created = client
        .create_queue()
        .queue_name(name)
        .set_attributes(Some(attrs.clone()))
        .send()
        .await;
    let url = match created {
        Ok(q) => q.queue_url.ok_or("no queue url")?,
        // It exists with other settings (a restart with other options): keep
        // it, and its messages, with these settings.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_queue_name_exists()) =>
        {
            let url = client
                .get_queue_url()
                .queue_name(name)
                .send()
                .await
                .map_err(|e| format!("{e:?}"))?
                .queue_url
                .ok_or("no queue url")?;
            client
                .set_queue_attributes()
                .queue_url(&url)
                .set_attributes(Some(attrs))
                .send()
                .await
                .map_err(|e| format!("{e:?}"))?;
            url
        }
        Err(e) => return Err(format!("{e:?}")),
    };
    Ok((url, dlq_url))
}

impl SqsEventSource {
    pub fn new(
        client: aws_sdk_sqs::Client,
        queue_url: String,
        dlq_url: Option<String>,
        functions: Arc<Functions>,
        lab: Arc<FaultLab>,
        config: QueueConfig,
    ) -> Arc<Self> {
        Arc::new(Self {
            client,
            queue_url,
            dlq_url,
            functions,
            lab,
            // One ReceiveMessage returns at most 10.
            batch_size: config.batch_size.clamp(1, 10) as i32,
            config,
            in_flight: AtomicUsize::new(0),
            invocations: AtomicU64::new(0),
        })
    }

    async fn count(&self, url: &str, name: QueueAttributeName) -> usize {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(name.clone())
            .send()
            .await;
        out.ok()
            .and_then(|o| {
                o.attributes()
                    .and_then(|a| a.get(&name))
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0)
    }

    pub async fn depth(&self) -> QueueDepth {
        let visible = self
            .count(
                &self.queue_url,
                QueueAttributeName::ApproximateNumberOfMessages,
            )
            .await;
        let not_visible = self
            .count(
                &self.queue_url,
                QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            )
            .await
            + self.in_flight.load(Ordering::SeqCst);
        let dead_letter = match &self.dlq_url {
            Some(d) => {
                self.count(d, QueueAttributeName::ApproximateNumberOfMessages)
                    .await
            }
            None => 0,
        };
        QueueDepth {
            visible,
            not_visible,
            dead_letter,
            invocations: self.invocations.load(Ordering::Relaxed),
        }
    }

    pub async fn dead_letters(&self) -> Vec<Value> {
        let Some(dlq) = &self.dlq_url else {
            return Vec::new();
        };
        // Peek: receive with a zero visibility timeout, so the messages stay.
        let out = self
            .client
            .receive_message()
            .queue_url(dlq)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await;
        out.ok()
            .map(|o| {
                o.messages()
                    .iter()
                    .map(|m| json!({ "messageId": m.message_id(), "body": m.body(), "receiveCount": receive_count(m) }))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub async fn run(self: Arc<Self>) {
        loop {
            let received = self
                .client
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(self.batch_size)
                .wait_time_seconds(1)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await;
            let messages = match received {
                Ok(o) => o.messages.unwrap_or_default(),
                Err(e) => {
                    warn!(error = ?e, "receive from SQS failed");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            if messages.is_empty() {
                continue;
            }
            self.in_flight.fetch_add(messages.len(), Ordering::SeqCst);
            self.deliver(&messages).await;
            self.in_flight.fetch_sub(messages.len(), Ordering::SeqCst);
        }
    }

    async fn deliver(&self, messages: &[aws_sdk_sqs::types::Message]) {
        let records: Vec<Value> = messages
            .iter()
            .map(|m| lambda_record(m, &self.queue_url))
            .collect();
        let payload = json!({ "Records": records });
        let failed =
            crate::queue::invoke_batch(&self.functions, &self.config, &self.lab, payload).await;
        self.invocations.fetch_add(1, Ordering::Relaxed);
        let done: Vec<DeleteMessageBatchRequestEntry> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| {
                !m.message_id()
                    .is_some_and(|id| failed.iter().any(|f| f == id))
            })
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .set_receipt_handle(m.receipt_handle.clone())
                    .build()
                    .ok()
            })
            .collect();
        if done.is_empty() {
            return;
        }
        if let Err(e) = self
            .client
            .delete_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(done))
            .send()
            .await
        {
            warn!(error = ?e, "could not delete processed messages; they will be redelivered (persisting is idempotent)");
        }
    }
}

fn receive_count(m: &aws_sdk_sqs::types::Message) -> u32 {
    m.attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// One SQS message as Lambda's event source puts it in an `SqsEvent`.
fn lambda_record(m: &aws_sdk_sqs::types::Message, queue_url: &str) -> Value {
    let attributes: serde_json::Map<String, Value> = m
        .attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.as_str().to_owned(), json!(v)))
                .collect()
        })
        .unwrap_or_default();
    let message_attributes: serde_json::Map<String, Value> = m
        .message_attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| {
                    (k.clone(), json!({ "stringValue": v.string_value(), "dataType": v.data_type(), "stringListValues": [], "binaryListValues": [] }))
                })
                .collect()
        })
        .unwrap_or_default();
    let queue_name = queue_url.rsplit('/').next().unwrap_or_default();
    json!({
        "messageId": m.message_id(),
        "receiptHandle": m.receipt_handle(),
        "body": m.body(),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": m.md5_of_body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": format!("arn:aws:sqs:us-east-1:000000000000:{queue_name}"),
        "awsRegion": "us-east-1"
    })
}
