//! The persistence worker: consumes queue batches, writes messages
//! idempotently, advances delivery cursors and sends their receipts. Each
//! record succeeds or fails on its own, so only failed records are retried
//! (SQS partial batch response), and a record that can never succeed ends in
//! the dead-letter queue instead of blocking the others.

use futures::stream::{self, StreamExt};
use tracing::{error, info_span, warn, Instrument};

use super::Chat;
use crate::error::{ChatError, StoreError};
use crate::ids::UserId;
use crate::model::{Job, Message, ReceiptStatus};
use crate::protocol::ws::ServerFrame;

/// How many cursor writes one batch keeps in flight (DynamoDB UpdateItems:
/// enough to turn a 1,000-member room's delivered receipt from 999 round
/// trips in a row into ~32, few enough to stay far below a table's limits).
const CURSOR_CONCURRENCY: usize = 32;

/// How many receipt frames of one record are pushed at a time (each to every
/// connection of the members to notify).
const RECEIPT_CONCURRENCY: usize = 8;

/// What became of one queue record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordOutcome {
    Done,
    /// Retry it later (and, after `maxReceiveCount`, dead-letter it).
    Failed,
}

impl Chat {
    /// Processes `(record id, body)` pairs; returns one outcome per record, in
    /// order. Message writes of the whole batch go to the store together.
    pub async fn persist_batch(&self, records: &[(String, String)]) -> Vec<RecordOutcome> {
        crate::metrics::record(&[(
            crate::metrics::Metric::PersistBatchSize,
            records.len() as f64,
        )]);
        let mut outcomes = vec![RecordOutcome::Done; records.len()];
        let mut to_store: Vec<(usize, Message)> = Vec::new();
        let mut deliveries = Vec::new();
        for (i, (id, body)) in records.iter().enumerate() {
            match serde_json::from_str::<Job>(body) {
                Ok(Job::PersistMessage { message }) => to_store.push((i, message)),
                Ok(job @ Job::MarkDelivered { .. }) => deliveries.push((i, job)),
                Err(e) => {
                    error!(record_id = %id, error = %e, "undecodable queue record; it will be retried and dead-lettered");
                    outcomes[i] = RecordOutcome::Failed;
                }
            }
        }

        if !to_store.is_empty() {
            let messages: Vec<Message> = to_store.iter().map(|(_, m)| m.clone()).collect();
            let results = self.messages.put_batch(&messages).await;
            // Storage lag of what landed: a failed write is retried and
            // counted when it is stored.
            let now = self.clock.now();
            let mut lags: Vec<f64> = Vec::with_capacity(messages.len());
            for ((i, m), r) in to_store.iter().zip(results) {
                let span = info_span!("record", record_id = %records[*i].0, message_id = %m.message_id, room_id = %m.room_id);
                let _g = span.enter();
                match r {
                    Ok(()) => {
                        tracing::debug!(seq = m.seq, "message stored");
                        lags.push(now.saturating_sub(m.sent_at).max(0) as f64);
                    }
                    Err(e) => {
                        warn!(error = %crate::error::chain(&e), "message write failed; will retry");
                        outcomes[*i] = RecordOutcome::Failed;
                    }
                }
            }
            crate::metrics::record_all(crate::metrics::Metric::PersistLatencyMs, &lags);
            // The sender has read their own message. Cursor writes only
            // raise a cursor, so they run concurrently and a retried record
            // repeats them harmlessly.
            // Owned items: a closure over borrowed ones makes the future
            // not `Send` for every lifetime, which `tokio::spawn` requires.
            let stored: Vec<(usize, Message)> = to_store
                .iter()
                .filter(|(i, _)| outcomes[*i] != RecordOutcome::Failed)
                .cloned()
                .collect();
            let rooms = &self.rooms;
            let cursors: Vec<(usize, Result<bool, StoreError>)> = stream::iter(stored)
                .map(|(i, m)| async move {
                    let r = rooms
                        .advance_cursor(&m.room_id, &m.sender_id, ReceiptStatus::Read, m.seq)
                        .await;
                    (i, r)
                })
                .buffer_unordered(CURSOR_CONCURRENCY)
                .collect()
                .await;
            for (i, r) in cursors {
                if let Err(e) = r {
                    warn!(record_id = %records[i].0, error = %crate::error::chain(&e), "could not advance the sender's read cursor");
                    outcomes[i] = RecordOutcome::Failed;
                }
            }
        }

        // Records of a batch are independent: their cursor writes overlap.
        let delivered: Vec<(usize, Result<(), ChatError>)> = stream::iter(deliveries)
            .map(|(i, job)| {
                let span = info_span!("record", record_id = %records[i].0);
                async move { (i, self.mark_delivered(job).await) }.instrument(span)
            })
            .buffer_unordered(4)
            .collect()
            .await;
        for (i, r) in delivered {
            if let Err(e) = r {
                warn!(record_id = %records[i].0, error = %crate::error::chain(&e), "delivery cursor update failed; will retry");
                outcomes[i] = RecordOutcome::Failed;
            }
        }
        outcomes
    }

    async fn mark_delivered(&self, job: Job) -> Result<(), ChatError> {
        let Job::MarkDelivered {
            room_id,
            seq,
            user_ids,
            notify,
        } = job
        else {
            return Ok(());
        };
        // One cursor per member (999 for a message delivered to a full
        // room): written concurrently. Each only ever rises, so a record
        // retried after a partial failure repeats them without effect, and
        // only the cursors that moved send a receipt. Every write runs to
        // its end even when another fails, and the cursors it moved are told
        // before the record fails: the retry finds them moved already, so
        // their receipts would otherwise never be sent.
        let rooms = &self.rooms;
        let room = &room_id;
        let written: Vec<(UserId, Result<bool, StoreError>)> = stream::iter(user_ids)
            .map(|user| async move {
                let moved = rooms
                    .advance_cursor(room, &user, ReceiptStatus::Delivered, seq)
                    .await;
                (user, moved)
            })
            .buffer_unordered(CURSOR_CONCURRENCY)
            .collect()
            .await;
        let mut receipts = Vec::new();
        let mut failed = None;
        for (user, moved) in written {
            match moved {
                Ok(true) => receipts.push(ServerFrame::Receipt {
                    room_id: room_id.clone(),
                    user_id: user,
                    status: ReceiptStatus::Delivered,
                    seq,
                }),
                Ok(false) => {}
                Err(e) => failed = Some(e),
            }
        }
        self.tell_receipts(receipts, &notify).await;
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Pushes delivered receipts to every connection of `notify`.
    async fn tell_receipts(&self, receipts: Vec<ServerFrame>, notify: &[UserId]) {
        if receipts.is_empty() || notify.is_empty() {
            return;
        }
        // Receipts are a courtesy: a push that fails is not a reason to retry
        // the cursor write, which already happened (the cursor is what
        // `GET /rooms/{id}` shows).
        let conns = match self.connections.for_users(notify).await {
            Ok(c) => c,
            Err(e) => {
                warn!(error = %crate::error::chain(&e), "could not look up whom to tell of delivered receipts");
                return;
            }
        };
        let conns = &conns;
        stream::iter(receipts)
            .for_each_concurrent(RECEIPT_CONCURRENCY, |frame| async move {
                let bytes = frame.encode();
                let round = self.push_round(conns.clone(), bytes.as_bytes()).await;
                self.settle(round, bytes.as_bytes()).await;
            })
            .await;
    }
}
