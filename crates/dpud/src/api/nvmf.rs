//! `dpu.nvmf.v1.NvmfService`: volumes, subsystems, namespaces and listeners of the NVMe/TCP
//! target as durable desired state, applied by the nvmf service process (`dpu-nvmf --socket`)
//! through its whole-state `NvmfInternalService.Sync`.
//!
//! Everything is validated before it is stored, including references: a namespace names an
//! existing subsystem (its parent) and volume, and a volume or subsystem still used by a
//! namespace cannot be deleted (FAILED_PRECONDITION). Namespaces are stored under their own
//! collection (`nvmf-namespaces/{s}/{nsid}`) and shown as `subsystems/{s}/namespaces/{nsid}`.
//!
//! A check and its write happen under the store's writer lock (see `resource.rs`), so a
//! namespace created while its volume is being deleted cannot pass both checks.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use dpu_nvmf::internal::{
    INTERNAL_MESSAGE_LIMIT, NamespaceClaims, REPLY_FACTOR, Shared, namespace_ids_ahead,
    parse_namespace_id, same_block_size_spelled_as, volume_size_and_backing,
};
use dpu_nvmf::server::addresses_overlap;
use dpu_nvmf::target::{
    ANA_GROUP_MAX, MAX_NSID, MODEL_MAX_LEN, SERIAL_MAX_LEN, validate_ascii, validate_nqn,
};
use dpu_nvmf::volume::{BLOCK_SIZES, MAX_FILE_VOLUME, MAX_RAM_VOLUME};
use dpu_nvmf_proto::fabrics::DISCOVERY_NQN;
use dpu_pki::Role;
use dpu_proto::dpu::nvmf::v1::nvmf_internal_service_client::NvmfInternalServiceClient;
use dpu_proto::dpu::nvmf::v1::nvmf_service_server::NvmfService;
use dpu_proto::dpu::nvmf::v1::volume_spec::Backend;
use dpu_proto::dpu::nvmf::v1::{
    AnaState, ApplyState, ClearHostWriteProtectionRequest, ClearHostWriteProtectionResponse,
    CreateListenerRequest, CreateNamespaceRequest, CreateSubsystemRequest, CreateVolumeRequest,
    DeleteListenerRequest, DeleteNamespaceRequest, DeleteSubsystemRequest, DeleteVolumeRequest,
    GetListenerRequest, GetNamespaceRequest, GetNvmfStatsRequest, GetSubsystemRequest,
    GetVolumeRequest, ListListenersRequest, ListListenersResponse, ListNamespacesRequest,
    ListNamespacesResponse, ListSubsystemsRequest, ListSubsystemsResponse, ListVolumesRequest,
    ListVolumesResponse, Listener, ListenerSpec, ListenerStatus, Namespace, NamespaceSpec,
    NamespaceStatus, NvmfStats, ObjectStatus, Subsystem, SubsystemSpec, SubsystemStatus,
    SyncRequest, TransportType, UpdateListenerRequest, UpdateNamespaceRequest,
    UpdateSubsystemRequest, UpdateVolumeRequest, Volume, VolumeSpec, VolumeStatus,
};
use dpu_store::Object;
use pbjson_types::Empty;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};

use super::resource::{
    CreateRequest, Kind, Resources, UpdateRequest, creation_times, fits_one_sync, required,
    with_written,
};
use super::{answered, caller_role, in_use, invalid, parse_name, validate_id};
use crate::services::{Reconciler, ServiceHandle, Services, Synced};

/// The service that applies these kinds.
pub const NVMF_SERVICE: &str = "nvmf";
const NAMESPACE_STORE: &str = "nvmf-namespaces";

/// `collection/{id}` with a valid id.
fn simple_key(name: &str, collection: &str, field: &str) -> Result<String, Status> {
    let id = parse_name(name, collection, field)?;
    validate_id(id, field)?;
    Ok(name.to_owned())
}

/// An NSID in its canonical decimal form, 1..=MAX_NSID.
fn parse_nsid(text: &str, field: &str) -> Result<u32, Status> {
    match text.parse::<u32>() {
        Ok(n) if (1..=MAX_NSID).contains(&n) && n.to_string() == text => Ok(n),
        _ => Err(invalid(field, format!("NSID must be 1..{MAX_NSID} in decimal, got {text:?}"))),
    }
}

/// An explicit namespace identifier (NGUID or UUID) as the service reads it: its text has
/// the `form` the field takes and is not all zero, which means none (NVMe Base 2.0
/// §4.7.1, §4.7.2). Empty: the service derives one.
fn check_namespace_id(text: &str, field: &str, form: &str) -> Result<(), Status> {
    if text.is_empty() {
        return Ok(());
    }
    parse_namespace_id(text, form).map(drop).map_err(|e| invalid(field, e))
}

/// A status as the service reported it, with the generation that was sent.
#[derive(Clone, Default)]
pub struct Observed<S> {
    pub generation: i64,
    pub status: S,
}

fn pending() -> ObjectStatus {
    ObjectStatus { state: ApplyState::Pending.into(), ..Default::default() }
}

/// The reported status when it is about `generation`, otherwise PENDING.
fn current<S: Default>(
    observed: Option<Observed<S>>,
    generation: i64,
    apply: impl Fn(&mut S) -> &mut Option<ObjectStatus>,
) -> Observed<S> {
    match observed {
        Some(o) if o.generation == generation => o,
        _ => {
            let mut status = S::default();
            *apply(&mut status) = Some(pending());
            Observed { generation, status }
        }
    }
}

pub struct VolumeKind;

impl Kind for VolumeKind {
    type Spec = VolumeSpec;
    type Status = Observed<VolumeStatus>;
    type Proto = Volume;
    const FIELD: &'static str = "volume";
    const STORE: &'static str = "volumes";
    const UPDATABLE: &'static [&'static str] = &[
        "spec",
        "spec.ram",
        "spec.file",
        "spec.block_device",
        "spec.block_size",
        "spec.max_iops",
        "spec.max_bytes_per_second",
    ];

    fn key(name: &str, field: &str) -> Result<String, Status> {
        simple_key(name, Self::STORE, field)
    }

    /// A RAM or file volume's block size 0 and 512 are one size: an update that spells it
    /// the other way keeps the stored spelling, which the default IDs of the namespaces
    /// on it hash (so `dpuctl apply` of `blockSize: 512` over a volume created without
    /// one shows its hosts no new namespace).
    fn keep_stored(new: &mut VolumeSpec, stored: &VolumeSpec) {
        *new = same_block_size_spelled_as(std::mem::take(new), stored);
    }

    fn validate(spec: &VolumeSpec, field: &str) -> Result<(), Status> {
        // 0: 512, or a block device's own logical block size (checked when opened).
        let bs = if spec.block_size == 0 { 512 } else { spec.block_size };
        if !BLOCK_SIZES.contains(&bs) {
            return Err(invalid(&format!("{field}.block_size"), "must be 512 or 4096"));
        }
        let size = |size: u64, f: &str| {
            if size == 0 || !size.is_multiple_of(u64::from(bs)) {
                Err(invalid(
                    &format!("{field}.{f}.size_bytes"),
                    format!("must be a positive multiple of the block size {bs}"),
                ))
            } else {
                Ok(())
            }
        };
        let path = |p: &str, f: &str| {
            if p.is_empty() || !p.starts_with('/') || p.contains('\0') {
                Err(invalid(&format!("{field}.{f}.path"), "must be an absolute path"))
            } else {
                Ok(())
            }
        };
        match &spec.backend {
            None => {
                Err(invalid(&format!("{field}.backend"), "required: ram, file or block_device"))
            }
            Some(Backend::Ram(r)) if r.size_bytes > MAX_RAM_VOLUME => Err(invalid(
                &format!("{field}.ram.size_bytes"),
                format!("at most {MAX_RAM_VOLUME} (1 TiB)"),
            )),
            Some(Backend::Ram(r)) => size(r.size_bytes, "ram"),
            Some(Backend::File(f)) => {
                path(&f.path, "file")?;
                size(f.size_bytes, "file")?;
                if f.size_bytes > MAX_FILE_VOLUME {
                    return Err(invalid(
                        &format!("{field}.file.size_bytes"),
                        format!("at most {MAX_FILE_VOLUME} (2^63 - 1, the largest file size)"),
                    ));
                }
                Ok(())
            }
            Some(Backend::BlockDevice(b)) => path(&b.path, "block_device"),
        }
    }

    fn merge(into: &mut VolumeSpec, from: &VolumeSpec, path: &str) {
        let wanted = |b: &Backend| match path {
            "spec.ram" => matches!(b, Backend::Ram(_)),
            "spec.file" => matches!(b, Backend::File(_)),
            "spec.block_device" => matches!(b, Backend::BlockDevice(_)),
            _ => false,
        };
        match path {
            "spec.block_size" => into.block_size = from.block_size,
            "spec.max_iops" => into.max_iops = from.max_iops,
            "spec.max_bytes_per_second" => into.max_bytes_per_second = from.max_bytes_per_second,
            _ => {
                if from.backend.as_ref().is_some_and(wanted) {
                    into.backend.clone_from(&from.backend);
                } else if into.backend.as_ref().is_some_and(wanted) {
                    // The mask names this backend and the message has none: clear it.
                    into.backend = None;
                }
            }
        }
    }

    fn status(observed: Option<Self::Status>, generation: i64) -> Self::Status {
        current(observed, generation, |s: &mut VolumeStatus| &mut s.apply)
    }

    fn to_proto(name: String, o: Object<VolumeSpec>, status: Self::Status) -> Volume {
        resource_message!(Volume, name, o, status.status)
    }
}

pub struct SubsystemKind;

impl Kind for SubsystemKind {
    type Spec = SubsystemSpec;
    type Status = Observed<SubsystemStatus>;
    type Proto = Subsystem;
    const FIELD: &'static str = "subsystem";
    const STORE: &'static str = "subsystems";
    const UPDATABLE: &'static [&'static str] = &[
        "spec",
        "spec.nqn",
        "spec.serial_number",
        "spec.model_number",
        "spec.allow_any_host",
        "spec.allowed_hosts",
        "spec.host_secrets",
        "spec.min_cntlid",
        "spec.max_cntlid",
        "spec.max_io_queues",
    ];

    fn key(name: &str, field: &str) -> Result<String, Status> {
        simple_key(name, Self::STORE, field)
    }

    fn validate(spec: &SubsystemSpec, field: &str) -> Result<(), Status> {
        let nqn_field = format!("{field}.nqn");
        validate_nqn(&spec.nqn).map_err(|e| invalid(&nqn_field, e.to_string()))?;
        if spec.nqn == DISCOVERY_NQN {
            return Err(invalid(&nqn_field, "the discovery NQN is reserved"));
        }
        validate_ascii("serial_number", &spec.serial_number, SERIAL_MAX_LEN)
            .map_err(|e| invalid(&format!("{field}.serial_number"), e.to_string()))?;
        validate_ascii("model_number", &spec.model_number, MODEL_MAX_LEN)
            .map_err(|e| invalid(&format!("{field}.model_number"), e.to_string()))?;
        validate_hosts(&spec.allowed_hosts, field)?;
        validate_host_secrets(spec, field)?;
        validate_controller_limits(spec, field)
    }

    fn merge(into: &mut SubsystemSpec, from: &SubsystemSpec, path: &str) {
        match path {
            "spec.nqn" => into.nqn.clone_from(&from.nqn),
            "spec.serial_number" => into.serial_number.clone_from(&from.serial_number),
            "spec.model_number" => into.model_number.clone_from(&from.model_number),
            "spec.allow_any_host" => into.allow_any_host = from.allow_any_host,
            "spec.allowed_hosts" => into.allowed_hosts.clone_from(&from.allowed_hosts),
            "spec.host_secrets" => into.host_secrets.clone_from(&from.host_secrets),
            "spec.min_cntlid" => into.min_cntlid = from.min_cntlid,
            "spec.max_cntlid" => into.max_cntlid = from.max_cntlid,
            "spec.max_io_queues" => into.max_io_queues = from.max_io_queues,
            _ => {}
        }
    }

    /// The secrets are write-only, so what a Get returned (blank secrets) must be valid to
    /// send back: a blank secret keeps the stored one (see [`fill_kept_secrets`]).
    fn keep_stored(new: &mut SubsystemSpec, stored: &SubsystemSpec) {
        fill_kept_secrets(new, stored);
    }

    /// `bidirectional` stored as replies show it (a controller secret is set), so a Get sent
    /// back whole stores the same bytes: it only says something in an update's entry
    /// whose controller secret is blank.
    fn canonical(spec: &mut SubsystemSpec) {
        for h in &mut spec.host_secrets {
            h.bidirectional = h.has_ctrl_secret();
        }
    }

    fn status(observed: Option<Self::Status>, generation: i64) -> Self::Status {
        current(observed, generation, |s: &mut SubsystemStatus| &mut s.apply)
    }

    /// Every response with a subsystem comes through here: the stored secrets stay in the
    /// store (and reach the service through the reconciler's Sync), never in a reply.
    fn to_proto(name: String, mut o: Object<SubsystemSpec>, status: Self::Status) -> Subsystem {
        o.spec = o.spec.without_secrets();
        resource_message!(Subsystem, name, o, status.status)
    }
}

/// On an update, the `host_secrets` entries of `new` that left a secret blank (as every
/// reply shows them) get the secret of the entry with the same `host_nqn` in `stored`: a
/// blank `dhchap_secret` keeps the stored host secret, a blank `dhchap_ctrl_secret` keeps
/// the stored controller secret when `bidirectional` is set (otherwise the host is
/// one-way). Non-blank secrets replace (rotation); a blank secret of a host without a
/// stored one stays blank, for validation to refuse.
fn fill_kept_secrets(new: &mut SubsystemSpec, stored: &SubsystemSpec) {
    for h in &mut new.host_secrets {
        let Some(old) = stored.host_secrets.iter().find(|o| o.host_nqn == h.host_nqn) else {
            continue;
        };
        if h == old && h.keeps_stored_ctrl_secret() {
            // Stored so by a release before `canonical`: one-way, as every reply showed it.
            h.bidirectional = false;
            continue;
        }
        if h.dhchap_secret.trim().is_empty() {
            h.dhchap_secret.clone_from(&old.dhchap_secret);
        }
        if h.keeps_stored_ctrl_secret() {
            h.dhchap_ctrl_secret.clone_from(&old.dhchap_ctrl_secret);
        }
    }
}

/// A subsystem's `host_secrets`: each for a distinct host that may connect, with a host
/// secret (and optionally a controller secret) that parses. An error names the field and
/// says what is wrong, never the secret's text.
fn validate_host_secrets(spec: &SubsystemSpec, field: &str) -> Result<(), Status> {
    check_host_count(spec.host_secrets.len(), &format!("{field}.host_secrets"))?;
    let unused = dpu_nvmf::target::unused_host_secret(
        spec.allow_any_host,
        |host| spec.allows_host(host),
        spec.host_secrets.iter().map(|h| h.host_nqn.as_str()),
    );
    for (i, h) in spec.host_secrets.iter().enumerate() {
        let at = format!("{field}.host_secrets[{i}]");
        let nqn_field = format!("{at}.host_nqn");
        validate_nqn(&h.host_nqn).map_err(|e| invalid(&nqn_field, e.to_string()))?;
        if let Some((j, why)) = unused
            && j == i
        {
            return Err(invalid(&nqn_field, why));
        }
        if h.dhchap_secret.trim().is_empty() {
            return Err(invalid(
                &format!("{at}.dhchap_secret"),
                "required for a host without a stored secret (on an update, a blank one \
                 keeps the stored secret of the same host_nqn)",
            ));
        }
        // Left after `fill_kept_secrets`: a controller secret to keep that is not stored.
        if h.keeps_stored_ctrl_secret() {
            return Err(invalid(
                &format!("{at}.dhchap_ctrl_secret"),
                "required with bidirectional for a host without a stored controller secret \
                 (on an update, a blank one with bidirectional keeps the stored one)",
            ));
        }
        dpu_nvmf::internal::parse_host_secret(h)
            .map_err(|(f, e)| invalid(&format!("{at}.{f}"), e.to_string()))?;
    }
    Ok(())
}

/// What a subsystem's controllers get: the controller ID range (`min_cntlid`,
/// `max_cntlid`) as [`SubsystemSpec::cntlid_range`] reads it and the I/O queue limit
/// (`max_io_queues`) as [`SubsystemSpec::io_queue_limit`] reads it; the violation names
/// the field at fault (`min_cntlid` when both bounds are valid but the range is empty).
fn validate_controller_limits(spec: &SubsystemSpec, field: &str) -> Result<(), Status> {
    let at_fault = |(at, e): (&str, String)| invalid(&format!("{field}.{at}"), e);
    spec.cntlid_range().map_err(at_fault)?;
    spec.io_queue_limit().map_err(at_fault)?;
    Ok(())
}

/// Hosts a subsystem or namespace lists at most (`allowed_hosts`, and `host_secrets`),
/// so that what the service checks and applies for one object stays bounded; a subsystem
/// for more hosts admits any (`allow_any_host`) and authenticates them by secret.
pub const MAX_HOSTS: usize = 1024;

/// INVALID_ARGUMENT on `field` for a host list longer than [`MAX_HOSTS`].
fn check_host_count(count: usize, field: &str) -> Result<(), Status> {
    if count > MAX_HOSTS {
        return Err(invalid(field, format!("at most {MAX_HOSTS} hosts, got {count}")));
    }
    Ok(())
}

/// Host NQNs of a spec's `allowed_hosts`, at most [`MAX_HOSTS`], each once (as
/// `host_secrets` entries are: a list is stored as given, so a duplicate would stay).
fn validate_hosts(hosts: &[String], field: &str) -> Result<(), Status> {
    check_host_count(hosts.len(), &format!("{field}.allowed_hosts"))?;
    let mut seen = std::collections::BTreeSet::new();
    for (i, host) in hosts.iter().enumerate() {
        let at = format!("{field}.allowed_hosts[{i}]");
        validate_nqn(host).map_err(|e| invalid(&at, e.to_string()))?;
        if !seen.insert(host) {
            return Err(invalid(&at, "listed twice"));
        }
    }
    Ok(())
}

pub struct NamespaceKind;

impl Kind for NamespaceKind {
    type Spec = NamespaceSpec;
    type Status = Observed<NamespaceStatus>;
    type Proto = Namespace;
    const FIELD: &'static str = "namespace";
    const STORE: &'static str = NAMESPACE_STORE;
    const UPDATABLE: &'static [&'static str] = &[
        "spec",
        "spec.volume",
        "spec.nguid",
        "spec.uuid",
        "spec.ana_group",
        "spec.read_only",
        "spec.allowed_hosts",
    ];

    /// "subsystems/{s}/namespaces/{nsid}" → "nvmf-namespaces/{s}/{nsid}".
    fn key(name: &str, field: &str) -> Result<String, Status> {
        let shape = || {
            invalid(
                field,
                format!("must look like \"subsystems/ID/namespaces/NSID\", got {name:?}"),
            )
        };
        if name.is_empty() {
            return Err(invalid(field, "required"));
        }
        let (parent, nsid) = name.rsplit_once("/namespaces/").ok_or_else(shape)?;
        let sub = parse_name(parent, SubsystemKind::STORE, field).map_err(|_| shape())?;
        validate_id(sub, field)?;
        parse_nsid(nsid, field)?;
        Ok(format!("{NAMESPACE_STORE}/{sub}/{nsid}"))
    }

    fn public_name(key: &str) -> String {
        let rest = key.strip_prefix(NAMESPACE_STORE).and_then(|r| r.strip_prefix('/'));
        match rest.and_then(|r| r.split_once('/')) {
            Some((sub, nsid)) => format!("subsystems/{sub}/namespaces/{nsid}"),
            None => key.to_owned(),
        }
    }

    fn validate(spec: &NamespaceSpec, field: &str) -> Result<(), Status> {
        VolumeKind::key(&spec.volume, &format!("{field}.volume"))?;
        // An NGUID has no dashed text form; a UUID may have its dashes.
        let nguid_field = format!("{field}.nguid");
        if spec.nguid.contains('-') {
            return Err(invalid(&nguid_field, "must be 32 hex digits"));
        }
        check_namespace_id(&spec.nguid, &nguid_field, "32 hex digits")?;
        check_namespace_id(&spec.uuid, &format!("{field}.uuid"), "a UUID (32 hex digits)")?;
        if spec.ana_group > ANA_GROUP_MAX {
            return Err(invalid(&format!("{field}.ana_group"), "must be 1..128 (0 means 1)"));
        }
        validate_hosts(&spec.allowed_hosts, field)
    }

    fn merge(into: &mut NamespaceSpec, from: &NamespaceSpec, path: &str) {
        match path {
            "spec.volume" => into.volume.clone_from(&from.volume),
            "spec.nguid" => into.nguid.clone_from(&from.nguid),
            "spec.uuid" => into.uuid.clone_from(&from.uuid),
            "spec.ana_group" => into.ana_group = from.ana_group,
            "spec.read_only" => into.read_only = from.read_only,
            "spec.allowed_hosts" => into.allowed_hosts.clone_from(&from.allowed_hosts),
            _ => {}
        }
    }

    fn status(observed: Option<Self::Status>, generation: i64) -> Self::Status {
        current(observed, generation, |s: &mut NamespaceStatus| &mut s.apply)
    }

    fn to_proto(name: String, o: Object<NamespaceSpec>, status: Self::Status) -> Namespace {
        resource_message!(Namespace, name, o, status.status)
    }
}

pub struct ListenerKind;

impl Kind for ListenerKind {
    type Spec = ListenerSpec;
    type Status = Observed<ListenerStatus>;
    type Proto = Listener;
    const FIELD: &'static str = "listener";
    const STORE: &'static str = "listeners";
    const UPDATABLE: &'static [&'static str] = &[
        "spec",
        "spec.trtype",
        "spec.address",
        "spec.port",
        "spec.allow_header_digest",
        "spec.allow_data_digest",
        "spec.discovery_only",
        "spec.ana_groups",
        "spec.referrals",
        "spec.port_id",
    ];

    fn key(name: &str, field: &str) -> Result<String, Status> {
        simple_key(name, Self::STORE, field)
    }

    /// An unset transport and TCP are one: an update that only respells it keeps the
    /// stored spelling (no new generation, `dpuctl apply` says unchanged); so do referrals
    /// read as the same ones (port 0 and 8009). A port ID left 0 keeps the stored one: it
    /// is the listener's for its life.
    fn keep_stored(new: &mut ListenerSpec, stored: &ListenerSpec) {
        if new.canonical_trtype() == stored.canonical_trtype() {
            new.trtype = stored.trtype;
        }
        if new.referral_addrs().is_ok_and(|r| Ok(r) == stored.referral_addrs()) {
            new.referrals.clone_from(&stored.referrals);
        }
        if new.port_id == 0 {
            new.port_id = stored.port_id;
        }
    }

    /// The address and the referrals' addresses in their one text form
    /// (`dpu_proto::canonical_ip`), so a respelling (`0:0:0:0:0:0:0:1` for `::1`) is no
    /// change: no new generation, no rebinding.
    fn canonical(spec: &mut ListenerSpec) {
        let addresses = std::iter::once(&mut spec.address)
            .chain(spec.referrals.iter_mut().map(|r| &mut r.address));
        for address in addresses {
            if let Some(ip) = dpu_proto::canonical_ip(address) {
                *address = ip.to_string();
            }
        }
    }

    fn unassigned(spec: &ListenerSpec) -> bool {
        spec.port_id == 0
    }

    /// The lowest port ID no other listener has: assigned once, so restarts of the
    /// service or the agent keep it (hosts' multipath and referrals go by it).
    fn assign(spec: &mut ListenerSpec, others: &[Object<ListenerSpec>]) -> Result<(), Status> {
        spec.port_id = free_port_id(others.iter().map(|o| o.spec.port_id))?;
        Ok(())
    }

    fn validate(spec: &ListenerSpec, field: &str) -> Result<(), Status> {
        if spec.trtype != TransportType::Tcp as i32
            && spec.trtype != TransportType::Unspecified as i32
        {
            return Err(invalid(&format!("{field}.trtype"), "only TCP is supported"));
        }
        match spec.address.parse::<IpAddr>() {
            Err(_) => {
                return Err(invalid(
                    &format!("{field}.address"),
                    format!("{:?} is not an IPv4 or IPv6 address", spec.address),
                ));
            }
            // One address, one spelling: the service would bind it as IPv4 and hosts
            // would be told the IPv6 form.
            Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_some() => {
                return Err(invalid(
                    &format!("{field}.address"),
                    format!("an IPv4-mapped IPv6 address; write it as {}", v6.to_canonical()),
                ));
            }
            Ok(_) => {}
        }
        if !(1..=65535).contains(&spec.port) {
            return Err(invalid(&format!("{field}.port"), "must be 1..65535"));
        }
        if spec.port_id > u32::from(u16::MAX) {
            return Err(invalid(
                &format!("{field}.port_id"),
                "must be 1..65535, or 0 for the agent to give one",
            ));
        }
        if spec.discovery_only && !spec.ana_groups.is_empty() {
            return Err(invalid(
                &format!("{field}.ana_groups"),
                "a discovery_only listener serves no namespaces",
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, g) in spec.ana_groups.iter().enumerate() {
            let at = format!("{field}.ana_groups[{i}]");
            if !(1..=ANA_GROUP_MAX).contains(&g.group) {
                return Err(invalid(&format!("{at}.group"), "must be 1..128"));
            }
            if !seen.insert(g.group) {
                return Err(invalid(&format!("{at}.group"), "listed twice"));
            }
            if matches!(AnaState::try_from(g.state), Ok(AnaState::Unspecified) | Err(_)) {
                return Err(invalid(&format!("{at}.state"), "required"));
            }
        }
        // Referrals, on any listener (a discovery_only one above all), as the service reads
        // them.
        spec.referral_addrs().map(drop).map_err(|(at, e)| invalid(&format!("{field}.{at}"), e))
    }

    fn merge(into: &mut ListenerSpec, from: &ListenerSpec, path: &str) {
        match path {
            "spec.trtype" => into.trtype = from.trtype,
            "spec.address" => into.address.clone_from(&from.address),
            "spec.port" => into.port = from.port,
            "spec.allow_header_digest" => into.allow_header_digest = from.allow_header_digest,
            "spec.allow_data_digest" => into.allow_data_digest = from.allow_data_digest,
            "spec.discovery_only" => into.discovery_only = from.discovery_only,
            "spec.ana_groups" => into.ana_groups.clone_from(&from.ana_groups),
            "spec.referrals" => into.referrals.clone_from(&from.referrals),
            "spec.port_id" => into.port_id = from.port_id,
            _ => {}
        }
    }

    /// Each ANA group's `set_revision`: kept where the write leaves the group's state as
    /// stored, else this write's, so the service tells Change set anew from Change kept
    /// (the writes between may reach it in one Sync).
    fn mark_written(new: &mut ListenerSpec, stored: Option<&ListenerSpec>, revision: u64) {
        new.mark_ana_writes(stored, revision);
    }

    fn status(observed: Option<Self::Status>, generation: i64) -> Self::Status {
        current(observed, generation, |s: &mut ListenerStatus| &mut s.apply)
    }

    /// Replies show no `set_revision`: the agent's bookkeeping, not the operator's.
    fn to_proto(name: String, mut o: Object<ListenerSpec>, status: Self::Status) -> Listener {
        o.spec = o.spec.without_ana_revisions();
        resource_message!(Listener, name, o, status.status)
    }
}

/// The four collections of the nvmf service.
#[derive(Clone)]
pub struct NvmfResources {
    pub volumes: Resources<VolumeKind>,
    pub subsystems: Resources<SubsystemKind>,
    pub namespaces: Resources<NamespaceKind>,
    pub listeners: Resources<ListenerKind>,
    /// The largest message of the service's internal API ([`INTERNAL_MESSAGE_LIMIT`]; less
    /// in tests): what one Sync carries.
    pub sync_limit: usize,
}

impl NvmfResources {
    pub fn open(store: &dpu_store::Store, services: &Services) -> Self {
        Self {
            volumes: Resources::open(store, services, NVMF_SERVICE),
            subsystems: Resources::open(store, services, NVMF_SERVICE),
            namespaces: Resources::open(store, services, NVMF_SERVICE),
            listeners: Resources::open(store, services, NVMF_SERVICE),
            sync_limit: INTERNAL_MESSAGE_LIMIT,
        }
    }

    /// The same collections and statuses, nudging the services of `services`.
    pub fn with_services(&self, services: &Services) -> Self {
        Self {
            volumes: self.volumes.with_services(services),
            subsystems: self.subsystems.with_services(services),
            namespaces: self.namespaces.with_services(services),
            listeners: self.listeners.with_services(services),
            sync_limit: self.sync_limit,
        }
    }

    /// No other volume is on the file or block device volume `key` would use: two would
    /// show hosts one medium as two namespaces ([`Shared::medium_refusal`]). Paths compare as
    /// the file system resolves them (a `/dev/disk/by-id` link and its device are one),
    /// or by where they would be made where they do not exist yet. Run under the store's
    /// writer lock.
    async fn check_volume_medium(&self, key: &str, spec: &VolumeSpec) -> Result<(), Status> {
        let Some(mine) = medium(spec).await else { return Ok(()) };
        for other in self.volumes.all().await?.into_iter().filter(|o| o.name != key) {
            if medium(&other.spec).await.as_ref() == Some(&mine) {
                let refusal = Shared::medium_refusal(&mine, &VolumeKind::public_name(&other.name));
                return Err(Status::failed_precondition(format!("volume.spec: {refusal}")));
            }
        }
        Ok(())
    }

    /// A namespace's references exist (its parent subsystem and its volume), its
    /// subsystem lets in the hosts it names ([`check_namespace_hosts`]), and no other
    /// namespace has what it would have: its NGUID, its UUID (as the service would show
    /// them, given or derived) or its volume ([`NamespaceClaims`]). Run under the store's
    /// writer lock, so two writes cannot both take one.
    async fn check_namespace(
        &self,
        key: &str,
        parent_key: &str,
        spec: &NamespaceSpec,
    ) -> Result<(), Status> {
        let Some(parent) = self.subsystems.lookup(parent_key).await? else {
            return Err(Status::failed_precondition(format!(
                "subsystem {parent_key} does not exist; create it first"
            )));
        };
        let stored = self.namespaces.lookup(key).await?;
        let named_before = stored.as_ref().map_or(&[][..], |o| &o.spec.allowed_hosts[..]);
        check_namespace_hosts(spec, named_before, parent_key, &parent.spec)?;
        let Some(volume) = self.volumes.lookup(&spec.volume).await? else {
            return Err(Status::failed_precondition(format!(
                "volume {} does not exist; create it first",
                spec.volume
            )));
        };
        // Validated: the NSID and explicit IDs parse.
        let Some(mine) = namespace_claims(key, spec, &parent.spec, &volume.spec) else {
            return Ok(());
        };
        let subsystems = by_name(self.subsystems.all().await?);
        let volumes = by_name(self.volumes.all().await?);
        for other in self.namespaces.all().await?.into_iter().filter(|o| o.name != key) {
            let other_name = NamespaceKind::public_name(&other.name);
            let (Some(sub), Some(vol)) =
                (subsystems.get(namespace_parent(&other_name)), volumes.get(&other.spec.volume))
            else {
                continue;
            };
            let Some(theirs) = namespace_claims(&other.name, &other.spec, sub, vol) else {
                continue;
            };
            match mine.shared_with(&theirs) {
                None => {}
                Some(Shared::Volume) => {
                    return Err(Status::failed_precondition(format!(
                        "namespace.spec.volume: {} is the volume of {other_name}; {}",
                        spec.volume,
                        Shared::Volume.why()
                    )));
                }
                Some(shared) => {
                    return Err(Status::failed_precondition(format!(
                        "namespace.spec: {other_name} has {shared} already; {}",
                        shared.why()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Refuses subsystem `key`'s `spec` when another subsystem has its NQN: the service
    /// could serve only one of them, and which one would depend on the order it applies
    /// them in.
    async fn check_nqn_unique(&self, key: &str, spec: &SubsystemSpec) -> Result<(), Status> {
        let all = self.subsystems.all().await?;
        match all.iter().find(|o| o.name != key && o.spec.nqn == spec.nqn) {
            Some(other) => Err(Status::failed_precondition(format!(
                "subsystem.spec.nqn {:?} is the NQN of {}",
                spec.nqn,
                SubsystemKind::public_name(&other.name)
            ))),
            None => Ok(()),
        }
    }

    /// Refuses listener `key`'s `spec` when another listener or one of the agent's own
    /// sockets (`agent`: its `[[listeners]]` and metrics endpoint, named) takes its address
    /// and port ([`addresses_overlap`]): the service could bind only one of two listeners,
    /// and one on the agent's port would take it from the agent when the agent restarts.
    async fn check_address_unique(
        &self,
        key: &str,
        spec: &ListenerSpec,
        agent: &[(String, SocketAddr)],
    ) -> Result<(), Status> {
        // Validated before: an IP address and a port.
        let Some(addr) = listen_addr(spec) else { return Ok(()) };
        // Socket addresses as such (`[::]:4420`), not an address and a port run together.
        if let Some((what, own)) = agent.iter().find(|(_, own)| addresses_overlap(addr, *own)) {
            return Err(Status::failed_precondition(format!(
                "listener.spec: {addr} is taken by the agent's own {what} ({own}); choose \
                 another port"
            )));
        }
        let all = self.listeners.all().await?;
        let taken = |o: &Object<ListenerSpec>| {
            let theirs = listen_addr(&o.spec).filter(|a| addresses_overlap(addr, *a))?;
            (o.name != key).then_some(theirs)
        };
        match all.iter().find_map(|o| Some((o, taken(o)?))) {
            Some((other, theirs)) => Err(Status::failed_precondition(format!(
                "listener.spec: {addr} is taken by {} ({theirs})",
                ListenerKind::public_name(&other.name),
            ))),
            None => Ok(()),
        }
    }

    /// Refuses listener `key`'s port ID when another listener has it: the service could
    /// serve only one of them under it.
    async fn check_port_id_unique(&self, key: &str, spec: &ListenerSpec) -> Result<(), Status> {
        if spec.port_id == 0 {
            return Ok(());
        }
        let all = self.listeners.all().await?;
        match all.iter().find(|o| o.name != key && o.spec.port_id == spec.port_id) {
            Some(other) => Err(Status::failed_precondition(format!(
                "listener.spec.port_id {} is the port ID of {}",
                spec.port_id,
                ListenerKind::public_name(&other.name)
            ))),
            None => Ok(()),
        }
    }

    /// Gives each stored listener without a port ID (stored by an agent before port IDs
    /// were the agent's) the lowest free one, in name order, and stores it. Run under the
    /// store's writer lock, in a task of its own (a dropped caller must not let a write
    /// land after the lock is free).
    async fn assign_port_ids(&self) -> Result<(), Status> {
        let mut all = self.listeners.all().await?;
        let mut last = None;
        for i in 0..all.len() {
            if !ListenerKind::unassigned(&all[i].spec) {
                continue;
            }
            let id = free_port_id(all.iter().map(|o| o.spec.port_id))?;
            let o = &all[i];
            let pending = self
                .listeners
                .collection
                .update_applied(&o.name, Some(&o.etag), false, move |mut spec| {
                    spec.port_id = id;
                    spec
                })
                .await
                .map_err(crate::api::store_status)?;
            tracing::info!(listener = %o.name, port_id = id, "listener given its port ID");
            all[i].spec.port_id = id;
            last = Some(pending);
        }
        if let Some(pending) = last {
            // One flush covers every write before it.
            pending.durable().await.map_err(crate::api::store_status)?;
        }
        Ok(())
    }

    /// Names of the namespaces whose spec matches `uses`.
    async fn namespaces_where(
        &self,
        uses: impl Fn(&Object<NamespaceSpec>) -> bool,
    ) -> Result<Vec<String>, Status> {
        Ok(self
            .namespaces
            .all()
            .await?
            .iter()
            .filter(|o| uses(o))
            .map(|o| NamespaceKind::public_name(&o.name))
            .collect())
    }
}

/// Refuses a host a namespace's `allowed_hosts` names that its subsystem (`parent`,
/// named `parent_name`) does not let in ([`SubsystemSpec::allows_host`]): no such host
/// ever connects, so the namespace would be shown to nobody by it (a typo, most often).
/// Hosts the stored namespace named already (`named_before`) pass: a subsystem update
/// that drops a host a namespace names is not refused (revoking a host is one write),
/// and the entry, inert since, does not hold up the namespace's later updates.
fn check_namespace_hosts(
    spec: &NamespaceSpec,
    named_before: &[String],
    parent_name: &str,
    parent: &SubsystemSpec,
) -> Result<(), Status> {
    match parent.host_not_let_in(spec, named_before) {
        Some(refused) => Err(Status::failed_precondition(format!(
            "namespace.spec.{}",
            refused.message(parent_name)
        ))),
        None => Ok(()),
    }
}

/// The lowest port ID (1..65535) not among `taken`, or RESOURCE_EXHAUSTED.
fn free_port_id(taken: impl IntoIterator<Item = u32>) -> Result<u32, Status> {
    // IDs outside 1..=65535 are refused at write; none can hold a free one.
    let taken = taken.into_iter().filter_map(|id| u16::try_from(id).ok()).collect();
    dpu_nvmf::target::lowest_free_port_id(&taken)
        .map(u32::from)
        .ok_or_else(|| Status::resource_exhausted("every listener port ID (1..65535) is taken"))
}

/// A listener's address and port, if they parse.
fn listen_addr(spec: &ListenerSpec) -> Option<SocketAddr> {
    let ip = spec.address.parse::<IpAddr>().ok()?;
    Some(SocketAddr::new(ip, u16::try_from(spec.port).ok()?))
}

/// The file or block device a volume spec names, resolved as the service resolves its
/// volumes' (`dpu_nvmf::volume::medium`).
async fn medium(spec: &VolumeSpec) -> Option<std::path::PathBuf> {
    use dpu_proto::dpu::nvmf::v1::volume_spec::Backend;
    let path = match &spec.backend {
        Some(Backend::File(f)) => f.path.clone(),
        Some(Backend::BlockDevice(d)) => d.path.clone(),
        Some(Backend::Ram(_)) | None => return None,
    };
    let resolve = {
        let path = path.clone();
        move || dpu_nvmf::volume::medium(std::path::Path::new(&path))
    };
    // Only a panic or a runtime shutting down fails the task: then the path as written.
    Some(tokio::task::spawn_blocking(resolve).await.unwrap_or_else(|_| path.into()))
}

/// Stored objects by store key.
fn by_name<S>(objects: Vec<Object<S>>) -> HashMap<String, S> {
    objects.into_iter().map(|o| (o.name, o.spec)).collect()
}

/// What the namespace stored under `key` ("nvmf-namespaces/{s}/{nsid}") with `spec`, in
/// `subsystem` on `volume`, would have in the service: the NGUID and UUID the service
/// would show (the same function), where known ahead (not a RAM volume's default ones,
/// which the service draws when it opens the volume), and its volume by name. None if
/// they do not read.
fn namespace_claims(
    key: &str,
    spec: &NamespaceSpec,
    subsystem: &SubsystemSpec,
    volume: &VolumeSpec,
) -> Option<NamespaceClaims<String>> {
    let nsid = key.rsplit('/').next()?.parse().ok()?;
    let (nguid, uuid) = namespace_ids_ahead(spec, &subsystem.nqn, nsid, volume).ok()?;
    Some(NamespaceClaims { nguid, uuid, volume: spec.volume.clone() })
}

/// The parent subsystem key of a namespace name ("subsystems/s1/namespaces/1" → "subsystems/s1").
fn namespace_parent(name: &str) -> &str {
    name.rsplit_once("/namespaces/").map_or(name, |(p, _)| p)
}

impl CreateRequest for CreateNamespaceRequest {
    type Kind = NamespaceKind;

    /// `{parent}/namespaces/{namespace_id}`: an existing subsystem's name and an NSID.
    fn checked(&self) -> Result<(String, &str, Option<&NamespaceSpec>), Status> {
        SubsystemKind::key(&self.parent, "parent")?;
        if self.namespace_id.is_empty() {
            return Err(invalid("namespace_id", "required"));
        }
        parse_nsid(&self.namespace_id, "namespace_id")?;
        let n = required(self.namespace.as_ref(), "namespace")?;
        let name = format!("{}/namespaces/{}", self.parent, self.namespace_id);
        Ok((name, &n.name, n.spec.as_ref()))
    }
}

create_requests!(
    CreateVolumeRequest => VolumeKind, "volumes", volume, volume_id;
    CreateSubsystemRequest => SubsystemKind, "subsystems", subsystem, subsystem_id;
    CreateListenerRequest => ListenerKind, "listeners", listener, listener_id;
);

update_requests!(
    UpdateVolumeRequest => VolumeKind, volume;
    UpdateSubsystemRequest => SubsystemKind, subsystem;
    UpdateNamespaceRequest => NamespaceKind, namespace;
    UpdateListenerRequest => ListenerKind, listener;
);

pub struct NvmfApi {
    pub resources: NvmfResources,
    pub services: Services,
    /// The agent's own sockets (listeners, metrics endpoint) by what they are: no nvmf
    /// listener may take their addresses.
    pub agent_addresses: Vec<(String, SocketAddr)>,
}

#[tonic::async_trait]
impl NvmfService for NvmfApi {
    async fn create_volume(
        &self,
        request: Request<CreateVolumeRequest>,
    ) -> Result<Response<Volume>, Status> {
        let req = request.into_inner();
        let (name, given_name, spec) = req.checked()?;
        let r = &self.resources.volumes;
        let check = async |spec: &VolumeSpec| {
            self.resources.check_volume_medium(&name, spec).await?;
            let written = |s: &mut Snapshot| with_written(&mut s.volumes, &name, spec.clone());
            self.resources.check_fits(written).await
        };
        Ok(Response::new(r.create(&name, given_name, spec, check).await?))
    }

    async fn get_volume(
        &self,
        request: Request<GetVolumeRequest>,
    ) -> Result<Response<Volume>, Status> {
        Ok(Response::new(self.resources.volumes.get(&request.into_inner().name).await?))
    }

    async fn list_volumes(
        &self,
        request: Request<ListVolumesRequest>,
    ) -> Result<Response<ListVolumesResponse>, Status> {
        let req = request.into_inner();
        let (volumes, next_page_token) =
            self.resources.volumes.list("", req.page_size, &req.page_token).await?;
        Ok(Response::new(ListVolumesResponse { volumes, next_page_token }))
    }

    async fn update_volume(
        &self,
        request: Request<UpdateVolumeRequest>,
    ) -> Result<Response<Volume>, Status> {
        let req = request.into_inner();
        let u = req.checked()?;
        let key = VolumeKind::key(u.name, "volume.name")?;
        // The service grows a volume in place when only its size changes; hosts may have
        // written every block, so a smaller size on the same backing is refused.
        let no_shrink = |new: VolumeSpec| {
            let key = key.clone();
            async move {
                if let Some(current) = self.resources.volumes.lookup(&key).await? {
                    let (present, backing) = volume_size_and_backing(&current.spec);
                    let (size, new_backing) = volume_size_and_backing(&new);
                    if new_backing == backing && size < present {
                        return Err(Status::failed_precondition(format!(
                            "{}: size {size} bytes is below the present {present} bytes; volumes only grow (create a new volume for a smaller one)",
                            u.name
                        )));
                    }
                }
                self.resources.check_volume_medium(&key, &new).await?;
                self.resources.check_fits(|s| with_written(&mut s.volumes, &key, new)).await
            }
        };
        let updated = self
            .resources
            .volumes
            .update(u.name, u.etag, u.spec, u.mask, u.allow_missing, no_shrink)
            .await?;
        Ok(Response::new(updated))
    }

    async fn delete_volume(
        &self,
        request: Request<DeleteVolumeRequest>,
    ) -> Result<Response<Empty>, Status> {
        let req = request.into_inner();
        let name = req.name.clone();
        let check = async || {
            let users = self.resources.namespaces_where(|o| o.spec.volume == name).await?;
            in_use(&name, &users)
        };
        self.resources.volumes.delete(&req.name, &req.etag, req.allow_missing, check).await?;
        Ok(Response::new(Empty {}))
    }

    async fn create_subsystem(
        &self,
        request: Request<CreateSubsystemRequest>,
    ) -> Result<Response<Subsystem>, Status> {
        let req = request.into_inner();
        let (name, given_name, spec) = req.checked()?;
        let r = &self.resources.subsystems;
        let key = SubsystemKind::key(&name, "subsystem.name")?;
        let unique = async |spec: &SubsystemSpec| {
            self.resources.check_nqn_unique(&key, spec).await?;
            let written = |s: &mut Snapshot| with_written(&mut s.subsystems, &key, spec.clone());
            self.resources.check_fits(written).await
        };
        // A new subsystem has no controllers and a new namespace no counters yet: a Create
        // answers without asking the service (up to 1 s per object of an apply).
        Ok(Response::new(r.create(&name, given_name, spec, unique).await?))
    }

    async fn get_subsystem(
        &self,
        request: Request<GetSubsystemRequest>,
    ) -> Result<Response<Subsystem>, Status> {
        let s = self.resources.subsystems.get(&request.into_inner().name).await?;
        let stats = nvmf_stats_within(&self.services, LIVE_STATUS_TIMEOUT).await;
        Ok(Response::new(with_live_controllers(s, stats.as_deref())))
    }

    async fn list_subsystems(
        &self,
        request: Request<ListSubsystemsRequest>,
    ) -> Result<Response<ListSubsystemsResponse>, Status> {
        let req = request.into_inner();
        let (subsystems, next_page_token) =
            self.resources.subsystems.list("", req.page_size, &req.page_token).await?;
        let stats = nvmf_stats_within(&self.services, LIVE_STATUS_TIMEOUT).await;
        let live = |s| with_live_controllers(s, stats.as_deref());
        let subsystems = subsystems.into_iter().map(live).collect();
        Ok(Response::new(ListSubsystemsResponse { subsystems, next_page_token }))
    }

    async fn update_subsystem(
        &self,
        request: Request<UpdateSubsystemRequest>,
    ) -> Result<Response<Subsystem>, Status> {
        let req = request.into_inner();
        let u = req.checked()?;
        let key = SubsystemKind::key(u.name, "subsystem.name")?;
        let unique = |spec: SubsystemSpec| {
            let key = key.clone();
            async move {
                self.resources.check_nqn_unique(&key, &spec).await?;
                self.resources.check_fits(|s| with_written(&mut s.subsystems, &key, spec)).await
            }
        };
        let updated = self
            .resources
            .subsystems
            .update(u.name, u.etag, u.spec, u.mask, u.allow_missing, unique)
            .await?;
        let stats = nvmf_stats_within(&self.services, LIVE_STATUS_TIMEOUT).await;
        Ok(Response::new(with_live_controllers(updated, stats.as_deref())))
    }

    async fn delete_subsystem(
        &self,
        request: Request<DeleteSubsystemRequest>,
    ) -> Result<Response<Empty>, Status> {
        let req = request.into_inner();
        let name = req.name.clone();
        let check = async || {
            let prefix = format!("{name}/namespaces/");
            let users = self
                .resources
                .namespaces_where(|o| NamespaceKind::public_name(&o.name).starts_with(&prefix))
                .await?;
            in_use(&name, &users)
        };
        self.resources.subsystems.delete(&req.name, &req.etag, req.allow_missing, check).await?;
        Ok(Response::new(Empty {}))
    }

    async fn create_namespace(
        &self,
        request: Request<CreateNamespaceRequest>,
    ) -> Result<Response<Namespace>, Status> {
        let req = request.into_inner();
        let (name, given_name, spec) = req.checked()?;
        let parent = req.parent.clone();
        let key = NamespaceKind::key(&name, "namespace.name")?;
        let check = async |spec: &NamespaceSpec| {
            self.resources.check_namespace(&key, &parent, spec).await?;
            let written = |s: &mut Snapshot| with_written(&mut s.namespaces, &key, spec.clone());
            self.resources.check_fits(written).await
        };
        // New: no counters yet, nothing to ask the service (see create_subsystem).
        Ok(Response::new(self.resources.namespaces.create(&name, given_name, spec, check).await?))
    }

    async fn get_namespace(
        &self,
        request: Request<GetNamespaceRequest>,
    ) -> Result<Response<Namespace>, Status> {
        let n = self.resources.namespaces.get(&request.into_inner().name).await?;
        let stats = nvmf_stats_within(&self.services, LIVE_STATUS_TIMEOUT).await;
        Ok(Response::new(with_live_counters(n, stats.as_deref())))
    }

    async fn list_namespaces(
        &self,
        request: Request<ListNamespacesRequest>,
    ) -> Result<Response<ListNamespacesResponse>, Status> {
        let req = request.into_inner();
        // An empty parent lists the namespaces of every subsystem.
        let prefix = if req.parent.is_empty() {
            String::new()
        } else {
            let sub = parse_name(&req.parent, SubsystemKind::STORE, "parent")?;
            self.resources.subsystems.require_parent(&req.parent).await?;
            format!("{sub}/")
        };
        let (namespaces, next_page_token) =
            self.resources.namespaces.list(&prefix, req.page_size, &req.page_token).await?;
        let stats = nvmf_stats_within(&self.services, LIVE_STATUS_TIMEOUT).await;
        let live = |n| with_live_counters(n, stats.as_deref());
        let namespaces = namespaces.into_iter().map(live).collect();
        Ok(Response::new(ListNamespacesResponse { namespaces, next_page_token }))
    }

    async fn update_namespace(
        &self,
        request: Request<UpdateNamespaceRequest>,
    ) -> Result<Response<Namespace>, Status> {
        let req = request.into_inner();
        let u = req.checked()?;
        let parent = namespace_parent(u.name).to_owned();
        let key = NamespaceKind::key(u.name, "namespace.name")?;
        let check = |spec: NamespaceSpec| {
            let (resources, key, parent) = (self.resources.clone(), key.clone(), parent.clone());
            async move {
                resources.check_namespace(&key, &parent, &spec).await?;
                resources.check_fits(|s| with_written(&mut s.namespaces, &key, spec)).await
            }
        };
        let updated = self
            .resources
            .namespaces
            .update(u.name, u.etag, u.spec, u.mask, u.allow_missing, check)
            .await?;
        let stats = nvmf_stats_within(&self.services, LIVE_STATUS_TIMEOUT).await;
        Ok(Response::new(with_live_counters(updated, stats.as_deref())))
    }

    async fn delete_namespace(
        &self,
        request: Request<DeleteNamespaceRequest>,
    ) -> Result<Response<Empty>, Status> {
        let req = request.into_inner();
        self.resources
            .namespaces
            .delete(&req.name, &req.etag, req.allow_missing, async || Ok(()))
            .await?;
        Ok(Response::new(Empty {}))
    }

    async fn create_listener(
        &self,
        request: Request<CreateListenerRequest>,
    ) -> Result<Response<Listener>, Status> {
        let req = request.into_inner();
        let (name, given_name, spec) = req.checked()?;
        let r = &self.resources.listeners;
        let key = ListenerKind::key(&name, "listener.name")?;
        let agent = &self.agent_addresses;
        let unique = async |spec: &ListenerSpec| {
            self.resources.check_address_unique(&key, spec, agent).await?;
            self.resources.check_port_id_unique(&key, spec).await?;
            let written = |s: &mut Snapshot| with_written(&mut s.listeners, &key, spec.clone());
            self.resources.check_fits(written).await
        };
        Ok(Response::new(r.create(&name, given_name, spec, unique).await?))
    }

    async fn get_listener(
        &self,
        request: Request<GetListenerRequest>,
    ) -> Result<Response<Listener>, Status> {
        Ok(Response::new(self.resources.listeners.get(&request.into_inner().name).await?))
    }

    async fn list_listeners(
        &self,
        request: Request<ListListenersRequest>,
    ) -> Result<Response<ListListenersResponse>, Status> {
        let req = request.into_inner();
        let (listeners, next_page_token) =
            self.resources.listeners.list("", req.page_size, &req.page_token).await?;
        Ok(Response::new(ListListenersResponse { listeners, next_page_token }))
    }

    async fn update_listener(
        &self,
        request: Request<UpdateListenerRequest>,
    ) -> Result<Response<Listener>, Status> {
        let req = request.into_inner();
        let u = req.checked()?;
        let key = ListenerKind::key(u.name, "listener.name")?;
        let unique = |spec: ListenerSpec| {
            let key = key.clone();
            async move {
                self.resources.check_address_unique(&key, &spec, &self.agent_addresses).await?;
                self.resources.check_port_id_unique(&key, &spec).await?;
                self.resources.check_fits(|s| with_written(&mut s.listeners, &key, spec)).await
            }
        };
        let updated = self
            .resources
            .listeners
            .update(u.name, u.etag, u.spec, u.mask, u.allow_missing, unique)
            .await?;
        Ok(Response::new(updated))
    }

    async fn delete_listener(
        &self,
        request: Request<DeleteListenerRequest>,
    ) -> Result<Response<Empty>, Status> {
        let req = request.into_inner();
        self.resources
            .listeners
            .delete(&req.name, &req.etag, req.allow_missing, async || Ok(()))
            .await?;
        Ok(Response::new(Empty {}))
    }

    async fn get_nvmf_stats(
        &self,
        request: Request<GetNvmfStatsRequest>,
    ) -> Result<Response<NvmfStats>, Status> {
        let role = caller_role(&request);
        let stats = Arc::unwrap_or_clone(nvmf_stats(&self.services).await?);
        Ok(Response::new(if role >= Role::Operator { stats } else { without_peers(stats) }))
    }

    async fn clear_host_write_protection(
        &self,
        request: Request<ClearHostWriteProtectionRequest>,
    ) -> Result<Response<ClearHostWriteProtectionResponse>, Status> {
        let req = request.into_inner();
        // An action on the running namespace, not desired state: nothing is stored, and
        // a namespace the agent does not hold is NOT_FOUND before the service is asked.
        self.resources.namespaces.get(&req.name).await?;
        let handle = nvmf_handle(&self.services)?;
        answered(NVMF_SERVICE, async {
            let reply = nvmf_client(handle.channel(), INTERNAL_MESSAGE_LIMIT)
                .clear_host_write_protection(req)
                .await;
            reply.map_err(|e| match e.code() {
                Code::NotFound | Code::Internal => e,
                _ => Status::unavailable(format!(
                    "the nvmf service is not answering: {}",
                    e.message()
                )),
            })
        })
        .await
    }
}

/// The nvmf service, or why there is none to ask.
fn nvmf_handle(services: &Services) -> Result<&std::sync::Arc<ServiceHandle>, Status> {
    services.configured(NVMF_SERVICE)
}

/// The nvmf service's statistics, whole (peers included), as GetNvmfStats, the live
/// figures of Get/List and the metrics endpoint read them: one snapshot for all who ask at
/// once (`Services::nvmf_stats`).
pub async fn nvmf_stats(services: &Services) -> Result<Arc<NvmfStats>, Status> {
    let handle = nvmf_handle(services)?;
    let fetch = answered(NVMF_SERVICE, async {
        let reply = nvmf_client(handle.channel(), INTERNAL_MESSAGE_LIMIT)
            .get_nvmf_stats(GetNvmfStatsRequest {})
            .await;
        reply.map(Response::into_inner).map_err(|e| {
            Status::unavailable(format!("the nvmf service is not answering: {}", e.message()))
        })
    });
    services.nvmf_stats.read(fetch).await
}

/// The nvmf service's statistics within `timeout`, or None when it is not configured,
/// does not answer or answers too late (why at debug level: the callers say it their way).
pub async fn nvmf_stats_within(services: &Services, timeout: Duration) -> Option<Arc<NvmfStats>> {
    match tokio::time::timeout(timeout, nvmf_stats(services)).await {
        Ok(Ok(stats)) => Some(stats),
        Ok(Err(e)) => {
            tracing::debug!(error = %e.message(), "no nvmf statistics");
            None
        }
        Err(_) => {
            tracing::debug!(?timeout, "the nvmf service answered too late for its statistics");
            None
        }
    }
}

/// How long a Get or List of subsystems or namespaces waits for the service's live
/// figures before it shows those of the last sync, marked stale.
const LIVE_STATUS_TIMEOUT: Duration = Duration::from_secs(1);

/// Subsystem `s` with its controllers as the service counts them now (`stats`: none
/// while it does not serve it), or, without `stats`, as of the last sync and marked
/// stale. A sync happens only on a change, so its figure would not follow the hosts.
fn with_live_controllers(mut s: Subsystem, stats: Option<&NvmfStats>) -> Subsystem {
    let status = s.status.get_or_insert_default();
    match stats {
        Some(stats) => {
            let live = stats.subsystems.iter().find(|x| x.name == s.name);
            status.controllers = live.map_or(0, |x| x.live_controllers);
        }
        None => status.stale = true,
    }
    s
}

/// Namespace `n` with its counters as the service has them now (`stats`: none while it
/// does not serve it), or, without `stats`, as of the last sync and marked stale.
fn with_live_counters(mut n: Namespace, stats: Option<&NvmfStats>) -> Namespace {
    let status = n.status.get_or_insert_default();
    match stats {
        Some(stats) => {
            let live = stats.namespaces.iter().find(|x| x.name == n.name);
            status.counters = live.and_then(|x| x.counters);
        }
        None => status.stale = true,
    }
    n
}

/// The stats a host-role caller may read: every counter, but not which fabric hosts are
/// connected and from where (controllers' host NQNs and addresses), the operator's business.
fn without_peers(mut stats: NvmfStats) -> NvmfStats {
    for c in stats.subsystems.iter_mut().flat_map(|s| s.controllers.iter_mut()) {
        c.host_nqn.clear();
        c.peer_address.clear();
        for q in &mut c.queues {
            q.peer_address.clear();
        }
    }
    for r in stats.namespaces.iter_mut().filter_map(|n| n.reservation.as_mut()) {
        r.holder_host_id.clear();
    }
    stats
}

/// The nvmf service's internal API; whole-state syncs and stats snapshots can be large,
/// up to `limit` bytes a request (the service's [`INTERNAL_MESSAGE_LIMIT`]) and
/// [`REPLY_FACTOR`] times that a reply.
fn nvmf_client(channel: Channel, limit: usize) -> NvmfInternalServiceClient<Channel> {
    NvmfInternalServiceClient::new(channel)
        .max_decoding_message_size(limit.saturating_mul(REPLY_FACTOR))
        .max_encoding_message_size(limit)
}

/// Pushes the whole nvmf desired state to the service and records what it observed.
pub struct NvmfReconciler {
    pub resources: NvmfResources,
}

/// The statuses the service reported, each with the creation time of the object of the
/// snapshot it was about (`created`); reports on no object of the snapshot are dropped.
fn observed<S>(
    items: impl IntoIterator<Item = (String, i64, Option<S>)>,
    created: &HashMap<String, i64>,
) -> Vec<(String, i64, Observed<S>)> {
    items
        .into_iter()
        .filter_map(|(name, generation, status)| {
            let c = *created.get(&name)?;
            Some((name, c, Observed { generation, status: status? }))
        })
        .collect()
}

/// The four collections' stored objects; one snapshot when read under the writer lock.
struct Snapshot {
    volumes: Vec<Object<VolumeSpec>>,
    subsystems: Vec<Object<SubsystemSpec>>,
    namespaces: Vec<Object<NamespaceSpec>>,
    listeners: Vec<Object<ListenerSpec>>,
}

impl Snapshot {
    /// The whole-state Sync request that hands these objects to the service.
    fn sync_request(self) -> SyncRequest {
        SyncRequest {
            volumes: self
                .volumes
                .into_iter()
                .map(|o| Volume {
                    name: o.name,
                    spec: Some(o.spec),
                    generation: o.generation,
                    // Tells the service a volume created again under its name from the one
                    // it knew: only a file volume's first opening makes its file.
                    create_time: Some(super::timestamp(o.create_time_unix_nanos)),
                    ..Default::default()
                })
                .collect(),
            subsystems: self
                .subsystems
                .into_iter()
                .map(|o| Subsystem {
                    name: o.name,
                    spec: Some(o.spec),
                    generation: o.generation,
                    ..Default::default()
                })
                .collect(),
            namespaces: self
                .namespaces
                .into_iter()
                .map(|o| Namespace {
                    name: NamespaceKind::public_name(&o.name),
                    spec: Some(o.spec),
                    generation: o.generation,
                    ..Default::default()
                })
                .collect(),
            listeners: self
                .listeners
                .into_iter()
                .map(|o| Listener {
                    name: o.name,
                    spec: Some(o.spec),
                    generation: o.generation,
                    ..Default::default()
                })
                .collect(),
        }
    }
}

impl NvmfResources {
    /// Every stored object of the four collections (one snapshot under the writer lock).
    async fn snapshot(&self) -> Result<Snapshot, Status> {
        Ok(Snapshot {
            volumes: self.volumes.all().await?,
            subsystems: self.subsystems.all().await?,
            namespaces: self.namespaces.all().await?,
            listeners: self.listeners.all().await?,
        })
    }

    /// RESOURCE_EXHAUSTED when the stored state changed by `write` would not fit one Sync
    /// ([`fits_one_sync`]): measured on the request the reconciler would send. Run under
    /// the store's writer lock, after the write's other checks.
    async fn check_fits(&self, write: impl FnOnce(&mut Snapshot)) -> Result<(), Status> {
        let mut snapshot = self.snapshot().await?;
        write(&mut snapshot);
        let encoded = prost::Message::encoded_len(&snapshot.sync_request());
        fits_one_sync(NVMF_SERVICE, encoded, self.sync_limit)
    }
}

#[tonic::async_trait]
impl Reconciler for NvmfReconciler {
    async fn sync(&self, channel: Channel) -> Result<Synced, Status> {
        let r = &self.resources;
        // One snapshot: under the writer lock no write lands between two collections'
        // reads (a namespace read without the subsystem created just before it).
        // Listeners without a port ID get theirs first, so the Sync names every one.
        let resources = r.clone();
        let (revision, snapshot) = tokio::spawn(async move {
            let _one_snapshot = resources.volumes.collection.serialize_writes().await;
            resources.assign_port_ids().await?;
            // Read before the snapshot: every write counted in it is in the snapshot.
            let revision = resources.volumes.collection.revision();
            Ok::<_, Status>((revision, resources.snapshot().await?))
        })
        .await
        .map_err(super::resource::task_failed)??;
        // Nothing goes to the service that is not on disk: hosts would be served what a
        // crash of the agent takes out of the store (and the next sync out of the service).
        r.volumes.durable().await?;
        let created = (
            creation_times(&snapshot.volumes, VolumeKind::public_name),
            creation_times(&snapshot.subsystems, SubsystemKind::public_name),
            creation_times(&snapshot.namespaces, NamespaceKind::public_name),
            creation_times(&snapshot.listeners, ListenerKind::public_name),
        );
        let request = snapshot.sync_request();
        let response = nvmf_client(channel, r.sync_limit).sync(request).await?.into_inner();
        // The agent syncs again while any object is FAILED: its cause may go away unannounced
        // (a device node not there yet, a port another process holds).
        let failed_names = response.failed_names();
        let failed = failed_names.len();
        let objects_failed = dpu_proto::failed_objects(failed_names);
        r.volumes.statuses.replace(observed(
            response.volumes.into_iter().map(|o| (o.name, o.generation, o.status)),
            &created.0,
        ));
        r.subsystems.statuses.replace(observed(
            response.subsystems.into_iter().map(|o| (o.name, o.generation, o.status)),
            &created.1,
        ));
        r.namespaces.statuses.replace(observed(
            response.namespaces.into_iter().map(|o| (o.name, o.generation, o.status)),
            &created.2,
        ));
        r.listeners.statuses.replace(observed(
            response.listeners.into_iter().map(|o| (o.name, o.generation, o.status)),
            &created.3,
        ));
        Ok(Synced { failed, objects_failed, revision })
    }

    fn forget_statuses(&self) {
        let r = &self.resources;
        r.volumes.statuses.clear();
        r.subsystems.statuses.clear();
        r.namespaces.statuses.clear();
        r.listeners.statuses.clear();
    }
}

#[cfg(test)]
mod tests {
    use dpu_nvmf::dhchap::Secret;
    use dpu_proto::dpu::nvmf::v1::HostSecret;
    use tonic_types::StatusExt;

    use super::*;
    use crate::api::shared_read::SlowMethod;

    const HOST: &str = "nqn.2014-08.org.example:h1";

    fn text(byte: u8) -> String {
        Secret::new(&[byte; 32], 1).unwrap().to_text().to_string()
    }

    fn spec(secrets: Vec<HostSecret>) -> SubsystemSpec {
        SubsystemSpec {
            nqn: "nqn.2024-01.io.example:s1".into(),
            allowed_hosts: vec![HOST.into()],
            host_secrets: secrets,
            ..Default::default()
        }
    }

    fn secret(host: &str, dhchap_secret: &str, dhchap_ctrl_secret: &str) -> HostSecret {
        HostSecret {
            host_nqn: host.into(),
            dhchap_secret: dhchap_secret.into(),
            dhchap_ctrl_secret: dhchap_ctrl_secret.into(),
            ..Default::default()
        }
    }

    /// The violated field, and that the message shows none of `secret`.
    fn refused(s: &SubsystemSpec, secret: &str) -> String {
        let e = SubsystemKind::validate(s, "subsystem.spec").unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(secret.is_empty() || !e.message().contains(secret), "{}", e.message());
        // Nor a piece of its key (the longest part between colons).
        let key = secret.split(':').max_by_key(|p| p.len()).unwrap_or_default();
        assert!(key.len() < 8 || !e.message().contains(&key[..8]), "{}", e.message());
        e.get_details_bad_request().unwrap().field_violations[0].field.clone()
    }

    #[test]
    fn host_secrets_are_validated_without_showing_them() {
        let (good, ctrl) = (text(1), text(2));
        SubsystemKind::validate(&spec(vec![secret(HOST, &good, "")]), "s").unwrap();
        SubsystemKind::validate(&spec(vec![secret(HOST, &good, &ctrl)]), "s").unwrap();
        // Any host may connect: a secret for a host not listed is fine.
        let any =
            SubsystemSpec { allow_any_host: true, ..spec(vec![secret("nqn.x:y", &good, "")]) };
        SubsystemKind::validate(&any, "s").unwrap();

        let at = "subsystem.spec.host_secrets[0]";
        // One base64 digit of the key changed: its CRC-32 no longer matches.
        let mut bad_crc = good.clone().into_bytes();
        bad_crc[20] = if bad_crc[20] == b'A' { b'B' } else { b'A' };
        let bad_crc = String::from_utf8(bad_crc).unwrap();
        for host_secret in [
            good.replacen("DHHC-1", "DHHC-2", 1),
            bad_crc.clone(),
            // Without "<hh>:" the key's base64 stands where the hash should.
            good.replacen("01:", "", 1),
            // 24 bytes: a 20-byte key.
            format!("DHHC-1:00:{}:", "A".repeat(32)),
            String::new(),
        ] {
            let s = spec(vec![secret(HOST, &host_secret, "")]);
            assert_eq!(refused(&s, &host_secret), format!("{at}.dhchap_secret"), "{host_secret}");
        }
        let s = spec(vec![secret(HOST, &good, &bad_crc)]);
        assert_eq!(refused(&s, &bad_crc), format!("{at}.dhchap_ctrl_secret"));
        let s = spec(vec![secret(HOST, &good, &good)]);
        assert_eq!(refused(&s, &good), format!("{at}.dhchap_ctrl_secret"));
        let s = spec(vec![secret("nqn.2014-08.org.example:h2", &good, "")]);
        assert_eq!(refused(&s, &good), format!("{at}.host_nqn"));
        let s = spec(vec![secret("not-an-nqn", &good, "")]);
        assert_eq!(refused(&s, &good), format!("{at}.host_nqn"));
        let s = spec(vec![secret(HOST, &good, ""), secret(HOST, &ctrl, "")]);
        assert_eq!(refused(&s, &good), "subsystem.spec.host_secrets[1].host_nqn");
        // DH groups: the five of RFC 7919 are accepted, an unknown value is not.
        for group in 1..=5 {
            let s = spec(vec![HostSecret { dh_group: group, ..secret(HOST, &good, "") }]);
            SubsystemKind::validate(&s, "s").unwrap();
        }
        let s = spec(vec![HostSecret { dh_group: 9, ..secret(HOST, &good, "") }]);
        assert_eq!(refused(&s, &good), format!("{at}.dh_group"));
        // Hashes: SHA-256/384/512 or the host's choice (0); an unknown value is not.
        for hash in 0..=3 {
            let s = spec(vec![HostSecret { hash, ..secret(HOST, &good, "") }]);
            SubsystemKind::validate(&s, "s").unwrap();
        }
        let s = spec(vec![HostSecret { hash: 4, ..secret(HOST, &good, "") }]);
        assert_eq!(refused(&s, &good), format!("{at}.hash"));
    }

    #[test]
    fn cntlid_ranges_are_validated_naming_the_field_and_merged_by_mask() {
        let range =
            |min_cntlid, max_cntlid| SubsystemSpec { min_cntlid, max_cntlid, ..spec(Vec::new()) };
        for (min, max) in [(0, 0), (1, 0xFFEF), (300, 301), (7, 7), (0xFFEF, 0), (0, 1)] {
            SubsystemKind::validate(&range(min, max), "subsystem.spec").unwrap();
        }
        for (min, max, field, says) in [
            (0xFFF0, 0, "min_cntlid", "min_cntlid 65520 is outside 1-65519"),
            (0, 70_000, "max_cntlid", "max_cntlid 70000 is outside 1-65519"),
            (5, 4, "min_cntlid", "min_cntlid 5 is above max_cntlid 4"),
            (0xFFEF, 100, "min_cntlid", "min_cntlid 65519 is above max_cntlid 100"),
        ] {
            let e = SubsystemKind::validate(&range(min, max), "subsystem.spec").unwrap_err();
            assert_eq!(refused(&range(min, max), ""), format!("subsystem.spec.{field}"));
            assert!(e.message().ends_with(says), "{}", e.message());
        }

        let mut merged = range(100, 199);
        SubsystemKind::merge(&mut merged, &range(400, 0), "spec.max_cntlid");
        assert_eq!((merged.min_cntlid, merged.max_cntlid), (100, 0));
        SubsystemKind::merge(&mut merged, &range(400, 0), "spec.min_cntlid");
        assert_eq!((merged.min_cntlid, merged.max_cntlid), (400, 0));
        SubsystemKind::merge(&mut merged, &range(1, 2), "spec.allowed_hosts");
        assert_eq!((merged.min_cntlid, merged.max_cntlid), (400, 0), "not in the mask: kept");
        for path in ["spec.min_cntlid", "spec.max_cntlid"] {
            assert!(SubsystemKind::UPDATABLE.contains(&path), "{path}");
        }
    }

    #[test]
    fn io_queue_limits_are_validated_naming_the_field_and_merged_by_mask() {
        let queues = |max_io_queues| SubsystemSpec { max_io_queues, ..spec(Vec::new()) };
        for n in [0, 1, 32, 128] {
            SubsystemKind::validate(&queues(n), "subsystem.spec").unwrap();
        }
        for n in [129, 1 << 16, u32::MAX] {
            let e = SubsystemKind::validate(&queues(n), "subsystem.spec").unwrap_err();
            assert_eq!(refused(&queues(n), ""), "subsystem.spec.max_io_queues");
            assert!(e.message().ends_with(&format!("max_io_queues {n} is outside 1-128")), "{e}");
        }

        let mut merged = queues(8);
        SubsystemKind::merge(&mut merged, &queues(1), "spec.max_cntlid");
        assert_eq!(merged.max_io_queues, 8, "not in the mask: kept");
        SubsystemKind::merge(&mut merged, &queues(1), "spec.max_io_queues");
        assert_eq!(merged.max_io_queues, 1);
        assert!(SubsystemKind::UPDATABLE.contains(&"spec.max_io_queues"));
    }

    #[test]
    fn listener_referrals_are_validated_naming_the_field_and_merged_by_mask() {
        use dpu_proto::dpu::nvmf::v1::Referral;
        let listener = |discovery_only, refs: &[(&str, u32)]| ListenerSpec {
            address: "127.0.0.1".into(),
            port: 8009,
            discovery_only,
            referrals: refs
                .iter()
                .map(|(a, p)| Referral { address: (*a).into(), port: *p })
                .collect(),
            ..Default::default()
        };
        for discovery_only in [true, false] {
            let l = listener(discovery_only, &[("192.0.2.20", 0), ("2001:db8::1", 4420)]);
            ListenerKind::validate(&l, "listener.spec").unwrap();
        }
        for (refs, field) in [
            (&[("192.0.2.20", 0), ("host", 0)][..], "referrals[1].address"),
            (&[("0.0.0.0", 8009)][..], "referrals[0].address"),
            (&[("192.0.2.20", 70_000)][..], "referrals[0].port"),
            (&[("192.0.2.20", 0), ("192.0.2.20", 8009)][..], "referrals[1].address"),
        ] {
            let e = ListenerKind::validate(&listener(true, refs), "listener.spec").unwrap_err();
            assert_eq!(e.code(), Code::InvalidArgument);
            let violation = &e.get_details_bad_request().unwrap().field_violations[0];
            assert_eq!(violation.field, format!("listener.spec.{field}"), "{refs:?}");
        }

        let mut merged = listener(true, &[("192.0.2.20", 0)]);
        let other = ListenerSpec { port: 4420, ..listener(false, &[]) };
        ListenerKind::merge(&mut merged, &other, "spec.port");
        assert_eq!(merged.referrals.len(), 1, "not in the mask: kept");
        ListenerKind::merge(&mut merged, &other, "spec.referrals");
        assert!(merged.referrals.is_empty(), "in the mask: replaced");
        assert!(ListenerKind::UPDATABLE.contains(&"spec.referrals"));
    }

    #[test]
    fn responses_never_carry_secrets_and_updates_merge_them() {
        let stored = spec(vec![secret(HOST, &text(1), &text(2))]);
        let object = Object {
            name: "subsystems/s1".into(),
            spec: stored.clone(),
            generation: 1,
            etag: "e".into(),
            create_time_unix_nanos: 0,
            update_time_unix_nanos: 0,
        };
        let shown = SubsystemKind::to_proto("subsystems/s1".into(), object, Observed::default());
        let h = &shown.spec.unwrap().host_secrets[0];
        assert_eq!((h.host_nqn.as_str(), h.dhchap_secret.as_str()), (HOST, ""));
        assert!(h.dhchap_ctrl_secret.is_empty() && h.bidirectional);

        let mut merged = stored.clone();
        SubsystemKind::merge(&mut merged, &spec(Vec::new()), "spec.allowed_hosts");
        assert_eq!(merged.host_secrets, stored.host_secrets, "not in the mask: kept");
        SubsystemKind::merge(&mut merged, &spec(Vec::new()), "spec.host_secrets");
        assert!(merged.host_secrets.is_empty(), "in the mask: replaced");
    }

    const HOST2: &str = "nqn.2014-08.org.example:h2";

    /// Two hosts with secrets (`HOST` with a controller secret too), as stored.
    fn stored_two_hosts() -> SubsystemSpec {
        SubsystemSpec {
            allowed_hosts: vec![HOST.into(), HOST2.into()],
            ..spec(vec![secret(HOST, &text(1), &text(2)), secret(HOST2, &text(3), "")])
        }
    }

    #[test]
    fn a_blank_host_secret_keeps_the_stored_one_of_the_same_host() {
        let stored = stored_two_hosts();
        // What a Get shows, in another order and with another field changed.
        let mut new = stored.clone().without_secrets();
        new.host_secrets.reverse();
        new.max_io_queues = 4;
        fill_kept_secrets(&mut new, &stored);
        assert_eq!(new.host_secrets[0], secret(HOST2, &text(3), ""));
        assert_eq!(new.host_secrets[1].host_nqn, HOST);
        assert_eq!(new.host_secrets[1].dhchap_secret, text(1));
        SubsystemKind::validate(&new, "subsystem.spec").unwrap();
        assert_eq!(new.max_io_queues, 4);
    }

    #[test]
    fn a_blank_ctrl_secret_keeps_the_stored_one_when_bidirectional() {
        let stored = stored_two_hosts();
        let mut new = stored.clone().without_secrets();
        assert!(new.host_secrets[0].bidirectional);
        fill_kept_secrets(&mut new, &stored);
        assert_eq!(new.host_secrets[0].dhchap_secret, text(1));
        assert_eq!(new.host_secrets[0].dhchap_ctrl_secret, text(2));
        // The host secret rotated, the controller's kept.
        let mut new = stored.clone().without_secrets();
        new.host_secrets[0].dhchap_secret = text(5);
        fill_kept_secrets(&mut new, &stored);
        assert_eq!(new.host_secrets[0].dhchap_secret, text(5));
        assert_eq!(new.host_secrets[0].dhchap_ctrl_secret, text(2));
        SubsystemKind::validate(&new, "subsystem.spec").unwrap();
        assert!(new.clone().without_secrets().host_secrets[0].bidirectional);
    }

    #[test]
    fn a_blank_ctrl_secret_without_bidirectional_drops_it() {
        let stored = stored_two_hosts();
        let mut new = stored.clone().without_secrets();
        new.host_secrets[0].bidirectional = false;
        fill_kept_secrets(&mut new, &stored);
        assert_eq!(new.host_secrets[0].dhchap_secret, text(1), "the host secret is kept");
        assert!(!new.host_secrets[0].has_ctrl_secret(), "one-way now");
        SubsystemKind::validate(&new, "subsystem.spec").unwrap();
        assert!(!new.without_secrets().host_secrets[0].bidirectional);
    }

    /// What a Get shows, sent back unchanged, changes nothing (same generation and etag;
    /// docs/api.md, Update), though the Create left `bidirectional` unset as the docs'
    /// example does: the stored form says it as every reply does.
    #[tokio::test]
    async fn a_subsystem_read_back_unchanged_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = dpu_store::Store::open(dir.path()).unwrap();
        let services = Services::unreachable(&[NVMF_SERVICE]);
        let r = Resources::<SubsystemKind>::open(&store, &services, NVMF_SERVICE);
        let given = spec(vec![secret(HOST, &text(1), &text(2))]);
        let name = "subsystems/s1";
        let created = r.create(name, "", Some(&given), async |_| Ok(())).await.unwrap();
        let shown = created.spec.clone().unwrap();
        assert!(shown.host_secrets[0].bidirectional);
        let accept = |_: SubsystemSpec| async { Ok(()) };
        let again = r.update(name, "", Some(&shown), None, false, accept).await.unwrap();
        assert_eq!((again.generation, &again.etag), (created.generation, &created.etag));
    }

    /// `bidirectional` with a blank controller secret asks to keep a stored one: for a host
    /// without one (one-way, or on a Create) that is refused naming the field, not stored
    /// as a flag no reply would show.
    #[test]
    fn bidirectional_without_a_controller_secret_to_keep_is_refused() {
        let stored = stored_two_hosts();
        let mut new = stored.clone().without_secrets();
        assert!(!new.host_secrets[1].bidirectional, "HOST2 is one-way");
        new.host_secrets[1].bidirectional = true;
        fill_kept_secrets(&mut new, &stored);
        assert_eq!(refused(&new, ""), "subsystem.spec.host_secrets[1].dhchap_ctrl_secret");
        let create = spec(vec![HostSecret { bidirectional: true, ..secret(HOST, &text(1), "") }]);
        assert_eq!(refused(&create, ""), "subsystem.spec.host_secrets[0].dhchap_ctrl_secret");
        // An entry an older release stored so is kept as the one-way entry it was.
        let legacy = create.clone();
        let mut new = legacy.clone();
        SubsystemKind::merge(
            &mut new,
            &SubsystemSpec { max_io_queues: 4, ..legacy.clone() },
            "spec.max_io_queues",
        );
        SubsystemKind::keep_stored(&mut new, &legacy);
        SubsystemKind::validate(&new, "subsystem.spec").unwrap();
        assert_eq!(new.host_secrets[0], secret(HOST, &text(1), ""));
    }

    #[test]
    fn a_blank_secret_of_a_host_without_a_stored_one_is_refused() {
        let says = "required for a host without a stored secret";
        // An update: HOST2 has no stored entry (a blank controller secret changes nothing).
        let stored = SubsystemSpec {
            allowed_hosts: vec![HOST.into(), HOST2.into()],
            ..spec(vec![secret(HOST, &text(1), &text(2))])
        };
        let mut new = stored.clone().without_secrets();
        new.host_secrets.push(HostSecret { bidirectional: true, ..secret(HOST2, "", "") });
        fill_kept_secrets(&mut new, &stored);
        assert_eq!(
            new.host_secrets[1],
            HostSecret { bidirectional: true, ..secret(HOST2, "", "") }
        );
        let e = SubsystemKind::validate(&new, "subsystem.spec").unwrap_err();
        assert_eq!(refused(&new, ""), "subsystem.spec.host_secrets[1].dhchap_secret");
        assert!(e.message().contains(says), "{}", e.message());
        // A create has nothing stored.
        let e = SubsystemKind::validate(&stored.without_secrets(), "s").unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(e.message().contains(says), "{}", e.message());
    }

    #[test]
    fn non_blank_secrets_replace_the_stored_ones() {
        let stored = stored_two_hosts();
        let mut new = stored.clone();
        new.host_secrets[0] =
            HostSecret { bidirectional: true, ..secret(HOST, &text(6), &text(7)) };
        new.host_secrets[1] = secret(HOST2, &text(8), &text(9));
        fill_kept_secrets(&mut new, &stored);
        assert_eq!(
            new.host_secrets,
            [
                HostSecret { bidirectional: true, ..secret(HOST, &text(6), &text(7)) },
                secret(HOST2, &text(8), &text(9)),
            ]
        );
        SubsystemKind::validate(&new, "subsystem.spec").unwrap();
    }

    #[test]
    fn an_ipv4_mapped_listener_address_is_refused_naming_its_ipv4_form() {
        let spec = |address: &str| ListenerSpec {
            address: address.into(),
            port: 4420,
            ..Default::default()
        };
        ListenerKind::validate(&spec("::1"), "listener.spec").unwrap();
        let e = ListenerKind::validate(&spec("::ffff:127.0.0.1"), "listener.spec").unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        let violation = &e.get_details_bad_request().unwrap().field_violations[0];
        assert_eq!(violation.field, "listener.spec.address");
        assert!(e.message().contains("write it as 127.0.0.1"), "{e:?}");
    }

    /// A host NQN of the longest length (223 bytes), numbered `i`.
    fn long_host(s: usize, i: usize) -> String {
        let nqn = format!("nqn.2014-08.org.example:s{s}-h{i}-");
        format!("{nqn}{}", "x".repeat(dpu_nvmf_proto::fabrics::NQN_MAX_LEN - nqn.len()))
    }

    /// A real nvmf service (its target, no sockets) on a Unix socket in `dir`.
    fn nvmf_service(dir: &std::path::Path) -> Channel {
        nvmf_service_driven(dir).0
    }

    /// [`nvmf_service`], and its internal API to drive it directly (to stop its listeners,
    /// as a service that exits closes its sockets).
    fn nvmf_service_driven(dir: &std::path::Path) -> (Channel, dpu_nvmf::internal::NvmfInternal) {
        let path = dir.join("nvmf.sock");
        let listener = dpu_runtime::unix::bind(&path).unwrap();
        let server = dpu_nvmf::Server::new(dpu_nvmf::Target::new(), 1);
        let internal = dpu_nvmf::internal::NvmfInternal::new(server);
        let serve = tonic::transport::Server::builder().add_service(internal.clone().into_server());
        tokio::spawn(serve.serve_with_incoming(listener));
        (dpu_runtime::unix::channel(&path), internal)
    }

    /// The agent's API over a fresh store in `dir` (kept while `dir` lives), its nvmf
    /// service configured but not reachable.
    fn api_in(dir: &std::path::Path) -> (dpu_store::Store, NvmfApi) {
        let store = dpu_store::Store::open(&dir.join("store")).unwrap();
        let services = Services::unreachable(&[NVMF_SERVICE]);
        let resources = NvmfResources::open(&store, &services);
        (store, NvmfApi { resources, services, agent_addresses: vec![] })
    }

    async fn create_listener(
        api: &NvmfApi,
        id: &str,
        address: &str,
        port: u32,
    ) -> Result<Listener, Status> {
        let spec = ListenerSpec { address: address.into(), port, ..Default::default() };
        let listener = Listener { spec: Some(spec), ..Default::default() };
        let req = CreateListenerRequest { listener_id: id.into(), listener: Some(listener) };
        api.create_listener(Request::new(req)).await.map(Response::into_inner)
    }

    /// A listener's port ID (PORTID of its discovery log entries, which hosts' multipath
    /// and referrals go by) is its own for its life: a restart of the service, or of the
    /// agent (a new one on the same store), gives every listener the ID it had, whatever
    /// order they were made in (the service numbering them afresh in name order would
    /// swap these two).
    #[tokio::test]
    async fn listener_port_ids_survive_restarts_of_the_service_and_the_agent() {
        let dir = tempfile::tempdir().unwrap();
        let (store, api) = api_in(dir.path());
        let held = [(); 2].map(|()| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
        let [b, a] = held.map(|l| u32::from(l.local_addr().unwrap().port()));
        let run = |name: &str| {
            let at = dir.path().join(name);
            std::fs::create_dir(&at).unwrap();
            nvmf_service_driven(&at)
        };
        let ids = async |r: &NvmfResources| {
            let mut ids = Vec::new();
            for name in ["listeners/a", "listeners/b"] {
                let status = r.listeners.get(name).await.unwrap().status.unwrap();
                let apply = status.apply.unwrap();
                assert_eq!(apply.state, ApplyState::Applied as i32, "{name}: {apply:?}");
                ids.push(status.port_id);
            }
            ids
        };
        let (channel, first) = run("first");
        let reconciler = NvmfReconciler { resources: api.resources.clone() };
        create_listener(&api, "b", "127.0.0.1", b).await.unwrap();
        reconciler.sync(channel.clone()).await.unwrap();
        create_listener(&api, "a", "127.0.0.1", a).await.unwrap();
        reconciler.sync(channel).await.unwrap();
        let before = ids(&api.resources).await;
        assert!(before.iter().all(|id| *id > 0) && before[0] != before[1], "{before:?}");
        // Named, another listener's port ID is refused, naming that listener.
        let taken = ListenerSpec {
            address: "127.0.0.1".into(),
            port: 1,
            port_id: before[0],
            ..Default::default()
        };
        let listener = Listener { spec: Some(taken), ..Default::default() };
        let req = CreateListenerRequest { listener_id: "c".into(), listener: Some(listener) };
        let e = api.create_listener(Request::new(req)).await.unwrap_err();
        assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
        assert!(e.message().contains("is the port ID of listeners/a"), "{}", e.message());

        // The service restarts: its sockets close, a new one is synced.
        first.sync_state(SyncRequest::default()).await;
        let (channel, second) = run("second");
        reconciler.sync(channel).await.unwrap();
        assert_eq!(ids(&api.resources).await, before, "after a restart of the service");

        // The agent restarts too: another one reads the same store.
        second.sync_state(SyncRequest::default()).await;
        let (channel, _third) = run("third");
        let agent = NvmfResources::open(&store, &Services::unreachable(&[NVMF_SERVICE]));
        NvmfReconciler { resources: agent.clone() }.sync(channel).await.unwrap();
        assert_eq!(ids(&agent).await, before, "after a restart of the agent");
    }

    /// A group written to Change, another state and Change again between two Syncs (one
    /// Sync carries the last) is shown Change again, for a new ANATT, where its first
    /// Change had ended (Inaccessible): each group carries the store revision of the write
    /// that set its state, which a write leaving the state as stored keeps and replies do
    /// not show.
    #[tokio::test]
    async fn ana_change_written_anew_between_syncs_is_shown_change_again() {
        use dpu_proto::dpu::nvmf::v1::AnaGroupState;
        let dir = tempfile::tempdir().unwrap();
        let (store, api) = api_in(dir.path());
        let path = dir.path().join("nvmf.sock");
        let socket = dpu_runtime::unix::bind(&path).unwrap();
        let target = dpu_nvmf::Target::new();
        let internal =
            dpu_nvmf::internal::NvmfInternal::new(dpu_nvmf::Server::new(target.clone(), 1));
        let serve = tonic::transport::Server::builder().add_service(internal.into_server());
        tokio::spawn(serve.serve_with_incoming(socket));
        let channel = dpu_runtime::unix::channel(&path);
        let reconciler = NvmfReconciler { resources: api.resources.clone() };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();

        let with = |state: AnaState| ListenerSpec {
            address: "127.0.0.1".into(),
            port: u32::from(port),
            ana_groups: vec![AnaGroupState { group: 1, state: state as i32, ..Default::default() }],
            ..Default::default()
        };
        let write = async |state: AnaState| {
            let listener = Listener {
                name: "listeners/l".into(),
                spec: Some(with(state)),
                ..Default::default()
            };
            let req = UpdateListenerRequest {
                listener: Some(listener),
                allow_missing: true,
                ..Default::default()
            };
            api.update_listener(Request::new(req)).await.unwrap().into_inner()
        };
        let stored = async || api.resources.listeners.lookup("listeners/l").await.unwrap().unwrap();
        let shown = async || {
            let status = api.resources.listeners.get("listeners/l").await.unwrap().status.unwrap();
            status.ana_groups.iter().map(|g| g.state).collect::<Vec<_>>()
        };
        let change = AnaState::Change as i32;

        let created = write(AnaState::Change).await;
        assert_eq!(created.spec.unwrap().ana_groups[0].set_revision, 0, "replies show none");
        let first = stored().await.spec.ana_groups[0].set_revision;
        assert_eq!(first, store.revision(), "the revision of the write that set it");
        reconciler.sync(channel.clone()).await.unwrap();
        assert_eq!(shown().await, [change]);
        let id = api.resources.listeners.get("listeners/l").await.unwrap().status.unwrap().port_id;
        let ended = target.end_ana_changes(target.next_ana_change_end().unwrap());
        assert_eq!(ended, [(id as u16, 1)]);
        reconciler.sync(channel.clone()).await.unwrap();
        assert_eq!(shown().await, [AnaState::Inaccessible as i32]);
        // Change written again as it is stored: no write, the same revision, still ended.
        let again = write(AnaState::Change).await;
        assert_eq!(again.generation, created.generation);
        reconciler.sync(channel.clone()).await.unwrap();
        assert_eq!(shown().await, [AnaState::Inaccessible as i32]);

        write(AnaState::Optimized).await;
        write(AnaState::Change).await;
        assert!(stored().await.spec.ana_groups[0].set_revision > first);
        reconciler.sync(channel).await.unwrap();
        assert_eq!(shown().await, [change], "Change set anew");
        assert!(target.next_ana_change_end().is_some(), "a transition under way");
    }

    /// An address is stored in its one canonical form: a listener made or updated with
    /// another spelling of it is the same listener (an update that only respells it
    /// changes nothing: no new generation, no rebinding).
    #[tokio::test]
    async fn a_listener_address_is_stored_in_its_canonical_form() {
        let dir = tempfile::tempdir().unwrap();
        let (_store, api) = api_in(dir.path());
        let created = create_listener(&api, "l", "0:0:0:0:0:0:0:1", 4420).await.unwrap();
        let spec = created.spec.clone().unwrap();
        assert_eq!(spec.address, "::1");
        let respelled = ListenerSpec { address: "0::0:1".into(), ..spec };
        let listener =
            Listener { name: "listeners/l".into(), spec: Some(respelled), ..Default::default() };
        let req = UpdateListenerRequest { listener: Some(listener), ..Default::default() };
        let updated = api.update_listener(Request::new(req)).await.unwrap().into_inner();
        assert_eq!((updated.generation, &updated.etag), (created.generation, &created.etag));
        assert_eq!(updated.spec.unwrap().address, "::1");
    }

    /// Referral addresses are stored in their one form too (`dpu_proto::canonical_ip`, the
    /// reading the service and `dpuctl` share): case, zero-padded groups and an IPv4-mapped
    /// spelling give way to the form hosts are told, and an update that only respells them
    /// (or says 8009 for 0) changes nothing; two spellings of one are listed twice.
    #[tokio::test]
    async fn referral_addresses_are_stored_in_their_canonical_form() {
        use dpu_proto::dpu::nvmf::v1::Referral;
        let dir = tempfile::tempdir().unwrap();
        let (_store, api) = api_in(dir.path());
        let with = |refs: &[(&str, u32)]| ListenerSpec {
            address: "127.0.0.1".into(),
            port: 8009,
            discovery_only: true,
            referrals: refs
                .iter()
                .map(|(a, p)| Referral { address: (*a).into(), port: *p })
                .collect(),
            ..Default::default()
        };
        let create = |spec| CreateListenerRequest {
            listener_id: "d".into(),
            listener: Some(Listener { spec: Some(spec), ..Default::default() }),
        };
        let twice = with(&[("192.0.2.20", 0), ("::ffff:192.0.2.20", 0)]);
        let e = api.create_listener(Request::new(create(twice))).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
        assert!(e.message().contains("listed twice"), "{e:?}");
        let spelled = with(&[("::FFFF:192.0.2.20", 0), ("2001:0DB8::0001", 4420)]);
        let created =
            api.create_listener(Request::new(create(spelled))).await.unwrap().into_inner();
        let stored = created.spec.clone().unwrap();
        let addresses: Vec<&str> = stored.referrals.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(addresses, ["192.0.2.20", "2001:db8::1"]);
        let respelled = with(&[("192.0.2.20", 8009), ("2001:DB8:0::1", 4420)]);
        let listener = Listener {
            name: "listeners/d".into(),
            spec: Some(ListenerSpec { port_id: stored.port_id, ..respelled }),
            ..Default::default()
        };
        let req = UpdateListenerRequest { listener: Some(listener), ..Default::default() };
        let updated = api.update_listener(Request::new(req)).await.unwrap().into_inner();
        assert_eq!((updated.generation, &updated.etag), (created.generation, &created.etag));
        assert_eq!(updated.spec.unwrap().referrals, stored.referrals);
    }

    /// A listener refused for an address another has names both as socket addresses
    /// (`[::]:24420`), not as an address and a port run together (`:::24420`).
    #[tokio::test]
    async fn a_taken_address_is_named_as_a_socket_address() {
        let dir = tempfile::tempdir().unwrap();
        let (_store, api) = api_in(dir.path());
        create_listener(&api, "a", "::", 24420).await.unwrap();
        let e = create_listener(&api, "b", "::", 24420).await.unwrap_err();
        assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
        assert!(
            e.message().contains("[::]:24420 is taken by listeners/a ([::]:24420)"),
            "{}",
            e.message()
        );
    }

    /// A host listed twice in `allowed_hosts` is refused naming the entry, as one listed
    /// twice in `host_secrets` is: a subsystem's and a namespace's.
    #[test]
    fn a_host_allowed_twice_is_refused() {
        let s = SubsystemSpec {
            allowed_hosts: vec![HOST.into(), HOST2.into(), HOST.into()],
            ..spec(Vec::new())
        };
        let e = SubsystemKind::validate(&s, "subsystem.spec").unwrap_err();
        assert_eq!(refused(&s, ""), "subsystem.spec.allowed_hosts[2]");
        assert!(e.message().ends_with("listed twice"), "{}", e.message());
        let ns = NamespaceSpec {
            volume: "volumes/v".into(),
            allowed_hosts: vec![HOST.into(), HOST.into()],
            ..Default::default()
        };
        let e = NamespaceKind::validate(&ns, "namespace.spec").unwrap_err();
        let violation = &e.get_details_bad_request().unwrap().field_violations[0];
        assert_eq!(violation.field, "namespace.spec.allowed_hosts[1]");
    }

    /// A file volume larger than a file can be (off_t, 2^63 - 1 bytes) is refused at the
    /// API with the bound, not left to fail in the service.
    #[test]
    fn file_volumes_are_at_most_the_largest_file() {
        use dpu_proto::dpu::nvmf::v1::FileBackend;
        let file = |size_bytes| VolumeSpec {
            backend: Some(Backend::File(FileBackend { path: "/var/lib/v.img".into(), size_bytes })),
            ..Default::default()
        };
        VolumeKind::validate(&file(i64::MAX as u64 - 511), "volume.spec").unwrap();
        for size in [1 << 63, u64::MAX - 4095] {
            let e = VolumeKind::validate(&file(size), "volume.spec").unwrap_err();
            let violation = &e.get_details_bad_request().unwrap().field_violations[0];
            assert_eq!(violation.field, "volume.spec.file.size_bytes");
            assert!(e.message().contains("largest file size"), "{}", e.message());
        }
    }

    /// Callers asking for the statistics at once cost the service two snapshots in turn,
    /// not one each (GetNvmfStats, every Get/List's live figures and the metrics scrape all
    /// read through `nvmf_stats`).
    #[tokio::test]
    async fn statistics_asked_at_once_are_one_snapshot_for_all() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nvmf.sock");
        let listener = dpu_runtime::unix::bind(&path).unwrap();
        let server = dpu_nvmf::Server::new(dpu_nvmf::Target::new(), 1);
        let internal = dpu_nvmf::internal::NvmfInternal::new(server).into_server();
        let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let slow = SlowMethod { method: "/GetNvmfStats", asked: asked.clone() };
        let serve = tonic::transport::Server::builder().layer(slow).add_service(internal);
        tokio::spawn(serve.serve_with_incoming(listener));
        let handle = ServiceHandle::new(NVMF_SERVICE, dpu_runtime::unix::channel(&path));
        let services =
            Services { handles: [(NVMF_SERVICE.to_owned(), handle)].into(), ..Services::default() };
        let callers: Vec<_> = (0..20)
            .map(|_| {
                let services = services.clone();
                tokio::spawn(async move { nvmf_stats(&services).await })
            })
            .collect();
        for c in callers {
            c.await.unwrap().unwrap();
        }
        let asked = asked.load(std::sync::atomic::Ordering::SeqCst);
        assert!((1..=2).contains(&asked), "{asked} snapshots for 20 callers asking at once");
    }

    fn subsystem(s: usize, hosts: usize) -> Subsystem {
        Subsystem {
            spec: Some(SubsystemSpec {
                nqn: format!("nqn.2024-01.io.example:s{s}"),
                allowed_hosts: (0..hosts).map(|i| long_host(s, i)).collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The agent acknowledges no desired state one Sync cannot carry: a write after which
    /// the whole state would not fit is RESOURCE_EXHAUSTED and changes nothing, and the
    /// state just under the bound reaches the service (a Sync of 69 MB was acknowledged
    /// write by write, then refused by tonic's encoder on every sync).
    #[tokio::test]
    async fn a_write_one_sync_could_not_carry_is_refused_and_what_fits_syncs() {
        let dir = tempfile::tempdir().unwrap();
        let (_store, mut api) = api_in(dir.path());
        api.resources.sync_limit = 64 << 10;
        let resources = api.resources.clone();
        // Subsystems of 20 hosts (about 4.5 KB each) until one is refused.
        let mut refused = None;
        for s in 0..20 {
            let req = CreateSubsystemRequest {
                subsystem_id: format!("s{s}"),
                subsystem: Some(subsystem(s, 20)),
            };
            if let Err(e) = api.create_subsystem(Request::new(req)).await {
                refused = Some((s, e));
                break;
            }
        }
        let (fitted, e) = refused.expect("every write was acknowledged");
        assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
        assert!(e.message().contains("one Sync"), "{}", e.message());
        let stored = resources.snapshot().await.unwrap();
        assert_eq!(stored.subsystems.len(), fitted, "the refused write changed nothing");
        assert!(fitted > 1);
        // An update growing a stored one past the bound is refused the same way.
        let mut grown = subsystem(0, 60);
        grown.name = "subsystems/s0".into();
        let req = UpdateSubsystemRequest { subsystem: Some(grown), ..Default::default() };
        let e = api.update_subsystem(Request::new(req)).await.unwrap_err();
        assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
        let s0 = resources.subsystems.lookup("subsystems/s0").await.unwrap().unwrap();
        assert_eq!((s0.generation, s0.spec.allowed_hosts.len()), (1, 20));

        // What was acknowledged reaches the service, whose reply fits too.
        let reconciler = NvmfReconciler { resources: resources.clone() };
        reconciler.sync(nvmf_service(dir.path())).await.unwrap();
        let shown = api.resources.subsystems.get("subsystems/s0").await.unwrap();
        let apply = shown.status.unwrap().apply.unwrap();
        assert_eq!(apply.state, ApplyState::Applied as i32, "{apply:?}");
    }

    /// The reply to a Sync may be larger than the request (each object's status message,
    /// a namespace's NGUID, UUID and counters): the agent takes one of up to
    /// REPLY_FACTOR times its limit, so a state that fits one Sync has its statuses
    /// recorded, not PENDING for ever behind a reply refused on every try.
    #[tokio::test]
    async fn the_reply_to_a_sync_that_fits_is_taken_however_its_statuses_run() {
        use dpu_proto::dpu::nvmf::v1::{FileBackend, Volume};
        let dir = tempfile::tempdir().unwrap();
        let (_store, mut api) = api_in(dir.path());
        api.resources.sync_limit = 16 << 10;
        let resources = api.resources.clone();
        // Volumes on a file that cannot be made, each FAILED with a message longer than
        // its spec.
        let mut made = 0;
        for v in 0..2000 {
            let file = FileBackend { path: format!("/x/{v}"), size_bytes: 1 << 20 };
            let spec = VolumeSpec { backend: Some(Backend::File(file)), ..Default::default() };
            let volume = Volume { spec: Some(spec), ..Default::default() };
            let req = CreateVolumeRequest { volume_id: format!("{v}"), volume: Some(volume) };
            if api.create_volume(Request::new(req)).await.is_err() {
                break;
            }
            made += 1;
        }
        assert!(made > 10, "{made}");
        let reconciler = NvmfReconciler { resources: resources.clone() };
        reconciler.sync(nvmf_service(dir.path())).await.unwrap();
        for v in [0, made - 1] {
            let shown = api.resources.volumes.get(&format!("volumes/{v}")).await.unwrap();
            let apply = shown.status.unwrap().apply.unwrap();
            assert_eq!(apply.state, ApplyState::Failed as i32, "{apply:?}");
        }
    }

    /// A subsystem's and a namespace's host lists are at most MAX_HOSTS long, so what the
    /// service checks and applies for one object stays bounded.
    #[test]
    fn host_lists_are_bounded_naming_the_field() {
        let hosts = |n: usize| (0..n).map(|i| long_host(0, i)).collect::<Vec<_>>();
        let with = |n| SubsystemSpec { allowed_hosts: hosts(n), ..spec(Vec::new()) };
        SubsystemKind::validate(&with(MAX_HOSTS), "subsystem.spec").unwrap();
        assert_eq!(refused(&with(MAX_HOSTS + 1), ""), "subsystem.spec.allowed_hosts");
        let secrets = SubsystemSpec {
            allow_any_host: true,
            ..spec((0..=MAX_HOSTS).map(|i| secret(&long_host(0, i), &text(1), "")).collect())
        };
        assert_eq!(refused(&secrets, &text(1)), "subsystem.spec.host_secrets");
        let ns = |n| NamespaceSpec {
            volume: "volumes/v".into(),
            allowed_hosts: hosts(n),
            ..Default::default()
        };
        NamespaceKind::validate(&ns(MAX_HOSTS), "namespace.spec").unwrap();
        let e = NamespaceKind::validate(&ns(MAX_HOSTS + 1), "namespace.spec").unwrap_err();
        let violation = &e.get_details_bad_request().unwrap().field_violations[0];
        assert_eq!(violation.field, "namespace.spec.allowed_hosts");
    }

    #[test]
    fn ram_volumes_are_at_most_what_the_service_opens() {
        use dpu_proto::dpu::nvmf::v1::RamBackend;
        let ram = |size_bytes| VolumeSpec {
            backend: Some(Backend::Ram(RamBackend { size_bytes })),
            ..Default::default()
        };
        assert!(VolumeKind::validate(&ram(MAX_RAM_VOLUME), "volume.spec").is_ok());
        let e = VolumeKind::validate(&ram(MAX_RAM_VOLUME + 512), "volume.spec").unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument);
        assert!(e.message().contains("volume.spec.ram.size_bytes"), "{e:?}");
    }

    /// The reconciler sends the service nothing that is not on disk yet: hosts would be
    /// served a subsystem that a crash of the agent before the flush takes out of the store
    /// (and the next sync out of the service). A sync waits for the writes its snapshot saw.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_sync_waits_until_what_it_sends_is_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let (store, api) = api_in(dir.path());
        let (channel, _service) = nvmf_service_driven(dir.path());
        let subsystems = api.resources.subsystems.clone();
        let create = async move {
            let spec = subsystem(0, 1).spec;
            subsystems.create("subsystems/s0", "", spec.as_ref(), async |_| Ok(())).await
        };
        let reconciler = NvmfReconciler { resources: api.resources.clone() };
        let sync = async move { reconciler.sync(channel).await };
        let (created, synced) =
            super::super::resource::sync_during_a_held_flush(&store, create, sync).await;
        created.unwrap();
        synced.unwrap();
        let shown = api.resources.subsystems.get("subsystems/s0").await.unwrap();
        let apply = shown.status.unwrap().apply.unwrap();
        assert_eq!(apply.state, ApplyState::Applied as i32, "{apply:?}");
    }
}
