//! The switch's only `unsafe` code: an AF_PACKET socket with a TPACKET_V3 receive ring
//! (packet(7), Documentation/networking/packet_mmap.rst) and batched sends with sendmmsg(2).
//!
//! Everything above this module is safe: it sees a block of the ring as a `&[u8]` only while
//! the block belongs to user space, and parses it with bounds-checked reads.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sys::socket::{AddressFamily, SockFlag, SockType, socket};

/// `TPACKET_V3` of `enum tpacket_versions`.
const TPACKET_V3: libc::c_int = 2;
/// Offset of `hdr.bh1.block_status` in `struct tpacket_block_desc`.
pub(crate) const BLOCK_STATUS_OFFSET: usize = 8;

/// Ring geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingConfig {
    /// Bytes per block (a multiple of the page size, a power of two).
    pub block_size: u32,
    /// Number of blocks.
    pub block_count: u32,
    /// A partly filled block is handed to user space after this many milliseconds.
    pub retire_ms: u32,
}

impl Default for RingConfig {
    fn default() -> Self {
        RingConfig { block_size: 1 << 17, block_count: 32, retire_ms: 1 }
    }
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
    /// Opens a raw packet socket on `ifname`: TPACKET_V3 RX ring, promiscuous, own
    /// transmissions not looped back (`PACKET_IGNORE_OUTGOING`, Linux 4.20), sends handed
    /// straight to the driver (`PACKET_QDISC_BYPASS`, Linux 3.14: a switch port has no use
    /// for the host's queueing discipline, and a full device queue drops, as a NIC ring would).
    pub fn open(ifname: &str, cfg: RingConfig) -> io::Result<PacketSocket> {
        let ifindex = nix::net::if_::if_nametoindex(ifname).map_err(io::Error::from)?;
        // Protocol 0: the socket receives nothing until bind() names the interface, so no
        // frame of another interface enters the ring.
        let fd = packet_socket()?;
        setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_VERSION, &TPACKET_V3)?;
        let frame_size: u32 = 2048;
        let req = libc::tpacket_req3 {
            tp_block_size: cfg.block_size,
            tp_block_nr: cfg.block_count,
            tp_frame_size: frame_size,
            tp_frame_nr: cfg.block_size / frame_size * cfg.block_count,
            tp_retire_blk_tov: cfg.retire_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_RX_RING, &req)?;
        let one: libc::c_int = 1;
        setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, &one)?;
        setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_QDISC_BYPASS, &one)?;
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

    /// Opens a send-only packet socket on `ifname` (a worker sending to a port another
    /// worker receives from): no ring, and bound with protocol 0, so the kernel delivers
    /// it nothing (packet(7)); queueing discipline bypassed as on [`PacketSocket::open`].
    pub fn open_send_only(ifname: &str) -> io::Result<PacketSocket> {
        let ifindex = nix::net::if_::if_nametoindex(ifname).map_err(io::Error::from)?;
        let fd = packet_socket()?;
        let one: libc::c_int = 1;
        setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_QDISC_BYPASS, &one)?;
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

    /// Number of blocks in the ring.
    pub fn block_count(&self) -> usize {
        self.cfg.block_count as usize
    }

    fn status_word(&self, block: usize) -> Option<&AtomicU32> {
        let bs = self.cfg.block_size as usize;
        if block >= self.block_count() {
            return None;
        }
        let off = block * bs + BLOCK_STATUS_OFFSET;
        // SAFETY: `off + 4 <= len` (block < count, block size >= one page), the address is
        // 4-aligned (page-aligned block + 8), and the kernel accesses this word only
        // atomically-by-convention (it is the ownership flag of the block).
        Some(unsafe { AtomicU32::from_ptr(self.ring.as_ref()?.ptr.as_ptr().add(off).cast()) })
    }

    /// If block `block` has been handed to user space, calls `f` with its bytes and hands it
    /// back to the kernel. `None` when the kernel still owns it.
    pub fn with_block<R>(&mut self, block: usize, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let status = self.status_word(block)?;
        if status.load(Ordering::Acquire) & libc::TP_STATUS_USER == 0 {
            return None;
        }
        let bs = self.cfg.block_size as usize;
        let base = self.ring.as_ref()?.ptr.as_ptr();
        // SAFETY: the block lies inside the mapping; while its status says USER the kernel
        // does not write it (packet_mmap.rst, "TPACKET_V3"), and the Acquire load above
        // orders our reads after the kernel's writes. The slice does not outlive this call,
        // and `&mut self` keeps anyone else from releasing the block meanwhile.
        let bytes = unsafe { std::slice::from_raw_parts(base.add(block * bs), bs) };
        let r = f(bytes);
        if let Some(status) = self.status_word(block) {
            status.store(libc::TP_STATUS_KERNEL, Ordering::Release);
        }
        Some(r)
    }

    /// Sends `frames` with as few sendmmsg(2) calls as possible (non-blocking). Returns how
    /// many were accepted; the rest would have blocked (a full queue) or failed.
    pub fn send_batch(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
        let r = self.send_chunks(frames);
        // No pointer into `frames` outlives the call.
        self.send.iov.clear();
        self.send.msgs.clear();
        r
    }

    fn send_chunks(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
        // UIO_MAXIOV, the most one sendmmsg call takes.
        const MAX_PER_CALL: usize = 1024;
        let mut sent = 0;
        // Bounded: every round either sends at least one frame or returns.
        while sent < frames.len() {
            let chunk = &frames[sent..frames.len().min(sent + MAX_PER_CALL)];
            let SendVectors { iov, msgs } = &mut self.send;
            iov.clear();
            iov.extend(chunk.iter().map(|f| libc::iovec {
                iov_base: f.as_ptr() as *mut libc::c_void,
                iov_len: f.len(),
            }));
            msgs.clear();
            // `iov` is not touched again until the call returns, so these pointers stay valid.
            msgs.extend(iov.iter_mut().map(|v| {
                // SAFETY: msghdr is plain old data; all-zero is valid (no name, no control).
                let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
                h.msg_iov = v;
                h.msg_iovlen = 1;
                libc::mmsghdr { msg_hdr: h, msg_len: 0 }
            }));
            // SAFETY: `msgs` and the iovecs and frames they point to stay alive and unmoved
            // for the call; the kernel only reads the frames.
            let n = unsafe {
                libc::sendmmsg(
                    self.fd.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    msgs.len() as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if sent > 0 || matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::ENOBUFS)) {
                    return Ok(sent);
                }
                return Err(e);
            }
            if n == 0 {
                return Ok(sent);
            }
            sent += n as usize;
        }
        Ok(sent)
    }

    /// Frames received and dropped by the kernel (ring full) since the last call
    /// (`PACKET_STATISTICS` resets on read).
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

impl AsFd for PacketSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
