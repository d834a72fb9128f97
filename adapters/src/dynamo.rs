//! The four stores and the search index over one DynamoDB table.
//!
//! # Key design
//!
//! One table (created by the CDK stack, and by [`create_table`] for tests and
//! the local platform): partition key `PK` (S), sort key `SK` (S), one global
//! secondary index `GSI1` (`GSI1PK`/`GSI1SK`, projection ALL), TTL attribute
//! `expiresAt` (epoch seconds). Every item also carries `type`.
//!
//! | Item | `PK` | `SK` | `GSI1PK` | `GSI1SK` | TTL |
//! |---|---|---|---|---|---|
//! | room | `ROOM#{roomId}` | `META` | `CHANNELS` (channels only) | `{createdAt:020}#{roomId}` | |
//! | seq counter | `ROOM#{roomId}` | `SEQ` | | | |
//! | membership | `ROOM#{roomId}` | `MEMBER#{userId}` | `USER#{userId}` | `ROOM#{roomId}` | |
//! | idempotency key | `ROOM#{roomId}` | `CMID#{userId}#{clientMsgId}` | | | 30 days |
//! | message | `MSGS#{roomId}` | `{seq:020}` | | | |
//! | message that replies to `target` | `MSGS#{roomId}` | `{seq:020}` | `THRD#{roomId}#{target:020}` | `{seq:020}` | |
//! | change counter | `ROOM#{roomId}` | `CHANGE` | | | |
//! | message state (edits, tombstone, reactions) | `MSGX#{roomId}` | `{seq:020}` | | | |
//! | change log entry | `CHGS#{roomId}` | `{change:020}` | | | |
//! | seq slot (`slot` or `burned`) | `SEQS#{roomId}` | `{seq:020}` | | | 30 days |
//! | connection | `CONN#{connectionId}` | `META` | `USER#{userId}` | `CONN#{connectionId}` | presence + 2 h |
//! | profile | `USER#{userId}` | `PROFILE` | | | |
//! | search entry | `SRCH#{roomId}#{prefix}` | `{sentAt:020}#{seq:020}` | | | |
//! | search manifest | `SRCHM#{roomId}` | `{seq:020}` | | | |
//! | push device | `USER#{userId}` | `DEVICE#{deviceId}` | | | |
//! | notification policy | `USER#{userId}` | `NOTIFYPOLICY` | | | |
//! | notification window | `USER#{userId}` | `NOTIFYWIN#{roomId}` | | | a day after it closes |
//! | block (`userId` blocks `targetId`) | `USER#{userId}` | `BLOCK#{targetId}` | | | |
//! | block, reverse index | `USER#{targetId}` | `BLOCKEDBY#{userId}` | | | |
//! | device key of encrypted rooms | `USER#{userId}` | `E2EKEY#{deviceId}` | | | |
//! | claimed ciphertext (replay guard) | `ROOM#{roomId}` | `SEAL#{sha256}` | | | |
//!
//! User ids and client message ids cannot contain `#` (see
//! [`chat_core::ids`]), so `CMID#{userId}#{clientMsgId}` is unambiguous.
//! Numbers are zero-padded to 20 digits so string order is numeric order.
//!
//! # Access patterns
//!
//! Nothing scans the table: every read is a GetItem, a BatchGetItem or a Query
//! on one partition.
//!
//! | Port method | Served by |
//! |---|---|
//! | `ConnectionStore::put` / `get` / `touch` / `delete` | PutItem / GetItem / conditional UpdateItem / DeleteItem (`ALL_OLD`) on `CONN#{id}`,`META` |
//! | `ConnectionStore::for_users` (fan-out, presence) | one Query per distinct user on GSI1 `GSI1PK=USER#{u}`, `begins_with(GSI1SK, "CONN#")` |
//! | `RoomStore::create` | TransactWriteItems: META (condition `attribute_not_exists`) + members (see below) |
//! | `RoomStore::get` / `get_many` | GetItem / BatchGetItem on `ROOM#{id}`,`META` |
//! | `RoomStore::membership` / `add_member` / `remove_member` | GetItem / conditional PutItem / DeleteItem on `ROOM#{r}`,`MEMBER#{u}` |
//! | `RoomStore::members` (room → members) | Query `PK=ROOM#{r}`, `begins_with(SK, "MEMBER#")` |
//! | `RoomStore::rooms_of` (user → rooms) | Query GSI1 `GSI1PK=USER#{u}`, `begins_with(GSI1SK, "ROOM#")` |
//! | `RoomStore::advance_cursor` | UpdateItem `SET x = :s` with condition `x < :s` |
//! | `RoomStore::list_channels` | Query GSI1 `GSI1PK=CHANNELS`, newest first, `Limit` |
//! | `MessageStore::reserve` | GetItem `CMID#…` and UpdateItem `ADD seq` on `SEQ` at once, then TransactWriteItems: `CMID#…` + `SEQS#…` slot, both conditional |
//! | `MessageStore::settle` | conditional PutItem of a `burned` slot (`ALL_OLD` on failure) |
//! | `MessageStore::last_seq` | GetItem `SEQ` |
//! | `MessageStore::put_batch` | BatchWriteItem (25 per call, `UnprocessedItems` retried with backoff) |
//! | `MessageStore::range` | Query `PK=MSGS#{r}`, `SK BETWEEN`, `ScanIndexForward`, `Limit` |
//! | `MessageStore::latest` | one Query per room, newest first, `Limit=1` |
//! | `MessageStore::get` | GetItem `MSGS#{r}`,`{seq:020}` |
//! | `MessageStore::replies` (a thread) | Query GSI1 `GSI1PK=THRD#{r}#{target}`, `GSI1SK >= :after`, `Limit` (eventually consistent, like every GSI read) |
//! | `MessageChanges::last_change` / `state` | GetItem `ROOM#{r}`,`CHANGE` / `MSGX#{r}`,`{seq}` |
//! | `MessageChanges::states` | Query `PK=MSGX#{r}`, `SK BETWEEN` |
//! | `MessageChanges::commit` | TransactWriteItems: Update of `CHANGE` (condition: the previous number) + Put state + Put log entry ([`changes`] module docs) |
//! | `MessageChanges::changes_after` | Query `PK=CHGS#{r}`, `SK > :after`, `Limit` |
//! | `ProfileStore::*` | GetItem / BatchGetItem / conditional PutItem / UpdateItem on `USER#{u}`,`PROFILE` |
//! | `SearchIndex::index` | BatchWriteItem of each message's entries (one per distinct 3-character word prefix) and manifest |
//! | `SearchIndex::search` | Query `PK=SRCH#{r}#{prefix}`, `SK < :cursor`, newest first, pages of 100, at most 1,000 items read |
//! | `NotifyStore::*` | Query / PutItem / DeleteItem / GetItem on `USER#{u}`; `claim`: conditional UpdateItem ([`notify`] module docs) |
//! | `BlockStore::relations` | Query `PK=USER#{u}`, `begins_with(SK, "BLOCK")` (both directions) |
//! | `BlockStore::block` / `unblock` | Query (the limit), then TransactWriteItems of the pair ([`blocks`] module docs) |
//! | `KeyStore::keys` / `put_key` / `delete_key` | Query `PK=USER#{u}`, `begins_with(SK, "E2EKEY#")` / that Query (the limit), then PutItem / DeleteItem (`ALL_OLD`) ([`keys`] module docs) |
//! | `KeyStore::claim_seal` | conditional PutItem of `ROOM#{r}`,`SEAL#{digest}` (`ALL_OLD` on failure) |
//! | `SearchIndex::remove` | GetItem the manifest, BatchWriteItem deletes of the entries, then of the manifest |
//!
//! Table reads are strongly consistent. GSI1 reads cannot be: a connection or
//! membership written a moment ago may be missing from `for_users`/`rooms_of`
//! for the index's propagation delay (typically well under a second). The
//! domain tolerates it: a message missed that way is recovered by `sync`.
//!
//! # `reserve`: read and count at once, then claim
//!
//! 1. At once (one round trip): GetItem the `CMID#` item (consistent), and
//!    UpdateItem `ADD seq :1` on `SEQ` (`UPDATED_NEW`). The counter is atomic,
//!    so concurrent senders in a busy room never conflict and never share a
//!    value; it is never decremented, so a `seq` is never reused (and the
//!    counter lives in DynamoDB, so flushing Redis cannot reset it). If the
//!    `CMID#` item exists, this is a resend: `Duplicate` with the message it
//!    holds, and the seq just counted is left unused (a gap that `settle`
//!    later reports as burned). Reading before counting would spare that
//!    gap at the price of one more round trip on every new message, before
//!    the first push; resends are rare, and a gap costs the members one
//!    `sync` that answers it.
//! 2. TransactWriteItems: the `CMID#` item and the seq's slot
//!    (`SEQS#{room}`/`{seq}`), both holding the whole message, each with
//!    condition `attribute_not_exists(PK)`. Success → `New`. A cancelled
//!    transaction means either a concurrent reservation of the same key won
//!    between steps 1 and 2 (a consistent GetItem of `CMID#` finds its
//!    message: `Duplicate`, and our `seq` is left unused), or `settle` burned
//!    our seq in that instant (no `CMID#`: count again, at most 3 times).
//!
//! So the price of a lost race is a gap in the room's sequence, never a
//! duplicate or a reuse. A gap is never ambiguous: `settle` (what `sync` calls
//! for a seq with no stored message) puts a `burned` slot on condition that no
//! slot exists; if the reservation's slot is there it answers its message
//! instead, and a claim after a burn fails on the slot. Either way the answer
//! is final, which is what lets clients tell a missing message from a burned
//! seq (docs/PROTOCOL.md). The slot doubles the reservation's write cost (a
//! transaction of two items). The alternative, an optimistic TransactWriteItems
//! (`SET seq = :n` if `seq = :n-1` plus the claim), has no gaps but makes every
//! concurrent sender in a room conflict and retry, costs twice the write
//! capacity, and still needs a read first; a busy room is exactly where that
//! hurts. A process dying between steps 2 and 3 also leaves a gap.
//! Idempotency keys expire after 30 days (TTL): a resend after that is a new
//! message.
//!
//! # `create`: all or nothing
//!
//! TransactWriteItems takes at most 100 items. META plus up to 99 members go
//! in one transaction whose META put is conditioned on `attribute_not_exists`,
//! so an existing id changes nothing and answers `false`. The domain allows
//! 100 initial members (plus the owner for groups), so larger rooms are
//! written as: members beyond the first 99 first, in transactions of 99 that
//! each also check META is still absent, then the committing transaction of
//! META + the first 99. META is the commit point: every reader of a room goes
//! through it (`get`, `get_many`, authorization), so until it exists the early
//! member rows belong to no room; if any step fails, the rows written so far
//! are deleted. Ids reaching this path are minted fresh by the server (UUIDv7)
//! and direct rooms always have two members, so no other writer can be
//! creating the same id concurrently; a crash between the steps leaves
//! orphan membership rows of a room that never exists, which
//! `list_rooms` drops (it joins on META).
//!
//! # SDK retries of conditional writes
//!
//! The SDK retries a request whose answer was lost, and a retried
//! conditional write fails on the very condition it satisfied the first time.
//! Where that would change an answer it is undone: `create` sends a
//! `ClientRequestToken` per transaction (DynamoDB makes a retry with the same
//! token succeed), and `reserve`/`add_member` recognise their own item in the
//! failed condition's `ALL_OLD` image (same message id and `seq`; the same
//! membership) and answer as the first attempt would have. A retried cursor
//! advance or `remove_member` may still report "unchanged" for a change it
//! made; both are advisory answers (a receipt not pushed, recovered by sync).
//!
//! # Batches
//!
//! `put_batch` uses BatchWriteItem, 25 distinct keys per call, retrying
//! `UnprocessedItems` with exponential backoff and jitter; an item still
//! unprocessed after the retries, or in a call that failed, gets its own
//! error. Writing a message is a blind put of the same content for the same
//! key (a `seq` belongs to exactly one message), which is what makes storing
//! it again change nothing. `get_many` uses BatchGetItem, 100 keys per call,
//! retrying `UnprocessedKeys` the same way.

mod blocks;
mod changes;
mod codec;
mod connections;
mod keys;
mod messages;
mod notify;
mod profiles;
mod rooms;
mod search;

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, KeysAndAttributes, Projection, ProjectionType, Put, PutRequest, ScalarAttributeType,
    TimeToLiveSpecification, TimeToLiveStatus, TransactWriteItem, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use chat_core::error::StoreError;

pub use blocks::DynamoBlocks;
pub use changes::DynamoChanges;
pub use connections::DynamoConnections;
pub use keys::DynamoKeys;
pub use messages::DynamoMessages;
pub use notify::DynamoNotify;
pub use profiles::DynamoProfiles;
pub use rooms::DynamoRooms;
pub use search::{DynamoSearch, READ_BUDGET as SEARCH_READ_BUDGET};

use crate::backoff;

/// A DynamoDB item.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// The names of the table's key attributes and its index.
pub mod schema {
    pub const PK: &str = "PK";
    pub const SK: &str = "SK";
    pub const GSI1: &str = "GSI1";
    pub const GSI1PK: &str = "GSI1PK";
    pub const GSI1SK: &str = "GSI1SK";
    /// The TTL attribute (epoch seconds).
    pub const TTL: &str = "expiresAt";
}

/// Most items in one TransactWriteItems call.
pub const MAX_TRANSACT: usize = 100;
/// Most requests in one BatchWriteItem call.
pub(crate) const MAX_BATCH_WRITE: usize = 25;
/// Most keys in one BatchGetItem call.
pub(crate) const MAX_BATCH_GET: usize = 100;
/// Queries run at once by the per-user/per-room lookups (`for_users`, `latest`).
pub(crate) const QUERY_CONCURRENCY: usize = 16;

/// The table and the client that reaches it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Table {
    client: Client,
    name: Arc<str>,
}

/// The four stores over one table.
#[derive(Clone, Debug)]
pub struct DynamoStores {
    pub connections: DynamoConnections,
    pub rooms: DynamoRooms,
    pub messages: DynamoMessages,
    pub changes: DynamoChanges,
    pub profiles: DynamoProfiles,
    pub search: DynamoSearch,
    pub notify: DynamoNotify,
    pub blocks: DynamoBlocks,
    pub keys: DynamoKeys,
}

impl Table {
    /// A Put of a transaction, on `condition` if any.
    pub(crate) fn txn_put(
        &self,
        item: Item,
        condition: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        Ok(TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(self.name())
                    .set_item(Some(item))
                    .set_condition_expression(condition.map(str::to_owned))
                    .build()
                    .map_err(StoreError::unavailable)?,
            )
            .build())
    }

    /// Runs a transaction. A token per call makes the SDK's retries of it
    /// idempotent: a retry after a lost answer succeeds instead of failing on
    /// the conditions it already satisfied. A cancelled transaction answers
    /// each item's reason code (`ConditionalCheckFailed`, …; empty when the
    /// service gave none).
    pub(crate) async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Committed, StoreError> {
        let r = self
            .client
            .transact_write_items()
            .client_request_token(uuid::Uuid::now_v7().simple().to_string())
            .set_transact_items(Some(items))
            .send()
            .await;
        match r {
            Ok(_) => Ok(Committed::Yes),
            Err(SdkError::ServiceError(se))
                if matches!(
                    se.err(),
                    TransactWriteItemsError::TransactionCanceledException(_)
                ) =>
            {
                let reasons = match se.err() {
                    TransactWriteItemsError::TransactionCanceledException(t) => t
                        .cancellation_reasons()
                        .iter()
                        .map(|r| r.code().map(str::to_owned))
                        .collect(),
                    _ => Vec::new(),
                };
                Ok(Committed::Cancelled(reasons))
            }
            Err(e) => Err(sdk(e)),
        }
    }

    pub fn new(client: Client, name: impl Into<Arc<str>>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn stores(&self) -> DynamoStores {
        DynamoStores {
            connections: DynamoConnections::new(self.clone()),
            rooms: DynamoRooms::new(self.clone()),
            messages: DynamoMessages::new(self.clone()),
            changes: DynamoChanges::new(self.clone()),
            profiles: DynamoProfiles::new(self.clone()),
            search: DynamoSearch::new(self.clone()),
            notify: DynamoNotify::new(self.clone()),
            blocks: DynamoBlocks::new(self.clone()),
            keys: DynamoKeys::new(self.clone()),
        }
    }

    /// Every item of a Query, following `LastEvaluatedKey`, stopping once
    /// `max` items are in hand (the request's own `Limit` caps each page).
    pub(crate) async fn query(
        &self,
        q: QueryFluentBuilder,
        max: Option<usize>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = q
                .clone()
                .table_name(self.name.as_ref())
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk)?;
            out.extend(page.items.unwrap_or_default());
            if let Some(max) = max {
                if out.len() >= max {
                    out.truncate(max);
                    return Ok(out);
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// Fetches `keys` (distinct) with BatchGetItem, 100 per call, retrying
    /// unprocessed keys with backoff. Items come back in no particular order.
    pub(crate) async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        for chunk in keys.chunks(MAX_BATCH_GET) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0;
            while !pending.is_empty() {
                let req = KeysAndAttributes::builder()
                    .set_keys(Some(pending))
                    .consistent_read(true)
                    .build()
                    .map_err(StoreError::unavailable)?;
                let resp = self
                    .client
                    .batch_get_item()
                    .request_items(self.name.as_ref(), req)
                    .send()
                    .await
                    .map_err(sdk)?;
                if let Some(mut items) = resp.responses {
                    out.extend(items.remove(self.name.as_ref()).unwrap_or_default());
                }
                pending = resp
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(self.name.as_ref()))
                    .map(|k| k.keys)
                    .unwrap_or_default();
                if !pending.is_empty() {
                    attempt += 1;
                    if attempt > backoff::BATCH_RETRIES {
                        return Err(StoreError::unavailable(format!(
                            "BatchGetItem left {} keys unprocessed after {} retries",
                            pending.len(),
                            backoff::BATCH_RETRIES
                        )));
                    }
                    tokio::time::sleep(backoff::delay(attempt)).await;
                }
            }
        }
        Ok(out)
    }

    /// Writes `requests` with BatchWriteItem, 25 per call, retrying
    /// `UnprocessedItems` with backoff. The keys must be distinct (DynamoDB
    /// rejects a call naming one twice). One outcome per request, in order.
    pub(crate) async fn batch_write(
        &self,
        requests: Vec<WriteRequest>,
    ) -> Vec<Result<(), StoreError>> {
        let mut out = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(MAX_BATCH_WRITE) {
            out.extend(self.batch_write_chunk(chunk).await);
        }
        out
    }

    async fn batch_write_chunk(&self, chunk: &[WriteRequest]) -> Vec<Result<(), StoreError>> {
        // Index of each pending request in `chunk`, matched back by key.
        let mut pending: Vec<usize> = (0..chunk.len()).collect();
        let mut outcome: Vec<Option<StoreError>> = (0..chunk.len()).map(|_| None).collect();
        let mut attempt = 0;
        while !pending.is_empty() {
            let resp = self
                .client
                .batch_write_item()
                .request_items(
                    self.name.as_ref(),
                    pending.iter().map(|&i| chunk[i].clone()).collect(),
                )
                .send()
                .await;
            let unprocessed = match resp {
                Ok(r) => r
                    .unprocessed_items
                    .and_then(|mut u| u.remove(self.name.as_ref()))
                    .unwrap_or_default(),
                Err(e) => {
                    let e = Arc::new(sdk(e));
                    for &i in &pending {
                        outcome[i] = Some(StoreError::unavailable(SharedError(e.clone())));
                    }
                    break;
                }
            };
            let left: Vec<Item> = unprocessed.iter().map(request_key).collect();
            pending.retain(|&i| left.contains(&request_key(&chunk[i])));
            if pending.is_empty() {
                break;
            }
            attempt += 1;
            if attempt > backoff::BATCH_RETRIES {
                for &i in &pending {
                    outcome[i] = Some(StoreError::unavailable(format!(
                        "BatchWriteItem left the item unprocessed after {} retries",
                        backoff::BATCH_RETRIES
                    )));
                }
                break;
            }
            tokio::time::sleep(backoff::delay(attempt)).await;
        }
        outcome
            .into_iter()
            .map(|e| match e {
                None => Ok(()),
                Some(e) => Err(e),
            })
            .collect()
    }
}

/// The key of a put or delete request, to match unprocessed requests back.
fn request_key(w: &WriteRequest) -> Item {
    let item = w
        .put_request
        .as_ref()
        .map(|p| &p.item)
        .or(w.delete_request.as_ref().map(|d| &d.key));
    item.map(|i| {
        i.iter()
            .filter(|(k, _)| *k == schema::PK || *k == schema::SK)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    })
    .unwrap_or_default()
}

pub(crate) fn put_request(item: Item) -> Result<WriteRequest, StoreError> {
    Ok(WriteRequest::builder()
        .put_request(
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .map_err(StoreError::unavailable)?,
        )
        .build())
}

/// One failure shared by every item of a failed batch call.
#[derive(Debug)]
struct SharedError(Arc<StoreError>);

impl std::fmt::Display for SharedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&chat_core::error::chain(self.0.as_ref()))
    }
}

impl std::error::Error for SharedError {}

/// An SDK failure as a store error, keeping the whole cause chain.
pub(crate) fn sdk<E>(e: SdkError<E>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
{
    StoreError::unavailable(e)
}

/// Is this the failure of a condition expression?
pub(crate) fn is_conditional<E>(e: &SdkError<E>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([
        (schema::PK.to_owned(), s(pk)),
        (schema::SK.to_owned(), s(sk)),
    ])
}

/// How a transaction ended ([`Table::transact`]).
pub(crate) enum Committed {
    Yes,
    /// Each item's cancellation reason code, in order.
    Cancelled(Vec<Option<String>>),
}

/// Creates the chat table exactly as the CDK stack does (on-demand capacity),
/// with TTL on [`schema::TTL`]: for tests and the local platform. Idempotent:
/// a table of that name with the same keys and index is kept as it is (so a
/// restarted `chat-local --create-resources` finds its data), one with other
/// keys is an error.
pub async fn create_table(client: &Client, name: &str) -> Result<(), StoreError> {
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(StoreError::unavailable)
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .map_err(StoreError::unavailable)
    };
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(schema::PK)?)
        .attribute_definitions(attr(schema::SK)?)
        .attribute_definitions(attr(schema::GSI1PK)?)
        .attribute_definitions(attr(schema::GSI1SK)?)
        .key_schema(key(schema::PK, KeyType::Hash)?)
        .key_schema(key(schema::SK, KeyType::Range)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(schema::GSI1)
                .key_schema(key(schema::GSI1PK, KeyType::Hash)?)
                .key_schema(key(schema::GSI1SK, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(StoreError::unavailable)?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            return check_existing_table(client, name).await;
        }
        Err(e) => return Err(sdk(e)),
    }
    enable_ttl(client, name).await
}

async fn enable_ttl(client: &Client, name: &str) -> Result<(), StoreError> {
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(schema::TTL)
                .build()
                .map_err(StoreError::unavailable)?,
        )
        .send()
        .await
        .map_err(sdk)?;
    Ok(())
}

/// The table exists already: it must have the keys and the index this code
/// reads, and TTL on [`schema::TTL`] (enabled when it is not).
async fn check_existing_table(client: &Client, name: &str) -> Result<(), StoreError> {
    let out = client
        .describe_table()
        .table_name(name)
        .send()
        .await
        .map_err(sdk)?;
    let table = out
        .table
        .ok_or_else(|| StoreError::unavailable("DescribeTable answered no table"))?;
    let keys: Vec<(&str, &KeyType)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name(), k.key_type()))
        .collect();
    let has_index = table
        .global_secondary_indexes()
        .iter()
        .any(|i| i.index_name() == Some(schema::GSI1));
    if keys != [(schema::PK, &KeyType::Hash), (schema::SK, &KeyType::Range)] || !has_index {
        return Err(StoreError::unavailable(format!(
            "table {name} exists with other keys or without {}",
            schema::GSI1
        )));
    }
    let ttl = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(sdk)?;
    let enabled = ttl.time_to_live_description().is_some_and(|d| {
        d.attribute_name() == Some(schema::TTL)
            && matches!(
                d.time_to_live_status(),
                Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
            )
    });
    if !enabled {
        enable_ttl(client, name).await?;
    }
    tracing::info!(table = name, "table exists with the expected keys; kept");
    Ok(())
}
