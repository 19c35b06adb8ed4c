//! The image's systemd unit files (`images/rootfs/lib/systemd/system`), read as the tests
//! that check them need, and the privileges a unit gives its process applied to a test's
//! process with setpriv(1), as systemd applies them.

use std::path::PathBuf;

/// The text of unit `name` (e.g. `dpud.service`) of the image.
pub fn read(name: &str) -> std::io::Result<String> {
    std::fs::read_to_string(dir().join(name))
}

/// The image's unit directory.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../images/rootfs/lib/systemd/system")
}

/// The value `key=` last set in `[section]` of `unit`, trimmed.
pub fn setting(unit: &str, section: &str, key: &str) -> Option<String> {
    let mut current = "";
    let mut value = None;
    for line in unit.lines().map(str::trim) {
        if line.starts_with('[') {
            current = line;
        } else if current == section
            && let Some(v) = line.strip_prefix(key).and_then(|rest| rest.strip_prefix('='))
        {
            value = Some(v.trim().to_owned());
        }
    }
    value
}

/// The capabilities of `CapabilityBoundingSet=` in `[Service]`, as systemd merges its
/// lines (each adds its words; an empty one clears the set); `None` when no line sets it
/// (the process keeps every capability).
pub fn bounding_set(unit: &str) -> Option<Vec<String>> {
    let mut current = "";
    let mut set: Option<Vec<String>> = None;
    for line in unit.lines().map(str::trim) {
        if line.starts_with('[') {
            current = line;
        } else if current == "[Service]"
            && let Some(v) = line.strip_prefix("CapabilityBoundingSet=")
        {
            let words = v.split_whitespace().map(str::to_owned);
            let set = set.get_or_insert_with(Vec::new);
            if v.trim().is_empty() {
                set.clear();
            }
            set.extend(words);
        }
    }
    set
}

/// The setpriv(1) command line (to put before a program and its arguments) that gives a
/// process what `unit` gives it: its capability bounding set, no inheritable capabilities
/// and, with `NoNewPrivileges=yes`, no new privileges. `None` when the unit does not bound
/// the capabilities.
pub fn setpriv_prefix(unit: &str) -> Option<Vec<String>> {
    let caps = bounding_set(unit)?;
    let mut bounding = String::from("-all");
    for cap in caps {
        let name = cap.strip_prefix("CAP_").unwrap_or(&cap).to_ascii_lowercase();
        bounding.push_str(",+");
        bounding.push_str(&name);
    }
    let mut prefix = vec!["setpriv".to_owned()];
    if setting(unit, "[Service]", "NoNewPrivileges").as_deref() == Some("yes") {
        prefix.push("--no-new-privs".into());
    }
    prefix.extend(["--inh-caps", "-all", "--bounding-set"].map(str::to_owned));
    prefix.push(bounding);
    Some(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounding_sets_merge_as_systemd_merges_them() {
        let unit = "[Unit]\nCapabilityBoundingSet=CAP_SYS_ADMIN\n[Service]\n\
                    CapabilityBoundingSet=CAP_NET_RAW\nCapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_NICE\n\
                    NoNewPrivileges=yes\n";
        assert_eq!(bounding_set(unit).unwrap(), ["CAP_NET_RAW", "CAP_NET_ADMIN", "CAP_SYS_NICE"]);
        assert_eq!(
            setpriv_prefix(unit).unwrap().join(" "),
            "setpriv --no-new-privs --inh-caps -all --bounding-set -all,+net_raw,+net_admin,+sys_nice"
        );
        let cleared = format!("{unit}CapabilityBoundingSet=\n");
        assert_eq!(bounding_set(&cleared).unwrap(), Vec::<String>::new());
        assert_eq!(setpriv_prefix(&cleared).unwrap().last().unwrap(), "-all");
        assert_eq!(bounding_set("[Service]\nNoNewPrivileges=yes\n"), None);
        assert_eq!(setting(unit, "[Service]", "NoNewPrivileges").as_deref(), Some("yes"));
    }
}
