//! `chat-local`: runs the whole chat platform on this machine.
//!
//! ```text
//! chat-local [serve] [OPTIONS]     start the platform (default)
//! chat-local token <USER> [--name N] [--ttl-secs N]
//!                                  print a development token for USER
//! ```
//!
//! `chat-local --help` (and `chat-local token --help`) list every option.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use chat_local::template::Locals;
use chat_local::{mint_token_by, AwsBackend, Backend, Options, TokenIssuer, DEFAULT_SECRET};

const ENVIRONMENT: &str = "\
Environment:
  CHAT_JWT_SECRET   secret of development tokens (HS256)
  CHAT_* limits     see docs/ARCHITECTURE.md (CHAT_MAX_BODY_BYTES, …)
  CHAT_TABLE_NAME, CHAT_QUEUE_URL, CHAT_DLQ_URL, CHAT_BUCKET_NAME, CHAT_REDIS_URL,
  CHAT_REDIS_MODE,
  AWS_ENDPOINT_URL  the aws backend's resources, as the Lambdas read them
  RUST_LOG          log level [info]";

/// The whole chat platform on one machine: an API Gateway WebSocket twin, an
/// SQS event-source twin, the REST API and the web app, running the very
/// handlers the Lambdas run (data lives in memory unless --backend aws).
#[derive(Parser, Debug)]
#[command(
    name = "chat-local",
    version,
    args_conflicts_with_subcommands = true,
    after_help = ENVIRONMENT
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// `chat-local [OPTIONS]` is `chat-local serve [OPTIONS]`.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the platform (the default when no subcommand is given).
    #[command(after_help = ENVIRONMENT)]
    Serve(ServeArgs),
    /// Print a development token for USER, signed with CHAT_JWT_SECRET.
    Token(TokenArgs),
    /// Print a completion script for a shell, e.g.
    /// `chat-local completions bash > /etc/bash_completion.d/chat-local`.
    Completions { shell: clap_complete::Shell },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FunctionsKind {
    /// The handlers in this process.
    InProcess,
    /// Each function binary under its own `cargo lambda watch`.
    Watch,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BackendKind {
    /// Everything in this process's memory.
    Memory,
    /// The real adapters: DynamoDB, SQS and the Redis cache, configured like
    /// the Lambdas (CHAT_TABLE_NAME, CHAT_QUEUE_URL, CHAT_REDIS_URL,
    /// AWS_ENDPOINT_URL for emulators).
    Aws,
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port (0 picks a free one).
    #[arg(long, value_name = "N", default_value_t = 8080)]
    port: u16,
    /// API Gateway stage (the WebSocket path) [default: local, or the
    /// template's stage].
    #[arg(long, value_name = "NAME", value_parser = stage_name)]
    stage: Option<String>,
    /// Which adapters back the platform.
    #[arg(long, value_enum, default_value_t = BackendKind::Memory)]
    backend: BackendKind,
    /// With --backend aws: create the table, the queue and its DLQ first
    /// (CHAT_TABLE_NAME defaults to chat-local).
    #[arg(long)]
    create_resources: bool,
    /// Invoke the functions through `cargo lambda watch` at URL (e.g.
    /// http://127.0.0.1:9000) instead of in-process; needs --backend aws so
    /// they share state (scripts/lambda-local.sh starts both, with the
    /// environment the functions need).
    #[arg(long, value_name = "URL", conflicts_with = "functions")]
    lambda_endpoint: Option<String>,
    #[command(flatten)]
    template: TemplateArgs,
    /// With --template and --backend aws, `watch` runs each function's
    /// binary under its own `cargo lambda watch` with the template's
    /// environment for it, and enforces its role on its real AWS and
    /// @connections calls; logs in $TMPDIR/chat-local-functions/<function>.log.
    #[arg(long, value_enum, default_value_t = FunctionsKind::InProcess)]
    functions: FunctionsKind,
    /// Log lines as text (coloured only on a terminal) or JSON, as in Lambda.
    #[arg(
        long,
        value_name = "FORMAT",
        env = "CHAT_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: chat_lambda::telemetry::LogFormat,
    /// SQS event source batch size [default: 10, or the template's].
    #[arg(long, value_name = "N")]
    batch_size: Option<usize>,
    /// SQS event source batching window in milliseconds [default: 0, or the
    /// template's].
    #[arg(long, value_name = "N")]
    batch_window_ms: Option<u64>,
    /// Retry delay of failed records, in seconds [default: 30, or the
    /// template's queue's].
    #[arg(long, value_name = "N")]
    visibility_timeout_secs: Option<u64>,
    /// Receives before a record moves to the DLQ [default: 5, or the
    /// template's redrive policy's].
    #[arg(long, value_name = "N")]
    max_receive_count: Option<u32>,
    /// WebSocket idle timeout, in seconds (API Gateway's: 10 min).
    #[arg(long, value_name = "N", default_value_t = 600)]
    idle_timeout_secs: u64,
    /// WebSocket maximum connection duration, in seconds (API Gateway's: 2 h).
    #[arg(long, value_name = "N", default_value_t = 7200)]
    max_connection_secs: u64,
    /// Largest WebSocket message, in bytes (API Gateway's: 128 KB).
    #[arg(long, value_name = "N", default_value_t = 131_072)]
    max_message_bytes: usize,
    /// Lifetime of the ID tokens the hosted UI twin issues at
    /// /oauth2/token, in seconds (the stack's app client: 1 h). Short
    /// lifetimes exercise the web app's refresh.
    #[arg(long, value_name = "N", default_value_t = chat_local::oauth::DEFAULT_TOKEN_TTL_SECS, value_parser = clap::value_parser!(i64).range(1..=86_400))]
    token_ttl_secs: i64,
}

/// Where the stack to run comes from.
#[derive(Args, Debug)]
struct TemplateArgs {
    /// Run the stack a synthesized CloudFormation template describes
    /// (`SKIP_BUNDLING=1 npx cdk synth`, then cdk.out/<Stack>.template.json):
    /// its stage, routes, authorizers (issuer and audience), CORS,
    /// throttling, each function's timeout, environment and IAM policies
    /// (every call they do not allow fails as AccessDenied; GET /dev/denied
    /// lists them), the event source and queue settings, the table. Every
    /// other option overrides the template.
    #[arg(long, value_name = "PATH", conflicts_with = "stack")]
    template: Option<PathBuf>,
    /// As --template, synthesizing the CDK app first (`SKIP_BUNDLING=1 npx
    /// cdk synth -q -o <tmp>`, in --cdk-app) and running its stack NAME
    /// (e.g. Chat-dev).
    #[arg(long, value_name = "NAME")]
    stack: Option<String>,
    /// The CDK app's directory for --stack [default: the nearest directory
    /// with a cdk.json, from the current one up].
    #[arg(long, value_name = "DIR", requires = "stack")]
    cdk_app: Option<PathBuf>,
}

impl TemplateArgs {
    fn load(&self) -> Result<Option<chat_local::template::Stack>, String> {
        use chat_local::template;
        if let Some(path) = &self.template {
            return template::Stack::load(&path.to_string_lossy())
                .map(Some)
                .map_err(|e| e.to_string());
        }
        let Some(name) = &self.stack else {
            return Ok(None);
        };
        let dir = template::cdk_app_dir(self.cdk_app.as_deref()).map_err(|e| e.to_string())?;
        template::synth(&dir, name)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

#[derive(Args, Debug)]
struct TokenArgs {
    /// The user id (1-128 characters of [A-Za-z0-9-_.@]).
    user: String,
    /// Display name claim.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Lifetime of the token, in seconds.
    #[arg(long, value_name = "N", default_value_t = 86_400)]
    ttl_secs: i64,
    /// With --template or --stack: the token carries the issuer and audience
    /// that stack's HTTP API JWT authorizer accepts.
    #[command(flatten)]
    template: TemplateArgs,
}

fn stage_name(s: &str) -> Result<String, String> {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(s.to_owned())
    } else {
        Err("a stage is letters, digits, - or _".into())
    }
}

fn secret() -> String {
    std::env::var("CHAT_JWT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_SECRET.to_owned())
}

fn token(args: TokenArgs) -> Result<(), String> {
    let issuer = match args.template.load()? {
        Some(stack) => TokenIssuer::of(&stack, &Locals::default()).map_err(|e| e.to_string())?,
        None => TokenIssuer::default(),
    };
    let t = mint_token_by(
        &issuer,
        &secret(),
        &args.user,
        args.name.as_deref(),
        args.ttl_secs,
    )
    .ok_or("user names are 1-128 characters of [A-Za-z0-9-_.@]")?;
    println!("{t}");
    Ok(())
}

fn options(a: ServeArgs) -> Result<Options, String> {
    let src = chat_core::config::Env;
    let limits = chat_core::config::Limits::from_source(&src).map_err(|e| e.to_string())?;
    let mut o = Options {
        secret: secret(),
        limits,
        ..Options::default()
    };
    // The template first: every other option overrides what it says.
    if let Some(stack) = a.template.load()? {
        chat_local::apply_template(&mut o, stack);
    }
    o.host = a.host;
    o.port = a.port;
    if let Some(stage) = a.stage {
        o.stage = stage;
    }
    o.lambda_endpoint = a.lambda_endpoint;
    if let Some(n) = a.batch_size {
        o.queue.batch_size = n;
    }
    if let Some(ms) = a.batch_window_ms {
        o.queue.batch_window = Duration::from_millis(ms);
    }
    if let Some(s) = a.visibility_timeout_secs {
        o.queue.visibility_timeout = Duration::from_secs(s);
    }
    if let Some(n) = a.max_receive_count {
        o.queue.max_receive_count = n;
    }
    o.gateway.idle_timeout = Duration::from_secs(a.idle_timeout_secs);
    o.gateway.max_connection = Duration::from_secs(a.max_connection_secs);
    o.gateway.max_message_bytes = a.max_message_bytes;
    o.token_ttl_secs = a.token_ttl_secs;
    if a.backend == BackendKind::Aws {
        struct WithDefaultTable;
        impl chat_core::config::Source for WithDefaultTable {
            fn get(&self, name: &str) -> Option<String> {
                chat_core::config::Env.get(name).or_else(|| {
                    (name == chat_core::config::vars::TABLE_NAME).then(|| "chat-local".to_owned())
                })
            }
        }
        let config = if a.create_resources {
            chat_core::config::AwsConfig::from_source(&WithDefaultTable)
        } else {
            chat_core::config::AwsConfig::from_source(&src)
        }
        .map_err(|e| e.to_string())?;
        o.backend = Backend::Aws(AwsBackend {
            config,
            create_resources: a.create_resources,
        });
    }
    if o.lambda_endpoint.is_some() && matches!(o.backend, Backend::Memory) {
        return Err("--lambda-endpoint needs --backend aws: functions in other processes cannot share this one's memory".into());
    }
    if a.functions == FunctionsKind::Watch {
        if o.template.is_none() || matches!(o.backend, Backend::Memory) {
            return Err("--functions watch needs --template (or --stack) and --backend aws".into());
        }
        o.watch = Some(chat_local::watch::workspace_launcher());
    }
    Ok(o)
}

async fn serve(opts: Options) -> Result<(), String> {
    let remote = opts.lambda_endpoint.clone();
    let under_watch = opts.watch.is_some();
    let template = opts.template.is_some();
    // Each function as the template deploys it: its timeout is enforced, its
    // memory size is not (it cannot be, in one process).
    let deployed: Vec<String> = opts
        .template
        .iter()
        .flat_map(|t| t.functions.values())
        .map(|f| format!("{} {} MB {} s", f.name, f.memory_mb, f.timeout.as_secs()))
        .collect();
    let memory = matches!(opts.backend, Backend::Memory);
    let running = chat_local::start(opts)
        .await
        .map_err(|e| format!("cannot start: {e}"))?;
    let http = running.http_url();
    // The first line is what scripts wait for.
    println!("chat-local listening on {http}");
    println!("  web app       {http}/");
    println!("  sign-in       {http}/oauth2/authorize   (the Cognito hosted UI's endpoints; app config {http}/config.json)");
    println!("  WebSocket     {}?token=<jwt>", running.ws_url());
    println!("  REST          {http}   (Authorization: Bearer <jwt>)");
    println!(
        "  @connections  {}/@connections/{{connectionId}}",
        running.connections_endpoint()
    );
    println!("  queue depth   {http}/dev/queue");
    if template {
        println!("  deployed as   {}", deployed.join(", "));
        println!("                (memory, timeout: timeouts enforced, memory sizes not)");
        println!("  IAM denials   {http}/dev/denied   (each also logged as AccessDenied)");
        if under_watch {
            println!(
                "  functions     each under its own cargo lambda watch, logs in {}",
                chat_local::watch::log_dir().display()
            );
        } else if remote.is_some() {
            println!(
                "  (IAM is enforced on in-process functions and with --functions watch: not under --lambda-endpoint)"
            );
        }
    }
    if template {
        // The tokens must carry the issuer and audience the template's
        // authorizers check.
        println!("  tokens        POST {http}/dev/token {{\"userId\":\"alice\"}}    or    chat-local token alice --template/--stack (the same)");
    } else {
        println!("  tokens        chat-local token alice    or    POST {http}/dev/token {{\"userId\":\"alice\"}}");
    }
    match remote {
        Some(url) => println!("  functions     invoked through the Lambda Invoke API at {url}"),
        None if under_watch => {}
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
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Token(t)) => token(t),
        Some(Command::Completions { shell }) => completions(shell),
        Some(Command::Serve(s)) => run_server(s),
        None => run_server(cli.serve),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat-local: {e}");
            ExitCode::from(2)
        }
    }
}

fn completions(shell: clap_complete::Shell) -> Result<(), String> {
    use clap::CommandFactory;
    use std::io::Write;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "chat-local", &mut script);
    std::io::stdout()
        .write_all(&script)
        .map_err(|e| format!("could not write the completion script: {e}"))
}

fn run_server(args: ServeArgs) -> Result<(), String> {
    let log_format = args.log_format;
    let opts = options(args)?;
    chat_lambda::telemetry::init_with(log_format);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(serve(opts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default_and_token_takes_its_own_options() {
        let c = Cli::try_parse_from(["chat-local", "--port", "0", "--stage", "dev"]).unwrap();
        assert!(c.command.is_none());
        assert_eq!((c.serve.port, c.serve.stage.as_deref()), (0, Some("dev")));
        let c = Cli::try_parse_from(["chat-local", "serve", "--backend", "aws"]).unwrap();
        assert!(matches!(c.command, Some(Command::Serve(s)) if s.backend == BackendKind::Aws));
        let c = Cli::try_parse_from(["chat-local", "token", "alice", "--ttl-secs", "60"]).unwrap();
        assert!(
            matches!(c.command, Some(Command::Token(t)) if t.user == "alice" && t.ttl_secs == 60)
        );
        let c =
            Cli::try_parse_from(["chat-local", "--stack", "Chat-dev", "--cdk-app", "/x"]).unwrap();
        assert_eq!(c.serve.template.stack.as_deref(), Some("Chat-dev"));
        let c = Cli::try_parse_from(["chat-local", "token", "bob", "--stack", "Chat-dev"]).unwrap();
        assert!(
            matches!(c.command, Some(Command::Token(t)) if t.template.stack.as_deref() == Some("Chat-dev"))
        );
        // One source of the stack; --cdk-app only with --stack.
        assert!(
            Cli::try_parse_from(["chat-local", "--stack", "A", "--template", "t.json"]).is_err()
        );
        assert!(Cli::try_parse_from(["chat-local", "--cdk-app", "/x"]).is_err());
        assert!(Cli::try_parse_from(["chat-local", "--stage", "a/b"]).is_err());
        assert!(Cli::try_parse_from(["chat-local", "--nope"]).is_err());
    }

    #[test]
    fn the_defaults_are_the_platforms() {
        let c = Cli::try_parse_from(["chat-local"]).unwrap();
        let o = options(c.serve).unwrap();
        let d = Options::default();
        assert_eq!((o.host, o.port, o.stage.as_str()), (d.host, 8080, "local"));
        let g = chat_local::gateway::GatewayLimits::default();
        assert_eq!(o.gateway.idle_timeout, g.idle_timeout);
        assert_eq!(o.gateway.max_connection, g.max_connection);
        assert_eq!(o.gateway.max_message_bytes, g.max_message_bytes);
        assert_eq!(o.queue.batch_size, d.queue.batch_size);
        assert_eq!(o.queue.batch_window, d.queue.batch_window);
        assert_eq!(o.queue.visibility_timeout, d.queue.visibility_timeout);
        assert_eq!(o.queue.max_receive_count, d.queue.max_receive_count);
    }
}
