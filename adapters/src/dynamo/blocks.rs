//! Blocks, in both users' partitions (`USER#{userId}`):
//!
//! | Item | `PK` | `SK` | attributes |
//! |---|---|---|---|
//! | Alice blocks Bob | `USER#alice` | `BLOCK#bob` | `createdAt` |
//! | reverse index | `USER#bob` | `BLOCKEDBY#alice` | `createdAt` |
//!
//! Both `SK`s begin with `BLOCK`, so one Query of a user's partition
//! (`begins_with(SK, "BLOCK")`) reads both directions: every check is one
//! read of one user. `block` writes the pair in one TransactWriteItems, the
//! `BLOCK#` put conditioned on `attribute_not_exists(PK)` (blocking again
//! cancels it and changes nothing); `unblock` deletes the pair in one
//! transaction, the `BLOCK#` delete conditioned on `attribute_exists(PK)`.
//! The limit is checked by the Query before the write, like the device
//! limit: two blocks racing at the limit may both land.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, TransactWriteItem};
use chat_core::block::{Block, Relations, MAX_BLOCKS};
use chat_core::error::StoreError;
use chat_core::ids::UserId;
use chat_core::ports::BlockStore;

use super::codec::{get_n, get_s, keys};
use super::{key, n, s, schema, Committed, Item, Table};

const BLOCK: &str = "BLOCK#";
const BLOCKED_BY: &str = "BLOCKEDBY#";
/// The prefix both kinds of item share.
const EITHER: &str = "BLOCK";

#[derive(Clone, Debug)]
pub struct DynamoBlocks {
    table: Table,
}

impl DynamoBlocks {
    pub fn new(table: Table) -> Self {
        Self { table }
    }

    fn delete(
        &self,
        pk: String,
        sk: String,
        condition: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        Ok(TransactWriteItem::builder()
            .delete(
                Delete::builder()
                    .table_name(self.table.name())
                    .set_key(Some(key(pk, sk)))
                    .set_condition_expression(condition.map(str::to_owned))
                    .build()
                    .map_err(StoreError::unavailable)?,
            )
            .build())
    }
}

fn item(pk: String, sk: String, kind: &str, created_at: i64) -> Item {
    let mut item = key(pk, sk);
    item.insert("type".into(), s(kind));
    item.insert("createdAt".into(), n(created_at));
    item
}

/// The user id after `prefix` in an item's `SK`.
fn other(item: &Item, prefix: &str) -> Result<UserId, StoreError> {
    let sk = get_s(item, schema::SK)?;
    let raw = sk
        .strip_prefix(prefix)
        .ok_or_else(|| StoreError::Corrupt(format!("block item SK {sk}")))?;
    UserId::parse(raw).map_err(|e| StoreError::Corrupt(format!("block item SK {sk}: {e}")))
}

#[async_trait]
impl BlockStore for DynamoBlocks {
    async fn block(&self, block: &Block) -> Result<bool, StoreError> {
        let mine = self.relations(&block.user_id).await?;
        if mine.blocks.contains_key(&block.target_id) || mine.blocks.len() >= MAX_BLOCKS {
            return Ok(false);
        }
        let items = vec![
            self.table.txn_put(
                item(
                    keys::user(&block.user_id),
                    format!("{BLOCK}{}", block.target_id),
                    "block",
                    block.created_at,
                ),
                Some("attribute_not_exists(PK)"),
            )?,
            self.table.txn_put(
                item(
                    keys::user(&block.target_id),
                    format!("{BLOCKED_BY}{}", block.user_id),
                    "blockedBy",
                    block.created_at,
                ),
                None,
            )?,
        ];
        Ok(matches!(self.table.transact(items).await?, Committed::Yes))
    }

    async fn unblock(&self, user: &UserId, target: &UserId) -> Result<bool, StoreError> {
        let items = vec![
            self.delete(
                keys::user(user),
                format!("{BLOCK}{target}"),
                Some("attribute_exists(PK)"),
            )?,
            self.delete(keys::user(target), format!("{BLOCKED_BY}{user}"), None)?,
        ];
        Ok(matches!(self.table.transact(items).await?, Committed::Yes))
    }

    async fn relations(&self, user: &UserId) -> Result<Relations, StoreError> {
        let q = self
            .table
            .client
            .query()
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", schema::PK)
            .expression_attribute_names("#sk", schema::SK)
            .expression_attribute_values(":pk", s(keys::user(user)))
            .expression_attribute_values(":prefix", s(EITHER))
            .consistent_read(true);
        let mut out = Relations::default();
        for it in self.table.query(q, None).await? {
            let sk = get_s(&it, schema::SK)?;
            if sk.starts_with(BLOCKED_BY) {
                out.blocked_by.insert(other(&it, BLOCKED_BY)?);
            } else {
                let target = other(&it, BLOCK)?;
                out.blocks.insert(
                    target.clone(),
                    Block {
                        user_id: user.clone(),
                        target_id: target,
                        created_at: get_n(&it, "createdAt")?,
                    },
                );
            }
        }
        Ok(out)
    }
}
