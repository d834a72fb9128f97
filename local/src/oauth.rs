//! A twin of the Cognito hosted UI's OAuth 2.0 endpoints, so the web app
//! signs in locally through the very code path it uses against the user
//! pool `cdk deploy` creates: authorization code with PKCE (S256), the
//! refresh-token grant, revocation and logout.
//!
//! | Endpoint | Cognito | Here |
//! |---|---|---|
//! | `GET /oauth2/authorize` | checks the client and redirect URI, then sends the browser to `/login` | same |
//! | `GET /login`, `POST /login` | the sign-in page (user name + password) | a pick-a-name page: no password, the name becomes the user id |
//! | `POST /oauth2/token` | `authorization_code` (+ `code_verifier`), `refresh_token` | same, same error shapes |
//! | `POST /oauth2/revoke` | revokes a refresh token | same |
//! | `GET /logout` | ends the hosted UI session, redirects to `logout_uri` | same (there is no session to end) |
//!
//! The app client is public (no secret, as in the stack): `client_id` is the
//! only client authentication, and a PKCE `code_challenge` given at
//! `/oauth2/authorize` must be answered by the `code_verifier` at
//! `/oauth2/token`. A code is single use and lives five minutes, as
//! Cognito's do; it is consumed by the first exchange, good or bad, so a
//! stolen code tried with a guessed verifier is gone.
//!
//! The tokens are the local identity provider's ([`crate::mint_token_by`]'s
//! HS256, with the issuer and audience the platform's verifiers expect), so
//! the WebSocket authorizer and the HTTP API accept them exactly as they
//! accept Cognito's ID tokens in AWS. The access token is minted the same
//! way; the platform, like the stack, verifies only the ID token.
//!
//! The redirect and logout URIs allowed are this server's own root
//! (`http://127.0.0.1:<port>/` and `http://localhost:<port>/` on loopback),
//! where it serves the web app: the local counterpart of the stack's
//! CloudFront URL.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chat_core::ids::{Millis, UserId};
use chat_core::ports::Clock;
use chat_twin::{mint_hs256, MintOptions};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::TokenIssuer;

/// How long an authorization code may wait for its exchange (Cognito: 5 min).
pub const CODE_TTL_MS: Millis = 5 * 60 * 1000;
/// The ID token lifetime unless configured (the stack's app client: 1 h).
pub const DEFAULT_TOKEN_TTL_SECS: i64 = 3600;
/// How long a refresh token is good for (the stack's app client: 30 days).
pub const REFRESH_TTL_MS: Millis = 30 * 24 * 3600 * 1000;
/// The client id locally when no template names one.
pub const LOCAL_CLIENT_ID: &str = "chat-local-web";
/// The scopes the stack's app client allows.
pub const SCOPES: [&str; 3] = ["openid", "email", "profile"];

/// A refusal, in the `{"error": ...}` shape and with the codes Cognito's
/// token endpoint answers (RFC 6749 §5.2).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    #[error("invalid_client")]
    InvalidClient,
    #[error("invalid_grant: {0}")]
    InvalidGrant(&'static str),
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("unauthorized_client")]
    UnauthorizedClient,
}

impl OAuthError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnauthorizedClient => "unauthorized_client",
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        // Cognito answers every token-endpoint refusal with 400 and
        // `{"error": code}`; the description is ours, to say which check.
        let mut body = json!({ "error": self.code() });
        match &self {
            Self::InvalidRequest(why) => body["error_description"] = json!(why),
            Self::InvalidGrant(why) => body["error_description"] = json!(why),
            _ => {}
        }
        let mut r = (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
        no_store(&mut r);
        r
    }
}

/// Why `/oauth2/authorize` or `/logout` cannot even redirect back: Cognito
/// then shows its `/error` page instead of trusting the URI.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PageError {
    #[error("redirect_mismatch")]
    RedirectMismatch,
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
}

/// `/oauth2/authorize` and `/login` parameters (query string).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct AuthorizeParams {
    #[serde(default)]
    pub response_type: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// `/oauth2/token` form fields.
#[derive(Debug, Default, Deserialize)]
pub struct TokenParams {
    #[serde(default)]
    pub grant_type: String,
    pub client_id: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
}

/// What `/oauth2/token` answers.
#[derive(Debug, serde::Serialize, PartialEq, Eq)]
pub struct Tokens {
    pub id_token: String,
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub expires_in: i64,
    pub token_type: &'static str,
}

struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    user: UserId,
    name: String,
    expires_at: Millis,
}

struct Session {
    client_id: String,
    user: UserId,
    name: String,
    expires_at: Millis,
}

/// The hosted UI twin's state: codes waiting for their exchange and live
/// refresh tokens.
pub struct HostedUi {
    client_id: String,
    issuer: TokenIssuer,
    secret: String,
    token_ttl_secs: i64,
    clock: Arc<dyn Clock>,
    redirect_uris: Vec<String>,
    codes: Mutex<HashMap<String, Code>>,
    sessions: Mutex<HashMap<String, Session>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// An opaque, unguessable handle (two random UUIDs: 244 random bits).
fn opaque() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The PKCE S256 challenge of `verifier`: BASE64URL(SHA256(verifier)), no padding.
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.1: 43-128 characters of `[A-Za-z0-9-._~]`.
fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The user id a picked name becomes (what the web app showed before it
/// signed in through OAuth): lowercase, runs of other characters as `-`.
pub fn user_id_of(name: &str) -> Option<UserId> {
    let mut id = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-') {
            id.push(c);
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    let id: String = id
        .trim_matches(|c| c == '-' || c == '.')
        .chars()
        .take(64)
        .collect();
    UserId::parse(id.trim_end_matches(['-', '.'])).ok()
}

impl HostedUi {
    pub fn new(
        issuer: TokenIssuer,
        secret: String,
        token_ttl_secs: i64,
        clock: Arc<dyn Clock>,
        addr: SocketAddr,
    ) -> Self {
        let client_id = issuer
            .audience
            .clone()
            .unwrap_or_else(|| LOCAL_CLIENT_ID.to_owned());
        Self {
            client_id,
            issuer,
            secret,
            token_ttl_secs,
            clock,
            redirect_uris: own_origins(addr)
                .into_iter()
                .map(|o| format!("{o}/"))
                .collect(),
            codes: Mutex::default(),
            sessions: Mutex::default(),
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The redirect (and logout) URIs the client allows.
    pub fn redirect_uris(&self) -> &[String] {
        &self.redirect_uris
    }

    fn known(&self, client_id: &str, uri: &str) -> Result<(), PageError> {
        if client_id != self.client_id || !self.redirect_uris.iter().any(|u| u == uri) {
            return Err(PageError::RedirectMismatch);
        }
        Ok(())
    }

    /// Checks an authorization request. `Err(Page)` when the client or the
    /// redirect URI is wrong (nothing may be sent there); `Ok(Err(url))`
    /// when the error goes back to the client's redirect URI; `Ok(Ok(()))`
    /// when the sign-in page may be shown.
    pub fn check_authorize(&self, p: &AuthorizeParams) -> Result<Result<(), String>, PageError> {
        self.known(&p.client_id, &p.redirect_uri)?;
        let back = |error: &str, why: &str| {
            Err(with_query(
                &p.redirect_uri,
                &[("error", error), ("error_description", why)],
                p.state.as_deref(),
            ))
        };
        if p.response_type != "code" {
            return Ok(back(
                "unsupported_response_type",
                "this client allows only response_type=code",
            ));
        }
        if let Some(scope) = &p.scope {
            if scope.split_whitespace().any(|s| !SCOPES.contains(&s)) {
                return Ok(back(
                    "invalid_scope",
                    "allowed scopes: openid email profile",
                ));
            }
        }
        match (
            p.code_challenge.as_deref(),
            p.code_challenge_method.as_deref(),
        ) {
            (None, None) => {}
            (Some(c), Some("S256")) if c.len() == 43 => {}
            (Some(_), Some("S256")) => {
                return Ok(back(
                    "invalid_request",
                    "code_challenge is not an S256 challenge",
                ))
            }
            (Some(_), _) => {
                return Ok(back(
                    "invalid_request",
                    "code_challenge_method must be S256",
                ))
            }
            (None, Some(_)) => {
                return Ok(back(
                    "invalid_request",
                    "code_challenge_method without code_challenge",
                ))
            }
        }
        Ok(Ok(()))
    }

    /// The sign-in page was submitted with `name`: a code for the client's
    /// redirect URI, or why not.
    pub fn sign_in(
        &self,
        p: &AuthorizeParams,
        name: &str,
    ) -> Result<Result<String, String>, PageError> {
        if let Err(url) = self.check_authorize(p)? {
            return Ok(Err(url));
        }
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        let Some(user) = user_id_of(&name).filter(|_| name.chars().count() <= 64) else {
            return Err(PageError::InvalidRequest(
                "a name needs a letter or digit (at most 64 characters)",
            ));
        };
        let code = opaque();
        let now = self.clock.now();
        let mut codes = lock(&self.codes);
        codes.retain(|_, c| c.expires_at > now);
        codes.insert(
            code.clone(),
            Code {
                client_id: p.client_id.clone(),
                redirect_uri: p.redirect_uri.clone(),
                challenge: p.code_challenge.clone(),
                user,
                name,
                expires_at: now + CODE_TTL_MS,
            },
        );
        Ok(Ok(with_query(
            &p.redirect_uri,
            &[("code", &code)],
            p.state.as_deref(),
        )))
    }

    /// `POST /oauth2/token`.
    pub fn token(&self, p: &TokenParams) -> Result<Tokens, OAuthError> {
        let client_id = p
            .client_id
            .as_deref()
            .ok_or_else(|| OAuthError::InvalidRequest("client_id is required".into()))?;
        if client_id != self.client_id {
            return Err(OAuthError::InvalidClient);
        }
        let now = self.clock.now();
        match p.grant_type.as_str() {
            "authorization_code" => {
                let (Some(code), Some(redirect_uri)) = (&p.code, &p.redirect_uri) else {
                    return Err(OAuthError::InvalidRequest(
                        "code and redirect_uri are required".into(),
                    ));
                };
                // Single use: taken out before any check.
                let grant = lock(&self.codes)
                    .remove(code)
                    .ok_or(OAuthError::InvalidGrant("unknown or already used code"))?;
                if grant.expires_at <= now {
                    return Err(OAuthError::InvalidGrant("the code has expired"));
                }
                if grant.client_id != client_id {
                    return Err(OAuthError::UnauthorizedClient);
                }
                if &grant.redirect_uri != redirect_uri {
                    return Err(OAuthError::InvalidGrant(
                        "redirect_uri differs from the authorization request's",
                    ));
                }
                if let Some(challenge) = &grant.challenge {
                    let verifier = p.code_verifier.as_deref().unwrap_or_default();
                    if !valid_verifier(verifier) || s256(verifier) != *challenge {
                        return Err(OAuthError::InvalidGrant(
                            "code_verifier does not match the code_challenge",
                        ));
                    }
                }
                let refresh = opaque();
                let mut sessions = lock(&self.sessions);
                sessions.retain(|_, s| s.expires_at > now);
                sessions.insert(
                    refresh.clone(),
                    Session {
                        client_id: grant.client_id,
                        user: grant.user.clone(),
                        name: grant.name.clone(),
                        expires_at: now + REFRESH_TTL_MS,
                    },
                );
                Ok(self.tokens(&grant.user, &grant.name, now, Some(refresh)))
            }
            "refresh_token" => {
                let rt = p.refresh_token.as_deref().ok_or_else(|| {
                    OAuthError::InvalidRequest("refresh_token is required".into())
                })?;
                let sessions = lock(&self.sessions);
                let s = sessions
                    .get(rt)
                    .filter(|s| s.expires_at > now)
                    .ok_or(OAuthError::InvalidGrant("invalid refresh token"))?;
                if s.client_id != client_id {
                    return Err(OAuthError::InvalidGrant("invalid refresh token"));
                }
                Ok(self.tokens(&s.user, &s.name, now, None))
            }
            "" => Err(OAuthError::InvalidRequest("grant_type is required".into())),
            _ => Err(OAuthError::UnsupportedGrantType),
        }
    }

    /// `POST /oauth2/revoke`: the refresh token stops working.
    pub fn revoke(&self, client_id: Option<&str>, token: Option<&str>) -> Result<(), OAuthError> {
        if client_id != Some(self.client_id.as_str()) {
            return Err(OAuthError::InvalidClient);
        }
        let token = token.ok_or_else(|| OAuthError::InvalidRequest("token is required".into()))?;
        let mut sessions = lock(&self.sessions);
        match sessions.get(token) {
            Some(s) if s.client_id != client_id.unwrap_or_default() => {
                Err(OAuthError::UnauthorizedClient)
            }
            _ => {
                sessions.remove(token);
                Ok(())
            }
        }
    }

    /// `GET /logout`: where to send the browser.
    pub fn logout(&self, client_id: &str, logout_uri: &str) -> Result<String, PageError> {
        self.known(client_id, logout_uri)?;
        Ok(logout_uri.to_owned())
    }

    fn tokens(&self, user: &UserId, name: &str, now: Millis, refresh: Option<String>) -> Tokens {
        let mint = || {
            mint_hs256(
                self.secret.as_bytes(),
                user,
                now,
                self.token_ttl_secs,
                MintOptions {
                    name: Some(name),
                    issuer: self.issuer.issuer.as_deref(),
                    audience: self.issuer.audience.as_deref(),
                },
            )
        };
        Tokens {
            id_token: mint(),
            access_token: mint(),
            refresh_token: refresh,
            expires_in: self.token_ttl_secs,
            token_type: "Bearer",
        }
    }
}

/// The origins this server answers as (both loopback names on loopback).
pub fn own_origins(addr: SocketAddr) -> Vec<String> {
    if addr.ip().is_loopback() {
        vec![
            format!("http://127.0.0.1:{}", addr.port()),
            format!("http://localhost:{}", addr.port()),
        ]
    } else {
        vec![format!("http://{addr}")]
    }
}

fn with_query(base: &str, pairs: &[(&str, &str)], state: Option<&str>) -> String {
    let mut q: Vec<(&str, &str)> = pairs.to_vec();
    if let Some(s) = state {
        q.push(("state", s));
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    format!(
        "{base}{sep}{}",
        serde_urlencoded::to_string(q).unwrap_or_default()
    )
}

fn no_store(r: &mut Response) {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

pub fn redirect(to: &str) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::FOUND;
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    no_store(&mut r);
    r
}

/// Cognito's `/error` page: the request cannot be sent back to the client.
pub fn error_page(e: &PageError) -> Response {
    let (code, detail) = match e {
        PageError::RedirectMismatch => (
            "redirect_mismatch",
            "The client id or the redirect URI is not one this app client allows.",
        ),
        PageError::InvalidRequest(why) => ("invalid_request", *why),
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in error</title>\
         <link rel=\"stylesheet\" href=\"/app.css\"></head><body><div class=\"signin\"><div class=\"signin-card\">\
         <h1 class=\"signin-title\">An error was encountered with the requested page.</h1>\
         <p class=\"form-error\" data-testid=\"oauth-error\">{code}</p><p class=\"signin-sub\">{}</p>\
         </div></div></body></html>",
        escape(detail)
    );
    page(StatusCode::BAD_REQUEST, html)
}

/// The local sign-in page: pick a name (no password).
pub fn login_page(query: &str, error: Option<&str>) -> Response {
    let error = error
        .map(|e| {
            format!(
                "<p class=\"form-error\" role=\"alert\" data-testid=\"signin-error\">{}</p>",
                escape(e)
            )
        })
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Sign in</title>\
         <link rel=\"stylesheet\" href=\"/app.css\"></head><body><div class=\"signin\">\
         <form class=\"signin-card\" method=\"post\" action=\"/login?{}\" data-testid=\"hosted-ui\">\
         <h1 class=\"signin-title\">Sign in</h1>\
         <p class=\"signin-sub\">Local twin of the Cognito hosted UI: pick a name, no password.</p>\
         <label class=\"field\"><span class=\"field-label\">Your name</span>\
         <input name=\"name\" data-testid=\"hosted-ui-name\" type=\"text\" maxlength=\"64\" required autofocus></label>\
         {error}<button class=\"btn btn-primary btn-block\" type=\"submit\" data-testid=\"hosted-ui-submit\">Sign in</button>\
         </form></div></body></html>",
        escape(query)
    );
    page(StatusCode::OK, html)
}

fn page(status: StatusCode, html: String) -> Response {
    let mut r = (status, html).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut().insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    no_store(&mut r);
    r
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    struct TestClock(AtomicI64);
    impl Clock for TestClock {
        fn now(&self) -> Millis {
            self.0.load(Ordering::SeqCst)
        }
    }

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const ADDR: &str = "127.0.0.1:8080";

    fn ui() -> (HostedUi, Arc<TestClock>) {
        let clock = Arc::new(TestClock(AtomicI64::new(1_800_000_000_000)));
        let issuer = TokenIssuer {
            issuer: Some("https://issuer.example".into()),
            audience: Some("WebClient".into()),
        };
        let ui = HostedUi::new(
            issuer,
            "s3cret".into(),
            60,
            clock.clone(),
            ADDR.parse().unwrap(),
        );
        (ui, clock)
    }

    fn authorize() -> AuthorizeParams {
        AuthorizeParams {
            response_type: "code".into(),
            client_id: "WebClient".into(),
            redirect_uri: "http://localhost:8080/".into(),
            state: Some("st4te".into()),
            scope: Some("openid email profile".into()),
            code_challenge: Some(s256(VERIFIER)),
            code_challenge_method: Some("S256".into()),
        }
    }

    fn code_of(url: &str) -> String {
        let q = url.split_once('?').unwrap().1;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q).unwrap();
        assert!(pairs.contains(&("state".into(), "st4te".into())), "{url}");
        pairs.into_iter().find(|(k, _)| k == "code").unwrap().1
    }

    fn exchange(code: &str) -> TokenParams {
        TokenParams {
            grant_type: "authorization_code".into(),
            client_id: Some("WebClient".into()),
            code: Some(code.into()),
            redirect_uri: Some("http://localhost:8080/".into()),
            code_verifier: Some(VERIFIER.into()),
            refresh_token: None,
        }
    }

    fn verifier() -> chat_core::auth::Hs256Verifier {
        chat_core::auth::Hs256Verifier::new(
            b"s3cret",
            Some("https://issuer.example"),
            Some("WebClient"),
        )
    }

    #[test]
    fn s256_is_the_rfc_7636_example() {
        assert_eq!(
            s256(VERIFIER),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[tokio::test]
    async fn a_code_with_its_verifier_gives_tokens_the_platform_accepts_and_a_refresh_renews_them()
    {
        use chat_core::auth::TokenVerifier;
        let (ui, clock) = ui();
        let url = ui
            .sign_in(&authorize(), "  Alice   Smith ")
            .unwrap()
            .unwrap();
        assert!(url.starts_with("http://localhost:8080/?code="), "{url}");
        let tokens = ui.token(&exchange(&code_of(&url))).unwrap();
        assert_eq!((tokens.expires_in, tokens.token_type), (60, "Bearer"));
        let who = verifier().verify(&tokens.id_token).await.unwrap();
        assert_eq!(who.user_id.as_str(), "alice-smith");
        assert_eq!(who.name.as_deref(), Some("Alice Smith"));

        clock.0.fetch_add(61_000, Ordering::SeqCst);
        let rt = tokens.refresh_token.clone().unwrap();
        let renewed = ui
            .token(&TokenParams {
                grant_type: "refresh_token".into(),
                client_id: Some("WebClient".into()),
                refresh_token: Some(rt.clone()),
                ..TokenParams::default()
            })
            .unwrap();
        assert_eq!(
            renewed.refresh_token, None,
            "Cognito keeps the refresh token"
        );
        assert_ne!(renewed.id_token, tokens.id_token);

        ui.revoke(Some("WebClient"), Some(&rt)).unwrap();
        let after = ui.token(&TokenParams {
            grant_type: "refresh_token".into(),
            client_id: Some("WebClient".into()),
            refresh_token: Some(rt),
            ..TokenParams::default()
        });
        assert_eq!(
            after,
            Err(OAuthError::InvalidGrant("invalid refresh token"))
        );
    }

    #[test]
    fn a_wrong_verifier_is_refused_and_burns_the_code() {
        let (ui, _) = ui();
        let code = code_of(&ui.sign_in(&authorize(), "bob").unwrap().unwrap());
        let mut bad = exchange(&code);
        bad.code_verifier = Some("x".repeat(43));
        assert_eq!(
            ui.token(&bad),
            Err(OAuthError::InvalidGrant(
                "code_verifier does not match the code_challenge"
            ))
        );
        assert_eq!(
            ui.token(&exchange(&code)),
            Err(OAuthError::InvalidGrant("unknown or already used code"))
        );
        let code = code_of(&ui.sign_in(&authorize(), "bob").unwrap().unwrap());
        let mut missing = exchange(&code);
        missing.code_verifier = None;
        assert!(matches!(
            ui.token(&missing),
            Err(OAuthError::InvalidGrant(_))
        ));
    }

    #[test]
    fn a_code_works_once_and_expires_after_five_minutes() {
        let (ui, clock) = ui();
        let code = code_of(&ui.sign_in(&authorize(), "bob").unwrap().unwrap());
        assert!(ui.token(&exchange(&code)).is_ok());
        assert_eq!(
            ui.token(&exchange(&code)),
            Err(OAuthError::InvalidGrant("unknown or already used code"))
        );
        let late = code_of(&ui.sign_in(&authorize(), "bob").unwrap().unwrap());
        clock.0.fetch_add(CODE_TTL_MS, Ordering::SeqCst);
        assert_eq!(
            ui.token(&exchange(&late)),
            Err(OAuthError::InvalidGrant("the code has expired"))
        );
    }

    #[test]
    fn the_token_endpoint_refuses_another_redirect_uri_client_or_grant() {
        let (ui, _) = ui();
        let code = code_of(&ui.sign_in(&authorize(), "bob").unwrap().unwrap());
        let mut other_uri = exchange(&code);
        other_uri.redirect_uri = Some("http://127.0.0.1:8080/".into());
        assert!(matches!(
            ui.token(&other_uri),
            Err(OAuthError::InvalidGrant(_))
        ));

        let mut unknown = exchange("whatever");
        unknown.client_id = Some("someone-else".into());
        assert_eq!(ui.token(&unknown), Err(OAuthError::InvalidClient));
        let mut no_client = exchange("whatever");
        no_client.client_id = None;
        assert!(matches!(
            ui.token(&no_client),
            Err(OAuthError::InvalidRequest(_))
        ));
        let mut implicit = exchange("whatever");
        implicit.grant_type = "client_credentials".into();
        assert_eq!(ui.token(&implicit), Err(OAuthError::UnsupportedGrantType));
    }

    #[test]
    fn authorize_refuses_to_redirect_to_an_unknown_uri_or_for_an_unknown_client() {
        let (ui, _) = ui();
        for p in [
            AuthorizeParams {
                redirect_uri: "https://evil.example/".into(),
                ..authorize()
            },
            AuthorizeParams {
                redirect_uri: "http://localhost:8080/x".into(),
                ..authorize()
            },
            AuthorizeParams {
                client_id: "other".into(),
                ..authorize()
            },
        ] {
            assert_eq!(
                ui.check_authorize(&p),
                Err(PageError::RedirectMismatch),
                "{p:?}"
            );
            assert_eq!(ui.sign_in(&p, "bob"), Err(PageError::RedirectMismatch));
        }
        assert_eq!(
            ui.logout("WebClient", "https://evil.example/"),
            Err(PageError::RedirectMismatch)
        );
        assert_eq!(
            ui.logout("WebClient", "http://127.0.0.1:8080/").as_deref(),
            Ok("http://127.0.0.1:8080/")
        );
    }

    #[test]
    fn authorize_sends_other_errors_back_to_the_client_with_its_state() {
        let (ui, _) = ui();
        let cases = [
            (
                AuthorizeParams {
                    response_type: "token".into(),
                    ..authorize()
                },
                "unsupported_response_type",
            ),
            (
                AuthorizeParams {
                    code_challenge_method: Some("plain".into()),
                    ..authorize()
                },
                "invalid_request",
            ),
            (
                AuthorizeParams {
                    code_challenge: Some("short".into()),
                    ..authorize()
                },
                "invalid_request",
            ),
            (
                AuthorizeParams {
                    scope: Some("openid aws.cognito.signin.user.admin".into()),
                    ..authorize()
                },
                "invalid_scope",
            ),
        ];
        for (p, error) in cases {
            let url = ui.check_authorize(&p).unwrap().unwrap_err();
            assert!(url.starts_with("http://localhost:8080/?error="), "{url}");
            assert!(
                url.contains(&format!("error={error}")) && url.ends_with("state=st4te"),
                "{url}"
            );
        }
    }

    #[test]
    fn a_name_without_letters_or_digits_gets_no_code() {
        let (ui, _) = ui();
        assert!(matches!(
            ui.sign_in(&authorize(), " -- "),
            Err(PageError::InvalidRequest(_))
        ));
        assert_eq!(user_id_of("Zoë O'Neil").unwrap().as_str(), "zo-o-neil");
    }
}
