//! The SNS mobile push adapter against moto's SNS: the `MobilePush`
//! contract (the same suite as the in-memory twin), with platform
//! applications created in moto and an endpoint disabled as SNS disables
//! one (its `Enabled` attribute set to false).

use std::collections::BTreeMap;

use chat_adapters::sns::SnsMobilePush;
use chat_core::mobile::MobilePlatform;

async fn app(client: &aws_sdk_sns::Client, platform: &str) -> String {
    client
        .create_platform_application()
        .name(format!("chat-{}", uuid::Uuid::now_v7().simple()))
        .platform(platform)
        .attributes("PlatformCredential", "test-credential")
        .send()
        .await
        .expect("creates the platform application")
        .platform_application_arn()
        .expect("an ARN")
        .to_owned()
}

async fn make() -> SnsMobilePush {
    let sdk = crate::support::sdk().await;
    let client = aws_sdk_sns::Client::new(&sdk);
    let apps = BTreeMap::from([
        (MobilePlatform::Fcm, app(&client, "GCM").await),
        (MobilePlatform::Apns, app(&client, "APNS").await),
    ]);
    SnsMobilePush::new(&sdk, apps)
}

async fn disable(_: &SnsMobilePush, arn: String) {
    let sdk = crate::support::sdk().await;
    aws_sdk_sns::Client::new(&sdk)
        .set_endpoint_attributes()
        .endpoint_arn(arn)
        .attributes("Enabled", "false")
        .send()
        .await
        .expect("disables the endpoint");
}

chat_core::mobile_push_contract!(make(), disable);

#[tokio::test]
async fn a_platform_without_an_application_is_not_configured() {
    let sdk = crate::support::sdk().await;
    let only_apns = SnsMobilePush::new(
        &sdk,
        BTreeMap::from([(
            MobilePlatform::Apns,
            "arn:aws:sns:us-east-1:1:app/APNS/x".into(),
        )]),
    );
    use chat_core::ports::MobilePush;
    assert!(!only_apns.configured(MobilePlatform::Fcm));
    let token = chat_core::mobile::MobileToken::parse("fcm", &"a".repeat(40)).unwrap();
    let e = only_apns
        .create_endpoint(&token, &chat_core::contract::user("x"))
        .await
        .unwrap_err();
    assert_eq!(e.to_string(), "mobile push is not configured for fcm");
}
