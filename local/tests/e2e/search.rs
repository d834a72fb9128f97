//! Message search end to end: a message sent over the socket is found over
//! REST once the persist worker has indexed it, by members only, and no
//! more once they leave.

use serde_json::Value;

use crate::{seqs, spawn};

fn hits(page: &Value) -> Vec<(String, u64)> {
    page["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["roomId"].as_str().unwrap().to_owned(),
                h["seq"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_sent_message_is_found_by_members_only_and_not_after_leaving() {
    let e = spawn().await;
    let alice = e.connect("alice").await;
    let room = e.room("alice", "group", &["bob"]).await;
    let other = e.room("mallory", "group", &[]).await;
    alice.send(&room, "warm-up").await.unwrap();
    let ack = alice
        .send(&room, "Das Frühstück ist fertig: https://example.com/menu")
        .await
        .unwrap();
    alice.send(&room, "after").await.unwrap();
    e.persisted().await;

    let (bob, mallory) = (e.rest("bob"), e.rest("mallory"));
    let (s, page) = bob.get("/search?q=fr%C3%BChst").await.unwrap();
    assert_eq!(s, 200, "{page}");
    assert_eq!(hits(&page), vec![(room.clone(), ack.seq)]);
    let hit = &page["hits"][0];
    assert_eq!(hit["senderId"], "alice");
    assert!(
        hit["snippet"].as_str().unwrap().contains("Frühstück"),
        "{hit}"
    );
    let (s, page) = bob
        .get(&format!("/rooms/{room}/search?q=example.com%20menu"))
        .await
        .unwrap();
    assert_eq!((s, hits(&page)), (200, vec![(room.clone(), ack.seq)]));
    // The page around the hit opens the room at it.
    let page = e
        .history("bob", &room, &format!("?around={}&limit=3", ack.seq))
        .await;
    assert_eq!(seqs(&page), vec![1, 2, 3]);

    // Not a member: nothing in all rooms, refused in the room.
    let (s, page) = mallory.get("/search?q=fr%C3%BChst%C3%BCck").await.unwrap();
    assert_eq!((s, hits(&page)), (200, vec![]));
    let (s, _) = mallory
        .get(&format!("/rooms/{room}/search?q=fruhstuck"))
        .await
        .unwrap();
    assert_eq!(s, 403);
    let (s, _) = bob
        .get(&format!("/rooms/{other}/search?q=anything"))
        .await
        .unwrap();
    assert_eq!(s, 403);

    // A bad query changes nothing and says why.
    for (q, why) in [("", "empty"), ("%20%20", "empty"), ("%3F%21", "no words")] {
        let (s, body) = bob.get(&format!("/search?q={q}")).await.unwrap();
        assert_eq!(s, 400, "{body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(why),
            "{body}"
        );
    }
    let (s, body) = bob
        .get(&format!("/search?q={}", "a".repeat(201)))
        .await
        .unwrap();
    assert_eq!(s, 400, "{body}");

    // After leaving, bob finds nothing of the room.
    let (s, _) = bob
        .delete(&format!("/rooms/{room}/members/bob"))
        .await
        .unwrap();
    assert_eq!(s, 204);
    let (s, page) = bob.get("/search?q=fr%C3%BChst").await.unwrap();
    assert_eq!((s, hits(&page)), (200, vec![]));
    let (s, _) = bob
        .get(&format!("/rooms/{room}/search?q=fruh"))
        .await
        .unwrap();
    assert_eq!(s, 403);
    // alice still does.
    let (s, page) = e.rest("alice").get("/search?q=fr%C3%BChst").await.unwrap();
    assert_eq!((s, hits(&page)), (200, vec![(room, ack.seq)]));
}
