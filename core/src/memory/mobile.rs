use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use async_trait::async_trait;
use serde::Serialize;

use super::lock;
use crate::error::{MobilePushError, WebPushError};
use crate::ids::UserId;
use crate::mobile::{MobilePlatform, MobileToken};
use crate::ports::MobilePush;

/// One message the fake took: the endpoint and SNS's JSON message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Published {
    pub endpoint: String,
    pub owner: UserId,
    pub message: String,
}

#[derive(Default)]
struct State {
    /// The platform applications' ARNs its endpoints are named after (as
    /// SNS names them); unset, `arn:aws:sns:local:000000000000:app/GCM/chat`
    /// (`APNS` for APNs).
    apps: BTreeMap<MobilePlatform, String>,
    /// Endpoint ARN by (platform, token), and its owner and state.
    by_token: BTreeMap<(MobilePlatform, String), String>,
    endpoints: BTreeMap<String, (UserId, bool)>,
    published: Vec<Published>,
    next: u64,
}

/// The local platform's mobile push service: SNS platform endpoints in
/// memory, for the platforms it is configured with. Publishing to a
/// disabled or deleted endpoint answers "gone", as SNS answers
/// `EndpointDisabled` (and `NotFound`).
pub struct MemoryMobile {
    platforms: BTreeSet<MobilePlatform>,
    state: Mutex<State>,
}

/// Both platforms configured: the local platform stands for a deployment
/// with both platform applications.
impl Default for MemoryMobile {
    fn default() -> Self {
        Self::new(MobilePlatform::ALL)
    }
}

impl MemoryMobile {
    pub fn new(platforms: impl IntoIterator<Item = MobilePlatform>) -> Self {
        Self {
            platforms: platforms.into_iter().collect(),
            state: Mutex::default(),
        }
    }

    pub fn published(&self) -> Vec<Published> {
        lock(&self.state).published.clone()
    }

    /// The endpoints that exist now.
    pub fn endpoints(&self) -> Vec<String> {
        lock(&self.state).endpoints.keys().cloned().collect()
    }

    /// Names the endpoints made from now on after these platform
    /// applications (`arn:…:app/GCM/name` makes `arn:…:endpoint/GCM/name/…`),
    /// as SNS does: the local platform running a template that names them
    /// checks its functions' grants on the endpoints against the names AWS
    /// would give.
    pub fn name_endpoints_after(&self, apps: &BTreeMap<MobilePlatform, String>) {
        lock(&self.state).apps = apps.clone();
    }

    /// SNS disables an endpoint when the platform reports the token
    /// invalid: from now on publishing to it is "gone".
    pub fn disable(&self, endpoint: &str) {
        if let Some(e) = lock(&self.state).endpoints.get_mut(endpoint) {
            e.1 = false;
        }
    }
}

#[async_trait]
impl MobilePush for MemoryMobile {
    fn configured(&self, platform: MobilePlatform) -> bool {
        self.platforms.contains(&platform)
    }

    async fn create_endpoint(
        &self,
        token: &MobileToken,
        owner: &UserId,
    ) -> Result<String, MobilePushError> {
        if !self.configured(token.platform) {
            return Err(MobilePushError::NotConfigured(token.platform));
        }
        let mut g = lock(&self.state);
        let key = (token.platform, token.token.clone());
        if let Some(arn) = g.by_token.get(&key).cloned() {
            if g.endpoints.contains_key(&arn) {
                return Ok(arn);
            }
        }
        g.next += 1;
        let app = g.apps.get(&token.platform).cloned().unwrap_or_else(|| {
            format!(
                "arn:aws:sns:local:000000000000:app/{}/chat",
                token.platform.sns_platform()
            )
        });
        let arn = format!("{}/{}", app.replacen(":app/", ":endpoint/", 1), g.next);
        g.by_token.insert(key, arn.clone());
        g.endpoints.insert(arn.clone(), (owner.clone(), true));
        Ok(arn)
    }

    async fn publish(&self, endpoint: &str, message: &str) -> Result<(), WebPushError> {
        let mut g = lock(&self.state);
        let owner = match g.endpoints.get(endpoint) {
            Some((owner, true)) => owner.clone(),
            _ => return Err(WebPushError::Gone),
        };
        g.published.push(Published {
            endpoint: endpoint.to_owned(),
            owner,
            message: message.to_owned(),
        });
        Ok(())
    }

    async fn delete_endpoint(&self, endpoint: &str) -> Result<(), MobilePushError> {
        lock(&self.state).endpoints.remove(endpoint);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn make() -> MemoryMobile {
        MemoryMobile::new(MobilePlatform::ALL)
    }

    async fn disable(p: &MemoryMobile, arn: String) {
        p.disable(&arn);
    }

    crate::mobile_push_contract!(make(), disable);

    #[tokio::test]
    async fn an_unconfigured_platform_is_refused_by_name() {
        let p = MemoryMobile::new([MobilePlatform::Apns]);
        let t = MobileToken::parse("fcm", &"a".repeat(40)).unwrap();
        let e = p
            .create_endpoint(&t, &UserId::parse("bob").unwrap())
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "mobile push is not configured for fcm");
    }

    #[tokio::test]
    async fn endpoints_are_named_after_their_platform_application() {
        let p = MemoryMobile::default();
        let bob = UserId::parse("bob").unwrap();
        let fcm = MobileToken::parse("fcm", &"a".repeat(40)).unwrap();
        let arn = p.create_endpoint(&fcm, &bob).await.unwrap();
        assert_eq!(arn, "arn:aws:sns:local:000000000000:endpoint/GCM/chat/1");
        p.name_endpoints_after(&BTreeMap::from([(
            MobilePlatform::Fcm,
            "arn:aws:sns:eu-west-1:111122223333:app/GCM/my-app".to_owned(),
        )]));
        let other = MobileToken::parse("fcm", &"b".repeat(40)).unwrap();
        let arn = p.create_endpoint(&other, &bob).await.unwrap();
        assert_eq!(
            arn,
            "arn:aws:sns:eu-west-1:111122223333:endpoint/GCM/my-app/2"
        );
    }
}
