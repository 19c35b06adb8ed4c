//! The hit-path key extractor: reads only what the flow key needs from a plain frame
//! (Ethernet, at most one 802.1Q C-tag, IPv4 without fragmentation or IPv6 without
//! extension headers, then TCP or UDP to a port that is not an overlay's).
//!
//! It validates exactly the headers [`dpu_wire::dissect::dissect`] would validate for such a
//! frame and declines (returns `None`) everything else: other EtherTypes (ARP bodies need
//! their own check), stacked tags, fragments, extension headers, ICMP, VXLAN/Geneve ports
//! (whose headers `dissect` validates too). The caller then takes the full `dissect`, so a
//! malformed frame is still dropped under `dissect`'s reason. The test below checks, over
//! many valid and mutated frames, that whenever this returns a frame, `dissect` accepts it
//! and yields the same key, tag and payload offset.

use dpu_wire::ethernet::{self, EtherType, VlanTag};
use dpu_wire::{IpProtocol, geneve, vxlan};

/// What the switch needs of a plain frame: its key's words as the frame gives them, and
/// where its headers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlainFrame {
    /// The one 802.1Q tag, if any.
    pub tag: Option<VlanTag>,
    /// Offset of the IP header.
    pub payload_offset: usize,
    /// Offset of the TCP/UDP header.
    pub l4_offset: usize,
    /// TCP or UDP.
    pub protocol: u8,
    /// The flow key's words but for the ingress and tunnel ([`crate::flow::plain_words`]).
    pub key: [u64; 8],
}

fn be16(f: &[u8], at: usize) -> Option<u16> {
    f.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

fn be64(f: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(f.get(at..at + 8)?.try_into().ok()?))
}

/// The key fields of `frame` when it is plain (see the module docs), else `None`.
// Always inlined: returned through memory, the tag was stored octet by octet and read back
// wider by the caller, a failed store forward on every cached frame whose cost came and
// went with unrelated code (5-7% of the cached lines, docs/benchmarks.md); inlined, the
// frame's fields stay in registers (callgrind: 723 -> 689 instructions per cached L2 frame).
#[inline(always)]
pub(crate) fn extract(frame: &[u8]) -> Option<PlainFrame> {
    // The addresses as 48-bit numbers: two overlapping 8-octet reads, each shifted past the
    // two octets that follow its address.
    let dst = be64(frame, 0)? >> 16;
    let src = be64(frame, 6)? >> 16;
    let mut ethertype = be16(frame, 12)?;
    let mut off = ethernet::HEADER_LEN;
    let mut tag = None;
    if ethertype == EtherType::VLAN.0 {
        tag = Some(VlanTag::from_tci(EtherType::VLAN, be16(frame, off)?));
        ethertype = be16(frame, off + 2)?;
        off += ethernet::VLAN_TAG_LEN;
    }
    let ip = frame.get(off..)?;
    // (addresses, protocol, offset of L4 within `ip`, end of the IP packet)
    let (v6, ips, protocol, l4_off, end) = if ethertype == EtherType::IPV4.0 {
        let first = *ip.first()?;
        let hl = usize::from(first & 0x0f) * 4;
        let total = usize::from(be16(ip, 2)?);
        // RFC 791 §3.1: version 4, IHL >= 5 words, total length covers the header; no
        // fragment offset or more-fragments flag.
        if first >> 4 != 4 || hl < 20 || total < hl || ip.len() < total {
            return None;
        }
        if be16(ip, 6)? & 0x3fff != 0 {
            return None;
        }
        let addrs = be64(ip, 12)?;
        (false, [addrs >> 32, 0, addrs & 0xffff_ffff, 0], ip[9], hl, total)
    } else if ethertype == EtherType::IPV6.0 {
        // RFC 8200 §3: a fixed 40-octet header; the next header must be the transport.
        let first = *ip.first()?;
        let end = 40 + usize::from(be16(ip, 4)?);
        if first >> 4 != 6 || ip.len() < end {
            return None;
        }
        let ips = [be64(ip, 16)?, be64(ip, 8)?, be64(ip, 32)?, be64(ip, 24)?];
        (true, ips, ip[6], 40, end)
    } else {
        return None;
    };
    let l4 = ip.get(l4_off..end)?;
    let ports = (be16(l4, 0)?, be16(l4, 2)?);
    if protocol == IpProtocol::TCP.0 {
        // RFC 9293 §3.1: data offset >= 5 words, inside the segment.
        let hl = usize::from(*l4.get(12)? >> 4) * 4;
        if hl < 20 || l4.len() < hl {
            return None;
        }
    } else if protocol == IpProtocol::UDP.0 {
        // RFC 768: the length covers the 8-octet header and lies inside the packet.
        let len = usize::from(be16(l4, 4)?);
        if len < 8 || l4.len() < len || matches!(ports.1, vxlan::UDP_PORT | geneve::UDP_PORT) {
            return None;
        }
    } else {
        return None;
    }
    Some(PlainFrame {
        tag,
        payload_offset: off,
        l4_offset: off + l4_off,
        protocol,
        key: crate::flow::plain_words(ethertype, protocol, v6, (dst, src), ports, ips),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::flow::{FlowKey, PackedKey};
    use crate::packet::PortId;
    use dpu_wire::dissect::dissect;

    /// xorshift64 (Marsaglia), deterministic so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn byte(&mut self) -> u8 {
            self.next() as u8
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn l4(protocol: u8, dport: u16) -> Vec<u8> {
        let mut h = vec![0u8; if protocol == 6 { 20 } else { 8 }];
        h[0..2].copy_from_slice(&4321u16.to_be_bytes());
        h[2..4].copy_from_slice(&dport.to_be_bytes());
        if protocol == 6 {
            h[12] = 5 << 4;
        } else {
            h[4..6].copy_from_slice(&16u16.to_be_bytes());
        }
        h.extend_from_slice(&[0xab; 8]);
        h
    }

    fn frame(tags: &[u16], v6: bool, protocol: u8, dport: u16) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
        for t in tags {
            f.extend_from_slice(&t.to_be_bytes());
            f.extend_from_slice(&[0x20, 0x0a]);
        }
        let seg = l4(protocol, dport);
        if v6 {
            f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
            f.extend_from_slice(&(seg.len() as u16).to_be_bytes());
            f.extend_from_slice(&[protocol, 64]);
            f.extend((0..32).map(|i| 0x20 + i as u8));
        } else {
            f.extend_from_slice(&[0x08, 0x00, 0x45, 0]);
            f.extend_from_slice(&(20 + seg.len() as u16).to_be_bytes());
            f.extend_from_slice(&[0, 1, 0x40, 0, 64, protocol, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2]);
        }
        f.extend_from_slice(&seg);
        f.extend_from_slice(&[0; 4]); // Ethernet padding past the IP length
        f
    }

    /// True when `extract` declines, or `dissect` agrees on everything the switch uses.
    fn agrees(f: &[u8]) -> bool {
        let Some(p) = extract(f) else { return true };
        let Ok(info) = dissect(f) else { return false };
        let port = PortId(3);
        info.l2.payload_offset == p.payload_offset
            && info.l3.is_some_and(|l3| l3.l4_offset == p.l4_offset)
            && info.l2.vlans.len() == usize::from(p.tag.is_some())
            && info.l2.vlans.outer() == p.tag
            && PackedKey::pack(&FlowKey::new(port, None, p.tag.is_some(), 7, &info))
                == PackedKey::from_plain(port, None, p.tag.is_some(), 7, &p)
    }

    #[test]
    fn same_key_as_dissect_for_valid_and_mutated_frames() {
        let mut goldens = Vec::new();
        for tags in [&[][..], &[0x8100], &[0x88a8, 0x8100], &[0x8100, 0x8100]] {
            for v6 in [false, true] {
                for (protocol, dport) in [(6, 443), (17, 53), (17, 4789), (17, 6081), (1, 0)] {
                    goldens.push(frame(tags, v6, protocol, dport));
                }
            }
        }
        // The plain ones are taken by the fast path, the others declined.
        let taken = goldens.iter().filter(|f| extract(f).is_some()).count();
        assert_eq!(taken, 2 * 2 * 2, "TCP and UDP/53, IPv4 and IPv6, untagged and one tag");
        let mut rng = Rng(0x5eed_1234_abcd_0001);
        let mut checked = 0u64;
        for g in &goldens {
            for n in 0..=g.len() {
                assert!(agrees(&g[..n]), "prefix {n} of {g:02x?}");
            }
            // Every octet of the headers set to boundary values and random ones.
            for i in 0..g.len().min(90) {
                for v in [0, 1, 0x7f, 0x80, 0xff, g[i] ^ 0x40, g[i].wrapping_add(1), rng.byte()] {
                    let mut m = g.clone();
                    m[i] = v;
                    assert!(agrees(&m), "octet {i} = {v:#x} of {g:02x?}");
                    checked += u64::from(extract(&m).is_some());
                }
            }
            for _ in 0..2000 {
                let mut m = g.clone();
                for _ in 0..=rng.below(4) {
                    let i = rng.below(m.len());
                    m[i] = rng.byte();
                }
                m.truncate(rng.below(m.len() + 1));
                assert!(agrees(&m), "{m:02x?}");
            }
        }
        assert!(checked > 1000, "mutations kept plain: {checked}");
        // The malformed cases of the pipeline tests: truncated, bad IHL, multicast source.
        let good = frame(&[], false, 17, 53);
        let mut bad_ihl = good.clone();
        bad_ihl[14] = 0x44;
        let mut bad_src = good.clone();
        bad_src[6] = 0x01;
        assert_eq!(extract(&good[..20]), None);
        assert_eq!(extract(&bad_ihl), None);
        assert!(dissect(&bad_ihl).is_err());
        assert!(extract(&bad_src).is_some() && agrees(&bad_src));
    }
}
