use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::error::StoreError;
use crate::ids::{Millis, RoomId, Seq};
use crate::ports::SearchIndex;
use crate::search::{IndexEntry, RoomMatches, SearchKey, SearchQuery};

/// One room's entries: `(sentAt, seq)` → the message's terms.
type RoomEntries = BTreeMap<(Millis, Seq), Vec<String>>;

#[derive(Default)]
pub struct MemorySearch {
    inner: Mutex<HashMap<RoomId, RoomEntries>>,
}

#[async_trait]
impl SearchIndex for MemorySearch {
    async fn index(&self, entries: &[IndexEntry]) -> Vec<Result<(), StoreError>> {
        let mut g = lock(&self.inner);
        entries
            .iter()
            .map(|e| {
                let room = g.entry(e.room_id.clone()).or_default();
                room.retain(|(_, seq), _| *seq != e.seq);
                room.insert((e.sent_at, e.seq), e.terms.clone());
                Ok(())
            })
            .collect()
    }

    async fn remove(&self, room: &RoomId, seq: Seq) -> Result<(), StoreError> {
        if let Some(r) = lock(&self.inner).get_mut(room) {
            r.retain(|(_, s), _| *s != seq);
        }
        Ok(())
    }

    async fn search(
        &self,
        room: &RoomId,
        q: &SearchQuery,
        below: Option<&SearchKey>,
        limit: usize,
    ) -> Result<RoomMatches, StoreError> {
        let g = lock(&self.inner);
        let mut out = RoomMatches::default();
        let Some(entries) = g.get(room) else {
            return Ok(out);
        };
        let key = |(sent_at, seq): (Millis, Seq)| SearchKey {
            sent_at,
            room_id: room.clone(),
            seq,
        };
        for (&k, terms) in entries.iter().rev() {
            let k = key(k);
            if below.is_some_and(|b| &k >= b) || !q.matches(terms) {
                continue;
            }
            if out.hits.len() == limit {
                out.more_below = out.hits.last().cloned();
                break;
            }
            out.hits.push(k);
        }
        Ok(out)
    }
}
