//! The internal gRPC API the agent drives: `dpu.nvmf.v1.NvmfInternalService`
//! (whole-state [`Sync`](NvmfInternal::sync_state), stats) and
//! `dpu.internal.v1.ServiceControl`, served on a Unix socket.
//!
//! A sync converges the running target to exactly the desired objects: new ones are
//! created, changed ones replaced, missing ones removed. Each object reports
//! `APPLIED` or `FAILED` with a message; a failed object changes nothing and does not
//! stop the others. Namespaces added or removed raise asynchronous events for the
//! connected hosts (see [`crate::target`]). Opening volumes, and resolving their paths
//! to tell whether another volume is on the same file or device, runs on blocking threads.

pub use dpu_runtime::control::{Control, instance_id};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use dpu_proto::dpu::nvmf::v1 as pb;
use dpu_proto::dpu::nvmf::v1::nvmf_internal_service_server::{
    NvmfInternalService, NvmfInternalServiceServer,
};
use dpu_runtime::newest::NewestWaits;
use tonic::{Request, Response, Status};
use tracing::{info, warn};

use crate::auth::HostSecrets;
use crate::latency::VolumeLatency;
use crate::rate_limit::RateLimit;
use crate::server::{Connections, ListenerLife, Server};
use crate::stats::IoTotals;
use crate::target::{
    AnaState, DEFAULT_ANA_GROUP, HostWriteProtection, ListenerSpec, Namespace, NamespaceAttrs,
    NamespaceStats, SubsystemReport, SubsystemSpec,
};
use crate::volume::Volume;
use crate::volume_records::{FileVolume, Source, VolumeRecords};

/// Service name reported by `GetServiceInfo`.
pub const SERVICE_NAME: &str = "nvmf";
/// Version reported by `GetServiceInfo`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Largest internal request either side accepts (a full sync).
pub const INTERNAL_MESSAGE_LIMIT: usize = 64 * 1024 * 1024;
/// How many times [`INTERNAL_MESSAGE_LIMIT`] a reply may take: a Sync's reply names every
/// object with its status (a message, a namespace's NGUID, UUID and counters), which may
/// outgrow a request of small specs (2.5 times, for volumes whose short paths fail to
/// open), and one refused on every try would leave every status PENDING.
pub const REPLY_FACTOR: usize = 4;
/// How long a Sync waits for the volume operations of the namespaces it takes out
/// ([`TakenOut`]): a Linux host's default I/O timeout, past which it would have given up
/// on them itself (`nvme_core.io_timeout`).
pub const DRAIN_DEADLINE: Duration = Duration::from_secs(30);
/// The longest pause between two looks at the operations a Sync waits for.
const DRAIN_POLL_MAX: Duration = Duration::from_millis(50);

#[derive(Clone)]
struct AppliedVolume {
    spec: pb::VolumeSpec,
    volume: Arc<Volume>,
}

impl AppliedVolume {
    /// The NGUID and UUID of namespace `nsid` of `nqn` of `spec` on it ([`namespace_ids`]).
    fn namespace_ids(
        &self,
        spec: &pb::NamespaceSpec,
        nqn: &str,
        nsid: u32,
    ) -> Result<([u8; 16], [u8; 16]), String> {
        namespace_ids(spec, nqn, nsid, &self.spec, self.volume.contents_id())
    }
}

struct AppliedSubsystem {
    spec: pb::SubsystemSpec,
    nqn: String,
}

struct AppliedNamespace {
    spec: pb::NamespaceSpec,
    nqn: String,
    nsid: u32,
    volume: Arc<Volume>,
    /// The namespace this Sync registered: what `nqn` and `nsid` name may be another
    /// subsystem's once an NQN moved.
    ns: Arc<crate::target::Namespace>,
}

impl AppliedNamespace {
    /// Removes the namespace from the target if it is still the one applied.
    fn remove_from(&self, target: &crate::Target) {
        if serves(target, &self.ns) {
            let _ = target.remove_namespace(&self.nqn, self.nsid);
        }
    }

    /// Whether it is on the volume applied under the name its spec gives (not one the
    /// Sync removed or opened anew).
    fn on_applied_volume(&self, volumes: &BTreeMap<String, AppliedVolume>) -> bool {
        volumes.get(&self.spec.volume).is_some_and(|v| Arc::ptr_eq(&v.volume, &self.volume))
    }

    /// Records `name` as applied again while it `serves` (a refused spec leaves it as it
    /// was), else takes it out of the target: a Sync removes only what it records, so a
    /// record dropped with the namespace still in the target would serve it for good.
    fn keep_or_remove(
        self,
        serves: bool,
        name: &str,
        namespaces: &mut BTreeMap<String, AppliedNamespace>,
        target: &crate::Target,
    ) {
        if serves {
            namespaces.insert(name.to_owned(), self);
        } else {
            self.remove_from(target);
        }
    }
}

struct AppliedListener {
    spec: pb::ListenerSpec,
    /// The port ID it is served under (a discovery-only one's too).
    port_id: u16,
    addr: SocketAddr,
    /// Kept when it is bound anew, so deleting it closes every socket's connections.
    life: ListenerLife,
}

#[derive(Default)]
struct Applied {
    volumes: BTreeMap<String, AppliedVolume>,
    subsystems: BTreeMap<String, AppliedSubsystem>,
    namespaces: BTreeMap<String, AppliedNamespace>,
    listeners: BTreeMap<String, AppliedListener>,
    /// The counters of each namespace name the last Sync asked for.
    namespace_stats: CountedByName<NamespaceStats>,
    /// The latency histograms of each volume name the last Sync asked for.
    volume_latency: CountedByName<VolumeLatency>,
    /// Namespaces a Sync took out whose hosts' volume operations had not all ended when it
    /// stopped waiting ([`TakenOut`]): until they have, their volumes and media stay
    /// theirs (no Sync adds a namespace on them or opens a volume on their medium).
    draining: Vec<Arc<Namespace>>,
    /// The allowed hosts of each namespace the last Sync asked for, as far as they passed
    /// the check against its subsystem (`pb::SubsystemSpec::host_not_let_in`), which those
    /// pass again; `None` before this process's first Sync.
    hosts_named: Option<BTreeMap<String, Vec<String>>>,
    last: pb::SyncResponse,
}

/// Whether `target` serves `ns` (not another namespace under its NQN and NSID).
fn serves(target: &crate::Target, ns: &Arc<Namespace>) -> bool {
    target.namespace(&ns.subnqn, ns.nsid).is_some_and(|x| Arc::ptr_eq(&x, ns))
}

impl Applied {
    /// What reads see of it ([`Published`]).
    fn published(&self) -> Published {
        Published {
            namespaces: self.namespaces.iter().map(|(k, n)| (k.clone(), n.ns.clone())).collect(),
            subsystems: self.subsystems.iter().map(|(k, s)| (k.clone(), s.nqn.clone())).collect(),
            volumes: self.volumes.iter().map(|(k, v)| (k.clone(), v.volume.clone())).collect(),
        }
    }
}

/// What the reads of the applied state (statistics, the clearing of a host's write
/// protection) see: the names a Sync applied and what it applied under them, published
/// as it makes its changes ([`NvmfInternal::publish`]). They never wait for a running
/// Sync, which holds the applied state while it waits for the I/O of the namespaces it
/// takes out (up to [`DRAIN_DEADLINE`]): a metrics scrape or `dpuctl nvmf stats` must
/// answer exactly when I/O is stuck.
#[derive(Default)]
struct Published {
    namespaces: BTreeMap<String, Arc<Namespace>>,
    /// Subsystem names and their NQNs.
    subsystems: Vec<(String, String)>,
    volumes: Vec<(String, Arc<Volume>)>,
}

/// Counters by resource name, which outlive the objects a Sync replaces under the name (a
/// namespace given another volume, NGUID, UUID or NQN, or whose volume is opened anew; a
/// volume opened anew): dpud labels their series by the name alone, and a Prometheus
/// counter must not go down while the service runs (docs/api.md). Kept for the names the
/// last Sync asked for, applied or not, so a name served again after a Sync that could
/// not serve it counts on too; a name created anew starts at 0.
struct CountedByName<T>(BTreeMap<String, Arc<T>>);

impl<T> Default for CountedByName<T> {
    fn default() -> Self {
        Self(BTreeMap::new())
    }
}

impl<T: Default> CountedByName<T> {
    /// Keeps the counters of `names` (a name new here starts at 0) and forgets the others.
    fn keep<'a>(&mut self, names: impl IntoIterator<Item = &'a String>) {
        let mut old = std::mem::take(&mut self.0);
        self.0 =
            names.into_iter().map(|n| (n.clone(), old.remove(n).unwrap_or_default())).collect();
    }

    /// The counters of `name`, to be shared by what is applied under it.
    fn of(&self, name: &str) -> Arc<T> {
        self.0.get(name).cloned().unwrap_or_default()
    }
}

/// Implements `NvmfInternalService` over a running [`Server`].
#[derive(Clone)]
pub struct NvmfInternal {
    server: Arc<Server>,
    applied: Arc<tokio::sync::Mutex<Applied>>,
    /// What reads see of `applied` (held only to swap or clone the `Arc`).
    published: Arc<std::sync::Mutex<Arc<Published>>>,
    /// The Sync waiting for the running one ([`NvmfInternal::queue_sync`]).
    waiting: Arc<NewestWaits>,
    /// The volumes of the service's configuration file (`--config`): those the target's
    /// namespaces are on as the internal API starts, the file being applied before it.
    file_volumes: Arc<[Arc<Volume>]>,
    /// How long a Sync waits for the I/O of the namespaces it takes out
    /// ([`DRAIN_DEADLINE`]).
    drain_deadline: Duration,
    /// The file volumes opened before, whose missing files are not made anew.
    volume_records: Arc<VolumeRecords>,
}

impl std::fmt::Debug for NvmfInternal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NvmfInternal").finish_non_exhaustive()
    }
}

fn status(generation: i64, result: &Result<(), String>) -> pb::ObjectStatus {
    match result {
        Ok(()) => pb::ObjectStatus {
            state: pb::ApplyState::Applied as i32,
            applied_generation: generation,
            message: String::new(),
        },
        Err(m) => pb::ObjectStatus {
            state: pb::ApplyState::Failed as i32,
            applied_generation: 0,
            message: m.clone(),
        },
    }
}

/// A namespace identifier's text (an NGUID or UUID: 32 hex digits, any case, dashes
/// anywhere) as its 16 bytes: the one reading of the API's `nguid` and `uuid`, so the
/// agent compares them as the service applies them.
pub fn parse_hex16(s: &str) -> Option<[u8; 16]> {
    let digits: Vec<u8> = s.bytes().filter(|b| *b != b'-').collect();
    if digits.len() != 32 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = [0u8; 16];
    hex::decode_to_slice(&digits, &mut out).ok()?;
    Some(out)
}

/// An NGUID or UUID, `None` where it is not known ahead ([`namespace_ids_ahead`]).
pub type KnownId = Option<[u8; 16]>;

/// What only one namespace of a target may have: its NGUID and UUID (NVMe Base 2.0
/// §4.7.1, §4.7.2: each identifies one namespace; a Linux host ignores a namespace whose
/// IDs another has) and its volume `V` (the agent names volumes, the service compares
/// the volumes it opened).
#[derive(Clone, Debug)]
pub struct NamespaceClaims<V> {
    /// Namespace Globally Unique Identifier, as the namespace shows it; `None` where it
    /// is not known ahead, so it is shared with none.
    pub nguid: KnownId,
    /// Namespace UUID, likewise.
    pub uuid: KnownId,
    /// Its volume.
    pub volume: V,
}

/// What two namespaces would both have ([`NamespaceClaims::shared_with`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shared {
    /// This NGUID.
    Nguid([u8; 16]),
    /// This UUID.
    Uuid([u8; 16]),
    /// The volume.
    Volume,
}

impl Shared {
    /// Why a namespace is refused that would have what namespace `nsid` of `nqn` has:
    /// the Sync's message and the configuration file's.
    pub fn refusal(self, nsid: u32, nqn: &str) -> String {
        format!("namespace {nsid} of {nqn} has {self} already; {}", self.why())
    }

    /// Why a volume is refused whose file or block device `medium` (as
    /// [`volume::medium`](crate::volume::medium) resolves it) is volume `holder`'s: the
    /// Sync's message, the configuration file's and the agent's. (Two namespaces on one
    /// volume are [`Self::Volume`]'s, [`Self::why`].)
    pub fn medium_refusal(medium: &Path, holder: &str) -> String {
        format!(
            "{} is the medium of {holder}; two volumes on one file or block device would show \
             hosts one medium as two namespaces",
            medium.display()
        )
    }

    /// Why only one namespace may have it, for a message.
    pub fn why(self) -> &'static str {
        match self {
            Self::Nguid(_) => {
                "an NGUID identifies one namespace (NVMe Base 2.0 §4.7.1), and a Linux host \
                 ignores a namespace whose IDs another has"
            }
            Self::Uuid(_) => {
                "a UUID identifies one namespace (NVMe Base 2.0 §4.7.2), and a Linux host \
                 ignores a namespace whose IDs another has"
            }
            Self::Volume => {
                "a volume backs one namespace (as SPDK lets one namespace claim a bdev); two \
                 would show hosts one medium as two"
            }
        }
    }
}

impl std::fmt::Display for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Nguid(id) => write!(f, "NGUID {}", hex::encode(id)),
            Self::Uuid(id) => write!(f, "UUID {}", uuid::Uuid::from_bytes(*id).hyphenated()),
            Self::Volume => f.write_str("the volume"),
        }
    }
}

impl<V: PartialEq> NamespaceClaims<V> {
    /// The first of the NGUID, the UUID and the volume that `self` and `other` both have.
    pub fn shared_with(&self, other: &Self) -> Option<Shared> {
        let same = |a: KnownId, b: KnownId| a.filter(|_| a == b);
        if let Some(nguid) = same(self.nguid, other.nguid) {
            Some(Shared::Nguid(nguid))
        } else if let Some(uuid) = same(self.uuid, other.uuid) {
            Some(Shared::Uuid(uuid))
        } else if self.volume == other.volume {
            Some(Shared::Volume)
        } else {
            None
        }
    }
}

/// A volume the service opened, equal only to itself (the claims of a namespace it
/// serves).
#[derive(Clone, Debug)]
struct OpenedVolume(Arc<Volume>);

impl PartialEq for OpenedVolume {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

type Claims = NamespaceClaims<OpenedVolume>;

/// The claims of a namespace the target serves.
fn claims_of(ns: &crate::target::Namespace) -> Claims {
    let (nguid, uuid) = (Some(ns.nguid), Some(ns.uuid));
    Claims { nguid, uuid, volume: OpenedVolume(ns.volume.clone()) }
}

/// "subsystems/{s}/namespaces/{nsid}" → ("subsystems/{s}", nsid).
fn split_namespace_name(name: &str) -> Option<(String, u32)> {
    let (parent, nsid) = name.rsplit_once("/namespaces/")?;
    let id = parent.strip_prefix("subsystems/")?;
    if id.is_empty() || id.contains('/') {
        return None;
    }
    Some((parent.to_owned(), nsid.parse().ok()?))
}

/// The size a volume spec asks for (0 for a block device, which has its device's size)
/// and its backing: the spec without that size and its rate limit, its block size in
/// the one form each effective size has (`VolumeSpec::canonical_block_size`). Two specs
/// with one size and backing are one volume; with one backing, one volume resized in
/// place.
pub fn volume_size_and_backing(spec: &pb::VolumeSpec) -> (u64, pb::VolumeSpec) {
    let (size, mut backing) = size_and_spelled_backing(spec);
    backing.block_size = backing.canonical_block_size();
    (size, backing)
}

/// The same with the block size as the spec spells it: what the default namespace IDs
/// hash (so they stay when the volume grows, and are what they always were; a volume's
/// spelling stays as it was created, see [`same_block_size_spelled_as`]).
fn size_and_spelled_backing(spec: &pb::VolumeSpec) -> (u64, pb::VolumeSpec) {
    let mut backing = without_rate_limit(spec);
    let size = match &mut backing.backend {
        Some(pb::volume_spec::Backend::Ram(r)) => std::mem::take(&mut r.size_bytes),
        Some(pb::volume_spec::Backend::File(f)) => std::mem::take(&mut f.size_bytes),
        Some(pb::volume_spec::Backend::BlockDevice(_)) | None => 0,
    };
    (size, backing)
}

/// `new` with `old`'s spelling of the block size when the two name one size of one
/// backing (a RAM or file volume's 0 and 512): the default IDs of the namespaces on it
/// hash the spelling, so a change of spelling alone must not reach them.
pub fn same_block_size_spelled_as(mut new: pb::VolumeSpec, old: &pb::VolumeSpec) -> pb::VolumeSpec {
    if new.block_size != old.block_size
        && volume_size_and_backing(&new).1 == volume_size_and_backing(old).1
    {
        new.block_size = old.block_size;
    }
    new
}

/// A volume's `create_time` (when the agent created it) in Unix nanoseconds; 0 if not said.
fn unix_nanos(t: Option<dpu_proto::pbjson_types::Timestamp>) -> i64 {
    t.map_or(0, |t| t.seconds.saturating_mul(1_000_000_000).saturating_add(t.nanos.into()))
}

/// A namespace's counters as the API shows them.
fn counters_pb(c: crate::target::NamespaceCounters) -> pb::NamespaceCounters {
    pb::NamespaceCounters {
        reads: c.reads,
        writes: c.writes,
        read_bytes: c.read_bytes,
        write_bytes: c.write_bytes,
        errors: c.errors,
        throttled: c.throttled,
    }
}

/// A volume spec without its rate limit, which changes in place.
fn without_rate_limit(spec: &pb::VolumeSpec) -> pb::VolumeSpec {
    pb::VolumeSpec { max_iops: 0, max_bytes_per_second: 0, ..spec.clone() }
}

/// The rate limit a volume spec asks for.
fn rate_limit(spec: &pb::VolumeSpec) -> RateLimit {
    RateLimit { iops: spec.max_iops, bytes_per_second: spec.max_bytes_per_second }
}

/// Opens volume `name` of `spec`, created by the agent at `created` (Unix nanoseconds,
/// 0 if not said); a file volume's file is made only if `records` has not seen the volume
/// opened, and the opening is on record before the volume is returned. Blocks.
fn open_volume(
    name: &str,
    spec: &pb::VolumeSpec,
    records: &VolumeRecords,
    created: i64,
) -> Result<Volume, String> {
    // 0: 512, or a block device's own logical block size.
    let chosen = (spec.block_size != 0).then_some(spec.block_size);
    let bs = chosen.unwrap_or(512);
    let r = match &spec.backend {
        Some(pb::volume_spec::Backend::Ram(r)) => Volume::ram(name, bs, r.size_bytes),
        Some(pb::volume_spec::Backend::File(f)) => {
            if f.path.is_empty() {
                return Err("spec.file.path is required".into());
            }
            let (path, source) = (Path::new(&f.path), Source::Sync);
            let this = FileVolume { source, name, path: &f.path, created };
            // Once opened, its file held the hosts' data: one missing now is not made anew.
            let create = !records.opened_before(&this);
            let (volume, change) = Volume::file_noting(name, path, bs, f.size_bytes, create)
                .map_err(|e| e.to_string())?;
            if let Err(e) = records.note(&this) {
                // Unrecorded, a file made now would be made again after a restart.
                drop(volume);
                if let Err(err) = change.undo(path) {
                    warn!(path = %f.path, %err, "cannot take back a volume file");
                }
                return Err(format!("recording the volume in the state directory failed: {e}"));
            }
            Ok(volume)
        }
        Some(pb::volume_spec::Backend::BlockDevice(b)) => {
            Volume::block_device(name, Path::new(&b.path), chosen)
        }
        None => return Err("spec.backend is required (ram, file or block_device)".into()),
    };
    r.map_err(|e| e.to_string())
}

/// Opens volume `name` of `spec` ([`open_volume`]) unless its file or block device is
/// another volume's in `media`: then it touches nothing. Blocks (resolves the path, opens).
fn open_unshared(
    name: &str,
    spec: &pb::VolumeSpec,
    media: &Media,
    records: &VolumeRecords,
    created: i64,
) -> Result<Volume, String> {
    let path = match &spec.backend {
        Some(pb::volume_spec::Backend::File(f)) => &f.path,
        Some(pb::volume_spec::Backend::BlockDevice(b)) => &b.path,
        Some(pb::volume_spec::Backend::Ram(_)) | None => "",
    };
    // An empty path is refused as such by `open_volume`.
    if !path.is_empty() {
        media.check(name, &crate::volume::medium(Path::new(path)))?;
    }
    open_volume(name, spec, records, created)
}

/// A volume on a file or block device, for a Sync's message.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Holder {
    /// The Sync's volume of this name.
    Sync(String),
    /// The volume of this name of the service's configuration file (`--config`).
    File(String),
    /// Namespace `nsid` of `nqn`, taken out by a Sync while its I/O still ran
    /// ([`Applied::draining`]).
    TakenOut { nqn: String, nsid: u32 },
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sync(name) => f.write_str(name),
            Self::File(name) => write!(f, "volume {name} of the service's configuration file"),
            Self::TakenOut { nqn, nsid } => {
                write!(f, "namespace {nsid} of {nqn}, taken out while its I/O still runs")
            }
        }
    }
}

/// The files and block devices the service's volumes are on, by
/// [`volume::medium`](crate::volume::medium), as a Sync applies its volumes: a volume on
/// another's is refused, as the agent (`check_volume_medium`) and the configuration file
/// (`Config::check_volumes`) refuse it, since hosts would see one medium as two
/// namespaces and writes through both would corrupt each other.
#[derive(Clone, Debug, Default)]
struct Media(Vec<(PathBuf, Holder)>);

impl Media {
    /// Those served as a Sync starts: the configuration file's volumes (`file`; one of the
    /// file's that no namespace is on is closed once the file is applied), the applied
    /// volumes the Sync still `wanted`, and any other a namespace of the target is on that
    /// no Sync tracks. Each holds its medium until the Sync ends, also when the Sync moves
    /// it elsewhere: its namespaces stay on it until the Sync replaces them, after the
    /// volumes. One the Sync removes gives its medium up: its namespaces go before any is
    /// added.
    fn served(
        target: &crate::Target,
        a: &Applied,
        wanted: &HashSet<String>,
        file: &[Arc<Volume>],
    ) -> Self {
        let tracked: HashSet<*const Volume> = (a.volumes.values().map(|x| &x.volume))
            .chain(a.namespaces.values().map(|x| &x.volume))
            .map(Arc::as_ptr)
            .collect();
        let file: HashSet<*const Volume> = file.iter().map(Arc::as_ptr).collect();
        let mut media = Self::default();
        for ns in target.all_namespaces() {
            let v = &ns.volume;
            let name = v.name().to_owned();
            if file.contains(&Arc::as_ptr(v)) {
                media.hold(v, Holder::File(name));
            } else if !tracked.contains(&Arc::as_ptr(v)) {
                // Served on a volume no Sync tracks any more: still on its medium.
                media.hold(v, Holder::Sync(name));
            }
        }
        for (name, v) in a.volumes.iter().filter(|(name, _)| wanted.contains(*name)) {
            media.hold(&v.volume, Holder::Sync(name.clone()));
        }
        media
    }

    /// Notes that the namespaces earlier Syncs took out whose I/O still runs hold their
    /// volumes' media.
    fn hold_taken_out(&mut self, taken_out: &TakenOut) {
        for ns in &taken_out.running {
            let holder = Holder::TakenOut { nqn: ns.subnqn.clone(), nsid: ns.nsid };
            self.hold(&ns.volume, holder);
        }
    }

    /// Notes that `holder` is on `volume`'s medium (if it has one).
    fn hold(&mut self, volume: &Volume, holder: Holder) {
        if let Some(m) = volume.medium() {
            self.0.push((m.to_owned(), holder));
        }
    }

    /// Refuses Sync volume `name` on `medium` if another volume is on it.
    fn check(&self, name: &str, medium: &Path) -> Result<(), String> {
        let mine = Holder::Sync(name.to_owned());
        match self.0.iter().find(|(m, holder)| m == medium && *holder != mine) {
            // Not a second volume's reason: the namespace's late I/O would land on it.
            Some((m, holder @ Holder::TakenOut { .. })) => Err(format!(
                "{} is the medium of {holder}; no volume is opened on it until that I/O has ended",
                m.display()
            )),
            Some((m, holder)) => Err(Shared::medium_refusal(m, &holder.to_string())),
            None => Ok(()),
        }
    }
}

/// The namespaces a Sync takes out of the target, each waited for until the volume
/// operations its hosts' commands started have ended (run, or skipped once it was out:
/// [`Namespace::io_running`]), before a namespace is added on its volume or medium and
/// before the Sync answers, as Linux's nvmet's `nvmet_ns_disable` returns once the requests
/// that found the namespace completed: a write of a deleted tenant must not land on a
/// medium that serves another one, nor a late read return the other's data. The waits
/// end at a deadline ([`DRAIN_DEADLINE`] from the first): past it, a namespace on the
/// volume or medium fails, saying so, and those still running hold their volumes and
/// media for the next Syncs ([`Applied::draining`]).
///
/// A host that loses a namespace that stays (the subsystem's allowed hosts or the
/// namespace's no longer list it) is cut off from the operations its commands started
/// there ([`Namespace::cut_off_unreachable`]): the Sync answers once those ended too,
/// within the same deadline, so nothing of a revoked host lands after the answer.
struct TakenOut {
    /// Served as the Sync started and not seen taken out since.
    served: Vec<Arc<Namespace>>,
    /// Taken out (by this Sync or earlier ones), their operations not seen ended.
    running: Vec<Arc<Namespace>>,
    /// Served, with operations of hosts cut off from them not seen ended (looked at only
    /// before the answer: they hold no volume from another namespace).
    cut_off: Vec<Arc<Namespace>>,
    /// How long the waits may take, from the first.
    limit: Duration,
    deadline: Option<tokio::time::Instant>,
}

impl TakenOut {
    /// For a Sync of `target`, whose earlier Syncs left `earlier` running.
    fn new(target: &crate::Target, mut earlier: Vec<Arc<Namespace>>, limit: Duration) -> Self {
        earlier.retain(|ns| ns.io_running());
        let served = target.all_namespaces();
        Self { served, running: earlier, cut_off: Vec::new(), limit, deadline: None }
    }

    /// Notes the namespaces taken out since the last look, and forgets those whose
    /// operations have ended.
    fn look(&mut self) {
        let served = std::mem::take(&mut self.served);
        let (out, kept) = served.into_iter().partition(|ns| ns.detached.load(Ordering::Acquire));
        self.served = kept;
        self.running.extend::<Vec<_>>(out);
        self.running.retain(|ns| ns.io_running());
    }

    /// Notes the served namespaces whose cut-off hosts' operations have not ended.
    fn look_cut_off(&mut self) {
        self.cut_off = self.served.iter().filter(|ns| ns.cut_off_io_running()).cloned().collect();
    }

    /// Waits until no namespace taken out that `blocks` picks has operations running, at
    /// most until the deadline; returns one that still has, if any.
    async fn wait(&mut self, blocks: impl Fn(&Namespace) -> bool) -> Option<Arc<Namespace>> {
        self.wait_until(|t| {
            t.look();
            t.running.iter().find(|ns| blocks(ns)).cloned()
        })
        .await
    }

    /// Waits until `busy` (which looks anew) finds no namespace, at most until the
    /// deadline; returns the one it found last, if any.
    async fn wait_until(
        &mut self,
        busy: impl Fn(&mut Self) -> Option<Arc<Namespace>>,
    ) -> Option<Arc<Namespace>> {
        let mut pause = Duration::from_millis(1);
        loop {
            let busy = busy(self)?;
            let limit = self.limit;
            let deadline =
                *self.deadline.get_or_insert_with(|| tokio::time::Instant::now() + limit);
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Some(busy);
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(DRAIN_POLL_MAX);
        }
    }

    /// Waits as [`wait`](Self::wait) for every namespace taken out, and for the
    /// operations of the hosts cut off from those that stay; tells of those still running
    /// past the deadline.
    async fn drained(&mut self) {
        let busy = |t: &mut Self| {
            t.look();
            t.look_cut_off();
            t.running.first().or(t.cut_off.first()).cloned()
        };
        if self.wait_until(busy).await.is_some() {
            for ns in &self.running {
                warn!(
                    nqn = %ns.subnqn,
                    nsid = ns.nsid,
                    "namespace taken out with I/O still running after {:?}: its volume and \
                     medium serve no other namespace until it ends",
                    self.limit
                );
            }
            for ns in &self.cut_off {
                warn!(
                    nqn = %ns.subnqn,
                    nsid = ns.nsid,
                    "I/O of hosts no longer allowed on the namespace still running after {:?}",
                    self.limit
                );
            }
        }
    }
}

/// Whether `a` is `b` or on its file or device.
fn same_medium(a: &Arc<Volume>, b: &Arc<Volume>) -> bool {
    Arc::ptr_eq(a, b) || a.medium().is_some_and(|m| b.medium() == Some(m))
}

/// Why a namespace is not added on volume `volume` while the I/O of `busy`, taken out,
/// still runs on it or its medium.
fn busy_refusal(busy: &Namespace, volume: &str) -> String {
    format!(
        "namespace {} of {}, taken out, still has I/O running on volume {volume} or its \
         medium; no other namespace is served on them until that I/O has ended",
        busy.nsid, busy.subnqn
    )
}

/// A Sync's objects of one kind, each name once, in the order the names first come; of
/// two with one name the later counts. The agent sends each name once; the rule keeps
/// another sender's Sync deterministic (each name applied once, so the same state applied
/// again changes nothing).
fn by_name<T>(objects: Vec<T>, name: impl Fn(&T) -> &String) -> Vec<(String, T)> {
    let mut place: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<(String, T)> = Vec::with_capacity(objects.len());
    for o in objects {
        let n = name(&o).clone();
        match place.get(&n) {
            Some(&i) => out[i].1 = o,
            None => {
                place.insert(n.clone(), out.len());
                out.push((n, o));
            }
        }
    }
    out
}

impl NvmfInternal {
    /// Drives `server`, whose target serves the namespaces of the service's configuration
    /// file, if any, already.
    pub fn new(server: Arc<Server>) -> Self {
        let file_volumes = server.target().all_namespaces().into_iter().map(|ns| ns.volume.clone());
        Self {
            applied: Arc::new(tokio::sync::Mutex::new(Applied::default())),
            published: Arc::default(),
            waiting: Arc::default(),
            file_volumes: file_volumes.collect(),
            server,
            drain_deadline: DRAIN_DEADLINE,
            volume_records: Arc::default(),
        }
    }

    /// Keeps which file volumes it opened in `records` (the service's state directory;
    /// without, in memory only: after a restart a missing file is made anew).
    pub fn with_volume_records(mut self, records: Arc<VolumeRecords>) -> Self {
        self.volume_records = records;
        self
    }

    /// Waits at most `deadline` for the I/O of the namespaces a Sync takes out (tests).
    #[cfg(test)]
    fn draining_at_most(mut self, deadline: Duration) -> Self {
        self.drain_deadline = deadline;
        self
    }

    /// The gRPC server for the agent's socket.
    pub fn into_server(self) -> NvmfInternalServiceServer<Self> {
        NvmfInternalServiceServer::new(self)
            .max_decoding_message_size(INTERNAL_MESSAGE_LIMIT)
            .max_encoding_message_size(INTERNAL_MESSAGE_LIMIT * REPLY_FACTOR)
    }

    /// Shows reads what `a` holds now ([`Published`]).
    fn publish(&self, a: &Applied) {
        let published = Arc::new(a.published());
        *self.published.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = published;
    }

    /// What reads see of the applied state.
    fn published(&self) -> Arc<Published> {
        self.published.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Converges to `req` once the Sync running (if any) ended; returns every object's name,
    /// generation and status.
    pub async fn sync_state(&self, req: pb::SyncRequest) -> pb::SyncResponse {
        let mut a = self.applied.lock().await;
        let (out, mut taken_out) = self.apply_sync(&mut a, req).await;
        drop(a);
        taken_out.drained().await;
        out
    }

    /// Runs `req` as [`sync_state`](Self::sync_state) on a task of its own (a caller that
    /// gives up, its deadline or a dropped connection, must not stop a Sync halfway, which
    /// would forget the objects taken out of the applied state and not yet put back). At
    /// most one Sync waits for the running one: the newest, as each Sync carries the whole
    /// desired state. The one it replaces ends at once with ABORTED, dropping its request
    /// (up to the message limit), so the agent's timed-out and retried Syncs neither pile
    /// up nor re-apply stale states one after the other when a hang clears.
    fn queue_sync(
        &self,
        req: pb::SyncRequest,
    ) -> tokio::task::JoinHandle<Result<pb::SyncResponse, Status>> {
        let this = self.clone();
        tokio::spawn(async move {
            // A newer Sync that came while this one waited wins, also when both are ready
            // at once.
            let mut a = this.waiting.wait(this.applied.lock()).await.map_err(|_| {
                Status::aborted("a newer Sync replaced this one before it ran; that one applies")
            })?;
            let (out, mut taken_out) = this.apply_sync(&mut a, req).await;
            // Reads of the applied state (statistics) need not wait for the drain.
            drop(a);
            taken_out.drained().await;
            Ok(out)
        })
    }

    /// Converges to `req` with the applied state held; returns the response and the
    /// namespaces it took out, whose I/O the caller waits for before answering, once the
    /// applied state is let go ([`TakenOut::drained`]).
    ///
    /// The reply is each object's name, generation and status, not its spec: the agent has
    /// the spec, and an echoed spec beside the status (a namespace's NGUID and UUID text)
    /// would make the reply outgrow what the agent takes (docs/api.md).
    async fn apply_sync(
        &self,
        a: &mut Applied,
        req: pb::SyncRequest,
    ) -> (pb::SyncResponse, TakenOut) {
        let target = self.server.target().clone();
        let mut out = pb::SyncResponse::default();
        // Every namespace it takes out is waited for before its volume or medium serves
        // another namespace and before the Sync answers.
        let earlier = std::mem::take(&mut a.draining);
        let mut taken_out = TakenOut::new(&target, earlier, self.drain_deadline);

        // Volumes: reopen only what changed, grow in place what only grew (on blocking
        // threads); none on the file or device of another, in the order they are applied.
        let mut reopened = BTreeSet::new();
        let mut grown = Vec::new();
        let mut volumes = BTreeMap::new();
        let requested = by_name(req.volumes, |v| &v.name);
        let wanted: HashSet<String> = requested.iter().map(|(name, _)| name.clone()).collect();
        a.volume_latency.keep(&wanted);
        let mut media = Media::served(&target, a, &wanted, &self.file_volumes);
        media.hold_taken_out(&taken_out);
        for (_, mut v) in requested {
            // Taken, not cloned: the reply leaves specs out (see `apply_sync`).
            let spec = v.spec.take().unwrap_or_default();
            let created = unix_nanos(v.create_time.take());
            let old = a.volumes.remove(&v.name);
            let (size, backing) = volume_size_and_backing(&spec);
            let result = if !v.name.starts_with("volumes/") || v.name.len() <= 8 {
                Err(format!("invalid volume name {:?}: expected volumes/{{id}}", v.name))
            } else if let Some(old) =
                old.as_ref().filter(|o| volume_size_and_backing(&o.spec) == (size, backing.clone()))
            {
                // The same volume, perhaps with another rate limit (set below).
                let spec = same_block_size_spelled_as(spec.clone(), &old.spec);
                volumes.insert(v.name.clone(), AppliedVolume { spec, ..old.clone() });
                Ok(())
            } else if let Some(old) =
                old.as_ref().filter(|o| size > 0 && volume_size_and_backing(&o.spec).1 == backing)
            {
                // Hosts keep their namespaces and are told the new size; a refused resize
                // (a smaller size) leaves the volume as it was.
                let vol = old.volume.clone();
                let result = match tokio::task::spawn_blocking(move || vol.grow(size)).await {
                    Ok(grew) => grew.map_err(|e| e.to_string()),
                    Err(e) => Err(format!("resizing the volume failed: {e}")),
                };
                let applied = if result.is_ok() {
                    info!(volume = %v.name, size, "volume grown");
                    grown.push(old.volume.clone());
                    let spec = same_block_size_spelled_as(spec, &old.spec);
                    AppliedVolume { spec, volume: old.volume.clone() }
                } else {
                    old.clone()
                };
                volumes.insert(v.name.clone(), applied);
                result
            } else {
                let (s, name, taken) = (spec.clone(), v.name.clone(), media.clone());
                let records = self.volume_records.clone();
                let opened = tokio::task::spawn_blocking(move || {
                    open_unshared(&name, &s, &taken, &records, created)
                })
                .await
                .unwrap_or_else(|e| Err(format!("opening the volume failed: {e}")));
                match opened {
                    Ok(vol) => {
                        media.hold(&vol, Holder::Sync(v.name.clone()));
                        reopened.insert(v.name.clone());
                        let volume = Arc::new(vol.with_latency(a.volume_latency.of(&v.name)));
                        // Its status follows a growing device even before it is exported.
                        self.server.follow(&volume);
                        volumes.insert(v.name.clone(), AppliedVolume { spec, volume });
                        Ok(())
                    }
                    Err(e) => {
                        // What cannot be opened anew leaves the volume serving as it was.
                        if let Some(old) = old {
                            volumes.insert(v.name.clone(), old);
                        }
                        Err(e)
                    }
                }
            };
            if let Some(x) = volumes.get(&v.name) {
                x.volume.set_rate_limit(rate_limit(&x.spec), Instant::now());
            }
            let (size, blocks) =
                volumes.get(&v.name).map_or((0, 0), |x| (x.volume.size_bytes(), x.volume.blocks()));
            v.status = Some(pb::VolumeStatus {
                apply: Some(status(v.generation, &result)),
                size_bytes: size,
                block_count: blocks,
            });
            out.volumes.push(v);
        }
        a.volumes = volumes;
        // A volume the desired state no longer has is forgotten: made again, it makes its
        // file (on a blocking thread).
        let records = self.volume_records.clone();
        let forgot = tokio::task::spawn_blocking(move || {
            records.keep_only(Source::Sync, |name| wanted.contains(name))
        })
        .await;
        if let Err(err) = forgot.unwrap_or_else(|e| Err(std::io::Error::other(e))) {
            warn!(%err, "forgetting the records of deleted file volumes failed");
        }

        // Subsystems.
        let mut recreated = BTreeSet::new();
        let mut subsystems = BTreeMap::new();
        let wanted: BTreeMap<_, _> = by_name(req.subsystems, |s| &s.name).into_iter().collect();
        // Removed subsystems first, so an NQN can move between names; and those that give up
        // their NQN to another name (two swapping theirs, say: each would otherwise be
        // refused for the NQN the other still holds), to be added again under their new one.
        let nqn_of = |s: &pb::Subsystem| s.spec.as_ref().map(|spec| spec.nqn.clone());
        let gives_up = |k: &String, old: &AppliedSubsystem| {
            let wanted_elsewhere =
                wanted.iter().any(|(n, w)| n != k && nqn_of(w).as_ref() == Some(&old.nqn));
            wanted_elsewhere && wanted.get(k).and_then(nqn_of).as_ref() != Some(&old.nqn)
        };
        let gone: Vec<String> = a
            .subsystems
            .iter()
            .filter(|(k, old)| !wanted.contains_key(*k) || gives_up(k, old))
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            if let Some(old) = a.subsystems.remove(&k) {
                let _ = target.remove_subsystem(&old.nqn);
                info!(nqn = %old.nqn, "subsystem removed");
            }
        }
        // The NQN each subsystem asks for, applied or not.
        let mut asked = HashMap::new();
        for (name, mut s) in wanted {
            let spec = s.spec.take().unwrap_or_default();
            asked.insert(name.clone(), spec.nqn.clone());
            // The target's form of the spec, checked whole before anything is applied (an
            // in-place change sets the hosts first, which ends the controllers of hosts no
            // longer allowed).
            let parsed = host_secrets(&spec).and_then(|host_secrets| {
                let new = SubsystemSpec {
                    nqn: spec.nqn.clone(),
                    serial: spec.serial_number.clone(),
                    model: if spec.model_number.is_empty() {
                        "dpu-nvmf".into()
                    } else {
                        spec.model_number.clone()
                    },
                    allow_any_host: spec.allow_any_host,
                    hosts: spec.allowed_hosts.iter().cloned().collect(),
                    host_secrets,
                    cntlids: spec.cntlid_range().map_err(|(_, e)| format!("spec.{e}"))?,
                    max_io_queues: spec.io_queue_limit().map_err(|(_, e)| format!("spec.{e}"))?,
                };
                crate::target::check_subsystem(&new).map_err(|e| e.to_string())?;
                Ok(new)
            });
            let result = if !name.starts_with("subsystems/")
                || name.len() <= 11
                || name[11..].contains('/')
            {
                Err(format!("invalid subsystem name {name:?}: expected subsystems/{{id}}"))
            } else {
                match parsed {
                    // Refused whole: what was applied stays.
                    Err(e) => {
                        if let Some(old) = a.subsystems.remove(&name) {
                            subsystems.insert(name.clone(), old);
                        }
                        Err(e)
                    }
                    Ok(new) => match a.subsystems.remove(&name) {
                        Some(old) if old.spec == spec => {
                            subsystems.insert(name.clone(), old);
                            Ok(())
                        }
                        // The same NQN: changed in place, so controllers, namespaces and
                        // their reservations and Write Protect stay (a serial or model
                        // change too: Identify reads them when it runs).
                        Some(old) if old.nqn == spec.nqn => {
                            let nqn = &spec.nqn;
                            let r = target
                                .set_identity(nqn, new.serial, new.model)
                                .and_then(|()| target.set_hosts(nqn, new.allow_any_host, new.hosts))
                                .and_then(|()| target.set_host_secrets(nqn, new.host_secrets))
                                .and_then(|()| target.set_cntlid_range(nqn, new.cntlids))
                                .and_then(|()| target.set_max_io_queues(nqn, new.max_io_queues))
                                .map_err(|e| e.to_string());
                            if r.is_ok() {
                                subsystems
                                    .insert(name.clone(), AppliedSubsystem { spec, nqn: old.nqn });
                            } else {
                                subsystems.insert(name.clone(), old);
                            }
                            r
                        }
                        old => {
                            // Another NQN: replaced in one step, so a refused spec
                            // leaves the old subsystem and its namespaces.
                            let r = match &old {
                                Some(old) => target.replace_subsystem(&old.nqn, new),
                                None => target.add_subsystem(new),
                            };
                            match r {
                                Ok(()) => {
                                    recreated.insert(name.clone());
                                    info!(nqn = %spec.nqn, "subsystem added");
                                    subsystems.insert(
                                        name.clone(),
                                        AppliedSubsystem { nqn: spec.nqn.clone(), spec },
                                    );
                                    Ok(())
                                }
                                Err(e) => {
                                    if let Some(old) = old {
                                        subsystems.insert(name.clone(), old);
                                    }
                                    Err(e.to_string())
                                }
                            }
                        }
                    },
                }
            };
            s.status = Some(pb::SubsystemStatus {
                apply: Some(status(s.generation, &result)),
                controllers: subsystems
                    .get(&name)
                    .map_or(0, |x| target.controller_count(&x.nqn) as u32),
                ..Default::default()
            });
            out.subsystems.push(s);
        }
        a.subsystems = subsystems;
        // Reads see the subsystems and volumes as they are now, not only once the
        // namespaces, which may wait for I/O, are done.
        self.publish(a);

        // Namespaces.
        let wanted: BTreeMap<_, _> = by_name(req.namespaces, |n| &n.name).into_iter().collect();
        a.namespace_stats.keep(wanted.keys());
        // Every (NQN, NSID) a wanted namespace may have, applied or not: with the NQN asked
        // for and the one applied (a refused change keeps it). The saved state of any other
        // goes, a namespace deleted while the service was down too.
        let wanted_keys: HashSet<(String, u32)> = wanted
            .keys()
            .filter_map(|name| split_namespace_name(name))
            .flat_map(|(parent, nsid)| {
                let applied = a.subsystems.get(&parent).map(|s| s.nqn.as_str());
                let nqns = [asked.get(&parent).map(String::as_str), applied];
                nqns.into_iter().flatten().map(move |nqn| (nqn.to_owned(), nsid))
            })
            .collect();
        // Invariant: after every Sync the target serves, of the namespaces not the
        // configuration file's, exactly those the Sync records (`a.namespaces`), which
        // its response shows APPLIED, or FAILED where a refused change left one serving as
        // it was; a later Sync removes only what it records. So those not wanted go, and
        // so do those whose volume the Sync removed or opened anew (hosts must not go on
        // using a volume no Sync holds): all before any namespace is added, so one added
        // on a removed volume's medium never serves beside them.
        let mut old_ns = std::mem::take(&mut a.namespaces);
        old_ns.retain(|k, old| {
            let keep = wanted.contains_key(k) && old.on_applied_volume(&a.volumes);
            if !keep {
                // Its subsystem may be gone already; then there is nothing to remove.
                old.remove_from(&target);
            }
            keep
        });
        // What each namespace is to have, so that one giving up an NGUID, UUID or volume
        // another takes in this Sync makes room for it (`make_room`).
        let desired: BTreeMap<String, Claims> = wanted
            .iter()
            .filter_map(|(name, n)| {
                Some((name.clone(), desired_claims(a, name, n.spec.as_ref()?)?))
            })
            .collect();
        let mut namespaces = BTreeMap::new();
        let mut hosts_named = BTreeMap::new();
        for (name, mut n) in wanted {
            let spec = n.spec.take().unwrap_or_default();
            // Hosts it named before pass: a subsystem update that dropped one (revoking a
            // host is one write) left the entry inert. A process's first Sync cannot tell
            // such an entry from a bad one (nothing says what came before a restart): it
            // takes every host named as named before (the agent checked it when written).
            let named_before = match &a.hosts_named {
                Some(named) => named.get(&name).cloned().unwrap_or_default(),
                None => spec.allowed_hosts.clone(),
            };
            let (asked_hosts, mut hosts_passed) = (spec.allowed_hosts.clone(), false);
            // A refused spec leaves the namespace that serves as it was (unless it went
            // with its subsystem: then an NQN it had may be another subsystem's now; or
            // `make_room` took it out for another; its volume is applied, see above).
            let serving = |old: &AppliedNamespace| {
                let parent = split_namespace_name(&name).map(|(parent, _)| parent);
                parent.is_some_and(|parent| {
                    a.subsystems.get(&parent).is_some_and(|sub| sub.nqn == old.nqn)
                        && !recreated.contains(&parent)
                }) && target
                    .namespace(&old.nqn, old.nsid)
                    .is_some_and(|ns| Arc::ptr_eq(&ns, &old.ns))
            };
            let result: Result<(), String> = async {
                let (parent, nsid, sub, vol) = match placement(a, &name, &spec) {
                    Ok(placed) => placed,
                    // Its new subsystem or volume is not applied (a volume that failed to
                    // open, say): it keeps serving where it was.
                    Err(e) => {
                        if let Some(old) = old_ns.remove(&name) {
                            let serves = serving(&old);
                            old.keep_or_remove(serves, &name, &mut namespaces, &target);
                        }
                        return Err(e);
                    }
                };
                // As the agent refuses the write (`check_namespace_hosts`); a refused change
                // leaves the namespace serving as it was.
                if let Some(refused) = sub.spec.host_not_let_in(&spec, &named_before) {
                    if let Some(old) = old_ns.remove(&name) {
                        let serves = serving(&old);
                        old.keep_or_remove(serves, &name, &mut namespaces, &target);
                    }
                    return Err(format!("spec.{}", refused.message(&parent)));
                }
                hosts_passed = true;
                let attrs = NamespaceAttrs {
                    ana_group: if spec.ana_group == 0 { DEFAULT_ANA_GROUP } else { spec.ana_group },
                    write_protected: spec.read_only,
                    allowed_hosts: spec.allowed_hosts.iter().cloned().collect(),
                };
                // Checked whole before a namespace that serves is changed or replaced.
                let checked = crate::target::check_namespace(nsid, &attrs)
                    .map_err(|e| e.to_string())
                    .and_then(|()| vol.namespace_ids(&spec, &sub.nqn, nsid));
                let (nguid, uuid) = match checked {
                    Ok(ids) => ids,
                    Err(e) => {
                        if let Some(old) = old_ns.remove(&name) {
                            let serves = serving(&old);
                            old.keep_or_remove(serves, &name, &mut namespaces, &target);
                        }
                        return Err(e);
                    }
                };
                let claims = Claims {
                    nguid: Some(nguid),
                    uuid: Some(uuid),
                    volume: OpenedVolume(vol.volume.clone()),
                };
                if let Some(mut old) = old_ns.remove(&name) {
                    // Another ANA group or write protection alone keeps the namespace
                    // attached.
                    let same = without_in_place_attrs(&old.spec) == without_in_place_attrs(&spec)
                        && old.nqn == sub.nqn
                        && !recreated.contains(&parent)
                        && !reopened.contains(&spec.volume)
                        && Arc::ptr_eq(&old.volume, &vol.volume);
                    if same {
                        let changed = target
                            .set_ana_group(&old.nqn, nsid, attrs.ana_group)
                            .and_then(|()| {
                                target.set_write_protected(&old.nqn, nsid, attrs.write_protected)
                            })
                            .and_then(|()| {
                                target.set_allowed_hosts(&old.nqn, nsid, attrs.allowed_hosts)
                            });
                        if changed.is_ok() {
                            old.spec = spec;
                        }
                        namespaces.insert(name.clone(), old);
                        return changed.map_err(|e| e.to_string());
                    }
                    if let Err(e) = make_room(&target, &claims, Some(&old.ns), &old_ns, &desired) {
                        let serves = serving(&old);
                        old.keep_or_remove(serves, &name, &mut namespaces, &target);
                        return Err(e);
                    }
                    old.remove_from(&target);
                } else {
                    make_room(&target, &claims, None, &old_ns, &desired)?;
                }
                // Not before the I/O of a namespace taken out on its volume or medium ended
                // (that of the one it replaces too): none of it may land under the new one.
                let on_it = |ns: &Namespace| same_medium(&ns.volume, &vol.volume);
                if let Some(busy) = taken_out.wait(on_it).await {
                    return Err(busy_refusal(&busy, &spec.volume));
                }
                // Refused for its state file at start or at the last try: the file as it
                // is now decides (mended, or moved away, since), read on a blocking thread.
                if let Some(store) = target.namespace_store().filter(|s| s.refuses(&sub.nqn, nsid))
                {
                    let (store, nqn) = (store.clone(), sub.nqn.clone());
                    let _ = tokio::task::spawn_blocking(move || store.read_again(&nqn, nsid)).await;
                }
                let stats = a.namespace_stats.of(&name);
                target
                    .add_namespace_counting(
                        &sub.nqn,
                        nsid,
                        vol.volume.clone(),
                        nguid,
                        uuid,
                        attrs,
                        stats,
                    )
                    .map_err(|e| e.to_string())?;
                let ns = target.namespace(&sub.nqn, nsid).ok_or("namespace gone at once")?;
                info!(nqn = %sub.nqn, nsid, volume = %spec.volume, "namespace added");
                if vol.volume.contents_id().is_some()
                    && !(spec.nguid.is_empty() && spec.uuid.is_empty())
                {
                    // The operator's IDs stay as given: a host that reconnects after a
                    // restart takes the empty volume for its data (docs/operations.md).
                    warn!(
                        nqn = %sub.nqn,
                        nsid,
                        volume = %spec.volume,
                        "namespace on a RAM volume has a pinned NGUID or UUID: they outlive \
                         its data, so a host reconnecting after the service restarts keeps \
                         its cached data of the disk and reads zeros around it; leave them \
                         unset to get new ones with each opening"
                    );
                }
                namespaces.insert(
                    name.clone(),
                    AppliedNamespace {
                        spec,
                        nqn: sub.nqn.clone(),
                        nsid,
                        volume: vol.volume.clone(),
                        ns,
                    },
                );
                Ok(())
            }
            .await;
            hosts_named.insert(name.clone(), if hosts_passed { asked_hosts } else { named_before });
            let serving = namespaces.get(&name).and_then(|x| target.namespace(&x.nqn, x.nsid));
            let counters = serving.as_ref().map(|ns| counters_pb(ns.stats.snapshot()));
            // The IDs hosts see, which the API shows nowhere else when they are derived.
            let (nguid, uuid) = serving.map_or_else(Default::default, |ns| {
                (hex::encode(ns.nguid), uuid::Uuid::from_bytes(ns.uuid).hyphenated().to_string())
            });
            n.status = Some(pb::NamespaceStatus {
                apply: Some(status(n.generation, &result)),
                counters,
                nguid,
                uuid,
                ..Default::default()
            });
            out.namespaces.push(n);
        }
        // Namespaces that failed to re-apply are gone from the target already.
        for (_, old) in old_ns {
            old.remove_from(&target);
        }
        a.namespaces = namespaces;
        a.hosts_named = Some(hosts_named);
        for volume in &grown {
            target.volume_resized(volume);
        }
        // Saved namespace state follows the namespaces: that of those not wanted goes,
        // those added start empty unless restored (on a blocking thread).
        if let Some(store) = target.namespace_store().cloned() {
            let live = target.all_namespaces();
            let saved =
                tokio::task::spawn_blocking(move || store.sync(&live, Some(&wanted_keys))).await;
            if let Err(err) = saved.unwrap_or_else(|e| Err(std::io::Error::other(e))) {
                warn!(%err, "saving reservations failed");
            }
        }

        // Listeners.
        let wanted: BTreeMap<_, _> = by_name(req.listeners, |l| &l.name).into_iter().collect();
        let old_l = std::mem::take(&mut a.listeners);
        let mut listeners = BTreeMap::new();
        // Listeners to bind anew (another address, or discovery only or not), by name: all
        // stopped (their sockets closed) before any is bound, so one may take another's
        // address; one that fails to bind is started again as it was.
        let mut rebound = BTreeMap::new();
        for (k, old) in old_l {
            // Other ANA states, referrals or digests alone keep the listener and its
            // connections.
            let kept = |w: &pb::Listener| {
                w.spec.as_ref().map(without_in_place_changes)
                    == Some(without_in_place_changes(&old.spec))
            };
            match wanted.get(&k) {
                Some(w) if kept(w) => {
                    listeners.insert(k, old);
                }
                Some(_) => {
                    self.stop_listener(&old, Connections::Keep).await;
                    rebound.insert(k, old);
                }
                None => self.stop_listener(&old, Connections::Close).await,
            }
        }
        // Their port IDs are theirs to keep, and so are those the wanted listeners name (the
        // agent's): no listener given one here takes one of them.
        let named = wanted.values().filter_map(|l| u16::try_from(l.spec.as_ref()?.port_id).ok());
        let reserved: BTreeSet<u16> =
            rebound.values().map(|old| old.port_id).chain(named.filter(|id| *id != 0)).collect();
        for (name, mut l) in wanted {
            let spec = l.spec.take().unwrap_or_default();
            let result = match listener_settings(&spec) {
                // A running listener keeps its states and referrals.
                Err(e) => Err(e),
                Ok(wanted) => {
                    // A listener bound anew keeps its port ID (the discovery log's PORTID).
                    let old = rebound.get(&name);
                    let ids = PortIds { prefer: old.map(|old| old.port_id), reserved: &reserved };
                    let life = old.map(|old| old.life.clone()).unwrap_or_default();
                    let before = listeners.get(&name).or(old).map(|l| l.spec.ana_groups.clone());
                    let settings = (&wanted, before.as_deref());
                    self.apply_listener(&name, spec, settings, &mut listeners, ids, life).await
                }
            };
            let old_id = rebound.get(&name).map(|old| old.port_id);
            let old_life = rebound.get(&name).map(|old| old.life.clone());
            if let (Err(_), Some(old)) = (&result, rebound.remove(&name)) {
                self.restore_listener(&name, old, &mut listeners, &reserved).await;
            }
            // One neither bound anew nor started again as it was serves the connections it
            // kept no more: they close (a Connect would take the role of a socket that is
            // gone, its port ID free), as a later Sync starts it with a life of its own.
            if let Some(life) = old_life
                && !listeners.contains_key(&name)
            {
                life.delete();
            }
            // The I/O controllers a rebound listener kept carry its port ID, whose ANA
            // states they follow and with which they end. One that does not keep it as an
            // I/O listener ends them now: not started again, its ID is free for the next
            // listener, whose states and deletion must not reach them; under another ID,
            // likewise; made discovery-only, it serves them no more.
            let serves_io_as = |l: &AppliedListener| (!l.spec.discovery_only).then_some(l.port_id);
            if let Some(id) = old_id
                && listeners.get(&name).and_then(serves_io_as) != Some(id)
            {
                self.server.target().end_controllers_through(id);
            }
            let served = listeners.get(&name);
            l.status = Some(pb::ListenerStatus {
                apply: Some(status(l.generation, &result)),
                port_id: served.map_or(0, |x| u32::from(x.port_id)),
                ana_groups: served.map(|x| served_ana_states(&target, x)).unwrap_or_default(),
            });
            out.listeners.push(l);
        }
        a.listeners = listeners;

        // Named (the first few), so the log says which objects to look at.
        let failed_names = out.failed_names();
        let failed = failed_names.len();
        if let Some(objects) = dpu_proto::failed_objects(failed_names) {
            warn!(failed, %objects, "nvmf sync: some objects not applied");
        }
        info!(
            volumes = out.volumes.len(),
            subsystems = out.subsystems.len(),
            namespaces = out.namespaces.len(),
            listeners = out.listeners.len(),
            failed,
            "nvmf sync"
        );
        // Those still running hold their volumes and media for the next Syncs.
        taken_out.look();
        a.draining = taken_out.running.clone();
        a.last = out.clone();
        self.publish(a);
        (out, taken_out)
    }

    /// Starts listener `name` unless it runs (its port ID chosen by `ids`; `life` its
    /// earlier sockets' if it is bound anew; its ANA states in place before it serves),
    /// then sets its ANA states, referrals and digests. `before`: the ANA groups it was
    /// applied with until this Sync, if it was.
    async fn apply_listener(
        &self,
        name: &str,
        spec: pb::ListenerSpec,
        ((states, referrals), before): (&ListenerSettings, Option<&[pb::AnaGroupState]>),
        listeners: &mut BTreeMap<String, AppliedListener>,
        ids: PortIds<'_>,
        life: ListenerLife,
    ) -> Result<(), String> {
        if !listeners.contains_key(name) {
            let started = self.start_listener(name, &spec, states, listeners, ids, life).await?;
            listeners.insert(name.to_owned(), started);
        }
        let Some(applied) = listeners.get_mut(name) else { return Err("not started".into()) };
        let (target, id, now) = (self.server.target(), applied.port_id, Instant::now());
        target.set_ana_states(id, states, now).map_err(|e| e.to_string())?;
        // The same states again keep a transition; Change written anew starts one.
        let set_anew = before.map(|before| ana_changes_set_anew(before, &spec.ana_groups));
        target.restart_ana_changes(id, &set_anew.unwrap_or_default(), now);
        target
            .set_listener_digests(id, spec.header_digest_allowed(), spec.data_digest_allowed())
            .map_err(|e| e.to_string())?;
        target.set_referrals(applied.addr, referrals);
        applied.spec = spec;
        Ok(())
    }

    /// Starts `old` again as it was (its new spec failed to apply), so that a refused
    /// change leaves it serving.
    async fn restore_listener(
        &self,
        name: &str,
        old: AppliedListener,
        listeners: &mut BTreeMap<String, AppliedListener>,
        reserved: &BTreeSet<u16>,
    ) {
        if let Some(new) = listeners.remove(name) {
            self.stop_listener(&new, Connections::Keep).await;
        }
        let restored = match listener_settings(&old.spec) {
            Ok(settings) => {
                let ids = PortIds { prefer: Some(old.port_id), reserved };
                let settings = (&settings, None);
                self.apply_listener(name, old.spec, settings, listeners, ids, old.life).await
            }
            Err(e) => Err(e),
        };
        if let Err(err) = restored {
            warn!(name, %err, "the listener could not be started again as it was");
        }
    }

    /// Stops listener `l`; returns once its socket is closed.
    async fn stop_listener(&self, l: &AppliedListener, connections: Connections) {
        let _ = self.server.remove_listener(l.port_id, connections).await;
    }

    /// Starts listener `name` (binds and serves it), showing ANA states `ana` from its
    /// first connection on.
    async fn start_listener(
        &self,
        name: &str,
        spec: &pb::ListenerSpec,
        ana: &BTreeMap<u32, AnaState>,
        others: &BTreeMap<String, AppliedListener>,
        ids: PortIds<'_>,
        life: ListenerLife,
    ) -> Result<AppliedListener, String> {
        if !name.starts_with("listeners/") || name.len() <= 10 {
            return Err(format!("invalid listener name {name:?}: expected listeners/{{id}}"));
        }
        if spec.trtype != pb::TransportType::Tcp as i32
            && spec.trtype != pb::TransportType::Unspecified as i32
        {
            return Err("spec.trtype: only TCP is supported".into());
        }
        // In its one form: an IPv4-mapped address stored by an older agent is bound, and
        // named in discovery logs, as its IPv4 address.
        let ip = dpu_proto::canonical_ip(&spec.address)
            .ok_or_else(|| format!("spec.address {:?} is not an IP address", spec.address))?;
        let port = u16::try_from(spec.port)
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("spec.port {} out of range 1..=65535", spec.port))?;
        let addr = SocketAddr::new(ip, port);
        // Listeners of the service's own configuration file hold port IDs too.
        let registered = self.server.target().listeners();
        let mut used: BTreeSet<u16> = others.values().map(|x| x.port_id).collect();
        used.extend(registered.iter().map(|l| l.port_id));
        let port_id = match spec.port_id {
            // None named (an older agent's Sync): the one it had, else the lowest free one.
            0 => {
                used.extend(ids.reserved.iter().filter(|id| Some(**id) != ids.prefer));
                ids.prefer
                    .filter(|p| !used.contains(p))
                    .or_else(|| crate::target::lowest_free_port_id(&used))
                    .ok_or("no free port ID")?
            }
            // The agent's, the listener's for its life.
            named => match u16::try_from(named) {
                Ok(id) if !used.contains(&id) => id,
                Ok(id) => {
                    let holder = port_id_holder(id, others, &registered);
                    return Err(format!("spec.port_id {id} is the port ID of {holder}"));
                }
                Err(_) => return Err(format!("spec.port_id {named} out of range 1..=65535")),
            },
        };
        let spec_of = ListenerSpec {
            port_id,
            addr,
            allow_hdgst: spec.header_digest_allowed(),
            allow_ddgst: spec.data_digest_allowed(),
            discovery_only: spec.discovery_only,
        };
        let bound =
            self.server.add_listener_of(spec_of, &life, ana).await.map_err(|e| e.to_string())?;
        Ok(AppliedListener { spec: spec.clone(), port_id, addr: bound, life })
    }

    /// Lifts the write protection hosts set on the applied namespace `name` and makes that
    /// durable before it answers (a Write Protect kept in the state directory would
    /// otherwise come back with the next start); if it cannot, the protection is put back.
    pub async fn clear_host_write_protection(
        &self,
        name: &str,
    ) -> Result<HostWriteProtection, Status> {
        // From what the last Sync published, not waiting for a running one: hosts change
        // their protection at any time too, and the store saves no namespace taken out.
        let t = self.server.target();
        let n = self.published().namespaces.get(name).filter(|ns| serves(t, ns)).cloned();
        let n = n.ok_or_else(|| {
            Status::not_found(format!("{name} is not served (not configured, or it failed)"))
        })?;
        let previous = t
            .clear_host_write_protection(&n.subnqn, n.nsid)
            .map_err(|e| Status::not_found(format!("{name}: {e}")))?;
        if previous == HostWriteProtection::WriteProtect
            && let (Some(store), Some(ns)) =
                (t.namespace_store().cloned(), t.namespace(&n.subnqn, n.nsid))
        {
            let saving = ns.clone();
            let saved = tokio::task::spawn_blocking(move || store.save(&saving)).await;
            if let Err(err) = saved.unwrap_or_else(|e| Err(std::io::Error::other(e))) {
                t.revert_host_write_protection(&ns, HostWriteProtection::NoWriteProtect, previous);
                return Err(Status::internal(format!(
                    "{name}: the cleared protection could not be saved ({err}); it stays"
                )));
            }
        }
        if previous != HostWriteProtection::NoWriteProtect {
            info!(name, ?previous, "the operator lifted a host's write protection");
        }
        Ok(previous)
    }

    /// Target-wide and per-namespace counters.
    pub async fn stats(&self) -> pb::NvmfStats {
        use std::sync::atomic::Ordering::Relaxed;
        // What the last Sync published: a running one may be waiting for stuck I/O.
        let a = self.published();
        let t = self.server.target();
        let namespaces = a
            .namespaces
            .iter()
            .filter(|(_, ns)| serves(t, ns))
            .map(|(name, ns)| {
                let c = ns.stats.snapshot();
                let r = ns
                    .reservations
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .summary();
                pb::NamespaceStats {
                    name: name.clone(),
                    counters: Some(counters_pb(c)),
                    reservation: Some(pb::NamespaceReservation {
                        r#type: i32::from(r.rtype),
                        registrants: r.registrants as u32,
                        generation: r.generation,
                        holder_host_id: r
                            .holder
                            .map(|h| uuid::Uuid::from_bytes(h).hyphenated().to_string())
                            .unwrap_or_default(),
                        persist_through_power_loss: r.ptpl,
                    }),
                    host_write_protected: ns.host_write_protected(),
                    host_write_protection: host_write_protection_pb(ns.host_write_protection())
                        .into(),
                }
            })
            .collect();
        let mut reports: BTreeMap<String, SubsystemReport> =
            t.subsystem_stats().into_iter().map(|r| (r.nqn.clone(), r)).collect();
        let subsystems = a
            .subsystems
            .iter()
            .filter_map(|(name, nqn)| Some(subsystem_stats(name, reports.remove(nqn)?)))
            .collect();
        let volumes = a.volumes.clone();
        drop(a);
        // A file volume's allocation is an `fstat`: off the reactor.
        let volumes = tokio::task::spawn_blocking(move || {
            volumes
                .into_iter()
                .map(|(name, v)| {
                    // Memory-only volumes have no device operations to time: no series.
                    let latency = (!v.backend().memory_only()).then(|| v.latency());
                    pb::VolumeStats {
                        name,
                        size_bytes: v.size_bytes(),
                        allocated_bytes: v.backend().allocated_bytes(),
                        read_latency: latency.map(|l| l.read.snapshot()),
                        write_latency: latency.map(|l| l.write.snapshot()),
                        flush_latency: latency.map(|l| l.flush.snapshot()),
                    }
                })
                .collect()
        })
        .await
        .unwrap_or_default();
        let gauges = self.server.connection_gauges();
        pb::NvmfStats {
            connections: t.stats.connections.load(Relaxed),
            connections_shed: t.stats.connections_shed.load(Relaxed),
            terminated_connections: t.stats.terminated.load(Relaxed),
            keep_alive_expired: t.stats.kato_expired.load(Relaxed),
            connects_refused: t.stats.connects_refused.load(Relaxed),
            auth_failures: t.stats.auth_failures.load(Relaxed),
            write_budget_waits: t.stats.write_budget_waits.load(Relaxed),
            controllers_evicted: t.stats.controllers_evicted.load(Relaxed),
            open_connections: gauges.open as u64,
            unconnected_connections: gauges.unconnected as u64,
            namespaces,
            subsystems,
            volumes,
        }
    }
}

/// The API form of a subsystem's counters; `name` is its resource name.
fn subsystem_stats(name: &str, r: SubsystemReport) -> pb::SubsystemStats {
    let io = |c: &IoTotals| pb::IoCounters {
        commands: c.commands,
        reads: c.reads,
        writes: c.writes,
        read_bytes: c.read_bytes,
        write_bytes: c.write_bytes,
        errors: c.errors,
    };
    let addr = |a: Option<SocketAddr>| a.map(|a| a.to_string()).unwrap_or_default();
    let controllers = r
        .controllers
        .into_iter()
        .map(|c| pb::ControllerStats {
            name: format!("{name}/controllers/{}", c.cntlid),
            cntlid: u32::from(c.cntlid),
            host_nqn: c.hostnqn,
            peer_address: addr(c.queues.iter().find(|q| q.info.qid == 0).and_then(|q| q.info.peer)),
            queues: c
                .queues
                .iter()
                .map(|q| pb::QueueStats {
                    qid: u32::from(q.info.qid),
                    sq_size: q.info.sq_size,
                    io: Some(io(&q.io)),
                    in_flight: q.in_flight,
                    header_digest: q.info.hdgst,
                    data_digest: q.info.ddgst,
                    peer_address: addr(q.info.peer),
                })
                .collect(),
        })
        .collect::<Vec<_>>();
    pb::SubsystemStats {
        name: name.to_owned(),
        nqn: r.nqn,
        live_controllers: controllers.len() as u32,
        connects_accepted: r.counters.connects_accepted,
        connects_refused: r.counters.connects_refused,
        io: Some(io(&r.counters.io)),
        controllers,
    }
}

/// One API entry of `host_secrets` as the target uses it: secrets, DH group and hash. The
/// one reading of an entry (the agent validates with it, the service applies it); an
/// error names the field, never the secret.
pub fn parse_host_secret(
    h: &pb::HostSecret,
) -> Result<HostSecrets, (&'static str, crate::dhchap::SecretError)> {
    HostSecrets::parse(&h.dhchap_secret, &h.dhchap_ctrl_secret, h.dh_group_id(), h.hash_id())
}

/// Namespace `name`'s parent subsystem name, NSID, subsystem and volume as applied; or
/// why it cannot be applied.
fn placement<'a>(
    a: &'a Applied,
    name: &str,
    spec: &pb::NamespaceSpec,
) -> Result<(String, u32, &'a AppliedSubsystem, &'a AppliedVolume), String> {
    let (parent, nsid) = split_namespace_name(name).ok_or_else(|| {
        format!("invalid namespace name {name:?}: expected subsystems/{{s}}/namespaces/{{nsid}}")
    })?;
    let sub =
        a.subsystems.get(&parent).ok_or_else(|| format!("subsystem {parent} is not applied"))?;
    let vol = a
        .volumes
        .get(&spec.volume)
        .ok_or_else(|| format!("volume {:?} is not applied", spec.volume))?;
    Ok((parent, nsid, sub, vol))
}

/// The claims namespace `name` of `spec` would have, if it can be applied.
fn desired_claims(a: &Applied, name: &str, spec: &pb::NamespaceSpec) -> Option<Claims> {
    let (_, nsid, sub, vol) = placement(a, name, spec).ok()?;
    let (nguid, uuid) = vol.namespace_ids(spec, &sub.nqn, nsid).ok()?;
    Some(Claims { nguid: Some(nguid), uuid: Some(uuid), volume: OpenedVolume(vol.volume.clone()) })
}

/// Makes room for a namespace about to be added with `claims` in place of `own` (the one
/// of its name that serves, if any): another namespace of the target with its NGUID,
/// UUID or volume refuses it, unless that one is still to be applied in this Sync
/// (`pending`) and is to give them up (`desired`): it is taken out now and added again,
/// with what it is to have, in its turn. So namespaces that trade NGUIDs, UUIDs or volumes
/// in one Sync all apply, and the target never shows two namespaces one of them.
fn make_room(
    target: &crate::Target,
    claims: &Claims,
    own: Option<&Arc<crate::target::Namespace>>,
    pending: &BTreeMap<String, AppliedNamespace>,
    desired: &BTreeMap<String, Claims>,
) -> Result<(), String> {
    for other in target.all_namespaces() {
        if own.is_some_and(|own| Arc::ptr_eq(own, &other)) {
            continue;
        }
        let Some(shared) = claims.shared_with(&claims_of(&other)) else { continue };
        let giving_up = pending.iter().find(|(name, p)| {
            Arc::ptr_eq(&p.ns, &other)
                && desired.get(*name).is_none_or(|d| claims.shared_with(d).is_none())
        });
        match giving_up {
            Some((_, p)) => p.remove_from(target),
            None => return Err(shared.refusal(other.nsid, &other.subnqn)),
        }
    }
    Ok(())
}

/// An NGUID or UUID given in a namespace spec (`form` says what it must look like): 16
/// bytes in hex, not all zero, which means the namespace has none (NVMe Base 2.0
/// §4.7.1-4.7.2).
pub fn parse_namespace_id(text: &str, form: &str) -> Result<[u8; 16], String> {
    match parse_hex16(text) {
        None => Err(format!("must be {form}")),
        Some(id) if id == [0; 16] => Err("must not be all zero: zero means none".into()),
        Some(id) => Ok(id),
    }
}

/// The NGUID and UUID of namespace `nsid` of subsystem `nqn`: the spec's, or by default
/// derived from the NQN, the NSID, the volume by name and backing, not size (prost
/// encodes a message deterministically), so they stay when the volume grows, and what
/// tells the volume's data apart, `contents` ([`Volume::contents_id`]: a RAM volume's,
/// drawn when it is opened, so its data lost shows hosts new IDs).
///
/// An explicit identifier that is all zero is refused: zero means the namespace reports
/// none (NVMe Base 2.0 §4.7.1, §4.7.2).
pub fn namespace_ids(
    spec: &pb::NamespaceSpec,
    nqn: &str,
    nsid: u32,
    volume: &pb::VolumeSpec,
    contents: Option<&[u8; 16]>,
) -> Result<([u8; 16], [u8; 16]), String> {
    let mut volume_identity = spec.volume.clone().into_bytes();
    volume_identity.extend(prost::Message::encode_to_vec(&size_and_spelled_backing(volume).1));
    let (default_nguid, default_uuid) =
        crate::default_namespace_ids(nqn, nsid, &volume_identity, contents);
    let explicit = |text: &str, field: &str, form: &str| {
        parse_namespace_id(text, form).map_err(|e| format!("spec.{field} {e}"))
    };
    let nguid = if spec.nguid.is_empty() {
        default_nguid
    } else {
        explicit(&spec.nguid, "nguid", "32 hex digits")?
    };
    let uuid =
        if spec.uuid.is_empty() { default_uuid } else { explicit(&spec.uuid, "uuid", "a UUID")? };
    Ok((nguid, uuid))
}

/// What of [`namespace_ids`] is known before the service opens the volume (the agent's
/// checks): the spec's IDs, and the default ones of a file or block device volume; not
/// a RAM volume's default ones, which hash what its opening draws (`None`).
pub fn namespace_ids_ahead(
    spec: &pb::NamespaceSpec,
    nqn: &str,
    nsid: u32,
    volume: &pb::VolumeSpec,
) -> Result<(KnownId, KnownId), String> {
    let (nguid, uuid) = namespace_ids(spec, nqn, nsid, volume, None)?;
    let ram = matches!(volume.backend, Some(pb::volume_spec::Backend::Ram(_)));
    let known = |given: &str, id| (!ram || !given.is_empty()).then_some(id);
    Ok((known(&spec.nguid, nguid), known(&spec.uuid, uuid)))
}

/// The DH-HMAC-CHAP secrets of a subsystem spec's hosts; an error names the entry and
/// field, never a secret.
fn host_secrets(spec: &pb::SubsystemSpec) -> Result<BTreeMap<String, Arc<HostSecrets>>, String> {
    let secret_hosts = spec.host_secrets.iter().map(|h| h.host_nqn.as_str());
    let may_connect = |host: &str| spec.allows_host(host);
    if let Some((i, why)) =
        crate::target::unused_host_secret(spec.allow_any_host, may_connect, secret_hosts)
    {
        return Err(format!("spec.host_secrets[{i}].host_nqn: {why}"));
    }
    let mut out = BTreeMap::new();
    for (i, h) in spec.host_secrets.iter().enumerate() {
        let parsed = parse_host_secret(h)
            .map_err(|(field, e)| format!("spec.host_secrets[{i}].{field}: {e}"))?;
        out.insert(h.host_nqn.clone(), Arc::new(parsed));
    }
    Ok(out)
}

#[tonic::async_trait]
impl NvmfInternalService for NvmfInternal {
    async fn sync(
        &self,
        request: Request<pb::SyncRequest>,
    ) -> Result<Response<pb::SyncResponse>, Status> {
        let synced = self.queue_sync(request.into_inner()).await;
        Ok(Response::new(synced.map_err(|e| Status::internal(format!("sync failed: {e}")))??))
    }

    async fn get_nvmf_stats(
        &self,
        _request: Request<pb::GetNvmfStatsRequest>,
    ) -> Result<Response<pb::NvmfStats>, Status> {
        Ok(Response::new(self.stats().await))
    }

    async fn clear_host_write_protection(
        &self,
        request: Request<pb::ClearHostWriteProtectionRequest>,
    ) -> Result<Response<pb::ClearHostWriteProtectionResponse>, Status> {
        let previous = self.clear_host_write_protection(&request.into_inner().name).await?;
        let previous = host_write_protection_pb(previous).into();
        Ok(Response::new(pb::ClearHostWriteProtectionResponse { previous }))
    }
}

/// The API's name of a host's write protection state.
fn host_write_protection_pb(state: HostWriteProtection) -> pb::HostWriteProtection {
    match state {
        HostWriteProtection::NoWriteProtect => pb::HostWriteProtection::Unspecified,
        HostWriteProtection::WriteProtect => pb::HostWriteProtection::WriteProtect,
        HostWriteProtection::UntilPowerCycle => pb::HostWriteProtection::UntilRestart,
    }
}

/// A namespace spec without its ANA group and write protection, which change in place.
fn without_in_place_attrs(spec: &pb::NamespaceSpec) -> pb::NamespaceSpec {
    pb::NamespaceSpec { ana_group: 0, read_only: false, allowed_hosts: Vec::new(), ..spec.clone() }
}

/// Which port ID a listener whose spec names none (`port_id` 0) takes when started in a
/// Sync: `prefer` (its former one, if it is bound anew) when free, else the lowest free one
/// but those `reserved` for listeners bound anew in the same Sync, which keep theirs, and
/// those other wanted listeners name.
#[derive(Clone, Copy)]
struct PortIds<'a> {
    prefer: Option<u16>,
    reserved: &'a BTreeSet<u16>,
}

/// Whose port ID `id` is, for a Sync's error: another of the agent's listeners (`others`,
/// by name), or else one the service's configuration file (`--config`) made at start,
/// among those `registered`: the file's listeners hold their IDs before any Sync, and
/// never give them up, so the agent's listener must take another.
fn port_id_holder(
    id: u16,
    others: &BTreeMap<String, AppliedListener>,
    registered: &[ListenerSpec],
) -> String {
    if let Some((name, _)) = others.iter().find(|(_, l)| l.port_id == id) {
        return name.clone();
    }
    match registered.iter().find(|l| l.port_id == id) {
        Some(l) => format!(
            "the listener at {} of the service's configuration file, which it holds from \
             the start: give this listener another port ID, or change the file",
            l.addr
        ),
        None => "another listener".into(),
    }
}

/// A listener spec without its ANA states, referrals and digests, which change in place.
fn without_in_place_changes(spec: &pb::ListenerSpec) -> pb::ListenerSpec {
    pb::ListenerSpec {
        ana_groups: Vec::new(),
        referrals: Vec::new(),
        allow_header_digest: None,
        allow_data_digest: None,
        ..spec.clone()
    }
}

/// The groups of `now` in Change that were in Change in `before` too, set anew since (the
/// agent's `set_revision` of the group moved): Change, another state and Change again that
/// reached the service in one Sync.
fn ana_changes_set_anew(before: &[pb::AnaGroupState], now: &[pb::AnaGroupState]) -> Vec<u32> {
    let change = pb::AnaState::Change as i32;
    let before: BTreeMap<u32, &pb::AnaGroupState> =
        before.iter().filter(|g| g.state == change).map(|g| (g.group, g)).collect();
    let anew = |g: &&pb::AnaGroupState| {
        g.state == change && before.get(&g.group).is_some_and(|b| b.set_revision != g.set_revision)
    };
    now.iter().filter(anew).map(|g| g.group).collect()
}

/// A listener's ANA states and referrals.
type ListenerSettings = (BTreeMap<u32, AnaState>, Vec<SocketAddr>);

/// A listener spec's ANA states and referrals, checked.
fn listener_settings(spec: &pb::ListenerSpec) -> Result<ListenerSettings, String> {
    let states = ana_states(spec)?;
    let referrals = spec.referral_addrs().map_err(|(_, e)| format!("spec.{e}"))?;
    Ok((states, referrals))
}

/// The ANA states a listener spec asks for, checked: groups 1..=128 once each, a state
/// named, and none on a discovery-only listener.
fn ana_states(spec: &pb::ListenerSpec) -> Result<BTreeMap<u32, AnaState>, String> {
    if spec.discovery_only && !spec.ana_groups.is_empty() {
        return Err("spec.ana_groups: a discovery_only listener serves no namespaces".into());
    }
    let mut states = BTreeMap::new();
    for (i, g) in spec.ana_groups.iter().enumerate() {
        let field = format!("spec.ana_groups[{i}]");
        if !(1..=crate::target::ANA_GROUP_MAX).contains(&g.group) {
            let max = crate::target::ANA_GROUP_MAX;
            return Err(format!("{field}.group {} out of range 1..={max}", g.group));
        }
        let state = match pb::AnaState::try_from(g.state) {
            Ok(pb::AnaState::Optimized) => AnaState::Optimized,
            Ok(pb::AnaState::NonOptimized) => AnaState::NonOptimized,
            Ok(pb::AnaState::Inaccessible) => AnaState::Inaccessible,
            Ok(pb::AnaState::PersistentLoss) => AnaState::PersistentLoss,
            Ok(pb::AnaState::Change) => AnaState::Change,
            Ok(pb::AnaState::Unspecified) | Err(_) => {
                return Err(format!("{field}.state must be set"));
            }
        };
        if states.insert(g.group, state).is_some() {
            return Err(format!("{field}.group {} is listed twice", g.group));
        }
    }
    Ok(states)
}

/// The state hosts are shown through listener `l` of each group its spec names: a Change
/// past ANATT is Inaccessible ([`crate::Target::end_ana_changes`]).
fn served_ana_states(target: &crate::Target, l: &AppliedListener) -> Vec<pb::AnaGroupState> {
    let shown = |group: u32| match target.ana_state(Some(l.port_id), group) {
        AnaState::Optimized => pb::AnaState::Optimized,
        AnaState::NonOptimized => pb::AnaState::NonOptimized,
        AnaState::Inaccessible => pb::AnaState::Inaccessible,
        AnaState::PersistentLoss => pb::AnaState::PersistentLoss,
        AnaState::Change => pb::AnaState::Change,
    };
    let groups = l.spec.ana_groups.iter();
    groups
        .map(|g| pb::AnaGroupState {
            group: g.group,
            state: shown(g.group) as i32,
            ..Default::default()
        })
        .collect()
}

/// The `ServiceControl` identity of this process.
pub fn control() -> Control {
    Control::new(SERVICE_NAME, VERSION)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::reservation::Host;
    use crate::target::ANA_GROUP_MAX;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    #[test]
    fn names_and_ids_parse() {
        assert_eq!(
            split_namespace_name("subsystems/a/namespaces/7"),
            Some(("subsystems/a".to_owned(), 7))
        );
        assert_eq!(split_namespace_name("subsystems//namespaces/7"), None);
        assert_eq!(split_namespace_name("subsystems/a/namespaces/x"), None);
        assert_eq!(split_namespace_name("volumes/a/namespaces/1"), None);
        assert_eq!(parse_hex16("00112233445566778899aabbccddeeff").unwrap()[15], 0xff);
        assert_eq!(parse_hex16("1b4e28ba-2fa1-11d2-883f-0016d3cca427").unwrap()[0], 0x1b);
        assert!(parse_hex16("zz").is_none());
    }

    /// Sync refuses host secrets that would never be used, as the config file and the
    /// agent's API do (one rule, `target::unused_host_secret`): the secret is checked
    /// only after, so a placeholder shows which rule refused.
    #[test]
    fn sync_refuses_host_secrets_that_would_be_ignored() {
        let (h, x) = ("nqn.2014-08.org.example:h", "nqn.2014-08.org.example:x");
        let secret = |host: &str| pb::HostSecret {
            host_nqn: host.into(),
            dhchap_secret: "not parsed first".into(),
            ..Default::default()
        };
        let spec = |allow_any_host, secrets: Vec<pb::HostSecret>| pb::SubsystemSpec {
            allow_any_host,
            allowed_hosts: vec![h.into()],
            host_secrets: secrets,
            ..Default::default()
        };
        let e = host_secrets(&spec(true, vec![secret(h), secret(h)])).unwrap_err();
        assert_eq!(e, "spec.host_secrets[1].host_nqn: listed twice");
        let e = host_secrets(&spec(false, vec![secret(x)])).unwrap_err();
        assert!(e.starts_with("spec.host_secrets[0].host_nqn:") && e.contains("cannot connect"));
        let e = host_secrets(&spec(false, vec![secret(h)])).unwrap_err();
        assert!(e.contains("dhchap_secret"), "{e}");
    }

    fn ram(size_bytes: u64, block_size: u32) -> pb::VolumeSpec {
        let backend = pb::volume_spec::Backend::Ram(pb::RamBackend { size_bytes });
        pb::VolumeSpec { backend: Some(backend), block_size, ..Default::default() }
    }

    const IDS_NQN: &str = "nqn.2024-01.io.example:ids";

    /// Subsystem s1 (`IDS_NQN`), open to any host.
    fn open_subsystem() -> pb::Subsystem {
        pb::Subsystem {
            name: "subsystems/s1".into(),
            spec: Some(pb::SubsystemSpec {
                nqn: IDS_NQN.into(),
                allow_any_host: true,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The default (NGUID, UUID) of namespace 1 of `IDS_NQN` on `volumes/r1` of `volume`
    /// whose data `contents` tells apart (none for a file), in hex.
    fn default_ids_of(volume: &pb::VolumeSpec, contents: Option<&[u8; 16]>) -> (String, String) {
        let ns = pb::NamespaceSpec { volume: "volumes/r1".into(), ..Default::default() };
        let (nguid, uuid) = namespace_ids(&ns, IDS_NQN, 1, volume, contents).unwrap();
        (hex::encode(nguid), hex::encode(uuid))
    }

    /// [`default_ids_of`] a volume whose data outlives its opening (a file).
    fn default_ids(volume: &pb::VolumeSpec) -> (String, String) {
        default_ids_of(volume, None)
    }

    /// A file volume spec (`/srv/r1.img`) of `size_bytes` and `block_size`.
    fn file_spec(size_bytes: u64, block_size: u32) -> pb::VolumeSpec {
        let file = pb::FileBackend { path: "/srv/r1.img".into(), size_bytes };
        let backend = Some(pb::volume_spec::Backend::File(file));
        pb::VolumeSpec { backend, block_size, ..Default::default() }
    }

    /// A RAM or file volume's block size 0 and 512 are one volume, and the default IDs
    /// hosts have seen for either spelling of a file volume stay what they always were (a
    /// change would show hosts a new namespace after an upgrade): they hash the spelling,
    /// which a change of spelling alone does not reach (`same_block_size_spelled_as`); not
    /// the size.
    #[test]
    fn block_size_0_and_512_are_one_volume_whose_ids_stay() {
        let pinned = |nguid: &str, uuid: &str| (nguid.to_owned(), uuid.to_owned());
        let zero = pinned("660e6d3bfc688de5972fba76cd496aa8", "63fe91c582b18fdda48c1b0445c3651c");
        let five = pinned("95ff50873c898b2982fed12a6b882a84", "fcac5835e0b58c0e849e1043d8873478");
        let file = file_spec;
        assert_eq!(default_ids(&file(8 << 20, 0)), zero);
        assert_eq!(default_ids(&file(8 << 20, 512)), five);
        assert_eq!(default_ids(&file(16 << 20, 512)), five, "not the size");
        for spec in [ram, file] {
            let respelled = same_block_size_spelled_as(spec(16 << 20, 512), &spec(8 << 20, 0));
            assert_eq!(respelled, spec(16 << 20, 0));
            let other = same_block_size_spelled_as(spec(16 << 20, 4096), &spec(8 << 20, 0));
            assert_eq!(other.block_size, 4096, "another size is another volume");
            assert_eq!(
                volume_size_and_backing(&spec(8 << 20, 0)),
                volume_size_and_backing(&spec(8 << 20, 512))
            );
        }
        assert_eq!(default_ids(&file(8 << 20, 4096)).0, "b9e2b77310948cddaee336de4795cd70");
        // A block device's 0 is its device's size, which may be 4096: not 512.
        let device = |block_size| pb::VolumeSpec {
            backend: Some(pb::volume_spec::Backend::BlockDevice(pb::BlockDeviceBackend {
                path: "/dev/loop0".into(),
            })),
            block_size,
            ..Default::default()
        };
        assert_ne!(volume_size_and_backing(&device(0)), volume_size_and_backing(&device(512)));
    }

    /// A Sync that only spells a RAM volume's block size 512 instead of 0 (or back) keeps
    /// the volume (its data) and the namespace on it (same object, same IDs); one that
    /// also shrinks it is refused and changes nothing.
    #[tokio::test]
    async fn a_sync_from_block_size_0_to_512_changes_nothing() {
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let request = |spec: pb::VolumeSpec| {
            one_namespace(pb::Volume {
                name: "volumes/r1".into(),
                spec: Some(spec),
                ..Default::default()
            })
        };
        let applied = |r: &pb::SyncResponse| {
            let v = r.volumes[0].status.as_ref().and_then(|s| s.apply.clone()).unwrap();
            let n = r.namespaces[0].status.as_ref().and_then(|s| s.apply.clone()).unwrap();
            (v.state, v.message, n.state)
        };
        let ok = (pb::ApplyState::Applied as i32, String::new(), pb::ApplyState::Applied as i32);
        assert_eq!(applied(&internal.sync_state(request(ram(16 << 20, 0))).await), ok);
        let before = target.namespace(IDS_NQN, 1).unwrap();
        let ids = default_ids_of(&ram(8 << 20, 0), before.volume.contents_id()).0;
        assert_eq!(hex::encode(before.nguid), ids);

        assert_eq!(applied(&internal.sync_state(request(ram(16 << 20, 512))).await), ok);
        let after = target.namespace(IDS_NQN, 1).unwrap();
        assert!(Arc::ptr_eq(&before, &after), "the namespace was replaced");
        assert_eq!(hex::encode(after.nguid), ids);
        assert!(Arc::ptr_eq(&before.volume, &after.volume), "the volume was opened anew");

        assert_eq!(applied(&internal.sync_state(request(ram(16 << 20, 0))).await), ok);
        let shrunk = internal.sync_state(request(ram(8 << 20, 512))).await;
        let (state, message, _) = applied(&shrunk);
        assert_eq!(state, pb::ApplyState::Failed as i32, "{message}");
        assert!(message.contains("only grow"), "{message}");
        assert_eq!(after.volume.size_bytes(), 16 << 20);
        assert!(Arc::ptr_eq(&after, &target.namespace(IDS_NQN, 1).unwrap()));
    }

    /// A file volume whose size the file system refuses (past `off_t`) fails in a Sync
    /// and leaves no file behind; asked of a volume that has its file, it leaves the file
    /// and the volume as they were.
    #[tokio::test]
    async fn a_sync_refusing_a_file_volume_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f1.img");
        let internal = NvmfInternal::new(Server::new(crate::Target::new(), 2));
        let sync = |size_bytes: u64| {
            let file = pb::FileBackend { path: path.display().to_string(), size_bytes };
            let spec = pb::VolumeSpec {
                backend: Some(pb::volume_spec::Backend::File(file)),
                ..Default::default()
            };
            let volume =
                pb::Volume { name: "volumes/f1".into(), spec: Some(spec), ..Default::default() };
            internal.sync_state(pb::SyncRequest { volumes: vec![volume], ..Default::default() })
        };
        let status = |r: pb::SyncResponse| {
            let s = r.volumes[0].status.clone().unwrap();
            let apply = s.apply.unwrap();
            (apply.state, apply.message, s.size_bytes)
        };
        let failed = pb::ApplyState::Failed as i32;
        // Past the largest file length (off_t): the message says the bound, not how a
        // conversion failed.
        for size in [1 << 63, u64::MAX - 4095] {
            let (state, message, _) = status(sync(size).await);
            assert_eq!(state, failed, "{message}");
            assert!(message.contains("f1.img"), "{message}");
            assert!(message.contains("largest file size"), "{message}");
            assert!(!message.contains("conversion"), "{message}");
        }
        assert!(!path.exists(), "the refused volume left its file behind");
        let (state, message, size) = status(sync(1 << 20).await);
        assert_eq!((state, size), (pb::ApplyState::Applied as i32, 1 << 20), "{message}");
        let (state, message, size) = status(sync(1 << 63).await);
        assert_eq!((state, size), (failed, 1 << 20), "{message}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 1 << 20);
    }

    /// The seeds of the fuzz target `nvmf_sync` (a u16 length, then two Sync requests) are
    /// states that apply whole, one after the other: the fuzzer starts from Syncs that
    /// reach every step (a volume grown and rate-limited, a namespace changed in place and
    /// one moved with its NQN to another subsystem, two subsystems swapping NQNs; objects
    /// named twice, the fuzzer's first find). The second state applied once more keeps
    /// every namespace object, as the fuzz target checks.
    #[tokio::test]
    async fn the_fuzz_seeds_apply_whole() {
        let seeds: [&[u8]; 4] = [
            include_bytes!("../../dpu-fuzz/seeds/nvmf_sync/grow-and-move.bin"),
            include_bytes!("../../dpu-fuzz/seeds/nvmf_sync/same-twice.bin"),
            include_bytes!("../../dpu-fuzz/seeds/nvmf_sync/swap-nqns.bin"),
            include_bytes!("../../dpu-fuzz/seeds/nvmf_sync/duplicate-names.bin"),
        ];
        for seed in seeds {
            let len = usize::from(u16::from_le_bytes([seed[0], seed[1]]));
            let (first, second) = seed[2..].split_at(len);
            let target = crate::Target::new();
            let internal = NvmfInternal::new(Server::new(target.clone(), 1));
            let mut before = Vec::new();
            for part in [first, second, second] {
                before = target.all_namespaces();
                let req = <pb::SyncRequest as prost::Message>::decode(part).unwrap();
                let r = internal.sync_state(req).await;
                let volumes = r.volumes.iter().map(|v| v.status.as_ref()?.apply.as_ref());
                let subsystems = r.subsystems.iter().map(|v| v.status.as_ref()?.apply.as_ref());
                let namespaces = r.namespaces.iter().map(|v| v.status.as_ref()?.apply.as_ref());
                for status in volumes.chain(subsystems).chain(namespaces) {
                    let status = status.unwrap();
                    assert_eq!(status.state, pb::ApplyState::Applied as i32, "{}", status.message);
                }
                assert!(!r.namespaces.is_empty());
            }
            let after = target.all_namespaces();
            assert!(
                after.len() == before.len()
                    && after.iter().zip(&before).all(|(a, b)| Arc::ptr_eq(a, b)),
                "applied again, namespaces were replaced"
            );
        }
    }

    /// The agent lets one Sync request take half the message limit and keeps the other half
    /// for the reply (dpud's `fits_one_sync`, docs/api.md): the reply to a request at that
    /// half must fit the limit, so it may be at most twice the request. Measured on the
    /// smallest objects, where the status weighs most next to the spec: namespaces each on
    /// a RAM volume of one block (no two share one), short ids, derived NGUID and UUID
    /// shown in the status. The sizes grow with the object count alike, so 2,048 stand
    /// for the half million a full request holds.
    #[tokio::test]
    async fn a_sync_reply_is_at_most_twice_its_request() {
        use prost::Message;
        let internal = NvmfInternal::new(Server::new(crate::Target::new(), 2));
        let mut req = pb::SyncRequest::default();
        for s in 0..2 {
            req.subsystems.push(pb::Subsystem {
                name: format!("subsystems/{s}"),
                spec: Some(pb::SubsystemSpec {
                    nqn: format!("nqn.2024-01.io.example:{s}"),
                    allow_any_host: true,
                    ..Default::default()
                }),
                generation: 1,
                ..Default::default()
            });
        }
        for i in 0..2048 {
            let volume = format!("volumes/{i}");
            req.volumes.push(pb::Volume {
                name: volume.clone(),
                spec: Some(ram(512, 0)),
                generation: 1,
                ..Default::default()
            });
            req.namespaces.push(pb::Namespace {
                name: format!("subsystems/{}/namespaces/{}", i / 1024, i % 1024 + 1),
                spec: Some(pb::NamespaceSpec { volume, ..Default::default() }),
                generation: 1,
                ..Default::default()
            });
        }
        let request = req.encoded_len();
        let reply = internal.sync_state(req).await;
        let applied = (pb::ApplyState::Applied as i32, String::new());
        assert!(namespace_states(&reply).iter().all(|s| *s == applied), "not all applied");
        assert!(reply.namespaces.iter().all(|n| n.status.as_ref().unwrap().nguid.len() == 32));
        let replied = reply.encoded_len();
        assert!(
            replied <= 2 * request,
            "a {request}-byte request got a {replied}-byte reply ({:.2}x)",
            replied as f64 / request as f64
        );
    }

    /// A Sync of two RAM volumes, subsystem s1 (`IDS_NQN`) and `namespaces` as (NSID,
    /// volume, NGUID, UUID).
    fn two_volumes(namespaces: &[(u32, &str, &str, &str)]) -> pb::SyncRequest {
        let volume = |name: &str| pb::Volume {
            name: name.into(),
            spec: Some(ram(1 << 20, 0)),
            ..Default::default()
        };
        pb::SyncRequest {
            volumes: vec![volume("volumes/v1"), volume("volumes/v2")],
            subsystems: vec![open_subsystem()],
            namespaces: namespaces
                .iter()
                .map(|(nsid, volume, nguid, uuid)| pb::Namespace {
                    name: format!("subsystems/s1/namespaces/{nsid}"),
                    spec: Some(pb::NamespaceSpec {
                        volume: (*volume).into(),
                        nguid: (*nguid).into(),
                        uuid: (*uuid).into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .collect(),
            listeners: Vec::new(),
        }
    }

    /// Each namespace's apply state and message.
    fn namespace_states(r: &pb::SyncResponse) -> Vec<(i32, String)> {
        let state = |n: &pb::Namespace| {
            let s = n.status.as_ref().and_then(|s| s.apply.clone()).unwrap_or_default();
            (s.state, s.message)
        };
        r.namespaces.iter().map(state).collect()
    }

    const NGUID: &str = "00112233445566778899aabbccddeeff";
    const UUID: &str = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";

    /// The service's own Sync (a second way in besides the agent) serves no two namespaces
    /// with one NGUID (compared as bytes: case and dashes aside), one UUID or one volume:
    /// the later one fails and the first serves on; nor an all-zero identifier.
    #[tokio::test]
    async fn a_sync_refuses_a_namespace_with_another_ones_ids_or_volume() {
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let applied = (pb::ApplyState::Applied as i32, String::new());
        let failed = pb::ApplyState::Failed as i32;
        for (second, says) in [
            ((2, "volumes/v2", "00112233445566778899AABBCCDDEEFF", ""), "has NGUID 00112233"),
            ((2, "volumes/v2", "", "1B4E28BA2FA111D2883F0016D3CCA427"), "has UUID 1b4e28ba-2fa1"),
            ((2, "volumes/v1", "", ""), "has the volume already"),
        ] {
            let r =
                internal.sync_state(two_volumes(&[(1, "volumes/v1", NGUID, UUID), second])).await;
            let states = namespace_states(&r);
            assert_eq!(states[0], applied);
            assert_eq!(states[1].0, failed, "{second:?}");
            let message = &states[1].1;
            assert!(message.contains(&format!("namespace 1 of {IDS_NQN} {says}")), "{message}");
            assert!(target.namespace(IDS_NQN, 2).is_none(), "{second:?}");
            assert_eq!(target.namespace(IDS_NQN, 1).unwrap().nguid, parse_hex16(NGUID).unwrap());
        }
        for (nguid, uuid, says) in [
            ("0".repeat(32), String::new(), "spec.nguid must not be all zero"),
            (
                String::new(),
                "00000000-0000-0000-0000-000000000000".to_owned(),
                "spec.uuid must not",
            ),
        ] {
            let r = internal.sync_state(two_volumes(&[(3, "volumes/v2", &nguid, &uuid)])).await;
            let (state, message) = namespace_states(&r).remove(0);
            assert!(state == failed && message.starts_with(says), "{message}");
        }
    }

    /// A namespace replaced under its NSID, NGUID and UUID (another volume) in another ANA
    /// group sends its hosts an ANA change notice: Linux keeps a namespace whose IDs are
    /// unchanged and reads its ANAGRPID only when it makes one, so without the notice it
    /// would go on with the old group's state (I/O queued for good where that group was
    /// Inaccessible on every path). NVMe Base 2.0 §8.1.3.
    #[tokio::test]
    async fn a_namespace_replaced_in_another_ana_group_sends_an_ana_notice() {
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let applied = (pb::ApplyState::Applied as i32, String::new());
        let request = |volume: &str, ana_group: u32| {
            let mut r = two_volumes(&[(1, volume, NGUID, UUID)]);
            r.namespaces[0].spec.as_mut().unwrap().ana_group = ana_group;
            r
        };
        let r = internal.sync_state(request("volumes/v1", 1)).await;
        assert_eq!(namespace_states(&r), std::slice::from_ref(&applied));
        let host = "nqn.2014-08.org.example:h";
        let now = std::time::Instant::now();
        let c = target.create_controller(IDS_NQN, host, [1; 16], 0, Some(1), None, now).unwrap();
        let before = target.namespace(IDS_NQN, 1).unwrap();

        let r = internal.sync_state(request("volumes/v2", 5)).await;
        assert_eq!(namespace_states(&r), [applied]);
        let after = target.namespace(IDS_NQN, 1).unwrap();
        assert!(!Arc::ptr_eq(&before, &after), "replaced, not changed in place");
        assert_eq!(after.ana_group.load(Ordering::Relaxed), 5);
        let st = c.state();
        assert!(st.ana_event_pending, "no ANA change notice for the group moved");
        let (chgcnt, _) = target.ana_groups(IDS_NQN, host, Some(1));
        assert_eq!(st.ana_event_chgcnt, chgcnt, "the notice is for the newest change");
    }

    /// Namespaces that trade volumes, or NGUIDs, in one Sync all apply: the one giving
    /// something up makes room for the one taking it, whatever their order.
    #[tokio::test]
    async fn namespaces_trading_volumes_or_ids_in_one_sync_all_apply() {
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let applied = (pb::ApplyState::Applied as i32, String::new());
        let other = "ffeeddccbbaa99887766554433221100";
        for namespaces in [
            [(1, "volumes/v1", NGUID, ""), (2, "volumes/v2", other, "")],
            [(1, "volumes/v2", other, ""), (2, "volumes/v1", NGUID, "")],
            [(1, "volumes/v1", NGUID, ""), (2, "volumes/v2", other, "")],
        ] {
            let r = internal.sync_state(two_volumes(&namespaces)).await;
            assert_eq!(namespace_states(&r), [applied.clone(), applied.clone()], "{namespaces:?}");
            for (nsid, _, nguid, _) in namespaces {
                let ns = target.namespace(IDS_NQN, nsid).unwrap();
                assert_eq!(ns.nguid, parse_hex16(nguid).unwrap(), "{namespaces:?}");
            }
        }
    }

    /// Applies `first`, then `second`, in which namespace 1 cannot apply (FAILED saying
    /// `says`): it must not stay served where the Sync no longer records it. Then a Sync
    /// without namespaces must leave none behind (one it does not record it never removes).
    async fn namespace_1_fails_and_goes(
        first: pb::SyncRequest,
        second: pb::SyncRequest,
        says: &str,
    ) -> pb::SyncResponse {
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let r = internal.sync_state(first).await;
        let applied = pb::ApplyState::Applied as i32;
        assert!(namespace_states(&r).iter().all(|(state, _)| *state == applied), "{r:?}");
        let was = target.namespace(IDS_NQN, 1).unwrap();
        let host = "nqn.2014-08.org.example:h";
        let c = target.create_controller(IDS_NQN, host, [1; 16], 0, None, None, Instant::now());
        let c = c.unwrap();
        let second = internal.sync_state(second).await;
        let (state, message) = namespace_states(&second).remove(0);
        assert_eq!(state, pb::ApplyState::Failed as i32, "{message}");
        assert!(message.contains(says), "{message}");
        assert!(target.namespace(IDS_NQN, 1).is_none(), "FAILED and still served");
        // Out of the registry, no command finds it; not marked removed, the operations
        // its commands handed on before would still run when their turn came, and its
        // state be saved.
        assert!(was.detached.load(Ordering::Acquire), "not marked removed");
        let told =
            |st: &crate::target::ControllerState| st.ns_event_pending && st.changed_ns.contains(&1);
        assert!(told(&c.state()), "its hosts are not told");
        internal.sync_state(two_volumes(&[])).await;
        assert!(target.all_namespaces().is_empty(), "a namespace no Sync records serves on");
        second
    }

    /// A namespace still wanted whose volume the Sync removes (the internal API is a way
    /// in besides the agent, which refuses that) is taken out: its hosts must not go on
    /// reading and writing a volume the operator deleted.
    #[tokio::test]
    async fn a_namespace_whose_volume_a_sync_removes_is_served_no_more() {
        let first = two_volumes(&[(1, "volumes/v1", "", "")]);
        let mut second = first.clone();
        second.volumes.retain(|v| v.name != "volumes/v1");
        namespace_1_fails_and_goes(first, second, "volume \"volumes/v1\" is not applied").await;
    }

    /// A namespace moved to a volume that is not applied keeps serving on the volume it
    /// had only while that volume is the one applied: one the Sync opens anew (another
    /// block size) leaves the old volume unserved, and the namespace with it.
    #[tokio::test]
    async fn a_namespace_moved_to_a_missing_volume_from_one_opened_anew_goes() {
        let first = two_volumes(&[(1, "volumes/v1", "", "")]);
        let mut second = two_volumes(&[(1, "volumes/v3", "", "")]);
        second.volumes[0].spec = Some(ram(1 << 20, 4096));
        namespace_1_fails_and_goes(first, second, "volume \"volumes/v3\" is not applied").await;
    }

    /// A namespace whose volume the Sync removes and whose new spec is refused (an
    /// all-zero NGUID, an ANA group out of range) goes too.
    #[tokio::test]
    async fn a_namespace_refused_after_its_volume_was_removed_goes() {
        let first = two_volumes(&[(1, "volumes/v1", "", "")]);
        let zero = "0".repeat(32);
        let mut second = two_volumes(&[(1, "volumes/v2", &zero, "")]);
        second.volumes.retain(|v| v.name != "volumes/v1");
        namespace_1_fails_and_goes(first.clone(), second, "spec.nguid must not be all zero").await;
        let mut second = two_volumes(&[(1, "volumes/v2", "", "")]);
        second.volumes.retain(|v| v.name != "volumes/v1");
        second.namespaces[0].spec.as_mut().unwrap().ana_group = ANA_GROUP_MAX + 1;
        namespace_1_fails_and_goes(first, second, "ANA group").await;
    }

    /// A namespace whose volume the Sync removes, moved to a volume another namespace
    /// keeps (`make_room` refuses it), goes too; the other serves on.
    #[tokio::test]
    async fn a_namespace_refused_a_volume_another_keeps_after_its_own_was_removed_goes() {
        let both = [(1, "volumes/v1", "", ""), (2, "volumes/v2", "", "")];
        let first = two_volumes(&both);
        let mut second = two_volumes(&[(1, "volumes/v2", "", ""), (2, "volumes/v2", "", "")]);
        second.volumes.retain(|v| v.name != "volumes/v1");
        let r = namespace_1_fails_and_goes(first, second, "has the volume already").await;
        assert_eq!(namespace_states(&r)[1], (pb::ApplyState::Applied as i32, String::new()));
    }

    /// A one-block write of 0x11 at LBA 0 of namespace `nsid` of `IDS_NQN`, from a
    /// controller connected through bare queue cores, handed to the volume and not run yet
    /// (a file write in the kernel, say); with the admin queue, which keeps the controller,
    /// and the I/O queue.
    fn write_held(
        target: &Arc<crate::Target>,
        nsid: u32,
    ) -> (crate::queue::Connection, crate::queue::Connection, crate::queue::IoRequest) {
        use crate::queue::{Connection, QueueConfig};
        use dpu_nvmf_proto::fabrics::{CNTLID_DYNAMIC, ConnectCmd, ConnectData, PropertySetCmd};
        use dpu_nvmf_proto::sqe::io_opcode;
        use dpu_nvmf_proto::{CapsuleCmd, Framing, IcReq, Pdu, SglDescriptor, Sqe};
        let now = Instant::now();
        let send = |conn: &mut Connection, p: Pdu| {
            conn.receive(&p.to_vec(&Framing::PLAIN).unwrap(), now);
        };
        let capsule =
            |sqe: Sqe, data: Vec<u8>| Pdu::CapsuleCmd(CapsuleCmd { sqe, data: data.into() });
        let connect = |qid: u16, cntlid: u16| {
            let mut sqe = ConnectCmd { recfmt: 0, qid, sqsize: 31, cattr: 0, kato: 0 }.to_sqe(1);
            sqe.set_sgl(SglDescriptor::in_capsule(1024));
            let hostnqn = "nqn.2014-08.org.example:h".into();
            let d = ConnectData { hostid: [1; 16], cntlid, subnqn: IDS_NQN.into(), hostnqn };
            capsule(sqe, d.to_bytes().to_vec())
        };
        let mut admin = Connection::new(target.clone(), QueueConfig::default(), now);
        send(&mut admin, Pdu::IcReq(IcReq::default()));
        send(&mut admin, connect(0, CNTLID_DYNAMIC));
        let enable = PropertySetCmd { eight_bytes: false, offset: 0x14, value: 0x0046_0001 };
        send(&mut admin, capsule(enable.to_sqe(2), Vec::new()));
        let (cntlid, _) = admin.queue().unwrap();
        let mut io = Connection::new(target.clone(), QueueConfig::default(), now);
        send(&mut io, Pdu::IcReq(IcReq::default()));
        send(&mut io, connect(1, cntlid));
        let mut w = Sqe::new(io_opcode::WRITE, 3);
        w.nsid = nsid;
        w.set_rw(0, 1);
        w.set_sgl(SglDescriptor::in_capsule(512));
        send(&mut io, capsule(w, vec![0x11; 512]));
        let held = io.poll_io().expect("the write handed to the volume");
        (admin, io, held)
    }

    /// Runs the `write` [`write_held`] held back, which must be skipped (its host lost its
    /// namespace meanwhile, by `what`), completes it, and returns the answer of the `sync`
    /// that waited for it, once block 0 of the volume of namespace `nsid` (now served) is
    /// seen to hold nothing of the write.
    async fn release_skipped_write(
        target: &Arc<crate::Target>,
        io: &mut crate::queue::Connection,
        write: crate::queue::IoRequest,
        sync: tokio::task::JoinHandle<pb::SyncResponse>,
        nsid: u32,
        what: &str,
    ) -> pb::SyncResponse {
        let result = crate::queue::execute_io(&write);
        assert!(
            result.as_ref().is_err_and(crate::queue::is_namespace_removed),
            "{what}: the held write ran: {result:?}"
        );
        io.complete_io(write.tag, result);
        drop(write);
        let r = tokio::time::timeout(Duration::from_secs(5), sync).await.expect("no answer");
        let mut block = [0u8; 512];
        let ns = target.namespace(IDS_NQN, nsid).unwrap();
        ns.volume.backend().read_at(&mut block, 0).unwrap();
        assert_eq!(block, [0; 512], "{what}: the held write landed");
        r.unwrap()
    }

    /// A Sync that removes a namespace answers only once the volume operations its hosts'
    /// commands started have ended, as Linux's nvmet's `nvmet_ns_disable` returns once the
    /// requests that found the namespace completed; the namespace it adds in its place on
    /// the same volume comes only after them, so nothing of the removed one lands on it.
    /// The held write, whose turn comes once its namespace is gone, is skipped.
    #[tokio::test]
    async fn a_sync_removing_a_namespace_answers_once_its_io_ended() {
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let applied = (pb::ApplyState::Applied as i32, String::new());
        let r = internal.sync_state(two_volumes(&[(1, "volumes/v1", "", "")])).await;
        assert_eq!(namespace_states(&r), std::slice::from_ref(&applied));
        let (_admin, mut io, write) = write_held(&target, 1);
        let sync = tokio::spawn({
            let internal = internal.clone();
            async move { internal.sync_state(two_volumes(&[(2, "volumes/v1", "", "")])).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!sync.is_finished(), "answered with the removed namespace's write held");
        assert!(target.namespace(IDS_NQN, 1).is_none(), "namespace 1 still served");
        assert!(target.namespace(IDS_NQN, 2).is_none(), "its volume went to namespace 2");
        let r = release_skipped_write(&target, &mut io, write, sync, 2, "the removal").await;
        assert_eq!(namespace_states(&r), [applied]);
    }

    /// Statistics do not wait for a Sync's drain (dpud's metrics scrape and `dpuctl nvmf
    /// stats` would hang exactly while I/O is stuck): while a Sync waits for the held
    /// write of the namespace it took out before adding another on its volume, `stats`
    /// answers at once, the subsystem's counters as they were.
    #[tokio::test]
    async fn stats_answer_while_a_sync_waits_for_a_removed_namespaces_io() {
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        internal.sync_state(two_volumes(&[(1, "volumes/v1", "", "")])).await;
        let (_admin, mut io, write) = write_held(&target, 1);
        let connects = |s: &pb::NvmfStats| s.subsystems.iter().map(|s| s.connects_accepted).sum();
        let before: u64 = connects(&internal.stats().await);
        assert_eq!(before, 2, "the held write's admin and I/O queues");
        let sync = tokio::spawn({
            let internal = internal.clone();
            async move { internal.sync_state(two_volumes(&[(2, "volumes/v1", "", "")])).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!sync.is_finished(), "answered with the removed namespace's write held");
        let during = tokio::time::timeout(Duration::from_secs(1), internal.stats())
            .await
            .expect("stats waited for the Sync's drain");
        assert_eq!(connects(&during), before, "the subsystem's counters");
        let names: Vec<_> = during.namespaces.iter().map(|n| n.name.as_str()).collect();
        assert!(names.is_empty(), "a namespace the target does not serve is listed: {names:?}");
        io.complete_io(write.tag, crate::queue::execute_io(&write));
        drop(write);
        tokio::time::timeout(Duration::from_secs(5), sync).await.expect("no answer").unwrap();
        let after = internal.stats().await;
        let names: Vec<_> = after.namespaces.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["subsystems/s1/namespaces/2"]);
    }

    /// A Sync that takes a host's access to a namespace away (the subsystem's allowed
    /// hosts no longer list it, a subsystem open to any host gets a list without it, the
    /// namespace's own allowed hosts no longer list it) answers only once the volume
    /// operations the host's commands had started on it ended, as for a namespace it
    /// takes out: the held write, whose turn comes after the change, is skipped, and
    /// nothing of the host lands once the Sync answered.
    #[tokio::test]
    async fn a_sync_revoking_a_host_answers_once_its_io_ended() {
        const HOST: &str = "nqn.2014-08.org.example:h";
        let hosts = |hosts: &[&str]| hosts.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>();
        // (allow_any_host, subsystem hosts, namespace hosts) before and after.
        let listed = (false, hosts(&[HOST]), hosts(&[]));
        let open = (true, hosts(&[]), hosts(&[]));
        let other = (false, hosts(&["nqn.2014-08.org.example:other"]), hosts(&[]));
        let ns_other = (true, hosts(&[]), hosts(&["nqn.2014-08.org.example:other"]));
        for (what, before, after) in [
            ("the subsystem's hosts", listed, other.clone()),
            ("a subsystem open to any host", open.clone(), other),
            ("the namespace's hosts", open, ns_other),
        ] {
            let target = crate::Target::new();
            let internal = NvmfInternal::new(Server::new(target.clone(), 2));
            let request = |(any, sub_hosts, ns_hosts): (bool, Vec<String>, Vec<String>)| {
                let mut r = two_volumes(&[(1, "volumes/v1", "", "")]);
                let sub = r.subsystems[0].spec.as_mut().unwrap();
                (sub.allow_any_host, sub.allowed_hosts) = (any, sub_hosts);
                r.namespaces[0].spec.as_mut().unwrap().allowed_hosts = ns_hosts;
                r
            };
            let applied = (pb::ApplyState::Applied as i32, String::new());
            let r = internal.sync_state(request(before)).await;
            assert_eq!(namespace_states(&r), std::slice::from_ref(&applied), "{what}");
            let (_admin, mut io, write) = write_held(&target, 1);
            let sync = tokio::spawn({
                let (internal, after) = (internal.clone(), request(after));
                async move { internal.sync_state(after).await }
            });
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(!sync.is_finished(), "{what}: answered with the revoked host's write held");
            let r = release_skipped_write(&target, &mut io, write, sync, 1, what).await;
            assert_eq!(namespace_states(&r), [applied], "{what}");
        }
    }

    /// A namespace whose allowed hosts name one its subsystem does not let in is FAILED,
    /// naming the field, the host and the subsystem (the agent's check, the same predicate):
    /// where a Sync names the host anew (the namespace serving on as it was) and where it
    /// adds the namespace. A host the namespace named while the subsystem let it in, and the
    /// subsystem dropped since (a revocation, one write), is inert: the namespace stays
    /// APPLIED, also in a restarted service's first Sync, which cannot tell the two apart.
    #[tokio::test]
    async fn a_namespace_naming_a_host_its_subsystem_does_not_let_in_fails() {
        const HOST: &str = "nqn.2014-08.org.example:h";
        const OTHER: &str = "nqn.2014-08.org.example:other";
        const TYPO: &str = "nqn.2014-08.org.example:hh";
        let request = |sub_hosts: &[&str], ns_hosts: &[&[&str]]| {
            let nsids: Vec<_> = (1..=ns_hosts.len() as u32).collect();
            let at: Vec<_> = nsids
                .iter()
                .map(|n| (*n, ["volumes/v1", "volumes/v2"][*n as usize - 1], "", ""))
                .collect();
            let mut r = two_volumes(&at);
            let sub = r.subsystems[0].spec.as_mut().unwrap();
            sub.allow_any_host = false;
            sub.allowed_hosts = sub_hosts.iter().map(|h| (*h).to_owned()).collect();
            for (n, hosts) in r.namespaces.iter_mut().zip(ns_hosts) {
                n.spec.as_mut().unwrap().allowed_hosts =
                    hosts.iter().map(|h| (*h).to_owned()).collect();
            }
            r
        };
        let applied = (pb::ApplyState::Applied as i32, String::new());
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let r = internal.sync_state(request(&[HOST], &[&[HOST]])).await;
        assert_eq!(namespace_states(&r), std::slice::from_ref(&applied));
        // Revoked: the subsystem drops the host the namespace names.
        let r = internal.sync_state(request(&[OTHER], &[&[HOST]])).await;
        assert_eq!(namespace_states(&r), std::slice::from_ref(&applied), "revoked");
        // A restarted service is given that state.
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let r = internal.sync_state(request(&[OTHER], &[&[HOST]])).await;
        assert_eq!(namespace_states(&r), std::slice::from_ref(&applied), "after a restart");
        let r = internal.sync_state(request(&[OTHER], &[&[HOST]])).await;
        assert_eq!(namespace_states(&r), std::slice::from_ref(&applied), "its next Sync");

        // Named anew: refused, the namespace serving as it was.
        let r = internal.sync_state(request(&[OTHER], &[&[HOST, TYPO]])).await;
        let [(state, message)] = &namespace_states(&r)[..] else { panic!("{r:?}") };
        assert_eq!(*state, pb::ApplyState::Failed as i32);
        let says = format!("spec.allowed_hosts[1]: subsystems/s1 does not let host {TYPO} in");
        assert!(message.starts_with(&says), "{message}");
        let ns = target.namespace(IDS_NQN, 1).expect("serving as it was");
        assert!(!ns.visible_to(TYPO));
        // And again in the next Sync (the refused host is not taken as named before).
        let r = internal.sync_state(request(&[OTHER], &[&[HOST, TYPO]])).await;
        assert_eq!(namespace_states(&r)[0].0, pb::ApplyState::Failed as i32);
        // Added naming one: refused, not served.
        let r = internal.sync_state(request(&[OTHER], &[&[HOST], &[TYPO]])).await;
        assert_eq!(namespace_states(&r)[0], applied);
        let (state, message) = &namespace_states(&r)[1];
        assert_eq!(*state, pb::ApplyState::Failed as i32);
        assert!(message.starts_with("spec.allowed_hosts[0]: subsystems/s1"), "{message}");
        assert!(target.namespace(IDS_NQN, 2).is_none());
        // The host let in: applied.
        let r = internal.sync_state(request(&[OTHER, TYPO], &[&[HOST], &[TYPO]])).await;
        assert_eq!(namespace_states(&r), [applied.clone(), applied]);
    }

    /// A revoked host's operation that has not ended when the Sync stops waiting
    /// (`DRAIN_DEADLINE`; here 200 ms) keeps the answer no longer: the namespace, which
    /// stays, shows APPLIED.
    #[tokio::test]
    async fn a_sync_revoking_a_host_stops_waiting_at_the_deadline() {
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2))
            .draining_at_most(Duration::from_millis(200));
        let mut request = two_volumes(&[(1, "volumes/v1", "", "")]);
        internal.sync_state(request.clone()).await;
        let (_admin, _io, _write) = write_held(&target, 1);
        let other = "nqn.2014-08.org.example:other".to_owned();
        request.namespaces[0].spec.as_mut().unwrap().allowed_hosts = vec![other];
        let started = Instant::now();
        let r = tokio::time::timeout(Duration::from_secs(5), internal.sync_state(request))
            .await
            .expect("no answer past the deadline");
        assert!(started.elapsed() >= Duration::from_millis(200), "answered before the deadline");
        assert_eq!(namespace_states(&r), [(pb::ApplyState::Applied as i32, String::new())]);
        assert!(target.namespace(IDS_NQN, 1).unwrap().cut_off_io_running());
    }

    /// A namespace taken out whose I/O has not ended when the Sync stops waiting
    /// (`DRAIN_DEADLINE`; here 200 ms) keeps its volume and medium until it has: the
    /// namespace the Sync would add on the volume fails, saying so, and in the next Sync a
    /// volume on its file fails, naming it; once its I/O ended, the next Sync applies them.
    #[tokio::test]
    async fn a_taken_out_namespace_whose_io_runs_on_keeps_its_volume_and_medium() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.img").display().to_string();
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2))
            .draining_at_most(Duration::from_millis(200));
        let sync = |volume: pb::Volume, nsid: u32| {
            let spec = pb::NamespaceSpec { volume: volume.name.clone(), ..Default::default() };
            let namespace = pb::Namespace {
                name: format!("subsystems/s1/namespaces/{nsid}"),
                spec: Some(spec),
                ..Default::default()
            };
            internal.sync_state(pb::SyncRequest {
                volumes: vec![volume],
                subsystems: vec![open_subsystem()],
                namespaces: vec![namespace],
                listeners: Vec::new(),
            })
        };
        let (applied, failed) = (pb::ApplyState::Applied as i32, pb::ApplyState::Failed as i32);
        let r = sync(file_volume("f", &path, 1 << 20), 1).await;
        assert_eq!(namespace_states(&r), [(applied, String::new())]);
        let (_admin, mut io, write) = write_held(&target, 1);

        // Namespace 1 goes; namespace 2 would take its volume.
        let r = sync(file_volume("f", &path, 1 << 20), 2).await;
        let (state, message) = namespace_states(&r).remove(0);
        let says = format!("namespace 1 of {IDS_NQN}, taken out, still has I/O running on volume");
        assert!(state == failed && message.starts_with(&says), "{message}");
        assert!(target.all_namespaces().is_empty(), "served beside the removed one's I/O");

        // The next Sync opens no volume on its file.
        let r = sync(file_volume("g", &path, 1 << 20), 2).await;
        let medium = std::fs::canonicalize(&path).unwrap();
        let refusal = format!(
            "{} is the medium of namespace 1 of {IDS_NQN}, taken out while its I/O still runs; \
             no volume is opened on it until that I/O has ended",
            medium.display()
        );
        assert_eq!(volume_states(&r), [(failed, refusal, 0)]);
        assert_eq!(namespace_states(&r)[0].0, failed);

        // Its write's turn comes (skipped): the next Sync serves the file anew.
        io.complete_io(write.tag, crate::queue::execute_io(&write));
        drop(write);
        let r = sync(file_volume("g", &path, 1 << 20), 2).await;
        assert_eq!(volume_states(&r), [(applied, String::new(), 1 << 20)]);
        assert_eq!(namespace_states(&r), [(applied, String::new())]);
        let data = std::fs::read(&path).unwrap();
        assert!(data[..512].iter().all(|&b| b == 0), "the removed namespace's write landed");
    }

    /// The saved state of a namespace deleted while the service was down goes with the
    /// first Sync that does not want it (a namespace made again later with the same,
    /// deterministic NGUID starts without its registrants); a namespace the Sync wants but
    /// Namespace 1 of `target` with a registration that persists through power loss
    /// (PTPL), saved to its state file.
    fn register_ptpl_and_save(target: &Arc<crate::Target>) -> Arc<crate::target::Namespace> {
        let ns = target.namespace(IDS_NQN, 1).unwrap();
        {
            let mut r = ns.reservations.lock().unwrap();
            r.register(&Host::new([1; 16], "nqn.2014-08.org.example:h".into()), 0, false, 0, 5)
                .unwrap();
            r.set_ptpl(true);
        }
        target.namespace_store().unwrap().save(&ns).unwrap();
        ns
    }

    /// cannot apply (FAILED) keeps its file, and gets its state back once it applies.
    #[tokio::test]
    async fn a_sync_drops_the_saved_state_of_namespaces_it_does_not_want() {
        let dir = tempfile::tempdir().unwrap();
        let file = || std::fs::read_dir(dir.path().join("namespaces")).unwrap().count();
        let start = || started_with_namespace_store(dir.path());
        // A file volume: its data, and so its namespace's state, outlives the service.
        let volume = file_volume("r1", &dir.path().join("r1.img").display().to_string(), 1 << 20);
        let namespace = |nsid: u32| pb::Namespace {
            name: format!("subsystems/s1/namespaces/{nsid}"),
            spec: Some(pb::NamespaceSpec { volume: "volumes/r1".into(), ..Default::default() }),
            ..Default::default()
        };
        let request = |volumes: Vec<pb::Volume>, namespaces| pb::SyncRequest {
            volumes,
            subsystems: vec![open_subsystem()],
            namespaces,
            listeners: Vec::new(),
        };
        let registrants = |t: &crate::Target| {
            t.namespace(IDS_NQN, 1).unwrap().reservations.lock().unwrap().save()
        };
        let with_ns = || request(vec![volume.clone()], vec![namespace(1)]);

        let (target, internal) = start();
        internal.sync_state(with_ns()).await;
        let ns = register_ptpl_and_save(&target);
        assert_eq!(file(), 1);
        drop((ns, target, internal));

        // Restarted; the namespace wanted, its volume not applied: FAILED, file kept.
        let (target, internal) = start();
        let r = internal.sync_state(request(Vec::new(), vec![namespace(1)])).await;
        assert_eq!(namespace_states(&r)[0].0, pb::ApplyState::Failed as i32);
        assert_eq!(file(), 1, "a FAILED namespace keeps its saved state");
        internal.sync_state(with_ns()).await;
        assert_eq!(registrants(&target).registrants.len(), 1, "restored once it applies");
        drop((target, internal));

        // Restarted; the namespace was deleted meanwhile: its file goes with the first Sync.
        let (target, internal) = start();
        internal.sync_state(request(vec![volume.clone()], Vec::new())).await;
        assert_eq!(file(), 0, "the file of a namespace no Sync wants stays");
        let r = internal.sync_state(with_ns()).await;
        assert_eq!(namespace_states(&r)[0].0, pb::ApplyState::Applied as i32);
        let saved = registrants(&target);
        assert!(saved.registrants.is_empty(), "made again, it got the old state: {saved:?}");
    }

    /// A namespace refused for its state file (damaged here) is served by the next Sync
    /// once the operator mends the file in place, with the state the file holds then, or
    /// removes it, without any: the agent's retry reads the file as it is now, not as it
    /// was at start.
    #[tokio::test]
    async fn a_state_file_mended_in_place_serves_its_namespace_at_the_next_sync() {
        let dir = tempfile::tempdir().unwrap();
        let start = || started_with_namespace_store(dir.path());
        let volume = file_volume("r1", &dir.path().join("r1.img").display().to_string(), 1 << 20);
        let with_ns = || one_namespace(volume.clone());
        let registrants = |t: &crate::Target| {
            t.namespace(IDS_NQN, 1).unwrap().reservations.lock().unwrap().save().registrants.len()
        };
        let (target, internal) = start();
        internal.sync_state(with_ns()).await;
        let ns = register_ptpl_and_save(&target);
        drop((ns, target, internal));
        let path = std::fs::read_dir(dir.path().join("namespaces"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let good = std::fs::read(&path).unwrap();
        let damage = || std::fs::write(&path, &good[..good.len() / 2]).unwrap();
        let file_name = path.file_name().unwrap().to_str().unwrap().to_owned();

        for mend in ["in place", "removed"] {
            damage();
            let (target, internal) = start();
            let r = internal.sync_state(with_ns()).await;
            let (state, message) = namespace_states(&r)[0].clone();
            assert_eq!(state, pb::ApplyState::Failed as i32, "{mend}: {message}");
            assert!(message.contains(&file_name), "{mend}: {message}");
            match mend {
                "in place" => std::fs::write(&path, &good).unwrap(),
                _ => std::fs::remove_file(&path).unwrap(),
            }
            let r = internal.sync_state(with_ns()).await;
            let (state, message) = namespace_states(&r)[0].clone();
            assert_eq!(state, pb::ApplyState::Applied as i32, "{mend}: {message}");
            let want = usize::from(mend == "in place");
            assert_eq!(registrants(&target), want, "{mend}: the file's registration");
            drop((target, internal));
            if mend == "in place" {
                // Its state is the namespace's again: kept through the next restart.
                assert_eq!(std::fs::read(&path).unwrap(), good, "{mend}");
            }
        }
    }

    /// Syncs that come while one runs do not pile up: one waits, the newest, and each it
    /// replaces ends at once with ABORTED, its request dropped, whether its caller still
    /// waits or gave up (the agent's timeout). Once the running one ends, only the newest
    /// runs: no stale desired state is applied on the way (each Sync here makes its own
    /// file volume, so its file tells whether it ran).
    #[tokio::test]
    async fn of_the_syncs_waiting_for_a_running_one_only_the_newest_runs() {
        let dir = tempfile::tempdir().unwrap();
        let internal = NvmfInternal::new(Server::new(crate::Target::new(), 2));
        let path = |name: &str| dir.path().join(format!("{name}.img"));
        let request = |name: &str| {
            let file = pb::FileBackend { path: path(name).display().to_string(), size_bytes: 4096 };
            let spec = pb::VolumeSpec {
                backend: Some(pb::volume_spec::Backend::File(file)),
                ..Default::default()
            };
            let volume = pb::Volume {
                name: format!("volumes/{name}"),
                spec: Some(spec),
                ..Default::default()
            };
            Request::new(pb::SyncRequest { volumes: vec![volume], ..Default::default() })
        };
        let give_up = std::time::Duration::from_millis(200);
        // A Sync running (holding the applied state) that takes its time.
        let running = internal.applied.lock().await;
        let waiting = {
            let (internal, a) = (internal.clone(), request("a"));
            tokio::spawn(async move { NvmfInternalService::sync(&internal, a).await })
        };
        // Its task has asked to run (this runtime has one thread).
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        for name in ["b", "c", "d"] {
            let gave_up = tokio::time::timeout(give_up, internal.sync(request(name))).await;
            assert!(gave_up.is_err(), "{name}: answered while a Sync runs");
        }
        let replaced = tokio::time::timeout(give_up, waiting).await.expect("answered at once");
        let status = replaced.unwrap().unwrap_err();
        assert_eq!(status.code(), tonic::Code::Aborted, "{status}");
        assert!(status.message().contains("newer Sync"), "{status}");
        drop(running);
        // Behind the one waiting, if any.
        let a = internal.applied.lock().await;
        assert_eq!(a.last.volumes.len(), 1);
        assert_eq!(a.last.volumes[0].name, "volumes/d", "the last Sync to run");
        let ran: Vec<&str> =
            ["a", "b", "c", "d"].into_iter().filter(|n| path(n).exists()).collect();
        assert_eq!(ran, ["d"], "Syncs that ran after the running one");
    }

    /// A listener moved to another port and then deleted closes the connections its first
    /// socket accepted too: a persistent discovery controller connected before the move
    /// (KATO long past the test) goes with it, on a discovery-only listener (whose
    /// controllers no registry ends) as on an I/O one.
    #[tokio::test]
    async fn a_listener_deleted_after_a_move_closes_its_first_sockets_connections() {
        use crate::initiator::{HostOptions, HostQueue};
        use dpu_nvmf_proto::fabrics::{CNTLID_DYNAMIC, DISCOVERY_NQN};
        let internal = NvmfInternal::new(Server::new(crate::Target::new(), 2));
        // Four distinct ports, all held until each was picked.
        let held = [(); 4].map(|()| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
        let [disc, io, disc_moved, io_moved] = held.map(|l| l.local_addr().unwrap().port());
        let listener = |name: &str, port: u16, discovery_only: bool| pb::Listener {
            name: name.into(),
            spec: Some(pb::ListenerSpec {
                address: "127.0.0.1".into(),
                port: u32::from(port),
                discovery_only,
                ..Default::default()
            }),
            ..Default::default()
        };
        let sync = async |ports: Option<(u16, u16)>| {
            let listeners = ports.map_or_else(Vec::new, |(disc, io)| {
                vec![listener("listeners/disc", disc, true), listener("listeners/io", io, false)]
            });
            let r = internal.sync_state(pb::SyncRequest { listeners, ..Default::default() }).await;
            for l in r.listeners {
                let apply = l.status.and_then(|s| s.apply).unwrap();
                assert_eq!(apply.state, pb::ApplyState::Applied as i32, "{}", apply.message);
            }
        };
        sync(Some((disc, io))).await;
        let opts = HostOptions { kato_ms: 120_000, ..HostOptions::default() };
        let mut connected = Vec::new();
        for port in [disc, io] {
            let mut d = HostQueue::open(([127, 0, 0, 1], port).into(), &opts).await.unwrap();
            let c = d.connect(DISCOVERY_NQN, 0, 31, CNTLID_DYNAMIC).await.unwrap();
            assert!(c.cqe.status.is_success());
            d.property_set(0x14, 1).await.unwrap();
            connected.push(d);
        }
        sync(Some((disc_moved, io_moved))).await;
        for d in &mut connected {
            d.keep_alive().await.expect("a move keeps the connections");
        }
        sync(None).await;
        for d in &mut connected {
            assert!(d.wait_closed().await.unwrap().is_none(), "closed with the listener");
        }
    }

    /// A listener `listeners/{name}` on 127.0.0.1:`port` (discovery only or not), with
    /// `referrals` to other discovery services and ANA group 1 `inaccessible` if asked.
    fn test_listener(
        name: &str,
        port: u16,
        discovery_only: bool,
        referrals: &[&str],
        inaccessible: bool,
    ) -> pb::Listener {
        let referrals =
            referrals.iter().map(|a| pb::Referral { address: (*a).into(), port: 0 }).collect();
        let ana_groups = if inaccessible {
            vec![pb::AnaGroupState {
                group: 1,
                state: pb::AnaState::Inaccessible as i32,
                ..Default::default()
            }]
        } else {
            Vec::new()
        };
        pb::Listener {
            name: format!("listeners/{name}"),
            spec: Some(pb::ListenerSpec {
                address: "127.0.0.1".into(),
                port: u32::from(port),
                discovery_only,
                referrals,
                ana_groups,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Syncs `listeners` and subsystem [`TEST_NQN`] (any host), each applied; returns the
    /// listeners' port IDs by name.
    async fn sync_listeners(
        internal: &NvmfInternal,
        listeners: Vec<pb::Listener>,
    ) -> BTreeMap<String, u32> {
        let subsystem = pb::Subsystem {
            name: "subsystems/s".into(),
            spec: Some(pb::SubsystemSpec {
                nqn: TEST_NQN.into(),
                serial_number: "S".into(),
                allow_any_host: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        let req = pb::SyncRequest { subsystems: vec![subsystem], listeners, ..Default::default() };
        let r = internal.sync_state(req).await;
        let mut ids = BTreeMap::new();
        for l in r.listeners {
            let st = l.status.unwrap();
            let apply = st.apply.unwrap();
            assert_eq!(apply.state, pb::ApplyState::Applied as i32, "{}", apply.message);
            ids.insert(l.name, st.port_id);
        }
        ids
    }

    const TEST_NQN: &str = "nqn.2024-01.io.example:listeners";

    /// A group a Sync sets to Change (a restarted service's first Sync too) starts its
    /// transition then; the listener's status shows the state hosts see: Change, then
    /// Inaccessible once the transition lasted ANATT, which the agent's next Sync of the
    /// same spec keeps.
    #[tokio::test]
    async fn a_synced_ana_change_shows_inaccessible_in_the_status_after_anatt() {
        use crate::target::ANA_TRANSITION_TIME as ANATT;
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut listener = test_listener("a", port, false, &[], false);
        if let Some(spec) = listener.spec.as_mut() {
            spec.ana_groups = vec![pb::AnaGroupState {
                group: 1,
                state: pb::AnaState::Change as i32,
                ..Default::default()
            }];
        }
        let shown = |r: &pb::SyncResponse| {
            let groups = &r.listeners[0].status.as_ref().unwrap().ana_groups;
            groups.iter().map(|g| (g.group, g.state)).collect::<Vec<_>>()
        };
        let req = pb::SyncRequest { listeners: vec![listener], ..Default::default() };
        let before = Instant::now();
        let r = internal.sync_state(req.clone()).await;
        let after = Instant::now();
        assert_eq!(shown(&r), [(1, pb::AnaState::Change as i32)]);
        let id = r.listeners[0].status.as_ref().unwrap().port_id as u16;
        let end = target.next_ana_change_end().unwrap();
        assert!(before + ANATT <= end && end <= after + ANATT, "ANATT from the Sync");
        assert_eq!(target.end_ana_changes(end), [(id, 1)]);
        let r = internal.sync_state(req).await;
        assert_eq!(shown(&r), [(1, pb::AnaState::Inaccessible as i32)]);
        assert_eq!(target.ana_state(Some(id), 1), AnaState::Inaccessible);
        assert_eq!(target.next_ana_change_end(), None, "not started again");
    }

    /// A group the operator set to Change anew (its `set_revision` moved: the agent's Sync
    /// coalesced Change, another state and Change again) is in Change again for ANATT from
    /// that Sync, though the Sync repeats the state the service serves; the same revision
    /// again keeps the transition's end, as does an older agent's 0 throughout.
    #[tokio::test]
    async fn an_ana_change_set_anew_in_one_sync_starts_a_new_transition() {
        use crate::target::ANA_TRANSITION_TIME as ANATT;
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let change_at = |set_revision| {
            let mut listener = test_listener("a", port, false, &[], false);
            if let Some(spec) = listener.spec.as_mut() {
                spec.ana_groups = vec![pb::AnaGroupState {
                    group: 1,
                    state: pb::AnaState::Change as i32,
                    set_revision,
                }];
            }
            pb::SyncRequest { listeners: vec![listener], ..Default::default() }
        };
        let shown = |r: &pb::SyncResponse| {
            let groups = &r.listeners[0].status.as_ref().unwrap().ana_groups;
            groups.iter().map(|g| (g.group, g.state)).collect::<Vec<_>>()
        };
        let r = internal.sync_state(change_at(1)).await;
        let id = r.listeners[0].status.as_ref().unwrap().port_id as u16;
        assert_eq!(target.end_ana_changes(target.next_ana_change_end().unwrap()), [(id, 1)]);
        let r = internal.sync_state(change_at(1)).await;
        assert_eq!(shown(&r), [(1, pb::AnaState::Inaccessible as i32)], "the same write");

        let before = Instant::now();
        let r = internal.sync_state(change_at(3)).await;
        let after = Instant::now();
        assert_eq!(shown(&r), [(1, pb::AnaState::Change as i32)], "set anew");
        assert_eq!(target.ana_state(Some(id), 1), AnaState::Change);
        let end = target.next_ana_change_end().expect("a transition under way");
        assert!(before + ANATT <= end && end <= after + ANATT, "ANATT from the Sync");

        // Set anew while under way: the transition counts from the later write.
        let before = Instant::now();
        internal.sync_state(change_at(5)).await;
        let end = target.next_ana_change_end().unwrap();
        assert!(before + ANATT <= end, "started again");
        assert_eq!(target.end_ana_changes(end), [(id, 1)]);
        let r = internal.sync_state(change_at(5)).await;
        assert_eq!(shown(&r), [(1, pb::AnaState::Inaccessible as i32)]);
        assert_eq!(target.next_ana_change_end(), None, "not started again");
    }

    /// An I/O listener made discovery-only (its address bound again, its connections kept)
    /// ends the I/O controllers made through it, which it serves no more; it keeps its port
    /// ID, so a listener added later takes another, and its ANA states reach only its own
    /// controllers.
    #[tokio::test]
    async fn an_io_listener_made_discovery_only_ends_its_io_controllers() {
        use crate::initiator::{HostController, HostOptions, HostQueue};
        use dpu_nvmf_proto::fabrics::{CNTLID_DYNAMIC, DISCOVERY_NQN};
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let held = [(); 2].map(|()| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
        let [a, b] = held.map(|l| l.local_addr().unwrap().port());
        let ids = sync_listeners(&internal, vec![test_listener("a", a, false, &[], false)]).await;
        let a_id = ids["listeners/a"];
        let at = std::net::SocketAddr::from(([127, 0, 0, 1], a));
        let opts = HostOptions { kato_ms: 120_000, ..HostOptions::default() };
        let mut io = HostController::connect(at, TEST_NQN, &opts, 1).await.unwrap();
        let mut disc = HostQueue::open(at, &opts).await.unwrap();
        let c = disc.connect(DISCOVERY_NQN, 0, 31, CNTLID_DYNAMIC).await.unwrap();
        assert!(c.cqe.status.is_success());
        disc.property_set(0x14, 1).await.unwrap();

        sync_listeners(&internal, vec![test_listener("a", a, true, &[], false)]).await;
        let closed =
            tokio::time::timeout(std::time::Duration::from_secs(5), io.admin.wait_closed()).await;
        assert!(matches!(closed, Ok(Ok(None))), "the I/O controller ended: {closed:?}");
        assert_eq!(target.controller_count(TEST_NQN), 0);
        disc.keep_alive().await.expect("the discovery controller stays");

        // Another listener comes with its ANA states: only its own controllers follow them.
        let ids = sync_listeners(
            &internal,
            vec![test_listener("a", a, true, &[], false), test_listener("b", b, false, &[], true)],
        )
        .await;
        assert_eq!(ids["listeners/a"], a_id, "discovery-only, under its port ID still");
        assert_ne!(ids["listeners/b"], a_id, "a port ID of its own");
        let at_b = std::net::SocketAddr::from(([127, 0, 0, 1], b));
        let _fresh = HostController::connect(at_b, TEST_NQN, &opts, 1).await.unwrap();
        assert_eq!(target.controller_count(TEST_NQN), 1, "B's controller alone");
        assert_eq!(target.ana_state(Some(ids["listeners/b"] as u16), 1), AnaState::Inaccessible);
    }

    /// A connection an I/O listener accepted before it was made discovery-only, still
    /// waiting for its Connect, gets what the listener serves now: no controller of an NVM
    /// subsystem, which would carry the port ID the listener let go (a later listener's,
    /// whose ANA states and deletion would reach it).
    #[tokio::test]
    async fn an_io_listener_made_discovery_only_refuses_a_kept_connections_io_connect() {
        use crate::initiator::{HostOptions, HostQueue};
        use dpu_nvmf_proto::Status;
        use dpu_nvmf_proto::fabrics::{CNTLID_DYNAMIC, ConnectData};
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = held.local_addr().unwrap().port();
        drop(held);
        sync_listeners(&internal, vec![test_listener("a", a, false, &[], false)]).await;
        let at = std::net::SocketAddr::from(([127, 0, 0, 1], a));
        let opts = HostOptions { kato_ms: 120_000, ..HostOptions::default() };
        // ICReq answered, no Connect yet.
        let mut waiting = HostQueue::open(at, &opts).await.unwrap();

        sync_listeners(&internal, vec![test_listener("a", a, true, &[], false)]).await;
        let c = waiting.connect(TEST_NQN, 0, 31, CNTLID_DYNAMIC).await.unwrap();
        assert_eq!(
            (c.cqe.status, c.cqe.dw0),
            (
                Status::CONNECT_INVALID_PARAMETERS.with_dnr(),
                (1 << 16) | u32::from(ConnectData::OFFSET_SUBNQN)
            ),
            "as on any discovery-only listener"
        );
        assert_eq!(target.controller_count(TEST_NQN), 0);
    }

    /// A listener whose spec says nothing of digests grants them to a host that asks (`nvme
    /// connect -g -G`), as Linux's nvmet and the service's own configuration file do; one
    /// that refuses them must say so.
    #[tokio::test]
    async fn a_listener_that_says_nothing_of_digests_grants_them() {
        use crate::initiator::{HostOptions, HostQueue};
        let internal = NvmfInternal::new(Server::new(crate::Target::new(), 2));
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        drop(held);
        sync_listeners(&internal, vec![test_listener("a", port, false, &[], false)]).await;
        let at = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let digests = HostOptions { hdgst: true, ddgst: true, ..HostOptions::default() };
        let opened = HostQueue::open(at, &digests).await;
        assert!(opened.is_ok(), "digests refused: {:?}", opened.err());
        // An explicit false refuses them; a host asking for none connects.
        let mut refusing = test_listener("a", port, false, &[], false);
        refusing.spec.as_mut().unwrap().allow_header_digest = Some(false);
        sync_listeners(&internal, vec![refusing]).await;
        assert!(HostQueue::open(at, &digests).await.is_err(), "header digest granted");
        assert!(HostQueue::open(at, &HostOptions::default()).await.is_ok());
    }

    /// The listeners of the service's own configuration file hold their port IDs from the
    /// start, before any Sync: an agent's listener (I/O or discovery-only) that names one
    /// fails, saying whose it is and what to do, while the file's serves on; one that names
    /// none takes another. No two listeners ever share a port ID.
    #[tokio::test]
    async fn a_port_id_of_the_configuration_file_is_refused_naming_the_files_listener() {
        let server = Server::new(crate::Target::new(), 2);
        let file = crate::target::ListenerSpec {
            addr: "127.0.0.1:0".parse().unwrap(),
            ..crate::target::ListenerSpec::loopback_for_tests()
        };
        let file_addr = server.add_listener(file).await.unwrap();
        let internal = NvmfInternal::new(server);
        let held = [(); 3].map(|()| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
        let [a, b, c] = held.map(|l| l.local_addr().unwrap().port());
        let named = |name: &str, port: u16, discovery_only: bool, id: u32| {
            let mut l = test_listener(name, port, discovery_only, &[], false);
            l.spec.as_mut().unwrap().port_id = id;
            l
        };
        let listeners =
            vec![named("a", a, false, 1), named("b", b, true, 1), named("c", c, false, 0)];
        let r = internal.sync_state(pb::SyncRequest { listeners, ..Default::default() }).await;
        let outcome = |i: usize| {
            let st = r.listeners[i].status.clone().unwrap();
            (st.apply.unwrap(), st.port_id)
        };
        for i in [0, 1] {
            let (apply, port_id) = outcome(i);
            assert_eq!((apply.state, port_id), (pb::ApplyState::Failed as i32, 0), "{apply:?}");
            assert!(
                apply.message.contains(&format!(
                    "spec.port_id 1 is the port ID of the listener at {file_addr} of the \
                     service's configuration file"
                )),
                "{apply:?}"
            );
        }
        let (apply, port_id) = outcome(2);
        assert_eq!((apply.state, port_id), (pb::ApplyState::Applied as i32, 2), "{apply:?}");
        let t = internal.server.target();
        assert_eq!(t.listener(1).map(|l| l.addr), Some(file_addr), "the file's serves on");
    }

    /// Listeners are served under the port IDs their specs name (the agent's, each the
    /// listener's for its life), whatever their order: two that trade theirs in one Sync
    /// both apply, one that names none takes the lowest ID no other names, and one naming
    /// another's fails while that one serves on.
    #[tokio::test]
    async fn listeners_take_the_port_ids_their_specs_name() {
        let internal = NvmfInternal::new(Server::new(crate::Target::new(), 2));
        let held = [(); 3].map(|()| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
        let [a, b, c] = held.map(|l| l.local_addr().unwrap().port());
        let named = |name: &str, port: u16, id: u32| {
            let mut l = test_listener(name, port, false, &[], false);
            l.spec.as_mut().unwrap().port_id = id;
            l
        };
        let ids = sync_listeners(&internal, vec![named("a", a, 7), named("b", b, 3)]).await;
        assert_eq!((ids["listeners/a"], ids["listeners/b"]), (7, 3));
        let ids = sync_listeners(&internal, vec![named("a", a, 3), named("b", b, 7)]).await;
        assert_eq!((ids["listeners/a"], ids["listeners/b"]), (3, 7), "traded");
        let listeners = vec![named("0", c, 0), named("a", a, 3), named("b", b, 1)];
        let ids = sync_listeners(&internal, listeners).await;
        assert_eq!([ids["listeners/0"], ids["listeners/a"], ids["listeners/b"]], [2, 3, 1]);
        let listeners = vec![named("a", a, 3), named("b", b, 3)];
        let r = internal.sync_state(pb::SyncRequest { listeners, ..Default::default() }).await;
        let apply = |i: usize| r.listeners[i].status.clone().unwrap().apply.unwrap();
        assert_eq!(apply(0).state, pb::ApplyState::Applied as i32, "{}", apply(0).message);
        assert_eq!(apply(1).state, pb::ApplyState::Failed as i32);
        assert!(
            apply(1).message.contains("spec.port_id 3 is the port ID of listeners/a"),
            "{:?}",
            apply(1)
        );
    }

    /// A namespace's status shows the NGUID and UUID hosts see, derived ones too (the API
    /// shows them nowhere else).
    #[tokio::test]
    async fn a_namespace_status_shows_its_ids() {
        let internal = NvmfInternal::new(Server::new(crate::Target::new(), 2));
        let r = internal
            .sync_state(two_volumes(&[(1, "volumes/v1", "", ""), (2, "volumes/v2", NGUID, UUID)]))
            .await;
        let ids = |i: usize| {
            let s = r.namespaces[i].status.clone().unwrap();
            (s.nguid, s.uuid)
        };
        let applied = internal.applied.lock().await.volumes["volumes/v1"].clone();
        let (nguid, uuid) = applied
            .namespace_ids(
                &pb::NamespaceSpec { volume: "volumes/v1".into(), ..Default::default() },
                IDS_NQN,
                1,
            )
            .unwrap();
        let derived = (hex::encode(nguid), uuid::Uuid::from_bytes(uuid).hyphenated().to_string());
        assert_eq!(ids(0), derived);
        assert_eq!(ids(1), (NGUID.to_owned(), UUID.to_owned()));
    }

    /// GetNvmfStats as the agent reads it.
    async fn nvmf_stats(internal: &NvmfInternal) -> pb::NvmfStats {
        let request = Request::new(pb::GetNvmfStatsRequest {});
        internal.get_nvmf_stats(request).await.unwrap().into_inner()
    }

    /// A namespace replaced under its name (another NGUID, another volume, its volume
    /// opened anew, its subsystem's NQN changed, or served again after a Sync that
    /// could not serve it) counts on from where the one it replaced was, in GetNvmfStats
    /// and in the Sync's status: dpud labels its series by the name alone, and a
    /// Prometheus counter must not go down while the service runs. What the replaced one
    /// counts later (a connection's tally of commands it ran) lands too. A name no Sync
    /// asks for any more starts anew.
    #[tokio::test]
    async fn a_namespace_replaced_under_its_name_counts_on() {
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let reads = async || {
            let stats = nvmf_stats(&internal).await;
            stats.namespaces.first().and_then(|n| n.counters).map(|c| c.reads)
        };
        let r = internal.sync_state(two_volumes(&[(1, "volumes/v1", NGUID, "")])).await;
        assert_eq!(namespace_states(&r)[0].0, pb::ApplyState::Applied as i32);
        let mut was = target.namespace(IDS_NQN, 1).unwrap();
        was.stats.reads.fetch_add(5, Ordering::Relaxed);
        let mut want = 5;
        let other = "ffeeddccbbaa99887766554433221100";
        let mut reopened = two_volumes(&[(1, "volumes/v2", other, "")]);
        reopened.volumes[1].spec = Some(ram(1 << 20, 4096));
        let mut renamed = reopened.clone();
        let moved_nqn = "nqn.2024-01.io.example:moved";
        renamed.subsystems[0].spec.as_mut().unwrap().nqn = moved_nqn.into();
        let mut unserved = renamed.clone();
        unserved.volumes.remove(1);
        for (step, sync, nqn) in [
            ("another NGUID", two_volumes(&[(1, "volumes/v1", other, "")]), IDS_NQN),
            ("another volume", two_volumes(&[(1, "volumes/v2", other, "")]), IDS_NQN),
            ("its volume opened anew", reopened, IDS_NQN),
            ("another NQN", renamed.clone(), moved_nqn),
            ("not served for a Sync", unserved, moved_nqn),
            ("served again", renamed, moved_nqn),
        ] {
            let r = internal.sync_state(sync).await;
            let Some(ns) = target.namespace(nqn, 1) else {
                assert_eq!(namespace_states(&r)[0].0, pb::ApplyState::Failed as i32, "{step}");
                assert_eq!(reads().await, None, "{step}");
                continue;
            };
            assert_eq!(namespace_states(&r)[0], (pb::ApplyState::Applied as i32, String::new()));
            assert!(!Arc::ptr_eq(&ns, &was), "{step}: not replaced");
            let status = r.namespaces[0].status.as_ref().and_then(|s| s.counters);
            assert_eq!(status.map(|c| c.reads), Some(want), "{step}: the Sync's status");
            assert_eq!(reads().await, Some(want), "{step}");
            // A connection adds its tally to the namespace it looked up, replaced or not.
            was.stats.reads.fetch_add(1, Ordering::Relaxed);
            ns.stats.reads.fetch_add(2, Ordering::Relaxed);
            want += 3;
            assert_eq!(reads().await, Some(want), "{step}: counts after it");
            was = ns;
        }
        internal.sync_state(two_volumes(&[])).await;
        internal.sync_state(two_volumes(&[(1, "volumes/v1", "", "")])).await;
        assert_eq!(reads().await, Some(0), "a namespace created anew");
    }

    /// A volume opened anew under its name (another block size) keeps its latency
    /// histograms, which dpud labels by the name alone (a Prometheus histogram's counts
    /// must not go down while the service runs); the operations the old one completes
    /// after it was replaced count too.
    #[tokio::test]
    async fn a_volume_opened_anew_keeps_its_latency_histograms() {
        use crate::queue::IoOp;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.img").display().to_string();
        let internal = NvmfInternal::new(Server::new(crate::Target::new(), 2));
        let sync = |volumes| internal.sync_state(pb::SyncRequest { volumes, ..Default::default() });
        let volume = async || internal.applied.lock().await.volumes["volumes/f"].volume.clone();
        let applied = (pb::ApplyState::Applied as i32, String::new(), 1 << 20);
        let mut spec = file_volume("f", &path, 1 << 20);
        assert_eq!(volume_states(&sync(vec![spec.clone()]).await), std::slice::from_ref(&applied));
        let was = volume().await;
        let (read, d) =
            (IoOp::Read { offset: 0, len: 512, fua: false }, std::time::Duration::from_micros(9));
        was.latency().record(&read, d);
        spec.spec.as_mut().unwrap().block_size = 4096;
        assert_eq!(volume_states(&sync(vec![spec]).await), [applied]);
        let now = volume().await;
        assert!(!Arc::ptr_eq(&was, &now), "not opened anew");
        was.latency().record(&IoOp::Flush, d);
        now.latency().record(&read, d);
        let stats = nvmf_stats(&internal).await;
        let v = &stats.volumes[0];
        let count = |h: &Option<pb::LatencyHistogram>| h.as_ref().map(|h| h.count());
        let counts = [&v.read_latency, &v.write_latency, &v.flush_latency].map(count);
        assert_eq!(counts, [Some(2), Some(0), Some(1)]);
        assert_eq!(v.read_latency.as_ref().unwrap().sum_ns, 18_000);
    }

    /// A discovery-only listener is served under the port ID its spec names, as any other:
    /// its status shows it, and the log served through it names it in its own entry (the
    /// current discovery subsystem, NVMe Base 2.0 Figure 262, as nvmet's port ID there).
    #[tokio::test]
    async fn a_discovery_only_listener_names_its_port_id_in_its_own_entry() {
        use crate::initiator::{HostOptions, HostQueue};
        use dpu_nvmf_proto::fabrics::{CNTLID_DYNAMIC, DISCOVERY_NQN};
        let internal = NvmfInternal::new(Server::new(crate::Target::new(), 2));
        let held = [(); 2].map(|()| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
        let [d, io] = held.map(|l| l.local_addr().unwrap().port());
        let named = |name: &str, port: u16, discovery_only: bool, id: u32| {
            let mut l = test_listener(name, port, discovery_only, &[], false);
            l.spec.as_mut().unwrap().port_id = id;
            l
        };
        let ids =
            sync_listeners(&internal, vec![named("d", d, true, 5), named("io", io, false, 6)])
                .await;
        assert_eq!((ids["listeners/d"], ids["listeners/io"]), (5, 6));
        let mut q =
            HostQueue::open(([127, 0, 0, 1], d).into(), &HostOptions::default()).await.unwrap();
        assert!(
            q.connect(DISCOVERY_NQN, 0, 31, CNTLID_DYNAMIC).await.unwrap().cqe.status.is_success()
        );
        q.property_set(0x14, 1).await.unwrap();
        let log = q.get_log_page(0x70, 3 * 1024, 0).await.unwrap();
        let entry = |i: usize| {
            let e = &log[i * 1024..(i + 1) * 1024];
            (e[2], u16::from_le_bytes([e[4], e[5]]))
        };
        assert_eq!(u64::from_le_bytes(log[8..16].try_into().unwrap()), 2);
        assert_eq!([entry(1), entry(2)], [(3, 5), (2, 6)], "(SUBTYPE, PORTID)");
    }

    /// Addresses are read in their one form (`dpu_proto::canonical_ip`): a listener stored
    /// with an IPv4-mapped address (by an agent before it refused them) is served at its
    /// IPv4 address, which its log names (ADRFAM 1) as it names its referrals, however
    /// spelt.
    #[tokio::test]
    async fn listener_and_referral_addresses_are_read_in_their_canonical_form() {
        use crate::initiator::{HostOptions, HostQueue};
        use dpu_nvmf_proto::fabrics::{CNTLID_DYNAMIC, DISCOVERY_NQN};
        let internal = NvmfInternal::new(Server::new(crate::Target::new(), 2));
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        drop(held);
        let mut l =
            test_listener("d", port, true, &["::FFFF:192.0.2.20", "2001:0DB8::0001"], false);
        l.spec.as_mut().unwrap().address = "::ffff:127.0.0.1".into();
        sync_listeners(&internal, vec![l]).await;
        let mut q =
            HostQueue::open(([127, 0, 0, 1], port).into(), &HostOptions::default()).await.unwrap();
        let c = q.connect(DISCOVERY_NQN, 0, 31, CNTLID_DYNAMIC).await.unwrap();
        assert!(c.cqe.status.is_success());
        q.property_set(0x14, 1).await.unwrap();
        let log = q.get_log_page(0x70, 4 * 1024, 0).await.unwrap();
        let text = |e: &[u8]| String::from_utf8_lossy(e).trim_end_matches('\0').to_owned();
        // (ADRFAM, TRADDR) of each entry.
        let entries: Vec<_> = (1..4)
            .map(|i| {
                let e = &log[i * 1024..(i + 1) * 1024];
                (e[1], text(&e[512..768]))
            })
            .collect();
        let want = [(1, "127.0.0.1"), (1, "192.0.2.20"), (2, "2001:db8::1")];
        assert_eq!(entries, want.map(|(f, a)| (f, a.to_owned())));
    }

    /// A listener bound anew elsewhere with its connections kept serves them its referrals,
    /// and their discovery sessions still name its port ID (a discovery-only one's too).
    #[tokio::test]
    async fn a_rebound_listener_keeps_its_referrals_for_kept_sessions() {
        use crate::initiator::{HostOptions, HostQueue};
        use dpu_nvmf_proto::fabrics::{CNTLID_DYNAMIC, DISCOVERY_NQN};
        let internal = NvmfInternal::new(Server::new(crate::Target::new(), 2));
        let held = [(); 4].map(|()| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
        let [d1, d2, io1, io2] = held.map(|l| l.local_addr().unwrap().port());
        let listeners = |d, io| {
            vec![
                test_listener("disc", d, true, &["192.0.2.20"], false),
                test_listener("io", io, false, &["192.0.2.21"], false),
            ]
        };
        let ids = sync_listeners(&internal, listeners(d1, io1)).await;
        let [disc_id, io_id] =
            [&ids["listeners/disc"], &ids["listeners/io"]].map(|id| u16::try_from(*id).unwrap());
        let opts = HostOptions { kato_ms: 120_000, ..HostOptions::default() };
        let mut sessions = Vec::new();
        for port in [d1, io1] {
            let mut q = HostQueue::open(([127, 0, 0, 1], port).into(), &opts).await.unwrap();
            let c = q.connect(DISCOVERY_NQN, 0, 31, CNTLID_DYNAMIC).await.unwrap();
            assert!(c.cqe.status.is_success());
            q.property_set(0x14, 1).await.unwrap();
            sessions.push(q);
        }
        // (SUBTYPE, PORTID, TRADDR, TRSVCID) of each entry.
        let entries = async |q: &mut HostQueue| {
            let log = q.get_log_page(0x70, 8 * 1024, 0).await.unwrap();
            let n = u64::from_le_bytes(log[8..16].try_into().unwrap()) as usize;
            let text = |e: &[u8]| String::from_utf8_lossy(e).trim_end_matches('\0').to_owned();
            (1..=n)
                .map(|i| {
                    let e = &log[i * 1024..(i + 1) * 1024];
                    let port_id = u16::from_le_bytes([e[4], e[5]]);
                    (e[2], port_id, text(&e[512..768]), text(&e[32..64]))
                })
                .collect::<Vec<_>>()
        };
        let want = |d: u16, io: u16| {
            let at = |p: u16| ("127.0.0.1".to_owned(), p.to_string());
            let nvm = (2, io_id, at(io).0, at(io).1);
            let referral = |a: &str| (1, 0, a.to_owned(), "8009".to_owned());
            [
                vec![(3, disc_id, at(d).0, at(d).1), nvm.clone(), referral("192.0.2.20")],
                vec![(3, io_id, at(io).0, at(io).1), nvm, referral("192.0.2.21")],
            ]
        };
        let [disc_want, io_want] = want(d1, io1);
        assert_eq!(entries(&mut sessions[0]).await, disc_want);
        assert_eq!(entries(&mut sessions[1]).await, io_want);
        sync_listeners(&internal, listeners(d2, io2)).await;
        let [disc_want, io_want] = want(d2, io2);
        assert_eq!(
            entries(&mut sessions[0]).await,
            disc_want,
            "through the moved discovery listener"
        );
        assert_eq!(entries(&mut sessions[1]).await, io_want, "through the moved I/O listener");
    }

    /// GetNvmfStats reports the controllers ended to make room for a new Connect
    /// (`TargetStats::controllers_evicted`): a host's full table of controllers it never
    /// enabled gives one place once SETUP_GRACE has passed.
    #[tokio::test]
    async fn stats_report_controllers_evicted_for_a_new_connect() {
        use crate::target::{MAX_CONTROLLERS_PER_HOST, SETUP_GRACE};
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let sync = pb::SyncRequest { subsystems: vec![open_subsystem()], ..Default::default() };
        let r = internal.sync_state(sync).await;
        let applied = r.subsystems[0].status.as_ref().and_then(|s| s.apply.clone()).unwrap();
        assert_eq!(applied.state, pb::ApplyState::Applied as i32, "{}", applied.message);
        let host = "nqn.2014-08.org.example:h";
        let connect = |now| target.create_controller(IDS_NQN, host, [1; 16], 0, None, None, now);
        let start = Instant::now();
        let held: Vec<_> = (0..MAX_CONTROLLERS_PER_HOST).map(|_| connect(start).unwrap()).collect();
        let stats = async || {
            let request = Request::new(pb::GetNvmfStatsRequest {});
            internal.get_nvmf_stats(request).await.unwrap().into_inner()
        };
        assert_eq!(stats().await.controllers_evicted, 0);
        connect(start + SETUP_GRACE + std::time::Duration::from_millis(1))
            .expect("one never enabled goes");
        assert!(held[0].state().dead, "the oldest never enabled made room");
        assert_eq!(stats().await.controllers_evicted, 1);
    }

    /// A file volume `volumes/{id}` of `size_bytes` at `path`.
    fn file_volume(id: &str, path: &str, size_bytes: u64) -> pb::Volume {
        let file = pb::FileBackend { path: path.into(), size_bytes };
        let spec = pb::VolumeSpec {
            backend: Some(pb::volume_spec::Backend::File(file)),
            ..Default::default()
        };
        pb::Volume { name: format!("volumes/{id}"), spec: Some(spec), ..Default::default() }
    }

    /// A block device volume `volumes/{id}` at `path`.
    fn device_volume(id: &str, path: &str) -> pb::Volume {
        let device = pb::BlockDeviceBackend { path: path.into() };
        let spec = pb::VolumeSpec {
            backend: Some(pb::volume_spec::Backend::BlockDevice(device)),
            ..Default::default()
        };
        pb::Volume { name: format!("volumes/{id}"), spec: Some(spec), ..Default::default() }
    }

    /// Each volume's apply state, message and size.
    fn volume_states(r: &pb::SyncResponse) -> Vec<(i32, String, u64)> {
        let state = |v: &pb::Volume| {
            let s = v.status.clone().unwrap_or_default();
            let apply = s.apply.unwrap_or_default();
            (apply.state, apply.message, s.size_bytes)
        };
        r.volumes.iter().map(state).collect()
    }

    /// What a volume on `medium` (as the file system resolves it) is refused for, `holder`
    /// being on it: the volumes' reason, not the namespaces'.
    fn medium_refused(medium: &std::path::Path, holder: &str) -> (i32, String, u64) {
        let message = format!(
            "{} is the medium of {holder}; two volumes on one file or block device would show \
             hosts one medium as two namespaces",
            medium.display()
        );
        (pb::ApplyState::Failed as i32, message, 0)
    }

    /// The service's own Sync (a way in besides the agent, which refuses it too) opens no
    /// two volumes on one file or device, however the path is spelt: the later one, in
    /// the Sync or in a later Sync, fails naming the one that has it and changes nothing
    /// (no file grown, no volume applied), whatever its kind; a volume opened anew on its
    /// own file is no clash.
    #[tokio::test]
    async fn a_sync_refuses_a_volume_on_another_volumes_medium() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.img");
        let (plain, dotted) =
            (a.display().to_string(), format!("{}/./a.img", dir.path().display()));
        let internal = NvmfInternal::new(Server::new(crate::Target::new(), 2));
        let sync = |volumes| internal.sync_state(pb::SyncRequest { volumes, ..Default::default() });
        let applied = |size| (pb::ApplyState::Applied as i32, String::new(), size);

        let r =
            sync(vec![file_volume("a", &plain, 1 << 20), file_volume("b", &dotted, 2 << 20)]).await;
        let medium = std::fs::canonicalize(&a).unwrap();
        assert_eq!(volume_states(&r), [applied(1 << 20), medium_refused(&medium, "volumes/a")]);
        assert_eq!(std::fs::metadata(&a).unwrap().len(), 1 << 20, "the refused one grew the file");
        assert!(!internal.applied.lock().await.volumes.contains_key("volumes/b"));

        // In a later Sync, through a symbolic link, or as a block device.
        let link = dir.path().join("link.img");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        let r = sync(vec![
            file_volume("a", &plain, 1 << 20),
            file_volume("c", &link.display().to_string(), 1 << 20),
            device_volume("d", &plain),
        ])
        .await;
        let refused = medium_refused(&medium, "volumes/a");
        assert_eq!(volume_states(&r), [applied(1 << 20), refused.clone(), refused]);

        // Its own file, opened anew (another block size) or grown, is no clash.
        let mut reopened = file_volume("a", &plain, 1 << 20);
        reopened.spec.as_mut().unwrap().block_size = 4096;
        assert_eq!(volume_states(&sync(vec![reopened.clone()]).await), [applied(1 << 20)]);
        reopened = file_volume("a", &plain, 2 << 20);
        reopened.spec.as_mut().unwrap().block_size = 4096;
        assert_eq!(volume_states(&sync(vec![reopened]).await), [applied(2 << 20)]);
        let b = dir.path().join("b.img").display().to_string();
        let r = sync(vec![file_volume("a", &plain, 2 << 20), file_volume("b", &b, 1 << 20)]).await;
        assert_eq!(volume_states(&r), [applied(2 << 20), applied(1 << 20)]);
    }

    /// Nor a volume on the file of a volume of the service's configuration file
    /// (`--config`) that a namespace serves: FAILED naming the file's volume, the file
    /// untouched.
    #[tokio::test]
    async fn a_sync_refuses_a_volume_on_the_medium_of_the_configuration_files() {
        let dir = tempfile::tempdir().unwrap();
        let x = dir.path().join("x.img");
        let config = format!(
            "[[volumes]]\nname = \"cfg\"\nkind = \"file\"\npath = \"{}\"\nsize = 1048576\n\
             [[subsystems]]\nnqn = \"nqn.2024-01.io.example:file\"\nallow_any_host = true\n\
             [[subsystems.namespaces]]\nnsid = 1\nvolume = \"cfg\"\n",
            x.display()
        );
        let target = crate::Target::new();
        crate::config::Config::parse(&config).unwrap().apply(&target).unwrap();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let y = dir.path().join("y.img").display().to_string();
        let volumes =
            vec![file_volume("a", &x.display().to_string(), 2 << 20), file_volume("b", &y, 4096)];
        let r = internal.sync_state(pb::SyncRequest { volumes, ..Default::default() }).await;
        let medium = std::fs::canonicalize(&x).unwrap();
        let file_volume = "volume cfg of the service's configuration file";
        let applied = (pb::ApplyState::Applied as i32, String::new(), 4096);
        assert_eq!(volume_states(&r), [medium_refused(&medium, file_volume), applied]);
        assert_eq!(std::fs::metadata(&x).unwrap().len(), 1 << 20, "the refused one grew the file");
        assert_eq!(target.all_namespaces().len(), 1);
    }

    /// Two volumes that swap files in one Sync are both refused, each naming the other,
    /// and serve on as they were: each file is the other's until the Sync moves the
    /// namespaces, so hosts would meanwhile see one file as two namespaces. (One volume
    /// moved to a third file first, they swap in Syncs of their own.) A volume the Sync
    /// removes gives its file up.
    #[tokio::test]
    async fn volumes_swapping_files_in_one_sync_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).display().to_string();
        let (f1, f2) = (path("f1.img"), path("f2.img"));
        let target = crate::Target::new();
        let internal = NvmfInternal::new(Server::new(target.clone(), 2));
        let namespace = |nsid: u32, volume: &str| pb::Namespace {
            name: format!("subsystems/s1/namespaces/{nsid}"),
            spec: Some(pb::NamespaceSpec { volume: volume.into(), ..Default::default() }),
            ..Default::default()
        };
        let request = |volumes, namespaces| pb::SyncRequest {
            volumes,
            subsystems: vec![open_subsystem()],
            namespaces,
            listeners: Vec::new(),
        };
        let both = || vec![namespace(1, "volumes/a"), namespace(2, "volumes/b")];
        let applied = (pb::ApplyState::Applied as i32, String::new(), 1 << 20);
        let r = internal
            .sync_state(request(
                vec![file_volume("a", &f1, 1 << 20), file_volume("b", &f2, 1 << 20)],
                both(),
            ))
            .await;
        assert_eq!(volume_states(&r), [applied.clone(), applied.clone()]);
        let before = target.all_namespaces();

        let r = internal
            .sync_state(request(
                vec![file_volume("a", &f2, 1 << 20), file_volume("b", &f1, 1 << 20)],
                both(),
            ))
            .await;
        let (m1, m2) = (std::fs::canonicalize(&f1).unwrap(), std::fs::canonicalize(&f2).unwrap());
        // A refused volume that serves shows its size.
        let refused = |m: &std::path::PathBuf, holder| {
            let (state, message, _) = medium_refused(m, holder);
            (state, message, 1 << 20)
        };
        assert_eq!(volume_states(&r), [refused(&m2, "volumes/b"), refused(&m1, "volumes/a")]);
        let applied_ns = (pb::ApplyState::Applied as i32, String::new());
        assert_eq!(namespace_states(&r), [applied_ns.clone(), applied_ns.clone()]);
        let after = target.all_namespaces();
        let kept = before.len() == after.len()
            && before.iter().zip(&after).all(|(b, a)| Arc::ptr_eq(b, a));
        assert!(kept, "a namespace changed");

        // b removed, a takes its file.
        let r = internal
            .sync_state(request(
                vec![file_volume("a", &f2, 1 << 20)],
                vec![namespace(1, "volumes/a")],
            ))
            .await;
        assert_eq!(volume_states(&r), [applied]);
        assert_eq!(namespace_states(&r), [applied_ns]);
    }

    /// Each namespace's (NGUID, UUID) as its status shows them.
    fn shown_ids(r: &pb::SyncResponse) -> Vec<(String, String)> {
        let ids = |n: &pb::Namespace| {
            let s = n.status.clone().unwrap_or_default();
            (s.nguid, s.uuid)
        };
        r.namespaces.iter().map(ids).collect()
    }

    /// Namespace `nsid` of subsystem s1 on `volume`, IDs left to the service.
    fn namespace_on(nsid: u32, volume: &str) -> pb::Namespace {
        pb::Namespace {
            name: format!("subsystems/s1/namespaces/{nsid}"),
            spec: Some(pb::NamespaceSpec { volume: volume.into(), ..Default::default() }),
            ..Default::default()
        }
    }

    /// A Sync of `volume`, subsystem s1 (`IDS_NQN`) and its namespace 1 on `volume`.
    fn one_namespace(volume: pb::Volume) -> pb::SyncRequest {
        let namespaces = vec![namespace_on(1, &volume.name)];
        let subsystems = vec![open_subsystem()];
        pb::SyncRequest { volumes: vec![volume], subsystems, namespaces, listeners: Vec::new() }
    }

    /// Whether every object of `r` is APPLIED.
    fn all_applied(r: &pb::SyncResponse) -> bool {
        let applied = |s: Option<&pb::ObjectStatus>| {
            s.is_some_and(|s| s.state == pb::ApplyState::Applied as i32)
        };
        r.volumes.iter().all(|v| applied(v.status.as_ref().and_then(|s| s.apply.as_ref())))
            && r.namespaces
                .iter()
                .all(|n| applied(n.status.as_ref().and_then(|s| s.apply.as_ref())))
    }

    /// The agent knows a namespace's given IDs and the default ones on a file volume
    /// before the service applies it, not the default ones on a RAM volume (drawn when the
    /// service opens it), which then claim nothing in its checks.
    #[test]
    fn ids_known_ahead_leave_out_a_ram_volumes_default_ones() {
        let ns = |nguid: &str| pb::NamespaceSpec {
            volume: "volumes/r1".into(),
            nguid: nguid.into(),
            ..Default::default()
        };
        let file = file_spec(1 << 20, 0);
        let (nguid, uuid) = namespace_ids(&ns(""), IDS_NQN, 1, &file, None).unwrap();
        let ahead = |spec: pb::NamespaceSpec, volume: pb::VolumeSpec| {
            namespace_ids_ahead(&spec, IDS_NQN, 1, &volume).unwrap()
        };
        assert_eq!(ahead(ns(""), file), (Some(nguid), Some(uuid)));
        assert_eq!(ahead(ns(""), ram(1 << 20, 0)), (None, None));
        let given = parse_hex16(NGUID);
        assert_eq!(ahead(ns(NGUID), ram(1 << 20, 0)), (given, None));
        let claims = |(nguid, uuid)| NamespaceClaims { nguid, uuid, volume: 1 };
        let unknown = claims(ahead(ns(""), ram(1 << 20, 0)));
        assert_eq!(unknown.shared_with(&NamespaceClaims { volume: 2, ..unknown.clone() }), None);
    }

    /// A RAM volume's data ends with it: a namespace on one opened anew (the service
    /// restarted, or the volume removed and made again, or reopened by a change) shows new
    /// default IDs, so a host that reconnects drops the disk and its page cache rather than
    /// read zeros under the identity of its data (Linux compares them, `nvme_ns_ids_equal`),
    /// as nvmet gives each namespace a random UUID. A file volume's data outlives the
    /// service: its IDs stay. Both stay when a Sync changes nothing or grows the RAM
    /// volume in place.
    #[tokio::test]
    async fn a_ram_volume_opened_anew_gives_its_namespace_new_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.img").display().to_string();
        let request = |ram_spec: Option<pb::VolumeSpec>| {
            let mut volumes = vec![file_volume("f", &path, 1 << 20)];
            let mut namespaces = vec![namespace_on(2, "volumes/f")];
            if let Some(spec) = ram_spec {
                let name = "volumes/r".to_owned();
                volumes.push(pb::Volume { name, spec: Some(spec), ..Default::default() });
                namespaces.insert(0, namespace_on(1, "volumes/r"));
            }
            let subsystems = vec![open_subsystem()];
            pb::SyncRequest { volumes, subsystems, namespaces, listeners: Vec::new() }
        };
        let started = || NvmfInternal::new(Server::new(crate::Target::new(), 2));
        let differ = |a: &(String, String), b: &(String, String)| a.0 != b.0 && a.1 != b.1;

        // A restart: the same request into a new process.
        let first = started().sync_state(request(Some(ram(1 << 20, 0)))).await;
        let internal = started();
        let r = internal.sync_state(request(Some(ram(1 << 20, 0)))).await;
        assert!(all_applied(&first) && all_applied(&r), "{first:?} {r:?}");
        let (before, ids) = (shown_ids(&first), shown_ids(&r));
        assert!(differ(&before[0], &ids[0]), "the RAM namespace kept its IDs: {before:?}");
        assert_eq!(before[1], ids[1], "the file namespace's IDs changed");

        // Nothing changed, or grown in place: the data stays, so do the IDs.
        let same = internal.sync_state(request(Some(ram(1 << 20, 512)))).await;
        assert_eq!(shown_ids(&same), ids);
        let grown = internal.sync_state(request(Some(ram(2 << 20, 0)))).await;
        assert!(all_applied(&grown), "{grown:?}");
        assert_eq!(shown_ids(&grown), ids);

        // Removed and made again with the same spec: new IDs.
        internal.sync_state(request(None)).await;
        let again = internal.sync_state(request(Some(ram(2 << 20, 0)))).await;
        let again = shown_ids(&again);
        assert!(differ(&again[0], &ids[0]), "made again under its old IDs: {again:?}");
        assert_eq!(again[1], ids[1]);
        // Reopened (another block size): new IDs.
        let reopened = internal.sync_state(request(Some(ram(2 << 20, 4096)))).await;
        assert!(all_applied(&reopened), "{reopened:?}");
        let reopened = shown_ids(&reopened);
        assert!(differ(&reopened[0], &again[0]), "reopened under its old IDs: {reopened:?}");
        assert_eq!(reopened[1], ids[1]);
    }

    /// A service process on a new target keeping its state in `state_dir`.
    fn started_with_state(state_dir: &std::path::Path) -> (Arc<crate::Target>, NvmfInternal) {
        let records = Arc::new(VolumeRecords::open(state_dir).unwrap());
        let target = crate::Target::new();
        (target.clone(), NvmfInternal::new(Server::new(target, 2)).with_volume_records(records))
    }

    /// A service (and its target) that saves its namespaces' state in `dir`, as one
    /// started again finds it.
    fn started_with_namespace_store(dir: &std::path::Path) -> (Arc<crate::Target>, NvmfInternal) {
        let store = crate::persist::NamespaceStore::open(dir).unwrap();
        let target = crate::Target::new();
        target.set_namespace_store(Arc::new(store));
        (target.clone(), NvmfInternal::new(Server::new(target, 2)))
    }

    /// A file volume whose file is gone when the service opens it again (deleted, or its
    /// file system not mounted yet at boot) is not made anew: hosts would read zeros where
    /// their data was, under the namespace's old IDs. It is FAILED naming the file until
    /// the file is back, which a later Sync serves as it was; a volume deleted and created
    /// again makes a new file.
    #[tokio::test]
    async fn a_file_volume_whose_file_is_gone_is_not_made_anew() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let (file, moved) = (dir.path().join("f.img"), dir.path().join("moved.img"));
        let path = file.display().to_string();
        let request = |with_volume: bool| pb::SyncRequest {
            volumes: if with_volume { vec![file_volume("f", &path, 1 << 20)] } else { vec![] },
            subsystems: vec![open_subsystem()],
            namespaces: if with_volume { vec![namespace_on(1, "volumes/f")] } else { vec![] },
            listeners: Vec::new(),
        };
        let (target, internal) = started_with_state(&state);
        let r = internal.sync_state(request(true)).await;
        assert!(all_applied(&r), "{r:?}");
        let ids = shown_ids(&r);
        let volume = target.namespace(IDS_NQN, 1).unwrap().volume.clone();
        volume.backend().write_at(&[0xA5; 512], 4096).unwrap();
        volume.backend().flush().unwrap();
        std::fs::rename(&file, &moved).unwrap();

        // Restarted: FAILED, and no file made.
        let (target, internal) = started_with_state(&state);
        let r = internal.sync_state(request(true)).await;
        let missing = format!(
            "file volume volumes/f's file {path} is missing; it held the volume's data: \
             restore it, or delete the volume and create it again"
        );
        assert_eq!(volume_states(&r), [(pb::ApplyState::Failed as i32, missing, 0)]);
        assert_eq!(namespace_states(&r)[0].0, pb::ApplyState::Failed as i32);
        assert!(target.namespace(IDS_NQN, 1).is_none(), "served");
        assert!(!file.exists(), "made anew");

        // Back: the next Sync serves it, its data and IDs as they were.
        std::fs::rename(&moved, &file).unwrap();
        let r = internal.sync_state(request(true)).await;
        assert!(all_applied(&r), "{r:?}");
        assert_eq!(shown_ids(&r), ids);
        let mut block = [0; 512];
        let served = target.namespace(IDS_NQN, 1).unwrap();
        served.volume.backend().read_at(&mut block, 4096).unwrap();
        assert_eq!(block, [0xA5; 512]);
        drop(served);

        // Deleted, then created again: a new file.
        internal.sync_state(request(false)).await;
        std::fs::remove_file(&file).unwrap();
        let r = internal.sync_state(request(true)).await;
        assert!(all_applied(&r), "{r:?}");
        assert_eq!(std::fs::metadata(&file).unwrap().len(), 1 << 20);
    }

    /// The file of a volume opened before is missing however its path is spelt at a later
    /// opening (`.`, repeated `/`, a linked directory): FAILED, no file made.
    #[tokio::test]
    async fn a_gone_file_is_not_made_anew_under_another_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(real.join("d")).unwrap();
        std::os::unix::fs::symlink(real.join("d"), real.join("link")).unwrap();
        let (state, file) = (real.join("state"), real.join("d/f.img"));
        let request = |path: &str| pb::SyncRequest {
            volumes: vec![file_volume("f", path, 1 << 20)],
            ..Default::default()
        };
        let (_, internal) = started_with_state(&state);
        assert!(all_applied(&internal.sync_state(request(&file.display().to_string())).await));
        std::fs::remove_file(&file).unwrap();
        for spelt in ["d/./f.img", "d//f.img", "link/f.img"] {
            let path = format!("{}/{spelt}", real.display());
            let (_, internal) = started_with_state(&state);
            let r = internal.sync_state(request(&path)).await;
            let (state, message, _) = volume_states(&r).remove(0);
            assert_eq!(state, pb::ApplyState::Failed as i32, "{spelt}: {message}");
            assert!(message.contains("is missing"), "{spelt}: {message}");
            assert!(!file.exists(), "{spelt}: made anew");
        }
    }

    /// Which opening of a file volume may make its file: a volume deleted and created again
    /// under its name while the service did not see it (another creation time) is another
    /// volume, whose first opening does; within one process, also without a state
    /// directory, a volume reopened by a change does not.
    #[tokio::test]
    async fn only_a_volumes_first_opening_makes_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let (state, file) = (dir.path().join("state"), dir.path().join("g.img"));
        let path = file.display().to_string();
        let request = |seconds: i64, block_size: u32| {
            let mut volume = file_volume("g", &path, 1 << 20);
            volume.spec.as_mut().unwrap().block_size = block_size;
            volume.create_time = Some(dpu_proto::pbjson_types::Timestamp { seconds, nanos: 0 });
            pb::SyncRequest { volumes: vec![volume], ..Default::default() }
        };
        let failed = |r: &pb::SyncResponse| volume_states(r)[0].0 == pb::ApplyState::Failed as i32;
        let (_, internal) = started_with_state(&state);
        assert!(all_applied(&internal.sync_state(request(1, 0)).await));
        std::fs::remove_file(&file).unwrap();
        let (_, internal) = started_with_state(&state);
        assert!(failed(&internal.sync_state(request(1, 0)).await), "the volume created at 1");
        assert!(!file.exists());
        assert!(all_applied(&internal.sync_state(request(2, 0)).await), "created at 2");
        assert!(file.exists());

        // No state directory: the process remembers.
        let internal = NvmfInternal::new(Server::new(crate::Target::new(), 2));
        assert!(all_applied(&internal.sync_state(request(3, 0)).await));
        std::fs::remove_file(&file).unwrap();
        let r = internal.sync_state(request(3, 4096)).await;
        assert!(failed(&r) && volume_states(&r)[0].1.contains("is missing"), "{r:?}");
        assert!(!file.exists());
    }
}
