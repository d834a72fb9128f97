//! End-to-end tests of the local platform over real sockets: the platform is
//! started in-process on a free port, clients connect with the Rust client.
//!
//! Three modes, one suite: the default (in-memory adapters, functions
//! in-process), `CHAT_E2E_BACKEND=aws` (the real adapters on moto and
//! redis-server) and `CHAT_E2E_FUNCTIONS=watch` (the real adapters, and the
//! function binaries under `cargo lambda watch`: see [`watch`]). Any of them
//! can run the stack a synthesized template describes, each function's IAM
//! policies enforced: `CHAT_E2E_TEMPLATE=cdk.out/Chat-dev.template.json`
//! (see [`template`]); with `CHAT_E2E_FUNCTIONS=watch` too, on the binaries,
//! each with its template environment and its role enforced on its real
//! AWS calls. [`iam_table`] checks the in-process guard's table against
//! what the adapters send.

mod attachments;
mod blocks;
mod changes;
mod chat;
mod connections_api;
mod crash;
mod e2ee;
mod fault_table;
mod gateway;
mod hosted_ui;
mod iam_table;
mod lost;
mod notify;
mod queue;
mod replies;
mod search;
mod secrets;
mod template;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use chat_client::{ChatClient, Rest};
use chat_core::memory::ManualClock;
use chat_core::ports::{Clock, SystemClock};
use chat_local::{Options, Running};
use serde_json::{json, Value};

pub struct Env {
    pub p: Running,
    pub clock: Arc<ManualClock>,
    /// The `cargo lambda watch` running this test's functions
    /// (`CHAT_E2E_FUNCTIONS=watch`), stopped with it.
    pub watch: Option<watch::Watch>,
    table: String,
    /// The Redis server, or the cluster's nodes, of this test (aws
    /// backend), stopped with it.
    _redis: Vec<chat_testkit::Server>,
}

/// `CHAT_E2E_BACKEND=aws` runs the suite on the real adapters: DynamoDB and
/// SQS in moto, the Redis cache in redis-server, pushes through the twin's
/// `@connections` API; each test gets its own table, queues and Redis.
pub fn aws_backend() -> bool {
    std::env::var("CHAT_E2E_BACKEND").is_ok_and(|b| b == "aws")
}

/// With the aws backend, `CHAT_E2E_REDIS=cluster` puts the cache on a
/// 3-master Redis Cluster (what ElastiCache Serverless speaks) instead of
/// one server. Each test gets its own cluster: the tests reuse user names,
/// whose cache keys would otherwise meet across tests' tables.
fn redis_mode() -> chat_core::config::RedisMode {
    match std::env::var("CHAT_E2E_REDIS").as_deref() {
        Ok("cluster") => chat_core::config::RedisMode::Cluster,
        Ok("single") | Err(_) => chat_core::config::RedisMode::Single,
        Ok(other) => panic!("CHAT_E2E_REDIS={other}: supported: single, cluster"),
    }
}

pub async fn spawn() -> Env {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(tweak: impl FnOnce(&mut Options)) -> Env {
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let mut o = Options {
        port: 0,
        clock: clock.clone(),
        ..Options::default()
    };
    // A failed record comes back after 50 ms in the platform's own
    // process. Function binaries take seconds (the first invocation waits
    // for its process to start): a record must stay hidden longer than an
    // invocation, or SQS hands it out again mid-invocation and redrives a
    // message that was stored. Lambda refuses such a mapping (visibility
    // below the function's timeout).
    o.queue.visibility_timeout = if watch::enabled() {
        Duration::from_secs(20)
    } else {
        Duration::from_millis(50)
    };
    let mut redis = Vec::new();
    if aws_backend() || watch::enabled() {
        use chat_core::config::{AwsConfig, RedisConfig, RedisMode, Secret};
        let moto = chat_testkit::moto();
        let mode = redis_mode();
        let nodes = match mode {
            RedisMode::Single => vec![chat_testkit::redis_server(None)],
            RedisMode::Cluster => chat_testkit::redis_cluster().nodes,
        };
        let config = AwsConfig {
            table_name: format!("e2e-{}", uuid::Uuid::now_v7().simple()),
            queue_url: None,
            dlq_url: None,
            ws_endpoint: None,
            bucket_name: Some(format!("e2e-{}", uuid::Uuid::now_v7().simple())),
            vapid_secret_arn: None,
            sns_fcm_app_arn: None,
            sns_apns_app_arn: None,
            endpoint_url: Some(moto.url("http")),
            redis: Some(RedisConfig {
                url: Secret::new(nodes[0].url("redis")),
                timeout_ms: 200,
                mode,
                index_hold_ms: chat_core::deploy::settings().redis_index_hold_ms.default,
            }),
        };
        redis = nodes;
        o.backend = chat_local::Backend::Aws(chat_local::AwsBackend {
            config,
            create_resources: true,
        });
    }
    if let Some(stack) = template::from_env() {
        template::apply(&mut o, stack);
    }
    tweak(&mut o);
    let watch = if watch::enabled() && o.template.is_some() {
        Some(watch::template_functions_under_watch(&mut o).await)
    } else if watch::enabled() {
        Some(watch::functions_under_watch(&mut o).await)
    } else {
        None
    };
    let table = match &o.backend {
        chat_local::Backend::Aws(a) => a.config.table_name.clone(),
        chat_local::Backend::Memory => "chat-local".to_owned(),
    };
    let p = chat_local::start(o).await.expect("platform starts");
    Env {
        p,
        table,
        clock,
        watch,
        _redis: redis,
    }
}

impl Env {
    pub async fn connect(&self, user: &str) -> ChatClient {
        ChatClient::connect(&self.p.ws_url(), &self.p.token(user))
            .await
            .expect("connects")
    }

    pub fn rest(&self, user: &str) -> Rest {
        Rest::new(&self.p.http_url(), Some(&self.p.token(user)))
    }

    /// The table this test's platform uses (`chat-local` on the memory
    /// backend's template mode).
    pub fn table_name(&self) -> String {
        self.table.clone()
    }

    pub async fn room(&self, owner: &str, kind: &str, members: &[&str]) -> String {
        let (s, r) = self
            .rest(owner)
            .post(
                "/rooms",
                &json!({"name":"room","kind":kind,"members":members}),
            )
            .await
            .unwrap();
        assert!(s == 201 || s == 200, "{s} {r}");
        r["roomId"].as_str().unwrap().to_owned()
    }

    /// Waits until the queue has nothing visible or in flight. Gives up
    /// after 2 minutes: under watch with a template each function's first
    /// invocation waits for its `cargo run`, which queue up behind one
    /// another on the shared target directory when every test starts eight
    /// (30 s was once not enough on a loaded CI machine). It returns as
    /// soon as the queue is empty, so the bound costs nothing when fast.
    pub async fn persisted(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while std::time::Instant::now() < deadline {
            // A failed read is not an empty queue: wait and read again.
            if let Ok(d) = self.p.queue.depth().await {
                if d.visible == 0 && d.not_visible == 0 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("queue did not drain: {:?}", self.p.queue.depth().await);
    }

    /// How many connections the store holds for `user`.
    pub async fn connections_of(&self, user: &str) -> usize {
        let user = chat_core::ids::UserId::parse(user).unwrap();
        self.p
            .chat
            .connections
            .for_users(&[user])
            .await
            .unwrap()
            .len()
    }

    /// Waits until `$disconnect` removed every connection of `user`.
    pub async fn wait_disconnected(&self, user: &str) {
        self.wait_connections(user, 0).await;
    }

    /// Waits until `user` has exactly `left` connections in the store.
    pub async fn wait_connections(&self, user: &str, left: usize) {
        for _ in 0..300 {
            if self.connections_of(user).await == left {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{user} does not have {left} connections: $disconnect did not run");
    }

    pub async fn history(&self, user: &str, room: &str, query: &str) -> Value {
        let (s, page) = self
            .rest(user)
            .get(&format!("/rooms/{room}/messages{query}"))
            .await
            .unwrap();
        assert_eq!(s, 200, "{page}");
        page
    }
}

pub fn seqs(page: &Value) -> Vec<u64> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect()
}

/// Waits for `f` to hold, polling; fails after two seconds.
pub async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[allow(dead_code)]
pub fn now(e: &Env) -> i64 {
    e.clock.now()
}
