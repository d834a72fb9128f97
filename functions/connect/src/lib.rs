//! `$connect`: verifies the caller's token and binds the identity it names to
//! the new connection. A non-2xx answer makes API Gateway refuse the handshake.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use chat_shared::auth::TokenVerifier;
use chat_shared::lambda::ws;
use chat_shared::{Chat, ChatError};
use tracing::Instrument;

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
                    tracing::error!(error = %chat_shared::error::chain(&e), "connect failed");
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
