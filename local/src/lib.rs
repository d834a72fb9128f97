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
//! - the **web app** at `/` with its runtime `/config.json`, signing in
//!   through a twin of the Cognito hosted UI's OAuth 2.0 endpoints
//!   ([`oauth`]), and development endpoints under `/dev/`.
//!
//! Every function is the same handler code the Lambdas run, invoked with the
//! JSON event AWS would send, in-process or through `cargo lambda watch`
//! ([`functions`]). Data lives in memory.
//!
//! Why a crate of its own: it is the only binary that links every function
//! and a web server; keeping it out of `core/` and `functions/` keeps the
//! Lambda binaries small.

pub mod aws_proxy;
pub mod blobs;
pub mod cors;
pub mod enforce;
pub mod faults;
pub mod functions;
pub mod gateway;
pub mod iam;
pub mod oauth;
pub mod queue;
pub mod sqs_source;
pub mod template;
pub mod throttle;
pub mod watch;
pub mod web;

use axum::serve::ListenerExt;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Query, State};
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
use crate::functions::{Deployed, Functions};
use crate::gateway::{Gateway, GatewayLimits, WsRoutes};
use crate::iam::{DenialLog, Resources, RolePolicies};
use crate::queue::{DepthError, QueueConfig, QueueDepth, QueueTwin};
use crate::sqs_source::SqsEventSource;
use crate::template::{HttpRoute, Locals, Stack};
use chat_twin::FaultLab;

/// The development secret local tokens are signed with, unless configured.
pub const DEFAULT_SECRET: &str = "chat-local-development-secret";

/// Largest REST request body accepted (API Gateway's HTTP API allows 10 MB;
/// the handlers refuse anything over 64 KB with a clear error).
const MAX_REST_BODY: usize = 1024 * 1024;

/// Which adapters back the platform.
#[derive(Clone, Debug)]
// One per process, built once: its size does not matter.
#[allow(clippy::large_enum_variant)]
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
    /// Lifetime of the ID tokens the hosted UI twin issues ([`oauth`]).
    pub token_ttl_secs: i64,
    pub limits: Limits,
    pub gateway: GatewayLimits,
    pub queue: QueueConfig,
    /// Invoke the functions through `cargo lambda watch` at this URL instead
    /// of in-process.
    pub lambda_endpoint: Option<String>,
    pub clock: Arc<dyn Clock>,
    /// Run the stack a synthesized template describes ([`apply_template`]).
    pub template: Option<Arc<Stack>>,
    /// With a template and the `aws` backend: run each function's binary
    /// in its own host ([`watch`]: one `cargo lambda watch` each) with the
    /// template's environment for it, and its role enforced on its real
    /// AWS calls ([`aws_proxy`]) and `@connections` calls.
    pub watch: Option<watch::Launcher>,
    /// Every request the AWS proxy checks, appended here (tests).
    pub aws_record: Option<Arc<std::sync::Mutex<Vec<aws_proxy::Checked>>>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            backend: Backend::Memory,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8080,
            stage: "local".into(),
            secret: DEFAULT_SECRET.into(),
            token_ttl_secs: oauth::DEFAULT_TOKEN_TTL_SECS,
            limits: Limits::default(),
            gateway: GatewayLimits::default(),
            queue: QueueConfig::default(),
            lambda_endpoint: None,
            clock: Arc::new(SystemClock),
            template: None,
            watch: None,
            aws_record: None,
        }
    }
}

/// Runs the platform as `stack` describes it: its WebSocket stage, its
/// event source and queue settings, and (at [`start`]) its routes, each
/// function's timeout, environment and IAM policies.
pub fn apply_template(o: &mut Options, stack: Stack) {
    o.stage = stack.ws.stage.clone();
    let q = &stack.queue;
    o.queue.batch_size = q.batch_size;
    o.queue.batch_window = q.batch_window;
    o.queue.visibility_timeout = q.visibility_timeout;
    if let Some(n) = q.max_receive_count {
        o.queue.max_receive_count = n;
    }
    if let Some(n) = q.max_concurrency {
        o.queue.concurrency = n;
    }
    o.queue.report_batch_item_failures = q.report_batch_item_failures;
    o.queue.function = q.function.clone();
    o.template = Some(Arc::new(stack));
}

/// The event source feeding the persistence function.
pub enum Queue {
    Memory(Arc<QueueTwin>),
    Sqs(Arc<SqsEventSource>),
}

impl Queue {
    pub async fn depth(&self) -> Result<QueueDepth, DepthError> {
        match self {
            Queue::Memory(q) => Ok(q.depth()),
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
    /// The HTTP API's routes (template mode); else [`rest_function`].
    http_routes: Option<Vec<HttpRoute>>,
    /// The HTTP API's CORS configuration and stage throttling (template
    /// mode).
    cors: Option<cors::Cors>,
    http_throttle: Option<throttle::Throttle>,
    verifier: Arc<dyn TokenVerifier>,
    denials: DenialLog,
    gateway: Arc<Gateway>,
    queue: Arc<Queue>,
    faults: Arc<Faults>,
    functions: Arc<Functions>,
    secret: String,
    /// The `iss` and `aud` of the tokens `/dev/token` mints.
    issuer: TokenIssuer,
    stage: String,
    addr: SocketAddr,
    clock: Arc<dyn Clock>,
    /// The Cognito hosted UI twin the web app signs in through.
    hosted_ui: oauth::HostedUi,
    /// The region `/config.json` names (the template's, or `local`).
    region: String,
    /// The in-memory object store's presigned requests (`/blobs/…`).
    blobs: blobs::BlobServer,
    /// Where offline notifications go locally (`GET /dev/notifications`).
    outbox: Arc<chat_core::memory::MemoryOutbox>,
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
    /// Every call IAM refused (template mode), oldest first.
    pub denials: DenialLog,
    secret: String,
    issuer: TokenIssuer,
    stage: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
    worker: tokio::task::JoinHandle<()>,
    /// The function hosts and the AWS proxy (template mode under watch),
    /// stopped with the platform.
    _hosts: Vec<Box<dyn Send + Sync>>,
    _aws_proxy: Option<aws_proxy::AwsProxy>,
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
        mint_token_by(&self.issuer, &self.secret, user, None, 86_400).unwrap_or_default()
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

/// Who the local identity provider says it is: the `iss` and `aud` claims
/// of the tokens it mints. In template mode, what the HTTP API's JWT
/// authorizer accepts (its issuer and first audience: in AWS the Cognito
/// user pool and its app client), so the tokens pass it as Cognito's do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenIssuer {
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

impl TokenIssuer {
    /// The issuer of `stack`'s HTTP API JWT authorizer (none without one).
    pub fn of(stack: &Stack, locals: &Locals) -> Result<Self, template::TemplateError> {
        Ok(stack
            .jwt(locals)?
            .as_ref()
            .map(Self::accepted_by)
            .unwrap_or_default())
    }

    /// A token `jwt` accepts: its issuer, its first audience.
    pub fn accepted_by(jwt: &template::JwtConfig) -> Self {
        Self {
            issuer: Some(jwt.issuer.clone()),
            audience: jwt.audience.first().cloned(),
        }
    }
}

/// Signs a development token with no `iss` or `aud`; `None` for an invalid
/// user id.
pub fn mint_token(secret: &str, user: &str, name: Option<&str>, ttl_secs: i64) -> Option<String> {
    mint_token_by(&TokenIssuer::default(), secret, user, name, ttl_secs)
}

/// Signs a development token as `issuer` says; `None` for an invalid user id.
pub fn mint_token_by(
    issuer: &TokenIssuer,
    secret: &str,
    user: &str,
    name: Option<&str>,
    ttl_secs: i64,
) -> Option<String> {
    let user = UserId::parse(user).ok()?;
    Some(mint_hs256(
        secret.as_bytes(),
        &user,
        SystemClock.now(),
        ttl_secs,
        MintOptions {
            name,
            issuer: issuer.issuer.as_deref(),
            audience: issuer.audience.as_deref(),
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
    let listener = tokio::net::TcpListener::bind((opts.host, opts.port)).await?;
    let addr = listener.local_addr()?;
    let mem = MemoryBackends::default();
    // The in-memory store's URLs point here ([`blobs`]).
    mem.blobs.set_base_url(&format!("http://{addr}"));
    let mut table_name = "chat-local".to_owned();
    // The in-memory store's stand-in name (IAM resources in template mode).
    let mut bucket_name = "chat-local-attachments".to_owned();
    let lab = FaultLab::new();
    let (mut chat, sqs) = match &opts.backend {
        Backend::Memory => (mem.chat(opts.limits.clone(), opts.clock.clone()), None),
        Backend::Aws(aws) => {
            let mut config = aws.config.clone();
            table_name = config.table_name.clone();
            // An emulator on this machine gets dummy credentials; anything
            // else the default credential chain.
            let sdk = match config.endpoint_url.as_deref() {
                Some(url) if is_loopback_url(url) => chat_adapters::aws::emulator_config(url).await,
                other => chat_adapters::aws::developer_config(other).await,
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
                let bucket = config
                    .bucket_name
                    .get_or_insert_with(|| format!("{}-attachments", config.table_name))
                    .to_ascii_lowercase();
                config.bucket_name = Some(bucket.clone());
                chat_adapters::s3::create_bucket(&sdk, &bucket)
                    .await
                    .map_err(other)?;
                // Mobile push on the real adapter: SNS platform
                // applications in the emulator (CloudFormation has none;
                // in AWS the operator creates them).
                if config.sns_fcm_app_arn.is_none() && config.sns_apns_app_arn.is_none() {
                    let mut apps =
                        chat_adapters::sns::create_platform_applications(&sdk, &config.table_name)
                            .await
                            .map_err(std::io::Error::other)?;
                    use chat_core::mobile::MobilePlatform;
                    config.sns_fcm_app_arn = apps.remove(&MobilePlatform::Fcm);
                    config.sns_apns_app_arn = apps.remove(&MobilePlatform::Apns);
                }
            }
            if let Some(b) = &config.bucket_name {
                bucket_name = b.clone();
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
            // Notifications go to this twin's outbox (`GET /dev/notifications`)
            // with either backend: no browser vendor's push service here.
            chat.webpush = Some(mem.outbox.clone());
            (chat, Some((sqs, queue_url, config.dlq_url.clone())))
        }
    };
    let lag_beneath = matches!(opts.backend, Backend::Aws(_));
    let faults = Arc::new(Faults::install(&mut chat, lab, lag_beneath));
    let denials = DenialLog::default();
    let under_watch = opts.template.is_some() && opts.watch.is_some();
    let locals = opts.template.as_ref().map(|_| {
        let queue_url = match &sqs {
            Some((_, url, _)) => url.clone(),
            None => format!("http://{addr}/{}/{table_name}-messages", iam::LOCAL_ACCOUNT),
        };
        Locals {
            queue_name: queue_url.rsplit('/').next().unwrap_or_default().to_owned(),
            queue_url,
            table_name: table_name.clone(),
            api_id: API_ID.into(),
            base_url: format!("http://{addr}"),
            redis: match &opts.backend {
                Backend::Aws(aws) => aws
                    .config
                    .redis
                    .as_ref()
                    .and_then(|r| Locals::redis_endpoint(r.url.expose())),
                Backend::Memory => None,
            },
            bucket_name: bucket_name.clone(),
        }
    });
    if let (Some(stack), Some(l)) = (&opts.template, &locals) {
        let cached = stack.functions.keys().any(|f| {
            stack
                .environment(f, l)
                .is_ok_and(|env| env.contains_key(chat_core::config::vars::REDIS_URL))
        });
        match (&l.redis, cached) {
            (Some((host, port)), true) => {
                tracing::info!(host = %host, port, "the stack's cache is the local Redis")
            }
            (None, true) => tracing::warn!(
                "the stack deploys a cache and no local Redis is given (--backend aws with CHAT_REDIS_URL): the functions run without it, as when the cache is down"
            ),
            _ => {}
        }
    }
    // The HTTP API's JWT authorizer checks the template's issuer and
    // audience; the tokens /dev/token mints carry them.
    let jwt = match (&opts.template, &locals) {
        (Some(stack), Some(l)) => stack.jwt(l).map_err(other)?,
        _ => None,
    };
    let issuer = jwt
        .as_ref()
        .map(TokenIssuer::accepted_by)
        .unwrap_or_default();
    let verifier: Arc<dyn TokenVerifier> = Arc::new(Hs256Verifier::new(
        opts.secret.as_bytes(),
        issuer.issuer.as_deref(),
        issuer.audience.as_deref(),
    ));
    let http_verifier: Arc<dyn TokenVerifier> = match &jwt {
        Some(j) => Arc::new(Hs256Verifier::accepting(
            opts.secret.as_bytes(),
            Some(&j.issuer),
            &j.audience.iter().map(String::as_str).collect::<Vec<_>>(),
        )),
        None => verifier.clone(),
    };
    let templated = match (&opts.template, locals) {
        (Some(stack), Some(locals)) => {
            let (guards, deployed) =
                template_functions(stack, &locals, &denials, &opts.secret, !under_watch)
                    .map_err(other)?;
            // In memory, endpoints get the names SNS would give them under
            // the template's platform applications, so that the grants on
            // `endpoint/…` match as in AWS.
            if let Some(g) = guards.values().find(|g| !g.mobile_apps.is_empty()) {
                mem.mobile.name_endpoints_after(&g.mobile_apps);
            }
            Some((locals, guards, deployed))
        }
        _ => None,
    };
    let mut hosts = Vec::new();
    let mut aws_proxy = None;
    let mut connection_roles = None;
    let functions = match (&opts.lambda_endpoint, &templated) {
        (Some(url), _) => Functions::remote(url),
        (None, None) => Functions::in_process(&chat, verifier.clone()).map_err(other)?,
        (None, Some((locals, guards, _))) => match (&opts.watch, &opts.template) {
            (Some(launch), Some(stack)) => {
                let Backend::Aws(aws) = &opts.backend else {
                    return Err(std::io::Error::other(
                        "functions under watch need the aws backend: processes cannot share this one's memory",
                    ));
                };
                let upstream = aws.config.endpoint_url.clone().ok_or_else(|| {
                    std::io::Error::other(
                        "functions under watch need AWS_ENDPOINT_URL (the emulator)",
                    )
                })?;
                let roles = Arc::new(aws_proxy::Roles::new(
                    guards
                        .iter()
                        .map(|(name, g)| (watch::access_key(name), g.clone()))
                        .collect(),
                ));
                let proxy =
                    aws_proxy::serve(roles.clone(), &upstream, opts.aws_record.clone()).await?;
                let local = watch::LocalSide {
                    connections_endpoint: format!("http://{addr}/{}", opts.stage),
                    aws_endpoint: proxy.url(),
                    secret: &opts.secret,
                    redis: aws.config.redis.as_ref(),
                };
                let mut envs = Vec::new();
                for name in stack.functions.keys() {
                    envs.push((
                        name.clone(),
                        watch::function_env(stack, name, locals, &local).map_err(other)?,
                    ));
                }
                // Started side by side: each waits for its watch to listen.
                let launched = std::thread::scope(|s| {
                    let running: Vec<_> = envs
                        .iter()
                        .map(|(name, env)| (name, s.spawn(|| launch(name, env))))
                        .collect();
                    running
                        .into_iter()
                        .map(|(name, t)| {
                            let r = t.join().unwrap_or_else(|_| {
                                Err(std::io::Error::other("launcher panicked"))
                            });
                            r.map(|l| (name.clone(), l))
                        })
                        .collect::<std::io::Result<Vec<_>>>()
                })?;
                let mut each = HashMap::new();
                for (name, l) in launched {
                    tracing::info!(function = %name, endpoint = %l.endpoint, log = %l.log.display(), "function under cargo lambda watch");
                    each.insert(
                        name,
                        functions::Host {
                            endpoint: l.endpoint,
                            exit: Arc::new(watch::ExitWatch::new(l.log)),
                        },
                    );
                    hosts.push(l.handle);
                }
                aws_proxy = Some(proxy);
                connection_roles = Some(roles);
                Functions::remote_each(each)
            }
            _ => Functions::in_process_with(&chat, verifier.clone(), |name, c| {
                match guards.get(name) {
                    Some(g) => enforce::guarded(&c, g.clone()),
                    None => c,
                }
            })
            .map_err(other)?,
        },
    };
    let functions = Arc::new(match templated {
        Some((_, _, d)) => functions.deployed(d),
        None => functions,
    });
    let api = WsApi {
        api_id: API_ID.into(),
        stage: opts.stage.clone(),
        domain_name: addr.to_string(),
    };
    let mut gateway = Gateway::new(
        api,
        functions.clone(),
        mem.pusher.clone(),
        opts.gateway.clone(),
        opts.clock.clone(),
    );
    gateway.connection_roles = connection_roles;
    if let Some(stack) = &opts.template {
        gateway.routes = WsRoutes {
            selection_field: stack.ws.selection_field.clone(),
            routes: stack.ws.routes.clone().into_iter().collect(),
            authorizer: stack
                .ws
                .authorizer
                .as_ref()
                .map(|a| (a.function.clone(), a.identity_source.clone())),
            route_source: Some(format!(
                "arn:aws:execute-api:{}:{}:{API_ID}/{}",
                stack.region,
                iam::LOCAL_ACCOUNT,
                stack.ws.stage
            )),
            // A `Ref` to the authorizer resolves to its logical id.
            authorizer_source: stack.ws.authorizer.as_ref().map(|a| {
                format!(
                    "arn:aws:execute-api:{}:{}:{API_ID}/authorizers/{}",
                    stack.region,
                    iam::LOCAL_ACCOUNT,
                    a.logical_id
                )
            }),
        };
        gateway.throttle = Some(throttle::Throttle::new(
            stack.ws.throttle.clone(),
            opts.clock.clone(),
        ));
    }
    let gateway = Arc::new(gateway);
    let (queue, worker) = match sqs {
        None => {
            let twin = QueueTwin::new(
                mem.queue.clone(),
                functions.clone(),
                faults.lab.clone(),
                opts.clock.clone(),
                opts.queue.clone(),
            );
            let worker = tokio::spawn(twin.clone().run());
            (Arc::new(Queue::Memory(twin)), worker)
        }
        Some((client, url, dlq)) => {
            let source = SqsEventSource::new(
                client,
                url,
                dlq,
                functions.clone(),
                faults.lab.clone(),
                opts.queue.clone(),
            );
            let worker = tokio::spawn(source.clone().run());
            (Arc::new(Queue::Sqs(source)), worker)
        }
    };

    let app = Arc::new(App {
        http_routes: opts.template.as_ref().map(|t| t.http.clone()),
        cors: opts.template.as_ref().and_then(|t| t.http_cors.clone()),
        http_throttle: opts
            .template
            .as_ref()
            .map(|t| throttle::Throttle::new(t.http_throttle.clone(), opts.clock.clone())),
        verifier: http_verifier,
        denials: denials.clone(),
        gateway: gateway.clone(),
        queue: queue.clone(),
        faults: faults.clone(),
        functions,
        secret: opts.secret.clone(),
        issuer: issuer.clone(),
        stage: opts.stage.clone(),
        addr,
        clock: opts.clock.clone(),
        hosted_ui: oauth::HostedUi::new(
            issuer.clone(),
            opts.secret.clone(),
            opts.token_ttl_secs,
            opts.clock.clone(),
            addr,
        ),
        region: opts
            .template
            .as_ref()
            .map_or_else(|| "local".to_owned(), |t| t.region.clone()),
        blobs: blobs::BlobServer {
            store: mem.blobs.clone(),
            clock: opts.clock.clone(),
        },
        outbox: mem.outbox.clone(),
    });
    // The web app: each embedded file at its own path (REST and the
    // WebSocket stage go to the fallback).
    let mut router = Router::new();
    for path in web::paths() {
        let served = path.clone();
        router = router.route(&path, get(move || async move { web::serve(&served) }));
    }
    let router = router
        .route("/config.json", get(runtime_config))
        .route("/oauth2/authorize", get(oauth_authorize))
        .route("/login", get(oauth_login_page).post(oauth_login))
        .route("/oauth2/token", post(oauth_token))
        .route("/oauth2/revoke", post(oauth_revoke))
        .route("/logout", get(oauth_logout))
        .route("/error", get(oauth_error))
        .route("/dev/token", post(dev_token))
        .route("/dev/config", get(dev_config))
        .route("/dev/queue", get(dev_queue))
        .route("/dev/dlq", get(dev_dlq))
        .route("/dev/faults", post(dev_faults).get(dev_faults_pending))
        .route("/dev/denied", get(dev_denied))
        .route(
            "/blobs/{*key}",
            get(blob_get)
                .put(blob_put)
                .layer(axum::extract::DefaultBodyLimit::max(
                    usize::try_from(opts.limits.attachments.max_bytes).unwrap_or(usize::MAX),
                )),
        )
        .route("/dev/notifications", get(dev_notifications))
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
        denials,
        secret: opts.secret,
        issuer,
        stage: opts.stage,
        shutdown: Some(tx),
        server,
        worker,
        _hosts: hosts,
        _aws_proxy: aws_proxy,
    })
}

/// The WebSocket API's id locally (what `Ref` to it resolves to).
const API_ID: &str = "local";

type Guards = HashMap<String, Arc<enforce::Guard>>;

/// Each function of `stack` as it deploys: its IAM guard (its role's
/// policies over this machine's resources), its timeout, and (with
/// `check_environment`) the cold-start failure its environment would cause.
fn template_functions(
    stack: &Stack,
    locals: &Locals,
    denials: &DenialLog,
    secret: &str,
    check_environment: bool,
) -> Result<(Guards, HashMap<String, Deployed>), template::TemplateError> {
    let mut guards = HashMap::new();
    let mut deployed = HashMap::new();
    let resources = Resources {
        region: stack.region.clone(),
        table_name: locals.table_name.clone(),
        queue_name: locals.queue_name.clone(),
        api_id: locals.api_id.clone(),
        stage: stack.ws.stage.clone(),
        bucket_name: locals.bucket_name.clone(),
    };
    for f in stack.functions.values() {
        let (role, docs) = stack.policies(&f.name, locals)?;
        let policies = RolePolicies::new(&f.name, &role, docs, denials.clone()).map_err(|e| {
            template::TemplateError::Unsupported {
                resource: role.clone(),
                reason: e.to_string(),
            }
        })?;
        // Under watch the binary reads its environment itself, and fails
        // its own cold start.
        let env = stack.environment(&f.name, locals)?;
        let (verifier, auth_error) = function_verifier(&f.name, &env, secret);
        let init_error = check_environment
            .then(|| {
                stack
                    .environment_problem(&f.name, &env, locals)
                    .or(auth_error)
            })
            .flatten();
        if let Some(why) = &init_error {
            tracing::warn!(function = %f.name, reason = %why, "this function's cold start would fail");
        }
        tracing::info!(function = %f.name, timeout_secs = f.timeout.as_secs(), memory_mb = f.memory_mb, role = %role, "function from the template");
        guards.insert(
            f.name.clone(),
            Arc::new(enforce::Guard {
                policies,
                resources: resources.clone(),
                mobile_apps: [
                    (
                        chat_core::mobile::MobilePlatform::Fcm,
                        chat_core::config::vars::SNS_FCM_APP_ARN,
                    ),
                    (
                        chat_core::mobile::MobilePlatform::Apns,
                        chat_core::config::vars::SNS_APNS_APP_ARN,
                    ),
                ]
                .into_iter()
                .filter_map(|(platform, var)| Some((platform, env.get(var)?.clone())))
                .collect(),
            }),
        );
        deployed.insert(
            f.name.clone(),
            Deployed {
                timeout: Some(f.timeout),
                init_error,
                verifier,
                invoke_policy: Some(Arc::new(
                    iam::FunctionPolicy::new(
                        &f.name,
                        &stack.function_arn(&f.name),
                        &stack.invoke_permissions(&f.name, locals)?,
                        denials.clone(),
                    )
                    .map_err(|e| template::TemplateError::Unsupported {
                        resource: f.logical_id.clone(),
                        reason: e.to_string(),
                    })?,
                )),
            },
        );
    }
    // Lambda polls the queue with the mapped function's role: without these
    // CloudFormation cannot create the event source mapping.
    let poller =
        guards
            .get(&stack.queue.function)
            .ok_or_else(|| template::TemplateError::Unsupported {
                resource: stack.queue.logical_id.clone(),
                reason: format!(
                    "its event source invokes {}, which the template does not deploy",
                    stack.queue.function
                ),
            })?;
    let queue = iam::arns::queue(&poller.resources);
    for action in [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ] {
        poller.policies.check(action, &queue).map_err(|e| {
            template::TemplateError::Unsupported {
                resource: stack.queue.logical_id.clone(),
                reason: format!("the event source mapping could not be created (Lambda polls with the function's role): {e}"),
            }
        })?;
    }
    // A function the platform hosts but the template does not deploy: its
    // routes are gone, and anything that still invokes it fails.
    for f in &functions::ALL {
        if !stack.functions.contains_key(f.name) {
            deployed.insert(
                f.name.to_owned(),
                Deployed {
                    init_error: Some(format!("{} is not in the template", f.name)),
                    ..Deployed::default()
                },
            );
        }
    }
    Ok((guards, deployed))
}

/// The token verifier function `name` builds at cold start from its
/// environment `env`, if it verifies tokens (its `verifier` port), or why
/// that cold start fails. `CHAT_AUTH_MODE=jwks` (Cognito's keys in AWS)
/// becomes the local identity provider's HS256 `secret`, with the issuer
/// and audience the environment gives: a token for another pool or client
/// is refused as in AWS.
fn function_verifier(
    name: &str,
    env: &std::collections::BTreeMap<String, String>,
    secret: &str,
) -> (Option<Arc<dyn TokenVerifier>>, Option<String>) {
    use chat_core::config::AuthConfig;
    let verifies = chat_core::deploy::manifest()
        .function(name)
        .is_some_and(|f| f.has(chat_core::deploy::PortName::Verifier));
    if !verifies {
        return (None, None);
    }
    match AuthConfig::from_source(env) {
        Ok(AuthConfig::Jwks(s)) => (
            Some(Arc::new(Hs256Verifier::new(
                secret.as_bytes(),
                Some(&s.issuer),
                Some(&s.audience),
            ))),
            None,
        ),
        Ok(AuthConfig::Hs256 {
            jwt_secret,
            issuer,
            audience,
        }) => (
            Some(Arc::new(Hs256Verifier::new(
                jwt_secret.expose().as_bytes(),
                issuer.as_deref(),
                audience.as_deref(),
            ))),
            None,
        ),
        Err(e) => (None, Some(e.to_string())),
    }
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
async fn blob_put(
    State(app): State<Arc<App>>,
    uri: http::Uri,
    headers: http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    app.blobs.put(&uri, &headers, body)
}

async fn blob_get(State(app): State<Arc<App>>, uri: http::Uri) -> Response {
    app.blobs.get(&uri)
}

async fn dev_token(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<TokenRequest>(&body) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error":{"code":"bad_request","message":"expected {\"userId\": \"…\"}"}}),
        );
    };
    match mint_token_by(
        &app.issuer,
        &app.secret,
        &req.user_id,
        req.name.as_deref(),
        86_400,
    ) {
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

/// `GET /config.json`: the web app's runtime configuration, the same shape
/// `cdk deploy` writes next to the app (infra/lib/web-app.ts), naming this
/// server under the name the browser used for it.
async fn runtime_config(State(app): State<Arc<App>>, headers: http::HeaderMap) -> Response {
    let origins = oauth::own_origins(app.addr);
    let asked = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("http://{h}"));
    let origin = asked
        .filter(|o| origins.contains(o))
        .unwrap_or_else(|| origins[0].clone());
    let ws = origin.replacen("http://", "ws://", 1);
    let mut r = json_response(
        StatusCode::OK,
        json!({
            "region": app.region,
            "wsUrl": format!("{ws}/{}", app.stage),
            "restUrl": origin,
            "auth": {
                "domain": origin,
                "clientId": app.hosted_ui.client_id(),
                "redirectUri": format!("{origin}/"),
                "logoutUri": format!("{origin}/"),
                "scopes": oauth::SCOPES,
            },
            // The development key pair's public half (the deployed app gets
            // the stack's, `-c vapidPublicKey`): what a browser subscribes
            // to Web Push with; the notifications land in the outbox.
            "vapidPublicKey": chat_adapters::webpush::DEV_VAPID_PUBLIC,
            // The local platform: the app shows the development panels
            // (the notification outbox, `GET /dev/notifications`). The
            // deployed config.json (infra/lib/web-app.ts) never sets it.
            "dev": true,
        }),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

fn authorize_params(query: Option<&str>) -> oauth::AuthorizeParams {
    serde_urlencoded::from_str(query.unwrap_or_default()).unwrap_or_default()
}

/// `GET /oauth2/authorize`: checked, then on to the sign-in page, as Cognito
/// does.
async fn oauth_authorize(State(app): State<Arc<App>>, uri: http::Uri) -> Response {
    let p = authorize_params(uri.query());
    match app.hosted_ui.check_authorize(&p) {
        Ok(Ok(())) => oauth::redirect(&format!("/login?{}", uri.query().unwrap_or_default())),
        Ok(Err(back)) => oauth::redirect(&back),
        Err(e) => oauth::redirect(&format!("/error?error={e}")),
    }
}

async fn oauth_login_page(State(app): State<Arc<App>>, uri: http::Uri) -> Response {
    let p = authorize_params(uri.query());
    match app.hosted_ui.check_authorize(&p) {
        Ok(Ok(())) => oauth::login_page(uri.query().unwrap_or_default(), None),
        Ok(Err(back)) => oauth::redirect(&back),
        Err(e) => oauth::error_page(&e),
    }
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    name: String,
}

/// `POST /login`: the name picked; back to the client with a code.
async fn oauth_login(
    State(app): State<Arc<App>>,
    uri: http::Uri,
    body: axum::body::Bytes,
) -> Response {
    let p = authorize_params(uri.query());
    let name = serde_urlencoded::from_bytes::<LoginForm>(&body)
        .map(|f| f.name)
        .unwrap_or_default();
    match app.hosted_ui.sign_in(&p, &name) {
        Ok(Ok(to)) | Ok(Err(to)) => oauth::redirect(&to),
        Err(oauth::PageError::InvalidRequest(why)) => {
            oauth::login_page(uri.query().unwrap_or_default(), Some(why))
        }
        Err(e) => oauth::error_page(&e),
    }
}

/// `POST /oauth2/token` (form-encoded, as Cognito's).
async fn oauth_token(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let params = match serde_urlencoded::from_bytes::<oauth::TokenParams>(&body) {
        Ok(p) => p,
        Err(e) => return oauth::OAuthError::InvalidRequest(e.to_string()).into_response(),
    };
    match app.hosted_ui.token(&params) {
        Ok(tokens) => {
            let mut r = json_response(StatusCode::OK, json!(tokens));
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            tracing::info!(error = %e, "token request refused");
            e.into_response()
        }
    }
}

#[derive(Deserialize)]
struct RevokeForm {
    token: Option<String>,
    client_id: Option<String>,
}

/// `POST /oauth2/revoke`.
async fn oauth_revoke(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let form = match serde_urlencoded::from_bytes::<RevokeForm>(&body) {
        Ok(f) => f,
        Err(e) => return oauth::OAuthError::InvalidRequest(e.to_string()).into_response(),
    };
    match app
        .hosted_ui
        .revoke(form.client_id.as_deref(), form.token.as_deref())
    {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize, Default)]
struct LogoutParams {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    logout_uri: String,
}

/// `GET /logout?client_id&logout_uri`.
async fn oauth_logout(State(app): State<Arc<App>>, uri: http::Uri) -> Response {
    let p: LogoutParams =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    match app.hosted_ui.logout(&p.client_id, &p.logout_uri) {
        Ok(to) => oauth::redirect(&to),
        Err(e) => oauth::redirect(&format!("/error?error={e}")),
    }
}

/// `GET /error?error=…`: the page Cognito shows when it cannot redirect back.
async fn oauth_error(uri: http::Uri) -> Response {
    let invalid = uri.query().unwrap_or_default().contains("invalid_request");
    oauth::error_page(&if invalid {
        oauth::PageError::InvalidRequest("the request is malformed")
    } else {
        oauth::PageError::RedirectMismatch
    })
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
    match app.queue.depth().await {
        Ok(depth) => json_response(
            StatusCode::OK,
            serde_json::to_value(depth).unwrap_or(Value::Null),
        ),
        Err(e) => json_response(
            StatusCode::BAD_GATEWAY,
            json!({"error":{"code":"queue_unreadable","message":e.to_string()}}),
        ),
    }
}

/// `GET /dev/notifications`: every offline notification sent so far,
/// oldest first, as its device would decrypt it (`userId`, `deviceId`,
/// `endpoint`, `roomId`, `senderId`, `count`, `seq`, and `body` when
/// bodies are enabled). `?userId=` keeps one user's.
async fn dev_notifications(
    State(app): State<Arc<App>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let sent: Vec<_> = app
        .outbox
        .sent()
        .into_iter()
        .filter(|e| q.get("userId").is_none_or(|u| e.user_id.as_str() == u))
        .collect();
    json_response(
        StatusCode::OK,
        json!({ "notifications": serde_json::to_value(sent).unwrap_or(Value::Null) }),
    )
}

/// `GET /dev/denied`: every call IAM refused so far (template mode).
async fn dev_denied(State(app): State<Arc<App>>) -> Response {
    let denied: Vec<Value> = iam::lock(&app.denials)
        .iter()
        .map(|d| json!({"function": d.function, "action": d.action, "resource": d.resource, "reason": d.why}))
        .collect();
    json_response(StatusCode::OK, json!({ "denied": denied }))
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
    if let (Some(cors), true, false) = (
        &app.cors,
        cors::Cors::is_preflight(req.method(), req.headers()),
        path.contains("/@connections/"),
    ) {
        return cors.preflight(req.headers());
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
    let request_headers = parts.headers.clone();
    let mut resp = rest(&app, parts, body).await;
    if let Some(cors) = &app.cors {
        cors.apply(&request_headers, &mut resp);
    }
    resp
}

/// The HTTP API's JWT authorizer, mapped to the local token verifier: a
/// `Bearer` token in `Authorization` that verifies.
async fn jwt_authorized(app: &App, headers: &http::HeaderMap) -> bool {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    match token {
        Some(t) => app.verifier.verify(t.trim()).await.is_ok(),
        None => false,
    }
}

/// Which function serves a REST path: the route table's (the HTTP API's
/// routes in the stack are checked against the same table).
fn rest_function(path: &str) -> Option<&'static str> {
    chat_lambda::http::function_for(path)
}

async fn rest(app: &App, parts: http::request::Parts, body: axum::body::Bytes) -> Response {
    let path = parts.uri.path();
    let (function, source) = match &app.http_routes {
        None => match rest_function(path) {
            Some(f) => (f.to_owned(), None),
            None => {
                return json_response(
                    StatusCode::NOT_FOUND,
                    json!({"error":{"code":"not_found","message":"route not found"}}),
                )
            }
        },
        Some(routes) => {
            let Some(route) = routes
                .iter()
                .find(|r| r.matches(parts.method.as_str(), path))
            else {
                // What the HTTP API answers for a route it does not have.
                return json_response(StatusCode::NOT_FOUND, json!({"message": "Not Found"}));
            };
            let admitted = app
                .http_throttle
                .as_ref()
                .is_none_or(|t| t.admit(&route.key()));
            if !admitted {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::CONTENT_TYPE, "application/json")],
                    throttle::HTTP_THROTTLED,
                )
                    .into_response();
            }
            if route.jwt && !jwt_authorized(app, &parts.headers).await {
                return json_response(StatusCode::UNAUTHORIZED, json!({"message": "Unauthorized"}));
            }
            (route.function.clone(), Some(route.source_arn.clone()))
        }
    };
    let function = function.as_str();
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
    match app
        .functions
        .invoke_from(function, source.as_deref(), event)
        .await
    {
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
        use crate::functions::names;
        assert_eq!(rest_function("/rooms/r_1/messages"), Some(names::HISTORY));
        assert_eq!(rest_function("/rooms"), Some(names::ROOMS));
        assert_eq!(rest_function("/rooms/r_1/members/bob"), Some(names::ROOMS));
        assert_eq!(rest_function("/channels"), Some(names::ROOMS));
        assert_eq!(rest_function("/users/me"), Some(names::USERS));
        assert_eq!(rest_function("/openapi.json"), Some(names::USERS));
        assert_eq!(rest_function("/etc/passwd"), None);
        for e in chat_lambda::http::ENDPOINTS {
            assert!(
                [names::HISTORY, names::ROOMS, names::USERS].contains(&e.function),
                "{} {} names an unknown function {}",
                e.method,
                e.path,
                e.function
            );
        }
    }
}
