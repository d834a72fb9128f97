//! The AWS SDK configuration, loaded once per cold start and shared by every
//! client (a client is cheap to clone and keeps its connection pool).
//!
//! The endpoint is taken explicitly (`CHAT_`-side configuration read through
//! a `Source`: `AWS_ENDPOINT_URL` in a function, a test, the local platform)
//! so it can point the SDK at an emulator such as moto.

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

/// What a function reads in Lambda: the region and its role's credentials
/// from the variables Lambda sets (`AWS_REGION`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), as `cargo lambda watch` and
/// chat-local's template mode set them too, with `endpoint_url` (or else
/// `AWS_ENDPOINT_URL`) overriding the endpoint of every service when given
/// (with an explicit one and no region set, [`EMULATOR_REGION`]).
///
/// Not `aws_config::load()`: its default chains (profile files, SSO, web
/// identity through STS, ECS, IMDS) never apply in Lambda, yet linking them
/// put the STS client and the profile parser in every function (a part of
/// the deployed zip's size, docs/BENCHMARKS.md). A developer's machine gets
/// them through [`developer_config`].
pub async fn sdk_config(endpoint_url: Option<&str>) -> SdkConfig {
    use aws_config::environment::{
        EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
    };
    use aws_config::meta::region::ProvideRegion;
    use aws_sdk_dynamodb::config::SharedCredentialsProvider;

    let mut region = EnvironmentVariableRegionProvider::new().region().await;
    if region.is_none() && endpoint_url.is_some() {
        region = Some(Region::new(EMULATOR_REGION));
    }
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .timeout_config(timeouts())
        .retry_config(aws_config::retry::RetryConfig::standard())
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .region(region);
    // The SDK's own variable for every service's endpoint, as
    // `aws_config::load()` honoured it (the per-service
    // `AWS_ENDPOINT_URL_<SERVICE>` forms are not read here).
    let from_env = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|url| !url.is_empty());
    if let Some(url) = endpoint_url.map(str::to_owned).or(from_env) {
        builder = builder.endpoint_url(url);
    }
    builder.build()
}

/// The configuration from the default chains (region, credentials from the
/// environment, profile files, SSO, …), for chat-local run against real AWS
/// from a developer's machine; `endpoint_url` overrides every service's
/// endpoint when given.
pub async fn developer_config(endpoint_url: Option<&str>) -> SdkConfig {
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
