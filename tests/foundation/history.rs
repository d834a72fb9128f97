use chat_core::protocol::cursor::Cursor;
use chat_tests::Platform;
use serde_json::{json, Value};

fn seqs(page: &Value) -> Vec<u64> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect()
}

async fn room_with(p: &Platform, n: usize) -> (chat_tests::Client, String) {
    let alice = p.connect("alice").await;
    let room = p.create_room(&alice, "group", "g", &[]).await;
    for i in 0..n {
        p.send(&alice, json!({"action":"sendMessage","roomId":room,"clientMsgId":format!("c{i}"),"body":format!("m{i}")})).await;
    }
    p.persist().await;
    (alice, room)
}

#[tokio::test]
async fn history_pages_backwards_from_the_newest_and_forwards_again() {
    let p = Platform::default();
    let (alice, room) = room_with(&p, 7).await;
    let get = |q: String| {
        let t = alice.token.clone();
        let path = format!("/rooms/{room}/messages{q}");
        let p = &p;
        async move { p.rest(Some(&t), "GET", &path, None).await }
    };
    let (s, newest) = get("?limit=3".into()).await;
    assert_eq!((s, seqs(&newest)), (200, vec![5, 6, 7]));
    assert!(
        newest["nextCursor"].is_null(),
        "nothing newer than the newest page"
    );
    let prev = newest["prevCursor"].as_str().unwrap().to_owned();
    let (_, older) = get(format!("?limit=3&before={prev}")).await;
    assert_eq!(seqs(&older), vec![2, 3, 4]);
    let (_, oldest) = get(format!(
        "?limit=3&before={}",
        older["prevCursor"].as_str().unwrap()
    ))
    .await;
    assert_eq!(seqs(&oldest), vec![1]);
    assert!(oldest["prevCursor"].is_null());
    // And forwards from the oldest page.
    let (_, fwd) = get(format!(
        "?limit=3&after={}",
        oldest["nextCursor"].as_str().unwrap()
    ))
    .await;
    assert_eq!(seqs(&fwd), vec![2, 3, 4]);
    let (_, fwd2) = get(format!(
        "?limit=3&after={}",
        fwd["nextCursor"].as_str().unwrap()
    ))
    .await;
    assert_eq!(seqs(&fwd2), vec![5, 6, 7]);
    assert!(fwd2["nextCursor"].is_null());
    // Going forwards, a page has older messages before it unless it starts
    // at the first one.
    assert_eq!(
        fwd["prevCursor"].as_str(),
        Some(Cursor::at(2).encode().as_str()),
        "a page from seq 2 has seq 1 before it"
    );
    let (_, from_start) = get(format!("?limit=3&after={}", Cursor::at(0).encode())).await;
    assert_eq!(seqs(&from_start), vec![1, 2, 3]);
    assert!(
        from_start["prevCursor"].is_null(),
        "nothing before seq 1: {from_start}"
    );
}

#[tokio::test]
async fn history_is_for_members_only_and_validates_its_parameters() {
    let p = Platform::default();
    let (alice, room) = room_with(&p, 2).await;
    let mallory = p.connect("mallory").await;
    let path = |q: &str| format!("/rooms/{room}/messages{q}");
    assert_eq!(
        p.rest(Some(&mallory.token), "GET", &path(""), None).await.0,
        403
    );
    assert_eq!(p.rest(None, "GET", &path(""), None).await.0, 401);
    for q in [
        "?limit=0",
        "?limit=101",
        "?limit=abc",
        "?before=not-a-cursor",
        "?after=%00",
    ] {
        let (s, e) = p.rest(Some(&alice.token), "GET", &path(q), None).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (400, Some("bad_request")),
            "{q}"
        );
    }
    let (s, page) = p
        .rest(Some(&alice.token), "GET", &path("?limit=100"), None)
        .await;
    assert_eq!((s, seqs(&page)), (200, vec![1, 2]));
    let (s, empty) = p
        .rest(Some(&alice.token), "GET", "/rooms/r_none/messages", None)
        .await;
    assert_eq!(
        (s, empty["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
}

#[tokio::test]
async fn an_empty_room_has_an_empty_page() {
    let p = Platform::default();
    let (alice, room) = room_with(&p, 0).await;
    let (s, page) = p
        .rest(
            Some(&alice.token),
            "GET",
            &format!("/rooms/{room}/messages"),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        page,
        json!({"messages": [], "prevCursor": null, "nextCursor": null})
    );
}
