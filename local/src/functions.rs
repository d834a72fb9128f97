//! Invoking the platform's Lambda functions: in-process (the default: the
//! very handler code, called directly), or through the Lambda Invoke API of
//! `cargo lambda watch` (`--lambda-endpoint`), so the binaries that deploy
//! are the ones exercised. Either way the gateway hands over the JSON event
//! AWS would send and gets back the JSON the function answers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chat_adapters::wiring::{self, Function};
use chat_core::auth::TokenVerifier;
use chat_core::config::ConfigError;
use chat_core::Chat;
use lambda_http::Body;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tracing::warn;

/// Function names: the binary names `cargo lambda` and the CDK deploy.
pub mod names {
    pub const AUTHORIZER: &str = chat_authorizer::FUNCTION.name;
    pub const CONNECT: &str = chat_connect::FUNCTION.name;
    pub const MESSAGE: &str = chat_message::FUNCTION.name;
    pub const DISCONNECT: &str = chat_disconnect::FUNCTION.name;
    pub const PERSIST: &str = chat_persist::FUNCTION.name;
    pub const HISTORY: &str = chat_history::FUNCTION.name;
    pub const USERS: &str = chat_users::FUNCTION.name;
    pub const ROOMS: &str = chat_rooms::FUNCTION.name;
}

/// Every function the platform hosts, as its crate declares it.
pub const ALL: [Function; 8] = [
    chat_authorizer::FUNCTION,
    chat_connect::FUNCTION,
    chat_message::FUNCTION,
    chat_disconnect::FUNCTION,
    chat_persist::FUNCTION,
    chat_history::FUNCTION,
    chat_users::FUNCTION,
    chat_rooms::FUNCTION,
];

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The function ran and failed (what Lambda reports as a function error).
    #[error("function {function} failed: {message}")]
    Function { function: String, message: String },
    /// The function could not be reached or answered garbage.
    #[error("could not invoke {function}: {message}")]
    Transport { function: String, message: String },
}

pub struct Functions {
    how: How,
    /// What the template deploys each function with (template mode).
    deployed: HashMap<String, Deployed>,
    /// The functions in other processes that have answered once. Until
    /// then an invocation also waits for the process to build and start
    /// (`cargo lambda watch` runs `cargo run` on the first one), which
    /// Lambda charges to its separate init phase, never to the function's
    /// timeout.
    warm: std::sync::Mutex<std::collections::HashSet<String>>,
}

enum How {
    InProcess {
        /// Each function's view of the adapters: only the ports
        /// `deploy/functions.json` grants it, as in AWS.
        chats: HashMap<&'static str, Chat>,
        verifier: Arc<dyn TokenVerifier>,
    },
    Remote {
        endpoint: String,
        http: reqwest::Client,
    },
    /// Each function behind its own Lambda Invoke API (template mode under
    /// watch: one `cargo lambda watch` per function).
    Each {
        hosts: HashMap<String, Host>,
        http: reqwest::Client,
    },
}

/// Where one function's own Invoke API listens, and how to tell its
/// process exited.
pub struct Host {
    pub endpoint: String,
    pub exit: Arc<crate::watch::ExitWatch>,
}

/// A function as the template deploys it.
#[derive(Clone, Default)]
pub struct Deployed {
    /// An invocation past it fails as Lambda's does.
    pub timeout: Option<Duration>,
    /// Why its cold start fails (a variable its ports need is missing):
    /// every invocation fails with it, as in Lambda.
    pub init_error: Option<String>,
    /// Its resource-based policy: who may invoke it from where.
    pub invoke_policy: Option<Arc<crate::iam::FunctionPolicy>>,
    /// The token verifier its environment configures (issuer, audience),
    /// instead of the platform's.
    pub verifier: Option<Arc<dyn TokenVerifier>>,
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
    /// Every function over `chat`, each wired as it deploys: a port its
    /// crate does not link (and so the manifest does not grant) fails every
    /// call, naming its variable. Fails when a crate and the manifest
    /// disagree, as that function's cold start would.
    pub fn in_process(chat: &Chat, verifier: Arc<dyn TokenVerifier>) -> Result<Self, ConfigError> {
        Self::in_process_with(chat, verifier, |_, c| c)
    }

    /// As [`Functions::in_process`], each function's view then passed
    /// through `wrap` (the IAM guard of template mode).
    pub fn in_process_with(
        chat: &Chat,
        verifier: Arc<dyn TokenVerifier>,
        wrap: impl Fn(&str, Chat) -> Chat,
    ) -> Result<Self, ConfigError> {
        let mut chats = HashMap::new();
        for f in &ALL {
            wiring::check(f)?;
            chats.insert(f.name, wrap(f.name, wiring::restrict(chat, f)));
        }
        Ok(Self {
            how: How::InProcess { chats, verifier },
            deployed: HashMap::new(),
            warm: Default::default(),
        })
    }

    pub fn remote(endpoint: &str) -> Self {
        Self {
            how: How::Remote {
                endpoint: endpoint.trim_end_matches('/').to_owned(),
                http: reqwest::Client::new(),
            },
            deployed: HashMap::new(),
            warm: Default::default(),
        }
    }

    /// Each function through its own Invoke API (`hosts` by function name).
    pub fn remote_each(hosts: HashMap<String, Host>) -> Self {
        Self {
            how: How::Each {
                hosts,
                http: reqwest::Client::new(),
            },
            deployed: HashMap::new(),
            warm: Default::default(),
        }
    }

    /// Runs each function as the template deploys it.
    pub fn deployed(mut self, deployed: HashMap<String, Deployed>) -> Self {
        self.deployed = deployed;
        self
    }

    /// Invokes `function` as API Gateway does from `source_arn` (a route or
    /// an authorizer): its resource-based policy must allow that first. A
    /// refusal fails the invocation as API Gateway's "Invalid permissions on
    /// Lambda function" does.
    pub async fn invoke_from(
        &self,
        function: &str,
        source_arn: Option<&str>,
        payload: Value,
    ) -> Result<Value, InvokeError> {
        let policy = self
            .deployed
            .get(function)
            .and_then(|d| d.invoke_policy.as_ref());
        if let (Some(policy), Some(source)) = (policy, source_arn) {
            policy
                .check_invoke(crate::iam::API_GATEWAY, source)
                .map_err(|e| InvokeError::Transport {
                    function: function.into(),
                    message: format!("Invalid permissions on Lambda function: {e}"),
                })?;
        }
        self.invoke(function, payload).await
    }

    pub async fn invoke(&self, function: &str, payload: Value) -> Result<Value, InvokeError> {
        let deployed = self.deployed.get(function);
        if let Some(reason) = deployed.and_then(|d| d.init_error.as_deref()) {
            warn!(
                function,
                reason, "Runtime.ExitError: the function failed its cold start"
            );
            return Err(InvokeError::Function {
                function: function.into(),
                message: format!("Runtime.ExitError: {reason}"),
            });
        }
        let run = self.invoke_now(function, payload);
        let limit = deployed
            .and_then(|d| d.timeout)
            .filter(|_| self.started(function));
        let result = match limit {
            Some(limit) => timed(function, limit, run).await,
            None => run.await,
        };
        if !matches!(self.how, How::InProcess { .. }) {
            self.lock_warm().insert(function.to_owned());
        }
        result
    }

    /// Whether `function`'s process is up, so an invocation's time is its
    /// own: always in-process, after its first answer otherwise.
    fn started(&self, function: &str) -> bool {
        matches!(self.how, How::InProcess { .. }) || self.lock_warm().contains(function)
    }

    fn lock_warm(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<String>> {
        // A poisoned set still names the functions that answered.
        self.warm.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn invoke_now(&self, function: &str, payload: Value) -> Result<Value, InvokeError> {
        match &self.how {
            How::InProcess { chats, verifier } => match chats.get(function) {
                Some(chat) => {
                    let verifier = self
                        .deployed
                        .get(function)
                        .and_then(|d| d.verifier.as_ref())
                        .unwrap_or(verifier);
                    invoke_in_process(chat, verifier.as_ref(), function, payload).await
                }
                None => Err(InvokeError::Transport {
                    function: function.into(),
                    message: "no such function".into(),
                }),
            },
            How::Remote { endpoint, http } => {
                invoke_remote(http, endpoint, function, payload).await
            }
            How::Each { hosts, http } => match hosts.get(function) {
                Some(host) => invoke_host(http, host, function, payload).await,
                None => Err(InvokeError::Transport {
                    function: function.into(),
                    message: "no such function".into(),
                }),
            },
        }
    }
}

/// `run`, failed as Lambda fails an invocation past the function's timeout
/// (`Task timed out after N seconds`). In-process the handler is dropped
/// at that point, as Lambda stops the sandbox.
async fn timed(
    function: &str,
    limit: Duration,
    run: impl std::future::Future<Output = Result<Value, InvokeError>>,
) -> Result<Value, InvokeError> {
    match tokio::time::timeout(limit, run).await {
        Ok(r) => r,
        Err(_) => {
            let message = format!("Task timed out after {:.2} seconds", limit.as_secs_f64());
            warn!(function, timeout_ms = limit.as_millis() as u64, "{message}");
            Err(InvokeError::Function {
                function: function.into(),
                message,
            })
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

/// Invokes `f` on its own host; fails at once, as Lambda's
/// `Runtime.ExitError`, when its process has exited (watch would never
/// answer).
async fn invoke_host(
    http: &reqwest::Client,
    host: &Host,
    f: &str,
    payload: Value,
) -> Result<Value, InvokeError> {
    let exited = |why: String| {
        warn!(function = f, reason = %why, "Runtime.ExitError: the function failed its cold start");
        InvokeError::Function {
            function: f.into(),
            message: format!("Runtime.ExitError: {why}"),
        }
    };
    if let Some(why) = host.exit.exited() {
        return Err(exited(why));
    }
    let exit = async {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Some(why) = host.exit.exited() {
                return why;
            }
        }
    };
    tokio::select! {
        r = invoke_remote(http, &host.endpoint, f, payload) => r,
        why = exit => Err(exited(why)),
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

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Mutex;

    use chat_core::config::Source;
    use chat_core::deploy::{manifest, PortName};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_invocation_past_its_timeout_fails_as_lambda_reports_it() {
        let never = std::future::pending::<Result<Value, InvokeError>>();
        let e = timed("chat-x", Duration::from_secs(3), never)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, InvokeError::Function { function, message } if function == "chat-x" && message == "Task timed out after 3.00 seconds"),
            "{e}"
        );
        let quick = async { Ok(json!({"ok": true})) };
        assert_eq!(
            timed("chat-x", Duration::from_secs(3), quick)
                .await
                .unwrap(),
            json!({"ok": true})
        );
    }

    /// Under `cargo lambda watch` the first invocation also waits for the
    /// build and start of the process, which Lambda charges to init: only
    /// the invocations after it are held to the timeout.
    #[tokio::test]
    async fn a_remote_function_is_held_to_its_timeout_once_it_has_started() {
        // An Invoke API whose every answer takes 1.5 s.
        let app = axum::Router::new().route(
            "/2015-03-31/functions/{f}/invocations",
            axum::routing::post(|| async {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                axum::Json(json!({"ok": true}))
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let limit = Deployed {
            timeout: Some(Duration::from_millis(500)),
            ..Deployed::default()
        };
        let functions =
            Functions::remote(&endpoint).deployed(HashMap::from([("chat-x".to_owned(), limit)]));
        assert_eq!(
            functions.invoke("chat-x", json!({})).await.unwrap(),
            json!({"ok": true}),
            "the cold invocation is not timed"
        );
        let e = functions.invoke("chat-x", json!({})).await.unwrap_err();
        assert!(
            matches!(&e, InvokeError::Function { message, .. } if message == "Task timed out after 0.50 seconds"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_function_whose_cold_start_fails_fails_every_invocation() {
        let (chat, _mem) = Chat::in_memory(chat_core::config::Limits::default());
        let verifier = Arc::new(chat_core::auth::Hs256Verifier::new(
            b"a-secret-of-16-bytes",
            None,
            None,
        ));
        let f = Functions::in_process(&chat, verifier)
            .unwrap()
            .deployed(HashMap::from([(
                names::HISTORY.to_owned(),
                Deployed {
                    init_error: Some("CHAT_TABLE_NAME is not set".into()),
                    ..Deployed::default()
                },
            )]));
        let e = f.invoke(names::HISTORY, json!({})).await.unwrap_err();
        assert!(
            e.to_string().contains("Runtime.ExitError: CHAT_TABLE_NAME"),
            "{e}"
        );
    }

    #[test]
    fn every_function_crate_agrees_with_the_manifest_and_the_manifest_has_no_other() {
        for f in &ALL {
            wiring::check(f).unwrap_or_else(|e| panic!("{e}"));
        }
        let crates: BTreeSet<&str> = ALL.iter().map(|f| f.name).collect();
        let listed: BTreeSet<&str> = manifest().functions.keys().map(String::as_str).collect();
        assert_eq!(crates, listed);
    }

    /// A configuration source that answers every variable with a plausible
    /// value (the aws backend, Cognito auth, Redis) and records what was read.
    struct Recording {
        values: BTreeMap<&'static str, &'static str>,
        read: Mutex<BTreeSet<String>>,
    }

    impl Source for Recording {
        fn get(&self, name: &str) -> Option<String> {
            self.read.lock().unwrap().insert(name.to_owned());
            self.values.get(name).map(|v| (*v).to_owned())
        }
    }

    /// What each function reads at cold start, checked against what
    /// infra gives it: reading a variable the manifest does not list means
    /// AWS never sets it; listing a required one nobody reads is a grant
    /// too many.
    #[tokio::test]
    async fn each_function_reads_exactly_the_environment_the_manifest_gives_it() {
        use chat_core::config::vars;
        let m = manifest();
        for f in &ALL {
            let src = Recording {
                values: BTreeMap::from([
                    (vars::BACKEND, "aws"),
                    (vars::TABLE_NAME, "chat"),
                    (vars::QUEUE_URL, "https://sqs.us-east-1.amazonaws.com/1/q"),
                    (
                        vars::WS_ENDPOINT,
                        "https://a.execute-api.us-east-1.amazonaws.com/dev",
                    ),
                    (vars::REDIS_URL, "rediss://cache.example.com:6379"),
                    (vars::BUCKET_NAME, "chat-attachments"),
                    (
                        vars::VAPID_SECRET_ARN,
                        "arn:aws:secretsmanager:us-east-1:1:secret:vapid",
                    ),
                    // No request leaves but the persist function's read of
                    // the VAPID secret, refused here: Web Push stays off.
                    (vars::AWS_ENDPOINT_URL, "http://127.0.0.1:9"),
                    (vars::AUTH_MODE, "jwks"),
                    (vars::JWKS_URL, "https://idp.example.com/jwks.json"),
                    (vars::JWT_ISSUER, "https://idp.example.com"),
                    (vars::JWT_AUDIENCE, "client"),
                ]),
                read: Mutex::default(),
            };
            let spec = wiring::check(f).unwrap();
            if spec.has(PortName::Stores) {
                wiring::chat_for(&src, f)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e}", f.name));
            }
            if spec.has(PortName::Verifier) {
                wiring::verifier_for(&src, f).unwrap_or_else(|e| panic!("{}: {e}", f.name));
            }
            let read = src.read.into_inner().unwrap();
            let given: BTreeSet<&str> = m.env_of(f.name).into_iter().collect();
            let local: BTreeSet<&str> = m
                .local_only_env
                .iter()
                .chain(&m.runtime_env)
                .map(String::as_str)
                .collect();
            for var in &read {
                assert!(
                    given.contains(var.as_str()) || local.contains(var.as_str()),
                    "{} reads {var}, which deploy/functions.json does not give it",
                    f.name
                );
            }
            let required = spec
                .ports
                .iter()
                .flat_map(|p| &m.ports[p].env)
                .chain(&m.common_env)
                .filter(|v| v.as_str() != "RUST_LOG");
            for var in required {
                assert!(
                    read.contains(var),
                    "{} is given {var} but never reads it",
                    f.name
                );
            }
        }
    }
}
