//! The VAPID key pair (RFC 8292) of a deployment, kept in a Secrets Manager
//! secret that the stack creates with a placeholder value (Secrets Manager
//! cannot generate EC keys): `scripts/vapid-keys.sh` makes a pair with
//! openssl and puts it there.
//!
//! The secret's value is JSON:
//! `{"publicKey": base64url(65-byte point), "privateKey": base64url(32-byte
//! scalar), "subject": "mailto:…" | "https://…"}`. The stack's placeholder
//! is `{"placeholder": …}`.
//!
//! Read once per cold start by the one function that sends notifications
//! ([`load`]). Whatever goes wrong (no such secret, the placeholder, a value
//! that is not a key pair, Secrets Manager unreachable or refusing) is a
//! [`VapidUnavailable`]: the caller turns Web Push off and says so in a
//! metric, and the function runs on. The private key never reaches a log
//! or an error message.

use aws_sdk_secretsmanager::error::SdkError;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use serde::Deserialize;

use crate::webpush::Vapid;

/// Why there is no VAPID key: every reason leaves Web Push off.
#[derive(Debug, thiserror::Error)]
pub enum VapidUnavailable {
    #[error("the VAPID secret does not exist")]
    NotFound,
    #[error("the VAPID secret still holds the stack's placeholder: run scripts/vapid-keys.sh")]
    Placeholder,
    #[error("the VAPID secret is not a key pair: {0}")]
    Malformed(String),
    #[error("the VAPID secret could not be read")]
    Unreadable(#[source] chat_core::error::BoxError),
}

impl VapidUnavailable {
    /// A short, fixed reason for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            VapidUnavailable::NotFound => "not-found",
            VapidUnavailable::Placeholder => "placeholder",
            VapidUnavailable::Malformed(_) => "malformed",
            VapidUnavailable::Unreadable(_) => "unreadable",
        }
    }
}

/// The secret's value, decoded (no `Debug`: it holds the private key).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Value {
    #[serde(default)]
    placeholder: Option<serde_json::Value>,
    public_key: Option<String>,
    private_key: Option<String>,
    subject: Option<String>,
}

/// A usable key pair from the secret's text.
pub fn parse(text: &str) -> Result<Vapid, VapidUnavailable> {
    let v: Value = serde_json::from_str(text)
        .map_err(|_| VapidUnavailable::Malformed("the value is not a JSON object".into()))?;
    if v.placeholder.is_some() {
        return Err(VapidUnavailable::Placeholder);
    }
    let missing = |name: &str| VapidUnavailable::Malformed(format!("{name} is missing"));
    let public = v.public_key.ok_or_else(|| missing("publicKey"))?;
    let private = v.private_key.ok_or_else(|| missing("privateKey"))?;
    let subject = v.subject.ok_or_else(|| missing("subject"))?;
    // The error names what is wrong, never the key material.
    Vapid::new(&private, &public, &subject).map_err(|e| VapidUnavailable::Malformed(e.to_string()))
}

/// Reads and decodes the secret `secret_id` (its ARN or name).
pub async fn load(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
) -> Result<Vapid, VapidUnavailable> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| match &e {
            SdkError::ServiceError(s)
                if matches!(s.err(), GetSecretValueError::ResourceNotFoundException(_)) =>
            {
                VapidUnavailable::NotFound
            }
            _ => VapidUnavailable::Unreadable(Box::new(e)),
        })?;
    let text = out
        .secret_string()
        .ok_or_else(|| VapidUnavailable::Malformed("the secret holds no string".into()))?;
    parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webpush::{DEV_VAPID_PRIVATE, DEV_VAPID_PUBLIC};

    fn pair(subject: &str) -> String {
        serde_json::json!({
            "publicKey": DEV_VAPID_PUBLIC,
            "privateKey": DEV_VAPID_PRIVATE,
            "subject": subject,
        })
        .to_string()
    }

    #[test]
    fn a_key_pair_decodes_and_keeps_its_public_key() {
        let v = parse(&pair("mailto:ops@example.com")).unwrap();
        assert_eq!(v.public_key(), DEV_VAPID_PUBLIC);
    }

    #[test]
    fn the_placeholder_and_bad_values_are_told_apart_without_echoing_the_key() {
        assert!(matches!(
            parse(r#"{"placeholder":"run scripts/vapid-keys.sh","filler":"x"}"#),
            Err(VapidUnavailable::Placeholder)
        ));
        assert!(matches!(
            parse("not json"),
            Err(VapidUnavailable::Malformed(_))
        ));
        let e = parse(&format!(r#"{{"privateKey":"{DEV_VAPID_PRIVATE}"}}"#)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the VAPID secret is not a key pair: publicKey is missing"
        );
        let wrong_public = serde_json::json!({
            "publicKey": DEV_VAPID_PUBLIC.replace('B', "C"),
            "privateKey": DEV_VAPID_PRIVATE,
            "subject": "mailto:ops@example.com",
        })
        .to_string();
        let e = parse(&wrong_public).unwrap_err();
        assert!(matches!(e, VapidUnavailable::Malformed(_)), "{e}");
        assert!(!e.to_string().contains(DEV_VAPID_PRIVATE), "{e}");
        let e = parse(&pair("ops@example.com")).unwrap_err();
        assert!(e.to_string().contains("subject"), "{e}");
    }
}
