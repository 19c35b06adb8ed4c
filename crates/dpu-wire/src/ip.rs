//! IP protocol numbers (IANA "Assigned Internet Protocol Numbers"), shared by the IPv4
//! protocol field and the IPv6 next-header field.

/// An IP protocol / IPv6 next-header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// IPv6 hop-by-hop options (RFC 8200 §4.3).
    pub const HOP_BY_HOP: IpProtocol = IpProtocol(0);
    /// ICMP for IPv4 (RFC 792).
    pub const ICMP: IpProtocol = IpProtocol(1);
    /// IPv4 in IP.
    pub const IPIP: IpProtocol = IpProtocol(4);
    /// TCP (RFC 9293).
    pub const TCP: IpProtocol = IpProtocol(6);
    /// UDP (RFC 768).
    pub const UDP: IpProtocol = IpProtocol(17);
    /// IPv6 in IP.
    pub const IPV6: IpProtocol = IpProtocol(41);
    /// IPv6 routing header (RFC 8200 §4.4).
    pub const ROUTING: IpProtocol = IpProtocol(43);
    /// IPv6 fragment header (RFC 8200 §4.5).
    pub const FRAGMENT: IpProtocol = IpProtocol(44);
    /// GRE.
    pub const GRE: IpProtocol = IpProtocol(47);
    /// ESP (RFC 4303).
    pub const ESP: IpProtocol = IpProtocol(50);
    /// AH (RFC 4302).
    pub const AH: IpProtocol = IpProtocol(51);
    /// ICMPv6 (RFC 4443).
    pub const ICMPV6: IpProtocol = IpProtocol(58);
    /// IPv6 "no next header" (RFC 8200 §4.7).
    pub const NO_NEXT_HEADER: IpProtocol = IpProtocol(59);
    /// IPv6 destination options (RFC 8200 §4.6).
    pub const DEST_OPTIONS: IpProtocol = IpProtocol(60);
    /// SCTP.
    pub const SCTP: IpProtocol = IpProtocol(132);
    /// Mobility header (RFC 6275), an IPv6 extension header.
    pub const MOBILITY: IpProtocol = IpProtocol(135);
    /// Host Identity Protocol (RFC 7401), an IPv6 extension header.
    pub const HIP: IpProtocol = IpProtocol(139);
    /// Shim6 (RFC 5533), an IPv6 extension header.
    pub const SHIM6: IpProtocol = IpProtocol(140);
}
