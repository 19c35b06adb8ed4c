//! Which addresses may name one host, and which a router never forwards: the one rule set
//! the switch's configuration, its routing (martian filter), its VXLAN/Geneve decapsulation
//! and ICMP error generation share, so an address the configuration takes is never one the
//! data path drops. Plain comparisons, inlined: these run per packet.

use core::net::{Ipv4Addr, Ipv6Addr};

/// Whether `a` can name a single host, as source or destination (RFC 1122 §3.2.1.3, the
/// RFC 1812 §4.3.2.7 condition on an ICMP error's destination): not "this network" (0/8),
/// loopback (127/8), multicast (224/4) nor reserved class E (240/4, which holds the limited
/// broadcast; RFC 6890 §2.2.2 lists it as neither a valid source nor destination).
/// Link-local 169.254/16 does name a host on its link (RFC 3927).
#[inline]
pub fn is_single_host_v4(a: Ipv4Addr) -> bool {
    let first = a.octets()[0];
    first != 0 && first != 127 && first < 224
}

/// Whether a router must not forward a packet from or to `a` (RFC 1812 §4.2.2.11, §5.3.7):
/// an address [`is_single_host_v4`] refuses, or link-local 169.254/16, which never leaves
/// its link (RFC 3927 §2.7). Linux drops such packets as martians.
#[inline]
pub fn is_martian_v4(a: Ipv4Addr) -> bool {
    !is_single_host_v4(a) || a.is_link_local()
}

/// Whether a router must not forward a packet from or to `a`: unspecified, loopback or
/// multicast (RFC 4291 §2.5.2, §2.5.3, §2.7; multicast routing is not offered), link-local
/// (§2.5.6: never forwarded) or IPv4-mapped (§2.5.5.2: it stands for an IPv4 node inside
/// one host and is never on the wire; RFC 6890 §2.2.3; Linux drops such a source on input).
#[inline]
pub fn is_martian_v6(a: Ipv6Addr) -> bool {
    a.is_unspecified()
        || a.is_loopback()
        || a.is_multicast()
        || a.is_unicast_link_local()
        || a.to_ipv4_mapped().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each range's edges, on both sides.
    #[test]
    fn ipv4_single_hosts_and_martians() {
        // (address, single host, martian)
        for (a, host, martian) in [
            ("0.0.0.0", false, true),
            ("0.255.255.255", false, true),
            ("1.0.0.0", true, false),
            ("126.255.255.255", true, false),
            ("127.0.0.1", false, true),
            ("127.255.255.255", false, true),
            ("128.0.0.0", true, false),
            ("169.253.255.255", true, false),
            ("169.254.0.1", true, true),
            ("169.254.255.255", true, true),
            ("169.255.0.0", true, false),
            ("192.0.2.1", true, false),
            ("223.255.255.255", true, false),
            ("224.0.0.1", false, true),
            ("239.255.255.255", false, true),
            ("240.0.0.1", false, true),
            ("255.255.255.254", false, true),
            ("255.255.255.255", false, true),
        ] {
            let ip: Ipv4Addr = a.parse().unwrap();
            assert_eq!(is_single_host_v4(ip), host, "{a} single host");
            assert_eq!(is_martian_v4(ip), martian, "{a} martian");
        }
    }

    #[test]
    fn ipv6_martians() {
        for (a, martian) in [
            ("::", true),
            ("::1", true),
            ("::2", false),
            ("2001:db8::1", false),
            ("fe7f:ffff::1", false),
            ("fe80::1", true),
            ("febf:ffff::1", true),
            ("fec0::1", false),
            ("fd00::1", false),
            ("ff02::1", true),
            ("ff0e::1", true),
            ("::ffff:192.0.2.1", true),
            ("::ffff:0:0", true),
            ("::fffe:c000:201", false),
            ("64:ff9b::c000:201", false),
        ] {
            let ip: Ipv6Addr = a.parse().unwrap();
            assert_eq!(is_martian_v6(ip), martian, "{a}");
        }
    }
}
