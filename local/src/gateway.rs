//! The API Gateway WebSocket twin: accepts WebSocket handshakes, runs the
//! `$connect` authorizer and route, routes frames on `$request.body.action`,
//! invokes `$disconnect` on every close, enforces API Gateway's limits, and
//! serves the `@connections` Management API so the unchanged SDK client works
//! against it with only an endpoint override.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::template::IdentitySource;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chat_core::error::PushError;
use chat_core::ids::{ConnectionId, Millis};
use chat_core::memory::MemoryPusher;
use chat_core::ports::{Clock, Pusher};
use chat_core::protocol::ws::ACTIONS;
use chat_twin::events::{self, WsApi, WsConn};
use futures::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::error::{CapacityError, Error as WsError};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tracing::{debug, info, warn, Instrument};

use crate::functions::{names, Functions, InvokeError};

/// API Gateway's WebSocket limits (configurable so tests can shrink them).
#[derive(Clone, Debug)]
pub struct GatewayLimits {
    /// Largest message (after reassembling frames): 128 KB; beyond it the
    /// connection is closed with 1009.
    pub max_message_bytes: usize,
    /// Largest single frame: 32 KB.
    pub max_frame_bytes: usize,
    /// Closed with 1001 after this long without a frame either way: 10 min.
    pub idle_timeout: Duration,
    /// Closed with 1001 after this long in any case: 2 h.
    pub max_connection: Duration,
}

impl Default for GatewayLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: 128 * 1024,
            max_frame_bytes: 32 * 1024,
            idle_timeout: Duration::from_secs(600),
            max_connection: Duration::from_secs(7200),
        }
    }
}

struct SocketInfo {
    connected_at: Millis,
    last_active: Arc<AtomicI64>,
    source_ip: String,
    user_agent: Option<String>,
    /// Drops the socket without a `$disconnect` (tests of lost events).
    lose: Option<oneshot::Sender<()>>,
    /// Closes the socket from the server side (`DELETE @connections`).
    close: mpsc::UnboundedSender<()>,
}

/// The WebSocket API's routes: what the stack deploys (by default the
/// routes `infra/` creates, or a template's with `--template`).
#[derive(Clone, Debug)]
pub struct WsRoutes {
    /// `<field>` of the route selection expression `$request.body.<field>`.
    pub selection_field: String,
    /// Route key → function.
    pub routes: HashMap<String, String>,
    /// The `$connect` REQUEST authorizer: its function and identity source.
    pub authorizer: Option<(String, Vec<IdentitySource>)>,
    /// What API Gateway invokes functions from (`aws:SourceArn`), checked
    /// against their resource-based policies: `arn:…:{api}/{stage}` for
    /// routes (`/{routeKey}` follows), and the authorizer's ARN.
    pub route_source: Option<String>,
    pub authorizer_source: Option<String>,
}

impl Default for WsRoutes {
    fn default() -> Self {
        let mut routes: HashMap<String, String> = ACTIONS
            .iter()
            .map(|a| ((*a).to_owned(), names::MESSAGE.to_owned()))
            .collect();
        routes.insert("$default".into(), names::MESSAGE.into());
        routes.insert("$connect".into(), names::CONNECT.into());
        routes.insert("$disconnect".into(), names::DISCONNECT.into());
        Self {
            selection_field: "action".into(),
            routes,
            authorizer: Some((names::AUTHORIZER.into(), Vec::new())),
            route_source: None,
            authorizer_source: None,
        }
    }
}

impl WsRoutes {
    fn source(&self, route: &str) -> Option<String> {
        self.route_source.as_ref().map(|p| format!("{p}/{route}"))
    }

    /// The route key of a text frame: the selection field's value when a
    /// route has that key, else `$default`.
    pub fn select(&self, body: &str) -> &str {
        serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v.get(&self.selection_field)?.as_str().map(str::to_owned))
            .and_then(|key| self.routes.get_key_value(&key).map(|(k, _)| k.as_str()))
            .unwrap_or("$default")
    }
}

pub struct Gateway {
    pub api: WsApi,
    pub routes: WsRoutes,
    pub functions: Arc<Functions>,
    pub pusher: Arc<MemoryPusher>,
    pub limits: GatewayLimits,
    pub clock: Arc<dyn Clock>,
    /// The stage's throttling (template mode).
    pub throttle: Option<crate::throttle::Throttle>,
    /// The functions' roles, by the access key id their processes sign
    /// `@connections` calls with (template mode under watch): each call is
    /// checked against `execute-api:ManageConnections` first.
    pub connection_roles: Option<Arc<crate::aws_proxy::Roles>>,
    sockets: Mutex<HashMap<String, SocketInfo>>,
}

/// The authorizer context API Gateway passes to routes (none without an
/// authorizer).
fn context(authorizer: &Value) -> Option<Value> {
    (!authorizer.is_null()).then(|| authorizer.clone())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A connection id in API Gateway's style: 16 characters of base64 (the
/// URL-safe alphabet, so ids need no escaping in `@connections` paths).
fn new_connection_id() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    base64::engine::general_purpose::URL_SAFE.encode(&bytes[..11])
}

fn text_response(status: u16, body: String, content_type: &'static str) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn aws_error(status: u16, error_type: &'static str, message: &str) -> Response {
    let mut r = text_response(
        status,
        json!({ "message": message }).to_string(),
        "application/json",
    );
    r.headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(error_type));
    r
}

impl Gateway {
    pub fn new(
        api: WsApi,
        functions: Arc<Functions>,
        pusher: Arc<MemoryPusher>,
        limits: GatewayLimits,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            api,
            routes: WsRoutes::default(),
            functions,
            pusher,
            limits,
            clock,
            throttle: None,
            connection_roles: None,
            sockets: Mutex::default(),
        }
    }

    /// How many sockets are open.
    pub fn open_sockets(&self) -> usize {
        lock(&self.sockets).len()
    }

    /// Drops a socket the way a dead network does, and never tells
    /// `$disconnect` (API Gateway delivers it best-effort only).
    pub fn lose_connection(&self, connection_id: &str) -> bool {
        let lose = lock(&self.sockets)
            .get_mut(connection_id)
            .and_then(|s| s.lose.take());
        lose.map(|tx| tx.send(()).is_ok()).unwrap_or(false)
    }

    /// Runs the REQUEST authorizer. `Ok` carries the context API Gateway
    /// passes to every route of the connection; `Err` the handshake answer.
    async fn authorize(
        &self,
        conn: &WsConn,
        query: &[(String, String)],
        headers: &[(String, String)],
    ) -> Result<Value, Response> {
        let Some((function, identity)) = &self.routes.authorizer else {
            return Ok(Value::Null);
        };
        // API Gateway answers 401 without invoking the authorizer when an
        // identity source is missing or empty.
        let present = |s: &IdentitySource| match s {
            IdentitySource::Query(q) => query.iter().any(|(k, v)| k == q && !v.is_empty()),
            IdentitySource::Header(h) => headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(h) && !v.is_empty()),
        };
        if !identity.iter().all(present) {
            return Err(text_response(
                401,
                r#"{"message":"Unauthorized"}"#.into(),
                "application/json",
            ));
        }
        let event =
            events::ws_authorizer_request(&self.api, conn, query, headers, self.clock.now());
        match self
            .functions
            .invoke_from(function, self.routes.authorizer_source.as_deref(), event)
            .await
        {
            Ok(resp) => {
                let allowed = resp["policyDocument"]["Statement"]
                    .as_array()
                    .is_some_and(|s| !s.is_empty() && s.iter().all(|st| st["Effect"] == "Allow"));
                if !allowed {
                    return Err(text_response(
                        403,
                        r#"{"message":"Forbidden"}"#.into(),
                        "application/json",
                    ));
                }
                let mut ctx = resp["context"].as_object().cloned().unwrap_or_default();
                ctx.insert("principalId".into(), resp["principalId"].clone());
                Ok(Value::Object(ctx))
            }
            Err(InvokeError::Function { message, .. }) if message == "Unauthorized" => {
                Err(text_response(
                    401,
                    r#"{"message":"Unauthorized"}"#.into(),
                    "application/json",
                ))
            }
            Err(e) => {
                warn!(error = %e, "authorizer failed");
                Err(text_response(
                    500,
                    r#"{"message":"Internal server error"}"#.into(),
                    "application/json",
                ))
            }
        }
    }

    /// Whether the stage's throttling lets a request of `route` through.
    fn admit(&self, route: &str) -> bool {
        self.throttle.as_ref().is_none_or(|t| t.admit(route))
    }

    /// `GET /{stage}` with an upgrade: the WebSocket handshake.
    pub async fn upgrade(self: Arc<Self>, peer: SocketAddr, mut req: Request<Body>) -> Response {
        let is_ws = req
            .headers()
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        let Some(key) = req
            .headers()
            .get("sec-websocket-key")
            .map(|k| k.as_bytes().to_vec())
        else {
            return text_response(426, "WebSocket upgrade required".into(), "text/plain");
        };
        if !is_ws {
            return text_response(426, "WebSocket upgrade required".into(), "text/plain");
        }
        let on_upgrade = hyper::upgrade::on(&mut req);
        let connection_id = new_connection_id();
        let now = self.clock.now();
        let query = events::parse_query(req.uri().query().unwrap_or(""));
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let user_agent = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let conn = WsConn {
            connection_id: connection_id.clone(),
            connected_at: now,
            source_ip: peer.ip().to_string(),
        };
        let span = tracing::info_span!("ws", connection_id = %connection_id);
        if !self.admit("$connect") {
            return text_response(
                429,
                crate::throttle::HTTP_THROTTLED.into(),
                "application/json",
            );
        }

        let authorizer = match self
            .authorize(&conn, &query, &headers)
            .instrument(span.clone())
            .await
        {
            Ok(ctx) => ctx,
            Err(resp) => return resp,
        };
        let Ok(conn_id) = ConnectionId::parse(&connection_id) else {
            return text_response(500, "bad connection id".into(), "text/plain");
        };
        // The sink exists before $connect so nothing pushed meanwhile is lost.
        let outbox = self.pusher.open(&conn_id);
        let event = events::ws_connect(
            &self.api,
            &conn,
            &query,
            &headers,
            context(&authorizer),
            now,
        );
        let answer = match self.routes.routes.get("$connect") {
            Some(function) => {
                self.functions
                    .invoke(
                        function,
                        serde_json::to_value(&event).unwrap_or(Value::Null),
                    )
                    .instrument(span.clone())
                    .await
            }
            // No $connect route: API Gateway accepts the connection.
            None => Ok(json!({ "statusCode": 200 })),
        };
        let status = match &answer {
            Ok(v) => v["statusCode"].as_u64().unwrap_or(500) as u16,
            Err(e) => {
                warn!(parent: &span, error = %e, "$connect failed");
                500
            }
        };
        if !(200..300).contains(&status) {
            self.pusher.drop_connection(&conn_id);
            let body = answer
                .ok()
                .and_then(|v| v["body"].as_str().map(str::to_owned))
                .unwrap_or_default();
            info!(parent: &span, status, "$connect refused the handshake");
            return text_response(status, body, "application/json");
        }

        let (lose_tx, lose_rx) = oneshot::channel();
        let (close_tx, close_rx) = mpsc::unbounded_channel();
        let last_active = Arc::new(AtomicI64::new(now));
        lock(&self.sockets).insert(
            connection_id.clone(),
            SocketInfo {
                connected_at: now,
                last_active: last_active.clone(),
                source_ip: conn.source_ip.clone(),
                user_agent,
                lose: Some(lose_tx),
                close: close_tx,
            },
        );
        let gw = self.clone();
        tokio::spawn(
            async move {
                let upgraded = match on_upgrade.await {
                    Ok(u) => u,
                    Err(e) => {
                        warn!(error = %e, "upgrade failed");
                        gw.finish(&conn, &authorizer, 1006, "upgrade failed").await;
                        return;
                    }
                };
                let config = WebSocketConfig::default()
                    .max_message_size(Some(gw.limits.max_message_bytes))
                    .max_frame_size(Some(gw.limits.max_frame_bytes));
                let ws = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                gw.run(ws, conn, authorizer, outbox, lose_rx, close_rx, last_active)
                    .await;
            }
            .instrument(span),
        );

        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = resp.headers_mut();
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        if let Ok(v) = HeaderValue::from_str(&derive_accept_key(&key)) {
            h.insert("sec-websocket-accept", v);
        }
        resp
    }

    #[allow(clippy::too_many_arguments)]
    async fn run(
        &self,
        ws: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>,
        conn: WsConn,
        authorizer: Value,
        mut outbox: mpsc::UnboundedReceiver<String>,
        mut lose: oneshot::Receiver<()>,
        mut close: mpsc::UnboundedReceiver<()>,
        last_active: Arc<AtomicI64>,
    ) {
        let (mut sink, mut stream) = ws.split();
        let idle = tokio::time::sleep(self.limits.idle_timeout);
        let max = tokio::time::sleep(self.limits.max_connection);
        tokio::pin!(idle, max);
        let touch = |idle: &mut std::pin::Pin<&mut tokio::time::Sleep>| {
            last_active.store(self.clock.now(), Ordering::Relaxed);
            idle.as_mut()
                .reset(tokio::time::Instant::now() + self.limits.idle_timeout);
        };
        let close_with = |code: CloseCode, reason: &'static str| {
            Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            }))
        };

        let (code, reason): (u16, String) = loop {
            tokio::select! {
                incoming = stream.next() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        touch(&mut idle);
                        let text = text.as_str();
                        let route = self.routes.select(text).to_owned();
                        let route = route.as_str();
                        let ev = events::ws_message(&self.api, &conn, route, text, context(&authorizer), self.clock.now());
                        self.invoke_route(route, ev).await;
                    }
                    Some(Ok(Message::Binary(data))) => {
                        touch(&mut idle);
                        let mut ev = events::ws_message(&self.api, &conn, "$default", "", context(&authorizer), self.clock.now());
                        ev.body = Some(base64::engine::general_purpose::STANDARD.encode(&data));
                        ev.is_base64_encoded = true;
                        self.invoke_route("$default", ev).await;
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let code = frame.as_ref().map_or(1005, |f| u16::from(f.code));
                        let reason = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                        let _ = sink.send(Message::Close(None)).await;
                        break (code, reason);
                    }
                    Some(Ok(_)) => touch(&mut idle),
                    Some(Err(WsError::Capacity(CapacityError::MessageTooLong { .. }))) => {
                        let _ = sink.send(close_with(CloseCode::Size, "Message too big")).await;
                        break (1009, "Message too big".into());
                    }
                    Some(Err(e)) => {
                        debug!(error = %e, "socket error");
                        break (1006, "Connection lost".into());
                    }
                    None => break (1006, "Connection lost".into()),
                },
                frame = outbox.recv() => match frame {
                    Some(text) => {
                        touch(&mut idle);
                        if sink.send(Message::Text(text.into())).await.is_err() {
                            break (1006, "Connection lost".into());
                        }
                    }
                    None => {
                        let _ = sink.send(close_with(CloseCode::Normal, "Connection closed by server")).await;
                        break (1000, "Connection closed by server".into());
                    }
                },
                Some(()) = close.recv() => {
                    let _ = sink.send(close_with(CloseCode::Normal, "Connection deleted")).await;
                    break (1000, "Connection deleted".into());
                }
                _ = &mut idle => {
                    let _ = sink.send(close_with(CloseCode::Away, "Going away")).await;
                    break (1001, "Going away".into());
                }
                _ = &mut max => {
                    let _ = sink.send(close_with(CloseCode::Away, "Going away")).await;
                    break (1001, "Going away".into());
                }
                _ = &mut lose => {
                    // The network died and API Gateway never said a word.
                    if let Ok(id) = ConnectionId::parse(&conn.connection_id) {
                        self.pusher.drop_connection(&id);
                    }
                    lock(&self.sockets).remove(&conn.connection_id);
                    return;
                }
            }
        };
        let _ = sink.close().await;
        self.finish(&conn, &authorizer, code, &reason).await;
    }

    async fn invoke_route(
        &self,
        route: &str,
        ev: aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest,
    ) {
        if !self.admit(route) {
            // The integration never runs; the client is told, and its
            // connection stays open.
            let id = ev.request_context.connection_id.clone().unwrap_or_default();
            if let Ok(conn) = ConnectionId::parse(&id) {
                let frame = crate::throttle::ws_throttled_frame(
                    &id,
                    ev.request_context.request_id.as_deref(),
                );
                let _ = self.pusher.post(&conn, frame.to_string().as_bytes()).await;
            }
            return;
        }
        let Some(function) = self.routes.routes.get(route) else {
            // No such route and no $default: API Gateway answers the client.
            let id = ev.request_context.connection_id.clone().unwrap_or_default();
            debug!(route, "no route for the frame");
            if let Ok(conn) = ConnectionId::parse(&id) {
                let frame = json!({"message": "Forbidden", "connectionId": id, "requestId": ev.request_context.request_id});
                let _ = self.pusher.post(&conn, frame.to_string().as_bytes()).await;
            }
            return;
        };
        let payload = serde_json::to_value(&ev).unwrap_or(Value::Null);
        let source = self.routes.source(route);
        if let Err(e) = self
            .functions
            .invoke_from(function, source.as_deref(), payload)
            .await
        {
            // API Gateway answers the client nothing here either: the
            // integration failed, the route has no response.
            warn!(route, error = %e, "route failed");
        }
    }

    /// Forgets the socket and invokes `$disconnect`: on every close, clean or not.
    async fn finish(&self, conn: &WsConn, _authorizer: &Value, code: u16, reason: &str) {
        if let Ok(id) = ConnectionId::parse(&conn.connection_id) {
            self.pusher.drop_connection(&id);
        }
        lock(&self.sockets).remove(&conn.connection_id);
        let ev = events::ws_disconnect(&self.api, conn, code, reason, self.clock.now());
        if let Some(function) = self.routes.routes.get("$disconnect") {
            if let Err(e) = self
                .functions
                .invoke_from(
                    function,
                    self.routes.source("$disconnect").as_deref(),
                    serde_json::to_value(&ev).unwrap_or(Value::Null),
                )
                .await
            {
                warn!(error = %e, "$disconnect failed");
            }
        }
        debug!(code, reason, "closed");
    }

    // ----- @connections (API Gateway Management API) -----

    /// `POST /{stage}/@connections/{id}`: the body goes to the client as is.
    pub async fn post_to_connection(&self, id: &str, body: Bytes) -> Response {
        if body.len() > self.limits.max_message_bytes {
            return aws_error(413, "PayloadTooLargeException", "Message too long");
        }
        let Ok(conn) = ConnectionId::parse(id) else {
            return aws_error(410, "GoneException", "Gone");
        };
        if !lock(&self.sockets).contains_key(id) {
            return aws_error(410, "GoneException", "Gone");
        }
        match self.pusher.post(&conn, &body).await {
            Ok(()) => text_response(200, String::new(), "application/json"),
            Err(PushError::Gone) => aws_error(410, "GoneException", "Gone"),
            Err(PushError::Transient(_)) => {
                aws_error(429, "LimitExceededException", "Rate exceeded")
            }
        }
    }

    /// `GET /{stage}/@connections/{id}`.
    pub fn get_connection(&self, id: &str) -> Response {
        let g = lock(&self.sockets);
        let Some(s) = g.get(id) else {
            return aws_error(410, "GoneException", "Gone");
        };
        let mut identity = json!({ "sourceIp": s.source_ip });
        if let Some(ua) = &s.user_agent {
            identity["userAgent"] = json!(ua);
        }
        let body = json!({
            "connectedAt": events::iso8601(s.connected_at),
            "identity": identity,
            "lastActiveAt": events::iso8601(s.last_active.load(Ordering::Relaxed)),
        });
        text_response(200, body.to_string(), "application/json")
    }

    /// `DELETE /{stage}/@connections/{id}`: closes the socket; `$disconnect` follows.
    pub fn delete_connection(&self, id: &str) -> Response {
        let g = lock(&self.sockets);
        match g.get(id) {
            Some(s) if s.close.send(()).is_ok() => {
                let mut r = Response::new(Body::empty());
                *r.status_mut() = StatusCode::NO_CONTENT;
                r
            }
            _ => aws_error(410, "GoneException", "Gone"),
        }
    }
}

/// Routes `…/@connections/{id}` requests; `None` when the path is not one.
pub async fn management(
    gw: &Gateway,
    method: &http::Method,
    path: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Option<Response> {
    let stage_prefix = format!("/{}/@connections/", gw.api.stage);
    let id = path
        .strip_prefix(&stage_prefix)
        .or_else(|| path.strip_prefix("/@connections/"))?;
    let id = id.trim_end_matches('/').to_owned();
    // SDKs percent-encode the id's `=` padding in the path.
    let id = id.replace("%3D", "=").replace("%3d", "=");
    // A function process's call: its role must allow it, as API Gateway's
    // IAM authorization does (the signature itself is not verified).
    if let Some((guard, _)) = gw.connection_roles.as_ref().and_then(|r| r.of(headers)) {
        if let Err(e) = guard.push(method.as_str(), &id) {
            // API Gateway's ACCESS_DENIED answer: 403, `{"Message": …}`.
            let message = format!(
                "User: {} is not authorized to perform: {} on resource: {}",
                e.role_session, e.action, e.resource
            );
            let mut r = text_response(
                403,
                json!({ "Message": message }).to_string(),
                "application/json",
            );
            r.headers_mut().insert(
                "x-amzn-errortype",
                HeaderValue::from_static("AccessDeniedException"),
            );
            return Some(r);
        }
    }
    Some(match *method {
        http::Method::POST => gw.post_to_connection(&id, body).await,
        http::Method::GET => gw.get_connection(&id),
        http::Method::DELETE => gw.delete_connection(&id),
        _ => aws_error(405, "MethodNotAllowedException", "Method not allowed"),
    })
}

impl IntoResponse for InvokeError {
    fn into_response(self) -> Response {
        text_response(
            502,
            json!({ "message": self.to_string() }).to_string(),
            "application/json",
        )
    }
}
