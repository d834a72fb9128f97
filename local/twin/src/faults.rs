use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use async_trait::async_trait;

use chat_core::error::StoreError;
use chat_core::ids::{RoomId, Seq};
use chat_core::model::{Message, MessageDraft, Reservation, SeqFate};
use chat_core::ports::{MessageStore, RangeQuery};

/// Fault injection in front of any [`MessageStore`]: the next `n` message
/// writes fail as if the database were down, whatever the backend. The local
/// platform (`POST /dev/faults`) and the persistence tests use it to prove
/// that failed records are retried and nothing is lost or duplicated.
pub struct FailingPuts {
    inner: Arc<dyn MessageStore>,
    remaining: AtomicU32,
}

impl FailingPuts {
    pub fn new(inner: Arc<dyn MessageStore>) -> Self {
        Self {
            inner,
            remaining: AtomicU32::new(0),
        }
    }

    /// Makes the next `n` message writes fail.
    pub fn fail_next_puts(&self, n: u32) {
        self.remaining.store(n, Ordering::SeqCst);
    }

    fn take_failure(&self) -> bool {
        self.remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

#[async_trait]
impl MessageStore for FailingPuts {
    async fn reserve(&self, draft: MessageDraft) -> Result<Reservation, StoreError> {
        self.inner.reserve(draft).await
    }

    async fn last_seq(&self, room: &RoomId) -> Result<Seq, StoreError> {
        self.inner.last_seq(room).await
    }

    async fn settle(&self, room: &RoomId, seq: Seq) -> Result<SeqFate, StoreError> {
        self.inner.settle(room, seq).await
    }

    async fn put_batch(&self, messages: &[Message]) -> Vec<Result<(), StoreError>> {
        let failing: Vec<bool> = messages.iter().map(|_| self.take_failure()).collect();
        let through: Vec<Message> = messages
            .iter()
            .zip(&failing)
            .filter(|(_, f)| !**f)
            .map(|(m, _)| m.clone())
            .collect();
        let mut stored = self.inner.put_batch(&through).await.into_iter();
        failing
            .into_iter()
            .map(|fail| {
                if fail {
                    Err(StoreError::unavailable(
                        "injected failure: message store down",
                    ))
                } else {
                    stored.next().unwrap_or_else(|| {
                        Err(StoreError::Corrupt(
                            "inner store answered too few results".into(),
                        ))
                    })
                }
            })
            .collect()
    }

    async fn range(&self, room: &RoomId, q: RangeQuery) -> Result<Vec<Message>, StoreError> {
        self.inner.range(room, q).await
    }

    async fn latest(&self, rooms: &[RoomId]) -> Result<Vec<Message>, StoreError> {
        self.inner.latest(rooms).await
    }
}
