//! Pure checks on sysctl names, keys and values. No I/O here.

use std::path::PathBuf;

use super::SysctlError;

/// Longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 256;
/// Longest value accepted, in bytes. The kernel's own limit for most sysctls is a page.
pub const MAX_VALUE_LEN: usize = 4096;
/// Resource names are `sysctls/{key}`.
pub const NAME_PREFIX: &str = "sysctls/";

/// Checks a key in sysctl(8) dot notation, e.g. `net.ipv4.ip_forward`.
///
/// Components are separated by single dots; each is one or more non-empty runs of
/// `[A-Za-z0-9_-]` joined by `/`, which stands for a `.` inside a name, as sysctl.d(5) and
/// sysctl(8) read a key whose first separator is `.`: a VLAN device `p0.100` is spelled
/// `net.ipv4.conf.p0/100.rp_filter` (`net.ipv4.conf.p0.100.rp_filter` names the file
/// `net/ipv4/conf/p0/100/rp_filter`, which does not exist). So no path component is empty,
/// `.` or `..`. The other sysctl.d(5) spelling, `/` as the separator (first separator `/`),
/// is refused: one spelling per file.
pub fn validate_key(key: &str) -> Result<(), SysctlError> {
    let fail = |reason: String| Err(SysctlError::InvalidKey { key: key.to_owned(), reason });
    if key.is_empty() {
        return fail("key is empty".into());
    }
    if key.len() > MAX_KEY_LEN {
        return fail(format!("key is {} bytes long; at most {MAX_KEY_LEN} are allowed", key.len()));
    }
    if key.split('.').next().is_some_and(|first| first.contains('/')) {
        return fail(
            "the first separator must be '.'; separate components with '.' and write a '.' \
             inside a name (an interface such as p0.100) as '/'"
                .into(),
        );
    }
    if key.contains("..") {
        return fail("'..' is not allowed".into());
    }
    for component in key.split('.') {
        if component.is_empty() {
            return fail("empty component (leading or trailing '.')".into());
        }
        if component.split('/').any(str::is_empty) {
            return fail(format!(
                "component {component:?} has an empty part: '/' stands for a '.' inside a name"
            ));
        }
        if let Some(bad) = component
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || *c == '/'))
        {
            return fail(format!(
                "character {bad:?} is not allowed; components may use only A-Z, a-z, 0-9, '_', \
                 '-' and '/' (for a '.' inside a name)"
            ));
        }
    }
    Ok(())
}

/// Checks a value before it is written: at most [`MAX_VALUE_LEN`] bytes, without leading or
/// trailing whitespace, printable, and on one line. Tabs are allowed because the kernel itself
/// separates multi-field values (e.g. `net.ipv4.tcp_rmem`) with tabs. An empty value is
/// allowed: it clears a list or a string (`net.ipv4.ip_local_reserved_ports =` in
/// sysctl.d(5)).
pub fn validate_value(value: &str) -> Result<(), SysctlError> {
    let fail = |reason: String| Err(SysctlError::InvalidValue { reason });
    if value.len() > MAX_VALUE_LEN {
        return fail(format!(
            "value is {} bytes long; at most {MAX_VALUE_LEN} are allowed",
            value.len()
        ));
    }
    // The kernel keeps a string sysctl's every character (`kernel.core_pattern` with a
    // leading space is no longer a pipe), while the read-back comparison collapses
    // whitespace: such a value would show as applied and do something else.
    if value.trim() != value {
        return fail("value starts or ends with whitespace; remove it".into());
    }
    if let Some((at, c)) = value.char_indices().find(|(_, c)| c.is_control() && *c != '\t') {
        let what = if c == '\n' || c == '\r' { "a line break" } else { "a control character" };
        return fail(format!(
            "value contains {what} ({c:?}) at byte {at}; it must be one printable line"
        ));
    }
    Ok(())
}

/// The key of a resource name `sysctls/{key}`, validated.
pub fn key_from_name(name: &str) -> Result<&str, SysctlError> {
    let key = name
        .strip_prefix(NAME_PREFIX)
        .ok_or_else(|| SysctlError::InvalidName { name: name.to_owned() })?;
    validate_key(key)?;
    Ok(key)
}

/// The resource name for a key: `sysctls/{key}`.
pub fn name_for_key(key: &str) -> String {
    format!("{NAME_PREFIX}{key}")
}

/// The path of a key relative to the sysctl root: `net.ipv4.ip_forward` -> `net/ipv4/ip_forward`,
/// `net.ipv4.conf.p0/100.rp_filter` -> `net/ipv4/conf/p0.100/rp_filter` (sysctl.d(5)).
/// Validates first, so the result never contains `.` or `..` as a component, or an absolute part.
pub fn relative_path(key: &str) -> Result<PathBuf, SysctlError> {
    validate_key(key)?;
    Ok(key.split('.').map(|component| component.replace('/', ".")).collect())
}

/// Collapses every run of whitespace to one space and trims the ends, so that a desired
/// `"4096 87380 6291456"` equals the kernel's `"4096\t87380\t6291456\n"`.
pub fn normalize_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_keys() {
        for key in [
            "net.ipv4.ip_forward",
            "net.ipv4.conf.all.rp_filter",
            "net.ipv6.conf.pf0vf0.disable_ipv6",
            "kernel.pid_max",
            "vm.nr_hugepages",
            "net.ipv4.conf.tmfifo_net0.forwarding",
            "a",
        ] {
            assert!(validate_key(key).is_ok(), "{key}");
        }
        assert!(validate_key(&"a".repeat(MAX_KEY_LEN)).is_ok());
    }

    #[test]
    fn rejects_bad_keys() {
        for key in [
            "",
            ".",
            "..",
            "net..ipv4",
            ".net.ipv4",
            "net.ipv4.",
            "net/ipv4/ip_forward",
            "net.ipv4/../../etc/passwd",
            "../etc",
            "net.ipv4.ip forward",
            "net.ipv4.ip_forward\n",
            "net.ipv4.ip_forward\0",
            "net.*.ip_forward",
            "nét.ipv4",
            "~root",
        ] {
            let err = validate_key(key).expect_err(key);
            assert!(matches!(err, SysctlError::InvalidKey { .. }), "{key}: {err}");
        }
        assert!(validate_key(&"a".repeat(MAX_KEY_LEN + 1)).is_err());
    }

    /// sysctl.d(5): when the first separator is '.', a '/' stands for a '.' inside a name,
    /// so `net.ipv4.conf.p0/100.rp_filter` is the file `net/ipv4/conf/p0.100/rp_filter`.
    #[test]
    fn slashes_spell_dots_inside_a_component() {
        for (key, path) in [
            ("net.ipv4.conf.p0/100.rp_filter", "net/ipv4/conf/p0.100/rp_filter"),
            ("net.ipv6.conf.eth0/100/7.disable_ipv6", "net/ipv6/conf/eth0.100.7/disable_ipv6"),
        ] {
            assert_eq!(relative_path(key).ok(), Some(PathBuf::from(path)), "{key}");
        }
        for key in [
            "net/ipv4.ip_forward",
            "net.ipv4.conf.p0//100.rp_filter",
            "net.ipv4.conf.p0/.rp_filter",
            "net.ipv4.conf./100.rp_filter",
            "net.ipv4.conf.p0/100.",
            "net.ipv4.conf.p0/../x",
            "net.ipv4.conf.p0/1$0.x",
        ] {
            let err = validate_key(key).expect_err(key);
            assert!(matches!(err, SysctlError::InvalidKey { .. }), "{key}: {err}");
        }
        let msg = validate_key("net/ipv4.x").map_err(|e| e.to_string()).expect_err("first '/'");
        assert!(msg.contains("first separator"), "{msg}");
    }

    #[test]
    fn key_errors_say_why() {
        let msg = validate_key("net/ipv4").map_err(|e| e.to_string()).expect_err("slash");
        assert!(msg.contains("'/'"), "{msg}");
        let msg = validate_key("net.ip$v4").map_err(|e| e.to_string()).expect_err("dollar");
        assert!(msg.contains("'$'"), "{msg}");
    }

    #[test]
    fn values() {
        for value in ["1", "0", "4096 87380 6291456", "4096\t87380\t6291456", "|/usr/bin/x %p", ""]
        {
            assert!(validate_value(value).is_ok(), "{value:?}");
        }
        assert!(validate_value(&"1".repeat(MAX_VALUE_LEN)).is_ok());
        for value in [
            "  ",
            "1\n",
            "1\r",
            "a\nb",
            "x\u{7f}",
            "\0",
            "\u{1b}[31m",
            " |/usr/bin/x %p",
            "1 ",
            "\t1",
        ] {
            let err = validate_value(value).expect_err(value);
            assert!(matches!(err, SysctlError::InvalidValue { .. }), "{value:?}");
        }
        assert!(validate_value(&"1".repeat(MAX_VALUE_LEN + 1)).is_err());
    }

    #[test]
    fn names() {
        assert_eq!(key_from_name("sysctls/net.ipv4.ip_forward").ok(), Some("net.ipv4.ip_forward"));
        assert_eq!(name_for_key("vm.swappiness"), "sysctls/vm.swappiness");
        assert!(matches!(
            key_from_name("net.ipv4.ip_forward"),
            Err(SysctlError::InvalidName { .. })
        ));
        assert!(matches!(key_from_name("sysctls/"), Err(SysctlError::InvalidKey { .. })));
        assert!(matches!(key_from_name("sysctls/../x"), Err(SysctlError::InvalidKey { .. })));
    }

    #[test]
    fn paths() {
        assert_eq!(
            relative_path("net.ipv4.ip_forward").ok(),
            Some(PathBuf::from("net/ipv4/ip_forward"))
        );
        assert!(relative_path("net/../x").is_err());
    }

    #[test]
    fn normalizes_whitespace() {
        assert_eq!(normalize_value("4096\t87380\t6291456\n"), "4096 87380 6291456");
        assert_eq!(normalize_value("  1 "), "1");
        assert_eq!(normalize_value(""), "");
    }
}
