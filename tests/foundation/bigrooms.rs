//! Rooms bigger than `fanout_inline_max`: the message is acked once queued,
//! and the persist workers push it in shards ([`chat_core::model::Job::FanOut`]).
//! Shards of two members here, so five members make three shards.

use chat_core::config::Limits;
use chat_core::model::Job;
use chat_tests::Platform;
use serde_json::json;

fn big_rooms() -> Limits {
    Limits {
        fanout_inline_max: 2,
        fanout_shard_size: 2,
        ..Limits::default()
    }
}

fn send(room: &str, id: &str, body: &str) -> serde_json::Value {
    json!({"action":"sendMessage","roomId":room,"clientMsgId":id,"body":body})
}

fn queued_shards(p: &Platform) -> Vec<Vec<String>> {
    let jobs = p.mem.queue.take(usize::MAX);
    p.mem.queue.requeue(jobs.clone());
    jobs.iter()
        .filter_map(|j| match serde_json::from_str::<Job>(&j.body) {
            Ok(Job::FanOut { user_ids, .. }) => {
                Some(user_ids.iter().map(|u| u.to_string()).collect())
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_big_rooms_message_is_acked_when_queued_and_the_workers_push_every_shard() {
    let p = Platform::new(big_rooms());
    let mut laptop = p.connect("alice").await;
    let mut phone = p.connect("alice").await;
    let mut others = Vec::new();
    for u in ["bob", "carol", "dave", "erin"] {
        others.push(p.connect(u).await);
    }
    let refs: Vec<_> = others.iter().collect();
    let room = p.create_room(&laptop, "group", "g", &refs).await;

    p.send(&laptop, send(&room, "c1", "to everyone")).await;
    assert_eq!(laptop.one("ack")["seq"], 1);
    // Nothing was pushed by the sender's function: the shards are queued,
    // every member in exactly one of them, the sender's phone included.
    for c in others.iter_mut() {
        assert!(c.take("message").is_empty(), "{} got it inline", c.user);
    }
    let mut shards = queued_shards(&p);
    assert_eq!(shards.len(), 3, "{shards:?}");
    let mut members: Vec<String> = shards.drain(..).flatten().collect();
    members.sort();
    assert_eq!(members, ["alice", "bob", "carol", "dave", "erin"]);

    p.persist().await;
    for c in others.iter_mut() {
        let m = c.one("message");
        assert_eq!(
            (m["seq"].as_u64(), m["body"].as_str()),
            (Some(1), Some("to everyone"))
        );
    }
    assert_eq!(phone.one("message")["body"], "to everyone");
    assert!(
        laptop.take("message").is_empty(),
        "not to the sending connection"
    );
    // The sender learns who got it, in receipts (one per cursor moved
    // together), and the history holds it once.
    let mut told: Vec<String> = laptop
        .take("receipt")
        .iter()
        .flat_map(|r| r["userIds"].as_array().cloned().unwrap_or_default())
        .map(|u| u.as_str().unwrap_or_default().to_owned())
        .collect();
    told.sort();
    assert_eq!(told, ["bob", "carol", "dave", "erin"]);
    let view = p.member_view(&laptop.token, &room, "erin").await;
    assert_eq!(view["deliveredSeq"], 1);
    let (_, h) = p
        .rest(
            Some(&laptop.token),
            "GET",
            &format!("/rooms/{room}/messages"),
            None,
        )
        .await;
    assert_eq!(h["messages"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_shard_whose_lookup_fails_is_retried_and_its_members_still_get_the_message() {
    let p = Platform::new(big_rooms());
    let alice = p.connect("alice").await;
    let mut others = Vec::new();
    for u in ["bob", "carol", "dave"] {
        others.push(p.connect(u).await);
    }
    let refs: Vec<_> = others.iter().collect();
    let room = p.create_room(&alice, "group", "g", &refs).await;
    p.send(&alice, send(&room, "c1", "eventually")).await;
    // The first shard's lookup fails: the record is reported failed and
    // comes back; the others are done.
    p.lab.fail_store(chat_twin::StoreOp::ConnectionsForUsers, 1);
    let resp = p.persist_batch(10).await;
    assert_eq!(resp.batch_item_failures.len(), 1, "{resp:?}");
    p.persist().await;
    for c in others.iter_mut() {
        let got = c.take("message");
        assert!(!got.is_empty(), "{} never got it", c.user);
        assert!(got.iter().all(|m| m["body"] == "eventually"));
    }
}

#[tokio::test]
async fn a_connection_gone_during_a_shard_is_forgotten_and_the_rest_are_reached() {
    let p = Platform::new(big_rooms());
    let alice = p.connect("alice").await;
    let bob = p.connect("bob").await;
    let mut carol = p.connect("carol").await;
    let room = p.create_room(&alice, "group", "g", &[&bob, &carol]).await;
    p.mem.pusher.drop_connection(&bob.conn);
    p.send(&alice, send(&room, "c1", "who is there")).await;
    p.persist().await;
    assert_eq!(carol.one("message")["body"], "who is there");
    assert!(
        p.chat.connections.get(&bob.conn).await.unwrap().is_none(),
        "the 410 removed bob's connection"
    );
}

#[tokio::test]
async fn a_resend_in_a_big_room_is_queued_again_and_stored_once() {
    let p = Platform::new(big_rooms());
    let mut alice = p.connect("alice").await;
    let mut bob = p.connect("bob").await;
    let carol = p.connect("carol").await;
    let room = p.create_room(&alice, "group", "g", &[&bob, &carol]).await;
    p.send(&alice, send(&room, "c1", "twice")).await;
    p.send(&alice, send(&room, "c1", "twice")).await;
    let acks = alice.take("ack");
    assert_eq!(acks.len(), 2);
    assert_eq!(acks[0]["messageId"], acks[1]["messageId"]);
    p.persist().await;
    let got = bob.take("message");
    assert_eq!(got.len(), 2, "pushed again, by its id");
    assert_eq!(got[0]["messageId"], got[1]["messageId"]);
    let (_, h) = p
        .rest(
            Some(&alice.token),
            "GET",
            &format!("/rooms/{room}/messages"),
            None,
        )
        .await;
    assert_eq!(h["messages"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_refused_enqueue_in_a_big_room_is_an_error_and_nothing_is_pushed() {
    let p = Platform::new(big_rooms());
    let mut alice = p.connect("alice").await;
    let mut bob = p.connect("bob").await;
    let carol = p.connect("carol").await;
    let room = p.create_room(&alice, "group", "g", &[&bob, &carol]).await;
    p.lab.refuse_enqueues(1);
    p.send(&alice, send(&room, "c1", "refused")).await;
    let e = alice.one("error");
    assert_eq!(e["clientMsgId"], "c1");
    assert!(alice.take("ack").is_empty());
    p.persist().await;
    assert!(bob.take("message").is_empty());
    // The resend the error invites delivers it.
    p.send(&alice, send(&room, "c1", "refused")).await;
    assert_eq!(alice.one("ack")["seq"], 1);
    p.persist().await;
    assert_eq!(bob.one("message")["body"], "refused");
}
