use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use chat_core::error::{chain, StoreError};
use chat_core::ids::{RoomId, Seq};
use chat_core::model::{Message, MessageDraft, Reservation, SeqFate};
use chat_core::ports::{MessageStore, RangeQuery};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::codec::{self, keys};
use super::{
    is_conditional, key, n, put_request, s, schema, sdk, Committed, Item, Table, QUERY_CONCURRENCY,
};

/// Sequence counters (`ROOM#{id}`/`SEQ`), idempotency reservations
/// (`ROOM#{id}`/`CMID#…`) and the history (`MSGS#{id}`/`{seq:020}`).
#[derive(Clone, Debug)]
pub struct DynamoMessages {
    table: Table,
}

/// How many seqs one reservation counts before giving up: another is only
/// needed when `settle` burned the previous one in the instant between.
const CLAIM_ATTEMPTS: usize = 3;

enum Claim {
    Won,
    Lost,
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl DynamoMessages {
    pub fn new(table: Table) -> Self {
        Self { table }
    }

    async fn get_item(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .table
            .client
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        Ok(out.item.filter(|i| !i.is_empty()))
    }

    /// `ADD seq :1` on the room's counter: atomic, never repeats a value.
    async fn next_seq(&self, room: &RoomId) -> Result<Seq, StoreError> {
        let out = self
            .table
            .client
            .update_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::room(room), keys::SEQ)))
            .update_expression("ADD #s :one")
            .expression_attribute_names("#s", "seq")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(sdk)?;
        codec::get_n(&out.attributes.unwrap_or_default(), "seq")
    }

    /// One transaction: the idempotency claim and the seq's slot, each on
    /// condition that it does not exist. [`Claim::Lost`] when either did.
    async fn claim(&self, message: &Message) -> Result<Claim, StoreError> {
        let now = now_secs();
        let absent = Some("attribute_not_exists(PK)");
        let items = vec![
            self.table
                .txn_put(codec::reservation_item(message, now), absent)?,
            self.table.txn_put(codec::slot_item(message, now), absent)?,
        ];
        Ok(match self.table.transact(items).await? {
            Committed::Yes => Claim::Won,
            Committed::Cancelled(_) => Claim::Lost,
        })
    }

    async fn newest(&self, room: &RoomId) -> Result<Option<Message>, StoreError> {
        let q = self
            .table
            .client
            .query()
            .key_condition_expression("PK = :pk")
            .expression_attribute_values(":pk", s(keys::msgs(room)))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true);
        self.table
            .query(q, Some(1))
            .await?
            .first()
            .map(codec::message)
            .transpose()
    }
}

#[async_trait]
impl MessageStore for DynamoMessages {
    async fn reserve(&self, draft: MessageDraft) -> Result<Reservation, StoreError> {
        // Read and count at once, then claim: see the module docs for why
        // and for the races.
        let claim_key = key(
            keys::room(&draft.room_id),
            keys::cmid(&draft.sender_id, &draft.client_msg_id),
        );
        let (existing, first_seq) = tokio::try_join!(
            self.get_item(claim_key.clone()),
            self.next_seq(&draft.room_id)
        )?;
        if let Some(existing) = existing {
            tracing::debug!(room_id = %draft.room_id, burned_seq = first_seq, "a resend: the seq counted alongside is left unused");
            return Ok(Reservation::Duplicate(codec::message(&existing)?));
        }
        let mut counted = Some(first_seq);
        for _ in 0..CLAIM_ATTEMPTS {
            let seq = match counted.take() {
                Some(seq) => seq,
                None => self.next_seq(&draft.room_id).await?,
            };
            let message = draft.clone().with_seq(seq);
            match self.claim(&message).await? {
                Claim::Won => return Ok(Reservation::New(message)),
                Claim::Lost => {}
            }
            // The claim or the seq's slot was taken: which one?
            match self.get_item(claim_key.clone()).await? {
                Some(winner) => {
                    let winner = codec::message(&winner)?;
                    if winner.message_id == message.message_id && winner.seq == seq {
                        // Our own transaction, retried by the SDK after its
                        // answer was lost (the token made the retry a no-op).
                        return Ok(Reservation::New(message));
                    }
                    tracing::debug!(room_id = %message.room_id, burned_seq = seq, "lost a reservation race");
                    return Ok(Reservation::Duplicate(winner));
                }
                // `settle` burned this seq between our count and our claim.
                None => {
                    tracing::debug!(room_id = %message.room_id, burned_seq = seq, "seq settled as burned before the claim; counting again")
                }
            }
        }
        Err(StoreError::unavailable(
            "every seq counted for this reservation was burned before its claim",
        ))
    }

    async fn settle(&self, room: &RoomId, seq: Seq) -> Result<SeqFate, StoreError> {
        let burned = self
            .table
            .client
            .put_item()
            .table_name(self.table.name())
            .set_item(Some(codec::burned_item(room, seq, now_secs())))
            .condition_expression("attribute_not_exists(PK)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let slot = match burned {
            Ok(_) => return Ok(SeqFate::Burned),
            Err(e) if is_conditional(&e) => {
                let old = match e.into_service_error() {
                    PutItemError::ConditionalCheckFailedException(c) => c.item,
                    _ => None,
                };
                match old.filter(|i| !i.is_empty()) {
                    Some(item) => item,
                    None => self
                        .get_item(key(keys::slots(room), keys::seq(seq)))
                        .await?
                        .ok_or_else(|| StoreError::unavailable("a seq's slot vanished"))?,
                }
            }
            Err(e) => return Err(sdk(e)),
        };
        if codec::is_burned(&slot) {
            Ok(SeqFate::Burned)
        } else {
            Ok(SeqFate::Reserved(codec::message(&slot)?))
        }
    }

    async fn last_seq(&self, room: &RoomId) -> Result<Seq, StoreError> {
        match self.get_item(key(keys::room(room), keys::SEQ)).await? {
            Some(item) => codec::get_n(&item, "seq"),
            None => Ok(0),
        }
    }

    async fn put_batch(&self, messages: &[Message]) -> Vec<Result<(), StoreError>> {
        // BatchWriteItem refuses a key twice in one call: write each distinct
        // (room, seq) once and give every copy its outcome.
        let mut slot_of: HashMap<(&RoomId, Seq), usize> = HashMap::new();
        let mut distinct: Vec<&Message> = Vec::new();
        let mut slots = Vec::with_capacity(messages.len());
        for m in messages {
            let slot = *slot_of.entry((&m.room_id, m.seq)).or_insert_with(|| {
                distinct.push(m);
                distinct.len() - 1
            });
            slots.push(slot);
        }
        let requests: Result<Vec<_>, StoreError> = distinct
            .iter()
            .map(|m| put_request(codec::message_item(m)))
            .collect();
        let requests = match requests {
            Ok(r) => r,
            Err(e) => {
                let why = chain(&e);
                return messages
                    .iter()
                    .map(|_| Err(StoreError::unavailable(why.clone())))
                    .collect();
            }
        };
        let outcomes = self.table.batch_write(requests).await;
        slots
            .into_iter()
            .map(|i| match &outcomes[i] {
                Ok(()) => Ok(()),
                Err(e) => Err(StoreError::unavailable(chain(e))),
            })
            .collect()
    }

    async fn range(&self, room: &RoomId, q: RangeQuery) -> Result<Vec<Message>, StoreError> {
        let lo = q.after.map_or(0, |a| a.saturating_add(1));
        let hi = q.before.unwrap_or(Seq::MAX);
        if lo >= hi || q.limit == 0 {
            return Ok(Vec::new());
        }
        let query = self
            .table
            .client
            .query()
            .key_condition_expression("PK = :pk AND SK BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(keys::msgs(room)))
            .expression_attribute_values(":lo", s(keys::seq(lo)))
            .expression_attribute_values(":hi", s(keys::seq(hi - 1)))
            .scan_index_forward(!q.newest_first)
            .limit(i32::try_from(q.limit).unwrap_or(i32::MAX))
            .consistent_read(true);
        let mut out: Vec<Message> = self
            .table
            .query(query, Some(q.limit))
            .await?
            .iter()
            .map(codec::message)
            .collect::<Result<_, _>>()?;
        if q.newest_first {
            out.reverse();
        }
        Ok(out)
    }

    async fn get(&self, room: &RoomId, seq: Seq) -> Result<Option<Message>, StoreError> {
        self.get_item(key(keys::msgs(room), keys::seq(seq)))
            .await?
            .as_ref()
            .map(codec::message)
            .transpose()
    }

    async fn replies(
        &self,
        room: &RoomId,
        target: Seq,
        after: Option<Seq>,
        limit: usize,
    ) -> Result<Vec<Message>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let lo = after.map_or(0, |a| a.saturating_add(1));
        let q = self
            .table
            .client
            .query()
            .index_name(schema::GSI1)
            .key_condition_expression("#pk = :pk AND #sk >= :lo")
            .expression_attribute_names("#pk", schema::GSI1PK)
            .expression_attribute_names("#sk", schema::GSI1SK)
            .expression_attribute_values(":pk", s(keys::thread(room, target)))
            .expression_attribute_values(":lo", s(keys::seq(lo)))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        self.table
            .query(q, Some(limit))
            .await?
            .iter()
            .map(codec::message)
            .collect()
    }

    async fn latest(&self, rooms: &[RoomId]) -> Result<Vec<Message>, StoreError> {
        let newest: Vec<Option<Message>> = stream::iter(rooms.to_vec())
            .map(|r| async move { self.newest(&r).await })
            .buffered(QUERY_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(newest.into_iter().flatten().collect())
    }
}
