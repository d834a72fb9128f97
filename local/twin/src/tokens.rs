//! The tokens an identity provider issues: HS256 tokens signed with the
//! configured secret, what the local platform hands out (`POST /dev/token`)
//! and what tests connect with. Never linked into a deployed function: in
//! AWS, Cognito issues the tokens.

use chat_core::auth::Claims;
use chat_core::ids::{Millis, UserId};
use chat_core::ports::Clock;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};

/// Options for minting a development token.
#[derive(Clone, Debug, Default)]
pub struct MintOptions<'a> {
    pub name: Option<&'a str>,
    pub issuer: Option<&'a str>,
    pub audience: Option<&'a str>,
}

/// Signs an HS256 token for `user`, valid for `ttl_secs` from `now`: what the
/// local platform hands out and what tests connect with.
pub fn mint_hs256(
    secret: &[u8],
    user: &UserId,
    now: Millis,
    ttl_secs: i64,
    opts: MintOptions<'_>,
) -> String {
    let iat = now / 1000;
    let claims = Claims {
        sub: user.as_str().to_owned(),
        exp: iat + ttl_secs,
        iat: Some(iat),
        name: opts.name.map(str::to_owned),
        iss: opts.issuer.map(str::to_owned),
        aud: opts.audience.map(str::to_owned),
    };
    // HS256 over serializable claims with a byte secret cannot fail.
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap_or_default()
}

/// A token for `user`, valid for `ttl_secs` from now, with no other claims:
/// what most tests connect with.
pub fn token_for(secret: &[u8], user: &UserId, ttl_secs: i64) -> String {
    mint_hs256(
        secret,
        user,
        chat_core::ports::SystemClock.now(),
        ttl_secs,
        MintOptions::default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use chat_core::auth::{AuthError, Hs256Verifier, Refusal, RefusalClass, TokenVerifier};
    use chat_core::ports::{Clock, SystemClock};

    const SECRET: &[u8] = b"test-secret-test-secret-test-secret";

    fn alice() -> UserId {
        UserId::parse("alice").unwrap()
    }

    #[tokio::test]
    async fn accepts_a_valid_token_and_reads_its_subject() {
        let v = Hs256Verifier::new(SECRET, None, None);
        let t = mint_hs256(
            SECRET,
            &alice(),
            SystemClock.now(),
            60,
            MintOptions {
                name: Some("Alice"),
                ..Default::default()
            },
        );
        let id = v.verify(&t).await.unwrap();
        assert_eq!(id.user_id, alice());
        assert_eq!(id.name.as_deref(), Some("Alice"));
    }

    #[tokio::test]
    async fn a_verifier_of_several_audiences_accepts_any_of_them_and_no_other() {
        let now = SystemClock.now();
        let v = Hs256Verifier::accepting(SECRET, Some("iss"), &["web", "mobile"]);
        let token = |aud| {
            mint_hs256(
                SECRET,
                &alice(),
                now,
                60,
                MintOptions {
                    issuer: Some("iss"),
                    audience: Some(aud),
                    ..Default::default()
                },
            )
        };
        assert!(v.verify(&token("web")).await.is_ok());
        assert!(v.verify(&token("mobile")).await.is_ok());
        assert!(v.verify(&token("cli")).await.is_err());
    }

    #[tokio::test]
    async fn refuses_forged_expired_none_and_mismatched_tokens() {
        let now = SystemClock.now();
        let v = Hs256Verifier::new(SECRET, Some("chat-local"), Some("chat"));
        let good = MintOptions {
            issuer: Some("chat-local"),
            audience: Some("chat"),
            ..Default::default()
        };
        assert!(v
            .verify(&mint_hs256(SECRET, &alice(), now, 60, good.clone()))
            .await
            .is_ok());
        // Wrong key.
        assert!(v
            .verify(&mint_hs256(
                b"another-secret",
                &alice(),
                now,
                60,
                good.clone()
            ))
            .await
            .is_err());
        // Expired (beyond the 30 s leeway).
        assert!(v
            .verify(&mint_hs256(
                SECRET,
                &alice(),
                now - 3_600_000,
                60,
                good.clone()
            ))
            .await
            .is_err());
        // Wrong issuer / audience.
        let wrong_iss = MintOptions {
            issuer: Some("evil"),
            ..good.clone()
        };
        assert!(v
            .verify(&mint_hs256(SECRET, &alice(), now, 60, wrong_iss))
            .await
            .is_err());
        let wrong_aud = MintOptions {
            audience: Some("other"),
            ..good.clone()
        };
        assert!(v
            .verify(&mint_hs256(SECRET, &alice(), now, 60, wrong_aud))
            .await
            .is_err());
        // alg=none with the same claims.
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"alice","exp":{},"iss":"chat-local","aud":"chat"}}"#,
            now / 1000 + 60
        ));
        assert!(v.verify(&format!("{header}.{claims}.")).await.is_err());
        // Garbage and empty.
        assert!(v.verify("not.a.token").await.is_err());
        assert_eq!(v.verify("").await, Err(AuthError::Missing));
    }

    #[tokio::test]
    async fn refusals_fall_into_the_few_classes_metrics_use_and_unavailable_keys_into_none() {
        let now = SystemClock.now();
        let v = Hs256Verifier::new(SECRET, None, None);
        let expired = v
            .verify(&mint_hs256(
                SECRET,
                &alice(),
                now - 3_600_000,
                60,
                MintOptions::default(),
            ))
            .await
            .unwrap_err();
        assert_eq!(expired, AuthError::Invalid(Refusal::Expired));
        assert_eq!(expired.to_string(), "invalid token: token expired");
        assert_eq!(expired.refusal_class(), Some(RefusalClass::Expired));
        let forged = v
            .verify(&mint_hs256(
                b"another-secret",
                &alice(),
                now,
                60,
                MintOptions::default(),
            ))
            .await
            .unwrap_err();
        assert_eq!(forged.refusal_class(), Some(RefusalClass::BadSignature));
        assert_eq!(
            v.verify("not.a.token").await.unwrap_err().refusal_class(),
            Some(RefusalClass::Malformed)
        );
        assert_eq!(
            AuthError::Missing.refusal_class(),
            Some(RefusalClass::Missing)
        );
        assert_eq!(AuthError::KeysUnavailable.refusal_class(), None);
        let names: std::collections::BTreeSet<_> =
            RefusalClass::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), RefusalClass::ALL.len());
    }
}
