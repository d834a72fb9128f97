//! # chat-adapters
//!
//! The real backends behind the ports of [`chat_core::ports`]. The domain
//! never sees a vendor type: each module here maps one port onto one AWS
//! service (or Redis), and every adapter passes the same contract suite
//! (`chat_core::contract`, behind its `contract` feature) as its in-memory
//! twin.
//!
//! - [`dynamo`]: the four stores over one DynamoDB table (key design and every
//!   access pattern documented there).
//! - [`sqs`]: the job queue to the persistence worker.
//! - [`s3`]: the attachments' bucket, with presigned uploads and downloads.
//! - [`apigw`]: pushes to WebSocket connections through the API Gateway
//!   Management API.
//! - [`redis_cache`]: decorators that put Redis in front of any store, as a
//!   cache only (never the source of truth), with a per-call timeout and a
//!   circuit breaker so a slow or dead Redis never fails an operation.
//! - [`jwks`]: the token verifier for a provider that publishes its keys as
//!   a JWKS (Cognito): RS256/ES256, keys fetched over HTTPS and cached.
//! - [`sns`]: mobile push (FCM and APNs tokens) through SNS platform
//!   endpoints.
//! - [`vapid_secret`]: the VAPID key pair of Web Push, read from Secrets
//!   Manager once per cold start (a placeholder or a missing secret turns
//!   pushes off, never the function).
//! - [`aws`]: building the SDK configuration once per cold start (and pointing
//!   it at an emulator).
//! - [`trace`]: the tracing ids attached to queued jobs.
//! - [`wiring`]: configuration → a [`chat_core::Chat`]; the only module a
//!   function's `main` calls.
//!
//! Why a crate of its own: the domain crate (`chat-core`) stays free of the
//! AWS SDK and Redis, so its tests and the embedded local platform build
//! without them.

pub mod apigw;
pub mod aws;
pub mod dynamo;
pub mod jwks;
pub mod redis_cache;
pub mod s3;
pub mod sns;
pub mod sqs;
pub mod trace;
pub mod vapid_secret;
pub mod webpush;
pub mod wiring;

/// Retries of the unprocessed part of a batch (DynamoDB `UnprocessedItems`/
/// `UnprocessedKeys`, failed SQS batch entries: the partial successes the
/// SDK's own retries cannot see), with the codebase's one backoff.
pub(crate) mod backoff {
    pub(crate) use chat_core::backoff::delay;

    /// How many times the unprocessed part of a batch is retried.
    pub(crate) const BATCH_RETRIES: u32 = 8;
}
