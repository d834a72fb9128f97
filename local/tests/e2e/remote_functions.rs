//! `--lambda-endpoint`: the twin invokes the functions through the Lambda
//! Invoke API (what `cargo lambda watch` serves) instead of in-process. Here
//! a stand-in Invoke API hosts the functions in another `Chat`, as separate
//! Lambda processes would be: state is shared only through DynamoDB and SQS
//! (moto), and pushes come back through the twin's `@connections` API.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use chat_local::functions::{Functions, InvokeError};
use chat_local::{AwsBackend, Backend, Options};
use chat_shared::auth::Hs256Verifier;
use chat_shared::config::{AwsConfig, Limits};
use serde_json::{json, Value};

async fn invoke(
    State(f): State<Arc<Functions>>,
    Path(name): Path<String>,
    Json(event): Json<Value>,
) -> (StatusCode, HeaderMap, Json<Value>) {
    match f.invoke(&name, event).await {
        Ok(v) => (StatusCode::OK, HeaderMap::new(), Json(v)),
        Err(InvokeError::Function { message, .. }) => {
            let mut h = HeaderMap::new();
            h.insert(
                "x-amz-function-error",
                HeaderValue::from_static("Unhandled"),
            );
            (
                StatusCode::OK,
                h,
                Json(json!({ "errorType": "Error", "errorMessage": message })),
            )
        }
        Err(e) => (
            StatusCode::NOT_FOUND,
            HeaderMap::new(),
            Json(json!({ "message": e.to_string() })),
        ),
    }
}

#[tokio::test]
async fn functions_invoked_through_the_lambda_invoke_api_run_the_whole_platform() {
    let moto = chat_testkit::moto();
    let sdk = chat_adapters::aws::emulator_config(&moto.url("http")).await;
    let table = format!("remote-{}", uuid::Uuid::now_v7().simple());
    chat_adapters::dynamo::create_table(&aws_sdk_dynamodb::Client::new(&sdk), &table)
        .await
        .unwrap();
    let (queue_url, dlq_url) = chat_local::sqs_source::create_queues(
        &aws_sdk_sqs::Client::new(&sdk),
        &format!("{table}-messages"),
        std::time::Duration::from_secs(1),
        5,
    )
    .await
    .unwrap();
    let config = AwsConfig {
        table_name: table,
        queue_url: Some(queue_url),
        dlq_url: Some(dlq_url),
        ws_endpoint: None,
        endpoint_url: Some(moto.url("http")),
        redis: None,
    };

    // The "Lambda service": its address is needed before the twin starts.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let lambda_url = format!("http://{}", listener.local_addr().unwrap());
    let twin = chat_local::start(Options {
        port: 0,
        backend: Backend::Aws(AwsBackend {
            config: config.clone(),
            create_resources: false,
        }),
        lambda_endpoint: Some(lambda_url),
        ..Options::default()
    })
    .await
    .unwrap();

    // The functions, configured like deployed Lambdas: pushes go to the twin.
    let function_config = AwsConfig {
        ws_endpoint: Some(twin.connections_endpoint()),
        ..config
    };
    let chat = chat_adapters::wiring::aws_chat(&sdk, &function_config, Limits::default()).unwrap();
    let verifier = Arc::new(Hs256Verifier::new(
        chat_local::DEFAULT_SECRET.as_bytes(),
        None,
        None,
    ));
    let functions = Arc::new(Functions::in_process(&chat, verifier).unwrap());
    let app = Router::new()
        .route("/2015-03-31/functions/{name}/invocations", post(invoke))
        .with_state(functions);
    tokio::spawn(async move { axum::serve(listener, app).await });

    // A refused token goes through the authorizer function's error path.
    assert!(matches!(
        chat_client::ChatClient::connect(&twin.ws_url(), "forged").await,
        Err(chat_client::ClientError::Refused(401))
    ));
    let alice = chat_client::ChatClient::connect(&twin.ws_url(), &twin.token("alice"))
        .await
        .unwrap();
    let mut bob = chat_client::ChatClient::connect(&twin.ws_url(), &twin.token("bob"))
        .await
        .unwrap();
    let rest = chat_client::Rest::new(&twin.http_url(), Some(&twin.token("alice")));
    let (s, room) = rest
        .post(
            "/rooms",
            &json!({"name":"remote","kind":"group","members":["bob"]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{room}");
    let room = room["roomId"].as_str().unwrap().to_owned();
    let ack = alice.send(&room, "through the Invoke API").await.unwrap();
    assert_eq!(ack.seq, 1);
    assert_eq!(
        bob.next_of("message").await.unwrap()["body"],
        "through the Invoke API"
    );
    // The twin's SQS event source invokes the remote persist function.
    let mut stored = false;
    for _ in 0..100 {
        let (_, page) = rest.get(&format!("/rooms/{room}/messages")).await.unwrap();
        if page["messages"].as_array().is_some_and(|m| m.len() == 1) {
            stored = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        stored,
        "the message reached DynamoDB through the remote persist function"
    );
}
