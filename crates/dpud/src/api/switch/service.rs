//! The gRPC handlers of `SwitchService`: the CRUD of every kind, each write checked against
//! the whole desired state ([`SwitchResources::check`]), and the status reads forwarded to
//! the switch process.

use std::sync::Arc;

use dpu_pki::Role;
use dpu_proto::dpu::switch::v1::switch_service_server::SwitchService;
use dpu_proto::dpu::switch::v1::{
    BridgeResource, CreateBridgeRequest, CreatePortRequest, CreateRouteRequest,
    CreateStaticMacRequest, CreateSviRequest, CreateVrfRequest, CreateVtepRequest,
    DeleteResourceRequest, GetResourceRequest, GetStatusRequest, ListBridgesResponse,
    ListChildrenRequest, ListFlowsResponse, ListMacEntriesResponse, ListNeighboursResponse,
    ListPortStatusesResponse, ListPortsResponse, ListRequest, ListResourcesRequest,
    ListRoutesResponse, ListStaticMacsResponse, ListSvisResponse, ListVrfsResponse,
    ListVtepsResponse, PortResource, PortStatus, Route, RouteResource, StaticMacResource,
    StaticMacSpec, SviResource, SwitchStatus, UpdateBridgeRequest, UpdatePortRequest,
    UpdateRouteRequest, UpdateStaticMacRequest, UpdateSviRequest, UpdateVrfRequest,
    UpdateVtepRequest, VrfResource, VtepResource,
};
use pbjson_types::Empty;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use super::desired::InDesired;
use super::kinds::{
    BridgeKind, PortKind, RouteKind, StaticMacKind, SviKind, VrfKind, VtepKind, id_of, is_host_port,
};
use super::{SWITCH_SERVICE, SwitchResources, switch_client};
use crate::api::resource::{CreateRequest, Kind, Resources, UpdateParts, UpdateRequest, required};
use crate::api::{
    answered, caller_role, invalid, page_size, parse_name, store_status, validate_id,
};
use crate::services::Services;
use dpu_proto::dpu::switch::v1::switch_internal_service_client::SwitchInternalServiceClient;

fn unavailable(e: &Status) -> Status {
    Status::unavailable(format!("the switch service is not answering: {}", e.message()))
}

/// `{parent}/{child}/{id}` for a Create of a nested resource, after checking parent and id.
fn create_child_name(
    parent: &str,
    parent_collection: &str,
    child: &str,
    id: &str,
    id_field: &str,
) -> Result<String, Status> {
    let p = parse_name(parent, parent_collection, "parent")?;
    validate_id(p, "parent")?;
    validate_id(id, id_field)?;
    Ok(format!("{parent}/{child}/{id}"))
}

/// The store id prefix of a ListChildren parent ("vrfs/red" → "red/"; empty: all).
fn children_prefix(parent: &str, parent_collection: &str) -> Result<String, Status> {
    if parent.is_empty() {
        return Ok(String::new());
    }
    let p = parse_name(parent, parent_collection, "parent")?;
    validate_id(p, "parent")?;
    Ok(format!("{p}/"))
}

create_requests!(
    CreateBridgeRequest => BridgeKind, "bridges", bridge, bridge_id;
    CreatePortRequest => PortKind, "ports", port, port_id;
    CreateVtepRequest => VtepKind, "vteps", vtep, vtep_id;
    CreateVrfRequest => VrfKind, "vrfs", vrf, vrf_id;
    CreateSviRequest => SviKind, "svis", svi, svi_id;
);

impl CreateRequest for CreateRouteRequest {
    type Kind = RouteKind;
    fn checked(&self) -> Result<(String, &str, Option<&Route>), Status> {
        let name = create_child_name(&self.parent, "vrfs", "routes", &self.route_id, "route_id")?;
        let r = required(self.route.as_ref(), "route")?;
        Ok((name, &r.name, r.spec.as_ref()))
    }
}

impl CreateRequest for CreateStaticMacRequest {
    type Kind = StaticMacKind;
    fn checked(&self) -> Result<(String, &str, Option<&StaticMacSpec>), Status> {
        let name = create_child_name(
            &self.parent,
            "bridges",
            "static-macs",
            &self.static_mac_id,
            "static_mac_id",
        )?;
        let r = required(self.static_mac.as_ref(), "static_mac")?;
        Ok((name, &r.name, r.spec.as_ref()))
    }
}

update_requests!(
    UpdateBridgeRequest => BridgeKind, bridge;
    UpdatePortRequest => PortKind, port;
    UpdateVtepRequest => VtepKind, vtep;
    UpdateVrfRequest => VrfKind, vrf;
    UpdateSviRequest => SviKind, svi;
    UpdateRouteRequest => RouteKind, route;
    UpdateStaticMacRequest => StaticMacKind, static_mac;
);

pub struct SwitchApi {
    pub resources: SwitchResources,
    pub services: Services,
}

impl SwitchApi {
    fn channel(&self) -> Result<Channel, Status> {
        self.services.configured(SWITCH_SERVICE).map(|h| h.channel())
    }

    /// `call` on the switch service's client: UNAVAILABLE once it has not answered within
    /// `api::SERVICE_ANSWER_TIMEOUT`. Every read the API passes on to the switch goes here.
    async fn ask<T, F, Fut>(&self, call: F) -> Result<T, Status>
    where
        F: FnOnce(SwitchInternalServiceClient<Channel>) -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        answered(SWITCH_SERVICE, call(switch_client(self.channel()?))).await
    }

    /// The switch's status, one snapshot for all who ask at once (`Services::switch_status`):
    /// the switch builds it under the lock its forwarding workers take per burst, and a
    /// host may keep every call place busy reading its ports.
    async fn status(&self) -> Result<Arc<SwitchStatus>, Status> {
        let fetch = self.ask(|mut c| async move {
            let reply = c.get_status(GetStatusRequest {}).await;
            reply.map(Response::into_inner).map_err(|e| unavailable(&e))
        });
        self.services.switch_status.read(fetch).await
    }

    /// Creates `name` when the state with it added is a configuration the switch accepts.
    async fn create<K: InDesired>(
        &self,
        r: &Resources<K>,
        name: String,
        given_name: &str,
        spec: Option<&K::Spec>,
    ) -> Result<K::Proto, Status> {
        let check = async |spec: &K::Spec| {
            let (name, spec) = (name.clone(), spec.clone());
            self.resources.check(move |d| K::write(d, name, spec)).await
        };
        r.create(&name, given_name, spec, check).await
    }

    /// Updates `name` when the state with the merged spec is one the switch accepts.
    async fn update<K: InDesired>(
        &self,
        r: &Resources<K>,
        u: UpdateParts<'_, K>,
    ) -> Result<K::Proto, Status> {
        let check = |spec: K::Spec| {
            let (resources, name) = (self.resources.clone(), u.name.to_owned());
            async move { resources.check(move |d| K::write(d, name, spec)).await }
        };
        r.update(u.name, u.etag, u.spec, u.mask, u.allow_missing, check).await
    }

    /// Deletes when nothing left behind refers to it.
    async fn delete<K: InDesired>(
        &self,
        r: &Resources<K>,
        req: DeleteResourceRequest,
    ) -> Result<(), Status> {
        let check = async || {
            let name = req.name.clone();
            self.resources
                .check(move |d| {
                    K::map(d).remove(&name);
                })
                .await
        };
        r.delete(&req.name, &req.etag, req.allow_missing, check).await
    }
}

#[tonic::async_trait]
impl SwitchService for SwitchApi {
    async fn create_bridge(
        &self,
        request: Request<CreateBridgeRequest>,
    ) -> Result<Response<BridgeResource>, Status> {
        let req = request.into_inner();
        let (name, given_name, spec) = req.checked()?;
        let created = self.create(&self.resources.bridges, name, given_name, spec).await?;
        Ok(Response::new(created))
    }

    async fn get_bridge(
        &self,
        request: Request<GetResourceRequest>,
    ) -> Result<Response<BridgeResource>, Status> {
        Ok(Response::new(self.resources.bridges.get(&request.into_inner().name).await?))
    }

    async fn list_bridges(
        &self,
        request: Request<ListResourcesRequest>,
    ) -> Result<Response<ListBridgesResponse>, Status> {
        let req = request.into_inner();
        let prefix = String::new();
        let (bridges, next_page_token) =
            self.resources.bridges.list(&prefix, req.page_size, &req.page_token).await?;
        Ok(Response::new(ListBridgesResponse { bridges, next_page_token }))
    }

    async fn update_bridge(
        &self,
        request: Request<UpdateBridgeRequest>,
    ) -> Result<Response<BridgeResource>, Status> {
        let req = request.into_inner();
        let updated = self.update(&self.resources.bridges, req.checked()?).await?;
        Ok(Response::new(updated))
    }

    async fn delete_bridge(
        &self,
        request: Request<DeleteResourceRequest>,
    ) -> Result<Response<Empty>, Status> {
        self.delete(&self.resources.bridges, request.into_inner()).await?;
        Ok(Response::new(Empty {}))
    }

    async fn create_port(
        &self,
        request: Request<CreatePortRequest>,
    ) -> Result<Response<PortResource>, Status> {
        let req = request.into_inner();
        let (name, given_name, spec) = req.checked()?;
        let created = self.create(&self.resources.ports, name, given_name, spec).await?;
        Ok(Response::new(created))
    }

    async fn get_port(
        &self,
        request: Request<GetResourceRequest>,
    ) -> Result<Response<PortResource>, Status> {
        Ok(Response::new(self.resources.ports.get(&request.into_inner().name).await?))
    }

    async fn list_ports(
        &self,
        request: Request<ListResourcesRequest>,
    ) -> Result<Response<ListPortsResponse>, Status> {
        let req = request.into_inner();
        let prefix = String::new();
        let (ports, next_page_token) =
            self.resources.ports.list(&prefix, req.page_size, &req.page_token).await?;
        Ok(Response::new(ListPortsResponse { ports, next_page_token }))
    }

    async fn update_port(
        &self,
        request: Request<UpdatePortRequest>,
    ) -> Result<Response<PortResource>, Status> {
        let req = request.into_inner();
        let updated = self.update(&self.resources.ports, req.checked()?).await?;
        Ok(Response::new(updated))
    }

    async fn delete_port(
        &self,
        request: Request<DeleteResourceRequest>,
    ) -> Result<Response<Empty>, Status> {
        self.delete(&self.resources.ports, request.into_inner()).await?;
        Ok(Response::new(Empty {}))
    }

    async fn create_vtep(
        &self,
        request: Request<CreateVtepRequest>,
    ) -> Result<Response<VtepResource>, Status> {
        let req = request.into_inner();
        let (name, given_name, spec) = req.checked()?;
        let created = self.create(&self.resources.vteps, name, given_name, spec).await?;
        Ok(Response::new(created))
    }

    async fn get_vtep(
        &self,
        request: Request<GetResourceRequest>,
    ) -> Result<Response<VtepResource>, Status> {
        Ok(Response::new(self.resources.vteps.get(&request.into_inner().name).await?))
    }

    async fn list_vteps(
        &self,
        request: Request<ListResourcesRequest>,
    ) -> Result<Response<ListVtepsResponse>, Status> {
        let req = request.into_inner();
        let prefix = String::new();
        let (vteps, next_page_token) =
            self.resources.vteps.list(&prefix, req.page_size, &req.page_token).await?;
        Ok(Response::new(ListVtepsResponse { vteps, next_page_token }))
    }

    async fn update_vtep(
        &self,
        request: Request<UpdateVtepRequest>,
    ) -> Result<Response<VtepResource>, Status> {
        let req = request.into_inner();
        let updated = self.update(&self.resources.vteps, req.checked()?).await?;
        Ok(Response::new(updated))
    }

    async fn delete_vtep(
        &self,
        request: Request<DeleteResourceRequest>,
    ) -> Result<Response<Empty>, Status> {
        self.delete(&self.resources.vteps, request.into_inner()).await?;
        Ok(Response::new(Empty {}))
    }

    async fn create_vrf(
        &self,
        request: Request<CreateVrfRequest>,
    ) -> Result<Response<VrfResource>, Status> {
        let req = request.into_inner();
        let (name, given_name, spec) = req.checked()?;
        let created = self.create(&self.resources.vrfs, name, given_name, spec).await?;
        Ok(Response::new(created))
    }

    async fn get_vrf(
        &self,
        request: Request<GetResourceRequest>,
    ) -> Result<Response<VrfResource>, Status> {
        Ok(Response::new(self.resources.vrfs.get(&request.into_inner().name).await?))
    }

    async fn list_vrfs(
        &self,
        request: Request<ListResourcesRequest>,
    ) -> Result<Response<ListVrfsResponse>, Status> {
        let req = request.into_inner();
        let prefix = String::new();
        let (vrfs, next_page_token) =
            self.resources.vrfs.list(&prefix, req.page_size, &req.page_token).await?;
        Ok(Response::new(ListVrfsResponse { vrfs, next_page_token }))
    }

    async fn update_vrf(
        &self,
        request: Request<UpdateVrfRequest>,
    ) -> Result<Response<VrfResource>, Status> {
        let req = request.into_inner();
        let updated = self.update(&self.resources.vrfs, req.checked()?).await?;
        Ok(Response::new(updated))
    }

    async fn delete_vrf(
        &self,
        request: Request<DeleteResourceRequest>,
    ) -> Result<Response<Empty>, Status> {
        self.delete(&self.resources.vrfs, request.into_inner()).await?;
        Ok(Response::new(Empty {}))
    }

    async fn create_svi(
        &self,
        request: Request<CreateSviRequest>,
    ) -> Result<Response<SviResource>, Status> {
        let req = request.into_inner();
        let (name, given_name, spec) = req.checked()?;
        let created = self.create(&self.resources.svis, name, given_name, spec).await?;
        Ok(Response::new(created))
    }

    async fn get_svi(
        &self,
        request: Request<GetResourceRequest>,
    ) -> Result<Response<SviResource>, Status> {
        Ok(Response::new(self.resources.svis.get(&request.into_inner().name).await?))
    }

    async fn list_svis(
        &self,
        request: Request<ListResourcesRequest>,
    ) -> Result<Response<ListSvisResponse>, Status> {
        let req = request.into_inner();
        let prefix = String::new();
        let (svis, next_page_token) =
            self.resources.svis.list(&prefix, req.page_size, &req.page_token).await?;
        Ok(Response::new(ListSvisResponse { svis, next_page_token }))
    }

    async fn update_svi(
        &self,
        request: Request<UpdateSviRequest>,
    ) -> Result<Response<SviResource>, Status> {
        let req = request.into_inner();
        let updated = self.update(&self.resources.svis, req.checked()?).await?;
        Ok(Response::new(updated))
    }

    async fn delete_svi(
        &self,
        request: Request<DeleteResourceRequest>,
    ) -> Result<Response<Empty>, Status> {
        self.delete(&self.resources.svis, request.into_inner()).await?;
        Ok(Response::new(Empty {}))
    }

    async fn create_route(
        &self,
        request: Request<CreateRouteRequest>,
    ) -> Result<Response<RouteResource>, Status> {
        let req = request.into_inner();
        let (name, given_name, spec) = req.checked()?;
        let created = self.create(&self.resources.routes, name, given_name, spec).await?;
        Ok(Response::new(created))
    }

    async fn get_route(
        &self,
        request: Request<GetResourceRequest>,
    ) -> Result<Response<RouteResource>, Status> {
        Ok(Response::new(self.resources.routes.get(&request.into_inner().name).await?))
    }

    async fn list_routes(
        &self,
        request: Request<ListChildrenRequest>,
    ) -> Result<Response<ListRoutesResponse>, Status> {
        let req = request.into_inner();
        let prefix = children_prefix(&req.parent, "vrfs")?;
        if !prefix.is_empty() {
            self.resources.vrfs.require_parent(&req.parent).await?;
        }
        let (routes, next_page_token) =
            self.resources.routes.list(&prefix, req.page_size, &req.page_token).await?;
        Ok(Response::new(ListRoutesResponse { routes, next_page_token }))
    }

    async fn update_route(
        &self,
        request: Request<UpdateRouteRequest>,
    ) -> Result<Response<RouteResource>, Status> {
        let req = request.into_inner();
        let updated = self.update(&self.resources.routes, req.checked()?).await?;
        Ok(Response::new(updated))
    }

    async fn delete_route(
        &self,
        request: Request<DeleteResourceRequest>,
    ) -> Result<Response<Empty>, Status> {
        self.delete(&self.resources.routes, request.into_inner()).await?;
        Ok(Response::new(Empty {}))
    }

    async fn create_static_mac(
        &self,
        request: Request<CreateStaticMacRequest>,
    ) -> Result<Response<StaticMacResource>, Status> {
        let req = request.into_inner();
        let (name, given_name, spec) = req.checked()?;
        let created = self.create(&self.resources.static_macs, name, given_name, spec).await?;
        Ok(Response::new(created))
    }

    async fn get_static_mac(
        &self,
        request: Request<GetResourceRequest>,
    ) -> Result<Response<StaticMacResource>, Status> {
        Ok(Response::new(self.resources.static_macs.get(&request.into_inner().name).await?))
    }

    async fn list_static_macs(
        &self,
        request: Request<ListChildrenRequest>,
    ) -> Result<Response<ListStaticMacsResponse>, Status> {
        let req = request.into_inner();
        let prefix = children_prefix(&req.parent, "bridges")?;
        if !prefix.is_empty() {
            self.resources.bridges.require_parent(&req.parent).await?;
        }
        let (static_macs, next_page_token) =
            self.resources.static_macs.list(&prefix, req.page_size, &req.page_token).await?;
        Ok(Response::new(ListStaticMacsResponse { static_macs, next_page_token }))
    }

    async fn update_static_mac(
        &self,
        request: Request<UpdateStaticMacRequest>,
    ) -> Result<Response<StaticMacResource>, Status> {
        let req = request.into_inner();
        let updated = self.update(&self.resources.static_macs, req.checked()?).await?;
        Ok(Response::new(updated))
    }

    async fn delete_static_mac(
        &self,
        request: Request<DeleteResourceRequest>,
    ) -> Result<Response<Empty>, Status> {
        self.delete(&self.resources.static_macs, request.into_inner()).await?;
        Ok(Response::new(Empty {}))
    }

    async fn get_switch_status(
        &self,
        _: Request<GetStatusRequest>,
    ) -> Result<Response<SwitchStatus>, Status> {
        Ok(Response::new(Arc::unwrap_or_clone(self.status().await?)))
    }

    async fn get_port_status(
        &self,
        request: Request<GetResourceRequest>,
    ) -> Result<Response<PortStatus>, Status> {
        let role = caller_role(&request);
        let name = request.into_inner().name;
        PortKind::key(&name, "name")?;
        let ifname = id_of(&name);
        if role < Role::Operator && !is_host_port(ifname) {
            return Err(Status::permission_denied(format!(
                "the host role reads only its own ports (pf<N>hpf, pf<N>vf<M>), not {name}"
            )));
        }
        let status = self.status().await?;
        let port = status.ports.iter().find(|p| p.name == ifname).cloned();
        Ok(Response::new(
            port.ok_or_else(|| Status::not_found(format!("the switch has no port {name}")))?,
        ))
    }

    async fn list_port_statuses(
        &self,
        request: Request<ListRequest>,
    ) -> Result<Response<ListPortStatusesResponse>, Status> {
        let role = caller_role(&request);
        let req = request.into_inner();
        let size = page_size(i32::try_from(req.page_size).unwrap_or(i32::MAX))?;
        // The request's own shape before the switch is asked.
        let after = port_token_name(&req.page_token)?;
        let ports: Vec<PortStatus> = self
            .status()
            .await?
            .ports
            .iter()
            .filter(|p| role >= Role::Operator || is_host_port(&p.name))
            .cloned()
            .collect();
        let (ports, next_page_token) = port_page(ports, size, after.as_deref());
        Ok(Response::new(ListPortStatusesResponse { ports, next_page_token }))
    }

    async fn list_mac_entries(
        &self,
        request: Request<ListRequest>,
    ) -> Result<Response<ListMacEntriesResponse>, Status> {
        let request = request.into_inner();
        self.ask(
            |mut c| async move { c.list_mac_entries(request).await.map_err(|e| forwarded(&e)) },
        )
        .await
    }

    async fn list_neighbours(
        &self,
        request: Request<ListRequest>,
    ) -> Result<Response<ListNeighboursResponse>, Status> {
        let request = request.into_inner();
        self.ask(|mut c| async move { c.list_neighbours(request).await.map_err(|e| forwarded(&e)) })
            .await
    }

    async fn list_flows(
        &self,
        request: Request<ListRequest>,
    ) -> Result<Response<ListFlowsResponse>, Status> {
        let request = request.into_inner();
        self.ask(|mut c| async move { c.list_flows(request).await.map_err(|e| forwarded(&e)) })
            .await
    }
}

/// The port name a ListPortStatuses page token continues after (None for the first page),
/// or INVALID_ARGUMENT for a token no page gave ([`port_page`]), as every List answers one.
fn port_token_name(token: &str) -> Result<Option<String>, Status> {
    if token.is_empty() {
        return Ok(None);
    }
    let name = hex::decode(token).ok().and_then(|b| String::from_utf8(b).ok());
    name.map(Some).ok_or_else(|| store_status(dpu_store::StoreError::InvalidPageToken))
}

/// One page of `ports` in name order: at most `size` after the name `after`, and the token of
/// the next page (the last name, hex-encoded), empty on the last.
fn port_page(
    mut ports: Vec<PortStatus>,
    size: usize,
    after: Option<&str>,
) -> (Vec<PortStatus>, String) {
    ports.retain(|p| after.is_none_or(|a| p.name.as_str() > a));
    ports.sort_by(|a, b| a.name.cmp(&b.name));
    let next = if ports.len() > size {
        ports.truncate(size);
        ports.last().map(|p| hex::encode(&p.name)).unwrap_or_default()
    } else {
        String::new()
    };
    (ports, next)
}

/// A paged read's error: the switch's own verdict on the request (a bad page token) passes
/// through, named once (the switch's message already opens with the field); anything else
/// means the switch is not answering.
fn forwarded(e: &Status) -> Status {
    if e.code() == tonic::Code::InvalidArgument {
        let m = e.message();
        invalid("page_token", m.strip_prefix("page_token: ").unwrap_or(m))
    } else {
        unavailable(e)
    }
}

#[cfg(test)]
mod tests {
    use super::super::kinds::parent_of;
    use super::*;
    use crate::api::shared_read::SlowMethod;
    use crate::services::ServiceHandle;
    use tonic_types::StatusExt;

    /// The API over an empty store of its own, with a switch service configured (writes
    /// need it) that nothing serves.
    fn api_without_switch() -> (tempfile::TempDir, SwitchApi) {
        let dir = tempfile::tempdir().unwrap();
        let store = dpu_store::Store::open(dir.path()).unwrap();
        let services = Services::unreachable(&[SWITCH_SERVICE]);
        (dir, SwitchApi { resources: SwitchResources::open(&store, &services), services })
    }

    /// A port id that is no interface name (longer than 15 characters) is refused naming
    /// `port_id`, as every other Create names the id field its id breaks.
    #[tokio::test]
    async fn a_port_id_too_long_for_an_interface_names_port_id() {
        let (_dir, api) = api_without_switch();
        let port = PortResource {
            spec: Some(dpu_proto::dpu::switch::v1::PortSpec {
                mode: dpu_proto::dpu::switch::v1::PortMode::Uplink.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let req = CreatePortRequest { port_id: "a-very-long-ifname".into(), port: Some(port) };
        let e = api.create_port(Request::new(req)).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
        assert_eq!(e.get_details_bad_request().unwrap().field_violations[0].field, "port_id");
        assert!(api.resources.ports.all().await.unwrap().is_empty());
    }

    /// Errors name objects as the API does (`bridges/b1`), never by their store key
    /// (`switch-bridges/b1`, no name a client can use), and listing the children of a
    /// parent that does not exist is NOT_FOUND (AIP-132), not an empty page.
    #[tokio::test]
    async fn errors_name_public_names_and_a_missing_parent_is_not_found() {
        use dpu_proto::dpu::switch::v1::BridgeSpec;
        let (_dir, api) = api_without_switch();
        let bridge = || BridgeResource {
            spec: Some(BridgeSpec { vlan: Some(10), ..Default::default() }),
            ..Default::default()
        };
        let create = || CreateBridgeRequest { bridge_id: "b1".into(), bridge: Some(bridge()) };
        api.create_bridge(Request::new(create())).await.unwrap();
        let e = api.create_bridge(Request::new(create())).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::AlreadyExists, "{e:?}");
        assert!(e.message().contains("bridges/b1") && !e.message().contains("switch-"), "{e:?}");
        let stale = DeleteResourceRequest {
            name: "bridges/b1".into(),
            etag: "0-0".into(),
            ..Default::default()
        };
        let e = api.delete_bridge(Request::new(stale)).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::Aborted, "{e:?}");
        assert!(e.message().contains("bridges/b1") && !e.message().contains("switch-"), "{e:?}");

        let children =
            |parent: &str| ListChildrenRequest { parent: parent.into(), ..Default::default() };
        let e = api.list_routes(Request::new(children("vrfs/none"))).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::NotFound, "{e:?}");
        let e = api.list_static_macs(Request::new(children("bridges/none"))).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::NotFound, "{e:?}");
        let macs = api.list_static_macs(Request::new(children("bridges/b1"))).await.unwrap();
        assert!(macs.into_inner().static_macs.is_empty());
        api.list_routes(Request::new(children(""))).await.unwrap();
    }

    /// Two SVIs an earlier release stored that the present checks refuse (loopback
    /// addresses, which `parse_svi_address` now refuses) do not lock each other in: each
    /// can be deleted or mended although the other stays refused, while a write that adds
    /// a fault of its own is still refused.
    #[tokio::test]
    async fn objects_stored_under_looser_rules_can_each_be_mended_or_deleted() {
        use dpu_proto::dpu::switch::v1::{BridgeSpec, SviSpec, VrfSpec};
        let (_dir, api) = api_without_switch();
        let bridge = |vlan| BridgeResource {
            spec: Some(BridgeSpec { vlan: Some(vlan), ..Default::default() }),
            ..Default::default()
        };
        for (id, vlan) in [("blue", 10), ("green", 20)] {
            let req = CreateBridgeRequest { bridge_id: id.into(), bridge: Some(bridge(vlan)) };
            api.create_bridge(Request::new(req)).await.unwrap();
        }
        let vrf = VrfResource { spec: Some(VrfSpec::default()), ..Default::default() };
        let req = CreateVrfRequest { vrf_id: "red".into(), vrf: Some(vrf) };
        api.create_vrf(Request::new(req)).await.unwrap();
        let svi = |bridge: &str, address: &str, mac: &str| SviSpec {
            bridge: format!("bridges/{bridge}"),
            vrf: "vrfs/red".into(),
            address: address.into(),
            mac: mac.into(),
            address6: String::new(),
        };
        // As an older release stored them, past today's checks.
        let svis = &api.resources.svis;
        for (id, bridge, mac) in
            [("a", "blue", "02:00:00:00:fe:01"), ("b", "green", "02:00:00:00:fe:02")]
        {
            let key = SviKind::key(&format!("svis/{id}"), "name").unwrap();
            let old = svi(bridge, "127.0.0.1/8", mac);
            svis.collection.create_applied(&key, &old).await.unwrap().durable().await.unwrap();
        }
        assert_eq!(api.resources.stored().await.unwrap().desired().refused_alone().len(), 2);

        // A write that adds a fault of its own is still refused: a bridge's duplicate VLAN.
        let req = CreateBridgeRequest { bridge_id: "again".into(), bridge: Some(bridge(10)) };
        let e = api.create_bridge(Request::new(req)).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{e:?}");
        assert!(api.resources.bridges.lookup("switch-bridges/again").await.unwrap().is_none());

        // Nor is deleting what they refer to, which would leave them pointing at nothing.
        let delete = DeleteResourceRequest { name: "vrfs/red".into(), ..Default::default() };
        let e = api.delete_vrf(Request::new(delete)).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{e:?}");
        assert!(e.message().contains("refers to vrfs/red"), "{e:?}");
        assert!(api.resources.vrfs.lookup("switch-vrfs/red").await.unwrap().is_some());

        let delete = DeleteResourceRequest { name: "svis/a".into(), ..Default::default() };
        api.delete_svi(Request::new(delete)).await.unwrap();
        let mended = SviResource {
            name: "svis/b".into(),
            spec: Some(svi("green", "192.0.2.1/24", "02:00:00:00:fe:02")),
            ..Default::default()
        };
        let req = UpdateSviRequest { svi: Some(mended), ..Default::default() };
        api.update_svi(Request::new(req)).await.unwrap();
        let stored = api.resources.stored().await.unwrap();
        assert!(stored.desired().refused_alone().is_empty());
        stored.desired().to_config().unwrap();
    }

    /// ListPortStatuses pages through every port once, and a page token no page gave is
    /// INVALID_ARGUMENT naming `page_token` (it was taken for a port name and answered with
    /// whatever sorted after it).
    #[test]
    fn port_statuses_page_by_name_and_refuse_a_foreign_token() {
        let port = |name: &str| PortStatus { name: name.into(), ..Default::default() };
        let ports: Vec<_> = ["pf0vf1", "p0", "pf0vf0"].into_iter().map(port).collect();
        let (first, token) = port_page(ports.clone(), 2, None);
        let names = |p: &[PortStatus]| p.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&first), ["p0", "pf0vf0"]);
        let after = port_token_name(&token).unwrap();
        let (rest, last) = port_page(ports.clone(), 2, after.as_deref());
        assert_eq!((names(&rest), last.as_str()), (vec!["pf0vf1".to_owned()], ""));
        for foreign in ["garbage", "p0", "zz"] {
            let e = port_token_name(foreign).unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "{foreign}");
            assert_eq!(
                e.get_details_bad_request().unwrap().field_violations[0].field,
                "page_token"
            );
        }
    }

    /// A host reading its ports in a loop costs the switch two status snapshots in turn for
    /// all the calls it has in flight, not one each: every snapshot is built under the lock
    /// the forwarding workers take per burst (GetSwitchStatus, GetPortStatus and
    /// ListPortStatuses all read through `Services::switch_status`).
    #[tokio::test]
    async fn port_statuses_asked_at_once_are_one_snapshot_for_all() {
        use std::sync::Mutex;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("switch.sock");
        let listener = dpu_runtime::unix::bind(&path).unwrap();
        let config = toml::from_str("[[ports]]\nname = \"pf0hpf\"\nmode = \"uplink\"").unwrap();
        let switch = dpu_switch::Switch::new(config, std::time::Instant::now()).unwrap();
        let complete: dpu_switch::api::Completer = Arc::new(|_| Ok(()));
        let internal = dpu_switch::api::SwitchInternal::new(Arc::new(Mutex::new(switch)), complete);
        let asked = Arc::new(AtomicUsize::new(0));
        let slow = SlowMethod { method: "/GetStatus", asked: asked.clone() };
        let serve =
            tonic::transport::Server::builder().layer(slow).add_service(internal.into_server());
        tokio::spawn(serve.serve_with_incoming(listener));
        let handle = ServiceHandle::new(SWITCH_SERVICE, dpu_runtime::unix::channel(&path));
        let services = Services {
            handles: [(SWITCH_SERVICE.to_owned(), handle)].into(),
            ..Services::default()
        };
        let store = dpu_store::Store::open(&dir.path().join("store")).unwrap();
        let resources = SwitchResources::open(&store, &services);
        let api = Arc::new(SwitchApi { resources, services });
        let callers: Vec<_> = (0..20)
            .map(|_| {
                let api = api.clone();
                tokio::spawn(async move {
                    let req = GetResourceRequest { name: "ports/pf0hpf".into() };
                    api.get_port_status(Request::new(req)).await
                })
            })
            .collect();
        for c in callers {
            assert_eq!(c.await.unwrap().unwrap().into_inner().name, "pf0hpf");
        }
        let asked = asked.load(Ordering::SeqCst);
        assert!((1..=2).contains(&asked), "{asked} snapshots for 20 callers asking at once");
    }

    #[test]
    fn child_names_and_prefixes() {
        assert_eq!(
            create_child_name("vrfs/red", "vrfs", "routes", "r1", "route_id").unwrap(),
            "vrfs/red/routes/r1"
        );
        assert!(create_child_name("bridges/red", "vrfs", "routes", "r1", "route_id").is_err());
        assert!(create_child_name("vrfs/red", "vrfs", "routes", "r/1", "route_id").is_err());
        assert_eq!(children_prefix("vrfs/red", "vrfs").unwrap(), "red/");
        assert_eq!(children_prefix("", "vrfs").unwrap(), "");
        assert_eq!(parent_of("bridges/b/static-macs/m", "static-macs"), "bridges/b");
    }

    /// The switch reconciler sends nothing that is not on disk yet (as the nvmf one,
    /// `a_sync_waits_until_what_it_sends_is_on_disk`): its sync waits for the writes its
    /// snapshot saw before it calls the switch (here one that nothing serves).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_switch_sync_waits_until_what_it_sends_is_on_disk() {
        use dpu_proto::dpu::switch::v1::BridgeSpec;

        use crate::services::Reconciler;
        let dir = tempfile::tempdir().unwrap();
        let store = dpu_store::Store::open(dir.path()).unwrap();
        let resources = SwitchResources::open(&store, &Services::unreachable(&[SWITCH_SERVICE]));
        let bridges = resources.bridges.clone();
        let create = async move {
            let spec = BridgeSpec { vlan: Some(10), ..Default::default() };
            bridges.create("bridges/b1", "", Some(&spec), async |_| Ok(())).await
        };
        let reconciler = super::super::SwitchReconciler { resources };
        let nowhere = Channel::from_static("http://[::1]:1").connect_lazy();
        let sync = async move { reconciler.sync(nowhere).await };
        let (created, synced) =
            crate::api::resource::sync_during_a_held_flush(&store, create, sync).await;
        created.unwrap();
        assert!(synced.is_err(), "nothing serves the switch");
    }
}
