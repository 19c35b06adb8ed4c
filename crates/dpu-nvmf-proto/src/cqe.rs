//! The 16-byte completion queue entry and the status field
//! (NVMe Base 2.0 §4.6 "Completion Queue Entry", §4.6.1 "Status Field Definition").
//!
//! Layout: DW0 (command specific) at 0..4, DW1 at 4..8, SQHD at 8..10, SQID at
//! 10..12, CID at 12..14 and at 14..16 the phase tag (bit 0) followed by the 15-bit
//! status field:
//!
//! | status bits | field |
//! |---|---|
//! | 7:0 | SC status code |
//! | 10:8 | SCT status code type |
//! | 12:11 | CRD command retry delay |
//! | 13 | M more (log page has detail) |
//! | 14 | DNR do not retry |
//!
//! [`Status`] holds those 15 bits without the phase tag (the same convention as the
//! Linux `NVME_SC_*` values), so `Status::LBA_OUT_OF_RANGE.with_dnr()` reads naturally.
//! Fabrics has no phase tag semantics; we send it as 0.

use std::fmt;

use crate::error::ParseError;

/// Length of a completion queue entry.
pub const CQE_LEN: usize = 16;

/// Status code types (SCT).
pub mod sct {
    /// 0h Generic Command Status.
    pub const GENERIC: u8 = 0x0;
    /// 1h Command Specific Status.
    pub const COMMAND_SPECIFIC: u8 = 0x1;
    /// 2h Media and Data Integrity Errors.
    pub const MEDIA: u8 = 0x2;
    /// 3h Path Related Status.
    pub const PATH: u8 = 0x3;
    /// 7h Vendor Specific.
    pub const VENDOR: u8 = 0x7;
}

/// The 15-bit status field of a CQE (phase tag excluded).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Status(u16);

impl Status {
    const DNR_BIT: u16 = 1 << 14;
    const MORE_BIT: u16 = 1 << 13;

    /// From the raw 15-bit value (bit 15 ignored).
    #[must_use]
    pub const fn from_raw(raw: u16) -> Self {
        Status(raw & 0x7FFF)
    }

    /// The raw 15-bit value.
    #[must_use]
    pub const fn raw(self) -> u16 {
        self.0
    }

    /// Status with the given SCT and SC, other bits clear.
    #[must_use]
    pub const fn new(sct: u8, sc: u8) -> Self {
        Status((((sct & 0x7) as u16) << 8) | sc as u16)
    }

    /// Status Code.
    #[must_use]
    pub const fn sc(self) -> u8 {
        (self.0 & 0xFF) as u8
    }

    /// Status Code Type.
    #[must_use]
    pub const fn sct(self) -> u8 {
        ((self.0 >> 8) & 0x7) as u8
    }

    /// Command Retry Delay index (0..=3).
    #[must_use]
    pub const fn crd(self) -> u8 {
        ((self.0 >> 11) & 0x3) as u8
    }

    /// More bit.
    #[must_use]
    pub const fn more(self) -> bool {
        self.0 & Self::MORE_BIT != 0
    }

    /// Do Not Retry bit.
    #[must_use]
    pub const fn dnr(self) -> bool {
        self.0 & Self::DNR_BIT != 0
    }

    /// The status code type and code alone: CRD, More and DNR cleared, so a status
    /// compares with the named constants whatever its flags.
    #[must_use]
    pub const fn code(self) -> Self {
        Status(self.0 & 0x7FF)
    }

    /// Whether this is Successful Completion (SCT 0, SC 0; DNR/M/CRD ignored).
    #[must_use]
    pub const fn is_success(self) -> bool {
        self.code().0 == 0
    }

    /// The same status with DNR set.
    #[must_use]
    pub const fn with_dnr(self) -> Self {
        Status(self.0 | Self::DNR_BIT)
    }

    /// The same status with More set.
    #[must_use]
    pub const fn with_more(self) -> Self {
        Status(self.0 | Self::MORE_BIT)
    }

    /// The same status with CRD set to `crd` (0..=3).
    #[must_use]
    pub const fn with_crd(self, crd: u8) -> Self {
        Status((self.0 & !(0x3 << 11)) | (((crd & 0x3) as u16) << 11))
    }

    // --- Generic command status (SCT 0h), NVMe Base 2.0 "Generic Command Status Definition".
    /// 00h Successful Completion.
    pub const SUCCESS: Status = Status::new(sct::GENERIC, 0x00);
    /// 01h Invalid Command Opcode.
    pub const INVALID_OPCODE: Status = Status::new(sct::GENERIC, 0x01);
    /// 02h Invalid Field in Command.
    pub const INVALID_FIELD: Status = Status::new(sct::GENERIC, 0x02);
    /// 03h Command ID Conflict.
    pub const COMMAND_ID_CONFLICT: Status = Status::new(sct::GENERIC, 0x03);
    /// 04h Data Transfer Error.
    pub const DATA_TRANSFER_ERROR: Status = Status::new(sct::GENERIC, 0x04);
    /// 05h Commands Aborted due to Power Loss Notification.
    pub const ABORTED_POWER_LOSS: Status = Status::new(sct::GENERIC, 0x05);
    /// 06h Internal Error.
    pub const INTERNAL_ERROR: Status = Status::new(sct::GENERIC, 0x06);
    /// 07h Command Abort Requested.
    pub const ABORT_REQUESTED: Status = Status::new(sct::GENERIC, 0x07);
    /// 08h Command Aborted due to SQ Deletion.
    pub const ABORTED_SQ_DELETION: Status = Status::new(sct::GENERIC, 0x08);
    /// 0Bh Invalid Namespace or Format.
    pub const INVALID_NAMESPACE_OR_FORMAT: Status = Status::new(sct::GENERIC, 0x0B);
    /// 0Ch Command Sequence Error.
    pub const COMMAND_SEQUENCE_ERROR: Status = Status::new(sct::GENERIC, 0x0C);
    /// 0Dh Invalid SGL Segment Descriptor.
    pub const INVALID_SGL_SEGMENT_DESCRIPTOR: Status = Status::new(sct::GENERIC, 0x0D);
    /// 0Eh Invalid Number of SGL Descriptors.
    pub const INVALID_NUMBER_OF_SGL_DESCRIPTORS: Status = Status::new(sct::GENERIC, 0x0E);
    /// 0Fh Data SGL Length Invalid.
    pub const DATA_SGL_LENGTH_INVALID: Status = Status::new(sct::GENERIC, 0x0F);
    /// 10h Metadata SGL Length Invalid.
    pub const METADATA_SGL_LENGTH_INVALID: Status = Status::new(sct::GENERIC, 0x10);
    /// 11h SGL Descriptor Type Invalid.
    pub const SGL_DESCRIPTOR_TYPE_INVALID: Status = Status::new(sct::GENERIC, 0x11);
    /// 15h Operation Denied.
    pub const OPERATION_DENIED: Status = Status::new(sct::GENERIC, 0x15);
    /// 16h SGL Offset Invalid.
    pub const SGL_OFFSET_INVALID: Status = Status::new(sct::GENERIC, 0x16);
    /// 18h Host Identifier Inconsistent Format.
    pub const HOST_ID_INCONSISTENT_FORMAT: Status = Status::new(sct::GENERIC, 0x18);
    /// 19h Keep Alive Timer Expired.
    pub const KEEP_ALIVE_TIMER_EXPIRED: Status = Status::new(sct::GENERIC, 0x19);
    /// 1Ah Keep Alive Timeout Invalid.
    pub const KEEP_ALIVE_TIMEOUT_INVALID: Status = Status::new(sct::GENERIC, 0x1A);
    /// 20h Namespace is Write Protected.
    pub const NAMESPACE_WRITE_PROTECTED: Status = Status::new(sct::GENERIC, 0x20);
    /// 21h Command Interrupted.
    pub const COMMAND_INTERRUPTED: Status = Status::new(sct::GENERIC, 0x21);
    /// 22h Transient Transport Error (e.g. data digest mismatch, TCP 1.0 §3.3.2.2).
    pub const TRANSIENT_TRANSPORT_ERROR: Status = Status::new(sct::GENERIC, 0x22);
    /// 80h LBA Out of Range (NVM command set).
    pub const LBA_OUT_OF_RANGE: Status = Status::new(sct::GENERIC, 0x80);
    /// 81h Capacity Exceeded (NVM command set).
    pub const CAPACITY_EXCEEDED: Status = Status::new(sct::GENERIC, 0x81);
    /// 82h Namespace Not Ready (NVM command set).
    pub const NAMESPACE_NOT_READY: Status = Status::new(sct::GENERIC, 0x82);
    /// 83h Reservation Conflict.
    pub const RESERVATION_CONFLICT: Status = Status::new(sct::GENERIC, 0x83);

    // --- Command specific status (SCT 1h).
    /// 01h Invalid Queue Identifier.
    pub const INVALID_QUEUE_IDENTIFIER: Status = Status::new(sct::COMMAND_SPECIFIC, 0x01);
    /// 02h Invalid Queue Size.
    pub const INVALID_QUEUE_SIZE: Status = Status::new(sct::COMMAND_SPECIFIC, 0x02);
    /// 03h Abort Command Limit Exceeded.
    pub const ABORT_LIMIT_EXCEEDED: Status = Status::new(sct::COMMAND_SPECIFIC, 0x03);
    /// 05h Asynchronous Event Request Limit Exceeded.
    pub const ASYNC_EVENT_LIMIT_EXCEEDED: Status = Status::new(sct::COMMAND_SPECIFIC, 0x05);
    /// 09h Invalid Log Page.
    pub const INVALID_LOG_PAGE: Status = Status::new(sct::COMMAND_SPECIFIC, 0x09);
    /// 0Dh Feature Identifier Not Saveable.
    pub const FEATURE_NOT_SAVEABLE: Status = Status::new(sct::COMMAND_SPECIFIC, 0x0D);
    /// 0Eh Feature Not Changeable.
    pub const FEATURE_NOT_CHANGEABLE: Status = Status::new(sct::COMMAND_SPECIFIC, 0x0E);
    /// 82h Attempted Write to Read Only Range (NVM command set I/O commands).
    pub const WRITE_TO_READ_ONLY_RANGE: Status = Status::new(sct::COMMAND_SPECIFIC, 0x82);

    // --- Fabrics command status (SCT 1h), for Fabrics commands (NVMe-oF 1.1 "Fabrics Command Status Values").
    /// 80h Incompatible Format (Connect, Disconnect: RECFMT).
    pub const CONNECT_INCOMPATIBLE_FORMAT: Status = Status::new(sct::COMMAND_SPECIFIC, 0x80);
    /// 81h Controller Busy (Connect).
    pub const CONNECT_CONTROLLER_BUSY: Status = Status::new(sct::COMMAND_SPECIFIC, 0x81);
    /// 82h Connect Invalid Parameters; CQE DW0 carries IATTR/IPO
    /// (see [`Cqe::connect_invalid_param`]).
    pub const CONNECT_INVALID_PARAMETERS: Status = Status::new(sct::COMMAND_SPECIFIC, 0x82);
    /// 83h Connect Restart Discovery.
    pub const CONNECT_RESTART_DISCOVERY: Status = Status::new(sct::COMMAND_SPECIFIC, 0x83);
    /// 84h Connect Invalid Host.
    pub const CONNECT_INVALID_HOST: Status = Status::new(sct::COMMAND_SPECIFIC, 0x84);
    /// 85h Invalid Queue Type (Disconnect on the admin queue).
    pub const INVALID_QUEUE_TYPE: Status = Status::new(sct::COMMAND_SPECIFIC, 0x85);
    /// 90h Discover Restart (Get Log Page, discovery log).
    pub const DISCOVER_RESTART: Status = Status::new(sct::COMMAND_SPECIFIC, 0x90);
    /// 91h Authentication Required.
    pub const AUTH_REQUIRED: Status = Status::new(sct::COMMAND_SPECIFIC, 0x91);

    // --- Media and data integrity errors (SCT 2h).
    /// 80h Write Fault.
    pub const WRITE_FAULT: Status = Status::new(sct::MEDIA, 0x80);
    /// 81h Unrecovered Read Error.
    pub const UNRECOVERED_READ_ERROR: Status = Status::new(sct::MEDIA, 0x81);
    /// 85h Compare Failure.
    pub const COMPARE_FAILURE: Status = Status::new(sct::MEDIA, 0x85);
    /// 86h Access Denied.
    pub const ACCESS_DENIED: Status = Status::new(sct::MEDIA, 0x86);

    // --- Path related status (SCT 3h).
    /// 00h Internal Path Error.
    pub const INTERNAL_PATH_ERROR: Status = Status::new(sct::PATH, 0x00);
    /// 01h Asymmetric Access Persistent Loss.
    pub const ANA_PERSISTENT_LOSS: Status = Status::new(sct::PATH, 0x01);
    /// 02h Asymmetric Access Inaccessible.
    pub const ANA_INACCESSIBLE: Status = Status::new(sct::PATH, 0x02);
    /// 03h Asymmetric Access Transition.
    pub const ANA_TRANSITION: Status = Status::new(sct::PATH, 0x03);
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Status(sct={:#x}, sc={:#04x}", self.sct(), self.sc())?;
        if self.dnr() {
            f.write_str(", DNR")?;
        }
        if self.more() {
            f.write_str(", M")?;
        }
        if self.crd() != 0 {
            write!(f, ", CRD={}", self.crd())?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A completion queue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Cqe {
    /// DW0, command specific (Connect: CNTLID in bits 15:0; Property Get: value low).
    pub dw0: u32,
    /// DW1, command specific (Property Get: value high).
    pub dw1: u32,
    /// SQ head pointer.
    pub sqhd: u16,
    /// SQ identifier.
    pub sqid: u16,
    /// Command identifier.
    pub cid: u16,
    /// Phase tag (unused on fabrics; sent as false).
    pub phase: bool,
    /// Status field.
    pub status: Status,
}

impl Cqe {
    /// A completion for `cid` with `status`, other fields zero.
    #[must_use]
    pub fn new(cid: u16, status: Status) -> Self {
        Self { cid, status, ..Self::default() }
    }

    /// DW0+DW1 as one 64-bit value (Property Get result).
    #[must_use]
    pub const fn result64(&self) -> u64 {
        ((self.dw1 as u64) << 32) | self.dw0 as u64
    }

    /// Sets DW0+DW1 from a 64-bit value.
    pub fn set_result64(&mut self, v: u64) {
        self.dw0 = v as u32;
        self.dw1 = (v >> 32) as u32;
    }

    /// The Connect Invalid Parameters completion (NVMe-oF 1.1 "Connect Command and Response"):
    /// DW0 carries IPO (bits 15:0, byte offset of the invalid parameter) and IATTR
    /// (bit 16: 1 = the parameter is in the Connect data, 0 = in the SQE).
    #[must_use]
    pub fn connect_invalid_param(cid: u16, in_data: bool, offset: u16) -> Self {
        let mut c = Cqe::new(cid, Status::CONNECT_INVALID_PARAMETERS.with_dnr());
        c.dw0 = u32::from(offset) | (u32::from(in_data) << 16);
        c
    }

    /// Decodes 16 bytes.
    #[must_use]
    pub fn from_bytes(b: &[u8; CQE_LEN]) -> Self {
        let sf = u16::from_le_bytes([b[14], b[15]]);
        Self {
            dw0: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            dw1: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            sqhd: u16::from_le_bytes([b[8], b[9]]),
            sqid: u16::from_le_bytes([b[10], b[11]]),
            cid: u16::from_le_bytes([b[12], b[13]]),
            phase: sf & 1 != 0,
            status: Status::from_raw(sf >> 1),
        }
    }

    /// Decodes the first 16 bytes of `b`.
    pub fn parse(b: &[u8]) -> Result<Self, ParseError> {
        let arr: &[u8; CQE_LEN] = b
            .get(..CQE_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(ParseError::Truncated { what: "CQE", need: CQE_LEN, got: b.len() })?;
        Ok(Self::from_bytes(arr))
    }

    /// Encodes to 16 bytes.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; CQE_LEN] {
        let mut b = [0u8; CQE_LEN];
        b[0..4].copy_from_slice(&self.dw0.to_le_bytes());
        b[4..8].copy_from_slice(&self.dw1.to_le_bytes());
        b[8..10].copy_from_slice(&self.sqhd.to_le_bytes());
        b[10..12].copy_from_slice(&self.sqid.to_le_bytes());
        b[12..14].copy_from_slice(&self.cid.to_le_bytes());
        let sf = (self.status.raw() << 1) | u16::from(self.phase);
        b[14..16].copy_from_slice(&sf.to_le_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_encoding_matches_linux_values() {
        // Linux NVME_SC_* values use the same 15-bit convention.
        assert_eq!(Status::INVALID_FIELD.raw(), 0x2);
        assert_eq!(Status::LBA_OUT_OF_RANGE.raw(), 0x80);
        assert_eq!(Status::NAMESPACE_NOT_READY.raw(), 0x82);
        assert_eq!(Status::CONNECT_INVALID_PARAMETERS.raw(), 0x182);
        assert_eq!(Status::CONNECT_INVALID_HOST.raw(), 0x184);
        assert_eq!(Status::ACCESS_DENIED.raw(), 0x286);
        assert_eq!(Status::INVALID_FIELD.with_dnr().raw(), 0x4002);
        let s = Status::new(sct::MEDIA, 0x81).with_more().with_crd(2).with_dnr();
        assert_eq!((s.sct(), s.sc(), s.crd(), s.more(), s.dnr()), (2, 0x81, 2, true, true));
        assert_eq!(s.code(), Status::new(sct::MEDIA, 0x81));
        assert!(Status::SUCCESS.with_dnr().is_success());
        assert!(!Status::INVALID_OPCODE.is_success());
    }

    #[test]
    fn cqe_roundtrip_and_layout() {
        let mut c = Cqe::new(0x1234, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr());
        c.set_result64(0x1122_3344_5566_7788);
        c.sqhd = 7;
        c.sqid = 2;
        let b = c.to_bytes();
        assert_eq!(&b[12..14], &[0x34, 0x12]);
        // status field: (0x400B << 1) | phase 0 = 0x8016
        assert_eq!(&b[14..16], &[0x16, 0x80]);
        assert_eq!(Cqe::from_bytes(&b), c);
        assert_eq!(c.result64(), 0x1122_3344_5566_7788);
        let mut all = [0xFFu8; CQE_LEN];
        all[0] = 0;
        assert_eq!(Cqe::from_bytes(&all).to_bytes(), all);
    }

    #[test]
    fn connect_invalid_param_dw0() {
        let c = Cqe::connect_invalid_param(3, true, 256);
        assert_eq!(c.dw0, 0x0001_0100);
        assert!(c.status.dnr());
        assert_eq!(c.status.sc(), 0x82);
    }
}
