//! API Gateway WebSocket events (`ApiGatewayWebsocketProxyRequest`).

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use base64::Engine;

use chat_core::auth::{bearer, Identity};
use chat_core::error::ChatError;
use chat_core::ids::{ConnectionId, UserId};
use chat_core::protocol::rest::{ErrorBody, ErrorDetail};

/// The authorizer context key holding the verified user id.
pub const AUTHORIZER_USER_ID: &str = "userId";
/// The authorizer context key holding the token's `name` claim, if any.
pub const AUTHORIZER_NAME: &str = "name";

/// The identity the `$connect` authorizer verified, from the request context
/// API Gateway fills in (a client cannot set it). `None` when no authorizer ran.
pub fn authorizer_identity(
    event: &ApiGatewayWebsocketProxyRequest,
) -> Result<Option<Identity>, ChatError> {
    let fields = &event.request_context.authorizer.fields;
    let Some(user) = fields.get(AUTHORIZER_USER_ID) else {
        return Ok(None);
    };
    let user_id = user
        .as_str()
        .map(UserId::parse)
        .transpose()?
        .ok_or(ChatError::Unauthorized)?;
    let name = fields
        .get(AUTHORIZER_NAME)
        .and_then(|n| n.as_str())
        .map(str::to_owned);
    Ok(Some(Identity { user_id, name }))
}

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
