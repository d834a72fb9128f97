//! The SQS event-source twin: feeds the persistence function batches the way
//! Lambda's event source mapping does for a standard queue with
//! `ReportBatchItemFailures`. Records listed in `batchItemFailures` (or all of
//! them, if the invocation itself fails) become visible again after the
//! visibility timeout; a record received `max_receive_count` times without
//! success moves to the dead-letter queue.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_core::memory::MemoryQueue;
use chat_core::ports::Clock;
use chat_twin::events::{self, SqsRecord};
use chat_twin::FaultLab;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Notify;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::functions::Functions;

#[derive(Clone, Debug)]
pub struct QueueConfig {
    /// Most records per invocation (SQS event sources: 1–10,000; 10 by default).
    pub batch_size: usize,
    /// How long to gather a batch before invoking with fewer records.
    pub batch_window: Duration,
    /// How long a failed record stays invisible before it is retried.
    pub visibility_timeout: Duration,
    /// Receives before a record moves to the dead-letter queue.
    pub max_receive_count: u32,
    /// Invocations in flight at once.
    pub concurrency: usize,
    /// `FunctionResponseTypes: [ReportBatchItemFailures]`: only the records
    /// a response lists are retried. Without it Lambda ignores the list:
    /// a response is a success for the whole batch, an error a failure.
    pub report_batch_item_failures: bool,
    /// The function the event source mapping invokes.
    pub function: String,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            batch_size: 10,
            batch_window: Duration::ZERO,
            visibility_timeout: Duration::from_secs(30),
            max_receive_count: 5,
            concurrency: 4,
            report_batch_item_failures: true,
            function: crate::functions::names::PERSIST.to_owned(),
        }
    }
}

#[derive(Clone, Debug)]
struct Record {
    id: String,
    body: String,
    receive_count: u32,
    sent_at: i64,
    visible_at: Instant,
}

#[derive(Default)]
struct State {
    visible: VecDeque<Record>,
    delayed: Vec<Record>,
    in_flight: usize,
    dead: Vec<Record>,
    invocations: u64,
}

/// Queue depths, as `GET /dev/queue` shows them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueDepth {
    /// Waiting to be delivered (ApproximateNumberOfMessages).
    pub visible: usize,
    /// Being processed or waiting out their visibility timeout
    /// (ApproximateNumberOfMessagesNotVisible).
    pub not_visible: usize,
    /// In the dead-letter queue.
    pub dead_letter: usize,
    pub invocations: u64,
}

/// The depths could not be read: `GET /dev/queue` answers 502 with it, and
/// a test waiting for the queue to drain keeps waiting instead of taking a
/// failed read for an empty queue.
#[derive(Debug, thiserror::Error)]
pub enum DepthError {
    #[error("reading the attributes of queue {queue}: {reason}")]
    Read { queue: String, reason: String },
    #[error("queue {queue} answered without {attribute}")]
    Missing { queue: String, attribute: String },
}

pub struct QueueTwin {
    source: Arc<MemoryQueue>,
    functions: Arc<Functions>,
    lab: Arc<FaultLab>,
    clock: Arc<dyn Clock>,
    config: QueueConfig,
    state: Mutex<State>,
    changed: Notify,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl QueueTwin {
    pub fn new(
        source: Arc<MemoryQueue>,
        functions: Arc<Functions>,
        lab: Arc<FaultLab>,
        clock: Arc<dyn Clock>,
        config: QueueConfig,
    ) -> Arc<Self> {
        Arc::new(Self {
            source,
            functions,
            lab,
            clock,
            config,
            state: Mutex::default(),
            changed: Notify::new(),
        })
    }

    pub fn depth(&self) -> QueueDepth {
        self.pull();
        let s = lock(&self.state);
        QueueDepth {
            visible: s.visible.len(),
            not_visible: s.delayed.len() + s.in_flight,
            dead_letter: s.dead.len(),
            invocations: s.invocations,
        }
    }

    /// The bodies of the dead-lettered records (for inspection and redrive).
    pub fn dead_letters(&self) -> Vec<Value> {
        lock(&self.state)
            .dead
            .iter()
            .map(|r| serde_json::json!({ "messageId": r.id, "body": r.body, "receiveCount": r.receive_count }))
            .collect()
    }

    /// Moves everything the producers queued into the twin.
    fn pull(&self) {
        let jobs = self.source.take(usize::MAX);
        if jobs.is_empty() {
            return;
        }
        let now = Instant::now();
        let sent_at = self.clock.now();
        let mut s = lock(&self.state);
        for j in jobs {
            s.visible.push_back(Record {
                id: j.id,
                body: j.body,
                receive_count: 0,
                sent_at,
                visible_at: now,
            });
        }
    }

    fn promote_delayed(s: &mut State, now: Instant) {
        let mut i = 0;
        while i < s.delayed.len() {
            if s.delayed[i].visible_at <= now {
                let r = s.delayed.swap_remove(i);
                s.visible.push_back(r);
            } else {
                i += 1;
            }
        }
    }

    /// Runs until the process ends.
    pub async fn run(self: Arc<Self>) {
        let permits = Arc::new(tokio::sync::Semaphore::new(self.config.concurrency.max(1)));
        loop {
            self.pull();
            let now = Instant::now();
            let (batch, next_wake) = {
                let mut s = lock(&self.state);
                Self::promote_delayed(&mut s, now);
                let oldest_ready = s.visible.front().map(|r| r.visible_at);
                let full = s.visible.len() >= self.config.batch_size;
                let window_over = oldest_ready.is_some_and(|t| now >= t + self.config.batch_window);
                let batch: Vec<Record> = if full || window_over {
                    let n = self.config.batch_size.min(s.visible.len());
                    s.visible.drain(..n).collect()
                } else {
                    Vec::new()
                };
                let next_delayed = s.delayed.iter().map(|r| r.visible_at).min();
                let next_window = oldest_ready.map(|t| t + self.config.batch_window);
                (
                    batch,
                    [next_delayed, next_window].into_iter().flatten().min(),
                )
            };
            if !batch.is_empty() {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                lock(&self.state).in_flight += batch.len();
                let me = self.clone();
                tokio::spawn(async move {
                    me.deliver(batch).await;
                    drop(permit);
                    me.changed.notify_one();
                });
                continue;
            }
            let sleep_until = next_wake.unwrap_or_else(|| now + Duration::from_secs(3600));
            tokio::select! {
                _ = self.source.wait_ready() => {}
                _ = self.changed.notified() => {}
                _ = tokio::time::sleep_until(sleep_until) => {}
            }
        }
    }

    async fn deliver(&self, mut batch: Vec<Record>) {
        for r in &mut batch {
            r.receive_count += 1;
        }
        let records: Vec<SqsRecord> = batch
            .iter()
            .map(|r| SqsRecord {
                message_id: r.id.clone(),
                body: r.body.clone(),
                receive_count: r.receive_count,
                sent_at: r.sent_at,
            })
            .collect();
        let event = events::sqs_event(
            "arn:aws:sqs:local:000000000000:chat-messages",
            &records,
            self.clock.now(),
        );
        let payload = serde_json::to_value(&event).unwrap_or(Value::Null);
        let failed = invoke_batch(&self.functions, &self.config, &self.lab, payload).await;
        let retry_at = Instant::now() + self.config.visibility_timeout;
        let mut s = lock(&self.state);
        s.in_flight -= batch.len();
        s.invocations += 1;
        for r in batch {
            if !failed.contains(&r.id) {
                continue;
            }
            if r.receive_count >= self.config.max_receive_count {
                warn!(record_id = %r.id, receive_count = r.receive_count, "moved to the dead-letter queue");
                s.dead.push(r);
            } else {
                info!(record_id = %r.id, receive_count = r.receive_count, "will retry after the visibility timeout");
                s.delayed.push(Record {
                    visible_at: retry_at,
                    ..r
                });
            }
        }
    }
}

/// Hands `payload` (an SQS event) to the event source's function as Lambda
/// does; answers the ids of the records to retry: those the response lists
/// in `batchItemFailures` (none without `ReportBatchItemFailures`: Lambda
/// ignores the list then), or every record when the invocation fails.
/// Record failures staged in the fault lab (`failRecords`) are taken out of
/// the event and listed as the function lists a record it failed.
pub(crate) async fn invoke_batch(
    functions: &Functions,
    config: &QueueConfig,
    lab: &FaultLab,
    mut payload: Value,
) -> Vec<String> {
    let id_of = |r: &Value| r["messageId"].as_str().map(str::to_owned);
    let withheld: Vec<String> = match payload["Records"].as_array_mut() {
        Some(records) => {
            let k = lab.take_record_failures(records.len());
            records.drain(..k).filter_map(|r| id_of(&r)).collect()
        }
        None => Vec::new(),
    };
    for id in &withheld {
        warn!(record_id = %id, "injected failure: the persistence function fails this record");
    }
    let rest: Vec<String> = payload["Records"]
        .as_array()
        .map(|a| a.iter().filter_map(id_of).collect())
        .unwrap_or_default();
    let answered = if rest.is_empty() {
        Ok(serde_json::json!({"batchItemFailures": []}))
    } else {
        functions.invoke(&config.function, payload).await
    };
    match answered {
        Ok(_) if !config.report_batch_item_failures => Vec::new(),
        Ok(resp) => withheld
            .into_iter()
            .chain(
                resp["batchItemFailures"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned)),
            )
            .collect(),
        Err(e) => {
            warn!(error = %e, "persist invocation failed; the whole batch will be retried");
            withheld.into_iter().chain(rest).collect()
        }
    }
}
