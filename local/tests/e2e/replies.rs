//! Replies over real sockets and REST, in every mode of the suite: the
//! server's quote live and in history, a thread paged through the HTTP API
//! (on the aws backend, a Query of the table's GSI1), and bad targets
//! refused with nothing stored.

use chat_client::ClientError;

use crate::{seqs, spawn};

fn refused(err: ClientError, want: &str) {
    assert!(
        matches!(err, ClientError::Frame { ref code, .. } if code == want),
        "{err}"
    );
}

#[tokio::test]
async fn a_reply_is_quoted_live_in_history_and_in_its_thread() {
    let e = spawn().await;
    let (mut alice, bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    alice.send(&room, "lunch at noon?").await.unwrap();
    alice.send(&room, "or at one").await.unwrap();
    // Right after the target's ack: it may not be stored yet.
    let ack = bob.send_reply(&room, "b-1", "noon works", 1).await.unwrap();
    assert_eq!(ack.seq, 3);
    let m = alice.next_of("message").await.unwrap();
    assert_eq!(m["replyTo"]["seq"], 1);
    assert_eq!(m["replyTo"]["senderId"], "alice");
    assert_eq!(m["replyTo"]["excerpt"], "lunch at noon?");
    bob.send_reply(&room, "b-2", "one is fine too", 2)
        .await
        .unwrap();
    bob.send_reply(&room, "b-3", "really, noon", 1)
        .await
        .unwrap();
    e.persisted().await;
    let page = e.history("alice", &room, "").await;
    assert_eq!(seqs(&page), vec![1, 2, 3, 4, 5]);
    assert_eq!(page["messages"][2]["replyTo"]["excerpt"], "lunch at noon?");

    // The thread's index (GSI1 on DynamoDB) is eventually consistent.
    let rest = e.rest("alice");
    let mut thread = serde_json::Value::Null;
    for _ in 0..50 {
        let (s, t) = rest.thread(&room, 1, None, Some(1)).await.unwrap();
        assert_eq!(s, 200, "{t}");
        if t["nextCursor"].is_string() {
            thread = t;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(thread["target"]["seq"], 1, "{thread}");
    assert_eq!(thread["replies"][0]["seq"], 3);
    let after = thread["nextCursor"].as_str().unwrap().to_owned();
    let (_, next) = rest.thread(&room, 1, Some(&after), Some(1)).await.unwrap();
    assert_eq!(next["replies"][0]["seq"], 5, "{next}");
    assert!(next["nextCursor"].is_null(), "{next}");
    let (s, _) = e
        .rest("mallory")
        .thread(&room, 1, None, None)
        .await
        .unwrap();
    assert_eq!(s, 403);
}

#[tokio::test]
async fn bad_reply_targets_are_refused_and_store_nothing() {
    let e = spawn().await;
    let (alice, mallory) = (e.connect("alice").await, e.connect("mallory").await);
    let room = e.room("alice", "group", &[]).await;
    let other = e.room("alice", "group", &[]).await;
    alice.send(&room, "one").await.unwrap();
    for i in 0..3 {
        alice.send(&other, &format!("elsewhere {i}")).await.unwrap();
    }
    // A seq of the other room, one never allocated.
    refused(
        alice.send_reply(&room, "x-1", "hm", 3).await.unwrap_err(),
        "not_found",
    );
    refused(
        alice.send_reply(&room, "x-2", "hm", 99).await.unwrap_err(),
        "not_found",
    );
    // Not a member.
    refused(
        mallory.send_reply(&room, "x-3", "hm", 1).await.unwrap_err(),
        "forbidden",
    );
    // Nothing was stored, and no seq was taken: the next message is 2.
    assert_eq!(alice.send(&room, "two").await.unwrap().seq, 2);
    e.persisted().await;
    assert_eq!(seqs(&e.history("alice", &room, "").await), vec![1, 2]);
}
