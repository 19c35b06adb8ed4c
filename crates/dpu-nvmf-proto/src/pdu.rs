//! NVMe/TCP PDUs: common header, PDU-specific headers and encoders
//! (NVMe/TCP 1.0 §3.3 "PDU format" and §3.6.2 "PDU definitions").
//!
//! Every PDU starts with the 8-byte common header (§3.6.2.1):
//!
//! | bytes | field | meaning |
//! |---|---|---|
//! | 0 | PDU-Type | [`PduType`] |
//! | 1 | FLAGS | [`flags`]: HDGSTF, DDGSTF and per-type LAST_PDU / SUCCESS |
//! | 2 | HLEN | length of the PDU header (common + PDU-specific), fixed per type |
//! | 3 | PDO | offset of the PDU data from the start of the PDU, 0 without data |
//! | 4..8 | PLEN | total PDU length including digests and padding |
//!
//! followed by the rest of the PDU header, the header digest (HDGST, if enabled),
//! padding up to PDO (PDA alignment of the receiver, §3.3.3), the data and the data
//! digest (DDGST, if enabled and data is present).
//!
//! Encoders append to a `Vec<u8>`. For zero-copy senders the data PDUs also have a
//! prefix/suffix split ([`encode_data_pdu_prefix`], [`encode_data_pdu_suffix`]) so
//! the payload can be passed to `writev` from its own buffer.

use bytes::Bytes;

use crate::cqe::Cqe;
use crate::digest::{DIGEST_LEN, crc32c, digest_bytes};
use crate::error::{EncodeError, TERM_REQ_MAX_DATA};
use crate::sqe::{SQE_LEN, Sqe};

/// Length of the common header.
pub const COMMON_HEADER_LEN: usize = 8;
/// HLEN of ICReq and ICResp (§3.6.2.2, §3.6.2.3).
pub const IC_HLEN: u8 = 128;
/// HLEN of H2CTermReq and C2HTermReq (§3.6.2.4, §3.6.2.5).
pub const TERM_REQ_HLEN: u8 = 24;
/// HLEN of CapsuleCmd: common header + 64-byte SQE (§3.6.2.6).
pub const CAPSULE_CMD_HLEN: u8 = 72;
/// HLEN of CapsuleResp: common header + 16-byte CQE (§3.6.2.7).
pub const CAPSULE_RESP_HLEN: u8 = 24;
/// HLEN of H2CData and C2HData (§3.6.2.8, §3.6.2.9).
pub const DATA_HLEN: u8 = 24;
/// HLEN of R2T (§3.6.2.10).
pub const R2T_HLEN: u8 = 24;
/// Maximum PLEN of a termination request: 24-byte header + 128 bytes of data.
pub const TERM_REQ_MAX_PLEN: u32 = TERM_REQ_HLEN as u32 + TERM_REQ_MAX_DATA as u32;
/// The only PDU format version (PFV) defined: 0 (NVMe/TCP 1.0).
pub const PFV_1_0: u16 = 0;
/// Smallest MAXH2CDATA a controller may announce in ICResp (§3.6.2.3).
pub const MIN_MAXH2CDATA: u32 = 4096;
/// Largest PDA (HPDA/CPDA) value: alignment `(pda + 1) * 4` = 128 bytes.
pub const MAX_PDA: u8 = 31;
/// Well-known TCP port of the discovery service.
pub const DISCOVERY_PORT: u16 = 8009;
/// IANA port for NVMe/TCP I/O controllers.
pub const NVME_TCP_PORT: u16 = 4420;

/// PDU common header FLAGS bits (§3.6.2.1).
pub mod flags {
    /// HDGSTF: a header digest follows the PDU header.
    pub const HDGSTF: u8 = 1 << 0;
    /// DDGSTF: a data digest follows the PDU data.
    pub const DDGSTF: u8 = 1 << 1;
    /// LAST_PDU (H2CData, C2HData): last data PDU of the transfer.
    pub const LAST_PDU: u8 = 1 << 2;
    /// SUCCESS (C2HData): the command completed successfully; no CapsuleResp follows.
    pub const SUCCESS: u8 = 1 << 3;
}

/// ICReq/ICResp DGST field bits (§3.6.2.2).
pub mod dgst {
    /// HDGST_ENABLE.
    pub const HDGST_ENABLE: u8 = 1 << 0;
    /// DDGST_ENABLE.
    pub const DDGST_ENABLE: u8 = 1 << 1;
}

/// PDU-Type values (§3.6.2.1). Bit 0 gives the direction: even types
/// travel host to controller, odd types controller to host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PduType {
    /// 00h Initialize Connection Request.
    IcReq = 0x00,
    /// 01h Initialize Connection Response.
    IcResp = 0x01,
    /// 02h Host to Controller Terminate Connection Request.
    H2CTermReq = 0x02,
    /// 03h Controller to Host Terminate Connection Request.
    C2HTermReq = 0x03,
    /// 04h Command Capsule.
    CapsuleCmd = 0x04,
    /// 05h Response Capsule.
    CapsuleResp = 0x05,
    /// 06h Host to Controller Data.
    H2CData = 0x06,
    /// 07h Controller to Host Data.
    C2HData = 0x07,
    /// 09h Ready to Transfer.
    R2T = 0x09,
}

impl PduType {
    /// Parses a PDU-Type byte; `None` for reserved values.
    #[must_use]
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0x00 => PduType::IcReq,
            0x01 => PduType::IcResp,
            0x02 => PduType::H2CTermReq,
            0x03 => PduType::C2HTermReq,
            0x04 => PduType::CapsuleCmd,
            0x05 => PduType::CapsuleResp,
            0x06 => PduType::H2CData,
            0x07 => PduType::C2HData,
            0x09 => PduType::R2T,
            _ => return None,
        })
    }

    /// The fixed HLEN of this PDU type.
    #[must_use]
    pub const fn hlen(self) -> u8 {
        match self {
            PduType::IcReq | PduType::IcResp => IC_HLEN,
            PduType::H2CTermReq | PduType::C2HTermReq => TERM_REQ_HLEN,
            PduType::CapsuleCmd => CAPSULE_CMD_HLEN,
            PduType::CapsuleResp => CAPSULE_RESP_HLEN,
            PduType::H2CData | PduType::C2HData => DATA_HLEN,
            PduType::R2T => R2T_HLEN,
        }
    }

    /// Whether the PDU travels from host to controller.
    #[must_use]
    pub const fn is_host_to_controller(self) -> bool {
        (self as u8) & 1 == 0
    }

    /// Whether header digests apply to this type (all but ICReq/ICResp and
    /// termination requests, §3.3.2).
    #[must_use]
    pub const fn digests_apply(self) -> bool {
        !matches!(
            self,
            PduType::IcReq | PduType::IcResp | PduType::H2CTermReq | PduType::C2HTermReq
        )
    }

    /// Whether this type may carry PDU data covered by DDGST.
    #[must_use]
    pub const fn may_carry_data(self) -> bool {
        matches!(self, PduType::CapsuleCmd | PduType::H2CData | PduType::C2HData)
    }

    /// FLAGS bits defined for this type.
    #[must_use]
    pub const fn valid_flags(self) -> u8 {
        match self {
            PduType::IcReq | PduType::IcResp | PduType::H2CTermReq | PduType::C2HTermReq => 0,
            PduType::CapsuleCmd => flags::HDGSTF | flags::DDGSTF,
            PduType::CapsuleResp | PduType::R2T => flags::HDGSTF,
            PduType::H2CData => flags::HDGSTF | flags::DDGSTF | flags::LAST_PDU,
            PduType::C2HData => flags::HDGSTF | flags::DDGSTF | flags::LAST_PDU | flags::SUCCESS,
        }
    }
}

/// The 8-byte common header, fields as on the wire (unvalidated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommonHeader {
    /// PDU-Type byte.
    pub pdu_type: u8,
    /// FLAGS byte.
    pub flags: u8,
    /// HLEN.
    pub hlen: u8,
    /// PDO.
    pub pdo: u8,
    /// PLEN.
    pub plen: u32,
}

impl CommonHeader {
    /// Byte offset of PDU-Type.
    pub const OFFSET_TYPE: u32 = 0;
    /// Byte offset of FLAGS.
    pub const OFFSET_FLAGS: u32 = 1;
    /// Byte offset of HLEN.
    pub const OFFSET_HLEN: u32 = 2;
    /// Byte offset of PDO.
    pub const OFFSET_PDO: u32 = 3;
    /// Byte offset of PLEN.
    pub const OFFSET_PLEN: u32 = 4;

    /// Reads the common header from the first 8 bytes of `b`; `None` if shorter.
    #[must_use]
    pub fn parse(b: &[u8]) -> Option<Self> {
        let h: &[u8; COMMON_HEADER_LEN] = b.get(..COMMON_HEADER_LEN)?.try_into().ok()?;
        Some(Self {
            pdu_type: h[0],
            flags: h[1],
            hlen: h[2],
            pdo: h[3],
            plen: u32::from_le_bytes([h[4], h[5], h[6], h[7]]),
        })
    }

    /// The 8 wire bytes.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; COMMON_HEADER_LEN] {
        let p = self.plen.to_le_bytes();
        [self.pdu_type, self.flags, self.hlen, self.pdo, p[0], p[1], p[2], p[3]]
    }
}

/// ICReq (§3.6.2.2): the first PDU on a connection, host to controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IcReq {
    /// PDU Format Version; [`PFV_1_0`].
    pub pfv: u16,
    /// Host PDU Data Alignment: the host wants C2H data aligned to `(hpda + 1) * 4`.
    pub hpda: u8,
    /// Host requests header digests.
    pub hdgst: bool,
    /// Host requests data digests.
    pub ddgst: bool,
    /// Maximum number of outstanding R2Ts per command, 0's based.
    pub maxr2t: u32,
}

impl IcReq {
    /// Byte offset of PFV.
    pub const OFFSET_PFV: u32 = 8;
    /// Byte offset of HPDA.
    pub const OFFSET_HPDA: u32 = 10;
    /// Byte offset of DGST.
    pub const OFFSET_DGST: u32 = 11;
    /// Byte offset of MAXR2T.
    pub const OFFSET_MAXR2T: u32 = 12;
}

impl Default for IcReq {
    fn default() -> Self {
        Self { pfv: PFV_1_0, hpda: 0, hdgst: false, ddgst: false, maxr2t: 0 }
    }
}

/// ICResp (§3.6.2.3): the controller's answer to ICReq.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IcResp {
    /// PDU Format Version; [`PFV_1_0`].
    pub pfv: u16,
    /// Controller PDU Data Alignment for H2C data; our target always answers 0.
    pub cpda: u8,
    /// Header digests enabled on this connection.
    pub hdgst: bool,
    /// Data digests enabled on this connection.
    pub ddgst: bool,
    /// Maximum data bytes in one H2CData PDU (≥ [`MIN_MAXH2CDATA`], a multiple of 4).
    pub maxh2cdata: u32,
}

impl IcResp {
    /// Byte offset of PFV.
    pub const OFFSET_PFV: u32 = 8;
    /// Byte offset of CPDA.
    pub const OFFSET_CPDA: u32 = 10;
    /// Byte offset of DGST.
    pub const OFFSET_DGST: u32 = 11;
    /// Byte offset of MAXH2CDATA.
    pub const OFFSET_MAXH2CDATA: u32 = 12;
}

/// H2CTermReq / C2HTermReq body (§3.6.2.4, §3.6.2.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TermReq {
    /// Fatal Error Status as on the wire (see [`Fes`](crate::Fes)).
    pub fes: u16,
    /// Fatal Error Information (FEIL | FEIU << 16).
    pub fei: u32,
    /// Header of the PDU in error, at most 128 bytes.
    pub data: Vec<u8>,
}

/// CapsuleCmd (§3.6.2.6): a submission queue entry plus optional in-capsule data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CapsuleCmd {
    /// The 64-byte command.
    pub sqe: Sqe,
    /// In-capsule data (described by an SGL Data Block / Offset descriptor); a
    /// decoded PDU's data is a view of the decoder's receive buffer.
    pub data: Bytes,
}

/// Header fields of H2CData / C2HData (§3.6.2.8, §3.6.2.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DataPduHeader {
    /// Command Capsule CID of the command the data belongs to.
    pub cccid: u16,
    /// Transfer tag from the R2T (H2CData); reserved (0) in C2HData.
    pub ttag: u16,
    /// Data offset within the command's transfer (DATAO).
    pub datao: u32,
    /// LAST_PDU flag.
    pub last: bool,
    /// SUCCESS flag (C2HData only; requires `last`).
    pub success: bool,
}

impl DataPduHeader {
    /// Byte offset of CCCID.
    pub const OFFSET_CCCID: u32 = 8;
    /// Byte offset of TTAG.
    pub const OFFSET_TTAG: u32 = 10;
    /// Byte offset of DATAO.
    pub const OFFSET_DATAO: u32 = 12;
    /// Byte offset of DATAL.
    pub const OFFSET_DATAL: u32 = 16;
}

/// H2CData or C2HData PDU.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataPdu {
    /// Header fields.
    pub header: DataPduHeader,
    /// The data (DATAL = `data.len()`); a decoded PDU's data is a view of the
    /// decoder's receive buffer.
    pub data: Bytes,
}

/// R2T (§3.6.2.10): the controller asks for a range of a command's write data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct R2t {
    /// CID of the command.
    pub cccid: u16,
    /// Transfer tag the host echoes in the H2CData PDUs.
    pub ttag: u16,
    /// Offset of the requested range in the command's data (R2TO).
    pub r2to: u32,
    /// Length of the requested range (R2TL), non-zero.
    pub r2tl: u32,
}

impl R2t {
    /// Byte offset of R2TO.
    pub const OFFSET_R2TO: u32 = 12;
    /// Byte offset of R2TL.
    pub const OFFSET_R2TL: u32 = 16;
}

/// A decoded PDU.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Pdu {
    /// ICReq.
    IcReq(IcReq),
    /// ICResp.
    IcResp(IcResp),
    /// H2CTermReq.
    H2CTermReq(TermReq),
    /// C2HTermReq.
    C2HTermReq(TermReq),
    /// CapsuleCmd.
    CapsuleCmd(CapsuleCmd),
    /// CapsuleResp.
    CapsuleResp(Cqe),
    /// H2CData.
    H2CData(DataPdu),
    /// C2HData.
    C2HData(DataPdu),
    /// R2T.
    R2t(R2t),
}

impl Pdu {
    /// The PDU type.
    #[must_use]
    pub fn pdu_type(&self) -> PduType {
        match self {
            Pdu::IcReq(_) => PduType::IcReq,
            Pdu::IcResp(_) => PduType::IcResp,
            Pdu::H2CTermReq(_) => PduType::H2CTermReq,
            Pdu::C2HTermReq(_) => PduType::C2HTermReq,
            Pdu::CapsuleCmd(_) => PduType::CapsuleCmd,
            Pdu::CapsuleResp(_) => PduType::CapsuleResp,
            Pdu::H2CData(_) => PduType::H2CData,
            Pdu::C2HData(_) => PduType::C2HData,
            Pdu::R2t(_) => PduType::R2T,
        }
    }

    /// Appends the wire form of this PDU to `out`, framed per `framing`.
    pub fn encode(&self, framing: &Framing, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Pdu::IcReq(p) => {
                encode_ic_req(p, out);
                Ok(())
            }
            Pdu::IcResp(p) => {
                encode_ic_resp(p, out);
                Ok(())
            }
            Pdu::H2CTermReq(t) => encode_term_req(PduType::H2CTermReq, t, out),
            Pdu::C2HTermReq(t) => encode_term_req(PduType::C2HTermReq, t, out),
            Pdu::CapsuleCmd(c) => encode_capsule_cmd(&c.sqe, &c.data, framing, out),
            Pdu::CapsuleResp(c) => {
                encode_capsule_resp(c, framing, out);
                Ok(())
            }
            Pdu::H2CData(d) => encode_h2c_data(&d.header, &d.data, framing, out),
            Pdu::C2HData(d) => encode_c2h_data(&d.header, &d.data, framing, out),
            Pdu::R2t(r) => {
                encode_r2t(r, framing, out);
                Ok(())
            }
        }
    }

    /// Convenience: the wire form as a new vector.
    pub fn to_vec(&self, framing: &Framing) -> Result<Vec<u8>, EncodeError> {
        let mut v = Vec::new();
        self.encode(framing, &mut v)?;
        Ok(v)
    }
}

/// Negotiated framing for PDUs we send: digests and the receiver's data alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Framing {
    /// Append HDGST to every PDU header (except ICReq/ICResp/TermReq).
    pub hdgst: bool,
    /// Append DDGST after PDU data.
    pub ddgst: bool,
    /// PDU data alignment the receiver asked for (HPDA when we are the controller,
    /// CPDA when we are the host): data starts at a multiple of `(pda + 1) * 4`.
    pub pda: u8,
}

impl Framing {
    /// Framing with neither digests nor padding.
    pub const PLAIN: Framing = Framing { hdgst: false, ddgst: false, pda: 0 };

    /// Computes `(pdo, plen)` of a PDU of type `ty` carrying `data_len` data bytes.
    pub fn layout(&self, ty: PduType, data_len: usize) -> Result<(u8, u32), EncodeError> {
        if self.pda > MAX_PDA {
            return Err(EncodeError::BadAlignment(self.pda));
        }
        let full_hlen = usize::from(ty.hlen()) + if self.hdgst { DIGEST_LEN } else { 0 };
        if data_len == 0 {
            // full_hlen <= 76 always fits.
            return Ok((0, full_hlen as u32));
        }
        let align = (usize::from(self.pda) + 1) * 4;
        let pdo = full_hlen.div_ceil(align) * align;
        let total = pdo as u64 + data_len as u64 + if self.ddgst { DIGEST_LEN as u64 } else { 0 };
        let plen = u32::try_from(total).map_err(|_| EncodeError::TooLong(total))?;
        let pdo = u8::try_from(pdo).map_err(|_| EncodeError::BadAlignment(self.pda))?;
        Ok((pdo, plen))
    }
}

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn dgst_byte(hdgst: bool, ddgst: bool) -> u8 {
    (if hdgst { dgst::HDGST_ENABLE } else { 0 }) | (if ddgst { dgst::DDGST_ENABLE } else { 0 })
}

/// Appends an ICReq (128 bytes, never digested).
pub fn encode_ic_req(p: &IcReq, out: &mut Vec<u8>) {
    let ch = CommonHeader {
        pdu_type: PduType::IcReq as u8,
        flags: 0,
        hlen: IC_HLEN,
        pdo: 0,
        plen: u32::from(IC_HLEN),
    };
    out.extend_from_slice(&ch.to_bytes());
    put_u16(out, p.pfv);
    out.push(p.hpda);
    out.push(dgst_byte(p.hdgst, p.ddgst));
    put_u32(out, p.maxr2t);
    out.extend_from_slice(&[0u8; 112]);
}

/// Appends an ICResp (128 bytes, never digested).
pub fn encode_ic_resp(p: &IcResp, out: &mut Vec<u8>) {
    let ch = CommonHeader {
        pdu_type: PduType::IcResp as u8,
        flags: 0,
        hlen: IC_HLEN,
        pdo: 0,
        plen: u32::from(IC_HLEN),
    };
    out.extend_from_slice(&ch.to_bytes());
    put_u16(out, p.pfv);
    out.push(p.cpda);
    out.push(dgst_byte(p.hdgst, p.ddgst));
    put_u32(out, p.maxh2cdata);
    out.extend_from_slice(&[0u8; 112]);
}

/// Appends an H2CTermReq or C2HTermReq (`ty` selects which). Never digested.
pub fn encode_term_req(ty: PduType, t: &TermReq, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    debug_assert!(matches!(ty, PduType::H2CTermReq | PduType::C2HTermReq));
    if t.data.len() > TERM_REQ_MAX_DATA {
        return Err(EncodeError::TermReqDataTooLong(t.data.len()));
    }
    let ch = CommonHeader {
        pdu_type: ty as u8,
        flags: 0,
        hlen: TERM_REQ_HLEN,
        pdo: 0,
        plen: u32::from(TERM_REQ_HLEN) + t.data.len() as u32,
    };
    out.extend_from_slice(&ch.to_bytes());
    put_u16(out, t.fes);
    put_u32(out, t.fei);
    out.extend_from_slice(&[0u8; 10]);
    out.extend_from_slice(&t.data);
    Ok(())
}

/// Writes the header digest for the header that starts at `start` and is `hlen`
/// long, then the padding up to `pdo` (relative to `start`).
fn finish_header(out: &mut Vec<u8>, start: usize, hlen: usize, hdgst: bool, pdo: u8) {
    if hdgst {
        let d = crc32c(&out[start..start + hlen]);
        put_u32(out, d);
    }
    let target = start + usize::from(pdo);
    if out.len() < target {
        out.resize(target, 0);
    }
}

/// Appends a CapsuleCmd carrying `sqe` and `data` as in-capsule data.
///
/// The caller is responsible for the SQE's SGL descriptor describing the data
/// (see [`SglDescriptor::in_capsule`](crate::SglDescriptor::in_capsule)).
pub fn encode_capsule_cmd(
    sqe: &Sqe,
    data: &[u8],
    framing: &Framing,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    encode_capsule_cmd_prefix(sqe, data.len(), framing, out)?;
    if !data.is_empty() {
        out.extend_from_slice(data);
        encode_data_pdu_suffix(data, framing, out);
    }
    Ok(())
}

/// Appends a CapsuleCmd up to where its `data_len` bytes of in-capsule data go (for a
/// vectored write of data that stays where it is); after the data comes its
/// [`encode_data_pdu_suffix`] when `data_len` is not 0.
pub fn encode_capsule_cmd_prefix(
    sqe: &Sqe,
    data_len: usize,
    framing: &Framing,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let (pdo, plen) = framing.layout(PduType::CapsuleCmd, data_len)?;
    let start = out.len();
    let has_data = data_len > 0;
    let ch = CommonHeader {
        pdu_type: PduType::CapsuleCmd as u8,
        flags: hd_flags(framing, has_data),
        hlen: CAPSULE_CMD_HLEN,
        pdo,
        plen,
    };
    out.extend_from_slice(&ch.to_bytes());
    out.extend_from_slice(&sqe.to_bytes());
    debug_assert_eq!(out.len() - start, COMMON_HEADER_LEN + SQE_LEN);
    finish_header(out, start, CAPSULE_CMD_HLEN.into(), framing.hdgst, pdo);
    Ok(())
}

fn hd_flags(framing: &Framing, has_data: bool) -> u8 {
    let mut f = 0;
    if framing.hdgst {
        f |= flags::HDGSTF;
    }
    if framing.ddgst && has_data {
        f |= flags::DDGSTF;
    }
    f
}

/// Appends a CapsuleResp carrying `cqe`.
pub fn encode_capsule_resp(cqe: &Cqe, framing: &Framing, out: &mut Vec<u8>) {
    let start = out.len();
    let full = usize::from(CAPSULE_RESP_HLEN) + if framing.hdgst { DIGEST_LEN } else { 0 };
    let ch = CommonHeader {
        pdu_type: PduType::CapsuleResp as u8,
        flags: hd_flags(framing, false),
        hlen: CAPSULE_RESP_HLEN,
        pdo: 0,
        plen: full as u32,
    };
    out.extend_from_slice(&ch.to_bytes());
    out.extend_from_slice(&cqe.to_bytes());
    finish_header(out, start, CAPSULE_RESP_HLEN.into(), framing.hdgst, 0);
}

/// Appends an R2T.
pub fn encode_r2t(r: &R2t, framing: &Framing, out: &mut Vec<u8>) {
    let start = out.len();
    let full = usize::from(R2T_HLEN) + if framing.hdgst { DIGEST_LEN } else { 0 };
    let ch = CommonHeader {
        pdu_type: PduType::R2T as u8,
        flags: hd_flags(framing, false),
        hlen: R2T_HLEN,
        pdo: 0,
        plen: full as u32,
    };
    out.extend_from_slice(&ch.to_bytes());
    put_u16(out, r.cccid);
    put_u16(out, r.ttag);
    put_u32(out, r.r2to);
    put_u32(out, r.r2tl);
    put_u32(out, 0);
    finish_header(out, start, R2T_HLEN.into(), framing.hdgst, 0);
}

/// Appends everything of an H2CData/C2HData PDU that precedes the data: header,
/// header digest and padding. `ty` must be [`PduType::H2CData`] or
/// [`PduType::C2HData`]; `data_len` must be non-zero. Follow with the data and
/// [`encode_data_pdu_suffix`].
pub fn encode_data_pdu_prefix(
    ty: PduType,
    h: &DataPduHeader,
    data_len: usize,
    framing: &Framing,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    debug_assert!(matches!(ty, PduType::H2CData | PduType::C2HData));
    if data_len == 0 {
        return Err(EncodeError::EmptyData);
    }
    let is_c2h = ty == PduType::C2HData;
    if is_c2h && h.success && !h.last {
        return Err(EncodeError::SuccessWithoutLast);
    }
    let datal = u32::try_from(data_len).map_err(|_| EncodeError::TooLong(data_len as u64))?;
    let (pdo, plen) = framing.layout(ty, data_len)?;
    let mut fl = hd_flags(framing, true);
    if h.last {
        fl |= flags::LAST_PDU;
    }
    if is_c2h && h.success {
        fl |= flags::SUCCESS;
    }
    let start = out.len();
    let ch = CommonHeader { pdu_type: ty as u8, flags: fl, hlen: DATA_HLEN, pdo, plen };
    // Assembled on the stack and appended at once: one capacity check per PDU, not
    // one per field (this runs once per read on the target's hot path).
    let mut hdr = [0u8; DATA_HLEN as usize];
    let mut put = |at: u32, field: &[u8]| {
        let at = at as usize;
        hdr[at..at + field.len()].copy_from_slice(field);
    };
    put(CommonHeader::OFFSET_TYPE, &ch.to_bytes());
    put(DataPduHeader::OFFSET_CCCID, &h.cccid.to_le_bytes());
    put(DataPduHeader::OFFSET_TTAG, &(if is_c2h { 0 } else { h.ttag }).to_le_bytes());
    put(DataPduHeader::OFFSET_DATAO, &h.datao.to_le_bytes());
    put(DataPduHeader::OFFSET_DATAL, &datal.to_le_bytes());
    out.extend_from_slice(&hdr);
    finish_header(out, start, DATA_HLEN.into(), framing.hdgst, pdo);
    Ok(())
}

/// Appends the data digest of `data` if data digests are enabled.
pub fn encode_data_pdu_suffix(data: &[u8], framing: &Framing, out: &mut Vec<u8>) {
    if framing.ddgst {
        out.extend_from_slice(&digest_bytes(data));
    }
}

/// Appends an H2CData PDU.
pub fn encode_h2c_data(
    h: &DataPduHeader,
    data: &[u8],
    framing: &Framing,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    encode_data_pdu_prefix(PduType::H2CData, h, data.len(), framing, out)?;
    out.extend_from_slice(data);
    encode_data_pdu_suffix(data, framing, out);
    Ok(())
}

/// Appends a C2HData PDU (set `h.last` on the final PDU of a command, and
/// `h.success` as well to skip the CapsuleResp when the command succeeded).
pub fn encode_c2h_data(
    h: &DataPduHeader,
    data: &[u8],
    framing: &Framing,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    encode_data_pdu_prefix(PduType::C2HData, h, data.len(), framing, out)?;
    out.extend_from_slice(data);
    encode_data_pdu_suffix(data, framing, out);
    Ok(())
}
