//! The registry shared by every connection of a target: subsystems, their
//! namespaces and allowed hosts, listeners (for the discovery log), and the live
//! controllers with their CNTLIDs.
//!
//! The operator changes it ([`Target::add_subsystem`], [`Target::add_namespace`], …);
//! connections read it. Changes that a host can observe are signalled the way the
//! specifications prescribe: a namespace added or removed queues a Namespace
//! Attribute Changed asynchronous event for every controller of the subsystem
//! (NVMe Base 2.0 §5.2 "Asynchronous Event Request", §5.16.1.5 "Changed Namespace
//! List"); a subsystem, host or listener change moves the discovery generation, on
//! which each discovery controller builds its host's log again and moves that log's
//! generation counter if it changed (NVMe Base 2.0 §5.16.1.23 "Discovery Log Page",
//! GENCTR); an ANA state of a
//! listener or a namespace's ANA group changing queues an Asymmetric Namespace Access
//! Change event for the controllers concerned (§8.1.3 "Asymmetric Namespace Access
//! Reporting", §5.16.1.12 "Asymmetric Namespace Access").
//!
//! This file keeps the registry itself, subsystems and the stats reports; by concern,
//! `namespaces` keeps namespaces and their write protection, `ana` ANA groups and
//! states, `listeners` listeners and the discovery log, `controllers` controllers
//! and the places they hold.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use dpu_nvmf_proto::fabrics::{DISCOVERY_NQN, NQN_MAX_LEN};

use crate::auth::HostSecrets;
use crate::persist::NamespaceStore;
use crate::stats::{QueueCounters, SubsystemCounters, SubsystemStats};

mod ana;
mod controllers;
mod listeners;
mod namespaces;

pub use ana::{ANA_TRANSITION_TIME, AnaGroup, AnaState, check_ana_group};
pub use controllers::{
    ConnectRefusal, Controller, ControllerMismatch, ControllerState, Drain, ReservationLogPage,
};
pub(crate) use listeners::DiscoveryView;
pub use listeners::{DiscoveryEntry, DiscoverySubtype, ListenerSpec, lowest_free_port_id};
pub use namespaces::{
    HostWriteProtectError, HostWriteProtection, Namespace, NamespaceAttrs, NamespaceCounters,
    NamespaceStats, check_namespace,
};

/// Largest NSID a subsystem accepts (Identify Controller NN).
pub const MAX_NSID: u32 = 1024;
/// Most controllers one subsystem hosts at a time.
pub const MAX_CONTROLLERS_PER_SUBSYSTEM: usize = 128;
/// Most controllers one host (by NQN) has on a subsystem at a time, so that one allowed
/// host cannot take every place from the others. A Linux host makes one per path, plus
/// one per reconnect while the old one waits out its keep-alive.
pub const MAX_CONTROLLERS_PER_HOST: usize = 16;
/// Most controllers of one peer address on a subsystem at a time, whatever host NQNs it
/// claims: an NQN is the host's own claim, the address is what the fabric vouches for,
/// so one machine gets one host's share rather than a share per NQN it makes up (eight
/// of which would fill the subsystem).
pub const MAX_CONTROLLERS_PER_ADDRESS: usize = MAX_CONTROLLERS_PER_HOST;
/// Most controllers of one IPv6 /64 ([`dpu_runtime::peer::group`]) on a subsystem at a time: a machine
/// may take any address of its /64, so the per-address share alone would not stop one
/// from filling the subsystem; but a /64 is often a whole VLAN or rack of real hosts,
/// so it gets half the subsystem, not one host's share.
pub const MAX_CONTROLLERS_PER_PREFIX: usize = MAX_CONTROLLERS_PER_SUBSYSTEM / 2;
/// Most discovery controllers of one peer address at a time (a `nvme discover` uses one
/// for milliseconds; a persistent discovery controller one per discovery service).
pub const MAX_DISCOVERY_CONTROLLERS_PER_ADDRESS: usize = 64;
/// Most discovery controllers of one IPv6 /64 at a time: a quarter of the target's
/// ([`MAX_CONTROLLERS_PER_PREFIX`] gives the reason).
pub const MAX_DISCOVERY_CONTROLLERS_PER_PREFIX: usize = MAX_DISCOVERY_CONTROLLERS / 4;

/// Most discovery controllers at a time over the whole target. Any host may connect one,
/// and one that keeps sending Keep Alive holds it for good; this bounds what hosts hold
/// (Linux's nvmet is bounded only by its controller IDs). A Connect past it is answered
/// Controller Busy.
pub const MAX_DISCOVERY_CONTROLLERS: usize = 4096;

/// How long a controller's host may send nothing (no command on its admin queue, no
/// traffic on its I/O queues) before a new Connect to one of its full tables may take
/// its place, unless its KATO is longer ([`SILENT_CEILING`]). A live host is never that
/// silent: a Linux host sends Keep Alive every KATO/4 with Traffic Based Keep Alive, as
/// an I/O controller here offers, KATO/2 without (KATO 5 s by default; a persistent
/// discovery controller, its own KATO), and Linux's nvmet ends a discovery controller
/// that asked for no keep-alive after the same two minutes
/// ([`DISCOVERY_DEFAULT_KATO_MS`]).
pub const SILENT_FLOOR: Duration = Duration::from_secs(120);
/// The most a host with a KATO longer than [`SILENT_FLOOR`] may be silent before its
/// controller yields its place to a new Connect to a full table: its KATO (silent past
/// it, the Keep Alive Timer ends it anyway), but no more than this, else peers that
/// connect with a huge KATO and fall silent would hold every place for weeks. A live
/// host loses its place only with a KATO over 40 minutes (20 without Traffic Based Keep
/// Alive), which leaves it silent longer than this.
pub const SILENT_CEILING: Duration = Duration::from_secs(600);
/// How long after its Connect a controller its host has not enabled (CC.EN = 1) keeps its
/// place against a new Connect to one of its full tables: a Linux host enables its
/// controller milliseconds after the Connect (after DH-HMAC-CHAP, if it must
/// authenticate, and until then its controller is unproven and yields at once). Such a
/// controller is ended anyway after [`crate::queue::ENABLE_DEADLINE`].
pub const SETUP_GRACE: Duration = Duration::from_secs(2);

/// The Keep Alive Timer's default on a transport that needs Keep Alive, as TCP does
/// (NVMe Base 2.0 §5.27.1.12): what Get Features reports as the default.
pub const KATO_DEFAULT_MS: u32 = 120_000;

/// Keep Alive Timeout of a discovery controller whose host asked for none (Linux's nvmet
/// uses the same two minutes).
pub const DISCOVERY_DEFAULT_KATO_MS: u32 = KATO_DEFAULT_MS;
/// Largest CNTLID a dynamic controller gets (FFF0h..FFFFh are reserved, NVMe Base 2.0
/// "Controller ID").
pub const MAX_CNTLID: u16 = dpu_proto::MAX_CNTLID;
/// Every controller ID a controller may have.
pub const ALL_CNTLIDS: RangeInclusive<u16> = 1..=MAX_CNTLID;
/// Most entries of the Changed Namespace List before it reports overflow.
pub const CHANGED_NS_LIST_MAX: usize = 1024;
/// Reservation Notification log pages a controller keeps unread; past that the oldest
/// are lost (their Log Page Counts then skip, NVMe Base 2.0 §5.16.1.24). Linux's nvmet
/// keeps as many.
pub const RESERVATION_LOG_MAX: usize = 64;
/// The NSID that stands for every namespace (Set Features Reservation Notification Mask).
pub const NSID_ALL: u32 = u32::MAX;
/// Largest ANA group ID (Identify Controller ANAGRPMAX and NANAGRPID): groups 1..=128, as
/// Linux's nvmet has.
pub const ANA_GROUP_MAX: u32 = 128;
/// The ANA group of a namespace nobody put in another.
pub const DEFAULT_ANA_GROUP: u32 = 1;

/// Errors of registry changes (operator input). A failed change changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The NQN is malformed ([`validate_nqn`]).
    #[error(
        "invalid NQN {0:?}: must start with \"nqn.\" and be at most 223 bytes of ASCII \
         letters, digits and punctuation other than ',' (no spaces or control characters)"
    )]
    BadNqn(String),
    /// The subsystem's serial or model does not fit or is not printable ASCII.
    #[error("invalid {field}: at most {max} printable ASCII characters")]
    BadString {
        /// Which field.
        field: &'static str,
        /// Its maximum length.
        max: usize,
    },
    /// The discovery NQN cannot be used for a subsystem.
    #[error("the discovery NQN is reserved")]
    ReservedNqn,
    /// A subsystem with this NQN exists.
    #[error("subsystem {0} already exists")]
    SubsystemExists(String),
    /// No such subsystem.
    #[error("subsystem {0} not found")]
    NoSubsystem(String),
    /// NSID out of 1..=MAX_NSID.
    #[error("NSID {0} out of range 1..={MAX_NSID}")]
    BadNsid(u32),
    /// The NSID is in use.
    #[error("namespace {nsid} already exists in {nqn}")]
    NamespaceExists {
        /// Subsystem.
        nqn: String,
        /// NSID.
        nsid: u32,
    },
    /// No such namespace.
    #[error("namespace {nsid} not found in {nqn}")]
    NoNamespace {
        /// Subsystem.
        nqn: String,
        /// NSID.
        nsid: u32,
    },
    /// The namespace's saved state (`--state-dir`) cannot be used: it is not added while
    /// its file is there (moving the file away starts it without the saved state).
    #[error("namespace {nsid} of {nqn}: saved state not usable: {reason}")]
    SavedState {
        /// Subsystem.
        nqn: String,
        /// NSID.
        nsid: u32,
        /// Why, naming the file(s).
        reason: String,
    },
    /// A listener with this address exists.
    #[error("listener {0} already exists")]
    ListenerExists(String),
    /// Another listener has this port ID: hosts' multipath and discovery tell listeners
    /// apart by it, so no two share one.
    #[error("port ID {port_id} is the listener's at {by}")]
    PortIdTaken {
        /// The port ID.
        port_id: u16,
        /// The address of the listener that has it.
        by: SocketAddr,
    },
    /// No such listener.
    #[error("listener {0} not found")]
    NoListener(String),
    /// An ANA group ID out of 1..=ANA_GROUP_MAX.
    #[error("ANA group {0} out of range 1..={ANA_GROUP_MAX}")]
    BadAnaGroup(u32),
    /// A controller ID range that is empty or leaves 1..=MAX_CNTLID.
    #[error("controller ID range {0}-{1} is not a non-empty part of 1-{MAX_CNTLID}")]
    BadCntlidRange(u16, u16),
    /// An I/O queue limit outside 1..=MAX_IO_QUEUES.
    #[error("{0} I/O queues per controller is outside 1-{MAX_IO_QUEUES}")]
    BadIoQueueLimit(u16),
}

/// I/O queues a controller is granted unless its subsystem says otherwise (the API's
/// default, so the two cannot drift).
pub const DEFAULT_IO_QUEUES: u16 = dpu_proto::DEFAULT_IO_QUEUES;
/// Most I/O queues a subsystem may grant a controller (as Linux's nvmet, NVMET_NR_QUEUES).
pub const MAX_IO_QUEUES: u16 = dpu_proto::MAX_IO_QUEUES;

fn validate_io_queue_limit(n: u16) -> Result<(), RegistryError> {
    if (1..=MAX_IO_QUEUES).contains(&n) { Ok(()) } else { Err(RegistryError::BadIoQueueLimit(n)) }
}

/// Checks that `r` is a non-empty part of [`ALL_CNTLIDS`].
fn validate_cntlids(r: &RangeInclusive<u16>) -> Result<(), RegistryError> {
    if r.is_empty() || *r.start() < 1 || *r.end() > MAX_CNTLID {
        return Err(RegistryError::BadCntlidRange(*r.start(), *r.end()));
    }
    Ok(())
}

/// [`validate_nqn`] for each of a set of host NQNs.
fn validate_nqns<'a>(nqns: impl IntoIterator<Item = &'a String>) -> Result<(), RegistryError> {
    nqns.into_iter().try_for_each(|nqn| validate_nqn(nqn))
}

/// Checks an NQN (NVMe Base 2.0 §4.5 "NVMe Qualified Names"): the `nqn.` prefix and at
/// most 223 bytes, which is all Linux's host and nvmet check (not the date and domain the
/// spec describes, so neither does this). What no Linux host could use is refused too:
/// a ',' (the host splits its connect options on it, nvmf_parse_options), white space
/// (nvme-cli splits its configuration files on it) and control characters; and, more
/// strictly than the spec's UTF-8, anything but ASCII.
pub fn validate_nqn(nqn: &str) -> Result<(), RegistryError> {
    let ok = nqn.starts_with("nqn.")
        && nqn.len() <= NQN_MAX_LEN
        && nqn.bytes().all(|b| b.is_ascii_graphic() && b != b',');
    if ok { Ok(()) } else { Err(RegistryError::BadNqn(nqn.to_owned())) }
}

/// Longest serial number (Identify Controller SN).
pub const SERIAL_MAX_LEN: usize = 20;
/// Longest model number (Identify Controller MN).
pub const MODEL_MAX_LEN: usize = 40;

/// Checks an Identify string field: at most `max` printable ASCII characters (spaces allowed).
pub fn validate_ascii(field: &'static str, s: &str, max: usize) -> Result<(), RegistryError> {
    if s.len() <= max && s.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(RegistryError::BadString { field, max })
    }
}

/// The first of a subsystem's DH-HMAC-CHAP host secrets, by index, that would never be
/// used, and why: one for a host listed before it (the last would win) or for a host that
/// may not connect. The config file, the agent's API and Sync all refuse such a list.
pub fn unused_host_secret<'a>(
    allow_any_host: bool,
    may_connect: impl Fn(&str) -> bool,
    secret_hosts: impl IntoIterator<Item = &'a str>,
) -> Option<(usize, &'static str)> {
    let mut seen = BTreeSet::new();
    for (i, host) in secret_hosts.into_iter().enumerate() {
        if !seen.insert(host) {
            return Some((i, "listed twice"));
        }
        if !allow_any_host && !may_connect(host) {
            return Some((
                i,
                "not an allowed host (and allow_any_host is false): the host cannot connect",
            ));
        }
    }
    None
}

/// What the operator says about a subsystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsystemSpec {
    /// The subsystem NQN.
    pub nqn: String,
    /// Serial number (Identify Controller SN, ≤ 20 ASCII characters).
    pub serial: String,
    /// Model number (Identify Controller MN, ≤ 40 ASCII characters).
    pub model: String,
    /// Any host may connect (and see it in the discovery log).
    pub allow_any_host: bool,
    /// Host NQNs allowed to connect when `allow_any_host` is false.
    pub hosts: BTreeSet<String>,
    /// DH-HMAC-CHAP secrets by host NQN: a host that has them must authenticate each of
    /// its queues before using it, whether or not any host may connect.
    pub host_secrets: BTreeMap<String, Arc<HostSecrets>>,
    /// The controller IDs given to the subsystem's controllers ([`ALL_CNTLIDS`] unless
    /// several targets export the subsystem: a Linux host refuses a second controller
    /// with a CNTLID it already has in a subsystem, so each needs a range of its own).
    pub cntlids: RangeInclusive<u16>,
    /// Most I/O queues a controller is granted (Number of Queues feature; [`DEFAULT_IO_QUEUES`]
    /// unless the operator bounds what each host may open on the card, as nvmet's
    /// `attr_qid_max`): each queue is a connection the card serves.
    pub max_io_queues: u16,
}

/// What Identify Controller shows of a subsystem: its names, not its hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsystemIdentity {
    /// The subsystem NQN.
    pub nqn: String,
    /// Serial number.
    pub serial: String,
    /// Model number.
    pub model: String,
}

impl SubsystemSpec {
    /// Whether `hostnqn` may connect to (and discover) this subsystem.
    pub fn allows(&self, hostnqn: &str) -> bool {
        self.allow_any_host || self.hosts.contains(hostnqn)
    }
}

struct Subsystem {
    spec: SubsystemSpec,
    namespaces: BTreeMap<u32, Arc<Namespace>>,
    controllers: BTreeMap<u16, Arc<Controller>>,
    next_cntlid: u16,
    stats: Arc<SubsystemStats>,
}

impl Subsystem {
    /// Namespace `nsid` of this subsystem (named `nqn` in the error).
    fn namespace(&self, nqn: &str, nsid: u32) -> Result<&Arc<Namespace>, RegistryError> {
        self.namespaces
            .get(&nsid)
            .ok_or_else(|| RegistryError::NoNamespace { nqn: nqn.into(), nsid })
    }
}

#[derive(Default)]
struct Registry {
    subsystems: BTreeMap<String, Subsystem>,
    listeners: BTreeMap<u16, ListenerSpec>,
    /// ANA states other than optimized, by listener port ID and group.
    ana: BTreeMap<u16, BTreeMap<u32, AnaState>>,
    /// The groups set to Change, by listener port ID and group: since when, or ended.
    ana_changes: BTreeMap<(u16, u32), ana::AnaChange>,
    /// ANA log page Change Count: moves with every ANA state or group change.
    ana_chgcnt: u64,
    /// Other discovery services each listener refers hosts to, by the listener's bound
    /// address (discovery-only listeners have no port ID).
    referrals: BTreeMap<SocketAddr, Vec<SocketAddr>>,
    /// The discovery generation ([`Target::discovery_changed`]).
    disc_generation: u64,
    next_discovery_cntlid: u16,
    /// Discovery controllers not removed yet, by `serial` (their IDs may repeat).
    discovery: BTreeMap<u64, Arc<Controller>>,
    /// Their number by the peer address that connected them (where known).
    discovery_by_address: BTreeMap<IpAddr, usize>,
    /// The same by IPv6 /64 ([`dpu_runtime::peer::group`]).
    discovery_by_prefix: BTreeMap<IpAddr, usize>,
    /// Counts controllers as they are made: a controller's `serial` orders them by age.
    controllers_made: u64,
}

/// Target-wide counters.
#[derive(Debug, Default)]
pub struct TargetStats {
    /// TCP connections accepted.
    pub connections: AtomicU64,
    /// TCP connections closed as they were accepted, or later to make room for another
    /// address's or after waiting past the grace, because as many as the server allows
    /// were waiting for their Connect (`Server::set_max_unconnected`).
    pub connections_shed: AtomicU64,
    /// Connections closed after a fatal transport error (C2HTermReq sent).
    pub terminated: AtomicU64,
    /// R2Ts that waited for bytes to come back to the target-wide write budget
    /// ([`crate::write_budget`]), each counted once.
    pub write_budget_waits: AtomicU64,
    /// Controllers dropped because the keep alive timer expired.
    pub kato_expired: AtomicU64,
    /// Controllers ended to make room for a new Connect to a full table
    /// ([`Target::create_controller`]).
    pub controllers_evicted: AtomicU64,
    /// Queues closed because in-band authentication failed.
    pub auth_failures: AtomicU64,
    /// Admin/fabrics connects refused.
    pub connects_refused: AtomicU64,
    /// Commands completed by a C2HData SUCCESS flag instead of a response capsule.
    pub success_flag_completions: AtomicU64,
}

/// A subsystem's counters and its live controllers ([`Target::subsystem_stats`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubsystemReport {
    /// Subsystem NQN.
    pub nqn: String,
    /// Live controllers in CNTLID order.
    pub controllers: Vec<ControllerReport>,
    /// Connect counts and I/O totals; its `queues` holds only the queues of controllers
    /// already torn down whose connections are still closing (the others are in
    /// `controllers`).
    pub counters: SubsystemCounters,
}

/// A live controller and its connected queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerReport {
    /// CNTLID.
    pub cntlid: u16,
    /// Host NQN of the creating Connect.
    pub hostnqn: String,
    /// Its queues in QID order (0 = admin).
    pub queues: Vec<QueueCounters>,
}

/// The registry. Cheap to share (`Arc<Target>`); every method takes a short lock.
#[derive(Default)]
pub struct Target {
    inner: Mutex<Registry>,
    /// Bumped (under the registry lock, after the change) whenever a namespace or a
    /// subsystem comes or goes, so connections may keep the namespaces they looked up
    /// until it moves ([`namespace_epoch`](Self::namespace_epoch)).
    ns_epoch: AtomicU64,
    /// The discovery generation (moved by every change of what some discovery log shows),
    /// readable without the registry lock: a discovery connection waiting to report a
    /// change compares it on each tick instead of building its log again
    /// ([`discovery_generation`](Self::discovery_generation)).
    disc_gen: AtomicU64,
    /// Where namespaces keep their reservations through power loss and a host's Write
    /// Protect through a restart, if anywhere.
    namespace_store: OnceLock<Arc<NamespaceStore>>,
    /// Told when a group goes into Change ([`Target::ana_change_started`]).
    ana_changes_started: tokio::sync::Notify,
    /// Counters.
    pub stats: TargetStats,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").finish_non_exhaustive()
    }
}

impl Target {
    /// An empty target.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a subsystem.
    pub fn add_subsystem(&self, spec: SubsystemSpec) -> Result<(), RegistryError> {
        check_subsystem(&spec)?;
        let mut r = self.lock();
        if r.subsystems.contains_key(&spec.nqn) {
            return Err(RegistryError::SubsystemExists(spec.nqn));
        }
        self.insert_subsystem(&mut r, spec);
        Ok(())
    }

    /// Replaces subsystem `old_nqn` (its controllers end, its namespaces are detached) by a
    /// new one of `spec`, perhaps under another NQN, in one step: a spec refused (or an NQN
    /// another subsystem has) leaves the old one serving.
    pub fn replace_subsystem(
        &self,
        old_nqn: &str,
        spec: SubsystemSpec,
    ) -> Result<(), RegistryError> {
        check_subsystem(&spec)?;
        let mut r = self.lock();
        if spec.nqn != old_nqn && r.subsystems.contains_key(&spec.nqn) {
            return Err(RegistryError::SubsystemExists(spec.nqn));
        }
        if let Some(old) = r.subsystems.remove(old_nqn) {
            retire_subsystem(&old);
        }
        self.insert_subsystem(&mut r, spec);
        Ok(())
    }

    /// Adds a checked subsystem whose NQN is free.
    fn insert_subsystem(&self, r: &mut Registry, spec: SubsystemSpec) {
        r.subsystems.insert(
            spec.nqn.clone(),
            Subsystem {
                next_cntlid: *spec.cntlids.start(),
                spec,
                namespaces: BTreeMap::new(),
                controllers: BTreeMap::new(),
                stats: Arc::default(),
            },
        );
        self.discovery_changed(r);
        self.ns_epoch.fetch_add(1, Ordering::Release);
    }

    /// Replaces the serial and model number of a subsystem in place: its controllers,
    /// namespaces and their state stay; Identify Controller shows the new ones from its
    /// next run (it reads the subsystem's spec each time).
    pub fn set_identity(
        &self,
        nqn: &str,
        serial: String,
        model: String,
    ) -> Result<(), RegistryError> {
        validate_ascii("serial", &serial, SERIAL_MAX_LEN)?;
        validate_ascii("model", &model, MODEL_MAX_LEN)?;
        let mut r = self.lock();
        let s = r.subsystems.get_mut(nqn).ok_or_else(|| RegistryError::NoSubsystem(nqn.into()))?;
        (s.spec.serial, s.spec.model) = (serial, model);
        Ok(())
    }

    /// Replaces the host list / allow-any of a subsystem. A host no longer allowed loses
    /// its controllers now rather than at its next Connect, as SPDK's
    /// `nvmf_subsystem_remove_host` disconnects it: their I/O stops at once and their
    /// queues close at their next tick; the controllers of hosts still allowed stay. The
    /// discovery log's generation counter moves only if which hosts may see the subsystem
    /// changed (NVMe-oF 1.1 §5.3: it counts changes of the log): a Sync that rewrites the
    /// same list, or a list that allowing any host makes moot, is none.
    pub fn set_hosts(
        &self,
        nqn: &str,
        allow_any_host: bool,
        hosts: BTreeSet<String>,
    ) -> Result<(), RegistryError> {
        validate_nqns(&hosts)?;
        let mut r = self.lock();
        let s = r.subsystems.get_mut(nqn).ok_or_else(|| RegistryError::NoSubsystem(nqn.into()))?;
        let same_visibility = if allow_any_host {
            s.spec.allow_any_host
        } else {
            !s.spec.allow_any_host && s.spec.hosts == hosts
        };
        s.spec.allow_any_host = allow_any_host;
        s.spec.hosts = hosts;
        let mut ended = false;
        for c in s.controllers.values().filter(|c| !s.spec.allows(&c.hostnqn)) {
            c.end();
            ended = true;
        }
        // What their queues had handed on is skipped or waited for, as at a namespace's
        // removal: none of it may land once the change is acknowledged.
        if ended {
            for ns in s.namespaces.values() {
                ns.cut_off_unreachable();
            }
        }
        if !same_visibility {
            self.discovery_changed(&mut r);
        }
        Ok(())
    }

    /// The DH-HMAC-CHAP secrets `hostnqn` has on `subnqn` now.
    pub fn host_secrets(&self, subnqn: &str, hostnqn: &str) -> Option<Arc<HostSecrets>> {
        self.lock().subsystems.get(subnqn)?.spec.host_secrets.get(hostnqn).cloned()
    }

    /// Replaces the DH-HMAC-CHAP secrets of a subsystem's hosts. Queues already
    /// authenticated stay so; queues that connect, and transactions that start (a host
    /// re-authenticating after its secret was rotated), use these (as nvmet does).
    pub fn set_host_secrets(
        &self,
        nqn: &str,
        secrets: BTreeMap<String, Arc<HostSecrets>>,
    ) -> Result<(), RegistryError> {
        validate_nqns(secrets.keys())?;
        let mut r = self.lock();
        let s = r.subsystems.get_mut(nqn).ok_or_else(|| RegistryError::NoSubsystem(nqn.into()))?;
        s.spec.host_secrets = secrets;
        Ok(())
    }

    /// Replaces the controller IDs of a subsystem: controllers created from now on get
    /// theirs from `cntlids`; connected ones keep theirs.
    pub fn set_cntlid_range(
        &self,
        nqn: &str,
        cntlids: RangeInclusive<u16>,
    ) -> Result<(), RegistryError> {
        validate_cntlids(&cntlids)?;
        let mut r = self.lock();
        let s = r.subsystems.get_mut(nqn).ok_or_else(|| RegistryError::NoSubsystem(nqn.into()))?;
        if !cntlids.contains(&s.next_cntlid) {
            s.next_cntlid = *cntlids.start();
        }
        s.spec.cntlids = cntlids;
        Ok(())
    }

    /// Replaces the I/O queue limit of a subsystem: controllers created from now on are
    /// granted at most `max_io_queues`; connected ones keep what they were granted.
    pub fn set_max_io_queues(&self, nqn: &str, max_io_queues: u16) -> Result<(), RegistryError> {
        validate_io_queue_limit(max_io_queues)?;
        let mut r = self.lock();
        let s = r.subsystems.get_mut(nqn).ok_or_else(|| RegistryError::NoSubsystem(nqn.into()))?;
        s.spec.max_io_queues = max_io_queues;
        Ok(())
    }

    /// Removes a subsystem; its controllers are torn down.
    pub fn remove_subsystem(&self, nqn: &str) -> Result<(), RegistryError> {
        let mut r = self.lock();
        let s = r.subsystems.remove(nqn).ok_or_else(|| RegistryError::NoSubsystem(nqn.into()))?;
        retire_subsystem(&s);
        self.discovery_changed(&mut r);
        self.ns_epoch.fetch_add(1, Ordering::Release);
        Ok(())
    }

    /// The subsystem specs, in NQN order.
    pub fn subsystems(&self) -> Vec<SubsystemSpec> {
        self.lock().subsystems.values().map(|s| s.spec.clone()).collect()
    }

    /// The spec of a subsystem.
    pub fn subsystem(&self, nqn: &str) -> Option<SubsystemSpec> {
        self.lock().subsystems.get(nqn).map(|s| s.spec.clone())
    }

    /// The names of subsystem `nqn` Identify Controller shows: a copy of three short
    /// strings under the registry lock, where [`subsystem`](Self::subsystem) would copy
    /// its host list and secrets too (up to 1,024 hosts).
    pub fn subsystem_identity(&self, nqn: &str) -> Option<SubsystemIdentity> {
        let r = self.lock();
        let spec = &r.subsystems.get(nqn)?.spec;
        let (nqn, serial, model) = (spec.nqn.clone(), spec.serial.clone(), spec.model.clone());
        Some(SubsystemIdentity { nqn, serial, model })
    }

    /// Counters of every subsystem, in NQN order, with its live controllers and their
    /// queues.
    pub fn subsystem_stats(&self) -> Vec<SubsystemReport> {
        let r = self.lock();
        r.subsystems
            .values()
            .map(|s| {
                let mut counters = s.stats.snapshot();
                // Each live controller takes its queues; what is left belongs to
                // controllers already torn down, one whose CNTLID a live one has now too.
                let (groups, rest) = group_by_controller(
                    std::mem::take(&mut counters.queues),
                    s.controllers.values().map(|c| (c.cntlid, c.serial())),
                    |q| (q.info.cntlid, q.info.controller),
                );
                counters.queues = rest;
                let controllers = s
                    .controllers
                    .values()
                    .zip(groups)
                    .map(|(c, queues)| ControllerReport {
                        cntlid: c.cntlid,
                        hostnqn: c.hostnqn.clone(),
                        queues,
                    })
                    .collect();
                SubsystemReport { nqn: s.spec.nqn.clone(), controllers, counters }
            })
            .collect()
    }
}

/// What a subsystem spec must be, whatever the registry holds.
pub fn check_subsystem(spec: &SubsystemSpec) -> Result<(), RegistryError> {
    validate_nqn(&spec.nqn)?;
    if spec.nqn == DISCOVERY_NQN {
        return Err(RegistryError::ReservedNqn);
    }
    validate_ascii("serial", &spec.serial, SERIAL_MAX_LEN)?;
    validate_ascii("model", &spec.model, MODEL_MAX_LEN)?;
    validate_nqns(&spec.hosts)?;
    validate_nqns(spec.host_secrets.keys())?;
    validate_cntlids(&spec.cntlids)?;
    validate_io_queue_limit(spec.max_io_queues)
}

/// The Keep Alive Timeout a controller uses when its host asks for `kato_ms` (at
/// Connect or by Set Features). Any host may connect a discovery controller, and one
/// that asked for no keep-alive would hold its connection for good: as Linux's nvmet
/// does at Connect, such a session ends after DISCOVERY_DEFAULT_KATO_MS without a
/// command (a `nvme discover` takes milliseconds; a persistent discovery controller
/// sets its own KATO).
pub fn keep_alive_timeout(discovery: bool, kato_ms: u32) -> u32 {
    if discovery && kato_ms == 0 { DISCOVERY_DEFAULT_KATO_MS } else { kato_ms }
}

/// Ends a removed subsystem's controllers and detaches its namespaces.
fn retire_subsystem(s: &Subsystem) {
    for c in s.controllers.values() {
        c.end();
    }
    for ns in s.namespaces.values() {
        ns.detach();
    }
}

/// Splits `items`, sorted by controller (CNTLID and serial: a CNTLID is given again
/// while queues of the controller that had it may still be closing), among the
/// controllers `ids` (ascending, as the registry's `BTreeMap` gives them): one group per
/// controller, in order, each keeping the items' order, and the items none claims. One
/// pass over both: under the registry lock, a full subsystem's 128 controllers of 129
/// queues cost 16,512 moves, not one pass over the remaining queues per controller
/// (about a million).
fn group_by_controller<T, K: Ord + Copy>(
    items: Vec<T>,
    ids: impl IntoIterator<Item = K>,
    controller: impl Fn(&T) -> K,
) -> (Vec<Vec<T>>, Vec<T>) {
    let ids: Vec<K> = ids.into_iter().collect();
    let mut groups: Vec<Vec<T>> = ids.iter().map(|_| Vec::new()).collect();
    let mut rest = Vec::new();
    let mut g = 0;
    for item in items {
        let id = controller(&item);
        while ids.get(g).is_some_and(|&live| live < id) {
            g += 1;
        }
        match groups.get_mut(g) {
            Some(group) if ids.get(g) == Some(&id) => group.push(item),
            _ => rest.push(item),
        }
    }
    (groups, rest)
}

#[cfg(test)]
impl Target {
    /// Holds the registry lock until the result is dropped: tests of what takes it.
    pub(crate) fn hold_registry_for_tests(&self) -> impl Sized + '_ {
        self.lock()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Instant;

    use super::*;
    use crate::volume::Volume;

    /// One instant for every Connect of a test that does not let time pass.
    fn t0() -> Instant {
        static T0: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);
        *T0
    }

    fn spec(nqn: &str) -> SubsystemSpec {
        SubsystemSpec {
            nqn: nqn.into(),
            serial: "SN1".into(),
            model: "M".into(),
            allow_any_host: false,
            hosts: ["nqn.2014-08.org.example:host1".to_owned()].into(),
            host_secrets: Default::default(),
            cntlids: ALL_CNTLIDS,
            max_io_queues: DEFAULT_IO_QUEUES,
        }
    }

    #[test]
    fn controller_ids_come_from_the_subsystems_range() {
        const NQN: &str = "nqn.2024-01.io.example:a";
        let h = "nqn.2014-08.org.example:host1";
        let t = Target::new();
        let bad = |r: RangeInclusive<u16>| SubsystemSpec { cntlids: r, ..spec(NQN) };
        let (five, four) = (5, 4);
        for r in [0..=5, five..=four, 1..=0xFFF0] {
            let e = t.add_subsystem(bad(r.clone())).unwrap_err();
            assert!(matches!(e, RegistryError::BadCntlidRange(..)), "{r:?}: {e}");
        }
        t.add_subsystem(bad(300..=302)).unwrap();
        let new = || t.create_controller(NQN, h, [1; 16], 0, None, None, t0());
        let (a, b, c) = (new().unwrap(), new().unwrap(), new().unwrap());
        assert_eq!((a.cntlid, b.cntlid, c.cntlid), (300, 301, 302));
        assert_eq!(new().unwrap_err(), ConnectRefusal::Busy, "every ID of the range taken");
        // A freed ID is given again once the others round the range were tried.
        t.remove_controller(&b);
        assert_eq!(new().unwrap().cntlid, 301);
        // A new range applies to new controllers; connected ones keep their IDs.
        assert!(t.set_cntlid_range(NQN, five..=four).is_err());
        t.set_cntlid_range(NQN, 7..=7).unwrap();
        assert_eq!(t.subsystems()[0].cntlids, 7..=7);
        assert_eq!(new().unwrap().cntlid, 7);
        assert_eq!(new().unwrap_err(), ConnectRefusal::Busy);
        assert!(t.find_controller(NQN, 300, h, &[1; 16]).is_ok());
        assert_eq!(t.controller_count(NQN), 4);
    }

    /// One allowed host cannot take every controller of a subsystem; a peer claiming a
    /// host's NQN without its secret holds places only until the host arrives.
    #[test]
    fn a_host_has_a_share_of_the_controllers_and_an_unproven_one_yields() {
        const NQN: &str = "nqn.2024-01.io.example:a";
        let t = Target::new();
        let (a, b) = ("nqn.2014-08.org.example:host1", "nqn.2014-08.org.example:host2");
        t.add_subsystem(SubsystemSpec { allow_any_host: true, ..spec(NQN) }).unwrap();
        let new = |h| t.create_controller(NQN, h, [1; 16], 0, None, None, t0());
        let held: Vec<_> = (0..MAX_CONTROLLERS_PER_HOST).map(|_| new(a).unwrap()).collect();
        assert_eq!(new(a).unwrap_err(), ConnectRefusal::Busy, "host1's share is taken");
        assert!(new(b).is_ok(), "host2 still gets one");
        drop(held);
        // host3 has a secret: its controllers are unproven until they authenticate.
        let c = "nqn.2014-08.org.example:host3";
        t.set_host_secrets(NQN, [(c.to_owned(), t_secret())].into()).unwrap();
        let spoofed: Vec<_> = (0..MAX_CONTROLLERS_PER_HOST).map(|_| new(c).unwrap()).collect();
        let real = new(c).expect("the oldest unproven one makes room");
        assert!(spoofed[0].state().dead && !spoofed[0].io_enabled.load(Ordering::Relaxed));
        assert!(!spoofed[1].state().dead);
        real.authenticated();
        for s in &spoofed[1..] {
            s.authenticated();
        }
        assert_eq!(new(c).unwrap_err(), ConnectRefusal::Busy, "proven ones keep their places");
        // A full subsystem makes room the same way, whichever host's.
        let t = Target::new();
        t.add_subsystem(SubsystemSpec { allow_any_host: true, ..spec(NQN) }).unwrap();
        t.set_host_secrets(NQN, [(c.to_owned(), t_secret())].into()).unwrap();
        let hosts: Vec<String> =
            (0..MAX_CONTROLLERS_PER_SUBSYSTEM).map(|i| format!("nqn.x:h{i}")).collect();
        let first = t.create_controller(NQN, c, [1; 16], 0, None, None, t0()).unwrap();
        let others: Vec<_> = hosts[1..]
            .iter()
            .map(|h| t.create_controller(NQN, h, [1; 16], 0, None, None, t0()).unwrap())
            .collect();
        assert_eq!(others.len() + 1, MAX_CONTROLLERS_PER_SUBSYSTEM);
        assert!(t.create_controller(NQN, "nqn.x:late", [1; 16], 0, None, None, t0()).is_ok());
        assert!(first.state().dead, "the unproven one made room");
        assert_eq!(
            t.create_controller(NQN, "nqn.x:later", [1; 16], 0, None, None, t0()).unwrap_err(),
            ConnectRefusal::Busy
        );
    }

    /// One address holds one host's share of a subsystem's controllers whatever NQNs it
    /// claims (an IPv6 /64 counting as one address); other addresses still get theirs.
    #[test]
    fn an_address_has_a_share_of_the_controllers_whatever_its_nqns() {
        const NQN: &str = "nqn.2024-01.io.example:a";
        let t = Target::new();
        t.add_subsystem(SubsystemSpec { allow_any_host: true, ..spec(NQN) }).unwrap();
        let new = |h: &str, ip: &str| {
            t.create_controller(NQN, h, [1; 16], 0, None, ip.parse().ok(), t0())
        };
        let (a, b) = ("nqn.2014-08.org.example:host1", "nqn.2014-08.org.example:host2");
        let held: Vec<_> = (0..MAX_CONTROLLERS_PER_ADDRESS / 2)
            .flat_map(|_| [new(a, "192.0.2.1").unwrap(), new(b, "192.0.2.1").unwrap()])
            .collect();
        for h in [a, b, "nqn.2014-08.org.example:host3"] {
            assert_eq!(new(h, "192.0.2.1").unwrap_err(), ConnectRefusal::Busy, "{h}");
        }
        assert!(new(a, "192.0.2.2").is_ok(), "another address still gets one");
        t.remove_controller(&held[0]);
        assert!(new("nqn.2014-08.org.example:host3", "192.0.2.1").is_ok(), "a freed place");
        // An IPv6 /64, often a rack of real hosts, gets half the subsystem, whichever
        // of its addresses (each within its own share) the controllers come from.
        let v6: Vec<_> = (0..MAX_CONTROLLERS_PER_PREFIX)
            .map(|i| new(&format!("nqn.x:h{i}"), &format!("2001:db8:0:7::{:x}", i / 8)).unwrap())
            .collect();
        assert_eq!(new("nqn.x:late", "2001:db8:0:7::ffff").unwrap_err(), ConnectRefusal::Busy);
        assert!(new("nqn.x:late", "2001:db8:0:8::1").is_ok(), "another /64 gets one");
        drop(v6);
    }

    /// A peer flooding Connects with a host's NQN from its own address ends its own
    /// unproven controllers, not the one the host is authenticating from another.
    #[test]
    fn a_flood_of_unproven_connects_ends_its_own_controllers_first() {
        const NQN: &str = "nqn.2024-01.io.example:a";
        let host = "nqn.2014-08.org.example:host3";
        let t = Target::new();
        t.add_subsystem(SubsystemSpec { allow_any_host: true, ..spec(NQN) }).unwrap();
        t.set_host_secrets(NQN, [(host.to_owned(), t_secret())].into()).unwrap();
        let from = |last: u8| Some(IpAddr::from([192, 0, 2, last]));
        let new = |peer| t.create_controller(NQN, host, [1; 16], 0, None, peer, t0());
        let real = new(from(1)).unwrap();
        let flood: Vec<_> =
            (0..4 * MAX_CONTROLLERS_PER_HOST).map(|_| new(from(2)).unwrap()).collect();
        assert!(!real.state().dead, "the host's controller survives the flood");
        let alive = flood.iter().filter(|c| !c.state().dead).count();
        assert_eq!(alive, MAX_CONTROLLERS_PER_HOST - 1, "the flood ended its own, oldest first");
        assert!(!flood.last().unwrap().state().dead);
        real.authenticated();
        // From one address, the oldest unproven one makes room, as before.
        let next = new(from(1)).unwrap();
        assert!(!next.state().dead && !real.state().dead);
        assert_eq!(flood.iter().filter(|c| !c.state().dead).count(), MAX_CONTROLLERS_PER_HOST - 2);

        // A flood from every address of one IPv6 /64 counts as one peer's.
        let t = Target::new();
        t.add_subsystem(SubsystemSpec { allow_any_host: true, ..spec(NQN) }).unwrap();
        t.set_host_secrets(NQN, [(host.to_owned(), t_secret())].into()).unwrap();
        let v6 = |i: u16| Some(IpAddr::from([0x2001, 0xdb8, 0, 7, 0, 0, 0, i]));
        let new = |peer| t.create_controller(NQN, host, [1; 16], 0, None, peer, t0());
        let real = new(Some(IpAddr::from([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1]))).unwrap();
        let flood: Vec<_> = (0..64).map(|i| new(v6(i)).unwrap()).collect();
        assert!(!real.state().dead, "the host's controller survives a flood from a /64");
        assert!(!flood.last().unwrap().state().dead);
    }

    fn t_secret() -> Arc<HostSecrets> {
        Arc::new(HostSecrets {
            host: crate::dhchap::Secret::new(&[1; 32], 0).unwrap(),
            ctrl: None,
            dh_group: 0,
            hash: 0,
        })
    }

    #[test]
    fn discovery_controllers_of_one_address_are_bounded() {
        let t = Target::new();
        let h = "nqn.2014-08.org.example:host1";
        let from = |ip: &str| {
            t.create_controller(DISCOVERY_NQN, h, [1; 16], 0, None, ip.parse().ok(), t0())
        };
        let held: Vec<_> = (0..MAX_DISCOVERY_CONTROLLERS_PER_ADDRESS)
            .map(|_| from("192.0.2.1").unwrap())
            .collect();
        assert_eq!(from("192.0.2.1").unwrap_err(), ConnectRefusal::Busy);
        assert!(from("192.0.2.2").is_ok(), "another address still gets one");
        t.remove_controller(&held[0]);
        t.remove_controller(&held[0]);
        assert!(from("192.0.2.1").is_ok(), "a removed one makes room");
        assert_eq!(from("192.0.2.1").unwrap_err(), ConnectRefusal::Busy, "counted once");
        // An IPv6 /64 (its interface IDs are a machine's own to pick, but it is often a
        // rack of real hosts) gets a quarter of the target, each address its own share.
        let per_address = MAX_DISCOVERY_CONTROLLERS_PER_ADDRESS;
        let v6: Vec<_> = (0..MAX_DISCOVERY_CONTROLLERS_PER_PREFIX)
            .map(|i| from(&format!("2001:db8:0:1::{:x}", i / per_address + 1)).unwrap())
            .collect();
        assert_eq!(from("2001:db8:0:1::1").unwrap_err(), ConnectRefusal::Busy, "its address");
        assert_eq!(from("2001:db8:0:1::ffff").unwrap_err(), ConnectRefusal::Busy, "its /64");
        assert!(from("2001:db8:0:2::1").is_ok(), "another /64 still gets one");
        t.remove_controller(&v6[0]);
        assert!(from("2001:db8:0:1::ffff").is_ok(), "a removed one makes room in its /64");
    }

    #[test]
    fn discovery_controllers_are_bounded_and_freed_once() {
        let t = Target::new();
        let h = "nqn.2014-08.org.example:host1";
        let new = || t.create_controller(DISCOVERY_NQN, h, [1; 16], 0, None, None, t0());
        let held: Vec<_> = (0..MAX_DISCOVERY_CONTROLLERS).map(|_| new().unwrap()).collect();
        assert_eq!(new().unwrap_err(), ConnectRefusal::Busy);
        t.remove_controller(&held[7]);
        t.remove_controller(&held[7]);
        assert!(new().is_ok(), "a removed one makes room");
        assert_eq!(new().unwrap_err(), ConnectRefusal::Busy, "removed twice, counted once");
    }

    /// Marks `c` enabled by its host, last heard from at `at`.
    fn heard_at(c: &Controller, at: Instant) {
        let mut st = c.state();
        st.enabled_once = true;
        st.heard = Some(at);
    }

    fn evicted(t: &Target) -> u64 {
        t.stats.controllers_evicted.load(Ordering::Relaxed)
    }

    /// 64 addresses with 64 silent discovery controllers each (a huge KATO keeps them)
    /// fill the target's discovery table: a new Connect takes the place of the one silent
    /// the longest once it has been silent past SILENT_CEILING (the most a huge KATO
    /// gets), not before, and never that of a host still talking.
    #[test]
    fn a_full_discovery_table_makes_room_from_the_longest_silent() {
        let t = Target::new();
        let h = "nqn.2014-08.org.example:host1";
        let from = |ip: IpAddr, now| {
            t.create_controller(DISCOVERY_NQN, h, [1; 16], u32::MAX, None, Some(ip), now)
        };
        let addr = |i: usize| IpAddr::from([10, 0, (i / 250) as u8, (i % 250) as u8 + 1]);
        let per_address = MAX_DISCOVERY_CONTROLLERS_PER_ADDRESS;
        let held: Vec<_> = (0..MAX_DISCOVERY_CONTROLLERS)
            .map(|i| from(addr(i / per_address), t0()).unwrap())
            .collect();
        for c in &held {
            heard_at(c, t0());
        }
        // The oldest still talks; the next oldest is the longest silent.
        let late = t0() + SILENT_CEILING;
        heard_at(&held[0], late);
        let newcomer = IpAddr::from([192, 0, 2, 1]);
        assert_eq!(from(newcomer, late).unwrap_err(), ConnectRefusal::Busy, "none silent enough");
        assert_eq!(evicted(&t), 0);
        let later = late + Duration::from_secs(1);
        let c = from(newcomer, later).expect("the longest silent makes room");
        assert!(held[1].state().dead && !held[1].io_enabled.load(Ordering::Relaxed));
        assert!(!held[0].state().dead && !held[2].state().dead);
        assert_eq!(evicted(&t), 1);
        // The ended one is counted out once, whenever its queue closes.
        t.remove_controller(&held[1]);
        assert!(from(newcomer, later).is_ok(), "the next longest silent");
        assert!(held[2].state().dead);
        // Its address's own table the same: the address's silent one, not another's.
        let own = addr(10);
        assert!(from(own, later).is_ok());
        let first_of_own = &held[10 * per_address];
        assert!(first_of_own.state().dead, "{own}'s longest silent made room");
        assert_eq!(evicted(&t), 3);
        // Removing them all frees every count (none left behind by the evictions).
        for c in held.iter().chain([&c]) {
            t.remove_controller(c);
        }
        let r = t.lock();
        assert_eq!(r.discovery.len(), 2, "the two newcomers");
        assert_eq!(r.discovery_by_address.values().sum::<usize>(), 2);
        assert_eq!(r.discovery_by_prefix.values().sum::<usize>(), 2);
    }

    /// A subsystem that allows any host, for the tests of the tables' limits.
    const ANY_HOST: &str = "nqn.2024-01.io.example:a";

    /// An admin Connect of host `h` to [`ANY_HOST`] from 192.0.2.`last` at `now`.
    fn admin_connect_from(
        t: &Target,
        h: &str,
        last: u8,
        now: Instant,
    ) -> Result<Arc<Controller>, ConnectRefusal> {
        let peer = Some(IpAddr::from([192, 0, 2, last]));
        t.create_controller(ANY_HOST, h, [1; 16], u32::MAX, None, peer, now)
    }

    /// Controllers their hosts never enabled make room for a new Connect once SETUP_GRACE
    /// has passed since theirs: 8 addresses x 16 admin Connects do not fill a subsystem
    /// that allows any host for good. Hosts that enabled theirs and keep talking keep them.
    #[test]
    fn controllers_never_enabled_make_room_after_the_setup_grace() {
        let t = Target::new();
        t.add_subsystem(SubsystemSpec { allow_any_host: true, ..spec(ANY_HOST) }).unwrap();
        let new = |h: &str, last: u8, now| admin_connect_from(&t, h, last, now);
        let held: Vec<_> = (0..MAX_CONTROLLERS_PER_SUBSYSTEM)
            .map(|i| new(&format!("nqn.x:h{i}"), (i / MAX_CONTROLLERS_PER_ADDRESS) as u8, t0()))
            .collect::<Result<_, _>>()
            .unwrap();
        let soon = t0() + SETUP_GRACE / 2;
        assert_eq!(new("nqn.x:host", 200, soon).unwrap_err(), ConnectRefusal::Busy);
        let after = t0() + SETUP_GRACE + Duration::from_millis(1);
        let host = new("nqn.x:host", 200, after).expect("a never-enabled one makes room");
        assert!(held[0].state().dead && !held[1].state().dead);
        assert_eq!(evicted(&t), 1);
        // Enabled and talking, they keep their places however old they are.
        let much_later = t0() + 10 * SILENT_FLOOR;
        for c in held[1..].iter().chain([&host]) {
            heard_at(c, much_later);
        }
        let r = new("nqn.x:other", 201, much_later + SETUP_GRACE);
        assert_eq!(r.unwrap_err(), ConnectRefusal::Busy);
        assert!(held[1..].iter().chain([&host]).all(|c| !c.state().dead));
        assert_eq!(evicted(&t), 1);
    }

    /// A Connect one of its limits refuses ends no controller to make room under
    /// another: a host's never-enabled controller outlives a Connect from an address
    /// whose share is full of controllers in use.
    #[test]
    fn a_refused_connect_ends_no_controller() {
        let t = Target::new();
        t.add_subsystem(SubsystemSpec { allow_any_host: true, ..spec(ANY_HOST) }).unwrap();
        let new = |h: &str, last: u8, now| admin_connect_from(&t, h, last, now);
        let host = "nqn.x:host";
        let of_host: Vec<_> = (0..MAX_CONTROLLERS_PER_HOST)
            .map(|i| new(host, 100 + i as u8, t0()).unwrap())
            .collect();
        let later = t0() + SETUP_GRACE + Duration::from_millis(1);
        for c in &of_host[1..] {
            heard_at(c, later);
        }
        let in_use: Vec<_> = (0..MAX_CONTROLLERS_PER_ADDRESS)
            .map(|i| new(&format!("nqn.x:h{i}"), 1, t0()).unwrap())
            .collect();
        for c in &in_use {
            heard_at(c, later);
        }
        assert_eq!(new(host, 1, later).unwrap_err(), ConnectRefusal::Busy, "192.0.2.1 full");
        assert!(!of_host[0].state().dead, "the refused Connect ended none");
        assert_eq!((evicted(&t), t.controller_count(ANY_HOST)), (0, 2 * MAX_CONTROLLERS_PER_HOST));
        // From an address with room, the never-enabled one gives its place.
        assert!(new(host, 2, later).is_ok());
        assert!(of_host[0].state().dead && !of_host[1].state().dead);
        assert_eq!((evicted(&t), t.controller_count(ANY_HOST)), (1, 2 * MAX_CONTROLLERS_PER_HOST));
    }

    #[test]
    fn cntlids_unique_and_hosts_checked() {
        let t = Target::new();
        t.add_subsystem(spec("nqn.2024-01.io.example:a")).unwrap();
        let h = "nqn.2014-08.org.example:host1";
        let a = t
            .create_controller("nqn.2024-01.io.example:a", h, [1; 16], 0, None, None, t0())
            .unwrap();
        let b = t
            .create_controller("nqn.2024-01.io.example:a", h, [1; 16], 0, None, None, t0())
            .unwrap();
        assert_ne!(a.cntlid, b.cntlid);
        assert_eq!(
            t.create_controller(
                "nqn.2024-01.io.example:a",
                "nqn.x:other",
                [1; 16],
                0,
                None,
                None,
                t0()
            )
            .unwrap_err(),
            ConnectRefusal::HostNotAllowed
        );
        assert_eq!(
            t.create_controller("nqn.2024-01.io.example:zz", h, [1; 16], 0, None, None, t0())
                .unwrap_err(),
            ConnectRefusal::UnknownSubsystem
        );
        assert!(t.find_controller("nqn.2024-01.io.example:a", a.cntlid, h, &[1; 16]).is_ok());
        assert_eq!(
            t.find_controller("nqn.2024-01.io.example:a", a.cntlid, h, &[2; 16]).unwrap_err(),
            ControllerMismatch::NotThisHosts
        );
        t.remove_controller(&a);
        assert!(a.state().dead);
        assert_eq!(t.controller_count("nqn.2024-01.io.example:a"), 1);
    }

    /// A target with subsystem `nqn.2024-01.io.example:a` allowing two hosts.
    fn subsystem_of_two_hosts() -> (Arc<Target>, &'static str, (&'static str, &'static str)) {
        let t = Target::new();
        let nqn = "nqn.2024-01.io.example:a";
        let (h1, h2) = ("nqn.2014-08.org.example:host1", "nqn.2014-08.org.example:host2");
        let mut s = spec(nqn);
        s.hosts = [h1, h2].iter().map(|h| (*h).to_owned()).collect();
        t.add_subsystem(s).unwrap();
        (t, nqn, (h1, h2))
    }

    #[test]
    fn a_host_no_longer_allowed_loses_its_controllers_and_others_keep_theirs() {
        let (t, nqn, (h1, h2)) = subsystem_of_two_hosts();
        let a = t.create_controller(nqn, h1, [1; 16], 0, None, None, t0()).unwrap();
        let b = t.create_controller(nqn, h2, [2; 16], 0, None, None, t0()).unwrap();
        for c in [&a, &b] {
            c.io_enabled.store(true, Ordering::Relaxed);
        }
        t.set_hosts(nqn, false, [h2.to_owned()].into()).unwrap();
        assert!(a.state().dead && !a.io_enabled.load(Ordering::Relaxed));
        assert!(!b.state().dead && b.io_enabled.load(Ordering::Relaxed));
        // Allowing any host again ends nobody's.
        t.set_hosts(nqn, true, BTreeSet::new()).unwrap();
        assert!(!b.state().dead);
        assert!(t.create_controller(nqn, "nqn.x:other", [3; 16], 0, None, None, t0()).is_ok());
    }

    /// A discovery controller's GENCTR (NVMe-oF 1.1 §5.3) stays while the entries built for
    /// it stay, whatever the target's generation does, and moves, never back, when they
    /// change: one up, or to the target's generation where that is ahead.
    #[test]
    fn a_discovery_controllers_genctr_follows_its_entries_only() {
        let t = Target::new();
        t.add_listener(ListenerSpec::loopback_for_tests()).unwrap();
        let h = "nqn.2014-08.org.example:host1";
        let mut view = DiscoveryView::default();
        let build = |view: &mut DiscoveryView| {
            let (generation, entries) = t.discovery_log(h, None);
            let genctr = view.update(generation, entries);
            assert!(view.is_current(t.discovery_generation()));
            genctr
        };
        assert_eq!(build(&mut view), 0, "no entry yet: the log of a fresh controller");
        t.add_subsystem(spec("nqn.2024-01.io.example:a")).unwrap();
        let first = build(&mut view);
        assert_eq!(first, t.discovery_generation(), "a first log starts at the target's");
        let mut other = spec("nqn.2024-01.io.example:b");
        other.hosts = BTreeSet::from(["nqn.2014-08.org.example:else".to_owned()]);
        t.add_subsystem(other).unwrap();
        assert!(!view.is_current(t.discovery_generation()));
        assert_eq!(build(&mut view), first, "another host's subsystem");
        // Taken out and back between two builds: the same entries, the same GENCTR.
        t.remove_subsystem("nqn.2024-01.io.example:a").unwrap();
        t.add_subsystem(spec("nqn.2024-01.io.example:a")).unwrap();
        assert_eq!(build(&mut view), first);
        t.remove_subsystem("nqn.2024-01.io.example:a").unwrap();
        let gone = build(&mut view);
        assert_eq!(gone, t.discovery_generation(), "ahead: to the target's generation");
        t.add_subsystem(spec("nqn.2024-01.io.example:a")).unwrap();
        assert!(build(&mut view) > gone, "the same entries as before, another GENCTR");
        let mut behind = DiscoveryView::default();
        assert_eq!(behind.update(0, view.entries().to_vec()), 1);
        assert_eq!(behind.update(0, Vec::new()), 2, "one up where the target's is behind");
    }

    /// The discovery generation, on which discovery controllers compare their hosts' logs
    /// (NVMe-oF 1.1 §5.3, GENCTR), moves with every change of some log, and not otherwise.
    #[test]
    fn every_discovery_log_change_and_only_those_move_the_generation_counter() {
        let t = Target::new();
        let h = "nqn.2014-08.org.example:host1";
        let genctr = || t.discovery_log(h, None).0;
        let mut last = genctr();
        let mut moved = |what: &str, want: bool| {
            let now = genctr();
            assert_eq!(now != last, want, "{what}: {last} -> {now}");
            assert!(now >= last, "{what}: the counter went back");
            // What discovery connections compare on each tick without the lock.
            assert_eq!(t.discovery_generation(), now, "{what}: the lock-free copy");
            last = now;
        };
        let a = "nqn.2024-01.io.example:a";
        t.add_subsystem(spec(a)).unwrap();
        moved("subsystem added", true);
        assert!(t.add_subsystem(spec(a)).is_err());
        moved("duplicate subsystem refused", false);
        t.add_listener(ListenerSpec::loopback_for_tests()).unwrap();
        moved("listener added", true);
        t.set_hosts(a, false, BTreeSet::from(["nqn.2014-08.org.example:other".to_owned()]))
            .unwrap();
        moved("allowed hosts changed", true);
        assert_eq!(t.discovery_log(h, None).1.len(), 0, "host1 may no longer see a");
        // What a Sync changes in place beside the hosts: no host's log shows it.
        t.set_hosts(a, false, BTreeSet::from(["nqn.2014-08.org.example:other".to_owned()]))
            .unwrap();
        moved("the same allowed hosts", false);
        t.set_identity(a, "S2".into(), "M2".into()).unwrap();
        t.set_host_secrets(
            a,
            BTreeMap::from([("nqn.2014-08.org.example:other".into(), t_secret())]),
        )
        .unwrap();
        t.set_cntlid_range(a, 1..=9).unwrap();
        t.set_max_io_queues(a, 2).unwrap();
        moved("serial, model, secrets, controller IDs, I/O queues", false);
        t.set_listener_digests(1, false, false).unwrap();
        moved("digests (the log does not carry them)", false);
        t.set_hosts(a, true, BTreeSet::new()).unwrap();
        moved("any host allowed", true);
        t.set_hosts(a, true, BTreeSet::from([h.to_owned()])).unwrap();
        moved("a host list that any-host makes moot", false);
        t.set_hosts(a, false, BTreeSet::from(["nqn.2014-08.org.example:other".to_owned()]))
            .unwrap();
        moved("back to one other host", true);
        let vol = Arc::new(Volume::ram("v", 512, 1 << 20).unwrap());
        t.add_namespace(a, 1, vol, [0; 16], [0; 16]).unwrap();
        moved("namespace added (not in the log)", false);
        assert!(t.remove_listener(9).is_err());
        moved("unknown listener removal refused", false);
        let through = ListenerSpec::loopback_for_tests().addr;
        let elsewhere: SocketAddr = "192.0.2.20:8009".parse().unwrap();
        t.set_referrals(through, &[elsewhere]);
        moved("referral added", true);
        t.set_referrals(through, &[elsewhere]);
        moved("the same referrals", false);
        t.remove_listener(1).unwrap();
        moved("listener removed", true);
        t.set_referrals(through, &[]);
        moved("the removed listener's referrals went with it", false);
        t.remove_subsystem(a).unwrap();
        moved("subsystem removed", true);
    }

    /// No two listeners share a port ID, whatever serves them (discovery only or not): the
    /// second is refused, naming the ID and the listener that has it; the first stays.
    #[test]
    fn a_port_id_is_one_listeners() {
        let t = Target::new();
        let io = ListenerSpec::loopback_for_tests();
        t.add_listener(io.clone()).unwrap();
        let addr = SocketAddr::from(([127, 0, 0, 1], 8009));
        let second = ListenerSpec { addr, discovery_only: true, ..io.clone() };
        let e = t.add_listener(second).unwrap_err();
        assert_eq!(e.to_string(), "port ID 1 is the listener's at 127.0.0.1:4420");
        let same_address = ListenerSpec { port_id: 2, ..io.clone() };
        assert_eq!(t.listeners(), [io]);
        let e = t.add_listener(same_address).unwrap_err();
        assert_eq!(e.to_string(), "listener 127.0.0.1:4420 already exists");
    }

    /// NVMe-oF 1.1 §5.3: a listener's referrals follow the subsystem entries of the log
    /// served through it, as entries of subtype 1 naming the discovery NQN; other
    /// listeners' logs do not show them. Each log served through a listener starts with
    /// the discovery subsystem at that listener (subtype 3) under its port ID, a
    /// discovery-only listener's too, which no subsystem entry names.
    #[test]
    fn referrals_show_through_their_listener_only() {
        let t = Target::new();
        let mut open = spec("nqn.2024-01.io.example:b");
        open.allow_any_host = true;
        t.add_subsystem(open).unwrap();
        let io = ListenerSpec::loopback_for_tests();
        t.add_listener(io.clone()).unwrap();
        let disc: SocketAddr = "127.0.0.1:8009".parse().unwrap();
        let disc_only = ListenerSpec { port_id: 9, addr: disc, discovery_only: true, ..io.clone() };
        t.add_listener(disc_only).unwrap();
        let refs: [SocketAddr; 2] =
            ["192.0.2.20:8009".parse().unwrap(), "192.0.2.21:4420".parse().unwrap()];
        t.set_referrals(disc, &refs);
        let h = "nqn.2014-08.org.example:h";
        let (_, through_disc) = t.discovery_log(h, Some(disc));
        let kinds: Vec<_> =
            through_disc.iter().map(|e| (e.subtype, e.subnqn.as_str(), e.addr)).collect();
        assert_eq!(
            kinds,
            [
                (DiscoverySubtype::CurrentDiscovery, DISCOVERY_NQN, disc),
                (DiscoverySubtype::Nvm, "nqn.2024-01.io.example:b", io.addr),
                (DiscoverySubtype::Referral, DISCOVERY_NQN, refs[0]),
                (DiscoverySubtype::Referral, DISCOVERY_NQN, refs[1]),
            ]
        );
        assert_eq!(through_disc[0].port_id, 9, "a discovery-only listener's");
        let (_, through_io) = t.discovery_log(h, Some(io.addr));
        let kinds: Vec<_> = through_io.iter().map(|e| (e.subtype, e.port_id, e.addr)).collect();
        assert_eq!(
            kinds,
            [
                (DiscoverySubtype::CurrentDiscovery, io.port_id, io.addr),
                (DiscoverySubtype::Nvm, io.port_id, io.addr)
            ],
            "the I/O listener has no referrals, and is the current discovery subsystem's port"
        );
        assert_eq!(t.discovery_log(h, None).1.len(), 1);
        // A host that may see no subsystem still gets the referrals.
        t.set_hosts("nqn.2024-01.io.example:b", false, BTreeSet::new()).unwrap();
        assert_eq!(t.discovery_log(h, Some(disc)).1.len(), 3);
        t.set_referrals(disc, &[]);
        let (_, alone) = t.discovery_log(h, Some(disc));
        assert_eq!(alone.len(), 1, "the discovery subsystem itself: {alone:?}");
    }

    /// An ANA change notice goes to the controllers of the hosts that see the namespace
    /// only, as every other namespace notice: another host's ANA log does not list it.
    #[test]
    fn an_ana_group_move_notifies_only_the_hosts_that_see_the_namespace() {
        let (t, nqn, (h1, h2)) = subsystem_of_two_hosts();
        let vol = Arc::new(Volume::ram("v", 512, 1 << 20).unwrap());
        let attrs =
            NamespaceAttrs { allowed_hosts: [h1.to_owned()].into(), ..NamespaceAttrs::default() };
        t.add_namespace_with(nqn, 1, vol, [1; 16], [1; 16], attrs).unwrap();
        let a = t.create_controller(nqn, h1, [1; 16], 0, None, None, t0()).unwrap();
        let b = t.create_controller(nqn, h2, [2; 16], 0, None, None, t0()).unwrap();
        t.set_ana_group(nqn, 1, 5).unwrap();
        assert!(a.state().ana_event_pending, "host1 sees namespace 1");
        assert!(!b.state().ana_event_pending, "host2 does not see namespace 1");
    }

    /// A namespace added or removed changes the ANA log of the hosts that see it (its
    /// NSID joins or leaves a group's list): their controllers get an ANA change notice
    /// for that Change Count, the others none.
    #[test]
    fn adding_or_removing_a_namespace_notifies_the_hosts_that_see_it() {
        let (t, nqn, (h1, h2)) = subsystem_of_two_hosts();
        let a = t.create_controller(nqn, h1, [1; 16], 0, None, None, t0()).unwrap();
        let b = t.create_controller(nqn, h2, [2; 16], 0, None, None, t0()).unwrap();
        let vol = Arc::new(Volume::ram("v", 512, 1 << 20).unwrap());
        let attrs =
            NamespaceAttrs { allowed_hosts: [h1.to_owned()].into(), ..NamespaceAttrs::default() };
        let notice = |c: &Controller| {
            let mut st = c.state();
            let seen = st.ana_event_pending.then_some(st.ana_event_chgcnt);
            st.ana_event_pending = false;
            seen
        };
        t.add_namespace_with(nqn, 1, vol, [1; 16], [1; 16], attrs).unwrap();
        let chgcnt = t.ana_groups(nqn, h1, None).0;
        assert_eq!((notice(&a), notice(&b)), (Some(chgcnt), None), "added");
        t.remove_namespace(nqn, 1).unwrap();
        assert_eq!((notice(&a), notice(&b)), (Some(chgcnt + 1), None), "removed");
    }

    /// The NQN check's message says the rule it checks: `nqn.` alone passes (Linux's host
    /// and nvmet check only the length), a space does not, 223 bytes do and 224 do not.
    #[test]
    fn the_nqn_message_says_the_rule_it_checks() {
        assert!(validate_nqn("nqn.").is_ok());
        let longest = format!("nqn.{}", "x".repeat(NQN_MAX_LEN - 4));
        assert!(validate_nqn(&longest).is_ok());
        assert!(validate_nqn(&format!("{longest}x")).is_err());
        let e = validate_nqn("nqn.2024-01.io.example:a b").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid NQN \"nqn.2024-01.io.example:a b\": must start with \"nqn.\" and be at \
             most 223 bytes of ASCII letters, digits and punctuation other than ',' (no \
             spaces or control characters)"
        );
    }

    #[test]
    fn bad_input_changes_nothing() {
        let t = Target::new();
        assert!(t.add_subsystem(spec("not-an-nqn")).is_err());
        assert!(t.add_subsystem(spec(DISCOVERY_NQN)).is_err());
        // Linux's nvmf_parse_options splits its options on ',': no host could connect.
        let comma = "nqn.2024-01.io.example:a,b";
        assert_eq!(validate_nqn(comma), Err(RegistryError::BadNqn(comma.into())));
        assert!(t.add_subsystem(spec(comma)).is_err());
        let mut s = spec("nqn.2024-01.io.example:a");
        s.hosts = [comma.to_owned()].into();
        assert!(t.add_subsystem(s).is_err());
        let mut s = spec("nqn.2024-01.io.example:a");
        s.serial = "x".repeat(21);
        assert!(t.add_subsystem(s).is_err());
        assert!(t.subsystems().is_empty());
        assert_eq!(t.discovery_log("h", None).0, 0);
    }

    #[test]
    fn namespace_change_queues_event_and_discovery_filters_hosts() {
        let t = Target::new();
        t.add_subsystem(spec("nqn.2024-01.io.example:a")).unwrap();
        let mut open = spec("nqn.2024-01.io.example:b");
        open.allow_any_host = true;
        t.add_subsystem(open).unwrap();
        t.add_listener(ListenerSpec::loopback_for_tests()).unwrap();
        let (g, e) = t.discovery_log("nqn.2014-08.org.example:host1", None);
        assert_eq!(e.len(), 2);
        let (g2, e2) = t.discovery_log("nqn.2014-08.org.example:stranger", None);
        assert_eq!(g, g2);
        assert_eq!(e2.len(), 1);
        assert_eq!(e2[0].subnqn, "nqn.2024-01.io.example:b");

        let h = "nqn.2014-08.org.example:host1";
        let c = t
            .create_controller("nqn.2024-01.io.example:a", h, [1; 16], 0, None, None, t0())
            .unwrap();
        let vol = Arc::new(Volume::ram("v", 512, 1 << 20).unwrap());
        t.add_namespace("nqn.2024-01.io.example:a", 7, vol.clone(), [0; 16], [0; 16]).unwrap();
        assert!(c.state().ns_event_pending);
        assert_eq!(c.state().changed_ns.iter().copied().collect::<Vec<_>>(), vec![7]);
        assert!(t.add_namespace("nqn.2024-01.io.example:a", 7, vol, [0; 16], [0; 16]).is_err());
        t.remove_namespace("nqn.2024-01.io.example:a", 7).unwrap();
        assert!(t.remove_namespace("nqn.2024-01.io.example:a", 7).is_err());
    }

    #[test]
    fn queues_are_grouped_by_controller_in_one_pass() {
        // A full subsystem: 128 live controllers of 129 queues each (admin and
        // 128 I/O), with queues of torn-down controllers between and after them,
        // sorted by (CNTLID, QID) as `SubsystemStats::snapshot` gives them.
        let live: Vec<u16> = (0..128).map(|i| 2 * i + 2).collect();
        let mut queues = Vec::new();
        for cntlid in 1..=260u16 {
            let n = if live.contains(&cntlid) { 129 } else { 2 };
            queues.extend((0..n).map(|qid| (cntlid, qid)));
        }
        let visits = std::cell::Cell::new(0usize);
        let (groups, rest) = group_by_controller(queues.clone(), live.iter().copied(), |q| {
            visits.set(visits.get() + 1);
            q.0
        });
        // Each queue is looked at once, not once per controller before it.
        assert_eq!(visits.get(), queues.len());
        assert_eq!(groups.len(), live.len());
        for (id, group) in live.iter().zip(&groups) {
            let want: Vec<_> = (0..129).map(|qid| (*id, qid)).collect();
            assert_eq!(group, &want);
        }
        let want: Vec<_> = queues.iter().filter(|q| !live.contains(&q.0)).copied().collect();
        assert_eq!(rest, want);
        // A live controller with no queue yet gets an empty group.
        let (groups, rest) =
            group_by_controller(vec![(1, 0), (3, 0)], [1, 2, 3], |q: &(u16, u16)| q.0);
        assert_eq!(groups, vec![vec![(1, 0)], vec![], vec![(3, 0)]]);
        assert!(rest.is_empty());
    }
}
