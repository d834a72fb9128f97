//! Tokens never reach the local platform's logs: the gateway twin, the REST
//! front and every function it hosts run here at TRACE, in both log formats,
//! while clients connect with `?token=` and the `Authorization` header.
//! Under `CHAT_E2E_FUNCTIONS=watch` the output of `cargo lambda watch` and of
//! the function binaries it runs (at the level `RUST_LOG` gives them) is
//! checked as well.

use std::io::Write;
use std::sync::{Arc, Mutex};

use chat_client::{ChatClient, Rest};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

use crate::spawn;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs `subscriber` for this thread, robustly while other tests run
/// on other threads. With a single registered dispatcher, tracing computes
/// a callsite's interest from the default of whichever thread reaches it
/// first: another test's thread (no subscriber) would cache "never" for a
/// callsite this test needs, and its events would silently vanish. A second
/// registered dispatcher makes every callsite consult all of them.
fn capture_on_this_thread(
    subscriber: impl tracing::Subscriber + Send + Sync + 'static,
) -> tracing::subscriber::DefaultGuard {
    static SECOND: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
    SECOND.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
    let guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    guard
}

/// A current-thread runtime: the platform's tasks run on this thread, under
/// this thread's subscriber.
#[tokio::test]
async fn no_token_reaches_the_logs_of_the_local_platform() {
    let out = Captured::default();
    let (json_out, text_out) = (out.clone(), out.clone());
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .with_writer(move || json_out.clone()),
        )
        .with(tracing_subscriber::fmt::layer().with_writer(move || text_out.clone()))
        .with(tracing_subscriber::filter::LevelFilter::TRACE);
    let _guard = capture_on_this_thread(subscriber);

    let e = spawn().await;
    let good = e.p.token("alice");
    let forged = chat_local::mint_token("not-the-secret-0000000000", "alice", None, 60).unwrap();
    let mut c = ChatClient::connect(&e.p.ws_url(), &good).await.unwrap();
    c.send_json(&json!({"action":"ping"})).unwrap();
    c.next_of("pong").await.unwrap();
    // Refused before the authorizer where the identity source is the query.
    let header = crate::template::header_token_accepted();
    let h = ChatClient::connect_with_header(&e.p.ws_url(), &good).await;
    let h = if header {
        let mut h = h.unwrap();
        h.send_json(&json!({"action":"ping"})).unwrap();
        h.next_of("pong").await.unwrap();
        Some(h)
    } else {
        assert!(h.is_err());
        None
    };
    let closed = if header { 2 } else { 1 };
    assert!(ChatClient::connect(&e.p.ws_url(), &forged).await.is_err());
    for t in [&good, &forged] {
        let _ = Rest::new(&e.p.http_url(), Some(t)).get("/users/me").await;
    }
    c.close();
    if let Some(h) = h {
        h.close();
    }

    // Under `CHAT_E2E_FUNCTIONS=watch` the functions log in watch's
    // processes: their output is checked too. Both `disconnected` lines come
    // after everything above has been logged (one where the header was refused).
    let logs = || {
        let mut logs = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        if let Some(watch) = &e.watch {
            logs.push_str(&watch.logs());
        }
        logs
    };
    for _ in 0..500 {
        if logs().matches("disconnected").count() >= closed {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let logs = logs();
    assert!(
        logs.matches("disconnected").count() >= closed,
        "the platform did log:\n{logs}"
    );
    for t in [&good, &forged] {
        for part in t.split('.').skip(1) {
            assert!(!logs.contains(part), "a token was logged:\n{logs}");
        }
    }
}
