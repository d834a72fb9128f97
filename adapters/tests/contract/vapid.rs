//! The VAPID secret's reader against moto's Secrets Manager: a key pair
//! turns Web Push on; no secret, the stack's placeholder or a broken value
//! turn it off without failing the cold start.

use aws_sdk_secretsmanager::Client;
use chat_adapters::vapid_secret::{load, VapidUnavailable};
use chat_adapters::webpush::{DEV_VAPID_PRIVATE, DEV_VAPID_PUBLIC};
use chat_adapters::wiring;
use chat_core::config::vars;

use crate::support;

/// A new secret holding `value`; its ARN.
async fn secret(client: &Client, value: &str) -> String {
    let out = client
        .create_secret()
        .name(format!("vapid-{}", uuid::Uuid::now_v7().simple()))
        .secret_string(value)
        .send()
        .await
        .expect("creates the secret");
    out.arn().expect("an ARN").to_owned()
}

fn pair() -> String {
    serde_json::json!({
        "publicKey": DEV_VAPID_PUBLIC,
        "privateKey": DEV_VAPID_PRIVATE,
        "subject": "mailto:ops@example.com",
    })
    .to_string()
}

#[tokio::test]
async fn a_key_pair_loads_by_arn_and_by_name() {
    let client = Client::new(&support::sdk().await);
    let arn = secret(&client, &pair()).await;
    assert_eq!(
        load(&client, &arn).await.unwrap().public_key(),
        DEV_VAPID_PUBLIC
    );
    let name = arn.rsplit(':').next().unwrap();
    // moto's ARNs end with the name and a random suffix: look it up by name.
    let name = name.rsplit_once('-').map_or(name, |(n, _)| n);
    assert_eq!(
        load(&client, name).await.unwrap().public_key(),
        DEV_VAPID_PUBLIC
    );
}

#[tokio::test]
async fn a_missing_secret_the_placeholder_and_a_broken_value_are_each_named() {
    let client = Client::new(&support::sdk().await);
    let missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf";
    assert!(matches!(
        load(&client, missing).await,
        Err(VapidUnavailable::NotFound)
    ));
    let placeholder = secret(
        &client,
        r#"{"placeholder":"run scripts/vapid-keys.sh to put a key pair here","filler":"x"}"#,
    )
    .await;
    assert!(matches!(
        load(&client, &placeholder).await,
        Err(VapidUnavailable::Placeholder)
    ));
    let broken = secret(
        &client,
        r#"{"publicKey":"AAAA","privateKey":"AAAA","subject":"mailto:a@b.c"}"#,
    )
    .await;
    let e = load(&client, &broken).await.expect_err("not a key pair");
    assert!(matches!(e, VapidUnavailable::Malformed(_)), "{e}");
}

#[tokio::test]
async fn the_notifying_function_starts_with_web_push_on_or_off_but_always_starts() {
    let sdk = support::sdk().await;
    let client = Client::new(&sdk);
    let table = support::table_with(&sdk).await;
    let moto = support::moto().url("http");
    let good = secret(&client, &pair()).await;
    let placeholder = secret(&client, r#"{"placeholder":"x"}"#).await;
    // The function's SDK takes credentials from the chain, as in Lambda:
    // here the environment, with the dummy values the emulator accepts.
    std::env::set_var("AWS_ACCESS_KEY_ID", "test");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
    for (arn, on) in [
        (good.as_str(), true),
        (placeholder.as_str(), false),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf",
            false,
        ),
    ] {
        let src = [
            (vars::BACKEND, "aws"),
            (vars::TABLE_NAME, table.name()),
            (vars::WS_ENDPOINT, "http://127.0.0.1:9/dev"),
            (vars::BUCKET_NAME, "wiring-attachments"),
            (vars::AWS_ENDPOINT_URL, moto.as_str()),
            (vars::VAPID_SECRET_ARN, arn),
        ];
        let chat = wiring::chat_for(&src, &crate::wiring::PERSIST)
            .await
            .unwrap_or_else(|e| panic!("{arn}: {e}"));
        assert_eq!(chat.webpush.is_some(), on, "{arn}");
    }
    // Without the variable the cold start names it: infra always sets it.
    let src = [
        (vars::BACKEND, "aws"),
        (vars::TABLE_NAME, table.name()),
        (vars::WS_ENDPOINT, "http://127.0.0.1:9/dev"),
        (vars::BUCKET_NAME, "wiring-attachments"),
        (vars::AWS_ENDPOINT_URL, moto.as_str()),
    ];
    let e = wiring::chat_for(&src, &crate::wiring::PERSIST)
        .await
        .err()
        .expect("fails");
    assert!(e.to_string().contains(vars::VAPID_SECRET_ARN), "{e}");
}
