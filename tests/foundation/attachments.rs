//! Attachments through the real handlers: upload slots over REST, uploads
//! to the in-memory store's presigned URLs (as the local platform serves
//! them), messages that reference them, and download URLs for members in
//! the pushed message, history and sync. Every bad input is refused with a
//! clear error and changes nothing.

use std::collections::BTreeMap;

use chat_core::memory::{BlobRefusal, BLOB_PATH};
use chat_core::ports::Clock;
use chat_tests::{Client, Platform};
use serde_json::{json, Value};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n fake image bytes";

fn split(url: &str) -> (String, String) {
    let path = url.split_once(BLOB_PATH).map_or("", |(_, p)| p);
    let (key, query) = path.split_once('?').unwrap_or((path, ""));
    (key.to_owned(), query.to_owned())
}

async fn slot(p: &Platform, c: &Client, room: &str, body: Value) -> (u16, Value) {
    p.rest(
        Some(&c.token),
        "POST",
        &format!("/rooms/{room}/attachments"),
        Some(body),
    )
    .await
}

fn png_slot(size: usize) -> Value {
    json!({"contentType":"image/png","size":size,"fileName":"cat.png","width":640,"height":480})
}

/// PUTs `bytes` to a slot as a client would: its headers, `content_type`.
fn upload(p: &Platform, slot: &Value, content_type: &str, bytes: &[u8]) -> Result<(), BlobRefusal> {
    let (key, query) = split(slot["uploadUrl"].as_str().unwrap());
    let meta: BTreeMap<String, String> = slot["headers"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("x-amz-meta-"))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    p.mem.blobs.put_signed(
        &key,
        &query,
        content_type,
        &meta,
        bytes.to_vec(),
        p.clock.now(),
    )
}

/// A slot in `room` with `PNG` uploaded to it; its attachment id.
async fn uploaded(p: &Platform, c: &Client, room: &str) -> String {
    let (status, s) = slot(p, c, room, png_slot(PNG.len())).await;
    assert_eq!(status, 201, "{s}");
    upload(p, &s, "image/png", PNG).unwrap();
    s["attachmentId"].as_str().unwrap().to_owned()
}

fn send(room: &str, cmid: &str, body: &str, ids: &[&str]) -> Value {
    json!({"action":"sendMessage","roomId":room,"clientMsgId":cmid,"body":body,"attachments":ids})
}

fn download(p: &Platform, url: &str) -> Result<Vec<u8>, BlobRefusal> {
    let (key, query) = split(url);
    p.mem
        .blobs
        .get_signed(&key, &query, p.clock.now())
        .map(|d| d.bytes)
}

/// The error a refused send answered, and proof it changed nothing: no
/// ack, no message pushed, no seq taken.
async fn refused(p: &Platform, sender: &mut Client, other: &mut Client, room: &str) -> Value {
    let e = sender.one("error");
    assert!(sender.take("ack").is_empty(), "refused, yet acked");
    assert!(other.take("message").is_empty(), "refused, yet pushed");
    let last = p
        .chat
        .messages
        .last_seq(&chat_core::ids::RoomId::parse(room).unwrap())
        .await
        .unwrap();
    assert_eq!(last, 0, "refused, yet a seq was taken");
    e
}

#[tokio::test]
async fn two_members_share_a_file_live_in_history_and_in_sync() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    let id = uploaded(&p, &alice, &room).await;
    // An attachments-only message: the body may be empty.
    p.send(&alice, send(&room, "c1", "", &[&id])).await;
    assert_eq!(alice.one("ack")["seq"], 1);
    let m = bob.one("message");
    assert_eq!(m["body"], "");
    let a = &m["attachments"][0];
    assert_eq!(
        (
            &a["attachmentId"],
            &a["contentType"],
            &a["size"],
            &a["fileName"],
            &a["width"],
            &a["height"]
        ),
        (
            &json!(id),
            &json!("image/png"),
            &json!(PNG.len()),
            &json!("cat.png"),
            &json!(640),
            &json!(480)
        )
    );
    assert_eq!(download(&p, a["url"].as_str().unwrap()).unwrap(), PNG);
    // The upload moved out of pending/: the lifecycle rule will not take it.
    assert_eq!(p.mem.blobs.keys(), vec![format!("rooms/{room}/{id}")]);

    // Later, history and sync sign fresh URLs.
    p.clock.advance(60_000);
    p.persist().await;
    let (status, page) = p
        .rest(
            Some(&bob.token),
            "GET",
            &format!("/rooms/{room}/messages"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let h = &page["messages"][0]["attachments"][0];
    assert!(
        h["urlExpiresAt"].as_i64() > a["urlExpiresAt"].as_i64(),
        "a fresh URL"
    );
    assert_eq!(download(&p, h["url"].as_str().unwrap()).unwrap(), PNG);
    p.send(&bob, json!({"action":"sync","rooms":[{"roomId":room}]}))
        .await;
    let sync = bob.one("syncResult");
    let s = &sync["messages"][0]["attachments"][0];
    assert_eq!(download(&p, s["url"].as_str().unwrap()).unwrap(), PNG);
}

#[tokio::test]
async fn a_download_url_expires_and_a_non_member_gets_none() {
    let p = Platform::default();
    let (mut alice, mut bob, carol) = (
        p.connect("alice").await,
        p.connect("bob").await,
        p.connect("carol").await,
    );
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    let id = uploaded(&p, &alice, &room).await;
    p.send(&alice, send(&room, "c1", "look", &[&id])).await;
    alice.one("ack");
    let url = bob.one("message")["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let ttl = p.chat.limits.attachments.download_url_ttl_ms;
    p.clock.advance(ttl);
    assert_eq!(download(&p, &url).unwrap(), PNG, "valid through its expiry");
    p.clock.advance(1);
    assert_eq!(download(&p, &url), Err(BlobRefusal::Expired));
    // Carol is no member: no history, no sync, so no URL, and no slot either.
    p.persist().await;
    let (status, _) = p
        .rest(
            Some(&carol.token),
            "GET",
            &format!("/rooms/{room}/messages"),
            None,
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = slot(&p, &carol, &room, png_slot(10)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
}

#[tokio::test]
async fn an_upload_of_another_type_or_size_than_the_slot_is_refused_and_cannot_be_sent() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    let (_, s) = slot(&p, &alice, &room, png_slot(PNG.len())).await;
    assert_eq!(
        upload(&p, &s, "image/jpeg", PNG),
        Err(BlobRefusal::BadSignature)
    );
    assert_eq!(
        upload(
            &p,
            &s,
            "image/png",
            b"a much longer file than the slot said it would be"
        ),
        Err(BlobRefusal::BadSignature)
    );
    assert!(p.mem.blobs.keys().is_empty(), "nothing stored");
    let id = s["attachmentId"].as_str().unwrap();
    p.send(&alice, send(&room, "c1", "", &[id])).await;
    let e = refused(&p, &mut alice, &mut bob, &room).await;
    assert_eq!(e["code"], "bad_request");
    assert!(e["message"].as_str().unwrap().contains("not found"), "{e}");
}

#[tokio::test]
async fn an_expired_slot_takes_no_upload() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    let (_, s) = slot(&p, &alice, &room, png_slot(PNG.len())).await;
    p.clock
        .advance(p.chat.limits.attachments.upload_url_ttl_ms + 1);
    assert_eq!(upload(&p, &s, "image/png", PNG), Err(BlobRefusal::Expired));
    p.send(
        &alice,
        send(&room, "c1", "", &[s["attachmentId"].as_str().unwrap()]),
    )
    .await;
    refused(&p, &mut alice, &mut bob, &room).await;
}

#[tokio::test]
async fn an_upload_left_unsent_past_the_lifecycle_window_cannot_be_sent() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    let id = uploaded(&p, &alice, &room).await;
    p.clock
        .advance(chat_core::attachments::PENDING_DAYS * 86_400_000 + 1);
    p.send(&alice, send(&room, "c1", "", &[&id])).await;
    let e = refused(&p, &mut alice, &mut bob, &room).await;
    assert!(e["message"].as_str().unwrap().contains("expired"), "{e}");
}

#[tokio::test]
async fn a_slot_is_sent_once_but_a_resend_of_the_same_message_is_the_same_message() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    let id = uploaded(&p, &alice, &room).await;
    p.send(&alice, send(&room, "c1", "first", &[&id])).await;
    let first = alice.one("ack");
    bob.one("message");
    // The resend (a lost ack) is the same message.
    p.send(&alice, send(&room, "c1", "first", &[&id])).await;
    assert_eq!(alice.one("ack")["messageId"], first["messageId"]);
    bob.take("message");
    // Another message cannot reuse it.
    p.send(&alice, send(&room, "c2", "again", &[&id])).await;
    let e = alice.one("error");
    assert_eq!(e["code"], "bad_request");
    assert!(
        e["message"].as_str().unwrap().contains("already sent"),
        "{e}"
    );
    assert!(alice.take("ack").is_empty() && bob.take("message").is_empty());
}

#[tokio::test]
async fn another_users_or_another_rooms_attachment_is_refused() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    let other = p.create_room(&alice, "group", "other", &[&bob]).await;
    let alices = uploaded(&p, &alice, &room).await;
    p.send(&bob, send(&room, "b1", "mine now", &[&alices]))
        .await;
    let e = refused(&p, &mut bob, &mut alice, &room).await;
    assert!(e["message"].as_str().unwrap().contains("not yours"), "{e}");
    let elsewhere = uploaded(&p, &alice, &other).await;
    p.send(&alice, send(&room, "a1", "", &[&elsewhere])).await;
    let e = refused(&p, &mut alice, &mut bob, &room).await;
    assert!(
        e["message"].as_str().unwrap().contains("another room"),
        "{e}"
    );
    assert_eq!(p.mem.blobs.keys().len(), 2, "both still pending, unclaimed");
    assert!(p.mem.blobs.keys().iter().all(|k| k.starts_with("pending/")));
}

#[tokio::test]
async fn too_many_attachments_or_one_named_twice_is_refused() {
    let p = Platform::default();
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    let max = p.chat.limits.attachments.max_per_message;
    let mut ids = Vec::new();
    for _ in 0..=max {
        ids.push(uploaded(&p, &alice, &room).await);
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    p.send(&alice, send(&room, "c1", "", &refs)).await;
    assert_eq!(
        refused(&p, &mut alice, &mut bob, &room).await["code"],
        "too_large"
    );
    p.send(&alice, send(&room, "c2", "", &[refs[0], refs[0]]))
        .await;
    assert_eq!(
        refused(&p, &mut alice, &mut bob, &room).await["code"],
        "bad_request"
    );
    assert!(p.mem.blobs.keys().iter().all(|k| k.starts_with("pending/")));
}

#[tokio::test]
async fn slots_refuse_executables_svg_oversize_and_paths() {
    let p = Platform::default();
    let alice = p.connect("alice").await;
    let room = p.create_room(&alice, "group", "team", &[]).await;
    let max = p.chat.limits.attachments.max_bytes;
    for (body, status, code) in [
        (
            json!({"contentType":"application/x-msdownload","size":10,"fileName":"setup.exe"}),
            400,
            "bad_request",
        ),
        (
            json!({"contentType":"image/svg+xml","size":10,"fileName":"logo.svg"}),
            400,
            "bad_request",
        ),
        (
            json!({"contentType":"text/html","size":10,"fileName":"page.html"}),
            400,
            "bad_request",
        ),
        (
            json!({"contentType":"image/png","size":max + 1,"fileName":"huge.png"}),
            413,
            "too_large",
        ),
        (
            json!({"contentType":"image/png","size":0,"fileName":"empty.png"}),
            400,
            "bad_request",
        ),
        (
            json!({"contentType":"image/png","size":10,"fileName":"../../x.png"}),
            400,
            "bad_request",
        ),
        (
            json!({"contentType":"image/png","size":10,"fileName":"x.png","width":0}),
            400,
            "bad_request",
        ),
    ] {
        let (s, b) = slot(&p, &alice, &room, body.clone()).await;
        assert_eq!(
            (s, b["error"]["code"].as_str()),
            (status, Some(code)),
            "{body} → {b}"
        );
    }
    assert!(p.mem.blobs.keys().is_empty());
    let (s, b) = slot(&p, &alice, &room, png_slot(max as usize)).await;
    assert_eq!(s, 201, "exactly the limit is fine: {b}");
    assert_eq!(b["method"], "PUT");
}

/// The store as a rival message's claim would leave it: every move of an
/// upload finds it already moved by another message.
struct RivalClaims(std::sync::Arc<dyn chat_core::ports::BlobStore>);

#[async_trait::async_trait]
impl chat_core::ports::BlobStore for RivalClaims {
    async fn presign_put(
        &self,
        key: &str,
        spec: &chat_core::ports::UploadSpec,
        now: i64,
        ttl_ms: i64,
    ) -> Result<chat_core::ports::Presigned, chat_core::error::StoreError> {
        self.0.presign_put(key, spec, now, ttl_ms).await
    }
    async fn presign_get(
        &self,
        key: &str,
        spec: &chat_core::ports::DownloadSpec,
        now: i64,
        ttl_ms: i64,
    ) -> Result<String, chat_core::error::StoreError> {
        self.0.presign_get(key, spec, now, ttl_ms).await
    }
    async fn head(
        &self,
        key: &str,
    ) -> Result<Option<chat_core::ports::BlobHead>, chat_core::error::StoreError> {
        self.0.head(key).await
    }
    async fn promote(
        &self,
        from: &str,
        to: &str,
        content_type: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), chat_core::error::StoreError> {
        // The rival got there first, between our head and our move.
        self.0
            .promote(from, &format!("{to}-rival"), content_type, metadata)
            .await?;
        self.0.promote(from, to, content_type, metadata).await
    }
    async fn delete(&self, key: &str) -> Result<(), chat_core::error::StoreError> {
        self.0.delete(key).await
    }
}

#[tokio::test]
async fn losing_a_race_for_the_same_upload_is_refused_like_a_reuse() {
    let mut p = Platform::default();
    p.chat.blobs = std::sync::Arc::new(RivalClaims(p.chat.blobs.clone()));
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let room = p.create_room(&alice, "group", "team", &[&bob]).await;
    let id = uploaded(&p, &alice, &room).await;
    p.send(&alice, send(&room, "c1", "", &[&id])).await;
    let e = refused(&p, &mut alice, &mut bob, &room).await;
    assert_eq!(e["code"], "bad_request", "not an internal error: {e}");
    assert!(
        e["message"].as_str().unwrap().contains("already sent"),
        "{e}"
    );
}
