//! `dpu.switch.v1.SwitchService`: bridges, ports, the VTEP, VRFs with their routes, SVIs and
//! static MACs as durable desired state, applied by the switch process (`dpu-switch --socket`)
//! through its whole-configuration `SwitchInternalService.SyncConfig`; status reads (ports with
//! counters, MAC table, neighbours, flows) are forwarded to the switch.
//!
//! A write is stored only when the whole state it leaves behind translates into a
//! configuration the switch accepts ([`desired`]). The host role reads the counters of its own
//! ports (the host representors, [`kinds::is_host_port`]) and nothing else.

pub mod desired;
pub mod kinds;
mod service;

use dpu_proto::dpu::switch::v1::switch_internal_service_client::SwitchInternalServiceClient;
use dpu_proto::dpu::switch::v1::{ApplyState, ObjectStatus, SyncConfigRequest};
use dpu_store::Object;
use tonic::Status;
use tonic::transport::Channel;

use self::desired::{Desired, by_name, to_mend};
use self::kinds::{BridgeKind, PortKind, RouteKind, StaticMacKind, SviKind, VrfKind, VtepKind};
pub use self::service::SwitchApi;
use super::resource::{Kind, Resources, task_failed};
use crate::services::{Reconciler, Services, Synced};

/// The service that applies these kinds.
pub const SWITCH_SERVICE: &str = "switch";

/// The seven collections of the switch service.
#[derive(Clone)]
pub struct SwitchResources {
    pub bridges: Resources<BridgeKind>,
    pub ports: Resources<PortKind>,
    pub vteps: Resources<VtepKind>,
    pub vrfs: Resources<VrfKind>,
    pub routes: Resources<RouteKind>,
    pub svis: Resources<SviKind>,
    pub static_macs: Resources<StaticMacKind>,
}

/// Stored objects of every kind, with their generations.
struct Stored {
    bridges: Vec<Object<<BridgeKind as Kind>::Spec>>,
    ports: Vec<Object<<PortKind as Kind>::Spec>>,
    vteps: Vec<Object<<VtepKind as Kind>::Spec>>,
    vrfs: Vec<Object<<VrfKind as Kind>::Spec>>,
    routes: Vec<Object<<RouteKind as Kind>::Spec>>,
    svis: Vec<Object<<SviKind as Kind>::Spec>>,
    static_macs: Vec<Object<<StaticMacKind as Kind>::Spec>>,
}

impl Stored {
    fn desired(&self) -> Desired {
        Desired {
            bridges: by_name(self.bridges.clone(), BridgeKind::public_name),
            ports: by_name(self.ports.clone(), PortKind::public_name),
            vteps: by_name(self.vteps.clone(), VtepKind::public_name),
            vrfs: by_name(self.vrfs.clone(), VrfKind::public_name),
            routes: by_name(self.routes.clone(), RouteKind::public_name),
            svis: by_name(self.svis.clone(), SviKind::public_name),
            static_macs: by_name(self.static_macs.clone(), StaticMacKind::public_name),
        }
    }
}

impl SwitchResources {
    pub fn open(store: &dpu_store::Store, services: &Services) -> Self {
        Self {
            bridges: Resources::open(store, services, SWITCH_SERVICE),
            ports: Resources::open(store, services, SWITCH_SERVICE),
            vteps: Resources::open(store, services, SWITCH_SERVICE),
            vrfs: Resources::open(store, services, SWITCH_SERVICE),
            routes: Resources::open(store, services, SWITCH_SERVICE),
            svis: Resources::open(store, services, SWITCH_SERVICE),
            static_macs: Resources::open(store, services, SWITCH_SERVICE),
        }
    }

    /// The same collections and statuses, nudging the services of `services`.
    pub fn with_services(&self, services: &Services) -> Self {
        Self {
            bridges: self.bridges.with_services(services),
            ports: self.ports.with_services(services),
            vteps: self.vteps.with_services(services),
            vrfs: self.vrfs.with_services(services),
            routes: self.routes.with_services(services),
            svis: self.svis.with_services(services),
            static_macs: self.static_macs.with_services(services),
        }
    }

    async fn stored(&self) -> Result<Stored, Status> {
        Ok(Stored {
            bridges: self.bridges.all().await?,
            ports: self.ports.all().await?,
            vteps: self.vteps.all().await?,
            vrfs: self.vrfs.all().await?,
            routes: self.routes.all().await?,
            svis: self.svis.all().await?,
            static_macs: self.static_macs.all().await?,
        })
    }

    /// FAILED_PRECONDITION unless the stored state changed by `edit` is a configuration the
    /// switch accepts, or, where stored objects the present checks refuse keep it from
    /// being one, the write makes nothing worse ([`Desired::check_write`]).
    /// Runs under the store's writer lock (`resource.rs`): two concurrent writes cannot each
    /// pass against the state before the other. The judging runs off the reactor, as the
    /// store's own work does: on a state near the switch's bounds it takes a while.
    async fn check(&self, edit: impl FnOnce(&mut Desired) + Send + 'static) -> Result<(), Status> {
        let before = self.stored().await?.desired();
        tokio::task::spawn_blocking(move || before.check_edit(edit)).await.map_err(task_failed)?
    }
}

pub(super) fn switch_client(channel: Channel) -> SwitchInternalServiceClient<Channel> {
    SwitchInternalServiceClient::new(channel)
        .max_decoding_message_size(dpu_switch::api::MESSAGE_LIMIT)
        .max_encoding_message_size(dpu_switch::api::MESSAGE_LIMIT)
}

/// Pushes the whole switch configuration and records, per object, whether it is in force.
pub struct SwitchReconciler {
    pub resources: SwitchResources,
}

impl SwitchReconciler {
    /// Every object's status after an attempt to apply `stored`.
    fn record(&self, stored: &Stored, outcome: &Result<(), String>) {
        let (state, message) = match outcome {
            Ok(()) => (ApplyState::Applied, String::new()),
            Err(m) => (ApplyState::Failed, m.clone()),
        };
        fn statuses<S>(
            objects: &[Object<S>],
            public_name: impl Fn(&str) -> String,
            state: ApplyState,
            message: &str,
        ) -> Vec<(String, i64, ObjectStatus)> {
            objects
                .iter()
                .map(|o| {
                    let status = ObjectStatus {
                        state: state.into(),
                        applied_generation: o.generation,
                        message: message.to_owned(),
                    };
                    (public_name(&o.name), o.create_time_unix_nanos, status)
                })
                .collect()
        }
        let r = &self.resources;
        r.bridges.statuses.replace(statuses(
            &stored.bridges,
            BridgeKind::public_name,
            state,
            &message,
        ));
        r.ports.statuses.replace(statuses(&stored.ports, PortKind::public_name, state, &message));
        r.vteps.statuses.replace(statuses(&stored.vteps, VtepKind::public_name, state, &message));
        r.vrfs.statuses.replace(statuses(&stored.vrfs, VrfKind::public_name, state, &message));
        r.routes.statuses.replace(statuses(
            &stored.routes,
            RouteKind::public_name,
            state,
            &message,
        ));
        r.svis.statuses.replace(statuses(&stored.svis, SviKind::public_name, state, &message));
        r.static_macs.statuses.replace(statuses(
            &stored.static_macs,
            StaticMacKind::public_name,
            state,
            &message,
        ));
    }
}

/// The configuration `stored` stands for, or why there is none: the refusal and the
/// message to record on every object (naming the stored objects to mend); `stored` back.
/// Off the reactor, as a write's judging ([`SwitchResources::check`]): near the switch's
/// bounds it takes a while (a tenth of a second and more in a debug build).
async fn judge(stored: Stored) -> Result<(Stored, Judged), Status> {
    tokio::task::spawn_blocking(move || {
        let desired = stored.desired();
        let judged = desired.to_config().map_err(|e| {
            let refused = desired.refused_alone();
            let message = if refused.is_empty() {
                e.message().to_owned()
            } else {
                let refused = to_mend(&refused);
                tracing::warn!(%refused, "stored switch objects the present checks refuse");
                format!("{}; stored objects to mend: {refused}", e.message())
            };
            (e, message)
        });
        (stored, judged)
    })
    .await
    .map_err(task_failed)
}

/// A configuration, or a refusal with the message to record.
type Judged = Result<dpu_proto::dpu::switch::v1::SwitchConfig, (Status, String)>;

#[tonic::async_trait]
impl Reconciler for SwitchReconciler {
    async fn sync(&self, channel: Channel) -> Result<Synced, Status> {
        // One snapshot: under the writer lock no write lands between two collections'
        // reads (a port read without the bridge created just before it). (The write checks
        // read `stored` already holding it.)
        let (revision, stored) = {
            let _one_snapshot = self.resources.bridges.collection.serialize_writes().await;
            // Read before the snapshot: every write counted in it is in the snapshot.
            (self.resources.bridges.collection.revision(), self.resources.stored().await?)
        };
        // Nothing goes to the switch that is not on disk (a crash would take it back).
        self.resources.bridges.durable().await?;
        let (stored, judged) = judge(stored).await?;
        let config = match judged {
            Ok(c) => c,
            Err((e, message)) => {
                self.record(&stored, &Err(message));
                return Err(e);
            }
        };
        match switch_client(channel).sync_config(SyncConfigRequest { config: Some(config) }).await {
            Ok(r) => {
                self.record(&stored, &Ok(()));
                // The rest serves; the VTEP waits for its uplink's MAC (the switch applies
                // it then and announces a status change, which brings a sync here).
                let waiting = r.into_inner().vtep_waiting;
                if !waiting.is_empty() {
                    let pending = |o: &Object<_>| {
                        let status = ObjectStatus {
                            state: ApplyState::Pending.into(),
                            applied_generation: o.generation,
                            message: waiting.clone(),
                        };
                        (VtepKind::public_name(&o.name), o.create_time_unix_nanos, status)
                    };
                    self.resources.vteps.statuses.replace(stored.vteps.iter().map(pending));
                }
                // The switch applies a configuration whole: accepted, nothing FAILED (a
                // refused one is a failed sync, retried as such).
                Ok(Synced { revision, ..Synced::default() })
            }
            // The switch judged the configuration: it keeps its previous one.
            Err(e) if e.code() == tonic::Code::InvalidArgument => {
                self.record(&stored, &Err(format!("the switch refused: {}", e.message())));
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    fn forget_statuses(&self) {
        let r = &self.resources;
        r.bridges.statuses.clear();
        r.ports.statuses.clear();
        r.vteps.statuses.clear();
        r.vrfs.statuses.clear();
        r.routes.statuses.clear();
        r.svis.statuses.clear();
        r.static_macs.statuses.clear();
    }
}

#[cfg(test)]
mod tests {
    use dpu_proto::dpu::switch::v1::{SviSpec, VrfSpec};

    use super::*;

    fn object<S>(name: &str, spec: S) -> Object<S> {
        Object {
            name: name.into(),
            spec,
            generation: 1,
            etag: String::new(),
            create_time_unix_nanos: 0,
            update_time_unix_nanos: 0,
        }
    }

    /// A state near the switch's bounds, which the switch accepts: 8,190 bridges each
    /// flooded to the remote VTEP, 16,000 routes through an SVI and 16,000 static MACs.
    fn large() -> Stored {
        use dpu_proto::dpu::switch::v1::{
            BridgeSpec, PortMode, PortSpec, RemoteVtep, Route, StaticMacSpec, VtepSpec,
        };
        let key = |k: Result<String, Status>| k.unwrap();
        let vnis: Vec<u32> = (1000..).take(dpu_switch::config::MAX_BRIDGES - 2).collect();
        let bridges = vnis.iter().map(|&vni| {
            let vlan = (vni < 4000).then_some(vni - 900);
            let spec = BridgeSpec { vni: Some(vni), vlan, ..Default::default() };
            object(&key(BridgeKind::key(&format!("bridges/b{vni}"), "name")), spec)
        });
        let port = |name: &str, spec: PortSpec| object(&key(PortKind::key(name, "name")), spec);
        let access = PortSpec {
            mode: PortMode::Access.into(),
            bridge: "bridges/b1000".into(),
            ..Default::default()
        };
        let uplink = PortSpec { mode: PortMode::Uplink.into(), ..Default::default() };
        let vtep = VtepSpec {
            uplink: "ports/p0".into(),
            local_ip: "198.51.100.1".into(),
            remotes: vec![RemoteVtep { ip: "198.51.100.2".into(), vnis: vnis.clone(), encap: 0 }],
            ..Default::default()
        };
        let svi = SviSpec {
            bridge: "bridges/b1000".into(),
            vrf: "vrfs/red".into(),
            address: "192.0.2.1/24".into(),
            mac: "02:00:00:00:00:01".into(),
            address6: String::new(),
        };
        let routes = (0..16_000u32).map(|i| {
            let name = format!("vrfs/red/routes/r{i}");
            let route = Route {
                prefix: format!("10.{}.{}.0/24", i / 256, i % 256),
                next_hop: "192.0.2.254".into(),
            };
            object(&key(RouteKind::key(&name, "name")), route)
        });
        let static_macs = (0..16_000u32).map(|i| {
            let name = format!("bridges/b1000/static-macs/m{i}");
            let spec = StaticMacSpec {
                mac: format!("02:00:00:01:{:02x}:{:02x}", i / 256, i % 256),
                port: "ports/pf0vf0".into(),
                ..Default::default()
            };
            object(&key(StaticMacKind::key(&name, "name")), spec)
        });
        Stored {
            bridges: bridges.collect(),
            ports: vec![port("ports/pf0vf0", access), port("ports/p0", uplink)],
            vteps: vec![object(&key(VtepKind::key("vteps/v", "name")), vtep)],
            vrfs: vec![object(&key(VrfKind::key("vrfs/red", "name")), VrfSpec::default())],
            routes: routes.collect(),
            svis: vec![object(&key(SviKind::key("svis/b1000", "name")), svi)],
            static_macs: static_macs.collect(),
        }
    }

    /// Judging a large state for a sync keeps the reactor free, as judging a write does:
    /// the first poll of `judge` hands the work to a blocking thread and returns pending,
    /// so the runtime's other tasks go on meanwhile. Judged inline, that first poll would
    /// run the whole judging (hundreds of milliseconds for this state) and be ready. No
    /// clock is read, so a loaded machine or qemu-user cannot make it flaky.
    #[tokio::test]
    async fn a_sync_judges_the_stored_state_off_the_reactor() {
        use std::task::Poll;
        let stored = large();
        let bridges = stored.bridges.len();
        let mut judged = std::pin::pin!(judge(stored));
        let first = std::future::poll_fn(|cx| Poll::Ready(judged.as_mut().poll(cx))).await;
        assert!(first.is_pending(), "the whole state was judged within one poll, on the reactor");
        let (_, config) = judged.await.unwrap();
        assert_eq!(config.unwrap().bridges.len(), bridges);
    }

    /// An SVI stored before the address checks grew stricter (a loopback address) is
    /// named with its reason; the objects the checks accept are not.
    #[test]
    fn stored_objects_the_present_checks_refuse_are_named() {
        let svi = |address: &str| SviSpec {
            bridge: "bridges/blue".into(),
            vrf: "vrfs/red".into(),
            address: address.into(),
            mac: "02:00:00:00:fe:01".into(),
            address6: String::new(),
        };
        let stored = Stored {
            bridges: vec![],
            ports: vec![],
            vteps: vec![],
            vrfs: vec![object("switch-vrfs/red", VrfSpec::default())],
            routes: vec![],
            svis: vec![
                object("switch-svis/good", svi("192.0.2.1/24")),
                object("switch-svis/old", svi("127.0.0.1/8")),
            ],
            static_macs: vec![],
        };
        let refused = stored.desired().refused_alone();
        assert_eq!(refused.keys().collect::<Vec<_>>(), ["svis/old"], "{refused:?}");
        assert!(refused["svis/old"].starts_with("spec.address: "), "{refused:?}");
        assert!(to_mend(&refused).starts_with("svis/old: spec.address: "), "{refused:?}");
    }
}
