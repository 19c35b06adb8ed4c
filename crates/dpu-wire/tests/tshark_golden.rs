//! Cross-checks the packets this crate builds against Wireshark's dissectors.
//!
//! Each test builds frames with the public API, writes them to a classic pcap file
//! (24-octet global header, 16-octet record headers, LINKTYPE_ETHERNET) and runs
//! `tshark -T fields` over it with checksum validation switched on, then asserts what
//! tshark decoded (VNIs, ports, options, checksum status "good", no malformed frames).
//!
//! tshark is a hard requirement: if it is missing the tests fail (they do not skip).
//! `cargo xtask test` installs it (Debian package `tshark`).

#![allow(clippy::unwrap_used, reason = "test helpers: a panic is a test failure")]

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::process::Command;

use dpu_wire::arp::{self, ArpOperation, ArpPacket, ArpRepr};
use dpu_wire::encap::{self, Tunnel, Underlay, UnderlayAddrs};
use dpu_wire::ethernet::{self, EthernetRepr, VlanTag};
use dpu_wire::geneve::{self, GeneveOption, GeneveRepr};
use dpu_wire::icmpv4::{self, Icmpv4Error, Quote};
use dpu_wire::icmpv6::{self, Icmpv6Error};
use dpu_wire::ipv4::{Ipv4Packet, Ipv4Repr};
use dpu_wire::ipv6::{self, Ipv6Packet, Ipv6Repr};
use dpu_wire::tcp::{TcpFlags, TcpPacket, TcpRepr};
use dpu_wire::udp::{UdpPacket, UdpRepr};
use dpu_wire::{EtherType, IpProtocol, MacAddr, vxlan};

const MAC_A: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0a]);
const MAC_B: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0b]);
/// tshark's value for a verified checksum in `*.checksum.status` fields.
const GOOD: &str = "1";

// ---------------------------------------------------------------- pcap + tshark

/// Classic libpcap file: magic a1b2c3d4 (written little-endian), version 2.4, snaplen
/// 65535, LINKTYPE_ETHERNET (1); one record header (ts_sec, ts_usec, incl_len, orig_len)
/// per frame.
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    for v in [0u32, 0, 65535, 1] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    for (i, f) in frames.iter().enumerate() {
        let len = u32::try_from(f.len()).unwrap();
        for v in [1_700_000_000u32 + i as u32, 0, len, len] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(f);
    }
    out
}

/// Runs tshark over `frames` and returns, per frame, the values of `fields` (each a
/// comma-separated list of occurrences, outer layer first).
fn tshark(name: &str, frames: &[Vec<u8>], fields: &[&str]) -> Vec<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("dpu-wire-{name}.pcap"));
    std::fs::write(&path, pcap(frames)).unwrap();
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(&path);
    for pref in ["ip.check_checksum:TRUE", "udp.check_checksum:TRUE", "tcp.check_checksum:TRUE"] {
        cmd.args(["-o", pref]);
    }
    cmd.args(["-T", "fields", "-E", "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"]);
    cmd.args(["-e", "_ws.malformed", "-e", "_ws.expert.severity"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!(
            "cannot run tshark ({e}): these tests need it. Install it with \
             `DEBIAN_FRONTEND=noninteractive apt-get install -y tshark` (cargo xtask test does)"
        ),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tshark failed: {stderr}");
    let rows: Vec<Vec<String>> =
        stdout.lines().map(|l| l.split('|').map(str::to_owned).collect()).collect();
    assert_eq!(rows.len(), frames.len(), "tshark output:\n{stdout}\n{stderr}");
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.len(), fields.len() + 2, "frame {i}: {r:?}");
        assert!(r[0].is_empty(), "frame {i} is malformed for tshark: {r:?}");
        // Severity levels: 0x00200000 chat, 0x00400000 note, 0x00600000 warning,
        // 0x00800000 error. Nothing at warning or above is allowed.
        for sev in r[1].split(',').filter(|s| !s.is_empty()) {
            let v = sev.parse::<u64>().unwrap_or(u64::MAX);
            assert!(
                v < 0x0060_0000,
                "frame {i}: tshark expert warning/error {sev}: {r:?}\n{}",
                verbose(&path)
            );
        }
    }
    rows.into_iter().map(|r| r[2..].to_vec()).collect()
}

/// `tshark -V` output, for failure messages.
fn verbose(path: &PathBuf) -> String {
    Command::new("tshark")
        .args(["-n", "-V", "-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-r"])
        .arg(path)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn all(field: &str, want: &str) -> bool {
    !field.is_empty() && field.split(',').all(|v| v == want)
}

// ---------------------------------------------------------------- builders

fn eth(dst: MacAddr, src: MacAddr, ethertype: EtherType, payload: &[u8]) -> Vec<u8> {
    let repr = EthernetRepr { dst, src, vlans: &[], ethertype };
    let mut f = vec![0u8; repr.header_len() + payload.len()];
    let hl = repr.emit(&mut f).unwrap();
    f[hl..].copy_from_slice(payload);
    f
}

fn ipv4_udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let ulen = 8 + payload.len();
    let mut p = vec![0u8; 20 + ulen];
    Ipv4Repr::new(src, dst, IpProtocol::UDP, ulen).emit(&mut p).unwrap();
    UdpRepr { src_port: sport, dst_port: dport }.emit(&mut p[20..], payload.len()).unwrap();
    p[28..].copy_from_slice(payload);
    UdpPacket::new_checked(&mut p[20..]).unwrap().fill_checksum_v4(src, dst);
    p
}

fn ipv6_udp(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    ext: &[u8],
    first: IpProtocol,
    sport: u16,
    dport: u16,
    payload: &[u8],
) -> Vec<u8> {
    let ulen = 8 + payload.len();
    let mut p = vec![0u8; 40 + ext.len() + ulen];
    Ipv6Repr::new(src, dst, first, ext.len() + ulen).emit(&mut p).unwrap();
    p[40..40 + ext.len()].copy_from_slice(ext);
    let u = 40 + ext.len();
    UdpRepr { src_port: sport, dst_port: dport }.emit(&mut p[u..], payload.len()).unwrap();
    p[u + 8..].copy_from_slice(payload);
    UdpPacket::new_checked(&mut p[u..]).unwrap().fill_checksum_v6(src, dst);
    p
}

fn inner_ping() -> Vec<u8> {
    let (s, d) = (Ipv4Addr::new(198, 51, 100, 10), Ipv4Addr::new(198, 51, 100, 11));
    let mut icmp = [0u8; 12];
    icmpv4::emit_echo(&mut icmp, true, 0x4242, 7, b"ping").unwrap();
    let mut ip = vec![0u8; 20 + icmp.len()];
    Ipv4Repr::new(s, d, IpProtocol::ICMP, icmp.len()).emit(&mut ip).unwrap();
    ip[20..].copy_from_slice(&icmp);
    eth(MAC_B, MAC_A, EtherType::IPV4, &ip)
}

// ---------------------------------------------------------------- tests

#[test]
fn vxlan_encapsulated_ping() {
    let inner = inner_ping();
    let mut vx = vec![0u8; vxlan::HEADER_LEN + inner.len()];
    vxlan::emit(&mut vx, 5000).unwrap();
    vx[vxlan::HEADER_LEN..].copy_from_slice(&inner);
    let sport = vxlan::source_port(0x1234_5678);
    let outer = ipv4_udp(
        Ipv4Addr::new(192, 0, 2, 1),
        Ipv4Addr::new(192, 0, 2, 2),
        sport,
        vxlan::UDP_PORT,
        &vx,
    );
    let frame = eth(MAC_A, MAC_B, EtherType::IPV4, &outer);
    assert_eq!(frame.len(), vxlan::IPV4_OVERHEAD + inner.len());

    // The same encapsulation through encap::encapsulate (with a UDP checksum and an
    // outer VLAN tag), writing into headroom in front of the inner frame.
    let underlay = Underlay {
        dst_mac: MAC_B,
        src_mac: MAC_A,
        vlan: Some(VlanTag::c_tag(300)),
        addrs: UnderlayAddrs::V4 {
            src: Ipv4Addr::new(192, 0, 2, 1),
            dst: Ipv4Addr::new(192, 0, 2, 2),
        },
        ttl: 64,
        dscp: 0,
        src_port: sport,
        udp_checksum_v4: true,
    };
    let tunnel = Tunnel::Vxlan { vni: 5000 };
    let hl = encap::header_len(&underlay, &tunnel);
    let mut buf = vec![0u8; hl + inner.len()];
    buf[hl..].copy_from_slice(&inner);
    let n = encap::encapsulate(&mut buf, &underlay, &tunnel, inner.len()).unwrap();
    assert_eq!(n, buf.len());

    let rows = tshark(
        "vxlan",
        &[frame, buf],
        &[
            "vxlan.vni",
            "vxlan.flag_i",
            "udp.srcport",
            "udp.dstport",
            "udp.checksum.status",
            "ip.checksum.status",
            "ip.src",
            "icmp.type",
            "icmp.checksum.status",
            "data.data",
            "vlan.id",
        ],
    );
    for f in &rows {
        assert_eq!(f[0], "5000");
        assert_eq!(f[1], "1");
        assert_eq!(f[2], sport.to_string());
        assert_eq!(f[3], "4789");
        assert_eq!(f[4], GOOD);
        assert!(all(&f[5], GOOD), "{f:?}");
        assert_eq!(f[6], "192.0.2.1,198.51.100.10");
        assert_eq!(f[7], "8");
        assert_eq!(f[8], GOOD);
        assert_eq!(f[9], "70696e67"); // "ping"
    }
    assert_eq!(rows[1][10], "300");
}

#[test]
fn geneve_over_ipv6_with_critical_option() {
    let inner = eth(
        MAC_B,
        MAC_A,
        EtherType::IPV4,
        &ipv4_udp(
            Ipv4Addr::new(198, 51, 100, 10),
            Ipv4Addr::new(198, 51, 100, 11),
            12345,
            50001,
            b"hello",
        ),
    );
    let opts = [
        GeneveOption { class: 0x0102, option_type: 0x80, data: &[0xde, 0xad, 0xbe, 0xef] },
        GeneveOption { class: 0xff01, option_type: 0x05, data: &[] },
    ];
    let repr = GeneveRepr { oam: false, protocol: EtherType::TEB, vni: 0xabcdef, options: &opts };
    let mut g = vec![0u8; repr.header_len() + inner.len()];
    let hl = repr.emit(&mut g).unwrap();
    g[hl..].copy_from_slice(&inner);
    let (s, d) = ("2001:db8::1".parse().unwrap(), "2001:db8::2".parse().unwrap());
    let outer = ipv6_udp(s, d, &[], IpProtocol::UDP, 50000, geneve::UDP_PORT, &g);
    let frame = eth(MAC_A, MAC_B, EtherType::IPV6, &outer);

    let f = &tshark(
        "geneve",
        &[frame],
        &[
            "geneve.version",
            "geneve.vni",
            "geneve.flags.critical",
            "geneve.proto_type",
            "geneve.option.class",
            "geneve.option.type",
            "geneve.option.length",
            "udp.dstport",
            "udp.checksum.status",
            "ip.checksum.status",
        ],
    )[0];
    assert_eq!(f[0], "0");
    assert_eq!(u32::from_str_radix(f[1].trim_start_matches("0x"), 16).unwrap(), 0xabcdef, "{f:?}");
    assert_eq!(f[2], "1");
    assert_eq!(f[3], "0x6558");
    assert_eq!(f[4], "0x0102,0xff01");
    assert_eq!(f[5], "0x80,0x05");
    // Option lengths in octets, header included (tshark lists the options area first).
    assert!(f[6].ends_with("8,4"), "{f:?}");
    assert_eq!(f[7], "6081,50001");
    assert!(all(&f[8], GOOD), "{f:?}");
    assert_eq!(f[9], GOOD);
}

#[test]
fn arp_reply_in_qinq() {
    let req = ArpRepr {
        operation: ArpOperation::REQUEST,
        sender_mac: MAC_B,
        sender_ip: Ipv4Addr::new(192, 0, 2, 2),
        target_mac: MacAddr::ZERO,
        target_ip: Ipv4Addr::new(192, 0, 2, 1),
    };
    let mut body = [0u8; arp::PACKET_LEN];
    req.emit(&mut body).unwrap();
    let request = ArpPacket::new_checked(&body[..]).unwrap();
    let mut frame = vec![0u8; 64];
    let n = arp::build_reply(&request, MAC_A, &mut frame).unwrap();
    let n = ethernet::push_vlan(&mut frame, n, VlanTag::c_tag(200)).unwrap();
    let n = ethernet::push_vlan(&mut frame, n, VlanTag { pcp: 5, ..VlanTag::s_tag(100) }).unwrap();
    frame.truncate(n);

    let f = &tshark(
        "arp",
        &[frame],
        &[
            "ieee8021ad.id",
            "ieee8021ad.priority",
            "vlan.id",
            "arp.opcode",
            "arp.src.hw_mac",
            "arp.src.proto_ipv4",
            "arp.dst.hw_mac",
            "arp.dst.proto_ipv4",
        ],
    )[0];
    assert_eq!(f[0], "100");
    assert_eq!(f[1], "5");
    assert_eq!(f[2], "200");
    assert_eq!(f[3], "2");
    assert_eq!(f[4], "02:00:00:00:00:0a");
    assert_eq!(f[5], "192.0.2.1");
    assert_eq!(f[6], "02:00:00:00:00:0b");
    assert_eq!(f[7], "192.0.2.2");
}

#[test]
fn icmp_time_exceeded_quotes_invoking_datagram() {
    let mut invoking = ipv4_udp(
        Ipv4Addr::new(192, 0, 2, 1),
        Ipv4Addr::new(198, 51, 100, 2),
        40000,
        33434,
        &[0x55; 32],
    );
    Ipv4Packet::new_checked(&mut invoking[..]).unwrap().set_ttl(1);
    Ipv4Packet::new_checked(&mut invoking[..]).unwrap().fill_checksum();
    assert_eq!(
        Ipv4Packet::new_checked(&mut invoking[..]).unwrap().decrement_ttl(),
        Err(dpu_wire::Error::TtlExpired)
    );
    assert!(icmpv4::may_send_error(&Ipv4Packet::new_checked(&invoking[..]).unwrap()));
    let router = Ipv4Addr::new(203, 0, 113, 1);
    let mut frames = Vec::new();
    for quote in [Quote::Rfc792, Quote::Rfc1812] {
        let mut out = [0u8; 600];
        let n = icmpv4::build_ipv4_error(
            &mut out,
            router,
            Icmpv4Error::TimeExceeded { code: 0 },
            &invoking,
            quote,
        )
        .unwrap();
        frames.push(eth(MAC_B, MAC_A, EtherType::IPV4, &out[..n]));
    }
    let rows = tshark(
        "icmp-te",
        &frames,
        &[
            "icmp.type",
            "icmp.code",
            "icmp.checksum.status",
            "ip.src",
            "ip.dst",
            "ip.ttl",
            "udp.dstport",
            "ip.checksum.status",
        ],
    );
    for f in &rows {
        assert_eq!(f[0], "11");
        assert_eq!(f[1], "0");
        assert_eq!(f[2], GOOD);
        assert_eq!(f[3], "203.0.113.1,192.0.2.1");
        assert_eq!(f[4], "192.0.2.1,198.51.100.2");
        assert_eq!(f[5], "64,1");
        assert_eq!(f[6], "33434");
        assert!(all(&f[7], GOOD), "{f:?}");
    }
}

/// The IPv6 packet with hop-by-hop, destination options and an atomic fragment header
/// in front of UDP.
fn ipv6_chain() -> Vec<u8> {
    let mut ext = [0u8; 24];
    let mut o = ipv6::emit_options_header(&mut ext, IpProtocol::DEST_OPTIONS, &[]).unwrap();
    o += ipv6::emit_options_header(&mut ext[o..], IpProtocol::FRAGMENT, &[]).unwrap();
    o += ipv6::emit_fragment_header(&mut ext[o..], IpProtocol::UDP, 0, false, 0x0bad_cafe).unwrap();
    assert_eq!(o, 24);
    let (s, d) = ("2001:db8::1".parse().unwrap(), "2001:db8:1::2".parse().unwrap());
    ipv6_udp(s, d, &ext, IpProtocol::HOP_BY_HOP, 40002, 9999, b"payload!")
}

#[test]
fn ipv6_extension_headers_and_udp() {
    let pkt = ipv6_chain();
    let h = Ipv6Packet::new_checked(&pkt[..]).unwrap().headers().unwrap();
    assert_eq!((h.upper_protocol, h.upper_offset, h.ext_headers), (IpProtocol::UDP, 64, 3));
    let f = &tshark(
        "ipv6-ext",
        &[eth(MAC_A, MAC_B, EtherType::IPV6, &pkt)],
        &[
            "ipv6.nxt",
            "ipv6.hopopts.nxt",
            "ipv6.dstopts.nxt",
            "ipv6.fraghdr.nxt",
            "ipv6.fraghdr.ident",
            "udp.srcport",
            "udp.dstport",
            "udp.length",
            "udp.checksum.status",
        ],
    )[0];
    assert_eq!(f[..4], ["0", "60", "44", "17"], "{f:?}");
    assert_eq!(f[4], "0x0badcafe");
    assert_eq!(f[5], "40002");
    assert_eq!(f[6], "9999");
    assert_eq!(f[7], "16");
    assert_eq!(f[8], GOOD);
}

#[test]
fn icmpv6_time_exceeded_checksum() {
    let invoking = ipv6_chain();
    let inv = Ipv6Packet::new_checked(&invoking[..]).unwrap();
    let e = Icmpv6Error::TimeExceeded { code: 0 };
    assert!(icmpv6::may_send_error(&inv, e));
    let mut out = [0u8; ipv6::MIN_MTU];
    let n = icmpv6::build_ipv6_error(&mut out, "2001:db8:ffff::1".parse().unwrap(), e, &invoking)
        .unwrap();
    let f = &tshark(
        "icmpv6-te",
        &[eth(MAC_B, MAC_A, EtherType::IPV6, &out[..n])],
        &["icmpv6.type", "icmpv6.code", "icmpv6.checksum.status", "ipv6.dst", "udp.dstport"],
    )[0];
    assert_eq!(f[0], "3");
    assert_eq!(f[1], "0");
    assert_eq!(f[2], GOOD);
    assert_eq!(f[3], "2001:db8::1,2001:db8:1::2");
    assert_eq!(f[4], "9999");
}

#[test]
fn nat_rewrite_keeps_tcp_and_ip_checksums_valid() {
    let (s, d) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 2));
    let mut p = vec![0u8; 20 + 20 + 4];
    Ipv4Repr::new(s, d, IpProtocol::TCP, 24).emit(&mut p).unwrap();
    let flags = TcpFlags::ACK.union(TcpFlags::PSH);
    TcpRepr { src_port: 40000, dst_port: 443, seq: 1000, ack: 2000, flags, window: 512 }
        .emit(&mut p[20..])
        .unwrap();
    p[40..].copy_from_slice(b"data");
    TcpPacket::new_checked(&mut p[20..]).unwrap().fill_checksum_v4(s, d);

    // SNAT to 203.0.113.7:61000 and TTL decrement, all incremental.
    let new_src = Ipv4Addr::new(203, 0, 113, 7);
    let mut ip = Ipv4Packet::new_checked(&mut p[..]).unwrap();
    ip.set_src(new_src);
    ip.decrement_ttl().unwrap();
    let mut tcp = TcpPacket::new_checked(ip.payload_mut()).unwrap();
    tcp.set_src_port(61000);
    tcp.update_pseudo_header(&s.octets(), &new_src.octets());

    let f = &tshark(
        "nat",
        &[eth(MAC_A, MAC_B, EtherType::IPV4, &p)],
        &[
            "ip.src",
            "ip.ttl",
            "ip.checksum.status",
            "tcp.srcport",
            "tcp.checksum.status",
            "tcp.flags.str",
        ],
    )[0];
    assert_eq!(f[0], "203.0.113.7");
    assert_eq!(f[1], "63");
    assert_eq!(f[2], GOOD);
    assert_eq!(f[3], "61000");
    assert_eq!(f[4], GOOD);
    assert!(f[5].contains('A') && f[5].contains('P'), "{f:?}");
}
