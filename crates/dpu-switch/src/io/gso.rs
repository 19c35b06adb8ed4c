//! Coalescing a port's outgoing TCP segments into one super-frame for the kernel to segment
//! (GSO), the way a NIC's receive offload (GRO/LRO) merges a stream before the host stack.
//!
//! A TCP stream through the switch arrives as MTU-sized segments, and every one of them costs
//! a trip through the receiving side's stack (on veth, run in the switch's sending thread).
//! Consecutive segments of one flow in a send burst (same headers, contiguous sequence
//! numbers, nothing but ACK/PSH flags, the same size but for the last) are sent as one frame
//! with a `virtio_net_hdr` (virtio 1.2 §5.1.6, "Packet Transmission") asking for TCPv4
//! segmentation and a partial checksum. The receiver sees the stream it would have seen from
//! a NIC doing GRO; a device that cannot take it gets it segmented by the kernel. Every
//! merged segment's TCP checksum is verified first, so a damaged segment is sent as it came,
//! never hidden behind a fresh checksum; a segment whose sender left the checksum to offload
//! has nothing to verify (there is no checksum yet) and merges as it is.
//!
//! A frame sent alone whose checksum is still pending goes out with a header asking for the
//! checksum only ([`checksum_header`]): the kernel (or the device, or nobody on veth, whose
//! receiver trusts a partial checksum as the sender's stack would) completes it.

use std::net::Ipv4Addr;

use dpu_wire::checksum;
use dpu_wire::tcp::TcpPacket;
use dpu_wire::{EtherType, IpProtocol};

/// Size of `struct virtio_net_hdr` (no `num_buffers`), what a `PACKET_VNET_HDR` socket takes
/// in front of every frame (16-bit fields in the host's byte order, see [`received`]).
pub(crate) const VNET_HDR_LEN: usize = 10;
/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`.
const F_NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_F_DATA_VALID`: the receiving device verified the (outermost) L4
/// checksum (the kernel's CHECKSUM_UNNECESSARY).
const F_DATA_VALID: u8 = 2;
/// `VIRTIO_NET_HDR_GSO_TCPV4`.
const GSO_TCPV4: u8 = 1;
/// Offset of the checksum in the TCP header (RFC 9293 §3.1).
const TCP_CHECKSUM_OFFSET: u16 = 16;
/// TCP flags a merged segment may carry: ACK, and PSH on the last one.
const TCP_ACK: u8 = 0x10;
const TCP_PSH: u8 = 0x08;
/// Largest IPv4 total length of a super-frame.
const MAX_IP_LEN: usize = 65_535;

/// A `virtio_net_hdr` for a frame sent as it is (no offload).
pub(crate) const PLAIN: [u8; VNET_HDR_LEN] = [0; VNET_HDR_LEN];

/// `VIRTIO_NET_HDR_GSO_TCPV6`.
const GSO_TCPV6: u8 = 4;
/// `VIRTIO_NET_HDR_GSO_ECN`, or-ed into a TCP segmentation type.
const GSO_ECN: u8 = 0x80;

/// What a received frame's `virtio_net_hdr` says (virtio 1.2 §5.1.6, "Packet Reception";
/// a packet socket fills it from the kernel's buffer: `virtio_net_hdr_from_skb`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Received {
    /// A frame as it was on the wire; `csum_pending` when its sender left the TCP/UDP
    /// checksum to offload, `csum_valid` when the device verified it.
    Plain { csum_pending: bool, csum_valid: bool },
    /// A TCP super-frame of `size`-octet segments (GRO merged them, or the sender left
    /// segmentation to offload) whose checksum holds the pseudo-header sum; `v6` for TCPv6.
    Tcp { v6: bool, ecn: bool, size: u16 },
    /// A super-frame the kernel gave no partial checksum for (its TCP checksum is the first
    /// segment's): cut up and checksummed here.
    TcpStale { v6: bool, ecn: bool, size: u16 },
    /// A segmentation the switch does not do (UDP).
    Unsupported,
}

/// Reads a received `virtio_net_hdr`. Its 16-bit fields are in the host's byte order: a
/// packet socket reads and writes them as legacy virtio does (`vio_le()` in af_packet.c),
/// and so does every header built here.
pub(crate) fn received(h: &[u8; VNET_HDR_LEN]) -> Received {
    let needs_csum = h[0] & F_NEEDS_CSUM != 0;
    let size = u16::from_ne_bytes([h[4], h[5]]);
    let ecn = h[1] & GSO_ECN != 0;
    let v6 = match h[1] & !GSO_ECN {
        0 => {
            let csum_valid = h[0] & F_DATA_VALID != 0;
            return Received::Plain { csum_pending: needs_csum, csum_valid };
        }
        GSO_TCPV4 => false,
        GSO_TCPV6 => true,
        _ => return Received::Unsupported,
    };
    match needs_csum {
        true => Received::Tcp { v6, ecn, size },
        false => Received::TcpStale { v6, ecn, size },
    }
}

/// The `virtio_net_hdr` that hands the TCP super-frame `buf` to the kernel to segment (with
/// its checksum pending); `None` when it is not one or not a plain frame (see
/// [`checksum_header`]), which the pipeline never sends whole.
pub(crate) fn super_frame_header(buf: &crate::packet::PacketBuf) -> Option<[u8; VNET_HDR_LEN]> {
    let g = buf.gso()?;
    let frame = buf.frame();
    let plain = crate::fastkey::extract(frame).filter(|p| p.protocol == IpProtocol::TCP.0)?;
    let headers = frame.len().checked_sub(g.payload as usize).filter(|&n| n > plain.l4_offset)?;
    let kind = if g.v6 { GSO_TCPV6 } else { GSO_TCPV4 } | if g.ecn { GSO_ECN } else { 0 };
    let l4 = u16::try_from(plain.l4_offset).ok()?;
    Some(header(l4, TCP_CHECKSUM_OFFSET, u16::try_from(headers).ok()?, Some((kind, g.size))))
}

/// A `virtio_net_hdr` asking for the checksum at `csum_offset` into the L4 header at
/// `csum_start` (`VIRTIO_NET_HDR_F_NEEDS_CSUM`), with `hdr_len` octets of headers, and with
/// `gso` = (type, segment size) for segmentation (virtio 1.2 §5.1.6.2).
fn header(
    csum_start: u16,
    csum_offset: u16,
    hdr_len: u16,
    gso: Option<(u8, u16)>,
) -> [u8; VNET_HDR_LEN] {
    let (kind, size) = gso.unwrap_or((0, 0));
    let mut h = [0u8; VNET_HDR_LEN];
    h[0] = F_NEEDS_CSUM;
    h[1] = kind;
    h[2..4].copy_from_slice(&hdr_len.to_ne_bytes());
    h[4..6].copy_from_slice(&size.to_ne_bytes());
    h[6..8].copy_from_slice(&csum_start.to_ne_bytes());
    h[8..10].copy_from_slice(&csum_offset.to_ne_bytes());
    h
}

/// A frame to send, whether its TCP/UDP checksum is left to offload
/// ([`crate::packet::PacketBuf::csum_pending`]), and whether it is a super-frame already
/// (never merged again).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outgoing<'a> {
    pub frame: &'a [u8],
    pub csum_pending: bool,
    pub super_frame: bool,
}

/// What [`plan`] and [`merge`] read of a frame to send: the port's own buffers are read in
/// place (no list of views built per burst).
pub(crate) trait ToSend {
    fn outgoing(&self) -> Outgoing<'_>;
}

impl ToSend for Outgoing<'_> {
    fn outgoing(&self) -> Outgoing<'_> {
        *self
    }
}

impl ToSend for crate::packet::PacketBuf {
    fn outgoing(&self) -> Outgoing<'_> {
        Outgoing {
            frame: self.frame(),
            csum_pending: self.csum_pending(),
            super_frame: self.gso().is_some(),
        }
    }
}

/// Offset of the checksum in the UDP header (RFC 768).
const UDP_CHECKSUM_OFFSET: u16 = 6;

/// The `virtio_net_hdr` asking the kernel to complete the pending TCP or UDP checksum of
/// `frame` (`csum_start` at the L4 header, `csum_offset` at its checksum field); `None` when
/// `frame` is not a plain TCP/UDP frame [`crate::fastkey::extract`] reads (stacked tags, an
/// overlay packet, whose pending checksum may be the inner or the outer one, IPv6 extension headers): such a
/// frame's checksum is completed in user space instead.
pub(crate) fn checksum_header(frame: &[u8]) -> Option<[u8; VNET_HDR_LEN]> {
    let plain = crate::fastkey::extract(frame)?;
    let offset =
        if plain.protocol == IpProtocol::TCP.0 { TCP_CHECKSUM_OFFSET } else { UDP_CHECKSUM_OFFSET };
    let start = u16::try_from(plain.l4_offset).ok()?;
    // hdr_len: the headers up to the checksum field are in the linear part.
    Some(header(start, offset, start + offset + 2, None))
}

/// The fields of a TCP/IPv4 data segment coalescing compares.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Offset of the IPv4 header.
    l3: usize,
    /// Offset of the TCP header.
    l4: usize,
    /// Offset of the payload (all headers before it).
    payload: usize,
    seq: u32,
    flags: u8,
    len: usize,
}

/// The segment in `frame`, if it is one coalescing may merge: untagged Ethernet (the kernel
/// checks a TCPv4 GSO request against the frame's EtherType, which a tag would hide), IPv4
/// without options with DF set and not a fragment, TCP with ACK (and maybe PSH) only, a
/// payload, a correct IPv4 header checksum and a correct TCP checksum unless that is left to
/// offload; no trailing padding.
fn segment(out: Outgoing<'_>) -> Option<Segment> {
    if out.super_frame {
        return None;
    }
    let frame = out.frame;
    let l3 = 14;
    if frame.get(12..14)? != EtherType::IPV4.0.to_be_bytes() {
        return None;
    }
    let ip = frame.get(l3..l3 + 20)?;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    // Version 4, no options; DF and no fragment offset or MF; TCP.
    if ip[0] != 0x45 || ip[6] != 0x40 || ip[7] != 0 || ip[9] != IpProtocol::TCP.0 {
        return None;
    }
    // The merged header gets a fresh checksum: a damaged one must not be hidden behind it
    // (RFC 791 §3.1; GRO checks it too). Always final: offload leaves only L4 checksums.
    if frame.len() != l3 + total || !checksum::verify(ip) {
        return None;
    }
    let l4 = l3 + 20;
    let tcp = TcpPacket::new_checked(frame.get(l4..)?).ok()?;
    let flags = frame.get(l4 + 13).copied()?;
    let payload = l4 + tcp.header_len();
    if flags & !TCP_PSH != TCP_ACK || payload >= frame.len() {
        return None;
    }
    if !out.csum_pending {
        tcp.check_checksum_v4(addr(&ip[12..16]), addr(&ip[16..20])).ok()?;
    }
    Some(Segment { l3, l4, payload, seq: tcp.seq(), flags, len: frame.len() - payload })
}

fn addr(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

/// True when `b` continues `a`'s stream with headers a merge may keep: the same L2 header,
/// the same IPv4 header but for length, identification and checksum, the same TCP header but
/// for sequence number, PSH and checksum; `a` has no PSH and `b` starts where `a` ends.
fn continues(fa: &[u8], a: &Segment, fb: &[u8], b: &Segment) -> bool {
    let same = |r: std::ops::Range<usize>| fa.get(r.clone()) == fb.get(r);
    let (ip, tcp) = (a.l3, a.l4);
    a.l3 == b.l3
        && a.payload == b.payload
        && a.flags & TCP_PSH == 0
        && b.seq == a.seq.wrapping_add(a.len as u32)
        && same(0..ip)
        && same(ip..ip + 2)
        && same(ip + 6..ip + 10)
        && same(ip + 12..ip + 20)
        && same(tcp..tcp + 4)
        && same(tcp + 8..tcp + 13)
        && same(tcp + 14..tcp + 16)
        && same(tcp + 18..a.payload)
}

/// How [`plan`] sends a burst: `count` frames from `first` on, as one frame when `count`
/// is 1, else as a super-frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub first: usize,
    pub count: usize,
}

/// Splits `frames` (in sending order) into runs of mergeable consecutive segments; frames
/// that merge with nothing are runs of one. The order of frames is kept.
pub(crate) fn plan(frames: &[impl ToSend], runs: &mut Vec<Run>) {
    runs.clear();
    let mut i = 0;
    while i < frames.len() {
        let mut count = 1;
        if let Some(first) = segment(frames[i].outgoing()) {
            let mut last = first;
            let mut ip_len = frames[i].outgoing().frame.len() - first.l3;
            while let Some(next_frame) = frames.get(i + count).map(ToSend::outgoing) {
                let Some(next) = segment(next_frame) else { break };
                // Every segment but the last has the first one's size (the GSO size).
                if last.len != first.len
                    || next.len > first.len
                    || ip_len + next.len > MAX_IP_LEN
                    || !continues(
                        frames[i + count - 1].outgoing().frame,
                        &last,
                        next_frame.frame,
                        &next,
                    )
                {
                    break;
                }
                ip_len += next.len;
                last = next;
                count += 1;
            }
        }
        runs.push(Run { first: i, count });
        i += count;
    }
}

/// Writes the super-frame of `segments` (a run found by [`plan`], at least two) into `out`:
/// the first one's headers, every payload, the IPv4 length and header checksum updated, PSH
/// if the last had it, and the TCP checksum field holding the pseudo-header sum the
/// segmenting device completes. Returns its `virtio_net_hdr`, or `None` when the frames are
/// not such a run.
pub(crate) fn merge(segments: &[impl ToSend], out: &mut Vec<u8>) -> Option<[u8; VNET_HDR_LEN]> {
    let (first_frame, rest) = segments.split_first()?;
    let first_frame = first_frame.outgoing();
    let first = segment(first_frame)?;
    out.clear();
    out.extend_from_slice(first_frame.frame);
    for f in rest {
        out.extend_from_slice(f.outgoing().frame.get(first.payload..)?);
    }
    let last = segment(segments.last()?.outgoing())?;
    let ip_len = u16::try_from(out.len() - first.l3).ok()?;
    let ip = out.get_mut(first.l3..first.l4)?;
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    ip[10..12].copy_from_slice(&[0, 0]);
    let ip_sum = checksum::checksum(ip);
    ip[10..12].copy_from_slice(&ip_sum.to_be_bytes());
    let (src, dst) = (addr(&ip[12..16]), addr(&ip[16..20]));
    let tcp_len = u16::try_from(out.len() - first.l4).ok()?;
    let pseudo = checksum::pseudo_header_v4(src, dst, IpProtocol::TCP, tcp_len);
    let tcp = out.get_mut(first.l4..first.payload)?;
    tcp[13] |= last.flags & TCP_PSH;
    tcp[16..18].copy_from_slice(&pseudo.to_be_bytes());
    let (l4, hdr_len) = (u16::try_from(first.l4).ok()?, u16::try_from(first.payload).ok()?);
    let size = u16::try_from(first.len).ok()?;
    Some(header(l4, TCP_CHECKSUM_OFFSET, hdr_len, Some((GSO_TCPV4, size))))
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use dpu_wire::ethernet::EthernetRepr;
    use dpu_wire::ipv4::Ipv4Repr;
    use dpu_wire::{EtherType, MacAddr};

    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

    /// A TCP/IPv4 segment with DF, ACK (+ `flags`), a 12-octet timestamp option and `len`
    /// payload octets (value `seq` + index, so merged payloads can be checked).
    pub(crate) fn seg(seq: u32, len: usize, flags: u8) -> Vec<u8> {
        let eth = EthernetRepr {
            dst: MacAddr([2, 0, 0, 0, 0, 2]),
            src: MacAddr([2, 0, 0, 0, 0, 1]),
            vlans: &[],
            ethertype: EtherType::IPV4,
        };
        let thl = 32;
        let mut f = vec![0u8; 14 + 20 + thl + len];
        let l3 = eth.emit(&mut f).unwrap();
        Ipv4Repr::new(SRC, DST, IpProtocol::TCP, thl + len).emit(&mut f[l3..]).unwrap();
        f[l3 + 6] = 0x40; // DF
        f[l3 + 10..l3 + 12].copy_from_slice(&[0, 0]);
        let s = checksum::checksum(&f[l3..l3 + 20]);
        f[l3 + 10..l3 + 12].copy_from_slice(&s.to_be_bytes());
        let t = l3 + 20;
        f[t..t + 4].copy_from_slice(&[0x9c, 0x40, 0x14, 0x51]);
        f[t + 4..t + 8].copy_from_slice(&seq.to_be_bytes());
        f[t + 8..t + 12].copy_from_slice(&7u32.to_be_bytes());
        f[t + 12] = (thl as u8 / 4) << 4;
        f[t + 13] = TCP_ACK | flags;
        f[t + 14..t + 16].copy_from_slice(&512u16.to_be_bytes());
        f[t + 20..t + 32].copy_from_slice(&[1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 3]);
        for (k, b) in f[t + thl..].iter_mut().enumerate() {
            *b = (seq as usize + k) as u8;
        }
        TcpPacket::new_checked(&mut f[t..]).unwrap().fill_checksum_v4(SRC, DST);
        f
    }

    /// `frames` to send, their checksums complete.
    pub(crate) fn outgoing(frames: &[Vec<u8>]) -> Vec<Outgoing<'_>> {
        to_send(frames, false)
    }

    /// `frames` left to offload: their checksums pending.
    fn pending(frames: &[Vec<u8>]) -> Vec<Outgoing<'_>> {
        to_send(frames, true)
    }

    fn to_send(frames: &[Vec<u8>], csum_pending: bool) -> Vec<Outgoing<'_>> {
        frames.iter().map(|f| Outgoing { frame: f, csum_pending, super_frame: false }).collect()
    }

    /// The runs `plan` finds in `slices`, as (first, count).
    fn planned(slices: &[Outgoing<'_>]) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        plan(slices, &mut runs);
        runs.iter().map(|r| (r.first, r.count)).collect()
    }

    fn runs_of(frames: &[Vec<u8>]) -> Vec<(usize, usize)> {
        planned(&outgoing(frames))
    }

    #[test]
    fn a_stream_merges_into_one_super_frame_with_a_gso_header() {
        let frames: Vec<Vec<u8>> =
            vec![seg(1000, 100, 0), seg(1100, 100, 0), seg(1200, 40, TCP_PSH)];
        assert_eq!(runs_of(&frames), vec![(0, 3)]);
        let slices = outgoing(&frames);
        let mut out = Vec::new();
        let h = merge(&slices, &mut out).unwrap();
        // NEEDS_CSUM, TCPV4, headers 66, segment size 100, checksum at 34 + 16.
        assert_eq!(h, [1, 1, 66, 0, 100, 0, 34, 0, 16, 0]);
        assert_eq!(out.len(), 66 + 240);
        assert_eq!(u16::from_be_bytes([out[16], out[17]]), 20 + 32 + 240);
        assert!(checksum::verify(&out[14..34]), "IPv4 header checksum");
        assert_eq!(out[34 + 13], TCP_ACK | TCP_PSH);
        let want: Vec<u8> = (0..240).map(|k| (1000 + k) as u8).collect();
        assert_eq!(&out[66..], &want[..]);
        // What the device finishes: the checksum over the pseudo-header sum already there.
        let sum = checksum::checksum(&out[34..]);
        out[34 + 16..34 + 18].copy_from_slice(&sum.to_be_bytes());
        TcpPacket::new_checked(&out[34..]).unwrap().check_checksum_v4(SRC, DST).unwrap();
    }

    #[test]
    fn runs_stop_at_gaps_flags_other_flows_and_size_changes() {
        let mut other_port = seg(1300, 100, 0);
        other_port[34] = 0x11;
        TcpPacket::new_checked(&mut other_port[34..]).unwrap().fill_checksum_v4(SRC, DST);
        let frames = vec![
            seg(1000, 100, 0),
            seg(1100, 100, TCP_PSH), // PSH ends the run (included)
            seg(1200, 100, 0),
            seg(1400, 100, 0), // gap
            other_port,        // another flow
            seg(1500, 60, 0),
            seg(1560, 100, 0),    // larger than the first: a new run
            seg(1660, 100, 0x01), // FIN: never merged
        ];
        assert_eq!(runs_of(&frames), vec![(0, 2), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1)]);
    }

    #[test]
    fn damaged_and_foreign_frames_are_sent_as_they_are() {
        let mut bad = seg(1100, 100, 0);
        let n = bad.len();
        bad[n - 1] ^= 0xff; // payload damaged: TCP checksum wrong
        let mut udp = seg(1200, 100, 0);
        udp[14 + 9] = IpProtocol::UDP.0;
        let mut padded = seg(1300, 100, 0);
        padded.push(0);
        // 802.1Q-tagged segments of one stream stay as they are.
        let tagged: Vec<Vec<u8>> = [1000u32, 1100]
            .iter()
            .map(|&q| {
                let f = seg(q, 100, 0);
                [&f[..12], &[0x81, 0x00, 0x00, 0x0a], &f[12..]].concat()
            })
            .collect();
        assert_eq!(runs_of(&tagged), vec![(0, 1), (1, 1)]);
        let frames = vec![seg(1000, 100, 0), bad, seg(1200, 100, 0), udp, padded, vec![0; 10]];
        assert!(runs_of(&frames).iter().all(|&(_, c)| c == 1));
        let slices = outgoing(&frames);
        assert_eq!(merge(&slices[..2], &mut Vec::new()), None);
    }

    /// `frame` as its sender leaves it to offload: the TCP checksum holds the pseudo-header
    /// sum only.
    fn partial(mut frame: Vec<u8>) -> Vec<u8> {
        let tcp_len = u16::try_from(frame.len() - 34).unwrap();
        let sum = checksum::pseudo_header_v4(SRC, DST, IpProtocol::TCP, tcp_len);
        frame[34 + 16..34 + 18].copy_from_slice(&sum.to_be_bytes());
        frame
    }

    #[test]
    fn segments_left_to_offload_merge_without_verification() {
        let frames = vec![partial(seg(1000, 100, 0)), partial(seg(1100, 100, TCP_PSH))];
        // Their checksums do not verify (there are none yet): as completed frames, no run.
        assert_eq!(runs_of(&frames), vec![(0, 1), (1, 1)]);
        let pending = pending(&frames);
        assert_eq!(planned(&pending), vec![(0, 2)]);
        let mut out = Vec::new();
        assert_eq!(merge(&pending, &mut out), Some([1, 1, 66, 0, 100, 0, 34, 0, 16, 0]));
        let sum = checksum::checksum(&out[34..]);
        out[34 + 16..34 + 18].copy_from_slice(&sum.to_be_bytes());
        TcpPacket::new_checked(&out[34..]).unwrap().check_checksum_v4(SRC, DST).unwrap();
    }

    #[test]
    fn segments_with_a_damaged_ipv4_header_are_not_merged() {
        // The same TOS damage in both (so the headers still match), checksums left stale;
        // the TCP checksums are pending, so only the IPv4 header check can notice.
        let frames: Vec<Vec<u8>> = [1000, 1100]
            .iter()
            .map(|&q| {
                let mut f = partial(seg(q, 100, 0));
                f[14 + 1] ^= 0x04;
                f
            })
            .collect();
        let pending = pending(&frames);
        assert_eq!(planned(&pending), vec![(0, 1), (1, 1)]);
        assert_eq!(merge(&pending, &mut Vec::new()), None);
    }

    #[test]
    fn a_pending_frame_asks_for_its_checksum_at_the_l4_header() {
        // TCP: csum_start 34, csum_offset 16, hdr_len up to the field's end.
        assert_eq!(
            checksum_header(&partial(seg(1, 10, 0))),
            Some([1, 0, 52, 0, 0, 0, 34, 0, 16, 0])
        );
        // Behind an 802.1Q tag: everything 4 octets later.
        let f = partial(seg(1, 10, 0));
        let tagged = [&f[..12], &[0x81, 0x00, 0x00, 0x0a], &f[12..]].concat();
        assert_eq!(checksum_header(&tagged), Some([1, 0, 56, 0, 0, 0, 38, 0, 16, 0]));
        // UDP: the checksum 6 octets into the header.
        let mut udp = seg(1, 10, 0);
        udp[14 + 9] = IpProtocol::UDP.0;
        let udp_len = u16::try_from(udp.len() - 34).unwrap();
        udp[38..40].copy_from_slice(&udp_len.to_be_bytes());
        assert_eq!(checksum_header(&udp), Some([1, 0, 42, 0, 0, 0, 34, 0, 6, 0]));
        // An overlay packet (its pending checksum may be the inner one) and junk: none.
        udp[36..38].copy_from_slice(&dpu_wire::vxlan::UDP_PORT.to_be_bytes());
        assert_eq!(checksum_header(&udp), None);
        assert_eq!(checksum_header(&[0u8; 20]), None);
    }

    #[test]
    fn super_frames_stay_within_the_ipv4_length() {
        let frames: Vec<Vec<u8>> = (0..50).map(|k| seg(k * 1448, 1448, 0)).collect();
        let runs = runs_of(&frames);
        assert!(runs.len() >= 2 && runs.iter().map(|r| r.1).sum::<usize>() == 50, "{runs:?}");
        assert!(runs.iter().all(|&(_, c)| 52 + c * 1448 <= MAX_IP_LEN));
    }

    #[test]
    fn never_panics_on_arbitrary_frames() {
        let good = seg(1000, 100, 0);
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..5_000 {
            let mut f = good.clone();
            let r = crate::testutil::xorshift(&mut x);
            f[(r as usize) % 70] = (r >> 24) as u8;
            f.truncate((r >> 40) as usize % (good.len() + 1));
            let frames = [good.clone(), f];
            let mut slices = outgoing(&frames);
            slices[1].csum_pending = r & 1 == 0;
            let mut runs = Vec::new();
            plan(&slices, &mut runs);
            let _ = merge(&slices, &mut Vec::new());
        }
    }
}
