//! `chat-local`: runs the whole chat platform on this machine.
//!
//! ```text
//! chat-local [serve] [options]     start the platform (default)
//! chat-local token <user> [--name N] [--ttl-secs N]
//!                                  print a development token for <user>
//! ```

use std::process::ExitCode;
use std::time::Duration;

use chat_local::{mint_token, AwsBackend, Backend, Options, DEFAULT_SECRET};

const HELP: &str = "\
chat-local: the whole chat platform on one machine (data lives in memory)

USAGE:
  chat-local [serve] [OPTIONS]            start the platform
  chat-local token <USER> [--name NAME] [--ttl-secs N]
                                          print a development token for USER

SERVE OPTIONS:
  --host IP                   address to listen on            [127.0.0.1]
  --port N                    port (0 picks a free one)       [8080]
  --stage NAME                API Gateway stage (WebSocket path) [local]
  --backend memory|aws        memory (default), or the real adapters: DynamoDB,
                              SQS and the Redis cache, configured like the
                              Lambdas (CHAT_TABLE_NAME, CHAT_QUEUE_URL,
                              CHAT_REDIS_URL, AWS_ENDPOINT_URL for emulators)
  --create-resources          with --backend aws: create the table, the queue and
                              its DLQ first (CHAT_TABLE_NAME defaults to chat-local)
  --lambda-endpoint URL       invoke the functions through `cargo lambda watch`
                              (e.g. http://127.0.0.1:9000) instead of in-process;
                              needs --backend aws so they share state;
                              scripts/lambda-local.sh starts both, with the
                              environment the functions need
  --template PATH             run the stack a synthesized CloudFormation template
                              describes (SKIP_BUNDLING=1 npx cdk synth, then
                              cdk.out/<Stack>.template.json): its stage, routes,
                              authorizers, each function's timeout, environment
                              and IAM policies (every call they do not allow
                              fails as AccessDenied; GET /dev/denied lists them),
                              the event source and queue settings, the table.
                              Every other option overrides the template
  --functions in-process|watch
                              with --template and --backend aws, `watch` runs
                              each function's binary under its own `cargo
                              lambda watch` with the template's environment
                              for it, and enforces its role on its real AWS
                              and @connections calls [in-process]; logs in
                              $TMPDIR/chat-local-functions/<function>.log
  --batch-size N              SQS event source batch size     [10]
  --batch-window-ms N         SQS event source batching window [0]
  --visibility-timeout-secs N retry delay of failed records   [30]
  --max-receive-count N       receives before the DLQ          [5]
  --idle-timeout-secs N       WebSocket idle timeout           [600]
  --max-connection-secs N     WebSocket maximum duration       [7200]
  --max-message-bytes N       WebSocket message limit          [131072]

ENVIRONMENT:
  CHAT_JWT_SECRET             secret of development tokens (HS256)
  CHAT_* limits               see docs/ARCHITECTURE.md (CHAT_MAX_BODY_BYTES, …)
  RUST_LOG                    log level [info]
";

fn value<T: std::str::FromStr>(
    args: &mut impl Iterator<Item = String>,
    flag: &str,
) -> Result<T, String> {
    let raw = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
    raw.parse()
        .map_err(|_| format!("{flag}: invalid value {raw:?}"))
}

fn secret() -> String {
    std::env::var("CHAT_JWT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_SECRET.to_owned())
}

fn token(mut args: impl Iterator<Item = String>) -> Result<(), String> {
    let user = args
        .next()
        .ok_or("token needs a user name, e.g. `chat-local token alice`")?;
    let (mut name, mut ttl) = (None, 86_400i64);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--name" => name = Some(value::<String>(&mut args, "--name")?),
            "--ttl-secs" => ttl = value(&mut args, "--ttl-secs")?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    let t = mint_token(&secret(), &user, name.as_deref(), ttl)
        .ok_or("user names are 1-128 characters of [A-Za-z0-9-_.@]")?;
    println!("{t}");
    Ok(())
}

fn options(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let src = chat_core::config::Env;
    let limits = chat_core::config::Limits::from_source(&src).map_err(|e| e.to_string())?;
    let mut o = Options {
        secret: secret(),
        limits,
        ..Options::default()
    };
    let (mut backend, mut create) = ("memory".to_owned(), false);
    let mut functions = "in-process".to_owned();
    // The template first, wherever it is given: every other option
    // overrides what it says.
    let mut args = args;
    let mut rest = Vec::new();
    while let Some(a) = args.next() {
        if a == "--template" {
            let path: String = value(&mut args, "--template")?;
            let stack = chat_local::template::Stack::load(&path).map_err(|e| e.to_string())?;
            chat_local::apply_template(&mut o, stack);
        } else {
            rest.push(a);
        }
    }
    let mut args = rest.into_iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--backend" => backend = value(&mut args, "--backend")?,
            "--create-resources" => create = true,
            "--functions" => functions = value(&mut args, "--functions")?,
            "--host" => o.host = value(&mut args, "--host")?,
            "--port" => o.port = value(&mut args, "--port")?,
            "--stage" => o.stage = value(&mut args, "--stage")?,
            "--lambda-endpoint" => o.lambda_endpoint = Some(value(&mut args, "--lambda-endpoint")?),
            "--batch-size" => o.queue.batch_size = value(&mut args, "--batch-size")?,
            "--batch-window-ms" => {
                o.queue.batch_window = Duration::from_millis(value(&mut args, "--batch-window-ms")?)
            }
            "--visibility-timeout-secs" => {
                o.queue.visibility_timeout =
                    Duration::from_secs(value(&mut args, "--visibility-timeout-secs")?)
            }
            "--max-receive-count" => {
                o.queue.max_receive_count = value(&mut args, "--max-receive-count")?
            }
            "--idle-timeout-secs" => {
                o.gateway.idle_timeout =
                    Duration::from_secs(value(&mut args, "--idle-timeout-secs")?)
            }
            "--max-connection-secs" => {
                o.gateway.max_connection =
                    Duration::from_secs(value(&mut args, "--max-connection-secs")?)
            }
            "--max-message-bytes" => {
                o.gateway.max_message_bytes = value(&mut args, "--max-message-bytes")?
            }
            other => return Err(format!("unknown option {other} (see --help)")),
        }
    }
    match backend.as_str() {
        "memory" => {}
        "aws" => {
            struct WithDefaultTable;
            impl chat_core::config::Source for WithDefaultTable {
                fn get(&self, name: &str) -> Option<String> {
                    chat_core::config::Env.get(name).or_else(|| {
                        (name == chat_core::config::vars::TABLE_NAME)
                            .then(|| "chat-local".to_owned())
                    })
                }
            }
            let config = if create {
                chat_core::config::AwsConfig::from_source(&WithDefaultTable)
            } else {
                chat_core::config::AwsConfig::from_source(&src)
            }
            .map_err(|e| e.to_string())?;
            o.backend = Backend::Aws(AwsBackend {
                config,
                create_resources: create,
            });
        }
        other => return Err(format!("--backend: expected memory or aws, got {other:?}")),
    }
    match functions.as_str() {
        "in-process" => {}
        "watch" if o.template.is_none() || matches!(o.backend, Backend::Memory) => {
            return Err("--functions watch needs --template and --backend aws".into())
        }
        "watch" => o.watch = Some(chat_local::watch::workspace_launcher()),
        other => {
            return Err(format!(
                "--functions: expected in-process or watch, got {other:?}"
            ))
        }
    }
    if o.lambda_endpoint.is_some() && matches!(o.backend, Backend::Memory) {
        return Err("--lambda-endpoint needs --backend aws: functions in other processes cannot share this one's memory".into());
    }
    if o.stage.is_empty()
        || !o
            .stage
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("--stage must be letters, digits, - or _".into());
    }
    Ok(o)
}

async fn serve(opts: Options) -> Result<(), String> {
    let remote = opts.lambda_endpoint.clone();
    let template = opts.template.is_some();
    let under_watch = opts.watch.is_some();
    let memory = matches!(opts.backend, Backend::Memory);
    let running = chat_local::start(opts)
        .await
        .map_err(|e| format!("cannot start: {e}"))?;
    let http = running.http_url();
    // The first line is what scripts wait for.
    println!("chat-local listening on {http}");
    println!("  web app       {http}/");
    println!("  WebSocket     {}?token=<jwt>", running.ws_url());
    println!("  REST          {http}   (Authorization: Bearer <jwt>)");
    println!(
        "  @connections  {}/@connections/{{connectionId}}",
        running.connections_endpoint()
    );
    println!("  queue depth   {http}/dev/queue");
    if template {
        println!("  IAM denials   {http}/dev/denied   (each also logged as AccessDenied)");
        if under_watch {
            println!(
                "  functions     each under its own cargo lambda watch, logs in {}",
                chat_local::watch::log_dir().display()
            );
        } else if remote.is_some() {
            println!(
                "  (IAM is enforced on in-process functions only: not under --lambda-endpoint)"
            );
        }
    }
    println!("  tokens        chat-local token alice    or    POST {http}/dev/token {{\"userId\":\"alice\"}}");
    match remote {
        None if under_watch => {}
        Some(url) => println!("  functions     invoked through the Lambda Invoke API at {url}"),
        None if memory => {
            println!("  functions     in-process; data lives in memory and is gone when this stops")
        }
        None => println!("  functions     in-process, on DynamoDB, SQS and Redis"),
    }
    // SIGTERM too: stopping drops the function hosts (--functions watch).
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| e.to_string())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    println!("stopping");
    running.stop().await;
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    let result = match args.peek().map(String::as_str) {
        Some("-h" | "--help" | "help") => {
            print!("{HELP}");
            Ok(())
        }
        Some("token") => {
            args.next();
            token(args)
        }
        Some("serve") => {
            args.next();
            run_server(args)
        }
        _ => run_server(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat-local: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_server(args: impl Iterator<Item = String>) -> Result<(), String> {
    let opts = options(args)?;
    chat_lambda::telemetry::init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(serve(opts))
}
