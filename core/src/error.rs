//! Errors at the domain boundary. [`ChatError`] splits into the caller's fault
//! (bad input, not allowed, …) and ours (a backend failed); it is mapped once
//! to an HTTP status ([`ChatError::http_status`]) and a WebSocket error frame
//! ([`ErrorCode`]), and only the caller's-fault kinds carry their message to
//! the client: ours answer an opaque "internal error" and log the full chain.

use std::error::Error as StdError;

use serde::{Deserialize, Serialize};

/// A boxed source error from an adapter (SDK, Redis, serde, …).
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Failure of a storage adapter.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend could not be reached or answered with an error.
    #[error("store backend unavailable")]
    Unavailable(#[source] BoxError),
    /// A stored record could not be decoded.
    #[error("stored record is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn unavailable(e: impl Into<BoxError>) -> Self {
        StoreError::Unavailable(e.into())
    }
}

/// Failure to enqueue work for the persistence worker.
#[derive(Debug, thiserror::Error)]
#[error("queue unavailable")]
pub struct QueueError(#[source] pub BoxError);

/// Failure to push a frame to one connection.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// API Gateway answered 410: the connection is gone for good.
    #[error("connection is gone")]
    Gone,
    /// A transient failure (throttling, 5xx, timeout): worth a retry.
    #[error("push failed")]
    Transient(#[source] BoxError),
}

/// Failure to send one notification to one push device.
#[derive(Debug, thiserror::Error)]
pub enum WebPushError {
    /// The push service answered 404 or 410: the subscription is gone for
    /// good, and the device is removed.
    #[error("push subscription is gone")]
    Gone,
    /// The push service refused this request (400, 403, 413, …): retrying
    /// it unchanged would fail again.
    #[error("push service refused the notification with status {0}")]
    Refused(u16),
    /// Throttled, 5xx, a timeout, or the endpoint no longer passes the
    /// SSRF check at send time.
    #[error("push failed")]
    Transient(#[source] BoxError),
}

/// Failure to create or delete a mobile device's push endpoint.
#[derive(Debug, thiserror::Error)]
pub enum MobilePushError {
    /// The deployment has no platform application for this kind: the
    /// caller's registration cannot succeed (409).
    #[error("mobile push is not configured for {0}")]
    NotConfigured(crate::mobile::MobilePlatform),
    /// The push service refused the token as invalid (400).
    #[error("the push service refused the token: {0}")]
    InvalidToken(String),
    /// Ours: the push service could not be reached or failed.
    #[error("mobile push failed")]
    Failed(#[source] BoxError),
}

impl From<MobilePushError> for ChatError {
    fn from(e: MobilePushError) -> Self {
        match e {
            MobilePushError::NotConfigured(_) => ChatError::Conflict(e.to_string()),
            MobilePushError::InvalidToken(_) => ChatError::BadRequest(e.to_string()),
            MobilePushError::Failed(_) => ChatError::Store(StoreError::unavailable(e)),
        }
    }
}

/// The error codes of the wire protocol's `error` frame and REST error body.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    RateLimited,
    Internal,
}

impl ErrorCode {
    /// Every code, for tables and documents that list them.
    pub const ALL: [ErrorCode; 8] = [
        ErrorCode::BadRequest,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::TooLarge,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
    ];

    /// The one mapping of an error to its HTTP status (REST answers, the
    /// `$connect` refusal, the OpenAPI document's responses).
    pub const fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::TooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
        }
    }
}

/// Every failure a handler can meet.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    // --- the caller's fault ---
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A feature the deployment turned off (a setting of deploy/settings.json).
    #[error("{0} is turned off in this deployment")]
    Disabled(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooLarge(String),
    /// Too many requests; the same request succeeds after `retry_after_ms`.
    #[error("rate limit exceeded")]
    RateLimited { retry_after_ms: u64 },
    // --- ours ---
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("{0}")]
    Internal(String),
}

impl ChatError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ChatError::BadRequest(_) => ErrorCode::BadRequest,
            ChatError::Unauthorized => ErrorCode::Unauthorized,
            ChatError::Forbidden(_) => ErrorCode::Forbidden,
            ChatError::NotFound(_) | ChatError::Disabled(_) => ErrorCode::NotFound,
            ChatError::Conflict(_) => ErrorCode::Conflict,
            ChatError::TooLarge(_) => ErrorCode::TooLarge,
            ChatError::RateLimited { .. } => ErrorCode::RateLimited,
            ChatError::Store(_) | ChatError::Queue(_) | ChatError::Internal(_) => {
                ErrorCode::Internal
            }
        }
    }

    /// Is this our fault (log it as an error, answer opaquely)?
    pub fn is_internal(&self) -> bool {
        self.code() == ErrorCode::Internal
    }

    /// The message a client may see: the cause for its own mistakes, nothing
    /// about our internals.
    pub fn public_message(&self) -> String {
        if self.is_internal() {
            "internal error".to_owned()
        } else {
            self.to_string()
        }
    }

    /// How long a rate-limited caller should wait before retrying.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            ChatError::RateLimited { retry_after_ms } => Some(*retry_after_ms),
            _ => None,
        }
    }

    pub fn http_status(&self) -> u16 {
        self.code().http_status()
    }
}

/// The whole cause chain of an error, for logs: `a: b: c`.
pub fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_are_opaque_to_clients_but_chained_in_logs() {
        let e = ChatError::from(StoreError::unavailable("dynamodb timed out"));
        assert_eq!(e.public_message(), "internal error");
        assert_eq!(e.http_status(), 500);
        assert_eq!(chain(&e), "store backend unavailable: dynamodb timed out");
    }

    #[test]
    fn caller_errors_map_to_their_status() {
        assert_eq!(ChatError::Forbidden("not a member").http_status(), 403);
        assert_eq!(ChatError::TooLarge("x".into()).code(), ErrorCode::TooLarge);
        assert_eq!(
            ChatError::NotFound("room").public_message(),
            "room not found"
        );
    }
}
