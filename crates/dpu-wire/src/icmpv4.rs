//! ICMP for IPv4 ([RFC 792]) and generating ICMP errors as a router.
//!
//! Every ICMP message starts with type, code, checksum and a 4-octet type-specific
//! field (identifier/sequence for echo, unused or next-hop MTU for destination
//! unreachable per RFC 1191 §4, a pointer for parameter problem); the checksum covers
//! the whole ICMP message (RFC 792, "Checksum").
//!
//! Error messages quote the invoking datagram. RFC 792 asks for "the internet header
//! plus the first 64 bits of the original datagram's data" ([`Quote::Rfc792`]);
//! RFC 1812 §4.3.2.3 lets a router quote as much as fits in a 576-octet datagram
//! ([`Quote::Rfc1812`]). [`may_send_error`] applies the RFC 1122 §3.2.2 /
//! RFC 1812 §4.3.2.7 rules that forbid an error (about an ICMP error, a non-first
//! fragment, a multicast/broadcast destination, a source that is not a single host).
//!
//! [RFC 792]: https://www.rfc-editor.org/rfc/rfc792

use core::net::Ipv4Addr;

use crate::addr::is_single_host_v4;
use crate::checksum;
use crate::field::{be16, be32, need, set_be16};
use crate::icmp;
use crate::ipv4::{self, Ipv4Packet, Ipv4Repr};
use crate::{Error, IpProtocol, Result};

/// Length of the fixed ICMP header (type, code, checksum, 4-octet field).
pub const HEADER_LEN: usize = icmp::HEADER_LEN;
/// The datagram size RFC 1812 §4.3.2.3 bounds an error message to.
pub const RFC1812_MAX_DATAGRAM: usize = 576;

/// ICMP message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Icmpv4Type(pub u8);

impl Icmpv4Type {
    /// Echo reply.
    pub const ECHO_REPLY: Icmpv4Type = Icmpv4Type(0);
    /// Destination unreachable.
    pub const DEST_UNREACHABLE: Icmpv4Type = Icmpv4Type(3);
    /// Source quench (deprecated, RFC 6633).
    pub const SOURCE_QUENCH: Icmpv4Type = Icmpv4Type(4);
    /// Redirect.
    pub const REDIRECT: Icmpv4Type = Icmpv4Type(5);
    /// Echo request.
    pub const ECHO_REQUEST: Icmpv4Type = Icmpv4Type(8);
    /// Time exceeded.
    pub const TIME_EXCEEDED: Icmpv4Type = Icmpv4Type(11);
    /// Parameter problem.
    pub const PARAM_PROBLEM: Icmpv4Type = Icmpv4Type(12);

    /// True for the error messages (which quote an invoking datagram).
    pub const fn is_error(self) -> bool {
        matches!(self.0, 3 | 4 | 5 | 11 | 12)
    }
}

/// Destination-unreachable codes (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1).
pub mod unreachable {
    /// Net unreachable.
    pub const NET: u8 = 0;
    /// Host unreachable.
    pub const HOST: u8 = 1;
    /// Protocol unreachable.
    pub const PROTOCOL: u8 = 2;
    /// Port unreachable.
    pub const PORT: u8 = 3;
    /// Fragmentation needed and DF set (carries the next-hop MTU, RFC 1191).
    pub const FRAG_NEEDED: u8 = 4;
    /// Communication administratively prohibited (RFC 1812).
    pub const ADMIN_PROHIBITED: u8 = 13;
}

/// A zero-copy view of an ICMP message (the IPv4 payload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    /// Checks that the 8-octet header is present.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Icmpv4Packet { buffer })
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Message type.
    pub fn msg_type(&self) -> Icmpv4Type {
        Icmpv4Type(self.b()[0])
    }

    /// Code.
    pub fn code(&self) -> u8 {
        self.b()[1]
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.b(), 2)
    }

    /// The 4-octet type-specific field.
    pub fn rest_of_header(&self) -> u32 {
        be32(self.b(), 4)
    }

    /// Echo identifier.
    pub fn echo_ident(&self) -> u16 {
        be16(self.b(), 4)
    }

    /// Echo sequence number.
    pub fn echo_seq(&self) -> u16 {
        be16(self.b(), 6)
    }

    /// Next-hop MTU of a "fragmentation needed" message (RFC 1191 §4).
    pub fn next_hop_mtu(&self) -> u16 {
        be16(self.b(), 6)
    }

    /// Pointer of a parameter-problem message.
    pub fn pointer(&self) -> u8 {
        self.b()[4]
    }

    /// Everything after the 8-octet header: echo data, or the quoted invoking datagram
    /// of an error.
    pub fn data(&self) -> &[u8] {
        &self.b()[HEADER_LEN..]
    }

    /// The whole message.
    pub fn message(&self) -> &[u8] {
        self.b()
    }

    /// True if the checksum over the whole message verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(self.b())
    }

    /// [`Error::BadChecksum`] unless the checksum verifies.
    pub fn check_checksum(&self) -> Result<()> {
        if self.verify_checksum() { Ok(()) } else { Err(Error::BadChecksum) }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    /// Recomputes the checksum over the whole message.
    pub fn fill_checksum(&mut self) {
        let b = self.buffer.as_mut();
        set_be16(b, 2, 0);
        let c = checksum::checksum(b);
        set_be16(b, 2, c);
    }
}

/// The error messages this crate builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv4Error {
    /// Type 3 with a code from [`unreachable`](mod@unreachable); `next_hop_mtu` is sent for
    /// [`unreachable::FRAG_NEEDED`] and must be 0 otherwise.
    DestUnreachable {
        /// Code.
        code: u8,
        /// Next-hop MTU (RFC 1191).
        next_hop_mtu: u16,
    },
    /// Type 11; code 0 = TTL exceeded in transit, 1 = reassembly time exceeded.
    TimeExceeded {
        /// Code.
        code: u8,
    },
    /// Type 12, code 0 with a pointer to the offending octet.
    ParamProblem {
        /// Octet offset in the invoking datagram.
        pointer: u8,
    },
}

impl Icmpv4Error {
    fn header(&self) -> (u8, u8, u32) {
        match *self {
            Icmpv4Error::DestUnreachable { code, next_hop_mtu } => {
                (3, code, u32::from(next_hop_mtu))
            }
            Icmpv4Error::TimeExceeded { code } => (11, code, 0),
            Icmpv4Error::ParamProblem { pointer } => (12, 0, u32::from(pointer) << 24),
        }
    }
}

/// How much of the invoking datagram an error quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quote {
    /// IP header (options included) + 8 octets of data (RFC 792).
    Rfc792,
    /// As much as keeps the error datagram within 576 octets (RFC 1812 §4.3.2.3),
    /// assuming a 20-octet outer header.
    Rfc1812,
}

/// Length of the quote `quote` takes from `invoking`.
fn quote_len<T: AsRef<[u8]>>(invoking: &Ipv4Packet<T>, quote: Quote) -> usize {
    let total = invoking.total_len();
    match quote {
        Quote::Rfc792 => (invoking.header_len() + 8).min(total),
        Quote::Rfc1812 => total.min(RFC1812_MAX_DATAGRAM - ipv4::MIN_HEADER_LEN - HEADER_LEN),
    }
}

/// Writes an ICMP error message quoting the IPv4 datagram `invoking` (which must parse:
/// its header length decides the quote); returns the message length.
pub fn emit_error(
    buf: &mut [u8],
    error: Icmpv4Error,
    invoking: &[u8],
    quote: Quote,
) -> Result<usize> {
    let inv = Ipv4Packet::new_checked(invoking)?;
    let q = quote_len(&inv, quote);
    let len = icmp::emit_unsummed(buf, error.header(), &inv.packet()[..q])?;
    let c = checksum::checksum(&buf[..len]);
    set_be16(buf, 2, c);
    Ok(len)
}

/// Writes an echo request or reply; returns the message length.
pub fn emit_echo(
    buf: &mut [u8],
    request: bool,
    ident: u16,
    seq: u16,
    data: &[u8],
) -> Result<usize> {
    let t = if request { Icmpv4Type::ECHO_REQUEST } else { Icmpv4Type::ECHO_REPLY };
    let len = icmp::emit_unsummed(buf, icmp::echo_header(t.0, ident, seq), data)?;
    let c = checksum::checksum(&buf[..len]);
    set_be16(buf, 2, c);
    Ok(len)
}

/// Whether an ICMP error may be sent about `invoking` (RFC 1122 §3.2.2, RFC 1812
/// §4.3.2.7). Not covered here (the caller knows): link-layer broadcast frames and
/// subnet-directed broadcasts, and rate limiting (RFC 1812 §4.3.2.8).
pub fn may_send_error<T: AsRef<[u8]>>(invoking: &Ipv4Packet<T>) -> bool {
    if !invoking.has_l4_header() {
        return false;
    }
    if invoking.dst().is_multicast() || invoking.dst().is_broadcast() {
        return false;
    }
    // RFC 1812 §4.3.2.7: the error's destination (the invoking source) is a single host.
    if !is_single_host_v4(invoking.src()) {
        return false;
    }
    if invoking.protocol() == IpProtocol::ICMP {
        // An ICMP error about an ICMP error is forbidden; about a query it is fine.
        match invoking.payload().first() {
            Some(&t) if Icmpv4Type(t).is_error() => return false,
            None => return false,
            _ => {}
        }
    }
    true
}

/// Builds a complete IPv4 datagram carrying an ICMP error about `invoking`, addressed
/// to the invoking datagram's source from `src` (the router's address on the receiving
/// interface); TTL 64. Returns the datagram length.
///
/// This does not apply [`may_send_error`]: call it first.
pub fn build_ipv4_error(
    out: &mut [u8],
    src: Ipv4Addr,
    error: Icmpv4Error,
    invoking: &[u8],
    quote: Quote,
) -> Result<usize> {
    let inv = Ipv4Packet::new_checked(invoking)?;
    let icmp_len = HEADER_LEN + quote_len(&inv, quote);
    need(out, ipv4::MIN_HEADER_LEN + icmp_len)?;
    let repr =
        Ipv4Repr { dont_frag: false, ..Ipv4Repr::new(src, inv.src(), IpProtocol::ICMP, icmp_len) };
    let hl = repr.emit(out)?;
    let n = emit_error(&mut out[hl..], error, invoking, quote)?;
    Ok(hl + n)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ipv4::tests::{FRAG_WITH_OPTIONS, UDP_PKT, golden};
    use crate::testutil::never_panics;

    /// Echo request id 0x1234 seq 1, data "abcd".
    #[rustfmt::skip]
    pub(crate) const ECHO: [u8; 12] = [8, 0, 0x21, 0x04, 0x12, 0x34, 0x00, 0x01, b'a', b'b', b'c', b'd'];

    #[test]
    fn parse_echo() {
        let p = Icmpv4Packet::new_checked(&ECHO[..]).unwrap();
        assert_eq!(p.msg_type(), Icmpv4Type::ECHO_REQUEST);
        assert_eq!((p.echo_ident(), p.echo_seq()), (0x1234, 1));
        assert_eq!(p.data(), b"abcd");
        assert_eq!(p.check_checksum(), Ok(()));
        let mut buf = [0u8; 12];
        assert_eq!(emit_echo(&mut buf, true, 0x1234, 1, b"abcd"), Ok(12));
        assert_eq!(buf, ECHO);
        emit_echo(&mut buf, false, 0x1234, 1, b"abcd").unwrap();
        assert!(Icmpv4Packet::new_checked(&buf[..]).unwrap().verify_checksum());
    }

    #[test]
    fn time_exceeded_rfc792_quote() {
        let inv = golden(&FRAG_WITH_OPTIONS);
        let mut buf = [0u8; 64];
        let n = emit_error(&mut buf, Icmpv4Error::TimeExceeded { code: 0 }, &inv, Quote::Rfc792)
            .unwrap();
        // 8 + 24-octet header (with options) + 8 data octets; padding not quoted.
        assert_eq!(n, 8 + 24 + 8);
        assert_eq!(&buf[..8], &[11, 0, buf[2], buf[3], 0, 0, 0, 0]);
        assert_eq!(&buf[8..n], &inv[..32]);
        let p = Icmpv4Packet::new_checked(&buf[..n]).unwrap();
        assert!(p.verify_checksum() && p.msg_type().is_error());
    }

    #[test]
    fn quote_is_bounded_by_total_length_and_576() {
        let inv = golden(&UDP_PKT); // 28 octets: header + exactly 8
        let mut buf = [0u8; 700];
        let e = Icmpv4Error::DestUnreachable { code: unreachable::FRAG_NEEDED, next_hop_mtu: 1400 };
        let n = emit_error(&mut buf, e, &inv, Quote::Rfc1812).unwrap();
        assert_eq!(n, 8 + 28);
        assert_eq!(Icmpv4Packet::new_checked(&buf[..n]).unwrap().next_hop_mtu(), 1400);

        let mut big = vec![0u8; 1000];
        let repr = Ipv4Repr::new(
            Ipv4Addr::new(192, 0, 2, 1),
            Ipv4Addr::new(198, 51, 100, 2),
            IpProtocol::UDP,
            980,
        );
        repr.emit(&mut big).unwrap();
        let n = build_ipv4_error(&mut buf, Ipv4Addr::new(203, 0, 113, 1), e, &big, Quote::Rfc1812)
            .unwrap();
        assert_eq!(n, 576);
        let ip = Ipv4Packet::new_checked(&buf[..n]).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!(ip.dst(), Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(ip.protocol(), IpProtocol::ICMP);
        assert!(Icmpv4Packet::new_checked(ip.payload()).unwrap().verify_checksum());
        let n = build_ipv4_error(&mut buf, Ipv4Addr::new(203, 0, 113, 1), e, &big, Quote::Rfc792)
            .unwrap();
        assert_eq!(n, 20 + 8 + 28);
        assert_eq!(
            build_ipv4_error(&mut buf[..55], Ipv4Addr::LOCALHOST, e, &big, Quote::Rfc792),
            Err(Error::BufferTooSmall)
        );
        assert_eq!(emit_error(&mut buf, e, &big[..10], Quote::Rfc792), Err(Error::Truncated));
    }

    #[test]
    fn param_problem_pointer() {
        let inv = golden(&UDP_PKT);
        let mut buf = [0u8; 64];
        let n = emit_error(&mut buf, Icmpv4Error::ParamProblem { pointer: 9 }, &inv, Quote::Rfc792)
            .unwrap();
        assert_eq!(Icmpv4Packet::new_checked(&buf[..n]).unwrap().pointer(), 9);
    }

    #[test]
    fn error_suppression_rules() {
        let inv = golden(&UDP_PKT);
        assert!(may_send_error(&Ipv4Packet::new_checked(&inv[..]).unwrap()));
        let with = |f: &dyn Fn(&mut Ipv4Packet<&mut [u8]>)| {
            let mut v = inv.clone();
            f(&mut Ipv4Packet::new_checked(&mut v[..]).unwrap());
            may_send_error(&Ipv4Packet::new_checked(&v[..]).unwrap())
        };
        assert!(!with(&|p| p.set_dst(Ipv4Addr::new(224, 0, 0, 5))));
        assert!(!with(&|p| p.set_dst(Ipv4Addr::BROADCAST)));
        assert!(!with(&|p| p.set_src(Ipv4Addr::UNSPECIFIED)));
        assert!(!with(&|p| p.set_src(Ipv4Addr::new(127, 0, 0, 1))));
        assert!(!with(&|p| p.set_src(Ipv4Addr::new(240, 0, 0, 1))));
        // Non-first fragment.
        let mut v = golden(&FRAG_WITH_OPTIONS);
        v[7] = 1;
        assert!(!may_send_error(&Ipv4Packet::new_checked(&v[..]).unwrap()));
        // ICMP error about an ICMP error: no; about an echo: yes.
        let mut buf = [0u8; 128];
        let n = build_ipv4_error(
            &mut buf,
            Ipv4Addr::new(203, 0, 113, 1),
            Icmpv4Error::TimeExceeded { code: 0 },
            &inv,
            Quote::Rfc792,
        )
        .unwrap();
        assert!(!may_send_error(&Ipv4Packet::new_checked(&buf[..n]).unwrap()));
        let mut echo = vec![0u8; 20 + ECHO.len()];
        Ipv4Repr::new(
            Ipv4Addr::new(192, 0, 2, 1),
            Ipv4Addr::new(198, 51, 100, 2),
            IpProtocol::ICMP,
            ECHO.len(),
        )
        .emit(&mut echo)
        .unwrap();
        echo[20..].copy_from_slice(&ECHO);
        assert!(may_send_error(&Ipv4Packet::new_checked(&echo[..]).unwrap()));
    }

    pub(crate) fn exercise(data: &[u8]) {
        if let Ok(p) = Icmpv4Packet::new_checked(data) {
            let _ = (
                p.msg_type().is_error(),
                p.code(),
                p.rest_of_header(),
                p.echo_ident(),
                p.echo_seq(),
            );
            let _ = (p.next_hop_mtu(), p.pointer(), p.data().len(), p.check_checksum());
        }
        // Treat the bytes as an invoking IPv4 datagram too.
        if let Ok(ip) = Ipv4Packet::new_checked(data) {
            let _ = may_send_error(&ip);
        }
        let mut out = [0u8; 600];
        let e = Icmpv4Error::TimeExceeded { code: 0 };
        for q in [Quote::Rfc792, Quote::Rfc1812] {
            if let Ok(n) = build_ipv4_error(&mut out, Ipv4Addr::LOCALHOST, e, data, q) {
                assert!(n <= RFC1812_MAX_DATAGRAM);
                let ip = Ipv4Packet::new_checked(&out[..n]).unwrap();
                assert!(ip.verify_checksum());
                assert!(Icmpv4Packet::new_checked(ip.payload()).unwrap().verify_checksum());
            }
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        never_panics(&[&ECHO, &golden(&UDP_PKT), &golden(&FRAG_WITH_OPTIONS)], 11, exercise);
    }
}
