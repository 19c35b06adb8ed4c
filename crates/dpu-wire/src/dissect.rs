//! One-pass dissection of an Ethernet frame into the fields a switch keys on.
//!
//! [`dissect`] walks L2 (VLAN tags), L3 (IPv4 or IPv6 with its extension-header chain),
//! L4 (ports, TCP flags, ICMP type/code/identifier) and recognises VXLAN / Geneve by
//! their UDP destination ports, validating every header it touches. Offsets are from
//! the start of the frame, so the data plane can hand sub-slices to the views of the
//! protocol modules without parsing twice.
//!
//! Structure only: checksums are not verified here (a router verifies the IPv4 header
//! checksum with [`crate::ipv4::Ipv4Packet::check_checksum`], RFC 1812 §5.2.2; L4
//! checksums are end-to-end). Non-first fragments have no L4 information.

use core::net::IpAddr;

use crate::ethernet::{self, EtherType, L2Info};
use crate::geneve::{self, GenevePacket};
use crate::icmpv4::Icmpv4Packet;
use crate::icmpv6::Icmpv6Packet;
use crate::ipv4::Ipv4Packet;
use crate::ipv6::Ipv6Packet;
use crate::tcp::{TcpFlags, TcpPacket};
use crate::udp::UdpPacket;
use crate::vxlan::{self, VxlanPacket};
use crate::{IpProtocol, Result, arp::ArpPacket};

/// The IP layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct L3Info {
    /// Offset of the IP header.
    pub offset: usize,
    /// End of the IP packet (its length field; Ethernet padding excluded).
    pub end: usize,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol (after IPv6 extension headers).
    pub protocol: IpProtocol,
    /// Offset of the upper-layer header (or of the fragment data of a non-first fragment).
    pub l4_offset: usize,
    /// TTL / hop limit.
    pub ttl: u8,
    /// DSCP.
    pub dscp: u8,
    /// Any fragment, first included.
    pub is_fragment: bool,
    /// False for non-first fragments: no upper-layer header in this packet.
    pub has_l4_header: bool,
}

/// The transport layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum L4Info {
    /// TCP ports and flags.
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Control bits.
        flags: TcpFlags,
    },
    /// UDP ports.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
    },
    /// ICMP or ICMPv6 type, code and the identifier field (echo id for queries).
    Icmp {
        /// Type.
        msg_type: u8,
        /// Code.
        code: u8,
        /// Identifier (octets 4–5).
        ident: u16,
    },
}

impl L4Info {
    /// `(src_port, dst_port)` for TCP and UDP.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match *self {
            L4Info::Tcp { src_port, dst_port, .. } | L4Info::Udp { src_port, dst_port } => {
                Some((src_port, dst_port))
            }
            L4Info::Icmp { .. } => None,
        }
    }
}

/// Overlay kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelKind {
    /// VXLAN (RFC 7348).
    Vxlan,
    /// Geneve (RFC 8926) carrying Ethernet.
    Geneve,
}

/// A recognised overlay header (UDP to 4789 or 6081 with a valid header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TunnelInfo {
    /// Which overlay.
    pub kind: TunnelKind,
    /// VNI.
    pub vni: u32,
    /// Offset of the overlay header.
    pub offset: usize,
    /// Offset of the inner Ethernet frame.
    pub inner_offset: usize,
    /// End of the inner frame (the UDP length bound).
    pub inner_end: usize,
    /// Geneve O bit (control packet); false for VXLAN.
    pub oam: bool,
    /// Geneve critical option present; false for VXLAN.
    pub critical: bool,
}

/// Everything [`dissect`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameInfo {
    /// Ethernet and VLAN tags.
    pub l2: L2Info,
    /// IP layer, for IPv4 and IPv6 frames.
    pub l3: Option<L3Info>,
    /// Transport layer, for TCP, UDP, ICMP and ICMPv6 (not for non-first fragments).
    pub l4: Option<L4Info>,
    /// Overlay header, when the UDP destination port is VXLAN's or Geneve's.
    pub tunnel: Option<TunnelInfo>,
}

/// Dissects an Ethernet frame. Fails with the reason of the first header that does not
/// validate; ARP bodies are validated too ([`ArpPacket::new_checked`]). Unknown
/// EtherTypes and protocols are not errors: the corresponding layers are `None`.
pub fn dissect(frame: &[u8]) -> Result<FrameInfo> {
    let l2 = ethernet::parse_l2(frame)?;
    let mut info = FrameInfo { l2, l3: None, l4: None, tunnel: None };
    let off = l2.payload_offset;
    let rest = &frame[off..];
    let l3 = match l2.ethertype {
        EtherType::ARP => {
            ArpPacket::new_checked(rest)?;
            return Ok(info);
        }
        EtherType::IPV4 => {
            let ip = Ipv4Packet::new_checked(rest)?;
            L3Info {
                offset: off,
                end: off + ip.total_len(),
                src: IpAddr::V4(ip.src()),
                dst: IpAddr::V4(ip.dst()),
                protocol: ip.protocol(),
                l4_offset: off + ip.header_len(),
                ttl: ip.ttl(),
                dscp: ip.dscp(),
                is_fragment: ip.is_fragment(),
                has_l4_header: ip.has_l4_header(),
            }
        }
        EtherType::IPV6 => {
            let ip = Ipv6Packet::new_checked(rest)?;
            let h = ip.headers()?;
            L3Info {
                offset: off,
                end: off + ip.packet().len(),
                src: IpAddr::V6(ip.src()),
                dst: IpAddr::V6(ip.dst()),
                protocol: h.upper_protocol,
                l4_offset: off + h.upper_offset,
                ttl: ip.hop_limit(),
                dscp: ip.dscp(),
                is_fragment: h.is_fragment(),
                has_l4_header: h.has_l4_header(),
            }
        }
        _ => return Ok(info),
    };
    info.l3 = Some(l3);
    if !l3.has_l4_header {
        return Ok(info);
    }
    let l4 = &frame[l3.l4_offset..l3.end];
    info.l4 = match l3.protocol {
        IpProtocol::TCP => {
            let t = TcpPacket::new_checked(l4)?;
            Some(L4Info::Tcp { src_port: t.src_port(), dst_port: t.dst_port(), flags: t.flags() })
        }
        IpProtocol::UDP if l3.is_fragment => {
            // A first fragment holds only the start of the datagram (RFC 791 §2.3, RFC 8200
            // §4.5), so its UDP length covers more than the fragment: it is forwarded with
            // its ports, as Linux and OVS do, and its header cannot be checked whole.
            let header = l4.get(..crate::udp::HEADER_LEN).ok_or(crate::Error::Truncated)?;
            let port = |at: usize| u16::from_be_bytes([header[at], header[at + 1]]);
            let (src_port, dst_port) = (port(0), port(2));
            let payload = &l4[crate::udp::HEADER_LEN..];
            let at = l3.l4_offset + crate::udp::HEADER_LEN;
            info.tunnel = tunnel(dst_port, payload, at).ok().flatten();
            Some(L4Info::Udp { src_port, dst_port })
        }
        IpProtocol::UDP => {
            let u = UdpPacket::new_checked(l4)?;
            // A tenant's datagram to an overlay port that holds no overlay header is plain
            // UDP to a bridge; what is not a tunnel is left to the uplink to refuse.
            let at = l3.l4_offset + crate::udp::HEADER_LEN;
            info.tunnel = tunnel(u.dst_port(), u.payload(), at).ok().flatten();
            Some(L4Info::Udp { src_port: u.src_port(), dst_port: u.dst_port() })
        }
        IpProtocol::ICMP => {
            let i = Icmpv4Packet::new_checked(l4)?;
            Some(L4Info::Icmp { msg_type: i.msg_type().0, code: i.code(), ident: i.echo_ident() })
        }
        IpProtocol::ICMPV6 => {
            let i = Icmpv6Packet::new_checked(l4)?;
            Some(L4Info::Icmp { msg_type: i.msg_type().0, code: i.code(), ident: i.echo_ident() })
        }
        _ => None,
    };
    Ok(info)
}

fn tunnel(dst_port: u16, payload: &[u8], offset: usize) -> Result<Option<TunnelInfo>> {
    let inner_end = offset + payload.len();
    Ok(match dst_port {
        vxlan::UDP_PORT => {
            let v = VxlanPacket::new_checked(payload)?;
            Some(TunnelInfo {
                kind: TunnelKind::Vxlan,
                vni: v.vni(),
                offset,
                inner_offset: offset + vxlan::HEADER_LEN,
                inner_end,
                oam: false,
                critical: false,
            })
        }
        geneve::UDP_PORT => {
            let g = GenevePacket::new_checked(payload)?;
            if g.protocol() != EtherType::TEB {
                return Ok(None);
            }
            Some(TunnelInfo {
                kind: TunnelKind::Geneve,
                vni: g.vni(),
                offset,
                inner_offset: offset + g.header_len(),
                inner_end,
                oam: g.is_oam(),
                critical: g.has_critical_option(),
            })
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::encap::tests::{underlay_v4, underlay_v6};
    use crate::encap::{Tunnel, encapsulate};
    use crate::ethernet::tests::{QINQ, UNTAGGED};
    use crate::testutil::never_panics;
    use core::net::Ipv4Addr;

    fn with_l2(l3: &[u8], ethertype: [u8; 2]) -> Vec<u8> {
        let mut f = UNTAGGED[..12].to_vec();
        f.extend_from_slice(&ethertype);
        f.extend_from_slice(l3);
        f
    }

    #[test]
    fn ipv4_udp() {
        let ip = crate::ipv4::tests::golden(&crate::ipv4::tests::UDP_PKT);
        let mut f = with_l2(&ip, [0x08, 0x00]);
        f.extend_from_slice(&[0; 6]); // padding
        let i = dissect(&f).unwrap();
        let l3 = i.l3.unwrap();
        assert_eq!((l3.offset, l3.l4_offset, l3.end), (14, 34, 42));
        assert_eq!(l3.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(i.l4.and_then(|l| l.ports()), Some((12345, 53)));
        assert_eq!(i.tunnel, None);
    }

    #[test]
    fn ipv6_chain_and_fragments() {
        let pkt = crate::ipv6::tests::chain_packet();
        let f = with_l2(&pkt, [0x86, 0xdd]);
        let i = dissect(&f).unwrap();
        let l3 = i.l3.unwrap();
        assert!(l3.is_fragment && l3.has_l4_header);
        assert_eq!(l3.protocol, IpProtocol::UDP);
        assert_eq!(i.l4.and_then(|l| l.ports()), Some((1234, 5678)));
        // A first fragment's UDP length covers the whole datagram, not the fragment.
        let mut first = pkt.clone();
        let udp_len = first.len() - (40 + 24 + 8) + 4000;
        first[40 + 24 + 8 + 4..40 + 24 + 8 + 6].copy_from_slice(&(udp_len as u16).to_be_bytes());
        let i = dissect(&with_l2(&first, [0x86, 0xdd])).unwrap();
        assert_eq!(i.l4.and_then(|l| l.ports()), Some((1234, 5678)));
        let mut later = pkt.clone();
        later[40 + 24 + 3] = 0x08; // offset 8
        let i = dissect(&with_l2(&later, [0x86, 0xdd])).unwrap();
        assert!(i.l3.is_some_and(|l| !l.has_l4_header) && i.l4.is_none());
    }

    #[test]
    fn tcp_icmp_arp_and_other() {
        let syn = crate::tcp::tests::syn();
        let mut ip = vec![0u8; 20];
        crate::ipv4::Ipv4Repr::new(
            Ipv4Addr::LOCALHOST,
            Ipv4Addr::LOCALHOST,
            IpProtocol::TCP,
            syn.len(),
        )
        .emit(&mut ip)
        .unwrap();
        ip.extend_from_slice(&syn);
        let i = dissect(&with_l2(&ip, [0x08, 0x00])).unwrap();
        assert!(matches!(i.l4, Some(L4Info::Tcp { dst_port: 443, flags: TcpFlags::SYN, .. })));

        let v6 = crate::icmpv6::tests::echo_packet();
        let i = dissect(&with_l2(&v6, [0x86, 0xdd])).unwrap();
        assert_eq!(i.l4, Some(L4Info::Icmp { msg_type: 128, code: 0, ident: 0x1234 }));

        let i = dissect(&with_l2(&crate::arp::tests::REQUEST, [0x08, 0x06])).unwrap();
        assert!(i.l3.is_none());
        assert_eq!(dissect(&with_l2(&[0; 10], [0x08, 0x06])), Err(Error::Truncated));
        let i = dissect(&QINQ[..22]);
        assert_eq!(i, Err(Error::Truncated)); // IPv6 header missing
        let i = dissect(&with_l2(&[1, 2, 3], [0x88, 0xcc])).unwrap();
        assert_eq!((i.l2.ethertype, i.l3), (EtherType::LLDP, None));
    }

    #[test]
    fn tunnels_recognised() {
        let inner =
            with_l2(&crate::ipv4::tests::golden(&crate::ipv4::tests::UDP_PKT), [0x08, 0x00]);
        for (under, tunnel) in [
            (underlay_v4(), Tunnel::Vxlan { vni: 77 }),
            (underlay_v6(), Tunnel::Vxlan { vni: 77 }),
            (underlay_v4(), Tunnel::Geneve { vni: 77, oam: false, options: &[] }),
        ] {
            let mut buf = vec![0u8; 200];
            let hl = crate::encap::header_len(&under, &tunnel);
            buf[hl..hl + inner.len()].copy_from_slice(&inner);
            let n = encapsulate(&mut buf, &under, &tunnel, inner.len()).unwrap();
            let i = dissect(&buf[..n]).unwrap();
            let t = i.tunnel.unwrap();
            assert_eq!((t.vni, t.inner_offset, t.inner_end), (77, hl, n));
            let inner_info = dissect(&buf[t.inner_offset..t.inner_end]).unwrap();
            assert_eq!(inner_info.l4.and_then(|l| l.ports()), Some((12345, 53)));
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        let ip = crate::ipv4::tests::golden(&crate::ipv4::tests::UDP_PKT);
        let v6 = crate::ipv6::tests::chain_packet();
        let goldens = [with_l2(&ip, [0x08, 0x00]), with_l2(&v6, [0x86, 0xdd]), QINQ.to_vec()];
        let refs: Vec<&[u8]> = goldens.iter().map(Vec::as_slice).collect();
        never_panics(&refs, 14, |d| {
            if let Ok(i) = dissect(d) {
                if let Some(l3) = i.l3 {
                    assert!(
                        l3.offset <= l3.l4_offset && l3.l4_offset <= l3.end && l3.end <= d.len()
                    );
                }
                if let Some(t) = i.tunnel {
                    assert!(t.inner_offset <= t.inner_end && t.inner_end <= d.len());
                }
            }
        });
    }
}
