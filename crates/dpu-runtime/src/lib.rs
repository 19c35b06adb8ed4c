//! The thin shell shared by the agent and every service process: logging set-up, shutdown
//! signals, systemd readiness, gRPC over Unix sockets (the internal API transport), and the
//! `ServiceControl` identity every service serves.
//!
//! Nothing here knows any service's protocol.

pub mod control;
pub mod logging;
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

/// Tells systemd the process is stopping.
pub fn notify_stopping() {
    if std::env::var_os("NOTIFY_SOCKET").is_some() {
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    }
}
