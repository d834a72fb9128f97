//! The DynamoDB stores (moto): the contract suites, then what is specific to
//! the table: large rooms, batches past one call, the reservation race, TTLs.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use chat_core::contract::*;
use chat_core::model::{Reservation, Role, RoomKind};
use chat_core::ports::{ConnectionStore, MessageStore, RangeQuery, RoomStore};

use crate::support;

chat_core::connection_store_contract!(async { crate::support::stores().await.connections });
chat_core::room_store_contract!(async { crate::support::stores().await.rooms });
chat_core::message_store_contract!(async { crate::support::stores().await.messages });
chat_core::message_changes_contract!(async { crate::support::stores().await.changes });
chat_core::profile_store_contract!(async { crate::support::stores().await.profiles });
chat_core::search_index_contract!(async { crate::support::stores().await.search });
chat_core::notify_store_contract!(async { crate::support::stores().await.notify });
chat_core::block_store_contract!(async { crate::support::stores().await.blocks });
chat_core::key_store_contract!(async { crate::support::stores().await.keys });

#[tokio::test]
async fn a_room_larger_than_one_transaction_is_created_whole_and_only_once() {
    let rooms = support::stores().await.rooms;
    let owner = user("owner");
    let r = room(RoomKind::Group, &owner, 1_000);
    // The owner and the domain's 100 initial members: 101 rows plus META.
    let mut members = vec![member(&r, &owner, Role::Owner)];
    members.extend((0..100).map(|i| member(&r, &user(&format!("m{i}")), Role::Member)));
    assert!(rooms.create(&r, &members).await.unwrap());
    assert_eq!(rooms.members(&r.room_id).await.unwrap().len(), 101);
    assert_eq!(
        rooms.rooms_of(&members[100].user_id).await.unwrap().len(),
        1
    );

    let intruders: Vec<_> = (0..120)
        .map(|i| member(&r, &user(&format!("x{i}")), Role::Member))
        .collect();
    assert!(!rooms.create(&r, &intruders).await.unwrap());
    assert_eq!(rooms.members(&r.room_id).await.unwrap().len(), 101);
    assert!(rooms
        .rooms_of(&intruders[119].user_id)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_lost_reservation_race_returns_the_winner_and_may_leave_a_gap() {
    let messages = Arc::new(support::stores().await.messages);
    let (r, u) = (room_id(), user("u"));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let (messages, r, u) = (messages.clone(), r.clone(), u.clone());
            tokio::spawn(async move {
                messages
                    .reserve(draft(&r, &u, "same", &format!("attempt {i}")))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let winners: Vec<_> = results
        .iter()
        .filter(|r| matches!(r, Reservation::New(_)))
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one reservation wins: {results:?}"
    );
    let first = winners[0].message();
    assert!(
        results.iter().all(|r| r.message() == first),
        "all see the winner's message"
    );
    // Losers that got past the first read burned a seq: never reused.
    let last = messages.last_seq(&r).await.unwrap();
    assert!(last >= first.seq && last <= 8, "last_seq {last}");
    let next = messages.reserve(draft(&r, &u, "next", "x")).await.unwrap();
    assert_eq!(next.message().seq, last + 1);
}

#[tokio::test]
async fn put_batch_spans_several_calls_and_tolerates_a_repeated_message() {
    let messages = support::stores().await.messages;
    let (r, u) = (room_id(), user("u"));
    let mut ms = Vec::new();
    for i in 0..60 {
        ms.push(
            messages
                .reserve(draft(&r, &u, &format!("c{i}"), "m"))
                .await
                .unwrap()
                .message()
                .clone(),
        );
    }
    let mut batch = ms.clone();
    batch.push(ms[3].clone());
    let outcomes = messages.put_batch(&batch).await;
    assert_eq!(outcomes.len(), 61);
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let all = messages
        .range(
            &r,
            RangeQuery {
                after: None,
                before: None,
                limit: 1000,
                newest_first: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(all, ms);
    let page = messages
        .range(
            &r,
            RangeQuery {
                after: Some(10),
                before: Some(50),
                limit: 7,
                newest_first: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (43..50).collect::<Vec<_>>()
    );
}

async fn raw_item(
    table: &chat_adapters::dynamo::Table,
    pk: String,
    sk: &str,
) -> HashMap<String, AttributeValue> {
    table
        .client()
        .get_item()
        .table_name(table.name())
        .key("PK", AttributeValue::S(pk))
        .key("SK", AttributeValue::S(sk.into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the item exists")
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> i64 {
    item[name].as_n().unwrap().parse().unwrap()
}

#[tokio::test]
async fn items_follow_the_documented_keys_and_carry_their_ttls() {
    let table = support::table().await;
    let stores = table.stores();
    let (r, u) = (room_id(), user("u"));
    let m = stores
        .messages
        .reserve(draft(&r, &u, "k1", "hi"))
        .await
        .unwrap();
    let claim = raw_item(&table, format!("ROOM#{r}"), &format!("CMID#{u}#k1")).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let ttl = number(&claim, "expiresAt");
    assert!(
        (ttl - now - 30 * 24 * 3600).abs() < 120,
        "30 days ahead: {ttl}"
    );
    assert_eq!(
        number(&raw_item(&table, format!("ROOM#{r}"), "SEQ").await, "seq"),
        1
    );
    stores.messages.put_batch(&[m.message().clone()]).await;
    raw_item(&table, format!("MSGS#{r}"), "00000000000000000001").await;

    let c = connection("c");
    stores
        .connections
        .put(&conn_record(&c, &u, 1_700_000_000_000))
        .await
        .unwrap();
    let item = raw_item(&table, format!("CONN#{c}"), "META").await;
    assert_eq!(item["GSI1PK"].as_s().unwrap(), &format!("USER#{u}"));
    // TTL = presence expiry + 2 h, so only records of dead sockets expire.
    assert_eq!(number(&item, "expiresAt"), 1_700_000_000 + 7200);
    stores
        .connections
        .touch(&c, 1_700_000_600_000)
        .await
        .unwrap();
    let item = raw_item(&table, format!("CONN#{c}"), "META").await;
    assert_eq!(number(&item, "expiresAt"), 1_700_000_600 + 7200);

    let ch = room(RoomKind::Channel, &u, 1_234);
    stores
        .rooms
        .create(&ch, &[member(&ch, &u, Role::Owner)])
        .await
        .unwrap();
    let meta = raw_item(&table, format!("ROOM#{}", ch.room_id), "META").await;
    assert_eq!(
        meta["GSI1SK"].as_s().unwrap(),
        &format!("00000000000000001234#{}", ch.room_id)
    );
}

#[tokio::test]
async fn a_search_reads_a_bounded_number_of_entries_and_says_where_it_stopped() {
    use chat_adapters::dynamo::SEARCH_READ_BUDGET;
    use chat_core::ports::SearchIndex;
    use chat_core::search::{merge, SearchQuery};
    let index = support::stores().await.search;
    let r = room_id();
    // The oldest message holds both words; the newer ones share the first
    // word's bucket but not the second word.
    let mut entries = vec![index_entry(&r, 1, 1_000, "tick tock")];
    entries.extend(
        (2..=SEARCH_READ_BUDGET as u64 + 50)
            .map(|i| index_entry(&r, i, 1_000 + i as i64, "ticket")),
    );
    assert!(index.index(&entries).await.iter().all(Result::is_ok));
    let q = SearchQuery::parse("ticking tock").unwrap();
    assert!(index
        .search(&r, &q, None, 10)
        .await
        .unwrap()
        .hits
        .is_empty());
    let q = SearchQuery::parse("tick tock").unwrap();
    let first = index.search(&r, &q, None, 10).await.unwrap();
    assert!(first.hits.is_empty(), "the budget ran out before the match");
    let (hits, next) = merge(vec![first], 10);
    assert!(hits.is_empty());
    let next = next.expect("a cursor to go on from");
    let second = index.search(&r, &q, Some(&next), 10).await.unwrap();
    assert_eq!(
        second.hits.iter().map(|k| k.seq).collect::<Vec<_>>(),
        vec![1]
    );
    assert_eq!(second.more_below, None);
}
