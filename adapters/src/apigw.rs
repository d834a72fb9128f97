//! Pushing frames to WebSocket connections through the API Gateway
//! Management API (`POST`/`DELETE {endpoint}/@connections/{id}`).
//!
//! Error mapping: `GoneException` (HTTP 410) is [`PushError::Gone`]: the
//! domain then deletes exactly that connection. Everything else (throttling
//! `LimitExceededException`/429, 5xx, timeouts, connection errors) is
//! [`PushError::Transient`]. `ForbiddenException` (403, our IAM or endpoint is
//! wrong) and `PayloadTooLargeException` (413) are not transient either, but
//! the port has no variant for "permanent, keep the connection": they are
//! reported as transient (logged with their cause, retried a bounded number
//! of times) rather than as gone, which would wrongly drop a live connection.
//!
//! Retries: the SDK's own retries are switched off for this client (one
//! attempt). The domain already retries transient failures with backoff and
//! bounded concurrency (`chat_core::service` fan-out), *after* acking the
//! sender; SDK retries would happen inside the first round, delaying the ack
//! and multiplying attempts (3 × the domain's). Each attempt is bounded
//! (connect 1 s, attempt 3 s) so one stuck connection cannot hold a fan-out.
//!
//! The endpoint is the stage's execute-api URL
//! (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`), not a
//! custom domain's `wss://` URL.

use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;
use aws_sdk_apigatewaymanagement::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_apigatewaymanagement::primitives::Blob;
use aws_sdk_apigatewaymanagement::Client;
use chat_core::error::PushError;
use chat_core::ids::ConnectionId;
use chat_core::ports::Pusher;

/// The Management API client for one WebSocket stage. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ApiGwPusher {
    client: Client,
}

impl ApiGwPusher {
    /// A client for the stage at `endpoint`, sharing `sdk`'s credentials and
    /// region but not its endpoint override.
    pub fn new(sdk: &SdkConfig, endpoint: &str) -> Self {
        let conf = aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
            .endpoint_url(endpoint.trim_end_matches('/'))
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(1))
                    .operation_attempt_timeout(Duration::from_secs(3))
                    .build(),
            )
            .build();
        Self {
            client: Client::from_conf(conf),
        }
    }
}

fn map<E>(e: SdkError<E>) -> PushError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let gone_code = e
        .as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "GoneException");
    let gone_status = e.raw_response().is_some_and(|r| r.status().as_u16() == 410);
    if gone_code || gone_status {
        PushError::Gone
    } else {
        PushError::Transient(Box::new(e))
    }
}

#[async_trait]
impl Pusher for ApiGwPusher {
    async fn post(&self, conn: &ConnectionId, frame: &[u8]) -> Result<(), PushError> {
        self.client
            .post_to_connection()
            .connection_id(conn.as_str())
            .data(Blob::new(frame))
            .send()
            .await
            .map(|_| ())
            .map_err(map)
    }

    async fn disconnect(&self, conn: &ConnectionId) -> Result<(), PushError> {
        self.client
            .delete_connection()
            .connection_id(conn.as_str())
            .send()
            .await
            .map(|_| ())
            .map_err(map)
    }
}
