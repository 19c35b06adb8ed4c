//! The seven switch resource kinds: their names, field checks (INVALID_ARGUMENT naming the
//! field) and update masks. Checks that need other objects (references, duplicate VNIs,
//! overlapping subnets) are [`super::desired`]'s.
//!
//! Public names map onto store keys under a `switch-` prefix so that generic collection
//! names ("ports", "bridges") stay free for other services: `bridges/b1` is stored as
//! `switch-bridges/b1`, `vrfs/red/routes/r1` as `switch-routes/red/r1`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use dpu_proto::dpu::switch::v1::{
    ApplyState, BridgeResource, BridgeSpec, Encap, ObjectStatus, PortMode, PortResource, PortSpec,
    Route, RouteResource, StaticMacResource, StaticMacSpec, SviResource, SviSpec, VrfResource,
    VrfSpec, VtepResource, VtepSpec,
};
use dpu_runtime::ifname::{MAX_INTERFACE_NAME, is_interface_name};
use dpu_store::Object;
use dpu_switch::config::{
    DEFAULT_PREFIX_LEN, MAX_MAC_LIMIT, MAX_VLAN, MAX_VNI, check_vtep_gateway, is_remote_unicast,
    parse_mac, parse_route_prefix, parse_svi_address, parse_svi_address6,
};
use dpu_wire::MacAddr;
use dpu_wire::addr::is_single_host_v4;
use tonic::Status;

use crate::api::resource::Kind;
use crate::api::{invalid, parse_name, validate_id};

const DESCRIPTION_MAX: usize = 256;
const MAX_MTU: u32 = 9216;
const MIN_MTU: u32 = 68;
const MAX_AGEING_SECS: u32 = 1_000_000;

/// `{public}/{id}` ↔ `{store}/{id}`.
fn top_key(name: &str, public: &str, store: &str, field: &str) -> Result<String, Status> {
    let id = parse_name(name, public, field)?;
    validate_id(id, field)?;
    Ok(format!("{store}/{id}"))
}

fn top_public(key: &str, public: &str, store: &str) -> String {
    match key.strip_prefix(store).and_then(|r| r.strip_prefix('/')) {
        Some(id) => format!("{public}/{id}"),
        None => key.to_owned(),
    }
}

/// `{parent}/{p}/{child}/{id}` ↔ `{store}/{p}/{id}`.
fn child_key(
    name: &str,
    parent: &str,
    child: &str,
    store: &str,
    field: &str,
) -> Result<String, Status> {
    let shape =
        || invalid(field, format!("must look like \"{parent}/ID/{child}/ID\", got {name:?}"));
    if name.is_empty() {
        return Err(invalid(field, "required"));
    }
    let (parent_name, id) = name.rsplit_once(&format!("/{child}/")).ok_or_else(shape)?;
    let p = parse_name(parent_name, parent, field).map_err(|_| shape())?;
    validate_id(p, field)?;
    validate_id(id, field)?;
    Ok(format!("{store}/{p}/{id}"))
}

fn child_public(key: &str, parent: &str, child: &str, store: &str) -> String {
    let rest = key.strip_prefix(store).and_then(|r| r.strip_prefix('/'));
    match rest.and_then(|r| r.split_once('/')) {
        Some((p, id)) => format!("{parent}/{p}/{child}/{id}"),
        None => key.to_owned(),
    }
}

/// The parent of a child name ("vrfs/red/routes/r1", "routes" → "vrfs/red").
pub fn parent_of<'a>(name: &'a str, child: &str) -> &'a str {
    name.rsplit_once(&format!("/{child}/")).map_or(name, |(p, _)| p)
}

/// The id of a public name ("bridges/b1" → "b1").
pub fn id_of(name: &str) -> &str {
    name.rsplit_once('/').map_or(name, |(_, id)| id)
}

/// The status to show: what the switch reported for this generation, else PENDING.
fn current(observed: Option<ObjectStatus>, generation: i64) -> ObjectStatus {
    match observed {
        Some(o) if o.applied_generation == generation => o,
        _ => ObjectStatus { state: ApplyState::Pending.into(), ..Default::default() },
    }
}

/// The two [`Kind`] methods every switch kind shares: PENDING until the switch accepted the
/// current generation, and the resource message.
macro_rules! status_and_message {
    ($proto:ident) => {
        fn status(observed: Option<ObjectStatus>, generation: i64) -> ObjectStatus {
            current(observed, generation)
        }

        fn to_proto(name: String, o: Object<Self::Spec>, status: ObjectStatus) -> $proto {
            resource_message!($proto, name, o, status)
        }
    };
}

/// A reference to a resource of `collection` ("bridges/b1"), or INVALID_ARGUMENT.
fn reference(value: &str, collection: &str, field: &str) -> Result<(), Status> {
    let id = parse_name(value, collection, field)?;
    validate_id(id, field)
}

fn unicast_mac(value: &str, field: &str) -> Result<(), Status> {
    match parse_mac(value) {
        Some(m) if m.is_unicast() && m != MacAddr::ZERO => Ok(()),
        _ => Err(invalid(field, format!("{value:?} is not a unicast MAC aa:bb:cc:dd:ee:ff"))),
    }
}

fn ipv4(value: &str, field: &str) -> Result<Ipv4Addr, Status> {
    value.parse().map_err(|_| invalid(field, format!("{value:?} is not an IPv4 address")))
}

fn check_vlan(vlan: u32, field: &str) -> Result<(), Status> {
    if vlan == 0 || vlan > u32::from(MAX_VLAN) {
        return Err(invalid(field, format!("VLAN {vlan} outside 1..={MAX_VLAN}")));
    }
    Ok(())
}

fn check_vni(vni: u32, field: &str) -> Result<(), Status> {
    if vni > MAX_VNI {
        return Err(invalid(field, format!("VNI {vni} above 2^24-1")));
    }
    Ok(())
}

pub struct BridgeKind;

impl Kind for BridgeKind {
    type Spec = BridgeSpec;
    type Status = ObjectStatus;
    type Proto = BridgeResource;
    const FIELD: &'static str = "bridge";
    const STORE: &'static str = "switch-bridges";
    const UPDATABLE: &'static [&'static str] =
        &["spec", "spec.vlan", "spec.vni", "spec.ageing_secs", "spec.mac_limit"];

    fn key(name: &str, field: &str) -> Result<String, Status> {
        top_key(name, "bridges", Self::STORE, field)
    }
    fn public_name(key: &str) -> String {
        top_public(key, "bridges", Self::STORE)
    }

    fn validate(spec: &BridgeSpec, field: &str) -> Result<(), Status> {
        if spec.vlan.is_none() && spec.vni.is_none() {
            return Err(invalid(&format!("{field}.vlan"), "a bridge needs a vlan or a vni"));
        }
        if let Some(v) = spec.vlan {
            check_vlan(v, &format!("{field}.vlan"))?;
        }
        if let Some(v) = spec.vni {
            check_vni(v, &format!("{field}.vni"))?;
        }
        if spec.mac_limit > MAX_MAC_LIMIT {
            return Err(invalid(&format!("{field}.mac_limit"), format!("at most {MAX_MAC_LIMIT}")));
        }
        if spec.ageing_secs > MAX_AGEING_SECS {
            return Err(invalid(
                &format!("{field}.ageing_secs"),
                format!("at most {MAX_AGEING_SECS}"),
            ));
        }
        Ok(())
    }

    fn merge(into: &mut BridgeSpec, from: &BridgeSpec, path: &str) {
        match path {
            "spec.vlan" => into.vlan = from.vlan,
            "spec.vni" => into.vni = from.vni,
            "spec.ageing_secs" => into.ageing_secs = from.ageing_secs,
            "spec.mac_limit" => into.mac_limit = from.mac_limit,
            _ => {}
        }
    }

    status_and_message!(BridgeResource);
}

pub struct PortKind;

/// The host's own ports: its representors, the host PF `pf<N>hpf` and VFs `pf<N>vf<M>`.
/// Uplinks and any other port belong to the card.
pub fn is_host_port(ifname: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let Some(rest) = ifname.strip_prefix("pf") else { return false };
    let pf_end = rest.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(rest.len());
    let (pf, tail) = rest.split_at(pf_end);
    if !digits(pf) {
        return false;
    }
    tail == "hpf" || tail.strip_prefix("vf").is_some_and(digits)
}

impl Kind for PortKind {
    type Spec = PortSpec;
    type Status = ObjectStatus;
    type Proto = PortResource;
    const FIELD: &'static str = "port";
    const STORE: &'static str = "switch-ports";
    const UPDATABLE: &'static [&'static str] = &[
        "spec",
        "spec.mode",
        "spec.bridge",
        "spec.trunk_bridges",
        "spec.native_bridge",
        "spec.mtu",
        "spec.admin_down",
    ];

    fn key(name: &str, field: &str) -> Result<String, Status> {
        let key = top_key(name, "ports", Self::STORE, field)?;
        if !is_interface_name(id_of(&key)) {
            return Err(invalid(
                field,
                format!(
                    "a port id is a Linux interface name, at most {MAX_INTERFACE_NAME} characters"
                ),
            ));
        }
        Ok(key)
    }
    fn public_name(key: &str) -> String {
        top_public(key, "ports", Self::STORE)
    }

    fn validate(spec: &PortSpec, field: &str) -> Result<(), Status> {
        let f = |x: &str| format!("{field}.{x}");
        let none_of = |names: &[(&str, bool)]| -> Result<(), Status> {
            match names.iter().find(|(_, set)| *set) {
                Some((name, _)) => Err(invalid(&f(name), "not allowed in this mode")),
                None => Ok(()),
            }
        };
        match PortMode::try_from(spec.mode) {
            Ok(PortMode::Access) => {
                reference(&spec.bridge, "bridges", &f("bridge"))?;
                none_of(&[
                    ("trunk_bridges", !spec.trunk_bridges.is_empty()),
                    ("native_bridge", !spec.native_bridge.is_empty()),
                ])?;
            }
            Ok(PortMode::Trunk) => {
                for (i, b) in spec.trunk_bridges.iter().enumerate() {
                    reference(b, "bridges", &f(&format!("trunk_bridges[{i}]")))?;
                }
                if !spec.native_bridge.is_empty() {
                    reference(&spec.native_bridge, "bridges", &f("native_bridge"))?;
                }
                none_of(&[("bridge", !spec.bridge.is_empty())])?;
            }
            Ok(PortMode::Uplink) => none_of(&[
                ("bridge", !spec.bridge.is_empty()),
                ("trunk_bridges", !spec.trunk_bridges.is_empty()),
                ("native_bridge", !spec.native_bridge.is_empty()),
            ])?,
            _ => return Err(invalid(&f("mode"), "must be ACCESS, TRUNK or UPLINK")),
        }
        if spec.mtu != 0 && !(MIN_MTU..=MAX_MTU).contains(&spec.mtu) {
            return Err(invalid(&f("mtu"), format!("0 (1500) or {MIN_MTU}..={MAX_MTU}")));
        }
        Ok(())
    }

    fn merge(into: &mut PortSpec, from: &PortSpec, path: &str) {
        match path {
            "spec.mode" => into.mode = from.mode,
            "spec.bridge" => into.bridge.clone_from(&from.bridge),
            "spec.trunk_bridges" => into.trunk_bridges.clone_from(&from.trunk_bridges),
            "spec.native_bridge" => into.native_bridge.clone_from(&from.native_bridge),
            "spec.mtu" => into.mtu = from.mtu,
            "spec.admin_down" => into.admin_down = from.admin_down,
            _ => {}
        }
    }

    status_and_message!(PortResource);
}

pub struct VtepKind;

impl Kind for VtepKind {
    type Spec = VtepSpec;
    type Status = ObjectStatus;
    type Proto = VtepResource;
    const FIELD: &'static str = "vtep";
    const STORE: &'static str = "switch-vteps";
    const UPDATABLE: &'static [&'static str] = &[
        "spec",
        "spec.uplink",
        "spec.local_ip",
        "spec.prefix_len",
        "spec.gateway",
        "spec.local_mac",
        "spec.udp_checksum",
        "spec.ttl",
        "spec.remotes",
        "spec.no_learn_remotes",
    ];

    fn key(name: &str, field: &str) -> Result<String, Status> {
        top_key(name, "vteps", Self::STORE, field)
    }
    fn public_name(key: &str) -> String {
        top_public(key, "vteps", Self::STORE)
    }

    fn validate(spec: &VtepSpec, field: &str) -> Result<(), Status> {
        let f = |x: &str| format!("{field}.{x}");
        reference(&spec.uplink, "ports", &f("uplink"))?;
        let local = ipv4(&spec.local_ip, &f("local_ip"))?;
        if !is_single_host_v4(local) {
            return Err(invalid(&f("local_ip"), "must be a unicast address"));
        }
        if spec.prefix_len > 32 {
            return Err(invalid(&f("prefix_len"), "at most 32"));
        }
        if !spec.gateway.is_empty() {
            let gateway = ipv4(&spec.gateway, &f("gateway"))?;
            // 0 is the default, as the switch reads it (`api::from_proto`).
            let prefix_len = match u8::try_from(spec.prefix_len) {
                Ok(0) | Err(_) => DEFAULT_PREFIX_LEN,
                Ok(n) => n,
            };
            check_vtep_gateway(local, prefix_len, gateway)
                .map_err(|e| invalid(&f("gateway"), e))?;
        }
        if !spec.local_mac.is_empty() {
            unicast_mac(&spec.local_mac, &f("local_mac"))?;
        }
        if spec.ttl > 255 {
            return Err(invalid(&f("ttl"), "at most 255"));
        }
        let mut seen = HashMap::new();
        for (i, r) in spec.remotes.iter().enumerate() {
            let rf = |x: &str| f(&format!("remotes[{i}].{x}"));
            let ip = ipv4(&r.ip, &rf("ip"))?;
            if !is_remote_unicast(ip, local) {
                return Err(invalid(&rf("ip"), "must be a remote unicast address"));
            }
            if let Some(j) = seen.insert(ip, i) {
                return Err(invalid(&rf("ip"), format!("{ip} is remotes[{j}] already")));
            }
            for vni in &r.vnis {
                check_vni(*vni, &rf("vnis"))?;
            }
            if Encap::try_from(r.encap).is_err() {
                return Err(invalid(&rf("encap"), "must be VXLAN or GENEVE"));
            }
        }
        Ok(())
    }

    fn merge(into: &mut VtepSpec, from: &VtepSpec, path: &str) {
        match path {
            "spec.uplink" => into.uplink.clone_from(&from.uplink),
            "spec.local_ip" => into.local_ip.clone_from(&from.local_ip),
            "spec.prefix_len" => into.prefix_len = from.prefix_len,
            "spec.gateway" => into.gateway.clone_from(&from.gateway),
            "spec.local_mac" => into.local_mac.clone_from(&from.local_mac),
            "spec.udp_checksum" => into.udp_checksum = from.udp_checksum,
            "spec.ttl" => into.ttl = from.ttl,
            "spec.remotes" => into.remotes.clone_from(&from.remotes),
            "spec.no_learn_remotes" => into.no_learn_remotes = from.no_learn_remotes,
            _ => {}
        }
    }

    status_and_message!(VtepResource);
}

pub struct VrfKind;

impl Kind for VrfKind {
    type Spec = VrfSpec;
    type Status = ObjectStatus;
    type Proto = VrfResource;
    const FIELD: &'static str = "vrf";
    const STORE: &'static str = "switch-vrfs";
    const UPDATABLE: &'static [&'static str] = &["spec", "spec.description"];

    fn key(name: &str, field: &str) -> Result<String, Status> {
        top_key(name, "vrfs", Self::STORE, field)
    }
    fn public_name(key: &str) -> String {
        top_public(key, "vrfs", Self::STORE)
    }

    fn validate(spec: &VrfSpec, field: &str) -> Result<(), Status> {
        if spec.description.len() > DESCRIPTION_MAX {
            return Err(invalid(
                &format!("{field}.description"),
                format!("at most {DESCRIPTION_MAX} bytes"),
            ));
        }
        Ok(())
    }

    fn merge(into: &mut VrfSpec, from: &VrfSpec, path: &str) {
        if path == "spec.description" {
            into.description.clone_from(&from.description);
        }
    }

    status_and_message!(VrfResource);
}

pub struct RouteKind;

impl Kind for RouteKind {
    type Spec = Route;
    type Status = ObjectStatus;
    type Proto = RouteResource;
    const FIELD: &'static str = "route";
    const STORE: &'static str = "switch-routes";
    const UPDATABLE: &'static [&'static str] = &["spec", "spec.prefix", "spec.next_hop"];

    fn key(name: &str, field: &str) -> Result<String, Status> {
        child_key(name, "vrfs", "routes", Self::STORE, field)
    }
    fn public_name(key: &str) -> String {
        child_public(key, "vrfs", "routes", Self::STORE)
    }

    fn validate(spec: &Route, field: &str) -> Result<(), Status> {
        let next_hop: IpAddr = spec.next_hop.parse().map_err(|_| {
            invalid(
                &format!("{field}.next_hop"),
                format!("{:?} is not an IP address", spec.next_hop),
            )
        })?;
        parse_route_prefix(&spec.prefix, next_hop)
            .map(|_| ())
            .map_err(|e| invalid(&format!("{field}.prefix"), e))
    }

    fn merge(into: &mut Route, from: &Route, path: &str) {
        match path {
            "spec.prefix" => into.prefix.clone_from(&from.prefix),
            "spec.next_hop" => into.next_hop.clone_from(&from.next_hop),
            _ => {}
        }
    }

    status_and_message!(RouteResource);
}

pub struct SviKind;

impl Kind for SviKind {
    type Spec = SviSpec;
    type Status = ObjectStatus;
    type Proto = SviResource;
    const FIELD: &'static str = "svi";
    const STORE: &'static str = "switch-svis";
    const UPDATABLE: &'static [&'static str] =
        &["spec", "spec.bridge", "spec.vrf", "spec.address", "spec.mac", "spec.address6"];

    fn key(name: &str, field: &str) -> Result<String, Status> {
        top_key(name, "svis", Self::STORE, field)
    }
    fn public_name(key: &str) -> String {
        top_public(key, "svis", Self::STORE)
    }

    fn validate(spec: &SviSpec, field: &str) -> Result<(), Status> {
        let f = |x: &str| format!("{field}.{x}");
        reference(&spec.bridge, "bridges", &f("bridge"))?;
        reference(&spec.vrf, "vrfs", &f("vrf"))?;
        parse_svi_address(&spec.address).map_err(|e| invalid(&f("address"), e))?;
        unicast_mac(&spec.mac, &f("mac"))?;
        if !spec.address6.is_empty() {
            parse_svi_address6(&spec.address6).map_err(|e| invalid(&f("address6"), e))?;
        }
        Ok(())
    }

    fn merge(into: &mut SviSpec, from: &SviSpec, path: &str) {
        match path {
            "spec.bridge" => into.bridge.clone_from(&from.bridge),
            "spec.vrf" => into.vrf.clone_from(&from.vrf),
            "spec.address" => into.address.clone_from(&from.address),
            "spec.mac" => into.mac.clone_from(&from.mac),
            "spec.address6" => into.address6.clone_from(&from.address6),
            _ => {}
        }
    }

    status_and_message!(SviResource);
}

pub struct StaticMacKind;

impl Kind for StaticMacKind {
    type Spec = StaticMacSpec;
    type Status = ObjectStatus;
    type Proto = StaticMacResource;
    const FIELD: &'static str = "static_mac";
    const STORE: &'static str = "switch-static-macs";
    const UPDATABLE: &'static [&'static str] =
        &["spec", "spec.mac", "spec.port", "spec.remote_vtep"];

    fn key(name: &str, field: &str) -> Result<String, Status> {
        child_key(name, "bridges", "static-macs", Self::STORE, field)
    }
    fn public_name(key: &str) -> String {
        child_public(key, "bridges", "static-macs", Self::STORE)
    }

    fn validate(spec: &StaticMacSpec, field: &str) -> Result<(), Status> {
        let f = |x: &str| format!("{field}.{x}");
        unicast_mac(&spec.mac, &f("mac"))?;
        match (spec.port.is_empty(), spec.remote_vtep.is_empty()) {
            (false, true) => reference(&spec.port, "ports", &f("port")),
            (true, false) => match ipv4(&spec.remote_vtep, &f("remote_vtep"))? {
                ip if is_single_host_v4(ip) => Ok(()),
                ip => Err(invalid(&f("remote_vtep"), format!("{ip} is not a unicast address"))),
            },
            _ => Err(invalid(&f("port"), "exactly one of port and remote_vtep")),
        }
    }

    fn merge(into: &mut StaticMacSpec, from: &StaticMacSpec, path: &str) {
        match path {
            "spec.mac" => into.mac.clone_from(&from.mac),
            "spec.port" => into.port.clone_from(&from.port),
            "spec.remote_vtep" => into.remote_vtep.clone_from(&from.remote_vtep),
            _ => {}
        }
    }

    status_and_message!(StaticMacResource);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ports_are_the_host_representors() {
        for own in ["pf0hpf", "pf1hpf", "pf0vf0", "pf0vf15", "pf12vf3"] {
            assert!(is_host_port(own), "{own}");
        }
        for other in ["p0", "p1", "pf0", "pf0vf", "pfvf0", "pf0hpfx", "pf0vf1a", "eth0", ""] {
            assert!(!is_host_port(other), "{other}");
        }
    }

    /// Whatever a spec gets wrong by itself is INVALID_ARGUMENT naming its field, checked
    /// with the switch's own helpers, before any whole-state check.
    #[test]
    fn spec_checks_name_the_field() {
        use tonic_types::StatusExt;
        let svi = |address: &str, address6: &str| SviSpec {
            bridge: "bridges/blue".into(),
            vrf: "vrfs/red".into(),
            address: address.into(),
            mac: "02:00:00:00:fe:01".into(),
            address6: address6.into(),
        };
        let route = |prefix: &str, next_hop: &str| Route {
            prefix: prefix.into(),
            next_hop: next_hop.into(),
        };
        let remote = |ip: &str| dpu_proto::dpu::switch::v1::RemoteVtep {
            ip: ip.into(),
            vnis: vec![100],
            encap: 0,
        };
        let vtep = |local_ip: &str, gateway: &str, remotes: &[&str]| VtepSpec {
            uplink: "ports/p0".into(),
            local_ip: local_ip.into(),
            gateway: gateway.into(),
            remotes: remotes.iter().map(|r| remote(r)).collect(),
            ..Default::default()
        };
        let far = |ip: &str| StaticMacSpec {
            mac: "02:00:00:00:aa:01".into(),
            remote_vtep: ip.into(),
            ..Default::default()
        };
        let big_table =
            BridgeSpec { vlan: Some(10), mac_limit: MAX_MAC_LIMIT + 1, ..Default::default() };
        let field = "x.spec";
        let ok = [
            SviKind::validate(&svi("192.0.2.1/24", "2001:db8::1/64"), field),
            RouteKind::validate(&route("10.0.0.0/8", "192.0.2.2"), field),
            VtepKind::validate(&vtep("198.51.100.1", "198.51.100.254", &["203.0.113.2"]), field),
            StaticMacKind::validate(&far("203.0.113.2"), field),
        ];
        for r in ok {
            r.unwrap();
        }
        for (got, want) in [
            (SviKind::validate(&svi("255.255.255.255/24", ""), field), "x.spec.address"),
            (SviKind::validate(&svi("127.0.0.1/8", ""), field), "x.spec.address"),
            (SviKind::validate(&svi("192.0.2.255/24", ""), field), "x.spec.address"),
            (
                SviKind::validate(&svi("192.0.2.1/24", "::ffff:c000:201/120"), field),
                "x.spec.address6",
            ),
            (SviKind::validate(&svi("192.0.2.1/24", "::1/64"), field), "x.spec.address6"),
            (RouteKind::validate(&route("10.1.2.3/8", "192.0.2.2"), field), "x.spec.prefix"),
            (RouteKind::validate(&route("2001:db8::1/32", "fe80::1"), field), "x.spec.prefix"),
            (VtepKind::validate(&vtep("127.0.0.1", "", &[]), field), "x.spec.local_ip"),
            (
                VtepKind::validate(&vtep("198.51.100.1", "203.0.113.1", &[]), field),
                "x.spec.gateway",
            ),
            (
                VtepKind::validate(&vtep("198.51.100.1", "198.51.100.1", &[]), field),
                "x.spec.gateway",
            ),
            (
                VtepKind::validate(&vtep("198.51.100.1", "", &["127.0.0.2"]), field),
                "x.spec.remotes[0].ip",
            ),
            (
                VtepKind::validate(
                    &vtep("198.51.100.1", "", &["203.0.113.2", "203.0.113.2"]),
                    field,
                ),
                "x.spec.remotes[1].ip",
            ),
            (StaticMacKind::validate(&far("0.0.0.1"), field), "x.spec.remote_vtep"),
            // Class E: decapsulation drops it as an outer source, so it is no VTEP.
            (VtepKind::validate(&vtep("240.0.0.1", "", &[]), field), "x.spec.local_ip"),
            (
                VtepKind::validate(&vtep("198.51.100.1", "", &["240.0.0.2"]), field),
                "x.spec.remotes[0].ip",
            ),
            (StaticMacKind::validate(&far("250.0.0.1"), field), "x.spec.remote_vtep"),
            (BridgeKind::validate(&big_table, field), "x.spec.mac_limit"),
        ] {
            let e = got.unwrap_err();
            let violation =
                e.get_details_bad_request().and_then(|b| b.field_violations.first().cloned());
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "{want}: {e:?}");
            assert_eq!(violation.map(|v| v.field).as_deref(), Some(want), "{}", e.message());
        }
    }

    #[test]
    fn names_map_to_store_keys_and_back() {
        let key = RouteKind::key("vrfs/red/routes/r1", "name").unwrap();
        assert_eq!(key, "switch-routes/red/r1");
        assert_eq!(RouteKind::public_name(&key), "vrfs/red/routes/r1");
        let key = StaticMacKind::key("bridges/b1/static-macs/m1", "name").unwrap();
        assert_eq!(StaticMacKind::public_name(&key), "bridges/b1/static-macs/m1");
        assert_eq!(
            BridgeKind::public_name(&BridgeKind::key("bridges/b", "n").unwrap()),
            "bridges/b"
        );
        for bad in ["vrfs/red/routes/", "vrfs//routes/r1", "bridges/red/routes/r1", "vrfs/red"] {
            assert!(RouteKind::key(bad, "name").is_err(), "{bad}");
        }
        assert!(PortKind::key("ports/a-very-long-interface", "name").is_err());
        assert_eq!(parent_of("vrfs/red/routes/r1", "routes"), "vrfs/red");
    }
}
