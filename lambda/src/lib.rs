//! # chat-lambda
//!
//! The edge between AWS Lambda and the domain of `chat-core`: decoding API
//! Gateway WebSocket, HTTP API and SQS events, mapping results back to
//! responses, and the tracing setup of a function. Handlers in `functions/*`
//! are a few lines over these; the local platform builds the very same event
//! types (`chat-twin`) and hands them to the same handlers, so both run one
//! code path.
//!
//! Why a crate of its own: `chat-core` stays free of every Lambda, AWS and
//! HTTP type, so the domain compiles and tests without them, and only what a
//! deployed function runs is linked into it.

pub mod http;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod sqs;
pub mod telemetry;
pub mod ws;
