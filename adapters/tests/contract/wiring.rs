//! Configuration → a working AWS-backed `Chat`: the same path a function's
//! `main` takes, pointed at moto, Redis and the Management API stub.

use chat_adapters::wiring;
use chat_core::config::vars;
use chat_core::contract::*;
use chat_core::ids::ClientMsgId;
use chat_core::model::{Role, RoomKind};
use chat_core::protocol::ws::SendMessage;
use chat_core::service::{Caller, Chat};

use crate::pusher::{stub, Answer};
use crate::support;

/// Sends a message through `chat` and checks it was pushed to the other
/// member through the stub and queued in SQS.
async fn send_and_check(chat: &Chat, stub: &crate::pusher::Stub, queue_url: &str) {
    let (a, b) = (user("a"), user("b"));
    let r = room(RoomKind::Group, &a, 1_000);
    chat.rooms
        .create(
            &r,
            &[member(&r, &a, Role::Owner), member(&r, &b, Role::Member)],
        )
        .await
        .unwrap();
    let (ca, cb) = (connection("a"), connection("b"));
    let live = chat.clock.now() + 60_000;
    chat.connections
        .put(&conn_record(&ca, &a, live))
        .await
        .unwrap();
    chat.connections
        .put(&conn_record(&cb, &b, live))
        .await
        .unwrap();
    stub.set(&ca, Answer::Ok);
    stub.set(&cb, Answer::Ok);

    let caller = Caller {
        user_id: a,
        connection_id: ca.clone(),
        expires_at: 0,
    };
    let req = SendMessage {
        sealed: None,
        room_id: r.room_id.clone(),
        client_msg_id: ClientMsgId::parse("w1").unwrap(),
        body: "through AWS".into(),
        attachments: Vec::new(),
        reply_to: None,
    };
    chat.send_message(&caller, req).await.unwrap();

    let pushed = stub.requests_for(&cb);
    assert_eq!(pushed.len(), 1, "{pushed:?}");
    assert!(String::from_utf8_lossy(&pushed[0].1).contains("through AWS"));
    assert_eq!(stub.requests_for(&ca).len(), 1, "the sender's ack");
    let sdk = support::sdk().await;
    let got = aws_sdk_sqs::Client::new(&sdk)
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(10)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    let bodies: Vec<String> = got
        .messages
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.body)
        .collect();
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("persistMessage") && b.contains("through AWS")),
        "{bodies:?}"
    );
}

#[tokio::test]
async fn the_aws_backend_built_from_configuration_sends_through_every_service() {
    // The default credential chain reads these; any value satisfies moto.
    std::env::set_var("AWS_ACCESS_KEY_ID", "test");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
    let sdk = support::sdk().await;
    let table = support::table_with(&sdk).await;
    let queue = support::queue_url(&sdk).await;
    let stub = stub().await;
    let moto = support::moto().url("http");
    let redis = support::redis().url("redis");

    // Endpoint through the configuration source, with the Redis cache.
    let src = [
        (vars::BACKEND, "aws"),
        (vars::TABLE_NAME, table.name()),
        (vars::QUEUE_URL, queue.as_str()),
        (vars::WS_ENDPOINT, stub.endpoint.as_str()),
        // Signing needs no bucket to exist; no attachment is sent here.
        (vars::BUCKET_NAME, "wiring-attachments"),
        (vars::AWS_ENDPOINT_URL, moto.as_str()),
        (vars::REDIS_URL, redis.as_str()),
    ];
    let chat = wiring::chat_for(&src, &MESSAGE).await.unwrap();
    send_and_check(&chat, &stub, &queue).await;

    // Endpoint (and region, as Lambda sets it) from the process environment,
    // read by the SDK itself.
    std::env::set_var("AWS_ENDPOINT_URL", &moto);
    std::env::set_var("AWS_REGION", "us-east-1");
    let src = [
        (vars::BACKEND, "aws"),
        (vars::TABLE_NAME, table.name()),
        (vars::QUEUE_URL, queue.as_str()),
        (vars::WS_ENDPOINT, stub.endpoint.as_str()),
        // Signing needs no bucket to exist; no attachment is sent here.
        (vars::BUCKET_NAME, "wiring-attachments"),
    ];
    let chat = wiring::chat_for(&src, &MESSAGE).await.unwrap();
    send_and_check(&chat, &stub, &queue).await;

    // A function that does not ask for the queue does not get one, even
    // when the variable is there: only the functions naming a port link
    // its client.
    let chat = wiring::chat_for(&src, &HISTORY).await.unwrap();
    let e = chat.queue.enqueue(&[]).await.unwrap_err();
    assert!(chat_core::error::chain(&e).contains("CHAT_QUEUE_URL"));
}

/// Functions as their crates declare them (the adapters cannot depend on
/// the function crates); `wiring::check` holds them to deploy/functions.json.
const MESSAGE: wiring::Function = wiring::Function {
    name: "chat-message",
    ports: &[wiring::QUEUE, wiring::PUSHER, wiring::BLOBS],
};
pub(crate) const PERSIST: wiring::Function = wiring::Function {
    name: "chat-persist",
    ports: &[
        wiring::PUSHER,
        wiring::BLOBS,
        wiring::WEBPUSH,
        wiring::MOBILE_PUSH,
    ],
};
const HISTORY: wiring::Function = wiring::Function {
    name: "chat-history",
    ports: &[wiring::BLOBS],
};

#[tokio::test]
async fn a_function_without_a_queue_fails_at_cold_start_only_if_it_needs_one() {
    let sdk = support::sdk().await;
    let table = support::table_with(&sdk).await;
    let src = [
        (vars::BACKEND, "aws"),
        (vars::TABLE_NAME, table.name()),
        (vars::BUCKET_NAME, "wiring-attachments"),
    ];
    let e = wiring::chat_for(&src, &PERSIST).await.err().unwrap();
    assert!(e.to_string().contains("CHAT_WS_ENDPOINT"), "{e}");
    // The history function needs neither (only the bucket): it builds, and its queue says why
    // it cannot be used.
    let chat = wiring::chat_for(&src, &HISTORY).await.unwrap();
    let e = chat.queue.enqueue(&[]).await.unwrap_err();
    assert!(chat_core::error::chain(&e).contains("CHAT_QUEUE_URL"));
}
