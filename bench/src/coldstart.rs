//! Cold start and footprint of the Lambda binaries, measured against a
//! minimal Lambda Runtime API served here.
//!
//! For each binary and run: start a Runtime API on a free port, exec the
//! binary with the environment Lambda gives a `provided.al2023` function
//! (`AWS_LAMBDA_RUNTIME_API` pointing at us, `CHAT_BACKEND=memory`), and time
//! - **init**: exec → its first `GET …/invocation/next` (what Lambda reports
//!   as Init Duration, minus the sandbox's own start);
//! - **first invocation**: handing out the event → its `POST …/response`
//!   (or `/error`);
//! - **max RSS**: `VmHWM` of `/proc/<pid>/status` once it polls again, idle
//!   after one invocation (what Lambda reports as Max Memory Used).
//!
//! Medians over the runs. Sizes: the stripped binary of the Cargo profile
//! Lambda deploys ([`PROFILE`]), and zipped as `bootstrap` (what is
//! uploaded), with the `zip` command when installed.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use chat_twin::events::{self, SqsRecord, WsApi, WsConn};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::stats::median;

/// The functions of the platform, in deployment order, and the reference.
pub const FUNCTIONS: [&str; 8] = [
    "chat-authorizer",
    "chat-connect",
    "chat-message",
    "chat-disconnect",
    "chat-persist",
    "chat-history",
    "chat-users",
    "chat-rooms",
];
pub const HELLO: &str = "bench-hello-lambda";

/// The Cargo profile the stack deploys (`infra/lib/rust-function.ts`).
pub const PROFILE: &str = "lambda-release";

const SECRET: &str = "bench-cold-start-secret-0123456789";

#[derive(Default)]
struct Invocation {
    polls: AtomicU64,
    first_poll: Mutex<Option<Instant>>,
    answered: Mutex<Option<(Instant, bool, String)>>,
    init_error: Mutex<Option<String>>,
    changed: Notify,
    event: Value,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn next(State(inv): State<Arc<Invocation>>) -> impl IntoResponse {
    let n = inv.polls.fetch_add(1, Ordering::SeqCst);
    if n == 0 {
        *lock(&inv.first_poll) = Some(Instant::now());
        inv.changed.notify_waiters();
        let mut h = HeaderMap::new();
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
            + 30_000;
        let mut put = |k: &'static str, v: String| {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(k, v);
            }
        };
        put("lambda-runtime-aws-request-id", "bench-request-1".into());
        put("lambda-runtime-deadline-ms", deadline.to_string());
        put(
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:000000000000:function:bench".into(),
        );
        put(
            "lambda-runtime-trace-id",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0".into(),
        );
        put("content-type", "application/json".into());
        return (StatusCode::OK, h, inv.event.to_string()).into_response();
    }
    // Idle, waiting for work: that is where we read its memory, then kill it.
    inv.changed.notify_waiters();
    tokio::time::sleep(Duration::from_secs(60)).await;
    StatusCode::GONE.into_response()
}

async fn answer(inv: &Invocation, ok: bool, body: String) -> StatusCode {
    *lock(&inv.answered) = Some((Instant::now(), ok, body));
    inv.changed.notify_waiters();
    StatusCode::ACCEPTED
}

async fn response(
    State(inv): State<Arc<Invocation>>,
    UrlPath(_id): UrlPath<String>,
    body: String,
) -> StatusCode {
    answer(&inv, true, body).await
}

async fn error(
    State(inv): State<Arc<Invocation>>,
    UrlPath(_id): UrlPath<String>,
    body: String,
) -> StatusCode {
    answer(&inv, false, body).await
}

async fn init_error(State(inv): State<Arc<Invocation>>, body: String) -> StatusCode {
    *lock(&inv.init_error) = Some(body);
    inv.changed.notify_waiters();
    StatusCode::ACCEPTED
}

/// The event each function gets on its first invocation: what API Gateway
/// or SQS would send it.
pub fn event_for(function: &str) -> Value {
    let api = WsApi::default();
    let conn = WsConn {
        connection_id: "bench-conn-1=".into(),
        connected_at: 1_795_000_000_000,
        source_ip: "127.0.0.1".into(),
    };
    let now = 1_795_000_000_500;
    let token =
        chat_local::mint_token(SECRET, "bench-user", Some("Bench"), 3600).unwrap_or_default();
    let query = vec![("token".to_owned(), token.clone())];
    let bearer = vec![("authorization".to_owned(), format!("Bearer {token}"))];
    match function {
        "chat-authorizer" => events::ws_authorizer_request(&api, &conn, &query, &[], now),
        "chat-connect" => to_json(&events::ws_connect(&api, &conn, &query, &[], None, now)),
        "chat-message" => to_json(&events::ws_message(
            &api,
            &conn,
            "sendMessage",
            r#"{"action":"sendMessage","roomId":"r_bench","clientMsgId":"c-1","body":"hello"}"#,
            None,
            now,
        )),
        "chat-disconnect" => to_json(&events::ws_disconnect(&api, &conn, 1000, "bye", now)),
        "chat-persist" => {
            let job = json!({"kind": "persistMessage", "message": {
                "roomId": "r_bench", "messageId": "0190f5c4-0000-7000-8000-000000000001",
                "seq": 1, "senderId": "bench-user", "body": "hello",
                "sentAt": now, "clientMsgId": "c-1"}});
            let rec = SqsRecord {
                message_id: "bench-record-1".into(),
                body: job.to_string(),
                receive_count: 1,
                sent_at: now,
            };
            to_json(&events::sqs_event(
                "arn:aws:sqs:us-east-1:000000000000:chat-messages",
                &[rec],
                now,
            ))
        }
        "chat-history" => events::http_event("GET", "/rooms/r_bench/messages", &bearer, None, now),
        "chat-users" => events::http_event("GET", "/users/me", &bearer, None, now),
        "chat-rooms" => events::http_event("GET", "/rooms", &bearer, None, now),
        _ => json!({ "hello": "world" }),
    }
}

fn to_json<T: Serialize>(ev: &T) -> Value {
    serde_json::to_value(ev).unwrap_or(Value::Null)
}

/// One run of one binary.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub init_ms: f64,
    pub first_invoke_ms: f64,
    pub max_rss_kb: u64,
    pub ok: bool,
    pub answer: String,
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn wait_for(inv: &Invocation, timeout: Duration, done: impl Fn(&Invocation) -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let notified = inv.changed.notified();
        if done(inv) {
            return true;
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return done(inv);
        }
    }
}

/// Starts `binary` once against a fresh Runtime API and measures it.
pub async fn run_once(binary: &Path, name: &str) -> Result<Run, String> {
    let inv = Arc::new(Invocation {
        event: event_for(name),
        ..Invocation::default()
    });
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(response),
        )
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(inv.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("CHAT_BACKEND", "memory")
        .env("CHAT_JWT_SECRET", SECRET)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", binary.display()))?;
    let pid = child.id().unwrap_or_default();

    let result = async {
        if !wait_for(&inv, Duration::from_secs(10), |i| {
            lock(&i.first_poll).is_some() || lock(&i.init_error).is_some()
        })
        .await
        {
            return Err("no poll of /next within 10 s".to_owned());
        }
        if let Some(e) = lock(&inv.init_error).clone() {
            return Err(format!("init error: {e}"));
        }
        let polled = lock(&inv.first_poll).unwrap_or(started);
        if !wait_for(&inv, Duration::from_secs(10), |i| {
            lock(&i.answered).is_some()
        })
        .await
        {
            return Err("no answer within 10 s".to_owned());
        }
        let (answered, ok, body) =
            lock(&inv.answered)
                .clone()
                .unwrap_or((polled, false, String::new()));
        // Idle again: its high-water mark now covers init and one invocation.
        wait_for(&inv, Duration::from_secs(5), |i| {
            i.polls.load(Ordering::SeqCst) >= 2
        })
        .await;
        let max_rss_kb = vm_hwm_kb(pid).unwrap_or(0);
        Ok(Run {
            init_ms: polled.duration_since(started).as_secs_f64() * 1000.0,
            first_invoke_ms: answered.duration_since(polled).as_secs_f64() * 1000.0,
            max_rss_kb,
            ok,
            answer: body.chars().take(200).collect(),
        })
    }
    .await;
    let _ = child.kill().await;
    server.abort();
    result
}

/// The medians of several runs of one binary, and its sizes.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub name: String,
    pub runs: usize,
    pub init_ms: f64,
    pub first_invoke_ms: f64,
    pub max_rss_mb: f64,
    pub binary_mb: f64,
    pub zipped_mb: Option<f64>,
    /// Init median ÷ the hello-world binary's.
    pub init_vs_hello: f64,
    /// The first invocation answered without a function error.
    pub ok: bool,
    pub answer: String,
    pub errors: Vec<String>,
}

/// Size of `binary` zipped as `bootstrap`, with the `zip` command.
pub fn zipped_bytes(binary: &Path) -> Option<u64> {
    let dir = std::env::temp_dir().join(format!(
        "chat-bench-zip-{}-{}",
        std::process::id(),
        binary.file_name()?.to_string_lossy()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).ok()?;
    std::fs::copy(binary, dir.join("bootstrap")).ok()?;
    let status = std::process::Command::new("zip")
        .args(["-q", "-9", "-X", "function.zip", "bootstrap"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    let size = status
        .success()
        .then(|| {
            std::fs::metadata(dir.join("function.zip"))
                .ok()
                .map(|m| m.len())
        })
        .flatten();
    let _ = std::fs::remove_dir_all(&dir);
    size
}

pub async fn summarize(bin_dir: &Path, name: &str, runs: usize) -> Summary {
    let path: PathBuf = bin_dir.join(name);
    let mut s = Summary {
        name: name.to_owned(),
        ..Summary::default()
    };
    let Ok(meta) = std::fs::metadata(&path) else {
        s.errors.push(format!(
            "{} not found: build it with cargo build --profile {PROFILE}",
            path.display()
        ));
        return s;
    };
    s.binary_mb = meta.len() as f64 / 1e6;
    s.zipped_mb = zipped_bytes(&path).map(|b| b as f64 / 1e6);
    let mut ok_runs = Vec::new();
    for _ in 0..runs.max(1) {
        match run_once(&path, name).await {
            Ok(r) => ok_runs.push(r),
            Err(e) => s.errors.push(e),
        }
    }
    s.runs = ok_runs.len();
    let pick =
        |f: fn(&Run) -> f64| median(&ok_runs.iter().map(f).collect::<Vec<_>>()).unwrap_or(f64::NAN);
    s.init_ms = pick(|r| r.init_ms);
    s.first_invoke_ms = pick(|r| r.first_invoke_ms);
    s.max_rss_mb = pick(|r| r.max_rss_kb as f64) / 1024.0;
    s.ok = !ok_runs.is_empty() && ok_runs.iter().all(|r| r.ok);
    s.answer = ok_runs
        .first()
        .map(|r| r.answer.clone())
        .unwrap_or_default();
    s
}

pub fn table(rows: &[Summary]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "  {:<20} {:>5} {:>9} {:>8} {:>12} {:>9} {:>9} {:>10}  answer",
        "binary", "runs", "init ms", "× hello", "1st call ms", "RSS MB", "size MB", "zipped MB",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "  {:<20} {:>5} {:>9.2} {:>8.2} {:>12.2} {:>9.1} {:>9.2} {:>10}  {}{}",
            r.name,
            r.runs,
            r.init_ms,
            r.init_vs_hello,
            r.first_invoke_ms,
            r.max_rss_mb,
            r.binary_mb,
            r.zipped_mb.map_or("n/a".to_owned(), |z| format!("{z:.2}")),
            if r.ok { "ok" } else { "function error" },
            r.errors.first().map_or(String::new(), |e| format!(
                " ({} failed runs; first: {e})",
                r.errors.len()
            )),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_gets_an_event_of_its_own_shape() {
        assert_eq!(event_for("chat-authorizer")["type"], "REQUEST");
        assert_eq!(
            event_for("chat-connect")["requestContext"]["eventType"],
            "CONNECT"
        );
        assert_eq!(
            event_for("chat-message")["requestContext"]["routeKey"],
            "sendMessage"
        );
        assert_eq!(
            event_for("chat-disconnect")["requestContext"]["eventType"],
            "DISCONNECT"
        );
        assert_eq!(
            event_for("chat-persist")["Records"][0]["eventSource"],
            "aws:sqs"
        );
        assert_eq!(event_for("chat-users")["version"], "2.0");
        assert_eq!(event_for(HELLO)["hello"], "world");
    }

    #[test]
    fn the_high_water_mark_of_this_process_is_readable() {
        assert!(vm_hwm_kb(std::process::id()).unwrap_or(0) > 0);
    }
}
