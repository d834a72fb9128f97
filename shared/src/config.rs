//! Typed configuration, loaded once at cold start from environment variables.
//! Every variable has a default except secrets; a missing or unparsable one
//! fails fast with its name. Secrets are wrapped so they never reach a log.

use std::fmt;

/// Environment variable names, in one place.
pub mod vars {
    pub const JWT_SECRET: &str = "CHAT_JWT_SECRET";
    pub const JWT_ISSUER: &str = "CHAT_JWT_ISSUER";
    pub const JWT_AUDIENCE: &str = "CHAT_JWT_AUDIENCE";
    pub const MAX_BODY_BYTES: &str = "CHAT_MAX_BODY_BYTES";
    pub const MAX_BODY_CHARS: &str = "CHAT_MAX_BODY_CHARS";
    pub const CONNECTION_TTL_SECS: &str = "CHAT_CONNECTION_TTL_SECS";
    pub const FANOUT_CONCURRENCY: &str = "CHAT_FANOUT_CONCURRENCY";
    pub const PUSH_RETRIES: &str = "CHAT_PUSH_RETRIES";
    pub const HISTORY_PAGE_MAX: &str = "CHAT_HISTORY_PAGE_MAX";
    pub const MAX_ROOM_MEMBERS: &str = "CHAT_MAX_ROOM_MEMBERS";
    pub const BACKEND: &str = "CHAT_BACKEND";
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
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

impl<const N: usize> Source for [(&str, &str); N] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

fn parse_or<T>(
    src: &dyn Source,
    name: &'static str,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display,
{
    let Some(raw) = src.get(name) else {
        return Ok(default);
    };
    let v: T = raw.trim().parse().map_err(|_| ConfigError::Invalid {
        name,
        reason: "not a number".into(),
    })?;
    if v < min || v > max {
        return Err(ConfigError::Invalid {
            name,
            reason: format!("must be between {min} and {max}"),
        });
    }
    Ok(v)
}

/// Limits and tunables of the chat domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Message body limit in UTF-8 bytes (API Gateway's frame limit is 128 KB).
    pub max_body_bytes: usize,
    pub max_body_chars: usize,
    /// How long a connection counts as online without a `ping`.
    pub connection_ttl_ms: i64,
    /// Pushes in flight at once during one fan-out.
    pub fanout_concurrency: usize,
    /// Retries of a push that failed transiently (not a 410).
    pub push_retries: u32,
    /// Largest history page and sync batch.
    pub history_page_max: usize,
    pub history_page_default: usize,
    /// Most members a group or channel may have.
    pub max_room_members: usize,
    /// Most members `POST /rooms` may name.
    pub max_initial_members: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 4096,
            max_body_chars: 4096,
            connection_ttl_ms: 300_000,
            fanout_concurrency: 32,
            push_retries: 2,
            history_page_max: 100,
            history_page_default: 50,
            max_room_members: 1000,
            max_initial_members: 100,
        }
    }
}

impl Limits {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let d = Limits::default();
        let max_body_bytes = parse_or(src, vars::MAX_BODY_BYTES, d.max_body_bytes, 1, 120 * 1024)?;
        Ok(Self {
            max_body_bytes,
            max_body_chars: parse_or(
                src,
                vars::MAX_BODY_CHARS,
                d.max_body_chars.min(max_body_bytes),
                1,
                120 * 1024,
            )?,
            connection_ttl_ms: parse_or(
                src,
                vars::CONNECTION_TTL_SECS,
                d.connection_ttl_ms / 1000,
                10,
                7200,
            )? * 1000,
            fanout_concurrency: parse_or(
                src,
                vars::FANOUT_CONCURRENCY,
                d.fanout_concurrency,
                1,
                1024,
            )?,
            push_retries: parse_or(src, vars::PUSH_RETRIES, d.push_retries, 0, 10)?,
            history_page_max: parse_or(src, vars::HISTORY_PAGE_MAX, d.history_page_max, 1, 1000)?,
            history_page_default: d.history_page_default,
            max_room_members: parse_or(
                src,
                vars::MAX_ROOM_MEMBERS,
                d.max_room_members,
                2,
                100_000,
            )?,
            max_initial_members: d.max_initial_members,
        })
    }
}

/// How tokens are verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthConfig {
    pub jwt_secret: Secret,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

impl AuthConfig {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let secret = src
            .get(vars::JWT_SECRET)
            .ok_or(ConfigError::Missing(vars::JWT_SECRET))?;
        if secret.len() < 16 {
            return Err(ConfigError::Invalid {
                name: vars::JWT_SECRET,
                reason: "must be at least 16 bytes".into(),
            });
        }
        Ok(Self {
            jwt_secret: Secret::new(secret),
            issuer: src.get(vars::JWT_ISSUER),
            audience: src.get(vars::JWT_AUDIENCE),
        })
    }
}

/// Which adapters back the ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// In-process memory: the local platform and tests.
    Memory,
}

impl Backend {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        match src.get(vars::BACKEND).as_deref() {
            None | Some("memory") => Ok(Backend::Memory),
            Some(_) => Err(ConfigError::Invalid {
                name: vars::BACKEND,
                reason: "supported: memory".into(),
            }),
        }
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
    fn bad_values_name_the_variable() {
        let e = Limits::from_source(&[(vars::MAX_BODY_BYTES, "lots")]).unwrap_err();
        assert!(e.to_string().contains("CHAT_MAX_BODY_BYTES"), "{e}");
        let e = Limits::from_source(&[(vars::MAX_BODY_BYTES, "999999999")]).unwrap_err();
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
}
