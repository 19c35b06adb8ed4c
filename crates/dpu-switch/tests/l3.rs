//! Routing through SVIs, in virtual time with hand-built frames.
#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;
use std::time::Instant;

use dpu_switch::config::{
    BridgeConfig, PortConfig, PortMode, RouteConfig, SviConfig, SwitchConfig, VrfConfig,
};
use dpu_switch::{DropReason, PacketBuf, PortId, Rx, Switch};
use dpu_wire::arp::{ArpOperation, ArpPacket, ArpRepr};
use dpu_wire::ethernet::EthernetRepr;
use dpu_wire::icmpv4::{Icmpv4Packet, Icmpv4Type};
use dpu_wire::ipv4::{Ipv4Packet, Ipv4Repr};
use dpu_wire::udp::UdpRepr;
use dpu_wire::{EtherType, IpProtocol, MacAddr};

const GW10: MacAddr = MacAddr([2, 0, 0, 0, 0xfe, 10]);
const GW20: MacAddr = MacAddr([2, 0, 0, 0, 0xfe, 20]);
const GW10_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 254);
const GW20_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 254);

fn mac(n: u8) -> MacAddr {
    MacAddr([2, 0, 0, 0, 1, n])
}

fn config(route_via: Ipv4Addr) -> SwitchConfig {
    let access = |name: &str, vlan| PortConfig {
        name: name.into(),
        mode: PortMode::Access { vlan },
        mtu: 1500,
        admin_up: true,
    };
    let bridge = |name: &str, vlan, addr: &str, mac: MacAddr| BridgeConfig {
        name: name.into(),
        vlan: Some(vlan),
        vni: None,
        ageing_secs: 300,
        mac_limit: 100,
        svi: Some(SviConfig { vrf: "blue".into(), address: addr.into(), mac: mac.to_string() }),
    };
    SwitchConfig {
        ports: vec![access("a", 10), access("b", 10), access("d", 20)],
        bridges: vec![
            bridge("br10", 10, "192.0.2.254/24", GW10),
            bridge("br20", 20, "203.0.113.254/24", GW20),
        ],
        vrfs: vec![VrfConfig {
            name: "blue".into(),
            routes: vec![RouteConfig { prefix: "198.51.100.0/24".into(), next_hop: route_via }],
        }],
        ..SwitchConfig::default()
    }
}

fn udp(src: MacAddr, dst: MacAddr, sip: Ipv4Addr, dip: Ipv4Addr, ttl: u8, sport: u16) -> Vec<u8> {
    let eth = EthernetRepr { dst, src, vlans: &[], ethertype: EtherType::IPV4 };
    let mut f = vec![0u8; 14 + 20 + 8 + 10];
    let l3 = eth.emit(&mut f).unwrap();
    let ip = Ipv4Repr { ttl, ..Ipv4Repr::new(sip, dip, IpProtocol::UDP, 18) };
    let l4 = l3 + ip.emit(&mut f[l3..]).unwrap();
    UdpRepr { src_port: sport, dst_port: 9 }.emit(&mut f[l4..], 10).unwrap();
    f
}

fn arp(op: ArpOperation, smac: MacAddr, sip: Ipv4Addr, dst: MacAddr, tip: Ipv4Addr) -> Vec<u8> {
    let eth = EthernetRepr { dst, src: smac, vlans: &[], ethertype: EtherType::ARP };
    let mut f = vec![0u8; 42];
    let hl = eth.emit(&mut f).unwrap();
    let tmac = if op == ArpOperation::REPLY { dst } else { MacAddr::ZERO };
    ArpRepr { operation: op, sender_mac: smac, sender_ip: sip, target_mac: tmac, target_ip: tip }
        .emit(&mut f[hl..])
        .unwrap();
    f
}

struct H {
    sw: Switch,
    now: Instant,
}

impl H {
    fn send(&mut self, port: &str, f: &[u8]) -> Vec<(String, Vec<u8>)> {
        let id = self.sw.port_id(port).unwrap();
        let mut rx = vec![Rx { port: id, buf: PacketBuf::from_frame(f) }];
        let mut out = Vec::new();
        self.sw.process(self.now, &mut rx, &mut out);
        let names = self.sw.port_names();
        out.into_iter()
            .map(|t| {
                let n = names.iter().find(|(i, _)| *i == t.port).unwrap().1.clone();
                (n, t.buf.frame().to_vec())
            })
            .collect()
    }

    fn drops(&self, port: &str, r: DropReason) -> u64 {
        let id: PortId = self.sw.port_id(port).unwrap();
        self.sw.port_counters(id).unwrap().drops.get(r)
    }
}

const A_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const B_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 9);
const D_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 4);
const R_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 9);

#[test]
fn svi_answers_arp_and_ping() {
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    let out = h.send("a", &arp(ArpOperation::REQUEST, mac(1), A_IP, MacAddr::BROADCAST, GW10_IP));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, "a");
    let r = ArpPacket::new_checked(&out[0].1[14..42]).unwrap();
    assert_eq!(
        (r.operation(), r.sender_mac(), r.sender_ip()),
        (ArpOperation::REPLY, GW10, GW10_IP)
    );
    // An ARP for another host is flooded as usual, not answered.
    let out = h.send("a", &arp(ArpOperation::REQUEST, mac(1), A_IP, MacAddr::BROADCAST, B_IP));
    assert_eq!(out.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), vec!["b"]);
    // Echo to the gateway, and to the other SVI's address (same VRF).
    for target in [GW10_IP, GW20_IP] {
        let mut req = vec![0u8; 14 + 20 + 12];
        let eth = EthernetRepr { dst: GW10, src: mac(1), vlans: &[], ethertype: EtherType::IPV4 };
        let hl = eth.emit(&mut req).unwrap();
        let n = Ipv4Repr::new(A_IP, target, IpProtocol::ICMP, 12).emit(&mut req[hl..]).unwrap();
        dpu_wire::icmpv4::emit_echo(&mut req[hl + n..], true, 7, 1, b"ping").unwrap();
        let out = h.send("a", &req);
        assert_eq!(out.len(), 1, "{target}");
        let ip = Ipv4Packet::new_checked(&out[0].1[14..]).unwrap();
        assert_eq!((ip.src(), ip.dst()), (target, A_IP));
        let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
        assert_eq!(
            (icmp.msg_type(), icmp.echo_ident(), icmp.data()),
            (Icmpv4Type::ECHO_REPLY, 7, &b"ping"[..])
        );
        assert!(icmp.verify_checksum() && ip.verify_checksum());
    }
}

#[test]
fn routes_with_ttl_icmp_and_cache() {
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    let f = udp(mac(1), GW10, A_IP, D_IP, 64, 1000);
    // Next hop unknown: an ARP request from the egress SVI, the packet is dropped.
    let out = h.send("a", &f);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, "d");
    let req = ArpPacket::new_checked(&out[0].1[14..42]).unwrap();
    assert_eq!((req.sender_ip(), req.target_ip(), req.sender_mac()), (GW20_IP, D_IP, GW20));
    assert_eq!(h.drops("a", DropReason::NeighbourUnresolved), 1);
    assert!(h.send("d", &arp(ArpOperation::REPLY, mac(4), D_IP, GW20, GW20_IP)).is_empty());
    // Now routed: MACs rewritten, TTL 63, header checksum still right, one lookup next time.
    for i in 0..5 {
        let out = h.send("a", &f);
        assert_eq!(out.len(), 1, "packet {i}");
        let (port, g) = &out[0];
        assert_eq!(port, "d");
        assert_eq!((&g[0..6], &g[6..12]), (&mac(4).0[..], &GW20.0[..]));
        let ip = Ipv4Packet::new_checked(&g[14..]).unwrap();
        assert_eq!(ip.ttl(), 63);
        assert!(ip.verify_checksum());
        assert_eq!(&g[34..], &f[34..]);
    }
    let hits = h.sw.flow_stats().hits;
    assert!(hits >= 4, "{hits}");
    assert!(h.sw.flows(h.now, 0, 100).flows.iter().any(|fl| fl.action.starts_with("route:")));

    // TTL 1: time exceeded from the ingress SVI back to the sender, quoting the packet.
    let out = h.send("a", &udp(mac(1), GW10, A_IP, D_IP, 1, 1001));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, "a");
    let ip = Ipv4Packet::new_checked(&out[0].1[14..]).unwrap();
    assert_eq!((ip.src(), ip.dst(), ip.protocol()), (GW10_IP, A_IP, IpProtocol::ICMP));
    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    assert_eq!((icmp.msg_type(), icmp.code()), (Icmpv4Type::TIME_EXCEEDED, 0));
    assert!(icmp.verify_checksum());
    assert_eq!(h.drops("a", DropReason::Wire(dpu_wire::Error::TtlExpired)), 1);
    // Also on the cached path: the flow above is cached with TTL 64; same flow, TTL 1.
    let out = h.send("a", &udp(mac(1), GW10, A_IP, D_IP, 1, 1000));
    assert_eq!(out[0].0, "a");

    // No route: destination unreachable (net).
    let out = h.send("a", &udp(mac(1), GW10, A_IP, Ipv4Addr::new(100, 64, 0, 1), 64, 1));
    let ip = Ipv4Packet::new_checked(&out[0].1[14..]).unwrap();
    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    assert_eq!((icmp.msg_type(), icmp.code()), (Icmpv4Type::DEST_UNREACHABLE, 0));
    assert_eq!(h.drops("a", DropReason::NoRoute), 1);
    // A corrupt header checksum is dropped, never routed (RFC 1812 §5.2.2).
    let mut bad = f.clone();
    bad[14 + 10] ^= 0x55;
    assert!(h.send("a", &bad).is_empty());
    assert_eq!(h.drops("a", DropReason::Wire(dpu_wire::Error::BadChecksum)), 1);
}

#[test]
fn route_change_takes_effect_on_existing_flows() {
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    let remote = Ipv4Addr::new(198, 51, 100, 7);
    // Resolve both possible next hops.
    h.send("d", &arp(ArpOperation::REQUEST, mac(9), R_IP, MacAddr::BROADCAST, GW20_IP));
    h.send("b", &arp(ArpOperation::REQUEST, mac(2), B_IP, MacAddr::BROADCAST, GW10_IP));
    let f = udp(mac(1), GW10, A_IP, remote, 64, 5);
    for _ in 0..3 {
        let out = h.send("a", &f);
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].0.as_str(), &out[0].1[0..6]), ("d", &mac(9).0[..]));
    }
    // The route now points at B, in the ingress bridge (a hairpin through the router).
    h.sw.apply(config(B_IP), h.now).unwrap();
    let out = h.send("a", &f);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].0.as_str(), &out[0].1[0..6]), ("b", &mac(2).0[..]));
    assert!(
        h.sw.routes()
            .iter()
            .any(|r| r.prefix == "198.51.100.0/24" && r.via == format!("via:{B_IP}"))
    );
    assert!(h.sw.neighbours().iter().any(|n| n.ip == R_IP && n.mac.is_some()));
    // A next hop outside every SVI subnet is refused.
    assert!(h.sw.apply(config(Ipv4Addr::new(100, 64, 0, 1)), h.now).is_err());
}
