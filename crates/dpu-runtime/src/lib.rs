//! The thin shell shared by the agent and every service process: logging set-up, shutdown
//! signals, systemd readiness, gRPC over Unix sockets (the internal API transport), and the
//! `ServiceControl` identity every service serves.
//!
//! Nothing here knows any service's protocol.

pub mod control;
pub mod ifname;
pub mod logging;
pub mod peer;
pub mod signals;
pub mod unix;

/// Tells systemd the process is ready, when it was started with `Type=notify`.
///
/// Without `NOTIFY_SOCKET` this does nothing; a failure to notify is logged, never fatal.
pub fn notify_ready() {
    if std::env::var_os("NOTIFY_SOCKET").is_some()
        && let Err(e) = sd_notify::notify(false, &[sd_notify::NotifyState::Ready])
    {
        tracing::warn!(error = %e, "systemd readiness notification failed");
    }
}

/// Raises the soft limit of open files to the hard one, for a service whose clients each
/// hold connections of their own (a Linux NVMe/TCP host opens one per CPU and controller,
/// so a card serving a few dozen hosts passes the usual soft limit of 1,024, past which
/// accepts fail). Returns the limit now in force; a failure is logged, never fatal.
pub fn raise_open_files_limit() -> u64 {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else { return 0 };
    if soft >= hard {
        return soft;
    }
    match setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
        Ok(()) => {
            tracing::info!(from = soft, to = hard, "open files limit raised");
            hard
        }
        Err(e) => {
            tracing::warn!(error = %e, limit = soft, "open files limit not raised");
            soft
        }
    }
}

/// Tells systemd the process is stopping.
pub fn notify_stopping() {
    if std::env::var_os("NOTIFY_SOCKET").is_some() {
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};

    #[test]
    fn open_files_limit_rises_to_the_hard_limit() {
        let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        let lower = hard.min(256);
        setrlimit(Resource::RLIMIT_NOFILE, lower, hard).unwrap();
        assert_eq!(super::raise_open_files_limit(), hard);
        assert_eq!(getrlimit(Resource::RLIMIT_NOFILE).unwrap(), (hard, hard));
        assert_eq!(super::raise_open_files_limit(), hard, "already there");
    }
}
