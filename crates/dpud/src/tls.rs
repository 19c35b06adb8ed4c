//! mTLS listeners: accept TCP, complete the TLS handshake off the accept loop, and hand tonic
//! connections that carry the client's role.
//!
//! A client without a certificate from a configured CA never gets past the handshake; a client
//! that stalls in the handshake is dropped after [`HANDSHAKE_TIMEOUT`]. What one listener holds
//! is bounded ([`Limits`]): connections in all, connections per peer address, handshakes per
//! peer address; a connection past a bound is closed as it arrives.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use dpu_pki::{Role, RoleMapper};
use dpu_runtime::logging::LogEvery;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Sleep;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;

use crate::places::{Place, Places, Refused};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in flight per listener; more wait in the kernel's accept queue.
const MAX_PENDING_HANDSHAKES: usize = 128;
/// Handshakes in flight from one peer address: silent connections from one address cannot
/// take every handshake slot and keep everyone else waiting in the accept queue.
const MAX_HANDSHAKES_PER_ADDRESS: usize = 16;
/// At most one log line per this about connections closed for the limits, and one about
/// failed handshakes (each with the count of those not logged): any peer can cause them.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(10);

/// How many connections one listener holds at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// In all, in the handshake or authenticated.
    pub connections: usize,
    /// From one IP address.
    pub per_address: usize,
    /// How long an authenticated connection lives at most: its max_connection_age, after
    /// which tonic asks it to close, and the grace its calls then have. Past it, reads and
    /// writes fail, which closes it (tonic 0.14's own grace replaces the graceful close
    /// instead of following it).
    pub lifetime: Duration,
}

/// The connections a listener holds, and those of them in the TLS handshake.
#[derive(Debug, Default)]
struct Held {
    connections: Places,
    handshakes: Places,
}

/// One connection's place among those its listener holds, and its place among the
/// handshakes until it is done; given back on drop.
#[derive(Debug)]
struct Slot {
    _connection: Place,
    handshake: Option<Place>,
}

impl Slot {
    /// A place for a connection from `address`, or why there is none.
    fn take(held: &Held, address: IpAddr, limits: Limits) -> Result<Slot, &'static str> {
        let connection = held
            .connections
            .take(address, limits.connections, limits.per_address)
            .map_err(|why| match why {
                Refused::Full => "the listener holds max_connections",
                Refused::AddressFull => "this address holds max_connections_per_address",
                Refused::GroupFull => "this IPv6 /64 holds half of max_connections",
            })?;
        // The pending-handshake semaphore bounds them in all; the total here sets a /64's
        // share.
        let handshake = held
            .handshakes
            .take(address, MAX_PENDING_HANDSHAKES, MAX_HANDSHAKES_PER_ADDRESS)
            .map_err(|_| "this address has too many TLS handshakes in progress")?;
        Ok(Slot { _connection: connection, handshake: Some(handshake) })
    }

    fn handshake_done(&mut self) {
        self.handshake = None;
    }
}

/// Who is on the other end of a connection; inserted into every request's extensions.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    pub role: Role,
    /// The listener's `max_role` lowered the role the certificate maps to.
    pub capped: bool,
    pub remote: SocketAddr,
    pub listener: Arc<str>,
}

/// An authenticated connection.
pub struct AuthedConn {
    io: TlsStream<TcpStream>,
    info: PeerInfo,
    _slot: Slot,
    /// The end of [`Limits::lifetime`].
    ends: Pin<Box<Sleep>>,
}

impl AuthedConn {
    /// An error once the connection's lifetime is over; hyper then drops the connection.
    fn check_lifetime(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        match self.ends.as_mut().poll(cx) {
            Poll::Ready(()) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection past its max_connection_age and grace",
            )),
            Poll::Pending => Ok(()),
        }
    }
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
        // hyper always has a read pending, so this wakes it when the lifetime ends.
        self.check_lifetime(cx)?;
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for AuthedConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check_lifetime(cx)?;
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
        self.check_lifetime(cx)?;
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
    limits: Limits,
) -> ReceiverStream<io::Result<AuthedConn>> {
    let (tx, rx) = mpsc::channel(32);
    let name: Arc<str> = name.into();
    let pending = Arc::new(Semaphore::new(MAX_PENDING_HANDSHAKES));
    let held = Held::default();
    let refusals = LogEvery::new(REFUSAL_LOG_EVERY);
    let failed_handshakes = Arc::new(LogEvery::new(REFUSAL_LOG_EVERY));
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
            let slot = match Slot::take(&held, remote.ip(), limits) {
                Ok(slot) => slot,
                Err(why) => {
                    // Closed at once: a flood costs one accept each and no log line each.
                    drop(tcp);
                    if let Some(not_logged) = refusals.admit() {
                        let refused = not_logged + 1;
                        tracing::warn!(listener = %name, %remote, reason = why, refused, "closing new connections");
                    }
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let (acceptor, roles, tx, name) =
                (acceptor.clone(), roles.clone(), tx.clone(), name.clone());
            let failed_handshakes = failed_handshakes.clone();
            tokio::spawn(async move {
                let _permit = permit;
                // Declared after the permit so the handshake place goes first: a new accept
                // never finds the places of MAX_PENDING_HANDSHAKES still held.
                let mut slot = slot;
                let io = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(io)) => io,
                    Ok(Err(e)) => {
                        if let Some(not_logged) = failed_handshakes.admit() {
                            tracing::info!(listener = %name, %remote, error = %e, not_logged, "TLS handshake refused");
                        }
                        return;
                    }
                    Err(_) => {
                        if let Some(not_logged) = failed_handshakes.admit() {
                            tracing::info!(listener = %name, %remote, not_logged, "TLS handshake timed out");
                        }
                        return;
                    }
                };
                let chain = io.get_ref().1.peer_certificates().unwrap_or_default();
                let Some(role) = roles.role_of(chain) else {
                    tracing::warn!(listener = %name, %remote, "client certificate maps to no role");
                    return;
                };
                let (role, capped) = match max_role {
                    Some(cap) if cap < role => (cap, true),
                    _ => (role, false),
                };
                tracing::debug!(listener = %name, %remote, %role, capped, "client authenticated");
                slot.handshake_done();
                let info = PeerInfo { role, capped, remote, listener: name };
                let ends = Box::pin(tokio::time::sleep(limits.lifetime));
                let conn = AuthedConn { io, info, _slot: slot, ends };
                let _ = tx.send(Ok(conn)).await;
            });
        }
    });
    ReceiverStream::new(rx)
}
