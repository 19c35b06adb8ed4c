//! Namespaces: adding and removing them, looking them up as a host sees them (its allowed
//! hosts, its ANA group's state), the volumes under them, and their write protection by
//! the operator and by hosts (NVMe Base 2.0 §8.12). A change a host can observe queues a
//! namespace notice (its NSID in the Changed Namespace List, §5.16.1.5) for the
//! controllers of the hosts that see it; a host's write protection, once it stands.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::persist::{NamespaceStore, SaveTurns, SavedNamespace};
use crate::reservation::Reservations;
use crate::volume::Volume;

use super::ana::{ana_state_of, notify_ana_change};
use super::{
    AnaState, CHANGED_NS_LIST_MAX, Controller, DEFAULT_ANA_GROUP, MAX_NSID, RegistryError,
    Subsystem, Target, check_ana_group, validate_nqns,
};

/// Per-namespace I/O counters.
#[derive(Debug, Default)]
pub struct NamespaceStats {
    /// Read commands completed successfully.
    pub reads: AtomicU64,
    /// Write commands completed successfully.
    pub writes: AtomicU64,
    /// Bytes read.
    pub read_bytes: AtomicU64,
    /// Bytes written.
    pub write_bytes: AtomicU64,
    /// Commands completed with an error status.
    pub errors: AtomicU64,
    /// Commands that waited for their volume's rate limit.
    pub throttled: AtomicU64,
}

/// A snapshot of [`NamespaceStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NamespaceCounters {
    /// Read commands.
    pub reads: u64,
    /// Write commands.
    pub writes: u64,
    /// Bytes read.
    pub read_bytes: u64,
    /// Bytes written.
    pub write_bytes: u64,
    /// Failed commands.
    pub errors: u64,
    /// Commands that waited for the volume's rate limit.
    pub throttled: u64,
}

impl Namespace {
    /// Publishes what the I/O path checks of `r`, this namespace's reservations after a
    /// change (made under their lock).
    pub fn note_reservations(&self, r: &Reservations) {
        // Sequentially consistent: see `crate::queue::WriteTicket::new`.
        self.registered.store(r.has_registrants(), Ordering::SeqCst);
        self.reserved.store(r.is_reserved(), Ordering::Relaxed);
    }

    /// Whether a host write-protects it (Feature 84h), whatever the operator does.
    pub fn host_write_protected(&self) -> bool {
        self.host_write_protection() != HostWriteProtection::NoWriteProtect
    }

    /// A host's write protection state of it (Feature 84h).
    pub fn host_write_protection(&self) -> HostWriteProtection {
        self.protected_by.lock().unwrap_or_else(PoisonError::into_inner).host
    }

    /// Its Write Protection State as Get Features 84h reports it (§5.27.1.28): the host's
    /// state, or Write Protect (001b) while only the operator protects it.
    pub fn write_protection_state(&self) -> u32 {
        let by = *self.protected_by.lock().unwrap_or_else(PoisonError::into_inner);
        match by.host {
            HostWriteProtection::NoWriteProtect => u32::from(by.operator),
            host => host as u32,
        }
    }

    /// Marks it removed from the target (under the registry lock, once it is out of the
    /// registry): the volume operations its commands started that have not started
    /// running are skipped from now on, those waiting for a pool thread at once, and
    /// [`io_running`](Self::io_running) tells when the others have ended.
    pub(crate) fn detach(&self) {
        // Sequentially consistent: see `crate::queue::OpGuard::new`.
        self.detached.store(true, Ordering::SeqCst);
        let ops = self.ops.lock().unwrap_or_else(PoisonError::into_inner);
        for o in ops.iter().filter_map(Weak::upgrade) {
            o.wake_removed();
        }
    }

    /// Cuts the hosts that may reach it no more off from the volume operations their
    /// commands handed on ([`QueueOps::cut_off_if_unreachable`]): called once they lost it
    /// ([`Target::set_hosts`] ended their controllers, [`Target::set_allowed_hosts`] made
    /// it inactive for them). As at its removal, those not started are skipped, and
    /// [`cut_off_io_running`](Self::cut_off_io_running) tells when the others have ended.
    ///
    /// [`QueueOps::cut_off_if_unreachable`]: crate::queue::QueueOps::cut_off_if_unreachable
    pub(crate) fn cut_off_unreachable(&self) {
        // Listed first, looked at after: see `QueueOps::on_namespace`.
        let ops: Vec<_> = self
            .ops
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for o in ops {
            o.cut_off_if_unreachable();
        }
    }

    /// Whether a volume operation of a host cut off from it
    /// ([`cut_off_unreachable`](Self::cut_off_unreachable)) has not ended, run or skipped.
    /// Takes the list's lock; not for the I/O path.
    pub fn cut_off_io_running(&self) -> bool {
        let ops = self.ops.lock().unwrap_or_else(PoisonError::into_inner);
        ops.iter().filter_map(Weak::upgrade).any(|o| o.cut_off_running())
    }

    /// Whether a volume operation one of its commands started has not ended, run or
    /// skipped. Once it is removed, a `false` is for good: whatever its queues hand on
    /// later is skipped (Linux's nvmet: `nvmet_ns_disable` waits for the requests that
    /// hold a reference to the namespace). Takes the list's lock; not for the I/O path.
    pub fn io_running(&self) -> bool {
        let ops = self.ops.lock().unwrap_or_else(PoisonError::into_inner);
        ops.iter().filter_map(Weak::upgrade).any(|o| o.running())
    }

    /// Whether host `hostnqn` sees the namespace (it is active for its controllers).
    pub fn visible_to(&self, hostnqn: &str) -> bool {
        let hosts = self.allowed_hosts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        hosts.is_empty() || hosts.contains(hostnqn)
    }
}

impl NamespaceStats {
    /// Reads the counters.
    pub fn snapshot(&self) -> NamespaceCounters {
        NamespaceCounters {
            reads: self.reads.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            read_bytes: self.read_bytes.load(Ordering::Relaxed),
            write_bytes: self.write_bytes.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
        }
    }
}

/// A namespace: a volume exported under an NSID with its identifiers.
#[derive(Debug)]
pub struct Namespace {
    /// The subsystem's NQN.
    pub subnqn: String,
    /// Namespace ID.
    pub nsid: u32,
    /// The volume.
    pub volume: Arc<Volume>,
    /// Namespace Globally Unique Identifier.
    pub nguid: [u8; 16],
    /// Namespace UUID.
    pub uuid: [u8; 16],
    /// ANA group (Identify Namespace ANAGRPID); see [`Target::set_ana_group`].
    pub ana_group: AtomicU32,
    /// Registrants and reservation (NVMe reservations).
    pub reservations: Mutex<Reservations>,
    /// Whether any host is registered (a reservation needs a registrant): I/O commands
    /// look at `reservations` only then.
    pub registered: AtomicBool,
    /// Whether a reservation is held: reads are checked only then.
    pub reserved: AtomicBool,
    /// The counts of the writes each queue has running on the volume (a
    /// [`crate::queue::WriteTicket`] each), of the queues that wrote since their last
    /// lookup of it: Preempt and Abort waits for the preempted hosts' to finish before it
    /// completes.
    pub writers: Mutex<Vec<Weak<crate::queue::QueueWrites>>>,
    /// Where its reservations persist through power loss and a host's write protection
    /// through a restart (the target's [`NamespaceStore`]); without one, PTPL is not
    /// supported (RESCAP bit 0) and Write Protect lasts until the service stops.
    pub store: Option<Arc<NamespaceStore>>,
    /// The counts of the volume operations each queue's commands on it have started and
    /// not ended ([`crate::queue::OpGuard`]), listed weakly: its removal waits for them
    /// ([`Namespace::io_running`]).
    pub ops: Mutex<Vec<Weak<crate::queue::QueueOps>>>,
    /// Removed from the target ([`Namespace::detach`]): its state is saved no more, and
    /// the volume operations its commands started that have not started running are
    /// skipped.
    pub detached: AtomicBool,
    /// Its changes to save, numbered, and how far its file holds them: saves of changes
    /// made while another ran share one write ([`NamespaceStore::save_change`]).
    pub saves: SaveTurns,
    /// Write protected (Identify Namespace NSATTR bit 0): commands that would modify the
    /// namespace fail. Set while the operator ([`Target::set_write_protected`]) or a host
    /// ([`Target::set_host_write_protection`]) protects it; the one flag I/O reads.
    pub write_protected: AtomicBool,
    /// The operator's protection and a host's (written under the registry lock, which
    /// keeps `write_protected` their union).
    protected_by: Mutex<WriteProtection>,
    /// The host NQNs that see the namespace, empty for every host of the subsystem; to
    /// the others its NSID is inactive. See [`Target::set_allowed_hosts`].
    allowed_hosts: Mutex<BTreeSet<String>>,
    /// Counters: shared with the namespace it replaced under one resource name, if any
    /// ([`Target::add_namespace_counting`]).
    pub stats: Arc<NamespaceStats>,
}

/// Who write-protects a namespace, and whether it was protected when its hosts last had a
/// namespace notice of it ([`notify_ns_change`]; the first goes when it is added).
#[derive(Debug, Default, Clone, Copy)]
struct WriteProtection {
    operator: bool,
    host: HostWriteProtection,
    told: bool,
}

impl WriteProtection {
    /// Whether the namespace is protected: by the operator, a host, or both.
    fn protected(&self) -> bool {
        self.operator || self.host != HostWriteProtection::NoWriteProtect
    }
}

/// A host's Namespace Write Protection State (Feature 84h, WPS; NVMe Base 2.0 §8.12).
/// Permanent Write Protect (011b) is not offered: no host may take a namespace from
/// the operator for good.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum HostWriteProtection {
    /// No Write Protect (000b).
    #[default]
    NoWriteProtect = 0,
    /// Write Protect (001b): kept through a restart of the service where it has a
    /// state directory, until a host sets No Write Protect.
    WriteProtect = 1,
    /// Write Protect Until Power Cycle (010b): no host can lift it; it ends when the
    /// service restarts.
    UntilPowerCycle = 2,
}

impl HostWriteProtection {
    /// The state a Set Features WPS value names; `None` for Permanent Write Protect and
    /// the reserved values.
    pub fn from_wps(wps: u32) -> Option<Self> {
        match wps {
            0 => Some(Self::NoWriteProtect),
            1 => Some(Self::WriteProtect),
            2 => Some(Self::UntilPowerCycle),
            _ => None,
        }
    }
}

/// Why a host may not change a namespace's write protection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostWriteProtectError {
    /// The namespace is gone.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The operator protects it: a host cannot lift that.
    #[error("the operator write-protects namespace {nsid}")]
    ByOperator {
        /// NSID.
        nsid: u32,
    },
    /// It is write protected until the service restarts.
    #[error("namespace {nsid} is write protected until power cycle")]
    UntilPowerCycle {
        /// NSID.
        nsid: u32,
    },
}

/// What an operator may change on an attached namespace without detaching it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceAttrs {
    /// ANA group (1..=[`ANA_GROUP_MAX`](super::ANA_GROUP_MAX)).
    pub ana_group: u32,
    /// Write protected.
    pub write_protected: bool,
    /// The host NQNs that see the namespace; empty: every host of the subsystem.
    pub allowed_hosts: BTreeSet<String>,
}

impl Default for NamespaceAttrs {
    fn default() -> Self {
        Self {
            ana_group: DEFAULT_ANA_GROUP,
            write_protected: false,
            allowed_hosts: BTreeSet::new(),
        }
    }
}

impl Target {
    /// Adds a writable namespace in the default ANA group and notifies the subsystem's
    /// controllers (AEN).
    pub fn add_namespace(
        &self,
        nqn: &str,
        nsid: u32,
        volume: Arc<Volume>,
        nguid: [u8; 16],
        uuid: [u8; 16],
    ) -> Result<(), RegistryError> {
        self.add_namespace_with(nqn, nsid, volume, nguid, uuid, NamespaceAttrs::default())
    }

    /// Adds a namespace with `attrs` (from its first command on) and notifies the
    /// subsystem's controllers (AEN).
    pub fn add_namespace_with(
        &self,
        nqn: &str,
        nsid: u32,
        volume: Arc<Volume>,
        nguid: [u8; 16],
        uuid: [u8; 16],
        attrs: NamespaceAttrs,
    ) -> Result<(), RegistryError> {
        self.add_namespace_counting(nqn, nsid, volume, nguid, uuid, attrs, Arc::default())
    }

    /// As [`add_namespace_with`](Self::add_namespace_with), counting in `stats`: a
    /// namespace that replaces another under one resource name counts on from the other's
    /// counts, and takes those the other still adds (a connection's tally of commands it
    /// ran there), so what is reported under the name never goes down.
    // `add_namespace_with`'s fields, plus its counters.
    #[allow(clippy::too_many_arguments)]
    pub fn add_namespace_counting(
        &self,
        nqn: &str,
        nsid: u32,
        volume: Arc<Volume>,
        nguid: [u8; 16],
        uuid: [u8; 16],
        attrs: NamespaceAttrs,
        stats: Arc<NamespaceStats>,
    ) -> Result<(), RegistryError> {
        check_namespace(nsid, &attrs)?;
        let NamespaceAttrs { ana_group, write_protected, allowed_hosts } = attrs;
        let mut r = self.lock();
        let chgcnt = r.ana_chgcnt + 1;
        let s = r.subsystems.get_mut(nqn).ok_or_else(|| RegistryError::NoSubsystem(nqn.into()))?;
        if s.namespaces.contains_key(&nsid) {
            return Err(RegistryError::NamespaceExists { nqn: nqn.into(), nsid });
        }
        let store = self.namespace_store.get().cloned();
        let saved = match store.as_ref().map(|st| st.take(nqn, nsid, &nguid)) {
            Some(Err(reason)) => {
                return Err(RegistryError::SavedState { nqn: nqn.into(), nsid, reason });
            }
            Some(Ok(saved)) => saved.unwrap_or_default(),
            None => SavedNamespace::default(),
        };
        let protection = WriteProtection {
            operator: write_protected,
            host: if saved.write_protected {
                HostWriteProtection::WriteProtect
            } else {
                HostWriteProtection::NoWriteProtect
            },
            // Set by its first notice, below.
            told: false,
        };
        let reservations = saved.reservations;
        s.namespaces.insert(
            nsid,
            Arc::new(Namespace {
                subnqn: nqn.to_owned(),
                nsid,
                volume,
                nguid,
                uuid,
                ana_group: AtomicU32::new(ana_group),
                registered: AtomicBool::new(reservations.has_registrants()),
                reserved: AtomicBool::new(reservations.is_reserved()),
                reservations: Mutex::new(reservations),
                writers: Mutex::default(),
                ops: Mutex::default(),
                store,
                detached: AtomicBool::new(false),
                saves: SaveTurns::default(),
                write_protected: AtomicBool::new(protection.protected()),
                protected_by: Mutex::new(protection),
                allowed_hosts: Mutex::new(allowed_hosts),
                stats,
            }),
        );
        let ns = s.namespace(nqn, nsid)?.clone();
        notify_ns_change(s, &ns);
        // The ANA log's NSID lists changed (§5.16.1.12: its Change Count moves with it),
        // and its hosts are told (ANA change notice): the namespace may replace one under
        // the same NSID and IDs in another group, which Linux keeps, reading the new group
        // only from the log (as it does after `set_ana_group`).
        notify_ana_change(s, &ns, chgcnt, None);
        r.ana_chgcnt = chgcnt;
        self.ns_epoch.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Removes a namespace and notifies the subsystem's controllers (AEN). The volume
    /// operations its commands handed on and that have not started running are skipped
    /// (their commands fail with Invalid Namespace); the others end on the volume they
    /// started on: whoever lets the volume go waits for them ([`Namespace::io_running`]).
    pub fn remove_namespace(&self, nqn: &str, nsid: u32) -> Result<(), RegistryError> {
        let mut r = self.lock();
        let chgcnt = r.ana_chgcnt + 1;
        let s = r.subsystems.get_mut(nqn).ok_or_else(|| RegistryError::NoSubsystem(nqn.into()))?;
        let Some(ns) = s.namespaces.remove(&nsid) else {
            return Err(RegistryError::NoNamespace { nqn: nqn.into(), nsid });
        };
        ns.detach();
        notify_ns_change(s, &ns);
        // Its NSID leaves the ANA log of its hosts, who are told as of an addition.
        notify_ana_change(s, &ns, chgcnt, None);
        r.ana_chgcnt = chgcnt;
        self.ns_epoch.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Keeps the state of namespaces added from now on in `store`: their reservations when
    /// their hosts ask for PTPL, a host's Write Protect (set once, before the first
    /// namespace; later calls change nothing).
    pub fn set_namespace_store(&self, store: Arc<NamespaceStore>) {
        let _ = self.namespace_store.set(store);
    }

    /// Where namespace state persists through a restart, if anywhere.
    pub fn namespace_store(&self) -> Option<&Arc<NamespaceStore>> {
        self.namespace_store.get()
    }

    /// Every namespace of every subsystem.
    pub fn all_namespaces(&self) -> Vec<Arc<Namespace>> {
        let r = self.lock();
        r.subsystems.values().flat_map(|s| s.namespaces.values().cloned()).collect()
    }

    /// Every volume a namespace uses, once each.
    pub fn volumes(&self) -> Vec<Arc<Volume>> {
        let r = self.lock();
        let mut seen = std::collections::HashSet::new();
        let all = r.subsystems.values().flat_map(|s| s.namespaces.values());
        all.filter(|ns| seen.insert(Arc::as_ptr(&ns.volume))).map(|ns| ns.volume.clone()).collect()
    }

    /// Tells the controllers of every namespace on `volume` that it changed (a namespace
    /// attribute notice, AEN, and the NSID in their changed namespace list), after the
    /// volume grew ([`Volume::grow`]): a Linux host then reads the namespace's new size
    /// from Identify Namespace. Returns how many namespaces use the volume.
    pub fn volume_resized(&self, volume: &Arc<Volume>) -> usize {
        let mut r = self.lock();
        let mut count = 0;
        for s in r.subsystems.values_mut() {
            let on_volume: Vec<Arc<Namespace>> = s
                .namespaces
                .values()
                .filter(|ns| Arc::ptr_eq(&ns.volume, volume))
                .cloned()
                .collect();
            for ns in on_volume {
                notify_ns_change(s, &ns);
                count += 1;
            }
        }
        count
    }

    /// Write-protects a namespace or lifts its protection (NVMe Base 2.0 §8.12: commands
    /// that would modify it fail with Namespace Is Write Protected). When that changes,
    /// the subsystem's controllers get a namespace attribute notice: a Linux host re-reads
    /// Identify Namespace and marks its disk read-only or writable again.
    pub fn set_write_protected(
        &self,
        nqn: &str,
        nsid: u32,
        write_protected: bool,
    ) -> Result<(), RegistryError> {
        self.protect(nqn, nsid, true, |p| {
            p.operator = write_protected;
            Ok::<_, RegistryError>(())
        })
    }

    /// A host's Namespace Write Protection Config (Set Features 84h, NVMe Base 2.0
    /// §8.12): protects the namespace for every host, or lifts a host's protection.
    /// Returns the host state it replaced, which the caller persists (Write Protect
    /// outlives a restart; [`NamespaceStore`]). A host cannot lift the operator's
    /// protection, nor leave Write Protect Until Power Cycle. It is in force at once,
    /// but its hosts hear of it only once it stands: the caller then calls
    /// [`Target::write_protection_stands`], or [`Target::revert_host_write_protection`]
    /// if it cannot be made durable (so no host is told of a change put back).
    pub fn set_host_write_protection(
        &self,
        nqn: &str,
        nsid: u32,
        state: HostWriteProtection,
    ) -> Result<HostWriteProtection, HostWriteProtectError> {
        self.protect(nqn, nsid, false, |p| {
            let was = p.host;
            if was == HostWriteProtection::UntilPowerCycle && state != was {
                return Err(HostWriteProtectError::UntilPowerCycle { nsid });
            }
            if state == HostWriteProtection::NoWriteProtect && p.operator {
                return Err(HostWriteProtectError::ByOperator { nsid });
            }
            p.host = state;
            Ok(was)
        })
    }

    /// The operator lifts what the hosts set on namespace `nsid` of `nqn`, Write Protect
    /// Until Power Cycle included (for the namespace this is its power cycle); the
    /// operator's own protection stays. Returns the state it replaced, which the caller
    /// persists, as for [`Target::set_host_write_protection`].
    pub fn clear_host_write_protection(
        &self,
        nqn: &str,
        nsid: u32,
    ) -> Result<HostWriteProtection, RegistryError> {
        self.protect(nqn, nsid, true, |p| {
            Ok::<_, RegistryError>(std::mem::replace(
                &mut p.host,
                HostWriteProtection::NoWriteProtect,
            ))
        })
    }

    /// Puts a host's write protection state of `ns` back to `previous` if it is still
    /// `set` (the change to `set` could not be made durable); nothing otherwise, nor if
    /// `ns` is no longer served: the operator may have given its NSID to another
    /// namespace since, whose own protection stands. Its hosts are told only if it is
    /// now protected otherwise than they last heard ([`tell_protection`]): not of a
    /// host's change put back before it stood.
    pub fn revert_host_write_protection(
        &self,
        ns: &Arc<Namespace>,
        set: HostWriteProtection,
        previous: HostWriteProtection,
    ) {
        let mut r = self.lock();
        let Some(s) = serving(&mut r.subsystems, ns) else { return };
        let _ = protect_in(s, ns, true, |p| {
            if p.host == set {
                p.host = previous;
            }
            Ok::<_, RegistryError>(())
        });
    }

    /// A host's change of the protection of `ns` ([`Target::set_host_write_protection`])
    /// stands (saved, or needing no save): its hosts get a namespace notice if it is
    /// protected otherwise than they last heard ([`tell_protection`]). Nothing if `ns` is
    /// no longer served.
    pub fn write_protection_stands(&self, ns: &Arc<Namespace>) {
        let mut r = self.lock();
        if let Some(s) = serving(&mut r.subsystems, ns) {
            tell_protection(s, ns);
        }
    }

    /// Changes who protects namespace `nsid` of `nqn` ([`protect_in`]).
    fn protect<T, E: From<RegistryError>>(
        &self,
        nqn: &str,
        nsid: u32,
        tell: bool,
        change: impl FnOnce(&mut WriteProtection) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut r = self.lock();
        let s = r.subsystems.get_mut(nqn).ok_or_else(|| RegistryError::NoSubsystem(nqn.into()))?;
        let ns = s.namespace(nqn, nsid)?.clone();
        protect_in(s, &ns, tell, change)
    }

    /// Sets the hosts that see a namespace (empty: every host of the subsystem), in place.
    /// The controllers of each host that gains or loses it get a namespace notice (its
    /// NSID in their changed namespace list), so a Linux host adds or removes the disk;
    /// a host that loses it fails its next commands with Invalid Namespace.
    pub fn set_allowed_hosts(
        &self,
        nqn: &str,
        nsid: u32,
        allowed_hosts: BTreeSet<String>,
    ) -> Result<(), RegistryError> {
        validate_nqns(&allowed_hosts)?;
        let mut r = self.lock();
        let s = r.subsystems.get_mut(nqn).ok_or_else(|| RegistryError::NoSubsystem(nqn.into()))?;
        let ns = s.namespace(nqn, nsid)?.clone();
        let before = {
            let mut hosts =
                ns.allowed_hosts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if *hosts == allowed_hosts {
                return Ok(());
            }
            std::mem::replace(&mut *hosts, allowed_hosts)
        };
        let saw = |host: &str| before.is_empty() || before.contains(host);
        notify_ns_change_for(s, nsid, |c| saw(&c.hostnqn) != ns.visible_to(&c.hostnqn));
        // What the hosts that lost it had handed on is skipped or waited for, as at a
        // removal: none of it may land once the change is acknowledged.
        ns.cut_off_unreachable();
        // The ANA log's NSID lists changed for those hosts, and connections drop the
        // namespace they looked up.
        r.ana_chgcnt += 1;
        self.ns_epoch.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// Moves whenever any subsystem's namespaces may have changed: a namespace looked
    /// up while it read `e` is still current as long as it reads `e`.
    pub fn namespace_epoch(&self) -> u64 {
        self.ns_epoch.load(Ordering::Acquire)
    }

    /// A namespace of a subsystem.
    pub fn namespace(&self, nqn: &str, nsid: u32) -> Option<Arc<Namespace>> {
        self.lock().subsystems.get(nqn)?.namespaces.get(&nsid).cloned()
    }

    /// A namespace of a subsystem as host `hostnqn` sees it: `None` where inactive for it.
    pub fn namespace_for(&self, nqn: &str, hostnqn: &str, nsid: u32) -> Option<Arc<Namespace>> {
        self.namespace(nqn, nsid).filter(|ns| ns.visible_to(hostnqn))
    }

    /// A namespace of a subsystem that host `hostnqn` sees, with the state of its ANA
    /// group through listener `port_id`, read under one lock.
    pub fn namespace_through(
        &self,
        nqn: &str,
        hostnqn: &str,
        nsid: u32,
        port_id: Option<u16>,
    ) -> Option<(Arc<Namespace>, AnaState)> {
        let r = self.lock();
        let ns = r.subsystems.get(nqn)?.namespaces.get(&nsid)?.clone();
        if !ns.visible_to(hostnqn) {
            return None;
        }
        let state = ana_state_of(&r, port_id, ns.ana_group.load(Ordering::Relaxed));
        Some((ns, state))
    }

    /// The namespaces of a subsystem in NSID order (empty if the subsystem is unknown).
    pub fn namespaces(&self, nqn: &str) -> Vec<Arc<Namespace>> {
        self.lock()
            .subsystems
            .get(nqn)
            .map(|s| s.namespaces.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The namespaces of a subsystem host `hostnqn` sees, in NSID order (its
    /// controllers' active namespaces).
    pub fn namespaces_for(&self, nqn: &str, hostnqn: &str) -> Vec<Arc<Namespace>> {
        self.lock()
            .subsystems
            .get(nqn)
            .map(|s| s.namespaces.values().filter(|ns| ns.visible_to(hostnqn)).cloned().collect())
            .unwrap_or_default()
    }

    /// The NSIDs of [`namespaces_for`](Self::namespaces_for), ascending (the Active
    /// Namespace ID list).
    pub fn active_nsids(&self, nqn: &str, hostnqn: &str) -> Vec<u32> {
        self.namespaces_for(nqn, hostnqn).iter().map(|ns| ns.nsid).collect()
    }
}

/// What a namespace's NSID and attributes must be, whatever the registry holds.
pub fn check_namespace(nsid: u32, attrs: &NamespaceAttrs) -> Result<(), RegistryError> {
    if nsid == 0 || nsid > MAX_NSID {
        return Err(RegistryError::BadNsid(nsid));
    }
    check_ana_group(attrs.ana_group)?;
    validate_nqns(&attrs.allowed_hosts)
}

/// Queues a namespace notice of `ns` for the controllers of the hosts that see it, who
/// read its protection anew ([`WriteProtection`]'s `told`).
fn notify_ns_change(s: &mut Subsystem, ns: &Namespace) {
    notify_ns_change_for(s, ns.nsid, |c| ns.visible_to(&c.hostnqn));
    let mut by = ns.protected_by.lock().unwrap_or_else(PoisonError::into_inner);
    by.told = by.protected();
}

/// Queues a namespace notice of `nsid` (its NSID in the changed namespace list) for the
/// controllers `concerned` picks.
fn notify_ns_change_for(s: &mut Subsystem, nsid: u32, concerned: impl Fn(&Controller) -> bool) {
    for c in s.controllers.values().filter(|c| concerned(c)) {
        let mut st = c.state();
        // One NSID past the list's capacity marks the overflow (§5.16.1.5: only more
        // than 1,024 changes overflow it).
        if st.changed_ns.len() <= CHANGED_NS_LIST_MAX {
            st.changed_ns.insert(nsid);
        }
        st.ns_event_pending = true;
    }
}

/// The subsystem of `ns` among `subsystems` if it still serves `ns` under its NSID (the
/// operator may have given the NSID to another namespace since).
fn serving<'a>(
    subsystems: &'a mut BTreeMap<String, Subsystem>,
    ns: &Arc<Namespace>,
) -> Option<&'a mut Subsystem> {
    let s = subsystems.get_mut(&ns.subnqn)?;
    s.namespaces.get(&ns.nsid).is_some_and(|served| Arc::ptr_eq(served, ns)).then_some(s)
}

/// Changes who protects `ns`, of subsystem `s`, in force at once (the flag I/O reads).
/// With `tell`, its hosts then get a namespace notice (NSATTR changed) if it is protected
/// otherwise than they last heard ([`tell_protection`]); without, the caller tells them
/// once the change stands.
fn protect_in<T, E>(
    s: &mut Subsystem,
    ns: &Arc<Namespace>,
    tell: bool,
    change: impl FnOnce(&mut WriteProtection) -> Result<T, E>,
) -> Result<T, E> {
    let (protected, out) = {
        let mut by = ns.protected_by.lock().unwrap_or_else(PoisonError::into_inner);
        let out = change(&mut by)?;
        (by.protected(), out)
    };
    ns.write_protected.store(protected, Ordering::Relaxed);
    if tell {
        tell_protection(s, ns);
    }
    Ok(out)
}

/// Gives the hosts of `ns` a namespace notice if it is protected otherwise than when they
/// last had one. Compared with what they heard, not with the state a change replaced: a
/// host's change tells them only once it stands, and others may come meanwhile (another
/// host's, the operator's, a put-back). Whoever leaves the state last tells them of it if
/// they heard otherwise, so the state they end with was announced, and a change put back
/// before it stood, with nothing said meanwhile, tells nobody. E.g. A protects, B lifts
/// it, A's save fails (nothing to put back: B's change stands on it), B's fails too: B's
/// put-back restores A's protection, which no host heard of, and so announces it.
fn tell_protection(s: &mut Subsystem, ns: &Namespace) {
    let by = *ns.protected_by.lock().unwrap_or_else(PoisonError::into_inner);
    if by.protected() != by.told {
        notify_ns_change(s, ns);
    }
}
