//! The tokio shell: listeners, one task per connection moving bytes between the
//! socket and a [`Connection`], and a bounded pool of blocking threads for volume
//! I/O. No protocol logic lives here.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::{JoinError, JoinHandle};
use tracing::{debug, info, warn};

use crate::auth::DhOutput;
use crate::by_peer::ByPeer;
use crate::queue::{
    COPY_BELOW, Connection, DhRequest, IoOp, IoRequest, NamespaceRemoved, QueueConfig, QueueOps,
    Segment, execute_io, execute_io_into, is_namespace_removed, queued_write_data,
};
pub use crate::queue::{ListenerLife, ListenerRole};
use crate::target::{AnaState, ListenerSpec, RegistryError, Target};
use crate::trim::{TrimPolicy, release_free_memory};
use crate::uring::Ring;
use crate::volume::Volume;
use crate::write_budget::WriteBudget;

/// How often a connection checks timers (keep alive, controller teardown, events).
pub const TICK: Duration = Duration::from_millis(100);
/// A send that makes no progress for this long closes the connection.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Room asked of the connection for each receive: a batch of commands or a 128 KiB
/// H2CData PDU with its header in one read call.
const RECV_ROOM: usize = 256 * 1024;
/// Read buffers a connection keeps for reuse once their data is sent: a burst of
/// large reads at queue depth 32 finds one each (at most 4 MiB of 128 KiB reads, held
/// only by connections that had that many in flight at once). Fresh buffers would be
/// zeroed, and the allocator returns freed bursts to the system, so each page faults again.
const SPARE_READ_BUFFERS: usize = 32;

/// Connections that may wait for their Fabrics Connect at once (by default): each holds
/// a task, a socket and a few kilobytes until it connects or its deadline
/// ([`crate::queue::CONNECT_DEADLINE`]) passes, and any peer on the fabric can open them.
/// A Linux host opens all its queues' connections before it sends their Connects, so a
/// crowd of hosts reconnecting at once (the card restarted) needs room for every queue of
/// all of them for a moment; beyond the bound a new connection is closed at once, and the
/// host's controller tries again after its reconnect delay.
pub const MAX_UNCONNECTED: usize = 4096;

/// The largest bound `--max-unconnected` takes: the kernel's default most descriptors a
/// process may have (`fs.nr_open`, 1,048,576), each such connection being one; past it the
/// bound would bound nothing. 0 would close every connection as it is accepted.
pub const MAX_UNCONNECTED_LIMIT: usize = 1 << 20;

/// Connections waiting for their Connect that one address may hold without being shed
/// for another's (or half the bound, if less): twice what a Linux host with the most I/O
/// queues a controller is granted (128) and its admin queue opens at once.
const HOST_SHARE: usize = 2 * (128 + 1);

/// How long a connection waiting for its Connect is safe from being shed for a newcomer
/// when no address holds more than its share: a Linux host sends its ICReq and Connect
/// within milliseconds of connecting, so only a peer that holds connections silent waits
/// longer.
const UNCONNECTED_GRACE: Duration = Duration::from_secs(2);

/// Errors of the shell.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Binding a listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: io::Error,
    },
    /// The registry refused the listener.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// A listening socket [`bind`] bound, not served yet: connections wait in its backlog.
#[derive(Debug)]
pub struct BoundSocket {
    listener: TcpListener,
    addr: SocketAddr,
}

impl BoundSocket {
    /// The address it is bound to (with the port picked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Binds a listening socket on `addr` (port 0 picks a free port), to be served by
/// [`Server::serve_listener`]. An IPv6 socket is
/// dual-stack (IPV6_V6ONLY off) whatever `net.ipv6.bindv6only` says, so `[::]` accepts
/// IPv4 hosts too, as the discovery log tells them ([`crate::identify::address_seen`]) and
/// the agent's address checks assume.
pub async fn bind(addr: SocketAddr) -> Result<BoundSocket, ServerError> {
    let bind_err = |source| ServerError::Bind { addr, source };
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6().and_then(|s| {
            nix::sys::socket::setsockopt(&s, nix::sys::socket::sockopt::Ipv6V6Only, &false)?;
            Ok(s)
        }),
    }
    .map_err(bind_err)?;
    // As `TcpListener::bind` does: SO_REUSEADDR, so a restarted service binds its port
    // while the last one's connections linger in TIME_WAIT, and the standard backlog.
    socket.set_reuseaddr(true).map_err(bind_err)?;
    socket.bind(addr).map_err(bind_err)?;
    let listener = socket.listen(128).map_err(bind_err)?;
    let addr = listener.local_addr().map_err(bind_err)?;
    Ok(BoundSocket { listener, addr })
}

/// Whether sockets listening on `a` and `b` would take the same port, so that [`bind`]
/// binds only one of them: the same port and address, or an unspecified address of the
/// family (`::` the IPv4 ones too: [`bind`] binds it dual-stack). An IPv4-mapped IPv6
/// address (`::ffff:127.0.0.1`) is its IPv4 address, as Linux binds it. The agent's
/// checks of stored listeners and the configuration file's both use it.
pub fn addresses_overlap(a: SocketAddr, b: SocketAddr) -> bool {
    let dual_stack = |ip: IpAddr| ip == IpAddr::from(Ipv6Addr::UNSPECIFIED);
    let (x, y) = (a.ip().to_canonical(), b.ip().to_canonical());
    a.port() == b.port()
        && if x.is_ipv4() == y.is_ipv4() {
            x == y || x.is_unspecified() || y.is_unspecified()
        } else {
            dual_stack(x) || dual_stack(y)
        }
}

/// Most volume I/O operations that may run at once (`io_threads`): they run on tokio's
/// blocking pool, which has at most 512 threads, so more would only wait there.
pub const MAX_IO_THREADS: usize = 512;

/// Bounded pool for volume I/O: at most `threads` operations run at once, each on
/// tokio's blocking pool, never on the reactor. Authentication's DH computations run
/// there too, under a bound of their own (one per two cores, at least one): a crowd of
/// connecting hosts takes neither the volumes' permits nor more than half the machine.
/// Saves of namespace state (`IoOp::SaveNamespaces`) run on a lane of their own, one at
/// a time: they wait for one another on the store's lock anyway, so on the pool a host
/// piling them up would hold every permit from the volumes' operations; one after
/// another, the saves of changes made while one ran share its successor's write
/// (`NamespaceStore::save_change`).
/// Reads and writes of file and block device volumes skip the pool where the kernel has
/// io_uring (`crate::uring`): each connection then runs them on a ring of its own.
///
/// The permits go round the hosts, then each host's connections, not to operations by
/// arrival: a host (its peer address, an IPv6 /64: `dpu_runtime::peer::group`) has at
/// most one operation waiting for a permit at a time, and each of its connections at
/// most one waiting for the host's turn (`HostTurns`, `PoolShare`); all of a host's
/// connections together run at most a quarter of the permits (at least one) of
/// operations whose length the host chooses beyond MDTS ([`IoOp::may_span_volume`]),
/// taken in turn by its connections too; the rest wait in the connection's own order. One host queueing
/// thousands of long Verify or Write Zeroes commands, over however many queues and
/// controllers, thus delays another host's operation by a turn of the hosts, not by all
/// of its work nor by one operation per queue it opened (Linux's nvmet has no shared
/// queue at all: requests reach the block layer each on their own), while a connection
/// alone may still use every thread for bounded ones.
#[derive(Debug, Clone)]
pub struct IoPool {
    permits: Arc<Semaphore>,
    /// How many operations that may span the volume one host runs at once.
    long_share: usize,
    /// Each host's turns, shared by its connections.
    hosts: ByPeer<HostTurns>,
    dh_permits: Arc<Semaphore>,
    /// The saves' lane: one permit.
    save_permits: Arc<Semaphore>,
    /// Whether connections accepted from now on may use io_uring.
    uring: Arc<AtomicBool>,
}

/// One host's place in the [`IoPool`]'s queue, shared by its connections.
#[derive(Debug)]
struct HostTurns {
    /// Its operations that may span the volume running at once, the pool's quarter.
    long: Semaphore,
    /// Held by its one operation waiting for a pool permit: the pool's FIFO queue then
    /// holds one operation per host, so its permits go round the hosts.
    turn: Semaphore,
}

/// One connection's place in its host's queue ([`IoPool::share`]): the host's turns go
/// round its connections as the pool's go round the hosts.
#[derive(Debug, Clone)]
struct PoolShare {
    host: Arc<HostTurns>,
    /// Held by its one operation waiting for the host's turn.
    turn: Arc<Semaphore>,
    /// Held by its one operation waiting for the host's share of long operations.
    long_turn: Arc<Semaphore>,
}

/// A blocking operation's result, back to its connection's task.
#[derive(Debug)]
enum Done {
    /// A volume operation's ([`Connection::complete_io`]).
    Io(u64, io::Result<Vec<u8>>),
    /// A DH computation's ([`Connection::complete_dh`]).
    Dh(u64, DhOutput),
}

impl IoPool {
    /// A pool running at most `threads` operations at a time.
    pub fn new(threads: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        // Within the semaphore's MAX_PERMITS, past which `new` panics.
        let threads = threads.clamp(1, MAX_IO_THREADS);
        Self {
            permits: Arc::new(Semaphore::new(threads)),
            long_share: (threads / 4).max(1),
            hosts: ByPeer::default(),
            dh_permits: Arc::new(Semaphore::new((cores / 2).max(1))),
            save_permits: Arc::new(Semaphore::new(1)),
            uring: Arc::new(AtomicBool::new(true)),
        }
    }

    fn spawn_dh(&self, req: DhRequest, done: mpsc::UnboundedSender<Done>, open: &Open) {
        let DhRequest { tag, job } = req;
        let failed = job.failed();
        let work = move || Done::Dh(tag, job.run());
        // A connection that closed while its job waited wants no answer: skipping the
        // job keeps a peer that opens authentications and hangs up from queueing
        // milliseconds of work each ahead of the hosts that stay.
        let abandoned = Abandoned::Skip(open.clone(), None);
        let failed = move |_| Done::Dh(tag, failed);
        run_bounded(&self.dh_permits, None, work, failed, done, abandoned);
    }

    /// A new connection's place in the queue for permits, in its host's (`peer`'s
    /// group; a connection of no known peer is a host of its own).
    fn share(&self, peer: Option<IpAddr>) -> PoolShare {
        let turns = || HostTurns { long: Semaphore::new(self.long_share), turn: Semaphore::new(1) };
        PoolShare {
            host: peer.map_or_else(|| Arc::new(turns()), |p| self.hosts.get(p, turns)),
            turn: Arc::new(Semaphore::new(1)),
            long_turn: Arc::new(Semaphore::new(1)),
        }
    }

    fn spawn(
        &self,
        req: IoRequest,
        share: &PoolShare,
        done: mpsc::UnboundedSender<Done>,
        open: &Open,
    ) {
        // Only a save outlives its connection (`IoRequest::saves` says why). Any other
        // operation of a closed connection is dropped, even while it waits for a permit:
        // a peer queueing long ones (Write Zeroes, Verify of 65,536 blocks) and hanging up,
        // again and again, would otherwise hold the permits, the memory and its writes'
        // tickets (a Preempt and Abort waits for) from every other host's operations and
        // saves, without bound (nvmet frees a queue only once its requests ended).
        // Nor does one whose namespace was removed (it is skipped): it leaves the queue as
        // soon as the removal wakes it, so the removal waits for no other operation.
        let tag = req.tag;
        let abandoned = if req.saves {
            Abandoned::Run
        } else {
            let removal = req.namespace_ops().map(|ops| Removal { ops: ops.clone(), tag });
            Abandoned::Skip(open.clone(), removal)
        };
        // Saves take no turn of the connection's share: they have a lane of their own.
        let (permits, queued) = match req.op {
            IoOp::SaveNamespaces { .. } => (&self.save_permits, None),
            _ => (&self.permits, Some((share.clone(), req.op.may_span_volume()))),
        };
        let handed = Instant::now();
        let work = move || {
            let result = execute_io(&req);
            // From the hand-off: the wait for a permit is part of what the device costs.
            let skipped = result.as_ref().is_err_and(is_namespace_removed);
            if !req.volume.backend().memory_only() && !skipped {
                req.volume.latency().record(&req.op, handed.elapsed());
            }
            Done::Io(tag, result)
        };
        let failed = move |e: JoinError| Done::Io(tag, Err(io::Error::other(e.to_string())));
        run_bounded(permits, queued, work, failed, done, abandoned);
    }
}

/// Held by a connection's task while the connection is open (the receiver) and by the
/// work it queued (senders), which learns so when the connection closed.
type Open = mpsc::UnboundedSender<Infallible>;

/// What [`run_bounded`] does with work whose connection closed, or whose namespace was
/// removed, before it started.
#[derive(Debug, Clone)]
enum Abandoned {
    /// It runs all the same.
    Run,
    /// It is dropped, unrun, as soon as the connection closes; and, a volume operation of
    /// a namespace's command (`Some`), as soon as the namespace is removed.
    Skip(Open, Option<Removal>),
}

/// A volume operation waiting for a pool thread that leaves once its namespace is removed
/// ([`QueueOps::removed`]), its command then failing as one skipped ([`NamespaceRemoved`]).
#[derive(Debug, Clone)]
struct Removal {
    ops: Arc<QueueOps>,
    tag: u64,
}

/// Completes once the namespace of `removal`'s operation is removed; never without one.
async fn removed(removal: Option<&Removal>) {
    match removal {
        Some(r) => r.ops.removed().await,
        None => std::future::pending().await,
    }
}

/// Runs `work` on tokio's blocking pool once `permits` lets it, and sends its result (or,
/// if it panicked, `failed`'s) to `done`. With a connection's `share`, it first waits for
/// its host's share of long operations if `long` says it is one (in the connection's turn
/// among the host's), then for the connection's turn among the host's connections, then
/// for the host's turn among the hosts.
fn run_bounded(
    permits: &Arc<Semaphore>,
    share: Option<(PoolShare, bool)>,
    work: impl FnOnce() -> Done + Send + 'static,
    failed: impl FnOnce(JoinError) -> Done + Send + 'static,
    done: mpsc::UnboundedSender<Done>,
    abandoned: Abandoned,
) {
    let permits = permits.clone();
    tokio::spawn(async move {
        let acquire = async {
            let (long, turns) = match &share {
                Some((s, long)) => {
                    let long = if *long {
                        let _turn = s.long_turn.acquire().await.ok()?;
                        Some(s.host.long.acquire().await.ok()?)
                    } else {
                        None
                    };
                    let own = s.turn.acquire().await.ok()?;
                    (long, Some((own, s.host.turn.acquire().await.ok()?)))
                }
                None => (None, None),
            };
            let permit = permits.clone().acquire_owned().await.ok()?;
            // The host's next operation queues for a permit behind every other host's
            // waiting one, and the connection's behind the host's other connections'.
            drop(turns);
            Some((permit, long))
        };
        let permit = match &abandoned {
            Abandoned::Run => acquire.await,
            // Leaves the queues at once, freeing the work's memory (and, its namespace
            // removed, its place among the namespace's operations).
            Abandoned::Skip(open, removal) => tokio::select! {
                // A permit free at once costs no wait on the others.
                biased;
                p = acquire => p,
                () = open.closed() => return,
                () = removed(removal.as_ref()) => {
                    drop(work);
                    if let Some(r) = removal {
                        let _ = done.send(Done::Io(r.tag, Err(NamespaceRemoved.into())));
                    }
                    return;
                }
            },
        };
        let Some(_permits) = permit else { return };
        if matches!(&abandoned, Abandoned::Skip(open, _) if open.is_closed()) {
            return;
        }
        let result = tokio::task::spawn_blocking(work).await.unwrap_or_else(failed);
        let _ = done.send(result);
    });
}

/// Runs listeners for a [`Target`].
#[derive(Debug)]
pub struct Server {
    target: Arc<Target>,
    pool: IoPool,
    maxh2cdata: u32,
    /// [`QueueConfig::max_c2h_data`] of the connections accepted from now on.
    max_c2h_data: Arc<AtomicUsize>,
    /// Every listener, discovery-only ones too, by port ID.
    listeners: Mutex<HashMap<u16, Accepting>>,
    /// Connections of every listener that have not connected yet.
    unconnected: Unconnected,
    /// Write data asked for by R2T over the connections of every listener; each accepted
    /// connection takes through its host's [`WriteBudget::for_peer`].
    write_budget: WriteBudget,
    /// Volumes [`follow_devices`] checks besides those of namespaces ([`Server::follow`]).
    followed: Followed,
    /// [`follow_devices`], stopped with the listeners.
    device_watch: JoinHandle<()>,
    /// [`end_ana_changes`], stopped with the listeners.
    ana_watch: JoinHandle<()>,
    /// The connections of every listener open, and the trims of the memory they freed.
    trimmer: Trimmer,
}

/// The connections of a [`Server`]'s listeners at one moment (GetNvmfStats'
/// `open_connections` and `unconnected_connections`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionGauges {
    /// Accepted and not yet closed (their task has not ended), connected or not.
    pub open: usize,
    /// Of those, the ones waiting for their Fabrics Connect that hold a place under
    /// [`Server::set_max_unconnected`] (one shed to make room holds none).
    pub unconnected: usize,
}

/// A listening socket's accept loop.
#[derive(Debug)]
struct Accepting {
    task: JoinHandle<()>,
    /// Its connections' [`QueueConfig::listener`].
    life: ListenerLife,
}

/// What becomes of a stopped listener's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connections {
    /// They stay (the listener is bound anew elsewhere, keeping its port ID).
    Keep,
    /// They close, and the controllers whose admin queue came through it go (the
    /// listener is deleted; as Linux's nvmet deletes a port's controllers).
    Close,
}

/// Volumes held elsewhere (the agent's volumes that no namespace uses yet), forgotten when
/// their holder drops them.
type Followed = Arc<Mutex<Vec<Weak<Volume>>>>;

impl Server {
    /// A server with an I/O pool of `io_threads`.
    pub fn new(target: Arc<Target>, io_threads: usize) -> Arc<Self> {
        let followed = Followed::default();
        Arc::new(Self {
            device_watch: tokio::spawn(follow_devices(target.clone(), followed.clone())),
            ana_watch: tokio::spawn(end_ana_changes(target.clone())),
            followed,
            target,
            pool: IoPool::new(io_threads),
            maxh2cdata: 128 * 1024,
            max_c2h_data: Arc::new(AtomicUsize::new(QueueConfig::default().max_c2h_data)),
            listeners: Mutex::new(HashMap::new()),
            unconnected: Unconnected::new(MAX_UNCONNECTED),
            write_budget: WriteBudget::default(),
            trimmer: Trimmer::default(),
        })
    }

    /// The target.
    pub fn target(&self) -> &Arc<Target> {
        &self.target
    }

    /// Has [`follow_devices`] also check `volume` while it is held elsewhere, so a volume's
    /// size follows its device before a namespace uses it.
    pub fn follow(&self, volume: &Arc<Volume>) {
        if let Ok(mut f) = self.followed.lock() {
            f.retain(|v| v.strong_count() > 0);
            f.push(Arc::downgrade(volume));
        }
    }

    /// Whether connections accepted from now on run the reads and writes of file and block
    /// device volumes on an io_uring (the default, where the kernel has one) or all volume
    /// I/O on the pool of blocking threads.
    pub fn set_io_uring(&self, enabled: bool) {
        self.pool.uring.store(enabled, Ordering::Relaxed);
    }

    /// Splits read data of connections accepted from now on into C2HData PDUs of at
    /// most `bytes` (default: one PDU per read), as some targets do; tests use it to
    /// exercise a host's gathering of the pieces.
    pub fn set_max_c2h_data(&self, bytes: usize) {
        self.max_c2h_data.store(bytes, Ordering::Relaxed);
    }

    /// How many accepted connections of all listeners may wait for their Fabrics Connect
    /// at once (default [`MAX_UNCONNECTED`]); past it, a new connection sheds another
    /// (see `Unconnected`) or is closed at once, each counted
    /// (`TargetStats::connections_shed`).
    pub fn set_max_unconnected(&self, connections: usize) {
        self.unconnected.limit.store(connections, Ordering::Relaxed);
    }

    /// Bounds the write data the connections of all listeners may have asked for by R2T
    /// and not yet received, beyond each queue's first R2T, to `bytes` (default
    /// [`DEFAULT_WRITE_BUDGET`](crate::write_budget::DEFAULT_WRITE_BUDGET)), one host's
    /// connections to [`host_share`](crate::write_budget::host_share) of it; connections
    /// already open follow the new bound too.
    pub fn set_write_data_budget(&self, bytes: usize) {
        self.write_budget.set_limit(bytes);
    }

    /// The budget [`set_write_data_budget`](Self::set_write_data_budget) bounds (what is
    /// taken of it, for tests and statistics).
    pub fn write_data_budget(&self) -> &WriteBudget {
        &self.write_budget
    }

    /// The connections of every listener now: those the trim counts open, and of them
    /// those holding a place among the ones waiting for their Connect.
    pub fn connection_gauges(&self) -> ConnectionGauges {
        let unconnected = self.unconnected.waiting();
        let open = self.trimmer.open();
        // Read apart: a connection gives its place back before it stops counting open, so
        // one closing between the two reads would be waiting and not open.
        ConnectionGauges { open, unconnected: unconnected.min(open) }
    }

    /// Binds `spec.addr` (port 0 picks a free port), registers the listener for the
    /// discovery log and serves it. Returns the bound address. A discovery-only listener
    /// (`spec.discovery_only`, the well-known discovery port 8009) serves the discovery
    /// controller alone (an admin Connect to any other subsystem is refused) and no
    /// subsystem entry of the log names it; the log served through it names its port ID.
    /// Its port's ANA states are left as they are: none for a new port ID, those
    /// [`Target::unbind_listener`] kept for one bound anew.
    pub async fn add_listener(&self, spec: ListenerSpec) -> Result<SocketAddr, ServerError> {
        let listener = bind(spec.addr).await?;
        self.serve_listener_of(spec, listener, &ListenerLife::default(), None)
    }

    /// As [`add_listener`](Self::add_listener), a socket of listener `life` (bound anew:
    /// deleting it also closes what its earlier sockets accepted) showing ANA states
    /// `ana` ([`Target::set_ana_states`]).
    pub async fn add_listener_of(
        &self,
        spec: ListenerSpec,
        life: &ListenerLife,
        ana: &BTreeMap<u32, AnaState>,
    ) -> Result<SocketAddr, ServerError> {
        let listener = bind(spec.addr).await?;
        self.serve_listener_of(spec, listener, life, Some(ana))
    }

    /// As [`add_listener`](Self::add_listener), on a socket [`bind`] bound already (so a
    /// caller can learn that every address binds before it changes anything else),
    /// showing ANA states `ana`.
    pub fn serve_listener(
        &self,
        spec: ListenerSpec,
        socket: BoundSocket,
        ana: &BTreeMap<u32, AnaState>,
    ) -> Result<SocketAddr, ServerError> {
        self.serve_listener_of(spec, socket, &ListenerLife::default(), Some(ana))
    }

    /// Registers and serves a listener, with ANA states `ana` (`None`: as they are).
    fn serve_listener_of(
        &self,
        mut spec: ListenerSpec,
        BoundSocket { listener, addr }: BoundSocket,
        life: &ListenerLife,
        ana: Option<&BTreeMap<u32, AnaState>>,
    ) -> Result<SocketAddr, ServerError> {
        spec.addr = addr;
        let cfg = QueueConfig {
            maxh2cdata: self.maxh2cdata,
            discovery_only: spec.discovery_only,
            port_id: Some(spec.port_id),
            listener: life.clone(),
            ..QueueConfig::default()
        };
        // Bound here before the registry moves the discovery generation: connections it
        // kept from an earlier socket look up its referrals and port ID by this address
        // from then on, and those not connected yet connect to what it serves here
        // (discovery only or not, its port ID). The other way round, a kept discovery
        // connection that built its log in between would see it change with no move of
        // the generation, on which it compares the log again for its change notice.
        let before = life.bound(addr, ListenerRole::of(&cfg));
        if let Err(e) = self.target.add_listener(spec.clone()) {
            life.rebound(before);
            return Err(e.into());
        }
        // Before it accepts: a host waiting in the backlog (a restart's, a rebinding's)
        // must not find a path the operator made inaccessible optimized meanwhile. They
        // replace the states an unbound port kept.
        if let Some(ana) = ana
            && let Err(e) = self.target.set_ana_states(spec.port_id, ana, Instant::now())
        {
            let _ = self.target.unbind_listener(spec.port_id);
            life.rebound(before);
            return Err(e.into());
        }
        let accepting = self.accept(listener, cfg);
        if spec.discovery_only {
            info!(%addr, port_id = spec.port_id, "NVMe/TCP discovery listener");
        } else {
            info!(%addr, port_id = spec.port_id, "NVMe/TCP listener");
        }
        if let Ok(mut l) = self.listeners.lock() {
            l.insert(spec.port_id, accepting);
        }
        Ok(addr)
    }

    /// Serves `listener` (where `cfg.listener` is recorded bound): its connections get
    /// `cfg`, with the digests its listener allows in the registry at the time each is
    /// accepted.
    fn accept(&self, listener: TcpListener, mut cfg: QueueConfig) -> Accepting {
        // One budget for the connections of every listener.
        cfg.write_budget = self.write_budget.clone();
        let life = cfg.listener.clone();
        let task = tokio::spawn(accept_loop(
            self.target.clone(),
            self.pool.clone(),
            listener,
            cfg,
            self.max_c2h_data.clone(),
            self.unconnected.clone(),
            self.trimmer.clone(),
        ));
        Accepting { task, life }
    }

    /// Stops accepting on a listener and removes it from the discovery log; returns once
    /// its socket is closed (so its address can be bound again). Established connections
    /// stay or close as `connections` says; those that stay keep the port's ANA states
    /// until it is bound anew ([`Target::unbind_listener`]).
    pub async fn remove_listener(
        &self,
        port_id: u16,
        connections: Connections,
    ) -> Result<(), ServerError> {
        match connections {
            Connections::Keep => self.target.unbind_listener(port_id)?,
            Connections::Close => self.target.remove_listener(port_id)?,
        }
        let stopped = self.listeners.lock().ok().and_then(|mut l| l.remove(&port_id));
        if let Some(a) = stopped {
            a.stop(connections).await;
        }
        if connections == Connections::Close {
            // Also those that came through an earlier socket of the port (bound anew).
            self.target.end_controllers_through(port_id);
        }
        Ok(())
    }

    /// Stops every listener (and following block devices).
    pub fn stop(&self) {
        self.device_watch.abort();
        self.ana_watch.abort();
        if let Ok(mut l) = self.listeners.lock() {
            for (_, a) in l.drain() {
                a.task.abort();
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How often block devices are checked for growth.
pub const DEVICE_CHECK: Duration = Duration::from_secs(1);

/// Every [`DEVICE_CHECK`], grows each block device volume whose device grew (one `lseek`
/// each, on a blocking thread) and tells the hosts of its namespaces, as the new size of an
/// LVM volume or a resized virtual disk reaches them without an operator's step. Checks the
/// volumes of namespaces and the [`Server::follow`]ed ones.
async fn follow_devices(target: Arc<Target>, followed: Followed) {
    let mut tick = tokio::time::interval(DEVICE_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let mut volumes = target.volumes();
        if let Ok(f) = followed.lock() {
            for v in f.iter().filter_map(Weak::upgrade) {
                if !volumes.iter().any(|known| Arc::ptr_eq(known, &v)) {
                    volumes.push(v);
                }
            }
        }
        let checked = tokio::task::spawn_blocking(move || {
            volumes.into_iter().map(|v| (v.follow_device(), v)).collect::<Vec<_>>()
        });
        let Ok(checked) = checked.await else { continue };
        for (result, volume) in checked {
            match result {
                Ok(false) => {}
                Ok(true) => {
                    let namespaces = target.volume_resized(&volume);
                    // The volume's size in the agent's stored status is now stale.
                    dpu_runtime::control::status_changed();
                    info!(
                        volume = volume.name(),
                        blocks = volume.blocks(),
                        namespaces,
                        "block device grew"
                    );
                }
                Err(e) => {
                    debug!(volume = volume.name(), error = %e, "checking the block device's size")
                }
            }
        }
    }
}

/// Ends each ANA transition the operator left in Change once it lasted ANATT
/// ([`Target::end_ana_changes`]), waiting for the next one due or for a group to go into
/// Change.
async fn end_ana_changes(target: Arc<Target>) {
    loop {
        let ended = target.end_ana_changes(Instant::now());
        if !ended.is_empty() {
            // The listeners' states in the agent's stored status are now stale.
            dpu_runtime::control::status_changed();
        }
        for (port_id, group) in ended {
            warn!(
                port_id,
                group,
                anatt_secs = crate::identify::ANATT,
                "ANA group in change for ANATT: hosts are told it is inaccessible through \
                 the listener until it is set to another state"
            );
        }
        // A Change set since `end_ana_changes` read them left a wake-up: no sleep past it.
        let started = target.ana_change_started();
        match target.next_ana_change_end() {
            Some(at) => tokio::select! {
                () = tokio::time::sleep_until(at.into()) => {}
                () = started => {}
            },
            None => started.await,
        }
    }
}

/// Accepts connections on `listener`, each configured as `listener_cfg` (what the listener
/// allows) with its own addresses and the current C2HData PDU limit.
async fn accept_loop(
    target: Arc<Target>,
    pool: IoPool,
    listener: TcpListener,
    listener_cfg: QueueConfig,
    max_c2h_data: Arc<AtomicUsize>,
    unconnected: Unconnected,
    trimmer: Trimmer,
) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let admitted =
                    unconnected.admit(dpu_runtime::peer::address(peer.ip()), Instant::now());
                if admitted.as_ref().is_none_or(|(_, shed_another)| *shed_another) {
                    let shed = target.stats.connections_shed.fetch_add(1, Ordering::Relaxed);
                    // Told at the first and every 1,000th, not once per connection of a flood.
                    if shed.is_multiple_of(1000) {
                        warn!(%peer, shed = shed + 1,
                            "too many connections waiting to connect; shedding those of the address with the most, or the oldest");
                    }
                }
                let Some((slot, _)) = admitted else { continue };
                let _ = stream.set_nodelay(true);
                // The digests the registry has for the listener now (they change in place);
                // one removed meanwhile allows both (its connections close at their tick).
                let (allow_hdgst, allow_ddgst) = listener_cfg
                    .port_id
                    .and_then(|id| target.listener_digests(id))
                    .unwrap_or((true, true));
                let cfg = QueueConfig {
                    local_addr: stream.local_addr().ok(),
                    peer_addr: Some(peer),
                    // Its host's share of the server's budget.
                    write_budget: listener_cfg.write_budget.for_peer(peer.ip()),
                    max_c2h_data: max_c2h_data.load(Ordering::Relaxed),
                    allow_hdgst,
                    allow_ddgst,
                    ..listener_cfg.clone()
                };
                target.stats.connections.fetch_add(1, Ordering::Relaxed);
                debug!(%peer, "connection accepted");
                let open = trimmer.opened();
                let serve = serve_connection(target.clone(), pool.clone(), stream, cfg, slot);
                // Counted open until its task ends, however it ends.
                tokio::spawn(async move {
                    serve.await;
                    drop(open);
                });
            }
            Err(e) => {
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Counts the open connections of a [`Server`] (the one count of them, which
/// [`Server::connection_gauges`] reports too) and, when [`TrimPolicy`] says so, gives the
/// memory they freed back to the system on a blocking thread (`malloc_trim` walks the
/// arenas under their locks: never on the reactor).
#[derive(Debug, Clone, Default)]
struct Trimmer(Arc<Mutex<TrimPolicy>>);

impl Trimmer {
    fn policy(&self) -> std::sync::MutexGuard<'_, TrimPolicy> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Connections open now.
    fn open(&self) -> usize {
        self.policy().live()
    }

    /// A connection was accepted; it counts as open until the result is dropped.
    fn opened(&self) -> OpenConnection {
        self.policy().opened();
        OpenConnection(self.clone())
    }

    /// A connection closed: a trim that became due runs when [`TrimPolicy`] says, and so
    /// do those that connections closing while it ran made due.
    fn closed(&self) {
        let Some(at) = self.policy().closed(Instant::now()) else { return };
        // No runtime: the process is ending, and its memory with it.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let trimmer = self.clone();
        runtime.spawn(async move {
            let mut next = Some(at);
            while let Some(at) = next {
                tokio::time::sleep_until(at.into()).await;
                let live = {
                    let mut policy = trimmer.policy();
                    policy.starting();
                    policy.live()
                };
                if tokio::task::spawn_blocking(move || trim_logged(live)).await.is_err() {
                    warn!("giving freed memory back to the system failed");
                }
                next = trimmer.policy().trimmed(Instant::now());
            }
        });
    }
}

/// [`release_free_memory`], with the resident set before and after it at debug level.
fn trim_logged(live: usize) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        release_free_memory();
        return;
    }
    let (before, started) = (resident_kib(), Instant::now());
    let released = release_free_memory();
    debug!(
        live,
        released,
        resident_kib_before = before,
        resident_kib_after = resident_kib(),
        took_us = started.elapsed().as_micros() as u64,
        "gave freed connection memory back to the system"
    );
}

/// The process's resident set in KiB; 0 if unknown.
fn resident_kib() -> u64 {
    dpu_runtime::process::resident_kib(None).unwrap_or(0)
}

/// One connection counted open by its [`Trimmer`].
#[derive(Debug)]
struct OpenConnection(Trimmer);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.closed();
    }
}

impl Accepting {
    /// Ends the accept loop and waits until its socket is closed.
    async fn stop(self, connections: Connections) {
        if connections == Connections::Close {
            self.life.delete();
        }
        self.task.abort();
        // An aborted task's result is its cancellation; awaiting it waits for the drop.
        let _ = self.task.await;
    }
}

/// The accepted connections that have not connected yet, and their bound. When it is
/// reached, a new connection takes the place of the oldest waiting one of the address
/// that has the most waiting (as a full MAC table takes room from the port with the most
/// addresses), if that address holds more than a host needs ([`HOST_SHARE`]) and more
/// than the new one's own address (by two): a peer that opens silent connections from
/// one address crowds out only itself. Else, of the oldest waiting one of any address if
/// that has waited past [`UNCONNECTED_GRACE`]: peers that hold silent connections from
/// many addresses, each within its share, lose their oldest to a new host, while hosts
/// setting up their queues (a Linux host opens every queue's connection before it sends
/// their Connects, milliseconds later) are not shed for one another.
#[derive(Debug, Clone)]
struct Unconnected {
    waiting: Arc<Mutex<Waiting>>,
    limit: Arc<AtomicUsize>,
}

#[derive(Debug, Default)]
struct Waiting {
    total: usize,
    /// By peer address (`dpu_runtime::peer::group`), by the order they came in: when each
    /// came and its shed flag.
    by_address: HashMap<IpAddr, BTreeMap<u64, (Instant, Arc<AtomicBool>)>>,
    arrived: u64,
}

impl Unconnected {
    fn new(limit: usize) -> Self {
        Self { waiting: Arc::default(), limit: Arc::new(AtomicUsize::new(limit)) }
    }

    /// Connections holding a place now.
    fn waiting(&self) -> usize {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner).total
    }

    /// A place for a new connection from `peer` arriving at `now`, if the bound leaves one
    /// or one can be freed for it (then `true`: another connection was shed).
    fn admit(&self, peer: IpAddr, now: Instant) -> Option<(UnconnectedSlot, bool)> {
        let peer = dpu_runtime::peer::group(peer);
        let limit = self.limit.load(Ordering::Relaxed);
        let mut w = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        let full = w.total >= limit;
        if full {
            let from = w.crowd(peer, limit).or_else(|| w.oldest_past_grace(now))?;
            let waiting = w.by_address.get_mut(&from)?;
            let (_, (_, shed)) = waiting.pop_first()?;
            shed.store(true, Ordering::Relaxed);
            if waiting.is_empty() {
                w.by_address.remove(&from);
            }
            w.total -= 1;
        }
        w.arrived += 1;
        w.total += 1;
        let (id, shed) = (w.arrived, Arc::new(AtomicBool::new(false)));
        w.by_address.entry(peer).or_default().insert(id, (now, shed.clone()));
        Some((UnconnectedSlot { waiting: self.waiting.clone(), peer, id, shed }, full))
    }
}

impl Waiting {
    /// The address with the most waiting, if it holds more than a host's share and at
    /// least two more than `newcomer`'s.
    fn crowd(&self, newcomer: IpAddr, limit: usize) -> Option<IpAddr> {
        let own = self.by_address.get(&newcomer).map_or(0, BTreeMap::len);
        let (crowd, n) = self
            .by_address
            .iter()
            .map(|(a, waiting)| (*a, waiting.len()))
            .max_by_key(|(_, n)| *n)?;
        (n > HOST_SHARE.min(limit / 2) && n > own + 1).then_some(crowd)
    }

    /// The address of the connection that has waited longest, if that is past
    /// [`UNCONNECTED_GRACE`] at `now`.
    fn oldest_past_grace(&self, now: Instant) -> Option<IpAddr> {
        let (a, since) = self
            .by_address
            .iter()
            .filter_map(|(a, waiting)| waiting.first_key_value().map(|(id, (t, _))| (a, id, t)))
            .min_by_key(|(_, id, _)| **id)
            .map(|(a, _, t)| (*a, *t))?;
        (now.saturating_duration_since(since) > UNCONNECTED_GRACE).then_some(a)
    }
}

/// One connection's place among the unconnected ones, given back on drop.
#[derive(Debug)]
struct UnconnectedSlot {
    waiting: Arc<Mutex<Waiting>>,
    peer: IpAddr,
    id: u64,
    /// Set when a newer connection took the place: the connection closes.
    shed: Arc<AtomicBool>,
}

impl UnconnectedSlot {
    fn shed(&self) -> bool {
        self.shed.load(Ordering::Relaxed)
    }
}

impl Drop for UnconnectedSlot {
    fn drop(&mut self) {
        let mut w = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        // A shed place was given up when it was taken.
        if let Some(waiting) = w.by_address.get_mut(&self.peer)
            && waiting.remove(&self.id).is_some()
        {
            if waiting.is_empty() {
                w.by_address.remove(&self.peer);
            }
            w.total -= 1;
        }
    }
}

/// `send`, bounded by the deadline `by` gives, which is asked for only when the send does
/// not finish in its first poll. Nearly every send does (the socket buffer has room), and
/// those read no clock and arm no timer: a clock read and a timer per send cost the load
/// generator ~7% of its 4 KiB write rate. `None` when the deadline passed first.
pub(crate) async fn send_within<T>(
    send: impl std::future::Future<Output = T>,
    by: impl FnOnce() -> tokio::time::Instant,
) -> Option<T> {
    let mut send = std::pin::pin!(send);
    let first = std::future::poll_fn(|cx| std::task::Poll::Ready(send.as_mut().poll(cx))).await;
    if let std::task::Poll::Ready(done) = first {
        return Some(done);
    }
    tokio::time::timeout_at(by(), send).await.ok()
}

/// Writes every segment, in order, with vectored writes (data is sent from the buffer
/// that holds it, without copying it into the output).
pub(crate) async fn write_segments<W: AsyncWrite + Unpin>(
    w: &mut W,
    segs: &[Segment],
) -> io::Result<()> {
    let (mut idx, mut off) = (0usize, 0usize);
    while idx < segs.len() {
        // Up to 64 segments per call from an array on the stack of each poll: no
        // allocation per write, and not a kilobyte more in every caller's future (which
        // is moved whenever a caller's future is created).
        let mut n = std::future::poll_fn(|cx| {
            let mut slices = [io::IoSlice::new(&[]); 64];
            slices[0] = io::IoSlice::new(&segs[idx].as_slice()[off..]);
            let mut k = 1;
            for s in segs.iter().skip(idx + 1).take(63) {
                slices[k] = io::IoSlice::new(s.as_slice());
                k += 1;
            }
            std::pin::Pin::new(&mut *w).poll_write_vectored(cx, &slices[..k])
        })
        .await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        while n > 0 && idx < segs.len() {
            let left = segs[idx].as_slice().len() - off;
            if n >= left {
                n -= left;
                idx += 1;
                off = 0;
            } else {
                off += n;
                n = 0;
            }
        }
        // Skip empty segments so the next slice list starts with data.
        while idx < segs.len() && segs[idx].as_slice().len() == off {
            idx += 1;
            off = 0;
        }
    }
    Ok(())
}

/// Serves one connection until either side closes it; `unconnected` is its place among
/// the connections waiting for their Connect, given back once it connected.
async fn serve_connection(
    target: Arc<Target>,
    pool: IoPool,
    stream: TcpStream,
    cfg: QueueConfig,
    unconnected: UnconnectedSlot,
) {
    let mut unconnected = Some(unconnected);
    let peer = stream.peer_addr().ok();
    let (mut rd, mut wr) = stream.into_split();
    let budget = cfg.write_budget.clone();
    let mut conn = Connection::new(target, cfg, Instant::now());
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let (open, still_open) = mpsc::unbounded_channel();
    let mut spare: Vec<Vec<u8>> = Vec::new();
    let share = pool.share(peer.map(|p| p.ip()));
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let use_ring = pool.uring.load(Ordering::Relaxed);
    // Made for the first volume operation that is not a RAM copy (discovery and RAM-only
    // connections never need one); `Some(None)` once the kernel refused one.
    let mut ring: Option<Option<Ring>> = None;
    // Moves when the controller ends: the connection closes then, not at its next tick.
    let mut controller: Option<tokio::sync::watch::Receiver<()>> = None;
    loop {
        // Its place among the connections waiting for their Connect goes back once it
        // connected (whichever received bytes did it).
        if unconnected.is_some() && conn.is_connected() {
            unconnected = None;
        }
        if controller.is_none() {
            controller = conn.controller_watch();
        }
        while let Some(mut req) = conn.poll_io() {
            // Its namespace removed since the command handed it on: not run (the pool
            // looks again when its turn comes).
            if req.namespace_removed() {
                conn.complete_io(req.tag, Err(NamespaceRemoved.into()));
                continue;
            }
            // RAM reads and writes (bounded by MDTS) run inline: a memory copy is cheaper than
            // two thread hand-offs. Deallocate and Write Zeroes may span the whole volume, so
            // like every file or device operation they go to the pool, never the reactor.
            let bounded_copy = matches!(req.op, IoOp::Read { .. } | IoOp::Write { .. });
            if req.volume.backend().memory_only() && bounded_copy {
                // Small reads are copied from the volume straight into the output.
                if let IoOp::Read { offset, len, .. } = req.op
                    && len <= COPY_BELOW
                {
                    let backend = req.volume.backend();
                    conn.complete_read(req.tag, |out| backend.read_append(out, offset, len));
                    continue;
                }
                // Large reads reuse a buffer whose data was sent.
                let buf = match req.op {
                    IoOp::Read { .. } => spare.pop().unwrap_or_default(),
                    _ => Vec::new(),
                };
                let res = execute_io_into(&req, buf);
                conn.complete_io(req.tag, res);
            } else {
                if let Some(r) = ring_for(&mut ring, use_ring) {
                    match r.start(req) {
                        Ok(()) => continue,
                        Err(back) => req = back,
                    }
                }
                if let IoOp::Write { data, .. } = &mut req.op {
                    *data = queued_write_data(data);
                }
                pool.spawn(req, &share, done_tx.clone(), &open);
            }
        }
        if let Some(Some(r)) = ring.as_mut() {
            // One system call for the batch's transfers; those the page cache holds
            // complete within it.
            r.submit();
            r.reap(|tag, res| conn.complete_io(tag, res));
        }
        if let Some(req) = conn.poll_dh() {
            pool.spawn_dh(req, done_tx.clone(), &open);
        }
        // An R2T waiting for the target-wide write budget: registered before the retry,
        // so bytes given back after it wake this task (no cost while none waits).
        let budget_back = conn.waits_for_write_budget().then(|| {
            let waiter = budget.waiter();
            conn.retry_r2ts(Instant::now());
            waiter
        });
        let budget_back = budget_back.filter(|_| conn.waits_for_write_budget());
        let out = conn.take_segments();
        if !out.is_empty() {
            let by = || tokio::time::Instant::now() + SEND_TIMEOUT;
            match send_within(write_segments(&mut wr, &out), by).await {
                Some(Ok(())) => {
                    for seg in out {
                        match seg {
                            // The last segment of a read holds its buffer alone.
                            Segment::Shared(data, _) if spare.len() < SPARE_READ_BUFFERS => {
                                if let Ok(buf) = Arc::try_unwrap(data) {
                                    spare.push(buf);
                                }
                            }
                            Segment::Owned(buf) => conn.recycle_output(buf),
                            _ => {}
                        }
                    }
                }
                Some(Err(e)) => {
                    debug!(?peer, error = %e, "send failed");
                    break;
                }
                None => {
                    warn!(?peer, "send timed out; closing");
                    break;
                }
            }
        }
        if let Some(reason) = conn.is_closed() {
            debug!(?peer, ?reason, "closing connection");
            break;
        }
        // The answers to part of a batch are sent: decode the rest before reading more,
        // once the reads it started no longer hold the output pause (until then only
        // their completions are waited for).
        let paused = conn.input_paused();
        if paused && conn.may_resume() {
            conn.received(Instant::now());
            continue;
        }
        // Commands held back by a volume's rate limit go when it lets them (no timer and
        // no clock read while none waits).
        let release = conn.next_release();
        let released = async {
            match release {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        let budget_back = async {
            match budget_back {
                Some(waiter) => waiter.returned().await,
                None => std::future::pending().await,
            }
        };
        let controller_moved = async {
            let moved = match controller.as_mut() {
                Some(rx) => rx.changed().await.is_ok(),
                None => false,
            };
            if !moved {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            r = rd.read_buf(conn.receive_buffer(RECV_ROOM)), if !paused => match r {
                Ok(0) => break,
                Ok(_) => conn.received(Instant::now()),
                Err(e) => {
                    debug!(?peer, error = %e, "receive failed");
                    break;
                }
            },
            Some(done) = done_rx.recv() => match done {
                Done::Io(tag, res) => conn.complete_io(tag, res),
                Done::Dh(tag, out) => conn.complete_dh(tag, out),
            },
            () = ring_ready(&ring) => {
                if let Some(Some(r)) = ring.as_mut() {
                    r.reap(|tag, res| conn.complete_io(tag, res));
                }
            }
            _ = tick.tick() => {
                // A newer connection took its place among those waiting to connect.
                if unconnected.as_ref().is_some_and(UnconnectedSlot::shed) {
                    debug!(?peer, "shed while waiting for its Connect");
                    break;
                }
                conn.tick(Instant::now());
            }
            () = released => conn.tick(Instant::now()),
            () = controller_moved => conn.tick(Instant::now()),
            () = budget_back => conn.retry_r2ts(Instant::now()),
        }
    }
    // Before the socket is shut: a host that saw it closed finds the work dropped.
    drop(still_open);
    let _ = wr.shutdown().await;
    drop((rd, wr));
    conn.shutdown();
    // The host hears nothing more, but a change its commands already made (a reservation,
    // a write protection) is still saved, and put back should that fail: saves run on the
    // pool or the saves' lane, whose results only this task can hand over.
    while conn.settling() {
        while let Some(req) = conn.poll_io() {
            pool.spawn(req, &share, done_tx.clone(), &open);
        }
        match done_rx.recv().await {
            Some(Done::Io(tag, res)) => conn.complete_io(tag, res),
            Some(Done::Dh(..)) => {}
            None => break,
        }
    }
    // A ring with transfers in flight waits for them off the reactor (`Drop for Ring`).
    drop(ring);
}

/// The connection's ring, made on first use when `allowed`; `None` without one.
fn ring_for(slot: &mut Option<Option<Ring>>, allowed: bool) -> Option<&mut Ring> {
    if !allowed {
        return None;
    }
    let ring = slot.get_or_insert_with(|| {
        Ring::new()
            .inspect_err(|e| {
                static SAID: std::sync::Once = std::sync::Once::new();
                SAID.call_once(|| info!(error = %e, "no io_uring: volume I/O runs on the pool"));
            })
            .ok()
    });
    ring.as_mut()
}

/// Completes when the connection's ring has completions to reap; never without
/// transfers in flight.
async fn ring_ready(ring: &Option<Option<Ring>>) {
    match ring {
        Some(Some(r)) if r.in_flight() > 0 => r.ready().await,
        _ => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn listener_addresses_overlap_as_linux_binds_them() {
        let at = |s: &str| s.parse::<SocketAddr>().unwrap();
        for (a, b) in [
            ("127.0.0.1:4420", "127.0.0.1:4420"),
            ("0.0.0.0:4420", "192.0.2.1:4420"),
            ("[::]:4420", "192.0.2.1:4420"),
            ("[::]:4420", "[2001:db8::1]:4420"),
            ("[::ffff:127.0.0.1]:4420", "127.0.0.1:4420"),
            ("[::ffff:0.0.0.0]:4420", "192.0.2.1:4420"),
        ] {
            assert!(addresses_overlap(at(a), at(b)), "{a} {b}");
            assert!(addresses_overlap(at(b), at(a)), "{b} {a}");
        }
        for (a, b) in [
            ("127.0.0.1:4420", "127.0.0.1:4421"),
            ("127.0.0.1:4420", "127.0.0.2:4420"),
            ("0.0.0.0:4420", "[2001:db8::1]:4420"),
            ("[::ffff:127.0.0.1]:4420", "127.0.0.2:4420"),
        ] {
            assert!(!addresses_overlap(at(a), at(b)), "{a} {b}");
        }
    }

    /// A listener bound anew whose registration is refused (its port ID taken meanwhile)
    /// stays recorded where it was bound before, serving as it did there: what connections
    /// it kept look up and connect to.
    #[tokio::test]
    async fn a_refused_binding_leaves_the_listener_where_it_was() {
        let server = Server::new(Target::new(), 1);
        let first = ListenerSpec {
            addr: "127.0.0.1:0".parse().unwrap(),
            ..ListenerSpec::loopback_for_tests()
        };
        let life = ListenerLife::default();
        let at = server.add_listener_of(first.clone(), &life, &BTreeMap::new()).await.unwrap();
        let role = ListenerRole { discovery_only: false, port_id: Some(first.port_id) };
        assert_eq!(life.addr(), Some(at));
        let moved = ListenerSpec { discovery_only: true, ..first };
        assert!(
            server.add_listener_of(moved, &life, &BTreeMap::new()).await.is_err(),
            "port ID 1 is taken"
        );
        assert_eq!((life.addr(), life.role()), (Some(at), Some(role)));
        server.stop();
    }

    /// `[::]` is bound dual-stack whatever the system default, as the discovery log
    /// assumes when it tells an IPv4 host the address it came in by.
    #[tokio::test]
    async fn an_ipv6_wildcard_is_bound_dual_stack() {
        let Ok(socket) = bind("[::]:0".parse().unwrap()).await else {
            return; // No IPv6 here.
        };
        let v6only =
            nix::sys::socket::getsockopt(&socket.listener, nix::sys::socket::sockopt::Ipv6V6Only);
        assert!(!v6only.unwrap(), "IPV6_V6ONLY off");
        let port = socket.local_addr().port();
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(), "IPv4 reaches it");
    }

    /// Work queued for a permit whose connection closes meanwhile: work that matters
    /// only to its host (DH computations, volume operations other than saves) leaves the
    /// queue at once, unrun, while the permit is still held; a save runs once it comes.
    #[tokio::test]
    async fn abandoned_work_leaves_the_queue_at_once_and_saves_run() {
        for skip in [true, false] {
            let permits = Arc::new(Semaphore::new(1));
            let held = permits.clone().acquire_owned().await.unwrap();
            let (open, still_open) = mpsc::unbounded_channel();
            let abandoned = if skip { Abandoned::Skip(open, None) } else { Abandoned::Run };
            let (ran_tx, mut ran) = mpsc::unbounded_channel();
            let work = move || {
                ran_tx.send(()).unwrap();
                Done::Io(0, Ok(Vec::new()))
            };
            let failed = |_| Done::Io(0, Ok(Vec::new()));
            let (done, _done_rx) = mpsc::unbounded_channel();
            run_bounded(&permits, None, work, failed, done, abandoned);
            // The task waits for the permit; the connection closes.
            tokio::task::yield_now().await;
            drop(still_open);
            tokio::task::yield_now().await;
            if skip {
                let dropped = ran.try_recv();
                assert_eq!(dropped, Err(mpsc::error::TryRecvError::Disconnected), "dropped");
                drop(held);
            } else {
                assert_eq!(ran.try_recv(), Err(mpsc::error::TryRecvError::Empty), "waiting");
                drop(held);
                assert_eq!(ran.recv().await, Some(()), "ran");
            }
        }
    }

    /// The permits go round the connections of unknown peers (each a host of its own):
    /// with one permit, a connection that queued several operations before another's one
    /// runs only its first ahead of it.
    #[tokio::test]
    async fn permits_go_round_the_connections() {
        let pool = IoPool::new(1);
        let held = pool.permits.clone().acquire_owned().await.unwrap();
        let ran = Arc::new(Mutex::new(Vec::new()));
        let (done, mut done_rx) = mpsc::unbounded_channel();
        let (a, b) = (pool.share(None), pool.share(None));
        for (share, name) in [(&a, "a0"), (&a, "a1"), (&a, "a2"), (&a, "a3"), (&b, "b0")] {
            let ran = ran.clone();
            let work = move || {
                ran.lock().unwrap().push(name);
                Done::Io(0, Ok(Vec::new()))
            };
            let failed = |_| Done::Io(0, Ok(Vec::new()));
            let queued = Some((share.clone(), false));
            run_bounded(&pool.permits, queued, work, failed, done.clone(), Abandoned::Run);
        }
        tokio::task::yield_now().await;
        drop(held);
        for _ in 0..5 {
            done_rx.recv().await.unwrap();
        }
        assert_eq!(*ran.lock().unwrap(), ["a0", "b0", "a1", "a2", "a3"]);
    }

    /// Host A's queue for one of `runs`, recording its name in `ran` when it runs and
    /// then waiting for `gate` (if any) to let it end.
    fn queue_named(
        pool: &IoPool,
        share: &PoolShare,
        long: bool,
        name: &'static str,
        ran: &Arc<Mutex<Vec<&'static str>>>,
        gate: Option<std::sync::mpsc::Receiver<()>>,
        done: &mpsc::UnboundedSender<Done>,
    ) {
        let ran = ran.clone();
        let work = move || {
            ran.lock().unwrap().push(name);
            if let Some(gate) = gate {
                let _ = gate.recv();
            }
            Done::Io(0, Ok(Vec::new()))
        };
        let failed = |_| Done::Io(0, Ok(Vec::new()));
        let queued = Some((share.clone(), long));
        run_bounded(&pool.permits, queued, work, failed, done.clone(), Abandoned::Run);
    }

    /// Lets the tasks [`run_bounded`] spawned reach their waits (a current-thread runtime
    /// runs them in turn).
    async fn settle() {
        for _ in 0..8 {
            tokio::task::yield_now().await;
        }
    }

    /// The permits go round the hosts (by peer address) before the connections: host A
    /// queued two operations on each of its four connections before host B's one, yet
    /// B's runs after A's first, then A's go round its connections.
    #[tokio::test]
    async fn permits_go_round_the_hosts_then_their_connections() {
        let pool = IoPool::new(1);
        let held = pool.permits.clone().acquire_owned().await.unwrap();
        let ran = Arc::new(Mutex::new(Vec::new()));
        let (done, mut done_rx) = mpsc::unbounded_channel();
        let host = |last: u8| Some(IpAddr::from([192, 0, 2, last]));
        let a: Vec<_> = (0..4).map(|_| pool.share(host(1))).collect();
        let names = [["a0.0", "a0.1"], ["a1.0", "a1.1"], ["a2.0", "a2.1"], ["a3.0", "a3.1"]];
        for (share, names) in a.iter().zip(names) {
            for name in names {
                queue_named(&pool, share, false, name, &ran, None, &done);
            }
        }
        queue_named(&pool, &pool.share(host(2)), false, "b0", &ran, None, &done);
        settle().await;
        drop(held);
        for _ in 0..9 {
            done_rx.recv().await.unwrap();
        }
        let order = ["a0.0", "b0", "a1.0", "a2.0", "a3.0", "a0.1", "a1.1", "a2.1", "a3.1"];
        assert_eq!(*ran.lock().unwrap(), order);
    }

    /// Operations that may span the volume take a quarter of the permits per host, not
    /// per connection: with four permits, host A's second connection's long operation
    /// waits while its first runs one, though host B runs a long and a bounded one and a
    /// permit is free; it runs once A's first is done.
    #[tokio::test]
    async fn long_operations_take_a_quarter_of_the_permits_per_host() {
        let pool = IoPool::new(4);
        let ran = Arc::new(Mutex::new(Vec::new()));
        let (done, mut done_rx) = mpsc::unbounded_channel();
        let host = |last: u8| Some(IpAddr::from([192, 0, 2, last]));
        let (a1, a2, b) = (pool.share(host(1)), pool.share(host(1)), pool.share(host(2)));
        let mut gates = Vec::new();
        for (share, long, name) in
            [(&a1, true, "a1"), (&a2, true, "a2"), (&b, true, "b-long"), (&b, false, "b")]
        {
            let (open, gate) = std::sync::mpsc::channel();
            gates.push(open);
            queue_named(&pool, share, long, name, &ran, Some(gate), &done);
        }
        settle().await;
        assert_eq!(pool.permits.available_permits(), 1, "A's second long one waits");
        gates.remove(0).send(()).unwrap();
        done_rx.recv().await.unwrap();
        settle().await;
        while !ran.lock().unwrap().contains(&"a2") {
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.permits.available_permits(), 1, "A's second runs in its place");
        drop(gates);
        for _ in 0..3 {
            done_rx.recv().await.unwrap();
        }
    }

    /// Which operation a [`Held`] backend holds.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum HeldOp {
        Flush,
        WriteZeroes,
        Deallocate,
    }

    /// A RAM backend that logs each flush, Write Zeroes and deallocation in `calls`; its `op` then
    /// tells `entered`, waits for `release`, and fails.
    #[derive(Debug)]
    struct Held {
        ram: crate::volume::RamBackend,
        op: HeldOp,
        calls: Arc<Mutex<Vec<HeldOp>>>,
        entered: mpsc::UnboundedSender<()>,
        release: Mutex<std::sync::mpsc::Receiver<()>>,
    }

    /// The calls a [`Held`] backend logs.
    type Calls = Arc<Mutex<Vec<HeldOp>>>;

    /// A [`Held`] volume of 1 MiB in 512-byte blocks, with what tells of it: its calls,
    /// the entries of its held operation, and their release.
    fn held_volume(
        op: HeldOp,
    ) -> (Volume, Calls, mpsc::UnboundedReceiver<()>, std::sync::mpsc::Sender<()>) {
        let (entered, entries) = mpsc::unbounded_channel();
        let (release, held) = std::sync::mpsc::channel();
        let calls = Calls::default();
        let ram = crate::volume::RamBackend::new(1 << 20).unwrap();
        let backend = Held { ram, op, calls: calls.clone(), entered, release: Mutex::new(held) };
        let v = Volume::new("held", 512, 1 << 20, Box::new(backend)).unwrap();
        (v, calls, entries, release)
    }

    impl Held {
        fn hold(&self, op: HeldOp) -> io::Result<()> {
            self.calls.lock().unwrap().push(op);
            if op != self.op {
                return Ok(());
            }
            let _ = self.entered.send(());
            let _ = self.release.lock().unwrap().recv();
            Err(io::Error::other("held operation failed"))
        }
    }

    impl crate::volume::BlockBackend for Held {
        fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
            self.ram.read_at(buf, offset)
        }
        fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
            self.ram.write_at(data, offset)
        }
        fn flush(&self) -> io::Result<()> {
            self.hold(HeldOp::Flush)?;
            self.ram.flush()
        }
        fn write_zeroes(&self, offset: u64, len: u64) -> io::Result<()> {
            self.hold(HeldOp::WriteZeroes)?;
            self.ram.write_zeroes(offset, len)
        }
        fn deallocate(&self, offset: u64, len: u64) -> io::Result<()> {
            self.hold(HeldOp::Deallocate)?;
            self.ram.deallocate(offset, len)
        }
        fn volatile_cache(&self) -> bool {
            true
        }
        // Reads and writes run inline: only the held operation goes to the pool.
        fn memory_only(&self) -> bool {
            true
        }
    }

    const SUB: &str = "nqn.2024-01.io.example:sub1";

    /// A target with subsystem [`SUB`], open to any host, whose namespace 1 is `v`.
    fn target_with(v: Volume) -> Arc<Target> {
        target_storing(v, None)
    }

    /// A second host, connecting from another loopback address: a host of its own to the
    /// pool and the write budget, which tell hosts apart by address.
    fn host_b() -> crate::initiator::HostOptions {
        crate::initiator::HostOptions {
            hostnqn: "nqn.2014-08.org.example:host-b".into(),
            hostid: [0x22; 16],
            source: Some(IpAddr::from([127, 0, 0, 2])),
            ..crate::initiator::HostOptions::default()
        }
    }

    /// A server of `target` with `threads` pool threads and io_uring off (every volume
    /// operation on the pool), listening on loopback.
    async fn serve_on_the_pool(target: &Arc<Target>, threads: usize) -> (Arc<Server>, SocketAddr) {
        let server = Server::new(target.clone(), threads);
        server.set_io_uring(false);
        let spec = ListenerSpec {
            addr: "127.0.0.1:0".parse().unwrap(),
            ..ListenerSpec::loopback_for_tests()
        };
        let addr = server.add_listener(spec).await.unwrap();
        (server, addr)
    }

    /// [`target_with`], keeping the namespaces' state in `store`.
    fn target_storing(
        v: Volume,
        store: Option<Arc<crate::persist::NamespaceStore>>,
    ) -> Arc<Target> {
        let target = Target::new();
        if let Some(store) = store {
            target.set_namespace_store(store);
        }
        target
            .add_subsystem(crate::target::SubsystemSpec {
                nqn: SUB.into(),
                serial: "SERIAL1".into(),
                model: "dpu test".into(),
                allow_any_host: true,
                hosts: Default::default(),
                host_secrets: Default::default(),
                cntlids: crate::target::ALL_CNTLIDS,
                max_io_queues: crate::target::DEFAULT_IO_QUEUES,
            })
            .unwrap();
        target.add_namespace(SUB, 1, Arc::new(v), [1; 16], [1; 16]).unwrap();
        target
    }

    /// A listener shows its ANA states from its first connection on (a host waiting in
    /// the backlog, a restart's, finds the path as the operator set it, never optimized
    /// first): Identify Namespace through it reports no NUSE, the ANA log the state, and
    /// the controller is owed no ANA change notice for states that were there before it.
    #[tokio::test]
    async fn a_listener_serves_with_its_ana_states_from_its_first_connection() {
        use crate::initiator::{HostOptions, HostQueue};
        use crate::target::AnaState;
        use dpu_nvmf_proto::fabrics::CNTLID_DYNAMIC;
        let target = target_with(Volume::ram("v", 512, 1 << 20).unwrap());
        let server = Server::new(target.clone(), 1);
        let socket = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let spec = ListenerSpec { addr: socket.addr, ..ListenerSpec::loopback_for_tests() };
        let states = BTreeMap::from([(1, AnaState::Inaccessible)]);
        let addr = server.serve_listener(spec, socket, &states).unwrap();
        assert_eq!(target.ana_state(Some(1), 1), AnaState::Inaccessible, "before any await");

        let host = HostOptions::default();
        let mut q = HostQueue::open(addr, &host).await.unwrap();
        let c = q.connect(SUB, 0, 31, CNTLID_DYNAMIC).await.unwrap();
        assert!(c.cqe.status.is_success(), "{c:?}");
        let ctrl = target.find_controller(SUB, c.cqe.dw0 as u16, &host.hostnqn, &host.hostid);
        assert!(!ctrl.unwrap().state().ana_event_pending, "a notice for states it found");
        q.property_set(0x14, 0x0046_0001).await.unwrap();
        let id = q.identify(0, 1).await.unwrap();
        assert_eq!(u64::from_le_bytes(id[16..24].try_into().unwrap()), 0, "NUSE");
        // The header (16 bytes), then the first group's descriptor: its state at 16.
        let log = q.get_log_page(0x0C, 64, 0).await.unwrap();
        assert_eq!(log[16 + 16], AnaState::Inaccessible as u8, "the ANA log's state");
        server.stop();
    }

    /// A host write-protects a namespace (Set Features 84h) and hangs up while the flush
    /// that precedes the protection runs on the pool; the flush then fails. The
    /// connection's task hands the result over all the same, so the protection, which no
    /// host was told of, is put back.
    #[tokio::test]
    async fn a_save_failing_after_its_host_hung_up_is_put_back() {
        use dpu_nvmf_proto::fabrics::{CNTLID_DYNAMIC, ConnectCmd, ConnectData, PropertySetCmd};
        use dpu_nvmf_proto::sqe::admin_opcode;
        use dpu_nvmf_proto::{CapsuleCmd, Framing, IcReq, Pdu, SglDescriptor, Sqe};
        let (v, _, mut flushing, release) = held_volume(HeldOp::Flush);
        let target = target_with(v);
        target.add_listener(ListenerSpec::loopback_for_tests()).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut host = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (stream, peer) = listener.accept().await.unwrap();
        let (slot, _) = Unconnected::new(1).admit(peer.ip(), Instant::now()).unwrap();
        let cfg = QueueConfig::default();
        let task =
            tokio::spawn(serve_connection(target.clone(), IoPool::new(1), stream, cfg, slot));

        let capsule =
            |sqe: Sqe, data: Vec<u8>| Pdu::CapsuleCmd(CapsuleCmd { sqe, data: data.into() });
        let mut connect = ConnectCmd { recfmt: 0, qid: 0, sqsize: 31, cattr: 0, kato: 0 }.to_sqe(1);
        connect.set_sgl(SglDescriptor::in_capsule(1024));
        let hostnqn = "nqn.2014-08.org.example:host1".into();
        let d =
            ConnectData { hostid: [7; 16], cntlid: CNTLID_DYNAMIC, subnqn: SUB.into(), hostnqn };
        let enable = PropertySetCmd { eight_bytes: false, offset: 0x14, value: 0x0046_0001 };
        let mut protect = Sqe::new(admin_opcode::SET_FEATURES, 3);
        (protect.nsid, protect.cdw[0], protect.cdw[1]) = (1, 0x84, 1);
        let mut bytes = Vec::new();
        for p in [
            Pdu::IcReq(IcReq::default()),
            capsule(connect, d.to_bytes().to_vec()),
            capsule(enable.to_sqe(2), Vec::new()),
            capsule(protect, Vec::new()),
        ] {
            p.encode(&Framing::PLAIN, &mut bytes).unwrap();
        }
        host.write_all(&bytes).await.unwrap();
        flushing.recv().await.unwrap();
        let ns = target.namespace(SUB, 1).unwrap();
        assert!(ns.host_write_protected(), "in force while its flush runs");
        // The host hangs up; once its connection let the controller go, the flush fails.
        drop(host);
        while target.controller_count(SUB) > 0 {
            tokio::task::yield_now().await;
        }
        release.send(()).unwrap();
        task.await.unwrap();
        assert!(!ns.host_write_protected(), "put back");
    }

    /// A peer queues long Write Zeroes on an I/O queue and hangs up, again and again,
    /// while the pool's one permit is taken: its operations are dropped with its
    /// connections, not run one after another ahead of other hosts' saves; a save queued
    /// behind them still runs.
    #[tokio::test]
    async fn a_closed_connections_operations_are_dropped_but_its_saves_run() {
        use crate::initiator::{HostController, HostOptions};
        use dpu_nvmf_proto::Sqe;
        use dpu_nvmf_proto::sqe::{admin_opcode, io_opcode};
        const QUEUED: u16 = 8;
        let (v, calls, mut entered, release) = held_volume(HeldOp::WriteZeroes);
        let target = target_with(v);
        let (server, addr) = serve_on_the_pool(&target, 1).await;
        let opts = HostOptions::default();
        for cycle in 0..3 {
            let mut c = HostController::connect(addr, SUB, &opts, 1).await.unwrap();
            let q = &mut c.io[0];
            for i in 0..QUEUED {
                let mut wz = Sqe::new(io_opcode::WRITE_ZEROES, 0);
                wz.nsid = 1;
                wz.set_rw(u64::from(i), 1);
                q.start(wz, None, 0).await.unwrap();
            }
            // Served inline, after the connection handed every Write Zeroes to the pool.
            assert!(q.read(1, 100, 1, 512).await.unwrap().cqe.status.is_success());
            if cycle == 0 {
                entered.recv().await.unwrap();
            }
            if cycle == 2 {
                // A save queued behind them: the flush before a write protection.
                let mut protect = Sqe::new(admin_opcode::SET_FEATURES, 0);
                (protect.nsid, protect.cdw[0], protect.cdw[1]) = (1, 0x84, 1);
                c.admin.start(protect, None, 0).await.unwrap();
                let ns = target.namespace(SUB, 1).unwrap();
                while !ns.host_write_protected() {
                    tokio::task::yield_now().await;
                }
            }
            // The admin queue hangs up; its controller's I/O queue closes with it.
            drop(c.admin);
            assert!(c.io[0].wait_closed().await.is_ok());
        }
        // Every held operation goes on (it would, were more queued).
        drop(release);
        // Once the pool's permit is free, whatever was queued for it ran.
        drop(server.pool.permits.acquire().await.unwrap());
        // Only the Write Zeroes that had started, then the save's flush.
        assert_eq!(*calls.lock().unwrap(), [HeldOp::WriteZeroes, HeldOp::Flush]);
        let ns = target.namespace(SUB, 1).unwrap();
        assert!(ns.host_write_protected(), "the save succeeded: the protection stays");
    }

    /// A namespace removed while its host's Write Zeroes and Deallocate wait for a pool
    /// thread (the pool's one thread held by another namespace's Write Zeroes): they leave
    /// the pool's queue at once, never reach the volume, and fail with Invalid Namespace,
    /// as Linux's nvmet fails a command to a namespace gone (`nvmet_req_find_ns`), without
    /// waiting for the held operation; the namespace counts no operation running then.
    #[tokio::test]
    async fn a_removed_namespaces_operations_waiting_for_the_pool_never_run() {
        use crate::initiator::{HostController, HostOptions};
        use dpu_nvmf_proto::Sqe;
        use dpu_nvmf_proto::cqe::Status;
        use dpu_nvmf_proto::sqe::io_opcode;
        let (v, _, mut entered, release) = held_volume(HeldOp::WriteZeroes);
        let target = target_with(v);
        let (v2, calls2, _, _keep) = held_volume(HeldOp::Flush);
        target.add_namespace(SUB, 2, Arc::new(v2), [2; 16], [2; 16]).unwrap();
        let (server, addr) = serve_on_the_pool(&target, 1).await;
        let mut c = HostController::connect(addr, SUB, &HostOptions::default(), 1).await.unwrap();
        let q = &mut c.io[0];
        let mut wz = Sqe::new(io_opcode::WRITE_ZEROES, 0);
        wz.nsid = 1;
        wz.set_rw(0, 1);
        q.start(wz, None, 0).await.unwrap();
        entered.recv().await.unwrap();
        let mut wz = Sqe::new(io_opcode::WRITE_ZEROES, 0);
        wz.nsid = 2;
        wz.set_rw(0, 1);
        let wz = q.start(wz, None, 0).await.unwrap();
        let mut dsm = Sqe::new(io_opcode::DATASET_MANAGEMENT, 0);
        (dsm.nsid, dsm.cdw[1]) = (2, 1 << 2);
        let mut range = [0u8; 16];
        range[4..8].copy_from_slice(&8u32.to_le_bytes());
        let dsm = q.start(dsm, Some(&range), 0).await.unwrap();
        // Served inline, after the connection handed both to the pool.
        assert!(q.read(2, 100, 1, 512).await.unwrap().cqe.status.is_success());
        let ns2 = target.namespace(SUB, 2).unwrap();
        target.remove_namespace(SUB, 2).unwrap();
        for cid in [wz, dsm] {
            let waited = tokio::time::timeout(Duration::from_secs(5), q.wait(cid)).await;
            let done = waited.expect("left waiting for the pool").unwrap();
            assert_eq!(done.cqe.status, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr());
        }
        assert!(calls2.lock().unwrap().is_empty(), "ran: {:?}", calls2.lock().unwrap());
        assert!(!ns2.io_running(), "the removal would wait for the pool");
        drop(release);
        let (_, held) = q.next_completion().await.unwrap();
        assert!(!held.cqe.status.is_success(), "the held backend fails it");
        drop(server.pool.permits.acquire().await.unwrap());
        assert!(calls2.lock().unwrap().is_empty(), "ran: {:?}", calls2.lock().unwrap());
    }

    /// Saves run on a lane of their own, not the volumes' pool: with one pool thread and
    /// host A's saves held behind the store's lock (a slow disk), host B's Write Zeroes
    /// completes; once the store is free, A's four changes take one write between them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn saves_held_on_the_store_leave_the_pool_to_volume_io() {
        use crate::initiator::{HostController, HostOptions};
        use dpu_nvmf_proto::Sqe;
        use dpu_nvmf_proto::sqe::io_opcode::{RESERVATION_REGISTER, WRITE_ZEROES};
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(crate::persist::NamespaceStore::open(dir.path()).unwrap());
        let v = Volume::ram("v", 512, 1 << 20).unwrap();
        let target = target_storing(v, Some(store.clone()));
        let (_server, addr) = serve_on_the_pool(&target, 1).await;
        let a_opts = HostOptions { hostid: [0xA; 16], ..HostOptions::default() };
        let b_opts = HostOptions { hostid: [0xB; 16], ..HostOptions::default() };
        let mut a = HostController::connect(addr, SUB, &a_opts, 1).await.unwrap();
        let mut b = HostController::connect(addr, SUB, &b_opts, 1).await.unwrap();
        let c = a.io[0].reservation(RESERVATION_REGISTER, 1, 3 << 30, &[0, 0xAA]).await.unwrap();
        assert!(c.cqe.status.is_success(), "{c:?}");
        let ns = target.namespace(SUB, 1).unwrap();
        let generation = || ns.reservations.lock().unwrap().summary().generation;
        let first = generation();
        // The disk stalls; A replaces its key four times, each change waiting for its save.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (holding, stalled) = std::sync::mpsc::channel();
        let holder = {
            let store = store.clone();
            std::thread::spawn(move || {
                let _files = store.hold();
                holding.send(()).unwrap();
                let _ = held.recv();
            })
        };
        stalled.recv().unwrap();
        let passes = store.passes.load(Ordering::Relaxed);
        let mut cids = Vec::new();
        for (old, new) in [(0xAA, 1), (1, 2), (2, 3), (3, 4)] {
            let mut sqe = Sqe::new(RESERVATION_REGISTER, 0);
            (sqe.nsid, sqe.cdw[0]) = (1, 2);
            let keys: Vec<u8> = [old, new].iter().flat_map(|k: &u64| k.to_le_bytes()).collect();
            cids.push(a.io[0].start(sqe, Some(&keys), 0).await.unwrap());
        }
        while generation() != first.wrapping_add(4) {
            tokio::task::yield_now().await;
        }
        // B's Write Zeroes goes to the pool, whose one thread no save holds.
        let mut wz = Sqe::new(WRITE_ZEROES, 0);
        wz.nsid = 1;
        wz.set_rw(8, 1);
        let done = tokio::time::timeout(Duration::from_secs(5), b.io[0].submit(wz, None, 0));
        let c = done.await.expect("B's Write Zeroes waited for A's saves").unwrap();
        assert!(c.cqe.status.is_success(), "{c:?}");
        drop(release);
        holder.join().unwrap();
        for cid in cids {
            let c = a.io[0].wait(cid).await.unwrap();
            assert!(c.cqe.status.is_success(), "{c:?}");
        }
        let passes = store.passes.load(Ordering::Relaxed) - passes;
        assert_eq!(passes, 1, "the four saves share one write");
        let restored = crate::persist::NamespaceStore::open(dir.path()).unwrap();
        let saved = restored.take(SUB, 1, &[1; 16]).unwrap().unwrap().reservations.save();
        assert_eq!(saved, ns.reservations.lock().unwrap().save(), "the final state is kept");
    }

    /// One host fills its two queues with long Write Zeroes (a held backend) on a pool of
    /// two threads: another host's Write Zeroes on another volume still runs while every
    /// one of them waits, as with nvmet, where requests reach the block layer
    /// independently; the host's queues together take one thread, a quarter's worth.
    #[tokio::test]
    async fn a_hosts_long_operations_leave_pool_threads_to_other_hosts() {
        use crate::initiator::{HostController, HostOptions};
        use dpu_nvmf_proto::Sqe;
        use dpu_nvmf_proto::sqe::io_opcode;
        const QUEUED: u16 = 64;
        let (v, _, mut entered, release) = held_volume(HeldOp::WriteZeroes);
        let target = target_with(v);
        let other = crate::volume::RamBackend::new(1 << 20).unwrap();
        let other = Volume::new("other", 512, 1 << 20, Box::new(other)).unwrap();
        target.add_namespace(SUB, 2, Arc::new(other), [2; 16], [2; 16]).unwrap();
        let (_server, addr) = serve_on_the_pool(&target, 2).await;
        let write_zeroes = |nsid: u32, lba: u16| {
            let mut wz = Sqe::new(io_opcode::WRITE_ZEROES, 0);
            wz.nsid = nsid;
            wz.set_rw(u64::from(lba), 1);
            wz
        };
        let mut a = HostController::connect(addr, SUB, &HostOptions::default(), 2).await.unwrap();
        for q in &mut a.io {
            for i in 0..QUEUED {
                q.start(write_zeroes(1, i), None, 0).await.unwrap();
            }
            // Served inline, after the connection handed every Write Zeroes on.
            assert!(q.read(1, 100, 1, 512).await.unwrap().cqe.status.is_success());
        }
        entered.recv().await.unwrap();
        // From another address: a host of its own.
        let opts_b = host_b();
        let mut b = HostController::connect(addr, SUB, &opts_b, 1).await.unwrap();
        let cid = b.io[0].start(write_zeroes(2, 0), None, 0).await.unwrap();
        let waited = tokio::time::timeout(Duration::from_secs(5), b.io[0].wait(cid)).await;
        let done = waited.expect("B's Write Zeroes ran while A's were held").unwrap();
        assert!(done.cqe.status.is_success());
        assert!(entered.try_recv().is_err(), "A's second queue ran none meanwhile");
        drop(release);
        for q in &mut a.io {
            for _ in 0..QUEUED {
                let (_, c) = q.next_completion().await.unwrap();
                assert!(!c.cqe.status.is_success(), "the held backend fails them");
            }
        }
    }

    /// One host starts writes on four queues and never sends their data: of a 4 MiB
    /// write budget it holds its quarter, its other R2Ts waiting, so another host's
    /// R2Ts find the budget and none of them waits.
    #[tokio::test]
    async fn a_host_holding_r2ts_leaves_the_write_budget_to_others() {
        use crate::initiator::{HostController, HostOptions};
        const WRITE: usize = 128 << 10;
        let target = target_with(Volume::ram("v", 512, 8 << 20).unwrap());
        let (server, addr) = serve_on_the_pool(&target, 1).await;
        server.set_write_data_budget(4 << 20);
        let budget = server.write_data_budget();
        let waits = || target.stats.write_budget_waits.load(Ordering::Relaxed) as usize;
        let data = vec![7u8; WRITE];
        let mut a = HostController::connect(addr, SUB, &HostOptions::default(), 4).await.unwrap();
        for q in &mut a.io {
            for i in 0..8 {
                q.start_write(1, i * 256, &data, 512).await.unwrap();
            }
        }
        // Each queue's first R2T goes free; the other seven take, or wait behind the
        // first that waits: once the target took every write, the budget holds still.
        let in_flight = || -> u64 {
            let report = target.subsystem_stats();
            let queues = report.iter().flat_map(|s| &s.controllers).flat_map(|c| &c.queues);
            queues.filter(|q| q.info.qid > 0).map(|q| q.in_flight).sum()
        };
        let taken_all = async {
            while in_flight() < 4 * 8 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), taken_all).await.unwrap();
        assert_eq!(budget.taken(), 1 << 20, "A holds its quarter");
        let before = waits();
        let opts_b = host_b();
        let mut b = HostController::connect(addr, SUB, &opts_b, 1).await.unwrap();
        let mut cids = Vec::new();
        for i in 0..8 {
            cids.push(b.io[0].start_write(1, 4096 + i * 256, &data, 512).await.unwrap());
        }
        for cid in cids {
            assert!(b.io[0].wait(cid).await.unwrap().cqe.status.is_success());
        }
        assert_eq!(waits(), before, "B's R2Ts did not wait");
        drop(a);
    }

    #[tokio::test]
    async fn segments_are_written_in_order_across_partial_writes() {
        let data = Arc::new((0..=255u8).cycle().take(100_000).collect::<Vec<u8>>());
        let segs = vec![
            Segment::Owned(vec![1, 2, 3]),
            Segment::Owned(Vec::new()),
            Segment::Shared(data.clone(), 10..60_000),
            Segment::Owned(vec![9; 70]),
            Segment::Shared(data.clone(), 60_000..100_000),
            Segment::Owned(Vec::new()),
        ];
        let expected: Vec<u8> = segs.iter().flat_map(|s| s.as_slice().to_vec()).collect();
        // A 7-byte pipe forces many partial writes.
        let (mut a, mut b) = tokio::io::duplex(7);
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            b.read_to_end(&mut got).await.unwrap();
            got
        });
        write_segments(&mut a, &segs).await.unwrap();
        drop(a);
        assert_eq!(reader.await.unwrap(), expected);
    }

    /// At the bound, a crowd larger than a host's share is shed for a newcomer from
    /// elsewhere; hosts within their share are not shed for one another, and a crowd's
    /// own newcomer is refused.
    #[test]
    fn the_bound_sheds_crowds_not_hosts() {
        let ip = |last: u8| IpAddr::from([192, 0, 2, last]);
        let u = Unconnected::new(600);
        let now = Instant::now();
        let admit = |from: u8| u.admit(ip(from), now);
        let fill = |from: u8, n: usize| (0..n).map(|_| admit(from).unwrap().0).collect::<Vec<_>>();
        let (hosts_a, hosts_b, _c) = (fill(1, 250), fill(2, 250), fill(3, 100));
        assert!(admit(4).is_none(), "no host is shed for another");
        drop((hosts_a, hosts_b));
        let crowd = fill(5, 500);
        assert!(admit(5).is_none(), "the crowd's own newcomer is refused");
        let (_host, shed_one) = admit(6).unwrap();
        assert!(shed_one && crowd[0].shed() && !crowd[1].shed(), "its oldest went");
        drop(crowd);
        assert_eq!(u.waiting.lock().unwrap().total, 101, "counted once each");
    }

    /// At the bound with no address past its share (16 addresses x 256 silent connections
    /// fill the default 4,096), a new connection sheds the oldest waiting one once that has
    /// waited past UNCONNECTED_GRACE (a host sends its ICReq and Connect within
    /// milliseconds), so peers renewing silent connections cannot lock every host out;
    /// younger ones, hosts setting up their queues, are not shed for one another.
    #[test]
    fn the_bound_sheds_the_oldest_past_the_grace_when_no_address_is_past_its_share() {
        let ip = |n: usize| IpAddr::from([192, 0, 2, n as u8]);
        let u = Unconnected::new(MAX_UNCONNECTED);
        let t0 = Instant::now();
        let per_address = MAX_UNCONNECTED / 16;
        let held: Vec<_> = (0..MAX_UNCONNECTED)
            .map(|i| {
                let at = t0 + Duration::from_millis(i as u64);
                u.admit(ip(i / per_address + 1), at).unwrap().0
            })
            .collect();
        let newest = t0 + Duration::from_millis(MAX_UNCONNECTED as u64);
        assert!(u.admit(ip(100), t0 + UNCONNECTED_GRACE).is_none(), "none waited past it");
        let later = t0 + UNCONNECTED_GRACE + Duration::from_millis(10);
        let (_host, shed_one) = u.admit(ip(100), later).expect("the oldest past the grace goes");
        assert!(shed_one && held[0].shed() && !held[1].shed());
        let (_host2, shed_one) = u.admit(ip(101), later).unwrap();
        assert!(shed_one && held[1].shed() && !held[2].shed(), "then the next oldest");
        let host3 = u.admit(ip(102), newest).expect("and so on, whichever address");
        assert!(host3.1 && held[2].shed());
        drop(held);
        assert_eq!(u.waiting.lock().unwrap().total, 3, "counted once each");
    }

    /// An IPv6 peer's /64 is one crowd, whichever of its addresses each connection
    /// comes from: a machine may pick any interface ID in it.
    #[test]
    fn an_ipv6_slash_64_is_one_crowd() {
        let u = Unconnected::new(600);
        let now = Instant::now();
        let admit =
            |net: u16, id: u16| u.admit(IpAddr::from([0x2001, 0xdb8, 0, net, 0, 0, 0, id]), now);
        let _hosts: Vec<_> = (1..=100).map(|i| admit(1, i).unwrap().0).collect();
        let crowd: Vec<_> = (1..=500).map(|i| admit(2, i).unwrap().0).collect();
        assert!(admit(2, 1000).is_none(), "the crowd's own newcomer is refused");
        let (_host, shed_one) = admit(3, 1).unwrap();
        assert!(shed_one && crowd[0].shed() && !crowd[1].shed(), "the /64's oldest went");
    }
}
