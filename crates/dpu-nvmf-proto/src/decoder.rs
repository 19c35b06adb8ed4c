//! Streaming PDU decoder (NVMe/TCP 1.0 §3.3 PDU format, §3.5 error handling).
//!
//! [`PduDecoder`] takes the bytes of one TCP connection in arbitrary chunks
//! ([`PduDecoder::feed`]) and hands out complete, validated PDUs
//! ([`PduDecoder::decode`]). It is sans-IO: no sockets, no clocks.
//!
//! Validation follows the order of the fields in the PDU, so that the lowest
//! offending field is the one reported (as the FEI of an Invalid PDU Header Field
//! error):
//!
//! 1. common header (as soon as its 8 bytes are in): PDU-Type known and travelling
//!    towards us (offset 0), allowed in the connection state (else PDU Sequence
//!    Error), FLAGS defined for the type and digest flags matching the negotiated
//!    digests (1), HLEN fixed per type (2), PDO zero or aligned to our PDA and inside
//!    the PDU (3), PLEN consistent (4); data longer than configured is Data Transfer
//!    Limit Exceeded. Nothing is buffered for a PDU that fails these checks, so a
//!    peer cannot make us hold more than [`DecoderConfig`] allows;
//! 2. header digest, once the header is in (Header Digest Error, FEI = received HDGST);
//! 3. PDU-specific header fields (ICReq PFV/HPDA → Unsupported Parameter, DATAL,
//!    R2TL, …);
//! 4. data digest, once the whole PDU is in (not fatal, see [`DecodeError::DataDigest`]).
//!
//! The decoder follows the connection state just enough to catch PDU sequence
//! errors: before initialization only ICReq (controller role) or ICResp (host role)
//! and termination requests are accepted; afterwards IC PDUs are sequence errors.
//! Command-level sequencing (H2CData matching an R2T, offsets within a command) is
//! the business of the target/initiator state machine above, which reports its
//! findings with [`FatalError`] values built from the same [`Fes`] codes.
//!
//! Digests are switched on with [`PduDecoder::set_digests`] once ICReq/ICResp have
//! been exchanged. Because parsing happens in `decode`, not in `feed`, bytes that
//! arrived together with the IC PDU are parsed with the new settings.

use bytes::{Buf, Bytes, BytesMut};

use crate::cqe::Cqe;
use crate::digest::{DIGEST_LEN, crc32c};
use crate::error::{DecodeError, FatalError, Fes, TERM_REQ_MAX_DATA};
use crate::pdu::{
    COMMON_HEADER_LEN, CapsuleCmd, CommonHeader, DataPdu, DataPduHeader, IcReq, IcResp, MAX_PDA,
    MIN_MAXH2CDATA, PFV_1_0, Pdu, PduType, R2t, TERM_REQ_HLEN, TERM_REQ_MAX_PLEN, TermReq, dgst,
    flags,
};
use crate::sqe::{SQE_LEN, Sqe};

/// Which end of the connection we are; decides which PDU types we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// NVMe controller (target): receives host-to-controller PDUs.
    Controller,
    /// NVMe host (initiator): receives controller-to-host PDUs.
    Host,
}

/// Limits and alignment of a decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecoderConfig {
    /// Our end of the connection.
    pub role: Role,
    /// The PDU data alignment we announced (CPDA in our ICResp as a controller,
    /// HPDA in our ICReq as a host): received PDO must be a multiple of
    /// `(pda + 1) * 4`.
    pub pda: u8,
    /// Maximum data bytes in one H2CData/C2HData PDU (a controller uses the
    /// MAXH2CDATA it announced).
    pub max_data_len: u32,
    /// Maximum in-capsule data bytes of a CapsuleCmd (controller role).
    pub max_in_capsule_data: u32,
}

impl DecoderConfig {
    /// Controller defaults: CPDA 0, MAXH2CDATA 128 KiB, 8 KiB in-capsule data
    /// (the admin queue capsule size Linux assumes, `NVME_TCP_ADMIN_CCSZ`).
    #[must_use]
    pub const fn controller() -> Self {
        Self { role: Role::Controller, pda: 0, max_data_len: 128 * 1024, max_in_capsule_data: 8192 }
    }

    /// Host defaults: HPDA 0, up to 1 MiB of data per C2HData PDU. A host announces no
    /// C2HData limit (NVMe/TCP 1.0 §3.6.2.2), so one that tracks its reads sets the
    /// largest in flight instead ([`PduDecoder::set_limits`]).
    #[must_use]
    pub const fn host() -> Self {
        Self { role: Role::Host, pda: 0, max_data_len: 1024 * 1024, max_in_capsule_data: 0 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Waiting for ICReq (controller) / ICResp (host).
    AwaitIc,
    /// Initialized.
    Established,
    /// The peer sent a termination request: further bytes are discarded.
    Terminated,
    /// We detected a fatal error; it is returned again on every call.
    Failed(DecodeError),
}

/// The validated framing of the PDU at the head of the buffer.
#[derive(Debug, Clone, Copy)]
struct Layout {
    ty: PduType,
    ch: CommonHeader,
    hlen: usize,
    /// hlen plus header digest.
    full_hlen: usize,
    plen: usize,
    /// Data range within the PDU (empty when no data).
    data_start: usize,
    data_len: usize,
    ddgst: bool,
}

/// Streaming NVMe/TCP PDU decoder. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct PduDecoder {
    cfg: DecoderConfig,
    hdgst: bool,
    ddgst: bool,
    /// Received bytes not yet consumed. A decoded PDU with data is split off the
    /// front, so its data is a view of this buffer, not a copy; one without data is
    /// read in place and skipped.
    buf: BytesMut,
    state: State,
    /// The header of the PDU decoded last ([`last_header`](PduDecoder::last_header)):
    /// its first `last_len` bytes.
    last: [u8; TERM_REQ_MAX_DATA],
    last_len: u8,
}

impl PduDecoder {
    /// A decoder for a new connection (expects the IC PDU first).
    #[must_use]
    pub fn new(cfg: DecoderConfig) -> Self {
        Self {
            cfg,
            hdgst: false,
            ddgst: false,
            buf: BytesMut::new(),
            state: State::AwaitIc,
            last: [0; TERM_REQ_MAX_DATA],
            last_len: 0,
        }
    }

    /// A decoder for an already initialized connection with the given digests
    /// (useful for tests and for decoding captured traffic).
    #[must_use]
    pub fn established(cfg: DecoderConfig, hdgst: bool, ddgst: bool) -> Self {
        let mut d = Self::new(cfg);
        d.state = State::Established;
        d.set_digests(hdgst, ddgst);
        d
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &DecoderConfig {
        &self.cfg
    }

    /// Enables or disables header/data digests for PDUs not yet decoded.
    pub fn set_digests(&mut self, hdgst: bool, ddgst: bool) {
        self.hdgst = hdgst;
        self.ddgst = ddgst;
    }

    /// Changes the maximum data length per data PDU (e.g. after ICResp told the
    /// host the controller's MAXH2CDATA, or when a controller changes IOCCSZ).
    pub fn set_limits(&mut self, max_data_len: u32, max_in_capsule_data: u32) {
        self.cfg.max_data_len = max_data_len;
        self.cfg.max_in_capsule_data = max_in_capsule_data;
    }

    /// Appends received bytes. Cheap: parsing happens in [`decode`](Self::decode).
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.is_closed() {
            return;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The receive buffer with room for at least `min` more bytes, for the shell to
    /// append received bytes to directly (e.g. tokio's `AsyncReadExt::read_buf`),
    /// saving the copy [`feed`](Self::feed) makes. Consumed bytes are reclaimed when
    /// no decoded PDU still holds them; otherwise the unconsumed bytes (at most a
    /// partial PDU) move to a new buffer. Bytes appended once the connection is over
    /// are dropped here, as [`feed`](Self::feed) ignores them.
    pub fn receive_buf(&mut self, min: usize) -> &mut BytesMut {
        if self.is_closed() {
            self.buf.clear();
        }
        self.buf.reserve(min);
        &mut self.buf
    }

    /// Controller role: the header (without its digest) of the PDU [`decode`](Self::decode) returned last,
    /// or handed over with [`DecodeError::DataDigest`]: for the termination request of
    /// an error found in it above the decoder, which carries it (NVMe/TCP 1.0 §3.6.2.5).
    /// Empty before the first PDU.
    #[must_use]
    pub fn last_header(&self) -> &[u8] {
        &self.last[..usize::from(self.last_len)]
    }

    /// Bytes received but not yet consumed by a decoded PDU.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Whether the connection is over (peer sent a termination request, or a
    /// fatal error was found).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Terminated | State::Failed(_))
    }

    /// How many more bytes are needed before [`decode`](Self::decode) can make
    /// progress (a lower bound; 0 if it can already).
    #[must_use]
    pub fn bytes_needed(&self) -> usize {
        if self.is_closed() {
            return 0;
        }
        let avail = &self.buf[..];
        match CommonHeader::parse(avail) {
            None => COMMON_HEADER_LEN - avail.len(),
            Some(ch) => (ch.plen as usize).saturating_sub(avail.len()),
        }
    }

    /// Decodes the next PDU if it is complete.
    ///
    /// * `Ok(Some(pdu))`: one PDU consumed; call again for the next.
    /// * `Ok(None)`: more bytes needed (or the peer terminated the connection).
    /// * `Err(e)`: see [`DecodeError`]; fatal errors are sticky.
    pub fn decode(&mut self) -> Result<Option<Pdu>, DecodeError> {
        match &self.state {
            State::Failed(e) => return Err(e.clone()),
            State::Terminated => return Ok(None),
            State::AwaitIc | State::Established => {}
        }
        match self.decode_inner() {
            Ok(Some(pdu)) => {
                match pdu {
                    Pdu::IcReq(_) | Pdu::IcResp(_) => self.state = State::Established,
                    Pdu::H2CTermReq(_) | Pdu::C2HTermReq(_) => self.state = State::Terminated,
                    _ => {}
                }
                Ok(Some(pdu))
            }
            Ok(None) => Ok(None),
            Err(e @ DecodeError::DataDigest { .. }) => Err(e),
            Err(e) => {
                self.state = State::Failed(e.clone());
                self.buf = BytesMut::new();
                Err(e)
            }
        }
    }

    fn decode_inner(&mut self) -> Result<Option<Pdu>, DecodeError> {
        let avail = &self.buf[..];
        let Some(ch) = CommonHeader::parse(avail) else {
            return Ok(None);
        };
        let lay = self.validate_common(ch, &avail[..offending_header_len(&ch, avail.len())])?;
        if avail.len() < lay.full_hlen {
            return Ok(None);
        }
        let header = &avail[..lay.hlen];
        if lay.full_hlen > lay.hlen {
            let d = &avail[lay.hlen..lay.full_hlen];
            let received = u32::from_le_bytes([d[0], d[1], d[2], d[3]]);
            if crc32c(header) != received {
                return Err(FatalError::new(
                    Fes::HeaderDigestError,
                    received,
                    "header digest mismatch",
                )
                .with_header(header)
                .into());
            }
        }
        check_specific(&lay, header)?;
        if avail.len() < lay.plen {
            return Ok(None);
        }
        let digest_check = if lay.ddgst {
            let data = &avail[lay.data_start..lay.data_start + lay.data_len];
            let d = &avail[lay.plen - DIGEST_LEN..lay.plen];
            let received = u32::from_le_bytes([d[0], d[1], d[2], d[3]]);
            let computed = crc32c(data);
            (received != computed).then_some((received, computed))
        } else {
            None
        };
        // Kept for the termination requests a controller sends for errors it finds above
        // the decoder; a host's decoder has no use for it, so the initiator's hot path
        // (a C2HData and a response per read) copies nothing. Every header fits (ICReq's
        // 128 bytes are the longest).
        if self.cfg.role == Role::Controller {
            let n = lay.hlen.min(TERM_REQ_MAX_DATA);
            self.last[..n].copy_from_slice(&self.buf[..n]);
            self.last_len = n as u8;
        }
        let pdu = if lay.data_len == 0 {
            // Nothing outlives the call (a command without in-capsule data, a response,
            // an R2T): the header is read in place and skipped, without the shared
            // reference (two atomic operations) that a split-off view costs.
            let pdu = build_pdu(&lay, &self.buf[..lay.hlen], Bytes::new());
            self.buf.advance(lay.plen);
            pdu
        } else {
            // The whole PDU leaves the buffer; its data is handed out as a view of it.
            let pdu_bytes = self.buf.split_to(lay.plen).freeze();
            let data = pdu_bytes.slice(lay.data_start..lay.data_start + lay.data_len);
            build_pdu(&lay, &pdu_bytes[..lay.hlen], data)
        };
        match digest_check {
            None => Ok(Some(pdu)),
            Some((received, computed)) => {
                Err(DecodeError::DataDigest { pdu: Box::new(pdu), received, computed })
            }
        }
    }

    fn validate_common(&self, ch: CommonHeader, raw: &[u8]) -> Result<Layout, DecodeError> {
        let invalid = |off: u32, reason: &'static str| -> DecodeError {
            FatalError::invalid_field(off, reason).with_header(raw).into()
        };
        // PDU-Type (offset 0).
        let ty = PduType::from_u8(ch.pdu_type)
            .ok_or_else(|| invalid(CommonHeader::OFFSET_TYPE, "unknown PDU type"))?;
        let towards_us = match self.cfg.role {
            Role::Controller => ty.is_host_to_controller(),
            Role::Host => !ty.is_host_to_controller(),
        };
        if !towards_us {
            return Err(invalid(CommonHeader::OFFSET_TYPE, "PDU type not valid in this direction"));
        }
        let is_term = matches!(ty, PduType::H2CTermReq | PduType::C2HTermReq);
        let is_ic = matches!(ty, PduType::IcReq | PduType::IcResp);
        let sequence_ok = match self.state {
            State::AwaitIc => is_ic || is_term,
            _ => !is_ic,
        };
        if !sequence_ok {
            return Err(FatalError::new(
                Fes::PduSequenceError,
                0,
                if is_ic {
                    "initialize connection PDU on an initialized connection"
                } else {
                    "PDU before connection initialization"
                },
            )
            .with_header(raw)
            .into());
        }
        // A termination request with a bad length is answered by closing (§3.6.2.4).
        if is_term && !(u32::from(TERM_REQ_HLEN)..=TERM_REQ_MAX_PLEN).contains(&ch.plen) {
            return Err(DecodeError::MalformedTermReq { plen: ch.plen });
        }

        // FLAGS (offset 1).
        if ch.flags & !ty.valid_flags() != 0 {
            return Err(invalid(CommonHeader::OFFSET_FLAGS, "flag not defined for this PDU type"));
        }
        let hdgstf = ch.flags & flags::HDGSTF != 0;
        let ddgstf = ch.flags & flags::DDGSTF != 0;
        if ty.digests_apply() && hdgstf != self.hdgst {
            return Err(invalid(
                CommonHeader::OFFSET_FLAGS,
                "HDGSTF does not match negotiated header digest",
            ));
        }
        if ddgstf && !self.ddgst {
            return Err(invalid(
                CommonHeader::OFFSET_FLAGS,
                "DDGSTF set but data digest not negotiated",
            ));
        }
        let hlen = usize::from(ty.hlen());
        let full_hlen = hlen + if hdgstf { DIGEST_LEN } else { 0 };
        let plen = ch.plen as usize;
        let has_data = ty.may_carry_data() && plen > full_hlen;
        if has_data && self.ddgst && !ddgstf {
            return Err(invalid(
                CommonHeader::OFFSET_FLAGS,
                "DDGSTF clear on a PDU with data while data digest is negotiated",
            ));
        }
        if ty == PduType::C2HData
            && ch.flags & flags::SUCCESS != 0
            && ch.flags & flags::LAST_PDU == 0
        {
            return Err(invalid(CommonHeader::OFFSET_FLAGS, "SUCCESS without LAST_PDU"));
        }

        // HLEN (offset 2).
        if usize::from(ch.hlen) != hlen {
            return Err(invalid(CommonHeader::OFFSET_HLEN, "HLEN does not match PDU type"));
        }

        // PDO (offset 3) and PLEN (offset 4).
        let pdo = usize::from(ch.pdo);
        let mut lay =
            Layout { ty, ch, hlen, full_hlen, plen, data_start: 0, data_len: 0, ddgst: false };
        if !ty.may_carry_data() {
            if ch.pdo != 0 {
                return Err(invalid(CommonHeader::OFFSET_PDO, "PDO must be 0 for this PDU type"));
            }
            if is_term {
                // Range checked above; the data is the offending header.
                lay.data_start = hlen;
                lay.data_len = plen - hlen;
            } else if plen != full_hlen {
                return Err(invalid(
                    CommonHeader::OFFSET_PLEN,
                    "PLEN does not match header length",
                ));
            }
            return Ok(lay);
        }
        if !has_data {
            if pdo != 0 && pdo != full_hlen {
                return Err(invalid(CommonHeader::OFFSET_PDO, "PDO without data"));
            }
            if plen < full_hlen {
                return Err(invalid(CommonHeader::OFFSET_PLEN, "PLEN shorter than the PDU header"));
            }
            if ty != PduType::CapsuleCmd {
                return Err(invalid(CommonHeader::OFFSET_PLEN, "data PDU without data"));
            }
            return Ok(lay);
        }
        let align = (usize::from(self.cfg.pda.min(MAX_PDA)) + 1) * 4;
        if pdo < full_hlen || pdo % align != 0 || pdo > plen {
            return Err(invalid(
                CommonHeader::OFFSET_PDO,
                "PDO inconsistent with header length, alignment or PLEN",
            ));
        }
        let trailer = if ddgstf { DIGEST_LEN } else { 0 };
        if plen <= pdo + trailer {
            return Err(invalid(CommonHeader::OFFSET_PLEN, "PLEN leaves no room for data"));
        }
        let data_len = plen - pdo - trailer;
        let limit = if ty == PduType::CapsuleCmd {
            self.cfg.max_in_capsule_data
        } else {
            self.cfg.max_data_len
        };
        if data_len > limit as usize {
            return Err(FatalError::new(
                Fes::DataTransferLimitExceeded,
                0,
                "PDU data longer than allowed",
            )
            .with_header(raw)
            .into());
        }
        lay.data_start = pdo;
        lay.data_len = data_len;
        lay.ddgst = ddgstf;
        Ok(lay)
    }
}

/// How much of a PDU whose common header `ch` is in error its termination request
/// carries: its header (HLEN as received, within PLEN, the common header at least) as
/// far as it arrived, up to 128 bytes (NVMe/TCP 1.0 §3.6.2.5). The error is reported at
/// once, not after waiting for the rest of a header that may be bogus or never come.
fn offending_header_len(ch: &CommonHeader, received: usize) -> usize {
    let hlen = usize::from(ch.hlen).min(usize::try_from(ch.plen).unwrap_or(usize::MAX));
    hlen.clamp(COMMON_HEADER_LEN, TERM_REQ_MAX_DATA).min(received)
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// PDU-specific header checks (the header digest has already been verified).
fn check_specific(lay: &Layout, h: &[u8]) -> Result<(), DecodeError> {
    let err = |fes: Fes, off: u32, reason: &'static str| -> DecodeError {
        FatalError::new(fes, off, reason).with_header(h).into()
    };
    match lay.ty {
        PduType::IcReq => {
            if le16(h, 8) != PFV_1_0 {
                return Err(err(
                    Fes::UnsupportedParameter,
                    IcReq::OFFSET_PFV,
                    "unsupported PDU format version",
                ));
            }
            if h[10] > MAX_PDA {
                return Err(err(
                    Fes::UnsupportedParameter,
                    IcReq::OFFSET_HPDA,
                    "HPDA out of range",
                ));
            }
        }
        PduType::IcResp => {
            if le16(h, 8) != PFV_1_0 {
                return Err(err(
                    Fes::UnsupportedParameter,
                    IcResp::OFFSET_PFV,
                    "unsupported PDU format version",
                ));
            }
            if h[10] > MAX_PDA {
                return Err(err(
                    Fes::UnsupportedParameter,
                    IcResp::OFFSET_CPDA,
                    "CPDA out of range",
                ));
            }
            let maxh2cdata = le32(h, 12);
            if maxh2cdata < MIN_MAXH2CDATA || !maxh2cdata.is_multiple_of(4) {
                return Err(err(
                    Fes::InvalidHeaderField,
                    IcResp::OFFSET_MAXH2CDATA,
                    "MAXH2CDATA below 4096 or not a multiple of 4",
                ));
            }
        }
        PduType::H2CData | PduType::C2HData => {
            if le32(h, 16) as usize != lay.data_len {
                return Err(err(
                    Fes::InvalidHeaderField,
                    DataPduHeader::OFFSET_DATAL,
                    "DATAL does not match PDU data length",
                ));
            }
        }
        PduType::R2T => {
            if le32(h, 16) == 0 {
                return Err(err(Fes::InvalidHeaderField, R2t::OFFSET_R2TL, "R2TL is zero"));
            }
        }
        PduType::H2CTermReq | PduType::C2HTermReq | PduType::CapsuleCmd | PduType::CapsuleResp => {}
    }
    Ok(())
}

fn build_pdu(lay: &Layout, h: &[u8], data: Bytes) -> Pdu {
    match lay.ty {
        PduType::IcReq => Pdu::IcReq(IcReq {
            pfv: le16(h, 8),
            hpda: h[10],
            hdgst: h[11] & dgst::HDGST_ENABLE != 0,
            ddgst: h[11] & dgst::DDGST_ENABLE != 0,
            maxr2t: le32(h, 12),
        }),
        PduType::IcResp => Pdu::IcResp(IcResp {
            pfv: le16(h, 8),
            cpda: h[10],
            hdgst: h[11] & dgst::HDGST_ENABLE != 0,
            ddgst: h[11] & dgst::DDGST_ENABLE != 0,
            maxh2cdata: le32(h, 12),
        }),
        PduType::H2CTermReq | PduType::C2HTermReq => {
            let t = TermReq {
                fes: le16(h, 8),
                fei: le32(h, 10),
                data: data[..data.len().min(TERM_REQ_MAX_DATA)].to_vec(),
            };
            if lay.ty == PduType::H2CTermReq { Pdu::H2CTermReq(t) } else { Pdu::C2HTermReq(t) }
        }
        PduType::CapsuleCmd => {
            let mut sqe = [0u8; SQE_LEN];
            sqe.copy_from_slice(&h[COMMON_HEADER_LEN..COMMON_HEADER_LEN + SQE_LEN]);
            Pdu::CapsuleCmd(CapsuleCmd { sqe: Sqe::from_bytes(&sqe), data })
        }
        PduType::CapsuleResp => {
            let mut cqe = [0u8; crate::cqe::CQE_LEN];
            cqe.copy_from_slice(&h[COMMON_HEADER_LEN..COMMON_HEADER_LEN + crate::cqe::CQE_LEN]);
            Pdu::CapsuleResp(Cqe::from_bytes(&cqe))
        }
        PduType::H2CData | PduType::C2HData => {
            let c2h = lay.ty == PduType::C2HData;
            let header = DataPduHeader {
                cccid: le16(h, 8),
                ttag: if c2h { 0 } else { le16(h, 10) },
                datao: le32(h, 12),
                last: lay.ch.flags & flags::LAST_PDU != 0,
                success: c2h && lay.ch.flags & flags::SUCCESS != 0,
            };
            let d = DataPdu { header, data };
            if c2h { Pdu::C2HData(d) } else { Pdu::H2CData(d) }
        }
        PduType::R2T => Pdu::R2t(R2t {
            cccid: le16(h, 8),
            ttag: le16(h, 10),
            r2to: le32(h, 12),
            r2tl: le32(h, 16),
        }),
    }
}
