//! Template mode: the platform as a synthesized CloudFormation template
//! describes it, each function's IAM policies enforced.
//!
//! `CHAT_E2E_TEMPLATE=path` runs the whole suite on that template (CI
//! synthesizes it with bundling skipped). The tests here edit a template
//! and check that the application breaks the way it would in AWS; they use
//! `CHAT_E2E_TEMPLATE` when set, else the checked-in copy of the synthesized
//! template (`local/tests/fixtures/Chat-dev.template.json`).

use chat_local::template::{IdentitySource, Stack};
use chat_local::Options;
use serde_json::Value;

use crate::chat::members_are_told_live;
use crate::spawn_with;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/Chat-dev.template.json"
);

/// The template of `CHAT_E2E_TEMPLATE`, which every test of the suite then
/// runs on.
pub fn from_env() -> Option<Stack> {
    let path = std::env::var("CHAT_E2E_TEMPLATE")
        .ok()
        .filter(|p| !p.is_empty())?;
    Some(Stack::load(&path).unwrap_or_else(|e| panic!("CHAT_E2E_TEMPLATE: {e}")))
}

/// Runs `o` as `stack` says, except the queue's visibility timeout: the
/// template's (181 s) would make each retry test wait minutes for what the
/// harness's 50 ms shows the same way.
pub fn apply(o: &mut Options, stack: Stack) {
    let visibility = o.queue.visibility_timeout;
    chat_local::apply_template(o, stack);
    o.queue.visibility_timeout = visibility;
}

/// Whether the deployed `$connect` authorizer lets a token sent only in
/// the `Authorization` header through. Its identity source decides: API
/// Gateway answers 401 without running the authorizer when a source is
/// missing, and the synthesized stack's is `route.request.querystring.token`.
pub fn header_token_accepted() -> bool {
    from_env().and_then(|s| s.ws.authorizer).is_none_or(|a| {
        !a.identity_source
            .iter()
            .any(|i| matches!(i, IdentitySource::Query(_)))
    })
}

fn template_text() -> String {
    let path = std::env::var("CHAT_E2E_TEMPLATE")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| FIXTURE.to_owned());
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The logical id of the execution role of `function`.
fn role_of(t: &Value, function: &str) -> String {
    let want = format!("Execution role of {function}");
    t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, r)| {
            r["Type"] == "AWS::IAM::Role" && r["Properties"]["Description"] == want.as_str()
        })
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no role for {function}"))
}

/// The template without the one resource `which` picks.
fn without_resource(what: &str, which: impl Fn(&Value) -> bool) -> Stack {
    let mut t: Value = serde_json::from_str(&template_text()).unwrap();
    let resources = t["Resources"].as_object_mut().unwrap();
    let id = resources
        .iter()
        .find(|(_, r)| which(r))
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no {what} in the template"));
    resources.remove(&id);
    Stack::parse("edited template", &t.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

/// The template with `action` removed from every statement of the policies
/// attached to `function`'s role (a statement left with no action goes).
fn without_permission(function: &str, action: &str) -> Stack {
    let mut t: Value = serde_json::from_str(&template_text()).unwrap();
    let role = role_of(&t, function);
    let mut removed = 0;
    for r in t["Resources"].as_object_mut().unwrap().values_mut() {
        let attached = r["Type"] == "AWS::IAM::Policy"
            && r["Properties"]["Roles"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x["Ref"] == role.as_str()));
        if !attached {
            continue;
        }
        let statements = r["Properties"]["PolicyDocument"]["Statement"]
            .as_array_mut()
            .unwrap();
        for st in statements.iter_mut() {
            let actions = match st["Action"].take() {
                Value::String(a) => vec![Value::String(a)],
                Value::Array(a) => a,
                other => vec![other],
            };
            let before = actions.len();
            let kept: Vec<Value> = actions.into_iter().filter(|a| a != action).collect();
            removed += before - kept.len();
            st["Action"] = Value::Array(kept);
        }
        statements.retain(|st| st["Action"].as_array().is_some_and(|a| !a.is_empty()));
    }
    assert!(removed > 0, "{function}'s role had no {action} to remove");
    Stack::parse("edited template", &t.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn without_manage_connections_the_rooms_function_cannot_tell_members_and_the_denial_is_logged(
) {
    // Under watch the rooms binary's own `@connections` call is refused by
    // the twin, which reads its SigV4 credential.
    let stack = without_permission("chat-rooms", "execute-api:ManageConnections");
    let e = spawn_with(|o| apply(o, stack)).await;
    let denials = e.p.denials.clone();
    // The membership test itself, on this template: it must fail.
    let outcome = tokio::spawn(async move { members_are_told_live(&e).await }).await;
    let failure = outcome.expect_err("the membership test passed without the permission");
    assert!(failure.is_panic(), "{failure}");
    let denied = chat_local::iam::lock(&denials).clone();
    let d = denied
        .iter()
        .find(|d| d.function == "chat-rooms")
        .unwrap_or_else(|| panic!("no AccessDenied logged for chat-rooms: {denied:?}"));
    assert_eq!(d.action, "execute-api:ManageConnections");
    assert!(
        d.resource
            .starts_with("arn:aws:execute-api:us-east-1:123456789012:local/dev/POST/@connections/"),
        "{}",
        d.resource
    );
    // Only that permission is missing: nothing else was refused.
    assert!(
        denied
            .iter()
            .all(|x| x.action == "execute-api:ManageConnections"),
        "{denied:?}"
    );
}

#[tokio::test]
async fn with_the_synthesized_template_the_membership_test_passes_and_nothing_is_denied() {
    let stack = Stack::parse("template", &template_text()).unwrap_or_else(|e| panic!("{e}"));
    let e = spawn_with(|o| apply(o, stack)).await;
    members_are_told_live(&e).await;
    assert!(e.p.ws_url().ends_with("/dev"), "the template's stage");
    assert_eq!(chat_local::iam::lock(&e.p.denials).len(), 0);
}

#[tokio::test]
async fn a_route_the_template_removes_is_gone() {
    let stack = without_resource("the history route", |r| {
        r["Type"] == "AWS::ApiGatewayV2::Route"
            && r["Properties"]["RouteKey"] == "GET /rooms/{roomId}/messages"
    });
    let e = spawn_with(|o| apply(o, stack)).await;
    let room = e.room("alice", "group", &[]).await;
    let (s, body) = e
        .rest("alice")
        .get(&format!("/rooms/{room}/messages"))
        .await
        .unwrap();
    assert_eq!((s, body["message"].as_str()), (404, Some("Not Found")));
}

#[tokio::test]
async fn a_renamed_environment_variable_fails_the_functions_cold_start() {
    let text = template_text();
    let renamed = text.replace("\"CHAT_QUEUE_URL\"", "\"CHAT_PERSIST_QUEUE_URL\"");
    assert_ne!(renamed, text);
    let stack = Stack::parse("edited", &renamed).unwrap_or_else(|e| panic!("{e}"));
    let e = spawn_with(|o| apply(o, stack)).await;
    // chat-connect needs the queue: its cold start fails, so every
    // $connect does, and API Gateway refuses the handshake.
    let refused = chat_client::ChatClient::connect(&e.p.ws_url(), &e.p.token("alice")).await;
    assert!(
        refused.is_err(),
        "connected with chat-connect unable to start"
    );
    if e.watch.is_some() {
        // The binary itself read the template's environment and failed.
        let log = function_log(&e);
        assert!(
            log.contains("Missing(\"CHAT_QUEUE_URL\")"),
            "chat-connect's cold start did not fail on CHAT_QUEUE_URL:\n{log}"
        );
    }
    // The functions that do not need it still work.
    e.room("alice", "group", &[]).await;
}

#[tokio::test]
async fn an_event_source_whose_role_cannot_receive_from_the_queue_is_refused_at_start() {
    let stack = without_permission("chat-persist", "sqs:ReceiveMessage");
    let mut o = Options {
        port: 0,
        ..Options::default()
    };
    apply(&mut o, stack);
    match chat_local::start(o).await {
        Ok(_) => panic!("started an event source mapping CloudFormation could not create"),
        Err(e) => {
            let e = e.to_string();
            assert!(
                e.contains("sqs:ReceiveMessage") && e.contains("chat-persist"),
                "{e}"
            );
        }
    }
}

#[tokio::test]
async fn a_route_whose_function_api_gateway_may_not_invoke_fails_with_the_denial_logged() {
    let stack = without_resource("the history route's permission", |r| {
        r["Type"] == "AWS::Lambda::Permission"
            && r["Properties"]["SourceArn"]
                .to_string()
                .contains("/rooms/{roomId}/messages")
    });
    let e = spawn_with(|o| apply(o, stack)).await;
    let room = e.room("alice", "group", &[]).await;
    let (s, _) = e
        .rest("alice")
        .get(&format!("/rooms/{room}/messages"))
        .await
        .unwrap();
    assert_eq!(s, 500);
    let denied = chat_local::iam::lock(&e.p.denials).clone();
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(
        (denied[0].function.as_str(), denied[0].action.as_str()),
        ("chat-history", "lambda:InvokeFunction")
    );
}

/// The function's own log under watch (empty in-process).
fn function_log(e: &crate::Env) -> String {
    e.watch.as_ref().map(|w| w.logs()).unwrap_or_default()
}

#[tokio::test]
async fn without_one_dynamodb_action_the_feature_that_needs_it_fails_and_the_denial_is_logged() {
    // Creating a room is one TransactWriteItems of Puts (the room, each
    // member), each needing dynamodb:PutItem. Under watch the proxy reads
    // that from the request the rooms binary sends.
    let stack = without_permission("chat-rooms", "dynamodb:PutItem");
    let e = spawn_with(|o| apply(o, stack)).await;
    let (s, body) = e
        .rest("alice")
        .post(
            "/rooms",
            &serde_json::json!({"name":"room","kind":"group","members":[]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 500, "{body}");
    let denied = chat_local::iam::lock(&e.p.denials).clone();
    assert!(!denied.is_empty(), "no AccessDenied logged");
    for d in &denied {
        assert_eq!(
            (d.function.as_str(), d.action.as_str(), d.resource.as_str()),
            (
                "chat-rooms",
                "dynamodb:PutItem",
                format!(
                    "arn:aws:dynamodb:us-east-1:123456789012:table/{}",
                    e.table_name()
                )
                .as_str()
            )
        );
    }
    if e.watch.is_some() {
        // The binary's SDK decoded the proxy's answer as DynamoDB's own.
        let log = function_log(&e);
        assert!(
            log.contains("AccessDeniedException"),
            "the rooms function did not see an AccessDeniedException:\n{log}"
        );
    }
    // Everything else still works: the users function reads and writes.
    let (s, _) = e.rest("alice").get("/users/me").await.unwrap();
    assert_eq!(s, 200);
}

#[tokio::test]
async fn without_sqs_send_message_a_message_is_refused_and_the_denial_is_logged() {
    let stack = without_permission("chat-message", "sqs:SendMessage");
    let e = spawn_with(|o| apply(o, stack)).await;
    let alice = e.connect("alice").await;
    let room = e.room("alice", "group", &[]).await;
    assert!(
        alice.send(&room, "never queued").await.is_err(),
        "a message was accepted that could not be queued"
    );
    let denied = chat_local::iam::lock(&e.p.denials).clone();
    assert!(!denied.is_empty(), "no AccessDenied logged");
    for d in &denied {
        assert_eq!(
            (d.function.as_str(), d.action.as_str()),
            ("chat-message", "sqs:SendMessage"),
            "{d:?}"
        );
        assert!(
            d.resource
                .starts_with("arn:aws:sqs:us-east-1:123456789012:")
                && d.resource.ends_with("-messages"),
            "{}",
            d.resource
        );
    }
    if e.watch.is_some() {
        // The binary's SDK decoded the proxy's answer as SQS's own
        // (`x-amzn-query-error: AccessDenied;Sender`).
        let log = function_log(&e);
        assert!(
            log.contains("AccessDenied"),
            "the message function did not see an AccessDenied:\n{log}"
        );
    }
}
