//! What ICMP (RFC 792) and ICMPv6 (RFC 4443 §2.1) messages share: type, code, checksum,
//! a 4-octet type-specific field, then the body. Their checksums differ (ICMPv6 covers
//! the IPv6 pseudo-header, RFC 4443 §2.3), so each module fills its own.

use crate::Result;
use crate::field::{need, set_be16, set_be32};

/// Length of the fixed part (type, code, checksum, 4-octet field).
pub(crate) const HEADER_LEN: usize = 8;

/// Writes a message whose `(type, code, 4-octet field)` is `header`, `body` after it and
/// a zero checksum, for the caller to fill; returns the message length.
pub(crate) fn emit_unsummed(buf: &mut [u8], header: (u8, u8, u32), body: &[u8]) -> Result<usize> {
    let (msg_type, code, rest) = header;
    let len = HEADER_LEN + body.len();
    need(buf, len)?;
    buf[0] = msg_type;
    buf[1] = code;
    set_be16(buf, 2, 0);
    set_be32(buf, 4, rest);
    buf[HEADER_LEN..len].copy_from_slice(body);
    Ok(len)
}

/// The header of an echo message of `msg_type`: code 0, then identifier and sequence
/// number (RFC 792 "Echo or Echo Reply Message", RFC 4443 §4.1).
pub(crate) fn echo_header(msg_type: u8, ident: u16, seq: u16) -> (u8, u8, u32) {
    (msg_type, 0, (u32::from(ident) << 16) | u32::from(seq))
}
