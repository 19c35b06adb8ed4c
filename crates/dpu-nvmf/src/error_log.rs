//! A controller's Error Information log (NVMe Base 2.0 §5.16.1.2): the newest failed
//! commands, each with its queue, command ID, status, opcode, namespace, LBA and the
//! byte of the command the error lies in, as `nvme error-log` shows them. Pure state:
//! the connection records each failed completion, Get Log Page reads the page.

use std::collections::VecDeque;

use dpu_nvmf_proto::Sqe;
use dpu_nvmf_proto::cqe::Status;
use dpu_nvmf_proto::sqe::{SGL_DESC_LEN, io_opcode};

/// Entries the log keeps (Identify Controller ELPE is this, 0's based).
pub const ENTRIES: usize = 64;
/// Bytes per entry.
pub const ENTRY_LEN: usize = 64;
/// Parameter Error Location of an error not tied to one field of the command.
pub const NO_LOCATION: u16 = 0xFFFF;
/// Transport Type of a transport related error: TCP (the discovery log's TRTYPE 3h).
const TRTYPE_TCP: u8 = 3;

/// Where in its command a failure lies, and what it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorSite {
    /// The command's opcode.
    pub opcode: u8,
    /// The namespace the error concerns (0 if none).
    pub nsid: u32,
    /// The first LBA the error concerns (0 if none).
    pub lba: u64,
    /// Parameter Error Location: bits 7:0 the byte, 10:8 the bit ([`NO_LOCATION`]).
    pub location: u16,
}

/// Byte offsets in a submission queue entry (§4.1 "Submission Queue Entry").
mod byte {
    pub const OPCODE: u16 = 0;
    pub const CID: u16 = 2;
    pub const NSID: u16 = 4;
    /// SGL1, the data pointer; its length at +8, its offset at +0, its type at +15.
    pub const DPTR: u16 = 24;
    pub const CDW10: u16 = 40;
}

impl ErrorSite {
    /// The site of `status` in `sqe`; `io` tells an I/O queue's command (whose opcodes
    /// carry an LBA) from an admin one.
    #[must_use]
    pub fn of(sqe: &Sqe, status: Status, io: bool) -> Self {
        let has_lba = io
            && !sqe.is_fabrics()
            && matches!(
                sqe.opcode,
                io_opcode::READ
                    | io_opcode::WRITE
                    | io_opcode::COMPARE
                    | io_opcode::WRITE_ZEROES
                    | io_opcode::VERIFY
                    | io_opcode::WRITE_UNCORRECTABLE
            );
        let location = match status.code() {
            Status::INVALID_OPCODE => byte::OPCODE,
            Status::COMMAND_ID_CONFLICT => byte::CID,
            Status::INVALID_NAMESPACE_OR_FORMAT => byte::NSID,
            Status::SGL_OFFSET_INVALID => byte::DPTR,
            Status::DATA_SGL_LENGTH_INVALID => byte::DPTR + 8,
            Status::SGL_DESCRIPTOR_TYPE_INVALID => byte::DPTR + SGL_DESC_LEN as u16 - 1,
            Status::LBA_OUT_OF_RANGE if has_lba => byte::CDW10,
            // The Log Page Identifier, CDW10 bits 7:0.
            Status::INVALID_LOG_PAGE => byte::CDW10,
            _ => NO_LOCATION,
        };
        ErrorSite {
            opcode: sqe.opcode,
            // A Fabrics command's NSID field holds its FCTYPE.
            nsid: if sqe.is_fabrics() { 0 } else { sqe.nsid },
            lba: if has_lba { sqe.slba() } else { 0 },
            location,
        }
    }
}

/// One failed command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorEntry {
    /// The queue it came on.
    pub sqid: u16,
    /// Its command identifier.
    pub cid: u16,
    /// The status it completed with.
    pub status: Status,
    /// What it concerns.
    pub site: ErrorSite,
}

/// The log: a lifetime count and the newest [`ENTRIES`] entries.
#[derive(Debug, Default)]
pub struct ErrorLog {
    count: u64,
    /// (Error Count, entry), newest first.
    entries: VecDeque<(u64, ErrorEntry)>,
}

impl ErrorLog {
    /// Records a failure; the oldest entry goes once [`ENTRIES`] are kept.
    pub fn record(&mut self, e: ErrorEntry) {
        // §5.16.1.2: Error Count starts at 1 and skips 0 (an invalid entry) when
        // it wraps.
        self.count = self.count.wrapping_add(1).max(1);
        if self.entries.len() == ENTRIES {
            self.entries.pop_back();
        }
        self.entries.push_front((self.count, e));
    }

    /// Failures recorded over the controller's life (SMART's Number of Error
    /// Information Log Entries).
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The log page: [`ENTRIES`] entries of [`ENTRY_LEN`] bytes, newest first, those
    /// not used all zero (Error Count 0 marks an invalid entry).
    #[must_use]
    pub fn page(&self) -> Vec<u8> {
        let mut page = vec![0u8; ENTRIES * ENTRY_LEN];
        for ((count, e), b) in self.entries.iter().zip(page.chunks_exact_mut(ENTRY_LEN)) {
            b[0..8].copy_from_slice(&count.to_le_bytes());
            b[8..10].copy_from_slice(&e.sqid.to_le_bytes());
            b[10..12].copy_from_slice(&e.cid.to_le_bytes());
            // Bits 15:1 the status field, bit 0 the phase tag (0 over fabrics).
            b[12..14].copy_from_slice(&(e.status.raw() << 1).to_le_bytes());
            b[14..16].copy_from_slice(&e.site.location.to_le_bytes());
            b[16..24].copy_from_slice(&e.site.lba.to_le_bytes());
            b[24..28].copy_from_slice(&e.site.nsid.to_le_bytes());
            let transport = e.status.code() == Status::TRANSIENT_TRANSPORT_ERROR;
            b[29] = if transport { TRTYPE_TCP } else { 0 };
            // Byte 30 CSI: the NVM command set (0h) or admin. Byte 31 the opcode, valid
            // with Log Page Version 1h (byte 63, NVMe Base 2.1).
            b[31] = e.site.opcode;
            b[63] = 1;
        }
        page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(cid: u16, status: Status) -> ErrorEntry {
        let site = ErrorSite { opcode: 2, nsid: 1, lba: 0x1234, location: byte::CDW10 };
        ErrorEntry { sqid: 3, cid, status, site }
    }

    #[test]
    fn page_lists_newest_first_and_keeps_the_last_entries() {
        let mut log = ErrorLog::default();
        assert_eq!(log.page(), vec![0; ENTRIES * ENTRY_LEN]);
        for cid in 0..(ENTRIES as u16 + 5) {
            log.record(entry(cid, Status::LBA_OUT_OF_RANGE.with_dnr()));
        }
        assert_eq!(log.count(), ENTRIES as u64 + 5);
        let page = log.page();
        let first = &page[..ENTRY_LEN];
        assert_eq!(u64::from_le_bytes(first[0..8].try_into().unwrap()), ENTRIES as u64 + 5);
        assert_eq!(u16::from_le_bytes([first[8], first[9]]), 3);
        assert_eq!(u16::from_le_bytes([first[10], first[11]]), ENTRIES as u16 + 4);
        assert_eq!(
            u16::from_le_bytes([first[12], first[13]]),
            Status::LBA_OUT_OF_RANGE.with_dnr().raw() << 1
        );
        assert_eq!(u16::from_le_bytes([first[14], first[15]]), 40);
        assert_eq!(u64::from_le_bytes(first[16..24].try_into().unwrap()), 0x1234);
        assert_eq!(u32::from_le_bytes(first[24..28].try_into().unwrap()), 1);
        assert_eq!((first[29], first[31], first[63]), (0, 2, 1));
        let last = &page[(ENTRIES - 1) * ENTRY_LEN..];
        assert_eq!(u64::from_le_bytes(last[0..8].try_into().unwrap()), 6);
        assert_eq!(u16::from_le_bytes([last[10], last[11]]), 5);
    }

    #[test]
    fn error_count_skips_zero_when_it_wraps() {
        let mut log = ErrorLog { count: u64::MAX, entries: VecDeque::new() };
        log.record(entry(1, Status::INVALID_FIELD));
        assert_eq!(log.count(), 1);
    }

    #[test]
    fn transport_errors_name_tcp() {
        let mut log = ErrorLog::default();
        log.record(entry(1, Status::TRANSIENT_TRANSPORT_ERROR));
        assert_eq!(log.page()[29], TRTYPE_TCP);
    }

    #[test]
    fn site_points_at_the_field_in_error() {
        let mut sqe = Sqe::new(io_opcode::READ, 7);
        sqe.nsid = 9;
        sqe.set_rw(0xABCD, 8);
        let lba = ErrorSite::of(&sqe, Status::LBA_OUT_OF_RANGE.with_dnr(), true);
        assert_eq!((lba.location, lba.lba, lba.nsid, lba.opcode), (40, 0xABCD, 9, 2));
        // Opcode 02h on the admin queue is Get Log Page: no LBA.
        let admin = ErrorSite::of(&sqe, Status::INVALID_LOG_PAGE, false);
        assert_eq!((admin.location, admin.lba), (40, 0));
        assert_eq!(ErrorSite::of(&sqe, Status::INVALID_NAMESPACE_OR_FORMAT, true).location, 4);
        assert_eq!(ErrorSite::of(&sqe, Status::INVALID_OPCODE, true).location, 0);
        assert_eq!(ErrorSite::of(&sqe, Status::DATA_SGL_LENGTH_INVALID, true).location, 32);
        assert_eq!(ErrorSite::of(&sqe, Status::SGL_DESCRIPTOR_TYPE_INVALID, true).location, 39);
        assert_eq!(ErrorSite::of(&sqe, Status::INVALID_FIELD, true).location, NO_LOCATION);
    }
}
