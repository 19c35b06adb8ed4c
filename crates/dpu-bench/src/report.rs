//! The JSON line every figure is printed as.

use serde_json::json;

/// A figure compared with a peer. `higher_is_better` orients the ratio so above 1 is ours better.
pub fn compared(
    bench: &str,
    value: f64,
    unit: &str,
    peer: &str,
    peer_value: f64,
    higher_is_better: bool,
) {
    let ratio = if higher_is_better { value / peer_value } else { peer_value / value };
    println!(
        "{}",
        json!({"bench": bench, "value": value, "unit": unit, "peer": peer, "peer_value": peer_value, "ratio": ratio})
    );
}

/// A figure without a peer (tracked over time).
pub fn value(bench: &str, value: f64, unit: &str) {
    println!(
        "{}",
        json!({"bench": bench, "value": value, "unit": unit, "peer": null, "peer_value": null, "ratio": null})
    );
}

/// Percentile of sorted samples (nearest rank).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
