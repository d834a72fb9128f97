//! A crash mid-stream: `chat-local` on the real adapters (DynamoDB and SQS in
//! moto, the Redis cache) is SIGKILLed while a member sends, then started
//! again with the same `--create-resources` command. Every acked message is
//! in history exactly once, a resend of the one cut short is acked once, and
//! each member's sync returns what they missed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chat_client::{ChatClient, Rest, Timeline};
use serde_json::json;

use crate::lost::{catch_up, follow};

const SECRET: &str = "crash-test-secret-0123456789abcdef";

/// One `chat-local` process and where it listens.
struct Platform {
    child: Child,
    http: String,
}

impl Platform {
    /// Starts the binary as the README does, on a free port, and waits for
    /// the line that says it listens.
    async fn start(table: &str, moto: &str, redis: &str, log: &std::path::Path) -> Platform {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat-local"))
            .args([
                "--backend",
                "aws",
                "--create-resources",
                "--port",
                "0",
                "--visibility-timeout-secs",
                "1",
            ])
            .env("AWS_ENDPOINT_URL", moto)
            .env("CHAT_REDIS_URL", redis)
            .env("CHAT_TABLE_NAME", table)
            .env("CHAT_JWT_SECRET", SECRET)
            .env_remove("CHAT_QUEUE_URL")
            .env_remove("CHAT_DLQ_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("chat-local starts");
        let stdout = child.stdout.take().expect("stdout");
        // Reads on a thread of its own, and keeps reading so the process
        // never blocks on a full pipe.
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
            // Logs may come first; this line is what scripts wait for.
            let _ = tx.send(lines.find(|l| l.starts_with("chat-local listening on ")));
            for _ in lines {}
        });
        let first = tokio::time::timeout(Duration::from_secs(60), rx)
            .await
            .expect("chat-local printed its address in time")
            .expect("the reader thread answers")
            .expect("chat-local said where it listens");
        let http = first
            .strip_prefix("chat-local listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .to_owned();
        Platform { child, http }
    }

    fn token(user: &str) -> String {
        chat_local::mint_token(SECRET, user, None, 3600).expect("valid user")
    }

    async fn connect(&self, user: &str) -> ChatClient {
        let ws = format!("{}/local", self.http.replacen("http://", "ws://", 1));
        ChatClient::connect(&ws, &Self::token(user))
            .await
            .expect("connects")
    }

    fn rest(&self, user: &str) -> Rest {
        Rest::new(&self.http, Some(&Self::token(user)))
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL sent");
        let status = self.child.wait().expect("chat-local exits");
        assert!(!status.success(), "killed, not stopped: {status}");
    }
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every message of the room's history, oldest first: the newest page,
/// then page after page backwards.
async fn history(p: &Platform, user: &str, room: &str) -> Vec<serde_json::Value> {
    let rest = p.rest(user);
    let mut pages = Vec::new();
    let mut query = "limit=100".to_owned();
    loop {
        let (s, page) = rest
            .get(&format!("/rooms/{room}/messages?{query}"))
            .await
            .unwrap();
        assert_eq!(s, 200, "{page}");
        pages.push(page["messages"].as_array().cloned().unwrap_or_default());
        match page["prevCursor"].as_str() {
            Some(c) => query = format!("limit=100&before={c}"),
            None => break,
        }
    }
    pages.into_iter().rev().flatten().collect()
}

#[tokio::test]
async fn after_a_sigkill_mid_stream_and_a_restart_every_acked_message_is_there_once() {
    if !crate::aws_backend() || crate::watch::enabled() {
        eprintln!("skipped: the crash test runs with CHAT_E2E_BACKEND=aws (moto and Redis)");
        return;
    }
    let moto = chat_testkit::moto();
    let redis = chat_testkit::redis_server(None);
    let table = format!("crash-{}", uuid::Uuid::now_v7().simple());
    let log = std::env::temp_dir().join(format!("{table}.log"));
    let (moto_url, redis_url) = (moto.url("http"), redis.url("redis"));

    let mut p = Platform::start(&table, &moto_url, &redis_url, &log).await;
    let (mut alice, mut bob) = (p.connect("alice").await, p.connect("bob").await);
    let (s, r) = p
        .rest("alice")
        .post(
            "/rooms",
            &json!({"name":"crash","kind":"group","members":["bob","carol"]}),
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{r}");
    let room = r["roomId"].as_str().unwrap().to_owned();

    // alice sends a stream of messages; the platform dies in the middle.
    alice.set_timeout(Duration::from_secs(3));
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel();
    let sender = {
        let room = room.clone();
        tokio::spawn(async move {
            for i in 0.. {
                let cmid = format!("crash-{i}");
                match alice.send_with_id(&room, &cmid, &cmid).await {
                    Ok(ack) => {
                        if acked_tx.send(ack).is_err() {
                            break;
                        }
                    }
                    // Cut short: the one whose ack never came.
                    Err(_) => return cmid,
                }
            }
            unreachable!("the loop ends with the platform");
        })
    };
    let mut acked = Vec::new();
    while acked.len() < 25 {
        acked.push(acked_rx.recv().await.expect("acks keep coming"));
    }
    p.kill();
    let cut_short = sender.await.expect("sender task");
    while let Ok(ack) = acked_rx.try_recv() {
        acked.push(ack);
    }
    // What bob held before the crash.
    let mut bob_timeline = Timeline::new();
    bob_timeline.track(&room, 0);
    for frame in bob.drain() {
        bob_timeline.apply(&frame);
    }
    drop(bob);

    // The README's own command again: the table and queues exist.
    let p = Platform::start(&table, &moto_url, &redis_url, &log).await;
    let alice = p.connect("alice").await;
    let resent = alice
        .send_with_id(&room, &cut_short, &cut_short)
        .await
        .expect("the resend of the message cut short is acked");
    acked.push(resent);
    let last = acked.iter().map(|a| a.seq).max().unwrap();

    // History: every acked message exactly once (the queue hands the ones
    // in flight at the crash to the new process after their visibility
    // timeout).
    let mut stored = Vec::new();
    for _ in 0..300 {
        stored = history(&p, "alice", &room).await;
        if acked.iter().all(|a| {
            stored
                .iter()
                .any(|m| m["messageId"] == a.message_id.as_str())
        }) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for a in &acked {
        let copies = stored
            .iter()
            .filter(|m| m["clientMsgId"] == a.client_msg_id.as_str())
            .count();
        assert_eq!(copies, 1, "{} stored {copies} times", a.client_msg_id);
    }
    let seqs: Vec<u64> = stored.iter().filter_map(|m| m["seq"].as_u64()).collect();
    let mut unique = seqs.clone();
    unique.dedup();
    assert_eq!(seqs, unique, "history ascending, no seq twice");

    // bob resyncs from where he was; carol, away all along, from the start.
    let mut bob = p.connect("bob").await;
    catch_up(&mut bob, &mut bob_timeline, &room, last).await;
    let mut carol = p.connect("carol").await;
    let mut carol_timeline = Timeline::new();
    carol
        .send_json(&json!({"action":"sync","rooms":[{"roomId":room,"afterSeq":0}]}))
        .unwrap();
    follow(&mut carol, &mut carol_timeline, &room, last).await;
    for (who, t) in [("bob", &bob_timeline), ("carol", &carol_timeline)] {
        let ids: Vec<&str> = t
            .messages(&room)
            .iter()
            .filter_map(|m| m["messageId"].as_str())
            .collect();
        for a in &acked {
            assert_eq!(
                ids.iter().filter(|id| **id == a.message_id).count(),
                1,
                "{who} has {} once",
                a.client_msg_id
            );
        }
    }
    let _ = std::fs::remove_file(&log);
}
