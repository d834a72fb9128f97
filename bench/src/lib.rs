//! # chat-bench
//!
//! Measures the platform the way its users will:
//!
//! - [`load`]: N WebSocket connections in rooms of K, sending at a target
//!   rate; connect time, send→ack and send→deliver latency (HdrHistogram),
//!   delivered messages/s, errors, and an exactly-once delivery check
//!   ([`report::check_deliveries`]). Against the platform started in this
//!   process (`--local`, the default), a running one (`--url`/`--rest`), or
//!   a deployed stack (`wss://`, tokens from a file).
//! - [`baseline`]: a bare WebSocket broadcast server, loaded the same way on
//!   the same machine, so the report can state our overhead as a ratio.
//! - [`coldstart`]: the Lambda binaries started against a minimal Runtime
//!   API: init time, first invocation, max RSS, binary and zip sizes, next to
//!   a hello-world `lambda_runtime` binary.
//! - [`cost`]: calls per message counted at the ports
//!   ([`crate::metering`]), turned into dollars per million messages at
//!   AWS list prices, with idle connections growing beside them, and what
//!   1,000 idle connected clients cost a month (keepalive and presence).
//! - [`latency`]: the same decorators waiting, per port call, as long as
//!   the AWS calls behind it would take, on a paused clock: predicted
//!   send→ack and send→deliver as deployed, the sequential round trips on
//!   the critical path, and the λ durations the cost model bills.
//!
//! With `--local` the platform and the load generator share one process and
//! one tokio runtime, so they share the machine's cores: the figures are a
//! floor for the platform's code, not a capacity of API Gateway and Lambda
//! (which scale out). `docs/BENCHMARKS.md` has the commands and the numbers.

pub mod baseline;
pub mod coldstart;
pub mod cost;
pub mod latency;
pub mod load;
pub mod metering;
pub mod report;
pub mod stats;
pub mod sweep;
