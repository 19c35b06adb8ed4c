//! The AF_PACKET backend: a TPACKET_V3 receive ring per interface and batched sendmmsg.
//!
//! The kernel hands whole blocks of frames to user space; each frame carries a
//! `tpacket3_hdr`. On interfaces with VLAN receive offload (veth among them) the kernel
//! strips the 802.1Q tag into that header (`TP_STATUS_VLAN_VALID`, `hv1.tp_vlan_tci`); the
//! frame is rebuilt with the tag in place, so the pipeline always sees the wire format.

use std::os::fd::{AsFd, BorrowedFd};

use dpu_wire::EtherType;

use super::sys::{PacketSocket, RingConfig};
use super::{IoError, PortIo, TxStats};
use crate::packet::{BufPool, HEADROOM, PacketBuf, PortId, Rx};

/// At most this many blocks are drained per [`PortIo::recv_burst`] (fairness between ports).
const MAX_BLOCKS_PER_BURST: usize = 4;

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

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(off..off + 2)?.try_into().ok()?))
}

/// A frame found in a ring block.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RingFrame<'a> {
    pub data: &'a [u8],
    /// `(tpid, tci)` the kernel stripped.
    pub vlan: Option<(u16, u16)>,
    /// Captured shorter than it was on the wire.
    pub truncated: bool,
    /// The sender left the L4 checksum to offload (`TP_STATUS_CSUMNOTREADY`).
    pub csum_pending: bool,
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
        let Some(data) = block.get(start..start + snap as usize) else { return };
        let vlan = (status & libc::TP_STATUS_VLAN_VALID != 0).then(|| {
            let tci = u32_at(hdr, PKT_VLAN_TCI).unwrap_or(0) as u16;
            let tpid = if status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
                u16_at(hdr, PKT_VLAN_TPID).unwrap_or(EtherType::VLAN.0)
            } else {
                EtherType::VLAN.0
            };
            (tpid, tci)
        });
        let csum_pending = status & libc::TP_STATUS_CSUMNOTREADY != 0;
        f(RingFrame { data, vlan, truncated: snap < len, csum_pending });
        if next == 0 {
            return;
        }
        off += next as usize;
    }
}

/// A packet buffer from `pool` holding `data` with the stripped tag re-inserted after the MAC
/// addresses.
pub(crate) fn rebuild(pool: &mut BufPool, data: &[u8], vlan: Option<(u16, u16)>) -> PacketBuf {
    match vlan {
        Some((tpid, tci)) if data.len() >= 12 => pool.filled(data.len() + 4, |f| {
            f[..12].copy_from_slice(&data[..12]);
            f[12..14].copy_from_slice(&tpid.to_be_bytes());
            f[14..16].copy_from_slice(&tci.to_be_bytes());
            f[16..].copy_from_slice(&data[12..]);
        }),
        _ => pool.copy_of(data),
    }
}

/// One interface.
#[derive(Debug)]
pub struct AfPacketPort {
    name: String,
    sock: PacketSocket,
    next_block: usize,
    truncated: u64,
}

impl AfPacketPort {
    /// Opens `ifname` with the default ring.
    pub fn open(ifname: &str) -> Result<Self, IoError> {
        Self::open_with(ifname, RingConfig::default())
    }

    /// Opens `ifname` for sending only (no ring; it receives nothing): the port as seen by a
    /// worker that does not own its receive side.
    pub fn open_send_only(ifname: &str) -> Result<Self, IoError> {
        let sock = PacketSocket::open_send_only(ifname)
            .map_err(|source| IoError::Open { ifname: ifname.to_owned(), source })?;
        Ok(AfPacketPort { name: ifname.to_owned(), sock, next_block: 0, truncated: 0 })
    }

    /// Opens `ifname` with the given ring geometry.
    pub fn open_with(ifname: &str, cfg: RingConfig) -> Result<Self, IoError> {
        let sock = PacketSocket::open(ifname, cfg)
            .map_err(|source| IoError::Open { ifname: ifname.to_owned(), source })?;
        Ok(AfPacketPort { name: ifname.to_owned(), sock, next_block: 0, truncated: 0 })
    }
}

impl PortIo for AfPacketPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.sock.as_fd())
    }

    fn receives(&self) -> bool {
        self.sock.receives()
    }

    fn recv_burst(
        &mut self,
        port: PortId,
        pool: &mut BufPool,
        out: &mut Vec<Rx>,
    ) -> Result<usize, IoError> {
        let mut n = 0;
        let count = self.sock.block_count();
        for _ in 0..MAX_BLOCKS_PER_BURST {
            let mut truncated = 0;
            let got = self.sock.with_block(self.next_block, |block| {
                parse_block(block, |f| {
                    if f.truncated {
                        truncated += 1;
                        return;
                    }
                    let mut buf = rebuild(pool, f.data, f.vlan);
                    if f.csum_pending {
                        crate::offload::complete_l4_checksum(buf.frame_mut());
                    }
                    out.push(Rx { port, buf });
                    n += 1;
                })
            });
            self.truncated += truncated;
            if got.is_none() {
                break;
            }
            self.next_block = (self.next_block + 1) % count.max(1);
        }
        Ok(n)
    }

    fn send_burst(&mut self, frames: &[PacketBuf]) -> Result<TxStats, IoError> {
        let slices: Vec<&[u8]> = frames.iter().map(PacketBuf::frame).collect();
        let sent = self
            .sock
            .send_batch(&slices)
            .map_err(|source| IoError::Send { ifname: self.name.clone(), source })?;
        Ok(TxStats { sent, dropped: frames.len() - sent })
    }

    fn check_error(&mut self) -> Result<(), IoError> {
        // Reading SO_ERROR clears it (else poll reports it forever). A link that went down and
        // up keeps its ifindex and the socket works again; a deleted interface does not.
        let err = self.sock.take_error();
        match nix::net::if_::if_nametoindex(self.name.as_str()) {
            Ok(i) if i == self.sock.ifindex() => Ok(()),
            _ => Err(IoError::Lost {
                ifname: self.name.clone(),
                source: err.unwrap_or_else(|| std::io::Error::other("no such interface")),
            }),
        }
    }

    fn still_bound(&self) -> bool {
        nix::net::if_::if_nametoindex(self.name.as_str()).is_ok_and(|i| i == self.sock.ifindex())
    }

    fn kernel_drops(&mut self) -> u64 {
        let ring = self.sock.take_stats().map_or(0, |(_, d)| u64::from(d));
        ring + std::mem::take(&mut self.truncated)
    }
}

const _: () = assert!(HEADROOM >= 64);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn block_with(frames: &[(&[u8], u32, u16)]) -> Vec<u8> {
        let mut b = vec![0u8; 4096];
        b[BLK_NUM_PKTS..BLK_NUM_PKTS + 4].copy_from_slice(&(frames.len() as u32).to_ne_bytes());
        b[BLK_FIRST_PKT..BLK_FIRST_PKT + 4].copy_from_slice(&48u32.to_ne_bytes());
        let mut off = 48;
        for (i, (data, status, tci)) in frames.iter().enumerate() {
            let mac = 66u16; // header + sockaddr_ll, as the kernel lays it out
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
        parse_block(&block, |f| {
            seen.push((f.data.to_vec(), f.vlan, f.truncated || f.csum_pending))
        });
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0], (plain.clone(), None, false));
        assert_eq!(seen[1].1, Some((0x8100, 0x2064)));
        let b = rebuild(&mut BufPool::default(), &seen[1].0, seen[1].1);
        assert_eq!(b.len(), 64);
        assert_eq!(&b.frame()[12..16], &[0x81, 0x00, 0x20, 0x64]);
        assert_eq!(&b.frame()[16..], &plain[12..]);
        assert_eq!(&b.frame()[..12], &plain[..12]);
    }

    #[test]
    fn never_panics_on_corrupt_blocks() {
        let plain = [0xabu8; 60];
        let good = block_with(&[(&plain, 1, 0), (&plain, 1, 0)]);
        let mut x: u64 = 0x1234_5678_9abc_def0;
        let mut pool = BufPool::default();
        for _ in 0..20_000 {
            let mut b = good.clone();
            for _ in 0..4 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let i = (x as usize) % 700;
                b[i] = (x >> 32) as u8;
            }
            let len = (x >> 40) as usize % b.len();
            parse_block(&b[..len], |f| {
                let b = rebuild(&mut pool, f.data, f.vlan);
                pool.put(b);
            });
        }
    }
}
