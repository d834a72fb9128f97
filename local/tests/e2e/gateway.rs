use std::time::Duration;

use chat_client::{ChatClient, ClientError};
use serde_json::json;

use crate::{spawn, spawn_with};

#[tokio::test]
async fn a_connect_without_a_valid_token_gets_401() {
    let e = spawn().await;
    for token in [
        "",
        "not-a-jwt",
        &chat_local::mint_token("some-other-secret-000000", "alice", None, 60).unwrap(),
    ] {
        match ChatClient::connect(&e.p.ws_url(), token).await {
            Err(ClientError::Refused(401)) => {}
            Err(other) => panic!("expected 401, got {other}"),
            Ok(_) => panic!("connected with {token:?}"),
        }
    }
    assert_eq!(e.p.gateway.open_sockets(), 0);
}

/// Without a template the authorizer runs for every handshake and reads
/// the header too. With the synthesized template it does not: its identity
/// source is the `token` query parameter, so API Gateway refuses a
/// header-only handshake with 401 before any function runs, as in AWS.
#[tokio::test]
async fn a_token_in_the_authorization_header_works_as_far_as_the_identity_source_allows() {
    let e = spawn().await;
    let c = ChatClient::connect_with_header(&e.p.ws_url(), &e.p.token("alice")).await;
    if crate::template::header_token_accepted() {
        let mut c = c.unwrap();
        c.send_json(&json!({"action":"ping"})).unwrap();
        c.next_of("pong").await.unwrap();
    } else {
        assert!(
            matches!(c, Err(ClientError::Refused(401))),
            "a header-only token got past an identity source of the query string"
        );
    }
}

#[tokio::test]
async fn malformed_frames_and_unknown_actions_get_errors_and_the_socket_stays_open() {
    let e = spawn().await;
    let mut alice = e.connect("alice").await;
    let room = e.room("alice", "group", &[]).await;
    alice.send_text("this is not json").unwrap();
    assert_eq!(alice.next_of("error").await.unwrap()["code"], "bad_request");
    alice.send_json(&json!({"action":"explode"})).unwrap();
    assert_eq!(alice.next_of("error").await.unwrap()["code"], "bad_request");
    alice.send_binary(vec![0xff, 0x00]).unwrap();
    assert_eq!(alice.next_of("error").await.unwrap()["code"], "bad_request");
    let err = alice.send(&room, &"x".repeat(5000)).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Frame { ref code, .. } if code == "too_large"),
        "{err}"
    );
    assert_eq!(alice.send(&room, "still here").await.unwrap().seq, 1);
}

#[tokio::test]
async fn a_message_over_128_kb_closes_the_connection_with_1009() {
    let e = spawn().await;
    let mut alice = e.connect("alice").await;
    // Fragmented by the client into frames under 32 KB? No: one big frame
    // also trips the frame limit first; both are API Gateway limits.
    alice.send_text("y".repeat(129 * 1024)).unwrap();
    let closed = alice.wait_closed().await.unwrap();
    assert_eq!(closed.code, Some(1009), "{closed:?}");
    e.wait_disconnected("alice").await;
}

#[tokio::test]
async fn an_idle_connection_is_closed_with_1001_and_disconnect_runs() {
    let e = spawn_with(|o| o.gateway.idle_timeout = Duration::from_millis(300)).await;
    let mut alice = e.connect("alice").await;
    assert_eq!(e.connections_of("alice").await, 1);
    let closed = alice.wait_closed().await.unwrap();
    assert_eq!(closed.code, Some(1001));
    e.wait_disconnected("alice").await;
}

#[tokio::test]
async fn an_abrupt_drop_still_runs_disconnect() {
    let e = spawn().await;
    let mut bob = e.connect("bob").await;
    let alice = e.connect("alice").await;
    e.room("alice", "direct", &["bob"]).await;
    drop(alice); // the socket dies without a close frame
    let off = bob.next_of("presence").await.unwrap();
    assert_eq!(
        (off["userId"].as_str(), off["status"].as_str()),
        (Some("alice"), Some("offline"))
    );
}

#[tokio::test]
async fn the_web_app_and_dev_endpoints_are_served() {
    let e = spawn().await;
    let http = reqwest::Client::new();
    let page = http.get(e.p.http_url()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let t = http
        .post(format!("{}/dev/token", e.p.http_url()))
        .json(&json!({"userId":"zoe"}))
        .send()
        .await
        .unwrap();
    let t: serde_json::Value = t.json().await.unwrap();
    let mut c = ChatClient::connect(&e.p.ws_url(), t["token"].as_str().unwrap())
        .await
        .unwrap();
    c.send_json(&json!({"action":"ping"})).unwrap();
    c.next_of("pong").await.unwrap();
    let bad = http
        .post(format!("{}/dev/token", e.p.http_url()))
        .json(&json!({"userId":"<bad>"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let cfg: serde_json::Value = http
        .get(format!("{}/dev/config", e.p.http_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cfg["wsUrl"], e.p.ws_url());
}
