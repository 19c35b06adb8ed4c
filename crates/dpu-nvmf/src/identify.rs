//! Data structures a controller returns: Identify (NVMe Base 2.0 §5.17.2), log pages
//! (§5.16.1) and properties (§3.1.4). Pure functions from registry state to bytes.

use std::net::SocketAddr;

use dpu_nvmf_proto::fabrics::DISCOVERY_NQN;

use crate::error_log;
use crate::features;
use crate::stats::IoTotals;
use crate::target::{
    ANA_GROUP_MAX, AnaGroup, AnaState, DiscoveryEntry, DiscoverySubtype, MAX_NSID, Namespace,
    ReservationLogPage, SubsystemIdentity,
};

/// Size of every Identify data structure.
pub const IDENTIFY_LEN: usize = 4096;
/// Maximum queue entries supported, 0's based (CAP.MQES): 128 entries.
pub const MQES: u16 = 127;
/// Admin queue entries we accept, 0's based (Linux uses 32).
pub const ADMIN_MQES: u16 = 31;
/// Maximum data transfer: 2^MDTS minimum pages (4 KiB) = 128 KiB.
pub const MDTS: u8 = 5;
/// Largest transfer in bytes, from [`MDTS`].
pub const MAX_TRANSFER: u32 = 4096 << MDTS;
/// In-capsule data bytes accepted on I/O queues: IOCCSZ = (64 + 8192) / 16.
pub const IN_CAPSULE_DATA: u32 = 8192;
/// Keep alive granularity in 100 ms units (Identify KAS).
pub const KAS: u16 = 10;
/// Outstanding Asynchronous Event Requests allowed (AERL is this minus one).
pub const AER_LIMIT: usize = 4;
/// Version reported in VS: NVMe 1.3 (namespace identification descriptors, no I/O
/// command set model the host would have to probe).
pub const VERSION: u32 = 0x0001_0300;
/// ANA Transition Time in seconds (Identify ANATT): the longest a group stays in the
/// change state; a Linux host resets the controller after twice this.
pub const ANATT: u8 = 10;
/// Firmware revision reported (Identify FR, firmware slot log).
pub const FIRMWARE: &[u8; 8] = b"dpu 0.1 ";

/// CAP (§3.1.4.1): MQES, CQR=1 (contiguous queues required), TO=20 (10 s ready
/// timeout), CSS bit 0 (NVM command set), MPSMIN=MPSMAX=0 (4 KiB).
pub const fn cap() -> u64 {
    (MQES as u64) | (1 << 16) | (20u64 << 24) | (1u64 << 37)
}

fn put_str(b: &mut [u8], at: usize, len: usize, s: &str, pad: u8) {
    let field = &mut b[at..at + len];
    field.fill(pad);
    let n = s.len().min(len);
    field[..n].copy_from_slice(&s.as_bytes()[..n]);
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// What Identify Controller needs to know about the controller.
#[derive(Debug, Clone)]
pub struct ControllerIdentity<'a> {
    /// CNTLID.
    pub cntlid: u16,
    /// The subsystem's names (None for the discovery controller).
    pub subsystem: Option<&'a SubsystemIdentity>,
}

/// Identify Controller data structure (CNS 01h), §5.17.2.1 plus the NVMe over
/// Fabrics fields at bytes 1792.. (NVMe-oF 1.1 "Identify Controller Data Structure").
pub fn identify_controller(id: &ControllerIdentity<'_>) -> Vec<u8> {
    let mut b = vec![0u8; IDENTIFY_LEN];
    let (serial, model, nqn, discovery) = match id.subsystem {
        Some(s) => (s.serial.as_str(), s.model.as_str(), s.nqn.as_str(), false),
        None => ("", "dpu-nvmf discovery", DISCOVERY_NQN, true),
    };
    put_str(&mut b, 4, 20, serial, b' '); // SN
    put_str(&mut b, 24, 40, model, b' '); // MN
    b[64..72].copy_from_slice(FIRMWARE); // FR
    b[72] = 6; // RAB
    // CMIC bit 0: the subsystem may have two or more ports (listeners); bit 1: two or
    // more controllers; bit 3: Asymmetric Namespace Access reporting (§8.1.3). As
    // nvmet's (multi-port, multi-controller, ANA).
    b[76] = if discovery { 0 } else { 0b1011 };
    b[77] = MDTS;
    put16(&mut b, 78, id.cntlid);
    put32(&mut b, 80, VERSION);
    put32(&mut b, 92, oaes(discovery));
    // CTRATT bit 0: 128-bit Host Identifier (the one of Connect, which reservations use);
    // bit 6: Traffic Based Keep Alive (§3.9.4): any command restarts the Keep Alive
    // Timer, so a busy host need not send Keep Alive commands (Linux then skips them).
    put32(&mut b, 96, if discovery { 0 } else { 1 | (1 << 6) });
    // CNTRLTYPE: 1 I/O controller, 2 discovery controller.
    b[111] = if discovery { 2 } else { 1 };
    b[258] = 3; // ACL: 4 concurrent Abort commands (0's based)
    b[259] = (AER_LIMIT - 1) as u8; // AERL
    b[260] = 0b11; // FRMW: slot 1 read-only, one slot
    // LPA bit 1: the Commands Supported and Effects log (I/O controllers); bit 2:
    // extended data for Get Log Page (offsets).
    b[261] = if discovery { 0b100 } else { 0b110 };
    b[262] = (error_log::ENTRIES - 1) as u8; // ELPE, 0's based
    put16(&mut b, 320, KAS);
    if !discovery {
        // WCTEMP and CCTEMP: a Linux host shows them (and the threshold WCTEMP is the
        // default of) as its hwmon device's temp1_max and temp1_crit.
        put16(&mut b, 266, features::WCTEMP);
        put16(&mut b, 268, features::CCTEMP);
        b[342] = ANATT;
        // ANACAP: reports the optimized, non-optimized, inaccessible, persistent loss and
        // change states (bits 0-4); a namespace's group may change while it is attached
        // (bit 6 clear).
        b[343] = 0b1_1111;
        put32(&mut b, 344, ANA_GROUP_MAX); // ANAGRPMAX
        put32(&mut b, 348, ANA_GROUP_MAX); // NANAGRPID
    }
    b[512] = 0x66; // SQES: 64-byte entries
    b[513] = 0x44; // CQES: 16-byte entries
    put16(&mut b, 514, MQES + 1); // MAXCMD
    if !discovery {
        put32(&mut b, 516, MAX_NSID); // NN
        // MNAN: a host sizes its ANA log buffer by it (and Linux refuses ANA without it).
        put32(&mut b, 540, MAX_NSID);
        // ONCS: Compare (bit 0), Dataset Management (bit 2), Write Zeroes (bit 3),
        // Reservations (bit 5), Verify (bit 7).
        put16(&mut b, 520, 0b1010_1101);
        b[525] = 1; // VWC bit 0: volatile write cache present (Flush honoured)
        // NWPC: a host may set No Write Protect and Write Protect (bit 0) and Write
        // Protect Until Power Cycle (bit 1) with Feature 84h; not Permanent (bit 2).
        b[531] = 0b011;
    }
    // SGLS: bits 1:0 = 01b SGLs supported; bit 20: SGL Offset (in-capsule data).
    put32(&mut b, 536, 1 | (1 << 20));
    put_str(&mut b, 768, 256, nqn, 0); // SUBNQN
    // NVMe over Fabrics: IOCCSZ, IORCSZ (16-byte units), ICDOFF 0, FCATT 0 (dynamic
    // controller model), MSDBD 1.
    put32(&mut b, 1792, (64 + IN_CAPSULE_DATA) / 16);
    put32(&mut b, 1796, 1);
    put16(&mut b, 1800, 0);
    b[1802] = 0;
    b[1803] = 1;
    // Power state 0: MP 0 (not reported).
    b
}

/// Identify Namespace (CNS 00h), §5.17.2.1 / NVM Command Set 1.0 §4.1.5.1, as seen
/// where its ANA group is in `ana_state`.
pub fn identify_namespace(ns: &Namespace, ana_state: AnaState) -> Vec<u8> {
    let mut b = vec![0u8; IDENTIFY_LEN];
    let blocks = ns.volume.blocks();
    put64(&mut b, 0, blocks); // NSZE
    put64(&mut b, 8, blocks); // NCAP
    // NUSE: none through a path in the Inaccessible or Persistent Loss state (§8.1.3.3-4;
    // as nvmet); NCAP stays, else a host would take the namespace as not there.
    if !matches!(ana_state, AnaState::Inaccessible | AnaState::PersistentLoss) {
        put64(&mut b, 16, blocks);
    }
    b[24] = 0; // NSFEAT
    b[25] = 0; // NLBAF: one format
    b[26] = 0; // FLBAS: format 0, no metadata
    b[30] = 1; // NMIC bit 0: may be attached to two or more controllers
    // RESCAP: Persist Through Power Loss where the target keeps a store (bit 0),
    // reservation types 1-6 (bits 1-6) and IEKEY as NVMe 1.3 defines it (bit 7).
    b[31] = 0b1111_1110 | u8::from(ns.store.is_some());
    // DLFEAT: deallocated blocks read as zero (001b), Write Zeroes may deallocate (bit 3);
    // nothing reported where a Deallocate only discards (as nvmet, which claims it only for
    // a device that unmaps with Write Zeroes).
    b[33] = if ns.volume.backend().deallocated_reads_zero() { 0b1001 } else { 0 };
    put32(&mut b, 92, ns.ana_group.load(std::sync::atomic::Ordering::Relaxed)); // ANAGRPID
    // NSATTR bit 0: write protected (Linux marks the disk read-only).
    b[99] = u8::from(ns.write_protected.load(std::sync::atomic::Ordering::Relaxed));
    b[104..120].copy_from_slice(&ns.nguid); // NGUID
    // LBAF0: MS 0, LBADS, RP 0 (best).
    let lbads = ns.volume.block_size().trailing_zeros();
    put32(&mut b, 128, lbads << 16);
    b
}

/// Active Namespace ID list (CNS 02h): NSIDs greater than `after`, ascending, at most 1024.
pub fn active_ns_list(nsids: &[u32], after: u32) -> Vec<u8> {
    let mut b = vec![0u8; IDENTIFY_LEN];
    for (i, nsid) in nsids.iter().filter(|&&n| n > after).take(IDENTIFY_LEN / 4).enumerate() {
        put32(&mut b, i * 4, *nsid);
    }
    b
}

/// Namespace Identification Descriptor list (CNS 03h), §5.17.2.3: NGUID, UUID and
/// the command set identifier (NVM).
pub fn ns_id_descriptors(ns: &Namespace) -> Vec<u8> {
    let mut b = Vec::with_capacity(IDENTIFY_LEN);
    // NIDT 02h NGUID (16 bytes).
    b.extend_from_slice(&[2, 16, 0, 0]);
    b.extend_from_slice(&ns.nguid);
    // NIDT 03h UUID (16 bytes).
    b.extend_from_slice(&[3, 16, 0, 0]);
    b.extend_from_slice(&ns.uuid);
    // NIDT 04h Command Set Identifier (1 byte): 0 = NVM.
    b.extend_from_slice(&[4, 1, 0, 0, 0]);
    b.resize(IDENTIFY_LEN, 0);
    b
}

/// Log page identifiers (§5.16.1).
pub mod log_id {
    /// Supported Log Pages.
    pub const SUPPORTED_LOG_PAGES: u8 = 0x00;
    /// Error Information.
    pub const ERROR: u8 = 0x01;
    /// SMART / Health Information.
    pub const SMART: u8 = 0x02;
    /// Firmware Slot Information.
    pub const FIRMWARE_SLOT: u8 = 0x03;
    /// Changed Namespace List.
    pub const CHANGED_NS: u8 = 0x04;
    /// Commands Supported and Effects.
    pub const CMD_EFFECTS: u8 = 0x05;
    /// Asymmetric Namespace Access.
    pub const ANA: u8 = 0x0C;
    /// Reservation Notification.
    pub const RESERVATION_NOTIFICATION: u8 = 0x80;
    /// Discovery.
    pub const DISCOVERY: u8 = 0x70;
}

/// What the SMART log reports besides the I/O totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Health {
    /// The composite temperature crosses a host-set threshold (Critical Warning bit 1).
    pub temperature_warning: bool,
    /// Number of Error Information Log Entries: the controller's failed commands.
    pub error_entries: u64,
}

/// SMART / Health Information (§5.16.1.3), 512 bytes.
pub fn smart_log(io: &IoTotals, health: Health) -> Vec<u8> {
    let mut b = vec![0u8; 512];
    b[0] = u8::from(health.temperature_warning) << 1; // Critical Warning
    put16(&mut b, 1, features::COMPOSITE_TEMPERATURE);
    b[3] = 100; // Available Spare
    b[4] = 10; // Available Spare Threshold
    // Data Units Read/Written: thousands of 512-byte units, rounded up. Reads here are
    // Read and Compare commands, and their blocks (NVMe 1.4 §5.14.1.2, Figure 194).
    let units = |bytes: u64| (bytes / 512).div_ceil(1000);
    let read_bytes = io.read_bytes.saturating_add(io.compare_bytes);
    b[32..48].copy_from_slice(&u128::from(units(read_bytes)).to_le_bytes());
    b[48..64].copy_from_slice(&u128::from(units(io.write_bytes)).to_le_bytes());
    b[64..80].copy_from_slice(&(u128::from(io.reads) + u128::from(io.compares)).to_le_bytes());
    b[80..96].copy_from_slice(&u128::from(io.writes).to_le_bytes());
    b[176..192].copy_from_slice(&u128::from(health.error_entries).to_le_bytes());
    b
}

/// The log pages an I/O controller returns ([`supported_log_pages`]).
const IO_CONTROLLER_LOG_PAGES: [u8; 8] = [
    log_id::SUPPORTED_LOG_PAGES,
    log_id::ERROR,
    log_id::SMART,
    log_id::FIRMWARE_SLOT,
    log_id::CHANGED_NS,
    log_id::CMD_EFFECTS,
    log_id::ANA,
    log_id::RESERVATION_NOTIFICATION,
];

/// The log pages a discovery controller returns.
const DISCOVERY_CONTROLLER_LOG_PAGES: [u8; 3] =
    [log_id::SUPPORTED_LOG_PAGES, log_id::ERROR, log_id::DISCOVERY];

/// Supported Log Pages (NVMe Base 2.0 §5.16.1.1, LID 00h), 1024 bytes: one 4-byte
/// entry per LID, LSUPP (bit 0) set for each page this kind of controller returns
/// (what `nvme supported-log-pages` lists). Index offsets and LID specific parameters
/// are claimed for none.
pub fn supported_log_pages(discovery: bool) -> Vec<u8> {
    const LSUPP: u32 = 1;
    let lids: &[u8] =
        if discovery { &DISCOVERY_CONTROLLER_LOG_PAGES } else { &IO_CONTROLLER_LOG_PAGES };
    let mut b = vec![0u8; 256 * 4];
    for &lid in lids {
        put32(&mut b, usize::from(lid) * 4, LSUPP);
    }
    b
}

/// Commands Supported and Effects (§5.16.1.6): Command Supported.
const CSUPP: u32 = 1;
/// Logical Block Content Change.
const LBCC: u32 = 1 << 1;

/// The NVM command set's I/O commands an I/O queue runs (NVM Command Set 1.0 §3), with
/// their Commands Supported and Effects entry: the one list both that log and admission
/// read, so a host is never told of a command it cannot run.
const IO_COMMANDS: [(u8, u32); 11] = {
    use dpu_nvmf_proto::sqe::io_opcode as io;
    [
        (io::FLUSH, CSUPP),
        (io::WRITE, CSUPP | LBCC),
        (io::READ, CSUPP),
        (io::COMPARE, CSUPP),
        (io::WRITE_ZEROES, CSUPP | LBCC),
        (io::VERIFY, CSUPP),
        (io::DATASET_MANAGEMENT, CSUPP | LBCC),
        (io::RESERVATION_REGISTER, CSUPP),
        (io::RESERVATION_REPORT, CSUPP),
        (io::RESERVATION_ACQUIRE, CSUPP),
        (io::RESERVATION_RELEASE, CSUPP),
    ]
};

/// Whether an I/O queue runs I/O command `opcode`; any other is Invalid Opcode.
pub fn io_command_supported(opcode: u8) -> bool {
    IO_COMMANDS.iter().any(|&(op, _)| op == opcode)
}

/// Commands Supported and Effects (§5.16.1.6), 4096 bytes: the admin commands an I/O
/// controller runs and the NVM command set's I/O commands, those that change logical
/// block content marked so (LBCC). No command needs the host to serialise or rescan.
pub fn commands_effects_log() -> Vec<u8> {
    use dpu_nvmf_proto::sqe::admin_opcode as admin;
    let mut b = vec![0u8; IDENTIFY_LEN];
    let admin_cmds = [
        admin::GET_LOG_PAGE,
        admin::IDENTIFY,
        admin::ABORT,
        admin::SET_FEATURES,
        admin::GET_FEATURES,
        admin::ASYNC_EVENT_REQUEST,
        admin::KEEP_ALIVE,
    ];
    for op in admin_cmds {
        put32(&mut b, usize::from(op) * 4, CSUPP);
    }
    for (op, effects) in IO_COMMANDS {
        put32(&mut b, 1024 + usize::from(op) * 4, effects);
    }
    b
}

/// Reservation Notification log page (§5.16.1.24, 64 bytes): `page` with the number of
/// pages still waiting after it, or the empty page (Log Page Count 0).
pub fn reservation_notification_log(page: Option<ReservationLogPage>, more: usize) -> Vec<u8> {
    let mut b = vec![0u8; 64];
    if let Some(p) = page {
        put64(&mut b, 0, p.count);
        b[8] = p.kind;
        b[9] = u8::try_from(more).unwrap_or(u8::MAX); // Number of Available Log Pages
        put32(&mut b, 12, p.nsid);
    }
    b
}

/// Firmware Slot Information (§5.16.1.4), 512 bytes: slot 1 active.
pub fn firmware_log() -> Vec<u8> {
    let mut b = vec![0u8; 512];
    b[0] = 1; // AFI: slot 1 active
    b[8..16].copy_from_slice(FIRMWARE);
    b
}

/// Changed Namespace List (§5.16.1.5), 4096 bytes; more than 1024 changes report
/// FFFFFFFFh in the first entry.
pub fn changed_ns_log(nsids: &[u32], overflow: bool) -> Vec<u8> {
    let mut b = vec![0u8; IDENTIFY_LEN];
    if overflow {
        put32(&mut b, 0, u32::MAX);
    } else {
        for (i, n) in nsids.iter().take(1024).enumerate() {
            put32(&mut b, i * 4, *n);
        }
    }
    b
}

/// Asymmetric Namespace Access log page (§5.16.1.12): a 16-byte header (Change Count,
/// number of group descriptors), then per group a 32-byte descriptor (ANAGRPID, number
/// of NSIDs, Change Count, ANA state) followed by its NSIDs, unless `groups_only` (LSP
/// bit 0, RGO), which leaves the NSIDs out and reports zero of them.
pub fn ana_log(chgcnt: u64, groups: &[AnaGroup], groups_only: bool) -> Vec<u8> {
    let mut b = vec![0u8; 16];
    put64(&mut b, 0, chgcnt);
    put16(&mut b, 8, groups.len() as u16);
    for g in groups {
        let at = b.len();
        b.resize(at + 32, 0);
        put32(&mut b, at, g.id);
        let nsids: &[u32] = if groups_only { &[] } else { &g.nsids };
        put32(&mut b, at + 4, nsids.len() as u32);
        put64(&mut b, at + 8, chgcnt);
        b[at + 16] = g.state as u8;
        for nsid in nsids {
            b.extend_from_slice(&nsid.to_le_bytes());
        }
    }
    b
}

/// TREQ bit 2: the host may disable SQ flow control (Connect CATTR bit 2).
const TREQ_DISABLE_SQFLOW: u8 = 0b100;

/// EFLAGS of the current discovery subsystem's entry (NVMe Base 2.0 Figure 262): bit 0
/// DUPRETINFO, connecting to it returns this same log (so `nvme connect-all` does not
/// connect to it again); bit 1 EPCSD, it takes explicit persistent connections (Keep
/// Alive and Discovery Log Page Change notices, as `nvme discover -p` keeps).
const EFLAGS_CURRENT_DISCOVERY: u16 = 0b11;

/// Length of one discovery log entry and of the header.
pub const DISCOVERY_ENTRY_LEN: usize = 1024;

/// The address a host that connected to `local` is told for entry `e`, `None` if that
/// host could not reach it. A wildcard listener address of this target (not a referral's)
/// stands for the address the host connected to, where the listener accepts that family:
/// `0.0.0.0` IPv4 only; `[::]` both, as [`crate::server::bind`] binds it dual-stack. An
/// IPv4 wildcard seen from an IPv6 connection is nothing the host could dial (nothing
/// listens on that IPv6 address and port), so the entry is left out of its log.
pub fn address_seen(e: &DiscoveryEntry, local: Option<SocketAddr>) -> Option<SocketAddr> {
    let mut addr = e.addr;
    let Some(l) = local else { return Some(addr) };
    if !addr.ip().is_unspecified() || e.subtype == DiscoverySubtype::Referral {
        return Some(addr);
    }
    // A host that came over IPv4 to a dual-stack `[::]` listener arrives at
    // `::ffff:a.b.c.d`: it is told the IPv4 address (ADRFAM 1), which it can dial.
    let host_side = l.ip().to_canonical();
    if addr.is_ipv4() && !host_side.is_ipv4() {
        return None;
    }
    addr.set_ip(host_side);
    Some(addr)
}

/// The entries of a discovery log as a host that connected to `local` reads them
/// ([`address_seen`]): what a discovery controller compares to tell whether its host's
/// log changed.
pub fn entries_seen(
    entries: Vec<DiscoveryEntry>,
    local: Option<SocketAddr>,
) -> Vec<DiscoveryEntry> {
    entries
        .into_iter()
        .filter_map(|mut e| {
            e.addr = address_seen(&e, local)?;
            Some(e)
        })
        .collect()
}

/// Discovery Log Page (§5.16.1.23 / NVMe-oF 1.1 §5.3): header with GENCTR, NUMREC and
/// RECFMT, then one 1024-byte entry per [`DiscoveryEntry`] the host that connected to
/// `local` can reach, with the address it is told ([`address_seen`]).
pub fn discovery_log(
    genctr: u64,
    entries: &[DiscoveryEntry],
    local: Option<SocketAddr>,
) -> Vec<u8> {
    let seen: Vec<_> = entries.iter().filter_map(|e| Some((e, address_seen(e, local)?))).collect();
    let mut b = vec![0u8; DISCOVERY_ENTRY_LEN * (1 + seen.len())];
    put64(&mut b, 0, genctr);
    put64(&mut b, 8, seen.len() as u64);
    put16(&mut b, 16, 0); // RECFMT
    for (i, (e, addr)) in seen.into_iter().enumerate() {
        let at = DISCOVERY_ENTRY_LEN * (i + 1);
        b[at] = 3; // TRTYPE: TCP
        b[at + 1] = if addr.is_ipv4() { 1 } else { 2 }; // ADRFAM
        b[at + 2] = e.subtype as u8; // SUBTYPE
        // TREQ (NVMe-oF 1.1 Figure 27), as Linux's nvmet reports it for TCP without TLS:
        // secure channel requirement not specified (00b), and SQ flow control may be
        // disabled (bit 2), which `nvme connect-all` then asks for in each Connect (a
        // read completes with its last C2HData PDU alone). "Not required" (10b) reads to
        // libnvme (1.3, Debian 12) as TLS offered: connect-all then asks the kernel for a
        // TLS connection, which kernels without NVMe/TCP TLS refuse (EINVAL).
        b[at + 3] = TREQ_DISABLE_SQFLOW;
        put16(&mut b, at + 4, e.port_id);
        put16(&mut b, at + 6, 0xFFFF); // CNTLID: dynamic
        put16(&mut b, at + 8, ADMIN_MQES + 1); // ASQSZ
        if e.subtype == DiscoverySubtype::CurrentDiscovery {
            put16(&mut b, at + 10, EFLAGS_CURRENT_DISCOVERY);
        }
        put_str(&mut b, at + 32, 32, &addr.port().to_string(), 0); // TRSVCID
        put_str(&mut b, at + 256, 256, &e.subnqn, 0); // SUBNQN
        put_str(&mut b, at + 512, 256, &addr.ip().to_string(), 0); // TRADDR
        b[at + 768] = 0; // TSAS (TCP): SECTYPE none
    }
    b
}

/// OAES, the optional notices a controller sends (NVMe Base 2.0 §5.17.2.1): bit 8
/// Namespace Attribute Notices, bit 11 ANA Change Notices; a discovery controller's only
/// one is bit 31, Discovery Log Page Change.
pub const fn oaes(discovery: bool) -> u32 {
    if discovery { 1 << 31 } else { (1 << 8) | (1 << 11) }
}

/// Slices `page` at `offset` for a transfer of `len` bytes, zero-padding past its end.
pub fn slice_page(page: &[u8], offset: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    if let Ok(off) = usize::try_from(offset)
        && off < page.len()
    {
        let n = (page.len() - off).min(len);
        out[..n].copy_from_slice(&page[off..off + n]);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A subsystem's entry for a listener on `addr`.
    fn subsystem_entry(addr: &str) -> DiscoveryEntry {
        DiscoveryEntry {
            subtype: DiscoverySubtype::Nvm,
            subnqn: "nqn.2024-01.io.example:a".into(),
            port_id: 3,
            addr: addr.parse().unwrap(),
        }
    }

    #[test]
    fn discovery_entry_layout() {
        let e = subsystem_entry("0.0.0.0:4420");
        let b = discovery_log(9, &[e], Some("192.0.2.15:8009".parse().unwrap()));
        assert_eq!(b.len(), 2048);
        assert_eq!(u64::from_le_bytes(b[0..8].try_into().unwrap()), 9);
        assert_eq!(u64::from_le_bytes(b[8..16].try_into().unwrap()), 1);
        assert_eq!(b[1024], 3);
        assert_eq!(
            b[1024 + 3],
            0b100,
            "TREQ: no secure channel specified, SQ flow control optional"
        );
        assert_eq!(&b[1024 + 32..1024 + 36], b"4420");
        assert_eq!(&b[1024 + 256..1024 + 260], b"nqn.");
        assert_eq!(&b[1024 + 512..1024 + 522], b"192.0.2.15");
        // A dual-stack `[::]` listener reached over IPv4 names the IPv4 address.
        let e = subsystem_entry("[::]:4420");
        let b = discovery_log(9, &[e], Some("[::ffff:192.0.2.15]:4420".parse().unwrap()));
        assert_eq!(b[1024 + 1], 1, "ADRFAM: IPv4");
        assert_eq!(&b[1024 + 512..1024 + 523], b"192.0.2.15\0");
    }

    /// A wildcard listener stands for the host's address only where the host's family
    /// can reach it: an IPv4 wildcard does not take an IPv6 connection's address (nothing
    /// would accept there), and is left out of that host's log; `[::]` is dual-stack
    /// (`server::bind` makes it so), so it takes either.
    #[test]
    fn a_wildcard_listener_takes_the_hosts_address_of_its_own_family_only() {
        let seen = |listener: &str, local: &str| {
            let b = discovery_log(9, &[subsystem_entry(listener)], Some(local.parse().unwrap()));
            let n = u64::from_le_bytes(b[8..16].try_into().unwrap());
            let at = DISCOVERY_ENTRY_LEN;
            let traddr = |b: &[u8]| {
                String::from_utf8_lossy(&b[at + 512..at + 768]).trim_end_matches('\0').to_owned()
            };
            (n > 0).then(|| (b[at + 1], traddr(&b)))
        };
        assert_eq!(seen("0.0.0.0:4420", "[2001:db8::1]:8009"), None, "IPv4 wildcard, IPv6 host");
        assert_eq!(seen("0.0.0.0:4420", "192.0.2.15:8009"), Some((1, "192.0.2.15".into())));
        let mapped = "[::ffff:192.0.2.15]:8009";
        assert_eq!(seen("0.0.0.0:4420", mapped), Some((1, "192.0.2.15".into())), "IPv4 at [::]");
        assert_eq!(seen("[::]:4420", "[2001:db8::1]:8009"), Some((2, "2001:db8::1".into())));
        assert_eq!(seen("[::]:4420", "192.0.2.15:8009"), Some((1, "192.0.2.15".into())));
        assert_eq!(seen("[::]:4420", mapped), Some((1, "192.0.2.15".into())));
    }

    /// A log with one entry naming a discovery service (port ID 0) at `addr`, served to a
    /// host that connected to 192.0.2.15:8009.
    fn one_discovery_service_entry(subtype: DiscoverySubtype, addr: &str) -> Vec<u8> {
        let e = DiscoveryEntry {
            subtype,
            subnqn: dpu_nvmf_proto::fabrics::DISCOVERY_NQN.into(),
            port_id: 0,
            addr: addr.parse().unwrap(),
        };
        discovery_log(4, &[e], Some("192.0.2.15:8009".parse().unwrap()))
    }

    /// NVMe-oF 1.1 §5.3 Figure 27: a referral is SUBTYPE 1 with the discovery NQN, and
    /// keeps its own address (only a subsystem's wildcard listener takes the host's).
    #[test]
    fn referral_entry_layout() {
        let b = one_discovery_service_entry(DiscoverySubtype::Referral, "[2001:db8::20]:8009");
        let at = DISCOVERY_ENTRY_LEN;
        assert_eq!((b[at], b[at + 1], b[at + 2]), (3, 2, 1), "TCP, IPv6, referral");
        assert_eq!(&b[at + 10..at + 12], [0, 0], "EFLAGS: none claimed for another service");
        assert_eq!(&b[at + 32..at + 37], b"8009\0");
        let nqn = dpu_nvmf_proto::fabrics::DISCOVERY_NQN.as_bytes();
        assert_eq!(&b[at + 256..at + 256 + nqn.len()], nqn);
        assert_eq!(&b[at + 512..at + 525], b"2001:db8::20\0");
    }

    /// NVMe Base 2.0 Figure 262: the current discovery subsystem is SUBTYPE 3 with the
    /// discovery NQN at the address the host came in by, and says that it returns this
    /// same log and takes persistent connections.
    #[test]
    fn current_discovery_entry_layout() {
        let b = one_discovery_service_entry(DiscoverySubtype::CurrentDiscovery, "0.0.0.0:8009");
        let at = DISCOVERY_ENTRY_LEN;
        assert_eq!((b[at], b[at + 1], b[at + 2]), (3, 1, 3), "TCP, IPv4, current discovery");
        assert_eq!(u16::from_le_bytes([b[at + 10], b[at + 11]]), 0b11, "DUPRETINFO, EPCSD");
        assert_eq!(&b[at + 32..at + 37], b"8009\0");
        let nqn = dpu_nvmf_proto::fabrics::DISCOVERY_NQN.as_bytes();
        assert_eq!(&b[at + 256..at + 256 + nqn.len()], nqn);
        assert_eq!(&b[at + 512..at + 523], b"192.0.2.15\0", "the wildcard resolved");
    }

    #[test]
    fn slice_pads_and_offsets() {
        assert_eq!(slice_page(&[1, 2, 3], 1, 4), vec![2, 3, 0, 0]);
        assert_eq!(slice_page(&[1, 2, 3], 10, 2), vec![0, 0]);
    }

    /// Firmware Slot Information (§5.16.1.4): AFI names slot 1 active (bits 2:0) and no
    /// slot for the next reset (bits 6:4); FRS1 holds the revision Identify Controller shows,
    /// in the one read-only slot FRMW reports; the other slots are empty.
    #[test]
    fn firmware_slot_log_shows_slot_1_active() {
        let log = firmware_log();
        assert_eq!(log.len(), 512);
        assert_eq!(log[0], 0b000_0001, "AFI: slot 1 active, none chosen for the next reset");
        assert!(log[1..8].iter().all(|&b| b == 0));
        assert_eq!(&log[8..16], FIRMWARE, "FRS1");
        assert!(log[16..].iter().all(|&b| b == 0), "FRS2-FRS7 empty");
        let id = identify_controller(&ControllerIdentity { cntlid: 1, subsystem: None });
        assert_eq!(&id[64..72], &log[8..16], "FR: the active slot's revision");
        assert_eq!(id[260], 0b11, "FRMW: one slot (bits 3:1), slot 1 read-only (bit 0)");
    }

    #[test]
    fn cap_fields() {
        let c = cap();
        assert_eq!(c & 0xFFFF, 127);
        assert_eq!((c >> 24) & 0xFF, 20);
        assert_eq!((c >> 37) & 1, 1);
    }
}
