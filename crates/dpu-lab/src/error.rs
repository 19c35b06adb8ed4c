use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong while building, using or tearing down a lab.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// Network namespaces need CAP_SYS_ADMIN; the lab only runs as root.
    #[error("the lab must run as root to create network namespaces (effective uid is {euid})")]
    NotRoot {
        /// The effective uid we ran as.
        euid: u32,
    },

    /// The `ip` command of iproute2 could not be run.
    #[error("cannot run `ip` (install the iproute2 package): {0}")]
    IpMissing(#[source] io::Error),

    /// The prefix base is not one of [`crate::PREFIX_BASES`].
    #[error(
        "invalid lab prefix base {0:?}: use one of dpu_lab::PREFIX_BASES, or add it there (1 to 8 lowercase ASCII letters) so that `cargo xtask lab cleanup` knows it"
    )]
    InvalidPrefixBase(String),

    /// A command could not be started.
    #[error("cannot start `{cmd}`: {source}")]
    Spawn {
        /// The command line.
        cmd: String,
        /// Why.
        source: io::Error,
    },

    /// A command ran but failed.
    #[error("`{cmd}` failed ({status}): {stderr}")]
    CommandFailed {
        /// The command line.
        cmd: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr (trimmed).
        stderr: String,
    },

    /// A command did not finish in time and was killed.
    #[error("`{cmd}` did not finish within {timeout:?} and was killed")]
    Timeout {
        /// The command line.
        cmd: String,
        /// The limit.
        timeout: Duration,
    },

    /// The per-lab lock file could not be created or locked.
    #[error("lab lock file {path}: {source}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },

    /// Another I/O problem.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// Why it failed.
        source: io::Error,
    },

    /// A failure injected by [`crate::LabOptions::fail_after_steps`] (tests only).
    #[error("injected failure after {steps} setup steps of lab {prefix}")]
    Injected {
        /// Steps done before the failure.
        steps: usize,
        /// The prefix of the lab that failed.
        prefix: String,
    },

    /// A guest could not be built or started (kernel package, module, tool).
    #[error("guest: {0}")]
    Guest(String),

    /// A guest did not print the next mark in time.
    #[error(
        "guest: no mark within the deadline ({after:?} after start); last console lines:\n{tail}"
    )]
    GuestDeadline {
        /// Time since QEMU started.
        after: Duration,
        /// The last console lines.
        tail: String,
    },

    /// Teardown could not remove everything; each entry names one leftover.
    #[error("teardown of lab {prefix} left things behind: {}", problems.join("; "))]
    Teardown {
        /// The lab's prefix.
        prefix: String,
        /// What could not be removed and why.
        problems: Vec<String>,
    },
}

impl LabError {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        LabError::Io { context: context.into(), source }
    }
}

/// Result alias for this crate.
pub type Result<T, E = LabError> = std::result::Result<T, E>;
