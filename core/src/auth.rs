//! Identity. A [`TokenVerifier`] turns a bearer token into the one identity a
//! connection or REST request acts as; nothing else in the system may name
//! the caller. Two verifiers sit behind the port: [`Hs256Verifier`] here,
//! with a configured secret (what the local platform mints and tests use),
//! and `chat_adapters::jwks::JwksVerifier` for RS256/ES256 tokens of a
//! provider that publishes a JWKS (Amazon Cognito in AWS): it fetches keys
//! over HTTPS, so it is an adapter.

use async_trait::async_trait;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// Longest token considered at all. Cognito tokens are 1–2 KB (more with
/// many groups); anything far bigger is not worth base64-decoding.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The Cognito token kinds (`token_use` claim).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenUse {
    /// An ID token: identity claims, `aud` = the app client id.
    Id,
    /// An access token: scopes, `client_id` = the app client id, no `aud`.
    Access,
}

impl TokenUse {
    /// `"id"`, `"access"`, or a comma-separated list of both.
    pub fn parse_list(raw: &str) -> Result<Vec<TokenUse>, String> {
        let mut out = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let u = match part {
                "id" => TokenUse::Id,
                "access" => TokenUse::Access,
                _ => return Err("must be id, access, or id,access".into()),
            };
            if !out.contains(&u) {
                out.push(u);
            }
        }
        if out.is_empty() {
            return Err("must be id, access, or id,access".into());
        }
        Ok(out)
    }

    pub fn claim(self) -> &'static str {
        match self {
            TokenUse::Id => "id",
            TokenUse::Access => "access",
        }
    }
}

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
pub fn refusal(kind: &ErrorKind) -> Refusal {
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
pub struct Claims {
    pub sub: String,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
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
        Self::accepting(secret, issuer, audience.as_slice())
    }

    /// As [`Hs256Verifier::new`], a token's `aud` being any of `audiences`
    /// (API Gateway's JWT authorizer takes a list); none: `aud` unchecked.
    pub fn accepting(secret: &[u8], issuer: Option<&str>, audiences: &[&str]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 30;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        if let Some(iss) = issuer {
            validation.set_issuer(&[iss]);
            validation.required_spec_claims.insert("iss".into());
        }
        if audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(audiences);
            validation.required_spec_claims.insert("aud".into());
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
        if token.len() > MAX_TOKEN_BYTES {
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

    #[test]
    fn bearer_parses_the_scheme_case_insensitively() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
