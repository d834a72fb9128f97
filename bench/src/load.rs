//! The load generator: N WebSocket connections spread over rooms of K, each
//! sending on its own fixed schedule so the total is the target rate (open
//! loop: a slow server does not slow the senders down, so queueing shows up
//! in the latencies instead of hiding in a lower rate).
//!
//! Every send carries, in its body, who sent it and when (microseconds since
//! the run's start, on this process's monotonic clock), so a receiver
//! computes send→deliver latency without any shared state; the ack is
//! matched to its send by `clientMsgId`. Each connection keeps the message
//! ids it was acked and the ones it received, and [`check_deliveries`] checks
//! exactly-once delivery at the end.
//!
//! Sockets are driven with `tokio-tungstenite` directly rather than through
//! `chat-client`: the generator shares the CPU with whatever it measures, so
//! each frame is parsed once, into borrowed fields, on the task that owns
//! the socket.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use futures::SinkExt;
use hdrhistogram::Histogram;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::report::{check_deliveries, LoadReport, Seen};
use crate::stats::{self, Percentiles};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Clone, Debug)]
pub struct LoadConfig {
    pub connections: usize,
    pub room_size: usize,
    /// Messages per second, all connections together.
    pub rate: f64,
    pub warmup: Duration,
    pub duration: Duration,
    pub body_bytes: usize,
    /// Handshakes in flight at once.
    pub connect_concurrency: usize,
    /// After the window: how long to wait for the last acks and deliveries.
    pub drain: Duration,
    /// Draw progress bars on stderr (when it is a terminal).
    pub progress: bool,
    /// Rooms are public channels that their first member creates and the
    /// others join themselves, so a room may have any size up to
    /// `CHAT_MAX_ROOM_MEMBERS`; else groups created with their members (at
    /// most the 100 `POST /rooms` takes).
    pub channels: bool,
}

impl Default for LoadConfig {
    fn default() -> Self {
        Self {
            connections: 1000,
            room_size: 10,
            rate: 2500.0,
            warmup: Duration::from_secs(2),
            duration: Duration::from_secs(10),
            body_bytes: 64,
            connect_concurrency: 32,
            drain: Duration::from_secs(10),
            progress: true,
            channels: false,
        }
    }
}

/// Who the connections are and how they authenticate.
#[derive(Clone, Debug)]
pub enum Tokens {
    /// Mint HS256 tokens with the platform's secret for `bench-NNNNN` users.
    Mint { secret: String },
    /// `(user, token)` pairs, one per connection (a deployed stack).
    List(Vec<(String, String)>),
}

/// What to load.
#[derive(Clone, Debug)]
pub enum Target {
    /// The chat platform: rooms over REST, `?token=` on the WebSocket URL.
    Platform {
        ws_url: String,
        rest_url: String,
        tokens: Tokens,
    },
    /// The bare broadcast server ([`crate::baseline`]): rooms in the URL.
    Baseline { ws_url: String },
}

impl Target {
    fn label(&self) -> &'static str {
        match self {
            Target::Platform { .. } => "platform",
            Target::Baseline { .. } => "baseline",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Setup(String),
}

/// Reads a tokens file: one connection a line, `USER TOKEN` or just `TOKEN`
/// (the user is then the token's `sub`). Blank lines and `#` comments skipped.
pub fn parse_tokens(text: &str) -> Result<Vec<(String, String)>, LoadError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (user, token) = match (parts.next(), parts.next()) {
            (Some(u), Some(t)) => (u.to_owned(), t.to_owned()),
            (Some(t), None) => (
                jwt_sub(t).ok_or_else(|| {
                    LoadError::Setup(format!("line {}: not a JWT with a `sub`", n + 1))
                })?,
                t.to_owned(),
            ),
            _ => unreachable!("a trimmed non-empty line has a first word"),
        };
        out.push((user, token));
    }
    Ok(out)
}

/// The `sub` claim of a JWT, read without verifying it (the server verifies).
fn jwt_sub(token: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v["sub"].as_str().map(str::to_owned)
}

/// One connection's place in the run.
struct Plan {
    room: usize,
    url: String,
}

/// Rooms (their ids) and the connection plans.
async fn set_up(
    target: &Target,
    cfg: &LoadConfig,
    bar: &ProgressBar,
) -> Result<(Vec<String>, Vec<Plan>), LoadError> {
    let n = cfg.connections;
    let k = cfg.room_size.max(1);
    let n_rooms = n.div_ceil(k);
    let room_of = |i: usize| i / k;
    match target {
        Target::Baseline { ws_url } => {
            let rooms: Vec<String> = (0..n_rooms).map(|r| format!("room-{r}")).collect();
            let plans = (0..n)
                .map(|i| {
                    let user = format!("bench-{i:05}");
                    let url = format!("{ws_url}?room={}&user={user}", rooms[room_of(i)]);
                    Plan {
                        room: room_of(i),
                        url,
                    }
                })
                .collect();
            Ok((rooms, plans))
        }
        Target::Platform {
            ws_url,
            rest_url,
            tokens,
        } => {
            let creds: Vec<(String, String)> = match tokens {
                Tokens::Mint { secret } => (0..n)
                    .map(|i| {
                        let user = format!("bench-{i:05}");
                        let token = chat_local::mint_token(secret, &user, None, 86_400)
                            .ok_or_else(|| LoadError::Setup("could not mint a token".into()));
                        token.map(|t| (user, t))
                    })
                    .collect::<Result<_, _>>()?,
                Tokens::List(list) => {
                    if list.len() < n {
                        return Err(LoadError::Setup(format!(
                            "{n} connections need {n} tokens; the file has {}",
                            list.len()
                        )));
                    }
                    list[..n].to_vec()
                }
            };
            bar.set_length(n_rooms as u64);
            bar.set_message("creating rooms");
            let sep = if ws_url.contains('?') { '&' } else { '?' };
            let results: Vec<Result<String, LoadError>> = stream::iter(0..n_rooms)
                .map(|r| {
                    let members: Vec<&str> = (r * k..((r + 1) * k).min(n))
                        .map(|i| creds[i].0.as_str())
                        .collect();
                    let owner_token = creds[r * k].1.clone();
                    let rest = chat_client::Rest::new(rest_url, Some(&owner_token));
                    let body = if cfg.channels {
                        serde_json::json!({"name": format!("bench channel {r}"), "kind": "channel"})
                    } else {
                        serde_json::json!({
                            "name": format!("bench room {r}"),
                            "kind": "group",
                            "members": members[1..],
                        })
                    };
                    async move {
                        let (status, v) = rest
                            .post("/rooms", &body)
                            .await
                            .map_err(|e| LoadError::Setup(format!("POST /rooms: {e}")))?;
                        bar.inc(1);
                        match v["roomId"].as_str() {
                            Some(id) if status == 201 || status == 200 => Ok(id.to_owned()),
                            _ => Err(LoadError::Setup(format!(
                                "POST /rooms answered {status}: {v}"
                            ))),
                        }
                    }
                })
                .buffered(16)
                .collect()
                .await;
            let rooms: Vec<String> = results.into_iter().collect::<Result<_, _>>()?;
            if cfg.channels {
                join_channels(rest_url, &creds, &rooms, k, bar).await?;
            }
            let plans = creds
                .into_iter()
                .enumerate()
                .map(|(i, (_, token))| Plan {
                    room: room_of(i),
                    url: format!("{ws_url}{sep}token={token}"),
                })
                .collect();
            Ok((rooms, plans))
        }
    }
}

/// Every member but each channel's creator joins it, with their own token
/// (a channel is open to whoever joins), 32 at a time.
async fn join_channels(
    rest_url: &str,
    creds: &[(String, String)],
    rooms: &[String],
    k: usize,
    bar: &ProgressBar,
) -> Result<(), LoadError> {
    let joiners: Vec<usize> = (0..creds.len()).filter(|i| i % k != 0).collect();
    bar.set_position(0);
    bar.set_length(joiners.len() as u64);
    bar.set_message("joining channels");
    let results: Vec<Result<(), LoadError>> = stream::iter(joiners)
        .map(|i| {
            let (user, token) = &creds[i];
            let rest = chat_client::Rest::new(rest_url, Some(token));
            let path = format!("/rooms/{}/members", rooms[i / k]);
            let body = serde_json::json!({ "userId": user });
            async move {
                let (status, v) = rest
                    .post(&path, &body)
                    .await
                    .map_err(|e| LoadError::Setup(format!("POST {path}: {e}")))?;
                bar.inc(1);
                if status == 200 || status == 201 {
                    Ok(())
                } else {
                    Err(LoadError::Setup(format!(
                        "POST {path} as {user} answered {status}: {v}"
                    )))
                }
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    results.into_iter().collect()
}

/// Where the run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Send,
    /// Stop sending; keep reading acks and deliveries.
    Drain,
    /// Return what you saw.
    Finish,
}

/// What every connection task shares: the clock, the histograms, counters.
struct Shared {
    start: Instant,
    /// The measurement window in µs since `start`.
    window: (u64, u64),
    ack: Mutex<Histogram<u64>>,
    deliver: Mutex<Histogram<u64>>,
    sent: AtomicU64,
    sent_in_window: AtomicU64,
    acked: AtomicU64,
    errors: AtomicU64,
    delivered: AtomicU64,
    /// Deliveries the acks so far call for.
    expected: AtomicU64,
    /// Connection tasks that have stopped sending (seen the drain, or
    /// ended). Until all have, `sent` may still grow: a send that was
    /// under way when the drain began is counted after it.
    quiet: AtomicUsize,
}

impl Shared {
    fn now_us(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    fn in_window(&self, t: u64) -> bool {
        t >= self.window.0 && t < self.window.1
    }

    /// Tells the coordinator this task sends no more (once per task);
    /// `Release` publishes every `sent` increment the task made before.
    fn go_quiet(&self, quiet: &mut bool) {
        if !std::mem::replace(quiet, true) {
            self.quiet.fetch_add(1, Ordering::Release);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    #[serde(borrow, default)]
    message_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    client_msg_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    body: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    code: Option<Cow<'a, str>>,
}

/// What one connection task returns.
#[derive(Default)]
struct ConnResult {
    seen: Seen,
    unacked: u64,
    errors: BTreeMap<String, u64>,
    other: BTreeMap<String, u64>,
    delivered_in_window: u64,
    closed_early: bool,
}

struct ConnSpec {
    idx: usize,
    room_id: String,
    room: usize,
    /// Connected members of the room, this one included.
    room_online: u64,
    period: Duration,
    first_send: tokio::time::Instant,
    body_bytes: usize,
}

fn body_for(idx: usize, n: u64, sent_us: u64, bytes: usize) -> String {
    let mut b = format!("{idx} {n} {sent_us} ");
    while b.len() < bytes {
        b.push('x');
    }
    b
}

/// `(sender idx, n, sent µs)` from a body written by [`body_for`].
fn parse_body(body: &str) -> Option<(usize, u64, u64)> {
    let mut it = body.split(' ');
    Some((
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    ))
}

async fn drive(
    mut ws: Ws,
    spec: ConnSpec,
    shared: Arc<Shared>,
    mut phase: watch::Receiver<Phase>,
) -> (ConnResult, Ws) {
    let mut out = ConnResult {
        seen: Seen {
            room: spec.room,
            ..Seen::default()
        },
        ..ConnResult::default()
    };
    let mut pending: HashMap<u64, u64> = HashMap::new();
    let mut n = 0u64;
    let mut tick = tokio::time::interval_at(spec.first_send, spec.period);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut sending = *phase.borrow() == Phase::Send;
    let mut quiet = false;
    loop {
        tokio::select! {
            _ = tick.tick(), if sending => {
                n += 1;
                let now = shared.now_us();
                let body = body_for(spec.idx, n, now, spec.body_bytes);
                let frame = format!(
                    r#"{{"action":"sendMessage","roomId":"{}","clientMsgId":"b{}-{}","body":"{}"}}"#,
                    spec.room_id, spec.idx, n, body
                );
                pending.insert(n, now);
                shared.sent.fetch_add(1, Ordering::Relaxed);
                if shared.in_window(now) {
                    shared.sent_in_window.fetch_add(1, Ordering::Relaxed);
                }
                if ws.send(Message::Text(frame.into())).await.is_err() {
                    out.closed_early = true;
                    break;
                }
            }
            changed = phase.changed() => {
                if changed.is_err() {
                    break;
                }
                match *phase.borrow() {
                    Phase::Send => sending = true,
                    Phase::Drain => {
                        sending = false;
                        shared.go_quiet(&mut quiet);
                    }
                    Phase::Finish => break,
                }
            }
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let now = shared.now_us();
                    let Ok(f) = serde_json::from_str::<Frame<'_>>(text.as_str()) else { continue };
                    match f.ty.as_ref() {
                        "message" => {
                            shared.delivered.fetch_add(1, Ordering::Relaxed);
                            if shared.in_window(now) {
                                out.delivered_in_window += 1;
                            }
                            if let Some(id) = f.message_id {
                                *out.seen.received.entry(id.into_owned()).or_insert(0) += 1;
                            }
                            if let Some((_, _, sent)) = f.body.as_deref().and_then(parse_body) {
                                if shared.in_window(sent) {
                                    stats::record(&mut lock(&shared.deliver), now.saturating_sub(sent));
                                }
                            }
                        }
                        "ack" => {
                            let n = f.client_msg_id.as_deref()
                                .and_then(|c| c.rsplit_once('-'))
                                .and_then(|(_, n)| n.parse::<u64>().ok());
                            if let Some(sent) = n.and_then(|n| pending.remove(&n)) {
                                if shared.in_window(sent) {
                                    stats::record(&mut lock(&shared.ack), now.saturating_sub(sent));
                                }
                                if let Some(id) = f.message_id {
                                    out.seen.acked.push(id.into_owned());
                                }
                                shared.acked.fetch_add(1, Ordering::Relaxed);
                                shared.expected.fetch_add(spec.room_online.saturating_sub(1), Ordering::Relaxed);
                            }
                        }
                        "error" => {
                            let n = f.client_msg_id.as_deref()
                                .and_then(|c| c.rsplit_once('-'))
                                .and_then(|(_, n)| n.parse::<u64>().ok());
                            if n.and_then(|n| pending.remove(&n)).is_some() {
                                shared.errors.fetch_add(1, Ordering::Relaxed);
                            }
                            let code = f.code.map_or_else(|| "unknown".to_owned(), Cow::into_owned);
                            *out.errors.entry(code).or_insert(0) += 1;
                        }
                        other => *out.other.entry(other.to_owned()).or_insert(0) += 1,
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                    out.closed_early = true;
                    break;
                }
                Some(Ok(_)) => {}
            }
        }
    }
    shared.go_quiet(&mut quiet);
    out.unacked = pending.len() as u64;
    (out, ws)
}

async fn connect(url: &str) -> Result<Ws, String> {
    match tokio_tungstenite::connect_async(url).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            Err(format!("HTTP {}", resp.status()))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn bars(progress: bool) -> MultiProgress {
    let draw = progress && std::io::stderr().is_terminal();
    MultiProgress::with_draw_target(if draw {
        ProgressDrawTarget::stderr_with_hz(5)
    } else {
        ProgressDrawTarget::hidden()
    })
}

/// Runs the load against `target` and reports.
pub async fn run(target: &Target, cfg: &LoadConfig) -> Result<LoadReport, LoadError> {
    if cfg.connections < 2 || cfg.room_size < 2 {
        return Err(LoadError::Setup(
            "need at least 2 connections and rooms of at least 2".into(),
        ));
    }
    let multi = bars(cfg.progress);
    let style =
        ProgressStyle::with_template("{prefix:>10} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    let setup_bar = multi.add(ProgressBar::new(0).with_style(style.clone()));
    setup_bar.set_prefix(target.label());
    let (rooms, plans) = set_up(target, cfg, &setup_bar).await?;
    setup_bar.finish_and_clear();

    // Connect everyone, a bounded number at a time.
    let connect_bar = multi.add(ProgressBar::new(plans.len() as u64).with_style(style.clone()));
    connect_bar.set_prefix(target.label());
    connect_bar.set_message("connecting");
    let mut connect_hist = stats::histogram();
    let connected: Vec<(usize, Result<Ws, String>, Duration)> =
        stream::iter(plans.iter().enumerate())
            .map(|(i, p)| {
                let bar = &connect_bar;
                async move {
                    let t = Instant::now();
                    let r = connect(&p.url).await;
                    bar.inc(1);
                    (i, r, t.elapsed())
                }
            })
            .buffer_unordered(cfg.connect_concurrency.max(1))
            .collect()
            .await;
    connect_bar.finish_and_clear();
    let mut sockets: Vec<Option<Ws>> = (0..plans.len()).map(|_| None).collect();
    let mut connect_errors = 0;
    let mut first_error = None;
    for (i, r, took) in connected {
        match r {
            Ok(ws) => {
                stats::record(&mut connect_hist, took.as_micros() as u64);
                sockets[i] = Some(ws);
            }
            Err(e) => {
                connect_errors += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = &first_error {
        multi.suspend(|| eprintln!("{connect_errors} connections failed; first: {e}"));
    }
    let mut online = vec![0u64; rooms.len()];
    for (i, s) in sockets.iter().enumerate() {
        if s.is_some() {
            online[plans[i].room] += 1;
        }
    }
    // Let the presence announcements of the connects settle.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let n_live = sockets.iter().filter(|s| s.is_some()).count().max(1);
    let period = Duration::from_secs_f64(n_live as f64 / cfg.rate.max(0.001));
    let start = Instant::now();
    let t0 = tokio::time::Instant::now() + Duration::from_millis(50);
    let w0 = Duration::from_millis(50) + cfg.warmup;
    let w1 = w0 + cfg.duration;
    let shared = Arc::new(Shared {
        start,
        window: (w0.as_micros() as u64, w1.as_micros() as u64),
        ack: Mutex::new(stats::histogram()),
        deliver: Mutex::new(stats::histogram()),
        sent: AtomicU64::new(0),
        sent_in_window: AtomicU64::new(0),
        acked: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        delivered: AtomicU64::new(0),
        expected: AtomicU64::new(0),
        quiet: AtomicUsize::new(0),
    });
    let (phase_tx, phase_rx) = watch::channel(Phase::Send);
    let mut tasks = Vec::new();
    for (i, s) in sockets.into_iter().enumerate() {
        let Some(ws) = s else { continue };
        let spec = ConnSpec {
            idx: i,
            room_id: rooms[plans[i].room].clone(),
            room: plans[i].room,
            room_online: online[plans[i].room],
            period,
            // Spread the first sends evenly over one period.
            first_send: t0 + period.mul_f64(i as f64 / n_live as f64),
            body_bytes: cfg.body_bytes,
        };
        tasks.push(tokio::spawn(drive(
            ws,
            spec,
            shared.clone(),
            phase_rx.clone(),
        )));
    }

    // Progress while sending and draining.
    let run_bar = multi.add(
        ProgressBar::new(w1.as_millis() as u64).with_style(
            ProgressStyle::with_template("{prefix:>10} [{elapsed_precise}] {bar:30} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
    );
    run_bar.set_prefix(target.label());
    let deadline = start + w1;
    let mut last = (Instant::now(), 0u64, 0u64);
    let mut draining_since = None;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = Instant::now();
        let sent = shared.sent.load(Ordering::Relaxed);
        let delivered = shared.delivered.load(Ordering::Relaxed);
        let dt = now.duration_since(last.0).as_secs_f64().max(1e-3);
        let p99 = lock(&shared.deliver).value_at_quantile(0.99) as f64 / 1000.0;
        let phase = if now < start + w0 {
            "warm-up"
        } else if now < deadline {
            "measuring"
        } else {
            "draining"
        };
        run_bar.set_position(now.duration_since(start).as_millis().min(w1.as_millis()) as u64);
        run_bar.set_message(format!(
            "{phase}: sent {:.0}/s delivered {:.0}/s p99 {:.1} ms errors {}",
            (sent - last.1) as f64 / dt,
            (delivered - last.2) as f64 / dt,
            p99,
            shared.errors.load(Ordering::Relaxed)
        ));
        last = (now, sent, delivered);
        if now >= deadline {
            let since = *draining_since.get_or_insert_with(|| {
                let _ = phase_tx.send(Phase::Drain);
                now
            });
            // Every task must have stopped sending first: checked in the
            // same round the drain began, a send still under way was not
            // counted yet, and finishing then reported it unacked.
            let all_quiet = shared.quiet.load(Ordering::Acquire) >= tasks.len();
            let answered =
                shared.acked.load(Ordering::Relaxed) + shared.errors.load(Ordering::Relaxed);
            let done = all_quiet
                && answered >= shared.sent.load(Ordering::Relaxed)
                && shared.delivered.load(Ordering::Relaxed)
                    >= shared.expected.load(Ordering::Relaxed);
            if done || now.duration_since(since) >= cfg.drain {
                break;
            }
        }
    }
    let _ = phase_tx.send(Phase::Finish);
    run_bar.finish_and_clear();

    let mut results = Vec::new();
    let mut closers = Vec::new();
    for t in tasks {
        if let Ok((r, mut ws)) = t.await {
            results.push(r);
            closers.push(tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
            }));
        }
    }
    for c in closers {
        let _ = c.await;
    }

    let mut report = LoadReport {
        target: target.label().into(),
        connections: cfg.connections,
        connected: n_live,
        connect_errors,
        room_size: cfg.room_size,
        rooms: rooms.len(),
        target_rate: cfg.rate,
        warmup_secs: cfg.warmup.as_secs_f64(),
        duration_secs: cfg.duration.as_secs_f64(),
        body_bytes: cfg.body_bytes,
        connect: Percentiles::of(&connect_hist),
        ack: Percentiles::of(&lock(&shared.ack)),
        deliver: Percentiles::of(&lock(&shared.deliver)),
        sent: shared.sent.load(Ordering::Relaxed),
        acked: shared.acked.load(Ordering::Relaxed),
        ..LoadReport::default()
    };
    let window_secs = cfg.duration.as_secs_f64().max(1e-3);
    let mut seen = Vec::with_capacity(results.len());
    for r in results {
        report.unacked += r.unacked;
        report.delivered_in_window += r.delivered_in_window;
        report.closed_early += usize::from(r.closed_early);
        for (k, v) in r.errors {
            *report.send_errors.entry(k).or_insert(0) += v;
        }
        for (k, v) in r.other {
            *report.other_frames.entry(k).or_insert(0) += v;
        }
        seen.push(r.seen);
    }
    report.sent_per_sec = shared.sent_in_window.load(Ordering::Relaxed) as f64 / window_secs;
    report.delivered_per_sec = report.delivered_in_window as f64 / window_secs;
    report.delivery = check_deliveries(&seen);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_carries_sender_sequence_and_send_time() {
        let b = body_for(12, 7, 123_456, 64);
        assert_eq!(b.len(), 64);
        assert_eq!(parse_body(&b), Some((12, 7, 123_456)));
        assert_eq!(parse_body("hello"), None);
        // A body longer than asked is fine: the header is never cut.
        assert_eq!(parse_body(&body_for(1, 2, 3, 0)), Some((1, 2, 3)));
    }

    #[test]
    fn tokens_files_name_users_or_carry_them_in_the_token() {
        use base64::Engine;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"sub":"carol"}"#);
        let jwt = format!("eyJhbGciOiJIUzI1NiJ9.{payload}.sig");
        let text = format!("# users\nalice tok-a\n\n{jwt}\n");
        let t = parse_tokens(&text).unwrap();
        assert_eq!(t[0], ("alice".into(), "tok-a".into()));
        assert_eq!(t[1], ("carol".into(), jwt));
        assert!(parse_tokens("not-a-jwt\n").is_err());
    }
}
