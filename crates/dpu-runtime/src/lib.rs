//! The thin shell shared by the agent and every service process: logging set-up, shutdown
//! signals, systemd readiness, gRPC over Unix sockets (the internal API transport), and the
//! `ServiceControl` identity every service serves.
//!
//! Nothing here knows any service's protocol.

pub mod cgroup;
pub mod control;
pub mod ifname;
pub mod logging;
pub mod newest;
pub mod peer;
pub mod process;
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

/// Runs a service's `main` on a multi-thread runtime, then shuts the runtime down waiting
/// at most `grace` for blocking work still running.
///
/// Dropping a runtime waits for every `spawn_blocking` task without end, so one pool thread
/// stuck in a read of a hung device (a multipath device queueing without paths, a hard NFS
/// mount) would keep the process from exiting after SIGTERM until systemd's stop timeout
/// kills it. Threads still blocked after `grace` are left to the process's exit.
pub fn run_service<F: std::future::Future>(
    grace: std::time::Duration,
    main: F,
) -> std::io::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let out = rt.block_on(main);
    let started = std::time::Instant::now();
    rt.shutdown_timeout(grace);
    if started.elapsed() >= grace {
        tracing::warn!(?grace, "blocking work still running at exit; left behind");
    }
    Ok(out)
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
    fn a_service_exits_although_blocking_work_is_stuck() {
        let grace = std::time::Duration::from_millis(200);
        let started = std::time::Instant::now();
        let (entered_tx, entered_rx) = tokio::sync::oneshot::channel();
        let out = super::run_service(grace, async move {
            // A pool thread that never returns, as a read of a hung device.
            tokio::task::spawn_blocking(move || {
                entered_tx.send(()).unwrap();
                std::thread::sleep(std::time::Duration::from_secs(3600));
            });
            entered_rx.await.unwrap();
            7
        })
        .unwrap();
        assert_eq!(out, 7);
        let took = started.elapsed();
        assert!(took < std::time::Duration::from_secs(10), "exit took {took:?}");
    }

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
