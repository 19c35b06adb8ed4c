//! Configuration of the `dpu-nvmf` binary (TOML), applied to a [`Target`].
//!
//! ```toml
//! io_threads = 16
//! write_data_budget_mib = 256   # write data asked for by R2T over all connections, 1-16384
//! discovery = "127.0.0.1:8009"
//! discovery_port_id = 65535   # its port ID (default: the highest no listener has)
//! discovery_referrals = ["192.0.2.20:8009"]   # the discovery listener's referrals
//!
//! [[listeners]]
//! port_id = 1
//! address = "127.0.0.1:4420"
//! # ANA states through this listener; unlisted groups are optimized.
//! ana_groups = [{ group = 2, state = "non-optimized" }]
//! # Other discovery services hosts discovering here are referred to.
//! referrals = ["192.0.2.20:8009"]
//!
//! [[volumes]]
//! name = "scratch"
//! kind = "ram"            # ram | file | block
//! size = 67108864
//! block_size = 512
//! max_iops = 20000        # default 0: no limit; max_bytes_per_second likewise
//!
//! [[subsystems]]
//! nqn = "nqn.2024-01.io.example:scratch"
//! serial = "DPU0001"
//! allow_any_host = true
//! max_io_queues = 8       # I/O queues per controller, 1-128 (default 32)
//! [[subsystems.namespaces]]
//! nsid = 1
//! volume = "scratch"
//! ana_group = 2           # default 1
//! read_only = false       # true: hosts see it write protected
//! hosts = []              # host NQNs that see it; empty: every host of the subsystem
//! # In-band authentication (DH-HMAC-CHAP): this host must prove it knows the secret.
//! [[subsystems.host_secrets]]
//! host = "nqn.2014-08.org.example:host1"
//! dhchap_secret = "DHHC-1:00:<base64>:"       # as `nvme gen-dhchap-key` prints it
//! dhchap_ctrl_secret = "DHHC-1:00:<base64>:"  # optional: the host checks the target too
//! dh_group = "ffdhe2048"                       # optional: null (default) or ffdhe2048-8192
//! hash = "sha512"                              # optional: sha256, sha384, sha512 (default: the host's choice)
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;
use tracing::warn;

use crate::auth::HostSecrets;
use crate::dhchap::{dh_group_id, hash_id};
use crate::internal::{NamespaceClaims, Shared};
use crate::rate_limit::RateLimit;
use crate::server::{MAX_IO_THREADS, addresses_overlap};
use crate::target::{
    AnaState, DEFAULT_ANA_GROUP, ListenerSpec, NamespaceAttrs, RegistryError, SubsystemSpec,
    Target, check_ana_group, check_namespace, check_subsystem, unused_host_secret,
};
use crate::volume::{BLOCK_SIZES, FileChange, Volume, VolumeError, check_geometry, medium};
use crate::volume_records::{FileVolume, Source, VolumeRecords};
use crate::write_budget::{DEFAULT_WRITE_BUDGET_MIB, MAX_WRITE_BUDGET_MIB};

/// Errors of a configuration (one line each, naming the object).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The file holds host secrets and users other than its owner and group may read it.
    #[error(
        "{path}: holds DH-HMAC-CHAP secrets and other users may access it (mode {mode:04o}); \
         take their access away (chmod o-rwx), e.g. 0600"
    )]
    SecretsOpenToOthers {
        /// The file.
        path: PathBuf,
        /// Its mode.
        mode: u32,
    },
    /// TOML syntax or schema, at a place in the file. Neither the line nor a string value
    /// from the file is repeated: either may hold a secret ([`parse_error`]).
    #[error("configuration: {}{message}", .at.map_or(String::new(), |(l, c)| format!("line {l}, column {c}: ")))]
    Parse {
        /// What is wrong.
        message: String,
        /// Line and column (from 1), when known.
        at: Option<(usize, usize)>,
    },
    /// A file volume's opening could not be recorded in the state directory.
    #[error("volume {name}: recording it in the state directory: {source}")]
    Record {
        /// Volume name.
        name: String,
        /// Cause.
        source: std::io::Error,
    },
    /// A volume could not be created.
    #[error("volume {name}: {source}")]
    Volume {
        /// Volume name.
        name: String,
        /// Cause.
        source: VolumeError,
    },
    /// A volume needs a path or a size it lacks.
    #[error("volume {0}: {1}")]
    VolumeSpec(String, &'static str),
    /// A block device volume's `size` is not the device's.
    #[error("volume {name}: size {given} bytes, but {path} holds {device} bytes")]
    DeviceSize {
        /// Volume name.
        name: String,
        /// The device.
        path: PathBuf,
        /// The configured size.
        given: u64,
        /// The device's size.
        device: u64,
    },
    /// Two volumes share a name.
    #[error("volume {0} defined twice")]
    DuplicateVolume(String),
    /// Two volumes are on one file or block device.
    #[error("volume {name}: {}", Shared::medium_refusal(medium, &format!("volume {other}")))]
    SharedMedium {
        /// The later volume.
        name: String,
        /// The earlier one.
        other: String,
        /// The file or device, as the file system resolves it.
        medium: PathBuf,
    },
    /// A namespace would have the volume, NGUID or UUID of another.
    #[error("namespace {nsid} of {nqn} on volume {volume}: {message}")]
    SharedClaim {
        /// Subsystem.
        nqn: String,
        /// NSID.
        nsid: u32,
        /// Its volume.
        volume: String,
        /// Which namespace has what, and why only one may ([`Shared::refusal`]).
        message: String,
    },
    /// A host's DH-HMAC-CHAP secret is malformed (the secret itself is not repeated).
    #[error("subsystem {nqn}, host {host}: {field}: {source}")]
    Secret {
        /// Subsystem.
        nqn: String,
        /// Host NQN.
        host: String,
        /// `dhchap_secret` or `dhchap_ctrl_secret`.
        field: &'static str,
        /// Cause.
        source: crate::dhchap::SecretError,
    },
    /// A namespace's `hosts` names a host its subsystem does not let in: no such host ever
    /// connects, so it would show the namespace to nobody (a typo, most often). The agent
    /// and the service's Sync refuse it too (`SubsystemSpec::host_not_let_in`).
    #[error(
        "namespace {nsid} of {nqn}: hosts names {host}, which the subsystem does not let in \
         (allow_any_host is false and its hosts do not list it)"
    )]
    HostNotLetIn {
        /// Subsystem.
        nqn: String,
        /// NSID.
        nsid: u32,
        /// The host.
        host: String,
    },
    /// A namespace names a volume that does not exist.
    #[error("namespace {nsid} of {nqn}: no volume {volume}")]
    NoVolume {
        /// Subsystem.
        nqn: String,
        /// NSID.
        nsid: u32,
        /// Volume name.
        volume: String,
    },
    /// A listener names an ANA group twice.
    #[error("listener {port_id}: ANA group {group} listed twice")]
    DuplicateAnaGroup {
        /// The listener's port ID.
        port_id: u16,
        /// The group.
        group: u32,
    },
    /// A referral is not the address of one host, or is listed twice.
    #[error("{whose}: {message}")]
    Referral {
        /// `discovery_referrals` or the listener (by port ID).
        whose: String,
        /// What is wrong, naming the entry.
        message: String,
    },
    /// A listener's address or port ID is another's, or its port is 0.
    #[error("{whose}: {message}")]
    Listener {
        /// `discovery` or the listener (by port ID).
        whose: String,
        /// What is wrong.
        message: String,
    },
    /// `io_threads` is out of range.
    #[error("io_threads: {0} is outside 1-{MAX_IO_THREADS}")]
    IoThreads(usize),
    /// `write_data_budget_mib` is out of range.
    #[error("write_data_budget_mib: {0} is outside 1-{MAX_WRITE_BUDGET_MIB}")]
    WriteDataBudget(usize),
    /// A subsystem's host secret that would be ignored: a second one for the host, or one
    /// of a host that cannot connect.
    #[error("subsystem {nqn}, host_secrets for {host}: {message}")]
    HostSecret {
        /// Subsystem.
        nqn: String,
        /// Host NQN.
        host: String,
        /// What is wrong.
        message: &'static str,
    },
    /// The registry refused an object.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Volume backend kind.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum VolumeKind {
    /// Sparse RAM.
    Ram,
    /// Sparse regular file.
    File,
    /// Whole block device.
    Block,
}

/// A volume.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeConfig {
    /// Name namespaces refer to.
    pub name: String,
    /// Backend.
    pub kind: VolumeKind,
    /// File or device path (file, block).
    pub path: Option<PathBuf>,
    /// Size in bytes (ram, file); for a block device, if given, the device's size (a
    /// check that the path names the device meant).
    pub size: Option<u64>,
    /// Logical block size: 512 or 4096. Unset: 512, or a block device's own.
    #[serde(default)]
    pub block_size: Option<u32>,
    /// Commands per second from all hosts together (0 or unset: no limit).
    #[serde(default)]
    pub max_iops: u64,
    /// Read, Write and Compare data bytes per second (0 or unset: no limit).
    #[serde(default)]
    pub max_bytes_per_second: u64,
}

/// A namespace of a subsystem.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamespaceConfig {
    /// NSID.
    pub nsid: u32,
    /// Volume name.
    pub volume: String,
    /// ANA group (1..=128).
    #[serde(default = "default_ana_group")]
    pub ana_group: u32,
    /// Write protected: hosts may read it, and commands that would modify it fail.
    #[serde(default)]
    pub read_only: bool,
    /// Host NQNs that see it; empty (default): every host of the subsystem.
    #[serde(default)]
    pub hosts: BTreeSet<String>,
}

fn default_ana_group() -> u32 {
    DEFAULT_ANA_GROUP
}

/// A subsystem.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubsystemConfig {
    /// NQN.
    pub nqn: String,
    /// Serial number.
    #[serde(default)]
    pub serial: String,
    /// Model number.
    #[serde(default = "default_model")]
    pub model: String,
    /// Any host may connect.
    #[serde(default)]
    pub allow_any_host: bool,
    /// Allowed host NQNs.
    #[serde(default)]
    pub hosts: BTreeSet<String>,
    /// DH-HMAC-CHAP secrets of hosts that must authenticate.
    #[serde(default)]
    pub host_secrets: Vec<HostSecretConfig>,
    /// The lowest controller ID given to the subsystem's controllers.
    #[serde(default = "default_min_cntlid")]
    pub min_cntlid: u16,
    /// The highest.
    #[serde(default = "default_max_cntlid")]
    pub max_cntlid: u16,
    /// Most I/O queues a controller is granted (1..=128).
    #[serde(default = "default_max_io_queues")]
    pub max_io_queues: u16,
    /// Namespaces.
    #[serde(default)]
    pub namespaces: Vec<NamespaceConfig>,
}

impl SubsystemConfig {
    /// The subsystem as the target takes it, checked as the registry checks it; host
    /// secrets parsed, none that would be ignored.
    fn checked_spec(&self) -> Result<SubsystemSpec, ConfigError> {
        let secret_hosts = self.host_secrets.iter().map(|h| h.host.as_str());
        let may_connect = |host: &str| self.hosts.contains(host);
        if let Some((i, message)) =
            unused_host_secret(self.allow_any_host, may_connect, secret_hosts)
        {
            let host = self.host_secrets.get(i).map(|h| h.host.clone()).unwrap_or_default();
            return Err(ConfigError::HostSecret { nqn: self.nqn.clone(), host, message });
        }
        let mut host_secrets = BTreeMap::new();
        for h in &self.host_secrets {
            let group = dh_group_id(&h.dh_group).unwrap_or(u8::MAX);
            let hash = hash_id(&h.hash).unwrap_or(u8::MAX);
            let parsed = HostSecrets::parse(&h.dhchap_secret, &h.dhchap_ctrl_secret, group, hash)
                .map_err(|(field, source)| ConfigError::Secret {
                nqn: self.nqn.clone(),
                host: h.host.clone(),
                field,
                source,
            })?;
            host_secrets.insert(h.host.clone(), Arc::new(parsed));
        }
        let spec = SubsystemSpec {
            nqn: self.nqn.clone(),
            serial: self.serial.clone(),
            model: self.model.clone(),
            allow_any_host: self.allow_any_host,
            hosts: self.hosts.clone(),
            host_secrets,
            cntlids: self.min_cntlid..=self.max_cntlid,
            max_io_queues: self.max_io_queues,
        };
        check_subsystem(&spec)?;
        Ok(spec)
    }
}

/// The DH-HMAC-CHAP secrets of one host (printed redacted).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSecretConfig {
    /// Host NQN.
    pub host: String,
    /// The host's secret, `DHHC-1:<hh>:<base64>:`.
    pub dhchap_secret: String,
    /// The controller's secret for bidirectional authentication.
    #[serde(default)]
    pub dhchap_ctrl_secret: String,
    /// The DH group: `null` (default) or `ffdhe2048`, `ffdhe3072`, `ffdhe4096`,
    /// `ffdhe6144`, `ffdhe8192`.
    #[serde(default)]
    pub dh_group: String,
    /// The hash: `sha256`, `sha384` or `sha512` (also as `hmac(sha256)`, ...); unset: the
    /// host's first choice.
    #[serde(default)]
    pub hash: String,
}

impl std::fmt::Debug for HostSecretConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostSecretConfig")
            .field("host", &self.host)
            .field("bidirectional", &!self.dhchap_ctrl_secret.is_empty())
            .field("dh_group", &self.dh_group)
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

fn default_min_cntlid() -> u16 {
    *crate::target::ALL_CNTLIDS.start()
}

fn default_max_cntlid() -> u16 {
    *crate::target::ALL_CNTLIDS.end()
}

fn default_max_io_queues() -> u16 {
    crate::target::DEFAULT_IO_QUEUES
}

fn default_model() -> String {
    "dpu-nvmf".into()
}

/// A listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// Port ID (unique).
    pub port_id: u16,
    /// Address and port.
    pub address: SocketAddr,
    /// Allow header digests.
    #[serde(default = "yes")]
    pub hdgst: bool,
    /// Allow data digests.
    #[serde(default = "yes")]
    pub ddgst: bool,
    /// ANA states of groups through this listener; the others are optimized.
    #[serde(default)]
    pub ana_groups: Vec<AnaGroupConfig>,
    /// Discovery services that hosts discovering through this listener are referred to.
    #[serde(default)]
    pub referrals: Vec<SocketAddr>,
}

/// The ANA state of one group through a listener.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnaGroupConfig {
    /// ANA group (1..=128).
    pub group: u32,
    /// `optimized`, `non-optimized`, `inaccessible`, `persistent-loss` or `change`.
    pub state: AnaState,
}

impl ListenerConfig {
    /// How errors name it.
    fn whose(&self) -> String {
        format!("listener {}", self.port_id)
    }

    /// Its ANA states by group, each group in range and named once.
    fn checked_ana_states(&self) -> Result<BTreeMap<u32, AnaState>, ConfigError> {
        let mut states = BTreeMap::new();
        for g in &self.ana_groups {
            check_ana_group(g.group).map_err(|e| ConfigError::Listener {
                whose: self.whose(),
                message: e.to_string(),
            })?;
            if states.insert(g.group, g.state).is_some() {
                let port_id = self.port_id;
                return Err(ConfigError::DuplicateAnaGroup { port_id, group: g.group });
            }
        }
        Ok(states)
    }
}

fn yes() -> bool {
    true
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Volume I/O operations running at once.
    #[serde(default = "default_io_threads")]
    pub io_threads: usize,
    /// MiB of write data the connections of every listener may have asked for by R2T and
    /// not yet received, beyond each queue's first R2T, a quarter of it per host
    /// ([`crate::write_budget`]).
    #[serde(default = "default_write_data_budget_mib")]
    pub write_data_budget_mib: usize,
    /// Discovery-only listener (well-known port 8009), named in no subsystem entry of the
    /// discovery log.
    pub discovery: Option<SocketAddr>,
    /// The discovery listener's port ID (the PORTID of the log's own entry); by default
    /// [`default_discovery_port_id`] ([`Config::discovery_port_id`]).
    pub discovery_port_id: Option<u16>,
    /// Discovery services that hosts discovering through `discovery` are referred to.
    #[serde(default)]
    pub discovery_referrals: Vec<SocketAddr>,
    /// Listeners.
    #[serde(default)]
    pub listeners: Vec<ListenerConfig>,
    /// Volumes.
    #[serde(default)]
    pub volumes: Vec<VolumeConfig>,
    /// Subsystems.
    #[serde(default)]
    pub subsystems: Vec<SubsystemConfig>,
}

/// `io_threads` when neither the file nor `--io-threads` sets it.
pub const DEFAULT_IO_THREADS: usize = 16;

fn default_io_threads() -> usize {
    DEFAULT_IO_THREADS
}

fn default_write_data_budget_mib() -> usize {
    DEFAULT_WRITE_BUDGET_MIB
}

impl Config {
    /// Parses TOML.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let mut config: Self = toml::from_str(text).map_err(|e| parse_error(&e, text))?;
        if !(1..=MAX_IO_THREADS).contains(&config.io_threads) {
            return Err(ConfigError::IoThreads(config.io_threads));
        }
        if !(1..=MAX_WRITE_BUDGET_MIB).contains(&config.write_data_budget_mib) {
            return Err(ConfigError::WriteDataBudget(config.write_data_budget_mib));
        }
        config.discovery_referrals =
            canonical_referrals("discovery_referrals", &config.discovery_referrals)?;
        config.check_listeners()?;
        for l in &mut config.listeners {
            l.referrals = canonical_referrals(&l.whose(), &l.referrals)?;
        }
        Ok(config)
    }

    /// Checks the listeners as the registry and the API would: a port ID once each (the
    /// discovery listener's too), no two addresses (the discovery listener's too) whose
    /// sockets would take one port (as the agent checks them, `server::addresses_overlap`:
    /// else the second bind would fail at start), a port given (port 0 would listen where
    /// the kernel picks, which no host is told) and ANA states.
    fn check_listeners(&self) -> Result<(), ConfigError> {
        let listener = |whose: String, message: String| ConfigError::Listener { whose, message };
        // 0 is no port ID (the API's are 1..=65535): referrals carry it in the log.
        let no_id = || "port_id 0 is not one (1-65535)".to_owned();
        if self.discovery.is_some() && self.discovery_port_id == Some(0) {
            return Err(listener("discovery".into(), no_id()));
        }
        if let Some(l) = self.listeners.iter().find(|l| l.port_id == 0) {
            return Err(listener(l.whose(), no_id()));
        }
        let mut port_ids = BTreeSet::new();
        match (self.discovery, self.discovery_port_id()) {
            (None, _) if self.discovery_port_id.is_some() => {
                let message = "discovery_port_id without a discovery listener".to_owned();
                return Err(listener("discovery".into(), message));
            }
            (Some(_), None) => {
                return Err(listener("discovery".into(), "no free port ID".into()));
            }
            (_, id) => port_ids.extend(id),
        }
        let mut addresses: Vec<(String, SocketAddr)> = Vec::new();
        let named = self.discovery.iter().map(|a| ("discovery".to_owned(), *a));
        let named = named.chain(self.listeners.iter().map(|l| (l.whose(), l.address)));
        for (whose, address) in named {
            if address.port() == 0 {
                return Err(listener(whose, format!("address {address}: port 0")));
            }
            let taken = addresses.iter().find(|(_, a)| addresses_overlap(address, *a));
            match taken {
                Some((other, a)) => {
                    let message = if *a == address {
                        format!("address {address} listed twice ({other} has it too)")
                    } else {
                        format!("address {address} takes the port of {other} ({a})")
                    };
                    return Err(listener(whose, message));
                }
                None => addresses.push((whose, address)),
            }
        }
        for l in &self.listeners {
            if self.discovery_port_id == Some(l.port_id) {
                let message = "port_id is the discovery listener's (discovery_port_id)".into();
                return Err(listener(l.whose(), message));
            }
            if !port_ids.insert(l.port_id) {
                return Err(listener(l.whose(), "port_id listed twice".into()));
            }
            l.checked_ana_states()?;
        }
        Ok(())
    }

    /// Reads and parses `path`. A file holding host secrets that users other than its
    /// owner and group may access is refused: whoever reads it can authenticate as those
    /// hosts (and as the target, with a controller secret). The mode is the open file's.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        use std::io::Read;
        use std::os::unix::fs::PermissionsExt;
        let read = |source| ConfigError::Read { path: path.into(), source };
        let mut file = std::fs::File::open(path).map_err(read)?;
        let mode = file.metadata().map_err(read)?.permissions().mode() & 0o7777;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(read)?;
        let config = Self::parse(&text)?;
        if mode & 0o007 != 0 && config.subsystems.iter().any(|s| !s.host_secrets.is_empty()) {
            return Err(ConfigError::SecretsOpenToOthers { path: path.into(), mode });
        }
        Ok(config)
    }

    /// Opens the volumes and fills `target` with subsystems and namespaces.
    /// Listeners are left to the caller (they need sockets).
    ///
    /// A refused configuration changes nothing: every check that needs no file is made
    /// before a volume file is created or grown, block devices (opening one changes
    /// nothing) are opened before files, and should a file still fail (what only trying
    /// tells: permissions, the file system's largest file) the files opened before it
    /// are taken back as they were.
    pub fn apply(&self, target: &Target) -> Result<(), ConfigError> {
        self.apply_recorded(target, &VolumeRecords::in_memory())
    }

    /// As [`apply`](Self::apply), a file volume's missing file made only at the volume's
    /// first opening that `records` (the service's state directory) knows of; the file's
    /// volumes are recorded once opened, and the records of those it no longer has go.
    pub fn apply_recorded(
        &self,
        target: &Target,
        records: &VolumeRecords,
    ) -> Result<(), ConfigError> {
        let volumes = self.check_volumes()?;
        let subsystems = self.check_subsystems(target, &volumes)?;
        let opened = open_volumes(volumes, records)?;
        let added = (opened.record(records))
            .and_then(|()| add_subsystems(target, subsystems, &opened.volumes));
        if added.is_err() {
            // Only another writer of the registry, or a state directory refusing a write,
            // gets here, after the checks.
            opened.undo(records);
            return added;
        }
        let wanted = |name: &str| self.volumes.iter().any(|v| v.name == name);
        if let Err(err) = records.keep_only(Source::Config, wanted) {
            warn!(%err, "forgetting the records of volumes the file no longer has failed");
        }
        Ok(())
    }

    /// The volumes by name, each checked as far as it can be without opening a file:
    /// named once, with what its kind needs, on a file or device no other is on (as the
    /// agent checks it); RAM volumes are made (that touches nothing).
    fn check_volumes(&self) -> Result<BTreeMap<&str, Backing<'_>>, ConfigError> {
        let mut volumes = BTreeMap::new();
        let mut media: BTreeMap<PathBuf, &str> = BTreeMap::new();
        for v in &self.volumes {
            let backing = Backing::check(v)?;
            if let Some(path) = backing.path() {
                let medium = medium(path);
                if let Some(other) = media.get(&medium) {
                    let (name, other) = (v.name.clone(), (*other).to_owned());
                    return Err(ConfigError::SharedMedium { name, other, medium });
                }
                media.insert(medium, &v.name);
            }
            if volumes.insert(v.name.as_str(), backing).is_some() {
                return Err(ConfigError::DuplicateVolume(v.name.clone()));
            }
        }
        Ok(volumes)
    }

    /// The subsystems and their namespaces as the target takes them, checked as the
    /// registry and the service's Sync check them (against what `target` holds already,
    /// too).
    fn check_subsystems(
        &self,
        target: &Target,
        volumes: &BTreeMap<&str, Backing<'_>>,
    ) -> Result<Vec<(SubsystemSpec, Vec<CheckedNamespace>)>, ConfigError> {
        let mut nqns = BTreeSet::new();
        let mut claimed = Claimed::of(target);
        let mut out = Vec::new();
        for s in &self.subsystems {
            let spec = s.checked_spec()?;
            if !nqns.insert(&s.nqn) || target.subsystem(&s.nqn).is_some() {
                return Err(RegistryError::SubsystemExists(s.nqn.clone()).into());
            }
            let mut nsids = BTreeSet::new();
            let mut namespaces = Vec::new();
            for n in &s.namespaces {
                let attrs = NamespaceAttrs {
                    ana_group: n.ana_group,
                    write_protected: n.read_only,
                    allowed_hosts: n.hosts.clone(),
                };
                check_namespace(n.nsid, &attrs)?;
                // The file is the whole state, so no entry is a revocation left inert.
                if let Some(host) = n.hosts.iter().find(|h| !spec.allows(h)) {
                    let (nqn, nsid, host) = (s.nqn.clone(), n.nsid, host.clone());
                    return Err(ConfigError::HostNotLetIn { nqn, nsid, host });
                }
                if !nsids.insert(n.nsid) {
                    let nqn = s.nqn.clone();
                    return Err(RegistryError::NamespaceExists { nqn, nsid: n.nsid }.into());
                }
                let backing =
                    volumes.get(n.volume.as_str()).ok_or_else(|| ConfigError::NoVolume {
                        nqn: s.nqn.clone(),
                        nsid: n.nsid,
                        volume: n.volume.clone(),
                    })?;
                let (nguid, uuid) = crate::default_namespace_ids(
                    &s.nqn,
                    n.nsid,
                    &volume_identity(backing.config()),
                    backing.contents_id(),
                );
                let volume = n.volume.clone();
                let checked = CheckedNamespace { nsid: n.nsid, volume, nguid, uuid, attrs };
                claimed.claim(&s.nqn, &checked)?;
                namespaces.push(checked);
            }
            out.push((spec, namespaces));
        }
        Ok(out)
    }

    /// The listeners' ANA states by port ID, for the caller to put in place as it serves
    /// each ([`crate::Server::serve_listener`]): before its first connection.
    pub fn ana_states(&self) -> Result<BTreeMap<u16, BTreeMap<u32, AnaState>>, ConfigError> {
        self.listeners.iter().map(|l| Ok((l.port_id, l.checked_ana_states()?))).collect()
    }

    /// The discovery listener's port ID, if it has one: `discovery_port_id`, else
    /// [`default_discovery_port_id`].
    pub fn discovery_port_id(&self) -> Option<u16> {
        self.discovery?;
        let taken = self.listeners.iter().map(|l| l.port_id).collect();
        self.discovery_port_id.or_else(|| default_discovery_port_id(&taken))
    }

    /// Specs for [`crate::Server::add_listener`], the discovery listener's first, each
    /// with its referrals.
    pub fn listener_specs(&self) -> Vec<(ListenerSpec, &[SocketAddr])> {
        let discovery = self.discovery.zip(self.discovery_port_id()).map(|(addr, port_id)| {
            let spec = ListenerSpec {
                port_id,
                addr,
                allow_hdgst: true,
                allow_ddgst: true,
                discovery_only: true,
            };
            (spec, self.discovery_referrals.as_slice())
        });
        let listeners = self.listeners.iter().map(|l| {
            let spec = ListenerSpec {
                port_id: l.port_id,
                addr: l.address,
                allow_hdgst: l.hdgst,
                allow_ddgst: l.ddgst,
                discovery_only: false,
            };
            (spec, l.referrals.as_slice())
        });
        discovery.into_iter().chain(listeners).collect()
    }
}

/// The port ID of a file's discovery listener that names none: the highest that none of
/// the file's listeners (`taken`) has, far from those the agent gives its listeners, from
/// 1 up ([`crate::target::lowest_free_port_id`]), so that they do not meet.
pub fn default_discovery_port_id(taken: &BTreeSet<u16>) -> Option<u16> {
    (1..=u16::MAX).rev().find(|id| !taken.contains(id))
}

/// A TOML error without what toml's own `Display` shows of the file: the offending line
/// (a misspelled `dhchap_secert = "DHHC-1:..."`, an unquoted secret), which may hold a
/// secret. Its message may still name the string value it refuses (serde's `invalid type:
/// string "..."`, `unknown variant `...``): that value is left out too. The place is given
/// by line and column.
fn parse_error(err: &toml::de::Error, text: &str) -> ConfigError {
    let mut message = err.message().to_owned();
    let span = err.span();
    let refused = span.clone().and_then(|s| text.get(s)).and_then(string_value);
    if let Some(value) = refused.filter(|v| !v.is_empty()) {
        // As serde quotes a string (Debug) and a variant name (backticks).
        message = message.replace(&format!("{value:?}"), "\"…\"");
        message = message.replace(&format!("`{value}`"), "`…`");
        // Any other mention of a value as long as a secret (short ones are words of
        // the message too).
        if value.len() >= 16 {
            message = message.replace(&value, "…");
        }
    }
    let at = span.map(|s| {
        let before = text.get(..s.start).unwrap_or(text);
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
    });
    ConfigError::Parse { message, at }
}

/// The string a TOML string literal (basic or literal, one or several lines) stands for;
/// `None` for anything else (a key, a number, a table).
fn string_value(literal: &str) -> Option<String> {
    if !literal.starts_with(['"', '\'']) {
        return None;
    }
    let table: toml::Table = format!("v = {literal}").parse().ok()?;
    table.get("v")?.as_str().map(str::to_owned)
}

/// Referrals checked as the API checks them (host addresses, each once, at most 64) and in
/// the form it reads them in, `ListenerSpec::referral_addrs` (an IPv4-mapped address as its
/// IPv4 one: what hosts are told, and so one address however it is spelt).
fn canonical_referrals(
    whose: &str,
    referrals: &[SocketAddr],
) -> Result<Vec<SocketAddr>, ConfigError> {
    let spec = dpu_proto::dpu::nvmf::v1::ListenerSpec {
        referrals: referrals
            .iter()
            .map(|a| dpu_proto::dpu::nvmf::v1::Referral {
                address: a.ip().to_string(),
                port: a.port().into(),
            })
            .collect(),
        ..Default::default()
    };
    spec.referral_addrs()
        .map_err(|(_, message)| ConfigError::Referral { whose: whose.to_owned(), message })
}

/// What identifies a configured volume's data: its name, kind and path, not its size (as
/// the API's [`crate::internal::namespace_ids`]), so a volume that grows, or a block
/// device's size written down, keeps the default NGUID and UUID of its namespaces.
fn volume_identity(v: &VolumeConfig) -> Vec<u8> {
    let path = v.path.as_deref().map(|p| p.as_os_str().as_encoded_bytes()).unwrap_or_default();
    let mut id = Vec::new();
    for part in [v.name.as_bytes(), format!("{:?}", v.kind).as_bytes(), path] {
        id.extend_from_slice(part);
        id.push(0);
    }
    id
}

/// A namespace checked whole, waiting for its volume to be opened.
struct CheckedNamespace {
    nsid: u32,
    volume: String,
    nguid: [u8; 16],
    uuid: [u8; 16],
    attrs: NamespaceAttrs,
}

/// What only one namespace may have ([`NamespaceClaims`]) and who has it: the namespaces
/// `target` serves, then the file's as they are checked. A file namespace's volume is
/// its name; one the target serves is on none of the file's, which are opened anew.
struct Claimed(Vec<(u32, String, NamespaceClaims<Option<String>>)>);

impl Claimed {
    fn of(target: &Target) -> Self {
        let served = target.all_namespaces().into_iter().map(|ns| {
            let (nguid, uuid) = (Some(ns.nguid), Some(ns.uuid));
            let claims = NamespaceClaims { nguid, uuid, volume: None };
            (ns.nsid, ns.subnqn.clone(), claims)
        });
        Self(served.collect())
    }

    /// Takes what namespace `n` of `nqn` has, unless another has one of them already:
    /// refused as the service's Sync refuses it (`internal::make_room`).
    fn claim(&mut self, nqn: &str, n: &CheckedNamespace) -> Result<(), ConfigError> {
        let volume = Some(n.volume.clone());
        let mine = NamespaceClaims { nguid: Some(n.nguid), uuid: Some(n.uuid), volume };
        for (nsid, other_nqn, theirs) in &self.0 {
            if let Some(shared) = mine.shared_with(theirs) {
                return Err(ConfigError::SharedClaim {
                    nqn: nqn.to_owned(),
                    nsid: n.nsid,
                    volume: n.volume.clone(),
                    message: shared.refusal(*nsid, other_nqn),
                });
            }
        }
        self.0.push((n.nsid, nqn.to_owned(), mine));
        Ok(())
    }
}

/// A volume checked as far as it can be before it is opened.
enum Backing<'a> {
    /// Made already.
    Ram(&'a VolumeConfig, Box<Volume>),
    /// A file, its block size and size checked.
    File(&'a VolumeConfig, &'a Path, u32, u64),
    /// A block device (the device decides the rest).
    Block(&'a VolumeConfig, &'a Path),
}

impl<'a> Backing<'a> {
    fn check(v: &'a VolumeConfig) -> Result<Self, ConfigError> {
        let wrap = |source| ConfigError::Volume { name: v.name.clone(), source };
        let need = |what| ConfigError::VolumeSpec(v.name.clone(), what);
        let block_size = v.block_size.unwrap_or(512);
        match v.kind {
            VolumeKind::Ram => {
                if v.path.is_some() {
                    return Err(need("a RAM volume has no path (path is for file and block)"));
                }
                let size = v.size.ok_or_else(|| need("size required"))?;
                let volume = Volume::ram(&v.name, block_size, size).map_err(wrap)?;
                Ok(Self::Ram(v, Box::new(volume)))
            }
            VolumeKind::File => {
                let size = v.size.ok_or_else(|| need("size required"))?;
                let path = v.path.as_deref().ok_or_else(|| need("path required"))?;
                check_geometry(block_size, size).map_err(wrap)?;
                Ok(Self::File(v, path, block_size, size))
            }
            VolumeKind::Block => {
                let path = v.path.as_deref().ok_or_else(|| need("path required"))?;
                if let Some(bs) = v.block_size.filter(|bs| !BLOCK_SIZES.contains(bs)) {
                    return Err(wrap(VolumeError::BadBlockSize(bs)));
                }
                Ok(Self::Block(v, path))
            }
        }
    }

    fn config(&self) -> &'a VolumeConfig {
        match self {
            Self::Ram(v, _) | Self::File(v, ..) | Self::Block(v, _) => v,
        }
    }

    /// What tells a RAM volume's data apart ([`Volume::contents_id`]): its namespaces'
    /// default IDs hash it, so each start of the service shows hosts new ones.
    fn contents_id(&self) -> Option<&[u8; 16]> {
        match self {
            Self::Ram(_, volume) => volume.contents_id(),
            Self::File(..) | Self::Block(..) => None,
        }
    }

    /// The file or device it is on, if any.
    fn path(&self) -> Option<&'a Path> {
        match self {
            Self::Ram(..) => None,
            Self::File(_, path, ..) | Self::Block(_, path) => Some(path),
        }
    }
}

/// The volumes a configuration opened, and what that changed on disk.
struct Opened<'a> {
    volumes: BTreeMap<&'a str, Arc<Volume>>,
    /// Each file volume's name, path, change to its file, and whether it was opened before
    /// ([`VolumeRecords::opened_before`]).
    files: Vec<(&'a str, &'a Path, FileChange, bool)>,
}

/// The record of the file volume `name` at `path` of the configuration file.
fn file_record<'a>(name: &'a str, path: &'a str) -> FileVolume<'a> {
    FileVolume { source: Source::Config, name, path, created: 0 }
}

impl Opened<'_> {
    /// Records the file volumes opened ([`VolumeRecords::note`]). Blocking.
    fn record(&self, records: &VolumeRecords) -> Result<(), ConfigError> {
        for (name, path, ..) in &self.files {
            let path = path.to_string_lossy();
            let noted = records.note(&file_record(name, &path));
            noted.map_err(|source| ConfigError::Record { name: (*name).to_owned(), source })?;
        }
        Ok(())
    }

    /// Takes the volume files back as they were, the last opened first, and the records
    /// of volumes not opened before.
    fn undo(&self, records: &VolumeRecords) {
        for (name, path, change, before) in self.files.iter().rev() {
            if let Err(err) = change.undo(path) {
                warn!(path = %path.display(), %err, "cannot take back a volume file");
            }
            if let (false, Err(err)) = (before, records.forget(Source::Config, name)) {
                warn!(volume = %name, %err, "cannot take back a volume's record");
            }
        }
    }
}

/// Opens checked volumes: block devices first, files last (creating or growing them; a
/// missing file only where `records` does not have its volume opened before); should one
/// fail, the files opened before it are taken back.
fn open_volumes<'a>(
    volumes: BTreeMap<&'a str, Backing<'a>>,
    records: &VolumeRecords,
) -> Result<Opened<'a>, ConfigError> {
    let (files, others): (Vec<_>, Vec<_>) =
        volumes.into_iter().partition(|(_, b)| matches!(b, Backing::File(..)));
    let mut opened = Opened { volumes: BTreeMap::new(), files: Vec::new() };
    for (name, backing) in others.into_iter().chain(files) {
        let v = backing.config();
        let wrap = |source| ConfigError::Volume { name: v.name.clone(), source };
        let volume = match backing {
            Backing::Ram(_, volume) => Ok(*volume),
            Backing::Block(_, path) => Volume::block_device(&v.name, path, v.block_size),
            Backing::File(_, path, block_size, size) => {
                let before = records.opened_before(&file_record(name, &path.to_string_lossy()));
                let file = Volume::file_noting(&v.name, path, block_size, size, !before);
                file.map(|(volume, change)| {
                    opened.files.push((name, path, change, before));
                    volume
                })
            }
        };
        let volume = match volume {
            Ok(volume) => volume,
            Err(e) => {
                opened.undo(records);
                return Err(wrap(e));
            }
        };
        // A block device's size is known only once it is open.
        if let (VolumeKind::Block, Some(given)) = (v.kind, v.size)
            && given != volume.size_bytes()
        {
            opened.undo(records);
            return Err(ConfigError::DeviceSize {
                name: v.name.clone(),
                path: v.path.clone().unwrap_or_default(),
                given,
                device: volume.size_bytes(),
            });
        }
        let limit = RateLimit { iops: v.max_iops, bytes_per_second: v.max_bytes_per_second };
        volume.set_rate_limit(limit, Instant::now());
        opened.volumes.insert(name, Arc::new(volume));
    }
    Ok(opened)
}

/// Adds checked subsystems and their namespaces on opened volumes to `target`; should the
/// registry refuse one after all, the subsystems added before it go again.
fn add_subsystems(
    target: &Target,
    subsystems: Vec<(SubsystemSpec, Vec<CheckedNamespace>)>,
    volumes: &BTreeMap<&str, Arc<Volume>>,
) -> Result<(), ConfigError> {
    let mut added = Vec::new();
    let result = subsystems.into_iter().try_for_each(|(spec, namespaces)| {
        let nqn = spec.nqn.clone();
        target.add_subsystem(spec)?;
        added.push(nqn.clone());
        for n in namespaces {
            let volume = volumes.get(n.volume.as_str()).ok_or_else(|| ConfigError::NoVolume {
                nqn: nqn.clone(),
                nsid: n.nsid,
                volume: n.volume.clone(),
            })?;
            target.add_namespace_with(&nqn, n.nsid, volume.clone(), n.nguid, n.uuid, n.attrs)?;
        }
        Ok(())
    });
    if result.is_err() {
        for nqn in added {
            let _ = target.remove_subsystem(&nqn);
        }
    }
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parse_and_apply() {
        let c = Config::parse(
            r#"
            discovery = "127.0.0.1:8009"
            [[listeners]]
            port_id = 1
            address = "127.0.0.1:4420"
            ddgst = false
            [[volumes]]
            name = "v"
            kind = "ram"
            size = 1048576
            block_size = 4096
            max_iops = 500
            [[subsystems]]
            nqn = "nqn.2024-01.io.example:a"
            serial = "S1"
            hosts = ["nqn.2014-08.org.example:h"]
            min_cntlid = 100
            max_cntlid = 199
            max_io_queues = 4
            [[subsystems.namespaces]]
            nsid = 1
            volume = "v"
            "#,
        )
        .unwrap();
        let t = Target::new();
        c.apply(&t).unwrap();
        let ns = t.namespace("nqn.2024-01.io.example:a", 1).unwrap();
        assert_eq!(ns.volume.blocks(), 256);
        assert_eq!(ns.volume.rate_limit().iops, 500);
        assert_eq!(ns.ana_group.load(std::sync::atomic::Ordering::Relaxed), 1, "the default");
        assert!(!ns.write_protected.load(std::sync::atomic::Ordering::Relaxed), "the default");
        let specs = c.listener_specs();
        let kinds: Vec<_> = specs.iter().map(|(l, _)| (l.port_id, l.discovery_only)).collect();
        assert_eq!(kinds, [(u16::MAX, true), (1, false)], "the discovery listener's first");
        assert!(!specs[1].0.allow_ddgst);
        assert_eq!(t.subsystems()[0].cntlids, 100..=199);
        assert_eq!(t.subsystems()[0].max_io_queues, 4);
    }

    /// A volume's size is not its identity: raising it (or writing a block device's size
    /// down) keeps the default NGUID and UUID, so hosts keep the disk and the saved
    /// reservations stay theirs. A RAM volume's data ends with the service: each start
    /// shows new ones (`Volume::contents_id`).
    #[test]
    fn default_namespace_ids_do_not_follow_the_volume_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.img");
        let ids = |kind: &str, size: u64| {
            let path = if kind == "file" { format!("path = {path:?}") } else { String::new() };
            let c = Config::parse(&format!(
                r#"
                [[volumes]]
                name = "v"
                kind = "{kind}"
                {path}
                size = {size}
                [[subsystems]]
                nqn = "nqn.2024-01.io.example:a"
                serial = "S1"
                [[subsystems.namespaces]]
                nsid = 1
                volume = "v"
                "#
            ))
            .unwrap();
            let t = Target::new();
            c.apply(&t).unwrap();
            let ns = t.namespace("nqn.2024-01.io.example:a", 1).unwrap();
            (ns.nguid, ns.uuid)
        };
        assert_eq!(ids("file", 1 << 20), ids("file", 2 << 20));
        let (first, second) = (ids("ram", 1 << 20), ids("ram", 1 << 20));
        assert!(first.0 != second.0 && first.1 != second.1, "{first:x?}");
    }

    /// The fuzz target's seed (crates/dpu-fuzz/seeds/nvmf_config) is a whole valid
    /// configuration, so the fuzzer starts from one that reaches every check.
    #[test]
    fn the_fuzz_seed_parses_and_applies() {
        let seed = include_str!("../../dpu-fuzz/seeds/nvmf_config/full.toml");
        let c = Config::parse(seed).unwrap();
        let t = Target::new();
        c.apply(&t).unwrap();
        assert_eq!(t.subsystems()[0].host_secrets.len(), 1);
        assert_eq!(t.subsystems()[0].max_io_queues, 4);
    }

    #[test]
    fn referrals_are_read_and_checked_as_the_api_checks_them() {
        let text = |disc: &str, listener: &str| {
            format!(
                "discovery = \"127.0.0.1:8009\"\ndiscovery_referrals = [{disc}]\n\
                 [[listeners]]\nport_id = 3\naddress = \"127.0.0.1:4420\"\nreferrals = [{listener}]\n"
            )
        };
        let c = Config::parse(&text(r#""192.0.2.20:8009""#, r#""[2001:db8::1]:8009""#)).unwrap();
        assert_eq!(c.discovery_referrals, ["192.0.2.20:8009".parse().unwrap()]);
        assert_eq!(c.listeners[0].referrals, ["[2001:db8::1]:8009".parse().unwrap()]);
        let err = |d: &str, l: &str| Config::parse(&text(d, l)).unwrap_err().to_string();
        let e = err(r#""0.0.0.0:8009""#, "");
        assert!(e.starts_with("discovery_referrals: referrals[0].address"), "{e}");
        let e = err("", r#""192.0.2.1:8009", "192.0.2.1:8009""#);
        assert!(e.starts_with("listener 3: referrals[1].address"), "{e}");
        assert!(Config::parse(&text(r#""192.0.2.20""#, "")).is_err(), "a port is required");
        // Read in their one form, as the API reads them: an IPv4-mapped address is its
        // IPv4 one (and so listed twice beside it), other spellings the address itself.
        let c = Config::parse(&text(r#""[::ffff:192.0.2.20]:8009""#, r#""[2001:DB8::0001]:8009""#))
            .unwrap();
        assert_eq!(c.discovery_referrals, ["192.0.2.20:8009".parse().unwrap()]);
        assert_eq!(c.listener_specs()[0].1, ["192.0.2.20:8009".parse().unwrap()]);
        assert_eq!(c.listeners[0].referrals, ["[2001:db8::1]:8009".parse().unwrap()]);
        let e = err(r#""192.0.2.20:8009", "[::ffff:192.0.2.20]:8009""#, "");
        assert!(e.starts_with("discovery_referrals: referrals[1].address"), "{e}");
    }

    #[test]
    fn ana_groups_states_read_only_and_hosts() {
        let text = |states: &str| {
            format!(
                r#"
                [[listeners]]
                port_id = 1
                address = "127.0.0.1:4420"
                ana_groups = [{states}]
                [[volumes]]
                name = "v"
                kind = "ram"
                size = 1048576
                [[subsystems]]
                nqn = "nqn.2024-01.io.example:a"
                allow_any_host = true
                [[subsystems.namespaces]]
                nsid = 1
                volume = "v"
                ana_group = 2
                read_only = true
                hosts = ["nqn.2014-08.org.example:h"]
                "#
            )
        };
        let configured = |states: &str| {
            let c = Config::parse(&text(states))?;
            let t = Target::new();
            c.apply(&t)?;
            let states = c.ana_states()?;
            for (spec, _) in c.listener_specs() {
                let port_id = spec.port_id;
                t.add_listener(spec)?;
                t.set_ana_states(
                    port_id,
                    &states.get(&port_id).cloned().unwrap_or_default(),
                    Instant::now(),
                )?;
            }
            Ok::<_, ConfigError>(t)
        };
        let t = configured(r#"{ group = 2, state = "inaccessible" }"#).unwrap();
        assert_eq!(t.ana_state(Some(1), 2), AnaState::Inaccessible);
        assert_eq!(t.ana_state(Some(1), 1), AnaState::Optimized);
        let (_, groups) =
            t.ana_groups("nqn.2024-01.io.example:a", "nqn.2014-08.org.example:h", Some(1));
        assert_eq!(groups[1].nsids, [1], "namespace 1 in group 2: {groups:?}");
        let ns = t.namespace("nqn.2024-01.io.example:a", 1).unwrap();
        assert!(ns.write_protected.load(std::sync::atomic::Ordering::Relaxed));
        assert!(
            ns.visible_to("nqn.2014-08.org.example:h")
                && !ns.visible_to("nqn.2014-08.org.example:x")
        );
        let e = |states: &str| configured(states).map(drop).unwrap_err().to_string();
        assert!(e(r#"{ group = 0, state = "optimized" }"#).contains("ANA group 0 out of range"));
        let twice = e(r#"{ group = 2, state = "change" }, { group = 2, state = "optimized" }"#);
        assert!(twice.contains("ANA group 2 listed twice"), "{twice}");
        assert!(e(r#"{ group = 2, state = "sideways" }"#).contains("unknown variant"));
    }

    #[test]
    fn host_secrets_parse_with_their_dh_group_and_hash_and_errors_hide_them() {
        let secret = crate::dhchap::Secret::new(&[5; 32], 1).unwrap().to_text();
        let text = |group: &str, secret: &str| {
            format!(
                r#"
                [[subsystems]]
                nqn = "nqn.2024-01.io.example:a"
                hosts = ["nqn.2014-08.org.example:h"]
                [[subsystems.host_secrets]]
                host = "nqn.2014-08.org.example:h"
                dhchap_secret = "{secret}"
                dh_group = "{group}"
                hash = "hmac(sha384)"
                "#
            )
        };
        let t = Target::new();
        let c = Config::parse(&text("ffdhe4096", &secret)).unwrap();
        assert!(!format!("{c:?}").contains(&secret[10..30]), "Debug hides the secret");
        c.apply(&t).unwrap();
        let s = t.host_secrets("nqn.2024-01.io.example:a", "nqn.2014-08.org.example:h").unwrap();
        assert_eq!(s.dh_group, dpu_nvmf_proto::auth::dh_group::FFDHE4096);
        assert_eq!(s.hash, dpu_nvmf_proto::auth::hash::SHA384);
        let md5 = text("", &secret).replace("hmac(sha384)", "md5");
        let e = Config::parse(&md5).unwrap().apply(&Target::new()).unwrap_err().to_string();
        assert!(e.contains("hash") && e.contains("unknown hash"), "{e}");
        let e = Config::parse(&text("ffdhe1024", &secret)).unwrap().apply(&Target::new());
        let e = e.unwrap_err().to_string();
        assert!(e.contains("dh_group") && e.contains("unknown DH group"), "{e}");
        let bad = secret.replace("DHHC-1:01:", "DHHC-1:01:zz");
        let e = Config::parse(&text("", &bad)).unwrap().apply(&Target::new());
        let e = e.unwrap_err().to_string();
        assert!(e.contains("dhchap_secret") && !e.contains(&bad[10..30]), "{e}");
    }

    /// A file the parser refuses names the place (line, column) but repeats no value
    /// from it: a misspelled key or a malformed line may hold a secret.
    #[test]
    fn parse_errors_name_the_place_but_not_the_secret() {
        let secret = crate::dhchap::Secret::new(&[7; 32], 1).unwrap().to_text().to_string();
        let file = |line: &str| {
            format!(
                "[[subsystems]]\nnqn = \"nqn.2024-01.io.example:a\"\n\
                 hosts = [\"nqn.2014-08.org.example:h\"]\n\
                 [[subsystems.host_secrets]]\nhost = \"nqn.2014-08.org.example:h\"\n{line}\n"
            )
        };
        let volume = "dhchap_secret = \"x\"\n[[volumes]]\nname = \"v\"\n";
        let cases = [
            // A misspelled key in a table that denies unknown fields.
            (format!("dhchap_secert = \"{secret}\""), "line 6, column 1:", "dhchap_secert"),
            // An unquoted secret: a TOML syntax error.
            (format!("dhchap_secret = {secret}"), "line 6, column 17:", "string"),
            // A secret where a name or a number is expected: serde quotes the value.
            (format!("{volume}kind = \"{secret}\""), "line 9, column 8:", "unknown variant"),
            (format!("{volume}kind = \"ram\"\nsize = '{secret}'"), "line 10, column 8:", "u64"),
            (format!("{volume}kind = '''\n{secret}'''"), "line 9, column 8:", "variant"),
        ];
        for (line, place, names) in &cases {
            let e = Config::parse(&file(line)).unwrap_err().to_string();
            for piece in secret.as_bytes().windows(20) {
                let piece = std::str::from_utf8(piece).unwrap();
                assert!(!e.contains(piece), "{line}: the error repeats the secret: {e}");
            }
            assert!(e.contains(place) && e.contains(names), "{line}: {e}");
        }
    }

    #[test]
    fn write_data_budget_is_one_mib_to_16_gib() {
        let mib = |text: &str| Config::parse(text).map(|c| c.write_data_budget_mib);
        assert_eq!(mib("write_data_budget_mib = 16384").unwrap(), 16384);
        assert_eq!(mib("write_data_budget_mib = 1").unwrap(), 1);
        assert_eq!(mib("").unwrap(), 256, "the default");
        for n in ["0", "16385", "9223372036854775807"] {
            let e = mib(&format!("write_data_budget_mib = {n}")).unwrap_err().to_string();
            assert_eq!(e, format!("write_data_budget_mib: {n} is outside 1-16384"));
        }
    }

    #[test]
    fn io_threads_is_one_to_the_blocking_pool_size() {
        assert_eq!(Config::parse("io_threads = 512").unwrap().io_threads, 512);
        assert_eq!(Config::parse("").unwrap().io_threads, 16, "the default");
        for n in ["0", "513", "9223372036854775807"] {
            let e = Config::parse(&format!("io_threads = {n}")).unwrap_err().to_string();
            assert_eq!(e, format!("io_threads: {n} is outside 1-512"));
        }
    }

    /// A namespace naming a host its subsystem does not let in is refused, naming both;
    /// one naming a host the subsystem lists, or of a subsystem open to any host, is not.
    #[test]
    fn a_namespace_names_only_hosts_its_subsystem_lets_in() {
        let text = |allow_any: bool, host: &str| {
            format!(
                "[[volumes]]\nname = \"v\"\nkind = \"ram\"\nsize = 1048576\n\
                 [[subsystems]]\nnqn = \"nqn.2024-01.io.example:a\"\n\
                 allow_any_host = {allow_any}\nhosts = [\"nqn.2014-08.org.example:h\"]\n\
                 [[subsystems.namespaces]]\nnsid = 1\nvolume = \"v\"\nhosts = [\"{host}\"]\n"
            )
        };
        let apply = |text: String| Config::parse(&text).unwrap().apply(&Target::new());
        let (h, x) = ("nqn.2014-08.org.example:h", "nqn.2014-08.org.example:x");
        apply(text(false, h)).unwrap();
        apply(text(true, x)).unwrap();
        let e = apply(text(false, x)).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "namespace 1 of nqn.2024-01.io.example:a: hosts names {x}, which the subsystem \
                 does not let in (allow_any_host is false and its hosts do not list it)"
            )
        );
    }

    /// Host secrets the agent's API refuses: a second one for a host (the last would
    /// win) and one of a host that cannot connect.
    #[test]
    fn host_secrets_that_would_be_ignored_are_refused() {
        let secret = crate::dhchap::Secret::new(&[5; 32], 1).unwrap().to_text();
        let entry = |host: &str| {
            format!(
                "[[subsystems.host_secrets]]\nhost = \"{host}\"\ndhchap_secret = \"{}\"\n",
                secret.as_str()
            )
        };
        let text = |allow_any: bool, entries: &str| {
            format!(
                "[[subsystems]]\nnqn = \"nqn.2024-01.io.example:a\"\n\
                 allow_any_host = {allow_any}\nhosts = [\"nqn.2014-08.org.example:h\"]\n{entries}"
            )
        };
        let apply = |text: String| {
            let t = Target::new();
            Config::parse(&text).unwrap().apply(&t).map(|()| t)
        };
        let (h, x) = ("nqn.2014-08.org.example:h", "nqn.2014-08.org.example:x");
        apply(text(false, &entry(h))).unwrap();
        let t = apply(text(true, &(entry(h) + &entry(x)))).unwrap();
        assert!(t.host_secrets("nqn.2024-01.io.example:a", x).is_some());
        let twice = apply(text(true, &(entry(h) + &entry(h)))).map(drop).unwrap_err();
        assert_eq!(
            twice.to_string(),
            format!("subsystem nqn.2024-01.io.example:a, host_secrets for {h}: listed twice")
        );
        let e = apply(text(false, &entry(x))).map(drop).unwrap_err().to_string();
        assert!(e.contains(x) && e.contains("cannot connect"), "{e}");
    }

    /// A file with host secrets is refused when others may access it, naming it; one
    /// without secrets, or with them and open to its group, is not.
    #[test]
    fn a_file_with_secrets_open_to_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let secret = crate::dhchap::Secret::new(&[5; 32], 1).unwrap().to_text();
        let with_secret = format!(
            "[[subsystems]]\nnqn = \"nqn.2024-01.io.example:a\"\nallow_any_host = true\n\
             [[subsystems.host_secrets]]\nhost = \"nqn.2014-08.org.example:h\"\n\
             dhchap_secret = \"{}\"\n",
            secret.as_str()
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nvmf.toml");
        let load = |text: &str, mode| {
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            Config::load(&path)
        };
        for mode in [0o644, 0o604, 0o602] {
            let e = load(&with_secret, mode).unwrap_err().to_string();
            let expected = format!("{}: holds DH-HMAC-CHAP secrets", path.display());
            assert!(e.starts_with(&expected) && e.contains(&format!("{mode:04o}")), "{e}");
            assert!(!e.contains(&secret[10..30]), "{e}");
        }
        assert_eq!(load(&with_secret, 0o640).unwrap().subsystems[0].host_secrets.len(), 1);
        assert_eq!(load("io_threads = 8\n", 0o644).unwrap().io_threads, 8);
        let missing = Config::load(&dir.path().join("none.toml")).unwrap_err().to_string();
        assert!(missing.starts_with("reading ") && missing.contains("none.toml"), "{missing}");
    }

    /// A configuration refused for any reason, however late it is found, neither creates
    /// nor grows a volume file: what needs no file is checked first, block devices are
    /// opened before files, and files opened before one that fails are taken back.
    #[test]
    fn a_refused_configuration_makes_or_grows_no_volume_file() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.img"), dir.path().join("b.img"));
        std::fs::write(&b, [7; 4096]).unwrap();
        // A regular file no volume is on, for a block volume that fails to open.
        let not_a_device = dir.path().join("d.img");
        std::fs::write(&not_a_device, [0; 4096]).unwrap();
        let base = format!(
            "[[volumes]]\nname = \"a\"\nkind = \"file\"\npath = \"{}\"\nsize = 1048576\n\
             [[volumes]]\nname = \"b\"\nkind = \"file\"\npath = \"{}\"\nsize = 1048576\n\
             [[subsystems]]\nnqn = \"nqn.2024-01.io.example:a\"\nallow_any_host = true\n\
             [[subsystems.namespaces]]\nnsid = 1\nvolume = \"a\"\n\
             [[subsystems.namespaces]]\nnsid = 2\nvolume = \"b\"\n",
            a.display(),
            b.display()
        );
        let ns = |extra: &str| format!("[[subsystems.namespaces]]\nnsid = 3\n{extra}\n");
        let sub =
            |extra: &str| format!("[[subsystems]]\nnqn = \"nqn.2024-01.io.example:c\"\n{extra}\n");
        let vol = |kind: &str, path: &Path| {
            format!(
                "[[volumes]]\nname = \"c\"\nkind = \"{kind}\"\npath = \"{}\"\nsize = 4096\n",
                path.display()
            )
        };
        let secret = "[[subsystems.host_secrets]]\nhost = \"nqn.2014-08.org.example:h\"\n\
                      dhchap_secret = \"DHHC-1:00:zz:\"";
        let refusals = [
            (ns("volume = \"none\""), "no volume none"),
            (ns("volume = \"a\"\nana_group = 0"), "ANA group 0 out of range"),
            ("[[subsystems.namespaces]]\nnsid = 2\nvolume = \"a\"\n".into(), "namespace 2 already"),
            ("[[subsystems]]\nnqn = \"nqn.2024-01.io.example:a\"\n".into(), "already exists"),
            (sub("min_cntlid = 5\nmax_cntlid = 4"), "controller ID range 5-4"),
            (sub(&format!("allow_any_host = true\n{secret}")), "dhchap_secret"),
            (sub("max_io_queues = 0"), "0 I/O queues per controller"),
            (vol("block", &not_a_device), "not a block device"),
            (vol("file", &b), "is the medium of volume b"),
            (vol("file", &dir.path().join("missing/c.img")), "missing/c.img"),
            (vol("file", dir.path()), dir.path().to_str().unwrap()),
        ];
        for (extra, expected) in &refusals {
            let c = Config::parse(&format!("{base}{extra}")).unwrap();
            let t = Target::new();
            let e = c.apply(&t).unwrap_err().to_string();
            assert!(e.contains(expected), "{expected}: {e}");
            assert!(!a.exists(), "{expected}: a volume file was left behind");
            assert_eq!(std::fs::metadata(&b).unwrap().len(), 4096, "{expected}: a file grew");
            assert!(t.subsystems().is_empty(), "{expected}: the target changed");
        }
        assert_eq!(std::fs::read(&b).unwrap(), [7; 4096], "its data stays");
        // The same without the refusal applies, making the one and growing the other.
        Config::parse(&base).unwrap().apply(&Target::new()).unwrap();
        assert_eq!(std::fs::metadata(&a).unwrap().len(), 1 << 20);
        assert_eq!(std::fs::metadata(&b).unwrap().len(), 1 << 20);
    }

    /// Listeners are checked when the file is read, before anything is opened or bound:
    /// a port given, port IDs and addresses once each, ANA groups in range and once each.
    #[test]
    fn listeners_are_checked_when_the_file_is_read() {
        let listener = |port_id: u16, address: &str, groups: &str| {
            format!(
                "[[listeners]]\nport_id = {port_id}\naddress = \"{address}\"\nana_groups = [{groups}]\n"
            )
        };
        let one = listener(1, "127.0.0.1:4420", r#"{ group = 2, state = "change" }"#);
        assert_eq!(Config::parse(&one).unwrap().listeners.len(), 1);
        let e = |text: &str| Config::parse(text).unwrap_err().to_string();
        assert_eq!(e(&listener(1, "127.0.0.1:0", "")), "listener 1: address 127.0.0.1:0: port 0");
        assert_eq!(e("discovery = \"[::1]:0\""), "discovery: address [::1]:0: port 0");
        let twice = one.clone() + &listener(1, "127.0.0.1:4421", "");
        assert_eq!(e(&twice), "listener 1: port_id listed twice");
        // Port IDs are 1..=65535, as the API's; the discovery listener's is one of them.
        assert_eq!(
            e(&listener(0, "127.0.0.1:4420", "")),
            "listener 0: port_id 0 is not one (1-65535)"
        );
        let disc =
            |id: u16| format!("discovery = \"127.0.0.1:8009\"\ndiscovery_port_id = {id}\n{one}");
        assert_eq!(
            e(&disc(1)),
            "listener 1: port_id is the discovery listener's (discovery_port_id)"
        );
        assert_eq!(e(&disc(0)), "discovery: port_id 0 is not one (1-65535)");
        assert_eq!(Config::parse(&disc(2)).unwrap().discovery_port_id(), Some(2));
        assert_eq!(
            e(&format!("discovery_port_id = 2\n{one}")),
            "discovery: discovery_port_id without a discovery listener"
        );
        let same_address = one.clone() + &listener(2, "127.0.0.1:4420", "");
        assert_eq!(
            e(&same_address),
            "listener 2: address 127.0.0.1:4420 listed twice (listener 1 has it too)"
        );
        let discovery = format!("discovery = \"127.0.0.1:4420\"\n{one}");
        assert_eq!(
            e(&discovery),
            "listener 1: address 127.0.0.1:4420 listed twice (discovery has it too)"
        );
        let group = |g: &str| e(&listener(1, "127.0.0.1:4420", g));
        let out_of_range = group(r#"{ group = 129, state = "change" }"#);
        assert!(
            out_of_range.starts_with("listener 1: ANA group 129 out of range"),
            "{out_of_range}"
        );
        let dup = group(r#"{ group = 2, state = "change" }, { group = 2, state = "optimized" }"#);
        assert_eq!(dup, "listener 1: ANA group 2 listed twice");
    }

    /// Addresses whose sockets would take the same port are refused as the agent refuses
    /// them (`server::addresses_overlap`), naming both listeners, rather than the second
    /// bind failing with EADDRINUSE at start: `[::]` is bound dual-stack.
    #[test]
    fn overlapping_listener_addresses_are_refused_naming_both() {
        let listener = |port_id: u16, address: &str| {
            format!("[[listeners]]\nport_id = {port_id}\naddress = \"{address}\"\n")
        };
        let e = |text: &str| Config::parse(text).unwrap_err().to_string();
        let dual = listener(1, "0.0.0.0:4420") + &listener(2, "[::]:4420");
        assert_eq!(
            e(&dual),
            "listener 2: address [::]:4420 takes the port of listener 1 (0.0.0.0:4420)"
        );
        let wildcard = format!("discovery = \"[::]:4420\"\n{}", listener(1, "127.0.0.1:4420"));
        assert_eq!(
            e(&wildcard),
            "listener 1: address 127.0.0.1:4420 takes the port of discovery ([::]:4420)"
        );
        let apart = listener(1, "0.0.0.0:4420") + &listener(2, "[::]:4421");
        assert_eq!(Config::parse(&apart).unwrap().listeners.len(), 2);
        let v4_and_v6_host = listener(1, "0.0.0.0:4420") + &listener(2, "[2001:db8::1]:4420");
        assert_eq!(Config::parse(&v4_and_v6_host).unwrap().listeners.len(), 2);
    }

    #[test]
    fn errors_name_the_object() {
        assert!(Config::parse("bogus = 1").is_err());
        let c = Config::parse(
            r#"
            [[subsystems]]
            nqn = "nqn.2024-01.io.example:a"
            [[subsystems.namespaces]]
            nsid = 1
            volume = "missing"
            "#,
        )
        .unwrap();
        let e = c.apply(&Target::new()).unwrap_err().to_string();
        assert!(e.contains("missing"), "{e}");
        let c = Config::parse(
            "[[subsystems]]\nnqn = \"nqn.2024-01.io.example:a\"\nmin_cntlid = 5\nmax_cntlid = 4\n",
        )
        .unwrap();
        let e = c.apply(&Target::new()).unwrap_err().to_string();
        assert!(e.contains("controller ID range 5-4"), "{e}");
        let c = Config::parse("[[volumes]]\nname = \"r\"\nkind = \"ram\"\n").unwrap();
        assert!(c.apply(&Target::new()).unwrap_err().to_string().contains("size required"));
    }

    /// The file is held to what the service's Sync holds namespaces to (the same check,
    /// `NamespaceClaims::shared_with`): no two namespaces on one volume, whether of one
    /// subsystem or two, refused naming both and changing nothing.
    #[test]
    fn two_namespaces_on_one_volume_are_refused_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.img");
        let volume = format!(
            "[[volumes]]\nname = \"v\"\nkind = \"file\"\npath = \"{}\"\nsize = 1048576\n",
            path.display()
        );
        let sub = |nqn: &str, nsid: u32| {
            format!(
                "[[subsystems]]\nnqn = \"nqn.2024-01.io.example:{nqn}\"\nallow_any_host = true\n\
                 [[subsystems.namespaces]]\nnsid = {nsid}\nvolume = \"v\"\n"
            )
        };
        let one_subsystem =
            format!("{}[[subsystems.namespaces]]\nnsid = 2\nvolume = \"v\"\n", sub("a", 1));
        for (text, expected) in [
            (
                format!("{volume}{one_subsystem}"),
                "namespace 2 of nqn.2024-01.io.example:a on volume v: namespace 1 of \
                 nqn.2024-01.io.example:a has the volume already",
            ),
            (
                format!("{volume}{}{}", sub("a", 1), sub("b", 7)),
                "namespace 7 of nqn.2024-01.io.example:b on volume v: namespace 1 of \
                 nqn.2024-01.io.example:a has the volume already",
            ),
        ] {
            let t = Target::new();
            let e = Config::parse(&text).unwrap().apply(&t).unwrap_err().to_string();
            assert!(e.starts_with(expected), "{e}");
            assert!(t.subsystems().is_empty(), "the target changed");
            assert!(!path.exists(), "the refused file made its volume file");
        }
    }

    /// Nor may a namespace of the file have an NGUID or UUID a namespace the target
    /// serves already has (the file's are derived, so only one added otherwise can).
    #[test]
    fn a_namespace_with_the_ids_of_one_served_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::parse(&format!(
            "[[volumes]]\nname = \"v\"\nkind = \"file\"\npath = {:?}\nsize = 4096\n\
             [[subsystems]]\nnqn = \"nqn.2024-01.io.example:a\"\nallow_any_host = true\n\
             [[subsystems.namespaces]]\nnsid = 1\nvolume = \"v\"\n",
            dir.path().join("v.img")
        ))
        .unwrap();
        let (nguid, uuid) = crate::default_namespace_ids(
            "nqn.2024-01.io.example:a",
            1,
            &volume_identity(&c.volumes[0]),
            None,
        );
        let t = Target::new();
        let other = "nqn.2024-01.io.example:other";
        t.add_subsystem(SubsystemSpec {
            nqn: other.into(),
            serial: String::new(),
            model: "m".into(),
            allow_any_host: true,
            hosts: BTreeSet::new(),
            host_secrets: BTreeMap::new(),
            cntlids: crate::target::ALL_CNTLIDS,
            max_io_queues: 1,
        })
        .unwrap();
        let ram = || Arc::new(Volume::ram("r", 512, 4096).unwrap());
        let attrs = || NamespaceAttrs {
            ana_group: DEFAULT_ANA_GROUP,
            write_protected: false,
            allowed_hosts: BTreeSet::new(),
        };
        t.add_namespace_with(other, 5, ram(), nguid, [9; 16], attrs()).unwrap();
        let e = c.apply(&t).unwrap_err().to_string();
        let says = format!("namespace 5 of {other} has NGUID {}", hex::encode(nguid));
        assert!(e.contains(&says), "{e}");
        assert_eq!(t.subsystems().len(), 1, "the target changed");
        t.remove_namespace(other, 5).unwrap();
        t.add_namespace_with(other, 5, ram(), [9; 16], uuid, attrs()).unwrap();
        let e = c.apply(&t).unwrap_err().to_string();
        assert!(e.contains(&format!("namespace 5 of {other} has UUID")), "{e}");
        t.remove_namespace(other, 5).unwrap();
        c.apply(&t).unwrap();
    }

    /// With a state directory, a file volume whose file is gone at a later start is
    /// refused naming the file, and none is made: its data was there. A volume the file no
    /// longer has is forgotten, and makes its file when it comes back.
    #[test]
    fn a_file_volume_whose_file_is_gone_at_a_start_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (state, image) = (dir.path().join("state"), dir.path().join("v.img"));
        let with_v =
            format!("[[volumes]]\nname = \"v\"\nkind = \"file\"\npath = {image:?}\nsize = 4096\n");
        let start = |text: &str| {
            let records = VolumeRecords::open(&state).unwrap();
            Config::parse(text).unwrap().apply_recorded(&Target::new(), &records)
        };
        start(&with_v).unwrap();
        std::fs::remove_file(&image).unwrap();
        let e = start(&with_v).unwrap_err().to_string();
        let missing = format!("volume v: file volume v's file {} is missing", image.display());
        assert!(e.starts_with(&missing), "{e}");
        assert!(!image.exists(), "made anew");
        start("").unwrap();
        start(&with_v).unwrap();
        assert_eq!(std::fs::metadata(&image).unwrap().len(), 4096, "made once forgotten");
    }

    /// Two volumes on one file or device (spelt alike or not) would show hosts one medium
    /// as two: refused naming both, as the agent refuses them, before any file is made.
    #[test]
    fn two_volumes_on_one_path_are_refused_naming_both() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.img");
        let vol = |name: &str, p: &str| {
            format!(
                "[[volumes]]\nname = \"{name}\"\nkind = \"file\"\npath = \"{p}\"\nsize = 4096\n"
            )
        };
        let plain = path.display().to_string();
        let dotted = format!("{}/./v.img", dir.path().display());
        for (first, second) in [(&plain, &plain), (&plain, &dotted)] {
            let text = vol("a", first) + &vol("b", second);
            let e = Config::parse(&text).unwrap().apply(&Target::new()).unwrap_err().to_string();
            let refusal = format!(
                "volume b: {plain} is the medium of volume a; two volumes on one file or block \
                 device would show hosts one medium as two namespaces"
            );
            assert_eq!(e, refusal);
            assert!(!path.exists(), "the refused file made its volume file");
        }
        // An existing file reached through a symbolic link is the same medium too.
        std::fs::write(&path, [0; 4096]).unwrap();
        let link = dir.path().join("link.img");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let text = vol("a", &plain) + &vol("b", &link.display().to_string());
        let e = Config::parse(&text).unwrap().apply(&Target::new()).unwrap_err().to_string();
        assert!(e.starts_with("volume b: "), "{e}");
        assert!(e.contains("is the medium of volume a"), "{e}");
        let apart = vol("a", &plain) + &vol("b", &dir.path().join("w.img").display().to_string());
        Config::parse(&apart).unwrap().apply(&Target::new()).unwrap();
    }

    /// A field the volume's kind has no use for is refused, not silently ignored: a RAM
    /// volume given a path is most likely a file volume with the wrong kind.
    #[test]
    fn a_ram_volume_with_a_path_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meant-as-file.img");
        let c = Config::parse(&format!(
            "[[volumes]]\nname = \"r\"\nkind = \"ram\"\npath = \"{}\"\nsize = 4096\n",
            path.display()
        ))
        .unwrap();
        let target = Target::new();
        let e = c.apply(&target).unwrap_err().to_string();
        assert_eq!(e, "volume r: a RAM volume has no path (path is for file and block)");
        assert!(!path.exists());
        let ok = Config::parse("[[volumes]]\nname = \"r\"\nkind = \"ram\"\nsize = 4096\n").unwrap();
        ok.apply(&target).unwrap();
    }
}
