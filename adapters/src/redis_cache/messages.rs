use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use chat_core::error::StoreError;
use chat_core::ids::{RoomId, Seq};
use chat_core::model::{Message, MessageDraft, Reservation, SeqFate};
use chat_core::ports::{MessageStore, RangeQuery};

use super::RedisCache;

/// Keeps a window of each room's newest stored messages (see the module
/// docs) and answers `range` and `latest` from it when the answer is provably
/// the inner store's. Sequence allocation always goes to the inner store.
#[derive(Clone)]
pub struct CachedMessages {
    inner: Arc<dyn MessageStore>,
    cache: RedisCache,
}

/// `q` answered from a window holding every stored message with
/// `seq >= floor` (ascending), or `None` when the window cannot know.
fn answer(floor: Seq, window: &[Message], q: &RangeQuery) -> Option<Vec<Message>> {
    let lo = q.after.map_or(0, |a| a.saturating_add(1));
    let hi = q.before.unwrap_or(Seq::MAX);
    if lo >= hi || q.limit == 0 {
        return Some(Vec::new());
    }
    let hits: Vec<&Message> = window
        .iter()
        .filter(|m| m.seq >= lo && m.seq < hi)
        .collect();
    // Every stored message of the range is in the window.
    let complete = lo >= floor;
    let picked: &[&Message] = if q.newest_first {
        // Enough hits: older messages below the floor cannot be newer than them.
        if !complete && hits.len() < q.limit {
            return None;
        }
        &hits[hits.len().saturating_sub(q.limit)..]
    } else {
        if !complete {
            return None;
        }
        &hits[..hits.len().min(q.limit)]
    };
    Some(picked.iter().map(|m| (*m).clone()).collect())
}

fn entries(ms: &[Message]) -> Vec<(u64, String)> {
    ms.iter()
        .filter_map(|m| serde_json::to_string(m).ok().map(|j| (m.seq, j)))
        .collect()
}

impl CachedMessages {
    pub fn new(inner: Arc<dyn MessageStore>, cache: RedisCache) -> Self {
        Self { inner, cache }
    }

    fn key(&self, room: &RoomId) -> String {
        self.cache.key("recent", room.as_str())
    }
}

#[async_trait]
impl MessageStore for CachedMessages {
    async fn reserve(&self, draft: MessageDraft) -> Result<Reservation, StoreError> {
        self.inner.reserve(draft).await
    }

    // Single messages and threads are not cached: read where they are.
    async fn get(&self, room: &RoomId, seq: Seq) -> Result<Option<Message>, StoreError> {
        self.inner.get(room, seq).await
    }

    async fn replies(
        &self,
        room: &RoomId,
        target: Seq,
        after: Option<Seq>,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        self.inner.replies(room, target, after, limit).await
    }

    async fn last_seq(&self, room: &RoomId) -> Result<Seq, StoreError> {
        self.inner.last_seq(room).await
    }

    async fn settle(&self, room: &RoomId, seq: Seq) -> Result<SeqFate, StoreError> {
        self.inner.settle(room, seq).await
    }

    async fn put_batch(&self, messages: &[Message]) -> Vec<Result<(), StoreError>> {
        let outcomes = self.inner.put_batch(messages).await;
        let mut stored: BTreeMap<&RoomId, Vec<Message>> = BTreeMap::new();
        for (m, r) in messages.iter().zip(&outcomes) {
            if r.is_ok() {
                stored.entry(&m.room_id).or_default().push(m.clone());
            }
        }
        for (room, ms) in stored {
            self.cache
                .add_to_window(&self.key(room), &entries(&ms))
                .await;
        }
        outcomes
    }

    async fn range(&self, room: &RoomId, q: RangeQuery) -> Result<Vec<Message>, StoreError> {
        let key = self.key(room);
        match self.cache.read_window(&key).await {
            None => self.inner.range(room, q).await,
            Some((Some(floor), _, members)) => {
                let window: Option<Vec<Message>> = members
                    .iter()
                    .map(|m| serde_json::from_str(m).ok())
                    .collect();
                match window.and_then(|w| answer(floor, &w, &q)) {
                    Some(hit) => Ok(hit),
                    None => self.inner.range(room, q).await,
                }
            }
            // No window: a newest-first read loads it.
            Some((None, gen, _)) if q.newest_first => {
                let cap = self.cache.recent_cap();
                let newest = self
                    .inner
                    .range(
                        room,
                        RangeQuery {
                            after: None,
                            before: None,
                            limit: cap,
                            newest_first: true,
                        },
                    )
                    .await?;
                let floor = if newest.len() < cap { 0 } else { newest[0].seq };
                self.cache
                    .fill_window(&key, &gen, floor, &entries(&newest))
                    .await;
                match answer(floor, &newest, &q) {
                    Some(hit) => Ok(hit),
                    None => self.inner.range(room, q).await,
                }
            }
            Some((None, _, _)) => self.inner.range(room, q).await,
        }
    }

    async fn latest(&self, rooms: &[RoomId]) -> Result<Vec<Message>, StoreError> {
        let keys: Vec<String> = rooms.iter().map(|r| self.key(r)).collect();
        let Some(heads) = self.cache.window_heads(&keys).await else {
            return self.inner.latest(rooms).await;
        };
        let mut known: HashMap<&RoomId, Option<Message>> = HashMap::new();
        let mut missing: Vec<RoomId> = Vec::new();
        for (room, (exists, head)) in rooms.iter().zip(heads) {
            let decoded = head.as_deref().map(serde_json::from_str::<Message>);
            match (exists, decoded) {
                (true, None) => {
                    known.insert(room, None);
                }
                (true, Some(Ok(m))) => {
                    known.insert(room, Some(m));
                }
                _ => {
                    if !missing.contains(room) {
                        missing.push(room.clone());
                    }
                }
            }
        }
        let mut loaded: HashMap<RoomId, Message> = HashMap::new();
        if !missing.is_empty() {
            for m in self.inner.latest(&missing).await? {
                loaded.insert(m.room_id.clone(), m);
            }
        }
        Ok(rooms
            .iter()
            .filter_map(|r| match known.get(r) {
                Some(m) => m.clone(),
                None => loaded.get(r).cloned(),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::contract;

    fn window(seqs: &[u64]) -> Vec<Message> {
        let (r, u) = (contract::room_id(), contract::user("u"));
        seqs.iter()
            .map(|&s| contract::draft(&r, &u, &format!("c{s}"), "m").with_seq(s))
            .collect()
    }

    fn q(after: Option<u64>, before: Option<u64>, limit: usize, newest_first: bool) -> RangeQuery {
        RangeQuery {
            after,
            before,
            limit,
            newest_first,
        }
    }

    fn seqs(ms: Option<Vec<Message>>) -> Option<Vec<u64>> {
        ms.map(|ms| ms.iter().map(|m| m.seq).collect())
    }

    #[test]
    fn a_window_answers_only_what_it_provably_holds() {
        // Everything stored from seq 10 on: 10, 11, 13 (12 was never stored).
        let w = window(&[10, 11, 13]);
        assert_eq!(
            seqs(answer(10, &w, &q(None, None, 2, true))),
            Some(vec![11, 13])
        );
        assert_eq!(
            seqs(answer(10, &w, &q(None, None, 3, true))),
            Some(vec![10, 11, 13])
        );
        // Four newest need one from below the floor.
        assert_eq!(seqs(answer(10, &w, &q(None, None, 4, true))), None);
        // Oldest-first reads must start at or above the floor.
        assert_eq!(
            seqs(answer(10, &w, &q(Some(9), None, 5, false))),
            Some(vec![10, 11, 13])
        );
        assert_eq!(seqs(answer(10, &w, &q(Some(8), None, 5, false))), None);
        assert_eq!(
            seqs(answer(10, &w, &q(Some(10), Some(13), 5, true))),
            Some(vec![11])
        );
        // Floor 0: the whole room, even when short.
        let all = window(&[1, 2]);
        assert_eq!(
            seqs(answer(0, &all, &q(None, None, 51, true))),
            Some(vec![1, 2])
        );
        assert_eq!(seqs(answer(0, &[], &q(None, None, 51, true))), Some(vec![]));
        assert_eq!(
            seqs(answer(10, &w, &q(Some(5), Some(5), 5, true))),
            Some(vec![])
        );
    }
}
