//! Replies through the real handlers: the quote the server takes of the
//! target (never the client's), live, in history, in sync and in a thread;
//! a target deleted later reads as `deleted`; and every bad target is
//! refused with a clear error, nothing stored, no seq taken.

use chat_core::ids::RoomId;
use chat_tests::{Client, Platform};
use serde_json::{json, Value};

fn send(room: &str, cmid: &str, body: &str) -> Value {
    json!({"action":"sendMessage","roomId":room,"clientMsgId":cmid,"body":body})
}

fn reply(room: &str, cmid: &str, body: &str, to: Value) -> Value {
    json!({"action":"sendMessage","roomId":room,"clientMsgId":cmid,"body":body,"replyTo":to})
}

async fn last_seq(p: &Platform, room: &str) -> u64 {
    p.chat
        .messages
        .last_seq(&RoomId::parse(room).unwrap())
        .await
        .unwrap()
}

async fn thread(p: &Platform, c: &Client, room: &str, seq: &str, query: &str) -> (u16, Value) {
    p.rest(
        Some(&c.token),
        "GET",
        &format!("/rooms/{room}/messages/{seq}/replies{query}"),
        None,
    )
    .await
}

/// The refusal `sender` got, and proof it changed nothing: no ack, nothing
/// pushed, the room's last seq as it was, nothing more stored.
async fn refused(
    p: &Platform,
    sender: &mut Client,
    other: &mut Client,
    room: &str,
    seq: u64,
) -> Value {
    let e = sender.one("error");
    assert!(sender.take("ack").is_empty(), "refused, yet acked");
    assert!(other.take("message").is_empty(), "refused, yet pushed");
    assert_eq!(last_seq(p, room).await, seq, "refused, yet a seq was taken");
    p.persist().await;
    let (_, page) = p
        .rest(
            Some(&other.token),
            "GET",
            &format!("/rooms/{room}/messages"),
            None,
        )
        .await;
    assert_eq!(
        page["messages"].as_array().map(Vec::len),
        Some(seq as usize),
        "refused, yet stored: {page}"
    );
    e
}

#[tokio::test]
async fn a_reply_carries_the_servers_quote_of_its_target_live_in_history_and_in_sync() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    let long = "lunch? ".repeat(30);
    p.send(&alice, send(&room, "a1", &long)).await;
    bob.one("message");
    // Not stored yet (the persist worker has not run): the reservation is
    // quoted.
    p.send(&bob, reply(&room, "b1", "yes!", json!(1))).await;
    assert_eq!(bob.one("ack")["seq"], 2);
    let live = alice.one("message");
    let quote = &live["replyTo"];
    assert_eq!(quote["seq"], 1);
    assert_eq!(quote["senderId"], "alice");
    assert_eq!(quote["excerpt"].as_str().unwrap().chars().count(), 100);
    assert!(long.starts_with(quote["excerpt"].as_str().unwrap()));
    assert_eq!(quote["truncated"], true);
    assert_eq!(quote["attachmentCount"], 0);
    assert!(quote.get("deleted").is_none(), "{quote}");

    p.persist().await;
    let (status, page) = p
        .rest(
            Some(&alice.token),
            "GET",
            &format!("/rooms/{room}/messages"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["messages"][1]["replyTo"], *quote);
    assert!(page["messages"][0].get("replyTo").is_none());

    p.send(
        &alice,
        json!({"action":"sync","rooms":[{"roomId":room,"afterSeq":1}]}),
    )
    .await;
    let sync = alice.one("syncResult");
    assert_eq!(sync["messages"][0]["replyTo"], *quote);
}

#[tokio::test]
async fn a_quote_cannot_come_from_the_client() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    p.send(&alice, send(&room, "a1", "the truth")).await;
    alice.one("ack");
    bob.one("message");
    p.send(
        &bob,
        reply(
            &room,
            "b1",
            "x",
            json!({"seq":1,"excerpt":"forged","senderId":"carol"}),
        ),
    )
    .await;
    let e = refused(&p, &mut bob, &mut alice, &room, 1).await;
    assert_eq!(e["code"], "bad_request", "{e}");
    assert!(e["message"].as_str().unwrap().contains("replyTo"), "{e}");
}

#[tokio::test]
async fn a_thread_lists_the_replies_to_a_message_in_pages_with_the_message() {
    let p = Platform::default();
    let (alice, bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    p.send(&alice, send(&room, "a1", "topic one")).await;
    p.send(&alice, send(&room, "a2", "topic two")).await;
    for (i, to) in [1, 2, 1, 1].iter().enumerate() {
        p.send(
            &bob,
            reply(&room, &format!("b{i}"), &format!("re {i}"), json!(to)),
        )
        .await;
    }
    p.persist().await;
    let (status, page) = thread(&p, &alice, &room, "1", "?limit=2").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["target"]["body"], "topic one");
    let bodies = |page: &Value| -> Vec<String> {
        page["replies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(bodies(&page), ["re 0", "re 2"]);
    let cursor = page["nextCursor"].as_str().expect("more follow").to_owned();
    let (_, next) = thread(&p, &alice, &room, "1", &format!("?limit=2&after={cursor}")).await;
    assert_eq!(bodies(&next), ["re 3"]);
    assert!(next["nextCursor"].is_null(), "{next}");
    let (_, two) = thread(&p, &bob, &room, "2", "").await;
    assert_eq!(bodies(&two), ["re 1"]);
    // A message without replies has an empty thread.
    let (status, none) = thread(&p, &bob, &room, "3", "").await;
    assert_eq!((status, bodies(&none).len()), (200, 0));
}

#[tokio::test]
async fn a_reply_to_a_message_deleted_since_reads_as_deleted_without_its_text() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    p.send(&alice, send(&room, "a1", "oops, secret")).await;
    p.send(&bob, reply(&room, "b1", "saw that", json!(1))).await;
    bob.one("ack");
    p.persist().await;
    assert!(p.mem.messages.tombstone(&RoomId::parse(&room).unwrap(), 1));

    let check = |quote: &Value| {
        assert_eq!(quote["deleted"], true, "{quote}");
        assert_eq!(quote["excerpt"], "", "{quote}");
        assert_eq!(quote["seq"], 1);
        assert_eq!(quote["senderId"], "alice");
    };
    // Whether the target is in the same page or not.
    let (_, full) = p
        .rest(
            Some(&bob.token),
            "GET",
            &format!("/rooms/{room}/messages"),
            None,
        )
        .await;
    check(&full["messages"][1]["replyTo"]);
    let (_, around) = p
        .rest(
            Some(&bob.token),
            "GET",
            &format!("/rooms/{room}/messages?around=2&limit=1"),
            None,
        )
        .await;
    assert_eq!(around["messages"].as_array().unwrap().len(), 1, "{around}");
    check(&around["messages"][0]["replyTo"]);
    let (_, th) = thread(&p, &bob, &room, "1", "").await;
    check(&th["replies"][0]["replyTo"]);
    p.send(
        &bob,
        json!({"action":"sync","rooms":[{"roomId":room,"afterSeq":1}]}),
    )
    .await;
    check(&bob.one("syncResult")["messages"][0]["replyTo"]);
    // And a deleted message cannot be replied to any more.
    alice.all();
    p.send(&bob, reply(&room, "b2", "again", json!(1))).await;
    let e = refused(&p, &mut bob, &mut alice, &room, 2).await;
    assert_eq!(e["code"], "conflict", "{e}");
}

#[tokio::test]
async fn a_reply_to_a_seq_of_another_room_is_not_found_and_changes_nothing() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "here", &[&bob]).await;
    let other = p.create_room(&alice, "group", "there", &[&bob]).await;
    p.send(&alice, send(&room, "a1", "hello here")).await;
    for i in 0..3 {
        p.send(&alice, send(&other, &format!("o{i}"), "elsewhere"))
            .await;
    }
    alice.take("ack");
    bob.take("message");
    // Seq 3 exists only in the other room.
    p.send(&bob, reply(&room, "b1", "which one?", json!(3)))
        .await;
    let e = refused(&p, &mut bob, &mut alice, &room, 1).await;
    assert_eq!(e["code"], "not_found", "{e}");
    assert_eq!(e["message"], "message to reply to not found");
    assert_eq!(e["clientMsgId"], "b1");
}

#[tokio::test]
async fn a_reply_to_a_seq_that_does_not_exist_is_not_found_and_burns_nothing() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    p.send(&alice, send(&room, "a1", "only one")).await;
    alice.one("ack");
    bob.one("message");
    for (i, seq) in [2u64, 99, 0].into_iter().enumerate() {
        p.send(&bob, reply(&room, &format!("b{i}"), "hm", json!(seq)))
            .await;
        let e = refused(&p, &mut bob, &mut alice, &room, 1).await;
        assert_eq!(e["code"], "not_found", "{seq}: {e}");
    }
    // The seqs asked about were not burned: the next message takes 2.
    p.send(&alice, send(&room, "a2", "two")).await;
    assert_eq!(alice.one("ack")["seq"], 2);
}

#[tokio::test]
async fn a_non_member_can_neither_reply_nor_read_a_thread() {
    let p = Platform::default();
    let (mut alice, mut carol) = (p.connect("alice").await, p.connect("carol").await);
    let room = p.create_room(&alice, "group", "private", &[]).await;
    p.send(&alice, send(&room, "a1", "members only")).await;
    alice.one("ack");
    p.send(&carol, reply(&room, "c1", "let me in", json!(1)))
        .await;
    let e = refused(&p, &mut carol, &mut alice, &room, 1).await;
    assert_eq!(e["code"], "forbidden", "{e}");
    let (status, body) = thread(&p, &carol, &room, "1", "").await;
    assert_eq!(status, 403, "{body}");
}

#[tokio::test]
async fn a_thread_of_a_bad_or_unknown_seq_is_refused() {
    let p = Platform::default();
    let alice = p.connect("alice").await;
    let room = p.create_room(&alice, "group", "team", &[]).await;
    for (seq, status) in [("abc", 400), ("0", 400), ("-1", 400), ("7", 404)] {
        let (got, body) = thread(&p, &alice, &room, seq, "").await;
        assert_eq!(got, status, "{seq}: {body}");
    }
    let (got, body) = thread(&p, &alice, &room, "1", "?limit=0").await;
    assert_eq!(got, 400, "{body}");
}
