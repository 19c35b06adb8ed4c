//! Sans-IO wire layer of NVMe over TCP: the bytes of a connection in, typed PDUs out,
//! and typed PDUs back to bytes. Used by the NVMe/TCP target and by our own
//! initiator library (tests, benches). No sockets, no clocks, no `unsafe`.
//!
//! References (section numbers as in these revisions):
//! * NVM Express TCP Transport Specification 1.0 (TCP 1.0): §3.3 PDU format and
//!   digests, §3.5 error handling, §3.6 PDU definitions;
//! * NVM Express over Fabrics 1.1 (NVMe-oF 1.1): §3 Fabrics command set (Connect,
//!   Property Get/Set), §2 capsules and SGLs;
//! * NVM Express Base 2.0: §4.2 SQE, §4.6 CQE and status codes, §4.3.2 SGLs.
//!
//! Section numbers are given together with section or field names; where a
//! revision renumbered, the name is what to search for. Field layouts follow the
//! specifications and agree with the Linux `nvme-tcp.h`/`nvme.h` definitions; the
//! encoders' output (every PDU type, header and data digests, Connect, Property
//! Get, status fields) was cross-checked with Wireshark's NVMe/TCP dissector.
//!
//! Layout of the crate:
//!
//! | module | contents |
//! |---|---|
//! | [`pdu`] | PDU types, the common header, PDU structs and encoders |
//! | [`decoder`] | [`PduDecoder`]: streaming, validating decoder |
//! | [`error`] | [`Fes`], [`FatalError`] (→ termination request), [`DecodeError`] |
//! | [`digest`] | CRC32C header/data digests |
//! | [`sqe`] | 64-byte [`Sqe`], [`SglDescriptor`], opcodes |
//! | [`cqe`] | 16-byte [`Cqe`], [`Status`] with named status codes |
//! | [`fabrics`] | [`FabricsCommand`] (Connect, Property Get/Set, …), [`ConnectData`] |
//! | [`auth`] | [`auth::AuthMessage`]: DH-HMAC-CHAP in-band authentication messages |
//!
//! A controller's receive path in short:
//!
//! ```
//! use dpu_nvmf_proto::{DecoderConfig, Framing, IcReq, IcResp, Pdu, PduDecoder};
//!
//! // What a host sends first.
//! let mut wire = Vec::new();
//! Pdu::IcReq(IcReq { hdgst: true, ..IcReq::default() })
//!     .encode(&Framing::PLAIN, &mut wire)
//!     .unwrap();
//!
//! let mut dec = PduDecoder::new(DecoderConfig::controller());
//! dec.feed(&wire);
//! let Ok(Some(Pdu::IcReq(req))) = dec.decode() else { panic!() };
//! // Accept what the host asked for, answer CPDA 0, and switch the decoder over.
//! let resp = IcResp { pfv: 0, cpda: 0, hdgst: req.hdgst, ddgst: req.ddgst, maxh2cdata: 131072 };
//! dec.set_digests(resp.hdgst, resp.ddgst);
//! let tx = Framing { hdgst: resp.hdgst, ddgst: resp.ddgst, pda: req.hpda };
//! let mut out = Vec::new();
//! Pdu::IcResp(resp).encode(&tx, &mut out).unwrap();
//! assert_eq!(out.len(), 128);
//! ```

pub mod auth;
pub mod cqe;
pub mod decoder;
pub mod digest;
pub mod error;
pub mod fabrics;
pub mod pdu;
pub mod sqe;

/// The buffer types of decoded PDU data and of [`PduDecoder::receive_buf`].
pub use bytes::{Bytes, BytesMut};
pub use cqe::{CQE_LEN, Cqe, Status};
pub use decoder::{DecoderConfig, PduDecoder, Role};
pub use error::{DecodeError, EncodeError, FatalError, Fes, ParseError};
pub use fabrics::{ConnectCmd, ConnectData, FabricsCommand, PropertyGetCmd, PropertySetCmd};
pub use pdu::{
    CapsuleCmd, CommonHeader, DataPdu, DataPduHeader, Framing, IcReq, IcResp, Pdu, PduType, R2t,
    TermReq, encode_c2h_data, encode_capsule_cmd, encode_capsule_cmd_prefix, encode_capsule_resp,
    encode_data_pdu_prefix, encode_data_pdu_suffix, encode_h2c_data, encode_ic_req, encode_ic_resp,
    encode_r2t, encode_term_req,
};
pub use sqe::{DataDirection, SQE_LEN, SglDescriptor, Sqe};

/// Entry point for fuzzing: runs every parser of untrusted bytes on `data` and
/// must never panic, whatever `data` is.
///
/// The first byte selects the decoder role, digests and PDA; the following byte
/// drives how the rest is split into `feed` chunks. Every decoded capsule is run
/// through the SQE/Fabrics/Connect-data parsers, and so is the raw input.
pub fn fuzz_decode(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mut cfg = if sel & 1 == 0 { DecoderConfig::controller() } else { DecoderConfig::host() };
    cfg.pda = (sel >> 3) & 0x3;
    let mut dec = PduDecoder::new(cfg);
    if sel & 0x20 != 0 {
        dec = PduDecoder::established(cfg, sel & 2 != 0, sel & 4 != 0);
    }
    let (chunk_seed, body) = rest.split_first().map_or((1u8, rest), |(c, r)| (*c, r));
    let chunk = usize::from(chunk_seed % 64) + 1;
    for piece in body.chunks(chunk) {
        dec.feed(piece);
        loop {
            match dec.decode() {
                Ok(Some(pdu)) => {
                    match &pdu {
                        Pdu::IcReq(r) => dec.set_digests(r.hdgst, r.ddgst),
                        Pdu::IcResp(r) => dec.set_digests(r.hdgst, r.ddgst),
                        _ => {}
                    }
                    fuzz_pdu(&pdu);
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = e.term_req();
                    if e.is_fatal() {
                        break;
                    }
                }
            }
        }
        if dec.is_closed() {
            break;
        }
    }
    let _ = dec.bytes_needed();
    // Structure parsers on the raw input as well.
    if let Ok(sqe) = Sqe::parse(body) {
        let _ = FabricsCommand::parse(&sqe);
        let _ = sqe.sgl();
        let _ = (sqe.slba(), sqe.nlb(), sqe.data_direction());
    }
    let _ = Cqe::parse(body);
    let _ = ConnectData::parse(body);
    // An authentication message that decodes encodes back to one that decodes the same.
    if let Ok(m) = auth::AuthMessage::parse(body) {
        assert_eq!(auth::AuthMessage::parse(&m.to_bytes()).ok(), Some(m));
    }
}

fn fuzz_pdu(pdu: &Pdu) {
    // Re-encoding a decoded PDU must not panic either.
    let _ = pdu.to_vec(&Framing::PLAIN);
    if let Pdu::CapsuleCmd(c) = pdu {
        let _ = c.sqe.sgl();
        if let Ok(FabricsCommand::Connect(_)) = FabricsCommand::parse(&c.sqe) {
            let _ = ConnectData::parse(&c.data);
        }
    }
}
