//! # chat-twin
//!
//! The AWS side of the local twin that tests and benches share, and that no
//! deployed function links (function crates use it as a dev-dependency
//! only):
//!
//! - [`events`]: the events API Gateway (WebSocket routes, the REQUEST
//!   authorizer, the HTTP API) and SQS hand to a function, built exactly as
//!   AWS builds them, so the local platform and the tests drive the handlers
//!   through the same decoding as in Lambda;
//! - [`tokens`]: the tokens an identity provider issues (HS256 with the
//!   configured secret), what `POST /dev/token` hands out;
//! - [`faults`]: the faults a managed service can have, staged on purpose in
//!   front of any adapter.

pub mod events;
pub mod faults;
pub mod tokens;

pub use faults::{FailingPuts, FaultLab, PushFailure, StoreOp};
pub use tokens::{mint_hs256, token_for, MintOptions};
