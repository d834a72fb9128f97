//! `$disconnect`: forgets the connection and announces the user offline when
//! it was their last. API Gateway delivers this event best-effort only, which
//! is why presence also expires by TTL.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use chat_core::Chat;
use chat_lambda::ws;
use tracing::Instrument;

/// This function as deployed: the ports it links beyond the stores, which
/// `deploy/functions.json` must grant (checked at cold start and by tests).
pub const FUNCTION: chat_adapters::wiring::Function = chat_adapters::wiring::Function {
    name: "chat-disconnect",
    ports: &[chat_adapters::wiring::QUEUE, chat_adapters::wiring::PUSHER],
};

pub async fn handle(
    chat: &Chat,
    event: ApiGatewayWebsocketProxyRequest,
) -> ApiGatewayProxyResponse {
    let span = tracing::info_span!(
        "disconnect",
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
        status_code = event
            .request_context
            .disconnect_status_code
            .unwrap_or_default(),
    );
    async {
        let result = match ws::connection_id(&event) {
            Ok(conn) => chat.disconnect(&conn).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => ws::ok(),
            Err(e) => {
                tracing::error!(error = %chat_core::error::chain(&e), "disconnect failed");
                ws::error_response(&e)
            }
        }
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::auth::Identity;
    use chat_core::config::Limits;
    use chat_core::ids::{ConnectionId, UserId};

    #[tokio::test]
    async fn a_real_disconnect_event_forgets_the_connection() {
        let (chat, mem) = Chat::in_memory(Limits::default());
        let conn = ConnectionId::parse("LBZwbdKIoAMCLxA=").unwrap();
        let alice = Identity {
            user_id: UserId::parse("alice").unwrap(),
            name: None,
        };
        chat.connect(conn.clone(), &alice).await.unwrap();
        let event =
            serde_json::from_str(include_str!("../tests/fixtures/disconnect.json")).unwrap();
        assert_eq!(handle(&chat, event).await.status_code, 200);
        assert!(mem.connections.is_empty());
        // API Gateway may deliver $disconnect twice; the second is harmless.
        let event =
            serde_json::from_str(include_str!("../tests/fixtures/disconnect.json")).unwrap();
        assert_eq!(handle(&chat, event).await.status_code, 200);
    }
}
