//! `chat-bench`: see the crate docs and `docs/BENCHMARKS.md`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chat_bench::baseline::Baseline;
use chat_bench::load::{self, LoadConfig, Target, Tokens};
use chat_bench::report::{compare, LoadReport};
use chat_bench::sweep::{self, Sweep, SweepConfig};
use chat_bench::{coldstart, cost, latency};
use clap::{Args, Parser, Subcommand};
use serde_json::json;

/// Benchmarks of the chat platform: load against a running platform (or
/// one started in this process), modeled latency and cost as deployed on
/// AWS, and Lambda cold starts. Without a command, runs `load`.
#[derive(Parser, Debug)]
#[command(name = "chat-bench", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Connections in rooms sending at a fixed rate; checks that every acked
    /// message reaches every other member exactly once. Exit code 2 when a
    /// message was lost, duplicated, refused or left unacked.
    Load(LoadArgs),
    /// Dollars per million messages and per 1,000 idle clients a month, from
    /// the AWS calls counted while the functions run.
    Cost(CostArgs),
    /// Cold start of each function binary against a local Runtime API.
    Coldstart(ColdstartArgs),
    /// Predicted send→ack and send→deliver as deployed (rooms of 10,
    /// channels of 1,000 and 10,000), from a per-AWS-call latency table.
    Latency(LatencyArgs),
    /// Prints a completion script for a shell, e.g.
    /// `chat-bench completions bash > /etc/bash_completion.d/chat-bench`.
    Completions { shell: clap_complete::Shell },
}

#[derive(Args, Debug)]
struct LoadArgs {
    /// Load the platform started in this process (the default).
    #[arg(long, conflicts_with = "url")]
    local: bool,
    /// Load a running platform instead: its WebSocket URL, ws[s]://HOST/STAGE.
    #[arg(long, requires = "rest")]
    url: Option<String>,
    /// The REST base URL of the platform given with --url.
    #[arg(long)]
    rest: Option<String>,
    /// A file of tokens, one connection a line: `USER TOKEN` or `TOKEN`.
    #[arg(long, conflicts_with = "secret")]
    tokens: Option<PathBuf>,
    /// Mint HS256 tokens with this secret (default: the local platform's).
    #[arg(long)]
    secret: Option<String>,
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    /// Members per room.
    #[arg(long, default_value_t = 10)]
    room_size: usize,
    /// Rooms are public channels their members join themselves (any
    /// --room-size up to the platform's CHAT_MAX_ROOM_MEMBERS) instead of
    /// groups created with their members (at most 100).
    #[arg(long)]
    channels: bool,
    /// Messages per second, all connections together.
    #[arg(long, default_value_t = 2500.0)]
    rate: f64,
    /// Seconds of load before the measured window.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    #[arg(long, default_value_t = 64)]
    body_bytes: usize,
    /// Also load a bare WebSocket broadcast server the same way, and compare.
    #[arg(long)]
    baseline: bool,
    /// Find the highest rate each target sustains (the knee) instead of one
    /// run at --rate: each step runs --warmup and --duration at a higher rate.
    #[arg(long)]
    sweep: bool,
    /// The sweep's first rate.
    #[arg(long, default_value_t = SweepConfig::default().from)]
    sweep_from: f64,
    /// Each sweep step multiplies the rate by this.
    #[arg(long, default_value_t = SweepConfig::default().factor)]
    sweep_factor: f64,
    /// The sweep goes no higher.
    #[arg(long, default_value_t = SweepConfig::default().max)]
    sweep_max: f64,
    /// A sweep step holds only with p99 send→deliver within this.
    #[arg(long, default_value_t = SweepConfig::default().p99_target_ms)]
    p99_target_ms: f64,
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct CostArgs {
    /// Room sizes to price.
    #[arg(long, value_delimiter = ',', default_values_t = [2, 10, 50])]
    room_sizes: Vec<usize>,
    /// Idle connections registered alongside.
    #[arg(long, value_delimiter = ',', default_values_t = [1000, 10_000])]
    idle: Vec<usize>,
    #[arg(long, default_value_t = 2000)]
    messages: usize,
    #[arg(long, default_value_t = 20)]
    rooms: usize,
    #[arg(long, default_value_t = 64)]
    body_bytes: usize,
    /// Billed ms of a message λ invocation (default: measured under the
    /// modeled latency).
    #[arg(long)]
    message_ms: Option<f64>,
    /// Billed ms of a persist λ invocation (default: measured).
    #[arg(long)]
    persist_ms: Option<f64>,
    /// Billed ms of an authorizer invocation.
    #[arg(long, default_value_t = 10.0)]
    authorizer_ms: f64,
    #[command(flatten)]
    latency: LatencyFlags,
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct ColdstartArgs {
    /// Where the release-built function binaries are.
    #[arg(long, default_value_t = format!("target/{}", coldstart::PROFILE))]
    bin_dir: String,
    #[arg(long, default_value_t = 5)]
    runs: usize,
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct LatencyArgs {
    /// A few messages per shape (what CI runs).
    #[arg(long)]
    smoke: bool,
    #[command(flatten)]
    latency: LatencyFlags,
    #[arg(long)]
    json: bool,
}

/// The latency model shared by `latency` and `cost`.
#[derive(Args, Debug)]
struct LatencyFlags {
    /// A JSON latency table: {"dynamodb.GetItem": {"p50Ms": 4, "p99Ms": 12}, …}.
    #[arg(long)]
    latency_file: Option<PathBuf>,
    /// One AWS call's latency, NAME=P50:P99 (ms); repeatable; applied after
    /// --latency-file.
    #[arg(long = "latency", value_name = "NAME=P50:P99")]
    latencies: Vec<String>,
    #[arg(long, default_value_t = latency::LatencyConfig::default().seed)]
    seed: u64,
    /// The rate limiter in Redis (one more round trip) instead of in-process.
    #[arg(long)]
    redis: bool,
    #[arg(long, default_value_t = latency::LatencyConfig::default().memory_mb)]
    memory_mb: f64,
    /// Persist λ batch size.
    #[arg(long, default_value_t = latency::LatencyConfig::default().batch_size)]
    batch_size: usize,
    /// Persist event source batching window, ms (the stack's
    /// persistBatchWindowSecs).
    #[arg(long, value_name = "MS", default_value_t = latency::LatencyConfig::default().batch_window_ms)]
    batch_window_ms: u64,
    /// Persist λ invocations at once (the stack's persistMaxConcurrency).
    #[arg(long, value_name = "N", default_value_t = latency::LatencyConfig::default().persist_concurrency)]
    persist_concurrency: usize,
    /// Seconds between an idle client's pings.
    #[arg(long, default_value_t = latency::LatencyConfig::default().ping_secs)]
    ping_secs: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Cost(a)) => run_cost(a).await,
        Some(Command::Coldstart(a)) => run_coldstart(a).await,
        Some(Command::Latency(a)) => run_latency(a),
        Some(Command::Load(a)) => run_load(a).await,
        Some(Command::Completions { shell }) => {
            use clap::CommandFactory;
            use std::io::Write;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "chat-bench", &mut script);
            std::io::stdout()
                .write_all(&script)
                .map(|()| ExitCode::SUCCESS)
                .map_err(|e| format!("could not write the completion script: {e}"))
        }
        None => run_load(cli.load).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("chat-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(args: &LoadArgs, rate: f64) -> LoadConfig {
    LoadConfig {
        connections: args.connections,
        room_size: args.room_size,
        rate,
        warmup: Duration::from_secs_f64(args.warmup),
        duration: Duration::from_secs_f64(args.duration),
        body_bytes: args.body_bytes,
        progress: !args.json && !args.sweep,
        channels: args.channels,
        ..LoadConfig::default()
    }
}

/// Runs one load per rate the caller asks for against `target` (one run, or
/// each step of a sweep).
async fn load_at(target: &Target, args: &LoadArgs, rate: f64) -> Result<LoadReport, String> {
    if args.sweep && !args.json {
        eprintln!("{} at {rate:.0} msg/s…", target_label(target));
    }
    load::run(target, &load_config(args, rate))
        .await
        .map_err(|e| e.to_string())
}

fn target_label(target: &Target) -> &'static str {
    match target {
        Target::Platform { .. } => "platform",
        Target::Baseline { .. } => "baseline",
    }
}

/// What a load command measured of one target.
enum Measured {
    Once(Box<LoadReport>),
    Swept(Sweep),
}

impl Measured {
    fn clean(&self) -> bool {
        match self {
            Measured::Once(r) => r.is_clean(),
            // A sweep goes past what holds on purpose; it fails only when
            // nothing held at all.
            Measured::Swept(s) => s.knee.is_some(),
        }
    }
}

async fn measure(target: &Target, args: &LoadArgs) -> Result<Measured, String> {
    if !args.sweep {
        return Ok(Measured::Once(Box::new(
            load_at(target, args, args.rate).await?,
        )));
    }
    let cfg = SweepConfig {
        from: args.sweep_from,
        factor: args.sweep_factor,
        max: args.sweep_max,
        p99_target_ms: args.p99_target_ms,
    };
    let label = target_label(target);
    let s = sweep::run(label, cfg, |rate| load_at(target, args, rate)).await?;
    Ok(Measured::Swept(s))
}

async fn run_load(args: LoadArgs) -> Result<ExitCode, String> {
    if args.sweep {
        SweepConfig {
            from: args.sweep_from,
            factor: args.sweep_factor,
            max: args.sweep_max,
            p99_target_ms: args.p99_target_ms,
        }
        .check()?;
    }
    let tokens = match (&args.tokens, &args.secret) {
        (Some(path), _) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            Tokens::List(load::parse_tokens(&text).map_err(|e| e.to_string())?)
        }
        (None, Some(secret)) => Tokens::Mint {
            secret: secret.clone(),
        },
        (None, None) => Tokens::Mint {
            secret: chat_local::DEFAULT_SECRET.to_owned(),
        },
    };

    let platform = match (&args.url, &args.rest) {
        (Some(ws_url), Some(rest_url)) => {
            let target = Target::Platform {
                ws_url: ws_url.clone(),
                rest_url: rest_url.clone(),
                tokens,
            };
            measure(&target, &args).await?
        }
        _ => {
            let running = chat_local::start(chat_local::Options {
                port: 0,
                ..chat_local::Options::default()
            })
            .await
            .map_err(|e| format!("could not start the local platform: {e}"))?;
            let target = Target::Platform {
                ws_url: running.ws_url(),
                rest_url: running.http_url(),
                tokens,
            };
            let r = measure(&target, &args).await;
            running.stop().await;
            r?
        }
    };
    let baseline = if args.baseline {
        let server = Baseline::start()
            .await
            .map_err(|e| format!("could not start the baseline server: {e}"))?;
        let target = Target::Baseline {
            ws_url: server.ws_url(),
        };
        let r = measure(&target, &args).await;
        server.stop();
        Some(r?)
    } else {
        None
    };
    let clean = platform.clean() && baseline.as_ref().is_none_or(Measured::clean);
    match (&platform, &baseline) {
        (Measured::Swept(p), b) => {
            let b = match b {
                Some(Measured::Swept(b)) => Some(b),
                _ => None,
            };
            let ratio = b.and_then(|b| sweep::knee_ratio(p, b));
            if args.json {
                let v = json!({ "platform": p, "baseline": b, "kneeRatio": ratio });
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                print!("{}", p.table());
                if let Some(b) = b {
                    print!("{}", b.table());
                }
                if let Some(r) = ratio {
                    println!("platform knee ÷ bare broadcast server knee: ×{r:.2}");
                }
            }
        }
        (Measured::Once(p), b) => {
            let b = match b {
                Some(Measured::Once(b)) => Some(b.as_ref()),
                _ => None,
            };
            let p = p.as_ref();
            let comparison = b.map(|b| compare(p, b));
            if args.json {
                let v = json!({ "platform": p, "baseline": b, "comparison": comparison });
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                print!("{}", p.table());
                if let Some(b) = b {
                    print!("{}", b.table());
                }
                if let Some(c) = &comparison {
                    print!("{}", c.table());
                }
            }
        }
    }
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

async fn run_cost(args: CostArgs) -> Result<ExitCode, String> {
    let lat = latency_config(&args.latency)?;
    let base = cost::CostConfig {
        messages: args.messages,
        rooms: args.rooms,
        batch_size: lat.batch_size,
        memory_mb: lat.memory_mb,
        body_bytes: args.body_bytes,
        authorizer_ms: args.authorizer_ms,
        ..cost::CostConfig::default()
    };
    let mut ms = Vec::new();
    for &k in &args.room_sizes {
        // The λ durations of this room size under modeled latency, and one
        // idle member's keepalive.
        let shape = latency::Shape {
            name: format!("rooms of {k}"),
            channel: false,
            members: k,
            rooms: base.rooms,
            messages: base.messages.min(400),
        };
        if !args.json {
            eprintln!("timing the functions under modeled latency, rooms of {k}…");
        }
        let timed = latency::run(std::slice::from_ref(&shape), &lat)
            .map_err(|e| e.to_string())?
            .pop()
            .ok_or("the latency run returned nothing")?;
        for &idle in &args.idle {
            let cfg = cost::CostConfig {
                room_size: k,
                idle,
                message_ms: args.message_ms.unwrap_or(timed.message_lambda.billed_ms),
                persist_ms: args.persist_ms.unwrap_or(timed.persist_lambda.billed_ms),
                durations_measured: args.message_ms.is_none() && args.persist_ms.is_none(),
                keepalive: Some(timed.keepalive.clone()),
                ..base.clone()
            };
            ms.push(cost::measure(&cfg).await);
        }
    }
    if args.json {
        let v = json!({ "prices": cost::PRICES, "scenarios": ms });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print!("{}", cost::table(&ms, &base));
        print!("{}", cost::attachment_table(&ms, 1_000_000));
        let mut changes = Vec::new();
        for &k in &args.room_sizes {
            changes.extend(cost::change_costs(k, base.message_ms, base.memory_mb).await);
        }
        print!("{}", cost::change_table(&changes));
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_coldstart(args: ColdstartArgs) -> Result<ExitCode, String> {
    let bin_dir = PathBuf::from(&args.bin_dir);
    let runs = args.runs;
    let mut rows = Vec::new();
    let hello = coldstart::summarize(&bin_dir, coldstart::HELLO, runs).await;
    for name in coldstart::FUNCTIONS {
        if !args.json {
            eprintln!("measuring {name} ({runs} runs)…");
        }
        let mut s = coldstart::summarize(&bin_dir, name, runs).await;
        s.init_vs_hello = s.init_ms / hello.init_ms;
        rows.push(s);
    }
    let mut hello = hello;
    hello.init_vs_hello = 1.0;
    rows.push(hello);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    } else {
        println!(
            "cold start against a local Runtime API, median of {runs} runs (binaries in {})",
            bin_dir.display()
        );
        print!("{}", coldstart::table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

/// The latency table of the defaults, the file and the flags, in that order.
fn latency_config(flags: &LatencyFlags) -> Result<latency::LatencyConfig, String> {
    let mut table = latency::Table::default();
    if let Some(path) = &flags.latency_file {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        table.apply_json(&text).map_err(|e| e.to_string())?;
    }
    for spec in &flags.latencies {
        table.apply(spec).map_err(|e| e.to_string())?;
    }
    Ok(latency::LatencyConfig {
        table,
        seed: flags.seed,
        redis_rate_limit: flags.redis,
        memory_mb: flags.memory_mb,
        batch_size: flags.batch_size,
        batch_window_ms: flags.batch_window_ms,
        persist_concurrency: flags.persist_concurrency,
        ping_secs: flags.ping_secs,
    })
}

fn run_latency(args: LatencyArgs) -> Result<ExitCode, String> {
    let cfg = latency_config(&args.latency)?;
    let started = std::time::Instant::now();
    let reports = latency::run(&latency::shapes(args.smoke), &cfg).map_err(|e| e.to_string())?;
    if args.json {
        let v = json!({ "table": cfg.table, "redisRateLimit": cfg.redis_rate_limit, "memoryMb": cfg.memory_mb, "seed": cfg.seed, "shapes": reports });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print!("{}", latency::table(&reports, &cfg));
        println!("  ({:.1} s wall)", started.elapsed().as_secs_f64());
    }
    let refused: usize = reports.iter().map(|r| r.refused).sum();
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_command_means_load_and_flags_keep_their_old_spelling() {
        let cli = Cli::try_parse_from(["chat-bench", "--rate", "500", "--baseline"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!((cli.load.rate, cli.load.baseline), (500.0, true));
        let cli = Cli::try_parse_from([
            "chat-bench",
            "cost",
            "--room-sizes",
            "2,10",
            "--latency",
            "dynamodb.GetItem=4:12",
            "--latency",
            "sqs.SendMessage=10:40",
        ])
        .unwrap();
        let Some(Command::Cost(c)) = cli.command else {
            panic!("expected cost")
        };
        assert_eq!(c.room_sizes, vec![2, 10]);
        assert_eq!(c.latency.latencies.len(), 2);
        assert!(Cli::try_parse_from(["chat-bench", "--url", "ws://x/local"]).is_err());
        assert!(Cli::try_parse_from(["chat-bench", "latency", "--bogus"]).is_err());
        let cli = Cli::try_parse_from(["chat-bench", "completions", "bash"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Completions { .. })));
    }
}
