//! The event source mapping over a real SQS queue (the `aws` backend): long
//! polls the queue, hands each batch to the persistence function as the SQS
//! event Lambda would build, and deletes exactly the records the function
//! did not list in `batchItemFailures`. Retries and the dead-letter queue are
//! the queue's own (visibility timeout, redrive policy), as in AWS.
//!
//! Batches are gathered as Lambda's SQS poller gathers them: one
//! `ReceiveMessage` returns at most 10 messages, so a batch size above 10
//! takes several receives, until the batch is full or the batching window
//! (`MaximumBatchingWindowInSeconds`, counted from the first message)
//! closes; with no window, a batch is what one receive returns. At most
//! `MaximumConcurrency` invocations run at once, and the poller receives
//! only when one may start, so no message waits out its visibility timeout
//! in a batch that cannot be delivered.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName,
};
use serde_json::{json, Value};
use tracing::warn;

use chat_twin::FaultLab;

use crate::functions::Functions;
use crate::queue::{DepthError, QueueConfig, QueueDepth};

pub struct SqsEventSource {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    dlq_url: Option<String>,
    functions: Arc<Functions>,
    lab: Arc<FaultLab>,
    batch_size: usize,
    batch_window: Duration,
    concurrency: usize,
    /// The function, its report-batch-item-failures setting, and the rest.
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
            // SQS event sources take 1-10,000.
            batch_size: config.batch_size.clamp(1, 10_000),
            batch_window: config.batch_window,
            concurrency: config.concurrency.max(1),
            config,
            in_flight: AtomicUsize::new(0),
            invocations: AtomicU64::new(0),
        })
    }

    /// The queue's counts of `names`, read in one `GetQueueAttributes`, so
    /// they describe one moment: read one after the other, a record turning
    /// visible between the reads (its visibility timeout ending) would be
    /// in neither count, and the queue would look drained while it is not.
    /// A failed read, or a count missing from the answer, is an error: read
    /// as zero it, too, would make a busy queue look drained.
    async fn counts<const N: usize>(
        &self,
        url: &str,
        names: [QueueAttributeName; N],
    ) -> Result<[usize; N], DepthError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .set_attribute_names(Some(names.to_vec()))
            .send()
            .await
            .map_err(|e| DepthError::Read {
                queue: url.to_owned(),
                reason: aws_sdk_sqs::error::DisplayErrorContext(e).to_string(),
            })?;
        let attributes = out.attributes.unwrap_or_default();
        let mut counts = [0; N];
        for (count, name) in counts.iter_mut().zip(&names) {
            *count = attributes
                .get(name)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| DepthError::Missing {
                    queue: url.to_owned(),
                    attribute: name.as_str().to_owned(),
                })?;
        }
        Ok(counts)
    }

    pub async fn depth(&self) -> Result<QueueDepth, DepthError> {
        let [visible, not_visible] = self
            .counts(
                &self.queue_url,
                [
                    QueueAttributeName::ApproximateNumberOfMessages,
                    QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
                ],
            )
            .await?;
        let not_visible = not_visible + self.in_flight.load(Ordering::SeqCst);
        let dead_letter = match &self.dlq_url {
            Some(d) => {
                let [n] = self
                    .counts(d, [QueueAttributeName::ApproximateNumberOfMessages])
                    .await?;
                n
            }
            None => 0,
        };
        Ok(QueueDepth {
            visible,
            not_visible,
            dead_letter,
            invocations: self.invocations.load(Ordering::Relaxed),
        })
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

    /// Runs until the process ends (or the task is aborted).
    pub async fn run(self: Arc<Self>) {
        let permits = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
        loop {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let batch = self.gather().await;
            if batch.is_empty() {
                continue;
            }
            let me = self.clone();
            tokio::spawn(async move {
                me.deliver(&batch).await;
                me.in_flight.fetch_sub(batch.len(), Ordering::SeqCst);
                drop(permit);
            });
        }
    }

    /// One `ReceiveMessage` of at most `max` (≤ 10) messages, long polling
    /// up to `wait` (whole seconds, as SQS takes it).
    async fn receive(&self, max: usize, wait: Duration) -> Vec<aws_sdk_sqs::types::Message> {
        let received = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await;
        match received {
            Ok(o) => o.messages.unwrap_or_default(),
            Err(e) => {
                warn!(error = ?e, "receive from SQS failed");
                tokio::time::sleep(Duration::from_millis(500)).await;
                Vec::new()
            }
        }
    }

    /// The next batch: receives until it holds `batch_size` messages or the
    /// batching window, opened by its first message, closes. Empty when a
    /// long poll found nothing.
    async fn gather(&self) -> Vec<aws_sdk_sqs::types::Message> {
        let mut batch: Vec<aws_sdk_sqs::types::Message> = Vec::new();
        let mut closes: Option<Instant> = None;
        loop {
            let want = self.batch_size - batch.len();
            let wait = match closes {
                None => Duration::from_secs(1),
                Some(at) => at.saturating_duration_since(Instant::now()),
            };
            let got = self.receive(want.min(10), wait).await;
            let before = batch.len();
            // A message whose visibility timeout ran out while the batch
            // was gathering comes back: keep it once, with its newest
            // receipt handle.
            for m in got {
                match batch.iter_mut().find(|b| b.message_id == m.message_id) {
                    Some(b) => *b = m,
                    None => batch.push(m),
                }
            }
            if batch.is_empty() {
                return batch;
            }
            self.in_flight
                .fetch_add(batch.len() - before, Ordering::SeqCst);
            if closes.is_none() {
                closes = Some(Instant::now() + self.batch_window);
            }
            let full = batch.len() >= self.batch_size;
            let closed = closes.is_some_and(|at| Instant::now() >= at);
            if full || closed {
                return batch;
            }
            if wait < Duration::from_secs(1) {
                // A short poll (under a second of window left): not a spin.
                tokio::time::sleep(wait.min(Duration::from_millis(50))).await;
            }
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use axum::extract::State;
    use axum::routing::post;
    use axum::{Json, Router};

    use super::*;

    /// A function behind the Lambda Invoke API that records each batch and
    /// how many invocations ran at once. With `hold` > 1 an invocation
    /// returns only once `hold` run together (or after 10 s, which the
    /// recorded peak then shows).
    #[derive(Default)]
    struct Recorder {
        batches: Mutex<Vec<Vec<String>>>,
        running: AtomicUsize,
        peak: AtomicUsize,
        hold: usize,
    }

    async fn invoked(State(r): State<Arc<Recorder>>, Json(ev): Json<Value>) -> Json<Value> {
        let bodies = ev["Records"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["body"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let now = r.running.fetch_add(1, Ordering::SeqCst) + 1;
        r.peak.fetch_max(now, Ordering::SeqCst);
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            while r.running.load(Ordering::SeqCst) < r.hold {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        r.batches.lock().unwrap().push(bodies);
        r.running.fetch_sub(1, Ordering::SeqCst);
        Json(json!({ "batchItemFailures": [] }))
    }

    /// Queues `n` messages in a fresh queue of moto, then runs the event
    /// source with `config` until the function has seen all of them.
    async fn deliver(n: usize, config: QueueConfig, hold: usize) -> Arc<Recorder> {
        let recorder = Arc::new(Recorder {
            hold,
            ..Recorder::default()
        });
        let app = Router::new()
            .route("/2015-03-31/functions/{name}/invocations", post(invoked))
            .with_state(recorder.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let sdk = chat_adapters::aws::emulator_config(&chat_testkit::moto().url("http")).await;
        let client = aws_sdk_sqs::Client::new(&sdk);
        let name = format!("esm-{}", uuid::Uuid::new_v4().simple());
        let (url, dlq) = create_queues(&client, &name, Duration::from_secs(30), 5)
            .await
            .unwrap();
        for i in 0..n {
            client
                .send_message()
                .queue_url(&url)
                .message_body(format!("m{i}"))
                .send()
                .await
                .unwrap();
        }
        let source = SqsEventSource::new(
            client,
            url,
            Some(dlq),
            Arc::new(Functions::remote(&endpoint)),
            chat_twin::FaultLab::new(),
            config,
        );
        let worker = tokio::spawn(source.run());
        let all = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let seen: usize = recorder.batches.lock().unwrap().iter().map(Vec::len).sum();
                if seen >= n {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        worker.abort();
        server.abort();
        all.expect("every message reached the function");
        recorder
    }

    #[tokio::test]
    async fn a_batch_above_ten_gathers_several_receives_and_the_window_closes_a_short_one() {
        // 25 queued: three receives (10, 10, 5) make one batch; a long
        // window, so only a full batch ends it early.
        let full = deliver(
            25,
            QueueConfig {
                batch_size: 25,
                batch_window: Duration::from_secs(20),
                concurrency: 1,
                ..QueueConfig::default()
            },
            1,
        )
        .await;
        let sizes: Vec<usize> = full.batches.lock().unwrap().iter().map(Vec::len).collect();
        assert_eq!(sizes, [25]);
        // 3 queued, room for 25: the window closes the batch with 3.
        let short = deliver(
            3,
            QueueConfig {
                batch_size: 25,
                batch_window: Duration::from_secs(1),
                concurrency: 1,
                ..QueueConfig::default()
            },
            1,
        )
        .await;
        let mut bodies = short.batches.lock().unwrap().clone();
        bodies.iter_mut().for_each(|b| b.sort());
        assert_eq!(bodies, [["m0", "m1", "m2"]]);
    }

    #[tokio::test]
    async fn invocations_run_at_once_up_to_the_maximum_concurrency_and_no_more() {
        let r = deliver(
            6,
            QueueConfig {
                batch_size: 1,
                batch_window: Duration::ZERO,
                concurrency: 2,
                ..QueueConfig::default()
            },
            2,
        )
        .await;
        assert_eq!(r.peak.load(Ordering::SeqCst), 2);
        let sizes: Vec<usize> = r.batches.lock().unwrap().iter().map(Vec::len).collect();
        assert_eq!(sizes, [1; 6]);
    }

    /// An SQS endpoint (JSON protocol) that answers `GetQueueAttributes`
    /// with `status` and fixed counts, and records each request's queue and
    /// attribute names.
    async fn sqs_answering(status: u16) -> (String, Arc<Mutex<Vec<Value>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route(
                "/",
                post(
                    move |State(seen): State<Arc<Mutex<Vec<Value>>>>, body: String| async move {
                        let req: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                        seen.lock().unwrap().push(req);
                        let answer = json!({"Attributes": {
                            "ApproximateNumberOfMessages": "3",
                            "ApproximateNumberOfMessagesNotVisible": "2",
                        }});
                        (
                            axum::http::StatusCode::from_u16(status).unwrap(),
                            [("content-type", "application/x-amz-json-1.0")],
                            answer.to_string(),
                        )
                    },
                ),
            )
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (endpoint, seen)
    }

    async fn source_at(endpoint: &str) -> Arc<SqsEventSource> {
        let sdk = chat_adapters::aws::emulator_config(endpoint).await;
        SqsEventSource::new(
            aws_sdk_sqs::Client::new(&sdk),
            format!("{endpoint}/000000000000/q"),
            Some(format!("{endpoint}/000000000000/dlq")),
            Arc::new(Functions::remote(endpoint)),
            chat_twin::FaultLab::new(),
            QueueConfig::default(),
        )
    }

    #[tokio::test]
    async fn the_visible_and_in_flight_counts_come_from_one_read() {
        let (endpoint, seen) = sqs_answering(200).await;
        let depth = source_at(&endpoint).await.depth().await.unwrap();
        assert_eq!(
            (depth.visible, depth.not_visible, depth.dead_letter),
            (3, 2, 3)
        );
        let seen = seen.lock().unwrap();
        let queues: Vec<(&str, usize)> = seen
            .iter()
            .map(|r| {
                let url = r["QueueUrl"].as_str().unwrap_or("");
                let names = r["AttributeNames"].as_array().map_or(0, Vec::len);
                (url.rsplit('/').next().unwrap_or(""), names)
            })
            .collect();
        // One read of the queue with both counts, one of the dead letters.
        assert_eq!(queues, [("q", 2), ("dlq", 1)]);
    }

    #[tokio::test]
    async fn a_failed_read_is_an_error_not_an_empty_queue() {
        let (endpoint, _) = sqs_answering(500).await;
        let err = source_at(&endpoint).await.depth().await.unwrap_err();
        assert!(
            matches!(err, DepthError::Read { ref queue, .. } if queue.ends_with("/q")),
            "{err}"
        );
    }
}
