//! IAM on the local twin: each function's identity policies, as the
//! synthesized template gives its execution role, evaluated for every call
//! the function makes through a port.
//!
//! The policy language is evaluated by [`iam_rs`] (Allow/Deny with explicit
//! deny winning, `Action`/`NotAction`, `Resource`/`NotResource`, `*` and `?`
//! wildcards, conditions): this module only says which request each port
//! call is in AWS ([`arns`]) and turns a refusal into the error AWS gives,
//! logged with the function, the action and the resource.
//!
//! Why here and not in the emulator: moto's server can authorize requests
//! (`INITIAL_NO_AUTH_ACTION_COUNT`, credentials of an assumed role), but it
//! authorizes DynamoDB requests against the resource `*` only (5.2: only
//! SQS, IAM and STS name the resource), so the table-scoped grants CDK emits
//! could not be told apart from none; it counts the unauthenticated calls
//! per server, not per function; and `@connections` is this twin's own. One
//! evaluator at the ports covers both backends and every function alike.
//!
//! What a port call needs is what the adapter's SDK call needs in AWS, not
//! what happens to run: a read the Redis cache answers still needs its
//! `dynamodb:GetItem`, because the next cold cache sends it to DynamoDB.

use std::sync::{Arc, Mutex};

use iam_rs::{
    Arn, Context, ContextValue, Decision, IAMPolicy, IAMRequest, PolicyEvaluator, Principal,
    PrincipalId,
};
use serde_json::Value;

/// The account id resources get locally (`AWS::AccountId`).
pub const LOCAL_ACCOUNT: &str = "123456789012";

/// A policy document the evaluator cannot read.
#[derive(Debug, thiserror::Error)]
#[error("{function}: policy {policy} is not a valid IAM policy at {path}: {reason}")]
pub struct PolicyError {
    pub function: String,
    pub policy: String,
    pub path: String,
    pub reason: String,
}

/// A call the function's policies do not allow: what AWS answers
/// `AccessDeniedException` (DynamoDB, SQS) or `ForbiddenException`
/// (`@connections`) with, worded as AWS words it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("AccessDenied: {role_session} is not authorized to perform: {action} on resource: {resource} because {why}")]
pub struct AccessDenied {
    pub function: String,
    pub role_session: String,
    pub action: String,
    pub resource: String,
    pub why: &'static str,
}

/// Every refusal of every function, oldest first (`GET /dev/denied`).
pub type DenialLog = Arc<Mutex<Vec<AccessDenied>>>;

pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every `(action, resource)` a role was asked about, in order.
pub type Audit = Arc<Mutex<Vec<(String, String)>>>;

/// The identity policies of one function's execution role.
pub struct RolePolicies {
    function: String,
    principal: String,
    evaluator: PolicyEvaluator,
    log: DenialLog,
    audit: Option<Audit>,
}

impl RolePolicies {
    /// `documents` are `(name, resolved policy document)` pairs.
    pub fn new(
        function: &str,
        role: &str,
        documents: Vec<(String, Value)>,
        log: DenialLog,
    ) -> Result<Self, PolicyError> {
        let mut policies = Vec::with_capacity(documents.len());
        for (name, doc) in documents {
            let policy: IAMPolicy =
                serde_path_to_error::deserialize(&doc).map_err(|e| PolicyError {
                    function: function.into(),
                    policy: name.clone(),
                    path: e.path().to_string(),
                    reason: e.inner().to_string(),
                })?;
            policies.push(policy);
        }
        Ok(Self {
            function: function.into(),
            principal: format!("arn:aws:sts::{LOCAL_ACCOUNT}:assumed-role/{role}/{function}"),
            evaluator: PolicyEvaluator::with_policies(policies),
            log,
            audit: None,
        })
    }

    /// Records every request [`RolePolicies::check`] is asked, allowed or
    /// not, in `audit` (tests that compare what two enforcers ask).
    pub fn audited(mut self, audit: Audit) -> Self {
        self.audit = Some(audit);
        self
    }

    pub fn function(&self) -> &str {
        &self.function
    }

    /// Whether the role may perform `action` on `resource` (an ARN). A
    /// refusal is logged, naming the function, the action and the resource.
    pub fn check(&self, action: &str, resource: &str) -> Result<(), AccessDenied> {
        if let Some(a) = &self.audit {
            lock(a).push((action.to_owned(), resource.to_owned()));
        }
        let denied = |why| {
            let e = AccessDenied {
                function: self.function.clone(),
                role_session: self.principal.clone(),
                action: action.into(),
                resource: resource.into(),
                why,
            };
            tracing::warn!(
                function = %self.function,
                action,
                resource,
                reason = why,
                "AccessDenied"
            );
            lock(&self.log).push(e.clone());
            e
        };
        let Ok(arn) = Arn::parse(resource) else {
            return Err(denied("the resource is not an ARN the evaluator can read"));
        };
        let request = IAMRequest::new(
            Principal::Aws(PrincipalId::String(self.principal.clone())),
            action,
            arn,
        );
        match self.evaluator.evaluate(&request).map(|r| r.decision) {
            Ok(Decision::Allow) => Ok(()),
            Ok(Decision::Deny) => Err(denied("of an explicit deny in an identity-based policy")),
            Ok(Decision::NotApplicable) => {
                Err(denied("no identity-based policy allows the action"))
            }
            Err(_) => Err(denied("the policy could not be evaluated for it")),
        }
    }
}

/// The principal API Gateway invokes functions as.
pub const API_GATEWAY: &str = "apigateway.amazonaws.com";

/// One `AWS::Lambda::Permission` of a function, resolved.
#[derive(Clone, Debug)]
pub struct InvokePermission {
    pub action: String,
    pub principal: String,
    pub source_arn: Option<String>,
}

/// A function's resource-based policy: who may invoke it, from where.
/// Without a statement that lets API Gateway invoke it from a route, the
/// route fails (API Gateway logs "Invalid permissions on Lambda function").
pub struct FunctionPolicy {
    function: String,
    arn: String,
    evaluator: PolicyEvaluator,
    log: DenialLog,
}

impl std::fmt::Debug for FunctionPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionPolicy")
            .field("function", &self.function)
            .field("arn", &self.arn)
            .finish_non_exhaustive()
    }
}

impl FunctionPolicy {
    pub fn new(
        function: &str,
        arn: &str,
        permissions: &[InvokePermission],
        log: DenialLog,
    ) -> Result<Self, PolicyError> {
        let statements: Vec<Value> = permissions
            .iter()
            .map(|p| {
                let mut st = serde_json::json!({
                    "Effect": "Allow",
                    "Principal": { "Service": p.principal },
                    "Action": p.action,
                    "Resource": arn,
                });
                if let Some(src) = &p.source_arn {
                    st["Condition"] = serde_json::json!({ "ArnLike": { SOURCE_ARN: src } });
                }
                st
            })
            .collect();
        let doc = serde_json::json!({ "Version": "2012-10-17", "Statement": statements });
        let policy: IAMPolicy =
            serde_path_to_error::deserialize(&doc).map_err(|e| PolicyError {
                function: function.into(),
                policy: "resource-based policy".into(),
                path: e.path().to_string(),
                reason: e.inner().to_string(),
            })?;
        Ok(Self {
            function: function.into(),
            arn: arn.into(),
            evaluator: PolicyEvaluator::with_policies(vec![policy]),
            log,
        })
    }

    /// Whether `service` may invoke the function from `source_arn`. A
    /// refusal is logged and recorded as an `AccessDenied` of
    /// `lambda:InvokeFunction` on the function.
    pub fn check_invoke(&self, service: &str, source_arn: &str) -> Result<(), AccessDenied> {
        let mut context = Context::new();
        context.insert(SOURCE_ARN.into(), ContextValue::String(source_arn.into()));
        let allowed = Arn::parse(&self.arn).ok().is_some_and(|arn| {
            let request = IAMRequest::new_with_context(
                Principal::Service(PrincipalId::String(service.into())),
                "lambda:InvokeFunction",
                arn,
                context,
            );
            matches!(
                self.evaluator.evaluate(&request).map(|r| r.decision),
                Ok(Decision::Allow)
            )
        });
        if allowed {
            return Ok(());
        }
        let e = AccessDenied {
            function: self.function.clone(),
            role_session: service.into(),
            action: "lambda:InvokeFunction".into(),
            resource: self.arn.clone(),
            why: "no statement of the function's resource-based policy allows it from this source",
        };
        tracing::warn!(
            function = %self.function,
            action = "lambda:InvokeFunction",
            resource = %self.arn,
            source = source_arn,
            "AccessDenied"
        );
        lock(&self.log).push(e.clone());
        Err(e)
    }
}

const SOURCE_ARN: &str = "aws:SourceArn";

/// The ARNs of the resources a function reaches through its ports, as they
/// are named in the template's policies once resolved locally.
#[derive(Clone, Debug)]
pub struct Resources {
    pub region: String,
    pub table_name: String,
    pub queue_name: String,
    pub api_id: String,
    pub stage: String,
    /// The attachments bucket's name.
    pub bucket_name: String,
}

pub mod arns {
    use super::{Resources, LOCAL_ACCOUNT};

    pub fn table(r: &Resources) -> String {
        format!(
            "arn:aws:dynamodb:{}:{LOCAL_ACCOUNT}:table/{}",
            r.region, r.table_name
        )
    }

    pub fn index(r: &Resources, index: &str) -> String {
        format!("{}/index/{index}", table(r))
    }

    pub fn queue(r: &Resources) -> String {
        format!("arn:aws:sqs:{}:{LOCAL_ACCOUNT}:{}", r.region, r.queue_name)
    }

    /// The attachments bucket: `arn:aws:s3:::{bucket}`.
    pub fn bucket(r: &Resources) -> String {
        format!("arn:aws:s3:::{}", r.bucket_name)
    }

    /// One object of the attachments bucket.
    pub fn object(r: &Resources, key: &str) -> String {
        format!("{}/{key}", bucket(r))
    }

    /// `@connections`: `…:{api}/{stage}/{METHOD}/@connections/{id}`.
    pub fn connection(r: &Resources, method: &str, connection_id: &str) -> String {
        format!(
            "arn:aws:execute-api:{}:{LOCAL_ACCOUNT}:{}/{}/{method}/@connections/{connection_id}",
            r.region, r.api_id, r.stage
        )
    }
}

#[cfg(test)]
mod tests {
    //! The cases of AWS's documented policy evaluation logic
    //! (IAM User Guide: "Policy evaluation logic", "Determining whether a
    //! request is allowed or denied within an account", and the pages on
    //! `NotAction`, `NotResource` and wildcards in ARNs), for an identity
    //! with identity-based policies only, as a Lambda execution role is.
    use super::*;
    use serde_json::json;

    const TABLE: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/chat";
    const INDEX: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/chat/index/GSI1";

    fn role(docs: Vec<Value>) -> RolePolicies {
        let docs = docs
            .into_iter()
            .enumerate()
            .map(|(i, d)| (format!("p{i}"), d))
            .collect();
        RolePolicies::new("chat-test", "TestRole", docs, DenialLog::default())
            .expect("valid policies")
    }

    fn allows(r: &RolePolicies, action: &str, resource: &str) -> bool {
        r.check(action, resource).is_ok()
    }

    fn stmt(effect: &str, action: Value, resource: Value) -> Value {
        json!({"Version":"2012-10-17","Statement":[{"Effect":effect,"Action":action,"Resource":resource}]})
    }

    #[test]
    fn with_no_statement_that_applies_the_request_is_implicitly_denied() {
        let r = role(vec![stmt("Allow", json!("sqs:SendMessage"), json!("*"))]);
        let e = r.check("dynamodb:GetItem", TABLE).unwrap_err();
        assert_eq!(e.why, "no identity-based policy allows the action");
        assert!(e.to_string().contains("dynamodb:GetItem"), "{e}");
        assert!(e.to_string().contains(TABLE), "{e}");
        let nothing = role(vec![]);
        assert!(!allows(&nothing, "dynamodb:GetItem", TABLE));
    }

    #[test]
    fn an_allow_that_matches_action_and_resource_allows() {
        let r = role(vec![stmt(
            "Allow",
            json!(["dynamodb:GetItem", "dynamodb:Query"]),
            json!(TABLE),
        )]);
        assert!(allows(&r, "dynamodb:GetItem", TABLE));
        assert!(allows(&r, "dynamodb:Query", TABLE));
        assert!(!allows(&r, "dynamodb:PutItem", TABLE));
    }

    #[test]
    fn an_explicit_deny_wins_over_any_allow_in_any_policy() {
        let r = role(vec![
            stmt("Allow", json!("dynamodb:*"), json!("*")),
            stmt("Deny", json!("dynamodb:DeleteItem"), json!(TABLE)),
        ]);
        assert!(allows(&r, "dynamodb:PutItem", TABLE));
        let e = r.check("dynamodb:DeleteItem", TABLE).unwrap_err();
        assert_eq!(e.why, "of an explicit deny in an identity-based policy");
        // Order does not matter.
        let r = role(vec![
            stmt("Deny", json!("dynamodb:DeleteItem"), json!("*")),
            stmt("Allow", json!("*"), json!("*")),
        ]);
        assert!(!allows(&r, "dynamodb:DeleteItem", TABLE));
    }

    #[test]
    fn action_wildcards_match_within_the_service_and_action_names_ignore_case() {
        let r = role(vec![stmt("Allow", json!("dynamodb:Get*"), json!("*"))]);
        assert!(allows(&r, "dynamodb:GetItem", TABLE));
        assert!(allows(&r, "DynamoDB:getitem", TABLE));
        assert!(!allows(&r, "dynamodb:PutItem", TABLE));
        assert!(!allows(&r, "sqs:GetQueueUrl", TABLE));
        let r = role(vec![stmt("Allow", json!("sqs:?endMessage"), json!("*"))]);
        assert!(allows(&r, "sqs:SendMessage", TABLE));
    }

    #[test]
    fn a_table_arn_does_not_cover_its_indexes_and_a_wildcard_does() {
        let r = role(vec![stmt("Allow", json!("dynamodb:Query"), json!(TABLE))]);
        assert!(allows(&r, "dynamodb:Query", TABLE));
        assert!(!allows(&r, "dynamodb:Query", INDEX));
        let r = role(vec![stmt(
            "Allow",
            json!("dynamodb:Query"),
            json!(format!("{TABLE}/index/*")),
        )]);
        assert!(allows(&r, "dynamodb:Query", INDEX));
        assert!(!allows(&r, "dynamodb:Query", TABLE));
        // Another table, another account, another region: no match.
        for other in [
            "arn:aws:dynamodb:us-east-1:123456789012:table/chat2",
            "arn:aws:dynamodb:us-east-1:210987654321:table/chat",
            "arn:aws:dynamodb:eu-west-1:123456789012:table/chat",
        ] {
            assert!(!allows(&r, "dynamodb:Query", other), "{other}");
        }
    }

    #[test]
    fn the_connections_grant_cdk_emits_covers_post_and_delete_of_any_connection_of_its_stage_only()
    {
        let base = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev";
        let r = role(vec![stmt(
            "Allow",
            json!("execute-api:ManageConnections"),
            json!([
                format!("{base}/DELETE/@connections/*"),
                format!("{base}/POST/@connections/*")
            ]),
        )]);
        let conn = "Z0xOx_AbCdEf0w==";
        assert!(allows(
            &r,
            "execute-api:ManageConnections",
            &format!("{base}/POST/@connections/{conn}")
        ));
        assert!(allows(
            &r,
            "execute-api:ManageConnections",
            &format!("{base}/DELETE/@connections/{conn}")
        ));
        assert!(!allows(
            &r,
            "execute-api:ManageConnections",
            &format!("{base}/GET/@connections/{conn}")
        ));
        assert!(!allows(
            &r,
            "execute-api:ManageConnections",
            &format!(
                "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/@connections/{conn}"
            )
        ));
        assert!(!allows(
            &r,
            "execute-api:Invoke",
            &format!("{base}/POST/@connections/{conn}")
        ));
    }

    #[test]
    fn not_action_with_deny_denies_everything_but_the_listed_actions() {
        // The User Guide's NotAction example: allow all, deny all but IAM.
        let r = role(vec![
            stmt("Allow", json!("*"), json!("*")),
            json!({"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"iam:*","Resource":"*"}]}),
        ]);
        assert!(!allows(&r, "dynamodb:GetItem", TABLE));
        assert!(allows(
            &r,
            "iam:ListUsers",
            "arn:aws:iam::123456789012:user/alice"
        ));
        // NotAction with Allow allows the others, not the listed ones.
        let r = role(vec![json!({"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","NotAction":"dynamodb:DeleteItem","Resource":"*"}]})]);
        assert!(allows(&r, "dynamodb:GetItem", TABLE));
        assert!(!allows(&r, "dynamodb:DeleteItem", TABLE));
    }

    #[test]
    fn not_resource_applies_to_every_resource_but_the_listed_ones() {
        let r = role(vec![json!({"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"dynamodb:Query","NotResource":INDEX}]})]);
        assert!(allows(&r, "dynamodb:Query", TABLE));
        assert!(!allows(&r, "dynamodb:Query", INDEX));
        let r = role(vec![
            stmt("Allow", json!("dynamodb:*"), json!("*")),
            json!({"Version":"2012-10-17","Statement":[
                {"Effect":"Deny","Action":"dynamodb:*","NotResource":[TABLE, format!("{TABLE}/index/*")]}]}),
        ]);
        assert!(allows(&r, "dynamodb:Query", INDEX));
        assert!(!allows(
            &r,
            "dynamodb:Query",
            "arn:aws:dynamodb:us-east-1:123456789012:table/other"
        ));
    }

    #[test]
    fn api_gateway_may_invoke_a_function_only_from_the_sources_its_permissions_name() {
        let f = "arn:aws:lambda:us-east-1:123456789012:function:chat-connect";
        let perm = |src: Option<&str>| InvokePermission {
            action: "lambda:InvokeFunction".into(),
            principal: API_GATEWAY.into(),
            source_arn: src.map(str::to_owned),
        };
        let api = "arn:aws:execute-api:us-east-1:123456789012:local";
        let p = FunctionPolicy::new(
            "chat-connect",
            f,
            &[perm(Some(&format!("{api}/*$connect")))],
            DenialLog::default(),
        )
        .unwrap();
        assert!(p
            .check_invoke(API_GATEWAY, &format!("{api}/dev/$connect"))
            .is_ok());
        assert!(p
            .check_invoke(API_GATEWAY, &format!("{api}/dev/$disconnect"))
            .is_err());
        assert!(p
            .check_invoke(
                API_GATEWAY,
                "arn:aws:execute-api:us-east-1:123456789012:other/dev/$connect"
            )
            .is_err());
        assert!(p
            .check_invoke("events.amazonaws.com", &format!("{api}/dev/$connect"))
            .is_err());
        // No SourceArn: from anywhere; no permission at all: from nowhere.
        let any =
            FunctionPolicy::new("chat-connect", f, &[perm(None)], DenialLog::default()).unwrap();
        assert!(any
            .check_invoke(API_GATEWAY, &format!("{api}/dev/x"))
            .is_ok());
        let log = DenialLog::default();
        let none = FunctionPolicy::new("chat-connect", f, &[], log.clone()).unwrap();
        let e = none
            .check_invoke(API_GATEWAY, &format!("{api}/dev/$connect"))
            .unwrap_err();
        assert_eq!(
            (e.action.as_str(), e.resource.as_str()),
            ("lambda:InvokeFunction", f)
        );
        assert_eq!(lock(&log).len(), 1);
    }

    #[test]
    fn a_document_that_is_not_a_policy_is_refused_with_its_path() {
        let e = RolePolicies::new(
            "chat-test",
            "R",
            vec![(
                "Bad".into(),
                json!({"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}),
            )],
            DenialLog::default(),
        )
        .err()
        .expect("refused");
        assert!(e.to_string().contains("Bad"), "{e}");
        assert!(e.path.contains("Statement"), "{e}");
    }
}
