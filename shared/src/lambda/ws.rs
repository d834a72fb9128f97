//! API Gateway WebSocket events (`ApiGatewayWebsocketProxyRequest`).

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use base64::Engine;

use crate::auth::bearer;
use crate::error::ChatError;
use crate::ids::ConnectionId;
use crate::protocol::rest::{ErrorBody, ErrorDetail};

/// The connection the event is about.
pub fn connection_id(event: &ApiGatewayWebsocketProxyRequest) -> Result<ConnectionId, ChatError> {
    let raw = event
        .request_context
        .connection_id
        .as_deref()
        .ok_or_else(|| ChatError::BadRequest("event has no requestContext.connectionId".into()))?;
    ConnectionId::parse(raw)
}

/// The bearer token of a `$connect`: `?token=` (browsers cannot set headers on
/// a WebSocket) or `Authorization: Bearer`.
pub fn connect_token(event: &ApiGatewayWebsocketProxyRequest) -> Option<String> {
    if let Some(t) = event
        .query_string_parameters
        .first("token")
        .filter(|t| !t.is_empty())
    {
        return Some(t.to_owned());
    }
    let header = event
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    bearer(header).map(str::to_owned)
}

/// The frame text of a message event (API Gateway may base64 it).
pub fn body_text(event: &ApiGatewayWebsocketProxyRequest) -> Result<String, ChatError> {
    let raw = event.body.clone().unwrap_or_default();
    if !event.is_base64_encoded {
        return Ok(raw);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(raw.as_bytes())
        .map_err(|_| ChatError::BadRequest("body is not valid base64".into()))?;
    String::from_utf8(bytes).map_err(|_| ChatError::BadRequest("frames must be UTF-8 text".into()))
}

/// A route response: 2xx accepts (on `$connect`, completes the handshake),
/// anything else refuses with that status.
pub fn response(status: u16, body: Option<String>) -> ApiGatewayProxyResponse {
    let mut r = ApiGatewayProxyResponse::default();
    r.status_code = i64::from(status);
    r.body = body.map(Body::Text);
    r
}

pub fn ok() -> ApiGatewayProxyResponse {
    response(200, None)
}

/// The response for a failed route: its status, and the REST error body.
pub fn error_response(e: &ChatError) -> ApiGatewayProxyResponse {
    let body = ErrorBody {
        error: ErrorDetail {
            code: e.code(),
            message: e.public_message(),
        },
    };
    response(e.http_status(), serde_json::to_string(&body).ok())
}
