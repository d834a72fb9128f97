use chat_tests::Platform;
use serde_json::json;

#[tokio::test]
async fn creating_a_group_makes_the_creator_owner_and_lists_members() {
    let p = Platform::default();
    let (alice, bob) = (p.connect("alice").await, p.connect("bob").await);
    let (status, room) = p
        .rest(
            Some(&alice.token),
            "POST",
            "/rooms",
            Some(json!({"name":"Team","kind":"group","members":["bob"]})),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        (
            room["kind"].as_str(),
            room["name"].as_str(),
            room["ownerId"].as_str()
        ),
        (Some("group"), Some("Team"), Some("alice"))
    );
    let roles: Vec<(String, String)> = room["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["userId"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        roles.contains(&("alice".into(), "owner".into()))
            && roles.contains(&("bob".into(), "member".into()))
    );
    let (status, _) = p
        .rest(
            Some(&bob.token),
            "GET",
            &format!("/rooms/{}", room["roomId"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bad_room_requests_are_refused_with_clear_errors() {
    let p = Platform::default();
    let alice = p.connect("alice").await;
    let cases = [
        (json!({"name":"","kind":"group"}), 400),
        (json!({"name":"x","kind":"palace"}), 400),
        (json!({"kind":"direct","members":[]}), 400),
        (json!({"kind":"direct","members":["bob","carol"]}), 400),
        (
            json!({"name":"x","kind":"group","members":["not a valid id"]}),
            400,
        ),
    ];
    for (body, want) in cases {
        let (status, err) = p
            .rest(Some(&alice.token), "POST", "/rooms", Some(body.clone()))
            .await;
        assert_eq!(status, want, "{body} -> {err}");
        assert_eq!(err["error"]["code"], "bad_request");
    }
    let max = p.chat.limits.max_initial_members;
    let named = |n: usize| -> Vec<String> { (0..n).map(|i| format!("u{i}")).collect() };
    let (status, _) = p
        .rest(
            Some(&alice.token),
            "POST",
            "/rooms",
            Some(json!({"name":"big","kind":"group","members":named(max + 1)})),
        )
        .await;
    assert_eq!(status, 413);
    // The bound itself is allowed.
    let (status, room) = p
        .rest(
            Some(&alice.token),
            "POST",
            "/rooms",
            Some(json!({"name":"full","kind":"group","members":named(max)})),
        )
        .await;
    assert_eq!(status, 201, "{room}");
    let (status, _) = p.rest(None, "GET", "/rooms", None).await;
    assert_eq!(status, 401);
    let (status, _) = p
        .rest(Some("forged.token.here"), "GET", "/rooms", None)
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_direct_room_is_one_per_pair_whoever_creates_it() {
    let p = Platform::default();
    let (alice, bob) = (p.connect("alice").await, p.connect("bob").await);
    let (s1, r1) = p
        .rest(
            Some(&alice.token),
            "POST",
            "/rooms",
            Some(json!({"kind":"direct","members":["bob"]})),
        )
        .await;
    let (s2, r2) = p
        .rest(
            Some(&bob.token),
            "POST",
            "/rooms",
            Some(json!({"kind":"direct","members":["alice","bob"]})),
        )
        .await;
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(r1["roomId"], r2["roomId"]);
    assert_eq!(r1["members"].as_array().unwrap().len(), 2);
    let id = r1["roomId"].as_str().unwrap();
    let (status, err) = p
        .rest(
            Some(&alice.token),
            "POST",
            &format!("/rooms/{id}/members"),
            Some(json!({"userId":"carol"})),
        )
        .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
}

#[tokio::test]
async fn only_the_owner_adds_to_a_group_and_anyone_joins_a_channel() {
    let p = Platform::default();
    let (alice, bob, carol) = (
        p.connect("alice").await,
        p.connect("bob").await,
        p.connect("carol").await,
    );
    let group = p.create_room(&alice, "group", "private", &[&bob]).await;
    let add = |room: &str| format!("/rooms/{room}/members");
    let (s, _) = p
        .rest(
            Some(&bob.token),
            "POST",
            &add(&group),
            Some(json!({"userId":"carol"})),
        )
        .await;
    assert_eq!(s, 403, "a member cannot add");
    let (s, _) = p
        .rest(
            Some(&carol.token),
            "POST",
            &add(&group),
            Some(json!({"userId":"carol"})),
        )
        .await;
    assert_eq!(s, 403, "nobody joins a group by themselves");
    let (s, detail) = p
        .rest(
            Some(&alice.token),
            "POST",
            &add(&group),
            Some(json!({"userId":"carol"})),
        )
        .await;
    assert_eq!((s, detail["members"].as_array().unwrap().len()), (200, 3));

    let channel = p.create_room(&alice, "channel", "public", &[]).await;
    let (_, list) = p.rest(Some(&carol.token), "GET", "/channels", None).await;
    assert!(list["channels"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["roomId"] == channel.as_str()));
    let (s, _) = p
        .rest(
            Some(&carol.token),
            "POST",
            &add(&channel),
            Some(json!({"userId":"carol"})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = p
        .rest(
            Some(&carol.token),
            "POST",
            &add(&channel),
            Some(json!({"userId":"carol"})),
        )
        .await;
    assert_eq!(s, 200, "joining twice is harmless");
    let (s, _) = p
        .rest(
            Some(&carol.token),
            "POST",
            &add(&channel),
            Some(json!({"userId":"bob"})),
        )
        .await;
    assert_eq!(s, 403, "a channel member cannot add others");
}

#[tokio::test]
async fn members_leave_the_owner_removes_and_non_members_see_nothing() {
    let p = Platform::default();
    let (alice, bob, carol, mallory) = (
        p.connect("alice").await,
        p.connect("bob").await,
        p.connect("carol").await,
        p.connect("mallory").await,
    );
    let room = p.create_room(&alice, "group", "g", &[&bob, &carol]).await;
    let del = |u: &str| format!("/rooms/{room}/members/{u}");
    assert_eq!(
        p.rest(Some(&mallory.token), "GET", &format!("/rooms/{room}"), None)
            .await
            .0,
        403
    );
    assert_eq!(
        p.rest(Some(&mallory.token), "DELETE", &del("bob"), None)
            .await
            .0,
        403
    );
    assert_eq!(
        p.rest(Some(&bob.token), "DELETE", &del("carol"), None)
            .await
            .0,
        403
    );
    assert_eq!(
        p.rest(Some(&bob.token), "DELETE", &del("bob"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        p.rest(Some(&bob.token), "GET", &format!("/rooms/{room}"), None)
            .await
            .0,
        403,
        "bob left"
    );
    assert_eq!(
        p.rest(Some(&alice.token), "DELETE", &del("carol"), None)
            .await
            .0,
        204
    );
    assert_eq!(
        p.rest(Some(&alice.token), "DELETE", &del("carol"), None)
            .await
            .0,
        404
    );
    assert_eq!(
        p.rest(Some(&alice.token), "DELETE", &del("alice"), None)
            .await
            .0,
        403,
        "the owner cannot leave"
    );
    assert_eq!(
        p.rest(Some(&alice.token), "GET", "/rooms/r_missing", None)
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn list_rooms_shows_mine_with_the_last_message_newest_first() {
    let p = Platform::default();
    let (alice, bob) = (p.connect("alice").await, p.connect("bob").await);
    let quiet = p.create_room(&alice, "group", "quiet", &[&bob]).await;
    let busy = p.create_room(&alice, "group", "busy", &[&bob]).await;
    let _not_mine = p.create_room(&bob, "group", "bobs", &[]).await;
    p.clock.advance(1000);
    p.send(
        &alice,
        json!({"action":"sendMessage","roomId":busy,"clientMsgId":"c1","body":"latest"}),
    )
    .await;
    p.persist().await;
    let (_, list) = p.rest(Some(&alice.token), "GET", "/rooms", None).await;
    let ids: Vec<&str> = list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["roomId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![busy.as_str(), quiet.as_str()]);
    assert_eq!(list["rooms"][0]["lastMessage"]["body"], "latest");
    assert!(list["rooms"][1]["lastMessage"].is_null());
}

#[tokio::test]
async fn unknown_routes_and_bad_bodies_get_json_errors() {
    let p = Platform::default();
    let alice = p.connect("alice").await;
    let (s, e) = p.rest(Some(&alice.token), "GET", "/nowhere", None).await;
    assert_eq!((s, e["error"]["code"].as_str()), (404, Some("not_found")));
    let (s, e) = p.rest(Some(&alice.token), "POST", "/rooms", None).await;
    assert_eq!((s, e["error"]["code"].as_str()), (400, Some("bad_request")));
}

#[tokio::test]
async fn members_hear_when_they_are_added_to_or_removed_from_a_room() {
    let p = Platform::default();
    let (mut alice, mut bob, mut carol) = (
        p.connect("alice").await,
        p.connect("bob").await,
        p.connect("carol").await,
    );
    let room = p.create_room(&alice, "group", "Team", &[&bob]).await;
    let added = bob.one("roomAdded");
    assert_eq!(
        (
            added["roomId"].as_str(),
            added["name"].as_str(),
            added["kind"].as_str(),
            added["addedBy"].as_str()
        ),
        (
            Some(room.as_str()),
            Some("Team"),
            Some("group"),
            Some("alice")
        )
    );
    assert!(alice.take("roomAdded").is_empty(), "the creator knows");
    assert!(carol.take("roomAdded").is_empty());

    let add = format!("/rooms/{room}/members");
    p.rest(
        Some(&alice.token),
        "POST",
        &add,
        Some(json!({"userId":"carol"})),
    )
    .await;
    assert_eq!(carol.one("roomAdded")["roomId"], room.as_str());
    // The members already there hear of it; the person added does not.
    for member in [&mut alice, &mut bob] {
        let joined = member.one("memberJoined");
        assert_eq!(
            (
                joined["roomId"].as_str(),
                joined["userId"].as_str(),
                joined["addedBy"].as_str()
            ),
            (Some(room.as_str()), Some("carol"), Some("alice"))
        );
    }
    assert!(carol.take("memberJoined").is_empty());
    // Adding again is a no-op and tells nobody.
    p.rest(
        Some(&alice.token),
        "POST",
        &add,
        Some(json!({"userId":"carol"})),
    )
    .await;
    assert!(carol.take("roomAdded").is_empty());
    assert!(bob.take("memberJoined").is_empty());

    p.rest(
        Some(&alice.token),
        "DELETE",
        &format!("/rooms/{room}/members/carol"),
        None,
    )
    .await;
    let removed = carol.one("roomRemoved");
    assert_eq!(
        (removed["roomId"].as_str(), removed["removedBy"].as_str()),
        (Some(room.as_str()), Some("alice"))
    );
    assert!(carol.take("memberLeft").is_empty());
    for member in [&mut alice, &mut bob] {
        let left = member.one("memberLeft");
        assert_eq!(
            (
                left["roomId"].as_str(),
                left["userId"].as_str(),
                left["removedBy"].as_str()
            ),
            (Some(room.as_str()), Some("carol"), Some("alice"))
        );
    }
    // bob leaves on his own: alice hears it.
    p.rest(
        Some(&bob.token),
        "DELETE",
        &format!("/rooms/{room}/members/bob"),
        None,
    )
    .await;
    assert_eq!(alice.one("memberLeft")["removedBy"], "bob");
    assert!(bob.take("memberLeft").is_empty());
}

#[tokio::test]
async fn joins_and_leaves_of_a_channel_push_nothing_to_its_members() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "channel", "News", &[]).await;
    let members = format!("/rooms/{room}/members");
    let (s, _) = p
        .rest(
            Some(&bob.token),
            "POST",
            &members,
            Some(json!({"userId":"bob"})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        bob.one("roomAdded")["roomId"],
        room.as_str(),
        "bob's other devices"
    );
    p.rest(Some(&bob.token), "DELETE", &format!("{members}/bob"), None)
        .await;
    assert_eq!(bob.one("roomRemoved")["roomId"], room.as_str());
    assert!(alice.take("memberJoined").is_empty());
    assert!(alice.take("memberLeft").is_empty());
}
