//! Per-method request counters and latency histograms, rendered in the Prometheus text format
//! (exposition format 0.0.4) and summarised for the GetAgentMetrics call.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, seconds: 50 µs doubling up to ~26 s.
fn bucket_bounds() -> impl Iterator<Item = f64> {
    (0..20).map(|i| 50e-6 * f64::from(1u32 << i))
}

const BUCKETS: usize = 20;

#[derive(Debug, Default, Clone)]
struct MethodStats {
    /// Count per gRPC status code name ("OK", "PERMISSION_DENIED", ...).
    by_code: BTreeMap<&'static str, u64>,
    buckets: [u64; BUCKETS],
    /// Calls slower than the last bucket.
    overflow: u64,
    sum_seconds: f64,
    count: u64,
}

/// A snapshot of one method's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodSummary {
    pub method: String,
    pub requests: u64,
    pub errors: u64,
    pub sum_seconds: f64,
    pub p50_seconds: f64,
    pub p99_seconds: f64,
}

/// A gauge to render: name, help text, and (label set, value) pairs; the label set is either
/// empty or `{k="v",...}`.
pub type Gauge<'a> = (&'a str, &'a str, Vec<(String, f64)>);

#[derive(Debug, Default)]
pub struct Metrics {
    methods: Mutex<BTreeMap<String, MethodStats>>,
}

impl Metrics {
    /// Records one finished call. Unknown paths are folded into one series so a client cannot
    /// grow the table without bound.
    pub fn record(&self, method: &str, known: bool, code: tonic::Code, elapsed: Duration) {
        let key = if known { method } else { "unknown" };
        let secs = elapsed.as_secs_f64();
        let Ok(mut methods) = self.methods.lock() else { return };
        // Look up first: the series exists for all but the first call of a method, and this runs
        // on every request.
        if !methods.contains_key(key) {
            methods.insert(key.to_owned(), MethodStats::default());
        }
        let Some(stats) = methods.get_mut(key) else { return };
        *stats.by_code.entry(code_name(code)).or_default() += 1;
        stats.count += 1;
        stats.sum_seconds += secs;
        match bucket_bounds().position(|b| secs <= b) {
            Some(i) => stats.buckets[i] += 1,
            None => stats.overflow += 1,
        }
    }

    pub fn summaries(&self) -> Vec<MethodSummary> {
        let Ok(methods) = self.methods.lock() else { return Vec::new() };
        methods
            .iter()
            .map(|(method, s)| MethodSummary {
                method: method.clone(),
                requests: s.count,
                errors: s.count - s.by_code.get("OK").copied().unwrap_or(0),
                sum_seconds: s.sum_seconds,
                p50_seconds: quantile(s, 0.50),
                p99_seconds: quantile(s, 0.99),
            })
            .collect()
    }

    /// The Prometheus text exposition of every series, plus the gauges passed in.
    pub fn render(&self, gauges: &[Gauge<'_>]) -> String {
        let mut out = String::new();
        let Ok(methods) = self.methods.lock() else { return out };
        let requests = methods.iter().flat_map(|(method, s)| {
            s.by_code
                .iter()
                .map(move |(code, n)| (labels(&[("method", method), ("code", code)]), n))
        });
        family(
            &mut out,
            "dpud_grpc_requests_total",
            "counter",
            "gRPC calls handled, by method and status code.",
            requests,
        );
        let durations = methods.iter().map(|(method, s)| HistogramSeries {
            labels: vec![("method", method.as_str())],
            buckets: bucket_bounds().map(Some).zip(s.buckets).chain([(None, s.overflow)]).collect(),
            sum: s.sum_seconds,
        });
        histogram_family(
            &mut out,
            "dpud_grpc_request_duration_seconds",
            "Time from request to response headers.",
            durations,
        );
        for (name, help, series) in gauges {
            family(&mut out, name, "gauge", help, series.iter().map(|(l, v)| (l.as_str(), v)));
        }
        out
    }
}

/// Writes one metric family: its HELP and TYPE lines once, then one line per series. A
/// series is a label set (empty, or `{k="v",...}` as [`labels`] makes it) and a value.
pub fn family<L: AsRef<str>, V: std::fmt::Display>(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    series: impl IntoIterator<Item = (L, V)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in series {
        let _ = writeln!(out, "{name}{} {value}", labels.as_ref());
    }
}

/// One series of a histogram family: its labels, each bucket's count (not cumulative) with
/// its upper bound (`None`: the last, unbounded), and the sum of what was observed.
#[derive(Debug, Clone)]
pub struct HistogramSeries<'a> {
    pub labels: Vec<(&'a str, &'a str)>,
    pub buckets: Vec<(Option<f64>, u64)>,
    pub sum: f64,
}

/// Writes one histogram family: HELP and TYPE once, then for each series its cumulative
/// `_bucket` lines (`le`, ending with `+Inf`), `_sum` and `_count`.
pub fn histogram_family<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    series: impl IntoIterator<Item = HistogramSeries<'a>>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
    for s in series {
        let mut cumulative: u64 = 0;
        let mut bounded_last = true;
        for (bound, n) in &s.buckets {
            // Saturating: the counts come from a service process.
            cumulative = cumulative.saturating_add(*n);
            bounded_last = bound.is_some();
            let le = bound.map_or_else(|| "+Inf".to_owned(), |b| b.to_string());
            let mut pairs = s.labels.clone();
            pairs.push(("le", &le));
            let _ = writeln!(out, "{name}_bucket{} {cumulative}", labels(&pairs));
        }
        if bounded_last {
            let mut pairs = s.labels.clone();
            pairs.push(("le", "+Inf"));
            let _ = writeln!(out, "{name}_bucket{} {cumulative}", labels(&pairs));
        }
        let _ = writeln!(out, "{name}_sum{} {}", labels(&s.labels), s.sum);
        let _ = writeln!(out, "{name}_count{} {cumulative}", labels(&s.labels));
    }
}

/// A label set, `{k="v",...}`, with every value escaped as the exposition format requires
/// (backslash, double quote and line feed); label values may come from operators.
pub fn labels(pairs: &[(&str, &str)]) -> String {
    let mut out = String::from("{");
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// Estimates a quantile as the upper bound of the bucket holding it (conservative).
fn quantile(s: &MethodStats, q: f64) -> f64 {
    if s.count == 0 {
        return 0.0;
    }
    // ceil(q * count) as an integer rank, 1-based.
    let rank = ((q * s.count as f64).ceil() as u64).max(1);
    let mut cumulative = 0;
    for (bound, n) in bucket_bounds().zip(s.buckets) {
        cumulative += n;
        if cumulative >= rank {
            return bound;
        }
    }
    f64::INFINITY
}

/// The canonical upper-case name of a status code, as in the gRPC status code documentation.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_codes_and_estimates_quantiles() {
        let m = Metrics::default();
        for _ in 0..98 {
            m.record("/a/B", true, tonic::Code::Ok, Duration::from_micros(40));
        }
        m.record("/a/B", true, tonic::Code::PermissionDenied, Duration::from_millis(3));
        m.record("/a/B", true, tonic::Code::Ok, Duration::from_secs(100));
        m.record("/evil/path", false, tonic::Code::Unimplemented, Duration::from_micros(1));
        let s = m.summaries();
        let b = s.iter().find(|s| s.method == "/a/B").unwrap();
        assert_eq!((b.requests, b.errors), (100, 1));
        assert_eq!(b.p50_seconds, 50e-6);
        assert!(b.p99_seconds >= 0.003 && b.p99_seconds < 0.01, "{}", b.p99_seconds);
        assert!(s.iter().any(|s| s.method == "unknown"));
        let text = m.render(&[("dpud_up", "Always 1.", vec![(String::new(), 1.0)])]);
        assert!(
            text.contains("dpud_grpc_requests_total{method=\"/a/B\",code=\"PERMISSION_DENIED\"} 1")
        );
        assert!(text.contains("dpud_grpc_request_duration_seconds_count{method=\"/a/B\"} 100"));
        assert!(text.contains("le=\"+Inf\"} 100"));
        assert!(text.contains("dpud_up 1"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(labels(&[("a", "x"), ("b", "q\"b\\n\nz")]), r#"{a="x",b="q\"b\\n\nz"}"#);
    }
}
