//! What bounds per peer address count a peer as: the one rule the agent's listeners and the
//! NVMe/TCP target share, so no service can be sidestepped by a trick another one catches.

use std::net::IpAddr;

/// The address a peer is counted under: an IPv4 peer reaching a dual-stack (`[::]`)
/// listener shows up as an IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2), and is the same
/// peer as when it reaches an IPv4 listener.
pub fn address(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The crowd a peer belongs to: an IPv6 peer's /64, any of whose addresses one machine may
/// take (RFC 4291 §2.5.4 interface IDs, RFC 8981 temporary addresses), so a share per
/// address alone does not bound it; an IPv4 address is its own.
pub fn group(ip: IpAddr) -> IpAddr {
    match address(ip) {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn mapped_ipv4_is_the_ipv4_peer_and_a_slash_64_is_one_group() {
        assert_eq!(address(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(group(ip("::ffff:192.0.2.7")), ip("192.0.2.7"), "not the ::ffff:0:0/64");
        assert_eq!(group(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(group(ip("2001:db8:0:7::1")), ip("2001:db8:0:7::"));
        assert_eq!(group(ip("2001:db8:0:7:ffff:ffff:ffff:ffff")), ip("2001:db8:0:7::"));
        assert_ne!(group(ip("2001:db8:0:8::1")), group(ip("2001:db8:0:7::1")));
    }
}
