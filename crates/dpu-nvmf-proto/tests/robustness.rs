//! The parsers never panic on arbitrary input, truncations or bit flips, and
//! randomly generated valid PDUs always round-trip.

mod common;

use common::*;
use dpu_nvmf_proto::{
    CapsuleCmd, ConnectData, Cqe, DataPdu, DataPduHeader, DecodeError, DecoderConfig,
    FabricsCommand, Framing, IcReq, IcResp, Pdu, PduDecoder, R2t, Role, Sqe, Status, TermReq,
    fuzz_decode,
};

fn configs() -> Vec<(DecoderConfig, bool, bool, bool)> {
    let mut v = Vec::new();
    for role in [Role::Controller, Role::Host] {
        for established in [false, true] {
            for (h, d) in [(false, false), (true, true), (true, false)] {
                let mut c = match role {
                    Role::Controller => DecoderConfig::controller(),
                    Role::Host => DecoderConfig::host(),
                };
                c.max_data_len = 64 * 1024;
                v.push((c, established, h, d));
            }
        }
    }
    v
}

/// Feeds `data` in rng-sized chunks, decoding eagerly; checks the memory bound.
fn drive(cfg: DecoderConfig, established: bool, h: bool, d: bool, data: &[u8], rng: &mut Rng) {
    let mut dec =
        if established { PduDecoder::established(cfg, h, d) } else { PduDecoder::new(cfg) };
    let bound = cfg.max_data_len.max(cfg.max_in_capsule_data) as usize + 256;
    let mut at = 0;
    while at < data.len() {
        let n = 1 + rng.below(300);
        let end = (at + n).min(data.len());
        dec.feed(&data[at..end]);
        at = end;
        loop {
            match dec.decode() {
                Ok(Some(p)) => {
                    let _ = p.to_vec(&Framing::PLAIN);
                }
                Ok(None) => break,
                Err(e) => {
                    if e.is_fatal() {
                        assert!(dec.is_closed());
                        assert_eq!(dec.buffered(), 0);
                        break;
                    }
                }
            }
        }
        assert!(dec.buffered() <= bound + 300, "decoder buffers {} bytes", dec.buffered());
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::new(42);
    for round in 0..400 {
        let len = rng.below(if round % 10 == 0 { 20_000 } else { 600 });
        let mut data = rng.bytes(len);
        // Make a fair share start with a plausible common header so the deeper
        // paths are reached, not just "unknown PDU type".
        if round % 2 == 0 && data.len() >= 8 {
            data[0] = [0u8, 1, 2, 3, 4, 5, 6, 7, 9][rng.below(9)];
            data[2] = [128u8, 24, 72][rng.below(3)];
            data[4..8].copy_from_slice(&(rng.below(400) as u32).to_le_bytes());
        }
        for (cfg, est, h, d) in configs() {
            drive(cfg, est, h, d, &data, &mut rng);
        }
        fuzz_decode(&data);
        let _ = Sqe::parse(&data).map(|s| FabricsCommand::parse(&s));
        let _ = Cqe::parse(&data);
        let _ = ConnectData::parse(&data);
    }
}

fn valid_stream(f: Framing, role: Role) -> Vec<u8> {
    let (ic, body) = match role {
        Role::Controller => (Pdu::IcReq(ic_req(f.hdgst, f.ddgst)), host_pdus()),
        Role::Host => (Pdu::IcResp(ic_resp(f.hdgst, f.ddgst)), controller_pdus()),
    };
    let mut w = ic.to_vec(&Framing::PLAIN).expect("encode");
    for p in &body {
        p.encode(&f, &mut w).expect("encode");
    }
    w
}

#[test]
fn truncations_yield_a_prefix_and_no_error() {
    for role in [Role::Controller, Role::Host] {
        for (h, d) in [(false, false), (true, true)] {
            let f = Framing { hdgst: h, ddgst: d, pda: 0 };
            let w = valid_stream(f, role);
            let cfg = match role {
                Role::Controller => DecoderConfig::controller(),
                Role::Host => DecoderConfig::host(),
            };
            let mut full = PduDecoder::new(cfg);
            full.feed(&w);
            let mut all = Vec::new();
            while let Some(p) = full.decode().unwrap() {
                if all.is_empty() {
                    full.set_digests(h, d);
                }
                all.push(p);
            }
            // Every 7th cut point keeps the test fast while hitting every field.
            for cut in (0..w.len()).step_by(7).chain([w.len() - 1]) {
                let mut dec = PduDecoder::new(cfg);
                dec.feed(&w[..cut]);
                let mut got = Vec::new();
                while let Some(p) = dec.decode().unwrap() {
                    if got.is_empty() {
                        dec.set_digests(h, d);
                    }
                    got.push(p);
                }
                assert!(got.len() < all.len());
                assert_eq!(got[..], all[..got.len()]);
                assert!(dec.bytes_needed() > 0);
            }
        }
    }
}

#[test]
fn bit_flips_never_panic_and_are_detected_with_digests() {
    let mut rng = Rng::new(7);
    let f = Framing { hdgst: true, ddgst: true, pda: 0 };
    let w = valid_stream(f, Role::Controller);
    let mut detected = 0;
    let rounds = 600;
    for _ in 0..rounds {
        let mut m = w.clone();
        // Flip one bit after the ICReq (ICReq itself has no digest).
        let at = 128 + rng.below(m.len() - 128);
        m[at] ^= 1 << rng.below(8);
        let mut dec = PduDecoder::new(DecoderConfig::controller());
        dec.feed(&m);
        let mut saw_error = false;
        loop {
            match dec.decode() {
                Ok(Some(Pdu::IcReq(r))) => dec.set_digests(r.hdgst, r.ddgst),
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(DecodeError::DataDigest { .. }) => saw_error = true,
                Err(_) => {
                    saw_error = true;
                    break;
                }
            }
        }
        // With both digests on (and PDA 0, so no padding) every byte after the
        // ICReq is covered by a digest: a flip is an error, or (PLEN changed) the
        // stream ends mid-PDU. Never silently accepted.
        if saw_error || dec.buffered() > 0 {
            detected += 1;
        }
        let mut fz = vec![0x26u8, 13];
        fz.extend_from_slice(&m[128..]);
        fuzz_decode(&fz);
    }
    assert_eq!(detected, rounds, "every single-bit corruption is detected");
}

fn random_pdu(rng: &mut Rng) -> (Pdu, Role) {
    let u16r = |r: &mut Rng| r.next_u64() as u16;
    let u32r = |r: &mut Rng| r.next_u64() as u32;
    let data = |r: &mut Rng, min: usize| {
        let n = min + r.below(3000);
        r.bytes(n)
    };
    match rng.below(9) {
        0 => (
            Pdu::IcReq(IcReq {
                pfv: 0,
                hpda: rng.below(32) as u8,
                hdgst: rng.below(2) == 1,
                ddgst: rng.below(2) == 1,
                maxr2t: u32r(rng),
            }),
            Role::Controller,
        ),
        1 => (
            Pdu::IcResp(IcResp {
                pfv: 0,
                cpda: rng.below(32) as u8,
                hdgst: rng.below(2) == 1,
                ddgst: rng.below(2) == 1,
                maxh2cdata: 4096 + 4 * rng.below(1 << 18) as u32,
            }),
            Role::Host,
        ),
        2 => {
            let n = rng.below(129);
            (
                Pdu::H2CTermReq(TermReq { fes: u16r(rng), fei: u32r(rng), data: rng.bytes(n) }),
                Role::Controller,
            )
        }
        3 => {
            let n = rng.below(129);
            (
                Pdu::C2HTermReq(TermReq { fes: u16r(rng), fei: u32r(rng), data: rng.bytes(n) }),
                Role::Host,
            )
        }
        4 => {
            let raw: [u8; 64] = rng.bytes(64).try_into().expect("64 bytes");
            let d = if rng.below(3) == 0 { Vec::new() } else { data(rng, 1) };
            (
                Pdu::CapsuleCmd(CapsuleCmd { sqe: Sqe::from_bytes(&raw), data: d.into() }),
                Role::Controller,
            )
        }
        5 => {
            let raw: [u8; 16] = rng.bytes(16).try_into().expect("16 bytes");
            let mut c = Cqe::from_bytes(&raw);
            c.status = Status::from_raw(u16r(rng));
            (Pdu::CapsuleResp(c), Role::Host)
        }
        6 => (
            Pdu::H2CData(DataPdu {
                header: DataPduHeader {
                    cccid: u16r(rng),
                    ttag: u16r(rng),
                    datao: u32r(rng),
                    last: rng.below(2) == 1,
                    success: false,
                },
                data: data(rng, 1).into(),
            }),
            Role::Controller,
        ),
        7 => {
            let last = rng.below(2) == 1;
            (
                Pdu::C2HData(DataPdu {
                    header: DataPduHeader {
                        cccid: u16r(rng),
                        ttag: 0,
                        datao: u32r(rng),
                        last,
                        success: last && rng.below(2) == 1,
                    },
                    data: data(rng, 1).into(),
                }),
                Role::Host,
            )
        }
        _ => (
            Pdu::R2t(R2t {
                cccid: u16r(rng),
                ttag: u16r(rng),
                r2to: u32r(rng),
                r2tl: 1 + (u32r(rng) >> 1),
            }),
            Role::Host,
        ),
    }
}

#[test]
fn random_valid_pdus_roundtrip() {
    let mut rng = Rng::new(0xC0FFEE);
    for _ in 0..1500 {
        let (pdu, role) = random_pdu(&mut rng);
        let f = Framing {
            hdgst: rng.below(2) == 1,
            ddgst: rng.below(2) == 1,
            pda: rng.below(32) as u8,
        };
        let ic = matches!(pdu, Pdu::IcReq(_) | Pdu::IcResp(_));
        let mut cfg = match role {
            Role::Controller => DecoderConfig::controller(),
            Role::Host => DecoderConfig::host(),
        };
        cfg.pda = f.pda;
        let mut dec =
            if ic { PduDecoder::new(cfg) } else { PduDecoder::established(cfg, f.hdgst, f.ddgst) };
        let w = pdu.to_vec(&f).expect("encode");
        dec.feed(&w);
        assert_eq!(dec.decode(), Ok(Some(pdu)));
        assert_eq!(dec.buffered(), 0);
    }
}
