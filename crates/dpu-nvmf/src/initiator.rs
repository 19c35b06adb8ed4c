//! A small NVMe/TCP initiator (host side), for tests and benchmarks of the target.
//!
//! One [`HostQueue`] is one TCP connection: ICReq/ICResp, Fabrics Connect, then
//! commands with in-capsule data for small writes and R2T/H2CData for large ones,
//! C2HData for reads. [`HostQueue::submit`] runs one command to completion;
//! [`HostQueue::start`] / [`HostQueue::start_read`] / [`HostQueue::start_write`] put
//! commands in flight (distinct CIDs, at most [`HostQueue::queue_depth`] at once, the
//! queue size negotiated at Connect) and [`HostQueue::next_completion`] /
//! [`HostQueue::wait`] reap them; R2Ts and C2HData are matched to their command by CID. [`HostController`]
//! bundles the admin queue and I/O queues of one controller and performs the
//! enable sequence a Linux host does (Property Get CAP, Property Set CC.EN,
//! wait for CSTS.RDY, Identify Controller for the I/O queues' in-capsule data size
//! (IOCCSZ), Set Features Number of Queues, I/O queue Connects).
//!
//! It also exposes the raw PDU path ([`HostQueue::send_raw`], [`HostQueue::recv_pdu`])
//! so tests can send malformed PDUs.
//!
//! What a controller sends is untrusted: it ends in a completion or an error, never a
//! panic or a wait without end. Each wait ([`HostQueue::wait`],
//! [`HostQueue::next_completion`], a received PDU) ends within [`HostOptions::timeout`]
//! of its start, a deadline however the bytes trickle in (as Linux's per-request I/O
//! timeout): the sends it makes (batched commands, the H2CData answering R2Ts, an
//! H2CTermReq) go by the same deadline, the socket is read only before it, and a send
//! outside a wait has the timeout to itself. No command takes more completions, C2HData
//! or R2Ts than it can have (a controller repeating them would otherwise keep a wait
//! busy).
//!
//! A read's C2HData may be as long as the read (Linux's nvmet sends each read in one PDU):
//! the decoder takes a data PDU up to the largest read in flight, so a controller makes
//! the host buffer no more than it asked for.
//!
//! A controller that breaks the protocol ends the queue, as Linux's host runs error
//! recovery (NVMe/TCP 1.0 §3.5.3, fatal errors): an undecodable PDU (a header digest
//! error), C2HData not at the offset the read's data reached (in order, no gaps or
//! overlaps) or beyond it, SUCCESS before all data, an R2T not at the offset the
//! write's data reached (in order, as Linux's host checks) or beyond the data, a
//! completion or data of a command not in flight. The host sends an H2CTermReq (the
//! decoder's, or one with the offending PDU's header), closes the connection, fails
//! every command in flight with it and takes no more ([`InitiatorError::Broken`]). A
//! C2HData data digest error fails only its command: it completes with Data Transfer
//! Error whatever the controller's completion says, as does an I/O queue's Read that
//! completes successfully with less data than it reads.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The shared byte buffer of [`Completion::data`] and [`HostQueue::start_shared`].
pub use dpu_nvmf_proto::Bytes;
use dpu_nvmf_proto::auth::{
    AuthMessage, AuthTransfer, Challenge, Failure, Negotiate, Reply, dh_group, failure, hash,
};
use dpu_nvmf_proto::cqe::Status;
use dpu_nvmf_proto::fabrics::{
    CNTLID_DYNAMIC, CONNECT_AUTHREQ_ASCR, CONNECT_AUTHREQ_ATR, ConnectCmd, ConnectData,
    PropertyGetCmd, PropertySetCmd, property,
};
use dpu_nvmf_proto::pdu::{
    DataPduHeader, PduType, encode_capsule_cmd, encode_capsule_cmd_prefix, encode_data_pdu_prefix,
    encode_data_pdu_suffix, encode_ic_req, encode_term_req,
};
use dpu_nvmf_proto::sqe::{admin_opcode, io_opcode};
use dpu_nvmf_proto::{
    BytesMut, Cqe, DecodeError, DecoderConfig, FatalError, Fes, Framing, IcReq, Pdu, PduDecoder,
    SglDescriptor, Sqe, TermReq,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::cid_map::CidSlots;
use crate::dhchap::{self, DhGroup, Exchange, Secret};
use crate::queue::Segment;
use crate::server::write_segments;

/// Errors of the initiator.
#[derive(Debug, thiserror::Error)]
pub enum InitiatorError {
    /// Socket error.
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    /// The controller sent something we cannot decode.
    #[error("decode: {0}")]
    Decode(#[from] DecodeError),
    /// The controller terminated the connection.
    #[error("controller terminated the connection: FES {:#x} FEI {:#x}", .0.fes, .0.fei)]
    Terminated(TermReq),
    /// The connection closed.
    #[error("connection closed")]
    Closed,
    /// No answer in time.
    #[error("timed out waiting for the controller")]
    Timeout,
    /// The controller broke the protocol.
    #[error("protocol: {0}")]
    Protocol(&'static str),
    /// A command failed.
    #[error("command failed: {0}")]
    Status(Status),
    /// An earlier send or receive on this queue failed; the commands that were in flight
    /// then were failed with it and the queue takes no more.
    #[error("the queue's connection failed earlier: {0}")]
    Broken(io::ErrorKind),
    /// As many commands are in flight as the queue holds.
    #[error("queue full: {0} commands in flight")]
    QueueFull(usize),
    /// In-band authentication failed (or was asked for without a secret to answer), or
    /// the Connect response's AUTHREQ asks for what this host refuses.
    #[error("authentication: {0}")]
    Auth(String),
}

/// What the controller sent instead of the next step of a transaction.
fn auth_refused(wanted: &str, got: &AuthMessage) -> InitiatorError {
    match got {
        AuthMessage::Failure1(f) => InitiatorError::Auth(format!(
            "the controller refused (AUTH_Failure1, reason {:#x} explanation {:#x})",
            f.reason, f.explanation
        )),
        other => InitiatorError::Auth(format!("expected {wanted}, got {other:?}")),
    }
}

/// Why this host ends a DH-HMAC-CHAP transaction (see [`HostQueue::authenticate`]).
#[derive(Debug)]
struct AuthAbort {
    /// The reason code explanation of the `AUTH_Failure2` this host sends (reason code
    /// 01h, NVMe Base 2.2 §8.3.4.5), when it is the one that refuses; none when the
    /// controller ended the transaction or a command failed, as Linux's host sends none.
    failure2: Option<u8>,
    error: InitiatorError,
}

impl AuthAbort {
    /// This host refuses, with `explanation` (a [`failure`] code).
    fn refuse(explanation: u8, why: impl Into<String>) -> Self {
        AuthAbort { failure2: Some(explanation), error: InitiatorError::Auth(why.into()) }
    }
}

impl From<InitiatorError> for AuthAbort {
    fn from(error: InitiatorError) -> Self {
        AuthAbort { failure2: None, error }
    }
}

/// Whether this host can answer Challenge `c`, as Linux's host judges it
/// (`nvme_auth_process_dhchap_challenge`): a hash it knows with HL its digest length, a
/// DH group it knows with a DH value, or the NULL group without one.
fn check_challenge(c: &Challenge) -> Result<(), AuthAbort> {
    let Some(hl) = hash::len(c.hash) else {
        return Err(AuthAbort::refuse(failure::HASH_UNUSABLE, format!("unknown hash {}", c.hash)));
    };
    if c.challenge.len() != hl {
        let why = format!("HL {} for hash {} of {hl} bytes", c.challenge.len(), c.hash);
        return Err(AuthAbort::refuse(failure::HASH_UNUSABLE, why));
    }
    let refused = match c.dh_group {
        dh_group::NULL if c.dh_value.is_empty() => return Ok(()),
        dh_group::NULL => (failure::INCORRECT_PAYLOAD, "a DH value with the NULL DH group"),
        g if DhGroup::get(g).is_none() => (failure::DHGROUP_UNUSABLE, "an unknown DH group"),
        _ if c.dh_value.is_empty() => (failure::DHGROUP_UNUSABLE, "a DH group without a value"),
        _ => return Ok(()),
    };
    Err(AuthAbort::refuse(refused.0, format!("the controller's challenge has {}", refused.1)))
}

/// Connection options of the host.
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// Host NQN.
    pub hostnqn: String,
    /// Host identifier.
    pub hostid: [u8; 16],
    /// Request header digests.
    pub hdgst: bool,
    /// Request data digests.
    pub ddgst: bool,
    /// Keep alive timeout in ms (admin queue Connect).
    pub kato_ms: u32,
    /// Disable SQ flow control on I/O queues (lets the controller use C2HData SUCCESS).
    pub disable_sqflow: bool,
    /// How long a wait for the controller may take from its start (a deadline, not an
    /// idle timer, which also bounds the sends made within the wait), and how long it
    /// may take to take what is sent.
    pub timeout: Duration,
    /// DH-HMAC-CHAP secret, used when a Connect response asks for authentication.
    pub dhchap_secret: Option<Secret>,
    /// The controller's secret: with it the host also makes the controller prove itself,
    /// and a Connect whose response does not ask for authentication (AUTHREQ ATR clear)
    /// fails, as the controller then never would.
    pub dhchap_ctrl_secret: Option<Secret>,
    /// The address the host's connections come from (`None`: the system's choice): the
    /// target shares its I/O pool and write budget out by it, so tests on loopback tell
    /// hosts apart with another address of 127/8.
    pub source: Option<IpAddr>,
}

impl Default for HostOptions {
    fn default() -> Self {
        Self {
            hostnqn: "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-000000000001".into(),
            hostid: [0x11; 16],
            hdgst: false,
            ddgst: false,
            kato_ms: 0,
            disable_sqflow: false,
            timeout: Duration::from_secs(10),
            dhchap_secret: None,
            dhchap_ctrl_secret: None,
            source: None,
        }
    }
}

/// A completed command.
#[derive(Debug, Clone)]
pub struct Completion {
    /// The completion entry (synthesized when C2HData carried SUCCESS; its status Data
    /// Transfer Error when the host found the data bad, see the module doc).
    pub cqe: Cqe,
    /// Data received by C2HData (a read in one PDU is a view of the receive buffer);
    /// empty when the host failed the command's data.
    pub data: Bytes,
    /// Whether the completion came as a C2HData SUCCESS flag.
    pub via_success_flag: bool,
}

/// A command in flight.
#[derive(Debug)]
struct Pending {
    /// Data to send on R2T (none for in-capsule writes and reads); shared with the
    /// H2CData segments being written, so it is not copied again.
    out: Option<Bytes>,
    /// C2HData received so far (see [`place`](Self::place)).
    data: ReadData,
    /// Bytes the command reads.
    want: usize,
    /// Bytes received by C2HData.
    got: usize,
    /// Bytes of `out` asked for by R2T so far: where the next R2T must start.
    asked: usize,
    /// The command's C2HData failed its data digest: it completes with a Data Transfer
    /// Error whatever its completion says (as Linux's host, `nvme_tcp_recv_ddgst`).
    failed: bool,
    /// The command itself fixes how much it reads (an I/O queue's Read): a successful
    /// completion with less data is a Data Transfer Error. Other commands may read less
    /// than their buffer (our target's Authentication Receive sends the message, not
    /// AL bytes); the rest reads as zero.
    exact: bool,
}

/// The data of a read as its C2HData PDUs arrive.
#[derive(Debug, Default)]
enum ReadData {
    #[default]
    None,
    /// The whole transfer came in one PDU: its view of the receive buffer, uncopied.
    Whole(Bytes),
    /// Data of several PDUs gathered in order.
    Gathered(BytesMut),
}

impl Pending {
    fn new(out: Option<Bytes>, want: usize, exact: bool) -> Self {
        Self { out, data: ReadData::None, want, got: 0, asked: 0, failed: false, exact }
    }

    /// Appends the next C2HData `bytes` (already checked to come at offset `got` and to
    /// end within `want`).
    fn place(&mut self, bytes: Bytes) {
        self.got += bytes.len();
        let mut buf = match std::mem::take(&mut self.data) {
            ReadData::None if bytes.len() == self.want => {
                self.data = ReadData::Whole(bytes);
                return;
            }
            ReadData::None => BytesMut::with_capacity(self.want),
            ReadData::Whole(b) => BytesMut::from(&b[..]),
            ReadData::Gathered(b) => b,
        };
        buf.extend_from_slice(&bytes);
        self.data = ReadData::Gathered(buf);
    }

    /// The completion of this command, which the controller completed with `cqe`. A data
    /// transfer error the host found wins over the controller's status, as in Linux's
    /// host (`nvme_tcp_process_nvme_cqe` keeps a request's error); its data is then empty.
    fn complete(self, mut cqe: Cqe, via_success_flag: bool) -> Completion {
        let short = self.exact && self.got < self.want && cqe.status.is_success();
        if self.failed || short {
            cqe.status = Status::DATA_TRANSFER_ERROR;
            return Completion { cqe, data: Bytes::new(), via_success_flag };
        }
        Completion { cqe, data: self.into_data(), via_success_flag }
    }

    /// The data of the completed command, `want` bytes long.
    fn into_data(self) -> Bytes {
        match self.data {
            ReadData::Whole(b) => b,
            ReadData::None if self.want == 0 => Bytes::new(),
            ReadData::None => BytesMut::zeroed(self.want).freeze(),
            ReadData::Gathered(mut b) => {
                b.resize(self.want, 0);
                b.freeze()
            }
        }
    }
}

/// The largest transfer a command in flight reads: the most one C2HData PDU may carry.
/// NVMe/TCP gives a host no way to announce a C2HData limit (ICReq has none; MDTS bounds a
/// command, and Linux's nvmet reports MDTS 0 over TCP and sends a whole read in one PDU),
/// so the decoder takes a PDU up to what the host asked for and no more, before it is
/// buffered. Kept up to date by compares: only when the last command at the bound ends
/// are the commands in flight looked through again.
#[derive(Debug, Default)]
struct ReadBound {
    /// The largest `Pending::want` in flight (0: none reads).
    max: usize,
    /// Commands in flight that read `max` bytes.
    at_max: usize,
}

impl ReadBound {
    /// A command reading `want` bytes started; true if the bound rose.
    fn started(&mut self, want: usize) -> bool {
        if want > self.max {
            (self.max, self.at_max) = (want, 1);
            return true;
        }
        if want == self.max && want > 0 {
            self.at_max += 1;
        }
        false
    }

    /// A command reading `want` bytes ended; true if it was the last at the bound, which
    /// must then be found again ([`recount`](Self::recount)).
    fn ended(&mut self, want: usize) -> bool {
        if want == 0 || want != self.max {
            return false;
        }
        self.at_max -= 1;
        self.at_max == 0
    }

    /// The bound of the commands in flight reading `wants` bytes each.
    fn recount(&mut self, wants: impl Iterator<Item = usize>) {
        *self = Self::default();
        for w in wants {
            self.started(w);
        }
    }

    /// The decoder's limit for one C2HData PDU.
    fn limit(&self) -> u32 {
        u32::try_from(self.max).unwrap_or(u32::MAX)
    }
}

/// What one PDU received for the commands in flight did.
enum Received {
    /// A command started with [`HostQueue::start`] completed.
    Completed(u16, Completion),
    /// An Asynchronous Event Request completed.
    Event(Cqe),
    /// Nothing to hand over yet (data received, an R2T answered).
    Progress,
}

/// Data a command sends.
enum DataOut<'a> {
    Slice(&'a [u8]),
    Shared(Bytes),
}

impl DataOut<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            DataOut::Slice(d) => d,
            DataOut::Shared(b) => b,
        }
    }

    /// The data to keep for R2T: a copy of borrowed data, shared data as it is.
    fn into_bytes(self) -> Bytes {
        match self {
            DataOut::Slice(d) => Bytes::copy_from_slice(d),
            DataOut::Shared(b) => b,
        }
    }
}

/// Room asked of the decoder for each receive: a batch of completions or a 128 KiB
/// C2HData PDU with headers in one read call.
const RECV_ROOM: usize = 256 * 1024;
/// Commands left for batching are written once they reach this many bytes: as much as
/// the target takes in one receive, so a burst of 4 KiB writes at queue depth 128 leaves
/// in two writes (in 64 KiB pieces the stream of small writes ran at two thirds the rate).
const TX_BATCH: usize = 256 * 1024;

/// One NVMe/TCP connection, host side.
#[derive(Debug)]
pub struct HostQueue {
    stream: TcpStream,
    dec: PduDecoder,
    framing: Framing,
    maxh2cdata: u32,
    /// In-capsule data a command may carry (see [`io_in_capsule_max`]).
    in_capsule_max: usize,
    opts: HostOptions,
    /// Completions of other commands (AERs) received while waiting.
    events: VecDeque<Cqe>,
    /// Commands in flight by CID (which this side chooses).
    pending: CidSlots<Pending>,
    /// The largest read in flight, the decoder's C2HData limit (see [`ReadBound`]).
    reads: ReadBound,
    /// Completed commands not yet reaped by [`wait`](Self::wait) / [`next_completion`](Self::next_completion).
    done: VecDeque<(u16, Completion)>,
    /// Commands that may be in flight at once (from the SQ size given at Connect).
    depth: usize,
    /// Asynchronous Event Requests in flight ([`send_only`](Self::send_only)): their CIDs
    /// are reserved in `pending`, and they count against `depth` as the target counts them.
    aers: usize,
    /// QID after Connect.
    pub qid: u16,
    /// Encoded commands not yet written (see [`start`](Self::start)).
    tx: Vec<u8>,
    /// Shared in-capsule data of those commands, written from where it is between the
    /// bytes of `tx`: (offset in `tx`, data).
    tx_data: Vec<(usize, Bytes)>,
    /// Bytes in `tx_data`.
    tx_data_len: usize,
    /// Set once a send or receive failed: every command then in flight failed with it.
    broken: Option<io::ErrorKind>,
}

/// A TCP connection to `addr`, from `source` if given.
async fn connect_from(source: Option<IpAddr>, addr: SocketAddr) -> io::Result<TcpStream> {
    let Some(ip) = source else { return TcpStream::connect(addr).await };
    let socket = match ip {
        IpAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        IpAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.bind(SocketAddr::new(ip, 0))?;
    socket.connect(addr).await
}

impl HostQueue {
    /// Opens the TCP connection and exchanges ICReq/ICResp.
    pub async fn open(addr: SocketAddr, opts: &HostOptions) -> Result<Self, InitiatorError> {
        let stream = tokio::time::timeout(opts.timeout, connect_from(opts.source, addr))
            .await
            .map_err(|_| InitiatorError::Timeout)??;
        stream.set_nodelay(true)?;
        let mut q = Self {
            stream,
            // Nothing reads yet: C2HData is taken once a command asks for it.
            dec: PduDecoder::new(DecoderConfig { max_data_len: 0, ..DecoderConfig::host() }),
            framing: Framing::PLAIN,
            maxh2cdata: 4096,
            in_capsule_max: 8192 - 64,
            opts: opts.clone(),
            events: VecDeque::new(),
            pending: CidSlots::default(),
            reads: ReadBound::default(),
            done: VecDeque::new(),
            depth: 1,
            aers: 0,
            qid: 0,
            tx: Vec::new(),
            tx_data: Vec::new(),
            tx_data_len: 0,
            broken: None,
        };
        let mut b = Vec::new();
        encode_ic_req(
            &IcReq { pfv: 0, hpda: 0, hdgst: opts.hdgst, ddgst: opts.ddgst, maxr2t: 0 },
            &mut b,
        );
        let sent = timed(&mut q.new_wait(), q.stream.write_all(&b)).await;
        if let Err(e) = sent {
            return Err(q.fail_all(e));
        }
        match q.recv_pdu().await? {
            Pdu::IcResp(r) => {
                if r.hdgst != opts.hdgst || r.ddgst != opts.ddgst {
                    return Err(InitiatorError::Protocol("controller changed the digests"));
                }
                if r.cpda != 0 {
                    return Err(InitiatorError::Protocol("CPDA other than 0 not supported"));
                }
                q.dec.set_digests(r.hdgst, r.ddgst);
                q.framing = Framing { hdgst: r.hdgst, ddgst: r.ddgst, pda: r.cpda };
                q.maxh2cdata = r.maxh2cdata;
            }
            _ => return Err(InitiatorError::Protocol("expected ICResp")),
        }
        Ok(q)
    }

    /// Sends raw bytes (for malformed-PDU tests).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), InitiatorError> {
        self.usable()?;
        let mut wait = self.new_wait();
        self.flush(&mut wait).await?;
        if let Err(e) = timed(&mut wait, self.stream.write_all(bytes)).await {
            return Err(self.fail_all(e));
        }
        Ok(())
    }

    /// The queue's connection failed with `e` (a send that did not finish in time
    /// too: the stream is left within a PDU): the commands in flight (and those
    /// waiting to be written) can never complete, so they fail now rather than each
    /// wait for its timeout, and the queue takes no more.
    fn fail_all(&mut self, e: io::Error) -> InitiatorError {
        self.break_queue(e.kind());
        if e.kind() == io::ErrorKind::TimedOut {
            return InitiatorError::Timeout;
        }
        InitiatorError::Io(e)
    }

    /// Marks the queue broken (`kind` for [`InitiatorError::Broken`]) and fails every
    /// command in flight or waiting to be written.
    fn break_queue(&mut self, kind: io::ErrorKind) {
        self.broken = Some(kind);
        self.pending.clear();
        self.reads = ReadBound::default();
        self.dec.set_limits(0, 0);
        self.aers = 0;
        self.tx.clear();
        self.tx_data.clear();
        self.tx_data_len = 0;
    }

    /// Ends the queue for a fatal transport error `e` in what the controller sent
    /// (NVMe/TCP 1.0 §3.5.3: the side that finds one sends a termination request and
    /// closes the connection; Linux's host tears the queue down and fails every request):
    /// sends `term` as an H2CTermReq if there is one, closes the connection and fails
    /// every command in flight. Returns `e`. It adds nothing to `wait`: the H2CTermReq
    /// leaves by its deadline or not at all, and closing does not wait. A Connect this
    /// host refuses ([`authreq_refusal`]) ends the queue the same way, without one.
    async fn fatal(
        &mut self,
        e: InitiatorError,
        term: Option<TermReq>,
        wait: &mut Wait,
    ) -> InitiatorError {
        if self.broken.is_some() {
            // The connection already failed (and `fail_all` ran).
            return e;
        }
        let kind = match e {
            InitiatorError::Terminated(_) => io::ErrorKind::ConnectionAborted,
            InitiatorError::Auth(_) => io::ErrorKind::PermissionDenied,
            _ => io::ErrorKind::InvalidData,
        };
        self.break_queue(kind);
        let mut b = Vec::new();
        if let Some(t) = term
            && encode_term_req(PduType::H2CTermReq, &t, &mut b).is_ok()
        {
            // Best effort: the queue is over whether the controller takes it or not.
            let _ = timed(wait, self.stream.write_all(&b)).await;
        }
        // shutdown(2) of the write side: it finishes at its first poll.
        let _ = timed(wait, self.stream.shutdown()).await;
        e
    }

    /// A PDU the controller must not send now: fatal (see [`fatal`](Self::fatal)),
    /// reported with `f` and the PDU's header (re-encoded: the host's decoder keeps no
    /// copy of what it received). Fails with [`InitiatorError::Protocol`].
    async fn violation(&mut self, f: FatalError, pdu: &Pdu, wait: &mut Wait) -> InitiatorError {
        let mut b = Vec::new();
        if pdu.encode(&self.framing, &mut b).is_err() {
            b.clear();
        }
        // HLEN, the common header's third byte.
        let hlen = b.get(2).map_or(0, |&h| usize::from(h)).min(b.len());
        let reason = f.reason;
        let term = f.with_header(&b[..hlen]).to_term_req();
        self.fatal(InitiatorError::Protocol(reason), Some(term), wait).await
    }

    /// A new wait of [`HostOptions::timeout`].
    fn new_wait(&self) -> Wait {
        Wait::new(self.opts.timeout, self.opts.timeout)
    }

    /// Fails if an earlier send or receive failed (see [`fail_all`](Self::fail_all)).
    fn usable(&self) -> Result<(), InitiatorError> {
        self.broken.map_or(Ok(()), |k| Err(InitiatorError::Broken(k)))
    }

    /// The negotiated framing (to craft PDUs by hand).
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// MAXH2CDATA from ICResp.
    pub fn maxh2cdata(&self) -> u32 {
        self.maxh2cdata
    }

    /// Receives the next PDU (C2HTermReq becomes [`InitiatorError::Terminated`]), within
    /// [`HostOptions::timeout`].
    pub async fn recv_pdu(&mut self) -> Result<Pdu, InitiatorError> {
        self.recv_within(&mut self.new_wait()).await
    }

    /// [`recv_pdu`](Self::recv_pdu) as part of `wait`: a wait over several receives
    /// passes the same one, so a controller that drips bytes cannot stretch it, nor one
    /// whose bytes are there whenever the host reads ([`Wait::read_by`]). A PDU already
    /// buffered reads no clock.
    async fn recv_within(&mut self, wait: &mut Wait) -> Result<Pdu, InitiatorError> {
        self.usable()?;
        loop {
            match self.dec.decode()? {
                Some(Pdu::C2HTermReq(t)) => return Err(InitiatorError::Terminated(t)),
                Some(p) => return Ok(p),
                None => {}
            }
            // Commands left for batching go out before we wait for answers.
            self.flush(wait).await?;
            let until = wait.read_by()?;
            // Received straight into the decoder's buffer (no staging copy).
            let buf = self.dec.receive_buf(RECV_ROOM);
            let n = match tokio::time::timeout_at(until, self.stream.read_buf(buf)).await {
                Err(_) => return Err(InitiatorError::Timeout),
                Ok(Err(e)) => return Err(self.fail_all(e)),
                Ok(Ok(n)) => n,
            };
            if n == 0 {
                self.fail_all(io::ErrorKind::UnexpectedEof.into());
                return Err(InitiatorError::Closed);
            }
        }
    }

    /// Waits until the controller closes the connection (returns the termination
    /// request if one came first).
    pub async fn wait_closed(&mut self) -> Result<Option<TermReq>, InitiatorError> {
        let mut wait = self.new_wait();
        loop {
            match self.recv_within(&mut wait).await {
                Ok(_) => {}
                Err(InitiatorError::Terminated(t)) => {
                    // Expect EOF after it.
                    let mut b = [0u8; 64];
                    let n = tokio::time::timeout_at(wait.deadline(), self.stream.read(&mut b))
                        .await
                        .map_err(|_| InitiatorError::Timeout)?
                        .unwrap_or(0);
                    if n != 0 {
                        return Err(InitiatorError::Protocol("data after C2HTermReq"));
                    }
                    return Ok(Some(t));
                }
                Err(InitiatorError::Closed) => return Ok(None),
                Err(InitiatorError::Io(e)) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Next completion of an Asynchronous Event Request ([`send_only`](Self::send_only)),
    /// waiting up to `timeout`. Completions of commands started with
    /// [`start`](Self::start) that come meanwhile are kept for
    /// [`next_completion`](Self::next_completion) / [`wait`](Self::wait); anything else
    /// is handled as those handle it.
    pub async fn next_event(&mut self, timeout: Duration) -> Result<Cqe, InitiatorError> {
        if let Some(c) = self.events.pop_front() {
            return Ok(c);
        }
        let mut wait = Wait::new(timeout, self.opts.timeout);
        loop {
            match self.receive_one(&mut wait).await? {
                Received::Event(c) => return Ok(c),
                // Bounded: each completes a command in flight.
                Received::Completed(cid, c) => self.done.push_back((cid, c)),
                Received::Progress => {}
            }
        }
    }

    /// Commands that may be in flight at once on this queue: the SQ size negotiated at
    /// Connect (SQSIZE is 0's based, so SQSIZE + 1 commands, as the target's MAXCMD
    /// and a Linux host's tag set count them), 1 before Connect.
    pub fn queue_depth(&self) -> usize {
        self.depth
    }

    /// Commands started and not yet completed (Asynchronous Event Requests not counted,
    /// though they count against [`queue_depth`](Self::queue_depth)).
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Sends a command without waiting (for AERs). The SGL is set for no data. Its CID
    /// stays reserved until its completion arrives (see [`next_event`](Self::next_event)),
    /// and it counts against [`queue_depth`](Self::queue_depth) until then.
    pub async fn send_only(&mut self, mut sqe: Sqe) -> Result<u16, InitiatorError> {
        self.usable()?;
        // A target counts an outstanding AER in the queue's commands: one more than
        // SQSIZE + 1 in all and it ends the queue.
        if self.pending.len() + self.aers >= self.depth {
            return Err(InitiatorError::QueueFull(self.pending.len() + self.aers));
        }
        sqe.cid = self.pending.reserve().ok_or(InitiatorError::Protocol("no CID left"))?;
        let mut b = Vec::new();
        if encode_capsule_cmd(&sqe, &[], &self.framing, &mut b).is_err() {
            self.pending.release(sqe.cid);
            return Err(InitiatorError::Protocol("encode"));
        }
        self.aers += 1;
        let mut wait = self.new_wait();
        self.flush(&mut wait).await?;
        if let Err(e) = timed(&mut wait, self.stream.write_all(&b)).await {
            return Err(self.fail_all(e));
        }
        Ok(sqe.cid)
    }

    /// Sends `sqe` (its CID and SGL are filled in) with `data_out` to send or
    /// `data_in` bytes to receive, without waiting; returns the CID. Fails with
    /// [`InitiatorError::QueueFull`] when [`queue_depth`](Self::queue_depth) commands
    /// are in flight. The command is written at once, unless received completions
    /// wait to be reaped: then it is batched with the caller's next commands and
    /// written at the latest before this queue next reads from or writes to the socket.
    pub async fn start(
        &mut self,
        sqe: Sqe,
        data_out: Option<&[u8]>,
        data_in: usize,
    ) -> Result<u16, InitiatorError> {
        self.start_with(sqe, data_out.map(DataOut::Slice), data_in).await
    }

    /// [`start`](Self::start) with the data to send shared rather than borrowed: data
    /// sent on R2T (beyond the in-capsule limit) is written from `data_out` itself
    /// instead of a copy made at the start.
    pub async fn start_shared(
        &mut self,
        sqe: Sqe,
        data_out: Bytes,
        data_in: usize,
    ) -> Result<u16, InitiatorError> {
        self.start_with(sqe, Some(DataOut::Shared(data_out)), data_in).await
    }

    async fn start_with(
        &mut self,
        mut sqe: Sqe,
        data_out: Option<DataOut<'_>>,
        data_in: usize,
    ) -> Result<u16, InitiatorError> {
        self.usable()?;
        let in_flight = self.pending.len() + self.aers;
        if in_flight >= self.depth {
            return Err(InitiatorError::QueueFull(in_flight));
        }
        let Some(cid) = self.pending.reserve() else {
            return Err(InitiatorError::QueueFull(in_flight));
        };
        sqe.cid = cid;
        // An I/O queue's Read transfers what its NLB says; opcode 02h on the admin queue
        // is Get Log Page.
        let exact = self.qid != 0 && sqe.opcode == io_opcode::READ;
        let Ok(out) = self.encode_command(&mut sqe, data_out, data_in) else {
            self.pending.release(cid);
            return Err(InitiatorError::Protocol("encode"));
        };
        let kept = self.pending.insert(cid, Pending::new(out, data_in, exact));
        debug_assert!(kept, "CID {cid} was reserved above");
        if self.reads.started(data_in) {
            self.dec.set_limits(self.reads.limit(), 0);
        }
        // While completions already received wait to be reaped, the caller is going
        // through a burst of them: its new commands leave in one write with the next
        // socket operation of this queue, not one write each. A failed write fails
        // every command in flight (see `fail_all`), this one included.
        if self.dec.buffered() == 0 || self.tx.len() + self.tx_data_len >= TX_BATCH {
            self.flush(&mut self.new_wait()).await?;
        }
        Ok(cid)
    }

    /// Encodes `sqe` (its CID set) with its data or SGL into the batch; returns the data
    /// to keep for R2T.
    fn encode_command(
        &mut self,
        sqe: &mut Sqe,
        data_out: Option<DataOut<'_>>,
        data_in: usize,
    ) -> Result<Option<Bytes>, dpu_nvmf_proto::EncodeError> {
        let b = &mut self.tx;
        match data_out {
            Some(DataOut::Shared(d)) if !d.is_empty() && d.len() <= self.in_capsule_max => {
                // Written from the caller's buffer by the vectored write, not copied.
                sqe.set_sgl(SglDescriptor::in_capsule(d.len() as u32));
                encode_capsule_cmd_prefix(sqe, d.len(), &self.framing, b)?;
                self.queue_shared_data(d);
                Ok(None)
            }
            Some(d) if d.as_slice().len() <= self.in_capsule_max => {
                let d = d.as_slice();
                sqe.set_sgl(SglDescriptor::in_capsule(d.len() as u32));
                encode_capsule_cmd(sqe, d, &self.framing, b)?;
                Ok(None)
            }
            Some(d) => {
                let d = d.into_bytes();
                sqe.set_sgl(SglDescriptor::transport(d.len() as u32));
                encode_capsule_cmd(sqe, &[], &self.framing, b)?;
                Ok(Some(d))
            }
            None => {
                sqe.set_sgl(SglDescriptor::transport(data_in as u32));
                encode_capsule_cmd(sqe, &[], &self.framing, b)?;
                Ok(None)
            }
        }
    }

    /// Queues `data` to follow the bytes encoded into `tx` so far (written from where it
    /// is by [`flush`](Self::flush)), then its data digest if negotiated.
    fn queue_shared_data(&mut self, data: Bytes) {
        let at = self.tx.len();
        encode_data_pdu_suffix(&data, &self.framing, &mut self.tx);
        self.tx_data_len += data.len();
        self.tx_data.push((at, data));
    }

    /// Takes command `cid` out of those in flight, lowering the C2HData limit if it was
    /// the last of the largest reads.
    fn finish(&mut self, cid: u16) -> Option<Pending> {
        let p = self.pending.remove(cid)?;
        if self.reads.ended(p.want) {
            self.reads.recount(self.pending.values().map(|p| p.want));
            self.dec.set_limits(self.reads.limit(), 0);
        }
        Some(p)
    }

    /// Sends the commands [`start`](Self::start) left for batching (and H2CData queued
    /// for R2Ts) as part of `wait`; if that fails, every command in flight fails with it.
    async fn flush(&mut self, wait: &mut Wait) -> Result<(), InitiatorError> {
        if self.tx.is_empty() {
            return Ok(());
        }
        let r = if self.tx_data.is_empty() {
            timed(wait, self.stream.write_all(&self.tx)).await
        } else {
            // The encoded bytes with the shared data in between, in one vectored write;
            // `tx` keeps its allocation for the next batch.
            let tx = std::sync::Arc::new(std::mem::take(&mut self.tx));
            let mut segs = Vec::with_capacity(2 * self.tx_data.len() + 1);
            let mut at = 0;
            for (pos, data) in self.tx_data.drain(..) {
                segs.push(Segment::Shared(tx.clone(), at..pos));
                segs.push(Segment::Bytes(data));
                at = pos;
            }
            segs.push(Segment::Shared(tx.clone(), at..tx.len()));
            self.tx_data_len = 0;
            let r = timed(wait, write_segments(&mut self.stream, &segs)).await;
            drop(segs);
            self.tx = std::sync::Arc::try_unwrap(tx).unwrap_or_default();
            r
        };
        self.tx.clear();
        if let Err(e) = r {
            return Err(self.fail_all(e));
        }
        Ok(())
    }

    /// Waits for the next command started with [`start`](Self::start) to complete
    /// (in completion order), answering R2Ts of any command in flight meanwhile, for at
    /// most [`HostOptions::timeout`].
    pub async fn next_completion(&mut self) -> Result<(u16, Completion), InitiatorError> {
        if let Some(c) = self.done.pop_front() {
            return Ok(c);
        }
        self.usable()?;
        if self.pending.is_empty() {
            return Err(InitiatorError::Protocol("no command in flight"));
        }
        self.poll_one(&mut self.new_wait()).await
    }

    /// Waits for command `cid` to complete (other completions are kept for
    /// [`next_completion`](Self::next_completion)), for at most [`HostOptions::timeout`].
    pub async fn wait(&mut self, cid: u16) -> Result<Completion, InitiatorError> {
        if let Some(i) = self.done.iter().position(|(c, _)| *c == cid)
            && let Some((_, c)) = self.done.remove(i)
        {
            return Ok(c);
        }
        self.usable()?;
        if self.pending.get(cid).is_none() {
            return Err(InitiatorError::Protocol("waiting for a command not in flight"));
        }
        // One deadline for the whole wait, however many completions come first.
        let mut wait = self.new_wait();
        // Each round completes one pending command; bounded by their number.
        for _ in 0..=self.pending.len() {
            let (c, comp) = self.poll_one(&mut wait).await?;
            if c == cid {
                return Ok(comp);
            }
            self.done.push_back((c, comp));
        }
        Err(InitiatorError::Protocol("command did not complete"))
    }

    /// Handles PDUs until one pending command completes, as part of `wait` (see
    /// [`recv_within`](Self::recv_within)).
    async fn poll_one(&mut self, wait: &mut Wait) -> Result<(u16, Completion), InitiatorError> {
        loop {
            match self.receive_one(wait).await? {
                Received::Completed(cid, c) => return Ok((cid, c)),
                // Bounded: each completes an AER in flight.
                Received::Event(c) => self.events.push_back(c),
                Received::Progress => {}
            }
        }
    }

    /// Receives and handles one PDU as part of `wait` (see
    /// [`recv_within`](Self::recv_within)). Whatever the controller sends against the
    /// protocol ends the queue (see [`fatal`](Self::fatal)); a timeout in a receive does
    /// not, the commands stay in flight (one in a send does: the stream stopped within a
    /// PDU).
    async fn receive_one(&mut self, wait: &mut Wait) -> Result<Received, InitiatorError> {
        match self.recv_within(wait).await {
            Ok(pdu) => self.handle(pdu, true, wait).await,
            // Not fatal (NVMe/TCP 1.0 §3.3.2.2): the PDU is well framed, only its
            // command fails.
            Err(InitiatorError::Decode(DecodeError::DataDigest { pdu, .. })) => {
                self.handle(*pdu, false, wait).await
            }
            Err(e @ (InitiatorError::Timeout | InitiatorError::Broken(_))) => Err(e),
            Err(InitiatorError::Decode(e)) => {
                // The decoder's own termination request, with the offending header; none
                // for a malformed C2HTermReq (§3.6.2.4: close without reply).
                let term = e.term_req();
                Err(self.fatal(InitiatorError::Decode(e), term, wait).await)
            }
            // The controller terminated or closed the connection, or it failed.
            Err(e) => Err(self.fatal(e, None, wait).await),
        }
    }

    /// Handles `pdu`, whose data failed its data digest unless `intact`, as part of
    /// `wait` (the sends answering an R2T go by its deadline).
    async fn handle(
        &mut self,
        pdu: Pdu,
        intact: bool,
        wait: &mut Wait,
    ) -> Result<Received, InitiatorError> {
        let seq = |reason| FatalError::new(Fes::PduSequenceError, 0, reason);
        let range = |reason| FatalError::new(Fes::DataTransferOutOfRange, 0, reason);
        match pdu {
            Pdu::CapsuleResp(c) if intact => match self.finish(c.cid) {
                Some(p) => Ok(Received::Completed(c.cid, p.complete(c, false))),
                // An AER's CID is free again once it completed.
                None if self.pending.release(c.cid) => {
                    self.aers = self.aers.saturating_sub(1);
                    Ok(Received::Event(c))
                }
                // Kept, they would pile up while the wait went on.
                None => {
                    let f = seq("completion of a command not in flight");
                    Err(self.violation(f, &Pdu::CapsuleResp(c), wait).await)
                }
            },
            Pdu::C2HData(d) => {
                let cid = d.header.cccid;
                let Some(p) = self.pending.get_mut(cid) else {
                    let f = seq("C2HData for a command not in flight");
                    return Err(self.violation(f, &Pdu::C2HData(d), wait).await);
                };
                // In order, without gaps or overlaps, as SPDK's host checks: data counted
                // rather than placed at DATAO would let a PDU sent twice stand for one
                // never sent.
                if d.header.datao as usize != p.got {
                    let f = range("C2HData not at the offset the read's data reached");
                    return Err(self.violation(f, &Pdu::C2HData(d), wait).await);
                }
                // No more than the command reads in all: a controller that sends the
                // same data again and again never completes it.
                if d.data.len() > p.want - p.got {
                    let f = range("C2HData beyond the buffer");
                    return Err(self.violation(f, &Pdu::C2HData(d), wait).await);
                }
                let success = d.header.success;
                // SUCCESS only on the last PDU of the command's data (§3.6.2.8): all of it
                // for a command that fixes its length; another may read less than its
                // buffer (our target's Authentication Receive with SQ flow control off).
                if success && p.exact && p.got + d.data.len() != p.want {
                    let f = FatalError::invalid_field(1, "SUCCESS before all data");
                    return Err(self.violation(f, &Pdu::C2HData(d), wait).await);
                }
                if intact && !p.failed {
                    p.place(d.data);
                } else {
                    // Its data is not the controller's: the command fails, whatever its
                    // completion says (`Pending::complete`).
                    p.failed = true;
                    p.got += d.data.len();
                }
                if !success {
                    return Ok(Received::Progress);
                }
                let mut cqe = Cqe::new(cid, Status::SUCCESS);
                cqe.sqid = self.qid;
                match self.finish(cid) {
                    Some(p) => Ok(Received::Completed(cid, p.complete(cqe, true))),
                    None => Err(InitiatorError::Protocol("command vanished")),
                }
            }
            Pdu::R2t(r) if intact => {
                let cid = r.cccid;
                let Some(p) = self.pending.get_mut(cid) else {
                    let f = seq("R2T for a command not in flight");
                    return Err(self.violation(f, &Pdu::R2t(r), wait).await);
                };
                let Some(d) = p.out.clone() else {
                    let f = seq("R2T for a command without data");
                    return Err(self.violation(f, &Pdu::R2t(r), wait).await);
                };
                // In order, without gaps or overlaps, as Linux's host checks
                // (`nvme_tcp_handle_r2t`: "unexpected r2t offset"): an R2T asking again
                // for data already sent would have it sent twice, or for good if
                // repeated, and the write would end only by timeout. FES 04h, FEI 0, as
                // for C2HData out of place (NVMe/TCP 1.0 §3.6.2.9, R2TO and R2TL).
                let start = r.r2to as usize;
                if start != p.asked {
                    let f = range("R2T not at the offset the write's data reached");
                    return Err(self.violation(f, &Pdu::R2t(r), wait).await);
                }
                let Some(end) = start.checked_add(r.r2tl as usize).filter(|&e| e <= d.len()) else {
                    let f = range("R2T beyond the write's data");
                    return Err(self.violation(f, &Pdu::R2t(r), wait).await);
                };
                p.asked = end;
                // Headers (and digests, padding) join the batch; the data is written
                // from the command's buffer by the batch's vectored write, not copied.
                let mut pos = start;
                let chunk = (self.maxh2cdata as usize).max(1);
                while pos < end {
                    let n = (end - pos).min(chunk);
                    let h = DataPduHeader {
                        cccid: cid,
                        ttag: r.ttag,
                        datao: pos as u32,
                        last: pos + n == end,
                        success: false,
                    };
                    let head = encode_data_pdu_prefix(
                        PduType::H2CData,
                        &h,
                        n,
                        &self.framing,
                        &mut self.tx,
                    );
                    if head.is_err() {
                        // The PDUs of this R2T queued so far must not leave alone.
                        return Err(self.fail_all(io::Error::other("cannot encode H2CData")));
                    }
                    self.queue_shared_data(d.slice(pos..pos + n));
                    pos += n;
                }
                self.flush(wait).await?;
                Ok(Received::Progress)
            }
            other => Err(self.violation(seq("unexpected PDU"), &other, wait).await),
        }
    }

    /// Submits `sqe` (its CID and SGL are filled in) with `data_out` to send or
    /// `data_in` bytes to receive, and waits for the completion.
    pub async fn submit(
        &mut self,
        sqe: Sqe,
        data_out: Option<&[u8]>,
        data_in: usize,
    ) -> Result<Completion, InitiatorError> {
        let cid = self.start(sqe, data_out, data_in).await?;
        self.wait(cid).await
    }

    /// Like [`submit`](Self::submit) but fails on a non-success status.
    pub async fn submit_ok(
        &mut self,
        sqe: Sqe,
        data_out: Option<&[u8]>,
        data_in: usize,
    ) -> Result<Completion, InitiatorError> {
        let c = self.submit(sqe, data_out, data_in).await?;
        if !c.cqe.status.is_success() {
            return Err(InitiatorError::Status(c.cqe.status));
        }
        Ok(c)
    }

    /// Fabrics Connect. `cntlid` is [`CNTLID_DYNAMIC`] for the admin queue. A successful
    /// Connect whose response asks for authentication (AUTHREQ ATR) runs it
    /// ([`authenticate`](Self::authenticate)); one this host cannot go along with (see
    /// [`authreq_refusal`]) fails with [`InitiatorError::Auth`] and ends the queue.
    pub async fn connect(
        &mut self,
        subnqn: &str,
        qid: u16,
        sqsize: u16,
        cntlid: u16,
    ) -> Result<Completion, InitiatorError> {
        let cattr = if qid > 0 && self.opts.disable_sqflow { 0b100 } else { 0 };
        let kato = if qid == 0 { self.opts.kato_ms } else { 0 };
        let cmd = ConnectCmd { recfmt: 0, qid, sqsize, cattr, kato };
        let data = ConnectData {
            hostid: self.opts.hostid,
            cntlid,
            subnqn: subnqn.into(),
            hostnqn: self.opts.hostnqn.clone(),
        }
        .to_bytes();
        let c = self.submit(cmd.to_sqe(0), Some(&data), 0).await?;
        if c.cqe.status.is_success() {
            self.qid = qid;
            self.depth = usize::from(sqsize) + 1;
            if let Some(why) = authreq_refusal(c.cqe.dw0, &self.opts) {
                // The Connect made a controller or queue for us: closing ends it.
                let mut wait = self.new_wait();
                return Err(self.fatal(InitiatorError::Auth(why.into()), None, &mut wait).await);
            }
            if c.cqe.dw0 & CONNECT_AUTHREQ_ATR != 0 {
                self.authenticate(subnqn).await?;
            }
        }
        Ok(c)
    }

    /// Authentication Send of one message; the command's status.
    pub async fn auth_send(&mut self, msg: &[u8]) -> Result<Status, InitiatorError> {
        let sqe = AuthTransfer::dhchap(msg.len() as u32).to_send_sqe(0);
        Ok(self.submit(sqe, Some(msg), 0).await?.cqe.status)
    }

    /// Authentication Receive of up to `al` bytes: the controller's next message.
    pub async fn auth_receive(&mut self, al: u32) -> Result<AuthMessage, InitiatorError> {
        let sqe = AuthTransfer::dhchap(al).to_receive_sqe(0);
        let c = self.submit_ok(sqe, None, al as usize).await?;
        AuthMessage::parse(&c.data)
            .map_err(|e| InitiatorError::Auth(format!("undecodable controller message: {e}")))
    }

    /// One DH-HMAC-CHAP transaction as Linux's host runs it: Negotiate (offering the NULL
    /// group and ffdhe2048-8192), Challenge, Reply (with our DH value when the controller
    /// chose a group), Success1 and, with a controller secret, Success2 after checking the
    /// controller's response. A transaction that fails ends the queue (the Connect has
    /// failed), after an `AUTH_Failure2` when this host is the one that refuses: a
    /// Challenge it cannot answer, a Success1 of another hash length, a wrong controller
    /// response ([`AuthAbort`]). Without a secret nothing is sent and the queue stays.
    pub async fn authenticate(&mut self, subnqn: &str) -> Result<(), InitiatorError> {
        let Some(secret) = self.opts.dhchap_secret.clone() else {
            return Err(InitiatorError::Auth("the controller requires authentication".into()));
        };
        let tid = self.qid;
        match self.dhchap(subnqn, &secret, tid).await {
            Ok(()) => Ok(()),
            Err(abort) => Err(self.abort_auth(tid, abort).await),
        }
    }

    /// The messages of [`authenticate`](Self::authenticate)'s transaction `tid`.
    async fn dhchap(&mut self, subnqn: &str, secret: &Secret, tid: u16) -> Result<(), AuthAbort> {
        let negotiate = AuthMessage::Negotiate(Negotiate {
            tid,
            sc_c: 0,
            hashes: vec![hash::SHA256, hash::SHA384, hash::SHA512],
            dh_groups: vec![
                dh_group::NULL,
                dh_group::FFDHE2048,
                dh_group::FFDHE3072,
                dh_group::FFDHE4096,
                dh_group::FFDHE6144,
                dh_group::FFDHE8192,
            ],
        });
        self.auth_ok(&negotiate).await?;
        let c = match self.auth_receive(4096).await? {
            AuthMessage::Challenge(c) if c.tid == tid => c,
            other => return Err(auth_refused("a challenge", &other).into()),
        };
        check_challenge(&c)?;
        // With a DH group: our key pair, the session key, and challenges augmented with it
        // (computed on a blocking thread: milliseconds of exponentiation).
        let (dh_value, session_key) = match DhGroup::get(c.dh_group) {
            // The NULL group: `check_challenge` refused unknown ones.
            None => (Vec::new(), None),
            Some(group) => {
                let theirs = c.dh_value.clone();
                let agreed = tokio::task::spawn_blocking(move || {
                    let key = group.generate().ok_or_else(|| {
                        AuthAbort::refuse(failure::FAILED, "no random numbers for our DH key")
                    })?;
                    // One outside 2..p-2 or of another length (RFC 7919 §5.1) is refused.
                    let ks = key.session_key(&theirs).ok_or_else(|| {
                        AuthAbort::refuse(
                            failure::INCORRECT_PAYLOAD,
                            "the controller's DH value is not usable",
                        )
                    })?;
                    Ok::<_, AuthAbort>((key.public.clone(), ks))
                })
                .await
                .map_err(|e| {
                    AuthAbort::refuse(failure::FAILED, format!("DH computation failed: {e}"))
                })??;
                (agreed.0, Some(agreed.1))
            }
        };
        // The hash is known (`check_challenge`): these cannot fail.
        let unknown_hash =
            || AuthAbort::refuse(failure::HASH_UNUSABLE, format!("unknown hash {}", c.hash));
        let augment = |challenge: &[u8]| match &session_key {
            Some(ks) => dhchap::augmented_challenge(c.hash, ks, challenge),
            None => Some(challenge.to_vec()),
        };
        let c1 = augment(&c.challenge).ok_or_else(unknown_hash)?;
        let hostnqn = self.opts.hostnqn.clone();
        let x = Exchange { hash: c.hash, challenge: &c1, seqnum: c.seqnum, tid, sc_c: 0 };
        let response =
            dhchap::host_response(&x, secret, &hostnqn, subnqn).ok_or_else(unknown_hash)?;
        let hl = response.len();
        let ctrl = self.opts.dhchap_ctrl_secret.clone();
        // A predictable C2 or S2 would let a replayed Success1 pass: no randomness, no
        // controller authentication.
        let (c2, s2) = match ctrl {
            Some(_) => dhchap::random_bytes(hl).zip(dhchap::random_seqnum()).ok_or_else(|| {
                AuthAbort::refuse(
                    failure::FAILED,
                    "no random numbers for the controller's challenge",
                )
            })?,
            None => (vec![0; hl], 0),
        };
        let reply = AuthMessage::Reply(Reply {
            tid,
            response,
            challenge_valid: ctrl.is_some(),
            seqnum: s2,
            challenge: c2.clone(),
            dh_value,
        });
        self.auth_ok(&reply).await?;
        let s1 = match self.auth_receive(4096).await? {
            AuthMessage::Success1(s) if s.tid == tid => s,
            other => return Err(auth_refused("Success1", &other).into()),
        };
        // As Linux's host (`nvme_auth_process_dhchap_success1`): HL is the transaction's.
        if usize::from(s1.hash_len) != hl {
            let why = format!("Success1 with HL {} for a {hl}-byte hash", s1.hash_len);
            return Err(AuthAbort::refuse(failure::HASH_UNUSABLE, why));
        }
        let Some(ctrl) = ctrl else { return Ok(()) };
        let c2 = augment(&c2).ok_or_else(unknown_hash)?;
        let x = Exchange { hash: c.hash, challenge: &c2, seqnum: s2, tid, sc_c: 0 };
        let expected = dhchap::controller_response(&x, &ctrl, subnqn, &hostnqn);
        let proved = match (&expected, &s1.response) {
            (Some(e), Some(r)) => dhchap::responses_match(e, r),
            _ => false,
        };
        if !proved {
            return Err(AuthAbort::refuse(failure::FAILED, "the controller's response is wrong"));
        }
        Ok(self.auth_ok(&AuthMessage::Success2 { tid }).await?)
    }

    /// Ends failed transaction `tid` as Linux's host does (`nvme_queue_auth_work`): its
    /// `AUTH_Failure2` first if it has one, then the queue, so the controller does not
    /// wait for a message that never comes. Returns the abort's error.
    async fn abort_auth(&mut self, tid: u16, abort: AuthAbort) -> InitiatorError {
        if let Some(explanation) = abort.failure2 {
            let f = Failure { tid, reason: failure::REASON_FAILED, explanation };
            // Best effort: the queue ends whether the controller takes it or not.
            let _ = self.auth_send(&AuthMessage::Failure2(f).to_bytes()).await;
        }
        let mut wait = self.new_wait();
        self.fatal(abort.error, None, &mut wait).await
    }

    async fn auth_ok(&mut self, msg: &AuthMessage) -> Result<(), InitiatorError> {
        let st = self.auth_send(&msg.to_bytes()).await?;
        if st.is_success() { Ok(()) } else { Err(InitiatorError::Status(st)) }
    }

    /// Property Get.
    pub async fn property_get(&mut self, offset: u32, eight: bool) -> Result<u64, InitiatorError> {
        let sqe = PropertyGetCmd { eight_bytes: eight, offset }.to_sqe(0);
        Ok(self.submit_ok(sqe, None, 0).await?.cqe.result64())
    }

    /// Property Set (4 bytes).
    pub async fn property_set(&mut self, offset: u32, value: u32) -> Result<(), InitiatorError> {
        let sqe = PropertySetCmd { eight_bytes: false, offset, value: u64::from(value) }.to_sqe(0);
        self.submit_ok(sqe, None, 0).await.map(|_| ())
    }

    /// Identify (4096 bytes).
    pub async fn identify(&mut self, cns: u8, nsid: u32) -> Result<Vec<u8>, InitiatorError> {
        let mut sqe = Sqe::new(admin_opcode::IDENTIFY, 0);
        sqe.nsid = nsid;
        sqe.cdw[0] = u32::from(cns);
        Ok(self.submit_ok(sqe, None, 4096).await?.data.into())
    }

    /// Get Log Page of `len` bytes (multiple of 4) at `offset`.
    pub async fn get_log_page(
        &mut self,
        lid: u8,
        len: usize,
        offset: u64,
    ) -> Result<Vec<u8>, InitiatorError> {
        let numd = (len / 4).saturating_sub(1) as u32;
        let mut sqe = Sqe::new(admin_opcode::GET_LOG_PAGE, 0);
        sqe.nsid = 0xFFFF_FFFF;
        sqe.cdw[0] = u32::from(lid) | (numd << 16);
        sqe.cdw[1] = numd >> 16;
        sqe.cdw[2] = offset as u32;
        sqe.cdw[3] = (offset >> 32) as u32;
        Ok(self.submit_ok(sqe, None, len).await?.data.into())
    }

    /// Set Features; returns DW0.
    pub async fn set_features(&mut self, fid: u8, cdw11: u32) -> Result<u32, InitiatorError> {
        let mut sqe = Sqe::new(admin_opcode::SET_FEATURES, 0);
        sqe.cdw[0] = u32::from(fid);
        sqe.cdw[1] = cdw11;
        Ok(self.submit_ok(sqe, None, 0).await?.cqe.dw0)
    }

    /// Keep Alive.
    pub async fn keep_alive(&mut self) -> Result<(), InitiatorError> {
        self.submit_ok(Sqe::new(admin_opcode::KEEP_ALIVE, 0), None, 0).await.map(|_| ())
    }

    /// A reservation command (`opcode`: Register, Acquire or Release) on `nsid` with
    /// `cdw10` and its keys (CRKEY, then NRKEY or PRKEY) as in-capsule data.
    pub async fn reservation(
        &mut self,
        opcode: u8,
        nsid: u32,
        cdw10: u32,
        keys: &[u64],
    ) -> Result<Completion, InitiatorError> {
        let mut sqe = Sqe::new(opcode, 0);
        (sqe.nsid, sqe.cdw[0]) = (nsid, cdw10);
        let data: Vec<u8> = keys.iter().flat_map(|k| k.to_le_bytes()).collect();
        self.submit(sqe, Some(&data), 0).await
    }

    /// Read `blocks` blocks of `block_size` at `slba`.
    pub async fn read(
        &mut self,
        nsid: u32,
        slba: u64,
        blocks: u32,
        block_size: u32,
    ) -> Result<Completion, InitiatorError> {
        let len = (blocks as usize) * (block_size as usize);
        let sqe = rw_sqe(io_opcode::READ, nsid, slba, len, block_size);
        self.submit(sqe, None, len).await
    }

    /// Starts a Read of `blocks` blocks of `block_size` at `slba` (see [`start`](Self::start)).
    pub async fn start_read(
        &mut self,
        nsid: u32,
        slba: u64,
        blocks: u32,
        block_size: u32,
    ) -> Result<u16, InitiatorError> {
        let len = (blocks as usize) * (block_size as usize);
        let sqe = rw_sqe(io_opcode::READ, nsid, slba, len, block_size);
        self.start(sqe, None, len).await
    }

    /// Starts a Write of `data` (whole blocks of `block_size`) at `slba` (see [`start`](Self::start)).
    pub async fn start_write(
        &mut self,
        nsid: u32,
        slba: u64,
        data: &[u8],
        block_size: u32,
    ) -> Result<u16, InitiatorError> {
        let sqe = rw_sqe(io_opcode::WRITE, nsid, slba, data.len(), block_size);
        self.start(sqe, Some(data), 0).await
    }

    /// [`start_write`](Self::start_write) with shared data (see [`start_shared`](Self::start_shared)).
    pub async fn start_write_shared(
        &mut self,
        nsid: u32,
        slba: u64,
        data: Bytes,
        block_size: u32,
    ) -> Result<u16, InitiatorError> {
        let sqe = rw_sqe(io_opcode::WRITE, nsid, slba, data.len(), block_size);
        self.start_shared(sqe, data, 0).await
    }

    /// Write `data` (a whole number of blocks of `block_size`) at `slba`.
    pub async fn write(
        &mut self,
        nsid: u32,
        slba: u64,
        data: &[u8],
        block_size: u32,
    ) -> Result<Completion, InitiatorError> {
        let sqe = rw_sqe(io_opcode::WRITE, nsid, slba, data.len(), block_size);
        self.submit(sqe, Some(data), 0).await
    }
}

/// `write` (a send on the stream) as part of `wait`, failed with
/// [`io::ErrorKind::TimedOut`] if it does not finish by [`Wait::send_by`]: a controller
/// that stops taking data, or takes it slowly, must not hold the host.
async fn timed(
    wait: &mut Wait,
    write: impl std::future::Future<Output = io::Result<()>>,
) -> io::Result<()> {
    crate::server::send_within(write, || wait.send_by())
        .await
        .unwrap_or_else(|| Err(io::ErrorKind::TimedOut.into()))
}

/// `timeout` after `now` (far in the future for a timeout beyond what an instant holds).
fn deadline_after(now: Instant, timeout: Duration) -> Instant {
    now.checked_add(timeout).unwrap_or_else(|| now + Duration::from_secs(30 * 365 * 86_400))
}

/// The clock of one wait for the controller (a receive, or a send alone): it ends
/// `timeout` after it first had to wait, a socket read or a send that did not finish at
/// once, however many PDUs and sends it takes. Until then it reads no clock, so a
/// completion already buffered or a send the socket takes at once costs none.
#[derive(Debug)]
struct Wait {
    /// How long the wait may take from its start ([`HostOptions::timeout`], or what the
    /// caller of [`HostQueue::next_event`] gives).
    timeout: Duration,
    /// How long one send may take from its start ([`HostOptions::timeout`]).
    send_timeout: Duration,
    /// Set when it first has to wait.
    deadline: Option<Instant>,
}

impl Wait {
    fn new(timeout: Duration, send_timeout: Duration) -> Self {
        Self { timeout, send_timeout, deadline: None }
    }

    /// The wait's deadline, starting its clock now if it has not started.
    fn deadline(&mut self) -> Instant {
        let timeout = self.timeout;
        *self.deadline.get_or_insert_with(|| deadline_after(Instant::now(), timeout))
    }

    /// The deadline of a socket read in this wait, starting its clock if it has not
    /// started; [`InitiatorError::Timeout`] if it passed. A read that finds bytes there
    /// returns without looking at its timer, so without this a controller whose bytes
    /// are always there would keep the wait going; the wait's first read reads the
    /// clock only to start it, each later one once.
    fn read_by(&mut self) -> Result<Instant, InitiatorError> {
        match self.deadline {
            Some(d) if Instant::now() >= d => Err(InitiatorError::Timeout),
            Some(d) => Ok(d),
            None => Ok(self.deadline()),
        }
    }

    /// When a send that did not finish at once must have finished: by the wait's
    /// deadline (starting it now if need be), and within the send timeout from now.
    fn send_by(&mut self) -> Instant {
        let now = Instant::now();
        let wait = *self.deadline.get_or_insert_with(|| deadline_after(now, self.timeout));
        wait.min(deadline_after(now, self.send_timeout))
    }
}

/// Why a successful Connect's response (DW0: CNTLID, then AUTHREQ in bits 31:16; NVMe
/// Base 2.2 §6.3) asks for what a host with `opts` must refuse, if it does:
/// - ASCR, a secure channel: this host has no TLS, and Linux's host refuses it unless
///   asked to concatenate (`nvmf_connect_admin_queue`, -EOPNOTSUPP);
/// - no ATR while the host has the controller's secret: the host asked for bidirectional
///   authentication, and a controller that skips authentication would never prove
///   itself, so the connect fails rather than silently going without.
fn authreq_refusal(dw0: u32, opts: &HostOptions) -> Option<&'static str> {
    if dw0 & CONNECT_AUTHREQ_ASCR != 0 {
        return Some(
            "the controller requires a secure channel (AUTHREQ ASCR), which this host does \
             not support",
        );
    }
    if dw0 & CONNECT_AUTHREQ_ATR == 0 && opts.dhchap_ctrl_secret.is_some() {
        return Some(
            "the controller did not ask for authentication (AUTHREQ ATR clear), so it cannot \
             prove itself with the controller secret",
        );
    }
    None
}

/// In-capsule data an I/O queue may carry, from Identify Controller `id`: IOCCSZ (NVMe-oF
/// 1.1, bytes 1795:1792, the capsule in 16-byte units) less the 64-byte command, as a
/// Linux host sizes its I/O queues' inline data. The admin queue keeps an 8 KiB capsule
/// (Linux's `NVME_TCP_ADMIN_CCSZ`).
fn io_in_capsule_max(id: &[u8]) -> Result<usize, InitiatorError> {
    let ioccsz = id
        .get(1792..1796)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes)
        .ok_or(InitiatorError::Protocol("Identify Controller too short"))?;
    // The capsule holds at least the command.
    if ioccsz < 4 {
        return Err(InitiatorError::Protocol("IOCCSZ smaller than a command"));
    }
    Ok(usize::try_from(u64::from(ioccsz) * 16 - 64).unwrap_or(usize::MAX))
}

/// A Read or Write of `len` bytes (whole blocks of `block_size`) at `slba`.
fn rw_sqe(opcode: u8, nsid: u32, slba: u64, len: usize, block_size: u32) -> Sqe {
    let mut sqe = Sqe::new(opcode, 0);
    sqe.nsid = nsid;
    sqe.set_rw(slba, (len / (block_size.max(1) as usize)) as u32);
    sqe
}

/// A controller: admin queue plus I/O queues.
#[derive(Debug)]
pub struct HostController {
    /// Admin queue.
    pub admin: HostQueue,
    /// I/O queues (QID i + 1).
    pub io: Vec<HostQueue>,
    /// CNTLID assigned by the controller.
    pub cntlid: u16,
}

impl HostController {
    /// Connects the admin queue, enables the controller and connects `io_queues`
    /// I/O queues, or as many as the controller grants if fewer (as a Linux host does).
    pub async fn connect(
        addr: SocketAddr,
        subnqn: &str,
        opts: &HostOptions,
        io_queues: u16,
    ) -> Result<Self, InitiatorError> {
        let mut admin = HostQueue::open(addr, opts).await?;
        let c = admin.connect(subnqn, 0, 31, CNTLID_DYNAMIC).await?;
        if !c.cqe.status.is_success() {
            return Err(InitiatorError::Status(c.cqe.status));
        }
        let cntlid = c.cqe.dw0 as u16;
        let _cap = admin.property_get(property::CAP, true).await?;
        // CC: EN, CSS NVM, MPS 4 KiB, IOSQES 6, IOCQES 4.
        admin.property_set(property::CC, 1 | (6 << 16) | (4 << 20)).await?;
        let mut ready = false;
        for _ in 0..100 {
            if admin.property_get(property::CSTS, false).await? & 1 == 1 {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if !ready {
            return Err(InitiatorError::Protocol("controller did not become ready"));
        }
        let mut io = Vec::new();
        if io_queues > 0 {
            let in_capsule_max = io_in_capsule_max(&admin.identify(1, 0).await?)?;
            let n = u32::from(io_queues - 1);
            // Number of Queues (NVMe Base 2.0 §5.27.1.5): the granted counts, 0's based.
            let granted = admin.set_features(0x07, n | (n << 16)).await?;
            let granted = (granted & 0xFFFF).min(granted >> 16) + 1;
            let io_queues = u16::try_from(granted).map_or(io_queues, |g| g.min(io_queues));
            for qid in 1..=io_queues {
                let mut q = HostQueue::open(addr, opts).await?;
                q.in_capsule_max = in_capsule_max;
                let c = q.connect(subnqn, qid, 127, cntlid).await?;
                if !c.cqe.status.is_success() {
                    return Err(InitiatorError::Status(c.cqe.status));
                }
                io.push(q);
            }
        }
        Ok(Self { admin, io, cntlid })
    }

    /// Orderly shutdown (CC.SHN normal, wait for SHST complete).
    pub async fn shutdown(&mut self) -> Result<(), InitiatorError> {
        self.admin.property_set(property::CC, 1 | (6 << 16) | (4 << 20) | (1 << 14)).await?;
        for _ in 0..100 {
            if (self.admin.property_get(property::CSTS, false).await? >> 2) & 0b11 == 0b10 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Err(InitiatorError::Protocol("shutdown did not complete"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeSet;

    use std::sync::Arc;

    use dpu_nvmf_proto::IcResp;
    use dpu_nvmf_proto::auth::{Challenge, Success1};
    use dpu_nvmf_proto::pdu::encode_capsule_resp;

    use super::*;
    use crate::target::{ListenerSpec, SubsystemSpec, Target};
    use crate::{Server, Volume};

    const NQN: &str = "nqn.2024-01.io.example.test:batch";

    /// A server with one RAM namespace (1 MiB of 512-byte blocks) on loopback.
    async fn ram_server() -> (Arc<Server>, SocketAddr) {
        ram_server_with_digests(false).await
    }

    /// [`ram_server`] that allows header and data digests or not.
    async fn ram_server_with_digests(digests: bool) -> (Arc<Server>, SocketAddr) {
        let t = Target::new();
        let spec = SubsystemSpec {
            nqn: NQN.into(),
            serial: "T".into(),
            model: "t".into(),
            allow_any_host: true,
            hosts: BTreeSet::new(),
            host_secrets: Default::default(),
            cntlids: crate::target::ALL_CNTLIDS,
            max_io_queues: crate::target::DEFAULT_IO_QUEUES,
        };
        t.add_subsystem(spec).unwrap();
        let vol = Volume::ram("batch", 512, 1 << 20).unwrap();
        t.add_namespace(NQN, 1, Arc::new(vol), [1; 16], [2; 16]).unwrap();
        let server = Server::new(t, 2);
        let listener = ListenerSpec {
            port_id: 1,
            addr: "127.0.0.1:0".parse().unwrap(),
            allow_hdgst: digests,
            allow_ddgst: digests,
            discovery_only: false,
        };
        let addr = server.add_listener(listener).await.unwrap();
        (server, addr)
    }

    #[tokio::test]
    async fn shared_write_data_is_sent_on_r2t_from_the_callers_buffer() {
        let (server, addr) = ram_server().await;
        let mut c = HostController::connect(addr, NQN, &HostOptions::default(), 1).await.unwrap();
        let q = c.io.first_mut().unwrap();
        // 64 KiB: beyond the in-capsule limit, so the target asks for it by R2T.
        let data = Bytes::from((0..65536u32).map(|i| (i * 7 / 3) as u8).collect::<Vec<u8>>());
        let cid = q.start_write_shared(1, 16, data.clone(), 512).await.unwrap();
        assert!(q.wait(cid).await.unwrap().cqe.status.is_success());
        let back = q.read(1, 16, 128, 512).await.unwrap();
        assert!(back.cqe.status.is_success());
        assert_eq!(back.data, data);
        server.stop();
    }

    /// Shared in-capsule data leaves from the caller's buffer between the encoded bytes
    /// of its batch (one vectored write), with and without digests, and reads back whole.
    #[tokio::test]
    async fn shared_in_capsule_write_data_is_sent_from_the_callers_buffer() {
        for digests in [false, true] {
            let (server, addr) = ram_server_with_digests(digests).await;
            let opts = HostOptions { hdgst: digests, ddgst: digests, ..HostOptions::default() };
            let mut c = HostController::connect(addr, NQN, &opts, 1).await.unwrap();
            let q = c.io.first_mut().unwrap();
            let block = |i: u64| Bytes::from(vec![i as u8 + 1; 4096]);
            // The first write leaves alone; the next eight are started while its and
            // seven other completions wait to be reaped, so they leave in one write.
            let mut first = Vec::new();
            for i in 0..8u64 {
                first.push(q.start_write_shared(1, i * 8, block(i), 512).await.unwrap());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert!(q.wait(first[0]).await.unwrap().cqe.status.is_success());
            let mut batched = Vec::new();
            for i in 8..16u64 {
                batched.push(q.start_write_shared(1, i * 8, block(i), 512).await.unwrap());
            }
            for cid in first[1..].iter().chain(&batched) {
                assert!(q.wait(*cid).await.unwrap().cqe.status.is_success(), "digests {digests}");
            }
            for i in 0..16u64 {
                let back = q.read(1, i * 8, 8, 512).await.unwrap();
                assert!(back.cqe.status.is_success());
                assert_eq!(back.data, block(i), "block {i}, digests {digests}");
            }
            server.stop();
        }
    }

    /// I/O queues carry in-capsule data up to the controller's IOCCSZ (ours: 8 KiB of
    /// data beside the command), the admin queue up to an 8 KiB capsule, as a Linux host.
    #[tokio::test]
    async fn io_queues_size_in_capsule_data_by_ioccsz() {
        let (server, addr) = ram_server().await;
        let mut c = HostController::connect(addr, NQN, &HostOptions::default(), 1).await.unwrap();
        assert_eq!(c.admin.in_capsule_max, 8192 - 64);
        let q = c.io.first_mut().unwrap();
        assert_eq!(q.in_capsule_max, 8192);
        let data = vec![0xC3; 8192];
        assert!(q.write(1, 32, &data, 512).await.unwrap().cqe.status.is_success());
        assert_eq!(q.read(1, 32, 16, 512).await.unwrap().data, data);
        server.stop();
    }

    /// A controller's IOCCSZ below the command itself, or an Identify without it, is refused.
    #[test]
    fn ioccsz_smaller_than_a_command_is_refused() {
        let with = |ioccsz: u32| {
            let mut id = vec![0; 4096];
            id[1792..1796].copy_from_slice(&ioccsz.to_le_bytes());
            io_in_capsule_max(&id)
        };
        assert_eq!(with(4).unwrap(), 0);
        assert_eq!(with(u32::MAX).unwrap(), u32::MAX as usize * 16 - 64);
        assert!(matches!(with(3), Err(InitiatorError::Protocol(_))));
        assert!(matches!(io_in_capsule_max(&[0; 1794]), Err(InitiatorError::Protocol(_))));
    }

    #[tokio::test]
    async fn commands_started_while_completions_wait_are_sent_before_the_next_read() {
        let (server, addr) = ram_server().await;
        let mut c = HostController::connect(addr, NQN, &HostOptions::default(), 1).await.unwrap();
        let q = c.io.first_mut().unwrap();
        let block = |i: u64| vec![i as u8 + 1; 4096];
        let mut writes = Vec::new();
        for i in 0..8u64 {
            writes.push(q.start_write(1, i * 8, &block(i), 512).await.unwrap());
        }
        // Let every completion arrive, so one read takes them all and seven stay buffered.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(q.wait(writes[0]).await.unwrap().cqe.status.is_success());
        let mut reads = Vec::new();
        for i in 0..8u64 {
            // Batched: received completions are waiting to be reaped.
            reads.push((i, q.start_read(1, i * 8, 8, 512).await.unwrap()));
        }
        for cid in &writes[1..] {
            assert!(q.wait(*cid).await.unwrap().cqe.status.is_success());
        }
        for (i, cid) in reads {
            let done = q.wait(cid).await.unwrap();
            assert!(done.cqe.status.is_success());
            assert_eq!(done.data, block(i), "block {i}");
        }
        assert_eq!(q.in_flight(), 0);
        server.stop();
    }

    /// A controller that answers the ICReq and the Connect, completes the first two
    /// commands together, so the host has a completion left to reap and batches its next
    /// commands, then resets the connection.
    async fn answer_once_then_reset(listener: tokio::net::TcpListener) {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut dec = PduDecoder::new(DecoderConfig::controller());
        let mut cids = Vec::new();
        loop {
            let pdu = loop {
                if let Some(p) = dec.decode().unwrap() {
                    break p;
                }
                assert!(s.read_buf(dec.receive_buf(4096)).await.unwrap() > 0);
            };
            let mut out = Vec::new();
            match pdu {
                Pdu::IcReq(_) => {
                    let r =
                        IcResp { pfv: 0, cpda: 0, hdgst: false, ddgst: false, maxh2cdata: 4096 };
                    dpu_nvmf_proto::encode_ic_resp(&r, &mut out);
                }
                Pdu::CapsuleCmd(c) if c.sqe.is_fabrics() => {
                    encode_capsule_resp(
                        &Cqe::new(c.sqe.cid, Status::SUCCESS),
                        &Framing::PLAIN,
                        &mut out,
                    );
                }
                Pdu::CapsuleCmd(c) if cids.is_empty() => {
                    cids.push(c.sqe.cid);
                    continue;
                }
                Pdu::CapsuleCmd(c) => {
                    for cid in [cids[0], c.sqe.cid] {
                        encode_capsule_resp(
                            &Cqe::new(cid, Status::SUCCESS),
                            &Framing::PLAIN,
                            &mut out,
                        );
                    }
                    s.write_all(&out).await.unwrap();
                    s.set_zero_linger().unwrap();
                    return;
                }
                other => panic!("unexpected {other:?}"),
            }
            s.write_all(&out).await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_failed_send_fails_every_command_in_flight_at_once() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let controller = tokio::spawn(answer_once_then_reset(listener));
        // A timeout far beyond the test's own bound: only failing at once passes.
        let opts = HostOptions { timeout: Duration::from_secs(60), ..HostOptions::default() };
        let mut q = HostQueue::open(addr, &opts).await.unwrap();
        assert!(q.connect(NQN, 1, 7, 1).await.unwrap().cqe.status.is_success());
        let first = q.start_read(1, 0, 1, 512).await.unwrap();
        let second = q.start_read(1, 1, 1, 512).await.unwrap();
        controller.await.unwrap();
        // Let the reset arrive.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let work = async {
            assert_eq!(q.next_completion().await.unwrap().0, first);
            // The second completion is still buffered: these two wait to be written together.
            q.start_read(1, 2, 1, 512).await.unwrap();
            q.start_read(1, 3, 1, 512).await.unwrap();
            assert_eq!(q.next_completion().await.unwrap().0, second);
            assert_eq!(q.in_flight(), 2);
            // Writing them fails; both fail with it, and so does everything after.
            assert!(matches!(q.next_completion().await, Err(InitiatorError::Io(_))));
            assert_eq!(q.in_flight(), 0);
            assert!(matches!(q.next_completion().await, Err(InitiatorError::Broken(_))));
            assert!(matches!(q.start_read(1, 4, 1, 512).await, Err(InitiatorError::Broken(_))));
        };
        tokio::time::timeout(Duration::from_secs(5), work).await.expect("failed at once");
    }

    /// How often [`repeating_controller`] sends its PDU at most.
    const REPEATS: usize = 10_000;

    /// A controller that answers the ICReq and the Connect, then the first other command
    /// with the PDU `pdu` makes for its CID, again and again ([`REPEATS`] times at most,
    /// or until the host hangs up), draining what the host sends until it hangs up.
    async fn repeating_controller(listener: tokio::net::TcpListener, pdu: fn(u16) -> Vec<u8>) {
        let (s, _) = listener.accept().await.unwrap();
        let (mut rx, mut tx) = s.into_split();
        let mut dec = PduDecoder::new(DecoderConfig::controller());
        loop {
            let received = loop {
                if let Some(p) = dec.decode().unwrap() {
                    break p;
                }
                if rx.read_buf(dec.receive_buf(4096)).await.unwrap() == 0 {
                    return;
                }
            };
            let mut out = Vec::new();
            match received {
                Pdu::IcReq(_) => {
                    let r =
                        IcResp { pfv: 0, cpda: 0, hdgst: false, ddgst: false, maxh2cdata: 4096 };
                    dpu_nvmf_proto::encode_ic_resp(&r, &mut out);
                }
                Pdu::CapsuleCmd(c) if c.sqe.is_fabrics() => {
                    let ok = Cqe::new(c.sqe.cid, Status::SUCCESS);
                    encode_capsule_resp(&ok, &Framing::PLAIN, &mut out);
                }
                Pdu::CapsuleCmd(c) => {
                    let drain = tokio::spawn(async move {
                        let mut b = vec![0; 1 << 16];
                        while rx.read(&mut b).await.is_ok_and(|n| n > 0) {}
                    });
                    let one = pdu(c.sqe.cid);
                    for _ in 0..REPEATS {
                        if tx.write_all(&one).await.is_err() {
                            break;
                        }
                    }
                    drain.await.unwrap();
                    return;
                }
                other => panic!("unexpected {other:?}"),
            }
            tx.write_all(&out).await.unwrap();
        }
    }

    /// Runs `command` on an I/O queue connected to a [`repeating_controller`] of `pdu`:
    /// its outcome, within a bound that only a hang reaches.
    async fn against_repeated<T: std::fmt::Debug>(
        pdu: fn(u16) -> Vec<u8>,
        command: impl AsyncFnOnce(&mut HostQueue) -> Result<T, InitiatorError>,
    ) -> Result<T, InitiatorError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let controller = tokio::spawn(repeating_controller(listener, pdu));
        let opts = HostOptions { timeout: Duration::from_secs(5), ..HostOptions::default() };
        let mut q = HostQueue::open(addr, &opts).await.unwrap();
        assert!(q.connect(NQN, 1, 7, 1).await.unwrap().cqe.status.is_success());
        let outcome = tokio::time::timeout(Duration::from_secs(120), command(&mut q)).await;
        drop(q);
        controller.await.unwrap();
        outcome.expect("the host hung")
    }

    /// A controller that answers a command with completions of a CID nobody sent, without
    /// end, fails the command at the first (they are not kept as events without bound
    /// while the wait goes on).
    #[tokio::test]
    async fn completions_of_commands_not_in_flight_fail_the_wait() {
        let stray = |_cid| {
            let mut out = Vec::new();
            encode_capsule_resp(&Cqe::new(0xFFF0, Status::SUCCESS), &Framing::PLAIN, &mut out);
            out
        };
        let outcome = against_repeated(stray, async |q| q.read(1, 0, 1, 512).await).await;
        assert!(matches!(outcome, Err(InitiatorError::Protocol(_))), "{outcome:?}");
    }

    /// A controller that sends a read's data again and again, never completing it, fails
    /// the read once more data came than it reads.
    #[tokio::test]
    async fn data_beyond_what_a_read_reads_fails_it() {
        let again = |cid| {
            let h = DataPduHeader { cccid: cid, ttag: 0, datao: 0, last: false, success: false };
            let mut out = Vec::new();
            dpu_nvmf_proto::pdu::encode_c2h_data(&h, &[7; 512], &Framing::PLAIN, &mut out).unwrap();
            out
        };
        let outcome = against_repeated(again, async |q| q.read(1, 0, 1, 512).await).await;
        assert!(matches!(outcome, Err(InitiatorError::Protocol(_))), "{outcome:?}");
    }

    /// A controller that asks for a write's first 4 KiB again and again fails the write
    /// at its second ask, rather than having the data sent for good.
    #[tokio::test]
    async fn r2ts_beyond_a_writes_data_fail_it() {
        let again = |cid| {
            let r = dpu_nvmf_proto::pdu::R2t { cccid: cid, ttag: 1, r2to: 0, r2tl: 4096 };
            let mut out = Vec::new();
            dpu_nvmf_proto::pdu::encode_r2t(&r, &Framing::PLAIN, &mut out);
            out
        };
        let data = vec![3; 64 << 10];
        let outcome = against_repeated(again, async |q| q.write(1, 0, &data, 512).await).await;
        assert!(matches!(outcome, Err(InitiatorError::Protocol(_))), "{outcome:?}");
    }

    /// A controller that stops reading fails a send that cannot finish with a timeout
    /// (the queue is broken: the stream stopped within a PDU) instead of holding it.
    #[tokio::test]
    async fn a_send_the_controller_does_not_take_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (hung_up, hang_up) = tokio::sync::oneshot::channel::<()>();
        let controller = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut dec = PduDecoder::new(DecoderConfig::controller());
            while dec.decode().unwrap().is_none() {
                assert!(s.read_buf(dec.receive_buf(4096)).await.unwrap() > 0);
            }
            let r = IcResp { pfv: 0, cpda: 0, hdgst: false, ddgst: false, maxh2cdata: 4096 };
            let mut out = Vec::new();
            dpu_nvmf_proto::encode_ic_resp(&r, &mut out);
            s.write_all(&out).await.unwrap();
            // Reads nothing more until the host is done.
            let _ = hang_up.await;
        });
        let opts = HostOptions { timeout: Duration::from_secs(1), ..HostOptions::default() };
        let mut q = HostQueue::open(addr, &opts).await.unwrap();
        // Far more than the loopback's socket buffers hold.
        let flood = vec![0u8; 64 << 20];
        let sent = tokio::time::timeout(Duration::from_secs(120), q.send_raw(&flood)).await;
        assert!(matches!(sent.expect("the host hung"), Err(InitiatorError::Timeout)));
        assert!(matches!(q.send_raw(&[0; 8]).await, Err(InitiatorError::Broken(_))));
        drop(hung_up);
        controller.await.unwrap();
    }

    /// What a [`scripted_controller`] sends once the commands it waits for came, made of
    /// their CIDs.
    type Script = fn(&[u16], &Framing) -> Vec<u8>;

    /// How a [`scripted_controller`] behaves besides its script.
    #[derive(Debug, Clone, Copy)]
    struct Behaviour {
        /// It sends its answer one byte every `pace`, if given.
        pace: Option<Duration>,
        /// MAXH2CDATA of its ICResp.
        maxh2cdata: u32,
        /// DW0 of its Connect responses (CNTLID and AUTHREQ).
        connect_dw0: u32,
        /// Once it answered, it takes at most `.0` bytes every `.1`, unread, until the
        /// host hangs up (a controller slow to take write data).
        drip_reads: Option<(usize, Duration)>,
    }

    impl Default for Behaviour {
        fn default() -> Self {
            Self { pace: None, maxh2cdata: 4096, connect_dw0: 0, drip_reads: None }
        }
    }

    /// A controller that answers the ICReq (with the digests the host asks for) and the
    /// Connect as `b` says, waits for `after` other commands, then sends what `script`
    /// makes of their CIDs, and reads on until the host hangs up: the H2CTermReq the host
    /// sent, if any.
    async fn scripted_controller(
        listener: tokio::net::TcpListener,
        after: usize,
        b: Behaviour,
        script: Script,
    ) -> Option<TermReq> {
        let (mut s, _) = listener.accept().await.unwrap();
        let mut dec = PduDecoder::new(DecoderConfig::controller());
        let mut framing = Framing::PLAIN;
        let mut cids = Vec::new();
        let mut answered = false;
        loop {
            let pdu = loop {
                if let Some(p) = dec.decode().unwrap() {
                    break p;
                }
                if !s.read_buf(dec.receive_buf(4096)).await.is_ok_and(|n| n > 0) {
                    return None;
                }
            };
            let mut out = Vec::new();
            let mut pace = None;
            match pdu {
                Pdu::IcReq(r) => {
                    let resp = IcResp {
                        pfv: 0,
                        cpda: 0,
                        hdgst: r.hdgst,
                        ddgst: r.ddgst,
                        maxh2cdata: b.maxh2cdata,
                    };
                    dpu_nvmf_proto::encode_ic_resp(&resp, &mut out);
                    dec.set_digests(r.hdgst, r.ddgst);
                    framing = Framing { hdgst: r.hdgst, ddgst: r.ddgst, pda: 0 };
                }
                Pdu::CapsuleCmd(c) if c.sqe.is_fabrics() => {
                    let mut cqe = Cqe::new(c.sqe.cid, Status::SUCCESS);
                    if c.sqe.fctype() == dpu_nvmf_proto::fabrics::fctype::CONNECT {
                        cqe.dw0 = b.connect_dw0;
                    }
                    encode_capsule_resp(&cqe, &framing, &mut out);
                }
                Pdu::CapsuleCmd(c) => {
                    cids.push(c.sqe.cid);
                    if cids.len() != after {
                        continue;
                    }
                    out = script(&cids, &framing);
                    pace = b.pace;
                    answered = true;
                }
                Pdu::H2CTermReq(t) => return Some(t),
                _ => continue,
            }
            match pace {
                None => {
                    if s.write_all(&out).await.is_err() {
                        return None;
                    }
                }
                Some(pace) => {
                    for b in out {
                        if s.write_all(&[b]).await.is_err() {
                            return None;
                        }
                        tokio::time::sleep(pace).await;
                    }
                }
            }
            if let (true, Some((most, every))) = (answered, b.drip_reads) {
                let mut taken = vec![0; most];
                loop {
                    tokio::time::sleep(every).await;
                    if !s.read(&mut taken).await.is_ok_and(|n| n > 0) {
                        return None;
                    }
                }
            }
        }
    }

    /// An I/O queue (depth 8) connected to a [`scripted_controller`].
    async fn scripted(
        opts: HostOptions,
        after: usize,
        pace: Option<Duration>,
        script: Script,
    ) -> (HostQueue, tokio::task::JoinHandle<Option<TermReq>>) {
        scripted_with(opts, Behaviour { pace, ..Behaviour::default() }, after, script).await
    }

    /// [`scripted`] with a controller behaving as `b` says.
    async fn scripted_with(
        opts: HostOptions,
        b: Behaviour,
        after: usize,
        script: Script,
    ) -> (HostQueue, tokio::task::JoinHandle<Option<TermReq>>) {
        let (mut q, controller) = scripted_open(opts, b, after, script).await;
        assert!(q.connect(NQN, 1, 7, 1).await.unwrap().cqe.status.is_success());
        (q, controller)
    }

    /// A queue opened (ICReq/ICResp, no Connect yet) to a [`scripted_controller`].
    async fn scripted_open(
        opts: HostOptions,
        b: Behaviour,
        after: usize,
        script: Script,
    ) -> (HostQueue, tokio::task::JoinHandle<Option<TermReq>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let controller = tokio::spawn(scripted_controller(listener, after, b, script));
        let q = HostQueue::open(addr, &opts).await.unwrap();
        (q, controller)
    }

    /// A C2HData PDU of `len` bytes of `cid`'s data at `datao`, its data digest spoilt
    /// if `bad` (data digests negotiated).
    fn c2h(cid: u16, datao: u32, len: usize, success: bool, bad: bool, f: &Framing) -> Vec<u8> {
        let h = DataPduHeader { cccid: cid, ttag: 0, datao, last: success, success };
        let mut out = Vec::new();
        dpu_nvmf_proto::pdu::encode_c2h_data(&h, &vec![0x5A; len], f, &mut out).unwrap();
        if bad {
            *out.last_mut().unwrap() ^= 1;
        }
        out
    }

    /// A successful CapsuleResp of `cid`.
    fn ok_resp(cid: u16, f: &Framing) -> Vec<u8> {
        let mut out = Vec::new();
        encode_capsule_resp(&Cqe::new(cid, Status::SUCCESS), f, &mut out);
        out
    }

    /// An R2T asking for `len` bytes of `cid`'s data at `r2to`.
    fn r2t(cid: u16, r2to: u32, len: u32, f: &Framing) -> Vec<u8> {
        let r = dpu_nvmf_proto::pdu::R2t { cccid: cid, ttag: 1, r2to, r2tl: len };
        let mut out = Vec::new();
        dpu_nvmf_proto::pdu::encode_r2t(&r, f, &mut out);
        out
    }

    fn failed_transfer(done: &Result<Completion, InitiatorError>) -> bool {
        matches!(done, Ok(c) if c.cqe.status == Status::DATA_TRANSFER_ERROR && c.data.is_empty())
    }

    /// A data digest error fails the command whose data it was (Data Transfer Error over
    /// the controller's SUCCESS), not whichever wait runs; the queue goes on.
    #[tokio::test]
    async fn a_data_digest_error_fails_its_command_not_the_wait() {
        let opts = HostOptions { ddgst: true, ..HostOptions::default() };
        let (mut q, controller) = scripted(opts, 2, None, |c, f| {
            let mut out = c2h(c[0], 0, 4096, false, true, f);
            out.extend(c2h(c[0], 4096, 4096, false, false, f));
            out.extend(ok_resp(c[0], f));
            out.extend(c2h(c[1], 0, 512, false, false, f));
            out.extend(ok_resp(c[1], f));
            out
        })
        .await;
        let bad = q.start_read(1, 0, 16, 512).await.unwrap();
        let good = q.start_read(1, 16, 1, 512).await.unwrap();
        let done = q.wait(good).await;
        assert!(
            matches!(&done, Ok(c) if c.cqe.status.is_success() && c.data[..] == [0x5A; 512]),
            "{done:?}"
        );
        let done = q.wait(bad).await;
        assert!(failed_transfer(&done), "{done:?}");
        assert_eq!(q.in_flight(), 0);
        drop(q);
        assert!(controller.await.unwrap().is_none(), "no termination for a data digest");
    }

    /// ... also when the bad PDU carried the SUCCESS flag (the command ends there).
    #[tokio::test]
    async fn a_data_digest_error_with_the_success_flag_fails_its_command() {
        let opts = HostOptions { ddgst: true, ..HostOptions::default() };
        let (mut q, _controller) =
            scripted(opts, 1, None, |c, f| c2h(c[0], 0, 512, true, true, f)).await;
        let cid = q.start_read(1, 0, 1, 512).await.unwrap();
        let done = q.next_completion().await;
        assert!(matches!(&done, Ok((c, _)) if *c == cid), "{done:?}");
        assert!(failed_transfer(&done.map(|(_, c)| c)));
        assert_eq!(q.in_flight(), 0);
    }

    /// C2HData beyond a read's buffer (within another's) ends the queue: an H2CTermReq
    /// (Data Transfer Out of Range, with the PDU's header), every command failed, none
    /// taken after.
    #[tokio::test]
    async fn a_protocol_error_ends_the_queue() {
        let (mut q, controller) =
            scripted(HostOptions::default(), 2, None, |c, f| c2h(c[0], 0, 1024, false, false, f))
                .await;
        let first = q.start_read(1, 0, 1, 512).await.unwrap();
        let second = q.start_read(1, 1, 2, 512).await.unwrap();
        let done = q.wait(first).await;
        assert!(matches!(done, Err(InitiatorError::Protocol(_))), "{done:?}");
        assert_eq!(q.in_flight(), 0);
        assert!(matches!(q.wait(second).await, Err(InitiatorError::Broken(_))));
        assert!(matches!(q.start_read(1, 2, 1, 512).await, Err(InitiatorError::Broken(_))));
        drop(q);
        let term = controller.await.unwrap().expect("an H2CTermReq");
        assert_eq!(term.fes, Fes::DataTransferOutOfRange.code());
        // The C2HData header: type 07h, HLEN 24.
        assert_eq!((term.data[0], term.data[2], term.data.len()), (0x07, 24, 24));
    }

    /// A read larger than 1 MiB may come in one C2HData PDU, as Linux's nvmet sends every
    /// read (it reports MDTS 0 over TCP, and a host announces no C2HData limit): only the
    /// reads in flight bound it.
    #[tokio::test]
    async fn a_read_of_2_mib_comes_in_one_c2h_data() {
        let (mut q, _controller) = scripted(HostOptions::default(), 1, None, |c, f| {
            let mut out = c2h(c[0], 0, 2 << 20, false, false, f);
            out.extend(ok_resp(c[0], f));
            out
        })
        .await;
        let done = q.read(1, 0, 4096, 512).await;
        assert!(
            matches!(&done, Ok(c) if c.cqe.status.is_success() && c.data.len() == 2 << 20),
            "{:?}",
            done.map(|c| (c.cqe, c.data.len()))
        );
        assert!(done.unwrap().data.iter().all(|&b| b == 0x5A));
    }

    /// C2HData longer than every read in flight is refused before it is buffered (Data
    /// Transfer Limit Exceeded, the decoder's H2CTermReq): the bound falls again once the
    /// largest read completed.
    #[tokio::test]
    async fn c2h_data_longer_than_every_read_in_flight_ends_the_queue() {
        let (mut q, controller) = scripted(HostOptions::default(), 2, None, |c, f| {
            let mut out = c2h(c[0], 0, 2 << 20, true, false, f);
            out.extend(c2h(c[1], 0, 16 << 10, true, false, f));
            out
        })
        .await;
        let big = q.start_read(1, 0, 4096, 512).await.unwrap();
        let small = q.start_read(1, 0, 16, 512).await.unwrap();
        let done = q.wait(big).await;
        assert!(
            matches!(&done, Ok(c) if c.cqe.status.is_success() && c.data.len() == 2 << 20),
            "{:?}",
            done.map(|c| (c.cqe, c.data.len()))
        );
        let done = q.wait(small).await;
        assert!(matches!(done, Err(InitiatorError::Decode(_))), "{done:?}");
        assert_eq!(q.in_flight(), 0);
        drop(q);
        let term = controller.await.unwrap().expect("an H2CTermReq");
        assert_eq!(term.fes, Fes::DataTransferLimitExceeded.code());
        // The C2HData header: type 07h, HLEN 24.
        assert_eq!((term.data[0], term.data[2], term.data.len()), (0x07, 24, 24));
    }

    /// The bound follows the largest read in flight: several at it keep it until the last
    /// ends; then it is the largest of the rest.
    #[test]
    fn the_read_bound_is_the_largest_read_in_flight() {
        let mut b = ReadBound::default();
        assert_eq!(b.limit(), 0);
        assert!(b.started(4096) && !b.started(4096) && !b.started(512) && !b.started(0));
        assert_eq!(b.limit(), 4096);
        assert!(!b.ended(512) && !b.ended(0) && !b.ended(4096));
        assert!(b.ended(4096), "the last at the bound");
        b.recount([512, 0].into_iter());
        assert_eq!(b.limit(), 512);
        assert!(b.ended(512));
        b.recount(std::iter::empty());
        assert_eq!(b.limit(), 0);
    }

    /// A header digest error is fatal too: the decoder's H2CTermReq, nothing sent after.
    #[tokio::test]
    async fn a_header_digest_error_ends_the_queue() {
        let opts = HostOptions { hdgst: true, ..HostOptions::default() };
        let (mut q, controller) = scripted(opts, 1, None, |c, f| {
            let mut out = ok_resp(c[0], f);
            out[24] ^= 1;
            out
        })
        .await;
        let cid = q.start_read(1, 0, 1, 512).await.unwrap();
        let done = q.wait(cid).await;
        assert!(matches!(done, Err(InitiatorError::Decode(_))), "{done:?}");
        assert!(matches!(q.start_read(1, 1, 1, 512).await, Err(InitiatorError::Broken(_))));
        drop(q);
        let term = controller.await.unwrap().expect("an H2CTermReq");
        assert_eq!(term.fes, Fes::HeaderDigestError.code());
    }

    /// C2HData must come at the offset the read's data reached: the first half sent
    /// twice does not stand for the second.
    #[tokio::test]
    async fn c2h_data_sent_twice_at_one_offset_ends_the_queue() {
        let (mut q, controller) = scripted(HostOptions::default(), 1, None, |c, f| {
            let mut out = c2h(c[0], 0, 4096, false, false, f);
            out.extend(c2h(c[0], 0, 4096, false, false, f));
            out.extend(ok_resp(c[0], f));
            out
        })
        .await;
        let cid = q.start_read(1, 0, 16, 512).await.unwrap();
        let done = q.wait(cid).await;
        assert!(matches!(done, Err(InitiatorError::Protocol(_))), "{done:?}");
        drop(q);
        let term = controller.await.unwrap().expect("an H2CTermReq");
        assert_eq!(term.fes, Fes::DataTransferOutOfRange.code());
    }

    /// A Read completed with SUCCESS and half its data fails with Data Transfer Error.
    #[tokio::test]
    async fn a_read_completed_with_less_data_than_it_reads_fails() {
        let (mut q, _controller) = scripted(HostOptions::default(), 1, None, |c, f| {
            let mut out = c2h(c[0], 0, 4096, false, false, f);
            out.extend(ok_resp(c[0], f));
            out
        })
        .await;
        let cid = q.start_read(1, 0, 16, 512).await.unwrap();
        let done = q.wait(cid).await;
        assert!(failed_transfer(&done), "{done:?}");
    }

    /// A command that may read less than its buffer (here not a Read) completes by a
    /// SUCCESS flag on a shorter last PDU, the rest of its data zero; a Read cannot.
    #[tokio::test]
    async fn only_a_read_must_have_all_its_data_before_the_success_flag() {
        let (mut q, _controller) =
            scripted(HostOptions::default(), 1, None, |c, f| c2h(c[0], 0, 100, true, false, f))
                .await;
        let cid = q.start(Sqe::new(0x06, 0), None, 4096).await.unwrap();
        let done = q.wait(cid).await.unwrap();
        assert!(done.cqe.status.is_success() && done.via_success_flag, "{done:?}");
        assert_eq!(done.data.len(), 4096);
        assert!(
            done.data[..100].iter().all(|&b| b == 0x5A) && done.data[100..].iter().all(|&b| b == 0)
        );

        let (mut q, _controller) =
            scripted(HostOptions::default(), 1, None, |c, f| c2h(c[0], 0, 100, true, false, f))
                .await;
        let cid = q.start_read(1, 0, 8, 512).await.unwrap();
        let done = q.wait(cid).await;
        assert!(matches!(done, Err(InitiatorError::Protocol(_))), "{done:?}");
    }

    /// A controller that drips its answer a byte at a time, each within the timeout,
    /// does not keep a wait going past it.
    #[tokio::test]
    async fn a_controller_dripping_bytes_cannot_stretch_a_wait() {
        let opts = HostOptions { timeout: Duration::from_secs(1), ..HostOptions::default() };
        let pace = Some(Duration::from_millis(200));
        let (mut q, controller) = scripted(opts, 1, pace, |c, f| {
            let mut out = c2h(c[0], 0, 512, false, false, f);
            out.extend(ok_resp(c[0], f));
            out
        })
        .await;
        let cid = q.start_read(1, 0, 1, 512).await.unwrap();
        let started = std::time::Instant::now();
        // The whole answer takes 110 s to come.
        let done = tokio::time::timeout(Duration::from_secs(10), q.wait(cid)).await;
        assert!(matches!(done, Ok(Err(InitiatorError::Timeout))), "{done:?}");
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        controller.abort();
    }

    /// An outstanding Asynchronous Event Request takes a place of the queue depth.
    #[tokio::test]
    async fn aers_count_against_the_queue_depth() {
        let (mut q, _controller) = scripted(HostOptions::default(), 0, None, |_, _| vec![]).await;
        assert_eq!(q.queue_depth(), 8);
        q.send_only(Sqe::new(admin_opcode::ASYNC_EVENT_REQUEST, 0)).await.unwrap();
        for i in 0..7 {
            q.start_read(1, i, 1, 512).await.unwrap();
        }
        let full = q.start_read(1, 7, 1, 512).await;
        assert!(matches!(full, Err(InitiatorError::QueueFull(8))), "{full:?}");
        let full = q.send_only(Sqe::new(admin_opcode::ASYNC_EVENT_REQUEST, 0)).await;
        assert!(matches!(full, Err(InitiatorError::QueueFull(8))), "{full:?}");
    }

    /// Only an AER's completion is an event: another command's is kept for its wait.
    #[tokio::test]
    async fn next_event_takes_only_completions_of_aers() {
        let (mut q, _controller) = scripted(HostOptions::default(), 2, None, |c, f| {
            let mut out = ok_resp(c[1], f);
            out.extend(ok_resp(c[0], f));
            out
        })
        .await;
        let aer = q.send_only(Sqe::new(admin_opcode::ASYNC_EVENT_REQUEST, 0)).await.unwrap();
        let flush = q.start(Sqe::new(io_opcode::FLUSH, 0), None, 0).await.unwrap();
        let event = q.next_event(Duration::from_secs(5)).await;
        assert!(matches!(&event, Ok(c) if c.cid == aer), "{event:?}");
        let done = q.wait(flush).await;
        assert!(matches!(&done, Ok(c) if c.cqe.status.is_success()), "{done:?}");
        assert_eq!(q.in_flight(), 0);
    }

    /// A controller that asks for a large write's data at once, then takes it slowly
    /// (each of the host's sends moving on well within the timeout), does not keep the
    /// wait past its timeout: sends inside a wait go by the wait's deadline.
    #[tokio::test]
    async fn a_controller_slow_to_take_write_data_cannot_stretch_a_wait() {
        const CHUNK: u32 = 64 << 10;
        let timeout = Duration::from_millis(200);
        let opts = HostOptions { timeout, ..HostOptions::default() };
        // 12.5 MiB/s: the 16 MiB below take over a second beyond what socket buffers hold.
        let slow = Behaviour {
            maxh2cdata: CHUNK,
            drip_reads: Some((256 << 10, Duration::from_millis(20))),
            ..Behaviour::default()
        };
        let (mut q, controller) = scripted_with(opts, slow, 1, |c, f| {
            (0..256).flat_map(|i| r2t(c[0], i * CHUNK, CHUNK, f)).collect()
        })
        .await;
        let data = Bytes::from(vec![0x3C; 256 * CHUNK as usize]);
        let cid = q.start_write_shared(1, 0, data, 512).await.unwrap();
        let started = std::time::Instant::now();
        let done = tokio::time::timeout(Duration::from_secs(2), q.wait(cid)).await;
        let took = started.elapsed();
        assert!(matches!(done, Ok(Err(InitiatorError::Timeout))), "{done:?} after {took:?}");
        assert!(took < 2 * timeout, "the wait took {took:?}");
        controller.abort();
    }

    /// A wait's reads and sends go by one deadline: a read once it passed times out
    /// before it reads, a send by the wait's deadline or its own timeout, the sooner.
    #[tokio::test]
    async fn a_waits_reads_and_sends_go_by_its_deadline() {
        let mut w = Wait::new(Duration::from_millis(50), Duration::from_secs(10));
        let deadline = w.read_by().unwrap();
        assert_eq!(w.read_by().unwrap(), deadline, "set once");
        assert_eq!(w.send_by(), deadline);
        tokio::time::sleep_until(deadline).await;
        assert!(matches!(w.read_by(), Err(InitiatorError::Timeout)));

        let mut w = Wait::new(Duration::from_secs(10), Duration::from_millis(50));
        let send_by = w.send_by();
        let deadline = w.read_by().unwrap();
        assert_eq!(deadline - send_by, Duration::from_secs(10) - Duration::from_millis(50));
    }

    /// An R2T must ask for the write's data from where the earlier ones ended, as Linux's
    /// `nvme_tcp_handle_r2t` checks: one asking again for data already sent, or leaving
    /// a gap, ends the queue (Data Transfer Out of Range, with the R2T's header) rather
    /// than sending data twice and waiting for a completion that never comes.
    #[tokio::test]
    async fn an_r2t_not_at_the_next_unsent_offset_ends_the_queue() {
        let scripts: [Script; 2] = [
            |c, f| [r2t(c[0], 0, 4096, f), r2t(c[0], 0, 4096, f)].concat(),
            |c, f| r2t(c[0], 4096, 4096, f),
        ];
        for script in scripts {
            let opts = HostOptions { timeout: Duration::from_secs(2), ..HostOptions::default() };
            let (mut q, controller) = scripted(opts, 1, None, script).await;
            let cid = q.start_write(1, 0, &[7; 16 << 10], 512).await.unwrap();
            let done = q.wait(cid).await;
            assert!(matches!(done, Err(InitiatorError::Protocol(_))), "{done:?}");
            assert_eq!(q.in_flight(), 0);
            assert!(matches!(q.wait(cid).await, Err(InitiatorError::Broken(_))));
            drop(q);
            let term = controller.await.unwrap().expect("an H2CTermReq");
            assert_eq!(term.fes, Fes::DataTransferOutOfRange.code());
            // The R2T header: type 09h, HLEN 24.
            assert_eq!((term.data[0], term.data[2], term.data.len()), (0x09, 24, 24));
        }
    }

    /// A DH-HMAC-CHAP secret of 32 bytes of `byte`.
    fn dhchap_secret(byte: u8) -> Secret {
        Secret::new(&[byte; 32], 1).unwrap()
    }

    /// A host given the controller's secret asked for bidirectional authentication: a
    /// controller that does not ask the host to authenticate (ATR clear) would never prove
    /// itself, so the Connect fails and the queue takes nothing more.
    #[tokio::test]
    async fn a_controller_secret_refuses_a_controller_that_skips_authentication() {
        let opts = HostOptions {
            dhchap_secret: Some(dhchap_secret(1)),
            dhchap_ctrl_secret: Some(dhchap_secret(2)),
            ..HostOptions::default()
        };
        let cntlid_only = Behaviour { connect_dw0: 1, ..Behaviour::default() };
        let (mut q, controller) = scripted_open(opts, cntlid_only, 1, |_, _| Vec::new()).await;
        let done = q.connect(NQN, 1, 7, 1).await;
        assert!(matches!(&done, Err(InitiatorError::Auth(e)) if e.contains("ATR")), "{done:?}");
        assert!(matches!(q.start_read(1, 0, 1, 512).await, Err(InitiatorError::Broken(_))));
        drop(q);
        assert!(controller.await.unwrap().is_none());
    }

    /// A controller that requires a secure channel (Connect response AUTHREQ ASCR) is
    /// refused, as Linux's host refuses it without TLS: this host has none, with or
    /// without authentication asked for too.
    #[tokio::test]
    async fn a_controller_requiring_a_secure_channel_is_refused() {
        let with_secret =
            HostOptions { dhchap_secret: Some(dhchap_secret(1)), ..HostOptions::default() };
        for (opts, dw0) in [
            (HostOptions::default(), 1 | CONNECT_AUTHREQ_ASCR),
            (with_secret, 1 | CONNECT_AUTHREQ_ASCR | CONNECT_AUTHREQ_ATR),
        ] {
            let b = Behaviour { connect_dw0: dw0, ..Behaviour::default() };
            let (mut q, controller) = scripted_open(opts, b, 1, |_, _| Vec::new()).await;
            let done = q.connect(NQN, 1, 7, 1).await;
            assert!(
                matches!(&done, Err(InitiatorError::Auth(e)) if e.contains("ASCR")),
                "{dw0:#x}: {done:?}"
            );
            assert!(matches!(q.start_read(1, 0, 1, 512).await, Err(InitiatorError::Broken(_))));
            drop(q);
            assert!(controller.await.unwrap().is_none());
        }
    }

    /// A controller that asks for authentication in its Connect response (CNTLID 1,
    /// AUTHREQ ATR), takes the host's Authentication Sends and answers its n-th
    /// Authentication Receive with `answers[n]` (the last again past the end); it reads
    /// until the host hangs up and returns the messages the host sent.
    async fn authenticating_controller(
        listener: tokio::net::TcpListener,
        answers: Vec<Vec<u8>>,
    ) -> Vec<AuthMessage> {
        use dpu_nvmf_proto::fabrics::fctype;
        let (mut s, _) = listener.accept().await.unwrap();
        let mut dec = PduDecoder::new(DecoderConfig::controller());
        let mut sent = Vec::new();
        let mut received = 0;
        loop {
            let pdu = loop {
                if let Some(p) = dec.decode().unwrap() {
                    break p;
                }
                if !s.read_buf(dec.receive_buf(4096)).await.is_ok_and(|n| n > 0) {
                    return sent;
                }
            };
            let f = Framing::PLAIN;
            let mut out = Vec::new();
            match pdu {
                Pdu::IcReq(_) => {
                    let resp =
                        IcResp { pfv: 0, cpda: 0, hdgst: false, ddgst: false, maxh2cdata: 4096 };
                    dpu_nvmf_proto::encode_ic_resp(&resp, &mut out);
                }
                Pdu::CapsuleCmd(c) => {
                    let mut cqe = Cqe::new(c.sqe.cid, Status::SUCCESS);
                    match c.sqe.fctype() {
                        fctype::CONNECT => cqe.dw0 = 1 | CONNECT_AUTHREQ_ATR,
                        fctype::AUTH_SEND => sent.push(AuthMessage::parse(&c.data).unwrap()),
                        fctype::AUTH_RECV => {
                            let answer = &answers[received.min(answers.len() - 1)];
                            received += 1;
                            let h = DataPduHeader {
                                cccid: c.sqe.cid,
                                ttag: 0,
                                datao: 0,
                                last: true,
                                success: false,
                            };
                            dpu_nvmf_proto::pdu::encode_c2h_data(&h, answer, &f, &mut out).unwrap();
                        }
                        _ => {}
                    }
                    encode_capsule_resp(&cqe, &f, &mut out);
                }
                _ => continue,
            }
            if s.write_all(&out).await.is_err() {
                return sent;
            }
        }
    }

    /// Messages of a controller this host cannot go along with, as Linux's host judges
    /// them (`nvme_auth_process_dhchap_challenge`, `nvme_auth_dhchap_exponential`,
    /// `nvme_auth_process_dhchap_success1`): the host sends AUTH_Failure2 with the reason
    /// code explanation (reason code 01h, NVMe Base 2.2 §8.3.4.5), fails the Connect and
    /// ends the queue, so the controller does not wait for a message that never comes.
    #[tokio::test]
    async fn a_controller_message_the_host_refuses_gets_failure2_and_ends_the_queue() {
        let challenge = |hash: u8, hl: usize, dh_group: u8, dh_value: Vec<u8>| {
            let c = Challenge {
                tid: 1,
                hash,
                dh_group,
                seqnum: 7,
                challenge: vec![0x42; hl],
                dh_value,
            };
            AuthMessage::Challenge(c).to_bytes()
        };
        let mut one = vec![0u8; 256];
        one[255] = 1;
        let sha384_success1 =
            AuthMessage::Success1(Success1 { tid: 1, hash_len: 48, response: None }).to_bytes();
        let cases = [
            (
                "HL not the hash's",
                vec![challenge(hash::SHA256, 48, dh_group::NULL, vec![])],
                failure::HASH_UNUSABLE,
            ),
            (
                "unknown hash",
                vec![challenge(9, 32, dh_group::NULL, vec![])],
                failure::HASH_UNUSABLE,
            ),
            (
                "unknown DH group",
                vec![challenge(hash::SHA256, 32, 7, vec![])],
                failure::DHGROUP_UNUSABLE,
            ),
            (
                "a DH value with the NULL group",
                vec![challenge(hash::SHA256, 32, dh_group::NULL, vec![1; 8])],
                failure::INCORRECT_PAYLOAD,
            ),
            (
                "no DH value with ffdhe2048",
                vec![challenge(hash::SHA256, 32, dh_group::FFDHE2048, vec![])],
                failure::DHGROUP_UNUSABLE,
            ),
            (
                "DH value 1",
                vec![challenge(hash::SHA256, 32, dh_group::FFDHE2048, one)],
                failure::INCORRECT_PAYLOAD,
            ),
            (
                "Success1 of another hash length",
                vec![challenge(hash::SHA256, 32, dh_group::NULL, vec![]), sha384_success1],
                failure::HASH_UNUSABLE,
            ),
        ];
        for (what, answers, explanation) in cases {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let controller = tokio::spawn(authenticating_controller(listener, answers));
            let opts =
                HostOptions { dhchap_secret: Some(dhchap_secret(1)), ..HostOptions::default() };
            let mut q = HostQueue::open(addr, &opts).await.unwrap();
            let done = q.connect(NQN, 1, 7, 1).await;
            assert!(matches!(&done, Err(InitiatorError::Auth(_))), "{what}: {done:?}");
            assert!(
                matches!(q.start_read(1, 0, 1, 512).await, Err(InitiatorError::Broken(_))),
                "{what}: the queue takes nothing more"
            );
            // The host hung up without being dropped: the controller's reads ended.
            let sent = tokio::time::timeout(Duration::from_secs(5), controller).await;
            let sent = sent.unwrap_or_else(|_| panic!("{what}: the queue stayed open")).unwrap();
            let (Some(AuthMessage::Negotiate(_)), Some(AuthMessage::Failure2(f))) =
                (sent.first(), sent.last())
            else {
                panic!("{what}: {sent:?}")
            };
            assert_eq!(
                (f.tid, f.reason, f.explanation),
                (1, failure::REASON_FAILED, explanation),
                "{what}"
            );
            drop(q);
        }
    }
}
