//! gRPC over Unix sockets: the transport of every internal API.

use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use nix::sys::stat::{Mode, umask};
use tokio::net::{UnixListener, UnixStream};
use tokio_stream::wrappers::UnixListenerStream;
use tonic::transport::{Channel, Endpoint};

#[derive(Debug, thiserror::Error)]
pub enum UnixError {
    #[error("{action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: io::Error },
    #[error("{0} exists and is not a socket; refusing to replace it")]
    NotASocket(PathBuf),
    #[error("another process is already serving on {0}")]
    InUse(PathBuf),
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> UnixError {
    let path = path.to_owned();
    move |source| UnixError::Io { action, path, source }
}

/// Binds a listening socket at `path`, readable and writable by the owner only: only the
/// agent's user may drive a service.
///
/// Creates the parent directory, removes a stale socket left by a dead process, and refuses to
/// replace a socket another process still answers on, or a file that is not a socket.
pub fn bind(path: &Path) -> Result<UnixListenerStream, UnixError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_err("creating the directory of", path))?;
    }
    remove_stale_socket(path)?;
    // bind(2) takes the mode from the umask: set it so there is no moment when others could
    // connect, then chmod explicitly in case the file system ignores the umask.
    let old_umask = umask(Mode::from_bits_truncate(0o177));
    let bound = UnixListener::bind(path);
    umask(old_umask);
    let listener = bound.map_err(io_err("binding", path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(io_err("chmod 0600", path))?;
    Ok(UnixListenerStream::new(listener))
}

fn remove_stale_socket(path: &Path) -> Result<(), UnixError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(io_err("inspecting", path)(err)),
    };
    if !meta.file_type().is_socket() {
        return Err(UnixError::NotASocket(path.to_owned()));
    }
    // Only ECONNREFUSED says nobody listens. EPROTOTYPE is a live socket of another type (a
    // datagram socket such as /dev/log); any other error (EACCES: someone else's socket)
    // leaves the question open, and a socket that may be live is never replaced.
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => return Err(UnixError::InUse(path.to_owned())),
        Err(err) if err.raw_os_error() == Some(nix::libc::EPROTOTYPE) => {
            return Err(UnixError::InUse(path.to_owned()));
        }
        Err(err) if err.kind() == io::ErrorKind::ConnectionRefused => {}
        // Removed since it was inspected: nothing left to remove.
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(io_err("connecting to the existing socket", path)(err)),
    }
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => {
            Err(io_err("removing the stale socket", path)(err))
        }
        _ => Ok(()),
    }
}

/// A lazily connecting channel to a gRPC server on a Unix socket; it reconnects by itself after
/// the server restarts.
pub fn channel(path: &Path) -> Channel {
    let path = path.to_owned();
    // The URI is required by the API but unused: the connector below decides where to connect.
    Endpoint::from_static("http://[::]:50051")
        .connect_timeout(std::time::Duration::from_secs(2))
        .connect_with_connector_lazy(tower::service_fn(move |_| {
            let path = path.clone();
            async move { UnixStream::connect(path).await.map(TokioIo::new) }
        }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_with_owner_only_mode_and_replaces_stale_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/dpu/system.sock");
        let listener = bind(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // Still answered: refuse.
        assert!(matches!(bind(&path), Err(UnixError::InUse(_))));
        drop(listener);
        // Stale now: replaced.
        let _listener = bind(&path).unwrap();
    }

    /// A live socket of another type (a datagram socket such as syslog's /dev/log, given by
    /// mistake) refuses a stream connect with EPROTOTYPE: it is in use, not stale.
    #[tokio::test]
    async fn refuses_to_replace_a_live_datagram_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let live = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        assert!(matches!(bind(&path), Err(UnixError::InUse(_))));
        let sender = std::os::unix::net::UnixDatagram::unbound().unwrap();
        sender.send_to(b"still here", &path).unwrap();
        let mut buf = [0; 16];
        assert_eq!(live.recv(&mut buf).unwrap(), 10, "the datagram socket still receives");
    }

    #[tokio::test]
    async fn refuses_to_replace_a_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("not-a-socket");
        std::fs::write(&path, "keep me").unwrap();
        assert!(matches!(bind(&path), Err(UnixError::NotASocket(_))));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
    }
}
