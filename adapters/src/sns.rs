//! Mobile push: the [`MobilePush`] port over SNS platform endpoints, one
//! platform application per service (FCM as SNS's `GCM`, APNs), created
//! outside CloudFormation (it has no resource for them) and named by ARN.
//!
//! - `CreatePlatformEndpoint` with the token only (no custom user data): SNS
//!   answers the existing endpoint for a token it knows, so a registration
//!   again is idempotent. An endpoint SNS had disabled is enabled again
//!   (`SetEndpointAttributes Enabled=true`): the app just handed the token
//!   over afresh.
//! - `Publish` with `MessageStructure=json` (a payload per platform,
//!   [`chat_core::mobile::sns_message`]). `EndpointDisabled` (the platform
//!   reported the token invalid) and `NotFound` are [`WebPushError::Gone`]:
//!   the device is removed and its endpoint deleted.
//! - `DeleteEndpoint` succeeds for a missing endpoint, as SNS does.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_sns::error::SdkError;
use aws_sdk_sns::operation::create_platform_endpoint::CreatePlatformEndpointError;
use aws_sdk_sns::operation::publish::PublishError;
use chat_core::error::{MobilePushError, WebPushError};
use chat_core::ids::UserId;
use chat_core::mobile::{MobilePlatform, MobileToken};
use chat_core::ports::MobilePush;

pub struct SnsMobilePush {
    client: aws_sdk_sns::Client,
    /// The platform application ARN of each configured platform.
    apps: BTreeMap<MobilePlatform, String>,
}

impl SnsMobilePush {
    pub fn new(sdk: &SdkConfig, apps: BTreeMap<MobilePlatform, String>) -> Self {
        Self {
            client: aws_sdk_sns::Client::new(sdk),
            apps,
        }
    }
}

#[async_trait]
impl MobilePush for SnsMobilePush {
    fn configured(&self, platform: MobilePlatform) -> bool {
        self.apps.contains_key(&platform)
    }

    async fn create_endpoint(
        &self,
        token: &MobileToken,
        _owner: &UserId,
    ) -> Result<String, MobilePushError> {
        let app = self
            .apps
            .get(&token.platform)
            .ok_or(MobilePushError::NotConfigured(token.platform))?;
        let out = self
            .client
            .create_platform_endpoint()
            .platform_application_arn(app)
            .token(&token.token)
            .send()
            .await
            .map_err(|e| match &e {
                SdkError::ServiceError(s)
                    if matches!(
                        s.err(),
                        CreatePlatformEndpointError::InvalidParameterException(_)
                    ) =>
                {
                    MobilePushError::InvalidToken(
                        "SNS refused it as a parameter of the platform application".into(),
                    )
                }
                _ => MobilePushError::Failed(Box::new(e)),
            })?;
        let arn = out
            .endpoint_arn()
            .ok_or_else(|| MobilePushError::Failed("SNS answered no endpoint ARN".into()))?
            .to_owned();
        // A known token may come back on an endpoint SNS disabled: enable it.
        self.client
            .set_endpoint_attributes()
            .endpoint_arn(&arn)
            .attributes("Enabled", "true")
            .send()
            .await
            .map_err(|e| MobilePushError::Failed(Box::new(e)))?;
        Ok(arn)
    }

    async fn publish(&self, endpoint: &str, message: &str) -> Result<(), WebPushError> {
        match self
            .client
            .publish()
            .target_arn(endpoint)
            .message_structure("json")
            .message(message)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(s))
                if matches!(
                    s.err(),
                    PublishError::EndpointDisabledException(_) | PublishError::NotFoundException(_)
                ) =>
            {
                Err(WebPushError::Gone)
            }
            Err(SdkError::ServiceError(s))
                if matches!(s.err(), PublishError::InvalidParameterException(_)) =>
            {
                Err(WebPushError::Refused(400))
            }
            Err(e) => Err(WebPushError::Transient(Box::new(e))),
        }
    }

    async fn delete_endpoint(&self, endpoint: &str) -> Result<(), MobilePushError> {
        self.client
            .delete_endpoint()
            .endpoint_arn(endpoint)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| MobilePushError::Failed(Box::new(e)))
    }
}

/// Creates a platform application of each platform named `<prefix>-<platform>`
/// (an emulator's: the local twin's `--create-resources`; in AWS the
/// operator creates them with the FCM or APNs credentials, see the README)
/// and answers their ARNs.
pub async fn create_platform_applications(
    sdk: &SdkConfig,
    prefix: &str,
) -> Result<BTreeMap<MobilePlatform, String>, Box<dyn std::error::Error + Send + Sync>> {
    let client = aws_sdk_sns::Client::new(sdk);
    let mut apps = BTreeMap::new();
    for platform in MobilePlatform::ALL {
        let arn = client
            .create_platform_application()
            .name(format!("{prefix}-{}", platform.as_str()))
            .platform(platform.sns_platform())
            .attributes("PlatformCredential", "local-emulator-credential")
            .send()
            .await?
            .platform_application_arn()
            .ok_or("SNS answered no platform application ARN")?
            .to_owned();
        apps.insert(platform, arn);
    }
    Ok(apps)
}
