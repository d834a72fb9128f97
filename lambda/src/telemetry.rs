//! Tracing setup, one line per event that fits its sink:
//!
//! - **JSON lines** in Lambda (CloudWatch parses them and stamps the time)
//!   and wherever `CHAT_LOG_FORMAT=json` (or `chat-local --log-format json`);
//! - **text** elsewhere, coloured only when the output is a terminal (and
//!   `NO_COLOR` is unset), so a log file never gets escape codes.
//!
//! Either way a line carries the fields of every span it happened in, root
//! first, then the event's own, **each field once**: an inner span or the
//! event overrides an outer one of the same name instead of repeating it.
//! So the invocation's request id (lambda_runtime's `requestId`, our
//! `request_id`) is on every line of that invocation. Levels from `RUST_LOG`
//! (default `info`): a level, `target=level` directives, or both,
//! comma-separated (`info,chat_core=debug`). Span and field filters
//! (`[span{field=value}]`) are not read: their regex engine cost every
//! function ~0.2 MB zipped, and no deployment sets them.

use std::fmt;
use std::io::IsTerminal;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, JsonFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormattedFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

impl LogFormat {
    /// JSON in Lambda; otherwise `CHAT_LOG_FORMAT` (`json` or `text`),
    /// text by default.
    pub fn from_env() -> Self {
        if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
            return LogFormat::Json;
        }
        match std::env::var("CHAT_LOG_FORMAT").as_deref() {
            Ok("json") => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "json" => Ok(LogFormat::Json),
            "text" => Ok(LogFormat::Text),
            other => Err(format!("expected json or text, got {other:?}")),
        }
    }
}

/// Installs the global subscriber once (format from the environment);
/// later calls are no-ops.
pub fn init() {
    init_with(LogFormat::from_env());
}

/// [`init`] with an explicit format (a command-line option).
pub fn init_with(format: LogFormat) {
    let (filter, unreadable) = levels(std::env::var("RUST_LOG").ok().as_deref());
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let colour = format == LogFormat::Text
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let lines = Lines {
        json: format == LogFormat::Json,
        colour,
        // CloudWatch stamps each line itself.
        time: !in_lambda,
    };
    // Already initialised (tests, or the local platform hosting many handlers).
    if subscriber(lines, std::io::stdout, filter)
        .try_init()
        .is_ok()
    {
        if let Some(error) = unreadable {
            tracing::warn!(%error, "RUST_LOG unreadable: logging at info");
        }
    }
}

/// The levels `RUST_LOG` names, or `info` when it is unset or empty, or
/// unreadable (then with the reason, logged once the subscriber is up).
fn levels(rust_log: Option<&str>) -> (Targets, Option<String>) {
    let info = || Targets::new().with_default(tracing::Level::INFO);
    match rust_log.map(str::trim).filter(|s| !s.is_empty()) {
        None => (info(), None),
        Some(s) => match s.parse::<Targets>() {
            Ok(targets) => (targets, None),
            Err(e) => (info(), Some(format!("{s:?}: {e}"))),
        },
    }
}

/// The subscriber `init` installs, writing to `writer`.
fn subscriber<W>(lines: Lines, writer: W, filter: Targets) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .fmt_fields(JsonFields::new())
            .event_format(lines)
            .with_writer(writer)
            .with_filter(filter),
    )
}

/// The line format: every span's fields and the event's, merged by name.
#[derive(Clone, Copy, Debug)]
struct Lines {
    json: bool,
    colour: bool,
    time: bool,
}

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Map::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let ext = span.extensions();
                // Span fields are stored as JSON (`fmt_fields(JsonFields)`).
                if let Some(f) = ext.get::<FormattedFields<N>>() {
                    if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(f.as_str()) {
                        fields.extend(m);
                    }
                }
            }
        }
        let mut own = Collect(Map::new());
        event.record(&mut own);
        let mut own = own.0;
        let message = own.remove("message");
        fields.extend(own);
        let level = *event.metadata().level();

        let mut time = String::new();
        if self.time {
            SystemTime.format_time(&mut Writer::new(&mut time))?;
        }
        if self.json {
            let mut line = Map::new();
            if self.time {
                line.insert("timestamp".into(), Value::String(time));
            }
            line.insert("level".into(), Value::String(level.to_string()));
            if let Some(m) = message {
                line.insert("message".into(), m);
            }
            // The line's own keys win over a field of the same name.
            for (k, v) in fields {
                line.entry(k).or_insert(v);
            }
            let text = serde_json::to_string(&Value::Object(line)).map_err(|_| fmt::Error)?;
            return writeln!(w, "{text}");
        }

        if self.time {
            write!(w, "{time} ")?;
        }
        if self.colour {
            let code = match level {
                tracing::Level::ERROR => "31",
                tracing::Level::WARN => "33",
                tracing::Level::INFO => "32",
                tracing::Level::DEBUG => "34",
                tracing::Level::TRACE => "35",
            };
            write!(w, "\x1b[{code}m{level:>5}\x1b[0m")?;
        } else {
            write!(w, "{level:>5}")?;
        }
        if let Some(m) = message {
            match m {
                Value::String(s) => write!(w, " {s}")?,
                other => write!(w, " {other}")?,
            }
        }
        for (k, v) in fields {
            match v {
                Value::String(s) => write!(w, " {k}={s}")?,
                other => write!(w, " {k}={other}")?,
            }
        }
        writeln!(w)
    }
}

/// An event's fields as JSON values.
struct Collect(Map<String, Value>);

impl Visit for Collect {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().into(), Value::String(value.into()));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0
            .insert(field.name().into(), Value::String(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::String(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing::subscriber::with_default;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn lines(&self) -> Vec<String> {
            let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
            String::from_utf8(bytes)
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect()
        }
    }

    /// What a message route logs: the invocation's span (with the request
    /// and connection ids), an action span inside it, and events that name
    /// the connection again.
    fn log_an_invocation(lines: Lines) -> Vec<String> {
        let out = Captured::default();
        let writer = out.clone();
        let sub = subscriber(lines, move || writer.clone(), levels(None).0);
        with_default(sub, || {
            let invoke = tracing::info_span!("Lambda runtime invoke", requestId = "req-1");
            let _i = invoke.enter();
            let message =
                tracing::info_span!("message", request_id = "apigw-1", connection_id = "C1=");
            let _m = message.enter();
            tracing::info!(connection_id = "C1=", user_id = "alice", "connected");
            let action =
                tracing::info_span!("action", user_id = "alice", room_id = tracing::field::Empty);
            let _a = action.enter();
            action.record("room_id", "r_1");
            tracing::warn!(connection_id = "C1=", seq = 7u64, "message accepted");
        });
        out.lines()
    }

    #[test]
    fn json_lines_carry_every_field_once_and_the_request_id_on_each() {
        let lines = log_an_invocation(Lines {
            json: true,
            colour: false,
            time: false,
        });
        assert_eq!(lines.len(), 2, "{lines:?}");
        for line in &lines {
            for key in [
                "\"connection_id\":",
                "\"user_id\":",
                "\"requestId\":",
                "\"request_id\":",
            ] {
                assert_eq!(line.matches(key).count(), 1, "{key} in {line}");
            }
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(
                (v["requestId"].as_str(), v["connection_id"].as_str()),
                (Some("req-1"), Some("C1="))
            );
        }
        let last: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(
            (
                last["level"].as_str(),
                last["message"].as_str(),
                last["room_id"].as_str(),
                last["seq"].as_u64()
            ),
            (Some("WARN"), Some("message accepted"), Some("r_1"), Some(7))
        );
    }

    #[test]
    fn text_lines_carry_every_field_once_and_no_colour_off_a_terminal() {
        let lines = log_an_invocation(Lines {
            json: false,
            colour: false,
            time: true,
        });
        assert_eq!(lines.len(), 2, "{lines:?}");
        for line in &lines {
            assert!(!line.contains('\x1b'), "escape codes in {line:?}");
            for key in [" connection_id=", " user_id=", " requestId="] {
                assert_eq!(line.matches(key).count(), 1, "{key} in {line}");
            }
        }
        assert!(lines[1].contains(" WARN message accepted"), "{}", lines[1]);
        let coloured = log_an_invocation(Lines {
            json: false,
            colour: true,
            time: false,
        });
        assert!(coloured[0].contains("\x1b[32m"), "{}", coloured[0]);
    }

    #[test]
    fn rust_log_names_levels_per_target_and_anything_else_logs_at_info() {
        use tracing::Level;
        use tracing_subscriber::filter::LevelFilter;
        let at = |t: &Targets, target: &str, level: Level| t.would_enable(target, &level);
        for unset in [None, Some(""), Some("  ")] {
            let (t, error) = levels(unset);
            assert!(error.is_none());
            assert!(at(&t, "chat_core", Level::INFO) && !at(&t, "chat_core", Level::DEBUG));
        }
        let (t, error) = levels(Some("warn,chat_core=trace"));
        assert!(error.is_none());
        assert!(at(&t, "chat_core::service", Level::TRACE));
        assert!(at(&t, "hyper", Level::WARN) && !at(&t, "hyper", Level::INFO));
        let (t, error) = levels(Some("chat_core=loud"));
        assert!(error.is_some_and(|e| e.contains("chat_core=loud")));
        assert_eq!(t.default_level(), Some(LevelFilter::INFO));
    }

    #[test]
    fn the_format_is_named_on_the_command_line_or_in_the_environment() {
        assert_eq!("json".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert_eq!("text".parse::<LogFormat>(), Ok(LogFormat::Text));
        assert!("xml".parse::<LogFormat>().is_err());
    }
}
