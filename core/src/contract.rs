//! The adapter contract suite: one set of scenarios per port, written once
//! and run against the in-memory adapter and the real one (DynamoDB, SQS,
//! API Gateway Management, Redis), so the embedded local mode behaves like
//! AWS. Every scenario makes fresh ids, so suites can run in parallel against
//! one shared real backend.
//!
//! Use the `*_contract!` macros: each expands to a module of `#[tokio::test]`s,
//! one per behaviour, over an adapter built by the given async expression.

use crate::ids::{
    ClientMsgId, ConnectionId, DisplayName, MessageBody, MessageId, RoomId, RoomName, UserId,
};
use crate::model::{ConnectionRecord, Membership, MessageDraft, Profile, Role, Room, RoomKind};

/// A fresh token for ids, unique across processes and runs.
/// Now, on the system clock (presigning in AWS signs with it).
pub fn wall_clock() -> crate::ids::Millis {
    use crate::ports::Clock;
    crate::ports::SystemClock.now()
}

pub fn unique() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

pub fn user(tag: &str) -> UserId {
    UserId::parse(&format!("{tag}-{}", unique())).expect("valid test user id")
}

pub fn room_id() -> RoomId {
    RoomId::generate()
}

pub fn connection(tag: &str) -> ConnectionId {
    ConnectionId::parse(&format!("{tag}{}=", unique())).expect("valid test connection id")
}

pub fn conn_record(id: &ConnectionId, user: &UserId, expires_at: i64) -> ConnectionRecord {
    ConnectionRecord {
        connection_id: id.clone(),
        user_id: user.clone(),
        connected_at: 1_000,
        expires_at,
    }
}

pub fn room(kind: RoomKind, owner: &UserId, created_at: i64) -> Room {
    Room {
        room_id: room_id(),
        kind,
        name: RoomName::parse("contract room").expect("valid"),
        owner_id: owner.clone(),
        created_at,
    }
}

pub fn member(room: &Room, user: &UserId, role: Role) -> Membership {
    Membership::new(room.room_id.clone(), user.clone(), role, 1_000)
}

pub fn draft(room: &RoomId, sender: &UserId, client_msg_id: &str, body: &str) -> MessageDraft {
    MessageDraft {
        sealed: None,
        room_id: room.clone(),
        message_id: MessageId::generate(),
        sender_id: sender.clone(),
        body: MessageBody::parse(body, 4096, 4096).expect("valid body"),
        sent_at: 1_000,
        client_msg_id: ClientMsgId::parse(client_msg_id).expect("valid client id"),
        attachments: Vec::new(),
        reply_to: None,
    }
}

/// An image attachment of 640 × 480.
pub fn attachment(name: &str, content_type: &str, size: u64) -> crate::attachments::Attachment {
    crate::attachments::Attachment {
        attachment_id: crate::ids::AttachmentId::generate(),
        content_type: crate::attachments::ContentType::parse(content_type).expect("allowed type"),
        size,
        file_name: crate::ids::FileName::parse(name).expect("valid name"),
        width: Some(640),
        height: Some(480),
    }
}

pub fn profile(user: &UserId, name: &str) -> Profile {
    Profile {
        user_id: user.clone(),
        display_name: DisplayName::parse(name).expect("valid name"),
        avatar_url: None,
        created_at: 1_000,
        updated_at: 1_000,
    }
}

/// Scenarios for [`crate::ports::ConnectionStore`].
#[macro_export]
macro_rules! connection_store_contract {
    ($make:expr) => {
        mod connection_store_contract {
            #[allow(unused_imports)]
            use super::*;
            use $crate::contract::*;
            use $crate::ports::ConnectionStore;

            #[tokio::test]
            async fn put_get_delete_round_trip() {
                let store = $make.await;
                let (c, u) = (connection("a"), user("u"));
                let rec = conn_record(&c, &u, 5_000);
                store.put(&rec).await.unwrap();
                assert_eq!(store.get(&c).await.unwrap(), Some(rec.clone()));
                assert_eq!(store.delete(&c).await.unwrap(), Some(rec));
                assert_eq!(store.get(&c).await.unwrap(), None);
                assert_eq!(store.delete(&c).await.unwrap(), None);
            }

            #[tokio::test]
            async fn for_users_returns_exactly_those_users_connections() {
                let store = $make.await;
                let (a, b, other) = (user("a"), user("b"), user("o"));
                let (a1, a2, b1, o1) = (
                    connection("a1"),
                    connection("a2"),
                    connection("b1"),
                    connection("o1"),
                );
                for (c, u) in [(&a1, &a), (&a2, &a), (&b1, &b), (&o1, &other)] {
                    store.put(&conn_record(c, u, 5_000)).await.unwrap();
                }
                let mut got: Vec<_> = store
                    .for_users(&[a.clone(), b.clone()])
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|c| c.connection_id)
                    .collect();
                got.sort();
                let mut want = vec![a1.clone(), a2.clone(), b1.clone()];
                want.sort();
                assert_eq!(got, want);
                assert!(store.for_users(&[]).await.unwrap().is_empty());
                assert!(store.for_users(&[user("nobody")]).await.unwrap().is_empty());
                // Duplicate users in the request do not duplicate connections.
                assert_eq!(
                    store
                        .for_users(&[b.clone(), b.clone()])
                        .await
                        .unwrap()
                        .len(),
                    1
                );
            }

            #[tokio::test]
            async fn touch_moves_the_expiry_and_reports_unknown_connections() {
                let store = $make.await;
                let (c, u) = (connection("t"), user("u"));
                store.put(&conn_record(&c, &u, 5_000)).await.unwrap();
                assert!(store.touch(&c, 9_000).await.unwrap());
                assert_eq!(store.get(&c).await.unwrap().unwrap().expires_at, 9_000);
                assert!(!store.touch(&connection("missing"), 9_000).await.unwrap());
            }

            #[tokio::test]
            async fn delete_removes_the_connection_from_the_user_index() {
                let store = $make.await;
                let (c1, c2, u) = (connection("d1"), connection("d2"), user("u"));
                store.put(&conn_record(&c1, &u, 5_000)).await.unwrap();
                store.put(&conn_record(&c2, &u, 5_000)).await.unwrap();
                store.delete(&c1).await.unwrap();
                let left: Vec<_> = store
                    .for_users(std::slice::from_ref(&u))
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|c| c.connection_id)
                    .collect();
                assert_eq!(left, vec![c2]);
            }
        }
    };
}

/// Scenarios for [`crate::ports::RoomStore`].
#[macro_export]
macro_rules! room_store_contract {
    ($make:expr) => {
        mod room_store_contract {
            #[allow(unused_imports)]
            use super::*;
            use $crate::contract::*;
            use $crate::model::{ReceiptStatus, Role, RoomKind};
            use $crate::ports::RoomStore;

            #[tokio::test]
            async fn create_is_all_or_nothing_and_refuses_an_existing_id() {
                let store = $make.await;
                let (o, m) = (user("owner"), user("member"));
                let r = room(RoomKind::Group, &o, 1_000);
                assert!(store
                    .create(
                        &r,
                        &[member(&r, &o, Role::Owner), member(&r, &m, Role::Member)]
                    )
                    .await
                    .unwrap());
                assert_eq!(store.get(&r.room_id).await.unwrap(), Some(r.clone()));
                assert_eq!(store.members(&r.room_id).await.unwrap().len(), 2);
                let intruder = user("intruder");
                assert!(!store
                    .create(&r, &[member(&r, &intruder, Role::Owner)])
                    .await
                    .unwrap());
                assert_eq!(store.members(&r.room_id).await.unwrap().len(), 2);
                assert_eq!(store.membership(&r.room_id, &intruder).await.unwrap(), None);
                assert_eq!(store.get(&room_id()).await.unwrap(), None);
            }

            #[tokio::test]
            async fn membership_is_readable_both_ways_and_removal_updates_both() {
                let store = $make.await;
                let (o, m) = (user("owner"), user("member"));
                let r1 = room(RoomKind::Group, &o, 1_000);
                let r2 = room(RoomKind::Channel, &o, 2_000);
                store
                    .create(
                        &r1,
                        &[member(&r1, &o, Role::Owner), member(&r1, &m, Role::Member)],
                    )
                    .await
                    .unwrap();
                store
                    .create(&r2, &[member(&r2, &o, Role::Owner)])
                    .await
                    .unwrap();
                let mut mine: Vec<_> = store
                    .rooms_of(&o)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|x| x.room_id)
                    .collect();
                mine.sort();
                let mut want = vec![r1.room_id.clone(), r2.room_id.clone()];
                want.sort();
                assert_eq!(mine, want);
                assert_eq!(
                    store
                        .membership(&r1.room_id, &m)
                        .await
                        .unwrap()
                        .unwrap()
                        .role,
                    Role::Member
                );
                assert!(store.remove_member(&r1.room_id, &m).await.unwrap());
                assert!(!store.remove_member(&r1.room_id, &m).await.unwrap());
                assert!(store.rooms_of(&m).await.unwrap().is_empty());
                assert_eq!(store.members(&r1.room_id).await.unwrap().len(), 1);
            }

            #[tokio::test]
            async fn adding_a_member_twice_changes_nothing() {
                let store = $make.await;
                let (o, m) = (user("owner"), user("member"));
                let r = room(RoomKind::Channel, &o, 1_000);
                store
                    .create(&r, &[member(&r, &o, Role::Owner)])
                    .await
                    .unwrap();
                assert!(store
                    .add_member(&member(&r, &m, Role::Member))
                    .await
                    .unwrap());
                store
                    .advance_cursor(&r.room_id, &m, ReceiptStatus::Read, 3)
                    .await
                    .unwrap();
                assert!(!store
                    .add_member(&member(&r, &m, Role::Member))
                    .await
                    .unwrap());
                assert_eq!(
                    store
                        .membership(&r.room_id, &m)
                        .await
                        .unwrap()
                        .unwrap()
                        .read_seq,
                    3
                );
            }

            #[tokio::test]
            async fn cursors_only_move_forward_and_read_implies_delivered() {
                let store = $make.await;
                let u = user("u");
                let r = room(RoomKind::Group, &u, 1_000);
                store
                    .create(&r, &[member(&r, &u, Role::Owner)])
                    .await
                    .unwrap();
                let id = &r.room_id;
                assert!(store
                    .advance_cursor(id, &u, ReceiptStatus::Delivered, 5)
                    .await
                    .unwrap());
                assert!(!store
                    .advance_cursor(id, &u, ReceiptStatus::Delivered, 3)
                    .await
                    .unwrap());
                assert!(store
                    .advance_cursor(id, &u, ReceiptStatus::Read, 4)
                    .await
                    .unwrap());
                let m = store.membership(id, &u).await.unwrap().unwrap();
                assert_eq!((m.delivered_seq, m.read_seq), (5, 4));
                assert!(store
                    .advance_cursor(id, &u, ReceiptStatus::Read, 7)
                    .await
                    .unwrap());
                let m = store.membership(id, &u).await.unwrap().unwrap();
                assert_eq!((m.delivered_seq, m.read_seq), (7, 7));
                assert!(!store
                    .advance_cursor(id, &user("stranger"), ReceiptStatus::Read, 9)
                    .await
                    .unwrap());
                assert_eq!(store.membership(id, &user("stranger")).await.unwrap(), None);
            }

            #[tokio::test]
            async fn get_many_returns_the_rooms_that_exist() {
                let store = $make.await;
                let o = user("owner");
                let r = room(RoomKind::Group, &o, 1_000);
                store
                    .create(&r, &[member(&r, &o, Role::Owner)])
                    .await
                    .unwrap();
                let got = store
                    .get_many(&[r.room_id.clone(), room_id()])
                    .await
                    .unwrap();
                assert_eq!(got, vec![r]);
                assert!(store.get_many(&[]).await.unwrap().is_empty());
            }

            #[tokio::test]
            async fn list_channels_shows_only_channels_newest_first() {
                let store = $make.await;
                let o = user("owner");
                let old = room(RoomKind::Channel, &o, 4_102_444_800_000);
                let new = room(RoomKind::Channel, &o, 4_102_444_900_000);
                let group = room(RoomKind::Group, &o, 4_102_445_000_000);
                for r in [&old, &new, &group] {
                    store
                        .create(r, &[member(r, &o, Role::Owner)])
                        .await
                        .unwrap();
                }
                let listed: Vec<_> = store
                    .list_channels(1000)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|r| r.room_id)
                    .collect();
                let pos = |id| listed.iter().position(|x| x == id);
                assert!(pos(&group.room_id).is_none());
                assert!(pos(&new.room_id).unwrap() < pos(&old.room_id).unwrap());
            }
        }
    };
}

/// Scenarios for [`crate::ports::MessageStore`].
#[macro_export]
macro_rules! message_store_contract {
    ($make:expr) => {
        mod message_store_contract {
            #[allow(unused_imports)]
            use super::*;
            use std::sync::Arc;
            use $crate::contract::*;
            use $crate::model::{Message, Reservation, SeqFate};
            use $crate::ports::{MessageStore, RangeQuery};

            fn seqs(ms: &[Message]) -> Vec<u64> {
                ms.iter().map(|m| m.seq).collect()
            }

            #[tokio::test]
            async fn reserve_allocates_strictly_increasing_seqs_per_room() {
                let store = $make.await;
                let (a, b, u) = (room_id(), room_id(), user("u"));
                for (i, want) in [1u64, 2, 3].into_iter().enumerate() {
                    let r = store.reserve(draft(&a, &u, &format!("c{i}"), "hi")).await.unwrap();
                    assert!(matches!(&r, Reservation::New(m) if m.seq == want), "{r:?}");
                }
                let r = store.reserve(draft(&b, &u, "c0", "hi")).await.unwrap();
                assert_eq!(r.message().seq, 1);
                assert_eq!(store.last_seq(&a).await.unwrap(), 3);
                assert_eq!(store.last_seq(&room_id()).await.unwrap(), 0);
            }

            #[tokio::test]
            async fn reserving_a_client_msg_id_again_returns_the_first_message() {
                let store = $make.await;
                let (r, u, v) = (room_id(), user("u"), user("v"));
                let first = store.reserve(draft(&r, &u, "same", "first")).await.unwrap();
                let Reservation::New(first) = first else { panic!("expected a new message") };
                let again = store.reserve(draft(&r, &u, "same", "second")).await.unwrap();
                assert_eq!(again, Reservation::Duplicate(first.clone()));
                // The resend counted a seq alongside its read of the claim
                // (one round trip, not two): that seq stays unused, and
                // settles as burned.
                assert_eq!(store.last_seq(&r).await.unwrap(), 2);
                assert_eq!(store.settle(&r, 2).await.unwrap(), SeqFate::Burned);
                // The key is per sender: another user's "same" is a new message.
                let other = store.reserve(draft(&r, &v, "same", "theirs")).await.unwrap();
                assert!(matches!(other, Reservation::New(ref m) if m.seq == 3), "{other:?}");
            }

            #[tokio::test]
            async fn concurrent_reservations_never_reuse_a_seq_or_duplicate_a_key() {
                let store = Arc::new($make.await);
                let (r, u) = (room_id(), user("u"));
                let mut tasks = Vec::new();
                for i in 0..10 {
                    for _ in 0..2 {
                        let (store, r, u) = (store.clone(), r.clone(), u.clone());
                        tasks.push(tokio::spawn(async move { store.reserve(draft(&r, &u, &format!("k{i}"), "x")).await.unwrap() }));
                    }
                }
                let mut by_key = std::collections::HashMap::new();
                for t in tasks {
                    let res = t.await.unwrap();
                    let m = res.message().clone();
                    let prev = by_key.insert(m.client_msg_id.clone(), m.clone());
                    if let Some(p) = prev {
                        assert_eq!(p, m, "one key, one message");
                    }
                }
                let mut seqs: Vec<u64> = by_key.values().map(|m| m.seq).collect();
                seqs.sort();
                seqs.dedup();
                assert_eq!(seqs.len(), 10, "ten keys, ten distinct seqs");
            }

            #[tokio::test]
            async fn every_allocated_seq_settles_for_good_to_its_message_or_burned() {
                let store = Arc::new($make.await);
                let (r, u) = (room_id(), user("u"));
                // Racing resends of the same keys may burn seqs (DynamoDB).
                let mut tasks = Vec::new();
                for i in 0..5 {
                    for _ in 0..2 {
                        let (store, r, u) = (store.clone(), r.clone(), u.clone());
                        tasks.push(tokio::spawn(async move { store.reserve(draft(&r, &u, &format!("k{i}"), "x")).await.unwrap() }));
                    }
                }
                let mut winners = std::collections::BTreeMap::new();
                for t in tasks {
                    let m = t.await.unwrap().message().clone();
                    winners.insert(m.seq, m);
                }
                assert_eq!(winners.len(), 5);
                for seq in 1..=store.last_seq(&r).await.unwrap() {
                    let fate = store.settle(&r, seq).await.unwrap();
                    match winners.get(&seq) {
                        Some(m) => assert_eq!(fate, SeqFate::Reserved(m.clone()), "seq {seq}"),
                        None => assert_eq!(fate, SeqFate::Burned, "seq {seq}"),
                    }
                    assert_eq!(store.settle(&r, seq).await.unwrap(), fate, "seq {seq} again");
                }
            }

            #[tokio::test]
            async fn a_seq_settled_as_burned_is_never_reserved() {
                let store = $make.await;
                let (r, u) = (room_id(), user("u"));
                store.reserve(draft(&r, &u, "a", "one")).await.unwrap();
                // Settled in the instant between a reservation's count and its claim.
                assert_eq!(store.settle(&r, 2).await.unwrap(), SeqFate::Burned);
                let next = store.reserve(draft(&r, &u, "b", "two")).await.unwrap();
                assert!(matches!(next, Reservation::New(ref m) if m.seq > 2), "{next:?}");
                assert_eq!(store.settle(&r, 2).await.unwrap(), SeqFate::Burned);
                let seq = next.message().seq;
                assert_eq!(store.settle(&r, seq).await.unwrap(), SeqFate::Reserved(next.message().clone()));
            }

            #[tokio::test]
            async fn a_message_keeps_its_attachments_and_may_have_an_empty_body() {
                let store = $make.await;
                let (r, u) = (room_id(), user("u"));
                let mut d = draft(&r, &u, "att", "x");
                d.body = $crate::ids::MessageBody::empty();
                d.attachments = vec![attachment("photo.png", "image/png", 1234)];
                let m = store.reserve(d).await.unwrap().message().clone();
                assert_eq!(store.settle(&r, m.seq).await.unwrap(), SeqFate::Reserved(m.clone()));
                assert!(store.put_batch(std::slice::from_ref(&m)).await.into_iter().all(|x| x.is_ok()));
                let all = store.range(&r, RangeQuery { after: None, before: None, limit: 10, newest_first: false }).await.unwrap();
                assert_eq!(all, vec![m.clone()]);
                assert_eq!(all[0].attachments[0].width, Some(640));
                assert_eq!(store.latest(std::slice::from_ref(&r)).await.unwrap(), vec![m]);
            }

            #[tokio::test]
            async fn storing_a_message_again_changes_nothing() {
                let store = $make.await;
                let (r, u) = (room_id(), user("u"));
                let m1 = store.reserve(draft(&r, &u, "a", "one")).await.unwrap().message().clone();
                let m2 = store.reserve(draft(&r, &u, "b", "two")).await.unwrap().message().clone();
                assert!(store.put_batch(&[m1.clone(), m2.clone()]).await.into_iter().all(|x| x.is_ok()));
                assert!(store.put_batch(std::slice::from_ref(&m1)).await.into_iter().all(|x| x.is_ok()));
                let all = store.range(&r, RangeQuery { after: None, before: None, limit: 10, newest_first: false }).await.unwrap();
                assert_eq!(all, vec![m1, m2]);
            }

            #[tokio::test]
            async fn ranges_page_both_ways_in_ascending_order() {
                let store = $make.await;
                let (r, u) = (room_id(), user("u"));
                let mut ms = Vec::new();
                for i in 0..10 {
                    ms.push(store.reserve(draft(&r, &u, &format!("c{i}"), "m")).await.unwrap().message().clone());
                }
                // Stored in two batches, out of order.
                store.put_batch(&ms[5..]).await;
                store.put_batch(&ms[..5]).await;
                let q = |after, before, limit, newest_first| RangeQuery { after, before, limit, newest_first };
                assert_eq!(seqs(&store.range(&r, q(None, None, 3, true)).await.unwrap()), vec![8, 9, 10]);
                assert_eq!(seqs(&store.range(&r, q(None, Some(8), 3, true)).await.unwrap()), vec![5, 6, 7]);
                assert_eq!(seqs(&store.range(&r, q(Some(2), None, 3, false)).await.unwrap()), vec![3, 4, 5]);
                assert_eq!(seqs(&store.range(&r, q(Some(2), Some(5), 10, false)).await.unwrap()), vec![3, 4]);
                assert_eq!(seqs(&store.range(&r, q(Some(2), Some(5), 10, true)).await.unwrap()), vec![3, 4]);
                assert!(store.range(&r, q(Some(5), Some(5), 10, true)).await.unwrap().is_empty());
                assert!(store.range(&room_id(), q(None, None, 10, true)).await.unwrap().is_empty());
                let latest = store.latest(&[r.clone(), room_id()]).await.unwrap();
                assert_eq!(seqs(&latest), vec![10]);
            }

            #[tokio::test]
            async fn get_answers_the_stored_message_at_a_seq_and_nothing_elsewhere() {
                let store = $make.await;
                let (r, u) = (room_id(), user("u"));
                let m1 = store.reserve(draft(&r, &u, "a", "one")).await.unwrap().message().clone();
                let m2 = store.reserve(draft(&r, &u, "b", "two")).await.unwrap().message().clone();
                store.put_batch(std::slice::from_ref(&m1)).await;
                assert_eq!(store.get(&r, 1).await.unwrap(), Some(m1));
                // Reserved but not stored yet, never allocated, another room.
                assert_eq!(store.get(&r, m2.seq).await.unwrap(), None);
                assert_eq!(store.get(&r, 9).await.unwrap(), None);
                assert_eq!(store.get(&room_id(), 1).await.unwrap(), None);
            }

            #[tokio::test]
            async fn replies_keep_their_quote_and_are_found_by_their_target_in_seq_order() {
                let store = $make.await;
                let (r, other, u) = (room_id(), room_id(), user("u"));
                let target = store.reserve(draft(&r, &u, "t", "the topic")).await.unwrap().message().clone();
                let quote = $crate::replies::ReplyPreview::of(&target);
                let mut replies = Vec::new();
                for i in 0..5 {
                    let mut d = draft(&r, &u, &format!("r{i}"), "a reply");
                    // Every other one replies to the topic; the rest are plain.
                    if i % 2 == 0 {
                        d.reply_to = Some(Box::new(quote.clone()));
                    }
                    replies.push(store.reserve(d).await.unwrap().message().clone());
                }
                // The same seq replied to in another room is another thread.
                let mut elsewhere = draft(&other, &u, "x", "elsewhere");
                elsewhere.reply_to = Some(Box::new(quote.clone()));
                let elsewhere = store.reserve(elsewhere).await.unwrap().message().clone();
                store.put_batch(&replies[2..]).await;
                store.put_batch(&replies[..2]).await;
                store.put_batch(&[target.clone(), elsewhere.clone()]).await;
                let all = store.range(&r, RangeQuery { after: None, before: None, limit: 10, newest_first: false }).await.unwrap();
                assert_eq!(all[1].reply_to.as_deref(), Some(&quote));
                assert_eq!(all[2].reply_to, None);
                let thread = store.replies(&r, target.seq, None, 10).await.unwrap();
                assert_eq!(seqs(&thread), vec![2, 4, 6]);
                assert_eq!(thread[0], replies[0]);
                assert_eq!(seqs(&store.replies(&r, target.seq, None, 2).await.unwrap()), vec![2, 4]);
                assert_eq!(seqs(&store.replies(&r, target.seq, Some(4), 2).await.unwrap()), vec![6]);
                assert!(store.replies(&r, target.seq, Some(6), 2).await.unwrap().is_empty());
                assert!(store.replies(&r, 2, None, 10).await.unwrap().is_empty());
                assert_eq!(store.replies(&other, target.seq, None, 10).await.unwrap(), vec![elsewhere]);
            }
        }
    };
}

/// Scenarios for [`crate::ports::ProfileStore`].
#[macro_export]
macro_rules! profile_store_contract {
    ($make:expr) => {
        mod profile_store_contract {
            #[allow(unused_imports)]
            use super::*;
            use $crate::contract::*;
            use $crate::ids::{AvatarUrl, DisplayName};
            use $crate::model::ProfilePatch;
            use $crate::ports::ProfileStore;

            #[tokio::test]
            async fn create_if_absent_keeps_the_first_profile() {
                let store = $make.await;
                let u = user("u");
                let first = profile(&u, "First");
                assert_eq!(store.create_if_absent(&first).await.unwrap(), first);
                assert_eq!(
                    store
                        .create_if_absent(&profile(&u, "Second"))
                        .await
                        .unwrap(),
                    first
                );
                assert_eq!(store.get(&u).await.unwrap(), Some(first));
                assert_eq!(store.get(&user("nobody")).await.unwrap(), None);
            }

            #[tokio::test]
            async fn update_applies_the_patch_and_can_clear_the_avatar() {
                let store = $make.await;
                let u = user("u");
                store.create_if_absent(&profile(&u, "Name")).await.unwrap();
                let avatar = AvatarUrl::parse("https://cdn.example.com/a.png").unwrap();
                let patch = ProfilePatch {
                    display_name: Some(DisplayName::parse("New").unwrap()),
                    avatar_url: Some(Some(avatar.clone())),
                };
                let p = store.update(&u, &patch, 2_000).await.unwrap().unwrap();
                assert_eq!(
                    (p.display_name.as_str(), p.avatar_url.as_ref(), p.updated_at),
                    ("New", Some(&avatar), 2_000)
                );
                assert_eq!(store.get(&u).await.unwrap(), Some(p));
                let clear = ProfilePatch {
                    display_name: None,
                    avatar_url: Some(None),
                };
                let p = store.update(&u, &clear, 3_000).await.unwrap().unwrap();
                assert_eq!((p.display_name.as_str(), p.avatar_url), ("New", None));
                assert_eq!(
                    store.update(&user("nobody"), &clear, 3_000).await.unwrap(),
                    None
                );
            }

            #[tokio::test]
            async fn get_many_returns_the_profiles_that_exist() {
                let store = $make.await;
                let (a, b) = (user("a"), user("b"));
                store.create_if_absent(&profile(&a, "A")).await.unwrap();
                store.create_if_absent(&profile(&b, "B")).await.unwrap();
                let mut got: Vec<_> = store
                    .get_many(&[a.clone(), b.clone(), user("c")])
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|p| p.user_id)
                    .collect();
                got.sort();
                let mut want = vec![a, b];
                want.sort();
                assert_eq!(got, want);
            }
        }
    };
}

/// Scenarios for [`crate::ports::BlobStore`]. `$make` builds the store;
/// `$upload(presigned, content_type, bytes)` sends a presigned PUT as a
/// client would (the headers it was given, the content type it claims),
/// answering whether the store took it; `$download(url)` a presigned GET,
/// answering the bytes and the `Content-Type` (`None` when refused).
#[macro_export]
macro_rules! blob_store_contract {
    ($make:expr, $upload:expr, $download:expr) => {
        mod blob_store_contract {
            #[allow(unused_imports)]
            use super::*;
            use std::collections::BTreeMap;
            use $crate::ports::{BlobStore, DownloadSpec, UploadSpec};

            fn key(prefix: &str) -> String {
                format!("{prefix}/{}", $crate::contract::unique())
            }

            fn spec(len: u64) -> UploadSpec {
                let mut metadata = BTreeMap::new();
                metadata.insert("owner".to_owned(), "alice".to_owned());
                metadata.insert("room".to_owned(), "r_1".to_owned());
                UploadSpec {
                    content_type: "image/png".into(),
                    content_length: len,
                    metadata,
                }
            }

            #[tokio::test]
            async fn an_upload_is_stored_with_its_type_size_and_metadata() {
                let store = $make.await;
                let k = key("pending");
                assert_eq!(store.head(&k).await.unwrap(), None);
                let p = store
                    .presign_put(&k, &spec(5), $crate::contract::wall_clock(), 60_000)
                    .await
                    .unwrap();
                assert!(
                    p.headers
                        .iter()
                        .any(|(h, v)| h.eq_ignore_ascii_case("content-type") && v == "image/png"),
                    "{:?}",
                    p.headers
                );
                assert!(
                    $upload(p, "image/png", b"hello".to_vec()).await,
                    "the upload was refused"
                );
                let head = store.head(&k).await.unwrap().expect("stored");
                assert_eq!((head.content_type.as_str(), head.size), ("image/png", 5));
                assert_eq!(head.metadata, spec(5).metadata);
            }

            #[tokio::test]
            async fn promote_moves_the_object_with_new_metadata_and_only_once() {
                let store = $make.await;
                let (from, to) = (key("pending"), key("rooms"));
                let p = store
                    .presign_put(&from, &spec(3), $crate::contract::wall_clock(), 60_000)
                    .await
                    .unwrap();
                assert!($upload(p, "image/png", b"abc".to_vec()).await);
                let mut claimed = spec(3).metadata;
                claimed.insert("claimed-by".into(), "c1".into());
                store
                    .promote(&from, &to, "image/png", &claimed)
                    .await
                    .unwrap();
                assert_eq!(store.head(&from).await.unwrap(), None);
                let head = store.head(&to).await.unwrap().expect("moved");
                assert_eq!(
                    (head.size, &head.metadata, head.content_type.as_str()),
                    (3, &claimed, "image/png")
                );
                assert!(
                    store
                        .promote(&from, &key("rooms"), "image/png", &claimed)
                        .await
                        .is_err(),
                    "moved already"
                );
            }

            #[tokio::test]
            async fn a_presigned_get_downloads_the_bytes_with_the_asked_type() {
                let store = $make.await;
                let k = key("rooms");
                let p = store
                    .presign_put(&k, &spec(4), $crate::contract::wall_clock(), 60_000)
                    .await
                    .unwrap();
                assert!($upload(p, "image/png", b"\x89PNG".to_vec()).await);
                let get = DownloadSpec {
                    content_type: "image/png".into(),
                    disposition: "inline; filename*=UTF-8''a.png".into(),
                };
                let url = store
                    .presign_get(&k, &get, $crate::contract::wall_clock(), 60_000)
                    .await
                    .unwrap();
                let (bytes, ct) = $download(url).await.expect("downloaded");
                assert_eq!(
                    (bytes.as_slice(), ct.as_str()),
                    (&b"\x89PNG"[..], "image/png")
                );
            }

            #[tokio::test]
            async fn delete_removes_the_object_and_a_missing_key_is_no_error() {
                let store = $make.await;
                let k = key("rooms");
                let p = store
                    .presign_put(&k, &spec(2), $crate::contract::wall_clock(), 60_000)
                    .await
                    .unwrap();
                assert!($upload(p, "image/png", b"ab".to_vec()).await);
                assert!(store.head(&k).await.unwrap().is_some());
                store.delete(&k).await.unwrap();
                assert_eq!(store.head(&k).await.unwrap(), None);
                store.delete(&k).await.unwrap();
            }
        }
    };
}

/// Scenarios for [`crate::ports::Pusher`]: what every push adapter answers
/// for a connection that does not exist.
#[macro_export]
macro_rules! pusher_contract {
    ($make:expr) => {
        mod pusher_contract {
            #[allow(unused_imports)]
            use super::*;
            use $crate::contract::*;
            use $crate::error::PushError;
            use $crate::ports::Pusher;

            #[tokio::test]
            async fn posting_to_an_unknown_connection_is_gone() {
                let p = $make.await;
                assert!(matches!(
                    p.post(&connection("nope"), b"{}").await,
                    Err(PushError::Gone)
                ));
            }

            #[tokio::test]
            async fn disconnecting_an_unknown_connection_is_gone() {
                let p = $make.await;
                assert!(matches!(
                    p.disconnect(&connection("nope")).await,
                    Err(PushError::Gone)
                ));
            }
        }
    };
}

/// Scenarios for [`crate::ratelimit::RateLimiter`]: token buckets with the
/// caller's clock, all or nothing across buckets.
#[macro_export]
macro_rules! rate_limiter_contract {
    ($make:expr) => {
        mod rate_limiter_contract {
            #[allow(unused_imports)]
            use super::*;
            use $crate::contract::*;
            use $crate::ratelimit::{Bucket, Rate, RateLimiter, Verdict};

            fn bucket(rate: Rate) -> Bucket {
                Bucket::new(format!("contract:{}", unique()), rate)
            }

            const T0: i64 = 1_795_000_000_000;

            #[tokio::test]
            async fn a_bucket_gives_its_burst_then_says_when_the_next_token_comes() {
                let l = $make.await;
                let b = [bucket(Rate::new(10, 20))];
                for _ in 0..20 {
                    assert_eq!(l.acquire(&b, T0).await.unwrap(), Verdict::Allowed);
                }
                assert_eq!(
                    l.acquire(&b, T0).await.unwrap(),
                    Verdict::Limited {
                        retry_after_ms: 100
                    }
                );
                assert_eq!(
                    l.acquire(&b, T0 + 30).await.unwrap(),
                    Verdict::Limited { retry_after_ms: 70 }
                );
            }

            #[tokio::test]
            async fn tokens_refill_with_time_but_never_beyond_the_burst() {
                let l = $make.await;
                let b = [bucket(Rate::new(10, 3))];
                for _ in 0..3 {
                    assert_eq!(l.acquire(&b, T0).await.unwrap(), Verdict::Allowed);
                }
                assert_eq!(l.acquire(&b, T0 + 100).await.unwrap(), Verdict::Allowed);
                assert!(matches!(
                    l.acquire(&b, T0 + 100).await.unwrap(),
                    Verdict::Limited { .. }
                ));
                // An hour idle refills three, not thirty-six thousand.
                let later = T0 + 3_600_000;
                for _ in 0..3 {
                    assert_eq!(l.acquire(&b, later).await.unwrap(), Verdict::Allowed);
                }
                assert!(matches!(
                    l.acquire(&b, later).await.unwrap(),
                    Verdict::Limited { .. }
                ));
            }

            #[tokio::test]
            async fn one_empty_bucket_refuses_the_request_and_takes_from_none() {
                let l = $make.await;
                // Taken together, so in one scope.
                let scope = format!("contract:{}", unique());
                let (wide, narrow) = (
                    bucket(Rate::new(1, 5)).in_scope(&scope),
                    bucket(Rate::new(1, 1)).in_scope(&scope),
                );
                let both = [wide.clone(), narrow.clone()];
                assert_eq!(l.acquire(&both, T0).await.unwrap(), Verdict::Allowed);
                assert_eq!(
                    l.acquire(&both, T0).await.unwrap(),
                    Verdict::Limited {
                        retry_after_ms: 1_000
                    }
                );
                // The refusal took nothing from the wide bucket: four are left.
                let wide = [wide];
                for _ in 0..4 {
                    assert_eq!(l.acquire(&wide, T0).await.unwrap(), Verdict::Allowed);
                }
                assert!(matches!(
                    l.acquire(&wide, T0).await.unwrap(),
                    Verdict::Limited { .. }
                ));
            }

            #[tokio::test]
            async fn buckets_are_independent() {
                let l = $make.await;
                let (a, b) = ([bucket(Rate::new(1, 1))], [bucket(Rate::new(1, 1))]);
                assert_eq!(l.acquire(&a, T0).await.unwrap(), Verdict::Allowed);
                assert!(matches!(
                    l.acquire(&a, T0).await.unwrap(),
                    Verdict::Limited { .. }
                ));
                assert_eq!(l.acquire(&b, T0).await.unwrap(), Verdict::Allowed);
            }

            #[tokio::test]
            async fn a_clock_that_goes_back_refills_nothing() {
                let l = $make.await;
                let b = [bucket(Rate::new(1, 1))];
                assert_eq!(l.acquire(&b, T0 + 10_000).await.unwrap(), Verdict::Allowed);
                assert!(matches!(
                    l.acquire(&b, T0).await.unwrap(),
                    Verdict::Limited { .. }
                ));
                assert!(matches!(
                    l.acquire(&b, T0 + 10_500).await.unwrap(),
                    Verdict::Limited { .. }
                ));
                assert_eq!(l.acquire(&b, T0 + 11_000).await.unwrap(), Verdict::Allowed);
            }
        }
    };
}

/// An index entry of a message with `body` at `seq`, sent at `sent_at`.
pub fn index_entry(room: &RoomId, seq: u64, sent_at: i64, body: &str) -> crate::search::IndexEntry {
    crate::search::IndexEntry {
        room_id: room.clone(),
        seq,
        sent_at,
        terms: crate::search::terms(body),
    }
}

/// Scenarios for [`crate::ports::SearchIndex`].
#[macro_export]
macro_rules! search_index_contract {
    ($make:expr) => {
        mod search_index_contract {
            #[allow(unused_imports)]
            use super::*;
            use $crate::contract::*;
            use $crate::ids::RoomId;
            use $crate::ports::SearchIndex;
            use $crate::search::{merge, SearchKey, SearchQuery};

            fn q(s: &str) -> SearchQuery {
                SearchQuery::parse(s).expect("valid query")
            }

            async fn seqs(index: &dyn SearchIndex, room: &RoomId, query: &str) -> Vec<u64> {
                let found = index.search(room, &q(query), None, 50).await.unwrap();
                found.hits.iter().map(|k| k.seq).collect()
            }

            /// Every page of one room's matches, `limit` at a time.
            async fn all_pages(
                index: &dyn SearchIndex,
                room: &RoomId,
                query: &str,
                limit: usize,
            ) -> Vec<Vec<u64>> {
                let mut below: Option<SearchKey> = None;
                let mut pages = Vec::new();
                for _ in 0..100 {
                    let found = index
                        .search(room, &q(query), below.as_ref(), limit)
                        .await
                        .unwrap();
                    assert!(found.hits.len() <= limit);
                    let (hits, next) = merge(vec![found], limit);
                    pages.push(hits.iter().map(|k| k.seq).collect());
                    match next {
                        Some(n) => below = Some(n),
                        None => return pages,
                    }
                }
                panic!("paging did not end");
            }

            #[tokio::test]
            async fn a_word_its_prefix_and_other_cases_find_the_message_of_that_room_only() {
                let index = $make.await;
                let (a, b) = (room_id(), room_id());
                let r = index
                    .index(&[
                        index_entry(&a, 1, 1_000, "Hello Grüße from Köln"),
                        index_entry(&a, 2, 2_000, "nothing here"),
                        index_entry(&b, 1, 1_500, "hello from the other room"),
                    ])
                    .await;
                assert!(r.iter().all(Result::is_ok), "{r:?}");
                assert_eq!(seqs(&index, &a, "hello").await, vec![1]);
                assert_eq!(seqs(&index, &a, "HEL").await, vec![1]);
                assert_eq!(seqs(&index, &a, "GRÜSSE").await, vec![1], "case folded");
                assert_eq!(seqs(&index, &a, "grüße köln").await, vec![1]);
                assert_eq!(seqs(&index, &a, "hello here").await, Vec::<u64>::new());
                assert_eq!(seqs(&index, &a, "absent").await, Vec::<u64>::new());
                assert_eq!(seqs(&index, &b, "hello").await, vec![1]);
                assert_eq!(seqs(&index, &room_id(), "hello").await, Vec::<u64>::new());
                // Short words match whole words only.
                assert_eq!(seqs(&index, &a, "he").await, Vec::<u64>::new());
                index.index(&[index_entry(&a, 3, 3_000, "he said")]).await;
                assert_eq!(seqs(&index, &a, "he").await, vec![3]);
            }

            #[tokio::test]
            async fn results_come_newest_first_and_pages_cover_every_match_once() {
                let index = $make.await;
                let r = room_id();
                let entries: Vec<_> = (1..=23u64)
                    .map(|i| {
                        let body = if i % 2 == 0 {
                            "even searchable"
                        } else {
                            "odd searchable"
                        };
                        index_entry(&r, i, 1_000 * i as i64, body)
                    })
                    .collect();
                // In several calls, and one of them twice: idempotent.
                index.index(&entries[..10]).await;
                index.index(&entries[5..]).await;
                let want: Vec<u64> = (1..=23u64).rev().collect();
                let pages = all_pages(&index, &r, "search", 5).await;
                assert!(pages.iter().all(|p| p.len() <= 5), "{pages:?}");
                assert_eq!(pages.concat(), want);
                let evens: Vec<u64> = want.iter().copied().filter(|s| s % 2 == 0).collect();
                assert_eq!(
                    all_pages(&index, &r, "even search", 4).await.concat(),
                    evens
                );
            }

            #[tokio::test]
            async fn a_cursor_of_another_room_at_the_same_time_splits_it_by_room_then_seq() {
                let index = $make.await;
                let r = room_id();
                index
                    .index(&[
                        index_entry(&r, 1, 5_000, "tick"),
                        index_entry(&r, 2, 5_000, "tick"),
                        index_entry(&r, 3, 4_000, "tick"),
                    ])
                    .await;
                let at = |room: &str, seq| SearchKey {
                    sent_at: 5_000,
                    room_id: RoomId::parse(room).unwrap(),
                    seq,
                };
                let below = |k: SearchKey| {
                    let index = &index;
                    let r = r.clone();
                    async move {
                        let found = index.search(&r, &q("tick"), Some(&k), 10).await.unwrap();
                        found.hits.iter().map(|k| k.seq).collect::<Vec<_>>()
                    }
                };
                // A lower room id at the same time: this room's entries of
                // that time came first, so only the older one is left.
                assert_eq!(below(at("-", 0)).await, vec![3]);
                // A higher room id: all of this room's entries of that time follow it.
                assert_eq!(below(at("zzzz", 0)).await, vec![2, 1, 3]);
                // This room: by seq.
                let same = SearchKey {
                    room_id: r.clone(),
                    ..at("x", 2)
                };
                assert_eq!(below(same).await, vec![1, 3]);
            }

            #[tokio::test]
            async fn a_removed_entry_is_found_no_more_and_removing_twice_is_fine() {
                let index = $make.await;
                let r = room_id();
                index
                    .index(&[
                        index_entry(&r, 1, 1_000, "apple banana cherry date elderberry"),
                        index_entry(&r, 2, 2_000, "apple pie"),
                    ])
                    .await;
                index.remove(&r, 1).await.unwrap();
                assert_eq!(seqs(&index, &r, "apple").await, vec![2]);
                for word in ["banana", "cherry", "date", "elderberry"] {
                    assert_eq!(seqs(&index, &r, word).await, Vec::<u64>::new(), "{word}");
                }
                index.remove(&r, 1).await.unwrap();
                index.remove(&r, 99).await.unwrap();
                index.remove(&room_id(), 1).await.unwrap();
                assert_eq!(seqs(&index, &r, "apple").await, vec![2]);
                // An edit: remove, then index the new body at the same seq.
                index
                    .index(&[index_entry(&r, 1, 1_000, "edited text")])
                    .await;
                assert_eq!(seqs(&index, &r, "edited").await, vec![1]);
                assert_eq!(seqs(&index, &r, "banana").await, Vec::<u64>::new());
            }
        }
    };
}

/// A device of `user` with a fresh public endpoint.
pub fn device(user: &UserId) -> crate::notify::Device {
    let subscription = crate::notify::PushSubscription::parse(
        &format!("https://push.example.com/send/{}", unique()),
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        "BTBZMqHH6r4Tts7J_aSIgg",
        crate::notify::EndpointRules::default(),
    )
    .expect("valid subscription");
    crate::notify::Device {
        device_id: subscription.device_id(),
        user_id: user.clone(),
        channel: crate::notify::Channel::WebPush { subscription },
        created_at: 1_000,
    }
}

/// A mobile (FCM) device of `user` with a fresh token and endpoint ARN.
pub fn mobile_device(user: &UserId) -> crate::notify::Device {
    let token =
        crate::mobile::MobileToken::parse("fcm", &format!("tok:{}-{}", unique(), "a".repeat(32)))
            .expect("valid token");
    crate::notify::Device {
        device_id: token.device_id(),
        user_id: user.clone(),
        channel: crate::notify::Channel::Mobile {
            mobile: crate::mobile::MobileEndpoint {
                endpoint_arn: format!(
                    "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/chat/{}",
                    unique()
                ),
                token,
            },
        },
        created_at: 1_000,
    }
}

/// Scenarios for [`crate::ports::MobilePush`]: `$make` builds an adapter
/// (async) with both platforms configured, and `$disable` (async) makes
/// the push service report an endpoint disabled.
#[macro_export]
macro_rules! mobile_push_contract {
    ($make:expr, $disable:expr) => {
        mod mobile_push_contract {
            use super::*;
            use $crate::error::WebPushError;
            use $crate::mobile::{MobilePlatform, MobileToken};
            use $crate::ports::MobilePush;

            fn fcm() -> MobileToken {
                MobileToken::parse(
                    "fcm",
                    &format!("tok:{}-{}", $crate::contract::unique(), "a".repeat(32)),
                )
                .unwrap()
            }

            #[tokio::test]
            async fn an_endpoint_is_created_once_per_token_and_published_to() {
                let p = $make.await;
                assert!(p.configured(MobilePlatform::Fcm));
                let owner = $crate::contract::user("mobile-owner");
                let t = fcm();
                let a = p.create_endpoint(&t, &owner).await.unwrap();
                let b = p.create_endpoint(&t, &owner).await.unwrap();
                assert_eq!(a, b, "idempotent per token");
                assert_ne!(a, p.create_endpoint(&fcm(), &owner).await.unwrap());
                p.publish(&a, r#"{"default":"x","GCM":"{}"}"#)
                    .await
                    .unwrap();
            }

            #[tokio::test]
            async fn a_disabled_endpoint_is_gone_and_a_deleted_one_too() {
                let p = $make.await;
                let owner = $crate::contract::user("mobile-owner");
                let a = p.create_endpoint(&fcm(), &owner).await.unwrap();
                ($disable)(&p, a.clone()).await;
                assert!(matches!(
                    p.publish(&a, r#"{"default":"x"}"#).await,
                    Err(WebPushError::Gone)
                ));
                let b = p.create_endpoint(&fcm(), &owner).await.unwrap();
                p.delete_endpoint(&b).await.unwrap();
                p.delete_endpoint(&b).await.unwrap();
                assert!(matches!(
                    p.publish(&b, r#"{"default":"x"}"#).await,
                    Err(WebPushError::Gone)
                ));
            }
        }
    };
}

/// Scenarios for [`crate::ports::NotifyStore`].
#[macro_export]
macro_rules! notify_store_contract {
    ($make:expr) => {
        mod notify_store_contract {
            #[allow(unused_imports)]
            use super::*;
            use $crate::contract::*;
            use $crate::notify::{Dnd, NotifyPolicy, MAX_DEVICES};
            use $crate::ports::NotifyStore;

            fn ids(mut d: Vec<$crate::notify::Device>) -> Vec<String> {
                let mut v: Vec<String> = d.drain(..).map(|d| d.device_id.to_string()).collect();
                v.sort();
                v
            }

            #[tokio::test]
            async fn devices_are_listed_per_user_replaced_by_id_and_removed() {
                let s = $make.await;
                let (bob, carol) = (user("bob"), user("carol"));
                let (d1, d2, d3) = (device(&bob), device(&bob), device(&carol));
                for d in [&d1, &d2, &d3] {
                    assert!(s.put_device(d).await.unwrap());
                }
                // The same subscription again replaces it.
                let mut again = d1.clone();
                again.created_at = 2_000;
                assert!(s.put_device(&again).await.unwrap());
                let mut want = vec![d1.device_id.to_string(), d2.device_id.to_string()];
                want.sort();
                assert_eq!(ids(s.devices(&bob).await.unwrap()), want);
                let stored = s.devices(&bob).await.unwrap();
                assert_eq!(
                    stored.iter().find(|d| d.device_id == d1.device_id),
                    Some(&again)
                );
                let mut all = want.clone();
                all.push(d3.device_id.to_string());
                all.sort();
                assert_eq!(
                    ids(s
                        .devices_of(&[bob.clone(), carol.clone(), bob.clone()])
                        .await
                        .unwrap()),
                    all
                );
                assert!(s.remove_device(&bob, &d1.device_id).await.unwrap());
                assert!(!s.remove_device(&bob, &d1.device_id).await.unwrap());
                // Another user's device is not removed through bob.
                assert!(!s.remove_device(&bob, &d3.device_id).await.unwrap());
                assert_eq!(
                    ids(s.devices(&bob).await.unwrap()),
                    vec![d2.device_id.to_string()]
                );
                assert_eq!(s.devices(&user("nobody")).await.unwrap(), vec![]);
            }

            #[tokio::test]
            async fn a_user_has_at_most_max_devices() {
                let s = $make.await;
                let bob = user("bob");
                let first = device(&bob);
                assert!(s.put_device(&first).await.unwrap());
                for _ in 1..MAX_DEVICES {
                    assert!(s.put_device(&device(&bob)).await.unwrap());
                }
                assert!(!s.put_device(&device(&bob)).await.unwrap());
                assert_eq!(s.devices(&bob).await.unwrap().len(), MAX_DEVICES);
                // Replacing one that exists is still fine.
                assert!(s.put_device(&first).await.unwrap());
            }

            #[tokio::test]
            async fn a_policy_defaults_and_is_replaced_whole() {
                let s = $make.await;
                let bob = user("bob");
                assert_eq!(s.policy(&bob).await.unwrap(), NotifyPolicy::default());
                let p = NotifyPolicy {
                    dnd: Dnd::Until { until: 9_000 },
                    muted_rooms: [room_id()].into(),
                    muted_users: [user("carol")].into(),
                    mentions_only: true,
                    ..Default::default()
                };
                s.put_policy(&bob, &p).await.unwrap();
                assert_eq!(s.policy(&bob).await.unwrap(), p);
                s.put_policy(&bob, &NotifyPolicy::default()).await.unwrap();
                assert_eq!(s.policy(&bob).await.unwrap(), NotifyPolicy::default());
            }

            #[tokio::test]
            async fn a_window_notifies_once_and_carries_its_count_to_the_next() {
                let s = $make.await;
                let (bob, r, other) = (user("bob"), room_id(), room_id());
                const W: i64 = 30_000;
                let t0 = 1_000_000;
                assert_eq!(s.claim(&bob, &r, 1, t0, W).await.unwrap(), Some(1));
                assert_eq!(s.claim(&bob, &r, 2, t0 + 10, W).await.unwrap(), None);
                assert_eq!(s.claim(&bob, &r, 1, t0 + W - 1, W).await.unwrap(), None);
                // Another room and another user have their own windows.
                assert_eq!(s.claim(&bob, &other, 5, t0 + 20, W).await.unwrap(), Some(5));
                assert_eq!(
                    s.claim(&user("carol"), &r, 1, t0 + 20, W).await.unwrap(),
                    Some(1)
                );
                // The window closed: the next message notifies with the 3 counted and itself.
                assert_eq!(s.claim(&bob, &r, 1, t0 + W, W).await.unwrap(), Some(4));
                assert_eq!(s.claim(&bob, &r, 1, t0 + W + 1, W).await.unwrap(), None);
            }

            #[tokio::test]
            async fn of_concurrent_claims_exactly_one_opens_the_window() {
                let s = std::sync::Arc::new($make.await);
                let (bob, r) = (user("bob"), room_id());
                let claims: Vec<_> = (0..8)
                    .map(|_| {
                        let (s, bob, r) = (s.clone(), bob.clone(), r.clone());
                        tokio::spawn(async move { s.claim(&bob, &r, 1, 5_000_000, 30_000).await })
                    })
                    .collect();
                let mut opened = 0;
                for c in claims {
                    if c.await.unwrap().unwrap().is_some() {
                        opened += 1;
                    }
                }
                assert_eq!(opened, 1);
                assert_eq!(
                    s.claim(&bob, &r, 1, 5_030_000, 30_000).await.unwrap(),
                    Some(8)
                );
            }
        }
    };
}

/// A well-formed sealed payload (what an encrypted room's message or edit
/// carries) for one device of user `u`.
pub fn sealed_sample() -> crate::e2ee::Sealed {
    serde_json::from_value(serde_json::json!({
        "v": 1, "nonce": "AAAAAAAAAAAAAAAA", "ciphertext": "AQEBAQEBAQEBAQEBAQEBAQEB",
        "envelopes": [{"userId": "u", "deviceId": "d",
            "ephemeralKey": "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
            "nonce": "AAAAAAAAAAAAAAAA",
            "wrappedKey": "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH"}]
    }))
    .unwrap_or_else(|e| panic!("the sample seal is well-formed: {e}"))
}

/// A fresh state of a message of `room` at `seq`, as of `change`.
pub fn state(room: &RoomId, seq: crate::ids::Seq, change: u64) -> crate::changes::MessageState {
    let sender = user("s");
    let mut s = crate::changes::MessageState::initial(
        &draft(room, &sender, &format!("c{seq}"), "hello").with_seq(seq),
    );
    s.change = change;
    s
}

/// Scenarios for [`crate::ports::MessageChanges`].
#[macro_export]
macro_rules! message_changes_contract {
    ($make:expr) => {
        mod message_changes_contract {
            #[allow(unused_imports)]
            use super::*;
            use $crate::changes::Emoji;
            use $crate::contract::*;
            use $crate::ids::MessageBody;
            use $crate::ports::MessageChanges;

            #[tokio::test]
            async fn a_room_without_changes_has_counter_zero_and_no_states() {
                let store = $make.await;
                let r = room_id();
                assert_eq!(store.last_change(&r).await.unwrap(), 0);
                assert_eq!(store.state(&r, 1).await.unwrap(), None);
                assert!(store.states(&r, 1, 100).await.unwrap().is_empty());
                assert!(store.changes_after(&r, 0, 10).await.unwrap().is_empty());
            }

            #[tokio::test]
            async fn commits_number_the_room_s_changes_in_order() {
                let store = $make.await;
                let r = room_id();
                let mut a = state(&r, 3, 1);
                a.edit(MessageBody::parse("edited", 100, 100).unwrap(), 5)
                    .unwrap();
                assert!(store.commit(&a).await.unwrap());
                let mut b = state(&r, 7, 2);
                b.toggle(Emoji::parse("👍").unwrap(), &user("u")).unwrap();
                assert!(store.commit(&b).await.unwrap());
                let mut a3 = a.clone();
                a3.change = 3;
                a3.delete(9).unwrap();
                assert!(store.commit(&a3).await.unwrap());
                assert_eq!(store.last_change(&r).await.unwrap(), 3);
                assert_eq!(store.state(&r, 3).await.unwrap(), Some(a3.clone()));
                assert_eq!(
                    store.states(&r, 1, 7).await.unwrap(),
                    vec![a3.clone(), b.clone()]
                );
                assert_eq!(store.states(&r, 4, 6).await.unwrap(), vec![]);
                assert_eq!(
                    store.changes_after(&r, 0, 10).await.unwrap(),
                    vec![a.clone(), b.clone(), a3.clone()]
                );
                assert_eq!(store.changes_after(&r, 1, 1).await.unwrap(), vec![b]);
                assert!(store.changes_after(&r, 3, 10).await.unwrap().is_empty());
                // Other rooms keep their own counters.
                assert_eq!(store.last_change(&room_id()).await.unwrap(), 0);
            }

            #[tokio::test]
            async fn a_sealed_edit_is_kept_and_a_delete_drops_it() {
                let store = $make.await;
                let r = room_id();
                let sealed = sealed_sample();
                let mut a = state(&r, 1, 1);
                a.edit_sealed(Box::new(sealed.clone()), 5).unwrap();
                assert!(store.commit(&a).await.unwrap());
                let got = store.state(&r, 1).await.unwrap().unwrap();
                assert_eq!(got.sealed.as_deref(), Some(&sealed));
                assert_eq!((got.body, got.edited_at), (None, Some(5)));
                assert_eq!(
                    store.changes_after(&r, 0, 10).await.unwrap(),
                    vec![a.clone()]
                );
                let mut d = a.clone();
                d.change = 2;
                d.delete(6).unwrap();
                assert!(store.commit(&d).await.unwrap());
                assert_eq!(store.state(&r, 1).await.unwrap().unwrap().sealed, None);
            }

            #[tokio::test]
            async fn a_commit_on_a_stale_counter_changes_nothing() {
                let store = $make.await;
                let r = room_id();
                assert!(!store.commit(&state(&r, 1, 2)).await.unwrap(), "skips 1");
                assert!(store.commit(&state(&r, 1, 1)).await.unwrap());
                let mut late = state(&r, 2, 1);
                late.edit(MessageBody::parse("late", 100, 100).unwrap(), 5)
                    .unwrap();
                assert!(!store.commit(&late).await.unwrap(), "1 is taken");
                assert_eq!(store.last_change(&r).await.unwrap(), 1);
                assert_eq!(store.state(&r, 2).await.unwrap(), None);
                assert_eq!(store.changes_after(&r, 0, 10).await.unwrap().len(), 1);
            }

            #[tokio::test]
            async fn of_concurrent_commits_of_one_number_exactly_one_wins() {
                let store = std::sync::Arc::new($make.await);
                let r = room_id();
                let tries = (1..=6u64).map(|seq| {
                    let (store, s) = (store.clone(), state(&r, seq, 1));
                    async move { store.commit(&s).await.unwrap() }
                });
                let won = futures::future::join_all(tries).await;
                assert_eq!(won.iter().filter(|w| **w).count(), 1, "{won:?}");
                assert_eq!(store.changes_after(&r, 0, 10).await.unwrap().len(), 1);
            }
        }
    };
}

/// Scenarios for [`crate::ports::BlockStore`].
#[macro_export]
macro_rules! block_store_contract {
    ($make:expr) => {
        mod block_store_contract {
            #[allow(unused_imports)]
            use super::*;
            use $crate::block::{Between, Block};
            use $crate::contract::*;
            use $crate::ports::BlockStore;

            fn block(by: &$crate::ids::UserId, of: &$crate::ids::UserId, at: i64) -> Block {
                Block {
                    user_id: by.clone(),
                    target_id: of.clone(),
                    created_at: at,
                }
            }

            #[tokio::test]
            async fn a_block_reads_from_both_sides_and_unblock_removes_both() {
                let s = $make.await;
                let (alice, bob, carol) = (user("alice"), user("bob"), user("carol"));
                assert!(s.relations(&alice).await.unwrap().is_empty());
                assert!(s.block(&block(&alice, &bob, 10)).await.unwrap());
                assert!(s.block(&block(&carol, &alice, 20)).await.unwrap());

                let a = s.relations(&alice).await.unwrap();
                assert_eq!(a.between(&bob), Between::ActorBlocks);
                assert_eq!(a.between(&carol), Between::BlockedByOther);
                assert_eq!(a.blocks.get(&bob), Some(&block(&alice, &bob, 10)));
                assert_eq!(a.blocks.len(), 1);
                let b = s.relations(&bob).await.unwrap();
                assert_eq!(b.between(&alice), Between::BlockedByOther);
                assert!(b.blocks.is_empty());

                // Blocking back makes it mutual, on both sides.
                assert!(s.block(&block(&bob, &alice, 30)).await.unwrap());
                assert_eq!(
                    s.relations(&alice).await.unwrap().between(&bob),
                    Between::Both
                );
                assert_eq!(
                    s.relations(&bob).await.unwrap().between(&alice),
                    Between::Both
                );

                assert!(s.unblock(&alice, &bob).await.unwrap());
                assert_eq!(
                    s.relations(&alice).await.unwrap().between(&bob),
                    Between::BlockedByOther
                );
                assert_eq!(
                    s.relations(&bob).await.unwrap().between(&alice),
                    Between::ActorBlocks
                );
                // Nothing to remove: false, and nothing else changes.
                assert!(!s.unblock(&alice, &bob).await.unwrap());
                assert!(!s.unblock(&alice, &carol).await.unwrap());
                assert_eq!(
                    s.relations(&alice).await.unwrap().between(&carol),
                    Between::BlockedByOther
                );
            }

            #[tokio::test]
            async fn blocking_again_changes_nothing() {
                let s = $make.await;
                let (alice, bob) = (user("alice"), user("bob"));
                assert!(s.block(&block(&alice, &bob, 10)).await.unwrap());
                assert!(!s.block(&block(&alice, &bob, 99)).await.unwrap());
                let a = s.relations(&alice).await.unwrap();
                assert_eq!(a.blocks.get(&bob).map(|b| b.created_at), Some(10));
                assert_eq!(s.relations(&bob).await.unwrap().blocked_by.len(), 1);
            }

            #[tokio::test]
            async fn relations_are_per_user() {
                let s = $make.await;
                let (alice, bob, dave) = (user("alice"), user("bob"), user("dave"));
                assert!(s.block(&block(&alice, &bob, 1)).await.unwrap());
                assert!(s.relations(&dave).await.unwrap().is_empty());
                assert_eq!(
                    s.relations(&dave).await.unwrap().between(&alice),
                    Between::Clear
                );
            }
        }
    };
}

/// Scenarios for [`crate::ports::KeyStore`].
#[macro_export]
macro_rules! key_store_contract {
    ($make:expr) => {
        mod key_store_contract {
            #[allow(unused_imports)]
            use super::*;
            use $crate::contract::*;
            use $crate::e2ee::{DeviceId, DeviceKey, PublicKey, MAX_DEVICES_PER_USER};
            use $crate::ports::KeyStore;

            /// The generator of P-256, and 2·G.
            const G: &str = "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU";
            const G2: &str = "BHzyexiNA09-ilI4AwS1GsPAiWnid_IbNaYLSPxHZpl4B3dVENuO0EApPZrGn3Qw27p9reY86YIpngS3nSJ4c9E";

            fn dk(u: &$crate::ids::UserId, d: &str, k: &str, at: i64) -> DeviceKey {
                DeviceKey {
                    user_id: u.clone(),
                    device_id: DeviceId::parse(d).unwrap(),
                    public_key: PublicKey::parse(k).unwrap(),
                    created_at: at,
                }
            }

            #[tokio::test]
            async fn keys_are_put_replaced_listed_bounded_and_deleted() {
                let s = $make.await;
                let (alice, bob) = (user("alice"), user("bob"));
                assert!(s.keys(&alice).await.unwrap().is_empty());
                assert!(s.put_key(&dk(&alice, "b", G, 1)).await.unwrap());
                assert!(s.put_key(&dk(&alice, "a", G, 2)).await.unwrap());
                assert!(s.put_key(&dk(&bob, "a", G2, 3)).await.unwrap());
                assert_eq!(
                    s.keys(&alice).await.unwrap(),
                    vec![dk(&alice, "a", G, 2), dk(&alice, "b", G, 1)]
                );
                // Replacing a device's key.
                assert!(s.put_key(&dk(&alice, "a", G2, 5)).await.unwrap());
                assert_eq!(s.keys(&alice).await.unwrap()[0], dk(&alice, "a", G2, 5));
                // The limit counts devices, and a known device may still
                // be replaced at it.
                for i in 2..MAX_DEVICES_PER_USER {
                    assert!(s.put_key(&dk(&alice, &format!("d{i}"), G, 6)).await.unwrap());
                }
                assert!(!s.put_key(&dk(&alice, "extra", G, 7)).await.unwrap());
                assert!(s.put_key(&dk(&alice, "b", G2, 8)).await.unwrap());
                assert_eq!(s.keys(&alice).await.unwrap().len(), MAX_DEVICES_PER_USER);
                let a = DeviceId::parse("a").unwrap();
                assert!(s.delete_key(&alice, &a).await.unwrap());
                assert!(!s.delete_key(&alice, &a).await.unwrap());
                assert_eq!(s.keys(&bob).await.unwrap(), vec![dk(&bob, "a", G2, 3)]);
            }

            #[tokio::test]
            async fn a_ciphertext_is_claimed_once_per_room_and_a_resend_keeps_it() {
                let s = $make.await;
                let (alice, bob) = (user("alice"), user("bob"));
                let (r1, r2) = (
                    room_id(),
                    room_id(),
                );
                let c = |x: &str| $crate::ids::ClientMsgId::parse(x).unwrap();
                assert!(s.claim_seal(&r1, "d1", &alice, &c("m1")).await.unwrap());
                assert!(s.claim_seal(&r1, "d1", &alice, &c("m1")).await.unwrap());
                assert!(!s.claim_seal(&r1, "d1", &alice, &c("m2")).await.unwrap());
                assert!(!s.claim_seal(&r1, "d1", &bob, &c("m1")).await.unwrap());
                assert!(s.claim_seal(&r2, "d1", &bob, &c("m1")).await.unwrap());
                assert!(s.claim_seal(&r1, "d2", &alice, &c("m2")).await.unwrap());
            }
        }
    };
}

#[cfg(test)]
mod memory_adapters {
    use crate::memory::{
        MemoryConnections, MemoryMessages, MemoryProfiles, MemoryPusher, MemoryRooms,
    };

    crate::connection_store_contract!(async { MemoryConnections::default() });
    crate::room_store_contract!(async { MemoryRooms::default() });
    crate::message_store_contract!(async { MemoryMessages::default() });
    crate::message_changes_contract!(async { crate::memory::MemoryChanges::default() });
    crate::profile_store_contract!(async { MemoryProfiles::default() });
    crate::notify_store_contract!(async { crate::memory::MemoryNotify::default() });
    crate::block_store_contract!(async { crate::memory::MemoryBlocks::default() });
    crate::key_store_contract!(async { crate::memory::MemoryKeys::default() });
    crate::search_index_contract!(async { crate::memory::MemorySearch::default() });
    crate::pusher_contract!(async { MemoryPusher::default() });
    crate::rate_limiter_contract!(async { crate::ratelimit::MemoryRateLimiter::default() });
    crate::blob_store_contract!(
        async { blobs::STORE.clone() },
        blobs::upload,
        blobs::download
    );

    /// The memory store's presigned requests, sent as the local platform
    /// receives them (`chat-local` serves them over HTTP).
    mod blobs {
        use std::collections::BTreeMap;
        use std::sync::{Arc, LazyLock};

        use crate::memory::{MemoryBlobs, BLOB_PATH};
        use crate::ports::Presigned;

        pub static STORE: LazyLock<Arc<MemoryBlobs>> = LazyLock::new(Arc::default);

        fn split(url: &str) -> (String, String) {
            let path = url.split_once(BLOB_PATH).map_or("", |(_, p)| p);
            let (key, query) = path.split_once('?').unwrap_or((path, ""));
            (key.to_owned(), query.to_owned())
        }

        pub async fn upload(p: Presigned, content_type: &str, body: Vec<u8>) -> bool {
            let (key, query) = split(&p.url);
            let meta: BTreeMap<String, String> = p
                .headers
                .into_iter()
                .filter(|(h, _)| h.starts_with("x-amz-meta-"))
                .collect();
            STORE
                .put_signed(
                    &key,
                    &query,
                    content_type,
                    &meta,
                    body,
                    super::super::wall_clock(),
                )
                .is_ok()
        }

        pub async fn download(url: String) -> Option<(Vec<u8>, String)> {
            let (key, query) = split(&url);
            let d = STORE
                .get_signed(&key, &query, super::super::wall_clock())
                .ok()?;
            Some((d.bytes, d.content_type))
        }

        #[test]
        fn a_tampered_expired_or_mismatched_request_is_refused() {
            use crate::memory::BlobRefusal;
            use crate::ports::{BlobStore, DownloadSpec, UploadSpec};
            let store = MemoryBlobs::default();
            let mut metadata = BTreeMap::new();
            metadata.insert("owner".to_owned(), "alice".to_owned());
            let spec = UploadSpec {
                content_type: "image/png".into(),
                content_length: 3,
                metadata,
            };
            let now = 1_000_000;
            let p = futures::executor::block_on(store.presign_put("pending/a", &spec, now, 1_000))
                .unwrap();
            let (key, query) = split(&p.url);
            let meta: BTreeMap<String, String> =
                [("x-amz-meta-owner".to_owned(), "alice".to_owned())].into();
            let put = |ct: &str, meta: &BTreeMap<String, String>, body: &[u8], at: i64| {
                store.put_signed(&key, &query, ct, meta, body.to_vec(), at)
            };
            // Another type, another size, other metadata, another key: the signature says no.
            assert_eq!(
                put("image/jpeg", &meta, b"abc", now),
                Err(BlobRefusal::BadSignature)
            );
            assert_eq!(
                put("image/png", &meta, b"abcd", now),
                Err(BlobRefusal::BadSignature)
            );
            let mallory: BTreeMap<String, String> =
                [("x-amz-meta-owner".to_owned(), "mallory".to_owned())].into();
            assert_eq!(
                put("image/png", &mallory, b"abc", now),
                Err(BlobRefusal::BadSignature)
            );
            assert_eq!(
                store.put_signed(
                    "pending/b",
                    &query,
                    "image/png",
                    &meta,
                    b"abc".to_vec(),
                    now
                ),
                Err(BlobRefusal::BadSignature)
            );
            // Too late.
            assert_eq!(
                put("image/png", &meta, b"abc", now + 1_001),
                Err(BlobRefusal::Expired)
            );
            assert!(
                store.keys().is_empty(),
                "nothing stored by a refused request"
            );
            assert_eq!(put("image/png", &meta, b"abc", now + 1_000), Ok(()));
            let get = DownloadSpec {
                content_type: "image/png".into(),
                disposition: "inline".into(),
            };
            let url = futures::executor::block_on(store.presign_get("pending/a", &get, now, 1_000))
                .unwrap();
            let (key, query) = split(&url);
            assert!(store.get_signed(&key, &query, now + 1_000).is_ok());
            assert_eq!(
                store.get_signed(&key, &query, now + 1_001),
                Err(BlobRefusal::Expired)
            );
            let forged = query.replace("inline", "attachment");
            assert_eq!(
                store.get_signed(&key, &forged, now),
                Err(BlobRefusal::BadSignature)
            );
        }
    }
}
