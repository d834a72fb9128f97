//! End-to-end encrypted direct rooms through the handlers (REST and the
//! WebSocket), every bad input: a malformed key bundle, a bundle naming
//! another user, envelopes for devices that do not exist or leaving one
//! out, plaintext into an encrypted room, a replayed ciphertext, an
//! oversize sealed payload, a blocked user. Each refusal stores nothing.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chat_core::config::Limits;
use chat_tests::{Client, Platform};
use serde_json::{json, Value};

const G: &str =
    "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU";

fn sealed(fill: u8, ct_len: usize, devices: &[(&str, &str)]) -> Value {
    json!({
        "v": 1,
        "nonce": URL_SAFE_NO_PAD.encode([fill; 12]),
        "ciphertext": URL_SAFE_NO_PAD.encode(vec![fill; ct_len]),
        "envelopes": devices.iter().map(|(u, d)| json!({
            "userId": u, "deviceId": d, "ephemeralKey": G,
            "nonce": URL_SAFE_NO_PAD.encode([fill; 12]),
            "wrappedKey": URL_SAFE_NO_PAD.encode([fill; 48]),
        })).collect::<Vec<_>>(),
    })
}

async fn send(p: &Platform, c: &Client, room: &str, cmid: &str, body: &str, s: Option<Value>) {
    let mut f = json!({"action":"sendMessage","roomId":room,"clientMsgId":cmid,"body":body});
    if let Some(s) = s {
        f["sealed"] = s;
    }
    p.send(c, f).await;
}

/// The one error frame `c` got: its code and message.
fn error(c: &mut Client) -> (String, String) {
    let e = c.one("error");
    (
        e["code"].as_str().unwrap().to_owned(),
        e["message"].as_str().unwrap().to_owned(),
    )
}

async fn put_key(p: &Platform, c: &Client, device: &str, owner: &str, key: &str) -> (u16, Value) {
    p.rest(
        Some(&c.token),
        "PUT",
        &format!("/users/me/keys/{device}"),
        Some(json!({"userId": owner, "publicKey": key})),
    )
    .await
}

#[tokio::test]
async fn every_bad_input_to_an_encrypted_direct_room_is_refused_and_stores_nothing() {
    let p = Platform::new(Limits::default());
    let mut alice = p.connect("alice").await;
    let mut bob = p.connect("bob").await;
    let (s, room) = p
        .rest(
            Some(&alice.token),
            "POST",
            "/rooms",
            Some(json!({"kind":"direct","members":["bob"],"encrypted":true})),
        )
        .await;
    assert_eq!(s, 201, "{room}");
    let dm = room["roomId"].as_str().unwrap().to_owned();

    // Key bundles: another user's name, a point off the curve, a
    // compressed point, an unknown field.
    assert_eq!(put_key(&p, &alice, "a1", "bob", G).await.0, 403);
    let mut off = URL_SAFE_NO_PAD.decode(G).unwrap();
    off[64] ^= 1;
    assert_eq!(
        put_key(&p, &alice, "a1", "alice", &URL_SAFE_NO_PAD.encode(&off))
            .await
            .0,
        400
    );
    assert_eq!(
        put_key(
            &p,
            &alice,
            "a1",
            "alice",
            &URL_SAFE_NO_PAD.encode(&off[..33])
        )
        .await
        .0,
        400
    );
    let (s, _) = p
        .rest(
            Some(&alice.token),
            "PUT",
            "/users/me/keys/a1",
            Some(json!({"userId":"alice","publicKey":G,"privateKey":"oops"})),
        )
        .await;
    assert_eq!(s, 400);
    let (_, keys) = p
        .rest(Some(&bob.token), "GET", "/users/alice/keys", None)
        .await;
    assert_eq!(keys["devices"], json!([]), "nothing stored: {keys}");
    assert_eq!(keys["fingerprint"], "");

    assert_eq!(put_key(&p, &alice, "a1", "alice", G).await.0, 201);
    assert_eq!(put_key(&p, &alice, "a1", "alice", G).await.0, 200);
    assert_eq!(put_key(&p, &bob, "b1", "bob", G).await.0, 201);
    let (_, keys) = p
        .rest(Some(&bob.token), "GET", "/users/alice/keys", None)
        .await;
    assert_eq!(keys["devices"][0]["deviceId"], "a1", "{keys}");
    let changed: Vec<Value> = bob.take("keysChanged");
    let about = |u: &str| changed.iter().filter(|f| f["userId"] == u).count();
    assert_eq!(
        (about("alice"), about("bob")),
        (1, 1),
        "bob learns alice's keys changed once (the same key again says nothing), and his own: {changed:?}"
    );
    assert_eq!(
        changed.iter().find(|f| f["userId"] == "alice").unwrap()["fingerprint"],
        keys["fingerprint"]
    );
    alice.all();
    let all = [("alice", "a1"), ("bob", "b1")];

    // Plaintext into the encrypted room.
    send(&p, &alice, &dm, "c1", "hello in the clear", None).await;
    assert_eq!(error(&mut alice).0, "bad_request");
    // A device that does not exist; a device left out.
    send(
        &p,
        &alice,
        &dm,
        "c1",
        "",
        Some(sealed(
            1,
            32,
            &[("alice", "a1"), ("bob", "b1"), ("bob", "b9")],
        )),
    )
    .await;
    let (code, msg) = error(&mut alice);
    assert_eq!(code, "conflict");
    assert!(msg.contains("bob/b9"), "{msg}");
    send(
        &p,
        &alice,
        &dm,
        "c1",
        "",
        Some(sealed(1, 32, &[("alice", "a1")])),
    )
    .await;
    let (code, msg) = error(&mut alice);
    assert_eq!(code, "conflict");
    assert!(msg.contains("bob/b1"), "{msg}");
    // Oversize sealed payload.
    send(
        &p,
        &alice,
        &dm,
        "c1",
        "",
        Some(sealed(1, 16 * 1024 + 1, &all)),
    )
    .await;
    assert_eq!(error(&mut alice).0, "bad_request");
    // A sealed payload into a plain room.
    let plain = p.create_room(&alice, "direct", "dm", &[&bob]).await;
    send(&p, &alice, &plain, "c1", "", Some(sealed(1, 32, &all))).await;
    assert_eq!(error(&mut alice).0, "bad_request");
    assert!(bob.take("message").is_empty(), "nothing reached bob");

    // The good one, then its replay under a new id.
    send(&p, &alice, &dm, "c1", "", Some(sealed(1, 32, &all))).await;
    assert_eq!(alice.one("ack")["seq"], 1);
    let got = bob.one("message");
    assert_eq!(
        (got["body"].as_str(), got["sealed"]["v"].as_u64()),
        (Some(""), Some(1))
    );
    send(&p, &alice, &dm, "c2", "", Some(sealed(1, 32, &all))).await;
    let (code, msg) = error(&mut alice);
    assert_eq!(code, "conflict");
    assert!(msg.contains("replayed"), "{msg}");

    // Edits through the handler: plaintext, an oversize seal, someone
    // else's message, the send's ciphertext again: refused, bob hears of
    // none; a fresh seal is relayed as sealed, and only once.
    let edit = |body: &str, s: Option<Value>| {
        let mut f = json!({"action":"editMessage","roomId":dm,"seq":1,"body":body});
        if let Some(s) = s {
            f["sealed"] = s;
        }
        f
    };
    p.send(&alice, edit("in the clear", None)).await;
    assert_eq!(error(&mut alice).0, "bad_request");
    p.send(&alice, edit("", Some(sealed(5, 16 * 1024 + 1, &all))))
        .await;
    assert_eq!(error(&mut alice).0, "bad_request");
    p.send(&bob, edit("", Some(sealed(5, 32, &all)))).await;
    assert_eq!(error(&mut bob).0, "forbidden");
    p.send(&alice, edit("", Some(sealed(1, 32, &all)))).await;
    let (code, msg) = error(&mut alice);
    assert_eq!(code, "conflict");
    assert!(msg.contains("replayed"), "{msg}");
    assert!(bob.take("messageEdited").is_empty(), "no edit reached bob");
    p.send(&alice, edit("", Some(sealed(5, 32, &all)))).await;
    let got = bob.one("messageEdited");
    assert_eq!(
        (&got["body"], &got["sealed"]),
        (&json!(""), &sealed(5, 32, &all))
    );
    alice.all();
    p.send(&alice, edit("", Some(sealed(5, 32, &all)))).await;
    assert_eq!(error(&mut alice).0, "conflict");

    // A block holds in the encrypted room, both ways.
    let (s, _) = p
        .rest(Some(&bob.token), "PUT", "/users/me/blocks/alice", None)
        .await;
    assert_eq!(s, 201);
    send(&p, &alice, &dm, "c3", "", Some(sealed(3, 32, &all))).await;
    assert_eq!(error(&mut alice).0, "forbidden");
    send(&p, &bob, &dm, "c4", "", Some(sealed(4, 32, &all))).await;
    assert_eq!(error(&mut bob).0, "forbidden");

    p.persist().await;
    let (_, page) = p
        .rest(
            Some(&bob.token),
            "GET",
            &format!("/rooms/{dm}/messages"),
            None,
        )
        .await;
    let msgs = page["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 1, "{page}");
    assert_eq!(msgs[0]["body"], "");
    assert!(msgs[0]["sealed"]["ciphertext"].is_string());
}
