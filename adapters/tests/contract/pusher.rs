//! The API Gateway Management pusher against a loopback stub of the API
//! (moto's cannot answer 410 nor keep the stage path). The stub serves
//! `POST`/`DELETE /{stage}/@connections/{id}`: 200 for known ids, 410 with
//! `x-amzn-ErrorType: GoneException` for unknown ones, and scripted failures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chat_adapters::apigw::ApiGwPusher;
use chat_core::contract::*;
use chat_core::error::PushError;
use chat_core::ids::ConnectionId;
use chat_core::ports::Pusher;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

pub const STAGE: &str = "test";

/// What the stub answers for one connection id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Ok,
    Throttled,
    Broken,
    Hang,
}

#[derive(Default)]
pub struct StubState {
    pub connections: HashMap<String, Answer>,
    /// (method, path, decoded id, body) of every request.
    pub requests: Vec<(String, String, String, Vec<u8>)>,
}

#[derive(Clone)]
pub struct Stub {
    pub endpoint: String,
    pub state: Arc<Mutex<StubState>>,
}

impl Stub {
    pub fn set(&self, id: &ConnectionId, a: Answer) {
        self.state
            .lock()
            .unwrap()
            .connections
            .insert(id.to_string(), a);
    }

    pub fn requests_for(&self, id: &ConnectionId) -> Vec<(String, Vec<u8>)> {
        let st = self.state.lock().unwrap();
        st.requests
            .iter()
            .filter(|(_, _, i, _)| i == id.as_str())
            .map(|(m, _, _, b)| (m.clone(), b.clone()))
            .collect()
    }
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn response(status: &str, error_type: Option<&str>, message: &str) -> Vec<u8> {
    let body = if message.is_empty() {
        String::new()
    } else {
        format!("{{\"message\":\"{message}\"}}")
    };
    let mut head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    if let Some(t) = error_type {
        head.push_str(&format!("x-amzn-ErrorType: {t}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend(body.into_bytes());
    out
}

/// Starts the stub on a free loopback port, for the life of the test's runtime.
pub async fn stub() -> Stub {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let state = Arc::new(Mutex::new(StubState::default()));
    let shared = state.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let state = shared.clone();
            tokio::spawn(async move {
                let (read, mut write) = sock.into_split();
                let mut read = BufReader::new(read);
                loop {
                    // Request line and headers (keep-alive: one request after another).
                    let mut line = String::new();
                    if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let (method, path) = (
                        parts.next().unwrap_or("").to_owned(),
                        parts.next().unwrap_or("").to_owned(),
                    );
                    let mut length = 0usize;
                    loop {
                        let mut h = String::new();
                        if read.read_line(&mut h).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            if k.eq_ignore_ascii_case("content-length") {
                                length = v.trim().parse().unwrap_or(0);
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    if read.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let prefix = format!("/{STAGE}/@connections/");
                    let id = path.strip_prefix(&prefix).map(percent_decode);
                    let answer = {
                        let mut st = state.lock().unwrap();
                        st.requests.push((
                            method.clone(),
                            path.clone(),
                            id.clone().unwrap_or_default(),
                            body,
                        ));
                        id.as_ref().and_then(|i| st.connections.get(i).copied())
                    };
                    let reply = match (id, method.as_str(), answer) {
                        (None, _, _) => response("404 Not Found", None, ""),
                        (Some(_), _, Some(Answer::Hang)) => {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                            return;
                        }
                        (Some(_), _, Some(Answer::Throttled)) => response(
                            "429 Too Many Requests",
                            Some("LimitExceededException"),
                            "Rate exceeded",
                        ),
                        (Some(_), _, Some(Answer::Broken)) => {
                            response("500 Internal Server Error", None, "Internal server error")
                        }
                        (Some(i), "DELETE", Some(Answer::Ok)) => {
                            state.lock().unwrap().connections.remove(&i);
                            response("204 No Content", None, "")
                        }
                        (Some(_), "POST", Some(Answer::Ok)) => response("200 OK", None, ""),
                        (Some(_), _, _) => {
                            response("410 Gone", Some("GoneException"), "Connection is gone")
                        }
                    };
                    if write.write_all(&reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Stub {
        endpoint: format!("http://127.0.0.1:{port}/{STAGE}"),
        state,
    }
}

pub async fn pusher_for(stub: &Stub) -> ApiGwPusher {
    let sdk = chat_adapters::aws::emulator_config("http://127.0.0.1:9").await;
    ApiGwPusher::new(&sdk, &stub.endpoint)
}

chat_core::pusher_contract!(async {
    let stub = crate::pusher::stub().await;
    crate::pusher::pusher_for(&stub).await
});

#[tokio::test]
async fn a_post_reaches_the_connection_on_the_stage_path_with_the_exact_bytes() {
    let stub = stub().await;
    let p = pusher_for(&stub).await;
    // Ids are base64-like: `=`, `+` and `/` must survive the path.
    let c = ConnectionId::parse(&format!("a+b/c{}=", unique())).unwrap();
    stub.set(&c, Answer::Ok);
    p.post(&c, "{\"type\":\"message\",\"body\":\"é\"}".as_bytes())
        .await
        .unwrap();
    assert_eq!(
        stub.requests_for(&c),
        vec![(
            "POST".to_owned(),
            "{\"type\":\"message\",\"body\":\"é\"}".as_bytes().to_vec()
        )]
    );
    let path = &stub.state.lock().unwrap().requests[0].1;
    assert!(
        path.starts_with(&format!("/{STAGE}/@connections/")),
        "{path}"
    );
}

#[tokio::test]
async fn disconnect_closes_a_known_connection_which_is_then_gone() {
    let stub = stub().await;
    let p = pusher_for(&stub).await;
    let c = connection("d");
    stub.set(&c, Answer::Ok);
    p.disconnect(&c).await.unwrap();
    assert!(matches!(p.post(&c, b"x").await, Err(PushError::Gone)));
}

#[tokio::test]
async fn throttling_and_server_errors_are_transient_and_tried_once() {
    let stub = stub().await;
    let p = pusher_for(&stub).await;
    for answer in [Answer::Throttled, Answer::Broken] {
        let c = connection("t");
        stub.set(&c, answer);
        let r = p.post(&c, b"x").await;
        assert!(
            matches!(r, Err(PushError::Transient(_))),
            "{answer:?}: {r:?}"
        );
        // The domain retries with backoff; the adapter must not retry too.
        assert_eq!(stub.requests_for(&c).len(), 1, "{answer:?}");
    }
}

#[tokio::test]
async fn a_connection_that_never_answers_is_transient_after_the_attempt_timeout() {
    let stub = stub().await;
    let p = pusher_for(&stub).await;
    let c = connection("h");
    stub.set(&c, Answer::Hang);
    let started = std::time::Instant::now();
    assert!(matches!(
        p.post(&c, b"x").await,
        Err(PushError::Transient(_))
    ));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
