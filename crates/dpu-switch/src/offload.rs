//! Completing checksums a sender left to "hardware".
//!
//! A Linux sender with checksum offload hands its NIC a TCP/UDP packet whose checksum field
//! holds only the pseudo-header sum (`CHECKSUM_PARTIAL`); a packet socket sees such frames
//! flagged `TP_STATUS_CSUMNOTREADY`. A switch forwarding them to another host must finish the
//! job, as the NIC would have: [`complete_l4_checksum`] computes the full checksum
//! (RFC 9293 §3.1 for TCP, RFC 768 and RFC 8200 §8.1 for UDP). For an overlay packet the
//! pending checksum is the inner one when the inner frame had one to offload (the kernel's
//! outer VXLAN/Geneve UDP checksum is then zero, or computed by local checksum offload for
//! the packet as it will be once the inner one is complete), and the outer UDP one when it
//! had none (Linux's `udp_set_csum` leaves the outer partial and the inner final): the inner
//! one is completed first, and an outer checksum that still does not verify is the partial
//! one. An IPv6 pseudo-header holds the final destination (RFC 8200 §8.1): behind a routing
//! header with segments left, the one it names (`Ipv6Packet::final_destination`); a packet
//! with a routing type not known keeps the checksum its sender left.

use std::net::IpAddr;

use dpu_wire::IpProtocol;
use dpu_wire::dissect::L3Info;
use dpu_wire::dissect::dissect;
use dpu_wire::ipv4::Ipv4Packet;
use dpu_wire::ipv6::Ipv6Packet;
use dpu_wire::tcp::{TcpFlags, TcpPacket};
use dpu_wire::udp::UdpPacket;

use crate::packet::{Gso, PacketBuf};

/// Completes the TCP or UDP checksum of `frame`; for a VXLAN or Geneve packet, the one left
/// partial. The inner frame's is completed first: if the outer UDP checksum is zero or
/// verifies, before or then, the inner one was the pending one (local checksum offload
/// computes the outer for the completed inner frame); if not, the outer one is the partial
/// one and the inner frame was final, so its checksum field is put back as it came and the
/// outer one completed.
/// Returns false, leaving the frame as it is, when there is nothing to complete (not
/// TCP/UDP, a fragment) or it does not parse.
pub fn complete_l4_checksum(frame: &mut [u8]) -> bool {
    let Ok(info) = dissect(frame) else { return false };
    let (Some(t), Some(l3)) = (info.tunnel, info.l3) else { return complete_plain(frame) };
    let outer_was_complete = outer_complete(frame, &l3);
    let Some(inner) = frame.get_mut(t.inner_offset..t.inner_end) else { return false };
    let field = l4_checksum_field(inner);
    let before = field.and_then(|at| inner.get(at..at + 2)).map(|b| [b[0], b[1]]);
    let inner_done = complete_plain(inner);
    if outer_was_complete || outer_complete(frame, &l3) {
        return inner_done;
    }
    if let (Some(at), Some(old)) = (field, before)
        && let Some(b) = frame.get_mut(t.inner_offset + at..t.inner_offset + at + 2)
    {
        b.copy_from_slice(&old);
    }
    complete_plain(frame)
}

/// Offset of the TCP or UDP checksum field in `frame`, for what [`complete_plain`] fills.
fn l4_checksum_field(frame: &[u8]) -> Option<usize> {
    let l3 = dissect(frame).ok()?.l3?;
    let at = match l3.protocol {
        IpProtocol::TCP => l3.l4_offset + 16,
        IpProtocol::UDP => l3.l4_offset + 6,
        _ => return None,
    };
    (!l3.is_fragment && at + 2 <= l3.end).then_some(at)
}

/// Whether the outer UDP checksum of an overlay packet needs nothing: zero (not computed,
/// RFC 768; RFC 6935 over IPv6) or verifying. Linux leaves it partial (`udp_set_csum`: the
/// pseudo-header sum, `CHECKSUM_PARTIAL` at the outer UDP header) when the inner frame had
/// no checksum to offload.
fn outer_complete(frame: &[u8], l3: &L3Info) -> bool {
    let Some(Ok(udp)) = frame.get(l3.l4_offset..l3.end).map(UdpPacket::new_checked) else {
        return true;
    };
    let Some(dst) = pseudo_header_dst(frame, l3) else { return true };
    udp.checksum() == 0
        || match (l3.src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => udp.check_checksum_v4(s, d).is_ok(),
            (IpAddr::V6(s), IpAddr::V6(d)) => udp.check_checksum_v6(s, d).is_ok(),
            _ => true,
        }
}

/// The destination address of the TCP/UDP pseudo-header of the IP packet `l3` of `frame`:
/// for IPv6 the final destination when a routing header has segments left (RFC 8200 §8.1).
/// None when it cannot be known (an unknown routing type, a malformed routing header): the
/// checksum is then left as the sender made it.
fn pseudo_header_dst(frame: &[u8], l3: &L3Info) -> Option<IpAddr> {
    match l3.dst {
        IpAddr::V4(_) => Some(l3.dst),
        // No extension header (the transport header right after the fixed 40 octets): no
        // routing header either, and no second walk of the packet.
        IpAddr::V6(_) if l3.l4_offset == l3.offset + 40 => Some(l3.dst),
        IpAddr::V6(_) => {
            let ip = Ipv6Packet::new_checked(frame.get(l3.offset..l3.end)?).ok()?;
            ip.final_destination().ok().map(IpAddr::V6)
        }
    }
}

fn complete_plain(frame: &mut [u8]) -> bool {
    let Ok(info) = dissect(frame) else { return false };
    let Some(l3) = info.l3 else { return false };
    if l3.is_fragment {
        return false;
    }
    let Some(dst) = pseudo_header_dst(frame, &l3) else { return false };
    let Some(seg) = frame.get_mut(l3.l4_offset..l3.end) else { return false };
    match (l3.protocol, l3.src, dst) {
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

/// Where the TCP payload of a super-frame starts, and what segmentation rewrites: the IP
/// header's offset, the TCP header's offset and the end of the IP packet.
#[derive(Debug, Clone, Copy)]
struct TcpLayout {
    l3: usize,
    l4: usize,
    payload: usize,
    end: usize,
    src: IpAddr,
    dst: IpAddr,
}

fn tcp_layout(frame: &[u8]) -> Option<TcpLayout> {
    let info = dissect(frame).ok()?;
    let l3 = info.l3?;
    if info.tunnel.is_some() || l3.protocol != IpProtocol::TCP || l3.is_fragment {
        return None;
    }
    let tcp = TcpPacket::new_checked(frame.get(l3.l4_offset..l3.end)?).ok()?;
    let payload = l3.l4_offset + tcp.header_len();
    // A super-frame whose segments' checksums cannot be computed (an unknown routing
    // type) is not taken as one.
    let dst = pseudo_header_dst(frame, &l3)?;
    Some(TcpLayout { l3: l3.offset, l4: l3.l4_offset, payload, end: l3.end, src: l3.src, dst })
}

/// The smallest segment size taken: the least a Linux sender uses, its `tcp_min_snd_mss`
/// default (`TCP_MIN_SND_MSS`, 48), to which it raises a peer's smaller MSS. A sender names the
/// size, and a tiny one would turn one 64 KiB frame into tens of thousands of segments.
pub const MIN_SEGMENT: u16 = 48;

/// The segmentation of a TCP super-frame `frame` of `size`-octet segments, when it is one
/// (TCP over IPv4 or IPv6, not a fragment, not an overlay packet), carries a payload and
/// `size` is at least [`MIN_SEGMENT`].
pub fn tcp_gso(frame: &[u8], size: u16, ecn: bool) -> Option<Gso> {
    let t = tcp_layout(frame)?;
    let payload = u32::try_from(t.end.checked_sub(t.payload)?).ok()?;
    (size >= MIN_SEGMENT && payload > 0).then_some(Gso { v6: t.src.is_ipv6(), ecn, size, payload })
}

/// Cuts the TCP super-frame `buf` into the segments its sender's device would have sent
/// (the kernel's GSO does the same): each gets the headers with the IPv4 total length or
/// IPv6 payload length of its own size, the next IPv4 identification, its sequence number,
/// FIN and PSH only on the last segment and CWR only on the first, and complete IPv4 header
/// and TCP checksums. Calls `emit` with each, in order; returns false, emitting nothing,
/// when `buf` is not a super-frame or does not parse as one.
pub fn segment(buf: &PacketBuf, mut emit: impl FnMut(PacketBuf)) -> bool {
    let (Some(gso), Some(t)) = (buf.gso(), tcp_layout(buf.frame())) else { return false };
    let frame = buf.frame();
    let (headers, payload) = (&frame[..t.payload], &frame[t.payload..t.end]);
    let size = usize::from(gso.size);
    if size == 0 || payload.is_empty() {
        return false;
    }
    let Ok(tcp) = TcpPacket::new_checked(&frame[t.l4..t.end]) else { return false };
    let (seq, flags) = (tcp.seq(), frame[t.l4 + 13]);
    let ident = frame.get(t.l3 + 4..t.l3 + 6).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    let count = payload.len().div_ceil(size);
    for (i, chunk) in payload.chunks(size).enumerate() {
        let len = headers.len() + chunk.len();
        let mut seg = PacketBuf::with_room(&[], len + 4);
        let mut ok = true;
        seg.refill(len, |f| {
            f[..headers.len()].copy_from_slice(headers);
            f[headers.len()..].copy_from_slice(chunk);
            let ip_len = len - t.l3;
            if gso.v6 {
                // RFC 8200 §3: the payload length counts everything after the fixed header.
                let pl = u16::try_from(ip_len - 40).unwrap_or(u16::MAX);
                f[t.l3 + 4..t.l3 + 6].copy_from_slice(&pl.to_be_bytes());
            } else {
                let total = u16::try_from(ip_len).unwrap_or(u16::MAX);
                f[t.l3 + 2..t.l3 + 4].copy_from_slice(&total.to_be_bytes());
                let id = ident.wrapping_add(i as u16);
                f[t.l3 + 4..t.l3 + 6].copy_from_slice(&id.to_be_bytes());
                match Ipv4Packet::new_checked(&mut f[t.l3..]) {
                    Ok(mut ip) => ip.fill_checksum(),
                    Err(_) => ok = false,
                }
            }
            let seq = seq.wrapping_add((i * size) as u32);
            f[t.l4 + 4..t.l4 + 8].copy_from_slice(&seq.to_be_bytes());
            // FIN and PSH belong to the end of the data, CWR to its first segment (RFC 9293
            // §3.1, RFC 3168 §6.1.2), as the kernel's GSO hands them out.
            let mut fl = flags;
            if i + 1 < count {
                fl &= !(TcpFlags::FIN.0 | TcpFlags::PSH.0);
            }
            if i > 0 {
                fl &= !TcpFlags::CWR.0;
            }
            f[t.l4 + 13] = fl;
            ok &= match (TcpPacket::new_checked(&mut f[t.l4..]), t.src, t.dst) {
                (Ok(mut tcp), IpAddr::V4(s), IpAddr::V4(d)) => {
                    tcp.fill_checksum_v4(s, d);
                    true
                }
                (Ok(mut tcp), IpAddr::V6(s), IpAddr::V6(d)) => {
                    tcp.fill_checksum_v6(s, d);
                    true
                }
                _ => false,
            };
        });
        if !ok {
            return false;
        }
        emit(seg);
    }
    true
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

    /// `inner` in VXLAN (VNI 1) over IPv4 from `src` to `dst`, the outer UDP checksum
    /// computed when `udp_checksum`; returns the frame and the outer headers' length.
    fn vxlan_v4(
        inner: &[u8],
        src: Ipv4Addr,
        dst: Ipv4Addr,
        udp_checksum: bool,
    ) -> (Vec<u8>, usize) {
        let u = Underlay {
            dst_mac: MacAddr([2, 0, 0, 0, 0, 9]),
            src_mac: MacAddr([2, 0, 0, 0, 0, 8]),
            vlan: None,
            addrs: UnderlayAddrs::V4 { src, dst },
            ttl: 64,
            dscp: 0,
            src_port: 50000,
            udp_checksum_v4: udp_checksum,
        };
        let t = Tunnel::Vxlan { vni: 1 };
        let hl = encap::header_len(&u, &t);
        let mut f = vec![0u8; hl + inner.len()];
        f[hl..].copy_from_slice(inner);
        encap::encapsulate(&mut f, &u, &t, inner.len()).unwrap();
        (f, hl)
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
        let (s, d) = (Ipv4Addr::new(198, 51, 100, 1), Ipv4Addr::new(198, 51, 100, 2));
        let (mut buf, hl) = vxlan_v4(&inner, s, d, false);
        assert!(complete_l4_checksum(&mut buf));
        assert!(udp_ok(&buf[hl..]));
        assert!(!complete_l4_checksum(&mut [0u8; 10]));
    }

    /// A tenant's own overlay packet (VXLAN over IPv4 with UDP checksums, as an OVN Geneve
    /// tunnel or an IPv6-underlay VXLAN device always has them) whose inner frame had no
    /// checksum to offload: Linux's `udp_set_csum` then leaves the *outer* UDP checksum
    /// partial (the pseudo-header sum, `CHECKSUM_PARTIAL` at the outer UDP header) and the
    /// inner final. Completing it must finish the outer one and leave the inner as it is;
    /// and a pending inner checksum under an outer one computed for it is completed alone.
    #[test]
    fn completes_a_partial_outer_checksum_of_a_tenant_overlay_packet() {
        let (s, d) = (Ipv4Addr::new(10, 1, 0, 1), Ipv4Addr::new(10, 1, 0, 2));
        let check = |f: &[u8]| {
            let udp = UdpPacket::new_checked(&f[14 + 20..]).unwrap();
            udp.checksum() != 0 && udp.check_checksum_v4(s, d).is_ok()
        };
        // Inner frames with nothing offloaded: a UDP datagram with its final checksum, and
        // one without a checksum (zero, RFC 768), which must stay zero.
        for inner_sum in [true, false] {
            let mut inner = udp_frame();
            if inner_sum {
                let (is, id) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
                UdpPacket::new_checked(&mut inner[14 + 20..]).unwrap().fill_checksum_v4(is, id);
                assert!(udp_ok(&inner));
            }
            let (mut f, hl) = vxlan_v4(&inner, s, d, false);
            // The partial outer checksum: the pseudo-header sum, as udp_set_csum leaves it.
            let udp_len = u16::try_from(f.len() - 14 - 20).unwrap();
            let pseudo = dpu_wire::checksum::pseudo_header_v4(s, d, IpProtocol::UDP, udp_len);
            f[14 + 20 + 6..14 + 20 + 8].copy_from_slice(&pseudo.to_be_bytes());
            assert!(!check(&f));
            complete_l4_checksum(&mut f);
            assert!(check(&f), "outer UDP checksum left partial (inner checksum {inner_sum})");
            assert_eq!(f[hl..], inner[..], "the final inner frame changed");
        }
        // The other way round: the inner checksum pending, the outer computed by local
        // checksum offload for the packet as it will be once the inner one is complete
        // (`lco_csum`), so it verifies only then. The inner one is completed, the outer kept.
        let mut inner = udp_frame();
        let (is, id) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
        UdpPacket::new_checked(&mut inner[14 + 20..]).unwrap().fill_checksum_v4(is, id);
        let (mut f, hl) = vxlan_v4(&inner, s, d, true);
        let done = f.clone();
        let pseudo = dpu_wire::checksum::pseudo_header_v4(is, id, IpProtocol::UDP, 13);
        f[hl + 14 + 20 + 6..hl + 14 + 20 + 8].copy_from_slice(&pseudo.to_be_bytes());
        assert!(!check(&f) && !udp_ok(&f[hl..]));
        complete_l4_checksum(&mut f);
        assert_eq!(f, done, "the inner checksum completed, the outer one kept");
    }

    /// The segments of `buf` (a super-frame), checked one by one: valid IP header and TCP
    /// checksums (`check`), consecutive sequence numbers from `seq`, and their payloads,
    /// concatenated, returned.
    fn cut(buf: &PacketBuf, l4: usize, seq: u32, check: impl Fn(&[u8]) -> bool) -> Vec<Vec<u8>> {
        let mut segs = Vec::new();
        assert!(segment(buf, |s| segs.push(s)));
        let mut next = seq;
        segs.iter()
            .map(|s| {
                assert!(!s.csum_pending() && s.gso().is_none());
                assert!(check(s.frame()), "checksums of a segment");
                let tcp = TcpPacket::new_checked(&s.frame()[l4..]).unwrap();
                assert_eq!(tcp.seq(), next);
                next = next.wrapping_add(tcp.payload().len() as u32);
                s.frame().to_vec()
            })
            .collect()
    }

    #[test]
    fn cuts_a_tcpv4_super_frame_as_the_kernel_would() {
        use crate::io::gso::tests::seg;
        let (src, dst) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
        // 3500 octets with PSH, FIN and CWR, in 1000-octet segments.
        let flags = TcpFlags::PSH.0 | TcpFlags::FIN.0 | TcpFlags::CWR.0;
        let whole = seg(4_000_000_000, 3500, flags);
        let (l4, payload) = (14 + 20, 14 + 20 + 32);
        let g = tcp_gso(&whole, 1000, true).unwrap();
        assert_eq!(g, Gso { v6: false, ecn: true, size: 1000, payload: 3500 });
        let mut buf = PacketBuf::from_frame(&whole);
        assert!(!segment(&buf, |_| {}), "not a super-frame");
        buf.set_gso(Some(g));
        assert!(buf.csum_pending());
        assert_eq!((buf.segments(), buf.wire_len(), buf.wire_bytes()), (4, 1066, 4 * 66 + 3500));
        let check = |f: &[u8]| {
            Ipv4Packet::new_checked(&f[14..]).unwrap().verify_checksum()
                && TcpPacket::new_checked(&f[l4..]).unwrap().check_checksum_v4(src, dst).is_ok()
        };
        // Sequence numbers wrap past 2^32 on the way.
        let segs = cut(&buf, l4, 4_000_000_000, check);
        let lens: Vec<usize> = segs.iter().map(|s| s.len() - payload).collect();
        assert_eq!(lens, [1000, 1000, 1000, 500]);
        let joined: Vec<u8> = segs.iter().flat_map(|s| s[payload..].to_vec()).collect();
        assert_eq!(joined, whole[payload..]);
        for (i, s) in segs.iter().enumerate() {
            let ip = Ipv4Packet::new_checked(&s[14..]).unwrap();
            assert_eq!(
                (ip.total_len(), ip.ident(), ip.dont_frag()),
                (s.len() - 14, i as u16, true)
            );
            assert_eq!(s[..14], whole[..14]);
            let want = match i {
                0 => TcpFlags::ACK.0 | TcpFlags::CWR.0,
                3 => TcpFlags::ACK.0 | TcpFlags::PSH.0 | TcpFlags::FIN.0,
                _ => TcpFlags::ACK.0,
            };
            assert_eq!(s[l4 + 13], want, "flags of segment {i}");
        }
    }

    #[test]
    fn cuts_a_tcpv6_super_frame() {
        use std::net::Ipv6Addr;
        let src: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let dst: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let (l3, l4, n) = (14, 54, 3000);
        let mut f = vec![0u8; l4 + 20 + n];
        f[12..14].copy_from_slice(&EtherType::IPV6.0.to_be_bytes());
        f[l3] = 0x60;
        f[l3 + 4..l3 + 6].copy_from_slice(&((20 + n) as u16).to_be_bytes());
        f[l3 + 6] = IpProtocol::TCP.0;
        f[l3 + 7] = 64;
        f[l3 + 8..l3 + 24].copy_from_slice(&src.octets());
        f[l3 + 24..l3 + 40].copy_from_slice(&dst.octets());
        f[l4 + 4..l4 + 8].copy_from_slice(&7u32.to_be_bytes());
        f[l4 + 12] = 5 << 4;
        f[l4 + 13] = TcpFlags::ACK.0;
        for (k, b) in f[l4 + 20..].iter_mut().enumerate() {
            *b = k as u8;
        }
        let g = tcp_gso(&f, 1220, false).unwrap();
        assert!(g.v6 && g.payload == 3000);
        let mut buf = PacketBuf::from_frame(&f);
        buf.set_gso(Some(g));
        let check = |s: &[u8]| {
            TcpPacket::new_checked(&s[l4..]).unwrap().check_checksum_v6(src, dst).is_ok()
        };
        let segs = cut(&buf, l4, 7, check);
        let lens: Vec<u16> =
            segs.iter().map(|s| u16::from_be_bytes([s[l3 + 4], s[l3 + 5]])).collect();
        assert_eq!(lens, [1240, 1240, 580]);
        let joined: Vec<u8> = segs.iter().flat_map(|s| s[l4 + 20..].to_vec()).collect();
        assert_eq!(joined, f[l4 + 20..]);
    }

    /// Ethernet + IPv6 from 2001:db8::1 to 2001:db8::2 with a routing header of type `rtype`
    /// (next header `proto`; segments left 1, segment list [2001:db8::f, 2001:db8::2]), then
    /// `l4` as the upper-layer header and payload.
    fn routed_frame(rtype: u8, proto: IpProtocol, l4: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 14 + 40];
        f[12..14].copy_from_slice(&EtherType::IPV6.0.to_be_bytes());
        f[14] = 0x60;
        f[18..20].copy_from_slice(&((40 + l4.len()) as u16).to_be_bytes());
        f[20] = IpProtocol::ROUTING.0;
        f[21] = 64;
        f[22..38].copy_from_slice(&V6_SRC.octets());
        f[38..54].copy_from_slice(&V6_SEGMENT.octets());
        f.extend_from_slice(&[proto.0, 4, rtype, 1, 1, 0, 0, 0]);
        f.extend_from_slice(&V6_FINAL.octets());
        f.extend_from_slice(&V6_SEGMENT.octets());
        f.extend_from_slice(l4);
        f
    }

    const V6_SRC: std::net::Ipv6Addr = std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    const V6_SEGMENT: std::net::Ipv6Addr = std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
    const V6_FINAL: std::net::Ipv6Addr = std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xf);

    /// With a Segment Routing Header with segments left, the pseudo-header of the TCP/UDP
    /// checksum holds the final destination, Segment List[0] (RFC 8200 §8.1, RFC 8754 §2),
    /// not the next segment in the destination field; an unknown routing type is left as
    /// the sender made it.
    #[test]
    fn checksums_use_the_final_destination_of_a_routing_header() {
        let l4 = 14 + 40 + 40;
        let mut udp = [0u8; 13];
        UdpRepr { src_port: 1, dst_port: 2 }.emit(&mut udp, 5).unwrap();
        udp[8..].copy_from_slice(b"hello");
        udp[6] = 0x12; // a partial (pseudo-header only) value
        let mut f = routed_frame(4, IpProtocol::UDP, &udp);
        assert!(complete_l4_checksum(&mut f));
        let u = UdpPacket::new_checked(&f[l4..]).unwrap();
        assert!(u.check_checksum_v6(V6_SRC, V6_FINAL).is_ok(), "verifies at the final destination");
        assert!(u.check_checksum_v6(V6_SRC, V6_SEGMENT).is_err());
        // Type 0 (deprecated, RFC 5095) or any other unknown one: nothing is guessed.
        let mut f = routed_frame(0, IpProtocol::UDP, &udp);
        let before = f.clone();
        assert!(!complete_l4_checksum(&mut f));
        assert_eq!(f, before);

        // A TCP super-frame through the same SRH: every segment verifies at the final one.
        let n = 3000;
        let mut tcp = vec![0u8; 20 + n];
        tcp[4..8].copy_from_slice(&7u32.to_be_bytes());
        tcp[12] = 5 << 4;
        tcp[13] = TcpFlags::ACK.0;
        let f = routed_frame(4, IpProtocol::TCP, &tcp);
        let g = tcp_gso(&f, 1200, false).unwrap();
        let mut buf = PacketBuf::from_frame(&f);
        buf.set_gso(Some(g));
        let check = |s: &[u8]| {
            TcpPacket::new_checked(&s[l4..]).unwrap().check_checksum_v6(V6_SRC, V6_FINAL).is_ok()
        };
        assert_eq!(cut(&buf, l4, 7, check).len(), 3);
        // With an unknown routing type it is not taken as a super-frame.
        assert_eq!(tcp_gso(&routed_frame(0, IpProtocol::TCP, &tcp), 1200, false), None);
    }

    #[test]
    fn only_tcp_is_cut() {
        let udp = udp_frame();
        assert_eq!(tcp_gso(&udp, 1000, false), None);
        let mut buf = PacketBuf::from_frame(&udp);
        buf.set_gso(Some(Gso { v6: false, ecn: false, size: 100, payload: 5 }));
        assert!(!segment(&buf, |_| panic!("a segment of a UDP frame")));
        // No payload: nothing to segment. Segments under TCP's minimum: not taken.
        let bare = crate::io::gso::tests::seg(1, 0, 0);
        assert_eq!(tcp_gso(&bare, 1000, false), None);
        let tcp = crate::io::gso::tests::seg(1, 3000, 0);
        assert_eq!(tcp_gso(&tcp, MIN_SEGMENT - 1, false), None);
        assert!(tcp_gso(&tcp, MIN_SEGMENT, false).is_some());
        // A peer announcing an MSS below 88 (TCP_MIN_MSS) still gets 48-octet segments from
        // Linux: such super-frames are cut, not dropped whole as over the MTU.
        assert!(tcp_gso(&tcp, 48, false).is_some());
    }
}
