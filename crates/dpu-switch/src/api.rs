//! The internal gRPC API (`dpu.switch.v1.SwitchInternalService`) the agent drives over the
//! service's Unix socket, and `dpu.internal.v1.ServiceControl`.
//!
//! [`from_proto`] turns the wire configuration into a [`SwitchConfig`], naming the field of
//! the first bad value; [`SwitchInternal`] applies it as a whole and reports status.

pub use dpu_runtime::control::{Control, instance_id};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use dpu_proto::dpu::switch::v1 as pb;
use pb::switch_internal_service_server::{SwitchInternalService, SwitchInternalServiceServer};
use tonic::{Request, Response, Status};

use crate::config::{
    BridgeConfig, ConfigError, DEFAULT_AGEING_SECS, DEFAULT_MAC_LIMIT, DEFAULT_MTU,
    DEFAULT_PREFIX_LEN, Encap, PortConfig, PortMode, RemoteVtepConfig, RouteConfig,
    StaticMacConfig, SviConfig, SwitchConfig, VrfConfig, VtepConfig,
};
use crate::switch::Switch;

/// The service name reported by `GetServiceInfo`.
pub const SERVICE_NAME: &str = "switch";
/// Largest internal message (a whole configuration, a page of flows).
pub const MESSAGE_LIMIT: usize = 16 * 1024 * 1024;

fn bad(field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { field: field.into(), reason: reason.into() }
}

fn small<T: TryFrom<u32>>(field: &str, v: u32) -> Result<T, ConfigError> {
    T::try_from(v).map_err(|_| bad(field, format!("{v} out of range")))
}

fn ip(field: &str, s: &str) -> Result<Ipv4Addr, ConfigError> {
    s.parse().map_err(|_| bad(field, format!("{s:?} is not an IPv4 address")))
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// Converts the wire configuration (validation of ranges and references is
/// [`SwitchConfig::validate`]'s, called by [`Switch::apply`]).
pub fn from_proto(c: &pb::SwitchConfig) -> Result<SwitchConfig, ConfigError> {
    let mut ports = Vec::new();
    for p in &c.ports {
        let f = |x: &str| format!("ports[{}].{x}", p.name);
        let mode = match pb::PortMode::try_from(p.mode) {
            Ok(pb::PortMode::Access) => PortMode::Access { vlan: small(&f("vlan"), p.vlan)? },
            Ok(pb::PortMode::Trunk) => PortMode::Trunk {
                vlans: p.vlans.iter().map(|v| small(&f("vlans"), *v)).collect::<Result<_, _>>()?,
                native_vlan: p.native_vlan.map(|v| small(&f("native_vlan"), v)).transpose()?,
            },
            Ok(pb::PortMode::Uplink) => PortMode::Uplink,
            _ => return Err(bad(f("mode"), "must be ACCESS, TRUNK or UPLINK")),
        };
        let mtu = if p.mtu == 0 { DEFAULT_MTU } else { small(&f("mtu"), p.mtu)? };
        ports.push(PortConfig { name: p.name.clone(), mode, mtu, admin_up: !p.admin_down });
    }
    let mut bridges = Vec::new();
    for b in &c.bridges {
        let f = |x: &str| format!("bridges[{}].{x}", b.name);
        bridges.push(BridgeConfig {
            name: b.name.clone(),
            vlan: b.vlan.map(|v| small(&f("vlan"), v)).transpose()?,
            vni: b.vni,
            ageing_secs: if b.ageing_secs == 0 { DEFAULT_AGEING_SECS } else { b.ageing_secs },
            mac_limit: if b.mac_limit == 0 { DEFAULT_MAC_LIMIT } else { b.mac_limit },
            svi: b.svi.as_ref().map(|s| SviConfig {
                vrf: s.vrf.clone(),
                address: s.address.clone(),
                mac: s.mac.clone(),
                address6: opt(&s.address6),
            }),
        });
    }
    let vtep = match &c.vtep {
        None => None,
        Some(v) => Some(VtepConfig {
            uplink: v.uplink.clone(),
            local_ip: ip("vtep.local_ip", &v.local_ip)?,
            prefix_len: if v.prefix_len == 0 {
                DEFAULT_PREFIX_LEN
            } else {
                small("vtep.prefix_len", v.prefix_len)?
            },
            gateway: opt(&v.gateway).map(|g| ip("vtep.gateway", &g)).transpose()?,
            local_mac: opt(&v.local_mac),
            udp_checksum: v.udp_checksum,
            ttl: if v.ttl == 0 { 64 } else { small("vtep.ttl", v.ttl)? },
            remotes: v
                .remotes
                .iter()
                .map(|r| {
                    Ok(RemoteVtepConfig {
                        ip: ip(&format!("vtep.remotes[{}].ip", r.ip), &r.ip)?,
                        vnis: r.vnis.clone(),
                        encap: match pb::Encap::try_from(r.encap) {
                            Ok(pb::Encap::Geneve) => Encap::Geneve,
                            Ok(_) => Encap::Vxlan,
                            Err(_) => {
                                return Err(bad(
                                    format!("vtep.remotes[{}].encap", r.ip),
                                    "unknown",
                                ));
                            }
                        },
                    })
                })
                .collect::<Result<_, ConfigError>>()?,
            learn_remotes: !v.no_learn_remotes,
        }),
    };
    let static_macs = c
        .static_macs
        .iter()
        .map(|s| {
            Ok(StaticMacConfig {
                bridge: s.bridge.clone(),
                mac: s.mac.clone(),
                port: opt(&s.port),
                vtep: opt(&s.vtep)
                    .map(|v| ip(&format!("static_macs[{}].vtep", s.mac), &v))
                    .transpose()?,
            })
        })
        .collect::<Result<_, ConfigError>>()?;
    let vrfs = c
        .vrfs
        .iter()
        .map(|v| {
            Ok(VrfConfig {
                name: v.name.clone(),
                routes: v
                    .routes
                    .iter()
                    .map(|r| {
                        Ok(RouteConfig {
                            prefix: r.prefix.clone(),
                            next_hop: r.next_hop.parse().map_err(|_| {
                                bad(
                                    format!("vrfs[{}].routes[{}].next_hop", v.name, r.prefix),
                                    format!("{:?} is not an IP address", r.next_hop),
                                )
                            })?,
                        })
                    })
                    .collect::<Result<_, ConfigError>>()?,
            })
        })
        .collect::<Result<_, ConfigError>>()?;
    Ok(SwitchConfig { ports, bridges, vtep, static_macs, flow_cache_size: c.flow_cache_size, vrfs })
}

/// The inverse of [`from_proto`].
pub fn to_proto(c: &SwitchConfig) -> pb::SwitchConfig {
    pb::SwitchConfig {
        ports: c
            .ports
            .iter()
            .map(|p| {
                let (mode, vlan, vlans, native_vlan) = match &p.mode {
                    PortMode::Access { vlan } => {
                        (pb::PortMode::Access, u32::from(*vlan), vec![], None)
                    }
                    PortMode::Trunk { vlans, native_vlan } => (
                        pb::PortMode::Trunk,
                        0,
                        vlans.iter().map(|v| u32::from(*v)).collect(),
                        native_vlan.map(u32::from),
                    ),
                    PortMode::Uplink => (pb::PortMode::Uplink, 0, vec![], None),
                };
                pb::Port {
                    name: p.name.clone(),
                    mode: mode.into(),
                    vlan,
                    vlans,
                    native_vlan,
                    mtu: u32::from(p.mtu),
                    admin_down: !p.admin_up,
                }
            })
            .collect(),
        bridges: c
            .bridges
            .iter()
            .map(|b| pb::Bridge {
                name: b.name.clone(),
                vlan: b.vlan.map(u32::from),
                vni: b.vni,
                ageing_secs: b.ageing_secs,
                mac_limit: b.mac_limit,
                svi: b.svi.as_ref().map(|s| pb::Svi {
                    vrf: s.vrf.clone(),
                    address: s.address.clone(),
                    mac: s.mac.clone(),
                    address6: s.address6.clone().unwrap_or_default(),
                }),
            })
            .collect(),
        vtep: c.vtep.as_ref().map(|v| pb::Vtep {
            uplink: v.uplink.clone(),
            local_ip: v.local_ip.to_string(),
            prefix_len: u32::from(v.prefix_len),
            gateway: v.gateway.map(|g| g.to_string()).unwrap_or_default(),
            local_mac: v.local_mac.clone().unwrap_or_default(),
            udp_checksum: v.udp_checksum,
            ttl: u32::from(v.ttl),
            remotes: v
                .remotes
                .iter()
                .map(|r| pb::RemoteVtep {
                    ip: r.ip.to_string(),
                    vnis: r.vnis.clone(),
                    encap: match r.encap {
                        Encap::Vxlan => pb::Encap::Vxlan,
                        Encap::Geneve => pb::Encap::Geneve,
                    }
                    .into(),
                })
                .collect(),
            no_learn_remotes: !v.learn_remotes,
        }),
        static_macs: c
            .static_macs
            .iter()
            .map(|s| pb::StaticMac {
                bridge: s.bridge.clone(),
                mac: s.mac.clone(),
                port: s.port.clone().unwrap_or_default(),
                vtep: s.vtep.map(|v| v.to_string()).unwrap_or_default(),
            })
            .collect(),
        vrfs: c
            .vrfs
            .iter()
            .map(|v| pb::Vrf {
                name: v.name.clone(),
                routes: v
                    .routes
                    .iter()
                    .map(|r| pb::Route {
                        prefix: r.prefix.clone(),
                        next_hop: r.next_hop.to_string(),
                    })
                    .collect(),
            })
            .collect(),
        flow_cache_size: c.flow_cache_size,
    }
}

/// Fills in what the configuration leaves to the running system (the VTEP's MAC from its
/// uplink interface).
pub type Completer = Arc<dyn Fn(&mut SwitchConfig) -> Result<(), ConfigError> + Send + Sync>;

/// The internal service.
#[derive(Clone)]
pub struct SwitchInternal {
    switch: Arc<Mutex<Switch>>,
    complete: Completer,
}

impl std::fmt::Debug for SwitchInternal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchInternal").finish_non_exhaustive()
    }
}

/// A table the internal API pages through by offset. Its name opens the page tokens it
/// gives ("flows.200"), so a token is valid only for the listing that gave it (AIP-158): one
/// of another table, or anything else, is INVALID_ARGUMENT rather than read as an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Macs,
    Neighbours,
    Flows,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Macs => "macs",
            Table::Neighbours => "neighbours",
            Table::Flows => "flows",
        }
    }

    /// The start and size of the page `req` asks of this table: `page_size` 0 is 100 and at
    /// most 1000 are given, as for every other listing. The start is an offset for the
    /// neighbours and a slot of the table for the MACs and flows ([`crate::paging`]).
    fn page(self, req: &pb::ListRequest) -> Result<(usize, usize), Status> {
        let size = match req.page_size {
            0 => 100,
            n => n.min(1000) as usize,
        };
        let start = if req.page_token.is_empty() {
            0
        } else {
            self.offset(&req.page_token).ok_or_else(|| {
                Status::invalid_argument(format!(
                    "page_token: not a token the {} listing gave",
                    self.name()
                ))
            })?
        };
        Ok((start, size))
    }

    /// The start of a token [`token`](Self::token) gave for this table, exactly as given
    /// (no sign, no leading zeros), so no other string passes for one.
    fn offset(self, token: &str) -> Option<usize> {
        let digits = token.strip_prefix(self.name())?.strip_prefix('.')?;
        let n: usize = digits.parse().ok()?;
        (n.to_string() == digits).then_some(n)
    }

    /// The token of the page starting at `next`; empty after the last page.
    fn token(self, next: Option<usize>) -> String {
        next.map(|n| format!("{}.{n}", self.name())).unwrap_or_default()
    }
}

impl SwitchInternal {
    /// Serves `switch`; `complete` runs on every synced configuration before it is applied.
    pub fn new(switch: Arc<Mutex<Switch>>, complete: Completer) -> Self {
        SwitchInternal { switch, complete }
    }

    fn lock(&self) -> MutexGuard<'_, Switch> {
        self.switch.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The tonic service.
    pub fn into_server(self) -> SwitchInternalServiceServer<Self> {
        SwitchInternalServiceServer::new(self)
            .max_decoding_message_size(MESSAGE_LIMIT)
            .max_encoding_message_size(MESSAGE_LIMIT)
    }
}

#[tonic::async_trait]
impl SwitchInternalService for SwitchInternal {
    async fn sync_config(
        &self,
        request: Request<pb::SyncConfigRequest>,
    ) -> Result<Response<pb::SyncConfigResponse>, Status> {
        let Some(c) = request.into_inner().config else {
            return Err(Status::invalid_argument("config: required"));
        };
        let mut config = from_proto(&c).map_err(|e| Status::invalid_argument(e.to_string()))?;
        (self.complete)(&mut config).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let vtep_waiting = match &config.vtep {
            Some(v) if v.local_mac.is_none() => {
                format!("inactive until interface {} (its uplink) has a MAC", v.uplink)
            }
            _ => String::new(),
        };
        let mut sw = self.lock();
        sw.apply(config, Instant::now()).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let config_epoch = sw.status().config_epoch;
        Ok(Response::new(pb::SyncConfigResponse { config_epoch, vtep_waiting }))
    }

    async fn get_config(
        &self,
        _request: Request<pb::GetConfigRequest>,
    ) -> Result<Response<pb::SwitchConfig>, Status> {
        Ok(Response::new(to_proto(self.lock().config())))
    }

    async fn get_status(
        &self,
        _request: Request<pb::GetStatusRequest>,
    ) -> Result<Response<pb::SwitchStatus>, Status> {
        let s = self.lock().status();
        let counters = serde_json::to_value(s.counters)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .map(|m| m.into_iter().filter_map(|(k, v)| Some((k, v.as_u64()?))).collect())
            .unwrap_or_default();
        Ok(Response::new(pb::SwitchStatus {
            config_epoch: s.config_epoch,
            ports: s
                .ports
                .into_iter()
                .map(|p| pb::PortStatus {
                    name: p.name,
                    mode: p.mode.into(),
                    mtu: u32::from(p.mtu),
                    admin_up: p.admin_up,
                    rx_packets: p.counters.rx_packets,
                    rx_bytes: p.counters.rx_bytes,
                    tx_packets: p.counters.tx_packets,
                    tx_bytes: p.counters.tx_bytes,
                    tx_dropped: p.counters.tx_dropped,
                    tx_drops: p
                        .counters
                        .tx_drops
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                    drops_total: p.counters.drops_total,
                    drops: p.counters.drops.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                })
                .collect(),
            bridges: s
                .bridges
                .into_iter()
                .map(|b| pb::BridgeStatus {
                    name: b.name,
                    vlan: b.vlan.map(u32::from),
                    vni: b.vni,
                    members: b.members,
                    learned_macs: b.learned_macs,
                    mac_limit: b.mac_limit,
                    svi: b.svi.unwrap_or_default(),
                })
                .collect(),
            vteps: s
                .vteps
                .into_iter()
                .map(|v| pb::VtepStatus {
                    ip: v.ip.to_string(),
                    next_hop: v.next_hop.to_string(),
                    next_hop_mac: v.next_hop_mac.unwrap_or_default(),
                    learned: v.learned,
                    flood_vnis: v.flood_vnis,
                    tx_packets: v.tx_packets,
                    rx_packets: v.rx_packets,
                })
                .collect(),
            flow_cache: Some(pb::FlowCacheStatus {
                entries: s.flow_cache.entries as u64,
                capacity: s.flow_cache.capacity as u64,
                hits: s.flow_cache.hits,
                misses: s.flow_cache.misses,
                invalidated: s.flow_cache.invalidated,
                expired: s.flow_cache.expired,
                full: s.flow_cache.full,
                evicted: s.flow_cache.evicted,
            }),
            counters,
        }))
    }

    async fn list_mac_entries(
        &self,
        request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::ListMacEntriesResponse>, Status> {
        let (start, size) = Table::Macs.page(request.get_ref())?;
        let p = self.lock().mac_page(Instant::now(), start, size);
        let entries = p
            .entries
            .into_iter()
            .map(|e| pb::MacEntry {
                bridge: e.bridge,
                mac: e.mac,
                dest: e.dest,
                is_static: e.is_static,
                age_secs: e.age_secs,
            })
            .collect();
        Ok(Response::new(pb::ListMacEntriesResponse {
            entries,
            next_page_token: Table::Macs.token(p.next),
        }))
    }

    async fn list_flows(
        &self,
        request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::ListFlowsResponse>, Status> {
        let (start, size) = Table::Flows.page(request.get_ref())?;
        let p = self.lock().flows(Instant::now(), start, size);
        Ok(Response::new(pb::ListFlowsResponse {
            flows: p
                .flows
                .into_iter()
                .map(|f| pb::Flow {
                    key: f.key,
                    action: f.action,
                    current: f.current,
                    packets: f.packets,
                    bytes: f.bytes,
                    age_ms: f.age_ms,
                    idle_ms: f.idle_ms,
                })
                .collect(),
            next_page_token: Table::Flows.token(p.next),
            total: p.total as u64,
        }))
    }

    async fn list_neighbours(
        &self,
        request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::ListNeighboursResponse>, Status> {
        let (start, size) = Table::Neighbours.page(request.get_ref())?;
        let sw = self.lock();
        let all = sw.neighbours();
        let end = start.saturating_add(size).min(all.len());
        let neighbours = all
            .get(start.min(all.len())..end)
            .unwrap_or_default()
            .iter()
            .map(|n| pb::Neighbour {
                vrf: n.vrf.clone(),
                ip: n.ip.to_string(),
                mac: n.mac.clone().unwrap_or_default(),
            })
            .collect();
        let routes = sw
            .routes()
            .into_iter()
            .map(|r| pb::RouteStatus { vrf: r.vrf, prefix: r.prefix, via: r.via })
            .collect();
        let next = (end < all.len()).then_some(end);
        Ok(Response::new(pb::ListNeighboursResponse {
            neighbours,
            next_page_token: Table::Neighbours.token(next),
            routes,
        }))
    }
}

/// The `ServiceControl` identity of this process.
pub fn control() -> Control {
    Control::new(SERVICE_NAME, env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use dpu_proto::dpu::internal::v1::GetServiceInfoRequest;
    use dpu_proto::dpu::internal::v1::service_control_server::ServiceControl;

    use super::*;
    use crate::counters::TxDrops;

    const EXAMPLE: &str = r#"
        [[ports]]
        name = "pf0vf0"
        mode = "access"
        vlan = 10
        [[ports]]
        name = "pf0vf1"
        mode = "trunk"
        vlans = [10, 20]
        native_vlan = 30
        admin_up = false
        [[ports]]
        name = "p0"
        mode = "uplink"
        [[bridges]]
        name = "br10"
        vlan = 10
        vni = 100
        svi = { vrf = "blue", address = "192.0.2.254/24", mac = "02:00:00:00:fe:01", address6 = "2001:db8:10::1/64" }
        [vtep]
        uplink = "p0"
        local_ip = "198.51.100.10"
        local_mac = "02:00:00:00:00:10"
        remotes = [{ ip = "198.51.100.2", vnis = [100], encap = "geneve" }]
        [[static_macs]]
        bridge = "br10"
        mac = "02:00:00:00:aa:01"
        vtep = "198.51.100.2"
        [[vrfs]]
        name = "blue"
        routes = [
            { prefix = "203.0.113.0/24", next_hop = "192.0.2.1" },
            { prefix = "2001:db8:99::/48", next_hop = "2001:db8:10::9" },
        ]
    "#;

    fn service() -> SwitchInternal {
        let sw = Switch::new(SwitchConfig::default(), Instant::now()).unwrap();
        let complete: Completer = Arc::new(|_| Ok(()));
        SwitchInternal::new(Arc::new(Mutex::new(sw)), complete)
    }

    #[test]
    fn proto_round_trip() {
        let c: SwitchConfig = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(from_proto(&to_proto(&c)).unwrap(), c);
        let mut p = to_proto(&c);
        p.ports[0].vlan = 70_000;
        assert!(from_proto(&p).unwrap_err().to_string().contains("ports[pf0vf0].vlan"));
        let mut p = to_proto(&c);
        p.vtep.as_mut().unwrap().local_ip = "nope".into();
        assert!(from_proto(&p).unwrap_err().to_string().contains("vtep.local_ip"));
    }

    /// GetStatus carries each port's transmit drops (frames the port could not send).
    #[tokio::test]
    async fn port_status_carries_tx_dropped() {
        let c: SwitchConfig = toml::from_str(EXAMPLE).unwrap();
        let sw = Arc::new(Mutex::new(Switch::new(c, Instant::now()).unwrap()));
        {
            let mut sw = sw.lock().unwrap();
            let id = sw.port_id("pf0vf0").unwrap();
            sw.count_tx_dropped(id, TxDrops { frames: 7, ..TxDrops::default() });
        }
        let complete: Completer = Arc::new(|_| Ok(()));
        let svc = SwitchInternal::new(sw, complete);
        let s = svc.get_status(Request::new(pb::GetStatusRequest {})).await.unwrap().into_inner();
        let dropped: Vec<(&str, u64)> =
            s.ports.iter().map(|p| (p.name.as_str(), p.tx_dropped)).filter(|p| p.1 > 0).collect();
        assert_eq!(dropped, [("pf0vf0", 7)]);
    }

    #[tokio::test]
    async fn sync_status_and_lists() {
        let svc = service();
        let c: SwitchConfig = toml::from_str(EXAMPLE).unwrap();
        let r = svc
            .sync_config(Request::new(pb::SyncConfigRequest { config: Some(to_proto(&c)) }))
            .await
            .unwrap();
        assert!(r.get_ref().config_epoch >= 2);
        let got = svc.get_config(Request::new(pb::GetConfigRequest {})).await.unwrap();
        assert_eq!(from_proto(got.get_ref()).unwrap(), c);
        // Invalid: refused with the field, nothing changes.
        let mut bad = to_proto(&c);
        bad.bridges[0].vlan = Some(4095);
        let e = svc
            .sync_config(Request::new(pb::SyncConfigRequest { config: Some(bad) }))
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert!(e.message().contains("bridges[br10].vlan"), "{}", e.message());
        let e = svc
            .sync_config(Request::new(pb::SyncConfigRequest { config: None }))
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        let s = svc.get_status(Request::new(pb::GetStatusRequest {})).await.unwrap().into_inner();
        assert_eq!(s.config_epoch, r.get_ref().config_epoch);
        assert_eq!(s.ports.len(), 3);
        assert!(s.counters.contains_key("arp_replies"));
        assert_eq!(s.bridges[0].svi, "192.0.2.254/24 02:00:00:00:fe:01 blue");
        let macs = svc
            .list_mac_entries(Request::new(pb::ListRequest {
                page_size: 1,
                page_token: String::new(),
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(macs.entries.len(), 1);
        assert_eq!(macs.entries[0].dest, "vtep:198.51.100.2");
        assert!(macs.next_page_token.is_empty());
        let n = svc
            .list_neighbours(Request::new(pb::ListRequest::default()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(n.routes.len(), 4);
        let e = svc
            .list_flows(Request::new(pb::ListRequest { page_size: 0, page_token: "x".into() }))
            .await
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        let info = control()
            .get_service_info(Request::new(GetServiceInfoRequest {}))
            .await
            .unwrap()
            .into_inner();
        assert_eq!((info.service.as_str(), info.instance_id.len()), ("switch", 32));
    }

    /// Paging by one walks the MAC table once, and a page token is valid only for the
    /// listing that gave it (AIP-158): a MAC-table token, a bare offset (the old form) or a
    /// near miss is INVALID_ARGUMENT in any other listing, not a silently shifted page.
    #[tokio::test]
    async fn a_page_token_is_valid_only_for_its_listing() {
        let svc = service();
        let mut c: SwitchConfig = toml::from_str(EXAMPLE).unwrap();
        let mut second = c.static_macs[0].clone();
        second.mac = "02:00:00:00:aa:02".into();
        c.static_macs.push(second);
        svc.sync_config(Request::new(pb::SyncConfigRequest { config: Some(to_proto(&c)) }))
            .await
            .unwrap();
        let one =
            |page_token: &str| pb::ListRequest { page_size: 1, page_token: page_token.into() };
        let first = svc.list_mac_entries(Request::new(one(""))).await.unwrap().into_inner();
        assert_eq!(first.entries.len(), 1);
        let token = first.next_page_token;
        let rest = svc.list_mac_entries(Request::new(one(&token))).await.unwrap().into_inner();
        assert_eq!(rest.entries.len(), 1);
        assert_ne!(rest.entries[0].mac, first.entries[0].mac);
        assert!(rest.next_page_token.is_empty());

        for foreign in [token.as_str(), "1", "x", "flows.+1", "flows.01", "flows.", "flows"] {
            let e = svc.list_flows(Request::new(one(foreign))).await.unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "list_flows {foreign}");
            assert!(e.message().starts_with("page_token:"), "{}", e.message());
            let e = svc.list_neighbours(Request::new(one(foreign))).await.unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "list_neighbours {foreign}");
        }
        let e = svc.list_mac_entries(Request::new(one("neighbours.1"))).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        // A listing takes its own tokens, whatever page size follows.
        let big = pb::ListRequest { page_size: 5000, page_token: "flows.1".into() };
        let flows = svc.list_flows(Request::new(big)).await.unwrap().into_inner();
        assert!(flows.flows.is_empty() && flows.next_page_token.is_empty());
    }
}
