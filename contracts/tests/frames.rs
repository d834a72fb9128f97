//! The frames schema holds: it is what the code generates, every frame the
//! server encodes and every frame the docs show validates against it, and
//! frames the decoder refuses for a bound the schema states are refused by
//! the schema too.

use chat_contracts::{documents, repo_root, REGENERATE};
use chat_core::error::ChatError;
use chat_core::ids::{ClientMsgId, MessageId, RoomId, RoomName, UserId};
use chat_core::model::{PresenceStatus, ReceiptStatus, RoomKind};
use chat_core::protocol::ws::{AckStatus, ClientFrame, MessageView, ServerFrame, MAX_SYNC_ROOMS};
use serde_json::{json, Value};

const FRAMES: &str = "docs/schema/frames.schema.json";

fn committed(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path))
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}; run `{REGENERATE}`"))
}

fn schema() -> Value {
    serde_json::from_str(&committed(FRAMES)).expect("the frames schema is JSON")
}

/// A validator for one definition of the committed document.
fn validator(definition: &str) -> jsonschema::Validator {
    let doc = schema();
    let wrapper = json!({
        "$schema": doc["$schema"],
        "$defs": doc["$defs"],
        "$ref": format!("#/$defs/{definition}"),
    });
    jsonschema::validator_for(&wrapper).expect("the frames schema compiles")
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_committed_frames_schema_is_what_the_code_generates() {
    let doc = documents()
        .expect("the contracts generate")
        .into_iter()
        .find(|d| d.path == FRAMES)
        .expect("the frames schema is one of the documents");
    assert!(
        committed(FRAMES) == doc.text,
        "{FRAMES} differs from the protocol types: run `{REGENERATE}` and commit it"
    );
}

fn room() -> RoomId {
    RoomId::parse("r_0190a3f1").unwrap()
}

fn user(u: &str) -> UserId {
    UserId::parse(u).unwrap()
}

fn view() -> MessageView {
    MessageView {
        sealed: None,
        room_id: room(),
        message_id: MessageId::generate(),
        seq: 7,
        sender_id: user("alice"),
        body: "hi ✓\nsecond line".into(),
        sent_at: 1_795_839_822_211,
        client_msg_id: ClientMsgId::parse("c-1").unwrap(),
        attachments: Vec::new(),
        reply_to: None,
        edited_at: None,
        deleted_at: None,
        reactions: Vec::new(),
    }
}

/// A reply, its target's quote live or deleted since.
fn view_replying(deleted: bool) -> MessageView {
    let mut v = view();
    v.seq = 9;
    v.reply_to = Some(chat_core::replies::ReplyPreview {
        seq: 7,
        message_id: MessageId::generate(),
        sender_id: user("bob"),
        excerpt: if deleted {
            String::new()
        } else {
            "x".repeat(100)
        },
        truncated: !deleted,
        attachment_count: if deleted { 0 } else { 2 },
        deleted,
        sealed: false,
    });
    v
}

/// A message edited, with reactions; and a tombstone.
fn changed_views() -> Vec<MessageView> {
    let emoji = |e: &str| chat_core::changes::Emoji::parse(e).unwrap();
    vec![
        MessageView {
            body: "hi, edited".into(),
            edited_at: Some(1_795_839_900_000),
            reactions: vec![
                chat_core::protocol::ws::ReactionCount {
                    emoji: emoji("👍"),
                    count: 2,
                    me: true,
                },
                chat_core::protocol::ws::ReactionCount {
                    emoji: emoji("❤️"),
                    count: 1,
                    me: false,
                },
            ],
            ..view()
        },
        MessageView {
            body: String::new(),
            deleted_at: Some(1_795_839_900_000),
            ..view()
        },
    ]
}

/// A message of attachments only: an image and a document.
fn view_with_attachments() -> MessageView {
    let a = |ct: &str, name: &str, size, w: Option<u32>| chat_core::protocol::ws::AttachmentView {
        attachment: chat_core::attachments::Attachment {
            attachment_id: chat_core::ids::AttachmentId::generate(),
            content_type: chat_core::attachments::ContentType::parse(ct).unwrap(),
            size,
            file_name: chat_core::ids::FileName::parse(name).unwrap(),
            width: w,
            height: w.map(|w| w / 2),
        },
        url: Some(
            "https://bucket.s3.amazonaws.com/rooms/r_0190a3f1/x?X-Amz-Signature=ab".to_owned(),
        ),
        url_expires_at: 1_795_839_822_211,
    };
    MessageView {
        body: String::new(),
        attachments: vec![
            a("image/png", "cat.png", 12_345, Some(640)),
            a("application/pdf", "plan.pdf", 99, None),
        ],
        ..view()
    }
}

/// One of every server frame (several where optional fields differ).
fn every_server_frame() -> Vec<ServerFrame> {
    vec![
        ServerFrame::Message(view()),
        ServerFrame::Message(view_with_attachments()),
        ServerFrame::Ack {
            client_msg_id: ClientMsgId::parse("c-1").unwrap(),
            room_id: room(),
            message_id: MessageId::generate(),
            seq: u64::MAX,
            status: AckStatus::Sent,
            attachments: Vec::new(),
            reply_to: None,
        },
        ServerFrame::ack(view_with_attachments()),
        ServerFrame::Message(view_replying(false)),
        ServerFrame::Message(view_replying(true)),
        ServerFrame::ack(view_replying(false)),
        ServerFrame::Receipt {
            room_id: room(),
            user_ids: vec![user("bob"), user("carol@example.com")],
            status: ReceiptStatus::Read,
            seq: 3,
        },
        ServerFrame::Presence {
            user_id: user("bob"),
            status: PresenceStatus::Offline,
        },
        ServerFrame::Typing {
            room_id: room(),
            user_id: user("bob"),
            is_typing: false,
        },
        ServerFrame::SyncResult {
            room_id: room(),
            messages: vec![view()],
            has_more: true,
            through_seq: 9,
            burned: vec![5, 8],
            changes: Vec::new(),
            through_change: 0,
        },
        ServerFrame::SyncResult {
            room_id: room(),
            messages: changed_views(),
            has_more: false,
            through_seq: 9,
            burned: vec![],
            changes: vec![chat_core::protocol::ws::MessageChangeView {
                seq: 2,
                message_id: MessageId::generate(),
                change: 14,
                body: "fixed typo".into(),
                edited_at: Some(1_795_839_900_000),
                deleted_at: None,
                reactions: Vec::new(),
                sealed: None,
            }],
            through_change: 14,
        },
        ServerFrame::MessageEdited {
            room_id: room(),
            seq: 7,
            message_id: MessageId::generate(),
            body: "hi, edited".into(),
            edited_at: 1_795_839_900_000,
            change: 3,
            sealed: None,
        },
        ServerFrame::MessageDeleted {
            room_id: room(),
            seq: 7,
            message_id: MessageId::generate(),
            deleted_at: 1_795_839_900_000,
            deleted_by: user("alice"),
            change: 4,
        },
        ServerFrame::Reaction {
            room_id: room(),
            seq: 7,
            message_id: MessageId::generate(),
            emoji: chat_core::changes::Emoji::parse("👍🏽").unwrap(),
            user_id: user("bob"),
            added: true,
            change: 5,
        },
        ServerFrame::SyncResult {
            room_id: room(),
            messages: vec![],
            has_more: false,
            through_seq: 0,
            burned: vec![],
            changes: Vec::new(),
            through_change: 0,
        },
        ServerFrame::Pong,
        ServerFrame::RoomAdded {
            room_id: RoomId::direct(&user("alice"), &user("bob")),
            kind: RoomKind::Direct,
            name: RoomName::parse("direct").unwrap(),
            owner_id: user("alice"),
            created_at: 0,
            added_by: user("alice"),
        },
        ServerFrame::RoomRemoved {
            room_id: room(),
            removed_by: user("alice"),
        },
        // A message of an end-to-end encrypted room: no body, sealed.
        ServerFrame::Message(MessageView {
            room_id: RoomId::direct_encrypted(&user("alice"), &user("bob")),
            body: String::new(),
            sealed: Some(Box::new(
                serde_json::from_value(serde_json::json!({
                    "v": 1,
                    "nonce": "AAECAwQFBgcICQoL",
                    "ciphertext": "q83vASNFZ4mrze8BI0VniavN7wEjRWeJ",
                    "envelopes": [{
                        "userId": "bob",
                        "deviceId": "phone",
                        "ephemeralKey": "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
                        "nonce": "AAECAwQFBgcICQoL",
                        "wrappedKey": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v"
                    }]
                }))
                .expect("a valid sealed payload"),
            )),
            ..view()
        }),
        ServerFrame::KeysChanged {
            user_id: user("alice"),
            fingerprint: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        },
        ServerFrame::MemberJoined {
            room_id: room(),
            user_id: user("carol"),
            added_by: user("alice"),
        },
        ServerFrame::MemberLeft {
            room_id: room(),
            user_id: user("carol"),
            removed_by: user("carol"),
        },
        ServerFrame::error(
            &ChatError::Forbidden("not a member of this room"),
            Some(ClientMsgId::parse("c-1").unwrap()),
        ),
        ServerFrame::error(
            &ChatError::RateLimited {
                retry_after_ms: 100,
            },
            None,
        ),
        ServerFrame::error(&ChatError::Internal("secret cause".into()), None),
    ]
}

/// The `type` of a frame. No wildcard: a new frame fails to compile here
/// until it has an example above.
fn type_of(frame: &ServerFrame) -> &'static str {
    match frame {
        ServerFrame::Message(_) => "message",
        ServerFrame::Ack { .. } => "ack",
        ServerFrame::Receipt { .. } => "receipt",
        ServerFrame::Presence { .. } => "presence",
        ServerFrame::Typing { .. } => "typing",
        ServerFrame::SyncResult { .. } => "syncResult",
        ServerFrame::Pong => "pong",
        ServerFrame::RoomAdded { .. } => "roomAdded",
        ServerFrame::RoomRemoved { .. } => "roomRemoved",
        ServerFrame::MemberJoined { .. } => "memberJoined",
        ServerFrame::MemberLeft { .. } => "memberLeft",
        ServerFrame::MessageEdited { .. } => "messageEdited",
        ServerFrame::MessageDeleted { .. } => "messageDeleted",
        ServerFrame::Reaction { .. } => "reaction",
        ServerFrame::KeysChanged { .. } => "keysChanged",
        ServerFrame::Error { .. } => "error",
    }
}

/// The `const` of `tag` in each alternative of definition `name`.
fn tags(name: &str, tag: &str) -> Vec<String> {
    let doc = schema();
    let mut out: Vec<String> = doc["$defs"][name]["oneOf"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} is a oneOf"))
        .iter()
        .map(|alt| {
            alt["properties"][tag]["const"]
                .as_str()
                .unwrap_or_else(|| panic!("every {name} has a const {tag}: {alt}"))
                .to_owned()
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_server_frame_encodes_to_a_valid_instance_of_its_schema() {
    let v = validator("ServerFrame");
    let frames = every_server_frame();
    for frame in &frames {
        let encoded: Value = serde_json::from_str(&frame.encode()).unwrap();
        assert_eq!(encoded["type"], type_of(frame));
        let errs = errors(&v, &encoded);
        assert!(errs.is_empty(), "{encoded} does not match: {errs:?}");
    }
    let mut covered: Vec<String> = frames.iter().map(|f| type_of(f).to_owned()).collect();
    covered.sort();
    covered.dedup();
    assert_eq!(
        covered,
        tags("ServerFrame", "type"),
        "an example of every frame type"
    );
}

/// Every line of a ```json block in docs/PROTOCOL.md that is a frame.
fn documented_frames() -> Vec<Value> {
    let text = committed("docs/PROTOCOL.md");
    let mut frames = Vec::new();
    let mut in_json = false;
    for line in text.lines() {
        match line.trim() {
            "```json" => in_json = true,
            "```" => in_json = false,
            l if in_json && l.starts_with('{') => {
                let v: Value = serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("PROTOCOL.md shows invalid JSON ({e}): {l}"));
                if v.get("action").is_some() || v.get("type").is_some() {
                    frames.push(v);
                }
            }
            _ => {}
        }
    }
    frames
}

#[test]
fn every_frame_the_protocol_doc_shows_is_valid_and_decodes() {
    let client = validator("ClientFrame");
    let server = validator("ServerFrame");
    let frames = documented_frames();
    let mut actions: Vec<String> = Vec::new();
    let mut types: Vec<String> = Vec::new();
    for frame in &frames {
        if let Some(action) = frame["action"].as_str() {
            let errs = errors(&client, frame);
            assert!(errs.is_empty(), "PROTOCOL.md shows {frame}: {errs:?}");
            ClientFrame::decode(&frame.to_string())
                .unwrap_or_else(|e| panic!("PROTOCOL.md shows {frame}, refused: {e}"));
            actions.push(action.to_owned());
        } else {
            let errs = errors(&server, frame);
            assert!(errs.is_empty(), "PROTOCOL.md shows {frame}: {errs:?}");
            // It is what the server would send: decode, encode, same JSON.
            let decoded: ServerFrame = serde_json::from_value(frame.clone())
                .unwrap_or_else(|e| panic!("PROTOCOL.md shows {frame}, not a frame: {e}"));
            let again: Value = serde_json::from_str(&decoded.encode()).unwrap();
            assert_eq!(
                &again, frame,
                "PROTOCOL.md shows a frame the server never sends"
            );
            types.push(frame["type"].as_str().unwrap_or_default().to_owned());
        }
    }
    for (shown, tag, name) in [
        (&mut actions, "action", "ClientFrame"),
        (&mut types, "type", "ServerFrame"),
    ] {
        shown.sort();
        shown.dedup();
        assert_eq!(
            *shown,
            tags(name, tag),
            "PROTOCOL.md shows one of every {name}"
        );
    }
}

#[test]
fn the_schema_refuses_what_the_decoder_refuses_for_a_stated_bound() {
    let v = validator("ClientFrame");
    let too_many: Vec<Value> = (0..=MAX_SYNC_ROOMS)
        .map(|i| json!({"roomId": format!("r_{i}")}))
        .collect();
    let long_id = "c".repeat(ClientMsgId::MAX_LEN + 1);
    for bad in [
        json!({"action": "launchMissiles"}),
        json!({"noAction": true}),
        json!({"action": "sendMessage", "roomId": "r_1"}),
        json!({"action": "sendMessage", "roomId": "../etc", "clientMsgId": "c", "body": "x"}),
        json!({"action": "sendMessage", "roomId": "r_1", "clientMsgId": long_id, "body": "x"}),
        json!({"action": "sendMessage", "roomId": "r_1", "clientMsgId": "", "body": "x"}),
        json!({"action": "markRead", "roomId": "r_1", "seq": -1}),
        json!({"action": "typing", "roomId": "r_1", "isTyping": "yes"}),
        json!({"action": "sync", "rooms": too_many}),
    ] {
        assert!(
            ClientFrame::decode(&bad.to_string()).is_err(),
            "decoder accepts {bad}"
        );
        assert!(!v.is_valid(&bad), "schema accepts {bad}");
    }
    // And accepts what it accepts, at the bounds.
    let at_bound: Vec<Value> = (0..MAX_SYNC_ROOMS)
        .map(|i| json!({"roomId": format!("r_{i}")}))
        .collect();
    let max_id = "c".repeat(ClientMsgId::MAX_LEN);
    for good in [
        json!({"action": "sync", "rooms": at_bound}),
        json!({"action": "sendMessage", "roomId": "r_1", "clientMsgId": max_id, "body": "x", "senderId": "mallory"}),
    ] {
        assert!(
            ClientFrame::decode(&good.to_string()).is_ok(),
            "decoder refuses {good}"
        );
        let errs = errors(&v, &good);
        assert!(errs.is_empty(), "schema refuses {good}: {errs:?}");
    }
    assert_eq!(
        ClientFrame::decode(&json!({"action":"ping"}).to_string()).unwrap(),
        ClientFrame::Ping
    );
}
