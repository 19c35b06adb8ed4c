//! `dpu.system.v1.SystemService`: inventory, health, agent metrics, and sysctls as durable
//! desired state applied by the system service process.

use std::sync::Arc;
use std::time::Instant;

use dpu_proto::dpu::system::v1::system_internal_service_client::SystemInternalServiceClient;
use dpu_proto::dpu::system::v1::system_service_server::SystemService;
use dpu_proto::dpu::system::v1::{
    AgentMetrics, ApplyState, ComponentVersion, CreateSysctlRequest, DeleteSysctlRequest,
    GetAgentMetricsRequest, GetHealthRequest, GetInventoryRequest, GetSysctlRequest, Health,
    Inventory, ListSysctlsRequest, ListSysctlsResponse, MethodMetrics, ServiceHealth, ServingState,
    SyncSysctlsRequest, Sysctl, SysctlSpec, SysctlStatus, UpdateSysctlRequest,
};
use dpu_store::{Collection, Object, Store};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use super::resource::{
    CreateRequest, Kind, Resources, Statuses, UpdateRequest, creation_times, fits_one_sync,
    required, with_written,
};
use super::{answered, invalid, parse_name, store_status, timestamp};
use crate::metrics::Metrics;
use crate::services::{Reconciler, ServiceHandle, Services, Synced};

pub const SYSCTLS: &str = "sysctls";
/// The service that applies sysctls.
pub const SYSTEM_SERVICE: &str = "system";

/// Sysctls as a resource kind: `sysctls/{key}`.
pub struct SysctlKind;

impl Kind for SysctlKind {
    type Spec = SysctlSpec;
    type Status = SysctlStatus;
    type Proto = Sysctl;
    const FIELD: &'static str = "sysctl";
    const STORE: &'static str = SYSCTLS;
    const UPDATABLE: &'static [&'static str] = &["spec", "spec.value"];

    fn key(name: &str, field: &str) -> Result<String, Status> {
        let key = parse_name(name, SYSCTLS, field)?;
        validate_key(key, field)?;
        Ok(name.to_owned())
    }

    fn validate(spec: &SysctlSpec, field: &str) -> Result<(), Status> {
        dpu_system::sysctl::validate_value(&spec.value)
            .map_err(|e| invalid(&format!("{field}.value"), e.to_string()))
    }

    fn merge(into: &mut SysctlSpec, from: &SysctlSpec, path: &str) {
        if path == "spec.value" {
            into.value.clone_from(&from.value);
        }
    }

    fn status(observed: Option<SysctlStatus>, generation: i64) -> SysctlStatus {
        match observed {
            Some(mut s) => {
                if s.applied_generation != generation {
                    s.state = ApplyState::Pending.into();
                }
                s
            }
            None => SysctlStatus { state: ApplyState::Pending.into(), ..Default::default() },
        }
    }

    fn to_proto(name: String, o: Object<SysctlSpec>, status: SysctlStatus) -> Sysctl {
        Sysctl {
            name,
            spec: Some(o.spec),
            status: Some(status),
            generation: o.generation,
            etag: o.etag,
            create_time: Some(timestamp(o.create_time_unix_nanos)),
            update_time: Some(timestamp(o.update_time_unix_nanos)),
        }
    }
}

impl CreateRequest for CreateSysctlRequest {
    type Kind = SysctlKind;

    /// `sysctls/{sysctl_id}` with a valid sysctl key.
    fn checked(&self) -> Result<(String, &str, Option<&SysctlSpec>), Status> {
        if self.sysctl_id.is_empty() {
            return Err(invalid("sysctl_id", "required"));
        }
        validate_key(&self.sysctl_id, "sysctl_id")?;
        let sysctl = required(self.sysctl.as_ref(), "sysctl")?;
        Ok((format!("{SYSCTLS}/{}", self.sysctl_id), &sysctl.name, sysctl.spec.as_ref()))
    }
}

update_requests!(UpdateSysctlRequest => SysctlKind, sysctl);

/// Observed status of each sysctl as last reported by the system service, by full name.
pub type SysctlStatuses = Statuses<SysctlStatus>;

fn validate_key(key: &str, field: &str) -> Result<(), Status> {
    dpu_system::sysctl::validate_key(key).map_err(|e| invalid(field, e.to_string()))
}

pub struct SystemApi {
    pub store: Store,
    pub sysctls: Resources<SysctlKind>,
    pub services: Services,
    pub metrics: Arc<Metrics>,
    pub started: Instant,
    /// The largest message of the system service's internal API
    /// ([`INTERNAL_MESSAGE_LIMIT`](dpu_system::server::INTERNAL_MESSAGE_LIMIT); less in
    /// tests): what one SyncSysctls carries.
    pub sync_limit: usize,
}

impl SystemApi {
    fn system(&self) -> Result<&Arc<ServiceHandle>, Status> {
        self.services.configured(SYSTEM_SERVICE)
    }

    /// RESOURCE_EXHAUSTED when the sysctls with `key` written as `spec` would not fit one
    /// SyncSysctls ([`fits_one_sync`]). Run under the store's writer lock.
    async fn check_fits(&self, key: &str, spec: &SysctlSpec) -> Result<(), Status> {
        let mut objects = self.sysctls.all().await?;
        with_written(&mut objects, key, spec.clone());
        let encoded = prost::Message::encoded_len(&sync_request(objects));
        fits_one_sync(SYSTEM_SERVICE, encoded, self.sync_limit)
    }
}

#[tonic::async_trait]
impl SystemService for SystemApi {
    async fn get_inventory(
        &self,
        _: Request<GetInventoryRequest>,
    ) -> Result<Response<Inventory>, Status> {
        let system = self.system()?;
        let mut inventory = answered(SYSTEM_SERVICE, async {
            SystemInternalServiceClient::new(system.channel())
                .get_inventory(GetInventoryRequest {})
                .await
                .map_err(|e| {
                    Status::unavailable(format!(
                        "the system service is not answering: {}",
                        e.message()
                    ))
                })
        })
        .await?
        .into_inner();
        inventory.versions.retain(|v| v.component != "dpud");
        inventory.versions.insert(
            0,
            ComponentVersion {
                component: "dpud".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
        );
        for (name, handle) in &self.services.handles {
            let state = handle.state();
            if !inventory.versions.iter().any(|v| &v.component == name) && !state.version.is_empty()
            {
                inventory
                    .versions
                    .push(ComponentVersion { component: name.clone(), version: state.version });
            }
        }
        Ok(Response::new(inventory))
    }

    async fn get_health(&self, _: Request<GetHealthRequest>) -> Result<Response<Health>, Status> {
        let services = self
            .services
            .handles
            .iter()
            .map(|(name, handle)| {
                let s = handle.state();
                ServiceHealth {
                    service: name.clone(),
                    state: if s.serving { ServingState::Serving } else { ServingState::NotServing }
                        .into(),
                    version: s.version,
                    instance_id: s.instance_id,
                    restarts: s.restarts,
                    last_sync_time: s.last_sync.map(|t| {
                        let nanos = t
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.as_nanos())
                            .unwrap_or(0);
                        timestamp(i64::try_from(nanos).unwrap_or(i64::MAX))
                    }),
                    message: s.message,
                    desired_revision: Some(s.desired_revision),
                    synced_revision: Some(s.synced_revision),
                }
            })
            .collect();
        Ok(Response::new(Health {
            agent: ServingState::Serving.into(),
            services,
            agent_version: env!("CARGO_PKG_VERSION").to_owned(),
        }))
    }

    async fn get_agent_metrics(
        &self,
        _: Request<GetAgentMetricsRequest>,
    ) -> Result<Response<AgentMetrics>, Status> {
        let methods = self
            .metrics
            .summaries()
            .into_iter()
            .map(|m| MethodMetrics {
                method: m.method,
                requests: m.requests,
                errors: m.errors,
                latency_sum_seconds: m.sum_seconds,
                latency_p50_seconds: m.p50_seconds,
                latency_p99_seconds: m.p99_seconds,
            })
            .collect();
        Ok(Response::new(AgentMetrics {
            uptime_seconds: self.started.elapsed().as_secs(),
            stored_objects: self.store.len() as u64,
            methods,
        }))
    }

    async fn create_sysctl(
        &self,
        request: Request<CreateSysctlRequest>,
    ) -> Result<Response<Sysctl>, Status> {
        let req = request.into_inner();
        let (name, given_name, spec) = req.checked()?;
        let created = self
            .sysctls
            .create(&name, given_name, spec, async |spec| self.check_fits(&name, spec).await)
            .await?;
        Ok(Response::new(created))
    }

    async fn get_sysctl(
        &self,
        request: Request<GetSysctlRequest>,
    ) -> Result<Response<Sysctl>, Status> {
        Ok(Response::new(self.sysctls.get(&request.into_inner().name).await?))
    }

    async fn list_sysctls(
        &self,
        request: Request<ListSysctlsRequest>,
    ) -> Result<Response<ListSysctlsResponse>, Status> {
        let req = request.into_inner();
        let (sysctls, next_page_token) =
            self.sysctls.list("", req.page_size, &req.page_token).await?;
        Ok(Response::new(ListSysctlsResponse { sysctls, next_page_token }))
    }

    async fn update_sysctl(
        &self,
        request: Request<UpdateSysctlRequest>,
    ) -> Result<Response<Sysctl>, Status> {
        let req = request.into_inner();
        let u = req.checked()?;
        let updated = self
            .sysctls
            .update(u.name, u.etag, u.spec, u.mask, u.allow_missing, |spec| async move {
                self.check_fits(u.name, &spec).await
            })
            .await?;
        Ok(Response::new(updated))
    }

    async fn delete_sysctl(
        &self,
        request: Request<DeleteSysctlRequest>,
    ) -> Result<Response<pbjson_types::Empty>, Status> {
        let req = request.into_inner();
        self.sysctls.delete(&req.name, &req.etag, req.allow_missing, async || Ok(())).await?;
        Ok(Response::new(pbjson_types::Empty {}))
    }
}

/// The SyncSysctls request that hands the stored sysctls `objects` to the system service.
fn sync_request(objects: Vec<Object<SysctlSpec>>) -> SyncSysctlsRequest {
    let sysctls = objects
        .into_iter()
        .map(|o| Sysctl {
            name: o.name,
            spec: Some(o.spec),
            generation: o.generation,
            ..Default::default()
        })
        .collect();
    SyncSysctlsRequest { sysctls }
}

/// Pushes every stored sysctl to the system service and records what it observed.
pub struct SysctlReconciler {
    pub sysctls: Collection<SysctlSpec>,
    pub statuses: Arc<SysctlStatuses>,
}

#[tonic::async_trait]
impl Reconciler for SysctlReconciler {
    async fn sync(&self, channel: Channel) -> Result<Synced, Status> {
        // Read before the objects: every write counted in it is among them.
        let revision = self.sysctls.revision();
        let c = self.sysctls.clone();
        let objects = tokio::task::spawn_blocking(move || c.all())
            .await
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(store_status)?;
        // Nothing goes to the service that is not on disk (a crash would take it back).
        self.sysctls.durable_barrier().await.map_err(store_status)?;
        let created = creation_times(&objects, SysctlKind::public_name);
        let request = sync_request(objects);
        let observed = SystemInternalServiceClient::new(channel)
            .max_decoding_message_size(dpu_system::server::INTERNAL_MESSAGE_LIMIT)
            .max_encoding_message_size(dpu_system::server::INTERNAL_MESSAGE_LIMIT)
            .sync_sysctls(request)
            .await?
            .into_inner();
        let failed = observed
            .sysctls
            .iter()
            .filter(|s| s.status.as_ref().is_some_and(|s| s.state == ApplyState::Failed as i32));
        let objects_failed = dpu_proto::failed_objects(failed.map(|s| s.name.as_str()));
        self.statuses.replace(observed.sysctls.into_iter().filter_map(|s| {
            let c = *created.get(&s.name)?;
            Some((s.name, c, s.status?))
        }));
        // No retries for FAILED sysctls (`Synced::failed` 0): the service sets those whose
        // file appears later itself and announces it (status epoch), and leaves the others
        // alone between syncs on purpose: a write-only key such as `vm.drop_caches` would fire
        // and a refused value be written and undone on every retry. Health still names them.
        Ok(Synced { failed: 0, objects_failed, revision })
    }

    fn forget_statuses(&self) {
        self.statuses.clear();
    }
}

#[cfg(test)]
mod tests {
    use dpu_system::sysctl::MAX_VALUE_LEN;

    use super::*;

    fn create(id: &str, value: String) -> Request<CreateSysctlRequest> {
        let sysctl = Sysctl { spec: Some(SysctlSpec { value }), ..Default::default() };
        Request::new(CreateSysctlRequest { sysctl_id: id.into(), sysctl: Some(sysctl) })
    }

    /// An API over a store in `dir` with a system service configured (writes need it)
    /// that nothing serves, and its sysctls.
    fn api(dir: &tempfile::TempDir, sync_limit: usize) -> (SystemApi, Resources<SysctlKind>) {
        let store = Store::open(dir.path()).unwrap();
        let services = Services::unreachable(&[SYSTEM_SERVICE]);
        let sysctls = Resources::open(&store, &services, SYSTEM_SERVICE);
        let api = SystemApi {
            store,
            sysctls: sysctls.clone(),
            services,
            metrics: Arc::default(),
            started: Instant::now(),
            sync_limit,
        };
        (api, sysctls)
    }

    /// GetHealth says which agent answers: its own version (dpuctl showed its own in the
    /// agent's row, having no other), beside each service's state.
    #[tokio::test]
    async fn health_names_the_agents_version() {
        let dir = tempfile::tempdir().unwrap();
        let (api, _) = api(&dir, 64 << 10);
        let health = api.get_health(Request::new(GetHealthRequest {})).await.unwrap();
        let health = health.into_inner();
        assert_eq!(health.agent_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(health.agent, ServingState::Serving as i32);
        assert_eq!(health.services.len(), 1, "{health:?}");
        assert_eq!(health.services[0].service, SYSTEM_SERVICE);
    }

    /// GetHealth shows each service's desired and synced store revisions, present (an agent
    /// that predates them leaves them out): a write's revision is desired once it is
    /// acknowledged, and synced only once the service answered a sync carrying it (here
    /// nothing serves the system service).
    #[tokio::test]
    async fn health_shows_the_revisions_desired_and_synced() {
        let dir = tempfile::tempdir().unwrap();
        let (api, _) = api(&dir, 64 << 10);
        let revisions = async || {
            let health = api.get_health(Request::new(GetHealthRequest {})).await.unwrap();
            let s = health.into_inner().services.remove(0);
            (s.desired_revision, s.synced_revision)
        };
        assert_eq!(revisions().await, (Some(0), Some(0)));
        api.create_sysctl(create("vm.swappiness", "1".into())).await.unwrap();
        let req =
            DeleteSysctlRequest { name: "sysctls/vm.swappiness".into(), ..Default::default() };
        api.delete_sysctl(Request::new(req)).await.unwrap();
        assert_eq!(api.store.revision(), 2);
        assert_eq!(revisions().await, (Some(2), Some(0)));
    }

    /// The agent takes the keys and values the system service applies: it shares their
    /// checks (a VLAN device's key in sysctl.d(5) spelling; an empty value, which clears a
    /// list such as `net.ipv4.ip_local_reserved_ports`).
    #[tokio::test]
    async fn takes_what_the_system_service_applies() {
        let dir = tempfile::tempdir().unwrap();
        let (api, sysctls) = api(&dir, 64 << 10);
        for (id, value) in
            [("net.ipv4.conf.eth0/100.forwarding", "1"), ("net.ipv4.ip_local_reserved_ports", "")]
        {
            let created = api.create_sysctl(create(id, value.into())).await;
            let created = created.unwrap_or_else(|e| panic!("{id} = {value:?}: {e:?}"));
            assert_eq!(created.get_ref().name, format!("sysctls/{id}"));
            let get = GetSysctlRequest { name: format!("sysctls/{id}") };
            let got = api.get_sysctl(Request::new(get)).await.unwrap().into_inner();
            assert_eq!(got.spec.unwrap().value, value);
        }
        assert_eq!(sysctls.all().await.unwrap().len(), 2);
    }

    /// No sysctl is acknowledged that one SyncSysctls could not carry: the write past the
    /// bound is RESOURCE_EXHAUSTED and changes nothing (60,000 sysctls of 4 KiB values were
    /// acknowledged, then every sync failed).
    #[tokio::test]
    async fn a_write_one_sync_could_not_carry_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (api, sysctls) = api(&dir, 64 << 10);
        let value = "1".repeat(MAX_VALUE_LEN);
        let mut refused = None;
        for i in 0..20 {
            if let Err(e) = api.create_sysctl(create(&format!("dev.big.k{i}"), value.clone())).await
            {
                refused = Some((i, e));
                break;
            }
        }
        let (fitted, e) = refused.expect("every write was acknowledged");
        assert_eq!(e.code(), tonic::Code::ResourceExhausted, "{e:?}");
        assert!(e.message().contains("one Sync"), "{}", e.message());
        assert_eq!(sysctls.all().await.unwrap().len(), fitted, "the refused write changed nothing");
        let stored = sysctls.all().await.unwrap();
        let request = sync_request(stored);
        assert!(prost::Message::encoded_len(&request) <= api.sync_limit);

        // A short one fits; growing it past the bound does not.
        api.create_sysctl(create("dev.small", "1".into())).await.unwrap();
        let grown = Sysctl {
            name: "sysctls/dev.small".into(),
            spec: Some(SysctlSpec { value }),
            ..Default::default()
        };
        let req = UpdateSysctlRequest { sysctl: Some(grown), ..Default::default() };
        let e = api.update_sysctl(Request::new(req)).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::ResourceExhausted, "{e:?}");
        let small = sysctls.lookup("sysctls/dev.small").await.unwrap().unwrap();
        assert_eq!((small.generation, small.spec.value.as_str()), (1, "1"));
    }

    /// The sysctl reconciler sends nothing that is not on disk yet (as the nvmf one,
    /// `a_sync_waits_until_what_it_sends_is_on_disk`): its sync waits for the writes its
    /// read saw before it calls the service (here one that nothing serves).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_sysctl_sync_waits_until_what_it_sends_is_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let (api, sysctls) = api(&dir, 64 << 10);
        let r = sysctls.clone();
        let create = async move {
            let spec = SysctlSpec { value: "1".into() };
            r.create("sysctls/vm.swappiness", "", Some(&spec), async |_| Ok(())).await
        };
        let reconciler =
            SysctlReconciler { sysctls: sysctls.collection.clone(), statuses: sysctls.statuses };
        let nowhere = Channel::from_static("http://[::1]:1").connect_lazy();
        let sync = async move { reconciler.sync(nowhere).await };
        let (created, synced) =
            crate::api::resource::sync_during_a_held_flush(&api.store, create, sync).await;
        created.unwrap();
        assert!(synced.is_err(), "nothing serves the system service");
    }
}
