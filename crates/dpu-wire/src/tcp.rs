//! TCP ([RFC 9293] §3.1).
//!
//! ```text
//!  0              16              31
//!  |  source port  |   dest port   |
//!  |        sequence number        |
//!  |     acknowledgment number     |
//!  |doff|rsvd|flags|    window     |
//!  |   checksum    | urgent pointer|
//!  |    options (doff*4 - 20)      |
//! ```
//!
//! TCP has no length field: the segment is the whole buffer handed to
//! [`TcpPacket::new_checked`] (the IP payload). The constructor validates the data
//! offset (≥ 5 and within the buffer).
//!
//! [`TcpFlags::is_valid_combination`] applies the flag-combination table that Linux
//! connection tracking uses (SYN with FIN or RST, FIN without ACK, no flags at all are
//! invalid), which the firewall stage uses to drop scan traffic.
//!
//! [RFC 9293]: https://www.rfc-editor.org/rfc/rfc9293

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::checksum;
use crate::field::{be16, be32, need, set_be16, set_be32};
use crate::{Error, IpProtocol, Result};

/// Length of a header without options.
pub const MIN_HEADER_LEN: usize = 20;

/// The TCP control bits (octet 13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// SYN.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// RST.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// PSH.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// ACK.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// URG.
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECE (RFC 3168).
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// CWR (RFC 3168).
    pub const CWR: TcpFlags = TcpFlags(0x80);

    /// True when every bit of `other` is set.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Union.
    pub const fn union(self, other: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | other.0)
    }

    /// Whether the combination of FIN/SYN/RST/ACK/URG is one a real stack sends (PSH,
    /// ECE and CWR are ignored): SYN, SYN|URG, SYN|ACK, RST, RST|ACK, FIN|ACK,
    /// FIN|ACK|URG, ACK, ACK|URG. Null, Xmas, SYN|FIN and bare FIN segments are not.
    pub const fn is_valid_combination(self) -> bool {
        const F: u8 = 0x01;
        const S: u8 = 0x02;
        const R: u8 = 0x04;
        const A: u8 = 0x10;
        const U: u8 = 0x20;
        let m = self.0 & (F | S | R | A | U);
        matches!(m, S | 0x22 | 0x12 | R | 0x14 | 0x11 | 0x31 | A | 0x30)
    }
}

/// One TCP option (RFC 9293 §3.2): EOL and NOP have no length octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpOption<'a> {
    /// Option kind.
    pub kind: u8,
    /// Option data (after kind and length).
    pub data: &'a [u8],
    /// Offset of the kind octet from the start of the TCP header.
    pub offset: usize,
}

/// Iterator over the options area. A malformed option (length < 2 or overrunning the
/// header) yields [`Error::BadOption`] once and ends the iteration; EOL ends it quietly.
#[derive(Debug, Clone)]
pub struct TcpOptions<'a> {
    options: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = Result<TcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.options.get(self.pos..)?;
        let (&kind, tail) = rest.split_first()?;
        let start = self.pos;
        match kind {
            0 => {
                self.pos = self.options.len();
                None
            }
            1 => {
                self.pos += 1;
                Some(Ok(TcpOption { kind, data: &[], offset: MIN_HEADER_LEN + start }))
            }
            _ => {
                let len = tail.first().map(|&l| usize::from(l));
                match len {
                    Some(len) if len >= 2 && len <= rest.len() => {
                        self.pos += len;
                        Some(Ok(TcpOption {
                            kind,
                            data: &rest[2..len],
                            offset: MIN_HEADER_LEN + start,
                        }))
                    }
                    _ => {
                        self.pos = self.options.len();
                        Some(Err(Error::BadOption))
                    }
                }
            }
        }
    }
}

/// A zero-copy view of a TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Validates the data offset.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < MIN_HEADER_LEN {
            return Err(Error::Truncated);
        }
        let hl = usize::from(b[12] >> 4) * 4;
        if hl < MIN_HEADER_LEN {
            return Err(Error::BadHeaderLength);
        }
        if b.len() < hl {
            return Err(Error::Truncated);
        }
        Ok(TcpPacket { buffer })
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

    /// Sequence number.
    pub fn seq(&self) -> u32 {
        be32(self.b(), 4)
    }

    /// Acknowledgment number.
    pub fn ack(&self) -> u32 {
        be32(self.b(), 8)
    }

    /// Header length in octets (data offset × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.b()[12] >> 4) * 4
    }

    /// Control bits.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.b()[13])
    }

    /// Window.
    pub fn window(&self) -> u16 {
        be16(self.b(), 14)
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.b(), 16)
    }

    /// Urgent pointer.
    pub fn urgent(&self) -> u16 {
        be16(self.b(), 18)
    }

    /// Raw options area.
    pub fn options(&self) -> &[u8] {
        &self.b()[MIN_HEADER_LEN..self.header_len()]
    }

    /// Iterates over the options.
    pub fn option_iter(&self) -> TcpOptions<'_> {
        TcpOptions { options: self.options(), pos: 0 }
    }

    /// The MSS option (kind 2, length 4), if present and well formed.
    pub fn mss(&self) -> Option<u16> {
        self.option_iter()
            .map_while(|o| o.ok())
            .find(|o| o.kind == 2 && o.data.len() == 2)
            .map(|o| u16::from_be_bytes([o.data[0], o.data[1]]))
    }

    /// Segment data.
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..]
    }

    /// The whole segment.
    pub fn segment(&self) -> &[u8] {
        self.b()
    }

    fn seg_len(&self) -> u32 {
        // An IPv4/IPv6 payload never exceeds 65535 octets; saturating keeps a bogus
        // oversize buffer from wrapping (it then fails to verify).
        u32::try_from(self.b().len()).unwrap_or(u32::MAX)
    }

    fn sum_ok(&self, pseudo: u16) -> bool {
        checksum::verify_with_pseudo(pseudo, self.b())
    }

    /// Verifies over the IPv4 pseudo-header.
    pub fn check_checksum_v4(&self, src: Ipv4Addr, dst: Ipv4Addr) -> Result<()> {
        let ph = checksum::pseudo_header_v4(src, dst, IpProtocol::TCP, self.seg_len() as u16);
        if self.seg_len() <= 0xffff && self.sum_ok(ph) { Ok(()) } else { Err(Error::BadChecksum) }
    }

    /// Verifies over the IPv6 pseudo-header.
    pub fn check_checksum_v6(&self, src: Ipv6Addr, dst: Ipv6Addr) -> Result<()> {
        let ph = checksum::pseudo_header_v6(src, dst, IpProtocol::TCP, self.seg_len());
        if self.sum_ok(ph) { Ok(()) } else { Err(Error::BadChecksum) }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    fn bm(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, c: u16) {
        set_be16(self.bm(), 16, c);
    }

    /// Computes the checksum over the IPv4 pseudo-header.
    pub fn fill_checksum_v4(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let ph = checksum::pseudo_header_v4(src, dst, IpProtocol::TCP, self.seg_len() as u16);
        let c = checksum::checksum_with_pseudo(ph, self.b());
        self.set_checksum(c);
    }

    /// Computes the checksum over the IPv6 pseudo-header.
    pub fn fill_checksum_v6(&mut self, src: Ipv6Addr, dst: Ipv6Addr) {
        self.set_checksum(0);
        let ph = checksum::pseudo_header_v6(src, dst, IpProtocol::TCP, self.seg_len());
        let c = checksum::checksum_with_pseudo(ph, self.b());
        self.set_checksum(c);
    }

    fn adjust(&mut self, old: &[u8], new: &[u8]) {
        let c = checksum::update(self.checksum(), old, new);
        self.set_checksum(c);
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

    /// Lowers the MSS option to `max` if it is larger (MSS clamping for overlay MTUs),
    /// updating the checksum incrementally. Returns true if the segment changed.
    pub fn clamp_mss(&mut self, max: u16) -> bool {
        let Some(opt) = self
            .option_iter()
            .map_while(|o| o.ok())
            .find(|o| o.kind == 2 && o.data.len() == 2)
            .map(|o| o.offset)
        else {
            return false;
        };
        let at = opt + 2;
        if be16(self.b(), at) <= max {
            return false;
        }
        // The value may sit at an odd offset: update over the even-aligned 4-octet
        // window around it, which the (4-octet aligned) header always contains.
        let (lo, hi) = if at % 2 == 0 { (at, at + 2) } else { (at - 1, at + 3) };
        let mut old = [0u8; 4];
        old[..hi - lo].copy_from_slice(&self.b()[lo..hi]);
        set_be16(self.bm(), at, max);
        let mut new = [0u8; 4];
        new[..hi - lo].copy_from_slice(&self.b()[lo..hi]);
        self.adjust(&old[..hi - lo], &new[..hi - lo]);
        true
    }

    /// Mutable segment data.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        &mut self.bm()[hl..]
    }
}

/// An option-less TCP header to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpRepr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Control bits.
    pub flags: TcpFlags,
    /// Window.
    pub window: u16,
}

impl TcpRepr {
    /// Writes the 20-octet header with a zero checksum; returns 20. Fill the checksum
    /// once the payload follows it ([`TcpPacket::fill_checksum_v4`]/`_v6`).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        need(buf, MIN_HEADER_LEN)?;
        set_be16(buf, 0, self.src_port);
        set_be16(buf, 2, self.dst_port);
        set_be32(buf, 4, self.seq);
        set_be32(buf, 8, self.ack);
        buf[12] = 5 << 4;
        buf[13] = self.flags.0;
        set_be16(buf, 14, self.window);
        set_be16(buf, 16, 0);
        set_be16(buf, 18, 0);
        Ok(MIN_HEADER_LEN)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testutil::{XorShift, never_panics};
    use crate::udp::tests::{DST4, SRC4};

    /// SYN 49152 -> 443, seq 1, options: NOP, MSS 1460 (at odd offset 21), NOP,
    /// SACK-permitted, NOP, WS 7 -> 32 octet header, checksum over SRC4 -> DST4.
    pub(crate) fn syn() -> Vec<u8> {
        #[rustfmt::skip]
        let mut v = vec![
            0xc0, 0x00, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0,
            0x80, 0x02, 0xff, 0xff, 0, 0, 0, 0,
            1, 2, 4, 0x05, 0xb4, 1, 4, 2, 1, 3, 3, 7,
        ];
        TcpPacket::new_checked(&mut v[..]).unwrap().fill_checksum_v4(SRC4, DST4);
        v
    }

    #[test]
    fn parse_syn() {
        let v = syn();
        let p = TcpPacket::new_checked(&v[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.seq(), p.ack()), (49152, 443, 1, 0));
        assert_eq!(p.header_len(), 32);
        assert_eq!(p.flags(), TcpFlags::SYN);
        assert!(p.flags().is_valid_combination());
        assert_eq!(p.window(), 0xffff);
        assert_eq!(p.mss(), Some(1460));
        let kinds: Vec<u8> = p.option_iter().map(|o| o.unwrap().kind).collect();
        assert_eq!(kinds, [1, 2, 1, 4, 1, 3]);
        assert!(p.payload().is_empty());
        assert_eq!(p.check_checksum_v4(SRC4, DST4), Ok(()));
        assert_eq!(p.check_checksum_v4(DST4, SRC4), Ok(())); // the sum is symmetric
        assert_eq!(p.check_checksum_v4(SRC4, Ipv4Addr::LOCALHOST), Err(Error::BadChecksum));
    }

    #[test]
    fn data_offset_validated() {
        let mut v = syn();
        v[12] = 0x40;
        assert_eq!(TcpPacket::new_checked(&v[..]).err(), Some(Error::BadHeaderLength));
        v[12] = 0x90;
        assert_eq!(TcpPacket::new_checked(&v[..]).err(), Some(Error::Truncated));
        assert_eq!(TcpPacket::new_checked(&v[..19]).err(), Some(Error::Truncated));
    }

    #[test]
    fn malformed_option() {
        let mut v = syn();
        v[22] = 40; // MSS length overruns
        let p = TcpPacket::new_checked(&v[..]).unwrap();
        let items: Vec<_> = p.option_iter().collect();
        assert_eq!(items.last(), Some(&Err(Error::BadOption)));
        assert_eq!(p.mss(), None);
    }

    #[test]
    fn flags_table() {
        let f = |bits: &[TcpFlags]| bits.iter().fold(TcpFlags(0), |a, b| a.union(*b));
        use TcpFlags as T;
        for ok in [
            f(&[T::SYN]),
            f(&[T::SYN, T::ACK]),
            f(&[T::SYN, T::ECE, T::CWR]),
            f(&[T::RST]),
            f(&[T::RST, T::ACK]),
            f(&[T::FIN, T::ACK, T::PSH]),
            f(&[T::ACK]),
            f(&[T::ACK, T::URG, T::PSH]),
        ] {
            assert!(ok.is_valid_combination(), "{ok:?}");
        }
        for bad in [
            TcpFlags(0),
            f(&[T::FIN]),
            f(&[T::SYN, T::FIN]),
            f(&[T::SYN, T::RST]),
            f(&[T::FIN, T::PSH, T::URG]),
            TcpFlags(0xff),
        ] {
            assert!(!bad.is_valid_combination(), "{bad:?}");
        }
    }

    #[test]
    fn clamp_mss_at_odd_offset_and_rewrites() {
        let mut v = syn();
        let mut p = TcpPacket::new_checked(&mut v[..]).unwrap();
        assert!(!p.clamp_mss(1500));
        assert!(p.clamp_mss(1410));
        assert_eq!(p.mss(), Some(1410));
        assert_eq!(p.check_checksum_v4(SRC4, DST4), Ok(()));
        let mut rng = XorShift::new(9293);
        for _ in 0..1000 {
            let new_dst = Ipv4Addr::from(rng.next_u64() as u32);
            let mut p = TcpPacket::new_checked(&mut v[..]).unwrap();
            p.set_src_port(rng.next_u64() as u16);
            p.set_dst_port(rng.next_u64() as u16);
            p.update_pseudo_header(&DST4.octets(), &new_dst.octets());
            assert_eq!(p.check_checksum_v4(SRC4, new_dst), Ok(()));
            p.update_pseudo_header(&new_dst.octets(), &DST4.octets());
        }
    }

    #[test]
    fn emit_and_v6() {
        let mut v = vec![0u8; 24];
        let repr =
            TcpRepr { src_port: 1, dst_port: 2, seq: 3, ack: 4, flags: TcpFlags::ACK, window: 5 };
        assert_eq!(repr.emit(&mut v), Ok(20));
        v[20..].copy_from_slice(b"data");
        let s: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let d: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let mut p = TcpPacket::new_checked(&mut v[..]).unwrap();
        p.fill_checksum_v6(s, d);
        assert_eq!(p.check_checksum_v6(s, d), Ok(()));
        assert_eq!(p.payload(), b"data");
        assert_eq!(repr.emit(&mut v[..19]), Err(Error::BufferTooSmall));
    }

    pub(crate) fn exercise(data: &[u8]) {
        if let Ok(p) = TcpPacket::new_checked(data) {
            let _ =
                (p.src_port(), p.dst_port(), p.seq(), p.ack(), p.flags().is_valid_combination());
            let _ = (p.window(), p.urgent(), p.mss(), p.payload().len(), p.option_iter().count());
            let _ = p.check_checksum_v4(SRC4, DST4);
            let _ = p.check_checksum_v6(Ipv6Addr::LOCALHOST, Ipv6Addr::LOCALHOST);
            let mut v = data.to_vec();
            if let Ok(mut m) = TcpPacket::new_checked(&mut v[..]) {
                m.clamp_mss(536);
            }
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        never_panics(&[&syn()], 8, exercise);
    }
}
