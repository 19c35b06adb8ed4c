//! Declarative apply and diff: make the agent's desired state match a manifest, touching only
//! what differs (so applying the same file twice changes nothing the second time).
//!
//! Every kind goes through the same steps ([`apply`]): read the current object, create it
//! when absent, update it with the etag read when its spec differs, else leave it. The
//! agent stores nothing for a spec it reads as the one it has (a volume's block size
//! respelled, a secret sent again), so an update that returns the etag read left the
//! object unchanged, and apply says so.
//!
//! Write-only values (a subsystem's DH-HMAC-CHAP secrets) come back blank, so they are
//! compared as the agent shows them ([`Resource::shown_against`]) and diff never prints
//! them. A manifest that carries them is sent again when everything else matches, so a
//! rotated secret is applied.

use dpu_proto::dpu::nvmf::v1 as nvmf;
use dpu_proto::dpu::system::v1 as system;
use dpu_proto::dpu::system::v1::{CreateSysctlRequest, GetSysctlRequest, Sysctl};
use pbjson_types::FieldMask;
use serde::Serialize;
use tonic::{Code, Status};

use crate::manifest::Resource;
use crate::{Client, switch};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Configured,
    Unchanged,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Configured => "configured",
            Outcome::Unchanged => "unchanged",
        }
    }
}

/// An object apply created, updated or found as wanted: what it did, and the object's
/// generation then, which its status reaches once its service has it ([`observe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub outcome: Outcome,
    pub generation: i64,
}

/// How far an object's service got with it, as the agent shows it: PENDING until the service
/// reported the object's current generation, then APPLIED or FAILED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Pending,
    Applied,
    Failed,
    /// A state this build does not know (a newer agent's), by its number.
    Unknown(i32),
}

impl Progress {
    /// The state of any API's `ApplyState` (the three number it alike; no status, or
    /// UNSPECIFIED, is PENDING, as the agent shows an object its service has not reported).
    fn of(state: i32) -> Self {
        use system::ApplyState;
        match ApplyState::try_from(state) {
            Ok(ApplyState::Unspecified | ApplyState::Pending) => Progress::Pending,
            Ok(ApplyState::Applied) => Progress::Applied,
            Ok(ApplyState::Failed) => Progress::Failed,
            Err(_) => Progress::Unknown(state),
        }
    }
}

/// As `dpuctl list` shows states: `PENDING`, `APPLIED`, `FAILED`, `unknown(N)`.
impl std::fmt::Display for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Progress::Pending => f.write_str("PENDING"),
            Progress::Applied => f.write_str("APPLIED"),
            Progress::Failed => f.write_str("FAILED"),
            Progress::Unknown(n) => write!(f, "unknown({n})"),
        }
    }
}

/// What the agent shows of an object now: its generation, and how far its service got with
/// it, with the service's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub generation: i64,
    pub progress: Progress,
    pub message: String,
}

impl Observed {
    /// From a status's state and message (None: no status).
    pub(crate) fn new(generation: i64, reported: Option<(i32, &str)>) -> Self {
        let (state, message) = reported.unwrap_or_default();
        Self { generation, progress: Progress::of(state), message: message.to_owned() }
    }
}

/// The agent's copy of an object.
struct Current {
    resource: Resource,
    etag: String,
    observed: Observed,
}

/// The message of a successful call, None for NOT_FOUND.
pub(crate) fn absent_is_none<T>(
    r: Result<tonic::Response<T>, Status>,
) -> Result<Option<T>, Status> {
    match r {
        Ok(r) => Ok(Some(r.into_inner())),
        Err(s) if s.code() == Code::NotFound => Ok(None),
        Err(s) => Err(s),
    }
}

/// The update mask of a whole-spec update.
pub(crate) fn whole_spec() -> Option<FieldMask> {
    Some(FieldMask { paths: vec!["spec".into()] })
}

/// The agent's copy of `resource`, if it exists.
async fn current(client: &Client, resource: &Resource) -> Result<Option<Current>, Status> {
    let name = resource.full_name();
    let id = resource.id().to_owned();
    // `$status` reads the state and message of the reply `$o`.
    macro_rules! get {
        ($svc:ident, $method:ident, $req:expr, $variant:ident, |$o:ident| $status:expr) => {{
            let got = absent_is_none(client.$svc().$method($req).await)?;
            Ok(got.map(|$o| {
                let observed = Observed::new($o.generation, $status);
                let spec = $o.spec.unwrap_or_default();
                Current {
                    resource: Resource::$variant { id: id.clone(), spec },
                    etag: $o.etag,
                    observed,
                }
            }))
        }};
    }
    // An nvmf object's apply status.
    macro_rules! nvmf_get {
        ($method:ident, $req:ident, $variant:ident) => {
            get!(nvmf, $method, nvmf::$req { name }, $variant, |o| {
                let apply = o.status.as_ref().and_then(|s| s.apply.as_ref());
                apply.map(|a| (a.state, a.message.as_str()))
            })
        };
    }
    match resource {
        Resource::Sysctl { .. } => {
            get!(system, get_sysctl, GetSysctlRequest { name }, Sysctl, |o| {
                o.status.as_ref().map(|s| (s.state, s.message.as_str()))
            })
        }
        Resource::Volume { .. } => nvmf_get!(get_volume, GetVolumeRequest, Volume),
        Resource::Subsystem { .. } => nvmf_get!(get_subsystem, GetSubsystemRequest, Subsystem),
        Resource::Namespace { .. } => nvmf_get!(get_namespace, GetNamespaceRequest, Namespace),
        Resource::Listener { .. } => nvmf_get!(get_listener, GetListenerRequest, Listener),
        Resource::Switch { spec, .. } => {
            Ok(switch::current(client, spec.kind(), &name).await?.map(|(spec, etag, observed)| {
                Current { resource: Resource::Switch { id, spec }, etag, observed }
            }))
        }
    }
}

/// What the agent shows of `resource` now; NOT_FOUND once it is gone.
pub async fn observe(client: &Client, resource: &Resource) -> Result<Observed, Status> {
    match current(client, resource).await? {
        Some(c) => Ok(c.observed),
        None => Err(Status::not_found(format!("{} no longer exists", resource.full_name()))),
    }
}

/// Creates `resource`; returns its generation.
async fn create(client: &Client, resource: &Resource) -> Result<i64, Status> {
    let (mut sys, mut nv) = (client.system(), client.nvmf());
    let generation = match resource.clone() {
        Resource::Sysctl { id, spec } => {
            sys.create_sysctl(CreateSysctlRequest {
                sysctl_id: id,
                sysctl: Some(Sysctl { spec: Some(spec), ..Default::default() }),
            })
            .await?
            .into_inner()
            .generation
        }
        Resource::Volume { id, spec } => {
            nv.create_volume(nvmf::CreateVolumeRequest {
                volume_id: id,
                volume: Some(nvmf::Volume { spec: Some(spec), ..Default::default() }),
            })
            .await?
            .into_inner()
            .generation
        }
        Resource::Subsystem { id, spec } => {
            nv.create_subsystem(nvmf::CreateSubsystemRequest {
                subsystem_id: id,
                subsystem: Some(nvmf::Subsystem { spec: Some(spec), ..Default::default() }),
            })
            .await?
            .into_inner()
            .generation
        }
        Resource::Namespace { id, spec } => {
            let (sub, nsid) = id.split_once("/namespaces/").unwrap_or((id.as_str(), ""));
            nv.create_namespace(nvmf::CreateNamespaceRequest {
                parent: format!("subsystems/{sub}"),
                namespace_id: nsid.to_owned(),
                namespace: Some(nvmf::Namespace { spec: Some(spec), ..Default::default() }),
            })
            .await?
            .into_inner()
            .generation
        }
        Resource::Listener { id, spec } => {
            nv.create_listener(nvmf::CreateListenerRequest {
                listener_id: id,
                listener: Some(nvmf::Listener { spec: Some(spec), ..Default::default() }),
            })
            .await?
            .into_inner()
            .generation
        }
        Resource::Switch { id, spec } => switch::create(client, &id, &spec).await?,
    };
    Ok(generation)
}

/// Updates the whole spec of `resource` if its etag is still `etag`; returns the new etag
/// and generation.
async fn update(
    client: &Client,
    resource: &Resource,
    etag: String,
) -> Result<(String, i64), Status> {
    let name = resource.full_name();
    let update_mask = whole_spec();
    // Every kind's request has the same shape: the object with its name, spec and etag.
    // `$svc` names both the client's service and the proto module of its messages.
    macro_rules! update {
        ($svc:ident, $method:ident, $req:ident, $obj:ident, $field:ident, $spec:expr) => {{
            let object = $svc::$obj { name, spec: Some($spec), etag, ..Default::default() };
            let req = $svc::$req { $field: Some(object), update_mask, allow_missing: false };
            let updated = client.$svc().$method(req).await?.into_inner();
            (updated.etag, updated.generation)
        }};
    }
    let updated = match resource.clone() {
        Resource::Sysctl { spec, .. } => {
            update!(system, update_sysctl, UpdateSysctlRequest, Sysctl, sysctl, spec)
        }
        Resource::Volume { spec, .. } => {
            update!(nvmf, update_volume, UpdateVolumeRequest, Volume, volume, spec)
        }
        Resource::Subsystem { spec, .. } => {
            update!(nvmf, update_subsystem, UpdateSubsystemRequest, Subsystem, subsystem, spec)
        }
        Resource::Namespace { spec, .. } => {
            update!(nvmf, update_namespace, UpdateNamespaceRequest, Namespace, namespace, spec)
        }
        Resource::Listener { spec, .. } => {
            update!(nvmf, update_listener, UpdateListenerRequest, Listener, listener, spec)
        }
        Resource::Switch { spec, .. } => switch::update(client, name, &spec, etag).await?,
    };
    Ok(updated)
}

/// Creates or updates one resource.
pub async fn apply(client: &Client, resource: &Resource) -> Result<Applied, Status> {
    // Bounded: a create that loses a race to another writer turns into an update once.
    for _ in 0..2 {
        match current(client, resource).await? {
            None => match create(client, resource).await {
                Ok(generation) => return Ok(Applied { outcome: Outcome::Created, generation }),
                Err(s) if s.code() == Code::AlreadyExists => continue,
                Err(s) => return Err(s),
            },
            Some(c)
                if c.resource == resource.shown_against(&c.resource)
                    && !resource.has_write_only() =>
            {
                let generation = c.observed.generation;
                return Ok(Applied { outcome: Outcome::Unchanged, generation });
            }
            // A difference, or write-only values that may differ: send the spec; the agent
            // keeps the etag when it stores nothing new.
            Some(c) => {
                let (new_etag, generation) = update(client, resource, c.etag.clone()).await?;
                let outcome =
                    if new_etag == c.etag { Outcome::Unchanged } else { Outcome::Configured };
                return Ok(Applied { outcome, generation });
            }
        }
    }
    Err(Status::aborted(format!("{} keeps changing; retry", resource.full_name())))
}

/// The spec as proto3 JSON fields (defaults omitted, as the mapping does).
fn fields(resource: &Resource) -> serde_json::Map<String, serde_json::Value> {
    fn map<S: Serialize>(s: &S) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(s) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        }
    }
    match resource {
        Resource::Sysctl { spec, .. } => map(spec),
        Resource::Volume { spec, .. } => map(spec),
        Resource::Subsystem { spec, .. } => map(spec),
        Resource::Namespace { spec, .. } => map(spec),
        Resource::Listener { spec, .. } => map(spec),
        Resource::Switch { spec, .. } => match spec.to_json() {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        },
    }
}

/// One line per changed field: what apply would do, without doing it. Write-only values
/// are compared (and shown) blank: a changed secret alone is no difference here, nor is
/// a respelled block size, which the agent would keep ([`Resource::shown_against`]).
pub async fn diff(client: &Client, resource: &Resource) -> Result<Vec<String>, Status> {
    let current = current(client, resource).await?;
    Ok(differences(resource, current.as_ref().map(|c| &c.resource)))
}

/// What [`diff`] prints for `resource` given the agent's copy `current` (None: absent).
/// An absent object is always a difference, one line per field it sets, or `spec = {}`
/// when it sets none (a VRF without a description): apply would create it.
pub fn differences(resource: &Resource, current: Option<&Resource>) -> Vec<String> {
    let name = resource.full_name();
    match current {
        None => {
            let new = fields(&resource.shown());
            if new.is_empty() {
                return vec![format!("+ {name}: spec = {{}}")];
            }
            new.iter().map(|(k, v)| format!("+ {name}: spec.{k} = {v}")).collect()
        }
        Some(current) => {
            let new = fields(&resource.shown_against(current));
            let old = fields(current);
            let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter_map(|k| {
                    let (o, n) = (old.get(k), new.get(k));
                    (o != n).then(|| {
                        let show = |v: Option<&serde_json::Value>| {
                            v.map_or_else(|| "(unset)".to_owned(), ToString::to_string)
                        };
                        format!("~ {name}: spec.{k} {} -> {}", show(o), show(n))
                    })
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use dpu_proto::dpu::switch::v1 as sw;
    use dpu_proto::dpu::switch::v1::VrfSpec;
    use dpu_proto::dpu::system::v1::SysctlSpec;

    use super::*;
    use crate::switch::SwitchSpec;

    /// An object the agent does not have is a difference even when its spec sets nothing
    /// (`kind: Vrf`, `spec: {}`, as in the demo's overlay): diff must not exit 0 for a file
    /// apply would still create objects from.
    #[test]
    fn an_absent_object_is_a_difference_even_with_an_empty_spec() {
        let vrf = Resource::Switch { id: "red".into(), spec: SwitchSpec::Vrf(VrfSpec::default()) };
        assert_eq!(differences(&vrf, None), ["+ vrfs/red: spec = {}"]);
        assert!(differences(&vrf, Some(&vrf)).is_empty());
        let described = VrfSpec { description: "tenant".into() };
        let theirs = Resource::Switch { id: "red".into(), spec: SwitchSpec::Vrf(described) };
        assert_eq!(
            differences(&vrf, Some(&theirs)),
            ["~ vrfs/red: spec.description \"tenant\" -> (unset)"]
        );
        let sysctl = Resource::Sysctl {
            id: "vm.swappiness".into(),
            spec: SysctlSpec { value: "10".into() },
        };
        assert_eq!(differences(&sysctl, None), ["+ sysctls/vm.swappiness: spec.value = \"10\""]);
    }

    /// The three APIs number their apply states alike, which [`Progress::of`] relies on.
    #[test]
    fn every_api_numbers_its_apply_states_alike() {
        let states = [
            (
                system::ApplyState::Pending as i32,
                nvmf::ApplyState::Pending as i32,
                sw::ApplyState::Pending as i32,
            ),
            (
                system::ApplyState::Applied as i32,
                nvmf::ApplyState::Applied as i32,
                sw::ApplyState::Applied as i32,
            ),
            (
                system::ApplyState::Failed as i32,
                nvmf::ApplyState::Failed as i32,
                sw::ApplyState::Failed as i32,
            ),
        ];
        for (sysctl, nvmf, switch) in states {
            assert!(sysctl == nvmf && nvmf == switch, "{sysctl} {nvmf} {switch}");
        }
        assert_eq!(Progress::of(sw::ApplyState::Failed as i32), Progress::Failed);
        assert_eq!(Progress::of(0), Progress::Pending);
        assert_eq!(Progress::of(9), Progress::Unknown(9));
        assert_eq!(Observed::new(3, None).progress, Progress::Pending);
    }
}
