//! The fuzzing harness. `cargo fuzz` needs a nightly toolchain, so these are
//! property tests (proptest) that throw thousands of generated inputs per run
//! at every decoder a client (or a misbehaving upstream) can reach, and at the
//! handlers behind them over the in-memory adapters:
//!
//! - the WebSocket frame decoder: arbitrary text, and structured near-valid
//!   frames (right actions, wrong types, attacker strings, huge values);
//! - API Gateway WebSocket events, SQS events and HTTP API events: arbitrary
//!   JSON decoded into the event types, then through the real handlers;
//! - the history cursor parser and the query-string decoder.
//!
//! The properties: no panic; a well-formed answer every time (a status the
//! handler documents, a JSON body, JSON frames of known types); no error
//! message reflecting attacker markup; inputs up to 256 KB. Case counts are
//! chosen so the whole file runs in well under a minute in a debug build on
//! two cores; `PROPTEST_CASES` overrides them all for a longer local run.
//! Findings and numbers are recorded in `docs/SECURITY.md`.

use std::cell::{Cell, RefCell};
use std::time::Instant;

use base64::Engine;
use chat_core::config::Limits;
use chat_core::ids::ConnectionId;
use chat_core::ports::Clock;
use chat_core::protocol::cursor::Cursor;
use chat_core::protocol::ws::{ClientFrame, ACTIONS};
use chat_core::ratelimit::{Rate, RateLimits};
use chat_tests::{Client, Platform};
use chat_twin::events::{self, SqsRecord, WsApi, WsConn};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};

const MARK: &str = "<img src=x onerror=alert(1)>";
const BIG: usize = 256 * 1024;

/// Runs `strategy` through `test` for `cases` cases (or `PROPTEST_CASES`),
/// failing the test with proptest's minimal counterexample, and reports the
/// count and duration.
fn run<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    let config = Config {
        cases,
        // Regressions are kept as named tests below, not in files.
        failure_persistence: None,
        ..Config::default()
    };
    let started = Instant::now();
    let mut runner = TestRunner::new(config);
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{name}: {e}");
    }
    eprintln!("fuzz {name}: {cases} cases in {:.2?}", started.elapsed());
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn no_limits() -> Limits {
    let r = Rate::new(1_000_000, 1_000_000);
    Limits {
        rate: RateLimits {
            message_per_connection: r,
            message_per_user: r,
            typing_per_user: r,
            rest_per_user: r,
        },
        ..Limits::default()
    }
}

// ---- strategies ---------------------------------------------------------------

/// Text of every kind, from empty to 256 KB: arbitrary Unicode, JSON-ish
/// punctuation soup, and one fragment repeated (deep nesting such as
/// `[[[[…`, long strings, long numbers) — big inputs without the cost of
/// generating them character by character.
fn text() -> impl Strategy<Value = String> {
    let soup =
        proptest::string::string_regex(r#"[\[\]{}":,.\-+0-9a-zA-Z\\ \t\n]{0,300}"#).expect("regex");
    let fragment = prop_oneof![
        Just("[".to_owned()),
        Just("{\"a\":".to_owned()),
        Just("\"".to_owned()),
        Just("9".to_owned()),
        Just("\\u0000".to_owned()),
        Just(MARK.to_owned()),
        any::<String>(),
    ];
    prop_oneof![
        5 => any::<String>(),
        4 => soup,
        1 => (fragment, 1usize..BIG).prop_map(|(f, n)| {
            let mut s = f.repeat((n / f.len().max(1)).max(1));
            let mut cut = s.len().min(BIG);
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s
        }),
    ]
}

/// Strings a field might hold: valid-looking ids, attacker markup, control
/// characters, the empty string, long ones.
fn field_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("r_1".to_owned()),
        Just("c-1".to_owned()),
        Just(MARK.to_owned()),
        Just(String::new()),
        Just("\u{0}\u{7}\u{202E}".to_owned()),
        "[A-Za-z0-9_.:-]{1,70}",
        any::<String>(),
        (1usize..6000).prop_map(|n| "é".repeat(n)),
    ]
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        proptest::num::f64::NORMAL.prop_map(Value::from),
        field_string().prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((field_string(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A frame that is almost right: a real action (usually), the fields of
/// protocol v1 (often with a wrong type or a bad value), and extra fields.
fn near_frame(room: String) -> impl Strategy<Value = Value> {
    let action = prop_oneof![
        8 => prop::sample::select(ACTIONS.to_vec()).prop_map(str::to_owned),
        1 => field_string(),
    ];
    let room_id = prop_oneof![3 => Just(room), 1 => field_string()]
        .prop_map(Value::from)
        .boxed();
    let value_or = |good: BoxedStrategy<Value>| prop_oneof![4 => good, 1 => json_value()];
    let sync_room = (
        room_id.clone(),
        any::<u64>(),
        prop::option::of(any::<u64>()),
    )
        .prop_map(|(r, s, c)| match c {
            Some(c) => json!({"roomId": r, "afterSeq": s, "afterChange": c}),
            None => json!({"roomId": r, "afterSeq": s}),
        });
    // Mostly a few rooms; sometimes around the limit of 100.
    let sync_rooms = prop_oneof![
        9 => prop::collection::vec(sync_room.clone(), 0..4),
        1 => prop::collection::vec(sync_room, 98..103),
    ]
    .prop_map(Value::Array)
    .boxed();
    // Attachment ids: well-formed ones no slot gave, attacker strings,
    // repeats, and lists around the limit (10 by default).
    let attachment = prop_oneof![
        3 => "[0-9a-f]{32}".prop_map(Value::from),
        1 => field_string().prop_map(Value::from),
    ];
    let attachments = prop_oneof![
        4 => prop::collection::vec(attachment.clone(), 0..3),
        1 => prop::collection::vec(attachment, 9..13),
    ]
    .prop_map(Value::Array)
    .boxed();
    // Reactions: real emoji (with skin tones, ZWJ sequences), text that is
    // not one, several at once, and long runs.
    let emoji = prop_oneof![
        3 => prop::sample::select(vec!["👍", "❤️", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "😂"]).prop_map(Value::from),
        1 => field_string().prop_map(Value::from),
        1 => "[👍❤😂a-z\u{200d}\u{fe0f}]{0,40}".prop_map(Value::from),
    ]
    .boxed();
    (
        action,
        value_or(room_id),
        value_or(field_string().prop_map(Value::from).boxed()),
        value_or(field_string().prop_map(Value::from).boxed()),
        value_or((0u64..5).prop_map(Value::from).boxed()),
        value_or(any::<bool>().prop_map(Value::from).boxed()),
        value_or(sync_rooms),
        value_or(attachments),
        // Reply targets: seqs that exist or not, 0, the largest.
        value_or(
            prop_oneof![4 => (0u64..5).prop_map(Value::from), 1 => Just(Value::from(u64::MAX))]
                .boxed(),
        ),
        value_or(emoji),
        prop::collection::vec((field_string(), json_leaf()), 0..3),
        any::<u16>(),
    )
        .prop_map(
            |(
                action,
                room_id,
                cmid,
                body,
                seq,
                typing,
                rooms,
                attachments,
                reply_to,
                emoji,
                extra,
                drop,
            )| {
                let mut f = Map::new();
                f.insert("action".into(), Value::from(action));
                for (i, (k, v)) in [
                    ("roomId", room_id),
                    ("clientMsgId", cmid),
                    ("body", body),
                    ("seq", seq),
                    ("isTyping", typing),
                    ("rooms", rooms),
                    ("attachments", attachments),
                    ("replyTo", reply_to),
                    ("emoji", emoji),
                ]
                .into_iter()
                .enumerate()
                {
                    // Leave some fields out.
                    if drop & (1 << i) == 0 {
                        f.insert(k.into(), v);
                    }
                }
                for (k, v) in extra {
                    f.entry(k).or_insert(v);
                }
                Value::Object(f)
            },
        )
}

// ---- the frame decoder ----------------------------------------------------------

fn check_decode(text: &str) -> Result<(), TestCaseError> {
    match ClientFrame::decode(text) {
        Ok(_) => Ok(()),
        Err(e) => {
            let code = format!("{:?}", e.code());
            prop_assert!(code == "BadRequest" || code == "TooLarge", "{code}: {e}");
            let msg = e.public_message();
            prop_assert!(msg.len() <= 200, "unbounded error message {}", msg.len());
            prop_assert!(!msg.contains('<'), "markup reflected: {msg}");
            Ok(())
        }
    }
}

#[test]
fn frame_decoder_survives_arbitrary_text() {
    run("decode/arbitrary-text", 5000, text(), |t| check_decode(&t));
}

#[test]
fn frame_decoder_survives_near_valid_frames() {
    run(
        "decode/near-valid-json",
        5000,
        near_frame("r_1".into()),
        |f| check_decode(&f.to_string()),
    );
}

// ---- end-to-end encrypted rooms: key bundles, sealed payloads, envelopes ----------

/// Bytes that are sometimes a point of P-256 (the generator, 2·G), often
/// near one (a flipped byte, compressed, truncated), often noise.
fn point_text() -> impl Strategy<Value = String> {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    const G: &str =
        "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU";
    prop_oneof![
        Just(G.to_owned()),
        (0usize..65, any::<u8>()).prop_map(move |(i, x)| {
            let mut p = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(G)
                .unwrap_or_default();
            p[i] ^= x;
            b64(&p)
        }),
        proptest::collection::vec(any::<u8>(), 0..80).prop_map(move |v| b64(&v)),
        text(),
    ]
}

/// The decoders of key bundles, sealed payloads and envelopes: never a
/// panic; a public key that decodes is a point of the curve, re-encoded
/// the same; a sealed payload that decodes is within bounds.
#[test]
fn e2ee_decoders_survive_anything_and_accept_only_points_and_bounded_seals() {
    use chat_core::e2ee::{PublicKey, PublishKeyRequest, Sealed, MAX_SEALED_BYTES};
    run("e2ee/public-key", 3000, point_text(), |t| {
        if let Ok(k) = PublicKey::parse(&t) {
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(k.as_str())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(raw.len(), 65);
            prop_assert_eq!(PublicKey::parse(k.as_str()).ok(), Some(k.clone()));
        }
        let body = json!({"userId": "alice", "publicKey": t});
        let _ = serde_json::from_value::<PublishKeyRequest>(body);
        Ok(())
    });
    let envelope = (field_string(), point_text(), field_string(), json_leaf()).prop_map(
        |(device, key, nonce, extra)| {
            json!({"userId": "bob", "deviceId": device, "ephemeralKey": key,
                   "nonce": nonce, "wrappedKey": extra})
        },
    );
    let sealed = (
        any::<u8>(),
        field_string(),
        prop_oneof![field_string(), (0usize..30_000).prop_map(|n| "A".repeat(n))],
        proptest::collection::vec(envelope, 0..20),
        json_value(),
    )
        .prop_map(|(v, nonce, ct, envs, extra)| {
            json!({"v": v % 3, "nonce": nonce, "ciphertext": ct, "envelopes": envs, "x": extra})
        });
    run("e2ee/sealed", 3000, sealed, |v| {
        let mut without_extra = v.clone();
        if let Some(o) = without_extra.as_object_mut() {
            o.remove("x");
        }
        // Unknown fields are refused.
        prop_assert!(serde_json::from_value::<Sealed>(v).is_err());
        if let Ok(s) = serde_json::from_value::<Sealed>(without_extra.clone()) {
            prop_assert!(s.ciphertext.as_str().len() <= (MAX_SEALED_BYTES * 4).div_ceil(3));
            let _ = s.check_shape();
        }
        let frame = json!({"action":"sendMessage","roomId":"dme_1","clientMsgId":"c","body":"","sealed": without_extra});
        check_decode(&frame.to_string())?;
        // The edit decoder's `sealed` field: the same decoder, the same
        // verdict, the payload intact when it decodes.
        let edit = json!({"action":"editMessage","roomId":"dme_1","seq":1,"body":"","sealed": without_extra});
        check_decode(&edit.to_string())?;
        let as_sealed = serde_json::from_value::<Sealed>(without_extra).ok();
        match ClientFrame::decode(&edit.to_string()) {
            Ok(ClientFrame::EditMessage(m)) => {
                prop_assert_eq!(m.sealed.as_deref(), as_sealed.as_ref());
            }
            Ok(other) => prop_assert!(false, "decoded as {other:?}"),
            Err(_) => prop_assert!(as_sealed.is_none(), "a good seal refused in an edit"),
        }
        Ok(())
    });
}

/// Upload slots of encrypted rooms: the slot request's decoder (the
/// content type now also takes `application/octet-stream`) and the rule of
/// which room takes what. Never a panic; a slot the rule accepts is
/// ciphertext under the neutral name in an encrypted room, and one of the
/// plain allowlist anywhere else.
#[test]
fn upload_slot_decoder_and_room_rule_keep_ciphertext_and_plain_files_apart() {
    use chat_core::attachments::{check_slot_for_room, ALLOWED_TYPES, SEALED_NAME, SEALED_TYPE};
    use chat_core::ids::{RoomId, UserId};
    use chat_core::protocol::rest::UploadSlotRequest;
    let content_type = prop_oneof![
        prop::sample::select(ALLOWED_TYPES.to_vec()).prop_map(str::to_owned),
        (any::<bool>(), "[ ;a-z=0-9]{0,8}").prop_map(|(upper, params)| {
            let t = if upper {
                "Application/OCTET-Stream"
            } else {
                SEALED_TYPE
            };
            format!("{t}{params}")
        }),
        Just("image/svg+xml".to_owned()),
        field_string(),
    ];
    let name = prop_oneof![
        Just(SEALED_NAME.to_owned()),
        Just("Sealed".to_owned()),
        Just("cat.png".to_owned()),
        field_string(),
    ];
    let side = prop_oneof![
        Just(Value::Null),
        (0u32..3).prop_map(Value::from),
        json_leaf()
    ];
    let case = (
        content_type,
        prop_oneof![(0u64..40).prop_map(Value::from), json_leaf()],
        name,
        side.clone(),
        side,
        any::<bool>(),
    );
    let (a, b) = (
        UserId::parse("alice").unwrap_or_else(|_| unreachable!()),
        UserId::parse("bob").unwrap_or_else(|_| unreachable!()),
    );
    let (encrypted, plain) = (
        RoomId::direct_encrypted(&a, &b),
        RoomId::parse("r_1").unwrap_or_else(|_| unreachable!()),
    );
    run(
        "attachments/sealed-slot",
        3000,
        case,
        |(ct, size, name, w, h, in_encrypted)| {
            let body =
                json!({"contentType": ct, "size": size, "fileName": name, "width": w, "height": h});
            let Ok(req) = serde_json::from_value::<UploadSlotRequest>(body) else {
                return Ok(());
            };
            let room = if in_encrypted { &encrypted } else { &plain };
            let ok = check_slot_for_room(
                room,
                &req.content_type,
                req.size,
                &req.file_name,
                req.width,
                req.height,
            )
            .is_ok();
            if ok && in_encrypted {
                prop_assert!(req.content_type.is_sealed());
                prop_assert_eq!(req.file_name.as_str(), SEALED_NAME);
                prop_assert!(req.width.is_none() && req.height.is_none() && req.size > 16);
            }
            if ok && !in_encrypted {
                prop_assert!(ALLOWED_TYPES.contains(&req.content_type.as_str()));
            }
            if req.content_type.is_sealed() != in_encrypted {
                prop_assert!(!ok, "{} in {}", req.content_type.as_str(), room);
            }
            Ok(())
        },
    );
}

/// The sealed content's decoder, with its new `files` (the client opens
/// it from a peer's ciphertext, so anything may be in it): never a panic,
/// unknown fields refused, and a file entry that decodes opens nothing
/// but its own ciphertext (here: never, it is random).
#[test]
fn sealed_content_decoder_survives_anything_and_a_random_file_never_opens() {
    use chat_client::e2ee::{Content, CryptoError};
    use chat_core::ids::{RoomId, UserId};
    let b64 = |v: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let key_text = prop_oneof![
        proptest::collection::vec(any::<u8>(), 32..=32).prop_map(b64),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(b64),
        field_string(),
    ];
    let nonce_text = prop_oneof![
        proptest::collection::vec(any::<u8>(), 12..=12).prop_map(b64),
        field_string(),
    ];
    let file = (
        field_string(),
        key_text,
        nonce_text,
        field_string(),
        prop_oneof![(0u64..64).prop_map(Value::from), json_leaf()],
        json_leaf(),
        any::<bool>(),
    )
        .prop_map(|(id, key, nonce, name, size, width, extra)| {
            let mut f = json!({"attachmentId": id, "key": key, "nonce": nonce, "name": name,
                               "contentType": "image/png", "size": size, "width": width});
            if extra {
                f["url"] = json!("https://example.com/");
            }
            f
        });
    let content = (
        field_string(),
        prop_oneof![
            proptest::collection::vec(file, 0..4).prop_map(Value::from),
            json_value()
        ],
        proptest::collection::vec(any::<u8>(), 0..80),
    );
    let room = RoomId::direct_encrypted(
        &UserId::parse("alice").unwrap_or_else(|_| unreachable!()),
        &UserId::parse("bob").unwrap_or_else(|_| unreachable!()),
    );
    let sender = UserId::parse("alice").unwrap_or_else(|_| unreachable!());
    run(
        "e2ee/sealed-content-files",
        3000,
        content,
        |(body, files, ct)| {
            let v = json!({"body": body, "files": files});
            let has_url = v["files"]
                .as_array()
                .is_some_and(|l| l.iter().any(|f| f.get("url").is_some()));
            let Ok(c) = serde_json::from_value::<Content>(v) else {
                return Ok(());
            };
            prop_assert!(!has_url, "an unknown field was accepted");
            for f in &c.files {
                let r = f.open(&room, &sender, &ct);
                prop_assert!(
                    matches!(r, Err(CryptoError::Forged | CryptoError::Malformed(_))),
                    "{:?}",
                    r
                );
            }
            Ok(())
        },
    );
}

// ---- cursors and query strings ----------------------------------------------------

#[test]
fn cursor_parser_survives_anything_and_round_trips_every_seq() {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let raw = prop_oneof![
        any::<String>(),
        prop::collection::vec(any::<u8>(), 0..80).prop_map(move |b| b64(&b)),
        "[0-9-]{0,30}".prop_map(move |d| b64(format!("v1:{d}").as_bytes())),
        any::<u64>().prop_map(|s| Cursor::at(s).encode()),
    ];
    run("cursor/parse", 5000, (raw, any::<u64>()), |(raw, seq)| {
        if let Ok(c) = Cursor::parse(&raw) {
            // Anything accepted is a canonical cursor of that seq.
            prop_assert_eq!(Cursor::parse(&c.encode()).unwrap(), c);
        }
        prop_assert_eq!(Cursor::parse(&Cursor::at(seq).encode()).unwrap().seq(), seq);
        Ok(())
    });
}

// ---- push subscriptions ------------------------------------------------------------

/// The subscription decoder never panics; whatever it accepts is `https` to
/// a public host (or loopback only when allowed) with keys of the right
/// lengths, and its refusals are typed `bad_request`s.
#[test]
fn subscription_decoder_accepts_only_public_https_endpoints_with_exact_keys() {
    use chat_core::error::ChatError;
    use chat_core::notify::{EndpointRules, PushSubscription};
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let host = prop_oneof![
        "[a-z]{1,8}(\\.[a-z]{2,5}){0,2}",
        (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        any::<[u16; 8]>().prop_map(|s| format!("[{}]", s.map(|x| format!("{x:x}")).join(":"))),
        Just("localhost".to_owned()),
        Just("169.254.169.254".to_owned()),
        Just("[::ffff:10.0.0.1]".to_owned()),
    ];
    let endpoint = prop_oneof![
        any::<String>(),
        (
            "(https|http|ftp|HTTPS)",
            "(|user:pw@)",
            host,
            "(|:[0-9]{1,5})",
            "(/[a-zA-Z0-9%._-]{0,20}){0,3}"
        )
            .prop_map(|(s, u, h, p, path)| format!("{s}://{u}{h}{p}{path}")),
    ];
    let key = |len: usize| {
        prop_oneof![
            any::<String>(),
            prop::collection::vec(any::<u8>(), 0..80).prop_map(move |b| b64(&b)),
            prop::collection::vec(any::<u8>(), len..=len).prop_map(move |mut b| {
                if len == 65 {
                    b[0] = 4;
                }
                b64(&b)
            }),
        ]
    };
    run(
        "subscription/parse",
        5000,
        (endpoint, key(65), key(16), any::<bool>()),
        |(endpoint, p256dh, auth, allow_loopback)| {
            let rules = EndpointRules { allow_loopback };
            match PushSubscription::parse(&endpoint, &p256dh, &auth, rules) {
                Ok(s) => {
                    prop_assert_eq!(s.p256dh_bytes().len(), 65);
                    prop_assert_eq!(s.auth_bytes().len(), 16);
                    let url = url::Url::parse(&s.endpoint).unwrap();
                    let loopback = match url.host().unwrap() {
                        url::Host::Domain(d) => d == "localhost",
                        url::Host::Ipv4(ip) => ip.is_loopback(),
                        url::Host::Ipv6(ip) => ip.is_loopback(),
                    };
                    if loopback {
                        prop_assert!(allow_loopback, "{endpoint}");
                    } else {
                        prop_assert_eq!(url.scheme(), "https");
                        if let Some(url::Host::Ipv4(ip)) = url.host() {
                            prop_assert!(chat_core::notify::is_public(ip.into()), "{endpoint}");
                        }
                        if let Some(url::Host::Ipv6(ip)) = url.host() {
                            prop_assert!(chat_core::notify::is_public(ip.into()), "{endpoint}");
                        }
                    }
                }
                Err(ChatError::BadRequest(msg)) => prop_assert!(!msg.contains(MARK)),
                Err(other) => prop_assert!(false, "untyped refusal {other:?}"),
            }
            Ok(())
        },
    );
}

/// The device registration decoder (`POST /users/me/devices`): a mobile
/// token is accepted only for a known kind with a token of that kind's
/// alphabet and length, a body mixing both forms never, and every refusal
/// is a typed `bad_request`.
#[test]
fn mobile_registration_decoder_accepts_only_well_formed_tokens_of_known_kinds() {
    use chat_core::error::ChatError;
    use chat_core::mobile::{MobilePlatform, Registration};
    use chat_core::notify::EndpointRules;
    use chat_core::protocol::rest::RegisterDeviceRequest;
    let kind = prop_oneof![
        Just("fcm".to_owned()),
        Just("apns".to_owned()),
        "[a-zA-Z]{0,6}",
        any::<String>(),
    ];
    let token = prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_:-]{0,80}",
        "[A-Za-z0-9_:-]{4090,4100}",
        "[0-9a-fA-F]{60,70}",
        "[0-9a-f]{198,202}",
    ];
    let optional = |s: BoxedStrategy<String>| prop::option::of(s);
    run(
        "registration/parse",
        3000,
        (
            optional(kind.boxed()),
            optional(token.boxed()),
            optional("https://push\\.example\\.com/[a-z]{0,8}".boxed()),
        ),
        |(kind, token, endpoint)| {
            let req = RegisterDeviceRequest {
                endpoint: endpoint.clone(),
                expiration_time: None,
                keys: None,
                kind: kind.clone(),
                token: token.clone(),
            };
            match Registration::parse(&req, EndpointRules::default()) {
                Ok(Registration::Mobile(t)) => {
                    prop_assert!(endpoint.is_none());
                    match t.platform {
                        MobilePlatform::Fcm => {
                            prop_assert_eq!(kind.as_deref(), Some("fcm"));
                            prop_assert!((32..=4096).contains(&t.token.len()));
                            prop_assert!(t
                                .token
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"_:-".contains(&b)));
                        }
                        MobilePlatform::Apns => {
                            prop_assert_eq!(kind.as_deref(), Some("apns"));
                            prop_assert!((64..=200).contains(&t.token.len()));
                            prop_assert!(t.token.bytes().all(|b| b.is_ascii_hexdigit()));
                        }
                    }
                }
                Ok(Registration::WebPush(_)) => prop_assert!(false, "no keys, yet a subscription"),
                Err(ChatError::BadRequest(msg)) => prop_assert!(!msg.contains(MARK)),
                Err(other) => prop_assert!(false, "untyped refusal {other:?}"),
            }
            Ok(())
        },
    );
}

/// The reference: `%XX` with two hex digits is a byte, `+` a space, anything
/// else itself.
fn reference_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn query_strings_decode_like_the_reference() {
    let value = prop_oneof![
        "[%+0-9a-fA-Fg-z]{0,12}",
        any::<String>().prop_map(|s| s.replace(['&', '='], "")),
    ];
    run("query/percent-decode", 5000, value, |v| {
        let parsed = events::parse_query(&format!("k={v}"));
        prop_assert_eq!(parsed, vec![("k".to_owned(), reference_decode(&v))]);
        Ok(())
    });
}

// ---- the WebSocket handlers ---------------------------------------------------------

const FRAME_TYPES: [&str; 15] = [
    "message",
    "ack",
    "receipt",
    "presence",
    "typing",
    "syncResult",
    "pong",
    "roomAdded",
    "roomRemoved",
    "memberJoined",
    "memberLeft",
    "error",
    "messageEdited",
    "messageDeleted",
    "reaction",
];

/// Every frame pushed so far is JSON of a known type, and error frames do not
/// reflect markup.
fn check_frames(c: &mut Client) -> Result<(), TestCaseError> {
    for f in c.all() {
        let ty = f["type"].as_str().unwrap_or_default();
        prop_assert!(FRAME_TYPES.contains(&ty), "unknown frame {f}");
        if ty == "error" {
            prop_assert!(!f["message"].as_str().unwrap_or("").contains('<'), "{f}");
        }
    }
    Ok(())
}

async fn ws_fixture() -> (Platform, Client, String) {
    let p = Platform::new(no_limits());
    let alice = p.connect("alice").await;
    let bob = p.connect("bob").await;
    let room = p.create_room(&alice, "group", "fuzz", &[&bob]).await;
    // Messages of both at seqs 1..=4, so edits, deletes and reactions
    // (seqs 0..5 in `near_frame`) meet real ones, theirs and others'.
    for (i, who) in [&alice, &bob, &alice, &bob].into_iter().enumerate() {
        let frame = json!({"action":"sendMessage","roomId":room,"clientMsgId":format!("seed{i}"),"body":"seed"});
        p.send_text(who, &frame.to_string()).await;
    }
    (p, alice, room)
}

#[test]
fn message_handler_answers_every_frame_well_formed() {
    let rt = runtime();
    let (p, alice, room) = rt.block_on(ws_fixture());
    let alice = RefCell::new(alice);
    let input = prop_oneof![near_frame(room).prop_map(|f| f.to_string()), text(),];
    run("ws/message-frames", 4000, input, |text| {
        let resp = rt.block_on(p.send_text(&alice.borrow(), &text));
        prop_assert_eq!(resp.status_code, 200);
        check_frames(&mut alice.borrow_mut())
    });
}

/// A real API Gateway WebSocket event (as `events` builds them) with its
/// fields replaced: the connection id, route, authorizer context, body,
/// base64 flag, query string and headers, each often of the wrong shape,
/// plus stray keys; now and then the whole request context is garbage.
fn ws_event(conn: String) -> impl Strategy<Value = Value> {
    let real = WsConn {
        connection_id: conn.clone(),
        connected_at: 1,
        source_ip: "127.0.0.1".into(),
    };
    let base = serde_json::to_value(events::ws_message(
        &WsApi::default(),
        &real,
        "$default",
        "{}",
        None,
        2,
    ))
    .expect("event");
    let connection = prop_oneof![
        2 => Just(Value::from(conn)),
        2 => field_string().prop_map(Value::from),
        1 => json_leaf(),
    ];
    let route = prop_oneof![
        Just(Value::from("$default")),
        Just(Value::from("$connect")),
        prop::sample::select(ACTIONS.to_vec()).prop_map(Value::from),
        json_leaf(),
    ];
    let authorizer = prop_oneof![
        Just(json!({})),
        Just(json!({"userId": "mallory", "principalId": "mallory"})),
        field_string().prop_map(|u| json!({"userId": u})),
        json_value(),
    ];
    let body = prop_oneof![
        near_frame("r_1".into()).prop_map(|f| Value::from(f.to_string())),
        field_string().prop_map(Value::from),
        Just(Value::Null),
        json_leaf(),
    ];
    let b64 = prop_oneof![3 => Just(json!(false)), 2 => Just(json!(true)), 1 => json_leaf()];
    let query = prop_oneof![
        Just(Value::Null),
        field_string().prop_map(|t| json!({"token": t})),
        json_value(),
    ];
    let headers = prop_oneof![
        Just(json!({"Host": "x"})),
        field_string().prop_map(|t| json!({"Authorization": format!("Bearer {t}")})),
        json_value(),
    ];
    let extra = prop::collection::vec((field_string(), json_leaf()), 0..3);
    let garbage_context = prop_oneof![9 => Just(None), 1 => json_value().prop_map(Some)];
    (
        (connection, route, authorizer, extra, garbage_context),
        (body, b64, query, headers),
    )
        .prop_map(
            move |((c, route, authorizer, extra, garbage), (body, b64, query, headers))| {
                let mut ev = base.clone();
                let ctx = &mut ev["requestContext"];
                for (k, v) in extra {
                    ctx[k] = v;
                }
                ctx["connectionId"] = c;
                ctx["routeKey"] = route;
                ctx["authorizer"] = authorizer;
                if let Some(g) = garbage {
                    *ctx = g;
                }
                ev["body"] = body;
                ev["isBase64Encoded"] = b64;
                ev["queryStringParameters"] = query;
                ev["headers"] = headers;
                ev
            },
        )
}

#[test]
fn websocket_handlers_survive_arbitrary_events() {
    let rt = runtime();
    let (p, alice, _room) = rt.block_on(ws_fixture());
    let own = alice.conn.to_string();
    let alice = RefCell::new(alice);
    let decoded = Cell::new(0u32);
    run("ws/arbitrary-events", 3000, ws_event(own.clone()), |ev| {
        let Ok(event) =
            serde_json::from_value::<aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest>(ev)
        else {
            // lambda_runtime refuses what does not decode; the handler never sees it.
            return Ok(());
        };
        decoded.set(decoded.get() + 1);
        rt.block_on(async {
            let m = chat_message::handle(&p.chat, event.clone()).await;
            prop_assert!(
                [200, 400].contains(&m.status_code),
                "message {}",
                m.status_code
            );
            let c = chat_connect::handle(&p.chat, p.verifier.as_ref(), event.clone()).await;
            prop_assert!(
                [200, 400, 401].contains(&c.status_code),
                "connect {}",
                c.status_code
            );
            for r in [&m, &c] {
                if let Some(aws_lambda_events::encodings::Body::Text(b)) = &r.body {
                    prop_assert!(serde_json::from_str::<Value>(b).is_ok(), "{b}");
                }
            }
            // Never alice's own connection: that would end the fixture.
            if event.request_context.connection_id.as_deref() != Some(own.as_str()) {
                let d = chat_disconnect::handle(&p.chat, event).await;
                prop_assert!(
                    [200, 400].contains(&d.status_code),
                    "disconnect {}",
                    d.status_code
                );
            }
            Ok(())
        })?;
        check_frames(&mut alice.borrow_mut())
    });
    let decoded = decoded.get();
    assert!(
        decoded > 100,
        "only {decoded} events decoded: the strategy is off"
    );
}

// ---- the SQS consumer ------------------------------------------------------------

fn job_body() -> impl Strategy<Value = String> {
    let message = (
        prop_oneof![Just(json!("r_1")), json_leaf()],
        prop_oneof![Just(json!("m1")), json_leaf()],
        prop_oneof![(0u64..10).prop_map(Value::from).boxed(), json_leaf().boxed()],
        prop_oneof![Just(json!("alice")), json_leaf()],
        prop_oneof![field_string().prop_map(Value::from), json_leaf()],
    )
        .prop_map(|(r, m, s, u, b)| {
            json!({"roomId": r, "messageId": m, "seq": s, "senderId": u, "body": b, "sentAt": 1, "clientMsgId": "c1"})
        });
    prop_oneof![
        message.prop_map(|m| json!({"kind": "persistMessage", "message": m}).to_string()),
        (json_leaf(), json_leaf(), json_value()).prop_map(|(r, s, u)| {
            json!({"kind": "markDelivered", "roomId": r, "seq": s, "userIds": u, "notify": ["alice"]})
                .to_string()
        }),
        json_value().prop_map(|v| v.to_string()),
        text(),
    ]
}

#[test]
fn persist_handler_reports_exactly_its_failed_records() {
    let rt = runtime();
    let (p, alice, _room) = rt.block_on(ws_fixture());
    let alice = RefCell::new(alice);
    let records = prop::collection::vec(("[a-z0-9-]{1,12}", job_body()), 0..8);
    run("sqs/persist-batches", 2500, records, |records| {
        let records: Vec<SqsRecord> = records
            .into_iter()
            .enumerate()
            .map(|(i, (id, body))| SqsRecord {
                message_id: format!("{id}-{i}"),
                body,
                receive_count: 1,
                sent_at: p.clock.now(),
            })
            .collect();
        let event = events::sqs_event("arn:aws:sqs:us-east-1:0:q", &records, p.clock.now());
        let resp = rt.block_on(chat_persist::handle(&p.chat, event));
        for f in &resp.batch_item_failures {
            prop_assert!(
                records.iter().any(|r| r.message_id == f.item_identifier),
                "reported a record that is not in the batch"
            );
        }
        check_frames(&mut alice.borrow_mut())
    });
}

#[test]
fn sqs_event_decoding_survives_arbitrary_json() {
    let rt = runtime();
    let p = Platform::new(no_limits());
    let event = prop_oneof![
        json_value(),
        prop::collection::vec(json_value(), 0..4).prop_map(|r| json!({"Records": r})),
        prop::collection::vec((json_leaf(), job_body()), 0..4).prop_map(|r| {
            json!({"Records": r.into_iter().map(|(id, body)| json!({"messageId": id, "body": body})).collect::<Vec<_>>()})
        }),
    ];
    run("sqs/arbitrary-events", 3000, event, |v| {
        if let Ok(ev) = serde_json::from_value::<aws_lambda_events::sqs::SqsEvent>(v) {
            let n = ev.records.len();
            let resp = rt.block_on(chat_persist::handle(&p.chat, ev));
            prop_assert!(resp.batch_item_failures.len() <= n);
        }
        Ok(())
    });
}

// ---- the HTTP API handlers ---------------------------------------------------------

const STATUSES: [u16; 10] = [200, 201, 204, 400, 401, 403, 404, 409, 413, 429];

fn http_case(
    token: String,
    room: String,
) -> impl Strategy<Value = (String, String, Vec<(String, String)>, Option<String>)> {
    let method = prop::sample::select(vec!["GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"]);
    let segment = prop_oneof![
        Just("rooms".to_owned()),
        Just("users".to_owned()),
        Just("channels".to_owned()),
        Just("messages".to_owned()),
        Just("members".to_owned()),
        Just("me".to_owned()),
        Just("attachments".to_owned()),
        Just("replies".to_owned()),
        Just("1".to_owned()),
        // The block and mute routes: /users/me/{blocks,mutes}/{userId}.
        Just("blocks".to_owned()),
        Just("mutes".to_owned()),
        Just(room),
        Just("alice".to_owned()),
        Just("prod".to_owned()),
        "[A-Za-z0-9_.~%-]{1,20}",
    ];
    let path = prop::collection::vec(segment, 0..6).prop_map(|s| format!("/{}", s.join("/")));
    let query = prop::collection::vec(
        (
            prop::sample::select(vec!["limit", "before", "after", "x"]),
            "[A-Za-z0-9%_-]{0,16}",
        ),
        0..3,
    )
    .prop_map(|q| {
        q.into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    });
    let auth = prop_oneof![
        4 => Just(Some(format!("Bearer {token}"))),
        1 => Just(None),
        1 => field_string().prop_map(|s| Some(format!("Bearer {s}"))),
    ];
    let body = prop_oneof![
        Just(None),
        json_value().prop_map(|v| Some(v.to_string())),
        (
            field_string(),
            prop::sample::select(vec!["group", "channel", "direct", "x"]),
            prop::collection::vec(field_string(), 0..4)
        )
            .prop_map(|(n, k, m)| Some(json!({"name": n, "kind": k, "members": m}).to_string())),
        (field_string(), json_leaf()).prop_map(|(d, a)| Some(
            json!({"displayName": d, "avatarUrl": a, "userId": "bob"}).to_string()
        )),
        // Upload slots: types allowed and not, sizes around the limit,
        // names with paths and markup, image sizes of every sign.
        (
            prop_oneof![
                Just("image/png".to_owned()),
                Just("image/svg+xml".to_owned()),
                Just("application/x-msdownload".to_owned()),
                field_string(),
            ],
            prop_oneof![
                Just(json!(26_214_400)),
                Just(json!(26_214_401)),
                json_leaf()
            ],
            field_string(),
            json_leaf(),
        )
            .prop_map(|(ct, size, name, w)| Some(
                json!({"contentType": ct, "size": size, "fileName": name, "width": w}).to_string()
            )),
        text().prop_map(Some),
    ];
    (method, path, query, auth, body).prop_map(|(m, path, q, auth, body)| {
        let pq = if q.is_empty() {
            path
        } else {
            format!("{path}?{q}")
        };
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if let Some(a) = auth {
            headers.push(("authorization".to_owned(), a));
        }
        (m.to_owned(), pq, headers, body)
    })
}

async fn dispatch(
    p: &Platform,
    req: lambda_http::Request,
) -> lambda_http::Response<lambda_http::Body> {
    let path = req.uri().path().to_owned();
    if path.ends_with("/messages") || path.ends_with("/replies") {
        chat_history::handle(&p.chat, p.verifier.as_ref(), req).await
    } else if path.contains("/users") {
        chat_users::handle(&p.chat, p.verifier.as_ref(), req).await
    } else {
        chat_rooms::handle(&p.chat, p.verifier.as_ref(), req).await
    }
}

fn check_response(resp: &lambda_http::Response<lambda_http::Body>) -> Result<(), TestCaseError> {
    let status = resp.status().as_u16();
    prop_assert!(STATUSES.contains(&status), "status {status}");
    let body: &[u8] = resp.body().as_ref();
    if status == 204 {
        prop_assert!(body.is_empty());
    } else {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| TestCaseError::fail(format!("non-JSON body: {e}")))?;
        if status >= 400 {
            let msg = v["error"]["message"].as_str().unwrap_or_default();
            prop_assert!(!msg.contains('<'), "markup reflected: {msg}");
        }
    }
    Ok(())
}

#[test]
fn rest_handlers_answer_every_request_well_formed() {
    let rt = runtime();
    let (p, alice, room) = rt.block_on(ws_fixture());
    let built = Cell::new(0u32);
    run(
        "http/near-valid-requests",
        3000,
        http_case(alice.token.clone(), room),
        |(method, pq, headers, body)| {
            let ev = events::http_event(&method, &pq, &headers, body.as_deref(), p.clock.now());
            let Ok(req) = lambda_http::request::from_str(&ev.to_string()) else {
                return Ok(());
            };
            built.set(built.get() + 1);
            let resp = rt.block_on(dispatch(&p, req));
            check_response(&resp)
        },
    );
    let built = built.get();
    assert!(
        built > 1000,
        "only {built} requests built: the strategy is off"
    );
}

#[test]
fn http_event_decoding_survives_arbitrary_json() {
    let rt = runtime();
    let (p, _alice, _room) = rt.block_on(ws_fixture());
    let ev = prop_oneof![
        json_value(),
        (json_value(), json_value(), field_string(), json_leaf()).prop_map(
            |(ctx, headers, path, body)| {
                json!({
                    "version": "2.0",
                    "routeKey": "$default",
                    "rawPath": path,
                    "rawQueryString": "",
                    "headers": headers,
                    "requestContext": ctx,
                    "body": body,
                    "isBase64Encoded": false,
                })
            }
        ),
    ];
    run("http/arbitrary-events", 3000, ev, |v| {
        if let Ok(req) = lambda_http::request::from_str(&v.to_string()) {
            let resp = rt.block_on(dispatch(&p, req));
            check_response(&resp)?;
        }
        Ok(())
    });
}

#[test]
fn a_connection_id_from_the_event_is_validated_before_use() {
    // Not a property, but the boundary the WebSocket properties lean on.
    for bad in ["", "a b", "../x", &"x".repeat(200)] {
        assert!(ConnectionId::parse(bad).is_err(), "{bad:?}");
    }
    let conn = WsConn {
        connection_id: "not valid!".into(),
        connected_at: 0,
        source_ip: "127.0.0.1".into(),
    };
    let ev = events::ws_message(
        &WsApi::default(),
        &conn,
        "ping",
        r#"{"action":"ping"}"#,
        None,
        0,
    );
    let rt = runtime();
    let p = Platform::default();
    assert_eq!(
        rt.block_on(chat_message::handle(&p.chat, ev)).status_code,
        400
    );
}
