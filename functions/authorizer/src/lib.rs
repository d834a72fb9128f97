//! The WebSocket `$connect` REQUEST authorizer. It verifies the bearer token
//! (`?token=` or `Authorization: Bearer`) and answers an IAM policy allowing
//! this `$connect`, with the verified user in the authorizer context. The
//! connect handler trusts only that context (or, where no authorizer runs,
//! verifies the token itself with the same verifier).
//!
//! Every refusal is a Lambda error: API Gateway answers 401 only when an
//! authorizer fails with exactly `Unauthorized` (a Deny policy gives 403).
//! So the Lambda `Errors` metric counts every client reconnecting with an
//! expired token. To keep alarms about *our* failures, each outcome is also
//! an EMF metric: `TokensRefused` with the dimension `Reason` (a
//! [`RefusalClass`]) for the caller's fault, `AuthFailures` when the
//! verifier could not decide (JWKS unreachable). The alarm reads
//! `Errors − TokensRefused` (infra/lib/monitoring.ts), which also keeps
//! crashes and timeouts, which no metric line reports.

use std::collections::HashMap;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use chat_core::auth::{bearer, Identity, RefusalClass, TokenVerifier};
use chat_core::metrics::{self, Dimension, Metric};
use chat_lambda::ws::{AUTHORIZER_NAME, AUTHORIZER_USER_ID};
use serde_json::Value;

/// This function as deployed: the ports it links beyond the stores, which
/// `deploy/functions.json` must grant (checked at cold start and by tests).
pub const FUNCTION: chat_adapters::wiring::Function = chat_adapters::wiring::Function {
    name: "chat-authorizer",
    ports: &[],
};

/// Why a connection was refused. API Gateway answers 401 to the client when
/// an authorizer fails with exactly `Unauthorized`.
#[derive(Debug, thiserror::Error)]
#[error("Unauthorized")]
pub struct Unauthorized;

fn token(event: &ApiGatewayCustomAuthorizerRequestTypeRequest) -> Option<String> {
    if let Some(t) = event
        .query_string_parameters
        .first("token")
        .filter(|t| !t.is_empty())
    {
        return Some(t.to_owned());
    }
    let header = event.headers.get("authorization")?.to_str().ok()?;
    bearer(header).map(str::to_owned)
}

/// The policy answered for a verified identity.
pub fn allow(identity: &Identity, method_arn: &str) -> ApiGatewayCustomAuthorizerResponse {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".to_owned()];
    statement.effect = IamPolicyEffect::Allow;
    statement.resource = vec![method_arn.to_owned()];
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".to_owned());
    policy.statement = vec![statement];
    let mut context = HashMap::new();
    context.insert(
        AUTHORIZER_USER_ID.to_owned(),
        Value::String(identity.user_id.to_string()),
    );
    if let Some(name) = &identity.name {
        context.insert(AUTHORIZER_NAME.to_owned(), Value::String(name.clone()));
    }
    let mut resp = ApiGatewayCustomAuthorizerResponse::default();
    resp.principal_id = Some(identity.user_id.to_string());
    resp.policy_document = policy;
    resp.context = serde_json::to_value(context).unwrap_or(Value::Null);
    resp
}

/// The metric dimension a refused token is counted under.
pub const REASON: &str = "Reason";

fn refused(class: RefusalClass) -> Unauthorized {
    metrics::record_with(
        Dimension {
            name: REASON,
            value: class.as_str(),
        },
        &[(Metric::TokensRefused, 1.0)],
    );
    Unauthorized
}

pub async fn handle(
    verifier: &dyn TokenVerifier,
    event: ApiGatewayCustomAuthorizerRequestTypeRequest,
) -> Result<ApiGatewayCustomAuthorizerResponse, Unauthorized> {
    let method_arn = event.method_arn.clone().unwrap_or_default();
    // The token is never logged; only the reason it was refused.
    let Some(token) = token(&event) else {
        tracing::info!("no token on $connect");
        return Err(refused(RefusalClass::Missing));
    };
    match verifier.verify(&token).await {
        Ok(identity) => {
            tracing::info!(user_id = %identity.user_id, "authorized");
            Ok(allow(&identity, &method_arn))
        }
        Err(e) => match e.refusal_class() {
            Some(class) => {
                tracing::info!(reason = %e, "refused");
                Err(refused(class))
            }
            None => {
                // Ours, not the caller's. Still answered 401, as every
                // failure was before, but counted apart from refusals.
                tracing::error!(error = %e, "could not verify the token");
                metrics::record(&[(Metric::AuthFailures, 1.0)]);
                Err(Unauthorized)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_core::auth::Hs256Verifier;
    use chat_core::ids::UserId;
    use chat_core::ports::{Clock, SystemClock};
    use chat_twin::{mint_hs256, token_for, MintOptions};

    const SECRET: &[u8] = b"authorizer-test-secret-012345";

    /// A token for `user`, valid for a minute from now.
    fn valid_token(user: &str) -> String {
        token_for(SECRET, &UserId::parse(user).unwrap(), 60)
    }

    fn fixture(token: &str) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
        serde_json::from_str(
            &include_str!("../tests/fixtures/request_authorizer.json").replace("{{TOKEN}}", token),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_valid_token_gets_an_allow_policy_for_this_connect_with_the_user_in_context() {
        let v = Hs256Verifier::new(SECRET, None, None);
        let t = mint_hs256(
            SECRET,
            &UserId::parse("alice").unwrap(),
            SystemClock.now(),
            60,
            MintOptions {
                name: Some("Alice"),
                ..Default::default()
            },
        );
        let resp = handle(&v, fixture(&t)).await.unwrap();
        let json = serde_json::to_value(&resp).unwrap();
        assert_eq!(json["principalId"], "alice");
        assert_eq!(json["policyDocument"]["Statement"][0]["Effect"], "Allow");
        assert_eq!(
            json["policyDocument"]["Statement"][0]["Resource"][0],
            "arn:aws:execute-api:us-east-1:123456789012:abcd1234/prod/$connect"
        );
        assert_eq!(json["context"]["userId"], "alice");
        assert_eq!(json["context"]["name"], "Alice");
    }

    #[tokio::test]
    async fn missing_forged_and_none_tokens_are_unauthorized() {
        let v = Hs256Verifier::new(SECRET, None, None);
        let forged = mint_hs256(
            b"some-other-secret-000000000",
            &UserId::parse("alice").unwrap(),
            SystemClock.now(),
            60,
            MintOptions::default(),
        );
        for t in [
            "",
            forged.as_str(),
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.",
        ] {
            let err = handle(&v, fixture(t)).await.unwrap_err();
            assert_eq!(err.to_string(), "Unauthorized");
        }
    }

    /// [`handle`]'s answer and what it recorded, on this test's thread only: `(metric, reason)`.
    async fn outcome(
        verifier: &dyn TokenVerifier,
        event: ApiGatewayCustomAuthorizerRequestTypeRequest,
    ) -> (
        Result<ApiGatewayCustomAuthorizerResponse, Unauthorized>,
        Vec<(Metric, Option<&'static str>)>,
    ) {
        let cap = metrics::capture::Capture::start();
        let result = handle(verifier, event).await;
        let recorded = cap
            .recorded()
            .into_iter()
            .map(|r| {
                assert_eq!(r.value, 1.0);
                assert!(r.dimension.is_none_or(|d| d.name == REASON), "{r:?}");
                (r.metric, r.dimension.map(|d| d.value))
            })
            .collect();
        (result, recorded)
    }

    #[tokio::test]
    async fn a_refused_token_answers_401_and_counts_as_refused_under_its_reason_never_as_a_failure()
    {
        let v = Hs256Verifier::new(SECRET, None, None);
        let alice = UserId::parse("alice").unwrap();
        let now = SystemClock.now();
        let expired = mint_hs256(SECRET, &alice, now - 3_600_000, 60, MintOptions::default());
        let forged = mint_hs256(
            b"some-other-secret-000000000",
            &alice,
            now,
            60,
            MintOptions::default(),
        );
        let cases = [
            (expired.as_str(), "expired"),
            (forged.as_str(), "bad_signature"),
            // `alg: none` is no algorithm the JWT library knows: the header
            // does not parse.
            ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.", "malformed"),
            ("not.a.token", "malformed"),
            ("", "missing"),
        ];
        for (token, reason) in cases {
            let (result, recorded) = outcome(&v, fixture(token)).await;
            assert_eq!(result.unwrap_err().to_string(), "Unauthorized", "{reason}");
            assert_eq!(
                recorded,
                vec![(Metric::TokensRefused, Some(reason))],
                "{token:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_accepted_token_records_neither_metric() {
        let v = Hs256Verifier::new(SECRET, None, None);
        let t = valid_token("alice");
        let (result, recorded) = outcome(&v, fixture(&t)).await;
        assert!(result.is_ok());
        assert_eq!(recorded, vec![]);
    }

    #[tokio::test]
    async fn a_jwks_outage_answers_401_but_counts_as_an_auth_failure_not_a_refusal() {
        use chat_adapters::jwks::{JwksConfig, JwksVerifier};
        use std::sync::Arc;
        // A port nothing listens on: the key set cannot be fetched.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            closed.local_addr().unwrap()
        );
        drop(closed);
        let mut config = JwksConfig::new(url, "https://issuer.example", "client");
        config.fetch_timeout = std::time::Duration::from_millis(500);
        let v = JwksVerifier::new(config, Arc::new(SystemClock)).unwrap();
        // An RS256 header naming a key id: the verifier must fetch the keys
        // before it can judge the token at all.
        let token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhbGljZSJ9.c2ln";
        for _ in 0..2 {
            // The first call fails to fetch, the second is in the back-off.
            let (result, recorded) = outcome(&v, fixture(token)).await;
            assert_eq!(result.unwrap_err().to_string(), "Unauthorized");
            assert_eq!(recorded, vec![(Metric::AuthFailures, None)]);
        }
    }

    #[tokio::test]
    async fn the_authorization_header_works_too() {
        let v = Hs256Verifier::new(SECRET, None, None);
        let t = valid_token("bob");
        let mut event = fixture("");
        event.query_string_parameters = Default::default();
        event
            .headers
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
        assert_eq!(
            handle(&v, event).await.unwrap().principal_id.as_deref(),
            Some("bob")
        );
    }
}
