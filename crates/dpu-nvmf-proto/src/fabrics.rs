//! Fabrics commands: opcode 7Fh with a Fabrics Command Type (FCTYPE) in byte 4
//! (NVMe-oF 1.1 §3 "Fabrics Command Set"; NVMe Base 2.0 §6 "Fabrics Command Set").
//!
//! * Connect (FCTYPE 01h) creates the admin or an I/O queue; its 1024-byte
//!   [`ConnectData`] travels as in-capsule data on NVMe/TCP.
//! * Property Get (04h) / Property Set (00h) replace register access.
//! * Disconnect (08h) and Authentication Send/Receive (05h/06h) are decoded so a
//!   target can answer them.
//!
//! Byte offsets of every field are exported (`OFFSET_*`) so that a target can fill
//! the IPO of a Connect Invalid Parameters completion
//! ([`Cqe::connect_invalid_param`](crate::Cqe::connect_invalid_param)).

use crate::auth::AuthTransfer;
use crate::error::ParseError;
use crate::sqe::{SglDescriptor, Sqe, admin_opcode};

/// FCTYPE values (NVMe-oF 1.1 "Fabrics Command Set").
pub mod fctype {
    /// Property Set.
    pub const PROPERTY_SET: u8 = 0x00;
    /// Connect.
    pub const CONNECT: u8 = 0x01;
    /// Property Get.
    pub const PROPERTY_GET: u8 = 0x04;
    /// Authentication Send.
    pub const AUTH_SEND: u8 = 0x05;
    /// Authentication Receive.
    pub const AUTH_RECV: u8 = 0x06;
    /// Disconnect.
    pub const DISCONNECT: u8 = 0x08;
}

/// Controller property offsets (NVMe Base 2.0 §3.1.4).
pub mod property {
    /// CAP: Controller Capabilities (8 bytes).
    pub const CAP: u32 = 0x00;
    /// VS: Version (4 bytes).
    pub const VS: u32 = 0x08;
    /// CC: Controller Configuration (4 bytes).
    pub const CC: u32 = 0x14;
    /// CSTS: Controller Status (4 bytes).
    pub const CSTS: u32 = 0x1C;
    /// NSSR: NVM Subsystem Reset (4 bytes).
    pub const NSSR: u32 = 0x20;
}

/// Well-known NQN of a discovery controller (NVMe Base 2.0 §4.5).
pub const DISCOVERY_NQN: &str = "nqn.2014-08.org.nvmexpress.discovery";
/// Length of the Connect data.
pub const CONNECT_DATA_LEN: usize = 1024;
/// Size of an NQN field in the Connect data (including the NUL terminator).
pub const NQN_FIELD_LEN: usize = 256;
/// Longest NQN allowed: 223 bytes of UTF-8 (NVMe Base 2.0 §4.5).
pub const NQN_MAX_LEN: usize = 223;
/// Host-defined CNTLID meaning "any controller" in a Connect to a dynamic subsystem.
pub const CNTLID_DYNAMIC: u16 = 0xFFFF;
/// Connect response DW0 bit 17, AUTHREQ ATR: the queue must authenticate (in-band,
/// DH-HMAC-CHAP) before the controller runs other commands on it (NVMe Base 2.2 §6.3).
pub const CONNECT_AUTHREQ_ATR: u32 = 1 << 17;
/// Connect response DW0 bit 18, AUTHREQ ASCR: the controller requires a secure channel
/// (TLS, set up by secure channel concatenation after authentication; NVMe Base 2.2
/// §6.3), which Linux's host refuses unless it was asked to concatenate.
pub const CONNECT_AUTHREQ_ASCR: u32 = 1 << 18;

/// Connect command fields (SQE part), NVMe-oF 1.1 "Connect Command and Response".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectCmd {
    /// Record format; 0 is the only one defined.
    pub recfmt: u16,
    /// Queue to create: 0 = admin queue.
    pub qid: u16,
    /// Submission queue size, 0's based.
    pub sqsize: u16,
    /// Connect attributes (bit 2: Disable SQ Flow Control, Linux's
    /// `NVME_CONNECT_DISABLE_SQFLOW`; bits 1:0 priority).
    pub cattr: u8,
    /// Keep alive timeout in milliseconds (admin queue only).
    pub kato: u32,
}

impl ConnectCmd {
    /// Offset of RECFMT in the SQE.
    pub const OFFSET_RECFMT: u16 = 40;
    /// Offset of QID in the SQE.
    pub const OFFSET_QID: u16 = 42;
    /// Offset of SQSIZE in the SQE.
    pub const OFFSET_SQSIZE: u16 = 44;
    /// Offset of CATTR in the SQE.
    pub const OFFSET_CATTR: u16 = 46;
    /// Offset of KATO in the SQE.
    pub const OFFSET_KATO: u16 = 48;

    /// Builds the SQE (with an in-capsule SGL for the 1024-byte Connect data).
    #[must_use]
    pub fn to_sqe(&self, cid: u16) -> Sqe {
        let mut s = fabrics_sqe(fctype::CONNECT, cid);
        s.cdw[0] = u32::from(self.recfmt) | (u32::from(self.qid) << 16);
        s.cdw[1] = u32::from(self.sqsize) | (u32::from(self.cattr) << 16);
        s.cdw[2] = self.kato;
        s.set_sgl(SglDescriptor::in_capsule(CONNECT_DATA_LEN as u32));
        s
    }
}

/// Property Get command fields, NVMe-oF 1.1 "Property Get Command and Response".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PropertyGetCmd {
    /// Property size: false = 4 bytes, true = 8 bytes (ATTRIB bits 2:0 = 0 or 1).
    pub eight_bytes: bool,
    /// Property offset (see [`property`]).
    pub offset: u32,
}

impl PropertyGetCmd {
    /// Builds the SQE.
    #[must_use]
    pub fn to_sqe(&self, cid: u16) -> Sqe {
        let mut s = fabrics_sqe(fctype::PROPERTY_GET, cid);
        s.cdw[0] = u32::from(self.eight_bytes);
        s.cdw[1] = self.offset;
        s
    }
}

/// Property Set command fields, NVMe-oF 1.1 "Property Set Command and Response".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PropertySetCmd {
    /// Property size: false = 4 bytes, true = 8 bytes.
    pub eight_bytes: bool,
    /// Property offset.
    pub offset: u32,
    /// Value (only the low 4 bytes for a 4-byte property).
    pub value: u64,
}

impl PropertySetCmd {
    /// Builds the SQE.
    #[must_use]
    pub fn to_sqe(&self, cid: u16) -> Sqe {
        let mut s = fabrics_sqe(fctype::PROPERTY_SET, cid);
        s.cdw[0] = u32::from(self.eight_bytes);
        s.cdw[1] = self.offset;
        s.cdw[2] = self.value as u32;
        s.cdw[3] = (self.value >> 32) as u32;
        s
    }
}

/// A decoded Fabrics command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FabricsCommand {
    /// Connect.
    Connect(ConnectCmd),
    /// Property Get.
    PropertyGet(PropertyGetCmd),
    /// Property Set.
    PropertySet(PropertySetCmd),
    /// Disconnect (RECFMT).
    Disconnect {
        /// Record format.
        recfmt: u16,
    },
    /// Authentication Send.
    AuthSend(AuthTransfer),
    /// Authentication Receive.
    AuthRecv(AuthTransfer),
    /// Any other FCTYPE (answer Invalid Opcode / Invalid Field).
    Other(u8),
}

fn fabrics_sqe(fctype: u8, cid: u16) -> Sqe {
    let mut s = Sqe::new(admin_opcode::FABRICS, cid);
    s.nsid = u32::from(fctype);
    s
}

impl FabricsCommand {
    /// Offset of FCTYPE in the SQE.
    pub const OFFSET_FCTYPE: usize = 4;

    /// Decodes the Fabrics-specific fields of `sqe`.
    ///
    /// Errors only if `sqe` is not a Fabrics command or has an invalid property
    /// size (ATTRIB other than 0 or 1, reported at byte 40).
    pub fn parse(sqe: &Sqe) -> Result<Self, ParseError> {
        if !sqe.is_fabrics() {
            return Err(ParseError::InvalidField { what: "Fabrics command", offset: 0 });
        }
        let c = &sqe.cdw;
        Ok(match sqe.fctype() {
            fctype::CONNECT => FabricsCommand::Connect(ConnectCmd {
                recfmt: c[0] as u16,
                qid: (c[0] >> 16) as u16,
                sqsize: c[1] as u16,
                cattr: (c[1] >> 16) as u8,
                kato: c[2],
            }),
            fctype::PROPERTY_GET => FabricsCommand::PropertyGet(PropertyGetCmd {
                eight_bytes: prop_size(c[0])?,
                offset: c[1],
            }),
            fctype::PROPERTY_SET => FabricsCommand::PropertySet(PropertySetCmd {
                eight_bytes: prop_size(c[0])?,
                offset: c[1],
                value: (u64::from(c[3]) << 32) | u64::from(c[2]),
            }),
            fctype::DISCONNECT => FabricsCommand::Disconnect { recfmt: c[0] as u16 },
            fctype::AUTH_SEND => FabricsCommand::AuthSend(AuthTransfer::parse(sqe)),
            fctype::AUTH_RECV => FabricsCommand::AuthRecv(AuthTransfer::parse(sqe)),
            other => FabricsCommand::Other(other),
        })
    }
}

impl AuthTransfer {
    /// An Authentication Send command carrying these fields.
    pub fn to_send_sqe(&self, cid: u16) -> Sqe {
        let mut s = fabrics_sqe(fctype::AUTH_SEND, cid);
        self.write(&mut s);
        s
    }

    /// An Authentication Receive command carrying these fields.
    pub fn to_receive_sqe(&self, cid: u16) -> Sqe {
        let mut s = fabrics_sqe(fctype::AUTH_RECV, cid);
        self.write(&mut s);
        s
    }
}

fn prop_size(cdw10: u32) -> Result<bool, ParseError> {
    match cdw10 & 0x7 {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(ParseError::InvalidField { what: "property ATTRIB", offset: 40 }),
    }
}

/// The 1024-byte Connect data (NVMe-oF 1.1 "Connect Command and Response", Connect data).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConnectData {
    /// Host identifier (a UUID).
    pub hostid: [u8; 16],
    /// Controller ID: [`CNTLID_DYNAMIC`] on the admin queue of a dynamic
    /// controller model, the assigned CNTLID on I/O queues.
    pub cntlid: u16,
    /// NQN of the subsystem to connect to.
    pub subnqn: String,
    /// NQN of the host.
    pub hostnqn: String,
}

impl ConnectData {
    /// Offset of HOSTID.
    pub const OFFSET_HOSTID: u16 = 0;
    /// Offset of CNTLID.
    pub const OFFSET_CNTLID: u16 = 16;
    /// Offset of SUBNQN.
    pub const OFFSET_SUBNQN: u16 = 256;
    /// Offset of HOSTNQN.
    pub const OFFSET_HOSTNQN: u16 = 512;

    /// Decodes the first 1024 bytes of `b`. NQNs must be NUL-terminated UTF-8 of
    /// at most [`NQN_MAX_LEN`] bytes without control characters; errors carry the offset
    /// of the bad field.
    pub fn parse(b: &[u8]) -> Result<Self, ParseError> {
        let b = b.get(..CONNECT_DATA_LEN).ok_or(ParseError::Truncated {
            what: "Connect data",
            need: CONNECT_DATA_LEN,
            got: b.len(),
        })?;
        let mut hostid = [0u8; 16];
        hostid.copy_from_slice(&b[0..16]);
        Ok(Self {
            hostid,
            cntlid: u16::from_le_bytes([b[16], b[17]]),
            subnqn: parse_nqn(b, Self::OFFSET_SUBNQN.into())?,
            hostnqn: parse_nqn(b, Self::OFFSET_HOSTNQN.into())?,
        })
    }

    /// Encodes to 1024 bytes. NQNs longer than 255 bytes are truncated so the
    /// terminating NUL always fits (such NQNs are invalid anyway).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![0u8; CONNECT_DATA_LEN];
        b[0..16].copy_from_slice(&self.hostid);
        b[16..18].copy_from_slice(&self.cntlid.to_le_bytes());
        for (off, s) in [
            (usize::from(Self::OFFSET_SUBNQN), &self.subnqn),
            (usize::from(Self::OFFSET_HOSTNQN), &self.hostnqn),
        ] {
            let n = s.len().min(NQN_FIELD_LEN - 1);
            b[off..off + n].copy_from_slice(&s.as_bytes()[..n]);
        }
        b
    }
}

fn parse_nqn(b: &[u8], off: usize) -> Result<String, ParseError> {
    let bad = ParseError::InvalidField { what: "NQN", offset: off };
    let field = b.get(off..off + NQN_FIELD_LEN).ok_or(bad)?;
    let len = field.iter().position(|&c| c == 0).ok_or(bad)?;
    if len == 0 || len > NQN_MAX_LEN {
        return Err(bad);
    }
    let nqn = std::str::from_utf8(&field[..len]).map_err(|_| bad)?;
    // No control characters (C0, DEL, C1): a host's NQN is kept and shown to the
    // operator, and NVMe Base 2.0 §4.5 names no use for them.
    if nqn.chars().any(char::is_control) {
        return Err(bad);
    }
    Ok(nqn.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_data() -> ConnectData {
        ConnectData {
            hostid: *b"0123456789abcdef",
            cntlid: CNTLID_DYNAMIC,
            subnqn: "nqn.2024-01.io.example:vol1".into(),
            hostnqn: "nqn.2014-08.org.nvmexpress:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427".into(),
        }
    }

    #[test]
    fn connect_roundtrip() {
        let cmd = ConnectCmd { recfmt: 0, qid: 3, sqsize: 127, cattr: 0, kato: 0 };
        let sqe = cmd.to_sqe(9);
        let b = sqe.to_bytes();
        assert_eq!(b[0], 0x7F);
        assert_eq!(b[4], 0x01);
        assert_eq!(&b[42..44], &3u16.to_le_bytes());
        assert_eq!(&b[44..46], &127u16.to_le_bytes());
        assert_eq!(b[39], 0x01, "in-capsule SGL");
        assert_eq!(FabricsCommand::parse(&Sqe::from_bytes(&b)), Ok(FabricsCommand::Connect(cmd)));
        let d = sample_data();
        let raw = d.to_bytes();
        assert_eq!(raw.len(), 1024);
        assert_eq!(&raw[16..18], &[0xFF, 0xFF]);
        assert_eq!(&raw[256..260], b"nqn.");
        assert_eq!(ConnectData::parse(&raw), Ok(d));
    }

    #[test]
    fn property_roundtrip() {
        let g = PropertyGetCmd { eight_bytes: true, offset: property::CAP };
        assert_eq!(FabricsCommand::parse(&g.to_sqe(1)), Ok(FabricsCommand::PropertyGet(g)));
        let s = PropertySetCmd { eight_bytes: false, offset: property::CC, value: 0x0046_0001 };
        let b = s.to_sqe(2).to_bytes();
        assert_eq!(b[4], 0x00);
        assert_eq!(&b[44..48], &0x14u32.to_le_bytes());
        assert_eq!(&b[48..52], &0x0046_0001u32.to_le_bytes());
        assert_eq!(FabricsCommand::parse(&Sqe::from_bytes(&b)), Ok(FabricsCommand::PropertySet(s)));
        let mut bad = g.to_sqe(1);
        bad.cdw[0] = 2;
        assert_eq!(
            FabricsCommand::parse(&bad),
            Err(ParseError::InvalidField { what: "property ATTRIB", offset: 40 })
        );
    }

    #[test]
    fn connect_data_bad_nqns() {
        let mut raw = sample_data().to_bytes();
        raw[256..512].fill(b'a');
        assert!(matches!(
            ConnectData::parse(&raw),
            Err(ParseError::InvalidField { offset: 256, .. })
        ));
        let mut raw = sample_data().to_bytes();
        raw[512] = 0xFF;
        assert!(matches!(
            ConnectData::parse(&raw),
            Err(ParseError::InvalidField { offset: 512, .. })
        ));
        let mut raw = sample_data().to_bytes();
        raw[512..768].fill(0);
        assert!(matches!(
            ConnectData::parse(&raw),
            Err(ParseError::InvalidField { offset: 512, .. })
        ));
        assert!(matches!(
            ConnectData::parse(&raw[..1000]),
            Err(ParseError::Truncated { need: 1024, .. })
        ));
        // Control characters (C0, DEL, C1): an NQN a host sends is shown to the operator.
        for (off, bad) in [(512, "\u{1b}[2J"), (512, "\n"), (256, "\u{7f}"), (512, "\u{85}")] {
            let mut d = sample_data();
            let nqn = if off == 256 { &mut d.subnqn } else { &mut d.hostnqn };
            nqn.insert_str(4, bad);
            assert_eq!(
                ConnectData::parse(&d.to_bytes()),
                Err(ParseError::InvalidField { what: "NQN", offset: off }),
                "{bad:?}"
            );
        }
        let mut d = sample_data();
        d.hostnqn.push_str(":h\u{f6}st");
        assert_eq!(ConnectData::parse(&d.to_bytes()), Ok(d), "other UTF-8 is allowed");
    }

    #[test]
    fn non_fabrics_rejected() {
        let s = Sqe::new(0x02, 1);
        assert!(FabricsCommand::parse(&s).is_err());
        let mut o = fabrics_sqe(0x7E, 1);
        o.cid = 5;
        assert_eq!(FabricsCommand::parse(&o), Ok(FabricsCommand::Other(0x7E)));
        assert_eq!(
            FabricsCommand::parse(&fabrics_sqe(fctype::DISCONNECT, 1)),
            Ok(FabricsCommand::Disconnect { recfmt: 0 })
        );
    }
}
