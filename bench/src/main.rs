//! `chat-bench`: see the crate docs and `docs/BENCHMARKS.md`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chat_bench::baseline::Baseline;
use chat_bench::load::{self, LoadConfig, Target, Tokens};
use chat_bench::report::{compare, LoadReport};
use chat_bench::{coldstart, cost, latency};
use serde_json::json;

const USAGE: &str = "\
usage:
  chat-bench [load] [--local | --url ws[s]://HOST/STAGE --rest http[s]://HOST]
             [--tokens FILE | --secret SECRET] [--connections N] [--room-size K]
             [--rate MSGS_PER_SEC] [--warmup SECS] [--duration SECS] [--body-bytes B]
             [--baseline] [--json]
  chat-bench cost [--room-sizes 2,10,50] [--idle 1000,10000] [--messages M] [--rooms R]
             [--batch-size 25] [--message-ms MS] [--persist-ms MS] [--memory-mb 256]
             [--ping-secs 540] [--authorizer-ms 10] [latency flags] [--json]
  chat-bench coldstart [--bin-dir target/lambda-release] [--runs 5] [--json]
  chat-bench latency [--smoke] [--latency-file FILE] [--latency NAME=P50:P99 ...]
             [--redis] [--seed N] [--memory-mb 256] [--ping-secs 540] [--json]

load defaults: --local, 1000 connections, rooms of 10, 2500 msg/s, 2 s warm-up,
10 s measured, 64-byte bodies. --baseline also loads a bare WebSocket broadcast
server the same way and prints the ratio. Exit code 2 when a message was lost,
duplicated, refused or left unacked.
latency: predicted send→ack and send→deliver as deployed (rooms of 10, channels
of 1,000 and 10,000), from a per-AWS-call latency table (--latency-file: JSON
{\"dynamodb.GetItem\": {\"p50Ms\": 4, \"p99Ms\": 12}, …}); --smoke sends a few
messages per shape.";

struct Args(Vec<String>);

impl Args {
    fn flag(&mut self, name: &str) -> bool {
        match self.0.iter().position(|a| a == name) {
            Some(i) => {
                self.0.remove(i);
                true
            }
            None => false,
        }
    }

    fn value(&mut self, name: &str) -> Result<Option<String>, String> {
        match self.0.iter().position(|a| a == name) {
            Some(i) if i + 1 < self.0.len() => {
                let v = self.0.remove(i + 1);
                self.0.remove(i);
                Ok(Some(v))
            }
            Some(_) => Err(format!("{name} needs a value")),
            None => Ok(None),
        }
    }

    fn parse<T: std::str::FromStr>(&mut self, name: &str, default: T) -> Result<T, String> {
        match self.value(name)? {
            Some(v) => v.parse().map_err(|_| format!("{name}: cannot parse {v:?}")),
            None => Ok(default),
        }
    }

    fn list(&mut self, name: &str, default: &[usize]) -> Result<Vec<usize>, String> {
        match self.value(name)? {
            Some(v) => v
                .split(',')
                .map(|x| {
                    x.trim()
                        .parse()
                        .map_err(|_| format!("{name}: cannot parse {x:?}"))
                })
                .collect(),
            None => Ok(default.to_vec()),
        }
    }

    fn finish(self) -> Result<(), String> {
        match self.0.first() {
            Some(a) => Err(format!("unknown argument {a:?}")),
            None => Ok(()),
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let mode = match raw.first().map(String::as_str) {
        Some("load") | Some("cost") | Some("coldstart") | Some("latency") => raw.remove(0),
        _ => "load".to_owned(),
    };
    let args = Args(raw);
    let result = match mode.as_str() {
        "cost" => run_cost(args).await,
        "coldstart" => run_coldstart(args).await,
        "latency" => run_latency(args),
        _ => run_load(args).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("chat-bench: {e}\n\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}

async fn run_load(mut args: Args) -> Result<ExitCode, String> {
    let json_out = args.flag("--json");
    let with_baseline = args.flag("--baseline");
    let _ = args.flag("--local");
    let url = args.value("--url")?;
    let rest = args.value("--rest")?;
    let tokens_file = args.value("--tokens")?;
    let secret = args.value("--secret")?;
    let cfg = LoadConfig {
        connections: args.parse("--connections", 1000)?,
        room_size: args.parse("--room-size", 10)?,
        rate: args.parse("--rate", 2500.0)?,
        warmup: Duration::from_secs_f64(args.parse("--warmup", 2.0)?),
        duration: Duration::from_secs_f64(args.parse("--duration", 10.0)?),
        body_bytes: args.parse("--body-bytes", 64)?,
        progress: !json_out,
        ..LoadConfig::default()
    };
    args.finish()?;
    let tokens = match (&tokens_file, secret) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            Tokens::List(load::parse_tokens(&text).map_err(|e| e.to_string())?)
        }
        (None, Some(secret)) => Tokens::Mint { secret },
        (None, None) => Tokens::Mint {
            secret: chat_local::DEFAULT_SECRET.to_owned(),
        },
    };

    let platform = match url {
        Some(ws_url) => {
            let rest_url = rest.ok_or("--url needs --rest (the REST base URL)")?;
            let target = Target::Platform {
                ws_url,
                rest_url,
                tokens,
            };
            load::run(&target, &cfg).await.map_err(|e| e.to_string())?
        }
        None => {
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
            let r = load::run(&target, &cfg).await;
            running.stop().await;
            r.map_err(|e| e.to_string())?
        }
    };
    let baseline: Option<LoadReport> = if with_baseline {
        let server = Baseline::start()
            .await
            .map_err(|e| format!("could not start the baseline server: {e}"))?;
        let target = Target::Baseline {
            ws_url: server.ws_url(),
        };
        let r = load::run(&target, &cfg).await.map_err(|e| e.to_string())?;
        server.stop();
        Some(r)
    } else {
        None
    };
    let comparison = baseline.as_ref().map(|b| compare(&platform, b));
    if json_out {
        let v = json!({ "platform": platform, "baseline": baseline, "comparison": comparison });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print!("{}", platform.table());
        if let Some(b) = &baseline {
            print!("{}", b.table());
        }
        if let Some(c) = &comparison {
            print!("{}", c.table());
        }
    }
    let clean = platform.is_clean() && baseline.as_ref().is_none_or(LoadReport::is_clean);
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

async fn run_cost(mut args: Args) -> Result<ExitCode, String> {
    let json_out = args.flag("--json");
    let sizes = args.list("--room-sizes", &[2, 10, 50])?;
    let idles = args.list("--idle", &[1000, 10_000])?;
    let number = |v: Option<String>, name: &str| -> Result<Option<f64>, String> {
        v.map(|x| x.parse().map_err(|_| format!("{name}: cannot parse {x:?}")))
            .transpose()
    };
    let message_ms = number(args.value("--message-ms")?, "--message-ms")?;
    let persist_ms = number(args.value("--persist-ms")?, "--persist-ms")?;
    let lat = latency_config(&mut args)?;
    let base = cost::CostConfig {
        messages: args.parse("--messages", 2000)?,
        rooms: args.parse("--rooms", 20)?,
        batch_size: lat.batch_size,
        memory_mb: lat.memory_mb,
        body_bytes: args.parse("--body-bytes", 64)?,
        authorizer_ms: args.parse("--authorizer-ms", 10.0)?,
        ..cost::CostConfig::default()
    };
    args.finish()?;
    let mut ms = Vec::new();
    for &k in &sizes {
        // The λ durations of this room size under modeled latency, and one
        // idle member's keepalive.
        let shape = latency::Shape {
            name: format!("rooms of {k}"),
            channel: false,
            members: k,
            rooms: base.rooms,
            messages: base.messages.min(400),
        };
        if !json_out {
            eprintln!("timing the functions under modeled latency, rooms of {k}…");
        }
        let timed = latency::run(std::slice::from_ref(&shape), &lat)
            .map_err(|e| e.to_string())?
            .pop()
            .ok_or("the latency run returned nothing")?;
        for &idle in &idles {
            let cfg = cost::CostConfig {
                room_size: k,
                idle,
                message_ms: message_ms.unwrap_or(timed.message_lambda.billed_ms),
                persist_ms: persist_ms.unwrap_or(timed.persist_lambda.billed_ms),
                durations_measured: message_ms.is_none() && persist_ms.is_none(),
                keepalive: Some(timed.keepalive.clone()),
                ..base.clone()
            };
            ms.push(cost::measure(&cfg).await);
        }
    }
    if json_out {
        let v = json!({ "prices": cost::PRICES, "scenarios": ms });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print!("{}", cost::table(&ms, &base));
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_coldstart(mut args: Args) -> Result<ExitCode, String> {
    let json_out = args.flag("--json");
    let bin_dir = PathBuf::from(
        args.value("--bin-dir")?
            .unwrap_or_else(|| format!("target/{}", coldstart::PROFILE)),
    );
    let runs: usize = args.parse("--runs", 5)?;
    args.finish()?;
    let mut rows = Vec::new();
    let hello = coldstart::summarize(&bin_dir, coldstart::HELLO, runs).await;
    for name in coldstart::FUNCTIONS {
        if !json_out {
            eprintln!("measuring {name} ({runs} runs)…");
        }
        let mut s = coldstart::summarize(&bin_dir, name, runs).await;
        s.init_vs_hello = s.init_ms / hello.init_ms;
        rows.push(s);
    }
    let mut hello = hello;
    hello.init_vs_hello = 1.0;
    rows.push(hello);
    if json_out {
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
fn latency_config(args: &mut Args) -> Result<latency::LatencyConfig, String> {
    let mut table = latency::Table::default();
    if let Some(path) = args.value("--latency-file")? {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        table.apply_json(&text).map_err(|e| e.to_string())?;
    }
    while let Some(spec) = args.value("--latency")? {
        table.apply(&spec).map_err(|e| e.to_string())?;
    }
    let d = latency::LatencyConfig::default();
    Ok(latency::LatencyConfig {
        table,
        seed: args.parse("--seed", d.seed)?,
        redis_rate_limit: args.flag("--redis"),
        memory_mb: args.parse("--memory-mb", d.memory_mb)?,
        batch_size: args.parse("--batch-size", d.batch_size)?,
        ping_secs: args.parse("--ping-secs", d.ping_secs)?,
    })
}

fn run_latency(mut args: Args) -> Result<ExitCode, String> {
    let json_out = args.flag("--json");
    let smoke = args.flag("--smoke");
    let cfg = latency_config(&mut args)?;
    args.finish()?;
    let started = std::time::Instant::now();
    let reports = latency::run(&latency::shapes(smoke), &cfg).map_err(|e| e.to_string())?;
    if json_out {
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
