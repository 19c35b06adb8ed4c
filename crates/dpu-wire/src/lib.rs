//! Zero-copy packet views, parsers and builders for the DPU virtual switch.
//!
//! Every protocol module follows one pattern, after the `wire` module of smoltcp:
//!
//! * a view `XxxPacket<T: AsRef<[u8]>>` over a byte buffer (borrowed or owned, never
//!   copied) built only through `new_checked(buffer) -> Result<Self, Error>`. That
//!   constructor validates every length the view relies on, so **no accessor of a view
//!   can panic afterwards**, whatever bytes the buffer holds;
//! * setters when `T: AsMut<[u8]>` (never for fields that would break that invariant);
//! * `emit`/`build_*` functions for the headers the switch writes, returning the
//!   number of bytes written or [`Error::BufferTooSmall`].
//!
//! Nothing in this crate performs I/O or allocates on the packet path.
//!
//! | module | protocol | references |
//! |---|---|---|
//! | [`ethernet`] | Ethernet II, 802.1Q VLAN, 802.1ad QinQ | IEEE 802.3, 802.1Q |
//! | [`arp`] | ARP for IPv4 over Ethernet | RFC 826 |
//! | [`ipv4`] | IPv4 | RFC 791, RFC 1812 |
//! | [`ipv6`] | IPv6 and its extension-header chain | RFC 8200, RFC 4302, RFC 7045 |
//! | [`icmpv4`] | ICMP, error generation | RFC 792, RFC 1122 §3.2.2, RFC 1812 §4.3.2 |
//! | [`icmpv6`] | ICMPv6, error generation | RFC 4443 |
//! | [`tcp`] | TCP | RFC 9293 |
//! | [`udp`] | UDP | RFC 768, RFC 8200 §8.1 |
//! | [`vxlan`] | VXLAN | RFC 7348 |
//! | [`geneve`] | Geneve | RFC 8926 |
//! | [`checksum`] | Internet checksum, incremental update | RFC 1071, RFC 1624 |
//! | [`addr`] | single-host and martian (never forwarded) addresses | RFC 1122 §3.2.1.3, RFC 1812 §5.3.7, RFC 4291, RFC 6890 |
//! | [`dissect`] | one-pass L2–L4 + overlay dissection of a frame | — |
//! | [`encap`] | VXLAN / Geneve encapsulation into headroom | RFC 7348, RFC 8926 |
//!
//! Errors are a single [`Error`] enum whose variants double as drop reasons, each with
//! a stable counter name ([`Error::as_str`]).
//!
//! [`fuzz_parse_all`] runs every parser on arbitrary bytes; it exists for the fuzz
//! targets (and the crate's own never-panics tests).

pub mod addr;
pub mod arp;
pub mod checksum;
pub mod dissect;
pub mod ecn;
pub mod encap;
mod error;
pub mod ethernet;
mod field;
pub mod fuzz;
pub mod geneve;
mod icmp;
pub mod icmpv4;
pub mod icmpv6;
mod ip;
pub mod ipv4;
pub mod ipv6;
pub mod tcp;
pub mod udp;
pub mod vxlan;

#[cfg(test)]
mod testutil;

pub use error::{Error, Result};
pub use ethernet::{EtherType, MacAddr};
pub use fuzz::fuzz_parse_all;
pub use ip::IpProtocol;
