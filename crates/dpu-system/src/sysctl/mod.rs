//! Kernel parameters (sysctls) kept at desired values.
//!
//! A sysctl key as written for sysctl(8), e.g. `net.ipv4.ip_forward`, names the file
//! `/proc/sys/net/ipv4/ip_forward` (see proc_sys(5) and the kernel's
//! Documentation/admin-guide/sysctl/). The [`Applier`] writes desired values under a
//! configurable root so tests can point it at a temporary directory shaped like `/proc/sys`.
//!
//! Validation ([`validate_key`], [`validate_value`], [`key_from_name`]) is public because the agent
//! runs the same checks before it persists desired state.

mod apply;
mod validate;

use std::io;

pub use apply::{Applier, DEFAULT_ROOT, Kept};
pub use validate::{
    MAX_KEY_LEN, MAX_VALUE_LEN, NAME_PREFIX, key_from_name, name_for_key, normalize_value,
    relative_path, validate_key, validate_value,
};

/// Why a sysctl could not be validated or applied. The `Display` text is what ends up in
/// `SysctlStatus.message`, so it names the key and says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum SysctlError {
    #[error("invalid sysctl key {key:?}: {reason}")]
    InvalidKey { key: String, reason: String },
    #[error("invalid sysctl value: {reason}")]
    InvalidValue { reason: String },
    #[error("invalid sysctl name {name:?}: expected \"{prefix}<key>\", e.g. \"{prefix}net.ipv4.ip_forward\"", prefix = NAME_PREFIX)]
    InvalidName { name: String },
    #[error("sysctl {name} has no spec (spec.value is required)")]
    MissingSpec { name: String },
    #[error("sysctl {name} appears more than once in the desired set; only the first is applied")]
    Duplicate { name: String },
    #[error("no such sysctl: {key}")]
    NotFound { key: String },
    #[error("{key} is a directory of sysctls, not a sysctl")]
    NotAFile { key: String },
    #[error("sysctl {key} resolves outside the sysctl root; refusing to touch it")]
    OutsideRoot { key: String },
    #[error("permission denied writing sysctl {key}: {source}")]
    PermissionDenied { key: String, source: io::Error },
    #[error("kernel rejected value {value:?} for {key}: {source}")]
    Rejected { key: String, value: String, source: io::Error },
    #[error("short write to sysctl {key}: {written} of {len} bytes written")]
    ShortWrite { key: String, written: usize, len: usize },
    #[error("reading sysctl {key}: {source}")]
    Read { key: String, source: io::Error },
    /// The kernel took the whole value and holds another: left as it is, as sysctl(8) does.
    #[error(
        "sysctl {key} reads back {observed:?} after writing {desired:?}: the kernel took the \
         value and holds this one; left as the kernel holds it"
    )]
    Mismatch { key: String, desired: String, observed: String },
    /// `by`: the keys of the set whose values were set after it and changed it back.
    #[error(
        "sysctl {key} was changed back to {observed:?} (from {desired:?}) by {}: both set one \
         kernel value (as net.ipv4.ip_forward and net.ipv4.conf.all.forwarding do); give them \
         one value",
        rivals(.by)
    )]
    ChangedBack { key: String, desired: String, observed: String, by: Vec<String> },
}

/// Who changed a sysctl back, for [`SysctlError::ChangedBack`].
fn rivals(by: &[String]) -> String {
    match by {
        [] => "another sysctl of the set".to_owned(),
        keys => keys.join(", "),
    }
}
