//! Deterministic tests of the controller core: PDUs in, PDUs out, virtual time.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dpu_nvmf_proto::cqe::Status;
use dpu_nvmf_proto::fabrics::{
    CNTLID_DYNAMIC, ConnectCmd, ConnectData, DISCOVERY_NQN, PropertyGetCmd, PropertySetCmd, fctype,
    property,
};
use dpu_nvmf_proto::pdu::{DataPduHeader, encode_h2c_data};
use dpu_nvmf_proto::sqe::{admin_opcode, io_opcode};
use dpu_nvmf_proto::{
    CapsuleCmd, Cqe, DecoderConfig, Fes, Framing, IcReq, Pdu, PduDecoder, R2t, SglDescriptor, Sqe,
};
use nix::errno::Errno;

use super::*;
use crate::identify::log_id;
use crate::target::{
    AnaState, ConnectRefusal, HostWriteProtection, ListenerSpec, NSID_ALL, RegistryError,
    SubsystemSpec,
};

const SUB: &str = "nqn.2024-01.io.example:sub1";
const HOST: &str = "nqn.2014-08.org.example:host1";
const HOSTID: [u8; 16] = [7; 16];

fn target() -> Arc<Target> {
    target_with(None)
}

/// [`target`], keeping reservations through power loss in `store`.
fn target_with(store: Option<Arc<crate::persist::NamespaceStore>>) -> Arc<Target> {
    let t = Target::new();
    if let Some(store) = store {
        t.set_namespace_store(store);
    }
    t.add_subsystem(SubsystemSpec {
        nqn: SUB.into(),
        serial: "SERIAL1".into(),
        model: "dpu test".into(),
        allow_any_host: false,
        hosts: BTreeSet::from([HOST.to_owned()]),
        host_secrets: Default::default(),
        cntlids: crate::target::ALL_CNTLIDS,
        max_io_queues: crate::target::DEFAULT_IO_QUEUES,
    })
    .unwrap();
    let v = Arc::new(Volume::ram("v", 512, 1 << 20).unwrap());
    t.add_namespace(SUB, 1, v, [0xAB; 16], [0xCD; 16]).unwrap();
    t.add_listener(ListenerSpec::loopback_for_tests()).unwrap();
    t
}

/// A host talking to one `Connection`, running its volume I/O inline.
struct H {
    conn: Connection,
    dec: PduDecoder,
    framing: Framing,
    now: Instant,
    cid: u16,
}

impl H {
    fn new(t: &Arc<Target>, hdgst: bool, ddgst: bool) -> Self {
        Self::with_config(t, QueueConfig::default(), hdgst, ddgst)
    }

    fn with_config(t: &Arc<Target>, cfg: QueueConfig, hdgst: bool, ddgst: bool) -> Self {
        let now = Instant::now();
        let mut h = H {
            conn: Connection::new(t.clone(), cfg, now),
            dec: PduDecoder::new(DecoderConfig::host()),
            framing: Framing::PLAIN,
            now,
            cid: 0,
        };
        h.send(&Pdu::IcReq(IcReq { hdgst, ddgst, ..IcReq::default() }));
        let p = h.pdus();
        let [Pdu::IcResp(r)] = p.as_slice() else { panic!("{p:?}") };
        assert_eq!((r.hdgst, r.ddgst, r.cpda, r.pfv), (hdgst, ddgst, 0, 0));
        assert!(r.maxh2cdata >= 4096 && r.maxh2cdata % 4 == 0);
        h.dec.set_digests(hdgst, ddgst);
        h.framing = Framing { hdgst, ddgst, pda: 0 };
        h
    }

    fn send(&mut self, p: &Pdu) {
        let b = p.to_vec(&self.framing).unwrap();
        self.conn.receive(&b, self.now);
    }

    /// Runs the volume I/O and the DH computations the connection asks for, inline.
    fn run_io(&mut self) {
        while let Some(req) = self.conn.poll_io() {
            let r = execute_io(&req);
            self.conn.complete_io(req.tag, r);
        }
        if let Some(req) = self.conn.poll_dh() {
            self.conn.complete_dh(req.tag, req.job.run());
        }
    }

    fn pdus(&mut self) -> Vec<Pdu> {
        self.run_io();
        self.dec.feed(&self.conn.take_output());
        let mut v = Vec::new();
        while let Some(p) = self.dec.decode().unwrap() {
            v.push(p);
        }
        v
    }

    /// Sends commands (with their in-capsule data) in one batch and runs their volume
    /// I/O as the shell does on a memory volume: small reads through
    /// [`Connection::complete_read`] with `read` (given each read's index in the batch),
    /// anything else inline.
    fn cmds_reading_into_output(
        &mut self,
        cmds: Vec<(Sqe, Vec<u8>)>,
        mut read: impl FnMut(usize, &mut Vec<u8>, u64, usize) -> io::Result<()>,
    ) -> Vec<Pdu> {
        for (sqe, data) in cmds {
            self.submit(sqe, &data);
        }
        let mut n = 0;
        while let Some(req) = self.conn.poll_io() {
            if let IoOp::Read { offset, len, .. } = req.op
                && len <= COPY_BELOW
            {
                self.conn.complete_read(req.tag, |out| {
                    n += 1;
                    read(n - 1, out, offset, len)
                });
            } else {
                let r = execute_io(&req);
                self.conn.complete_io(req.tag, r);
            }
        }
        self.pdus()
    }

    fn cmd(&mut self, sqe: Sqe, data: &[u8]) -> Vec<Pdu> {
        self.submit(sqe, data);
        self.pdus()
    }

    /// Sends a command with the next CID (and its data in the capsule); returns the CID.
    fn submit(&mut self, mut sqe: Sqe, data: &[u8]) -> u16 {
        self.cid += 1;
        sqe.cid = self.cid;
        if !data.is_empty() {
            sqe.set_sgl(SglDescriptor::in_capsule(data.len() as u32));
        }
        self.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe, data: data.to_vec().into() }));
        self.cid
    }

    /// Runs a command and returns (CQE, C2H data).
    fn run(&mut self, sqe: Sqe, data: &[u8]) -> (Cqe, Vec<u8>) {
        let mut buf = Vec::new();
        for p in self.cmd(sqe, data) {
            match p {
                Pdu::C2HData(d) => {
                    assert_eq!(d.header.datao as usize, buf.len());
                    buf.extend_from_slice(&d.data);
                    if d.header.success {
                        return (Cqe::new(self.cid, Status::SUCCESS), buf);
                    }
                }
                Pdu::CapsuleResp(c) => {
                    assert_eq!(c.cid, self.cid);
                    return (c, buf);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        panic!("no completion");
    }

    fn connect(&mut self, subnqn: &str, qid: u16, cntlid: u16, kato: u32, cattr: u8) -> Cqe {
        self.connect_as(HOSTID, subnqn, qid, cntlid, kato, cattr)
    }

    fn connect_as(
        &mut self,
        hostid: [u8; 16],
        subnqn: &str,
        qid: u16,
        cntlid: u16,
        kato: u32,
        cattr: u8,
    ) -> Cqe {
        self.connect_nqn(hostid, HOST, subnqn, qid, cntlid, kato, cattr)
    }

    #[allow(clippy::too_many_arguments)]
    fn connect_nqn(
        &mut self,
        hostid: [u8; 16],
        hostnqn: &str,
        subnqn: &str,
        qid: u16,
        cntlid: u16,
        kato: u32,
        cattr: u8,
    ) -> Cqe {
        let sqe = ConnectCmd { recfmt: 0, qid, sqsize: 31, cattr, kato }.to_sqe(0);
        let d = ConnectData { hostid, cntlid, subnqn: subnqn.into(), hostnqn: hostnqn.into() };
        self.run(sqe, &d.to_bytes()).0
    }

    fn enable(&mut self) {
        let sqe = PropertySetCmd { eight_bytes: false, offset: property::CC, value: 0x0046_0001 }
            .to_sqe(0);
        assert!(self.run(sqe, &[]).0.status.is_success());
        let sqe = PropertyGetCmd { eight_bytes: false, offset: property::CSTS }.to_sqe(0);
        assert_eq!(self.run(sqe, &[]).0.dw0 & 1, 1);
    }

    /// Enables namespace attribute notices (AEC bit 8) and sends an Asynchronous Event
    /// Request, which stays outstanding; returns its CID.
    fn arm_namespace_notices(&mut self) -> u16 {
        let mut aec = Sqe::new(admin_opcode::SET_FEATURES, 0);
        aec.cdw[0] = 0x0B;
        aec.cdw[1] = 1 << 8;
        assert!(self.run(aec, &[]).0.status.is_success());
        let (cid, answered) = self.send_aer();
        assert!(answered.is_empty(), "the request waits for an event");
        cid
    }

    /// Runs `sqe` with `data` in its capsule (as the reservation helpers build them); the
    /// completion's status.
    fn status_of(&mut self, (mut sqe, data): (Sqe, Vec<u8>)) -> Status {
        sqe.set_sgl(SglDescriptor::in_capsule(data.len() as u32));
        self.run(sqe, &data).0.status
    }

    /// Writes one block of 0x42 at LBA 0 (512 bytes in capsule); the completion's status.
    fn write_first_block(&mut self) -> Status {
        let mut w = rw(io_opcode::WRITE, 0, 1, 0);
        w.set_sgl(SglDescriptor::in_capsule(512));
        self.run(w, &[0x42; 512]).0.status
    }

    fn admin(t: &Arc<Target>, kato: u32) -> (Self, u16) {
        let mut h = H::new(t, false, false);
        let c = h.connect(SUB, 0, CNTLID_DYNAMIC, kato, 0);
        assert!(c.status.is_success(), "{c:?}");
        h.enable();
        (h, c.dw0 as u16)
    }

    fn io(t: &Arc<Target>, cntlid: u16, qid: u16, cattr: u8) -> Self {
        let mut h = H::new(t, true, true);
        let c = h.connect(SUB, qid, cntlid, 0, cattr);
        assert!(c.status.is_success(), "{c:?}");
        h
    }
}

fn identify(cns: u8, nsid: u32) -> Sqe {
    let mut s = Sqe::new(admin_opcode::IDENTIFY, 0);
    s.cdw[0] = u32::from(cns);
    s.nsid = nsid;
    s.set_sgl(SglDescriptor::transport(4096));
    s
}

fn rw(op: u8, slba: u64, blocks: u32, len: u32) -> Sqe {
    let mut s = Sqe::new(op, 0);
    s.nsid = 1;
    s.set_rw(slba, blocks);
    s.set_sgl(SglDescriptor::transport(len));
    s
}

fn log_page(lid: u8, len: u32) -> Sqe {
    let mut s = Sqe::new(admin_opcode::GET_LOG_PAGE, 0);
    s.cdw[0] = u32::from(lid) | ((len / 4 - 1) << 16);
    s.set_sgl(SglDescriptor::transport(len));
    s
}

/// An index offset (Offset Type, CDW14 bit 23) is refused with Invalid Field, as no page
/// supports one (NVMe Base 2.0 §5.16), rather than read as a byte offset; a read without
/// it returns the page.
#[test]
fn get_log_page_refuses_an_index_offset() {
    let t = target();
    let (mut h, _) = H::admin(&t, 0);
    // Slot 1's firmware revision is at byte 8 of the Firmware Slot page.
    let mut lp = log_page(log_id::FIRMWARE_SLOT, 8);
    for index in [1, 8] {
        lp.cdw[2] = index;
        lp.cdw[4] = 1 << 23;
        assert_eq!(h.run(lp, &[]).0.status, Status::INVALID_FIELD.with_dnr(), "index {index}");
    }
    lp.cdw[4] = 0;
    let (c, revision) = h.run(lp, &[]);
    assert!(c.status.is_success());
    assert_eq!(&revision, crate::identify::FIRMWARE);
}

#[test]
fn admin_connect_enable_identify() {
    let t = target();
    let (mut h, cntlid) = H::admin(&t, 0);
    let (c, cap) =
        h.run(PropertyGetCmd { eight_bytes: true, offset: property::CAP }.to_sqe(0), &[]);
    assert_eq!(c.result64(), crate::identify::cap());
    assert!(cap.is_empty());
    let (c, id) = h.run(identify(1, 0), &[]);
    assert!(c.status.is_success());
    assert_eq!(id.len(), 4096);
    assert_eq!(u16::from_le_bytes([id[78], id[79]]), cntlid);
    assert_eq!(&id[4..11], b"SERIAL1");
    assert_eq!(&id[768..768 + SUB.len()], SUB.as_bytes());
    assert_eq!(u16::from_le_bytes([id[320], id[321]]), crate::identify::KAS);
    assert_eq!(u32::from_le_bytes(id[1792..1796].try_into().unwrap()), (64 + 8192) / 16);
    let le32 = |at: usize| u32::from_le_bytes(id[at..at + 4].try_into().unwrap());
    assert_eq!(id[76], 0b1011, "CMIC: several ports, several controllers, ANA reporting");
    assert_eq!(id[77], crate::identify::MDTS);
    assert_eq!(le32(92), (1 << 8) | (1 << 11), "OAES: namespace attribute and ANA notices");
    assert_eq!(id[111], 1, "CNTRLTYPE: I/O controller");
    assert_eq!(u16::from_le_bytes([id[514], id[515]]), crate::identify::MQES + 1, "MAXCMD");
    let oncs = u16::from_le_bytes([id[520], id[521]]);
    assert_eq!(oncs, 0b1010_1101, "ONCS: Compare, DSM, WZ, Resv, Verify");
    assert_eq!(id[525], 1, "VWC present");
    // SGLS (NVMe Base 2.0 §5.17.2.1): SGLs supported with byte alignment (bits 1:0 01b)
    // and SGL offsets in the Address field (bit 20), for in-capsule data; nothing else
    // (no keyed SGLs on TCP). Linux's nvmet answers the same for a port with inline data.
    assert_eq!(le32(536), 1 | (1 << 20), "SGLS");
    assert_eq!(le32(1796), 1, "IORCSZ: a 16-byte response capsule");
    // Namespace, active list, descriptors.
    let (_, ns) = h.run(identify(0, 1), &[]);
    assert_eq!(u64::from_le_bytes(ns[0..8].try_into().unwrap()), 2048);
    assert_eq!(&ns[104..120], &[0xAB; 16]);
    let (_, list) = h.run(identify(2, 0), &[]);
    assert_eq!(&list[0..8], &[1, 0, 0, 0, 0, 0, 0, 0]);
    let (_, desc) = h.run(identify(3, 1), &[]);
    assert_eq!(&desc[0..2], &[2, 16]);
    assert_eq!(&desc[4..20], &[0xAB; 16], "NGUID");
    assert_eq!(&desc[20..22], &[3, 16]);
    assert_eq!(&desc[24..40], &[0xCD; 16], "UUID");
    assert_eq!(&desc[40..45], &[4, 1, 0, 0, 0], "CSI: NVM");
    assert!(desc[45..].iter().all(|&b| b == 0));
    // An inactive NSID: a zeroed Identify Namespace, but no descriptors (nothing to
    // describe) nor command-set-specific namespace data.
    let (_, inactive) = h.run(identify(0, 5), &[]);
    assert!(inactive.iter().all(|&b| b == 0));
    let invalid_ns = Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr();
    assert_eq!(h.run(identify(3, 5), &[]).0.status, invalid_ns);
    assert_eq!(h.run(identify(5, 5), &[]).0.status, invalid_ns);
    let (c, nvm_ns) = h.run(identify(5, 1), &[]);
    assert!(c.status.is_success() && nvm_ns.len() == 4096);
    let (c, nvm_ctrl) = h.run(identify(6, 0), &[]);
    assert!(c.status.is_success() && nvm_ctrl.len() == 4096);
    let mut other_set = identify(6, 0);
    other_set.cdw[1] = 2 << 24; // CSI 02h: Zoned Namespace, not supported.
    assert_eq!(h.run(other_set, &[]).0.status, Status::INVALID_FIELD.with_dnr());
    let (c, _) = h.run(identify(0, 0), &[]);
    assert_eq!(c.status, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr());
    let (c, _) = h.run(identify(0x42, 0), &[]);
    assert_eq!(c.status, Status::INVALID_FIELD.with_dnr());
    // Features.
    let mut s = Sqe::new(admin_opcode::SET_FEATURES, 0);
    s.cdw[0] = 0x07;
    s.cdw[1] = 0x0003_0003;
    let (c, _) = h.run(s, &[]);
    assert_eq!(c.dw0, 0x0003_0003);
    let (c, _) = h.run(Sqe::new(0xEE, 0), &[]);
    assert_eq!(c.status, Status::INVALID_OPCODE.with_dnr());
    // Log pages.
    let (c, smart) = h.run(log_page(2, 512), &[]);
    assert!(c.status.is_success());
    assert_eq!(smart[3], 100);
    let (c, _) = h.run(log_page(0x70, 1024), &[]);
    assert_eq!(c.status, Status::INVALID_LOG_PAGE.with_dnr());
    // Shutdown.
    let sqe =
        PropertySetCmd { eight_bytes: false, offset: property::CC, value: 0x0046_4001 }.to_sqe(0);
    h.run(sqe, &[]);
    let (c, _) =
        h.run(PropertyGetCmd { eight_bytes: false, offset: property::CSTS }.to_sqe(0), &[]);
    assert_eq!((c.dw0 >> 2) & 3, 0b10);
    drop(h);
    assert_eq!(t.controller_count(SUB), 0);
}

/// Active Namespace ID list (CNS 02h, NVMe Base 2.0 §5.17.2.1): the active NSIDs
/// greater than the command's NSID, ascending, zero-filled; NSID FFFFFFFEh and FFFFFFFFh
/// are Invalid Namespace or Format, as QEMU's and Linux's controllers answer.
#[test]
fn active_namespace_list_holds_the_nsids_above_the_one_given() {
    let t = target();
    for nsid in [2, 7] {
        let v = Arc::new(Volume::ram("v", 512, 1 << 20).unwrap());
        t.add_namespace(SUB, nsid, v, [nsid as u8; 16], [nsid as u8 + 0x10; 16]).unwrap();
    }
    let (mut h, _) = H::admin(&t, 0);
    let mut list_above = |nsid: u32| {
        let (c, list) = h.run(identify(2, nsid), &[]);
        assert!(c.status.is_success(), "NSID {nsid:#x}: {c:?}");
        assert_eq!(list.len(), 4096);
        let ids: Vec<u32> =
            list.chunks(4).map(|b| u32::from_le_bytes(b.try_into().unwrap())).collect();
        let n = ids.iter().position(|&id| id == 0).unwrap_or(ids.len());
        assert!(ids[n..].iter().all(|&id| id == 0), "NSID {nsid:#x}: zeros after the list");
        ids[..n].to_vec()
    };
    assert_eq!(list_above(0), [1, 2, 7]);
    assert_eq!(list_above(1), [2, 7], "greater than the NSID given, not equal");
    assert_eq!(list_above(2), [7]);
    assert_eq!(list_above(3), [7], "an inactive NSID: the active ones above it");
    assert!(list_above(7).is_empty(), "none above the last");
    assert!(list_above(0xFFFF_FFFD).is_empty());
    for nsid in [0xFFFF_FFFE, 0xFFFF_FFFF] {
        let (c, data) = h.run(identify(2, nsid), &[]);
        assert_eq!(c.status, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr(), "NSID {nsid:#x}");
        assert!(data.is_empty());
    }
}

/// Identify takes from the registry only what the structure asked for shows: the
/// I/O Command Set controller structure (CNS 06h) and a CNS not supported take no
/// registry lock (they used to copy the whole subsystem, up to 1,024 hosts and their
/// secrets, under it), while Identify Controller still shows the subsystem's names.
#[test]
fn identify_without_the_subsystem_takes_no_registry_lock() {
    let t = target();
    let (mut h, _) = H::admin(&t, 0);
    let held = t.hold_registry_for_tests();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(|| {
            let answers = [identify(6, 0), identify(0x42, 0)].map(|sqe| h.run(sqe, &[]).0.status);
            tx.send(answers).unwrap();
        });
        let answered = rx.recv_timeout(Duration::from_secs(2));
        drop(held);
        assert_eq!(
            answered.ok(),
            Some([Status::SUCCESS, Status::INVALID_FIELD.with_dnr()]),
            "answered while the registry was locked"
        );
    });
    let (c, id) = h.run(identify(1, 0), &[]);
    assert!(c.status.is_success());
    assert_eq!(&id[4..11], b"SERIAL1");
    assert_eq!(&id[768..768 + SUB.len()], SUB.as_bytes());
}

/// Each completion carries the SQ Head Pointer (CQE DW2): the entries the controller took
/// from the SQ, Connect the first, failed commands too, wrapping at the queue's SQSIZE + 1
/// entries; a fabrics host frees SQ slots by it (SQ flow control, not disabled here). As
/// Linux's nvmet counts.
#[test]
fn sqhd_counts_every_command_and_wraps_at_the_queue_size() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let (csts, flush) = csts_and_flush();
    // A new admin queue and an I/O queue, each of 4 entries (SQSIZE 3, 0's based).
    for (qid, cntlid, sqe) in [(0, CNTLID_DYNAMIC, csts), (1, cntlid, flush)] {
        let mut h = H::new(&t, false, false);
        let connect = ConnectCmd { recfmt: 0, qid, sqsize: 3, cattr: 0, kato: 0 }.to_sqe(0);
        let d = ConnectData { hostid: HOSTID, cntlid, subnqn: SUB.into(), hostnqn: HOST.into() };
        let (c, _) = h.run(connect, &d.to_bytes());
        assert!(c.status.is_success(), "{c:?}");
        let mut sqhd = vec![c.sqhd];
        // SQSIZE + 1 more, one at a time; the second an opcode that does not exist.
        for i in 0..4 {
            let (c, _) = h.run(if i == 1 { Sqe::new(0xEE, 0) } else { sqe }, &[]);
            assert_eq!(c.status.is_success(), i != 1, "QID {qid}: {c:?}");
            sqhd.push(c.sqhd);
        }
        assert_eq!(sqhd, [1, 2, 3, 0, 1], "QID {qid}");
    }
}

/// A command for an admin queue (Property Get CSTS) and one for an I/O queue (Flush of
/// namespace 1), neither with data.
fn csts_and_flush() -> (Sqe, Sqe) {
    let csts = PropertyGetCmd { eight_bytes: false, offset: property::CSTS }.to_sqe(0);
    let mut flush = Sqe::new(io_opcode::FLUSH, 0);
    flush.nsid = 1;
    (csts, flush)
}

/// A host that disables SQ flow control (Connect CATTR bit 2) is told with SQHD FFFFh in
/// the Connect response that no SQ head updates follow (NVMe-oF 1.1 §3.3, TP 8005); later
/// completions leave the field 0, as Linux's nvmet does. Admin and I/O queues alike.
#[test]
fn sqhd_is_ffff_on_connect_then_zero_with_sq_flow_control_disabled() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let (csts, flush) = csts_and_flush();
    for (qid, cntlid, sqe) in [(0, CNTLID_DYNAMIC, csts), (1, cntlid, flush)] {
        let mut h = H::new(&t, false, false);
        let c = h.connect(SUB, qid, cntlid, 0, 0b100);
        assert!(c.status.is_success(), "{c:?}");
        assert_eq!(c.sqhd, 0xFFFF, "QID {qid}: Connect response");
        // Past a wrap of the 32-entry queue; the second an opcode that does not exist.
        for i in 0..40 {
            let (c, _) = h.run(if i == 1 { Sqe::new(0xEE, 0) } else { sqe }, &[]);
            assert_eq!(c.status.is_success(), i != 1, "QID {qid}: {c:?}");
            assert_eq!(c.sqhd, 0, "QID {qid}, command {i}");
        }
    }
}

#[test]
fn io_write_in_capsule_and_r2t_then_read_back() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    // In-capsule write of 2 blocks.
    let small: Vec<u8> = (0..1024u32).map(|i| i as u8).collect();
    let mut s = rw(io_opcode::WRITE, 10, 2, 0);
    s.set_sgl(SglDescriptor::in_capsule(1024));
    let (c, _) = q.run(s, &small);
    assert!(c.status.is_success(), "{c:?}");
    // R2T write of 64 KiB.
    let big: Vec<u8> = (0..65536u32).map(|i| (i * 7) as u8).collect();
    q.cid += 1;
    let mut s = rw(io_opcode::WRITE, 100, 128, 65536);
    s.cid = q.cid;
    q.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: s, data: vec![].into() }));
    let p = q.pdus();
    let [Pdu::R2t(r)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((r.cccid, r.r2to, r.r2tl), (q.cid, 0, 65536));
    let mut out = Vec::new();
    for (i, chunk) in big.chunks(16384).enumerate() {
        let h = DataPduHeader {
            cccid: q.cid,
            ttag: r.ttag,
            datao: (i * 16384) as u32,
            last: i == 3,
            success: false,
        };
        encode_h2c_data(&h, chunk, &q.framing, &mut out).unwrap();
    }
    q.conn.receive(&out, q.now);
    let p = q.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert!(c.status.is_success());
    assert_eq!(c.sqid, 1);
    // Read both back.
    let (c, d) = q.run(rw(io_opcode::READ, 10, 2, 1024), &[]);
    assert!(c.status.is_success());
    assert_eq!(d, small);
    let (_, d) = q.run(rw(io_opcode::READ, 100, 128, 65536), &[]);
    assert_eq!(d, big);
    // Compare, write zeroes, flush, DSM.
    let mut s = rw(io_opcode::COMPARE, 10, 2, 1024);
    s.set_sgl(SglDescriptor::in_capsule(1024));
    assert!(q.run(s, &small).0.status.is_success());
    let mut s = rw(io_opcode::COMPARE, 10, 2, 1024);
    s.set_sgl(SglDescriptor::in_capsule(1024));
    assert_eq!(q.run(s, &big[..1024]).0.status, Status::COMPARE_FAILURE.with_dnr());
    let mut wz = rw(io_opcode::WRITE_ZEROES, 10, 1, 0);
    wz.set_sgl(SglDescriptor::transport(0));
    assert!(q.run(wz, &[]).0.status.is_success());
    let (_, d) = q.run(rw(io_opcode::READ, 10, 2, 1024), &[]);
    assert!(d[..512].iter().all(|&b| b == 0));
    assert_eq!(d[512..], small[512..]);
    let mut f = Sqe::new(io_opcode::FLUSH, 0);
    f.nsid = 1;
    assert!(q.run(f, &[]).0.status.is_success());
    let mut range = vec![0u8; 16];
    range[4..8].copy_from_slice(&128u32.to_le_bytes());
    range[8..16].copy_from_slice(&100u64.to_le_bytes());
    let mut dsm = Sqe::new(io_opcode::DATASET_MANAGEMENT, 0);
    dsm.nsid = 1;
    dsm.cdw[1] = 1 << 2;
    assert!(q.run(dsm, &range).0.status.is_success());
    let (_, d) = q.run(rw(io_opcode::READ, 100, 128, 65536), &[]);
    assert!(d.iter().all(|&b| b == 0));
    let ns = t.namespace(SUB, 1).unwrap().stats.snapshot();
    assert_eq!((ns.writes, ns.write_bytes), (2, 1024 + 65536));
}

/// I/O commands run only while the host has the controller enabled and not shut down:
/// Command Sequence Error otherwise, as from nvmet, until the queue's tick closes it (a
/// reset or shutdown deletes the I/O queues); the host connects new ones once enabled.
#[test]
fn io_commands_wait_for_an_enabled_controller_not_shut_down() {
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let write = |slba| {
        let mut s = rw(io_opcode::WRITE, slba, 1, 512);
        s.set_sgl(SglDescriptor::in_capsule(512));
        s
    };
    let refused = Status::COMMAND_SEQUENCE_ERROR.with_dnr();
    assert!(q.run(write(3), &[0x33; 512]).0.status.is_success());
    // Disabled (a reset begins): no I/O command runs, nothing reaches the volume, and a
    // write that would take R2T data is refused before asking for it.
    admin.set_cc(0x0046_0000);
    assert_eq!(q.run(write(4), &[0x44; 512]).0.status, refused);
    assert_eq!(q.run(rw(io_opcode::READ, 3, 1, 512), &[]).0.status, refused);
    let mut flush = Sqe::new(io_opcode::FLUSH, 0);
    flush.nsid = 1;
    assert_eq!(q.run(flush, &[]).0.status, refused);
    let p = q.cmd(rw(io_opcode::WRITE, 5, 8, 4096), &[]);
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("no R2T wanted: {p:?}") };
    assert_eq!(c.status, refused);
    q.conn.tick(q.now);
    assert_eq!(q.conn.is_closed(), Some(&CloseReason::ControllerReset));
    // Enabled again: the data written before is there, the refused write never landed.
    admin.enable();
    let mut q = H::io(&t, cntlid, 1, 0);
    let (c, d) = q.run(rw(io_opcode::READ, 3, 2, 1024), &[]);
    assert!(c.status.is_success(), "{c:?}");
    assert!(d[..512].iter().all(|&b| b == 0x33) && d[512..].iter().all(|&b| b == 0));
    // A shutdown notification (SHN = 01b) with EN still set: I/O stops until a reset.
    admin.set_cc(0x0046_4001);
    assert_eq!(admin.csts() & 0b1100, 0b0100, "SHST: processing while the queue is open");
    assert_eq!(q.run(write(6), &[0x66; 512]).0.status, refused);
    q.conn.tick(q.now);
    assert_eq!(q.conn.is_closed(), Some(&CloseReason::ControllerReset));
    assert_eq!(admin.csts() & 0b1100, 0b1000, "SHST: shutdown complete");
    // Clearing SHN is no reset: still shut down, no I/O queue connects.
    admin.set_cc(0x0046_0001);
    assert_eq!(admin.csts() & 0b1100, 0b1000, "SHST stays until a reset");
    let mut late = H::new(&t, true, true);
    assert_eq!(late.connect(SUB, 1, cntlid, 0, 0).status, refused);
    // A reset (EN 1 -> 0 -> 1) brings it back.
    admin.set_cc(0x0046_0000);
    admin.enable();
    let mut q = H::io(&t, cntlid, 1, 0);
    assert!(q.run(write(6), &[0x66; 512]).0.status.is_success());
    // So does a reset whose CC write leaves SHN set (SPDK's host clears EN alone), as in
    // nvmet, whose enable sets CSTS to RDY alone.
    admin.set_cc(0x0046_4001);
    q.conn.tick(q.now);
    admin.set_cc(0x0046_4000);
    admin.enable();
    assert_eq!(admin.csts(), 1, "RDY alone: no shutdown state");
    let mut q = H::io(&t, cntlid, 1, 0);
    assert!(q.run(write(7), &[0x77; 512]).0.status.is_success());
    let ns = t.namespace(SUB, 1).unwrap().stats.snapshot();
    assert_eq!((ns.writes, ns.reads), (3, 1));
}

impl H {
    /// Reads CSTS (admin queue).
    fn csts(&mut self) -> u32 {
        let get = PropertyGetCmd { eight_bytes: false, offset: property::CSTS }.to_sqe(0);
        let (c, _) = self.run(get, &[]);
        assert!(c.status.is_success(), "{c:?}");
        c.dw0
    }

    /// Writes CC (admin queue).
    fn set_cc(&mut self, value: u64) {
        let sqe = PropertySetCmd { eight_bytes: false, offset: property::CC, value }.to_sqe(0);
        assert!(self.run(sqe, &[]).0.status.is_success());
    }
}

/// The first block of namespace 1, read from its volume.
fn first_block(t: &Target) -> [u8; 512] {
    let mut block = [0u8; 512];
    t.namespace(SUB, 1).unwrap().volume.backend().read_at(&mut block, 0).unwrap();
    block
}

/// A reset (CC.EN 1 -> 0) stops the controller's I/O (NVMe Base 2.0 §3.7.2): its I/O
/// queues close, and CSTS.RDY stays 1 until every operation they handed to the volume has
/// ended, so that a write still running cannot land after the host re-enabled the
/// controller and wrote anew (SPDK reports RDY = 0 likewise only once its queues drained).
#[test]
fn a_reset_reports_not_ready_only_once_the_io_in_flight_is_done() {
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let woken = q.conn.controller_watch().unwrap();
    let w1 = queued_write(&mut q, 0x11);
    admin.set_cc(0x0046_0000);
    assert!(woken.has_changed().unwrap(), "the reset wakes the queues");
    assert_eq!(admin.csts() & 1, 1, "RDY while W1 runs");
    q.conn.tick(q.now);
    assert_eq!(q.conn.is_closed(), Some(&CloseReason::ControllerReset));
    assert_eq!(admin.csts() & 1, 1, "RDY while W1 runs, its queue closed");
    finish_write(&mut q, w1);
    assert_eq!(admin.csts(), 0, "W1 done: not ready");
    admin.enable();
    let mut q = H::io(&t, cntlid, 1, 0);
    assert!(q.write_first_block().is_success());
    assert_eq!(first_block(&t), [0x42; 512], "nothing older lands over it");
}

/// A shutdown notification (CC.SHN 01b) reports SHST 01b (processing) until the I/O in
/// flight is done, then 10b (NVMe Base 2.0 §3.6.1); its I/O queues close.
#[test]
fn a_shutdown_completes_once_the_io_in_flight_is_done() {
    let t = target();
    let (mut admin, mut q, w1) = controller_with_a_write_held(&t);
    admin.set_cc(0x0046_4001);
    assert_eq!(admin.csts(), 0b0101, "RDY, SHST processing");
    q.conn.tick(q.now);
    assert_eq!(q.conn.is_closed(), Some(&CloseReason::ControllerReset));
    assert_eq!(admin.csts(), 0b0101, "still processing");
    finish_write(&mut q, w1);
    assert_eq!(admin.csts(), 0b1001, "shutdown complete");
}

/// A shutdown notification flushes the volatile write cache of each of the subsystem's
/// volumes once the I/O before it ended, and reports SHST 01b until those flushes are done
/// (as QEMU's nvme does): a card powered from the host's slot would otherwise lose writes
/// it acknowledged. The flushes go to the shell, never run on the reactor; a volume without
/// a volatile cache (RAM) needs none.
#[test]
fn a_shutdown_flushes_the_volatile_caches_after_the_io_before_it() {
    let t = target();
    let flushes = add_counting_namespace(&t, 2);
    let (mut admin, mut q, w1) = controller_with_a_write_held(&t);
    let shn = PropertySetCmd { eight_bytes: false, offset: property::CC, value: 0x0046_4001 };
    admin.submit(shn.to_sqe(0), &[]);
    assert!(admin.conn.poll_io().is_none(), "no flush before the I/O ended");
    let p = admin.pdus();
    assert!(matches!(p.as_slice(), [Pdu::CapsuleResp(c)] if c.status.is_success()), "{p:?}");
    assert_eq!(admin.csts(), 0b0101);
    q.conn.tick(q.now);
    finish_write(&mut q, w1);
    let get = PropertyGetCmd { eight_bytes: false, offset: property::CSTS }.to_sqe(0);
    admin.submit(get, &[]);
    let flush = admin.conn.poll_io().expect("the volatile volume's flush");
    assert!(matches!(flush.op, IoOp::Flush), "{:?}", flush.op);
    assert!(admin.conn.poll_io().is_none(), "the RAM volume has nothing to flush");
    let p = admin.pdus();
    assert!(matches!(p.as_slice(), [Pdu::CapsuleResp(c)] if c.dw0 == 0b0101), "{p:?}");
    assert_eq!(admin.csts(), 0b0101, "processing while the flush runs");
    assert_eq!(flushes.load(Ordering::Relaxed), 0);
    finish_write(&mut admin, flush);
    assert_eq!(flushes.load(Ordering::Relaxed), 1);
    assert_eq!(admin.csts(), 0b1001, "complete once flushed");
}

/// The admin queue of a controller of `t` with a volatile volume (namespace 2, whose
/// flushes are counted) told to shut down (CC.SHN 01b) while a write ran, the write ended
/// since: the shutdown's flushes are due.
fn shutdown_after_its_io(t: &Arc<Target>) -> (H, Arc<std::sync::atomic::AtomicUsize>) {
    let flushes = add_counting_namespace(t, 2);
    let (mut admin, mut q, w1) = controller_with_a_write_held(t);
    admin.set_cc(0x0046_4001);
    q.conn.tick(q.now);
    finish_write(&mut q, w1);
    (admin, flushes)
}

/// A shutdown's flushes do not wait for the host to read CSTS: a host that reads it only
/// after CAP.TO (10 s), its I/O long ended, gets the flushes all the same, and no CFS
/// (CAP.TO for them runs from when they start).
#[test]
fn a_shutdown_flushes_also_when_the_host_reads_csts_late() {
    let t = target();
    let (mut admin, flushes) = shutdown_after_its_io(&t);
    admin.now += Duration::from_secs(11);
    assert_eq!(admin.csts() & 0b1110, 0b0100, "processing while the flush runs: no CFS");
    assert_eq!(flushes.load(Ordering::Relaxed), 1);
    assert_eq!(admin.csts(), 0b1001, "complete once flushed");
}

/// A shutdown's flush that fails is Controller Fatal: the host that reads SHST 10b (it may
/// now remove power) reads CFS with it, as for a flush that never ends, since writes it was
/// told were done may be lost. The shutdown completes once the flush's result is taken,
/// not as soon as the shell's operation ended, so no CSTS read comes between.
#[test]
fn a_failed_shutdown_flush_is_controller_fatal() {
    let t = target();
    let (mut admin, flushes) = shutdown_after_its_io(&t);
    admin.conn.tick(admin.now);
    let flush = admin.conn.poll_io().expect("the volatile volume's flush");
    let tag = flush.tag;
    // The shell's operation ended (the request, and what it held, is gone); its result
    // waits in the task's channel.
    drop(flush);
    assert_eq!(admin.csts(), 0b0101, "processing until the flush's result is taken");
    admin.conn.complete_io(tag, Err(Errno::EIO.into()));
    assert_eq!(admin.csts(), 0b1011, "complete, with CFS: the cache was not flushed");
    assert_eq!(flushes.load(Ordering::Relaxed), 0);
    // A reset and enable start afresh, as after any Controller Fatal Status.
    admin.set_cc(0x0046_0000);
    admin.enable();
    assert_eq!(admin.csts(), 1);
}

/// The admin queue's tick starts a shutdown's flushes once its I/O ended, without a
/// CSTS read; the flush that never ends is Controller Fatal CAP.TO after it started.
#[test]
fn the_admin_queues_tick_starts_a_shutdowns_flushes() {
    let t = target();
    add_counting_namespace(&t, 2);
    let (mut admin, mut q, w1) = controller_with_a_write_held(&t);
    admin.set_cc(0x0046_4001);
    q.conn.tick(q.now);
    admin.now += Duration::from_secs(5);
    admin.conn.tick(admin.now);
    assert!(admin.conn.poll_io().is_none(), "no flush before the I/O ended");
    finish_write(&mut q, w1);
    admin.conn.tick(admin.now);
    let flush = admin.conn.poll_io().expect("the volatile volume's flush");
    assert!(matches!(flush.op, IoOp::Flush), "{:?}", flush.op);
    admin.now += Duration::from_millis(9_900);
    assert_eq!(admin.csts(), 0b0101, "within CAP.TO of the flush's start");
    admin.now += Duration::from_millis(200);
    assert_eq!(admin.csts() & 0b10, 0b10, "CFS: the flush never ended");
    drop(flush);
}

/// A reset whose I/O is not done within CAP.TO (10 s) reports Controller Fatal Status
/// rather than ready for ever; the host's next enable starts afresh.
#[test]
fn a_reset_whose_io_does_not_end_in_time_is_controller_fatal() {
    let t = target();
    let (mut admin, mut q, w1) = controller_with_a_write_held(&t);
    admin.set_cc(0x0046_0000);
    q.conn.tick(q.now);
    admin.now += Duration::from_millis(9_900);
    assert_eq!(admin.csts(), 1, "within CAP.TO");
    admin.now += Duration::from_millis(200);
    assert_eq!(admin.csts(), 0b10, "CFS past CAP.TO");
    drop(w1);
    admin.enable();
}

/// A closed I/O queue's QID stays taken while volume operations it started still run, as
/// nvmet keeps the queue until `nvmet_sq_destroy` waited for its commands: a new Connect
/// for it is Command Sequence Error until they ended, so its host's writes through the new
/// queue cannot be overtaken by the old queue's.
#[test]
fn a_closed_queues_id_is_taken_until_its_operations_end() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let w1 = queued_write(&mut q, 0x11);
    q.conn.shutdown();
    let mut again = H::new(&t, true, true);
    let c = again.connect(SUB, 1, cntlid, 0, 0);
    assert_eq!(c.status, Status::COMMAND_SEQUENCE_ERROR.with_dnr(), "taken while W1 runs");
    finish_write(&mut q, w1);
    let mut q = H::io(&t, cntlid, 1, 0);
    assert!(q.write_first_block().is_success());
    assert_eq!(first_block(&t), [0x42; 512]);
}

#[test]
fn io_errors_have_the_right_status() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let (c, d) = q.run(rw(io_opcode::READ, 2047, 2, 1024), &[]);
    assert_eq!(c.status, Status::LBA_OUT_OF_RANGE.with_dnr());
    assert!(d.is_empty());
    let (c, _) = q.run(rw(io_opcode::READ, u64::MAX, 1, 512), &[]);
    assert_eq!(c.status, Status::LBA_OUT_OF_RANGE.with_dnr());
    let mut s = rw(io_opcode::READ, 0, 1, 512);
    s.nsid = 9;
    assert_eq!(q.run(s, &[]).0.status, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr());
    // The namespace counts its own failed commands, not those for a missing one.
    let ns = t.namespace(SUB, 1).unwrap().stats.snapshot();
    assert_eq!((ns.errors, ns.reads), (2, 0));
    let (c, _) = q.run(rw(io_opcode::READ, 0, 2, 512), &[]);
    assert_eq!(c.status, Status::DATA_SGL_LENGTH_INVALID.with_dnr());
    // An out-of-range R2T write is refused before any data moves.
    let p = q.cmd(rw(io_opcode::WRITE, 2040, 16, 8192), &[]);
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!(c.status, Status::LBA_OUT_OF_RANGE.with_dnr());
    let (c, _) = q.run(Sqe::new(0x7E, 0), &[]);
    assert_eq!(c.status, Status::INVALID_OPCODE.with_dnr());
    // Above the largest transfer (128 KiB = MDTS): Invalid Field for a read and a write
    // alike, the write refused before any R2T.
    let (c, _) = q.run(rw(io_opcode::READ, 0, 257, 257 * 512), &[]);
    assert_eq!(c.status, Status::INVALID_FIELD.with_dnr());
    let p = q.cmd(rw(io_opcode::WRITE, 0, 257, 257 * 512), &[]);
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!(c.status, Status::INVALID_FIELD.with_dnr());
    // Write Zeroes, Flush and Dataset Management: range, namespace and range-list checks.
    let no_data = |op, slba, blocks, nsid| {
        let mut s = rw(op, slba, blocks, 0);
        s.nsid = nsid;
        s
    };
    let (c, _) = q.run(no_data(io_opcode::WRITE_ZEROES, 2047, 2, 1), &[]);
    assert_eq!(c.status, Status::LBA_OUT_OF_RANGE.with_dnr());
    for op in [io_opcode::WRITE_ZEROES, io_opcode::FLUSH] {
        let (c, _) = q.run(no_data(op, 0, 1, 9), &[]);
        assert_eq!(c.status, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr(), "opcode {op}");
    }
    let dsm = |ranges: u32| {
        let mut s = Sqe::new(io_opcode::DATASET_MANAGEMENT, 0);
        s.nsid = 1;
        s.cdw[0] = ranges - 1;
        s.cdw[1] = 1 << 2;
        s
    };
    let range = |slba: u64, blocks: u32| {
        let mut r = vec![0u8; 16];
        r[4..8].copy_from_slice(&blocks.to_le_bytes());
        r[8..16].copy_from_slice(&slba.to_le_bytes());
        r
    };
    assert_eq!(q.run(dsm(2), &range(0, 1)).0.status, Status::DATA_SGL_LENGTH_INVALID.with_dnr());
    assert_eq!(q.run(dsm(1), &range(2040, 16)).0.status, Status::LBA_OUT_OF_RANGE.with_dnr());
    // Compare with its data sent on R2T: equal, then different.
    let mut w = rw(io_opcode::WRITE, 64, 16, 8192);
    w.set_sgl(SglDescriptor::in_capsule(8192));
    assert!(q.run(w, &[0x5C; 8192]).0.status.is_success());
    for (byte, want) in [(0x5C, Status::SUCCESS), (0x5D, Status::COMPARE_FAILURE.with_dnr())] {
        let p = q.cmd(rw(io_opcode::COMPARE, 64, 32, 16384), &[]);
        let [Pdu::R2t(r)] = p.as_slice() else { panic!("{p:?}") };
        let mut data = vec![0x5C; 16384];
        data[8192..].fill(0);
        data[100] = byte;
        let h = DataPduHeader { cccid: q.cid, ttag: r.ttag, datao: 0, last: true, success: false };
        let mut out = Vec::new();
        encode_h2c_data(&h, &data, &q.framing, &mut out).unwrap();
        q.conn.receive(&out, q.now);
        let p = q.pdus();
        let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
        assert_eq!(c.status, want);
    }
    // Command ID conflict: a second command with the CID of one waiting for data.
    let p = q.cmd(rw(io_opcode::WRITE, 0, 16, 8192), &[]);
    assert!(matches!(p.as_slice(), [Pdu::R2t(_)]));
    let mut dup = rw(io_opcode::READ, 0, 1, 512);
    dup.cid = q.cid;
    q.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: dup, data: vec![].into() }));
    let p = q.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!(c.status, Status::COMMAND_ID_CONFLICT.with_dnr());
    assert!(q.conn.is_closed().is_none());
}

#[test]
fn success_flag_only_without_sq_flow_control() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut with_flow = H::io(&t, cntlid, 1, 0);
    let p = with_flow.cmd(rw(io_opcode::READ, 0, 1, 512), &[]);
    let [Pdu::C2HData(d), Pdu::CapsuleResp(_)] = p.as_slice() else { panic!("{p:?}") };
    assert!(d.header.last && !d.header.success);
    // The largest read leaves in one PDU by default.
    let mut no_flow = H::io(&t, cntlid, 2, 0b100);
    let p = no_flow.cmd(rw(io_opcode::READ, 0, 256, 131072), &[]);
    let [Pdu::C2HData(d)] = p.as_slice() else { panic!("{p:?}") };
    assert!(d.header.last && d.header.success && d.data.len() == 131072);
    // Split into PDUs: only the last one carries LAST and SUCCESS.
    let cfg = QueueConfig { max_c2h_data: 48 * 1024, ..QueueConfig::default() };
    let mut split = H::with_config(&t, cfg, true, true);
    assert!(split.connect(SUB, 3, cntlid, 0, 0b100).status.is_success());
    let p = split.cmd(rw(io_opcode::READ, 0, 256, 131072), &[]);
    let [Pdu::C2HData(a), Pdu::C2HData(b), Pdu::C2HData(c)] = p.as_slice() else { panic!("{p:?}") };
    assert!(!a.header.last && !a.header.success && !b.header.last && !b.header.success);
    assert!(c.header.last && c.header.success);
    let offsets = [a, b, c].map(|d| (d.header.datao, d.data.len()));
    assert_eq!(offsets, [(0, 48 * 1024), (48 * 1024, 48 * 1024), (96 * 1024, 32 * 1024)]);
}

/// The shell gives each sent output buffer back; the next batch is assembled in the
/// same allocation, and a buffer given back while output waits changes nothing.
#[test]
fn a_recycled_output_buffer_assembles_the_next_batch() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    // Runs one 4 KiB read and returns the output's segments.
    let read = |q: &mut H| {
        q.cid += 1;
        let mut sqe = rw(io_opcode::READ, 0, 8, 4096);
        sqe.cid = q.cid;
        q.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe, data: Bytes::new() }));
        q.run_io();
        q.conn.take_segments()
    };
    let first = read(&mut q);
    let [Segment::Owned(sent)] = first.as_slice() else { panic!("one owned segment") };
    let (ptr, bytes) = (sent.as_ptr(), sent.clone());
    for seg in first {
        if let Segment::Owned(buf) = seg {
            q.conn.recycle_output(buf);
        }
    }
    let second = read(&mut q);
    let [Segment::Owned(again)] = second.as_slice() else { panic!("one owned segment") };
    assert_eq!(again.as_ptr(), ptr, "the recycled allocation was not reused");
    assert_eq!(again.len(), bytes.len());
    // Output waiting (a Flush's completion) is not replaced by a buffer given back.
    q.cid += 1;
    let mut flush = Sqe::new(io_opcode::FLUSH, q.cid);
    flush.nsid = 1;
    q.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: flush, data: Bytes::new() }));
    q.run_io();
    q.conn.recycle_output(vec![0xAA; 1 << 20]);
    let p = q.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert!(c.status.is_success() && c.cid == q.cid, "{c:?}");
}

#[test]
fn small_reads_copied_into_the_output_keep_digests_flags_and_errors() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let ns = t.namespace(SUB, 1).unwrap();
    let backend = ns.volume.backend();
    let data: Vec<u8> = (0..8192u32).map(|i| (i * 13) as u8).collect();
    let reads = || {
        let r = |slba, blocks, len| (rw(io_opcode::READ, slba, blocks, len), Vec::new());
        vec![r(8, 8, 4096), r(12, 1, 512), r(16, 8, 4096)]
    };
    let expected = [&data[..4096], &data[2048..2560], &data[4096..]];
    // Data digests on (H::io); with and without SQ flow control.
    for (qid, cattr) in [(1, 0), (2, 0b100)] {
        let mut q = H::io(&t, cntlid, qid, cattr);
        let mut w = rw(io_opcode::WRITE, 8, 16, 0);
        w.set_sgl(SglDescriptor::in_capsule(8192));
        assert!(q.run(w, &data).0.status.is_success());
        let first = q.cid + 1;
        // Three reads in one batch, the middle one failing (with an error, or appending
        // the wrong length): its PDU leaves the output and its command fails; the others
        // are whole (the host's decoder checked the data digests computed over the output).
        for fail_middle in [None, Some(false), Some(true)] {
            let p = q.cmds_reading_into_output(reads(), |i, out, offset, len| match fail_middle {
                Some(false) if i == 1 => Err(Errno::EIO.into()),
                Some(true) if i == 1 => backend.read_append(out, offset, len - 1),
                _ => backend.read_append(out, offset, len),
            });
            let mut data_pdus = Vec::new();
            let mut failed = Vec::new();
            for pdu in &p {
                match pdu {
                    Pdu::C2HData(d) => {
                        assert!(d.header.last && d.header.success == (cattr != 0), "{d:?}");
                        data_pdus.push((d.header.cccid, d.data.clone()));
                    }
                    Pdu::CapsuleResp(c) if c.status.is_success() => assert_eq!(cattr, 0),
                    Pdu::CapsuleResp(c) => failed.push((c.cid, c.status)),
                    other => panic!("{other:?}"),
                }
            }
            let base = q.cid - 2;
            let want: Vec<_> = (0..3)
                .filter(|&i| !(fail_middle.is_some() && i == 1))
                .map(|i| (base + i, expected[usize::from(i)].to_vec()))
                .collect();
            let got: Vec<_> = data_pdus.iter().map(|(c, d)| (*c, d.to_vec())).collect();
            assert_eq!(got, want);
            // The medium's error is a media error; a wrong length, an internal one.
            let want_failed = match fail_middle {
                Some(false) => vec![(base + 1, Status::UNRECOVERED_READ_ERROR.with_dnr())],
                Some(true) => vec![(base + 1, Status::INTERNAL_ERROR.with_dnr())],
                None => vec![],
            };
            assert_eq!(failed, want_failed);
            assert!(base >= first);
        }
        // A Compare reads too, through the same call: into a buffer of its own, then
        // compared (a match, then a mismatch).
        let cmp = |against: &[u8]| (rw(io_opcode::COMPARE, 8, 8, 0), against.to_vec());
        let p = q.cmds_reading_into_output(
            vec![cmp(&data[..4096]), cmp(&data[1..4097])],
            |_, out, offset, len| backend.read_append(out, offset, len),
        );
        let statuses: Vec<_> = p
            .iter()
            .map(|p| match p {
                Pdu::CapsuleResp(c) => c.status,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(statuses, [Status::SUCCESS, Status::COMPARE_FAILURE.with_dnr()]);
    }
}

#[test]
fn connect_refusals() {
    let t = target();
    let mut h = H::new(&t, false, false);
    let c = h.connect("nqn.2024-01.io.example:nope", 0, CNTLID_DYNAMIC, 0, 0);
    assert_eq!(c.status, Status::CONNECT_INVALID_PARAMETERS.with_dnr());
    assert_eq!(c.dw0, (1 << 16) | 256);
    let c = h.connect(SUB, 0, 5, 0, 0);
    assert_eq!(c.dw0, (1 << 16) | 16);
    // A stranger host.
    let sqe = ConnectCmd { recfmt: 0, qid: 0, sqsize: 31, cattr: 0, kato: 0 }.to_sqe(0);
    let d = ConnectData {
        hostid: HOSTID,
        cntlid: CNTLID_DYNAMIC,
        subnqn: SUB.into(),
        hostnqn: "nqn.2014-08.org.example:stranger".into(),
    };
    assert_eq!(h.run(sqe, &d.to_bytes()).0.status, Status::CONNECT_INVALID_HOST.with_dnr());
    // Commands before Connect.
    assert_eq!(h.run(identify(1, 0), &[]).0.status, Status::COMMAND_SEQUENCE_ERROR.with_dnr());
    // I/O queue for a controller that does not exist, or with another host ID (both
    // CNTLID, offset 16).
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::new(&t, false, false);
    assert_eq!(q.connect(SUB, 1, cntlid + 1, 0, 0).dw0, (1 << 16) | 16);
    let sqe = ConnectCmd { recfmt: 0, qid: 1, sqsize: 31, cattr: 0, kato: 0 }.to_sqe(0);
    let d = ConnectData { hostid: [9; 16], cntlid, subnqn: SUB.into(), hostnqn: HOST.into() };
    assert_eq!(q.run(sqe, &d.to_bytes()).0.dw0, (1 << 16) | 16);
    assert!(q.connect(SUB, 1, cntlid, 0, 0).status.is_success());
    // The same QID twice: Command Sequence Error, as nvmet's `nvmet_install_queue`.
    let mut q2 = H::new(&t, false, false);
    let c = q2.connect(SUB, 1, cntlid, 0, 0);
    assert_eq!((c.status, c.dw0), (Status::COMMAND_SEQUENCE_ERROR.with_dnr(), 0));
    assert_eq!(t.stats.connects_refused.load(Ordering::Relaxed), 6);
    // Every refusal but the unknown subsystem's counts for SUB; two queues were accepted.
    let s = &t.subsystem_stats()[0].counters;
    assert_eq!((s.connects_refused, s.connects_accepted), (5, 2));
}

/// A full table answers Controller Busy without Do Not Retry: it clears by itself (an
/// unused controller gives its place), and a Linux host (6.10 on, `nvmf_should_reconnect`)
/// that meets DNR while reconnecting gives the controller up for good.
#[test]
fn a_full_table_answers_controller_busy_without_dnr() {
    let t = target();
    t.set_cntlid_range(SUB, 9..=9).unwrap();
    let (_admin, cntlid) = H::admin(&t, 0);
    assert_eq!(cntlid, 9);
    let c = H::new(&t, false, false).connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
    assert_eq!(c.status, Status::CONNECT_CONTROLLER_BUSY, "SCT 1h, SC 81h, DNR clear");
    assert_eq!(t.stats.connects_refused.load(Ordering::Relaxed), 1);
}

/// Every refused Connect counts, those refused once the Connect data named a controller
/// included: an I/O queue of a controller not enabled yet, a QID taken, and a second
/// Connect on a queue already bound.
#[test]
fn every_refused_connect_counts() {
    let t = target();
    let refused = || {
        let s = &t.subsystem_stats()[0].counters;
        (t.stats.connects_refused.load(Ordering::Relaxed), s.connects_refused)
    };
    let mut admin = H::new(&t, false, false);
    let cntlid = admin.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0).dw0 as u16;
    let c = H::new(&t, false, false).connect(SUB, 1, cntlid, 0, 0);
    assert_eq!(c.status, Status::COMMAND_SEQUENCE_ERROR.with_dnr(), "not enabled yet");
    assert_eq!(refused(), (1, 1));
    admin.enable();
    let mut q = H::io(&t, cntlid, 1, 0);
    let c = H::new(&t, false, false).connect(SUB, 1, cntlid, 0, 0);
    assert_eq!(c.status, Status::COMMAND_SEQUENCE_ERROR.with_dnr(), "QID 1 taken");
    assert_eq!(refused(), (2, 2));
    let c = q.connect(SUB, 2, cntlid, 0, 0);
    assert_eq!(c.status, Status::COMMAND_SEQUENCE_ERROR.with_dnr(), "a bound queue");
    assert_eq!(refused(), (3, 3));
}

/// A Connect refused before its data is read counts too, against the subsystem its data
/// names when that parses (docs/api.md: only Connects whose data does not parse count
/// target-wide alone): a record format other than 0, and the checks every command meets
/// at admission (FUSE set, PSDT other than 01b, an SGL offset, data shorter than the
/// Connect's 1,024 bytes).
#[test]
fn connects_refused_before_their_data_is_read_count() {
    let t = target();
    let refused = || {
        let s = &t.subsystem_stats()[0].counters;
        (t.stats.connects_refused.load(Ordering::Relaxed), s.connects_refused)
    };
    let data = ConnectData {
        hostid: HOSTID,
        cntlid: CNTLID_DYNAMIC,
        subnqn: SUB.into(),
        hostnqn: HOST.into(),
    }
    .to_bytes();
    let connect = |recfmt| ConnectCmd { recfmt, qid: 0, sqsize: 31, cattr: 0, kato: 0 }.to_sqe(0);
    let mut h = H::new(&t, false, false);
    let (c, _) = h.run(connect(1), &data);
    assert_eq!(c.status, Status::CONNECT_INCOMPATIBLE_FORMAT.with_dnr());
    assert_eq!(refused(), (1, 1), "RECFMT 1");
    let mut fused = connect(0);
    fused.fuse = Fuse::First;
    assert_eq!(h.run(fused, &data).0.status, Status::INVALID_FIELD.with_dnr());
    assert_eq!(refused(), (2, 2), "FUSE");
    let mut prp = connect(0);
    prp.psdt = Psdt::Prp;
    assert_eq!(h.run(prp, &data).0.status, Status::INVALID_FIELD.with_dnr());
    assert_eq!(refused(), (3, 3), "PSDT");
    // An in-capsule descriptor with an offset: sent as it is.
    h.cid += 1;
    let mut offset = connect(0);
    offset.cid = h.cid;
    offset.set_sgl(SglDescriptor::InCapsule { offset: 16, length: 1024 });
    h.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: offset, data: data.to_vec().into() }));
    let p = h.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!(c.status, Status::SGL_OFFSET_INVALID.with_dnr());
    assert_eq!(refused(), (4, 4), "SGL offset");
    // Data that does not parse names no subsystem.
    let (c, _) = h.run(connect(0), &data[..512]);
    assert_eq!(c.status, Status::DATA_SGL_LENGTH_INVALID.with_dnr());
    assert_eq!(refused(), (5, 4), "short data");
    // Nor does data that failed its digest (the capsule's Transient Transport Error).
    let mut g = H::new(&t, true, true);
    let mut sqe = connect(0);
    sqe.cid = 9;
    sqe.set_sgl(SglDescriptor::in_capsule(data.len() as u32));
    let mut b =
        Pdu::CapsuleCmd(CapsuleCmd { sqe, data: data.to_vec().into() }).to_vec(&g.framing).unwrap();
    let n = b.len();
    b[n - 1] ^= 0xFF;
    g.conn.receive(&b, g.now);
    let p = g.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.status), (9, Status::TRANSIENT_TRANSPORT_ERROR));
    assert_eq!(refused(), (6, 4), "digest error");
    // None was taken for a success, and the queue still connects.
    assert!(h.run(connect(0), &data).0.status.is_success());
    assert_eq!(refused(), (6, 4));
    assert_eq!(t.subsystem_stats()[0].counters.connects_accepted, 1);
}

/// A host NQN with control characters is refused at Connect, pointing at HOSTNQN, even
/// when any host may connect: it would be kept and shown to the operator in stats.
#[test]
fn connect_refuses_an_nqn_with_control_characters() {
    let t = target();
    t.set_hosts(SUB, true, BTreeSet::new()).unwrap();
    let mut h = H::new(&t, false, false);
    let sqe = ConnectCmd { recfmt: 0, qid: 0, sqsize: 31, cattr: 0, kato: 0 }.to_sqe(0);
    let d = ConnectData {
        hostid: HOSTID,
        cntlid: CNTLID_DYNAMIC,
        subnqn: SUB.into(),
        hostnqn: "nqn.2014-08.org.example:\u{1b}[2Jhost\n".into(),
    };
    let c = h.run(sqe, &d.to_bytes()).0;
    assert_eq!(c.status, Status::CONNECT_INVALID_PARAMETERS.with_dnr());
    assert_eq!(c.dw0, (1 << 16) | u32::from(ConnectData::OFFSET_HOSTNQN));
    assert_eq!(t.controller_count(SUB), 0);
}

#[test]
fn connect_refuses_bad_formats_sizes_and_queue_ids() {
    let t = target();
    let mut h = H::new(&t, false, false);
    let data = |cntlid| {
        ConnectData { hostid: HOSTID, cntlid, subnqn: SUB.into(), hostnqn: HOST.into() }.to_bytes()
    };
    let connect = |recfmt, qid, sqsize| ConnectCmd { recfmt, qid, sqsize, cattr: 0, kato: 0 };
    // Record format 1 does not exist (NVMe-oF 1.1 §3.3).
    let (c, _) = h.run(connect(1, 0, 31).to_sqe(0), &data(CNTLID_DYNAMIC));
    assert_eq!(c.status, Status::CONNECT_INCOMPATIBLE_FORMAT.with_dnr());
    // SQSIZE 0 (a queue of one entry) and above MQES: the invalid SQSIZE field named.
    let sqsize_at = u32::from(ConnectCmd::OFFSET_SQSIZE);
    for sqsize in [0, crate::identify::ADMIN_MQES + 1] {
        let (c, _) = h.run(connect(0, 0, sqsize).to_sqe(0), &data(CNTLID_DYNAMIC));
        assert_eq!((c.status, c.dw0), (Status::CONNECT_INVALID_PARAMETERS.with_dnr(), sqsize_at));
    }
    // Connect data shorter than its 1024 bytes.
    let (c, _) = h.run(connect(0, 0, 31).to_sqe(0), &data(CNTLID_DYNAMIC)[..512]);
    assert_eq!(c.status, Status::DATA_SGL_LENGTH_INVALID.with_dnr());
    // An I/O queue before the controller is enabled.
    let mut admin = H::new(&t, false, false);
    let cntlid = admin.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0).dw0 as u16;
    let mut q = H::new(&t, false, false);
    let (c, _) = q.run(connect(0, 1, 31).to_sqe(0), &data(cntlid));
    assert_eq!(c.status, Status::COMMAND_SEQUENCE_ERROR.with_dnr());
    // Enabled with one I/O queue granted: QID 2 is refused, QID 1 taken; then the
    // number of queues is fixed.
    admin.enable();
    let mut nq = Sqe::new(admin_opcode::SET_FEATURES, 0);
    nq.cdw[0] = 0x07;
    nq.cdw[1] = 0;
    let (c, _) = admin.run(nq, &[]);
    assert_eq!((c.status, c.dw0), (Status::SUCCESS, 0), "one queue granted (0's based)");
    let (c, _) = q.run(connect(0, 1, crate::identify::MQES + 1).to_sqe(0), &data(cntlid));
    assert_eq!((c.status, c.dw0), (Status::CONNECT_INVALID_PARAMETERS.with_dnr(), sqsize_at));
    let mut q2 = H::new(&t, false, false);
    let (c, _) = q2.run(connect(0, 2, 31).to_sqe(0), &data(cntlid));
    assert_eq!(c.dw0, u32::from(ConnectCmd::OFFSET_QID), "QID above the granted queues");
    assert!(q.run(connect(0, 1, 31).to_sqe(0), &data(cntlid)).0.status.is_success());
    let (c, _) = admin.run(nq, &[]);
    assert_eq!(c.status, Status::COMMAND_SEQUENCE_ERROR.with_dnr(), "after an I/O queue exists");
}

/// Number of Queues (NVMe Base 2.0 §5.27.1.5) asked with NSQR and NCQR apart: on fabrics
/// an I/O queue is an SQ and a CQ together, so the grant is the smaller count for both,
/// and a QID above it is refused at Connect.
#[test]
fn number_of_queues_grants_the_smaller_of_the_two_counts() {
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut nq = Sqe::new(admin_opcode::SET_FEATURES, 0);
    nq.cdw[0] = 0x07;
    // 8 CQs and 1 SQ, then 1 CQ and 8 SQs (0's based); the second request replaces the first.
    for cdw11 in [0x0007_0000, 0x0000_0007] {
        nq.cdw[1] = cdw11;
        let (c, _) = admin.run(nq, &[]);
        assert_eq!((c.status, c.dw0), (Status::SUCCESS, 0), "{cdw11:#x}: one queue of each");
    }
    let c = H::new(&t, false, false).connect(SUB, 2, cntlid, 0, 0);
    assert_eq!(
        (c.status, c.dw0),
        (Status::CONNECT_INVALID_PARAMETERS.with_dnr(), u32::from(ConnectCmd::OFFSET_QID))
    );
    H::io(&t, cntlid, 1, 0);
}

/// The subsystem's I/O queue limit caps what Number of Queues grants and which QIDs
/// connect; a controller created before the limit changed keeps its grant (as nvmet's
/// `attr_qid_max`).
#[test]
fn the_subsystem_limit_caps_the_io_queues_a_controller_is_granted() {
    let t = target();
    let number_of_queues = |wanted: u32| {
        let mut s = Sqe::new(admin_opcode::SET_FEATURES, 0);
        s.cdw[0] = 0x07;
        s.cdw[1] = (wanted - 1) | ((wanted - 1) << 16);
        s
    };
    let get_queues = || {
        let mut s = Sqe::new(admin_opcode::GET_FEATURES, 0);
        s.cdw[0] = 0x07;
        s
    };
    let (mut before, before_id) = H::admin(&t, 0);
    t.set_max_io_queues(SUB, 2).unwrap();
    assert!(t.set_max_io_queues(SUB, 0).is_err() && t.set_max_io_queues(SUB, 129).is_err());
    let (mut admin, cntlid) = H::admin(&t, 0);
    assert_eq!(admin.run(get_queues(), &[]).0.dw0, 0x0001_0001, "2 before a request");
    let (c, _) = admin.run(number_of_queues(8), &[]);
    assert_eq!((c.status, c.dw0), (Status::SUCCESS, 0x0001_0001), "8 asked, 2 granted");
    H::io(&t, cntlid, 2, 0);
    let c = H::new(&t, false, false).connect(SUB, 3, cntlid, 0, 0);
    assert_eq!(
        (c.status, c.dw0),
        (Status::CONNECT_INVALID_PARAMETERS.with_dnr(), u32::from(ConnectCmd::OFFSET_QID))
    );
    // Granted before the change: 8 of the default 32.
    let (c, _) = before.run(number_of_queues(8), &[]);
    assert_eq!(c.dw0, 0x0007_0007);
    H::io(&t, before_id, 8, 0);
}

#[test]
fn a_discovery_only_listener_connects_the_discovery_controller_alone() {
    let t = target();
    let cfg = QueueConfig { discovery_only: true, ..QueueConfig::default() };
    let mut h = H::with_config(&t, cfg.clone(), false, false);
    let c = h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
    assert_eq!(c.status, Status::CONNECT_INVALID_PARAMETERS.with_dnr());
    assert_eq!(c.dw0, (1 << 16) | u32::from(ConnectData::OFFSET_SUBNQN));
    assert_eq!(t.controller_count(SUB), 0);
    // Nor an I/O queue of a controller made through another listener.
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::with_config(&t, cfg.clone(), false, false);
    assert_eq!(
        q.connect(SUB, 1, cntlid, 0, 0).status,
        Status::CONNECT_INVALID_PARAMETERS.with_dnr()
    );
    let mut d = H::with_config(&t, cfg, false, false);
    assert!(d.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 0, 0).status.is_success());
}

#[test]
fn data_lengths_that_disagree_with_the_command_are_refused() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let refused = Status::DATA_SGL_LENGTH_INVALID.with_dnr();
    let mut flush = Sqe::new(io_opcode::FLUSH, 0);
    flush.nsid = 1;
    // A Flush moves no data: in-capsule data, or a descriptor for 4 KiB, disagree.
    assert_eq!(q.run(flush, &[0; 512]).0.status, refused);
    let mut f = flush;
    f.set_sgl(SglDescriptor::transport(4096));
    assert_eq!(q.run(f, &[]).0.status, refused);
    // A Read with data in its capsule (its descriptor asks for data to the host).
    q.cid += 1;
    let mut r = rw(io_opcode::READ, 0, 1, 512);
    r.cid = q.cid;
    q.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: r, data: vec![7; 512].into() }));
    let p = q.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.status), (q.cid, refused));
    // Nothing was written; the queue still works.
    assert!(q.run(flush, &[]).0.status.is_success());
    let (c, d) = q.run(rw(io_opcode::READ, 0, 1, 512), &[]);
    assert!(c.status.is_success() && d == [0; 512]);
}

#[test]
fn io_follows_namespace_changes_on_a_connected_queue() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let mut w = rw(io_opcode::WRITE, 0, 1, 0);
    w.set_sgl(SglDescriptor::in_capsule(512));
    assert!(q.run(w, &[0x11; 512]).0.status.is_success());
    assert_eq!(q.run(rw(io_opcode::READ, 0, 1, 512), &[]).1, [0x11; 512]);
    // Removed: the queue's earlier lookup no longer serves.
    t.remove_namespace(SUB, 1).unwrap();
    let (c, _) = q.run(rw(io_opcode::READ, 0, 1, 512), &[]);
    assert_eq!(c.status, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr());
    // The same NSID on another volume: reads see the new one.
    let v = Arc::new(Volume::ram("v2", 512, 1 << 20).unwrap());
    t.add_namespace(SUB, 1, v, [0xAB; 16], [0xCD; 16]).unwrap();
    assert_eq!(q.run(rw(io_opcode::READ, 0, 1, 512), &[]).1, [0; 512]);
}

/// A removed namespace's volume sees no I/O of it once the removal is done: a write of its
/// host handed to the volume and not yet run when the operator removes the namespace
/// (NSID 1) is skipped when its turn comes, after the volume went to another namespace
/// (NSID 2) whose data it would overwrite. Its host hears Invalid Namespace, as Linux's
/// nvmet answers a command to a namespace gone (`nvmet_req_find_ns`).
#[test]
fn a_write_held_when_its_namespace_is_removed_never_lands() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let w1 = queued_write(&mut q, 0x11);
    let removed = t.namespace(SUB, 1).unwrap();
    let v = removed.volume.clone();
    t.remove_namespace(SUB, 1).unwrap();
    assert!(removed.io_running(), "the removal would not wait for the held write");
    t.add_namespace(SUB, 2, v.clone(), [2; 16], [3; 16]).unwrap();
    let mut w2 = rw(io_opcode::WRITE, 0, 1, 0);
    w2.nsid = 2;
    w2.set_sgl(SglDescriptor::in_capsule(512));
    assert!(q.run(w2, &[0x22; 512]).0.status.is_success());
    finish_write(&mut q, w1);
    assert!(!removed.io_running(), "skipped, it still counts");
    let p = q.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!(c.status, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr());
    let mut block = [0u8; 512];
    v.backend().read_at(&mut block, 0).unwrap();
    assert_eq!(block, [0x22; 512], "the removed namespace's write landed");
}

/// Removing a subsystem takes its namespaces out likewise: a write handed to the volume
/// before is counted until its turn comes, then skipped.
#[test]
fn a_write_held_when_its_subsystem_is_removed_never_lands() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let w1 = queued_write(&mut q, 0x11);
    let removed = t.namespace(SUB, 1).unwrap();
    t.remove_subsystem(SUB).unwrap();
    assert!(removed.io_running(), "the removal would not wait for the held write");
    finish_write(&mut q, w1);
    assert!(!removed.io_running());
    let mut block = [0u8; 512];
    removed.volume.backend().read_at(&mut block, 0).unwrap();
    assert_eq!(block, [0; 512], "the removed subsystem's write landed");
}

/// A host that loses a namespace that stays is cut off from what its commands handed on
/// there, as at a removal: a write held when the namespace's allowed hosts stop listing
/// it, or the subsystem's (which ends its controller), is counted until its turn comes,
/// then skipped; with its queue still open, its host hears Invalid Namespace.
#[test]
fn a_write_held_when_its_host_loses_the_namespace_never_lands() {
    let other = BTreeSet::from(["nqn.2014-08.org.example:other".to_owned()]);
    for namespace_hosts in [true, false] {
        let t = target();
        let (_admin, cntlid) = H::admin(&t, 0);
        let mut q = H::io(&t, cntlid, 1, 0);
        let w1 = queued_write(&mut q, 0x11);
        let ns = t.namespace(SUB, 1).unwrap();
        if namespace_hosts {
            t.set_allowed_hosts(SUB, 1, other.clone()).unwrap();
        } else {
            t.set_hosts(SUB, false, other.clone()).unwrap();
        }
        assert!(ns.cut_off_io_running(), "the change would not wait for the held write");
        finish_write(&mut q, w1);
        assert!(!ns.cut_off_io_running(), "skipped, it still counts");
        if namespace_hosts {
            let p = q.pdus();
            let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
            assert_eq!(c.status, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr());
        }
        let mut block = [0u8; 512];
        ns.volume.backend().read_at(&mut block, 0).unwrap();
        assert_eq!(block, [0; 512], "the write of a host cut off landed");
    }
}

/// A queue's count of operations on a namespace made once its host lost it (its command
/// found the namespace just before the change, which then could not see the count
/// listed) is cut off from the start, so its operations are skipped all the same. The
/// hosts that keep it are not cut off.
#[test]
fn a_count_made_after_its_host_lost_the_namespace_is_cut_off() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let ctrl = t.find_controller(SUB, cntlid, HOST, &HOSTID).unwrap();
    let ns = t.namespace(SUB, 1).unwrap();
    let kept = QueueOps::on_namespace(&ns, None, Some(ctrl.clone()));
    assert!(!kept.namespace_removed(), "cut off while the host may reach it");
    t.set_allowed_hosts(SUB, 1, BTreeSet::from(["nqn.2014-08.org.example:other".into()])).unwrap();
    assert!(kept.namespace_removed(), "listed, not cut off by the change");
    let late = QueueOps::on_namespace(&ns, None, Some(ctrl.clone()));
    let _running = OpGuard::new(&late);
    assert!(late.namespace_removed(), "made after the change, not cut off");
    assert!(ns.cut_off_io_running());
    // Back in the list, a new count runs again; one of an ended controller does not.
    t.set_allowed_hosts(SUB, 1, BTreeSet::new()).unwrap();
    assert!(!QueueOps::on_namespace(&ns, None, Some(ctrl.clone())).namespace_removed());
    ctrl.end();
    assert!(QueueOps::on_namespace(&ns, None, Some(ctrl)).namespace_removed());
}

/// A removed namespace's volume (its RAM, its open file or device) is let go by the queues
/// that used it at their next tick, not only at their next I/O command: an idle queue of
/// a host that has moved on holds nothing of it.
#[test]
fn an_idle_queue_lets_a_removed_namespaces_volume_go() {
    let t = target();
    let v = Arc::new(Volume::ram("v2", 512, 1 << 20).unwrap());
    let gone = Arc::downgrade(&v);
    t.add_namespace(SUB, 2, v, [2; 16], [3; 16]).unwrap();
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    // Looked up by a read and a write (the queue's write count too), and by the admin
    // queue's Identify.
    let mut w = rw(io_opcode::WRITE, 0, 1, 0);
    w.nsid = 2;
    w.set_sgl(SglDescriptor::in_capsule(512));
    assert!(q.run(w, &[0x11; 512]).0.status.is_success());
    let mut r = rw(io_opcode::READ, 0, 1, 512);
    r.nsid = 2;
    assert_eq!(q.run(r, &[]).1, [0x11; 512]);
    assert!(admin.run(identify(0, 2), &[]).0.status.is_success());
    t.remove_namespace(SUB, 2).unwrap();
    assert!(gone.upgrade().is_some(), "held until the queue looks");
    q.now += Duration::from_millis(100);
    q.conn.tick(q.now);
    admin.conn.tick(q.now);
    assert!(gone.upgrade().is_none(), "an idle queue still holds the removed volume");
    // Namespace 1 is still served, looked up afresh.
    assert!(q.write_first_block().is_success());
}

/// A host writing to more namespaces than a queue keeps looked up (round robin over 10)
/// keeps each namespace's write count: no new count, and so no turn at the namespace's
/// shared list of counts, per write.
#[test]
fn a_queue_keeps_its_write_counts_when_its_namespace_lookups_overflow() {
    let t = target();
    for nsid in 2..=10 {
        let v = Arc::new(Volume::ram("v", 512, 1 << 20).unwrap());
        t.add_namespace(SUB, nsid, v, [nsid as u8; 16], [nsid as u8 + 0x40; 16]).unwrap();
    }
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let counts = |q: &H| -> Vec<usize> {
        q.conn.ns_cache.writes.iter().map(|(_, w)| Arc::as_ptr(w) as usize).collect()
    };
    let mut first = Vec::new();
    for round in 0..3 {
        for nsid in 1..=10 {
            let mut w = rw(io_opcode::WRITE, 0, 1, 0);
            w.nsid = nsid;
            w.set_sgl(SglDescriptor::in_capsule(512));
            assert!(q.run(w, &[0x11; 512]).0.status.is_success());
        }
        if round == 0 {
            first = counts(&q);
            assert_eq!(first.len(), 10);
        }
        assert_eq!(counts(&q), first, "round {round}");
    }
}

#[test]
fn keep_alive_timeout_drops_controller_and_its_queues() {
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 2000);
    let mut q = H::io(&t, cntlid, 1, 0);
    let start = admin.now;
    // Keep alives every second keep it alive for 10 s of virtual time.
    for s in 1..=10 {
        admin.now = start + Duration::from_secs(s);
        admin.run(Sqe::new(admin_opcode::KEEP_ALIVE, 0), &[]);
        admin.conn.tick(admin.now);
        assert!(admin.conn.is_closed().is_none());
    }
    // Then silence: KATO 2 s rounded to the 1 s granularity plus one granule.
    admin.conn.tick(start + Duration::from_secs(12));
    assert!(admin.conn.is_closed().is_none());
    admin.conn.tick(start + Duration::from_millis(13_100));
    assert_eq!(admin.conn.is_closed(), Some(&CloseReason::KeepAliveExpired));
    assert_eq!(t.controller_count(SUB), 0);
    assert_eq!(t.stats.kato_expired.load(Ordering::Relaxed), 1);
    // Its I/O queue closes at its next tick (or at its next command: see
    // `io_to_a_controller_the_target_ended_closes_the_queue_unanswered`).
    q.conn.tick(start + Duration::from_millis(13_200));
    assert_eq!(q.conn.is_closed(), Some(&CloseReason::ControllerGone));
}

/// An I/O command that reaches a queue of a controller the target ended (keep-alive
/// expiry here) before the queue's tick closes it: the queue closes without answering,
/// as nvmet tears down every queue of a controller in fatal error, and the host requeues
/// the command after reconnecting. Command Sequence Error with DNR would fail it for good
/// (EIO to the application). Nothing reaches the volume, and a write that would take R2T
/// data gets no R2T. The ended controller wakes its queues at once.
#[test]
fn io_to_a_controller_the_target_ended_closes_the_queue_unanswered() {
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 2000);
    let mut q = H::io(&t, cntlid, 1, 0);
    let mut q2 = H::io(&t, cntlid, 2, 0);
    let mut woken = q.conn.controller_watch().expect("a bound queue's wake");
    assert!(!woken.has_changed().unwrap());
    // The queues' Connects were traffic: the first tick takes it, then silence.
    admin.conn.tick(admin.now);
    admin.conn.tick(admin.now + Duration::from_secs(4));
    assert_eq!(admin.conn.is_closed(), Some(&CloseReason::KeepAliveExpired));
    assert!(woken.has_changed().unwrap(), "ending the controller wakes its queues");
    woken.mark_unchanged();
    let mut w = rw(io_opcode::WRITE, 0, 1, 0);
    w.set_sgl(SglDescriptor::in_capsule(512));
    q.submit(w, &[0x77; 512]);
    assert!(q.pdus().is_empty(), "no completion");
    assert_eq!(q.conn.is_closed(), Some(&CloseReason::ControllerGone));
    q2.submit(rw(io_opcode::WRITE, 0, 8, 4096), &[]);
    assert!(q2.pdus().is_empty(), "no R2T, no completion");
    assert_eq!(q2.conn.is_closed(), Some(&CloseReason::ControllerGone));
    let mut block = [0xFFu8; 512];
    t.namespace(SUB, 1).unwrap().volume.backend().read_at(&mut block, 0).unwrap();
    assert_eq!(block, [0; 512], "the write never reached the volume");
}

/// A controller whose host never enables it (CC.EN = 1) is ended ENABLE_DEADLINE after
/// its Connect, whatever its KATO, as on keep-alive expiry: it would only hold a place
/// of the subsystem's (or the discovery service's) table. Commands without enabling do
/// not keep it; one enabled in time stays.
#[test]
fn a_controller_never_enabled_is_ended_after_the_enable_deadline() {
    let t = target();
    let mut h = H::new(&t, false, false);
    assert!(h.connect(SUB, 0, CNTLID_DYNAMIC, u32::MAX, 0).status.is_success());
    let start = h.now;
    h.now = start + ENABLE_DEADLINE - Duration::from_secs(1);
    let cap = PropertyGetCmd { eight_bytes: true, offset: property::CAP }.to_sqe(0);
    assert!(h.run(cap, &[]).0.status.is_success());
    h.conn.tick(h.now);
    assert!(h.conn.is_closed().is_none());
    h.conn.tick(start + ENABLE_DEADLINE + Duration::from_millis(100));
    assert_eq!(h.conn.is_closed(), Some(&CloseReason::EnableTimeout));
    assert_eq!(t.controller_count(SUB), 0);
    let mut d = H::new(&t, false, false);
    assert!(d.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 0, 0).status.is_success());
    d.conn.tick(d.now + ENABLE_DEADLINE + Duration::from_millis(100));
    assert_eq!(d.conn.is_closed(), Some(&CloseReason::EnableTimeout), "discovery alike");
    let (mut a, _) = H::admin(&t, 0);
    a.conn.tick(a.now + 2 * ENABLE_DEADLINE);
    assert!(a.conn.is_closed().is_none(), "enabled in time");
}

/// A new Connect to a full table takes the place of a controller silent past
/// SILENT_FLOOR: the admin queue publishes at each tick when it last heard from the host
/// (a command on it, or traffic on an I/O queue), and the ended controller's queues
/// close as the tick finds it dead.
#[test]
fn a_controller_silent_past_the_floor_yields_its_place_to_a_new_connect() {
    use crate::target::SILENT_FLOOR;
    let t = target();
    t.set_cntlid_range(SUB, 9..=9).unwrap();
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let start = admin.now;
    let connect = |at| t.create_controller(SUB, HOST, HOSTID, 0, None, None, at);
    q.now = start + SILENT_FLOOR;
    assert!(q.run(rw(io_opcode::READ, 0, 1, 512), &[]).0.status.is_success());
    admin.conn.tick(q.now);
    let refused = connect(q.now + SILENT_FLOOR / 2).unwrap_err();
    assert_eq!(refused, ConnectRefusal::Busy, "I/O traffic is the host talking");
    admin.now = start + 2 * SILENT_FLOOR;
    assert!(admin.run(Sqe::new(admin_opcode::KEEP_ALIVE, 0), &[]).0.status.is_success());
    admin.conn.tick(admin.now);
    let refused = connect(admin.now + SILENT_FLOOR).unwrap_err();
    assert_eq!(refused, ConnectRefusal::Busy, "so is a Keep Alive");
    let late = admin.now + SILENT_FLOOR + Duration::from_secs(1);
    assert_eq!(connect(late).expect("the silent one makes room").cntlid, 9);
    assert_eq!(t.stats.controllers_evicted.load(Ordering::Relaxed), 1);
    admin.conn.tick(late);
    assert_eq!(admin.conn.is_closed(), Some(&CloseReason::ControllerGone));
    q.conn.tick(late);
    assert_eq!(q.conn.is_closed(), Some(&CloseReason::ControllerGone));
    assert_eq!(t.controller_count(SUB), 1, "the new one");
}

/// A controller ID given again while the controller that had it still has a queue open
/// (its place taken by a new Connect, its connection closing at its next tick) lists the
/// new controller with its own queues alone: the old controller is no longer live, so,
/// as any torn-down controller's, its queue is listed under no controller (an operator
/// reading `subsystems/s/controllers/9` sees the host that now has it) and its counts
/// stay in the subsystem's totals.
#[test]
fn a_reused_cntlid_lists_only_the_new_controllers_queues() {
    use crate::target::SETUP_GRACE;
    let t = target();
    t.set_cntlid_range(SUB, 9..=9).unwrap();
    let mut old = H::new(&t, false, false);
    let c = old.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
    assert_eq!((c.status, c.dw0), (Status::SUCCESS, 9), "never enabled");
    let mut new = H::new(&t, false, false);
    new.now = old.now + SETUP_GRACE + Duration::from_millis(1);
    let c = new.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
    assert_eq!((c.status, c.dw0), (Status::SUCCESS, 9), "the old one made room");
    let csts = PropertyGetCmd { eight_bytes: false, offset: property::CSTS }.to_sqe(0);
    assert!(new.run(csts, &[]).0.status.is_success());
    assert!(old.conn.is_closed().is_none(), "closes at its next tick");
    let report = &t.subsystem_stats()[0];
    let listed: Vec<_> = report
        .controllers
        .iter()
        .map(|c| (c.cntlid, c.queues.iter().map(|q| (q.info.qid, q.io.commands)).collect()))
        .collect::<Vec<(u16, Vec<_>)>>();
    assert_eq!(listed, [(9, vec![(0, 2)])], "the new controller's Connect and Property Get");
    assert_eq!(report.counters.queues.len(), 1, "the old admin queue, with no controller");
    assert_eq!(report.counters.io.commands, 3);
    old.conn.tick(new.now);
    assert_eq!(old.conn.is_closed(), Some(&CloseReason::ControllerGone));
    drop(old);
    let report = &t.subsystem_stats()[0];
    assert!(report.counters.queues.is_empty());
    assert_eq!(report.controllers[0].queues.len(), 1);
    assert_eq!(report.counters.io.commands, 3);
}

/// A host that asked for a keep-alive timeout longer than SILENT_FLOOR sends Keep Alive
/// only every KATO/4 (Traffic Based Keep Alive; KATO/2 without), so it may be silent that
/// long and alive: its controller yields its place only once silent past its KATO, which
/// would have ended it anyway, or past SILENT_CEILING, so a huge KATO cannot hold a place
/// for weeks.
#[test]
fn a_long_keep_alive_timeout_keeps_its_place_while_its_host_keeps_to_it() {
    use crate::target::{SILENT_CEILING, SILENT_FLOOR};
    let t = target();
    t.set_cntlid_range(SUB, 9..=9).unwrap();
    let connect = |at| t.create_controller(SUB, HOST, HOSTID, 0, None, None, at);
    let kato = Duration::from_secs(560);
    let (mut admin, _) = H::admin(&t, kato.as_millis() as u32);
    let start = admin.now;
    // Keep Alive every KATO/4, as a Linux host with TBKAS sends it.
    for n in 1..=4 {
        admin.now = start + kato / 4 * n;
        assert!(admin.run(Sqe::new(admin_opcode::KEEP_ALIVE, 0), &[]).0.status.is_success());
        admin.conn.tick(admin.now);
        let before_next = admin.now + kato / 4 - Duration::from_secs(1);
        assert!(before_next - admin.now > SILENT_FLOOR);
        admin.conn.tick(before_next);
        assert!(admin.conn.is_closed().is_none(), "alive at {n}");
        let refused = connect(before_next).unwrap_err();
        assert_eq!(refused, ConnectRefusal::Busy, "a live host keeps its place ({n})");
    }
    assert_eq!(t.stats.controllers_evicted.load(Ordering::Relaxed), 0);
    // A KATO past the ceiling counts as the ceiling.
    drop(admin);
    let huge = SILENT_CEILING * 4;
    let (mut admin, _) = H::admin(&t, huge.as_millis() as u32);
    admin.conn.tick(admin.now);
    assert!(connect(admin.now + SILENT_CEILING).is_err(), "not yet");
    let late = admin.now + SILENT_CEILING + Duration::from_secs(1);
    assert_eq!(connect(late).expect("silent past the ceiling").cntlid, 9);
}

/// A discovery controller whose host asked for no keep-alive (KATO 0, as `nvme discover`
/// does) ends after two minutes without a command, as with Linux's nvmet: any host may
/// connect there, and would otherwise hold its connection for good. An NVM controller
/// with KATO 0 keeps none.
#[test]
fn a_discovery_session_without_keep_alive_ends_after_two_minutes() {
    let t = target();
    let mut d = H::new(&t, false, false);
    let c = d.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 0, 0);
    assert!(c.status.is_success(), "{c:?}");
    d.enable();
    let mut kato = Sqe::new(admin_opcode::GET_FEATURES, 0);
    kato.cdw[0] = 0x0F;
    assert_eq!(d.run(kato, &[]).0.dw0, 120_000, "KATO as Get Features reports it");
    let start = d.now;
    d.now = start + Duration::from_secs(60);
    assert!(d.run(identify(1, 0), &[]).0.status.is_success());
    d.conn.tick(start + Duration::from_secs(175));
    assert!(d.conn.is_closed().is_none(), "a command restarted the timer");
    d.conn.tick(start + Duration::from_secs(185));
    assert_eq!(d.conn.is_closed(), Some(&CloseReason::KeepAliveExpired));
    // Nor does a Set Features KATO 0 after the Connect keep one open for good.
    let mut d = H::new(&t, false, false);
    assert!(d.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 30_000, 0).status.is_success());
    d.enable();
    let mut off = Sqe::new(admin_opcode::SET_FEATURES, 0);
    off.cdw[0] = 0x0F;
    assert!(d.run(off, &[]).0.status.is_success());
    let mut kato = Sqe::new(admin_opcode::GET_FEATURES, 0);
    kato.cdw[0] = 0x0F;
    assert_eq!(d.run(kato, &[]).0.dw0, 120_000);
    d.conn.tick(d.now + Duration::from_secs(3600));
    assert_eq!(d.conn.is_closed(), Some(&CloseReason::KeepAliveExpired));
    let (mut nvm, _) = H::admin(&t, 0);
    nvm.conn.tick(nvm.now + Duration::from_secs(3600));
    assert!(nvm.conn.is_closed().is_none());
}

/// NVMe Base 2.0 §3.9.4: the controller has Traffic Based Keep Alive (CTRATT bit 6), so
/// commands on an I/O queue keep it alive without Keep Alive commands, as a busy Linux
/// host then sends none; once they stop, KATO runs from the last one (seen at a tick).
#[test]
fn io_traffic_keeps_the_controller_alive_without_keep_alives() {
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 2000);
    let (_, id) = admin.run(identify(1, 0), &[]);
    assert_eq!(id[96] & (1 << 6), 1 << 6, "CTRATT: Traffic Based Keep Alive");
    let mut q = H::io(&t, cntlid, 1, 0);
    let start = admin.now;
    for s in 1..=10 {
        q.now = start + Duration::from_secs(s);
        assert!(q.run(rw(io_opcode::READ, 0, 1, 512), &[]).0.status.is_success());
        admin.conn.tick(start + Duration::from_millis(s * 1000 + 100));
        assert!(admin.conn.is_closed().is_none(), "alive at {s} s on I/O alone");
    }
    // The last read was seen at the tick of 10.1 s: KATO 2 s plus a granule from there.
    admin.conn.tick(start + Duration::from_millis(13_000));
    assert!(admin.conn.is_closed().is_none());
    admin.conn.tick(start + Duration::from_millis(13_200));
    assert_eq!(admin.conn.is_closed(), Some(&CloseReason::KeepAliveExpired));
}

/// A controller being set up is not idle: each I/O queue's Connect, and an I/O queue's
/// end, restarts the Keep Alive timer, as nvmet's `reset_tbkas` on queue install and
/// destroy (a host may send no Keep Alive until all its queues are up, and many
/// queues, some waiting for a DH-HMAC-CHAP computation, can take longer than KATO).
#[test]
fn io_queue_connects_and_ends_restart_the_keep_alive_timer() {
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 2000);
    let start = admin.now;
    let at = |ms: u64| start + Duration::from_millis(ms);
    let mut queues = Vec::new();
    for (qid, ms) in [(1, 2_500), (2, 5_000), (3, 7_500)] {
        queues.push(H::io(&t, cntlid, qid, 0));
        admin.conn.tick(at(ms));
        assert!(admin.conn.is_closed().is_none(), "alive at {ms} ms, queue {qid} connected");
    }
    // Queue 3's end at 10 s counts as well: KATO (3 s with its granule) runs from there.
    queues.pop().expect("three queues").conn.shutdown();
    admin.conn.tick(at(10_000));
    admin.conn.tick(at(12_900));
    assert!(admin.conn.is_closed().is_none(), "alive within KATO of the queue's end");
    admin.conn.tick(at(13_100));
    assert_eq!(admin.conn.is_closed(), Some(&CloseReason::KeepAliveExpired));
}

#[test]
fn keep_alive_timer_set_later_is_enforced_and_zero_disables_it() {
    let t = target();
    let (mut admin, _) = H::admin(&t, 0);
    let start = admin.now;
    admin.conn.tick(start + Duration::from_secs(60));
    assert!(admin.conn.is_closed().is_none(), "no KATO at Connect: never expires");
    let kato = |ms: u32| {
        let mut s = Sqe::new(admin_opcode::SET_FEATURES, 0);
        s.cdw[0] = 0x0F;
        s.cdw[1] = ms;
        s
    };
    admin.now = start + Duration::from_secs(60);
    assert!(admin.run(kato(1000), &[]).0.status.is_success());
    let mut get = Sqe::new(admin_opcode::GET_FEATURES, 0);
    get.cdw[0] = 0x0F;
    assert_eq!(admin.run(get, &[]).0.dw0, 1000);
    admin.conn.tick(start + Duration::from_millis(61_500));
    assert!(admin.conn.is_closed().is_none(), "within KATO and its slack");
    admin.conn.tick(start + Duration::from_secs(63));
    assert_eq!(admin.conn.is_closed(), Some(&CloseReason::KeepAliveExpired));
    assert_eq!(t.controller_count(SUB), 0);
}

#[test]
fn smart_log_counts_commands_and_data_units() {
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    for slba in [0, 8, 16] {
        let mut w = rw(io_opcode::WRITE, slba, 8, 4096);
        w.set_sgl(SglDescriptor::in_capsule(4096));
        assert!(q.run(w, &[9; 4096]).0.status.is_success());
    }
    // 1,100 blocks of 512 bytes read: two data units (thousands of 512-byte units, rounded up).
    for (slba, blocks) in [(0, 256), (256, 256), (512, 256), (768, 256), (1024, 76)] {
        assert!(q.run(rw(io_opcode::READ, slba, blocks, blocks * 512), &[]).0.status.is_success());
    }
    // Compares read blocks too (NVMe 1.4 §5.14.1.2, Figure 194: Host Read Commands are
    // "the number of Compare commands and Read commands", and Data Units Read include
    // the blocks Compare reads): a match and a miscompare of 8 blocks each take the
    // 1,100 blocks to 1,116, still two units.
    let miscompare = Status::COMPARE_FAILURE.with_dnr();
    for (data, status) in [([9; 4096], Status::SUCCESS), ([7; 4096], miscompare)] {
        let mut cmp = rw(io_opcode::COMPARE, 0, 8, 4096);
        cmp.set_sgl(SglDescriptor::in_capsule(4096));
        assert_eq!(q.run(cmp, &data).0.status, status);
    }
    let (c, smart) = admin.run(log_page(2, 512), &[]);
    assert!(c.status.is_success());
    let le128 = |at: usize| u128::from_le_bytes(smart[at..at + 16].try_into().unwrap());
    assert_eq!((le128(32), le128(48)), (2, 1), "data units read, written");
    assert_eq!((le128(64), le128(80)), (7, 3), "host read (and compare), write commands");
    // 56 more Compares of 16 blocks: 2,012 blocks, three units.
    for _ in 0..56 {
        let mut cmp = rw(io_opcode::COMPARE, 100, 16, 8192);
        cmp.set_sgl(SglDescriptor::in_capsule(8192));
        assert!(q.run(cmp, &[0; 8192]).0.status.is_success());
    }
    let (_, smart) = admin.run(log_page(2, 512), &[]);
    let le128 = |at: usize| u128::from_le_bytes(smart[at..at + 16].try_into().unwrap());
    assert_eq!((le128(32), le128(64)), (3, 63), "data units read, host read commands");
    // Lifetime counters: removing the namespace does not take its I/O back out.
    t.remove_namespace(SUB, 1).unwrap();
    let (_, after) = admin.run(log_page(2, 512), &[]);
    assert_eq!(after[32..96], smart[32..96]);
}

#[test]
fn a_host_termination_request_closes_silently_and_takes_the_controller() {
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    // NVMe/TCP 1.0 §3.6.2.4: the host ends the connection; the controller answers nothing.
    let fes = dpu_nvmf_proto::Fes::HeaderDigestError as u16;
    admin.send(&Pdu::H2CTermReq(dpu_nvmf_proto::TermReq { fes, fei: 0, data: vec![] }));
    assert_eq!(admin.conn.is_closed(), Some(&CloseReason::HostTerminated));
    assert!(admin.conn.take_output().is_empty(), "no reply to a termination request");
    assert_eq!(t.controller_count(SUB), 0, "its admin queue gone, the controller goes");
    q.conn.tick(q.now + Duration::from_millis(200));
    assert_eq!(q.conn.is_closed(), Some(&CloseReason::ControllerGone));
}

#[test]
fn namespace_hot_add_raises_async_event() {
    let t = target();
    let (mut h, _) = H::admin(&t, 0);
    let aer_cid = h.arm_namespace_notices();
    let v = Arc::new(Volume::ram("v2", 4096, 1 << 20).unwrap());
    t.add_namespace(SUB, 2, v, [1; 16], [2; 16]).unwrap();
    h.conn.tick(h.now);
    let p = h.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!(c.cid, aer_cid);
    assert_eq!(c.dw0, 0x0004_0002);
    let (_, log) = h.run(log_page(4, 4096), &[]);
    assert_eq!(&log[0..8], &[2, 0, 0, 0, 0, 0, 0, 0]);
    let (_, log) = h.run(log_page(4, 4096), &[]);
    assert!(log.iter().all(|&b| b == 0), "the log clears once read");
    let (_, ns) = h.run(identify(0, 2), &[]);
    assert_eq!(ns[130], 12, "LBADS of a 4096-byte block");
}

/// A namespace only some hosts see (its allowed hosts): to the others its NSID is
/// inactive (not in the Active Namespace ID list, Identify Namespace all zero, I/O Invalid
/// Namespace, not in the ANA log), and adding it tells them nothing; letting a host see it
/// in place, or withdrawing it, tells exactly that host (a namespace notice), and a queue
/// connected before follows at once.
#[test]
fn a_namespace_only_its_allowed_hosts_see() {
    use crate::target::NamespaceAttrs;
    const OTHER: &str = "nqn.2014-08.org.example:other";
    let t = target();
    let (mut h, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let aer_cid = h.arm_namespace_notices();
    let v = Arc::new(Volume::ram("v2", 512, 1 << 20).unwrap());
    let only_other =
        NamespaceAttrs { allowed_hosts: BTreeSet::from([OTHER.into()]), ..Default::default() };
    t.add_namespace_with(SUB, 2, v, [1; 16], [2; 16], only_other).unwrap();
    h.conn.tick(h.now);
    assert!(h.pdus().is_empty(), "a namespace the host does not see tells it nothing");
    let active = |h: &mut H| {
        let (_, list) = h.run(identify(2, 0), &[]);
        list.chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .take_while(|&n| n != 0)
            .collect::<Vec<_>>()
    };
    assert_eq!(active(&mut h), [1]);
    assert!(h.run(identify(0, 2), &[]).1.iter().all(|&b| b == 0), "inactive: all zero");
    let read2 = |q: &mut H| {
        let mut r = rw(io_opcode::READ, 0, 1, 512);
        r.nsid = 2;
        q.run(r, &[]).0.status
    };
    let invalid = Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr();
    assert_eq!(read2(&mut q), invalid);
    let ana_nsids = |h: &mut H| {
        let (_, log) = h.run(log_page(0x0C, 4096), &[]);
        // Group 1's descriptor: its NSID count at 16 + 4.
        u32::from_le_bytes(log[20..24].try_into().unwrap())
    };
    assert_eq!(ana_nsids(&mut h), 1, "the ANA log lists namespace 1 only");
    assert_eq!(
        t.set_allowed_hosts(SUB, 2, BTreeSet::from(["bad".into()])),
        Err(RegistryError::BadNqn("bad".into()))
    );

    // The operator lets the host see it: a notice naming NSID 2, and it serves.
    t.set_allowed_hosts(SUB, 2, BTreeSet::from([HOST.into(), OTHER.into()])).unwrap();
    h.conn.tick(h.now);
    let p = h.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.dw0), (aer_cid, 0x0004_0002));
    let (_, log) = h.run(log_page(4, 4096), &[]);
    assert_eq!(&log[0..8], &[2, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(active(&mut h), [1, 2]);
    assert!(read2(&mut q).is_success());
    assert_eq!(ana_nsids(&mut h), 2);
    // Unchanged: no notice. Withdrawn: a notice, and the connected queue's next read fails.
    let aer_cid = h.send_aer().0;
    t.set_allowed_hosts(SUB, 2, BTreeSet::from([OTHER.into(), HOST.into()])).unwrap();
    h.conn.tick(h.now);
    assert!(h.pdus().is_empty());
    t.set_allowed_hosts(SUB, 2, BTreeSet::from([OTHER.into()])).unwrap();
    h.conn.tick(h.now);
    let p = h.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.dw0), (aer_cid, 0x0004_0002));
    assert_eq!(read2(&mut q), invalid);
    // Changes to a namespace the host does not see tell it nothing.
    h.run(log_page(4, 4096), &[]);
    h.send_aer();
    t.set_write_protected(SUB, 2, true).unwrap();
    h.conn.tick(h.now);
    assert!(h.pdus().is_empty());
    // Empty: every host of the subsystem.
    t.set_allowed_hosts(SUB, 2, BTreeSet::new()).unwrap();
    assert_eq!(active(&mut h), [1, 2]);
}

/// A volume grown under a connected host: a namespace attribute notice names the NSID,
/// Identify Namespace shows the new size (NSZE, NCAP, NUSE), and blocks past the old end
/// are readable (zero) and writable, on a queue connected before the growth.
#[test]
fn a_grown_volume_is_announced_and_its_new_blocks_serve() {
    let t = target();
    let v = t.namespace(SUB, 1).unwrap().volume.clone();
    let (mut h, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let aer_cid = h.arm_namespace_notices();
    let old_end = 2048; // blocks of 512 bytes in 1 MiB
    let mut w = rw(io_opcode::WRITE, old_end - 1, 1, 0);
    w.set_sgl(SglDescriptor::in_capsule(512));
    assert!(q.run(w, &[0x5A; 512]).0.status.is_success());
    let (c, _) = q.run(rw(io_opcode::READ, old_end, 1, 512), &[]);
    assert_eq!(c.status, Status::LBA_OUT_OF_RANGE.with_dnr(), "past the end before growing");

    v.grow(4 << 20).unwrap();
    assert_eq!(t.volume_resized(&v), 1);
    h.conn.tick(h.now);
    let p = h.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.dw0), (aer_cid, 0x0004_0002), "namespace attribute changed");
    let (_, log) = h.run(log_page(4, 4096), &[]);
    assert_eq!(&log[0..8], &[1, 0, 0, 0, 0, 0, 0, 0]);
    let (_, ns) = h.run(identify(0, 1), &[]);
    let blocks = (4u64 << 20) / 512;
    for (field, at) in [("NSZE", 0), ("NCAP", 8), ("NUSE", 16)] {
        let value = u64::from_le_bytes(ns[at..at + 8].try_into().unwrap());
        assert_eq!(value, blocks, "{field}");
    }
    assert_eq!(&ns[104..120], &[0xAB; 16], "the NGUID stays");
    // The queue's namespace lookup predates the growth; data before the old end stays.
    assert_eq!(q.run(rw(io_opcode::READ, old_end - 1, 1, 512), &[]).1, [0x5A; 512]);
    let (c, d) = q.run(rw(io_opcode::READ, old_end, 1, 512), &[]);
    assert!(c.status.is_success() && d == [0; 512], "{c:?}");
    let mut w = rw(io_opcode::WRITE, blocks - 1, 1, 0);
    w.set_sgl(SglDescriptor::in_capsule(512));
    assert!(q.run(w, &[0x77; 512]).0.status.is_success());
    assert_eq!(q.run(rw(io_opcode::READ, blocks - 1, 1, 512), &[]).1, [0x77; 512]);
    let (c, _) = q.run(rw(io_opcode::READ, blocks, 1, 512), &[]);
    assert_eq!(c.status, Status::LBA_OUT_OF_RANGE.with_dnr(), "past the new end");
}

/// Namespace attribute notices (NVMe Base 2.0 §5.2, §5.16.1.5): sent only while AEC bit 8
/// is set; once one is sent, more changes wait until the Changed Namespace List is read
/// with RAE clear (a read with RAE set neither clears the list nor re-arms the event).
#[test]
fn namespace_notices_follow_aec_and_wait_for_the_log_to_be_read() {
    let t = target();
    let (mut h, _) = H::admin(&t, 0);
    let aec = |value: u32| {
        let mut s = Sqe::new(admin_opcode::SET_FEATURES, 0);
        s.cdw[0] = 0x0B;
        s.cdw[1] = value;
        s
    };
    let send_aer = |h: &mut H| {
        let (cid, answered) = h.send_aer();
        assert!(answered.is_empty());
        cid
    };
    let v = Arc::new(Volume::ram("v", 512, 1 << 20).unwrap());
    assert!(h.run(aec(0), &[]).0.status.is_success());
    let aer = send_aer(&mut h);
    t.add_namespace(SUB, 2, v.clone(), [1; 16], [2; 16]).unwrap();
    assert!(h.events().is_empty(), "notices disabled in AEC");
    let p = h.set_then_events(aec(1 << 8));
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("enabled: the change is told {p:?}") };
    assert_eq!((c.cid, c.dw0), (aer, 0x0004_0002));
    // Masked until the log is read with RAE clear.
    let aer = send_aer(&mut h);
    t.add_namespace(SUB, 3, v.clone(), [3; 16], [4; 16]).unwrap();
    assert!(h.events().is_empty(), "masked until the log is read");
    let mut rae = log_page(4, 4096);
    rae.cdw[0] |= 1 << 15;
    let (_, log) = h.run(rae, &[]);
    assert_eq!(&log[0..12], &[2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]);
    // An offset past the page's end (§5.16, LPOL) fails and consumes nothing.
    let mut past = log_page(4, 4);
    past.cdw[2] = 4096 + 4;
    assert_eq!(h.run(past, &[]).0.status, Status::INVALID_FIELD.with_dnr());
    t.add_namespace(SUB, 4, v.clone(), [5; 16], [6; 16]).unwrap();
    assert!(h.events().is_empty(), "RAE and the failed read kept the event masked");
    let (_, log) = h.run(log_page(4, 4096), &[]);
    assert_eq!(&log[0..16], &[2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0], "RAE kept the list");
    assert!(h.events().is_empty(), "the read reported the changes made while masked");
    t.remove_namespace(SUB, 4).unwrap();
    let p = h.events();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("re-armed by the read {p:?}") };
    assert_eq!((c.cid, c.dw0), (aer, 0x0004_0002));
    let (_, log) = h.run(log_page(4, 4096), &[]);
    assert_eq!(&log[0..8], &[4, 0, 0, 0, 0, 0, 0, 0]);
    send_aer(&mut h);
    assert!(h.events().is_empty(), "no notice without a change since the read");
}

/// NVMe Base 2.0 §5.16.1.1: the Supported Log Pages page (LID 00h) of an I/O and of a
/// discovery controller names exactly the pages each returns; every other LID is an
/// Invalid Log Page, and a command set other than NVM an Invalid Field.
#[test]
fn supported_log_pages_name_exactly_the_pages_returned() {
    let t = target();
    let (io_admin, _) = H::admin(&t, 0);
    let mut disc = H::new(&t, false, false);
    assert!(disc.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 0, 0).status.is_success());
    disc.enable();
    for (mut h, kind, want) in [
        (io_admin, "I/O", vec![0x00usize, 0x01, 0x02, 0x03, 0x04, 0x05, 0x0C, 0x80]),
        (disc, "discovery", vec![0x00, 0x01, 0x70]),
    ] {
        let (c, page) = h.run(log_page(0, 1024), &[]);
        assert!(c.status.is_success(), "{kind}: {c:?}");
        let lsupp = |lid: usize| page[lid * 4] & 1 == 1;
        let listed: Vec<usize> = (0..256).filter(|&lid| lsupp(lid)).collect();
        assert_eq!(listed, want, "{kind}");
        for lid in 0..=255u8 {
            let (c, _) = h.run(log_page(lid, 1024), &[]);
            let returned = c.status != Status::INVALID_LOG_PAGE.with_dnr();
            assert_eq!(
                returned,
                lsupp(usize::from(lid)),
                "{kind} controller, LID {lid:#04x}: {c:?}"
            );
        }
        let mut other_csi = log_page(0, 1024);
        other_csi.cdw[4] = 2 << 24;
        assert_eq!(h.run(other_csi, &[]).0.status, Status::INVALID_FIELD.with_dnr(), "{kind}");
    }
}

#[test]
fn discovery_controller_lists_allowed_subsystems() {
    let t = target();
    let mut other = SubsystemSpec {
        nqn: "nqn.2024-01.io.example:private".into(),
        serial: "S".into(),
        model: "M".into(),
        allow_any_host: false,
        hosts: BTreeSet::from(["nqn.2014-08.org.example:someone-else".to_owned()]),
        host_secrets: Default::default(),
        cntlids: crate::target::ALL_CNTLIDS,
        max_io_queues: crate::target::DEFAULT_IO_QUEUES,
    };
    t.add_subsystem(other.clone()).unwrap();
    other.nqn = "nqn.2024-01.io.example:open".into();
    other.allow_any_host = true;
    t.add_subsystem(other).unwrap();
    let mut h = H::new(&t, false, false);
    let c = h.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 0, 0);
    assert!(c.status.is_success());
    h.enable();
    let (_, id) = h.run(identify(1, 0), &[]);
    assert_eq!(id[111], 2, "CNTRLTYPE discovery");
    assert_eq!(id[96..100], [0; 4], "CTRATT: none of an I/O controller's attributes");
    let (c, hdr) = h.run(log_page(0x70, 1024), &[]);
    assert!(c.status.is_success());
    assert_eq!(u64::from_le_bytes(hdr[8..16].try_into().unwrap()), 2);
    let mut s = log_page(0x70, 3072);
    s.cdw[0] = 0x70 | ((3072 / 4 - 1) << 16);
    let (_, log) = h.run(s, &[]);
    let nqns: Vec<String> = (1..3)
        .map(|i| {
            let f = &log[i * 1024 + 256..i * 1024 + 512];
            String::from_utf8(f[..f.iter().position(|&b| b == 0).unwrap()].to_vec()).unwrap()
        })
        .collect();
    assert_eq!(nqns, ["nqn.2024-01.io.example:open", SUB]);
    assert_eq!(t.controller_count(SUB), 0, "discovery controllers are not subsystem controllers");
}

#[test]
fn malformed_pdus_terminate_with_the_right_status() {
    let t = target();
    // Unknown PDU type.
    let mut h = H::new(&t, false, false);
    h.conn.receive(&[0x7E, 0, 8, 0, 8, 0, 0, 0], h.now);
    let out = h.conn.take_output();
    let mut d = PduDecoder::new(DecoderConfig::host());
    d.feed(&out);
    let Some(Pdu::C2HTermReq(tr)) = d.decode().unwrap() else { panic!() };
    assert_eq!((tr.fes, tr.fei), (Fes::InvalidHeaderField.code(), 0));
    assert!(matches!(h.conn.is_closed(), Some(CloseReason::Fatal(_))));
    // H2CData with a wrong transfer tag.
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let p = q.cmd(rw(io_opcode::WRITE, 0, 16, 8192), &[]);
    let [Pdu::R2t(r)] = p.as_slice() else { panic!() };
    let hdr =
        DataPduHeader { cccid: q.cid, ttag: r.ttag + 1, datao: 0, last: true, success: false };
    let mut b = Vec::new();
    encode_h2c_data(&hdr, &[0; 8192], &q.framing, &mut b).unwrap();
    q.conn.receive(&b, q.now);
    let out = q.conn.take_output();
    let mut d = PduDecoder::new(DecoderConfig::host());
    d.feed(&out);
    let Some(Pdu::C2HTermReq(tr)) = d.decode().unwrap() else { panic!() };
    assert_eq!((tr.fes, tr.fei), (Fes::InvalidHeaderField.code(), 10));
    // Data digest error in a capsule: the command fails, the connection stays.
    let mut q = H::io(&t, cntlid, 2, 0);
    let mut s = rw(io_opcode::WRITE, 0, 1, 512);
    s.cid = 77;
    s.set_sgl(SglDescriptor::in_capsule(512));
    let mut b = Pdu::CapsuleCmd(CapsuleCmd { sqe: s, data: vec![1; 512].into() })
        .to_vec(&q.framing)
        .unwrap();
    let n = b.len();
    b[n - 1] ^= 0xFF;
    q.conn.receive(&b, q.now);
    let p = q.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.status), (77, Status::TRANSIENT_TRANSPORT_ERROR));
    assert!(q.conn.is_closed().is_none());
    assert!(q.run(rw(io_opcode::READ, 0, 1, 512), &[]).0.status.is_success());
}

#[test]
fn digest_not_allowed_is_refused() {
    let t = target();
    let cfg = QueueConfig { allow_ddgst: false, ..QueueConfig::default() };
    let mut c = Connection::new(t, cfg, Instant::now());
    let b = Pdu::IcReq(IcReq { ddgst: true, ..IcReq::default() }).to_vec(&Framing::PLAIN).unwrap();
    c.receive(&b, Instant::now());
    let mut d = PduDecoder::new(DecoderConfig::host());
    d.feed(&c.take_output());
    let Some(Pdu::C2HTermReq(tr)) = d.decode().unwrap() else { panic!() };
    assert_eq!((tr.fes, tr.fei), (Fes::UnsupportedParameter.code(), 11));
    assert_eq!(tr.data, b, "the ICReq's header, all of its 128 bytes");
}

#[test]
fn connect_deadline() {
    let t = target();
    let now = Instant::now();
    let mut c = Connection::new(t, QueueConfig::default(), now);
    c.tick(now + Duration::from_secs(29));
    assert!(c.is_closed().is_none());
    c.tick(now + Duration::from_secs(31));
    assert_eq!(c.is_closed(), Some(&CloseReason::ConnectTimeout));
}

/// A queue's receive buffer stays a few kilobytes, whatever room the shell asks for,
/// until it is a connected I/O queue: any peer on the fabric can open connections that
/// never connect or that connect to the discovery controller (each held 256 KiB of
/// resident memory once it sent a byte). A connected I/O queue gets the room.
#[test]
fn only_connected_io_queues_hold_large_receive_buffers() {
    let t = target();
    let room = 256 << 10;
    let small = SMALL_RECEIVE_ROOM..2 * SMALL_RECEIVE_ROOM;
    let mut h = H::new(&t, false, false);
    let unconnected = h.conn.receive_buffer(room).capacity();
    assert!(small.contains(&unconnected), "{unconnected}");
    let c = h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
    assert!(c.status.is_success(), "{c:?}");
    let cntlid = c.dw0 as u16;
    let admin = h.conn.receive_buffer(room).capacity();
    assert!(small.contains(&admin), "an admin queue: {admin}");
    let mut d = H::new(&t, false, false);
    let c = d.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 0, 0);
    assert!(c.status.is_success(), "{c:?}");
    let discovery = d.conn.receive_buffer(room).capacity();
    assert!(small.contains(&discovery), "a discovery queue: {discovery}");
    h.enable();
    let mut q = H::io(&t, cntlid, 1, 0);
    assert!(q.conn.receive_buffer(room).capacity() >= room, "an I/O queue");
}

/// A peer that asks for R2Ts and withholds the data holds the target's memory for it: before
/// Connect only one Connect's 1024 bytes may be asked for, and on an admin queue no more
/// than an admin command's 8 KiB; H2CData PDUs are refused past those sizes before the
/// decoder buffers them. (Before, any Fabrics command got an R2T of up to 128 KiB, 32 at a
/// time, on a connection that never connects: about 4 MiB each.)
#[test]
fn withheld_data_holds_no_more_than_a_real_command_needs() {
    let t = target();
    let by_r2t = |q: &mut H, mut sqe: Sqe, len: u32| -> Vec<Pdu> {
        q.cid += 1;
        sqe.cid = q.cid;
        sqe.set_sgl(SglDescriptor::transport(len));
        q.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe, data: vec![].into() }));
        q.pdus()
    };
    let refused = |p: &[Pdu]| match p {
        [Pdu::CapsuleResp(c)] => c.status,
        other => panic!("{other:?}"),
    };
    let connect = ConnectCmd { recfmt: 0, qid: 0, sqsize: 31, cattr: 0, kato: 0 };
    let mut q = H::new(&t, false, false);
    // Before Connect: a Connect asking for more than its data, any other Fabrics command.
    let p = by_r2t(&mut q, connect.to_sqe(0), 128 << 10);
    assert_eq!(refused(&p), Status::DATA_SGL_LENGTH_INVALID.with_dnr());
    let mut auth_send = Sqe::new(admin_opcode::FABRICS, 0);
    auth_send.nsid = u32::from(fctype::AUTH_SEND);
    let p = by_r2t(&mut q, auth_send, 4096);
    assert_eq!(refused(&p), Status::COMMAND_SEQUENCE_ERROR.with_dnr());
    // A Connect's 1024 bytes by R2T; a second one meanwhile is refused.
    let p = by_r2t(&mut q, connect.to_sqe(0), 1024);
    let [Pdu::R2t(r)] = p.as_slice() else { panic!("{p:?}") };
    let r = *r;
    assert_eq!(r.r2tl, 1024);
    let p = by_r2t(&mut q, connect.to_sqe(0), 1024);
    assert_eq!(refused(&p), Status::COMMAND_SEQUENCE_ERROR.with_dnr());
    let d = ConnectData {
        hostid: HOSTID,
        cntlid: CNTLID_DYNAMIC,
        subnqn: SUB.into(),
        hostnqn: HOST.into(),
    };
    let hdr = DataPduHeader { cccid: r.cccid, ttag: r.ttag, datao: 0, last: true, success: false };
    let mut b = Vec::new();
    encode_h2c_data(&hdr, &d.to_bytes(), &q.framing, &mut b).unwrap();
    q.conn.receive(&b, q.now);
    let p = q.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert!(c.status.is_success(), "{c:?}");
    q.enable();
    // The admin queue: an Authentication Send's data up to 8 KiB, not more.
    let p = by_r2t(&mut q, auth_send, 16 << 10);
    assert_eq!(refused(&p), Status::DATA_SGL_LENGTH_INVALID.with_dnr());
    let p = by_r2t(&mut q, auth_send, 8 << 10);
    assert!(matches!(p.as_slice(), [Pdu::R2t(r)] if r.r2tl == 8 << 10), "{p:?}");
    // An H2CData PDU longer than any R2T an unconnected queue may be sent, refused from
    // its header (before: "unknown command" once all of it had been buffered).
    let mut q = H::new(&t, false, false);
    let hdr = DataPduHeader { cccid: 1, ttag: 1, datao: 0, last: true, success: false };
    let mut b = Vec::new();
    encode_h2c_data(&hdr, &vec![0; 4096], &q.framing, &mut b).unwrap();
    q.conn.receive(&b[..64], q.now);
    assert_eq!(term(&mut q).0, Fes::DataTransferLimitExceeded.code());
    // An I/O queue still takes MAXH2CDATA-sized PDUs.
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut io = H::io(&t, cntlid, 1, 0);
    let p = io.cmd(rw(io_opcode::WRITE, 0, 256, 128 << 10), &[]);
    let [Pdu::R2t(r)] = p.as_slice() else { panic!("{p:?}") };
    let hdr = DataPduHeader { cccid: r.cccid, ttag: r.ttag, datao: 0, last: true, success: false };
    let mut b = Vec::new();
    encode_h2c_data(&hdr, &vec![7; 128 << 10], &io.framing, &mut b).unwrap();
    io.conn.receive(&b, io.now);
    let p = io.pdus();
    assert!(matches!(p.as_slice(), [Pdu::CapsuleResp(c)] if c.status.is_success()), "{p:?}");
}

/// Commands answered at once are not bounded by the queue depth: a peer that sends a
/// batch of them and reads nothing gets its answers no faster than it reads. Decoding
/// stops once the output holds OUTPUT_PAUSE bytes and resumes after it was sent.
#[test]
fn a_batch_of_large_answers_waits_for_its_output_to_be_sent() {
    let t = target();
    let (mut h, _) = H::admin(&t, 0);
    let mut batch = Vec::new();
    let big = identify::MAX_TRANSFER;
    for i in 0..8u16 {
        // SMART / Health (512 bytes), asked for as MDTS: the rest is zeroes.
        let numd = big / 4 - 1;
        let mut sqe = log_page(0x02, big);
        (sqe.cdw[0], sqe.cdw[1]) = (0x02 | (numd & 0xFFFF) << 16, numd >> 16);
        sqe.cid = 100 + i;
        batch.extend(
            Pdu::CapsuleCmd(CapsuleCmd { sqe, data: vec![].into() }).to_vec(&h.framing).unwrap(),
        );
    }
    h.conn.receive(&batch, h.now);
    let mut answered = 0;
    let mut rounds = 0;
    loop {
        let out = h.conn.take_output();
        assert!(out.len() <= OUTPUT_PAUSE + big as usize + 4096, "{} bytes at once", out.len());
        h.dec.feed(&out);
        while let Some(p) = h.dec.decode().unwrap() {
            answered += usize::from(matches!(p, Pdu::CapsuleResp(c) if c.status.is_success()));
        }
        rounds += 1;
        if !h.conn.input_paused() {
            break;
        }
        h.conn.received(h.now);
    }
    let per_round = OUTPUT_PAUSE / big as usize;
    assert_eq!((answered, rounds), (8, 8 / per_round), "{per_round} answers per round");
    // MDTS bounds an admin command's transfer too: a megabyte is Invalid Field.
    let numd = (1u32 << 20) / 4 - 1;
    let mut sqe = log_page(0x02, 1 << 20);
    (sqe.cdw[0], sqe.cdw[1]) = (0x02 | (numd & 0xFFFF) << 16, numd >> 16);
    let (c, data) = h.run(sqe, &[]);
    assert_eq!((c.status, data.len()), (Status::INVALID_FIELD.with_dnr(), 0));
}

/// A batch of reads whose host reads nothing holds at most OUTPUT_PAUSE of read data
/// (and one read past it), in the output or at the volume: the queue depth of MDTS-sized
/// reads held 16 MiB before. Decoding stops there and resumes once the output is sent
/// and the reads still at the volume (a ring's) completed; all complete, in rounds.
#[test]
fn a_batch_of_large_reads_holds_no_more_than_the_output_pause() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = deep_io(&t, cntlid, 1);
    let (depth, len) = (usize::from(identify::MQES) + 1, identify::MAX_TRANSFER as usize);
    q.conn.receive(&mdts_batch(&q, io_opcode::READ), q.now);
    let (mut answered, mut rounds) = (0, 0);
    loop {
        // The reads handed out are in flight at the volume: none more starts meanwhile.
        let reqs: Vec<IoRequest> = std::iter::from_fn(|| q.conn.poll_io()).collect();
        let held: usize = reqs
            .iter()
            .map(|r| match r.op {
                IoOp::Read { len, .. } => len,
                _ => panic!("{r:?}"),
            })
            .sum();
        assert!(held < OUTPUT_PAUSE + len, "{held} bytes of reads at once");
        let resumable = q.conn.may_resume();
        for r in reqs {
            q.conn.complete_io(r.tag, execute_io(&r));
        }
        let out = q.conn.take_output();
        assert!(out.len() < OUTPUT_PAUSE + len + 4096, "{} bytes of output at once", out.len());
        q.dec.feed(&out);
        while let Some(p) = q.dec.decode().unwrap() {
            answered += usize::from(matches!(p, Pdu::CapsuleResp(c) if c.status.is_success()));
        }
        rounds += 1;
        if !q.conn.input_paused() {
            break;
        }
        assert!(!resumable, "paused while its reads were in flight");
        assert!(q.conn.may_resume());
        q.conn.received(q.now);
    }
    let per_round = OUTPUT_PAUSE / len;
    assert_eq!((answered, rounds), (depth, depth / per_round), "{per_round} reads per round");
}

/// A feature not supported is Invalid Field whatever SV says, as nvmet answers, not
/// Feature Identifier Not Saveable; those refused as not saveable are exactly the ones Set
/// Features takes without SV. Neither answer sets anything.
#[test]
fn set_features_refuses_an_unsupported_feature_whatever_sv_says() {
    let t = target();
    let (mut h, _) = H::admin(&t, 3000);
    let set = |fid: u8, sv: bool, v: u32| {
        let mut s = Sqe::new(admin_opcode::SET_FEATURES, 0);
        s.cdw[0] = u32::from(fid) | (u32::from(sv) << 31);
        s.cdw[1] = v;
        s
    };
    let invalid = Status::INVALID_FIELD.with_dnr();
    for fid in 0..=u8::MAX {
        let supported = admin::settable(fid, false);
        let want = if supported { Status::FEATURE_NOT_SAVEABLE.with_dnr() } else { invalid };
        assert_eq!(h.run(set(fid, true, 0), &[]).0.status, want, "FID {fid:#x} with SV");
        if !supported {
            assert_eq!(h.run(set(fid, false, 0), &[]).0.status, invalid, "FID {fid:#x}");
        }
    }
    // Nothing was set: KATO and the Number of Queues the host may still ask for are as before.
    let mut g = Sqe::new(admin_opcode::GET_FEATURES, 0);
    g.cdw[0] = 0x0F;
    assert_eq!(h.run(g, &[]).0.dw0, 3000);
    assert!(
        h.run(set(crate::features::fid::NUMBER_OF_QUEUES, false, 0), &[]).0.status.is_success()
    );
}

#[test]
fn admin_edge_cases() {
    let t = target();
    let (mut h, _) = H::admin(&t, 3000);
    // Abort never aborts: DW0 bit 0 set.
    let (c, _) = h.run(Sqe::new(admin_opcode::ABORT, 0), &[]);
    assert_eq!((c.status, c.dw0), (Status::SUCCESS, 1));
    // Saveable features are refused; KATO reads back.
    let mut s = Sqe::new(admin_opcode::SET_FEATURES, 0);
    s.cdw[0] = 0x0F | (1 << 31);
    assert_eq!(h.run(s, &[]).0.status, Status::FEATURE_NOT_SAVEABLE.with_dnr());
    let mut g = Sqe::new(admin_opcode::GET_FEATURES, 0);
    g.cdw[0] = 0x0F;
    assert_eq!(h.run(g, &[]).0.dw0, 3000);
    g.cdw[0] = 0x42;
    assert_eq!(h.run(g, &[]).0.status, Status::INVALID_FIELD.with_dnr());
    // The default KATO of a transport that needs Keep Alive: two minutes (NVMe Base 2.0
    // §5.27.1.12), not the value the Connect set.
    g.cdw[0] = 0x0F | (1 << 8);
    assert_eq!(h.run(g, &[]).0.dw0, 120_000);
    // Supported capabilities (SEL 011b): changeable, not saveable; none for an unknown one.
    g.cdw[0] = 0x0F | (3 << 8);
    assert_eq!(h.run(g, &[]).0.dw0, 1 << 2);
    g.cdw[0] = 0x42 | (3 << 8);
    assert_eq!(h.run(g, &[]).0.status, Status::INVALID_FIELD.with_dnr());
    // Log page offsets and misaligned offsets.
    let mut lp = log_page(3, 8);
    lp.cdw[2] = 8;
    let (c, fw) = h.run(lp, &[]);
    assert!(c.status.is_success());
    assert_eq!(&fw, crate::identify::FIRMWARE);
    // At the page's end: nothing left, zeros; past it: Invalid Field (§5.16, LPOL).
    lp.cdw[2] = 512;
    let (c, rest) = h.run(lp, &[]);
    assert_eq!((c.status, rest), (Status::SUCCESS, vec![0; 8]));
    lp.cdw[2] = 516;
    assert_eq!(h.run(lp, &[]).0.status, Status::INVALID_FIELD.with_dnr());
    lp.cdw[2] = 2;
    assert_eq!(h.run(lp, &[]).0.status, Status::INVALID_FIELD.with_dnr());
    // Error Information: the five failures above, newest first; ELPE covers the log.
    let (c, errors) = h.run(log_page(1, 64 * 5), &[]);
    assert!(c.status.is_success());
    let counts: Vec<u64> =
        errors.chunks(64).map(|e| u64::from_le_bytes(e[0..8].try_into().unwrap())).collect();
    assert_eq!(counts, [5, 4, 3, 2, 1]);
    assert_eq!(errors[31], admin_opcode::GET_LOG_PAGE, "the misaligned offset");
    assert_eq!(errors[64 + 31], admin_opcode::GET_LOG_PAGE, "the offset past the page");
    assert_eq!(errors[64 * 4 + 31], admin_opcode::SET_FEATURES, "the saveable feature");
    let (_, id) = h.run(identify(1, 0), &[]);
    assert_eq!(usize::from(id[262]) + 1, crate::error_log::ENTRIES, "ELPE, 0's based");
    // More AERs than AERL allows.
    for _ in 0..crate::identify::AER_LIMIT {
        assert!(h.cmd(Sqe::new(admin_opcode::ASYNC_EVENT_REQUEST, 0), &[]).is_empty());
    }
    let (c, _) = h.run(Sqe::new(admin_opcode::ASYNC_EVENT_REQUEST, 0), &[]);
    assert_eq!(c.status, Status::ASYNC_EVENT_LIMIT_EXCEEDED.with_dnr());
    // Unknown property; known ones read at another size than theirs (CAP is 8 bytes, VS
    // and CSTS 4); 8-byte CC; then disable: RDY drops and admin commands stop.
    for (offset, eight_bytes) in
        [(0x40, false), (property::CAP, false), (property::VS, true), (property::CSTS, true)]
    {
        let (c, _) = h.run(PropertyGetCmd { eight_bytes, offset }.to_sqe(0), &[]);
        assert_eq!(c.status, Status::INVALID_FIELD.with_dnr(), "{offset:#x} {eight_bytes}");
    }
    let set = |v: u64, eight: bool| {
        PropertySetCmd { eight_bytes: eight, offset: property::CC, value: v }.to_sqe(0)
    };
    assert_eq!(h.run(set(1, true), &[]).0.status, Status::INVALID_FIELD.with_dnr());
    assert!(h.run(set(0x0046_0000, false), &[]).0.status.is_success());
    let (c, _) =
        h.run(PropertyGetCmd { eight_bytes: false, offset: property::CSTS }.to_sqe(0), &[]);
    assert_eq!(c.dw0 & 1, 0);
    assert_eq!(h.run(identify(1, 0), &[]).0.status, Status::COMMAND_SEQUENCE_ERROR.with_dnr());
    // A second Connect on a bound queue.
    let c = h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
    assert_eq!(c.status, Status::COMMAND_SEQUENCE_ERROR.with_dnr());
}

fn term(h: &mut H) -> (u16, u32) {
    let t = term_req(h);
    (t.fes, t.fei)
}

/// The C2HTermReq the connection sent, closing.
fn term_req(h: &mut H) -> dpu_nvmf_proto::TermReq {
    let mut d = PduDecoder::established(DecoderConfig::host(), h.framing.hdgst, h.framing.ddgst);
    d.feed(&h.conn.take_output());
    loop {
        match d.decode().unwrap() {
            Some(Pdu::C2HTermReq(t)) => {
                assert!(h.conn.is_closed().is_some());
                return t;
            }
            Some(_) => {}
            None => panic!("no C2HTermReq"),
        }
    }
}

/// A host that asked for an R2T and then holds its data back (all of it, or the last
/// piece) holds the command and its buffer only until DATA_DEADLINE: the queue closes,
/// keep-alives or not; a command that got its data is not affected.
#[test]
fn data_held_back_after_an_r2t_closes_the_queue_after_the_deadline() {
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 2000);
    let mut q = H::io(&t, cntlid, 1, 0);
    let len = 16 * 1024u32;
    let start = q.now;
    for (cid, part) in [(101u16, 0usize), (102, len as usize - 4096)] {
        let mut sqe = rw(io_opcode::WRITE, 0, len / 512, len);
        sqe.cid = cid;
        q.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe, data: vec![].into() }));
        let p = q.pdus();
        let [Pdu::R2t(r)] = p.as_slice() else { panic!("{p:?}") };
        if part > 0 {
            let h = DataPduHeader {
                cccid: r.cccid,
                ttag: r.ttag,
                datao: 0,
                last: false,
                success: false,
            };
            let mut b = Vec::new();
            encode_h2c_data(&h, &vec![0xAA; part], &q.framing, &mut b).unwrap();
            q.conn.receive(&b, q.now);
        }
    }
    // A write whose data comes completes as ever meanwhile.
    let (c, _) = q.run(rw(io_opcode::WRITE, 0, 1, 512), &[0x11; 512]);
    assert!(c.status.is_success(), "{c:?}");
    for s in (1..=59).step_by(2) {
        let now = start + Duration::from_secs(s);
        admin.now = now;
        admin.run(Sqe::new(admin_opcode::KEEP_ALIVE, 0), &[]);
        q.conn.tick(now);
    }
    assert!(q.conn.is_closed().is_none(), "within the deadline");
    q.conn.tick(start + DATA_DEADLINE + Duration::from_secs(2));
    assert_eq!(q.conn.is_closed(), Some(&CloseReason::DataTimeout));
}

/// An I/O queue of the largest depth ([`identify::MQES`] + 1 commands), without digests.
fn deep_io(t: &Arc<Target>, cntlid: u16, qid: u16) -> H {
    let mut q = H::new(t, false, false);
    let sqsize = identify::MQES;
    let sqe = ConnectCmd { recfmt: 0, qid, sqsize, cattr: 0, kato: 0 }.to_sqe(0);
    let d = ConnectData { hostid: HOSTID, cntlid, subnqn: SUB.into(), hostnqn: HOST.into() };
    let c = q.run(sqe, &d.to_bytes()).0;
    assert!(c.status.is_success(), "{c:?}");
    q
}

/// The queue depth of MDTS-sized commands `opcode` with CIDs from 0, encoded as one batch.
fn mdts_batch(q: &H, opcode: u8) -> Vec<u8> {
    let len = identify::MAX_TRANSFER;
    let mut batch = Vec::new();
    for cid in 0..=identify::MQES {
        let mut sqe = rw(opcode, 0, len / 512, len);
        sqe.cid = cid;
        let capsule = Pdu::CapsuleCmd(CapsuleCmd { sqe, data: Bytes::new() });
        batch.extend(capsule.to_vec(&q.framing).unwrap());
    }
    batch
}

/// A queue asks for at most R2T_BUDGET of write data at a time, however many writes its
/// host sends and however little of their data: the queue depth of MDTS-sized writes
/// whose host sends a piece of each one's data held 16 MiB before. The others wait for
/// their R2T in order (CIDs taken, counted in the queue depth, their DATA_DEADLINE not
/// running yet, an Abort answered as ever) and get it as the earlier writes' data comes;
/// all complete.
#[test]
fn writes_wait_for_their_r2t_while_the_data_asked_for_is_at_the_budget() {
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut q = deep_io(&t, cntlid, 1);
    let (depth, len) = (usize::from(identify::MQES) + 1, identify::MAX_TRANSFER as usize);
    q.conn.receive(&mdts_batch(&q, io_opcode::WRITE), q.now);
    let data = |r: &R2t, q: &H, from: usize, to: usize| {
        let last = to == len;
        let h = DataPduHeader {
            cccid: r.cccid,
            ttag: r.ttag,
            datao: from as u32,
            last,
            success: false,
        };
        let mut out = Vec::new();
        encode_h2c_data(&h, &vec![r.cccid as u8; to - from], &q.framing, &mut out).unwrap();
        out
    };
    let mut asked = VecDeque::new();
    let mut done = Vec::new();
    let mut answers = |q: &mut H, asked: &mut VecDeque<R2t>| {
        for p in q.pdus() {
            match p {
                Pdu::R2t(r) => {
                    assert_eq!(r.r2tl as usize, len);
                    asked.push_back(r);
                }
                Pdu::CapsuleResp(c) if c.status.is_success() => done.push(c.cid),
                other => panic!("{other:?}"),
            }
        }
        assert!(asked.len() * len <= R2T_BUDGET, "{} writes' data asked for", asked.len());
    };
    answers(&mut q, &mut asked);
    let first = R2T_BUDGET / len;
    assert_eq!(
        asked.iter().map(|r| r.cccid).collect::<Vec<_>>(),
        (0..first as u16).collect::<Vec<_>>()
    );
    // A piece of each one's data: nothing more is asked for.
    for r in &asked {
        q.conn.receive(&data(r, &q, 0, 4096), q.now);
    }
    answers(&mut q, &mut asked);
    assert_eq!(asked.len(), first);
    // A waiting write's CID is taken; an Abort of it is answered (nothing is aborted).
    let last = identify::MQES;
    let mut read = rw(io_opcode::READ, 0, 1, 512);
    read.cid = last;
    q.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: read, data: Bytes::new() }));
    let p = q.pdus();
    assert!(
        matches!(p.as_slice(), [Pdu::CapsuleResp(c)] if c.cid == last && c.status == Status::COMMAND_ID_CONFLICT.with_dnr()),
        "{p:?}"
    );
    let mut abort = Sqe::new(admin_opcode::ABORT, 0);
    abort.cdw[0] = (u32::from(last) << 16) | 1;
    assert_eq!(admin.run(abort, &[]).0.dw0, 1, "not aborted");
    // 50 s later the rest of their data: the next writes' R2Ts go now, and their
    // deadline runs from now.
    let start = q.now;
    q.now += Duration::from_secs(50);
    for r in std::mem::take(&mut asked) {
        q.conn.receive(&data(&r, &q, 4096, len), q.now);
        answers(&mut q, &mut asked);
    }
    assert_eq!(asked.len(), first);
    q.conn.tick(start + DATA_DEADLINE + Duration::from_secs(2));
    assert!(q.conn.is_closed().is_none(), "asked for 50 s after the first");
    while let Some(r) = asked.pop_front() {
        q.conn.receive(&data(&r, &q, 0, len), q.now);
        answers(&mut q, &mut asked);
    }
    assert_eq!(done, (0..depth as u16).collect::<Vec<_>>());
    let (c, d) = q.run(rw(io_opcode::READ, 0, 1, 512), &[]);
    assert!(c.status.is_success() && d == [last as u8; 512], "the last write landed last");
    // The waiting writes count in the queue depth: one command more is fatal.
    let mut q2 = deep_io(&t, cntlid, 2);
    q2.conn.receive(&mdts_batch(&q2, io_opcode::WRITE), q2.now);
    let p = q2.pdus();
    assert_eq!(p.len(), first, "{p:?}");
    q2.cid = 500;
    q2.submit(rw(io_opcode::READ, 0, 1, 512), &[]);
    assert!(
        matches!(q2.conn.is_closed(), Some(CloseReason::Fatal(_))),
        "{:?}",
        q2.conn.is_closed()
    );
}

/// An I/O queue (no digests) whose R2Ts share `budget` with the others given it.
fn io_sharing(t: &Arc<Target>, cntlid: u16, qid: u16, budget: &WriteBudget) -> H {
    let cfg = QueueConfig { write_budget: budget.clone(), ..QueueConfig::default() };
    let mut q = H::with_config(t, cfg, false, false);
    let c = q.connect(SUB, qid, cntlid, 0, 0);
    assert!(c.status.is_success(), "{c:?}");
    q
}

const MDTS: u32 = identify::MAX_TRANSFER;

/// Sends an MDTS-sized write under `cid` at slot `cid` of the volume, its data by R2T;
/// its R2T if one came at once.
fn write_asking(q: &mut H, cid: u16) -> Option<R2t> {
    let blocks = MDTS / 512;
    let mut sqe = rw(io_opcode::WRITE, u64::from(cid % 8) * u64::from(blocks), blocks, MDTS);
    sqe.cid = cid;
    q.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe, data: Bytes::new() }));
    match q.pdus().as_slice() {
        [] => None,
        [Pdu::R2t(r)] if r.cccid == cid && r.r2tl == MDTS => Some(*r),
        p => panic!("{p:?}"),
    }
}

/// Sends all the data `r` asked for, each byte the low byte of its CID; the PDUs answered.
fn send_asked(q: &mut H, r: &R2t) -> Vec<Pdu> {
    let h = DataPduHeader { cccid: r.cccid, ttag: r.ttag, datao: 0, last: true, success: false };
    let mut b = Vec::new();
    encode_h2c_data(&h, &vec![r.cccid as u8; r.r2tl as usize], &q.framing, &mut b).unwrap();
    q.conn.receive(&b, q.now);
    q.pdus()
}

/// The R2Ts among `p`, and whether every completion in it is a success.
fn r2ts_in(p: &[Pdu]) -> Vec<R2t> {
    p.iter()
        .filter_map(|p| match p {
            Pdu::R2t(r) => Some(*r),
            Pdu::CapsuleResp(c) => {
                assert!(c.status.is_success(), "{c:?}");
                None
            }
            other => panic!("{other:?}"),
        })
        .collect()
}

/// The target-wide budget: a queue's R2T while it has nothing asked for goes free, every
/// further one takes its length from the budget the queues of a server share; one that
/// cannot waits (its CID taken, its DATA_DEADLINE not running) until bytes come back and
/// its shell retries, in order, and every write completes with its data. What the data
/// gave back returns the budget to exactly where it started.
#[test]
fn a_queues_further_r2ts_share_the_target_wide_write_budget() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let budget = WriteBudget::new(MDTS as usize);
    let mut a = io_sharing(&t, cntlid, 1, &budget);
    let mut b = io_sharing(&t, cntlid, 2, &budget);
    // A: the first R2T goes free, the second takes the whole budget.
    let a1 = write_asking(&mut a, 1).expect("nothing asked for: it goes");
    assert_eq!(budget.taken(), 0, "the first R2T takes nothing");
    let a2 = write_asking(&mut a, 2).expect("within the budget");
    assert_eq!(budget.taken(), MDTS as usize);
    // B: its first goes all the same; the next two wait, in order.
    let b1 = write_asking(&mut b, 1).expect("a queue's first R2T always goes");
    assert!(!b.conn.waits_for_write_budget());
    assert!(write_asking(&mut b, 2).is_none(), "the budget is taken: it waits");
    assert!(write_asking(&mut b, 3).is_none(), "behind the other");
    assert!(b.conn.waits_for_write_budget());
    assert_eq!(budget.taken(), MDTS as usize);
    let mut read = rw(io_opcode::READ, 0, 1, 512);
    read.cid = 2;
    b.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: read, data: Bytes::new() }));
    let p = b.pdus();
    assert!(
        matches!(p.as_slice(), [Pdu::CapsuleResp(c)] if c.status == Status::COMMAND_ID_CONFLICT.with_dnr()),
        "a waiting write's CID is taken: {p:?}"
    );
    // A's free write's data comes: the budget stays taken by its second.
    assert!(r2ts_in(&send_asked(&mut a, &a1)).is_empty());
    assert_eq!(budget.taken(), MDTS as usize);
    b.conn.retry_r2ts(b.now);
    assert!(b.pdus().is_empty(), "still nothing to take");
    // A's second's data comes 50 s later: the budget is back, and B's shell, woken,
    // retries: its second goes (its deadline from now), its third still waits.
    let start = b.now;
    b.now += Duration::from_secs(50);
    a.now = b.now;
    assert!(r2ts_in(&send_asked(&mut a, &a2)).is_empty());
    assert_eq!(budget.taken(), 0);
    b.conn.retry_r2ts(b.now);
    let p = b.pdus();
    let [Pdu::R2t(b2)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!(b2.cccid, 2);
    assert_eq!(budget.taken(), MDTS as usize);
    assert!(b.conn.waits_for_write_budget(), "the third waits");
    // B's free write's data: its second holds the budget, so the third still waits.
    assert!(r2ts_in(&send_asked(&mut b, &b1)).is_empty());
    b.conn.tick(start + DATA_DEADLINE + Duration::from_secs(2));
    assert!(b.conn.is_closed().is_none(), "the second's R2T went 50 s after it came");
    // The second's data gives the budget back and, with nothing else asked for, the
    // third goes free at once.
    let p = send_asked(&mut b, b2);
    let [b3] = r2ts_in(&p)[..] else { panic!("{p:?}") };
    assert_eq!(b3.cccid, 3);
    assert_eq!(budget.taken(), 0, "the queue had nothing asked for");
    assert!(!b.conn.waits_for_write_budget());
    assert!(r2ts_in(&send_asked(&mut b, &b3)).is_empty());
    for (cid, slot) in [(2u16, 2u64), (3, 3)] {
        let (c, d) = b.run(rw(io_opcode::READ, slot * 256, 1, 512), &[]);
        assert!(c.status.is_success() && d == [cid as u8; 512], "write {cid} landed");
    }
    assert_eq!(budget.taken(), 0);
}

/// With no budget at all, every queue still progresses one write at a time: its first
/// R2T goes whenever it has nothing asked for.
#[test]
fn a_queue_with_nothing_asked_for_gets_its_r2t_whatever_the_budget() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let budget = WriteBudget::new(0);
    let mut queues: Vec<H> = (1..=3).map(|qid| io_sharing(&t, cntlid, qid, &budget)).collect();
    for q in &mut queues {
        let first = write_asking(q, 1).expect("nothing asked for: it goes");
        assert!(write_asking(q, 2).is_none(), "nothing to take");
        assert!(q.conn.waits_for_write_budget());
        let p = send_asked(q, &first);
        let [second] = r2ts_in(&p)[..] else { panic!("{p:?}") };
        assert_eq!(second.cccid, 2, "it went once its queue had nothing asked for");
        assert!(r2ts_in(&send_asked(q, &second)).is_empty());
    }
    assert_eq!(budget.taken(), 0);
}

/// However a queue ends with R2Ts outstanding and others waiting, it gives back exactly
/// what it took from the budget, no more (another queue's part stays taken): a leak would
/// shrink the target's budget for ever. An Abort aborts nothing and changes nothing.
#[test]
fn a_queue_ending_with_r2ts_outstanding_gives_back_exactly_what_it_took() {
    type End = fn(&mut H, &mut Option<H>, &mut H);
    let ends: [(&str, End); 8] = [
        ("socket closed", |q, _, _| q.conn.shutdown()),
        ("dropped", |_, dropped, _| drop(dropped.take())),
        ("host terminated", |q, _, _| {
            let fes = dpu_nvmf_proto::Fes::HeaderDigestError as u16;
            q.send(&Pdu::H2CTermReq(dpu_nvmf_proto::TermReq { fes, fei: 0, data: vec![] }));
        }),
        ("fatal error", |q, _, _| {
            let r = R2t { cccid: 999, ttag: 1, r2to: 0, r2tl: 512 };
            send_asked(q, &r);
        }),
        ("data timed out", |q, _, _| {
            q.conn.tick(q.now + DATA_DEADLINE + Duration::from_secs(2));
        }),
        ("controller gone", |q, _, admin| {
            admin.conn.shutdown();
            q.conn.tick(q.now + Duration::from_millis(200));
        }),
        ("listener deleted", |q, _, _| {
            q.conn.cfg.listener.delete();
            q.conn.tick(q.now + Duration::from_millis(200));
        }),
        ("Disconnect", |q, _, _| {
            let mut d = Sqe::new(admin_opcode::FABRICS, 0);
            d.nsid = u32::from(fctype::DISCONNECT);
            q.cid = 100;
            q.cmd(d, &[]);
        }),
    ];
    for (how, end) in ends {
        let t = target();
        let (mut admin, cntlid) = H::admin(&t, 0);
        let budget = WriteBudget::new(4 * MDTS as usize);
        // Another queue holds one MDTS of the budget throughout.
        let mut other = io_sharing(&t, cntlid, 2, &budget);
        let other_first = write_asking(&mut other, 1).unwrap();
        let other_taken = write_asking(&mut other, 2).unwrap();
        assert_eq!(budget.taken(), MDTS as usize);
        let mut q = io_sharing(&t, cntlid, 1, &budget);
        let asked: Vec<R2t> = (1..=4).map(|cid| write_asking(&mut q, cid).unwrap()).collect();
        assert!(write_asking(&mut q, 5).is_none() && q.conn.waits_for_write_budget());
        assert_eq!(budget.taken(), 4 * MDTS as usize, "{how}: three of its R2Ts took");
        // A piece of one's data: nothing changes until all of it came.
        let h = DataPduHeader {
            cccid: asked[3].cccid,
            ttag: asked[3].ttag,
            datao: 0,
            last: false,
            success: false,
        };
        let mut b = Vec::new();
        encode_h2c_data(&h, &[0; 4096], &q.framing, &mut b).unwrap();
        q.conn.receive(&b, q.now);
        let mut abort = Sqe::new(admin_opcode::ABORT, 0);
        abort.cdw[0] = (u32::from(asked[2].cccid) << 16) | 1;
        assert_eq!(admin.run(abort, &[]).0.dw0, 1, "not aborted");
        assert_eq!(budget.taken(), 4 * MDTS as usize, "{how}");
        let mut dropped = None;
        if how == "dropped" {
            dropped = Some(std::mem::replace(&mut q, io_sharing(&t, cntlid, 3, &budget)));
        }
        end(&mut q, &mut dropped, &mut admin);
        if how != "dropped" {
            assert!(q.conn.is_closed().is_some(), "{how}: closed");
        }
        assert_eq!(budget.taken(), MDTS as usize, "{how}: the other queue's part only");
        drop(q);
        assert_eq!(budget.taken(), MDTS as usize, "{how}: given back once");
        if how != "controller gone" {
            assert!(r2ts_in(&send_asked(&mut other, &other_taken)).is_empty());
            assert!(r2ts_in(&send_asked(&mut other, &other_first)).is_empty());
            assert_eq!(budget.taken(), 0, "{how}");
        }
        drop(other);
        assert_eq!(budget.taken(), 0, "{how}");
    }
}

/// A write whose data came with a digest error fails, and gives its part back as one
/// whose data came whole.
#[test]
fn data_with_a_digest_error_gives_its_budget_back() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let budget = WriteBudget::new(MDTS as usize);
    let cfg = QueueConfig { write_budget: budget.clone(), ..QueueConfig::default() };
    let mut q = H::with_config(&t, cfg, false, true);
    assert!(q.connect(SUB, 1, cntlid, 0, 0).status.is_success());
    let first = write_asking(&mut q, 1).unwrap();
    let second = write_asking(&mut q, 2).unwrap();
    assert_eq!(budget.taken(), MDTS as usize);
    let h = DataPduHeader {
        cccid: second.cccid,
        ttag: second.ttag,
        datao: 0,
        last: true,
        success: false,
    };
    let mut b = Vec::new();
    encode_h2c_data(&h, &vec![0x11; MDTS as usize], &q.framing, &mut b).unwrap();
    let n = b.len();
    b[n - 5] ^= 0xFF;
    q.conn.receive(&b, q.now);
    let p = q.pdus();
    assert!(
        matches!(p.as_slice(), [Pdu::CapsuleResp(c)] if c.cid == 2 && c.status == Status::TRANSIENT_TRANSPORT_ERROR),
        "{p:?}"
    );
    assert_eq!(budget.taken(), 0);
    assert!(r2ts_in(&send_asked(&mut q, &first)).is_empty());
    assert_eq!(budget.taken(), 0);
}

/// A controller reset (CC.EN 1 -> 0) ends the outstanding AERs: no completion comes for
/// them, and the host may use their CIDs again once it enabled the controller again.
#[test]
fn a_reset_ends_the_outstanding_asynchronous_event_requests() {
    let t = target();
    let (mut admin, _) = H::admin(&t, 0);
    let cid = admin.arm_namespace_notices();
    let cc = |value: u64| PropertySetCmd { eight_bytes: false, offset: property::CC, value };
    assert!(admin.run(cc(0x0046_0000).to_sqe(0), &[]).0.status.is_success());
    assert!(admin.run(cc(0x0046_0001).to_sqe(0), &[]).0.status.is_success());
    let mut aer = Sqe::new(admin_opcode::ASYNC_EVENT_REQUEST, 0);
    aer.cid = cid;
    admin.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: aer, data: vec![].into() }));
    assert!(admin.pdus().is_empty(), "the old CID is free: the new request waits");
}

/// The AERs a reset ends leave the admin queue's in-flight count: it does not creep up
/// with every reset of a host that keeps requests outstanding.
#[test]
fn a_reset_counts_the_ended_asynchronous_event_requests_out_of_flight() {
    let t = target();
    let (mut admin, _) = H::admin(&t, 0);
    let in_flight = || t.subsystem_stats()[0].controllers[0].queues[0].in_flight;
    admin.arm_namespace_notices();
    let (_, answered) = admin.send_aer();
    assert!(answered.is_empty(), "the request waits for an event");
    assert_eq!(in_flight(), 2, "two AERs outstanding");
    let cc = |value: u64| PropertySetCmd { eight_bytes: false, offset: property::CC, value };
    assert!(admin.run(cc(0x0046_0000).to_sqe(0), &[]).0.status.is_success());
    assert_eq!(in_flight(), 0, "the reset ended both AERs");
    let errors = t.subsystem_stats()[0].controllers[0].queues[0].io.errors;
    assert_eq!(errors, 0, "an ended AER is no failed command");
}

/// Resets the controller: CC.EN 1 -> 0 -> 1.
fn reset(h: &mut H) {
    let cc = |value: u64| PropertySetCmd { eight_bytes: false, offset: property::CC, value };
    assert!(h.run(cc(0x0046_0000).to_sqe(0), &[]).0.status.is_success());
    assert!(h.run(cc(0x0046_0001).to_sqe(0), &[]).0.status.is_success());
}

/// Asynchronous Event Configuration (0Bh) is not persistent across a controller reset
/// (NVMe Base 2.x, Feature Identifiers table): after one it reads its default, and a
/// namespace notice masked before it is masked no more. The Changed Namespace List, log
/// state, outlives it.
#[test]
fn a_reset_restores_the_event_configuration_and_unmasks_its_notices() {
    let t = target();
    let (mut admin, _) = H::admin(&t, 0);
    let aer = admin.arm_namespace_notices();
    let v = Arc::new(Volume::ram("v", 512, 1 << 20).unwrap());
    t.add_namespace(SUB, 2, v.clone(), [1; 16], [2; 16]).unwrap();
    let p = admin.events();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.dw0), (aer, 0x0004_0002), "sent, then masked");
    reset(&mut admin);
    let aec = admin.run(get_feature(feature::ASYNC_EVENT_CONFIG, 0, 0), &[]).0;
    assert_eq!(aec.dw0, 0, "the default");
    let aer = admin.arm_namespace_notices();
    t.add_namespace(SUB, 3, v, [3; 16], [4; 16]).unwrap();
    let p = admin.events();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("masked no more: {p:?}") };
    assert_eq!((c.cid, c.dw0), (aer, 0x0004_0002));
    let (_, log) = admin.run(log_page(log_id::CHANGED_NS, 4096), &[]);
    assert_eq!(&log[0..12], &[2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0], "the list outlived it");
}

/// Features that are not persistent across a reset (NVMe Base 2.x, Feature Identifiers
/// table: every one this target lets a host set but Reservation Persistence and
/// Namespace Write Protection Config) read their defaults after one, as Asynchronous
/// Event Configuration does; a threshold set under the composite temperature warns no
/// more.
#[test]
fn a_reset_restores_the_features_that_do_not_persist() {
    use crate::features::fid;
    let t = target();
    let (mut h, _) = H::admin(&t, 0);
    let set: [(u8, u32, u32); 6] = [
        (fid::ARBITRATION, 0x0102_0305, 1),
        (fid::TEMPERATURE_THRESHOLD, 290, 0),
        (fid::ERROR_RECOVERY, 10, 1),
        (fid::WRITE_ATOMICITY_NORMAL, 1, 0),
        (fid::VOLATILE_WRITE_CACHE, 0, 0),
        (fid::RESERVATION_NOTIFICATION_MASK, 0b1110, 1),
    ];
    let get = |h: &mut H, f: u8, nsid: u32, sel: u32| {
        let mut g = get_feature(f, 0, sel);
        g.nsid = nsid;
        let c = h.run(g, &[]).0;
        assert!(c.status.is_success(), "{f:#x}: {:?}", c.status);
        c.dw0
    };
    for (f, v, nsid) in set {
        let mut s = set_feature(f, v);
        s.nsid = nsid;
        assert!(h.run(s, &[]).0.status.is_success(), "{f:#x}");
        assert_ne!(get(&mut h, f, nsid, 0), get(&mut h, f, nsid, 1), "{f:#x} set");
    }
    let warning = |h: &mut H| h.run(log_page(2, 512), &[]).1[0] & (1 << 1) != 0;
    assert!(warning(&mut h));
    reset(&mut h);
    for (f, _, nsid) in set {
        assert_eq!(get(&mut h, f, nsid, 0), get(&mut h, f, nsid, 1), "{f:#x} after the reset");
    }
    assert!(!warning(&mut h));
}

/// As [`a_reset_restores_the_event_configuration_and_unmasks_its_notices`], for a
/// discovery controller's Discovery Log Page Change notice (AEC bit 31).
#[test]
fn a_reset_unmasks_the_discovery_log_change_notice() {
    let t = target();
    let mut h = H::new(&t, false, false);
    assert!(h.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 0, 0).status.is_success());
    h.enable();
    let arm = |h: &mut H| {
        let aec = set_feature(feature::ASYNC_EVENT_CONFIG, 1 << 31);
        assert!(h.run(aec, &[]).0.status.is_success());
        let (aer, answered) = h.send_aer();
        assert!(answered.is_empty(), "{answered:?}");
        aer
    };
    let mut spec = t.subsystem(SUB).unwrap();
    spec.allow_any_host = true;
    let mut add = |nqn: &str| {
        spec.nqn = nqn.into();
        t.add_subsystem(spec.clone()).unwrap();
    };
    let aer = arm(&mut h);
    add("nqn.2024-01.io.example:first");
    let p = h.events();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.dw0), (aer, 0x0070_F002), "sent, then masked");
    reset(&mut h);
    let aec = h.run(get_feature(feature::ASYNC_EVENT_CONFIG, 0, 0), &[]).0;
    assert_eq!(aec.dw0, 0, "the default");
    let aer = arm(&mut h);
    add("nqn.2024-01.io.example:second");
    let p = h.events();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("masked no more: {p:?}") };
    assert_eq!((c.cid, c.dw0), (aer, 0x0070_F002));
}

#[test]
fn h2c_data_sequence_errors_are_fatal() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    // Each C2HTermReq carries the header of the PDU in error (NVMe/TCP 1.0 §3.6.2.5):
    // an H2CData PDU's 24 bytes, without the header digest that follows.
    let send_h2c = |q: &mut H, cccid: u16, ttag: u16, datao: u32, len: usize, last: bool| {
        let hdr = DataPduHeader { cccid, ttag, datao, last, success: false };
        let mut b = Vec::new();
        encode_h2c_data(&hdr, &vec![0; len], &q.framing, &mut b).unwrap();
        q.conn.receive(&b, q.now);
        b.truncate(24);
        b
    };
    let fatal = |q: &mut H| {
        let t = term_req(q);
        (Fes::from_code(t.fes).unwrap(), t.fei, t.data)
    };
    let start = |q: &mut H| -> R2t {
        let p = q.cmd(rw(io_opcode::WRITE, 0, 16, 8192), &[]);
        let [Pdu::R2t(r)] = p.as_slice() else { panic!("{p:?}") };
        *r
    };
    // Unknown command.
    let mut q = H::io(&t, cntlid, 1, 0);
    let header = send_h2c(&mut q, 999, 0, 0, 512, true);
    assert_eq!(fatal(&mut q), (Fes::InvalidHeaderField, 8, header));
    // Wrong TTAG.
    let mut q = H::io(&t, cntlid, 9, 0);
    let r = start(&mut q);
    let header = send_h2c(&mut q, r.cccid, r.ttag.wrapping_add(1), 0, 8192, true);
    assert_eq!(fatal(&mut q), (Fes::InvalidHeaderField, 10, header));
    // Out-of-order offset: FES 04h, whose FEI is reserved (NVMe/TCP 1.0 §3.6.2.9), so 0.
    let mut q = H::io(&t, cntlid, 2, 0);
    let r = start(&mut q);
    let header = send_h2c(&mut q, r.cccid, r.ttag, 4096, 4096, false);
    assert_eq!(fatal(&mut q), (Fes::DataTransferOutOfRange, 0, header));
    // More data than requested.
    let mut q = H::io(&t, cntlid, 3, 0);
    let r = start(&mut q);
    let header = send_h2c(&mut q, r.cccid, r.ttag, 0, 12288, true);
    assert_eq!(fatal(&mut q), (Fes::DataTransferOutOfRange, 0, header));
    // LAST_PDU before the end.
    let mut q = H::io(&t, cntlid, 4, 0);
    let r = start(&mut q);
    let header = send_h2c(&mut q, r.cccid, r.ttag, 0, 4096, true);
    assert_eq!(fatal(&mut q), (Fes::PduSequenceError, 0, header));
    // Header digest error.
    let mut q = H::io(&t, cntlid, 5, 0);
    let mut b =
        Pdu::CapsuleCmd(CapsuleCmd { sqe: rw(io_opcode::READ, 0, 1, 512), data: vec![].into() })
            .to_vec(&q.framing)
            .unwrap();
    b[72] ^= 1;
    q.conn.receive(&b, q.now);
    assert_eq!(term(&mut q).0, Fes::HeaderDigestError.code());
    // In-capsule data beyond 8 KiB.
    let mut q = H::io(&t, cntlid, 6, 0);
    let mut s = rw(io_opcode::WRITE, 0, 24, 0);
    s.set_sgl(SglDescriptor::in_capsule(12288));
    q.conn.receive(
        &Pdu::CapsuleCmd(CapsuleCmd { sqe: s, data: vec![0; 12288].into() })
            .to_vec(&q.framing)
            .unwrap(),
        q.now,
    );
    assert_eq!(term(&mut q).0, Fes::DataTransferLimitExceeded.code());
    // More outstanding commands than the queue holds (SQSIZE 31 → 32 entries).
    let mut q = H::io(&t, cntlid, 7, 0);
    for i in 0..32u16 {
        let mut s = rw(io_opcode::WRITE, 0, 16, 8192);
        s.cid = 100 + i;
        q.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: s, data: vec![].into() }));
    }
    assert!(q.conn.is_closed().is_none());
    let mut s = rw(io_opcode::WRITE, 0, 16, 8192);
    s.cid = 200;
    let b = Pdu::CapsuleCmd(CapsuleCmd { sqe: s, data: vec![].into() }).to_vec(&q.framing).unwrap();
    q.conn.receive(&b, q.now);
    assert_eq!(fatal(&mut q), (Fes::PduSequenceError, 0, b[..72].to_vec()), "the capsule's");
    // The controller and its other queues are unaffected.
    let mut ok_q = H::io(&t, cntlid, 8, 0);
    assert!(ok_q.run(rw(io_opcode::READ, 0, 1, 512), &[]).0.status.is_success());
    assert_eq!(t.stats.terminated.load(Ordering::Relaxed), 8);
}

#[test]
fn discovery_log_change_raises_async_event_for_affected_hosts_only() {
    let t = target();
    let mut h = H::new(&t, false, false);
    assert!(h.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 0, 0).status.is_success());
    h.enable();
    let (_, id) = h.run(identify(1, 0), &[]);
    assert_eq!(u32::from_le_bytes(id[92..96].try_into().unwrap()), 1 << 31);
    let mut s = Sqe::new(admin_opcode::SET_FEATURES, 0);
    s.cdw[0] = 0x0B;
    s.cdw[1] = 1 << 31;
    assert!(h.run(s, &[]).0.status.is_success());
    assert!(h.cmd(Sqe::new(admin_opcode::ASYNC_EVENT_REQUEST, 0), &[]).is_empty());
    let aer = h.cid;
    // A subsystem this host may not see: no event.
    let mut spec = SubsystemSpec {
        nqn: "nqn.2024-01.io.example:other-host".into(),
        serial: "S".into(),
        model: "M".into(),
        allow_any_host: false,
        hosts: BTreeSet::from(["nqn.2014-08.org.example:else".to_owned()]),
        host_secrets: Default::default(),
        cntlids: crate::target::ALL_CNTLIDS,
        max_io_queues: crate::target::DEFAULT_IO_QUEUES,
    };
    t.add_subsystem(spec.clone()).unwrap();
    h.conn.tick(h.now);
    assert!(h.pdus().is_empty());
    // One it may see: an event, then none until the log is read.
    spec.nqn = "nqn.2024-01.io.example:visible".into();
    spec.allow_any_host = true;
    t.add_subsystem(spec.clone()).unwrap();
    h.conn.tick(h.now);
    let p = h.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.dw0), (aer, 0x0070_F002));
    assert!(h.cmd(Sqe::new(admin_opcode::ASYNC_EVENT_REQUEST, 0), &[]).is_empty());
    t.remove_subsystem("nqn.2024-01.io.example:visible").unwrap();
    h.conn.tick(h.now);
    assert!(h.pdus().is_empty(), "masked until the log is read");
    let (_, log) = h.run(log_page(0x70, 1024), &[]);
    assert_eq!(u64::from_le_bytes(log[8..16].try_into().unwrap()), 1);
    t.add_subsystem(spec).unwrap();
    h.conn.tick(h.now);
    let p = h.pdus();
    assert!(matches!(p.as_slice(), [Pdu::CapsuleResp(c)] if c.dw0 == 0x0070_F002), "{p:?}");
}

/// NVMe-oF 1.1 §5.3: a Discovery Log Page Change notice says the log changed. A listener's
/// digests are not in the log, and an in-place change of a subsystem's identity or of a
/// host list that still lets the host see it is no change of its log: none is sent, not
/// even once something else moves the generation counter.
#[test]
fn changes_the_log_does_not_show_raise_no_discovery_event() {
    let t = target();
    let mut h = H::new(&t, false, false);
    assert!(h.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 0, 0).status.is_success());
    h.enable();
    let mut s = Sqe::new(admin_opcode::SET_FEATURES, 0);
    s.cdw[0] = 0x0B;
    s.cdw[1] = 1 << 31;
    assert!(h.run(s, &[]).0.status.is_success());
    assert!(h.cmd(Sqe::new(admin_opcode::ASYNC_EVENT_REQUEST, 0), &[]).is_empty());
    let aer = h.cid;
    let genctr = t.discovery_generation();
    t.set_listener_digests(ListenerSpec::loopback_for_tests().port_id, false, false).unwrap();
    t.set_identity(SUB, "SERIAL2".into(), "model 2".into()).unwrap();
    t.set_hosts(SUB, false, BTreeSet::from([HOST.to_owned()])).unwrap();
    assert_eq!(t.discovery_generation(), genctr, "no log changed");
    h.conn.tick(h.now);
    assert!(h.pdus().is_empty());
    // Another host's subsystem moves the counter: this host's log differs in it alone.
    t.set_hosts(
        SUB,
        false,
        BTreeSet::from([HOST.to_owned(), "nqn.2014-08.org.example:else".to_owned()]),
    )
    .unwrap();
    assert_ne!(t.discovery_generation(), genctr);
    h.conn.tick(h.now);
    let p = h.pdus();
    assert!(p.is_empty(), "an event for a log that only differs in GENCTR: {p:?}");
    // A change it sees still raises one.
    t.set_hosts(SUB, true, BTreeSet::new()).unwrap();
    let mut open = t.subsystem(SUB).unwrap();
    open.nqn = "nqn.2024-01.io.example:open".into();
    t.add_subsystem(open).unwrap();
    h.conn.tick(h.now);
    let p = h.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.dw0), (aer, 0x0070_F002));
}

/// A listener on the IPv4 wildcard is nothing a host that discovered over IPv6 can dial:
/// its log leaves it out, and adding it is no change of that log (no notice).
#[test]
fn an_ipv4_wildcard_listener_is_no_entry_for_an_ipv6_host() {
    let t = target();
    let local: std::net::SocketAddr = "[2001:db8::1]:8009".parse().unwrap();
    let cfg = QueueConfig { local_addr: Some(local), ..QueueConfig::default() };
    let mut h = H::with_config(&t, cfg, false, false);
    assert!(h.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 0, 0).status.is_success());
    h.enable();
    let mut s = Sqe::new(admin_opcode::SET_FEATURES, 0);
    s.cdw[0] = 0x0B;
    s.cdw[1] = 1 << 31;
    assert!(h.run(s, &[]).0.status.is_success());
    let records = |log: &[u8]| u64::from_le_bytes(log[8..16].try_into().unwrap());
    let (_, log) = h.run(log_page(0x70, 4096), &[]);
    assert_eq!(records(&log), 1, "the loopback listener's entry");
    assert!(h.cmd(Sqe::new(admin_opcode::ASYNC_EVENT_REQUEST, 0), &[]).is_empty());
    let v4_any = ListenerSpec {
        port_id: 2,
        addr: "0.0.0.0:4421".parse().unwrap(),
        ..ListenerSpec::loopback_for_tests()
    };
    t.add_listener(v4_any).unwrap();
    h.conn.tick(h.now);
    let p = h.pdus();
    assert!(p.is_empty(), "{p:?}");
    let (_, log) = h.run(log_page(0x70, 4096), &[]);
    assert_eq!(records(&log), 1, "not listed");
    let v6_any = ListenerSpec {
        port_id: 3,
        addr: "[::]:4422".parse().unwrap(),
        ..ListenerSpec::loopback_for_tests()
    };
    t.add_listener(v6_any).unwrap();
    h.conn.tick(h.now);
    let p = h.pdus();
    assert!(matches!(p.as_slice(), [Pdu::CapsuleResp(c)] if c.dw0 == 0x0070_F002), "{p:?}");
    let (_, log) = h.run(log_page(0x70, 4096), &[]);
    assert_eq!(records(&log), 2);
    assert_eq!(&log[2048 + 512..2048 + 524], b"2001:db8::1\0", "[::] is the host's address");
}

/// A referral set on the listener a discovery controller connected through is a log
/// change for every host (NVMe-oF 1.1 §5.3); one on another listener is none.
#[test]
fn referral_change_raises_discovery_event_through_its_listener_only() {
    let t = target();
    let through: std::net::SocketAddr = "127.0.0.1:8009".parse().unwrap();
    let cfg = QueueConfig {
        discovery_only: true,
        listener: crate::queue::ListenerLife::bound_to(
            through,
            crate::queue::ListenerRole { discovery_only: true, port_id: None },
        ),
        ..QueueConfig::default()
    };
    let mut h = H::with_config(&t, cfg, false, false);
    assert!(h.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 0, 0).status.is_success());
    h.enable();
    let mut s = Sqe::new(admin_opcode::SET_FEATURES, 0);
    s.cdw[0] = 0x0B;
    s.cdw[1] = 1 << 31;
    assert!(h.run(s, &[]).0.status.is_success());
    let (_, log) = h.run(log_page(0x70, 1024), &[]);
    let records = |log: &[u8]| u64::from_le_bytes(log[8..16].try_into().unwrap());
    let before = records(&log);
    assert!(h.cmd(Sqe::new(admin_opcode::ASYNC_EVENT_REQUEST, 0), &[]).is_empty());
    let aer = h.cid;
    let elsewhere: std::net::SocketAddr = "192.0.2.20:8009".parse().unwrap();
    t.set_referrals("127.0.0.1:4420".parse().unwrap(), &[elsewhere]);
    h.conn.tick(h.now);
    assert!(h.pdus().is_empty(), "another listener's referral");
    t.set_referrals(through, &[elsewhere]);
    h.conn.tick(h.now);
    let p = h.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.dw0), (aer, 0x0070_F002));
    let (_, log) = h.run(log_page(0x70, 4096), &[]);
    assert_eq!(records(&log), before + 1);
    let at = 1024 * (before as usize + 1);
    assert_eq!(log[at + 2], 1, "SUBTYPE: referral");
    assert_eq!(&log[at + 512..at + 523], b"192.0.2.20\0");
}

/// A subsystem `nqn` that `hosts` may see (any host when empty), as `target` builds SUB.
fn subsystem_for(nqn: &str, hosts: &[&str]) -> SubsystemSpec {
    SubsystemSpec {
        nqn: nqn.into(),
        serial: "S".into(),
        model: "M".into(),
        allow_any_host: hosts.is_empty(),
        hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
        host_secrets: Default::default(),
        cntlids: crate::target::ALL_CNTLIDS,
        max_io_queues: crate::target::DEFAULT_IO_QUEUES,
    }
}

/// A discovery controller of HOST, connected and enabled.
fn discovery_host(t: &Arc<Target>, cfg: QueueConfig) -> H {
    let mut h = H::with_config(t, cfg, false, false);
    assert!(h.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 0, 0).status.is_success());
    h.enable();
    h
}

/// Reads `len` bytes of the discovery log at `offset`, with RAE as asked.
fn read_discovery_log(h: &mut H, offset: u32, len: u32, rae: bool) -> Vec<u8> {
    let mut s = log_page(log_id::DISCOVERY, len);
    s.cdw[2] = offset;
    if rae {
        s.cdw[0] |= 1 << 15;
    }
    let (c, data) = h.run(s, &[]);
    assert!(c.status.is_success(), "{c:?}");
    data
}

/// GENCTR and NUMREC of a discovery log header.
fn genctr_numrec(header: &[u8]) -> (u64, u64) {
    let field = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().unwrap());
    (field(0), field(8))
}

/// A discovery log read as libnvme's `nvme_discovery_log` reads it: the 20-byte header
/// (RAE set), the entries from offset 1024 in 4 KiB pieces (RAE set on all but the last),
/// the header again (RAE clear), all tried again while the two GENCTRs differ, 6 tries at
/// most. `between` runs before every read but the first. The tries it took and the
/// entries it read, `None` where libnvme gives up ("discover genctr mismatch", EAGAIN).
fn libnvme_discover(h: &mut H, mut between: impl FnMut()) -> Option<(usize, u64)> {
    let mut first = true;
    let mut read = |h: &mut H, offset, len, rae| {
        if !std::mem::take(&mut first) {
            between();
        }
        read_discovery_log(h, offset, len, rae)
    };
    for tries in 1..=6 {
        let (genctr, numrec) = genctr_numrec(&read(h, 0, 20, true));
        let end = 1024 * (1 + u32::try_from(numrec).unwrap());
        let mut at = 1024;
        while at < end {
            let len = (end - at).min(4096);
            read(h, at, len, at + len < end);
            at += len;
        }
        let (again, numrec_again) = genctr_numrec(&read(h, 0, 20, false));
        if again == genctr {
            assert_eq!(numrec_again, numrec, "the same GENCTR for another log");
            return Some((tries, numrec));
        }
    }
    None
}

/// NVMe-oF 1.1 §5.3: GENCTR is the version of the log the host reads. Another host's
/// subsystem coming between each read of libnvme's piecewise discovery changes nothing
/// this host reads: its first try succeeds (with one counter for the whole target, every
/// try saw the counter move and `nvme connect-all` failed). A change it sees, even one
/// undone before the header is read again, moves its counter, never back.
#[test]
fn the_discovery_genctr_moves_with_the_hosts_own_entries_only() {
    let t = target();
    // Four more subsystems HOST sees: five entries, two pieces of 4 KiB.
    for i in 0..4 {
        t.add_subsystem(subsystem_for(&format!("nqn.2024-01.io.example:mine{i}"), &[HOST]))
            .unwrap();
    }
    let mut h = discovery_host(&t, QueueConfig::default());
    let mut others = 0;
    let mut add_invisible = || {
        others += 1;
        let nqn = format!("nqn.2024-01.io.example:other{others}");
        t.add_subsystem(subsystem_for(&nqn, &["nqn.2014-08.org.example:else"])).unwrap();
    };
    let before = genctr_numrec(&read_discovery_log(&mut h, 0, 20, true)).0;
    assert_eq!(libnvme_discover(&mut h, &mut add_invisible), Some((1, 5)), "first try");
    let after = genctr_numrec(&read_discovery_log(&mut h, 0, 20, true)).0;
    assert_eq!(others, 3, "a change before each read but the first");
    assert_eq!(after, before, "nothing this host reads changed");

    // One it sees, between two reads: the counter moves.
    t.add_subsystem(subsystem_for("nqn.2024-01.io.example:seen", &[HOST])).unwrap();
    let (moved, numrec) = genctr_numrec(&read_discovery_log(&mut h, 0, 20, true));
    assert!(moved > after, "{after} -> {moved}");
    assert_eq!(numrec, 6);
    // One made between the header and the entries: the header read after shows it.
    let mut step = 0;
    let flip = |step: &mut u32| {
        *step += 1;
        let nqn = "nqn.2024-01.io.example:flip";
        match *step {
            1 => t.add_subsystem(subsystem_for(nqn, &[HOST])).unwrap(),
            // After the entries, before the header again: taken back.
            3 => t.remove_subsystem(nqn).unwrap(),
            _ => {}
        }
    };
    assert_eq!(libnvme_discover(&mut h, || flip(&mut step)), Some((2, 6)), "tried again");
    let last = genctr_numrec(&read_discovery_log(&mut h, 0, 20, true)).0;
    assert!(last > moved, "{moved} -> {last}: moved, never back");
}

/// A listener bound anew (unbound, registered at its new address, then its socket
/// recorded there): a discovery connection the move kept may read between any two steps,
/// and every log it reads that differs from the one before carries another GENCTR.
#[test]
fn a_listener_bound_anew_moves_the_genctr_of_the_logs_it_changes() {
    use crate::queue::{ListenerLife, ListenerRole};
    let t = target();
    let old = ListenerSpec::loopback_for_tests();
    let role = ListenerRole { discovery_only: false, port_id: Some(old.port_id) };
    let life = ListenerLife::bound_to(old.addr, role);
    let cfg =
        QueueConfig { listener: life.clone(), port_id: Some(old.port_id), ..Default::default() };
    let mut h = discovery_host(&t, cfg);
    let moved = ListenerSpec { addr: "127.0.0.1:4421".parse().unwrap(), ..old.clone() };
    let mut last = read_discovery_log(&mut h, 0, 4096, false);
    let mut check = |h: &mut H, what: &str| {
        let log = read_discovery_log(h, 0, 4096, false);
        if log[8..] != last[8..] {
            assert_ne!(genctr_numrec(&log).0, genctr_numrec(&last).0, "{what}: changed");
        }
        last = log;
    };
    t.unbind_listener(old.port_id).unwrap();
    check(&mut h, "unbound");
    t.add_listener(moved.clone()).unwrap();
    check(&mut h, "registered at the new address");
    life.bound(moved.addr, role);
    check(&mut h, "its socket bound there");
}

/// NVMe Base 2.0 §5.16: a read with RAE set retains the event. A discovery log read so
/// after a change (which builds the changed log and moves its GENCTR) leaves the change
/// notice due; a read with RAE clear consumes it.
#[test]
fn a_discovery_read_with_rae_set_leaves_the_change_notice_due() {
    let t = target();
    let mut h = discovery_host(&t, QueueConfig::default());
    let mut s = Sqe::new(admin_opcode::SET_FEATURES, 0);
    s.cdw[0] = 0x0B;
    s.cdw[1] = 1 << 31;
    assert!(h.run(s, &[]).0.status.is_success());
    let aer = h.send_aer().0;
    t.add_subsystem(subsystem_for("nqn.2024-01.io.example:seen", &[HOST])).unwrap();
    assert_eq!(genctr_numrec(&read_discovery_log(&mut h, 0, 20, true)).1, 2);
    h.conn.tick(h.now);
    let p = h.pdus();
    assert!(
        matches!(p.as_slice(), [Pdu::CapsuleResp(c)] if (c.cid, c.dw0) == (aer, 0x0070_F002)),
        "{p:?}"
    );
    h.send_aer();
    t.add_subsystem(subsystem_for("nqn.2024-01.io.example:seen2", &[HOST])).unwrap();
    assert_eq!(genctr_numrec(&read_discovery_log(&mut h, 0, 20, false)).1, 3);
    h.conn.tick(h.now);
    assert!(h.pdus().is_empty(), "the read with RAE clear told it");
}

#[test]
fn h2c_data_digest_error_fails_only_the_command() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let p = q.cmd(rw(io_opcode::WRITE, 0, 16, 8192), &[]);
    let [Pdu::R2t(r)] = p.as_slice() else { panic!("{p:?}") };
    let mut b = Vec::new();
    for (i, last) in [(0u32, false), (1, true)] {
        let hdr =
            DataPduHeader { cccid: r.cccid, ttag: r.ttag, datao: i * 4096, last, success: false };
        encode_h2c_data(&hdr, &[0x11; 4096], &q.framing, &mut b).unwrap();
    }
    let n = b.len();
    b[n - 5] ^= 0xFF; // last data byte of the second PDU
    q.conn.receive(&b, q.now);
    let p = q.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.status), (r.cccid, Status::TRANSIENT_TRANSPORT_ERROR));
    let (c, d) = q.run(rw(io_opcode::READ, 0, 16, 8192), &[]);
    assert!(c.status.is_success());
    assert!(d.iter().all(|&x| x == 0), "nothing was written");
    // The queue's counters: Connect, the failed write, the read; nothing left in flight.
    let report = t.subsystem_stats().remove(0);
    let qs = &report.controllers[0].queues[1];
    assert_eq!(qs.info.qid, 1);
    assert!(qs.info.hdgst && qs.info.ddgst);
    assert_eq!((qs.io.commands, qs.io.errors, qs.io.writes, qs.io.reads), (3, 1, 0, 1));
    assert_eq!((qs.io.read_bytes, qs.in_flight), (8192, 0));
}

/// A command capsule whose data digest is wrong, with a CID another command holds (a
/// Write waiting for its R2T data, an outstanding AER), is a Command ID Conflict, as
/// without the digest error: no Transient Transport Error under a CID the host still has
/// outstanding, and not silence; the holder is unaffected.
#[test]
fn a_digest_error_on_a_capsule_with_a_cid_in_use_is_a_conflict() {
    let t = target();
    let conflict = Status::COMMAND_ID_CONFLICT.with_dnr();
    // A capsule with `cid`, 512 bytes of in-capsule data and a corrupted DDGST.
    let corrupted = |h: &H, mut sqe: Sqe, cid: u16| {
        sqe.cid = cid;
        sqe.set_sgl(SglDescriptor::in_capsule(512));
        let mut b = Pdu::CapsuleCmd(CapsuleCmd { sqe, data: vec![0x11; 512].into() })
            .to_vec(&h.framing)
            .unwrap();
        let n = b.len();
        b[n - 1] ^= 0xFF;
        b
    };
    let mut admin = H::new(&t, true, true);
    let c = admin.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
    assert!(c.status.is_success(), "{c:?}");
    admin.enable();
    let mut q = H::io(&t, c.dw0 as u16, 1, 0);
    let p = q.cmd(rw(io_opcode::WRITE, 0, 16, 8192), &[]);
    let [Pdu::R2t(r)] = p.as_slice() else { panic!("{p:?}") };
    let b = corrupted(&q, rw(io_opcode::WRITE, 0, 1, 0), r.cccid);
    q.conn.receive(&b, q.now);
    let p = q.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.status), (r.cccid, conflict));
    // The write still takes its data.
    let hdr = DataPduHeader { cccid: r.cccid, ttag: r.ttag, datao: 0, last: true, success: false };
    let mut b = Vec::new();
    encode_h2c_data(&hdr, &[0x22; 8192], &q.framing, &mut b).unwrap();
    q.conn.receive(&b, q.now);
    let p = q.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.status), (r.cccid, Status::SUCCESS));

    let (aer, answered) = admin.send_aer();
    assert!(answered.is_empty());
    let b = corrupted(&admin, Sqe::new(admin_opcode::SET_FEATURES, 0), aer);
    admin.conn.receive(&b, admin.now);
    let p = admin.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.status), (aer, conflict));
    // The AER is still outstanding: a namespace notice completes it.
    let mut aec = Sqe::new(admin_opcode::SET_FEATURES, 0);
    (aec.cdw[0], aec.cdw[1]) = (0x0B, 1 << 8);
    assert!(admin.run(aec, &[]).0.status.is_success());
    let v = Arc::new(Volume::ram("v2", 512, 1 << 20).unwrap());
    t.add_namespace(SUB, 2, v, [2; 16], [2; 16]).unwrap();
    let p = admin.events();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.status), (aer, Status::SUCCESS));
}

/// A RAM backend with a volatile cache that counts the flushes asked of it, and whose
/// byte `bad` (if any) cannot be read.
#[derive(Debug)]
struct CountingFlushes {
    ram: crate::volume::RamBackend,
    flushes: Arc<std::sync::atomic::AtomicUsize>,
    bad: Option<u64>,
}

/// Adds namespace `nsid` of SUB on a 1 MiB [`CountingFlushes`] volume; returns its count.
fn add_counting_namespace(t: &Target, nsid: u32) -> Arc<std::sync::atomic::AtomicUsize> {
    let flushes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let backend = CountingFlushes {
        ram: crate::volume::RamBackend::new(1 << 20).unwrap(),
        flushes: flushes.clone(),
        bad: None,
    };
    let v = Volume::new("counted", 512, 1 << 20, Box::new(backend)).unwrap();
    t.add_namespace(SUB, nsid, Arc::new(v), [nsid as u8; 16], [2; 16]).unwrap();
    flushes
}

impl crate::volume::BlockBackend for CountingFlushes {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        if self.bad.is_some_and(|bad| (offset..offset + buf.len() as u64).contains(&bad)) {
            return Err(Errno::EIO.into());
        }
        self.ram.read_at(buf, offset)
    }
    fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        self.ram.write_at(data, offset)
    }
    fn flush(&self) -> io::Result<()> {
        self.flushes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
    fn write_zeroes(&self, offset: u64, len: u64) -> io::Result<()> {
        self.ram.write_zeroes(offset, len)
    }
    fn deallocate(&self, offset: u64, len: u64) -> io::Result<()> {
        self.ram.deallocate(offset, len)
    }
    fn volatile_cache(&self) -> bool {
        true
    }
}

/// Makes the error a [`FailingWrites`] backend fails with.
type MakeError = fn() -> io::Error;

/// A RAM backend with a volatile cache whose reads, writes, write zeroes and flushes fail
/// with the error `failing` makes, as a sparse file's on a file system that filled up
/// (ENOSPC); and whose next flush fails with EIO once `lost` is set, and succeeds after, as
/// a file whose writeback failed, which Linux reports to one fdatasync (errseq) and forgets.
#[derive(Debug)]
struct FailingWrites {
    ram: crate::volume::RamBackend,
    failing: Arc<Mutex<Option<MakeError>>>,
    lost: Arc<std::sync::atomic::AtomicBool>,
}

impl FailingWrites {
    fn check(&self) -> io::Result<()> {
        match *self.failing.lock().unwrap() {
            Some(error) => Err(error()),
            None => Ok(()),
        }
    }
}

impl crate::volume::BlockBackend for FailingWrites {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.check()?;
        self.ram.read_at(buf, offset)
    }
    fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        self.check()?;
        self.ram.write_at(data, offset)
    }
    fn flush(&self) -> io::Result<()> {
        self.check()?;
        if self.lost.swap(false, Ordering::Relaxed) {
            return Err(nix::errno::Errno::EIO.into());
        }
        Ok(())
    }
    fn write_zeroes(&self, offset: u64, len: u64) -> io::Result<()> {
        self.check()?;
        self.ram.write_zeroes(offset, len)
    }
    fn deallocate(&self, offset: u64, len: u64) -> io::Result<()> {
        self.ram.deallocate(offset, len)
    }
    fn volatile_cache(&self) -> bool {
        true
    }
}

/// What fails on a [`FailingWrites`] volume: the error its writes (and the rest) fail
/// with, and whether its next flush finds its writeback lost.
type FailingSwitches = (Arc<Mutex<Option<MakeError>>>, Arc<std::sync::atomic::AtomicBool>);

/// Adds namespace `nsid` of SUB on a 1 MiB [`FailingWrites`] volume that fails nothing
/// until told; returns its switches.
fn add_failing_namespace(t: &Target, nsid: u32) -> FailingSwitches {
    let switches: FailingSwitches = Default::default();
    let backend = FailingWrites {
        ram: crate::volume::RamBackend::new(1 << 20).unwrap(),
        failing: switches.0.clone(),
        lost: switches.1.clone(),
    };
    let v = Volume::new("failing", 512, 1 << 20, Box::new(backend)).unwrap();
    let ids = ([0xF0 | nsid as u8; 16], [0xE0 | nsid as u8; 16]);
    t.add_namespace(SUB, nsid, Arc::new(v), ids.0, ids.1).unwrap();
    switches
}

/// A volume whose backing file system is full (ENOSPC) or over quota (EDQUOT) fails
/// Write, Write Zeroes and Flush with Capacity Exceeded and Do Not Retry, which a Linux
/// host turns into ENOSPC as from Linux's nvmet; the medium's failure (EIO) is a media
/// error (Do Not Retry too); once there is room again, writes succeed.
#[test]
fn a_full_backing_file_system_is_capacity_exceeded_not_a_media_error() {
    let t = target();
    let (failing, _) = add_failing_namespace(&t, 2);
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let on_ns2 = |mut s: Sqe| {
        s.nsid = 2;
        s
    };
    let write = |q: &mut H| {
        let mut s = on_ns2(rw(io_opcode::WRITE, 8, 1, 512));
        s.set_sgl(SglDescriptor::in_capsule(512));
        q.run(s, &[7; 512]).0.status
    };
    let full = Status::CAPACITY_EXCEEDED.with_dnr();
    let no_room: [MakeError; 2] = [|| Errno::ENOSPC.into(), || Errno::EDQUOT.into()];
    for error in no_room {
        *failing.lock().unwrap() = Some(error);
        let kind = error().kind();
        assert_eq!(write(&mut q), full, "{kind:?}");
        let zeroes = on_ns2(rw(io_opcode::WRITE_ZEROES, 8, 1, 0));
        assert_eq!(q.run(zeroes, &[]).0.status, full, "{kind:?}");
        assert_eq!(q.run(on_ns2(Sqe::new(io_opcode::FLUSH, 0)), &[]).0.status, full, "{kind:?}");
    }
    *failing.lock().unwrap() = Some(|| Errno::EIO.into());
    assert_eq!(write(&mut q), Status::WRITE_FAULT.with_dnr(), "a media error");
    *failing.lock().unwrap() = None;
    assert!(write(&mut q).is_success(), "room again");
    assert_eq!(t.namespace(SUB, 2).unwrap().stats.snapshot().errors, 7);
}

/// A volume operation's failure answers by its class (`volume_error_status`), every one
/// with Do Not Retry: the medium's own (EIO; ENODATA, the block layer's medium error) the
/// command's media error, Write Fault or Unrecovered Read Error; no room (ENOSPC, EDQUOT)
/// Capacity Exceeded, as Linux's nvmet; anything else Internal Error, as nvmet answers
/// all it does not know: a file cut short under the volume or a device that shrank (a read
/// past its end, UnexpectedEof), a device gone (ENXIO, ENODEV), a read-only file system
/// (EROFS), a pool thread that panicked or a transfer the ring could not go on with (no
/// errno); a read that returned the wrong length too (the small reads test).
#[test]
fn a_volume_failure_answers_by_its_class() {
    let t = target();
    let (failing, _) = add_failing_namespace(&t, 2);
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let mut write = rw(io_opcode::WRITE, 8, 1, 512);
    write.set_sgl(SglDescriptor::in_capsule(512));
    let mut read = rw(io_opcode::READ, 8, 1, 512);
    (write.nsid, read.nsid) = (2, 2);
    let (fault, unread) = (Status::WRITE_FAULT, Status::UNRECOVERED_READ_ERROR);
    let (full, internal) = (Status::CAPACITY_EXCEEDED, Status::INTERNAL_ERROR);
    let classes: [(MakeError, Status, Status); 10] = [
        (|| Errno::EIO.into(), fault, unread),
        (|| Errno::ENODATA.into(), fault, unread),
        (|| Errno::ENOSPC.into(), full, full),
        (|| Errno::EDQUOT.into(), full, full),
        (|| io::ErrorKind::UnexpectedEof.into(), internal, internal),
        (|| Errno::ENXIO.into(), internal, internal),
        (|| Errno::ENODEV.into(), internal, internal),
        (|| Errno::EROFS.into(), internal, internal),
        (|| io::Error::other("task 7 panicked with message \"oops\""), internal, internal),
        (|| io::Error::other("cannot continue a short transfer"), internal, internal),
    ];
    for (error, on_write, on_read) in classes {
        *failing.lock().unwrap() = Some(error);
        let e = error();
        assert_eq!(q.run(write, &[7; 512]).0.status, on_write.with_dnr(), "write: {e}");
        assert_eq!(q.run(read, &[]).0.status, on_read.with_dnr(), "read: {e}");
    }
    *failing.lock().unwrap() = None;
    assert!(q.run(write, &[7; 512]).0.status.is_success());
}

/// A flush that failed (Flush, a FUA write or Write Zeroes, a write with the write cache
/// off) completes with Do Not Retry: the host's retry would succeed although the data is
/// lost, as the second Flush here does.
#[test]
fn a_failed_flush_is_not_retried_into_a_success() {
    let t = target();
    let (_, lost) = add_failing_namespace(&t, 2);
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let on_ns2 = |mut s: Sqe| {
        s.nsid = 2;
        s
    };
    let write = |fua: bool| {
        let mut s = on_ns2(rw(io_opcode::WRITE, 8, 1, 512));
        s.set_sgl(SglDescriptor::in_capsule(512));
        s.cdw[2] |= u32::from(fua) << 30;
        s
    };
    let mut zeroes = on_ns2(rw(io_opcode::WRITE_ZEROES, 8, 1, 0));
    zeroes.cdw[2] |= 1 << 30;
    let flush = on_ns2(Sqe::new(io_opcode::FLUSH, 0));
    let fault = Status::WRITE_FAULT.with_dnr();
    lost.store(true, Ordering::Relaxed);
    assert_eq!(q.run(flush, &[]).0.status, fault, "Flush");
    assert!(q.run(flush, &[]).0.status.is_success(), "what a retry would get");
    lost.store(true, Ordering::Relaxed);
    assert_eq!(q.run(write(true), &[7; 512]).0.status, fault, "FUA write");
    lost.store(true, Ordering::Relaxed);
    assert_eq!(q.run(zeroes, &[]).0.status, fault, "FUA Write Zeroes");
    // The write cache off (Set Features 06h = 0): a plain write flushes.
    let mut wce_off = Sqe::new(admin_opcode::SET_FEATURES, 0);
    wce_off.cdw[0] = 0x06;
    assert!(admin.run(wce_off, &[]).0.status.is_success());
    lost.store(true, Ordering::Relaxed);
    assert_eq!(q.run(write(false), &[8; 512]).0.status, fault, "write, cache off");
    assert!(q.run(write(false), &[9; 512]).0.status.is_success());
}

/// Write Zeroes with DEAC (CDW12 bit 25), as a Linux host sends it unless told NOUNMAP,
/// deallocates a sparse file volume's range (a hole, as Deallocate makes) instead of
/// allocating it, and the range reads as zero (DLFEAT 001b); without DEAC it is zeroed.
#[test]
fn write_zeroes_with_deac_deallocates_a_sparse_file() {
    use std::os::unix::fs::MetadataExt;
    let t = target();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse.img");
    let v = Volume::file("sparse", &path, 4096, 16 << 20).unwrap();
    t.add_namespace(SUB, 2, Arc::new(v), [1; 16], [2; 16]).unwrap();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let on_ns2 = |mut s: Sqe| {
        s.nsid = 2;
        s
    };
    let allocated = || std::fs::metadata(&path).unwrap().blocks() * 512;
    let mut write = on_ns2(rw(io_opcode::WRITE, 256, 2, 8192));
    write.set_sgl(SglDescriptor::in_capsule(8192));
    assert!(q.run(write, &[0x5A; 8192]).0.status.is_success());
    let reads_zero = |q: &mut H, slba| {
        let (c, d) = q.run(on_ns2(rw(io_opcode::READ, slba, 2, 8192)), &[]);
        c.status.is_success() && d.iter().all(|&b| b == 0)
    };
    // 8 MiB from block 0, the written blocks among them.
    let before = allocated();
    let mut deac = on_ns2(rw(io_opcode::WRITE_ZEROES, 0, 2048, 0));
    deac.cdw[2] |= 1 << 25;
    assert!(q.run(deac, &[]).0.status.is_success());
    let after = allocated();
    assert!(
        after + 8192 <= before,
        "allocated {before} -> {after} bytes: the written go, none added"
    );
    assert!(reads_zero(&mut q, 256));
    // Without DEAC: zeroed all the same.
    let mut write = on_ns2(rw(io_opcode::WRITE, 3000, 2, 8192));
    write.set_sgl(SglDescriptor::in_capsule(8192));
    assert!(q.run(write, &[0x5A; 8192]).0.status.is_success());
    assert!(q.run(on_ns2(rw(io_opcode::WRITE_ZEROES, 2999, 3, 0)), &[]).0.status.is_success());
    assert!(reads_zero(&mut q, 3000));
}

#[test]
fn writes_are_durable_before_completing_unless_the_write_cache_is_on() {
    let t = target();
    let flushes = add_counting_namespace(&t, 2);
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let count = || flushes.load(Ordering::Relaxed);
    let write = |fua: bool| {
        let mut s = rw(io_opcode::WRITE, 0, 1, 512);
        s.nsid = 2;
        s.set_sgl(SglDescriptor::in_capsule(512));
        if fua {
            s.cdw[2] |= 1 << 30;
        }
        s
    };
    let mut flush = Sqe::new(io_opcode::FLUSH, 0);
    flush.nsid = 2;
    let feature = |set: bool, value: u32| {
        let op = if set { admin_opcode::SET_FEATURES } else { admin_opcode::GET_FEATURES };
        let mut s = Sqe::new(op, 0);
        s.cdw[0] = 0x06;
        s.cdw[1] = value;
        s
    };
    // Identify: a volatile write cache is present; it starts enabled.
    let (_, id) = admin.run(identify(1, 0), &[]);
    assert_eq!(id[525] & 1, 1, "VWC present");
    assert_eq!(admin.run(feature(false, 0), &[]).0.dw0, 1);
    // Enabled: a plain write stays in the cache, FUA and Flush reach the medium.
    assert!(q.run(write(false), &[1; 512]).0.status.is_success());
    assert_eq!(count(), 0);
    assert!(q.run(write(true), &[2; 512]).0.status.is_success());
    assert_eq!(count(), 1, "FUA");
    assert!(q.run(flush, &[]).0.status.is_success());
    assert_eq!(count(), 2, "Flush");
    // Disabled (Set Features 06h = 0): every write is durable before it completes.
    assert!(admin.run(feature(true, 0), &[]).0.status.is_success());
    assert_eq!(admin.run(feature(false, 0), &[]).0.dw0, 0);
    assert!(q.run(write(false), &[3; 512]).0.status.is_success());
    assert_eq!(count(), 3, "write with the cache off");
    let mut wz = rw(io_opcode::WRITE_ZEROES, 1, 1, 0);
    wz.nsid = 2;
    wz.set_sgl(SglDescriptor::transport(0));
    assert!(q.run(wz, &[]).0.status.is_success());
    assert_eq!(count(), 4, "Write Zeroes with the cache off");
    // Enabled again: plain writes are cached again.
    assert!(admin.run(feature(true, 1), &[]).0.status.is_success());
    assert!(q.run(write(false), &[4; 512]).0.status.is_success());
    assert_eq!(count(), 4);
    let (c, d) = q.run(
        {
            let mut r = rw(io_opcode::READ, 0, 1, 512);
            r.nsid = 2;
            r
        },
        &[],
    );
    assert!(c.status.is_success() && d == [4; 512]);
}

/// Verify and Compare with FUA read what is on non-volatile media (NVM Command Set 1.0
/// §3.2.7, §3.2.1: CDW12 bit 30), so a volume with a volatile cache is flushed first;
/// without FUA, and for a Read (FUA ignored, as nvmet does), nothing is flushed, whether or
/// not the write cache is enabled.
#[test]
fn verify_and_compare_with_fua_read_from_the_medium() {
    let t = target();
    let flushes = add_counting_namespace(&t, 2);
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let count = || flushes.load(Ordering::Relaxed);
    let fua = |mut s: Sqe, on: bool| {
        s.nsid = 2;
        if on {
            s.cdw[2] |= 1 << 30;
        }
        s
    };
    let compare = |on: bool| {
        let mut s = fua(rw(io_opcode::COMPARE, 0, 1, 512), on);
        s.set_sgl(SglDescriptor::in_capsule(512));
        s
    };
    let mut w = fua(rw(io_opcode::WRITE, 0, 1, 512), false);
    w.set_sgl(SglDescriptor::in_capsule(512));
    assert!(q.run(w, &[5; 512]).0.status.is_success());
    assert_eq!(count(), 0);
    for cache in [true, false] {
        let mut set = Sqe::new(admin_opcode::SET_FEATURES, 0);
        (set.cdw[0], set.cdw[1]) = (0x06, u32::from(cache));
        assert!(admin.run(set, &[]).0.status.is_success());
        let before = count();
        assert!(q.run(fua(verify(2, 0, 8), false), &[]).0.status.is_success());
        assert!(q.run(compare(false), &[5; 512]).0.status.is_success());
        let (c, d) = q.run(fua(rw(io_opcode::READ, 0, 1, 512), true), &[]);
        assert!(c.status.is_success() && d == [5; 512]);
        assert_eq!(count(), before, "no FUA, or a Read's (write cache {cache})");
        assert!(q.run(fua(verify(2, 0, 8), true), &[]).0.status.is_success());
        assert_eq!(count(), before + 1, "Verify with FUA (write cache {cache})");
        assert!(q.run(compare(true), &[5; 512]).0.status.is_success());
        assert_eq!(count(), before + 2, "Compare with FUA (write cache {cache})");
        let (c, _) = q.run(compare(true), &[6; 512]);
        assert_eq!(c.status, Status::COMPARE_FAILURE.with_dnr());
        assert_eq!(count(), before + 3, "a failing Compare with FUA");
    }
    // On a RAM volume, with no cache to flush, Verify and Compare with FUA run as without.
    let mut s = verify(1, 0, 8);
    s.cdw[2] |= 1 << 30;
    assert!(q.run(s, &[]).0.status.is_success());
    let mut s = rw(io_opcode::COMPARE, 0, 1, 512);
    s.cdw[2] |= 1 << 30;
    s.set_sgl(SglDescriptor::in_capsule(512));
    assert!(q.run(s, &[0; 512]).0.status.is_success());
}

#[test]
fn changed_namespace_list_holds_1024_changes_and_overflows_past_them() {
    let t = target();
    let (mut h, cntlid) = H::admin(&t, 0);
    let v = Arc::new(Volume::ram("v", 512, 1 << 20).unwrap());
    // 1,024 namespaces changed: 1 removed, 2..=1024 added.
    t.remove_namespace(SUB, 1).unwrap();
    for nsid in 2..=crate::target::MAX_NSID {
        t.add_namespace(SUB, nsid, v.clone(), [0; 16], [0; 16]).unwrap();
    }
    let (c, log) = h.run(log_page(4, 4096), &[]);
    assert!(c.status.is_success());
    let entry = |i: usize| u32::from_le_bytes(log[i * 4..i * 4 + 4].try_into().unwrap());
    assert!((0..1024).all(|i| entry(i) == i as u32 + 1), "every NSID listed, no overflow");
    // Read, so cleared. More than 1,024 changes (beyond what MAX_NSID lets the registry
    // make, so set on the controller directly): FFFFFFFFh first, the rest zero.
    let (_, again) = h.run(log_page(4, 4096), &[]);
    assert!(again.iter().all(|&b| b == 0), "cleared by the read");
    let ctrl = t.find_controller(SUB, cntlid, HOST, &HOSTID).unwrap();
    ctrl.state().changed_ns = (1..=1025).collect();
    let (_, log) = h.run(log_page(4, 4096), &[]);
    assert_eq!(&log[..4], &[0xFF; 4]);
    assert!(log[4..].iter().all(|&b| b == 0));
}

/// A controller (admin queue and I/O queue 1) connected through listener `port_id`, with
/// ANA change notices (AEC bit 11) enabled and one Asynchronous Event Request waiting.
fn ana_host(t: &Arc<Target>, port_id: u16) -> (H, H, u16) {
    let cfg = || QueueConfig { port_id: Some(port_id), ..QueueConfig::default() };
    let mut admin = H::with_config(t, cfg(), false, false);
    let c = admin.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
    assert!(c.status.is_success(), "{c:?}");
    admin.enable();
    let mut io = H::with_config(t, cfg(), false, false);
    assert!(io.connect(SUB, 1, c.dw0 as u16, 0, 0).status.is_success());
    let mut aec = Sqe::new(admin_opcode::SET_FEATURES, 0);
    aec.cdw[0] = 0x0B;
    aec.cdw[1] = 1 << 11;
    assert!(admin.run(aec, &[]).0.status.is_success());
    let (aer, answered) = admin.send_aer();
    assert!(answered.is_empty(), "the request waits for an event");
    (admin, io, aer)
}

impl H {
    /// Sends an Asynchronous Event Request; returns its CID and what the connection
    /// answered at once (nothing unless an event was pending).
    fn send_aer(&mut self) -> (u16, Vec<Pdu>) {
        self.cid += 1;
        let mut aer = Sqe::new(admin_opcode::ASYNC_EVENT_REQUEST, 0);
        aer.cid = self.cid;
        self.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: aer, data: vec![].into() }));
        (self.cid, self.pdus())
    }

    /// Runs a Set Features that must succeed; returns what went out after its answer:
    /// the notices it let out, which go at once.
    fn set_then_events(&mut self, sqe: Sqe) -> Vec<Pdu> {
        let mut pdus = self.cmd(sqe, &[]);
        let cid = self.cid;
        let at = pdus
            .iter()
            .position(|p| matches!(p, Pdu::CapsuleResp(c) if c.cid == cid && c.status.is_success()))
            .unwrap_or_else(|| panic!("Set Features failed: {pdus:?}"));
        pdus.split_off(at + 1)
    }

    /// The events the connection sends on its next tick.
    fn events(&mut self) -> Vec<Pdu> {
        self.conn.tick(self.now);
        self.pdus()
    }

    /// The ANA log page (`groups_only`: LSP bit 0, RGO); reading it re-arms the notice.
    fn ana_log(&mut self, groups_only: bool) -> Vec<u8> {
        let mut sqe = log_page(0x0C, 4096);
        sqe.cdw[0] |= u32::from(groups_only) << 8;
        let (c, data) = self.run(sqe, &[]);
        assert!(c.status.is_success(), "{c:?}");
        data
    }
}

/// The groups of an ANA log page: (ANAGRPID, state, NSIDs), after checking the header's
/// group count and Change Count against each descriptor's.
fn ana_groups(log: &[u8]) -> Vec<(u32, u8, Vec<u32>)> {
    let u32_at = |at: usize| u32::from_le_bytes(log[at..at + 4].try_into().unwrap());
    let chgcnt = &log[0..8];
    let count = u16::from_le_bytes([log[8], log[9]]);
    let mut at = 16;
    let mut groups = Vec::new();
    for _ in 0..count {
        let (id, n) = (u32_at(at), u32_at(at + 4) as usize);
        assert_eq!(&log[at + 8..at + 16], chgcnt, "the group's change count");
        let nsids = (0..n).map(|i| u32_at(at + 32 + 4 * i)).collect();
        groups.push((id, log[at + 16], nsids));
        at += 32 + 4 * n;
    }
    assert!(log[at..].iter().all(|&b| b == 0), "nothing past the last group");
    groups
}

/// The test target with a second listener, port ID 2 on 127.0.0.1:4421: a second path.
fn target_with_second_listener() -> Arc<Target> {
    let t = target();
    let second = ListenerSpec {
        port_id: 2,
        addr: "127.0.0.1:4421".parse().unwrap(),
        ..ListenerSpec::loopback_for_tests()
    };
    t.add_listener(second).unwrap();
    t
}

/// Asymmetric Namespace Access (NVMe Base 2.0 §8.1.3, §5.16.1.12): Identify reports it,
/// each listener shows its own states, a change is announced (AEN 0Ch) to the controllers
/// of that listener only, I/O through an inaccessible path fails with a path status a
/// host retries elsewhere (no DNR), and a namespace can move between groups.
#[test]
fn ana_states_follow_the_listener_and_are_announced() {
    let t = target_with_second_listener();
    let (mut a, mut a_io, a_aer) = ana_host(&t, 1);
    let (mut b, mut b_io, b_aer) = ana_host(&t, 2);
    let read = |h: &mut H| h.run(rw(io_opcode::READ, 0, 1, 512), &[]).0.status;

    let (_, ctrl) = a.run(identify(1, 0), &[]);
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    assert_eq!(ctrl[76], 0b1011, "CMIC: several ports and controllers, ANA reporting");
    assert_ne!(u32_at(&ctrl, 92) & (1 << 11), 0, "OAES: ANA change notices");
    assert_eq!((ctrl[342], ctrl[343]), (identify::ANATT, 0x1F), "ANATT, ANACAP");
    assert_eq!((u32_at(&ctrl, 344), u32_at(&ctrl, 348)), (128, 128), "ANAGRPMAX, NANAGRPID");
    assert_eq!(u32_at(&ctrl, 540), crate::target::MAX_NSID, "MNAN");
    assert_eq!(u32_at(&a.run(identify(0, 1), &[]).1, 92), 1, "ANAGRPID");
    let first = a.ana_log(false);
    assert_eq!(ana_groups(&first), [(1, 1, vec![1])]);

    // Listener 2 turns group 1 inaccessible: its controller alone is told.
    t.set_ana_states(2, &BTreeMap::from([(1, AnaState::Inaccessible)]), Instant::now()).unwrap();
    assert!(a.events().is_empty(), "listener 1 did not change");
    let p = b.events();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.dw0), (b_aer, 0x000C_0302), "Notice, ANA change, log page 0Ch");
    let log = b.ana_log(false);
    assert_eq!(log[0], first[0] + 1, "the change count moved");
    assert_eq!(ana_groups(&log), [(1, 3, vec![1])]);
    assert_eq!(ana_groups(&b.ana_log(true)), [(1, 3, vec![])], "RGO: groups only");
    assert_eq!(ana_groups(&a.ana_log(false)), [(1, 1, vec![1])]);
    assert_eq!(read(&mut b_io), Status::ANA_INACCESSIBLE, "a path error, no DNR");
    assert!(read(&mut a_io).is_success());
    for (state, status) in [
        (AnaState::PersistentLoss, Status::ANA_PERSISTENT_LOSS),
        (AnaState::Change, Status::ANA_TRANSITION),
    ] {
        t.set_ana_states(2, &BTreeMap::from([(1, state)]), Instant::now()).unwrap();
        assert_eq!(read(&mut b_io), status, "{state:?}");
    }
    t.set_ana_states(2, &BTreeMap::from([(1, AnaState::NonOptimized)]), Instant::now()).unwrap();
    assert!(read(&mut b_io).is_success(), "non-optimized serves");
    // The log was read after the first notice, so the next request takes the changes
    // since; then the notice is masked until the log is read again (RAE clear).
    let (aer, p) = b.send_aer();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("the changes since: {p:?}") };
    assert_eq!((c.cid, c.dw0), (aer, 0x000C_0302));
    let (aer, p) = b.send_aer();
    assert!(p.is_empty(), "{p:?}");
    t.set_ana_states(2, &BTreeMap::from([(1, AnaState::Change)]), Instant::now()).unwrap();
    assert!(b.events().is_empty(), "masked until the log is read");
    let mut rae = log_page(0x0C, 4096);
    rae.cdw[0] |= 1 << 15;
    assert!(b.run(rae, &[]).0.status.is_success());
    assert!(b.events().is_empty(), "a read with RAE set leaves it masked");
    t.set_ana_states(2, &BTreeMap::from([(1, AnaState::NonOptimized)]), Instant::now()).unwrap();
    assert_eq!(ana_groups(&b.ana_log(false)), [(1, 2, vec![1])]);
    assert!(b.events().is_empty(), "the read showed the changes made while masked");
    t.set_ana_states(2, &BTreeMap::from([(1, AnaState::Optimized)]), Instant::now()).unwrap();
    let p = b.events();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("re-armed by the read: {p:?}") };
    assert_eq!((c.cid, c.dw0), (aer, 0x000C_0302), "a change after the read is told");
    assert_eq!(ana_groups(&b.ana_log(false)), [(1, 1, vec![1])]);

    // A namespace added or removed changes the NSID lists, and so the change count.
    let before = a.ana_log(false)[0];
    t.add_namespace(SUB, 9, t.namespace(SUB, 1).unwrap().volume.clone(), [9; 16], [9; 16]).unwrap();
    assert_eq!(ana_groups(&a.ana_log(false)), [(1, 1, vec![1, 9])]);
    t.remove_namespace(SUB, 9).unwrap();
    assert_eq!(a.ana_log(false)[0], before + 2);

    // Namespace 1 moves to group 5, optimized through both listeners: both are told.
    t.set_ana_group(SUB, 1, 5).unwrap();
    let p = a.events();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.dw0), (a_aer, 0x000C_0302));
    assert_eq!(ana_groups(&b.ana_log(false)), [(1, 1, vec![]), (5, 1, vec![1])]);
    assert_eq!(u32_at(&b.run(identify(0, 1), &[]).1, 92), 5, "ANAGRPID");
    assert!(read(&mut b_io).is_success());

    // Bad input changes nothing.
    let bad = BTreeMap::from([(0, AnaState::Inaccessible)]);
    assert_eq!(t.set_ana_states(1, &bad, Instant::now()), Err(RegistryError::BadAnaGroup(0)));
    let unknown = BTreeMap::from([(5, AnaState::Inaccessible)]);
    assert_eq!(
        t.set_ana_states(9, &unknown, Instant::now()),
        Err(RegistryError::NoListener("9".into()))
    );
    assert_eq!(t.set_ana_group(SUB, 1, 129), Err(RegistryError::BadAnaGroup(129)));
    assert!(read(&mut a_io).is_success() && read(&mut b_io).is_success());
    // A removed listener forgets its states.
    t.set_ana_states(2, &unknown, Instant::now()).unwrap();
    t.remove_listener(2).unwrap();
    assert_eq!(t.ana_state(Some(2), 5), AnaState::Optimized);
}

/// A group the operator sets to Change is reported so for ANATT at most (NVMe Base 2.0
/// §8.1.3.5, Identify Controller ANATT: the longest a transition takes), then as
/// Inaccessible, with the change count moved and an ANA change notice to the controllers
/// of that listener, until the operator sets another state: a Linux host resets its
/// controller each time a group stays in Change past its ANATT timer. The same states
/// again (the agent's next Sync) keep it so; Change written anew starts a new ANATT.
#[test]
fn an_ana_change_left_past_anatt_is_reported_inaccessible() {
    use crate::target::ANA_TRANSITION_TIME as ANATT;
    let t = target_with_second_listener();
    let (mut a, mut a_io, a_aer) = ana_host(&t, 1);
    let (mut b, _b_io, _b_aer) = ana_host(&t, 2);
    let read = |h: &mut H| h.run(rw(io_opcode::READ, 0, 1, 512), &[]).0.status;
    let notice = |h: &mut H, aer: u16| {
        let p = h.events();
        let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("one notice: {p:?}") };
        assert_eq!((c.cid, c.dw0), (aer, 0x000C_0302), "Notice, ANA change, log page 0Ch");
    };
    let change = BTreeMap::from([(1, AnaState::Change)]);
    let t0 = Instant::now();
    t.set_ana_states(1, &change, t0).unwrap();
    notice(&mut a, a_aer);
    let log = a.ana_log(false);
    assert_eq!(ana_groups(&log), [(1, 0x0F, vec![1])]);
    assert_eq!(read(&mut a_io), Status::ANA_TRANSITION);
    let (aer, p) = a.send_aer();
    assert!(p.is_empty(), "{p:?}");

    assert!(t.end_ana_changes(t0 + ANATT - Duration::from_millis(1)).is_empty(), "not yet");
    assert!(a.events().is_empty());
    assert_eq!(ana_groups(&a.ana_log(false)), [(1, 0x0F, vec![1])]);
    assert_eq!(t.end_ana_changes(t0 + ANATT), [(1, 1)]);
    notice(&mut a, aer);
    assert!(b.events().is_empty(), "listener 2 shows no Change");
    let ended = a.ana_log(false);
    assert_eq!(ended[0], log[0] + 1, "the change count moved");
    assert_eq!(ana_groups(&ended), [(1, 0x03, vec![1])]);
    assert_eq!(read(&mut a_io), Status::ANA_INACCESSIBLE, "a path error: the host goes elsewhere");
    assert_eq!(t.ana_state(Some(1), 1), AnaState::Inaccessible);
    assert!(t.end_ana_changes(t0 + ANATT * 3).is_empty(), "ended once");

    // The same states again (a Sync of the agent, which keeps Change) keep it ended.
    t.set_ana_states(1, &change, t0 + ANATT * 2).unwrap();
    assert!(t.end_ana_changes(t0 + ANATT * 4).is_empty());
    assert_eq!(a.ana_log(false), ended, "nothing changed");
    // Another state ends it; Change again is a new transition, with its own ANATT.
    t.set_ana_states(1, &BTreeMap::new(), t0 + ANATT * 4).unwrap();
    assert_eq!(ana_groups(&a.ana_log(false)), [(1, 0x01, vec![1])]);
    let t1 = t0 + ANATT * 5;
    t.set_ana_states(1, &change, t1).unwrap();
    assert!(t.end_ana_changes(t1 + ANATT / 2).is_empty());
    assert_eq!(ana_groups(&a.ana_log(false)), [(1, 0x0F, vec![1])]);
    assert_eq!(t.end_ana_changes(t1 + ANATT), [(1, 1)]);
    // A listener removed forgets its transitions.
    t.set_ana_states(2, &change, t1).unwrap();
    t.remove_listener(2).unwrap();
    assert!(t.end_ana_changes(t1 + ANATT * 2).is_empty());
}

/// Change set anew while the states stay (the agent coalesced writes into one Sync) starts
/// the transition again: an ended one is shown Change again, with the change count moved
/// and a notice to the controllers of that listener; one under way counts from then; a
/// group not in Change is left as it is.
#[test]
fn an_ana_change_restarted_is_shown_again_for_anatt() {
    use crate::target::ANA_TRANSITION_TIME as ANATT;
    let t = target_with_second_listener();
    let (mut a, _a_io, aer) = ana_host(&t, 1);
    let (mut b, _b_io, _b_aer) = ana_host(&t, 2);
    let notice = |h: &mut H, aer: u16| {
        let p = h.events();
        let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("one notice: {p:?}") };
        assert_eq!((c.cid, c.dw0), (aer, 0x000C_0302), "Notice, ANA change, log page 0Ch");
    };
    let t0 = Instant::now();
    t.set_ana_states(1, &BTreeMap::from([(1, AnaState::Change)]), t0).unwrap();
    notice(&mut a, aer);
    a.ana_log(false);
    let (aer, _) = a.send_aer();
    assert_eq!(t.end_ana_changes(t0 + ANATT), [(1, 1)]);
    notice(&mut a, aer);
    let ended = a.ana_log(false);
    assert_eq!(ana_groups(&ended), [(1, 0x03, vec![1])]);
    let (aer, _) = a.send_aer();

    let t1 = t0 + ANATT * 2;
    t.restart_ana_changes(1, &[1, 2], t1);
    notice(&mut a, aer);
    assert!(b.events().is_empty(), "listener 2 is not concerned");
    let again = a.ana_log(false);
    assert_eq!(again[0], ended[0] + 1, "the change count moved");
    assert_eq!(ana_groups(&again), [(1, 0x0F, vec![1])]);
    assert_eq!(t.next_ana_change_end(), Some(t1 + ANATT));

    // Under way: a new start, no notice (hosts see Change either way).
    let t2 = t1 + ANATT / 2;
    t.restart_ana_changes(1, &[1], t2);
    assert!(a.events().is_empty());
    assert_eq!(a.ana_log(false), again);
    assert!(t.end_ana_changes(t1 + ANATT).is_empty(), "counted from the later start");
    assert_eq!(t.end_ana_changes(t2 + ANATT), [(1, 1)]);
    // Not in Change: nothing starts.
    t.restart_ana_changes(2, &[1], t2);
    assert_eq!(t.ana_state(Some(2), 1), AnaState::Optimized);
    assert_eq!(t.next_ana_change_end(), None);
}

/// Identify Namespace through a path where the namespace's ANA group is Inaccessible or
/// Persistent Loss reports no NUSE (NVMe Base 2.0 §8.1.3.3-4; nvmet's
/// `nvmet_execute_identify_ns` too); its size and capacity stay, as does NUSE in the
/// other states.
#[test]
fn identify_namespace_reports_no_nuse_where_its_group_is_inaccessible() {
    let t = target();
    let (mut h, _io, _aer) = ana_host(&t, 1);
    let blocks = t.namespace(SUB, 1).unwrap().volume.blocks();
    for (state, nuse) in [
        (AnaState::Optimized, blocks),
        (AnaState::NonOptimized, blocks),
        (AnaState::Inaccessible, 0),
        (AnaState::PersistentLoss, 0),
        (AnaState::Change, blocks),
    ] {
        t.set_ana_states(1, &BTreeMap::from([(1, state)]), Instant::now()).unwrap();
        let (c, id) = h.run(identify(0, 1), &[]);
        assert!(c.status.is_success(), "{c:?}");
        let u64_at = |at: usize| u64::from_le_bytes(id[at..at + 8].try_into().unwrap());
        assert_eq!((u64_at(0), u64_at(8), u64_at(16)), (blocks, blocks, nuse), "{state:?}");
    }
}

/// An admin queue and I/O queue 1 of a controller of the host with `hostid`.
fn host_queues(t: &Arc<Target>, hostid: [u8; 16]) -> (H, H) {
    nqn_queues(t, hostid, HOST)
}

/// [`host_queues`] of the host `hostnqn`.
fn nqn_queues(t: &Arc<Target>, hostid: [u8; 16], hostnqn: &str) -> (H, H) {
    let mut admin = H::new(t, false, false);
    let c = admin.connect_nqn(hostid, hostnqn, SUB, 0, CNTLID_DYNAMIC, 0, 0);
    assert!(c.status.is_success(), "{c:?}");
    admin.enable();
    let mut io = H::new(t, false, false);
    let c = io.connect_nqn(hostid, hostnqn, SUB, 1, c.dw0 as u16, 0, 0);
    assert!(c.status.is_success(), "{c:?}");
    (admin, io)
}

/// A reservation command on namespace 1: `cdw10` and the keys as in-capsule data.
fn reservation(op: u8, cdw10: u32, keys: &[u64]) -> (Sqe, Vec<u8>) {
    let mut s = Sqe::new(op, 0);
    s.nsid = 1;
    s.cdw[0] = cdw10;
    (s, keys.iter().flat_map(|k| k.to_le_bytes()).collect())
}

/// Reservations through the controller core (NVMe Base 2.0 §8.19): Identify reports them;
/// host A registers and takes a Write Exclusive reservation; host B (another Host
/// Identifier) still reads but its writes, Write Zeroes and Flush conflict until A
/// releases; the report lists both registrants; malformed commands change nothing.
#[test]
fn reservations_guard_the_namespace_between_hosts() {
    let t = target();
    let (mut a_admin, mut a) = host_queues(&t, [0xA; 16]);
    let (_b_admin, mut b) = host_queues(&t, [0xB; 16]);
    let (_, ctrl) = a_admin.run(identify(1, 0), &[]);
    assert_ne!(u16::from_le_bytes([ctrl[520], ctrl[521]]) & (1 << 5), 0, "ONCS bit 5");
    assert_eq!(ctrl[96] & 1, 1, "CTRATT: 128-bit host identifier");
    assert_eq!(a_admin.run(identify(0, 1), &[]).1[31], 0xFE, "RESCAP");
    let read = |h: &mut H| h.run(rw(io_opcode::READ, 0, 1, 512), &[]).0.status;
    let conflict = Status::RESERVATION_CONFLICT.with_dnr();
    use io_opcode::{RESERVATION_ACQUIRE, RESERVATION_REGISTER, RESERVATION_RELEASE};
    // A registers key 0xAA (CPTPL 11b, as a Linux host asks, is accepted) and acquires
    // Write Exclusive; B registers 0xBB.
    assert!(a.status_of(reservation(RESERVATION_REGISTER, 3 << 30, &[0, 0xAA])).is_success());
    assert!(b.status_of(reservation(RESERVATION_REGISTER, 0, &[0, 0xBB])).is_success());
    let acquire_we = |key| reservation(RESERVATION_ACQUIRE, 1 << 8, &[key, 0]);
    assert_eq!(a.status_of(acquire_we(0xAB)), conflict, "wrong key");
    assert!(a.status_of(acquire_we(0xAA)).is_success());
    assert_eq!(b.status_of(acquire_we(0xBB)), conflict, "held by A");
    assert!(a.write_first_block().is_success() && read(&mut b).is_success());
    assert_eq!(b.write_first_block(), conflict, "B may read, not write");
    let mut flush = Sqe::new(io_opcode::FLUSH, 0);
    flush.nsid = 1;
    assert_eq!(b.run(flush, &[]).0.status, conflict);
    assert_eq!(b.run(rw(io_opcode::WRITE_ZEROES, 0, 1, 0), &[]).0.status, conflict);
    // Malformed: short key data, an unknown action; nothing changes.
    let short = reservation(RESERVATION_REGISTER, 0, &[0]);
    assert_eq!(b.status_of(short), Status::DATA_SGL_LENGTH_INVALID.with_dnr());
    let bad_action = reservation(RESERVATION_RELEASE, 7, &[0xBB]);
    assert_eq!(b.status_of(bad_action), Status::INVALID_FIELD.with_dnr());
    // The report: extended data structure only.
    let mut report = Sqe::new(io_opcode::RESERVATION_REPORT, 0);
    report.nsid = 1;
    report.cdw[0] = 4096 / 4 - 1;
    report.set_sgl(SglDescriptor::transport(4096));
    assert_eq!(a.run(report, &[]).0.status, Status::HOST_ID_INCONSISTENT_FORMAT.with_dnr());
    report.cdw[1] = 1;
    let mut huge = report;
    huge.cdw[0] = (256 << 10) / 4 - 1;
    huge.set_sgl(SglDescriptor::transport(256 << 10));
    assert_eq!(a.run(huge, &[]).0.status, Status::INVALID_FIELD.with_dnr(), "past MDTS");
    // The buffer must be NUMD's size exactly (as Linux's nvmet checks it).
    let mut roomy = report;
    roomy.set_sgl(SglDescriptor::transport(8192));
    assert_eq!(a.run(roomy, &[]).0.status, Status::DATA_SGL_LENGTH_INVALID.with_dnr());
    let (c, data) = a.run(report, &[]);
    assert!(c.status.is_success(), "{c:?}");
    assert_eq!((data.len(), data[4], data[5]), (4096, 1, 2), "4 KiB, RTYPE 1, REGCTL 2");
    let entry = |i: usize| &data[64 * (i + 1)..64 * (i + 2)];
    assert_eq!(
        (entry(0)[2], &entry(0)[8..16], &entry(0)[16..32]),
        (1, &0xAAu64.to_le_bytes()[..], &[0xA; 16][..])
    );
    assert_eq!((entry(1)[2], &entry(1)[16..32]), (0, &[0xB; 16][..]));
    // A releases: B writes again.
    assert!(a.status_of(reservation(RESERVATION_RELEASE, 1 << 8, &[0xAA])).is_success());
    assert!(b.write_first_block().is_success());
}

/// A registrant is a Host Identifier and a Host NQN: host B, allowed under its own NQN,
/// that connects with A's Host Identifier (read from a report) is not A: its writes
/// conflict with A's Write Exclusive reservation, its reservation commands do not act on
/// A's registration, and A's notices do not reach it.
#[test]
fn a_host_id_of_another_nqn_is_another_registrant() {
    const OTHER: &str = "nqn.2014-08.org.example:host2";
    let t = target();
    t.set_hosts(SUB, false, BTreeSet::from([HOST.to_owned(), OTHER.to_owned()])).unwrap();
    let (mut a_admin, mut a) = host_queues(&t, [0xA; 16]);
    let (mut b_admin, mut b) = nqn_queues(&t, [0xA; 16], OTHER);
    let conflict = Status::RESERVATION_CONFLICT.with_dnr();
    use io_opcode::{RESERVATION_ACQUIRE, RESERVATION_REGISTER, RESERVATION_RELEASE};
    assert!(a.status_of(reservation(RESERVATION_REGISTER, 0, &[0, 0xAA])).is_success());
    assert!(a.status_of(reservation(RESERVATION_ACQUIRE, 1 << 8, &[0xAA, 0])).is_success());
    assert_eq!(b.write_first_block(), conflict, "B is not the holder A");
    assert_eq!(
        b.status_of(reservation(RESERVATION_RELEASE, 1 << 8, &[0xAA])),
        conflict,
        "B is no registrant: A's key is not B's"
    );
    // B registers on its own and is preempted by A: the notice is B's, not A's.
    assert!(b.status_of(reservation(RESERVATION_REGISTER, 0, &[0, 0xBB])).is_success());
    let preempt = reservation(RESERVATION_ACQUIRE, 1 | (1 << 8), &[0xAA, 0xBB]);
    assert!(a.status_of(preempt).is_success());
    assert_eq!(b.write_first_block(), conflict, "fenced");
    assert!(a.write_first_block().is_success());
    let (c, page) = b_admin.run(log_page(0x80, 64), &[]);
    assert!(c.status.is_success(), "{c:?}");
    assert_eq!((page[0], page[8]), (1, 1), "B's Registration Preempted");
    let (c, page) = a_admin.run(log_page(0x80, 64), &[]);
    assert!(c.status.is_success(), "{c:?}");
    assert_eq!(page[0], 0, "A lost nothing");
}

/// A reservation change whose saving fails (the state directory gone) fails its command
/// with Internal Error and is put back: the host that was told it failed finds the state
/// as it was, for a Reservation command and for Set Features Reservation Persistence.
#[test]
fn a_reservation_change_that_cannot_be_saved_is_put_back() {
    use crate::persist::NamespaceStore;
    use io_opcode::{RESERVATION_ACQUIRE, RESERVATION_REGISTER};
    let dir = tempfile::tempdir().unwrap();
    let t = target_with(Some(Arc::new(NamespaceStore::open(dir.path()).unwrap())));
    let (mut admin, mut a) = host_queues(&t, [0xA; 16]);
    let (mut b_admin, mut b) = host_queues(&t, [0xB; 16]);
    let reserved =
        |t: &Arc<Target>| t.namespace(SUB, 1).unwrap().reservations.lock().unwrap().is_reserved();
    let ptpl = |h: &mut H| {
        let mut s = Sqe::new(admin_opcode::GET_FEATURES, 0);
        (s.nsid, s.cdw[0]) = (1, 0x83);
        h.run(s, &[]).0.dw0
    };
    assert!(a.status_of(reservation(RESERVATION_REGISTER, 3 << 30, &[0, 0xAA])).is_success());
    assert!(b.status_of(reservation(RESERVATION_REGISTER, 0, &[0, 0xBB])).is_success());
    assert_eq!(ptpl(&mut admin), 1);
    // Saving now fails: the directory of the files is a file.
    let files = dir.path().join("namespaces");
    std::fs::remove_dir_all(&files).unwrap();
    std::fs::write(&files, b"").unwrap();
    let acquire = reservation(RESERVATION_ACQUIRE, 1 << 8, &[0xAA, 0]);
    assert_eq!(a.status_of(acquire), Status::INTERNAL_ERROR.with_dnr());
    assert!(!reserved(&t), "the reservation was put back");
    // A preemption of B that is put back tells B nothing: it lost nothing.
    let preempt = reservation(RESERVATION_ACQUIRE, 1 | (1 << 8), &[0xAA, 0xBB]);
    assert_eq!(a.status_of(preempt), Status::INTERNAL_ERROR.with_dnr());
    let ns = t.namespace(SUB, 1).unwrap();
    let registrants = ns.reservations.lock().unwrap().summary().registrants;
    assert_eq!(registrants, 2, "B's registration was put back");
    let (c, page) = b_admin.run(log_page(0x80, 64), &[]);
    assert!(c.status.is_success(), "{c:?}");
    assert_eq!(page[0], 0, "no Registration Preempted page for B");
    let mut off = Sqe::new(admin_opcode::SET_FEATURES, 0);
    (off.nsid, off.cdw[0], off.cdw[1]) = (1, 0x83, 0);
    assert_eq!(admin.run(off, &[]).0.status, Status::INTERNAL_ERROR.with_dnr());
    assert_eq!(ptpl(&mut admin), 1, "PTPL was put back");
    // Once the state can be saved again, the same commands succeed.
    std::fs::remove_file(&files).unwrap();
    std::fs::create_dir(&files).unwrap();
    assert!(a.status_of(reservation(RESERVATION_ACQUIRE, 1 << 8, &[0xAA, 0])).is_success());
    assert!(reserved(&t));
    let preempt = reservation(RESERVATION_ACQUIRE, 1 | (1 << 8), &[0xAA, 0xBB]);
    assert!(a.status_of(preempt).is_success());
    let (_, page) = b_admin.run(log_page(0x80, 64), &[]);
    assert_eq!((page[0], page[8]), (1, 1), "saved: B is told of its preemption");
}

/// Persist Through Power Loss (NVMe Base 2.0 §8.19, Reservation Persistence): with a
/// store, RESCAP says so; Register's CPTPL 11b and Set Features 83h turn PTPL on, and
/// every change of the state is in the store before its command completes; a new
/// target (the service after a restart) gets the registrants and the reservation back
/// for the same NGUID only; CPTPL 10b and Set Features 83h with PTPL 0 remove the file.
/// Without a store, CPTPL 11b does nothing (as nvmet) and 83h is not changeable.
#[test]
fn reservations_persist_through_power_loss_when_the_hosts_ask() {
    use crate::persist::NamespaceStore;
    use io_opcode::{RESERVATION_ACQUIRE, RESERVATION_REGISTER};
    let dir = tempfile::tempdir().unwrap();
    let files = || std::fs::read_dir(dir.path().join("namespaces")).unwrap().count();
    let store = || Arc::new(NamespaceStore::open(dir.path()).unwrap());
    let feature = |op: u8, cdw10: u32, cdw11: u32| {
        let mut s = Sqe::new(op, 0);
        s.nsid = 1;
        s.cdw[0] = cdw10;
        s.cdw[1] = cdw11;
        s
    };
    let ptpl_feature = |h: &mut H| h.run(feature(admin_opcode::GET_FEATURES, 0x83, 0), &[]).0.dw0;
    let report = |h: &mut H| {
        let mut r = Sqe::new(io_opcode::RESERVATION_REPORT, 0);
        r.nsid = 1;
        r.cdw[0] = 4096 / 4 - 1;
        r.cdw[1] = 1;
        r.set_sgl(SglDescriptor::transport(4096));
        let (c, data) = h.run(r, &[]);
        assert!(c.status.is_success(), "{c:?}");
        // GEN, RTYPE, REGCTL, PTPLS
        (data[0], data[4], data[5], data[9])
    };

    let t = target_with(Some(store()));
    let (mut a_admin, mut a) = host_queues(&t, [0xA; 16]);
    let (_b_admin, mut b) = host_queues(&t, [0xB; 16]);
    assert_eq!(a_admin.run(identify(0, 1), &[]).1[31], 0xFF, "RESCAP: PTPL too");
    assert_eq!(ptpl_feature(&mut a_admin), 0);
    let caps = a_admin.run(feature(admin_opcode::GET_FEATURES, 0x83 | (3 << 8), 0), &[]).0.dw0;
    assert_eq!(caps, 0b110, "namespace specific, changeable");
    // The Reservation Notification Mask is namespace specific too (§5.27.1.27).
    let caps = a_admin.run(feature(admin_opcode::GET_FEATURES, 0x82 | (3 << 8), 0), &[]).0.dw0;
    assert_eq!(caps, 0b110, "82h: namespace specific, changeable");
    // Without CPTPL nothing is kept; CPTPL 01b is reserved.
    assert!(a.status_of(reservation(RESERVATION_REGISTER, 0, &[0, 0xAA])).is_success());
    assert_eq!(files(), 0);
    let reserved = reservation(RESERVATION_REGISTER, 1 << 30, &[0, 0xAA]);
    assert_eq!(a.status_of(reserved), Status::INVALID_FIELD.with_dnr());
    // CPTPL 11b with a registration (the same key again): kept from now on.
    assert!(a.status_of(reservation(RESERVATION_REGISTER, 3 << 30, &[0, 0xAA])).is_success());
    assert_eq!((files(), ptpl_feature(&mut a_admin), report(&mut a).3), (1, 1, 1));
    assert!(b.status_of(reservation(RESERVATION_REGISTER, 0, &[0, 0xBB])).is_success());
    assert!(a.status_of(reservation(RESERVATION_ACQUIRE, 1 << 8, &[0xAA, 0])).is_success());
    assert_eq!(b.write_first_block(), Status::RESERVATION_CONFLICT.with_dnr());
    let before = report(&mut a);
    assert_eq!(before, (3, 1, 2, 1), "GEN 3, Write Exclusive, two registrants, PTPLS");

    // Power loss: every connection and the target go; a new service reads the store.
    drop((a_admin, a, _b_admin, b, t));
    let t = target_with(Some(store()));
    let (mut a_admin, mut a) = host_queues(&t, [0xA; 16]);
    let (_b_admin, mut b) = host_queues(&t, [0xB; 16]);
    assert_eq!(report(&mut b), before, "the same state after the restart");
    assert_eq!(b.write_first_block(), Status::RESERVATION_CONFLICT.with_dnr());
    assert!(a.write_first_block().is_success(), "A still holds it");
    assert_eq!(ptpl_feature(&mut a_admin), 1);
    // Another namespace at the same NSID (another NGUID) does not get it.
    let other = store();
    assert!(other.take(SUB, 1, &[0xEE; 16]).unwrap().is_none(), "another NGUID");
    assert!(other.take(SUB, 1, &[0xAB; 16]).unwrap().is_some(), "handed out once");
    assert!(other.take(SUB, 1, &[0xAB; 16]).unwrap().is_none());

    // Set Features 83h: not saveable; PTPL 0 removes the file, the state stays.
    let set =
        |v: u32, sv: bool| feature(admin_opcode::SET_FEATURES, 0x83 | (u32::from(sv) << 31), v);
    assert_eq!(a_admin.run(set(0, true), &[]).0.status, Status::FEATURE_NOT_SAVEABLE.with_dnr());
    assert!(a_admin.run(set(0, false), &[]).0.status.is_success());
    assert_eq!((files(), report(&mut a)), (0, (3, 1, 2, 0)));
    // NSID FFFFFFFFh: every namespace of the subsystem.
    let mut all = set(1, false);
    all.nsid = NSID_ALL;
    assert!(a_admin.run(all, &[]).0.status.is_success());
    assert_eq!((files(), ptpl_feature(&mut a_admin)), (1, 1));
    // CPTPL 10b with a replace: PTPL off, the file goes.
    let replace = reservation(RESERVATION_REGISTER, 2 | (2 << 30), &[0xAA, 0xAC]);
    assert!(a.status_of(replace).is_success());
    assert_eq!((files(), report(&mut a).3), (0, 0));

    // A file that is not a state file stops the start, naming it, and is left alone;
    // moved away, the store opens and restores nothing.
    let bad = dir.path().join("namespaces/bad.json");
    std::fs::write(&bad, b"{\"nqn\": 1}").unwrap();
    let e = NamespaceStore::open(dir.path()).unwrap_err().to_string();
    assert!(e.contains("bad.json"), "{e}");
    assert!(bad.exists());
    std::fs::rename(&bad, dir.path().join("bad.json")).unwrap();
    let t = target_with(Some(store()));
    let (_a_admin, mut a) = host_queues(&t, [0xA; 16]);
    assert_eq!(report(&mut a), (0, 0, 0, 0));

    // Without a store: CPTPL 11b is accepted and keeps nothing; 83h is not changeable.
    let t = target();
    let (mut a_admin, mut a) = host_queues(&t, [0xA; 16]);
    assert!(a.status_of(reservation(RESERVATION_REGISTER, 3 << 30, &[0, 0xAA])).is_success());
    assert_eq!(report(&mut a).3, 0);
    let not_changeable = Status::FEATURE_NOT_CHANGEABLE.with_dnr();
    assert_eq!(a_admin.run(set(1, false), &[]).0.status, not_changeable);
    assert_eq!(ptpl_feature(&mut a_admin), 0);
}

/// A write-protected namespace (NVMe Base 2.0 §8.12): Identify Namespace says so
/// (NSATTR bit 0); Write, Write Zeroes and Dataset Management fail with Namespace Is
/// Write Protected and leave the data as it was; Read, Compare and Flush work. Each
/// change of protection is a namespace attribute notice, and a queue connected before
/// it follows it at once.
#[test]
fn a_write_protected_namespace_refuses_what_would_modify_it() {
    let t = target();
    let (mut h, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let aer_cid = h.arm_namespace_notices();
    let write = |q: &mut H, byte: u8| {
        let mut w = rw(io_opcode::WRITE, 0, 1, 0);
        w.set_sgl(SglDescriptor::in_capsule(512));
        q.run(w, &[byte; 512]).0.status
    };
    assert!(write(&mut q, 0x11).is_success());
    assert_eq!(h.run(identify(0, 1), &[]).1[99], 0, "NSATTR: writable");

    t.set_write_protected(SUB, 1, true).unwrap();
    h.conn.tick(h.now);
    let p = h.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.dw0), (aer_cid, 0x0004_0002), "namespace attribute changed");
    assert_eq!(&h.run(log_page(4, 4096), &[]).1[0..4], &[1, 0, 0, 0]);
    assert_eq!(h.run(identify(0, 1), &[]).1[99], 1, "NSATTR: write protected");
    let protected = Status::NAMESPACE_WRITE_PROTECTED.with_dnr();
    assert_eq!(write(&mut q, 0x22), protected);
    assert_eq!(q.run(rw(io_opcode::WRITE_ZEROES, 0, 1, 0), &[]).0.status, protected);
    let mut dsm = Sqe::new(io_opcode::DATASET_MANAGEMENT, 0);
    dsm.nsid = 1;
    dsm.cdw[1] = 1 << 2; // deallocate
    dsm.set_sgl(SglDescriptor::in_capsule(16));
    let mut range = [0u8; 16];
    range[4] = 1; // one block from LBA 0
    assert_eq!(q.run(dsm, &range).0.status, protected);
    let (c, data) = q.run(rw(io_opcode::READ, 0, 1, 512), &[]);
    assert!(c.status.is_success() && data == [0x11; 512], "the data stays: {c:?}");
    let mut compare = rw(io_opcode::COMPARE, 0, 1, 0);
    compare.set_sgl(SglDescriptor::in_capsule(512));
    assert!(q.run(compare, &[0x11; 512]).0.status.is_success());
    let mut flush = Sqe::new(io_opcode::FLUSH, 0);
    flush.nsid = 1;
    assert!(q.run(flush, &[]).0.status.is_success());
    assert_eq!(t.namespace(SUB, 1).unwrap().stats.snapshot().errors, 3);

    // Setting the same protection again announces nothing; lifting it does.
    let aer_cid = h.arm_namespace_notices();
    t.set_write_protected(SUB, 1, true).unwrap();
    h.conn.tick(h.now);
    assert!(h.pdus().is_empty(), "no change, no notice");
    t.set_write_protected(SUB, 1, false).unwrap();
    h.conn.tick(h.now);
    let p = h.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!(c.cid, aer_cid);
    assert!(write(&mut q, 0x33).is_success());
    assert!(t.set_write_protected(SUB, 9, true).is_err(), "no such namespace");
}

/// Namespace Write Protection Config (Feature 84h, NVMe Base 2.0 §8.12): a host protects
/// a namespace for every controller and lifts its protection again; the other controllers
/// are told (namespace notice). The permanent state, reserved values, NSID FFFFFFFFh and
/// unknown namespaces are refused and change nothing; a host cannot lift the operator's
/// protection, and the namespace stays protected while either protects it. Write Protect
/// Until Power Cycle holds against every host and the operator.
#[test]
fn a_host_write_protects_a_namespace_with_feature_84h() {
    let t = target();
    let (mut a, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let (mut b, _) = H::admin(&t, 0);
    assert_eq!(a.run(identify(1, 0), &[]).1[531], 0b011, "NWPC: WP and until power cycle");
    let feature = |op: u8, nsid: u32, cdw11: u32| {
        let mut s = Sqe::new(op, 0);
        s.nsid = nsid;
        s.cdw[0] = 0x84;
        s.cdw[1] = cdw11;
        s
    };
    let wps = |h: &mut H| h.run(feature(admin_opcode::GET_FEATURES, 1, 0), &[]).0.dw0;
    let set = |h: &mut H, nsid: u32, v: u32| {
        h.run(feature(admin_opcode::SET_FEATURES, nsid, v), &[]).0.status
    };
    let write = |q: &mut H| {
        let mut w = rw(io_opcode::WRITE, 0, 1, 0);
        w.set_sgl(SglDescriptor::in_capsule(512));
        q.run(w, &[0x5A; 512]).0.status
    };
    assert_eq!(wps(&mut a), 0);
    let mut caps = feature(admin_opcode::GET_FEATURES, 1, 0);
    caps.cdw[0] |= 3 << 8;
    assert_eq!(a.run(caps, &[]).0.dw0, 0b110, "SEL 3: namespace specific, changeable");

    let aer_cid = b.arm_namespace_notices();
    assert!(set(&mut a, 1, 1).is_success());
    b.conn.tick(b.now);
    let p = b.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.dw0), (aer_cid, 0x0004_0002), "the other controller is told");
    assert_eq!((wps(&mut a), wps(&mut b)), (1, 1), "for every controller");
    assert_eq!(a.run(identify(0, 1), &[]).1[99], 1, "NSATTR: write protected");
    let protected = Status::NAMESPACE_WRITE_PROTECTED.with_dnr();
    assert_eq!(write(&mut q), protected);

    let invalid = Status::INVALID_FIELD.with_dnr();
    for (nsid, v, want) in [
        (1, 3, invalid),
        (1, 1 << 3, invalid),
        (NSID_ALL, 0, invalid),
        (9, 0, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr()),
    ] {
        assert_eq!(set(&mut a, nsid, v), want, "NSID {nsid:#x}, WPS {v}");
    }
    let mut saved = feature(admin_opcode::SET_FEATURES, 1, 0);
    saved.cdw[0] |= 1 << 31;
    assert_eq!(a.run(saved, &[]).0.status, Status::FEATURE_NOT_SAVEABLE.with_dnr());
    assert_eq!(wps(&mut a), 1, "nothing refused changed it");

    assert!(set(&mut a, 1, 0).is_success());
    assert_eq!(wps(&mut b), 0);
    assert!(write(&mut q).is_success());

    // The operator's protection and a host's.
    t.set_write_protected(SUB, 1, true).unwrap();
    assert_eq!(wps(&mut a), 1, "the operator's reads as Write Protect");
    assert_eq!(set(&mut a, 1, 0), protected, "a host cannot lift the operator's");
    assert!(set(&mut a, 1, 1).is_success());
    t.set_write_protected(SUB, 1, false).unwrap();
    assert_eq!((wps(&mut a), write(&mut q)), (1, protected), "the host's still holds");
    assert!(set(&mut a, 1, 0).is_success());
    assert!(write(&mut q).is_success());

    // Write Protect Until Power Cycle: no host leaves it, the operator's changes do
    // not end it.
    assert!(set(&mut a, 1, 2).is_success());
    assert_eq!((wps(&mut a), wps(&mut b), write(&mut q)), (2, 2, protected));
    let not_changeable = Status::FEATURE_NOT_CHANGEABLE.with_dnr();
    for v in [0, 1] {
        assert_eq!(set(&mut b, 1, v), not_changeable, "WPS {v}");
    }
    assert!(set(&mut b, 1, 2).is_success(), "the same state again");
    t.set_write_protected(SUB, 1, true).unwrap();
    t.set_write_protected(SUB, 1, false).unwrap();
    assert_eq!((wps(&mut a), write(&mut q)), (2, protected));
    assert!(t.namespace(SUB, 1).unwrap().host_write_protected());

    // The operator lifts what hosts set, Until Power Cycle too; its own protection stays
    // until it lifts that.
    t.set_write_protected(SUB, 1, true).unwrap();
    assert_eq!(t.clear_host_write_protection(SUB, 1), Ok(HostWriteProtection::UntilPowerCycle));
    // The operator's protection reads as Write Protect (WPS 1).
    assert_eq!((wps(&mut a), write(&mut q)), (1, protected), "the operator's stays");
    t.set_write_protected(SUB, 1, false).unwrap();
    assert!(write(&mut q).is_success());
    assert_eq!(t.clear_host_write_protection(SUB, 1), Ok(HostWriteProtection::NoWriteProtect));
    assert!(t.clear_host_write_protection(SUB, 9).is_err(), "no such namespace");
}

/// A namespace a host write-protects is flushed first, as Linux's nvmet does, so what
/// was written before is durable while it stays frozen; when the flush fails, the
/// command fails and the namespace stays as it was. Lifting the protection flushes
/// nothing.
#[test]
fn write_protection_flushes_the_volume_and_fails_as_a_whole() {
    let t = target();
    let flushes = add_counting_namespace(&t, 2);
    let (failing, _) = add_failing_namespace(&t, 3);
    *failing.lock().unwrap() = Some(|| Errno::EIO.into());
    let (mut a, _) = H::admin(&t, 0);
    let set = |h: &mut H, nsid: u32, v: u32| {
        let mut s = Sqe::new(admin_opcode::SET_FEATURES, 0);
        s.nsid = nsid;
        s.cdw[0] = 0x84;
        s.cdw[1] = v;
        h.run(s, &[]).0.status
    };
    for (v, want) in [(1, 1), (0, 1), (2, 2)] {
        assert!(set(&mut a, 2, v).is_success());
        assert_eq!(flushes.load(Ordering::Relaxed), want, "after WPS {v}");
    }

    assert_eq!(set(&mut a, 3, 1), Status::INTERNAL_ERROR.with_dnr(), "the flush failed");
    let ns3 = t.namespace(SUB, 3).unwrap();
    assert!(!ns3.host_write_protected() && !ns3.write_protected.load(Ordering::Relaxed));
    assert_eq!(a.run(identify(0, 3), &[]).1[99], 0, "NSATTR: writable");
    *failing.lock().unwrap() = None;
    assert!(set(&mut a, 3, 1).is_success());
    assert!(ns3.host_write_protected());
}

/// A write protection whose flush fails is put back on the namespace it was set on: not
/// on another the operator has since given its NSID, whose host's own protection stands.
#[test]
fn a_failed_write_protection_leaves_a_namespace_since_given_its_nsid_alone() {
    let t = target();
    let (failing, _) = add_failing_namespace(&t, 3);
    *failing.lock().unwrap() = Some(|| Errno::EIO.into());
    let (mut a, _) = H::admin(&t, 0);
    let set = a.submit(write_protection(3, 1), &[]);
    let held = a.conn.poll_io().expect("the protection's flush");
    // The operator gives NSID 3 another volume; a host protects it.
    assert!(t.remove_namespace(SUB, 3).is_ok());
    let v = Arc::new(Volume::ram("new", 512, 1 << 20).unwrap());
    t.add_namespace(SUB, 3, v, [0x33; 16], [0x34; 16]).unwrap();
    let (mut b, _) = H::admin(&t, 0);
    assert!(
        b.run(write_protection(3, 1), &[]).0.status.is_success(),
        "a RAM volume has nothing to flush"
    );
    assert!(t.namespace(SUB, 3).unwrap().host_write_protected(), "b protected the new one");
    // The old namespace's flush fails: its change is put back, the new one's stays.
    a.conn.complete_io(held.tag, execute_io(&held));
    let p = a.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.status), (set, Status::INTERNAL_ERROR.with_dnr()));
    let new = t.namespace(SUB, 3).unwrap();
    assert!(new.host_write_protected() && new.write_protected.load(Ordering::Relaxed));
}

/// The namespace notice a host's own write protection raises goes out after the Set
/// Features' answer, which waits for the protection's flush: not before it, while the
/// protection is not yet durable and may still be put back.
#[test]
fn a_write_protections_notice_follows_its_answer() {
    let t = target();
    let (mut a, _) = H::admin(&t, 0);
    let aer = a.arm_namespace_notices();
    let set = a.submit(write_protection(1, 1), &[]);
    let held = a.conn.poll_io().expect("the protection's flush");
    a.dec.feed(&a.conn.take_output());
    assert_eq!(a.dec.decode().unwrap(), None, "nothing before the flush ended");
    a.conn.complete_io(held.tag, execute_io(&held));
    let answers: Vec<(u16, u32, bool)> = a
        .pdus()
        .iter()
        .filter_map(|p| match p {
            Pdu::CapsuleResp(c) => Some((c.cid, c.dw0, c.status.is_success())),
            _ => None,
        })
        .collect();
    assert_eq!(answers, [(set, 0, true), (aer, 0x0004_0002, true)], "the answer, then the notice");
    assert!(a.events().is_empty(), "told once");
}

/// A host's Set Features 84h whose flush and save are held (`poll_io`) on a target
/// keeping namespace state; host B, another controller, sees the namespace too. Returns
/// A's admin queue with its AER's CID, B's admin and I/O queues with its AER's CID, the
/// command's CID and the held request.
fn protection_being_saved(t: &Arc<Target>) -> ((H, u16), (H, H, u16), u16, IoRequest) {
    const OTHER: &str = "nqn.2014-08.org.example:host2";
    t.set_hosts(SUB, false, BTreeSet::from([HOST.to_owned(), OTHER.to_owned()])).unwrap();
    let (mut a, _) = H::admin(t, 0);
    let a_aer = a.arm_namespace_notices();
    let (mut b, b_io) = nqn_queues(t, [0xB; 16], OTHER);
    let b_aer = b.arm_namespace_notices();
    let set = a.submit(write_protection(1, 1), &[]);
    let held = a.conn.poll_io().expect("the protection's flush and save");
    assert!(matches!(held.op, IoOp::Protect { flush: true, store: Some(_), .. }));
    ((a, a_aer), (b, b_io, b_aer), set, held)
}

/// The completions (CID, DW0, success) a queue sent since it was last read, without
/// running the volume I/O it asks for (a held save stays held).
fn answers_so_far(h: &mut H) -> Vec<(u16, u32, bool)> {
    h.conn.tick(h.now);
    h.dec.feed(&h.conn.take_output());
    let mut v = Vec::new();
    while let Some(p) = h.dec.decode().unwrap() {
        if let Pdu::CapsuleResp(c) = p {
            v.push((c.cid, c.dw0, c.status.is_success()));
        }
    }
    v
}

/// A host's write protection is in force at once (§8.12: other hosts' writes fail while
/// it is saved), but its hosts hear of it (a namespace attribute notice) only once it
/// stands: no tick of the host's admin queue, nor of another host's, delivers the notice
/// while its save runs; once saved, the answer goes, then the notice, once to each.
#[test]
fn a_write_protections_notice_waits_for_its_save() {
    let dir = tempfile::tempdir().unwrap();
    let t = target_with(Some(Arc::new(crate::persist::NamespaceStore::open(dir.path()).unwrap())));
    let ((mut a, a_aer), (mut b, mut b_io, b_aer), set, held) = protection_being_saved(&t);
    assert_eq!(b_io.write_first_block(), Status::NAMESPACE_WRITE_PROTECTED.with_dnr());
    assert_eq!(answers_so_far(&mut a), [], "no answer and no notice while it is saved");
    assert_eq!(answers_so_far(&mut b), [], "nor a notice to another host");
    a.conn.complete_io(held.tag, execute_io(&held));
    assert_eq!(answers_so_far(&mut a), [(set, 0, true), (a_aer, 0x0004_0002, true)]);
    assert_eq!(answers_so_far(&mut b), [(b_aer, 0x0004_0002, true)]);
    assert!(a.events().is_empty() && b.events().is_empty(), "told once");
}

/// A host's write protection whose save fails is put back and its command fails; its
/// hosts were never told of it, and are not told of its end either: no notice goes out,
/// neither while it was saved nor after.
#[test]
fn a_write_protection_put_back_tells_no_host() {
    let dir = tempfile::tempdir().unwrap();
    let t = target_with(Some(Arc::new(crate::persist::NamespaceStore::open(dir.path()).unwrap())));
    let ((mut a, _), (mut b, mut b_io, _), set, held) = protection_being_saved(&t);
    assert_eq!(answers_so_far(&mut a), [], "no answer and no notice while it is saved");
    assert_eq!(answers_so_far(&mut b), [], "nor a notice to another host");
    a.conn.complete_io(held.tag, Err(io::Error::other("the state directory is gone")));
    assert_eq!(answers_so_far(&mut a), [(set, 0, false)], "the command fails, told nobody");
    assert_eq!(answers_so_far(&mut b), [], "nor another host");
    let mut g = get_feature(0x84, 0, 0);
    g.nsid = 1;
    assert_eq!(a.run(g, &[]).0.dw0, 0, "No Write Protect, as before");
    assert!(b_io.write_first_block().is_success(), "writable again");
    assert!(a.events().is_empty() && b.events().is_empty(), "no notice afterwards either");
}

/// Overlapping changes: host A protects, host B lifts it, both saves fail. A's change is
/// not put back (B's came on top of it) and tells nobody, as the namespace is writable as
/// before; B's put-back restores A's Write Protect, which no host had heard of, so that
/// put-back tells every host: the state they end with was announced.
#[test]
fn a_put_back_to_a_protection_no_host_heard_of_tells_them() {
    let dir = tempfile::tempdir().unwrap();
    let t = target_with(Some(Arc::new(crate::persist::NamespaceStore::open(dir.path()).unwrap())));
    let ((mut a, a_aer), (mut b, _, b_aer), a_set, a_held) = protection_being_saved(&t);
    let b_set = b.submit(write_protection(1, 0), &[]);
    let b_held = b.conn.poll_io().expect("the lifted protection's save");
    a.conn.complete_io(a_held.tag, Err(io::Error::other("the state directory is gone")));
    assert_eq!(answers_so_far(&mut a), [(a_set, 0, false)], "A's change told nobody");
    assert_eq!(answers_so_far(&mut b), [], "B's change is still being saved");
    b.conn.complete_io(b_held.tag, Err(io::Error::other("the state directory is gone")));
    assert!(t.namespace(SUB, 1).unwrap().write_protected.load(Ordering::Relaxed));
    let notice = 0x0004_0002;
    assert_eq!(answers_so_far(&mut b), [(b_set, 0, false), (b_aer, notice, true)]);
    assert_eq!(answers_so_far(&mut a), [(a_aer, notice, true)]);
}

/// Write Protect (WPS 001b) outlives a restart of the service where it keeps namespace
/// state (§8.12), for the same NGUID only, alongside PTPL reservations in one file;
/// Write Protect Until Power Cycle ends with the restart, as does No Write Protect.
#[test]
fn write_protect_outlives_a_restart_and_until_power_cycle_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let files = || std::fs::read_dir(dir.path().join("namespaces")).unwrap().count();
    let store = || Arc::new(crate::persist::NamespaceStore::open(dir.path()).unwrap());
    let feature = |op: u8, fid: u32, v: u32| {
        let mut s = Sqe::new(op, 0);
        s.nsid = 1;
        s.cdw[0] = fid;
        s.cdw[1] = v;
        s
    };
    let wps = |h: &mut H| h.run(feature(admin_opcode::GET_FEATURES, 0x84, 0), &[]).0.dw0;
    let ptpl = |h: &mut H| h.run(feature(admin_opcode::GET_FEATURES, 0x83, 0), &[]).0.dw0;
    let set = |h: &mut H, fid: u32, v: u32| {
        let status = h.run(feature(admin_opcode::SET_FEATURES, fid, v), &[]).0.status;
        assert!(status.is_success(), "Set Features {fid:#x} {v}: {status:?}");
    };
    let write = |q: &mut H| {
        let mut w = rw(io_opcode::WRITE, 0, 1, 0);
        w.set_sgl(SglDescriptor::in_capsule(512));
        q.run(w, &[0x42; 512]).0.status
    };
    let protected = Status::NAMESPACE_WRITE_PROTECTED.with_dnr();

    let t = target_with(Some(store()));
    let (mut a, _) = H::admin(&t, 0);
    set(&mut a, 0x84, 1);
    assert_eq!(files(), 1, "saved before the command completed");
    drop((a, t));
    let t = target_with(Some(store()));
    let (mut a, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    assert_eq!((wps(&mut a), write(&mut q)), (1, protected), "after the restart");
    assert_eq!(a.run(identify(0, 1), &[]).1[99], 1, "NSATTR: write protected");
    // With PTPL on too, one file holds both; lifting the protection keeps PTPL's.
    set(&mut a, 0x83, 1);
    set(&mut a, 0x84, 0);
    assert_eq!(files(), 1);
    assert!(write(&mut q).is_success());
    drop((a, q, t));
    let t = target_with(Some(store()));
    let (mut a, _) = H::admin(&t, 0);
    assert_eq!((wps(&mut a), ptpl(&mut a)), (0, 1));
    set(&mut a, 0x83, 0);
    assert_eq!(files(), 0, "nothing left to keep");

    // Until power cycle: not saved; from Write Protect, the file goes.
    set(&mut a, 0x84, 1);
    set(&mut a, 0x84, 2);
    assert_eq!((files(), wps(&mut a)), (0, 2));
    drop((a, t));
    let t = target_with(Some(store()));
    let (mut a, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    assert_eq!(wps(&mut a), 0, "the restart ended it");
    assert!(write(&mut q).is_success());

    // Another namespace at the same NSID (another NGUID) is not protected by the file.
    set(&mut a, 0x84, 1);
    let other = store();
    assert!(other.take(SUB, 1, &[0xEE; 16]).unwrap().is_none(), "another NGUID");
    assert!(other.take(SUB, 1, &[0xAB; 16]).unwrap().is_some_and(|s| s.write_protected));
}

/// Sends a command (its data in the capsule) and an H2CTermReq in one received batch:
/// the connection closes with the command's change made and its completion unsent.
fn submit_and_terminate(h: &mut H, (mut sqe, data): (Sqe, Vec<u8>)) {
    h.cid += 1;
    sqe.cid = h.cid;
    if !data.is_empty() {
        sqe.set_sgl(SglDescriptor::in_capsule(data.len() as u32));
    }
    let mut b = Pdu::CapsuleCmd(CapsuleCmd { sqe, data: data.into() }).to_vec(&h.framing).unwrap();
    let fes = Fes::PduSequenceError.code();
    let term = Pdu::H2CTermReq(dpu_nvmf_proto::TermReq { fes, fei: 0, data: vec![] });
    b.extend(term.to_vec(&h.framing).unwrap());
    h.conn.receive(&b, h.now);
    assert_eq!(h.conn.is_closed(), Some(&CloseReason::HostTerminated));
}

/// Runs what a closed connection still hands out, as the shell does until it is no
/// longer [`Connection::settling`]; nothing goes to the host.
fn settle(h: &mut H) {
    while let Some(req) = h.conn.poll_io() {
        let r = execute_io(&req);
        h.conn.complete_io(req.tag, r);
    }
    assert!(!h.conn.settling());
    assert!(h.conn.take_output().is_empty(), "nothing for a closed connection's host");
}

/// A change in force when its connection dies is saved all the same (NVMe Base 2.0
/// §8.19 PTPL, §8.12 Write Protect): a Register with CPTPL 11b, a Preempt and Abort that
/// waits for the preempted host's write, and a Set Features 84h, each followed in the
/// same batch by an H2CTermReq, are in the store a restarted target reads: it has the
/// registrants, reservation and protection the live target has.
#[test]
fn a_change_in_force_is_saved_though_its_connection_dies() {
    use io_opcode::{RESERVATION_ACQUIRE, RESERVATION_REGISTER};
    let dir = tempfile::tempdir().unwrap();
    let store = || Arc::new(crate::persist::NamespaceStore::open(dir.path()).unwrap());
    let t = target_with(Some(store()));
    let (mut a_admin, mut a) = host_queues(&t, [0xA; 16]);
    let (_b_admin, mut b) = host_queues(&t, [0xB; 16]);
    // B registers (PTPL on) and holds Write Exclusive, saved; a write of B's is running.
    assert!(b.status_of(reservation(RESERVATION_REGISTER, 3 << 30, &[0, 0xBB])).is_success());
    assert!(b.status_of(reservation(RESERVATION_ACQUIRE, 1 << 8, &[0xBB, 0])).is_success());
    let mut w = rw(io_opcode::WRITE, 0, 1, 0);
    w.set_sgl(SglDescriptor::in_capsule(512));
    b.submit(w, &[0x42; 512]);
    let running = b.conn.poll_io().unwrap();
    // A registers, and its queue dies in the same batch.
    submit_and_terminate(&mut a, reservation(RESERVATION_REGISTER, 3 << 30, &[0, 0xAA]));
    settle(&mut a);
    // A preempts and aborts B on another queue: that waits for B's write, and the queue
    // dies meanwhile.
    let cntlid = a_admin.conn.queue().unwrap().0;
    let mut a2 = H::new(&t, false, false);
    assert!(a2.connect_as([0xA; 16], SUB, 2, cntlid, 0, 0).status.is_success());
    let preempt = reservation(RESERVATION_ACQUIRE, 2 | (1 << 8), &[0xAA, 0xBB]);
    submit_and_terminate(&mut a2, preempt);
    settle(&mut a2);
    drop(running);
    // A write-protects the namespace, and its admin queue dies in the same batch.
    let mut wp = Sqe::new(admin_opcode::SET_FEATURES, 0);
    (wp.nsid, wp.cdw[0], wp.cdw[1]) = (1, 0x84, 1);
    submit_and_terminate(&mut a_admin, (wp, Vec::new()));
    settle(&mut a_admin);

    let state = |t: &Arc<Target>| {
        let ns = t.namespace(SUB, 1).unwrap();
        let r = ns.reservations.lock().unwrap();
        (r.save(), r.ptpl(), ns.host_write_protected())
    };
    let live = state(&t);
    let holder = live.0.reservation.as_ref().map(|r| r.holder.clone());
    assert_eq!(holder, Some(hex::encode([0xA; 16])), "A preempted B");
    assert_eq!((live.0.registrants.len(), live.1, live.2), (1, true, true));
    drop((b, _b_admin, t));
    assert_eq!(state(&target_with(Some(store()))), live, "the restarted target's state");
}

/// A save that fails after its connection closed puts the change back, as it would
/// have had the host been told (for a reservation and a write protection): memory
/// keeps nothing the store does not.
#[test]
fn a_save_that_fails_after_its_connection_closed_is_put_back() {
    use io_opcode::{RESERVATION_ACQUIRE, RESERVATION_REGISTER};
    let dir = tempfile::tempdir().unwrap();
    let t = target_with(Some(Arc::new(crate::persist::NamespaceStore::open(dir.path()).unwrap())));
    let (mut admin, mut a) = host_queues(&t, [0xA; 16]);
    let mut register = reservation(RESERVATION_REGISTER, 3 << 30, &[0, 0xAA]);
    register.0.set_sgl(SglDescriptor::in_capsule(16));
    assert!(a.run(register.0, &register.1).0.status.is_success());
    // Saving now fails: the directory of the files is a file.
    let files = dir.path().join("namespaces");
    std::fs::remove_dir_all(&files).unwrap();
    std::fs::write(&files, b"").unwrap();
    let ns = t.namespace(SUB, 1).unwrap();
    // Each save is on the pool when its connection closes, and fails after.
    let fail_after_close = |h: &mut H, (sqe, data): (Sqe, Vec<u8>)| {
        h.submit(sqe, &data);
        let save = h.conn.poll_io().unwrap();
        let fes = Fes::PduSequenceError.code();
        h.send(&Pdu::H2CTermReq(dpu_nvmf_proto::TermReq { fes, fei: 0, data: vec![] }));
        assert!(h.conn.settling());
        let r = execute_io(&save);
        assert!(r.is_err());
        h.conn.complete_io(save.tag, r);
        assert!(!h.conn.settling());
        assert!(h.conn.take_output().is_empty());
    };
    fail_after_close(&mut a, reservation(RESERVATION_ACQUIRE, 1 << 8, &[0xAA, 0]));
    assert!(
        ns.reservations
            .lock()
            .unwrap()
            .is_registrant(&crate::reservation::Host::new([0xA; 16], HOST.into()))
    );
    assert!(!ns.reservations.lock().unwrap().is_reserved(), "the reservation was put back");
    let mut wp = Sqe::new(admin_opcode::SET_FEATURES, 0);
    (wp.nsid, wp.cdw[0], wp.cdw[1]) = (1, 0x84, 1);
    fail_after_close(&mut admin, (wp, Vec::new()));
    assert!(!ns.host_write_protected(), "the protection was put back");
    assert!(!ns.write_protected.load(Ordering::Relaxed));
}

/// Saves of one namespace share writes (group commit): a Register with the key the host
/// holds still moves GEN, so it is saved, and one that only turns PTPL off or on is saved;
/// eight hosts registering while a save waits need one pass over the store for their
/// eight saves, not one each, all complete, and the file holds the final state.
#[test]
fn saves_asked_for_together_share_one_write() {
    use io_opcode::RESERVATION_REGISTER;
    let dir = tempfile::tempdir().unwrap();
    let store = || Arc::new(crate::persist::NamespaceStore::open(dir.path()).unwrap());
    let kept = store();
    let t = target_with(Some(kept.clone()));
    let passes = || kept.passes.load(Ordering::Relaxed);
    let ns = t.namespace(SUB, 1).unwrap();
    let generation = || ns.reservations.lock().unwrap().summary().generation;
    let (_a_admin, mut a) = host_queues(&t, [0xA; 16]);
    assert!(a.status_of(reservation(RESERVATION_REGISTER, 3 << 30, &[0, 0xAA])).is_success());
    let (generation0, saved) = (generation(), passes());
    assert_eq!(saved, 1);
    // The same key again, PTPL as it is or left alone, Replace with the same key: each
    // succeeds and moves GEN, as the Reservation Status data structure's GEN says of every
    // successful Register (NVMe Base 2.0, Reservation Report; nvmet likewise), so each is
    // saved; one after the other, each is a pass of its own.
    for (cdw10, keys) in [(3 << 30, [0, 0xAA]), (0, [0, 0xAA]), (2, [0xAA, 0xAA])] {
        assert!(a.status_of(reservation(RESERVATION_REGISTER, cdw10, &keys)).is_success());
        assert!(a.conn.poll_io().is_none());
    }
    assert_eq!((generation(), passes()), (generation0.wrapping_add(3), saved + 3));
    let (generation0, saved) = (generation(), passes());
    // CPTPL alone is a change: saved (the file goes, then comes back).
    let files = || std::fs::read_dir(dir.path().join("namespaces")).unwrap().count();
    assert!(a.status_of(reservation(RESERVATION_REGISTER, 2 << 30, &[0, 0xAA])).is_success());
    assert_eq!((files(), passes()), (0, saved + 1));
    assert!(a.status_of(reservation(RESERVATION_REGISTER, 3 << 30, &[0, 0xAA])).is_success());
    assert_eq!((files(), passes()), (1, saved + 2));
    assert_eq!(generation(), generation0.wrapping_add(2), "each Register moves GEN");

    // Eight hosts register; each save is asked for before any runs.
    let mut hosts: Vec<(H, H)> = (1..=8).map(|i| host_queues(&t, [i; 16])).collect();
    let mut saves = Vec::new();
    for (i, (_, io)) in hosts.iter_mut().enumerate() {
        let (sqe, data) = reservation(RESERVATION_REGISTER, 0, &[0, 0x100 + i as u64]);
        let cid = io.submit(sqe, &data);
        saves.push((cid, io.conn.poll_io().expect("a save")));
    }
    let before = passes();
    for ((_, io), (cid, save)) in hosts.iter_mut().zip(saves) {
        let r = execute_io(&save);
        io.conn.complete_io(save.tag, r);
        let p = io.pdus();
        let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
        assert_eq!((c.cid, c.status), (cid, Status::SUCCESS), "{c:?}");
    }
    assert_eq!(passes() - before, 1, "one write holds the eight changes");
    let live = ns.reservations.lock().unwrap().save();
    assert_eq!(live.registrants.len(), 9);
    drop((a, _a_admin, hosts, ns, t));
    let t = target_with(Some(store()));
    let restored = t.namespace(SUB, 1).unwrap().reservations.lock().unwrap().save();
    assert_eq!(restored, live, "the file holds the final state");
}

/// Reservation notifications (NVMe Base 2.0 §5.16.1.24, §5.27.1.26-27): a host whose
/// registration another host preempts gets an asynchronous event (I/O command specific,
/// log page 80h) and one log page per notice, oldest first; a mask (Feature 82h) stops
/// them per namespace. The Host Identifier feature reads the Connect's identifier and
/// cannot be set.
#[test]
fn reservation_notices_reach_the_preempted_host() {
    let t = target();
    let (mut a_admin, mut a) = host_queues(&t, [0xA; 16]);
    let (_b_admin, mut b) = host_queues(&t, [0xB; 16]);
    use io_opcode::{RESERVATION_ACQUIRE, RESERVATION_REGISTER};
    let register =
        |h: &mut H, key: u64| h.status_of(reservation(RESERVATION_REGISTER, 0, &[0, key]));
    let (aer, answered) = a_admin.send_aer();
    assert!(answered.is_empty());
    let notif_log = H::reservation_log;
    assert_eq!(notif_log(&mut a_admin, false), (0, 0, 0, 0), "empty");

    // A holds Write Exclusive; B preempts it twice (A registers again in between).
    assert!(register(&mut a, 0xAA).is_success() && register(&mut b, 0xBB).is_success());
    let acquire = reservation(RESERVATION_ACQUIRE, 1 << 8, &[0xAA, 0]);
    assert!(a.status_of(acquire).is_success());
    let preempt = || reservation(RESERVATION_ACQUIRE, 1 | (1 << 8), &[0xBB, 0xAA]);
    assert!(b.status_of(preempt()).is_success());
    a_admin.conn.tick(a_admin.now);
    let p = a_admin.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.dw0), (aer, 0x0080_0006), "reservation log page available");
    assert!(register(&mut a, 0xAA).is_success());
    assert!(b.status_of(preempt()).is_success());
    let (_, answered) = a_admin.send_aer();
    assert!(answered.is_empty(), "masked until the log is read");
    // A read takes its page whatever RAE says (§5.16.1.24).
    assert_eq!(notif_log(&mut a_admin, true), (1, 1, 1, 1), "Registration Preempted, NSID 1");
    assert_eq!(notif_log(&mut a_admin, false), (2, 1, 0, 1));
    assert!(a_admin.events().is_empty(), "all read: nothing left to announce");
    assert_eq!(notif_log(&mut a_admin, false).0, 0, "all read");

    // The mask: bit 1 stops Registration Preempted for namespace 1.
    let mut mask = Sqe::new(admin_opcode::SET_FEATURES, 0);
    mask.cdw[0] = 0x82;
    mask.nsid = 1;
    mask.cdw[1] = 1 << 4;
    assert_eq!(a_admin.run(mask, &[]).0.status, Status::INVALID_FIELD.with_dnr());
    mask.cdw[1] = 1 << 1;
    mask.nsid = 9;
    assert_eq!(a_admin.run(mask, &[]).0.status, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr());
    mask.nsid = 1;
    assert!(a_admin.run(mask, &[]).0.status.is_success());
    let mut get = Sqe::new(admin_opcode::GET_FEATURES, 0);
    get.cdw[0] = 0x82;
    get.nsid = 1;
    assert_eq!(a_admin.run(get, &[]).0.dw0, 1 << 1);
    assert!(register(&mut a, 0xAA).is_success());
    assert!(b.status_of(preempt()).is_success());
    a_admin.conn.tick(a_admin.now);
    assert!(a_admin.pdus().is_empty(), "masked: no event");
    assert_eq!(notif_log(&mut a_admin, false).0, 0, "masked: no page");

    // Host Identifier: read with EXHID, never set.
    let mut hostid = Sqe::new(admin_opcode::GET_FEATURES, 0);
    hostid.cdw[0] = 0x81;
    hostid.set_sgl(SglDescriptor::transport(16));
    assert_eq!(a_admin.run(hostid, &[]).0.status, Status::INVALID_FIELD.with_dnr(), "no EXHID");
    hostid.cdw[1] = 1;
    assert_eq!(a_admin.run(hostid, &[]).1, [0xA; 16]);
    let mut set = Sqe::new(admin_opcode::SET_FEATURES, 0);
    set.cdw[0] = 0x81;
    assert_eq!(a_admin.run(set, &[]).0.status, Status::COMMAND_SEQUENCE_ERROR.with_dnr());

    // Unmasked again (NSID FFFFFFFFh), 70 notices: a controller keeps the newest 64, and
    // the Log Page Count shows the six lost (pages 3 to 8).
    mask.nsid = crate::target::NSID_ALL;
    mask.cdw[1] = 0;
    assert!(a_admin.run(mask, &[]).0.status.is_success());
    use crate::reservation::{Host, Notice, NoticeKind};
    let host = Host::new([0xA; 16], HOST.into());
    let released = Notice { host, kind: NoticeKind::ReservationReleased };
    for _ in 0..70 {
        t.reservation_notices(SUB, 1, std::slice::from_ref(&released));
    }
    assert_eq!(notif_log(&mut a_admin, false), (9, 2, 63, 1));
}

impl H {
    /// Reads the Reservation Notification log (80h), `rae`: RAE set; the page's (Log Page
    /// Count, type, Number of Available Log Pages, NSID).
    fn reservation_log(&mut self, rae: bool) -> (u64, u8, u8, u32) {
        let mut s = log_page(0x80, 64);
        s.cdw[0] |= u32::from(rae) << 15;
        let (c, page) = self.run(s, &[]);
        assert!(c.status.is_success(), "{c:?}");
        let count = u64::from_le_bytes(page[0..8].try_into().unwrap());
        (count, page[8], page[9], u32::from_le_bytes(page[12..16].try_into().unwrap()))
    }
}

/// NVMe Base 2.x §5.16.1.24: each read of the Reservation Notification log returns the
/// oldest page and removes it; RAE decides only whether the notice stays masked (as
/// Linux's nvmet and SPDK do). A read with RAE clear that leaves pages announces them.
#[test]
fn a_reservation_log_read_takes_its_page_whatever_rae_says() {
    use crate::reservation::{Host, Notice, NoticeKind};
    let t = target();
    let (mut admin, _io) = host_queues(&t, [0xA; 16]);
    let (aer, answered) = admin.send_aer();
    assert!(answered.is_empty());
    let host = Host::new([0xA; 16], HOST.into());
    let released = Notice { host, kind: NoticeKind::ReservationReleased };
    t.reservation_notices(SUB, 1, &[released.clone(), released.clone()]);
    let p = admin.events();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.dw0), (aer, 0x0080_0006));
    let (_, answered) = admin.send_aer();
    assert!(answered.is_empty(), "masked until the log is read");
    assert_eq!(admin.reservation_log(true), (1, 2, 1, 1), "the oldest page");
    assert_eq!(admin.reservation_log(true), (2, 2, 0, 1), "the next: the first was taken");
    t.reservation_notices(SUB, 1, &[released.clone(), released.clone()]);
    assert!(admin.events().is_empty(), "RAE kept the notice masked");
    assert_eq!(admin.reservation_log(false), (3, 2, 1, 1));
    let p = admin.events();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("a page is left: {p:?}") };
    assert_eq!(c.dw0, 0x0080_0006);
    assert_eq!(admin.reservation_log(false), (4, 2, 0, 1));
    // A page read (RAE set) before it was announced leaves nothing to announce.
    t.reservation_notices(SUB, 1, &[released]);
    assert_eq!(admin.reservation_log(true), (5, 2, 0, 1));
    let (_, answered) = admin.send_aer();
    assert!(answered.is_empty(), "all read: {answered:?}");
    assert!(admin.events().is_empty(), "all read");
    assert_eq!(admin.reservation_log(false), (0, 0, 0, 0), "empty");
}

/// The CIDs completed among `pdus` (a response capsule, or a C2HData PDU with SUCCESS).
fn completed(pdus: &[Pdu]) -> Vec<u16> {
    pdus.iter()
        .filter_map(|p| match p {
            Pdu::CapsuleResp(c) => Some(c.cid),
            Pdu::C2HData(d) if d.header.success => Some(d.header.cccid),
            _ => None,
        })
        .collect()
}

/// A volume's rate limit (virtual time): commands past it wait in the connection, in
/// order, and go when its bucket refills; another namespace's commands on the same queue
/// do not wait; a waiting command's CID stays taken; lifting the limit lets the rest go.
#[test]
fn a_rate_limited_volume_holds_its_commands_back_in_order() {
    use crate::rate_limit::RateLimit;
    let t = target();
    let other = Arc::new(Volume::ram("other", 512, 1 << 20).unwrap());
    t.add_namespace(SUB, 2, other, [1; 16], [2; 16]).unwrap();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let limited = t.namespace(SUB, 1).unwrap().volume.clone();
    limited.set_rate_limit(RateLimit { iops: 10, bytes_per_second: 0 }, q.now);
    assert_eq!(limited.rate_limit().iops, 10);
    // Five reads at once: the bucket holds a tenth of a second at 10/s, one command.
    let first = q.cid + 1;
    let mut done = Vec::new();
    for _ in 0..5 {
        done.extend(completed(&q.cmd(rw(io_opcode::READ, 0, 1, 512), &[])));
    }
    assert_eq!(done, [first]);
    assert_eq!(q.conn.next_release(), Some(q.now + Duration::from_millis(100)));
    let mut elsewhere = rw(io_opcode::READ, 0, 1, 512);
    elsewhere.nsid = 2;
    assert_eq!(completed(&q.cmd(elsewhere, &[])), [first + 5], "namespace 2 is not limited");
    let mut conflict = rw(io_opcode::READ, 0, 1, 512);
    conflict.cid = first + 1;
    q.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: conflict, data: Bytes::new() }));
    let p = q.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.status), (first + 1, Status::COMMAND_ID_CONFLICT.with_dnr()));

    // A tenth of a second later, the next one; early ticks release nothing.
    q.conn.tick(q.now + Duration::from_millis(50));
    assert!(completed(&q.pdus()).is_empty());
    q.now += Duration::from_millis(100);
    q.conn.tick(q.now);
    assert_eq!(completed(&q.pdus()), [first + 1]);
    // Without the limit, the rest go at the next tick, in order.
    limited.set_rate_limit(RateLimit::default(), q.now);
    q.conn.tick(q.now);
    assert_eq!(completed(&q.pdus()), [first + 2, first + 3, first + 4]);
    assert_eq!(q.conn.next_release(), None);
    assert_eq!(t.namespace(SUB, 1).unwrap().stats.snapshot().throttled, 4, "four waited");
    assert_eq!(t.namespace(SUB, 2).unwrap().stats.snapshot().throttled, 0);
}

/// A write whose data comes by R2T on a rate-limited volume (virtual time): its R2T waits
/// for the limit, so the host keeps its data until then; once it has come, the command
/// runs without waiting again (it was charged once).
#[test]
fn a_rate_limited_write_asks_for_its_data_when_the_limit_lets_it_through() {
    use crate::rate_limit::RateLimit;
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let limited = t.namespace(SUB, 1).unwrap().volume.clone();
    limited.set_rate_limit(RateLimit { iops: 10, bytes_per_second: 0 }, q.now);
    // Two 16 KiB writes by R2T; the bucket holds one command.
    let mut r2ts = Vec::new();
    for _ in 0..2 {
        q.cid += 1;
        let mut w = rw(io_opcode::WRITE, 0, 32, 16384);
        w.cid = q.cid;
        q.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: w, data: Bytes::new() }));
        r2ts.extend(q.pdus());
    }
    let [Pdu::R2t(first)] = r2ts.as_slice() else { panic!("{r2ts:?}") };
    assert_eq!(first.cccid, q.cid - 1, "only the first write's data is asked for");
    let data = |r: &R2t, q: &H| {
        let h =
            DataPduHeader { cccid: r.cccid, ttag: r.ttag, datao: 0, last: true, success: false };
        let mut out = Vec::new();
        encode_h2c_data(&h, &[0x77; 16384], &q.framing, &mut out).unwrap();
        out
    };
    q.conn.receive(&data(first, &q), q.now);
    assert_eq!(completed(&q.pdus()), [first.cccid], "charged before its R2T, not again");
    // A tenth of a second later, the second write's R2T.
    q.now += Duration::from_millis(100);
    q.conn.tick(q.now);
    let p = q.pdus();
    let [Pdu::R2t(second)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((second.cccid, second.r2tl), (q.cid, 16384));
    q.conn.receive(&data(second, &q), q.now);
    assert_eq!(completed(&q.pdus()), [q.cid]);
    assert_eq!(q.conn.next_release(), None);
    assert_eq!(t.namespace(SUB, 1).unwrap().stats.snapshot().throttled, 1);
    limited.set_rate_limit(RateLimit::default(), q.now);
    let (c, d) = q.run(rw(io_opcode::READ, 0, 32, 16384), &[]);
    assert!(c.status.is_success() && d == [0x77; 16384]);
}

/// Commands a rate limit held on a queue whose controller the target ended meanwhile
/// (its admin connection lost): the queue's tick closes it before any runs. The first to
/// run would close the queue, which gives back what it took from the target-wide write
/// budget once; a later held write must then take nothing more and ask for no data.
#[test]
fn held_commands_of_an_ended_controller_take_no_write_budget() {
    use crate::rate_limit::RateLimit;
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 0);
    let budget = WriteBudget::new(8 * MDTS as usize);
    let mut q = io_sharing(&t, cntlid, 1, &budget);
    // One R2T outstanding: a further one would take from the budget.
    let asked = write_asking(&mut q, 1).expect("nothing asked for: it goes");
    assert_eq!(asked.cccid, 1);
    let limited = t.namespace(SUB, 1).unwrap().volume.clone();
    limited.set_rate_limit(RateLimit { iops: 20, bytes_per_second: 0 }, q.now);
    // The bucket holds two commands: two in-capsule writes take them.
    q.cid = 1;
    for _ in 0..2 {
        let mut w = rw(io_opcode::WRITE, 0, 1, 0);
        w.set_sgl(SglDescriptor::in_capsule(512));
        assert_eq!(completed(&q.cmd(w, &[0x55; 512])).len(), 1);
    }
    // Held: an in-capsule write, then a write by R2T.
    let mut w = rw(io_opcode::WRITE, 0, 1, 0);
    w.set_sgl(SglDescriptor::in_capsule(512));
    q.submit(w, &[0x66; 512]);
    assert_eq!(write_asking(&mut q, 9), None, "held by the limit");
    assert!(q.conn.next_release().is_some());
    admin.conn.shutdown();
    q.now += Duration::from_secs(1);
    q.conn.tick(q.now);
    assert_eq!(q.conn.is_closed(), Some(&CloseReason::ControllerGone));
    assert!(q.pdus().is_empty(), "no R2T, no completion on the closed queue");
    drop(q);
    assert_eq!(budget.taken(), 0, "the budget got back all the queue took");
    limited.set_rate_limit(RateLimit::default(), admin.now);
}

// ---- In-band authentication (DH-HMAC-CHAP) ----

mod dhchap_auth {
    use dpu_nvmf_proto::auth::{
        AuthMessage, AuthTransfer, Challenge, Failure, Negotiate, Reply, Success1, dh_group,
        failure, hash,
    };
    use dpu_nvmf_proto::fabrics::CONNECT_AUTHREQ_ATR;

    use super::*;
    use crate::auth::HostSecrets;
    use crate::dhchap::{self, Exchange, Secret};

    fn secret(byte: u8) -> Secret {
        Secret::new(&[byte; 32], 0).unwrap()
    }

    /// [`target`] where HOST must authenticate with `secret(1)` (and, with `ctrl`, may
    /// ask the controller to prove `secret(2)`).
    fn target_with_secret(ctrl: bool) -> Arc<Target> {
        let t = target();
        let s =
            HostSecrets { host: secret(1), ctrl: ctrl.then(|| secret(2)), dh_group: 0, hash: 0 };
        t.set_host_secrets(SUB, BTreeMap::from([(HOST.to_owned(), Arc::new(s))])).unwrap();
        t
    }

    fn negotiate(tid: u16) -> Vec<u8> {
        AuthMessage::Negotiate(Negotiate {
            tid,
            sc_c: 0,
            hashes: vec![hash::SHA256, hash::SHA384, hash::SHA512],
            dh_groups: vec![dh_group::NULL, dh_group::FFDHE2048],
        })
        .to_bytes()
    }

    impl H {
        fn auth_send(&mut self, msg: &[u8]) -> Cqe {
            self.run(AuthTransfer::dhchap(msg.len() as u32).to_send_sqe(0), msg).0
        }

        fn auth_receive(&mut self, al: u32) -> AuthMessage {
            let mut sqe = AuthTransfer::dhchap(al).to_receive_sqe(0);
            sqe.set_sgl(SglDescriptor::transport(al));
            let (c, data) = self.run(sqe, &[]);
            assert!(c.status.is_success(), "{c:?}");
            assert_eq!(data.len(), al as usize, "zero-padded to the allocation");
            AuthMessage::parse(&data).unwrap()
        }

        /// Negotiate and Challenge; returns the challenge.
        fn start_auth(&mut self, tid: u16) -> Challenge {
            assert!(self.auth_send(&negotiate(tid)).status.is_success());
            let AuthMessage::Challenge(c) = self.auth_receive(4096) else { panic!() };
            c
        }

        /// The Reply to `c` with the host key `host`; asks for the controller's proof
        /// with (C2, S2) when given.
        fn reply(&mut self, c: &Challenge, host: &Secret, c2: Option<(&[u8], u32)>) -> Cqe {
            self.reply_dh(c, host, c2, Vec::new(), None)
        }

        /// [`reply`](Self::reply) with our DH value and the session key that augments C1.
        fn reply_dh(
            &mut self,
            c: &Challenge,
            host: &Secret,
            c2: Option<(&[u8], u32)>,
            dh_value: Vec<u8>,
            session_key: Option<&[u8]>,
        ) -> Cqe {
            let c1 = match session_key {
                Some(ks) => dhchap::augmented_challenge(c.hash, ks, &c.challenge).unwrap(),
                None => c.challenge.clone(),
            };
            let x =
                Exchange { hash: c.hash, challenge: &c1, seqnum: c.seqnum, tid: c.tid, sc_c: 0 };
            let response = dhchap::host_response(&x, host, HOST, SUB).unwrap();
            let hl = response.len();
            let reply = AuthMessage::Reply(Reply {
                tid: c.tid,
                response,
                challenge_valid: c2.is_some(),
                seqnum: c2.map_or(0, |(_, s)| s),
                challenge: c2.map_or(vec![0; hl], |(c, _)| c.to_vec()),
                dh_value,
            });
            self.auth_send(&reply.to_bytes())
        }

        fn authenticate(&mut self, tid: u16) {
            let c = self.start_auth(tid);
            assert!(self.reply(&c, &secret(1), None).status.is_success());
            let AuthMessage::Success1(s) = self.auth_receive(4096) else { panic!() };
            assert_eq!((s.tid, s.hash_len, s.response), (tid, 32, None));
        }

        fn expect_failure1(&mut self, explanation: u8) {
            let m = self.auth_receive(4096);
            let AuthMessage::Failure1(f) = m else { panic!("{m:?}") };
            assert_eq!((f.reason, f.explanation), (failure::REASON_FAILED, explanation));
            assert_eq!(self.conn.is_closed(), Some(&CloseReason::AuthFailed));
        }
    }

    fn property_get(offset: u32) -> Sqe {
        PropertyGetCmd { eight_bytes: offset == property::CAP, offset }.to_sqe(0)
    }

    #[test]
    fn a_host_with_a_secret_authenticates_every_queue_before_using_it() {
        let t = target_with_secret(false);
        let mut a = H::new(&t, false, false);
        let c = a.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        assert!(c.status.is_success());
        assert_ne!(c.dw0 & CONNECT_AUTHREQ_ATR, 0, "AUTHREQ ATR in the Connect response");
        let cntlid = c.dw0 as u16;
        // Nothing but authentication before it succeeds: no property, no admin command.
        let required = Status::AUTH_REQUIRED.with_dnr();
        assert_eq!(a.run(property_get(property::CAP), &[]).0.status, required);
        assert_eq!(a.run(identify(1, 0), &[]).0.status, required);
        a.authenticate(1);
        assert!(a.conn.is_closed().is_none());
        a.enable();
        assert!(a.run(identify(1, 0), &[]).0.status.is_success());
        // An I/O queue authenticates on its own: a write before it is refused without
        // an R2T (no data moves), after it works.
        let mut q = H::new(&t, false, false);
        let c = q.connect(SUB, 1, cntlid, 0, 0);
        assert_ne!(c.dw0 & CONNECT_AUTHREQ_ATR, 0);
        let pdus = q.cmd(rw(io_opcode::WRITE, 0, 8, 4096), &[]);
        let [Pdu::CapsuleResp(c)] = pdus.as_slice() else { panic!("{pdus:?}") };
        assert_eq!(c.status, required);
        q.authenticate(7);
        let (c, _) = q.run(rw(io_opcode::WRITE, 0, 1, 512), &[0x5A; 512]);
        assert!(c.status.is_success(), "{c:?}");
        // Re-authentication: the queue stays usable while a new transaction runs.
        let again = q.start_auth(8);
        assert!(q.run(rw(io_opcode::READ, 0, 1, 512), &[]).0.status.is_success());
        assert!(q.reply(&again, &secret(1), None).status.is_success());
        assert!(matches!(q.auth_receive(64), AuthMessage::Success1(_)));
        // A host without a secret is not asked to authenticate.
        t.set_host_secrets(SUB, BTreeMap::new()).unwrap();
        let mut plain = H::new(&t, false, false);
        let c = plain.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        assert_eq!(c.dw0 & CONNECT_AUTHREQ_ATR, 0);
        let pdus = plain.cmd(AuthTransfer::dhchap(72).to_send_sqe(0), &negotiate(1));
        let [Pdu::CapsuleResp(c)] = pdus.as_slice() else { panic!() };
        assert_eq!(c.status, Status::INVALID_OPCODE.with_dnr());
        assert!(t.controller_count(SUB) >= 2);
    }

    #[test]
    fn a_rotated_secret_takes_effect_when_the_host_authenticates_again() {
        let t = target_with_secret(false);
        let (mut a, cntlid) = {
            let mut h = H::new(&t, false, false);
            let c = h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
            h.authenticate(1);
            h.enable();
            (h, c.dw0 as u16)
        };
        // The operator rotates the host's secret: the queue stays authenticated.
        let rotated = HostSecrets { host: secret(3), ctrl: None, dh_group: 0, hash: 0 };
        t.set_host_secrets(SUB, BTreeMap::from([(HOST.to_owned(), Arc::new(rotated))])).unwrap();
        assert!(a.run(identify(1, 0), &[]).0.status.is_success());
        // Re-authentication with the new secret works on the same controller.
        let c = a.start_auth(2);
        assert!(a.reply(&c, &secret(3), None).status.is_success());
        assert!(matches!(a.auth_receive(64), AuthMessage::Success1(_)));
        // A new I/O queue of the controller must use it too; the old one fails.
        let mut q = H::new(&t, false, false);
        q.connect(SUB, 1, cntlid, 0, 0);
        let c = q.start_auth(1);
        q.reply(&c, &secret(1), None);
        q.expect_failure1(failure::FAILED);
        let mut q = H::new(&t, false, false);
        q.connect(SUB, 1, cntlid, 0, 0);
        let c = q.start_auth(1);
        assert!(q.reply(&c, &secret(3), None).status.is_success());
        assert!(matches!(q.auth_receive(64), AuthMessage::Success1(_)));
    }

    #[test]
    fn bidirectional_authentication_proves_the_controller() {
        let t = target_with_secret(true);
        let mut a = H::new(&t, false, false);
        a.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        let c = a.start_auth(3);
        assert_eq!((c.hash, c.dh_group, c.challenge.len()), (hash::SHA256, 0, 32));
        assert_ne!(c.seqnum, 0);
        let c2 = [0x42u8; 32];
        assert!(a.reply(&c, &secret(1), Some((&c2, 99))).status.is_success());
        // Not authenticated until Success2.
        assert_eq!(
            a.run(property_get(property::VS), &[]).0.status,
            Status::AUTH_REQUIRED.with_dnr()
        );
        let AuthMessage::Success1(Success1 { response: Some(r2), .. }) = a.auth_receive(4096)
        else {
            panic!()
        };
        let x = Exchange { hash: hash::SHA256, challenge: &c2, seqnum: 99, tid: 3, sc_c: 0 };
        assert_eq!(dhchap::controller_response(&x, &secret(2), SUB, HOST).unwrap(), r2);
        let ok = a.auth_send(&AuthMessage::Success2 { tid: 3 }.to_bytes());
        assert!(ok.status.is_success());
        assert!(a.run(property_get(property::VS), &[]).0.status.is_success());
        // A host that finds the controller's answer wrong ends it with Failure2.
        let mut b = H::new(&t, false, false);
        b.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        let c = b.start_auth(4);
        b.reply(&c, &secret(1), Some((&c2, 5)));
        assert!(matches!(b.auth_receive(4096), AuthMessage::Success1(_)));
        let f = Failure { tid: 4, reason: 1, explanation: failure::FAILED };
        assert!(b.auth_send(&AuthMessage::Failure2(f).to_bytes()).status.is_success());
        assert_eq!(b.conn.is_closed(), Some(&CloseReason::AuthFailed));
    }

    #[test]
    fn a_wrong_secret_fails_and_closes_the_queue() {
        let t = target_with_secret(false);
        let mut h = H::new(&t, false, false);
        h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        let c = h.start_auth(1);
        assert!(h.reply(&c, &secret(9), None).status.is_success());
        h.expect_failure1(failure::FAILED);
        assert_eq!(t.stats.auth_failures.load(Ordering::Relaxed), 1);
        assert_eq!(t.controller_count(SUB), 0, "the admin queue's controller went with it");
        // Bidirectional asked of a controller without a secret of its own: failure.
        let mut h = H::new(&t, false, false);
        h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        let c = h.start_auth(1);
        h.reply(&c, &secret(1), Some((&[1; 32], 7)));
        h.expect_failure1(failure::FAILED);
    }

    /// A failed step is final: a new Negotiate gives the host no second guess on the
    /// queue, and a queue whose re-authentication failed runs nothing more, before its
    /// host has read the Failure1 (which it need never do).
    #[test]
    fn a_failed_transaction_is_not_restarted_and_ends_the_queues_authentication() {
        let t = target_with_secret(false);
        let mut h = H::new(&t, false, false);
        h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        let c = h.start_auth(1);
        assert!(h.reply(&c, &secret(9), None).status.is_success());
        assert!(h.auth_send(&negotiate(2)).status.is_success());
        h.expect_failure1(failure::FAILED);
        // Other failures likewise keep their explanation through a later Negotiate.
        let mut h = H::new(&t, false, false);
        h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        assert!(h.auth_send(&AuthMessage::Success2 { tid: 0 }.to_bytes()).status.is_success());
        assert!(h.auth_send(&negotiate(1)).status.is_success());
        h.expect_failure1(failure::INCORRECT_MESSAGE);
        // Re-authentication with a wrong secret on an authenticated, enabled queue older
        // than the deadline of a queue that never authenticated.
        let failed_reauthentication = || {
            let mut h = H::new(&t, false, false);
            h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
            h.authenticate(1);
            h.enable();
            assert!(h.run(identify(1, 0), &[]).0.status.is_success());
            h.now += Duration::from_secs(31);
            h.conn.tick(h.now);
            let c = h.start_auth(2);
            assert!(h.reply(&c, &secret(9), None).status.is_success());
            h
        };
        let mut h = failed_reauthentication();
        let required = Status::AUTH_REQUIRED.with_dnr();
        assert_eq!(h.run(identify(1, 0), &[]).0.status, required);
        assert_eq!(h.run(property_get(property::CSTS), &[]).0.status, required);
        assert!(h.auth_send(&negotiate(3)).status.is_success());
        assert_eq!(h.run(identify(1, 0), &[]).0.status, required);
        // Its host has the deadline from the failure to read its Failure1 ...
        h.conn.tick(h.now);
        assert!(h.conn.is_closed().is_none());
        h.expect_failure1(failure::FAILED);
        // ... and a host that never reads it loses the queue (and its controller place)
        // at the deadline.
        let mut h = failed_reauthentication();
        h.conn.tick(h.now);
        h.now += Duration::from_secs(29);
        h.conn.tick(h.now);
        assert!(h.conn.is_closed().is_none());
        h.now += Duration::from_secs(2);
        h.conn.tick(h.now);
        assert_eq!(h.conn.is_closed(), Some(&CloseReason::AuthTimeout));
    }

    /// As nvmet checks it, a Receive's transfer (its SGL) is its allocation length: one
    /// that takes less, or nothing, fails and leaves the transaction where it was.
    #[test]
    fn a_receive_whose_transfer_is_not_its_allocation_changes_nothing() {
        let t = target_with_secret(false);
        let mut h = H::new(&t, false, false);
        h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        assert!(h.auth_send(&negotiate(1)).status.is_success());
        for transfer in [0, 48, 8192] {
            let mut r = AuthTransfer::dhchap(4096).to_receive_sqe(0);
            r.set_sgl(SglDescriptor::transport(transfer));
            let (c, data) = h.run(r, &[]);
            assert_eq!(c.status, Status::DATA_SGL_LENGTH_INVALID.with_dnr(), "{transfer}");
            assert!(data.is_empty());
        }
        let AuthMessage::Challenge(c) = h.auth_receive(4096) else { panic!() };
        assert!(h.reply(&c, &secret(1), None).status.is_success());
        assert!(matches!(h.auth_receive(4096), AuthMessage::Success1(_)));
        assert!(h.conn.is_closed().is_none());
    }

    #[test]
    fn malformed_and_out_of_order_messages_are_refused() {
        let t = target_with_secret(false);
        let fresh = || {
            let mut h = H::new(&t, false, false);
            h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
            h
        };
        // Command fields: wrong SECP, SPSP, zero length, data length other than TL.
        let mut h = fresh();
        for bad in [
            AuthTransfer { secp: 0xEA, ..AuthTransfer::dhchap(72) },
            AuthTransfer { spsp0: 0, ..AuthTransfer::dhchap(72) },
            AuthTransfer { spsp1: 2, ..AuthTransfer::dhchap(72) },
        ] {
            let c = h.run(bad.to_send_sqe(0), &negotiate(1)).0;
            assert_eq!(c.status, Status::INVALID_FIELD.with_dnr());
            let c = h.run(bad.to_receive_sqe(0), &[]).0;
            assert_eq!(c.status, Status::INVALID_FIELD.with_dnr());
        }
        let c = h.run(AuthTransfer::dhchap(80).to_send_sqe(0), &negotiate(1)).0;
        assert_eq!(c.status, Status::DATA_SGL_LENGTH_INVALID.with_dnr());
        // None of that changed anything: the transaction still starts cleanly.
        h.authenticate(1);
        // A Challenge that does not fit the host's allocation is refused, the step kept.
        let mut h = fresh();
        assert!(h.auth_send(&negotiate(1)).status.is_success());
        let mut small = AuthTransfer::dhchap(16).to_receive_sqe(0);
        small.set_sgl(SglDescriptor::transport(16));
        assert_eq!(h.run(small, &[]).0.status, Status::INVALID_FIELD.with_dnr());
        assert!(matches!(h.auth_receive(48), AuthMessage::Challenge(_)));
        // Each of these ends in Failure1 with its explanation and a closed queue.
        let cases: Vec<(Vec<u8>, u8)> = vec![
            (vec![0xFF; 20], failure::INCORRECT_PAYLOAD),
            (AuthMessage::Success2 { tid: 1 }.to_bytes(), failure::INCORRECT_MESSAGE),
            (
                AuthMessage::Negotiate(Negotiate {
                    tid: 1,
                    sc_c: 1,
                    hashes: vec![1],
                    dh_groups: vec![0],
                })
                .to_bytes(),
                failure::CONCAT_MISMATCH,
            ),
            (
                AuthMessage::Negotiate(Negotiate {
                    tid: 1,
                    sc_c: 0,
                    hashes: vec![9],
                    dh_groups: vec![0],
                })
                .to_bytes(),
                failure::HASH_UNUSABLE,
            ),
            (
                AuthMessage::Negotiate(Negotiate {
                    tid: 1,
                    sc_c: 0,
                    hashes: vec![1],
                    dh_groups: vec![1, 2],
                })
                .to_bytes(),
                failure::DHGROUP_UNUSABLE,
            ),
        ];
        for (msg, explanation) in cases {
            let mut h = fresh();
            assert!(h.auth_send(&msg).status.is_success());
            h.expect_failure1(explanation);
        }
        // A Reply for another transaction, or with a DH value under the NULL group.
        let mut h = fresh();
        let c = h.start_auth(1);
        h.reply(&Challenge { tid: 2, ..c }, &secret(1), None);
        h.expect_failure1(failure::INCORRECT_PAYLOAD);
        let mut h = fresh();
        let c = h.start_auth(1);
        let reply = AuthMessage::Reply(Reply {
            tid: 1,
            response: vec![0; 32],
            challenge_valid: false,
            seqnum: 0,
            challenge: vec![0; 32],
            dh_value: vec![1; 8],
        });
        assert_eq!(c.tid, 1);
        h.auth_send(&reply.to_bytes());
        h.expect_failure1(failure::INCORRECT_PAYLOAD);
        // A Receive where the host should be sending.
        let mut h = fresh();
        h.expect_failure1(failure::FAILED);
        assert_eq!(t.stats.auth_failures.load(Ordering::Relaxed), 8);
    }

    #[test]
    fn an_ffdhe_group_adds_an_exchange_that_augments_both_challenges() {
        let t = target();
        let secrets = HostSecrets {
            host: secret(1),
            ctrl: Some(secret(2)),
            dh_group: dh_group::FFDHE2048,
            hash: 0,
        };
        t.set_host_secrets(SUB, BTreeMap::from([(HOST.to_owned(), Arc::new(secrets))])).unwrap();
        let group = crate::dhchap::DhGroup::get(dh_group::FFDHE2048).unwrap();
        let fresh = || {
            let mut h = H::new(&t, false, false);
            h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
            h
        };
        // Both directions, with the session key both sides derive.
        let mut h = fresh();
        let c = h.start_auth(1);
        assert_eq!((c.dh_group, c.dh_value.len()), (dh_group::FFDHE2048, 256));
        let ours = group.generate().unwrap();
        let ks = ours.session_key(&c.dh_value).unwrap();
        let c2 = [0x33u8; 32];
        let st = h.reply_dh(&c, &secret(1), Some((&c2, 9)), ours.public.clone(), Some(&ks));
        assert!(st.status.is_success());
        let AuthMessage::Success1(Success1 { response: Some(r2), .. }) = h.auth_receive(4096)
        else {
            panic!()
        };
        let c2a = dhchap::augmented_challenge(hash::SHA256, &ks, &c2).unwrap();
        let x = Exchange { hash: hash::SHA256, challenge: &c2a, seqnum: 9, tid: 1, sc_c: 0 };
        assert_eq!(dhchap::controller_response(&x, &secret(2), SUB, HOST).unwrap(), r2);
        assert!(h.auth_send(&AuthMessage::Success2 { tid: 1 }.to_bytes()).status.is_success());
        h.enable();
        // The plain challenge is not enough once a group is in use.
        let mut h = fresh();
        let c = h.start_auth(1);
        let ours = group.generate().unwrap();
        h.reply_dh(&c, &secret(1), None, ours.public.clone(), None);
        h.expect_failure1(failure::FAILED);
        // A host that does not offer the group, one that sends no DH value, one whose
        // value is outside 2..p-2.
        let mut h = fresh();
        let only_null = AuthMessage::Negotiate(Negotiate {
            tid: 1,
            sc_c: 0,
            hashes: vec![hash::SHA256],
            dh_groups: vec![dh_group::NULL],
        });
        h.auth_send(&only_null.to_bytes());
        h.expect_failure1(failure::DHGROUP_UNUSABLE);
        let mut h = fresh();
        let c = h.start_auth(1);
        h.reply(&c, &secret(1), None);
        h.expect_failure1(failure::INCORRECT_PAYLOAD);
        let mut h = fresh();
        let c = h.start_auth(1);
        let mut one = vec![0u8; 256];
        one[255] = 1;
        h.reply_dh(&c, &secret(1), None, one, None);
        h.expect_failure1(failure::DHGROUP_UNUSABLE);
        // An unknown group is refused when the secrets are read.
        let e = HostSecrets::parse(&secret(1).to_text(), "", 6, 0).unwrap_err();
        assert_eq!(e.0, "dh_group");
    }

    /// §8.3.4.5.2: the controller picks the hash from the host's list; an operator's
    /// hash must be among them (as nvmet's dhchap_hash), else the transaction fails.
    #[test]
    fn the_operators_hash_is_used_when_the_host_offers_it() {
        let t = target();
        let s = HostSecrets { host: secret(1), ctrl: None, dh_group: 0, hash: hash::SHA512 };
        t.set_host_secrets(SUB, BTreeMap::from([(HOST.to_owned(), Arc::new(s))])).unwrap();
        let mut a = H::new(&t, false, false);
        a.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        let c = a.start_auth(1);
        assert_eq!((c.hash, c.challenge.len()), (hash::SHA512, 64), "not the host's first");
        assert!(a.reply(&c, &secret(1), None).status.is_success());
        assert!(matches!(a.auth_receive(64), AuthMessage::Success1(_)));
        assert!(a.run(property_get(property::VS), &[]).0.status.is_success());
        let mut b = H::new(&t, false, false);
        b.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        let sha256_only = AuthMessage::Negotiate(Negotiate {
            tid: 2,
            sc_c: 0,
            hashes: vec![hash::SHA256],
            dh_groups: vec![dh_group::NULL],
        });
        b.auth_send(&sha256_only.to_bytes());
        b.expect_failure1(failure::HASH_UNUSABLE);
        let e = HostSecrets::parse(&secret(1).to_text(), "", 0, 4).unwrap_err();
        assert_eq!(e.0, "hash");
    }

    /// Decodes what the connection has sent so far, without running its I/O or DH.
    fn sent(h: &mut H) -> Vec<Pdu> {
        h.dec.feed(&h.conn.take_output());
        std::iter::from_fn(|| h.dec.decode().unwrap()).collect()
    }

    /// A queue of HOST (ffdhe2048) after its Negotiate, with the Receive for the
    /// Challenge sent; returns it and the Receive's CID.
    fn awaiting_challenge(t: &Arc<Target>) -> (H, u16) {
        let mut h = H::new(t, false, false);
        h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        assert!(h.auth_send(&negotiate(1)).status.is_success());
        let mut recv = AuthTransfer::dhchap(4096).to_receive_sqe(0);
        recv.set_sgl(SglDescriptor::transport(4096));
        let cid = h.submit(recv, &[]);
        (h, cid)
    }

    #[test]
    fn dh_computations_leave_the_connection_and_park_their_command() {
        let t = target();
        let secrets =
            HostSecrets { host: secret(1), ctrl: None, dh_group: dh_group::FFDHE2048, hash: 0 };
        t.set_host_secrets(SUB, BTreeMap::from([(HOST.to_owned(), Arc::new(secrets))])).unwrap();
        // The Receive for the Challenge asks for our key pair and answers nothing yet.
        let (mut h, receive_cid) = awaiting_challenge(&t);
        let req = h.conn.poll_dh().expect("a key pair to make");
        assert!(matches!(req.job, crate::auth::DhJob::Generate(_)), "{req:?}");
        assert!(h.conn.poll_dh().is_none() && sent(&mut h).is_empty());
        // Meanwhile another authentication command is refused and changes nothing, and
        // the CID of the waiting command is taken.
        let c = h.auth_send(&negotiate(1));
        assert_eq!(c.status, Status::COMMAND_SEQUENCE_ERROR.with_dnr(), "{c:?}");
        let mut dup = AuthTransfer::dhchap(4096).to_receive_sqe(0);
        dup.cid = receive_cid;
        h.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: dup, data: Bytes::new() }));
        assert!(sent(&mut h).iter().all(|p| !matches!(p, Pdu::C2HData(_))));
        h.conn.complete_dh(req.tag + (1 << 16), req.job.failed());
        assert!(sent(&mut h).is_empty(), "a stale tag answers nothing");
        // The key pair answers the Receive with the Challenge.
        h.conn.complete_dh(req.tag, req.job.run());
        let data: Vec<u8> = sent(&mut h)
            .into_iter()
            .flat_map(|p| match p {
                Pdu::C2HData(d) => {
                    assert_eq!(d.header.cccid, receive_cid);
                    d.data.to_vec()
                }
                Pdu::CapsuleResp(c) => {
                    assert!(c.cid == receive_cid && c.status.is_success(), "{c:?}");
                    Vec::new()
                }
                other => panic!("{other:?}"),
            })
            .collect();
        let AuthMessage::Challenge(c) = AuthMessage::parse(&data).unwrap() else { panic!() };
        assert_eq!((c.dh_group, c.dh_value.len()), (dh_group::FFDHE2048, 256));
        // The Reply waits for the session key likewise, then authenticates the queue.
        let group = crate::dhchap::DhGroup::get(dh_group::FFDHE2048).unwrap();
        let ours = group.generate().unwrap();
        let ks = ours.session_key(&c.dh_value).unwrap();
        let c1 = dhchap::augmented_challenge(c.hash, &ks, &c.challenge).unwrap();
        let x = Exchange { hash: c.hash, challenge: &c1, seqnum: c.seqnum, tid: 1, sc_c: 0 };
        let reply = AuthMessage::Reply(Reply {
            tid: 1,
            response: dhchap::host_response(&x, &secret(1), HOST, SUB).unwrap(),
            challenge_valid: false,
            seqnum: 0,
            challenge: vec![0; 32],
            dh_value: ours.public.clone(),
        })
        .to_bytes();
        h.submit(AuthTransfer::dhchap(reply.len() as u32).to_send_sqe(0), &reply);
        let req = h.conn.poll_dh().expect("a session key to compute");
        assert!(matches!(req.job, crate::auth::DhJob::Agree(..)) && sent(&mut h).is_empty());
        h.conn.complete_dh(req.tag, req.job.run());
        let [Pdu::CapsuleResp(c)] = &sent(&mut h)[..] else { panic!() };
        assert!(c.status.is_success(), "{c:?}");
        let AuthMessage::Success1(_) = h.auth_receive(4096) else { panic!() };
        h.enable();
        // A computation that could not run fails its command; the next Receive gets the
        // Challenge.
        let (mut h, _) = awaiting_challenge(&t);
        let req = h.conn.poll_dh().unwrap();
        h.conn.complete_dh(req.tag, req.job.failed());
        let [Pdu::CapsuleResp(c)] = &sent(&mut h)[..] else { panic!() };
        assert_eq!(c.status, Status::INTERNAL_ERROR.with_dnr());
        let AuthMessage::Challenge(_) = h.auth_receive(4096) else { panic!() };
    }

    #[test]
    fn a_queue_that_keeps_restarting_gets_three_key_pairs() {
        let t = target();
        let secrets =
            HostSecrets { host: secret(1), ctrl: None, dh_group: dh_group::FFDHE2048, hash: 0 };
        t.set_host_secrets(SUB, BTreeMap::from([(HOST.to_owned(), Arc::new(secrets))])).unwrap();
        let mut h = H::new(&t, false, false);
        h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        for tid in 1..=3 {
            assert_eq!(h.start_auth(tid).dh_value.len(), 256);
        }
        assert!(h.auth_send(&negotiate(4)).status.is_success());
        h.expect_failure1(failure::FAILED);
        // One that authenticated may authenticate again as often as its host asks, each
        // success giving it three more; restarting without completing, it fails as well.
        let mut h = H::new(&t, false, false);
        h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        let group = crate::dhchap::DhGroup::get(dh_group::FFDHE2048).unwrap();
        for tid in 1..=4 {
            let c = h.start_auth(tid);
            let ours = group.generate().unwrap();
            let ks = ours.session_key(&c.dh_value).unwrap();
            let st = h.reply_dh(&c, &secret(1), None, ours.public.clone(), Some(&ks));
            assert!(st.status.is_success());
            let AuthMessage::Success1(_) = h.auth_receive(4096) else { panic!() };
        }
        for tid in 5..=7 {
            assert_eq!(h.start_auth(tid).dh_value.len(), 256);
        }
        assert!(h.auth_send(&negotiate(8)).status.is_success());
        h.expect_failure1(failure::FAILED);
    }

    #[test]
    fn a_queue_that_does_not_authenticate_in_time_is_closed() {
        let t = target_with_secret(false);
        let mut h = H::new(&t, false, false);
        h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        let start = h.now;
        h.conn.tick(start + Duration::from_secs(29));
        assert!(h.conn.is_closed().is_none());
        h.conn.tick(start + Duration::from_secs(31));
        assert_eq!(h.conn.is_closed(), Some(&CloseReason::AuthTimeout));
        // One that did (and then enabled its controller, as a host does) is not.
        let mut h = H::new(&t, false, false);
        h.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        h.authenticate(1);
        h.enable();
        h.conn.tick(start + Duration::from_secs(31));
        assert!(h.conn.is_closed().is_none());
    }

    /// Traffic Based Keep Alive counts only what a queue that has authenticated sends: a
    /// peer that knows the NQNs, Host ID and CNTLID but not the secret can connect an
    /// I/O queue to another host's controller, but neither its Connect, nor the commands
    /// it gets refused, nor its end keep that controller alive once its host is silent.
    #[test]
    fn only_an_authenticated_queue_keeps_the_controller_alive() {
        let t = target_with_secret(true);
        let controller = || {
            let mut a = H::new(&t, false, false);
            let cntlid = a.connect(SUB, 0, CNTLID_DYNAMIC, 2000, 0).dw0 as u16;
            a.authenticate(1);
            a.enable();
            (a, cntlid)
        };
        let (mut a, cntlid) = controller();
        let start = a.now;
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut q = H::new(&t, false, false);
        q.now = at(500);
        assert!(q.connect(SUB, 1, cntlid, 0, 0).status.is_success());
        for s in 1..=3 {
            q.now = at(s * 1000);
            let (c, _) = q.run(rw(io_opcode::READ, 0, 1, 512), &[]);
            assert_eq!(c.status, Status::AUTH_REQUIRED.with_dnr());
            if s == 3 {
                q.conn.shutdown();
            }
            a.conn.tick(at(s * 1000 + 100));
        }
        // KATO 2 s and a granule from the admin queue's last command.
        assert_eq!(a.conn.is_closed(), Some(&CloseReason::KeepAliveExpired));
        // The host's own queue counts once authenticated: its authentication as its
        // Connect would (here bidirectional: it ends with the host's Success2, the last
        // message of the transaction), then its commands.
        let (mut a, cntlid) = controller();
        let start = a.now;
        let at = |ms: u64| start + Duration::from_millis(ms);
        a.conn.tick(at(2_500));
        let mut q = H::new(&t, false, false);
        assert!(q.connect(SUB, 1, cntlid, 0, 0).status.is_success());
        let c = q.start_auth(2);
        assert!(q.reply(&c, &secret(1), Some((&[0x42; 32], 9))).status.is_success());
        assert!(matches!(q.auth_receive(4096), AuthMessage::Success1(_)));
        assert!(q.auth_send(&AuthMessage::Success2 { tid: 2 }.to_bytes()).status.is_success());
        a.conn.tick(at(3_100));
        assert!(a.conn.is_closed().is_none(), "its authentication restarted the timer");
        for s in 4..=8 {
            q.now = at(s * 1000);
            assert!(q.run(rw(io_opcode::READ, 0, 1, 512), &[]).0.status.is_success());
            a.conn.tick(at(s * 1000 + 100));
            assert!(a.conn.is_closed().is_none(), "alive at {s} s on its host's I/O");
        }
    }
    /// An authenticated controller (HOST's admin queue, enabled) and an I/O queue of it
    /// that has authenticated too.
    fn authenticated_io_queue(t: &Arc<Target>) -> (H, H) {
        let mut a = H::new(t, false, false);
        let cntlid = a.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0).dw0 as u16;
        a.authenticate(1);
        a.enable();
        let mut q = H::new(t, false, false);
        assert!(q.connect(SUB, 1, cntlid, 0, 0).status.is_success());
        q.authenticate(2);
        (a, q)
    }

    /// Fails the queue's re-authentication: a new transaction answered with a wrong
    /// secret (the Failure1 not yet read).
    fn fail_reauthentication(q: &mut H, tid: u16) {
        let c = q.start_auth(tid);
        assert!(q.reply(&c, &secret(9), None).status.is_success());
    }

    /// A write accepted before a failed re-authentication, its data asked for by R2T:
    /// the data that comes after the failure is not written (the queue runs nothing
    /// more), the command fails as admission fails it, and the queue still ends with
    /// its Failure1.
    #[test]
    fn a_write_whose_data_comes_after_a_failed_reauthentication_does_not_run() {
        let t = target_with_secret(false);
        let (_a, mut q) = authenticated_io_queue(&t);
        q.cid = 20;
        let mut w = rw(io_opcode::WRITE, 0, 32, 16384);
        w.cid = q.cid;
        q.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: w, data: Bytes::new() }));
        let p = q.pdus();
        let [Pdu::R2t(r2t)] = p.as_slice() else { panic!("{p:?}") };
        fail_reauthentication(&mut q, 3);
        let p = send_asked(&mut q, r2t);
        let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
        assert_eq!((c.cid, c.status), (20, Status::AUTH_REQUIRED.with_dnr()));
        let mut on_disk = vec![0xEEu8; 16384];
        t.namespace(SUB, 1).unwrap().volume.backend().read_at(&mut on_disk, 0).unwrap();
        assert!(on_disk.iter().all(|&b| b == 0), "nothing written");
        q.expect_failure1(failure::FAILED);
    }

    /// Commands a rate limit held from before a failed re-authentication (virtual time):
    /// when the limit lets them go, a read fails as admission fails it and a write by
    /// R2T is refused without asking for its data.
    #[test]
    fn commands_held_by_a_rate_limit_do_not_run_after_a_failed_reauthentication() {
        use crate::rate_limit::RateLimit;
        let t = target_with_secret(false);
        let (_a, mut q) = authenticated_io_queue(&t);
        let limited = t.namespace(SUB, 1).unwrap().volume.clone();
        limited.set_rate_limit(RateLimit { iops: 10, bytes_per_second: 0 }, q.now);
        // The bucket holds one command: the first read runs, the rest wait.
        q.cid = 20;
        assert_eq!(completed(&q.cmd(rw(io_opcode::READ, 0, 1, 512), &[])), [21]);
        assert!(q.cmd(rw(io_opcode::READ, 0, 1, 512), &[]).is_empty(), "held");
        q.cid += 1;
        let mut w = rw(io_opcode::WRITE, 0, 32, 16384);
        w.cid = q.cid;
        q.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: w, data: Bytes::new() }));
        assert!(q.pdus().is_empty(), "held before its R2T");
        fail_reauthentication(&mut q, 3);
        limited.set_rate_limit(RateLimit::default(), q.now);
        q.now += Duration::from_millis(100);
        q.conn.tick(q.now);
        let p = q.pdus();
        let refused: Vec<_> = p
            .iter()
            .map(|p| match p {
                Pdu::CapsuleResp(c) => (c.cid, c.status),
                other => panic!("{other:?}"),
            })
            .collect();
        let required = Status::AUTH_REQUIRED.with_dnr();
        assert_eq!(refused, [(22, required), (23, required)]);
        q.expect_failure1(failure::FAILED);
    }

    /// A peer that knows HOST's NQN, Host ID and CNTLID but not its secret can connect
    /// an I/O queue to its live controller; what it gets refused there is not the host's
    /// error: the controller's Error Information log and SMART error count stay as the
    /// host left them (as the namespace's error count and Keep Alive do).
    #[test]
    fn an_unauthenticated_queue_leaves_the_controllers_error_log_alone() {
        let t = target_with_secret(false);
        let mut a = H::new(&t, false, false);
        let cntlid = a.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0).dw0 as u16;
        a.authenticate(1);
        a.enable();
        // The host's own error: one entry.
        let mut g = Sqe::new(admin_opcode::GET_FEATURES, 0);
        g.cdw[0] = 0x42;
        assert_eq!(a.run(g, &[]).0.status, Status::INVALID_FIELD.with_dnr());
        // (the newest entry's Error Count, SMART's error entries, the whole log)
        let log = |a: &mut H| {
            let (c, page) = a.run(log_page(1, 64 * 64), &[]);
            assert!(c.status.is_success());
            let (c, smart) = a.run(log_page(2, 512), &[]);
            assert!(c.status.is_success());
            let newest = u64::from_le_bytes(page[0..8].try_into().unwrap());
            (newest, u128::from_le_bytes(smart[176..192].try_into().unwrap()), page)
        };
        let before = log(&mut a);
        assert_eq!((before.0, before.1), (1, 1));
        // The peer's queue: 64 Flushes and a malformed Authentication Receive, refused.
        let mut q = H::new(&t, false, false);
        assert!(q.connect(SUB, 1, cntlid, 0, 0).status.is_success());
        for _ in 0..64 {
            let mut flush = Sqe::new(io_opcode::FLUSH, 0);
            flush.nsid = 1;
            assert_eq!(q.run(flush, &[]).0.status, Status::AUTH_REQUIRED.with_dnr());
        }
        let mut r = AuthTransfer::dhchap(4096).to_receive_sqe(0);
        r.set_sgl(SglDescriptor::transport(0));
        assert_eq!(q.run(r, &[]).0.status, Status::DATA_SGL_LENGTH_INVALID.with_dnr());
        assert!(q.conn.is_closed().is_none());
        let after = log(&mut a);
        assert_eq!((after.0, after.1), (1, 1), "the host's count as it was");
        assert!(after.2 == before.2, "the host's entries as they were");
    }
}

/// One Error Information entry of a log page: (Error Count, SQID, CID, status, location,
/// LBA, NSID, opcode).
fn error_entry(page: &[u8], i: usize) -> (u64, u16, u16, u16, u16, u64, u32, u8) {
    let e = &page[i * 64..(i + 1) * 64];
    let u16_at = |at: usize| u16::from_le_bytes([e[at], e[at + 1]]);
    (
        u64::from_le_bytes(e[0..8].try_into().unwrap()),
        u16_at(8),
        u16_at(10),
        u16_at(12) >> 1,
        u16_at(14),
        u64::from_le_bytes(e[16..24].try_into().unwrap()),
        u32::from_le_bytes(e[24..28].try_into().unwrap()),
        e[31],
    )
}

#[test]
fn failed_commands_go_into_the_error_log_and_the_smart_count() {
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut io = H::io(&t, cntlid, 1, 0);
    // Past the end of the 2048-block namespace; an unknown namespace; an unknown opcode.
    let (c, _) = io.run(rw(io_opcode::READ, 2047, 2, 1024), &[]);
    assert_eq!(c.status, Status::LBA_OUT_OF_RANGE.with_dnr());
    let read_cid = c.cid;
    let mut other = rw(io_opcode::READ, 0, 1, 512);
    other.nsid = 9;
    assert_eq!(io.run(other, &[]).0.status, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr());
    let (c, _) = io.run(Sqe::new(0x7E, 0), &[]);
    assert_eq!(c.status, Status::INVALID_OPCODE.with_dnr());
    let opcode_cid = c.cid;
    // A successful command adds nothing.
    assert!(io.run(rw(io_opcode::READ, 0, 1, 512), &[]).0.status.is_success());

    let (c, page) = admin.run(log_page(1, 4096), &[]);
    assert!(c.status.is_success());
    let opcode_byte = 0;
    let bad_opcode = Status::INVALID_OPCODE.with_dnr().raw();
    assert_eq!(error_entry(&page, 0), (3, 1, opcode_cid, bad_opcode, opcode_byte, 0, 0, 0x7E));
    let nsid_byte = 4;
    let unknown_ns = Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr().raw();
    assert_eq!(error_entry(&page, 1).3, unknown_ns);
    assert_eq!((error_entry(&page, 1).4, error_entry(&page, 1).6), (nsid_byte, 9));
    let slba_byte = 40;
    let lba = Status::LBA_OUT_OF_RANGE.with_dnr().raw();
    assert_eq!(error_entry(&page, 2), (1, 1, read_cid, lba, slba_byte, 2047, 1, io_opcode::READ));
    assert_eq!(error_entry(&page, 3).0, 0, "the rest are invalid entries");
    let (_, smart) = admin.run(log_page(2, 512), &[]);
    assert_eq!(u128::from_le_bytes(smart[176..192].try_into().unwrap()), 3);
    // A command that fails before the queue is bound has no controller to log it.
    let mut unbound = H::new(&t, false, false);
    let (c, _) = unbound.run(identify(1, 0), &[]);
    assert_eq!(c.status, Status::COMMAND_SEQUENCE_ERROR.with_dnr());
    assert_eq!(error_entry(&admin.run(log_page(1, 64), &[]).1, 0).0, 3);
}

#[test]
fn the_error_log_keeps_the_newest_entries() {
    let t = target();
    let (mut h, _) = H::admin(&t, 0);
    let n = crate::error_log::ENTRIES + 3;
    for _ in 0..n {
        assert_eq!(h.run(Sqe::new(0x70, 0), &[]).0.status, Status::INVALID_OPCODE.with_dnr());
    }
    let (_, page) = h.run(log_page(1, 4096), &[]);
    assert_eq!(error_entry(&page, 0).0, n as u64);
    assert_eq!(error_entry(&page, crate::error_log::ENTRIES - 1).0, 4);
}

/// A Write or Compare refused before its data is asked for by R2T (as a Linux host sends
/// every write over 8 KiB) counts as its namespace's error like one refused in capsule:
/// write protected, out of range, a data length its blocks do not match, beyond MDTS.
#[test]
fn io_commands_refused_before_their_r2t_count_as_the_namespaces_errors() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let refused = |q: &mut H, sqe: Sqe| {
        let p = q.cmd(sqe, &[]);
        let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("no R2T: {p:?}") };
        c.status
    };
    t.set_write_protected(SUB, 1, true).unwrap();
    let write = rw(io_opcode::WRITE, 0, 32, 16384);
    assert_eq!(refused(&mut q, write), Status::NAMESPACE_WRITE_PROTECTED.with_dnr());
    let compare = rw(io_opcode::COMPARE, 2047, 2, 1024);
    assert_eq!(refused(&mut q, compare), Status::LBA_OUT_OF_RANGE.with_dnr());
    assert_eq!(t.namespace(SUB, 1).unwrap().stats.snapshot().errors, 2);
    t.set_write_protected(SUB, 1, false).unwrap();
    let mismatch = rw(io_opcode::WRITE, 0, 16, 16384);
    assert_eq!(refused(&mut q, mismatch), Status::DATA_SGL_LENGTH_INVALID.with_dnr());
    let beyond_mdts = rw(io_opcode::WRITE, 0, 512, 512 * 512);
    assert_eq!(refused(&mut q, beyond_mdts), Status::INVALID_FIELD.with_dnr());
    // Another namespace's refusal is not this one's.
    let mut missing = rw(io_opcode::WRITE, 0, 32, 16384);
    missing.nsid = 9;
    assert_eq!(refused(&mut q, missing), Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr());
    assert_eq!(t.namespace(SUB, 1).unwrap().stats.snapshot().errors, 4);
}

/// A failed Compare's error log entry names the first LBA of the command (NVMe Base 2.0
/// §5.16.1.2), as a failed Read's does.
#[test]
fn a_failed_compare_logs_its_first_lba() {
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let mut w = rw(io_opcode::WRITE, 100, 1, 0);
    w.set_sgl(SglDescriptor::in_capsule(512));
    assert!(q.run(w, &[0x11; 512]).0.status.is_success());
    let mut compare = rw(io_opcode::COMPARE, 100, 1, 0);
    compare.set_sgl(SglDescriptor::in_capsule(512));
    let (c, _) = q.run(compare, &[0x22; 512]);
    assert_eq!(c.status, Status::COMPARE_FAILURE.with_dnr());
    let (_, page) = admin.run(log_page(1, 64), &[]);
    let (count, sqid, cid, status, _, lba, nsid, opcode) = error_entry(&page, 0);
    assert_eq!((count, sqid, cid, status), (1, 1, c.cid, Status::COMPARE_FAILURE.with_dnr().raw()));
    assert_eq!((lba, nsid, opcode), (100, 1, io_opcode::COMPARE));
}

/// An opcode an I/O queue does not run (one the Commands Supported and Effects log does
/// not list) is Invalid Opcode whatever its data descriptor says, and asks for no data,
/// as Linux's nvmet parses the opcode before it maps the data (`nvmet_req_init`); one it
/// lists is run. Every opcode, so every direction (bits 1:0, NVMe Base 2.0 §6.1).
#[test]
fn unsupported_io_opcodes_are_invalid_opcode_whatever_their_data() {
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    let (_, log) = admin.run(log_page(crate::identify::log_id::CMD_EFFECTS, 4096), &[]);
    let listed = |op: u8| log[1024 + usize::from(op) * 4] & 1 != 0;
    let descriptors = [
        (SglDescriptor::transport(0), 0),
        (SglDescriptor::transport(512), 0),
        (SglDescriptor::transport(16384), 0),
        (SglDescriptor::transport(crate::identify::MAX_TRANSFER + 4096), 0),
        (SglDescriptor::in_capsule(512), 512),
        (SglDescriptor::in_capsule(1024), 512),
        (SglDescriptor::InCapsule { offset: 16, length: 512 }, 512),
        (SglDescriptor::Other { id: 0x40, address: 0, length: 512 }, 0),
    ];
    let mut send = |opcode: u8, sgl: SglDescriptor, data_len: usize| {
        q.cid += 1;
        let mut sqe = Sqe::new(opcode, q.cid);
        sqe.nsid = 1;
        sqe.set_sgl(sgl);
        let data = vec![0; data_len];
        q.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe, data: data.into() }));
        let p = q.pdus();
        let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{opcode:#x} {sgl:?}: {p:?}") };
        c.status
    };
    // 7Fh is a Fabrics command, whatever the queue.
    for opcode in (0..=u8::MAX).filter(|&op| op != admin_opcode::FABRICS) {
        if listed(opcode) {
            let s = send(opcode, SglDescriptor::transport(0), 0);
            assert_ne!(s, Status::INVALID_OPCODE.with_dnr(), "{opcode:#x} is run");
            continue;
        }
        for &(sgl, data_len) in &descriptors {
            let s = send(opcode, sgl, data_len);
            assert_eq!(s, Status::INVALID_OPCODE.with_dnr(), "{opcode:#x} {sgl:?}");
        }
    }
}

fn get_feature(fid: u8, cdw11: u32, sel: u32) -> Sqe {
    let mut g = Sqe::new(admin_opcode::GET_FEATURES, 0);
    g.cdw[0] = u32::from(fid) | (sel << 8);
    g.cdw[1] = cdw11;
    g
}

fn set_feature(fid: u8, cdw11: u32) -> Sqe {
    let mut s = Sqe::new(admin_opcode::SET_FEATURES, 0);
    s.cdw[0] = u32::from(fid);
    s.cdw[1] = cdw11;
    s
}

/// Set Features Namespace Write Protection Config (84h) of namespace `nsid` to WPS `wps`.
fn write_protection(nsid: u32, wps: u32) -> Sqe {
    let mut s = set_feature(0x84, wps);
    s.nsid = nsid;
    s
}

#[test]
fn mandatory_features_read_back_and_temperature_thresholds_raise_the_warning() {
    use crate::features::{WCTEMP, fid};
    let t = target();
    let (mut h, _) = H::admin(&t, 0);
    let (_, id) = h.run(identify(1, 0), &[]);
    assert_eq!(u16::from_le_bytes([id[266], id[267]]), WCTEMP);
    assert_eq!(h.run(get_feature(fid::TEMPERATURE_THRESHOLD, 0, 0), &[]).0.dw0, 343);
    assert_eq!(h.run(get_feature(fid::POWER_MANAGEMENT, 0, 0), &[]).0.dw0, 0);
    assert_eq!(h.run(get_feature(fid::ARBITRATION, 0, 0), &[]).0.dw0, 0b111);
    let bad_ps = h.run(set_feature(fid::POWER_MANAGEMENT, 1), &[]).0;
    assert_eq!(bad_ps.status, Status::INVALID_FIELD.with_dnr());
    // Temperature notices enabled (AEC bit 1) and a request outstanding: an over
    // threshold below the composite temperature (300 K) warns, once, until the SMART
    // log is read.
    assert!(h.run(set_feature(fid::ASYNC_EVENT_CONFIG, 1 << 1), &[]).0.status.is_success());
    let (aer, answered) = h.send_aer();
    assert!(answered.is_empty());
    let warning = |h: &mut H| h.run(log_page(2, 512), &[]).1[0] & (1 << 1) != 0;
    assert!(!warning(&mut h));
    let events: Vec<(u16, u32)> = h
        .set_then_events(set_feature(fid::TEMPERATURE_THRESHOLD, 290))
        .iter()
        .filter_map(|p| if let Pdu::CapsuleResp(c) = p { Some((c.cid, c.dw0)) } else { None })
        .collect();
    assert_eq!(events, [(aer, 0x02_01_01)], "SMART / Health, temperature, log 02h");
    assert_eq!(h.run(get_feature(fid::TEMPERATURE_THRESHOLD, 0, 0), &[]).0.dw0, 290);
    assert_eq!(h.run(get_feature(fid::TEMPERATURE_THRESHOLD, 0, 1), &[]).0.dw0, 343, "default");
    assert!(warning(&mut h));
    assert!(h.run(set_feature(fid::TEMPERATURE_THRESHOLD, 343), &[]).0.status.is_success());
    assert!(!warning(&mut h));
    // Supported capabilities: changeable, not saveable.
    assert_eq!(h.run(get_feature(fid::ERROR_RECOVERY, 0, 3), &[]).0.dw0, 1 << 2);
}

/// A temperature notice a Set Features raised goes out right after that command's
/// completion, as nvmet's event work runs at once, not at the next tick: Linux's hwmon
/// reads the SMART log (RAE clear) right after it sets a threshold, and that read would
/// report the warning and take the notice before it went out.
#[test]
fn a_temperature_notice_goes_out_right_after_the_set_features_that_raised_it() {
    use crate::features::fid;
    let t = target();
    let (mut h, _) = H::admin(&t, 0);
    assert!(h.run(set_feature(fid::ASYNC_EVENT_CONFIG, 1 << 1), &[]).0.status.is_success());
    let (aer, answered) = h.send_aer();
    assert!(answered.is_empty());
    let pdus = h.cmd(set_feature(fid::TEMPERATURE_THRESHOLD, 290), &[]);
    let set = h.cid;
    let answers: Vec<(u16, u32)> = pdus
        .iter()
        .filter_map(|p| if let Pdu::CapsuleResp(c) = p { Some((c.cid, c.dw0)) } else { None })
        .collect();
    assert_eq!(answers, [(set, 0), (aer, 0x02_01_01)], "the command's answer, then the notice");
    // It went out once: nothing more at the next tick.
    assert!(h.events().is_empty());
}

/// Notices waiting go out right after any admin command's answer, as nvmet's event work
/// runs at once, not only at the queue's next tick: a namespace the operator added is
/// told right after the host's next Keep Alive.
#[test]
fn waiting_notices_go_out_after_any_admin_answer() {
    let t = target();
    let (mut admin, _) = H::admin(&t, 0);
    let aer = admin.arm_namespace_notices();
    let v = Arc::new(Volume::ram("v", 512, 1 << 20).unwrap());
    t.add_namespace(SUB, 2, v, [1; 16], [2; 16]).unwrap();
    let pdus = admin.cmd(Sqe::new(admin_opcode::KEEP_ALIVE, 0), &[]);
    let keep_alive = admin.cid;
    let answers: Vec<(u16, u32)> = pdus
        .iter()
        .filter_map(|p| if let Pdu::CapsuleResp(c) = p { Some((c.cid, c.dw0)) } else { None })
        .collect();
    assert_eq!(answers, [(keep_alive, 0), (aer, 0x0004_0002)], "the answer, then the notice");
    assert!(admin.events().is_empty(), "once");
}

/// AEC bits 7:0 (NVMe Base 2.x §5.27.1.7): a 0 bit means no notice for that critical
/// warning, so bit 1 is checked when the temperature notice is sent, not only when it is
/// raised: one raised while enabled waits while the host has it off.
#[test]
fn a_temperature_notice_waits_while_the_host_has_it_off() {
    use crate::features::fid;
    let t = target();
    let (mut h, _) = H::admin(&t, 0);
    assert!(h.run(set_feature(fid::ASYNC_EVENT_CONFIG, 1 << 1), &[]).0.status.is_success());
    assert!(h.run(set_feature(fid::TEMPERATURE_THRESHOLD, 290), &[]).0.status.is_success());
    assert!(h.run(set_feature(fid::ASYNC_EVENT_CONFIG, 0), &[]).0.status.is_success());
    let (aer, answered) = h.send_aer();
    assert!(answered.is_empty(), "disabled in AEC: {answered:?}");
    assert!(h.events().is_empty(), "disabled in AEC");
    // As for namespace notices: enabled again, the warning still standing is told.
    let p = h.set_then_events(set_feature(fid::ASYNC_EVENT_CONFIG, 1 << 1));
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("enabled again: {p:?}") };
    assert_eq!((c.cid, c.dw0), (aer, 0x02_01_01));
}

/// Reading the SMART / Health log with RAE clear reports the temperature warning a
/// pending notice is about (§5.2, as the Changed Namespace List and ANA reads do): no
/// notice is left to send for it, so a warning gone before the next request tells nothing.
#[test]
fn a_smart_log_read_takes_the_pending_temperature_notice() {
    use crate::features::fid;
    let t = target();
    let (mut h, _) = H::admin(&t, 0);
    let warning = |h: &mut H| h.run(log_page(2, 512), &[]).1[0] & (1 << 1) != 0;
    assert!(h.run(set_feature(fid::ASYNC_EVENT_CONFIG, 1 << 1), &[]).0.status.is_success());
    assert!(h.run(set_feature(fid::TEMPERATURE_THRESHOLD, 290), &[]).0.status.is_success());
    assert!(warning(&mut h), "the read shows the warning");
    assert!(h.run(set_feature(fid::TEMPERATURE_THRESHOLD, 343), &[]).0.status.is_success());
    assert!(!warning(&mut h));
    let (_, answered) = h.send_aer();
    assert!(answered.is_empty(), "the read reported the warning: {answered:?}");
    assert!(h.events().is_empty());
}

#[test]
fn the_commands_supported_and_effects_log_lists_what_the_controller_runs() {
    let t = target();
    let (mut h, _) = H::admin(&t, 0);
    let (_, id) = h.run(identify(1, 0), &[]);
    assert_eq!(id[261] & 0b10, 0b10, "LPA: the log is supported");
    let (c, log) = h.run(log_page(crate::identify::log_id::CMD_EFFECTS, 4096), &[]);
    assert!(c.status.is_success());
    let effects = |at: usize| u32::from_le_bytes(log[at..at + 4].try_into().unwrap());
    assert_eq!(effects(usize::from(admin_opcode::IDENTIFY) * 4), 1);
    assert_eq!(effects(0x80 * 4), 0, "Format NVM: not supported");
    assert_eq!(effects(1024 + usize::from(io_opcode::READ) * 4), 1);
    assert_eq!(effects(1024 + usize::from(io_opcode::WRITE) * 4), 0b11, "changes content");
    // Another command set's I/O commands: Invalid Field.
    let mut zns = log_page(crate::identify::log_id::CMD_EFFECTS, 4096);
    zns.cdw[4] = 2 << 24;
    assert_eq!(h.run(zns, &[]).0.status, Status::INVALID_FIELD.with_dnr());
}

#[test]
fn a_revoked_host_loses_its_queues_at_once() {
    let t = target();
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut io = H::io(&t, cntlid, 1, 0);
    assert!(io.run(rw(io_opcode::READ, 0, 1, 512), &[]).0.status.is_success());
    t.set_hosts(SUB, false, BTreeSet::new()).unwrap();
    // Before the queues' next tick, the host cannot enable the controller again, and an
    // I/O command closes its queue unanswered.
    let enable = PropertySetCmd { eight_bytes: false, offset: property::CC, value: 0x0046_0001 };
    let (c, _) = admin.run(enable.to_sqe(0), &[]);
    assert_eq!(c.status, Status::COMMAND_SEQUENCE_ERROR.with_dnr());
    io.submit(rw(io_opcode::READ, 0, 1, 512), &[]);
    assert!(io.pdus().is_empty());
    assert_eq!(io.conn.is_closed(), Some(&CloseReason::ControllerGone));
    admin.conn.tick(admin.now);
    assert_eq!(admin.conn.is_closed(), Some(&CloseReason::ControllerGone));
    assert_eq!(t.controller_count(SUB), 0);
    // And it cannot come back.
    let mut again = H::new(&t, false, false);
    let c = again.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
    assert_eq!(c.status, Status::CONNECT_INVALID_HOST.with_dnr());
}

fn verify(nsid: u32, slba: u64, blocks: u32) -> Sqe {
    let mut s = Sqe::new(io_opcode::VERIFY, 0);
    s.nsid = nsid;
    s.set_rw(slba, blocks);
    s
}

#[test]
fn verify_reads_the_range_and_reports_an_unreadable_block() {
    let t = target();
    let backend = CountingFlushes {
        ram: crate::volume::RamBackend::new(1 << 20).unwrap(),
        flushes: Arc::default(),
        bad: Some(600 * 512),
    };
    let v = Volume::new("bad", 512, 1 << 20, Box::new(backend)).unwrap();
    t.add_namespace(SUB, 2, Arc::new(v), [1; 16], [2; 16]).unwrap();
    let (mut admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    // The whole of namespace 1 (2,048 blocks, read in pieces); a range past its end.
    assert!(q.run(verify(1, 0, 2048), &[]).0.status.is_success());
    assert_eq!(q.run(verify(1, 2047, 2), &[]).0.status, Status::LBA_OUT_OF_RANGE.with_dnr());
    // Namespace 2 reads up to its bad block, not across it.
    assert!(q.run(verify(2, 0, 600), &[]).0.status.is_success());
    let (c, _) = q.run(verify(2, 512, 512), &[]);
    assert_eq!(c.status, Status::UNRECOVERED_READ_ERROR.with_dnr());
    let (_, log) = admin.run(log_page(1, 64), &[]);
    let (count, sqid, cid, status, _, lba, nsid, opcode) = error_entry(&log, 0);
    assert_eq!(
        (count, sqid, cid, status),
        (2, 1, c.cid, Status::UNRECOVERED_READ_ERROR.with_dnr().raw())
    );
    assert_eq!((lba, nsid, opcode), (512, 2, io_opcode::VERIFY));
}

/// Fused operations are not offered (FUSES 0): a fused Compare and Write are both refused
/// with Invalid Field, so a failed Compare can never let its Write land; and a command
/// with PSDT other than 01b (PRPs, or an SGL-segment metadata pointer) is refused too.
#[test]
fn fused_commands_and_other_psdt_values_are_refused() {
    let t = target();
    let (_admin, cntlid) = H::admin(&t, 0);
    let mut q = H::io(&t, cntlid, 1, 0);
    assert!(q.run(rw(io_opcode::WRITE, 10, 1, 512), &[0x11; 512]).0.status.is_success());
    let invalid = Status::INVALID_FIELD.with_dnr();
    let mut compare = rw(io_opcode::COMPARE, 10, 1, 512);
    compare.fuse = Fuse::First;
    assert_eq!(q.run(compare, &[0x22; 512]).0.status, invalid);
    let mut write = rw(io_opcode::WRITE, 10, 1, 512);
    write.fuse = Fuse::Second;
    assert_eq!(q.run(write, &[0x99; 512]).0.status, invalid);
    for psdt in [Psdt::Prp, Psdt::SglMetadataSegment, Psdt::Reserved] {
        let mut read = rw(io_opcode::READ, 10, 1, 512);
        read.psdt = psdt;
        let (c, d) = q.run(read, &[]);
        assert_eq!((c.status, d.len()), (invalid, 0), "{psdt:?}");
    }
    let (c, d) = q.run(rw(io_opcode::READ, 10, 1, 512), &[]);
    assert!(c.status.is_success());
    assert!(d.iter().all(|&b| b == 0x11), "the fused write did not land");
}

/// An Asynchronous Event Request holds its CID until it completes: another command with
/// it is a Command ID Conflict, not a second completion the host cannot tell apart.
#[test]
fn an_outstanding_event_requests_cid_is_in_use() {
    let t = target();
    let (mut admin, _) = H::admin(&t, 0);
    let aer = admin.arm_namespace_notices();
    let mut keep_alive = Sqe::new(admin_opcode::KEEP_ALIVE, 0);
    keep_alive.cid = aer;
    admin.send(&Pdu::CapsuleCmd(CapsuleCmd { sqe: keep_alive, data: vec![].into() }));
    let p = admin.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert_eq!((c.cid, c.status), (aer, Status::COMMAND_ID_CONFLICT.with_dnr()));
}

/// Enabling checks the other CC fields as Linux's nvmet does: MPS, AMS or CSS other than
/// CAP offers, or I/O queue entry sizes other than 64/16 bytes, give CSTS.CFS instead of
/// RDY, and no I/O queue connects; a reset and a proper enable bring RDY. A discovery
/// controller has no I/O queues, so their entry sizes are not checked. A successful I/O
/// queue Connect answers the controller's ID, as the admin queue's does.
#[test]
fn enabling_checks_the_other_cc_fields() {
    let t = target();
    let csts = |h: &mut H| {
        let get = PropertyGetCmd { eight_bytes: false, offset: property::CSTS }.to_sqe(0);
        h.run(get, &[]).0.dw0
    };
    let set_cc = |h: &mut H, value: u64| {
        let sqe = PropertySetCmd { eight_bytes: false, offset: property::CC, value }.to_sqe(0);
        assert!(h.run(sqe, &[]).0.status.is_success());
    };
    // EN with MPS 15, AMS 7, IOSQES/IOCQES 0; then CSS 1 (not offered); then MPS 1 alone;
    // then IOCQES 0 with IOSQES 6, and IOSQES 0 with IOCQES 4: each entry size is checked
    // by itself (CC, NVMe Base 2.0 §3.1.4.5).
    for cc in [0x0000_3F81, 0x0046_0011, 0x0046_0081, 0x0006_0001, 0x0040_0001] {
        let mut admin = H::new(&t, false, false);
        let c = admin.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        assert!(c.status.is_success());
        set_cc(&mut admin, cc);
        assert_eq!(csts(&mut admin), 0b10, "CC {cc:#x}: CFS, not RDY");
        let mut q = H::new(&t, false, false);
        let refused = q.connect(SUB, 1, c.dw0 as u16, 0, 0);
        assert_eq!(refused.status, Status::COMMAND_SEQUENCE_ERROR.with_dnr(), "CC {cc:#x}");
        set_cc(&mut admin, 0x0046_0000);
        admin.enable();
        let mut q = H::new(&t, false, false);
        let io = q.connect(SUB, 1, c.dw0 as u16, 0, 0);
        assert!(io.status.is_success(), "{io:?}");
        assert_eq!(io.dw0, c.dw0, "an I/O queue's Connect answers the CNTLID");
    }
    let mut disc = H::new(&t, false, false);
    assert!(disc.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 0, 0).status.is_success());
    set_cc(&mut disc, 1);
    assert_eq!(csts(&mut disc), 1, "a discovery controller's queue sizes are not checked");
}

/// A reservation command with in-capsule data, run to its status.
fn pr_status(h: &mut H, (mut sqe, data): (Sqe, Vec<u8>)) -> Status {
    sqe.set_sgl(SglDescriptor::in_capsule(data.len() as u32));
    h.run(sqe, &data).0.status
}

/// A controller's admin queue and its I/O queue 1, whose write of 0x11 to LBA 0 (W1) the
/// shell holds: the reset and shutdown tests' start.
fn controller_with_a_write_held(t: &Arc<Target>) -> (H, H, IoRequest) {
    let (admin, cntlid) = H::admin(t, 0);
    let mut q = H::io(t, cntlid, 1, 0);
    let w1 = queued_write(&mut q, 0x11);
    (admin, q, w1)
}

/// A one-block write of `fill` at LBA 0 from `a`, handed to the volume and not run yet (a
/// file write in the kernel).
fn queued_write(a: &mut H, fill: u8) -> IoRequest {
    let mut w = rw(io_opcode::WRITE, 0, 1, 0);
    w.set_sgl(SglDescriptor::in_capsule(512));
    a.submit(w, &[fill; 512]);
    a.conn.poll_io().expect("A's write handed to the volume")
}

/// Sends a Preempt and Abort from `issuer` with CRKEY and PRKEY `keys` and checks that it
/// is still held half a second on, waiting for the preempted hosts' writes; its CID.
fn preempt_and_abort_held(issuer: &mut H, keys: [u64; 2]) -> u16 {
    use io_opcode::RESERVATION_ACQUIRE;
    let (mut pa, keys) = reservation(RESERVATION_ACQUIRE, (1 << 8) | 2, &keys);
    pa.set_sgl(SglDescriptor::in_capsule(16));
    let cid = issuer.submit(pa, &keys);
    assert!(issuer.pdus().is_empty(), "the acquire waits for the preempted writes");
    issuer.now += Duration::from_millis(500);
    issuer.conn.tick(issuer.now);
    assert!(issuer.pdus().is_empty(), "still waiting");
    cid
}

/// Runs `queued`, a write of `h`'s handed to the volume, and gives its result back.
fn finish_write(h: &mut H, queued: IoRequest) {
    let r = execute_io(&queued);
    h.conn.complete_io(queued.tag, r);
}

/// B (key 0xBB) preempts A (key 0xAA) with Abort (RACQA 010b) while A's write `queued`
/// runs: no answer, also 500 ms later; once the write finished (successfully: it was let
/// through before the preempt), B's next tick answers the acquire with success.
fn preempt_and_abort_waits_for(a: &mut H, b: &mut H, queued: IoRequest) {
    preempt_and_abort_held(b, [0xBB, 0xAA]);
    finish_write(a, queued);
    let p = a.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert!(c.status.is_success(), "A's write was let through before the preempt");
    b.now += Duration::from_millis(100);
    b.conn.tick(b.now);
    let p = b.pdus();
    let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert!(c.status.is_success(), "{c:?}");
}

/// Preempt and Abort (NVM Command Set 1.0 §3.2.4.3) completes only once the preempted
/// host's writes let through before it have finished on the volume: host A's write is
/// handed to the volume but not yet done when B preempts A; B's Acquire waits (ticks pass,
/// no completion), and completes once A's write finished, so a write of B's that follows
/// lands after A's, never under it. A's later writes conflict. A plain Preempt, or a
/// preempted host with nothing in flight, completes at once.
#[test]
fn preempt_and_abort_waits_for_the_preempted_hosts_writes() {
    use io_opcode::{RESERVATION_ACQUIRE, RESERVATION_REGISTER};
    let t = target();
    let (_a_admin, mut a) = host_queues(&t, [0xA; 16]);
    let (_b_admin, mut b) = host_queues(&t, [0xB; 16]);
    let status = pr_status;
    let write = |fill: u8| {
        let mut w = rw(io_opcode::WRITE, 0, 1, 0);
        w.set_sgl(SglDescriptor::in_capsule(512));
        (w, vec![fill; 512])
    };
    assert!(status(&mut a, reservation(RESERVATION_REGISTER, 0, &[0, 0xAA])).is_success());
    assert!(status(&mut b, reservation(RESERVATION_REGISTER, 0, &[0, 0xBB])).is_success());
    assert!(status(&mut a, reservation(RESERVATION_ACQUIRE, 1 << 8, &[0xAA, 0])).is_success());
    let queued = queued_write(&mut a, 0x42);
    preempt_and_abort_waits_for(&mut a, &mut b, queued);
    // B's write lands on top; A's new writes conflict.
    assert!(status(&mut b, write(0x0B)).is_success());
    assert_eq!(status(&mut a, write(0x43)), Status::RESERVATION_CONFLICT.with_dnr());
    let (_, d) = b.run(rw(io_opcode::READ, 0, 1, 512), &[]);
    assert!(d.iter().all(|&x| x == 0x0B));
    // A preempted host with nothing in flight: at once.
    assert!(status(&mut a, reservation(RESERVATION_REGISTER, 0, &[0, 0xAC])).is_success());
    let pa = reservation(RESERVATION_ACQUIRE, (1 << 8) | 2, &[0xBB, 0xAC]);
    assert!(status(&mut b, pa).is_success());
}

/// Preempt with nothing reserved still unregisters the hosts registered with PRKEY (NVM
/// Command Set 1.0 §3.2.4.3, as nvmet): with Abort it waits for their writes too, which
/// were let through while only registrants existed.
#[test]
fn preempt_and_abort_without_a_reservation_waits_for_the_preempted_hosts_writes() {
    use io_opcode::RESERVATION_REGISTER;
    let t = target();
    let (_a_admin, mut a) = host_queues(&t, [0xA; 16]);
    let (_b_admin, mut b) = host_queues(&t, [0xB; 16]);
    let status = pr_status;
    assert!(status(&mut a, reservation(RESERVATION_REGISTER, 0, &[0, 0xAA])).is_success());
    assert!(status(&mut b, reservation(RESERVATION_REGISTER, 0, &[0, 0xBB])).is_success());
    let queued = queued_write(&mut a, 0x42);
    preempt_and_abort_waits_for(&mut a, &mut b, queued);
    // Once nobody is registered, I/O is unchecked again.
    assert!(status(&mut b, reservation(RESERVATION_REGISTER, 1, &[0xBB, 0])).is_success());
    let ns = t.namespace(SUB, 1).unwrap();
    assert!(!ns.registered.load(Ordering::Relaxed));
}

/// A Preempt and Abort by a key the issuer registered with unregisters the issuer too
/// (NVMe Base 2.0 §8.19, "Preempting a Reservation"; as nvmet, which aborts the
/// issuer's commands as well): it completes only once the issuer's own write let through
/// before has finished, like any preempted host's, and B, with another key, stays.
#[test]
fn preempt_and_abort_of_the_issuers_own_key_waits_for_its_writes() {
    use io_opcode::RESERVATION_REGISTER;
    let t = target();
    let (_a_admin, mut a) = host_queues(&t, [0xA; 16]);
    let (_b_admin, mut b) = host_queues(&t, [0xB; 16]);
    let status = pr_status;
    assert!(status(&mut a, reservation(RESERVATION_REGISTER, 0, &[0, 0xAA])).is_success());
    assert!(status(&mut b, reservation(RESERVATION_REGISTER, 0, &[0, 0xBB])).is_success());
    let queued = queued_write(&mut a, 0x42);
    // The acquire waits for A's own write.
    let cid = preempt_and_abort_held(&mut a, [0xAA, 0xAA]);
    finish_write(&mut a, queued);
    a.now += Duration::from_millis(100);
    a.conn.tick(a.now);
    let p = a.pdus();
    let [Pdu::CapsuleResp(w), Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
    assert!(w.status.is_success() && w.cid != cid, "A's write, let through before");
    assert_eq!((c.cid, c.status), (cid, Status::SUCCESS));
    // A is no registrant now; B is.
    let unregister = |key| reservation(RESERVATION_REGISTER, 1, &[key, 0]);
    assert_eq!(status(&mut a, unregister(0xAA)), Status::RESERVATION_CONFLICT.with_dnr());
    assert!(status(&mut b, unregister(0xBB)).is_success());
}

/// A write handed to the volume before any host registered is waited for as well: A's
/// write runs while the namespace has no registrants; then A and B register and B
/// preempts A with Abort, which completes only once A's write finished (Linux's nvmet
/// counts every command of a controller, not only those since reservations began).
#[test]
fn preempt_and_abort_waits_for_writes_started_before_any_host_registered() {
    use io_opcode::RESERVATION_REGISTER;
    let t = target();
    let (_a_admin, mut a) = host_queues(&t, [0xA; 16]);
    let (_b_admin, mut b) = host_queues(&t, [0xB; 16]);
    let status = pr_status;
    let queued = queued_write(&mut a, 0x42);
    assert!(status(&mut a, reservation(RESERVATION_REGISTER, 0, &[0, 0xAA])).is_success());
    assert!(status(&mut b, reservation(RESERVATION_REGISTER, 0, &[0, 0xBB])).is_success());
    preempt_and_abort_waits_for(&mut a, &mut b, queued);
    // B's write was the last to land.
    let mut w = rw(io_opcode::WRITE, 0, 1, 0);
    w.set_sgl(SglDescriptor::in_capsule(512));
    assert!(b.run(w, &[0x0B; 512]).0.status.is_success());
    let (_, d) = b.run(rw(io_opcode::READ, 0, 1, 512), &[]);
    assert!(d.iter().all(|&x| x == 0x0B));
}

/// Admin and Fabrics command fields, checked as Linux's nvmet checks them.
mod admin_fields {
    use super::*;

    /// The one completion of a command sent with `h.cmd`: no data moved before it.
    fn only_completion(h: &mut H, sqe: Sqe, data: &[u8]) -> Cqe {
        let p = h.cmd(sqe, data);
        let [Pdu::CapsuleResp(c)] = p.as_slice() else { panic!("{p:?}") };
        assert_eq!(c.cid, h.cid);
        *c
    }

    /// Each admin command's transfer is exactly its data's size (nvmet's
    /// `nvmet_check_transfer_len`): a host buffer of another size is Data SGL Length
    /// Invalid and moves nothing; the right sizes still work.
    #[test]
    fn admin_transfers_are_exactly_the_commands_data() {
        let t = target();
        let (mut h, _) = H::admin(&t, 0);
        let refused = Status::DATA_SGL_LENGTH_INVALID.with_dnr();
        // Identify: 4096 bytes, not a 512-byte piece of them.
        let mut id = identify(1, 0);
        id.set_sgl(SglDescriptor::transport(512));
        assert_eq!(only_completion(&mut h, id, &[]).status, refused);
        // Get Log Page: NUMD's 512 bytes, in a smaller or a larger buffer.
        for sgl in [256, 1024] {
            let mut smart = log_page(log_id::SMART, 512);
            smart.set_sgl(SglDescriptor::transport(sgl));
            assert_eq!(only_completion(&mut h, smart, &[]).status, refused, "{sgl}");
        }
        // No data with Keep Alive, Set Features or a Get Features other than the Host
        // Identifier's 16 bytes.
        let mut ka = Sqe::new(admin_opcode::KEEP_ALIVE, 0);
        ka.set_sgl(SglDescriptor::transport(4096));
        assert_eq!(only_completion(&mut h, ka, &[]).status, refused);
        let mut kato = get_feature(feature::KEEP_ALIVE_TIMER, 0, 0);
        kato.set_sgl(SglDescriptor::transport(4096));
        assert_eq!(only_completion(&mut h, kato, &[]).status, refused);
        let aec = set_feature(feature::ASYNC_EVENT_CONFIG, 1 << 8);
        assert_eq!(only_completion(&mut h, aec, &[0; 16]).status, refused);
        let mut hostid = get_feature(feature::HOST_IDENTIFIER, 1, 0);
        hostid.set_sgl(SglDescriptor::transport(4096));
        assert_eq!(only_completion(&mut h, hostid, &[]).status, refused);
        // The right sizes.
        let (c, d) = h.run(identify(1, 0), &[]);
        assert_eq!((c.status, d.len()), (Status::SUCCESS, 4096));
        let (c, d) = h.run(log_page(log_id::SMART, 512), &[]);
        assert_eq!((c.status, d.len()), (Status::SUCCESS, 512));
        hostid.set_sgl(SglDescriptor::transport(16));
        assert_eq!(h.run(hostid, &[]).1, HOSTID);
        assert!(h.run(set_feature(feature::ASYNC_EVENT_CONFIG, 1 << 8), &[]).0.status.is_success());
        // Its capabilities (SEL 011b) are DW0 only, so no buffer, as nvme-cli sends it.
        let caps = get_feature(feature::HOST_IDENTIFIER, 1, 3);
        let (c, d) = h.run(caps, &[]);
        assert_eq!((c.status, c.dw0, d.len()), (Status::SUCCESS, 0, 0));
        let mut caps_with_buffer = caps;
        caps_with_buffer.set_sgl(SglDescriptor::transport(16));
        assert_eq!(only_completion(&mut h, caps_with_buffer, &[]).status, refused);
    }

    /// A Connect's data is its 1024 bytes: more in the capsule is refused.
    #[test]
    fn connect_data_longer_than_1024_bytes_is_refused() {
        let t = target();
        let mut h = H::new(&t, false, false);
        let sqe = ConnectCmd { recfmt: 0, qid: 0, sqsize: 31, cattr: 0, kato: 0 }.to_sqe(0);
        let d = ConnectData {
            hostid: HOSTID,
            cntlid: CNTLID_DYNAMIC,
            subnqn: SUB.into(),
            hostnqn: HOST.into(),
        };
        let mut long = d.to_bytes();
        long.resize(2048, 0);
        let c = only_completion(&mut h, sqe, &long);
        assert_eq!(c.status, Status::DATA_SGL_LENGTH_INVALID.with_dnr());
        assert!(!h.conn.is_connected());
        assert!(h.run(sqe, &d.to_bytes()).0.status.is_success());
    }

    fn disconnect(recfmt: u16) -> Sqe {
        let mut s = Sqe::new(admin_opcode::FABRICS, 0);
        s.nsid = u32::from(fctype::DISCONNECT);
        s.cdw[0] = u32::from(recfmt);
        s
    }

    /// Disconnect deletes an I/O queue (NVMe-oF 1.1 §3.5): on the admin queue it is
    /// Invalid Queue Type and the controller stays; a RECFMT other than 0 is Incompatible
    /// Format. Properties are the admin queue's: on an I/O queue Invalid Opcode (nvmet).
    #[test]
    fn disconnect_is_refused_on_the_admin_queue_and_properties_on_io_queues() {
        let t = target();
        let (mut admin, cntlid) = H::admin(&t, 0);
        let c = only_completion(&mut admin, disconnect(0), &[]);
        assert_eq!(c.status, Status::INVALID_QUEUE_TYPE.with_dnr());
        assert_eq!((c.status.sct(), c.status.sc()), (1, 0x85));
        assert!(admin.conn.is_closed().is_none());
        assert!(admin.run(identify(1, 0), &[]).0.status.is_success());
        let mut q = H::io(&t, cntlid, 1, 0);
        let c = only_completion(&mut q, disconnect(1), &[]);
        assert_eq!(c.status, Status::CONNECT_INCOMPATIBLE_FORMAT.with_dnr());
        assert!(q.conn.is_closed().is_none());
        let get = PropertyGetCmd { eight_bytes: false, offset: property::CSTS }.to_sqe(0);
        assert_eq!(q.run(get, &[]).0.status, Status::INVALID_OPCODE.with_dnr());
        let set = PropertySetCmd { eight_bytes: false, offset: property::CC, value: 0 }.to_sqe(0);
        assert_eq!(q.run(set, &[]).0.status, Status::INVALID_OPCODE.with_dnr());
        // The controller is still enabled: the refused Property Set changed nothing.
        assert_eq!(admin.run(get, &[]).0.dw0 & 1, 1);
        assert!(q.run(rw(io_opcode::READ, 0, 1, 512), &[]).0.status.is_success());
    }

    /// Disconnect on an I/O queue answers and closes that queue only; its QID may be
    /// connected again.
    #[test]
    fn disconnect_closes_its_io_queue_only() {
        let t = target();
        let (mut admin, cntlid) = H::admin(&t, 0);
        let mut q1 = H::io(&t, cntlid, 1, 0);
        let mut q2 = H::io(&t, cntlid, 2, 0);
        assert!(only_completion(&mut q1, disconnect(0), &[]).status.is_success());
        assert_eq!(q1.conn.is_closed(), Some(&CloseReason::Disconnect));
        drop(q1);
        assert!(q2.conn.is_closed().is_none() && admin.conn.is_closed().is_none());
        assert!(q2.run(rw(io_opcode::READ, 0, 1, 512), &[]).0.status.is_success());
        assert!(admin.run(identify(1, 0), &[]).0.status.is_success());
        let mut again = H::io(&t, cntlid, 1, 0);
        assert!(again.run(rw(io_opcode::READ, 0, 1, 512), &[]).0.status.is_success());
    }

    /// An admin opcode or Fabrics FCTYPE the controller does not run is Invalid Opcode
    /// whatever data it names, and none of that data is asked for (no R2T).
    #[test]
    fn an_unknown_command_is_invalid_opcode_before_any_data_moves() {
        let t = target();
        let (mut h, _) = H::admin(&t, 0);
        let invalid = Status::INVALID_OPCODE.with_dnr();
        // 83h: data to the host; 81h: data from the host, by R2T or in the capsule.
        let mut to_host = Sqe::new(0x83, 0);
        to_host.set_sgl(SglDescriptor::transport(4096));
        assert_eq!(only_completion(&mut h, to_host, &[]).status, invalid);
        let mut from_host = Sqe::new(0x81, 0);
        from_host.set_sgl(SglDescriptor::transport(4096));
        assert_eq!(only_completion(&mut h, from_host, &[]).status, invalid);
        assert_eq!(only_completion(&mut h, Sqe::new(0x81, 0), &[0; 64]).status, invalid);
        // A reserved FCTYPE (03h, data from the host), on the admin queue and before a
        // Connect.
        let mut fabrics = Sqe::new(admin_opcode::FABRICS, 0);
        fabrics.nsid = 0x03;
        fabrics.set_sgl(SglDescriptor::transport(1024));
        assert_eq!(only_completion(&mut h, fabrics, &[]).status, invalid);
        let mut fresh = H::new(&t, false, false);
        assert_eq!(only_completion(&mut fresh, fabrics, &[]).status, invalid);
        // Nothing is waiting for data: the queue goes on.
        assert!(h.run(identify(1, 0), &[]).0.status.is_success());
    }

    /// An I/O queue's Connect refused for its data points at the field in error: SUBNQN
    /// (256) for an unknown subsystem, else CNTLID (16), whether the controller does not
    /// exist or another host NQN or Host Identifier made it (not told apart).
    #[test]
    fn io_connect_refusals_point_at_the_wrong_field() {
        let t = target();
        let (_admin, cntlid) = H::admin(&t, 0);
        let refused = |hostid: [u8; 16], subnqn: &str, hostnqn: &str, cntlid: u16| {
            let mut q = H::new(&t, false, false);
            let sqe = ConnectCmd { recfmt: 0, qid: 1, sqsize: 31, cattr: 0, kato: 0 }.to_sqe(0);
            let d = ConnectData { hostid, cntlid, subnqn: subnqn.into(), hostnqn: hostnqn.into() };
            let c = q.run(sqe, &d.to_bytes()).0;
            assert_eq!(c.status, Status::CONNECT_INVALID_PARAMETERS.with_dnr());
            c.dw0
        };
        assert_eq!(refused(HOSTID, "nqn.2024-01.io.example:nope", HOST, cntlid), (1 << 16) | 256);
        let other = "nqn.2014-08.org.example:host2";
        assert_eq!(refused(HOSTID, SUB, other, cntlid), (1 << 16) | 16);
        assert_eq!(refused([9; 16], SUB, HOST, cntlid), (1 << 16) | 16);
        assert_eq!(refused(HOSTID, SUB, HOST, cntlid.wrapping_add(1)), (1 << 16) | 16);
    }

    /// An I/O queue connects through the listener (port) of its controller's admin
    /// queue, whose ANA states and notices the controller follows: through another one
    /// the controller it names is not there (CNTLID, 16, in the Connect data); through
    /// its own it connects.
    #[test]
    fn an_io_queue_through_another_port_than_its_admin_queue_is_refused() {
        let t = target();
        let through = |port_id: u16| {
            let cfg = QueueConfig { port_id: Some(port_id), ..QueueConfig::default() };
            H::with_config(&t, cfg, false, false)
        };
        let mut admin = through(1);
        let c = admin.connect(SUB, 0, CNTLID_DYNAMIC, 0, 0);
        assert!(c.status.is_success(), "{c:?}");
        admin.enable();
        let cntlid = c.dw0 as u16;
        let c = through(2).connect(SUB, 1, cntlid, 0, 0);
        assert_eq!(c.status, Status::CONNECT_INVALID_PARAMETERS.with_dnr());
        assert_eq!(c.dw0, (1 << 16) | 16, "IATTR 1 (Connect data), IPO CNTLID");
        let c = through(1).connect(SUB, 1, cntlid, 0, 0);
        assert!(c.status.is_success(), "the refusal took no QID: {c:?}");
    }

    /// The SMART / Health log is the controller's only (LPA bit 0 clear): NSID 0h or
    /// FFFFFFFFh, as nvme-cli sends it; a namespace's NSID is Invalid Field.
    #[test]
    fn the_smart_log_is_the_controllers_only() {
        let t = target();
        let (mut h, _) = H::admin(&t, 0);
        let (_, id) = h.run(identify(1, 0), &[]);
        assert_eq!(id[261] & 1, 0, "LPA bit 0: no per-namespace SMART log");
        for nsid in [0, crate::target::NSID_ALL] {
            let mut smart = log_page(log_id::SMART, 512);
            smart.nsid = nsid;
            let (c, page) = h.run(smart, &[]);
            assert_eq!((c.status, page.len()), (Status::SUCCESS, 512), "{nsid:#x}");
        }
        for nsid in [1, 2] {
            let mut smart = log_page(log_id::SMART, 512);
            smart.nsid = nsid;
            assert_eq!(h.run(smart, &[]).0.status, Status::INVALID_FIELD.with_dnr(), "{nsid}");
        }
    }

    /// A discovery controller runs Get Log Page, Identify, Set/Get Features, Keep Alive,
    /// Asynchronous Event Request and the Fabrics commands (NVMe-oF 1.1 §5): Abort is
    /// Invalid Opcode there, as nvmet answers; an I/O controller still answers it.
    #[test]
    fn a_discovery_controller_has_no_abort() {
        let t = target();
        let mut d = H::new(&t, false, false);
        assert!(d.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 0, 0).status.is_success());
        d.enable();
        let abort = Sqe::new(admin_opcode::ABORT, 0);
        assert_eq!(d.run(abort, &[]).0.status, Status::INVALID_OPCODE.with_dnr());
        assert!(d.run(Sqe::new(admin_opcode::KEEP_ALIVE, 0), &[]).0.status.is_success());
        assert!(d.run(identify(1, 0), &[]).0.status.is_success());
        let (mut h, _) = H::admin(&t, 0);
        assert_eq!(h.run(abort, &[]).0.dw0, 1, "not aborted");
    }

    /// Asynchronous Event Configuration takes the bits of the notices the controller
    /// sends: an I/O controller's SMART / Health warnings (7:0), namespace (8) and ANA
    /// (11) notices; a discovery controller's Discovery Log Page Change (31). Others are
    /// Invalid Field and change nothing.
    #[test]
    fn async_event_configuration_takes_the_supported_notices_only() {
        let t = target();
        let (mut h, _) = H::admin(&t, 0);
        let aec = feature::ASYNC_EVENT_CONFIG;
        let all = 0xFF | (1 << 8) | (1 << 11);
        assert!(h.run(set_feature(aec, all), &[]).0.status.is_success());
        for bit in [9, 20, 31] {
            let c = h.run(set_feature(aec, 1 << bit), &[]).0;
            assert_eq!(c.status, Status::INVALID_FIELD.with_dnr(), "bit {bit}");
        }
        assert_eq!(h.run(get_feature(aec, 0, 0), &[]).0.dw0, all);
        let mut d = H::new(&t, false, false);
        assert!(d.connect(DISCOVERY_NQN, 0, CNTLID_DYNAMIC, 0, 0).status.is_success());
        d.enable();
        for v in [1 << 1, 1 << 8] {
            assert_eq!(d.run(set_feature(aec, v), &[]).0.status, Status::INVALID_FIELD.with_dnr());
        }
        assert!(d.run(set_feature(aec, 1 << 31), &[]).0.status.is_success());
    }

    /// Get Features of Reservation Persistence (83h) and Namespace Write Protection
    /// Config (84h): the default (SEL 001b) and the saved value (010b, neither is
    /// saveable) are 0 whatever the current one is.
    #[test]
    fn namespace_features_default_to_zero() {
        let store_dir = tempfile::tempdir().unwrap();
        let store = Arc::new(crate::persist::NamespaceStore::open(store_dir.path()).unwrap());
        let t = target_with(Some(store));
        let (mut h, _) = H::admin(&t, 0);
        let ns_feature = |fid: u8, sel: u32| {
            let mut g = get_feature(fid, 0, sel);
            g.nsid = 1;
            g
        };
        let mut wp = set_feature(feature::NAMESPACE_WRITE_PROTECTION, 1);
        wp.nsid = 1;
        assert!(h.run(wp, &[]).0.status.is_success());
        let mut ptpl = set_feature(feature::RESERVATION_PERSISTENCE, 1);
        ptpl.nsid = 1;
        assert!(h.run(ptpl, &[]).0.status.is_success());
        for fid in [feature::NAMESPACE_WRITE_PROTECTION, feature::RESERVATION_PERSISTENCE] {
            assert_eq!(h.run(ns_feature(fid, 0), &[]).0.dw0, 1, "{fid:#x} current");
            for sel in [1, 2] {
                assert_eq!(h.run(ns_feature(fid, sel), &[]).0.dw0, 0, "{fid:#x} sel {sel}");
            }
        }
    }
}
