//! gRPC over Unix sockets: the transport of every internal API.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use tokio::net::{UnixListener, UnixStream};
use tokio_stream::wrappers::UnixListenerStream;
use tonic::transport::{Channel, Endpoint};

#[derive(Debug, thiserror::Error)]
pub enum UnixError {
    #[error("preparing socket {path}: {source}")]
    Prepare { path: PathBuf, source: std::io::Error },
    #[error("binding socket {path}: {source}")]
    Bind { path: PathBuf, source: std::io::Error },
}

/// Binds `path` (replacing a stale socket file, creating the parent directory) with mode 0600:
/// only the agent's user may drive a service.
pub fn bind(path: &Path) -> Result<UnixListenerStream, UnixError> {
    let prepare = |source| UnixError::Prepare { path: path.into(), source };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(prepare)?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(prepare(e)),
    }
    let listener =
        UnixListener::bind(path).map_err(|source| UnixError::Bind { path: path.into(), source })?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(prepare)?;
    Ok(UnixListenerStream::new(listener))
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
