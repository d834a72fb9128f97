//! # chat-testkit
//!
//! Real services on loopback for tests: `moto_server` (DynamoDB and SQS),
//! `redis-server`, a 3-master Redis Cluster of `redis-server`s (what
//! ElastiCache Serverless speaks), and `cargo lambda watch` (the functions as
//! separate processes behind the Lambda Invoke API), started by the tests
//! themselves so `cargo test` needs nothing but the binaries on PATH. A
//! missing binary fails the test with how
//! to install it: tests that need a real service never pass without it.
//!
//! Servers outlive nothing: each runs under a small `sh` watchdog that kills
//! it (its whole process group) as soon as the test process is gone, even
//! when the process was killed. Statics are never dropped, so this is what
//! keeps servers from piling up across runs.

use std::collections::HashSet;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Kills the server when the parent (this test process) exits, or exits
/// itself when the server died.
const WATCHDOG: &str = r#"
parent=$1; shift
setsid "$@" &
child=$!
stop() { kill -TERM -- "-$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null; }
trap 'stop; exit 0' TERM INT
while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.3; done
stop
wait "$child" 2>/dev/null
"#;

pub struct Server {
    pub port: u16,
    watchdog: Child,
    log: PathBuf,
}

impl Server {
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The file the server's output goes to.
    pub fn log_path(&self) -> &std::path::Path {
        &self.log
    }

    /// Everything the server printed so far (stdout and stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        std::fs::read_to_string(&self.log)
            .map(|s| s.lines().rev().take(20).collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // The watchdog forwards the signal to the server's process group.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.watchdog.id().to_string())
            .status();
        let _ = self.watchdog.wait();
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

pub fn free_port() -> u16 {
    // A port is free only until someone binds it: the tests of a binary run
    // in parallel, and the kernel may hand a released port to the next
    // `bind(0)`. Handing each port out once per process keeps two of them
    // from starting servers on one port (a Redis Cluster node once found a
    // plain node of another test on its port).
    static HANDED_OUT: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let handed_out = HANDED_OUT.get_or_init(Mutex::default);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let mut g = handed_out.lock().unwrap_or_else(|p| p.into_inner());
        if g.insert(port) {
            return port;
        }
    }
}

/// Starts `program` with `args(port)` under the watchdog and waits until it
/// accepts TCP connections. A missing binary fails the test with how to
/// install it: these tests never pass silently without their services.
pub fn spawn(
    program: &str,
    install: &str,
    port: Option<u16>,
    args: impl Fn(u16) -> Vec<String>,
) -> Server {
    spawn_with_env(program, install, port, &[], args)
}

/// [`spawn`] with `env` added to the server's environment (on top of this
/// process's).
pub fn spawn_with_env(
    program: &str,
    install: &str,
    port: Option<u16>,
    env: &[(String, String)],
    args: impl Fn(u16) -> Vec<String>,
) -> Server {
    assert!(
        on_path(program),
        "`{program}` is not on PATH; the adapter tests run against the real service. Install it with: {install}"
    );
    let dir = std::env::temp_dir().join("chat-adapters-tests");
    std::fs::create_dir_all(&dir).expect("a directory for server logs");
    let mut last = String::new();
    for _ in 0..3 {
        let port = port.unwrap_or_else(free_port);
        let log = dir.join(format!("{program}-{port}.log"));
        let out = std::fs::File::create(&log).expect("a log file");
        let err = out.try_clone().expect("a log file");
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("watchdog")
            .arg(std::process::id().to_string())
            .arg(program)
            .args(args(port))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {program}: {e}"));
        let mut server = Server {
            port,
            watchdog,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            if let Ok(Some(_)) = server.watchdog.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        last = server.log_tail();
        drop(server);
    }
    panic!("{program} did not start; last log lines:\n{last}");
}

pub fn moto() -> &'static Server {
    static MOTO: OnceLock<Server> = OnceLock::new();
    MOTO.get_or_init(|| {
        // moto's server through `moto_atomic.py`: each DynamoDB request
        // atomic, as in DynamoDB (see the script for why).
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/moto_atomic.py");
        spawn("python3", "pip install 'moto[server]'", None, |port| {
            vec![
                script.into(),
                "-H".into(),
                "127.0.0.1".into(),
                "-p".into(),
                port.to_string(),
            ]
        })
    })
}

/// A redis-server on `port` (or a free one), without persistence.
pub fn redis_server(port: Option<u16>) -> Server {
    spawn(
        "redis-server",
        "apt-get update && apt-get install -y redis-server",
        port,
        |port| {
            [
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ]
            .map(String::from)
            .to_vec()
        },
    )
}

/// The Redis shared by the tests of this binary.
pub fn redis() -> &'static Server {
    static REDIS: OnceLock<Server> = OnceLock::new();
    REDIS.get_or_init(|| redis_server(None))
}

/// A Redis Cluster of three masters (no replicas) on loopback, every slot
/// assigned. Dropping it stops every node.
pub struct Cluster {
    pub nodes: Vec<Server>,
}

impl Cluster {
    /// The URL of one node: the cluster client discovers the others.
    pub fn url(&self, scheme: &str) -> String {
        self.nodes[0].url(scheme)
    }

    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }
}

fn redis_cli(args: &[String]) -> std::process::Output {
    Command::new("redis-cli")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("redis-cli (installed with redis-server)")
}

/// Starts three `redis-server --cluster-enabled yes` on free ports (their
/// cluster bus ports free too, given with `--cluster-port`), joins them with
/// `redis-cli --cluster create` and waits until every node reports
/// `cluster_state:ok`. Each node runs under the watchdog like any server.
pub fn redis_cluster() -> Cluster {
    let dir = std::env::temp_dir().join("chat-adapters-tests");
    std::fs::create_dir_all(&dir).expect("a directory for cluster files");
    let nodes: Vec<Server> = (0..3).map(|_| cluster_node(&dir)).collect();
    let mut create: Vec<String> = vec!["--cluster".into(), "create".into()];
    create.extend(nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)));
    create.extend(["--cluster-replicas", "0", "--cluster-yes"].map(String::from));
    let out = redis_cli(&create);
    assert!(
        out.status.success(),
        "redis-cli --cluster create failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    for n in &nodes {
        loop {
            let info = redis_cli(&[
                "-p".into(),
                n.port.to_string(),
                "cluster".into(),
                "info".into(),
            ]);
            let info = String::from_utf8_lossy(&info.stdout);
            if info.lines().any(|l| l.trim() == "cluster_state:ok") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "node {} never reported cluster_state:ok:\n{info}",
                n.port
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Cluster { nodes }
}

/// One `--cluster-enabled` node, checked to be one: whatever answers on its
/// port must say `cluster_enabled:1` (another test's plain node that took
/// the port first would pass the TCP check and fail `--cluster create`).
fn cluster_node(dir: &std::path::Path) -> Server {
    let mut seen = String::new();
    for _ in 0..3 {
        let node = spawn(
            "redis-server",
            "apt-get update && apt-get install -y redis-server",
            None,
            |port| {
                // A node reads its state from this file: a stale one from
                // an earlier run on the same port would rejoin an old cluster.
                let conf = dir.join(format!("nodes-{port}.conf"));
                let _ = std::fs::remove_file(&conf);
                vec![
                    "--port".into(),
                    port.to_string(),
                    "--bind".into(),
                    "127.0.0.1".into(),
                    "--cluster-enabled".into(),
                    "yes".into(),
                    "--cluster-port".into(),
                    free_port().to_string(),
                    "--cluster-config-file".into(),
                    conf.display().to_string(),
                    "--save".into(),
                    String::new(),
                    "--appendonly".into(),
                    "no".into(),
                ]
            },
        );
        let info = redis_cli(&[
            "-p".into(),
            node.port.to_string(),
            "info".into(),
            "cluster".into(),
        ]);
        seen = String::from_utf8_lossy(&info.stdout).into_owned();
        if seen.lines().any(|l| l.trim() == "cluster_enabled:1") {
            return node;
        }
    }
    panic!("no cluster node started; the last port answered:\n{seen}");
}

/// The Redis Cluster shared by the tests of this binary.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(redis_cluster)
}

/// Stops a Redis the way the fault tests need: `SHUTDOWN NOSAVE`, then checks
/// it is really down.
pub fn shutdown_redis(port: u16) {
    let _ = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "shutdown", "nosave"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("redis-cli (installed with redis-server)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "redis on {port} did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `cargo lambda watch` serving the Lambda Invoke API on a free loopback
/// port, from the workspace this test was built in; every function it runs
/// inherits `env` (on top of this process's environment). Give the server's
/// `url("http")` to the local platform as its `--lambda-endpoint`.
///
/// Each function is started on its first invocation with `cargo run --bin
/// NAME` (dev profile, `CARGO_TARGET_DIR` inherited): build the binaries
/// first (`cargo build --bins`), or that first invocation compiles it and
/// takes minutes. `--ignore-changes`: a test never rebuilds a function
/// behind another test's back.
pub fn cargo_lambda_watch(env: &[(String, String)]) -> Server {
    // `cargo` runs `cargo-lambda lambda ARGS`; calling it that way directly
    // lets the watchdog stop the very process (and its process group).
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit/ lives in the workspace")
        .to_path_buf();
    let manifest = workspace.join("Cargo.toml").display().to_string();
    spawn_with_env(
        "cargo-lambda",
        "pip install cargo-lambda (then `pyenv rehash` where pyenv is used)",
        None,
        env,
        |port| {
            [
                "lambda",
                "watch",
                "--ignore-changes",
                "--manifest-path",
                &manifest,
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ]
            .map(String::from)
            .to_vec()
        },
    )
}
