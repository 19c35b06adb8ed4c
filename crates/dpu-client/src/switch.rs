//! The switch kinds of manifests and the CLI, over `dpu.switch.v1.SwitchService`.
//!
//! The seven switch resources share one request shape (Get/Delete by name, List paged, nested
//! kinds listed by parent), so one [`SwitchSpec`] enum and one set of calls serve all of them;
//! reads come back as [`SwitchObject`]s, the resource message in the proto3 JSON mapping with
//! its name, state and generation picked out for tables.

use dpu_proto::dpu::switch::v1 as sw;
use dpu_proto::dpu::switch::v1::{
    BridgeSpec, DeleteResourceRequest, GetResourceRequest, ListChildrenRequest,
    ListResourcesRequest, PortSpec, Route, StaticMacSpec, SviSpec, VrfSpec, VtepSpec,
};
use serde::Serialize;
use tonic::Status;

use crate::Client;
use crate::apply::{Observed, absent_is_none};
use crate::manifest::{self, Kind};
use crate::paging::all_pages;

/// The spec of one switch resource.
#[derive(Debug, Clone, PartialEq)]
pub enum SwitchSpec {
    Bridge(BridgeSpec),
    Port(PortSpec),
    Vtep(VtepSpec),
    Vrf(VrfSpec),
    Route(Route),
    Svi(SviSpec),
    StaticMac(StaticMacSpec),
}

impl SwitchSpec {
    pub fn kind(&self) -> Kind {
        match self {
            SwitchSpec::Bridge(_) => manifest::BRIDGE,
            SwitchSpec::Port(_) => manifest::PORT,
            SwitchSpec::Vtep(_) => manifest::VTEP,
            SwitchSpec::Vrf(_) => manifest::VRF,
            SwitchSpec::Route(_) => manifest::ROUTE,
            SwitchSpec::Svi(_) => manifest::SVI,
            SwitchSpec::StaticMac(_) => manifest::STATIC_MAC,
        }
    }

    /// Parses the manifest `spec` of switch kind `kind`; None for a kind that is not the
    /// switch's.
    pub fn from_json(kind: Kind, spec: serde_json::Value) -> Option<serde_json::Result<Self>> {
        fn parse<T: serde::de::DeserializeOwned>(
            spec: serde_json::Value,
            wrap: fn(T) -> SwitchSpec,
        ) -> serde_json::Result<SwitchSpec> {
            serde_json::from_value(spec).map(wrap)
        }
        Some(match kind {
            manifest::BRIDGE => parse(spec, SwitchSpec::Bridge),
            manifest::PORT => parse(spec, SwitchSpec::Port),
            manifest::VTEP => parse(spec, SwitchSpec::Vtep),
            manifest::VRF => parse(spec, SwitchSpec::Vrf),
            manifest::ROUTE => parse(spec, SwitchSpec::Route),
            manifest::SVI => parse(spec, SwitchSpec::Svi),
            manifest::STATIC_MAC => parse(spec, SwitchSpec::StaticMac),
            _ => return None,
        })
    }

    /// The spec in the proto3 JSON mapping.
    pub fn to_json(&self) -> serde_json::Value {
        let v = match self {
            SwitchSpec::Bridge(s) => serde_json::to_value(s),
            SwitchSpec::Port(s) => serde_json::to_value(s),
            SwitchSpec::Vtep(s) => serde_json::to_value(s),
            SwitchSpec::Vrf(s) => serde_json::to_value(s),
            SwitchSpec::Route(s) => serde_json::to_value(s),
            SwitchSpec::Svi(s) => serde_json::to_value(s),
            SwitchSpec::StaticMac(s) => serde_json::to_value(s),
        };
        v.unwrap_or_default()
    }
}

/// A switch resource as read from the agent.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct SwitchObject {
    /// The resource message in the proto3 JSON mapping.
    pub message: serde_json::Value,
}

impl SwitchObject {
    fn new<T: Serialize>(message: &T) -> Self {
        Self { message: serde_json::to_value(message).unwrap_or_default() }
    }

    pub fn name(&self) -> &str {
        self.message["name"].as_str().unwrap_or_default()
    }

    pub fn generation(&self) -> String {
        match &self.message["generation"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "0".into(),
            other => other.to_string(),
        }
    }

    /// APPLIED, PENDING or FAILED (unknown(N) for a state this build does not know, which
    /// the JSON mapping writes as its number), and the message.
    pub fn state(&self) -> (String, String) {
        let status = &self.message["status"];
        let state = match &status["state"] {
            serde_json::Value::String(s) => s.trim_start_matches("APPLY_STATE_").to_owned(),
            serde_json::Value::Null => "PENDING".to_owned(),
            other => format!("unknown({other})"),
        };
        (state, status["message"].as_str().unwrap_or_default().to_owned())
    }

    /// The spec's fields, `key=value` separated by spaces.
    pub fn spec_summary(&self) -> String {
        let serde_json::Value::Object(spec) = &self.message["spec"] else { return String::new() };
        spec.iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The current spec, etag and status of `name` (a full name), if it exists.
pub(crate) async fn current(
    client: &Client,
    kind: Kind,
    name: &str,
) -> Result<Option<(SwitchSpec, String, Observed)>, Status> {
    let mut c = client.switch();
    let req = GetResourceRequest { name: name.to_owned() };
    macro_rules! get {
        ($method:ident, $variant:ident) => {
            absent_is_none(c.$method(req).await)?.map(|o| {
                let status = o.status.as_ref().map(|s| (s.state, s.message.as_str()));
                let observed = Observed::new(o.generation, status);
                (SwitchSpec::$variant(o.spec.unwrap_or_default()), o.etag, observed)
            })
        };
    }
    Ok(match kind {
        manifest::BRIDGE => get!(get_bridge, Bridge),
        manifest::PORT => get!(get_port, Port),
        manifest::VTEP => get!(get_vtep, Vtep),
        manifest::VRF => get!(get_vrf, Vrf),
        manifest::ROUTE => get!(get_route, Route),
        manifest::SVI => get!(get_svi, Svi),
        _ => get!(get_static_mac, StaticMac),
    })
}

/// One object by full name.
pub async fn get(client: &Client, kind: Kind, name: &str) -> Result<SwitchObject, Status> {
    let mut c = client.switch();
    let req = GetResourceRequest { name: name.to_owned() };
    let o = match kind {
        manifest::BRIDGE => SwitchObject::new(&c.get_bridge(req).await?.into_inner()),
        manifest::PORT => SwitchObject::new(&c.get_port(req).await?.into_inner()),
        manifest::VTEP => SwitchObject::new(&c.get_vtep(req).await?.into_inner()),
        manifest::VRF => SwitchObject::new(&c.get_vrf(req).await?.into_inner()),
        manifest::ROUTE => SwitchObject::new(&c.get_route(req).await?.into_inner()),
        manifest::SVI => SwitchObject::new(&c.get_svi(req).await?.into_inner()),
        _ => SwitchObject::new(&c.get_static_mac(req).await?.into_inner()),
    };
    Ok(o)
}

/// Every object of `kind`, all pages ([`all_pages`]).
pub async fn list(client: &Client, kind: Kind) -> Result<Vec<SwitchObject>, Status> {
    let c = client.switch();
    all_pages(|token| {
        let mut c = c.clone();
        async move {
            let top = ListResourcesRequest { page_size: 1000, page_token: token.clone() };
            let nested =
                ListChildrenRequest { parent: String::new(), page_size: 1000, page_token: token };
            macro_rules! page {
                ($method:ident, $req:expr, $field:ident) => {{
                    let page = c.$method($req).await?.into_inner();
                    (page.$field.iter().map(SwitchObject::new).collect(), page.next_page_token)
                }};
            }
            Ok(match kind {
                manifest::BRIDGE => page!(list_bridges, top, bridges),
                manifest::PORT => page!(list_ports, top, ports),
                manifest::VTEP => page!(list_vteps, top, vteps),
                manifest::VRF => page!(list_vrfs, top, vrfs),
                manifest::ROUTE => page!(list_routes, nested, routes),
                manifest::SVI => page!(list_svis, top, svis),
                _ => page!(list_static_macs, nested, static_macs),
            })
        }
    })
    .await
}

/// Creates `id` (for nested kinds `PARENT/child/ID`, e.g. `red/routes/default`); returns its
/// generation.
pub async fn create(client: &Client, id: &str, spec: &SwitchSpec) -> Result<i64, Status> {
    let mut c = client.switch();
    let id = id.to_owned();
    // Nested kinds: the parent's full name and the child id.
    let nested = |child: &str, parent_collection: &str| {
        let (parent, child_id) = id.split_once(&format!("/{child}/")).unwrap_or((&id, ""));
        (format!("{parent_collection}/{parent}"), child_id.to_owned())
    };
    let generation = match spec.clone() {
        SwitchSpec::Bridge(s) => {
            let bridge = sw::BridgeResource { spec: Some(s), ..Default::default() };
            c.create_bridge(sw::CreateBridgeRequest { bridge_id: id, bridge: Some(bridge) })
                .await?
                .into_inner()
                .generation
        }
        SwitchSpec::Port(s) => {
            let port = sw::PortResource { spec: Some(s), ..Default::default() };
            c.create_port(sw::CreatePortRequest { port_id: id, port: Some(port) })
                .await?
                .into_inner()
                .generation
        }
        SwitchSpec::Vtep(s) => {
            let vtep = sw::VtepResource { spec: Some(s), ..Default::default() };
            c.create_vtep(sw::CreateVtepRequest { vtep_id: id, vtep: Some(vtep) })
                .await?
                .into_inner()
                .generation
        }
        SwitchSpec::Vrf(s) => {
            let vrf = sw::VrfResource { spec: Some(s), ..Default::default() };
            c.create_vrf(sw::CreateVrfRequest { vrf_id: id, vrf: Some(vrf) })
                .await?
                .into_inner()
                .generation
        }
        SwitchSpec::Svi(s) => {
            let svi = sw::SviResource { spec: Some(s), ..Default::default() };
            c.create_svi(sw::CreateSviRequest { svi_id: id, svi: Some(svi) })
                .await?
                .into_inner()
                .generation
        }
        SwitchSpec::Route(s) => {
            let (parent, route_id) = nested("routes", "vrfs");
            let route = sw::RouteResource { spec: Some(s), ..Default::default() };
            c.create_route(sw::CreateRouteRequest { parent, route_id, route: Some(route) })
                .await?
                .into_inner()
                .generation
        }
        SwitchSpec::StaticMac(s) => {
            let (parent, static_mac_id) = nested("static-macs", "bridges");
            let static_mac = sw::StaticMacResource { spec: Some(s), ..Default::default() };
            c.create_static_mac(sw::CreateStaticMacRequest {
                parent,
                static_mac_id,
                static_mac: Some(static_mac),
            })
            .await?
            .into_inner()
            .generation
        }
    };
    Ok(generation)
}

/// Replaces the whole spec of `name` if its etag is still `etag`; returns the new etag and
/// generation.
pub async fn update(
    client: &Client,
    name: String,
    spec: &SwitchSpec,
    etag: String,
) -> Result<(String, i64), Status> {
    let mut c = client.switch();
    let update_mask = crate::apply::whole_spec();
    macro_rules! update {
        ($method:ident, $req:ident, $res:ident, $field:ident, $s:expr) => {{
            let r = sw::$res { name, spec: Some($s), etag, ..Default::default() };
            let req = sw::$req { $field: Some(r), update_mask, allow_missing: false };
            let updated = c.$method(req).await?.into_inner();
            (updated.etag, updated.generation)
        }};
    }
    Ok(match spec.clone() {
        SwitchSpec::Bridge(s) => {
            update!(update_bridge, UpdateBridgeRequest, BridgeResource, bridge, s)
        }
        SwitchSpec::Port(s) => update!(update_port, UpdatePortRequest, PortResource, port, s),
        SwitchSpec::Vtep(s) => update!(update_vtep, UpdateVtepRequest, VtepResource, vtep, s),
        SwitchSpec::Vrf(s) => update!(update_vrf, UpdateVrfRequest, VrfResource, vrf, s),
        SwitchSpec::Route(s) => update!(update_route, UpdateRouteRequest, RouteResource, route, s),
        SwitchSpec::Svi(s) => update!(update_svi, UpdateSviRequest, SviResource, svi, s),
        SwitchSpec::StaticMac(s) => {
            update!(update_static_mac, UpdateStaticMacRequest, StaticMacResource, static_mac, s)
        }
    })
}

/// Deletes `name` (a full name).
pub async fn delete(
    client: &Client,
    kind: Kind,
    name: String,
    allow_missing: bool,
) -> Result<(), Status> {
    let mut c = client.switch();
    let req = DeleteResourceRequest { name, etag: String::new(), allow_missing };
    match kind {
        manifest::BRIDGE => c.delete_bridge(req).await?,
        manifest::PORT => c.delete_port(req).await?,
        manifest::VTEP => c.delete_vtep(req).await?,
        manifest::VRF => c.delete_vrf(req).await?,
        manifest::ROUTE => c.delete_route(req).await?,
        manifest::SVI => c.delete_svi(req).await?,
        _ => c.delete_static_mac(req).await?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state a newer agent added neither blanks the object nor reads as a known state.
    #[test]
    fn an_unknown_state_is_shown_as_such() {
        let bridge = |state| sw::BridgeResource {
            name: "bridges/blue".into(),
            status: Some(sw::ObjectStatus { state, message: "m".into(), ..Default::default() }),
            ..Default::default()
        };
        let o = SwitchObject::new(&bridge(9));
        assert_eq!(o.name(), "bridges/blue");
        assert_eq!(o.state(), ("unknown(9)".to_owned(), "m".to_owned()));
        let o = SwitchObject::new(&bridge(sw::ApplyState::Failed as i32));
        assert_eq!(o.state().0, "FAILED");
        assert_eq!(SwitchObject::new(&bridge(0)).state().0, "PENDING");
    }
}
