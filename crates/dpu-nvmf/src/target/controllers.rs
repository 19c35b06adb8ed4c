//! Controllers (NVMe-oF 1.1 §3.3, dynamic controller model): their state, their making
//! at an admin queue's Connect and their removal, and the place each holds in its
//! subsystem's table or the target's discovery table. A full table gives a new Connect
//! the place of a controller whose host has not proven who it is, or of one idle past
//! [`SETUP_GRACE`] or silent past [`SILENT_FLOOR`] (or its KATO, up to [`SILENT_CEILING`])
//! ([`room_among`]); else the Connect is refused.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use dpu_nvmf_proto::fabrics::DISCOVERY_NQN;
use tokio::sync::watch;
use tracing::warn;

use crate::error_log::ErrorLog;
use crate::features::{ASYNC_EVENT_CONFIG_DEFAULT, HostFeatures, VOLATILE_WRITE_CACHE_DEFAULT};
use crate::queue::QueueOps;
use crate::reservation::{Host, Notice};
use crate::stats::SubsystemStats;

use super::{
    ALL_CNTLIDS, MAX_CONTROLLERS_PER_ADDRESS, MAX_CONTROLLERS_PER_HOST, MAX_CONTROLLERS_PER_PREFIX,
    MAX_CONTROLLERS_PER_SUBSYSTEM, MAX_DISCOVERY_CONTROLLERS,
    MAX_DISCOVERY_CONTROLLERS_PER_ADDRESS, MAX_DISCOVERY_CONTROLLERS_PER_PREFIX, NSID_ALL,
    RESERVATION_LOG_MAX, Registry, SETUP_GRACE, SILENT_CEILING, SILENT_FLOOR, Subsystem, Target,
    TargetStats, keep_alive_timeout,
};

/// Asynchronous-event relevant state of a controller.
#[derive(Debug, Default)]
pub struct ControllerState {
    /// CC property (NVMe Base 2.0 §3.1.4.5).
    pub cc: u32,
    /// CSTS property (§3.1.4.6).
    pub csts: u32,
    /// Keep alive timeout in ms (0 = disabled).
    pub kato_ms: u32,
    /// Number of I/O queues granted (Set Features Number of Queues), 0 = not yet set.
    pub io_queues: u16,
    /// I/O queue IDs that are connected.
    pub io_qids: BTreeSet<u16>,
    /// The volume operations of its I/O queues by QID: of each connected queue, and of
    /// each closed one until they ended ([`io_quiet`](Self::io_quiet)), its QID refused
    /// to a new Connect meanwhile.
    pub io_ops: BTreeMap<u16, Arc<QueueOps>>,
    /// Moved by each reset and shutdown: an I/O queue connected before closes at its
    /// next tick (its shell is woken, [`Controller::watch`]).
    pub io_epoch: u64,
    /// A reset or shutdown the host asked for that waits for its I/O queues to close and
    /// their operations to end; CSTS shows it in progress meanwhile.
    pub drain: Option<Drain>,
    /// Asynchronous Event Configuration (Feature 0Bh).
    pub aec: u32,
    /// Changed Namespace List not yet read by the host.
    pub changed_ns: BTreeSet<u32>,
    /// A namespace attribute notice waits for an outstanding AER.
    pub ns_event_pending: bool,
    /// A namespace attribute notice was reported and the log not read yet (masks more).
    pub ns_event_masked: bool,
    /// An ANA change notice waits for an outstanding AER.
    pub ana_event_pending: bool,
    /// The ANA Change Count of the newest change the pending notice is for: a read of
    /// the ANA log that shows this count or a later one reported it.
    pub ana_event_chgcnt: u64,
    /// An ANA change notice was reported and the ANA log not read yet (masks more).
    pub ana_event_masked: bool,
    /// Reservation Notification log pages not read yet, oldest first.
    pub resv_log: VecDeque<ReservationLogPage>,
    /// Log Page Count of the newest page, lost ones counted.
    pub resv_log_count: u64,
    /// A reservation notice waits for an outstanding AER.
    pub resv_event_pending: bool,
    /// A reservation notice was reported and the log not read yet (masks more).
    pub resv_event_masked: bool,
    /// Reservation Notification Mask (Feature 82h) by NSID ([`NSID_ALL`]: the mask of
    /// namespaces without one of their own): bit 1 Registration Preempted, bit 2
    /// Reservation Released, bit 3 Reservation Preempted.
    pub resv_masks: BTreeMap<u32, u32>,
    /// The controller was torn down (admin queue closed, KATO, subsystem removed):
    /// its I/O queues must close.
    pub dead: bool,
    /// The host's values of the features that change nothing here (temperature
    /// thresholds and the like).
    pub features: HostFeatures,
    /// A SMART / Health temperature notice waits for an outstanding AER.
    pub smart_event_pending: bool,
    /// A SMART / Health notice was reported and the SMART log not read yet.
    pub smart_event_masked: bool,
    /// The host has set CC.EN to 1 since the Connect.
    pub enabled_once: bool,
    /// When its admin queue last heard from the host (a command on it, or traffic on an
    /// I/O queue), as that queue's tick publishes it; `None`: not since the Connect.
    pub heard: Option<Instant>,
}

/// A reset or shutdown in progress ([`ControllerState::drain`]).
#[derive(Debug, Clone, Copy)]
pub struct Drain {
    /// When the host asked for it.
    pub since: Instant,
    /// The CSTS the host reads until it completes: RDY as it was, for a shutdown SHST
    /// 01b (processing).
    pub csts: u32,
    /// A shutdown whose volatile write caches are still to be flushed once the I/O
    /// before it ended.
    pub flush: bool,
}

/// A Reservation Notification log page (NVMe Base 2.0 §5.16.1.24).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservationLogPage {
    /// Log Page Count: 1 for the controller's first page, one more for each after.
    pub count: u64,
    /// Reservation Notification Log Page Type ([`crate::reservation::NoticeKind`]).
    pub kind: u8,
    /// The namespace.
    pub nsid: u32,
}

impl ControllerState {
    /// The Reservation Notification Mask of namespace `nsid`.
    pub fn resv_mask(&self, nsid: u32) -> u32 {
        let mask = self.resv_masks.get(&nsid).or_else(|| self.resv_masks.get(&NSID_ALL));
        mask.copied().unwrap_or(0)
    }

    /// Whether every I/O queue is closed and none of their volume operations runs; lets go
    /// of the counts of closed queues whose operations ended.
    pub fn io_quiet(&mut self) -> bool {
        let live = &self.io_qids;
        self.io_ops.retain(|qid, ops| live.contains(qid) || ops.running());
        self.io_ops.is_empty()
    }

    /// Queues a reservation notification page unless its kind is masked for `nsid`.
    fn push_reservation_notice(&mut self, kind: u8, nsid: u32) {
        if self.resv_mask(nsid) & (1 << kind) != 0 {
            return;
        }
        self.resv_log_count = self.resv_log_count.wrapping_add(1).max(1);
        if self.resv_log.len() == RESERVATION_LOG_MAX {
            self.resv_log.pop_front();
        }
        self.resv_log.push_back(ReservationLogPage { count: self.resv_log_count, kind, nsid });
        self.resv_event_pending = true;
    }

    /// A controller reset (CC.EN 1 -> 0). The features a host sets here are not
    /// persistent across one (NVMe Base 2.x, Feature Identifiers table), Reservation
    /// Persistence and Namespace Write Protection Config aside, which belong to the
    /// namespace: they read their defaults again (the Volatile Write Cache, outside this
    /// state, is the caller's). With Asynchronous Event Configuration the notices waiting
    /// or masked under the old one go, else one masked would stay masked for good. The
    /// logs (Changed Namespace List, reservation pages) stay for the host to read. Linux's
    /// nvmet keeps the features over CC.EN (it clears CC and CSTS only); this follows the
    /// spec.
    pub fn reset_features(&mut self) {
        self.features = HostFeatures::default();
        self.resv_masks.clear();
        self.aec = ASYNC_EVENT_CONFIG_DEFAULT;
        self.ns_event_pending = false;
        self.ns_event_masked = false;
        self.ana_event_pending = false;
        self.ana_event_masked = false;
        self.resv_event_pending = false;
        self.resv_event_masked = false;
        self.smart_event_pending = false;
        self.smart_event_masked = false;
    }

    /// Queues an ANA change notice for the change that made the ANA Change Count
    /// `chgcnt`.
    pub(super) fn push_ana_notice(&mut self, chgcnt: u64) {
        self.ana_event_pending = true;
        self.ana_event_chgcnt = chgcnt;
    }
}

/// A live controller (NVMe-oF 1.1 §3.3 dynamic controller model: created by the admin
/// queue Connect, gone when the admin queue closes).
#[derive(Debug)]
pub struct Controller {
    /// CNTLID, unique within the subsystem.
    pub cntlid: u16,
    /// Subsystem NQN.
    pub subnqn: String,
    /// Host NQN of the creating Connect.
    pub hostnqn: String,
    /// Host identifier of the creating Connect.
    pub hostid: [u8; 16],
    /// The host as reservations name it (its Host Identifier and NQN): the NQN is shared
    /// with the subsystem's other controllers of that NQN, so that the I/O path's check
    /// against a registration mostly compares addresses, not strings.
    pub host: Host,
    /// Whether this is a discovery controller.
    pub discovery: bool,
    /// Most I/O queues it is granted (its subsystem's limit when it was created).
    pub max_io_queues: u16,
    /// The listener (port ID) its admin queue connected through, whose ANA states it
    /// reports; `None` outside a listener (tests driving a connection directly).
    pub port_id: Option<u16>,
    /// The address its admin queue connected from (where known).
    pub peer: Option<IpAddr>,
    /// Its place in the order controllers were made (older ones are lower).
    serial: u64,
    /// When its admin queue's Connect made it.
    pub connected: Instant,
    /// Its host has proven who it is: it has no secret to prove it with, or its admin
    /// queue authenticated. Until then a new Connect may take its place.
    proven: AtomicBool,
    /// Where its queues register their counters: its subsystem's (a discovery
    /// controller's are its own and reported nowhere).
    pub stats: Arc<SubsystemStats>,
    /// Volatile write cache enabled (Feature 06h): read by every write, so not behind
    /// the state lock.
    pub wce: AtomicBool,
    /// Enabled and not shut down (CC.EN = 1, CC.SHN = 00b): I/O commands run only then.
    /// Read by every I/O command, so not behind the state lock.
    pub io_enabled: AtomicBool,
    /// The host sent on one of its I/O queues since its admin queue last looked: with
    /// Traffic Based Keep Alive that restarts the Keep Alive Timer as a Keep Alive
    /// command does. Set once per received batch, so not behind the state lock.
    traffic: AtomicBool,
    /// Moved when its queues must look at its state at once rather than at their next
    /// tick (it ended): each connection's shell waits on it.
    wake: watch::Sender<()>,
    state: Mutex<ControllerState>,
    /// Its failed commands: a lock of their own, so recording one never waits on, or
    /// deadlocks with, the state lock.
    errors: Mutex<ErrorLog>,
}

impl Controller {
    /// Locks the mutable state. A poisoned lock is recovered: the state stays
    /// consistent field by field.
    pub fn state(&self) -> MutexGuard<'_, ControllerState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Ends the controller: its queues take no more I/O from now on (an I/O command that
    /// comes closes its queue unanswered) and are woken to close at once (not at their
    /// next tick); its ID may go to a new controller. Returns whether it was already
    /// ended.
    pub fn end(&self) -> bool {
        let was = {
            // Under the state lock, which a Property Set that enables I/O holds from its
            // check of `dead` to its store.
            let mut st = self.state();
            self.io_enabled.store(false, Ordering::Release);
            std::mem::replace(&mut st.dead, true)
        };
        if !was {
            self.wake_queues();
        }
        was
    }

    /// What moves when its queues must look at its state at once ([`Controller::end`]):
    /// a queue's shell ticks the connection then.
    pub fn watch(&self) -> watch::Receiver<()> {
        self.wake.subscribe()
    }

    /// Wakes its queues' shells ([`watch`](Self::watch)).
    pub fn wake_queues(&self) {
        self.wake.send_replace(());
    }

    /// The host sent commands (or their data) on one of its I/O queues (NVMe Base 2.0
    /// §3.9.4, Traffic Based Keep Alive). Written only when not yet set, so the queues of
    /// a busy controller do not keep taking the cache line from one another.
    pub fn note_traffic(&self) {
        if !self.traffic.load(Ordering::Relaxed) {
            self.traffic.store(true, Ordering::Relaxed);
        }
    }

    /// Since when the controller has been idle, and how, if a new Connect to a full table
    /// may take its place at `now` ([`room_among`]): not enabled by its host within
    /// [`SETUP_GRACE`] of its Connect, or its host silent longer than it may be
    /// ([`silence_allowed`]).
    fn idle(&self, now: Instant) -> Option<(Instant, Eviction)> {
        let st = self.state();
        let heard = st.heard.unwrap_or(self.connected);
        if !st.enabled_once && now.saturating_duration_since(self.connected) > SETUP_GRACE {
            Some((heard, Eviction::NeverEnabled))
        } else if now.saturating_duration_since(heard) > silence_allowed(st.kato_ms) {
            Some((heard, Eviction::Silent))
        } else {
            None
        }
    }

    /// Its place in the order controllers were made: unique in the target, unlike its
    /// CNTLID, which a new controller gets once this one ends.
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// The admin queue authenticated (DH-HMAC-CHAP): the controller keeps its place.
    pub fn authenticated(&self) {
        self.proven.store(true, Ordering::Relaxed);
    }

    /// Whether a command arrived since the last call (which clears it).
    pub fn take_traffic(&self) -> bool {
        self.traffic.swap(false, Ordering::Relaxed)
    }

    /// Locks its Error Information log (recovered if poisoned, as [`state`](Self::state)).
    pub fn errors(&self) -> MutexGuard<'_, ErrorLog> {
        self.errors.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The controllers a new Connect ends to make room in the full tables of a subsystem it
/// would join, picked for every table before any is ended, so a Connect that a later
/// table refuses ends none.
#[derive(Default)]
struct Room(Vec<(Arc<Controller>, Eviction)>);

impl Room {
    /// If the controllers of `table` that `which` keeps, less those picked already, are
    /// `limit` or more, picks one of them ([`room_among`]); Busy if none may be ended.
    fn pick(
        &mut self,
        table: &BTreeMap<u16, Arc<Controller>>,
        which: impl Fn(&Controller) -> bool,
        limit: usize,
        now: Instant,
    ) -> Result<(), ConnectRefusal> {
        let left = || {
            table.values().filter(|c| which(c) && !self.0.iter().any(|(v, _)| Arc::ptr_eq(v, c)))
        };
        if left().count() < limit {
            return Ok(());
        }
        let (c, why) = room_among(left(), now).ok_or(ConnectRefusal::Busy)?;
        let c = c.clone();
        self.0.push((c, why));
        Ok(())
    }

    /// Ends the controllers picked and takes them out of `s`.
    fn make(self, s: &mut Subsystem, stats: &TargetStats) {
        for (c, why) in self.0 {
            s.controllers.remove(&c.cntlid);
            evicted(&c, why, stats);
        }
    }
}

/// Why a controller gave its place to a new Connect.
#[derive(Debug, Clone, Copy)]
enum Eviction {
    /// Its host has not proven who it is (DH-HMAC-CHAP) yet.
    Unproven,
    /// Its host has not enabled it within [`SETUP_GRACE`] of its Connect.
    NeverEnabled,
    /// Its host has sent nothing for longer than it may ([`silence_allowed`]).
    Silent,
}

/// How long the host of a controller with keep-alive timeout `kato_ms` may send nothing
/// before the controller yields its place to a new Connect to a full table:
/// [`SILENT_FLOOR`], or its KATO when longer (a live host sends Keep Alive within it;
/// silent past it, the Keep Alive Timer ends the controller anyway), up to
/// [`SILENT_CEILING`].
fn silence_allowed(kato_ms: u32) -> Duration {
    Duration::from_millis(u64::from(kato_ms)).clamp(SILENT_FLOOR, SILENT_CEILING)
}

/// The controller among `candidates` (the ones of a full table) a new Connect may take
/// the place of, and why; `None` if every one is in use. First one whose host has not
/// proven who it is: the oldest of the peer address (an IPv6 peer's /64, any of whose
/// addresses one machine may take) holding the most of them, so a peer flooding Connects
/// with a host's NQN (and without its secret) ends its own controllers, not the one the
/// real host, from another address, is still authenticating. Else the one whose host has
/// been silent the longest, among those not enabled within [`SETUP_GRACE`] or silent
/// longer than they may be ([`silence_allowed`]): a few addresses that connect and fall silent would otherwise lock
/// every other host out of the table.
fn room_among<'a>(
    candidates: impl Iterator<Item = &'a Arc<Controller>> + Clone,
    now: Instant,
) -> Option<(&'a Arc<Controller>, Eviction)> {
    let unproven = candidates.clone().filter(|c| !c.proven.load(Ordering::Relaxed));
    let group = |c: &Controller| c.peer.map(dpu_runtime::peer::group);
    let mut by_peer: BTreeMap<Option<IpAddr>, usize> = BTreeMap::new();
    for c in unproven.clone() {
        *by_peer.entry(group(c)).or_default() += 1;
    }
    if let Some(c) = unproven.max_by_key(|c| (by_peer[&group(c)], std::cmp::Reverse(c.serial))) {
        return Some((c, Eviction::Unproven));
    }
    candidates
        .filter_map(|c| c.idle(now).map(|(since, why)| (since, c, why)))
        .min_by_key(|(since, c, _)| (*since, c.serial))
        .map(|(_, c, why)| (c, why))
}

/// Counts and tells a controller ended for a new Connect ([`room_among`]), and ends it.
fn evicted(c: &Controller, why: Eviction, stats: &TargetStats) {
    let n = stats.controllers_evicted.fetch_add(1, Ordering::Relaxed) + 1;
    // Told at the first and every 1,000th: peers can repeat it at will.
    if n % 1000 == 1 {
        warn!(cntlid = c.cntlid, subnqn = %c.subnqn, hostnqn = ?c.hostnqn, peer = ?c.peer,
            ?why, evicted = n, "controller ended to make room for a new one");
    }
    c.end();
}

impl Registry {
    /// Ends one of the discovery controllers `which` picks for a new one
    /// ([`room_among`]); Busy if none may be ended.
    fn make_discovery_room(
        &mut self,
        which: impl Fn(&Controller) -> bool,
        now: Instant,
        stats: &TargetStats,
    ) -> Result<(), ConnectRefusal> {
        let (victim, why) = room_among(self.discovery.values().filter(|c| which(c)), now)
            .map(|(c, why)| (c.clone(), why))
            .ok_or(ConnectRefusal::Busy)?;
        self.forget_discovery_controller(&victim);
        evicted(&victim, why, stats);
        Ok(())
    }

    /// Takes discovery controller `c` out of the table and its counts, if it is still in
    /// them (each is counted out once, however often it is removed).
    fn forget_discovery_controller(&mut self, c: &Controller) {
        if !self.discovery.get(&c.serial).is_some_and(|x| std::ptr::eq(x.as_ref(), c)) {
            return;
        }
        self.discovery.remove(&c.serial);
        let Some(p) = c.peer else { return };
        for (counts, key) in [
            (&mut self.discovery_by_address, p),
            (&mut self.discovery_by_prefix, dpu_runtime::peer::group(p)),
        ] {
            if let Some(n) = counts.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(&key);
                }
            }
        }
    }
}

/// Why a Connect was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectRefusal {
    /// No such subsystem: Connect Invalid Parameters, SUBNQN.
    UnknownSubsystem,
    /// The host is not allowed: Connect Invalid Host.
    HostNotAllowed,
    /// Too many controllers: Controller Busy.
    Busy,
}

/// Why an I/O queue's Connect names no controller of its host: the field in error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControllerMismatch {
    /// No such subsystem (SUBNQN).
    UnknownSubsystem,
    /// No controller of that ID is this host's (CNTLID): there is none, or another host
    /// (another host NQN or Host Identifier) made it. The two are not told apart, so a
    /// stranger does not learn which controller IDs exist (as Linux's nvmet).
    NotThisHosts,
}

impl Target {
    /// Hands reservation notifications of namespace `nsid` to the controllers of their
    /// hosts, by Host Identifier and NQN (each queues a log page and an asynchronous
    /// event unless it masks the kind).
    pub fn reservation_notices(&self, nqn: &str, nsid: u32, notices: &[Notice]) {
        let r = self.lock();
        let Some(s) = r.subsystems.get(nqn) else { return };
        for n in notices {
            for c in s.controllers.values().filter(|c| n.host.covers(&c.host)) {
                c.state().push_reservation_notice(n.kind as u8, nsid);
            }
        }
    }

    /// Creates a controller for an admin queue Connect (NVMe-oF 1.1 §3.3 "Connect")
    /// that came through listener `port_id` from `peer` at `now`. A full table gives it
    /// the place of an unproven or idle controller, if it has one ([`room_among`]).
    // The Connect's own fields, plus where and when it came.
    #[allow(clippy::too_many_arguments)]
    pub fn create_controller(
        &self,
        subnqn: &str,
        hostnqn: &str,
        hostid: [u8; 16],
        kato_ms: u32,
        port_id: Option<u16>,
        peer: Option<IpAddr>,
        now: Instant,
    ) -> Result<Arc<Controller>, ConnectRefusal> {
        let mut r = self.lock();
        r.controllers_made += 1;
        let serial = r.controllers_made;
        let nqn = r
            .subsystems
            .get(subnqn)
            .and_then(|s| s.controllers.values().find(|c| c.hostnqn == hostnqn))
            .and_then(|c| c.host.nqn.clone())
            .unwrap_or_else(|| hostnqn.into());
        let new = |cntlid, discovery, max_io_queues, stats, proven| {
            Arc::new(Controller {
                cntlid,
                subnqn: subnqn.to_owned(),
                hostnqn: hostnqn.to_owned(),
                hostid,
                host: Host::new(hostid, nqn.clone()),
                discovery,
                max_io_queues,
                port_id,
                peer,
                serial,
                connected: now,
                proven: AtomicBool::new(proven),
                stats,
                wce: AtomicBool::new(VOLATILE_WRITE_CACHE_DEFAULT),
                io_enabled: AtomicBool::new(false),
                traffic: AtomicBool::new(false),
                wake: watch::Sender::new(()),
                state: Mutex::new(ControllerState { kato_ms, ..Default::default() }),
                errors: Mutex::default(),
            })
        };
        if subnqn == DISCOVERY_NQN {
            // The address's table is within its /64's, within the target's: one controller
            // ended makes room in each that is full, from the narrowest first, so no wider
            // table refuses a Connect after a narrower one ended a controller for it.
            let group = peer.map(dpu_runtime::peer::group);
            if let Some(p) = peer
                && r.discovery_by_address.get(&p) >= Some(&MAX_DISCOVERY_CONTROLLERS_PER_ADDRESS)
            {
                r.make_discovery_room(|c| c.peer == Some(p), now, &self.stats)?;
            }
            if let Some(g) = group
                && r.discovery_by_prefix.get(&g) >= Some(&MAX_DISCOVERY_CONTROLLERS_PER_PREFIX)
            {
                let of_prefix = |c: &Controller| c.peer.map(dpu_runtime::peer::group) == Some(g);
                r.make_discovery_room(of_prefix, now, &self.stats)?;
            }
            if r.discovery.len() >= MAX_DISCOVERY_CONTROLLERS {
                r.make_discovery_room(|_| true, now, &self.stats)?;
            }
            if let (Some(p), Some(g)) = (peer, group) {
                *r.discovery_by_address.entry(p).or_default() += 1;
                *r.discovery_by_prefix.entry(g).or_default() += 1;
            }
            r.next_discovery_cntlid = id_after(r.next_discovery_cntlid, &ALL_CNTLIDS);
            let c = new(r.next_discovery_cntlid, true, 0, Arc::default(), true);
            c.state().kato_ms = keep_alive_timeout(true, kato_ms);
            r.discovery.insert(serial, c.clone());
            return Ok(c);
        }
        let s = r.subsystems.get_mut(subnqn).ok_or(ConnectRefusal::UnknownSubsystem)?;
        if !s.spec.allows(hostnqn) {
            return Err(ConnectRefusal::HostNotAllowed);
        }
        // A host or a peer address past its share, or a subsystem full (or whose every ID
        // in its range is taken), refuses the Connect, unless a controller whose host has
        // not proven who it is yet, or an idle one, can make room: a peer that claims a
        // host's NQN without its secret, or connects and falls silent, holds places only
        // until another host needs them.
        let ids = s.spec.cntlids.clone();
        let span = usize::from(ids.end() - ids.start()) + 1;
        let mut room = Room::default();
        room.pick(&s.controllers, |c| c.hostnqn == hostnqn, MAX_CONTROLLERS_PER_HOST, now)?;
        if let Some(ip) = peer {
            room.pick(&s.controllers, |c| c.peer == Some(ip), MAX_CONTROLLERS_PER_ADDRESS, now)?;
            let group = dpu_runtime::peer::group(ip);
            let of_prefix = |c: &Controller| c.peer.map(dpu_runtime::peer::group) == Some(group);
            room.pick(&s.controllers, of_prefix, MAX_CONTROLLERS_PER_PREFIX, now)?;
        }
        // The subsystem is full when it holds its most, or every ID of its range is taken;
        // either way the place is one of the range (a limit of 0 always picks).
        let full = s.controllers.len() - room.0.len() >= MAX_CONTROLLERS_PER_SUBSYSTEM;
        let in_range = |c: &Controller| ids.contains(&c.cntlid);
        room.pick(&s.controllers, in_range, if full { 0 } else { span }, now)?;
        room.make(s, &self.stats);
        let mut id = s.next_cntlid;
        while s.controllers.contains_key(&id) {
            id = id_after(id, &ids);
        }
        s.next_cntlid = id_after(id, &ids);
        let proven = !s.spec.host_secrets.contains_key(hostnqn);
        let c = new(id, false, s.spec.max_io_queues, s.stats.clone(), proven);
        s.controllers.insert(id, c.clone());
        Ok(c)
    }

    /// The controller `cntlid` of `subnqn` if it was created by the same host
    /// (I/O queue Connect); else the field that does not match.
    pub fn find_controller(
        &self,
        subnqn: &str,
        cntlid: u16,
        hostnqn: &str,
        hostid: &[u8; 16],
    ) -> Result<Arc<Controller>, ControllerMismatch> {
        let r = self.lock();
        let s = r.subsystems.get(subnqn).ok_or(ControllerMismatch::UnknownSubsystem)?;
        s.controllers
            .get(&cntlid)
            .filter(|c| c.hostnqn == hostnqn && &c.hostid == hostid)
            .cloned()
            .ok_or(ControllerMismatch::NotThisHosts)
    }

    /// Tears a controller down (its admin queue closed or its keep alive expired).
    pub fn remove_controller(&self, c: &Controller) {
        c.end();
        let mut r = self.lock();
        if c.discovery {
            r.forget_discovery_controller(c);
            return;
        }
        if let Some(s) = r.subsystems.get_mut(&c.subnqn)
            && s.controllers.get(&c.cntlid).is_some_and(|x| std::ptr::eq(x.as_ref(), c))
        {
            s.controllers.remove(&c.cntlid);
        }
    }

    /// Counts a refused Connect: target-wide, and for the subsystem it named if that
    /// exists (`None` when the Connect data could not be parsed).
    pub fn connect_refused(&self, subnqn: Option<&str>) {
        self.stats.connects_refused.fetch_add(1, Ordering::Relaxed);
        if let Some(nqn) = subnqn
            && let Some(s) = self.lock().subsystems.get(nqn)
        {
            s.stats.connect_refused();
        }
    }

    /// Number of live controllers of a subsystem.
    pub fn controller_count(&self, nqn: &str) -> usize {
        self.lock().subsystems.get(nqn).map_or(0, |s| s.controllers.len())
    }
}

/// The controller ID after `id` going round `ids` (dynamic IDs are handed out in turn, so
/// a host that reconnects gets a new one).
fn id_after(id: u16, ids: &RangeInclusive<u16>) -> u16 {
    if id >= *ids.end() || id < *ids.start() { *ids.start() } else { id + 1 }
}
