//! Building a [`Chat`] and a token verifier from configuration: the one place
//! a function's `main` turns environment variables into adapters. Called once
//! per cold start; the SDK clients and the Redis connection it builds are
//! shared by every invocation of the sandbox.

use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use chat_core::auth::{Hs256Verifier, TokenVerifier};
use chat_core::config::{vars, AuthConfig, AwsConfig, Backend, ConfigError, Limits, Source};
use chat_core::deploy::{manifest, FunctionSpec, PortName};
use chat_core::error::{PushError, QueueError, StoreError};
use chat_core::ids::{ConnectionId, Millis};
use chat_core::metrics::Metric;
use chat_core::model::Job;
use chat_core::notify::EndpointRules;
use chat_core::ports::Clock;
use chat_core::ports::{
    BlobHead, BlobStore, ConnectionStore, DownloadSpec, JobQueue, MessageStore, Presigned,
    ProfileStore, Pusher, RoomStore, SearchIndex, SystemClock, UploadSpec,
};
use chat_core::ratelimit::{MemoryRateLimiter, RateLimiter};
use chat_core::service::Chat;

use crate::apigw::ApiGwPusher;
use crate::dynamo::Table;
use crate::jwks::{JwksConfig, JwksVerifier};
use crate::redis_cache::{
    CacheConfig, CachedConnections, CachedMessages, CachedProfiles, CachedRooms, RedisCache,
    RedisRateLimiter,
};
use crate::s3::S3Blobs;
use crate::sqs::SqsQueue;
use crate::webpush::HttpWebPush;

/// A deployed function as its binary is compiled: its name and the ports
/// beyond the stores it links ([`QUEUE`], [`PUSHER`]). Each function crate
/// exports one as `FUNCTION`; `deploy/functions.json` must agree with it
/// ([`check`]), which every cold start and the tests verify.
#[derive(Clone, Copy)]
pub struct Function {
    pub name: &'static str,
    pub ports: &'static [Port],
}

impl Function {
    /// Whether this function links `port`.
    pub fn links(&self, port: PortName) -> bool {
        self.ports.iter().any(|p| p.vars.name == port)
    }
}

/// A port beyond the stores that a function links: [`QUEUE`], [`PUSHER`]
/// or [`BLOBS`]. Naming one is what links its AWS client into the binary: a
/// function that never names [`QUEUE`] carries no SQS client (LTO drops
/// what nothing references, and a run-time switch would reference all).
#[derive(Clone, Copy)]
pub struct Port {
    vars: PortVars,
    install: Install,
}

/// A port's name and variables, without its install function: what every
/// function reads about every port ([`LINKABLE`]). Kept apart so that
/// reading them references no install function, which would link its
/// client into every binary.
#[derive(Clone, Copy)]
struct PortVars {
    name: PortName,
    /// The variable that configures it; a function that does not link the
    /// port never reads it.
    var: &'static str,
    /// Further variables of the port (mobile push has one per platform).
    more_vars: &'static [&'static str],
}

impl PortVars {
    fn reads(&self, name: &str) -> bool {
        self.var == name || self.more_vars.contains(&name)
    }
}

/// How a port is built: from the configuration alone, or by reading
/// something once at cold start (the VAPID secret of [`WEBPUSH`]).
#[derive(Clone, Copy)]
enum Install {
    Now(fn(&SdkConfig, &AwsConfig, &mut Chat) -> Result<(), ConfigError>),
    AtColdStart(
        for<'a> fn(
            &'a SdkConfig,
            &'a AwsConfig,
            &'a mut Chat,
        ) -> futures::future::BoxFuture<'a, Result<(), ConfigError>>,
    ),
}

/// The SQS job queue, at `CHAT_QUEUE_URL`.
pub const QUEUE: Port = Port {
    vars: PortVars {
        name: PortName::Queue,
        var: vars::QUEUE_URL,
        more_vars: &[],
    },
    install: Install::Now(install_queue),
};

/// The API Gateway Management API pusher, at `CHAT_WS_ENDPOINT`.
pub const PUSHER: Port = Port {
    vars: PortVars {
        name: PortName::Pusher,
        var: vars::WS_ENDPOINT,
        more_vars: &[],
    },
    install: Install::Now(install_pusher),
};

/// The attachments' S3 bucket, `CHAT_BUCKET_NAME`.
pub const BLOBS: Port = Port {
    vars: PortVars {
        name: PortName::Blobs,
        var: vars::BUCKET_NAME,
        more_vars: &[],
    },
    install: Install::Now(install_blobs),
};

/// Web Push (offline notifications), with the VAPID key pair of the
/// Secrets Manager secret `CHAT_VAPID_SECRET_ARN`, read at cold start.
pub const WEBPUSH: Port = Port {
    vars: PortVars {
        name: PortName::WebPush,
        var: vars::VAPID_SECRET_ARN,
        more_vars: &[],
    },
    install: Install::AtColdStart(install_webpush),
};

/// Mobile push through SNS platform endpoints, for the platforms whose
/// application ARN is set (`CHAT_SNS_FCM_APP_ARN`, `CHAT_SNS_APNS_APP_ARN`).
/// Neither set: mobile push is off (a mobile token answers 409), which is a
/// deployment's choice, not a missing variable.
pub const MOBILE_PUSH: Port = Port {
    vars: PortVars {
        name: PortName::MobilePush,
        var: vars::SNS_FCM_APP_ARN,
        more_vars: &[vars::SNS_APNS_APP_ARN],
    },
    install: Install::Now(install_mobile_push),
};

/// Every port a [`Function`] may link. Only the local platform, which hosts
/// every function, installs them all ([`aws_chat_beneath`]).
const ALL_PORTS: [Port; 5] = [QUEUE, PUSHER, BLOBS, WEBPUSH, MOBILE_PUSH];

/// The names and variables of [`ALL_PORTS`], evaluated at compile time: the
/// binary holds no table of install functions, so LTO drops the clients of
/// the ports a function does not name (in chat-message, the SNS, Secrets
/// Manager and Web Push code: `scripts/lambda-arm64.sh` bounds the zips).
const LINKABLE: [PortVars; ALL_PORTS.len()] = {
    let mut vars = [QUEUE.vars; ALL_PORTS.len()];
    let mut i = 0;
    while i < ALL_PORTS.len() {
        vars[i] = ALL_PORTS[i].vars;
        i += 1;
    }
    vars
};

fn install_mobile_push(
    sdk: &SdkConfig,
    aws: &AwsConfig,
    chat: &mut Chat,
) -> Result<(), ConfigError> {
    use chat_core::mobile::MobilePlatform;
    let apps: std::collections::BTreeMap<MobilePlatform, String> = [
        (MobilePlatform::Fcm, &aws.sns_fcm_app_arn),
        (MobilePlatform::Apns, &aws.sns_apns_app_arn),
    ]
    .into_iter()
    .filter_map(|(platform, arn)| Some((platform, arn.clone()?)))
    .collect();
    if apps.is_empty() {
        tracing::info!("mobile push off: no SNS platform application configured");
        chat.mobile = None;
    } else {
        tracing::info!(platforms = ?apps.keys().collect::<Vec<_>>(), "SNS mobile push");
        chat.mobile = Some(Arc::new(crate::sns::SnsMobilePush::new(sdk, apps)));
    }
    Ok(())
}

fn install_webpush<'a>(
    sdk: &'a SdkConfig,
    aws: &'a AwsConfig,
    chat: &'a mut Chat,
) -> futures::future::BoxFuture<'a, Result<(), ConfigError>> {
    Box::pin(async move {
        let secret = aws
            .vapid_secret_arn
            .as_ref()
            .ok_or(ConfigError::Missing(WEBPUSH.vars.var))?;
        let client = aws_sdk_secretsmanager::Client::new(sdk);
        chat.webpush = match crate::vapid_secret::load(&client, secret).await {
            Ok(vapid) => match HttpWebPush::new(vapid, EndpointRules::default()) {
                Ok(sender) => {
                    tracing::info!("Web Push on");
                    Some(Arc::new(sender))
                }
                Err(e) => web_push_off("no-http-client", &e),
            },
            Err(e) => web_push_off(e.reason(), &e),
        };
        Ok(())
    })
}

/// Web Push stays off for this sandbox's life: nobody is notified, the
/// function runs on, and `WebPushDisabled` (alarmed) says so.
fn web_push_off(
    reason: &str,
    e: &(dyn std::error::Error + 'static),
) -> Option<Arc<dyn chat_core::ports::WebPush>> {
    tracing::warn!(reason, error = %chat_core::error::chain(e), "Web Push is off: no usable VAPID key");
    chat_core::metrics::record(&[(Metric::WebPushDisabled, 1.0)]);
    None
}

fn install_blobs(sdk: &SdkConfig, aws: &AwsConfig, chat: &mut Chat) -> Result<(), ConfigError> {
    let bucket = aws
        .bucket_name
        .as_ref()
        .ok_or(ConfigError::Missing(BLOBS.vars.var))?;
    tracing::info!(bucket = %bucket, "S3 attachments bucket");
    // An endpoint override is an emulator, which answers path-style only.
    chat.blobs = Arc::new(S3Blobs::new(sdk, bucket, aws.endpoint_url.is_some()));
    Ok(())
}

fn install_queue(sdk: &SdkConfig, aws: &AwsConfig, chat: &mut Chat) -> Result<(), ConfigError> {
    let url = aws
        .queue_url
        .as_ref()
        .ok_or(ConfigError::Missing(QUEUE.vars.var))?;
    tracing::info!(queue = %url, "SQS job queue");
    chat.queue = Arc::new(SqsQueue::new(aws_sdk_sqs::Client::new(sdk), url.as_str()));
    Ok(())
}

fn install_pusher(sdk: &SdkConfig, aws: &AwsConfig, chat: &mut Chat) -> Result<(), ConfigError> {
    let endpoint = aws
        .ws_endpoint
        .as_ref()
        .ok_or(ConfigError::Missing(PUSHER.vars.var))?;
    tracing::info!(ws_endpoint = %endpoint, "API Gateway Management pusher");
    chat.pusher = Arc::new(ApiGwPusher::new(sdk, endpoint));
    Ok(())
}

/// The manifest entry of `f`, provided it agrees with what `f` links and
/// has the stores. A disagreement is a build mistake: the function would
/// run in AWS without a port it uses, or with a grant it never uses.
pub fn check(f: &Function) -> Result<&'static FunctionSpec, ConfigError> {
    let mismatch = |reason: String| ConfigError::Manifest {
        function: f.name,
        reason,
    };
    let spec = manifest()
        .function(f.name)
        .ok_or_else(|| mismatch("not in deploy/functions.json".into()))?;
    for port in LINKABLE.map(|p| p.name) {
        match (spec.has(port), f.links(port)) {
            (true, false) => {
                return Err(mismatch(format!(
                    "deploy/functions.json grants the {port:?} port, which the binary does not link"
                )))
            }
            (false, true) => {
                return Err(mismatch(format!(
                    "the binary links the {port:?} port, which deploy/functions.json does not grant"
                )))
            }
            _ => {}
        }
    }
    Ok(spec)
}

/// The ports of function `f` for the configured backend (`CHAT_BACKEND`:
/// `memory`, the default, or `aws`), built once per cold start. Fails with
/// the name of a missing or invalid variable, or when `f` disagrees with
/// `deploy/functions.json`.
///
/// With `aws`, `CHAT_TABLE_NAME` is required and the stores (DynamoDB, behind
/// Redis when `CHAT_REDIS_URL` is set) are built, plus the ports `f` links,
/// each of which requires its variable. The ports `f` does not link fail
/// every call, naming the variable; with `memory` too (see [`restrict`]).
pub async fn chat_for(src: &dyn Source, f: &Function) -> Result<Chat, ConfigError> {
    let spec = check(f)?;
    if !spec.has(PortName::Stores) {
        return Err(ConfigError::Manifest {
            function: f.name,
            reason: "deploy/functions.json grants it no stores".into(),
        });
    }
    let limits = Limits::from_source(src)?;
    match Backend::from_source(src)? {
        Backend::Memory => {
            tracing::warn!("CHAT_BACKEND=memory: state lives in this process only");
            Ok(restrict(&Chat::in_memory(limits).0, f))
        }
        Backend::Aws => {
            let aws = AwsConfig::from_source(&OwnPorts { src, f })?;
            let sdk = crate::aws::sdk_config(aws.endpoint_url.as_deref()).await;
            let mut chat = stores(&sdk, &aws, limits, &|c, r| (c, r))?;
            for port in f.ports {
                match port.install {
                    Install::Now(install) => install(&sdk, &aws, &mut chat)?,
                    Install::AtColdStart(install) => install(&sdk, &aws, &mut chat).await?,
                }
            }
            Ok(chat)
        }
    }
}

/// The configuration as function `f` may see it: the variables of ports it
/// does not link stay unread, as AWS never sets them for it.
struct OwnPorts<'a> {
    src: &'a dyn Source,
    f: &'a Function,
}

impl Source for OwnPorts<'_> {
    fn get(&self, name: &str) -> Option<String> {
        let hidden = LINKABLE
            .iter()
            .any(|p| p.reads(name) && !self.f.links(p.name));
        if hidden {
            None
        } else {
            self.src.get(name)
        }
    }
}

/// `chat` as function `f` sees it: the ports `f` does not link replaced by
/// ones that fail every call. The local platform hosts every function over
/// one set of adapters and wires each through this, so a function that
/// lacks a port in AWS lacks it locally too.
pub fn restrict(chat: &Chat, f: &Function) -> Chat {
    let mut chat = chat.clone();
    if !f.links(PortName::Queue) {
        chat.queue = Arc::new(Unconfigured(QUEUE.vars.var));
    }
    if !f.links(PortName::Pusher) {
        chat.pusher = Arc::new(Unconfigured(PUSHER.vars.var));
    }
    if !f.links(PortName::Blobs) {
        chat.blobs = Arc::new(Unconfigured(BLOBS.vars.var));
    }
    if !f.links(PortName::WebPush) {
        chat.webpush = None;
    }
    if !f.links(PortName::MobilePush) {
        chat.mobile = None;
    }
    chat
}

/// The whole AWS backend over an SDK configuration already loaded (the local
/// platform and tests pass one for an emulator): the stores, and the queue
/// and the pusher where their variables are set. Functions get their view
/// of it through [`restrict`].
pub fn aws_chat(sdk: &SdkConfig, aws: &AwsConfig, limits: Limits) -> Result<Chat, ConfigError> {
    aws_chat_beneath(sdk, aws, limits, &|c, r| (c, r))
}

/// Wraps the connection and room stores where GSI1 is: beneath the cache.
pub type Beneath<'a> = &'a dyn Fn(
    Arc<dyn ConnectionStore>,
    Arc<dyn RoomStore>,
) -> (Arc<dyn ConnectionStore>, Arc<dyn RoomStore>);

/// [`aws_chat`] with `beneath` around the DynamoDB connection and room
/// stores, under the Redis cache: the local platform's fault lab makes the
/// index lag there, so the cache meets the lag as it would meet GSI1's.
pub fn aws_chat_beneath(
    sdk: &SdkConfig,
    aws: &AwsConfig,
    limits: Limits,
    beneath: Beneath<'_>,
) -> Result<Chat, ConfigError> {
    let mut chat = stores(sdk, aws, limits, beneath)?;
    for port in ALL_PORTS {
        // Web Push is left off: the local platform sends notifications to
        // its own outbox (`GET /dev/notifications`), with no VAPID key.
        let Install::Now(install) = port.install else {
            continue;
        };
        match install(sdk, aws, &mut chat) {
            Ok(()) | Err(ConfigError::Missing(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(chat)
}

/// DynamoDB stores, behind the Redis cache when `aws.redis` is set; the
/// queue and the pusher unconfigured.
fn stores(
    sdk: &SdkConfig,
    aws: &AwsConfig,
    limits: Limits,
    beneath: Beneath<'_>,
) -> Result<Chat, ConfigError> {
    let stores = Table::new(aws_sdk_dynamodb::Client::new(sdk), aws.table_name.as_str()).stores();
    let (mut connections, mut rooms) =
        beneath(Arc::new(stores.connections), Arc::new(stores.rooms));
    let mut messages: Arc<dyn MessageStore> = Arc::new(stores.messages);
    let mut profiles: Arc<dyn ProfileStore> = Arc::new(stores.profiles);
    // The search index is read per query and written once per message:
    // nothing a cache would save.
    let search: Arc<dyn SearchIndex> = Arc::new(stores.search);
    // Without Redis, each instance limits on its own.
    let mut rate_limiter: Arc<dyn RateLimiter> = Arc::new(MemoryRateLimiter::new());
    if let Some(redis) = &aws.redis {
        // The error could echo the URL, which may hold a password: not shown.
        let cache =
            RedisCache::new(CacheConfig::from_config(redis)).map_err(|_| ConfigError::Invalid {
                name: vars::REDIS_URL,
                reason: "not a usable Redis URL".into(),
            })?;
        rate_limiter = Arc::new(RedisRateLimiter::new(cache.clone()));
        connections = Arc::new(CachedConnections::new(connections, cache.clone()));
        rooms = Arc::new(CachedRooms::new(rooms, cache.clone()));
        messages = Arc::new(CachedMessages::new(messages, cache.clone()));
        profiles = Arc::new(CachedProfiles::new(profiles, cache));
    }
    tracing::info!(
        table = %aws.table_name,
        redis = aws.redis.is_some(),
        "CHAT_BACKEND=aws"
    );
    Ok(Chat {
        connections,
        rooms,
        messages,
        changes: Arc::new(stores.changes),
        profiles,
        search,
        notify: Arc::new(stores.notify),
        blocks: Arc::new(stores.blocks),
        keys: Arc::new(stores.keys),
        // Only the function that links [`WEBPUSH`] gets a sender, at cold
        // start: the others never notify, and read no secret.
        webpush: None,
        mobile: None,
        queue: Arc::new(Unconfigured(QUEUE.vars.var)),
        pusher: Arc::new(Unconfigured(PUSHER.vars.var)),
        blobs: Arc::new(Unconfigured(BLOBS.vars.var)),
        clock: Arc::new(SystemClock),
        rate_limiter,
        limits,
    })
}

/// The port of a resource this function did not ask for or was not given:
/// every call fails, naming the variable that would configure it.
struct Unconfigured(&'static str);

impl Unconfigured {
    fn why(&self) -> String {
        format!("{} is not configured for this function", self.0)
    }
}

#[async_trait]
impl JobQueue for Unconfigured {
    async fn enqueue(&self, _: &[Job]) -> Result<(), QueueError> {
        Err(QueueError(self.why().into()))
    }
}

#[async_trait]
impl Pusher for Unconfigured {
    async fn post(&self, _: &ConnectionId, _: &[u8]) -> Result<(), PushError> {
        Err(PushError::Transient(self.why().into()))
    }

    async fn disconnect(&self, _: &ConnectionId) -> Result<(), PushError> {
        Err(PushError::Transient(self.why().into()))
    }
}

#[async_trait]
impl BlobStore for Unconfigured {
    async fn presign_put(
        &self,
        _: &str,
        _: &UploadSpec,
        _: Millis,
        _: i64,
    ) -> Result<Presigned, StoreError> {
        Err(StoreError::unavailable(self.why()))
    }

    async fn presign_get(
        &self,
        _: &str,
        _: &DownloadSpec,
        _: Millis,
        _: i64,
    ) -> Result<String, StoreError> {
        Err(StoreError::unavailable(self.why()))
    }

    async fn head(&self, _: &str) -> Result<Option<BlobHead>, StoreError> {
        Err(StoreError::unavailable(self.why()))
    }

    async fn promote(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: &std::collections::BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        Err(StoreError::unavailable(self.why()))
    }

    async fn delete(&self, _: &str) -> Result<(), StoreError> {
        Err(StoreError::unavailable(self.why()))
    }
}

/// The token verifier of function `f` for the configured identity provider.
/// `CHAT_AUTH_MODE=hs256` (the default) or `jwks` (Cognito): see
/// [`AuthConfig`]. The JWKS verifier's key cache lives as long as the value.
/// Fails when `deploy/functions.json` gives `f` no verifier: it would have
/// none of the auth settings in AWS.
pub fn verifier_for(src: &dyn Source, f: &Function) -> Result<Arc<dyn TokenVerifier>, ConfigError> {
    if !check(f)?.has(PortName::Verifier) {
        return Err(ConfigError::Manifest {
            function: f.name,
            reason: "deploy/functions.json grants it no verifier".into(),
        });
    }
    verifier_from_config(&AuthConfig::from_source(src)?, Arc::new(SystemClock))
}

/// The verifier `config` describes. Built once per cold start: the JWKS
/// verifier's key cache lives as long as it does.
fn verifier_from_config(
    config: &AuthConfig,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn TokenVerifier>, ConfigError> {
    match config {
        AuthConfig::Hs256 {
            jwt_secret,
            issuer,
            audience,
        } => Ok(Arc::new(Hs256Verifier::new(
            jwt_secret.expose().as_bytes(),
            issuer.as_deref(),
            audience.as_deref(),
        ))),
        AuthConfig::Jwks(s) => {
            let mut c = JwksConfig::new(&s.jwks_url, &s.issuer, &s.audience);
            c.token_uses = s.token_uses.clone();
            let v = JwksVerifier::new(c, clock).map_err(|_| ConfigError::Invalid {
                name: vars::JWKS_URL,
                reason: "could not build the HTTP client for it".into(),
            })?;
            Ok(Arc::new(v))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: Function = Function {
        name: "chat-message",
        ports: &[QUEUE, PUSHER, BLOBS],
    };
    const HISTORY: Function = Function {
        name: "chat-history",
        ports: &[BLOBS],
    };

    #[tokio::test]
    async fn the_aws_backend_fails_fast_naming_the_missing_variable() {
        let e = chat_for(&[(vars::BACKEND, "aws")], &MESSAGE)
            .await
            .err()
            .expect("must fail");
        assert_eq!(e, ConfigError::Missing(vars::TABLE_NAME));
        let src = [(vars::BACKEND, "aws"), (vars::TABLE_NAME, "chat")];
        let e = chat_for(&src, &MESSAGE).await.err().expect("must fail");
        assert!(e.to_string().contains("CHAT_QUEUE_URL"), "{e}");
    }

    #[tokio::test]
    async fn a_binary_that_disagrees_with_the_manifest_does_not_start() {
        // chat-rooms tells members roomAdded/roomRemoved: without the
        // pusher it would fail every one of those pushes in AWS.
        let rooms_without_pusher = Function {
            name: "chat-rooms",
            ports: &[],
        };
        let e = chat_for(&[("X", "1")], &rooms_without_pusher)
            .await
            .err()
            .expect("must fail");
        assert!(
            matches!(&e, ConfigError::Manifest { function: "chat-rooms", reason } if reason.contains("Pusher")),
            "{e}"
        );
        let history_with_queue = Function {
            name: "chat-history",
            ports: &[QUEUE, BLOBS],
        };
        let e = chat_for(&[("X", "1")], &history_with_queue)
            .await
            .err()
            .expect("must fail");
        assert!(e.to_string().contains("does not grant"), "{e}");
        let unknown = Function {
            name: "chat-nope",
            ports: &[],
        };
        assert!(check(&unknown).is_err());
        let authorizer = Function {
            name: "chat-authorizer",
            ports: &[],
        };
        let e = chat_for(&[("X", "1")], &authorizer)
            .await
            .err()
            .expect("no stores");
        assert!(e.to_string().contains("no stores"), "{e}");
        let e = verifier_for(&[(vars::JWT_SECRET, "a-secret-of-16-bytes")], &MESSAGE)
            .err()
            .expect("no verifier");
        assert!(e.to_string().contains("no verifier"), "{e}");
    }

    #[tokio::test]
    async fn memory_stays_the_default_and_a_port_not_linked_fails_naming_its_variable() {
        let chat = chat_for(&[("X", "1")], &HISTORY).await.unwrap();
        let e = chat.queue.enqueue(&[]).await.unwrap_err();
        assert!(chat_core::error::chain(&e).contains("CHAT_QUEUE_URL"));
        let id = ConnectionId::parse("abc=").unwrap();
        let e = chat.pusher.post(&id, b"{}").await.unwrap_err();
        assert!(chat_core::error::chain(&e).contains("CHAT_WS_ENDPOINT"));
        let chat = chat_for(&[("X", "1")], &MESSAGE).await.unwrap();
        assert!(chat.queue.enqueue(&[]).await.is_ok());
    }

    #[test]
    fn the_verifier_follows_the_auth_mode_and_names_what_is_missing() {
        let history = &HISTORY;
        assert!(verifier_for(&[(vars::JWT_SECRET, "a-secret-of-16-bytes")], history).is_ok());
        let jwks = [
            (vars::AUTH_MODE, "jwks"),
            (
                vars::JWKS_URL,
                "https://idp.example.com/.well-known/jwks.json",
            ),
            (vars::JWT_ISSUER, "https://idp.example.com"),
            (vars::JWT_AUDIENCE, "client"),
        ];
        assert!(
            verifier_for(&jwks, history).is_ok(),
            "no secret needed, nothing fetched yet"
        );
        let e = verifier_for(&[(vars::AUTH_MODE, "jwks")], history)
            .err()
            .expect("must fail");
        assert_eq!(e, ConfigError::Missing(vars::JWKS_URL));
    }
}
