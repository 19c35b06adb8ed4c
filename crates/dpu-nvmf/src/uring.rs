//! Reads and writes of file and block device volumes as asynchronous transfers on an
//! io_uring of the connection, instead of a blocking call on a pool thread each.
//!
//! Why: a pool thread per operation costs two thread hand-offs per command (to the
//! thread and back to the connection's task); on the bench machine that held a file
//! volume in the page cache to 74 K 4 KiB reads per second at queue depth 32, against
//! some 600 K for a RAM volume. With a ring, a connection hands the kernel every transfer
//! of a received batch in one `io_uring_enter`; reads the page cache holds complete within
//! that call, and the rest (direct transfers to a device, cache misses) complete on their
//! own and wake the connection through an eventfd. The kernel, not a thread per command,
//! keeps the device's queue full.
//!
//! Flushes go to the ring too, as a data sync of the volume's file (the kernel runs it on
//! a worker of the ring's own), so a slow device's flushes wait there and not on the
//! bounded pool that other connections' operations share. Everything else (write zeroes,
//! deallocate, verify, compare, and any transfer or flush when the kernel has no io_uring,
//! e.g. under qemu-user or with `io_uring_disabled`) still runs on the bounded pool.
//!
//! Holds the crate's `unsafe` besides `volume_copy`'s: the kernel writes into and reads
//! from buffers it does not borrow, so this module keeps each buffer, and the volume whose
//! descriptor it names, until the transfer's completion.
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::Instant;

use bytes::Bytes;
use io_uring::{IoUring, Probe, opcode, squeue, types};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tracing::warn;

use crate::queue::{IoOp, IoRequest, OpGuard, WriteTicket, queued_write_data};
use crate::volume::{AlignedBuf, Volume};

/// Submission queue entries: a queue's commands in flight (MAXCMD) fit.
const ENTRIES: u32 = 128;

/// `RWF_DSYNC` (pwritev2(2), include/uapi/linux/fs.h): this write is durable (data and the
/// metadata to read it back) when it completes, the file's counterpart of FUA.
const RWF_DSYNC: i32 = 0x2;

/// Where a transfer's bytes are while the kernel has it.
#[derive(Debug)]
enum Buffer {
    /// A read through the page cache.
    Read(Vec<u8>),
    /// A direct read or write (its data copied in), at a [`DIRECT_ALIGN`] boundary.
    ///
    /// [`DIRECT_ALIGN`]: crate::volume::DIRECT_ALIGN
    Aligned(AlignedBuf),
    /// A write through the page cache, from the received data.
    Write(Bytes),
    /// No data: a flush (`fdatasync` of the volume's file).
    Sync,
}

/// One command's transfer, owned here until the kernel completes it.
#[derive(Debug)]
struct Transfer {
    /// [`IoRequest::tag`].
    tag: u64,
    /// Keeps `fd` open until the transfer ends; takes its time ([`Volume::latency`]).
    volume: Arc<Volume>,
    /// When it was handed to the ring.
    started: Instant,
    /// The volume's descriptor for this transfer ([`BlockBackend::transfer_fd`]).
    ///
    /// [`BlockBackend::transfer_fd`]: crate::volume::BlockBackend::transfer_fd
    fd: RawFd,
    write: bool,
    fua: bool,
    buffer: Buffer,
    /// The transfer's byte offset in the volume and length.
    offset: u64,
    len: usize,
    /// Bytes done so far (a short transfer is continued).
    done: usize,
    /// The write's place among its host's writes in flight ([`IoRequest::fence`]), held
    /// until the kernel is done with it (boxed: rare, and a transfer stays small).
    fence: Option<Box<WriteTicket>>,
    /// Its queue's count of operations running ([`IoRequest::running`]), held likewise.
    running: Option<OpGuard>,
}

impl Transfer {
    /// The submission entry for what is left of the transfer (`None`: too long for one).
    fn entry(&mut self, key: u64) -> Option<squeue::Entry> {
        let at = self.offset + self.done as u64;
        let n = u32::try_from(self.len - self.done).ok()?;
        let fd = types::Fd(self.fd);
        let flags = if self.fua { RWF_DSYNC } else { 0 };
        let write = |data: &[u8]| opcode::Write::new(fd, data.as_ptr(), n).rw_flags(flags);
        let read = |buf: &mut [u8]| opcode::Read::new(fd, buf.as_mut_ptr(), n);
        let from = self.done;
        let entry = match &mut self.buffer {
            Buffer::Sync => opcode::Fsync::new(fd).flags(types::FsyncFlags::DATASYNC).build(),
            Buffer::Write(b) => write(&b[from..]).offset(at).build(),
            Buffer::Aligned(a) if self.write => write(&a.as_ref()[from..]).offset(at).build(),
            Buffer::Aligned(a) => read(&mut a.as_mut()[from..]).offset(at).build(),
            Buffer::Read(v) => read(&mut v[from..]).offset(at).build(),
        };
        Some(entry.user_data(key))
    }

    /// The command's result once every byte is done.
    fn result(self) -> io::Result<Vec<u8>> {
        match self.buffer {
            Buffer::Read(v) => Ok(v),
            Buffer::Aligned(a) if !self.write => Ok(a.as_ref().to_vec()),
            _ => Ok(Vec::new()),
        }
    }
}

/// The ring and the transfers the kernel holds: they end together.
struct Kernel {
    ring: IoUring,
    transfers: HashMap<u64, Transfer>,
}

impl Kernel {
    /// Hands what is queued to the kernel and frees each transfer it completed, without
    /// waiting. Returns whether entries are still queued (the kernel was busy).
    fn reap_dropped(&mut self) -> bool {
        let _ = self.ring.submit();
        for cqe in self.ring.completion() {
            self.transfers.remove(&cqe.user_data());
        }
        !self.ring.submission().is_empty()
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        if !self.transfers.is_empty() {
            // Not waited for (the reaper could not start): the kernel may still write into
            // these buffers and use the descriptors their volumes keep open. Leaking them
            // is safe, freeing them is not; closing the ring only makes the kernel cancel
            // what it can.
            std::mem::forget(std::mem::take(&mut self.transfers));
        }
    }
}

/// The one thread of the process that waits for the transfers of rings dropped with some
/// in flight. A thread per such ring would not be bounded: on a device that never completes
/// (dm-multipath queueing with no path, a hard NFS mount), hosts reconnecting would each
/// leave one behind, until they filled the runtime's blocking pool, which every other
/// volume's operations, the DH computations and the internal API wait on. Here such a ring
/// costs its memory only.
struct Reaper {
    kernels: mpsc::Sender<Kernel>,
    /// Wakes the thread for a kernel just sent.
    wake: Arc<EventFd>,
}

impl Reaper {
    /// The process's reaper, started on first use; `None` if its thread cannot start.
    fn get() -> Option<&'static Reaper> {
        static REAPER: OnceLock<Option<Reaper>> = OnceLock::new();
        let started = REAPER.get_or_init(|| {
            Self::start()
                .inspect_err(|e| {
                    warn!(error = %e, "no io_uring reaper: transfers of ended rings are leaked");
                })
                .ok()
        });
        started.as_ref()
    }

    fn start() -> io::Result<Self> {
        let wake = Arc::new(EventFd::from_flags(EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)?);
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        epoll.add(&*wake, EpollEvent::new(EpollFlags::EPOLLIN, 0))?;
        let (kernels, received) = mpsc::channel();
        let woken = wake.clone();
        std::thread::Builder::new()
            .name("uring-reaper".into())
            .spawn(move || reap(&epoll, &woken, &received))?;
        Ok(Self { kernels, wake })
    }

    /// Waits for `kernel`'s transfers and frees them as they complete (leaked if the
    /// thread is gone).
    fn take(&self, kernel: Kernel) {
        if self.kernels.send(kernel).is_ok() {
            let _ = self.wake.write(1);
        }
    }
}

/// The reaper's loop: frees each dropped kernel's transfers as they complete, then the
/// kernel, its ring closed. Sleeps in `epoll` until one of the rings has completions (an
/// io_uring's descriptor is readable while its completion queue holds entries) or a new
/// kernel comes (`wake`).
fn reap(epoll: &Epoll, wake: &EventFd, received: &mpsc::Receiver<Kernel>) {
    let mut held: Vec<Kernel> = Vec::new();
    let mut events = [EpollEvent::empty(); 16];
    // Rings that cannot be watched (or whose entries the kernel had no room for yet) are
    // looked at again after a millisecond.
    let mut unwatched = false;
    loop {
        // Reset before taking the new kernels: one sent after this wakes the next wait.
        let _ = wake.read();
        while let Ok(k) = received.try_recv() {
            unwatched |= epoll.add(&k.ring, EpollEvent::new(EpollFlags::EPOLLIN, 0)).is_err();
            held.push(k);
        }
        let mut busy = false;
        held.retain_mut(|k| {
            busy |= k.reap_dropped();
            if !k.transfers.is_empty() {
                return true;
            }
            let _ = epoll.delete(&k.ring);
            false
        });
        unwatched &= !held.is_empty();
        let timeout = if busy || unwatched { EpollTimeout::from(1u8) } else { EpollTimeout::NONE };
        if epoll.wait(&mut events, timeout).is_err() {
            // EINTR; anything else would repeat, so not at full speed.
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

/// A connection's io_uring with the transfers it holds.
pub(crate) struct Ring {
    /// Taken out only by `Drop`, which hands it to the wait for its transfers.
    kernel: ManuallyDrop<Kernel>,
    /// Signalled by the kernel for each completion: wakes the connection's task.
    event: AsyncFd<EventFd>,
    next_key: u64,
    /// Whether the kernel runs fsync on a ring (Linux 5.1 on; a filter may refuse it).
    fsync: bool,
}

impl std::fmt::Debug for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ring").field("in_flight", &self.in_flight()).finish_non_exhaustive()
    }
}

impl Ring {
    /// A ring with its eventfd, or why the kernel offers none with positioned reads and
    /// writes (io_uring disabled or filtered, a kernel before 5.6, qemu-user). Must be
    /// called within a tokio runtime.
    pub(crate) fn new() -> io::Result<Self> {
        let ring = IoUring::new(ENTRIES)?;
        let mut probe = Probe::new();
        ring.submitter().register_probe(&mut probe)?;
        if !(probe.is_supported(opcode::Read::CODE) && probe.is_supported(opcode::Write::CODE)) {
            return Err(io::Error::new(io::ErrorKind::Unsupported, "no io_uring read and write"));
        }
        let event = EventFd::from_flags(EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC)?;
        ring.submitter().register_eventfd(event.as_fd().as_raw_fd())?;
        // SAFETY: the EventFd owns its descriptor, which stays open and the same until the
        // AsyncFd (its only owner) drops it.
        let event = unsafe { AsyncFd::register_with_interest(event, Interest::READABLE) }?;
        let fsync = probe.is_supported(opcode::Fsync::CODE);
        let kernel = ManuallyDrop::new(Kernel { ring, transfers: HashMap::new() });
        Ok(Self { kernel, event, next_key: 0, fsync })
    }

    /// Queues `req` if it is a read or write the volume can run as a transfer, or a flush
    /// of a volume with a file to sync; otherwise hands it back (for the pool). Queued
    /// operations go to the kernel with [`submit`](Self::submit).
    pub(crate) fn start(&mut self, req: IoRequest) -> Result<(), IoRequest> {
        if matches!(req.op, IoOp::Flush) {
            return self.start_flush(req);
        }
        let (offset, len, write, fua) = match &req.op {
            // A read with FUA flushes first: on the pool (`execute_io`).
            IoOp::Read { offset, len, fua: false } => (*offset, *len, false, false),
            IoOp::Write { offset, data, fua } => (*offset, data.len(), true, *fua),
            _ => return Err(req),
        };
        let Some((fd, direct)) = req.volume.backend().transfer_fd(offset, len) else {
            return Err(req);
        };
        let fd = fd.as_raw_fd();
        if len == 0 || u32::try_from(len).is_err() {
            return Err(req);
        }
        let buffer = match (&req.op, direct) {
            (IoOp::Write { data, .. }, true) => {
                let mut a = AlignedBuf::new(len);
                a.as_mut().copy_from_slice(data);
                Buffer::Aligned(a)
            }
            (IoOp::Write { data, .. }, false) => Buffer::Write(queued_write_data(data)),
            (_, true) => Buffer::Aligned(AlignedBuf::new(len)),
            (_, false) => Buffer::Read(vec![0u8; len]),
        };
        let t = Transfer {
            tag: req.tag,
            volume: req.volume.clone(),
            started: Instant::now(),
            fd,
            write,
            fua,
            buffer,
            offset,
            len,
            done: 0,
            fence: None,
            running: None,
        };
        self.push_request(t, req)
    }

    /// Queues a flush as a data sync of the volume's file.
    fn start_flush(&mut self, req: IoRequest) -> Result<(), IoRequest> {
        let fd = match req.volume.backend().sync_fd() {
            Some(fd) if self.fsync => fd.as_raw_fd(),
            _ => return Err(req),
        };
        let t = Transfer {
            tag: req.tag,
            volume: req.volume.clone(),
            started: Instant::now(),
            fd,
            write: false,
            fua: false,
            buffer: Buffer::Sync,
            offset: 0,
            len: 0,
            done: 0,
            fence: None,
            running: None,
        };
        self.push_request(t, req)
    }

    /// Queues `t`, made from `req`, which gives it its ticket; hands `req` back (ticket
    /// and all) if it cannot go.
    fn push_request(&mut self, t: Transfer, mut req: IoRequest) -> Result<(), IoRequest> {
        let key = self.next_key;
        self.next_key += 1;
        if self.push(key, t).is_err() {
            return Err(req);
        }
        if let Some(t) = self.kernel.transfers.get_mut(&key) {
            t.fence = req.fence.take().map(Box::new);
            t.running = req.running.take();
        }
        Ok(())
    }

    /// Puts transfer `t` in the submission queue under `key` (submitting what is queued
    /// first if the queue is full); hands it back if it cannot go.
    fn push(&mut self, key: u64, mut t: Transfer) -> Result<(), Transfer> {
        let Some(entry) = t.entry(key) else { return Err(t) };
        // SAFETY: the entry names `t`'s buffer (a heap allocation that does not move when
        // `t` does) and `t.fd`, which `t` keeps open through its volume; both stay alive in
        // `self.kernel.transfers` until the entry's completion is reaped (`reap`, or the
        // `Reaper` thread that `Drop for Ring` hands the kernel to), or for good (leaked,
        // when that thread cannot start), whatever happens to the connection.
        let pushed = unsafe {
            if self.kernel.ring.submission().push(&entry).is_ok() {
                true
            } else {
                // Full: the kernel takes what is queued, then there is room.
                self.submit();
                self.kernel.ring.submission().push(&entry).is_ok()
            }
        };
        if !pushed {
            return Err(t);
        }
        self.kernel.transfers.insert(key, t);
        Ok(())
    }

    /// Hands the queued transfers to the kernel (one system call, nothing waited for).
    /// An error leaves them queued for the next call.
    pub(crate) fn submit(&mut self) {
        if !self.kernel.ring.submission().is_empty() {
            let _ = self.kernel.ring.submit();
        }
    }

    /// Calls `done(tag, result)` for each command whose transfer completed, continuing
    /// short transfers. Returns how many commands completed.
    pub(crate) fn reap(&mut self, mut done: impl FnMut(u64, io::Result<Vec<u8>>)) -> usize {
        let mut completed = 0;
        let mut again = Vec::new();
        // One clock read for the completions reaped together.
        let mut now = None;
        let Kernel { ring, transfers } = &mut *self.kernel;
        for cqe in ring.completion() {
            let key = cqe.user_data();
            let Some(mut t) = transfers.remove(&key) else { continue };
            let res = cqe.result();
            let outcome = if res < 0 {
                let e = io::Error::from_raw_os_error(-res);
                if matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock) {
                    again.push((key, t));
                    continue;
                }
                let end = t.offset + t.len as u64;
                Err(crate::volume::past_device_end(t.volume.backend(), e, end))
            } else if matches!(t.buffer, Buffer::Sync) {
                Ok(())
            } else if res == 0 {
                Err(io::Error::new(io::ErrorKind::UnexpectedEof, "transfer ended early"))
            } else {
                t.done += res as usize;
                if t.done < t.len {
                    again.push((key, t));
                    continue;
                }
                Ok(())
            };
            let tag = t.tag;
            completed += 1;
            let took = now.get_or_insert_with(Instant::now).saturating_duration_since(t.started);
            let latency = t.volume.latency();
            let histogram = match (&t.buffer, t.write) {
                (Buffer::Sync, _) => &latency.flush,
                (_, true) => &latency.write,
                (_, false) => &latency.read,
            };
            histogram.record(took);
            done(tag, outcome.and_then(|()| t.result()));
        }
        for (key, t) in again {
            if let Err(t) = self.push(key, t) {
                completed += 1;
                done(t.tag, Err(io::Error::other("cannot continue a short transfer")));
            }
        }
        self.submit();
        completed
    }

    /// Waits until the kernel signals completions (then [`reap`](Self::reap) them). May
    /// return for completions already reaped.
    pub(crate) async fn ready(&self) {
        loop {
            let Ok(mut guard) = self.event.readable().await else { return };
            // Resets the counter (the completions themselves are in the ring). An empty
            // one clears the readiness, so the next signal wakes us again.
            match guard.try_io(|event| event.get_ref().read().map_err(io::Error::from)) {
                Ok(_) => return,
                Err(_would_block) => continue,
            }
        }
    }

    /// Transfers the kernel holds.
    pub(crate) fn in_flight(&self) -> usize {
        self.kernel.transfers.len()
    }
}

/// A ring ends once the kernel is done with every buffer, however it is dropped: at the end
/// of its connection, or with its connection's task when the runtime ends under live
/// connections (SIGTERM). Transfers still in flight (a slow device) are waited for by the
/// process's one [`Reaper`] thread, never on the reactor nor a thread each; should it be
/// unable to start, they are leaked.
impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: `kernel` is taken here only, and nothing uses it after.
        let kernel = unsafe { ManuallyDrop::take(&mut self.kernel) };
        if kernel.transfers.is_empty() {
            return;
        }
        if let Some(reaper) = Reaper::get() {
            reaper.take(kernel);
        }
        // Otherwise `kernel` is dropped here, leaking its transfers (`Drop for Kernel`).
    }
}

// qemu-user, which runs the aarch64 unit tests, has no io_uring: the pool runs everything
// there, and `Ring::new` is `None` by design.
#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn request(tag: u64, volume: &Arc<Volume>, op: IoOp) -> IoRequest {
        IoRequest { tag, volume: volume.clone(), op, fence: None, saves: false, running: None }
    }

    /// Submits what is queued and waits until `count` commands completed.
    async fn complete(ring: &mut Ring, count: usize) -> Vec<(u64, io::Result<Vec<u8>>)> {
        let mut done = Vec::new();
        ring.submit();
        while done.len() < count {
            ring.reap(|tag, res| done.push((tag, res)));
            if done.len() < count {
                let waited = tokio::time::timeout(std::time::Duration::from_secs(10), ring.ready());
                waited.await.expect("a completion within 10 s");
            }
        }
        done.sort_by_key(|(tag, _)| *tag);
        done
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
    }

    #[tokio::test]
    async fn direct_and_cached_transfers_write_and_read_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.img");
        let volume = Arc::new(Volume::file("v", &path, 512, 1 << 20).unwrap());
        let mut ring = Ring::new().expect("this kernel has io_uring");
        // 4 KiB-aligned (direct where the file system allows it) and 512-byte pieces (the
        // page cache), one with FUA.
        let writes = [(0u64, 8192usize), (12_288, 4096), (16_896, 1536), (65_536, 131_072)];
        for (i, &(offset, len)) in writes.iter().enumerate() {
            let data = Bytes::from(pattern(len, i as u8));
            let op = IoOp::Write { offset, data, fua: i == 2 };
            ring.start(request(i as u64, &volume, op)).unwrap();
        }
        for (tag, res) in complete(&mut ring, writes.len()).await {
            assert!(res.unwrap().is_empty(), "write {tag}");
        }
        for (i, &(offset, len)) in writes.iter().enumerate() {
            ring.start(request(10 + i as u64, &volume, IoOp::Read { offset, len, fua: false }))
                .unwrap();
        }
        for (tag, res) in complete(&mut ring, writes.len()).await {
            let i = (tag - 10) as usize;
            assert!(res.unwrap() == pattern(writes[i].1, i as u8), "read {tag}");
        }
        // What the ring wrote is in the file, through the blocking calls too.
        let mut back = vec![0u8; 1536];
        volume.backend().read_at(&mut back, 16_896).unwrap();
        assert!(back == pattern(1536, 2));
        let on_disk = std::fs::read(&path).unwrap();
        assert!(on_disk[65_536..65_536 + 131_072] == pattern(131_072, 3));
        // A flush is a data sync of the file on the ring, beside a transfer.
        ring.start(request(20, &volume, IoOp::Flush)).unwrap();
        ring.start(request(21, &volume, IoOp::Read { offset: 0, len: 8192, fua: false })).unwrap();
        let done = complete(&mut ring, 2).await;
        assert!(done[0].1.as_ref().unwrap().is_empty(), "flush: {:?}", done[0].1);
        assert!(done[1].1.as_ref().unwrap() == &pattern(8192, 0));
        assert_eq!(ring.in_flight(), 0);
    }

    #[tokio::test]
    async fn a_transfer_past_the_files_end_fails_and_other_operations_go_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.img");
        let volume = Arc::new(Volume::file("v", &path, 512, 64 << 10).unwrap());
        // The file shrinks under the volume: its last blocks read nothing.
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(60 << 10).unwrap();
        let mut ring = Ring::new().unwrap();
        ring.start(request(1, &volume, IoOp::Read { offset: 58 << 10, len: 4096, fua: false }))
            .unwrap();
        let done = complete(&mut ring, 1).await;
        let err = done[0].1.as_ref().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err}");
        // Not transfers: the caller runs them on the pool.
        let back = ring.start(request(
            2,
            &volume,
            IoOp::WriteZeroes { offset: 0, len: 512, fua: false, deallocate: false },
        ));
        assert_eq!(back.unwrap_err().tag, 2);
        let fua = IoOp::Read { offset: 0, len: 512, fua: true };
        let back = ring.start(request(5, &volume, fua));
        assert_eq!(back.unwrap_err().tag, 5, "a Compare with FUA flushes first, on the pool");
        let ram = Arc::new(Volume::ram("r", 512, 64 << 10).unwrap());
        let back = ring.start(request(4, &ram, IoOp::Flush));
        assert_eq!(back.unwrap_err().tag, 4, "a RAM volume has no file to sync");
        let back = ring.start(request(3, &ram, IoOp::Read { offset: 0, len: 512, fua: false }));
        assert_eq!(back.unwrap_err().tag, 3, "a RAM volume has no descriptor");
        assert_eq!(ring.in_flight(), 0);
    }

    /// A volume whose transfers read a pipe: they stay in flight until the test writes
    /// into it. Nothing else runs on it.
    #[derive(Debug)]
    struct Pipe(std::io::PipeReader);

    impl crate::volume::BlockBackend for Pipe {
        fn read_at(&self, _: &mut [u8], _: u64) -> io::Result<()> {
            Err(io::ErrorKind::Unsupported.into())
        }
        fn write_at(&self, _: &[u8], _: u64) -> io::Result<()> {
            Err(io::ErrorKind::Unsupported.into())
        }
        fn flush(&self) -> io::Result<()> {
            Err(io::ErrorKind::Unsupported.into())
        }
        fn write_zeroes(&self, _: u64, _: u64) -> io::Result<()> {
            Err(io::ErrorKind::Unsupported.into())
        }
        fn deallocate(&self, _: u64, _: u64) -> io::Result<()> {
            Err(io::ErrorKind::Unsupported.into())
        }
        fn volatile_cache(&self) -> bool {
            false
        }
        fn transfer_fd(&self, _: u64, _: usize) -> Option<(std::os::fd::BorrowedFd<'_>, bool)> {
            Some((self.0.as_fd(), false))
        }
    }

    /// A ring with a 512-byte read of a pipe in flight (none written yet), and a weak
    /// reference to the read's volume, which only the transfer holds.
    fn reading_a_pipe() -> (Ring, std::io::PipeWriter, std::sync::Weak<Volume>) {
        let (reader, writer) = std::io::pipe().unwrap();
        let volume = Arc::new(Volume::new("pipe", 512, 1 << 20, Box::new(Pipe(reader))).unwrap());
        let mut ring = Ring::new().unwrap();
        ring.start(request(1, &volume, IoOp::Read { offset: 0, len: 512, fua: false })).unwrap();
        ring.submit();
        assert_eq!(ring.reap(|tag, res| panic!("{tag} completed: {res:?}")), 0);
        assert_eq!(ring.in_flight(), 1);
        (ring, writer, Arc::downgrade(&volume))
    }

    /// A ring dropped with a transfer in flight (its connection's task dropped, as when the
    /// runtime ends at SIGTERM) keeps the transfer's buffer and its volume (the descriptor
    /// the kernel reads) until the kernel completes it, waiting on a blocking thread, then
    /// frees them.
    #[tokio::test]
    async fn a_ring_dropped_with_a_transfer_in_flight_frees_it_only_once_completed() {
        use std::io::Write;
        let (ring, mut writer, volume) = reading_a_pipe();
        drop(ring);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(volume.upgrade().is_some(), "freed while the kernel may read into its buffer");
        writer.write_all(&[7; 512]).unwrap();
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while volume.upgrade().is_some() {
            assert!(Instant::now() < deadline, "still held 10 s after the read completed");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Dropped where no runtime runs (its connection's task outlived by the ring), a ring
    /// is waited for all the same: the reaper is a thread of its own, no runtime's.
    #[test]
    fn a_ring_dropped_outside_a_runtime_is_waited_for_all_the_same() {
        use std::io::Write;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (ring, mut writer, volume) = {
            let _entered = runtime.enter();
            reading_a_pipe()
        };
        drop(ring);
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(volume.upgrade().is_some(), "freed while the kernel may read into its buffer");
        writer.write_all(&[7; 512]).unwrap();
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while volume.upgrade().is_some() {
            assert!(Instant::now() < deadline, "still held 10 s after the read completed");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Rings dropped with transfers a device never completes (dm-multipath queueing with
    /// no path, a hard NFS mount) do not each hold a thread of the runtime's blocking
    /// pool: more of them than the pool has threads leave it free for everyone else's
    /// work, and each is freed once its transfer completes.
    #[test]
    fn rings_dropped_with_stuck_transfers_leave_the_blocking_pool_free() {
        use std::io::Write;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let _entered = runtime.enter();
        if let Err(e) = Ring::new() {
            // Not a pass: nothing was tested.
            eprintln!("skipped: this kernel offers no io_uring ({e})");
            return;
        }
        let stuck: Vec<_> = (0..4).map(|_| reading_a_pipe()).collect();
        let mut writers = Vec::new();
        let mut volumes = Vec::new();
        for (ring, writer, volume) in stuck {
            drop(ring);
            writers.push(writer);
            volumes.push(volume);
        }
        let fresh = runtime.block_on(async {
            let work = tokio::task::spawn_blocking(|| 7);
            tokio::time::timeout(std::time::Duration::from_secs(1), work).await
        });
        // Whatever the outcome, the reads complete, so nothing stays blocked.
        for w in &mut writers {
            w.write_all(&[7; 512]).unwrap();
        }
        assert!(
            matches!(fresh, Ok(Ok(7))),
            "a blocking task waited more than 1 s behind dropped rings: {fresh:?}"
        );
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while volumes.iter().any(|v| v.upgrade().is_some()) {
            assert!(Instant::now() < deadline, "still held 10 s after the reads completed");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    #[tokio::test]
    async fn a_ring_ended_with_transfers_in_flight_waits_for_them_off_the_reactor() {
        let dir = tempfile::tempdir().unwrap();
        let volume = Arc::new(Volume::file("v", &dir.path().join("v.img"), 4096, 8 << 20).unwrap());
        let mut ring = Ring::new().unwrap();
        for i in 0..64u64 {
            let op = IoOp::Write {
                offset: i * 131_072 % (8 << 20),
                data: Bytes::from(vec![7u8; 131_072]),
                fua: true,
            };
            ring.start(request(i, &volume, op)).unwrap();
        }
        ring.submit();
        let kept = Arc::downgrade(&volume);
        drop(volume); // the ring's transfers keep it, and its descriptor, open
        assert!(ring.in_flight() > 0);
        drop(ring);
        // Freed once the last transfer completed.
        let deadline = Instant::now() + std::time::Duration::from_secs(30);
        while kept.upgrade().is_some() {
            assert!(Instant::now() < deadline, "every transfer completes within 30 s");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let on_disk = std::fs::read(dir.path().join("v.img")).unwrap();
        assert!(on_disk.iter().all(|&b| b == 7), "every write landed before the ring ended");
    }
}
