//! IPv4 ([RFC 791] §3.1).
//!
//! ```text
//!  0       4       8              16    19             31
//!  |version|  IHL  |  DSCP  |ECN |        total length       |
//!  |        identification         |flags|  fragment offset  |
//!  |      TTL      |   protocol    |      header checksum      |
//!  |                      source address                       |
//!  |                    destination address                    |
//!  |                 options (IHL*4 - 20 octets)               |
//! ```
//!
//! [`Ipv4Packet::new_checked`] validates version, IHL ≥ 5, that the header (options
//! included) fits, and `IHL*4 ≤ total length ≤ buffer length`. Octets past the total
//! length (Ethernet padding) are ignored by [`Ipv4Packet::payload`].
//!
//! Fragments: MF flag and the 13-bit offset (in 8-octet units on the wire, in octets from
//! [`Ipv4Packet::frag_offset`]); [`Ipv4Packet::is_fragment`] is true for every fragment
//! including the first. Only a first fragment (offset 0) carries the L4 header.
//!
//! TTL decrement and address rewrites update the header checksum incrementally (RFC 1624),
//! as RFC 1812 §5.3.1 permits for routers.
//!
//! [RFC 791]: https://www.rfc-editor.org/rfc/rfc791

use core::net::Ipv4Addr;

use crate::checksum;
use crate::field::{array, be16, need, set_be16};
use crate::{Error, IpProtocol, Result};

/// Length of a header without options.
pub const MIN_HEADER_LEN: usize = 20;

const FLAG_RESERVED: u16 = 0x8000;
const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;

/// A zero-copy view of an IPv4 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Validates lengths and version (not the checksum: see [`Self::check_checksum`]).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < MIN_HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[0] >> 4 != 4 {
            return Err(Error::BadVersion);
        }
        let hl = usize::from(b[0] & 0x0f) * 4;
        if hl < MIN_HEADER_LEN {
            return Err(Error::BadHeaderLength);
        }
        if b.len() < hl {
            return Err(Error::Truncated);
        }
        let total = usize::from(be16(b, 2));
        if total < hl {
            return Err(Error::BadLength);
        }
        if b.len() < total {
            return Err(Error::Truncated);
        }
        Ok(Ipv4Packet { buffer })
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Header length in octets (options included).
    pub fn header_len(&self) -> usize {
        usize::from(self.b()[0] & 0x0f) * 4
    }

    /// Differentiated services code point (RFC 2474).
    pub fn dscp(&self) -> u8 {
        self.b()[1] >> 2
    }

    /// Explicit congestion notification bits (RFC 3168).
    pub fn ecn(&self) -> u8 {
        self.b()[1] & 0x03
    }

    /// Total length field.
    pub fn total_len(&self) -> usize {
        usize::from(be16(self.b(), 2))
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        be16(self.b(), 4)
    }

    /// The reserved flag bit (must be zero, RFC 791).
    pub fn reserved_flag(&self) -> bool {
        be16(self.b(), 6) & FLAG_RESERVED != 0
    }

    /// Don't fragment.
    pub fn dont_frag(&self) -> bool {
        be16(self.b(), 6) & FLAG_DF != 0
    }

    /// More fragments.
    pub fn more_frags(&self) -> bool {
        be16(self.b(), 6) & FLAG_MF != 0
    }

    /// Fragment offset in octets (wire value × 8).
    pub fn frag_offset(&self) -> usize {
        usize::from(be16(self.b(), 6) & 0x1fff) * 8
    }

    /// True for any fragment, the first one included (MF set or offset non-zero).
    pub fn is_fragment(&self) -> bool {
        be16(self.b(), 6) & (FLAG_MF | 0x1fff) != 0
    }

    /// True unless this is a fragment other than the first, i.e. the payload starts
    /// with the upper-layer header.
    pub fn has_l4_header(&self) -> bool {
        be16(self.b(), 6) & 0x1fff == 0
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.b()[8]
    }

    /// Protocol of the payload.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol(self.b()[9])
    }

    /// Header checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.b(), 10)
    }

    /// Source address.
    pub fn src(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(self.b(), 12))
    }

    /// Destination address.
    pub fn dst(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(self.b(), 16))
    }

    /// The header, options included.
    pub fn header(&self) -> &[u8] {
        &self.b()[..self.header_len()]
    }

    /// The raw options (may be empty).
    pub fn options(&self) -> &[u8] {
        &self.b()[MIN_HEADER_LEN..self.header_len()]
    }

    /// The payload, bounded by the total length (padding excluded).
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..self.total_len()]
    }

    /// The packet, bounded by the total length.
    pub fn packet(&self) -> &[u8] {
        &self.b()[..self.total_len()]
    }

    /// True if the header checksum verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::verify(self.header())
    }

    /// [`Error::BadChecksum`] unless the header checksum verifies.
    pub fn check_checksum(&self) -> Result<()> {
        if self.verify_checksum() { Ok(()) } else { Err(Error::BadChecksum) }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    fn bm(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    /// Sets the TTL without touching the checksum.
    pub fn set_ttl(&mut self, ttl: u8) {
        self.bm()[8] = ttl;
    }

    /// Sets DSCP and ECN without touching the checksum.
    pub fn set_dscp_ecn(&mut self, dscp: u8, ecn: u8) {
        self.bm()[1] = ((dscp & 0x3f) << 2) | (ecn & 0x03);
    }

    /// Sets the ECN field, updating the header checksum incrementally (RFC 1624).
    pub fn set_ecn(&mut self, ecn: u8) {
        let old = be16(self.b(), 0);
        self.bm()[1] = (self.b()[1] & !0x03) | (ecn & 0x03);
        let new = be16(self.b(), 0);
        let c = checksum::update16(self.checksum(), old, new);
        self.set_checksum(c);
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, c: u16) {
        set_be16(self.bm(), 10, c);
    }

    /// Recomputes the header checksum from scratch.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.header());
        self.set_checksum(c);
    }

    /// Router TTL processing (RFC 1812 §5.3.1): fails with [`Error::TtlExpired`] when the
    /// TTL is 0 or 1 (the caller then sends Time Exceeded), otherwise decrements it,
    /// updates the checksum incrementally and returns the new TTL.
    pub fn decrement_ttl(&mut self) -> Result<u8> {
        let ttl = self.ttl();
        if ttl <= 1 {
            return Err(Error::TtlExpired);
        }
        let old = be16(self.b(), 8);
        self.bm()[8] = ttl - 1;
        let new = be16(self.b(), 8);
        let c = checksum::update16(self.checksum(), old, new);
        self.set_checksum(c);
        Ok(ttl - 1)
    }

    /// Rewrites the source address, updating the header checksum incrementally. The L4
    /// checksum (which covers the pseudo-header) is the caller's: see
    /// [`crate::tcp::TcpPacket::update_pseudo_header`] / [`crate::udp::UdpPacket::update_pseudo_header`].
    pub fn set_src(&mut self, addr: Ipv4Addr) {
        self.rewrite(12, addr);
    }

    /// Rewrites the destination address, updating the header checksum incrementally.
    pub fn set_dst(&mut self, addr: Ipv4Addr) {
        self.rewrite(16, addr);
    }

    fn rewrite(&mut self, off: usize, addr: Ipv4Addr) {
        let old: [u8; 4] = array(self.b(), off);
        let new = addr.octets();
        self.bm()[off..off + 4].copy_from_slice(&new);
        let c = checksum::update(self.checksum(), &old, &new);
        self.set_checksum(c);
    }

    /// Mutable payload, bounded by the total length.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (h, t) = (self.header_len(), self.total_len());
        &mut self.bm()[h..t]
    }
}

/// The fields of an option-less IPv4 header to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    /// Source.
    pub src: Ipv4Addr,
    /// Destination.
    pub dst: Ipv4Addr,
    /// Payload protocol.
    pub protocol: IpProtocol,
    /// TTL.
    pub ttl: u8,
    /// DSCP (6 bits).
    pub dscp: u8,
    /// ECN (2 bits).
    pub ecn: u8,
    /// Identification.
    pub ident: u16,
    /// Don't-fragment flag.
    pub dont_frag: bool,
    /// Payload length in octets (total length minus 20).
    pub payload_len: usize,
}

impl Ipv4Repr {
    /// A header with TTL 64, DSCP/ECN 0, ident 0 and DF set.
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr, protocol: IpProtocol, payload_len: usize) -> Self {
        Ipv4Repr {
            src,
            dst,
            protocol,
            ttl: 64,
            dscp: 0,
            ecn: 0,
            ident: 0,
            dont_frag: true,
            payload_len,
        }
    }

    /// Writes the 20-octet header with a valid checksum; returns 20.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let total =
            u16::try_from(MIN_HEADER_LEN + self.payload_len).map_err(|_| Error::InvalidArgument)?;
        if self.dscp > 0x3f || self.ecn > 3 {
            return Err(Error::InvalidArgument);
        }
        need(buf, MIN_HEADER_LEN)?;
        let b = &mut buf[..MIN_HEADER_LEN];
        b[0] = 0x45;
        b[1] = (self.dscp << 2) | self.ecn;
        set_be16(b, 2, total);
        set_be16(b, 4, self.ident);
        set_be16(b, 6, if self.dont_frag { FLAG_DF } else { 0 });
        b[8] = self.ttl;
        b[9] = self.protocol.0;
        set_be16(b, 10, 0);
        b[12..16].copy_from_slice(&self.src.octets());
        b[16..20].copy_from_slice(&self.dst.octets());
        let c = checksum::checksum(b);
        set_be16(b, 10, c);
        Ok(MIN_HEADER_LEN)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testutil::{XorShift, never_panics};

    /// 192.0.2.1 -> 198.51.100.2, UDP, TTL 64, DF, 8-octet payload, checksum filled.
    #[rustfmt::skip]
    pub(crate) const UDP_PKT: [u8; 28] = [
        0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x40, 0x00,
        0x40, 0x11, 0x00, 0x00, // checksum filled by golden()
        192, 0, 2, 1, 198, 51, 100, 2,
        0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
    ];

    /// A first fragment (MF) with a 4-octet NOP/EOL option and 2 octets of padding after
    /// the total length.
    #[rustfmt::skip]
    pub(crate) const FRAG_WITH_OPTIONS: [u8; 34] = [
        0x46, 0x00, 0x00, 0x20, 0xab, 0xcd, 0x20, 0x00,
        0x01, 0x06, 0x00, 0x00,
        192, 0, 2, 9, 203, 0, 113, 7,
        0x01, 0x01, 0x01, 0x00, // NOP NOP NOP EOL
        1, 2, 3, 4, 5, 6, 7, 8,
        0xee, 0xee, // Ethernet padding
    ];

    pub(crate) fn golden(bytes: &[u8]) -> Vec<u8> {
        let mut v = bytes.to_vec();
        let mut p = Ipv4Packet::new_checked(&mut v[..]).unwrap();
        p.fill_checksum();
        v
    }

    #[test]
    fn parse_fields() {
        let v = golden(&UDP_PKT);
        let p = Ipv4Packet::new_checked(&v[..]).unwrap();
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.total_len(), 28);
        assert_eq!(p.ident(), 0x1234);
        assert!(p.dont_frag() && !p.more_frags() && !p.is_fragment() && p.has_l4_header());
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), IpProtocol::UDP);
        assert_eq!(p.src(), Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(p.dst(), Ipv4Addr::new(198, 51, 100, 2));
        assert_eq!(p.payload().len(), 8);
        assert!(p.verify_checksum());
        assert_eq!(p.checksum(), 0x3c66); // computed independently
    }

    #[test]
    fn options_fragments_and_padding() {
        let v = golden(&FRAG_WITH_OPTIONS);
        let p = Ipv4Packet::new_checked(&v[..]).unwrap();
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.options(), &[1, 1, 1, 0]);
        assert_eq!(p.payload(), &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(p.more_frags() && p.is_fragment() && p.has_l4_header());
        assert_eq!(p.frag_offset(), 0);
        assert!(p.verify_checksum());

        let mut later = v.clone();
        later[6] = 0x00;
        later[7] = 0x03; // offset 24 octets, last fragment
        let p = Ipv4Packet::new_checked(&later[..]).unwrap();
        assert_eq!(p.frag_offset(), 24);
        assert!(p.is_fragment() && !p.more_frags() && !p.has_l4_header());
        assert!(!p.verify_checksum());
        assert_eq!(p.check_checksum(), Err(Error::BadChecksum));
    }

    #[test]
    fn validation_errors() {
        let v = golden(&UDP_PKT);
        let mut bad = v.clone();
        bad[0] = 0x65;
        assert_eq!(Ipv4Packet::new_checked(&bad[..]).err(), Some(Error::BadVersion));
        bad[0] = 0x44;
        assert_eq!(Ipv4Packet::new_checked(&bad[..]).err(), Some(Error::BadHeaderLength));
        bad[0] = 0x4f;
        assert_eq!(Ipv4Packet::new_checked(&bad[..]).err(), Some(Error::Truncated));
        let mut bad = v.clone();
        bad[3] = 19;
        assert_eq!(Ipv4Packet::new_checked(&bad[..]).err(), Some(Error::BadLength));
        bad[3] = 29;
        assert_eq!(Ipv4Packet::new_checked(&bad[..]).err(), Some(Error::Truncated));
        assert_eq!(Ipv4Packet::new_checked(&v[..19]).err(), Some(Error::Truncated));
    }

    #[test]
    fn ttl_decrement_keeps_checksum_valid() {
        let mut v = golden(&UDP_PKT);
        let mut p = Ipv4Packet::new_checked(&mut v[..]).unwrap();
        for expect in (1..64).rev() {
            assert_eq!(p.decrement_ttl(), Ok(expect));
            assert!(p.verify_checksum());
        }
        assert_eq!(p.decrement_ttl(), Err(Error::TtlExpired));
        p.set_ttl(0);
        assert_eq!(p.decrement_ttl(), Err(Error::TtlExpired));
    }

    #[test]
    fn nat_rewrite_matches_full_recompute() {
        let mut rng = XorShift::new(44);
        let mut v = golden(&FRAG_WITH_OPTIONS);
        for _ in 0..1000 {
            let a = Ipv4Addr::from(rng.next_u64() as u32);
            let d = Ipv4Addr::from(rng.next_u64() as u32);
            let mut p = Ipv4Packet::new_checked(&mut v[..]).unwrap();
            p.set_src(a);
            p.set_dst(d);
            let inc = p.checksum();
            p.fill_checksum();
            assert_eq!(inc, p.checksum());
            assert_eq!((p.src(), p.dst()), (a, d));
        }
    }

    #[test]
    fn emit_round_trip() {
        let repr = Ipv4Repr {
            ident: 0x1234,
            ..Ipv4Repr::new(
                Ipv4Addr::new(192, 0, 2, 1),
                Ipv4Addr::new(198, 51, 100, 2),
                IpProtocol::UDP,
                8,
            )
        };
        let mut buf = UDP_PKT;
        assert_eq!(repr.emit(&mut buf), Ok(20));
        assert_eq!(&buf[..], &golden(&UDP_PKT)[..]);
        assert_eq!(repr.emit(&mut buf[..19]), Err(Error::BufferTooSmall));
        let huge = Ipv4Repr { payload_len: 65_516, ..repr };
        assert_eq!(huge.emit(&mut buf), Err(Error::InvalidArgument));
    }

    pub(crate) fn exercise(data: &[u8]) {
        if let Ok(p) = Ipv4Packet::new_checked(data) {
            let _ =
                (p.dscp(), p.ecn(), p.ident(), p.reserved_flag(), p.dont_frag(), p.more_frags());
            let _ = (p.frag_offset(), p.is_fragment(), p.has_l4_header(), p.ttl(), p.protocol());
            let _ = (p.src(), p.dst(), p.options().len(), p.payload().len(), p.packet().len());
            let _ = p.check_checksum();
            let mut v = data.to_vec();
            if let Ok(mut m) = Ipv4Packet::new_checked(&mut v[..]) {
                let _ = m.decrement_ttl();
                m.set_src(Ipv4Addr::LOCALHOST);
                m.payload_mut().fill(0);
                m.fill_checksum();
                assert!(m.verify_checksum());
            }
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        never_panics(&[&golden(&UDP_PKT), &golden(&FRAG_WITH_OPTIONS)], 4, exercise);
    }
}
