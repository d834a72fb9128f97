//! `$connect`: verifies the caller's token and binds the identity it names to
//! the new connection. A non-2xx answer makes API Gateway refuse the handshake.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use chat_core::auth::TokenVerifier;
use chat_core::{Chat, ChatError};
use chat_lambda::ws;
use tracing::Instrument;

/// This function as deployed: the ports it links beyond the stores, which
/// `deploy/functions.json` must grant (checked at cold start and by tests).
pub const FUNCTION: chat_adapters::wiring::Function = chat_adapters::wiring::Function {
    name: "chat-connect",
    ports: &[chat_adapters::wiring::QUEUE, chat_adapters::wiring::PUSHER],
};

pub async fn handle(
    chat: &Chat,
    verifier: &dyn TokenVerifier,
    event: ApiGatewayWebsocketProxyRequest,
) -> ApiGatewayProxyResponse {
    let span = tracing::info_span!(
        "connect",
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
        user_id = tracing::field::Empty,
    );
    async {
        match connect(chat, verifier, &event).await {
            Ok(()) => ws::ok(),
            Err(e) => {
                if e.is_internal() {
                    tracing::error!(error = %chat_core::error::chain(&e), "connect failed");
                } else {
                    tracing::info!(code = ?e.code(), "connect refused");
                }
                ws::error_response(&e)
            }
        }
    }
    .instrument(span)
    .await
}

async fn connect(
    chat: &Chat,
    verifier: &dyn TokenVerifier,
    event: &ApiGatewayWebsocketProxyRequest,
) -> Result<(), ChatError> {
    let connection_id = ws::connection_id(event)?;
    let identity = match ws::authorizer_identity(event)? {
        // In AWS the REQUEST authorizer verified the token before this ran.
        Some(identity) => identity,
        None => {
            // The token itself is never logged: only whether and why it failed.
            let token = ws::connect_token(event).ok_or(ChatError::Unauthorized)?;
            verifier.verify(&token).await.map_err(|e| {
                tracing::info!(reason = %e, "rejected token");
                ChatError::Unauthorized
            })?
        }
    };
    tracing::Span::current().record("user_id", tracing::field::display(&identity.user_id));
    chat.connect(connection_id, &identity).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
    use chat_core::auth::Hs256Verifier;
    use chat_core::config::Limits;
    use chat_core::ids::{ConnectionId, UserId};
    use chat_twin::token_for;

    const SECRET: &[u8] = b"connect-test-secret-0123456789";

    fn fixture(token: &str) -> ApiGatewayWebsocketProxyRequest {
        serde_json::from_str(
            &include_str!("../tests/fixtures/connect.json").replace("{{TOKEN}}", token),
        )
        .unwrap()
    }

    fn token(user: &str) -> String {
        token_for(SECRET, &UserId::parse(user).unwrap(), 60)
    }

    #[tokio::test]
    async fn a_real_connect_event_binds_the_tokens_user_to_the_connection() {
        let (chat, mem) = Chat::in_memory(Limits::default());
        let verifier = Hs256Verifier::new(SECRET, None, None);
        let resp = handle(&chat, &verifier, fixture(&token("alice"))).await;
        assert_eq!(resp.status_code, 200);
        let conn = ConnectionId::parse("LBZwbdKIoAMCLxA=").unwrap();
        let rec = chat.connections.get(&conn).await.unwrap().unwrap();
        assert_eq!(rec.user_id.as_str(), "alice");
        assert_eq!(mem.connections.len(), 1);
    }

    #[tokio::test]
    async fn a_real_connect_event_with_a_bad_token_is_refused_with_401() {
        let (chat, mem) = Chat::in_memory(Limits::default());
        let verifier = Hs256Verifier::new(SECRET, None, None);
        let resp = handle(
            &chat,
            &verifier,
            fixture("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."),
        )
        .await;
        assert_eq!(resp.status_code, 401);
        let body = serde_json::to_value(&resp).unwrap();
        assert_eq!(
            body["body"],
            r#"{"error":{"code":"unauthorized","message":"authentication required"}}"#
        );
        assert!(mem.connections.is_empty());
    }

    #[tokio::test]
    async fn the_authorizer_context_is_trusted_when_present() {
        let (chat, _mem) = Chat::in_memory(Limits::default());
        let verifier = Hs256Verifier::new(SECRET, None, None);
        let mut event = fixture("");
        event.query_string_parameters = Default::default();
        event
            .request_context
            .authorizer
            .fields
            .insert("userId".into(), serde_json::json!("bob"));
        event
            .request_context
            .authorizer
            .fields
            .insert("principalId".into(), serde_json::json!("bob"));
        assert_eq!(handle(&chat, &verifier, event).await.status_code, 200);
        let rec = chat
            .connections
            .get(&ConnectionId::parse("LBZwbdKIoAMCLxA=").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rec.user_id.as_str(), "bob");
    }
}
