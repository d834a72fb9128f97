//! HTTP API (payload v2) requests through `lambda_http`: routing, identity,
//! JSON bodies, and the one mapping of errors to responses.

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use chat_core::auth::{bearer, Identity, TokenVerifier};
use chat_core::error::ChatError;
use chat_core::ids::{RoomId, UserId};
use chat_core::protocol::decode;
use chat_core::protocol::rest::{ErrorBody, ErrorDetail};
use chat_core::Chat;

/// Largest JSON request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

/// Every REST route of the platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    History(RoomId),
    CreateRoom,
    ListRooms,
    GetRoom(RoomId),
    AddMember(RoomId),
    RemoveMember(RoomId, UserId),
    ListChannels,
    GetMe,
    UpdateMe,
    GetUser(UserId),
}

impl Route {
    /// Matches a method and path. A leading stage segment (`/prod/rooms`) is
    /// ignored, so the same code serves `$default` and named stages.
    pub fn parse(method: &http::Method, path: &str) -> Result<Route, ChatError> {
        let mut segs: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        if segs.len() > 1 && !matches!(segs[0], "rooms" | "users" | "channels") {
            segs.remove(0);
        }
        use http::Method as M;
        let route = match (method, segs.as_slice()) {
            (&M::GET, ["rooms", id, "messages"]) => Route::History(RoomId::parse(id)?),
            (&M::POST, ["rooms"]) => Route::CreateRoom,
            (&M::GET, ["rooms"]) => Route::ListRooms,
            (&M::GET, ["rooms", id]) => Route::GetRoom(RoomId::parse(id)?),
            (&M::POST, ["rooms", id, "members"]) => Route::AddMember(RoomId::parse(id)?),
            (&M::DELETE, ["rooms", id, "members", user]) => {
                Route::RemoveMember(RoomId::parse(id)?, UserId::parse(user)?)
            }
            (&M::GET, ["channels"]) => Route::ListChannels,
            (&M::GET, ["users", "me"]) => Route::GetMe,
            (&M::PATCH, ["users", "me"]) => Route::UpdateMe,
            (&M::GET, ["users", id]) => Route::GetUser(UserId::parse(id)?),
            _ => return Err(ChatError::NotFound("route")),
        };
        Ok(route)
    }

    pub fn of(req: &Request) -> Result<Route, ChatError> {
        Route::parse(req.method(), req.uri().path())
    }
}

/// The caller of a REST request. Behind the HTTP API's JWT authorizer,
/// API Gateway has verified the token and passes its claims in the request
/// context (which a client cannot forge); otherwise (the local platform)
/// the bearer token is verified here, with the same verifier as `$connect`.
pub async fn identity(req: &Request, verifier: &dyn TokenVerifier) -> Result<Identity, ChatError> {
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() {
        if let Some(claims) = ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|j| &j.claims)
        {
            if let Some(sub) = claims.get("sub") {
                let user_id = UserId::parse(sub).map_err(|_| ChatError::Unauthorized)?;
                tracing::Span::current().record("user_id", tracing::field::display(&user_id));
                return Ok(Identity {
                    user_id,
                    name: claims.get("name").cloned(),
                });
            }
        }
    }
    let header = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .ok_or(ChatError::Unauthorized)?;
    let token = bearer(header).ok_or(ChatError::Unauthorized)?;
    let identity = verifier.verify(token).await.map_err(|e| {
        tracing::info!(reason = %e, "rejected REST token");
        ChatError::Unauthorized
    })?;
    tracing::Span::current().record("user_id", tracing::field::display(&identity.user_id));
    Ok(identity)
}

/// The caller of a REST request ([`identity`]), within their REST rate limit:
/// what every REST handler starts with. A limited call is refused with 429
/// and `Retry-After` before the handler does anything.
pub async fn authenticated(
    req: &Request,
    chat: &Chat,
    verifier: &dyn TokenVerifier,
) -> Result<Identity, ChatError> {
    let me = identity(req, verifier).await?;
    chat.limit_rest(&me.user_id).await?;
    Ok(me)
}

/// The API Gateway request id, for log correlation.
pub fn request_id(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone().unwrap_or_default(),
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.request_id.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

/// Runs a REST handler body inside a span with the request's id, method and
/// path, and maps its error once.
pub async fn serve<F>(req: &Request, f: F) -> Response<Body>
where
    F: std::future::Future<Output = Result<Response<Body>, ChatError>>,
{
    use tracing::Instrument;
    let span = tracing::info_span!(
        "http",
        request_id = %request_id(req),
        method = %req.method(),
        path = %req.uri().path(),
        user_id = tracing::field::Empty,
    );
    respond(f.instrument(span).await)
}

/// The first value of a query string parameter.
pub fn query<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name))
}

/// Decodes a JSON body, refusing oversize and malformed ones.
pub fn read_json<T: DeserializeOwned>(req: &Request) -> Result<T, ChatError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY {
        return Err(ChatError::TooLarge(format!(
            "request body is larger than {MAX_BODY} bytes"
        )));
    }
    if bytes.is_empty() {
        return Err(ChatError::BadRequest(
            "request body must be a JSON object".into(),
        ));
    }
    decode::from_slice(bytes).map_err(|e| {
        let mut msg = format!("invalid request body: {}", e.public_message());
        if let Some((cut, _)) = msg.char_indices().nth(decode::MAX_MESSAGE_CHARS) {
            msg.truncate(cut);
        }
        ChatError::BadRequest(msg)
    })
}

/// A JSON response.
pub fn json<T: Serialize>(status: u16, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => build(status, Body::Binary(bytes)),
        Err(e) => error(&ChatError::Internal(e.to_string())),
    }
}

/// An empty response (204).
pub fn no_content() -> Response<Body> {
    build(204, Body::Empty)
}

/// The one mapping of a [`ChatError`] to an HTTP response. Internal errors
/// are logged with their chain here and answered opaquely.
pub fn error(e: &ChatError) -> Response<Body> {
    if e.is_internal() {
        tracing::error!(error = %chat_core::error::chain(e), "request failed");
    } else {
        tracing::info!(code = ?e.code(), message = %e, "request refused");
    }
    let body = ErrorBody {
        error: ErrorDetail {
            code: e.code(),
            message: e.public_message(),
        },
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut resp = build(e.http_status(), Body::Binary(bytes));
    if let Some(ms) = e.retry_after_ms() {
        // Whole seconds, rounded up, at least one (RFC 9110 delay-seconds).
        let secs = ms.div_ceil(1000).max(1);
        resp.headers_mut()
            .insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
    }
    resp
}

/// Turns a handler result into a response.
pub fn respond(result: Result<Response<Body>, ChatError>) -> Response<Body> {
    result.unwrap_or_else(|e| error(&e))
}

fn build(status: u16, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    if status != 204 {
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn routes_match_with_or_without_a_stage_prefix() {
        let r = RoomId::parse("r_1").unwrap();
        assert_eq!(
            Route::parse(&Method::GET, "/rooms/r_1/messages").unwrap(),
            Route::History(r.clone())
        );
        assert_eq!(
            Route::parse(&Method::GET, "/prod/rooms/r_1/messages").unwrap(),
            Route::History(r.clone())
        );
        assert_eq!(
            Route::parse(&Method::GET, "/users/me").unwrap(),
            Route::GetMe
        );
        assert_eq!(
            Route::parse(&Method::PATCH, "/users/me/").unwrap(),
            Route::UpdateMe
        );
        assert_eq!(
            Route::parse(&Method::DELETE, "/rooms/r_1/members/bob").unwrap(),
            Route::RemoveMember(r, UserId::parse("bob").unwrap())
        );
        assert_eq!(
            Route::parse(&Method::PUT, "/rooms")
                .unwrap_err()
                .http_status(),
            404
        );
        assert_eq!(
            Route::parse(&Method::GET, "/rooms/..%2F/messages")
                .unwrap_err()
                .http_status(),
            400
        );
    }
}
