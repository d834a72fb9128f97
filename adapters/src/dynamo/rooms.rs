use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    ConditionCheck, DeleteRequest, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, WriteRequest,
};
use chat_core::error::StoreError;
use chat_core::ids::{RoomId, Seq, UserId};
use chat_core::model::{Membership, ReceiptStatus, Room};
use chat_core::ports::RoomStore;
use tracing::warn;

use super::codec::{self, keys};
use super::{is_conditional, key, n, s, schema, sdk, Committed, Item, Table, MAX_TRANSACT};

/// Rooms (`ROOM#{id}`/`META`), memberships (`ROOM#{id}`/`MEMBER#{user}`,
/// user → rooms on GSI1) and the channel listing (GSI1 `CHANNELS`).
#[derive(Clone, Debug)]
pub struct DynamoRooms {
    table: Table,
}

/// How a transaction ended.
enum Txn {
    Done,
    /// The condition on the room's META failed: the room exists.
    RoomExists,
}

impl DynamoRooms {
    pub fn new(table: Table) -> Self {
        Self { table }
    }

    fn put(&self, item: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
        self.table.txn_put(item, condition)
    }

    fn room_absent(&self, room: &RoomId) -> Result<TransactWriteItem, StoreError> {
        Ok(TransactWriteItem::builder()
            .condition_check(
                ConditionCheck::builder()
                    .table_name(self.table.name())
                    .set_key(Some(key(keys::room(room), keys::META)))
                    .condition_expression("attribute_not_exists(PK)")
                    .build()
                    .map_err(StoreError::unavailable)?,
            )
            .build())
    }

    /// Runs a transaction whose first item is the condition on the room's
    /// META; a failure of that condition is [`Txn::RoomExists`].
    async fn transact(
        &self,
        room: &RoomId,
        items: Vec<TransactWriteItem>,
    ) -> Result<Txn, StoreError> {
        match self.table.transact(items).await? {
            Committed::Yes => Ok(Txn::Done),
            Committed::Cancelled(r)
                if r.first().and_then(Option::as_deref) == Some("ConditionalCheckFailed") =>
            {
                Ok(Txn::RoomExists)
            }
            // Cancelled without per-item reasons: ask the table.
            Committed::Cancelled(r) if r.is_empty() && self.get(room).await?.is_some() => {
                Ok(Txn::RoomExists)
            }
            Committed::Cancelled(r) => Err(StoreError::unavailable(format!(
                "transaction cancelled: {r:?}"
            ))),
        }
    }

    /// Deletes membership rows written by a create that did not commit.
    async fn roll_back(&self, room: &RoomId, written: &[Membership]) {
        let deletes: Result<Vec<WriteRequest>, StoreError> = written
            .iter()
            .map(|m| {
                Ok(WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .set_key(Some(key(keys::room(room), keys::member(&m.user_id))))
                            .build()
                            .map_err(StoreError::unavailable)?,
                    )
                    .build())
            })
            .collect();
        let failed = match deletes {
            Ok(d) => self
                .table
                .batch_write(d)
                .await
                .into_iter()
                .filter(Result::is_err)
                .count(),
            Err(_) => written.len(),
        };
        if failed > 0 {
            warn!(room_id = %room, failed, "could not roll back the members of an uncommitted room; they stay invisible without its META");
        }
    }

    async fn set_cursor(
        &self,
        room: &RoomId,
        user: &UserId,
        attr: &str,
        seq: Seq,
    ) -> Result<bool, StoreError> {
        let r = self
            .table
            .client
            .update_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::room(room), keys::member(user))))
            .condition_expression("attribute_exists(PK) AND #c < :s")
            .update_expression("SET #c = :s")
            .expression_attribute_names("#c", attr)
            .expression_attribute_values(":s", n(seq))
            .send()
            .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) if is_conditional(&e) => Ok(false),
            Err(e) => Err(sdk(e)),
        }
    }
}

#[async_trait]
impl RoomStore for DynamoRooms {
    async fn create(&self, room: &Room, members: &[Membership]) -> Result<bool, StoreError> {
        // One row per user, the first one named (as the in-memory twin does);
        // a transaction may not touch an item twice anyway.
        let mut seen = BTreeSet::new();
        let members: Vec<&Membership> =
            members.iter().filter(|m| seen.insert(&m.user_id)).collect();
        let meta = self.put(codec::room_item(room), Some("attribute_not_exists(PK)"))?;
        let member_put = |m: &Membership| self.put(codec::member_item(m), None);

        if members.len() < MAX_TRANSACT {
            let mut items = vec![meta];
            for m in &members {
                items.push(member_put(m)?);
            }
            return Ok(matches!(
                self.transact(&room.room_id, items).await?,
                Txn::Done
            ));
        }

        // Too many for one transaction: the rows beyond the first 99 first,
        // each chunk re-checking that the room is still absent, then META
        // with the first 99 as the commit point (see the module docs).
        if self.get(&room.room_id).await?.is_some() {
            return Ok(false);
        }
        let (head, tail) = members.split_at(MAX_TRANSACT - 1);
        let mut written: Vec<Membership> = Vec::new();
        for chunk in tail.chunks(MAX_TRANSACT - 1) {
            let mut items = vec![self.room_absent(&room.room_id)?];
            for m in chunk {
                items.push(member_put(m)?);
            }
            match self.transact(&room.room_id, items).await {
                Ok(Txn::Done) => written.extend(chunk.iter().map(|m| (*m).clone())),
                other => {
                    self.roll_back(&room.room_id, &written).await;
                    return other.map(|_| false);
                }
            }
        }
        let mut items = vec![meta];
        for m in head {
            items.push(member_put(m)?);
        }
        match self.transact(&room.room_id, items).await {
            Ok(Txn::Done) => Ok(true),
            other => {
                self.roll_back(&room.room_id, &written).await;
                other.map(|_| false)
            }
        }
    }

    async fn get(&self, id: &RoomId) -> Result<Option<Room>, StoreError> {
        let out = self
            .table
            .client
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::room(id), keys::META)))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        out.item.as_ref().map(codec::room).transpose()
    }

    async fn get_many(&self, ids: &[RoomId]) -> Result<Vec<Room>, StoreError> {
        let distinct: BTreeSet<&RoomId> = ids.iter().collect();
        let keys = distinct
            .into_iter()
            .map(|r| key(keys::room(r), keys::META))
            .collect();
        let mut rooms: Vec<Room> = self
            .table
            .batch_get(keys)
            .await?
            .iter()
            .map(codec::room)
            .collect::<Result<_, _>>()?;
        rooms.sort_by(|a, b| a.room_id.cmp(&b.room_id));
        Ok(rooms)
    }

    async fn membership(
        &self,
        room: &RoomId,
        user: &UserId,
    ) -> Result<Option<Membership>, StoreError> {
        let out = self
            .table
            .client
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::room(room), keys::member(user))))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        out.item.as_ref().map(codec::membership).transpose()
    }

    async fn members(&self, room: &RoomId) -> Result<Vec<Membership>, StoreError> {
        let q = self
            .table
            .client
            .query()
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(keys::room(room)))
            .expression_attribute_values(":prefix", s(keys::MEMBER_PREFIX))
            .consistent_read(true);
        self.table
            .query(q, None)
            .await?
            .iter()
            .map(codec::membership)
            .collect()
    }

    async fn rooms_of(&self, user: &UserId) -> Result<Vec<Membership>, StoreError> {
        let q = self
            .table
            .client
            .query()
            .index_name(schema::GSI1)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", schema::GSI1PK)
            .expression_attribute_names("#sk", schema::GSI1SK)
            .expression_attribute_values(":pk", s(keys::user(user)))
            .expression_attribute_values(":prefix", s(keys::ROOM_PREFIX));
        self.table
            .query(q, None)
            .await?
            .iter()
            .map(codec::membership)
            .collect()
    }

    async fn add_member(&self, m: &Membership) -> Result<bool, StoreError> {
        let r = self
            .table
            .client
            .put_item()
            .table_name(self.table.name())
            .set_item(Some(codec::member_item(m)))
            .condition_expression("attribute_not_exists(PK)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) if is_conditional(&e) => {
                // Exactly our row: our own put, retried after a lost answer.
                let existing = match e.into_service_error() {
                    PutItemError::ConditionalCheckFailedException(c) => c.item,
                    _ => None,
                };
                Ok(existing.is_some_and(|i| codec::membership(&i).ok().as_ref() == Some(m)))
            }
            Err(e) => Err(sdk(e)),
        }
    }

    async fn remove_member(&self, room: &RoomId, user: &UserId) -> Result<bool, StoreError> {
        let out = self
            .table
            .client
            .delete_item()
            .table_name(self.table.name())
            .set_key(Some(key(keys::room(room), keys::member(user))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(sdk)?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    async fn advance_cursor(
        &self,
        room: &RoomId,
        user: &UserId,
        status: ReceiptStatus,
        seq: Seq,
    ) -> Result<bool, StoreError> {
        // Two conditional updates, delivered first, so `read <= delivered`
        // holds at every instant; each only ever raises its cursor.
        let delivered = self.set_cursor(room, user, "deliveredSeq", seq).await?;
        match status {
            ReceiptStatus::Delivered => Ok(delivered),
            ReceiptStatus::Read => self.set_cursor(room, user, "readSeq", seq).await,
        }
    }

    async fn list_channels(&self, limit: usize) -> Result<Vec<Room>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let q = self
            .table
            .client
            .query()
            .index_name(schema::GSI1)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", schema::GSI1PK)
            .expression_attribute_values(":pk", s(keys::CHANNELS))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        self.table
            .query(q, Some(limit))
            .await?
            .iter()
            .map(codec::room)
            .collect()
    }
}
