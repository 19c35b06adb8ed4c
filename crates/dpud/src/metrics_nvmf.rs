//! The NVMe/TCP target's statistics as Prometheus series: read from the nvmf service on each
//! scrape (the call GetNvmfStats makes, within [`STATS_TIMEOUT`]) and rendered target-wide,
//! per subsystem and per namespace. No per-controller or per-queue series: hosts come and
//! go, and a series per queue would grow without bound. `dpu_nvmf_stats_up` says whether the
//! statistics were read; without them the scrape still answers, with no other nvmf series.

use std::time::Duration;

use dpu_proto::dpu::nvmf::v1::{
    IoCounters, LatencyHistogram, NamespaceCounters, NamespaceStats, NvmfStats, SubsystemStats,
    VolumeStats,
};

use crate::api::nvmf::nvmf_stats_within;
use crate::metrics::{HistogramSeries, family, histogram_family, labels};
use crate::services::Services;

/// How long a scrape waits for the nvmf service.
pub const STATS_TIMEOUT: Duration = Duration::from_secs(2);

/// The nvmf statistics, or None when the service is not configured, does not answer or
/// answers too late.
pub async fn scrape(services: &Services) -> Option<std::sync::Arc<NvmfStats>> {
    nvmf_stats_within(services, STATS_TIMEOUT).await
}

/// A family of counters or gauges: name, help text and how to read the value.
type Family<T> = (&'static str, &'static str, fn(&T) -> u64);

const TARGET: &[Family<NvmfStats>] = &[
    ("dpu_nvmf_connections_total", "TCP connections accepted by the target.", |s| s.connections),
    (
        "dpu_nvmf_connections_shed_total",
        "TCP connections closed on accept: too many were waiting for their Connect.",
        |s| s.connections_shed,
    ),
    (
        "dpu_nvmf_connections_terminated_total",
        "TCP connections closed on a fatal transport error, after sending a C2HTermReq.",
        |s| s.terminated_connections,
    ),
    (
        "dpu_nvmf_keep_alive_expired_total",
        "Controllers ended because their keep-alive timer expired.",
        |s| s.keep_alive_expired,
    ),
    ("dpu_nvmf_connects_refused_total", "Fabrics Connect commands refused, any subsystem.", |s| {
        s.connects_refused
    }),
    (
        "dpu_nvmf_auth_failures_total",
        "Queues closed because in-band authentication (DH-HMAC-CHAP) failed.",
        |s| s.auth_failures,
    ),
    (
        "dpu_nvmf_write_budget_waits_total",
        "Writes whose R2T waited for the target-wide write data budget.",
        |s| s.write_budget_waits,
    ),
    (
        "dpu_nvmf_controllers_evicted_total",
        "Controllers ended to make room for a new Connect to a full controller table.",
        |s| s.controllers_evicted,
    ),
];

/// Figures of now, which fall as well as rise.
const TARGET_GAUGES: &[Family<NvmfStats>] = &[
    (
        "dpu_nvmf_connections_open",
        "TCP connections open now, of every listener, connected or not.",
        |s| s.open_connections,
    ),
    (
        "dpu_nvmf_connections_unconnected",
        "TCP connections open now that wait for their Fabrics Connect.",
        |s| s.unconnected_connections,
    ),
];

fn io(s: &SubsystemStats) -> IoCounters {
    s.io.unwrap_or_default()
}

const SUBSYSTEM: &[Family<SubsystemStats>] = &[
    (
        "dpu_nvmf_subsystem_connects_accepted_total",
        "Fabrics Connect commands accepted (admin and I/O queues).",
        |s| s.connects_accepted,
    ),
    (
        "dpu_nvmf_subsystem_connects_refused_total",
        "Fabrics Connect commands naming the subsystem that were refused.",
        |s| s.connects_refused,
    ),
    (
        "dpu_nvmf_subsystem_commands_total",
        "Completions sent (admin, fabrics and I/O commands) and AERs a controller reset ended.",
        |s| io(s).commands,
    ),
    ("dpu_nvmf_subsystem_reads_total", "Read commands completed successfully.", |s| io(s).reads),
    ("dpu_nvmf_subsystem_writes_total", "Write commands completed successfully.", |s| io(s).writes),
    ("dpu_nvmf_subsystem_read_bytes_total", "Bytes read by successful Read commands.", |s| {
        io(s).read_bytes
    }),
    ("dpu_nvmf_subsystem_write_bytes_total", "Bytes written by successful Write commands.", |s| {
        io(s).write_bytes
    }),
    ("dpu_nvmf_subsystem_errors_total", "Completions with an error status.", |s| io(s).errors),
];

fn counters(n: &NamespaceStats) -> NamespaceCounters {
    n.counters.unwrap_or_default()
}

const NAMESPACE: &[Family<NamespaceStats>] = &[
    ("dpu_nvmf_namespace_reads_total", "Read commands completed successfully.", |n| {
        counters(n).reads
    }),
    ("dpu_nvmf_namespace_writes_total", "Write commands completed successfully.", |n| {
        counters(n).writes
    }),
    ("dpu_nvmf_namespace_read_bytes_total", "Bytes read by successful Read commands.", |n| {
        counters(n).read_bytes
    }),
    ("dpu_nvmf_namespace_write_bytes_total", "Bytes written by successful Write commands.", |n| {
        counters(n).write_bytes
    }),
    ("dpu_nvmf_namespace_errors_total", "I/O commands completed with an error status.", |n| {
        counters(n).errors
    }),
    (
        "dpu_nvmf_namespace_throttled_total",
        "Commands that waited for their volume's rate limit.",
        |n| counters(n).throttled,
    ),
];

/// Each counter family over the given (label set, item) pairs.
fn counter_families<T>(out: &mut String, table: &[Family<T>], items: &[(String, &T)]) {
    families(out, "counter", table, items);
}

/// Each family of `kind` (counter, gauge) over the given (label set, item) pairs.
fn families<T>(out: &mut String, kind: &str, table: &[Family<T>], items: &[(String, &T)]) {
    for (name, help, value) in table {
        family(out, name, kind, help, items.iter().map(|(l, item)| (l, value(item))));
    }
}

/// The exposition text of the nvmf series: `dpu_nvmf_stats_up`, then, with statistics,
/// every target-wide, subsystem and namespace family.
pub fn render(stats: Option<&NvmfStats>) -> String {
    let mut out = String::new();
    let up = if stats.is_some() { 1 } else { 0 };
    family(
        &mut out,
        "dpu_nvmf_stats_up",
        "gauge",
        "1 when this scrape read the nvmf service's statistics.",
        [("", up)],
    );
    let Some(stats) = stats else { return out };
    let target = [(String::new(), stats)];
    counter_families(&mut out, TARGET, &target);
    families(&mut out, "gauge", TARGET_GAUGES, &target);
    let subsystems: Vec<(String, &SubsystemStats)> = stats
        .subsystems
        .iter()
        .map(|s| (labels(&[("subsystem", &s.name), ("nqn", &s.nqn)]), s))
        .collect();
    family(
        &mut out,
        "dpu_nvmf_subsystem_live_controllers",
        "gauge",
        "Controllers connected to the subsystem now.",
        subsystems.iter().map(|(l, s)| (l, s.live_controllers)),
    );
    counter_families(&mut out, SUBSYSTEM, &subsystems);
    let namespaces: Vec<(String, &NamespaceStats)> =
        stats.namespaces.iter().map(|n| (labels(&[("namespace", &n.name)]), n)).collect();
    counter_families(&mut out, NAMESPACE, &namespaces);
    let volumes: Vec<(String, &VolumeStats)> =
        stats.volumes.iter().map(|v| (labels(&[("volume", &v.name)]), v)).collect();
    family(
        &mut out,
        "dpu_nvmf_volume_size_bytes",
        "gauge",
        "The volume's size as hosts see it.",
        volumes.iter().map(|(l, v)| (l, v.size_bytes)),
    );
    family(
        &mut out,
        "dpu_nvmf_volume_allocated_bytes",
        "gauge",
        "Storage the volume takes now: a RAM volume's mapped memory, a sparse file's blocks (no series for block devices).",
        volumes.iter().filter_map(|(l, v)| Some((l, v.allocated_bytes?))),
    );
    let latencies = stats.volumes.iter().flat_map(|v| {
        let ops =
            [("read", &v.read_latency), ("write", &v.write_latency), ("flush", &v.flush_latency)];
        ops.into_iter().filter_map(|(op, h)| {
            let h = h.as_ref()?;
            Some(HistogramSeries {
                labels: vec![("volume", v.name.as_str()), ("op", op)],
                buckets: h
                    .counts
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| (latency_bound_seconds(i), n))
                    .collect(),
                sum: h.sum_ns as f64 * 1e-9,
            })
        })
    });
    histogram_family(
        &mut out,
        "dpu_nvmf_volume_latency_seconds",
        "Device operation times of file and block device volumes, from hand-off to completion.",
        latencies,
    );
    out
}

/// The upper bound of a latency bucket in seconds (2^i µs), `None` for the last.
fn latency_bound_seconds(i: usize) -> Option<f64> {
    LatencyHistogram::bucket_bound_us(i).map(|us| us as f64 * 1e-6)
}

#[cfg(test)]
mod tests {
    use dpu_proto::dpu::nvmf::v1::ControllerStats;

    use super::*;

    /// A latency histogram of 26 buckets with the given (bucket, count)s.
    fn histogram(counts: &[(usize, u64)], sum_ns: u64) -> LatencyHistogram {
        let mut h = LatencyHistogram { counts: vec![0; 26], sum_ns };
        for &(i, n) in counts {
            h.counts[i] = n;
        }
        h
    }

    fn sample() -> NvmfStats {
        NvmfStats {
            connections: 7,
            connections_shed: 6,
            terminated_connections: 2,
            keep_alive_expired: 1,
            connects_refused: 3,
            auth_failures: 4,
            write_budget_waits: 8,
            controllers_evicted: 5,
            open_connections: 12,
            unconnected_connections: 3,
            subsystems: vec![SubsystemStats {
                name: "subsystems/s1".into(),
                nqn: r#"nqn.2024-01.io.example:a"b\c"#.into(),
                live_controllers: 2,
                connects_accepted: 5,
                connects_refused: 1,
                io: Some(IoCounters {
                    commands: 40,
                    reads: 3,
                    writes: 4,
                    read_bytes: 12288,
                    write_bytes: 16384,
                    errors: 1,
                }),
                controllers: vec![ControllerStats {
                    name: "subsystems/s1/controllers/1".into(),
                    cntlid: 1,
                    ..Default::default()
                }],
            }],
            namespaces: vec![
                NamespaceStats {
                    name: "subsystems/s1/namespaces/1".into(),
                    counters: Some(NamespaceCounters {
                        reads: 3,
                        writes: 4,
                        read_bytes: 12288,
                        write_bytes: 16384,
                        errors: 0,
                        throttled: 9,
                    }),
                    reservation: None,
                    host_write_protected: false,
                    host_write_protection: 0,
                },
                NamespaceStats { name: "subsystems/s1/namespaces/2".into(), ..Default::default() },
            ],
            volumes: vec![
                VolumeStats {
                    name: "volumes/ram".into(),
                    size_bytes: 1 << 30,
                    allocated_bytes: Some(4 << 20),
                    ..Default::default()
                },
                VolumeStats {
                    name: "volumes/dev".into(),
                    size_bytes: 1 << 40,
                    allocated_bytes: None,
                    // Two reads of at most 4 µs, one of at most 16 µs; one slow flush.
                    read_latency: Some(histogram(&[(2, 2), (4, 1)], 20_000)),
                    flush_latency: Some(histogram(&[(25, 1)], 20_000_000_000)),
                    ..Default::default()
                },
            ],
        }
    }

    #[test]
    fn renders_target_subsystem_and_namespace_series_with_escaped_labels() {
        let text = render(Some(&sample()));
        let sub = r#"{subsystem="subsystems/s1",nqn="nqn.2024-01.io.example:a\"b\\c"}"#;
        let ns1 = r#"{namespace="subsystems/s1/namespaces/1"}"#;
        let ns2 = r#"{namespace="subsystems/s1/namespaces/2"}"#;
        for line in [
            "dpu_nvmf_stats_up 1".to_owned(),
            "dpu_nvmf_connections_total 7".to_owned(),
            "dpu_nvmf_connections_shed_total 6".to_owned(),
            "dpu_nvmf_connections_terminated_total 2".to_owned(),
            "dpu_nvmf_keep_alive_expired_total 1".to_owned(),
            "dpu_nvmf_connects_refused_total 3".to_owned(),
            "dpu_nvmf_auth_failures_total 4".to_owned(),
            "dpu_nvmf_write_budget_waits_total 8".to_owned(),
            "dpu_nvmf_controllers_evicted_total 5".to_owned(),
            format!("dpu_nvmf_subsystem_live_controllers{sub} 2"),
            format!("dpu_nvmf_subsystem_connects_accepted_total{sub} 5"),
            format!("dpu_nvmf_subsystem_connects_refused_total{sub} 1"),
            format!("dpu_nvmf_subsystem_commands_total{sub} 40"),
            format!("dpu_nvmf_subsystem_reads_total{sub} 3"),
            format!("dpu_nvmf_subsystem_writes_total{sub} 4"),
            format!("dpu_nvmf_subsystem_read_bytes_total{sub} 12288"),
            format!("dpu_nvmf_subsystem_write_bytes_total{sub} 16384"),
            format!("dpu_nvmf_subsystem_errors_total{sub} 1"),
            format!("dpu_nvmf_namespace_reads_total{ns1} 3"),
            format!("dpu_nvmf_namespace_writes_total{ns1} 4"),
            format!("dpu_nvmf_namespace_read_bytes_total{ns1} 12288"),
            format!("dpu_nvmf_namespace_write_bytes_total{ns1} 16384"),
            format!("dpu_nvmf_namespace_errors_total{ns1} 0"),
            format!("dpu_nvmf_namespace_throttled_total{ns1} 9"),
            // Missing counters read as zero.
            format!("dpu_nvmf_namespace_reads_total{ns2} 0"),
            r#"dpu_nvmf_volume_size_bytes{volume="volumes/ram"} 1073741824"#.to_owned(),
            r#"dpu_nvmf_volume_allocated_bytes{volume="volumes/ram"} 4194304"#.to_owned(),
            r#"dpu_nvmf_volume_size_bytes{volume="volumes/dev"} 1099511627776"#.to_owned(),
            // Cumulative buckets in seconds (2^i µs), the sum in seconds, the count.
            r#"dpu_nvmf_volume_latency_seconds_bucket{volume="volumes/dev",op="read",le="0.000002"} 0"#.to_owned(),
            r#"dpu_nvmf_volume_latency_seconds_bucket{volume="volumes/dev",op="read",le="0.000004"} 2"#.to_owned(),
            r#"dpu_nvmf_volume_latency_seconds_bucket{volume="volumes/dev",op="read",le="0.000016"} 3"#.to_owned(),
            r#"dpu_nvmf_volume_latency_seconds_bucket{volume="volumes/dev",op="read",le="+Inf"} 3"#.to_owned(),
            r#"dpu_nvmf_volume_latency_seconds_sum{volume="volumes/dev",op="read"} 0.00002"#.to_owned(),
            r#"dpu_nvmf_volume_latency_seconds_count{volume="volumes/dev",op="read"} 3"#.to_owned(),
            r#"dpu_nvmf_volume_latency_seconds_bucket{volume="volumes/dev",op="flush",le="16.777216"} 0"#.to_owned(),
            r#"dpu_nvmf_volume_latency_seconds_bucket{volume="volumes/dev",op="flush",le="+Inf"} 1"#.to_owned(),
            r#"dpu_nvmf_volume_latency_seconds_sum{volume="volumes/dev",op="flush"} 20"#.to_owned(),
        ] {
            assert!(text.lines().any(|l| l == line), "no line {line:?} in\n{text}");
        }
        // HELP and TYPE once per family, before its series; counters are typed so.
        assert_eq!(text.matches("# TYPE dpu_nvmf_namespace_reads_total counter\n").count(), 1);
        assert_eq!(text.matches("# HELP dpu_nvmf_namespace_reads_total ").count(), 1);
        assert!(text.contains("# TYPE dpu_nvmf_subsystem_live_controllers gauge\n"));
        // The help says what is counted: only fatal transport errors (a C2HTermReq sent,
        // `queue::Connection::fatal`), not every close the target makes.
        let help = "# HELP dpu_nvmf_connections_terminated_total TCP connections closed on a \
                    fatal transport error, after sending a C2HTermReq.\n";
        assert!(text.contains(help), "{text}");
        let type_at = text.find("# TYPE dpu_nvmf_namespace_reads_total").unwrap();
        assert!(type_at < text.find(&format!("dpu_nvmf_namespace_reads_total{ns1}")).unwrap());
        // Every counter family ends in _total; nothing per controller or queue.
        for l in text.lines().filter(|l| l.starts_with("# TYPE ") && l.ends_with(" counter")) {
            assert!(l.trim_end_matches(" counter").ends_with("_total"), "{l}");
        }
        assert!(!text.contains("controllers/"), "{text}");
        // A block device's allocation is its own: no series.
        assert!(!text.contains(r#"dpu_nvmf_volume_allocated_bytes{volume="volumes/dev"}"#));
        // One histogram family; a volume without histograms (an older service) has none.
        assert_eq!(text.matches("# TYPE dpu_nvmf_volume_latency_seconds histogram\n").count(), 1);
        assert!(!text.contains(r#"dpu_nvmf_volume_latency_seconds_count{volume="volumes/ram""#));
        let inf =
            r#"dpu_nvmf_volume_latency_seconds_bucket{volume="volumes/dev",op="read",le="+Inf"}"#;
        assert_eq!(text.matches(inf).count(), 1, "+Inf once");
    }

    /// The connections open now and those waiting for their Connect are gauges (they
    /// fall as peers go), so typed gauge and named without `_total`.
    #[test]
    fn open_and_unconnected_connections_are_gauges() {
        let text = render(Some(&sample()));
        for (name, value) in
            [("dpu_nvmf_connections_open", 12), ("dpu_nvmf_connections_unconnected", 3)]
        {
            assert_eq!(text.matches(&format!("# TYPE {name} gauge\n")).count(), 1, "{text}");
            assert_eq!(text.matches(&format!("# HELP {name} ")).count(), 1, "{text}");
            assert!(text.lines().any(|l| l == format!("{name} {value}")), "{name} in\n{text}");
        }
    }

    #[test]
    fn without_statistics_only_the_up_gauge() {
        let text = render(None);
        let series: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(series, ["dpu_nvmf_stats_up 0"]);
    }
}
