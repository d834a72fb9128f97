//! Verifying tokens of an OpenID provider that publishes its signing keys as a
//! JWKS (Amazon Cognito user pools: `{issuer}/.well-known/jwks.json`).
//!
//! What is checked, in order, before anything in the token is believed:
//!
//! 1. size (at most [`MAX_TOKEN_BYTES`]) and shape;
//! 2. the header's `alg` is RS256 or ES256 — `none`, every HMAC algorithm and
//!    anything else are refused before a key is even looked up, which is what
//!    defeats the "HS256 signed with the RSA public key" confusion;
//! 3. the header's `kid` names a key of the JWKS, and that key is of the same
//!    algorithm (an RSA key never verifies an ES256 token or vice versa;
//!    symmetric `oct` keys are never loaded);
//! 4. the signature;
//! 5. `iss` equals the configured issuer; `exp` is in the future and `nbf`
//!    (when present) in the past, both with [`JwksConfig::leeway_secs`] of
//!    clock skew, measured on the [`Clock`] port so tests move time by hand;
//! 6. `token_use` is one of the configured uses, and the audience fits it: an
//!    **ID token**'s `aud` contains the app client id, an **access token**
//!    (which has no `aud`) carries it as `client_id`;
//! 7. `sub` is a valid [`UserId`].
//!
//! Keys are cached in the verifier, which is built once per cold start, so a
//! warm Lambda fetches the JWKS once. A token naming an unknown `kid` (the
//! provider rotated its keys) triggers a refresh, at most once per
//! [`JwksConfig::refresh_interval_ms`] (once per [`JwksConfig::retry_after_failure_ms`]
//! while fetches fail), so a flood of tokens with made-up `kid`s cannot turn
//! into a flood of fetches. Concurrent verifications that need a refresh wait
//! for one fetch. Every fetch is bounded by [`JwksConfig::fetch_timeout`] and
//! [`MAX_JWKS_BYTES`].
//!
//! Refusal reasons are fixed strings: nothing from the token is echoed into
//! an error (and so into a log). A token whose key is unknown while the key
//! set cannot be fetched is not refused but [`AuthError::KeysUnavailable`]:
//! an outage of the provider is ours to alarm on, not the caller's fault.
//!
//! HTTP is `reqwest` without default features: the workspace already builds it
//! (the local platform uses it), and it is hyper-util's client with timeouts
//! and body streaming done. TLS is not enabled here: the crate that deploys
//! the verifier enables `reqwest`'s `rustls` feature, which the AWS SDK's
//! `rustls`/`aws-lc-rs` stack already in the build makes cheap; the domain
//! crate's own tests talk to a loopback server over plain HTTP.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tracing::{info, warn};

use chat_core::auth::{refusal, AuthError, Identity, Refusal, TokenVerifier};
use chat_core::auth::{TokenUse, MAX_TOKEN_BYTES};
use chat_core::ids::{Millis, UserId};
use chat_core::ports::Clock;

/// Largest JWKS document read. Cognito's holds two keys in under 1 KB.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// Where the keys are and what a valid token must say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwksConfig {
    /// `https://cognito-idp.{region}.amazonaws.com/{poolId}/.well-known/jwks.json`.
    pub jwks_url: String,
    /// `https://cognito-idp.{region}.amazonaws.com/{poolId}`.
    pub issuer: String,
    /// The app client id.
    pub audience: String,
    /// Which kinds of token are accepted.
    pub token_uses: Vec<TokenUse>,
    /// Bound on one JWKS fetch (connect + headers + body).
    pub fetch_timeout: Duration,
    /// Least time between two fetches once keys are loaded.
    pub refresh_interval_ms: Millis,
    /// Least time between two fetches after a failed one.
    pub retry_after_failure_ms: Millis,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway_secs: i64,
}

impl JwksConfig {
    /// The defaults: ID tokens only, a 2 s fetch timeout, a refresh at most
    /// every 60 s (5 s after a failure), 30 s of leeway.
    pub fn new(
        jwks_url: impl Into<String>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self {
            jwks_url: jwks_url.into(),
            issuer: issuer.into(),
            audience: audience.into(),
            token_uses: vec![TokenUse::Id],
            fetch_timeout: Duration::from_secs(2),
            refresh_interval_ms: 60_000,
            retry_after_failure_ms: 5_000,
            leeway_secs: 30,
        }
    }
}

/// One usable verification key.
struct CachedKey {
    alg: Algorithm,
    key: DecodingKey,
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, Arc<CachedKey>>,
    /// When the last fetch was attempted, and whether it succeeded.
    last_attempt: Option<(Millis, bool)>,
}

/// The claims this verifier reads. Required ones are not `Option`: a token
/// without them fails to decode.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    iss: String,
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    aud: Option<Audience>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    token_use: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, aud: &str) -> bool {
        match self {
            Audience::One(a) => a == aud,
            Audience::Many(all) => all.iter().any(|a| a == aud),
        }
    }
}

/// Why a JWKS fetch failed (logged, never shown to a client).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("JWKS request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("JWKS endpoint answered {0}")]
    Status(u16),
    #[error("JWKS document is larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    #[error("JWKS document is not a JSON key set")]
    NotAKeySet,
}

/// A [`TokenVerifier`] over a JWKS URL. Build one per process and share it.
pub struct JwksVerifier {
    config: JwksConfig,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    cache: RwLock<KeyCache>,
    /// Held while fetching: concurrent refreshes wait for the one in flight.
    refreshing: tokio::sync::Mutex<()>,
}

fn invalid(refusal: Refusal) -> AuthError {
    AuthError::Invalid(refusal)
}

impl JwksVerifier {
    pub fn new(config: JwksConfig, clock: Arc<dyn Clock>) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.fetch_timeout)
            .connect_timeout(config.fetch_timeout)
            // The configured URL is the key set; a redirect elsewhere is not.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            config,
            http,
            clock,
            cache: RwLock::new(KeyCache::default()),
            refreshing: tokio::sync::Mutex::new(()),
        })
    }

    /// How many keys are cached (for tests and diagnostics).
    pub fn cached_keys(&self) -> usize {
        self.read_cache().keys.len()
    }

    fn read_cache(&self) -> std::sync::RwLockReadGuard<'_, KeyCache> {
        self.cache.read().unwrap_or_else(|p| p.into_inner())
    }

    fn cached(&self, kid: &str) -> Option<Arc<CachedKey>> {
        self.read_cache().keys.get(kid).cloned()
    }

    /// The key named `kid`, refreshing the key set first when it is unknown
    /// and a refresh is due. `Ok(None)`: the provider's current key set has
    /// no such key, the token's fault. [`AuthError::KeysUnavailable`]: the
    /// key is unknown and the key set could not be fetched, now or at the
    /// last attempt (whose failure back-off still runs), so nobody can tell
    /// whether the token is good.
    async fn key(&self, kid: &str) -> Result<Option<Arc<CachedKey>>, AuthError> {
        if let Some(k) = self.cached(kid) {
            return Ok(Some(k));
        }
        let _one_at_a_time = self.refreshing.lock().await;
        // Someone else may have fetched it while this one waited.
        if let Some(k) = self.cached(kid) {
            return Ok(Some(k));
        }
        let now = self.clock.now();
        let (due, last_ok) = match self.read_cache().last_attempt {
            None => (true, true),
            Some((at, ok)) => {
                let wait = if ok {
                    self.config.refresh_interval_ms
                } else {
                    self.config.retry_after_failure_ms
                };
                (now.saturating_sub(at) >= wait, ok)
            }
        };
        if !due {
            return if last_ok {
                Ok(None)
            } else {
                Err(AuthError::KeysUnavailable)
            };
        }
        let fetched = self.fetch().await;
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        match fetched {
            Ok(keys) => {
                info!(keys = keys.len(), "JWKS loaded");
                cache.keys = keys;
                cache.last_attempt = Some((now, true));
                Ok(cache.keys.get(kid).cloned())
            }
            Err(e) => {
                // Keep the keys we had: a provider blip must not log everyone out.
                warn!(error = %chat_core::error::chain(&e), "JWKS refresh failed");
                cache.last_attempt = Some((now, false));
                Err(AuthError::KeysUnavailable)
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<CachedKey>>, FetchError> {
        let mut resp = self.http.get(&self.config.jwks_url).send().await?;
        if !resp.status().is_success() {
            return Err(FetchError::Status(resp.status().as_u16()));
        }
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err(FetchError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(FetchError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        parse_jwks(&body)
    }
}

/// The usable signing keys of a JWKS document, by `kid`. Keys this verifier
/// cannot or must not use (encryption keys, symmetric keys, other algorithms
/// or curves, no `kid`) are skipped one by one rather than failing the set,
/// so a provider adding a new kind of key does not break sign-in.
fn parse_jwks(body: &[u8]) -> Result<HashMap<String, Arc<CachedKey>>, FetchError> {
    #[derive(Deserialize)]
    struct RawSet {
        keys: Vec<serde_json::Value>,
    }
    let set: RawSet = serde_json::from_slice(body).map_err(|_| FetchError::NotAKeySet)?;
    let mut keys = HashMap::new();
    for raw in set.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(raw) else {
            continue;
        };
        if let Some((kid, key)) = usable(&jwk) {
            keys.insert(kid, Arc::new(key));
        }
    }
    Ok(keys)
}

fn usable(jwk: &Jwk) -> Option<(String, CachedKey)> {
    let kid = jwk.common.key_id.clone()?;
    if matches!(&jwk.common.public_key_use, Some(u) if *u != PublicKeyUse::Signature) {
        return None;
    }
    let alg = match (&jwk.algorithm, jwk.common.key_algorithm) {
        (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
        (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
            if ec.curve == EllipticCurve::P256 =>
        {
            Algorithm::ES256
        }
        _ => return None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some((kid, CachedKey { alg, key }))
}

#[async_trait]
impl TokenVerifier for JwksVerifier {
    async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(invalid(Refusal::TooLong));
        }
        // An unknown `alg` (`none` included) fails right here.
        let header = decode_header(token).map_err(|_| invalid(Refusal::Malformed))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(invalid(Refusal::AlgorithmNotAllowed));
        }
        let kid = header.kid.ok_or_else(|| invalid(Refusal::NoKeyId))?;
        let key = self
            .key(&kid)
            .await?
            .ok_or_else(|| invalid(Refusal::UnknownKeyId))?;
        if key.alg != header.alg {
            return Err(invalid(Refusal::AlgorithmKeyMismatch));
        }

        // The signature is checked by the library; every claim below by us,
        // on our clock.
        let mut validation = Validation::new(key.alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let claims = decode::<Claims>(token, &key.key, &validation)
            .map_err(|e| invalid(refusal(e.kind())))?
            .claims;

        let now = self.clock.now().div_euclid(1000);
        let leeway = self.config.leeway_secs;
        if claims.iss != self.config.issuer {
            return Err(invalid(Refusal::IssuerMismatch));
        }
        if claims.exp.saturating_add(leeway) < now {
            return Err(invalid(Refusal::Expired));
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf.saturating_sub(leeway) > now)
        {
            return Err(invalid(Refusal::NotYetValid));
        }
        let token_use = self
            .config
            .token_uses
            .iter()
            .copied()
            .find(|u| claims.token_use.as_deref() == Some(u.claim()))
            .ok_or_else(|| invalid(Refusal::TokenUseNotAccepted))?;
        let audience_ok = match token_use {
            TokenUse::Id => claims
                .aud
                .as_ref()
                .is_some_and(|a| a.contains(&self.config.audience)),
            TokenUse::Access => claims.client_id.as_deref() == Some(self.config.audience.as_str()),
        };
        if !audience_ok {
            return Err(invalid(Refusal::AudienceMismatch));
        }
        let user_id = UserId::parse(&claims.sub).map_err(|_| invalid(Refusal::BadSubject))?;
        Ok(Identity {
            user_id,
            name: claims.name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;
    use chat_core::memory::ManualClock;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::{json, Value};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    const ISS: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST";
    const CLIENT: &str = "test-app-client";
    const NOW: Millis = 1_795_000_000_000;

    /// The DER inside a PEM file (the test keys carry a comment before BEGIN).
    fn der(pem: &str) -> Vec<u8> {
        let b64: String = pem
            .lines()
            .skip_while(|l| !l.starts_with("-----BEGIN"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect();
        STANDARD.decode(b64).expect("test key is base64")
    }

    fn rsa1() -> EncodingKey {
        EncodingKey::from_rsa_der(&der(include_str!("../testdata/rsa-1.pem")))
    }
    fn rsa2() -> EncodingKey {
        EncodingKey::from_rsa_der(&der(include_str!("../testdata/rsa-2.pem")))
    }
    fn ec1() -> EncodingKey {
        EncodingKey::from_ec_der(&der(include_str!("../testdata/ec-1.pem")))
    }

    /// The public half of a key as a JWK with this `kid`.
    fn jwk(key: &EncodingKey, alg: Algorithm, kid: &str) -> Value {
        let mut j = Jwk::from_encoding_key(key, alg).expect("public key of a test key");
        j.common.key_id = Some(kid.to_owned());
        j.common.public_key_use = Some(PublicKeyUse::Signature);
        serde_json::to_value(j).unwrap()
    }

    fn claims() -> Value {
        json!({
            "sub": "8f1c2d3e-0000-4000-8000-000000000001",
            "iss": ISS,
            "aud": CLIENT,
            "token_use": "id",
            "exp": NOW / 1000 + 3600,
            "iat": NOW / 1000,
            "name": "Alice",
        })
    }

    fn sign(key: &EncodingKey, alg: Algorithm, kid: &str, claims: &Value) -> String {
        let mut h = Header::new(alg);
        h.kid = Some(kid.to_owned());
        encode(&h, claims, key).expect("signs")
    }

    /// A JWKS endpoint on loopback that serves whatever `doc` currently holds
    /// and counts requests.
    struct JwksServer {
        url: String,
        doc: Arc<std::sync::Mutex<String>>,
        hits: Arc<AtomicUsize>,
    }

    impl JwksServer {
        async fn start(keys: Vec<Value>) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!(
                "http://{}/.well-known/jwks.json",
                listener.local_addr().unwrap()
            );
            let doc = Arc::new(std::sync::Mutex::new(json!({ "keys": keys }).to_string()));
            let hits = Arc::new(AtomicUsize::new(0));
            let (d, h) = (doc.clone(), hits.clone());
            tokio::spawn(async move {
                while let Ok((mut sock, _)) = listener.accept().await {
                    h.fetch_add(1, Ordering::SeqCst);
                    let body = d.lock().unwrap().clone();
                    tokio::spawn(async move {
                        let mut buf = vec![0u8; 4096];
                        let mut seen = Vec::new();
                        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                            match sock.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => seen.extend_from_slice(&buf[..n]),
                            }
                        }
                        let resp = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = sock.write_all(resp.as_bytes()).await;
                    });
                }
            });
            Self { url, doc, hits }
        }

        fn set(&self, keys: Vec<Value>) {
            *self.doc.lock().unwrap() = json!({ "keys": keys }).to_string();
        }

        fn hits(&self) -> usize {
            self.hits.load(Ordering::SeqCst)
        }
    }

    fn verifier(url: &str, clock: Arc<ManualClock>) -> JwksVerifier {
        let mut c = JwksConfig::new(url, ISS, CLIENT);
        c.token_uses = vec![TokenUse::Id, TokenUse::Access];
        JwksVerifier::new(c, clock).unwrap()
    }

    async fn setup() -> (JwksServer, JwksVerifier, Arc<ManualClock>) {
        let server = JwksServer::start(vec![
            jwk(&rsa1(), Algorithm::RS256, "rsa-1"),
            jwk(&ec1(), Algorithm::ES256, "ec-1"),
        ])
        .await;
        let clock = Arc::new(ManualClock::new(NOW));
        let v = verifier(&server.url, clock.clone());
        (server, v, clock)
    }

    fn refused(r: Result<Identity, AuthError>, why: &str) {
        match r {
            Err(AuthError::Invalid(reason)) => assert_eq!(reason.as_str(), why),
            other => panic!("expected refusal {why:?}, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn accepts_valid_rs256_and_es256_id_tokens_and_caches_the_keys() {
        let (server, v, _) = setup().await;
        let id = v
            .verify(&sign(&rsa1(), Algorithm::RS256, "rsa-1", &claims()))
            .await
            .unwrap();
        assert_eq!(id.user_id.as_str(), "8f1c2d3e-0000-4000-8000-000000000001");
        assert_eq!(id.name.as_deref(), Some("Alice"));
        let id = v
            .verify(&sign(&ec1(), Algorithm::ES256, "ec-1", &claims()))
            .await
            .unwrap();
        assert_eq!(id.name.as_deref(), Some("Alice"));
        assert_eq!(server.hits(), 1, "one fetch serves every later token");
        assert_eq!(v.cached_keys(), 2);
    }

    #[tokio::test]
    async fn accepts_an_access_token_by_its_client_id() {
        let (_server, v, _) = setup().await;
        let mut c = claims();
        c["token_use"] = json!("access");
        c.as_object_mut().unwrap().remove("aud");
        c["client_id"] = json!(CLIENT);
        assert!(v
            .verify(&sign(&rsa1(), Algorithm::RS256, "rsa-1", &c))
            .await
            .is_ok());
        // An access token does not pass on an `aud` alone.
        c.as_object_mut().unwrap().remove("client_id");
        c["aud"] = json!(CLIENT);
        refused(
            v.verify(&sign(&rsa1(), Algorithm::RS256, "rsa-1", &c))
                .await,
            "audience mismatch",
        );
    }

    #[tokio::test]
    async fn refuses_forged_expired_early_and_mismatched_tokens() {
        let (_server, v, clock) = setup().await;
        // Signed by another key under rsa-1's kid.
        refused(
            v.verify(&sign(&rsa2(), Algorithm::RS256, "rsa-1", &claims()))
                .await,
            "bad signature",
        );
        // A valid token with its payload swapped.
        let good = sign(&rsa1(), Algorithm::RS256, "rsa-1", &claims());
        let parts: Vec<&str> = good.split('.').collect();
        let mut evil = claims();
        evil["sub"] = json!("mallory");
        let payload = URL_SAFE_NO_PAD.encode(evil.to_string());
        refused(
            v.verify(&format!("{}.{payload}.{}", parts[0], parts[2]))
                .await,
            "bad signature",
        );

        let with = |f: &dyn Fn(&mut Value)| {
            let mut c = claims();
            f(&mut c);
            sign(&rsa1(), Algorithm::RS256, "rsa-1", &c)
        };
        refused(
            v.verify(&with(&|c| c["exp"] = json!(NOW / 1000 - 31)))
                .await,
            "token expired",
        );
        // Within the leeway is fine.
        assert!(v
            .verify(&with(&|c| c["exp"] = json!(NOW / 1000 - 29)))
            .await
            .is_ok());
        refused(
            v.verify(&with(&|c| c["nbf"] = json!(NOW / 1000 + 31)))
                .await,
            "token not yet valid",
        );
        refused(
            v.verify(&with(&|c| c["iss"] = json!(format!("{ISS}x"))))
                .await,
            "issuer mismatch",
        );
        refused(
            v.verify(&with(&|c| c["aud"] = json!("another-client")))
                .await,
            "audience mismatch",
        );
        assert!(v
            .verify(&with(&|c| c["aud"] = json!(["other", CLIENT])))
            .await
            .is_ok());
        refused(
            v.verify(&with(&|c| {
                c["token_use"] = json!("access");
                c["client_id"] = json!("another-client");
            }))
            .await,
            "audience mismatch",
        );
        refused(
            v.verify(&with(&|c| c["token_use"] = json!("refresh")))
                .await,
            "token_use not accepted",
        );
        refused(
            v.verify(&with(&|c| {
                c.as_object_mut().unwrap().remove("token_use");
            }))
            .await,
            "token_use not accepted",
        );
        refused(
            v.verify(&with(&|c| {
                c.as_object_mut().unwrap().remove("exp");
            }))
            .await,
            "claims missing or malformed",
        );
        refused(
            v.verify(&with(&|c| c["sub"] = json!("<script>"))).await,
            "subject is not a valid user id",
        );
        // The clock moves: the same token expires.
        let t = sign(&rsa1(), Algorithm::RS256, "rsa-1", &claims());
        assert!(v.verify(&t).await.is_ok());
        clock.advance(3_700_000);
        refused(v.verify(&t).await, "token expired");
    }

    #[tokio::test]
    async fn only_configured_token_uses_pass() {
        let server = JwksServer::start(vec![jwk(&rsa1(), Algorithm::RS256, "rsa-1")]).await;
        // The default accepts ID tokens only.
        let v = JwksVerifier::new(
            JwksConfig::new(&server.url, ISS, CLIENT),
            Arc::new(ManualClock::new(NOW)),
        )
        .unwrap();
        let mut c = claims();
        c["token_use"] = json!("access");
        c["client_id"] = json!(CLIENT);
        refused(
            v.verify(&sign(&rsa1(), Algorithm::RS256, "rsa-1", &c))
                .await,
            "token_use not accepted",
        );
        assert_eq!(
            TokenUse::parse_list(" access , id,id").unwrap(),
            vec![TokenUse::Access, TokenUse::Id]
        );
        assert!(TokenUse::parse_list("refresh").is_err());
        assert!(TokenUse::parse_list(",").is_err());
    }

    #[tokio::test]
    async fn refuses_alg_none_and_hs256_signed_with_the_public_key() {
        let (_server, v, _) = setup().await;
        let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
        for header in [
            r#"{"alg":"none","kid":"rsa-1"}"#,
            r#"{"alg":"None","kid":"rsa-1"}"#,
            r#"{"alg":"","kid":"rsa-1"}"#,
        ] {
            let h = URL_SAFE_NO_PAD.encode(header);
            refused(
                v.verify(&format!("{h}.{payload}.")).await,
                "malformed token",
            );
        }
        // The key confusion attack: HMAC keyed with the RSA public key, in
        // the forms an attacker would try (the PKCS#1 DER, the JWK's modulus).
        let public = Jwk::from_encoding_key(&rsa1(), Algorithm::RS256).unwrap();
        let AlgorithmParameters::RSA(rsa) = &public.algorithm else {
            unreachable!()
        };
        let modulus = URL_SAFE_NO_PAD.decode(&rsa.n).unwrap();
        for secret in [modulus.as_slice(), rsa.n.as_bytes()] {
            for alg in [Algorithm::HS256, Algorithm::HS512] {
                let t = sign(&EncodingKey::from_secret(secret), alg, "rsa-1", &claims());
                refused(v.verify(&t).await, "algorithm not allowed");
            }
        }
        // An RSA key never verifies an ES256 token, whatever it claims.
        refused(
            v.verify(&sign(&ec1(), Algorithm::ES256, "rsa-1", &claims()))
                .await,
            "algorithm does not match the key",
        );
        // No kid, garbage, oversize, empty.
        let mut h = Header::new(Algorithm::RS256);
        h.kid = None;
        let t = encode(&h, &claims(), &rsa1()).unwrap();
        refused(v.verify(&t).await, "token has no key id");
        refused(v.verify("a.b.c").await, "malformed token");
        refused(
            v.verify(&"a".repeat(MAX_TOKEN_BYTES + 1)).await,
            "token too long",
        );
        assert_eq!(v.verify("").await.unwrap_err(), AuthError::Missing);
    }

    #[tokio::test]
    async fn an_unknown_kid_refreshes_at_most_once_per_interval_and_is_refused() {
        let (server, v, clock) = setup().await;
        assert!(v
            .verify(&sign(&rsa1(), Algorithm::RS256, "rsa-1", &claims()))
            .await
            .is_ok());
        assert_eq!(server.hits(), 1);
        // A flood of made-up kids: none known, none worth a fetch yet.
        for i in 0..20 {
            let t = sign(
                &rsa1(),
                Algorithm::RS256,
                &format!("made-up-{i}"),
                &claims(),
            );
            refused(v.verify(&t).await, "unknown key id");
        }
        assert_eq!(server.hits(), 1, "refresh is rate limited");
        // After the interval one more refresh happens, and still no such key.
        clock.advance(60_000);
        let t = sign(&rsa1(), Algorithm::RS256, "made-up", &claims());
        refused(v.verify(&t).await, "unknown key id");
        refused(v.verify(&t).await, "unknown key id");
        assert_eq!(server.hits(), 2);
    }

    #[tokio::test]
    async fn a_rotated_in_key_is_accepted_after_a_refresh() {
        let (server, v, clock) = setup().await;
        assert!(v
            .verify(&sign(&rsa1(), Algorithm::RS256, "rsa-1", &claims()))
            .await
            .is_ok());
        // The provider rotates: rsa-2 appears, rsa-1 is withdrawn.
        server.set(vec![jwk(&rsa2(), Algorithm::RS256, "rsa-2")]);
        clock.advance(60_000);
        let mut c = claims();
        c["exp"] = json!((NOW + 60_000) / 1000 + 3600);
        assert!(v
            .verify(&sign(&rsa2(), Algorithm::RS256, "rsa-2", &c))
            .await
            .is_ok());
        assert_eq!(server.hits(), 2);
        // The withdrawn key is gone with the old set.
        refused(
            v.verify(&sign(&rsa1(), Algorithm::RS256, "rsa-1", &c))
                .await,
            "unknown key id",
        );
    }

    #[tokio::test]
    async fn concurrent_unknown_kids_share_one_fetch() {
        let (server, v, _) = setup().await;
        let v = Arc::new(v);
        let t = sign(&rsa1(), Algorithm::RS256, "rsa-1", &claims());
        let all = futures::future::join_all((0..16).map(|_| {
            let (v, t) = (v.clone(), t.clone());
            async move { v.verify(&t).await }
        }))
        .await;
        assert!(all.iter().all(Result::is_ok));
        assert_eq!(server.hits(), 1);
    }

    #[tokio::test]
    async fn an_unreachable_or_slow_jwks_fails_as_unavailable_within_the_timeout_and_retries_later()
    {
        // Accepts connections, never answers.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = listener.accept().await {
                held.push(sock);
            }
        });
        let clock = Arc::new(ManualClock::new(NOW));
        let mut c = JwksConfig::new(url, ISS, CLIENT);
        c.fetch_timeout = Duration::from_millis(200);
        let v = JwksVerifier::new(c, clock.clone()).unwrap();
        let t = sign(&rsa1(), Algorithm::RS256, "rsa-1", &claims());
        // Not a refusal of the token: the verifier could not decide.
        let started = std::time::Instant::now();
        assert_eq!(v.verify(&t).await, Err(AuthError::KeysUnavailable));
        assert!(started.elapsed() < Duration::from_secs(2));
        // Within the failure back-off: no second attempt, an instant answer.
        let started = std::time::Instant::now();
        assert_eq!(v.verify(&t).await, Err(AuthError::KeysUnavailable));
        assert!(started.elapsed() < Duration::from_millis(100));
    }

    #[test]
    fn unusable_keys_are_skipped_not_fatal() {
        let doc = json!({"keys": [
            {"kty":"oct","kid":"sym","k":"c2VjcmV0"},
            {"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},
            {"kty":"RSA","kid":"ps","alg":"PS256","n":"AQAB","e":"AQAB"},
            {"kty":"OKP","kid":"ed","crv":"Ed25519","x":"AAAA"},
            {"kty":"future","kid":"new"},
            jwk(&rsa1(), Algorithm::RS256, "rsa-1"),
            jwk(&ec1(), Algorithm::ES256, "ec-1"),
        ]});
        let keys = parse_jwks(doc.to_string().as_bytes()).unwrap();
        let mut kids: Vec<&str> = keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        assert_eq!(kids, vec!["ec-1", "rsa-1"]);
        assert!(parse_jwks(b"[]").is_err());
        assert!(parse_jwks(b"{\"keys\":{}}").is_err());
    }
}
