//! The switch's only `unsafe` code: an AF_PACKET socket with a memory-mapped receive ring,
//! TPACKET_V2 or TPACKET_V3 (packet(7), Documentation/networking/packet_mmap.rst), and
//! batched sends with sendmmsg(2).
//!
//! Everything above this module is safe: it sees one slot of the ring (a V2 frame or a V3
//! block) as a `&[u8]` only while the slot belongs to user space, and parses it with
//! bounds-checked reads.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sys::socket::{AddressFamily, SockFlag, SockType, socket};

use super::gso::VNET_HDR_LEN;
use crate::config::DEFAULT_MTU;

/// Offset of `tp_status` in `struct tpacket2_hdr` (the first word of every V2 frame slot).
pub(crate) const FRAME_STATUS_OFFSET: usize = 0;
/// Offset of `hdr.bh1.block_status` in `struct tpacket_block_desc`.
pub(crate) const BLOCK_STATUS_OFFSET: usize = 8;
/// Bytes of Ethernet header plus two VLAN tags (QinQ) a frame may carry above its MTU.
const L2_OVERHEAD: usize = 14 + 2 * 4;
/// The Ethernet header length the kernel assumes when it places a frame in a V2 slot.
const ETH_HLEN: usize = 14;

/// The ring layout (`enum tpacket_versions`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RingVersion {
    /// Fixed frame slots, each with its own ownership word: the kernel wakes a sleeping
    /// reader per frame, so a frame waits only for the wake-up (latency-bound traffic: one
    /// TCP stream's ACKs, ping).
    #[default]
    V2,
    /// Variable-size frames packed into blocks; the kernel hands over a block when it is full
    /// or its retire timer fires, so a lone frame can wait up to that timer (fewer wake-ups
    /// under heavy load, capture-style traffic).
    V3,
}

impl RingVersion {
    /// The `PACKET_VERSION` value.
    fn raw(self) -> libc::c_int {
        match self {
            RingVersion::V2 => libc::tpacket_versions::TPACKET_V2 as libc::c_int,
            RingVersion::V3 => libc::tpacket_versions::TPACKET_V3 as libc::c_int,
        }
    }
}

impl std::fmt::Display for RingVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RingVersion::V2 => "v2",
            RingVersion::V3 => "v3",
        })
    }
}

impl std::str::FromStr for RingVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "v2" => Ok(RingVersion::V2),
            "v3" => Ok(RingVersion::V3),
            other => Err(format!("unknown ring version {other:?} (v2 or v3)")),
        }
    }
}

/// Ring geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingConfig {
    /// Frame slots (V2) or frame blocks (V3).
    pub version: RingVersion,
    /// Bytes per block (a multiple of the page size, a power of two).
    pub block_size: u32,
    /// Number of blocks.
    pub block_count: u32,
    /// V2: bytes per frame slot (a multiple of 16; a larger frame is truncated by the
    /// kernel). V3 packs frames of any size into a block and only checks this value.
    pub frame_size: u32,
    /// V3: a partly filled block is handed to user space after this many milliseconds.
    pub retire_ms: u32,
}

impl Default for RingConfig {
    fn default() -> Self {
        RingConfig::for_port(RingVersion::default(), DEFAULT_MTU)
    }
}

impl RingConfig {
    /// A ring of `version` for a port whose largest L3 payload is `mtu`, in blocks of
    /// 128 KiB. V3: 32 blocks (4 MiB, tens of thousands of small frames). V2: slots just
    /// large enough for the largest frame the port accepts, at least [`V2_MIN_SLOTS`] of
    /// them (a V2 slot holds one frame however small) within [`V2_MAX_BLOCKS`] blocks.
    pub fn for_port(version: RingVersion, mtu: u16) -> Self {
        const BLOCK_SIZE: u32 = 1 << 17;
        let frame_size = v2_frame_size(mtu);
        let block_count = match version {
            RingVersion::V2 => {
                let per_block = (BLOCK_SIZE / frame_size).max(1);
                V2_MIN_SLOTS.div_ceil(per_block).clamp(32, V2_MAX_BLOCKS)
            }
            RingVersion::V3 => 32,
        };
        RingConfig { version, block_size: BLOCK_SIZE, block_count, frame_size, retire_ms: 1 }
    }

    /// Frames per block (V2 slot layout; a frame never straddles two blocks).
    fn frames_per_block(&self) -> usize {
        (self.block_size / self.frame_size.max(1)) as usize
    }

    /// Number of ownership slots: frames (V2) or blocks (V3).
    pub fn slot_count(&self) -> usize {
        match self.version {
            RingVersion::V2 => self.frames_per_block() * self.block_count as usize,
            RingVersion::V3 => self.block_count as usize,
        }
    }

    /// Offset of slot `i` in the mapping, its length and the offset of its status word in it;
    /// `None` past the last slot.
    fn slot(&self, i: usize) -> Option<(usize, usize, usize)> {
        if i >= self.slot_count() {
            return None;
        }
        let bs = self.block_size as usize;
        Some(match self.version {
            RingVersion::V2 => {
                let (fpb, fs) = (self.frames_per_block(), self.frame_size as usize);
                ((i / fpb) * bs + (i % fpb) * fs, fs, FRAME_STATUS_OFFSET)
            }
            RingVersion::V3 => (i * bs, bs, BLOCK_STATUS_OFFSET),
        })
    }
}

/// Receive buffer asked for on a V2 ring's socket, where frames larger than a slot wait.
const QUEUED_BYTES: libc::c_int = 8 << 20;

/// Frame slots a V2 ring should have: about 12 ms of 64-octet frames at the rate one worker
/// forwards over veth, so a worker that is preempted briefly loses nothing.
pub const V2_MIN_SLOTS: u32 = 4096;
/// At most this many 128 KiB blocks (16 MiB) per V2 ring (jumbo MTUs get fewer slots).
pub const V2_MAX_BLOCKS: u32 = 128;

/// The V2 slot size for a port of `mtu`: the kernel puts the MAC header at
/// `TPACKET_ALIGN(TPACKET2_HDRLEN + 16) + sizeof(virtio_net_hdr) - 14` (af_packet.c,
/// `tpacket_rcv`) and truncates a frame that does not fit the rest of the slot; room is left
/// for two VLAN tags. A larger frame (a super-frame the interface's GRO merged) is queued
/// whole on the socket beside its truncated copy ([`PacketSocket::recv_queued`]).
pub(crate) fn v2_frame_size(mtu: u16) -> u32 {
    let align = |x: usize| x.next_multiple_of(libc::TPACKET_ALIGNMENT);
    // The frame's `virtio_net_hdr` comes between the slot's header and the MAC header.
    let mac_offset = align(libc::TPACKET2_HDRLEN + ETH_HLEN.max(16)) + VNET_HDR_LEN - ETH_HLEN;
    align(mac_offset + L2_OVERHEAD + usize::from(mtu)) as u32
}

/// The mapped ring. Unmapped on drop.
#[derive(Debug)]
struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain shared memory owned by this value; access to it goes through
// `&mut PacketSocket` (one thread at a time) and atomics for the status words.
unsafe impl Send for Mapping {}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly what mmap returned; nothing borrows the mapping any
        // more (borrows are tied to `&mut PacketSocket`, which is being dropped).
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// An AF_PACKET socket bound to one interface, with its RX ring.
#[derive(Debug)]
pub struct PacketSocket {
    // Field order matters: the mapping is unmapped before the socket closes.
    /// The RX ring; none on a send-only socket.
    ring: Option<Mapping>,
    fd: OwnedFd,
    cfg: RingConfig,
    ifindex: u32,
    send: SendVectors,
}

/// The sendmmsg(2) argument arrays, kept between calls (no allocation per burst). They hold
/// raw pointers only while [`PacketSocket::send_batch`] runs and are cleared before it returns.
#[derive(Debug, Default)]
struct SendVectors {
    iov: Vec<libc::iovec>,
    msgs: Vec<libc::mmsghdr>,
}

// SAFETY: the vectors are empty whenever the socket is not inside `send_batch` (which takes
// `&mut self`), so no pointer in them is ever used from another thread.
unsafe impl Send for SendVectors {}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(r) }
}

fn setsockopt<T>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    val: &T,
) -> io::Result<()> {
    // SAFETY: `val` points to a live `T` of `size_of::<T>()` bytes for the whole call; the
    // kernel only reads it.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (val as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// A non-blocking raw AF_PACKET socket, protocol 0: it receives nothing until bound.
fn packet_socket() -> io::Result<OwnedFd> {
    socket(
        AddressFamily::Packet,
        SockType::Raw,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(io::Error::from)
}

/// Binds `fd` to interface `ifindex` for `protocol` (host order; 0 receives nothing).
fn bind(fd: BorrowedFd<'_>, ifindex: u32, protocol: u16) -> io::Result<()> {
    // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as libc::c_ushort;
    sll.sll_protocol = protocol.to_be();
    sll.sll_ifindex = ifindex as libc::c_int;
    // SAFETY: `sll` is a valid sockaddr_ll and the length says so.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sll as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

impl PacketSocket {
    /// Opens a raw packet socket on `ifname` to receive: RX ring as `cfg` says, promiscuous,
    /// transmissions on the interface not looped back (`PACKET_IGNORE_OUTGOING`, Linux 4.20:
    /// neither the switch's own, sent through [`PacketSocket::open_send_only`] sockets, nor
    /// the host's). Every frame in the ring follows a `virtio_net_hdr` (`PACKET_VNET_HDR`)
    /// saying whether it is a super-frame and how its checksum stands; with V2 slots, a frame
    /// larger than its slot is also queued whole on the socket (`PACKET_COPY_THRESH`) for
    /// [`PacketSocket::recv_queued`].
    pub fn open(ifname: &str, cfg: RingConfig) -> io::Result<PacketSocket> {
        let ifindex = nix::net::if_::if_nametoindex(ifname).map_err(io::Error::from)?;
        // Protocol 0: the socket receives nothing until bind() names the interface, so no
        // frame of another interface enters the ring.
        let fd = packet_socket()?;
        let one: libc::c_int = 1;
        // Both before the ring exists (the kernel refuses PACKET_VNET_HDR after).
        setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_VNET_HDR, &one)?;
        if cfg.version == RingVersion::V2 {
            setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_COPY_THRESH, &one)?;
            // Room on the socket for a few dozen queued super-frames; without the privilege
            // to exceed `rmem_max`, the ordinary limit.
            let bytes: libc::c_int = QUEUED_BYTES;
            setsockopt(fd.as_fd(), libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &bytes)
                .or_else(|_| setsockopt(fd.as_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF, &bytes))?;
        }
        setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_VERSION, &cfg.version.raw())?;
        let frame_nr = cfg.block_size / cfg.frame_size.max(1) * cfg.block_count;
        match cfg.version {
            RingVersion::V2 => {
                let req = libc::tpacket_req {
                    tp_block_size: cfg.block_size,
                    tp_block_nr: cfg.block_count,
                    tp_frame_size: cfg.frame_size,
                    tp_frame_nr: frame_nr,
                };
                setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_RX_RING, &req)?;
            }
            RingVersion::V3 => {
                let req = libc::tpacket_req3 {
                    tp_block_size: cfg.block_size,
                    tp_block_nr: cfg.block_count,
                    tp_frame_size: cfg.frame_size,
                    tp_frame_nr: frame_nr,
                    tp_retire_blk_tov: cfg.retire_ms,
                    tp_sizeof_priv: 0,
                    tp_feature_req_word: 0,
                };
                setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_RX_RING, &req)?;
            }
        }
        setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, &one)?;
        let len = cfg.block_size as usize * cfg.block_count as usize;
        // SAFETY: a fresh shared mapping of the ring the kernel just allocated for this
        // socket; the result is checked before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ring = Mapping {
            ptr: NonNull::new(ptr.cast()).ok_or_else(|| io::Error::other("mmap returned null"))?,
            len,
        };
        let mreq = libc::packet_mreq {
            mr_ifindex: ifindex as libc::c_int,
            mr_type: libc::PACKET_MR_PROMISC as libc::c_ushort,
            mr_alen: 0,
            mr_address: [0; 8],
        };
        setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq)?;
        bind(fd.as_fd(), ifindex, libc::ETH_P_ALL as u16)?;
        Ok(PacketSocket { ring: Some(ring), fd, cfg, ifindex, send: SendVectors::default() })
    }

    /// Opens a send-only packet socket on `ifname`: no ring, and bound with protocol 0, so
    /// the kernel delivers it nothing (packet(7)); sends handed straight to the driver
    /// (`PACKET_QDISC_BYPASS`, Linux 3.14: a switch port has no use for the host's queueing
    /// discipline, and a full device queue drops, as a NIC ring would); every frame sent is
    /// preceded by a `virtio_net_hdr` (`PACKET_VNET_HDR`, Linux 3.13), which can ask the
    /// kernel to segment and checksum it.
    pub fn open_send_only(ifname: &str) -> io::Result<PacketSocket> {
        let ifindex = nix::net::if_::if_nametoindex(ifname).map_err(io::Error::from)?;
        let fd = packet_socket()?;
        let one: libc::c_int = 1;
        setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_QDISC_BYPASS, &one)?;
        setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_VNET_HDR, &one)?;
        bind(fd.as_fd(), ifindex, 0)?;
        let cfg = RingConfig { block_count: 0, ..RingConfig::default() };
        Ok(PacketSocket { ring: None, fd, cfg, ifindex, send: SendVectors::default() })
    }

    /// True when the socket has an RX ring (it receives).
    pub fn receives(&self) -> bool {
        self.ring.is_some()
    }

    /// Takes (and so clears) the socket's pending error, if any.
    pub fn take_error(&self) -> Option<io::Error> {
        match nix::sys::socket::getsockopt(&self.fd, nix::sys::socket::sockopt::SocketError) {
            Ok(0) => None,
            Ok(e) => Some(io::Error::from_raw_os_error(e)),
            Err(e) => Some(e.into()),
        }
    }

    /// The interface index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The ring's geometry.
    pub fn ring_config(&self) -> &RingConfig {
        &self.cfg
    }

    /// Number of ownership slots in the ring (none on a send-only socket).
    pub fn slot_count(&self) -> usize {
        if self.ring.is_some() { self.cfg.slot_count() } else { 0 }
    }

    /// The status word of slot `i`, with the slot's offset and length.
    fn slot_status(&self, i: usize) -> Option<(&AtomicU32, usize, usize)> {
        let ring = self.ring.as_ref()?;
        let (off, len, status_off) = self.cfg.slot(i)?;
        if off + len > ring.len || status_off + 4 > len {
            return None;
        }
        // SAFETY: the word lies inside the mapping (checked above); it is 4-aligned (slots
        // start at page-aligned blocks plus multiples of 16, the word at 0 or 8 in them); the
        // kernel treats it as the slot's ownership flag and accesses it as a whole word.
        let status = unsafe { AtomicU32::from_ptr(ring.ptr.as_ptr().add(off + status_off).cast()) };
        Some((status, off, len))
    }

    /// True when slot `i` has been handed to user space (one memory read, no system call).
    pub fn slot_ready(&self, i: usize) -> bool {
        self.slot_status(i)
            .is_some_and(|(status, ..)| status.load(Ordering::Acquire) & libc::TP_STATUS_USER != 0)
    }

    /// If slot `i` (a V2 frame or a V3 block) has been handed to user space, calls `f` with
    /// its bytes and hands it back to the kernel. `None` when the kernel still owns it.
    pub fn with_slot<R>(&mut self, i: usize, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let (status, off, len) = self.slot_status(i)?;
        if status.load(Ordering::Acquire) & libc::TP_STATUS_USER == 0 {
            return None;
        }
        let base = self.ring.as_ref()?.ptr.as_ptr();
        // SAFETY: the slot lies inside the mapping (checked by `slot_status`); while its
        // status says USER the kernel does not write it (packet_mmap.rst, "TPACKET_V2" and
        // "TPACKET_V3"), and the Acquire load above orders our reads after the kernel's
        // writes. The slice does not outlive this call, and `&mut self` keeps anyone else
        // from releasing the slot meanwhile.
        let bytes = unsafe { std::slice::from_raw_parts(base.add(off), len) };
        let r = f(bytes);
        // Release: our reads of the slot happen before the kernel may reuse it.
        status.store(libc::TP_STATUS_KERNEL, Ordering::Release);
        Some(r)
    }

    /// Takes the next frame queued whole on the socket (one whose ring slot says
    /// `TP_STATUS_COPY`): its `virtio_net_hdr` into `hdr` and the frame into `frame`.
    /// Returns the frame's whole length, which exceeds `frame.len()` when it was cut short.
    /// Non-blocking.
    pub fn recv_queued(&self, hdr: &mut [u8; VNET_HDR_LEN], frame: &mut [u8]) -> io::Result<usize> {
        let mut iov = [
            libc::iovec { iov_base: hdr.as_mut_ptr().cast(), iov_len: hdr.len() },
            libc::iovec { iov_base: frame.as_mut_ptr().cast(), iov_len: frame.len() },
        ];
        // SAFETY: msghdr is plain old data; all-zero is valid (no name, no control).
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = iov.as_mut_ptr();
        msg.msg_iovlen = iov.len();
        // SAFETY: `msg` points at two iovecs over `hdr` and `frame`, writable for their
        // lengths and alive for the call; the kernel writes at most that much.
        let n = unsafe {
            libc::recvmsg(self.fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT | libc::MSG_TRUNC)
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        // With MSG_TRUNC a packet socket returns the whole length (header included).
        Ok((n as usize).saturating_sub(VNET_HDR_LEN))
    }

    /// Sends `frames`, each a `virtio_net_hdr` and a frame, in order, with as few
    /// sendmmsg(2) calls as possible (non-blocking), on a socket from
    /// [`PacketSocket::open_send_only`]. Returns how many were taken, in order: sent, or
    /// refused by the kernel for itself alone and listed (by index) in `refused`, such as a
    /// frame larger than the interface's MTU; the rest would have blocked (a full queue) or
    /// failed. The frames are taken straight into the socket's reused argument arrays (no
    /// list built per burst).
    pub fn send_batch<'a>(
        &mut self,
        frames: impl IntoIterator<Item = (&'a [u8; VNET_HDR_LEN], &'a [u8])>,
        refused: &mut Vec<usize>,
    ) -> io::Result<usize> {
        refused.clear();
        if self.ring.is_some() {
            // A receiving socket takes no `virtio_net_hdr`: the header would go out as data.
            return Err(io::Error::other("send_batch on a receiving socket"));
        }
        let r = self.send_chunks(frames.into_iter(), refused);
        // No pointer into `frames` outlives the call.
        self.send.iov.clear();
        self.send.msgs.clear();
        r
    }

    fn send_chunks<'a>(
        &mut self,
        mut frames: impl Iterator<Item = (&'a [u8; VNET_HDR_LEN], &'a [u8])>,
        refused: &mut Vec<usize>,
    ) -> io::Result<usize> {
        // UIO_MAXIOV, the most one sendmmsg call takes.
        const MAX_PER_CALL: usize = 1024;
        let mut sent = 0;
        // Bounded: each chunk takes at most MAX_PER_CALL frames from the iterator, and every
        // call either sends at least one frame, skips the one refused, or returns.
        loop {
            let SendVectors { iov, msgs } = &mut self.send;
            iov.clear();
            for (hdr, frame) in frames.by_ref().take(MAX_PER_CALL) {
                for part in [&hdr[..], frame] {
                    iov.push(libc::iovec {
                        iov_base: part.as_ptr() as *mut libc::c_void,
                        iov_len: part.len(),
                    });
                }
            }
            if iov.is_empty() {
                return Ok(sent);
            }
            msgs.clear();
            // `iov` is not touched again until the calls return, so these pointers stay valid.
            msgs.extend(iov.chunks_exact_mut(2).map(|v| {
                // SAFETY: msghdr is plain old data; all-zero is valid (no name, no control).
                let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
                h.msg_iov = v.as_mut_ptr();
                h.msg_iovlen = 2;
                libc::mmsghdr { msg_hdr: h, msg_len: 0 }
            }));
            let mut done = 0;
            while done < msgs.len() {
                let rest = &mut msgs[done..];
                // SAFETY: `msgs` and the iovecs and frames they point to stay alive and
                // unmoved for the call; the kernel only reads the frames.
                let n = unsafe {
                    libc::sendmmsg(
                        self.fd.as_raw_fd(),
                        rest.as_mut_ptr(),
                        rest.len() as libc::c_uint,
                        libc::MSG_DONTWAIT,
                    )
                };
                if n < 0 {
                    let e = io::Error::last_os_error();
                    // sendmmsg(2) stops at the first message that fails: when the failure is
                    // that message's own (EMSGSIZE: larger than the interface's MTU, as
                    // packet_snd checks it), it alone is dropped and the rest still go.
                    if e.raw_os_error() == Some(libc::EMSGSIZE) {
                        refused.push(sent + done);
                        done += 1;
                        continue;
                    }
                    if sent + done > 0
                        || matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::ENOBUFS))
                    {
                        return Ok(sent + done);
                    }
                    return Err(e);
                }
                if n == 0 {
                    return Ok(sent + done);
                }
                done += n as usize;
            }
            sent += done;
        }
    }

    /// Frames received and dropped by the kernel (ring full) since the last call
    /// (`PACKET_STATISTICS` resets on read). The V3 structure extends the V1/V2 one; for
    /// those the kernel fills only the first two fields.
    pub fn take_stats(&self) -> io::Result<(u32, u32)> {
        let mut st = libc::tpacket_stats_v3 { tp_packets: 0, tp_drops: 0, tp_freeze_q_cnt: 0 };
        let mut len = std::mem::size_of::<libc::tpacket_stats_v3>() as libc::socklen_t;
        // SAFETY: `st` is writable for `len` bytes and `len` is updated by the kernel.
        cvt(unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut st as *mut libc::tpacket_stats_v3).cast(),
                &mut len,
            )
        })?;
        Ok((st.tp_packets, st.tp_drops))
    }
}

/// `ETHTOOL_SGRO` (linux/ethtool.h): set the interface's generic receive offload.
const ETHTOOL_SGRO: u32 = 0x0000_002c;

/// `struct ethtool_value`.
#[repr(C)]
struct EthtoolValue {
    cmd: u32,
    data: u32,
}

/// Turns generic receive offload on `ifname` on or off (`SIOCETHTOOL`, as `ethtool -K ifname
/// gro on|off`; needs `CAP_NET_ADMIN`). With GRO the interface merges a TCP stream's segments
/// before the packet socket sees them, so the switch handles one super-frame per burst of a
/// stream instead of every segment.
pub fn set_gro(ifname: &str, on: bool) -> io::Result<()> {
    let mut ifr = ifreq_for(ifname)?;
    let mut value = EthtoolValue { cmd: ETHTOOL_SGRO, data: u32::from(on) };
    ifr.ifr_ifru.ifru_data = (&mut value as *mut EthtoolValue).cast();
    let fd = socket(AddressFamily::Inet, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)
        .map_err(io::Error::from)?;
    // SAFETY: `ifr` names the interface and points at `value`, both alive for the call; the
    // kernel reads `value` (a set command) and nothing else.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCETHTOOL as _, &mut ifr) })?;
    Ok(())
}

/// An `ifreq` naming `ifname`, the rest zero.
fn ifreq_for(ifname: &str) -> io::Result<libc::ifreq> {
    let name = ifname.as_bytes();
    // SAFETY: ifreq is plain old data; all-zero is valid.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    if name.len() >= ifr.ifr_name.len() {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    for (d, s) in ifr.ifr_name.iter_mut().zip(name) {
        *d = *s as libc::c_char;
    }
    Ok(ifr)
}

/// The MTU of `ifname` (`SIOCGIFMTU`, netdevice(7)), in the calling thread's network
/// namespace: the largest frame, link header aside, a packet socket may send on it.
pub fn interface_mtu(ifname: &str) -> io::Result<u32> {
    let mut ifr = ifreq_for(ifname)?;
    let fd = socket(AddressFamily::Inet, SockType::Datagram, SockFlag::SOCK_CLOEXEC, None)
        .map_err(io::Error::from)?;
    // SAFETY: `ifr` names the interface and is alive for the call; the kernel writes only
    // its `ifr_mtu`.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFMTU as _, &mut ifr) })?;
    // SAFETY: SIOCGIFMTU filled the union's `ifr_mtu` member.
    let mtu = unsafe { ifr.ifr_ifru.ifru_mtu };
    u32::try_from(mtu).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Sets the calling thread's nice value (Linux keeps it per thread: setpriority(2),
/// NOTES). Lowering it below the current value needs `CAP_SYS_NICE`.
pub fn set_thread_nice(nice: i32) -> io::Result<()> {
    let tid = nix::unistd::gettid().as_raw();
    // SAFETY: a system call on integers only; no memory is passed.
    cvt(unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice) })?;
    Ok(())
}

impl AsFd for PacketSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    /// The calling thread's nice value. (Not from /proc/thread-self/stat: qemu-user, which
    /// runs these tests for aarch64, fills most fields of its own stat files with zeroes.)
    fn own_nice() -> i32 {
        let tid = nix::unistd::gettid().as_raw();
        // SAFETY: a system call on integers only; -1 is a valid nice value here, not an
        // error (the tests only set 7).
        unsafe { libc::getpriority(libc::PRIO_PROCESS, tid as libc::id_t) }
    }

    #[test]
    fn nice_is_set_for_the_calling_thread_only() {
        let before = own_nice();
        let set = std::thread::spawn(|| {
            super::set_thread_nice(7).unwrap();
            own_nice()
        });
        assert_eq!(set.join().unwrap(), 7);
        assert_eq!(own_nice(), before, "the test's own thread is untouched");
    }
}
