//! Invoking the platform's Lambda functions: in-process (the default: the
//! very handler code, called directly), or through the Lambda Invoke API of
//! `cargo lambda watch` (`--lambda-endpoint`), so the binaries that deploy
//! are the ones exercised. Either way the gateway hands over the JSON event
//! AWS would send and gets back the JSON the function answers.

use std::sync::Arc;

use chat_shared::auth::TokenVerifier;
use chat_shared::Chat;
use lambda_http::Body;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// Function names: the binary names `cargo lambda` and the CDK deploy.
pub mod names {
    pub const AUTHORIZER: &str = "chat-authorizer";
    pub const CONNECT: &str = "chat-connect";
    pub const MESSAGE: &str = "chat-message";
    pub const DISCONNECT: &str = "chat-disconnect";
    pub const PERSIST: &str = "chat-persist";
    pub const HISTORY: &str = "chat-history";
    pub const USERS: &str = "chat-users";
    pub const ROOMS: &str = "chat-rooms";
}

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The function ran and failed (what Lambda reports as a function error).
    #[error("function {function} failed: {message}")]
    Function { function: String, message: String },
    /// The function could not be reached or answered garbage.
    #[error("could not invoke {function}: {message}")]
    Transport { function: String, message: String },
}

pub enum Functions {
    InProcess {
        // Boxed: a `Chat` (every port and limit) dwarfs the other variant.
        chat: Box<Chat>,
        verifier: Arc<dyn TokenVerifier>,
    },
    Remote {
        endpoint: String,
        http: reqwest::Client,
    },
}

fn decode<T: DeserializeOwned>(function: &str, payload: Value) -> Result<T, InvokeError> {
    serde_json::from_value(payload).map_err(|e| InvokeError::Function {
        function: function.into(),
        message: e.to_string(),
    })
}

fn encode<T: serde::Serialize>(function: &str, v: &T) -> Result<Value, InvokeError> {
    serde_json::to_value(v).map_err(|e| InvokeError::Function {
        function: function.into(),
        message: e.to_string(),
    })
}

/// A `lambda_http` response as the HTTP API payload-2.0 response JSON.
fn http_response_json(resp: lambda_http::Response<Body>) -> Value {
    let headers: serde_json::Map<String, Value> = resp
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), json!(v.to_str().ok()?))))
        .collect();
    let status = resp.status().as_u16();
    let body = match resp.into_body() {
        Body::Empty => String::new(),
        Body::Text(t) => t,
        Body::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
        _ => String::new(),
    };
    json!({ "statusCode": status, "headers": headers, "body": body, "isBase64Encoded": false })
}

impl Functions {
    pub fn in_process(chat: Chat, verifier: Arc<dyn TokenVerifier>) -> Self {
        Functions::InProcess {
            chat: Box::new(chat),
            verifier,
        }
    }

    pub fn remote(endpoint: &str) -> Self {
        Functions::Remote {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    pub async fn invoke(&self, function: &str, payload: Value) -> Result<Value, InvokeError> {
        match self {
            Functions::InProcess { chat, verifier } => {
                invoke_in_process(chat, verifier.as_ref(), function, payload).await
            }
            Functions::Remote { endpoint, http } => {
                invoke_remote(http, endpoint, function, payload).await
            }
        }
    }
}

async fn invoke_in_process(
    chat: &Chat,
    verifier: &dyn TokenVerifier,
    f: &str,
    payload: Value,
) -> Result<Value, InvokeError> {
    use names::*;
    match f {
        AUTHORIZER => match chat_authorizer::handle(verifier, decode(f, payload)?).await {
            Ok(resp) => encode(f, &resp),
            Err(e) => Err(InvokeError::Function {
                function: f.into(),
                message: e.to_string(),
            }),
        },
        CONNECT => encode(
            f,
            &chat_connect::handle(chat, verifier, decode(f, payload)?).await,
        ),
        MESSAGE => encode(f, &chat_message::handle(chat, decode(f, payload)?).await),
        DISCONNECT => encode(f, &chat_disconnect::handle(chat, decode(f, payload)?).await),
        PERSIST => encode(f, &chat_persist::handle(chat, decode(f, payload)?).await),
        HISTORY | USERS | ROOMS => {
            let req = lambda_http::request::from_str(&payload.to_string()).map_err(|e| {
                InvokeError::Function {
                    function: f.into(),
                    message: e.to_string(),
                }
            })?;
            let resp = match f {
                HISTORY => chat_history::handle(chat, verifier, req).await,
                USERS => chat_users::handle(chat, verifier, req).await,
                _ => chat_rooms::handle(chat, verifier, req).await,
            };
            Ok(http_response_json(resp))
        }
        other => Err(InvokeError::Transport {
            function: other.into(),
            message: "no such function".into(),
        }),
    }
}

/// `POST /2015-03-31/functions/{name}/invocations`, the Lambda Invoke API
/// that `cargo lambda watch` serves.
async fn invoke_remote(
    http: &reqwest::Client,
    endpoint: &str,
    f: &str,
    payload: Value,
) -> Result<Value, InvokeError> {
    let transport = |e: &dyn std::fmt::Display| InvokeError::Transport {
        function: f.into(),
        message: e.to_string(),
    };
    let resp = http
        .post(format!("{endpoint}/2015-03-31/functions/{f}/invocations"))
        .json(&payload)
        .send()
        .await
        .map_err(|e| transport(&e))?;
    let function_error = resp.headers().contains_key("x-amz-function-error");
    let status = resp.status();
    let body: Value = resp.json().await.map_err(|e| transport(&e))?;
    if function_error || !status.is_success() {
        let message = body["errorMessage"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| body.to_string());
        return Err(InvokeError::Function {
            function: f.into(),
            message,
        });
    }
    Ok(body)
}
