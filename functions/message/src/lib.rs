//! Every message route (`sendMessage`, `markRead`, `typing`, `sync`, `ping`)
//! and `$default`. The caller is the user bound to the connection at
//! `$connect`; replies and errors go back to the connection as frames, so the
//! route answers 200 whenever the event itself was well formed.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use chat_core::Chat;
use chat_lambda::ws;
use tracing::Instrument;

/// This function as deployed: the ports it links beyond the stores, which
/// `deploy/functions.json` must grant (checked at cold start and by tests).
pub const FUNCTION: chat_adapters::wiring::Function = chat_adapters::wiring::Function {
    name: "chat-message",
    ports: &[
        chat_adapters::wiring::QUEUE,
        chat_adapters::wiring::PUSHER,
        chat_adapters::wiring::BLOBS,
    ],
};

pub async fn handle(
    chat: &Chat,
    event: ApiGatewayWebsocketProxyRequest,
) -> ApiGatewayProxyResponse {
    let span = tracing::info_span!(
        "message",
        request_id = event
            .request_context
            .request_id
            .as_deref()
            .unwrap_or_default(),
        connection_id = event
            .request_context
            .connection_id
            .as_deref()
            .unwrap_or_default(),
        route = event
            .request_context
            .route_key
            .as_deref()
            .unwrap_or_default(),
    );
    async {
        let connection_id = match ws::connection_id(&event) {
            Ok(c) => c,
            Err(e) => return ws::error_response(&e),
        };
        let text = match ws::body_text(&event) {
            Ok(t) => t,
            Err(e) => {
                // Not even text: answer like any other malformed frame.
                chat.reply_error(&connection_id, &e).await;
                return ws::ok();
            }
        };
        let verified = match ws::authorizer_identity(&event) {
            Ok(identity) => identity.map(|i| i.user_id),
            Err(e) => return ws::error_response(&e),
        };
        if let Err(e) = chat
            .handle_text(&connection_id, verified.as_ref(), &text)
            .await
        {
            if e.is_internal() {
                tracing::error!(error = %chat_core::error::chain(&e), "action failed");
            } else {
                tracing::info!(code = ?e.code(), message = %e, "action refused");
            }
        }
        ws::ok()
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
    use chat_core::auth::Identity;
    use chat_core::config::Limits;
    use chat_core::ids::{ConnectionId, UserId};
    use chat_core::model::RoomKind;
    use chat_core::protocol::rest::CreateRoomRequest;
    use serde_json::Value;

    const CONN: &str = "LBZwbdKIoAMCLxA=";

    async fn setup() -> (Chat, chat_core::service::MemoryBackends, String) {
        let (chat, mem) = Chat::in_memory(Limits::default());
        let alice = Identity {
            user_id: UserId::parse("alice").unwrap(),
            name: None,
        };
        chat.connect(ConnectionId::parse(CONN).unwrap(), &alice)
            .await
            .unwrap();
        let req = CreateRoomRequest {
            encrypted: false,
            name: Some("g".into()),
            kind: RoomKind::Group,
            members: vec![],
        };
        let (_, room) = chat.create_room(&alice, req).await.unwrap();
        (chat, mem, room.room.room_id.to_string())
    }

    fn fixture(room: &str) -> ApiGatewayWebsocketProxyRequest {
        serde_json::from_str(
            &include_str!("../tests/fixtures/send_message.json").replace("{{ROOM}}", room),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_real_send_message_event_is_acked_on_the_connection() {
        let (chat, mem, room) = setup().await;
        let mut rx = mem.pusher.open(&ConnectionId::parse(CONN).unwrap());
        assert_eq!(handle(&chat, fixture(&room)).await.status_code, 200);
        let ack: Value = serde_json::from_str(&rx.try_recv().unwrap()).unwrap();
        assert_eq!(
            (
                ack["type"].as_str(),
                ack["clientMsgId"].as_str(),
                ack["seq"].as_u64()
            ),
            (Some("ack"), Some("c-1"), Some(1))
        );
        assert_eq!(mem.queue.len(), 1);
    }

    #[tokio::test]
    async fn a_base64_encoded_body_is_decoded() {
        use base64::Engine;
        let (chat, mem, room) = setup().await;
        let mut rx = mem.pusher.open(&ConnectionId::parse(CONN).unwrap());
        let mut event = fixture(&room);
        event.body = event
            .body
            .map(|b| base64::engine::general_purpose::STANDARD.encode(b));
        event.is_base64_encoded = true;
        assert_eq!(handle(&chat, event).await.status_code, 200);
        let ack: Value = serde_json::from_str(&rx.try_recv().unwrap()).unwrap();
        assert_eq!(ack["type"], "ack");
    }

    #[tokio::test]
    async fn an_event_from_an_unknown_connection_gets_an_unauthorized_frame() {
        let (chat, mem, room) = setup().await;
        let mut event = fixture(&room);
        event.request_context.connection_id = Some("UnknownConn0=".into());
        let mut rx = mem
            .pusher
            .open(&ConnectionId::parse("UnknownConn0=").unwrap());
        assert_eq!(handle(&chat, event).await.status_code, 200);
        let err: Value = serde_json::from_str(&rx.try_recv().unwrap()).unwrap();
        assert_eq!(
            (err["type"].as_str(), err["code"].as_str()),
            (Some("error"), Some("unauthorized"))
        );
        assert!(mem.queue.is_empty());
    }

    #[tokio::test]
    async fn with_the_authorizers_identity_a_send_reads_no_connection_record_but_a_ping_does() {
        use chat_core::ports::ConnectionStore;
        let (chat, mem, room) = setup().await;
        let conn = ConnectionId::parse(CONN).unwrap();
        let mut rx = mem.pusher.open(&conn);
        // The record is gone (a 410 cleanup raced the frame, say): the
        // identity API Gateway hands the route is still the verified one.
        mem.connections.delete(&conn).await.unwrap();
        let mut event = fixture(&room);
        event
            .request_context
            .authorizer
            .fields
            .insert(ws::AUTHORIZER_USER_ID.into(), "alice".into());
        assert_eq!(handle(&chat, event.clone()).await.status_code, 200);
        let ack: Value = serde_json::from_str(&rx.try_recv().unwrap()).unwrap();
        assert_eq!(
            (ack["type"].as_str(), ack["seq"].as_u64()),
            (Some("ack"), Some(1))
        );
        // A ping refreshes presence, which lives on the record.
        event.body = Some(r#"{"action":"ping"}"#.into());
        assert_eq!(handle(&chat, event).await.status_code, 200);
        let err: Value = serde_json::from_str(&rx.try_recv().unwrap()).unwrap();
        assert_eq!(err["code"], "unauthorized");
    }

    #[tokio::test]
    async fn an_event_without_a_connection_id_is_a_400() {
        let (chat, _mem, room) = setup().await;
        let mut event = fixture(&room);
        event.request_context.connection_id = None;
        assert_eq!(handle(&chat, event).await.status_code, 400);
    }

    #[tokio::test]
    async fn a_send_records_acceptance_fanout_and_failed_and_gone_pushes() {
        use chat_core::metrics::{capture::Capture, Metric};
        let (chat, mem) = Chat::in_memory(Limits::default());
        // Bob joins with three connections: two whose sockets are gone (the
        // pusher has never seen them: 410) and one that keeps failing.
        let throttled = "BobThrottled=";
        let (room, _sockets) = room_with_bob_on(
            &chat,
            &mem,
            &["BobGoneOne00=", "BobGoneTwo00=", throttled],
            &[throttled],
        )
        .await;
        mem.pusher
            .fail_next_posts(&ConnectionId::parse(throttled).unwrap(), 100);

        // What this test records on its own thread, whatever the others do.
        let cap = Capture::start();
        assert_eq!(handle(&chat, fixture(&room)).await.status_code, 200);

        let m = cap.recorded();
        assert_eq!(cap.sum(Metric::MessagesAccepted), 1.0, "{m:?}");
        // Bob's three connections; alice's sending one is skipped.
        assert_eq!(cap.sum(Metric::FanoutSize), 3.0, "{m:?}");
        assert_eq!(cap.sum(Metric::PushesGone), 2.0, "{m:?}");
        assert!(cap.sum(Metric::PushesFailed) >= 1.0, "{m:?}");
    }

    /// A room of alice and bob, bob on the given connections; returns the
    /// room id. Connections named in `live` get a socket; the others are
    /// gone (410) from the start.
    async fn room_with_bob_on(
        chat: &Chat,
        mem: &chat_core::service::MemoryBackends,
        bob_conns: &[&str],
        live: &[&str],
    ) -> (String, Vec<tokio::sync::mpsc::UnboundedReceiver<String>>) {
        let user = |id: &str| Identity {
            user_id: UserId::parse(id).unwrap(),
            name: None,
        };
        let conn = |id: &str| ConnectionId::parse(id).unwrap();
        chat.connect(conn(CONN), &user("alice")).await.unwrap();
        let mut sockets = vec![mem.pusher.open(&conn(CONN))];
        let req = CreateRoomRequest {
            encrypted: false,
            name: Some("g".into()),
            kind: RoomKind::Group,
            members: vec![UserId::parse("bob").unwrap()],
        };
        let (_, room) = chat.create_room(&user("alice"), req).await.unwrap();
        for c in bob_conns {
            chat.connect(conn(c), &user("bob")).await.unwrap();
        }
        sockets.extend(live.iter().map(|c| mem.pusher.open(&conn(c))));
        (room.room.room_id.to_string(), sockets)
    }

    #[tokio::test]
    async fn failed_and_gone_pushes_are_each_recorded_alone_and_a_clean_send_records_neither() {
        use chat_core::metrics::{capture::Capture, Metric};
        let pushes = |cap: &Capture| {
            cap.recorded()
                .iter()
                .filter(|r| matches!(r.metric, Metric::PushesFailed | Metric::PushesGone))
                .map(|r| (r.metric.name(), r.value))
                .collect::<Vec<_>>()
        };

        // Only a gone connection.
        let (chat, mem) = Chat::in_memory(Limits::default());
        let (room, _sockets) = room_with_bob_on(
            &chat,
            &mem,
            &["BobGoneOne00=", "BobLive0000="],
            &["BobLive0000="],
        )
        .await;
        let cap = Capture::start();
        assert_eq!(handle(&chat, fixture(&room)).await.status_code, 200);
        assert_eq!(
            pushes(&cap),
            vec![("PushesFailed", 0.0), ("PushesGone", 1.0)]
        );
        drop(cap);

        // Only a connection that keeps failing.
        let (chat, mem) = Chat::in_memory(Limits::default());
        let (room, _sockets) =
            room_with_bob_on(&chat, &mem, &["BobThrottled="], &["BobThrottled="]).await;
        mem.pusher
            .fail_next_posts(&ConnectionId::parse("BobThrottled=").unwrap(), 100);
        let cap = Capture::start();
        assert_eq!(handle(&chat, fixture(&room)).await.status_code, 200);
        assert_eq!(
            pushes(&cap),
            vec![("PushesFailed", 1.0), ("PushesGone", 0.0)]
        );
        drop(cap);

        // Every push succeeds: no push metric at all.
        let (chat, mem) = Chat::in_memory(Limits::default());
        let (room, _sockets) =
            room_with_bob_on(&chat, &mem, &["BobLive0000="], &["BobLive0000="]).await;
        let cap = Capture::start();
        assert_eq!(handle(&chat, fixture(&room)).await.status_code, 200);
        assert_eq!(cap.sum(Metric::MessagesAccepted), 1.0);
        assert_eq!(pushes(&cap), vec![]);
    }
}
