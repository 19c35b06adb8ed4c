//! Admin commands of a [`Connection`] bound to an admin queue (NVMe Base 2.0 §5):
//! Identify, Get Log Page, Get/Set Features, Keep Alive, Abort and Asynchronous Event
//! Requests, with the events that complete those ([`Connection::deliver_events`]).
//!
//! Apart from the I/O commands because these read and change the controller's state, not a
//! volume's: each answers with an [`Outcome`] (a volume operation only to save a
//! namespace's state), and the only completions sent from here are the AERs'.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use dpu_nvmf_proto::cqe::Status;
use dpu_nvmf_proto::sqe::admin_opcode;
use dpu_nvmf_proto::{Cqe, Sqe};
use tracing::info;

use crate::features::{
    ASYNC_EVENT_CONFIG_DEFAULT, HostFeatures, VOLATILE_WRITE_CACHE_DEFAULT, fid as feature,
};
use crate::identify::{self, ControllerIdentity, log_id};
use crate::target::{
    AnaState, Controller, HostWriteProtectError, HostWriteProtection, KATO_DEFAULT_MS, NSID_ALL,
    Namespace,
};

use super::{Connection, IoOp, Outcome, Post, ReservationUndo, fail, ok, save_namespaces};

/// The bits of a Reservation Notification Mask: Registration Preempted (1), Reservation
/// Released (2), Reservation Preempted (3).
const RESERVATION_MASK_BITS: u32 = 0b1110;

impl Connection {
    pub(super) fn admin(&mut self, sqe: &Sqe, now: Instant) -> Outcome {
        let cid = sqe.cid;
        let Some(b) = &self.bound else {
            return Outcome::Done(fail(cid, Status::COMMAND_SEQUENCE_ERROR));
        };
        let ctrl = b.ctrl.clone();
        if ctrl.state().csts & 1 == 0 {
            return Outcome::Done(fail(cid, Status::COMMAND_SEQUENCE_ERROR));
        }
        match sqe.opcode {
            admin_opcode::IDENTIFY => self.identify(sqe, &ctrl),
            admin_opcode::GET_LOG_PAGE => self.get_log_page(sqe, &ctrl),
            // SV (CDW10 bit 31): no feature here is saveable (§5.27.1); one not supported
            // is Invalid Field whatever SV says, as nvmet answers. Either way nothing is set.
            admin_opcode::SET_FEATURES if sqe.cdw10() & (1 << 31) != 0 => {
                let supported = settable((sqe.cdw10() & 0xFF) as u8, ctrl.discovery);
                let status =
                    if supported { Status::FEATURE_NOT_SAVEABLE } else { Status::INVALID_FIELD };
                Outcome::Done(fail(cid, status))
            }
            admin_opcode::SET_FEATURES
                if (sqe.cdw10() & 0xFF) as u8 == feature::RESERVATION_PERSISTENCE
                    && !ctrl.discovery =>
            {
                self.set_reservation_persistence(sqe)
            }
            // Before the state lock: the registry is locked before controller states.
            admin_opcode::SET_FEATURES
                if (sqe.cdw10() & 0xFF) as u8 == feature::NAMESPACE_WRITE_PROTECTION
                    && !ctrl.discovery =>
            {
                self.set_namespace_write_protection(sqe, &ctrl)
            }
            admin_opcode::SET_FEATURES => Outcome::Done(self.set_features(sqe, &ctrl, now)),
            admin_opcode::GET_FEATURES => self.get_features(sqe, &ctrl),
            // Like every admin command, it restarted the timer on arrival (`on_capsule`).
            admin_opcode::KEEP_ALIVE => Outcome::Done(ok(cid)),
            admin_opcode::ASYNC_EVENT_REQUEST => {
                if self.aers.len() >= identify::AER_LIMIT {
                    return Outcome::Done(fail(cid, Status::ASYNC_EVENT_LIMIT_EXCEEDED));
                }
                self.aers.push(cid);
                self.deliver_events();
                Outcome::Pending
            }
            admin_opcode::ABORT => {
                // §5.1: DW0 bit 0 set: the command was not aborted.
                let mut c = ok(cid);
                c.dw0 = 1;
                Outcome::Done(c)
            }
            _ => Outcome::Done(fail(cid, Status::INVALID_OPCODE)),
        }
    }

    fn identify(&self, sqe: &Sqe, ctrl: &Controller) -> Outcome {
        let cid = sqe.cid;
        let cns = (sqe.cdw10() & 0xFF) as u8;
        let csi = (sqe.cdw11() >> 24) as u8;
        let data = match (cns, ctrl.discovery) {
            (0x01, discovery) => {
                // Only what the structure shows, looked up only for it: not the subsystem's
                // host list and secrets, which a host asking for any CNS would copy.
                let names = if discovery {
                    None
                } else {
                    match self.target.subsystem_identity(&ctrl.subnqn) {
                        Some(names) => Some(names),
                        None => return Outcome::Done(fail(cid, Status::INTERNAL_ERROR)),
                    }
                };
                identify::identify_controller(&ControllerIdentity {
                    cntlid: ctrl.cntlid,
                    subsystem: names.as_ref(),
                })
            }
            (0x00, false) => match self.ns_or_inactive(sqe.nsid) {
                Ok(Some((ns, state))) => identify::identify_namespace(&ns, state),
                Ok(None) => vec![0; identify::IDENTIFY_LEN],
                Err(s) => return Outcome::Done(fail(cid, s)),
            },
            (0x02, false) => {
                if sqe.nsid >= 0xFFFF_FFFE {
                    return Outcome::Done(fail(cid, Status::INVALID_NAMESPACE_OR_FORMAT));
                }
                identify::active_ns_list(
                    &self.target.active_nsids(&ctrl.subnqn, &ctrl.hostnqn),
                    sqe.nsid,
                )
            }
            // Unlike CNS 00h, these describe an active namespace only: an inactive NSID
            // is Invalid Namespace or Format, as Linux's nvmet answers.
            (0x03, false) => match self.active_ns(sqe.nsid) {
                Ok(ns) => identify::ns_id_descriptors(&ns),
                Err(s) => return Outcome::Done(fail(cid, s)),
            },
            // I/O command set specific structures for the NVM command set: nothing
            // beyond the defaults, all fields zero.
            (0x05, false) if csi == 0 => match self.active_ns(sqe.nsid) {
                Ok(_) => vec![0; identify::IDENTIFY_LEN],
                Err(s) => return Outcome::Done(fail(cid, s)),
            },
            (0x06, false) if csi == 0 => vec![0; identify::IDENTIFY_LEN],
            _ => return Outcome::Done(fail(cid, Status::INVALID_FIELD)),
        };
        Outcome::Data(data, ok(cid))
    }

    /// The namespace `nsid` of our subsystem, with its ANA group's state through the
    /// controller's listener: `Ok(None)` for a valid but inactive NSID.
    fn ns_or_inactive(&self, nsid: u32) -> Result<Option<(Arc<Namespace>, AnaState)>, Status> {
        let Some(b) = &self.bound else { return Err(Status::COMMAND_SEQUENCE_ERROR) };
        if nsid == 0 || nsid > crate::target::MAX_NSID {
            return Err(Status::INVALID_NAMESPACE_OR_FORMAT);
        }
        let c = &b.ctrl;
        Ok(self.target.namespace_through(&c.subnqn, &c.hostnqn, nsid, c.port_id))
    }

    /// The active namespace `nsid`; an inactive or invalid NSID is Invalid Namespace or
    /// Format.
    fn active_ns(&self, nsid: u32) -> Result<Arc<Namespace>, Status> {
        let found = self.ns_or_inactive(nsid)?;
        found.map(|(ns, _)| ns).ok_or(Status::INVALID_NAMESPACE_OR_FORMAT)
    }

    fn get_log_page(&mut self, sqe: &Sqe, ctrl: &Controller) -> Outcome {
        let cid = sqe.cid;
        let lid = (sqe.cdw10() & 0xFF) as u8;
        let rae = sqe.cdw10() & (1 << 15) != 0;
        // The transfer is this long (`on_capsule`), within MDTS.
        let len = log_page_len(sqe) as usize;
        let offset = (u64::from(sqe.cdw13()) << 32) | u64::from(sqe.cdw12());
        // Offset Type (CDW14 bit 23) asks for an index into the page's entries, which no
        // page here supports (Supported Log Pages says so): Invalid Field (§5.16).
        let index_offset = sqe.cdw14() & (1 << 23) != 0;
        if index_offset || !offset.is_multiple_of(4) {
            return Outcome::Done(fail(cid, Status::INVALID_FIELD));
        }
        // §5.16 (LPOL): an offset past the end of the page is Invalid Field in Command,
        // and a failed read consumes nothing (the events below stay as they were).
        let in_range = |page: &[u8]| offset <= page.len() as u64;
        let page = match (lid, ctrl.discovery) {
            // CSI (CDW14 bits 31:24): the pages of the NVM command set only.
            (log_id::SUPPORTED_LOG_PAGES, _) if sqe.cdw14() >> 24 != 0 => {
                return Outcome::Done(fail(cid, Status::INVALID_FIELD));
            }
            (log_id::SUPPORTED_LOG_PAGES, _) => identify::supported_log_pages(ctrl.discovery),
            (log_id::ERROR, _) => ctrl.errors().page(),
            (log_id::DISCOVERY, true) => {
                // Built for every piece read: each compares with the log built before.
                let genctr = self.build_discovery_log(&ctrl.hostnqn);
                let page =
                    identify::discovery_log(genctr, self.disc.entries(), self.cfg.local_addr);
                if !rae && in_range(&page) {
                    // Reading the log re-arms the Discovery Log Page Change event.
                    self.disc_told = genctr;
                    self.disc_masked = false;
                }
                page
            }
            // The controller's page only (LPA bit 0 clear): a namespace's NSID is Invalid
            // Field (NVMe Base 2.0 §5.16.1.3); 0h and FFFFFFFFh (nvme-cli's default) ask
            // for the controller's.
            (log_id::SMART, false) if sqe.nsid != 0 && sqe.nsid != NSID_ALL => {
                return Outcome::Done(fail(cid, Status::INVALID_FIELD));
            }
            (log_id::SMART, false) => {
                // The subsystem's totals: they keep counting across controllers and
                // namespace removals, as SMART's lifetime counters must (§5.16.1.3).
                let io = ctrl.stats.totals();
                let error_entries = ctrl.errors().count();
                let mut st = ctrl.state();
                let temperature_warning = st.features.temperature_warning();
                let page = identify::smart_log(
                    &io,
                    identify::Health { temperature_warning, error_entries },
                );
                if !rae && in_range(&page) {
                    // §5.2: reading the log re-arms the SMART / Health notice. The page
                    // shows the warning a pending notice is about: none is left to send.
                    st.smart_event_masked = false;
                    st.smart_event_pending = false;
                }
                page
            }
            (log_id::FIRMWARE_SLOT, false) => identify::firmware_log(),
            // CSI: the NVM command set's I/O commands only.
            (log_id::CMD_EFFECTS, false) if sqe.cdw14() >> 24 != 0 => {
                return Outcome::Done(fail(cid, Status::INVALID_FIELD));
            }
            (log_id::CMD_EFFECTS, false) => identify::commands_effects_log(),
            (log_id::RESERVATION_NOTIFICATION, false) => {
                // §5.16.1.24: a read returns the oldest unread page and takes it off the
                // queue whatever RAE says (as nvmet's kfifo_get and SPDK do); without RAE
                // it also re-arms the notice, at once again if more wait. A queue a read
                // emptied leaves nothing to announce.
                let mut st = ctrl.state();
                let page = st.resv_log.front().copied();
                let more = st.resv_log.len().saturating_sub(1);
                let log = identify::reservation_notification_log(page, more);
                if in_range(&log) {
                    st.resv_log.pop_front();
                    st.resv_event_pending = !st.resv_log.is_empty();
                    if !rae {
                        st.resv_event_masked = false;
                    }
                }
                log
            }
            (log_id::ANA, false) => {
                // LSP (CDW10 bits 11:8) bit 0: Return Groups Only.
                let groups_only = sqe.cdw10() & (1 << 8) != 0;
                let (chgcnt, groups) =
                    self.target.ana_groups(&ctrl.subnqn, &ctrl.hostnqn, ctrl.port_id);
                let page = identify::ana_log(chgcnt, &groups, groups_only);
                if !rae && in_range(&page) {
                    // §5.16.1.12: reading the log re-arms the ANA change notice. A
                    // change made while it was masked shows in this page (its Change
                    // Count): no notice is left to send for it.
                    let mut st = ctrl.state();
                    st.ana_event_masked = false;
                    if chgcnt >= st.ana_event_chgcnt {
                        st.ana_event_pending = false;
                    }
                }
                page
            }
            (log_id::CHANGED_NS, false) => {
                let mut st = ctrl.state();
                let list: Vec<u32> = st.changed_ns.iter().copied().collect();
                let overflow = list.len() > crate::target::CHANGED_NS_LIST_MAX;
                let page = identify::changed_ns_log(&list, overflow);
                if !rae && in_range(&page) {
                    // §5.16.1.5: reading the log clears it and re-arms the event. The
                    // changes made while the event was masked are in the page just read:
                    // no notice is left to send for them.
                    st.changed_ns.clear();
                    st.ns_event_masked = false;
                    st.ns_event_pending = false;
                }
                page
            }
            _ => return Outcome::Done(fail(cid, Status::INVALID_LOG_PAGE)),
        };
        if !in_range(&page) {
            return Outcome::Done(fail(cid, Status::INVALID_FIELD));
        }
        Outcome::Data(identify::slice_page(&page, offset, len), ok(cid))
    }

    /// Get Features (§5.15): the Host Identifier and the Reservation Notification Mask
    /// here, the features kept in the controller's state in [`get_features`].
    fn get_features(&mut self, sqe: &Sqe, ctrl: &Controller) -> Outcome {
        let cid = sqe.cid;
        let fid = (sqe.cdw10() & 0xFF) as u8;
        match fid {
            feature::HOST_IDENTIFIER if !ctrl.discovery && sel_capabilities(sqe) => {
                // Neither saveable, nor namespace specific, nor changeable (Set Features
                // of it is a Command Sequence Error once connected).
                let mut cqe = ok(cid);
                cqe.dw0 = feature_dw0(sqe, false, false, || 0);
                Outcome::Done(cqe)
            }
            feature::HOST_IDENTIFIER if !ctrl.discovery => {
                // CDW11 bit 0, EXHID: the 128-bit identifier is the only one a fabrics
                // host has; asking for the 64-bit one is Invalid Field, as nvmet answers.
                if sqe.cdw11() & 1 == 0 {
                    return Outcome::Done(fail(cid, Status::INVALID_FIELD));
                }
                Outcome::Data(ctrl.hostid.to_vec(), ok(cid))
            }
            feature::RESERVATION_NOTIFICATION_MASK if !ctrl.discovery => {
                match self.active_ns(sqe.nsid) {
                    Ok(_) => Outcome::Done(get_features(sqe, ctrl)),
                    Err(s) => Outcome::Done(fail(cid, s)),
                }
            }
            // Reservation Persistence (§5.27.1.28): PTPL (bit 0) of one namespace;
            // changeable where the target keeps reservations through power loss.
            feature::RESERVATION_PERSISTENCE if !ctrl.discovery => match self.active_ns(sqe.nsid) {
                Ok(ns) => {
                    let mut cqe = ok(cid);
                    cqe.dw0 = namespace_feature_dw0(sqe, ns.store.is_some(), || {
                        u32::from(
                            ns.reservations.lock().unwrap_or_else(PoisonError::into_inner).ptpl(),
                        )
                    });
                    Outcome::Done(cqe)
                }
                Err(s) => Outcome::Done(fail(cid, s)),
            },
            // Namespace Write Protection Config (§8.12): WPS of one namespace.
            feature::NAMESPACE_WRITE_PROTECTION if !ctrl.discovery && sqe.nsid != NSID_ALL => {
                match self.active_ns(sqe.nsid) {
                    Ok(ns) => {
                        let mut cqe = ok(cid);
                        cqe.dw0 = namespace_feature_dw0(sqe, true, || ns.write_protection_state());
                        Outcome::Done(cqe)
                    }
                    Err(s) => Outcome::Done(fail(cid, s)),
                }
            }
            _ => Outcome::Done(get_features(sqe, ctrl)),
        }
    }

    /// Set Features Reservation Persistence (§5.27.1.28): PTPL (CDW11 bit 0) of one
    /// namespace or, for NSID FFFFFFFFh, of all; completes once the state is saved.
    fn set_reservation_persistence(&mut self, sqe: &Sqe) -> Outcome {
        let cid = sqe.cid;
        let namespaces = if sqe.nsid == NSID_ALL {
            match &self.bound {
                Some(b) => self.target.namespaces_for(&b.ctrl.subnqn, &b.ctrl.hostnqn),
                None => Vec::new(),
            }
        } else {
            match self.active_ns(sqe.nsid) {
                Ok(ns) => vec![ns],
                Err(s) => return Outcome::Done(fail(cid, s)),
            }
        };
        let Some(store) = self.target.namespace_store().cloned() else {
            return Outcome::Done(fail(cid, Status::FEATURE_NOT_CHANGEABLE));
        };
        let on = sqe.cdw11() & 1 != 0;
        let changed: Vec<ReservationUndo> = namespaces
            .iter()
            .filter_map(|ns| {
                let mut r = ns.reservations.lock().unwrap_or_else(PoisonError::into_inner);
                if r.ptpl() == on {
                    return None;
                }
                let (ns, before) = ReservationUndo::before(ns, &r);
                r.set_ptpl(on);
                Some(ReservationUndo { ns, before, after: r.durable(), notices: Vec::new() })
            })
            .collect();
        save_namespaces(store, changed, admin_opcode::SET_FEATURES)
            .unwrap_or(Outcome::Done(ok(cid)))
    }

    /// Set Features Namespace Write Protection Config (NVMe Base 2.0 §8.12): WPS (CDW11
    /// bits 2:0) of one namespace for every host: No Write Protect (000b), Write Protect
    /// (001b) or Write Protect Until Power Cycle (010b) (NWPC bits 1:0); Permanent Write
    /// Protect is not offered. The protection is in force at once. A namespace being
    /// protected is flushed, as Linux's nvmet does, so that what was written before is
    /// durable while it stays frozen; Write Protect is saved to outlive a restart. The
    /// command completes once both are done; if either fails, the protection is put back
    /// as it was. The namespace's hosts get a namespace notice when its protection
    /// changes, only once the change stands (after its answer), so none is told of one
    /// put back.
    fn set_namespace_write_protection(&self, sqe: &Sqe, ctrl: &Controller) -> Outcome {
        let cid = sqe.cid;
        let Some(state) = HostWriteProtection::from_wps(sqe.cdw11()) else {
            return Outcome::Done(fail(cid, Status::INVALID_FIELD));
        };
        if sqe.nsid == NSID_ALL {
            return Outcome::Done(fail(cid, Status::INVALID_FIELD));
        }
        let ns = match self.active_ns(sqe.nsid) {
            Ok(ns) => ns,
            Err(s) => return Outcome::Done(fail(cid, s)),
        };
        let previous = match self.target.set_host_write_protection(&ctrl.subnqn, sqe.nsid, state) {
            Ok(previous) => previous,
            Err(HostWriteProtectError::ByOperator { .. }) => {
                return Outcome::Done(fail(cid, Status::NAMESPACE_WRITE_PROTECTED));
            }
            Err(HostWriteProtectError::UntilPowerCycle { .. }) => {
                return Outcome::Done(fail(cid, Status::FEATURE_NOT_CHANGEABLE));
            }
            // Removed since the lookup above.
            Err(HostWriteProtectError::Registry(_)) => {
                return Outcome::Done(fail(cid, Status::INVALID_NAMESPACE_OR_FORMAT));
            }
        };
        let flush = state != HostWriteProtection::NoWriteProtect;
        let kept = |s| s == HostWriteProtection::WriteProtect;
        let store = ns.store.clone().filter(|_| kept(previous) != kept(state));
        if !flush && store.is_none() {
            self.target.write_protection_stands(&ns);
            return Outcome::Done(ok(cid));
        }
        let volume = ns.volume.clone();
        let op = IoOp::Protect { flush, store, ns: ns.clone() };
        Outcome::Io(op, volume, Post::Protect { ns, state, previous })
    }

    fn set_features(&mut self, sqe: &Sqe, ctrl: &Controller, now: Instant) -> Cqe {
        let cid = sqe.cid;
        let fid = (sqe.cdw10() & 0xFF) as u8;
        let v = sqe.cdw11();
        if fid == feature::RESERVATION_NOTIFICATION_MASK && !ctrl.discovery {
            if v & !RESERVATION_MASK_BITS != 0 {
                return fail(cid, Status::INVALID_FIELD);
            }
            if sqe.nsid != NSID_ALL
                && let Err(s) = self.active_ns(sqe.nsid)
            {
                return fail(cid, s);
            }
        }
        let mut st = ctrl.state();
        let mut cqe = ok(cid);
        match (fid, ctrl.discovery) {
            // Number of Queues (§5.27.1.5): grant up to the subsystem's limit, 0's based.
            (feature::NUMBER_OF_QUEUES, false) => {
                let nsq = (v & 0xFFFF) as u16;
                let ncq = (v >> 16) as u16;
                if nsq == 0xFFFF || ncq == 0xFFFF {
                    return fail(cid, Status::INVALID_FIELD);
                }
                // Only before the first I/O queue exists.
                if !st.io_qids.is_empty() {
                    return fail(cid, Status::COMMAND_SEQUENCE_ERROR);
                }
                let n = (nsq.min(ncq) + 1).min(ctrl.max_io_queues);
                st.io_queues = n;
                cqe.dw0 = u32::from(n - 1) | (u32::from(n - 1) << 16);
            }
            (feature::KEEP_ALIVE_TIMER, discovery) => {
                st.kato_ms = crate::target::keep_alive_timeout(discovery, v);
                self.last_keep_alive = now;
            }
            // §5.27.1.7: the notices this controller sends (OAES) and, on an I/O
            // controller, the SMART / Health critical warnings (bits 7:0); any other bit
            // is Invalid Field, as nvmet checks.
            (feature::ASYNC_EVENT_CONFIG, discovery) => {
                let smart = if discovery { 0 } else { 0xFF };
                if v & !(identify::oaes(discovery) | smart) != 0 {
                    return fail(cid, Status::INVALID_FIELD);
                }
                st.aec = v;
            }
            (f, false) if HostFeatures::keeps(f) => {
                let warned = st.features.temperature_warning();
                if let Err(s) = st.features.set(f, v) {
                    return fail(cid, s);
                }
                // A threshold the composite temperature now crosses raises the SMART /
                // Health temperature notice (§5.2), if the host enabled it (AEC bit 1).
                if !warned && st.features.temperature_warning() && st.aec & (1 << 1) != 0 {
                    st.smart_event_pending = true;
                }
            }
            (feature::VOLATILE_WRITE_CACHE, false) => ctrl.wce.store(v & 1 != 0, Ordering::Relaxed),
            // Host Identifier (§5.27.1.26): a fabrics host gives it in Connect only.
            (feature::HOST_IDENTIFIER, false) => {
                return fail(cid, Status::COMMAND_SEQUENCE_ERROR);
            }
            // Reservation Notification Mask (§5.27.1.27), checked above: for one
            // namespace, or all of them (NSID FFFFFFFFh).
            (feature::RESERVATION_NOTIFICATION_MASK, false) => {
                if sqe.nsid == NSID_ALL {
                    st.resv_masks.clear();
                }
                st.resv_masks.insert(sqe.nsid, v);
            }
            _ => return fail(cid, Status::INVALID_FIELD),
        }
        cqe
    }

    /// Builds this discovery controller's log anew: the entries host `hostnqn` reads
    /// through this connection now ([`identify::entries_seen`]), compared with those built
    /// before ([`DiscoveryView`](crate::target::DiscoveryView)). Returns its GENCTR.
    pub(super) fn build_discovery_log(&mut self, hostnqn: &str) -> u64 {
        let (generation, entries) = self.target.discovery_log(hostnqn, self.cfg.listener.addr());
        self.disc.update(generation, identify::entries_seen(entries, self.cfg.local_addr))
    }

    pub(super) fn deliver_events(&mut self) {
        let Some(b) = &self.bound else { return };
        if b.qid != 0 || self.aers.is_empty() {
            return;
        }
        if b.ctrl.discovery {
            // NVMe-oF 1.1 §5.3 / Base 2.0 §5.2: Discovery Log Page Change notice
            // (AEC bit 31) when the entries this host may see changed.
            let enabled = b.ctrl.state().aec & (1 << 31) != 0;
            if !enabled || self.disc_masked {
                return;
            }
            let cntlid = b.ctrl.cntlid;
            // Every tick of every such connection comes here: the log is built again
            // (under the registry lock) only after something changed. A read may have
            // built it since (with RAE set, the event stays: §5.16).
            if !self.disc.is_current(self.target.discovery_generation()) {
                let ctrl = b.ctrl.clone();
                self.build_discovery_log(&ctrl.hostnqn);
            }
            if self.disc.genctr() != self.disc_told {
                self.disc_told = self.disc.genctr();
                self.disc_masked = true;
                // Notice, info F0h Discovery Log Page Change.
                self.complete_aer(0b010, 0xF0, log_id::DISCOVERY);
                info!(cntlid, "asynchronous event: discovery log changed");
            }
            return;
        }
        let cntlid = b.ctrl.cntlid;
        let (ns_event, ana_event, resv_event, smart_event) = {
            let mut st = b.ctrl.state();
            // AEC bit 8: Namespace Attribute Notices enabled.
            let ns = st.ns_event_pending && !st.ns_event_masked && st.aec & (1 << 8) != 0;
            if ns {
                st.ns_event_pending = false;
                st.ns_event_masked = true;
            }
            // AEC bit 11: ANA Change Notices enabled; one AER is left for it only when
            // there are two or the namespace notice does not take the one.
            let ana = st.ana_event_pending
                && !st.ana_event_masked
                && st.aec & (1 << 11) != 0
                && self.aers.len() > usize::from(ns);
            if ana {
                st.ana_event_pending = false;
                st.ana_event_masked = true;
            }
            // Reservation notices have no AEC bit; Feature 82h masks them per namespace
            // before they are queued.
            let resv = st.resv_event_pending
                && !st.resv_event_masked
                && self.aers.len() > usize::from(ns) + usize::from(ana);
            if resv {
                st.resv_event_pending = false;
                st.resv_event_masked = true;
            }
            // AEC bit 1 (§5.27.1.7): checked here too, as the host may have turned the
            // temperature notice off since it was raised.
            let smart = st.smart_event_pending
                && !st.smart_event_masked
                && st.aec & (1 << 1) != 0
                && self.aers.len() > usize::from(ns) + usize::from(ana) + usize::from(resv);
            if smart {
                st.smart_event_pending = false;
                st.smart_event_masked = true;
            }
            (ns, ana, resv, smart)
        };
        if ns_event {
            // Notice, info 00h Namespace Attribute Changed.
            self.complete_aer(0b010, 0x00, log_id::CHANGED_NS);
            info!(cntlid, "asynchronous event: namespace attribute changed");
        }
        if ana_event {
            // Notice, info 03h Asymmetric Namespace Access Change.
            self.complete_aer(0b010, 0x03, log_id::ANA);
            info!(cntlid, "asynchronous event: ANA change");
        }
        if resv_event {
            // I/O Command Specific, info 00h Reservation Log Page Available.
            self.complete_aer(0b110, 0x00, log_id::RESERVATION_NOTIFICATION);
            info!(cntlid, "asynchronous event: reservation notification");
        }
        if smart_event {
            // SMART / Health Status, info 01h Temperature Threshold.
            self.complete_aer(0b001, 0x01, log_id::SMART);
            info!(cntlid, "asynchronous event: temperature threshold");
        }
    }

    /// Completes the oldest outstanding Asynchronous Event Request with an event of
    /// `event_type`, `info` and the log page that tells more (NVMe Base 2.0 §5.2, its
    /// completion queue entry Dword 0). The caller checked that one is outstanding.
    fn complete_aer(&mut self, event_type: u8, info: u8, log: u8) {
        let cid = self.aers.remove(0);
        let mut cqe = ok(cid);
        cqe.dw0 = u32::from(event_type) | (u32::from(info) << 8) | (u32::from(log) << 16);
        self.send_cqe(cqe);
    }
}

/// Whether Set Features takes `fid` on this controller (a discovery controller has the
/// Keep Alive Timer and Asynchronous Event Configuration only); every other is Invalid Field.
pub(super) fn settable(fid: u8, discovery: bool) -> bool {
    let on_any = matches!(fid, feature::KEEP_ALIVE_TIMER | feature::ASYNC_EVENT_CONFIG);
    let on_io = HostFeatures::keeps(fid)
        || matches!(
            fid,
            feature::NUMBER_OF_QUEUES
                | feature::VOLATILE_WRITE_CACHE
                | feature::HOST_IDENTIFIER
                | feature::RESERVATION_NOTIFICATION_MASK
                | feature::RESERVATION_PERSISTENCE
                | feature::NAMESPACE_WRITE_PROTECTION
        );
    on_any || (on_io && !discovery)
}

/// A Get Log Page's length: NUMDU:NUMDL (CDW11 bits 15:0, CDW10 bits 31:16), 0's based
/// dwords (NVMe Base 2.0 §5.16).
pub(super) fn log_page_len(sqe: &Sqe) -> u64 {
    let numd = (u64::from(sqe.cdw11() & 0xFFFF) << 16) | u64::from(sqe.cdw10() >> 16);
    (numd + 1) * 4
}

/// Get Features of the features kept in the controller's state.
fn get_features(sqe: &Sqe, ctrl: &Controller) -> Cqe {
    let cid = sqe.cid;
    let fid = (sqe.cdw10() & 0xFF) as u8;
    let default = sel_default(sqe);
    let st = ctrl.state();
    let mut cqe = ok(cid);
    let value = match (fid, ctrl.discovery) {
        (feature::NUMBER_OF_QUEUES, false) => {
            let n = if st.io_queues == 0 || default { ctrl.max_io_queues } else { st.io_queues };
            u32::from(n - 1) | (u32::from(n - 1) << 16)
        }
        // The default on a transport that needs Keep Alive, as TCP does (§5.27.1.12).
        (feature::KEEP_ALIVE_TIMER, _) if default => KATO_DEFAULT_MS,
        // The Connect command's KATO is the timer's starting value.
        (feature::KEEP_ALIVE_TIMER, _) => st.kato_ms,
        (feature::ASYNC_EVENT_CONFIG, _) if default => ASYNC_EVENT_CONFIG_DEFAULT,
        (feature::ASYNC_EVENT_CONFIG, _) => st.aec,
        (feature::VOLATILE_WRITE_CACHE, false) if default => {
            u32::from(VOLATILE_WRITE_CACHE_DEFAULT)
        }
        (feature::VOLATILE_WRITE_CACHE, false) => u32::from(ctrl.wce.load(Ordering::Relaxed)),
        (feature::RESERVATION_NOTIFICATION_MASK, false) if default => 0,
        (feature::RESERVATION_NOTIFICATION_MASK, false) => st.resv_mask(sqe.nsid),
        (f, false) if HostFeatures::keeps(f) => match st.features.get(f, sqe.cdw11(), default) {
            Ok(v) => v,
            Err(s) => return fail(cid, s),
        },
        _ => return fail(cid, Status::INVALID_FIELD),
    };
    let namespace_specific = fid == feature::RESERVATION_NOTIFICATION_MASK;
    cqe.dw0 = feature_dw0(sqe, namespace_specific, true, || value);
    cqe
}

/// Whether a Get Features asks for the default value: SEL 001b the default; 010b the
/// saved one, which for features that are not saveable (none here is) is the default
/// (§5.15.1).
fn sel_default(sqe: &Sqe) -> bool {
    matches!((sqe.cdw10() >> 8) & 0b111, 1 | 2)
}

/// Whether a Get Features asks for the feature's supported capabilities (SEL 011b).
pub(super) fn sel_capabilities(sqe: &Sqe) -> bool {
    (sqe.cdw10() >> 8) & 0b111 == 3
}

/// DW0 of a Get Features of a feature kept on a namespace, Reservation Persistence
/// (§5.27.1.28) or Namespace Write Protection Config (§8.12): its default is 0 (PTPL
/// off, No Write Protect), whatever the namespace's `current` value.
fn namespace_feature_dw0(sqe: &Sqe, changeable: bool, current: impl FnOnce() -> u32) -> u32 {
    feature_dw0(sqe, true, changeable, || if sel_default(sqe) { 0 } else { current() })
}

/// DW0 of a Get Features completion (§5.15.1): for SEL 011b the feature's supported
/// capabilities, namespace specific (bit 1) and changeable (bit 2), never saveable;
/// for any other SEL `value`, which the caller chose for it.
fn feature_dw0(
    sqe: &Sqe,
    namespace_specific: bool,
    changeable: bool,
    value: impl FnOnce() -> u32,
) -> u32 {
    if sel_capabilities(sqe) {
        (u32::from(namespace_specific) << 1) | (u32::from(changeable) << 2)
    } else {
        value()
    }
}
