//! Geneve ([RFC 8926]).
//!
//! Base header (§3.4):
//!
//! ```text
//!  0   2          8 9 10        16                              31
//!  |Ver| Opt Len   |O|C|  Rsvd.  |         Protocol Type         |
//!  |        Virtual Network Identifier (VNI)       |   Reserved   |
//!  |                 Variable-Length Options                      |
//! ```
//!
//! Option TLV (§3.5): class (16 bits), type (8 bits; the high bit marks a *critical*
//! option), 3 reserved bits, length (5 bits, in 4-octet units, excluding the 4-octet
//! option header), then the data.
//!
//! [`GenevePacket::new_checked`] validates:
//! * version 0 ([`Error::BadVersion`]; §3.4: a packet with an unknown version is not
//!   processed further),
//! * that `8 + Opt Len × 4` octets are present ([`Error::Truncated`]),
//! * that every option header and its data lie inside the options area
//!   ([`Error::BadOption`]), so [`GenevePacket::options`] iterates infallibly.
//!
//! The O bit marks a control (OAM) packet; the C bit says critical options are present.
//! A receiver that finds a critical option it does not understand must drop the packet
//! (§3.5.1); [`GenevePacket::has_critical_option`] lets it check. Carried in UDP to
//! port [`UDP_PORT`] (6081); the protocol type is an EtherType (`0x6558` for an inner
//! Ethernet frame).
//!
//! [RFC 8926]: https://www.rfc-editor.org/rfc/rfc8926

use crate::ethernet::EtherType;
use crate::field::{be16, be24, need, set_be16, set_be24};
use crate::{Error, Result};

/// IANA-assigned Geneve UDP port.
pub const UDP_PORT: u16 = 6081;
/// Length of the base header.
pub const HEADER_LEN: usize = 8;
/// Largest options area (6-bit length in 4-octet units).
pub const MAX_OPTIONS_LEN: usize = 63 * 4;
/// Largest option data (5-bit length in 4-octet units).
pub const MAX_OPTION_DATA_LEN: usize = 31 * 4;
/// Largest VNI (24 bits).
pub const MAX_VNI: u32 = 0x00ff_ffff;

const FLAG_O: u8 = 0x80;
const FLAG_C: u8 = 0x40;

/// One option TLV, parsed or to be emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GeneveOption<'a> {
    /// Option class (namespace; IANA "Geneve Option Class").
    pub class: u16,
    /// Type within the class; the high bit is the critical bit.
    pub option_type: u8,
    /// Data, a multiple of 4 octets, at most [`MAX_OPTION_DATA_LEN`].
    pub data: &'a [u8],
}

impl GeneveOption<'_> {
    /// The critical bit (high bit of the type).
    pub const fn is_critical(&self) -> bool {
        self.option_type & 0x80 != 0
    }

    /// Encoded length (4-octet header + data).
    pub const fn wire_len(&self) -> usize {
        4 + self.data.len()
    }
}

/// Iterator over the options of a checked [`GenevePacket`].
#[derive(Debug, Clone)]
pub struct GeneveOptions<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for GeneveOptions<'a> {
    type Item = GeneveOption<'a>;

    fn next(&mut self) -> Option<GeneveOption<'a>> {
        // The constructor validated the layout; `get` keeps this panic-free regardless.
        let hdr = self.rest.get(..4)?;
        let len = 4 + usize::from(hdr[3] & 0x1f) * 4;
        let data = self.rest.get(4..len)?;
        let opt = GeneveOption { class: be16(hdr, 0), option_type: hdr[2], data };
        self.rest = self.rest.get(len..).unwrap_or(&[]);
        Some(opt)
    }
}

fn validate_options(mut rest: &[u8]) -> Result<()> {
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(Error::BadOption);
        }
        let len = 4 + usize::from(rest[3] & 0x1f) * 4;
        if rest.len() < len {
            return Err(Error::BadOption);
        }
        rest = &rest[len..];
    }
    Ok(())
}

/// A zero-copy view of a Geneve header, its options and its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenevePacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> GenevePacket<T> {
    /// Validates version, lengths and the option TLV layout.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[0] >> 6 != 0 {
            return Err(Error::BadVersion);
        }
        let hl = HEADER_LEN + usize::from(b[0] & 0x3f) * 4;
        if b.len() < hl {
            return Err(Error::Truncated);
        }
        validate_options(&b[HEADER_LEN..hl])?;
        Ok(GenevePacket { buffer })
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Version (always 0 after the check).
    pub fn version(&self) -> u8 {
        self.b()[0] >> 6
    }

    /// Length of the options area in octets.
    pub fn options_len(&self) -> usize {
        usize::from(self.b()[0] & 0x3f) * 4
    }

    /// Header length including options.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options_len()
    }

    /// O bit: control (OAM) packet.
    pub fn is_oam(&self) -> bool {
        self.b()[1] & FLAG_O != 0
    }

    /// C bit: critical options present.
    pub fn critical_flag(&self) -> bool {
        self.b()[1] & FLAG_C != 0
    }

    /// Protocol type of the payload.
    pub fn protocol(&self) -> EtherType {
        EtherType(be16(self.b(), 2))
    }

    /// The 24-bit VNI.
    pub fn vni(&self) -> u32 {
        be24(self.b(), 4)
    }

    /// The options area.
    pub fn options_raw(&self) -> &[u8] {
        &self.b()[HEADER_LEN..self.header_len()]
    }

    /// Iterates over the (validated) options.
    pub fn options(&self) -> GeneveOptions<'_> {
        GeneveOptions { rest: self.options_raw() }
    }

    /// True if any option has its critical bit set (whatever the C bit says).
    pub fn has_critical_option(&self) -> bool {
        self.options().any(|o| o.is_critical())
    }

    /// The encapsulated payload.
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> GenevePacket<T> {
    /// Mutable payload.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        &mut self.buffer.as_mut()[hl..]
    }
}

/// A Geneve header to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneveRepr<'a> {
    /// O bit.
    pub oam: bool,
    /// Payload protocol type ([`EtherType::TEB`] for Ethernet).
    pub protocol: EtherType,
    /// VNI (24 bits).
    pub vni: u32,
    /// Options in wire order. The C bit is set when any of them is critical.
    pub options: &'a [GeneveOption<'a>],
}

impl GeneveRepr<'_> {
    /// Header length including options.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.iter().map(GeneveOption::wire_len).sum::<usize>()
    }

    /// Writes the header and options; returns the header length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if self.vni > MAX_VNI {
            return Err(Error::InvalidArgument);
        }
        for o in self.options {
            if !o.data.len().is_multiple_of(4) || o.data.len() > MAX_OPTION_DATA_LEN {
                return Err(Error::InvalidArgument);
            }
        }
        let hl = self.header_len();
        if hl - HEADER_LEN > MAX_OPTIONS_LEN {
            return Err(Error::InvalidArgument);
        }
        need(buf, hl)?;
        buf[0] = ((hl - HEADER_LEN) / 4) as u8;
        let critical = self.options.iter().any(GeneveOption::is_critical);
        buf[1] = if self.oam { FLAG_O } else { 0 } | if critical { FLAG_C } else { 0 };
        set_be16(buf, 2, self.protocol.0);
        set_be24(buf, 4, self.vni);
        buf[7] = 0;
        let mut off = HEADER_LEN;
        for o in self.options {
            set_be16(buf, off, o.class);
            buf[off + 2] = o.option_type;
            buf[off + 3] = (o.data.len() / 4) as u8;
            buf[off + 4..off + 4 + o.data.len()].copy_from_slice(o.data);
            off += o.wire_len();
        }
        Ok(hl)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testutil::never_panics;

    /// VNI 0xabcdef, Ethernet payload, C bit, two options:
    /// class 0x0102 type 0x80 (critical) with 4 data octets, class 0xffff type 0x01 no data;
    /// followed by 2 payload octets.
    #[rustfmt::skip]
    pub(crate) const GOLDEN: [u8; 22] = [
        0x03, 0x40, 0x65, 0x58, 0xab, 0xcd, 0xef, 0x00,
        0x01, 0x02, 0x80, 0x01, 0xde, 0xad, 0xbe, 0xef,
        0xff, 0xff, 0x01, 0x00,
        0xaa, 0xbb,
    ];

    #[test]
    fn parse_golden() {
        let p = GenevePacket::new_checked(&GOLDEN[..]).unwrap();
        assert_eq!((p.version(), p.options_len(), p.header_len()), (0, 12, 20));
        assert!(!p.is_oam() && p.critical_flag() && p.has_critical_option());
        assert_eq!(p.protocol(), EtherType::TEB);
        assert_eq!(p.vni(), 0xabcdef);
        let opts: Vec<_> = p.options().collect();
        assert_eq!(opts.len(), 2);
        assert_eq!(
            opts[0],
            GeneveOption { class: 0x0102, option_type: 0x80, data: &[0xde, 0xad, 0xbe, 0xef] }
        );
        assert_eq!(opts[1], GeneveOption { class: 0xffff, option_type: 0x01, data: &[] });
        assert_eq!(p.payload(), &[0xaa, 0xbb]);
    }

    #[test]
    fn emit_golden() {
        let opts = [
            GeneveOption { class: 0x0102, option_type: 0x80, data: &[0xde, 0xad, 0xbe, 0xef] },
            GeneveOption { class: 0xffff, option_type: 0x01, data: &[] },
        ];
        let repr =
            GeneveRepr { oam: false, protocol: EtherType::TEB, vni: 0xabcdef, options: &opts };
        let mut buf = [0u8; 20];
        assert_eq!(repr.emit(&mut buf), Ok(20));
        assert_eq!(buf, GOLDEN[..20]);
        assert_eq!(repr.emit(&mut buf[..19]), Err(Error::BufferTooSmall));
        let bad = [GeneveOption { class: 1, option_type: 1, data: &[1, 2, 3] }];
        assert_eq!(
            GeneveRepr { options: &bad, ..repr }.emit(&mut buf),
            Err(Error::InvalidArgument)
        );
        assert_eq!(GeneveRepr { vni: 1 << 24, ..repr }.emit(&mut buf), Err(Error::InvalidArgument));
        let big = [0u8; 124];
        let too_many = [GeneveOption { class: 1, option_type: 1, data: &big }; 3];
        let mut large = [0u8; 512];
        assert_eq!(
            GeneveRepr { options: &too_many, ..repr }.emit(&mut large),
            Err(Error::InvalidArgument)
        );
        let oam = GeneveRepr { oam: true, options: &[], ..repr };
        assert_eq!(oam.emit(&mut large), Ok(8));
        assert_eq!(large[..2], [0x00, 0x80]);
    }

    #[test]
    fn validation() {
        let mut v = GOLDEN;
        v[0] = 0x43;
        assert_eq!(GenevePacket::new_checked(&v[..]).err(), Some(Error::BadVersion));
        // Options area larger than the buffer.
        let mut v = GOLDEN;
        v[0] = 0x06;
        assert_eq!(GenevePacket::new_checked(&v[..]).err(), Some(Error::Truncated));
        // First option claims 12 data octets: 16 overrun the 12-octet area.
        let mut v = GOLDEN;
        v[11] = 0x03;
        assert_eq!(GenevePacket::new_checked(&v[..]).err(), Some(Error::BadOption));
        // Options area of 4 octets holding a partial option header is fine only if whole.
        let mut v = GOLDEN;
        v[0] = 0x02; // 8 octets: option 1 (8 octets) fits exactly
        let p = GenevePacket::new_checked(&v[..]).unwrap();
        assert_eq!(p.options().count(), 1);
        assert_eq!(p.payload().len(), 6);
    }

    pub(crate) fn exercise(data: &[u8]) {
        if let Ok(p) = GenevePacket::new_checked(data) {
            let _ = (p.version(), p.is_oam(), p.critical_flag(), p.protocol(), p.vni());
            let total: usize = p.options().map(|o| o.wire_len()).sum();
            assert_eq!(total, p.options_len());
            let _ = (p.has_critical_option(), p.payload().len());
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        never_panics(&[&GOLDEN], 10, exercise);
    }
}
