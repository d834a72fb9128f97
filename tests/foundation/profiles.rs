use chat_tests::Platform;
use serde_json::json;

#[tokio::test]
async fn a_profile_is_created_on_first_authenticated_use() {
    let p = Platform::default();
    let token = p.token("newbie");
    let (s, me) = p.rest(Some(&token), "GET", "/users/me", None).await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            me["userId"].as_str(),
            me["displayName"].as_str(),
            me["presence"].as_str()
        ),
        (Some("newbie"), Some("newbie"), Some("offline"))
    );
}

/// The seed's "profile picture update bug": after PATCH /users/me every
/// reader, through every route that shows the avatar, sees the new one.
#[tokio::test]
async fn after_an_avatar_update_every_reader_sees_the_new_avatar() {
    let p = Platform::default();
    let (alice, bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "g", &[&bob]).await;
    let old = "https://cdn.example.com/old.png";
    let new = "https://cdn.example.com/new.png";
    p.rest(
        Some(&alice.token),
        "PATCH",
        "/users/me",
        Some(json!({"avatarUrl": old})),
    )
    .await;
    // Readers look at it (a cache would now hold the old one).
    let (_, seen) = p.rest(Some(&bob.token), "GET", "/users/alice", None).await;
    assert_eq!(seen["avatarUrl"], old);
    let (s, me) = p
        .rest(
            Some(&alice.token),
            "PATCH",
            "/users/me",
            Some(json!({"avatarUrl": new, "displayName": "Alice"})),
        )
        .await;
    assert_eq!((s, me["avatarUrl"].as_str()), (200, Some(new)));
    let (_, seen) = p.rest(Some(&bob.token), "GET", "/users/alice", None).await;
    assert_eq!(
        (seen["avatarUrl"].as_str(), seen["displayName"].as_str()),
        (Some(new), Some("Alice"))
    );
    let a = p.member_view(&bob.token, &room, "alice").await;
    assert_eq!(a["avatarUrl"], new);
    let (_, mine) = p.rest(Some(&alice.token), "GET", "/users/me", None).await;
    assert_eq!(mine["avatarUrl"], new);
    // null clears it.
    let (_, cleared) = p
        .rest(
            Some(&alice.token),
            "PATCH",
            "/users/me",
            Some(json!({"avatarUrl": null})),
        )
        .await;
    assert!(cleared["avatarUrl"].is_null());
}

#[tokio::test]
async fn invalid_profile_updates_are_refused_and_change_nothing() {
    let p = Platform::default();
    let alice = p.connect("alice").await;
    for body in [
        json!({"avatarUrl":"javascript:alert(1)"}),
        json!({"displayName":""}),
        json!({"displayName": "x".repeat(65)}),
        json!({"avatarUrl": 5}),
    ] {
        let (s, e) = p
            .rest(Some(&alice.token), "PATCH", "/users/me", Some(body.clone()))
            .await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (400, Some("bad_request")),
            "{body}"
        );
    }
    let (_, me) = p.rest(Some(&alice.token), "GET", "/users/me", None).await;
    assert_eq!(
        (me["displayName"].as_str(), me["avatarUrl"].is_null()),
        (Some("alice"), true)
    );
    assert_eq!(
        p.rest(Some(&alice.token), "GET", "/users/nobody", None)
            .await
            .0,
        404
    );
}
