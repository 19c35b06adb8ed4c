//! Fabrics commands of a [`Connection`] (NVMe-oF 1.1 §3): Connect, which binds the queue
//! to a controller ([`Connection::bind`] runs from here alone), Property Get/Set (CC and
//! the CSTS it gives, [`next_csts`]), Disconnect, and in-band authentication
//! (Authentication Send/Receive; until it succeeds, every other command but Disconnect
//! fails, [`Connection::auth_pending`]).
//!
//! Apart from the admin and I/O commands because these run on any queue, before its
//! Connect too, and decide what it is bound to and whether it may run anything else.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use dpu_nvmf_proto::auth::AuthTransfer;
use dpu_nvmf_proto::cqe::Status;
use dpu_nvmf_proto::fabrics::{
    CNTLID_DYNAMIC, CONNECT_AUTHREQ_ATR, ConnectCmd, ConnectData, DISCOVERY_NQN, property,
};
use dpu_nvmf_proto::sqe::admin_opcode;
use dpu_nvmf_proto::{Cqe, FabricsCommand, Sqe};
use tracing::{debug, info, warn};

use crate::auth::{AuthEvent, AuthSession, Progress};
use crate::error_log::{self, ErrorSite};
use crate::features::VOLATILE_WRITE_CACHE_DEFAULT;
use crate::identify;
use crate::stats::QueueInfo;
use crate::target::{ConnectRefusal, Controller, ControllerMismatch, ControllerState, Drain};

use super::{
    Bound, CloseReason, Cmd, Connection, DhRequest, IoOp, IoRequest, LOGGED_CONNECT_REFUSED,
    OpGuard, Outcome, QueueOps, connected, fail, io_tag, ok,
};

impl Connection {
    pub(super) fn fabrics(&mut self, sqe: &Sqe, data: &[u8], now: Instant) -> Outcome {
        let cid = sqe.cid;
        let cmd = match FabricsCommand::parse(sqe) {
            Ok(c) => c,
            Err(_) => return Outcome::Done(fail(cid, Status::INVALID_FIELD)),
        };
        match cmd {
            FabricsCommand::Connect(c) => Outcome::Done(self.connect(sqe, &c, data, now)),
            _ if self.bound.is_none() => Outcome::Done(fail(cid, Status::COMMAND_SEQUENCE_ERROR)),
            FabricsCommand::AuthSend(t) => self.auth_send(cid, &t, data),
            FabricsCommand::AuthRecv(t) => self.auth_receive(sqe, &t),
            c if self.auth_pending() && !matches!(c, FabricsCommand::Disconnect { .. }) => {
                Outcome::Done(fail(cid, Status::AUTH_REQUIRED))
            }
            // Properties belong to the admin queue: on an I/O queue Invalid Opcode, as
            // Linux's nvmet answers.
            FabricsCommand::PropertyGet(p) => {
                let Some(b) = self.bound.as_ref().filter(|b| b.qid == 0) else {
                    return Outcome::Done(fail(cid, Status::INVALID_OPCODE));
                };
                let ctrl = b.ctrl.clone();
                // Each property is read at its size (NVMe-oF 1.1 §3.4.1): CAP 8 bytes,
                // the others 4.
                let v = match (p.offset, p.eight_bytes) {
                    (property::CAP, true) => identify::cap(),
                    (property::VS, false) => u64::from(identify::VERSION),
                    (property::CC, false) => u64::from(ctrl.state().cc),
                    (property::CSTS, false) => u64::from(self.csts_now(&ctrl, now)),
                    _ => return Outcome::Done(fail(cid, Status::INVALID_FIELD)),
                };
                let mut cqe = ok(cid);
                cqe.set_result64(v);
                Outcome::Done(cqe)
            }
            FabricsCommand::PropertySet(p) => {
                let Some(b) = self.bound.as_ref().filter(|b| b.qid == 0) else {
                    return Outcome::Done(fail(cid, Status::INVALID_OPCODE));
                };
                if p.offset != property::CC || p.eight_bytes {
                    return Outcome::Done(fail(cid, Status::INVALID_FIELD));
                }
                let cc = p.value as u32;
                let mut st = b.ctrl.state();
                // A controller torn down (its host revoked, its subsystem removed) is not
                // enabled again in the moment before its queues close.
                if st.dead {
                    return Outcome::Done(fail(cid, Status::COMMAND_SEQUENCE_ERROR));
                }
                let was_enabled = st.cc & 1 != 0;
                let shown = shown_csts(&b.ctrl, &mut st, now);
                st.csts = next_csts(st.cc, st.csts, cc, b.ctrl.discovery);
                let shutdown = field(cc, 14, 2) != 0 && field(st.cc, 14, 2) == 0;
                if was_enabled && cc & 1 == 0 {
                    debug!(cntlid = b.ctrl.cntlid, "controller disabled (reset)");
                    // A reset ends the outstanding AERs (NVMe Base 2.0 §3.7.2): the host
                    // expects no completion for them and may use their CIDs. They count
                    // as completed, else the queue's in-flight count would keep them for
                    // as long as it lives. I/O in flight is not ended but waited for
                    // (`quiesce`).
                    for _ in self.aers.drain(..) {
                        b.stats.completed(true);
                    }
                    // Features (AEC and its notices too) do not outlive a reset; the
                    // discovery notice's mask is this queue's own.
                    st.reset_features();
                    b.ctrl.wce.store(VOLATILE_WRITE_CACHE_DEFAULT, Ordering::Relaxed);
                    self.disc_masked = false;
                }
                if (was_enabled && cc & 1 == 0) || shutdown {
                    quiesce(&b.ctrl, &mut st, shown, shutdown, now);
                }
                st.cc = cc;
                st.enabled_once |= cc & 1 != 0;
                b.ctrl
                    .io_enabled
                    .store(st.csts == csts::RDY && st.drain.is_none(), Ordering::Relaxed);
                drop(st);
                if shutdown {
                    // With no I/O to wait for, the flushes start now.
                    let ctrl = b.ctrl.clone();
                    self.csts_now(&ctrl, now);
                }
                Outcome::Done(ok(cid))
            }
            // NVMe-oF 1.1 §3.5: Disconnect deletes an I/O queue; on the admin queue it is
            // Invalid Queue Type and the queue stays (the host ends the association by
            // closing it). RECFMT 0 is the only format.
            FabricsCommand::Disconnect { .. }
                if self.bound.as_ref().is_some_and(|b| b.qid == 0) =>
            {
                Outcome::Done(fail(cid, Status::INVALID_QUEUE_TYPE))
            }
            FabricsCommand::Disconnect { recfmt } if recfmt != 0 => {
                Outcome::Done(fail(cid, Status::CONNECT_INCOMPATIBLE_FORMAT))
            }
            FabricsCommand::Disconnect { .. } => {
                self.send_cqe(ok(cid));
                self.close(CloseReason::Disconnect);
                Outcome::Pending
            }
            FabricsCommand::Other(_) => Outcome::Done(fail(cid, Status::INVALID_OPCODE)),
        }
    }

    /// Whether this queue must still authenticate.
    pub(super) fn auth_pending(&self) -> bool {
        self.auth.as_ref().is_some_and(|a| !a.authenticated())
    }

    /// Starts in-band authentication on a queue of a host that has a secret, and sets
    /// AUTHREQ ATR in its Connect response.
    fn require_auth(&mut self, ctrl: &Controller, cqe: &mut Cqe) {
        if let Some(secrets) = self.target.host_secrets(&ctrl.subnqn, &ctrl.hostnqn) {
            self.auth = Some(AuthSession::new(secrets, &ctrl.hostnqn, &ctrl.subnqn));
            cqe.dw0 |= CONNECT_AUTHREQ_ATR;
        }
    }

    /// Authentication Send (NVMe Base 2.2 §6.2): one message of the host's.
    fn auth_send(&mut self, cid: u16, t: &AuthTransfer, data: &[u8]) -> Outcome {
        let Some(a) = self.auth.as_mut() else {
            // The host has no secret here: nothing to authenticate.
            return Outcome::Done(fail(cid, Status::INVALID_OPCODE));
        };
        let (target, bound) = (&self.target, &self.bound);
        let current = || {
            let b = bound.as_ref()?;
            target.host_secrets(&b.ctrl.subnqn, &b.ctrl.hostnqn)
        };
        let progress = a.send(t, data, current);
        self.auth_progress(cid, None, progress);
        Outcome::Pending
    }

    /// Authentication Receive (§6.1): the controller's next message.
    fn auth_receive(&mut self, sqe: &Sqe, t: &AuthTransfer) -> Outcome {
        let cid = sqe.cid;
        let Some(a) = self.auth.as_mut() else {
            return Outcome::Done(fail(cid, Status::INVALID_OPCODE));
        };
        let transfer = sqe.sgl().length();
        let progress = a.receive(t, transfer);
        self.auth_progress(cid, Some(transfer as usize), progress);
        Outcome::Pending
    }

    /// Answers an Authentication Send (`receive` is `None`) or Receive (of at most
    /// `receive` bytes), or parks it until its DH computation is done. A failed
    /// transaction closes the connection after the answer.
    pub(super) fn auth_progress(
        &mut self,
        cid: u16,
        receive: Option<usize>,
        p: Result<Progress, Status>,
    ) {
        let (mut data, event) = match p {
            Err(s) => {
                // Authentication Send or Receive: Fabrics commands on either queue.
                let site = ErrorSite {
                    opcode: admin_opcode::FABRICS,
                    nsid: 0,
                    lba: 0,
                    location: error_log::NO_LOCATION,
                };
                return self.send_failure_at(fail(cid, s), site, None);
            }
            Ok(Progress::Compute(job)) => {
                let tag = io_tag(self.next_io, cid);
                self.next_io += 1;
                self.cmds.insert(cid, Cmd::Computing { tag, receive });
                self.dh = Some(DhRequest { tag, job });
                return;
            }
            Ok(Progress::Answer(data, event)) => (data, event),
        };
        match receive {
            Some(want) if want > 0 => {
                data.truncate(want);
                self.send_data(cid, data, ok(cid));
            }
            _ => self.send_cqe(ok(cid)),
        }
        match event {
            AuthEvent::Failed => self.auth_failed(),
            e => self.auth_event(e),
        }
    }

    fn auth_event(&mut self, e: AuthEvent) {
        if e == AuthEvent::Authenticated
            && let Some(b) = &self.bound
        {
            if b.qid == 0 {
                b.ctrl.authenticated();
            } else {
                // The host's own I/O queue is set up: activity, as its Connect would be.
                b.ctrl.note_traffic();
            }
            info!(cntlid = b.ctrl.cntlid, qid = b.qid, hostnqn = ?b.ctrl.hostnqn,
                "queue authenticated (DH-HMAC-CHAP)");
        }
    }

    /// A failed transaction: the answer is queued, the connection closes after it (an
    /// admin queue's controller goes with it).
    fn auth_failed(&mut self) {
        if let Some(b) = &self.bound {
            warn!(cntlid = b.ctrl.cntlid, qid = b.qid, hostnqn = ?b.ctrl.hostnqn,
                "authentication failed: closing the queue");
        }
        self.target.stats.auth_failures.fetch_add(1, Ordering::Relaxed);
        self.close(CloseReason::AuthFailed);
    }

    /// Runs a Connect; a refusal is counted by `run`
    /// ([`count_if_connect`](Connection::count_if_connect)), outside every lock taken here
    /// (the registry lock comes before a controller's).
    fn connect(&mut self, sqe: &Sqe, c: &ConnectCmd, data: &[u8], now: Instant) -> Cqe {
        let cid = sqe.cid;
        if self.bound.is_some() {
            return fail(cid, Status::COMMAND_SEQUENCE_ERROR);
        }
        if c.recfmt != 0 {
            return fail(cid, Status::CONNECT_INCOMPATIBLE_FORMAT);
        }
        let d = match ConnectData::parse(data) {
            Ok(d) => d,
            Err(dpu_nvmf_proto::ParseError::InvalidField { offset, .. }) => {
                return Cqe::connect_invalid_param(cid, true, offset as u16);
            }
            Err(_) => {
                return fail(cid, Status::DATA_SGL_LENGTH_INVALID);
            }
        };
        let max_sq = if c.qid == 0 { identify::ADMIN_MQES } else { identify::MQES };
        if c.sqsize == 0 || c.sqsize > max_sq {
            return Cqe::connect_invalid_param(cid, false, ConnectCmd::OFFSET_SQSIZE);
        }
        let sqflow_disabled = c.cattr & 0b100 != 0;
        // What the listener serves now, not when it accepted the connection: a Sync may
        // have bound it anew since, made discovery-only or with another port ID, and the
        // one it let go may be another listener's by now.
        let role = self.cfg.listener.role();
        if let Some(r) = role {
            (self.cfg.discovery_only, self.cfg.port_id) = (r.discovery_only, r.port_id);
        }
        if self.cfg.discovery_only && d.subnqn != DISCOVERY_NQN {
            // As an unknown subsystem: none is reachable through this listener.
            return Cqe::connect_invalid_param(cid, true, ConnectData::OFFSET_SUBNQN);
        }
        if c.qid == 0 {
            if d.cntlid != CNTLID_DYNAMIC {
                return Cqe::connect_invalid_param(cid, true, ConnectData::OFFSET_CNTLID);
            }
            let created = self.target.create_controller(
                &d.subnqn,
                &d.hostnqn,
                d.hostid,
                c.kato,
                self.cfg.port_id,
                self.cfg.peer_addr.map(|a| dpu_runtime::peer::address(a.ip())),
                now,
            );
            let ctrl = match created {
                // Bound anew while it was made: the Sync ends the controllers of the port
                // ID it let go after the listener's new role is in place, so it may have
                // looked before this one was registered. Without DNR: the host may try
                // again, and the listener's new role answers it.
                Ok(ctrl) if role.is_some() && self.cfg.listener.role() != role => {
                    self.target.remove_controller(&ctrl);
                    return Cqe::new(cid, Status::CONNECT_CONTROLLER_BUSY);
                }
                Ok(ctrl) => ctrl,
                Err(r) => {
                    // NQNs as the peer sent them, escaped (`?`).
                    if self.first_time(LOGGED_CONNECT_REFUSED) {
                        info!(subnqn = ?d.subnqn, hostnqn = ?d.hostnqn, refusal = ?r, "connect refused");
                    } else {
                        debug!(subnqn = ?d.subnqn, hostnqn = ?d.hostnqn, refusal = ?r, "connect refused");
                    }
                    return match r {
                        ConnectRefusal::UnknownSubsystem => {
                            Cqe::connect_invalid_param(cid, true, ConnectData::OFFSET_SUBNQN)
                        }
                        ConnectRefusal::HostNotAllowed => fail(cid, Status::CONNECT_INVALID_HOST),
                        // Without DNR: a full table clears by itself (`room_among`), and
                        // a Linux host (6.10 on, `nvmf_should_reconnect`) that meets DNR
                        // while reconnecting deletes the controller for good.
                        ConnectRefusal::Busy => Cqe::new(cid, Status::CONNECT_CONTROLLER_BUSY),
                    };
                }
            };
            info!(cntlid = ctrl.cntlid, subnqn = %d.subnqn, hostnqn = ?d.hostnqn,
                kato_ms = c.kato, "controller created");
            let mut cqe = connected(cid, ctrl.cntlid, sqflow_disabled);
            self.require_auth(&ctrl, &mut cqe);
            self.last_keep_alive = now;
            if ctrl.discovery {
                self.disc_told = self.build_discovery_log(&ctrl.hostnqn);
            }
            let stats = ctrl.stats.register(self.queue_info(&ctrl, 0, c.sqsize));
            self.bind(Bound { ctrl, qid: 0, sqsize: c.sqsize, sqflow_disabled, stats, io: None });
            cqe
        } else {
            let found = self.target.find_controller(&d.subnqn, d.cntlid, &d.hostnqn, &d.hostid);
            let ctrl = match found {
                // A controller is associated with one NVM subsystem port (NVMe Base 2.x),
                // its admin queue's: through another listener the controller named is not
                // there (else its I/O would follow this port's ANA states while its ANA
                // log and notices follow the other's).
                Ok(ctrl) if ctrl.port_id != self.cfg.port_id => {
                    return Cqe::connect_invalid_param(cid, true, ConnectData::OFFSET_CNTLID);
                }
                Ok(ctrl) => ctrl,
                Err(m) => {
                    // IPO names the Connect data field in error (NVMe-oF 1.1 §3.3).
                    let offset = match m {
                        ControllerMismatch::UnknownSubsystem => ConnectData::OFFSET_SUBNQN,
                        ControllerMismatch::NotThisHosts => ConnectData::OFFSET_CNTLID,
                    };
                    return Cqe::connect_invalid_param(cid, true, offset);
                }
            };
            let admitted = {
                let mut st = ctrl.state();
                let limit = if st.io_queues == 0 { ctrl.max_io_queues } else { st.io_queues };
                // Only while the controller runs I/O: enabled, not shut down, no reset or
                // shutdown waiting for the I/O before it.
                let draining = settle_drain(&ctrl, &mut st, now);
                if st.dead || st.csts != csts::RDY || draining {
                    Err(fail(cid, Status::COMMAND_SEQUENCE_ERROR))
                } else if c.qid > limit {
                    Err(Cqe::connect_invalid_param(cid, false, ConnectCmd::OFFSET_QID))
                } else if st.io_ops.get(&c.qid).is_some_and(|ops| ops.running())
                    || !st.io_qids.insert(c.qid)
                {
                    // The queue exists, or its operations still run after it closed: as
                    // nvmet's `nvmet_install_queue`, whose queue stays until
                    // `nvmet_sq_destroy` waited for its commands.
                    Err(fail(cid, Status::COMMAND_SEQUENCE_ERROR))
                } else {
                    let ops = Arc::<QueueOps>::default();
                    st.io_ops.insert(c.qid, ops.clone());
                    Ok((ops, st.io_epoch))
                }
            };
            let io = match admitted {
                Ok(io) => io,
                Err(cqe) => return cqe,
            };
            let (cntlid, qid, sqsize) = (ctrl.cntlid, c.qid, c.sqsize);
            debug!(cntlid, qid, sqsize, sqflow_disabled, "I/O queue connected");
            let stats = ctrl.stats.register(self.queue_info(&ctrl, c.qid, c.sqsize));
            let mut cqe = connected(cid, cntlid, sqflow_disabled);
            self.require_auth(&ctrl, &mut cqe);
            // Setting up queues is activity: a host may send no Keep Alive until all are
            // up (nvmet's `reset_tbkas` on queue install). A queue that must authenticate
            // counts once it has (`auth_event`).
            self.note_host_traffic(&ctrl);
            self.bind(Bound { ctrl, qid, sqsize, sqflow_disabled, stats, io: Some(io) });
            cqe
        }
    }

    /// Binds the queue to its controller after a successful Connect, and lets the
    /// decoder take H2CData PDUs of the size this queue's commands ask for: MAXH2CDATA
    /// on an I/O queue, the admin and Fabrics limit of `precheck` on the admin queue.
    fn bind(&mut self, bound: Bound) {
        let data = if bound.qid == 0 {
            identify::IN_CAPSULE_DATA.min(self.cfg.maxh2cdata)
        } else {
            self.cfg.maxh2cdata
        };
        self.dec.set_limits(data, identify::IN_CAPSULE_DATA);
        self.bound = Some(bound);
    }

    /// What the statistics say about this queue once its Connect succeeds (SQSIZE is
    /// 0's based, NVMe-oF 1.1 §3.3).
    fn queue_info(&self, ctrl: &Controller, qid: u16, sqsize: u16) -> QueueInfo {
        QueueInfo {
            cntlid: ctrl.cntlid,
            controller: ctrl.serial(),
            qid,
            sq_size: u32::from(sqsize) + 1,
            hdgst: self.framing.hdgst,
            ddgst: self.framing.ddgst,
            peer: self.cfg.peer_addr,
        }
    }
}

/// CSTS bits (NVMe Base 2.0 §3.1.4.6).
mod csts {
    pub const RDY: u32 = 1;
    pub const CFS: u32 = 1 << 1;
    /// SHST: the shutdown status field.
    pub const SHST: u32 = 0b11 << 2;
    /// SHST 01b: shutdown processing occurring.
    pub const SHUTDOWN_PROCESSING: u32 = 0b01 << 2;
    /// SHST 10b: shutdown processing complete.
    pub const SHUTDOWN_COMPLETE: u32 = 0b10 << 2;
}

/// CAP.TO (bits 31:24, in 500 ms units): how long the host waits for CSTS.RDY to follow
/// CC.EN, and so how long a reset or shutdown waits for the I/O in flight before it
/// reports Controller Fatal Status.
fn ready_timeout() -> Duration {
    Duration::from_millis(((identify::cap() >> 24) & 0xFF) * 500)
}

/// `bits` bits of `v` from bit `shift`.
fn field(v: u32, shift: u32, bits: u32) -> u32 {
    (v >> shift) & ((1 << bits) - 1)
}

/// A reset (EN 1 -> 0) or shutdown notification (SHN set) the host asked for at `now`,
/// whose CSTS was `shown`: its I/O queues are deleted (NVMe Base 2.0 §3.7.2; §3.6.1), so
/// they are told to close and woken, and it completes only once they closed and the
/// volume operations they started ended ([`settle_drain`]), so a write still running
/// cannot land after the host enabled the controller again and wrote anew (as SPDK
/// reports RDY 0 or SHST 10b only once its queues drained). Meanwhile CSTS shows RDY as
/// it was and, for a shutdown, SHST 01b (processing).
fn quiesce(ctrl: &Controller, st: &mut ControllerState, shown: u32, shutdown: bool, now: Instant) {
    st.io_epoch += 1;
    let csts = if shutdown { (shown & !csts::SHST) | csts::SHUTDOWN_PROCESSING } else { shown };
    let since = st.drain.map_or(now, |d| d.since);
    let flush = shutdown || st.drain.is_some_and(|d| d.flush);
    st.drain = Some(Drain { since, csts, flush });
    ctrl.wake_queues();
}

/// Whether a reset or shutdown still waits, at `now`, for I/O queues to close, their
/// operations to end or a shutdown's flushes (which its admin queue starts once the rest
/// ended, [`Connection::csts_now`]); ends it otherwise, or CAP.TO after it began (after
/// the flushes began, for those) with Controller Fatal Status (an operation the device
/// never finishes).
fn settle_drain(ctrl: &Controller, st: &mut ControllerState, now: Instant) -> bool {
    let Some(d) = st.drain else { return false };
    let quiet = st.io_quiet();
    if quiet && d.flush {
        // The flushes are still to start, however late the host looks: no deadline yet.
        return true;
    }
    if !quiet {
        if now.saturating_duration_since(d.since) <= ready_timeout() {
            return true;
        }
        warn!(cntlid = ctrl.cntlid, "I/O still running at CAP.TO after a reset or shutdown");
        st.csts |= csts::CFS;
    }
    st.drain = None;
    // A host that enabled the controller again before this completed gets its I/O now.
    ctrl.io_enabled.store(st.csts == csts::RDY && !st.dead, Ordering::Relaxed);
    false
}

/// The CSTS the host reads at `now`: a reset or shutdown in progress shows as such
/// ([`quiesce`]).
fn shown_csts(ctrl: &Controller, st: &mut ControllerState, now: Instant) -> u32 {
    let drain = st.drain;
    match drain {
        Some(d) if settle_drain(ctrl, st, now) => d.csts,
        _ => st.csts,
    }
}

impl Connection {
    /// The CSTS the host reads at `now` on the admin queue of `ctrl` ([`shown_csts`]).
    /// A shutdown whose I/O has ended flushes the volatile write cache of each of the
    /// subsystem's volumes first (NVMe Base 2.0 §3.6.1: the host may remove power once
    /// SHST reads 10b; QEMU's nvme flushes likewise), as volume operations the shell
    /// runs off the reactor, counted in `io_ops` under QID 0 (no I/O queue's) so that
    /// the shutdown completes once they ended, CAP.TO after they started at the latest.
    /// The admin queue's tick calls it too, so that the flushes need no CSTS read.
    pub(super) fn csts_now(&mut self, ctrl: &Controller, now: Instant) -> u32 {
        let (ops, hold) = {
            let mut st = ctrl.state();
            let csts = shown_csts(ctrl, &mut st, now);
            if !st.drain.is_some_and(|d| d.flush) || !st.io_quiet() {
                return csts;
            }
            if let Some(d) = st.drain.as_mut() {
                d.flush = false;
                d.since = now;
            }
            // Held until every flush is handed out: meanwhile nothing sees it done.
            let ops = Arc::<QueueOps>::default();
            let hold = OpGuard::new(&ops);
            st.io_ops.insert(0, ops.clone());
            (ops, hold)
        };
        // The registry lock is never taken under the controller's.
        let mut volumes: Vec<Arc<crate::volume::Volume>> = Vec::new();
        for ns in self.target.namespaces(&ctrl.subnqn) {
            let v = &ns.volume;
            if v.backend().volatile_cache() && !volumes.iter().any(|w| Arc::ptr_eq(w, v)) {
                volumes.push(v.clone());
            }
        }
        for volume in volumes {
            // A tag no command waits for: its result goes to `shutdown_flush_done`.
            let tag = io_tag(self.next_io, 0);
            self.next_io += 1;
            let name = volume.name().to_owned();
            // Held until the result is taken, not only while the shell runs the flush: a
            // CSTS read in between would show the shutdown complete without its CFS.
            self.shutdown_flushes.push(ShutdownFlush {
                tag,
                volume: name,
                held: OpGuard::new(&ops),
            });
            let running = Some(OpGuard::new(&ops));
            let (op, fence, saves) = (IoOp::Flush, None, false);
            self.io.push_back(IoRequest { tag, volume, op, fence, saves, running });
        }
        drop(hold);
        // Complete already when there was nothing to flush.
        shown_csts(ctrl, &mut ctrl.state(), now)
    }

    /// Takes the result of a shutdown's flush, if `tag` is one. One that failed leaves
    /// the volume's acknowledged writes maybe unwritten, which no completion can tell the
    /// host: Controller Fatal Status (NVMe Base 2.0 §3.1.4.6), beside SHST 10b.
    pub(super) fn shutdown_flush_done(&mut self, tag: u64, result: std::io::Result<Vec<u8>>) {
        let Some(i) = self.shutdown_flushes.iter().position(|f| f.tag == tag) else { return };
        let flush = self.shutdown_flushes.swap_remove(i);
        if let Err(error) = result
            && let Some(b) = &self.bound
        {
            warn!(cntlid = b.ctrl.cntlid, volume = %flush.volume, %error, "flushing the volatile write cache at shutdown failed: controller fatal");
            b.ctrl.state().csts |= csts::CFS;
        }
        // Only now may the shutdown complete.
        drop(flush.held);
    }
}

/// A shutdown's flush of one volume's volatile write cache, handed to the shell.
pub(super) struct ShutdownFlush {
    tag: u64,
    volume: String,
    /// Counts as the controller's operation running until its result is taken.
    held: OpGuard,
}

/// CSTS after the host writes `cc` over `old_cc` (NVMe Base 2.0 §3.1.4.5/6, §3.6.1),
/// as Linux's nvmet decides it. EN 0 -> 1 checks the other fields first, as
/// `nvmet_start_ctrl` does: MPS, AMS and CSS must be the only ones CAP offers (0, 0, NVM)
/// and, but on a discovery controller, IOSQES/IOCQES 6/4 (64-byte SQEs, 16-byte CQEs);
/// otherwise CFS instead of RDY. EN 1 -> 0 (a reset) clears RDY and the shutdown state.
/// A shutdown notification (SHN) ends with SHST 10b, and the controller then processes no
/// I/O until a reset, even if SHN is cleared without one; an enable after a reset starts
/// with RDY alone, as nvmet's does, even if the reset's write kept SHN set. The host reads
/// what a reset or shutdown ends with once the I/O before it has drained ([`quiesce`]).
fn next_csts(old_cc: u32, old_csts: u32, cc: u32, discovery: bool) -> u32 {
    let (en, was_en) = (cc & 1 != 0, old_cc & 1 != 0);
    let mut next = match (was_en, en) {
        (false, true) => {
            let queue_sizes_ok = discovery || (field(cc, 16, 4) == 6 && field(cc, 20, 4) == 4);
            let offered = field(cc, 4, 3) == 0 && field(cc, 7, 4) == 0 && field(cc, 11, 3) == 0;
            if queue_sizes_ok && offered { csts::RDY } else { csts::CFS }
        }
        (true, true) => old_csts & (csts::RDY | csts::CFS),
        (_, false) => old_csts & csts::CFS,
    };
    let shut_down =
        field(cc, 14, 2) != 0 || (was_en && en && old_csts & csts::SHUTDOWN_COMPLETE != 0);
    if shut_down {
        next |= csts::SHUTDOWN_COMPLETE;
    }
    next
}
