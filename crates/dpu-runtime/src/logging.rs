//! tracing set-up: text for people, JSON for log collectors.

use std::str::FromStr;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
#[error("unknown log format {0:?}: expected \"text\" or \"json\"")]
pub struct UnknownLogFormat(String);

impl FromStr for LogFormat {
    type Err = UnknownLogFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(UnknownLogFormat(other.to_owned())),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid log level {0:?}: {1}")]
pub struct BadLevel(String, String);

/// Installs the global subscriber writing to stderr. `RUST_LOG`, when set, overrides `level`.
pub fn init(format: LogFormat, level: &str) -> Result<(), BadLevel> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(env) if !env.is_empty() => {
            EnvFilter::try_new(&env).map_err(|e| BadLevel(env, e.to_string()))?
        }
        _ => EnvFilter::try_new(level).map_err(|e| BadLevel(level.to_owned(), e.to_string()))?,
    };
    // Colours only for a person at a terminal: journald and log files would keep the escape
    // codes, and `grep key=value` would miss the coloured fields.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    // A second init (in-process tests) keeps the first subscriber; that is fine.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    Ok(())
}

/// The logging flags of every service binary, for `#[command(flatten)]`.
#[derive(Debug, Clone, clap::Args)]
pub struct LogArgs {
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log filter, e.g. "info" or "info,dpu_nvmf::server=debug".
    #[arg(long, default_value = "info")]
    pub log_level: String,
}

impl LogArgs {
    /// Installs the global subscriber these flags ask for ([`init`]).
    pub fn init(&self) -> Result<(), BadLevel> {
        init(self.log_format, &self.log_level)
    }
}

/// Logs the error `result` ends with, its whole chain (`{:#}`), and hands it back: a
/// service's last words reach its log (JSON for the journal) as well as its exit status.
pub fn logged<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, E> {
    if let Err(e) = &result {
        tracing::error!("{e:#}");
    }
    result
}

/// Lets one log line of a kind through per interval and counts those held back, for lines
/// a peer can cause at will (a refused connection, a denied call): a flood of them would
/// otherwise push the lines that matter past journald's per-unit rate limit.
#[derive(Debug)]
pub struct LogEvery {
    every: std::time::Duration,
    /// When a line was last let through, and how many were held back since.
    state: std::sync::Mutex<(Option<std::time::Instant>, u64)>,
}

impl LogEvery {
    /// At most one line per `every`.
    #[must_use]
    pub const fn new(every: std::time::Duration) -> Self {
        Self { every, state: std::sync::Mutex::new((None, 0)) }
    }

    /// Whether a line may be written now: `Some(held_back)`, the lines held back since the
    /// last one (to be written with it), or `None` (this one is counted instead).
    pub fn admit(&self) -> Option<u64> {
        self.admit_at(std::time::Instant::now())
    }

    fn admit_at(&self, now: std::time::Instant) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (last, held_back) = &mut *state;
        if last.is_some_and(|t| now.saturating_duration_since(t) < self.every) {
            *held_back += 1;
            return None;
        }
        *last = Some(now);
        Some(std::mem::take(held_back))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::LogEvery;

    #[test]
    fn one_line_per_interval_with_the_count_held_back() {
        let every = LogEvery::new(Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(every.admit_at(t0), Some(0));
        assert_eq!(every.admit_at(t0 + Duration::from_secs(1)), None);
        assert_eq!(every.admit_at(t0 + Duration::from_secs(9)), None);
        assert_eq!(every.admit_at(t0 + Duration::from_secs(10)), Some(2));
        assert_eq!(every.admit_at(t0 + Duration::from_secs(25)), Some(0));
    }
}
