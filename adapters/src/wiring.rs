//! Building a [`Chat`] and a token verifier from configuration: the one place
//! a function's `main` turns environment variables into adapters. Called once
//! per cold start; the SDK clients and the Redis connection it builds are
//! shared by every invocation of the sandbox.

use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use chat_shared::auth::TokenVerifier;
use chat_shared::config::{vars, AuthConfig, AwsConfig, Backend, ConfigError, Limits, Source};
use chat_shared::error::{PushError, QueueError};
use chat_shared::ids::ConnectionId;
use chat_shared::model::Job;
use chat_shared::ports::{
    ConnectionStore, JobQueue, MessageStore, ProfileStore, Pusher, RoomStore, SystemClock,
};
use chat_shared::ratelimit::{MemoryRateLimiter, RateLimiter};
use chat_shared::service::Chat;

use crate::apigw::ApiGwPusher;
use crate::dynamo::Table;
use crate::redis_cache::{
    CacheConfig, CachedConnections, CachedMessages, CachedProfiles, CachedRooms, RedisCache,
    RedisRateLimiter,
};
use crate::sqs::SqsQueue;

/// The ports for the configured backend (`CHAT_BACKEND`: `memory`, the
/// default, or `aws`). A missing or invalid variable fails with its name.
///
/// With `aws`, `CHAT_TABLE_NAME` is required and the stores (DynamoDB, behind
/// Redis when `CHAT_REDIS_URL` is set) are built; the queue and the pusher
/// are not: every call to them fails, naming the variable. A function that
/// enqueues or pushes asks for them with [`chat_requiring`].
pub async fn chat(src: &dyn Source) -> Result<Chat, ConfigError> {
    chat_requiring(src, &[]).await
}

/// A port beyond the stores that a function asks for: [`QUEUE`] or
/// [`PUSHER`]. Naming one is what links its AWS client into the binary: a
/// function that never names [`QUEUE`] carries no SQS client (LTO drops
/// what nothing references, and a run-time switch would reference all).
#[derive(Clone, Copy)]
pub struct Port {
    var: &'static str,
    install: fn(&SdkConfig, &AwsConfig, &mut Chat),
}

/// The SQS job queue, at `CHAT_QUEUE_URL`.
pub const QUEUE: Port = Port {
    var: vars::QUEUE_URL,
    install: install_queue,
};

/// The API Gateway Management API pusher, at `CHAT_WS_ENDPOINT`.
pub const PUSHER: Port = Port {
    var: vars::WS_ENDPOINT,
    install: install_pusher,
};

fn install_queue(sdk: &SdkConfig, aws: &AwsConfig, chat: &mut Chat) {
    if let Some(url) = &aws.queue_url {
        tracing::info!(queue = %url, "SQS job queue");
        chat.queue = Arc::new(SqsQueue::new(aws_sdk_sqs::Client::new(sdk), url.as_str()));
    }
}

fn install_pusher(sdk: &SdkConfig, aws: &AwsConfig, chat: &mut Chat) {
    if let Some(endpoint) = &aws.ws_endpoint {
        tracing::info!(ws_endpoint = %endpoint, "API Gateway Management pusher");
        chat.pusher = Arc::new(ApiGwPusher::new(sdk, endpoint));
    }
}

/// [`chat`] with the `ports` this function uses; the `aws` backend fails at
/// cold start unless each one's variable is set.
pub async fn chat_requiring(src: &dyn Source, ports: &[Port]) -> Result<Chat, ConfigError> {
    let limits = Limits::from_source(src)?;
    match Backend::from_source(src)? {
        Backend::Memory => {
            tracing::warn!("CHAT_BACKEND=memory: state lives in this process only");
            Ok(Chat::in_memory(limits).0)
        }
        Backend::Aws => {
            let aws = AwsConfig::from_source(src)?;
            let vars: Vec<&'static str> = ports.iter().map(|p| p.var).collect();
            aws.require(&vars)?;
            let sdk = crate::aws::sdk_config(aws.endpoint_url.as_deref()).await;
            with_ports(&sdk, &aws, limits, ports)
        }
    }
}

/// The whole AWS backend over an SDK configuration already loaded (the local
/// platform and tests pass one for an emulator): the stores, and the queue
/// and the pusher where their variables are set.
pub fn aws_chat(sdk: &SdkConfig, aws: &AwsConfig, limits: Limits) -> Result<Chat, ConfigError> {
    with_ports(sdk, aws, limits, &[QUEUE, PUSHER])
}

fn with_ports(
    sdk: &SdkConfig,
    aws: &AwsConfig,
    limits: Limits,
    ports: &[Port],
) -> Result<Chat, ConfigError> {
    let mut chat = stores(sdk, aws, limits)?;
    for port in ports {
        (port.install)(sdk, aws, &mut chat);
    }
    Ok(chat)
}

/// DynamoDB stores, behind the Redis cache when `aws.redis` is set; the
/// queue and the pusher unconfigured.
fn stores(sdk: &SdkConfig, aws: &AwsConfig, limits: Limits) -> Result<Chat, ConfigError> {
    let stores = Table::new(aws_sdk_dynamodb::Client::new(sdk), aws.table_name.as_str()).stores();
    let mut connections: Arc<dyn ConnectionStore> = Arc::new(stores.connections);
    let mut rooms: Arc<dyn RoomStore> = Arc::new(stores.rooms);
    let mut messages: Arc<dyn MessageStore> = Arc::new(stores.messages);
    let mut profiles: Arc<dyn ProfileStore> = Arc::new(stores.profiles);
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
        profiles,
        queue: Arc::new(Unconfigured(vars::QUEUE_URL)),
        pusher: Arc::new(Unconfigured(vars::WS_ENDPOINT)),
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

/// The token verifier for the configured identity provider.
/// `CHAT_AUTH_MODE=hs256` (the default) or `jwks` (Cognito): see
/// [`AuthConfig`]. The JWKS verifier's key cache lives as long as the value.
pub fn verifier(src: &dyn Source) -> Result<Arc<dyn TokenVerifier>, ConfigError> {
    chat_shared::auth::verifier_from_config(&AuthConfig::from_source(src)?, Arc::new(SystemClock))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_aws_backend_fails_fast_naming_the_missing_variable() {
        let e = chat(&[(vars::BACKEND, "aws")])
            .await
            .err()
            .expect("must fail");
        assert_eq!(e, ConfigError::Missing(vars::TABLE_NAME));
        let src = [(vars::BACKEND, "aws"), (vars::TABLE_NAME, "chat")];
        let e = chat_requiring(&src, &[QUEUE])
            .await
            .err()
            .expect("must fail");
        assert!(e.to_string().contains("CHAT_QUEUE_URL"), "{e}");
    }

    #[tokio::test]
    async fn memory_stays_the_default() {
        assert!(chat(&[("X", "1")]).await.is_ok());
    }

    #[test]
    fn the_verifier_follows_the_auth_mode_and_names_what_is_missing() {
        assert!(verifier(&[(vars::JWT_SECRET, "a-secret-of-16-bytes")]).is_ok());
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
            verifier(&jwks).is_ok(),
            "no secret needed, nothing fetched yet"
        );
        let e = verifier(&[(vars::AUTH_MODE, "jwks")])
            .err()
            .expect("must fail");
        assert_eq!(e, ConfigError::Missing(vars::JWKS_URL));
    }
}
