//! Edits, deletes and reactions over real sockets, in every mode of the
//! suite: members online see each live; a member who was away gets them
//! from `sync` with the change cursor; a deleted message's file is gone
//! from the object store; bad changes are refused and change nothing.

use serde_json::json;

use crate::attachments::PNG;
use crate::spawn;

#[tokio::test]
async fn members_see_edits_deletes_and_reactions_live_and_in_history() {
    let e = spawn().await;
    let (mut alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    let ack = alice.send(&room, "helo").await.unwrap();
    bob.next_of("message").await.unwrap();

    alice.edit_message(&room, ack.seq, "hello").unwrap();
    let f = bob.next_of("messageEdited").await.unwrap();
    assert_eq!((&f["seq"], &f["body"]), (&json!(ack.seq), &json!("hello")));
    // The editor's own connection gets it too: that is the answer.
    alice.next_of("messageEdited").await.unwrap();

    bob.react(&room, ack.seq, "👍").unwrap();
    let f = alice.next_of("reaction").await.unwrap();
    assert_eq!(
        (&f["emoji"], &f["userId"], &f["added"]),
        (&json!("👍"), &json!("bob"), &json!(true))
    );
    bob.next_of("reaction").await.unwrap();

    e.persisted().await;
    let page = e.history("bob", &room, "").await;
    let m = &page["messages"][0];
    assert_eq!(
        (&m["body"], &m["reactions"]),
        (
            &json!("hello"),
            &json!([{"emoji":"👍","count":1,"me":true}])
        )
    );
    assert!(m["editedAt"].is_number());

    // Bob may not edit or delete alice's message: refused, nothing changes.
    bob.edit_message(&room, ack.seq, "mine now").unwrap();
    assert_eq!(bob.next_of("error").await.unwrap()["code"], "forbidden");
    bob.delete_message(&room, ack.seq).unwrap();
    assert_eq!(bob.next_of("error").await.unwrap()["code"], "forbidden");
    bob.react(&room, ack.seq, "not an emoji").unwrap();
    assert_eq!(bob.next_of("error").await.unwrap()["code"], "bad_request");
    assert_eq!(e.history("bob", &room, "").await, page);

    alice.delete_message(&room, ack.seq).unwrap();
    let f = bob.next_of("messageDeleted").await.unwrap();
    assert_eq!(
        (&f["seq"], &f["deletedBy"]),
        (&json!(ack.seq), &json!("alice"))
    );
    let m = e.history("bob", &room, "").await["messages"][0].clone();
    assert_eq!((&m["seq"], &m["body"]), (&json!(ack.seq), &json!("")));
    assert!(m["deletedAt"].is_number() && m.get("reactions").is_none());
    alice.edit_message(&room, ack.seq, "back").unwrap();
    assert_eq!(alice.next_of("error").await.unwrap()["code"], "conflict");
}

#[tokio::test]
async fn a_member_who_was_away_gets_the_changes_from_sync() {
    let e = spawn().await;
    let alice = e.connect("alice").await;
    let room = e.room("alice", "group", &["bob"]).await;
    let one = alice.send(&room, "one").await.unwrap();
    let two = alice.send(&room, "two").await.unwrap();
    let mut bob = e.connect("bob").await;
    bob.send_json(&json!({"action":"sync","rooms":[{"roomId":room}]}))
        .unwrap();
    let first = bob.next_of("syncResult").await.unwrap();
    assert_eq!(first["messages"].as_array().map(Vec::len), Some(2));
    let cursor = first["throughChange"].as_u64().unwrap_or(0);
    bob.close();

    alice.edit_message(&room, one.seq, "one, edited").unwrap();
    alice.react(&room, one.seq, "🎉").unwrap();
    alice.delete_message(&room, two.seq).unwrap();
    let mut alice = alice;
    for ty in ["messageEdited", "reaction", "messageDeleted"] {
        alice.next_of(ty).await.unwrap();
    }

    let mut bob = e.connect("bob").await;
    bob.send_json(
        &json!({"action":"sync","rooms":[{"roomId":room,"afterSeq":two.seq,"afterChange":cursor}]}),
    )
    .unwrap();
    let s = bob.next_of("syncResult").await.unwrap();
    let changes = s["changes"].as_array().expect("changes to held messages");
    assert_eq!(changes.len(), 2, "{s}");
    assert_eq!(
        (
            &changes[0]["seq"],
            &changes[0]["body"],
            &changes[0]["reactions"]
        ),
        (
            &json!(one.seq),
            &json!("one, edited"),
            &json!([{"emoji":"🎉","count":1,"me":false}])
        )
    );
    assert_eq!(
        (&changes[1]["seq"], &changes[1]["body"]),
        (&json!(two.seq), &json!(""))
    );
    assert!(changes[1]["deletedAt"].is_number());
    assert_eq!(s["throughChange"], json!(cursor + 3));
}

#[tokio::test]
async fn deleting_a_message_deletes_its_file() {
    let e = spawn().await;
    let (alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    let id = e
        .rest("alice")
        .upload(&room, "image/png", "dot.png", PNG.to_vec())
        .await
        .expect("uploaded");
    let ack = alice
        .send_with_attachments(&room, "c1", "", &[&id])
        .await
        .expect("acked");
    let m = bob.next_of("message").await.unwrap();
    let url = m["attachments"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(e.rest("bob").download(&url).await.unwrap().0, 200);
    alice.delete_message(&room, ack.seq).unwrap();
    bob.next_of("messageDeleted").await.unwrap();
    let (status, _) = e.rest("bob").download(&url).await.unwrap();
    // S3 answers 403 for a missing key to a signer without ListBucket
    // (the message function has none under rooms/); the local store 404.
    assert!(
        status == 404 || status == 403,
        "the object is gone, even for a URL signed before: {status}"
    );
    let key = format!("rooms/{room}/{id}");
    assert_eq!(e.p.chat.blobs.head(&key).await.ok().flatten(), None);
}
