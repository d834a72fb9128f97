//! The tracing ids that travel with a queued job, so the persistence worker's
//! logs can be joined to the invocation that queued the work.
//!
//! Span field values cannot be read back through the `tracing` API, so the
//! hook is explicit: a function's `main` runs each invocation inside
//! [`TraceContext::scope`] with the Lambda request id and X-Ray trace id from
//! the invocation context, and the SQS adapter reads [`TraceContext::current`]
//! when it sends. Outside a scope the X-Ray id still comes from
//! `_X_AMZN_TRACE_ID`, which the (sequential) Lambda runtime sets per
//! invocation.

use std::future::Future;

/// The environment variable the Lambda runtime sets to the X-Ray trace header.
pub const XRAY_ENV: &str = "_X_AMZN_TRACE_ID";

tokio::task_local! {
    static CURRENT: TraceContext;
}

/// The ids of one invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceContext {
    /// The X-Ray trace header (`Root=1-…;Parent=…;Sampled=…`).
    pub trace_id: Option<String>,
    /// The Lambda request id (`aws_request_id`).
    pub request_id: Option<String>,
}

impl TraceContext {
    pub fn new(request_id: impl Into<String>, trace_id: Option<&str>) -> Self {
        Self {
            trace_id: trace_id.map(str::to_owned),
            request_id: Some(request_id.into()),
        }
    }

    /// Runs `fut` with these ids as the current ones.
    pub async fn scope<F: Future>(self, fut: F) -> F::Output {
        CURRENT.scope(self, fut).await
    }

    /// The ids of the running invocation: those of the enclosing
    /// [`TraceContext::scope`], with the X-Ray id falling back to
    /// [`XRAY_ENV`].
    pub fn current() -> TraceContext {
        let mut ctx = CURRENT.try_with(Clone::clone).unwrap_or_default();
        if ctx.trace_id.is_none() {
            ctx.trace_id = std::env::var(XRAY_ENV).ok().filter(|v| !v.is_empty());
        }
        ctx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_scope_sets_the_current_ids() {
        let ctx = TraceContext::new("req-1", Some("Root=1-abc"));
        let seen = ctx.clone().scope(async { TraceContext::current() }).await;
        assert_eq!(seen, ctx);
        assert_eq!(TraceContext::current().request_id, None);
    }
}
