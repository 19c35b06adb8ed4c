//! UDP ([RFC 768]).
//!
//! ```text
//!  0              16             31
//!  |  source port  |   dest port  |
//!  |    length     |   checksum   |
//! ```
//!
//! [`UdpPacket::new_checked`] validates `8 ≤ length ≤ buffer`; octets after `length` are
//! ignored. Checksum rules:
//!
//! * IPv4: a zero checksum means "not computed" and is accepted (RFC 768); a computed
//!   zero is transmitted as `0xffff`.
//! * IPv6: the checksum is mandatory (RFC 8200 §8.1); zero is [`Error::BadChecksum`].
//!   (RFC 6935/6936 allow zero for tunnel protocols on configured ports; a caller that
//!   wants that checks [`UdpPacket::checksum`] `== 0` itself before verifying.)
//!
//! [RFC 768]: https://www.rfc-editor.org/rfc/rfc768

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::checksum;
use crate::field::{be16, need, set_be16};
use crate::{Error, IpProtocol, Result};

/// Length of the UDP header.
pub const HEADER_LEN: usize = 8;

/// A zero-copy view of a UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Validates the header and the length field.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let len = usize::from(be16(b, 4));
        if len < HEADER_LEN {
            return Err(Error::BadLength);
        }
        if b.len() < len {
            return Err(Error::Truncated);
        }
        Ok(UdpPacket { buffer })
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        be16(self.b(), 0)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be16(self.b(), 2)
    }

    /// Length field (header + payload).
    pub fn len(&self) -> usize {
        usize::from(be16(self.b(), 4))
    }

    /// True when the datagram carries no payload.
    pub fn is_empty(&self) -> bool {
        self.len() == HEADER_LEN
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.b(), 6)
    }

    /// The payload, bounded by the length field.
    pub fn payload(&self) -> &[u8] {
        &self.b()[HEADER_LEN..self.len()]
    }

    /// The datagram, bounded by the length field.
    pub fn datagram(&self) -> &[u8] {
        &self.b()[..self.len()]
    }

    fn sum_ok(&self, pseudo: u16) -> bool {
        checksum::verify_with_pseudo(pseudo, self.datagram())
    }

    /// Verifies over the IPv4 pseudo-header; a zero checksum (none sent) passes.
    pub fn check_checksum_v4(&self, src: Ipv4Addr, dst: Ipv4Addr) -> Result<()> {
        if self.checksum() == 0 {
            return Ok(());
        }
        let ph = checksum::pseudo_header_v4(src, dst, IpProtocol::UDP, self.len() as u16);
        if self.sum_ok(ph) { Ok(()) } else { Err(Error::BadChecksum) }
    }

    /// Verifies over the IPv6 pseudo-header; a zero checksum fails.
    pub fn check_checksum_v6(&self, src: Ipv6Addr, dst: Ipv6Addr) -> Result<()> {
        if self.checksum() == 0 {
            return Err(Error::BadChecksum);
        }
        let ph = checksum::pseudo_header_v6(src, dst, IpProtocol::UDP, self.len() as u32);
        if self.sum_ok(ph) { Ok(()) } else { Err(Error::BadChecksum) }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    fn bm(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, c: u16) {
        set_be16(self.bm(), 6, c);
    }

    fn fill(&mut self, pseudo: u16) {
        self.set_checksum(0);
        let c = checksum::checksum_with_pseudo(pseudo, self.datagram());
        self.set_checksum(if c == 0 { 0xffff } else { c });
    }

    /// Computes the checksum over the IPv4 pseudo-header.
    pub fn fill_checksum_v4(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        let ph = checksum::pseudo_header_v4(src, dst, IpProtocol::UDP, self.len() as u16);
        self.fill(ph);
    }

    /// Computes the checksum over the IPv6 pseudo-header.
    pub fn fill_checksum_v6(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        let ph = checksum::pseudo_header_v6(src, dst, IpProtocol::UDP, self.len() as u32);
        self.fill(ph);
    }

    /// Applies an RFC 1624 update unless the (IPv4) checksum is zero, i.e. absent.
    fn adjust(&mut self, old: &[u8], new: &[u8]) {
        let c = self.checksum();
        if c == 0 {
            return;
        }
        let n = checksum::update(c, old, new);
        self.set_checksum(if n == 0 { 0xffff } else { n });
    }

    /// Rewrites the source port, updating the checksum incrementally.
    pub fn set_src_port(&mut self, port: u16) {
        let old = self.src_port().to_be_bytes();
        set_be16(self.bm(), 0, port);
        self.adjust(&old, &port.to_be_bytes());
    }

    /// Rewrites the destination port, updating the checksum incrementally.
    pub fn set_dst_port(&mut self, port: u16) {
        let old = self.dst_port().to_be_bytes();
        set_be16(self.bm(), 2, port);
        self.adjust(&old, &port.to_be_bytes());
    }

    /// Updates the checksum for a pseudo-header address change (NAT): pass the old and
    /// new address octets (4 or 16).
    pub fn update_pseudo_header(&mut self, old_addr: &[u8], new_addr: &[u8]) {
        self.adjust(old_addr, new_addr);
    }

    /// Mutable payload, bounded by the length field.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let len = self.len();
        &mut self.bm()[HEADER_LEN..len]
    }
}

/// A UDP header to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
}

impl UdpRepr {
    /// Writes the header for a payload of `payload_len` octets with a zero checksum;
    /// returns 8. Fill the checksum once the payload is in place
    /// ([`UdpPacket::fill_checksum_v4`] / [`UdpPacket::fill_checksum_v6`]).
    pub fn emit(&self, buf: &mut [u8], payload_len: usize) -> Result<usize> {
        let len = u16::try_from(HEADER_LEN + payload_len).map_err(|_| Error::InvalidArgument)?;
        need(buf, HEADER_LEN)?;
        set_be16(buf, 0, self.src_port);
        set_be16(buf, 2, self.dst_port);
        set_be16(buf, 4, len);
        set_be16(buf, 6, 0);
        Ok(HEADER_LEN)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testutil::{XorShift, never_panics};

    pub(crate) const SRC4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    pub(crate) const DST4: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);

    /// 12345 -> 53, "hello" (odd length), checksum over 192.0.2.1 -> 198.51.100.2.
    #[rustfmt::skip]
    pub(crate) const DNS: [u8; 13] = [
        0x30, 0x39, 0x00, 0x35, 0x00, 0x0d, 0x9f, 0x5c, b'h', b'e', b'l', b'l', b'o',
    ];

    #[test]
    fn golden_checksum_v4() {
        let p = UdpPacket::new_checked(&DNS[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.len()), (12345, 53, 13));
        assert_eq!(p.payload(), b"hello");
        assert_eq!(p.check_checksum_v4(SRC4, DST4), Ok(()));
        assert_eq!(
            p.check_checksum_v4(SRC4, Ipv4Addr::new(198, 51, 100, 3)),
            Err(Error::BadChecksum)
        );
        let mut v = DNS;
        let mut m = UdpPacket::new_checked(&mut v[..]).unwrap();
        m.fill_checksum_v4(SRC4, DST4);
        assert_eq!(v, DNS);
    }

    #[test]
    fn zero_checksum_rules() {
        let mut v = DNS;
        v[6] = 0;
        v[7] = 0;
        let p = UdpPacket::new_checked(&v[..]).unwrap();
        assert_eq!(p.check_checksum_v4(SRC4, DST4), Ok(()));
        let s6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert_eq!(p.check_checksum_v6(s6, s6), Err(Error::BadChecksum));
        let mut m = UdpPacket::new_checked(&mut v[..]).unwrap();
        m.fill_checksum_v6(s6, s6);
        assert_eq!(m.check_checksum_v6(s6, s6), Ok(()));
        // Port rewrite leaves an absent IPv4 checksum absent.
        let mut v = DNS;
        v[6] = 0;
        v[7] = 0;
        let mut m = UdpPacket::new_checked(&mut v[..]).unwrap();
        m.set_src_port(1);
        assert_eq!(m.checksum(), 0);
    }

    #[test]
    fn computed_zero_is_sent_as_ffff() {
        // Find a payload whose checksum computes to zero, then check it is sent as 0xffff.
        let mut rng = XorShift::new(768);
        let mut found = false;
        for _ in 0..200_000 {
            let mut v = [0u8; 10];
            UdpRepr { src_port: 1, dst_port: 2 }.emit(&mut v, 2).unwrap();
            v[8] = rng.next_u64() as u8;
            v[9] = rng.next_u64() as u8;
            let ph = checksum::pseudo_header_v4(SRC4, DST4, IpProtocol::UDP, 10);
            if checksum::verify_with_pseudo(ph, &v) {
                let mut m = UdpPacket::new_checked(&mut v[..]).unwrap();
                m.fill_checksum_v4(SRC4, DST4);
                assert_eq!(m.checksum(), 0xffff);
                assert_eq!(m.check_checksum_v4(SRC4, DST4), Ok(()));
                found = true;
                break;
            }
        }
        assert!(found);
    }

    #[test]
    fn length_validation() {
        let mut v = DNS;
        v[5] = 7;
        assert_eq!(UdpPacket::new_checked(&v[..]).err(), Some(Error::BadLength));
        v[5] = 14;
        assert_eq!(UdpPacket::new_checked(&v[..]).err(), Some(Error::Truncated));
        let mut padded = DNS.to_vec();
        padded.extend_from_slice(&[0xee; 3]);
        let p = UdpPacket::new_checked(&padded[..]).unwrap();
        assert_eq!(p.payload(), b"hello");
        assert_eq!(p.check_checksum_v4(SRC4, DST4), Ok(()));
    }

    #[test]
    fn nat_rewrite_incremental() {
        let mut rng = XorShift::new(1624);
        for _ in 0..2000 {
            let mut v = DNS;
            let new_src = Ipv4Addr::from(rng.next_u64() as u32);
            let (sp, dp) = (rng.next_u64() as u16, rng.next_u64() as u16);
            let mut m = UdpPacket::new_checked(&mut v[..]).unwrap();
            m.set_src_port(sp);
            m.set_dst_port(dp);
            m.update_pseudo_header(&SRC4.octets(), &new_src.octets());
            assert_eq!(m.check_checksum_v4(new_src, DST4), Ok(()));
        }
    }

    #[test]
    fn emit() {
        let mut v = [0u8; 13];
        assert_eq!(UdpRepr { src_port: 12345, dst_port: 53 }.emit(&mut v, 5), Ok(8));
        v[8..].copy_from_slice(b"hello");
        UdpPacket::new_checked(&mut v[..]).unwrap().fill_checksum_v4(SRC4, DST4);
        assert_eq!(v, DNS);
        assert_eq!(
            UdpRepr { src_port: 1, dst_port: 2 }.emit(&mut v, 65_528),
            Err(Error::InvalidArgument)
        );
        assert_eq!(
            UdpRepr { src_port: 1, dst_port: 2 }.emit(&mut v[..7], 0),
            Err(Error::BufferTooSmall)
        );
    }

    pub(crate) fn exercise(data: &[u8]) {
        if let Ok(p) = UdpPacket::new_checked(data) {
            let _ = (p.src_port(), p.dst_port(), p.is_empty(), p.payload().len());
            let _ = p.check_checksum_v4(SRC4, DST4);
            let _ = p.check_checksum_v6(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST);
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        never_panics(&[&DNS], 7, exercise);
    }
}
