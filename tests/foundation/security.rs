//! Abuse resistance through the real handlers: no client-facing way to
//! address another connection, attacker text never reflected, limits at the
//! boundary, many users on one instance never mixed, tokens never logged.
//! The threat model these prove is `docs/SECURITY.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine;
use chat_core::config::Limits;
use chat_core::ports::Clock;
use chat_core::ratelimit::{Rate, RateLimits};
use chat_tests::{Client, Platform};
use chat_twin::events::{self, WsApi, WsConn};
use serde_json::{json, Value};

const XSS: &str = "<img src=x onerror=alert(1)>";
/// The same, percent-encoded for a query string.
const XSS_QUERY: &str = "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E";

fn no_reflection(v: &Value) {
    let text = v.to_string();
    assert!(
        !text.contains("<img") && !text.contains("onerror"),
        "attacker text reflected: {text}"
    );
}

// ---- push isolation ---------------------------------------------------------

/// Connection ids are minted by API Gateway and travel only in the event's
/// request context, which clients cannot set. No frame field names a target:
/// every reply goes to the sending connection, every push to room members.
#[tokio::test]
async fn no_frame_can_direct_a_push_to_another_users_connection() {
    let p = Platform::new(roomy());
    let (mut bob, mut bob_phone) = (p.connect("bob").await, p.connect("bob").await);
    let mut mallory = p.connect("mallory").await;
    let mine = p.create_room(&mallory, "group", "mine", &[]).await;
    let bob_room = p.create_room(&bob, "group", "bob's", &[]).await;
    let targets = [bob.conn.to_string(), bob_phone.conn.to_string()];
    for target in &targets {
        let aim = json!({
            "connectionId": target,
            "targetConnectionId": target,
            "to": target,
            "connectionIds": [target],
            "requestContext": {"connectionId": target},
            "userId": "bob",
            "senderId": "bob",
        });
        let frames = [
            json!({"action":"sendMessage","roomId":mine,"clientMsgId":"m1","body":"psst"}),
            json!({"action":"sendMessage","roomId":bob_room,"clientMsgId":"m2","body":"psst"}),
            json!({"action":"typing","roomId":mine,"isTyping":true}),
            json!({"action":"typing","roomId":bob_room,"isTyping":true}),
            json!({"action":"markRead","roomId":bob_room,"seq":0}),
            json!({"action":"sync","rooms":[{"roomId":mine},{"roomId":bob_room}]}),
            json!({"action":"ping"}),
            json!({"action":"postToConnection","body":"psst"}),
            json!({"action":"sendMessage"}),
        ];
        for mut f in frames {
            for (k, v) in aim.as_object().unwrap() {
                f[k] = v.clone();
            }
            p.send(&mallory, f).await;
        }
        // A body that is not even JSON but names the target.
        p.send_text(&mallory, &format!("connectionId={target}"))
            .await;
    }
    assert!(bob.all().is_empty(), "nothing reached bob's laptop");
    assert!(bob_phone.all().is_empty(), "nothing reached bob's phone");
    // Mallory got her own answers, on her own connection.
    let got = mallory.all();
    let count = |ty: &str| got.iter().filter(|f| f["type"] == ty).count();
    // The same clientMsgId twice: one message, acked twice.
    assert_eq!(count("ack"), 2, "{got:?}");
    assert_eq!(count("pong"), 2);
    assert_eq!(count("syncResult"), 2);
    assert!(got
        .iter()
        .filter(|f| f["type"] == "error")
        .all(|e| ["forbidden", "bad_request"].contains(&e["code"].as_str().unwrap())));
    // The one message mallory sent is in her room, from her.
    p.persist().await;
    let (status, page) = p
        .rest(
            Some(&mallory.token),
            "GET",
            &format!("/rooms/{mine}/messages"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["messages"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["messages"][0]["senderId"], "mallory");
    // And there is no REST route that takes a connection id.
    for path in [
        format!("/@connections/{}", targets[0]),
        format!("/connections/{}", targets[0]),
        format!("/rooms/{mine}/connections"),
    ] {
        let (status, body) = p
            .rest(
                Some(&mallory.token),
                "POST",
                &path,
                Some(json!({"body":"x"})),
            )
            .await;
        assert_eq!(status, 404, "{path}: {body}");
    }
}

// ---- input limits and reflection -------------------------------------------

#[tokio::test]
async fn attacker_text_in_any_typed_field_is_refused_without_being_reflected() {
    let p = Platform::default();
    let mut alice = p.connect("alice").await;
    let room = p.create_room(&alice, "group", "solo", &[]).await;
    let frames = [
        json!({"action": XSS}),
        json!({"action":"sendMessage","roomId":XSS,"clientMsgId":"c1","body":"x"}),
        json!({"action":"sendMessage","roomId":room,"clientMsgId":XSS,"body":"x"}),
        json!({"action":"sendMessage","roomId":room,"clientMsgId":"c1","body":{"html":XSS}}),
        json!({"action":"sendMessage","roomId":[XSS],"clientMsgId":"c1","body":"x"}),
        json!({"action":"markRead","roomId":room,"seq":XSS}),
        json!({"action":"markRead","roomId":room,"seq":-1}),
        json!({"action":"markRead","roomId":room,"seq":1.5}),
        json!({"action":"markRead","roomId":room,"seq":"18446744073709551616"}),
        json!({"action":"typing","roomId":room,"isTyping":XSS}),
        json!({"action":"sync","rooms":XSS}),
        json!({"action":"sync","rooms":[{"roomId":room,"afterSeq":XSS}]}),
        json!({"action":"sync","rooms":[XSS]}),
    ];
    for f in &frames {
        p.send(&alice, f.clone()).await;
        let e = alice.one("error");
        assert_eq!(e["code"], "bad_request", "{f} → {e}");
        no_reflection(&e);
        assert!(e.get("clientMsgId").is_none() || e["clientMsgId"] == "c1");
        assert!(e["message"].as_str().unwrap().len() <= 200);
    }
    // REST bodies and parameters.
    let t = alice.token.clone();
    for (method, path, body) in [
        (
            "POST",
            "/rooms".to_owned(),
            Some(json!({"kind": XSS, "name": "n"})),
        ),
        (
            "POST",
            "/rooms".to_owned(),
            Some(json!({"kind": "group", "name": [XSS]})),
        ),
        (
            "POST",
            "/rooms".to_owned(),
            Some(json!({"kind": "group", "name": "n", "members": [XSS]})),
        ),
        (
            "POST",
            format!("/rooms/{room}/members"),
            Some(json!({"userId": XSS})),
        ),
        (
            "PATCH",
            "/users/me".to_owned(),
            Some(json!({"displayName": {"x": XSS}})),
        ),
        (
            "PATCH",
            "/users/me".to_owned(),
            Some(json!({"avatarUrl": format!("https://x/{XSS}")})),
        ),
        (
            "GET",
            format!("/rooms/{room}/messages?before={XSS_QUERY}"),
            None,
        ),
        (
            "GET",
            format!("/rooms/{room}/messages?limit={XSS_QUERY}"),
            None,
        ),
        ("GET", "/channels?limit=%3Cimg%3E".to_owned(), None),
    ] {
        let (status, body) = p.rest(Some(&t), method, &path, body).await;
        assert_eq!(status, 400, "{method} {path} → {body}");
        no_reflection(&body);
    }
}

#[tokio::test]
async fn oversize_and_malformed_inputs_are_refused_at_the_boundary() {
    let p = Platform::default();
    let mut alice = p.connect("alice").await;
    let room = p.create_room(&alice, "group", "solo", &[]).await;
    // A frame over API Gateway's 128 KB is refused before it is parsed.
    let pad = "x".repeat(130 * 1024);
    p.send(&alice, json!({"action":"ping","pad":pad})).await;
    assert_eq!(alice.one("error")["code"], "too_large");
    // A body over the configured 4096 bytes, counted in bytes not characters.
    let body = "€".repeat(1366);
    p.send(
        &alice,
        json!({"action":"sendMessage","roomId":room,"clientMsgId":"c1","body":body}),
    )
    .await;
    let e = alice.one("error");
    assert_eq!(
        (e["code"].as_str(), e["clientMsgId"].as_str()),
        (Some("too_large"), Some("c1"))
    );
    // A sync naming more than 100 rooms.
    let rooms: Vec<Value> = (0..101)
        .map(|i| json!({"roomId": format!("r_{i}")}))
        .collect();
    p.send(&alice, json!({"action":"sync","rooms":rooms})).await;
    assert_eq!(alice.one("error")["code"], "too_large");
    // A base64 body that is not UTF-8.
    let mut ev = events::ws_message(
        &WsApi::default(),
        &WsConn {
            connection_id: alice.conn.to_string(),
            connected_at: p.clock.now(),
            source_ip: "127.0.0.1".into(),
        },
        "$default",
        "",
        None,
        p.clock.now(),
    );
    ev.body = Some(base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe, 0x00]));
    ev.is_base64_encoded = true;
    assert_eq!(chat_message::handle(&p.chat, ev).await.status_code, 200);
    assert_eq!(alice.one("error")["code"], "bad_request");
    // Nothing was accepted, and the connection still works.
    p.send(
        &alice,
        json!({"action":"sendMessage","roomId":room,"clientMsgId":"c2","body":"ok"}),
    )
    .await;
    assert_eq!(alice.one("ack")["seq"], 1);

    let t = alice.token.clone();
    // REST: a body over 64 KB, too many members, names that spoof.
    let (status, _) = p
        .rest(
            Some(&t),
            "POST",
            "/rooms",
            Some(json!({"kind":"group","name":"x".repeat(70_000)})),
        )
        .await;
    assert_eq!(status, 413);
    let members: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let (status, _) = p
        .rest(
            Some(&t),
            "POST",
            "/rooms",
            Some(json!({"kind":"group","name":"big","members":members})),
        )
        .await;
    assert_eq!(status, 413);
    for name in ["alice\u{202E}gnp.exe", "\u{2066}admin"] {
        let (status, _) = p
            .rest(
                Some(&t),
                "PATCH",
                "/users/me",
                Some(json!({"displayName": name})),
            )
            .await;
        assert_eq!(status, 400, "{name:?}");
    }
    // An oversize token is refused without being parsed.
    let huge = "a".repeat(20 * 1024);
    assert_eq!(p.rest(Some(&huge), "GET", "/users/me", None).await.0, 401);
    assert_eq!(
        p.raw_connect("c9=", &[("token", &huge)], &[])
            .await
            .status_code,
        401
    );
}

// ---- data isolation under concurrency ---------------------------------------

fn roomy() -> Limits {
    let unlimited = Rate::new(100_000, 100_000);
    Limits {
        rate: RateLimits {
            message_per_connection: unlimited,
            message_per_user: unlimited,
            typing_per_user: unlimited,
            rest_per_user: unlimited,
        },
        ..Limits::default()
    }
}

/// A small deterministic generator, so a failure replays.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// One `Chat` (one warm handler instance) serves 20 users — half of them on
/// two devices — each doing 50 mixed WebSocket and REST actions, interleaved
/// on a multi-thread runtime. Every frame any connection receives must be
/// about a room its user is in (or a user who shares one), every ack and
/// error must belong to that connection's own requests, and every REST answer
/// must be the caller's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_users_fifty_mixed_actions_each_on_one_instance_never_see_each_others_data() {
    const USERS: usize = 20;
    const ACTIONS: usize = 50;
    let p = Arc::new(Platform::new(roomy()));
    let names: Vec<String> = (0..USERS).map(|i| format!("user{i:02}")).collect();
    let mut clients: Vec<Vec<Client>> = Vec::new();
    for (i, u) in names.iter().enumerate() {
        let mut devices = vec![p.connect(u).await];
        if i % 2 == 0 {
            devices.push(p.connect(u).await);
        }
        clients.push(devices);
    }
    // Rooms: one of your own, a group of four, and a channel for the first ten.
    let mut members: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut own = Vec::new();
    for (i, u) in names.iter().enumerate() {
        let room = p.create_room(&clients[i][0], "group", "own", &[]).await;
        members.insert(room.clone(), BTreeSet::from([u.clone()]));
        own.push(room);
    }
    let mut groups = Vec::new();
    for g in 0..USERS / 4 {
        let owner = &clients[g * 4][0];
        let others: Vec<&Client> = (1..4).map(|k| &clients[g * 4 + k][0]).collect();
        let room = p.create_room(owner, "group", "four", &others).await;
        members.insert(
            room.clone(),
            (0..4).map(|k| names[g * 4 + k].clone()).collect(),
        );
        groups.push(room);
    }
    let channel = p.create_room(&clients[0][0], "channel", "ten", &[]).await;
    for c in clients.iter().take(10).skip(1) {
        let (status, _) = p
            .rest(
                Some(&c[0].token),
                "POST",
                &format!("/rooms/{channel}/members"),
                Some(json!({"userId": c[0].user.as_str()})),
            )
            .await;
        assert_eq!(status, 200);
    }
    members.insert(channel.clone(), names[..10].iter().cloned().collect());
    for devices in &mut clients {
        for d in devices {
            d.all();
        }
    }
    let members = Arc::new(members);
    let rooms_of = |u: &str| -> BTreeSet<String> {
        members
            .iter()
            .filter(|(_, m)| m.contains(u))
            .map(|(r, _)| r.clone())
            .collect()
    };

    // What each connection should see of its own requests.
    #[derive(Default, Debug)]
    struct Expect {
        acks: usize,
        pongs: usize,
        forbidden: usize,
        sync_results: usize,
    }
    let mut tasks = Vec::new();
    for (i, devices) in clients.iter().enumerate() {
        let user = names[i].clone();
        let mine: Vec<String> = rooms_of(&user).into_iter().collect();
        let foreign: Vec<String> = members
            .keys()
            .filter(|r| !mine.contains(r))
            .cloned()
            .collect();
        let conns: Vec<_> = devices.iter().map(|d| d.conn.clone()).collect();
        let token = devices[0].token.clone();
        let p = p.clone();
        let members = members.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Lcg(i as u64 + 1);
            let mut expect: Vec<Expect> = conns.iter().map(|_| Expect::default()).collect();
            for n in 0..ACTIONS {
                let d = rng.below(conns.len());
                let conn = &conns[d];
                let room = mine[rng.below(mine.len())].clone();
                match rng.below(10) {
                    0 | 1 => {
                        let cmid = format!("{user}-{d}-{n}");
                        let f = json!({"action":"sendMessage","roomId":room,"clientMsgId":cmid,"body":format!("from {user}")});
                        p.send_on(conn, &f.to_string()).await;
                        expect[d].acks += 1;
                    }
                    2 => {
                        let f = json!({"action":"typing","roomId":room,"isTyping":true});
                        p.send_on(conn, &f.to_string()).await;
                    }
                    3 => {
                        let f = json!({"action":"sync","rooms":[{"roomId":room}]});
                        p.send_on(conn, &f.to_string()).await;
                        expect[d].sync_results += 1;
                    }
                    4 => {
                        p.send_on(conn, r#"{"action":"ping"}"#).await;
                        expect[d].pongs += 1;
                    }
                    5 => {
                        let target = &foreign[rng.below(foreign.len())];
                        let f = json!({"action":"sendMessage","roomId":target,"clientMsgId":format!("x{n}"),"body":"intrude"});
                        p.send_on(conn, &f.to_string()).await;
                        expect[d].forbidden += 1;
                    }
                    6 => {
                        let (status, me) = p.rest(Some(&token), "GET", "/users/me", None).await;
                        assert_eq!((status, me["userId"].as_str()), (200, Some(user.as_str())));
                    }
                    7 => {
                        let (status, list) = p.rest(Some(&token), "GET", "/rooms", None).await;
                        assert_eq!(status, 200);
                        for r in list["rooms"].as_array().unwrap() {
                            let id = r["roomId"].as_str().unwrap();
                            assert!(members[id].contains(&user), "{user} was shown {id}");
                        }
                    }
                    8 => {
                        let (status, page) = p
                            .rest(Some(&token), "GET", &format!("/rooms/{room}/messages"), None)
                            .await;
                        assert_eq!(status, 200);
                        for m in page["messages"].as_array().unwrap() {
                            assert_eq!(m["roomId"], room.as_str());
                        }
                        let (status, detail) = p
                            .rest(Some(&token), "GET", &format!("/rooms/{room}"), None)
                            .await;
                        assert_eq!(status, 200);
                        assert!(detail["members"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|m| m["userId"] == user.as_str()));
                    }
                    _ => {
                        let target = &foreign[rng.below(foreign.len())];
                        let (status, body) = p
                            .rest(Some(&token), "GET", &format!("/rooms/{target}/messages"), None)
                            .await;
                        assert_eq!(status, 403, "{user} read {target}: {body}");
                        let (status, _) = p
                            .rest(Some(&token), "GET", &format!("/rooms/{target}"), None)
                            .await;
                        assert_eq!(status, 403);
                    }
                }
            }
            expect
        }));
    }
    let mut expected = Vec::new();
    for t in tasks {
        expected.push(t.await.expect("a user's task failed"));
    }
    p.persist().await;

    let shares_room = |a: &str, b: &str| members.values().any(|m| m.contains(a) && m.contains(b));
    let mut total = 0;
    for (i, devices) in clients.iter_mut().enumerate() {
        let user = names[i].as_str();
        for (d, c) in devices.iter_mut().enumerate() {
            let frames = c.all();
            total += frames.len();
            let count = |ty: &str| frames.iter().filter(|f| f["type"] == ty).count();
            let e = &expected[i][d];
            assert_eq!(count("ack"), e.acks, "{user}/{d} acks");
            assert_eq!(count("pong"), e.pongs, "{user}/{d} pongs");
            assert_eq!(count("syncResult"), e.sync_results, "{user}/{d} syncs");
            assert_eq!(count("error"), e.forbidden, "{user}/{d} errors: {frames:?}");
            for f in &frames {
                if let Some(room) = f["roomId"].as_str() {
                    assert!(
                        members[room].contains(user),
                        "{user} got a frame of {room}: {f}"
                    );
                }
                match f["type"].as_str().unwrap() {
                    "ack" => assert!(
                        f["clientMsgId"]
                            .as_str()
                            .unwrap()
                            .starts_with(&format!("{user}-{d}-")),
                        "{user}/{d} got someone else's ack {f}"
                    ),
                    "error" => assert_eq!(f["code"], "forbidden"),
                    "typing" => assert_ne!(f["userId"], user),
                    "presence" => {
                        assert!(shares_room(user, f["userId"].as_str().unwrap()), "{f}")
                    }
                    "receipt" | "message" | "syncResult" | "pong" | "roomAdded" | "roomRemoved"
                    | "memberJoined" | "memberLeft" => {}
                    other => panic!("unexpected frame {other}: {f}"),
                }
            }
        }
    }
    assert!(
        total > USERS * ACTIONS / 2,
        "the test exercised little: {total} frames"
    );
}

// ---- secrets in logs ---------------------------------------------------------

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs `subscriber` for this thread, robustly while other tests run
/// on other threads. With a single registered dispatcher, tracing computes
/// a callsite's interest from the default of whichever thread reaches it
/// first: another test's thread (no subscriber) would cache "never" for a
/// callsite this test needs, and its events would silently vanish. A second
/// registered dispatcher makes every callsite consult all of them.
fn capture_on_this_thread(
    subscriber: impl tracing::Subscriber + Send + Sync + 'static,
) -> tracing::subscriber::DefaultGuard {
    static SECOND: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    SECOND.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    guard
}

/// Every handler that sees a token runs at TRACE with both log formats (the
/// Lambda's JSON lines with span fields, and the local platform's text), and
/// no token, nor any piece of one, shows up.
#[tokio::test]
async fn tokens_from_query_strings_and_headers_are_never_logged() {
    use tracing_subscriber::layer::SubscriberExt;
    let out = Captured::default();
    let (json_out, text_out) = (out.clone(), out.clone());
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .with_writer(move || json_out.clone()),
        )
        .with(tracing_subscriber::fmt::layer().with_writer(move || text_out.clone()))
        .with(tracing_subscriber::filter::LevelFilter::TRACE);
    let _guard = capture_on_this_thread(subscriber);

    let p = Platform::default();
    let good = p.token("alice");
    // A forged token whose header and claims carry a marker (the library
    // would quote a bad header back in its error message).
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let forged = format!(
        "{}.{}.c2lnbmF0dXJlLW1hcmtlcg",
        b64(r#"{"alg":"HS256-MARKER-IN-HEADER","typ":"JWT"}"#),
        b64(r#"{"sub":"MARKER-IN-CLAIMS","exp":99999999999}"#)
    );
    let tokens = [
        good.clone(),
        forged.clone(),
        "opaque-MARKER-token".to_owned(),
    ];
    for (n, t) in tokens.iter().enumerate() {
        let conn = format!("conn{n}=");
        p.raw_connect(&conn, &[("token", t.as_str())], &[]).await;
        p.raw_connect(&conn, &[], &[("Authorization", &format!("Bearer {t}"))])
            .await;
        let ev = events::ws_authorizer_request(
            &WsApi::default(),
            &WsConn {
                connection_id: conn.clone(),
                connected_at: 0,
                source_ip: "127.0.0.1".into(),
            },
            &[("token".into(), t.clone())],
            &[],
            0,
        );
        let _ =
            chat_authorizer::handle(p.verifier.as_ref(), serde_json::from_value(ev).unwrap()).await;
        p.rest(Some(t), "GET", "/users/me", None).await;
        p.rest(Some(t), "GET", "/rooms", None).await;
        p.rest(Some(t), "GET", "/rooms/r_1/messages", None).await;
    }
    let alice = p.connect("alice").await;
    p.send(&alice, json!({"action":"ping","token":good})).await;

    let logs = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("authorized") && logs.contains("connected") && logs.contains("refused"),
        "the handlers did log: {logs}"
    );
    for t in &tokens {
        assert!(!logs.contains(t.as_str()), "a token was logged");
        // Not even a fragment of its claims or signature (any 12 characters).
        for part in t.split('.').skip(1) {
            let chars: Vec<char> = part.chars().collect();
            for w in chars.windows(12) {
                let w: String = w.iter().collect();
                assert!(!logs.contains(&w), "a piece of a token was logged: {w}");
            }
        }
    }
    assert!(
        !logs.contains("MARKER"),
        "token content was logged:\n{logs}"
    );
}
