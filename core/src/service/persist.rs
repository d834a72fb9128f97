//! The persistence worker: consumes queue batches, writes messages
//! idempotently, pushes the shards of big rooms' fan-outs, advances delivery
//! cursors and sends their receipts. Each
//! record succeeds or fails on its own, so only failed records are retried
//! (SQS partial batch response), and a record that can never succeed ends in
//! the dead-letter queue instead of blocking the others.

use std::collections::{BTreeMap, BTreeSet};

use futures::stream::{self, StreamExt};
use tracing::{error, info, info_span, warn, Instrument};

use super::messaging::delivered_job;
use super::Chat;
use crate::ids::{ConnectionId, RoomId, Seq, UserId};
use crate::model::{Job, Message, ReceiptStatus};
use crate::protocol::ws::ServerFrame;
use crate::search::IndexEntry;

/// How many cursor writes one batch keeps in flight (DynamoDB UpdateItems:
/// enough to turn a 1,000-member room's delivered receipt from 999 round
/// trips in a row into ~32, few enough to stay far below a table's limits).
const CURSOR_CONCURRENCY: usize = 32;

/// How many receipt frames of one record are pushed at a time (each to every
/// connection of the members to notify).
const RECEIPT_CONCURRENCY: usize = 8;

/// How many fan-out shards of one batch are pushed at a time (each with
/// `fanout_concurrency` pushes in flight): the stack's default batch size,
/// so the shards of a 10,000-member channel's message (20 of 500) go at
/// once.
const SHARD_CONCURRENCY: usize = 25;

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
        let mut shards = Vec::new();
        let mut broadcasts = Vec::new();
        for (i, (id, body)) in records.iter().enumerate() {
            match serde_json::from_str::<Job>(body) {
                Ok(Job::PersistMessage { message }) => to_store.push((i, message)),
                Ok(job @ Job::MarkDelivered { .. }) => deliveries.push((i, job)),
                Ok(Job::FanOut {
                    message,
                    user_ids,
                    skip,
                }) => shards.push(Shard {
                    record: i,
                    message,
                    user_ids,
                    skip,
                }),
                Ok(Job::Broadcast { frame, user_ids }) => broadcasts.push((i, frame, user_ids)),
                Err(e) => {
                    error!(record_id = %id, error = %e, "undecodable queue record; it will be retried and dead-lettered");
                    outcomes[i] = RecordOutcome::Failed;
                }
            }
        }

        // Pushes first: a big room's members wait on them, nobody waits on
        // the writes below.
        let fanned = self.fan_out_shards(records, shards).await;
        for &i in &fanned.failed {
            outcomes[i] = RecordOutcome::Failed;
        }
        for i in self.broadcast_shards(records, broadcasts).await {
            outcomes[i] = RecordOutcome::Failed;
        }

        let mut stored: Vec<Message> = Vec::new();
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
            // The search index, after the messages it points at: a failed
            // index write retries the record, whose message write repeats
            // without effect.
            let entries: Vec<(usize, IndexEntry)> = to_store
                .iter()
                .filter(|_| self.limits.search_index)
                .filter(|(i, _)| outcomes[*i] != RecordOutcome::Failed)
                .filter_map(|(i, m)| IndexEntry::of(m).map(|e| (*i, e)))
                .collect();
            if !entries.is_empty() {
                let only: Vec<IndexEntry> = entries.iter().map(|(_, e)| e.clone()).collect();
                for ((i, e), r) in entries.iter().zip(self.search.index(&only).await) {
                    if let Err(err) = r {
                        warn!(record_id = %records[*i].0, room_id = %e.room_id, seq = e.seq, error = %crate::error::chain(&err), "search index write failed; will retry");
                        outcomes[*i] = RecordOutcome::Failed;
                    }
                }
            }
            // The sender has read their own message: one read-cursor write
            // per sender and room of the batch, to their highest stored seq.
            let reads: Vec<CursorTarget> = to_store
                .iter()
                .filter(|(i, _)| outcomes[*i] != RecordOutcome::Failed)
                .map(|(i, m)| CursorTarget {
                    record: *i,
                    room_id: m.room_id.clone(),
                    user_id: m.sender_id.clone(),
                    seq: m.seq,
                })
                .collect();
            for i in self
                .advance_cursors(reads, ReceiptStatus::Read)
                .await
                .failed
            {
                warn!(record_id = %records[i].0, "could not advance the sender's read cursor; will retry");
                outcomes[i] = RecordOutcome::Failed;
            }
            stored = to_store
                .iter()
                .filter(|(i, _)| outcomes[*i] != RecordOutcome::Failed)
                .map(|(_, m)| m.clone())
                .collect();
        }

        // The shards' receipts share the batch's coalesced cursor writes. A
        // shard's pushes are done: a failed cursor write of its members is
        // not worth pushing the shard again (their next sync moves it).
        let from_shards: BTreeSet<usize> = fanned.receipts.iter().map(|(i, _)| *i).collect();
        deliveries.extend(fanned.receipts);
        for i in self.mark_delivered(&deliveries).await {
            if from_shards.contains(&i) {
                warn!(record_id = %records[i].0, "could not advance the delivered cursors of a fan-out shard's members; their next sync does");
                continue;
            }
            warn!(record_id = %records[i].0, "delivery cursor update failed; will retry");
            outcomes[i] = RecordOutcome::Failed;
        }
        // Offline members' notifications, last: nothing waits on them.
        self.notify_offline(&stored).await;
        outcomes
    }

    /// Pushes each shard of a big room's fan-out ([`Job::FanOut`]), the
    /// shards of the batch at once: looks up the members' connections, pushes
    /// the message to each but the sender's, retries transient failures and
    /// removes the connections API Gateway reports gone, as the message
    /// function does for a small room. A shard whose lookup fails is retried
    /// whole (members de-duplicate a repeat by `messageId`); pushes that
    /// still fail after retries are left to `sync`, as in a small room.
    async fn fan_out_shards(&self, records: &[(String, String)], shards: Vec<Shard>) -> Fanned {
        let results: Vec<(usize, Option<Option<Job>>)> = stream::iter(shards)
            .map(|shard| async move {
                let span = info_span!("record", record_id = %records[shard.record].0, message_id = %shard.message.message_id, room_id = %shard.message.room_id);
                let receipt = async {
                    let conns = match self.connections.for_users(&shard.user_ids).await {
                        Ok(c) => c,
                        Err(e) => {
                            warn!(error = %crate::error::chain(&e), "could not look up a fan-out shard's connections; will retry");
                            return None;
                        }
                    };
                    let targets: Vec<_> = conns
                        .into_iter()
                        .filter(|c| c.connection_id != shard.skip)
                        .collect();
                    let pushes = targets.len();
                    let frame = ServerFrame::Message(self.view(&shard.message).await);
                    let round = self.deliver(targets, &frame).await;
                    info!(seq = shard.message.seq, members = shard.user_ids.len(), pushes, delivered = round.delivered.len(), gone = round.gone.len(), "fan-out shard pushed");
                    Some(delivered_job(&shard.message, round.delivered))
                }
                .instrument(span)
                .await;
                (shard.record, receipt)
            })
            .buffer_unordered(SHARD_CONCURRENCY)
            .collect()
            .await;
        let mut fanned = Fanned::default();
        for (record, receipt) in results {
            match receipt {
                None => fanned.failed.push(record),
                Some(Some(job)) => fanned.receipts.push((record, job)),
                Some(None) => {}
            }
        }
        fanned
    }

    /// Pushes each shard of a big room's change frame ([`Job::Broadcast`]);
    /// answers the records to retry (their connection lookup failed: members
    /// apply a repeated change once, by its `change` number).
    async fn broadcast_shards(
        &self,
        records: &[(String, String)],
        shards: Vec<(usize, ServerFrame, Vec<UserId>)>,
    ) -> Vec<usize> {
        stream::iter(shards)
            .map(|(record, frame, user_ids)| async move {
                let span = info_span!("record", record_id = %records[record].0);
                async {
                    match self.connections.for_users(&user_ids).await {
                        Ok(conns) => {
                            let round = self.deliver(conns, &frame).await;
                            info!(members = user_ids.len(), delivered = round.delivered.len(), gone = round.gone.len(), "change shard pushed");
                            None
                        }
                        Err(e) => {
                            warn!(error = %crate::error::chain(&e), "could not look up a change shard's connections; will retry");
                            Some(record)
                        }
                    }
                }
                .instrument(span)
                .await
            })
            .buffer_unordered(SHARD_CONCURRENCY)
            .filter_map(|r| async move { r })
            .collect()
            .await
    }

    /// Advances the delivered cursors of a batch's `MarkDelivered` jobs and
    /// tells whom they name: the members whose cursors moved to the same seq
    /// share one `receipt` frame. Returns the indexes of the records to
    /// retry.
    async fn mark_delivered(&self, jobs: &[(usize, Job)]) -> Vec<usize> {
        let mut targets = Vec::new();
        let mut notify: BTreeMap<RoomId, BTreeSet<UserId>> = BTreeMap::new();
        for (i, job) in jobs {
            let Job::MarkDelivered {
                room_id,
                seq,
                user_ids,
                notify: whom,
            } = job
            else {
                continue;
            };
            targets.extend(user_ids.iter().map(|u| CursorTarget {
                record: *i,
                room_id: room_id.clone(),
                user_id: u.clone(),
                seq: *seq,
            }));
            notify
                .entry(room_id.clone())
                .or_default()
                .extend(whom.iter().cloned());
        }
        let advanced = self
            .advance_cursors(targets, ReceiptStatus::Delivered)
            .await;

        // Receipts are a courtesy: a push that fails is not a reason to retry
        // the cursor write, which already happened.
        for (room, by_seq) in advanced.moved {
            let whom: Vec<UserId> = notify
                .remove(&room)
                .unwrap_or_default()
                .into_iter()
                .collect();
            if whom.is_empty() {
                continue;
            }
            let conns = match self.connections.for_users(&whom).await {
                Ok(c) => c,
                Err(e) => {
                    warn!(room_id = %room, error = %crate::error::chain(&e), "could not look up whom to send delivered receipts; they see the cursors on their next read of the room");
                    continue;
                }
            };
            stream::iter(by_seq)
                .for_each_concurrent(RECEIPT_CONCURRENCY, |(seq, user_ids)| {
                    let (conns, room) = (conns.clone(), &room);
                    async move {
                        let frame = ServerFrame::Receipt {
                            room_id: room.clone(),
                            user_ids,
                            status: ReceiptStatus::Delivered,
                            seq,
                        };
                        let bytes = frame.encode();
                        let round = self.push_round(conns, bytes.as_bytes()).await;
                        self.settle(round, bytes.as_bytes()).await;
                    }
                })
                .await;
        }
        advanced.failed
    }

    /// Raises cursors, coalesced: each member's cursor in a room is written
    /// once, to the highest seq any target of the batch gives it, so a busy
    /// room's batch costs one write per member, not one per message. Writes
    /// run concurrently; cursors only rise, so a retried record repeats its
    /// writes without effect.
    async fn advance_cursors(&self, targets: Vec<CursorTarget>, status: ReceiptStatus) -> Advanced {
        let mut highest: BTreeMap<(RoomId, UserId), (Seq, Vec<usize>)> = BTreeMap::new();
        for t in targets {
            let (seq, records) = highest.entry((t.room_id, t.user_id)).or_default();
            *seq = (*seq).max(t.seq);
            records.push(t.record);
        }
        let store = &self.rooms;
        // Owned items: a closure over borrowed ones makes the future not
        // `Send` for every lifetime, which `tokio::spawn` requires.
        let results: Vec<_> = stream::iter(highest)
            .map(|((room, user), (seq, records))| async move {
                let r = store.advance_cursor(&room, &user, status, seq).await;
                (room, user, seq, records, r)
            })
            .buffer_unordered(CURSOR_CONCURRENCY)
            .collect()
            .await;
        let mut advanced = Advanced::default();
        for (room, user, seq, records, r) in results {
            match r {
                Ok(true) => advanced
                    .moved
                    .entry(room)
                    .or_default()
                    .entry(seq)
                    .or_default()
                    .push(user),
                Ok(false) => {}
                Err(e) => {
                    warn!(room_id = %room, user_id = %user, seq, error = %crate::error::chain(&e), "cursor write failed");
                    advanced.failed.extend(records);
                }
            }
        }
        advanced.failed.sort_unstable();
        advanced.failed.dedup();
        for users in advanced.moved.values_mut().flat_map(BTreeMap::values_mut) {
            users.sort();
        }
        advanced
    }
}

/// One [`Job::FanOut`] of a batch.
struct Shard {
    record: usize,
    message: Message,
    user_ids: Vec<UserId>,
    skip: ConnectionId,
}

/// What [`Chat::fan_out_shards`] did.
#[derive(Default)]
struct Fanned {
    /// The records to retry (their lookup failed).
    failed: Vec<usize>,
    /// Per shard record, the delivered receipt of whom it reached.
    receipts: Vec<(usize, Job)>,
}

/// A record's request to raise `user_id`'s cursor in `room_id` to `seq`.
struct CursorTarget {
    record: usize,
    room_id: RoomId,
    user_id: UserId,
    seq: Seq,
}

/// What [`Chat::advance_cursors`] did.
#[derive(Default)]
struct Advanced {
    /// Per room: seq → the members whose cursor moved to it.
    moved: BTreeMap<RoomId, BTreeMap<Seq, Vec<UserId>>>,
    /// The records to retry (a cursor they asked for was not written).
    failed: Vec<usize>,
}
