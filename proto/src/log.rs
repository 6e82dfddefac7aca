//! Provider logs the way Terraform reads them. A plugin's standard error goes to
//! Terraform, which takes each line that is an hclog JSON object
//! (`{"@level":"debug","@message":"…",…}`) as a log entry of that provider and
//! shows it under its own `TF_LOG` settings. The level comes from
//! `TF_LOG_PROVIDER`, else `TF_LOG`, as terraform-plugin-go's server reads them
//! (the plugin inherits Terraform's environment): `TRACE`, `DEBUG`, `INFO`,
//! `WARN`, `ERROR`, `JSON` (trace); unset, empty or `OFF` logs nothing, and any
//! other value means trace, as Terraform treats it.
//!
//! A small [`tracing::Subscriber`] of our own writes the lines: events only (no
//! span bookkeeping), from this process's crates, plus warnings and errors from
//! the libraries beneath them.

use std::io::Write as _;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber, span};

/// Installs the subscriber when the environment asks for provider logs.
/// Called once when serving starts; a second subscriber is left alone.
pub(crate) fn init_from_env() {
    let setting = std::env::var("TF_LOG_PROVIDER")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| std::env::var("TF_LOG").ok());
    if let Some(level) = setting.as_deref().and_then(level_of) {
        let _ = tracing::subscriber::set_global_default(Hclog { level });
    }
}

/// The most verbose level a `TF_LOG` value lets through; `None` logs nothing.
fn level_of(setting: &str) -> Option<Level> {
    match setting.trim().to_ascii_uppercase().as_str() {
        "" | "OFF" => None,
        "DEBUG" => Some(Level::DEBUG),
        "INFO" => Some(Level::INFO),
        "WARN" => Some(Level::WARN),
        "ERROR" => Some(Level::ERROR),
        // TRACE, JSON, and values Terraform does not know (it logs those at trace).
        _ => Some(Level::TRACE),
    }
}

struct Hclog {
    level: Level,
}

/// Events of the provider's own crates pass at every level; the gRPC stack's only
/// when they are warnings or errors (its debug output is per frame).
fn is_ours(metadata: &Metadata<'_>) -> bool {
    let target = metadata.target();
    !target.starts_with("h2")
        && !target.starts_with("hyper")
        && !target.starts_with("tower")
        && !target.starts_with("tonic")
        && !target.starts_with("rustls")
}

impl Subscriber for Hclog {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // tracing orders levels by verbosity: ERROR < WARN < … < TRACE.
        *metadata.level() <= self.level && (is_ours(metadata) || *metadata.level() <= Level::WARN)
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let line = hclog_line(event);
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "{line}");
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

/// One hclog JSON object. The `@timestamp` is in the one layout go-plugin parses
/// (microseconds, `Z`); a line without one is logged with a zero time.
fn hclog_line(event: &Event<'_>) -> String {
    let mut fields = Fields(Map::new());
    event.record(&mut fields);
    let mut line = fields.0;
    let message = line
        .remove("message")
        .unwrap_or(Json::String(String::new()));
    let metadata = event.metadata();
    line.insert(
        "@level".into(),
        Json::String(metadata.level().as_str().to_ascii_lowercase()),
    );
    line.insert("@message".into(), message);
    line.insert(
        "@timestamp".into(),
        Json::String(timestamp(SystemTime::now())),
    );
    line.insert(
        "@module".into(),
        Json::String(metadata.target().replace("::", ".")),
    );
    Json::Object(line).to_string()
}

/// `2026-12-03T07:14:42.984123Z`: UTC, to the microsecond.
fn timestamp(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // The civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_micros()
    )
}

struct Fields(Map<String, Json>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().into(), Json::String(value.into()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Json::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Json::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Json::Bool(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), Json::String(format!("{value:?}")));
    }
}

/// One RPC, logged when it arrives and when it is answered (with how long it took).
/// Only the RPC name and the type or function it is about are logged: never a value.
pub(crate) struct Call {
    rpc: &'static str,
    subject: String,
    started: Instant,
}

impl Call {
    pub(crate) fn start(rpc: &'static str, subject: &str) -> Call {
        tracing::debug!(target: "tfplugin::rpc", tf_rpc = rpc, subject, "received request");
        Call {
            rpc,
            subject: subject.to_string(),
            started: Instant::now(),
        }
    }
}

impl Drop for Call {
    fn drop(&mut self) {
        let elapsed_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::debug!(
            target: "tfplugin::rpc",
            tf_rpc = self.rpc,
            subject = self.subject.as_str(),
            elapsed_ms,
            "served request"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_in_go_plugins_layout() {
        let at = UNIX_EPOCH + std::time::Duration::from_micros(1_796_282_082_984_123);
        assert_eq!(timestamp(at), "2026-12-03T07:14:42.984123Z");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn levels_follow_terraform() {
        assert_eq!(level_of("debug"), Some(Level::DEBUG));
        assert_eq!(level_of("JSON"), Some(Level::TRACE));
        assert_eq!(level_of("verbose"), Some(Level::TRACE));
        assert_eq!(level_of("off"), None);
        assert_eq!(level_of(""), None);
    }

    #[test]
    fn an_event_is_one_hclog_line() {
        use std::sync::{Arc, Mutex};
        // A subscriber that keeps the lines instead of writing them.
        struct Keep(Arc<Mutex<Vec<String>>>);
        impl Subscriber for Keep {
            fn enabled(&self, _: &Metadata<'_>) -> bool {
                true
            }
            fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
                span::Id::from_u64(1)
            }
            fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
            fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
            fn event(&self, event: &Event<'_>) {
                self.0.lock().unwrap().push(hclog_line(event));
            }
            fn enter(&self, _: &span::Id) {}
            fn exit(&self, _: &span::Id) {}
        }
        let lines = Arc::new(Mutex::new(Vec::new()));
        tracing::subscriber::with_default(Keep(Arc::clone(&lines)), || {
            drop(Call::start("CallFunction", "governs"));
        });
        let lines = lines.lock().unwrap();
        let first: Json = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(first["@level"], "debug");
        assert_eq!(first["@message"], "received request");
        assert_eq!(first["tf_rpc"], "CallFunction");
        assert_eq!(first["subject"], "governs");
        let second: Json = serde_json::from_str(&lines[1]).unwrap();
        assert!(second["elapsed_ms"].is_u64(), "{second}");
    }
}
