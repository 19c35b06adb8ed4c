//! Ethernet II frames with IEEE 802.1Q VLAN tags and IEEE 802.1ad (QinQ) service tags.
//!
//! Layout (IEEE 802.3 §3.1.1, Ethernet II framing; the FCS is not part of the buffer):
//!
//! ```text
//!  0      6      12        14
//!  | dst  | src  | type/len | payload ...
//! ```
//!
//! A VLAN tag (IEEE 802.1Q §9.6) inserts 4 octets before the EtherType: the TPID
//! (`0x8100` C-tag, `0x88a8` S-tag per 802.1ad, `0x9100` pre-standard QinQ) and the
//! TCI = PCP (3 bits) | DEI (1 bit) | VID (12 bits). [`parse_l2`] walks up to two tags
//! and reports the inner EtherType and where the L3 payload starts.
//!
//! A type/length value below `0x0600` is an IEEE 802.3 length (LLC frames such as STP
//! BPDUs); [`EtherType::is_length`] tells. Such frames parse; their payload is left to
//! the caller.

use core::fmt;

use crate::field::{array, be16, need, set_be16};
use crate::{Error, Result};

/// A 48-bit IEEE MAC address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    /// `00:00:00:00:00:00`.
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// Group bit (I/G) set: multicast or broadcast.
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// All ones.
    pub const fn is_broadcast(&self) -> bool {
        matches!(self.0, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    }

    /// Individual address (I/G bit clear).
    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// Locally administered (U/L bit set).
    pub const fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    /// The octets.
    pub const fn octets(&self) -> [u8; 6] {
        self.0
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(b: [u8; 6]) -> Self {
        MacAddr(b)
    }
}

/// An EtherType (or, below `0x0600`, an IEEE 802.3 length).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct EtherType(pub u16);

impl EtherType {
    /// IPv4 (RFC 894).
    pub const IPV4: EtherType = EtherType(0x0800);
    /// ARP (RFC 826).
    pub const ARP: EtherType = EtherType(0x0806);
    /// Transparent Ethernet Bridging: the Geneve protocol type for an inner Ethernet frame.
    pub const TEB: EtherType = EtherType(0x6558);
    /// IEEE 802.1Q customer VLAN tag.
    pub const VLAN: EtherType = EtherType(0x8100);
    /// IPv6 (RFC 2464).
    pub const IPV6: EtherType = EtherType(0x86dd);
    /// IEEE 802.1ad service VLAN tag (QinQ).
    pub const QINQ: EtherType = EtherType(0x88a8);
    /// Pre-standard QinQ TPID still seen on some equipment.
    pub const QINQ_LEGACY: EtherType = EtherType(0x9100);
    /// LLDP (IEEE 802.1AB).
    pub const LLDP: EtherType = EtherType(0x88cc);

    /// True for a TPID that introduces a VLAN tag.
    pub const fn is_vlan_tpid(self) -> bool {
        matches!(self.0, 0x8100 | 0x88a8 | 0x9100)
    }

    /// True when the value is an IEEE 802.3 length rather than an EtherType.
    pub const fn is_length(self) -> bool {
        self.0 < 0x0600
    }
}

/// Length of the untagged Ethernet II header.
pub const HEADER_LEN: usize = 14;
/// Length of one VLAN tag.
pub const VLAN_TAG_LEN: usize = 4;
/// Most VLAN tags [`parse_l2`] walks (one S-tag plus one C-tag).
pub const MAX_VLAN_TAGS: usize = 2;

/// A zero-copy view of an Ethernet II frame (outer header only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps `buffer` after checking it holds the 14-octet header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(EthernetFrame { buffer })
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole frame.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Destination address.
    pub fn dst(&self) -> MacAddr {
        MacAddr(array(self.buffer.as_ref(), 0))
    }

    /// Source address.
    pub fn src(&self) -> MacAddr {
        MacAddr(array(self.buffer.as_ref(), 6))
    }

    /// The outer EtherType (a TPID if the frame is tagged).
    pub fn ethertype(&self) -> EtherType {
        EtherType(be16(self.buffer.as_ref(), 12))
    }

    /// Everything after the outer 14-octet header (VLAN tags included, if any).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    /// Sets the destination address.
    pub fn set_dst(&mut self, a: MacAddr) {
        self.buffer.as_mut()[0..6].copy_from_slice(&a.0);
    }

    /// Sets the source address.
    pub fn set_src(&mut self, a: MacAddr) {
        self.buffer.as_mut()[6..12].copy_from_slice(&a.0);
    }

    /// Sets the outer EtherType.
    pub fn set_ethertype(&mut self, t: EtherType) {
        set_be16(self.buffer.as_mut(), 12, t.0);
    }

    /// Mutable payload after the outer header.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// One IEEE 802.1Q / 802.1ad tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VlanTag {
    /// The tag protocol identifier (`0x8100`, `0x88a8` or `0x9100`).
    pub tpid: EtherType,
    /// Priority code point (3 bits).
    pub pcp: u8,
    /// Drop eligible indicator.
    pub dei: bool,
    /// VLAN identifier (12 bits; 0 = priority tag only, 4095 reserved).
    pub vid: u16,
}

impl VlanTag {
    /// A C-tag (`0x8100`) with priority 0.
    pub const fn c_tag(vid: u16) -> Self {
        VlanTag { tpid: EtherType::VLAN, pcp: 0, dei: false, vid }
    }

    /// An S-tag (`0x88a8`) with priority 0.
    pub const fn s_tag(vid: u16) -> Self {
        VlanTag { tpid: EtherType::QINQ, pcp: 0, dei: false, vid }
    }

    /// The 16-bit tag control information.
    pub const fn tci(&self) -> u16 {
        ((self.pcp as u16 & 0x7) << 13) | ((self.dei as u16) << 12) | (self.vid & 0x0fff)
    }

    /// Decodes a TPID and a TCI.
    pub const fn from_tci(tpid: EtherType, tci: u16) -> Self {
        VlanTag { tpid, pcp: (tci >> 13) as u8, dei: tci & 0x1000 != 0, vid: tci & 0x0fff }
    }

    fn validate(&self) -> Result<()> {
        if !self.tpid.is_vlan_tpid() || self.pcp > 7 || self.vid > 0x0fff {
            return Err(Error::InvalidArgument);
        }
        Ok(())
    }
}

/// Up to [`MAX_VLAN_TAGS`] tags, outermost first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VlanStack {
    tags: [Option<VlanTag>; MAX_VLAN_TAGS],
}

impl VlanStack {
    /// No tags.
    pub const EMPTY: VlanStack = VlanStack { tags: [None; MAX_VLAN_TAGS] };

    /// Number of tags.
    pub fn len(&self) -> usize {
        self.tags.iter().flatten().count()
    }

    /// True when untagged.
    pub fn is_empty(&self) -> bool {
        self.tags[0].is_none()
    }

    /// The outermost tag.
    pub fn outer(&self) -> Option<VlanTag> {
        self.tags[0]
    }

    /// The innermost tag (the C-tag of a QinQ frame; the only tag of a single-tagged one).
    pub fn inner(&self) -> Option<VlanTag> {
        self.iter().last()
    }

    /// Tags, outermost first.
    pub fn iter(&self) -> impl Iterator<Item = VlanTag> + '_ {
        self.tags.iter().flatten().copied()
    }

    fn push(&mut self, tag: VlanTag) -> Result<()> {
        match self.tags.iter_mut().find(|t| t.is_none()) {
            Some(slot) => {
                *slot = Some(tag);
                Ok(())
            }
            None => Err(Error::TooManyHeaders),
        }
    }
}

/// What [`parse_l2`] learned from an Ethernet frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct L2Info {
    /// Destination MAC.
    pub dst: MacAddr,
    /// Source MAC.
    pub src: MacAddr,
    /// The EtherType after all VLAN tags (or an 802.3 length, see [`EtherType::is_length`]).
    pub ethertype: EtherType,
    /// VLAN tags, outermost first.
    pub vlans: VlanStack,
    /// Offset of the L3 payload from the start of the frame.
    pub payload_offset: usize,
}

/// Parses the Ethernet header and walks up to two VLAN tags.
///
/// Errors: [`Error::Truncated`] if the header or a tag is cut short,
/// [`Error::TooManyHeaders`] for a third tag.
pub fn parse_l2(frame: &[u8]) -> Result<L2Info> {
    let eth = EthernetFrame::new_checked(frame)?;
    let mut ethertype = eth.ethertype();
    let mut offset = HEADER_LEN;
    let mut vlans = VlanStack::EMPTY;
    while ethertype.is_vlan_tpid() {
        if frame.len() < offset + VLAN_TAG_LEN {
            return Err(Error::Truncated);
        }
        vlans.push(VlanTag::from_tci(ethertype, be16(frame, offset)))?;
        ethertype = EtherType(be16(frame, offset + 2));
        offset += VLAN_TAG_LEN;
    }
    Ok(L2Info { dst: eth.dst(), src: eth.src(), ethertype, vlans, payload_offset: offset })
}

/// The Ethernet header we emit: addresses, 0–2 VLAN tags (outermost first) and the
/// EtherType of the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetRepr<'a> {
    /// Destination.
    pub dst: MacAddr,
    /// Source.
    pub src: MacAddr,
    /// VLAN tags, outermost first (at most [`MAX_VLAN_TAGS`]).
    pub vlans: &'a [VlanTag],
    /// EtherType of the payload.
    pub ethertype: EtherType,
}

impl EthernetRepr<'_> {
    /// Length of the header this emits.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + VLAN_TAG_LEN * self.vlans.len()
    }

    /// Writes the header at the start of `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if self.vlans.len() > MAX_VLAN_TAGS {
            return Err(Error::TooManyHeaders);
        }
        for t in self.vlans {
            t.validate()?;
        }
        let len = self.header_len();
        need(buf, len)?;
        buf[0..6].copy_from_slice(&self.dst.0);
        buf[6..12].copy_from_slice(&self.src.0);
        let mut off = 12;
        for t in self.vlans {
            set_be16(buf, off, t.tpid.0);
            set_be16(buf, off + 2, t.tci());
            off += VLAN_TAG_LEN;
        }
        set_be16(buf, off, self.ethertype.0);
        Ok(len)
    }
}

/// Inserts `tag` as the new outermost tag of the frame held in `buf[..len]`, shifting the
/// rest right by 4 octets; returns the new frame length. Fails with
/// [`Error::BufferTooSmall`] if `buf` has no room, [`Error::TooManyHeaders`] if the frame
/// already carries two tags.
pub fn push_vlan(buf: &mut [u8], len: usize, tag: VlanTag) -> Result<usize> {
    tag.validate()?;
    let frame = buf.get(..len).ok_or(Error::InvalidArgument)?;
    let info = parse_l2(frame)?;
    if info.vlans.len() >= MAX_VLAN_TAGS {
        return Err(Error::TooManyHeaders);
    }
    need(buf, len + VLAN_TAG_LEN)?;
    buf.copy_within(12..len, 12 + VLAN_TAG_LEN);
    set_be16(buf, 12, tag.tpid.0);
    set_be16(buf, 14, tag.tci());
    Ok(len + VLAN_TAG_LEN)
}

/// Removes the outermost tag of the frame held in `buf[..len]`; returns the removed tag
/// and the new length, or `None` if the frame is untagged.
pub fn pop_vlan(buf: &mut [u8], len: usize) -> Result<Option<(VlanTag, usize)>> {
    let frame = buf.get(..len).ok_or(Error::InvalidArgument)?;
    let info = parse_l2(frame)?;
    let Some(tag) = info.vlans.outer() else {
        return Ok(None);
    };
    buf.copy_within(12 + VLAN_TAG_LEN..len, 12);
    Ok(Some((tag, len - VLAN_TAG_LEN)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testutil::never_panics;

    pub(crate) const DST: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
    pub(crate) const SRC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];

    /// Untagged IPv4 frame header + 4 payload bytes.
    pub(crate) const UNTAGGED: [u8; 18] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // dst
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src
        0x08, 0x00, // IPv4
        0xde, 0xad, 0xbe, 0xef,
    ];

    /// QinQ: S-tag 0x88a8 PCP 5 VID 100, C-tag 0x8100 DEI VID 200, IPv6.
    pub(crate) const QINQ: [u8; 24] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // dst
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src
        0x88, 0xa8, 0xa0, 0x64, // S-tag: PCP 5, VID 100
        0x81, 0x00, 0x10, 0xc8, // C-tag: DEI, VID 200
        0x86, 0xdd, // IPv6
        0x60, 0x00,
    ];

    #[test]
    fn untagged() {
        let info = parse_l2(&UNTAGGED).unwrap();
        assert_eq!(info.dst, MacAddr(DST));
        assert_eq!(info.src, MacAddr(SRC));
        assert_eq!(info.ethertype, EtherType::IPV4);
        assert!(info.vlans.is_empty());
        assert_eq!(info.payload_offset, 14);
        let f = EthernetFrame::new_checked(&UNTAGGED[..]).unwrap();
        assert_eq!(f.payload(), &[0xde, 0xad, 0xbe, 0xef]);
    }

    #[test]
    fn qinq_walked() {
        let info = parse_l2(&QINQ).unwrap();
        assert_eq!(info.ethertype, EtherType::IPV6);
        assert_eq!(info.payload_offset, 22);
        assert_eq!(info.vlans.len(), 2);
        let outer = info.vlans.outer().unwrap();
        assert_eq!(outer, VlanTag { tpid: EtherType::QINQ, pcp: 5, dei: false, vid: 100 });
        let inner = info.vlans.inner().unwrap();
        assert_eq!(inner, VlanTag { tpid: EtherType::VLAN, pcp: 0, dei: true, vid: 200 });
    }

    #[test]
    fn three_tags_rejected_and_truncated_tag() {
        let mut f = QINQ.to_vec();
        f.splice(20..20, [0x81, 0x00, 0x00, 0x01]);
        assert_eq!(parse_l2(&f), Err(Error::TooManyHeaders));
        assert_eq!(parse_l2(&QINQ[..17]), Err(Error::Truncated));
        assert_eq!(parse_l2(&QINQ[..13]), Err(Error::Truncated));
        // A tag whose inner EtherType is cut short.
        assert_eq!(parse_l2(&QINQ[..21]), Err(Error::Truncated));
    }

    #[test]
    fn emit_round_trip_and_push_pop() {
        let tags =
            [VlanTag::s_tag(100), VlanTag { tpid: EtherType::VLAN, pcp: 0, dei: true, vid: 200 }];
        let mut tags0 = tags;
        tags0[0].pcp = 5;
        let repr = EthernetRepr {
            dst: MacAddr(DST),
            src: MacAddr(SRC),
            vlans: &tags0,
            ethertype: EtherType::IPV6,
        };
        let mut buf = [0u8; 22];
        assert_eq!(repr.emit(&mut buf), Ok(22));
        assert_eq!(buf[..], QINQ[..22]);
        assert_eq!(repr.emit(&mut buf[..21]), Err(Error::BufferTooSmall));

        let mut frame = [0u8; 30];
        frame[..18].copy_from_slice(&UNTAGGED);
        let len = push_vlan(&mut frame, 18, VlanTag::c_tag(7)).unwrap();
        assert_eq!(len, 22);
        let info = parse_l2(&frame[..len]).unwrap();
        assert_eq!(info.vlans.outer().map(|t| t.vid), Some(7));
        assert_eq!(&frame[18..22], &[0xde, 0xad, 0xbe, 0xef]);
        let len2 = push_vlan(&mut frame, len, VlanTag::s_tag(9)).unwrap();
        assert_eq!(push_vlan(&mut frame, len2, VlanTag::s_tag(9)), Err(Error::TooManyHeaders));
        let (t, len3) = pop_vlan(&mut frame, len2).unwrap().unwrap();
        assert_eq!((t.vid, len3), (9, 22));
        let (_, len4) = pop_vlan(&mut frame, len3).unwrap().unwrap();
        assert_eq!(&frame[..len4], &UNTAGGED[..]);
        assert_eq!(pop_vlan(&mut frame, len4), Ok(None));
        assert_eq!(push_vlan(&mut frame[..20], 18, VlanTag::c_tag(1)), Err(Error::BufferTooSmall));
        assert_eq!(push_vlan(&mut frame, 18, VlanTag::c_tag(4096)), Err(Error::InvalidArgument));
    }

    #[test]
    fn mac_properties() {
        assert!(MacAddr::BROADCAST.is_broadcast() && MacAddr::BROADCAST.is_multicast());
        assert!(MacAddr(SRC).is_unicast() && MacAddr(SRC).is_local());
        assert_eq!(MacAddr(SRC).to_string(), "02:00:00:00:00:01");
        assert!(EtherType(0x05dc).is_length());
    }

    pub(crate) fn exercise(data: &[u8]) {
        if let Ok(f) = EthernetFrame::new_checked(data) {
            let _ = (f.dst(), f.src(), f.ethertype(), f.payload().len());
        }
        if let Ok(info) = parse_l2(data) {
            assert!(info.payload_offset <= data.len());
            let _ = info.vlans.iter().count();
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        never_panics(&[&UNTAGGED, &QINQ], 1, exercise);
        // push/pop on arbitrary frames never panic either.
        never_panics(&[&UNTAGGED, &QINQ], 2, |d| {
            let mut buf = [0u8; 200];
            buf[..d.len()].copy_from_slice(d);
            let _ = push_vlan(&mut buf, d.len(), VlanTag::c_tag(1));
            let _ = pop_vlan(&mut buf, d.len());
        });
    }
}
