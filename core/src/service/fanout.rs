//! Pushing frames to connections: bounded concurrency, retries of transient
//! failures with backoff, and cleanup of connections API Gateway reports gone.
//! A 410 removes exactly the connection that answered it, never the sender's.

use std::collections::BTreeSet;

use futures::stream::{self, StreamExt};
use tracing::{debug, warn};

use super::Chat;
use crate::error::PushError;
use crate::ids::{ConnectionId, UserId};
use crate::model::{ConnectionRecord, PresenceStatus};
use crate::protocol::ws::ServerFrame;

/// The outcome of one round of pushes.
#[derive(Debug, Default)]
pub(crate) struct Round {
    pub delivered: Vec<ConnectionRecord>,
    pub gone: Vec<ConnectionRecord>,
    pub transient: Vec<ConnectionRecord>,
}

impl Round {
    fn absorb(&mut self, other: Round) {
        self.delivered.extend(other.delivered);
        self.gone.extend(other.gone);
        self.transient = other.transient;
    }
}

impl Chat {
    /// One attempt at every target, `fanout_concurrency` at a time.
    pub(crate) async fn push_round(&self, targets: Vec<ConnectionRecord>, bytes: &[u8]) -> Round {
        let pusher = &self.pusher;
        let results: Vec<(ConnectionRecord, Result<(), PushError>)> = stream::iter(targets)
            .map(|c| async move {
                let r = pusher.post(&c.connection_id, bytes).await;
                (c, r)
            })
            .buffer_unordered(self.limits.fanout_concurrency.max(1))
            .collect()
            .await;
        let mut round = Round::default();
        for (c, r) in results {
            match r {
                Ok(()) => round.delivered.push(c),
                Err(PushError::Gone) => round.gone.push(c),
                Err(PushError::Transient(e)) => {
                    debug!(connection_id = %c.connection_id, error = %crate::error::chain(e.as_ref()), "push failed, will retry");
                    round.transient.push(c)
                }
            }
        }
        round
    }

    /// Retries what failed transiently (bounded, with backoff) and removes the
    /// connections that are gone, telling the contacts of users left with no
    /// live connection that they went offline. Returns the round with retried
    /// deliveries added; whatever still failed is logged and left to `sync`.
    pub(crate) async fn settle(&self, round: Round, bytes: &[u8]) -> Round {
        let (round, emptied) = self.settle_quietly(round, bytes).await;
        for user in emptied {
            if !self.is_online(&user).await.unwrap_or(true) {
                self.broadcast_presence(&user, PresenceStatus::Offline)
                    .await;
            }
        }
        round
    }

    /// [`Chat::settle`] without the offline announcements: presence pushes
    /// settle this way, so one presence change never fans out recursively.
    /// Returns the users whose gone connections were removed.
    pub(crate) async fn settle_quietly(
        &self,
        mut round: Round,
        bytes: &[u8],
    ) -> (Round, BTreeSet<UserId>) {
        let mut attempt = 0;
        while !round.transient.is_empty() && attempt < self.limits.push_retries {
            attempt += 1;
            tokio::time::sleep(crate::backoff::delay(attempt)).await;
            let retry = std::mem::take(&mut round.transient);
            let next = self.push_round(retry, bytes).await;
            round.absorb(next);
        }
        for c in &round.transient {
            warn!(connection_id = %c.connection_id, user_id = %c.user_id, "push failed after retries; the client recovers it with sync");
        }
        if !round.transient.is_empty() || !round.gone.is_empty() {
            crate::metrics::record(&[
                (
                    crate::metrics::Metric::PushesFailed,
                    round.transient.len() as f64,
                ),
                (crate::metrics::Metric::PushesGone, round.gone.len() as f64),
            ]);
        }
        let emptied = self.forget_connections(&round.gone).await;
        (round, emptied)
    }

    /// Pushes `frame` to every target and settles the outcome.
    pub(crate) async fn deliver(
        &self,
        targets: Vec<ConnectionRecord>,
        frame: &ServerFrame,
    ) -> Round {
        if targets.is_empty() {
            return Round::default();
        }
        let bytes = frame.encode().into_bytes();
        let round = self.push_round(targets, &bytes).await;
        self.settle(round, &bytes).await
    }

    /// Pushes `frame` to every connection of `users`, except `skip`.
    pub(crate) async fn deliver_to_users(
        &self,
        users: &[UserId],
        skip: Option<&ConnectionId>,
        frame: &ServerFrame,
    ) -> Round {
        match self.connections.for_users(users).await {
            Ok(conns) => {
                let targets = conns
                    .into_iter()
                    .filter(|c| Some(&c.connection_id) != skip)
                    .collect();
                self.deliver(targets, frame).await
            }
            Err(e) => {
                warn!(error = %crate::error::chain(&e), "could not look up connections for a push");
                Round::default()
            }
        }
    }

    /// Pushes one frame to one connection (replies to the caller). A failure
    /// is logged: the caller's socket is the one that is in trouble.
    pub(crate) async fn reply(&self, conn: &ConnectionId, frame: &ServerFrame) {
        let bytes = frame.encode().into_bytes();
        let mut attempt = 0;
        loop {
            match self.pusher.post(conn, &bytes).await {
                Ok(()) => return,
                Err(PushError::Gone) => {
                    debug!(connection_id = %conn, "caller's connection is gone");
                    return;
                }
                Err(PushError::Transient(e)) if attempt < self.limits.push_retries => {
                    attempt += 1;
                    debug!(connection_id = %conn, error = %crate::error::chain(e.as_ref()), "reply failed, retrying");
                    tokio::time::sleep(crate::backoff::delay(attempt)).await;
                }
                Err(PushError::Transient(e)) => {
                    warn!(connection_id = %conn, error = %crate::error::chain(e.as_ref()), "reply failed after retries");
                    return;
                }
            }
        }
    }

    /// Removes connections that answered 410 from every index; returns their users.
    pub(crate) async fn forget_connections(&self, gone: &[ConnectionRecord]) -> BTreeSet<UserId> {
        let mut users = BTreeSet::new();
        for c in gone {
            match self.connections.delete(&c.connection_id).await {
                Ok(Some(removed)) => {
                    debug!(connection_id = %c.connection_id, user_id = %removed.user_id, "removed gone connection");
                    users.insert(removed.user_id);
                }
                Ok(None) => {}
                Err(e) => {
                    warn!(connection_id = %c.connection_id, error = %crate::error::chain(&e), "could not remove gone connection")
                }
            }
        }
        users
    }
}
