//! Encode → decode round trips for every PDU type, golden wire layouts, and the
//! streaming decoder fed one byte at a time and in random splits.

mod common;

use common::*;
use dpu_nvmf_proto::digest::crc32c;
use dpu_nvmf_proto::pdu::flags;
use dpu_nvmf_proto::{
    CommonHeader, Cqe, DataPduHeader, DecodeError, DecoderConfig, Framing, IcReq, Pdu, PduDecoder,
    PduType, Role, Status, encode_data_pdu_prefix, encode_data_pdu_suffix,
};

fn framings() -> Vec<Framing> {
    let mut v = Vec::new();
    for hdgst in [false, true] {
        for ddgst in [false, true] {
            for pda in [0u8, 1, 3, 31] {
                v.push(Framing { hdgst, ddgst, pda });
            }
        }
    }
    v
}

fn cfg(role: Role, pda: u8) -> DecoderConfig {
    let mut c = match role {
        Role::Controller => DecoderConfig::controller(),
        Role::Host => DecoderConfig::host(),
    };
    c.pda = pda;
    c
}

fn decode_all(dec: &mut PduDecoder) -> Vec<Pdu> {
    let mut out = Vec::new();
    while let Some(p) = dec.decode().expect("valid stream") {
        out.push(p);
    }
    out
}

fn roundtrip_one(pdu: &Pdu, role: Role, f: Framing) {
    let wire = pdu.to_vec(&f).expect("encode");
    let ch = CommonHeader::parse(&wire).expect("header");
    assert_eq!(ch.plen as usize, wire.len(), "PLEN covers the PDU");
    assert_eq!(ch.hlen, pdu.pdu_type().hlen());
    let mut dec = PduDecoder::established(cfg(role, f.pda), f.hdgst, f.ddgst);
    dec.feed(&wire);
    assert_eq!(dec.decode(), Ok(Some(pdu.clone())), "{pdu:?} under {f:?}");
    assert_eq!(dec.decode(), Ok(None));
    assert_eq!(dec.buffered(), 0);
}

#[test]
fn every_host_pdu_roundtrips_under_every_framing() {
    for f in framings() {
        for p in host_pdus() {
            roundtrip_one(&p, Role::Controller, f);
        }
    }
}

#[test]
fn every_controller_pdu_roundtrips_under_every_framing() {
    for f in framings() {
        for p in controller_pdus() {
            roundtrip_one(&p, Role::Host, f);
        }
    }
}

#[test]
fn ic_and_term_pdus_roundtrip() {
    for (h, d) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut dec = PduDecoder::new(DecoderConfig::controller());
        let req = Pdu::IcReq(IcReq { hpda: 5, ..ic_req(h, d) });
        let wire = req.to_vec(&Framing::PLAIN).unwrap();
        assert_eq!(wire.len(), 128);
        dec.feed(&wire);
        assert_eq!(dec.decode(), Ok(Some(req)));

        let mut dec = PduDecoder::new(DecoderConfig::host());
        let resp = Pdu::IcResp(ic_resp(h, d));
        dec.feed(&resp.to_vec(&Framing::PLAIN).unwrap());
        assert_eq!(dec.decode(), Ok(Some(resp)));
    }
    // Termination requests: accepted before and after initialization, with 0..=128 data bytes.
    for n in [0usize, 1, 24, 72, 128] {
        let t = dpu_nvmf_proto::TermReq { fes: 5, fei: 0xDEAD_BEEF, data: pattern(n, 1) };
        let h2c = Pdu::H2CTermReq(t.clone());
        let c2h = Pdu::C2HTermReq(t);
        for established in [false, true] {
            let mut dec = if established {
                PduDecoder::established(DecoderConfig::controller(), true, true)
            } else {
                PduDecoder::new(DecoderConfig::controller())
            };
            dec.feed(&h2c.to_vec(&Framing::PLAIN).unwrap());
            assert_eq!(dec.decode(), Ok(Some(h2c.clone())));
            assert!(dec.is_closed());
            let mut dec = PduDecoder::new(DecoderConfig::host());
            dec.feed(&c2h.to_vec(&Framing::PLAIN).unwrap());
            assert_eq!(dec.decode(), Ok(Some(c2h.clone())));
        }
    }
}

#[test]
fn golden_icreq_and_icresp_layout() {
    let wire =
        Pdu::IcReq(IcReq { pfv: 0, hpda: 2, hdgst: true, ddgst: false, maxr2t: 0x0102_0304 })
            .to_vec(&Framing::PLAIN)
            .unwrap();
    let mut expect = vec![0x00, 0x00, 0x80, 0x00, 0x80, 0, 0, 0, 0, 0, 2, 0x01, 4, 3, 2, 1];
    expect.resize(128, 0);
    assert_eq!(wire, expect);

    let wire = Pdu::IcResp(ic_resp(true, true)).to_vec(&Framing::PLAIN).unwrap();
    assert_eq!(
        &wire[..16],
        &[0x01, 0x00, 0x80, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0x03, 0x00, 0x00, 0x02, 0x00]
    );
}

#[test]
fn golden_capsule_resp_with_header_digest() {
    let mut c = Cqe::new(0x0A0B, Status::SUCCESS);
    c.dw0 = 0x11;
    let f = Framing { hdgst: true, ddgst: true, pda: 0 };
    let wire = Pdu::CapsuleResp(c).to_vec(&f).unwrap();
    // type 5, HDGSTF only (no data => no DDGSTF), hlen 24, pdo 0, plen 28
    assert_eq!(&wire[..8], &[0x05, 0x01, 24, 0, 28, 0, 0, 0]);
    assert_eq!(&wire[8..12], &[0x11, 0, 0, 0]);
    assert_eq!(&wire[20..22], &[0x0B, 0x0A]);
    assert_eq!(&wire[24..28], &crc32c(&wire[..24]).to_le_bytes());
}

#[test]
fn golden_c2h_data_with_padding_and_digests() {
    let f = Framing {
        hdgst: true,
        ddgst: true,
        pda: 3, // 16-byte alignment
    };
    let h = DataPduHeader { cccid: 1, ttag: 0, datao: 512, last: true, success: true };
    let data = pattern(100, 0);
    let mut wire = Vec::new();
    dpu_nvmf_proto::encode_c2h_data(&h, &data, &f, &mut wire).unwrap();
    // hlen 24 + hdgst 4 = 28, padded to 32.
    assert_eq!(wire[0], PduType::C2HData as u8);
    assert_eq!(wire[1], flags::HDGSTF | flags::DDGSTF | flags::LAST_PDU | flags::SUCCESS);
    assert_eq!((wire[2], wire[3]), (24, 32));
    assert_eq!(wire.len(), 32 + 100 + 4);
    assert_eq!(&wire[4..8], &(136u32).to_le_bytes());
    assert_eq!(&wire[16..20], &100u32.to_le_bytes(), "DATAL");
    assert_eq!(&wire[24..28], &crc32c(&wire[..24]).to_le_bytes(), "HDGST");
    assert_eq!(&wire[28..32], &[0, 0, 0, 0], "padding");
    assert_eq!(&wire[32..132], &data[..]);
    assert_eq!(&wire[132..], &crc32c(&data).to_le_bytes(), "DDGST");

    // The prefix/suffix split produces the same bytes.
    let mut split = Vec::new();
    encode_data_pdu_prefix(PduType::C2HData, &h, data.len(), &f, &mut split).unwrap();
    split.extend_from_slice(&data);
    encode_data_pdu_suffix(&data, &f, &mut split);
    assert_eq!(split, wire);
}

#[test]
fn capsule_cmd_without_data_has_pdo_zero_and_no_ddgstf() {
    let f = Framing { hdgst: true, ddgst: true, pda: 0 };
    let p = Pdu::CapsuleCmd(dpu_nvmf_proto::CapsuleCmd {
        sqe: write_sqe(1, 8192, false),
        data: vec![].into(),
    });
    let w = p.to_vec(&f).unwrap();
    assert_eq!(&w[..8], &[4, flags::HDGSTF, 72, 0, 76, 0, 0, 0]);
}

#[test]
fn encoder_rejects_caller_mistakes() {
    use dpu_nvmf_proto::EncodeError;
    let f = Framing::PLAIN;
    let mut out = Vec::new();
    let h = DataPduHeader { success: true, last: false, ..DataPduHeader::default() };
    assert_eq!(
        dpu_nvmf_proto::encode_c2h_data(&h, b"x", &f, &mut out),
        Err(EncodeError::SuccessWithoutLast)
    );
    assert_eq!(
        dpu_nvmf_proto::encode_h2c_data(&DataPduHeader::default(), b"", &f, &mut out),
        Err(EncodeError::EmptyData)
    );
    let t = dpu_nvmf_proto::TermReq { fes: 1, fei: 0, data: vec![0; 129] };
    assert_eq!(Pdu::C2HTermReq(t).to_vec(&f), Err(EncodeError::TermReqDataTooLong(129)));
    let bad = Framing { pda: 32, ..Framing::PLAIN };
    assert_eq!(
        dpu_nvmf_proto::encode_h2c_data(&DataPduHeader::default(), b"x", &bad, &mut out),
        Err(EncodeError::BadAlignment(32))
    );
    assert!(out.is_empty(), "failed encodes append nothing");
}

/// A full connection's worth of bytes in one direction, with the IC PDU first.
fn stream(role: Role, f: Framing) -> (Vec<u8>, Vec<Pdu>) {
    let (ic, body) = match role {
        Role::Controller => (Pdu::IcReq(ic_req(f.hdgst, f.ddgst)), host_pdus()),
        Role::Host => (Pdu::IcResp(ic_resp(f.hdgst, f.ddgst)), controller_pdus()),
    };
    let mut wire = ic.to_vec(&Framing::PLAIN).expect("encode");
    let mut pdus = vec![ic];
    for _ in 0..3 {
        for p in &body {
            p.encode(&f, &mut wire).expect("encode");
            pdus.push(p.clone());
        }
    }
    (wire, pdus)
}

/// Feeds `chunks` and decodes eagerly after each, switching digests on after the IC PDU.
fn decode_chunks<'a>(
    role: Role,
    f: Framing,
    chunks: impl Iterator<Item = &'a [u8]>,
) -> Result<Vec<Pdu>, DecodeError> {
    let mut dec = PduDecoder::new(cfg(role, f.pda));
    let mut out = Vec::new();
    for c in chunks {
        dec.feed(c);
        while let Some(p) = dec.decode()? {
            if matches!(p, Pdu::IcReq(_) | Pdu::IcResp(_)) {
                dec.set_digests(f.hdgst, f.ddgst);
            }
            out.push(p);
        }
    }
    assert_eq!(dec.buffered(), 0);
    assert_eq!(dec.bytes_needed(), 8);
    Ok(out)
}

#[test]
fn one_byte_at_a_time() {
    for role in [Role::Controller, Role::Host] {
        for f in framings() {
            let (wire, pdus) = stream(role, f);
            let got = decode_chunks(role, f, wire.chunks(1)).unwrap();
            assert_eq!(got, pdus, "{role:?} {f:?}");
        }
    }
}

#[test]
fn random_splits() {
    let mut rng = Rng::new(0x5EED_1234);
    for role in [Role::Controller, Role::Host] {
        for f in framings() {
            let (wire, pdus) = stream(role, f);
            for _ in 0..8 {
                let mut cuts = Vec::new();
                let mut at = 0;
                while at < wire.len() {
                    let max = if rng.below(4) == 0 { 4096 } else { 40 };
                    let step = 1 + rng.below(max);
                    let end = (at + step).min(wire.len());
                    cuts.push(&wire[at..end]);
                    at = end;
                }
                let got = decode_chunks(role, f, cuts.into_iter()).unwrap();
                assert_eq!(got, pdus);
            }
        }
    }
}

/// Receiving straight into the decoder's receive buffer decodes as feeding does,
/// whatever room is asked for and however little of it each receive fills, and
/// decoded PDUs (views of that buffer) stay intact while later bytes arrive.
#[test]
fn receive_buf_decodes_as_feed_does() {
    let mut rng = Rng::new(0x5EED_5A4E);
    for role in [Role::Controller, Role::Host] {
        for f in framings() {
            let (wire, pdus) = stream(role, f);
            for _ in 0..4 {
                let mut dec = PduDecoder::new(cfg(role, f.pda));
                let mut out = Vec::new();
                let mut at = 0;
                while at < wire.len() {
                    let most = if rng.below(2) == 0 { 64 } else { 8192 };
                    let min = 1 + rng.below(most);
                    let buf = dec.receive_buf(min);
                    let room = buf.capacity() - buf.len();
                    assert!(room >= min);
                    let n = (1 + rng.below(room)).min(wire.len() - at);
                    buf.extend_from_slice(&wire[at..at + n]);
                    at += n;
                    while let Some(p) = dec.decode().expect("valid stream") {
                        if matches!(p, Pdu::IcReq(_) | Pdu::IcResp(_)) {
                            dec.set_digests(f.hdgst, f.ddgst);
                        }
                        out.push(p);
                    }
                }
                assert_eq!(out, pdus, "{role:?} {f:?}");
                assert_eq!(dec.buffered(), 0);
            }
        }
    }
}

#[test]
fn all_at_once_and_bytes_needed() {
    let f = Framing { hdgst: true, ddgst: true, pda: 0 };
    let (wire, pdus) = stream(Role::Controller, f);
    let mut dec = PduDecoder::new(DecoderConfig::controller());
    dec.feed(&wire[..3]);
    assert_eq!(dec.bytes_needed(), 5);
    assert_eq!(dec.decode(), Ok(None));
    dec.feed(&wire[3..10]);
    assert_eq!(dec.bytes_needed(), 118);
    dec.feed(&wire[10..]);
    let first = dec.decode().unwrap().unwrap();
    assert_eq!(first, pdus[0]);
    dec.set_digests(true, true);
    let rest = decode_all(&mut dec);
    assert_eq!(rest, pdus[1..]);
}
