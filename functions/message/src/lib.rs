//! Every message route (`sendMessage`, `markRead`, `typing`, `sync`, `ping`)
//! and `$default`. The caller is the user bound to the connection at
//! `$connect`; replies and errors go back to the connection as frames, so the
//! route answers 200 whenever the event itself was well formed.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use chat_shared::lambda::ws;
use chat_shared::Chat;
use tracing::Instrument;

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
        if let Err(e) = chat.handle_text(&connection_id, &text).await {
            if e.is_internal() {
                tracing::error!(error = %chat_shared::error::chain(&e), "action failed");
            } else {
                tracing::info!(code = ?e.code(), message = %e, "action refused");
            }
        }
        ws::ok()
    }
    .instrument(span)
    .await
}
