//! Edits, deletes and reactions ([`chat_core::changes`]): the room's change
//! counter (`ROOM#{r}`/`CHANGE`), each changed message's state
//! (`MSGX#{r}`/`{seq:020}`) and the room's change log
//! (`CHGS#{r}`/`{change:020}`).
//!
//! A commit is one TransactWriteItems of three items: an Update of the
//! counter on condition that it holds the previous number (absent for the
//! first change), a Put of the state and a Put of the log entry (on
//! condition that the number is new). The counter's condition serialises the
//! room's changes: of two changers that read the same counter, one commits
//! and the other's transaction is cancelled (`false`; the domain reads again
//! and retries). Every read is strongly consistent and on the table, never
//! on the index, so a change `c` is never seen before `c - 1`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use chat_core::changes::{Change, MessageState};
use chat_core::error::StoreError;
use chat_core::ids::{RoomId, Seq};
use chat_core::ports::MessageChanges;

use super::codec::keys;
use super::{key, n, s, sdk, Committed, Item, Table};

const CHANGE: &str = "CHANGE";

fn states_pk(r: &RoomId) -> String {
    format!("MSGX#{r}")
}

fn log_pk(r: &RoomId) -> String {
    format!("CHGS#{r}")
}

fn item(pk: String, sk: String, state: &MessageState) -> Result<Item, StoreError> {
    let json = serde_json::to_string(state).map_err(StoreError::unavailable)?;
    let mut item = key(pk, sk);
    item.insert("type".into(), s("messageState"));
    item.insert("change".into(), n(state.change));
    item.insert("state".into(), s(json));
    Ok(item)
}

fn decode(item: &Item) -> Result<MessageState, StoreError> {
    let raw = super::codec::get_s(item, "state")?;
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("state: {e}")))
}

#[derive(Clone, Debug)]
pub struct DynamoChanges {
    table: Table,
}

impl DynamoChanges {
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
}

#[async_trait]
impl MessageChanges for DynamoChanges {
    async fn last_change(&self, room: &RoomId) -> Result<Change, StoreError> {
        match self.get_item(key(keys::room(room), CHANGE)).await? {
            Some(item) => super::codec::get_n(&item, "change"),
            None => Ok(0),
        }
    }

    async fn state(&self, room: &RoomId, seq: Seq) -> Result<Option<MessageState>, StoreError> {
        self.get_item(key(states_pk(room), keys::seq(seq)))
            .await?
            .as_ref()
            .map(decode)
            .transpose()
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
        let q = self
            .table
            .client
            .query()
            .key_condition_expression("PK = :pk AND SK BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(states_pk(room)))
            .expression_attribute_values(":lo", s(keys::seq(lo)))
            .expression_attribute_values(":hi", s(keys::seq(hi)))
            .consistent_read(true);
        self.table
            .query(q, None)
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    async fn commit(&self, state: &MessageState) -> Result<bool, StoreError> {
        let Some(prev) = state.change.checked_sub(1) else {
            return Ok(false);
        };
        let room = &state.room_id;
        let condition = if prev == 0 {
            "attribute_not_exists(#c)"
        } else {
            "#c = :prev"
        };
        let mut counter = Update::builder()
            .table_name(self.table.name())
            .set_key(Some(key(keys::room(room), CHANGE)))
            .update_expression("SET #c = :next")
            .condition_expression(condition)
            .expression_attribute_names("#c", "change")
            .expression_attribute_values(":next", n(state.change));
        if prev != 0 {
            counter = counter.expression_attribute_values(":prev", n(prev));
        }
        let items = vec![
            TransactWriteItem::builder()
                .update(counter.build().map_err(StoreError::unavailable)?)
                .build(),
            self.table
                .txn_put(item(states_pk(room), keys::seq(state.seq), state)?, None)?,
            self.table.txn_put(
                item(log_pk(room), keys::seq(state.change), state)?,
                Some("attribute_not_exists(PK)"),
            )?,
        ];
        Ok(match self.table.transact(items).await? {
            Committed::Yes => true,
            Committed::Cancelled(_) => false,
        })
    }

    async fn changes_after(
        &self,
        room: &RoomId,
        after: Change,
        limit: usize,
    ) -> Result<Vec<MessageState>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let q = self
            .table
            .client
            .query()
            .key_condition_expression("PK = :pk AND SK > :after")
            .expression_attribute_values(":pk", s(log_pk(room)))
            .expression_attribute_values(":after", s(keys::seq(after)))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .consistent_read(true);
        self.table
            .query(q, Some(limit))
            .await?
            .iter()
            .map(decode)
            .collect()
    }
}
