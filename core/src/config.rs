//! Typed configuration, loaded once at cold start from environment variables.
//! Every variable has a default except secrets; a missing or unparsable one
//! fails fast with its name. Secrets are wrapped so they never reach a log.

use std::fmt;

use crate::auth::TokenUse;
use crate::deploy::{settings, Setting};
use crate::ratelimit::{Rate, RateLimits};

/// Environment variable names of everything but the bounded settings
/// (those are in `deploy/settings.json`).
pub mod vars {
    pub const JWT_SECRET: &str = "CHAT_JWT_SECRET";
    pub const JWT_ISSUER: &str = "CHAT_JWT_ISSUER";
    pub const JWT_AUDIENCE: &str = "CHAT_JWT_AUDIENCE";
    /// `hs256` (default: a shared secret) or `jwks` (RS256/ES256, Cognito).
    pub const AUTH_MODE: &str = "CHAT_AUTH_MODE";
    pub const JWKS_URL: &str = "CHAT_JWKS_URL";
    /// `id` (default), `access`, or `id,access`.
    pub const JWT_TOKEN_USE: &str = "CHAT_JWT_TOKEN_USE";
    // Bounded tunables (limits, rate limits, the Redis timeout) are not
    // here: their variables, defaults and bounds are in deploy/settings.json
    // (`crate::deploy::settings`), which infra reads too.
    pub const BACKEND: &str = "CHAT_BACKEND";
    /// Set by Lambda (and `cargo lambda watch`) in every function's
    /// environment: there, `CHAT_BACKEND` has no default.
    pub const LAMBDA_FUNCTION_NAME: &str = "AWS_LAMBDA_FUNCTION_NAME";
    // --- the AWS backend (`CHAT_BACKEND=aws`) ---
    pub const TABLE_NAME: &str = "CHAT_TABLE_NAME";
    pub const QUEUE_URL: &str = "CHAT_QUEUE_URL";
    pub const DLQ_URL: &str = "CHAT_DLQ_URL";
    pub const WS_ENDPOINT: &str = "CHAT_WS_ENDPOINT";
    pub const BUCKET_NAME: &str = "CHAT_BUCKET_NAME";
    /// The Secrets Manager secret (ARN or name) holding the VAPID key pair.
    pub const VAPID_SECRET_ARN: &str = "CHAT_VAPID_SECRET_ARN";
    /// The SNS platform application of FCM (SNS's `GCM`); absent: FCM
    /// tokens are refused (409).
    pub const SNS_FCM_APP_ARN: &str = "CHAT_SNS_FCM_APP_ARN";
    /// The SNS platform application of APNs; absent: APNs tokens are
    /// refused (409).
    pub const SNS_APNS_APP_ARN: &str = "CHAT_SNS_APNS_APP_ARN";
    pub const REDIS_URL: &str = "CHAT_REDIS_URL";
    /// `single` (default) or `cluster`: which protocol the Redis speaks.
    pub const REDIS_MODE: &str = "CHAT_REDIS_MODE";
    /// Read by the AWS SDK itself; also honoured through a [`super::Source`]
    /// so a test can point one `Chat` at an emulator.
    pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    /// The function's binary and `deploy/functions.json` disagree.
    #[error("function {function} does not match deploy/functions.json: {reason}")]
    Manifest {
        function: &'static str,
        reason: String,
    },
}

/// A secret value: `Debug` and `Display` print a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where configuration values come from: the process environment in Lambda,
/// a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct Env;

impl Source for Env {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

/// A function's environment as a map (the local platform resolves one from
/// a template).
impl Source for std::collections::BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        std::collections::BTreeMap::get(self, name)
            .filter(|v| !v.is_empty())
            .cloned()
    }
}

impl<const N: usize> Source for [(&str, &str); N] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

/// The value of `setting`, its default when unset, failing with the
/// variable's name when it is not an integer within the setting's bounds.
fn parse_or<T>(src: &dyn Source, setting: &'static Setting) -> Result<T, ConfigError>
where
    T: TryFrom<u64>,
{
    let name = setting.env.as_str();
    let v = match src.get(name) {
        None => setting.default,
        Some(raw) => raw.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            reason: "not a number".into(),
        })?,
    };
    if v < setting.min || v > setting.max {
        return Err(ConfigError::Invalid {
            name,
            reason: format!("must be between {} and {}", setting.min, setting.max),
        });
    }
    // The bounds in deploy/settings.json fit every field (tested).
    T::try_from(v).map_err(|_| ConfigError::Invalid {
        name,
        reason: "out of range".into(),
    })
}

/// Limits and tunables of the chat domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Message body limit in UTF-8 bytes (API Gateway's frame limit is 128 KB).
    pub max_body_bytes: usize,
    pub max_body_chars: usize,
    /// How long a connection counts as online without a `ping`.
    pub connection_ttl_ms: i64,
    /// A `ping` refreshes the presence TTL only when less than this is left.
    pub presence_refresh_ms: i64,
    /// Pushes in flight at once during one fan-out.
    pub fanout_concurrency: usize,
    /// Rooms with more members are fanned out through the queue, in shards.
    pub fanout_inline_max: usize,
    /// Members per fan-out job.
    pub fanout_shard_size: usize,
    /// Retries of a push that failed transiently (not a 410).
    pub push_retries: u32,
    /// Largest history page and sync batch.
    pub history_page_max: usize,
    pub history_page_default: usize,
    /// Most members a group or channel may have.
    pub max_room_members: usize,
    /// Most members `POST /rooms` may name.
    pub max_initial_members: usize,
    /// Token buckets per connection and user.
    pub rate: RateLimits,
    /// Messages are indexed for message search, and the search routes
    /// answer (else 404, [`ChatError::Disabled`](crate::error::ChatError)).
    pub search_index: bool,
    /// At most one offline notification per user and room in this window.
    pub notify_window_ms: i64,
    /// Offline notifications carry the message body.
    pub notify_bodies: bool,
    /// Which push endpoints a device may register. Loopback only for the
    /// local platform's tests (`chat-local --dev-push-loopback`); never
    /// from a setting a deployment reads.
    pub push_endpoints: crate::notify::EndpointRules,
    /// Attachments ([`crate::attachments`]).
    pub attachments: AttachmentLimits,
}

/// The limits of attachments (deploy/settings.json).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentLimits {
    /// Largest attachment, in bytes.
    pub max_bytes: u64,
    /// Most attachments one message references (0: attachments are off).
    pub max_per_message: usize,
    /// Validity of an upload slot's presigned PUT.
    pub upload_url_ttl_ms: i64,
    /// Validity of the presigned GETs handed to members.
    pub download_url_ttl_ms: i64,
}

impl Default for Limits {
    /// The defaults of deploy/settings.json.
    fn default() -> Self {
        Limits::from_source(&[("", ""); 0]).expect("the settings' defaults lie within their bounds")
    }
}

impl Limits {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let s = settings();
        let max_body_bytes = parse_or(src, &s.max_body_bytes)?;
        // Unset, the character limit never exceeds the byte limit.
        let max_body_chars = match src.get(&s.max_body_chars.env) {
            None => (s.max_body_chars.default as usize).min(max_body_bytes),
            Some(_) => parse_or(src, &s.max_body_chars)?,
        };
        Ok(Self {
            max_body_bytes,
            max_body_chars,
            connection_ttl_ms: parse_or::<i64>(src, &s.connection_ttl_secs)? * 1000,
            presence_refresh_ms: parse_or::<i64>(src, &s.presence_refresh_secs)? * 1000,
            fanout_concurrency: parse_or(src, &s.fanout_concurrency)?,
            fanout_inline_max: parse_or(src, &s.fanout_inline_max)?,
            fanout_shard_size: parse_or(src, &s.fanout_shard_size)?,
            push_retries: parse_or(src, &s.push_retries)?,
            history_page_max: parse_or(src, &s.history_page_max)?,
            history_page_default: 50,
            max_room_members: parse_or(src, &s.max_room_members)?,
            max_initial_members: 100,
            rate: rate_limits(src)?,
            attachments: AttachmentLimits {
                max_bytes: parse_or(src, &s.max_attachment_bytes)?,
                max_per_message: parse_or(src, &s.max_attachments_per_message)?,
                upload_url_ttl_ms: parse_or::<i64>(src, &s.upload_url_ttl_secs)? * 1000,
                download_url_ttl_ms: parse_or::<i64>(src, &s.attachment_url_ttl_secs)? * 1000,
            },
            search_index: parse_or::<u8>(src, &s.search_index)? == 1,
            notify_window_ms: parse_or::<i64>(src, &s.notify_window_secs)? * 1000,
            notify_bodies: parse_or::<u8>(src, &s.notify_bodies)? == 1,
            push_endpoints: crate::notify::EndpointRules::default(),
        })
    }
}

fn rate(
    src: &dyn Source,
    per_sec: &'static Setting,
    burst: &'static Setting,
) -> Result<Rate, ConfigError> {
    Ok(Rate::new(parse_or(src, per_sec)?, parse_or(src, burst)?))
}

fn rate_limits(src: &dyn Source) -> Result<RateLimits, ConfigError> {
    let s = settings();
    Ok(RateLimits {
        message_per_connection: rate(src, &s.rate_msg_conn_per_sec, &s.rate_msg_conn_burst)?,
        message_per_user: rate(src, &s.rate_msg_user_per_sec, &s.rate_msg_user_burst)?,
        typing_per_user: rate(src, &s.rate_typing_per_sec, &s.rate_typing_burst)?,
        rest_per_user: rate(src, &s.rate_rest_per_sec, &s.rate_rest_burst)?,
    })
}

/// How tokens are verified (`CHAT_AUTH_MODE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthConfig {
    /// `hs256`, the default: a shared secret (the local platform, tests).
    Hs256 {
        jwt_secret: Secret,
        /// Checked when set.
        issuer: Option<String>,
        audience: Option<String>,
    },
    /// `jwks`: RS256/ES256 tokens of the provider publishing the key set.
    Jwks(JwksSettings),
}

/// `CHAT_AUTH_MODE=jwks`: every value is required.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwksSettings {
    pub jwks_url: String,
    pub issuer: String,
    /// The app client id: an ID token's `aud`, an access token's `client_id`.
    pub audience: String,
    pub token_uses: Vec<TokenUse>,
}

/// An `https://` URL, or `http://` to this machine (tests, local tools):
/// keys fetched in the clear from elsewhere could be swapped on the way.
fn key_set_url(src: &dyn Source, name: &'static str) -> Result<String, ConfigError> {
    let url = src.get(name).ok_or(ConfigError::Missing(name))?;
    let local = [
        "http://127.0.0.1:",
        "http://127.0.0.1/",
        "http://localhost:",
        "http://localhost/",
        "http://[::1]:",
    ];
    if url.starts_with("https://") || local.iter().any(|p| url.starts_with(p)) {
        Ok(url)
    } else {
        Err(ConfigError::Invalid {
            name,
            reason: "must be an https:// URL (http:// only to localhost)".into(),
        })
    }
}

impl AuthConfig {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        match src.get(vars::AUTH_MODE).as_deref() {
            None | Some("hs256") => {
                let secret = src
                    .get(vars::JWT_SECRET)
                    .ok_or(ConfigError::Missing(vars::JWT_SECRET))?;
                if secret.len() < 16 {
                    return Err(ConfigError::Invalid {
                        name: vars::JWT_SECRET,
                        reason: "must be at least 16 bytes".into(),
                    });
                }
                Ok(Self::Hs256 {
                    jwt_secret: Secret::new(secret),
                    issuer: src.get(vars::JWT_ISSUER),
                    audience: src.get(vars::JWT_AUDIENCE),
                })
            }
            Some("jwks") => {
                let jwks_url = key_set_url(src, vars::JWKS_URL)?;
                let issuer = src
                    .get(vars::JWT_ISSUER)
                    .ok_or(ConfigError::Missing(vars::JWT_ISSUER))?;
                let audience = src
                    .get(vars::JWT_AUDIENCE)
                    .ok_or(ConfigError::Missing(vars::JWT_AUDIENCE))?;
                let token_uses = match src.get(vars::JWT_TOKEN_USE) {
                    None => vec![TokenUse::Id],
                    Some(raw) => {
                        TokenUse::parse_list(&raw).map_err(|reason| ConfigError::Invalid {
                            name: vars::JWT_TOKEN_USE,
                            reason,
                        })?
                    }
                };
                Ok(Self::Jwks(JwksSettings {
                    jwks_url,
                    issuer,
                    audience,
                    token_uses,
                }))
            }
            Some(_) => Err(ConfigError::Invalid {
                name: vars::AUTH_MODE,
                reason: "supported: hs256, jwks".into(),
            }),
        }
    }
}

/// Which adapters back the ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// In-process memory: the local platform and tests.
    Memory,
    /// DynamoDB, SQS and the API Gateway Management API, optionally with a
    /// Redis cache in front of the stores ([`AwsConfig`]).
    Aws,
}

impl Backend {
    /// `CHAT_BACKEND`, `memory` when unset, except in a Lambda environment:
    /// a deployed function without it would keep its state in its own
    /// sandbox, so it refuses to start instead.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        match src.get(vars::BACKEND).as_deref() {
            None if src.get(vars::LAMBDA_FUNCTION_NAME).is_some() => {
                Err(ConfigError::Missing(vars::BACKEND))
            }
            None | Some("memory") => Ok(Backend::Memory),
            Some("aws") => Ok(Backend::Aws),
            Some(_) => Err(ConfigError::Invalid {
                name: vars::BACKEND,
                reason: "supported: memory, aws".into(),
            }),
        }
    }
}

/// Where the AWS backend's resources are. Region and credentials are not
/// here: the SDK's default chain finds them (the Lambda environment in AWS).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsConfig {
    /// The single DynamoDB table (key design in `chat_adapters::dynamo`).
    pub table_name: String,
    /// The SQS queue the persistence worker consumes. Only the functions
    /// that enqueue get it (least privilege: `deploy/functions.json`).
    pub queue_url: Option<String>,
    /// Its dead-letter queue, for tools that inspect or redrive it.
    pub dlq_url: Option<String>,
    /// The API Gateway Management endpoint of the WebSocket stage,
    /// `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`. Only
    /// the functions that push get it.
    pub ws_endpoint: Option<String>,
    /// The attachments' S3 bucket. Only the functions that sign or claim
    /// attachments get it.
    pub bucket_name: Option<String>,
    /// The Secrets Manager secret of the VAPID key pair. Only the function
    /// that sends offline notifications gets it.
    pub vapid_secret_arn: Option<String>,
    /// The SNS platform applications of mobile push (FCM, APNs), each
    /// optional. Only the functions that create endpoints or publish get
    /// them.
    pub sns_fcm_app_arn: Option<String>,
    pub sns_apns_app_arn: Option<String>,
    /// One endpoint for every AWS service (an emulator such as moto).
    pub endpoint_url: Option<String>,
    /// The cache in front of the stores; `None` runs without one.
    pub redis: Option<RedisConfig>,
}

/// The Redis cache. The URL may carry a password, so it is a [`Secret`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisConfig {
    pub url: Secret,
    /// Bound on every Redis call; past it the call counts as failed and the
    /// operation is served by DynamoDB alone.
    pub timeout_ms: u64,
    pub mode: RedisMode,
    /// How long after a change an entry loaded from the eventually
    /// consistent index is served without being cached (the index lag the
    /// cache tolerates).
    pub index_hold_ms: u64,
}

/// Which protocol the Redis behind [`RedisConfig::url`] speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RedisMode {
    /// One shard: a standalone server or a replication group with cluster
    /// mode disabled (its primary endpoint).
    #[default]
    Single,
    /// The Redis Cluster protocol (MOVED/ASK redirects, one hash slot per
    /// multi-key command): ElastiCache Serverless, or cluster mode enabled.
    Cluster,
}

impl RedisMode {
    /// The value of `CHAT_REDIS_MODE` that selects this mode.
    pub fn as_str(self) -> &'static str {
        match self {
            RedisMode::Single => "single",
            RedisMode::Cluster => "cluster",
        }
    }

    fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        match src.get(vars::REDIS_MODE).as_deref() {
            None | Some("single") => Ok(RedisMode::Single),
            Some("cluster") => Ok(RedisMode::Cluster),
            Some(_) => Err(ConfigError::Invalid {
                name: vars::REDIS_MODE,
                reason: "supported: single, cluster".into(),
            }),
        }
    }
}

fn required(src: &dyn Source, name: &'static str) -> Result<String, ConfigError> {
    src.get(name).ok_or(ConfigError::Missing(name))
}

fn http_url(src: &dyn Source, name: &'static str) -> Result<Option<String>, ConfigError> {
    match src.get(name) {
        Some(u) if !(u.starts_with("https://") || u.starts_with("http://")) => {
            Err(ConfigError::Invalid {
                name,
                reason: "must be an http(s) URL".into(),
            })
        }
        other => Ok(other),
    }
}

impl AwsConfig {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let table_name = required(src, vars::TABLE_NAME)?;
        let queue_url = http_url(src, vars::QUEUE_URL)?;
        let ws_endpoint =
            http_url(src, vars::WS_ENDPOINT)?.map(|u| u.trim_end_matches('/').to_owned());
        let redis = match src.get(vars::REDIS_URL) {
            None => None,
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Some(RedisConfig {
                    url: Secret::new(url),
                    timeout_ms: parse_or(src, &settings().redis_timeout_ms)?,
                    mode: RedisMode::from_source(src)?,
                    index_hold_ms: parse_or(src, &settings().redis_index_hold_ms)?,
                })
            }
            Some(_) => {
                return Err(ConfigError::Invalid {
                    name: vars::REDIS_URL,
                    reason: "must be a redis:// or rediss:// URL".into(),
                })
            }
        };
        Ok(Self {
            table_name,
            queue_url,
            dlq_url: src.get(vars::DLQ_URL),
            ws_endpoint,
            bucket_name: src.get(vars::BUCKET_NAME),
            vapid_secret_arn: src.get(vars::VAPID_SECRET_ARN),
            sns_fcm_app_arn: src.get(vars::SNS_FCM_APP_ARN),
            sns_apns_app_arn: src.get(vars::SNS_APNS_APP_ARN),
            endpoint_url: http_url(src, vars::AWS_ENDPOINT_URL)?,
            redis,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        assert_eq!(
            Limits::from_source(&[("X", "1")]).unwrap(),
            Limits::default()
        );
    }

    #[test]
    fn every_setting_is_read_with_the_bounds_of_the_settings_file() {
        for setting in settings().all() {
            let name = setting.env.as_str();
            let (lo, hi) = (setting.min.to_string(), setting.max.to_string());
            let (below, above) = (
                setting.min.checked_sub(1).map(|v| v.to_string()),
                (setting.max + 1).to_string(),
            );
            let check = |v: &str| -> Result<(), ConfigError> {
                if std::ptr::eq(setting, &settings().redis_timeout_ms)
                    || std::ptr::eq(setting, &settings().redis_index_hold_ms)
                {
                    let src = [
                        (vars::TABLE_NAME, "t"),
                        (vars::REDIS_URL, "redis://127.0.0.1:6379"),
                        (name, v),
                    ];
                    AwsConfig::from_source(&src).map(|_| ())
                } else {
                    Limits::from_source(&[(name, v)]).map(|_| ())
                }
            };
            assert_eq!(check(&lo), Ok(()), "{name}={lo}");
            assert_eq!(check(&hi), Ok(()), "{name}={hi}");
            for bad in below.iter().chain([&above]) {
                let e = check(bad).unwrap_err();
                assert!(
                    matches!(e, ConfigError::Invalid { name: n, .. } if n == name),
                    "{name}={bad}: {e}"
                );
            }
        }
    }

    #[test]
    fn a_function_in_lambda_refuses_to_start_without_an_explicit_backend() {
        let in_lambda = (vars::LAMBDA_FUNCTION_NAME, "chat-message");
        assert_eq!(
            Backend::from_source(&[in_lambda]),
            Err(ConfigError::Missing(vars::BACKEND))
        );
        assert_eq!(
            Backend::from_source(&[in_lambda, (vars::BACKEND, "memory")]),
            Ok(Backend::Memory)
        );
        assert_eq!(
            Backend::from_source(&[in_lambda, (vars::BACKEND, "aws")]),
            Ok(Backend::Aws)
        );
        // Outside Lambda (the local platform, tests), memory stays the default.
        assert_eq!(Backend::from_source(&[("X", "1")]), Ok(Backend::Memory));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e =
            Limits::from_source(&[(settings().max_body_bytes.env.as_str(), "lots")]).unwrap_err();
        assert!(e.to_string().contains("CHAT_MAX_BODY_BYTES"), "{e}");
        let e = Limits::from_source(&[(settings().max_body_bytes.env.as_str(), "999999999")])
            .unwrap_err();
        assert!(e.to_string().contains("between"), "{e}");
    }

    #[test]
    fn a_missing_secret_fails_fast_and_secrets_never_print() {
        assert_eq!(
            AuthConfig::from_source(&[("X", "1")]),
            Err(ConfigError::Missing("CHAT_JWT_SECRET"))
        );
        let c = AuthConfig::from_source(&[(vars::JWT_SECRET, "super-secret-value-123")]).unwrap();
        assert!(!format!("{c:?}").contains("super-secret"));
    }

    #[test]
    fn jwks_mode_needs_url_issuer_and_audience_and_names_the_missing_one() {
        const URL: &str = "https://cognito-idp.us-east-1.amazonaws.com/pool/.well-known/jwks.json";
        const ISS: &str = "https://cognito-idp.us-east-1.amazonaws.com/pool";
        let all = [
            (vars::AUTH_MODE, "jwks"),
            (vars::JWKS_URL, URL),
            (vars::JWT_ISSUER, ISS),
            (vars::JWT_AUDIENCE, "client"),
        ];
        assert_eq!(
            AuthConfig::from_source(&all),
            Ok(AuthConfig::Jwks(JwksSettings {
                jwks_url: URL.into(),
                issuer: ISS.into(),
                audience: "client".into(),
                token_uses: vec![TokenUse::Id],
            }))
        );
        // No secret is needed in jwks mode; each missing value is named.
        for (i, name) in [vars::JWKS_URL, vars::JWT_ISSUER, vars::JWT_AUDIENCE]
            .into_iter()
            .enumerate()
        {
            let mut src = all;
            src[i + 1].0 = "UNSET";
            let e = AuthConfig::from_source(&src).unwrap_err();
            assert_eq!(e, ConfigError::Missing(name));
            assert!(e.to_string().contains(name), "{e}");
        }
        let [a, b, c, d] = all;
        let uses = AuthConfig::from_source(&[a, b, c, d, (vars::JWT_TOKEN_USE, "id,access")]);
        assert!(
            matches!(uses, Ok(AuthConfig::Jwks(s)) if s.token_uses == [TokenUse::Id, TokenUse::Access])
        );
        let bad = AuthConfig::from_source(&[a, b, c, d, (vars::JWT_TOKEN_USE, "refresh")]);
        assert!(matches!(
            bad,
            Err(ConfigError::Invalid {
                name: vars::JWT_TOKEN_USE,
                ..
            })
        ));
        // Keys are not fetched in the clear from elsewhere.
        let plain =
            AuthConfig::from_source(&[a, (vars::JWKS_URL, "http://keys.example.com/jwks"), c, d]);
        assert!(matches!(
            plain,
            Err(ConfigError::Invalid {
                name: vars::JWKS_URL,
                ..
            })
        ));
        let local =
            AuthConfig::from_source(&[a, (vars::JWKS_URL, "http://127.0.0.1:9/jwks"), c, d]);
        assert!(local.is_ok());
        let mode = AuthConfig::from_source(&[(vars::AUTH_MODE, "rs256")]).unwrap_err();
        assert!(mode.to_string().contains("CHAT_AUTH_MODE"), "{mode}");
    }

    #[test]
    fn rate_limits_default_and_are_configurable() {
        let d = Limits::default().rate;
        assert_eq!(d.message_per_connection, Rate::new(10, 20));
        assert_eq!(d.message_per_user, Rate::new(20, 40));
        assert_eq!(d.typing_per_user, Rate::new(2, 4));
        assert_eq!(d.rest_per_user, Rate::new(20, 40));
        let l = Limits::from_source(&[
            (settings().rate_msg_conn_per_sec.env.as_str(), "5"),
            (settings().rate_rest_burst.env.as_str(), "7"),
        ])
        .unwrap();
        assert_eq!(l.rate.message_per_connection, Rate::new(5, 20));
        assert_eq!(l.rate.rest_per_user, Rate::new(20, 7));
        let e =
            Limits::from_source(&[(settings().rate_typing_per_sec.env.as_str(), "0")]).unwrap_err();
        assert!(e.to_string().contains("CHAT_RATE_TYPING_PER_SEC"), "{e}");
    }

    const AWS: [(&str, &str); 4] = [
        (vars::BACKEND, "aws"),
        (vars::TABLE_NAME, "chat"),
        (
            vars::QUEUE_URL,
            "https://sqs.us-east-1.amazonaws.com/1/chat",
        ),
        (
            vars::WS_ENDPOINT,
            "https://abc.execute-api.us-east-1.amazonaws.com/prod/",
        ),
    ];

    #[test]
    fn the_aws_backend_needs_its_resources_and_names_the_missing_one() {
        assert_eq!(Backend::from_source(&AWS), Ok(Backend::Aws));
        let c = AwsConfig::from_source(&AWS).unwrap();
        assert_eq!(
            c.ws_endpoint.as_deref(),
            Some("https://abc.execute-api.us-east-1.amazonaws.com/prod")
        );
        assert_eq!(
            (&c.redis, &c.dlq_url, &c.endpoint_url),
            (&None, &None, &None)
        );
        let mut src = AWS;
        src[0].0 = "UNSET";
        src[1].0 = "UNSET";
        assert_eq!(
            AwsConfig::from_source(&src),
            Err(ConfigError::Missing(vars::TABLE_NAME))
        );
        // Queue and endpoint are per function: optional here, required by
        // the wiring of the functions that link them.
        let [a, b, _, d] = AWS;
        let c = AwsConfig::from_source(&[a, b, d]).unwrap();
        assert_eq!(c.queue_url, None);
        let e = AwsConfig::from_source(&[a, b, (vars::WS_ENDPOINT, "wss://x")]).unwrap_err();
        assert!(e.to_string().contains("CHAT_WS_ENDPOINT"), "{e}");
    }

    #[test]
    fn redis_is_optional_with_a_50ms_default_timeout_and_a_secret_url() {
        let [a, b, c, d] = AWS;
        let src = [a, b, c, d, (vars::REDIS_URL, "redis://:hunter2@cache:6379")];
        let redis = AwsConfig::from_source(&src).unwrap().redis.unwrap();
        assert_eq!(redis.timeout_ms, 50);
        assert!(!format!("{redis:?}").contains("hunter2"));
        let src = [a, b, c, d, (vars::REDIS_URL, "cache:6379")];
        assert!(matches!(
            AwsConfig::from_source(&src),
            Err(ConfigError::Invalid {
                name: vars::REDIS_URL,
                ..
            })
        ));
        let src = [a, b, c, d, (settings().redis_timeout_ms.env.as_str(), "0")];
        assert!(AwsConfig::from_source(&src).unwrap().redis.is_none());
    }

    #[test]
    fn redis_mode_defaults_to_single_and_a_bad_value_names_the_variable() {
        let [a, b, c, d] = AWS;
        let url = (vars::REDIS_URL, "rediss://cache:6379");
        let mode = |m: &'static str| {
            AwsConfig::from_source(&[a, b, c, d, url, (vars::REDIS_MODE, m)])
                .map(|c| c.redis.unwrap().mode)
        };
        let unset = AwsConfig::from_source(&[a, b, c, d, url]).unwrap();
        assert_eq!(unset.redis.unwrap().mode, RedisMode::Single);
        assert_eq!(mode("single"), Ok(RedisMode::Single));
        assert_eq!(mode("cluster"), Ok(RedisMode::Cluster));
        assert!(matches!(
            mode("sharded"),
            Err(ConfigError::Invalid {
                name: vars::REDIS_MODE,
                ..
            })
        ));
    }
}
