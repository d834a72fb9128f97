//! Two users share a file over real sockets and HTTP: an upload slot over
//! REST, the bytes PUT straight to the object store (the local platform's
//! own, or moto's S3 with `CHAT_E2E_BACKEND=aws`), a message naming the
//! attachment, and a download URL for the other member that gives back the
//! same bytes, live, in history and in sync.

use serde_json::json;

use crate::{aws_backend, spawn};

/// Whether the files go to moto's S3 (the aws backend, and every function
/// under watch), which verifies neither signatures nor expiry.
fn on_moto() -> bool {
    aws_backend() || crate::watch::enabled()
}

/// A small real PNG (1 × 1, one red pixel).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08, 0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xdd, 0x8d, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

#[tokio::test]
async fn two_users_share_a_file_and_only_members_get_a_url_that_expires() {
    let e = spawn().await;
    let (alice, mut bob) = (e.connect("alice").await, e.connect("bob").await);
    let room = e.room("alice", "group", &["bob"]).await;
    let id = e
        .rest("alice")
        .upload(&room, "image/png", "dot.png", PNG.to_vec())
        .await
        .expect("uploaded");
    alice
        .send_with_attachments(&room, "c1", "", &[&id])
        .await
        .expect("acked");
    let m = bob.next_of("message").await.unwrap();
    let a = &m["attachments"][0];
    assert_eq!(
        (
            &m["body"],
            &a["attachmentId"],
            &a["contentType"],
            &a["size"],
            &a["fileName"]
        ),
        (
            &json!(""),
            &json!(id),
            &json!("image/png"),
            &json!(PNG.len()),
            &json!("dot.png")
        )
    );
    let url = a["url"].as_str().unwrap().to_owned();
    let (status, bytes) = e.rest("bob").download(&url).await.unwrap();
    assert_eq!((status, bytes.as_slice()), (200, PNG));

    // History and sync hand out fresh URLs to members.
    e.persisted().await;
    let page = e.history("bob", &room, "").await;
    let h = page["messages"][0]["attachments"][0]["url"]
        .as_str()
        .unwrap();
    assert_eq!(
        e.rest("bob").download(h).await.unwrap(),
        (200, PNG.to_vec())
    );
    bob.send_json(&json!({"action":"sync","rooms":[{"roomId":room}]}))
        .unwrap();
    let sync = bob.next_of("syncResult").await.unwrap();
    let s = sync["messages"][0]["attachments"][0]["url"]
        .as_str()
        .unwrap();
    assert_eq!(
        e.rest("bob").download(s).await.unwrap(),
        (200, PNG.to_vec())
    );

    // A non-member gets neither a URL nor a slot.
    let (status, _) = e
        .rest("mallory")
        .get(&format!("/rooms/{room}/messages"))
        .await
        .unwrap();
    assert_eq!(status, 403);
    let (status, _) = e
        .rest("mallory")
        .upload_slot(&room, "image/png", 10, "x.png", None)
        .await
        .unwrap();
    assert_eq!(status, 403);

    // moto verifies neither signatures nor expiry: the local store does
    // (and the unit tests of the presigning prove S3's URLs carry both).
    if !on_moto() {
        e.clock
            .advance(e.p.chat.limits.attachments.download_url_ttl_ms + 1);
        let (status, _) = e.rest("bob").download(&url).await.unwrap();
        assert_eq!(status, 403, "an expired URL is refused");
        let forged = url.replace("inline", "attachment");
        assert_eq!(e.rest("bob").download(&forged).await.unwrap().0, 403);
    }
}

#[tokio::test]
async fn an_upload_unlike_its_slot_is_refused_and_a_slot_is_sent_once() {
    let e = spawn().await;
    let alice = e.connect("alice").await;
    let room = e.room("alice", "group", &["bob"]).await;
    let rest = e.rest("alice");
    let (s, slot) = rest
        .upload_slot(&room, "image/png", PNG.len(), "dot.png", Some((1, 1)))
        .await
        .unwrap();
    assert_eq!(s, 201, "{slot}");
    let id = slot["attachmentId"].as_str().unwrap();
    if !on_moto() {
        // The store refuses another type or size than the slot signed.
        assert_eq!(
            rest.put_to_slot(&slot, "image/jpeg", PNG.to_vec())
                .await
                .unwrap(),
            403
        );
        assert_eq!(
            rest.put_to_slot(&slot, "image/png", vec![0; 3])
                .await
                .unwrap(),
            403
        );
    } else {
        // moto stores it; the message function's check of the head refuses it.
        assert_eq!(
            rest.put_to_slot(&slot, "image/jpeg", PNG.to_vec())
                .await
                .unwrap(),
            200
        );
        let err = alice
            .send_with_attachments(&room, "bad", "", &[id])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("content type"), "{err}");
    }
    assert_eq!(
        rest.put_to_slot(&slot, "image/png", PNG.to_vec())
            .await
            .unwrap(),
        200
    );
    alice
        .send_with_attachments(&room, "c1", "first", &[id])
        .await
        .unwrap();
    let err = alice
        .send_with_attachments(&room, "c2", "again", &[id])
        .await
        .unwrap_err();
    assert!(
        matches!(err, chat_client::ClientError::Frame { ref code, .. } if code == "bad_request"),
        "{err}"
    );
}
