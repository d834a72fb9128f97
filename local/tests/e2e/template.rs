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

/// The synthesized template, as every test of this module starts from.
fn synthesized() -> Stack {
    Stack::parse("template", &template_text()).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn the_http_api_refuses_a_token_of_another_issuer_or_audience_as_its_jwt_authorizer_does() {
    let stack = synthesized();
    let e = spawn_with(|o| apply(o, stack)).await;
    let secret = chat_local::DEFAULT_SECRET;
    let jwt = synthesized()
        .jwt(&chat_local::template::Locals::default())
        .unwrap()
        .expect("the HTTP API has a JWT authorizer");
    let (issuer, audience) = (jwt.issuer.clone(), jwt.audience[0].clone());
    assert!(
        issuer.starts_with("https://cognito-idp.us-east-1.amazonaws.com/"),
        "{issuer}"
    );
    let mint = |iss: Option<&str>, aud: Option<&str>| {
        let by = chat_local::TokenIssuer {
            issuer: iss.map(str::to_owned),
            audience: aud.map(str::to_owned),
        };
        chat_local::mint_token_by(&by, secret, "alice", None, 600).unwrap()
    };
    let url = format!("{}/users/me", e.p.http_url());
    let http = reqwest::Client::new();
    for (what, token) in [
        (
            "another issuer",
            mint(
                Some("https://issuer.example.com/x"),
                Some(audience.as_str()),
            ),
        ),
        (
            "another audience",
            mint(Some(issuer.as_str()), Some("another-client")),
        ),
        ("no issuer or audience", mint(None, None)),
    ] {
        let r = http.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 401, "{what}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body,
            serde_json::json!({"message": "Unauthorized"}),
            "{what}"
        );
        // The $connect authorizer checks the same (its function's
        // CHAT_JWT_ISSUER and CHAT_JWT_AUDIENCE, under watch too).
        let c = chat_client::ChatClient::connect(&e.p.ws_url(), &token).await;
        assert!(c.is_err(), "connected with a token of {what}");
    }
    // What chat-local mints carries the template's issuer and audience.
    let r = http
        .get(&url)
        .bearer_auth(e.p.token("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let minted: Value = http
        .post(format!("{}/dev/token", e.p.http_url()))
        .json(&serde_json::json!({"userId": "bob"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = minted["token"].as_str().unwrap();
    let r = http.get(&url).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200);
    e.connect("alice").await;
}

/// The template with `edit` applied to the first resource of type `kind`
/// that `which` picks.
fn with_resource(
    kind: &str,
    which: impl Fn(&Value) -> bool,
    edit: impl FnOnce(&mut Value),
) -> Stack {
    let mut t: Value = serde_json::from_str(&template_text()).unwrap();
    let r = t["Resources"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .find(|r| r["Type"] == kind && which(r))
        .unwrap_or_else(|| panic!("no {kind} in the template"));
    edit(&mut r["Properties"]);
    Stack::parse("edited template", &t.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

fn protocol(p: &'static str) -> impl Fn(&Value) -> bool {
    move |r| r["Properties"]["ProtocolType"] == p
}

/// The stage of the API of `protocol` in `t`.
fn stage_of(protocol: &'static str) -> impl Fn(&Value) -> bool {
    let t: Value = serde_json::from_str(&template_text()).unwrap();
    let api = t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, r)| {
            r["Type"] == "AWS::ApiGatewayV2::Api" && r["Properties"]["ProtocolType"] == protocol
        })
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("no {protocol} API"));
    move |r| r["Properties"]["ApiId"]["Ref"] == api.as_str()
}

fn cors_headers(r: &reqwest::Response) -> Vec<(String, String)> {
    r.headers()
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("access-control-"))
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn the_http_api_answers_preflights_and_adds_cors_headers_for_allowed_origins_only() {
    const APP: &str = "https://chat.example.com";
    let stack = with_resource("AWS::ApiGatewayV2::Api", protocol("HTTP"), |p| {
        p["CorsConfiguration"]["AllowOrigins"] = serde_json::json!([APP]);
    });
    let e = spawn_with(|o| apply(o, stack)).await;
    let http = reqwest::Client::new();
    let url = format!("{}/rooms", e.p.http_url());
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    // Answered by the gateway: no token needed, no route for OPTIONS.
    let r = preflight(APP).await.unwrap();
    assert_eq!(r.status(), 204);
    let mut got = cors_headers(&r);
    got.sort();
    let want = [
        ("access-control-allow-headers", "authorization,content-type"),
        (
            "access-control-allow-methods",
            "GET,POST,PATCH,PUT,DELETE,OPTIONS",
        ),
        ("access-control-allow-origin", APP),
        ("access-control-max-age", "3600"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    assert_eq!(got, want);
    let r = preflight("https://elsewhere.example.com").await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(cors_headers(&r), []);
    // A simple request: the route's answer, with the CORS headers of an
    // allowed origin only.
    let token = e.p.token("alice");
    let get = |origin: &'static str| {
        http.get(format!("{}/users/me", e.p.http_url()))
            .bearer_auth(&token)
            .header("origin", origin)
            .send()
    };
    let r = get(APP).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        cors_headers(&r),
        [("access-control-allow-origin".to_owned(), APP.to_owned())]
    );
    let r = get("https://elsewhere.example.com").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(cors_headers(&r), []);
    // The synthesized stack allows every origin.
    let e = spawn_with(|o| apply(o, synthesized())).await;
    let r = http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/rooms", e.p.http_url()),
        )
        .header("origin", "https://elsewhere.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        cors_headers(&r).contains(&("access-control-allow-origin".into(), "*".into())),
        "{:?}",
        cors_headers(&r)
    );
}

#[tokio::test]
async fn an_http_route_past_its_stage_throttle_gets_429_until_its_bucket_refills() {
    let stack = with_resource("AWS::ApiGatewayV2::Stage", stage_of("HTTP"), |p| {
        p["DefaultRouteSettings"] =
            serde_json::json!({"ThrottlingBurstLimit": 2, "ThrottlingRateLimit": 1});
    });
    let e = spawn_with(|o| apply(o, stack)).await;
    let rest = e.rest("alice");
    assert_eq!(rest.get("/users/me").await.unwrap().0, 200);
    assert_eq!(rest.get("/users/me").await.unwrap().0, 200);
    let (s, body) = rest.get("/users/me").await.unwrap();
    assert_eq!(
        (s, body),
        (429, serde_json::json!({"message": "Too Many Requests"}))
    );
    // Each route has its own bucket.
    assert_eq!(rest.get("/channels").await.unwrap().0, 200);
    // One token a second.
    e.clock.advance(1_000);
    assert_eq!(rest.get("/users/me").await.unwrap().0, 200);
    assert_eq!(rest.get("/users/me").await.unwrap().0, 429);
}

#[tokio::test]
async fn a_websocket_message_past_its_route_throttle_is_answered_too_many_requests_and_the_connection_stays(
) {
    let stack = with_resource("AWS::ApiGatewayV2::Stage", stage_of("WEBSOCKET"), |p| {
        p["RouteSettings"] = serde_json::json!({
            "sendMessage": {"ThrottlingBurstLimit": 1, "ThrottlingRateLimit": 1}
        });
    });
    let e = spawn_with(|o| apply(o, stack)).await;
    let room = e.room("alice", "group", &[]).await;
    let mut c = e.connect("alice").await;
    c.send(&room, "first")
        .await
        .expect("the burst lets one through");
    c.send_json(&serde_json::json!({"action":"sendMessage","roomId":room,"clientMsgId":uuid::Uuid::now_v7().to_string(),"body":"second"}))
        .unwrap();
    let mut throttled = None;
    while let Some(f) = c.next().await {
        if f.get("message").is_some() {
            throttled = Some(f);
            break;
        }
    }
    let f = throttled.expect("a frame for the throttled message");
    assert_eq!(f["message"], "Too Many Requests", "{f}");
    assert!(
        f["connectionId"].as_str().is_some_and(|id| !id.is_empty()),
        "{f}"
    );
    // Other routes are not throttled, and the connection is still open.
    c.send_json(&serde_json::json!({"action":"ping"})).unwrap();
    e.clock.advance(1_000);
    c.send(&room, "third").await.expect("a token a second");
    e.persisted().await;
    let bodies: Vec<String> = e.history("alice", &room, "").await["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        bodies.contains(&"first".to_owned())
            && bodies.contains(&"third".to_owned())
            && !bodies.contains(&"second".to_owned()),
        "{bodies:?}"
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

/// The template with `var` set to `value` in `function`'s environment.
fn with_variable(function: &str, var: &str, value: &str) -> Stack {
    let mut t: Value = serde_json::from_str(&template_text()).unwrap();
    let role = role_of(&t, function);
    let f = t["Resources"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .find(|r| {
            r["Type"] == "AWS::Lambda::Function"
                && r["Properties"]["Role"]["Fn::GetAtt"][0] == role.as_str()
        })
        .unwrap_or_else(|| panic!("no function with the role of {function}"));
    f["Properties"]["Environment"]["Variables"][var] = Value::String(value.to_owned());
    Stack::parse("edited template", &t.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_platform_application_the_role_may_not_use_fails_the_registration_and_the_denial_is_logged(
) {
    // The users function names an FCM platform application, but its role
    // was granted nothing on it (the stack was synthesized without one):
    // mobile push is configured, and SNS refuses CreatePlatformEndpoint.
    // In process the guard asks IAM what the SigV4 proxy asks under watch.
    let app = "arn:aws:sns:us-east-1:123456789012:app/GCM/chat-fcm";
    let stack = with_variable("chat-users", chat_core::config::vars::SNS_FCM_APP_ARN, app);
    let e = spawn_with(|o| apply(o, stack)).await;
    let bob = e.rest("bob");
    let token = format!("dQw4w9WgXcQ:APA91b{}", "x".repeat(40));
    let req = chat_core::protocol::rest::RegisterDeviceRequest::mobile("fcm", &token);
    let (s, body) = bob.register_device(&req).await.unwrap();
    assert!(s >= 500, "{s} {body}");
    let denied = chat_local::iam::lock(&e.p.denials).clone();
    assert!(!denied.is_empty(), "no AccessDenied logged");
    for d in &denied {
        assert_eq!(
            (d.function.as_str(), d.action.as_str(), d.resource.as_str()),
            ("chat-users", "sns:CreatePlatformEndpoint", app),
            "{d:?}"
        );
    }
    // Nothing was registered.
    let (s, list) = bob.devices().await.unwrap();
    assert_eq!(
        (s, list["devices"].as_array().map(Vec::len)),
        (200, Some(0))
    );
}
