//! # chat-core
//!
//! The domain of the chat platform, and nothing that deploys it: no Lambda,
//! AWS SDK or HTTP type is in this crate's dependencies, so it builds and
//! tests without them. The layout follows the hexagonal split the whole
//! platform is built on:
//!
//! - [`ids`], [`model`]: the domain's values and records. Identifiers and
//!   user text are parsed into newtypes at the boundary, once.
//! - [`authz`]: the single decision of who may do what in a room.
//! - [`service`]: the domain services ([`service::Chat`]): the message path,
//!   presence, receipts, rooms, profiles, history, persistence. They speak
//!   only to [`ports`].
//! - [`ports`]: small async traits named after what the domain needs
//!   (connection store, room store, message store, profile store, job queue,
//!   pusher, clock). [`memory`] has an in-memory adapter for each; the AWS
//!   adapters (`chat-adapters`: DynamoDB, SQS, API Gateway Management) and
//!   the Redis cache implement the same traits, and [`contract`] holds the
//!   one test suite every adapter of a port must pass.
//! - [`protocol`]: the wire contracts (WebSocket frames, REST bodies, cursors).
//! - [`auth`]: the token verifier port, and its HS256 verifier (the JWKS
//!   verifier fetches keys over HTTPS, so it is an adapter).
//! - [`ratelimit`]: token buckets per connection and per user, behind a port.
//! - [`config`]: typed configuration, loaded once per cold start;
//!   [`deploy`]: the settings' bounds and each function's ports, read from
//!   `deploy/` by this crate and the CDK app alike.
//! - [`metrics`]: business metrics (CloudWatch Embedded Metric Format lines
//!   on stdout in Lambda: a format, not a dependency).
//! - [`backoff`]: the one retry delay policy.
//! - [`e2ee`]: end-to-end encrypted direct rooms: device keys, sealed
//!   payloads and their envelopes, as the server checks them.
//!
//! Around it: `chat-lambda` decodes AWS events into calls of this crate and
//! maps results back; `chat-adapters` implements the ports on AWS and Redis;
//! `chat-twin` (under `local/`) builds the events and tokens AWS would, for
//! the local platform and the tests.
//!
//! Why the domain never sees AWS types: the local platform runs the same
//! services in one process over the in-memory adapters, and tests drive them
//! without any emulator.

pub mod attachments;
pub mod auth;
pub mod authz;
pub mod backoff;
pub mod block;
pub mod changes;
pub mod config;
#[cfg(any(test, feature = "contract"))]
pub mod contract;
pub mod deploy;
pub mod e2ee;
pub mod error;
pub mod ids;
pub mod memory;
pub mod metrics;
pub mod mobile;
pub mod model;
pub mod notify;
pub mod ports;
pub mod protocol;
pub mod ratelimit;
pub mod replies;
pub mod search;
pub mod service;

pub use error::ChatError;
pub use service::{Caller, Chat};
