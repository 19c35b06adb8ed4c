//! IPv6 ([RFC 8200]) and its extension-header chain.
//!
//! Fixed header (§3):
//!
//! ```text
//!  0       4               12                              31
//!  |version| traffic class |           flow label           |
//!  |        payload length          | next header | hop limit |
//!  |                 source address (16 octets)                |
//!  |               destination address (16 octets)             |
//! ```
//!
//! [`Ipv6Packet::new_checked`] validates version 6 and `40 + payload length ≤ buffer`.
//! Jumbograms (RFC 2675, payload length 0) are not supported: their hop-by-hop header
//! does not fit in a zero-length payload, so the chain walk reports [`Error::Truncated`].
//!
//! [`Ipv6Packet::headers`] walks the extension headers (§4) — hop-by-hop (§4.3), routing
//! (§4.4), fragment (§4.5), destination options (§4.6), AH ([RFC 4302] §2.2, length in
//! 4-octet units minus 2, which must be a multiple of 8 octets for IPv6) and the other
//! headers of the uniform format of [RFC 6564] (Mobility, HIP, Shim6) — and reports
//! the upper-layer protocol, its offset and fragment information. The walk is bounded:
//! at most [`MAX_EXT_HEADERS`] headers, hop-by-hop only directly after the fixed header
//! (§4.1), and each header at most once except destination options (at most twice, §4.1).
//! ESP (50) and "no next header" (59) end the walk and are reported as the upper layer.
//! A non-first fragment ends the walk at the fragment header: the rest is fragment data.
//!
//! [RFC 8200]: https://www.rfc-editor.org/rfc/rfc8200
//! [RFC 4302]: https://www.rfc-editor.org/rfc/rfc4302
//! [RFC 6564]: https://www.rfc-editor.org/rfc/rfc6564

use core::net::Ipv6Addr;

use crate::field::{array, be16, be32, need, set_be16, set_be32};
use crate::{Error, IpProtocol, Result};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 40;
/// The most extension headers [`Ipv6Packet::headers`] walks before giving up with
/// [`Error::TooManyHeaders`].
pub const MAX_EXT_HEADERS: usize = 8;
/// Length of a fragment header.
pub const FRAGMENT_HEADER_LEN: usize = 8;
/// The IPv6 minimum link MTU (§5).
pub const MIN_MTU: usize = 1280;

/// Fragment header contents (§4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FragmentInfo {
    /// Offset of this fragment's data in octets.
    pub offset: usize,
    /// More fragments follow.
    pub more: bool,
    /// Identification.
    pub ident: u32,
}

/// What the extension-header walk found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Headers {
    /// The first next-header value that is not a walked extension header (TCP, UDP,
    /// ICMPv6, ESP, no-next-header, anything unknown); for a non-first fragment, the
    /// next-header value of its fragment header.
    pub upper_protocol: IpProtocol,
    /// Offset of the upper-layer header from the start of the IPv6 header.
    pub upper_offset: usize,
    /// Present when a fragment header was found (atomic fragments included).
    pub fragment: Option<FragmentInfo>,
    /// Number of extension headers walked.
    pub ext_headers: usize,
    /// True when a routing header is present.
    pub has_routing: bool,
    /// Offset of the routing header from the start of the IPv6 header, when present.
    pub routing_offset: Option<usize>,
}

impl Ipv6Headers {
    /// True when a fragment header with MF set or a non-zero offset was found. An
    /// "atomic fragment" (offset 0, MF clear; RFC 6946) is not a fragment.
    pub fn is_fragment(&self) -> bool {
        self.fragment.is_some_and(|f| f.more || f.offset != 0)
    }

    /// True unless this is a non-first fragment: the upper-layer header is at
    /// `upper_offset`.
    pub fn has_l4_header(&self) -> bool {
        self.fragment.is_none_or(|f| f.offset == 0)
    }
}

/// True for the next-header values [`walk_extension_headers`] steps over.
pub fn is_extension_header(p: IpProtocol) -> bool {
    matches!(
        p,
        IpProtocol::HOP_BY_HOP
            | IpProtocol::ROUTING
            | IpProtocol::FRAGMENT
            | IpProtocol::DEST_OPTIONS
            | IpProtocol::AH
            | IpProtocol::MOBILITY
            | IpProtocol::HIP
            | IpProtocol::SHIM6
    )
}

/// Walks the extension headers in `payload` (everything after the fixed header) starting
/// from `next_header`. Offsets in the result are relative to the fixed header's start,
/// i.e. they include the 40 octets.
pub fn walk_extension_headers(next_header: IpProtocol, payload: &[u8]) -> Result<Ipv6Headers> {
    let mut nh = next_header;
    let mut off = 0usize;
    let mut count = 0usize;
    let mut fragment = None;
    let mut has_routing = false;
    let mut routing_offset = None;
    let mut dest_opts_seen = 0u8;
    // Bit n set when next-header value class n was seen (for the "at most once" rule).
    let mut seen = 0u8;
    loop {
        if !is_extension_header(nh) {
            break;
        }
        if count == MAX_EXT_HEADERS {
            return Err(Error::TooManyHeaders);
        }
        let bit = match nh {
            IpProtocol::HOP_BY_HOP => {
                if count != 0 {
                    return Err(Error::BadHeaderOrder);
                }
                0x01
            }
            IpProtocol::ROUTING => 0x02,
            IpProtocol::FRAGMENT => 0x04,
            IpProtocol::AH => 0x08,
            IpProtocol::MOBILITY => 0x10,
            IpProtocol::HIP => 0x20,
            IpProtocol::SHIM6 => 0x40,
            _ => {
                dest_opts_seen += 1;
                if dest_opts_seen > 2 {
                    return Err(Error::BadHeaderOrder);
                }
                0
            }
        };
        if seen & bit != 0 {
            return Err(Error::BadHeaderOrder);
        }
        seen |= bit;

        let rest = &payload[off..];
        if rest.len() < 2 {
            return Err(Error::Truncated);
        }
        let next = IpProtocol(rest[0]);
        let len = match nh {
            IpProtocol::FRAGMENT => FRAGMENT_HEADER_LEN,
            IpProtocol::AH => {
                let len = (usize::from(rest[1]) + 2) * 4;
                if !len.is_multiple_of(8) {
                    return Err(Error::BadLength);
                }
                len
            }
            _ => (usize::from(rest[1]) + 1) * 8,
        };
        if rest.len() < len {
            return Err(Error::Truncated);
        }
        count += 1;
        if nh == IpProtocol::ROUTING {
            has_routing = true;
            routing_offset = Some(HEADER_LEN + off);
        }
        if nh == IpProtocol::FRAGMENT {
            let fo = be16(rest, 2);
            let info = FragmentInfo {
                offset: usize::from(fo >> 3) * 8,
                more: fo & 1 != 0,
                ident: be32(rest, 4),
            };
            fragment = Some(info);
            if info.offset != 0 {
                off += len;
                nh = next;
                break;
            }
        }
        off += len;
        nh = next;
    }
    Ok(Ipv6Headers {
        upper_protocol: nh,
        upper_offset: HEADER_LEN + off,
        fragment,
        ext_headers: count,
        has_routing,
        routing_offset,
    })
}

/// Routing types whose final destination [`routing_final_destination`] knows.
pub mod routing_type {
    /// Type 2, Mobile IPv6 (RFC 6275 §6.4).
    pub const MOBILE_IPV6: u8 = 2;
    /// Type 3, RPL source route (RFC 6554).
    pub const RPL: u8 = 3;
    /// Type 4, Segment Routing Header (RFC 8754).
    pub const SRH: u8 = 4;
}

/// The final destination of a packet with destination `dst` carrying the routing header
/// `rh` (from its first octet to at least its end): the address the upper-layer
/// pseudo-header uses (RFC 8200 §8.1). With Segments Left 0 the header is ignored (RFC 8200
/// §4.4) and it is `dst`; otherwise, for type 4 (SRH) Segment List[0] (RFC 8754 §2), for
/// type 2 the home address (RFC 6275 §6.4), for type 3 (RPL) the last address with its
/// first CmprE octets taken from `dst` (RFC 6554 §3). [`Error::Unsupported`] for any other
/// type with segments left, [`Error::Truncated`] or [`Error::BadLength`] for a header too
/// short for what it claims.
pub fn routing_final_destination(dst: Ipv6Addr, rh: &[u8]) -> Result<Ipv6Addr> {
    if rh.len() < 8 {
        return Err(Error::Truncated);
    }
    let len = (usize::from(rh[1]) + 1) * 8;
    let rh = rh.get(..len).ok_or(Error::Truncated)?;
    if rh[3] == 0 {
        return Ok(dst);
    }
    let addr_at = |at: usize| -> Result<Ipv6Addr> {
        let a = rh.get(at..at + 16).ok_or(Error::BadLength)?;
        Ok(Ipv6Addr::from(array::<16>(a, 0)))
    };
    match rh[2] {
        routing_type::SRH | routing_type::MOBILE_IPV6 => addr_at(8),
        routing_type::RPL => {
            let (cmpr_i, cmpr_e) = (usize::from(rh[4] >> 4), usize::from(rh[4] & 0x0f));
            let pad = usize::from(rh[5] >> 4);
            // RFC 6554 §3: n = ((HdrExtLen * 8) - Pad - (16 - CmprE)) / (16 - CmprI) + 1;
            // the addresses are n - 1 of 16 - CmprI octets, then one of 16 - CmprE.
            let body = (len - 8).checked_sub(pad + (16 - cmpr_e)).ok_or(Error::BadLength)?;
            if !body.is_multiple_of(16 - cmpr_i) {
                return Err(Error::BadLength);
            }
            let last = rh.get(8 + body..8 + body + 16 - cmpr_e).ok_or(Error::BadLength)?;
            let mut a = dst.octets();
            a[cmpr_e..].copy_from_slice(last);
            Ok(Ipv6Addr::from(a))
        }
        _ => Err(Error::Unsupported),
    }
}

/// A zero-copy view of an IPv6 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Validates version and that the payload length fits the buffer.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[0] >> 4 != 6 {
            return Err(Error::BadVersion);
        }
        if b.len() < HEADER_LEN + usize::from(be16(b, 4)) {
            return Err(Error::Truncated);
        }
        Ok(Ipv6Packet { buffer })
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Traffic class.
    pub fn traffic_class(&self) -> u8 {
        ((be16(self.b(), 0) >> 4) & 0xff) as u8
    }

    /// DSCP part of the traffic class.
    pub fn dscp(&self) -> u8 {
        self.traffic_class() >> 2
    }

    /// ECN part of the traffic class.
    pub fn ecn(&self) -> u8 {
        self.traffic_class() & 0x03
    }

    /// Flow label (20 bits).
    pub fn flow_label(&self) -> u32 {
        be32(self.b(), 0) & 0x000f_ffff
    }

    /// Payload length field.
    pub fn payload_len(&self) -> usize {
        usize::from(be16(self.b(), 4))
    }

    /// The next header after the fixed header.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol(self.b()[6])
    }

    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.b()[7]
    }

    /// Source address.
    pub fn src(&self) -> Ipv6Addr {
        Ipv6Addr::from(array::<16>(self.b(), 8))
    }

    /// Destination address.
    pub fn dst(&self) -> Ipv6Addr {
        Ipv6Addr::from(array::<16>(self.b(), 24))
    }

    /// Everything after the fixed header, bounded by the payload length.
    pub fn payload(&self) -> &[u8] {
        &self.b()[HEADER_LEN..HEADER_LEN + self.payload_len()]
    }

    /// The packet, bounded by the payload length.
    pub fn packet(&self) -> &[u8] {
        &self.b()[..HEADER_LEN + self.payload_len()]
    }

    /// Walks the extension-header chain; see the module docs for the rules.
    pub fn headers(&self) -> Result<Ipv6Headers> {
        walk_extension_headers(self.next_header(), self.payload())
    }

    /// The destination the upper-layer checksum's pseudo-header uses (RFC 8200 §8.1): the
    /// destination field, or with a routing header with segments left the final one (see
    /// [`routing_final_destination`]).
    pub fn final_destination(&self) -> Result<Ipv6Addr> {
        let h = self.headers()?;
        match h.routing_offset {
            None => Ok(self.dst()),
            Some(at) => {
                routing_final_destination(self.dst(), self.packet().get(at..).unwrap_or(&[]))
            }
        }
    }

    /// The upper-layer protocol and the bytes from its header to the end of the packet,
    /// after walking the chain. For a non-first fragment this is fragment data.
    pub fn upper_layer(&self) -> Result<(IpProtocol, &[u8])> {
        let h = self.headers()?;
        Ok((h.upper_protocol, &self.packet()[h.upper_offset..]))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    /// Sets the hop limit.
    pub fn set_hop_limit(&mut self, h: u8) {
        self.buffer.as_mut()[7] = h;
    }

    /// Sets the ECN part of the traffic class (its low two bits, in the second octet).
    pub fn set_ecn(&mut self, ecn: u8) {
        let b = &mut self.buffer.as_mut()[1];
        *b = (*b & !0x30) | ((ecn & 0x03) << 4);
    }

    /// Router hop-limit processing (RFC 8200 §3): fails with [`Error::TtlExpired`] when
    /// the hop limit is 0 or 1, else decrements it and returns the new value. IPv6 has no
    /// header checksum.
    pub fn decrement_hop_limit(&mut self) -> Result<u8> {
        let h = self.hop_limit();
        if h <= 1 {
            return Err(Error::TtlExpired);
        }
        self.set_hop_limit(h - 1);
        Ok(h - 1)
    }

    /// Sets the source address (the L4 checksum is the caller's).
    pub fn set_src(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[8..24].copy_from_slice(&a.octets());
    }

    /// Sets the destination address (the L4 checksum is the caller's).
    pub fn set_dst(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[24..40].copy_from_slice(&a.octets());
    }

    /// Mutable payload, bounded by the payload length.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = HEADER_LEN + self.payload_len();
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

/// The fields of an IPv6 fixed header to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Repr {
    /// Source.
    pub src: Ipv6Addr,
    /// Destination.
    pub dst: Ipv6Addr,
    /// Next header.
    pub next_header: IpProtocol,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
    /// Payload length (extension headers included).
    pub payload_len: usize,
}

impl Ipv6Repr {
    /// A header with hop limit 64, traffic class 0 and flow label 0.
    pub fn new(src: Ipv6Addr, dst: Ipv6Addr, next_header: IpProtocol, payload_len: usize) -> Self {
        Ipv6Repr {
            src,
            dst,
            next_header,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
            payload_len,
        }
    }

    /// Writes the 40-octet fixed header; returns 40.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let plen = u16::try_from(self.payload_len).map_err(|_| Error::InvalidArgument)?;
        if self.flow_label > 0x000f_ffff {
            return Err(Error::InvalidArgument);
        }
        need(buf, HEADER_LEN)?;
        set_be32(buf, 0, (6 << 28) | (u32::from(self.traffic_class) << 20) | self.flow_label);
        set_be16(buf, 4, plen);
        buf[6] = self.next_header.0;
        buf[7] = self.hop_limit;
        buf[8..24].copy_from_slice(&self.src.octets());
        buf[24..40].copy_from_slice(&self.dst.octets());
        Ok(HEADER_LEN)
    }
}

/// Writes a hop-by-hop or destination options header carrying the already-encoded TLV
/// `options`, padded with Pad1/PadN (§4.2) to a multiple of 8 octets; returns its length.
pub fn emit_options_header(
    buf: &mut [u8],
    next_header: IpProtocol,
    options: &[u8],
) -> Result<usize> {
    let len = (2 + options.len()).div_ceil(8) * 8;
    if len > 256 * 8 {
        return Err(Error::InvalidArgument);
    }
    need(buf, len)?;
    buf[0] = next_header.0;
    buf[1] = (len / 8 - 1) as u8;
    buf[2..2 + options.len()].copy_from_slice(options);
    let pad = &mut buf[2 + options.len()..len];
    match pad.len() {
        0 => {}
        1 => pad[0] = 0, // Pad1
        n => {
            pad.fill(0);
            pad[0] = 1; // PadN
            pad[1] = (n - 2) as u8;
        }
    }
    Ok(len)
}

/// Writes a fragment header (§4.5); `offset` is in octets and must be a multiple of 8.
pub fn emit_fragment_header(
    buf: &mut [u8],
    next_header: IpProtocol,
    offset: usize,
    more: bool,
    ident: u32,
) -> Result<usize> {
    if !offset.is_multiple_of(8) || offset / 8 > 0x1fff {
        return Err(Error::InvalidArgument);
    }
    need(buf, FRAGMENT_HEADER_LEN)?;
    buf[0] = next_header.0;
    buf[1] = 0;
    set_be16(buf, 2, ((offset / 8) as u16) << 3 | u16::from(more));
    set_be32(buf, 4, ident);
    Ok(FRAGMENT_HEADER_LEN)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testutil::never_panics;

    pub(crate) fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    /// 2001:db8::1 -> 2001:db8::2: hop-by-hop (PadN) -> routing (type 4, 16 octets) ->
    /// fragment (offset 0, MF) -> destination options -> AH (payload len 4: 24 octets) ->
    /// UDP, 8-octet header + 4 data octets.
    pub(crate) fn chain_packet() -> Vec<u8> {
        let mut ext = Vec::new();
        // hop-by-hop: next=routing, len 0 (8 octets), PadN of 4 data octets.
        ext.extend_from_slice(&[43, 0, 1, 4, 0, 0, 0, 0]);
        // routing: next=fragment, len 1 (16 octets), type 4, segments left 0.
        ext.extend_from_slice(&[44, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        // fragment: next=dest opts, offset 0, M=1, ident 0xdeadbeef.
        ext.extend_from_slice(&[60, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef]);
        // destination options: next=AH, len 0, Pad1 x6.
        ext.extend_from_slice(&[51, 0, 0, 0, 0, 0, 0, 0]);
        // AH: next=UDP, payload len 4 -> (4+2)*4 = 24 octets: SPI, seq, 12-octet ICV.
        ext.extend_from_slice(&[17, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
        ext.extend_from_slice(&[0xaa; 8]);
        // UDP 1234 -> 5678, length 12, checksum 0 (not checked here), "data".
        ext.extend_from_slice(&[0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0c, 0x00, 0x00]);
        ext.extend_from_slice(b"data");
        let mut pkt = vec![0u8; HEADER_LEN];
        Ipv6Repr::new(a("2001:db8::1"), a("2001:db8::2"), IpProtocol::HOP_BY_HOP, ext.len())
            .emit(&mut pkt)
            .unwrap();
        pkt.extend_from_slice(&ext);
        pkt
    }

    #[test]
    fn fixed_header() {
        let mut buf = [0u8; 40];
        let repr = Ipv6Repr {
            traffic_class: 0xb8,
            flow_label: 0x12345,
            hop_limit: 3,
            ..Ipv6Repr::new(a("2001:db8::1"), a("2001:db8::2"), IpProtocol::NO_NEXT_HEADER, 0)
        };
        repr.emit(&mut buf).unwrap();
        assert_eq!(&buf[..8], &[0x6b, 0x81, 0x23, 0x45, 0, 0, 59, 3]);
        let p = Ipv6Packet::new_checked(&buf[..]).unwrap();
        assert_eq!((p.traffic_class(), p.dscp(), p.ecn()), (0xb8, 46, 0));
        assert_eq!(p.flow_label(), 0x12345);
        assert_eq!(p.src(), a("2001:db8::1"));
        assert_eq!(p.dst(), a("2001:db8::2"));
        let h = p.headers().unwrap();
        assert_eq!(
            (h.upper_protocol, h.upper_offset, h.ext_headers),
            (IpProtocol::NO_NEXT_HEADER, 40, 0)
        );
        assert_eq!(
            Ipv6Repr { flow_label: 1 << 20, ..repr }.emit(&mut buf),
            Err(Error::InvalidArgument)
        );
    }

    #[test]
    fn full_chain_walk() {
        let pkt = chain_packet();
        let p = Ipv6Packet::new_checked(&pkt[..]).unwrap();
        let h = p.headers().unwrap();
        assert_eq!(h.upper_protocol, IpProtocol::UDP);
        assert_eq!(h.upper_offset, 40 + 8 + 16 + 8 + 8 + 24);
        assert_eq!(h.ext_headers, 5);
        assert!(h.has_routing && h.is_fragment() && h.has_l4_header());
        assert_eq!(h.fragment, Some(FragmentInfo { offset: 0, more: true, ident: 0xdead_beef }));
        let (proto, l4) = p.upper_layer().unwrap();
        assert_eq!(proto, IpProtocol::UDP);
        assert_eq!(&l4[..2], &[0x04, 0xd2]);
    }

    #[test]
    fn non_first_fragment_stops_walk() {
        let mut pkt = chain_packet();
        // Fragment offset 8 octets (wire 1 << 3), M=0.
        pkt[40 + 24 + 2] = 0x00;
        pkt[40 + 24 + 3] = 0x08;
        let h = Ipv6Packet::new_checked(&pkt[..]).unwrap().headers().unwrap();
        assert_eq!(h.upper_protocol, IpProtocol::DEST_OPTIONS);
        assert_eq!(h.upper_offset, 40 + 32);
        assert!(h.is_fragment() && !h.has_l4_header());
        assert_eq!(h.fragment.map(|f| (f.offset, f.more)), Some((8, false)));
    }

    #[test]
    fn atomic_fragment_is_not_a_fragment() {
        let mut pkt = chain_packet();
        pkt[40 + 24 + 3] = 0x00;
        let h = Ipv6Packet::new_checked(&pkt[..]).unwrap().headers().unwrap();
        assert!(h.fragment.is_some() && !h.is_fragment() && h.has_l4_header());
    }

    #[test]
    fn chain_errors() {
        let pkt = chain_packet();
        // Truncating the payload length inside the chain.
        for cut in [1, 8, 10, 30, 60, 63] {
            let mut p = pkt[..40 + cut].to_vec();
            p[4..6].copy_from_slice(&(cut as u16).to_be_bytes());
            let err = Ipv6Packet::new_checked(&p[..]).unwrap().headers();
            assert_eq!(err, Err(Error::Truncated), "cut {cut}");
        }
        // Hop-by-hop not first: routing -> hop-by-hop.
        let mut p = pkt.clone();
        p[6] = 43;
        p[40] = 0; // hop-by-hop's next header byte now read as routing's next = 0...
        p[48] = 0; // routing says next = hop-by-hop
        assert_eq!(Ipv6Packet::new_checked(&p[..]).unwrap().headers(), Err(Error::BadHeaderOrder));
        // AH length not a multiple of 8 octets.
        let mut p = pkt.clone();
        p[40 + 40 + 1] = 3;
        assert_eq!(Ipv6Packet::new_checked(&p[..]).unwrap().headers(), Err(Error::BadLength));
        // Bad version and a payload length beyond the buffer.
        let mut p = pkt.clone();
        p[0] = 0x40;
        assert_eq!(Ipv6Packet::new_checked(&p[..]).err(), Some(Error::BadVersion));
        assert_eq!(Ipv6Packet::new_checked(&pkt[..pkt.len() - 1]).err(), Some(Error::Truncated));
    }

    /// A packet to `dst` with routing header `rh` (next header UDP) and an empty UDP header.
    fn routed(dst: &str, rh: &[u8]) -> Vec<u8> {
        let mut pkt = vec![0u8; HEADER_LEN];
        Ipv6Repr::new(a("2001:db8::1"), a(dst), IpProtocol::ROUTING, rh.len() + 8)
            .emit(&mut pkt)
            .unwrap();
        pkt.extend_from_slice(rh);
        pkt.extend_from_slice(&[0; 8]);
        pkt
    }

    #[test]
    fn final_destination_of_routing_headers() {
        let seg = |s: &str| a(s).octets();
        // No routing header.
        let p = chain_packet();
        assert_eq!(
            Ipv6Packet::new_checked(&p[..]).unwrap().final_destination(),
            Ok(a("2001:db8::2"))
        );
        // SRH (RFC 8754 §2): segments left 1, last entry 1: list[0] is the final one.
        let mut srh = vec![17, 4, 4, 1, 1, 0, 0, 0];
        srh.extend_from_slice(&seg("2001:db8::f"));
        srh.extend_from_slice(&seg("2001:db8::a"));
        let p = routed("2001:db8::a", &srh);
        let ip = Ipv6Packet::new_checked(&p[..]).unwrap();
        assert_eq!(ip.headers().unwrap().routing_offset, Some(HEADER_LEN));
        assert_eq!(ip.final_destination(), Ok(a("2001:db8::f")));
        // Segments left 0: the header is ignored (RFC 8200 §4.4).
        let mut srh0 = srh.clone();
        srh0[3] = 0;
        let p = routed("2001:db8::a", &srh0);
        assert_eq!(
            Ipv6Packet::new_checked(&p[..]).unwrap().final_destination(),
            Ok(a("2001:db8::a"))
        );
        // Type 2 (RFC 6275 §6.4): the home address.
        let mut t2 = vec![17, 2, 2, 1, 0, 0, 0, 0];
        t2.extend_from_slice(&seg("2001:db8::40"));
        let p = routed("2001:db8::c0a", &t2);
        assert_eq!(
            Ipv6Packet::new_checked(&p[..]).unwrap().final_destination(),
            Ok(a("2001:db8::40"))
        );
        // RPL (RFC 6554 §3): CmprI 15, CmprE 14, pad 12: two 1-octet addresses, a
        // 2-octet last one; 8 + 1 + 1 + 2 + 12 = 24 octets (HdrExtLen 2).
        let mut rpl = vec![17, 2, 3, 3, 0xfe, 0xc0, 0, 0, 0x11, 0x22, 0xab, 0xcd];
        rpl.extend_from_slice(&[0; 12]);
        let p = routed("2001:db8::5", &rpl);
        assert_eq!(
            Ipv6Packet::new_checked(&p[..]).unwrap().final_destination(),
            Ok(a("2001:db8::abcd"))
        );
        // Inconsistent RPL lengths, a truncated SRH and an unknown type are errors.
        let good_rpl = routed("2001:db8::5", &rpl);
        rpl[4] = 0x0e; // CmprI 0: 16-octet addresses do not fit the 2 octets before the last
        let p = routed("2001:db8::5", &rpl);
        assert_eq!(
            Ipv6Packet::new_checked(&p[..]).unwrap().final_destination(),
            Err(Error::BadLength)
        );
        assert_eq!(
            routing_final_destination(a("::1"), &[17, 0, 4, 1, 0, 0, 0, 0]),
            Err(Error::BadLength)
        );
        assert_eq!(routing_final_destination(a("::1"), &[17, 1, 4, 1]), Err(Error::Truncated));
        assert_eq!(
            routing_final_destination(a("::1"), &[17, 1, 4, 1, 0, 0, 0, 0]),
            Err(Error::Truncated)
        );
        assert_eq!(
            routing_final_destination(a("::1"), &[17, 0, 0, 1, 0, 0, 0, 0]),
            Err(Error::Unsupported)
        );
        assert_eq!(routing_final_destination(a("::1"), &[17, 0, 9, 0, 0, 0, 0, 0]), Ok(a("::1")));
        // Any bytes: no panic.
        let good_srh = routed("2001:db8::a", &srh);
        never_panics(&[&good_srh, &good_rpl, &p], 0x5268, |b| {
            let _ = routing_final_destination(a("::1"), b);
            if let Ok(p) = Ipv6Packet::new_checked(b) {
                let _ = p.final_destination();
            }
        });
    }

    #[test]
    fn bounded_walk() {
        // Two destination options are fine, three are not; a long chain of distinct
        // headers stops at MAX_EXT_HEADERS.
        let dest = |next: u8| [next, 0, 1, 4, 0, 0, 0, 0];
        let mut body = Vec::new();
        body.extend_from_slice(&dest(60));
        body.extend_from_slice(&dest(59));
        assert_eq!(walk_extension_headers(IpProtocol::DEST_OPTIONS, &body).unwrap().ext_headers, 2);
        body[8] = 60;
        body.extend_from_slice(&dest(59));
        assert_eq!(
            walk_extension_headers(IpProtocol::DEST_OPTIONS, &body),
            Err(Error::BadHeaderOrder)
        );
        // Duplicate routing header.
        let mut body = Vec::new();
        body.extend_from_slice(&dest(43));
        body.extend_from_slice(&dest(59));
        assert_eq!(walk_extension_headers(IpProtocol::ROUTING, &body), Err(Error::BadHeaderOrder));
        // hop, routing, frag, AH, mobility, HIP, shim6, dest, dest + one more -> too many.
        let order = [0u8, 43, 44, 51, 135, 139, 140, 60, 60];
        let mut body = Vec::new();
        for (i, &h) in order.iter().enumerate() {
            let next = order.get(i + 1).copied().unwrap_or(60);
            if h == 51 || h == 44 {
                // AH payload len 0 -> (0+2)*4 = 8 octets; fragment offset 0.
                body.extend_from_slice(&[next, 0, 0, 0, 0, 0, 0, 0]);
            } else {
                body.extend_from_slice(&dest(next));
            }
        }
        assert_eq!(
            walk_extension_headers(IpProtocol::HOP_BY_HOP, &body),
            Err(Error::TooManyHeaders)
        );
    }

    #[test]
    fn hop_limit() {
        let mut pkt = chain_packet();
        let mut p = Ipv6Packet::new_checked(&mut pkt[..]).unwrap();
        assert_eq!(p.decrement_hop_limit(), Ok(63));
        p.set_hop_limit(1);
        assert_eq!(p.decrement_hop_limit(), Err(Error::TtlExpired));
    }

    #[test]
    fn ext_header_builders() {
        let mut buf = [0xffu8; 16];
        assert_eq!(emit_options_header(&mut buf, IpProtocol::UDP, &[]), Ok(8));
        assert_eq!(&buf[..8], &[17, 0, 1, 4, 0, 0, 0, 0]);
        assert_eq!(emit_options_header(&mut buf, IpProtocol::UDP, &[5, 2, 0, 0, 0]), Ok(8));
        assert_eq!(&buf[..8], &[17, 0, 5, 2, 0, 0, 0, 0]); // Router Alert + Pad1
        assert_eq!(emit_options_header(&mut buf, IpProtocol::UDP, &[7; 7]), Ok(16));
        assert_eq!(buf[1], 1);
        assert_eq!(&buf[9..], &[1, 5, 0, 0, 0, 0, 0]);
        assert_eq!(emit_fragment_header(&mut buf, IpProtocol::TCP, 1480, true, 7), Ok(8));
        assert_eq!(&buf[..8], &[6, 0, 0x05, 0xc9, 0, 0, 0, 7]); // 185 << 3 | M
        assert_eq!(
            emit_fragment_header(&mut buf, IpProtocol::TCP, 3, true, 7),
            Err(Error::InvalidArgument)
        );
        assert_eq!(
            emit_fragment_header(&mut buf[..7], IpProtocol::TCP, 0, true, 7),
            Err(Error::BufferTooSmall)
        );
    }

    pub(crate) fn exercise(data: &[u8]) {
        if let Ok(p) = Ipv6Packet::new_checked(data) {
            let _ = (p.traffic_class(), p.dscp(), p.ecn(), p.flow_label(), p.hop_limit());
            let _ = (p.src(), p.dst(), p.payload().len(), p.packet().len());
            if let Ok(h) = p.headers() {
                assert!(h.upper_offset <= p.packet().len());
                let _ = (h.is_fragment(), h.has_l4_header());
            }
            let _ = p.upper_layer();
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        never_panics(&[&chain_packet()], 5, exercise);
        never_panics(&[&chain_packet()[40..]], 6, |d| {
            for nh in [0u8, 43, 44, 51, 60, 135] {
                if let Ok(h) = walk_extension_headers(IpProtocol(nh), d) {
                    assert!(h.upper_offset <= 40 + d.len());
                }
            }
        });
    }
}
