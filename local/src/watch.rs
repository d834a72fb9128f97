//! The function **binaries** as the template deploys them (template mode
//! with `--functions watch`): one `cargo lambda watch` per function, each
//! with that function's own environment, as Lambda gives each function its
//! own.
//!
//! Why one watch per function: a watch gives every function it runs the
//! same environment (its own, plus `--env-var`/`--env-file`); the only
//! per-function environment it knows is `[package.metadata.lambda]` in the
//! crates' manifests, which a generated template cannot write. One watch
//! per function costs a process each (about 0.4 s to listen, here) and
//! keeps the binaries built, started and rebuilt exactly as
//! `scripts/lambda-local.sh` runs them.
//!
//! Each function's environment ([`function_env`]) is the template's,
//! resolved to this machine ([`crate::template::Stack::environment`]), with
//! only what has no local twin mapped: the `@connections` endpoint (the
//! stage's execute-api URL → this twin's), Cognito's key set (→ the local
//! development secret, as the HTTP API's JWT authorizer is mapped to the
//! local verifier; the issuer and audience are kept and checked) and the ElastiCache endpoint (→ the local cache when
//! one is configured, else none: the cache is optional). On top, what
//! Lambda itself sets: the region and the role's credentials, here an
//! access key id that is the function's name, which the AWS proxy
//! ([`crate::aws_proxy`]) and the `@connections` twin read to enforce that
//! function's role; `AWS_ENDPOINT_URL` points the SDK at the proxy.
//!
//! A function whose cold start fails (a variable its binary needs is
//! missing) exits; watch then never answers its invocations, so its log is
//! read for the exit ([`ExitWatch`]) and every invocation fails at once
//! with `Runtime.ExitError`, as in Lambda.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chat_core::config::{vars, RedisConfig};

use crate::iam::lock;
use crate::template::{Locals, Stack, TemplateError};

/// A function's host process, started: where its Lambda Invoke API
/// listens, its log, and whatever stops it when dropped.
pub struct Launched {
    pub endpoint: String,
    pub log: PathBuf,
    pub handle: Box<dyn Send + Sync>,
}

/// Starts `cargo lambda watch` for one function (`name`) with `env` as its
/// whole configuration.
pub type Launcher =
    Arc<dyn Fn(&str, &[(String, String)]) -> std::io::Result<Launched> + Send + Sync>;

/// What this machine gives every function in place of what has no local
/// twin.
pub struct LocalSide<'a> {
    /// This twin's `@connections` base (`http://host:port/stage`).
    pub connections_endpoint: String,
    /// The AWS proxy's URL.
    pub aws_endpoint: String,
    /// The development secret tokens are signed with.
    pub secret: &'a str,
    /// The local cache, if any.
    pub redis: Option<&'a RedisConfig>,
}

/// The access key id function `name`'s process signs with.
pub fn access_key(name: &str) -> String {
    name.to_owned()
}

/// Function `name`'s environment as the template deploys it, on this
/// machine (see the module docs for what is mapped).
pub fn function_env(
    stack: &Stack,
    name: &str,
    locals: &Locals,
    local: &LocalSide,
) -> Result<Vec<(String, String)>, TemplateError> {
    let mut env: BTreeMap<String, String> = stack.environment(name, locals)?;
    if env.get(vars::WS_ENDPOINT) == Some(&stack.connections_endpoint(locals)) {
        env.insert(vars::WS_ENDPOINT.into(), local.connections_endpoint.clone());
    }
    if env.get(vars::AUTH_MODE).map(String::as_str) == Some("jwks") {
        // The issuer and audience stay: the binary checks them as it does
        // in AWS, and chat-local's tokens carry the template's.
        for v in [vars::JWKS_URL, vars::JWT_TOKEN_USE] {
            env.remove(v);
        }
        env.insert(vars::AUTH_MODE.into(), "hs256".into());
        env.insert(vars::JWT_SECRET.into(), local.secret.into());
    }
    if env.contains_key(vars::REDIS_URL) {
        let timeout = chat_core::deploy::settings().redis_timeout_ms.env.clone();
        match local.redis {
            Some(r) => {
                env.insert(vars::REDIS_URL.into(), r.url.expose().to_owned());
                env.insert(vars::REDIS_MODE.into(), r.mode.as_str().to_owned());
                env.insert(timeout, r.timeout_ms.to_string());
            }
            None => {
                env.remove(vars::REDIS_URL);
                env.remove(vars::REDIS_MODE);
            }
        }
    }
    // What Lambda sets for every function: its region and its role's
    // credentials.
    env.insert("AWS_REGION".into(), stack.region.clone());
    env.insert("AWS_DEFAULT_REGION".into(), stack.region.clone());
    env.insert("AWS_ACCESS_KEY_ID".into(), access_key(name));
    env.insert("AWS_SECRET_ACCESS_KEY".into(), "local".into());
    env.insert(vars::AWS_ENDPOINT_URL.into(), local.aws_endpoint.clone());
    Ok(env.into_iter().collect())
}

/// Whether a function's process exited, read from its watch's log.
pub struct ExitWatch {
    log: PathBuf,
    state: Mutex<ExitState>,
}

#[derive(Default)]
struct ExitState {
    offset: u64,
    last_error: Option<String>,
    exited: Option<String>,
}

impl ExitWatch {
    pub fn new(log: PathBuf) -> Self {
        Self {
            log,
            state: Mutex::default(),
        }
    }

    /// `Some(why)` once the function's process has exited (watch logs
    /// `command exited`); `why` is the last `Error:` line it printed.
    pub fn exited(&self) -> Option<String> {
        let mut s = lock(&self.state);
        if s.exited.is_none() {
            let mut text = String::new();
            let read = std::fs::File::open(&self.log).and_then(|mut f| {
                f.seek(SeekFrom::Start(s.offset))?;
                f.read_to_string(&mut text)
            });
            if read.is_ok() {
                // Only whole lines: the rest is read next time.
                let upto = text.rfind('\n').map_or(0, |i| i + 1);
                for line in text[..upto].lines() {
                    if let Some(e) = line.trim().strip_prefix("Error:") {
                        s.last_error = Some(e.trim().to_owned());
                    }
                    if line.contains("command exited") {
                        s.exited = Some(
                            s.last_error
                                .clone()
                                .unwrap_or_else(|| line.trim().to_owned()),
                        );
                    }
                }
                s.offset += upto as u64;
            }
        }
        s.exited.clone()
    }
}

/// Starts `cargo lambda watch` for function `name` of the workspace at
/// `manifest` on a free loopback port, with `env` as the function's whole
/// configuration: the `CHAT_*` and `AWS_*` variables of this process are
/// not passed on, so a variable the template lacks is missing, as in
/// Lambda. Its output goes to `<log_dir>/<name>.log`. Watch stays in this
/// process's group, so stopping the group (Ctrl-C in a terminal, a
/// script's `kill -- -PGID`) stops it too; dropping the handle stops it
/// (`SIGTERM`, on which watch stops its function first).
pub fn cargo_lambda_watch(
    manifest: &Path,
    log_dir: &Path,
    name: &str,
    env: &[(String, String)],
) -> std::io::Result<Launched> {
    std::fs::create_dir_all(log_dir)?;
    let log = log_dir.join(format!("{name}.log"));
    let out = std::fs::File::create(&log)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut cmd = Command::new("cargo");
    cmd.args(["lambda", "watch", "--manifest-path"])
        .arg(manifest)
        .args(["-A", "127.0.0.1", "-P", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    for (k, _) in std::env::vars() {
        if k.starts_with("CHAT_") || k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    let child = cmd.spawn()?;
    let watch = Watch(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(std::io::Error::other(format!(
                "cargo lambda watch for {name} did not listen on {port}; see {}",
                log.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(Launched {
        endpoint: format!("http://127.0.0.1:{port}"),
        log,
        handle: Box::new(watch),
    })
}

/// Where [`workspace_launcher`]'s functions log.
pub fn log_dir() -> PathBuf {
    std::env::temp_dir().join("chat-local-functions")
}

/// [`cargo_lambda_watch`] for the functions of the workspace `chat-local`
/// was built in, rebuilding a function when its code changes.
pub fn workspace_launcher() -> Launcher {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(|w| w.join("Cargo.toml"))
        .unwrap_or_else(|| PathBuf::from("Cargo.toml"));
    Arc::new(move |name, env| cargo_lambda_watch(&manifest, &log_dir(), name, env))
}

/// A running watch, terminated when dropped (it stops its function).
struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exit_is_seen_in_the_log_with_the_error_the_binary_printed() {
        let dir = std::env::temp_dir().join(format!("exitwatch-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("f.log");
        std::fs::write(&log, " INFO starting lambda function instance\n").unwrap();
        let w = ExitWatch::new(log.clone());
        assert_eq!(w.exited(), None);
        let mut text = std::fs::read_to_string(&log).unwrap();
        text.push_str("Error: Missing(\"CHAT_TABLE_NAME\")\nERROR command exited code=1\n");
        std::fs::write(&log, text).unwrap();
        assert_eq!(w.exited().as_deref(), Some("Missing(\"CHAT_TABLE_NAME\")"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
