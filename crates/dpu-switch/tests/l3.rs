//! Routing through SVIs, in virtual time with hand-built frames.
#![allow(clippy::unwrap_used)]

use std::net::{Ipv4Addr, Ipv6Addr};
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

/// An access port of `vlan`, up, at MTU 1500.
fn access(name: &str, vlan: u16) -> PortConfig {
    PortConfig { name: name.into(), mode: PortMode::Access { vlan }, mtu: 1500, admin_up: true }
}

/// A bridge of `vlan` with an SVI in `vrf` (MAC `mac`, `address` and maybe `address6`).
fn routed_bridge(
    name: &str,
    vlan: u16,
    vrf: &str,
    address: &str,
    mac: MacAddr,
    address6: Option<&str>,
) -> BridgeConfig {
    BridgeConfig {
        name: name.into(),
        vlan: Some(vlan),
        vni: None,
        ageing_secs: 300,
        mac_limit: 100,
        svi: Some(SviConfig {
            vrf: vrf.into(),
            address: address.into(),
            mac: mac.to_string(),
            address6: address6.map(str::to_owned),
        }),
    }
}

fn config(route_via: Ipv4Addr) -> SwitchConfig {
    let bridge = |name: &str, vlan, addr: &str, mac: MacAddr, addr6: &str| {
        routed_bridge(name, vlan, "blue", addr, mac, Some(addr6))
    };
    SwitchConfig {
        ports: vec![access("a", 10), access("b", 10), access("d", 20)],
        bridges: vec![
            bridge("br10", 10, "192.0.2.254/24", GW10, "2001:db8:10::1/64"),
            bridge("br20", 20, "203.0.113.254/24", GW20, "2001:db8:20::1/64"),
        ],
        vrfs: vec![VrfConfig {
            name: "blue".into(),
            routes: vec![RouteConfig {
                prefix: "198.51.100.0/24".into(),
                next_hop: route_via.into(),
            }],
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

const A6: &str = "2001:db8:10::2";
const D6: &str = "2001:db8:20::4";
const GW10_6: &str = "2001:db8:10::1";
const GW20_6: &str = "2001:db8:20::1";

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// Ethernet + IPv6 + an ICMPv6 message (`body` after type/code/checksum), checksum filled.
fn icmp6(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop: u8,
    t: u8,
    body: &[u8],
) -> Vec<u8> {
    use dpu_wire::icmpv6::Icmpv6Packet;
    use dpu_wire::ipv6::Ipv6Repr;
    let eth = EthernetRepr { dst: dst_mac, src: src_mac, vlans: &[], ethertype: EtherType::IPV6 };
    let len = 4 + body.len();
    let mut f = vec![0u8; 14 + 40 + len];
    let hl = eth.emit(&mut f).unwrap();
    let n = Ipv6Repr { hop_limit: hop, ..Ipv6Repr::new(src, dst, IpProtocol::ICMPV6, len) }
        .emit(&mut f[hl..])
        .unwrap();
    f[hl + n] = t;
    f[hl + n + 4..].copy_from_slice(body);
    Icmpv6Packet::new_checked(&mut f[hl + n..]).unwrap().fill_checksum(src, dst);
    f
}

/// A Neighbor Solicitation (135) or Advertisement (136) with a link-layer option.
fn nd(
    t: u8,
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    target: Ipv6Addr,
) -> Vec<u8> {
    let mut body = vec![0u8; 4];
    if t == 136 {
        body[0] = 0x60; // solicited, override
    }
    body.extend_from_slice(&target.octets());
    body.extend_from_slice(&[if t == 135 { 1 } else { 2 }, 1]);
    body.extend_from_slice(&src_mac.0);
    icmp6(src_mac, dst_mac, src, dst, 255, t, &body)
}

fn udp6(src: MacAddr, dst: MacAddr, sip: Ipv6Addr, dip: Ipv6Addr, hop: u8) -> Vec<u8> {
    use dpu_wire::ipv6::Ipv6Repr;
    let eth = EthernetRepr { dst, src, vlans: &[], ethertype: EtherType::IPV6 };
    let mut f = vec![0u8; 14 + 40 + 8 + 10];
    let l3 = eth.emit(&mut f).unwrap();
    let l4 = l3
        + Ipv6Repr { hop_limit: hop, ..Ipv6Repr::new(sip, dip, IpProtocol::UDP, 18) }
            .emit(&mut f[l3..])
            .unwrap();
    UdpRepr { src_port: 5, dst_port: 9 }.emit(&mut f[l4..], 10).unwrap();
    f
}

#[test]
fn ipv6_nd_routing_hop_limit_and_icmpv6() {
    use dpu_wire::icmpv6::{Icmpv6Packet, Icmpv6Type};
    use dpu_wire::ipv6::Ipv6Packet;
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    // A asks for its gateway: a solicited, router, override advertisement comes back.
    let sn = MacAddr([0x33, 0x33, 0xff, 0, 0, 1]);
    let ns = nd(135, mac(1), sn, v6(A6), v6("ff02::1:ff00:1"), v6(GW10_6));
    let out = h.send("a", &ns);
    assert_eq!(out.len(), 1, "{out:?}");
    let ip = Ipv6Packet::new_checked(&out[0].1[14..]).unwrap();
    assert_eq!((ip.src(), ip.dst(), ip.hop_limit()), (v6(GW10_6), v6(A6), 255));
    let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
    assert_eq!(icmp.msg_type(), Icmpv6Type::NEIGHBOR_ADVERT);
    assert!(icmp.check_checksum(ip.src(), ip.dst()).is_ok());
    let m = icmp.message();
    assert_eq!(m[4] & 0xe0, 0xe0);
    assert_eq!(&m[8..24], &v6(GW10_6).octets());
    assert_eq!(&m[26..32], &GW10.0);
    // Routed towards D: first a solicitation for D on d.
    let f = udp6(mac(1), GW10, v6(A6), v6(D6), 64);
    let out = h.send("a", &f);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].0.as_str(), &out[0].1[0..6]), ("d", &[0x33, 0x33, 0xff, 0, 0, 4][..]));
    let ip = Ipv6Packet::new_checked(&out[0].1[14..]).unwrap();
    assert_eq!((ip.src(), ip.dst(), ip.hop_limit()), (v6(GW20_6), v6("ff02::1:ff00:4"), 255));
    assert_eq!(h.drops("a", DropReason::NeighbourUnresolved), 1);
    assert!(h.send("d", &nd(136, mac(4), GW20, v6(D6), v6(GW20_6), v6(D6))).is_empty());
    for _ in 0..3 {
        let out = h.send("a", &f);
        assert_eq!(out.len(), 1);
        let (port, g) = &out[0];
        assert_eq!((port.as_str(), &g[0..6], &g[6..12]), ("d", &mac(4).0[..], &GW20.0[..]));
        assert_eq!(Ipv6Packet::new_checked(&g[14..]).unwrap().hop_limit(), 63);
    }
    assert!(h.sw.neighbours().iter().any(|n| n.ip.to_string() == D6 && n.mac.is_some()));
    // Hop limit 1: time exceeded from the ingress SVI.
    let out = h.send("a", &udp6(mac(1), GW10, v6(A6), v6(D6), 1));
    assert_eq!(out[0].0, "a");
    let ip = Ipv6Packet::new_checked(&out[0].1[14..]).unwrap();
    assert_eq!((ip.src(), ip.dst()), (v6(GW10_6), v6(A6)));
    let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
    assert_eq!((icmp.msg_type(), icmp.code()), (Icmpv6Type::TIME_EXCEEDED, 0));
    assert!(icmp.check_checksum(ip.src(), ip.dst()).is_ok());
    // No route: unreachable (no route to destination).
    let out = h.send("a", &udp6(mac(1), GW10, v6(A6), v6("2001:db8:ffff::1"), 64));
    let ip = Ipv6Packet::new_checked(&out[0].1[14..]).unwrap();
    let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
    assert_eq!((icmp.msg_type(), icmp.code()), (Icmpv6Type::DEST_UNREACHABLE, 0));
    // Echo to the gateway.
    let echo = icmp6(mac(1), GW10, v6(A6), v6(GW10_6), 64, 128, &[0, 7, 0, 1, b'h', b'i']);
    let out = h.send("a", &echo);
    assert_eq!(out.len(), 1);
    let ip = Ipv6Packet::new_checked(&out[0].1[14..]).unwrap();
    let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
    assert_eq!(
        (icmp.msg_type(), icmp.echo_ident(), icmp.data()),
        (Icmpv6Type::ECHO_REPLY, 7, &b"hi"[..])
    );
    assert!(icmp.check_checksum(ip.src(), ip.dst()).is_ok());
    // And to the other SVI's address (same VRF), as for IPv4: answered from that address.
    let echo = icmp6(mac(1), GW10, v6(A6), v6(GW20_6), 64, 128, &[0, 8, 0, 1, b'h', b'o']);
    let out = h.send("a", &echo);
    assert_eq!(out.len(), 1, "{out:?}");
    let ip = Ipv6Packet::new_checked(&out[0].1[14..]).unwrap();
    let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
    assert_eq!(
        (ip.src(), icmp.msg_type(), icmp.echo_ident()),
        (v6(GW20_6), Icmpv6Type::ECHO_REPLY, 8)
    );
    assert!(icmp.check_checksum(ip.src(), ip.dst()).is_ok());
    // A solicitation with a hop limit other than 255 is not ND (RFC 4861 §7.1.1): flooded.
    let mut bad = ns.clone();
    bad[14 + 7] = 64;
    let out = h.send("a", &bad);
    assert!(out.iter().all(|(p, _)| p == "b"), "{out:?}");
    assert!(h.sw.routes().iter().any(|r| r.prefix == "2001:db8:20::/64"));
}

#[test]
fn too_big_for_the_next_link_gets_icmp_not_fragments() {
    use dpu_wire::icmpv6::{Icmpv6Packet, Icmpv6Type};
    use dpu_wire::ipv6::Ipv6Packet;
    let mut c = config(R_IP);
    c.ports[2].mtu = 100; // d
    let mut h = H { sw: Switch::new(c, Instant::now()).unwrap(), now: Instant::now() };
    h.send("d", &arp(ArpOperation::REQUEST, mac(4), D_IP, MacAddr::BROADCAST, GW20_IP));
    // IPv6 neighbours are created by our own solicitation only.
    h.send("a", &udp6(mac(1), GW10, v6(A6), v6(D6), 64));
    h.send("d", &nd(136, mac(4), GW20, v6(D6), v6(GW20_6), v6(D6)));
    // IPv4, DF set (Ipv4Repr's default), 120 octets: fragmentation needed, MTU 100.
    let mut big = udp(mac(1), GW10, A_IP, D_IP, 64, 7);
    big.resize(14 + 120, 0);
    // Fix the length fields for the larger datagram.
    big[16..18].copy_from_slice(&120u16.to_be_bytes());
    big[14 + 20 + 4..14 + 20 + 6].copy_from_slice(&100u16.to_be_bytes());
    Ipv4Packet::new_checked(&mut big[14..]).unwrap().fill_checksum();
    let out = h.send("a", &big);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].0, "a");
    let ip = Ipv4Packet::new_checked(&out[0].1[14..]).unwrap();
    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    assert_eq!(
        (icmp.msg_type(), icmp.code(), icmp.next_hop_mtu()),
        (Icmpv4Type::DEST_UNREACHABLE, 4, 100)
    );
    assert_eq!(h.drops("a", DropReason::MtuExceeded), 1);
    // It quotes the packet as received (TTL 64, not decremented), and nothing was routed.
    assert_eq!(icmp.data()[8], 64, "quoted TTL");
    assert_eq!(h.sw.counters().routed, 0);
    // The same with TTL 1: time exceeded, not fragmentation needed (TTL first, as Linux).
    let mut expiring = big.clone();
    expiring[14 + 8] = 1;
    Ipv4Packet::new_checked(&mut expiring[14..]).unwrap().fill_checksum();
    let out = h.send("a", &expiring);
    assert_eq!(out.len(), 1, "{out:?}");
    let ip = Ipv4Packet::new_checked(&out[0].1[14..]).unwrap();
    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    assert_eq!(icmp.msg_type(), Icmpv4Type::TIME_EXCEEDED);
    assert_eq!(h.drops("a", DropReason::MtuExceeded), 1);
    // Without DF: dropped and counted, no ICMP (we do not fragment).
    big[14 + 6] = 0;
    Ipv4Packet::new_checked(&mut big[14..]).unwrap().fill_checksum();
    assert!(h.send("a", &big).is_empty());
    assert_eq!(h.drops("a", DropReason::MtuExceeded), 2);
    // Small enough: routed.
    assert_eq!(h.send("a", &udp(mac(1), GW10, A_IP, D_IP, 64, 8)).len(), 1);
    // IPv6: packet too big.
    let mut big6 = udp6(mac(1), GW10, v6(A6), v6(D6), 64);
    big6.resize(14 + 40 + 8 + 100, 0);
    big6[14 + 4..14 + 6].copy_from_slice(&108u16.to_be_bytes());
    big6[14 + 40 + 4..14 + 40 + 6].copy_from_slice(&108u16.to_be_bytes());
    let out = h.send("a", &big6);
    assert_eq!(out.len(), 1, "{out:?}");
    let ip = Ipv6Packet::new_checked(&out[0].1[14..]).unwrap();
    let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
    assert_eq!((icmp.msg_type(), icmp.mtu()), (Icmpv6Type::PACKET_TOO_BIG, 100));
}

#[test]
fn longest_prefix_wins() {
    let mut c = config(R_IP);
    c.vrfs[0]
        .routes
        .push(RouteConfig { prefix: "198.51.100.128/25".into(), next_hop: B_IP.into() });
    c.vrfs[0].routes.push(RouteConfig { prefix: "0.0.0.0/0".into(), next_hop: B_IP.into() });
    let mut h = H { sw: Switch::new(c, Instant::now()).unwrap(), now: Instant::now() };
    h.send("d", &arp(ArpOperation::REQUEST, mac(9), R_IP, MacAddr::BROADCAST, GW20_IP));
    h.send("b", &arp(ArpOperation::REQUEST, mac(2), B_IP, MacAddr::BROADCAST, GW10_IP));
    h.send("d", &arp(ArpOperation::REQUEST, mac(4), D_IP, MacAddr::BROADCAST, GW20_IP));
    let to = |h: &mut H, dst: Ipv4Addr| {
        let out = h.send("a", &udp(mac(1), GW10, A_IP, dst, 64, 1));
        assert_eq!(out.len(), 1, "{dst}");
        out[0].1[0..6].to_vec()
    };
    assert_eq!(to(&mut h, Ipv4Addr::new(198, 51, 100, 200)), mac(2).0); // /25
    assert_eq!(to(&mut h, Ipv4Addr::new(198, 51, 100, 7)), mac(9).0); // /24
    assert_eq!(to(&mut h, Ipv4Addr::new(100, 64, 1, 1)), mac(2).0); // default
    assert_eq!(to(&mut h, D_IP), mac(4).0); // connected /24 beats the default
}

/// A routed flow and a bridged flow of the same key are stored under unrelated epochs; an
/// SVI removed must never let the cached routed verdict serve the now bridged frame, however
/// far the bridge's own epoch has moved. A fresh routed flow is current and survives a tick.
#[test]
fn removed_svi_never_serves_a_cached_route() {
    let f = udp(mac(1), GW10, A_IP, D_IP, 64, 7);
    for changes in 0..24u32 {
        let t0 = Instant::now();
        let mut h = H { sw: Switch::new(config(R_IP), t0).unwrap(), now: t0 };
        h.send("d", &arp(ArpOperation::REPLY, mac(4), D_IP, GW20, GW20_IP));
        for _ in 0..2 {
            let out = h.send("a", &f);
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].0, "d", "routed before the change");
        }
        let routed = h.sw.flows(h.now, 0, 100);
        assert!(
            routed.flows.iter().any(|fl| fl.action.starts_with("route:") && fl.current),
            "{routed:?}"
        );
        h.sw.tick(h.now, &mut Vec::new());
        let hits = h.sw.flow_stats().hits;
        h.send("a", &f);
        assert_eq!(h.sw.flow_stats().hits, hits + 1, "the routed flow survived the tick");

        // br10 loses its SVI (the route's next hop stays on br20), then its own
        // configuration changes `changes` times, moving its epoch.
        let mut c = config(R_IP);
        c.bridges[0].svi = None;
        h.sw.apply(c.clone(), h.now).unwrap();
        for i in 0..changes {
            c.bridges[0].ageing_secs = 301 + i;
            h.sw.apply(c.clone(), h.now).unwrap();
        }
        // GW10 is now an unknown MAC in br10: flooded to b, never routed to d.
        let out = h.send("a", &f);
        assert!(
            out.iter().all(|(port, _)| port == "b") && !out.is_empty(),
            "after {changes} changes: {:?}",
            out.iter().map(|(p, _)| p).collect::<Vec<_>>()
        );
    }
}

impl H {
    /// Advances the clock by `secs`, ticking every 250 ms as a worker does; what the ticks
    /// sent, by port.
    fn run_for(&mut self, secs: u64) -> Vec<(String, Vec<u8>)> {
        let mut sent = Vec::new();
        for _ in 0..secs * 4 {
            self.now += std::time::Duration::from_millis(250);
            let mut out = Vec::new();
            self.sw.tick(self.now, &mut out);
            let names = self.sw.port_names();
            sent.extend(out.into_iter().map(|t| {
                let n = names.iter().find(|(i, _)| *i == t.port).unwrap().1.clone();
                (n, t.buf.frame().to_vec())
            }));
        }
        sent
    }

    fn neighbour_mac(&self, ip: Ipv4Addr) -> Option<Option<String>> {
        let v = self.sw.neighbours();
        v.into_iter().find(|n| n.ip == std::net::IpAddr::V4(ip)).map(|n| n.mac)
    }
}

/// Addresses nobody answers for are forgotten after 3 s, and at most a quarter of the
/// table may be waiting at once: a VM sending to thousands of unused addresses cannot fill
/// the neighbour table for good, so a host that appears later is still resolved and routed.
#[test]
fn unanswered_addresses_are_forgotten_and_cannot_fill_the_table() {
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    // Traffic to as many addresses of the connected 2001:db8:20::/64 (a scan).
    let src: Ipv6Addr = "2001:db8:10::5".parse().unwrap();
    for i in 0..(dpu_switch::MAX_INCOMPLETE_NEIGHBOURS + 100) {
        let dst = Ipv6Addr::from(0x2001_0db8_0020_0000_0000_0000_0000_1000u128 + i as u128);
        h.send("a", &udp6(mac(1), GW10, src, dst, 64));
    }
    let waiting = h.sw.neighbours().iter().filter(|n| n.mac.is_none()).count();
    assert_eq!(waiting, dpu_switch::MAX_INCOMPLETE_NEIGHBOURS, "the waiting ones are capped");
    // A host that appears now is still learned and routed to.
    h.send("d", &arp(ArpOperation::REQUEST, mac(4), D_IP, MacAddr::BROADCAST, GW20_IP));
    assert_eq!(h.neighbour_mac(D_IP), Some(Some(mac(4).to_string())));
    let out = h.send("a", &udp(mac(1), GW10, A_IP, D_IP, 64, 1));
    assert_eq!(out.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), vec!["d"]);
    // Three seconds on, nobody answered: all forgotten; the answering host stays.
    h.run_for(4);
    assert!(h.sw.neighbours().iter().all(|n| n.mac.is_some()), "incomplete entries forgotten");
    assert_eq!(h.neighbour_mac(D_IP), Some(Some(mac(4).to_string())));
}

/// A neighbour not heard from for 30 s is asked again by unicast to its MAC; one that
/// answers stays, one that does not is forgotten after three requests, so traffic to an
/// address that moved to another MAC resolves it anew instead of going to the old one.
#[test]
fn quiet_neighbours_are_probed_and_forgotten_when_they_do_not_answer() {
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    h.send("d", &arp(ArpOperation::REQUEST, mac(4), D_IP, MacAddr::BROADCAST, GW20_IP));
    h.send("d", &arp(ArpOperation::REQUEST, mac(5), R_IP, MacAddr::BROADCAST, GW20_IP));
    let probes = h.run_for(31);
    let asked: Vec<(String, Ipv4Addr)> = probes
        .iter()
        .filter_map(|(p, f)| {
            let a = ArpPacket::new_checked(f.get(14..42)?).ok()?;
            (a.operation() == ArpOperation::REQUEST && f[..6] != [0xff; 6])
                .then(|| (p.clone(), a.target_ip()))
        })
        .collect();
    assert!(
        asked.contains(&("d".into(), D_IP)) && asked.contains(&("d".into(), R_IP)),
        "{asked:?}"
    );
    // R answers; D has gone.
    h.send("d", &arp(ArpOperation::REPLY, mac(5), R_IP, GW20, GW20_IP));
    h.run_for(4);
    assert_eq!(h.neighbour_mac(D_IP), None, "D forgotten after three unanswered probes");
    assert_eq!(h.neighbour_mac(R_IP), Some(Some(mac(5).to_string())));
    // Traffic to D asks for it again (broadcast), rather than going to the old MAC.
    let out = h.send("a", &udp(mac(1), GW10, A_IP, D_IP, 64, 2));
    assert!(out.iter().all(|(p, f)| p == "d" && f[..6] == [0xff; 6]), "{out:?}");
    assert_eq!(h.drops("a", DropReason::NeighbourUnresolved), 1);
}

/// Packets a router never forwards are dropped without an ICMP error, as Linux drops
/// martians: IPv4 broadcast, multicast, loopback, class E, 0/8 and link-local sources or
/// destinations, a directed broadcast to a connected subnet, and IPv6 link-local,
/// multicast, loopback and IPv4-mapped ones, even with a default route to send them to.
#[test]
fn martians_are_not_routed() {
    let mut c = config(R_IP);
    c.vrfs[0].routes.push(dpu_switch::config::RouteConfig {
        prefix: "0.0.0.0/0".into(),
        next_hop: R_IP.into(),
    });
    let mut h = H { sw: Switch::new(c, Instant::now()).unwrap(), now: Instant::now() };
    h.send("d", &arp(ArpOperation::REQUEST, mac(5), R_IP, MacAddr::BROADCAST, GW20_IP));
    h.send("d", &nd(135, mac(4), GW20, v6(D6), v6(GW20_6), v6(GW20_6)));
    let v4 = |s: [u8; 4], d: [u8; 4]| udp(mac(1), GW10, s.into(), d.into(), 64, 3);
    let martians = [
        v4([192, 0, 2, 1], [255, 255, 255, 255]),
        v4([192, 0, 2, 1], [224, 0, 0, 5]),
        v4([192, 0, 2, 1], [239, 1, 2, 3]),
        v4([192, 0, 2, 1], [127, 0, 0, 1]),
        v4([192, 0, 2, 1], [240, 0, 0, 1]),
        v4([192, 0, 2, 1], [169, 254, 0, 9]),
        v4([192, 0, 2, 1], [203, 0, 113, 255]),
        v4([0, 0, 0, 0], [198, 51, 100, 7]),
        v4([127, 0, 0, 1], [198, 51, 100, 7]),
        v4([224, 0, 0, 1], [198, 51, 100, 7]),
        // The VRF's own gateway addresses and its connected subnets' directed broadcasts are
        // no host's source (RFC 1812 §5.3.7, §4.2.2.11; Linux: "martian source").
        v4([192, 0, 2, 255], [198, 51, 100, 7]),
        v4([192, 0, 2, 254], [198, 51, 100, 7]),
        v4([203, 0, 113, 255], [198, 51, 100, 7]),
        v4([203, 0, 113, 254], [198, 51, 100, 7]),
        // With TTL 1 neither: no time exceeded to a broadcast address (RFC 1812 §4.3.2.7).
        udp(mac(1), GW10, [192, 0, 2, 255].into(), [198, 51, 100, 7].into(), 1, 4),
        udp(mac(1), GW10, [192, 0, 2, 254].into(), [198, 51, 100, 7].into(), 1, 4),
        udp6(mac(1), GW10, v6(GW10_6), v6(D6), 64),
        udp6(mac(1), GW10, v6(GW20_6), v6(D6), 1),
        udp6(mac(1), GW10, v6(A6), "fe80::1".parse().unwrap(), 64),
        udp6(mac(1), GW10, "fe80::5".parse().unwrap(), v6(D6), 64),
        udp6(mac(1), GW10, v6(A6), "ff05::2".parse().unwrap(), 64),
        udp6(mac(1), GW10, v6(A6), "::1".parse().unwrap(), 64),
        udp6(mac(1), GW10, v6(A6), "::ffff:198.51.100.7".parse().unwrap(), 64),
        udp6(mac(1), GW10, "::ffff:192.0.2.1".parse().unwrap(), v6(D6), 64),
    ];
    for (i, m) in martians.iter().enumerate() {
        assert!(h.send("a", m).is_empty(), "martian {i} was sent on");
    }
    assert_eq!(h.drops("a", DropReason::Martian), martians.len() as u64);
    // An ordinary destination still goes.
    let out = h.send("a", &v4([192, 0, 2, 1], [198, 51, 100, 7]));
    assert_eq!(out.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), vec!["d"]);
    // Nor does the gateway answer such a source itself (RFC 1122 §3.2.1.3; Linux's input
    // route drops it as a martian before ICMP sees it).
    let echo4 = |src: [u8; 4]| {
        let mut req = vec![0u8; 14 + 20 + 12];
        let eth = EthernetRepr { dst: GW10, src: mac(1), vlans: &[], ethertype: EtherType::IPV4 };
        let hl = eth.emit(&mut req).unwrap();
        let n =
            Ipv4Repr::new(src.into(), GW10_IP, IpProtocol::ICMP, 12).emit(&mut req[hl..]).unwrap();
        dpu_wire::icmpv4::emit_echo(&mut req[hl + n..], true, 7, 1, b"ping").unwrap();
        req
    };
    let echo6 = |src: Ipv6Addr| icmp6(mac(1), GW10, src, v6(GW10_6), 64, 128, &[0, 7, 0, 1]);
    let to_gateway = [
        echo4([192, 0, 2, 255]),
        echo4([203, 0, 113, 254]),
        echo4([127, 0, 0, 1]),
        echo4([224, 0, 0, 1]),
        echo6(v6(GW20_6)),
        echo6("ff02::1".parse().unwrap()),
    ];
    for (i, m) in to_gateway.iter().enumerate() {
        assert!(h.send("a", m).is_empty(), "echo {i} from a martian answered");
    }
    let all = martians.len() + to_gateway.len();
    assert_eq!(h.drops("a", DropReason::Martian), all as u64);
    assert_eq!(h.send("a", &echo4([192, 0, 2, 1])).len(), 1);
    assert_eq!(h.send("a", &echo6(v6(A6))).len(), 1);
    // Link-local sources are never routed, but valid on their link (RFC 3927, RFC 4291
    // §2.5.6): the gateway answers them, as Linux does.
    assert_eq!(h.send("a", &echo4([169, 254, 1, 5])).len(), 1, "IPv4 link-local");
    assert_eq!(h.send("a", &echo6("fe80::5".parse().unwrap())).len(), 1, "IPv6 link-local");
    assert_eq!(h.drops("a", DropReason::Martian), all as u64);
}

/// A VM running duplicate address detection for the gateway's IPv6 address (a Neighbor
/// Solicitation from ::) is told the address is taken: an advertisement to all nodes with
/// Solicited clear and Override set (RFC 4861 §7.2.4), so it does not take the gateway over.
#[test]
fn duplicate_address_detection_of_the_gateway_address_is_answered() {
    use dpu_wire::icmpv6::{Icmpv6Packet, Icmpv6Type};
    use dpu_wire::ipv6::Ipv6Packet;
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    let own = v6("2001:db8:10::1");
    let solicited: Ipv6Addr = "ff02::1:ff00:1".parse().unwrap();
    let dst_mac = MacAddr([0x33, 0x33, 0xff, 0, 0, 1]);
    let out = h.send("a", &nd(135, mac(1), dst_mac, Ipv6Addr::UNSPECIFIED, solicited, own));
    let ports: Vec<&str> = out.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(ports, vec!["a", "b"], "to every member of the link");
    let f = &out[0].1;
    assert_eq!(f[..6], [0x33, 0x33, 0, 0, 0, 1]);
    let ip = Ipv6Packet::new_checked(&f[14..]).unwrap();
    assert_eq!((ip.src(), ip.dst()), (own, "ff02::1".parse().unwrap()));
    let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
    assert_eq!(icmp.msg_type(), Icmpv6Type::NEIGHBOR_ADVERT);
    let m = icmp.message();
    assert_eq!(m[4] & 0xe0, 0xa0, "router and override, not solicited");
    assert_eq!(m[8..24], own.octets());
}

/// Many neighbours going quiet together are each probed three times before any is
/// forgotten (probes are bounded per tick, so later ones wait their turn), and a
/// link-local neighbour is probed on the link it was heard on, not flooded into another.
#[test]
fn every_quiet_neighbour_is_probed_before_it_is_forgotten() {
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    let sn: MacAddr = MacAddr([0x33, 0x33, 0xff, 0, 0, 1]);
    let hosts: Vec<Ipv6Addr> = (0..1500u128)
        .map(|i| Ipv6Addr::from(0x2001_0db8_0020_0000_0000_0000_0001_0000 + i))
        .collect();
    for ip in &hosts {
        h.send("d", &nd(135, mac(4), sn, *ip, "ff02::1:ff00:1".parse().unwrap(), v6(GW20_6)));
    }
    let link_local: Ipv6Addr = "fe80::4".parse().unwrap();
    h.send("d", &nd(135, mac(4), sn, link_local, "ff02::1:ff00:1".parse().unwrap(), v6(GW20_6)));
    let sent = h.run_for(40);
    let mut asked = std::collections::HashMap::<Ipv6Addr, (usize, Vec<String>)>::new();
    for (port, f) in &sent {
        // A unicast Neighbor Solicitation: its target at ICMPv6 offset 8.
        if f.len() >= 14 + 40 + 24 && f[12..14] == [0x86, 0xdd] && f[14 + 40] == 135 {
            let target: [u8; 16] = f[14 + 40 + 8..14 + 40 + 24].try_into().unwrap();
            let e = asked.entry(Ipv6Addr::from(target)).or_default();
            e.0 += 1;
            e.1.push(port.clone());
        }
    }
    let known: Vec<std::net::IpAddr> = h.sw.neighbours().into_iter().map(|n| n.ip).collect();
    assert!(known.is_empty(), "nobody answered: all forgotten by now ({} left)", known.len());
    for ip in hosts.iter().chain([&link_local]) {
        if !known.contains(&std::net::IpAddr::V6(*ip)) {
            assert!(
                asked.get(ip).is_some_and(|a| a.0 >= 3),
                "{ip} forgotten unprobed: {:?}",
                asked.get(ip)
            );
        }
    }
    let (_, ports) = &asked[&link_local];
    assert!(ports.iter().all(|p| p == "d"), "probed on its own link only: {ports:?}");
}

/// A packet with a corrupt IPv4 header checksum is discarded silently whatever its route
/// (RFC 1812 §5.2.2: a router MUST verify the checksum and discard a packet that fails;
/// Linux's ip_rcv drops it before the route lookup): no "destination unreachable" quoting
/// it when there is no route, no ARP request for a destination it may not even name.
#[test]
fn a_corrupt_header_gets_no_icmp_error_and_no_arp() {
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    let corrupt = |dst: Ipv4Addr| {
        let mut f = udp(mac(1), GW10, A_IP, dst, 64, 1);
        f[14 + 10] ^= 0x55;
        f
    };
    // No route.
    let out = h.send("a", &corrupt(Ipv4Addr::new(100, 64, 0, 1)));
    assert!(out.is_empty(), "an ICMP error about a corrupt packet: {out:?}");
    // On a connected subnet, next hop not resolved yet.
    let out = h.send("a", &corrupt(D_IP));
    assert!(out.is_empty(), "an ARP request for a corrupt packet: {out:?}");
    assert_eq!(h.drops("a", DropReason::Wire(dpu_wire::Error::BadChecksum)), 2);
    assert_eq!(h.drops("a", DropReason::NoRoute), 0);
    assert_eq!(h.drops("a", DropReason::NeighbourUnresolved), 0);
    // Intact, the same packets get their error and their ARP request.
    let out = h.send("a", &udp(mac(1), GW10, A_IP, Ipv4Addr::new(100, 64, 0, 1), 64, 1));
    assert_eq!(out.len(), 1);
    let out = h.send("a", &udp(mac(1), GW10, A_IP, D_IP, 64, 1));
    assert_eq!((out.len(), out[0].0.as_str()), (1, "d"));
}

/// A Neighbor Advertisement with the Override flag clear (a proxy's, or one for an anycast
/// address) does not replace the link-layer address of a resolved neighbour (RFC 4861
/// §7.2.5: it "MUST NOT update the cache"; Linux's ndisc keeps it too), so routed traffic
/// stays with the address's owner; one with Override set does, and a neighbour still being
/// resolved takes either.
#[test]
fn an_advertisement_without_override_keeps_a_resolved_neighbour() {
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    let f = udp6(mac(1), GW10, v6(A6), v6(D6), 64);
    let na = |from: MacAddr, flags: u8| {
        let mut body = vec![flags, 0, 0, 0];
        body.extend_from_slice(&v6(D6).octets());
        body.extend_from_slice(&[2, 1]);
        body.extend_from_slice(&from.0);
        icmp6(from, GW20, v6(D6), v6(GW20_6), 255, 136, &body)
    };
    let next_hop = |h: &mut H| {
        let out = h.send("a", &f);
        assert_eq!(out.len(), 1, "{out:?}");
        out[0].1[0..6].to_vec()
    };
    // Being resolved: an advertisement without Override is taken (§7.2.5, INCOMPLETE).
    h.send("a", &f);
    assert!(h.send("d", &na(mac(4), 0x40)).is_empty());
    assert_eq!(next_hop(&mut h), mac(4).0);
    // Resolved: a proxy's answer (Solicited, no Override) changes nothing.
    h.send("d", &na(mac(5), 0x40));
    assert_eq!(next_hop(&mut h), mac(4).0, "a non-override advertisement took the neighbour");
    // With Override, the neighbour moves.
    h.send("d", &na(mac(6), 0x20));
    assert_eq!(next_hop(&mut h), mac(6).0);
}

/// `f` (Ethernet + IPv6 + upper layer) with a Fragment header in front of its upper layer:
/// offset `offset` octets, More Fragments `more`. Offset 0 without More is an atomic fragment
/// (RFC 6946). The upper layer's checksum stays valid: the pseudo-header does not cover the
/// Fragment header (RFC 8200 §8.1).
fn fragmented(f: &[u8], offset: usize, more: bool) -> Vec<u8> {
    use dpu_wire::ipv6::emit_fragment_header;
    let (l3, upper) = (14, 14 + 40);
    let mut g = f[..upper].to_vec();
    let mut fh = [0u8; 8];
    emit_fragment_header(&mut fh, IpProtocol(f[l3 + 6]), offset, more, 0x5eed).unwrap();
    g.extend_from_slice(&fh);
    g.extend_from_slice(&f[upper..]);
    g[l3 + 6] = IpProtocol::FRAGMENT.0;
    let len = u16::from_be_bytes([g[l3 + 4], g[l3 + 5]]) + 8;
    g[l3 + 4..l3 + 6].copy_from_slice(&len.to_be_bytes());
    g
}

/// ND messages in packets with a Fragment header, atomic fragments included, are ignored
/// (RFC 6980 §5, as Linux's ndisc): a crafted advertisement cannot move a neighbour nor a
/// solicitation create one; and a non-first fragment is never read as an ICMPv6 message.
#[test]
fn neighbour_discovery_in_fragments_is_ignored() {
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    let f = udp6(mac(1), GW10, v6(A6), v6(D6), 64);
    let next_hop = |h: &mut H| {
        let out = h.send("a", &f);
        assert_eq!(out.len(), 1, "{out:?}");
        out[0].1[0..6].to_vec()
    };
    h.send("a", &f);
    assert!(h.send("d", &nd(136, mac(4), GW20, v6(D6), v6(GW20_6), v6(D6))).is_empty());
    assert_eq!(next_hop(&mut h), mac(4).0);
    // Solicited + Override from another MAC, as an atomic, a first and a non-first fragment.
    let na = nd(136, mac(6), GW20, v6(D6), v6(GW20_6), v6(D6));
    for (offset, more) in [(0, false), (0, true), (8, false)] {
        h.send("d", &fragmented(&na, offset, more));
        assert_eq!(next_hop(&mut h), mac(4).0, "fragment at {offset}, more {more} moved it");
    }
    // A solicitation for the gateway from a new host: neither answered nor learned.
    let b6 = v6("2001:db8:10::9");
    let sn = MacAddr([0x33, 0x33, 0xff, 0, 0, 1]);
    let ns = nd(135, mac(2), sn, b6, v6("ff02::1:ff00:1"), v6(GW10_6));
    for (offset, more) in [(0, false), (0, true), (8, false)] {
        let out = h.send("b", &fragmented(&ns, offset, more));
        assert!(out.iter().all(|(_, g)| g[6..12] != GW10.0), "answered: {out:?}");
        assert!(!h.sw.neighbours().iter().any(|n| n.ip == b6), "learned at {offset}, {more}");
    }
    // An echo request only in a fragment of its own: a first or non-first fragment is not
    // answered (nothing is reassembled), an atomic fragment is (RFC 6946 §4).
    let echo = icmp6(mac(1), GW10, v6(A6), v6(GW10_6), 64, 128, &[0, 7, 0, 1, b'h', b'i']);
    for (offset, more) in [(0, true), (8, false)] {
        let out = h.send("a", &fragmented(&echo, offset, more));
        assert!(out.is_empty(), "fragment at {offset}, more {more} answered: {out:?}");
    }
    let out = h.send("a", &fragmented(&echo, 0, false));
    assert_eq!(out.len(), 1, "an atomic fragment's echo request is not answered");
    // The unfragmented advertisement still moves the neighbour.
    h.send("d", &na);
    assert_eq!(next_hop(&mut h), mac(6).0);
}

/// A host sending with a gateway's MAC as its source is not learned behind its port (Linux's
/// bridge keeps its local entry, `br_fdb_update`): the frame is forwarded as usual and
/// counted, and the MAC table never points the gateway's MAC at a host.
#[test]
fn a_host_using_a_gateway_mac_as_source_is_not_learned() {
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    let bcast = Ipv4Addr::new(192, 0, 2, 255);
    for (n, src) in [GW10, GW20].into_iter().enumerate() {
        let out = h.send("b", &udp(src, MacAddr::BROADCAST, B_IP, bcast, 64, 1));
        assert_eq!(out.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), vec!["a"]);
        assert_eq!(h.sw.counters().own_mac_sources, n as u64 + 1);
    }
    let table = h.sw.mac_table(h.now);
    assert!(
        !table.iter().any(|e| e.mac == GW10.to_string() || e.mac == GW20.to_string()),
        "{table:?}"
    );
    // The gateway still answers and routes for hosts on b.
    let out = h.send("b", &arp(ArpOperation::REQUEST, mac(2), B_IP, MacAddr::BROADCAST, GW10_IP));
    assert_eq!(out.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), vec!["b"]);
    // A learned MAC that a new configuration gives an SVI is forgotten as a host's.
    h.send("b", &udp(mac(7), MacAddr::BROADCAST, B_IP, bcast, 64, 1));
    assert!(h.sw.mac_table(h.now).iter().any(|e| e.mac == mac(7).to_string()));
    let mut c = config(R_IP);
    c.bridges[1].svi.as_mut().unwrap().mac = mac(7).to_string();
    h.sw.apply(c, h.now).unwrap();
    let table = h.sw.mac_table(h.now);
    assert!(!table.iter().any(|e| e.mac == mac(7).to_string()), "{table:?}");
    assert!(table.iter().any(|e| e.mac == mac(2).to_string()), "other hosts stay: {table:?}");
}

/// A frame to a gateway's MAC in a protocol other than IPv4, IPv6 or ARP is for the switch
/// itself, which has no stack for it: dropped and counted, never flooded to the bridge (a
/// Linux bridge hands frames to its own MAC to its local stack).
#[test]
fn other_protocols_to_the_gateway_mac_are_dropped_not_flooded() {
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    let experimental = EtherType(0x88b5); // IEEE 802 local experimental
    let eth = EthernetRepr { dst: GW10, src: mac(1), vlans: &[], ethertype: experimental };
    let mut f = vec![0u8; 60];
    eth.emit(&mut f).unwrap();
    for n in 1..=2 {
        assert!(h.send("a", &f).is_empty());
        assert_eq!(h.drops("a", DropReason::NotForUs), n);
    }
    // The same to another host's MAC is bridged as ever.
    let eth = EthernetRepr { dst: mac(9), src: mac(1), vlans: &[], ethertype: experimental };
    eth.emit(&mut f).unwrap();
    assert_eq!(h.send("a", &f).iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), vec!["b"]);
}

/// An ARP request sent to the gateway's MAC but asking for another address is for the
/// switch's own stack, which does not proxy: not answered and not flooded to the hosts of
/// the bridge (Linux's bridge hands a frame to its own MAC to the local stack only, and
/// `arp_process` ignores a target that is not local), only counted. The same request
/// broadcast is bridged as ever, and one to the gateway's MAC for its address is answered.
#[test]
fn a_unicast_arp_request_to_the_gateway_for_another_address_is_dropped() {
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    let to_gw = arp(ArpOperation::REQUEST, mac(1), A_IP, GW10, B_IP);
    for n in 1..=2 {
        let out = h.send("a", &to_gw);
        assert!(out.is_empty(), "answered or flooded: {out:?}");
        assert_eq!(h.drops("a", DropReason::NotForUs), n);
    }
    let out = h.send("a", &arp(ArpOperation::REQUEST, mac(1), A_IP, MacAddr::BROADCAST, B_IP));
    assert_eq!(out.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(), vec!["b"]);
    let out = h.send("a", &arp(ArpOperation::REQUEST, mac(1), A_IP, GW10, GW10_IP));
    assert_eq!(out.len(), 1);
    let r = ArpPacket::new_checked(&out[0].1[14..42]).unwrap();
    assert_eq!(
        (out[0].0.as_str(), r.operation(), r.sender_ip()),
        ("a", ArpOperation::REPLY, GW10_IP)
    );
}

/// Frames `out` holds that ask for an address by ARP or Neighbor Solicitation (broadcast,
/// multicast or unicast), with the port each left by.
fn requests(out: &[(String, Vec<u8>)]) -> Vec<(String, std::net::IpAddr)> {
    out.iter()
        .filter_map(|(p, f)| {
            let target = if f[12..14] == [0x08, 0x06] {
                let a = ArpPacket::new_checked(f.get(14..42)?).ok()?;
                (a.operation() == ArpOperation::REQUEST).then(|| a.target_ip().into())?
            } else if f[12..14] == [0x86, 0xdd] && f.get(14 + 40) == Some(&135) {
                let t: [u8; 16] = f.get(14 + 40 + 8..14 + 40 + 24)?.try_into().ok()?;
                Ipv6Addr::from(t).into()
            } else {
                return None;
            };
            Some((p.clone(), target))
        })
        .collect()
}

/// Routed UDP from A (port a) to `n` addresses of 2001:db8:`net`::/64 from `first` on: a
/// scan, each destination a neighbour to resolve.
fn scan(h: &mut H, net: u128, first: u128, n: usize) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for i in 0..n as u128 {
        let dst = Ipv6Addr::from((0x2001_0db8 << 96) | (net << 80) | (first + i));
        out.extend(h.send("a", &udp6(mac(1), GW10, v6(A6), dst, 64)));
    }
    out
}

/// One tenant scanning a subnet cannot keep another from resolving: the part of the table
/// for addresses being resolved is shared between the VRFs, and a VRF at its share gives
/// up its own oldest waiting entry, not another's room. Here br10 is tenant "red" and
/// scans its own /64; "blue" (br20) then resolves and routes to a new host at once.
#[test]
fn a_scan_in_one_vrf_cannot_keep_another_from_resolving() {
    let mut c = config(R_IP);
    c.vrfs.push(VrfConfig { name: "red".into(), routes: vec![] });
    c.bridges[0].svi.as_mut().unwrap().vrf = "red".into();
    let mut h = H { sw: Switch::new(c, Instant::now()).unwrap(), now: Instant::now() };
    let out = scan(&mut h, 0x10, 0x1000, dpu_switch::MAX_INCOMPLETE_NEIGHBOURS + 100);
    let asked: std::collections::HashSet<_> = requests(&out).into_iter().map(|r| r.1).collect();
    // Blue: R routes to D, a host it has not heard of yet, through their gateway.
    let to_d = udp(mac(5), GW20, R_IP, D_IP, 64, 1);
    let out = h.send("d", &to_d);
    assert_eq!(requests(&out), vec![("d".into(), D_IP.into())], "blue asks for D");
    h.send("d", &arp(ArpOperation::REPLY, mac(4), D_IP, GW20, GW20_IP));
    let out = h.send("d", &to_d);
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].0.as_str(), &out[0].1[..6]), ("d", &mac(4).0[..]));
    // Red asked for every address it scanned, keeping to its share.
    assert_eq!(asked.len(), dpu_switch::MAX_INCOMPLETE_NEIGHBOURS + 100, "each asked for");
    let waiting = |h: &H, vrf: &str| {
        h.sw.neighbours().iter().filter(|n| n.vrf == vrf && n.mac.is_none()).count()
    };
    assert_eq!(waiting(&h, "red"), dpu_switch::MAX_INCOMPLETE_NEIGHBOURS / 2, "its share");
    // Red's scan goes on, in its own share only.
    scan(&mut h, 0x10, 0x9000, 100);
    assert_eq!(waiting(&h, "red"), dpu_switch::MAX_INCOMPLETE_NEIGHBOURS / 2);
    assert_eq!(h.neighbour_mac(D_IP), Some(Some(mac(4).to_string())));
}

/// With a single VRF, a scan never takes a resolved neighbour's place: past its share of
/// the waiting part, nor with the table full, it replaces its own oldest waiting entries
/// only. A neighbour that made itself known by asking for the
/// gateway, and is routed to, stays, and its cached flow stays current.
#[test]
fn a_scan_does_not_evict_live_neighbours_or_reset_routed_flows() {
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    h.send("d", &arp(ArpOperation::REQUEST, mac(4), D_IP, MacAddr::BROADCAST, GW20_IP));
    let to_d = udp(mac(1), GW10, A_IP, D_IP, 64, 1);
    let routed_to_d = |h: &mut H| {
        let before = h.sw.flow_stats();
        let out = h.send("a", &to_d);
        let after = h.sw.flow_stats();
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].0.as_str(), &out[0].1[..6]), ("d", &mac(4).0[..]));
        (after.hits - before.hits, after.misses + after.invalidated)
            == (1, before.misses + before.invalidated)
    };
    h.send("a", &to_d);
    assert!(routed_to_d(&mut h), "a cache hit");
    scan(&mut h, 0x20, 0x1000, dpu_switch::MAX_INCOMPLETE_NEIGHBOURS + 100);
    assert!(routed_to_d(&mut h), "the scan reset the routed flow");
    // Hosts announcing themselves fill the table.
    let room = dpu_switch::MAX_NEIGHBOURS - h.sw.neighbours().len();
    let sn = MacAddr([0x33, 0x33, 0xff, 0, 0, 1]);
    for i in 0..room as u128 {
        let ip = Ipv6Addr::from(0x2001_0db8_0020_0000_0000_0000_0002_0000 + i);
        h.send("d", &nd(135, mac(7), sn, ip, "ff02::1:ff00:1".parse().unwrap(), v6(GW20_6)));
    }
    let resolved = |h: &H| h.sw.neighbours().iter().filter(|n| n.mac.is_some()).count();
    let before = resolved(&h);
    assert_eq!(h.sw.neighbours().len(), dpu_switch::MAX_NEIGHBOURS);
    // (New neighbours and MACs made routed flows stale: cached anew.)
    h.send("a", &to_d);
    scan(&mut h, 0x20, 0x8000, 2 * dpu_switch::MAX_INCOMPLETE_NEIGHBOURS);
    // Its own waiting entries give way to it, oldest first; nothing else does.
    assert_eq!(resolved(&h), before, "a resolved neighbour was evicted");
    assert_eq!(h.sw.neighbours().len(), dpu_switch::MAX_NEIGHBOURS);
    assert_eq!(h.neighbour_mac(D_IP), Some(Some(mac(4).to_string())));
    assert!(routed_to_d(&mut h), "the scan reset the routed flow");
}

/// Once the table holds gc_thresh1 neighbours, those nobody routed to for a
/// minute are forgotten even if they answer every probe (Linux collects unused entries
/// after gc_staletime), so a past scan's answers do not hold room for good; one that
/// routed traffic goes to, through the flow cache alone, is in use and stays.
#[test]
fn a_neighbour_routed_to_through_the_cache_is_not_idle() {
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    let host = |i: u8| (MacAddr([2, 0, 0, 0, 2, i]), Ipv4Addr::new(203, 0, 113, 10 + i));
    for i in 0..=dpu_switch::NEIGHBOUR_GC_THRESH1 as u8 {
        let (m, ip) = host(i);
        h.send("d", &arp(ArpOperation::REQUEST, m, ip, MacAddr::BROADCAST, GW20_IP));
    }
    h.send("d", &arp(ArpOperation::REQUEST, mac(4), D_IP, MacAddr::BROADCAST, GW20_IP));
    let to_d = udp(mac(1), GW10, A_IP, D_IP, 64, 1);
    h.send("a", &to_d);
    let misses = h.sw.flow_stats().misses;
    // Two idle times on, every host answering its probes, D's flow hit every 10 s.
    for s in 1..=2 * dpu_switch::NEIGHBOUR_IDLE.as_secs() {
        if s % 10 == 0 {
            let out = h.send("a", &to_d);
            assert_eq!((out.len(), &out[0].1[..6]), (1, &mac(4).0[..]), "at {s} s");
        }
        for (_, ip) in requests(&h.run_for(1)) {
            let std::net::IpAddr::V4(ip) = ip else { continue };
            let m = if ip == D_IP { mac(4) } else { host(ip.octets()[3] - 10).0 };
            h.send("d", &arp(ArpOperation::REPLY, m, ip, GW20, GW20_IP));
        }
    }
    assert_eq!(h.sw.flow_stats().misses, misses, "every packet to D was a cache hit");
    let left: Vec<String> = h.sw.neighbours().iter().map(|n| n.ip.to_string()).collect();
    assert_eq!(left, vec![D_IP.to_string()], "the idle ones forgotten, D kept");
}

/// `config(R_IP)` plus tenant "red": bridge br30 (VLAN 30, port e, its own SVI) in a VRF of
/// its own, with the same subnet as blue's br10 (VRFs may overlap).
fn two_tenants() -> SwitchConfig {
    let mut c = config(R_IP);
    c.ports.push(PortConfig {
        name: "e".into(),
        mode: PortMode::Access { vlan: 30 },
        mtu: 1500,
        admin_up: true,
    });
    c.bridges.push(BridgeConfig {
        name: "br30".into(),
        vlan: Some(30),
        vni: None,
        ageing_secs: 300,
        mac_limit: 100,
        svi: Some(SviConfig {
            vrf: "red".into(),
            address: "192.0.2.254/24".into(),
            mac: GW30.to_string(),
            address6: None,
        }),
    });
    c.vrfs.push(VrfConfig { name: "red".into(), routes: vec![] });
    c
}

const GW30: MacAddr = MacAddr([2, 0, 0, 0, 0xfe, 30]);

/// The ICMP type and code of each frame of `out` that carries an ICMPv4 message.
fn icmp4_kinds(out: &[(String, Vec<u8>)]) -> Vec<(u8, u8)> {
    out.iter()
        .filter_map(|(_, f)| {
            let ip = Ipv4Packet::new_checked(f.get(14..)?).ok()?;
            if ip.protocol() != IpProtocol::ICMP {
                return None;
            }
            let icmp = Icmpv4Packet::new_checked(ip.payload()).ok()?;
            Some((icmp.msg_type().0, icmp.code()))
        })
        .collect()
}

/// One tenant drawing ICMP errors as fast as it can (TTL 1, no route) uses up its own VRF's
/// budget only (RFC 1812 §4.3.2.8 limits a router's errors; the budget is per VRF so one
/// tenant cannot silence another's), and "fragmentation needed" is never limited (as
/// Linux's icmp_ratemask leaves it out): path-MTU discovery must not black-hole.
#[test]
fn one_tenants_icmp_errors_cannot_silence_anothers() {
    let mut c = two_tenants();
    c.ports[2].mtu = 100; // d, blue's br20
    let mut h = H { sw: Switch::new(c, Instant::now()).unwrap(), now: Instant::now() };
    h.send("d", &arp(ArpOperation::REQUEST, mac(4), D_IP, MacAddr::BROADCAST, GW20_IP));
    // Red: 150 TTL-1 packets towards an unrouted address, and 150 more to routed ones.
    let mut red = Vec::new();
    for i in 0..150u16 {
        red.extend(h.send("e", &udp(mac(30), GW30, A_IP, Ipv4Addr::new(100, 64, 0, 1), 1, i)));
    }
    let limited = h.sw.counters().icmp_rate_limited;
    assert_eq!(icmp4_kinds(&red).len(), dpu_switch::ICMP_ERRORS_PER_SEC as usize);
    assert_eq!(limited, 150 - u64::from(dpu_switch::ICMP_ERRORS_PER_SEC));
    // Blue, in the same second: an oversized DF packet gets "fragmentation needed".
    let mut big = udp(mac(1), GW10, A_IP, D_IP, 64, 7);
    big.resize(14 + 120, 0);
    big[16..18].copy_from_slice(&120u16.to_be_bytes());
    big[14 + 20 + 4..14 + 20 + 6].copy_from_slice(&100u16.to_be_bytes());
    Ipv4Packet::new_checked(&mut big[14..]).unwrap().fill_checksum();
    let out = h.send("a", &big);
    assert_eq!(icmp4_kinds(&out), vec![(3, 4)], "fragmentation needed: {out:?}");
    // And blue's other errors still have their budget.
    let out = h.send("a", &udp(mac(1), GW10, A_IP, D_IP, 1, 8));
    assert_eq!(icmp4_kinds(&out), vec![(11, 0)], "time exceeded");
    // Fragmentation needed is not limited even once blue's budget is spent.
    for i in 0..150u16 {
        h.send("a", &udp(mac(1), GW10, A_IP, Ipv4Addr::new(100, 64, 0, 1), 64, i));
    }
    let out = h.send("a", &big);
    assert_eq!(icmp4_kinds(&out), vec![(3, 4)], "fragmentation needed, budget spent");
    // Red's budget comes back after a second.
    h.now += std::time::Duration::from_secs(1);
    let out = h.send("e", &udp(mac(30), GW30, A_IP, Ipv4Addr::new(100, 64, 0, 1), 1, 1));
    assert_eq!(icmp4_kinds(&out), vec![(3, 0)]);
}

/// IPv6 other than ICMPv6 to one of the VRF's gateway addresses is for the gateway, as for
/// IPv4: consumed and counted, no "no route" error from the very address it was sent to.
#[test]
fn ipv6_to_a_gateway_address_is_consumed_not_answered_unreachable() {
    let mut h = H { sw: Switch::new(config(R_IP), Instant::now()).unwrap(), now: Instant::now() };
    for (n, gw) in [GW10_6, GW20_6].into_iter().enumerate() {
        let out = h.send("a", &udp6(mac(1), GW10, v6(A6), v6(gw), 64));
        assert!(out.is_empty(), "{gw}: {out:?}");
        assert_eq!(h.drops("a", DropReason::NotForUs), n as u64 + 1);
        assert_eq!(h.drops("a", DropReason::NoRoute), 0);
    }
    // An ICMPv6 message the gateway does not answer (an echo reply) likewise.
    let reply = icmp6(mac(1), GW10, v6(A6), v6(GW10_6), 64, 129, &[0, 7, 0, 1]);
    assert!(h.send("a", &reply).is_empty());
    assert_eq!(h.drops("a", DropReason::NotForUs), 3);
    assert_eq!(h.sw.counters().icmp_errors, 0);
}

/// Whether a packet is for the gateway depends on the addresses of its own VRF's SVIs only,
/// among many SVIs in several VRFs: an address that is another VRF's gateway (even one
/// inside this VRF's subnet) is routed or unreachable as any other, in both families.
#[test]
fn only_the_own_vrfs_gateway_addresses_are_for_us_among_many_svis() {
    const RED_GW: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 1);
    const RED_GW6: &str = "2001:db8:20::7";
    let mut c = two_tenants();
    // Red's gateway addresses lie inside blue's br20 subnets.
    let red = c.bridges[2].svi.as_mut().unwrap();
    red.address = format!("{RED_GW}/24");
    red.address6 = Some(format!("{RED_GW6}/64"));
    // Four more VRFs of 64 SVIs each; the last bridge has port f.
    let t_gw = |t: u8, i: u8| Ipv4Addr::new(10, t, i, 254);
    let t_gw6 = |t: u16, i: u16| format!("2001:db8:{:x}::1", 0x1000 + t * 0x100 + i);
    let t_mac = |t: u8, i: u8| MacAddr([2, 0, 1, t, i, 0xfe]);
    for t in 0..4u8 {
        c.vrfs.push(VrfConfig { name: format!("t{t}"), routes: vec![] });
        for i in 0..64u8 {
            c.bridges.push(BridgeConfig {
                name: format!("t{t}-{i}"),
                vlan: Some(100 + u16::from(t) * 64 + u16::from(i)),
                vni: None,
                ageing_secs: 300,
                mac_limit: 100,
                svi: Some(SviConfig {
                    vrf: format!("t{t}"),
                    address: format!("{}/24", t_gw(t, i)),
                    mac: t_mac(t, i).to_string(),
                    address6: Some(format!("{}/64", t_gw6(t.into(), i.into()))),
                }),
            });
        }
    }
    c.ports.push(PortConfig {
        name: "f".into(),
        mode: PortMode::Access { vlan: 100 + 3 * 64 + 63 },
        mtu: 1500,
        admin_up: true,
    });
    let mut h = H { sw: Switch::new(c, Instant::now()).unwrap(), now: Instant::now() };
    let arp_for = |out: &[(String, Vec<u8>)], port: &str, ip: Ipv4Addr| {
        out.iter().any(|(p, f)| {
            p == port
                && f[12..14] == [8, 6]
                && ArpPacket::new_checked(&f[14..42]).unwrap().target_ip() == ip
        })
    };

    // Blue: red's gateway addresses are hosts on br20, resolved there.
    let out = h.send("a", &udp(mac(1), GW10, A_IP, RED_GW, 64, 1));
    assert!(arp_for(&out, "d", RED_GW), "{out:?}");
    let out = h.send("a", &udp6(mac(1), GW10, v6(A6), v6(RED_GW6), 64));
    let sn = [0x33, 0x33, 0xff, 0, 0, 7];
    assert!(out.iter().any(|(p, f)| p == "d" && f[0..6] == sn), "{out:?}");
    // A t3 gateway address is not blue's: no route.
    let out = h.send("a", &udp(mac(1), GW10, A_IP, t_gw(3, 63), 64, 2));
    assert_eq!(icmp4_kinds(&out), vec![(3, 0)]);
    assert_eq!(h.drops("a", DropReason::NotForUs), 0);

    // Red: its own gateway, both families, is for it; blue's is a host on its link.
    assert!(h.send("e", &udp(mac(30), GW30, A_IP, RED_GW, 64, 3)).is_empty());
    assert!(h.send("e", &udp6(mac(30), GW30, v6(A6), v6(RED_GW6), 64)).is_empty());
    assert_eq!(h.drops("e", DropReason::NotForUs), 2);
    let out = h.send("e", &udp(mac(30), GW30, A_IP, GW20_IP, 64, 4));
    assert!(arp_for(&out, "e", GW20_IP), "{out:?}");
    assert_eq!(h.drops("e", DropReason::NotForUs), 2);

    // t3, from its last bridge: every gateway of t3 is for it, t0's are not.
    let (f_ip, f_gw) = (Ipv4Addr::new(10, 3, 63, 1), t_mac(3, 63));
    for (n, i) in [63u8, 0, 31].into_iter().enumerate() {
        assert!(h.send("f", &udp(mac(60), f_gw, f_ip, t_gw(3, i), 64, 5)).is_empty());
        let to6 = udp6(mac(60), f_gw, v6("2001:db8:133f::9"), v6(&t_gw6(3, i.into())), 64);
        assert!(h.send("f", &to6).is_empty());
        assert_eq!(h.drops("f", DropReason::NotForUs), 2 * (n as u64 + 1), "t3-{i}");
    }
    let out = h.send("f", &udp(mac(60), f_gw, f_ip, t_gw(0, 63), 64, 6));
    assert_eq!(icmp4_kinds(&out), vec![(3, 0)]);
    let out = h.send("f", &udp6(mac(60), f_gw, v6("2001:db8:133f::9"), v6(&t_gw6(0, 0)), 64));
    assert_eq!(out.len(), 1, "no route to t0's address: {out:?}");
    assert_eq!(h.drops("f", DropReason::NotForUs), 6);
}

/// `config(R_IP)` plus tenant "red" routing between two bridges of its own: br30 (VLAN 30,
/// port e) and br40 (VLAN 40, ports f and g), with a route via [`RED_NH8`] or [`RED_NH9`].
fn red_router(route_via: Ipv4Addr) -> SwitchConfig {
    let mut c = config(R_IP);
    c.ports.extend([access("e", 30), access("f", 40), access("g", 40)]);
    let bridge =
        |name: &str, vlan, addr: &str, mac| routed_bridge(name, vlan, "red", addr, mac, None);
    c.bridges.push(bridge("br30", 30, "192.0.2.254/24", GW30));
    c.bridges.push(bridge("br40", 40, "10.40.0.254/24", GW40));
    c.vrfs.push(VrfConfig {
        name: "red".into(),
        routes: vec![RouteConfig { prefix: "198.51.100.0/24".into(), next_hop: route_via.into() }],
    });
    c
}

const GW40: MacAddr = MacAddr([2, 0, 0, 0, 0xfe, 40]);
const GW40_IP: Ipv4Addr = Ipv4Addr::new(10, 40, 0, 254);
const RED_HOST: Ipv4Addr = Ipv4Addr::new(10, 40, 0, 4);
const RED_NH8: Ipv4Addr = Ipv4Addr::new(10, 40, 0, 8);
const RED_NH9: Ipv4Addr = Ipv4Addr::new(10, 40, 0, 9);

impl H {
    /// Sends `f` on `port`: where it went (port, destination MAC) and whether it was one
    /// flow-cache hit (no miss, no stale entry).
    fn send_hit(&mut self, port: &str, f: &[u8]) -> (Vec<(String, MacAddr)>, bool) {
        let before = self.sw.flow_stats();
        let out = self.send(port, f);
        let after = self.sw.flow_stats();
        let hit = after.hits == before.hits + 1
            && (after.misses, after.invalidated) == (before.misses, before.invalidated);
        let to = out.into_iter().map(|(p, g)| (p, MacAddr(g[0..6].try_into().unwrap()))).collect();
        (to, hit)
    }
}

/// A routed flow depends on its ingress and egress bridges' MAC tables, its VRF's neighbours
/// and routes: what changes elsewhere (another tenant's MACs and neighbours) leaves it
/// cached, what it depends on makes it stale at once.
#[test]
fn a_routed_flow_goes_stale_with_what_it_depends_on_only() {
    let mut h =
        H { sw: Switch::new(red_router(RED_NH9), Instant::now()).unwrap(), now: Instant::now() };
    let ask =
        |m: MacAddr, ip: Ipv4Addr| arp(ArpOperation::REQUEST, m, ip, MacAddr::BROADCAST, GW40_IP);
    h.send("f", &ask(mac(40), RED_HOST));
    h.send("f", &ask(mac(48), RED_NH8));
    h.send("g", &ask(mac(49), RED_NH9));
    h.send("d", &arp(ArpOperation::REQUEST, mac(4), D_IP, MacAddr::BROADCAST, GW20_IP));
    let to_host = udp(mac(30), GW30, A_IP, RED_HOST, 64, 1);
    let to_host_via = |h: &mut H| h.send_hit("e", &to_host);
    h.send("e", &to_host);
    assert_eq!(to_host_via(&mut h), (vec![("f".into(), mac(40))], true));

    // Blue: a MAC learned, one moving (b to a), a neighbour changing its MAC.
    h.send("a", &udp(mac(1), mac(2), A_IP, B_IP, 64, 2));
    h.send("b", &udp(mac(2), mac(1), B_IP, A_IP, 64, 2));
    h.send("a", &udp(mac(2), mac(1), B_IP, A_IP, 64, 2));
    h.send("d", &arp(ArpOperation::REQUEST, mac(5), D_IP, MacAddr::BROADCAST, GW20_IP));
    assert_eq!(h.sw.neighbours().iter().filter(|n| n.mac == Some(mac(5).to_string())).count(), 1);
    assert_eq!(to_host_via(&mut h), (vec![("f".into(), mac(40))], true), "blue's changes");

    // Red's egress bridge: the host moves from f to g.
    h.send("g", &udp(mac(40), mac(49), RED_HOST, RED_NH9, 64, 3));
    assert_eq!(to_host_via(&mut h), (vec![("g".into(), mac(40))], false), "egress MAC moved");
    assert_eq!(to_host_via(&mut h), (vec![("g".into(), mac(40))], true));
    // Red's ingress bridge: a host appears there (its flows relearn their sources).
    h.send("e", &udp(mac(31), MacAddr::BROADCAST, A_IP, B_IP, 64, 4));
    assert!(!to_host_via(&mut h).1, "ingress MAC learned");
    assert!(to_host_via(&mut h).1);
    // The neighbour the flow goes to takes another MAC.
    h.send("g", &ask(mac(41), RED_HOST));
    assert_eq!(to_host_via(&mut h), (vec![("g".into(), mac(41))], false), "neighbour changed");

    // The route changes: the flow through it follows at once.
    let via = udp(mac(30), GW30, A_IP, Ipv4Addr::new(198, 51, 100, 7), 64, 5);
    h.send("e", &via);
    assert_eq!(h.send_hit("e", &via), (vec![("g".into(), mac(49))], true));
    h.sw.apply(red_router(RED_NH8), h.now).unwrap();
    assert_eq!(h.send_hit("e", &via), (vec![("f".into(), mac(48))], false), "route changed");
}

const GW60: MacAddr = MacAddr([2, 0, 0, 0, 0xfe, 60]);

/// [`red_router`] plus a third red bridge, br60 (VLAN 60, no ports), whose SVI is neither
/// end of red's flow: a change to it reaches red's flows through red's VRF only.
fn red_router_br60(red_via: Ipv4Addr, br60_address: &str) -> SwitchConfig {
    let mut c = red_router(red_via);
    c.bridges.push(routed_bridge("br60", 60, "red", br60_address, GW60, None));
    c
}

/// An apply stales a VRF's routed flows only when it changes what they are computed from:
/// another tenant's route, or a port and bridge of no VRF, leave them cached; the VRF's own
/// route or the address of one of its SVIs (neither the flow's ingress nor egress) make
/// them stale at once.
#[test]
fn an_apply_stales_only_the_routed_flows_of_the_vrfs_it_changes() {
    let base = red_router_br60(RED_NH9, "10.60.0.254/24");
    let mut h = H { sw: Switch::new(base.clone(), Instant::now()).unwrap(), now: Instant::now() };
    h.send("f", &arp(ArpOperation::REQUEST, mac(40), RED_HOST, MacAddr::BROADCAST, GW40_IP));
    h.send("d", &arp(ArpOperation::REQUEST, mac(4), D_IP, MacAddr::BROADCAST, GW20_IP));
    let red = udp(mac(30), GW30, A_IP, RED_HOST, 64, 1);
    let blue = udp(mac(1), GW10, A_IP, D_IP, 64, 1);
    h.send("e", &red);
    h.send("a", &blue);
    let red_to = vec![("f".to_string(), mac(40))];
    let blue_to = vec![("d".to_string(), mac(4))];
    // Where each flow went, and whether each was a cache hit.
    let both = |h: &mut H| {
        let (r, b) = (h.send_hit("e", &red), h.send_hit("a", &blue));
        assert_eq!((&r.0, &b.0), (&red_to, &blue_to), "the flows go where they went");
        (r.1, b.1)
    };
    assert_eq!(both(&mut h), (true, true), "both cached");

    // Blue's route moves to another next hop.
    let mut c = base.clone();
    c.vrfs[0].routes[0].next_hop = Ipv4Addr::new(203, 0, 113, 10).into();
    h.sw.apply(c.clone(), h.now).unwrap();
    assert_eq!(both(&mut h), (true, false), "blue's route changed: red kept, blue stale");
    assert_eq!(both(&mut h), (true, true));

    // A port in a bridge of its own, routed by no VRF.
    c.ports.push(access("h", 70));
    c.bridges.push(BridgeConfig {
        name: "br70".into(),
        vlan: Some(70),
        vni: None,
        ageing_secs: 300,
        mac_limit: 100,
        svi: None,
    });
    h.sw.apply(c.clone(), h.now).unwrap();
    assert_eq!(both(&mut h), (true, true), "an unrelated port and bridge: both kept");

    // The address of red's third SVI: red's connected subnets changed.
    let br60 = c.bridges.iter().position(|b| b.name == "br60").unwrap();
    c.bridges[br60].svi.as_mut().unwrap().address = "10.61.0.254/24".into();
    h.sw.apply(c.clone(), h.now).unwrap();
    assert_eq!(both(&mut h), (false, true), "red's SVI address changed: red stale");
    assert_eq!(both(&mut h), (true, true));

    // Red's route.
    c.vrfs[1].routes[0].next_hop = RED_NH8.into();
    h.sw.apply(c.clone(), h.now).unwrap();
    assert_eq!(both(&mut h), (false, true), "red's route changed: red stale");
    assert_eq!(both(&mut h), (true, true));

    // The same configuration again changes nothing.
    h.sw.apply(c, h.now).unwrap();
    assert_eq!(both(&mut h), (true, true), "an identical apply: both kept");
}

/// A VRF removed and another added shift the VRFs' indexes: a flow cached under red, whose
/// bridges now route in green (at blue's former index), is routed by green, never served
/// red's verdict, whatever the epochs each VRF had reached (red's neighbour changes make
/// red's run ahead of blue's by a varying amount).
#[test]
fn a_flow_never_hits_under_another_vrf_when_vrf_indexes_shift() {
    for changes in 0..8u8 {
        let now = Instant::now();
        let mut h = H { sw: Switch::new(red_router(RED_NH9), now).unwrap(), now };
        let ask = |m: MacAddr, ip: Ipv4Addr| {
            arp(ArpOperation::REQUEST, m, ip, MacAddr::BROADCAST, GW40_IP)
        };
        h.send("f", &ask(mac(40), RED_HOST));
        // Each moves red's neighbour RED_NH8 to another MAC.
        for i in 0..changes {
            h.send("f", &ask(mac(48 + (i % 2) * 2), RED_NH8));
        }
        let red = udp(mac(30), GW30, A_IP, RED_HOST, 64, 1);
        h.send("e", &red);
        assert_eq!(h.send_hit("e", &red), (vec![("f".into(), mac(40))], true), "{changes}");

        // Red goes, green comes first: green takes blue's index, blue red's, and red's
        // bridges route in green, which has not resolved RED_HOST yet.
        let mut c = red_router(RED_NH9);
        c.vrfs.retain(|v| v.name == "blue");
        c.vrfs.insert(0, VrfConfig { name: "green".into(), routes: vec![] });
        for b in &mut c.bridges {
            if let Some(svi) = b.svi.as_mut().filter(|s| s.vrf == "red") {
                svi.vrf = "green".into();
            }
        }
        h.sw.apply(c, h.now).unwrap();
        let (to, hit) = h.send_hit("e", &red);
        assert!(!hit, "red's entry hit under green after {changes} neighbour changes");
        assert!(
            !to.contains(&("f".into(), mac(40))),
            "routed with red's neighbour after {changes} neighbour changes: {to:?}"
        );
        assert_eq!(h.drops("e", DropReason::NeighbourUnresolved), 1, "{changes}");
    }
}
