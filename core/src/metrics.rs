//! Business metrics as CloudWatch Embedded Metric Format (EMF): in Lambda, a
//! call writes one JSON line to stdout with an `_aws` block, and CloudWatch
//! Logs turns it into metrics in namespace [`NAMESPACE`] — no SDK call, no
//! extra latency, no IAM permission beyond writing logs. Everywhere else
//! (the local platform, tests, the benchmark) the values are aggregated in
//! memory instead and can be read with [`snapshot`].
//!
//! One call is one line, so values that belong to one event go together:
//!
//! ```
//! use chat_core::metrics::{self, Metric};
//! metrics::record(&[(Metric::MessagesAccepted, 1.0), (Metric::FanoutSize, 9.0)]);
//! metrics::record_all(Metric::PersistLatencyMs, &[12.0, 15.0, 31.0]);
//! ```
//!
//! Lines carry the dimension `Function` (the Lambda's name), so a metric can
//! be graphed per function; `record_all` packs up to 100 values into one
//! line (EMF's limit per metric), which is how a persist batch reports the
//! latency of each of its messages without one line per message.
//!
//! [`record_with`] adds one more [`Dimension`] from a closed set of values
//! (why a token was refused). Such a line declares two dimension sets,
//! `[Function]` and `[Function, <name>]`, so alarms read the total per
//! function and dashboards split it by the extra dimension.
//!
//! Tests see what *they* recorded with `capture::Capture` (feature
//! `capture`, on for this crate's own tests): a per-thread recorder, which a
//! `#[tokio::test]` (one thread) fills with exactly its own calls. The
//! process-wide [`snapshot`] mixes in every other test's values.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use serde::Serialize;
use serde_json::{json, Map, Value};

/// The CloudWatch namespace of every metric here.
pub const NAMESPACE: &str = "Chat";

/// EMF allows at most 100 values per metric in one line.
pub const MAX_VALUES_PER_LINE: usize = 100;

/// The platform's metrics. Names are CloudWatch metric names: never rename
/// one (dashboards and alarms refer to them); add new ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// A new message was accepted (queued, pushed, acked).
    MessagesAccepted,
    /// Connections a message was pushed to.
    FanoutSize,
    /// Pushes that still failed after retries (left to `sync`).
    PushesFailed,
    /// Pushes answered 410: connections found gone and removed.
    PushesGone,
    /// Records in one persistence batch.
    PersistBatchSize,
    /// now − `sentAt` of each persisted message: how far storage lags.
    PersistLatencyMs,
    /// now − SQS `SentTimestamp` of each record: time spent queued.
    QueueAgeMs,
    /// Requests refused by a rate limit.
    RateLimited,
    /// The Redis cache's circuit breaker opened: this instance serves from
    /// the stores alone and rate-limits on its own memory until a probe
    /// finds Redis back.
    CacheCircuitOpened,
    /// `$connect` tokens the authorizer refused (expired, forged, malformed,
    /// missing), with the dimension `Reason`. The client's fault: each one
    /// is also a Lambda error (API Gateway answers 401 only to an authorizer
    /// that fails with `Unauthorized`), which alarms must not count.
    TokensRefused,
    /// `$connect` tokens the authorizer could not check, for a failure of
    /// ours (the JWKS could not be fetched).
    AuthFailures,
    /// Offline notifications sent to push devices.
    NotificationsSent,
    /// Offline notifications that failed (the push service refused or
    /// could not be reached): what the alarm watches.
    NotificationFailures,
    /// The function that sends offline notifications started without a
    /// usable VAPID key (its secret missing, still the placeholder, or
    /// unreadable): Web Push is off until the next cold start. Alarmed.
    WebPushDisabled,
    /// Publishes to mobile devices (SNS platform endpoints) that failed,
    /// a part of `NotificationFailures` of its own: SNS or the platform
    /// application (an expired FCM key, an APNs certificate) failing.
    /// Alarmed.
    MobilePushFailures,
}

impl Metric {
    pub const ALL: [Metric; 15] = [
        Metric::MessagesAccepted,
        Metric::FanoutSize,
        Metric::PushesFailed,
        Metric::PushesGone,
        Metric::PersistBatchSize,
        Metric::PersistLatencyMs,
        Metric::QueueAgeMs,
        Metric::RateLimited,
        Metric::CacheCircuitOpened,
        Metric::TokensRefused,
        Metric::AuthFailures,
        Metric::NotificationsSent,
        Metric::NotificationFailures,
        Metric::WebPushDisabled,
        Metric::MobilePushFailures,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::MessagesAccepted => "MessagesAccepted",
            Metric::FanoutSize => "FanoutSize",
            Metric::PushesFailed => "PushesFailed",
            Metric::PushesGone => "PushesGone",
            Metric::PersistBatchSize => "PersistBatchSize",
            Metric::PersistLatencyMs => "PersistLatencyMs",
            Metric::QueueAgeMs => "QueueAgeMs",
            Metric::RateLimited => "RateLimited",
            Metric::CacheCircuitOpened => "CacheCircuitOpened",
            Metric::TokensRefused => "TokensRefused",
            Metric::AuthFailures => "AuthFailures",
            Metric::NotificationsSent => "NotificationsSent",
            Metric::NotificationFailures => "NotificationFailures",
            Metric::WebPushDisabled => "WebPushDisabled",
            Metric::MobilePushFailures => "MobilePushFailures",
        }
    }

    /// The CloudWatch unit.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::PersistLatencyMs | Metric::QueueAgeMs => "Milliseconds",
            _ => "Count",
        }
    }
}

/// A dimension beside `Function`: a fixed name and a value from a closed,
/// small set (each value is a separate CloudWatch metric, billed as one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dimension {
    pub name: &'static str,
    pub value: &'static str,
}

/// One EMF line: `values` under `function`, stamped `timestamp_ms`. A metric
/// with one value is written as a number, several as an array.
pub fn emf_line(function: &str, timestamp_ms: i64, values: &[(Metric, &[f64])]) -> String {
    emf_line_with(function, None, timestamp_ms, values)
}

/// [`emf_line`] with one more dimension: the metrics are published both per
/// `Function` and per `Function` × `dimension`.
pub fn emf_line_with(
    function: &str,
    dimension: Option<Dimension>,
    timestamp_ms: i64,
    values: &[(Metric, &[f64])],
) -> String {
    let mut root = Map::new();
    let mut defs = Vec::new();
    for (metric, vs) in values {
        if vs.is_empty() || root.contains_key(metric.name()) {
            continue;
        }
        defs.push(json!({ "Name": metric.name(), "Unit": metric.unit() }));
        let v = match vs {
            [one] => json!(one),
            many => json!(many),
        };
        root.insert(metric.name().to_owned(), v);
    }
    root.insert("Function".into(), json!(function));
    let dimensions = match dimension {
        Some(d) => {
            root.insert(d.name.into(), json!(d.value));
            json!([["Function"], ["Function", d.name]])
        }
        None => json!([["Function"]]),
    };
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": dimensions,
                "Metrics": defs,
            }]
        }),
    );
    Value::Object(root).to_string()
}

/// Count, sum, min and max of the values recorded for one metric.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    fn add(&mut self, v: f64) {
        if self.count == 0 {
            self.min = v;
            self.max = v;
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.count += 1;
        self.sum += v;
    }

    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
}

enum Sink {
    /// EMF lines on stdout (in Lambda).
    Emf { function: String },
    /// Summaries in memory (everywhere else).
    Aggregate(Mutex<BTreeMap<Metric, Summary>>),
}

static SINK: OnceLock<Sink> = OnceLock::new();

fn sink() -> &'static Sink {
    SINK.get_or_init(|| match std::env::var("AWS_LAMBDA_FUNCTION_NAME") {
        Ok(function) if !function.is_empty() => Sink::Emf { function },
        _ => Sink::Aggregate(Mutex::default()),
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn write_line(line: &str) {
    // One write of the whole line, so it never interleaves with a log line.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(format!("{line}\n").as_bytes());
    let _ = out.flush();
}

/// Records values that belong to one event (one EMF line in Lambda).
pub fn record(values: &[(Metric, f64)]) {
    record_in(None, values);
}

/// [`record`] under one more dimension (see [`emf_line_with`]).
pub fn record_with(dimension: Dimension, values: &[(Metric, f64)]) {
    record_in(Some(dimension), values);
}

fn record_in(dimension: Option<Dimension>, values: &[(Metric, f64)]) {
    #[cfg(any(test, feature = "capture"))]
    capture::note(dimension, values.iter().copied());
    match sink() {
        Sink::Emf { function } => {
            let slices: Vec<(Metric, Vec<f64>)> =
                values.iter().map(|(m, v)| (*m, vec![*v])).collect();
            let refs: Vec<(Metric, &[f64])> =
                slices.iter().map(|(m, v)| (*m, v.as_slice())).collect();
            write_line(&emf_line_with(function, dimension, now_ms(), &refs));
        }
        Sink::Aggregate(agg) => {
            let mut g = agg.lock().unwrap_or_else(|p| p.into_inner());
            for (m, v) in values {
                g.entry(*m).or_default().add(*v);
            }
        }
    }
}

/// Records many values of one metric (100 per EMF line). No values, no
/// line and no summary: callers pass what they collected, empty or not.
pub fn record_all(metric: Metric, values: &[f64]) {
    if values.is_empty() {
        return;
    }
    #[cfg(any(test, feature = "capture"))]
    capture::note(None, values.iter().map(|v| (metric, *v)));
    match sink() {
        Sink::Emf { function } => {
            for chunk in values.chunks(MAX_VALUES_PER_LINE) {
                write_line(&emf_line(function, now_ms(), &[(metric, chunk)]));
            }
        }
        Sink::Aggregate(agg) => {
            let mut g = agg.lock().unwrap_or_else(|p| p.into_inner());
            let s = g.entry(metric).or_default();
            for v in values {
                s.add(*v);
            }
        }
    }
}

/// What was recorded so far, by metric name (empty in Lambda, where the
/// values went to stdout).
pub fn snapshot() -> BTreeMap<&'static str, Summary> {
    match sink() {
        Sink::Emf { .. } => BTreeMap::new(),
        Sink::Aggregate(agg) => agg
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(m, s)| (m.name(), *s))
            .collect(),
    }
}

/// Per-test capture of what was recorded (feature `capture`).
#[cfg(any(test, feature = "capture"))]
pub mod capture {
    use std::cell::RefCell;

    use super::{Dimension, Metric};

    /// One recorded value.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Recorded {
        pub metric: Metric,
        pub dimension: Option<Dimension>,
        pub value: f64,
    }

    thread_local! {
        static ACTIVE: RefCell<Option<Vec<Recorded>>> = const { RefCell::new(None) };
    }

    pub(super) fn note(dimension: Option<Dimension>, values: impl Iterator<Item = (Metric, f64)>) {
        ACTIVE.with(|a| {
            if let Some(got) = a.borrow_mut().as_mut() {
                got.extend(values.map(|(metric, value)| Recorded {
                    metric,
                    dimension,
                    value,
                }));
            }
        });
    }

    /// Records, on this thread, everything recorded from its start until it
    /// is dropped (values still go to the sink as well). One at a time per
    /// thread: starting one while another runs restarts the recording.
    pub struct Capture {
        _not_send: std::marker::PhantomData<*const ()>,
    }

    impl Capture {
        pub fn start() -> Self {
            ACTIVE.with(|a| *a.borrow_mut() = Some(Vec::new()));
            Self {
                _not_send: std::marker::PhantomData,
            }
        }

        /// Everything recorded so far.
        pub fn recorded(&self) -> Vec<Recorded> {
            ACTIVE.with(|a| a.borrow().clone().unwrap_or_default())
        }

        /// The sum of `metric`'s values, across dimensions.
        pub fn sum(&self, metric: Metric) -> f64 {
            self.recorded()
                .iter()
                .filter(|r| r.metric == metric)
                .map(|r| r.value)
                .sum()
        }
    }

    impl Drop for Capture {
        fn drop(&mut self) {
            ACTIVE.with(|a| *a.borrow_mut() = None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emf_line_declares_every_metric_it_carries() {
        let line = emf_line(
            "chat-message",
            1_700_000_000_000,
            &[
                (Metric::MessagesAccepted, &[1.0]),
                (Metric::PersistLatencyMs, &[12.0, 30.5]),
                (Metric::PushesGone, &[]),
            ],
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        assert!(!line.contains('\n'));
        assert_eq!(v["Function"], "chat-message");
        assert_eq!(v["MessagesAccepted"], 1.0);
        assert_eq!(v["PersistLatencyMs"], json!([12.0, 30.5]));
        assert!(v.get("PushesGone").is_none(), "no values, no metric");
        let aws = &v["_aws"];
        assert_eq!(aws["Timestamp"], 1_700_000_000_000i64);
        let decl = &aws["CloudWatchMetrics"][0];
        assert_eq!(decl["Namespace"], "Chat");
        assert_eq!(decl["Dimensions"], json!([["Function"]]));
        assert_eq!(
            decl["Metrics"],
            json!([
                {"Name": "MessagesAccepted", "Unit": "Count"},
                {"Name": "PersistLatencyMs", "Unit": "Milliseconds"}
            ])
        );
    }

    #[test]
    fn a_line_with_a_dimension_is_published_per_function_and_per_dimension() {
        let reason = Dimension {
            name: "Reason",
            value: "expired",
        };
        let line = emf_line_with(
            "chat-authorizer",
            Some(reason),
            1_700_000_000_000,
            &[(Metric::TokensRefused, &[1.0])],
        );
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["Function"], "chat-authorizer");
        assert_eq!(v["Reason"], "expired");
        assert_eq!(v["TokensRefused"], 1.0);
        let decl = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(
            decl["Dimensions"],
            json!([["Function"], ["Function", "Reason"]])
        );
        assert_eq!(
            decl["Metrics"],
            json!([{"Name": "TokensRefused", "Unit": "Count"}])
        );
    }

    #[test]
    fn a_capture_sees_this_threads_values_with_their_dimension_and_stops_when_dropped() {
        let reason = Dimension {
            name: "Reason",
            value: "malformed",
        };
        let cap = capture::Capture::start();
        record_with(reason, &[(Metric::TokensRefused, 1.0)]);
        record_all(Metric::QueueAgeMs, &[3.0, 4.0]);
        let elsewhere = std::thread::spawn(|| record(&[(Metric::TokensRefused, 5.0)]));
        elsewhere.join().unwrap();
        assert_eq!(
            cap.recorded(),
            vec![
                capture::Recorded {
                    metric: Metric::TokensRefused,
                    dimension: Some(reason),
                    value: 1.0
                },
                capture::Recorded {
                    metric: Metric::QueueAgeMs,
                    dimension: None,
                    value: 3.0
                },
                capture::Recorded {
                    metric: Metric::QueueAgeMs,
                    dimension: None,
                    value: 4.0
                },
            ]
        );
        assert_eq!(cap.sum(Metric::TokensRefused), 1.0);
        drop(cap);
        record(&[(Metric::TokensRefused, 1.0)]);
        let after = capture::Capture::start();
        assert!(after.recorded().is_empty());
    }

    #[test]
    fn every_metric_has_a_distinct_name() {
        let names: std::collections::BTreeSet<_> = Metric::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(names.len(), Metric::ALL.len());
    }

    #[test]
    fn summaries_keep_count_sum_min_max() {
        let mut s = Summary::default();
        for v in [5.0, 1.0, 9.0] {
            s.add(v);
        }
        assert_eq!((s.count, s.sum, s.min, s.max), (3, 15.0, 1.0, 9.0));
        assert_eq!(s.mean(), 5.0);
    }

    #[test]
    fn outside_lambda_values_are_aggregated() {
        // Tests never run with AWS_LAMBDA_FUNCTION_NAME set.
        record(&[(Metric::RateLimited, 1.0)]);
        record_all(Metric::RateLimited, &[1.0, 1.0]);
        assert!(snapshot()["RateLimited"].count >= 3);
    }

    #[test]
    fn recording_no_values_leaves_no_empty_summary() {
        // Other tests may record real QueueAgeMs values; never an empty one.
        record_all(Metric::QueueAgeMs, &[]);
        let s = snapshot().get("QueueAgeMs").copied();
        assert!(s.is_none_or(|s| s.count > 0), "{s:?}");
    }
}
