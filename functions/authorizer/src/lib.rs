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
