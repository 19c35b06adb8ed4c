//! CRC32C header and data digests (NVMe/TCP 1.0 §3.3.2 "Digests").
//!
//! Both digests are CRC32C (Castagnoli, reflected polynomial 0x82F63B78, initial
//! value and final XOR 0xFFFF_FFFF: the iSCSI CRC of RFC 3720 §B.4). On the wire a
//! digest is the 32-bit value stored least-significant byte first, like every other
//! NVMe/TCP field.
//!
//! * HDGST covers the `hlen` bytes of the PDU header (common header plus the
//!   PDU-specific header) and directly follows them.
//! * DDGST covers only the PDU data (not the padding between header and data)
//!   and is the last field of the PDU.

/// Length in bytes of a header or data digest on the wire.
pub const DIGEST_LEN: usize = 4;

/// CRC32C of `data`, as carried in a HDGST or DDGST field.
#[must_use]
pub fn crc32c(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
}

/// Continues a CRC32C over another chunk: `crc32c_append(crc32c(a), b) == crc32c(a ++ b)`.
///
/// Useful to digest data that is produced or received in pieces.
#[must_use]
pub fn crc32c_append(crc: u32, data: &[u8]) -> u32 {
    crc32c::crc32c_append(crc, data)
}

/// The digest of `data` in wire byte order (little-endian).
#[must_use]
pub fn digest_bytes(data: &[u8]) -> [u8; DIGEST_LEN] {
    crc32c(data).to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_123456789() {
        // The standard CRC-32C check value.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn rfc3720_vectors() {
        // RFC 3720 §B.4: 32 bytes of zeroes -> aa 36 91 8a on the wire.
        assert_eq!(digest_bytes(&[0u8; 32]), [0xaa, 0x36, 0x91, 0x8a]);
        // 32 bytes of 0xff -> 43 ab a8 62.
        assert_eq!(digest_bytes(&[0xffu8; 32]), [0x43, 0xab, 0xa8, 0x62]);
        // 32 bytes incrementing 00..1f -> 4e 79 dd 46.
        let inc: Vec<u8> = (0u8..32).collect();
        assert_eq!(digest_bytes(&inc), [0x4e, 0x79, 0xdd, 0x46]);
    }

    #[test]
    fn append_matches_one_shot() {
        let data: Vec<u8> = (0u8..=255).cycle().take(1000).collect();
        let (a, b) = data.split_at(333);
        assert_eq!(crc32c_append(crc32c(a), b), crc32c(&data));
    }
}
