//! The error type shared by every parser and builder of this crate.
//!
//! Each variant is a *reason*: the data plane uses it directly as a drop reason and
//! counts drops per reason under the stable name returned by [`Error::as_str`].

/// Why a packet could not be parsed, or a header could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The buffer ends before a fixed header, or before the length a header claims.
    #[error("packet truncated")]
    Truncated,
    /// A length field is inconsistent (e.g. IPv4 total length smaller than its header,
    /// UDP length below 8, an IPv6 AH length that is not a multiple of 8 octets).
    #[error("inconsistent length field")]
    BadLength,
    /// A header-length field is below its minimum (IPv4 IHL < 5, TCP data offset < 5).
    #[error("header length field below minimum")]
    BadHeaderLength,
    /// The version field is not the one this parser handles.
    #[error("unexpected version")]
    BadVersion,
    /// A checksum does not verify.
    #[error("checksum mismatch")]
    BadChecksum,
    /// A flags field carries a value the protocol forbids (e.g. VXLAN without the I bit).
    #[error("invalid flags")]
    BadFlags,
    /// A TLV option (Geneve option, IPv6 option) overruns its container or is malformed.
    #[error("malformed option")]
    BadOption,
    /// IPv6 extension headers appear in an order RFC 8200 forbids (hop-by-hop not first).
    #[error("extension headers out of order")]
    BadHeaderOrder,
    /// More stacked headers than the bounded walk accepts (VLAN tags, IPv6 extension headers).
    #[error("too many stacked headers")]
    TooManyHeaders,
    /// The TTL / hop limit would reach zero: the packet must not be forwarded.
    #[error("TTL or hop limit expired")]
    TtlExpired,
    /// An address field holds a value that is not allowed here.
    #[error("address not allowed here")]
    BadAddress,
    /// A well-formed packet of a kind this crate does not handle (e.g. ARP for a non-IPv4
    /// protocol, an ARP operation that is not a request where a request is needed).
    #[error("unsupported packet kind")]
    Unsupported,
    /// The output buffer is too small for the header or packet being built.
    #[error("output buffer too small")]
    BufferTooSmall,
    /// A value handed to a builder is out of range (VNI above 24 bits, option data not a
    /// multiple of 4 octets, ...).
    #[error("value out of range for this field")]
    InvalidArgument,
}

impl Error {
    /// Every variant, in declaration order; lets a counter registry pre-create one counter
    /// per reason.
    pub const ALL: [Error; 14] = [
        Error::Truncated,
        Error::BadLength,
        Error::BadHeaderLength,
        Error::BadVersion,
        Error::BadChecksum,
        Error::BadFlags,
        Error::BadOption,
        Error::BadHeaderOrder,
        Error::TooManyHeaders,
        Error::TtlExpired,
        Error::BadAddress,
        Error::Unsupported,
        Error::BufferTooSmall,
        Error::InvalidArgument,
    ];

    /// A stable, lower-case `snake_case` name for metrics labels and logs.
    ///
    /// These strings are part of the public interface: dashboards key on them, so they
    /// never change once released.
    pub const fn as_str(self) -> &'static str {
        match self {
            Error::Truncated => "truncated",
            Error::BadLength => "bad_length",
            Error::BadHeaderLength => "bad_header_length",
            Error::BadVersion => "bad_version",
            Error::BadChecksum => "bad_checksum",
            Error::BadFlags => "bad_flags",
            Error::BadOption => "bad_option",
            Error::BadHeaderOrder => "bad_header_order",
            Error::TooManyHeaders => "too_many_headers",
            Error::TtlExpired => "ttl_expired",
            Error::BadAddress => "bad_address",
            Error::Unsupported => "unsupported",
            Error::BufferTooSmall => "buffer_too_small",
            Error::InvalidArgument => "invalid_argument",
        }
    }
}

/// Result alias used throughout the crate.
pub type Result<T> = core::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_snake_case() {
        let mut names: Vec<&str> = Error::ALL.iter().map(|e| e.as_str()).collect();
        for n in &names {
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{n}");
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Error::ALL.len());
    }

    #[test]
    fn display_is_human_readable() {
        assert_eq!(Error::Truncated.to_string(), "packet truncated");
        assert_eq!(Error::BadChecksum.as_str(), "bad_checksum");
    }
}
