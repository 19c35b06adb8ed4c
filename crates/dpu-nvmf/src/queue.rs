//! The sans-IO controller side of one NVMe/TCP connection (one queue).
//!
//! A [`Connection`] takes the bytes the socket received ([`Connection::receive`]),
//! the completions of volume I/O it asked for ([`Connection::complete_io`]) and the
//! passage of time ([`Connection::tick`]); it produces bytes to send
//! ([`Connection::take_output`]), volume I/O to run ([`Connection::poll_io`]) and
//! the decision to close ([`Connection::is_closed`]). It never blocks and never
//! touches a socket or a file, so tests drive it deterministically in virtual time.
//!
//! Protocol flow (NVMe/TCP 1.0 §3.3, §3.6; NVMe-oF 1.1 §3.3):
//! 1. ICReq → ICResp (digests as the host asked if the listener allows them, CPDA 0,
//!    MAXH2CDATA from [`QueueConfig`]);
//! 2. Fabrics Connect binds the connection to a controller: QID 0 creates a
//!    controller in the subsystem (dynamic CNTLID), QID ≥ 1 attaches an I/O queue
//!    to an existing controller of the same host;
//! 3. commands: in-capsule data or R2T/H2CData for host→controller data,
//!    C2HData (SUCCESS on the last PDU only when SQ flow control is disabled) and
//!    CapsuleResp for the rest;
//! 4. any fatal transport error → C2HTermReq, then close (§3.5.3).
//!
//! Closing the admin queue connection tears the controller down; its I/O queue
//! connections close too, at once when their shell is woken ([`Connection::controller_watch`])
//! or at an I/O command, else at their next tick.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use dpu_nvmf_proto::cqe::Status;
use dpu_nvmf_proto::fabrics::{CONNECT_DATA_LEN, ConnectData, fctype};
use dpu_nvmf_proto::pdu::{
    DataPduHeader, PduType, encode_capsule_resp, encode_data_pdu_prefix, encode_data_pdu_suffix,
};
use dpu_nvmf_proto::sqe::{DataDirection, Fuse, Psdt, admin_opcode, io_opcode};
use dpu_nvmf_proto::{Bytes, BytesMut};
use dpu_nvmf_proto::{
    CapsuleCmd, Cqe, DecodeError, DecoderConfig, FatalError, Fes, Framing, IcReq, IcResp, Pdu,
    PduDecoder, SglDescriptor, Sqe,
};
use nix::errno::Errno;
use tracing::{debug, info, warn};

use crate::auth::{AuthSession, DhJob, DhOutput};
use crate::cid_map::CidTable;
use crate::error_log::{self, ErrorEntry, ErrorSite};
use crate::features::fid as feature;
use crate::identify;
use crate::persist::NamespaceStore;
use crate::reservation::{Durable, Host, Notice, Reservations};
use crate::stats::QueueRegistration;
use crate::target::{Controller, HostWriteProtection, Namespace, Target};
use crate::volume::Volume;
use crate::write_budget::WriteBudget;

mod admin;
mod fabrics;
mod io_cmd;
mod write_data;

use admin::{log_page_len, sel_capabilities};

/// How long a connection may take from accept to a successful Connect.
pub const CONNECT_DEADLINE: Duration = Duration::from_secs(30);

/// How long after its Connect a controller's host has to enable it (CC.EN = 1) before the
/// controller is ended as if its keep-alive expired: a Linux host enables within
/// milliseconds, so one that does not only holds a place of the target's tables
/// (one controller whose host must authenticate has [`CONNECT_DEADLINE`] from the
/// connection's accept to do that first).
pub const ENABLE_DEADLINE: Duration = Duration::from_secs(30);

/// How long a command may wait for the data it asked for by R2T. A Linux host gives up on
/// a command after 30 s (its I/O timeout) and resets the queue, so a host that holds
/// data back longer only keeps the command's buffer on the target; the queue closes.
pub const DATA_DEADLINE: Duration = Duration::from_secs(60);

/// Receive room of every queue but a connected I/O queue: before its Connect only an
/// ICReq (128 bytes) and a Connect capsule (72 bytes and 1 KiB of data, digests aside)
/// may come, and an admin or discovery queue carries single commands with at most a few
/// kilobytes of data; a larger PDU simply takes more reads.
pub const SMALL_RECEIVE_ROOM: usize = 4096;
/// Read data up to this size is copied into the output (cheaper than a separate
/// segment in the vectored write); larger data is sent from the read buffer.
pub const COPY_BELOW: usize = 16 * 1024;

/// Output, with the reads started that become output, that stops the decoding of received
/// commands until it is sent (and those reads completed): commands that are answered at
/// once (Get Log Page, Identify, Reservation Report, failures) are not bounded by the
/// queue depth, so a peer that sends many and reads nothing would otherwise make a
/// batch's answers as large as its commands ask (1 MiB each); and a batch's reads would
/// all run before the output is looked at, holding the queue depth of MDTS-sized reads
/// (16 MiB) for the send's 30 s. At 256 KiB a queue still has two MDTS-sized reads at the
/// device at once (~2.5 GB/s at 100 µs each), or 64 of 4 KiB (a 4 KiB read at QD 32 never
/// pauses), and a host spreads its I/O over a queue per CPU.
pub const OUTPUT_PAUSE: usize = 256 * 1024;

/// Write data asked for by R2T and not yet all received, per connection: a write whose
/// R2T would take it past this waits, in order, until earlier writes' data came (a host
/// takes an R2T whenever it comes). Half-sent data is what a peer can make a queue hold
/// for [`DATA_DEADLINE`] at a time, and again as soon as it reconnects: without a bound,
/// the queue depth of MDTS-sized writes (16 MiB). 1 MiB is eight such writes asked for
/// at once, four times the bandwidth-delay product of a 100 Gb/s link at a 20 µs round
/// trip (250 KB), so one queue's sequential writes keep streaming: each write whose data
/// came lets the next R2T go while the host still sends the others'.
pub const R2T_BUDGET: usize = 1024 * 1024;

/// Per-connection settings from the listener.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// MAXH2CDATA announced in ICResp (≥ 4096, multiple of 4).
    pub maxh2cdata: u32,
    /// Whether the host may enable header digests.
    pub allow_hdgst: bool,
    /// Whether the host may enable data digests.
    pub allow_ddgst: bool,
    /// The local address the host connected to (replaces wildcard listener
    /// addresses in the discovery log).
    pub local_addr: Option<SocketAddr>,
    /// The host's address of this connection (reported in the queue statistics).
    pub peer_addr: Option<SocketAddr>,
    /// A discovery-only listener's connection: Connect to the discovery subsystem only.
    /// The Connect takes it anew from `listener` once that is bound ([`ListenerLife::role`]).
    pub discovery_only: bool,
    /// The listener that accepted it, across the sockets it is bound to in turn: where it
    /// is bound now names its entry and referrals in the discovery log, what it serves
    /// there decides the Connect, and its deletion closes the connection.
    pub listener: ListenerLife,
    /// The listener's port ID, whose ANA states this connection's I/O follows (`None`:
    /// every group optimized). The Connect takes it anew from `listener` as
    /// `discovery_only`.
    pub port_id: Option<u16>,
    /// Largest C2HData PDU sent; longer read data leaves in several PDUs. The default,
    /// the largest transfer, sends every read in one PDU (as Linux's nvmet does), which
    /// a host takes without gathering the pieces.
    pub max_c2h_data: usize,
    /// The bound on write data asked for by R2T over every connection of the server,
    /// beyond each queue's first R2T (see [`crate::write_budget`]).
    pub write_budget: WriteBudget,
}

/// One listener across the sockets it is bound to in turn (moved to another address, or
/// made discovery-only or not), shared by every connection any of them accepted and kept
/// by whoever binds it anew. Deleting it closes those connections, not only the last
/// socket's (a discovery-only listener's discovery controllers are known to no registry
/// that could end them); and the connections a move kept find the listener's referrals and
/// port ID where it is bound now, as the registry keys them by that address.
#[derive(Debug, Clone, Default)]
pub struct ListenerLife(Arc<LifeState>);

#[derive(Debug, Default)]
struct LifeState {
    /// Set once the listener is deleted: its connections close at their next tick, as
    /// Linux's nvmet deletes the controllers of a port whose subsystem link goes.
    deleted: AtomicBool,
    /// Where its socket is bound now and what it serves there (`None`: not bound yet).
    bound: Mutex<Option<(SocketAddr, ListenerRole)>>,
}

/// What a listener serves where it is bound now: the [`QueueConfig`] fields a Connect takes
/// from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerRole {
    /// [`QueueConfig::discovery_only`].
    pub discovery_only: bool,
    /// [`QueueConfig::port_id`].
    pub port_id: Option<u16>,
}

impl ListenerRole {
    /// The role `cfg` gives its connections.
    pub fn of(cfg: &QueueConfig) -> Self {
        Self { discovery_only: cfg.discovery_only, port_id: cfg.port_id }
    }
}

impl ListenerLife {
    /// A listener bound to `addr`, serving as `role`.
    pub fn bound_to(addr: SocketAddr, role: ListenerRole) -> Self {
        let life = Self::default();
        life.bound(addr, role);
        life
    }

    /// Its socket is now bound to `addr`, serving as `role`; returns where it was bound
    /// before.
    pub fn bound(
        &self,
        addr: SocketAddr,
        role: ListenerRole,
    ) -> Option<(SocketAddr, ListenerRole)> {
        self.rebound(Some((addr, role)))
    }

    /// Sets where it is bound (`None`: nowhere yet), as [`bound`](Self::bound) returned it,
    /// to put back a binding refused; returns where it was bound before.
    pub(crate) fn rebound(
        &self,
        to: Option<(SocketAddr, ListenerRole)>,
    ) -> Option<(SocketAddr, ListenerRole)> {
        std::mem::replace(&mut *self.0.bound.lock().unwrap_or_else(PoisonError::into_inner), to)
    }

    /// The address its socket is bound to now.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.0.bound.lock().unwrap_or_else(PoisonError::into_inner).map(|(addr, _)| addr)
    }

    /// What it serves where it is bound now (`None`: not bound yet).
    pub fn role(&self) -> Option<ListenerRole> {
        self.0.bound.lock().unwrap_or_else(PoisonError::into_inner).map(|(_, role)| role)
    }

    /// Marks it deleted: its connections close at their next tick.
    pub fn delete(&self) {
        self.0.deleted.store(true, Ordering::Relaxed);
    }

    /// Whether it was deleted (read on every tick: one relaxed load).
    pub fn deleted(&self) -> bool {
        self.0.deleted.load(Ordering::Relaxed)
    }
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            maxh2cdata: 128 * 1024,
            allow_hdgst: true,
            allow_ddgst: true,
            local_addr: None,
            peer_addr: None,
            discovery_only: false,
            listener: ListenerLife::default(),
            port_id: None,
            max_c2h_data: identify::MAX_TRANSFER as usize,
            write_budget: WriteBudget::default(),
        }
    }
}

/// A volume operation the shell must run (on a blocking thread, inline for a RAM copy, or
/// as an io_uring transfer for a file's read or write) and report back with
/// [`Connection::complete_io`].
#[derive(Debug)]
pub struct IoRequest {
    /// Identifies the request in [`Connection::complete_io`].
    pub tag: u64,
    /// The volume.
    pub volume: Arc<Volume>,
    /// What to do.
    pub op: IoOp,
    /// For a write checked against a held reservation: counts it among its host's writes
    /// in flight until whoever runs the request drops it, done.
    pub fence: Option<WriteTicket>,
    /// The save of a change already in force ([`Post::saves_state`]): it runs even once
    /// its connection closed; any other request of a closed connection need not.
    pub saves: bool,
    /// A command's operation: counts among its queue's on its namespace (and an I/O
    /// queue's own) until whoever runs the request drops it, done or skipped
    /// ([`QueueOps`]).
    pub running: Option<OpGuard>,
}

/// The volume operations one I/O queue has handed to its shell and that have not ended
/// (run, or dropped unrun), listed in its controller's state by QID
/// ([`ControllerState::io_ops`]) also after the queue closed, until they end: a reset or
/// shutdown completes only once none runs (NVMe Base 2.0 §3.7.2, §3.6.1). A count of the
/// queue's own, so counting costs no cache line the other queues write too.
///
/// A queue also counts its operations on each namespace apart, in a count listed (weakly)
/// in the namespace ([`Namespace::ops`], [`QueueOps::on_namespace`]) that adds to the
/// queue's own: removing the namespace skips those not started yet and waits for the
/// others ([`Namespace::io_running`]), as Linux's nvmet's `nvmet_ns_disable` waits for the
/// requests that found the namespace; so does cutting the queue's host off from it
/// ([`QueueOps::cut_off_if_unreachable`], [`Namespace::cut_off_io_running`]).
///
/// [`ControllerState::io_ops`]: crate::target::ControllerState::io_ops
#[derive(Debug, Default)]
pub struct QueueOps {
    running: AtomicU32,
    /// For a queue's count of its operations on one namespace.
    on: Option<OnNamespace>,
}

/// What a queue's count of its operations on one namespace counts them for.
#[derive(Debug)]
struct OnNamespace {
    /// The namespace: once it is removed ([`Namespace::detach`]) its operations not
    /// started yet are skipped ([`IoRequest::namespace_removed`]).
    ns: Arc<Namespace>,
    /// An I/O queue's own count ([`ControllerState::io_ops`]), which counts them too.
    ///
    /// [`ControllerState::io_ops`]: crate::target::ControllerState::io_ops
    queue: Option<Arc<QueueOps>>,
    /// The queue's controller, whose host may lose the namespace while it stays.
    ctrl: Option<Arc<Controller>>,
    /// Its host may reach the namespace no more ([`QueueOps::cut_off_if_unreachable`]):
    /// to its operations not started yet the namespace is as removed.
    cut_off: AtomicBool,
    /// Wakes the operations waiting for a pool thread once the namespace is removed (or
    /// the host cut off from it).
    removed: tokio::sync::Notify,
}

impl QueueOps {
    /// A queue's count of its operations on `ns`, listed in the namespace; they count in
    /// `queue` too (an I/O queue's own count). `ctrl` is the queue's controller.
    pub(crate) fn on_namespace(
        ns: &Arc<Namespace>,
        queue: Option<Arc<QueueOps>>,
        ctrl: Option<Arc<Controller>>,
    ) -> Arc<Self> {
        let (removed, cut_off) = (tokio::sync::Notify::new(), AtomicBool::new(false));
        let on = OnNamespace { ns: ns.clone(), queue, ctrl, cut_off, removed };
        let ops = Arc::new(QueueOps { running: AtomicU32::new(0), on: Some(on) });
        {
            let mut listed = ns.ops.lock().unwrap_or_else(PoisonError::into_inner);
            listed.retain(|o| o.strong_count() > 0);
            listed.push(Arc::downgrade(&ops));
        }
        // After it is listed: a change of the hosts that reach the namespace either finds
        // it listed (`Namespace::cut_off_unreachable` lists, then looks) or was made before
        // this look.
        ops.cut_off_if_unreachable();
        ops
    }

    /// Cuts its operations off if its queue's host may reach the namespace no more: the
    /// controller ended (its host left the subsystem's allowed hosts: `Target::set_hosts`)
    /// or the namespace is inactive for the host (`Target::set_allowed_hosts`). Those not
    /// started yet are skipped, as on the namespace's removal, and those waiting for a
    /// pool thread leave at once.
    pub(crate) fn cut_off_if_unreachable(&self) {
        let Some(on) = &self.on else { return };
        let Some(ctrl) = &on.ctrl else { return };
        if ctrl.state().dead || !on.ns.visible_to(&ctrl.hostnqn) {
            // Sequentially consistent: see `OpGuard::new`.
            on.cut_off.store(true, Ordering::SeqCst);
            self.wake_removed();
        }
    }

    /// Whether these are operations of a host cut off from their namespace that have not
    /// all ended.
    pub(crate) fn cut_off_running(&self) -> bool {
        self.on.as_ref().is_some_and(|on| on.cut_off.load(Ordering::SeqCst)) && self.running()
    }

    /// Whether any of its operations has not ended.
    pub fn running(&self) -> bool {
        // Acquire, with the guard's release: what an ended operation did to the volume is
        // done for whoever sees it ended. Sequentially consistent for a namespace's
        // removal: see `OpGuard::new`.
        self.running.load(Ordering::SeqCst) > 0
    }

    /// Whether these are operations on `ns`.
    fn is_on(&self, ns: &Arc<Namespace>) -> bool {
        self.on.as_ref().is_some_and(|on| Arc::ptr_eq(&on.ns, ns))
    }

    /// Whether these are operations on a namespace that was removed, or of a host cut off
    /// from it.
    fn namespace_removed(&self) -> bool {
        // Sequentially consistent: see `OpGuard::new`.
        self.on.as_ref().is_some_and(|on| {
            on.ns.detached.load(Ordering::SeqCst) || on.cut_off.load(Ordering::SeqCst)
        })
    }

    /// Wakes those of its operations waiting for the namespace's removal
    /// ([`removed`](Self::removed)): it was removed, or its host cut off from it.
    pub(crate) fn wake_removed(&self) {
        if let Some(on) = &self.on {
            on.removed.notify_waiters();
        }
    }

    /// Completes once the namespace of these operations is removed (never for a queue's
    /// own count).
    pub(crate) async fn removed(&self) {
        let Some(on) = &self.on else { return std::future::pending().await };
        let notified = on.removed.notified();
        tokio::pin!(notified);
        // Listening before looking: a removal after the look wakes it.
        notified.as_mut().enable();
        if !self.namespace_removed() {
            notified.await;
        }
    }
}

/// One volume operation, counted in its queue's count of its operations on its namespace
/// and in the queue's own ([`QueueOps`]) from its hand-off to the shell until it is
/// dropped with its [`IoRequest`] (or the ring's transfer), wherever it ran or was skipped.
#[derive(Debug)]
pub struct OpGuard(Arc<QueueOps>);

impl OpGuard {
    fn new(ops: &Arc<QueueOps>) -> Self {
        // Sequentially consistent with the load of the namespace's `detached` (and its
        // host's `cut_off`) before the operation runs (`IoRequest::namespace_removed`), as
        // the removal (the cut) stores it before it reads the counts
        // (`Namespace::io_running`, `cut_off_io_running`): either the operation sees its
        // namespace removed and is skipped, or the removal sees it running and waits.
        ops.running.fetch_add(1, Ordering::SeqCst);
        if let Some(queue) = ops.on.as_ref().and_then(|on| on.queue.as_ref()) {
            queue.running.fetch_add(1, Ordering::Relaxed);
        }
        OpGuard(ops.clone())
    }
}

impl Drop for OpGuard {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::Release);
        if let Some(queue) = self.0.on.as_ref().and_then(|on| on.queue.as_ref()) {
            queue.running.fetch_sub(1, Ordering::Release);
        }
    }
}

/// The error of a volume operation skipped unrun because its namespace was removed (or
/// its host cut off from it) before it started ([`IoRequest::namespace_removed`]): its
/// command fails with Invalid Namespace or Format, with Do Not Retry, as Linux's nvmet
/// fails a command to a namespace that is gone (`nvmet_req_find_ns`).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the namespace was removed before the operation started")]
pub struct NamespaceRemoved;

impl From<NamespaceRemoved> for io::Error {
    fn from(e: NamespaceRemoved) -> Self {
        io::Error::other(e)
    }
}

/// Whether `e` is [`NamespaceRemoved`].
pub fn is_namespace_removed(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<NamespaceRemoved>())
}

impl IoRequest {
    /// Whether it is to be skipped, not run: its namespace was removed, or its host cut
    /// off from it (unless it saves a change already in force, [`IoRequest::saves`],
    /// which runs and is waited for). Two loads. Whoever runs it looks just before it
    /// does, and reports a skipped one's completion as [`NamespaceRemoved`].
    pub fn namespace_removed(&self) -> bool {
        !self.saves && self.running.as_ref().is_some_and(|g| g.0.namespace_removed())
    }

    /// The count of its queue's operations on its namespace, if it has one: the pool
    /// waits on it for the namespace's removal ([`QueueOps::removed`]).
    pub(crate) fn namespace_ops(&self) -> Option<&Arc<QueueOps>> {
        self.running.as_ref().map(|g| &g.0).filter(|ops| ops.on.is_some())
    }
}

/// The writes one queue of host `host` has running on one namespace, listed (weakly) in
/// the namespace's [`Namespace::writers`]. A count of the queue's own, not the namespace's,
/// so that counting every write costs no cache line the other queues write too.
#[derive(Debug)]
pub struct QueueWrites {
    host: Host,
    running: AtomicU32,
}

/// One write, from before the reservation check lets it through (whether or not a host
/// is registered then) until the volume finished it: dropped with the [`IoRequest`] that
/// carries it, wherever it ran (inline, on the pool, or in the kernel's ring). Preempt and
/// Abort waits for the preempted hosts' tickets (NVM Command Set 1.0 §3.2.4.3: their
/// commands are aborted, none lands after the Acquire completes; Linux's nvmet waits for
/// its per-controller references likewise), those of writes started before any host
/// registered too.
#[derive(Debug)]
pub struct WriteTicket(Arc<QueueWrites>);

impl WriteTicket {
    fn new(writes: &Arc<QueueWrites>) -> Self {
        // Sequentially consistent with the load of `Namespace::registered` that follows
        // and with `writing`: either the write sees the registrant, or a Preempt and Abort
        // that comes after the registration sees the write.
        writes.running.fetch_add(1, Ordering::SeqCst);
        WriteTicket(writes.clone())
    }
}

impl Drop for WriteTicket {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether any of `hosts` has writes in flight on `ns`.
fn writing(ns: &Namespace, hosts: &[Host]) -> bool {
    let writers = ns.writers.lock().unwrap_or_else(PoisonError::into_inner);
    writers
        .iter()
        .filter_map(Weak::upgrade)
        .any(|w| hosts.iter().any(|h| h.covers(&w.host)) && w.running.load(Ordering::SeqCst) > 0)
}

/// A Preempt and Abort waiting for the preempted hosts' writes in flight to finish.
#[derive(Debug)]
struct Fencing {
    cid: u16,
    ns: Arc<Namespace>,
    hosts: Vec<Host>,
    /// What follows: saving the new state, or nothing (success).
    then: Option<(IoOp, Arc<Volume>, Post)>,
    /// Past this it completes anyway (a write the device never finishes); set at the
    /// first tick.
    deadline: Option<Instant>,
}

/// How long a Preempt and Abort waits for the preempted hosts' writes.
const FENCE_DEADLINE: Duration = Duration::from_secs(60);

/// The data of a write that waits (for the volume, on the pool or in the kernel, or for its
/// rate limit): a view of the receive buffer would keep that whole buffer alive until the
/// write completes, and the next receive would allocate a fresh one, so data of up to
/// [`COPY_BELOW`] bytes gets its own copy; larger data stays a view (at most the queue depth
/// of them).
pub fn queued_write_data(data: &Bytes) -> Bytes {
    if data.len() <= COPY_BELOW { Bytes::copy_from_slice(data) } else { data.clone() }
}

/// A DH-HMAC-CHAP computation the shell must run on a blocking thread ([`DhJob::run`])
/// and report back with [`Connection::complete_dh`].
#[derive(Debug)]
pub struct DhRequest {
    /// Identifies the request in [`Connection::complete_dh`].
    pub tag: u64,
    /// What to compute.
    pub job: DhJob,
}

/// Volume operations. Offsets and lengths are in bytes and already range-checked.
#[derive(Debug)]
pub enum IoOp {
    /// Read `len` bytes.
    Read {
        /// Byte offset.
        offset: u64,
        /// Length.
        len: usize,
        /// From non-volatile media ([`flush_for_fua_read`]): a Compare's FUA (a Read's is
        /// ignored, as by Linux's nvmet).
        fua: bool,
    },
    /// Write `data`; with `fua`, make it durable before completing.
    Write {
        /// Byte offset.
        offset: u64,
        /// The data (for data received from a host, a view of the receive buffer).
        data: Bytes,
        /// Force unit access (or write cache disabled).
        fua: bool,
    },
    /// Make completed writes durable.
    Flush,
    /// Read a range and discard it: whether the volume can still read it (Verify).
    Verify {
        /// Byte offset.
        offset: u64,
        /// Length.
        len: u64,
        /// From non-volatile media ([`flush_for_fua_read`]).
        fua: bool,
    },
    /// Zero a range.
    WriteZeroes {
        /// Byte offset.
        offset: u64,
        /// Length.
        len: u64,
        /// Force unit access.
        fua: bool,
        /// Deallocate the range instead (the host set DEAC): it reads as zero
        /// afterwards, and a sparse volume gives its space back.
        deallocate: bool,
    },
    /// Dataset Management's Deallocate of ranges (offset, length):
    /// [`crate::volume::BlockBackend::discard`].
    Deallocate {
        /// Byte ranges.
        ranges: Vec<(u64, u64)>,
    },
    /// A host changed the write protection of `ns`: flush its volume (`flush`) and
    /// save its state (into `store`, if given).
    Protect {
        /// Flush the volume first.
        flush: bool,
        /// Where to save the state.
        store: Option<Arc<NamespaceStore>>,
        /// Whose.
        ns: Arc<Namespace>,
    },
    /// Save the state of `namespaces` through power loss (not a volume operation; the
    /// request's volume is the first namespace's). The shell runs these on a lane of
    /// their own, not the volumes' pool: they wait for one another on the store.
    SaveNamespaces {
        /// Where.
        store: Arc<NamespaceStore>,
        /// Whose, each with the number of the change to save
        /// ([`crate::persist::SaveTurns::change`]).
        namespaces: Vec<(Arc<Namespace>, u64)>,
    },
}

impl IoOp {
    /// Whether its length is the host's to choose beyond MDTS (Verify and Write Zeroes of
    /// up to 65,536 blocks, Deallocate of up to 256 ranges each up to the volume): such an
    /// operation may keep a pool thread for seconds, so each connection runs only its
    /// share of them at once ([`crate::server::IoPool`]).
    pub fn may_span_volume(&self) -> bool {
        matches!(self, IoOp::Verify { .. } | IoOp::WriteZeroes { .. } | IoOp::Deallocate { .. })
    }
}

/// Runs an [`IoRequest`] synchronously (the shell calls this on a blocking thread).
/// Returns the data read (empty for other operations).
pub fn execute_io(req: &IoRequest) -> io::Result<Vec<u8>> {
    execute_io_into(req, Vec::new())
}

/// [`execute_io`] reading into `buf` (a buffer of an earlier read, which saves
/// allocating and zeroing a new one; its contents are overwritten).
pub fn execute_io_into(req: &IoRequest, mut buf: Vec<u8>) -> io::Result<Vec<u8>> {
    if req.namespace_removed() {
        return Err(NamespaceRemoved.into());
    }
    let b = req.volume.backend();
    match &req.op {
        IoOp::Read { offset, len, fua } => {
            if *fua {
                flush_for_fua_read(b)?;
            }
            buf.resize(*len, 0);
            b.read_at(&mut buf, *offset)?;
            Ok(buf)
        }
        IoOp::Write { offset, data, fua } => {
            b.write_at(data, *offset)?;
            if *fua {
                b.flush()?;
            }
            Ok(Vec::new())
        }
        IoOp::Flush => b.flush().map(|()| Vec::new()),
        IoOp::Verify { offset, len, fua } => {
            if *fua {
                flush_for_fua_read(b)?;
            }
            // Up to 65,536 blocks: read in pieces of the largest transfer, into one
            // buffer, so a Verify costs no more memory than a Read.
            let piece = u64::from(identify::MAX_TRANSFER);
            let mut at = 0;
            while at < *len {
                let n = piece.min(len - at);
                buf.resize(n as usize, 0);
                b.read_at(&mut buf, offset + at)?;
                at += n;
            }
            Ok(Vec::new())
        }
        IoOp::WriteZeroes { offset, len, fua, deallocate } => {
            if *deallocate {
                b.deallocate(*offset, *len)?;
            } else {
                b.write_zeroes(*offset, *len)?;
            }
            if *fua {
                b.flush()?;
            }
            Ok(Vec::new())
        }
        IoOp::Deallocate { ranges } => {
            for (o, l) in ranges {
                b.discard(*o, *l)?;
            }
            Ok(Vec::new())
        }
        IoOp::Protect { flush, store, ns } => {
            if *flush {
                b.flush()?;
            }
            if let Some(store) = store {
                store.save(ns)?;
            }
            Ok(Vec::new())
        }
        IoOp::SaveNamespaces { store, namespaces } => {
            for (ns, change) in namespaces {
                store.save_change(ns, *change)?;
            }
            Ok(Vec::new())
        }
    }
}

/// Before a read with FUA (Compare and Verify, CDW12 bit 30: NVM Command Set 1.0 §3.2.1,
/// §3.2.7) the data must come from non-volatile media: a volume with a volatile cache (a
/// file's page cache, a device's write cache) is flushed first, so what it reads is what a
/// power loss would leave; a RAM volume has nothing to flush.
fn flush_for_fua_read(b: &dyn crate::volume::BlockBackend) -> io::Result<()> {
    if b.volatile_cache() { b.flush() } else { Ok(()) }
}

/// A piece of a connection's output.
#[derive(Debug, Clone)]
pub enum Segment {
    /// Assembled bytes (headers, capsules, small PDUs).
    Owned(Vec<u8>),
    /// A range of data read from a volume, shared with other segments of the same read.
    Shared(Arc<Vec<u8>>, std::ops::Range<usize>),
    /// Data shared with its owner (a host's write data sent on R2T).
    Bytes(Bytes),
}

impl Segment {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Segment::Owned(v) => v,
            Segment::Shared(d, r) => d.get(r.clone()).unwrap_or_default(),
            Segment::Bytes(b) => b,
        }
    }
}

/// Why a connection closed (for logs and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// We sent a C2HTermReq for this error.
    Fatal(FatalError),
    /// The host sent an H2CTermReq, or a malformed one.
    HostTerminated,
    /// The keep alive timer expired (admin queue).
    KeepAliveExpired,
    /// The controller went away (I/O queue of a torn-down controller).
    ControllerGone,
    /// The host reset the controller or shut it down (I/O queue; NVMe Base 2.0 §3.7.2).
    ControllerReset,
    /// No Connect within [`CONNECT_DEADLINE`].
    ConnectTimeout,
    /// In-band authentication failed.
    AuthFailed,
    /// A queue that must authenticate did not within [`CONNECT_DEADLINE`].
    AuthTimeout,
    /// The host did not enable its controller within [`ENABLE_DEADLINE`] (admin queue).
    EnableTimeout,
    /// Data asked for by R2T did not all come within [`DATA_DEADLINE`].
    DataTimeout,
    /// Its listener was deleted ([`ListenerLife::delete`]).
    ListenerDeleted,
    /// Fabrics Disconnect.
    Disconnect,
    /// The shell let it go: its socket closed or failed ([`Connection::shutdown`]).
    SocketClosed,
}

struct Bound {
    ctrl: Arc<Controller>,
    qid: u16,
    sqsize: u16,
    sqflow_disabled: bool,
    /// This queue's counters, registered with the subsystem while bound.
    stats: QueueRegistration,
    /// An I/O queue's volume operations running, and the controller's reset count
    /// ([`ControllerState::io_epoch`]) at its Connect: it closes once that moves.
    ///
    /// [`ControllerState::io_epoch`]: crate::target::ControllerState::io_epoch
    io: Option<(Arc<QueueOps>, u64)>,
}

/// What happens once a command's volume I/O completes.
#[derive(Debug)]
enum Post {
    Read {
        len: usize,
        offset: u64,
        ns: Arc<Namespace>,
    },
    Write {
        len: usize,
        offset: u64,
        ns: Arc<Namespace>,
    },
    /// The host's data, and the byte `offset` of its first block: the error log names
    /// that LBA should the blocks differ (NVMe Base 2.0 §5.16.1.2).
    Compare {
        expected: Bytes,
        offset: u64,
        ns: Arc<Namespace>,
    },
    /// `opcode` and the byte `offset` of its range (0 if none), for the error log should
    /// the operation fail; `err` is its media error (`volume_error_status`).
    Plain {
        ns: Arc<Namespace>,
        err: Status,
        opcode: u8,
        offset: u64,
    },
    /// A host's write protection `state` of `ns` (replacing `previous`), being flushed
    /// and saved: its hosts are told once that succeeded, and it is put back, telling
    /// nobody, should that fail.
    Protect {
        ns: Arc<Namespace>,
        state: HostWriteProtection,
        previous: HostWriteProtection,
    },
    /// Reservation state changed by command `opcode` (a Reservation command, Set Features
    /// Reservation Persistence), being saved: put back should that fail.
    Persist {
        ns: Arc<Namespace>,
        opcode: u8,
        undo: Vec<ReservationUndo>,
    },
}

/// A namespace's reservation state before a command changed it, and what of it the
/// command left: put back if saving the change fails, unless another command changed
/// it since. The notices the change raised go out only once it stands (saved, or built
/// on by another command), so no host is told of a change that was put back.
#[derive(Debug)]
struct ReservationUndo {
    ns: Arc<Namespace>,
    before: Box<Reservations>,
    after: Durable,
    notices: Vec<Notice>,
}

impl ReservationUndo {
    /// The state `r` of `ns` before a change, its notices left out.
    fn before(ns: &Arc<Namespace>, r: &Reservations) -> (Arc<Namespace>, Box<Reservations>) {
        let mut before = Box::new(r.clone());
        before.take_notices();
        (ns.clone(), before)
    }

    /// Puts the state back unless it moved on since (then the change stands, and its
    /// notices go out).
    fn apply(self, target: &Target) {
        let mut r = self.ns.reservations.lock().unwrap_or_else(PoisonError::into_inner);
        if r.durable() == self.after {
            *r = *self.before;
            self.ns.note_reservations(&r);
        } else {
            drop(r);
            self.stands(target);
        }
    }

    /// The change stands: its notices go to their hosts' controllers.
    fn stands(self, target: &Target) {
        if !self.notices.is_empty() {
            target.reservation_notices(&self.ns.subnqn, self.ns.nsid, &self.notices);
        }
    }
}

impl Post {
    /// Whether the command saves a change it already made in memory (a reservation, a
    /// write protection): others saw it in force, so the save runs, and a failed one is
    /// put back, even once the connection closed.
    fn saves_state(&self) -> bool {
        matches!(self, Post::Protect { .. } | Post::Persist { .. })
    }

    /// Puts back what the command changed in memory, as its save failed.
    fn put_back(&mut self, target: &Target) {
        match self {
            Post::Persist { undo, .. } => {
                for u in undo.drain(..) {
                    u.apply(target);
                }
            }
            Post::Protect { ns, state, previous } => {
                target.revert_host_write_protection(ns, *state, *previous);
            }
            _ => {}
        }
    }

    /// The command's change is saved: what it tells hosts goes out.
    fn saved(&mut self, target: &Target) {
        match self {
            Post::Persist { undo, .. } => {
                for u in undo.drain(..) {
                    u.stands(target);
                }
            }
            Post::Protect { ns, .. } => target.write_protection_stands(ns),
            _ => {}
        }
    }

    fn ns(&self) -> &Arc<Namespace> {
        match self {
            Post::Read { ns, .. }
            | Post::Write { ns, .. }
            | Post::Compare { ns, .. }
            | Post::Plain { ns, .. }
            | Post::Protect { ns, .. }
            | Post::Persist { ns, .. } => ns,
        }
    }

    /// Where a failure of this command lies, for the error log.
    fn error_site(&self) -> ErrorSite {
        let (opcode, offset) = match self {
            Post::Read { offset, .. } => (io_opcode::READ, *offset),
            Post::Write { offset, .. } => (io_opcode::WRITE, *offset),
            Post::Compare { offset, .. } => (io_opcode::COMPARE, *offset),
            Post::Plain { opcode, offset, .. } => (*opcode, *offset),
            Post::Protect { .. } => (admin_opcode::SET_FEATURES, 0),
            Post::Persist { opcode, .. } => (*opcode, 0),
        };
        let ns = self.ns();
        let lba = offset / u64::from(ns.volume.block_size().max(1));
        ErrorSite { opcode, nsid: ns.nsid, lba, location: error_log::NO_LOCATION }
    }
}

/// A command in the table by CID. Only a command waiting for R2T data keeps its
/// SQE (boxed, so the table's entries stay small for the commands waiting for I/O).
enum Cmd {
    /// Waiting for H2CData after our R2T.
    /// `buf` collects the data of all but the last PDU (a transfer in one PDU is
    /// executed straight from the receive buffer); `pooled` is what its R2T took from
    /// the target-wide write budget (0 or its length).
    AwaitData {
        sqe: Box<Sqe>,
        ttag: u16,
        buf: BytesMut,
        digest_failed: bool,
        since: Instant,
        pooled: u32,
    },
    /// Volume I/O running under `tag` (see [`io_tag`]).
    AwaitIo { tag: u64, post: Post },
    /// An Authentication Send (`receive` is `None`) or Receive (of `receive` bytes)
    /// waiting for the DH computation `tag`.
    Computing { tag: u64, receive: Option<usize> },
}

/// Result of executing a command.
enum Outcome {
    Done(Cqe),
    Data(Vec<u8>, Cqe),
    Io(IoOp, Arc<Volume>, Post),
    /// Completed later (AER).
    Pending,
}

/// One NVMe/TCP connection, controller side. See the [module docs](self).
pub struct Connection {
    target: Arc<Target>,
    cfg: QueueConfig,
    dec: PduDecoder,
    framing: Framing,
    bound: Option<Bound>,
    /// In-band authentication, when the host has a secret: until it succeeds only
    /// Authentication Send/Receive (and Disconnect) run.
    auth: Option<AuthSession>,
    cmds: CidTable<Cmd>,
    /// The ticket the reservation check of the command being run took (a write on a
    /// reserved namespace), for its [`IoRequest`].
    fence: Option<WriteTicket>,
    /// Preempt and Abort commands waiting for writes of the hosts they preempted.
    fencing: Vec<Fencing>,
    /// Numbers the volume operations (see [`io_tag`]).
    next_io: u64,
    /// A shutdown's volatile-cache flushes handed to the shell whose results are not taken
    /// yet ([`Connection::csts_now`]).
    shutdown_flushes: Vec<fabrics::ShutdownFlush>,
    /// When [`data_overdue`](Self::data_overdue) looks again.
    next_data_check: Instant,
    /// Namespaces looked up for commands (see [`namespace`](Self::namespace)).
    ns_cache: NsCache,
    /// Counts not yet added to shared counters.
    tally: Tally,
    next_ttag: u16,
    /// Bytes being assembled (headers, small PDUs).
    out: Vec<u8>,
    /// Finished output in order: assembled bytes and read data shared without copying.
    segments: Vec<Segment>,
    io: VecDeque<IoRequest>,
    /// The DH computation an authentication command waits for (one at a time).
    dh: Option<DhRequest>,
    aers: Vec<u16>,
    /// I/O commands waiting for their volume's rate limit, in arrival order.
    throttled: VecDeque<Throttled>,
    /// Commands whose R2T waits for room under [`R2T_BUDGET`] or in the target-wide
    /// write budget, in arrival order.
    r2t_waiting: VecDeque<WaitingR2t>,
    /// Bytes asked for by the R2Ts of commands still waiting for their data.
    r2t_granted: usize,
    /// The part of `r2t_granted` taken from [`QueueConfig::write_budget`]: given back
    /// as each command's data comes, the rest when the connection closes.
    r2t_pooled: usize,
    /// Bytes of reads handed to the shell and not yet completed: they count against
    /// [`OUTPUT_PAUSE`] as the output they become.
    reads_held: usize,
    last_keep_alive: Instant,
    created: Instant,
    /// When the tick first saw a queue that had authenticated lose it (a failed
    /// re-authentication): its host has [`CONNECT_DEADLINE`] from then to read its
    /// `AUTH_Failure1`.
    auth_lost: Option<Instant>,
    sqhd: u16,
    closed: Option<CloseReason>,
    /// Discovery controller: the log last built for its host and the GENCTR it reads,
    /// which reads and the change notice's check both build and compare.
    disc: crate::target::DiscoveryView,
    /// Discovery controller: the GENCTR of the log the host last read with RAE clear or
    /// was told about; a change notice is due while `disc`'s differs.
    disc_told: u64,
    /// Discovery controller: a log change was reported and the log not read since.
    disc_masked: bool,
    /// Received PDUs wait undecoded until the output is sent ([`OUTPUT_PAUSE`]).
    input_paused: bool,
    /// Peer-caused events (`LOGGED_*`) this connection already logged above debug level:
    /// the rest go to debug, so a peer repeating them cannot flood the log.
    logged: u8,
}

/// A data digest error ([`Connection::logged`]).
const LOGGED_DIGEST_ERROR: u8 = 1;
/// A refused Connect ([`Connection::logged`]).
const LOGGED_CONNECT_REFUSED: u8 = 2;

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("qid", &self.bound.as_ref().map(|b| b.qid))
            .field("cntlid", &self.bound.as_ref().map(|b| b.ctrl.cntlid))
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

/// Namespaces a connection looked up, valid while the target's namespace epoch stays.
#[derive(Default)]
struct NsCache {
    epoch: u64,
    namespaces: Vec<Arc<Namespace>>,
    /// The connection's writes on the namespaces it wrote to. Kept when `namespaces`
    /// overflows (a host writing to more than [`NS_CACHE_LEN`] namespaces round robin
    /// would otherwise make a count, and take the namespace's list lock, per write);
    /// dropped when the epoch moves (at the next tick at the latest), so a removed
    /// namespace is not held.
    writes: Vec<(Arc<Namespace>, Arc<QueueWrites>)>,
    /// The connection's counts of its volume operations on the namespaces it used, kept
    /// and dropped as `writes` (each holds its namespace).
    ops: Vec<Arc<QueueOps>>,
}

impl NsCache {
    /// Lets go of every lookup once the target's namespace epoch moved to `epoch`, whether
    /// a command or the tick sees it; returns whether it had moved.
    fn follow(&mut self, epoch: u64) -> bool {
        if self.epoch == epoch {
            return false;
        }
        self.epoch = epoch;
        self.namespaces.clear();
        self.writes.clear();
        self.ops.clear();
        true
    }

    /// Makes room for one more namespace.
    fn make_room(&mut self) {
        if self.namespaces.len() >= NS_CACHE_LEN {
            self.namespaces.clear();
        }
        if self.writes.len() >= COUNTS_CACHE_LEN {
            self.writes.clear();
        }
    }
}

/// Successful reads and writes of one namespace and SUCCESS-flag completions that a
/// connection has not yet added to the counters it shares with every other queue
/// (the namespace's, the target's): added once per output batch, not with a locked
/// add per command on a cache line the other queues' threads write too.
#[derive(Default)]
struct Tally {
    ns: Option<Arc<Namespace>>,
    reads: u64,
    read_bytes: u64,
    writes: u64,
    write_bytes: u64,
    success_flags: u64,
}

impl Tally {
    /// The tally of `ns`, adding that of another namespace to its counters first.
    fn of(&mut self, ns: Arc<Namespace>) -> &mut Self {
        if !self.ns.as_ref().is_some_and(|n| Arc::ptr_eq(n, &ns)) {
            self.flush_namespace();
            self.ns = Some(ns);
        }
        self
    }

    /// Adds the namespace's counts and lets go of it (a removed namespace and its
    /// volume are not kept alive by an idle connection).
    fn flush_namespace(&mut self) {
        if let Some(ns) = self.ns.take() {
            let add = |c: &std::sync::atomic::AtomicU64, n: u64| {
                if n > 0 {
                    c.fetch_add(n, Ordering::Relaxed);
                }
            };
            add(&ns.stats.reads, std::mem::take(&mut self.reads));
            add(&ns.stats.read_bytes, std::mem::take(&mut self.read_bytes));
            add(&ns.stats.writes, std::mem::take(&mut self.writes));
            add(&ns.stats.write_bytes, std::mem::take(&mut self.write_bytes));
        }
    }

    fn flush(&mut self, target: &Target) {
        self.flush_namespace();
        let n = std::mem::take(&mut self.success_flags);
        if n > 0 {
            target.stats.success_flag_completions.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// Namespaces a connection keeps looked up (hosts use a few per queue).
const NS_CACHE_LEN: usize = 8;
/// Namespaces whose counts (of writes, of volume operations) a connection keeps (Linux
/// puts every namespace of a controller on each of its I/O queues).
const COUNTS_CACHE_LEN: usize = 64;

/// The tag of a volume operation: its command's CID in the low 16 bits (so completing
/// it needs no second lookup) and a sequence number above, so a completion that
/// outlived its command never completes a later one with the same CID.
fn io_tag(seq: u64, cid: u16) -> u64 {
    (seq << 16) | u64::from(cid)
}

/// Force Unit Access, CDW12 bit 30 of a Read, Write, Compare, Write Zeroes or Verify (NVM
/// Command Set 1.0 §3.2).
fn fua_bit(sqe: &Sqe) -> bool {
    sqe.cdw12() & (1 << 30) != 0
}

fn ok(cid: u16) -> Cqe {
    Cqe::new(cid, Status::SUCCESS)
}

/// SQHD of a Connect response that disabled SQ flow control (Connect CATTR bit 2): the
/// controller will not report SQ head updates (NVMe-oF 1.1 §3.3 Figure 21, TP 8005).
const SQHD_NOT_REPORTED: u16 = 0xFFFF;

/// A successful Connect's completion: the controller's ID in DW0 on every one (NVMe-oF 1.1
/// §3.3 Figure 21, as nvmet answers since it followed the spec here), and
/// [`SQHD_NOT_REPORTED`] when the host disabled SQ flow control, as nvmet answers; its
/// later completions carry SQHD 0 ([`Connection::send_cqe`]).
fn connected(cid: u16, cntlid: u16, sqflow_disabled: bool) -> Cqe {
    let mut cqe = ok(cid);
    cqe.dw0 = u32::from(cntlid);
    if sqflow_disabled {
        cqe.sqhd = SQHD_NOT_REPORTED;
    }
    cqe
}

/// A failed completion. Do Not Retry is set except for path related statuses (SCT 3h),
/// which a host retries on another path (NVMe Base 2.0 §8.1.3: an ANA Inaccessible
/// command may succeed through another controller).
fn fail(cid: u16, s: Status) -> Cqe {
    if s.sct() == dpu_nvmf_proto::cqe::sct::PATH {
        Cqe::new(cid, s)
    } else {
        Cqe::new(cid, s.with_dnr())
    }
}

/// A command whose R2T waits for room under the budgets ([`Connection::grant_r2t`]).
struct WaitingR2t {
    sqe: Sqe,
    /// The length to ask for.
    length: u32,
    /// Whether it was counted as waiting for the target-wide budget.
    counted: bool,
}

/// An I/O command waiting for its volume's rate limit.
struct Throttled {
    sqe: Sqe,
    data: Bytes,
    /// For a command whose data comes by R2T: the length to ask for once the limit
    /// lets it through (its data is not asked for before).
    r2t: Option<u32>,
    volume: Arc<Volume>,
    /// Its data length, as the limit counts it.
    bytes: u64,
    /// When the limit may let it through.
    retry: Instant,
}

/// The status of a command whose volume operation failed with `err` (`None`: it returned
/// the wrong length), `media` being the media error of its kind of operation (Write Fault,
/// Unrecovered Read Error; Internal Error where it moves no host data); sent with Do Not
/// Retry. As Linux's nvmet (`errno_to_nvme_status`, `blk_to_nvme_status`): no room in the
/// file system, its quota or a thin device's pool (ENOSPC, EDQUOT) is Capacity Exceeded,
/// which a Linux host reports as ENOSPC, and whatever is not the medium's own failure is
/// Internal Error: a file cut short under the volume or a device that shrank (its blocks
/// past the end: UnexpectedEof, see `volume::past_device_end`), a device gone (ENXIO,
/// ENODEV), a read-only file system (EROFS), a pool thread that panicked, a transfer the
/// ring could not go on with. Where nvmet answers Internal Error for EIO too, the medium's
/// failures (EIO; ENODATA, the block layer's medium error) are the media errors the Base
/// spec has for them (NVMe Base 2.0 §4.6.1, SCT 2h: 80h Write Fault, 81h Unrecovered Read
/// Error), which a Linux host reports as a medium error of those blocks; an I/O error
/// either way.
fn volume_error_status(err: Option<&io::Error>, media: Status) -> Status {
    let Some(e) = err else { return Status::INTERNAL_ERROR };
    if is_namespace_removed(e) {
        return Status::INVALID_NAMESPACE_OR_FORMAT;
    }
    if matches!(e.kind(), io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded) {
        return Status::CAPACITY_EXCEEDED;
    }
    match e.raw_os_error().map(Errno::from_raw) {
        Some(Errno::EIO | Errno::ENODATA) => media,
        _ => Status::INTERNAL_ERROR,
    }
}

impl Connection {
    /// A new connection accepted at `now`.
    pub fn new(target: Arc<Target>, cfg: QueueConfig, now: Instant) -> Self {
        let mut dc = DecoderConfig::controller();
        // Until a Connect binds the queue, the only data that may come by R2T is that
        // Connect's (`precheck`): H2CData PDUs carry at most that much (`bind` raises it).
        dc.max_data_len = CONNECT_DATA_LEN as u32;
        dc.max_in_capsule_data = identify::IN_CAPSULE_DATA;
        Self {
            target,
            cfg,
            dec: PduDecoder::new(dc),
            framing: Framing::PLAIN,
            bound: None,
            auth: None,
            cmds: CidTable::default(),
            fence: None,
            fencing: Vec::new(),
            next_io: 1,
            shutdown_flushes: Vec::new(),
            next_data_check: now,
            ns_cache: NsCache::default(),
            tally: Tally::default(),
            next_ttag: 0,
            out: Vec::new(),
            segments: Vec::new(),
            io: VecDeque::new(),
            dh: None,
            aers: Vec::new(),
            throttled: VecDeque::new(),
            r2t_waiting: VecDeque::new(),
            r2t_granted: 0,
            r2t_pooled: 0,
            reads_held: 0,
            last_keep_alive: now,
            created: now,
            auth_lost: None,
            sqhd: 0,
            closed: None,
            disc: Default::default(),
            disc_told: 0,
            disc_masked: false,
            input_paused: false,
            logged: 0,
        }
    }

    /// Whether an R2T waits for bytes to come back to the target-wide write budget
    /// ([`QueueConfig::write_budget`]), not for this queue's own data: its shell then
    /// takes a [`WriteBudget::waiter`], calls [`retry_r2ts`](Self::retry_r2ts), and
    /// again once the waiter wakes.
    pub fn waits_for_write_budget(&self) -> bool {
        self.r2t_waiting.front().is_some_and(|w| {
            self.r2t_granted != 0 && self.r2t_granted + w.length as usize <= R2T_BUDGET
        })
    }

    /// Sends the waiting R2Ts the budgets let go now (see
    /// [`waits_for_write_budget`](Self::waits_for_write_budget)).
    pub fn retry_r2ts(&mut self, now: Instant) {
        if self.closed.is_none() && !self.r2t_waiting.is_empty() {
            self.release_r2ts(now);
        }
    }

    /// Whether a Fabrics Connect bound the queue to its controller.
    pub fn is_connected(&self) -> bool {
        self.bound.is_some()
    }

    /// Why the connection is over, once it is: send what [`take_output`](Self::take_output)
    /// returns, then close the socket.
    pub fn is_closed(&self) -> Option<&CloseReason> {
        self.closed.as_ref()
    }

    /// Bytes to send, in order, as one buffer (copies; see
    /// [`take_segments`](Self::take_segments)).
    pub fn take_output(&mut self) -> Vec<u8> {
        let segs = self.take_segments();
        let mut v = Vec::with_capacity(segs.iter().map(|s| s.as_slice().len()).sum());
        for s in &segs {
            v.extend_from_slice(s.as_slice());
        }
        v
    }

    /// Bytes to send, in order, as segments for a vectored write: read data is not
    /// copied into the output.
    pub fn take_segments(&mut self) -> Vec<Segment> {
        // The counts are current by the time the completions they count are sent.
        self.tally.flush(&self.target);
        if !self.out.is_empty() {
            self.segments.push(Segment::Owned(std::mem::take(&mut self.out)));
        }
        std::mem::take(&mut self.segments)
    }

    /// Gives back an output buffer [`take_segments`](Self::take_segments) handed out,
    /// once sent: the next batch is assembled in it, as large as the last one without
    /// growing, in memory that is mapped and cached (a fresh buffer of a large batch
    /// came from the kernel as new zeroed pages each time).
    pub fn recycle_output(&mut self, mut buf: Vec<u8>) {
        if self.out.is_empty() && buf.capacity() > self.out.capacity() {
            buf.clear();
            self.out = buf;
        }
    }

    /// Whether bytes are waiting in [`take_output`](Self::take_output).
    pub fn has_output(&self) -> bool {
        !self.out.is_empty() || !self.segments.is_empty()
    }

    /// Whether received PDUs wait undecoded because the output reached [`OUTPUT_PAUSE`]:
    /// send the output, then call [`received`](Self::received) before receiving more.
    pub fn input_paused(&self) -> bool {
        self.input_paused
    }

    /// Whether paused input may be decoded again once the output is sent: not while the
    /// reads it started still hold [`OUTPUT_PAUSE`] (their completions come first).
    pub fn may_resume(&self) -> bool {
        self.reads_held < OUTPUT_PAUSE
    }

    fn pending_output(&self) -> usize {
        self.out.len() + self.segments.iter().map(|s| s.as_slice().len()).sum::<usize>()
    }

    /// The next volume operation to run.
    pub fn poll_io(&mut self) -> Option<IoRequest> {
        self.io.pop_front()
    }

    /// The DH computation to run off the reactor, if an authentication command waits
    /// for one; its output goes to [`complete_dh`](Self::complete_dh).
    pub fn poll_dh(&mut self) -> Option<DhRequest> {
        self.dh.take()
    }

    /// Reports the output of a [`DhRequest`] and answers the command that waited for it.
    pub fn complete_dh(&mut self, tag: u64, out: DhOutput) {
        let Some((cid, Cmd::Computing { receive, .. })) = self.take_tagged(tag) else { return };
        let Some(a) = self.auth.as_mut() else { return };
        let progress = a.computed(out);
        self.auth_progress(cid, receive, progress);
    }

    /// What its shell waits on, once connected, to tick it as soon as its controller
    /// ends ([`Controller::watch`]), not at the next tick.
    pub fn controller_watch(&self) -> Option<tokio::sync::watch::Receiver<()>> {
        self.bound.as_ref().map(|b| b.ctrl.watch())
    }

    /// (CNTLID, QID) once connected.
    pub fn queue(&self) -> Option<(u16, u16)> {
        self.bound.as_ref().map(|b| (b.ctrl.cntlid, b.qid))
    }

    /// Feeds received bytes and processes every complete PDU.
    pub fn receive(&mut self, bytes: &[u8], now: Instant) {
        if self.closed.is_some() {
            return;
        }
        self.dec.feed(bytes);
        self.process_received(now);
    }

    /// The receive buffer with room for at least `min` more bytes, for the shell to
    /// append received bytes to directly (no staging copy; decoded write data stays
    /// a view of it); then call [`received`](Self::received). Only a connected I/O queue
    /// moves batches of commands and data: any other gets at most [`SMALL_RECEIVE_ROOM`],
    /// as any peer on the fabric can open connections that never connect, or connect to
    /// the discovery controller, which every host may.
    pub fn receive_buffer(&mut self, min: usize) -> &mut BytesMut {
        let io_queue = self.bound.as_ref().is_some_and(|b| b.qid != 0);
        let min = if io_queue { min } else { min.min(SMALL_RECEIVE_ROOM) };
        self.dec.receive_buf(min)
    }

    /// Processes every complete PDU after bytes were appended to
    /// [`receive_buffer`](Self::receive_buffer) (as [`receive`](Self::receive)).
    pub fn received(&mut self, now: Instant) {
        if self.closed.is_some() {
            return;
        }
        self.process_received(now);
    }

    /// Restarts `ctrl`'s Keep Alive timer for this queue's activity, unless the queue has
    /// yet to authenticate: anyone who knows the NQNs, Host ID and CNTLID may connect one,
    /// and must not keep a silent host's controller alive.
    fn note_host_traffic(&self, ctrl: &Controller) {
        if !self.auth_pending() {
            ctrl.note_traffic();
        }
    }

    fn process_received(&mut self, now: Instant) {
        if let Some(b) = self.bound.as_ref().filter(|b| b.qid != 0) {
            // What the host sends an I/O queue is its commands and their data: traffic
            // that keeps the controller alive (Traffic Based Keep Alive).
            self.note_host_traffic(&b.ctrl);
        }
        self.input_paused = false;
        while self.closed.is_none() {
            if self.dec.buffered() > 0 && self.pending_output() + self.reads_held >= OUTPUT_PAUSE {
                self.input_paused = true;
                break;
            }
            match self.dec.decode() {
                Ok(Some(pdu)) => self.on_pdu(pdu, now),
                Ok(None) => {
                    if self.dec.is_closed() {
                        self.close(CloseReason::HostTerminated);
                    }
                    break;
                }
                Err(DecodeError::DataDigest { pdu, .. }) => self.on_digest_error(*pdu, now),
                Err(DecodeError::Fatal(f)) => self.fatal(f),
                Err(DecodeError::MalformedTermReq { .. }) => {
                    self.close(CloseReason::HostTerminated);
                }
            }
        }
    }

    /// Advances time: keep alive enforcement, controller teardown, pending
    /// asynchronous events.
    pub fn tick(&mut self, now: Instant) {
        if self.closed.is_some() {
            return;
        }
        if self.cfg.listener.deleted() {
            self.close(CloseReason::ListenerDeleted);
            return;
        }
        if self.data_overdue(now) {
            warn!("data asked for by R2T did not come in time: closing the queue");
            self.close(CloseReason::DataTimeout);
            return;
        }
        let Some(b) = &self.bound else {
            if now.saturating_duration_since(self.created) > CONNECT_DEADLINE {
                self.close(CloseReason::ConnectTimeout);
            }
            return;
        };
        // A namespace removed (or hidden from the host, or moved off this path) since the
        // last lookup is let go now, not at the next I/O command, which an idle queue may
        // never get: its cache must not keep the volume (RAM, an open file or device)
        // alive after the operator deleted both. One load per tick.
        self.ns_cache.follow(self.target.namespace_epoch());
        // A queue that never authenticated has the deadline from its creation; one whose
        // re-authentication failed runs nothing but authentication, and has it from the
        // failure to read its Failure1 (which closes it), so it holds no controller
        // place for ever when its host never asks.
        let unauthenticated_since = match &self.auth {
            Some(a) if !a.authenticated() && a.proven() => Some(*self.auth_lost.get_or_insert(now)),
            Some(a) if !a.authenticated() => Some(self.created),
            _ => None,
        };
        if unauthenticated_since
            .is_some_and(|since| now.saturating_duration_since(since) > CONNECT_DEADLINE)
        {
            warn!(cntlid = b.ctrl.cntlid, qid = b.qid, "queue not authenticated in time");
            self.close(CloseReason::AuthTimeout);
            return;
        }
        // NVMe Base 2.0 §3.9 "Keep Alive": the timer expires KATO (rounded up to the KAS
        // granularity) after the last Keep Alive command or, as the controller has
        // Traffic Based Keep Alive (CTRATT bit 6, §3.9.4), the last command on any of its
        // queues (an I/O queue's seen here at the next tick, at most a tick late).
        if b.qid == 0 && b.ctrl.take_traffic() {
            self.last_keep_alive = now;
        }
        let (dead, kato, enabled, reset, flush) = {
            let mut st = b.ctrl.state();
            if b.qid == 0 {
                // How long the host has been silent, for a full table's next Connect.
                st.heard = Some(self.last_keep_alive);
            }
            let reset = b.io.as_ref().is_some_and(|(_, epoch)| *epoch != st.io_epoch);
            let flush = st.drain.is_some_and(|d| d.flush);
            (st.dead, st.kato_ms, st.enabled_once, reset, flush)
        };
        if dead {
            self.close(CloseReason::ControllerGone);
            return;
        }
        if reset {
            // A reset or shutdown deletes the I/O queues (NVMe Base 2.0 §3.7.2, §3.6.1).
            self.close(CloseReason::ControllerReset);
            return;
        }
        if b.qid == 0 {
            if !enabled && now.saturating_duration_since(b.ctrl.connected) > ENABLE_DEADLINE {
                warn!(cntlid = b.ctrl.cntlid, "controller not enabled in time: dropping it");
                self.close(CloseReason::EnableTimeout);
                return;
            }
            let gran = u64::from(identify::KAS) * 100;
            let limit = Duration::from_millis(u64::from(kato).div_ceil(gran) * gran + gran);
            if kato != 0 && now.saturating_duration_since(self.last_keep_alive) > limit {
                let cntlid = b.ctrl.cntlid;
                warn!(cntlid, kato_ms = kato, "keep alive timeout: dropping controller");
                self.target.stats.kato_expired.fetch_add(1, Ordering::Relaxed);
                self.close(CloseReason::KeepAliveExpired);
                return;
            }
            if flush {
                // A shutdown's flushes start once its I/O ended, whether or not the host
                // reads CSTS (which would start them too).
                let ctrl = b.ctrl.clone();
                self.csts_now(&ctrl, now);
            }
            self.deliver_events();
        } else {
            // Only once the controller is known to run: a held command would close the
            // queue of a dead one, and the next held write take budget nobody gives back.
            if !self.throttled.is_empty() {
                self.release_throttled(now);
            }
            if !self.fencing.is_empty() {
                self.release_fencing(now);
            }
        }
    }

    /// Whether a command has waited longer than [`DATA_DEADLINE`] for its R2T data
    /// (looked for at most once a second, and only while commands are outstanding).
    fn data_overdue(&mut self, now: Instant) -> bool {
        if self.cmds.len() == 0 || now < self.next_data_check {
            return false;
        }
        self.next_data_check = now + Duration::from_secs(1);
        self.cmds.values().any(|c| {
            matches!(c, Cmd::AwaitData { since, .. }
                if now.saturating_duration_since(*since) > DATA_DEADLINE)
        })
    }

    /// Reports the result of an [`IoRequest`].
    pub fn complete_io(&mut self, tag: u64, result: io::Result<Vec<u8>>) {
        if let Some((cid, post)) = self.take_io(tag) {
            self.finish_io(cid, post, result);
        } else if !self.shutdown_flushes.is_empty() {
            self.shutdown_flush_done(tag, result);
        }
    }

    /// Completes command `cid` whose volume I/O returned `result`.
    fn finish_io(&mut self, cid: u16, mut post: Post, result: io::Result<Vec<u8>>) {
        if self.closed.is_some() {
            // No host hears of it any more (only a save's result is still taken).
            if result.is_err() {
                post.put_back(&self.target);
            } else {
                post.saved(&self.target);
            }
            return;
        }
        // A write protection's notice waits for its answer (`run`).
        let protect = matches!(post, Post::Protect { .. });
        match (post, result) {
            (Post::Read { len, ns, .. }, Ok(data)) if data.len() == len => {
                self.count_read(ns, len);
                self.send_data(cid, data, ok(cid));
            }
            (Post::Write { len, ns, .. }, Ok(_)) => {
                self.count_write(ns, len);
                self.send_cqe(ok(cid));
            }
            (Post::Compare { expected, .. }, Ok(data)) if data == expected => {
                self.count_compare(data.len());
                self.send_cqe(ok(cid));
            }
            (post @ Post::Compare { .. }, Ok(data)) => {
                self.count_compare(data.len());
                let cqe = fail(cid, Status::COMPARE_FAILURE);
                self.send_failure_at(cqe, post.error_site(), Some(post.ns()));
            }
            (
                mut post @ (Post::Plain { .. } | Post::Protect { .. } | Post::Persist { .. }),
                Ok(_),
            ) => {
                post.saved(&self.target);
                self.send_cqe(ok(cid));
            }
            (mut post @ (Post::Persist { .. } | Post::Protect { .. }), Err(e)) => {
                // The host is told the command failed: what it changed is put back.
                post.put_back(&self.target);
                self.io_failed(cid, post, Some(e));
            }
            (post, res) => self.io_failed(cid, post, res.err()),
        }
        if protect {
            self.deliver_events();
        }
    }

    /// Completes the volume read `tag` (an [`IoOp::Read`] the shell runs inline) with
    /// `read(buf)`, which appends the read's data to `buf`. A read of at most
    /// [`COPY_BELOW`] bytes goes straight into the output behind its C2HData header (a
    /// memory volume's [`BlockBackend::read_append`](crate::volume::BlockBackend::read_append):
    /// one copy, no buffer in between); if `read` fails, the PDU is taken back out of the
    /// output and the command fails. Any other command reading (a Compare, a larger
    /// read) gets the data in a buffer of its own, as from [`complete_io`](Self::complete_io).
    pub fn complete_read<F>(&mut self, tag: u64, read: F)
    where
        F: FnOnce(&mut Vec<u8>) -> io::Result<()>,
    {
        let Some((cid, post)) = self.take_io(tag) else { return };
        let (len, offset, ns) = match post {
            Post::Read { len, offset, ns } if len > 0 && len <= COPY_BELOW => (len, offset, ns),
            post => {
                let mut buf = Vec::new();
                let res = read(&mut buf).map(|()| buf);
                self.finish_io(cid, post, res);
                return;
            }
        };
        let success_flag = self.bound.as_ref().is_some_and(|b| b.sqflow_disabled);
        let h = DataPduHeader { cccid: cid, ttag: 0, datao: 0, last: true, success: success_flag };
        let pdu_start = self.out.len();
        if let Err(e) =
            encode_data_pdu_prefix(PduType::C2HData, &h, len, &self.framing, &mut self.out)
        {
            warn!(error = %e, "cannot encode C2HData");
            self.io_failed(cid, Post::Read { len, offset, ns }, None);
            return;
        }
        let data_start = self.out.len();
        let res = read(&mut self.out).and_then(|()| {
            // A reader that appended the wrong length is an internal error, not data.
            if self.out.len() == data_start + len {
                Ok(())
            } else {
                Err(io::Error::other("read appended the wrong length"))
            }
        });
        if let Err(e) = res {
            self.out.truncate(pdu_start);
            self.io_failed(cid, Post::Read { len, offset, ns }, Some(e));
            return;
        }
        if self.framing.ddgst {
            let d = dpu_nvmf_proto::digest::digest_bytes(&self.out[data_start..]);
            self.out.extend_from_slice(&d);
        }
        self.count_read(ns, len);
        self.finish_data(success_flag, ok(cid));
    }

    /// Takes the command waiting for volume I/O `tag` out of the table: its CID and
    /// what follows. `None` if the completion is stale (its command is gone or its CID
    /// reused) or the connection closed meanwhile.
    fn take_io(&mut self, tag: u64) -> Option<(u16, Post)> {
        match self.take_tagged(tag)? {
            (cid, Cmd::AwaitIo { post, .. }) => {
                if let Post::Read { len, .. } = &post {
                    self.reads_held -= len;
                }
                Some((cid, post))
            }
            _ => None,
        }
    }

    /// Takes the command that waited for the operation `tag` (volume I/O or a DH
    /// computation; the tag carries its CID, see [`io_tag`]). `None` if the result is
    /// stale (its command is gone or its CID reused) or the connection closed meanwhile,
    /// unless it is a save ([`Post::saves_state`]): what a failed one changed is put back.
    fn take_tagged(&mut self, tag: u64) -> Option<(u16, Cmd)> {
        let cid = tag as u16;
        // One lookup: a stale result is rare, and puts the command back.
        let cmd = self.cmds.remove(cid)?;
        let waited = match &cmd {
            Cmd::AwaitIo { tag: t, .. } | Cmd::Computing { tag: t, .. } => *t == tag,
            Cmd::AwaitData { .. } => false,
        };
        if !waited {
            self.cmds.insert(cid, cmd);
            return None;
        }
        let wanted = self.closed.is_none()
            || matches!(&cmd, Cmd::AwaitIo { post, .. } if post.saves_state());
        wanted.then_some((cid, cmd))
    }

    /// Whether a closed connection still waits for the save of a change its commands
    /// made ([`Post::saves_state`]): the shell runs what [`poll_io`](Self::poll_io) hands
    /// out and reports completions until it does not.
    pub fn settling(&self) -> bool {
        self.cmds.values().any(|c| matches!(c, Cmd::AwaitIo { post, .. } if post.saves_state()))
    }

    fn count_read(&mut self, ns: Arc<Namespace>, len: usize) {
        let t = self.tally.of(ns);
        t.reads += 1;
        t.read_bytes += len as u64;
        if let Some(b) = &self.bound {
            b.stats.read(len as u64);
        }
    }

    fn count_write(&mut self, ns: Arc<Namespace>, len: usize) {
        let t = self.tally.of(ns);
        t.writes += 1;
        t.write_bytes += len as u64;
        if let Some(b) = &self.bound {
            b.stats.written(len as u64);
        }
    }

    /// A Compare read its blocks: SMART counts it with the Reads (NVMe 1.4 §5.14.1.2,
    /// Figure 194), the queue's and namespace's `reads` do not.
    fn count_compare(&mut self, len: usize) {
        if let Some(b) = &self.bound {
            b.stats.compared(len as u64);
        }
    }

    /// Fails command `cid` whose volume I/O failed (`err`) or returned the wrong length.
    fn io_failed(&mut self, cid: u16, post: Post, err: Option<io::Error>) {
        let site = post.error_site();
        let (ns, media) = match post {
            Post::Read { ns, .. } => (ns, Status::UNRECOVERED_READ_ERROR),
            Post::Write { ns, .. } => (ns, Status::WRITE_FAULT),
            Post::Compare { ns, .. } => (ns, Status::UNRECOVERED_READ_ERROR),
            Post::Plain { ns, err, .. } => (ns, err),
            Post::Protect { ns, .. } | Post::Persist { ns, .. } => (ns, Status::INTERNAL_ERROR),
        };
        // Do Not Retry on every volume error, as Linux's nvmet sets it
        // (`errno_to_nvme_status`): Linux reports a lost writeback once per open file
        // (errseq) and the next fdatasync succeeds, so a host retrying a failed Flush,
        // FUA write or write with the cache off (NVMe Base 2.0 §4.6.1: DNR clear says
        // the same command may succeed) would be told its data is durable when it is
        // lost. The errno cannot tell whether a writeback error was consumed, so no
        // error is treated as passing; the ones a retry cures (EINTR, EAGAIN) are
        // retried before they get here (the ring resubmits, std's pread/pwrite loop).
        match &err {
            Some(e) if is_namespace_removed(e) => debug!(nsid = ns.nsid, "{e}: skipped"),
            Some(e) => warn!(error = %e, nsid = ns.nsid, "volume I/O failed"),
            None => {}
        }
        let cqe = fail(cid, volume_error_status(err.as_ref(), media));
        self.send_failure_at(cqe, site, Some(&ns));
    }

    /// Closes the connection, if it is not yet, and releases the controller or I/O queue.
    /// Called by the shell when the socket is gone; also runs on drop. Saves of changes
    /// already made may still follow ([`settling`](Self::settling)).
    pub fn shutdown(&mut self) {
        self.close(CloseReason::SocketClosed);
    }

    fn release(&mut self) {
        if let Some(b) = self.bound.take() {
            if b.qid == 0 {
                info!(cntlid = b.ctrl.cntlid, subnqn = %b.ctrl.subnqn, "controller removed");
                self.target.remove_controller(&b.ctrl);
            } else {
                let mut st = b.ctrl.state();
                st.io_qids.remove(&b.qid);
                // Its operations still running keep their count listed (`io_quiet`).
                if b.io.as_ref().is_some_and(|(ops, _)| !ops.running()) {
                    st.io_ops.remove(&b.qid);
                }
                drop(st);
                // As a queue's Connect: its end restarts the Keep Alive timer (nvmet's
                // `reset_tbkas` on queue destroy), if the queue was the host's.
                self.note_host_traffic(&b.ctrl);
            }
        }
    }

    fn close(&mut self, reason: CloseReason) {
        if self.closed.is_none() {
            debug!(?reason, "closing connection");
            self.closed = Some(reason);
            // Nothing runs for the host any more, but a change its commands already made
            // in memory, which others may have seen in force, is saved all the same
            // (NVMe Base 2.0 §8.19 PTPL, §8.12 Write Protect outlive a restart): memory
            // and the saved state must not disagree after one. A Preempt and Abort's
            // save need not wait for the preempted writes: nobody hears of its end.
            self.io.retain(|r| r.saves);
            // Data asked for will not be taken any more: the target-wide budget gets
            // back all this queue took, whatever its commands' state.
            self.r2t_waiting.clear();
            self.cfg.write_budget.give_back(std::mem::take(&mut self.r2t_pooled));
            for f in std::mem::take(&mut self.fencing) {
                if let Some((op, volume, post)) = f.then {
                    self.start_io(f.cid, op, volume, post, None);
                }
            }
            self.release();
        }
    }

    fn fatal(&mut self, f: FatalError) {
        warn!(error = %f, "fatal transport error: sending C2HTermReq");
        self.target.stats.terminated.fetch_add(1, Ordering::Relaxed);
        let t = Pdu::C2HTermReq(f.to_term_req());
        // A termination request is never digested and at most 152 bytes.
        let _ = t.encode(&Framing::PLAIN, &mut self.out);
        self.close(CloseReason::Fatal(f));
    }

    /// A fatal error found in the PDU just decoded: its termination request carries the
    /// PDU's header (NVMe/TCP 1.0 §3.6.2.5), as the decoder's own errors do.
    fn fatal_in_pdu(&mut self, f: FatalError) {
        let f = f.with_header(self.dec.last_header());
        self.fatal(f);
    }

    fn on_pdu(&mut self, pdu: Pdu, now: Instant) {
        match pdu {
            Pdu::IcReq(r) => self.on_icreq(r),
            Pdu::H2CTermReq(t) => {
                info!(fes = t.fes, fei = t.fei, "host terminated the connection");
                self.close(CloseReason::HostTerminated);
            }
            Pdu::CapsuleCmd(c) => self.on_capsule(c, now),
            Pdu::H2CData(d) => self.on_h2c_data(d, false, now),
            // The decoder only hands us host-to-controller PDUs.
            Pdu::IcResp(_)
            | Pdu::C2HTermReq(_)
            | Pdu::CapsuleResp(_)
            | Pdu::C2HData(_)
            | Pdu::R2t(_) => {
                self.fatal_in_pdu(FatalError::invalid_field(0, "unexpected PDU type"));
            }
        }
    }

    fn on_icreq(&mut self, r: IcReq) {
        // NVMe/TCP 1.0 §3.6.2.2/3: digests as requested; refuse (Unsupported
        // Parameter at DGST) what the listener does not allow.
        if (r.hdgst && !self.cfg.allow_hdgst) || (r.ddgst && !self.cfg.allow_ddgst) {
            self.fatal_in_pdu(FatalError::new(
                Fes::UnsupportedParameter,
                IcReq::OFFSET_DGST,
                "digest not allowed on this listener",
            ));
            return;
        }
        let resp = IcResp {
            pfv: 0,
            cpda: 0,
            hdgst: r.hdgst,
            ddgst: r.ddgst,
            maxh2cdata: self.cfg.maxh2cdata,
        };
        dpu_nvmf_proto::encode_ic_resp(&resp, &mut self.out);
        self.dec.set_digests(r.hdgst, r.ddgst);
        self.framing = Framing { hdgst: r.hdgst, ddgst: r.ddgst, pda: r.hpda };
    }

    fn queue_depth(&self) -> usize {
        self.bound.as_ref().map_or(identify::ADMIN_MQES as usize + 1, |b| b.sqsize as usize + 1)
    }

    /// Counts a command taken off the SQ into the SQ head completions report (wrapping at
    /// the queue size); with SQ flow control disabled they report none, so nothing counts.
    fn advance_sqhd(&mut self) {
        if self.bound.as_ref().is_some_and(|b| b.sqflow_disabled) {
            return;
        }
        let depth = self.queue_depth();
        self.sqhd = ((usize::from(self.sqhd) + 1) % depth) as u16;
    }

    /// Whether a command holds `cid`: one in the table, waiting for its rate limit or
    /// for preempted writes, or an outstanding AER. A new command with it is a Command ID
    /// Conflict, as from Linux's nvmet.
    fn cid_in_use(&self, cid: u16) -> bool {
        self.cmds.contains(cid)
            || self.throttled.iter().any(|t| t.sqe.cid == cid)
            || self.r2t_waiting.iter().any(|w| w.sqe.cid == cid)
            || self.aers.contains(&cid)
            || self.fencing.iter().any(|f| f.cid == cid)
    }

    fn on_capsule(&mut self, c: CapsuleCmd, now: Instant) {
        let CapsuleCmd { sqe, data } = c;
        let cid = sqe.cid;
        if let Some(b) = &self.bound {
            b.stats.submitted();
            // Traffic Based Keep Alive (NVMe Base 2.0 §3.9.4): any command restarts the
            // timer, which the admin queue keeps; an I/O queue tells it once per received
            // batch (`process_received`).
            if b.qid == 0 {
                self.last_keep_alive = now;
            }
        }
        self.advance_sqhd();
        if self.cid_in_use(cid) {
            self.send_failure_of(&sqe, &data, fail(cid, Status::COMMAND_ID_CONFLICT));
            return;
        }
        // Outstanding commands + AERs may not exceed the queue size (SQ flow control).
        let waiting = self.throttled.len() + self.r2t_waiting.len() + self.fencing.len();
        if self.cmds.len() + self.aers.len() + waiting >= self.queue_depth() {
            self.fatal_in_pdu(FatalError::new(
                Fes::PduSequenceError,
                0,
                "more outstanding commands than the queue holds",
            ));
            return;
        }
        // Fused operations are not supported (Identify FUSES 0), so a fused Compare's
        // failure could not stop its Write: refuse both, as Linux's nvmet does; and over
        // fabrics PSDT is 01b, SGLs with a contiguous metadata buffer (NVMe-oF 1.1 §2.2).
        if sqe.fuse != Fuse::Normal || sqe.psdt != Psdt::SglContiguousMetadata {
            self.send_failure_of(&sqe, &data, fail(cid, Status::INVALID_FIELD));
            return;
        }
        // Before any data moves or a rate limit is charged.
        if !sqe.is_fabrics() && self.auth_pending() {
            self.send_failure_of(&sqe, &data, fail(cid, Status::AUTH_REQUIRED));
            return;
        }
        // A command this controller runs (an admin or Fabrics one moving exactly the
        // data its fields say): before any data moves or the SGL is looked at.
        let checked = self.transfer_len(&sqe).and_then(|len| match len {
            Some(len) => check_transfer_len(&sqe, len),
            None => Ok(()),
        });
        if let Err(s) = checked {
            self.send_failure_of(&sqe, &data, fail(cid, s));
            return;
        }
        let dir = sqe.data_direction();
        let sgl = sqe.sgl();
        // A zero-length descriptor of any type moves no data (Linux sends a
        // Transport SGL of length 0 for commands without data).
        let no_data = sgl.length() == 0 && data.is_empty();
        match (dir, sgl) {
            // Data, or a descriptor for some, with a command that moves none: the
            // lengths disagree (as Linux's nvmet checks every transfer length).
            (DataDirection::None, _) if !no_data => {
                self.send_failure_of(&sqe, &data, fail(cid, Status::DATA_SGL_LENGTH_INVALID));
                return;
            }
            (DataDirection::None, _) => {}
            _ if no_data => {}
            (DataDirection::HostToController, SglDescriptor::InCapsule { offset, length }) => {
                if offset != 0 {
                    self.send_failure_of(&sqe, &data, fail(cid, Status::SGL_OFFSET_INVALID));
                    return;
                }
                if length as usize != data.len() {
                    self.send_failure_of(&sqe, &data, fail(cid, Status::DATA_SGL_LENGTH_INVALID));
                    return;
                }
            }
            (DataDirection::HostToController, SglDescriptor::Transport { length }) => {
                if !data.is_empty() {
                    self.send_failure_of(&sqe, &data, fail(cid, Status::DATA_SGL_LENGTH_INVALID));
                    return;
                }
                if length > 0 {
                    // Beyond MDTS: Invalid Field in Command (NVMe Base 2.0 §5.17.2.1, MDTS),
                    // as a Read of that size gets.
                    if length > identify::MAX_TRANSFER {
                        self.send_failure_of(&sqe, &data, fail(cid, Status::INVALID_FIELD));
                        return;
                    }
                    if let Err(s) = self.precheck(&sqe, length) {
                        // Unless the check closed the queue (its controller ended).
                        if self.closed.is_none() {
                            self.send_failure_of(&sqe, &data, fail(cid, s));
                        }
                        return;
                    }
                    self.request_data(sqe, length, now);
                    return;
                }
            }
            (DataDirection::ControllerToHost, SglDescriptor::Transport { length }) => {
                // In-capsule data with a command whose data flows to the host.
                if !data.is_empty() {
                    self.send_failure_of(&sqe, &data, fail(cid, Status::DATA_SGL_LENGTH_INVALID));
                    return;
                }
                // MDTS bounds every transfer, admin ones too (NVMe Base 2.0 §5.17.2.1):
                // a Get Log Page may not make the target build a megabyte of zeroes.
                if length > identify::MAX_TRANSFER {
                    self.send_failure_of(&sqe, &data, fail(cid, Status::INVALID_FIELD));
                    return;
                }
            }
            (DataDirection::Bidirectional, _) => {
                self.send_failure_of(&sqe, &data, fail(cid, Status::INVALID_FIELD));
                return;
            }
            _ => {
                self.send_failure_of(&sqe, &data, fail(cid, Status::SGL_DESCRIPTOR_TYPE_INVALID));
                return;
            }
        }
        self.execute(sqe, data, now);
    }

    /// Whether `event` (a `LOGGED_*` bit) is logged above debug level: the first time on
    /// this connection.
    fn first_time(&mut self, event: u8) -> bool {
        let first = self.logged & event == 0;
        self.logged |= event;
        first
    }

    fn on_digest_error(&mut self, pdu: Pdu, now: Instant) {
        // NVMe/TCP 1.0 §3.3.2.2: a data digest error fails the command with Transient
        // Transport Error; the connection stays up.
        let (cid, pdu_type) = match &pdu {
            Pdu::H2CData(d) => (d.header.cccid, "H2CData"),
            Pdu::CapsuleCmd(c) => (c.sqe.cid, "command capsule"),
            _ => (0, "PDU"),
        };
        if self.first_time(LOGGED_DIGEST_ERROR) {
            warn!(cid, pdu_type, "data digest error (further ones on this connection: debug)");
        } else {
            debug!(cid, pdu_type, "data digest error");
        }
        match pdu {
            Pdu::CapsuleCmd(c) => {
                self.advance_sqhd();
                if let Some(b) = &self.bound {
                    b.stats.submitted();
                }
                // A CID another command holds is answered as on_capsule answers it: a
                // completion under it would end that command for the host.
                let cqe = if self.cid_in_use(c.sqe.cid) {
                    fail(c.sqe.cid, Status::COMMAND_ID_CONFLICT)
                } else {
                    Cqe::new(c.sqe.cid, Status::TRANSIENT_TRANSPORT_ERROR)
                };
                // Data that failed its digest names no subsystem.
                self.send_failure_of(&c.sqe, &[], cqe);
            }
            Pdu::H2CData(d) => self.on_h2c_data(d, true, now),
            _ => {}
        }
    }

    /// The bytes an admin or Fabrics command moves, as Linux's nvmet requires them of
    /// each (`nvmet_check_transfer_len`): an Identify data structure (NVMe Base 2.0
    /// §5.17), NUMD dwords of a log page (§5.16), the 128-bit Host Identifier (§5.27.1.26)
    /// and nothing else for Get Features, none for Set Features (no feature here takes
    /// data), Keep Alive, Asynchronous Event Request, Abort, Property Get/Set and
    /// Disconnect, the Connect data (NVMe-oF 1.1 §3.3). `None`: checked elsewhere (the
    /// I/O commands an I/O queue runs, Authentication Send/Receive). A command this
    /// controller does not run is Invalid Opcode on any queue, whatever data it names
    /// and before any is asked for: nvmet parses the opcode (`nvmet_parse_io_cmd`,
    /// `nvmet_parse_admin_cmd`) before it maps the data (`nvmet_tcp_map_data`).
    fn transfer_len(&self, sqe: &Sqe) -> Result<Option<u64>, Status> {
        if sqe.is_fabrics() {
            return match sqe.fctype() {
                fctype::CONNECT => Ok(Some(CONNECT_DATA_LEN as u64)),
                fctype::PROPERTY_GET | fctype::PROPERTY_SET | fctype::DISCONNECT => Ok(Some(0)),
                fctype::AUTH_SEND | fctype::AUTH_RECV => Ok(None),
                _ => Err(Status::INVALID_OPCODE),
            };
        }
        let Some(b) = &self.bound else { return Ok(None) };
        if b.qid != 0 {
            return if identify::io_command_supported(sqe.opcode) {
                Ok(None)
            } else {
                Err(Status::INVALID_OPCODE)
            };
        }
        match sqe.opcode {
            admin_opcode::IDENTIFY => Ok(Some(identify::IDENTIFY_LEN as u64)),
            admin_opcode::GET_LOG_PAGE => Ok(Some(log_page_len(sqe))),
            // The identifier itself, but not its capabilities (SEL 011b: DW0 only).
            admin_opcode::GET_FEATURES
                if (sqe.cdw10() & 0xFF) as u8 == feature::HOST_IDENTIFIER
                    && !sel_capabilities(sqe) =>
            {
                Ok(Some(16))
            }
            admin_opcode::GET_FEATURES
            | admin_opcode::SET_FEATURES
            | admin_opcode::KEEP_ALIVE
            | admin_opcode::ASYNC_EVENT_REQUEST => Ok(Some(0)),
            // A discovery controller runs the others only (NVMe-oF 1.1 §5, as nvmet).
            admin_opcode::ABORT if !b.ctrl.discovery => Ok(Some(0)),
            _ => Err(Status::INVALID_OPCODE),
        }
    }

    /// Checks a command that carries `length` bytes of data by R2T before asking for
    /// the data, so a peer holds no more of the target's memory than a real command
    /// needs while it withholds the data.
    fn precheck(&mut self, sqe: &Sqe, length: u32) -> Result<(), Status> {
        let Some(b) = &self.bound else {
            // Before Connect: one Connect at a time (its 1024 bytes checked in
            // `on_capsule`).
            if !sqe.is_fabrics() || sqe.fctype() != fctype::CONNECT || self.cmds.len() != 0 {
                return Err(Status::COMMAND_SEQUENCE_ERROR);
            }
            return Ok(());
        };
        if b.qid == 0 || sqe.is_fabrics() {
            // Admin and Fabrics data (Authentication Send's) is at most what
            // NVMe/TCP has every queue take in capsule for such commands, 8 KiB (where
            // Linux sends it anyway).
            return if length <= identify::IN_CAPSULE_DATA {
                Ok(())
            } else {
                Err(Status::DATA_SGL_LENGTH_INVALID)
            };
        }
        self.io_enabled()?;
        match sqe.opcode {
            io_opcode::WRITE | io_opcode::COMPARE => {
                let checked = self.rw_range(sqe).map(|_| ());
                // Checked again when the data is here; nothing runs yet.
                self.fence = None;
                checked
            }
            io_opcode::DATASET_MANAGEMENT
            | io_opcode::RESERVATION_REGISTER
            | io_opcode::RESERVATION_ACQUIRE
            | io_opcode::RESERVATION_RELEASE => self.namespace(sqe.nsid).map(|_| ()),
            _ => Err(Status::INVALID_OPCODE),
        }
    }

    /// Runs a command whose data is all here, unless it is an I/O command its volume's
    /// rate limit holds back: that one waits in [`Connection::throttled`], behind the
    /// volume's earlier waiting commands, until [`Connection::tick`] lets it through.
    fn execute(&mut self, sqe: Sqe, data: Bytes, now: Instant) {
        if self.throttled.is_empty() && !crate::volume::any_rate_limited() {
            return self.run(sqe, data, now);
        }
        match self.throttle(&sqe, now) {
            Some((volume, bytes, retry)) => {
                // In-capsule data waits as a copy, not a view that would keep the whole
                // receive buffer alive for each waiting command.
                let data = queued_write_data(&data);
                self.throttled.push_back(Throttled { sqe, data, r2t: None, volume, bytes, retry });
            }
            None => self.run(sqe, data, now),
        }
    }

    /// The volume, data length and retry time of an I/O command that must wait.
    fn throttle(&mut self, sqe: &Sqe, now: Instant) -> Option<(Arc<Volume>, u64, Instant)> {
        let Some(b) = &self.bound else { return None };
        if b.qid == 0 || sqe.is_fabrics() {
            return None;
        }
        // A command without a namespace fails at once, in `run`; other checks come
        // when it runs.
        let ns = self.namespace(sqe.nsid).ok()?;
        let volume = ns.volume.clone();
        let bytes = match sqe.opcode {
            io_opcode::READ | io_opcode::WRITE | io_opcode::COMPARE => {
                u64::from(sqe.nlb()) * u64::from(volume.block_size())
            }
            _ => 0,
        };
        let waiting = self.throttled.iter().find(|t| Arc::ptr_eq(&t.volume, &volume));
        let retry = match waiting {
            Some(t) => t.retry,
            None => volume.admit(now, bytes).err()?,
        };
        ns.stats.throttled.fetch_add(1, Ordering::Relaxed);
        Some((volume, bytes, retry))
    }

    /// Runs the waiting commands whose volumes' limits let them through at `now`, in
    /// order per volume; none once one closed the queue (its controller ended).
    fn release_throttled(&mut self, now: Instant) {
        let mut waiting = std::mem::take(&mut self.throttled);
        let mut held: Vec<Arc<Volume>> = Vec::new();
        while self.closed.is_none()
            && let Some(mut t) = waiting.pop_front()
        {
            if !held.iter().any(|v| Arc::ptr_eq(v, &t.volume)) {
                match t.volume.admit(now, t.bytes) {
                    Ok(()) => {
                        match t.r2t {
                            Some(length) => self.grant_r2t(t.sqe, length, now),
                            None => self.run(t.sqe, t.data, now),
                        }
                        continue;
                    }
                    Err(retry) => {
                        t.retry = retry;
                        held.push(t.volume.clone());
                    }
                }
            }
            self.throttled.push_back(t);
        }
    }

    /// When the first waiting command may go: the shell calls [`Connection::tick`] then.
    pub fn next_release(&self) -> Option<Instant> {
        self.throttled.iter().map(|t| t.retry).min()
    }

    fn run(&mut self, sqe: Sqe, data: Bytes, now: Instant) {
        let cid = sqe.cid;
        let mut admin = false;
        let outcome = if sqe.is_fabrics() {
            let outcome = self.fabrics(&sqe, &data, now);
            if let Outcome::Done(cqe) = &outcome
                && !cqe.status.is_success()
            {
                self.count_if_connect(&sqe, &data);
            }
            outcome
        } else {
            match &self.bound {
                None => Outcome::Done(fail(cid, Status::COMMAND_SEQUENCE_ERROR)),
                // Admission checked it, but a command may run later (its data came by
                // R2T, a rate limit held it): a queue whose re-authentication failed
                // meanwhile runs nothing more, answered as admission answers.
                Some(_) if self.auth_pending() => Outcome::Done(fail(cid, Status::AUTH_REQUIRED)),
                Some(b) if b.qid == 0 => {
                    admin = true;
                    self.admin(&sqe, now)
                }
                Some(_) => self.io_cmd(&sqe, data),
            }
        };
        // Notices waiting go out after an admin command's answer, not at the next tick:
        // one the command raised (a temperature threshold crossed) now if it is done,
        // else once its volume operation ended (`finish_io`).
        let deliver = admin && matches!(outcome, Outcome::Done(_));
        match outcome {
            Outcome::Done(cqe) if !cqe.status.is_success() => self.send_failure(&sqe, cqe),
            Outcome::Done(cqe) => self.send_cqe(cqe),
            Outcome::Data(_, cqe) if !cqe.status.is_success() => self.send_failure(&sqe, cqe),
            Outcome::Data(data, cqe) => {
                let want = sqe.sgl().length() as usize;
                if want == 0 {
                    self.send_cqe(cqe);
                } else {
                    let mut data = data;
                    data.truncate(want);
                    self.send_data(cid, data, cqe);
                }
            }
            Outcome::Io(op, volume, post) => {
                let fence = self.fence.take();
                self.start_io(cid, op, volume, post, fence);
            }
            Outcome::Pending => {}
        }
        // A check whose command did not reach the volume holds no place.
        self.fence = None;
        if deliver {
            // As nvmet's event work runs at once: the host's next command may read the
            // log and take the notice (Linux's hwmon reads SMART right after it sets a
            // threshold), and any other waiting one goes out as soon as the host talks.
            self.deliver_events();
        }
    }

    /// Hands a volume operation to the shell; the command completes with it.
    fn start_io(
        &mut self,
        cid: u16,
        op: IoOp,
        volume: Arc<Volume>,
        post: Post,
        fence: Option<WriteTicket>,
    ) {
        let tag = io_tag(self.next_io, cid);
        self.next_io += 1;
        if let Post::Read { len, .. } = &post {
            self.reads_held += len;
        }
        let saves = post.saves_state();
        let running = Some(self.op_guard(post.ns()));
        self.cmds.insert(cid, Cmd::AwaitIo { tag, post });
        self.io.push_back(IoRequest { tag, volume, op, fence, saves, running });
    }

    /// A place among this queue's operations on `ns` (and an I/O queue's own), whose count
    /// is made and listed in the namespace at the queue's first operation there (again
    /// after the namespace epoch moved).
    fn op_guard(&mut self, ns: &Arc<Namespace>) -> OpGuard {
        if let Some(ops) = self.ns_cache.ops.iter().find(|o| o.is_on(ns)) {
            return OpGuard::new(ops);
        }
        let queue = self.bound.as_ref().and_then(|b| b.io.as_ref()).map(|(ops, _)| ops.clone());
        let ctrl = self.bound.as_ref().map(|b| b.ctrl.clone());
        let ops = QueueOps::on_namespace(ns, queue, ctrl);
        if self.ns_cache.ops.len() >= COUNTS_CACHE_LEN {
            self.ns_cache.ops.clear();
        }
        let guard = OpGuard::new(&ops);
        self.ns_cache.ops.push(ops);
        guard
    }

    /// Completes the Preempt and Abort commands whose preempted hosts have no writes in
    /// flight any more (or that waited [`FENCE_DEADLINE`]).
    fn release_fencing(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.fencing.len() {
            let f = &mut self.fencing[i];
            let late = now >= *f.deadline.get_or_insert(now + FENCE_DEADLINE);
            if writing(&f.ns, &f.hosts) && !late {
                i += 1;
                continue;
            }
            let f = self.fencing.swap_remove(i);
            if late {
                warn!(
                    nsid = f.ns.nsid,
                    "preempted hosts' writes still running after {FENCE_DEADLINE:?}; completing the acquire"
                );
            }
            match f.then {
                Some((op, volume, post)) => self.start_io(f.cid, op, volume, post, None),
                None => self.send_cqe(ok(f.cid)),
            }
        }
    }

    // ---- Sending ----

    /// Sends a successful completion (a failed one goes through
    /// [`send_failure`](Self::send_failure), which logs it).
    fn send_cqe(&mut self, mut cqe: Cqe) {
        // With SQ flow control disabled the host reads no SQ head: the field keeps what
        // the completion was made with (FFFFh for the Connect, else 0), as nvmet leaves it.
        let reports_sqhd = match &self.bound {
            Some(b) => {
                cqe.sqid = b.qid;
                b.stats.completed(cqe.status.is_success());
                !b.sqflow_disabled
            }
            None => true,
        };
        if reports_sqhd {
            cqe.sqhd = self.sqhd;
        }
        encode_capsule_resp(&cqe, &self.framing, &mut self.out);
    }

    /// As [`send_failure`](Self::send_failure), for a command refused before it ran,
    /// whose data (as far as it is here and can be trusted) is `data`: a Connect counts
    /// as refused ([`count_if_connect`](Self::count_if_connect)).
    fn send_failure_of(&mut self, sqe: &Sqe, data: &[u8], cqe: Cqe) {
        self.count_if_connect(sqe, data);
        self.send_failure(sqe, cqe);
    }

    /// Counts `sqe`, if it is a Fabrics Connect, as a refused Connect (docs/api.md):
    /// target-wide, and against the subsystem `data` names when that parses. Every
    /// refusal of one comes here, wherever it is found (at admission, when it runs).
    fn count_if_connect(&self, sqe: &Sqe, data: &[u8]) {
        if sqe.is_fabrics() && sqe.fctype() == fctype::CONNECT {
            let named = ConnectData::parse(data).ok();
            self.target.connect_refused(named.as_ref().map(|d| d.subnqn.as_str()));
        }
    }

    /// Sends the failed completion of `sqe`, recorded in the controller's error log and,
    /// on an I/O queue, counted against the namespace it names, if the host sees that one
    /// (see [`send_failure_at`](Self::send_failure_at)).
    fn send_failure(&mut self, sqe: &Sqe, cqe: Cqe) {
        let io = self.bound.as_ref().is_some_and(|b| b.qid != 0);
        let ns = if io && !sqe.is_fabrics() && !self.auth_pending() {
            self.namespace(sqe.nsid).ok()
        } else {
            None
        };
        self.send_failure_at(cqe, ErrorSite::of(sqe, cqe.status, io), ns.as_deref());
    }

    /// Sends a failed completion, recorded in the controller's error log at `site`
    /// (NVMe Base 2.0 §5.16.1.2) and counted in the errors of `ns`, the command's
    /// namespace: the one place both happen, so no refusal escapes them, wherever it is
    /// found (at admission, before an R2T, when the command or its volume operation
    /// runs). Before the queue is bound there is no controller and nothing is recorded;
    /// nor while the queue is not authenticated: anyone who knows the NQNs, Host ID and
    /// CNTLID may connect one to a live controller, and must not push its host's entries
    /// out of the log or raise its SMART error count. The More bit stays clear, so the
    /// status a host sees is the same with or without the log.
    fn send_failure_at(&mut self, cqe: Cqe, site: ErrorSite, ns: Option<&Namespace>) {
        if !self.auth_pending() {
            if let Some(ns) = ns {
                ns.stats.errors.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(b) = &self.bound {
                let entry = ErrorEntry { sqid: b.qid, cid: cqe.cid, status: cqe.status, site };
                b.ctrl.errors().record(entry);
            }
        }
        self.send_cqe(cqe);
    }

    /// Sends `data` in C2HData PDUs, then the completion unless the SUCCESS flag may
    /// replace it (NVMe/TCP 1.0 §3.6.2.9: only with SQ flow control disabled, since
    /// the host then needs no SQHD).
    fn send_data(&mut self, cid: u16, data: Vec<u8>, cqe: Cqe) {
        if data.is_empty() {
            self.send_cqe(cqe);
            return;
        }
        let success_flag =
            cqe.status.is_success() && self.bound.as_ref().is_some_and(|b| b.sqflow_disabled);
        let len = data.len();
        if len <= COPY_BELOW {
            // One PDU, its data copied into the output: the buffer serves the next read.
            let h =
                DataPduHeader { cccid: cid, ttag: 0, datao: 0, last: true, success: success_flag };
            if let Err(e) =
                encode_data_pdu_prefix(PduType::C2HData, &h, len, &self.framing, &mut self.out)
            {
                warn!(error = %e, "cannot encode C2HData");
                return;
            }
            self.out.extend_from_slice(&data);
            encode_data_pdu_suffix(&data, &self.framing, &mut self.out);
            self.finish_data(success_flag, cqe);
            return;
        }
        let data = Arc::new(data);
        let chunk = self.cfg.max_c2h_data.max(4);
        let n = len.div_ceil(chunk);
        for i in 0..n {
            let (start, end) = (i * chunk, ((i + 1) * chunk).min(len));
            let last = i + 1 == n;
            let h = DataPduHeader {
                cccid: cid,
                ttag: 0,
                datao: start as u32,
                last,
                success: last && success_flag,
            };
            // Header (and digest, padding) assembled; the data itself is not copied.
            if let Err(e) = encode_data_pdu_prefix(
                PduType::C2HData,
                &h,
                end - start,
                &self.framing,
                &mut self.out,
            ) {
                warn!(error = %e, "cannot encode C2HData");
                return;
            }
            if end - start <= COPY_BELOW {
                self.out.extend_from_slice(&data[start..end]);
            } else {
                self.segments.push(Segment::Owned(std::mem::take(&mut self.out)));
                self.segments.push(Segment::Shared(data.clone(), start..end));
            }
            encode_data_pdu_suffix(&data[start..end], &self.framing, &mut self.out);
        }
        self.finish_data(success_flag, cqe);
    }

    /// After a read's data: its completion, unless the last data PDU carried SUCCESS.
    fn finish_data(&mut self, success_flag: bool, cqe: Cqe) {
        if success_flag {
            self.tally.success_flags += 1;
            if let Some(b) = &self.bound {
                b.stats.completed(true);
            }
        } else {
            self.send_cqe(cqe);
        }
    }
}

/// The data a command moves must be the `len` bytes its fields say: Data SGL Length
/// Invalid otherwise, as Linux's nvmet checks every transfer (a host's buffer of another
/// size means the host and the target disagree about the command).
fn check_transfer_len(sqe: &Sqe, len: u64) -> Result<(), Status> {
    if u64::from(sqe.sgl().length()) == len { Ok(()) } else { Err(Status::DATA_SGL_LENGTH_INVALID) }
}

/// Saves the state of the `changed` namespaces (`NamespaceStore::save_change`) on the
/// shell's saves' lane before the command completes, putting the changes back should that fail; `None` when
/// there are none.
fn save_namespaces(
    store: Arc<NamespaceStore>,
    changed: Vec<ReservationUndo>,
    opcode: u8,
) -> Option<Outcome> {
    let first = changed.first()?.ns.clone();
    let volume = first.volume.clone();
    // The changes are made: numbered now, a save that starts later holds them.
    let namespaces = changed.iter().map(|u| (u.ns.clone(), u.ns.saves.change())).collect();
    let op = IoOp::SaveNamespaces { store, namespaces };
    Some(Outcome::Io(op, volume, Post::Persist { ns: first, opcode, undo: changed }))
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.tally.flush(&self.target);
        self.shutdown();
    }
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
