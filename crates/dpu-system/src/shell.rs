//! Process plumbing every service binary needs: logging, the Unix socket, readiness and
//! shutdown signals. Kept apart from the service logic so it can move to the shared
//! `dpu-runtime` crate unchanged.

use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, bail};
use nix::sys::stat::{Mode, umask};
use tokio::net::UnixListener;
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Logs to stderr. `level` is an EnvFilter directive: "info", or "info,dpu_system=debug".
pub fn init_logging(format: LogFormat, level: &str) -> anyhow::Result<()> {
    let filter =
        EnvFilter::try_new(level).with_context(|| format!("invalid --log-level {level:?}"))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(io::stderr);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    result.map_err(|err| anyhow::anyhow!("cannot install the log subscriber: {err}"))
}

/// Binds a listening Unix socket at `path`, readable and writable by the owner only.
///
/// Creates the parent directory, removes a stale socket left by a dead process, and refuses to
/// replace a socket another process still answers on, or a file that is not a socket.
pub fn bind_unix_socket(path: &Path) -> anyhow::Result<UnixListener> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create socket directory {}", parent.display()))?;
    }
    remove_stale_socket(path)?;
    // The socket gets its mode at bind(2) from the umask; set it so there is no moment when
    // others could connect, then chmod explicitly in case the file system ignores the umask.
    let old_umask = umask(Mode::from_bits_truncate(0o177));
    let bound = UnixListener::bind(path);
    umask(old_umask);
    let listener = bound.with_context(|| format!("cannot bind {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot chmod 0600 {}", path.display()))?;
    Ok(listener)
}

fn remove_stale_socket(path: &Path) -> anyhow::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err).with_context(|| format!("cannot inspect {}", path.display())),
    };
    if !meta.file_type().is_socket() {
        bail!("{} exists and is not a socket; refusing to replace it", path.display());
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        bail!("another process is already serving on {}", path.display());
    }
    std::fs::remove_file(path)
        .with_context(|| format!("cannot remove stale socket {}", path.display()))
}

/// Tells systemd the service is ready, when started as a Type=notify unit (NOTIFY_SOCKET set).
pub fn notify_ready() {
    if std::env::var_os("NOTIFY_SOCKET").is_none() {
        return;
    }
    if let Err(err) = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]) {
        tracing::warn!(%err, "cannot notify systemd of readiness");
    }
}

/// SIGTERM and SIGINT handlers, installed at start so a signal that arrives while the service is
/// still starting up is not lost (or fatal by its default action).
#[derive(Debug)]
pub struct ShutdownSignals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    pub fn install() -> anyhow::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate()).context("cannot install SIGTERM handler")?,
            int: signal(SignalKind::interrupt()).context("cannot install SIGINT handler")?,
        })
    }

    /// Resolves on the first SIGTERM or SIGINT, with its name.
    pub async fn recv(mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_with_owner_only_mode_and_replaces_stale_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/dpu/system.sock");
        let listener = bind_unix_socket(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // Still answered: refuse.
        let err = bind_unix_socket(&path).unwrap_err();
        assert!(err.to_string().contains("already serving"), "{err}");
        drop(listener);
        // Stale now: replaced.
        let _listener = bind_unix_socket(&path).unwrap();
    }

    #[tokio::test]
    async fn refuses_to_replace_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not-a-socket");
        std::fs::write(&path, "keep me").unwrap();
        let err = bind_unix_socket(&path).unwrap_err();
        assert!(err.to_string().contains("not a socket"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
    }
}
