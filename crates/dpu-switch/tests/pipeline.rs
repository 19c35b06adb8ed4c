//! Deterministic tests of the sans-IO pipeline with hand-built frames and virtual time.
#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use dpu_switch::config::{
    BridgeConfig, Encap, PortConfig, PortMode, RemoteVtepConfig, StaticMacConfig, SviConfig,
    SwitchConfig, VrfConfig, VtepConfig,
};
use dpu_switch::{DropReason, PacketBuf, PortId, Rx, Switch, Tx};
use dpu_wire::arp::{ArpOperation, ArpPacket, ArpRepr};
use dpu_wire::dissect::dissect;
use dpu_wire::encap::{self, Tunnel, Underlay, UnderlayAddrs};
use dpu_wire::ethernet::{EthernetRepr, VlanTag, parse_l2};
use dpu_wire::ipv4::{Ipv4Packet, Ipv4Repr};
use dpu_wire::udp::UdpRepr;
use dpu_wire::{Error, EtherType, IpProtocol, MacAddr};

const LOCAL_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 10);
const REMOTE_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
const LOCAL_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x10]);
const REMOTE_VTEP_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 0x20]);

fn mac(n: u8) -> MacAddr {
    MacAddr([2, 0, 0, 0, 1, n])
}

fn access(name: &str, vlan: u16) -> PortConfig {
    PortConfig { name: name.into(), mode: PortMode::Access { vlan }, mtu: 1500, admin_up: true }
}

fn bridge(name: &str, vlan: u16, vni: Option<u32>) -> BridgeConfig {
    BridgeConfig {
        name: name.into(),
        vlan: Some(vlan),
        vni,
        ageing_secs: 300,
        mac_limit: 100,
        svi: None,
    }
}

/// Ports a, b, c in VLAN 10, d in VLAN 20, trunk t (10, 20 tagged; native 30), uplink p0;
/// bridge br10 is VNI 100 with remote VTEP 198.51.100.2 in its flood list.
fn config() -> SwitchConfig {
    SwitchConfig {
        ports: vec![
            access("a", 10),
            access("b", 10),
            access("c", 10),
            access("d", 20),
            PortConfig {
                name: "t".into(),
                mode: PortMode::Trunk { vlans: vec![10, 20], native_vlan: Some(30) },
                mtu: 1500,
                admin_up: true,
            },
            PortConfig { name: "p0".into(), mode: PortMode::Uplink, mtu: 1500, admin_up: true },
        ],
        bridges: vec![bridge("br10", 10, Some(100)), bridge("br20", 20, None)],
        vtep: Some(VtepConfig {
            uplink: "p0".into(),
            local_ip: LOCAL_IP,
            prefix_len: 24,
            gateway: None,
            local_mac: Some(LOCAL_MAC.to_string()),
            udp_checksum: false,
            ttl: 64,
            remotes: vec![RemoteVtepConfig { ip: REMOTE_IP, vnis: vec![100], encap: Encap::Vxlan }],
            learn_remotes: true,
        }),
        static_macs: vec![],
        flow_cache_size: 0,
        vrfs: vec![],
    }
}

/// An Ethernet + IPv4 + UDP frame from host `src` to `dst` (MAC), optionally tagged.
fn udp_frame(src: u8, dst: MacAddr, vlan: Option<u16>, sport: u16, payload_len: usize) -> Vec<u8> {
    let tags: Vec<VlanTag> = vlan.map(VlanTag::c_tag).into_iter().collect();
    let eth = EthernetRepr { dst, src: mac(src), vlans: &tags, ethertype: EtherType::IPV4 };
    let mut f = vec![0u8; eth.header_len() + 28 + payload_len];
    let l3 = eth.emit(&mut f).unwrap();
    let ip = Ipv4Repr::new(
        Ipv4Addr::new(192, 0, 2, src),
        Ipv4Addr::new(192, 0, 2, dst.0[5]),
        IpProtocol::UDP,
        8 + payload_len,
    );
    let l4 = l3 + ip.emit(&mut f[l3..]).unwrap();
    UdpRepr { src_port: sport, dst_port: 9 }.emit(&mut f[l4..], payload_len).unwrap();
    f
}

struct Harness {
    sw: Switch,
    now: Instant,
}

impl Harness {
    fn new(c: SwitchConfig) -> Self {
        let now = Instant::now();
        Harness { sw: Switch::new(c, now).unwrap(), now }
    }

    fn id(&self, name: &str) -> PortId {
        self.sw.port_id(name).unwrap()
    }

    fn send(&mut self, port: &str, frames: &[Vec<u8>]) -> Vec<(String, Vec<u8>)> {
        let id = self.id(port);
        let mut rx: Vec<Rx> =
            frames.iter().map(|f| Rx { port: id, buf: PacketBuf::from_frame(f) }).collect();
        let mut out = Vec::new();
        self.sw.process(self.now, &mut rx, &mut out);
        assert!(rx.is_empty());
        self.named(out)
    }

    /// Sends `frame` into `port` marked with a checksum left to offload (as a packet socket
    /// hands over a VM's frame); returns what left the switch, still as packet buffers.
    fn send_csum_pending(&mut self, port: &str, frame: &[u8]) -> Vec<Tx> {
        let mut buf = PacketBuf::from_frame(frame);
        buf.set_csum_pending(true);
        let mut rx = vec![Rx { port: self.id(port), buf }];
        let mut out = Vec::new();
        self.sw.process(self.now, &mut rx, &mut out);
        out
    }

    fn named(&self, out: Vec<Tx>) -> Vec<(String, Vec<u8>)> {
        let names = self.sw.port_names();
        out.into_iter()
            .map(|t| {
                let name = names.iter().find(|(id, _)| *id == t.port).unwrap().1.clone();
                (name, t.buf.frame().to_vec())
            })
            .collect()
    }

    fn drops(&self, port: &str, r: DropReason) -> u64 {
        self.sw.port_counters(self.id(port)).unwrap().drops.get(r)
    }

    /// Frames meant for `port` that the pipeline dropped on their way out, for `r`.
    fn tx_drops(&self, port: &str, r: DropReason) -> u64 {
        self.sw.port_counters(self.id(port)).unwrap().tx_drops.get(r)
    }

    fn tick(&mut self, by: Duration) -> Vec<(String, Vec<u8>)> {
        self.now += by;
        let mut out = Vec::new();
        self.sw.tick(self.now, &mut out);
        self.named(out)
    }

    /// Resolves the remote VTEP: answers the switch's ARP request.
    fn resolve_remote(&mut self) {
        let arp = arp_frame(ArpOperation::REPLY, REMOTE_VTEP_MAC, REMOTE_IP, LOCAL_MAC, LOCAL_IP);
        assert!(self.send("p0", &[arp]).is_empty());
    }
}

fn ports_of(out: &[(String, Vec<u8>)]) -> Vec<&str> {
    let mut v: Vec<&str> = out.iter().map(|(p, _)| p.as_str()).collect();
    v.sort_unstable();
    v
}

fn arp_frame(
    op: ArpOperation,
    smac: MacAddr,
    sip: Ipv4Addr,
    tmac: MacAddr,
    tip: Ipv4Addr,
) -> Vec<u8> {
    let dst = if op == ArpOperation::REQUEST { MacAddr::BROADCAST } else { tmac };
    let eth = EthernetRepr { dst, src: smac, vlans: &[], ethertype: EtherType::ARP };
    let mut f = vec![0u8; 42];
    let hl = eth.emit(&mut f).unwrap();
    ArpRepr { operation: op, sender_mac: smac, sender_ip: sip, target_mac: tmac, target_ip: tip }
        .emit(&mut f[hl..])
        .unwrap();
    f
}

/// A VXLAN packet from the remote VTEP carrying `inner`.
fn vxlan_from_remote(inner: &[u8], vni: u32, dst_ip: Ipv4Addr) -> Vec<u8> {
    let u = Underlay {
        dst_mac: LOCAL_MAC,
        src_mac: REMOTE_VTEP_MAC,
        vlan: None,
        addrs: UnderlayAddrs::V4 { src: REMOTE_IP, dst: dst_ip },
        ttl: 64,
        dscp: 0,
        src_port: 51000,
        udp_checksum_v4: true,
    };
    let t = Tunnel::Vxlan { vni };
    let hl = encap::header_len(&u, &t);
    let mut buf = vec![0u8; hl + inner.len()];
    buf[hl..].copy_from_slice(inner);
    encap::encapsulate(&mut buf, &u, &t, inner.len()).unwrap();
    buf
}

/// A VXLAN packet (VNI 100) carrying host `host`'s UDP frame to host 1, as from the remote
/// VTEP but with the outer source address `ip` (outer UDP checksum zero, since the source
/// changed).
fn vxlan_from_outer_source(ip: Ipv4Addr, host: u8) -> Vec<u8> {
    with_outer_source(vxlan_from_remote(&udp_frame(host, mac(1), None, 1, 10), 100, LOCAL_IP), ip)
}

/// `pkt`, a VXLAN or Geneve packet from the remote VTEP, with the outer source address `ip`
/// (outer UDP checksum zero, since the source changed).
fn with_outer_source(mut pkt: Vec<u8>, ip: Ipv4Addr) -> Vec<u8> {
    let mut outer = Ipv4Packet::new_checked(&mut pkt[14..]).unwrap();
    outer.set_src(ip);
    outer.fill_checksum();
    pkt[14 + 20 + 6..14 + 20 + 8].fill(0);
    pkt
}

#[test]
fn learning_flooding_and_vlan_isolation() {
    let mut h = Harness::new(config());
    h.resolve_remote();
    // Unknown destination: flooded to the other VLAN 10 members (b, c, the trunk tagged,
    // the remote VTEP), never to a itself or to d in VLAN 20.
    let f = udp_frame(1, mac(2), None, 1000, 10);
    let out = h.send("a", std::slice::from_ref(&f));
    assert_eq!(ports_of(&out), vec!["b", "c", "p0", "t"]);
    for (p, frame) in &out {
        match p.as_str() {
            "b" | "c" => assert_eq!(frame, &f),
            "t" => {
                let l2 = parse_l2(frame).unwrap();
                assert_eq!(l2.vlans.outer().map(|t| t.vid), Some(10));
                assert_eq!(frame.len(), f.len() + 4);
            }
            _ => {}
        }
    }
    // b answers: a was learned, so the answer goes to a only.
    let back = udp_frame(2, mac(1), None, 9, 10);
    assert_eq!(ports_of(&h.send("b", &[back])), vec!["a"]);
    // and now a → b is unicast.
    assert_eq!(ports_of(&h.send("a", &[udp_frame(1, mac(2), None, 1001, 10)])), vec!["b"]);
    // d (VLAN 20) floods only within VLAN 20: the trunk, tagged 20.
    let out = h.send("d", &[udp_frame(4, MacAddr::BROADCAST, None, 5, 10)]);
    assert_eq!(ports_of(&out), vec!["t"]);
    assert_eq!(parse_l2(&out[0].1).unwrap().vlans.outer().map(|t| t.vid), Some(20));
    // d can never reach a, even knowing its MAC.
    assert_eq!(ports_of(&h.send("d", &[udp_frame(4, mac(1), None, 5, 10)])), vec!["t"]);
    let table = h.sw.mac_table(h.now);
    assert!(
        table.iter().any(|e| e.bridge == "br10" && e.mac == mac(1).to_string() && e.dest == "a")
    );
    assert!(
        table.iter().any(|e| e.bridge == "br20" && e.mac == mac(4).to_string() && e.dest == "d")
    );
}

#[test]
fn trunk_tagging_untagging_and_vlan_rules() {
    let mut h = Harness::new(config());
    // Tagged 20 from the trunk reaches d untagged.
    let tagged = udp_frame(9, MacAddr::BROADCAST, Some(20), 1, 10);
    let out = h.send("t", std::slice::from_ref(&tagged));
    assert_eq!(ports_of(&out), vec!["d"]);
    assert_eq!(out[0].1, udp_frame(9, MacAddr::BROADCAST, None, 1, 10));
    // Untagged on the trunk is VLAN 30: no bridge.
    assert!(h.send("t", &[udp_frame(9, MacAddr::BROADCAST, None, 1, 10)]).is_empty());
    assert_eq!(h.drops("t", DropReason::NoBridge), 1);
    // VLAN 99 is not allowed on the trunk; a tagged frame on an access port neither.
    assert!(h.send("t", &[udp_frame(9, MacAddr::BROADCAST, Some(99), 1, 10)]).is_empty());
    assert_eq!(h.drops("t", DropReason::VlanNotAllowed), 1);
    assert!(h.send("a", &[udp_frame(1, MacAddr::BROADCAST, Some(10), 1, 10)]).is_empty());
    assert_eq!(h.drops("a", DropReason::VlanNotAllowed), 1);
    // A priority-tagged frame (VID 0) on an access port is untagged traffic.
    h.resolve_remote();
    let out = h.send("a", &[udp_frame(1, mac(9), Some(0), 1, 10)]);
    assert_eq!(ports_of(&out), vec!["b", "c", "p0", "t"]);
    let to_b = out.iter().find(|(p, _)| p == "b").unwrap();
    assert_eq!(to_b.1, udp_frame(1, mac(9), None, 1, 10));
    // 9 speaks on the trunk in VLAN 10: a reaches it by unicast, tagged 10.
    h.send("t", &[udp_frame(9, MacAddr::BROADCAST, Some(10), 1, 10)]);
    let out = h.send("a", &[udp_frame(1, mac(9), None, 2, 10)]);
    assert_eq!(ports_of(&out), vec!["t"]);
    assert_eq!(out[0].1, udp_frame(1, mac(9), Some(10), 2, 10));
}

#[test]
fn ageing_static_macs_and_limits() {
    let mut c = config();
    c.bridges[0].ageing_secs = 10;
    c.bridges[0].mac_limit = 2;
    c.static_macs.push(StaticMacConfig {
        bridge: "br10".into(),
        mac: mac(7).to_string(),
        port: Some("c".into()),
        vtep: None,
    });
    let mut h = Harness::new(c);
    h.resolve_remote();
    h.send("b", &[udp_frame(2, MacAddr::BROADCAST, None, 1, 10)]);
    assert_eq!(ports_of(&h.send("a", &[udp_frame(1, mac(2), None, 1, 10)])), vec!["b"]);
    // The static MAC is never learned elsewhere and never ages.
    assert_eq!(ports_of(&h.send("a", &[udp_frame(1, mac(7), None, 1, 10)])), vec!["c"]);
    h.send("b", &[udp_frame(7, MacAddr::BROADCAST, None, 1, 10)]);
    assert_eq!(ports_of(&h.send("a", &[udp_frame(1, mac(7), None, 3, 10)])), vec!["c"]);
    // Limit 2 (1 and 2 learned): 3 is not learned, its frames still flood.
    h.send("c", &[udp_frame(3, MacAddr::BROADCAST, None, 1, 10)]);
    assert_eq!(h.sw.counters().mac_limit_hits, 1);
    let out = h.send("a", &[udp_frame(1, mac(3), None, 1, 10)]);
    assert_eq!(ports_of(&out), vec!["b", "c", "p0", "t"]);
    // After the ageing time 2 is forgotten: flooded again; 7 still static.
    h.tick(Duration::from_secs(11));
    assert_eq!(
        ports_of(&h.send("a", &[udp_frame(1, mac(2), None, 1, 10)])),
        vec!["b", "c", "p0", "t"]
    );
    assert_eq!(ports_of(&h.send("a", &[udp_frame(1, mac(7), None, 1, 10)])), vec!["c"]);
}

#[test]
fn cached_frames_keep_their_source_mac_alive() {
    let mut c = config();
    c.bridges[0].ageing_secs = 10;
    let mut h = Harness::new(c);
    h.resolve_remote();
    h.send("b", &[udp_frame(2, MacAddr::BROADCAST, None, 1, 10)]);
    // 1 and 2 learned; then their flows are cached, and only hits refresh them.
    let (a_to_b, b_to_a) = (udp_frame(1, mac(2), None, 1, 10), udp_frame(2, mac(1), None, 1, 10));
    assert_eq!(ports_of(&h.send("a", std::slice::from_ref(&a_to_b))), vec!["b"]);
    assert_eq!(ports_of(&h.send("b", std::slice::from_ref(&b_to_a))), vec!["a"]);
    for _ in 0..4 {
        h.tick(Duration::from_secs(6));
        let hits = h.sw.flow_stats().hits;
        assert_eq!(ports_of(&h.send("a", std::slice::from_ref(&a_to_b))), vec!["b"]);
        assert_eq!(ports_of(&h.send("b", std::slice::from_ref(&b_to_a))), vec!["a"]);
        assert_eq!(h.sw.flow_stats().hits, hits + 2);
    }
    // 24 s after they were learned both are known; silent for longer than the ageing
    // time, they are forgotten: frames to 1 are flooded again.
    h.tick(Duration::from_secs(6));
    h.tick(Duration::from_secs(6));
    assert_eq!(ports_of(&h.send("b", &[b_to_a])), vec!["a", "c", "p0", "t"]);
}

#[test]
fn vxlan_encap_decap_round_trip_and_arp() {
    let mut h = Harness::new(config());
    // The switch asks for the remote VTEP's MAC on its own (tick) ...
    let out = h.tick(Duration::from_millis(1));
    assert_eq!(ports_of(&out), vec!["p0"]);
    let req = ArpPacket::new_checked(&out[0].1[14..]).unwrap();
    assert_eq!(
        (req.operation(), req.target_ip(), req.sender_ip()),
        (ArpOperation::REQUEST, REMOTE_IP, LOCAL_IP)
    );
    assert_eq!(out[0].1.len(), 60, "padded to the Ethernet minimum");
    // ... and until it knows, encapsulated frames are dropped and counted.
    let f = udp_frame(1, MacAddr::BROADCAST, None, 1, 10);
    assert_eq!(ports_of(&h.send("a", std::slice::from_ref(&f))), vec!["b", "c", "t"]);
    assert_eq!(h.tx_drops("p0", DropReason::NeighbourUnresolved), 1);
    // The remote asks for our VTEP address: we answer.
    let ask = arp_frame(ArpOperation::REQUEST, REMOTE_VTEP_MAC, REMOTE_IP, MacAddr::ZERO, LOCAL_IP);
    let out = h.send("p0", &[ask]);
    assert_eq!(ports_of(&out), vec!["p0"]);
    let rep = ArpPacket::new_checked(&out[0].1[14..]).unwrap();
    assert_eq!(
        (rep.operation(), rep.sender_mac(), rep.sender_ip()),
        (ArpOperation::REPLY, LOCAL_MAC, LOCAL_IP)
    );
    assert_eq!(h.sw.counters().arp_replies, 1);
    // An ARP for someone else is not ours.
    let other = arp_frame(
        ArpOperation::REQUEST,
        REMOTE_VTEP_MAC,
        REMOTE_IP,
        MacAddr::ZERO,
        Ipv4Addr::new(198, 51, 100, 77),
    );
    assert!(h.send("p0", &[other]).is_empty());
    assert_eq!(h.drops("p0", DropReason::NotForUs), 1);
    h.resolve_remote();

    // Broadcast from a now also goes to the remote VTEP, encapsulated.
    let f = udp_frame(1, MacAddr::BROADCAST, None, 1234, 10);
    let out = h.send("a", std::slice::from_ref(&f));
    let (_, enc) = out.iter().find(|(p, _)| p == "p0").unwrap();
    let info = dissect(enc).unwrap();
    let t = info.tunnel.unwrap();
    assert_eq!(t.vni, 100);
    assert_eq!(&enc[t.inner_offset..t.inner_end], &f[..]);
    assert_eq!(info.l2.dst, REMOTE_VTEP_MAC);
    assert_eq!(info.l2.src, LOCAL_MAC);
    let l3 = info.l3.unwrap();
    assert_eq!((l3.src, l3.dst), (LOCAL_IP.into(), REMOTE_IP.into()));
    let (sport, dport) = info.l4.unwrap().ports().unwrap();
    assert!(sport >= 49152 && dport == 4789);
    let ip = dpu_wire::ipv4::Ipv4Packet::new_checked(&enc[14..]).unwrap();
    assert!(ip.verify_checksum() && ip.dont_frag());

    // A frame from a VM behind the remote VTEP, to a.
    let inner = udp_frame(0x33, mac(1), None, 77, 10);
    let out = h.send("p0", &[vxlan_from_remote(&inner, 100, LOCAL_IP)]);
    assert_eq!(out, vec![("a".to_string(), inner.clone())]);
    assert!(
        h.sw.mac_table(h.now)
            .iter()
            .any(|e| e.mac == mac(0x33).to_string() && e.dest == format!("vtep:{REMOTE_IP}"))
    );
    // a answers: one encapsulated copy, to the remote VTEP only.
    let answer = udp_frame(1, mac(0x33), None, 1234, 10);
    let out = h.send("a", std::slice::from_ref(&answer));
    assert_eq!(ports_of(&out), vec!["p0"]);
    let t = dissect(&out[0].1).unwrap().tunnel.unwrap();
    assert_eq!(&out[0].1[t.inner_offset..t.inner_end], &answer[..]);
    // Same flow, same entropy; the source port is a function of the inner flow.
    let again = h.send("a", std::slice::from_ref(&answer));
    assert_eq!(dissect(&again[0].1).unwrap().l4, dissect(&out[0].1).unwrap().l4);

    // Broadcast from the overlay goes to local ports only (split horizon).
    let bcast = udp_frame(0x33, MacAddr::BROADCAST, None, 1, 10);
    assert_eq!(
        ports_of(&h.send("p0", &[vxlan_from_remote(&bcast, 100, LOCAL_IP)])),
        vec!["a", "b", "c", "t"]
    );

    // Unknown VNI, inner VLAN tag, wrong address, bad outer checksum: dropped with reasons.
    h.send("p0", &[vxlan_from_remote(&inner, 999, LOCAL_IP)]);
    assert_eq!(h.drops("p0", DropReason::UnknownVni), 1);
    h.send("p0", &[vxlan_from_remote(&udp_frame(0x33, mac(1), Some(10), 1, 10), 100, LOCAL_IP)]);
    assert_eq!(h.drops("p0", DropReason::InnerVlan), 1);
    h.send("p0", &[vxlan_from_remote(&inner, 100, Ipv4Addr::new(198, 51, 100, 99))]);
    assert_eq!(h.drops("p0", DropReason::NotForUs), 2);
    let mut bad = vxlan_from_remote(&inner, 100, LOCAL_IP);
    bad[14 + 10] ^= 0xff;
    h.send("p0", &[bad]);
    assert_eq!(h.drops("p0", DropReason::Wire(Error::BadChecksum)), 1);
    let s = h.sw.status();
    assert_eq!(s.vteps[0].next_hop_mac.as_deref(), Some(REMOTE_VTEP_MAC.to_string().as_str()));
    assert!(s.counters.encapsulated >= 3 && s.counters.decapsulated >= 2);
}

#[test]
fn learned_remote_vtep_gets_unicast_not_floods() {
    let mut h = Harness::new(config());
    h.resolve_remote();
    let other = Ipv4Addr::new(198, 51, 100, 3);
    let mut pkt = vxlan_from_remote(&udp_frame(0x44, mac(1), None, 1, 10), 100, LOCAL_IP);
    // Rewrite the outer source address (and fix the header checksum; the UDP checksum,
    // over the old address, is left out).
    let mut ip = dpu_wire::ipv4::Ipv4Packet::new_checked(&mut pkt[14..]).unwrap();
    ip.set_src(other);
    ip.fill_checksum();
    pkt[14 + 20 + 6..14 + 20 + 8].fill(0);
    // Unknown destination: flooded to local ports only.
    assert_eq!(ports_of(&h.send("p0", &[pkt])), vec!["a", "b", "c", "t"]);
    let s = h.sw.status();
    assert!(s.vteps.iter().any(|v| v.ip == other && v.learned && v.next_hop_mac.is_some()));
    let out = h.send("a", &[udp_frame(1, mac(0x44), None, 1, 10)]);
    assert_eq!(ports_of(&out), vec!["p0"]);
    assert_eq!(dissect(&out[0].1).unwrap().l3.unwrap().dst, std::net::IpAddr::V4(other));
    // Floods still reach only the configured flood list.
    let out = h.send("a", &[udp_frame(1, MacAddr::BROADCAST, None, 1, 10)]);
    let encs: Vec<_> = out.iter().filter(|(p, _)| p == "p0").collect();
    assert_eq!(encs.len(), 1);
    assert_eq!(dissect(&encs[0].1).unwrap().l3.unwrap().dst, std::net::IpAddr::V4(REMOTE_IP));
}

#[test]
fn flow_cache_hits_counters_and_invalidation() {
    let mut h = Harness::new(config());
    h.send("b", &[udp_frame(2, MacAddr::BROADCAST, None, 1, 10)]);
    let f = udp_frame(1, mac(2), None, 4242, 100);
    let before = h.sw.flow_stats();
    for _ in 0..10 {
        assert_eq!(ports_of(&h.send("a", std::slice::from_ref(&f))), vec!["b"]);
    }
    let after = h.sw.flow_stats();
    assert_eq!(after.misses - before.misses, 1);
    assert_eq!(after.hits - before.hits, 9);
    let page = h.sw.flows(h.now, 0, 100);
    let flow = page.flows.iter().find(|fl| fl.key.contains("4242")).unwrap();
    assert_eq!((flow.packets, flow.bytes, flow.action.as_str()), (10, 10 * f.len() as u64, "b"));
    // Paging: one per page visits every flow once.
    let mut token = Some(0);
    let mut seen = 0;
    while let Some(t) = token {
        let p = h.sw.flows(h.now, t, 1);
        seen += p.flows.len();
        token = p.next;
    }
    assert_eq!(seen, page.total);

    // Removing port b takes effect on the existing flow at once.
    let mut c = config();
    c.ports.retain(|p| p.name != "b");
    h.sw.apply(c, h.now).unwrap();
    let out = h.send("a", std::slice::from_ref(&f));
    assert!(!ports_of(&out).contains(&"b"), "{:?}", ports_of(&out));
    assert_eq!(h.sw.flow_stats().invalidated, after.invalidated + 1);
    assert!(h.sw.port_id("b").is_none());

    // Admin down stops a port at once, both ways.
    let mut c = config();
    c.ports[2].admin_up = false; // c
    h.sw.apply(c, h.now).unwrap();
    assert!(h.send("c", &[udp_frame(3, MacAddr::BROADCAST, None, 1, 10)]).is_empty());
    assert_eq!(h.drops("c", DropReason::PortDown), 1);
    let out = h.send("a", &[udp_frame(1, MacAddr::BROADCAST, None, 1, 10)]);
    assert!(!ports_of(&out).contains(&"c"));

    // A MAC move re-steers existing flows at once: 2 now appears on c... (c is down) on d's
    // VLAN it is another bridge, so move it to the trunk in VLAN 10.
    h.send("t", &[udp_frame(2, MacAddr::BROADCAST, Some(10), 1, 10)]);
    let out = h.send("a", std::slice::from_ref(&f));
    assert_eq!(ports_of(&out), vec!["t"]);
    // An invalid configuration changes nothing.
    let mut bad = config();
    bad.bridges[1].vlan = Some(10);
    assert!(h.sw.apply(bad, h.now).is_err());
    assert_eq!(ports_of(&h.send("a", std::slice::from_ref(&f))), vec!["t"]);
    // Idle flows expire.
    h.tick(dpu_switch::FLOW_IDLE + Duration::from_secs(1));
    assert_eq!(h.sw.flow_stats().entries, 0);
}

#[test]
fn same_port_and_mtu() {
    let mut c = config();
    c.ports[1].mtu = 100; // b
    let mut h = Harness::new(c);
    h.send("a", &[udp_frame(1, MacAddr::BROADCAST, None, 1, 10)]);
    // To a MAC behind the ingress port: filtered.
    assert!(h.send("a", &[udp_frame(5, mac(1), None, 1, 10)]).is_empty());
    assert_eq!(h.drops("a", DropReason::SamePort), 1);
    // Bigger than b's MTU: not accepted on b, not sent to b.
    assert!(h.send("b", &[udp_frame(2, mac(1), None, 1, 200)]).is_empty());
    assert_eq!(h.drops("b", DropReason::MtuExceeded), 1);
    let out = h.send("a", &[udp_frame(1, MacAddr::BROADCAST, None, 1, 200)]);
    assert!(!ports_of(&out).contains(&"b"));
    assert_eq!(h.drops("b", DropReason::MtuExceeded), 1);
    assert_eq!(h.tx_drops("b", DropReason::MtuExceeded), 1);
    // Encapsulated size over the uplink MTU: dropped, never fragmented.
    h.resolve_remote();
    let out = h.send("a", &[udp_frame(1, MacAddr::BROADCAST, None, 1, 1472)]);
    assert!(!ports_of(&out).contains(&"p0"));
    assert_eq!(h.tx_drops("p0", DropReason::MtuExceeded), 1);
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn malformed_bursts_are_counted_and_good_traffic_flows() {
    let mut h = Harness::new(config());
    h.resolve_remote();
    h.send("b", &[udp_frame(2, MacAddr::BROADCAST, None, 1, 10)]);
    let good = udp_frame(1, mac(2), None, 7, 10);
    let mut truncated = good.clone();
    truncated.truncate(20);
    let mut bad_ihl = good.clone();
    bad_ihl[14] = 0x44;
    let mut bad_src = good.clone();
    bad_src[6] = 0x01;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut frames = Vec::new();
    for i in 0..2000 {
        frames.push(match i % 5 {
            0 => good.clone(),
            1 => truncated.clone(),
            2 => bad_ihl.clone(),
            3 => bad_src.clone(),
            _ => {
                // Random bytes behind a valid-looking Ethernet/IPv4 start.
                let len = (rng.next() % 200) as usize;
                let mut f = good[..14.min(len)].to_vec();
                f.extend((f.len()..len).map(|_| rng.next() as u8));
                f
            }
        });
    }
    let out = h.send("a", &frames);
    assert_eq!(out.iter().filter(|(p, f)| p == "b" && *f == good).count(), 400);
    assert!(h.drops("a", DropReason::Wire(Error::Truncated)) >= 400);
    assert!(h.drops("a", DropReason::Wire(Error::BadHeaderLength)) >= 400);
    assert_eq!(h.drops("a", DropReason::BadSrcMac), 400);
    let st = h.sw.status();
    let a = st.ports.iter().find(|p| p.name == "a").unwrap();
    assert_eq!(a.counters.rx_packets, 2000);
    assert!(a.counters.drops_total >= 1200);
    // Random garbage on every port, the uplink included, never panics.
    for port in ["a", "t", "p0"] {
        let garbage: Vec<Vec<u8>> = (0..3000)
            .map(|_| {
                let len = (rng.next() % 120) as usize;
                let mut f: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                if len > 14 && rng.next().is_multiple_of(2) {
                    // Make deeper layers reachable: our MAC, IPv4 or ARP.
                    f[..6].copy_from_slice(&LOCAL_MAC.0);
                    f[12..14].copy_from_slice(if rng.next().is_multiple_of(3) {
                        &[8, 6]
                    } else {
                        &[8, 0]
                    });
                    f[14] = 0x45;
                }
                f
            })
            .collect();
        h.send(port, &garbage);
    }
    assert_eq!(ports_of(&h.send("a", std::slice::from_ref(&good))), vec!["b"]);
}

/// A Geneve packet from the remote VTEP carrying `inner`.
fn geneve_from_remote(
    inner: &[u8],
    vni: u32,
    oam: bool,
    options: &[dpu_wire::geneve::GeneveOption<'_>],
) -> Vec<u8> {
    let u = Underlay {
        dst_mac: LOCAL_MAC,
        src_mac: REMOTE_VTEP_MAC,
        vlan: None,
        addrs: UnderlayAddrs::V4 { src: REMOTE_IP, dst: LOCAL_IP },
        ttl: 64,
        dscp: 0,
        src_port: 51000,
        udp_checksum_v4: true,
    };
    let t = Tunnel::Geneve { vni, oam, options };
    let hl = encap::header_len(&u, &t);
    let mut buf = vec![0u8; hl + inner.len()];
    buf[hl..].copy_from_slice(inner);
    encap::encapsulate(&mut buf, &u, &t, inner.len()).unwrap();
    buf
}

#[test]
fn geneve_encap_decap_round_trip() {
    let mut c = config();
    c.vtep.as_mut().unwrap().remotes[0].encap = Encap::Geneve;
    let mut h = Harness::new(c);
    h.resolve_remote();
    let f = udp_frame(1, MacAddr::BROADCAST, None, 99, 10);
    let out = h.send("a", std::slice::from_ref(&f));
    let (_, enc) = out.iter().find(|(p, _)| p == "p0").unwrap();
    let info = dissect(enc).unwrap();
    let t = info.tunnel.unwrap();
    assert_eq!((t.kind, t.vni), (dpu_wire::dissect::TunnelKind::Geneve, 100));
    assert_eq!(&enc[t.inner_offset..t.inner_end], &f[..]);
    assert_eq!(info.l4.unwrap().ports().unwrap().1, 6081);
    // From the remote: delivered; with a critical option we cannot process: dropped
    // (RFC 8926 §3.4); an OAM packet is not for tenants.
    let inner = udp_frame(0x55, mac(1), None, 7, 10);
    let out = h.send("p0", &[geneve_from_remote(&inner, 100, false, &[])]);
    assert_eq!(out, vec![("a".to_string(), inner.clone())]);
    let opt = [dpu_wire::geneve::GeneveOption { class: 0x0103, option_type: 0x80, data: &[0; 4] }];
    assert!(h.send("p0", &[geneve_from_remote(&inner, 100, false, &opt)]).is_empty());
    assert_eq!(h.drops("p0", DropReason::Wire(Error::BadOption)), 1);
    let harmless =
        [dpu_wire::geneve::GeneveOption { class: 0x0103, option_type: 0x01, data: &[0; 4] }];
    assert_eq!(h.send("p0", &[geneve_from_remote(&inner, 100, false, &harmless)]).len(), 1);
    assert!(h.send("p0", &[geneve_from_remote(&inner, 100, true, &[])]).is_empty());
    assert_eq!(h.drops("p0", DropReason::NotForUs), 1);
    // Unicast back to the VM behind the remote: Geneve again.
    let out = h.send("a", &[udp_frame(1, mac(0x55), None, 7, 10)]);
    assert_eq!(ports_of(&out), vec!["p0"]);
    assert_eq!(
        dissect(&out[0].1).unwrap().tunnel.unwrap().kind,
        dpu_wire::dissect::TunnelKind::Geneve
    );
    let flows = h.sw.flows(h.now, 0, 100).flows;
    assert!(flows.iter().any(|f| f.action == "geneve:100@198.51.100.2"), "{flows:?}");
}

#[test]
fn outer_udp_checksum_when_asked() {
    let mut c = config();
    c.vtep.as_mut().unwrap().udp_checksum = true;
    let mut h = Harness::new(c);
    h.resolve_remote();
    let out = h.send("a", &[udp_frame(1, MacAddr::BROADCAST, None, 3, 33)]);
    let (_, enc) = out.iter().find(|(p, _)| p == "p0").unwrap();
    let ip = dpu_wire::ipv4::Ipv4Packet::new_checked(&enc[14..]).unwrap();
    assert!(ip.verify_checksum());
    let u = dpu_wire::udp::UdpPacket::new_checked(ip.payload()).unwrap();
    assert_ne!(u.checksum(), 0);
    assert!(u.check_checksum_v4(ip.src(), ip.dst()).is_ok());
    // Two flows that differ only in their inner ports get their own entropy; the same flow
    // always the same (RFC 7348 §5).
    let sport = |h: &mut Harness, p: u16| {
        let out = h.send("a", &[udp_frame(1, MacAddr::BROADCAST, None, p, 33)]);
        let (_, enc) = out.iter().find(|(port, _)| port == "p0").unwrap().clone();
        dissect(&enc).unwrap().l4.unwrap().ports().unwrap().0
    };
    let ports: std::collections::HashSet<u16> = (0..32).map(|p| sport(&mut h, 4000 + p)).collect();
    assert!(ports.len() > 16, "entropy spreads flows: {ports:?}");
    assert_eq!(sport(&mut h, 4000), sport(&mut h, 4000));
}

#[test]
fn a_change_invalidates_only_the_flows_it_affects() {
    let mut h = Harness::new(config());
    h.send("b", &[udp_frame(2, MacAddr::BROADCAST, None, 1, 10)]);
    let f = udp_frame(1, mac(2), None, 77, 10);
    h.send("a", std::slice::from_ref(&f));
    let before = h.sw.flow_stats();
    // br20 changes (its only access port goes down): br10's flows stay cached.
    let mut c = config();
    c.ports[3].admin_up = false; // d
    h.sw.apply(c.clone(), h.now).unwrap();
    assert_eq!(ports_of(&h.send("a", std::slice::from_ref(&f))), vec!["b"]);
    let after = h.sw.flow_stats();
    assert_eq!((after.hits - before.hits, after.invalidated), (1, before.invalidated));
    // The same configuration again changes nothing either.
    h.sw.apply(c.clone(), h.now).unwrap();
    h.send("a", std::slice::from_ref(&f));
    assert_eq!(h.sw.flow_stats().invalidated, before.invalidated);
    // br10 changes (b's MTU): its flow is recomputed on the next frame.
    c.ports[1].mtu = 1400;
    h.sw.apply(c, h.now).unwrap();
    assert_eq!(ports_of(&h.send("a", std::slice::from_ref(&f))), vec!["b"]);
    assert_eq!(h.sw.flow_stats().invalidated, before.invalidated + 1);
    assert!(h.sw.status().config_epoch >= 4);
}

/// A VXLAN frame whose sender left a checksum to offload (the packet socket cannot say
/// whether the outer UDP or the inner L4 one): after decapsulation the inner checksum is
/// complete and the frame no longer marked, so no later device "completes" a final sum.
#[test]
fn decapsulation_completes_a_pending_checksum() {
    use dpu_wire::udp::UdpPacket;
    let mut h = Harness::new(config());
    h.resolve_remote();
    // The switch learns where host 1 is.
    h.send("a", &[udp_frame(1, MacAddr::BROADCAST, None, 1, 10)]);
    let (src, dst) = (Ipv4Addr::new(192, 0, 2, 0x33), Ipv4Addr::new(192, 0, 2, 1));
    let mut inner = udp_frame(0x33, mac(1), None, 77, 10);
    UdpPacket::new_checked(&mut inner[34..]).unwrap().fill_checksum_v4(src, dst);
    // The same frame with only the pseudo-header sum in its checksum field.
    let mut partial = inner.clone();
    let sum = dpu_wire::checksum::pseudo_header_v4(src, dst, IpProtocol::UDP, 18);
    UdpPacket::new_checked(&mut partial[34..]).unwrap().set_checksum(sum);
    for (what, frame) in [("outer pending", &inner), ("inner pending", &partial)] {
        let out = h.send_csum_pending("p0", &vxlan_from_remote(frame, 100, LOCAL_IP));
        assert_eq!(out.len(), 1, "{what}");
        assert!(!out[0].buf.csum_pending(), "{what}");
        assert_eq!(out[0].buf.frame(), &inner[..], "{what}");
    }
}

/// A TCP/IPv4 frame (DF, ACK|PSH) from host `src` to `dst` (MAC) with `payload_len` octets.
fn tcp_frame(src: u8, dst: MacAddr, payload_len: usize) -> Vec<u8> {
    use dpu_wire::tcp::{TcpFlags, TcpPacket, TcpRepr};
    let eth = EthernetRepr { dst, src: mac(src), vlans: &[], ethertype: EtherType::IPV4 };
    let mut f = vec![0u8; 14 + 20 + 20 + payload_len];
    let l3 = eth.emit(&mut f).unwrap();
    let (s, d) = (Ipv4Addr::new(192, 0, 2, src), Ipv4Addr::new(192, 0, 2, dst.0[5]));
    let l4 =
        l3 + Ipv4Repr::new(s, d, IpProtocol::TCP, 20 + payload_len).emit(&mut f[l3..]).unwrap();
    let tcp = TcpRepr {
        src_port: 40000,
        dst_port: 5201,
        seq: 1,
        ack: 1,
        flags: TcpFlags(TcpFlags::ACK.0 | TcpFlags::PSH.0),
        window: 512,
    };
    tcp.emit(&mut f[l4..]).unwrap();
    for (k, b) in f[l4 + 20..].iter_mut().enumerate() {
        *b = k as u8;
    }
    TcpPacket::new_checked(&mut f[l4..]).unwrap().fill_checksum_v4(s, d);
    f
}

/// A TCP super-frame (what GRO hands a packet socket) of `payload_len` octets in `size`-octet
/// segments from host `src` to `dst`.
fn super_frame(src: u8, dst: MacAddr, payload_len: usize, size: u16) -> PacketBuf {
    let f = tcp_frame(src, dst, payload_len);
    let mut buf = PacketBuf::from_frame(&f);
    buf.set_gso(Some(dpu_switch::offload::tcp_gso(&f, size, false).unwrap()));
    buf
}

#[test]
fn tcp_super_frames_leave_whole_or_cut_where_they_must() {
    let mut h = Harness::new(config());
    h.resolve_remote();
    // Host 2 behind b, host 3 behind the trunk in VLAN 10, host 0x33 behind the remote VTEP.
    h.send("b", &[udp_frame(2, MacAddr::BROADCAST, None, 1, 10)]);
    h.send("t", &[udp_frame(3, MacAddr::BROADCAST, Some(10), 1, 10)]);
    h.send("p0", &[vxlan_from_remote(&udp_frame(0x33, mac(9), None, 1, 10), 100, LOCAL_IP)]);
    let process = |h: &mut Harness, buf: PacketBuf| {
        let mut rx = vec![Rx { port: h.id("a"), buf }];
        let mut out = Vec::new();
        h.sw.process(h.now, &mut rx, &mut out);
        out
    };
    let tx_of = |h: &Harness, p: &str| h.sw.port_counters(h.id(p)).unwrap().tx_packets;
    // To an access port: whole, counted as the three segments it stands for.
    let whole = super_frame(1, mac(2), 4000, 1448);
    let before = tx_of(&h, "b");
    let out = process(&mut h, whole.clone());
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].buf.frame(), out[0].buf.gso()), (whole.frame(), whole.gso()));
    assert_eq!(tx_of(&h, "b") - before, 3);
    // Out of a trunk port, tagged: cut into its segments, each tagged and checksummed.
    let out = process(&mut h, super_frame(1, mac(3), 4000, 1448));
    assert_eq!(out.len(), 3);
    let mut payload = Vec::new();
    for t in &out {
        let f = t.buf.frame();
        assert!(t.buf.gso().is_none() && !t.buf.csum_pending());
        assert_eq!(&f[12..16], &[0x81, 0x00, 0x00, 10]);
        let info = dissect(f).unwrap();
        assert!(info.l3.unwrap().end - 18 <= 1500);
        let tcp = dpu_wire::tcp::TcpPacket::new_checked(&f[38..]).unwrap();
        let (s, d) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 3));
        tcp.check_checksum_v4(s, d).unwrap();
        payload.extend_from_slice(tcp.payload());
    }
    assert_eq!(payload, tcp_frame(1, mac(3), 4000)[54..]);
    // Into the overlay: cut, then each segment encapsulated whole within the uplink's MTU.
    let out = process(&mut h, super_frame(1, mac(0x33), 4000, 1400));
    assert_eq!(out.len(), 3);
    for t in &out {
        let info = dissect(t.buf.frame()).unwrap();
        let inner = &t.buf.frame()[info.tunnel.unwrap().inner_offset..];
        assert!(t.buf.len() - 14 <= 1500 && inner.len() <= 14 + 40 + 1400);
        let inner_info = dissect(inner).unwrap();
        let l3 = inner_info.l3.unwrap();
        let tcp = dpu_wire::tcp::TcpPacket::new_checked(&inner[l3.l4_offset..l3.end]).unwrap();
        let (s, d) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 0x33));
        tcp.check_checksum_v4(s, d).unwrap();
    }
    // Segments larger than the egress MTU: dropped like any oversized frame.
    let before = h.drops("a", DropReason::MtuExceeded);
    assert!(process(&mut h, super_frame(1, mac(2), 4000, 1480)).is_empty());
    assert_eq!(h.drops("a", DropReason::MtuExceeded) - before, 1);
}

/// A VTEP whose MAC is not known yet (its uplink does not exist yet, so the service could
/// not fill it in) does not hold the rest of the configuration back: it is applied
/// inactive, local switching serves, and the same configuration with the MAC turns it on.
#[test]
fn a_vtep_without_its_mac_waits_and_the_rest_serves() {
    let mut waiting = config();
    waiting.vtep.as_mut().unwrap().local_mac = None;
    let mut h = Harness::new(waiting.clone());
    assert!(h.sw.status().local_vtep.is_none(), "inactive without its MAC");
    let f = udp_frame(1, MacAddr::BROADCAST, None, 1, 10);
    assert_eq!(ports_of(&h.send("a", std::slice::from_ref(&f))), vec!["b", "c", "t"]);
    assert!(h.tick(Duration::from_millis(1)).is_empty(), "no ARP for remotes while inactive");
    let mut known = waiting;
    known.vtep.as_mut().unwrap().local_mac = Some(LOCAL_MAC.to_string());
    h.sw.apply(known, h.now).unwrap();
    assert!(h.sw.status().local_vtep.is_some(), "active with it");
    assert_eq!(ports_of(&h.tick(Duration::from_millis(1))), vec!["p0"], "asks for the remote");
}

/// With the config's ports `c` replaced by `name` (same VLAN).
fn with_c_renamed(name: &str) -> SwitchConfig {
    let mut c = config();
    for p in &mut c.ports {
        if p.name == "c" {
            p.name = name.into();
        }
    }
    c
}

/// A removed port's id rests `PORT_ID_REST` before a new port takes it, and the new port
/// inherits nothing: no learned MAC, no flow, no counter. Without reuse, names churned over a
/// switch's life would exhaust the 16-bit ids and refuse every later change.
#[test]
fn a_removed_ports_id_is_reused_only_after_it_rested_and_carries_nothing() {
    let mut h = Harness::new(config());
    h.resolve_remote();
    let c = h.id("c");
    // c's MAC learned, a → c cached.
    assert!(!h.send("c", &[udp_frame(3, mac(1), None, 7, 10)]).is_empty());
    assert_eq!(ports_of(&h.send("a", &[udp_frame(1, mac(3), None, 8, 10)])), vec!["c"]);

    // Removed and replaced in one apply, and again a second later: fresh ids.
    h.sw.apply(with_c_renamed("e"), h.now).unwrap();
    let e = h.id("e");
    assert_ne!(e, c);
    h.now += Duration::from_secs(1);
    h.sw.apply(with_c_renamed("f"), h.now).unwrap();
    let f = h.id("f");
    assert!(f != c && f != e);

    // Once rested, the oldest freed id goes first.
    h.now += dpu_switch::PORT_ID_REST;
    h.sw.apply(with_c_renamed("g"), h.now).unwrap();
    assert_eq!(h.id("g"), c);
    let counters = h.sw.port_counters(c).unwrap();
    assert_eq!((counters.rx_packets, counters.tx_packets), (0, 0));
    // a → c's old MAC is unknown now: flooded, not sent to g as if it were c.
    let out = h.send("a", &[udp_frame(1, mac(3), None, 8, 10)]);
    assert_eq!(ports_of(&out), vec!["b", "g", "p0", "t"]);
    assert!(h.sw.mac_table(h.now).iter().all(|m| m.mac != mac(3).to_string()));
}

/// Ids run out only when more than 65,535 ports were named within `PORT_ID_REST`; the
/// refused change changes nothing, and the same change applies once ids have rested.
#[test]
fn port_ids_run_out_only_within_the_rest_and_the_refusal_changes_nothing() {
    let ports = |round: usize| -> SwitchConfig {
        SwitchConfig {
            ports: (0..4096).map(|i| access(&format!("r{round}p{i}"), 10)).collect(),
            bridges: vec![bridge("br10", 10, None)],
            ..SwitchConfig::default()
        }
    };
    let mut h = Harness::new(ports(0));
    // 15 sets of 4,096 names took 61,440 ids; a 16th finds 4,095 left.
    for round in 1..15 {
        h.sw.apply(ports(round), h.now).unwrap();
    }
    let err = h.sw.apply(ports(15), h.now).unwrap_err();
    assert!(err.to_string().contains("port ids exhausted"), "{err}");
    assert_eq!(h.sw.config().ports[0].name, "r14p0", "the refused change changed nothing");
    h.now += dpu_switch::PORT_ID_REST;
    h.sw.apply(ports(15), h.now).unwrap();
    assert_eq!(h.sw.port_names().len(), 4096);
    assert!(h.sw.port_names().iter().all(|(id, _)| id.0 < 4096), "the oldest rested ids reused");
}

/// A datagram larger than the MTU leaves its sender in fragments; both are bridged. The
/// first fragment's UDP length covers the whole datagram, longer than the fragment (it was
/// dropped as truncated); a tenant's UDP to the VXLAN port that holds no VXLAN header is
/// bridged as the UDP it is.
#[test]
fn fragments_and_udp_to_overlay_ports_are_bridged() {
    let mut h = Harness::new(config());
    h.resolve_remote();
    assert!(!h.send("b", &[udp_frame(2, mac(1), None, 7, 10)]).is_empty());
    let mut first = udp_frame(1, mac(2), None, 5353, 1000);
    let l3 = 14;
    first[l3 + 6] = 0x20; // MF, offset 0
    first[l3 + 10..l3 + 12].fill(0);
    Ipv4Packet::new_checked(&mut first[l3..]).unwrap().fill_checksum();
    first[l3 + 20 + 4..l3 + 20 + 6].copy_from_slice(&2000u16.to_be_bytes());
    let out = h.send("a", std::slice::from_ref(&first));
    assert_eq!(ports_of(&out), vec!["b"], "the first fragment");
    assert_eq!(out[0].1, first);
    let mut second = udp_frame(1, mac(2), None, 0, 400);
    second[l3 + 6..l3 + 8].copy_from_slice(&(1000u16 / 8 + 1).to_be_bytes()); // offset only
    second[l3 + 9] = 17;
    second[l3 + 10..l3 + 12].fill(0);
    Ipv4Packet::new_checked(&mut second[l3..]).unwrap().fill_checksum();
    assert_eq!(ports_of(&h.send("a", &[second])), vec!["b"], "the second fragment");
    let mut to_vxlan_port = udp_frame(1, mac(2), None, 9, 4);
    to_vxlan_port[l3 + 20 + 2..l3 + 20 + 4].copy_from_slice(&4789u16.to_be_bytes());
    assert_eq!(ports_of(&h.send("a", &[to_vxlan_port])), vec!["b"]);
    assert_eq!(h.drops("a", DropReason::Wire(Error::Truncated)), 0);
}

/// Frames to the reserved group addresses 01:80:C2:00:00:00-0F (STP, PAUSE, LACP, 802.1X,
/// LLDP) are link-local: a bridge forwards them nowhere (IEEE 802.1Q Table 8-1), neither to
/// other ports nor to remote VTEPs; 01:80:C2:00:00:10 and up are flooded as any multicast.
#[test]
fn reserved_group_addresses_are_not_forwarded() {
    let mut h = Harness::new(config());
    h.resolve_remote();
    for last in [0x00, 0x01, 0x02, 0x03, 0x0E, 0x0F] {
        let group = MacAddr([0x01, 0x80, 0xC2, 0, 0, last]);
        assert!(h.send("a", &[udp_frame(1, group, None, 5, 10)]).is_empty(), "{group}");
    }
    assert_eq!(h.drops("a", DropReason::ReservedGroup), 6);
    let beyond = MacAddr([0x01, 0x80, 0xC2, 0, 0, 0x10]);
    let out = h.send("a", &[udp_frame(1, beyond, None, 5, 10)]);
    assert_eq!(ports_of(&out), vec!["b", "c", "p0", "t"]);
}

/// A VXLAN packet whose non-zero outer UDP checksum does not verify (a bit flipped on the
/// way) is dropped before decapsulation: its inner frame is not bridged and its source MAC
/// not learned. A zero checksum (not computed, RFC 7348 §5) is accepted.
#[test]
fn a_bad_outer_udp_checksum_is_dropped_before_decapsulation() {
    let mut h = Harness::new(config());
    h.resolve_remote();
    let inner = udp_frame(9, MacAddr::BROADCAST, None, 5, 20);
    let mut corrupt = vxlan_from_remote(&inner, 100, LOCAL_IP);
    let at = corrupt.len() - inner.len() + 6 + 5; // the inner source MAC's last byte
    corrupt[at] ^= 0x40;
    assert!(h.send("p0", &[corrupt]).is_empty());
    assert_eq!(h.drops("p0", DropReason::Wire(Error::BadChecksum)), 1);
    assert!(h.sw.mac_table(h.now).iter().all(|m| m.bridge != "br10"), "nothing learned");
    let mut unchecked = vxlan_from_remote(&inner, 100, LOCAL_IP);
    let udp = 14 + 20;
    unchecked[udp + 6..udp + 8].fill(0);
    assert_eq!(ports_of(&h.send("p0", &[unchecked])), vec!["a", "b", "c", "t"]);
    // A packet the receiving device marked verified (VIRTIO_NET_HDR_F_DATA_VALID) is not
    // summed again: here its checksum field is wrong and it still goes through.
    let mut marked = vxlan_from_remote(&inner, 100, LOCAL_IP);
    marked[udp + 6] ^= 0xff;
    let mut buf = PacketBuf::from_frame(&marked);
    buf.set_csum_valid(true);
    let mut rx = vec![Rx { port: h.id("p0"), buf }];
    let mut out = Vec::new();
    h.sw.process(h.now, &mut rx, &mut out);
    assert_eq!(out.len(), 4, "decapsulated and flooded");
    assert_eq!(h.drops("p0", DropReason::Wire(Error::BadChecksum)), 1, "no new drop");
}

/// A learned remote VTEP nothing arrived from for 300 s is forgotten with the MACs behind
/// it (Linux's VXLAN FDB ages likewise): frames to those MACs flood again rather than go
/// to a VTEP that may be gone or was spoofed; one that keeps sending stays.
#[test]
fn learned_remote_vteps_age_out_with_their_macs() {
    let mut c = config();
    c.bridges[0].ageing_secs = 3600;
    let mut h = Harness::new(c);
    h.resolve_remote();
    let from = vxlan_from_outer_source;
    let (quiet, busy) = (Ipv4Addr::new(198, 51, 100, 3), Ipv4Addr::new(198, 51, 100, 4));
    h.send("p0", &[from(quiet, 0x44), from(busy, 0x55)]);
    let learned = |h: &Harness| -> Vec<Ipv4Addr> {
        h.sw.status().vteps.iter().filter(|v| v.learned).map(|v| v.ip).collect()
    };
    assert_eq!(learned(&h), vec![quiet, busy]);
    for _ in 0..3 {
        h.tick(Duration::from_secs(100));
        h.send("p0", &[from(busy, 0x55)]);
        // The configured remote answers its next hop probe.
        h.resolve_remote();
    }
    h.tick(Duration::from_secs(1));
    assert_eq!(learned(&h), vec![busy], "the quiet one forgotten");
    assert!(h.sw.mac_table(h.now).iter().all(|m| m.mac != mac(0x44).to_string()));
    let to_quiet = h.send("a", &[udp_frame(1, mac(0x44), None, 1, 10)]);
    assert_eq!(ports_of(&to_quiet), vec!["b", "c", "p0", "t"], "flooded");
    let encs: Vec<_> = to_quiet.iter().filter(|(p, _)| p == "p0").collect();
    assert_eq!(dissect(&encs[0].1).unwrap().l3.unwrap().dst, std::net::IpAddr::V4(REMOTE_IP));
    let to_busy = h.send("a", &[udp_frame(1, mac(0x55), None, 1, 10)]);
    assert_eq!(dissect(&to_busy[0].1).unwrap().l3.unwrap().dst, std::net::IpAddr::V4(busy));
}

/// The priority of a frame's VLAN tag travels with it (IEEE 802.1Q §6.9.3, as Linux's
/// bridge and OVS keep it): a priority-tagged frame (VID 0, PCP 5) from an access port
/// leaves the trunk tagged with its VLAN and PCP 5; and a frame the trunk receives tagged
/// with its native VLAN's ID belongs to that VLAN, as an untagged one does.
#[test]
fn vlan_priority_is_kept_and_the_native_vlan_may_come_tagged() {
    let mut h = Harness::new(config());
    let mut prio = udp_frame(1, MacAddr::BROADCAST, Some(0), 1, 10);
    prio[14] |= 5 << 5; // PCP 5 in the TCI
    let out = h.send("a", &[prio]);
    let (_, to_t) = out.iter().find(|(p, _)| p == "t").unwrap();
    let mut want = udp_frame(1, MacAddr::BROADCAST, Some(10), 1, 10);
    want[14] |= 5 << 5;
    assert_eq!(to_t, &want, "tagged 10 with PCP 5");
    let (_, to_b) = out.iter().find(|(p, _)| p == "b").unwrap();
    assert_eq!(to_b, &udp_frame(1, MacAddr::BROADCAST, None, 1, 10), "untagged");
    let mut c = config();
    c.ports[4].mode = PortMode::Trunk { vlans: vec![20], native_vlan: Some(10) };
    let mut h = Harness::new(c);
    let native_tagged = udp_frame(9, MacAddr::BROADCAST, Some(10), 2, 10);
    let out = h.send("t", &[native_tagged]);
    assert_eq!(ports_of(&out), vec!["a", "b", "c", "p0"]);
    assert_eq!(h.drops("t", DropReason::VlanNotAllowed), 0);
}

/// A VXLAN packet whose outer source is not a remote unicast address (multicast,
/// broadcast, class E, the underlay subnet's broadcast, "this network", loopback, or our
/// own VTEP address) is not decapsulated and
/// teaches nothing: RFC 1122 §3.2.1.3 has a host discard it, Linux's input route drops it
/// as a martian source before its VXLAN socket sees it, and the configuration refuses
/// such a remote VTEP. Learning one would send the tenant MACs behind it to a multicast
/// group, a broadcast or ourselves.
#[test]
fn a_martian_outer_source_is_neither_decapsulated_nor_learned() {
    let mut h = Harness::new(config());
    h.resolve_remote();
    let from = vxlan_from_outer_source;
    let martians = [
        Ipv4Addr::new(224, 0, 0, 9),
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(240, 0, 0, 1),
        Ipv4Addr::new(255, 255, 255, 254),
        Ipv4Addr::new(198, 51, 100, 255),
        Ipv4Addr::UNSPECIFIED,
        Ipv4Addr::new(0, 1, 2, 3),
        Ipv4Addr::new(127, 0, 0, 1),
        LOCAL_IP,
    ];
    for (i, ip) in martians.into_iter().enumerate() {
        let host = 0x60 + i as u8;
        assert!(h.send("p0", &[from(ip, host)]).is_empty(), "{ip} decapsulated");
        assert!(h.sw.status().vteps.iter().all(|v| !v.learned), "{ip} learned as a VTEP");
        assert!(h.sw.mac_table(h.now).iter().all(|m| m.mac != mac(host).to_string()));
    }
    assert_eq!(h.drops("p0", DropReason::Martian), martians.len() as u64);
    assert_eq!(h.sw.counters().decapsulated, 0);
    // A unicast one is still learned.
    let other = Ipv4Addr::new(198, 51, 100, 3);
    assert_eq!(ports_of(&h.send("p0", &[from(other, 0x44)])), vec!["a", "b", "c", "t"]);
    assert!(h.sw.status().vteps.iter().any(|v| v.ip == other && v.learned));
}

/// The outer source MAC of an on-link remote VTEP's packet refreshes its next hop's MAC
/// only when it is a unicast address (as ARP's sender MAC must be): a frame with a
/// multicast or zero source (IEEE 802.3 §3.2.3: never a source; Linux's bridge drops it)
/// does not redirect the overlay traffic to that remote.
#[test]
fn a_non_unicast_outer_source_mac_is_not_taken_for_the_next_hop() {
    let mut h = Harness::new(config());
    h.resolve_remote();
    // Host 0x44 learned behind the remote.
    let pkt = vxlan_from_remote(&udp_frame(0x44, mac(1), None, 1, 10), 100, LOCAL_IP);
    assert_eq!(ports_of(&h.send("p0", &[pkt])), vec!["a", "b", "c", "t"]);
    for bad in [MacAddr([0x01, 0x00, 0x5e, 0, 0, 1]), MacAddr::BROADCAST, MacAddr::ZERO] {
        let mut pkt = vxlan_from_remote(&udp_frame(0x44, mac(1), None, 2, 10), 100, LOCAL_IP);
        pkt[6..12].copy_from_slice(&bad.0);
        h.send("p0", &[pkt]);
        let out = h.send("a", &[udp_frame(1, mac(0x44), None, 1, 10)]);
        assert_eq!(ports_of(&out), vec!["p0"]);
        let outer = parse_l2(&out[0].1).unwrap();
        assert_eq!(outer.dst, REMOTE_VTEP_MAC, "next hop's MAC taken from {bad}");
    }
}

/// A tenant running its own overlay (VXLAN with UDP checksums, as an IPv6-underlay VXLAN
/// device or an OVN Geneve tunnel has them) sends an inner frame that had no checksum to
/// offload: Linux's `udp_set_csum` then leaves the tenant's *outer* UDP checksum partial
/// and its inner frame final. Whether the switch encapsulates it into its own overlay or a
/// port's backend completes it, the tenant's UDP checksum leaves complete; it was left as
/// the bare pseudo-header sum (the inner frame was completed instead), and the receiving
/// tenant's stack dropped every such packet (its ARP, its pings).
#[test]
fn a_tenant_overlay_packet_with_a_partial_outer_checksum_leaves_complete() {
    use dpu_wire::udp::UdpPacket;
    let mut h = Harness::new(config());
    h.resolve_remote();
    // Host 0x44 behind the remote VTEP, host 2 on port b.
    let pkt = vxlan_from_remote(&udp_frame(0x44, mac(9), None, 1, 10), 100, LOCAL_IP);
    h.send("p0", &[pkt]);
    h.send("b", &[udp_frame(2, mac(9), None, 1, 10)]);
    // The tenant's overlay packet: its own VXLAN (VNI 7) carrying an ARP request, from
    // 192.0.2.1 (host 1) to the host `to`; outer UDP checksum partial.
    let tenant = |to: u8| {
        let inner = arp_frame(
            ArpOperation::REQUEST,
            MacAddr([2, 0, 0, 0, 7, 1]),
            Ipv4Addr::new(10, 7, 0, 1),
            MacAddr::ZERO,
            Ipv4Addr::new(10, 7, 0, 2),
        );
        let (s, d) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, to));
        let u = Underlay {
            dst_mac: mac(to),
            src_mac: mac(1),
            vlan: None,
            addrs: UnderlayAddrs::V4 { src: s, dst: d },
            ttl: 64,
            dscp: 0,
            src_port: 40000,
            udp_checksum_v4: false,
        };
        let t = Tunnel::Vxlan { vni: 7 };
        let hl = encap::header_len(&u, &t);
        let mut f = vec![0u8; hl + inner.len()];
        f[hl..].copy_from_slice(&inner);
        encap::encapsulate(&mut f, &u, &t, inner.len()).unwrap();
        let udp_len = u16::try_from(f.len() - 34).unwrap();
        let sum = dpu_wire::checksum::pseudo_header_v4(s, d, IpProtocol::UDP, udp_len);
        UdpPacket::new_checked(&mut f[34..]).unwrap().set_checksum(sum);
        (f, s, d)
    };
    let complete = |f: &[u8], s, d| {
        let u = UdpPacket::new_checked(&f[34..]).unwrap();
        u.checksum() != 0 && u.check_checksum_v4(s, d).is_ok()
    };
    // Into the switch's overlay: the tenant packet is the inner frame of ours.
    let (f, s, d) = tenant(0x44);
    let out = h.send_csum_pending("a", &f);
    assert_eq!(out.len(), 1);
    let ours = dissect(out[0].buf.frame()).unwrap().tunnel.unwrap();
    let carried = &out[0].buf.frame()[ours.inner_offset..ours.inner_end];
    assert!(complete(carried, s, d), "the tenant's outer UDP checksum left partial");
    // Bridged to a local port: what the port's backend completes before sending.
    let (f, s, d) = tenant(2);
    let mut out = h.send_csum_pending("a", &f);
    assert_eq!(out.len(), 1);
    let mut sent = out.remove(0).buf;
    sent.complete_csum();
    assert!(complete(sent.frame(), s, d), "the tenant's outer UDP checksum left partial");
}

/// ECN codepoints (RFC 3168 §5).
const NOT_ECT: u8 = 0;
const ECT1: u8 = 1;
const ECT0: u8 = 2;
const CE: u8 = 3;

/// Host `src`'s UDP frame to `dst` (as `udp_frame`) with ECN field `ecn`, checksum refilled.
fn udp_frame_ecn(src: u8, dst: MacAddr, ecn: u8) -> Vec<u8> {
    let mut f = udp_frame(src, dst, None, 4000, 10);
    let mut ip = Ipv4Packet::new_checked(&mut f[14..]).unwrap();
    ip.set_dscp_ecn(0x0a, ecn);
    ip.fill_checksum();
    f
}

/// Host `src`'s IPv6 UDP frame to `dst` with traffic class DSCP 10 and ECN field `ecn`.
fn udp6_frame_ecn(src: u8, dst: MacAddr, ecn: u8) -> Vec<u8> {
    use dpu_wire::ipv6::Ipv6Repr;
    let eth = EthernetRepr { dst, src: mac(src), vlans: &[], ethertype: EtherType::IPV6 };
    let mut f = vec![0u8; 14 + 40 + 8 + 10];
    let l3 = eth.emit(&mut f).unwrap();
    let (s, d) = ("2001:db8::1".parse().unwrap(), "2001:db8::2".parse().unwrap());
    let repr =
        Ipv6Repr { traffic_class: (0x0a << 2) | ecn, ..Ipv6Repr::new(s, d, IpProtocol::UDP, 18) };
    let l4 = l3 + repr.emit(&mut f[l3..]).unwrap();
    UdpRepr { src_port: 5, dst_port: 9 }.emit(&mut f[l4..], 10).unwrap();
    f
}

/// The ECN field of the IPv4 or IPv6 header after the untagged Ethernet header of `f`.
fn ecn_of(f: &[u8]) -> u8 {
    match f[12..14] {
        [0x08, 0x00] => f[15] & 3,
        [0x86, 0xdd] => (f[15] >> 4) & 3,
        _ => panic!("not IP"),
    }
}

/// A VXLAN packet from the remote VTEP carrying `inner`, its outer ECN field `ecn`.
fn vxlan_with_outer_ecn(inner: &[u8], ecn: u8) -> Vec<u8> {
    let mut pkt = vxlan_from_remote(inner, 100, LOCAL_IP);
    let mut outer = Ipv4Packet::new_checked(&mut pkt[14..]).unwrap();
    outer.set_dscp_ecn(0, ecn);
    outer.fill_checksum();
    pkt
}

/// Encapsulation copies the inner ECN field to the outer header (RFC 6040 §4.1 normal
/// mode), so congestion on the underlay can be marked; the outer DSCP stays ours.
#[test]
fn encapsulation_copies_the_inner_ecn_field() {
    let mut h = Harness::new(config());
    h.resolve_remote();
    for (inner, ecn) in [
        (udp_frame_ecn(1, MacAddr::BROADCAST, ECT0), ECT0),
        (udp_frame_ecn(1, MacAddr::BROADCAST, CE), CE),
        (udp6_frame_ecn(1, MacAddr::BROADCAST, ECT1), ECT1),
        (udp6_frame_ecn(1, MacAddr::BROADCAST, NOT_ECT), NOT_ECT),
    ] {
        let out = h.send("a", std::slice::from_ref(&inner));
        let (_, enc) = out.iter().find(|(p, _)| p == "p0").unwrap();
        let outer = Ipv4Packet::new_checked(&enc[14..]).unwrap();
        assert_eq!((outer.ecn(), outer.dscp()), (ecn, 0), "inner ECN {ecn}");
        assert!(outer.verify_checksum());
        assert_eq!(&enc[enc.len() - inner.len()..], &inner[..], "inner unchanged");
    }
}

/// Decapsulation combines the outer ECN field with the inner one by RFC 6040 §4.2's table:
/// a Congestion Experienced mark on the outer header reaches an ECN-capable inner one
/// (IPv4 header checksum updated), and a packet whose transport cannot be told is dropped.
#[test]
fn decapsulation_passes_congestion_marks_on() {
    let mut h = Harness::new(config());
    h.resolve_remote();
    // a is known: the inner frames go to it only.
    h.send("a", &[udp_frame(1, MacAddr::BROADCAST, None, 1, 10)]);
    // (inner ECN, outer ECN, inner ECN delivered)
    let table = [
        (ECT0, CE, CE),
        (ECT1, CE, CE),
        (CE, CE, CE),
        (ECT0, ECT1, ECT1),
        (ECT1, ECT0, ECT1),
        (ECT0, NOT_ECT, ECT0),
        (CE, ECT0, CE),
        (NOT_ECT, ECT0, NOT_ECT),
        (NOT_ECT, ECT1, NOT_ECT),
    ];
    for (inner_ecn, outer_ecn, want) in table {
        for inner in
            [udp_frame_ecn(0x33, mac(1), inner_ecn), udp6_frame_ecn(0x33, mac(1), inner_ecn)]
        {
            let out = h.send("p0", &[vxlan_with_outer_ecn(&inner, outer_ecn)]);
            let ctx = format!("inner {inner_ecn} outer {outer_ecn} {:?}", &inner[12..14]);
            assert_eq!(out.len(), 1, "{ctx}");
            let (port, got) = &out[0];
            assert_eq!((port.as_str(), ecn_of(got)), ("a", want), "{ctx}");
            if got[12..14] == [0x08, 0x00] {
                let ip = Ipv4Packet::new_checked(&got[14..]).unwrap();
                assert!(ip.verify_checksum(), "{ctx}");
                assert_eq!(ip.dscp(), 0x0a, "{ctx}");
                assert_eq!(
                    (&got[..15], &got[16..24], &got[26..]),
                    (&inner[..15], &inner[16..24], &inner[26..])
                );
            } else {
                assert_eq!((got[14], got[15] & 0xcf), (inner[14], inner[15] & 0xcf), "{ctx}");
                assert_eq!(&got[16..], &inner[16..], "{ctx}");
            }
        }
    }
    // Outer CE on a packet whose transport is not ECN-capable: dropped and counted.
    for (n, inner) in [udp_frame_ecn(0x33, mac(1), NOT_ECT), udp6_frame_ecn(0x33, mac(1), NOT_ECT)]
        .iter()
        .enumerate()
    {
        assert!(h.send("p0", &[vxlan_with_outer_ecn(inner, CE)]).is_empty());
        assert_eq!(h.drops("p0", DropReason::EcnCeNotEct), n as u64 + 1);
    }
    // Not IP (ARP): nothing to mark, delivered as it came.
    let arp = arp_frame(
        ArpOperation::REQUEST,
        mac(0x33),
        Ipv4Addr::new(192, 0, 2, 0x33),
        MacAddr::ZERO,
        Ipv4Addr::new(192, 0, 2, 1),
    );
    let out = h.send("p0", &[vxlan_with_outer_ecn(&arp, CE)]);
    assert!(out.iter().any(|(p, f)| p == "a" && f == &arp), "{out:?}");
}

/// A static MAC change in one overlay bridge renumbers the remote VTEPs that static MACs
/// name; a flow of another bridge cached with the old number must not follow it to another
/// tenant's VTEP, nor lose its frames silently when the number is gone.
#[test]
fn renumbered_remote_vteps_never_redirect_another_bridges_flows() {
    let vtep = |n: u8| Ipv4Addr::new(198, 51, 100, n);
    let (y, z, w1, w2) = (vtep(31), vtep(32), vtep(33), vtep(34));
    let statics = |entries: &[(&str, u8, Ipv4Addr)]| -> Vec<StaticMacConfig> {
        entries
            .iter()
            .map(|(b, m, ip)| StaticMacConfig {
                bridge: (*b).into(),
                mac: mac(*m).to_string(),
                port: None,
                vtep: Some(*ip),
            })
            .collect()
    };
    let mut c = config();
    c.bridges[1].vni = Some(200); // br20
    c.static_macs = statics(&[("br20", 0x51, y), ("br10", 0x52, z)]);
    let mut h = Harness::new(c.clone());
    // Every VTEP's MAC is known (an on-link remote is its own next hop).
    let resolve = |h: &mut Harness, ips: &[Ipv4Addr]| {
        for (i, ip) in ips.iter().enumerate() {
            let vmac = MacAddr([2, 0, 0, 0, 0x30, i as u8]);
            let reply = arp_frame(ArpOperation::REPLY, vmac, *ip, LOCAL_MAC, LOCAL_IP);
            assert!(h.send("p0", &[reply]).is_empty());
        }
    };
    resolve(&mut h, &[REMOTE_IP, y, z]);
    let outer_dst = |out: &[(String, Vec<u8>)]| -> Vec<(String, std::net::IpAddr, u32)> {
        out.iter()
            .map(|(p, f)| {
                let info = dissect(f).unwrap();
                (p.clone(), info.l3.unwrap().dst, info.tunnel.unwrap().vni)
            })
            .collect()
    };
    let to_m2 = udp_frame(1, mac(0x52), None, 5000, 10);
    let want = vec![("p0".to_string(), z.into(), 100)];
    assert_eq!(outer_dst(&h.send("a", std::slice::from_ref(&to_m2))), want);

    // br20's entry becomes two, naming other VTEPs: br10's own configuration is unchanged.
    c.static_macs = statics(&[("br20", 0x51, w1), ("br20", 0x53, w2), ("br10", 0x52, z)]);
    h.sw.apply(c.clone(), h.now).unwrap();
    resolve(&mut h, &[w1, w2]);
    assert_eq!(outer_dst(&h.send("a", std::slice::from_ref(&to_m2))), want);

    // br20's entries go: the frames still reach Z.
    c.static_macs = statics(&[("br10", 0x52, z)]);
    h.sw.apply(c, h.now).unwrap();
    assert_eq!(outer_dst(&h.send("a", std::slice::from_ref(&to_m2))), want);
}

/// A full flow cache makes room for a new flow (the entry idle longest goes, as OVS evicts
/// above its flow limit): one port cycling through source ports cannot keep every other
/// port's new flows on the slow path.
#[test]
fn a_full_flow_cache_makes_room_for_a_new_flow() {
    let mut c = config();
    c.flow_cache_size = 64;
    let mut h = Harness::new(c);
    h.send("b", &[udp_frame(2, MacAddr::BROADCAST, None, 1, 10)]);
    h.send("c", &[udp_frame(3, MacAddr::BROADCAST, None, 1, 10)]);
    // The broadcasts' flows go idle; the addresses stay learned.
    h.tick(dpu_switch::FLOW_IDLE + Duration::from_secs(1));
    assert_eq!(h.sw.flow_stats().entries, 0);
    // Port a fills the cache with 64 flows and keeps them busy.
    let a_flows: Vec<Vec<u8>> = (0..64).map(|p| udp_frame(1, mac(2), None, 6000 + p, 10)).collect();
    h.send("a", &a_flows);
    assert_eq!(h.sw.flow_stats().entries, 64);
    h.now += Duration::from_secs(1);
    let before = h.sw.flow_stats();
    h.send("a", &a_flows);
    assert_eq!(h.sw.flow_stats().hits - before.hits, 64);
    // Port c's new flow is installed: its repeat is a hit.
    h.now += Duration::from_secs(1);
    let f = udp_frame(3, mac(2), None, 7000, 10);
    let before = h.sw.flow_stats();
    assert_eq!(ports_of(&h.send("c", std::slice::from_ref(&f))), vec!["b"]);
    assert_eq!(ports_of(&h.send("c", std::slice::from_ref(&f))), vec!["b"]);
    let after = h.sw.flow_stats();
    assert_eq!((after.misses - before.misses, after.hits - before.hits), (1, 1));
    assert_eq!((after.entries, after.full - before.full, after.evicted), (64, 1, 1));
}

/// Remote learning turned off ("refuse traffic from VTEPs not listed in remotes", as Linux's
/// VXLAN `nolearning` stops using learned entries): the VTEPs learned before go with the
/// MACs behind them, their frames are refused and nothing is sent to them.
#[test]
fn turning_remote_learning_off_forgets_the_learned_vteps() {
    let mut h = Harness::new(config());
    h.resolve_remote();
    let other = Ipv4Addr::new(198, 51, 100, 3);
    assert_eq!(ports_of(&h.send("p0", &[vxlan_from_outer_source(other, 0x44)])).len(), 4);
    assert!(h.sw.status().vteps.iter().any(|v| v.ip == other && v.learned));
    let mut c = config();
    c.vtep.as_mut().unwrap().learn_remotes = false;
    h.sw.apply(c, h.now).unwrap();
    let vteps: Vec<Ipv4Addr> = h.sw.status().vteps.iter().map(|v| v.ip).collect();
    assert_eq!(vteps, vec![REMOTE_IP], "the learned VTEP is forgotten");
    assert!(h.sw.mac_table(h.now).iter().all(|m| m.mac != mac(0x44).to_string()));
    assert!(h.send("p0", &[vxlan_from_outer_source(other, 0x44)]).is_empty());
    assert_eq!(h.drops("p0", DropReason::UnknownVtep), 1);
    assert!(h.sw.status().vteps.iter().all(|v| v.ip != other), "nor learned again");
    // Frames to the host behind it flood: to the configured VTEP only.
    let out = h.send("a", &[udp_frame(1, mac(0x44), None, 1, 10)]);
    assert_eq!(ports_of(&out), vec!["b", "c", "p0", "t"]);
    let (_, enc) = out.iter().find(|(p, _)| p == "p0").unwrap();
    assert_eq!(dissect(enc).unwrap().l3.unwrap().dst, std::net::IpAddr::V4(REMOTE_IP));
}

/// A down uplink neither receives nor sends (as a down access port): the overlay copy of a
/// flood and the ARP requests for the VTEPs' next hops are counted as port-down drops of
/// frames not sent, and nothing leaves on it.
#[test]
fn a_down_uplink_sends_neither_overlay_frames_nor_arp() {
    let mut c = config();
    c.ports[5].admin_up = false; // p0
    let mut h = Harness::new(c.clone());
    assert!(h.tick(Duration::from_millis(1)).is_empty(), "no ARP request");
    let flood = udp_frame(1, MacAddr::BROADCAST, None, 1, 10);
    assert_eq!(ports_of(&h.send("a", std::slice::from_ref(&flood))), vec!["b", "c", "t"]);
    assert_eq!(h.tx_drops("p0", DropReason::PortDown), 2);
    // Up, with the next hop resolved, then down again: the overlay copy stays home.
    c.ports[5].admin_up = true;
    h.sw.apply(c.clone(), h.now).unwrap();
    h.resolve_remote();
    assert_eq!(ports_of(&h.send("a", std::slice::from_ref(&flood))), vec!["b", "c", "p0", "t"]);
    c.ports[5].admin_up = false;
    h.sw.apply(c, h.now).unwrap();
    assert_eq!(ports_of(&h.send("a", std::slice::from_ref(&flood))), vec!["b", "c", "t"]);
    assert_eq!(h.tx_drops("p0", DropReason::PortDown), 3);
    assert_eq!(h.sw.counters().encapsulated, 1, "only while it was up");
}

/// Remote VTEP counters survive a configuration change, as port counters do (by address).
#[test]
fn remote_vtep_counters_survive_an_apply() {
    let mut h = Harness::new(config());
    h.resolve_remote();
    let other = Ipv4Addr::new(198, 51, 100, 3);
    h.send("p0", &[vxlan_from_outer_source(other, 0x44)]);
    h.send("p0", &[vxlan_from_remote(&udp_frame(0x33, mac(1), None, 1, 10), 100, LOCAL_IP)]);
    h.send("a", &[udp_frame(1, MacAddr::BROADCAST, None, 1, 10)]);
    h.send("a", &[udp_frame(1, mac(0x44), None, 1, 10)]);
    let counts = |h: &Harness| -> Vec<(Ipv4Addr, u64, u64)> {
        h.sw.status().vteps.iter().map(|v| (v.ip, v.tx_packets, v.rx_packets)).collect()
    };
    let before = counts(&h);
    assert_eq!(before, vec![(REMOTE_IP, 1, 1), (other, 1, 1)]);
    h.sw.apply(config(), h.now).unwrap();
    assert_eq!(counts(&h), before);
}

/// A static MAC naming a remote VTEP learned from Geneve keeps it Geneve (the remote
/// becomes one the configuration names, so it no longer ages while the static MAC stays).
#[test]
fn a_static_mac_keeps_a_learned_remotes_encapsulation() {
    let mut h = Harness::new(config());
    h.resolve_remote();
    let other = Ipv4Addr::new(198, 51, 100, 3);
    let inner = udp_frame(0x44, mac(1), None, 1, 10);
    let pkt = with_outer_source(geneve_from_remote(&inner, 100, false, &[]), other);
    assert_eq!(h.send("p0", &[pkt]).len(), 4);
    let mut c = config();
    c.static_macs = vec![StaticMacConfig {
        bridge: "br10".into(),
        mac: mac(0x66).to_string(),
        port: None,
        vtep: Some(other),
    }];
    h.sw.apply(c, h.now).unwrap();
    for host in [0x66, 0x44] {
        let out = h.send("a", &[udp_frame(1, mac(host), None, 1, 10)]);
        assert_eq!(ports_of(&out), vec!["p0"]);
        let t = dissect(&out[0].1).unwrap();
        assert_eq!(t.l3.unwrap().dst, std::net::IpAddr::V4(other));
        assert_eq!(t.tunnel.unwrap().kind, dpu_wire::dissect::TunnelKind::Geneve, "to {host:#x}");
    }
    let s = h.sw.status();
    assert!(s.vteps.iter().any(|v| v.ip == other && !v.learned), "{:?}", s.vteps);
}

/// Only an encapsulation learned from traffic carries over to a remote that static MACs
/// alone name: a remote configured as Geneve and then dropped from `remotes` while a
/// static MAC still names it is sent VXLAN (docs/api.md), on this apply and every later one.
#[test]
fn a_configured_encapsulation_does_not_outlive_the_remotes_entry() {
    let static_mac = StaticMacConfig {
        bridge: "br10".into(),
        mac: mac(0x66).to_string(),
        port: None,
        vtep: Some(REMOTE_IP),
    };
    let mut c = config();
    c.vtep.as_mut().unwrap().remotes[0].encap = Encap::Geneve;
    c.static_macs = vec![static_mac.clone()];
    let mut h = Harness::new(c);
    h.resolve_remote();
    let tunnel_to_66 = |h: &mut Harness| {
        let out = h.send("a", &[udp_frame(1, mac(0x66), None, 1, 10)]);
        assert_eq!(ports_of(&out), vec!["p0"]);
        dissect(&out[0].1).unwrap().tunnel.unwrap().kind
    };
    assert_eq!(tunnel_to_66(&mut h), dpu_wire::dissect::TunnelKind::Geneve);
    let mut c = config();
    c.vtep.as_mut().unwrap().remotes.clear();
    c.static_macs = vec![static_mac];
    for _ in 0..2 {
        h.sw.apply(c.clone(), h.now).unwrap();
        assert_eq!(tunnel_to_66(&mut h), dpu_wire::dissect::TunnelKind::Vxlan);
    }
}

/// A learned MAC that becomes another bridge's SVI MAC leaves its bridge's table, and that
/// bridge's cached flows to it go stale with it: the next frame takes the slow path and
/// floods instead of following the forgotten entry.
#[test]
fn a_mac_taken_by_another_bridges_svi_leaves_no_cached_flow() {
    let mut c = config();
    c.vrfs = vec![VrfConfig { name: "v".into(), routes: vec![] }];
    let mut h = Harness::new(c.clone());
    h.resolve_remote();
    h.send("b", &[udp_frame(2, MacAddr::BROADCAST, None, 1, 10)]);
    let f = udp_frame(1, mac(2), None, 77, 10);
    assert_eq!(ports_of(&h.send("a", std::slice::from_ref(&f))), vec!["b"]);
    let before = h.sw.flow_stats();
    assert_eq!(ports_of(&h.send("a", std::slice::from_ref(&f))), vec!["b"]);
    assert_eq!(h.sw.flow_stats().hits - before.hits, 1, "cached");
    c.bridges[1].svi = Some(SviConfig {
        vrf: "v".into(),
        address: "203.0.113.1/24".into(),
        mac: mac(2).to_string(),
        address6: None,
    });
    h.sw.apply(c, h.now).unwrap();
    assert!(h.sw.mac_table(h.now).iter().all(|m| m.mac != mac(2).to_string()));
    let before = h.sw.flow_stats();
    assert_eq!(ports_of(&h.send("a", std::slice::from_ref(&f))), vec!["b", "c", "p0", "t"]);
    let after = h.sw.flow_stats();
    assert_eq!((after.invalidated - before.invalidated, after.hits - before.hits), (1, 0));
}

/// The underlay next hop, once resolved, is probed as an SVI neighbour is (RFC 1122
/// §2.3.2.1): after 30 s without word from it a unicast ARP request to its MAC, and after
/// three unanswered ones it is forgotten and asked for by broadcast again; a new gateway's
/// answer then carries the overlay.
#[test]
fn a_resolved_underlay_next_hop_is_probed_and_forgotten_when_silent() {
    let mut h = Harness::new(config());
    assert_eq!(ports_of(&h.tick(Duration::from_millis(1))), vec!["p0"], "asks for the remote");
    h.resolve_remote();
    let encap_dst = |h: &mut Harness| {
        let f = udp_frame(1, MacAddr::BROADCAST, None, 1234, 10);
        let out = h.send("a", &[f]);
        out.iter().find(|(p, _)| p == "p0").map(|(_, enc)| dissect(enc).unwrap().l2.dst)
    };
    assert_eq!(encap_dst(&mut h), Some(REMOTE_VTEP_MAC));
    assert!(h.tick(Duration::from_secs(10)).is_empty(), "reachable: nothing to ask");
    let probe = |out: &[(String, Vec<u8>)]| {
        let [(port, f)] = out else { panic!("one probe, got {out:?}") };
        let arp = ArpPacket::new_checked(&f[14..]).unwrap();
        (port.clone(), f[..6].to_vec(), arp.operation(), arp.target_ip(), arp.sender_ip())
    };
    let unicast =
        ("p0".to_string(), REMOTE_VTEP_MAC.0.to_vec(), ArpOperation::REQUEST, REMOTE_IP, LOCAL_IP);
    // Quiet for 30 s: probed, to the MAC it had; an answer keeps it.
    assert_eq!(probe(&h.tick(Duration::from_secs(21))), unicast);
    h.resolve_remote();
    assert!(h.tick(Duration::from_secs(1)).is_empty(), "answered: reachable again");
    // The gateway is replaced and says nothing: three probes, a second apart ...
    assert_eq!(probe(&h.tick(Duration::from_secs(30))), unicast);
    assert_eq!(probe(&h.tick(Duration::from_secs(1))), unicast);
    assert_eq!(probe(&h.tick(Duration::from_secs(1))), unicast);
    assert_eq!(encap_dst(&mut h), Some(REMOTE_VTEP_MAC), "still used while probed");
    // ... then it is forgotten and asked for by broadcast.
    let out = h.tick(Duration::from_secs(1));
    let (port, dst, op, target, _) = probe(&out);
    assert_eq!(
        (port.as_str(), dst, op, target),
        ("p0", vec![0xff; 6], ArpOperation::REQUEST, REMOTE_IP)
    );
    let drops = h.tx_drops("p0", DropReason::NeighbourUnresolved);
    assert_eq!(encap_dst(&mut h), None);
    assert_eq!(h.tx_drops("p0", DropReason::NeighbourUnresolved), drops + 1);
    // The new gateway answers: the overlay goes to it.
    let new_mac = MacAddr([2, 0, 0, 0, 0, 0x21]);
    let arp = arp_frame(ArpOperation::REPLY, new_mac, REMOTE_IP, LOCAL_MAC, LOCAL_IP);
    assert!(h.send("p0", &[arp]).is_empty());
    assert_eq!(encap_dst(&mut h), Some(new_mac));
}

/// A frame the pipeline drops on its way out of a port (the port down, larger than its MTU;
/// on the uplink also once encapsulated) counts in that port's `tx_dropped`, by reason in
/// its `tx_drops`; `drops` counts received frames only, and the ingress port's are those
/// it dropped itself.
#[test]
fn egress_drops_count_on_the_egress_port_as_not_sent() {
    let mut c = config();
    c.ports[1].mtu = 100; // b
    let mut h = Harness::new(c.clone());
    h.resolve_remote();
    h.send("b", &[udp_frame(2, MacAddr::BROADCAST, None, 1, 10)]);
    h.send("c", &[udp_frame(3, MacAddr::BROADCAST, None, 1, 10)]);
    let counters = |h: &Harness, port: &str| h.sw.port_counters(h.id(port)).unwrap().clone();
    let received_drops = |h: &Harness| ["a", "b", "c", "p0"].map(|p| counters(h, p).drops.total());
    // Larger than b's MTU.
    assert!(h.send("a", &[udp_frame(1, mac(2), None, 1, 200)]).is_empty());
    let b = counters(&h, "b");
    assert_eq!(received_drops(&h), [0; 4], "after b");
    assert_eq!((b.tx_dropped, b.tx_drops.get(DropReason::MtuExceeded)), (1, 1));
    // Encapsulated, larger than the uplink's MTU.
    h.send("a", &[udp_frame(1, MacAddr::BROADCAST, None, 1, 1472)]);
    let p0 = counters(&h, "p0");
    assert_eq!((p0.tx_dropped, p0.tx_drops.get(DropReason::MtuExceeded)), (1, 1));
    // To a MAC behind a port turned down.
    c.ports[2].admin_up = false; // c
    h.sw.apply(c, h.now).unwrap();
    assert!(h.send("a", &[udp_frame(1, mac(3), None, 1, 10)]).is_empty());
    let c = counters(&h, "c");
    assert_eq!((c.tx_dropped, c.tx_drops.get(DropReason::PortDown)), (1, 1));
    assert_eq!(received_drops(&h), [0; 4], "received frames dropped");
}

/// The flow cache is swept (every entry walked, under the switch's lock) at most once a
/// second, however often `tick` runs: the workers tick every 250 ms.
#[test]
fn the_flow_cache_is_swept_at_most_once_a_second() {
    let mut h = Harness::new(config());
    h.send("b", &[udp_frame(2, MacAddr::BROADCAST, None, 1, 10)]);
    h.send("a", &[udp_frame(1, mac(2), None, 1, 10)]);
    h.tick(Duration::from_secs(2));
    // 2 moves to c: the flows of br10 go stale, for the next sweep to remove.
    h.send("c", &[udp_frame(2, MacAddr::BROADCAST, None, 1, 10)]);
    let expired = h.sw.flow_stats().expired;
    for i in 1..4 {
        h.tick(Duration::from_millis(250));
        assert_eq!(h.sw.flow_stats().expired, expired, "swept again after {} ms", i * 250);
    }
    h.tick(Duration::from_millis(250));
    assert!(h.sw.flow_stats().expired > expired, "not swept a second on");
}
