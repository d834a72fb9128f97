//! Identity. A [`TokenVerifier`] turns a bearer token into the one identity a
//! connection or REST request acts as; nothing else in the system may name
//! the caller. Two verifiers sit behind the port: [`Hs256Verifier`] with a
//! configured secret (what the local platform mints and tests use), and
//! [`jwks::JwksVerifier`] for RS256/ES256 tokens of a provider that publishes
//! a JWKS (Amazon Cognito in AWS).

pub mod jwks;

use std::sync::Arc;

use async_trait::async_trait;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::{vars, AuthConfig, ConfigError};
use crate::ids::{Millis, UserId};
use crate::ports::Clock;

/// Who the verified token says the caller is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub user_id: UserId,
    /// The token's `name` claim, if any: the default display name.
    pub name: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// The caller's fault: no token.
    #[error("missing token")]
    Missing,
    /// The caller's fault: the token is not acceptable, and why.
    #[error("invalid token: {0}")]
    Invalid(Refusal),
    /// Ours: the verifier could not decide, because the signing keys could
    /// not be fetched (the JWKS endpoint is down, slow or answers garbage).
    /// The token may well be good.
    #[error("signing keys unavailable")]
    KeysUnavailable,
}

impl AuthError {
    /// The refusal's class, or `None` when the verifier itself failed.
    pub fn refusal_class(&self) -> Option<RefusalClass> {
        match self {
            AuthError::Missing => Some(RefusalClass::Missing),
            AuthError::Invalid(r) => Some(r.class()),
            AuthError::KeysUnavailable => None,
        }
    }
}

/// Why a token was refused. Each displays as a fixed string: the library's
/// own messages can quote parts of the token (`unknown variant `…``);
/// refusal reasons go to the logs, and nothing of a token belongs there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    TooLong,
    Malformed,
    ClaimsMalformed,
    AlgorithmNotAllowed,
    NoKeyId,
    UnknownKeyId,
    AlgorithmKeyMismatch,
    BadSignature,
    Expired,
    NotYetValid,
    IssuerMismatch,
    AudienceMismatch,
    TokenUseNotAccepted,
    BadSubject,
}

/// A handful of refusal classes, few enough to be a metric dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefusalClass {
    /// No token at all.
    Missing,
    /// Out of its validity window (`exp`, `nbf`): the everyday reconnect
    /// with a stale token.
    Expired,
    /// Not signed by a key this verifier trusts, or with a refused algorithm.
    BadSignature,
    /// Well signed, but for another issuer, audience or use.
    WrongAudience,
    /// Not a well-formed token, or claims missing or malformed.
    Malformed,
}

impl RefusalClass {
    pub const ALL: [RefusalClass; 5] = [
        RefusalClass::Missing,
        RefusalClass::Expired,
        RefusalClass::BadSignature,
        RefusalClass::WrongAudience,
        RefusalClass::Malformed,
    ];

    /// The metric dimension value.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalClass::Missing => "missing",
            RefusalClass::Expired => "expired",
            RefusalClass::BadSignature => "bad_signature",
            RefusalClass::WrongAudience => "wrong_audience",
            RefusalClass::Malformed => "malformed",
        }
    }
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::TooLong => "token too long",
            Refusal::Malformed => "malformed token",
            Refusal::ClaimsMalformed => "claims missing or malformed",
            Refusal::AlgorithmNotAllowed => "algorithm not allowed",
            Refusal::NoKeyId => "token has no key id",
            Refusal::UnknownKeyId => "unknown key id",
            Refusal::AlgorithmKeyMismatch => "algorithm does not match the key",
            Refusal::BadSignature => "bad signature",
            Refusal::Expired => "token expired",
            Refusal::NotYetValid => "token not yet valid",
            Refusal::IssuerMismatch => "issuer mismatch",
            Refusal::AudienceMismatch => "audience mismatch",
            Refusal::TokenUseNotAccepted => "token_use not accepted",
            Refusal::BadSubject => "subject is not a valid user id",
        }
    }

    pub fn class(self) -> RefusalClass {
        match self {
            Refusal::Expired | Refusal::NotYetValid => RefusalClass::Expired,
            Refusal::AlgorithmNotAllowed
            | Refusal::NoKeyId
            | Refusal::UnknownKeyId
            | Refusal::AlgorithmKeyMismatch
            | Refusal::BadSignature => RefusalClass::BadSignature,
            Refusal::IssuerMismatch | Refusal::AudienceMismatch | Refusal::TokenUseNotAccepted => {
                RefusalClass::WrongAudience
            }
            Refusal::TooLong
            | Refusal::Malformed
            | Refusal::ClaimsMalformed
            | Refusal::BadSubject => RefusalClass::Malformed,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[async_trait]
pub trait TokenVerifier: Send + Sync {
    async fn verify(&self, token: &str) -> Result<Identity, AuthError>;
}

/// The refusal a `jsonwebtoken` error stands for.
pub(crate) fn refusal(kind: &ErrorKind) -> Refusal {
    match kind {
        ErrorKind::InvalidSignature => Refusal::BadSignature,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            Refusal::AlgorithmNotAllowed
        }
        ErrorKind::ExpiredSignature => Refusal::Expired,
        ErrorKind::ImmatureSignature => Refusal::NotYetValid,
        ErrorKind::InvalidIssuer => Refusal::IssuerMismatch,
        ErrorKind::InvalidAudience => Refusal::AudienceMismatch,
        ErrorKind::MissingRequiredClaim(_) | ErrorKind::InvalidClaimFormat(_) => {
            Refusal::ClaimsMalformed
        }
        ErrorKind::Json(_) => Refusal::ClaimsMalformed,
        _ => Refusal::Malformed,
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aud: Option<String>,
}

/// Verifies HS256 tokens signed with a shared secret; checks `exp` (and
/// `nbf` when present), the issuer and audience when configured, and
/// refuses every other algorithm, `none` included.
pub struct Hs256Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl Hs256Verifier {
    pub fn new(secret: &[u8], issuer: Option<&str>, audience: Option<&str>) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 30;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        if let Some(iss) = issuer {
            validation.set_issuer(&[iss]);
            validation.required_spec_claims.insert("iss".into());
        }
        match audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                validation.required_spec_claims.insert("aud".into());
            }
            None => validation.validate_aud = false,
        }
        Self {
            key: DecodingKey::from_secret(secret),
            validation,
        }
    }
}

#[async_trait]
impl TokenVerifier for Hs256Verifier {
    async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        if token.len() > jwks::MAX_TOKEN_BYTES {
            return Err(AuthError::Invalid(Refusal::TooLong));
        }
        let data = decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| AuthError::Invalid(refusal(e.kind())))?;
        let user_id =
            UserId::parse(&data.claims.sub).map_err(|_| AuthError::Invalid(Refusal::BadSubject))?;
        Ok(Identity {
            user_id,
            name: data.claims.name,
        })
    }
}

/// The verifier `config` describes. Built once per cold start: the JWKS
/// verifier's key cache lives as long as it does.
pub fn verifier_from_config(
    config: &AuthConfig,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn TokenVerifier>, ConfigError> {
    match config {
        AuthConfig::Hs256 {
            jwt_secret,
            issuer,
            audience,
        } => Ok(Arc::new(Hs256Verifier::new(
            jwt_secret.expose().as_bytes(),
            issuer.as_deref(),
            audience.as_deref(),
        ))),
        AuthConfig::Jwks(s) => {
            let mut c = jwks::JwksConfig::new(&s.jwks_url, &s.issuer, &s.audience);
            c.token_uses = s.token_uses.clone();
            let v = jwks::JwksVerifier::new(c, clock).map_err(|_| ConfigError::Invalid {
                name: vars::JWKS_URL,
                reason: "could not build the HTTP client for it".into(),
            })?;
            Ok(Arc::new(v))
        }
    }
}

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

/// Extracts a bearer token from an `Authorization` header value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{Clock, SystemClock};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

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

    #[test]
    fn bearer_parses_the_scheme_case_insensitively() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
