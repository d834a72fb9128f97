//! # chat-shared
//!
//! Everything the chat Lambdas have in common. The layout follows the
//! hexagonal split the whole platform is built on:
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
//!   adapters (DynamoDB, SQS, API Gateway Management) and the Redis cache
//!   implement the same traits, and [`contract`] holds the one test suite
//!   every adapter of a port must pass.
//! - [`protocol`]: the wire contracts (WebSocket frames, REST bodies, cursors).
//! - [`auth`]: token verification behind a port (HS256 with a secret, or
//!   RS256/ES256 against a JWKS such as Cognito's).
//! - [`ratelimit`]: token buckets per connection and per user, behind a port.
//! - [`lambda`]: decoding AWS event shapes and mapping results back; the
//!   function crates are thin layers over it.
//! - [`config`], [`telemetry`]: typed configuration and tracing setup, loaded
//!   once per cold start; [`deploy`]: the settings' bounds and each
//!   function's ports, read from `deploy/` by this crate and the CDK app alike.
//! - [`metrics`]: business metrics (CloudWatch Embedded Metric Format in
//!   Lambda); [`metering`]: counting decorators over the ports, for the cost
//!   model.
//!
//! Why the domain never sees AWS types: the local platform runs the same
//! services in one process over the in-memory adapters, and tests drive them
//! without any emulator. Only [`lambda`] knows the event shapes.

pub mod auth;
pub mod authz;
pub mod backoff;
pub mod config;
#[cfg(any(test, feature = "contract"))]
pub mod contract;
pub mod deploy;
pub mod error;
pub mod ids;
pub mod lambda;
pub mod memory;
pub mod metering;
pub mod metrics;
pub mod model;
pub mod ports;
pub mod protocol;
pub mod ratelimit;
pub mod service;
pub mod telemetry;

pub use error::ChatError;
pub use service::{Caller, Chat};
