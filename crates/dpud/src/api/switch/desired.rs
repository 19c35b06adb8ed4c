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
use std::net::IpAddr;

use dpu_proto::dpu::switch::v1 as pb;
use dpu_store::Object;
use dpu_switch::config::{mask, mask6, parse_cidr, parse_cidr6, parse_mac};
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

/// Where a kind's specs live in the [`Desired`] state.
pub trait InDesired: Kind {
    fn map(d: &mut Desired) -> &mut BTreeMap<String, Self::Spec>;

    /// `d` with `spec` written under the public name `name`, as a Create or Update would
    /// leave it.
    fn write(d: &mut Desired, name: String, spec: Self::Spec) {
        Self::map(d).insert(name, spec);
    }
}

macro_rules! in_desired {
    ($($kind:ident => $field:ident),* $(,)?) => {
        $(impl InDesired for $kind {
            fn map(d: &mut Desired) -> &mut BTreeMap<String, Self::Spec> {
                &mut d.$field
            }
        })*
    };
}

in_desired!(
    BridgeKind => bridges,
    PortKind => ports,
    VtepKind => vteps,
    VrfKind => vrfs,
    RouteKind => routes,
    SviKind => svis,
    StaticMacKind => static_macs,
);

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

    /// Every tie the switch checks between two objects: each reference by name, and what
    /// its validation matches by value (`SwitchConfig::validate`): a route's next hop inside
    /// the subnet of an SVI of its VRF, each VNI a VTEP floods to a remote being a bridge's,
    /// a static MAC behind a remote VTEP needing the VTEP.
    ///
    /// Linear in the state, up to the lookups in the indexes built first (a check may meet
    /// the switch's bounds: 262,144 flood VNIs, 8,192 bridges, 16,384 routes).
    fn ties(&self) -> Vec<Tie<'_>> {
        let mut bridges_by_vni: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
        for (name, b) in &self.bridges {
            if let Some(vni) = b.vni {
                bridges_by_vni.entry(vni).or_default().push(name);
            }
        }
        let svi_subnets = SviSubnets::new(&self.svis);
        let mut out = Vec::new();
        for (name, p) in &self.ports {
            out.extend(Tie::named(name, "spec.bridge".into(), &p.bridge, &self.bridges));
            for (i, b) in p.trunk_bridges.iter().enumerate() {
                let field = format!("spec.trunk_bridges[{i}]");
                out.extend(Tie::named(name, field, b, &self.bridges));
            }
            out.extend(Tie::named(
                name,
                "spec.native_bridge".into(),
                &p.native_bridge,
                &self.bridges,
            ));
        }
        for (name, s) in &self.svis {
            out.extend(Tie::named(name, "spec.bridge".into(), &s.bridge, &self.bridges));
            out.extend(Tie::named(name, "spec.vrf".into(), &s.vrf, &self.vrfs));
        }
        for (name, v) in &self.vteps {
            out.extend(Tie::named(name, "spec.uplink".into(), &v.uplink, &self.ports));
            for (i, r) in v.remotes.iter().enumerate() {
                for vni in &r.vnis {
                    out.push(Tie {
                        holder: name,
                        field: format!("spec.remotes[{i}].vnis"),
                        needs: format!("a bridge with VNI {vni}"),
                        to: bridges_by_vni.get(vni).cloned().unwrap_or_default(),
                    });
                }
            }
        }
        for (name, r) in &self.routes {
            let vrf = parent_of(name, "routes");
            out.extend(Tie::named(name, "parent".into(), vrf, &self.vrfs));
            // An unparsable next hop is the route's own fault; it is then tied to nothing.
            if let Ok(next_hop) = r.next_hop.parse::<IpAddr>() {
                out.push(Tie {
                    holder: name,
                    field: "spec.next_hop".into(),
                    needs: format!("an SVI of {vrf} whose subnet holds {next_hop}"),
                    to: svi_subnets.holding(vrf, next_hop),
                });
            }
        }
        for (name, m) in &self.static_macs {
            let bridge = parent_of(name, "static-macs");
            out.extend(Tie::named(name, "parent".into(), bridge, &self.bridges));
            out.extend(Tie::named(name, "spec.port".into(), &m.port, &self.ports));
            if !m.remote_vtep.is_empty() {
                out.push(Tie {
                    holder: name,
                    field: "spec.remote_vtep".into(),
                    needs: "a VTEP".into(),
                    to: self.vteps.keys().map(String::as_str).collect(),
                });
            }
        }
        out
    }

    /// `names` and every object the switch would refuse without them, directly or through
    /// others (a port of a bridge, the VTEP on that port, a static MAC behind the VTEP): each
    /// object with a tie (of this state's `ties`) that only objects of `names` meet.
    fn with_referrers(mut names: BTreeSet<String>, ties: &[Tie<'_>]) -> BTreeSet<String> {
        loop {
            let before = names.len();
            for t in ties {
                if !names.contains(t.holder) && t.met_only_by(&names) {
                    names.insert(t.holder.to_owned());
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
    /// the present checks refuse on their own and what the switch would refuse without them.
    /// `ties` are this state's ([`Desired::ties`]).
    fn set_aside(&self, ties: &[Tie<'_>]) -> BTreeSet<String> {
        Self::with_referrers(self.refused_alone().into_keys().collect(), ties)
    }

    /// [`check_write`](Self::check_write) of this state changed by `edit` (a write of one
    /// object, a deletion), against this state: what every switch write is judged by.
    pub fn check_edit(&self, edit: impl FnOnce(&mut Desired)) -> Result<(), Status> {
        let mut after = self.clone();
        edit(&mut after);
        after.check_write(self)
    }

    /// Whether a write that turns `before` into this state may be stored: this state is a
    /// configuration the switch accepts, or the write makes nothing worse. A store an
    /// earlier release wrote may hold objects the present checks refuse, and with them the
    /// whole state is refused; a write is then judged by what it adds: every object set
    /// aside after it (refused on its own, or tied to such an object: [`Desired::ties`])
    /// was set aside before it, what set-aside objects are tied to is still there, and the
    /// rest is a configuration the switch accepts. So each such object can be mended or
    /// deleted on its own (deleting one is never refused for another's fault), and nothing
    /// new is stored that the switch would refuse.
    pub fn check_write(&self, before: &Desired) -> Result<(), Status> {
        let Err(refused_whole) = self.to_config() else { return Ok(()) };
        // Each state's ties are worked out once, for its set-aside objects and its broken
        // ties both.
        let ties = self.ties();
        let set_aside = self.set_aside(&ties);
        if set_aside.is_empty() {
            return Err(refused_whole);
        }
        let before_ties = before.ties();
        let before_set_aside = before.set_aside(&before_ties);
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
        // What a set-aside object refers to must stay, as for any other referrer (the
        // check below skips set-aside objects): else it would point at nothing, to fail
        // its mend later or be adopted by whatever next takes the name. A tie already
        // broken before the write is no fault of the write's.
        let broken_before: BTreeSet<_> =
            before_ties.iter().filter(|t| t.to.is_empty()).map(Tie::key).collect();
        let broken = ties.iter().find(|t| {
            t.to.is_empty() && set_aside.contains(t.holder) && !broken_before.contains(&t.key())
        });
        if let Some(t) = broken {
            return Err(refused(format!(
                "{} {} refers to {}, which would not exist; delete {} first, or mend it \
                 (stored objects to mend: {})",
                t.holder,
                t.field,
                t.needs,
                t.holder,
                to_mend(&self.refused_alone())
            )));
        }
        // A value the switch requires unique that a set-aside object holds stays its, else
        // its mend would be refused for the taker's fault. A clash already there before
        // the write is no fault of the write's.
        let clashed_before = before.clashes(&before_set_aside);
        let clash = self.clashes(&set_aside).into_iter().find(|c| !clashed_before.contains(c));
        if let Some((taker, what, holder)) = clash {
            return Err(refused(format!(
                "{taker} would take {what} of {holder}, which the present checks refuse; mend \
                 or delete {holder} first (stored objects to mend: {})",
                to_mend(&self.refused_alone())
            )));
        }
        self.without(&set_aside).to_config().map(drop)
    }

    /// `(taker, what, holder)` for each object outside `set_aside` holding a value the
    /// switch requires unique (`SwitchConfig::validate`: a bridge's VLAN and VNI, a static
    /// MAC or SVI MAC within a bridge, an SVI subnet within a VRF) that `holder`, of
    /// `set_aside`, holds too. Linear in the state up to the index lookups, but for SVI
    /// subnets: each set-aside SVI is matched against the SVIs of its VRF.
    fn clashes(&self, set_aside: &BTreeSet<String>) -> BTreeSet<(String, String, String)> {
        let mut out = BTreeSet::new();
        if set_aside.is_empty() {
            return out;
        }
        let mut holders: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for (name, b) in &self.bridges {
            if let Some(vlan) = b.vlan {
                holders.entry(format!("VLAN {vlan}")).or_default().push(name);
            }
            if let Some(vni) = b.vni {
                holders.entry(format!("VNI {vni}")).or_default().push(name);
            }
        }
        // A static MAC may be neither another of its bridge's nor the bridge's SVI MAC.
        let macs = self.svis.iter().map(|(name, s)| (name, &s.mac, s.bridge.as_str())).chain(
            self.static_macs.iter().map(|(name, m)| (name, &m.mac, parent_of(name, "static-macs"))),
        );
        for (name, mac, bridge) in macs {
            if let Some(mac) = parse_mac(mac) {
                holders.entry(format!("MAC {mac} in {bridge}")).or_default().push(name);
            }
        }
        for (what, names) in &holders {
            for holder in names.iter().filter(|n| set_aside.contains(**n)) {
                for taker in names.iter().filter(|n| !set_aside.contains(**n)) {
                    out.insert(((*taker).to_owned(), what.clone(), (*holder).to_owned()));
                }
            }
        }
        let subnets = |s: &SviSpec| {
            let v4 = parse_cidr(&s.address).map(|(a, len)| (IpAddr::V4(a), len));
            v4.into_iter().chain(parse_cidr6(&s.address6).map(|(a, len)| (IpAddr::V6(a), len)))
        };
        for (holder, h) in self.svis.iter().filter(|(n, _)| set_aside.contains(*n)) {
            let others =
                self.svis.iter().filter(|(n, s)| !set_aside.contains(*n) && s.vrf == h.vrf);
            for (taker, t) in others {
                for (a, la) in subnets(h) {
                    let overlapping = subnets(t).any(|(b, lb)| {
                        a.is_ipv6() == b.is_ipv6()
                            && network(a, la.min(lb)) == network(b, la.min(lb))
                    });
                    if overlapping {
                        let what = format!("a subnet overlapping {a}/{la} in {}", h.vrf);
                        out.insert((taker.clone(), what, holder.clone()));
                    }
                }
            }
        }
        out
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

/// A tie of `holder` to other objects: its `field` needs `needs`, which the objects `to`
/// meet (none: the tie is broken).
struct Tie<'a> {
    holder: &'a str,
    field: String,
    needs: String,
    to: Vec<&'a str>,
}

impl<'a> Tie<'a> {
    /// A reference by name from `holder`'s `field` to an object of `specs`; none if unset.
    fn named<S>(
        holder: &'a str,
        field: String,
        name: &'a str,
        specs: &BTreeMap<String, S>,
    ) -> Option<Self> {
        let to = if specs.contains_key(name) { vec![name] } else { vec![] };
        (!name.is_empty()).then(|| Tie { holder, field, needs: name.to_owned(), to })
    }

    /// Whether objects meet this tie and all of them are among `names`.
    fn met_only_by(&self, names: &BTreeSet<String>) -> bool {
        !self.to.is_empty() && self.to.iter().all(|o| names.contains(*o))
    }

    /// What identifies the tie across two states, whatever meets it.
    fn key(&self) -> (String, String, String) {
        (self.holder.to_owned(), self.field.clone(), self.needs.clone())
    }
}

/// The SVIs of each VRF by subnet, read as loosely as an earlier release may have stored
/// an address (any `addr/len`), since a route may depend on an SVI the present checks
/// refuse. A next hop finds the SVIs whose subnet holds it with one lookup per prefix
/// length among the VRF's SVIs (at most 33 + 129), not a scan of every SVI.
#[derive(Default)]
struct SviSubnets<'a> {
    /// SVI names by VRF, network address and prefix length.
    svis: BTreeMap<(&'a str, IpAddr, u8), Vec<&'a str>>,
    /// The prefix lengths of each VRF's SVIs, by family (IPv6: true).
    lens: BTreeMap<&'a str, BTreeSet<(bool, u8)>>,
}

impl<'a> SviSubnets<'a> {
    fn new(svis: &'a BTreeMap<String, SviSpec>) -> Self {
        let mut out = Self::default();
        for (name, s) in svis {
            let v4 = parse_cidr(&s.address).map(|(a, len)| (IpAddr::V4(a), len));
            let v6 = parse_cidr6(&s.address6).map(|(a, len)| (IpAddr::V6(a), len));
            for (a, len) in v4.into_iter().chain(v6) {
                out.lens.entry(&s.vrf).or_default().insert((a.is_ipv6(), len));
                out.svis.entry((&s.vrf, network(a, len), len)).or_default().push(name);
            }
        }
        out
    }

    /// The SVIs of `vrf` whose subnet of `ip`'s family holds `ip`.
    fn holding(&self, vrf: &'a str, ip: IpAddr) -> Vec<&'a str> {
        let Some(lens) = self.lens.get(vrf) else { return vec![] };
        lens.iter()
            .filter(|(v6, _)| *v6 == ip.is_ipv6())
            .filter_map(|&(_, len)| self.svis.get(&(vrf, network(ip, len), len)))
            .flatten()
            .copied()
            .collect()
    }
}

/// The network address of `ip`'s subnet of prefix length `len`.
fn network(ip: IpAddr, len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => IpAddr::V4((u32::from(a) & mask(len)).into()),
        IpAddr::V6(a) => IpAddr::V6((u128::from(a) & mask6(len)).into()),
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

    /// `before` edited by `edit`, judged as a write.
    fn write(before: &Desired, edit: impl FnOnce(&mut Desired)) -> Result<(), Status> {
        let mut after = before.clone();
        edit(&mut after);
        after.check_write(before)
    }

    /// What the switch requires unique and a set-aside object holds stays its (a bridge's
    /// VLAN and VNI, an SVI's subnet, its SVI MAC): a write giving it to another object is
    /// refused, so the set-aside object can still be mended on its own.
    #[test]
    fn a_set_aside_objects_unique_values_stay_its() {
        let mut before = demo();
        let limit = dpu_switch::config::MAX_MAC_LIMIT;
        let old = BridgeSpec {
            vlan: Some(30),
            vni: Some(300),
            mac_limit: limit + 1,
            ..Default::default()
        };
        before.bridges.insert("bridges/old".into(), old);
        // Set aside with its bridge; and one refused alone on a bridge that is not.
        let svi = |bridge: &str, address: &str, mac: &str| SviSpec {
            bridge: bridge.into(),
            vrf: "vrfs/red".into(),
            address: address.into(),
            mac: mac.into(),
            address6: String::new(),
        };
        before
            .svis
            .insert("svis/old".into(), svi("bridges/old", "192.0.3.1/24", "02:00:00:00:fe:01"));
        before
            .bridges
            .insert("bridges/plain".into(), BridgeSpec { vlan: Some(50), ..Default::default() });
        before
            .svis
            .insert("svis/bad".into(), svi("bridges/plain", "127.0.0.1/8", "02:00:00:00:fe:02"));
        assert_eq!(before.refused_alone().len(), 2);
        let new_bridge = |vlan, vni| BridgeSpec { vlan: Some(vlan), vni, ..Default::default() };
        let taking = [
            (new_bridge(30, None), None, "bridges/new would take VLAN 30 of bridges/old"),
            (new_bridge(31, Some(300)), None, "bridges/new would take VNI 300 of bridges/old"),
            (
                new_bridge(31, None),
                Some(svi("bridges/new", "192.0.3.129/25", "02:00:00:00:fe:03")),
                "svis/new would take a subnet overlapping 192.0.3.1/24 in vrfs/red of svis/old",
            ),
        ];
        for (bridge, new_svi, message) in taking {
            let e = write(&before, |d| {
                d.bridges.insert("bridges/new".into(), bridge);
                if let Some(s) = new_svi {
                    d.svis.insert("svis/new".into(), s);
                }
            })
            .unwrap_err();
            assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{e:?}");
            assert!(e.message().starts_with(message), "{e:?}");
        }
        let e = write(&before, |d| {
            let m = StaticMacSpec {
                mac: "02:00:00:00:FE:02".into(),
                port: "ports/pf0vf0".into(),
                ..Default::default()
            };
            d.static_macs.insert("bridges/plain/static-macs/gw".into(), m);
        })
        .unwrap_err();
        assert!(
            e.message().starts_with(
                "bridges/plain/static-macs/gw would take MAC 02:00:00:00:fe:02 in bridges/plain \
                 of svis/bad"
            ),
            "{e:?}"
        );
        // Values of their own are fine, and the set-aside objects are then mended alone.
        let mut after = before.clone();
        after.bridges.insert("bridges/new".into(), new_bridge(31, Some(310)));
        after.check_write(&before).unwrap();
        let mut mended = after.clone();
        mended.bridges.get_mut("bridges/old").unwrap().mac_limit = 10;
        mended.check_write(&after).unwrap();
        let mut all = mended.clone();
        all.svis.get_mut("svis/bad").unwrap().address = "192.0.4.1/24".into();
        all.check_write(&mended).unwrap();
        all.to_config().unwrap();
    }

    /// A set-aside object keeps what it refers to, by name or by what the switch ties it to:
    /// deleting that is refused as for any other referrer, so the object is not left
    /// pointing at nothing (to be adopted by a new object of that name, or to fail its mend).
    #[test]
    fn what_a_set_aside_object_refers_to_cannot_be_deleted_under_it() {
        let mut before = demo();
        // An SVI with a loopback address on its own bridge and VRF.
        before.bridges.insert(
            "bridges/green".into(),
            BridgeSpec { vlan: Some(20), vni: Some(200), ..Default::default() },
        );
        before.vrfs.insert("vrfs/pink".into(), VrfSpec::default());
        before.svis.insert(
            "svis/old".into(),
            SviSpec {
                bridge: "bridges/green".into(),
                vrf: "vrfs/pink".into(),
                address: "127.0.0.1/8".into(),
                mac: "02:00:00:00:fe:01".into(),
                address6: String::new(),
            },
        );
        assert_eq!(before.refused_alone().len(), 1);
        let e = write(&before, |d| {
            d.vrfs.remove("vrfs/pink");
        })
        .unwrap_err();
        assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{e:?}");
        assert!(e.message().starts_with("svis/old spec.vrf refers to vrfs/pink"), "{e:?}");
        let e = write(&before, |d| {
            d.bridges.remove("bridges/green");
        })
        .unwrap_err();
        assert!(e.message().starts_with("svis/old spec.bridge refers to bridges/green"), "{e:?}");
        // Nor may the write point it at something missing.
        let e = write(&before, |d| d.svis.get_mut("svis/old").unwrap().vrf = "vrfs/none".into())
            .unwrap_err();
        assert!(e.message().starts_with("svis/old spec.vrf refers to vrfs/none"), "{e:?}");
        // Deleting it first, then what it referred to, is the way.
        let mut gone = before.clone();
        write(&before, |d| {
            d.svis.remove("svis/old");
        })
        .unwrap();
        gone.svis.remove("svis/old");
        write(&gone, |d| {
            d.vrfs.remove("vrfs/pink");
        })
        .unwrap();

        // A VTEP with an address it cannot have, flooding bridges/green's VNI: green stays.
        let mut before = gone;
        let v = before.vteps.get_mut("vteps/v").unwrap();
        v.local_ip = "0.0.0.0".into();
        v.remotes[0].vnis.push(200);
        let e = write(&before, |d| {
            d.bridges.remove("bridges/green");
        })
        .unwrap_err();
        assert!(
            e.message().starts_with("vteps/v spec.remotes[0].vnis refers to a bridge with VNI 200"),
            "{e:?}"
        );

        // A static MAC the present checks refuse, behind a remote VTEP: the VTEP stays.
        let mut before = demo();
        let far = StaticMacSpec {
            mac: "01:00:00:00:aa:02".into(),
            remote_vtep: "198.51.100.2".into(),
            ..Default::default()
        };
        before.static_macs.insert("bridges/blue/static-macs/far".into(), far);
        assert_eq!(before.refused_alone().len(), 1);
        let e = write(&before, |d| {
            d.vteps.remove("vteps/v");
        })
        .unwrap_err();
        assert!(
            e.message()
                .starts_with("bridges/blue/static-macs/far spec.remote_vtep refers to a VTEP"),
            "{e:?}"
        );

        // A route the present checks refuse, through an SVI's subnet: the SVI stays.
        let mut before = demo();
        before.routes.remove("vrfs/red/routes/default");
        let r = Route { prefix: "10.1.2.3/8".into(), next_hop: "192.0.2.9".into() };
        before.routes.insert("vrfs/red/routes/old".into(), r);
        assert_eq!(before.refused_alone().len(), 1);
        let e = write(&before, |d| {
            d.svis.remove("svis/blue");
        })
        .unwrap_err();
        assert!(
            e.message()
                .starts_with("vrfs/red/routes/old spec.next_hop refers to an SVI of vrfs/red"),
            "{e:?}"
        );
    }

    /// The switch ties objects beyond their references by name: a route to an SVI whose
    /// subnet holds its next hop, a VTEP to the bridges of the VNIs it floods, a static MAC
    /// behind a remote VTEP to the VTEP. When the one is set aside, so is the other, so an
    /// unrelated write is not refused for the tie the set-aside object breaks.
    #[test]
    fn what_the_switch_ties_to_a_set_aside_object_is_set_aside_with_it() {
        let mut base = demo();
        base.bridges
            .insert("bridges/old1".into(), BridgeSpec { vlan: Some(5000), ..Default::default() });
        let mend = |d: &mut Desired| d.bridges.get_mut("bridges/old1").unwrap().vlan = Some(20);

        // The VTEP (an unspecified local_ip) and a static MAC behind a remote VTEP.
        let mut before = base.clone();
        before.vteps.get_mut("vteps/v").unwrap().local_ip = "0.0.0.0".into();
        let far = StaticMacSpec {
            mac: "02:00:00:00:aa:02".into(),
            remote_vtep: "198.51.100.2".into(),
            ..Default::default()
        };
        before.static_macs.insert("bridges/blue/static-macs/far".into(), far.clone());
        write(&before, mend).unwrap();
        write(&before, |d| {
            d.bridges.remove("bridges/old1");
        })
        .unwrap();
        // A new one would wait for the VTEP too.
        let e = write(&before, |d| {
            d.static_macs.insert(
                "bridges/blue/static-macs/far2".into(),
                StaticMacSpec { mac: "02:00:00:00:aa:03".into(), ..far.clone() },
            );
        })
        .unwrap_err();
        assert!(
            e.message().starts_with("bridges/blue/static-macs/far2 would refer to stored objects"),
            "{e:?}"
        );

        // The SVI (a multicast MAC) and the route through its subnet.
        let mut before = base.clone();
        before.svis.get_mut("svis/blue").unwrap().mac = "01:00:5e:00:00:01".into();
        write(&before, mend).unwrap();

        // A bridge (a VLAN above 4094) and the VTEP flooding its VNI (and what hangs on both).
        let mut before = base.clone();
        before.bridges.get_mut("bridges/blue").unwrap().vlan = Some(5001);
        write(&before, mend).unwrap();
        assert!(before.set_aside(&before.ties()).contains("vteps/v"));
    }

    /// A state at the switch's bound of bridges, each with a VNI the VTEP floods, and one
    /// bridge set aside: an unrelated write is judged in time linear in the state. Matching
    /// every flooded VNI against every bridge, in each of four passes over the ties, took
    /// some 18 s in a debug build, under the store's writer lock; now well under 0.2 s.
    #[test]
    fn a_write_to_a_large_state_with_set_aside_objects_is_judged_in_linear_time() {
        use dpu_switch::config::MAX_BRIDGES;
        use std::time::{Duration, Instant};

        let mut before = demo();
        // bridges/blue, the ones below and bridges/old1: MAX_BRIDGES in all.
        let vnis: Vec<u32> = (1000..).take(MAX_BRIDGES - 2).collect();
        for &vni in &vnis {
            let b = BridgeSpec { vni: Some(vni), ..Default::default() };
            before.bridges.insert(format!("bridges/b{vni}"), b);
        }
        before.vteps.get_mut("vteps/v").unwrap().remotes[0].vnis.extend(&vnis);
        // A VLAN above 4094, and a VNI nothing floods.
        let old = BridgeSpec { vlan: Some(5000), vni: Some(999), ..Default::default() };
        before.bridges.insert("bridges/old1".into(), old);
        assert_eq!(before.bridges.len(), MAX_BRIDGES);
        assert_eq!(before.refused_alone().len(), 1);
        assert_eq!(before.set_aside(&before.ties()).len(), 1);

        // Against one linear pass over the same state (each object's own checks), not a
        // wall-clock bound: the unit tests also run under qemu-user, many times slower.
        // Judging the write takes about 25 such passes; the quadratic ties took ~7,000.
        let start = Instant::now();
        let refused = before.refused_alone();
        let one_pass = start.elapsed();
        assert_eq!(refused.len(), 1);
        let start = Instant::now();
        write(&before, |d| d.bridges.get_mut("bridges/b1000").unwrap().ageing_secs = 60).unwrap();
        let took = start.elapsed();
        assert!(
            took < one_pass * 200 + Duration::from_millis(500),
            "judging the write took {took:?}, one pass over the state {one_pass:?}"
        );
    }

    /// The subnet index finds what a scan of the VRF's SVIs would: every SVI of the next
    /// hop's VRF and family whose subnet holds it, of any prefix length, overlapping or not,
    /// however loosely stored.
    #[test]
    fn a_next_hop_finds_each_svi_of_its_vrf_whose_subnet_holds_it() {
        let svi = |vrf: &str, address: &str, address6: &str| SviSpec {
            vrf: vrf.into(),
            address: address.into(),
            address6: address6.into(),
            ..Default::default()
        };
        let svis = BTreeMap::from([
            ("svis/a".to_owned(), svi("vrfs/red", "192.0.2.1/24", "2001:db8::1/64")),
            ("svis/b".to_owned(), svi("vrfs/red", "192.0.2.130/25", "")),
            ("svis/c".to_owned(), svi("vrfs/red", "10.0.0.1/8", "2001:db8:1::1/48")),
            ("svis/d".to_owned(), svi("vrfs/blue", "192.0.2.1/24", "")),
            ("svis/e".to_owned(), svi("vrfs/red", "junk", "junk")),
            ("svis/z".to_owned(), svi("vrfs/red", "0.0.0.0/0", "")),
        ]);
        let subnets = SviSubnets::new(&svis);
        let holding = |vrf, ip: &str| {
            let mut found = subnets.holding(vrf, ip.parse().unwrap());
            found.sort_unstable();
            found
        };
        assert_eq!(holding("vrfs/red", "192.0.2.200"), ["svis/a", "svis/b", "svis/z"]);
        assert_eq!(holding("vrfs/red", "192.0.2.9"), ["svis/a", "svis/z"]);
        assert_eq!(holding("vrfs/red", "198.51.100.1"), ["svis/z"]);
        assert_eq!(holding("vrfs/blue", "192.0.2.9"), ["svis/d"]);
        assert_eq!(holding("vrfs/red", "2001:db8::9"), ["svis/a"]);
        assert_eq!(holding("vrfs/red", "2001:db8:1:2::9"), ["svis/c"]);
        assert!(holding("vrfs/red", "2001:db9::1").is_empty());
        assert!(holding("vrfs/green", "192.0.2.9").is_empty());
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
