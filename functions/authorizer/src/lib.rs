//! The WebSocket `$connect` REQUEST authorizer. It verifies the bearer token
//! (`?token=` or `Authorization: Bearer`) and answers an IAM policy allowing
//! this `$connect`, with the verified user in the authorizer context. The
//! connect handler trusts only that context (or, where no authorizer runs,
//! verifies the token itself with the same verifier).

use std::collections::HashMap;

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use chat_shared::auth::{bearer, Identity, TokenVerifier};
use chat_shared::lambda::ws::{AUTHORIZER_NAME, AUTHORIZER_USER_ID};
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

pub async fn handle(
    verifier: &dyn TokenVerifier,
    event: ApiGatewayCustomAuthorizerRequestTypeRequest,
) -> Result<ApiGatewayCustomAuthorizerResponse, Unauthorized> {
    let method_arn = event.method_arn.clone().unwrap_or_default();
    // The token is never logged; only the reason it was refused.
    let Some(token) = token(&event) else {
        tracing::info!("no token on $connect");
        return Err(Unauthorized);
    };
    match verifier.verify(&token).await {
        Ok(identity) => {
            tracing::info!(user_id = %identity.user_id, "authorized");
            Ok(allow(&identity, &method_arn))
        }
        Err(e) => {
            tracing::info!(reason = %e, "refused");
            Err(Unauthorized)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chat_shared::auth::{mint_hs256, Hs256Verifier, MintOptions};
    use chat_shared::ids::UserId;
    use chat_shared::ports::{Clock, SystemClock};

    const SECRET: &[u8] = b"authorizer-test-secret-012345";

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

    #[tokio::test]
    async fn the_authorization_header_works_too() {
        let v = Hs256Verifier::new(SECRET, None, None);
        let t = mint_hs256(
            SECRET,
            &UserId::parse("bob").unwrap(),
            SystemClock.now(),
            60,
            MintOptions::default(),
        );
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
