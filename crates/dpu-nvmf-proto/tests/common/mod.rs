//! Shared helpers for the integration tests: a tiny PRNG and sample PDUs.
#![allow(dead_code)]

use dpu_nvmf_proto::{
    CapsuleCmd, ConnectCmd, ConnectData, Cqe, DataPdu, DataPduHeader, IcReq, IcResp, Pdu, R2t,
    SglDescriptor, Sqe, Status, TermReq, fabrics, sqe::io_opcode,
};

/// xorshift64* — deterministic, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

pub fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

pub fn write_sqe(cid: u16, len: u32, in_capsule: bool) -> Sqe {
    let mut s = Sqe::new(io_opcode::WRITE, cid);
    s.nsid = 1;
    s.set_rw(100, len / 512);
    s.set_sgl(if in_capsule {
        SglDescriptor::in_capsule(len)
    } else {
        SglDescriptor::transport(len)
    });
    s
}

pub fn connect_capsule(cid: u16) -> CapsuleCmd {
    let cmd = ConnectCmd { recfmt: 0, qid: 0, sqsize: 31, cattr: 0, kato: 120_000 };
    let data = ConnectData {
        hostid: [7; 16],
        cntlid: fabrics::CNTLID_DYNAMIC,
        subnqn: "nqn.2024-01.io.example:sub1".into(),
        hostnqn: "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001".into(),
    };
    CapsuleCmd { sqe: cmd.to_sqe(cid), data: data.to_bytes().into() }
}

/// PDUs a host sends after ICReq (decoded by a controller).
pub fn host_pdus() -> Vec<Pdu> {
    vec![
        Pdu::CapsuleCmd(connect_capsule(1)),
        Pdu::CapsuleCmd(CapsuleCmd {
            sqe: write_sqe(2, 4096, true),
            data: pattern(4096, 1).into(),
        }),
        Pdu::CapsuleCmd(CapsuleCmd { sqe: Sqe::new(0x18, 3), data: vec![].into() }),
        Pdu::H2CData(DataPdu {
            header: DataPduHeader { cccid: 4, ttag: 9, datao: 0, last: false, success: false },
            data: pattern(1000, 2).into(),
        }),
        Pdu::H2CData(DataPdu {
            header: DataPduHeader { cccid: 4, ttag: 9, datao: 1000, last: true, success: false },
            data: pattern(3, 3).into(),
        }),
    ]
}

/// PDUs a controller sends after ICResp (decoded by a host).
pub fn controller_pdus() -> Vec<Pdu> {
    let mut c = Cqe::new(1, Status::SUCCESS);
    c.dw0 = 0x0001;
    c.sqhd = 1;
    vec![
        Pdu::CapsuleResp(c),
        Pdu::CapsuleResp(Cqe::new(7, Status::LBA_OUT_OF_RANGE.with_dnr())),
        Pdu::R2t(R2t { cccid: 4, ttag: 9, r2to: 0, r2tl: 1003 }),
        Pdu::C2HData(DataPdu {
            header: DataPduHeader { cccid: 5, ttag: 0, datao: 0, last: false, success: false },
            data: pattern(2048, 4).into(),
        }),
        Pdu::C2HData(DataPdu {
            header: DataPduHeader { cccid: 5, ttag: 0, datao: 2048, last: true, success: true },
            data: pattern(2048, 5).into(),
        }),
        Pdu::C2HData(DataPdu {
            header: DataPduHeader { cccid: 6, ttag: 0, datao: 0, last: true, success: false },
            data: vec![0xAB].into(),
        }),
    ]
}

pub fn ic_req(hdgst: bool, ddgst: bool) -> IcReq {
    IcReq { pfv: 0, hpda: 0, hdgst, ddgst, maxr2t: 3 }
}

pub fn ic_resp(hdgst: bool, ddgst: bool) -> IcResp {
    IcResp { pfv: 0, cpda: 0, hdgst, ddgst, maxh2cdata: 131_072 }
}

pub fn term_req() -> TermReq {
    TermReq { fes: 1, fei: 2, data: pattern(24, 9) }
}
