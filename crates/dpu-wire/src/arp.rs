//! ARP for IPv4 over Ethernet ([RFC 826]).
//!
//! Only the combination the switch answers is accepted: hardware type 1 (Ethernet),
//! protocol type `0x0800`, hardware length 6, protocol length 4 — a fixed 28-octet body:
//!
//! ```text
//!  0       2       4    5    6       8        14       18       24       28
//!  | htype | ptype | hl | pl | oper  |  SHA   |  SPA   |  THA   |  TPA   |
//! ```
//!
//! [`build_reply`] answers a request the way RFC 826 ("Packet Reception") describes:
//! swap sender and target, fill in our hardware address, set the opcode to reply.
//!
//! [RFC 826]: https://www.rfc-editor.org/rfc/rfc826

use core::net::Ipv4Addr;

use crate::ethernet::{EtherType, EthernetRepr, MacAddr};
use crate::field::{array, be16, need, set_be16};
use crate::{Error, Result};

/// Length of an Ethernet/IPv4 ARP body.
pub const PACKET_LEN: usize = 28;

/// ARP opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpOperation(pub u16);

impl ArpOperation {
    /// `1`.
    pub const REQUEST: ArpOperation = ArpOperation(1);
    /// `2`.
    pub const REPLY: ArpOperation = ArpOperation(2);
}

/// A zero-copy view of an Ethernet/IPv4 ARP body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Checks length (≥ 28; trailing Ethernet padding is allowed) and that the packet is
    /// Ethernet/IPv4 ARP ([`Error::Unsupported`] otherwise).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < PACKET_LEN {
            return Err(Error::Truncated);
        }
        if be16(b, 0) != 1 || be16(b, 2) != EtherType::IPV4.0 || b[4] != 6 || b[5] != 4 {
            return Err(Error::Unsupported);
        }
        Ok(ArpPacket { buffer })
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Opcode.
    pub fn operation(&self) -> ArpOperation {
        ArpOperation(be16(self.buffer.as_ref(), 6))
    }

    /// Sender hardware address.
    pub fn sender_mac(&self) -> MacAddr {
        MacAddr(array(self.buffer.as_ref(), 8))
    }

    /// Sender protocol address.
    pub fn sender_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(self.buffer.as_ref(), 14))
    }

    /// Target hardware address.
    pub fn target_mac(&self) -> MacAddr {
        MacAddr(array(self.buffer.as_ref(), 18))
    }

    /// Target protocol address.
    pub fn target_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(array::<4>(self.buffer.as_ref(), 24))
    }

    /// A gratuitous ARP announces the sender's own address (SPA == TPA).
    pub fn is_gratuitous(&self) -> bool {
        self.sender_ip() == self.target_ip()
    }

    /// The decoded fields.
    pub fn repr(&self) -> ArpRepr {
        ArpRepr {
            operation: self.operation(),
            sender_mac: self.sender_mac(),
            sender_ip: self.sender_ip(),
            target_mac: self.target_mac(),
            target_ip: self.target_ip(),
        }
    }
}

/// The fields of an Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpRepr {
    /// Opcode.
    pub operation: ArpOperation,
    /// SHA.
    pub sender_mac: MacAddr,
    /// SPA.
    pub sender_ip: Ipv4Addr,
    /// THA.
    pub target_mac: MacAddr,
    /// TPA.
    pub target_ip: Ipv4Addr,
}

impl ArpRepr {
    /// Writes the 28-octet body; returns 28.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        need(buf, PACKET_LEN)?;
        set_be16(buf, 0, 1);
        set_be16(buf, 2, EtherType::IPV4.0);
        buf[4] = 6;
        buf[5] = 4;
        set_be16(buf, 6, self.operation.0);
        buf[8..14].copy_from_slice(&self.sender_mac.0);
        buf[14..18].copy_from_slice(&self.sender_ip.octets());
        buf[18..24].copy_from_slice(&self.target_mac.0);
        buf[24..28].copy_from_slice(&self.target_ip.octets());
        Ok(PACKET_LEN)
    }
}

/// Builds a complete untagged Ethernet frame answering the ARP `request`: `our_mac` owns
/// the requested address (the request's TPA). Returns the frame length (42 octets; the
/// NIC pads to the 60-octet minimum).
///
/// Fails with [`Error::Unsupported`] if `request` is not a request,
/// [`Error::BadAddress`] if its sender MAC is multicast (nobody to answer).
pub fn build_reply<T: AsRef<[u8]>>(
    request: &ArpPacket<T>,
    our_mac: MacAddr,
    out: &mut [u8],
) -> Result<usize> {
    if request.operation() != ArpOperation::REQUEST {
        return Err(Error::Unsupported);
    }
    if request.sender_mac().is_multicast() {
        return Err(Error::BadAddress);
    }
    let eth = EthernetRepr {
        dst: request.sender_mac(),
        src: our_mac,
        vlans: &[],
        ethertype: EtherType::ARP,
    };
    need(out, eth.header_len() + PACKET_LEN)?;
    let hl = eth.emit(out)?;
    let reply = ArpRepr {
        operation: ArpOperation::REPLY,
        sender_mac: our_mac,
        sender_ip: request.target_ip(),
        target_mac: request.sender_mac(),
        target_ip: request.sender_ip(),
    };
    Ok(hl + reply.emit(&mut out[hl..])?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::testutil::never_panics;

    /// Who has 192.0.2.1? Tell 192.0.2.2 (02:00:00:00:00:02).
    pub(crate) const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, // Ethernet, IPv4, request
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 192, 0, 2, 2, // sender
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 192, 0, 2, 1, // target
    ];

    #[test]
    fn parse_request() {
        let p = ArpPacket::new_checked(&REQUEST[..]).unwrap();
        assert_eq!(p.operation(), ArpOperation::REQUEST);
        assert_eq!(p.sender_ip(), Ipv4Addr::new(192, 0, 2, 2));
        assert_eq!(p.target_ip(), Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(p.target_mac(), MacAddr::ZERO);
        assert!(!p.is_gratuitous());
    }

    #[test]
    fn reply_golden() {
        let p = ArpPacket::new_checked(&REQUEST[..]).unwrap();
        let ours = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
        let mut out = [0u8; 64];
        let n = build_reply(&p, ours, &mut out).unwrap();
        #[rustfmt::skip]
        let want: [u8; 42] = [
            0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06,
            0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02,
            0x02, 0, 0, 0, 0, 0x01, 192, 0, 2, 1,
            0x02, 0, 0, 0, 0, 0x02, 192, 0, 2, 2,
        ];
        assert_eq!(&out[..n], &want[..]);
        assert_eq!(build_reply(&p, ours, &mut out[..41]), Err(Error::BufferTooSmall));
        let copy = out;
        let reply = ArpPacket::new_checked(&copy[14..n]).unwrap();
        assert_eq!(build_reply(&reply, ours, &mut out), Err(Error::Unsupported));
    }

    #[test]
    fn rejects_other_protocols() {
        let mut r = REQUEST;
        r[3] = 0xdd;
        r[2] = 0x86;
        assert_eq!(ArpPacket::new_checked(&r[..]).err(), Some(Error::Unsupported));
        assert_eq!(ArpPacket::new_checked(&REQUEST[..27]).err(), Some(Error::Truncated));
    }

    pub(crate) fn exercise(data: &[u8]) {
        if let Ok(p) = ArpPacket::new_checked(data) {
            let _ = (p.repr(), p.is_gratuitous());
            let mut out = [0u8; 64];
            let _ = build_reply(&p, MacAddr::ZERO, &mut out);
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        never_panics(&[&REQUEST], 3, exercise);
    }
}
