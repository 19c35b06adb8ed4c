//! Linux network interface names, as the kernel takes them (`dev_valid_name`): the one rule
//! for the switch's ports and the agent's listener interfaces.

/// Longest interface name: IFNAMSIZ (16) less its NUL.
pub const MAX_INTERFACE_NAME: usize = 15;

/// Whether `name` is one Linux takes for an interface: 1 to 15 bytes, not "." or "..", no
/// '/', ':' or whitespace; printable ASCII only (Linux's `isspace` also takes byte 0xa0,
/// which UTF-8 letters contain).
pub fn is_interface_name(name: &str) -> bool {
    (1..=MAX_INTERFACE_NAME).contains(&name.len())
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_graphic() && b != b'/' && b != b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_linux_takes_and_refuses() {
        for ok in ["p0", "pf0vf0", "eth0.100", "a-b_c", "x23456789012345"] {
            assert!(is_interface_name(ok), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "a:1", "a b", "x234567890123456", "é"] {
            assert!(!is_interface_name(bad), "{bad:?}");
        }
    }
}
