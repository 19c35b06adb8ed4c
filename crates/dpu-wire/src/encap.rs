//! Building VXLAN and Geneve encapsulations in front of an inner Ethernet frame.
//!
//! The data plane keeps headroom in its packet buffers: the inner frame already sits at
//! `buf[hl..hl + inner_len]` with `hl = header_len(..)`, and [`encapsulate`] writes the
//! outer Ethernet (optionally VLAN-tagged), IPv4 or IPv6, UDP and overlay headers into
//! `buf[..hl]` without moving the inner frame.
//!
//! Outer header choices, with their sources:
//! * IPv4: DF set and identification 0 — VTEPs "MUST NOT fragment VXLAN packets"
//!   (RFC 7348 §4.3), and atomic datagrams may use any ID (RFC 6864 §4.1);
//! * UDP checksum over IPv4 is zero unless asked for (RFC 7348 §5 "SHOULD be
//!   transmitted as zero"; RFC 8926 §3.3 lets Geneve do the same);
//! * over IPv6 it is always computed (RFC 8200 §8.1; the zero-checksum exception of
//!   RFC 6935/6936 is not used), which reads the inner frame once;
//! * the UDP source port is the caller's flow-entropy value ([`crate::vxlan::source_port`]);
//! * the outer ECN field is a copy of the inner IPv4/IPv6 packet's (RFC 6040 §4.1 normal
//!   mode; Not-ECT for anything else), so the underlay can mark congestion; the outer DSCP
//!   is the caller's. Decapsulation's side is [`crate::ecn::decapsulate`].

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::ethernet::{EtherType, EthernetRepr, MacAddr, VlanTag};
use crate::field::need;
use crate::geneve::{GeneveOption, GeneveRepr};
use crate::ipv4::{self, Ipv4Repr};
use crate::ipv6::{self, Ipv6Repr};
use crate::udp::{self, UdpPacket, UdpRepr};
use crate::{Error, IpProtocol, Result, ecn, geneve, vxlan};

/// Outer IP addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnderlayAddrs {
    /// IPv4 underlay.
    V4 {
        /// Local VTEP.
        src: Ipv4Addr,
        /// Remote VTEP.
        dst: Ipv4Addr,
    },
    /// IPv6 underlay.
    V6 {
        /// Local VTEP.
        src: Ipv6Addr,
        /// Remote VTEP.
        dst: Ipv6Addr,
    },
}

/// Everything about the outer headers except the overlay header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Underlay {
    /// Next-hop MAC.
    pub dst_mac: MacAddr,
    /// Our uplink MAC.
    pub src_mac: MacAddr,
    /// Optional outer VLAN tag.
    pub vlan: Option<VlanTag>,
    /// Outer addresses.
    pub addrs: UnderlayAddrs,
    /// TTL / hop limit.
    pub ttl: u8,
    /// Outer DSCP (6 bits); the outer ECN field copies the inner one.
    pub dscp: u8,
    /// UDP source port (flow entropy).
    pub src_port: u16,
    /// Compute the UDP checksum over IPv4 (always computed over IPv6).
    pub udp_checksum_v4: bool,
}

/// The overlay header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tunnel<'a> {
    /// VXLAN to UDP port 4789.
    Vxlan {
        /// VNI.
        vni: u32,
    },
    /// Geneve to UDP port 6081 carrying Ethernet.
    Geneve {
        /// VNI.
        vni: u32,
        /// O bit.
        oam: bool,
        /// Options.
        options: &'a [GeneveOption<'a>],
    },
}

impl Tunnel<'_> {
    fn header_len(&self) -> usize {
        match self {
            Tunnel::Vxlan { .. } => vxlan::HEADER_LEN,
            Tunnel::Geneve { options, .. } => {
                geneve::HEADER_LEN + options.iter().map(GeneveOption::wire_len).sum::<usize>()
            }
        }
    }

    fn port(&self) -> u16 {
        match self {
            Tunnel::Vxlan { .. } => vxlan::UDP_PORT,
            Tunnel::Geneve { .. } => geneve::UDP_PORT,
        }
    }
}

/// Length of the outer headers [`encapsulate`] writes.
pub fn header_len(underlay: &Underlay, tunnel: &Tunnel<'_>) -> usize {
    let l2 = crate::ethernet::HEADER_LEN
        + if underlay.vlan.is_some() { crate::ethernet::VLAN_TAG_LEN } else { 0 };
    let l3 = match underlay.addrs {
        UnderlayAddrs::V4 { .. } => ipv4::MIN_HEADER_LEN,
        UnderlayAddrs::V6 { .. } => ipv6::HEADER_LEN,
    };
    l2 + l3 + udp::HEADER_LEN + tunnel.header_len()
}

/// Writes the outer headers into `buf[..header_len]`, in front of the inner frame that
/// already occupies `buf[header_len..header_len + inner_len]`. Returns the total frame
/// length.
pub fn encapsulate(
    buf: &mut [u8],
    underlay: &Underlay,
    tunnel: &Tunnel<'_>,
    inner_len: usize,
) -> Result<usize> {
    let hl = header_len(underlay, tunnel);
    let total = hl + inner_len;
    need(buf, total)?;
    let vlans = underlay.vlan.as_slice();
    let (ethertype, l3_len) = match underlay.addrs {
        UnderlayAddrs::V4 { .. } => (EtherType::IPV4, ipv4::MIN_HEADER_LEN),
        UnderlayAddrs::V6 { .. } => (EtherType::IPV6, ipv6::HEADER_LEN),
    };
    let eth = EthernetRepr { dst: underlay.dst_mac, src: underlay.src_mac, vlans, ethertype };
    let l3 = eth.emit(buf)?;
    let l4 = l3 + l3_len;
    let udp_len = total - l4;
    let ip_payload_len = udp_len;
    let ecn = ecn::of_frame(&buf[hl..total]).unwrap_or(ecn::NOT_ECT);
    match underlay.addrs {
        UnderlayAddrs::V4 { src, dst } => {
            let repr = Ipv4Repr {
                ttl: underlay.ttl,
                dscp: underlay.dscp,
                ecn,
                ..Ipv4Repr::new(src, dst, IpProtocol::UDP, ip_payload_len)
            };
            repr.emit(&mut buf[l3..])?;
        }
        UnderlayAddrs::V6 { src, dst } => {
            if underlay.dscp > 0x3f {
                return Err(Error::InvalidArgument);
            }
            let repr = Ipv6Repr {
                hop_limit: underlay.ttl,
                traffic_class: (underlay.dscp << 2) | ecn,
                ..Ipv6Repr::new(src, dst, IpProtocol::UDP, ip_payload_len)
            };
            repr.emit(&mut buf[l3..])?;
        }
    }
    let udp_repr = UdpRepr { src_port: underlay.src_port, dst_port: tunnel.port() };
    let ov = l4 + udp_repr.emit(&mut buf[l4..], udp_len - udp::HEADER_LEN)?;
    match *tunnel {
        Tunnel::Vxlan { vni } => {
            vxlan::emit(&mut buf[ov..], vni)?;
        }
        Tunnel::Geneve { vni, oam, options } => {
            GeneveRepr { oam, protocol: EtherType::TEB, vni, options }.emit(&mut buf[ov..])?;
        }
    }
    let mut u = UdpPacket::new_checked(&mut buf[l4..total])?;
    match underlay.addrs {
        UnderlayAddrs::V4 { src, dst } if underlay.udp_checksum_v4 => u.fill_checksum_v4(src, dst),
        UnderlayAddrs::V4 { .. } => {}
        UnderlayAddrs::V6 { src, dst } => u.fill_checksum_v6(src, dst),
    }
    Ok(total)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::geneve::GenevePacket;
    use crate::ipv4::Ipv4Packet;
    use crate::ipv6::Ipv6Packet;
    use crate::vxlan::VxlanPacket;

    pub(crate) fn underlay_v4() -> Underlay {
        Underlay {
            dst_mac: MacAddr([2, 0, 0, 0, 0, 0x22]),
            src_mac: MacAddr([2, 0, 0, 0, 0, 0x11]),
            vlan: None,
            addrs: UnderlayAddrs::V4 {
                src: Ipv4Addr::new(192, 0, 2, 1),
                dst: Ipv4Addr::new(192, 0, 2, 2),
            },
            ttl: 64,
            dscp: 0,
            src_port: 50000,
            udp_checksum_v4: false,
        }
    }

    pub(crate) fn underlay_v6() -> Underlay {
        Underlay {
            addrs: UnderlayAddrs::V6 {
                src: "2001:db8::1".parse().unwrap(),
                dst: "2001:db8::2".parse().unwrap(),
            },
            vlan: Some(VlanTag::c_tag(100)),
            ..underlay_v4()
        }
    }

    const INNER: &[u8] = &[0xaa; 60];

    fn build(u: &Underlay, t: &Tunnel<'_>) -> (Vec<u8>, usize) {
        let hl = header_len(u, t);
        let mut buf = vec![0u8; hl + INNER.len()];
        buf[hl..].copy_from_slice(INNER);
        let n = encapsulate(&mut buf, u, t, INNER.len()).unwrap();
        assert_eq!(n, buf.len());
        (buf, hl)
    }

    #[test]
    fn vxlan_v4_layout() {
        let (f, hl) = build(&underlay_v4(), &Tunnel::Vxlan { vni: 42 });
        assert_eq!(hl, vxlan::IPV4_OVERHEAD);
        let ip = Ipv4Packet::new_checked(&f[14..]).unwrap();
        assert!(ip.verify_checksum() && ip.dont_frag());
        assert_eq!(ip.total_len(), 20 + 8 + 8 + INNER.len());
        let u = UdpPacket::new_checked(ip.payload()).unwrap();
        assert_eq!((u.src_port(), u.dst_port(), u.checksum()), (50000, 4789, 0));
        let v = VxlanPacket::new_checked(u.payload()).unwrap();
        assert_eq!((v.vni(), v.payload()), (42, INNER));
        let with_csum = Underlay { udp_checksum_v4: true, ..underlay_v4() };
        let (f, _) = build(&with_csum, &Tunnel::Vxlan { vni: 42 });
        let ip = Ipv4Packet::new_checked(&f[14..]).unwrap();
        let u = UdpPacket::new_checked(ip.payload()).unwrap();
        assert!(u.checksum() != 0 && u.check_checksum_v4(ip.src(), ip.dst()).is_ok());
    }

    #[test]
    fn geneve_v6_layout() {
        let opts = [GeneveOption { class: 0x0102, option_type: 0x01, data: &[1, 2, 3, 4] }];
        let (f, hl) = build(&underlay_v6(), &Tunnel::Geneve { vni: 7, oam: false, options: &opts });
        assert_eq!(hl, 18 + 40 + 8 + 16);
        let ip = Ipv6Packet::new_checked(&f[18..]).unwrap();
        let u = UdpPacket::new_checked(ip.payload()).unwrap();
        assert_eq!(u.dst_port(), 6081);
        assert_eq!(u.check_checksum_v6(ip.src(), ip.dst()), Ok(()));
        let g = GenevePacket::new_checked(u.payload()).unwrap();
        assert_eq!((g.vni(), g.options().count(), g.payload()), (7, 1, INNER));
    }

    /// RFC 6040 §4.1 normal mode: the outer ECN field copies the inner packet's, under
    /// IPv4 and IPv6 underlays; the outer DSCP stays the caller's.
    #[test]
    fn outer_ecn_copies_the_inner() {
        let t = Tunnel::Vxlan { vni: 1 };
        for (inner_ecn, inner_v6) in [(ecn::ECT0, false), (ecn::CE, false), (ecn::ECT1, true)] {
            let mut inner = vec![0u8; 60];
            inner[12..14].copy_from_slice(if inner_v6 { &[0x86, 0xdd] } else { &[0x08, 0x00] });
            if inner_v6 {
                inner[14..16].copy_from_slice(&[0x60, inner_ecn << 4]);
            } else {
                inner[14..16].copy_from_slice(&[0x45, 0xfc | inner_ecn]);
            }
            for u in [underlay_v4(), underlay_v6()] {
                let u = Underlay { dscp: 10, ..u };
                let hl = header_len(&u, &t);
                let mut buf = vec![0u8; hl + inner.len()];
                buf[hl..].copy_from_slice(&inner);
                encapsulate(&mut buf, &u, &t, inner.len()).unwrap();
                // The outer IP header: after Ethernet, before UDP and VXLAN (8 octets each).
                let l3 =
                    hl - 16 - if matches!(u.addrs, UnderlayAddrs::V4 { .. }) { 20 } else { 40 };
                let (dscp, ecn) = match u.addrs {
                    UnderlayAddrs::V4 { .. } => {
                        let ip = Ipv4Packet::new_checked(&buf[l3..]).unwrap();
                        assert!(ip.verify_checksum());
                        (ip.dscp(), ip.ecn())
                    }
                    UnderlayAddrs::V6 { .. } => {
                        let ip = Ipv6Packet::new_checked(&buf[l3..]).unwrap();
                        (ip.dscp(), ip.ecn())
                    }
                };
                assert_eq!((dscp, ecn), (10, inner_ecn), "{:?} inner v6 {inner_v6}", u.addrs);
            }
        }
        // Not IP inside (as INNER): Not-ECT.
        let (f, _) = build(&underlay_v4(), &t);
        assert_eq!(Ipv4Packet::new_checked(&f[14..]).unwrap().ecn(), ecn::NOT_ECT);
    }

    #[test]
    fn errors() {
        let u = underlay_v4();
        let t = Tunnel::Vxlan { vni: 1 };
        let mut small = vec![0u8; header_len(&u, &t) + 10];
        assert_eq!(encapsulate(&mut small, &u, &t, 11), Err(Error::BufferTooSmall));
        assert_eq!(
            encapsulate(&mut small, &u, &Tunnel::Vxlan { vni: 1 << 24 }, 10),
            Err(Error::InvalidArgument)
        );
        let bad = Underlay { dscp: 64, ..underlay_v6() };
        let mut buf = vec![0u8; 200];
        assert_eq!(encapsulate(&mut buf, &bad, &t, 10), Err(Error::InvalidArgument));
        let mut huge = vec![0u8; 70_000];
        assert_eq!(encapsulate(&mut huge, &u, &t, 65_500), Err(Error::InvalidArgument));
    }
}
