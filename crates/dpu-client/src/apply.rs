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

/// The current spec and etag of `resource`, if it exists.
async fn current(
    client: &Client,
    resource: &Resource,
) -> Result<Option<(Resource, String)>, Status> {
    let name = resource.full_name();
    let id = resource.id().to_owned();
    macro_rules! get {
        ($svc:ident, $method:ident, $req:expr, $variant:ident) => {{
            let got = absent_is_none(client.$svc().$method($req).await)?;
            Ok(got.map(|o| {
                (Resource::$variant { id: id.clone(), spec: o.spec.unwrap_or_default() }, o.etag)
            }))
        }};
    }
    match resource {
        Resource::Sysctl { .. } => get!(system, get_sysctl, GetSysctlRequest { name }, Sysctl),
        Resource::Volume { .. } => get!(nvmf, get_volume, nvmf::GetVolumeRequest { name }, Volume),
        Resource::Subsystem { .. } => {
            get!(nvmf, get_subsystem, nvmf::GetSubsystemRequest { name }, Subsystem)
        }
        Resource::Namespace { .. } => {
            get!(nvmf, get_namespace, nvmf::GetNamespaceRequest { name }, Namespace)
        }
        Resource::Listener { .. } => {
            get!(nvmf, get_listener, nvmf::GetListenerRequest { name }, Listener)
        }
        Resource::Switch { spec, .. } => Ok(switch::current(client, spec.kind(), &name)
            .await?
            .map(|(spec, etag)| (Resource::Switch { id, spec }, etag))),
    }
}

async fn create(client: &Client, resource: &Resource) -> Result<(), Status> {
    let (mut sys, mut nv) = (client.system(), client.nvmf());
    match resource.clone() {
        Resource::Sysctl { id, spec } => {
            sys.create_sysctl(CreateSysctlRequest {
                sysctl_id: id,
                sysctl: Some(Sysctl { spec: Some(spec), ..Default::default() }),
            })
            .await?;
        }
        Resource::Volume { id, spec } => {
            nv.create_volume(nvmf::CreateVolumeRequest {
                volume_id: id,
                volume: Some(nvmf::Volume { spec: Some(spec), ..Default::default() }),
            })
            .await?;
        }
        Resource::Subsystem { id, spec } => {
            nv.create_subsystem(nvmf::CreateSubsystemRequest {
                subsystem_id: id,
                subsystem: Some(nvmf::Subsystem { spec: Some(spec), ..Default::default() }),
            })
            .await?;
        }
        Resource::Namespace { id, spec } => {
            let (sub, nsid) = id.split_once("/namespaces/").unwrap_or((id.as_str(), ""));
            nv.create_namespace(nvmf::CreateNamespaceRequest {
                parent: format!("subsystems/{sub}"),
                namespace_id: nsid.to_owned(),
                namespace: Some(nvmf::Namespace { spec: Some(spec), ..Default::default() }),
            })
            .await?;
        }
        Resource::Listener { id, spec } => {
            nv.create_listener(nvmf::CreateListenerRequest {
                listener_id: id,
                listener: Some(nvmf::Listener { spec: Some(spec), ..Default::default() }),
            })
            .await?;
        }
        Resource::Switch { id, spec } => switch::create(client, &id, &spec).await?,
    }
    Ok(())
}

/// Updates the whole spec of `resource` if its etag is still `etag`; returns the new etag.
async fn update(client: &Client, resource: &Resource, etag: String) -> Result<String, Status> {
    let name = resource.full_name();
    let update_mask = whole_spec();
    // Every kind's request has the same shape: the object with its name, spec and etag.
    // `$svc` names both the client's service and the proto module of its messages.
    macro_rules! update {
        ($svc:ident, $method:ident, $req:ident, $obj:ident, $field:ident, $spec:expr) => {{
            let object = $svc::$obj { name, spec: Some($spec), etag, ..Default::default() };
            let req = $svc::$req { $field: Some(object), update_mask, allow_missing: false };
            client.$svc().$method(req).await?.into_inner().etag
        }};
    }
    let new_etag = match resource.clone() {
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
    Ok(new_etag)
}

/// Creates or updates one resource.
pub async fn apply(client: &Client, resource: &Resource) -> Result<Outcome, Status> {
    // Bounded: a create that loses a race to another writer turns into an update once.
    for _ in 0..2 {
        match current(client, resource).await? {
            None => match create(client, resource).await {
                Ok(()) => return Ok(Outcome::Created),
                Err(s) if s.code() == Code::AlreadyExists => continue,
                Err(s) => return Err(s),
            },
            Some((current, _))
                if current == resource.shown_against(&current) && !resource.has_write_only() =>
            {
                return Ok(Outcome::Unchanged);
            }
            // A difference, or write-only values that may differ: send the spec; the agent
            // keeps the etag when it stores nothing new.
            Some((_, etag)) => {
                let new_etag = update(client, resource, etag.clone()).await?;
                return Ok(if new_etag == etag { Outcome::Unchanged } else { Outcome::Configured });
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
    Ok(differences(resource, current.as_ref().map(|(c, _)| c)))
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
}
