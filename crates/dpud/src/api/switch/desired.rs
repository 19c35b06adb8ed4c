//! The whole desired switch state as the agent stores it (seven collections of resources that
//! refer to each other by name) and its translation into the one `SwitchConfig` the switch
//! process applies.
//!
//! Every write is checked by translating the state it would leave behind and running the
//! switch's own [`SwitchConfig::validate`](dpu_switch::SwitchConfig::validate) on it, so the
//! agent never stores what the switch would refuse: dangling references (a port's bridge, an
//! SVI's VRF, a VTEP's uplink), a second VTEP or SVI per bridge, duplicate VLANs or VNIs,
//! overlapping SVI subnets, routes whose next hop is off-link. Deleting something still
//! referenced fails the same way. All of these are FAILED_PRECONDITION: the request is well
//! formed, the state it meets is not ready for it.

use std::collections::{BTreeMap, BTreeSet};

use dpu_proto::dpu::switch::v1 as pb;
use dpu_store::Object;
use pb::{BridgeSpec, PortMode, PortSpec, Route, StaticMacSpec, SviSpec, VrfSpec, VtepSpec};
use tonic::Status;

use super::kinds::{
    BridgeKind, PortKind, RouteKind, StaticMacKind, SviKind, VrfKind, VtepKind, id_of, parent_of,
};
use crate::api::resource::Kind;

/// Specs by public name, in name order.
#[derive(Debug, Clone, Default)]
pub struct Desired {
    pub bridges: BTreeMap<String, BridgeSpec>,
    pub ports: BTreeMap<String, PortSpec>,
    pub vteps: BTreeMap<String, VtepSpec>,
    pub vrfs: BTreeMap<String, VrfSpec>,
    pub routes: BTreeMap<String, Route>,
    pub svis: BTreeMap<String, SviSpec>,
    pub static_macs: BTreeMap<String, StaticMacSpec>,
}

/// Public names and specs of stored objects.
pub fn by_name<S>(
    objects: Vec<Object<S>>,
    public_name: impl Fn(&str) -> String,
) -> BTreeMap<String, S> {
    objects.into_iter().map(|o| (public_name(&o.name), o.spec)).collect()
}

fn refused(message: String) -> Status {
    Status::failed_precondition(message)
}

/// "name: why; ..." of objects the present checks refuse on their own
/// ([`Desired::refused_alone`]): what the operator must mend or delete.
pub fn to_mend(refused: &BTreeMap<String, String>) -> String {
    let each: Vec<String> = refused.iter().map(|(name, why)| format!("{name}: {why}")).collect();
    each.join("; ")
}

impl Desired {
    /// The objects the present checks refuse on their own, by name with why: objects
    /// written under an earlier release's looser rules. When the whole state is refused,
    /// they say which objects the operator must mend (or delete).
    pub fn refused_alone(&self) -> BTreeMap<String, String> {
        fn refused<K: Kind>(specs: &BTreeMap<String, K::Spec>, out: &mut BTreeMap<String, String>) {
            for (name, spec) in specs {
                if let Err(e) = K::validate(spec, "spec") {
                    out.insert(name.clone(), e.message().to_owned());
                }
            }
        }
        let mut out = BTreeMap::new();
        refused::<BridgeKind>(&self.bridges, &mut out);
        refused::<PortKind>(&self.ports, &mut out);
        refused::<VtepKind>(&self.vteps, &mut out);
        refused::<VrfKind>(&self.vrfs, &mut out);
        refused::<RouteKind>(&self.routes, &mut out);
        refused::<SviKind>(&self.svis, &mut out);
        refused::<StaticMacKind>(&self.static_macs, &mut out);
        out
    }

    /// Each object's name with the names it refers to (empty where a reference is unset).
    fn references(&self) -> Vec<(&str, Vec<&str>)> {
        let mut out = Vec::new();
        for (name, p) in &self.ports {
            let mut to: Vec<&str> = p.trunk_bridges.iter().map(String::as_str).collect();
            to.extend([p.bridge.as_str(), p.native_bridge.as_str()]);
            out.push((name.as_str(), to));
        }
        for (name, s) in &self.svis {
            out.push((name.as_str(), vec![s.bridge.as_str(), s.vrf.as_str()]));
        }
        for (name, v) in &self.vteps {
            out.push((name.as_str(), vec![v.uplink.as_str()]));
        }
        for name in self.routes.keys() {
            out.push((name.as_str(), vec![parent_of(name, "routes")]));
        }
        for (name, m) in &self.static_macs {
            out.push((name.as_str(), vec![parent_of(name, "static-macs"), m.port.as_str()]));
        }
        out
    }

    /// `names` and every object that refers to one of them, directly or through others (a
    /// port of a bridge, the VTEP on that port, a static MAC on it).
    fn with_referrers(&self, mut names: BTreeSet<String>) -> BTreeSet<String> {
        let references = self.references();
        loop {
            let before = names.len();
            for (name, to) in &references {
                if !names.contains(*name) && to.iter().any(|t| names.contains(*t)) {
                    names.insert((*name).to_owned());
                }
            }
            if names.len() == before {
                return names;
            }
        }
    }

    /// This state without the objects `names`.
    fn without(&self, names: &BTreeSet<String>) -> Self {
        let mut d = self.clone();
        d.bridges.retain(|n, _| !names.contains(n));
        d.ports.retain(|n, _| !names.contains(n));
        d.vteps.retain(|n, _| !names.contains(n));
        d.vrfs.retain(|n, _| !names.contains(n));
        d.routes.retain(|n, _| !names.contains(n));
        d.svis.retain(|n, _| !names.contains(n));
        d.static_macs.retain(|n, _| !names.contains(n));
        d
    }

    /// The objects a state refused for stored objects' own faults has to set aside: those
    /// the present checks refuse on their own and what refers to them.
    fn set_aside(&self) -> BTreeSet<String> {
        self.with_referrers(self.refused_alone().into_keys().collect())
    }

    /// Whether a write that turns `before` into this state may be stored: this state is a
    /// configuration the switch accepts, or the write makes nothing worse. A store an
    /// earlier release wrote may hold objects the present checks refuse, and with them the
    /// whole state is refused; a write is then judged by what it adds: every object set
    /// aside after it (refused on its own, or referring to such an object) was set aside
    /// before it, and the rest is a configuration the switch accepts. So each such object
    /// can be mended or deleted on its own (deleting one is never refused for another's
    /// fault), and nothing new is stored that the switch would refuse.
    pub fn check_write(&self, before: &Desired) -> Result<(), Status> {
        let Err(refused_whole) = self.to_config() else { return Ok(()) };
        let set_aside = self.set_aside();
        if set_aside.is_empty() {
            return Err(refused_whole);
        }
        let before_set_aside = before.set_aside();
        let added: Vec<&str> =
            set_aside.difference(&before_set_aside).map(String::as_str).collect();
        if !added.is_empty() {
            return Err(refused(format!(
                "{} would refer to stored objects the present checks refuse; mend them \
                 first: {}",
                added.join(", "),
                to_mend(&self.refused_alone())
            )));
        }
        self.without(&set_aside).to_config().map(drop)
    }

    /// The bridge `name` refers to, or FAILED_PRECONDITION naming who refers to it.
    fn bridge(&self, name: &str, who: &str, field: &str) -> Result<&BridgeSpec, Status> {
        self.bridges
            .get(name)
            .ok_or_else(|| refused(format!("{who} {field}: bridge {name} does not exist")))
    }

    /// The VLAN of bridge `name`, which a port joins it by.
    fn bridge_vlan(&self, name: &str, who: &str, field: &str) -> Result<u32, Status> {
        self.bridge(name, who, field)?.vlan.ok_or_else(|| {
            refused(format!("{who} {field}: bridge {name} has no vlan, so no port can join it"))
        })
    }

    /// The switch configuration this state stands for, checked as a whole.
    pub fn to_config(&self) -> Result<pb::SwitchConfig, Status> {
        let mut ports = Vec::new();
        for (name, p) in &self.ports {
            let (mut vlan, mut vlans, mut native_vlan) = (0, Vec::new(), None);
            match PortMode::try_from(p.mode) {
                Ok(PortMode::Access) => vlan = self.bridge_vlan(&p.bridge, name, "spec.bridge")?,
                Ok(PortMode::Trunk) => {
                    for b in &p.trunk_bridges {
                        vlans.push(self.bridge_vlan(b, name, "spec.trunk_bridges")?);
                    }
                    if !p.native_bridge.is_empty() {
                        native_vlan =
                            Some(self.bridge_vlan(&p.native_bridge, name, "spec.native_bridge")?);
                    }
                }
                _ => {}
            }
            ports.push(pb::Port {
                name: id_of(name).to_owned(),
                mode: p.mode,
                vlan,
                vlans,
                native_vlan,
                mtu: p.mtu,
                admin_down: p.admin_down,
            });
        }
        let mut bridges: BTreeMap<&str, pb::Bridge> = self
            .bridges
            .iter()
            .map(|(name, b)| {
                let bridge = pb::Bridge {
                    name: id_of(name).to_owned(),
                    vlan: b.vlan,
                    vni: b.vni,
                    ageing_secs: b.ageing_secs,
                    mac_limit: b.mac_limit,
                    svi: None,
                };
                (name.as_str(), bridge)
            })
            .collect();
        let mut svi_of: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, s) in &self.svis {
            if !self.vrfs.contains_key(&s.vrf) {
                return Err(refused(format!("{name} spec.vrf: vrf {} does not exist", s.vrf)));
            }
            let bridge = bridges.get_mut(s.bridge.as_str()).ok_or_else(|| {
                refused(format!("{name} spec.bridge: bridge {} does not exist", s.bridge))
            })?;
            if let Some(other) = svi_of.insert(&s.bridge, name) {
                return Err(refused(format!(
                    "{name}: bridge {} already has {other}; a bridge has at most one SVI",
                    s.bridge
                )));
            }
            bridge.svi = Some(pb::Svi {
                vrf: id_of(&s.vrf).to_owned(),
                address: s.address.clone(),
                mac: s.mac.clone(),
                address6: s.address6.clone(),
            });
        }
        let mut vrfs: BTreeMap<&str, pb::Vrf> = self
            .vrfs
            .keys()
            .map(|name| (name.as_str(), pb::Vrf { name: id_of(name).to_owned(), routes: vec![] }))
            .collect();
        for (name, r) in &self.routes {
            let vrf = parent_of(name, "routes");
            let v = vrfs
                .get_mut(vrf)
                .ok_or_else(|| refused(format!("{name}: vrf {vrf} does not exist")))?;
            v.routes.push(r.clone());
        }
        let mut vteps = self.vteps.iter();
        let vtep = match (vteps.next(), vteps.next()) {
            (None, _) => None,
            (Some((a, _)), Some((b, _))) => {
                return Err(refused(format!(
                    "the switch has one VTEP; {a} and {b} cannot both exist"
                )));
            }
            (Some((name, v)), None) => {
                if !self.ports.contains_key(&v.uplink) {
                    return Err(refused(format!(
                        "{name} spec.uplink: port {} does not exist",
                        v.uplink
                    )));
                }
                Some(pb::Vtep { uplink: id_of(&v.uplink).to_owned(), ..vtep_fields(v) })
            }
        };
        let mut static_macs = Vec::new();
        for (name, m) in &self.static_macs {
            let bridge = parent_of(name, "static-macs");
            self.bridge(bridge, name, "parent")?;
            if !m.port.is_empty() && !self.ports.contains_key(&m.port) {
                return Err(refused(format!("{name} spec.port: port {} does not exist", m.port)));
            }
            static_macs.push(pb::StaticMac {
                bridge: id_of(bridge).to_owned(),
                mac: m.mac.clone(),
                port: if m.port.is_empty() { String::new() } else { id_of(&m.port).to_owned() },
                vtep: m.remote_vtep.clone(),
            });
        }
        let config = pb::SwitchConfig {
            ports,
            bridges: bridges.into_values().collect(),
            vtep,
            static_macs,
            vrfs: vrfs.into_values().collect(),
            flow_cache_size: 0,
        };
        dpu_switch::api::from_proto(&config)
            .and_then(|c| c.validate())
            .map_err(|e| refused(format!("the switch would refuse this configuration: {e}")))?;
        Ok(config)
    }
}

fn vtep_fields(v: &VtepSpec) -> pb::Vtep {
    pb::Vtep {
        uplink: v.uplink.clone(),
        local_ip: v.local_ip.clone(),
        prefix_len: v.prefix_len,
        gateway: v.gateway.clone(),
        local_mac: v.local_mac.clone(),
        udp_checksum: v.udp_checksum,
        ttl: v.ttl,
        remotes: v.remotes.clone(),
        no_learn_remotes: v.no_learn_remotes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Desired {
        let mut d = Desired::default();
        d.bridges.insert(
            "bridges/blue".into(),
            BridgeSpec { vlan: Some(10), vni: Some(100), ..Default::default() },
        );
        for vf in ["pf0vf0", "pf0vf1"] {
            d.ports.insert(
                format!("ports/{vf}"),
                PortSpec {
                    mode: PortMode::Access.into(),
                    bridge: "bridges/blue".into(),
                    ..Default::default()
                },
            );
        }
        d.ports.insert(
            "ports/p0".into(),
            PortSpec { mode: PortMode::Uplink.into(), ..Default::default() },
        );
        d.vteps.insert(
            "vteps/v".into(),
            VtepSpec {
                uplink: "ports/p0".into(),
                local_ip: "198.51.100.1".into(),
                remotes: vec![pb::RemoteVtep {
                    ip: "198.51.100.2".into(),
                    vnis: vec![100],
                    encap: 0,
                }],
                ..Default::default()
            },
        );
        d.vrfs.insert("vrfs/red".into(), VrfSpec::default());
        d.svis.insert(
            "svis/blue".into(),
            SviSpec {
                bridge: "bridges/blue".into(),
                vrf: "vrfs/red".into(),
                address: "192.0.2.1/24".into(),
                mac: "02:00:00:00:00:01".into(),
                address6: String::new(),
            },
        );
        d.routes.insert(
            "vrfs/red/routes/default".into(),
            Route { prefix: "0.0.0.0/0".into(), next_hop: "192.0.2.254".into() },
        );
        d.static_macs.insert(
            "bridges/blue/static-macs/m1".into(),
            StaticMacSpec {
                mac: "02:00:00:00:aa:01".into(),
                port: "ports/pf0vf0".into(),
                ..Default::default()
            },
        );
        d
    }

    #[test]
    fn translates_names_into_the_switch_config() {
        let c = demo().to_config().unwrap();
        assert_eq!(c.ports.len(), 3);
        let vf0 = c.ports.iter().find(|p| p.name == "pf0vf0").unwrap();
        assert_eq!(vf0.vlan, 10);
        assert_eq!(c.bridges[0].svi.as_ref().unwrap().vrf, "red");
        assert_eq!(c.vrfs[0].routes.len(), 1);
        assert_eq!(c.vtep.as_ref().unwrap().uplink, "p0");
        assert_eq!(c.static_macs[0].port, "pf0vf0");
    }

    /// Two bridges stored under looser rules (a VLAN above 4094), each with a port: each
    /// bridge can be mended or deleted (with its port) while the other stays refused, but
    /// nothing new may refer to one, and a fault of the write's own is refused still.
    #[test]
    fn a_write_is_judged_by_what_it_adds_to_stored_faults() {
        let mut before = demo();
        for (b, vlan, port) in [("old1", 5000, "pf0vf2"), ("old2", 5001, "pf0vf3")] {
            before.bridges.insert(
                format!("bridges/{b}"),
                BridgeSpec { vlan: Some(vlan), ..Default::default() },
            );
            let access = PortSpec {
                mode: PortMode::Access.into(),
                bridge: format!("bridges/{b}"),
                ..Default::default()
            };
            before.ports.insert(format!("ports/{port}"), access);
        }
        assert_eq!(before.refused_alone().len(), 2);
        before.to_config().unwrap_err();
        let after = |edit: &dyn Fn(&mut Desired)| {
            let mut d = before.clone();
            edit(&mut d);
            d.check_write(&before)
        };
        // Mending one, or deleting it with its port: the other's fault is no reason.
        after(&|d| d.bridges.get_mut("bridges/old1").unwrap().vlan = Some(20)).unwrap();
        after(&|d| {
            d.ports.remove("ports/pf0vf2");
            d.bridges.remove("bridges/old1");
        })
        .unwrap();
        after(&|d| d.ports.get_mut("ports/pf0vf3").unwrap().mtu = 9000).unwrap();
        // Deleting a bridge a port still joins is refused as ever.
        let e = after(&|d| {
            d.bridges.remove("bridges/old1");
        })
        .unwrap_err();
        assert!(e.message().contains("bridge bridges/old1 does not exist"), "{e:?}");
        // A new port on a refused bridge would wait for it too.
        let e = after(&|d| {
            let p = d.ports["ports/pf0vf2"].clone();
            d.ports.insert("ports/pf0vf4".into(), p);
        })
        .unwrap_err();
        assert_eq!(e.code(), tonic::Code::FailedPrecondition);
        assert!(e.message().starts_with("ports/pf0vf4 would refer to stored objects"), "{e:?}");
        assert!(e.message().contains("bridges/old1: spec.vlan"), "{e:?}");
        // A fault of the write's own: a second bridge on VLAN 10.
        let e = after(&|d| {
            let b = d.bridges["bridges/blue"];
            d.bridges.insert("bridges/again".into(), BridgeSpec { vni: None, ..b });
        })
        .unwrap_err();
        assert!(e.message().contains("duplicate bridge vlan"), "{e:?}");
    }

    #[test]
    fn refuses_what_the_switch_would_refuse() {
        type Edit = Box<dyn Fn(&mut Desired)>;
        let cases: Vec<(Edit, &str)> = vec![
            (
                Box::new(|d| {
                    d.bridges.remove("bridges/blue");
                }),
                "bridge bridges/blue does not exist",
            ),
            (
                Box::new(|d| {
                    d.vrfs.remove("vrfs/red");
                }),
                "vrf vrfs/red does not exist",
            ),
            (
                Box::new(|d| {
                    d.ports.remove("ports/p0");
                }),
                "port ports/p0 does not exist",
            ),
            (
                Box::new(|d| {
                    let v = d.vteps["vteps/v"].clone();
                    d.vteps.insert("vteps/w".into(), v);
                }),
                "one VTEP",
            ),
            (
                Box::new(|d| {
                    let s = d.svis["svis/blue"].clone();
                    d.svis.insert("svis/second".into(), s);
                }),
                "at most one SVI",
            ),
            (
                Box::new(|d| {
                    d.bridges.insert(
                        "bridges/green".into(),
                        BridgeSpec { vni: Some(100), ..Default::default() },
                    );
                }),
                "duplicate bridge vni",
            ),
            (
                Box::new(|d| {
                    d.bridges.get_mut("bridges/blue").unwrap().vlan = None;
                }),
                "has no vlan",
            ),
            (
                Box::new(|d| {
                    d.routes.get_mut("vrfs/red/routes/default").unwrap().next_hop =
                        "203.0.113.1".into();
                }),
                "next_hop",
            ),
            (
                Box::new(|d| {
                    let m = d.static_macs.get_mut("bridges/blue/static-macs/m1").unwrap();
                    m.port.clear();
                    m.remote_vtep = "198.51.100.1".into();
                }),
                "static_macs[02:00:00:00:aa:01].vtep: 198.51.100.1 is not a remote unicast",
            ),
            (
                // Moving the port a static MAC names out of its bridge.
                Box::new(|d| {
                    d.bridges.insert(
                        "bridges/green".into(),
                        BridgeSpec { vlan: Some(20), ..Default::default() },
                    );
                    d.ports.get_mut("ports/pf0vf0").unwrap().bridge = "bridges/green".into();
                }),
                "static_macs[02:00:00:00:aa:01].port: port pf0vf0 is not a member of bridge blue",
            ),
            (
                Box::new(|d| {
                    d.bridges.insert(
                        "bridges/green".into(),
                        BridgeSpec { vlan: Some(20), ..Default::default() },
                    );
                    d.static_macs.insert(
                        "bridges/green/static-macs/far".into(),
                        StaticMacSpec {
                            mac: "02:00:00:00:aa:02".into(),
                            remote_vtep: "198.51.100.2".into(),
                            ..Default::default()
                        },
                    );
                }),
                "bridge green has no vni",
            ),
            (
                Box::new(|d| {
                    let r = Route { prefix: "0.0.0.0/0".into(), next_hop: "192.0.2.252".into() };
                    d.routes.insert("vrfs/red/routes/again".into(), r);
                }),
                "vrfs[red].routes[0.0.0.0/0].prefix: another route of VRF red has this prefix",
            ),
            (
                Box::new(|d| {
                    let r = Route { prefix: "10.1.2.3/8".into(), next_hop: "192.0.2.252".into() };
                    d.routes.insert("vrfs/red/routes/ten".into(), r);
                }),
                "invalid prefix for its length",
            ),
            (
                Box::new(|d| {
                    d.routes.get_mut("vrfs/red/routes/default").unwrap().next_hop =
                        "192.0.2.1".into();
                }),
                "192.0.2.1 is our own address in 192.0.2.1/24 (SVI of bridge blue)",
            ),
            (
                Box::new(|d| d.vteps.get_mut("vteps/v").unwrap().gateway = "198.51.100.1".into()),
                "vtep.gateway: 198.51.100.1 is our own address",
            ),
            (
                Box::new(|d| d.vteps.get_mut("vteps/v").unwrap().gateway = "203.0.113.1".into()),
                "vtep.gateway: 203.0.113.1 is outside 198.51.100.1/24",
            ),
        ];
        for (edit, want) in cases {
            let mut d = demo();
            edit(&mut d);
            let e = d.to_config().unwrap_err();
            assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{want}");
            assert!(e.message().contains(want), "{} does not mention {want}", e.message());
        }
    }
}
