use chat_core::ids::UserId;
use chat_core::ports::{Clock, SystemClock};
use chat_tests::Platform;
use chat_twin::{mint_hs256, MintOptions};
use serde_json::json;

#[tokio::test]
async fn connect_without_a_token_is_refused_with_401() {
    let p = Platform::default();
    let resp = p.raw_connect("c1=", &[], &[]).await;
    assert_eq!(resp.status_code, 401);
    assert!(p.mem.connections.is_empty());
}

#[tokio::test]
async fn connect_with_a_forged_or_expired_token_is_refused() {
    let p = Platform::default();
    let alice = UserId::parse("alice").unwrap();
    let forged = mint_hs256(
        b"not-the-secret-not-the-secret",
        &alice,
        SystemClock.now(),
        60,
        MintOptions::default(),
    );
    let expired = mint_hs256(
        chat_tests::SECRET,
        &alice,
        SystemClock.now() - 7_200_000,
        60,
        MintOptions::default(),
    );
    for token in [forged.as_str(), expired.as_str(), "garbage", ""] {
        assert_eq!(
            p.raw_connect("c1=", &[("token", token)], &[])
                .await
                .status_code,
            401,
            "{token}"
        );
    }
    assert!(p.mem.connections.is_empty());
}

#[tokio::test]
async fn connect_accepts_the_token_in_the_authorization_header() {
    let p = Platform::default();
    let token = p.token("alice");
    let resp = p
        .raw_connect("c1=", &[], &[("Authorization", &format!("Bearer {token}"))])
        .await;
    assert_eq!(resp.status_code, 200);
}

#[tokio::test]
async fn a_sender_id_in_the_body_cannot_impersonate_another_user() {
    let p = Platform::default();
    let (alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    p.send(&alice, json!({"action":"sendMessage","roomId":room,"clientMsgId":"c1","body":"hi","senderId":"bob","userId":"bob"}))
        .await;
    let msg = bob.one("message");
    assert_eq!(msg["senderId"], "alice");
}

#[tokio::test]
async fn a_frame_on_an_unknown_connection_is_unauthorized() {
    let p = Platform::default();
    let mut ghost = p.connect("ghost").await;
    p.chat.connections.delete(&ghost.conn).await.unwrap();
    p.send(&ghost, json!({"action":"ping"})).await;
    assert_eq!(ghost.one("error")["code"], "unauthorized");
}

/// The seed's "same data/connection showing for multiple users": one handler
/// instance (one `Chat`) serves many users' requests interleaved; every
/// reply must reach only its own connection and name only its own user.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn interleaved_requests_of_many_users_on_one_instance_never_mix() {
    let p = std::sync::Arc::new(Platform::default());
    let users: Vec<String> = (0..8).map(|i| format!("user{i}")).collect();
    let mut clients = Vec::new();
    for u in &users {
        clients.push(p.connect(u).await);
    }
    // Everyone is in their own room, with nobody else.
    let mut rooms = Vec::new();
    for c in &clients {
        rooms.push(p.create_room(c, "group", "solo", &[]).await);
    }
    let mut tasks = Vec::new();
    for (i, c) in clients.iter().enumerate() {
        for n in 0..20 {
            let p = p.clone();
            let (room, conn_user) = (rooms[i].clone(), c.user.to_string());
            let token = c.token.clone();
            let conn = c.conn.clone();
            tasks.push(tokio::spawn(async move {
                let frame = json!({"action":"sendMessage","roomId":room,"clientMsgId":format!("{conn_user}-{n}"),"body":format!("from {conn_user}")});
                p.send_on(&conn, &frame.to_string()).await;
                let (status, me) = p.rest(Some(&token), "GET", "/users/me", None).await;
                assert_eq!(status, 200);
                assert_eq!(me["userId"], conn_user.as_str(), "REST answered for the wrong user");
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let acks = c.take("ack");
        assert_eq!(acks.len(), 20, "{} got {} acks", c.user, acks.len());
        for a in &acks {
            assert_eq!(a["roomId"], rooms[i].as_str());
            assert!(a["clientMsgId"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{}-", c.user)));
        }
        assert!(
            c.take("message").is_empty(),
            "nobody else is in {}'s room",
            c.user
        );
        assert!(c.take("error").is_empty());
    }
}
