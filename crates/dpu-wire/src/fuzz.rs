//! Entry points for fuzz targets.
//!
//! Each function feeds arbitrary bytes to one parser, calls every accessor of whatever
//! parsed, runs the builders that take parsed input, and asserts the invariants the
//! rest of the stack relies on (offsets within the buffer, freshly built packets
//! verify). A panic is a bug. None of them allocates; builders write to stack buffers.
//!
//! [`fuzz_parse_all`] runs all of them plus a full dissection of the bytes as an
//! Ethernet frame (L2 → L3 → L4 → VXLAN/Geneve → inner frame).

use core::hint::black_box;
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::IpProtocol;
use crate::arp::{self, ArpPacket};
use crate::checksum;
use crate::ethernet::{self, EtherType, MacAddr, VlanTag};
use crate::geneve::{self, GenevePacket};
use crate::icmpv4::{self, Icmpv4Error, Icmpv4Packet};
use crate::icmpv6::{self, Icmpv6Error, Icmpv6Packet};
use crate::ipv4::Ipv4Packet;
use crate::ipv6::{self, Ipv6Packet};
use crate::tcp::TcpPacket;
use crate::udp::UdpPacket;
use crate::vxlan::{self, VxlanPacket};

const SCRATCH: usize = 2048;

/// Copies `data` into a stack buffer for the mutating checks; `None` if it is too long.
fn scratch(data: &[u8]) -> Option<([u8; SCRATCH], usize)> {
    let mut buf = [0u8; SCRATCH];
    buf.get_mut(..data.len())?.copy_from_slice(data);
    Some((buf, data.len()))
}

/// Runs every parser of the crate on `data`. Never panics unless a parser has a bug.
pub fn fuzz_parse_all(data: &[u8]) {
    ethernet(data);
    arp(data);
    ipv4(data);
    ipv6(data);
    icmpv4(data);
    icmpv6(data);
    tcp(data);
    udp(data);
    vxlan(data);
    geneve(data);
    checksum(data);
    frame(data);
    dissect(data);
}

/// Ethernet header, VLAN walk, VLAN push/pop.
pub fn ethernet(data: &[u8]) {
    if let Ok(f) = ethernet::EthernetFrame::new_checked(data) {
        let _ = black_box((f.dst(), f.src(), f.ethertype(), f.payload()));
    }
    if let Ok(info) = ethernet::parse_l2(data) {
        assert!(info.payload_offset <= data.len());
        assert!(info.vlans.len() <= ethernet::MAX_VLAN_TAGS);
        let _ = black_box((info.vlans.outer(), info.vlans.inner(), info.ethertype.is_length()));
    }
    if let Some((mut buf, len)) = scratch(data)
        && let Ok(n) = ethernet::push_vlan(&mut buf, len, VlanTag::c_tag(10))
    {
        assert_eq!(n, len + ethernet::VLAN_TAG_LEN);
        if let Ok(Some((tag, m))) = ethernet::pop_vlan(&mut buf, n) {
            assert_eq!((tag.vid, m), (10, len));
            assert_eq!(&buf[..len], data);
        }
    }
}

/// ARP body and reply building.
pub fn arp(data: &[u8]) {
    if let Ok(p) = ArpPacket::new_checked(data) {
        let _ = black_box((p.repr(), p.is_gratuitous()));
        let mut out = [0u8; 64];
        if let Ok(n) = arp::build_reply(&p, MacAddr([2, 0, 0, 0, 0, 1]), &mut out) {
            let reply = ArpPacket::new_checked(out.get(14..n).unwrap_or(&[]));
            assert!(reply.is_ok_and(|r| r.target_ip() == p.sender_ip()));
        }
    }
}

/// IPv4 header, checksum, TTL decrement, address rewrite.
pub fn ipv4(data: &[u8]) {
    let Ok(p) = Ipv4Packet::new_checked(data) else { return };
    let _ =
        black_box((p.dscp(), p.ecn(), p.ident(), p.reserved_flag(), p.dont_frag(), p.more_frags()));
    let _ = black_box((p.frag_offset(), p.is_fragment(), p.has_l4_header(), p.ttl(), p.protocol()));
    let _ = black_box((p.src(), p.dst(), p.options(), p.payload(), p.packet(), p.check_checksum()));
    let was_valid = p.verify_checksum();
    if let Some((mut buf, len)) = scratch(data)
        && let Ok(mut m) = Ipv4Packet::new_checked(&mut buf[..len])
    {
        let _ = m.decrement_ttl();
        m.set_src(Ipv4Addr::new(192, 0, 2, 99));
        m.set_dst(Ipv4Addr::new(198, 51, 100, 99));
        // Incremental updates keep a valid checksum valid.
        assert!(!was_valid || m.verify_checksum());
        m.fill_checksum();
        assert!(m.verify_checksum());
    }
}

/// IPv6 header and extension-header walk.
pub fn ipv6(data: &[u8]) {
    let Ok(p) = Ipv6Packet::new_checked(data) else { return };
    let _ = black_box((p.traffic_class(), p.dscp(), p.ecn(), p.flow_label(), p.hop_limit()));
    let _ = black_box((p.src(), p.dst(), p.payload(), p.packet()));
    if let Ok(h) = p.headers() {
        assert!(h.upper_offset <= p.packet().len());
        assert!(h.ext_headers <= ipv6::MAX_EXT_HEADERS);
        let _ = black_box((h.is_fragment(), h.has_l4_header()));
        assert!(h.routing_offset.is_none_or(|at| at < h.upper_offset));
    }
    let _ = black_box(p.final_destination());
    let _ = black_box(ipv6::routing_final_destination(Ipv6Addr::LOCALHOST, data));
    let _ = black_box(p.upper_layer().map(|(proto, rest)| (proto, rest.len())));
}

/// ICMP message accessors, and error building with `data` as the invoking datagram.
pub fn icmpv4(data: &[u8]) {
    if let Ok(p) = Icmpv4Packet::new_checked(data) {
        let _ = black_box((p.msg_type().is_error(), p.code(), p.rest_of_header(), p.echo_ident()));
        let _ =
            black_box((p.echo_seq(), p.next_hop_mtu(), p.pointer(), p.data(), p.check_checksum()));
    }
    if let Ok(ip) = Ipv4Packet::new_checked(data) {
        let _ = black_box(icmpv4::may_send_error(&ip));
    }
    let mut out = [0u8; 600];
    let e = Icmpv4Error::TimeExceeded { code: 0 };
    for q in [icmpv4::Quote::Rfc792, icmpv4::Quote::Rfc1812] {
        if let Ok(n) = icmpv4::build_ipv4_error(&mut out, Ipv4Addr::new(192, 0, 2, 254), e, data, q)
        {
            assert!(n <= icmpv4::RFC1812_MAX_DATAGRAM);
            let ip = Ipv4Packet::new_checked(&out[..n]);
            assert!(ip.is_ok_and(|ip| ip.verify_checksum()
                && Icmpv4Packet::new_checked(ip.payload()).is_ok_and(|i| i.verify_checksum())));
        }
    }
}

/// ICMPv6 message accessors, and error building with `data` as the invoking packet.
pub fn icmpv6(data: &[u8]) {
    let (s, d) = (Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST);
    if let Ok(p) = Icmpv6Packet::new_checked(data) {
        let _ =
            black_box((p.msg_type().is_error(), p.code(), p.echo_ident(), p.echo_seq(), p.mtu()));
        let _ = black_box((p.pointer(), p.data(), p.check_checksum(s, d)));
    }
    let e = Icmpv6Error::TimeExceeded { code: 0 };
    if let Ok(ip) = Ipv6Packet::new_checked(data) {
        let _ = black_box(icmpv6::may_send_error(&ip, e));
    }
    let mut out = [0u8; ipv6::MIN_MTU];
    if let Ok(n) = icmpv6::build_ipv6_error(&mut out, s, e, data) {
        let ip = Ipv6Packet::new_checked(&out[..n]);
        assert!(ip.is_ok_and(|ip| {
            Icmpv6Packet::new_checked(ip.payload())
                .is_ok_and(|i| i.check_checksum(ip.src(), ip.dst()).is_ok())
        }));
    }
}

/// TCP header, options, checksum, MSS clamping.
pub fn tcp(data: &[u8]) {
    let Ok(p) = TcpPacket::new_checked(data) else { return };
    let (s, d) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 2));
    let _ =
        black_box((p.src_port(), p.dst_port(), p.seq(), p.ack(), p.flags().is_valid_combination()));
    let _ = black_box((p.window(), p.urgent(), p.mss(), p.payload(), p.option_iter().count()));
    let _ = black_box((
        p.check_checksum_v4(s, d),
        p.check_checksum_v6(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST),
    ));
    let was_valid = p.check_checksum_v4(s, d).is_ok();
    if let Some((mut buf, len)) = scratch(data)
        && let Ok(mut m) = TcpPacket::new_checked(&mut buf[..len])
    {
        m.clamp_mss(536);
        m.set_src_port(40000);
        assert!(!was_valid || m.check_checksum_v4(s, d).is_ok());
    }
}

/// UDP header, length, checksum rules.
pub fn udp(data: &[u8]) {
    let Ok(p) = UdpPacket::new_checked(data) else { return };
    let (s, d) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 2));
    let _ = black_box((p.src_port(), p.dst_port(), p.is_empty(), p.payload(), p.datagram()));
    let _ = black_box(p.check_checksum_v6(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST));
    let was_valid = p.check_checksum_v4(s, d).is_ok();
    if let Some((mut buf, len)) = scratch(data)
        && let Ok(mut m) = UdpPacket::new_checked(&mut buf[..len])
    {
        m.set_dst_port(4789);
        m.update_pseudo_header(&s.octets(), &[203, 0, 113, 5]);
        assert!(!was_valid || m.check_checksum_v4(Ipv4Addr::new(203, 0, 113, 5), d).is_ok());
        m.fill_checksum_v6(Ipv6Addr::LOCALHOST, Ipv6Addr::UNSPECIFIED);
        assert!(m.check_checksum_v6(Ipv6Addr::LOCALHOST, Ipv6Addr::UNSPECIFIED).is_ok());
    }
}

/// VXLAN header.
pub fn vxlan(data: &[u8]) {
    if let Ok(p) = VxlanPacket::new_checked(data) {
        assert!(p.vni() <= vxlan::MAX_VNI);
        let _ = black_box((p.flags(), p.payload()));
    }
}

/// Geneve header and option TLVs.
pub fn geneve(data: &[u8]) {
    if let Ok(p) = GenevePacket::new_checked(data) {
        let _ = black_box((p.version(), p.is_oam(), p.critical_flag(), p.protocol(), p.vni()));
        let total: usize = p.options().map(|o| o.wire_len()).sum();
        assert_eq!(total, p.options_len());
        let _ = black_box((p.has_critical_option(), p.payload()));
        // Re-emitting the parsed options reproduces them (reserved bits aside).
        let mut opts = [geneve::GeneveOption { class: 0, option_type: 0, data: &[] }; 64];
        let mut n = 0;
        for o in p.options() {
            if let Some(slot) = opts.get_mut(n) {
                *slot = o;
                n += 1;
            }
        }
        let repr = geneve::GeneveRepr {
            oam: p.is_oam(),
            protocol: p.protocol(),
            vni: p.vni(),
            options: &opts[..n],
        };
        let mut out = [0u8; 8 + geneve::MAX_OPTIONS_LEN];
        if let Ok(hl) = repr.emit(&mut out) {
            let again = GenevePacket::new_checked(&out[..hl]);
            assert!(again.is_ok_and(|g| g.options().eq(p.options()) && g.vni() == p.vni()));
        }
    }
}

/// Checksum properties: incremental update of the first word equals recomputation.
pub fn checksum(data: &[u8]) {
    if data.len() < 4 || !data.len().is_multiple_of(2) {
        let _ = black_box(checksum::sum(data));
        return;
    }
    let Some((mut buf, len)) = scratch(data) else { return };
    let region = &mut buf[..len];
    // Checksum lives in the last word; rewrite the first word.
    let at = len - 2;
    region[at..].fill(0);
    let c = checksum::checksum(region);
    region[at..].copy_from_slice(&c.to_be_bytes());
    let old = u16::from_be_bytes([region[0], region[1]]);
    let new = old.rotate_left(3) ^ 0x5a5a;
    region[..2].copy_from_slice(&new.to_be_bytes());
    let inc = checksum::update16(c, old, new);
    region[at..].fill(0);
    let full = checksum::checksum(region);
    // RFC 1624 §3: equal except when the new data is all zero (the only case in which a
    // full computation yields 0xffff, which equation 3 reports as 0x0000).
    assert!(inc == full || (full == 0xffff && inc == 0));
}

/// [`crate::dissect::dissect`], checking its offsets, and again on a found inner frame.
pub fn dissect(data: &[u8]) {
    let Ok(i) = crate::dissect::dissect(data) else { return };
    assert!(i.l2.payload_offset <= data.len());
    if let Some(l3) = i.l3 {
        assert!(l3.offset <= l3.l4_offset && l3.l4_offset <= l3.end && l3.end <= data.len());
    }
    if let Some(t) = i.tunnel {
        assert!(
            t.offset < t.inner_offset && t.inner_offset <= t.inner_end && t.inner_end <= data.len()
        );
        let _ = black_box(crate::dissect::dissect(&data[t.inner_offset..t.inner_end]));
    }
}

/// Full dissection as an Ethernet frame, following VXLAN/Geneve into the inner frame.
pub fn frame(data: &[u8]) {
    walk_frame(data, 0);
}

fn walk_frame(frame: &[u8], depth: u8) {
    let Ok(l2) = ethernet::parse_l2(frame) else { return };
    let Some(l3) = frame.get(l2.payload_offset..) else { return };
    match l2.ethertype {
        EtherType::ARP => arp(l3),
        EtherType::IPV4 => {
            let Ok(ip) = Ipv4Packet::new_checked(l3) else { return };
            if ip.has_l4_header() {
                l4(ip.protocol(), ip.payload(), depth);
            }
        }
        EtherType::IPV6 => {
            let Ok(ip) = Ipv6Packet::new_checked(l3) else { return };
            if let Ok(h) = ip.headers()
                && h.has_l4_header()
                && let Some(rest) = ip.packet().get(h.upper_offset..)
            {
                l4(h.upper_protocol, rest, depth);
            }
        }
        _ => {}
    }
}

fn l4(proto: IpProtocol, data: &[u8], depth: u8) {
    match proto {
        IpProtocol::TCP => tcp(data),
        IpProtocol::ICMP => icmpv4(data),
        IpProtocol::ICMPV6 => icmpv6(data),
        IpProtocol::UDP => {
            udp(data);
            let Ok(u) = UdpPacket::new_checked(data) else { return };
            if depth > 0 {
                return;
            }
            match u.dst_port() {
                vxlan::UDP_PORT => {
                    if let Ok(v) = VxlanPacket::new_checked(u.payload()) {
                        walk_frame(v.payload(), depth + 1);
                    }
                }
                geneve::UDP_PORT => {
                    if let Ok(g) = GenevePacket::new_checked(u.payload())
                        && g.protocol() == EtherType::TEB
                    {
                        walk_frame(g.payload(), depth + 1);
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::never_panics;

    #[test]
    fn parse_all_never_panics() {
        let v4 = crate::ipv4::tests::golden(&crate::ipv4::tests::UDP_PKT);
        let v4o = crate::ipv4::tests::golden(&crate::ipv4::tests::FRAG_WITH_OPTIONS);
        let chain = crate::ipv6::tests::chain_packet();
        let echo6 = crate::icmpv6::tests::echo_packet();
        let syn = crate::tcp::tests::syn();
        let inner: Vec<u8> =
            crate::ethernet::tests::UNTAGGED[..14].iter().chain(&v4).copied().collect();
        let mut encapped = Vec::new();
        for (u, t) in [
            (crate::encap::tests::underlay_v4(), crate::encap::Tunnel::Vxlan { vni: 9 }),
            (
                crate::encap::tests::underlay_v6(),
                crate::encap::Tunnel::Geneve {
                    vni: 9,
                    oam: false,
                    options: &[crate::geneve::GeneveOption {
                        class: 1,
                        option_type: 0x80,
                        data: &[0; 4],
                    }],
                },
            ),
        ] {
            let hl = crate::encap::header_len(&u, &t);
            let mut buf = vec![0u8; hl + inner.len()];
            buf[hl..].copy_from_slice(&inner);
            crate::encap::encapsulate(&mut buf, &u, &t, inner.len()).unwrap();
            encapped.push(buf);
        }
        let goldens: [&[u8]; 15] = [
            &encapped[0],
            &encapped[1],
            &crate::ethernet::tests::UNTAGGED,
            &crate::ethernet::tests::QINQ,
            &crate::arp::tests::REQUEST,
            &v4,
            &v4o,
            &chain,
            &echo6,
            &crate::icmpv4::tests::ECHO,
            &syn,
            &crate::udp::tests::DNS,
            &crate::vxlan::tests::GOLDEN,
            &crate::geneve::tests::GOLDEN,
            &[],
        ];
        never_panics(&goldens, 13, fuzz_parse_all);
    }

    #[test]
    fn checksum_property_on_zero_data() {
        checksum(&[0, 0, 0, 0]);
        checksum(&[0xff, 0xff, 0, 0]);
    }
}
