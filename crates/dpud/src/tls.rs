//! mTLS listeners: accept TCP, complete the TLS handshake off the accept loop, and hand tonic
//! connections that carry the client's role.
//!
//! A client without a certificate from a configured CA never gets past the handshake; a client
//! that stalls in the handshake is dropped after [`HANDSHAKE_TIMEOUT`].

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use dpu_pki::{Role, RoleMapper};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in flight per listener; more wait in the kernel's accept queue.
const MAX_PENDING_HANDSHAKES: usize = 128;

/// Who is on the other end of a connection; inserted into every request's extensions.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    pub role: Role,
    pub remote: SocketAddr,
    pub listener: Arc<str>,
}

/// An authenticated connection.
pub struct AuthedConn {
    io: TlsStream<TcpStream>,
    info: PeerInfo,
}

impl Connected for AuthedConn {
    type ConnectInfo = PeerInfo;
    fn connect_info(&self) -> PeerInfo {
        self.info.clone()
    }
}

impl AsyncRead for AuthedConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for AuthedConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// The stream of authenticated connections of one listener. The accept task ends when the
/// returned stream is dropped.
pub fn incoming(
    listener: TcpListener,
    name: &str,
    acceptor: TlsAcceptor,
    roles: RoleMapper,
    max_role: Option<Role>,
) -> ReceiverStream<io::Result<AuthedConn>> {
    let (tx, rx) = mpsc::channel(32);
    let name: Arc<str> = name.into();
    let pending = Arc::new(Semaphore::new(MAX_PENDING_HANDSHAKES));
    tokio::spawn(async move {
        loop {
            let Ok(permit) = pending.clone().acquire_owned().await else { return };
            let (tcp, remote) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(listener = %name, error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                _ = tx.closed() => return,
            };
            let _ = tcp.set_nodelay(true);
            let (acceptor, roles, tx, name) =
                (acceptor.clone(), roles.clone(), tx.clone(), name.clone());
            tokio::spawn(async move {
                let _permit = permit;
                let io = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(io)) => io,
                    Ok(Err(e)) => {
                        tracing::info!(listener = %name, %remote, error = %e, "TLS handshake refused");
                        return;
                    }
                    Err(_) => {
                        tracing::info!(listener = %name, %remote, "TLS handshake timed out");
                        return;
                    }
                };
                let chain = io.get_ref().1.peer_certificates().unwrap_or_default();
                let Some(role) = roles.role_of(chain) else {
                    tracing::warn!(listener = %name, %remote, "client certificate maps to no role");
                    return;
                };
                let role = max_role.map_or(role, |cap| role.min(cap));
                tracing::debug!(listener = %name, %remote, %role, "client authenticated");
                let conn = AuthedConn { io, info: PeerInfo { role, remote, listener: name } };
                let _ = tx.send(Ok(conn)).await;
            });
        }
    });
    ReceiverStream::new(rx)
}
