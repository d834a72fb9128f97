use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::changes::{Change, MessageState};
use crate::error::StoreError;
use crate::ids::{RoomId, Seq};
use crate::ports::MessageChanges;

/// One room's counter, states by seq and log by change.
#[derive(Default)]
struct RoomChanges {
    counter: Change,
    states: BTreeMap<Seq, MessageState>,
    log: BTreeMap<Change, MessageState>,
}

#[derive(Default)]
pub struct MemoryChanges {
    inner: Mutex<HashMap<RoomId, RoomChanges>>,
}

#[async_trait]
impl MessageChanges for MemoryChanges {
    async fn last_change(&self, room: &RoomId) -> Result<Change, StoreError> {
        Ok(lock(&self.inner).get(room).map_or(0, |r| r.counter))
    }

    async fn state(&self, room: &RoomId, seq: Seq) -> Result<Option<MessageState>, StoreError> {
        Ok(lock(&self.inner)
            .get(room)
            .and_then(|r| r.states.get(&seq).cloned()))
    }

    async fn states(
        &self,
        room: &RoomId,
        lo: Seq,
        hi: Seq,
    ) -> Result<Vec<MessageState>, StoreError> {
        if lo > hi {
            return Ok(Vec::new());
        }
        Ok(lock(&self.inner).get(room).map_or_else(Vec::new, |r| {
            r.states.range(lo..=hi).map(|(_, s)| s.clone()).collect()
        }))
    }

    async fn commit(&self, state: &MessageState) -> Result<bool, StoreError> {
        let mut g = lock(&self.inner);
        let r = g.entry(state.room_id.clone()).or_default();
        if state.change == 0 || r.counter != state.change - 1 {
            return Ok(false);
        }
        r.counter = state.change;
        r.states.insert(state.seq, state.clone());
        r.log.insert(state.change, state.clone());
        Ok(true)
    }

    async fn changes_after(
        &self,
        room: &RoomId,
        after: Change,
        limit: usize,
    ) -> Result<Vec<MessageState>, StoreError> {
        Ok(lock(&self.inner).get(room).map_or_else(Vec::new, |r| {
            r.log
                .range(after.saturating_add(1)..)
                .take(limit)
                .map(|(_, s)| s.clone())
                .collect()
        }))
    }
}
