//! Every malformed input maps to the right termination-request FES and FEI
//! (NVMe/TCP 1.0 §3.6.2.4/§3.6.2.5 and §3.5).

mod common;

use common::*;
use dpu_nvmf_proto::digest::crc32c;
use dpu_nvmf_proto::pdu::flags;
use dpu_nvmf_proto::{
    CapsuleCmd, Cqe, DataPdu, DataPduHeader, DecodeError, DecoderConfig, FatalError, Fes, Framing,
    IcReq, Pdu, PduDecoder, R2t, Role, Status,
};

const PLAIN: Framing = Framing::PLAIN;
const DIGESTS: Framing = Framing { hdgst: true, ddgst: true, pda: 0 };

fn dec(role: Role, f: Framing) -> PduDecoder {
    let cfg = match role {
        Role::Controller => DecoderConfig::controller(),
        Role::Host => DecoderConfig::host(),
    };
    PduDecoder::established(cfg, f.hdgst, f.ddgst)
}

fn decode_err(mut d: PduDecoder, wire: &[u8]) -> DecodeError {
    d.feed(wire);
    match d.decode() {
        Err(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// Asserts a fatal error with `fes` and `fei`.
#[track_caller]
fn expect_fatal(e: DecodeError, fes: Fes, fei: u32) -> FatalError {
    match e {
        DecodeError::Fatal(f) => {
            assert_eq!((f.fes, f.fei), (fes, fei), "{}", f.reason);
            f
        }
        other => panic!("expected fatal {fes:?}, got {other:?}"),
    }
}

/// Recomputes the header digest after a header mutation.
fn fix_hdgst(wire: &mut [u8]) {
    let hlen = usize::from(wire[2]);
    let d = crc32c(&wire[..hlen]);
    wire[hlen..hlen + 4].copy_from_slice(&d.to_le_bytes());
}

fn h2c(len: usize, last: bool) -> Pdu {
    Pdu::H2CData(DataPdu {
        header: DataPduHeader { cccid: 1, ttag: 2, datao: 0, last, success: false },
        data: pattern(len, 0).into(),
    })
}

fn c2h(len: usize, last: bool, success: bool) -> Pdu {
    Pdu::C2HData(DataPdu {
        header: DataPduHeader { cccid: 1, ttag: 0, datao: 0, last, success },
        data: pattern(len, 0).into(),
    })
}

fn write_cmd(len: usize) -> Pdu {
    Pdu::CapsuleCmd(CapsuleCmd {
        sqe: write_sqe(1, len as u32, true),
        data: pattern(len, 0).into(),
    })
}

fn r2t(r2tl: u32) -> Pdu {
    Pdu::R2t(R2t { cccid: 1, ttag: 1, r2to: 0, r2tl })
}

#[test]
fn unknown_type_is_invalid_field_at_0() {
    for t in [0x08u8, 0x0A, 0x10, 0xFF] {
        let mut w = write_cmd(0).to_vec(&PLAIN).unwrap();
        w[0] = t;
        expect_fatal(decode_err(dec(Role::Controller, PLAIN), &w), Fes::InvalidHeaderField, 0);
    }
}

#[test]
fn wrong_direction_is_invalid_field_at_0() {
    let resp = Pdu::CapsuleResp(Cqe::new(1, Status::SUCCESS)).to_vec(&PLAIN).unwrap();
    expect_fatal(decode_err(dec(Role::Controller, PLAIN), &resp), Fes::InvalidHeaderField, 0);
    let cmd = write_cmd(0).to_vec(&PLAIN).unwrap();
    expect_fatal(decode_err(dec(Role::Host, PLAIN), &cmd), Fes::InvalidHeaderField, 0);
}

#[test]
fn sequence_errors() {
    // A command before ICReq.
    let cmd = write_cmd(0).to_vec(&PLAIN).unwrap();
    let f = expect_fatal(
        decode_err(PduDecoder::new(DecoderConfig::controller()), &cmd),
        Fes::PduSequenceError,
        0,
    );
    assert_eq!(f.pdu_header, cmd[..72].to_vec(), "the command's header, HLEN 72");
    // As far as it came: the error is reported once the common header is in.
    let mut d = PduDecoder::new(DecoderConfig::controller());
    d.feed(&cmd[..30]);
    let f = expect_fatal(d.decode().unwrap_err(), Fes::PduSequenceError, 0);
    assert_eq!(f.pdu_header, cmd[..30].to_vec());
    // A second ICReq.
    let ic = Pdu::IcReq(IcReq::default()).to_vec(&PLAIN).unwrap();
    let mut d = PduDecoder::new(DecoderConfig::controller());
    d.feed(&ic);
    d.feed(&ic);
    assert!(matches!(d.decode(), Ok(Some(Pdu::IcReq(_)))));
    expect_fatal(d.decode().unwrap_err(), Fes::PduSequenceError, 0);
    // Host: R2T before ICResp, ICResp twice.
    let r = r2t(1).to_vec(&PLAIN).unwrap();
    expect_fatal(decode_err(PduDecoder::new(DecoderConfig::host()), &r), Fes::PduSequenceError, 0);
    let icr = Pdu::IcResp(ic_resp(false, false)).to_vec(&PLAIN).unwrap();
    expect_fatal(decode_err(dec(Role::Host, PLAIN), &icr), Fes::PduSequenceError, 0);
}

#[test]
fn undefined_flags_are_invalid_field_at_1() {
    let cases: Vec<(Role, Pdu, u8)> = vec![
        (Role::Controller, write_cmd(16), flags::LAST_PDU),
        (Role::Controller, h2c(16, false), flags::SUCCESS),
        (Role::Controller, Pdu::IcReq(IcReq::default()), flags::HDGSTF),
        (Role::Controller, Pdu::H2CTermReq(term_req()), flags::DDGSTF),
        (Role::Host, Pdu::CapsuleResp(Cqe::new(1, Status::SUCCESS)), flags::LAST_PDU),
        (Role::Host, r2t(1), flags::DDGSTF),
        (Role::Host, c2h(4, false, false), 0x10),
        (Role::Host, c2h(4, false, false), 0x80),
    ];
    for (role, pdu, bit) in cases {
        let mut d = match role {
            Role::Controller => PduDecoder::new(DecoderConfig::controller()),
            Role::Host => PduDecoder::new(DecoderConfig::host()),
        };
        if !matches!(pdu, Pdu::IcReq(_) | Pdu::IcResp(_) | Pdu::H2CTermReq(_) | Pdu::C2HTermReq(_))
        {
            d = dec(role, PLAIN);
        }
        let mut w = pdu.to_vec(&PLAIN).unwrap();
        w[1] |= bit;
        expect_fatal(decode_err(d, &w), Fes::InvalidHeaderField, 1);
    }
}

#[test]
fn digest_flags_must_match_negotiation() {
    // HDGSTF present without negotiation (header digest appended, so lengths are right).
    let hd_only = Framing { hdgst: true, ..PLAIN };
    let w = write_cmd(0).to_vec(&hd_only).unwrap();
    expect_fatal(decode_err(dec(Role::Controller, PLAIN), &w), Fes::InvalidHeaderField, 1);
    // HDGSTF missing although negotiated.
    let w = write_cmd(0).to_vec(&PLAIN).unwrap();
    expect_fatal(decode_err(dec(Role::Controller, hd_only), &w), Fes::InvalidHeaderField, 1);
    // DDGSTF without data digest negotiated.
    let dd_only = Framing { ddgst: true, ..PLAIN };
    let w = h2c(8, true).to_vec(&dd_only).unwrap();
    expect_fatal(decode_err(dec(Role::Controller, PLAIN), &w), Fes::InvalidHeaderField, 1);
    // DDGSTF missing on a PDU with data while negotiated.
    let w = h2c(8, true).to_vec(&PLAIN).unwrap();
    expect_fatal(decode_err(dec(Role::Controller, dd_only), &w), Fes::InvalidHeaderField, 1);
    // Without data, a missing DDGSTF is fine.
    let mut d = dec(Role::Controller, dd_only);
    d.feed(&write_cmd(0).to_vec(&dd_only).unwrap());
    assert!(matches!(d.decode(), Ok(Some(Pdu::CapsuleCmd(_)))));
}

#[test]
fn success_without_last_is_invalid_field_at_1() {
    let mut w = c2h(8, true, true).to_vec(&PLAIN).unwrap();
    w[1] &= !flags::LAST_PDU;
    expect_fatal(decode_err(dec(Role::Host, PLAIN), &w), Fes::InvalidHeaderField, 1);
}

#[test]
fn wrong_hlen_is_invalid_field_at_2() {
    for (role, pdu) in [
        (Role::Controller, write_cmd(8)),
        (Role::Controller, h2c(8, true)),
        (Role::Host, r2t(8)),
        (Role::Host, Pdu::CapsuleResp(Cqe::default())),
        (Role::Host, c2h(8, true, false)),
    ] {
        for delta in [1i16, -1, -8] {
            let mut w = pdu.to_vec(&PLAIN).unwrap();
            w[2] = (i16::from(w[2]) + delta) as u8;
            expect_fatal(decode_err(dec(role, PLAIN), &w), Fes::InvalidHeaderField, 2);
        }
    }
    let mut w = Pdu::IcReq(IcReq::default()).to_vec(&PLAIN).unwrap();
    w[2] = 127;
    expect_fatal(
        decode_err(PduDecoder::new(DecoderConfig::controller()), &w),
        Fes::InvalidHeaderField,
        2,
    );
}

#[test]
fn bad_pdo_is_invalid_field_at_3() {
    // PDO on PDU types without data.
    let mut w = r2t(8).to_vec(&PLAIN).unwrap();
    w[3] = 24;
    expect_fatal(decode_err(dec(Role::Host, PLAIN), &w), Fes::InvalidHeaderField, 3);
    let mut w = Pdu::IcReq(IcReq::default()).to_vec(&PLAIN).unwrap();
    w[3] = 128;
    expect_fatal(
        decode_err(PduDecoder::new(DecoderConfig::controller()), &w),
        Fes::InvalidHeaderField,
        3,
    );
    // PDO inside the header, beyond PLEN, or misaligned.
    for pdo in [0u8, 20, 23, 70, 200] {
        let mut w = h2c(100, true).to_vec(&PLAIN).unwrap();
        w[3] = pdo;
        expect_fatal(decode_err(dec(Role::Controller, PLAIN), &w), Fes::InvalidHeaderField, 3);
    }
    // PDO pointing inside the header digest.
    let mut w = h2c(100, true).to_vec(&DIGESTS).unwrap();
    assert_eq!(w[3], 28);
    w[3] = 24;
    expect_fatal(decode_err(dec(Role::Controller, DIGESTS), &w), Fes::InvalidHeaderField, 3);
    // With CPDA 1 (8-byte alignment) a PDO of 28 is misaligned; 32 is right.
    let mut cfg = DecoderConfig::controller();
    cfg.pda = 1;
    let w = h2c(100, true).to_vec(&DIGESTS).unwrap();
    expect_fatal(
        decode_err(PduDecoder::established(cfg, true, true), &w),
        Fes::InvalidHeaderField,
        3,
    );
    let aligned = Framing { pda: 1, ..DIGESTS };
    let mut d = PduDecoder::established(cfg, true, true);
    d.feed(&h2c(100, true).to_vec(&aligned).unwrap());
    assert_eq!(d.decode(), Ok(Some(h2c(100, true))));
}

#[test]
fn bad_plen_is_invalid_field_at_4() {
    // ICReq with PLEN != 128.
    let mut w = Pdu::IcReq(IcReq::default()).to_vec(&PLAIN).unwrap();
    w[4] = 129;
    expect_fatal(
        decode_err(PduDecoder::new(DecoderConfig::controller()), &w),
        Fes::InvalidHeaderField,
        4,
    );
    // CapsuleResp / R2T with extra bytes.
    let mut w = Pdu::CapsuleResp(Cqe::default()).to_vec(&PLAIN).unwrap();
    w[4] = 28;
    expect_fatal(decode_err(dec(Role::Host, PLAIN), &w), Fes::InvalidHeaderField, 4);
    let mut w = r2t(1).to_vec(&DIGESTS).unwrap();
    w[4] = 24; // header digest present but not counted
    expect_fatal(decode_err(dec(Role::Host, DIGESTS), &w), Fes::InvalidHeaderField, 4);
    // CapsuleCmd shorter than its header.
    let mut w = write_cmd(0).to_vec(&PLAIN).unwrap();
    w[4] = 64;
    expect_fatal(decode_err(dec(Role::Controller, PLAIN), &w), Fes::InvalidHeaderField, 4);
    // Data PDU without data.
    let mut w = h2c(4, true).to_vec(&PLAIN).unwrap();
    w[3] = 0;
    w[4] = 24;
    expect_fatal(decode_err(dec(Role::Controller, PLAIN), &w), Fes::InvalidHeaderField, 4);
    // With a data digest, PLEN leaves only room for the digest.
    let mut w = h2c(4, true).to_vec(&DIGESTS).unwrap();
    w[4] = 28 + 4;
    expect_fatal(decode_err(dec(Role::Controller, DIGESTS), &w), Fes::InvalidHeaderField, 4);
}

#[test]
fn datal_mismatch_is_invalid_field_at_16() {
    for f in [PLAIN, DIGESTS] {
        let mut w = h2c(100, true).to_vec(&f).unwrap();
        w[16] = 99;
        if f.hdgst {
            fix_hdgst(&mut w);
        }
        expect_fatal(decode_err(dec(Role::Controller, f), &w), Fes::InvalidHeaderField, 16);
        let mut w = c2h(100, true, false).to_vec(&f).unwrap();
        w[17] = 1;
        if f.hdgst {
            fix_hdgst(&mut w);
        }
        expect_fatal(decode_err(dec(Role::Host, f), &w), Fes::InvalidHeaderField, 16);
    }
}

#[test]
fn zero_r2tl_is_invalid_field_at_16() {
    let w = r2t(0).to_vec(&DIGESTS).unwrap();
    expect_fatal(decode_err(dec(Role::Host, DIGESTS), &w), Fes::InvalidHeaderField, 16);
}

#[test]
fn header_digest_error_reports_received_digest() {
    for pdu in [write_cmd(0), write_cmd(64), h2c(10, true)] {
        let mut w = pdu.to_vec(&DIGESTS).unwrap();
        w[10] ^= 0x40; // corrupt a header byte after the common header
        let hlen = usize::from(w[2]);
        let received = u32::from_le_bytes([w[hlen], w[hlen + 1], w[hlen + 2], w[hlen + 3]]);
        let f = expect_fatal(
            decode_err(dec(Role::Controller, DIGESTS), &w),
            Fes::HeaderDigestError,
            received,
        );
        assert_eq!(f.pdu_header, w[..hlen].to_vec(), "whole header reported");
    }
    // The digest is checked before PDU-specific fields are trusted.
    let mut w = h2c(10, true).to_vec(&DIGESTS).unwrap();
    w[16] = 0xFF; // DATAL wrong *and* digest wrong
    expect_fatal(
        decode_err(dec(Role::Controller, DIGESTS), &w),
        Fes::HeaderDigestError,
        u32::from_le_bytes([w[24], w[25], w[26], w[27]]),
    );
}

#[test]
fn data_digest_error_is_not_fatal() {
    let mut d = dec(Role::Controller, DIGESTS);
    let good = write_cmd(512);
    let mut bad = good.to_vec(&DIGESTS).unwrap();
    let n = bad.len();
    bad[n - 10] ^= 1; // flip a data bit
    d.feed(&bad);
    d.feed(&h2c(8, true).to_vec(&DIGESTS).unwrap());
    match d.decode() {
        Err(e @ DecodeError::DataDigest { .. }) => {
            assert!(!e.is_fatal());
            assert_eq!(e.fes(), None);
            assert_eq!(e.term_req(), None);
            let DecodeError::DataDigest { pdu, received, computed } = e else { unreachable!() };
            assert_ne!(received, computed);
            let Pdu::CapsuleCmd(c) = *pdu else { panic!("capsule expected") };
            assert_eq!(c.sqe.cid, 1, "the command to fail is identified");
        }
        other => panic!("expected data digest error, got {other:?}"),
    }
    // The connection goes on.
    assert_eq!(d.decode(), Ok(Some(h2c(8, true))));
    // A corrupted digest field is reported the same way.
    let mut w = c2h(8, true, false).to_vec(&DIGESTS).unwrap();
    let n = w.len();
    w[n - 1] ^= 0x80;
    let mut h = dec(Role::Host, DIGESTS);
    h.feed(&w);
    assert!(matches!(h.decode(), Err(DecodeError::DataDigest { .. })));
    assert!(!h.is_closed());
}

#[test]
fn icreq_unsupported_parameters() {
    let mut w = Pdu::IcReq(IcReq::default()).to_vec(&PLAIN).unwrap();
    w[8] = 1; // PFV 1
    expect_fatal(
        decode_err(PduDecoder::new(DecoderConfig::controller()), &w),
        Fes::UnsupportedParameter,
        8,
    );
    let w = Pdu::IcReq(IcReq { hpda: 32, ..IcReq::default() }).to_vec(&PLAIN).unwrap();
    expect_fatal(
        decode_err(PduDecoder::new(DecoderConfig::controller()), &w),
        Fes::UnsupportedParameter,
        10,
    );
}

#[test]
fn icresp_checks() {
    let mut r = ic_resp(false, false);
    r.pfv = 2;
    let w = Pdu::IcResp(r).to_vec(&PLAIN).unwrap();
    expect_fatal(
        decode_err(PduDecoder::new(DecoderConfig::host()), &w),
        Fes::UnsupportedParameter,
        8,
    );
    let mut r = ic_resp(false, false);
    r.cpda = 40;
    let w = Pdu::IcResp(r).to_vec(&PLAIN).unwrap();
    expect_fatal(
        decode_err(PduDecoder::new(DecoderConfig::host()), &w),
        Fes::UnsupportedParameter,
        10,
    );
    for bad in [0, 4095, 4098, 65_537] {
        let mut r = ic_resp(false, false);
        r.maxh2cdata = bad;
        let w = Pdu::IcResp(r).to_vec(&PLAIN).unwrap();
        expect_fatal(
            decode_err(PduDecoder::new(DecoderConfig::host()), &w),
            Fes::InvalidHeaderField,
            12,
        );
    }
}

#[test]
fn data_limits() {
    let mut cfg = DecoderConfig::controller();
    cfg.max_data_len = 4096;
    cfg.max_in_capsule_data = 1024;
    let ok = |p: Pdu| {
        let mut d = PduDecoder::established(cfg, false, false);
        d.feed(&p.to_vec(&PLAIN).unwrap());
        assert_eq!(d.decode(), Ok(Some(p)));
    };
    ok(h2c(4096, true));
    ok(write_cmd(1024));
    let w = h2c(4097, true).to_vec(&PLAIN).unwrap();
    expect_fatal(
        decode_err(PduDecoder::established(cfg, false, false), &w),
        Fes::DataTransferLimitExceeded,
        0,
    );
    let w = write_cmd(1025).to_vec(&PLAIN).unwrap();
    expect_fatal(
        decode_err(PduDecoder::established(cfg, false, false), &w),
        Fes::DataTransferLimitExceeded,
        0,
    );
    // A huge PLEN is refused from the common header alone, before anything is buffered.
    let mut d = PduDecoder::established(cfg, false, false);
    let mut hdr = h2c(8, true).to_vec(&PLAIN).unwrap();
    hdr.truncate(8);
    hdr[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    d.feed(&hdr);
    expect_fatal(d.decode().unwrap_err(), Fes::DataTransferLimitExceeded, 0);
    // Host side: C2HData beyond the host's limit.
    let mut hc = DecoderConfig::host();
    hc.max_data_len = 100;
    let w = c2h(101, true, false).to_vec(&PLAIN).unwrap();
    expect_fatal(
        decode_err(PduDecoder::established(hc, false, false), &w),
        Fes::DataTransferLimitExceeded,
        0,
    );
}

#[test]
fn malformed_term_req_closes_without_reply() {
    for plen in [0u32, 8, 23, 153, 1000, u32::MAX] {
        let mut w = Pdu::H2CTermReq(term_req()).to_vec(&PLAIN).unwrap();
        w[4..8].copy_from_slice(&plen.to_le_bytes());
        let e = decode_err(PduDecoder::new(DecoderConfig::controller()), &w);
        assert_eq!(e, DecodeError::MalformedTermReq { plen });
        assert!(e.is_fatal());
        assert_eq!(e.term_req(), None);
    }
}

#[test]
fn errors_are_sticky_and_input_is_dropped() {
    let mut d = dec(Role::Controller, PLAIN);
    let mut w = write_cmd(0).to_vec(&PLAIN).unwrap();
    w[2] = 1;
    d.feed(&w);
    let e = d.decode().unwrap_err();
    assert!(d.is_closed());
    d.feed(&write_cmd(0).to_vec(&PLAIN).unwrap());
    assert_eq!(d.decode(), Err(e.clone()));
    assert_eq!(d.buffered(), 0);
    assert_eq!(d.bytes_needed(), 0);
}

#[test]
fn after_peer_term_req_nothing_more_is_decoded() {
    let mut d = dec(Role::Controller, PLAIN);
    d.feed(&Pdu::H2CTermReq(term_req()).to_vec(&PLAIN).unwrap());
    d.feed(&write_cmd(0).to_vec(&PLAIN).unwrap());
    assert!(matches!(d.decode(), Ok(Some(Pdu::H2CTermReq(_)))));
    assert_eq!(d.decode(), Ok(None));
    assert!(d.is_closed());
}

#[test]
fn fatal_error_becomes_a_decodable_c2h_term_req() {
    let mut w = h2c(8, true).to_vec(&DIGESTS).unwrap();
    w[2] = 25;
    let e = decode_err(dec(Role::Controller, DIGESTS), &w);
    assert_eq!(e.fes(), Some(Fes::InvalidHeaderField));
    let t = e.term_req().expect("fatal errors are reported");
    assert_eq!((t.fes, t.fei), (0x01, 2));
    assert_eq!(t.data, w[..25].to_vec(), "the offending PDU's header, by its HLEN");
    // The controller sends it; a host decodes it (even before ICResp).
    let wire = Pdu::C2HTermReq(t.clone()).to_vec(&PLAIN).unwrap();
    assert_eq!(wire.len(), 24 + 25);
    assert_eq!(&wire[8..14], &[0x01, 0x00, 0x02, 0x00, 0x00, 0x00]);
    let mut h = PduDecoder::new(DecoderConfig::host());
    h.feed(&wire);
    assert_eq!(h.decode(), Ok(Some(Pdu::C2HTermReq(t))));
    // The header carried in a termination request is capped at 128 bytes.
    let f = FatalError::new(Fes::HeaderDigestError, 7, "x").with_header(&[1u8; 200]);
    assert_eq!(f.to_term_req().data.len(), 128);
    assert_eq!(Fes::from_code(5), Some(Fes::R2T_LIMIT_EXCEEDED));
    assert_eq!(Fes::from_code(0), None);
    assert_eq!(Fes::from_code(7), None);
}

/// A termination request carries the offending PDU's header (NVMe/TCP 1.0 §3.6.2.5)
/// within its PLEN, not the next PDU's bytes; at most 128 bytes, however long its HLEN.
#[test]
fn the_offending_header_ends_at_its_plen_and_at_128_bytes() {
    let mut w = write_cmd(0).to_vec(&PLAIN).unwrap();
    w[4..8].copy_from_slice(&16u32.to_le_bytes());
    let f = expect_fatal(decode_err(dec(Role::Controller, PLAIN), &w), Fes::InvalidHeaderField, 4);
    assert_eq!(f.pdu_header, w[..16].to_vec());
    let mut w = write_cmd(0).to_vec(&PLAIN).unwrap();
    w[2] = 0xFF;
    w.resize(300, 0xEE);
    w[4..8].copy_from_slice(&300u32.to_le_bytes());
    let f = expect_fatal(decode_err(dec(Role::Controller, PLAIN), &w), Fes::InvalidHeaderField, 2);
    assert_eq!(f.pdu_header, w[..128].to_vec());
    // The header of a PDU the decoder handed over is there for errors found above it.
    let mut d = dec(Role::Controller, DIGESTS);
    assert!(d.last_header().is_empty());
    let w = h2c(8, true).to_vec(&DIGESTS).unwrap();
    d.feed(&w);
    assert!(matches!(d.decode(), Ok(Some(Pdu::H2CData(_)))));
    assert_eq!(d.last_header(), &w[..24]);
    // A host sends no termination request with a header in it: its decoder keeps none.
    let mut d = dec(Role::Host, DIGESTS);
    let w = Pdu::R2t(R2t { cccid: 1, ttag: 1, r2to: 0, r2tl: 4096 }).to_vec(&DIGESTS).unwrap();
    d.feed(&w);
    assert!(matches!(d.decode(), Ok(Some(Pdu::R2t(_)))));
    assert!(d.last_header().is_empty());
}

#[test]
fn errors_do_not_depend_on_chunking() {
    // The same malformed stream fed whole and byte by byte yields the same error.
    let mut w = Pdu::IcReq(ic_req(true, true)).to_vec(&PLAIN).unwrap();
    let mut tail = h2c(50, true).to_vec(&DIGESTS).unwrap();
    tail[20] ^= 1; // reserved byte: header digest error
    w.extend_from_slice(&tail);
    let run = |chunk: usize| {
        let mut d = PduDecoder::new(DecoderConfig::controller());
        for c in w.chunks(chunk) {
            d.feed(c);
            loop {
                match d.decode() {
                    Ok(Some(Pdu::IcReq(r))) => d.set_digests(r.hdgst, r.ddgst),
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => return e,
                }
            }
        }
        panic!("no error")
    };
    let whole = run(w.len());
    assert_eq!(whole.fes(), Some(Fes::HeaderDigestError));
    for chunk in [1, 3, 7, 128, 129] {
        assert_eq!(run(chunk), whole);
    }
}
