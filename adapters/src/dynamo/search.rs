//! The message search index in the table (see the module docs of
//! [`super`] for the items and [`chat_core::search`] for what matches).
//!
//! Per indexed message, one entry item per distinct bucket (the first 3
//! characters) of its terms, `SRCH#{roomId}#{bucket}` / `{sentAt:020}#{seq:020}`,
//! each holding all the message's terms (so a query of several words is
//! decided on one item), and one manifest item `SRCHM#{roomId}` /
//! `{seq:020}` naming the buckets, which is what lets [`SearchIndex::remove`]
//! find the entries of `(room, seq)` without the message's body.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, WriteRequest};
use chat_core::error::{chain, StoreError};
use chat_core::ids::{Millis, RoomId, Seq};
use chat_core::ports::SearchIndex;
use chat_core::search::{buckets, IndexEntry, RoomMatches, SearchKey, SearchQuery};

use super::codec::{self, keys};
use super::{key, n, put_request, s, sdk, Item, Table};

/// Items one Query page asks for.
const PAGE: i32 = 100;
/// Most entry items one room's search reads per call; past it the call
/// answers what it found and where it stopped (`more_below`).
pub const READ_BUDGET: usize = 1_000;

/// The search index over the table.
#[derive(Clone, Debug)]
pub struct DynamoSearch {
    table: Table,
}

fn entries_pk(room: &RoomId, bucket: &str) -> String {
    format!("SRCH#{room}#{bucket}")
}

fn manifest_pk(room: &RoomId) -> String {
    format!("SRCHM#{room}")
}

fn entry_sk(sent_at: Millis, seq: Seq) -> String {
    format!("{:020}#{seq:020}", sent_at.max(0))
}

/// The exclusive upper bound of the sort keys of `room`'s entries that
/// come after `below` in result order (`(sentAt, roomId, seq)` descending).
fn upper_bound(room: &RoomId, below: &SearchKey) -> String {
    let t = below.sent_at.max(0);
    match room.cmp(&below.room_id) {
        // Same time, lower room: every seq of that time still comes after.
        std::cmp::Ordering::Less => format!("{t:020}$"),
        std::cmp::Ordering::Equal => entry_sk(t, below.seq),
        // Same time, higher room: came before; only earlier times remain.
        std::cmp::Ordering::Greater => format!("{t:020}"),
    }
}

fn strings(v: &[String]) -> AttributeValue {
    AttributeValue::L(v.iter().map(|t| s(t.as_str())).collect())
}

fn get_strings(item: &Item, name: &str) -> Result<Vec<String>, StoreError> {
    match item.get(name) {
        Some(AttributeValue::L(l)) => l
            .iter()
            .map(|v| match v {
                AttributeValue::S(s) => Ok(s.clone()),
                _ => Err(StoreError::Corrupt(format!(
                    "{name}: not a list of strings"
                ))),
            })
            .collect(),
        _ => Err(StoreError::Corrupt(format!(
            "{name}: missing or not a list"
        ))),
    }
}

fn delete_request(k: Item) -> Result<WriteRequest, StoreError> {
    Ok(WriteRequest::builder()
        .delete_request(
            DeleteRequest::builder()
                .set_key(Some(k))
                .build()
                .map_err(StoreError::unavailable)?,
        )
        .build())
}

impl DynamoSearch {
    pub fn new(table: Table) -> Self {
        Self { table }
    }

    /// The entry items and the manifest of one message.
    fn items(e: &IndexEntry) -> Vec<Item> {
        let b = buckets(&e.terms);
        let mut out: Vec<Item> = b
            .iter()
            .map(|bucket| {
                let mut item = key(entries_pk(&e.room_id, bucket), entry_sk(e.sent_at, e.seq));
                item.insert("type".into(), s("searchEntry"));
                item.insert("seq".into(), n(e.seq));
                item.insert("sentAt".into(), n(e.sent_at));
                item.insert("terms".into(), strings(&e.terms));
                item
            })
            .collect();
        let mut manifest = key(manifest_pk(&e.room_id), keys::seq(e.seq));
        manifest.insert("type".into(), s("searchManifest"));
        manifest.insert("sentAt".into(), n(e.sent_at));
        manifest.insert("buckets".into(), strings(&b));
        out.push(manifest);
        out
    }
}

#[async_trait]
impl SearchIndex for DynamoSearch {
    async fn index(&self, entries: &[IndexEntry]) -> Vec<Result<(), StoreError>> {
        // BatchWriteItem refuses a key twice in one call: index each
        // distinct (room, seq) once and give every copy its outcome.
        let mut first_of: HashMap<(&RoomId, Seq), usize> = HashMap::new();
        let mut distinct: Vec<&IndexEntry> = Vec::new();
        let owner: Vec<usize> = entries
            .iter()
            .map(|e| {
                *first_of.entry((&e.room_id, e.seq)).or_insert_with(|| {
                    distinct.push(e);
                    distinct.len() - 1
                })
            })
            .collect();
        let mut requests = Vec::new();
        let mut of_request = Vec::new();
        for (i, e) in distinct.iter().enumerate() {
            for item in Self::items(e) {
                match put_request(item) {
                    Ok(r) => {
                        requests.push(r);
                        of_request.push(i);
                    }
                    Err(err) => {
                        let why = chain(&err);
                        return entries
                            .iter()
                            .map(|_| Err(StoreError::unavailable(why.clone())))
                            .collect();
                    }
                }
            }
        }
        let outcomes = self.table.batch_write(requests).await;
        let mut failed: Vec<Option<String>> = vec![None; distinct.len()];
        for (i, r) in of_request.into_iter().zip(outcomes) {
            if let Err(e) = r {
                failed[i].get_or_insert_with(|| chain(&e));
            }
        }
        owner
            .into_iter()
            .map(|i| match &failed[i] {
                None => Ok(()),
                Some(why) => Err(StoreError::unavailable(why.clone())),
            })
            .collect()
    }

    async fn remove(&self, room: &RoomId, seq: Seq) -> Result<(), StoreError> {
        let manifest_key = key(manifest_pk(room), keys::seq(seq));
        let found = self
            .table
            .client
            .get_item()
            .table_name(self.table.name())
            .set_key(Some(manifest_key.clone()))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?
            .item
            .filter(|i| !i.is_empty());
        let Some(manifest) = found else {
            return Ok(());
        };
        let sent_at: Millis = codec::get_n(&manifest, "sentAt")?;
        let mut requests = Vec::new();
        for bucket in get_strings(&manifest, "buckets")? {
            requests.push(delete_request(key(
                entries_pk(room, &bucket),
                entry_sk(sent_at, seq),
            ))?);
        }
        // The manifest last: until the entries are gone, a retry finds them.
        let outcomes = self.table.batch_write(requests).await;
        if let Some(Err(e)) = outcomes.into_iter().find(Result::is_err) {
            return Err(e);
        }
        let outcomes = self
            .table
            .batch_write(vec![delete_request(manifest_key)?])
            .await;
        outcomes.into_iter().collect::<Result<Vec<()>, _>>()?;
        Ok(())
    }

    async fn search(
        &self,
        room: &RoomId,
        q: &SearchQuery,
        below: Option<&SearchKey>,
        limit: usize,
    ) -> Result<RoomMatches, StoreError> {
        let mut out = RoomMatches::default();
        if limit == 0 {
            return Ok(out);
        }
        let mut query = self
            .table
            .client
            .query()
            .table_name(self.table.name())
            .expression_attribute_values(":pk", s(entries_pk(room, &q.bucket())))
            .scan_index_forward(false)
            .limit(PAGE)
            .consistent_read(true);
        query = match below {
            Some(b) => query
                .key_condition_expression("PK = :pk AND SK < :hi")
                .expression_attribute_values(":hi", s(upper_bound(room, b))),
            None => query.key_condition_expression("PK = :pk"),
        };
        let mut start: Option<Item> = None;
        let mut read = 0usize;
        loop {
            let page = query
                .clone()
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk)?;
            let more_pages = page.last_evaluated_key.filter(|k| !k.is_empty());
            let items = page.items.unwrap_or_default();
            let n_items = items.len();
            for (idx, item) in items.into_iter().enumerate() {
                read += 1;
                let k = SearchKey {
                    sent_at: codec::get_n(&item, "sentAt")?,
                    room_id: room.clone(),
                    seq: codec::get_n(&item, "seq")?,
                };
                if q.matches(&get_strings(&item, "terms")?) {
                    out.hits.push(k.clone());
                }
                let more_here = idx + 1 < n_items || more_pages.is_some();
                if more_here && (out.hits.len() == limit || read >= READ_BUDGET) {
                    out.more_below = Some(k);
                    return Ok(out);
                }
            }
            match more_pages {
                Some(k) => start = Some(k),
                None => return Ok(out),
            }
        }
    }
}
