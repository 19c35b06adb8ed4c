//! The 64-byte submission queue entry and its SGL descriptor
//! (NVMe Base 2.0 §4.2 "Submission Queue Entry", §4.1.3/§4.3.2 "Scatter Gather List").
//!
//! Layout (all fields little-endian):
//!
//! | bytes | field |
//! |---|---|
//! | 0 | CDW0.OPC opcode |
//! | 1 | CDW0 bits 15:8: FUSE (1:0), reserved, PSDT (7:6) |
//! | 2..4 | CDW0.CID command identifier |
//! | 4..8 | NSID (for Fabrics commands byte 4 is FCTYPE) |
//! | 8..16 | CDW2, CDW3 |
//! | 16..24 | MPTR metadata pointer |
//! | 24..40 | DPTR: on fabrics always SGL1, one 16-byte SGL descriptor |
//! | 40..64 | CDW10..CDW15 |
//!
//! NVMe/TCP (TCP 1.0 §3.4.1, "Command capsules") uses two SGL descriptor shapes in SGL1:
//! * **SGL Data Block, sub type Offset** (`0x01`) for in-capsule data: address is the
//!   offset in the capsule's data, length the data length;
//! * **Transport SGL Data Block, sub type Transport specific** (`0x5A`) for data moved by
//!   C2HData, or R2T + H2CData: address 0, length the transfer length.
//!
//! Other descriptor types are decoded as [`SglDescriptor::Other`] so the target can
//! answer SGL Descriptor Type Invalid.

use crate::error::ParseError;

/// Length of a submission queue entry.
pub const SQE_LEN: usize = 64;
/// Length of an SGL descriptor.
pub const SGL_DESC_LEN: usize = 16;

/// Admin command opcodes a fabrics controller handles (NVMe Base 2.0 §5).
pub mod admin_opcode {
    /// Get Log Page.
    pub const GET_LOG_PAGE: u8 = 0x02;
    /// Identify.
    pub const IDENTIFY: u8 = 0x06;
    /// Abort.
    pub const ABORT: u8 = 0x08;
    /// Set Features.
    pub const SET_FEATURES: u8 = 0x09;
    /// Get Features.
    pub const GET_FEATURES: u8 = 0x0A;
    /// Asynchronous Event Request.
    pub const ASYNC_EVENT_REQUEST: u8 = 0x0C;
    /// Keep Alive.
    pub const KEEP_ALIVE: u8 = 0x18;
    /// Fabrics command (see [`crate::fabrics`]); same opcode on I/O queues.
    pub const FABRICS: u8 = 0x7F;
}

/// NVM command set I/O opcodes (NVM Command Set 1.0 §3).
pub mod io_opcode {
    /// Flush.
    pub const FLUSH: u8 = 0x00;
    /// Write.
    pub const WRITE: u8 = 0x01;
    /// Read.
    pub const READ: u8 = 0x02;
    /// Write Uncorrectable.
    pub const WRITE_UNCORRECTABLE: u8 = 0x04;
    /// Compare.
    pub const COMPARE: u8 = 0x05;
    /// Write Zeroes.
    pub const WRITE_ZEROES: u8 = 0x08;
    /// Verify.
    pub const VERIFY: u8 = 0x0C;
    /// Dataset Management.
    pub const DATASET_MANAGEMENT: u8 = 0x09;
    /// Reservation Register.
    pub const RESERVATION_REGISTER: u8 = 0x0D;
    /// Reservation Report.
    pub const RESERVATION_REPORT: u8 = 0x0E;
    /// Reservation Acquire.
    pub const RESERVATION_ACQUIRE: u8 = 0x11;
    /// Reservation Release.
    pub const RESERVATION_RELEASE: u8 = 0x15;
}

/// Data transfer direction, encoded in bits 1:0 of an opcode (or of a Fabrics FCTYPE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataDirection {
    /// 00b: no data transfer.
    None,
    /// 01b: host to controller (write-like).
    HostToController,
    /// 10b: controller to host (read-like).
    ControllerToHost,
    /// 11b: bidirectional.
    Bidirectional,
}

impl DataDirection {
    /// Direction from the low two bits of an opcode or FCTYPE.
    #[must_use]
    pub const fn from_opcode(op: u8) -> Self {
        match op & 0b11 {
            0b00 => DataDirection::None,
            0b01 => DataDirection::HostToController,
            0b10 => DataDirection::ControllerToHost,
            _ => DataDirection::Bidirectional,
        }
    }
}

/// Fused operation (CDW0 bits 9:8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Fuse {
    /// 00b: normal operation.
    #[default]
    Normal,
    /// 01b: first command of a fused operation.
    First,
    /// 10b: second command of a fused operation.
    Second,
    /// 11b: reserved.
    Reserved,
}

impl Fuse {
    const fn from_bits(b: u8) -> Self {
        match b & 0b11 {
            0 => Fuse::Normal,
            1 => Fuse::First,
            2 => Fuse::Second,
            _ => Fuse::Reserved,
        }
    }

    const fn bits(self) -> u8 {
        match self {
            Fuse::Normal => 0,
            Fuse::First => 1,
            Fuse::Second => 2,
            Fuse::Reserved => 3,
        }
    }
}

/// PRP or SGL for Data Transfer (CDW0 bits 15:14).
///
/// NVMe over Fabrics requires SGLs; Linux hosts set 01b
/// ([`Psdt::SglContiguousMetadata`]) on every fabrics command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Psdt {
    /// 00b: PRPs (not allowed on fabrics).
    #[default]
    Prp,
    /// 01b: SGL; MPTR is the address of a contiguous metadata buffer.
    SglContiguousMetadata,
    /// 10b: SGL; MPTR is the address of an SGL segment.
    SglMetadataSegment,
    /// 11b: reserved.
    Reserved,
}

impl Psdt {
    const fn from_bits(b: u8) -> Self {
        match b & 0b11 {
            0 => Psdt::Prp,
            1 => Psdt::SglContiguousMetadata,
            2 => Psdt::SglMetadataSegment,
            _ => Psdt::Reserved,
        }
    }

    const fn bits(self) -> u8 {
        match self {
            Psdt::Prp => 0,
            Psdt::SglContiguousMetadata => 1,
            Psdt::SglMetadataSegment => 2,
            Psdt::Reserved => 3,
        }
    }

    /// Whether the command uses SGLs (as fabrics requires).
    #[must_use]
    pub const fn is_sgl(self) -> bool {
        matches!(self, Psdt::SglContiguousMetadata | Psdt::SglMetadataSegment)
    }
}

/// SGL descriptor types (NVMe Base 2.0 "SGL Descriptor Type"), high nibble of byte 15.
pub mod sgl_type {
    /// SGL Data Block.
    pub const DATA_BLOCK: u8 = 0x0;
    /// SGL Bit Bucket.
    pub const BIT_BUCKET: u8 = 0x1;
    /// SGL Segment.
    pub const SEGMENT: u8 = 0x2;
    /// SGL Last Segment.
    pub const LAST_SEGMENT: u8 = 0x3;
    /// Keyed SGL Data Block (RDMA).
    pub const KEYED_DATA_BLOCK: u8 = 0x4;
    /// Transport SGL Data Block.
    pub const TRANSPORT_DATA_BLOCK: u8 = 0x5;
}

/// SGL descriptor sub types (NVMe Base 2.0 "SGL Descriptor Sub Type"), low nibble of byte 15.
pub mod sgl_subtype {
    /// Address.
    pub const ADDRESS: u8 = 0x0;
    /// Offset (in-capsule data).
    pub const OFFSET: u8 = 0x1;
    /// Transport specific (NVMe/TCP command data buffer).
    pub const TRANSPORT: u8 = 0xA;
}

/// A decoded SGL descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SglDescriptor {
    /// SGL Data Block with sub type Offset (identifier `0x01`): the data is in the
    /// capsule, starting `offset` bytes into the in-capsule data.
    InCapsule {
        /// Offset into the in-capsule data.
        offset: u64,
        /// Length in bytes.
        length: u32,
    },
    /// Transport SGL Data Block with sub type Transport specific (identifier `0x5A`):
    /// the data moves in C2HData PDUs, or in H2CData PDUs after R2T.
    Transport {
        /// Length in bytes.
        length: u32,
    },
    /// Any other descriptor, raw.
    Other {
        /// SGL identifier byte (type << 4 | sub type).
        id: u8,
        /// Bytes 0..8.
        address: u64,
        /// Bytes 8..12.
        length: u32,
    },
}

impl SglDescriptor {
    /// Descriptor for `length` bytes of in-capsule data at offset 0.
    #[must_use]
    pub const fn in_capsule(length: u32) -> Self {
        SglDescriptor::InCapsule { offset: 0, length }
    }

    /// Descriptor for `length` bytes moved by data PDUs.
    #[must_use]
    pub const fn transport(length: u32) -> Self {
        SglDescriptor::Transport { length }
    }

    /// The SGL identifier byte (descriptor type << 4 | sub type).
    #[must_use]
    pub const fn id(&self) -> u8 {
        match self {
            SglDescriptor::InCapsule { .. } => (sgl_type::DATA_BLOCK << 4) | sgl_subtype::OFFSET,
            SglDescriptor::Transport { .. } => {
                (sgl_type::TRANSPORT_DATA_BLOCK << 4) | sgl_subtype::TRANSPORT
            }
            SglDescriptor::Other { id, .. } => *id,
        }
    }

    /// The data length described.
    #[must_use]
    pub const fn length(&self) -> u32 {
        match self {
            SglDescriptor::InCapsule { length, .. }
            | SglDescriptor::Transport { length }
            | SglDescriptor::Other { length, .. } => *length,
        }
    }

    /// Decodes a 16-byte descriptor.
    #[must_use]
    pub fn from_bytes(b: &[u8; SGL_DESC_LEN]) -> Self {
        let address = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        let length = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
        let id = b[15];
        match (id >> 4, id & 0x0F) {
            (sgl_type::DATA_BLOCK, sgl_subtype::OFFSET) => {
                SglDescriptor::InCapsule { offset: address, length }
            }
            (sgl_type::TRANSPORT_DATA_BLOCK, sgl_subtype::TRANSPORT) => {
                SglDescriptor::Transport { length }
            }
            _ => SglDescriptor::Other { id, address, length },
        }
    }

    /// Encodes to 16 bytes (reserved bytes zero).
    #[must_use]
    pub fn to_bytes(&self) -> [u8; SGL_DESC_LEN] {
        let (address, length) = match *self {
            SglDescriptor::InCapsule { offset, length } => (offset, length),
            SglDescriptor::Transport { length } => (0, length),
            SglDescriptor::Other { address, length, .. } => (address, length),
        };
        let mut b = [0u8; SGL_DESC_LEN];
        b[..8].copy_from_slice(&address.to_le_bytes());
        b[8..12].copy_from_slice(&length.to_le_bytes());
        b[15] = self.id();
        b
    }
}

/// A submission queue entry, fields decoded.
///
/// Every 64-byte buffer is a valid `Sqe` ([`Sqe::from_bytes`] is total); reserved
/// bits of CDW0 are kept in `cdw0_rsvd` so encoding reproduces the input exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Sqe {
    /// Opcode (CDW0 bits 7:0).
    pub opcode: u8,
    /// Fused operation.
    pub fuse: Fuse,
    /// CDW0 bits 13:10 (reserved), as received.
    pub cdw0_rsvd: u8,
    /// PRP or SGL selection.
    pub psdt: Psdt,
    /// Command identifier.
    pub cid: u16,
    /// Namespace identifier (for Fabrics commands, byte 0 of this is FCTYPE).
    pub nsid: u32,
    /// Command dword 2.
    pub cdw2: u32,
    /// Command dword 3.
    pub cdw3: u32,
    /// Metadata pointer.
    pub mptr: u64,
    /// Data pointer: SGL1 on fabrics.
    pub dptr: [u8; SGL_DESC_LEN],
    /// CDW10..CDW15.
    pub cdw: [u32; 6],
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl Sqe {
    /// A command with `opcode` and `cid`, PSDT=01b (SGL) as fabrics requires, and
    /// everything else zero.
    #[must_use]
    pub fn new(opcode: u8, cid: u16) -> Self {
        Self { opcode, cid, psdt: Psdt::SglContiguousMetadata, ..Self::default() }
    }

    /// Decodes 64 bytes.
    #[must_use]
    pub fn from_bytes(b: &[u8; SQE_LEN]) -> Self {
        let mut dptr = [0u8; SGL_DESC_LEN];
        dptr.copy_from_slice(&b[24..40]);
        let mut cdw = [0u32; 6];
        for (i, c) in cdw.iter_mut().enumerate() {
            *c = le32(b, 40 + 4 * i);
        }
        Self {
            opcode: b[0],
            fuse: Fuse::from_bits(b[1]),
            cdw0_rsvd: (b[1] >> 2) & 0x0F,
            psdt: Psdt::from_bits(b[1] >> 6),
            cid: u16::from_le_bytes([b[2], b[3]]),
            nsid: le32(b, 4),
            cdw2: le32(b, 8),
            cdw3: le32(b, 12),
            mptr: u64::from_le_bytes([b[16], b[17], b[18], b[19], b[20], b[21], b[22], b[23]]),
            dptr,
            cdw,
        }
    }

    /// Decodes the first 64 bytes of `b`.
    pub fn parse(b: &[u8]) -> Result<Self, ParseError> {
        let arr: &[u8; SQE_LEN] = b
            .get(..SQE_LEN)
            .and_then(|s| s.try_into().ok())
            .ok_or(ParseError::Truncated { what: "SQE", need: SQE_LEN, got: b.len() })?;
        Ok(Self::from_bytes(arr))
    }

    /// Encodes to 64 bytes.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; SQE_LEN] {
        let mut b = [0u8; SQE_LEN];
        b[0] = self.opcode;
        b[1] = self.fuse.bits() | ((self.cdw0_rsvd & 0x0F) << 2) | (self.psdt.bits() << 6);
        b[2..4].copy_from_slice(&self.cid.to_le_bytes());
        b[4..8].copy_from_slice(&self.nsid.to_le_bytes());
        b[8..12].copy_from_slice(&self.cdw2.to_le_bytes());
        b[12..16].copy_from_slice(&self.cdw3.to_le_bytes());
        b[16..24].copy_from_slice(&self.mptr.to_le_bytes());
        b[24..40].copy_from_slice(&self.dptr);
        for (i, c) in self.cdw.iter().enumerate() {
            b[40 + 4 * i..44 + 4 * i].copy_from_slice(&c.to_le_bytes());
        }
        b
    }

    /// CDW10.
    #[must_use]
    pub const fn cdw10(&self) -> u32 {
        self.cdw[0]
    }
    /// CDW11.
    #[must_use]
    pub const fn cdw11(&self) -> u32 {
        self.cdw[1]
    }
    /// CDW12.
    #[must_use]
    pub const fn cdw12(&self) -> u32 {
        self.cdw[2]
    }
    /// CDW13.
    #[must_use]
    pub const fn cdw13(&self) -> u32 {
        self.cdw[3]
    }
    /// CDW14.
    #[must_use]
    pub const fn cdw14(&self) -> u32 {
        self.cdw[4]
    }
    /// CDW15.
    #[must_use]
    pub const fn cdw15(&self) -> u32 {
        self.cdw[5]
    }

    /// SGL1 decoded from DPTR.
    #[must_use]
    pub fn sgl(&self) -> SglDescriptor {
        SglDescriptor::from_bytes(&self.dptr)
    }

    /// Sets DPTR to `sgl`.
    pub fn set_sgl(&mut self, sgl: SglDescriptor) {
        self.dptr = sgl.to_bytes();
    }

    /// Whether this is a Fabrics command (opcode 7Fh).
    #[must_use]
    pub const fn is_fabrics(&self) -> bool {
        self.opcode == admin_opcode::FABRICS
    }

    /// FCTYPE of a Fabrics command (byte 4).
    #[must_use]
    pub const fn fctype(&self) -> u8 {
        (self.nsid & 0xFF) as u8
    }

    /// Data transfer direction: from FCTYPE for Fabrics commands, else from the opcode.
    #[must_use]
    pub const fn data_direction(&self) -> DataDirection {
        if self.is_fabrics() {
            DataDirection::from_opcode(self.fctype())
        } else {
            DataDirection::from_opcode(self.opcode)
        }
    }

    /// Starting LBA of a Read/Write/Compare/Write Zeroes command (CDW11:CDW10).
    #[must_use]
    pub const fn slba(&self) -> u64 {
        ((self.cdw[1] as u64) << 32) | self.cdw[0] as u64
    }

    /// Number of logical blocks of a Read/Write/… command (CDW12 bits 15:0, 0's based,
    /// returned here as a count: 1..=65536).
    #[must_use]
    pub const fn nlb(&self) -> u32 {
        (self.cdw[2] & 0xFFFF) + 1
    }

    /// Sets SLBA and the block count (1..=65536) of a Read/Write command.
    pub fn set_rw(&mut self, slba: u64, blocks: u32) {
        self.cdw[0] = slba as u32;
        self.cdw[1] = (slba >> 32) as u32;
        self.cdw[2] = (self.cdw[2] & !0xFFFF) | (blocks.saturating_sub(1) & 0xFFFF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqe_roundtrip_all_fields() {
        let mut b = [0u8; SQE_LEN];
        for (i, x) in b.iter_mut().enumerate() {
            *x = (i as u8).wrapping_mul(37).wrapping_add(5);
        }
        let s = Sqe::from_bytes(&b);
        assert_eq!(s.to_bytes(), b);
    }

    #[test]
    fn sqe_fields() {
        let mut s = Sqe::new(io_opcode::READ, 0xBEEF);
        s.nsid = 1;
        s.set_rw(0x1_0000_0002, 8);
        s.set_sgl(SglDescriptor::transport(4096));
        let b = s.to_bytes();
        assert_eq!(b[0], 0x02);
        assert_eq!(b[1], 0x40, "PSDT 01b in bits 7:6");
        assert_eq!(&b[2..4], &[0xEF, 0xBE]);
        assert_eq!(b[39], 0x5A);
        assert_eq!(&b[32..36], &4096u32.to_le_bytes());
        let d = Sqe::from_bytes(&b);
        assert_eq!(d.slba(), 0x1_0000_0002);
        assert_eq!(d.nlb(), 8);
        assert_eq!(d.sgl(), SglDescriptor::Transport { length: 4096 });
        assert_eq!(d.data_direction(), DataDirection::ControllerToHost);
        assert_eq!(d.psdt, Psdt::SglContiguousMetadata);
    }

    #[test]
    fn sgl_kinds() {
        let ic = SglDescriptor::in_capsule(512).to_bytes();
        assert_eq!(ic[15], 0x01);
        assert_eq!(
            SglDescriptor::from_bytes(&ic),
            SglDescriptor::InCapsule { offset: 0, length: 512 }
        );
        let mut keyed = [0u8; 16];
        keyed[15] = 0x40;
        assert!(matches!(SglDescriptor::from_bytes(&keyed), SglDescriptor::Other { id: 0x40, .. }));
        assert_eq!(SglDescriptor::from_bytes(&keyed).to_bytes(), keyed);
    }

    #[test]
    fn parse_truncated() {
        assert!(matches!(
            Sqe::parse(&[0u8; 63]),
            Err(ParseError::Truncated { need: 64, got: 63, .. })
        ));
    }
}
