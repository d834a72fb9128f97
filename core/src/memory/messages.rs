use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::error::StoreError;
use crate::ids::{ClientMsgId, RoomId, Seq, UserId};
use crate::model::{Message, MessageDraft, Reservation, SeqFate};
use crate::ports::{MessageStore, RangeQuery};

#[derive(Default)]
struct Inner {
    counters: HashMap<RoomId, Seq>,
    reservations: HashMap<(RoomId, UserId, ClientMsgId), Message>,
    /// Per room, what each allocated seq became: `Some` the message reserved
    /// at it, `None` burned by [`MessageStore::settle`].
    slots: HashMap<RoomId, BTreeMap<Seq, Option<Message>>>,
    stored: HashMap<RoomId, BTreeMap<Seq, Message>>,
}

#[derive(Default)]
pub struct MemoryMessages {
    inner: Mutex<Inner>,
}

impl MemoryMessages {
    /// Allocates the room's next seq without reserving it, as a reservation
    /// that lost a race in DynamoDB leaves one; returns it.
    pub fn skip_seq(&self, room: &RoomId) -> Seq {
        let mut g = lock(&self.inner);
        let counter = g.counters.entry(room.clone()).or_insert(0);
        *counter += 1;
        *counter
    }

    /// Turns the stored message at `seq` into what a delete leaves (no body,
    /// no attachments; [`crate::replies::is_tombstone`]); `false` when none
    /// is stored there. For tests of readers of tombstones: the protocol's
    /// own delete goes through the store's port.
    pub fn tombstone(&self, room: &RoomId, seq: Seq) -> bool {
        let mut g = lock(&self.inner);
        match g.stored.get_mut(room).and_then(|m| m.get_mut(&seq)) {
            Some(m) => {
                m.body = crate::ids::MessageBody::empty();
                m.attachments.clear();
                m.sealed = None;
                true
            }
            None => false,
        }
    }

    /// How many messages are stored in all rooms.
    pub fn stored_count(&self) -> usize {
        lock(&self.inner).stored.values().map(BTreeMap::len).sum()
    }
}

#[async_trait]
impl MessageStore for MemoryMessages {
    async fn reserve(&self, draft: MessageDraft) -> Result<Reservation, StoreError> {
        let mut g = lock(&self.inner);
        let key = (
            draft.room_id.clone(),
            draft.sender_id.clone(),
            draft.client_msg_id.clone(),
        );
        let Inner {
            counters,
            slots,
            reservations,
            ..
        } = &mut *g;
        // Counted before the claim is read, as DynamoDB does both at once: a
        // resend leaves the seq it counted unused.
        let counter = counters.entry(draft.room_id.clone()).or_insert(0);
        *counter += 1;
        if let Some(existing) = reservations.get(&key) {
            return Ok(Reservation::Duplicate(existing.clone()));
        }
        let slots = slots.entry(draft.room_id.clone()).or_default();
        // A seq settled as burned is never taken (in DynamoDB the claim fails
        // on its slot and the reservation counts again).
        while matches!(slots.get(&*counter), Some(None)) {
            *counter += 1;
        }
        let message = draft.with_seq(*counter);
        g.reservations.insert(key, message.clone());
        g.slots
            .entry(message.room_id.clone())
            .or_default()
            .insert(message.seq, Some(message.clone()));
        Ok(Reservation::New(message))
    }

    async fn settle(&self, room: &RoomId, seq: Seq) -> Result<SeqFate, StoreError> {
        let mut g = lock(&self.inner);
        let slot = g
            .slots
            .entry(room.clone())
            .or_default()
            .entry(seq)
            .or_insert(None);
        Ok(match slot {
            Some(m) => SeqFate::Reserved(m.clone()),
            None => SeqFate::Burned,
        })
    }

    async fn last_seq(&self, room: &RoomId) -> Result<Seq, StoreError> {
        Ok(lock(&self.inner).counters.get(room).copied().unwrap_or(0))
    }

    async fn put_batch(&self, messages: &[Message]) -> Vec<Result<(), StoreError>> {
        messages
            .iter()
            .map(|m| {
                let mut g = lock(&self.inner);
                g.stored
                    .entry(m.room_id.clone())
                    .or_default()
                    .entry(m.seq)
                    .or_insert_with(|| m.clone());
                Ok(())
            })
            .collect()
    }

    async fn range(&self, room: &RoomId, q: RangeQuery) -> Result<Vec<Message>, StoreError> {
        let g = lock(&self.inner);
        let Some(msgs) = g.stored.get(room) else {
            return Ok(Vec::new());
        };
        let lo = q.after.map_or(0, |a| a.saturating_add(1));
        let hi = q.before.unwrap_or(Seq::MAX);
        if lo >= hi {
            return Ok(Vec::new());
        }
        let range = msgs.range(lo..hi).map(|(_, m)| m.clone());
        let mut out: Vec<Message> = if q.newest_first {
            range.rev().take(q.limit).collect()
        } else {
            range.take(q.limit).collect()
        };
        if q.newest_first {
            out.reverse();
        }
        Ok(out)
    }

    async fn latest(&self, rooms: &[RoomId]) -> Result<Vec<Message>, StoreError> {
        let g = lock(&self.inner);
        Ok(rooms
            .iter()
            .filter_map(|r| {
                g.stored
                    .get(r)
                    .and_then(|m| m.last_key_value())
                    .map(|(_, m)| m.clone())
            })
            .collect())
    }

    async fn replies(
        &self,
        room: &RoomId,
        target: Seq,
        after: Option<Seq>,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        let g = lock(&self.inner);
        let Some(msgs) = g.stored.get(room) else {
            return Ok(Vec::new());
        };
        let lo = after.map_or(0, |a| a.saturating_add(1));
        Ok(msgs
            .range(lo..)
            .map(|(_, m)| m)
            .filter(|m| m.reply_to.as_ref().is_some_and(|r| r.seq == target))
            .take(limit)
            .cloned()
            .collect())
    }
}
