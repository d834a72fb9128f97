//! End-to-end encrypted direct rooms over real sockets: two users publish
//! device keys, talk sealed both ways, and each device opens what was sent;
//! the server refuses plaintext, stale key sets and replays. On moto
//! (`CHAT_E2E_BACKEND=aws`, watch), every item of the table is scanned to
//! prove no plaintext of the conversation was stored.

use chat_client::e2ee::{open, open_edit, seal, seal_edit, Content, DeviceKeys};
use chat_client::{ChatClient, ClientError};
use chat_core::e2ee::Sealed;
use chat_core::ids::{ClientMsgId, RoomId, UserId};
use serde_json::{json, Value};

use crate::{aws_backend, spawn, Env};

const SECRETS: [&str; 3] = [
    "the vault code is 7319",
    "meet under the clock tower",
    "bring the blue folder",
];

fn on_moto() -> bool {
    aws_backend() || crate::watch::enabled()
}

fn ids(room: &str, sender: &str, cmid: &str) -> (RoomId, UserId, ClientMsgId) {
    (
        RoomId::parse(room).unwrap(),
        UserId::parse(sender).unwrap(),
        ClientMsgId::parse(cmid).unwrap(),
    )
}

/// Seals `body` from `sender` to every current device of both members.
async fn sealed(e: &Env, room: &str, sender: &str, peer: &str, cmid: &str, body: &str) -> Sealed {
    let to = e.rest(sender).recipients(&[sender, peer]).await.unwrap();
    let (r, s, c) = ids(room, sender, cmid);
    seal(&r, &s, &c, &Content::text(body), &to).unwrap()
}

/// The next `message` frame, skipping the rest.
async fn next_message(c: &mut ChatClient) -> Value {
    loop {
        let f = c.next().await.expect("a frame before the timeout");
        if f["type"] == "message" {
            return f;
        }
    }
}

/// Opens a message as it travels (frame or history item).
fn read(m: &Value, user: &str, device: &DeviceKeys) -> String {
    assert_eq!(m["body"], "", "no plaintext body travels: {m}");
    let sealed: Sealed = serde_json::from_value(m["sealed"].clone()).unwrap();
    let (r, s, c) = ids(
        m["roomId"].as_str().unwrap(),
        m["senderId"].as_str().unwrap(),
        m["clientMsgId"].as_str().unwrap(),
    );
    open(&sealed, &r, &s, &c, &UserId::parse(user).unwrap(), device)
        .unwrap()
        .body
}

/// Alice opens the encrypted direct room with Bob; its id.
async fn encrypted_room(e: &Env) -> String {
    let (s, r) = e
        .rest("alice")
        .post(
            "/rooms",
            &json!({"kind":"direct","members":["bob"],"encrypted":true}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{r}");
    assert_eq!(r["encrypted"], true, "{r}");
    let dm = r["roomId"].as_str().unwrap().to_owned();
    assert!(dm.starts_with("dme_"), "{dm}");
    dm
}

fn refused(r: Result<chat_client::Ack, ClientError>, code: &str, naming: &str) {
    match r {
        Err(ClientError::Frame { code: c, message }) => {
            assert_eq!(c, code, "{message}");
            assert!(message.contains(naming), "{message} does not name {naming}");
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[tokio::test]
async fn two_users_talk_sealed_and_the_store_holds_no_plaintext() {
    let e = spawn().await;
    let mut alice = e.connect("alice").await;
    let mut bob = e.connect("bob").await;
    let dm = encrypted_room(&e).await;
    // The pair's plain room is another room.
    let plain = e.room("alice", "direct", &["bob"]).await;
    assert_ne!(plain, dm);

    let (a1, a2, b1) = (
        DeviceKeys::generate("alice-phone"),
        DeviceKeys::generate("alice-laptop"),
        DeviceKeys::generate("bob-phone"),
    );
    // A bundle naming someone else, and a point off the curve: refused.
    let (s, r) = e.rest("alice").publish_key("bob", &a1).await.unwrap();
    assert_eq!(s, 403, "{r}");
    let (s, r) = e
        .rest("alice")
        .call(
            "PUT",
            "/users/me/keys/alice-phone",
            Some(&json!({"userId":"alice","publicKey":"BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})),
        )
        .await
        .unwrap();
    assert_eq!(s, 400, "{r}");
    for (u, k) in [("alice", &a1), ("alice", &a2), ("bob", &b1)] {
        let (s, r) = e.rest(u).publish_key(u, k).await.unwrap();
        assert_eq!(s, 201, "{r}");
    }
    // Bob learns that Alice's keys changed, with the fingerprint the
    // listing shows.
    let (_, listed) = e.rest("bob").get("/users/alice/keys").await.unwrap();
    assert_eq!(listed["devices"].as_array().unwrap().len(), 2, "{listed}");
    let mut last = Value::Null;
    while last["fingerprint"] != listed["fingerprint"] {
        last = bob.next_of("keysChanged").await.unwrap();
        assert_eq!(last["userId"], "alice");
    }

    // Plaintext into the encrypted room is refused.
    refused(
        alice.send_with_id(&dm, "p1", SECRETS[0]).await,
        "bad_request",
        "sealed",
    );

    // Alice → Bob, and both of Alice's devices read it too.
    let s0 = sealed(&e, &dm, "alice", "bob", "m1", SECRETS[0]).await;
    alice.send_sealed(&dm, "m1", &s0).await.unwrap();
    let got = next_message(&mut bob).await;
    assert_eq!(read(&got, "bob", &b1), SECRETS[0]);
    assert_eq!(read(&got, "alice", &a2), SECRETS[0]);
    // A resend of the same clientMsgId is idempotent; the same ciphertext
    // under another id is a replay.
    let again = alice.send_sealed(&dm, "m1", &s0).await.unwrap();
    assert_eq!(again.seq, 1);
    refused(
        alice.send_sealed(&dm, "m1-replay", &s0).await,
        "conflict",
        "replayed",
    );

    // Bob → Alice.
    let s1 = sealed(&e, &dm, "bob", "alice", "m2", SECRETS[1]).await;
    bob.send_sealed(&dm, "m2", &s1).await.unwrap();
    let got = next_message(&mut alice).await;
    assert_eq!(read(&got, "alice", &a1), SECRETS[1]);

    // Bob adds a device: a seal to the old set is refused naming it, and
    // sealing again to the fresh set goes through.
    let b2 = DeviceKeys::generate("bob-tablet");
    let to_old = e.rest("alice").recipients(&["alice", "bob"]).await.unwrap();
    e.rest("bob").publish_key("bob", &b2).await.unwrap();
    let (r, s, c) = ids(&dm, "alice", "m3");
    let stale = seal(&r, &s, &c, &Content::text(SECRETS[2]), &to_old).unwrap();
    refused(
        alice.send_sealed(&dm, "m3", &stale).await,
        "conflict",
        "bob/bob-tablet",
    );
    let s2 = sealed(&e, &dm, "alice", "bob", "m3", SECRETS[2]).await;
    alice.send_sealed(&dm, "m3", &s2).await.unwrap();

    // History holds the sealed messages; each device opens them.
    e.persisted().await;
    let page = e.history("bob", &dm, "").await;
    let msgs = page["messages"].as_array().unwrap();
    let mut bodies: Vec<String> = msgs
        .iter()
        .map(|m| {
            // The tablet joined before the third message only.
            let tablet = m["sealed"]["envelopes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["deviceId"] == "bob-tablet");
            read(m, "bob", if tablet { &b2 } else { &b1 })
        })
        .collect();
    bodies.sort();
    let mut want: Vec<String> = SECRETS.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    assert_eq!(bodies, want);
    // Search never finds them.
    let (s, found) = e
        .rest("bob")
        .get(&format!("/rooms/{dm}/search?q=vault"))
        .await
        .unwrap();
    assert_eq!(s, 200, "{found}");
    assert_eq!(found["hits"].as_array().map(Vec::len), Some(0), "{found}");

    if on_moto() {
        let items = scan(&e).await;
        assert!(
            items.iter().any(|i| i.contains("ciphertext")),
            "the sealed messages are stored"
        );
        for item in &items {
            for secret in SECRETS {
                for word in secret.split(' ').filter(|w| w.len() > 4) {
                    assert!(!item.contains(word), "plaintext {word:?} stored in {item}");
                }
            }
        }
    }
}

/// Alice sends sealed and edits it (sealed); Bob, away meanwhile, learns
/// the edit from sync and replies; both open the edit; the quote carries
/// no text; on moto, no word of the original, the edit or the reply is in
/// any item of the table.
#[tokio::test]
async fn sealed_edits_and_replies_leave_no_plaintext_in_the_store() {
    const ORIGINAL: &str = "launch window opens tuesday";
    const EDITED: &str = "launch window moved wednesday";
    const REPLY: &str = "understood, rescheduling convoy";
    let e = spawn().await;
    let mut alice = e.connect("alice").await;
    let dm = encrypted_room(&e).await;
    let (a1, b1) = (
        DeviceKeys::generate("alice-phone"),
        DeviceKeys::generate("bob-phone"),
    );
    for (u, k) in [("alice", &a1), ("bob", &b1)] {
        let (s, r) = e.rest(u).publish_key(u, k).await.unwrap();
        assert_eq!(s, 201, "{r}");
    }

    let s0 = sealed(&e, &dm, "alice", "bob", "e1", ORIGINAL).await;
    let sent = alice.send_sealed(&dm, "e1", &s0).await.unwrap();
    // Bob syncs once, then is away.
    let mut bob = e.connect("bob").await;
    bob.send_json(&json!({"action":"sync","rooms":[{"roomId":dm}]}))
        .unwrap();
    let first = bob.next_of("syncResult").await.unwrap();
    let m = &first["messages"][0];
    assert_eq!(read(m, "bob", &b1), ORIGINAL);
    let cursor = first["throughChange"].as_u64().unwrap_or(0);
    bob.close();

    // A plaintext edit is refused; the sealed one goes through.
    alice.edit_message(&dm, sent.seq, EDITED).unwrap();
    let err = alice.next_of("error").await.unwrap();
    assert_eq!(err["code"], "bad_request", "{err}");
    let to = e.rest("alice").recipients(&["alice", "bob"]).await.unwrap();
    let (room, alice_id) = (RoomId::parse(&dm).unwrap(), UserId::parse("alice").unwrap());
    let edit = seal_edit(&room, &alice_id, sent.seq, &Content::text(EDITED), &to).unwrap();
    alice.edit_sealed(&dm, sent.seq, &edit).unwrap();
    let f = alice.next_of("messageEdited").await.unwrap();
    assert_eq!(f["body"], "", "{f}");
    assert_eq!(open_as(&f, "alice", "alice", &a1), EDITED);
    // The edit's ciphertext again: a replay.
    alice.edit_sealed(&dm, sent.seq, &edit).unwrap();
    let err = alice.next_of("error").await.unwrap();
    assert_eq!(err["code"], "conflict", "{err}");

    // Bob comes back: sync gives him the edit, which he opens.
    let mut bob = e.connect("bob").await;
    bob.send_json(
        &json!({"action":"sync","rooms":[{"roomId":dm,"afterSeq":sent.seq,"afterChange":cursor}]}),
    )
    .unwrap();
    let back = bob.next_of("syncResult").await.unwrap();
    let change = &back["changes"][0];
    assert_eq!(
        (&change["seq"], &change["body"]),
        (&json!(sent.seq), &json!("")),
        "{back}"
    );
    let sealed_edit: Sealed = serde_json::from_value(change["sealed"].clone()).unwrap();
    let opened = open_edit(
        &sealed_edit,
        &room,
        &alice_id,
        sent.seq,
        &UserId::parse("bob").unwrap(),
        &b1,
    )
    .unwrap();
    assert_eq!(opened.body, EDITED);

    // Bob replies; the quote has no text.
    let s1 = sealed(&e, &dm, "bob", "alice", "e2", REPLY).await;
    let ack = bob
        .send_sealed_reply(&dm, "e2", &s1, sent.seq)
        .await
        .unwrap();
    let got = next_message(&mut alice).await;
    assert_eq!(read(&got, "alice", &a1), REPLY);
    let quote = &got["replyTo"];
    assert_eq!(
        (
            &quote["seq"],
            &quote["excerpt"],
            &quote["sealed"],
            &quote["senderId"]
        ),
        (&json!(sent.seq), &json!(""), &json!(true), &json!("alice")),
        "{got}"
    );

    // History: the edited message (opened with the edit AAD) and the reply.
    e.persisted().await;
    let page = e.history("bob", &dm, "").await;
    let msgs = page["messages"].as_array().unwrap();
    let edited = msgs.iter().find(|m| m["seq"] == json!(sent.seq)).unwrap();
    assert!(edited["editedAt"].is_number(), "{edited}");
    assert_eq!(open_as(edited, "alice", "bob", &b1), EDITED);
    let reply = msgs.iter().find(|m| m["seq"] == json!(ack.seq)).unwrap();
    assert_eq!(reply["replyTo"]["excerpt"], "");
    // The thread of the original lists the reply.
    let (s, thread) = e
        .rest("alice")
        .get(&format!("/rooms/{dm}/messages/{}/replies", sent.seq))
        .await
        .unwrap();
    assert_eq!(s, 200, "{thread}");
    assert_eq!(thread["replies"][0]["seq"], json!(ack.seq), "{thread}");

    if on_moto() {
        let items = scan(&e).await;
        assert!(
            items.iter().any(|i| i.contains("messageState")),
            "the edit is stored"
        );
        for item in &items {
            for text in [ORIGINAL, EDITED, REPLY] {
                for word in text.split(' ').filter(|w| w.len() > 4) {
                    assert!(!item.contains(word), "plaintext {word:?} stored in {item}");
                }
            }
        }
    }
}

/// Opens a message or `messageEdited` frame that was edited: its `sealed`
/// is the latest edit's, bound to its `seq`.
fn open_as(m: &Value, sender: &str, user: &str, device: &DeviceKeys) -> String {
    assert_eq!(m["body"], "", "no plaintext body travels: {m}");
    let sealed: Sealed = serde_json::from_value(m["sealed"].clone()).unwrap();
    open_edit(
        &sealed,
        &RoomId::parse(m["roomId"].as_str().unwrap()).unwrap(),
        &UserId::parse(sender).unwrap(),
        m["seq"].as_u64().unwrap(),
        &UserId::parse(user).unwrap(),
        device,
    )
    .unwrap()
    .body
}

/// Every item of the test's table, as text (moto).
async fn scan(e: &Env) -> Vec<String> {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(chat_testkit::moto().url("http"))
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "static",
        ))
        .load()
        .await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(e.table_name())
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        out.extend(page.items().iter().map(|i| format!("{i:?}")));
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            return out;
        }
    }
}

/// A real PNG under a name and type only the two of them may know.
const SECRET_NAME: &str = "vault-floorplan.png";

/// Opens a message's sealed content as it travels (frame or history item).
fn content(m: &Value, user: &str, device: &DeviceKeys) -> Content {
    let sealed: Sealed = serde_json::from_value(m["sealed"].clone()).unwrap();
    let (r, s, c) = ids(
        m["roomId"].as_str().unwrap(),
        m["senderId"].as_str().unwrap(),
        m["clientMsgId"].as_str().unwrap(),
    );
    open(&sealed, &r, &s, &c, &UserId::parse(user).unwrap(), device).unwrap()
}

#[tokio::test]
async fn an_encrypted_file_is_stored_as_ciphertext_and_opens_only_for_the_members() {
    let png = crate::attachments::PNG;
    let e = spawn().await;
    let alice = e.connect("alice").await;
    let mut bob = e.connect("bob").await;
    let (s, r) = e
        .rest("alice")
        .post(
            "/rooms",
            &json!({"kind":"direct","members":["bob"],"encrypted":true}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{r}");
    let dm = r["roomId"].as_str().unwrap().to_owned();
    let (a1, b1) = (
        DeviceKeys::generate("alice-phone"),
        DeviceKeys::generate("bob-phone"),
    );
    for (u, k) in [("alice", &a1), ("bob", &b1)] {
        let (s, r) = e.rest(u).publish_key(u, k).await.unwrap();
        assert_eq!(s, 201, "{r}");
    }

    // The real type, or a real name, in an encrypted room's slot: refused.
    let (s, r) = e
        .rest("alice")
        .upload_slot(&dm, "image/png", png.len(), SECRET_NAME, None)
        .await
        .unwrap();
    assert_eq!(s, 400, "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("application/octet-stream"),
        "{r}"
    );
    let (s, r) = e
        .rest("alice")
        .upload_slot(&dm, "application/octet-stream", 99, SECRET_NAME, None)
        .await
        .unwrap();
    assert_eq!(s, 400, "{r}");

    // Alice encrypts the file, uploads the ciphertext, seals its key.
    let mut file = e
        .rest("alice")
        .upload_sealed_file(&dm, "alice", SECRET_NAME, "image/png", png)
        .await
        .expect("uploaded");
    file.width = Some(1);
    file.height = Some(1);
    let to = e.rest("alice").recipients(&["alice", "bob"]).await.unwrap();
    let (r, s, c) = ids(&dm, "alice", "f1");
    let sealed = seal(
        &r,
        &s,
        &c,
        &Content {
            body: "the plan".into(),
            files: vec![file.clone()],
        },
        &to,
    )
    .unwrap();
    alice
        .send_sealed_with_attachments(&dm, "f1", &sealed, &[&file.attachment_id])
        .await
        .expect("acked");

    // Bob opens the message, downloads the ciphertext, opens the file.
    let got = next_message(&mut bob).await;
    let a = &got["attachments"][0];
    assert_eq!(a["attachmentId"], file.attachment_id.as_str());
    assert_eq!(
        (&a["contentType"], &a["fileName"], &a["size"]),
        (
            &json!("application/octet-stream"),
            &json!("sealed"),
            &json!(png.len() + 16)
        ),
        "the server knows neither the name nor the type: {a}"
    );
    let opened = content(&got, "bob", &b1);
    assert_eq!(opened.files, vec![file.clone()]);
    let (status, ciphertext) = e
        .rest("bob")
        .download(a["url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_ne!(ciphertext, png);
    assert_eq!(opened.files[0].open(&r, &s, &ciphertext).unwrap(), png);
    // Moved to another sender, it does not open.
    assert!(opened.files[0]
        .open(&r, &UserId::parse("bob").unwrap(), &ciphertext)
        .is_err());

    // What the object store holds: ciphertext under neutral metadata.
    let key = format!("rooms/{dm}/{}", file.attachment_id);
    let head = e.p.chat.blobs.head(&key).await.unwrap().expect("stored");
    assert_eq!(head.content_type, "application/octet-stream");
    assert_eq!(head.size, png.len() as u64 + 16);
    assert_eq!(
        chat_core::attachments::name_of(&head.metadata).map(|n| n.as_str().to_owned()),
        Some("sealed".to_owned())
    );
    let meta = format!("{:?}", head.metadata);
    assert!(
        !meta.contains("image") && !meta.contains("vault") && !meta.contains("width"),
        "{meta}"
    );
    let spec = chat_core::ports::DownloadSpec {
        content_type: head.content_type.clone(),
        disposition: "attachment".into(),
    };
    let direct =
        e.p.chat
            .blobs
            .presign_get(&key, &spec, e.p.chat.clock.now(), 60_000)
            .await
            .unwrap();
    let (status, stored) = e.rest("bob").download(&direct).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(stored, ciphertext, "members download what is stored");
    assert!(
        !stored.windows(4).any(|w| w == &png[..4]),
        "no PNG signature in the stored bytes"
    );

    // History and sync hand out fresh URLs to the same ciphertext.
    e.persisted().await;
    let page = e.history("bob", &dm, "").await;
    let h = &page["messages"][0];
    assert_eq!(content(h, "bob", &b1).files, vec![file.clone()]);
    let (_, again) = e
        .rest("bob")
        .download(h["attachments"][0]["url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(again, ciphertext);
    bob.send_json(&json!({"action":"sync","rooms":[{"roomId":dm}]}))
        .unwrap();
    let sync = bob.next_of("syncResult").await.unwrap();
    assert_eq!(
        sync["messages"][0]["attachments"][0]["attachmentId"],
        file.attachment_id.as_str()
    );

    // A stranger gets neither the message nor a slot in the room.
    let (s, _) = e
        .rest("mallory")
        .get(&format!("/rooms/{dm}/messages"))
        .await
        .unwrap();
    assert_eq!(s, 403);

    if on_moto() {
        let items = scan(&e).await;
        assert!(
            items.iter().any(|i| i.contains(&file.attachment_id)),
            "the message with its attachment is stored"
        );
        for item in &items {
            for leak in ["vault-floorplan", "image/png", &file.key] {
                assert!(!item.contains(leak), "{leak:?} stored in {item}");
            }
        }
    }
}
