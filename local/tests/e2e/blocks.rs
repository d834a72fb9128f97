//! Blocks end to end, over REST and the WebSocket: Bob blocks Alice, and
//! Alice tries every path around the block (a direct room, the one that
//! existed before, a resend, typing, presence); shared groups still work,
//! the refusals are error frames and 403s that store nothing, and
//! unblocking restores it all. Notifications across a block are checked
//! against the local outbox (in-process modes).

use chat_client::ClientError;
use serde_json::{json, Value};

use crate::{spawn, Env};

async fn block(e: &Env, by: &str, whom: &str) -> (u16, Value) {
    e.rest(by)
        .call("PUT", &format!("/users/me/blocks/{whom}"), None)
        .await
        .unwrap()
}

async fn create_direct(e: &Env, by: &str, with: &str) -> (u16, Value) {
    e.rest(by)
        .post(
            "/rooms",
            &json!({"name":"dm","kind":"direct","members":[with]}),
        )
        .await
        .unwrap()
}

fn refused(r: Result<chat_client::Ack, ClientError>) {
    match r {
        Err(ClientError::Frame { code, .. }) => assert_eq!(code, "forbidden"),
        other => panic!("not refused: {other:?}"),
    }
}

fn of_type<'a>(frames: &'a [Value], ty: &str) -> Vec<&'a Value> {
    frames.iter().filter(|f| f["type"] == ty).collect()
}

/// Frames up to and including the message with `body`.
async fn until_message(c: &mut chat_client::ChatClient, body: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let f = c.next().await.expect("a frame before the timeout");
        let done = f["type"] == "message" && f["body"] == body;
        out.push(f);
        if done {
            return out;
        }
    }
}

#[tokio::test]
async fn a_blocked_user_trying_every_path_around_the_block() {
    let e = spawn().await;
    let mut alice = e.connect("alice").await;
    let mut bob = e.connect("bob").await;
    let mut carol = e.connect("carol").await;
    let dm = e.room("alice", "direct", &["bob"]).await;
    let group = e.room("carol", "group", &["alice", "bob"]).await;
    alice.send_with_id(&dm, "before", "hello").await.unwrap();
    until_message(&mut bob, "hello").await;

    // Bad input: a clear error, nothing stored.
    let (s, r) = block(&e, "bob", "bob").await;
    assert_eq!(
        (s, &r["error"]["code"]),
        (400, &json!("bad_request")),
        "{r}"
    );
    let (s, r) = block(&e, "bob", "nobody-at-all").await;
    assert_eq!(s, 404, "{r}");
    let (s, r) = e
        .rest("bob")
        .delete("/users/me/blocks/alice")
        .await
        .unwrap();
    assert_eq!(s, 404, "{r}");
    let (_, list) = e.rest("bob").get("/users/me/blocks").await.unwrap();
    assert_eq!(list["blocks"], json!([]));

    let (s, r) = block(&e, "bob", "alice").await;
    assert_eq!((s, &r["userId"]), (201, &json!("alice")), "{r}");
    let (s, _) = block(&e, "bob", "alice").await;
    assert_eq!(s, 200, "blocking again changes nothing");
    let (_, list) = e.rest("bob").get("/users/me/blocks").await.unwrap();
    assert_eq!(list["blocks"].as_array().unwrap().len(), 1, "{list}");
    let (_, list) = e.rest("alice").get("/users/me/blocks").await.unwrap();
    assert_eq!(list["blocks"], json!([]), "nobody is told who blocks them");

    // No direct room, either way, not even the existing one.
    for (by, with) in [("alice", "bob"), ("bob", "alice")] {
        let (s, r) = create_direct(&e, by, with).await;
        assert_eq!((s, &r["error"]["code"]), (403, &json!("forbidden")), "{r}");
    }
    // No direct message in the room that existed, either way; no resend.
    refused(alice.send(&dm, "let me in").await);
    refused(bob.send(&dm, "go away").await);
    refused(alice.send_with_id(&dm, "before", "hello").await);

    // Typing: refused in the direct room (an error frame), hidden in the group.
    alice
        .send_json(&json!({"action":"typing","roomId":dm,"isTyping":true}))
        .unwrap();
    let err = alice.next_of("error").await.unwrap();
    assert_eq!(err["code"], "forbidden", "{err}");
    alice
        .send_json(&json!({"action":"typing","roomId":group,"isTyping":true}))
        .unwrap();
    let t = carol.next_of("typing").await.unwrap();
    assert_eq!(t["userId"], "alice");
    // Shared groups still work: the message arrives (the client hides it),
    // after the typing frame, which Bob never got.
    alice.send(&group, "in the group").await.unwrap();
    let seen = until_message(&mut bob, "in the group").await;
    assert!(of_type(&seen, "typing").is_empty(), "{seen:?}");
    assert!(of_type(&seen, "message")
        .iter()
        .all(|m| m["body"] != "let me in"));

    // Presence: Alice leaves and comes back; Carol is told, Bob is not.
    alice.close();
    e.wait_disconnected("alice").await;
    let off = carol.next_of("presence").await.unwrap();
    assert_eq!(
        (&off["userId"], &off["status"]),
        (&json!("alice"), &json!("offline"))
    );
    let alice = e.connect("alice").await;
    // Presence broadcasts go through the queue, at least once: on a loaded
    // machine a redelivered one repeats the offline before the online.
    let on = loop {
        let p = carol.next_of("presence").await.unwrap();
        if p["status"] != "offline" {
            break p;
        }
        assert_eq!(p["userId"], "alice", "{p}");
    };
    assert_eq!(
        (&on["userId"], &on["status"]),
        (&json!("alice"), &json!("online"))
    );
    carol.send(&group, "after presence").await.unwrap();
    let seen = until_message(&mut bob, "after presence").await;
    assert!(
        of_type(&seen, "presence")
            .iter()
            .all(|p| p["userId"] != "alice"),
        "{seen:?}"
    );
    // Read on demand too: Alice shows offline to Bob, online to Carol.
    let presence_in = |detail: &Value, user: &str| {
        detail["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["userId"] == user)
            .map(|m| m["presence"].clone())
    };
    let (_, d) = e.rest("bob").get(&format!("/rooms/{group}")).await.unwrap();
    assert_eq!(presence_in(&d, "alice"), Some(json!("offline")), "{d}");
    let (_, d) = e
        .rest("carol")
        .get(&format!("/rooms/{group}"))
        .await
        .unwrap();
    assert_eq!(presence_in(&d, "alice"), Some(json!("online")), "{d}");
    let (_, p) = e.rest("bob").get("/users/alice").await.unwrap();
    assert!(p.get("presence").is_none_or(Value::is_null), "{p}");

    // Inviting the blocker into a group is fine.
    let (s, r) = e
        .rest("alice")
        .post(
            "/rooms",
            &json!({"name":"g","kind":"group","members":["bob"]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{r}");

    // Nothing of the refused messages was stored.
    e.persisted().await;
    let h = e.history("bob", &dm, "").await;
    let bodies: Vec<&str> = h["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["hello"]);

    // Unblocking restores it all.
    let (s, _) = e
        .rest("bob")
        .delete("/users/me/blocks/alice")
        .await
        .unwrap();
    assert_eq!(s, 204);
    let (s, r) = create_direct(&e, "alice", "bob").await;
    assert_eq!((s, &r["roomId"]), (200, &json!(dm)), "{r}");
    alice.send(&dm, "friends again").await.unwrap();
    until_message(&mut bob, "friends again").await;
    alice
        .send_json(&json!({"action":"typing","roomId":dm,"isTyping":true}))
        .unwrap();
    let t = bob.next_of("typing").await.unwrap();
    assert_eq!(t["userId"], "alice");
}

#[tokio::test]
async fn a_blocked_users_messages_do_not_notify_the_blocker() {
    if crate::watch::in_process_only(
        "a_blocked_users_messages_do_not_notify_the_blocker",
        "the outbox lives in the platform's process",
    ) {
        return;
    }
    let e = spawn().await;
    let (s, d) = e
        .rest("bob")
        .post(
            "/users/me/devices",
            &json!({"endpoint": "https://push.example.com/bob", "keys": {
                "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
                "auth": "BTBZMqHH6r4Tts7J_aSIgg"}}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{d}");
    let alice = e.connect("alice").await;
    let carol = e.connect("carol").await;
    let group = e.room("carol", "group", &["alice", "bob"]).await;
    assert_eq!(block(&e, "bob", "alice").await.0, 201);
    alice.send(&group, "psst").await.unwrap();
    e.persisted().await;
    // A later message of someone else notifies: the outbox holds only it.
    e.clock.advance(60_000);
    carol.send(&group, "hey bob").await.unwrap();
    e.persisted().await;
    let (_, body) = e
        .rest("bob")
        .get("/dev/notifications?userId=bob")
        .await
        .unwrap();
    let senders: Vec<&Value> = body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["senderId"])
        .collect();
    assert_eq!(senders, vec![&json!("carol")], "{body}");
}
