//! # chat-local
//!
//! The whole chat platform on one machine, with no AWS account and no Docker:
//!
//! - an **API Gateway WebSocket twin** ([`gateway`]) that runs the `$connect`
//!   authorizer and route, routes frames on `$request.body.action`, invokes
//!   `$disconnect` on every close, enforces API Gateway's limits and serves the
//!   `@connections` Management API;
//! - an **SQS event-source twin** ([`queue`]) feeding the persistence function
//!   batches, with partial batch failures, visibility timeout and a DLQ;
//! - the **REST API**, each request turned into the HTTP API payload-2.0 event
//!   the Lambda would get;
//! - the **web app** at `/`, and development endpoints under `/dev/`.
//!
//! Every function is the same handler code the Lambdas run, invoked with the
//! JSON event AWS would send, in-process or through `cargo lambda watch`
//! ([`functions`]). Data lives in memory.
//!
//! Why a crate of its own: it is the only binary that links every function
//! and a web server; keeping it out of `core/` and `functions/` keeps the
//! Lambda binaries small.

pub mod faults;
pub mod functions;
pub mod gateway;
pub mod queue;
pub mod sqs_source;

use axum::serve::ListenerExt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chat_core::auth::{Hs256Verifier, TokenVerifier};
use chat_core::config::{AwsConfig, Limits};
use chat_core::ids::UserId;
use chat_core::ports::{Clock, SystemClock};
use chat_core::service::MemoryBackends;
use chat_core::Chat;
use chat_twin::events::{self, WsApi};
use chat_twin::{mint_hs256, MintOptions};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use crate::faults::Faults;
use crate::functions::{names, Functions};
use crate::gateway::{Gateway, GatewayLimits};
use crate::queue::{QueueConfig, QueueDepth, QueueTwin};
use crate::sqs_source::SqsEventSource;
use chat_twin::FaultLab;

/// The development secret local tokens are signed with, unless configured.
pub const DEFAULT_SECRET: &str = "chat-local-development-secret";

/// Largest REST request body accepted (API Gateway's HTTP API allows 10 MB;
/// the handlers refuse anything over 64 KB with a clear error).
const MAX_REST_BODY: usize = 1024 * 1024;

/// Which adapters back the platform.
#[derive(Clone, Debug)]
pub enum Backend {
    /// Everything in this process's memory (the default).
    Memory,
    /// The real adapters: DynamoDB, SQS, the Redis cache (when configured),
    /// and the Management API client pushing to this twin's `@connections`,
    /// typically against emulators (`AWS_ENDPOINT_URL`).
    Aws(AwsBackend),
}

#[derive(Clone, Debug)]
pub struct AwsBackend {
    /// Table, queue, Redis and endpoint settings (`ws_endpoint` is ignored:
    /// pushes go to this twin).
    pub config: AwsConfig,
    /// Create the table and the queue with its DLQ first (for emulators).
    pub create_resources: bool,
}

#[derive(Clone)]
pub struct Options {
    pub backend: Backend,
    pub host: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    pub stage: String,
    pub secret: String,
    pub limits: Limits,
    pub gateway: GatewayLimits,
    pub queue: QueueConfig,
    /// Invoke the functions through `cargo lambda watch` at this URL instead
    /// of in-process.
    pub lambda_endpoint: Option<String>,
    pub clock: Arc<dyn Clock>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            backend: Backend::Memory,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8080,
            stage: "local".into(),
            secret: DEFAULT_SECRET.into(),
            limits: Limits::default(),
            gateway: GatewayLimits::default(),
            queue: QueueConfig::default(),
            lambda_endpoint: None,
            clock: Arc::new(SystemClock),
        }
    }
}

/// The event source feeding the persistence function.
pub enum Queue {
    Memory(Arc<QueueTwin>),
    Sqs(Arc<SqsEventSource>),
}

impl Queue {
    pub async fn depth(&self) -> QueueDepth {
        match self {
            Queue::Memory(q) => q.depth(),
            Queue::Sqs(q) => q.depth().await,
        }
    }

    pub async fn dead_letters(&self) -> Vec<Value> {
        match self {
            Queue::Memory(q) => q.dead_letters(),
            Queue::Sqs(q) => q.dead_letters().await,
        }
    }
}

struct App {
    gateway: Arc<Gateway>,
    queue: Arc<Queue>,
    faults: Arc<Faults>,
    functions: Arc<Functions>,
    secret: String,
    stage: String,
    addr: SocketAddr,
    clock: Arc<dyn Clock>,
}

/// A running platform.
pub struct Running {
    pub addr: SocketAddr,
    pub chat: Chat,
    /// The in-memory adapters; with the `aws` backend only the pusher (the
    /// sockets of this twin) is used.
    pub mem: MemoryBackends,
    /// The fault lab in front of the ports (both backends; see [`faults`]).
    pub faults: Arc<Faults>,
    pub gateway: Arc<Gateway>,
    pub queue: Arc<Queue>,
    secret: String,
    stage: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
    worker: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/{}", self.addr, self.stage)
    }

    /// The endpoint to give an API Gateway Management API client.
    pub fn connections_endpoint(&self) -> String {
        format!("http://{}/{}", self.addr, self.stage)
    }

    /// A development token for `user`, valid for a day.
    pub fn token(&self, user: &str) -> String {
        mint_token(&self.secret, user, None, 86_400).unwrap_or_default()
    }

    /// Stops serving and the queue worker.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.worker.abort();
        let _ = (&mut self.server).await;
    }

    /// Waits until the server stops (Ctrl-C in the binary).
    pub async fn wait(self) {
        let _ = self.server.await;
    }
}

/// Signs a development token; `None` for an invalid user id.
pub fn mint_token(secret: &str, user: &str, name: Option<&str>, ttl_secs: i64) -> Option<String> {
    let user = UserId::parse(user).ok()?;
    Some(mint_hs256(
        secret.as_bytes(),
        &user,
        SystemClock.now(),
        ttl_secs,
        MintOptions {
            name,
            ..Default::default()
        },
    ))
}

fn other(e: impl std::error::Error + 'static) -> std::io::Error {
    std::io::Error::other(chat_core::error::chain(&e))
}

fn is_loopback_url(url: &str) -> bool {
    let host = url.split("://").nth(1).unwrap_or(url);
    ["127.", "localhost", "[::1]"]
        .iter()
        .any(|p| host.starts_with(p))
}

/// Starts the platform and returns once it listens.
pub async fn start(opts: Options) -> std::io::Result<Running> {
    let verifier: Arc<dyn TokenVerifier> =
        Arc::new(Hs256Verifier::new(opts.secret.as_bytes(), None, None));
    let listener = tokio::net::TcpListener::bind((opts.host, opts.port)).await?;
    let addr = listener.local_addr()?;
    let mem = MemoryBackends::default();
    let lab = FaultLab::new();
    let (mut chat, sqs) = match &opts.backend {
        Backend::Memory => (mem.chat(opts.limits.clone(), opts.clock.clone()), None),
        Backend::Aws(aws) => {
            let mut config = aws.config.clone();
            // An emulator on this machine gets dummy credentials; anything
            // else the default credential chain.
            let sdk = match config.endpoint_url.as_deref() {
                Some(url) if is_loopback_url(url) => chat_adapters::aws::emulator_config(url).await,
                other => chat_adapters::aws::sdk_config(other).await,
            };
            let sqs = aws_sdk_sqs::Client::new(&sdk);
            if aws.create_resources {
                let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
                chat_adapters::dynamo::create_table(&dynamo, &config.table_name)
                    .await
                    .map_err(other)?;
                let name = format!("{}-messages", config.table_name);
                let (q, dlq) = sqs_source::create_queues(
                    &sqs,
                    &name,
                    opts.queue.visibility_timeout,
                    opts.queue.max_receive_count,
                )
                .await
                .map_err(std::io::Error::other)?;
                config.queue_url = Some(q);
                config.dlq_url = Some(dlq);
            }
            // Functions push through the Management API, to this very twin.
            config.ws_endpoint = Some(format!("http://{addr}/{}", opts.stage));
            let queue_url = config.queue_url.clone().ok_or_else(|| {
                std::io::Error::other("CHAT_QUEUE_URL is not set (or use --create-resources)")
            })?;
            // The fault lab's index lag goes where GSI1 is: beneath the cache.
            let mut chat = chat_adapters::wiring::aws_chat_beneath(
                &sdk,
                &config,
                opts.limits.clone(),
                &|c, r| lab.beneath_cache(c, r),
            )
            .map_err(other)?;
            chat.clock = opts.clock.clone();
            (chat, Some((sqs, queue_url, config.dlq_url.clone())))
        }
    };
    let lag_beneath = matches!(opts.backend, Backend::Aws(_));
    let faults = Arc::new(Faults::install(&mut chat, lab, lag_beneath));
    let functions = Arc::new(match &opts.lambda_endpoint {
        Some(url) => Functions::remote(url),
        None => Functions::in_process(&chat, verifier).map_err(other)?,
    });
    let api = WsApi {
        api_id: "local".into(),
        stage: opts.stage.clone(),
        domain_name: addr.to_string(),
    };
    let gateway = Arc::new(Gateway::new(
        api,
        functions.clone(),
        mem.pusher.clone(),
        opts.gateway.clone(),
        opts.clock.clone(),
    ));
    let (queue, worker) = match sqs {
        None => {
            let twin = QueueTwin::new(
                mem.queue.clone(),
                functions.clone(),
                opts.clock.clone(),
                opts.queue.clone(),
            );
            let worker = tokio::spawn(twin.clone().run());
            (Arc::new(Queue::Memory(twin)), worker)
        }
        Some((client, url, dlq)) => {
            let source =
                SqsEventSource::new(client, url, dlq, functions.clone(), opts.queue.batch_size);
            let worker = tokio::spawn(source.clone().run());
            (Arc::new(Queue::Sqs(source)), worker)
        }
    };

    let app = Arc::new(App {
        gateway: gateway.clone(),
        queue: queue.clone(),
        faults: faults.clone(),
        functions,
        secret: opts.secret.clone(),
        stage: opts.stage.clone(),
        addr,
        clock: opts.clock.clone(),
    });
    let router = Router::new()
        .route(
            "/",
            get(|| async {
                static_file(
                    "text/html; charset=utf-8",
                    include_str!("../web/index.html"),
                )
            }),
        )
        .route(
            "/app.js",
            get(|| async {
                static_file(
                    "text/javascript; charset=utf-8",
                    include_str!("../web/app.js"),
                )
            }),
        )
        .route(
            "/app.css",
            get(|| async {
                static_file("text/css; charset=utf-8", include_str!("../web/app.css"))
            }),
        )
        .route("/dev/token", post(dev_token))
        .route("/dev/config", get(dev_config))
        .route("/dev/queue", get(dev_queue))
        .route("/dev/dlq", get(dev_dlq))
        .route("/dev/faults", post(dev_faults).get(dev_faults_pending))
        .fallback(dispatch)
        .with_state(app);
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        // Pushes are small frames: without TCP_NODELAY, Nagle's algorithm
        // holds one back until the previous one is acknowledged, which put
        // ~40 ms on the bench's p99 send->deliver latency.
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        let result = axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "server failed");
        }
    });
    Ok(Running {
        addr,
        chat,
        mem,
        faults,
        gateway,
        queue,
        secret: opts.secret,
        stage: opts.stage,
        shutdown: Some(tx),
        server,
        worker,
    })
}

fn static_file(content_type: &'static str, body: &'static str) -> Response {
    let mut r = Response::new(Body::from(body));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // The page loads nothing from elsewhere; say so to the browser.
    r.headers_mut().insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' http: https: data:; style-src 'self'; script-src 'self'"),
    );
    r
}

fn json_response(status: StatusCode, v: Value) -> Response {
    (status, Json(v)).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenRequest {
    user_id: String,
    #[serde(default)]
    name: Option<String>,
}

/// `POST /dev/token {"userId","name"?}`: a development token (local only).
async fn dev_token(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<TokenRequest>(&body) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error":{"code":"bad_request","message":"expected {\"userId\": \"…\"}"}}),
        );
    };
    match mint_token(&app.secret, &req.user_id, req.name.as_deref(), 86_400) {
        Some(token) => json_response(
            StatusCode::OK,
            json!({ "token": token, "userId": req.user_id }),
        ),
        None => json_response(
            StatusCode::BAD_REQUEST,
            json!({"error":{"code":"bad_request","message":"userId must be 1-128 characters of [A-Za-z0-9-_.@]"}}),
        ),
    }
}

async fn dev_config(State(app): State<Arc<App>>) -> Response {
    json_response(
        StatusCode::OK,
        json!({
            "wsUrl": format!("ws://{}/{}", app.addr, app.stage),
            "restUrl": format!("http://{}", app.addr),
            "connectionsUrl": format!("http://{}/{}/@connections", app.addr, app.stage),
            "stage": app.stage,
        }),
    )
}

async fn dev_queue(State(app): State<Arc<App>>) -> Response {
    json_response(
        StatusCode::OK,
        serde_json::to_value(app.queue.depth().await).unwrap_or(Value::Null),
    )
}

async fn dev_dlq(State(app): State<Arc<App>>) -> Response {
    json_response(
        StatusCode::OK,
        json!({ "messages": app.queue.dead_letters().await }),
    )
}

/// `POST /dev/faults`: stages faults (README, "Fault lab").
async fn dev_faults(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    match app.faults.stage(&body).await {
        Ok(staged) => json_response(StatusCode::OK, staged),
        Err(e @ faults::StageError::BadRequest(_)) => json_response(
            StatusCode::BAD_REQUEST,
            json!({"error":{"code":"bad_request","message":e.to_string()}}),
        ),
        Err(e) => {
            tracing::warn!(error = %chat_core::error::chain(&e), "could not stage faults");
            json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error":{"code":"internal","message":"internal error"}}),
            )
        }
    }
}

/// `GET /dev/faults`: what is still staged.
async fn dev_faults_pending(State(app): State<Arc<App>>) -> Response {
    json_response(StatusCode::OK, app.faults.pending())
}

/// Everything else: the WebSocket stage, `@connections`, or REST.
async fn dispatch(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response {
    let path = req.uri().path().to_owned();
    let stage_root = format!("/{}", app.stage);
    if req.method() == http::Method::GET && (path == stage_root || path == format!("{stage_root}/"))
    {
        return app.gateway.clone().upgrade(peer, req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, MAX_REST_BODY).await else {
        return json_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error":{"code":"too_large","message":"request body too large"}}),
        );
    };
    if path.contains("/@connections/") {
        if let Some(resp) = gateway::management(
            &app.gateway,
            &parts.method,
            &path,
            &parts.headers,
            body.clone(),
        )
        .await
        {
            return resp;
        }
    }
    rest(&app, parts, body).await
}

/// Which function serves a REST path (the HTTP API's routes in the stack).
fn rest_function(path: &str) -> Option<&'static str> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["rooms", _, "messages"] => Some(names::HISTORY),
        ["users", ..] => Some(names::USERS),
        ["rooms", ..] | ["channels"] => Some(names::ROOMS),
        _ => None,
    }
}

async fn rest(app: &App, parts: http::request::Parts, body: axum::body::Bytes) -> Response {
    let path = parts.uri.path();
    let Some(function) = rest_function(path) else {
        return json_response(
            StatusCode::NOT_FOUND,
            json!({"error":{"code":"not_found","message":"route not found"}}),
        );
    };
    let path_and_query = parts.uri.path_and_query().map_or(path, |pq| pq.as_str());
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = (!body.is_empty()).then(|| String::from_utf8_lossy(&body).into_owned());
    let event = events::http_event(
        parts.method.as_str(),
        path_and_query,
        &headers,
        body.as_deref(),
        app.clock.now(),
    );
    match app.functions.invoke(function, event).await {
        Ok(v) => {
            let status = StatusCode::from_u16(v["statusCode"].as_u64().unwrap_or(502) as u16)
                .unwrap_or(StatusCode::BAD_GATEWAY);
            let mut resp = Response::new(Body::from(
                v["body"].as_str().unwrap_or_default().to_owned(),
            ));
            *resp.status_mut() = status;
            if let Some(h) = v["headers"].as_object() {
                for (k, val) in h {
                    if let (Ok(name), Some(Ok(value))) = (
                        header::HeaderName::from_bytes(k.as_bytes()),
                        val.as_str().map(HeaderValue::from_str),
                    ) {
                        resp.headers_mut().insert(name, value);
                    }
                }
            }
            resp
        }
        Err(e) => {
            tracing::warn!(error = %e, "REST function failed");
            json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error":{"code":"internal","message":"internal error"}}),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_paths_go_to_the_function_that_owns_them() {
        assert_eq!(rest_function("/rooms/r_1/messages"), Some(names::HISTORY));
        assert_eq!(rest_function("/rooms"), Some(names::ROOMS));
        assert_eq!(rest_function("/rooms/r_1/members/bob"), Some(names::ROOMS));
        assert_eq!(rest_function("/channels"), Some(names::ROOMS));
        assert_eq!(rest_function("/users/me"), Some(names::USERS));
        assert_eq!(rest_function("/etc/passwd"), None);
    }
}
