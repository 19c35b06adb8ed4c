//! ICMPv6 ([RFC 4443]) and generating ICMPv6 errors as a router.
//!
//! Message format (§2.1): type, code, checksum, then a 4-octet field (unused for
//! destination unreachable and time exceeded, the MTU for packet too big, a pointer for
//! parameter problem, identifier/sequence for echo) and the body. The checksum covers
//! the IPv6 pseudo-header (RFC 8200 §8.1, next header 58) and the whole message (§2.3),
//! so verifying and filling need the addresses of the carrying IPv6 header.
//!
//! Error messages quote "as much of invoking packet as possible without the ICMPv6
//! packet exceeding the minimum IPv6 MTU" (§2.4 (c)): at most 1280 − 40 − 8 = 1232
//! octets ([`MAX_QUOTE`]). [`may_send_error`] applies §2.4 (e): no error about an ICMPv6
//! error or a redirect, about a packet to a multicast destination (except Packet Too Big
//! and Parameter Problem code 2), or about a packet whose source is not a single node.
//!
//! [RFC 4443]: https://www.rfc-editor.org/rfc/rfc4443

use core::net::Ipv6Addr;

use crate::checksum;
use crate::field::{be16, be32, need, set_be16};
use crate::icmp;
use crate::ipv6::{self, Ipv6Packet, Ipv6Repr};
use crate::{Error, IpProtocol, Result};

/// Length of the fixed part (type, code, checksum, 4-octet field).
pub const HEADER_LEN: usize = icmp::HEADER_LEN;
/// Largest quote of an invoking packet (§2.4 (c)).
pub const MAX_QUOTE: usize = ipv6::MIN_MTU - ipv6::HEADER_LEN - HEADER_LEN;

/// ICMPv6 message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Icmpv6Type(pub u8);

impl Icmpv6Type {
    /// Destination unreachable (§3.1).
    pub const DEST_UNREACHABLE: Icmpv6Type = Icmpv6Type(1);
    /// Packet too big (§3.2).
    pub const PACKET_TOO_BIG: Icmpv6Type = Icmpv6Type(2);
    /// Time exceeded (§3.3).
    pub const TIME_EXCEEDED: Icmpv6Type = Icmpv6Type(3);
    /// Parameter problem (§3.4).
    pub const PARAM_PROBLEM: Icmpv6Type = Icmpv6Type(4);
    /// Echo request (§4.1).
    pub const ECHO_REQUEST: Icmpv6Type = Icmpv6Type(128);
    /// Echo reply (§4.2).
    pub const ECHO_REPLY: Icmpv6Type = Icmpv6Type(129);
    /// Router solicitation (RFC 4861).
    pub const ROUTER_SOLICIT: Icmpv6Type = Icmpv6Type(133);
    /// Router advertisement (RFC 4861).
    pub const ROUTER_ADVERT: Icmpv6Type = Icmpv6Type(134);
    /// Neighbor solicitation (RFC 4861).
    pub const NEIGHBOR_SOLICIT: Icmpv6Type = Icmpv6Type(135);
    /// Neighbor advertisement (RFC 4861).
    pub const NEIGHBOR_ADVERT: Icmpv6Type = Icmpv6Type(136);
    /// Redirect (RFC 4861).
    pub const REDIRECT: Icmpv6Type = Icmpv6Type(137);

    /// Error messages have types 0–127 (§2.1).
    pub const fn is_error(self) -> bool {
        self.0 < 128
    }
}

/// A zero-copy view of an ICMPv6 message (the upper-layer part of an IPv6 packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    /// Checks that the 8-octet fixed part is present.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Icmpv6Packet { buffer })
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Message type.
    pub fn msg_type(&self) -> Icmpv6Type {
        Icmpv6Type(self.b()[0])
    }

    /// Code.
    pub fn code(&self) -> u8 {
        self.b()[1]
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.b(), 2)
    }

    /// Echo identifier.
    pub fn echo_ident(&self) -> u16 {
        be16(self.b(), 4)
    }

    /// Echo sequence number.
    pub fn echo_seq(&self) -> u16 {
        be16(self.b(), 6)
    }

    /// MTU of a packet-too-big message.
    pub fn mtu(&self) -> u32 {
        be32(self.b(), 4)
    }

    /// Pointer of a parameter-problem message.
    pub fn pointer(&self) -> u32 {
        be32(self.b(), 4)
    }

    /// The body after the 8-octet fixed part (echo data, the quoted invoking packet).
    pub fn data(&self) -> &[u8] {
        &self.b()[HEADER_LEN..]
    }

    /// The whole message.
    pub fn message(&self) -> &[u8] {
        self.b()
    }

    fn pseudo(&self, src: Ipv6Addr, dst: Ipv6Addr) -> u16 {
        let len = u32::try_from(self.b().len()).unwrap_or(u32::MAX);
        checksum::pseudo_header_v6(src, dst, IpProtocol::ICMPV6, len)
    }

    /// Verifies the checksum given the carrying packet's addresses.
    pub fn check_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> Result<()> {
        let ok = checksum::verify_with_pseudo(self.pseudo(src, dst), self.b());
        if ok { Ok(()) } else { Err(Error::BadChecksum) }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    /// Computes the checksum given the carrying packet's addresses.
    pub fn fill_checksum(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        set_be16(self.buffer.as_mut(), 2, 0);
        let c = checksum::checksum_with_pseudo(self.pseudo(src, dst), self.b());
        set_be16(self.buffer.as_mut(), 2, c);
    }
}

/// The error messages this crate builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv6Error {
    /// Type 1; codes 0 no route, 1 administratively prohibited, 2 beyond scope,
    /// 3 address unreachable, 4 port unreachable, 5 source policy, 6 reject route.
    DestUnreachable {
        /// Code.
        code: u8,
    },
    /// Type 2 with the next-hop MTU.
    PacketTooBig {
        /// MTU.
        mtu: u32,
    },
    /// Type 3; code 0 hop limit exceeded in transit, 1 reassembly time exceeded.
    TimeExceeded {
        /// Code.
        code: u8,
    },
    /// Type 4; code 0 erroneous header field, 1 unrecognized next header,
    /// 2 unrecognized option; the pointer is an octet offset into the invoking packet.
    ParamProblem {
        /// Code.
        code: u8,
        /// Pointer.
        pointer: u32,
    },
}

impl Icmpv6Error {
    fn header(&self) -> (u8, u8, u32) {
        match *self {
            Icmpv6Error::DestUnreachable { code } => (1, code, 0),
            Icmpv6Error::PacketTooBig { mtu } => (2, 0, mtu),
            Icmpv6Error::TimeExceeded { code } => (3, code, 0),
            Icmpv6Error::ParamProblem { code, pointer } => (4, code, pointer),
        }
    }
}

/// Writes an ICMPv6 error about the IPv6 packet `invoking` (which must parse), sent
/// from `src` to `dst`; returns the message length (at most 1240).
pub fn emit_error(
    buf: &mut [u8],
    src: Ipv6Addr,
    dst: Ipv6Addr,
    error: Icmpv6Error,
    invoking: &[u8],
) -> Result<usize> {
    let inv = Ipv6Packet::new_checked(invoking)?;
    let q = inv.packet().len().min(MAX_QUOTE);
    let len = icmp::emit_unsummed(buf, error.header(), &inv.packet()[..q])?;
    Icmpv6Packet::new_checked(&mut buf[..len])?.fill_checksum(src, dst);
    Ok(len)
}

/// Writes an echo request or reply from `src` to `dst`; returns the message length.
pub fn emit_echo(
    buf: &mut [u8],
    src: Ipv6Addr,
    dst: Ipv6Addr,
    request: bool,
    ident: u16,
    seq: u16,
    data: &[u8],
) -> Result<usize> {
    let t = if request { Icmpv6Type::ECHO_REQUEST } else { Icmpv6Type::ECHO_REPLY };
    let len = icmp::emit_unsummed(buf, icmp::echo_header(t.0, ident, seq), data)?;
    Icmpv6Packet::new_checked(&mut buf[..len])?.fill_checksum(src, dst);
    Ok(len)
}

/// Whether an ICMPv6 `error` may be sent about `invoking` (RFC 4443 §2.4 (e)). Not
/// covered here (the caller knows): link-layer multicast/broadcast frames, anycast
/// sources, and rate limiting (§2.4 (f)).
pub fn may_send_error<T: AsRef<[u8]>>(invoking: &Ipv6Packet<T>, error: Icmpv6Error) -> bool {
    let src = invoking.src();
    if src.is_unspecified() || src.is_multicast() {
        return false;
    }
    if invoking.dst().is_multicast() {
        let excepted = matches!(
            error,
            Icmpv6Error::PacketTooBig { .. } | Icmpv6Error::ParamProblem { code: 2, .. }
        );
        if !excepted {
            return false;
        }
    }
    if let Ok(h) = invoking.headers()
        && h.upper_protocol == IpProtocol::ICMPV6
        && h.has_l4_header()
    {
        match invoking.packet().get(h.upper_offset) {
            Some(&t) if Icmpv6Type(t).is_error() || Icmpv6Type(t) == Icmpv6Type::REDIRECT => {
                return false;
            }
            None => return false,
            _ => {}
        }
    }
    true
}

/// Builds a complete IPv6 packet carrying an ICMPv6 error about `invoking`, addressed
/// to its source from `src`, hop limit 64. Returns the packet length (≤ 1280).
///
/// This does not apply [`may_send_error`]: call it first.
pub fn build_ipv6_error(
    out: &mut [u8],
    src: Ipv6Addr,
    error: Icmpv6Error,
    invoking: &[u8],
) -> Result<usize> {
    let inv = Ipv6Packet::new_checked(invoking)?;
    let icmp_len = HEADER_LEN + inv.packet().len().min(MAX_QUOTE);
    need(out, ipv6::HEADER_LEN + icmp_len)?;
    let dst = inv.src();
    let hl = Ipv6Repr::new(src, dst, IpProtocol::ICMPV6, icmp_len).emit(out)?;
    let n = emit_error(&mut out[hl..], src, dst, error, invoking)?;
    Ok(hl + n)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ipv6::tests::{a, chain_packet};
    use crate::testutil::never_panics;

    pub(crate) fn echo_packet() -> Vec<u8> {
        let (s, d) = (a("2001:db8::1"), a("2001:db8::2"));
        let mut v = vec![0u8; 40 + 12];
        Ipv6Repr::new(s, d, IpProtocol::ICMPV6, 12).emit(&mut v).unwrap();
        emit_echo(&mut v[40..], s, d, true, 0x1234, 1, b"abcd").unwrap();
        v
    }

    #[test]
    fn echo_golden_checksum() {
        let v = echo_packet();
        let p = Icmpv6Packet::new_checked(&v[40..]).unwrap();
        assert_eq!(p.msg_type(), Icmpv6Type::ECHO_REQUEST);
        assert_eq!((p.echo_ident(), p.echo_seq()), (0x1234, 1));
        assert_eq!(p.data(), b"abcd");
        // Checksum computed independently over the pseudo-header + message.
        assert_eq!(p.checksum(), 0x4d48);
        assert_eq!(p.check_checksum(a("2001:db8::1"), a("2001:db8::2")), Ok(()));
        assert_eq!(p.check_checksum(a("2001:db8::1"), a("2001:db8::3")), Err(Error::BadChecksum));
    }

    #[test]
    fn time_exceeded_quotes_whole_small_packet() {
        let inv = chain_packet();
        let src = a("2001:db8::ff");
        let mut out = [0u8; 1500];
        let n =
            build_ipv6_error(&mut out, src, Icmpv6Error::TimeExceeded { code: 0 }, &inv).unwrap();
        assert_eq!(n, 40 + 8 + inv.len());
        let ip = Ipv6Packet::new_checked(&out[..n]).unwrap();
        assert_eq!(
            (ip.src(), ip.dst(), ip.next_header()),
            (src, a("2001:db8::1"), IpProtocol::ICMPV6)
        );
        let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
        assert_eq!((icmp.msg_type(), icmp.code()), (Icmpv6Type::TIME_EXCEEDED, 0));
        assert_eq!(icmp.data(), &inv[..]);
        assert_eq!(icmp.check_checksum(ip.src(), ip.dst()), Ok(()));
    }

    #[test]
    fn quote_capped_at_min_mtu() {
        let mut big = vec![0u8; 40 + 2000];
        Ipv6Repr::new(a("2001:db8::1"), a("2001:db8::2"), IpProtocol::UDP, 2000)
            .emit(&mut big)
            .unwrap();
        let mut out = [0u8; 1500];
        let n = build_ipv6_error(
            &mut out,
            a("2001:db8::ff"),
            Icmpv6Error::PacketTooBig { mtu: 1450 },
            &big,
        )
        .unwrap();
        assert_eq!(n, ipv6::MIN_MTU);
        let ip = Ipv6Packet::new_checked(&out[..n]).unwrap();
        let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
        assert_eq!(icmp.mtu(), 1450);
        assert_eq!(icmp.check_checksum(ip.src(), ip.dst()), Ok(()));
        assert_eq!(
            build_ipv6_error(
                &mut out[..1279],
                a("::1"),
                Icmpv6Error::PacketTooBig { mtu: 1 },
                &big
            ),
            Err(Error::BufferTooSmall)
        );
    }

    #[test]
    fn suppression_rules() {
        let inv = chain_packet();
        let te = Icmpv6Error::TimeExceeded { code: 0 };
        let ptb = Icmpv6Error::PacketTooBig { mtu: 1280 };
        let p = |v: &[u8]| Ipv6Packet::new_checked(v.to_vec()).unwrap();
        assert!(may_send_error(&p(&inv), te));
        let mut m = inv.clone();
        Ipv6Packet::new_checked(&mut m[..]).unwrap().set_dst(a("ff02::1"));
        assert!(!may_send_error(&p(&m), te));
        assert!(may_send_error(&p(&m), ptb));
        assert!(may_send_error(&p(&m), Icmpv6Error::ParamProblem { code: 2, pointer: 42 }));
        assert!(!may_send_error(&p(&m), Icmpv6Error::ParamProblem { code: 0, pointer: 42 }));
        let mut m = inv.clone();
        Ipv6Packet::new_checked(&mut m[..]).unwrap().set_src(Ipv6Addr::UNSPECIFIED);
        assert!(!may_send_error(&p(&m), te));
        // About an ICMPv6 error: no. About an echo request: yes.
        let mut out = [0u8; 1500];
        let n = build_ipv6_error(&mut out, a("2001:db8::ff"), te, &inv).unwrap();
        assert!(!may_send_error(&p(&out[..n]), te));
        assert!(may_send_error(&p(&echo_packet()), te));
    }

    pub(crate) fn exercise(data: &[u8]) {
        if let Ok(p) = Icmpv6Packet::new_checked(data) {
            let _ = (
                p.msg_type().is_error(),
                p.code(),
                p.echo_ident(),
                p.echo_seq(),
                p.mtu(),
                p.pointer(),
            );
            let _ = (p.data().len(), p.check_checksum(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST));
        }
        if let Ok(ip) = Ipv6Packet::new_checked(data) {
            let _ = may_send_error(&ip, Icmpv6Error::TimeExceeded { code: 0 });
        }
        let mut out = [0u8; 1300];
        if let Ok(n) = build_ipv6_error(
            &mut out,
            Ipv6Addr::LOCALHOST,
            Icmpv6Error::TimeExceeded { code: 0 },
            data,
        ) {
            assert!(n <= ipv6::MIN_MTU);
            let ip = Ipv6Packet::new_checked(&out[..n]).unwrap();
            let icmp = Icmpv6Packet::new_checked(ip.payload()).unwrap();
            assert_eq!(icmp.check_checksum(ip.src(), ip.dst()), Ok(()));
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        never_panics(&[&echo_packet(), &chain_packet()], 12, exercise);
    }
}
