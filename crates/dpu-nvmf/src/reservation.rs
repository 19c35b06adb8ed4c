//! Namespace reservations (NVMe Base 2.0 §8.19 "Reservations"; NVM Command Set 1.0
//! §3.2.4-3.2.7): the registrants and the reservation of one namespace, the four
//! reservation commands, and the access check of I/O commands. Pure state, no I/O.
//!
//! A registrant is a host, named by its 128-bit Host Identifier from Connect and the
//! Host NQN the subsystem allowed (and, with secrets, authenticated) it as ([`Host`]):
//! every controller of that host shares its registration and its reservation. The Host
//! Identifier alone is not proven (any host may send any, and the Reservation Report
//! shows every registrant's), so a host of another NQN using it is another registrant. Where the
//! specification leaves a choice, this follows Linux's nvmet: IEKEY is refused on Acquire
//! and Release, the report has only the extended data structure (128-bit host IDs), and
//! reservation notifications go to the hosts nvmet sends them to
//! ([`Reservations::take_notices`]).
//!
//! Persist Through Power Loss (PTPL, §8.19.x) is a flag here and a snapshot
//! ([`SavedReservations`]); the service keeps the snapshot in a file ([`crate::persist`]).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use dpu_nvmf_proto::cqe::Status;
use serde::{Deserialize, Serialize};

/// A 128-bit Host Identifier.
pub type HostId = [u8; 16];

/// Longest NQN (NVMe Base 2.0 §4.5: 223 bytes).
const MAX_NQN: usize = 223;

/// A host as reservations know it: its Host Identifier and Host NQN.
#[derive(Debug, Clone)]
pub struct Host {
    /// The Host Identifier of its Connect.
    pub id: HostId,
    /// Its Host NQN; `None` only for a registration restored from a state file written
    /// before registrations kept their NQN: such a one stands for every NQN with its
    /// Host Identifier until that host registers again ([`Reservations::register`]).
    pub nqn: Option<Arc<str>>,
}

impl Host {
    /// The host `id` of NQN `nqn`.
    pub fn new(id: HostId, nqn: Arc<str>) -> Self {
        Self { id, nqn: Some(nqn) }
    }

    /// Whether the registrant `self` stands for `host`: the same host, or a registration
    /// of an older state file without an NQN of the same Host Identifier.
    pub fn covers(&self, host: &Host) -> bool {
        self.id == host.id && (self.nqn.is_none() || self == host)
    }
}

// Equal NQNs are mostly one allocation (the controllers of a host share it, and a
// registration keeps the registering controller's): compared by address first.
impl PartialEq for Host {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Host {}

impl PartialOrd for Host {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Host {
    fn cmp(&self, other: &Self) -> Ordering {
        self.id.cmp(&other.id).then_with(|| match (&self.nqn, &other.nqn) {
            (Some(a), Some(b)) if Arc::ptr_eq(a, b) => Ordering::Equal,
            (a, b) => a.cmp(b),
        })
    }
}

/// Reservation types (RTYPE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationType {
    /// 1: only the holder writes.
    WriteExclusive = 1,
    /// 2: only the holder reads or writes.
    ExclusiveAccess = 2,
    /// 3: registrants write.
    WriteExclusiveRegistrantsOnly = 3,
    /// 4: registrants read or write.
    ExclusiveAccessRegistrantsOnly = 4,
    /// 5: every registrant is a holder; registrants write.
    WriteExclusiveAllRegistrants = 5,
    /// 6: every registrant is a holder; registrants read or write.
    ExclusiveAccessAllRegistrants = 6,
}

impl ReservationType {
    fn from_rtype(rtype: u8) -> Result<Self, Status> {
        Ok(match rtype {
            1 => Self::WriteExclusive,
            2 => Self::ExclusiveAccess,
            3 => Self::WriteExclusiveRegistrantsOnly,
            4 => Self::ExclusiveAccessRegistrantsOnly,
            5 => Self::WriteExclusiveAllRegistrants,
            6 => Self::ExclusiveAccessAllRegistrants,
            _ => return Err(Status::INVALID_FIELD),
        })
    }

    fn all_registrants(self) -> bool {
        matches!(self, Self::WriteExclusiveAllRegistrants | Self::ExclusiveAccessAllRegistrants)
    }
}

/// What an I/O command does to the namespace's data, for the access check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read, Compare.
    Read,
    /// Write, Write Zeroes, Dataset Management, Flush.
    Write,
}

/// What a Reservation Notification log page reports (NVMe Base 2.0 §5.16.1.24, its
/// Reservation Notification Log Page Type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// 1: another host's preemption removed this host's registration.
    RegistrationPreempted = 1,
    /// 2: a reservation this host shared as a registrant was released, or changed type.
    ReservationReleased = 2,
    /// 3: another host cleared the reservation and every registration.
    ReservationPreempted = 3,
}

/// A reservation notification for the controllers of `host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The registrant whose controllers are told.
    pub host: Host,
    /// What happened.
    pub kind: NoticeKind,
}

/// The reservation state of one namespace.
#[derive(Debug, Default, Clone)]
pub struct Reservations {
    /// Generation (GEN): moves with every registration change and every preemption.
    generation: u32,
    /// Registered hosts and their keys.
    registrants: BTreeMap<Host, u64>,
    /// The reservation: its holder (for the all-registrants types, the host that
    /// acquired it; every registrant holds it) and type.
    reservation: Option<(Host, ReservationType)>,
    /// Notifications the last commands raised, for [`Self::take_notices`].
    notices: Vec<Notice>,
    /// Persist Through Power Loss state (PTPLS): the hosts asked that registrations and
    /// the reservation outlive a loss of power, here a restart of the service.
    ptpl: bool,
}

/// What of a namespace's reservations persists through power loss: everything but the
/// notifications (PTPL is on wherever a snapshot is kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedReservations {
    /// GEN.
    pub generation: u32,
    /// The registrants in Host Identifier order.
    pub registrants: Vec<SavedRegistrant>,
    /// The reservation, if one is held.
    pub reservation: Option<SavedReservation>,
}

/// One registrant of [`SavedReservations`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedRegistrant {
    /// Host Identifier, 32 hex digits.
    pub host: String,
    /// Host NQN; absent in files written before registrations kept it ([`Host::nqn`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nqn: Option<String>,
    /// Reservation key.
    pub key: u64,
}

/// The reservation of [`SavedReservations`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedReservation {
    /// The holder's Host Identifier, 32 hex digits.
    pub holder: String,
    /// The holder's Host NQN, absent as [`SavedRegistrant::nqn`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_nqn: Option<String>,
    /// RTYPE.
    pub rtype: u8,
}

/// Why a [`SavedReservations`] cannot be restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    /// A Host Identifier is not 32 hex digits.
    #[error("host identifier {0:?} is not 32 hex digits")]
    BadHostId(String),
    /// An NQN is empty or longer than 223 bytes.
    #[error("host NQN {0:?} is empty or longer than {MAX_NQN} bytes")]
    BadNqn(String),
    /// A host is registered twice.
    #[error("host {0} is registered twice")]
    DuplicateHost(String),
    /// More registrants than [`MAX_REGISTRANTS`].
    #[error("{0} registrants, more than {MAX_REGISTRANTS}")]
    TooManyRegistrants(usize),
    /// RTYPE is not 1-6.
    #[error("reservation type {0} is not 1-6")]
    BadType(u8),
    /// The holder is not a registrant.
    #[error("the holder {0} is not a registrant")]
    HolderNotRegistered(String),
}

fn parse_host(id: &str, nqn: Option<&str>) -> Result<Host, RestoreError> {
    let mut host = [0u8; 16];
    hex::decode_to_slice(id, &mut host).map_err(|_| RestoreError::BadHostId(id.into()))?;
    if let Some(nqn) = nqn.filter(|n| n.is_empty() || n.len() > MAX_NQN) {
        return Err(RestoreError::BadNqn(nqn.into()));
    }
    Ok(Host { id: host, nqn: nqn.map(Arc::from) })
}

/// What persists of [`Reservations`], to tell whether a command changed it: GEN moves
/// with every change of the registrants.
pub(crate) type Durable = (u32, Option<(Host, ReservationType)>, bool);

/// Size of the extended Reservation Status data structure's header and of each of its
/// Registrant entries.
const REPORT_ENTRY: usize = 64;
/// Most hosts registered on one namespace: a host may connect under any number of Host
/// Identifiers, so registrations are bounded.
pub const MAX_REGISTRANTS: usize = 1024;

/// What an operator sees of a namespace's reservations ([`Reservations::summary`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReservationSummary {
    /// RTYPE of the reservation held, 0 for none.
    pub rtype: u8,
    /// Registered hosts.
    pub registrants: usize,
    /// GEN.
    pub generation: u32,
    /// The holder, for the single-holder types.
    pub holder: Option<HostId>,
    /// PTPLS.
    pub ptpl: bool,
}

impl Reservations {
    /// The state in brief.
    pub fn summary(&self) -> ReservationSummary {
        let kind = self.reservation.as_ref().map(|(_, kind)| *kind);
        ReservationSummary {
            rtype: kind.map_or(0, |k| k as u8),
            registrants: self.registrants.len(),
            generation: self.generation,
            holder: self
                .reservation
                .as_ref()
                .filter(|(_, k)| !k.all_registrants())
                .map(|(h, _)| h.id),
            ptpl: self.ptpl,
        }
    }

    /// The notifications raised since the last call: the caller hands them to the
    /// controllers of their hosts.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    fn notify(&mut self, host: Host, kind: NoticeKind) {
        self.notices.push(Notice { host, kind });
    }

    /// PTPLS: whether the state persists through power loss.
    pub fn ptpl(&self) -> bool {
        self.ptpl
    }

    /// Sets PTPLS (Register's CPTPL 10b/11b, Set Features Reservation Persistence).
    pub fn set_ptpl(&mut self, on: bool) {
        self.ptpl = on;
    }

    /// What persists of the state, for comparing before and after a command.
    pub(crate) fn durable(&self) -> Durable {
        (self.generation, self.reservation.clone(), self.ptpl)
    }

    /// The state to keep through power loss.
    pub fn save(&self) -> SavedReservations {
        SavedReservations {
            generation: self.generation,
            registrants: self
                .registrants
                .iter()
                .map(|(h, key)| SavedRegistrant {
                    host: hex::encode(h.id),
                    nqn: h.nqn.as_deref().map(str::to_owned),
                    key: *key,
                })
                .collect(),
            reservation: self.reservation.as_ref().map(|(h, kind)| SavedReservation {
                holder: hex::encode(h.id),
                holder_nqn: h.nqn.as_deref().map(str::to_owned),
                rtype: *kind as u8,
            }),
        }
    }

    /// The state [`save`](Self::save) kept, PTPL on, checked as untrusted input.
    pub fn restore(saved: &SavedReservations) -> Result<Self, RestoreError> {
        if saved.registrants.len() > MAX_REGISTRANTS {
            return Err(RestoreError::TooManyRegistrants(saved.registrants.len()));
        }
        let mut registrants = BTreeMap::new();
        for r in &saved.registrants {
            if registrants.insert(parse_host(&r.host, r.nqn.as_deref())?, r.key).is_some() {
                return Err(RestoreError::DuplicateHost(r.host.clone()));
            }
        }
        let reservation = match &saved.reservation {
            None => None,
            Some(r) => {
                let kind = ReservationType::from_rtype(r.rtype)
                    .map_err(|_| RestoreError::BadType(r.rtype))?;
                let holder = parse_host(&r.holder, r.holder_nqn.as_deref())?;
                if !registrants.contains_key(&holder) {
                    return Err(RestoreError::HolderNotRegistered(r.holder.clone()));
                }
                Some((holder, kind))
            }
        };
        Ok(Self {
            generation: saved.generation,
            registrants,
            reservation,
            notices: Vec::new(),
            ptpl: true,
        })
    }

    /// `kind` for every registrant but `issuer`.
    fn notify_others(&mut self, issuer: &Host, kind: NoticeKind) {
        let others: Vec<Host> = self.registrants.keys().filter(|h| *h != issuer).cloned().collect();
        for h in others {
            self.notify(h, kind);
        }
    }

    /// Reservation Released for every registrant but `issuer` (§8.19.7: the registrants
    /// lose their access of a Registrants Only or All Registrants reservation).
    fn notify_released(&mut self, issuer: &Host) {
        self.notify_others(issuer, NoticeKind::ReservationReleased);
    }

    /// The registrants.
    pub fn registrant_hosts(&self) -> Vec<Host> {
        self.registrants.keys().cloned().collect()
    }

    /// Whether `host` is a registrant (as [`registrant_hosts`](Self::registrant_hosts)
    /// names them).
    pub fn is_registrant(&self, host: &Host) -> bool {
        self.registrants.contains_key(host)
    }

    /// The registration that stands for `host`, with its key: its own, or one without an
    /// NQN of its Host Identifier ([`Host::nqn`]). At most two lookups, no allocation.
    fn registration(&self, host: &Host) -> Option<(&Host, &u64)> {
        self.registrants.get_key_value(host).or_else(|| {
            host.nqn.as_ref()?;
            self.registrants.get_key_value(&Host { id: host.id, nqn: None })
        })
    }

    /// The registrant `host` acts as in a reservation command: its registration, or
    /// itself when it has none.
    fn as_registrant(&self, host: &Host) -> Host {
        self.registration(host).map_or_else(|| host.clone(), |(h, _)| h.clone())
    }

    /// Whether a reservation is held.
    pub fn is_reserved(&self) -> bool {
        self.reservation.is_some()
    }

    /// Whether any host is registered: I/O commands are then checked, and writes counted,
    /// since a Preempt and Abort may fence a registrant even while nothing is reserved.
    pub fn has_registrants(&self) -> bool {
        !self.registrants.is_empty()
    }

    /// Whether `host` holds the reservation.
    fn holds(&self, host: &Host) -> bool {
        match &self.reservation {
            Some((holder, kind)) => {
                holder.covers(host) || (kind.all_registrants() && self.registration(host).is_some())
            }
            None => false,
        }
    }

    /// Whether an I/O command of `host` with `access` may proceed (§8.19.1, the command
    /// behaviour per reservation type).
    pub fn allows(&self, host: &Host, access: Access) -> bool {
        let Some((_, kind)) = &self.reservation else { return true };
        if self.holds(host) {
            return true;
        }
        let registered = self.registration(host).is_some();
        use ReservationType as T;
        match (*kind, access) {
            (T::WriteExclusive, Access::Read) => true,
            (T::WriteExclusive | T::ExclusiveAccess, _) => false,
            (T::WriteExclusiveRegistrantsOnly | T::WriteExclusiveAllRegistrants, Access::Read) => {
                true
            }
            _ => registered,
        }
    }

    /// The key `host` registered with, checked against `crkey`: a host that is not a
    /// registrant, or gives another key, is in conflict.
    fn check_key(&self, host: &Host, crkey: u64) -> Result<(), Status> {
        match self.registrants.get(host) {
            Some(&key) if key == crkey => Ok(()),
            _ => Err(Status::RESERVATION_CONFLICT),
        }
    }

    /// Reservation Register (NVM Command Set §3.2.6): RREGA 0 register, 1 unregister,
    /// 2 replace; `iekey` skips the check of `crkey`. A registration without an NQN
    /// ([`Host::nqn`]) that `issuer` registers again or replaces becomes its own.
    pub fn register(
        &mut self,
        issuer: &Host,
        rrega: u8,
        iekey: bool,
        crkey: u64,
        nrkey: u64,
    ) -> Result<(), Status> {
        let host = &self.as_registrant(issuer);
        let current = self.registrants.get(host).copied();
        let key_ok = |key: u64| iekey || key == crkey;
        // Only Register, or Replace with IEKEY, adds a registrant: any other request of
        // a host that is not registered is in conflict, however full the table.
        let adds = current.is_none() && (rrega == 0 || (rrega == 2 && iekey));
        match (rrega, current) {
            // Registering again with the same key changes no registration but succeeds
            // (and moves GEN below, as every successful Register does).
            (0, Some(key)) if key != nrkey => return Err(Status::RESERVATION_CONFLICT),
            _ if adds && self.registrants.len() >= MAX_REGISTRANTS => {
                return Err(Status::CAPACITY_EXCEEDED);
            }
            (0, _) => self.register_as(host, issuer, nrkey),
            (1, Some(key)) if key_ok(key) => self.unregister(host),
            (2, Some(key)) if key_ok(key) => self.register_as(host, issuer, nrkey),
            // Replace with IEKEY registers a host that is not registered yet (§8.19.3).
            (2, None) if iekey => {
                self.registrants.insert(issuer.clone(), nrkey);
            }
            (1 | 2, _) => return Err(Status::RESERVATION_CONFLICT),
            _ => return Err(Status::INVALID_FIELD),
        }
        self.generation = self.generation.wrapping_add(1);
        Ok(())
    }

    /// Registers `issuer` with `key` in place of `was`, its registration (or itself): one
    /// without an NQN becomes `issuer`'s, the reservation it holds too.
    fn register_as(&mut self, was: &Host, issuer: &Host, key: u64) {
        self.registrants.remove(was);
        self.registrants.insert(issuer.clone(), key);
        if let Some((holder, _)) = &mut self.reservation
            && holder == was
        {
            *holder = issuer.clone();
        }
    }

    /// Removes `host`'s registration; a reservation it held alone goes with it, one of
    /// the all-registrants types when the last registrant goes.
    fn unregister(&mut self, host: &Host) {
        self.registrants.remove(host);
        if let Some((holder, kind)) = self.reservation.clone() {
            let gone =
                if kind.all_registrants() { self.registrants.is_empty() } else { holder == *host };
            if gone {
                self.reservation = None;
                if matches!(
                    kind,
                    ReservationType::WriteExclusiveRegistrantsOnly
                        | ReservationType::ExclusiveAccessRegistrantsOnly
                ) {
                    self.notify_released(host);
                }
            } else if holder == *host {
                // Another registrant holds it now.
                let next = self.registrants.keys().next().cloned();
                self.reservation = next.map(|h| (h, kind));
            }
        }
    }

    /// Reservation Acquire (§3.2.4): RACQA 0 acquire, 1 preempt, 2 preempt and abort
    /// (commands of preempted hosts already under way complete).
    pub fn acquire(
        &mut self,
        issuer: &Host,
        racqa: u8,
        iekey: bool,
        rtype: u8,
        crkey: u64,
        prkey: u64,
    ) -> Result<(), Status> {
        if iekey || racqa > 2 {
            return Err(Status::INVALID_FIELD);
        }
        let kind = ReservationType::from_rtype(rtype)?;
        let host = &self.as_registrant(issuer);
        self.check_key(host, crkey)?;
        if racqa == 0 {
            return match self.reservation {
                None => {
                    self.reservation = Some((host.clone(), kind));
                    Ok(())
                }
                Some((_, held)) if held == kind && self.holds(host) => Ok(()),
                Some(_) => Err(Status::RESERVATION_CONFLICT),
            };
        }
        // Preempt (NVMe Base 2.0 §8.19, "Preempting a Reservation"; the branches of
        // nvmet's `nvmet_pr_preempt`). The new holder is set before the preempted hosts
        // are unregistered, so that the old holder going releases nothing.
        match self.reservation.clone() {
            // All Registrants, PRKEY 0: every other registrant goes.
            Some((_, held)) if held.all_registrants() && prkey == 0 => {
                self.reservation = Some((host.clone(), kind));
                self.preempt(host, |h, _| h != host);
            }
            // The single holder's key: the registrants with it "other than the host
            // issuing the command" go, and the issuer holds.
            Some((holder, held))
                if !held.all_registrants() && self.registrants.get(&holder) == Some(&prkey) =>
            {
                self.reservation = Some((host.clone(), kind));
                self.preempt(host, |h, key| key == prkey && h != host);
                // A new type changes what the remaining registrants may do (as nvmet).
                if held != kind {
                    self.notify_released(host);
                }
            }
            Some((_, held)) if !held.all_registrants() && prkey == 0 => {
                return Err(Status::INVALID_FIELD);
            }
            // No reservation, another key than the single holder's, or an All
            // Registrants one with a non-zero key: every registrant with PRKEY goes, the
            // issuer included (as nvmet's `nvmet_pr_unreg_all_host_by_prkey`, SPDK's
            // `nvmf_ns_reservation_remove_registrants_by_key`); the reservation stays,
            // an All Registrants one with a registrant left (`unregister`).
            _ => {
                if !self.preempt(host, |_, key| key == prkey) {
                    return Err(Status::RESERVATION_CONFLICT);
                }
            }
        }
        self.generation = self.generation.wrapping_add(1);
        Ok(())
    }

    /// Unregisters the registrants `hit` picks by host and key, as unregistering
    /// themselves would (the reservation follows, [`Self::unregister`]); each but
    /// `issuer` is told its registration was preempted. Whether any was.
    fn preempt(&mut self, issuer: &Host, hit: impl Fn(&Host, u64) -> bool) -> bool {
        let victims: Vec<Host> =
            self.registrants.iter().filter(|(h, k)| hit(h, **k)).map(|(h, _)| h.clone()).collect();
        for v in &victims {
            self.unregister(v);
            if v != issuer {
                self.notify(v.clone(), NoticeKind::RegistrationPreempted);
            }
        }
        !victims.is_empty()
    }

    /// Reservation Release (§3.2.5): RRELA 0 release, 1 clear.
    pub fn release(
        &mut self,
        issuer: &Host,
        rrela: u8,
        iekey: bool,
        rtype: u8,
        crkey: u64,
    ) -> Result<(), Status> {
        if iekey || rrela > 1 {
            return Err(Status::INVALID_FIELD);
        }
        let host = &self.as_registrant(issuer);
        self.check_key(host, crkey)?;
        if rrela == 1 {
            // Clear: the other registrants are told their reservation was preempted.
            self.notify_others(host, NoticeKind::ReservationPreempted);
            self.registrants.clear();
            self.reservation = None;
            self.generation = self.generation.wrapping_add(1);
            return Ok(());
        }
        match self.reservation {
            Some((_, kind)) if self.holds(host) => {
                if kind as u8 != rtype {
                    return Err(Status::INVALID_FIELD);
                }
                self.reservation = None;
                if !matches!(
                    kind,
                    ReservationType::WriteExclusive | ReservationType::ExclusiveAccess
                ) {
                    self.notify_released(host);
                }
                Ok(())
            }
            // Nothing to release: success without effect.
            _ => Ok(()),
        }
    }

    /// Reservation Report (§3.2.7) of `len` bytes: only the extended data structure
    /// (`eds`), since fabrics host IDs have 128 bits; without it, Host Identifier
    /// Inconsistent Format. REGCTL counts every registrant, even those past `len`.
    pub fn report(&self, eds: bool, len: usize) -> Result<Vec<u8>, Status> {
        if !eds {
            return Err(Status::HOST_ID_INCONSISTENT_FORMAT);
        }
        let mut b = vec![0u8; REPORT_ENTRY];
        b[0..4].copy_from_slice(&self.generation.to_le_bytes());
        b[4] = self.reservation.as_ref().map_or(0, |(_, kind)| *kind as u8);
        b[5..7].copy_from_slice(&(self.registrants.len() as u16).to_le_bytes());
        b[9] = u8::from(self.ptpl); // PTPLS
        for (host, key) in &self.registrants {
            let at = b.len();
            b.resize(at + REPORT_ENTRY, 0);
            // CNTLID FFFFh: the host's controllers are dynamic, the registration is the
            // host's.
            b[at..at + 2].copy_from_slice(&0xFFFFu16.to_le_bytes());
            b[at + 2] = u8::from(self.holds(host)); // RCSTS bit 0: holds the reservation
            b[at + 8..at + 16].copy_from_slice(&key.to_le_bytes());
            b[at + 16..at + 32].copy_from_slice(&host.id);
        }
        b.resize(len, 0);
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::LazyLock;

    fn host(id: u8) -> Host {
        Host::new([id; 16], format!("nqn.2014-08.org.example:host{id}").into())
    }
    static A: LazyLock<Host> = LazyLock::new(|| host(0xA));
    static B: LazyLock<Host> = LazyLock::new(|| host(0xB));
    static C: LazyLock<Host> = LazyLock::new(|| host(0xC));
    const CONFLICT: Result<(), Status> = Err(Status::RESERVATION_CONFLICT);

    fn registered(hosts: &[(&Host, u64)]) -> Reservations {
        let mut r = Reservations::default();
        for (h, k) in hosts {
            r.register(h, 0, false, 0, *k).unwrap();
        }
        r
    }

    /// The access table of §8.19.1 for each type: (holder A, registrant B, other C) ×
    /// (read, write).
    #[test]
    fn access_follows_the_reservation_type() {
        let table: [(u8, [bool; 6]); 6] = [
            (1, [true, true, true, false, true, false]),
            (2, [true, true, false, false, false, false]),
            (3, [true, true, true, true, true, false]),
            (4, [true, true, true, true, false, false]),
            (5, [true, true, true, true, true, false]),
            (6, [true, true, true, true, false, false]),
        ];
        for (rtype, want) in table {
            let mut r = registered(&[(&*A, 1), (&*B, 2)]);
            assert!(r.allows(&C, Access::Write), "no reservation: everyone");
            r.acquire(&A, 0, false, rtype, 1, 0).unwrap();
            let got =
                [&*A, &*B, &*C].map(|h| [r.allows(h, Access::Read), r.allows(h, Access::Write)]);
            assert_eq!(got.concat(), want, "type {rtype}");
        }
    }

    #[test]
    fn register_unregister_replace_and_their_conflicts() {
        let mut r = Reservations::default();
        r.register(&A, 0, false, 0, 7).unwrap();
        r.register(&A, 0, false, 0, 7).unwrap();
        assert_eq!(r.register(&A, 0, false, 0, 8), CONFLICT, "another key");
        assert_eq!(r.register(&A, 2, false, 9, 8), CONFLICT, "replace with a wrong key");
        r.register(&A, 2, false, 7, 8).unwrap();
        r.register(&A, 2, true, 0, 9).unwrap();
        assert_eq!(r.register(&B, 1, false, 0, 0), CONFLICT, "not registered");
        assert_eq!(r.register(&B, 2, false, 0, 5), CONFLICT, "replace needs IEKEY");
        r.register(&B, 2, true, 0, 5).unwrap();
        assert_eq!(r.register(&A, 3, false, 0, 0), Err(Status::INVALID_FIELD));
        assert_eq!(r.register(&A, 1, false, 8, 0), CONFLICT);
        r.register(&A, 1, false, 9, 0).unwrap();
        let report = r.report(true, 4096).unwrap();
        assert_eq!(u32::from_le_bytes(report[0..4].try_into().unwrap()), 6, "GEN");
        assert_eq!(u16::from_le_bytes([report[5], report[6]]), 1, "REGCTL: B");
        assert_eq!(&report[64 + 16..64 + 32], &B.id);
        assert_eq!(u64::from_le_bytes(report[72..80].try_into().unwrap()), 5, "RKEY");
        assert_eq!(r.report(false, 4096), Err(Status::HOST_ID_INCONSISTENT_FORMAT));
        assert_eq!(r.report(true, 32).unwrap().len(), 32);
        // Registrations are bounded; a host already registered may still change its key.
        for i in 0..MAX_REGISTRANTS - 1 {
            let mut h = [0u8; 16];
            h[..8].copy_from_slice(&(i as u64).to_le_bytes());
            r.register(&Host::new(h, A.nqn.clone().unwrap()), 0, false, 0, 1).unwrap();
        }
        assert_eq!(r.register(&C, 0, false, 0, 1), Err(Status::CAPACITY_EXCEEDED));
        assert_eq!(r.register(&C, 2, true, 0, 1), Err(Status::CAPACITY_EXCEEDED));
        // Only a request that would add a registrant finds the table full.
        assert_eq!(r.register(&C, 2, false, 0, 1), CONFLICT, "replace without IEKEY");
        assert_eq!(r.register(&C, 1, false, 0, 0), CONFLICT, "unregister");
        r.register(&B, 2, false, 5, 6).unwrap();
        assert_eq!(u16::from_le_bytes(r.report(true, 64).unwrap()[5..7].try_into().unwrap()), 1024);
    }

    #[test]
    fn acquire_release_and_the_holder_going() {
        let mut r = registered(&[(&*A, 1), (&*B, 2)]);
        assert_eq!(r.acquire(&C, 0, false, 1, 0, 0), CONFLICT, "not a registrant");
        assert_eq!(r.acquire(&A, 0, false, 1, 9, 0), CONFLICT, "wrong key");
        assert_eq!(r.acquire(&A, 0, false, 7, 1, 0), Err(Status::INVALID_FIELD), "RTYPE");
        assert_eq!(r.acquire(&A, 0, true, 1, 1, 0), Err(Status::INVALID_FIELD), "IEKEY");
        r.acquire(&A, 0, false, 1, 1, 0).unwrap();
        r.acquire(&A, 0, false, 1, 1, 0).unwrap();
        assert_eq!(r.acquire(&A, 0, false, 2, 1, 0), CONFLICT, "held with another type");
        assert_eq!(r.acquire(&B, 0, false, 1, 2, 0), CONFLICT, "held by another host");
        r.release(&B, 0, false, 1, 2).unwrap();
        assert!(r.is_reserved(), "a non-holder's release changes nothing");
        assert_eq!(r.release(&A, 0, false, 2, 1), Err(Status::INVALID_FIELD), "RTYPE");
        r.release(&A, 0, false, 1, 1).unwrap();
        assert!(!r.is_reserved());
        // The holder unregistering releases a single-holder reservation.
        r.acquire(&A, 0, false, 3, 1, 0).unwrap();
        r.register(&A, 1, false, 1, 0).unwrap();
        assert!(!r.is_reserved());
        // An all-registrants reservation lasts until the last registrant goes.
        r.register(&A, 0, false, 0, 1).unwrap();
        r.acquire(&B, 0, false, 5, 2, 0).unwrap();
        r.register(&B, 1, false, 2, 0).unwrap();
        assert!(r.is_reserved() && r.allows(&A, Access::Write));
        r.register(&A, 1, false, 1, 0).unwrap();
        assert!(!r.is_reserved());
    }

    #[test]
    fn preempt_and_clear() {
        let mut r = registered(&[(&*A, 1), (&*B, 2), (&*C, 2)]);
        r.acquire(&A, 0, false, 1, 1, 0).unwrap();
        // B preempts the holder A by its key: A is unregistered, B holds (type 2 now).
        r.acquire(&B, 1, false, 2, 2, 1).unwrap();
        assert!(!r.allows(&A, Access::Read) && r.allows(&B, Access::Write));
        assert_eq!(r.register(&A, 1, false, 1, 0), CONFLICT, "A was unregistered");
        assert_eq!(r.acquire(&B, 1, false, 2, 2, 0), Err(Status::INVALID_FIELD), "PRKEY 0");
        assert_eq!(r.acquire(&B, 2, false, 2, 2, 9), CONFLICT, "no registrant with PRKEY");
        // Preempting a non-holder's key removes it and leaves the reservation.
        r.register(&A, 0, false, 0, 3).unwrap();
        r.acquire(&B, 2, false, 2, 2, 3).unwrap();
        assert!(r.is_reserved() && r.allows(&B, Access::Write));
        // All registrants: PRKEY 0 preempts everyone else.
        let mut r = registered(&[(&*A, 1), (&*B, 2)]);
        r.acquire(&A, 0, false, 6, 1, 0).unwrap();
        assert!(r.allows(&B, Access::Write), "every registrant holds it");
        r.acquire(&B, 1, false, 2, 2, 0).unwrap();
        assert!(!r.allows(&A, Access::Read), "A preempted");
        let generation = r.report(true, 64).unwrap()[0];
        r.release(&B, 1, false, 0, 2).unwrap();
        let report = r.report(true, 128).unwrap();
        assert_eq!((report[0], report[4], report[5]), (generation + 1, 0, 0), "cleared");
        assert_eq!(
            r.summary(),
            ReservationSummary { generation: u32::from(generation) + 1, ..Default::default() }
        );
        // All registrants: preempting the key of the host that acquired it fences that
        // host too (it is no registrant now), and the state still saves and restores.
        let mut r = registered(&[(&*A, 0xAA), (&*B, 0xBB)]);
        r.acquire(&A, 0, false, 5, 0xAA, 0).unwrap();
        r.acquire(&B, 1, false, 5, 0xBB, 0xAA).unwrap();
        assert!(!r.allows(&A, Access::Write), "the preempted acquirer is fenced");
        assert!(r.allows(&B, Access::Write) && r.allows(&A, Access::Read));
        r.set_ptpl(true);
        let back = Reservations::restore(&r.save()).unwrap();
        assert!(!back.allows(&A, Access::Write) && back.allows(&B, Access::Write));
        let mut r = registered(&[(&*A, 1), (&*B, 2)]);
        r.acquire(&B, 0, false, 2, 2, 0).unwrap();
        let s = r.summary();
        assert_eq!((s.rtype, s.registrants, s.holder), (2, 2, Some(B.id)));
        r.acquire(&B, 1, false, 5, 2, 2).unwrap();
        assert_eq!(r.summary().holder, None, "every registrant holds it");
    }

    /// Preempting by a key that is not the single holder's (or with no reservation, or a
    /// non-zero key of an All Registrants one) unregisters every registrant with that
    /// key, the issuer included (NVMe Base 2.0 §8.19, "Preempting a Reservation"; as
    /// nvmet's `nvmet_pr_unreg_all_host_by_prkey` and SPDK): the issuer is told nothing,
    /// and an All Registrants reservation stays with a registrant left, or goes.
    #[test]
    fn preempt_by_key_unregisters_the_issuer_too() {
        use NoticeKind::RegistrationPreempted;
        let told = |r: &mut Reservations| {
            r.take_notices().into_iter().map(|n| (n.host.id[0], n.kind)).collect::<Vec<_>>()
        };
        let generation = |r: &Reservations| r.summary().generation;
        let ids =
            |r: &Reservations| r.registrant_hosts().iter().map(|h| h.id[0]).collect::<Vec<_>>();
        // No reservation; A preempts its own key.
        let mut r = registered(&[(&*A, 7), (&*B, 8)]);
        let gen0 = generation(&r);
        r.acquire(&A, 1, false, 1, 7, 7).unwrap();
        assert!(!r.is_registrant(&A) && r.is_registrant(&B));
        assert!(!r.is_reserved(), "a preempt that removes the issuer acquires nothing");
        assert_eq!(told(&mut r), [], "the issuer is not told");
        assert_eq!(generation(&r), gen0 + 1);
        // No reservation; A and B share the key: both go, B is told.
        let mut r = registered(&[(&*A, 9), (&*B, 9), (&*C, 3)]);
        r.acquire(&A, 2, false, 1, 9, 9).unwrap();
        assert_eq!(ids(&r), [0xC]);
        assert_eq!(told(&mut r), [(0xB, RegistrationPreempted)]);
        // A single holder C: A and B preempting by their shared key go; C holds on.
        let mut r = registered(&[(&*A, 9), (&*B, 9), (&*C, 3)]);
        r.acquire(&C, 0, false, 2, 3, 0).unwrap();
        r.acquire(&A, 1, false, 2, 9, 9).unwrap();
        assert_eq!(ids(&r), [0xC]);
        assert_eq!(r.summary().holder, Some(C.id));
        assert_eq!(told(&mut r), [(0xB, RegistrationPreempted)]);
        // The holder's key: only the others with it go, the issuer holds (§8.19
        // "other than the host issuing the command").
        let mut r = registered(&[(&*A, 5), (&*B, 5)]);
        r.acquire(&A, 0, false, 1, 5, 0).unwrap();
        r.acquire(&B, 1, false, 1, 5, 5).unwrap();
        assert_eq!(ids(&r), [0xB]);
        assert_eq!(r.summary().holder, Some(B.id));
        // All Registrants acquired by A: A preempting its own key leaves the reservation
        // with C, never naming A; the state saves and restores.
        let mut r = registered(&[(&*A, 9), (&*B, 9), (&*C, 3)]);
        r.acquire(&A, 0, false, 6, 9, 0).unwrap();
        r.acquire(&A, 1, false, 6, 9, 9).unwrap();
        assert_eq!(ids(&r), [0xC]);
        assert_eq!(told(&mut r), [(0xB, RegistrationPreempted)]);
        assert!(r.allows(&C, Access::Write) && !r.allows(&A, Access::Read));
        assert_eq!(r.save().reservation.unwrap().holder, hex::encode(C.id));
        r.set_ptpl(true);
        let back = Reservations::restore(&r.save()).unwrap();
        assert_eq!(back.summary(), r.summary());
        // ...and with no registrant left the reservation goes.
        let mut r = registered(&[(&*A, 9), (&*B, 9)]);
        r.acquire(&A, 0, false, 5, 9, 0).unwrap();
        r.acquire(&A, 1, false, 5, 9, 9).unwrap();
        assert!(!r.has_registrants() && !r.is_reserved());
        assert_eq!(told(&mut r), [(0xB, RegistrationPreempted)]);
        Reservations::restore(&r.save()).unwrap();
    }

    /// The state kept through power loss comes back as it was; a snapshot that could
    /// not have been saved is refused.
    #[test]
    fn saved_state_restores_and_malformed_state_is_refused() {
        let mut r = registered(&[(&*A, 1), (&*B, 2)]);
        r.acquire(&B, 0, false, 4, 2, 0).unwrap();
        let saved = r.save();
        let back = Reservations::restore(&saved).unwrap();
        assert!(back.ptpl(), "kept only with PTPL on");
        r.set_ptpl(true);
        assert_eq!(back.summary(), r.summary());
        assert_eq!(back.report(true, 192), r.report(true, 192));
        assert!(!back.allows(&C, Access::Read));
        let broken = |f: &dyn Fn(&mut SavedReservations)| {
            let mut s = saved.clone();
            f(&mut s);
            Reservations::restore(&s).unwrap_err()
        };
        assert_eq!(
            broken(&|s| s.registrants[0].host = "zz".into()),
            RestoreError::BadHostId("zz".into())
        );
        let dup = broken(&|s| s.registrants[1] = s.registrants[0].clone());
        assert!(matches!(dup, RestoreError::DuplicateHost(_)));
        let bad_type = broken(&|s| s.reservation.as_mut().unwrap().rtype = 7);
        assert_eq!(bad_type, RestoreError::BadType(7));
        let stranger = broken(&|s| s.reservation.as_mut().unwrap().holder = hex::encode(C.id));
        assert!(matches!(stranger, RestoreError::HolderNotRegistered(_)));
        let many = broken(&|s| {
            s.registrants = (0..=MAX_REGISTRANTS as u64)
                .map(|i| SavedRegistrant { host: format!("{i:032x}"), nqn: None, key: i })
                .collect();
        });
        assert_eq!(many, RestoreError::TooManyRegistrants(MAX_REGISTRANTS + 1));
    }

    /// A registrant is a Host Identifier and an NQN: another NQN with A's Host
    /// Identifier is another host. A registration of an older state file, without an NQN,
    /// stands for every NQN with its Host Identifier until one of them registers again.
    #[test]
    fn registrants_are_host_id_and_nqn_and_old_files_bind_on_register() {
        let a2 = Host::new(A.id, "nqn.2014-08.org.example:other".into());
        let mut r = registered(&[(&*A, 1)]);
        r.acquire(&A, 0, false, 1, 1, 0).unwrap();
        assert!(!r.allows(&a2, Access::Write) && r.allows(&A, Access::Write));
        assert_eq!(r.release(&a2, 0, false, 1, 1), CONFLICT, "A's key is not a2's");
        let saved = r.save();
        assert_eq!(saved.registrants[0].nqn.as_deref(), A.nqn.as_deref());
        assert_eq!(saved.reservation.as_ref().unwrap().holder_nqn.as_deref(), A.nqn.as_deref());
        let back = Reservations::restore(&saved).unwrap();
        assert!(back.allows(&A, Access::Write) && !back.allows(&a2, Access::Write));
        // A file of an older version: no NQNs.
        let mut old = saved.clone();
        old.registrants[0].nqn = None;
        old.reservation.as_mut().unwrap().holder_nqn = None;
        let mut r = Reservations::restore(&old).unwrap();
        assert!(r.allows(&A, Access::Write) && r.allows(&a2, Access::Write));
        r.register(&A, 0, false, 0, 1).unwrap();
        assert!(r.allows(&A, Access::Write) && !r.allows(&a2, Access::Write), "A's now");
        assert_eq!(r.summary().registrants, 1);
        let mut want = saved.clone();
        want.generation = r.summary().generation;
        assert_eq!(r.save(), want, "saved with A's NQN");
        let mut bad = saved;
        bad.registrants[0].nqn = Some(String::new());
        assert!(matches!(Reservations::restore(&bad), Err(RestoreError::BadNqn(_))));
    }

    /// Who is told what (NVMe Base 2.0 §8.19, the hosts Linux's nvmet tells): a preempted
    /// registration, a released or retyped shared reservation, a clear; never the issuer,
    /// and nothing for a failed command.
    #[test]
    fn notices_go_to_the_hosts_that_lost_something() {
        use NoticeKind::{RegistrationPreempted, ReservationPreempted, ReservationReleased};
        let told = |r: &mut Reservations| {
            r.take_notices().into_iter().map(|n| (n.host.id[0], n.kind)).collect::<Vec<_>>()
        };
        let mut r = registered(&[(&*A, 1), (&*B, 2), (&*C, 3)]);
        r.acquire(&A, 0, false, 1, 1, 0).unwrap();
        assert_eq!(told(&mut r), [], "registering and acquiring tell nobody");
        assert_eq!(r.acquire(&B, 1, false, 1, 9, 1), CONFLICT);
        assert_eq!(told(&mut r), [], "a failed command tells nobody");
        // B preempts the holder A with the same type: A lost its registration.
        r.acquire(&B, 1, false, 1, 2, 1).unwrap();
        assert_eq!(told(&mut r), [(0xA, RegistrationPreempted)]);
        // B preempts its own reservation with another type: C's access changed.
        r.acquire(&B, 1, false, 3, 2, 2).unwrap();
        assert_eq!(told(&mut r), [(0xC, ReservationReleased)]);
        // Releasing a Registrants Only reservation tells the other registrants;
        // releasing a Write Exclusive one tells nobody.
        r.release(&B, 0, false, 3, 2).unwrap();
        assert_eq!(told(&mut r), [(0xC, ReservationReleased)]);
        r.acquire(&B, 0, false, 1, 2, 0).unwrap();
        r.release(&B, 0, false, 1, 2).unwrap();
        assert_eq!(told(&mut r), []);
        // The holder of a Registrants Only reservation unregistering releases it.
        r.acquire(&B, 0, false, 4, 2, 0).unwrap();
        r.register(&B, 1, false, 2, 0).unwrap();
        assert_eq!(told(&mut r), [(0xC, ReservationReleased)]);
        // All registrants, PRKEY 0: every other registrant is preempted.
        let mut r = registered(&[(&*A, 1), (&*B, 2), (&*C, 3)]);
        r.acquire(&A, 0, false, 5, 1, 0).unwrap();
        r.acquire(&B, 1, false, 1, 2, 0).unwrap();
        assert_eq!(told(&mut r), [(0xA, RegistrationPreempted), (0xC, RegistrationPreempted)]);
        // Clear: the other registrants' reservation was preempted.
        r.register(&A, 0, false, 0, 1).unwrap();
        r.release(&B, 1, false, 0, 2).unwrap();
        assert_eq!(told(&mut r), [(0xA, ReservationPreempted)]);
    }
}
