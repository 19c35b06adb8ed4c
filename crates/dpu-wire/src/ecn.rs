//! Explicit Congestion Notification across a tunnel (RFC 6040).
//!
//! The ECN field is the low two bits of the IPv4 TOS octet and of the IPv6 traffic class
//! (RFC 3168 §5). An encapsulator in RFC 6040's normal mode copies the inner field to the
//! outer header (§4.1, done by [`crate::encap::encapsulate`]), so routers of the underlay
//! can mark congestion; the decapsulator combines the two by §4.2's table
//! ([`decapsulate`]), so the mark reaches the inner transport.

use crate::ethernet::HEADER_LEN;
use crate::ipv4::Ipv4Packet;
use crate::ipv6::Ipv6Packet;

/// Not ECN-capable transport.
pub const NOT_ECT: u8 = 0;
/// ECN-capable transport, codepoint 1.
pub const ECT1: u8 = 1;
/// ECN-capable transport, codepoint 0.
pub const ECT0: u8 = 2;
/// Congestion experienced.
pub const CE: u8 = 3;

/// The ECN field of the IPv4 or IPv6 packet in the untagged Ethernet `frame`, read by the
/// ethertype and version alone (a couple of loads); `None` when it carries neither.
#[inline]
pub fn of_frame(frame: &[u8]) -> Option<u8> {
    let (Some(&[t0, t1]), Some(&[v, tos])) = (frame.get(12..14), frame.get(14..16)) else {
        return None;
    };
    match ([t0, t1], v >> 4) {
        ([0x08, 0x00], 4) => Some(tos & 0x03),
        // The traffic class straddles the first two octets; ECN is its low two bits.
        ([0x86, 0xdd], 6) => Some((tos >> 4) & 0x03),
        _ => None,
    }
}

/// What becomes of a decapsulated packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Decap {
    /// Forward it (its inner ECN field possibly updated).
    Forward,
    /// Drop it: the outer header says Congestion Experienced and the inner transport is not
    /// ECN-capable, so the mark cannot be passed on (RFC 6040 §4.2).
    Drop,
}

/// Applies RFC 6040 §4.2's decapsulation table: the outer ECN field `outer` (of the outer
/// header just removed) combined with that of the IP packet in the untagged Ethernet
/// `frame`, which is updated in place (an IPv4 header checksum incrementally, RFC 1624).
/// An outer Not-ECT (most packets) costs one compare; a frame that carries no valid IPv4
/// or IPv6 header is left alone, as Linux's `INET_ECN_decapsulate` leaves it.
#[inline]
pub fn decapsulate(outer: u8, frame: &mut [u8]) -> Decap {
    let outer = outer & 0x03;
    if outer == NOT_ECT {
        return Decap::Forward;
    }
    let Some(inner) = of_frame(frame) else { return Decap::Forward };
    let new = match (inner, outer) {
        (NOT_ECT, CE) => return Decap::Drop,
        // Not-ECT under ECT(0/1) stays Not-ECT (the table's "!!!": a tunnel that should
        // not have set the outer field); an inner CE stays CE.
        (NOT_ECT | CE, _) => return Decap::Forward,
        (_, CE) => CE,
        (_, ECT1) => ECT1,
        _ => return Decap::Forward,
    };
    if new != inner {
        let ip = &mut frame[HEADER_LEN..];
        if let Ok(mut p) = Ipv4Packet::new_checked(&mut *ip) {
            p.set_ecn(new);
        } else if let Ok(mut p) = Ipv6Packet::new_checked(ip) {
            p.set_ecn(new);
        }
    }
    Decap::Forward
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ethernet::{EtherType, EthernetRepr, MacAddr};
    use crate::ipv4::Ipv4Repr;
    use crate::ipv6::Ipv6Repr;
    use crate::{IpProtocol, checksum};

    fn frame(v6: bool, ecn: u8) -> Vec<u8> {
        let ethertype = if v6 { EtherType::IPV6 } else { EtherType::IPV4 };
        let eth =
            EthernetRepr { dst: MacAddr([2; 6]), src: MacAddr([4; 6]), vlans: &[], ethertype };
        let mut f = vec![0xab; 14 + 40 + 8];
        let l3 = eth.emit(&mut f).unwrap();
        if v6 {
            let (s, d) = ("2001:db8::1".parse().unwrap(), "2001:db8::2".parse().unwrap());
            let r =
                Ipv6Repr { traffic_class: 0xb8 | ecn, ..Ipv6Repr::new(s, d, IpProtocol::UDP, 8) };
            r.emit(&mut f[l3..]).unwrap();
        } else {
            let (s, d) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
            let r = Ipv4Repr { dscp: 46, ecn, ..Ipv4Repr::new(s, d, IpProtocol::UDP, 28) };
            r.emit(&mut f[l3..]).unwrap();
        }
        f
    }

    /// RFC 6040 §4.2 Figure 4, row by row: (inner, [outer Not-ECT, ECT(0), ECT(1), CE]).
    #[test]
    fn decapsulation_follows_rfc_6040_table() {
        let drop = None;
        let table = [
            (NOT_ECT, [Some(NOT_ECT), Some(NOT_ECT), Some(NOT_ECT), drop]),
            (ECT0, [Some(ECT0), Some(ECT0), Some(ECT1), Some(CE)]),
            (ECT1, [Some(ECT1), Some(ECT1), Some(ECT1), Some(CE)]),
            (CE, [Some(CE), Some(CE), Some(CE), Some(CE)]),
        ];
        for v6 in [false, true] {
            for (inner, row) in table {
                for (outer, want) in [NOT_ECT, ECT0, ECT1, CE].into_iter().zip(row) {
                    let before = frame(v6, inner);
                    let mut f = before.clone();
                    let got = decapsulate(outer, &mut f);
                    let ctx = format!("v6 {v6} inner {inner} outer {outer}");
                    let Some(want) = want else {
                        assert_eq!((got, &f), (Decap::Drop, &before), "{ctx}");
                        continue;
                    };
                    assert_eq!((got, of_frame(&f)), (Decap::Forward, Some(want)), "{ctx}");
                    if v6 {
                        assert_eq!(Ipv6Packet::new_checked(&f[14..]).unwrap().dscp(), 46, "{ctx}");
                    } else {
                        let p = Ipv4Packet::new_checked(&f[14..]).unwrap();
                        assert!(p.verify_checksum(), "{ctx}");
                        assert_eq!(p.dscp(), 46, "{ctx}");
                        assert!(checksum::verify(p.header()));
                    }
                    // Nothing but the ECN bits (and the IPv4 checksum) moved.
                    let ecn_bits = if v6 { (15, 0x30) } else { (15, 0x03) };
                    for (i, (a, b)) in before.iter().zip(&f).enumerate() {
                        let mask = if i == ecn_bits.0 { !ecn_bits.1 } else { 0xff };
                        if v6 || !(24..26).contains(&i) {
                            assert_eq!(a & mask, b & mask, "{ctx} octet {i}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn frames_without_ip_are_left_alone() {
        let mut arp = frame(false, NOT_ECT);
        arp[12..14].copy_from_slice(&EtherType::ARP.0.to_be_bytes());
        let before = arp.clone();
        assert_eq!(of_frame(&arp), None);
        assert_eq!(decapsulate(CE, &mut arp), Decap::Forward);
        assert_eq!(arp, before);
        // Wrong version for the ethertype, and too short: not IP either.
        let mut bad = frame(true, ECT0);
        bad[14] = 0x45;
        assert_eq!(of_frame(&bad), None);
        assert_eq!(of_frame(&bad[..15]), None);
        assert_eq!(decapsulate(CE, &mut bad[..15]), Decap::Forward);
    }
}
