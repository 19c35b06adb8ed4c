//! In-band authentication messages carried by Authentication Send/Receive (Fabrics
//! commands 05h/06h): the DH-HMAC-CHAP transaction of NVMe Base 2.2 §8.3.4.5
//! (NVMe-oF 1.1a TP 8006). No cryptography here, only the message layouts.
//!
//! A transaction on one queue, host → controller unless noted:
//! `AUTH_Negotiate` (Send), `DH-HMAC-CHAP_Challenge` (controller, Receive),
//! `DH-HMAC-CHAP_Reply` (Send), `DH-HMAC-CHAP_Success1` (controller, Receive) and,
//! when the host also authenticates the controller, `DH-HMAC-CHAP_Success2` (Send).
//! Either side ends a failed transaction with `AUTH_Failure1` (controller) or
//! `AUTH_Failure2` (host). Multi-byte fields are little endian; every message
//! starts with AUTH-TYPE, AUTH-ID, two reserved bytes and the transaction ID.

use crate::error::ParseError;
use crate::sqe::Sqe;

/// SECP of NVMe-oF in-band authentication, with SPSP0 = SPSP1 = 01h.
pub const SECP_DHCHAP: u8 = 0xE9;
/// The only SPSP0/SPSP1 value defined for [`SECP_DHCHAP`].
pub const SPSP_DHCHAP: u8 = 0x01;
/// AUTH-TYPE of messages common to every protocol (Negotiate, Failure1/2).
pub const TYPE_COMMON: u8 = 0x00;
/// AUTH-TYPE of DH-HMAC-CHAP messages.
pub const TYPE_DHCHAP: u8 = 0x01;
/// AUTHID of DH-HMAC-CHAP in a protocol descriptor of `AUTH_Negotiate`.
pub const AUTHID_DHCHAP: u8 = 0x01;
/// The most hash or DH group identifiers a protocol descriptor carries (each list has
/// 30 bytes of the descriptor's 60-byte ID list).
pub const MAX_IDS: usize = 30;
/// Length of one protocol descriptor in `AUTH_Negotiate`.
pub const DESCRIPTOR_LEN: usize = 64;

/// AUTH-ID values.
pub mod message {
    /// `AUTH_Negotiate`.
    pub const NEGOTIATE: u8 = 0x00;
    /// `DH-HMAC-CHAP_Challenge`.
    pub const CHALLENGE: u8 = 0x01;
    /// `DH-HMAC-CHAP_Reply`.
    pub const REPLY: u8 = 0x02;
    /// `DH-HMAC-CHAP_Success1`.
    pub const SUCCESS1: u8 = 0x03;
    /// `DH-HMAC-CHAP_Success2`.
    pub const SUCCESS2: u8 = 0x04;
    /// `AUTH_Failure2`.
    pub const FAILURE2: u8 = 0xF0;
    /// `AUTH_Failure1`.
    pub const FAILURE1: u8 = 0xF1;
}

/// Hash function identifiers (HashID).
pub mod hash {
    /// SHA-256.
    pub const SHA256: u8 = 0x01;
    /// SHA-384.
    pub const SHA384: u8 = 0x02;
    /// SHA-512.
    pub const SHA512: u8 = 0x03;

    /// The digest length of hash `id`, if it is one of the defined ones.
    pub fn len(id: u8) -> Option<usize> {
        match id {
            SHA256 => Some(32),
            SHA384 => Some(48),
            SHA512 => Some(64),
            _ => None,
        }
    }
}

/// Diffie-Hellman group identifiers (DHGID).
pub mod dh_group {
    /// No Diffie-Hellman exchange: the challenge is used as it is.
    pub const NULL: u8 = 0x00;
    /// ffdhe2048 (RFC 7919).
    pub const FFDHE2048: u8 = 0x01;
    /// ffdhe3072.
    pub const FFDHE3072: u8 = 0x02;
    /// ffdhe4096.
    pub const FFDHE4096: u8 = 0x03;
    /// ffdhe6144.
    pub const FFDHE6144: u8 = 0x04;
    /// ffdhe8192.
    pub const FFDHE8192: u8 = 0x05;
}

/// Reason code explanations of `AUTH_Failure1`/`AUTH_Failure2` (reason code 01h,
/// "authentication failure").
pub mod failure {
    /// Reason code: authentication failure.
    pub const REASON_FAILED: u8 = 0x01;
    /// Authentication failed.
    pub const FAILED: u8 = 0x01;
    /// Authentication protocol not usable.
    pub const PROTOCOL_UNUSABLE: u8 = 0x02;
    /// Secure channel concatenation mismatch.
    pub const CONCAT_MISMATCH: u8 = 0x03;
    /// Hash function not usable.
    pub const HASH_UNUSABLE: u8 = 0x04;
    /// DH group not usable.
    pub const DHGROUP_UNUSABLE: u8 = 0x05;
    /// Incorrect payload.
    pub const INCORRECT_PAYLOAD: u8 = 0x06;
    /// Incorrect protocol message.
    pub const INCORRECT_MESSAGE: u8 = 0x07;
}

/// The fields of an Authentication Send or Receive command (CDW10: SPSP0 bits 15:8,
/// SPSP1 bits 23:16, SECP bits 31:24; CDW11: transfer or allocation length).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuthTransfer {
    /// Security Protocol.
    pub secp: u8,
    /// SP Specific 0.
    pub spsp0: u8,
    /// SP Specific 1.
    pub spsp1: u8,
    /// Transfer Length (Send) or Allocation Length (Receive), in bytes.
    pub len: u32,
}

impl AuthTransfer {
    /// A transfer of `len` bytes of DH-HMAC-CHAP messages.
    pub fn dhchap(len: u32) -> Self {
        AuthTransfer { secp: SECP_DHCHAP, spsp0: SPSP_DHCHAP, spsp1: SPSP_DHCHAP, len }
    }

    /// Reads the fields from `sqe`.
    pub fn parse(sqe: &Sqe) -> Self {
        let cdw10 = sqe.cdw[0];
        AuthTransfer {
            spsp0: (cdw10 >> 8) as u8,
            spsp1: (cdw10 >> 16) as u8,
            secp: (cdw10 >> 24) as u8,
            len: sqe.cdw[1],
        }
    }

    /// Whether SECP, SPSP0 and SPSP1 name DH-HMAC-CHAP.
    pub fn is_dhchap(&self) -> bool {
        self.secp == SECP_DHCHAP && self.spsp0 == SPSP_DHCHAP && self.spsp1 == SPSP_DHCHAP
    }

    /// Writes the fields into `sqe`.
    pub fn write(&self, sqe: &mut Sqe) {
        sqe.cdw[0] = (u32::from(self.secp) << 24)
            | (u32::from(self.spsp1) << 16)
            | (u32::from(self.spsp0) << 8);
        sqe.cdw[1] = self.len;
    }
}

/// `AUTH_Negotiate`: what the host offers in its DH-HMAC-CHAP protocol descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiate {
    /// Transaction identifier (T_ID), echoed by every later message.
    pub tid: u16,
    /// Secure channel concatenation (SC_C); 0: none.
    pub sc_c: u8,
    /// Hash identifiers, in the host's order.
    pub hashes: Vec<u8>,
    /// DH group identifiers, in the host's order.
    pub dh_groups: Vec<u8>,
}

/// `DH-HMAC-CHAP_Challenge`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Transaction identifier.
    pub tid: u16,
    /// Selected hash function.
    pub hash: u8,
    /// Selected DH group.
    pub dh_group: u8,
    /// Sequence number S1.
    pub seqnum: u32,
    /// Challenge C1 (as long as the hash).
    pub challenge: Vec<u8>,
    /// The controller's DH value (empty with the NULL group).
    pub dh_value: Vec<u8>,
}

/// `DH-HMAC-CHAP_Reply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Transaction identifier.
    pub tid: u16,
    /// The host's response R1.
    pub response: Vec<u8>,
    /// CVALID: the host asks the controller to authenticate itself with `challenge`.
    pub challenge_valid: bool,
    /// Sequence number S2; 0 when the controller is not to authenticate itself.
    pub seqnum: u32,
    /// Challenge C2 (as long as the response; zeroes when not valid).
    pub challenge: Vec<u8>,
    /// The host's DH value (empty with the NULL group).
    pub dh_value: Vec<u8>,
}

/// `DH-HMAC-CHAP_Success1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Success1 {
    /// Transaction identifier.
    pub tid: u16,
    /// Hash length of the transaction.
    pub hash_len: u8,
    /// The controller's response R2, when the host asked for it (RVALID).
    pub response: Option<Vec<u8>>,
}

/// `AUTH_Failure1` (from the controller) or `AUTH_Failure2` (from the host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Transaction identifier.
    pub tid: u16,
    /// Reason code ([`failure::REASON_FAILED`]).
    pub reason: u8,
    /// Reason code explanation ([`failure`]).
    pub explanation: u8,
}

/// One authentication message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMessage {
    /// `AUTH_Negotiate`.
    Negotiate(Negotiate),
    /// `DH-HMAC-CHAP_Challenge`.
    Challenge(Challenge),
    /// `DH-HMAC-CHAP_Reply`.
    Reply(Reply),
    /// `DH-HMAC-CHAP_Success1`.
    Success1(Success1),
    /// `DH-HMAC-CHAP_Success2` (its transaction identifier).
    Success2 {
        /// Transaction identifier.
        tid: u16,
    },
    /// `AUTH_Failure1`.
    Failure1(Failure),
    /// `AUTH_Failure2`.
    Failure2(Failure),
}

fn truncated(what: &'static str, need: usize, got: usize) -> ParseError {
    ParseError::Truncated { what, need, got }
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The 16-byte head shared by Challenge, Reply and Success1/2 (8 bytes for the rest).
fn head(auth_type: u8, id: u8, tid: u16, len: usize) -> Vec<u8> {
    let mut b = vec![0; len];
    b[0] = auth_type;
    b[1] = id;
    b[4..6].copy_from_slice(&tid.to_le_bytes());
    b
}

impl AuthMessage {
    /// Decodes one message from the start of `b` (a Send's data or a Receive's buffer;
    /// bytes after the message are ignored). Errors name the offending field.
    pub fn parse(b: &[u8]) -> Result<Self, ParseError> {
        if b.len() < 8 {
            return Err(truncated("authentication message", 8, b.len()));
        }
        let tid = le16(b, 4);
        // HL is a digest length: only those of the defined hashes are accepted.
        let hash_len = |hl: u8, what| match hl {
            32 | 48 | 64 => Ok(usize::from(hl)),
            _ => Err(ParseError::InvalidField { what, offset: 6 }),
        };
        match (b[0], b[1]) {
            (TYPE_COMMON, message::NEGOTIATE) => {
                let what = "AUTH_Negotiate";
                let napd = usize::from(b[7]);
                if napd == 0 {
                    return Err(ParseError::InvalidField { what, offset: 7 });
                }
                let need = 8 + DESCRIPTOR_LEN * napd;
                if b.len() < need {
                    return Err(truncated(what, need, b.len()));
                }
                // The DH-HMAC-CHAP descriptor, wherever the host put it.
                let d = (0..napd)
                    .map(|i| &b[8 + i * DESCRIPTOR_LEN..8 + (i + 1) * DESCRIPTOR_LEN])
                    .find(|d| d[0] == AUTHID_DHCHAP)
                    .ok_or(ParseError::InvalidField { what, offset: 8 })?;
                let (halen, dhlen) = (usize::from(d[2]), usize::from(d[3]));
                if halen > MAX_IDS {
                    return Err(ParseError::InvalidField { what, offset: 10 });
                }
                if dhlen > MAX_IDS {
                    return Err(ParseError::InvalidField { what, offset: 11 });
                }
                Ok(AuthMessage::Negotiate(Negotiate {
                    tid,
                    sc_c: b[6],
                    hashes: d[4..4 + halen].to_vec(),
                    dh_groups: d[4 + MAX_IDS..4 + MAX_IDS + dhlen].to_vec(),
                }))
            }
            (TYPE_DHCHAP, message::CHALLENGE) => {
                let what = "DH-HMAC-CHAP_Challenge";
                if b.len() < 16 {
                    return Err(truncated(what, 16, b.len()));
                }
                let hl = hash_len(b[6], what)?;
                let dhvlen = usize::from(le16(b, 10));
                let need = 16 + hl + dhvlen;
                if b.len() < need {
                    return Err(truncated(what, need, b.len()));
                }
                Ok(AuthMessage::Challenge(Challenge {
                    tid,
                    hash: b[8],
                    dh_group: b[9],
                    seqnum: le32(b, 12),
                    challenge: b[16..16 + hl].to_vec(),
                    dh_value: b[16 + hl..need].to_vec(),
                }))
            }
            (TYPE_DHCHAP, message::REPLY) => {
                let what = "DH-HMAC-CHAP_Reply";
                if b.len() < 16 {
                    return Err(truncated(what, 16, b.len()));
                }
                let hl = hash_len(b[6], what)?;
                let dhvlen = usize::from(le16(b, 10));
                let need = 16 + 2 * hl + dhvlen;
                if b.len() < need {
                    return Err(truncated(what, need, b.len()));
                }
                Ok(AuthMessage::Reply(Reply {
                    tid,
                    response: b[16..16 + hl].to_vec(),
                    challenge_valid: b[8] & 1 != 0,
                    seqnum: le32(b, 12),
                    challenge: b[16 + hl..16 + 2 * hl].to_vec(),
                    dh_value: b[16 + 2 * hl..need].to_vec(),
                }))
            }
            (TYPE_DHCHAP, message::SUCCESS1) => {
                let what = "DH-HMAC-CHAP_Success1";
                if b.len() < 16 {
                    return Err(truncated(what, 16, b.len()));
                }
                let hl = hash_len(b[6], what)?;
                let response = if b[8] & 1 != 0 {
                    if b.len() < 16 + hl {
                        return Err(truncated(what, 16 + hl, b.len()));
                    }
                    Some(b[16..16 + hl].to_vec())
                } else {
                    None
                };
                Ok(AuthMessage::Success1(Success1 { tid, hash_len: b[6], response }))
            }
            (TYPE_DHCHAP, message::SUCCESS2) => {
                if b.len() < 16 {
                    return Err(truncated("DH-HMAC-CHAP_Success2", 16, b.len()));
                }
                Ok(AuthMessage::Success2 { tid })
            }
            (TYPE_COMMON, id @ (message::FAILURE1 | message::FAILURE2)) => {
                let f = Failure { tid, reason: b[6], explanation: b[7] };
                Ok(if id == message::FAILURE1 {
                    AuthMessage::Failure1(f)
                } else {
                    AuthMessage::Failure2(f)
                })
            }
            (TYPE_COMMON | TYPE_DHCHAP, _) => {
                Err(ParseError::InvalidField { what: "authentication message", offset: 1 })
            }
            _ => Err(ParseError::InvalidField { what: "authentication message", offset: 0 }),
        }
    }

    /// The transaction identifier the message carries.
    pub fn tid(&self) -> u16 {
        match self {
            AuthMessage::Negotiate(m) => m.tid,
            AuthMessage::Challenge(m) => m.tid,
            AuthMessage::Reply(m) => m.tid,
            AuthMessage::Success1(m) => m.tid,
            AuthMessage::Success2 { tid } => *tid,
            AuthMessage::Failure1(f) | AuthMessage::Failure2(f) => f.tid,
        }
    }

    /// Encodes the message. Lists and values longer than their fields allow are cut to
    /// fit (callers build them from the defined identifiers and digest lengths).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            AuthMessage::Negotiate(m) => {
                let mut b = head(TYPE_COMMON, message::NEGOTIATE, m.tid, 8 + DESCRIPTOR_LEN);
                b[6] = m.sc_c;
                b[7] = 1;
                let hashes = &m.hashes[..m.hashes.len().min(MAX_IDS)];
                let groups = &m.dh_groups[..m.dh_groups.len().min(MAX_IDS)];
                b[8] = AUTHID_DHCHAP;
                b[10] = hashes.len() as u8;
                b[11] = groups.len() as u8;
                b[12..12 + hashes.len()].copy_from_slice(hashes);
                b[12 + MAX_IDS..12 + MAX_IDS + groups.len()].copy_from_slice(groups);
                b
            }
            AuthMessage::Challenge(m) => {
                let hl = m.challenge.len().min(usize::from(u8::MAX));
                let dhvlen = m.dh_value.len().min(usize::from(u16::MAX));
                let mut b = head(TYPE_DHCHAP, message::CHALLENGE, m.tid, 16 + hl + dhvlen);
                b[6] = hl as u8;
                b[8] = m.hash;
                b[9] = m.dh_group;
                b[10..12].copy_from_slice(&(dhvlen as u16).to_le_bytes());
                b[12..16].copy_from_slice(&m.seqnum.to_le_bytes());
                b[16..16 + hl].copy_from_slice(&m.challenge[..hl]);
                b[16 + hl..].copy_from_slice(&m.dh_value[..dhvlen]);
                b
            }
            AuthMessage::Reply(m) => {
                let hl = m.response.len().min(usize::from(u8::MAX));
                let dhvlen = m.dh_value.len().min(usize::from(u16::MAX));
                let mut b = head(TYPE_DHCHAP, message::REPLY, m.tid, 16 + 2 * hl + dhvlen);
                b[6] = hl as u8;
                b[8] = u8::from(m.challenge_valid);
                b[10..12].copy_from_slice(&(dhvlen as u16).to_le_bytes());
                b[12..16].copy_from_slice(&m.seqnum.to_le_bytes());
                b[16..16 + hl].copy_from_slice(&m.response[..hl]);
                let c = m.challenge.len().min(hl);
                b[16 + hl..16 + hl + c].copy_from_slice(&m.challenge[..c]);
                b[16 + 2 * hl..].copy_from_slice(&m.dh_value[..dhvlen]);
                b
            }
            AuthMessage::Success1(m) => {
                let r = m.response.as_deref().unwrap_or_default();
                let mut b = head(TYPE_DHCHAP, message::SUCCESS1, m.tid, 16 + r.len());
                b[6] = m.hash_len;
                b[8] = u8::from(m.response.is_some());
                b[16..].copy_from_slice(r);
                b
            }
            AuthMessage::Success2 { tid } => head(TYPE_DHCHAP, message::SUCCESS2, *tid, 16),
            AuthMessage::Failure1(f) | AuthMessage::Failure2(f) => {
                let id = if matches!(self, AuthMessage::Failure1(_)) {
                    message::FAILURE1
                } else {
                    message::FAILURE2
                };
                let mut b = head(TYPE_COMMON, id, f.tid, 8);
                b[6] = f.reason;
                b[7] = f.explanation;
                b
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn linux_negotiate_layout_decodes() {
        // What Linux's host sends: one descriptor, SHA-256/384/512, groups NULL..8192.
        let mut b = vec![0u8; 72];
        b[4] = 7; // T_ID 7
        b[7] = 1;
        b[8] = AUTHID_DHCHAP;
        b[10] = 3;
        b[11] = 6;
        b[12..15].copy_from_slice(&[1, 2, 3]);
        b[42..48].copy_from_slice(&[0, 1, 2, 3, 4, 5]);
        let AuthMessage::Negotiate(n) = AuthMessage::parse(&b).unwrap() else { panic!() };
        assert_eq!((n.tid, n.sc_c), (7, 0));
        assert_eq!(n.hashes, [1, 2, 3]);
        assert_eq!(n.dh_groups, [0, 1, 2, 3, 4, 5]);
        assert_eq!(AuthMessage::Negotiate(n).to_bytes(), b);
    }

    #[test]
    fn every_message_round_trips() {
        let msgs = [
            AuthMessage::Challenge(Challenge {
                tid: 1,
                hash: hash::SHA384,
                dh_group: dh_group::NULL,
                seqnum: 0xDEAD_BEEF,
                challenge: vec![9; 48],
                dh_value: Vec::new(),
            }),
            AuthMessage::Reply(Reply {
                tid: 2,
                response: vec![1; 32],
                challenge_valid: true,
                seqnum: 5,
                challenge: vec![2; 32],
                dh_value: vec![3; 7],
            }),
            AuthMessage::Success1(Success1 { tid: 3, hash_len: 64, response: Some(vec![4; 64]) }),
            AuthMessage::Success1(Success1 { tid: 3, hash_len: 32, response: None }),
            AuthMessage::Success2 { tid: 4 },
            AuthMessage::Failure1(Failure { tid: 5, reason: 1, explanation: failure::FAILED }),
            AuthMessage::Failure2(Failure { tid: 6, reason: 1, explanation: failure::FAILED }),
        ];
        for m in msgs {
            let b = m.to_bytes();
            assert_eq!(AuthMessage::parse(&b).unwrap(), m, "{m:?}");
            assert_eq!(AuthMessage::parse(&b).unwrap().tid(), m.tid());
            // A prefix never panics; one without the common head is refused.
            for cut in 0..b.len() {
                let r = AuthMessage::parse(&b[..cut]);
                assert!(cut >= 8 || r.is_err());
            }
        }
    }

    #[test]
    fn malformed_messages_are_refused() {
        let mut reply = AuthMessage::Reply(Reply {
            tid: 0,
            response: vec![1; 32],
            challenge_valid: false,
            seqnum: 0,
            challenge: vec![0; 32],
            dh_value: Vec::new(),
        })
        .to_bytes();
        // Cut: the response and C2 no longer fit.
        assert!(matches!(AuthMessage::parse(&reply[..70]), Err(ParseError::Truncated { .. })));
        // A hash length that is no digest length.
        reply[6] = 31;
        assert!(matches!(
            AuthMessage::parse(&reply),
            Err(ParseError::InvalidField { offset: 6, .. })
        ));
        // Unknown AUTH-TYPE and AUTH-ID.
        assert!(AuthMessage::parse(&[2, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(AuthMessage::parse(&[1, 9, 0, 0, 0, 0, 0, 0]).is_err());
        // Negotiate: no descriptor, no DH-HMAC-CHAP descriptor, oversized ID lists.
        let mut n = vec![0u8; 72];
        assert!(AuthMessage::parse(&n).is_err());
        n[7] = 1;
        assert!(AuthMessage::parse(&n).is_err());
        n[8] = AUTHID_DHCHAP;
        n[10] = 31;
        assert!(AuthMessage::parse(&n).is_err());
        n[10] = 1;
        n[11] = 31;
        assert!(AuthMessage::parse(&n).is_err());
        n[11] = 1;
        assert!(AuthMessage::parse(&n).is_ok());
        n[7] = 2;
        assert!(matches!(AuthMessage::parse(&n), Err(ParseError::Truncated { need: 136, .. })));
    }

    #[test]
    fn transfer_fields_sit_in_cdw10_and_cdw11() {
        let mut sqe = Sqe::new(crate::sqe::admin_opcode::FABRICS, 1);
        AuthTransfer::dhchap(72).write(&mut sqe);
        assert_eq!(sqe.cdw[0], 0xE901_0100);
        let t = AuthTransfer::parse(&sqe);
        assert!(t.is_dhchap());
        assert_eq!(t.len, 72);
        assert!(!AuthTransfer { spsp1: 0, ..t }.is_dhchap());
    }
}
