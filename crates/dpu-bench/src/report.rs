//! The JSON line every figure is printed as.

use serde_json::{Map, Value, json};

/// True when the figure `name` is selected: `only` is empty, or one of its entries is part
/// of the name (`--only l2_cached,veth`).
pub fn selected(only: &[String], name: &str) -> bool {
    only.is_empty() || only.iter().any(|o| name.contains(o.as_str()))
}

/// True when `only` selects one of `names`: the lines one measurement prints, which then
/// runs (and prints only its selected lines).
pub fn any_selected<S: AsRef<str>>(only: &[String], names: impl IntoIterator<Item = S>) -> bool {
    names.into_iter().any(|n| selected(only, n.as_ref()))
}

fn print(
    bench: &str,
    value: f64,
    unit: &str,
    peer: Option<(&str, f64, f64)>,
    extra: &[(&str, f64)],
) {
    let mut m = Map::new();
    m.insert("bench".into(), json!(bench));
    m.insert("value".into(), json!(value));
    m.insert("unit".into(), json!(unit));
    m.insert("peer".into(), json!(peer.map(|p| p.0)));
    m.insert("peer_value".into(), json!(peer.map(|p| p.1)));
    m.insert("ratio".into(), json!(peer.map(|p| p.2)));
    for (k, v) in extra {
        m.insert((*k).into(), json!(v));
    }
    println!("{}", Value::Object(m));
}

/// A figure compared with a peer. `higher_is_better` orients the ratio so above 1 is ours better.
pub fn compared(
    bench: &str,
    value: f64,
    unit: &str,
    peer: &str,
    peer_value: f64,
    higher_is_better: bool,
) {
    compared_with(bench, value, unit, peer, peer_value, higher_is_better, &[]);
}

/// [`compared`] with extra named figures of the same measurement (e.g. `ns_per_packet`).
pub fn compared_with(
    bench: &str,
    value: f64,
    unit: &str,
    peer: &str,
    peer_value: f64,
    higher_is_better: bool,
    extra: &[(&str, f64)],
) {
    let ratio = if higher_is_better { value / peer_value } else { peer_value / value };
    print(bench, value, unit, Some((peer, peer_value, ratio)), extra);
}

/// A figure without a peer (tracked over time).
pub fn value(bench: &str, value: f64, unit: &str) {
    value_with(bench, value, unit, &[]);
}

/// [`value`] with extra named figures of the same measurement.
pub fn value_with(bench: &str, value: f64, unit: &str, extra: &[(&str, f64)]) {
    print(bench, value, unit, None, extra);
}

/// Percentile of sorted samples (nearest rank).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
