//! Errors of the NVMe/TCP wire layer and their mapping to termination requests
//! (NVMe/TCP 1.0 §3.6.2.4 H2CTermReq / §3.6.2.5 C2HTermReq, §3.5.3 "Fatal errors").
//!
//! A *fatal* transport error ends the connection: the side that detects it sends a
//! termination request carrying a Fatal Error Status (FES), Fatal Error Information
//! (FEI) and up to 128 bytes of the offending PDU header, then closes the socket.
//! [`FatalError`] carries exactly those three things; [`FatalError::to_term_req`]
//! builds the PDU body.
//!
//! Two conditions are *not* answered with a termination request:
//! * a data digest mismatch (§3.3.2.2) fails only the affected command (with
//!   [`Status::TRANSIENT_TRANSPORT_ERROR`](crate::Status::TRANSIENT_TRANSPORT_ERROR));
//!   the connection stays up, so [`DecodeError::DataDigest`] still hands over the PDU;
//! * a malformed termination request (§3.6.2.4: PLEN outside 24..=152) is answered
//!   by closing the connection without a reply ([`DecodeError::MalformedTermReq`]).

use std::fmt;

use crate::pdu::{Pdu, TermReq};

/// Maximum number of bytes of the offending PDU header carried in a termination request.
pub const TERM_REQ_MAX_DATA: usize = 128;

/// Fatal Error Status of a termination request (NVMe/TCP 1.0 "FES" field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Fes {
    /// 01h Invalid PDU Header Field; FEI is the byte offset of the field in the PDU header.
    InvalidHeaderField = 0x01,
    /// 02h PDU Sequence Error: a PDU arrived that is not allowed in the current state.
    PduSequenceError = 0x02,
    /// 03h Header Digest Error; FEI is the header digest value received in the PDU.
    HeaderDigestError = 0x03,
    /// 04h Data Transfer Out of Range: data offset/length outside the command's transfer.
    DataTransferOutOfRange = 0x04,
    /// 05h R2T Limit Exceeded (TCP 1.0) / Data Transfer Limit Exceeded (TCP 1.1):
    /// too many outstanding R2Ts, or more data in one PDU than the receiver allows.
    DataTransferLimitExceeded = 0x05,
    /// 06h Unsupported Parameter; FEI is the byte offset of the parameter in the PDU.
    UnsupportedParameter = 0x06,
}

impl Fes {
    /// The R2T Limit Exceeded name used by NVMe/TCP 1.0 for code 05h.
    pub const R2T_LIMIT_EXCEEDED: Fes = Fes::DataTransferLimitExceeded;

    /// Wire value.
    #[must_use]
    pub const fn code(self) -> u16 {
        self as u16
    }

    /// Parses a wire value; `None` for reserved codes.
    #[must_use]
    pub const fn from_code(code: u16) -> Option<Fes> {
        Some(match code {
            0x01 => Fes::InvalidHeaderField,
            0x02 => Fes::PduSequenceError,
            0x03 => Fes::HeaderDigestError,
            0x04 => Fes::DataTransferOutOfRange,
            0x05 => Fes::DataTransferLimitExceeded,
            0x06 => Fes::UnsupportedParameter,
            _ => return None,
        })
    }
}

impl fmt::Display for Fes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fes::InvalidHeaderField => "invalid PDU header field",
            Fes::PduSequenceError => "PDU sequence error",
            Fes::HeaderDigestError => "header digest error",
            Fes::DataTransferOutOfRange => "data transfer out of range",
            Fes::DataTransferLimitExceeded => "data transfer limit exceeded",
            Fes::UnsupportedParameter => "unsupported parameter",
        })
    }
}

/// A fatal transport error: answer with a termination request, then close.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{fes} (FEI {fei:#x}): {reason}")]
pub struct FatalError {
    /// Fatal Error Status.
    pub fes: Fes,
    /// Fatal Error Information (meaning depends on `fes`, see [`Fes`]).
    pub fei: u32,
    /// A short human-readable explanation, for logs.
    pub reason: &'static str,
    /// The offending PDU header as received (at most [`TERM_REQ_MAX_DATA`] bytes;
    /// empty when the error is not tied to a received PDU).
    pub pdu_header: Vec<u8>,
}

impl FatalError {
    /// A fatal error without an associated PDU header.
    #[must_use]
    pub fn new(fes: Fes, fei: u32, reason: &'static str) -> Self {
        Self { fes, fei, reason, pdu_header: Vec::new() }
    }

    /// Invalid PDU header field at byte `offset` of the PDU.
    #[must_use]
    pub fn invalid_field(offset: u32, reason: &'static str) -> Self {
        Self::new(Fes::InvalidHeaderField, offset, reason)
    }

    /// Attaches (a prefix of) the offending PDU header.
    #[must_use]
    pub fn with_header(mut self, header: &[u8]) -> Self {
        let n = header.len().min(TERM_REQ_MAX_DATA);
        self.pdu_header = header[..n].to_vec();
        self
    }

    /// The termination request that reports this error to the peer.
    #[must_use]
    pub fn to_term_req(&self) -> TermReq {
        TermReq { fes: self.fes.code(), fei: self.fei, data: self.pdu_header.clone() }
    }
}

/// Why [`PduDecoder::decode`](crate::PduDecoder::decode) did not yield a PDU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Fatal transport error: send [`FatalError::to_term_req`] and close the connection.
    /// The decoder stays failed and returns this error again.
    #[error(transparent)]
    Fatal(#[from] FatalError),
    /// A termination request with an invalid length: close without replying
    /// (NVMe/TCP 1.0 §3.6.2.4). The decoder stays failed.
    #[error("malformed termination request (PLEN {plen}); closing without reply")]
    MalformedTermReq {
        /// The PLEN received.
        plen: u32,
    },
    /// The data digest of a PDU did not match its data. Not fatal: the PDU is well
    /// framed and is handed over so the affected command can be completed with
    /// [`Status::TRANSIENT_TRANSPORT_ERROR`](crate::Status::TRANSIENT_TRANSPORT_ERROR).
    /// The decoder continues with the next PDU.
    #[error("data digest mismatch: received {received:#010x}, computed {computed:#010x}")]
    DataDigest {
        /// The PDU whose data failed the check (its data is untrusted).
        pdu: Box<Pdu>,
        /// Digest carried in the PDU.
        received: u32,
        /// Digest computed over the received data.
        computed: u32,
    },
}

impl DecodeError {
    /// Whether the connection must be torn down.
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        !matches!(self, DecodeError::DataDigest { .. })
    }

    /// The termination request to send before closing, if one is to be sent.
    #[must_use]
    pub fn term_req(&self) -> Option<TermReq> {
        match self {
            DecodeError::Fatal(f) => Some(f.to_term_req()),
            _ => None,
        }
    }

    /// The Fatal Error Status, if this is a fatal error reported with a termination request.
    #[must_use]
    pub fn fes(&self) -> Option<Fes> {
        match self {
            DecodeError::Fatal(f) => Some(f.fes),
            _ => None,
        }
    }
}

/// Errors building a PDU for sending (caller bugs, never peer input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The PDU would be longer than PLEN can express.
    #[error("PDU length {0} does not fit in PLEN")]
    TooLong(u64),
    /// A termination request may carry at most 128 bytes of header data.
    #[error("termination request data of {0} bytes exceeds 128")]
    TermReqDataTooLong(usize),
    /// A data PDU must carry at least one byte of data.
    #[error("data PDU without data")]
    EmptyData,
    /// SUCCESS may only be set on the last C2HData PDU of a command (§3.6.2.8).
    #[error("C2HData SUCCESS flag requires LAST_PDU")]
    SuccessWithoutLast,
    /// PDA values are 0..=31.
    #[error("PDU data alignment {0} out of range 0..=31")]
    BadAlignment(u8),
}

/// Errors of the SQE, CQE, SGL and Fabrics command parsers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The buffer is shorter than the structure.
    #[error("{what}: need {need} bytes, got {got}")]
    Truncated {
        /// Structure being parsed.
        what: &'static str,
        /// Required length.
        need: usize,
        /// Available length.
        got: usize,
    },
    /// A field has a value this implementation does not accept.
    #[error("{what}: invalid field at byte {offset}")]
    InvalidField {
        /// Structure being parsed.
        what: &'static str,
        /// Byte offset of the field in the structure.
        offset: usize,
    },
}
