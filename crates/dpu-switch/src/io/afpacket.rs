//! The AF_PACKET backend: a memory-mapped receive ring per interface (TPACKET_V2 frame slots
//! by default, TPACKET_V3 blocks on request) and batched sendmmsg.
//!
//! Each frame in the ring carries a `tpacket2_hdr` or `tpacket3_hdr`. On interfaces with
//! VLAN receive offload (veth among them) the kernel strips the 802.1Q tag into that header
//! (`TP_STATUS_VLAN_VALID`, `tp_vlan_tci`); the frame is rebuilt with the tag in place, so
//! the pipeline always sees the wire format.

use std::os::fd::{AsFd, BorrowedFd};

use dpu_wire::EtherType;

use super::gso;
use super::sys::{PacketSocket, RingConfig, RingVersion};
use super::{IoError, PortIo, TxStats};
use crate::counters::TxDrops;
use crate::packet::{BufPool, HEADROOM, PacketBuf, PortId, Rx};

/// At most this many V3 blocks are drained per [`PortIo::recv_burst`] (fairness between ports).
const MAX_BLOCKS_PER_BURST: usize = 4;
/// At most this many V2 frames are drained per [`PortIo::recv_burst`].
const MAX_FRAMES_PER_BURST: usize = 256;

/// Offsets in `struct tpacket_block_desc` / `tpacket_hdr_v1`.
const BLK_NUM_PKTS: usize = 12;
const BLK_FIRST_PKT: usize = 16;
/// Offsets in `struct tpacket3_hdr`.
const PKT_NEXT: usize = 0;
const PKT_SNAPLEN: usize = 12;
const PKT_LEN: usize = 16;
const PKT_STATUS: usize = 20;
const PKT_MAC: usize = 24;
const PKT_VLAN_TCI: usize = 32;
const PKT_VLAN_TPID: usize = 36;
const PKT_HDR_LEN: usize = 40;
/// Offsets in `struct tpacket2_hdr`.
const V2_STATUS: usize = 0;
const V2_LEN: usize = 4;
const V2_SNAPLEN: usize = 8;
const V2_MAC: usize = 12;
const V2_VLAN_TCI: usize = 24;
const V2_VLAN_TPID: usize = 26;
const V2_HDR_LEN: usize = 32;

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(off..off + 2)?.try_into().ok()?))
}

/// A frame found in the ring.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RingFrame<'a> {
    pub data: &'a [u8],
    /// `(tpid, tci)` the kernel stripped.
    pub vlan: Option<(u16, u16)>,
    /// Captured shorter than it was on the wire, and not queued whole either: lost.
    pub truncated: bool,
    /// The slot holds a truncated copy and the whole frame waits on the socket
    /// (`TP_STATUS_COPY`, a frame larger than a V2 slot): `wire_len` octets.
    pub queued: bool,
    /// The frame's length on the wire.
    pub wire_len: usize,
    /// The frame's `virtio_net_hdr`.
    pub vnet: [u8; gso::VNET_HDR_LEN],
}

impl<'a> RingFrame<'a> {
    /// The frame `data` with the meaning of its header's status word and lengths (the same
    /// bits in V2 and V3) and its `virtio_net_hdr` `vnet`; `tci`/`tpid` are read only when
    /// the status says they are valid.
    fn new(
        data: &'a [u8],
        vnet: [u8; gso::VNET_HDR_LEN],
        status: u32,
        wire_len: u32,
        tci: impl FnOnce() -> Option<u16>,
        tpid: impl FnOnce() -> Option<u16>,
    ) -> Self {
        let vlan = (status & libc::TP_STATUS_VLAN_VALID != 0).then(|| {
            let tpid = if status & libc::TP_STATUS_VLAN_TPID_VALID != 0 { tpid() } else { None };
            (tpid.unwrap_or(EtherType::VLAN.0), tci().unwrap_or(0))
        });
        let queued = status & libc::TP_STATUS_COPY != 0;
        RingFrame {
            data,
            vlan,
            truncated: !queued && (data.len() as u64) < u64::from(wire_len),
            queued,
            wire_len: wire_len as usize,
            vnet,
        }
    }
}

/// The `virtio_net_hdr` the kernel writes just before the MAC header at `mac` in `slot`.
fn vnet_at(slot: &[u8], mac: usize) -> Option<[u8; gso::VNET_HDR_LEN]> {
    slot.get(mac.checked_sub(gso::VNET_HDR_LEN)?..mac)?.try_into().ok()
}

/// Walks the frames of one TPACKET_V3 block; stops at the first inconsistent offset.
pub(crate) fn parse_block(block: &[u8], mut f: impl FnMut(RingFrame<'_>)) {
    let (Some(n), Some(off)) = (u32_at(block, BLK_NUM_PKTS), u32_at(block, BLK_FIRST_PKT)) else {
        return;
    };
    let mut off = off as usize;
    for _ in 0..n {
        let Some(hdr) = block.get(off..off + PKT_HDR_LEN) else { return };
        let (Some(next), Some(snap), Some(len), Some(status), Some(mac)) = (
            u32_at(hdr, PKT_NEXT),
            u32_at(hdr, PKT_SNAPLEN),
            u32_at(hdr, PKT_LEN),
            u32_at(hdr, PKT_STATUS),
            u16_at(hdr, PKT_MAC),
        ) else {
            return;
        };
        let start = off + usize::from(mac);
        if usize::from(mac) < PKT_HDR_LEN + gso::VNET_HDR_LEN {
            return;
        }
        let Some(vnet) = vnet_at(block, start) else { return };
        let Some(data) = block.get(start..start + snap as usize) else { return };
        let tci = || u32_at(hdr, PKT_VLAN_TCI).map(|t| t as u16);
        f(RingFrame::new(data, vnet, status, len, tci, || u16_at(hdr, PKT_VLAN_TPID)));
        if next == 0 {
            return;
        }
        off += next as usize;
    }
}

/// The frame in one TPACKET_V2 slot; `None` when its header's offsets or lengths do not fit
/// the slot.
pub(crate) fn parse_frame(slot: &[u8]) -> Option<RingFrame<'_>> {
    let hdr = slot.get(..V2_HDR_LEN)?;
    let status = u32_at(hdr, V2_STATUS)?;
    let len = u32_at(hdr, V2_LEN)?;
    let snap = usize::try_from(u32_at(hdr, V2_SNAPLEN)?).ok()?;
    let mac = usize::from(u16_at(hdr, V2_MAC)?);
    if mac < V2_HDR_LEN + gso::VNET_HDR_LEN {
        return None;
    }
    let vnet = vnet_at(slot, mac)?;
    let data = slot.get(mac..mac.checked_add(snap)?)?;
    let tci = || u16_at(hdr, V2_VLAN_TCI);
    Some(RingFrame::new(data, vnet, status, len, tci, || u16_at(hdr, V2_VLAN_TPID)))
}

/// A packet buffer from `pool` holding `data` with the stripped tag re-inserted after the MAC
/// addresses.
pub(crate) fn rebuild(pool: &mut BufPool, data: &[u8], vlan: Option<(u16, u16)>) -> PacketBuf {
    match vlan {
        Some(tag) if data.len() >= 12 => pool.filled(data.len() + 4, |f| {
            f[..12].copy_from_slice(&data[..12]);
            put_tag(f, tag);
            f[16..].copy_from_slice(&data[12..]);
        }),
        _ => pool.copy_of(data),
    }
}

/// The frames of a send burst `frames` that none of the messages `sent` carried (in
/// order, each a run of frames): those after the last sent, and those sent with no message
/// (a frame the kernel would refuse).
fn unsent(frames: &[PacketBuf], sent: &[gso::Run]) -> TxDrops {
    let mut dropped = TxDrops::default();
    let mut next = 0;
    for run in sent {
        dropped += TxDrops::of(frames.get(next..run.first).unwrap_or_default());
        next = run.first + run.count;
    }
    dropped += TxDrops::of(frames.get(next..).unwrap_or_default());
    dropped
}

/// Writes the 802.1Q tag `(tpid, tci)` after the MAC addresses of `f` (at least 16 octets).
fn put_tag(f: &mut [u8], (tpid, tci): (u16, u16)) {
    f[12..14].copy_from_slice(&tpid.to_be_bytes());
    f[14..16].copy_from_slice(&tci.to_be_bytes());
}

/// Gives the received frame `buf` what its `virtio_net_hdr` says and appends it to `out` as
/// the pipeline takes it: a plain frame (its checksum maybe pending), or a TCP super-frame
/// the pipeline may forward whole. A super-frame the kernel could not be handed back whole
/// (not a plain frame, [`crate::fastkey`]; a stale checksum) is cut into its segments here;
/// false when the frame is dropped (a segmentation the switch does not do).
pub(crate) fn accept(
    port: PortId,
    mut buf: PacketBuf,
    vnet: &[u8; gso::VNET_HDR_LEN],
    out: &mut Vec<Rx>,
) -> bool {
    let (v6, ecn, size, stale) = match gso::received(vnet) {
        gso::Received::Plain { csum_pending, csum_valid } => {
            buf.set_csum_pending(csum_pending);
            buf.set_csum_valid(csum_valid);
            out.push(Rx { port, buf });
            return true;
        }
        gso::Received::Tcp { v6, ecn, size } => (v6, ecn, size, false),
        gso::Received::TcpStale { v6, ecn, size } => (v6, ecn, size, true),
        gso::Received::Unsupported => return false,
    };
    let Some(g) = crate::offload::tcp_gso(buf.frame(), size, ecn).filter(|g| g.v6 == v6) else {
        // Not a super-frame after all: passed on as it is (an oversized frame the MTU check
        // drops), its checksum as the header said.
        buf.set_csum_pending(!stale);
        out.push(Rx { port, buf });
        return true;
    };
    buf.set_gso(Some(g));
    let plain = crate::fastkey::extract(buf.frame()).is_some();
    if plain && !stale {
        out.push(Rx { port, buf });
    } else if !crate::offload::segment(&buf, |s| out.push(Rx { port, buf: s })) {
        return false;
    }
    true
}

/// What a ring slot says of a frame that waits whole on the socket: its length, the tag the
/// kernel stripped and the first octets of it (the slot's truncated copy), which pair the
/// slot with the frame the socket hands over.
#[derive(Debug)]
struct Queued {
    wire_len: usize,
    vlan: Option<(u16, u16)>,
    prefix: [u8; Queued::PREFIX],
    prefix_len: usize,
}

impl Queued {
    /// Octets compared: Ethernet, IP and TCP headers with the sequence number.
    const PREFIX: usize = 64;
    /// Largest frame taken from the socket (a GRO super-frame is at most 64 KiB by default).
    const MAX_LEN: usize = 256 << 10;
    /// Frames read from the socket for one slot at the most: a frame left at the head of
    /// the queue by a failed read is skipped, so slots and frames pair up again.
    const MAX_READS: usize = 4;

    fn of(f: &RingFrame<'_>) -> Self {
        let prefix_len = f.data.len().min(Self::PREFIX);
        let mut prefix = [0u8; Self::PREFIX];
        prefix[..prefix_len].copy_from_slice(&f.data[..prefix_len]);
        Queued { wire_len: f.wire_len, vlan: f.vlan, prefix, prefix_len }
    }
}

/// Takes the frame its ring slot said waits whole on `sock` (`q`), into a buffer from
/// `pool` with the tag the kernel stripped (from the slot) re-inserted. Frames the socket
/// hands over that do not begin as the slot's copy (one a failed read left behind) are
/// skipped. `None`, the slot's frame lost, when none of a few reads is it, or it is larger
/// than [`Queued::MAX_LEN`] (then consumed and dropped).
fn receive_queued(
    sock: &PacketSocket,
    pool: &mut BufPool,
    q: &Queued,
) -> Option<(PacketBuf, [u8; gso::VNET_HDR_LEN])> {
    take_queued(|hdr, frame| sock.recv_queued(hdr, frame), pool, q)
}

/// [`receive_queued`] over `recv`, which takes the next queued frame as
/// [`PacketSocket::recv_queued`] does.
fn take_queued(
    mut recv: impl FnMut(&mut [u8; gso::VNET_HDR_LEN], &mut [u8]) -> std::io::Result<usize>,
    pool: &mut BufPool,
    q: &Queued,
) -> Option<(PacketBuf, [u8; gso::VNET_HDR_LEN])> {
    let mut vnet = [0u8; gso::VNET_HDR_LEN];
    if q.wire_len > Queued::MAX_LEN {
        let _ = recv(&mut vnet, &mut [0u8; Queued::PREFIX]);
        return None;
    }
    let tag = if q.vlan.is_some() { 4 } else { 0 };
    let mut buf = pool.filled(q.wire_len + tag, |_| {});
    let mut found = false;
    for _ in 0..Queued::MAX_READS {
        let f = buf.frame_mut();
        match recv(&mut vnet, &mut f[tag..]) {
            Ok(n) if n == q.wire_len && f[tag..tag + q.prefix_len] == q.prefix[..q.prefix_len] => {
                found = true;
                break;
            }
            Ok(_) => {}
            // Nothing queued: the frame is not there.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            // A pending socket error fails one read and is cleared by it; try again.
            Err(_) => {}
        }
    }
    if !found {
        pool.put(buf);
        return None;
    }
    if let (Some(tag), f) = (q.vlan, buf.frame_mut())
        && f.len() >= 16
    {
        f.copy_within(4..16, 0);
        put_tag(f, tag);
    }
    Some((buf, vnet))
}

/// One interface.
#[derive(Debug)]
pub struct AfPacketPort {
    name: String,
    /// The socket with the receive ring; none on a send-only port.
    rx: Option<PacketSocket>,
    /// The send-only socket frames leave through (with a `virtio_net_hdr` each).
    tx: PacketSocket,
    /// The next ring slot (V2 frame or V3 block) the kernel fills.
    next_slot: usize,
    /// Frames lost to truncation or malformed ring entries since the last
    /// [`PortIo::kernel_drops`].
    truncated: u64,
    /// Merge consecutive segments of a TCP stream into super-frames the kernel segments
    /// ([`gso`]).
    coalesce_tcp: bool,
    /// The runs of a send burst, the super-frames built for it and how each run is sent
    /// (kept between bursts).
    runs: Vec<gso::Run>,
    merged: Vec<Vec<u8>>,
    plans: Vec<Option<([u8; gso::VNET_HDR_LEN], usize)>>,
    /// The `virtio_net_hdr` of each frame of a send burst sent alone.
    /// (none: a frame the kernel would refuse, dropped).
    headers: Vec<Option<[u8; gso::VNET_HDR_LEN]>>,
    /// The frames each message of a send burst stands for (kept between bursts).
    carried: Vec<gso::Run>,
    /// The messages of a send burst the kernel refused, by index (kept between bursts).
    refused: Vec<usize>,
}

impl AfPacketPort {
    /// Opens `ifname` with the default ring for a port of `mtu`.
    pub fn open(ifname: &str, mtu: u16) -> Result<Self, IoError> {
        warn_if_interface_mtu_below(ifname, mtu);
        Self::open_with(ifname, RingConfig::for_port(RingVersion::default(), mtu))
    }

    /// Opens `ifname` for sending only (no ring; it receives nothing): the port as seen by a
    /// worker that does not own its receive side.
    pub fn open_send_only(ifname: &str) -> Result<Self, IoError> {
        Self::build(ifname, None)
    }

    /// Opens `ifname` with the given ring geometry.
    pub fn open_with(ifname: &str, cfg: RingConfig) -> Result<Self, IoError> {
        Self::build(ifname, Some(cfg))
    }

    fn build(ifname: &str, ring: Option<RingConfig>) -> Result<Self, IoError> {
        let opened = |r: std::io::Result<PacketSocket>| {
            r.map_err(|source| IoError::Open { ifname: ifname.to_owned(), source })
        };
        let rx = ring.map(|cfg| opened(PacketSocket::open(ifname, cfg))).transpose()?;
        let tx = opened(PacketSocket::open_send_only(ifname))?;
        Ok(AfPacketPort {
            name: ifname.to_owned(),
            rx,
            tx,
            next_slot: 0,
            truncated: 0,
            coalesce_tcp: true,
            runs: Vec::new(),
            merged: Vec::new(),
            plans: Vec::new(),
            headers: Vec::new(),
            carried: Vec::new(),
            refused: Vec::new(),
        })
    }

    /// Turns the merging of TCP segments into super-frames on or off (on by default).
    pub fn with_tcp_coalescing(mut self, on: bool) -> Self {
        self.coalesce_tcp = on;
        self
    }
}

/// Warns when `ifname`'s own MTU is below the `mtu` configured for its port: the pipeline
/// forwards frames up to the configured MTU and the kernel refuses the larger ones on send
/// (each counted in the port's `tx_dropped`). Returns the interface's MTU when it is below.
pub fn warn_if_interface_mtu_below(ifname: &str, mtu: u16) -> Option<u32> {
    match super::sys::interface_mtu(ifname) {
        Ok(own) if own < u32::from(mtu) => {
            tracing::warn!(
                port = ifname,
                configured_mtu = mtu,
                interface_mtu = own,
                "the interface's MTU is below the port's; larger frames are dropped on send"
            );
            Some(own)
        }
        Ok(_) => None,
        Err(e) => {
            // Opening the port then fails with the reason, or it works and sends show it.
            tracing::debug!(port = ifname, error = %e, "cannot read the interface's MTU");
            None
        }
    }
}

impl PortIo for AfPacketPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        // A send-only port is still polled: its socket reports the interface going away.
        Some(self.rx.as_ref().unwrap_or(&self.tx).as_fd())
    }

    fn receives(&self) -> bool {
        self.rx.is_some()
    }

    fn rx_ready(&self) -> Option<bool> {
        Some(self.rx.as_ref()?.slot_ready(self.next_slot))
    }

    fn recv_burst(
        &mut self,
        port: PortId,
        pool: &mut BufPool,
        out: &mut Vec<Rx>,
    ) -> Result<usize, IoError> {
        let before = out.len();
        // Returns whether the frame was lost. A queued frame is taken from the socket once
        // its slot is released.
        let deliver = |f: RingFrame<'_>, pool: &mut BufPool, out: &mut Vec<Rx>| {
            if f.truncated || f.queued {
                return f.truncated;
            }
            let buf = rebuild(pool, f.data, f.vlan);
            !accept(port, buf, &f.vnet, out)
        };
        let Some(sock) = self.rx.as_mut() else { return Ok(0) };
        let count = sock.slot_count().max(1);
        let version = sock.ring_config().version;
        let max_slots = match version {
            RingVersion::V2 => MAX_FRAMES_PER_BURST,
            RingVersion::V3 => MAX_BLOCKS_PER_BURST,
        };
        let mut truncated = 0;
        // A V2 slot holds one frame: at most one waits on the socket per slot.
        let mut queued = None;
        for _ in 0..max_slots {
            let got = sock.with_slot(self.next_slot, |slot| match version {
                RingVersion::V2 => match parse_frame(slot) {
                    Some(f) if f.queued => queued = Some(Queued::of(&f)),
                    Some(f) => truncated += u64::from(deliver(f, pool, out)),
                    None => truncated += 1,
                },
                RingVersion::V3 => {
                    parse_block(slot, |f| truncated += u64::from(deliver(f, pool, out)))
                }
            });
            if got.is_none() {
                break;
            }
            self.next_slot = (self.next_slot + 1) % count;
            // In the ring's order: the socket queues whole frames in the order of their slots.
            if let Some(q) = queued.take() {
                let kept = receive_queued(sock, pool, &q)
                    .is_some_and(|(buf, vnet)| accept(port, buf, &vnet, out));
                truncated += u64::from(!kept);
            }
        }
        self.truncated += truncated;
        Ok(out.len() - before)
    }

    fn send_burst(&mut self, frames: &mut [PacketBuf]) -> Result<TxStats, IoError> {
        let AfPacketPort { runs, merged, plans, headers, carried, refused, tx, .. } = self;
        // A pending checksum the kernel can complete is left to it; else completed here.
        headers.clear();
        for buf in frames.iter_mut() {
            let header = match (buf.gso(), buf.csum_pending()) {
                // The pipeline sends only plain, untagged super-frames whole, which always
                // get a header; one that did not would be refused as too large (and end the
                // burst there), so it is dropped alone.
                (Some(_), _) => {
                    headers.push(gso::super_frame_header(buf));
                    continue;
                }
                (None, true) => gso::checksum_header(buf.frame()),
                (None, false) => Some(gso::PLAIN),
            };
            headers.push(Some(header.unwrap_or_else(|| {
                buf.complete_csum();
                gso::PLAIN
            })));
        }
        let frames: &[PacketBuf] = frames;
        if self.coalesce_tcp {
            gso::plan(frames, runs);
        } else {
            runs.clear();
            runs.extend((0..frames.len()).map(|first| gso::Run { first, count: 1 }));
        }
        // Super-frames first (the messages borrow them): run i goes out as `merged[k]` with
        // its header when `plans[i]` is `Some((header, k))`, else frame by frame.
        plans.clear();
        let mut k = 0;
        for run in runs.iter() {
            let mut plan = None;
            if run.count > 1 {
                if merged.len() <= k {
                    merged.push(Vec::new());
                }
                if let Some(h) =
                    gso::merge(&frames[run.first..run.first + run.count], &mut merged[k])
                {
                    plan = Some((h, k));
                    k += 1;
                }
            }
            plans.push(plan);
        }
        // One message per super-frame or unmerged frame, in order; `carried` says which
        // frames each stands for, to count what was sent.
        carried.clear();
        for (run, plan) in runs.iter().zip(plans.iter()) {
            match plan {
                Some(_) => carried.push(*run),
                None => carried.extend(
                    (run.first..run.first + run.count)
                        .filter(|&i| headers[i].is_some())
                        .map(|first| gso::Run { first, count: 1 }),
                ),
            }
        }
        let (merged, headers): (&[Vec<u8>], &[Option<[u8; gso::VNET_HDR_LEN]>]) = (merged, headers);
        let msgs = runs.iter().zip(plans.iter()).flat_map(|(run, plan)| {
            let (super_frame, singles) = match plan {
                Some((h, k)) => (Some((h, merged[*k].as_slice())), 0..0),
                None => (None, run.first..run.first + run.count),
            };
            let single = move |i: usize| Some((headers[i].as_ref()?, frames[i].frame()));
            super_frame.into_iter().chain(singles.filter_map(single))
        });
        let taken = tx
            .send_batch(msgs, refused)
            .map_err(|source| IoError::Send { ifname: self.name.clone(), source })?;
        // What the kernel refused (a frame over the interface's MTU) is dropped alone; what
        // it did not take (a full queue) is dropped too.
        carried.truncate(taken);
        let mut refused_frames = 0;
        let mut msg = 0;
        carried.retain(|run| {
            let keep = refused.binary_search(&msg).is_err();
            msg += 1;
            if !keep {
                refused_frames += run.count;
            }
            keep
        });
        let sent = carried.iter().map(|r| r.count).sum();
        let dropped =
            if sent == frames.len() { TxDrops::default() } else { unsent(frames, carried) };
        Ok(TxStats { sent, dropped, refused: refused_frames })
    }

    fn check_error(&mut self) -> Result<(), IoError> {
        // Reading SO_ERROR clears it (else poll reports it forever). A link that went down and
        // up keeps its ifindex and the socket works again; a deleted interface does not.
        let err = self.rx.as_ref().and_then(PacketSocket::take_error);
        let err = self.tx.take_error().or(err);
        match nix::net::if_::if_nametoindex(self.name.as_str()) {
            Ok(i) if i == self.tx.ifindex() => Ok(()),
            _ => Err(IoError::Lost {
                ifname: self.name.clone(),
                source: err.unwrap_or_else(|| std::io::Error::other("no such interface")),
            }),
        }
    }

    fn still_bound(&self) -> bool {
        nix::net::if_::if_nametoindex(self.name.as_str()).is_ok_and(|i| i == self.tx.ifindex())
    }

    fn kernel_drops(&mut self) -> u64 {
        let ring = self.rx.as_ref().and_then(|s| s.take_stats().ok()).map_or(0, |(_, d)| d);
        let ring = u64::from(ring);
        ring + std::mem::take(&mut self.truncated)
    }
}

const _: () = assert!(HEADROOM >= 64);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A burst's frames left out of the messages sent (one the kernel would refuse, sent
    /// with none, and those after the last sent) are its drops, a super-frame with the
    /// segments and octets it stood for.
    #[test]
    fn the_frames_no_sent_message_carried_are_dropped() {
        let plain = |seq| PacketBuf::from_frame(&gso::tests::seg(seq, 100, 0));
        let mut whole = PacketBuf::from_frame(&gso::tests::seg(1, 3500, 0));
        whole.set_gso(crate::offload::tcp_gso(whole.frame(), 1000, false));
        let frames = [plain(1), whole.clone(), plain(2), plain(3), plain(4)];
        let run = |first, count| gso::Run { first, count };
        // Frame 0 alone, 2 and 3 merged; 1 had no message, 4's was not taken.
        let d = unsent(&frames, &[run(0, 1), run(2, 2)]);
        let p = &frames[0];
        assert_eq!(
            d,
            TxDrops { frames: 2, segments: 4 + 1, bytes: whole.wire_bytes() + p.wire_bytes() }
        );
        assert_eq!(unsent(&frames, &[]), TxDrops::of(&frames));
        assert_eq!(unsent(&frames[..1], &[run(0, 1)]), TxDrops::default());
    }

    fn block_with(frames: &[(&[u8], u32, u16)]) -> Vec<u8> {
        let mut b = vec![0u8; 4096];
        b[BLK_NUM_PKTS..BLK_NUM_PKTS + 4].copy_from_slice(&(frames.len() as u32).to_ne_bytes());
        b[BLK_FIRST_PKT..BLK_FIRST_PKT + 4].copy_from_slice(&48u32.to_ne_bytes());
        let mut off = 48;
        for (i, (data, status, tci)) in frames.iter().enumerate() {
            let mac = 76u16; // header + sockaddr_ll + virtio_net_hdr, as the kernel lays it out
            let next = if i + 1 == frames.len() { 0 } else { 256u32 };
            b[off..off + 4].copy_from_slice(&next.to_ne_bytes());
            b[off + PKT_SNAPLEN..off + PKT_SNAPLEN + 4]
                .copy_from_slice(&(data.len() as u32).to_ne_bytes());
            b[off + PKT_LEN..off + PKT_LEN + 4].copy_from_slice(&(data.len() as u32).to_ne_bytes());
            b[off + PKT_STATUS..off + PKT_STATUS + 4].copy_from_slice(&status.to_ne_bytes());
            b[off + PKT_MAC..off + PKT_MAC + 2].copy_from_slice(&mac.to_ne_bytes());
            b[off + PKT_VLAN_TCI..off + PKT_VLAN_TCI + 4]
                .copy_from_slice(&u32::from(*tci).to_ne_bytes());
            let s = off + usize::from(mac);
            b[s..s + data.len()].copy_from_slice(data);
            off += 256;
        }
        b
    }

    #[test]
    fn walks_blocks_and_reinserts_stripped_tags() {
        let plain: Vec<u8> = (0..60).collect();
        let block = block_with(&[(&plain, 1, 0), (&plain, 1 | libc::TP_STATUS_VLAN_VALID, 0x2064)]);
        let mut seen = Vec::new();
        parse_block(&block, |f| seen.push((f.data.to_vec(), f.vlan, f.truncated || f.queued)));
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0], (plain.clone(), None, false));
        assert_eq!(seen[1].1, Some((0x8100, 0x2064)));
        let b = rebuild(&mut BufPool::default(), &seen[1].0, seen[1].1);
        assert_eq!(b.len(), 64);
        assert_eq!(&b.frame()[12..16], &[0x81, 0x00, 0x20, 0x64]);
        assert_eq!(&b.frame()[16..], &plain[12..]);
        assert_eq!(&b.frame()[..12], &plain[..12]);
    }

    /// `good` with `edits` random octets among the first `span` overwritten (xorshift64 from
    /// `x`: reproducible), and a random length to cut it to.
    fn corrupted(good: &[u8], x: &mut u64, edits: usize, span: usize) -> (Vec<u8>, usize) {
        let mut b = good.to_vec();
        for _ in 0..edits {
            let r = crate::testutil::xorshift(x);
            b[(r as usize) % span] = (r >> 32) as u8;
        }
        let len = (*x >> 40) as usize % b.len();
        (b, len)
    }

    #[test]
    fn never_panics_on_corrupt_blocks() {
        let plain = [0xabu8; 60];
        let good = block_with(&[(&plain, 1, 0), (&plain, 1, 0)]);
        let mut x: u64 = 0x1234_5678_9abc_def0;
        let mut pool = BufPool::default();
        for _ in 0..20_000 {
            let (b, len) = corrupted(&good, &mut x, 4, 700);
            parse_block(&b[..len], |f| {
                let b = rebuild(&mut pool, f.data, f.vlan);
                pool.put(b);
            });
        }
    }
    /// A V2 frame slot of `size` bytes holding `data` the way the kernel lays it out.
    fn slot_with(
        size: usize,
        data: &[u8],
        wire_len: usize,
        status: u32,
        tci: u16,
        tpid: u16,
    ) -> Vec<u8> {
        let mut s = vec![0u8; size];
        let mac = 76u16; // TPACKET_ALIGN(TPACKET2_HDRLEN + 16) + 10 - 14
        s[V2_STATUS..V2_STATUS + 4].copy_from_slice(&status.to_ne_bytes());
        s[V2_LEN..V2_LEN + 4].copy_from_slice(&(wire_len as u32).to_ne_bytes());
        s[V2_SNAPLEN..V2_SNAPLEN + 4].copy_from_slice(&(data.len() as u32).to_ne_bytes());
        s[V2_MAC..V2_MAC + 2].copy_from_slice(&mac.to_ne_bytes());
        s[V2_VLAN_TCI..V2_VLAN_TCI + 2].copy_from_slice(&tci.to_ne_bytes());
        s[V2_VLAN_TPID..V2_VLAN_TPID + 2].copy_from_slice(&tpid.to_ne_bytes());
        let m = usize::from(mac);
        s[m..m + data.len()].copy_from_slice(data);
        s
    }

    #[test]
    fn v2_frames_carry_stripped_tags_and_checksum_state() {
        let plain: Vec<u8> = (0..60).collect();
        let user = libc::TP_STATUS_USER;
        let f = slot_with(256, &plain, 60, user, 0, 0);
        assert_eq!(
            parse_frame(&f),
            Some(RingFrame {
                data: &plain,
                vlan: None,
                truncated: false,
                queued: false,
                wire_len: 60,
                vnet: [0; gso::VNET_HDR_LEN],
            })
        );
        // A tag without TPID_VALID is 802.1Q; with it, the TPID the kernel reports (802.1ad).
        let tagged = slot_with(256, &plain, 60, user | libc::TP_STATUS_VLAN_VALID, 0x2064, 0x88a8);
        assert_eq!(parse_frame(&tagged).unwrap().vlan, Some((0x8100, 0x2064)));
        let status = user | libc::TP_STATUS_VLAN_VALID | libc::TP_STATUS_VLAN_TPID_VALID;
        let qinq = slot_with(256, &plain, 60, status, 0x0005, 0x88a8);
        let parsed = parse_frame(&qinq).unwrap();
        assert_eq!(parsed.vlan, Some((0x88a8, 0x0005)));
        let b = rebuild(&mut BufPool::default(), parsed.data, parsed.vlan);
        assert_eq!(&b.frame()[12..16], &[0x88, 0xa8, 0x00, 0x05]);
        // The checksum state and segmentation come in the virtio_net_hdr before the frame.
        let mut pending = slot_with(256, &plain, 60, user | libc::TP_STATUS_CSUMNOTREADY, 0, 0);
        pending[66] = 1; // VIRTIO_NET_HDR_F_NEEDS_CSUM
        let vnet = parse_frame(&pending).unwrap().vnet;
        let plain_pending = gso::Received::Plain { csum_pending: true, csum_valid: false };
        assert_eq!(gso::received(&vnet), plain_pending);
        pending[66] = 2; // VIRTIO_NET_HDR_F_DATA_VALID
        let vnet = parse_frame(&pending).unwrap().vnet;
        let valid = gso::Received::Plain { csum_pending: false, csum_valid: true };
        assert_eq!(gso::received(&vnet), valid);
        pending[66] = 1;
        pending[67] = 1; // GSO_TCPV4, of 1448-octet segments
        pending[70..72].copy_from_slice(&1448u16.to_ne_bytes());
        let vnet = parse_frame(&pending).unwrap().vnet;
        let tcp = gso::Received::Tcp { v6: false, ecn: false, size: 1448 };
        assert_eq!(gso::received(&vnet), tcp);
        pending[67] = 5; // GSO_UDP_L4
        let vnet = parse_frame(&pending).unwrap().vnet;
        assert_eq!(gso::received(&vnet), gso::Received::Unsupported);
    }

    #[test]
    fn v2_frames_larger_than_the_slot_are_truncated() {
        // The kernel copied 100 octets of a 1514-octet frame (snaplen < len).
        let part = [7u8; 100];
        let f = slot_with(256, &part, 1514, libc::TP_STATUS_USER, 0, 0);
        assert!(parse_frame(&f).unwrap().truncated);
        // TP_STATUS_COPY: the slot holds a truncated copy, the whole frame waits on the socket.
        let copy = slot_with(256, &part, 1514, libc::TP_STATUS_USER | libc::TP_STATUS_COPY, 0, 0);
        let f = parse_frame(&copy).unwrap();
        assert!(f.queued && !f.truncated && f.wire_len == 1514);
    }

    /// A socket queue for [`take_queued`]: frames (with their header's first octet) and
    /// errors, taken in order, as recvmsg with MSG_TRUNC would.
    fn queue(
        items: Vec<Result<(u8, Vec<u8>), std::io::ErrorKind>>,
    ) -> impl FnMut(&mut [u8; gso::VNET_HDR_LEN], &mut [u8]) -> std::io::Result<usize> {
        let mut items = std::collections::VecDeque::from(items);
        move |hdr, buf| match items.pop_front() {
            None => Err(std::io::ErrorKind::WouldBlock.into()),
            Some(Err(kind)) => Err(kind.into()),
            Some(Ok((h, frame))) => {
                hdr[0] = h;
                let n = frame.len().min(buf.len());
                buf[..n].copy_from_slice(&frame[..n]);
                Ok(frame.len())
            }
        }
    }

    #[test]
    fn queued_frames_pair_with_their_slots() {
        let frame = |seed: u8, len: usize| -> Vec<u8> {
            (0..len).map(|i| seed.wrapping_add(i as u8)).collect()
        };
        let (a, b) = (frame(1, 3000), frame(2, 3000));
        let slot = |f: &[u8], vlan| {
            let ring = RingFrame {
                data: &f[..100],
                vlan,
                truncated: false,
                queued: true,
                wire_len: f.len(),
                vnet: [0; gso::VNET_HDR_LEN],
            };
            Queued::of(&ring)
        };
        let mut pool = BufPool::default();
        // In order: taken whole, with its header.
        let (buf, vnet) =
            take_queued(queue(vec![Ok((1, a.clone()))]), &mut pool, &slot(&a, None)).unwrap();
        assert_eq!((buf.frame(), vnet[0]), (&a[..], 1));
        // A frame left at the head by a failed read (same length, another frame) and a
        // pending socket error before the slot's own frame: both skipped.
        let q = queue(vec![
            Ok((9, a.clone())),
            Err(std::io::ErrorKind::NetworkDown),
            Ok((2, b.clone())),
        ]);
        let (buf, vnet) = take_queued(q, &mut pool, &slot(&b, None)).unwrap();
        assert_eq!((buf.frame(), vnet[0]), (&b[..], 2));
        // Nothing queued, or never the slot's frame within a few reads: lost.
        assert!(take_queued(queue(vec![]), &mut pool, &slot(&a, None)).is_none());
        let others = (0..8).map(|_| Ok((0, b.clone()))).collect();
        assert!(take_queued(queue(others), &mut pool, &slot(&a, None)).is_none());
        // The stripped tag goes back in after the MAC addresses.
        let (buf, _) =
            take_queued(queue(vec![Ok((0, a.clone()))]), &mut pool, &slot(&a, Some((0x8100, 7))))
                .unwrap();
        assert_eq!(&buf.frame()[..12], &a[..12]);
        assert_eq!(&buf.frame()[12..16], &[0x81, 0x00, 0x00, 0x07]);
        assert_eq!(&buf.frame()[16..], &a[12..]);
        // Larger than any super-frame: consumed, not allocated.
        let mut reads = 0;
        let huge = Queued { wire_len: 1 << 30, ..slot(&a, None) };
        let counting = |_: &mut [u8; gso::VNET_HDR_LEN], b: &mut [u8]| {
            reads += 1;
            assert!(b.len() <= Queued::PREFIX);
            Ok(1 << 30)
        };
        assert!(take_queued(counting, &mut pool, &huge).is_none());
        assert_eq!(reads, 1);
    }

    #[test]
    fn v2_headers_pointing_outside_the_slot_are_refused() {
        let plain = [1u8; 60];
        let good = slot_with(256, &plain, 60, libc::TP_STATUS_USER, 0, 0);
        // Too short for the header; data past the end; MAC offset inside the header.
        assert_eq!(parse_frame(&good[..V2_HDR_LEN - 1]), None);
        assert_eq!(parse_frame(&good[..76 + 59]), None);
        let mut bad = good.clone();
        bad[V2_SNAPLEN..V2_SNAPLEN + 4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(parse_frame(&bad), None);
        let mut bad = good.clone();
        bad[V2_MAC..V2_MAC + 2].copy_from_slice(&8u16.to_ne_bytes());
        assert_eq!(parse_frame(&bad), None);
        let mut bad = good;
        bad[V2_MAC..V2_MAC + 2].copy_from_slice(&u16::MAX.to_ne_bytes());
        assert_eq!(parse_frame(&bad), None);
    }

    #[test]
    fn v2_parser_never_panics_on_corrupt_slots() {
        let plain = [0xabu8; 60];
        let good =
            slot_with(256, &plain, 60, libc::TP_STATUS_USER | libc::TP_STATUS_VLAN_VALID, 3, 0);
        let mut x: u64 = 0x0fed_cba9_8765_4321;
        let mut pool = BufPool::default();
        for _ in 0..20_000 {
            // Header octets overwritten, the slot cut anywhere.
            let (s, len) = corrupted(&good, &mut x, 3, 40);
            if let Some(f) = parse_frame(&s[..len]) {
                assert!(f.data.len() <= len);
                let b = rebuild(&mut pool, f.data, f.vlan);
                pool.put(b);
            }
        }
    }

    #[test]
    fn v2_slots_fit_the_largest_frame_of_the_mtu() {
        use crate::io::sys::v2_frame_size;
        // MAC header at 76 in the slot; Ethernet + two tags + MTU after it; 16-aligned.
        assert_eq!(v2_frame_size(1500), 1600);
        assert_eq!(v2_frame_size(9216), 9328);
        for mtu in [68u16, 1500, 4000, 9000, 9216] {
            let size = v2_frame_size(mtu) as usize;
            assert_eq!(size % 16, 0);
            assert!(size >= 76 + 22 + usize::from(mtu), "{mtu}: {size}");
        }
        // At least 4096 slots at MTU 1500 (51 blocks of 81); jumbo rings are capped at 16 MiB.
        let r = RingConfig::for_port(RingVersion::V2, 1500);
        assert_eq!((r.block_count, r.slot_count()), (51, 4131));
        let r = RingConfig::for_port(RingVersion::V2, 9216);
        assert_eq!((r.block_count, r.slot_count()), (128, 14 * 128));
        assert_eq!(RingConfig::for_port(RingVersion::V3, 9216).slot_count(), 32);
    }
}
