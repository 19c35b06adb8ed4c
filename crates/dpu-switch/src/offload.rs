//! Completing checksums a sender left to "hardware".
//!
//! A Linux sender with checksum offload hands its NIC a TCP/UDP packet whose checksum field
//! holds only the pseudo-header sum (`CHECKSUM_PARTIAL`); a packet socket sees such frames
//! flagged `TP_STATUS_CSUMNOTREADY`. A switch forwarding them to another host must finish the
//! job, as the NIC would have: [`complete_l4_checksum`] computes the full checksum
//! (RFC 9293 §3.1 for TCP, RFC 768 and RFC 8200 §8.1 for UDP). For an overlay packet the
//! pending checksum is the inner one (the kernel's outer VXLAN UDP checksum is already
//! final or zero), so the inner frame is completed instead.

use std::net::IpAddr;

use dpu_wire::IpProtocol;
use dpu_wire::dissect::dissect;
use dpu_wire::tcp::TcpPacket;
use dpu_wire::udp::UdpPacket;

/// Completes the TCP or UDP checksum of `frame` (or of its inner frame when it is a VXLAN or
/// Geneve packet). Returns false, leaving the frame as it is, when there is nothing to
/// complete (not TCP/UDP, a fragment) or it does not parse.
pub fn complete_l4_checksum(frame: &mut [u8]) -> bool {
    let Ok(info) = dissect(frame) else { return false };
    if let Some(t) = info.tunnel {
        return match frame.get_mut(t.inner_offset..t.inner_end) {
            Some(inner) => complete_plain(inner),
            None => false,
        };
    }
    complete_plain(frame)
}

fn complete_plain(frame: &mut [u8]) -> bool {
    let Ok(info) = dissect(frame) else { return false };
    let Some(l3) = info.l3 else { return false };
    if l3.is_fragment {
        return false;
    }
    let Some(seg) = frame.get_mut(l3.l4_offset..l3.end) else { return false };
    match (l3.protocol, l3.src, l3.dst) {
        (IpProtocol::TCP, IpAddr::V4(s), IpAddr::V4(d)) => {
            TcpPacket::new_checked(seg).map(|mut t| t.fill_checksum_v4(s, d)).is_ok()
        }
        (IpProtocol::TCP, IpAddr::V6(s), IpAddr::V6(d)) => {
            TcpPacket::new_checked(seg).map(|mut t| t.fill_checksum_v6(s, d)).is_ok()
        }
        (IpProtocol::UDP, IpAddr::V4(s), IpAddr::V4(d)) => {
            UdpPacket::new_checked(seg).map(|mut u| u.fill_checksum_v4(s, d)).is_ok()
        }
        (IpProtocol::UDP, IpAddr::V6(s), IpAddr::V6(d)) => {
            UdpPacket::new_checked(seg).map(|mut u| u.fill_checksum_v6(s, d)).is_ok()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::net::Ipv4Addr;

    use dpu_wire::encap::{self, Tunnel, Underlay, UnderlayAddrs};
    use dpu_wire::ethernet::EthernetRepr;
    use dpu_wire::ipv4::{Ipv4Packet, Ipv4Repr};
    use dpu_wire::udp::UdpRepr;
    use dpu_wire::{EtherType, MacAddr};

    use super::*;

    fn udp_frame() -> Vec<u8> {
        let eth = EthernetRepr {
            dst: MacAddr([2, 0, 0, 0, 0, 2]),
            src: MacAddr([2, 0, 0, 0, 0, 1]),
            vlans: &[],
            ethertype: EtherType::IPV4,
        };
        let mut f = vec![0u8; 14 + 20 + 8 + 5];
        let l3 = eth.emit(&mut f).unwrap();
        let (s, d) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
        let l4 = l3 + Ipv4Repr::new(s, d, IpProtocol::UDP, 13).emit(&mut f[l3..]).unwrap();
        UdpRepr { src_port: 1, dst_port: 2 }.emit(&mut f[l4..], 5).unwrap();
        f[l4 + 8..].copy_from_slice(b"hello");
        f
    }

    fn udp_ok(frame: &[u8]) -> bool {
        let ip = Ipv4Packet::new_checked(&frame[14..]).unwrap();
        let u = UdpPacket::new_checked(ip.payload()).unwrap();
        u.check_checksum_v4(ip.src(), ip.dst()).is_ok() && u.checksum() != 0
    }

    #[test]
    fn completes_plain_and_inner_checksums() {
        let mut f = udp_frame();
        f[14 + 20 + 6] = 0x12; // a partial (pseudo-header only) value
        assert!(!udp_ok(&f));
        assert!(complete_l4_checksum(&mut f));
        assert!(udp_ok(&f));

        let mut inner = udp_frame();
        inner[14 + 20 + 6] = 0x34;
        let u = Underlay {
            dst_mac: MacAddr([2, 0, 0, 0, 0, 9]),
            src_mac: MacAddr([2, 0, 0, 0, 0, 8]),
            vlan: None,
            addrs: UnderlayAddrs::V4 {
                src: Ipv4Addr::new(198, 51, 100, 1),
                dst: Ipv4Addr::new(198, 51, 100, 2),
            },
            ttl: 64,
            dscp: 0,
            src_port: 50000,
            udp_checksum_v4: false,
        };
        let t = Tunnel::Vxlan { vni: 1 };
        let hl = encap::header_len(&u, &t);
        let mut buf = vec![0u8; hl + inner.len()];
        buf[hl..].copy_from_slice(&inner);
        encap::encapsulate(&mut buf, &u, &t, inner.len()).unwrap();
        assert!(complete_l4_checksum(&mut buf));
        assert!(udp_ok(&buf[hl..]));
        assert!(!complete_l4_checksum(&mut [0u8; 10]));
    }
}
