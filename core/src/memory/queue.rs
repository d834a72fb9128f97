use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::lock;
use crate::error::QueueError;
use crate::model::Job;
use crate::ports::JobQueue;

/// One queued job as SQS would hold it: an id and the JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedJob {
    pub id: String,
    pub body: String,
}

/// A FIFO of encoded jobs. Jobs are stored as the exact JSON bodies the SQS
/// adapter sends, so the persistence handler decodes the same bytes locally
/// as in AWS. The local platform's event-source twin drains it.
#[derive(Default)]
pub struct MemoryQueue {
    jobs: Mutex<VecDeque<QueuedJob>>,
    next_id: AtomicU64,
    fail_enqueues: AtomicU32,
    ready: Notify,
}

impl MemoryQueue {
    /// Takes up to `max` jobs off the front.
    pub fn take(&self, max: usize) -> Vec<QueuedJob> {
        let mut g = lock(&self.jobs);
        let n = max.min(g.len());
        g.drain(..n).collect()
    }

    /// Puts jobs back at the front (a consumer that could not process them).
    pub fn requeue(&self, jobs: Vec<QueuedJob>) {
        let mut g = lock(&self.jobs);
        for j in jobs.into_iter().rev() {
            g.push_front(j);
        }
        drop(g);
        self.ready.notify_one();
    }

    pub fn len(&self) -> usize {
        lock(&self.jobs).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Resolves once jobs may be waiting.
    pub async fn wait_ready(&self) {
        if !self.is_empty() {
            return;
        }
        self.ready.notified().await;
    }

    /// Makes the next `n` enqueue calls fail as if SQS were down.
    pub fn fail_next_enqueues(&self, n: u32) {
        self.fail_enqueues.store(n, Ordering::SeqCst);
    }
}

#[async_trait]
impl JobQueue for MemoryQueue {
    async fn enqueue(&self, jobs: &[Job]) -> Result<(), QueueError> {
        if self
            .fail_enqueues
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(QueueError("injected failure: queue down".into()));
        }
        let encoded: Vec<String> = jobs
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<_, _>>()
            .map_err(|e| QueueError(e.into()))?;
        let mut g = lock(&self.jobs);
        for body in encoded {
            let id = format!("job-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
            g.push_back(QueuedJob { id, body });
        }
        drop(g);
        self.ready.notify_one();
        Ok(())
    }
}
