//! Tracing setup: JSON lines in Lambda (CloudWatch parses them; every span's
//! fields such as `connection_id`, `room_id`, `message_id`, `request_id` come
//! along), human-readable output elsewhere. Level from `RUST_LOG` (default info).

use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber once; later calls are no-ops.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let result = if in_lambda {
        fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(true)
            .with_span_list(false)
            .with_target(false)
            .without_time() // CloudWatch stamps each line
            .with_ansi(false)
            .try_init()
    } else {
        fmt().with_env_filter(filter).compact().try_init()
    };
    // Already initialised (tests, or the local platform hosting many handlers).
    let _ = result;
}
