//! VXLAN ([RFC 7348] §5).
//!
//! ```text
//!  0       8                              31
//!  |R|R|R|R|I|R|R|R|        reserved        |
//!  |       VXLAN network identifier (VNI)   | reserved |
//! ```
//!
//! Carried in UDP to port [`UDP_PORT`] (4789); the payload is an inner Ethernet frame
//! (without FCS). The I flag "MUST be set to 1 for a valid VNI"; the other bits are
//! reserved, "MUST be set to zero on transmission and ignored on receipt", so
//! [`VxlanPacket::new_checked`] rejects a header without I ([`Error::BadFlags`]) and ignores
//! the rest. The outer UDP source port should carry entropy from the inner flow
//! (§5, "Outer UDP Header"): see [`source_port`].
//!
//! [RFC 7348]: https://www.rfc-editor.org/rfc/rfc7348

use crate::field::{be24, need, set_be24};
use crate::{Error, Result};

/// IANA-assigned VXLAN UDP port.
pub const UDP_PORT: u16 = 4789;
/// Length of the VXLAN header.
pub const HEADER_LEN: usize = 8;
/// Largest VNI (24 bits).
pub const MAX_VNI: u32 = 0x00ff_ffff;
/// Outer overhead in front of the inner frame: Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8.
pub const IPV4_OVERHEAD: usize = 14 + 20 + 8 + HEADER_LEN;
/// Outer overhead with an IPv6 underlay: Ethernet 14 + IPv6 40 + UDP 8 + VXLAN 8.
pub const IPV6_OVERHEAD: usize = 14 + 40 + 8 + HEADER_LEN;

const FLAG_I: u8 = 0x08;

/// A zero-copy view of a VXLAN header and its inner frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VxlanPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> VxlanPacket<T> {
    /// Validates length and the I flag.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[0] & FLAG_I == 0 {
            return Err(Error::BadFlags);
        }
        Ok(VxlanPacket { buffer })
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The flags octet (I = `0x08`).
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// The 24-bit VNI.
    pub fn vni(&self) -> u32 {
        be24(self.buffer.as_ref(), 4)
    }

    /// The inner Ethernet frame.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> VxlanPacket<T> {
    /// Mutable inner frame.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// Writes a VXLAN header for `vni`; returns 8.
pub fn emit(buf: &mut [u8], vni: u32) -> Result<usize> {
    if vni > MAX_VNI {
        return Err(Error::InvalidArgument);
    }
    need(buf, HEADER_LEN)?;
    buf[..HEADER_LEN].fill(0);
    buf[0] = FLAG_I;
    set_be24(buf, 4, vni);
    Ok(HEADER_LEN)
}

/// Maps a flow hash to an outer UDP source port in the dynamic range 49152–65535, as
/// RFC 7348 §5 recommends, so that underlay ECMP spreads inner flows.
pub const fn source_port(flow_hash: u32) -> u16 {
    let h = flow_hash ^ (flow_hash >> 16);
    49152 + (h % 16384) as u16
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testutil::never_panics;

    /// VNI 0x123456 carrying a 14-octet inner Ethernet header.
    #[rustfmt::skip]
    pub(crate) const GOLDEN: [u8; 22] = [
        0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0,
        0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00,
    ];

    #[test]
    fn parse_and_emit() {
        let p = VxlanPacket::new_checked(&GOLDEN[..]).unwrap();
        assert_eq!(p.vni(), 0x123456);
        assert_eq!(p.payload().len(), 14);
        let mut buf = [0xffu8; 8];
        assert_eq!(emit(&mut buf, 0x123456), Ok(8));
        assert_eq!(buf, GOLDEN[..8]);
        assert_eq!(emit(&mut buf, 1 << 24), Err(Error::InvalidArgument));
        assert_eq!(emit(&mut buf[..7], 1), Err(Error::BufferTooSmall));
    }

    #[test]
    fn flags_rules() {
        let mut v = GOLDEN;
        v[0] = 0;
        assert_eq!(VxlanPacket::new_checked(&v[..]).err(), Some(Error::BadFlags));
        v[0] = 0xff; // reserved bits ignored on receipt
        v[7] = 0xff;
        assert_eq!(VxlanPacket::new_checked(&v[..]).map(|p| p.vni()), Ok(0x123456));
        assert_eq!(VxlanPacket::new_checked(&v[..7]).err(), Some(Error::Truncated));
    }

    #[test]
    fn source_port_range() {
        for h in [0u32, 1, 0xffff, 0xdead_beef, u32::MAX] {
            assert!(source_port(h) >= 49152);
        }
    }

    pub(crate) fn exercise(data: &[u8]) {
        if let Ok(p) = VxlanPacket::new_checked(data) {
            let _ = (p.flags(), p.vni(), p.payload().len());
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        never_panics(&[&GOLDEN], 9, exercise);
    }
}
