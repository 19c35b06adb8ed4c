//! The Internet checksum.
//!
//! * [RFC 1071] — the 16-bit one's-complement sum of 16-bit words, computed here over
//!   byte slices (an odd trailing byte is padded with a zero octet, §1 and §4.1).
//! * [RFC 1624] — incremental update after a field changes: `HC' = ~(~HC + ~m + m')`
//!   (equation 3, §3), which unlike equation 2 never produces `-0` where a full
//!   recomputation would give `+0`. Used for TTL / hop-limit decrements and NAT-like
//!   address and port rewrites without touching the rest of the packet.
//! * The TCP/UDP/ICMPv6 pseudo-headers of [RFC 9293 §3.1] / [RFC 768] (IPv4) and
//!   [RFC 8200 §8.1] (IPv6).
//!
//! Terminology: a *sum* is the folded one's-complement sum (not yet complemented); a
//! *checksum* is the complement of a sum, as carried in headers.
//!
//! [RFC 1071]: https://www.rfc-editor.org/rfc/rfc1071
//! [RFC 1624]: https://www.rfc-editor.org/rfc/rfc1624
//! [RFC 768]: https://www.rfc-editor.org/rfc/rfc768
//! [RFC 9293 §3.1]: https://www.rfc-editor.org/rfc/rfc9293#section-3.1
//! [RFC 8200 §8.1]: https://www.rfc-editor.org/rfc/rfc8200#section-8.1

use core::net::{Ipv4Addr, Ipv6Addr};

use crate::IpProtocol;

/// Folds a wide accumulator into a 16-bit one's-complement sum (end-around carry).
#[inline]
pub const fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// Adds the big-endian 16-bit words of `data` to `acc` without folding.
///
/// An odd final byte is treated as the high octet of a word padded with zero.
#[inline]
pub fn accumulate(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        // Four words per step; a u64 accumulator cannot overflow for any slice that fits
        // in memory (2^48 steps of at most 4 * 0xffff).
        acc += u64::from(u16::from_be_bytes([c[0], c[1]]))
            + u64::from(u16::from_be_bytes([c[2], c[3]]))
            + u64::from(u16::from_be_bytes([c[4], c[5]]))
            + u64::from(u16::from_be_bytes([c[6], c[7]]));
    }
    let mut words = chunks.remainder().chunks_exact(2);
    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// The folded one's-complement sum of `data` (RFC 1071 §4.1, without the final complement).
#[inline]
pub fn sum(data: &[u8]) -> u16 {
    fold(accumulate(0, data))
}

/// One's-complement addition of already folded sums.
#[inline]
pub fn combine(sums: &[u16]) -> u16 {
    fold(sums.iter().map(|&s| u64::from(s)).sum())
}

/// The checksum of `data`: the complement of its sum. Writing this value into a zeroed
/// checksum field makes the sum over the whole region `0xffff`.
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    !sum(data)
}

/// True when the region (including its checksum field) sums to `0xffff`, i.e. verifies.
#[inline]
pub fn verify(data: &[u8]) -> bool {
    sum(data) == 0xffff
}

/// The checksum of `data` behind a pseudo-header whose sum is `pseudo` (TCP, UDP, ICMPv6):
/// written into the zeroed checksum field of `data`, it makes the two verify
/// ([`verify_with_pseudo`]).
#[inline]
pub fn checksum_with_pseudo(pseudo: u16, data: &[u8]) -> u16 {
    !combine(&[pseudo, sum(data)])
}

/// True when `data` (its checksum field included) verifies behind a pseudo-header whose
/// sum is `pseudo`.
#[inline]
pub fn verify_with_pseudo(pseudo: u16, data: &[u8]) -> bool {
    combine(&[pseudo, sum(data)]) == 0xffff
}

/// Sum of the IPv4 pseudo-header used by TCP and UDP (RFC 9293 §3.1, RFC 768).
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: IpProtocol, length: u16) -> u16 {
    let mut acc = accumulate(0, &src.octets());
    acc = accumulate(acc, &dst.octets());
    acc += u64::from(protocol.0) + u64::from(length);
    fold(acc)
}

/// Sum of the IPv6 pseudo-header used by TCP, UDP and ICMPv6 (RFC 8200 §8.1): source,
/// destination, 32-bit upper-layer packet length, 24 zero bits and the next-header value.
///
/// With a routing header, `dst` must be the *final* destination (the last segment), not
/// the address in the fixed header (§8.1); callers that see routing headers pass it.
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: IpProtocol, length: u32) -> u16 {
    let mut acc = accumulate(0, &src.octets());
    acc = accumulate(acc, &dst.octets());
    acc += u64::from(length >> 16) + u64::from(length & 0xffff) + u64::from(next_header.0);
    fold(acc)
}

/// RFC 1624 equation 3: the new checksum after one 16-bit word changes from `old` to
/// `new`, given the old checksum `hc`.
#[inline]
pub const fn update16(hc: u16, old: u16, new: u16) -> u16 {
    !fold(!hc as u64 + !old as u64 + new as u64)
}

/// RFC 1624 equation 3 for a run of words: `old` and `new` are the previous and the
/// current contents of a field that starts at an even offset of the checksummed region
/// (addresses, ports, a TTL/protocol word). Both must have the same length; an odd
/// length is treated as ending in a zero-padded word, which is only right when the field
/// is the last byte of the region.
///
/// Returns `hc` unchanged if the lengths differ (callers pass fields of one type, so this
/// never happens in this crate).
#[inline]
pub fn update(hc: u16, old: &[u8], new: &[u8]) -> u16 {
    if old.len() != new.len() {
        return hc;
    }
    // ~m summed word by word equals the complement of the sum of m in one's-complement
    // arithmetic, so the whole field can be summed first.
    !fold(u64::from(!hc) + u64::from(!sum(old)) + u64::from(sum(new)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::XorShift;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3 numerical example: words 0001 f203 f4f5 f6f7 sum to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(sum(&data), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(sum(&[0x12, 0x34, 0x56]), 0x1234 + 0x5600);
        assert_eq!(sum(&[]), 0);
        assert_eq!(sum(&[0xff]), 0xff00);
    }

    #[test]
    fn known_ipv4_header() {
        // A textbook IPv4 header; its checksum is b861.
        let mut hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&hdr), 0xb861);
        hdr[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        assert!(verify(&hdr));
    }

    #[test]
    fn combine_matches_concatenation() {
        let mut rng = XorShift::new(7);
        for _ in 0..500 {
            let (la, lb) = (rng.below(64) * 2, rng.below(64) + 1);
            let a = rng.bytes(la);
            let b = rng.bytes(lb);
            let mut ab = a.clone();
            ab.extend_from_slice(&b);
            assert_eq!(combine(&[sum(&a), sum(&b)]), sum(&ab));
        }
    }

    #[test]
    fn large_word_counts_do_not_overflow() {
        let data = vec![0xffu8; 1 << 20];
        assert_eq!(sum(&data), 0xffff);
    }

    /// Fills the checksum at `at` so that the region verifies.
    fn fill(buf: &mut [u8], at: usize) {
        buf[at] = 0;
        buf[at + 1] = 0;
        let c = checksum(buf);
        buf[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }

    #[test]
    fn incremental_equals_full_recomputation_on_random_inputs() {
        let mut rng = XorShift::new(0x1624);
        for round in 0..20_000 {
            let words = 2 + rng.below(40);
            let mut buf = rng.bytes(words * 2);
            if round % 97 == 0 {
                // Sparse buffers reach the +0 / -0 corner cases far more often.
                buf.iter_mut().for_each(|b| *b &= 0x01);
            }
            let at = rng.below(words) * 2;
            fill(&mut buf, at);
            let hc = u16::from_be_bytes([buf[at], buf[at + 1]]);

            // Change a field of 1, 2, 4 or 8 words that does not overlap the checksum.
            let (before, after) = (at / 2, words - at / 2 - 1);
            let field_words = [1, 2, 4, 8][rng.below(4)].min(before.max(after));
            let start = if before >= field_words && (after < field_words || rng.below(2) == 0) {
                rng.below(before - field_words + 1) * 2
            } else {
                at + 2 + rng.below(after - field_words + 1) * 2
            };
            let old = buf[start..start + field_words * 2].to_vec();
            let new = rng.bytes(field_words * 2);
            buf[start..start + field_words * 2].copy_from_slice(&new);

            let incremental = if field_words == 1 {
                update16(
                    hc,
                    u16::from_be_bytes([old[0], old[1]]),
                    u16::from_be_bytes([new[0], new[1]]),
                )
            } else {
                update(hc, &old, &new)
            };
            fill(&mut buf, at);
            let full = u16::from_be_bytes([buf[at], buf[at + 1]]);
            assert_eq!(incremental, full, "round {round}: field at {start}, checksum at {at}");
        }
    }

    #[test]
    fn pseudo_headers() {
        let src = Ipv4Addr::new(192, 0, 2, 1);
        let dst = Ipv4Addr::new(198, 51, 100, 2);
        let manual = sum(&[192, 0, 2, 1, 198, 51, 100, 2, 0, 17, 0, 20]);
        assert_eq!(pseudo_header_v4(src, dst, IpProtocol::UDP, 20), manual);

        let s6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let d6: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&s6.octets());
        bytes.extend_from_slice(&d6.octets());
        bytes.extend_from_slice(&70_000u32.to_be_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 58]);
        assert_eq!(pseudo_header_v6(s6, d6, IpProtocol::ICMPV6, 70_000), sum(&bytes));
    }
}
