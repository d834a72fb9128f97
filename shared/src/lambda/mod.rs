//! The edge between AWS event shapes and the domain: decoding API Gateway
//! WebSocket, HTTP API and SQS events, and mapping results back. Handlers in
//! `functions/*` are a few lines over these, and the local platform builds
//! the very same event types, so both run one code path.

pub mod events;
pub mod http;
pub mod sqs;
pub mod ws;
