//! Files in end-to-end encrypted direct rooms, through the service: an
//! encrypted room's upload slot takes only ciphertext
//! ([`crate::attachments::SEALED_TYPE`]) under the neutral name
//! ([`crate::attachments::SEALED_NAME`]), a plain room never takes it, and a
//! sealed message claims only its own room's encrypted uploads. Every
//! refusal stores, reserves and sends nothing. (The rules live in
//! [`crate::attachments::check_slot_for_room`]; these tests drive them
//! through `upload_slot` and `send_message`.)

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

use super::Chat;
use crate::attachments::{pending_key, stored_key, SEALED_TYPE};
use crate::auth::Identity;
use crate::config::Limits;
use crate::e2ee::tests::{envelope, G};
use crate::e2ee::{Ciphertext, DeviceId, Nonce, PublicKey, PublishKeyRequest, Sealed};
use crate::error::ChatError;
use crate::ids::{AttachmentId, ClientMsgId, FileName, RoomId, UserId};
use crate::memory::{ManualClock, BLOB_PATH};
use crate::model::RoomKind;
use crate::protocol::rest::{CreateRoomRequest, UploadSlot, UploadSlotRequest};
use crate::protocol::ws::{DeleteMessage, SendMessage};
use crate::service::keys::tests::{person, Person};
use crate::service::MemoryBackends;

/// The frames of `kind` `p` got since the last look.
fn frames_of(p: &mut Person, kind: &str) -> Vec<Value> {
    p.frames()
        .into_iter()
        .filter(|f| f["type"] == kind)
        .collect()
}

/// Runs the persistence jobs queued so far.
async fn persist(w: &World) {
    let jobs: Vec<(String, String)> = w
        .mem
        .queue
        .take(100)
        .into_iter()
        .map(|j| (j.id, j.body))
        .collect();
    w.chat.persist_batch(&jobs).await;
}

struct World {
    chat: Chat,
    mem: MemoryBackends,
    alice: Person,
    bob: Person,
    plain: RoomId,
    dm: RoomId,
}

/// Alice and Bob, their plain and their encrypted direct room, one device
/// key each.
async fn world() -> World {
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let (chat, mem) = Chat::in_memory_with_clock(Limits::default(), clock);
    let mut alice = person(&chat, &mem, "alice").await;
    let mut bob = person(&chat, &mem, "bob").await;
    let direct = |encrypted| CreateRoomRequest {
        name: None,
        kind: RoomKind::Direct,
        members: vec![bob.id.user_id.clone()],
        encrypted,
    };
    let plain = chat.create_room(&alice.id, direct(false)).await.unwrap().1;
    let dm = chat.create_room(&alice.id, direct(true)).await.unwrap().1;
    for (p, d) in [(&alice, "a1"), (&bob, "b1")] {
        chat.publish_key(
            &p.id,
            &DeviceId::parse(d).unwrap(),
            PublishKeyRequest {
                user_id: p.id.user_id.clone(),
                public_key: PublicKey::parse(G).unwrap(),
            },
        )
        .await
        .unwrap();
    }
    alice.frames();
    bob.frames();
    World {
        chat,
        mem,
        alice,
        bob,
        plain: plain.room.room_id,
        dm: dm.room.room_id,
    }
}

fn request(content_type: &str, size: u64, name: &str, width: Option<u32>) -> UploadSlotRequest {
    serde_json::from_value(serde_json::json!({
        "contentType": content_type, "size": size, "fileName": name, "width": width,
    }))
    .unwrap()
}

/// PUTs `bytes` to `slot` as a client does, with its signed headers.
fn upload(w: &World, slot: &UploadSlot, bytes: &[u8]) {
    let path = slot.upload_url.split_once(BLOB_PATH).unwrap().1;
    let (key, query) = path.split_once('?').unwrap();
    let meta: BTreeMap<String, String> = slot
        .headers
        .iter()
        .filter(|(k, _)| k.starts_with("x-amz-meta-"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let ct = slot.headers.get("content-type").unwrap();
    w.mem
        .blobs
        .put_signed(key, query, ct, &meta, bytes.to_vec(), w.chat.clock.now())
        .unwrap();
}

/// An upload of `bytes` to a new slot of `room` by `who`.
async fn uploaded(w: &World, who: &Person, room: &RoomId, ct: &str, bytes: &[u8]) -> AttachmentId {
    let name = if room.is_encrypted() {
        "sealed"
    } else {
        "cat.png"
    };
    let slot = w
        .chat
        .upload_slot(&who.id, room, request(ct, bytes.len() as u64, name, None))
        .await
        .unwrap();
    upload(w, &slot, bytes);
    slot.attachment_id
}

fn sealed(fill: u8) -> Box<Sealed> {
    Box::new(Sealed {
        v: 1,
        nonce: Nonce::parse(&URL_SAFE_NO_PAD.encode([fill; 12])).unwrap(),
        ciphertext: Ciphertext::parse(&URL_SAFE_NO_PAD.encode([fill; 40])).unwrap(),
        envelopes: vec![envelope("alice", "a1"), envelope("bob", "b1")],
    })
}

fn sealed_send(room: &RoomId, cmid: &str, fill: u8, ids: &[&AttachmentId]) -> SendMessage {
    SendMessage {
        room_id: room.clone(),
        client_msg_id: ClientMsgId::parse(cmid).unwrap(),
        body: String::new(),
        attachments: ids.iter().map(|i| (*i).clone()).collect(),
        reply_to: None,
        sealed: Some(sealed(fill)),
    }
}

fn bad_request_saying(r: Result<impl std::fmt::Debug, ChatError>, what: &str) {
    assert!(
        matches!(&r, Err(ChatError::BadRequest(m)) if m.contains(what)),
        "expected 400 saying {what:?}: {r:?}"
    );
}

/// Ciphertext as a client uploads it: not the file's bytes.
const CIPHERTEXT: &[u8] = &[0xA5; 64];
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n fake image bytes";

#[tokio::test]
async fn an_encrypted_rooms_upload_slot_takes_only_ciphertext_under_the_neutral_name() {
    let w = world().await;
    let slot = |room: &RoomId, req| {
        let (chat, alice) = (&w.chat, &w.alice.id);
        let room = room.clone();
        async move { chat.upload_slot(alice, &room, req).await }
    };
    // A real type in an encrypted room, whatever the name.
    bad_request_saying(
        slot(&w.dm, request("image/png", 100, "sealed", None)).await,
        SEALED_TYPE,
    );
    bad_request_saying(
        slot(&w.dm, request("image/png", 100, "cat.png", Some(640))).await,
        SEALED_TYPE,
    );
    // Ciphertext under a real-looking name, or with an image size.
    bad_request_saying(
        slot(&w.dm, request(SEALED_TYPE, 100, "cat.png", None)).await,
        "fileName \"sealed\"",
    );
    bad_request_saying(
        slot(&w.dm, request(SEALED_TYPE, 100, "sealed", Some(640))).await,
        "no width or height",
    );
    // Shorter than the tag: cannot be AES-GCM ciphertext of anything.
    bad_request_saying(
        slot(&w.dm, request(SEALED_TYPE, 16, "sealed", None)).await,
        "at least 17 bytes",
    );
    // The size limit applies to the ciphertext.
    let over = Limits::default().attachments.max_bytes + 1;
    let r = slot(&w.dm, request(SEALED_TYPE, over, "sealed", None)).await;
    assert!(matches!(r, Err(ChatError::TooLarge(_))), "{r:?}");
    // A plain room never takes ciphertext: its allowlist is unchanged.
    bad_request_saying(
        slot(&w.plain, request(SEALED_TYPE, 100, "sealed", None)).await,
        "not accepted",
    );
    // Parameters do not sneak the type past either check.
    bad_request_saying(
        slot(
            &w.plain,
            request("Application/Octet-Stream; x=1", 100, "a.bin", None),
        )
        .await,
        "not accepted",
    );
    // A stranger to the room gets no slot in it.
    let carol = Identity {
        user_id: UserId::parse("carol").unwrap(),
        name: None,
    };
    let r = w
        .chat
        .upload_slot(&carol, &w.dm, request(SEALED_TYPE, 100, "sealed", None))
        .await;
    assert!(r.is_err(), "{r:?}");

    // The right slot: ciphertext, the neutral name, signed into the upload.
    let ok = slot(&w.dm, request(SEALED_TYPE, 100, "sealed", None))
        .await
        .unwrap();
    assert_eq!(
        ok.headers.get("content-type").map(String::as_str),
        Some(SEALED_TYPE)
    );
    assert!(
        !ok.headers.contains_key("x-amz-meta-width"),
        "{:?}",
        ok.headers
    );
    // A refused slot signs nothing and stores nothing; even the good slot
    // stores nothing until the upload.
    assert!(w.mem.blobs.keys().is_empty(), "{:?}", w.mem.blobs.keys());
}

#[tokio::test]
async fn a_sealed_message_claims_only_its_own_rooms_encrypted_uploads() {
    let mut w = world().await;
    // A plain slot of the plain room, uploaded; named in the encrypted room.
    let plain = uploaded(&w, &w.alice, &w.plain, "image/png", PNG).await;
    bad_request_saying(
        w.chat
            .send_message(&w.alice.caller, sealed_send(&w.dm, "c1", 1, &[&plain]))
            .await,
        "another room",
    );
    // An encrypted upload of the encrypted room, named in the plain room.
    let mine = uploaded(&w, &w.alice, &w.dm, SEALED_TYPE, CIPHERTEXT).await;
    let mut plain_send = sealed_send(&w.plain, "c2", 1, &[&mine]);
    plain_send.sealed = None;
    bad_request_saying(
        w.chat.send_message(&w.alice.caller, plain_send).await,
        "another room",
    );
    // Bob names Alice's upload: the one "not found" for every unusable id.
    bad_request_saying(
        w.chat
            .send_message(&w.bob.caller, sealed_send(&w.dm, "c3", 2, &[&mine]))
            .await,
        "attachment not found",
    );
    // An id that was never uploaded.
    bad_request_saying(
        w.chat
            .send_message(
                &w.alice.caller,
                sealed_send(&w.dm, "c4", 3, &[&AttachmentId::generate()]),
            )
            .await,
        "attachment not found",
    );
    // Nothing reserved, claimed, sent or moved by any refusal.
    assert_eq!(w.chat.messages.last_seq(&w.dm).await.unwrap(), 0);
    assert_eq!(w.chat.messages.last_seq(&w.plain).await.unwrap(), 0);
    assert_eq!(w.mem.keys.seal_count(), 0, "no ciphertext claimed");
    assert!(frames_of(&mut w.bob, "message").is_empty());
    assert!(frames_of(&mut w.alice, "ack").is_empty());
    assert_eq!(
        w.mem.blobs.keys(),
        {
            let mut k = vec![pending_key(&plain), pending_key(&mine)];
            k.sort();
            k
        },
        "both uploads still pending"
    );

    // Her own encrypted upload in its room: sent, and Bob gets a URL to the
    // ciphertext, with neither a real name nor a real type anywhere.
    w.chat
        .send_message(&w.alice.caller, sealed_send(&w.dm, "c5", 5, &[&mine]))
        .await
        .unwrap();
    let got = frames_of(&mut w.bob, "message");
    assert_eq!(got.len(), 1, "{got:?}");
    let a = &got[0]["attachments"][0];
    assert_eq!(a["attachmentId"], mine.as_str());
    assert_eq!(a["contentType"], SEALED_TYPE);
    assert_eq!(a["fileName"], "sealed");
    assert_eq!(a["size"], CIPHERTEXT.len());
    assert!(a.get("width").is_none(), "{a}");
    let url = a["url"].as_str().unwrap();
    let (key, query) = url
        .split_once(BLOB_PATH)
        .unwrap()
        .1
        .split_once('?')
        .unwrap();
    assert_eq!(key, stored_key(&w.dm, &mine));
    let download = w
        .mem
        .blobs
        .get_signed(key, query, w.chat.clock.now())
        .unwrap();
    assert_eq!(download.bytes, CIPHERTEXT);
    assert!(
        download.disposition.unwrap().starts_with("attachment;"),
        "ciphertext is never shown inline"
    );
    // The same upload again in a new message: already sent.
    bad_request_saying(
        w.chat
            .send_message(&w.alice.caller, sealed_send(&w.dm, "c6", 6, &[&mine]))
            .await,
        "attachment not found",
    );

    // A delete removes the ciphertext as in a plain room.
    persist(&w).await;
    let stored = w.chat.messages.get(&w.dm, 1).await.unwrap().unwrap();
    assert_eq!(
        stored.attachments[0].file_name,
        FileName::parse("sealed").unwrap()
    );
    w.chat
        .delete_message(
            &w.alice.caller,
            DeleteMessage {
                room_id: w.dm.clone(),
                seq: 1,
            },
        )
        .await
        .unwrap();
    persist(&w).await;
    assert!(
        !w.mem.blobs.keys().contains(&stored_key(&w.dm, &mine)),
        "{:?}",
        w.mem.blobs.keys()
    );
}
