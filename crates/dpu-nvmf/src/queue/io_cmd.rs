//! I/O commands of a [`Connection`] bound to an I/O queue (NVM Command Set 1.0 §3): the
//! namespace lookup, the checks every command passes (controller enabled, LBA range,
//! write protection, reservations) and Read, Write, Compare, Flush, Write Zeroes, Verify,
//! Dataset Management and the reservation commands.
//!
//! Apart from admission and sending because a command here only becomes an [`Outcome`]:
//! a completion, or a volume operation with what to do when it ends ([`Post`]). Nothing here
//! sends, blocks or does volume I/O: the shell runs the operation.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, PoisonError};

use dpu_nvmf_proto::cqe::Status;
use dpu_nvmf_proto::sqe::io_opcode;
use dpu_nvmf_proto::{Bytes, Sqe};

use crate::identify;
use crate::reservation::{Access, Host};
use crate::target::{AnaState, Namespace};

use super::{
    CloseReason, Connection, Fencing, IoOp, Outcome, Post, QueueWrites, ReservationUndo,
    WriteTicket, check_transfer_len, fail, fua_bit, ok, save_namespaces, writing,
};

impl Connection {
    /// The namespace `nsid` of our subsystem; looked up in the registry (under its
    /// lock) only when [`Target::namespace_epoch`] moved since the last lookup.
    ///
    /// [`Target::namespace_epoch`]: crate::target::Target::namespace_epoch
    pub(super) fn namespace(&mut self, nsid: u32) -> Result<Arc<Namespace>, Status> {
        let Some(b) = &self.bound else { return Err(Status::COMMAND_SEQUENCE_ERROR) };
        if !self.ns_cache.follow(self.target.namespace_epoch())
            && let Some(ns) = self.ns_cache.namespaces.iter().find(|ns| ns.nsid == nsid)
        {
            return Ok(ns.clone());
        }
        let (ns, ana) = self
            .target
            .namespace_through(&b.ctrl.subnqn, &b.ctrl.hostnqn, nsid, self.cfg.port_id)
            .ok_or(Status::INVALID_NAMESPACE_OR_FORMAT)?;
        // Only namespaces that serve I/O through this listener are cached: an ANA state
        // change moves the epoch.
        match ana {
            AnaState::Optimized | AnaState::NonOptimized => {}
            AnaState::Inaccessible => return Err(Status::ANA_INACCESSIBLE),
            AnaState::PersistentLoss => return Err(Status::ANA_PERSISTENT_LOSS),
            AnaState::Change => return Err(Status::ANA_TRANSITION),
        }
        self.ns_cache.make_room();
        self.ns_cache.namespaces.push(ns.clone());
        Ok(ns)
    }

    /// Namespace, byte offset and length of a Read/Write/Compare, checked.
    pub(super) fn rw_range(&mut self, sqe: &Sqe) -> Result<(Arc<Namespace>, u64, usize), Status> {
        let ns = self.namespace(sqe.nsid)?;
        if sqe.opcode == io_opcode::WRITE {
            self.may_modify(&ns)?;
        } else {
            self.reservation_allows(&ns, Access::Read)?;
        }
        let (offset, len) = byte_range(&ns, sqe)?;
        if len > u64::from(identify::MAX_TRANSFER) {
            return Err(Status::INVALID_FIELD);
        }
        check_transfer_len(sqe, len)?;
        Ok((ns, offset, len as usize))
    }

    /// Whether a write must be durable when it completes: FUA, or the write cache off.
    fn fua(&self, sqe: &Sqe) -> bool {
        let wce = self.bound.as_ref().is_some_and(|b| b.ctrl.wce.load(Ordering::Relaxed));
        fua_bit(sqe) || !wce
    }

    /// Whether the controller processes I/O commands: not while its host disabled it or
    /// shut it down (NVMe Base 2.0 §3.5; Linux's nvmet answers Command Sequence Error
    /// too). One the target ended closes the queue instead, and the command gets no
    /// answer (the caller checks [`is_closed`](Self::is_closed)): nvmet shuts every queue
    /// of a controller in fatal error, so the host retries its commands after
    /// reconnecting, where Command Sequence Error with DNR would fail them for good. Its
    /// state is looked at only once I/O is off, so a running controller's commands pay
    /// one load.
    pub(super) fn io_enabled(&mut self) -> Result<(), Status> {
        let ended = match &self.bound {
            Some(b) if b.ctrl.io_enabled.load(Ordering::Relaxed) => return Ok(()),
            Some(b) => b.ctrl.state().dead,
            None => false,
        };
        if ended {
            self.close(CloseReason::ControllerGone);
        }
        Err(Status::COMMAND_SEQUENCE_ERROR)
    }

    pub(super) fn io_cmd(&mut self, sqe: &Sqe, data: Bytes) -> Outcome {
        let cid = sqe.cid;
        if let Err(s) = self.io_enabled() {
            return if self.closed.is_some() {
                Outcome::Pending
            } else {
                Outcome::Done(fail(cid, s))
            };
        }
        let r = match sqe.opcode {
            io_opcode::READ => self.rw_range(sqe).map(|(ns, offset, len)| {
                let v = ns.volume.clone();
                // FUA ignored, as Linux's nvmet does.
                let op = IoOp::Read { offset, len, fua: false };
                Outcome::Io(op, v, Post::Read { len, offset, ns })
            }),
            io_opcode::WRITE => self.rw_range(sqe).map(|(ns, offset, len)| {
                let fua = self.fua(sqe);
                let v = ns.volume.clone();
                Outcome::Io(IoOp::Write { offset, data, fua }, v, Post::Write { len, offset, ns })
            }),
            io_opcode::COMPARE => self.rw_range(sqe).map(|(ns, offset, len)| {
                let v = ns.volume.clone();
                // Only the host's FUA: with the write cache disabled, writes already are
                // on the medium when they complete.
                let op = IoOp::Read { offset, len, fua: fua_bit(sqe) };
                Outcome::Io(op, v, Post::Compare { expected: data, offset, ns })
            }),
            io_opcode::FLUSH => self.namespace(sqe.nsid).and_then(|ns| {
                self.reservation_allows(&ns, Access::Write)?;
                let v = ns.volume.clone();
                let (err, opcode) = (Status::WRITE_FAULT, io_opcode::FLUSH);
                let post = Post::Plain { ns, err, opcode, offset: 0 };
                Ok(Outcome::Io(IoOp::Flush, v, post))
            }),
            io_opcode::WRITE_ZEROES => self.write_zeroes(sqe),
            io_opcode::VERIFY => self.verify(sqe),
            io_opcode::DATASET_MANAGEMENT => self.dsm(sqe, &data),
            io_opcode::RESERVATION_REGISTER
            | io_opcode::RESERVATION_REPORT
            | io_opcode::RESERVATION_ACQUIRE
            | io_opcode::RESERVATION_RELEASE => self.reservation_cmd(sqe, &data),
            // Refused at admission already (`identify::io_command_supported`).
            _ => Err(Status::INVALID_OPCODE),
        };
        // A refusal counts against its namespace where it is sent (`send_failure`).
        r.unwrap_or_else(|s| Outcome::Done(fail(cid, s)))
    }

    /// Whether this connection's host may modify `ns`: it is not write protected and
    /// its reservation lets the host write.
    fn may_modify(&mut self, ns: &Arc<Namespace>) -> Result<(), Status> {
        writable(ns)?;
        self.reservation_allows(ns, Access::Write)
    }

    /// Whether `ns`'s reservation lets this connection's host do `access` (NVMe Base 2.0
    /// §8.19.1): free while no host is registered, one load. A write takes a
    /// [`WriteTicket`] (in `self.fence`, for the command's volume operation) before it is
    /// checked, so that a Preempt and Abort that changes the reservation after the check
    /// waits for the write: also one let through while nothing is reserved (Preempt then
    /// still unregisters the hosts with PRKEY) or before any host registered.
    fn reservation_allows(&mut self, ns: &Arc<Namespace>, access: Access) -> Result<(), Status> {
        let ticket = match access {
            Access::Write => Some(self.write_ticket(ns)?),
            Access::Read => None,
        };
        if !ns.registered.load(Ordering::SeqCst) {
            self.fence = ticket;
            return Ok(());
        }
        // Registrants alone restrict nothing.
        if access == Access::Read && !ns.reserved.load(Ordering::Relaxed) {
            return Ok(());
        }
        let Some(b) = &self.bound else { return Err(Status::COMMAND_SEQUENCE_ERROR) };
        let r = ns.reservations.lock().unwrap_or_else(PoisonError::into_inner);
        if !r.allows(&b.ctrl.host, access) {
            return Err(Status::RESERVATION_CONFLICT);
        }
        self.fence = ticket;
        Ok(())
    }

    /// A place among this connection's writes running on `ns`, whose count is made and
    /// listed in the namespace at the connection's first write to it (again after the
    /// namespace epoch moved).
    fn write_ticket(&mut self, ns: &Arc<Namespace>) -> Result<WriteTicket, Status> {
        let Some(b) = &self.bound else { return Err(Status::COMMAND_SEQUENCE_ERROR) };
        let cached = self.ns_cache.writes.iter().find(|(n, _)| Arc::ptr_eq(n, ns));
        if let Some((_, writes)) = cached {
            return Ok(WriteTicket::new(writes));
        }
        let writes =
            Arc::new(QueueWrites { host: b.ctrl.host.clone(), running: AtomicU32::new(0) });
        {
            let mut writers = ns.writers.lock().unwrap_or_else(PoisonError::into_inner);
            writers.retain(|w| w.strong_count() > 0);
            writers.push(Arc::downgrade(&writes));
        }
        let ticket = WriteTicket::new(&writes);
        self.ns_cache.writes.push((ns.clone(), writes));
        Ok(ticket)
    }

    /// Reservation Register, Report, Acquire and Release (NVM Command Set 1.0
    /// §3.2.4-3.2.7) for the connection's host, named by its Host Identifier and NQN.
    fn reservation_cmd(&mut self, sqe: &Sqe, data: &[u8]) -> Result<Outcome, Status> {
        let ns = self.namespace(sqe.nsid)?;
        let Some(b) = &self.bound else { return Err(Status::COMMAND_SEQUENCE_ERROR) };
        let host = &b.ctrl.host;
        let cdw10 = sqe.cdw10();
        let (action, iekey, rtype) =
            ((cdw10 & 0b111) as u8, cdw10 & (1 << 3) != 0, (cdw10 >> 8) as u8);
        // Register's CPTPL (§3.2.6, CDW10 bits 31:30): 00b no change, 10b PTPL off, 11b
        // on. A Linux host always asks 11b, so without a store it is accepted and does
        // nothing (as nvmet; RESCAP bit 0 tells the host PTPL is not supported).
        let cptpl = (cdw10 >> 30) as u8;
        if sqe.opcode == io_opcode::RESERVATION_REGISTER && cptpl == 0b01 {
            return Err(Status::INVALID_FIELD);
        }
        // The keys of the data: CRKEY, then NRKEY or PRKEY.
        let keys = |n: usize| -> Result<[u64; 2], Status> {
            if data.len() < n * 8 {
                return Err(Status::DATA_SGL_LENGTH_INVALID);
            }
            let key = |i: usize| {
                data.get(i * 8..i * 8 + 8)
                    .map_or(0, |k| u64::from_le_bytes(k.try_into().unwrap_or_default()))
            };
            Ok([key(0), key(1)])
        };
        let mut r = ns.reservations.lock().unwrap_or_else(PoisonError::into_inner);
        let (before, was_ptpl) = (r.durable(), r.ptpl());
        // Preempt and Abort: who is registered before, to tell whom it preempted.
        let aborting = sqe.opcode == io_opcode::RESERVATION_ACQUIRE && action == 2;
        let registered_before = if aborting { r.registrant_hosts() } else { Vec::new() };
        // Only a command whose change is saved may need it put back.
        let undo = ns.store.as_ref().map(|_| ReservationUndo::before(&ns, &r));
        let done = match sqe.opcode {
            io_opcode::RESERVATION_REGISTER => {
                let [crkey, nrkey] = keys(2)?;
                let done = r.register(host, action, iekey, crkey, nrkey);
                if done.is_ok() && cptpl & 0b10 != 0 && ns.store.is_some() {
                    r.set_ptpl(cptpl == 0b11);
                }
                done
            }
            io_opcode::RESERVATION_ACQUIRE => {
                let [crkey, prkey] = keys(2)?;
                r.acquire(host, action, iekey, rtype, crkey, prkey)
            }
            io_opcode::RESERVATION_RELEASE => {
                let [crkey, _] = keys(1)?;
                r.release(host, action, iekey, rtype, crkey)
            }
            _ => {
                // Report: NUMD (CDW10, 0's based dwords) within the largest transfer, and
                // exactly the command's buffer (as Linux's nvmet).
                let len = (u64::from(cdw10) + 1) * 4;
                if len > u64::from(identify::MAX_TRANSFER) {
                    return Err(Status::INVALID_FIELD);
                }
                check_transfer_len(sqe, len)?;
                let eds = sqe.cdw11() & 1 != 0;
                return Ok(Outcome::Data(r.report(eds, len as usize)?, ok(sqe.cid)));
            }
        };
        ns.note_reservations(&r);
        // The issuer among them when it preempted its own key (as nvmet aborts its
        // commands too).
        let preempted: Vec<Host> =
            registered_before.into_iter().filter(|h| !r.is_registrant(h)).collect();
        let notices = r.take_notices();
        // The command completes once a state that persists, or stops persisting, is
        // saved (with PTPL off throughout there is nothing to save).
        let save = r.durable() != before && (r.ptpl() || was_ptpl);
        let after = r.durable();
        drop(r);
        done?;
        // A change to save tells its hosts once it is saved (`Post::saved`), one that
        // persists nothing at once.
        let outcome = match (undo, ns.store.clone().filter(|_| save)) {
            (Some((ns, before)), Some(store)) => {
                let undo = ReservationUndo { ns, before, after, notices };
                save_namespaces(store, vec![undo], sqe.opcode)
            }
            _ => {
                if !notices.is_empty() {
                    self.target.reservation_notices(&b.ctrl.subnqn, ns.nsid, &notices);
                }
                None
            }
        }
        .unwrap_or(Outcome::Done(ok(sqe.cid)));
        // The preempted hosts' new commands are refused from here (they are no
        // registrants); the Acquire completes once their writes let through before have
        // finished (checked each tick).
        if !preempted.is_empty() && writing(&ns, &preempted) {
            let then = match outcome {
                Outcome::Io(op, volume, post) => Some((op, volume, post)),
                _ => None,
            };
            let cid = sqe.cid;
            self.fencing.push(Fencing { cid, ns, hosts: preempted, then, deadline: None });
            return Ok(Outcome::Pending);
        }
        Ok(outcome)
    }

    fn write_zeroes(&mut self, sqe: &Sqe) -> Result<Outcome, Status> {
        let ns = self.namespace(sqe.nsid)?;
        self.may_modify(&ns)?;
        let (offset, len) = byte_range(&ns, sqe)?;
        // DEAC (CDW12 bit 25, NVM Command Set 1.0 §3.2.8): the host asks for the blocks
        // to be deallocated. A backend's deallocation zeroes (whatever DLFEAT says of a
        // Deallocate's), without allocating a sparse volume's range.
        let deallocate = sqe.cdw12() & (1 << 25) != 0;
        let op = IoOp::WriteZeroes { offset, len, fua: self.fua(sqe), deallocate };
        let v = ns.volume.clone();
        let (err, opcode) = (Status::WRITE_FAULT, io_opcode::WRITE_ZEROES);
        let post = Post::Plain { ns, err, opcode, offset };
        Ok(Outcome::Io(op, v, post))
    }

    /// Verify (NVM Command Set 1.0 §3.2.7): reads the range on the I/O pool and
    /// discards it, so an unreadable block of a file or block device fails it with
    /// Unrecovered Read Error. A read for reservations (§8.19 of the Base spec).
    fn verify(&mut self, sqe: &Sqe) -> Result<Outcome, Status> {
        let ns = self.namespace(sqe.nsid)?;
        self.reservation_allows(&ns, Access::Read)?;
        let (offset, len) = byte_range(&ns, sqe)?;
        let op = IoOp::Verify { offset, len, fua: fua_bit(sqe) };
        let v = ns.volume.clone();
        let err = Status::UNRECOVERED_READ_ERROR;
        Ok(Outcome::Io(op, v, Post::Plain { ns, err, opcode: io_opcode::VERIFY, offset }))
    }

    fn dsm(&mut self, sqe: &Sqe, data: &[u8]) -> Result<Outcome, Status> {
        let ns = self.namespace(sqe.nsid)?;
        self.may_modify(&ns)?;
        let nr = (sqe.cdw10() & 0xFF) as usize + 1;
        if data.len() < nr * 16 {
            return Err(Status::DATA_SGL_LENGTH_INVALID);
        }
        let deallocate = sqe.cdw11() & (1 << 2) != 0;
        let bs = u64::from(ns.volume.block_size());
        let mut ranges = Vec::with_capacity(nr);
        for r in data.chunks_exact(16).take(nr) {
            let nlb = u64::from(u32::from_le_bytes([r[4], r[5], r[6], r[7]]));
            let mut s = [0u8; 8];
            s.copy_from_slice(&r[8..16]);
            let slba = u64::from_le_bytes(s);
            let end = slba.checked_add(nlb).ok_or(Status::LBA_OUT_OF_RANGE)?;
            if end > ns.volume.blocks() {
                return Err(Status::LBA_OUT_OF_RANGE);
            }
            if nlb > 0 {
                ranges.push((slba * bs, nlb * bs));
            }
        }
        if !deallocate || ranges.is_empty() {
            // Only attribute hints: nothing to do.
            return Ok(Outcome::Done(ok(sqe.cid)));
        }
        let v = ns.volume.clone();
        Ok(Outcome::Io(
            IoOp::Deallocate { ranges },
            v,
            Post::Plain {
                ns,
                err: Status::INTERNAL_ERROR,
                opcode: io_opcode::DATASET_MANAGEMENT,
                offset: 0,
            },
        ))
    }
}

/// Whether commands may modify `ns` (NVMe Base 2.0 §8.12: Write, Write Zeroes and
/// Dataset Management fail on a write-protected namespace; reads, Compare, Flush and
/// reservation commands do not modify it).
fn writable(ns: &Namespace) -> Result<(), Status> {
    if ns.write_protected.load(Ordering::Relaxed) {
        Err(Status::NAMESPACE_WRITE_PROTECTED)
    } else {
        Ok(())
    }
}

/// The bytes (offset, length) of the blocks an I/O command's SLBA and NLB name in `ns`;
/// LBA Out of Range past its end.
fn byte_range(ns: &Namespace, sqe: &Sqe) -> Result<(u64, u64), Status> {
    let nlb = u64::from(sqe.nlb());
    let end = sqe.slba().checked_add(nlb).ok_or(Status::LBA_OUT_OF_RANGE)?;
    if end > ns.volume.blocks() {
        return Err(Status::LBA_OUT_OF_RANGE);
    }
    let bs = u64::from(ns.volume.block_size());
    Ok((sqe.slba() * bs, nlb * bs))
}
