//! The AWS SDK configuration, loaded once per cold start and shared by every
//! client (a client is cheap to clone and keeps its connection pool).
//!
//! `AWS_ENDPOINT_URL` (and the per-service `AWS_ENDPOINT_URL_DYNAMODB`, …) are
//! read by `aws-config` itself; [`sdk_config`] also takes the endpoint
//! explicitly so configuration read through a `Source` (a test, the local
//! platform) can point the SDK at an emulator such as moto.

use std::time::Duration;

use aws_config::meta::region::RegionProviderChain;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// The region assumed when talking to an emulator with no region configured.
pub const EMULATOR_REGION: &str = "us-east-1";

/// Timeouts for DynamoDB and SQS. The SDK has no attempt timeout by default:
/// a hung connection would hold a WebSocket invocation until API Gateway's
/// 29 s integration timeout. Its standard retry mode (3 attempts, backoff,
/// throttling-aware) stays on for these services.
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(12))
        .build()
}

/// The configuration from the default chains (region, credentials, endpoint
/// environment variables), with `endpoint_url` overriding the endpoint of
/// every service when given. With an endpoint override and no region found,
/// [`EMULATOR_REGION`] is assumed (emulators do not care; AWS always sets
/// `AWS_REGION` in Lambda).
pub async fn sdk_config(endpoint_url: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts());
    if let Some(url) = endpoint_url {
        loader = loader
            .endpoint_url(url)
            .region(RegionProviderChain::default_provider().or_else(EMULATOR_REGION));
    }
    loader.load().await
}

/// A configuration for an emulator on `endpoint_url` with static dummy
/// credentials: no credential chain is consulted (tests, the local platform).
pub async fn emulator_config(endpoint_url: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeouts())
        .endpoint_url(endpoint_url)
        .region(Region::new(EMULATOR_REGION))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "emulator",
        ))
        .load()
        .await
}
