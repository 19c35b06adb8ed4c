//! Host-to-controller data asked for by R2T (NVMe/TCP 1.0 §3.6.2.10, §3.6.2.8): the R2Ts a
//! [`Connection`] sends under its own [`R2T_BUDGET`] and the target-wide write budget, in
//! order, and the H2CData PDUs that answer them.
//!
//! Apart from command admission because this is the one place that takes from the budgets
//! and gives back to them ([`Connection::admit_r2t`], [`Connection::end_r2t`]; a closing
//! connection gives back the rest at once), and that checks H2CData against what was
//! asked for: any other data is a fatal transport error.

use std::sync::atomic::Ordering;
use std::time::Instant;

use dpu_nvmf_proto::cqe::Status;
use dpu_nvmf_proto::pdu::DataPduHeader;
use dpu_nvmf_proto::{Bytes, BytesMut, Cqe, DataPdu, FatalError, Fes, R2t, Sqe};

use super::{Cmd, Connection, R2T_BUDGET, Throttled, WaitingR2t, fail};

impl Connection {
    /// Asks for a command's data by R2T, unless its volume's rate limit holds it back:
    /// then it waits in [`Connection::throttled`] and the R2T goes when the limit lets
    /// it through, so a limited host's data stays on the host (and on the wire) until
    /// then. The command is charged here, not again when its data has come.
    pub(super) fn request_data(&mut self, sqe: Sqe, length: u32, now: Instant) {
        if (!self.throttled.is_empty() || crate::volume::any_rate_limited())
            && let Some((volume, bytes, retry)) = self.throttle(&sqe, now)
        {
            let data = Bytes::new();
            self.throttled.push_back(Throttled {
                sqe,
                data,
                r2t: Some(length),
                volume,
                bytes,
                retry,
            });
            return;
        }
        self.grant_r2t(sqe, length, now);
    }

    /// Sends a command's R2T, or queues it behind the others waiting when the budgets
    /// do not let it go now ([`admit_r2t`](Self::admit_r2t)). None on a closed queue: it
    /// gave its budget back once ([`close`](Self::close)) and would take it for good.
    pub(super) fn grant_r2t(&mut self, sqe: Sqe, length: u32, now: Instant) {
        if self.closed.is_some() {
            return;
        }
        let mut waiting = WaitingR2t { sqe, length, counted: false };
        if self.r2t_waiting.is_empty()
            && let Some(pooled) = self.admit_r2t(&mut waiting)
        {
            self.start_r2t(waiting.sqe, length, pooled, now);
        } else {
            self.r2t_waiting.push_back(waiting);
        }
    }

    /// Sends the waiting R2Ts the budgets let go, in order (the first always does once
    /// nothing is asked for: every transfer is within MDTS).
    pub(super) fn release_r2ts(&mut self, now: Instant) {
        while let Some(mut first) = self.r2t_waiting.pop_front() {
            let Some(pooled) = self.admit_r2t(&mut first) else {
                self.r2t_waiting.push_front(first);
                break;
            };
            self.start_r2t(first.sqe, first.length, pooled, now);
        }
    }

    /// Whether an R2T of `w.length` may go now, and what it takes from the target-wide
    /// write budget: nothing while the queue has nothing asked for (so every queue
    /// progresses, whatever the others hold), else its length, if there. `None`: it waits,
    /// for this queue's data past [`R2T_BUDGET`] or for bytes to come back to the budget
    /// (counted once per R2T in [`TargetStats::write_budget_waits`]).
    ///
    /// [`TargetStats::write_budget_waits`]: crate::target::TargetStats::write_budget_waits
    fn admit_r2t(&mut self, w: &mut WaitingR2t) -> Option<u32> {
        if self.r2t_granted + w.length as usize > R2T_BUDGET {
            return None;
        }
        if self.r2t_granted == 0 {
            return Some(0);
        }
        if self.cfg.write_budget.try_take(w.length as usize) {
            return Some(w.length);
        }
        if !w.counted {
            w.counted = true;
            self.target.stats.write_budget_waits.fetch_add(1, Ordering::Relaxed);
        }
        None
    }

    /// Asks for the data, `pooled` of it taken from the target-wide write budget; the
    /// command's [`DATA_DEADLINE`] runs from `now`.
    ///
    /// [`DATA_DEADLINE`]: super::DATA_DEADLINE
    fn start_r2t(&mut self, sqe: Sqe, length: u32, pooled: u32, now: Instant) {
        if self.closed.is_some() {
            // Nothing gives `pooled` back once closed: return it now.
            self.cfg.write_budget.give_back(pooled as usize);
            return;
        }
        if self.auth_pending() {
            // A re-authentication failed while the R2T waited (for its rate limit or the
            // budgets): the command would not run (`run`), so its data is not asked for.
            self.cfg.write_budget.give_back(pooled as usize);
            self.send_failure_of(&sqe, &[], fail(sqe.cid, Status::AUTH_REQUIRED));
            return;
        }
        self.r2t_granted += length as usize;
        self.r2t_pooled += pooled as usize;
        self.next_ttag = self.next_ttag.wrapping_add(1);
        let ttag = self.next_ttag;
        let r = R2t { cccid: sqe.cid, ttag, r2to: 0, r2tl: length };
        dpu_nvmf_proto::encode_r2t(&r, &self.framing, &mut self.out);
        self.cmds.insert(
            sqe.cid,
            Cmd::AwaitData {
                sqe: Box::new(sqe),
                ttag,
                // Grows as data arrives: a host that asks for R2Ts and sends
                // nothing costs no memory.
                buf: BytesMut::new(),
                digest_failed: false,
                since: now,
                pooled,
            },
        );
    }

    /// A command's data came (or its R2T is otherwise over): its `length` is no longer
    /// asked for, and what it took from the target-wide budget goes back.
    fn end_r2t(&mut self, length: usize, pooled: u32, now: Instant) {
        self.r2t_granted -= length;
        // A closed connection gave back all it took at once (`close`).
        if pooled > 0 && self.closed.is_none() {
            self.r2t_pooled -= pooled as usize;
            self.cfg.write_budget.give_back(pooled as usize);
        }
        if !self.r2t_waiting.is_empty() {
            self.release_r2ts(now);
        }
    }

    pub(super) fn on_h2c_data(&mut self, d: DataPdu, digest_failed: bool, now: Instant) {
        let h = d.header;
        // NVMe/TCP 1.0 §3.6.2.8: CCCID/TTAG must name a command we sent an R2T for,
        // and the data must lie within the requested range.
        let Some(cmd) = self.cmds.get_mut(h.cccid) else {
            self.fatal_in_pdu(FatalError::invalid_field(
                DataPduHeader::OFFSET_CCCID,
                "H2CData for an unknown command",
            ));
            return;
        };
        let Cmd::AwaitData { sqe, ttag, buf, digest_failed: df, .. } = cmd else {
            self.fatal_in_pdu(FatalError::invalid_field(
                DataPduHeader::OFFSET_CCCID,
                "H2CData for a command not waiting for data",
            ));
            return;
        };
        if *ttag != h.ttag {
            self.fatal_in_pdu(FatalError::invalid_field(
                DataPduHeader::OFFSET_TTAG,
                "H2CData TTAG mismatch",
            ));
            return;
        }
        let expected = sqe.sgl().length() as usize;
        if h.datao as usize != buf.len() || buf.len() + d.data.len() > expected {
            // FEI is reserved for FES 04h (NVMe/TCP 1.0 §3.6.2.9): 0, as SPDK sends.
            self.fatal_in_pdu(FatalError::new(
                Fes::DataTransferOutOfRange,
                0,
                "H2CData outside the requested range",
            ));
            return;
        }
        *df |= digest_failed;
        let complete = buf.len() + d.data.len() == expected;
        if h.last && !complete {
            self.fatal_in_pdu(FatalError::new(
                Fes::PduSequenceError,
                0,
                "LAST_PDU before all requested data",
            ));
            return;
        }
        if !complete {
            buf.extend_from_slice(&d.data);
            return;
        }
        let Some(Cmd::AwaitData { sqe, mut buf, digest_failed, pooled, .. }) =
            self.cmds.remove(h.cccid)
        else {
            return;
        };
        self.end_r2t(expected, pooled, now);
        if digest_failed {
            // Data that failed its digest names no subsystem.
            self.send_failure_of(&sqe, &[], Cqe::new(sqe.cid, Status::TRANSIENT_TRANSPORT_ERROR));
            return;
        }
        let data = if buf.is_empty() {
            // The whole transfer came in one PDU: no copy.
            d.data
        } else {
            buf.extend_from_slice(&d.data);
            buf.freeze()
        };
        // The rate limit let it through before its R2T (`request_data`).
        self.run(*sqe, data, now);
    }
}
