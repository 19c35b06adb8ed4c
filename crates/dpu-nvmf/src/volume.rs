//! Volumes: the block storage behind namespaces.
//!
//! A [`Volume`] is a number of logical blocks of 512 or 4096 bytes backed by RAM
//! ([`RamBackend`], sparse), a regular file ([`FileBackend`], a sparse file grown to
//! the volume size) or a block device (also [`FileBackend`], opened as is). RAM and
//! file volumes grow in place ([`Volume::grow`]), a block device volume when its device
//! grew ([`Volume::follow_device`]); no volume shrinks.
//!
//! Every backend call is synchronous and may block: the controller core never calls
//! them, it emits [`IoRequest`](crate::queue::IoRequest)s, and the shell runs them
//! on a bounded pool of blocking threads ([`crate::server`]), or, for the reads and writes
//! of a backend that names a descriptor ([`BlockBackend::transfer_fd`]), as io_uring
//! transfers (`crate::uring`). Byte offsets and
//! lengths handed to a backend are already range-checked against the volume size.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use memmap2::MmapMut;

use crate::latency::VolumeLatency;
use crate::rate_limit::{RateLimit, TokenBuckets};
use crate::volume_copy::{append_out, copy_in, copy_unaliased};

/// Logical block sizes a volume may have.
pub const BLOCK_SIZES: [u32; 2] = [512, 4096];

/// Errors creating a volume (configuration errors, never I/O during service).
#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    /// The block size is not one of [`BLOCK_SIZES`].
    #[error("block size {0} is not 512 or 4096")]
    BadBlockSize(u32),
    /// A volume needs at least one block.
    #[error("volume size {size} bytes is not a positive multiple of the block size {block_size}")]
    BadSize {
        /// Requested size in bytes.
        size: u64,
        /// Block size.
        block_size: u32,
    },
    /// A RAM volume larger than [`MAX_RAM_VOLUME`].
    #[error("RAM volume size {0} bytes exceeds the limit of {MAX_RAM_VOLUME} bytes")]
    RamTooLarge(u64),
    /// A file volume larger than a file can be ([`MAX_FILE_VOLUME`]).
    #[error(
        "{}: volume size {size} bytes is past the largest file size, {MAX_FILE_VOLUME} bytes \
         (2^63 - 1, off_t)",
        path.display()
    )]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// Requested size in bytes.
        size: u64,
    },
    /// A volume block size below the block device's logical block size.
    #[error(
        "block size {block_size} is below the logical block size {device} of {path}: use {device} or leave the block size unset"
    )]
    BelowDeviceBlockSize {
        /// The device.
        path: PathBuf,
        /// Requested volume block size.
        block_size: u32,
        /// The device's logical block size.
        device: u32,
    },
    /// A volume asked to become smaller: blocks hosts may have written would go.
    #[error(
        "volume size {size} bytes is below its present size {present} bytes: volumes only grow"
    )]
    Shrink {
        /// Requested size in bytes.
        size: u64,
        /// Present size in bytes.
        present: u64,
    },
    /// A volume whose backend has a fixed size asked to grow.
    #[error("the volume's backend has a fixed size: cannot grow to {0} bytes")]
    FixedSize(u64),
    /// A block device volume asked to grow beyond its device (its size is the device's).
    #[error("the block device holds {device} bytes, fewer than {size}: grow the device")]
    BeyondDevice {
        /// Requested size in bytes.
        size: u64,
        /// The device's size in bytes.
        device: u64,
    },
    /// A file volume opened before whose file is gone ([`crate::volume_records`]).
    #[error(
        "file volume {name}'s file {} is missing; it held the volume's data: restore it, or \
         delete the volume and create it again",
        path.display()
    )]
    FileMissing {
        /// Volume name.
        name: String,
        /// The file.
        path: PathBuf,
    },
    /// The system's random number generator failed (a RAM volume's [`Volume::contents_id`]).
    #[error("the system's random number generator failed")]
    NoRandom,
    /// Opening or sizing the backing file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// Checks a volume's block size and size in bytes (at least one block, whole blocks).
pub fn check_geometry(block_size: u32, size: u64) -> Result<(), VolumeError> {
    if !BLOCK_SIZES.contains(&block_size) {
        return Err(VolumeError::BadBlockSize(block_size));
    }
    if size == 0 || !size.is_multiple_of(u64::from(block_size)) {
        return Err(VolumeError::BadSize { size, block_size });
    }
    Ok(())
}

/// The medium a file or block device volume at `path` is on, for telling whether two
/// volumes share one (two would show hosts one medium as two namespaces): the path as the
/// file system resolves it (a `/dev/disk/by-id` link and its device are one), or, where
/// it does not exist yet, where it would be made ([`resolve_missing`]), so every spelling
/// of one path names one medium. May block.
pub fn medium(path: &Path) -> PathBuf {
    let written: PathBuf = path.components().collect();
    std::fs::canonicalize(&written).unwrap_or_else(|_| resolve_missing(&written, 0))
}

/// Symbolic links [`resolve_missing`] follows at most, as Linux's path walk (MAXSYMLINKS,
/// then ELOOP).
const MAX_SYMLINKS: usize = 40;

/// Where `path`, which does not resolve, would be made: component by component, each
/// prefix that exists as `canonicalize` resolves it (so a linked directory is its
/// target), `..` dropping the component before it (a real one: the prefix is resolved),
/// and a dangling symbolic link followed to its target, which opening it with `O_CREAT`
/// makes; a component that is not there is kept as written. `links`: those followed so
/// far.
fn resolve_missing(path: &Path, links: usize) -> PathBuf {
    let mut out = PathBuf::new();
    let mut rest = path.components();
    while let Some(c) = rest.next() {
        match c {
            // `/..` is `/`; a relative path keeps a leading `..`.
            Component::ParentDir if out.file_name().is_some() || out.has_root() => {
                out.pop();
            }
            c => out.push(c),
        }
        match std::fs::canonicalize(&out) {
            Ok(real) => out = real,
            Err(_) if links < MAX_SYMLINKS => {
                if let Ok(target) = std::fs::read_link(&out) {
                    out.pop();
                    // An absolute target replaces the path so far.
                    let followed = out.join(target).join(rest.as_path());
                    return resolve_missing(&followed, links + 1);
                }
            }
            Err(_) => {}
        }
    }
    out
}

/// The storage operations a volume needs. Implementations may block.
pub trait BlockBackend: Send + Sync + std::fmt::Debug {
    /// Fills `buf` from byte `offset`.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Appends the `len` bytes from byte `offset` to `out` (a read straight into an
    /// output buffer); on error `out` is left as it was. The default zeroes the room and
    /// reads into it; a memory backend copies without zeroing first.
    fn read_append(&self, out: &mut Vec<u8>, offset: u64, len: usize) -> io::Result<()> {
        append_via_read_at(self, out, offset, len)
    }
    /// Writes `data` at byte `offset`.
    fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()>;
    /// Makes completed writes durable.
    fn flush(&self) -> io::Result<()>;
    /// Zeroes `len` bytes from `offset`.
    fn write_zeroes(&self, offset: u64, len: u64) -> io::Result<()>;
    /// Deallocates `len` bytes from `offset`; later reads return zeroes.
    fn deallocate(&self, offset: u64, len: u64) -> io::Result<()>;
    /// Dataset Management's Deallocate (NVM Command Set 1.0 §3.2.3.2.1: the host no longer
    /// needs the range, the controller may deallocate it): [`deallocate`](Self::deallocate)
    /// where that is cheap and [`deallocated_reads_zero`](Self::deallocated_reads_zero)
    /// (the default), else a hint the backend may take or not.
    fn discard(&self, offset: u64, len: u64) -> io::Result<()> {
        self.deallocate(offset, len)
    }
    /// Whether blocks [`discard`](Self::discard)ed read as zero (Identify Namespace
    /// DLFEAT 001b). The default: yes, it deallocates.
    fn deallocated_reads_zero(&self) -> bool {
        true
    }
    /// Whether the backend has a volatile write cache that [`flush`](Self::flush) empties.
    fn volatile_cache(&self) -> bool;
    /// Whether every operation only copies memory (never waits for a device), so the
    /// shell may run it on the reactor instead of the blocking pool.
    fn memory_only(&self) -> bool {
        false
    }
    /// The descriptor a read or write of `len` bytes at byte `offset` may use as an
    /// asynchronous transfer (an io_uring read or write, `crate::uring`) instead of
    /// [`read_at`](Self::read_at) / [`write_at`](Self::write_at), and whether it is direct
    /// (O_DIRECT: the transfer's buffer must start at a [`DIRECT_ALIGN`] boundary). `None`
    /// (the default): only through those calls.
    fn transfer_fd(&self, offset: u64, len: usize) -> Option<(BorrowedFd<'_>, bool)> {
        let _ = (offset, len);
        None
    }
    /// The descriptor whose `fdatasync` is [`flush`](Self::flush), so a flush may run as
    /// an asynchronous one (an io_uring fsync, `crate::uring`). `None` (the default):
    /// only through that call.
    fn sync_fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }
    /// Makes room for `size` bytes, more than the `present` size (the caller checked);
    /// the bytes from `present` on must read as zero once it returns. The default
    /// refuses: the backend has a fixed size.
    fn grow(&self, present: u64, size: u64) -> Result<(), VolumeError> {
        let _ = present;
        Err(VolumeError::FixedSize(size))
    }
    /// A block device's present size in bytes (it may have grown since it was opened);
    /// `None` for a backend whose size is the volume's own.
    fn device_size(&self) -> Option<Result<u64, VolumeError>> {
        None
    }
    /// Bytes of storage the volume takes now where the backend allocates on write (a RAM
    /// volume's mapped chunks, a sparse file's blocks); `None` (the default) where the
    /// storage is the device's own. May block (a file's `fstat`).
    fn allocated_bytes(&self) -> Option<u64> {
        None
    }
}

/// [`BlockBackend::read_append`] by zeroing the room and reading into it.
fn append_via_read_at<B: BlockBackend + ?Sized>(
    backend: &B,
    out: &mut Vec<u8>,
    offset: u64,
    len: usize,
) -> io::Result<()> {
    let start = out.len();
    out.resize(start + len, 0);
    let res = backend.read_at(&mut out[start..], offset);
    if res.is_err() {
        out.truncate(start);
    }
    res
}

/// Chunk size of the sparse RAM backend: one transparent huge page, so a random read
/// of the volume costs one TLB entry per 2 MiB instead of one per 4 KiB page (with
/// 4 KiB pages, the page walk of each random 4 KiB read dominated its copy).
const RAM_CHUNK: u64 = 2 * 1024 * 1024;

/// Largest RAM volume (1 TiB, beyond any DPU's memory).
pub const MAX_RAM_VOLUME: u64 = 1 << 40;

/// Largest file volume: the largest length a file has (`off_t`, 2^63 - 1 bytes).
pub const MAX_FILE_VOLUME: u64 = i64::MAX as u64;

/// Chunks per segment of the chunk table: a segment covers 2 GiB of the volume.
const SEGMENT_CHUNKS: u64 = 1024;

/// Segments of the largest RAM volume (512; the table of their pointers is 12 KiB).
const SEGMENTS: usize = (MAX_RAM_VOLUME / RAM_CHUNK / SEGMENT_CHUNKS) as usize;

/// One allocated chunk: an anonymous mapping (zero until written), or none (reads as zero).
type ChunkSlot = RwLock<Option<MmapMut>>;

/// [`SEGMENT_CHUNKS`] chunk slots, allocated with the segment's first write.
type Segment = Box<[ChunkSlot]>;

/// Sparse RAM storage: a two-level table of chunks, each mapped on first write and
/// behind its own lock, so commands on different chunks never contend and finding a
/// chunk is two indexes, not a lookup. The table covers [`MAX_RAM_VOLUME`] from the
/// start (a segment's slots are allocated with its first write), so the volume grows
/// by raising its size alone. Unwritten chunks read as zero.
#[derive(Debug)]
pub struct RamBackend {
    segments: Box<[OnceLock<Segment>]>,
}

impl RamBackend {
    /// Storage for `size` bytes (nothing allocated until written).
    pub fn new(size: u64) -> Result<Self, VolumeError> {
        if size > MAX_RAM_VOLUME {
            return Err(VolumeError::RamTooLarge(size));
        }
        Ok(Self { segments: (0..SEGMENTS).map(|_| OnceLock::new()).collect() })
    }

    fn for_each_chunk(offset: u64, len: u64, mut f: impl FnMut(u64, usize, usize, usize)) {
        // f(chunk index, offset in chunk, length, offset in caller's buffer)
        let mut done = 0u64;
        while done < len {
            let pos = offset + done;
            let idx = pos / RAM_CHUNK;
            let within = (pos % RAM_CHUNK) as usize;
            let n = (RAM_CHUNK - within as u64).min(len - done) as usize;
            f(idx, within, n, done as usize);
            done += n as u64;
        }
    }

    /// The segment holding chunk `idx` and the chunk's index in it; offsets are
    /// range-checked before they get here, so a miss is an internal error, reported
    /// rather than panicking.
    fn segment(&self, idx: u64) -> io::Result<(&OnceLock<Segment>, usize)> {
        let seg = usize::try_from(idx / SEGMENT_CHUNKS)
            .ok()
            .and_then(|i| self.segments.get(i))
            .ok_or_else(|| io::Error::other("RAM volume offset beyond its size"))?;
        Ok((seg, (idx % SEGMENT_CHUNKS) as usize))
    }

    /// The slot of chunk `idx` if its segment was ever written (else it reads as zero).
    fn slot(&self, idx: u64) -> io::Result<Option<&ChunkSlot>> {
        let (seg, i) = self.segment(idx)?;
        Ok(seg.get().map(|s| &s[i]))
    }

    /// The slot of chunk `idx`, its segment allocated if need be (for writes).
    fn slot_for_write(&self, idx: u64) -> io::Result<&ChunkSlot> {
        let (seg, i) = self.segment(idx)?;
        let slots = seg.get_or_init(|| (0..SEGMENT_CHUNKS).map(|_| RwLock::new(None)).collect());
        Ok(&slots[i])
    }
}

fn poisoned<T>(_: T) -> io::Error {
    io::Error::other("RAM volume lock poisoned")
}

/// A zeroed chunk, backed by huge pages where the kernel has them to give.
fn map_chunk() -> io::Result<MmapMut> {
    let m = MmapMut::map_anon(RAM_CHUNK as usize)?;
    // Only advice: without transparent huge pages the chunk works on 4 KiB pages.
    #[cfg(target_os = "linux")]
    let _ = m.advise(memmap2::Advice::HugePage);
    Ok(m)
}

impl BlockBackend for RamBackend {
    /// The chunks mapped so far.
    fn allocated_bytes(&self) -> Option<u64> {
        let slots = self.segments.iter().filter_map(OnceLock::get).flat_map(|s| s.iter());
        let mapped = slots.filter(|c| c.read().is_ok_and(|c| c.is_some()));
        Some(mapped.count() as u64 * RAM_CHUNK)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut res = Ok(());
        Self::for_each_chunk(offset, buf.len() as u64, |idx, within, n, at| {
            let mut read = || -> io::Result<()> {
                let dst = &mut buf[at..at + n];
                let Some(slot) = self.slot(idx)? else {
                    dst.fill(0);
                    return Ok(());
                };
                match slot.read().map_err(poisoned)?.as_ref() {
                    Some(c) => copy_unaliased(dst, &c[within..within + n]),
                    None => dst.fill(0),
                }
                Ok(())
            };
            if res.is_ok() {
                res = read();
            }
        });
        res
    }

    fn read_append(&self, out: &mut Vec<u8>, offset: u64, len: usize) -> io::Result<()> {
        // Within one chunk (any block-aligned read of at most 2 MiB that does not
        // straddle a chunk edge): one copy from the chunk, without zeroing the room first.
        // A random block of a large volume misses the caches; zeroing its room cost about
        // as much as overlapping the misses of several blocks gained.
        let within = (offset % RAM_CHUNK) as usize;
        if within + len <= RAM_CHUNK as usize {
            let Some(slot) = self.slot(offset / RAM_CHUNK)? else {
                out.resize(out.len() + len, 0);
                return Ok(());
            };
            match slot.read().map_err(poisoned)?.as_ref() {
                Some(c) => append_out(out, &c[within..within + len]),
                None => out.resize(out.len() + len, 0),
            }
            return Ok(());
        }
        append_via_read_at(self, out, offset, len)
    }

    fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        let mut res = Ok(());
        Self::for_each_chunk(offset, data.len() as u64, |idx, within, n, at| {
            let write = || -> io::Result<()> {
                let mut chunk = self.slot_for_write(idx)?.write().map_err(poisoned)?;
                let c = match chunk.as_mut() {
                    Some(c) => c,
                    None => chunk.insert(map_chunk()?),
                };
                copy_in(&mut c[within..within + n], &data[at..at + n]);
                Ok(())
            };
            if res.is_ok() {
                res = write();
            }
        });
        res
    }

    fn flush(&self) -> io::Result<()> {
        Ok(())
    }

    fn write_zeroes(&self, offset: u64, len: u64) -> io::Result<()> {
        self.deallocate(offset, len)
    }

    fn deallocate(&self, offset: u64, len: u64) -> io::Result<()> {
        let mut res = Ok(());
        Self::for_each_chunk(offset, len, |idx, within, n, _| {
            let clear = || -> io::Result<()> {
                // A segment never written holds nothing to clear.
                let Some(slot) = self.slot(idx)? else { return Ok(()) };
                let mut chunk = slot.write().map_err(poisoned)?;
                if within == 0 && n as u64 == RAM_CHUNK {
                    // Unmapped: the memory goes back to the system.
                    *chunk = None;
                } else if let Some(c) = chunk.as_mut() {
                    c[within..within + n].fill(0);
                }
                Ok(())
            };
            if res.is_ok() {
                res = clear();
            }
        });
        res
    }

    fn volatile_cache(&self) -> bool {
        false
    }

    fn memory_only(&self) -> bool {
        true
    }

    fn grow(&self, _present: u64, size: u64) -> Result<(), VolumeError> {
        // The table covers the largest volume already; nothing was written past the
        // present size (every write is range-checked), so those chunks read as zero.
        if size > MAX_RAM_VOLUME {
            return Err(VolumeError::RamTooLarge(size));
        }
        Ok(())
    }
}

/// Alignment of O_DIRECT transfers (offset, length and buffer address).
pub const DIRECT_ALIGN: usize = 4096;

/// A regular file (sparse, sized to the volume) or a block device, accessed with
/// `pread`/`pwrite`. Where the file system allows it, aligned transfers bypass the
/// page cache through a second descriptor opened with `O_DIRECT`; the rest (and
/// everything on file systems without O_DIRECT, such as ramfs, or tmpfs before Linux
/// 6.6) goes through the page cache. Linux keeps the two coherent (direct I/O writes
/// back and invalidates the cached range first).
#[derive(Debug)]
pub struct FileBackend {
    /// For errors.
    path: PathBuf,
    file: File,
    direct: Option<File>,
    /// A block device's logical block size; `None` for a regular file.
    device_block_size: Option<u32>,
    /// Deallocating a range writes zeroes over it (a block device without Write Zeroes, a
    /// file on a file system that cannot punch holes), so a Dataset Management Deallocate
    /// only discards: a device's discard, nothing for a file.
    discard_only: bool,
}

/// Punches a hole of `len` bytes at `offset` into `file`, keeping its size; on a block
/// device Linux turns it into a discard that must leave zeroes.
fn punch_hole(file: &File, offset: u64, len: u64) -> io::Result<()> {
    use nix::fcntl::{FallocateFlags, fallocate};
    let (Ok(off), Ok(l)) = (i64::try_from(offset), i64::try_from(len)) else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "range too large"));
    };
    let flags = FallocateFlags::FALLOC_FL_PUNCH_HOLE | FallocateFlags::FALLOC_FL_KEEP_SIZE;
    fallocate(file, flags, off, l)?;
    Ok(())
}

/// Whether the file system of the regular file `file`, `len` bytes long, punches holes,
/// asked with a punch past the file's end: that changes neither its size (KEEP_SIZE) nor
/// its data (ext4, xfs, btrfs and tmpfs take it with nothing to free; ramfs, NFSv3, vfat
/// and exfat refuse it, EOPNOTSUPP). Any other refusal is no answer: yes, as before.
fn punches_holes(file: &File, len: u64) -> bool {
    let probe = DIRECT_ALIGN as u64;
    if len > MAX_FILE_VOLUME - probe {
        return true; // No room past the end to ask in.
    }
    !matches!(
        punch_hole(file, len, probe),
        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EOPNOTSUPP as i32)
    )
}

/// `err`, from a write of `backend` up to byte `end`, told apart where one errno means two
/// things: a block device refuses a write past its end with ENOSPC (`blkdev_write_iter`),
/// as a thin device whose pool is full refuses one inside it (BLK_STS_NOSPC). Past the
/// device's present end (it shrank under the volume, which follows no shrink) no room will
/// bring the blocks back: that is UnexpectedEof, as a read there ends, and its host hears
/// Internal Error, as from nvmet, whose I/O past its device's end fails in the block layer.
/// Asks the device's size (`lseek`: no I/O) only for such an error.
pub(crate) fn past_device_end<B>(backend: &B, err: io::Error, end: u64) -> io::Error
where
    B: BlockBackend + ?Sized,
{
    if err.kind() != io::ErrorKind::StorageFull {
        return err;
    }
    match backend.device_size() {
        Some(Ok(size)) if end > size => io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("past the end of the block device, now {size} bytes"),
        ),
        _ => err,
    }
}

/// Opens `path` with O_DIRECT and checks that an aligned read works; `None` where the
/// file system refuses direct I/O.
fn open_direct(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::fcntl::OFlag::O_DIRECT.bits())
        .open(path)
        .ok()?;
    let mut buf = AlignedBuf::new(DIRECT_ALIGN);
    f.read_at(buf.as_mut(), 0).ok()?;
    Some(f)
}

/// A heap buffer whose usable part starts at a [`DIRECT_ALIGN`] boundary.
#[derive(Debug)]
pub(crate) struct AlignedBuf {
    mem: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    pub(crate) fn new(len: usize) -> Self {
        let mem = vec![0u8; len + DIRECT_ALIGN];
        let addr = mem.as_ptr() as usize;
        let start = (DIRECT_ALIGN - addr % DIRECT_ALIGN) % DIRECT_ALIGN;
        Self { mem, start, len }
    }

    pub(crate) fn as_mut(&mut self) -> &mut [u8] {
        &mut self.mem[self.start..self.start + self.len]
    }

    pub(crate) fn as_ref(&self) -> &[u8] {
        &self.mem[self.start..self.start + self.len]
    }
}

fn aligned(offset: u64, len: usize) -> bool {
    len > 0 && offset.is_multiple_of(DIRECT_ALIGN as u64) && len.is_multiple_of(DIRECT_ALIGN)
}

/// The logical block size of the block device numbered `rdev`.
fn device_block_size(rdev: u64) -> io::Result<u32> {
    let size = queue_limit(rdev, "logical_block_size")?;
    u32::try_from(size).map_err(|_| {
        io::Error::new(io::ErrorKind::InvalidData, format!("logical block size {size}"))
    })
}

/// Whether the block device numbered `rdev` has Write Zeroes (`REQ_OP_WRITE_ZEROES`),
/// which zeroes a range, unmapping it where the device can, without writing the zeroes
/// across the bus. No where sysfs does not say.
fn device_writes_zeroes(rdev: u64) -> bool {
    queue_limit(rdev, "write_zeroes_max_bytes").is_ok_and(|bytes| bytes > 0)
}

/// The queue limit `name` of the block device numbered `rdev`, from sysfs (a partition's
/// directory has no `queue`: its disk's, one level up, holds it).
fn queue_limit(rdev: u64, name: &str) -> io::Result<u64> {
    let (major, minor) = (nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev));
    let dir = PathBuf::from(format!("/sys/dev/block/{major}:{minor}"));
    let text = std::fs::read_to_string(dir.join("queue").join(name))
        .or_else(|_| std::fs::read_to_string(dir.join("../queue").join(name)))?;
    text.trim().parse().map_err(|_| {
        io::Error::new(io::ErrorKind::InvalidData, format!("{name} {text:?} in {dir:?}"))
    })
}

impl FileBackend {
    /// Opens (creating if needed) a regular file and sets its length to `size`
    /// (growing it sparsely). An existing larger file is not truncated: a size given
    /// smaller by mistake must not destroy what hosts wrote. Its tail stays on disk,
    /// out of the hosts' reach (every command is range-checked against the volume
    /// size), and is zeroed should the volume grow over it ([`BlockBackend::grow`]).
    pub fn open_file(path: &Path, size: u64) -> Result<Self, VolumeError> {
        Self::open_file_noting(path, size, true).map(|(backend, _)| backend)
    }

    /// As [`open_file`](Self::open_file), creating the file only if `create` (else a
    /// missing one is an error, NotFound), also saying what it changed on disk, so a caller
    /// that cannot go on can take it back ([`FileChange::undo`]). A file it created and
    /// then could not size (a size the file system refuses) is removed again.
    pub fn open_file_noting(
        path: &Path,
        size: u64,
        create: bool,
    ) -> Result<(Self, FileChange), VolumeError> {
        let io_err = |source| VolumeError::Io { path: path.to_owned(), source };
        let open =
            |create: bool| OpenOptions::new().read(true).write(true).create_new(create).open(path);
        // An existing file first: then only a file this call made counts as created.
        let (file, created) = match open(false) {
            Ok(file) => (file, false),
            Err(e) if e.kind() == io::ErrorKind::NotFound && create => match open(true) {
                Ok(file) => (file, true),
                // Not found, yet there: a symlink to nothing (O_EXCL never follows one).
                // Make its target, as open(2) with O_CREAT does.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let mut options = OpenOptions::new();
                    options.read(true).write(true).create(true).truncate(false);
                    (options.open(path).map_err(io_err)?, true)
                }
                Err(e) => return Err(io_err(e)),
            },
            Err(e) => return Err(io_err(e)),
        };
        let backend = Self {
            path: path.to_owned(),
            file,
            direct: None,
            device_block_size: None,
            discard_only: false,
        };
        let (change, old) = match backend.extend_to(size) {
            Ok(len) if created => (FileChange::Created, len),
            Ok(len) if len < size => (FileChange::Grown(len), len),
            Ok(len) => (FileChange::Unchanged, len),
            Err(e) => {
                if created {
                    // Nothing else knows the file yet: a refused volume leaves no file.
                    let _ = FileChange::Created.undo(path);
                }
                return Err(e);
            }
        };
        // Without holes, a deallocation writes zeroes over its range: a host's trim of the
        // whole namespace (mkfs, fstrim) would fill the sparse file.
        let discard_only = !punches_holes(&backend.file, old.max(size));
        Ok((Self { direct: open_direct(path), discard_only, ..backend }, change))
    }

    /// Opens a block device; returns it with its size in bytes.
    pub fn open_block_device(path: &Path) -> Result<(Self, u64), VolumeError> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let io_err = |source| VolumeError::Io { path: path.to_owned(), source };
        let file = OpenOptions::new().read(true).write(true).open(path).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        if !meta.file_type().is_block_device() {
            return Err(io_err(io::Error::new(io::ErrorKind::InvalidInput, "not a block device")));
        }
        let block_size = device_block_size(meta.rdev()).map_err(io_err)?;
        let backend = Self {
            path: path.to_owned(),
            file,
            direct: open_direct(path),
            device_block_size: Some(block_size),
            discard_only: !device_writes_zeroes(meta.rdev()),
        };
        let size = backend.seek_end()?;
        Ok((backend, size))
    }

    /// The file's or device's length, by seeking to its end (for a block device, the
    /// device's present size). The descriptor's offset is not used otherwise: every
    /// transfer is positioned (pread/pwrite).
    fn seek_end(&self) -> Result<u64, VolumeError> {
        use std::io::{Seek, SeekFrom};
        let size = (&self.file).seek(SeekFrom::End(0));
        size.map_err(|source| VolumeError::Io { path: self.path.clone(), source })
    }

    /// A block device's logical block size (`None` for a regular file): the smallest
    /// unit it writes atomically, and the alignment it needs for direct I/O.
    pub fn device_block_size(&self) -> Option<u32> {
        self.device_block_size
    }

    /// Whether aligned transfers use O_DIRECT.
    pub fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// The error of a call on the file, naming it.
    fn io_err(&self, source: io::Error) -> VolumeError {
        VolumeError::Io { path: self.path.clone(), source }
    }

    /// The file's length, at least `size` (sparse: the new blocks take no space until
    /// written, and read as zero). Returns the length it had.
    fn extend_to(&self, size: u64) -> Result<u64, VolumeError> {
        // Said so, not as the conversion `set_len` would fail with.
        if size > MAX_FILE_VOLUME {
            return Err(VolumeError::FileTooLarge { path: self.path.clone(), size });
        }
        let len = self.file.metadata().map_err(|e| self.io_err(e))?.len();
        if len < size {
            self.file.set_len(size).map_err(|e| self.io_err(e))?;
        }
        Ok(len)
    }
}

/// What opening a file volume did to its file ([`FileBackend::open_file_noting`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileChange {
    /// The file did not exist: it was created.
    Created,
    /// The file was shorter than the volume: it was extended (sparsely) from this length.
    Grown(u64),
    /// The file was left as it was.
    Unchanged,
}

impl FileChange {
    /// Takes the change to the file at `path` back: removes a file that was created (the
    /// file, not a symlink to it the operator made), cuts a grown one back to its length
    /// (what it gained is a hole nobody wrote yet).
    pub fn undo(self, path: &Path) -> io::Result<()> {
        match self {
            Self::Created => std::fs::remove_file(std::fs::canonicalize(path)?),
            Self::Grown(len) => OpenOptions::new().write(true).open(path)?.set_len(len),
            Self::Unchanged => Ok(()),
        }
    }
}

impl BlockBackend for FileBackend {
    fn allocated_bytes(&self) -> Option<u64> {
        use std::os::unix::fs::MetadataExt;
        // A block device's blocks are its own; a file's are counted in 512-byte units.
        if self.device_block_size.is_some() {
            return None;
        }
        self.file.metadata().ok().map(|m| m.blocks() * 512)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        if let Some(d) = self.direct.as_ref().filter(|_| aligned(offset, buf.len())) {
            let mut b = AlignedBuf::new(buf.len());
            d.read_exact_at(b.as_mut(), offset)?;
            buf.copy_from_slice(b.as_ref());
            return Ok(());
        }
        self.file.read_exact_at(buf, offset)
    }

    fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        let res = match self.direct.as_ref().filter(|_| aligned(offset, data.len())) {
            Some(d) => {
                let mut b = AlignedBuf::new(data.len());
                b.as_mut().copy_from_slice(data);
                d.write_all_at(b.as_ref(), offset)
            }
            None => self.file.write_all_at(data, offset),
        };
        res.map_err(|e| past_device_end(self, e, offset + data.len() as u64))
    }

    fn flush(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn write_zeroes(&self, offset: u64, len: u64) -> io::Result<()> {
        use nix::fcntl::{FallocateFlags, fallocate};
        let (Ok(off), Ok(l)) = (i64::try_from(offset), i64::try_from(len)) else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "range too large"));
        };
        if fallocate(&self.file, FallocateFlags::FALLOC_FL_ZERO_RANGE, off, l).is_ok() {
            return Ok(());
        }
        // Fall back to writing zeroes in bounded pieces.
        let zeroes = vec![0u8; 1 << 20];
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(zeroes.len() as u64) as usize;
            let res = self.file.write_all_at(&zeroes[..n], offset + done);
            res.map_err(|e| past_device_end(self, e, offset + len))?;
            done += n as u64;
        }
        Ok(())
    }

    fn deallocate(&self, offset: u64, len: u64) -> io::Result<()> {
        // On a regular file this punches a hole. On a block device Linux turns it into a
        // discard that must leave zeroes (the device's WRITE ZEROES with unmap allowed; a
        // loop device punches its file), and refuses when the device cannot promise that.
        if punch_hole(&self.file, offset, len).is_err() {
            // Deallocated blocks must read as zero.
            return self.write_zeroes(offset, len);
        }
        Ok(())
    }

    fn discard(&self, offset: u64, len: u64) -> io::Result<()> {
        // Where deallocating writes the zeroes in full, a host's trim would cost a write of
        // the range (and fill a thin volume or a sparse file). As nvmet's, a device's
        // discard frees what it can, and a file whose file system refuses the punch
        // (`nvmet_file_execute_discard`: EOPNOTSUPP is success) stays as it is; DLFEAT
        // then promises nothing.
        match (self.discard_only, self.device_block_size) {
            (false, _) => self.deallocate(offset, len),
            (true, Some(_)) => crate::blkdiscard::discard(&self.file, offset, len),
            (true, None) => Ok(()),
        }
    }

    fn deallocated_reads_zero(&self) -> bool {
        !self.discard_only
    }

    fn volatile_cache(&self) -> bool {
        true
    }

    fn sync_fd(&self) -> Option<BorrowedFd<'_>> {
        // What flush syncs; the direct descriptor names the same file.
        Some(self.file.as_fd())
    }

    fn transfer_fd(&self, offset: u64, len: usize) -> Option<(BorrowedFd<'_>, bool)> {
        // The same choice as read_at and write_at make.
        Some(match self.direct.as_ref().filter(|_| aligned(offset, len)) {
            Some(d) => (d.as_fd(), true),
            None => (self.file.as_fd(), false),
        })
    }

    fn device_size(&self) -> Option<Result<u64, VolumeError>> {
        self.device_block_size.map(|_| self.seek_end())
    }

    fn grow(&self, present: u64, size: u64) -> Result<(), VolumeError> {
        if let Some(device) = self.device_size() {
            let device = device?;
            return if device >= size {
                Ok(())
            } else {
                Err(VolumeError::BeyondDevice { size, device })
            };
        }
        let len = self.extend_to(size)?;
        // A file longer than the volume (opened at a smaller size, `open_file`) holds
        // old data past `present`: the new blocks must read as zero (`Volume::grow`), so
        // that part is deallocated (a hole; else zeroed) before hosts can reach it.
        let stale = len.min(size).saturating_sub(present);
        if stale > 0 {
            self.deallocate(present, stale).map_err(|e| self.io_err(e))?;
        }
        Ok(())
    }
}

/// Volumes with a rate limit in this process: while there are none, I/O commands skip
/// the limit check with one relaxed load.
static RATE_LIMITED: AtomicU64 = AtomicU64::new(0);

fn count_rate_limited(limited: bool) {
    if limited {
        RATE_LIMITED.fetch_add(1, Ordering::Relaxed);
    } else {
        RATE_LIMITED.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether any volume of the process has a rate limit.
pub fn any_rate_limited() -> bool {
    RATE_LIMITED.load(Ordering::Relaxed) != 0
}

impl Drop for Volume {
    fn drop(&mut self) {
        if *self.limited.get_mut() {
            count_rate_limited(false);
        }
        self.close_off_the_reactor();
    }
}

/// What a dropped [`Volume`] keeps while its backend closes on a blocking thread
/// ([`Volume::close_off_the_reactor`]); nobody uses it.
#[derive(Debug)]
struct Closed;

impl BlockBackend for Closed {
    fn read_at(&self, _: &mut [u8], _: u64) -> io::Result<()> {
        Err(io::ErrorKind::NotConnected.into())
    }
    fn write_at(&self, _: &[u8], _: u64) -> io::Result<()> {
        Err(io::ErrorKind::NotConnected.into())
    }
    fn flush(&self) -> io::Result<()> {
        Err(io::ErrorKind::NotConnected.into())
    }
    fn write_zeroes(&self, _: u64, _: u64) -> io::Result<()> {
        Err(io::ErrorKind::NotConnected.into())
    }
    fn deallocate(&self, _: u64, _: u64) -> io::Result<()> {
        Err(io::ErrorKind::NotConnected.into())
    }
    fn volatile_cache(&self) -> bool {
        false
    }
}

/// A volume: a number of logical blocks on a backend.
#[derive(Debug)]
pub struct Volume {
    name: String,
    block_size: u32,
    /// Only grows ([`Volume::grow`]); read per command for its range check.
    blocks: AtomicU64,
    backend: Box<dyn BlockBackend>,
    /// Whether `buckets` limits it: unlimited volumes' commands take no lock.
    limited: AtomicBool,
    /// Its quality of service ([`Volume::set_rate_limit`]), shared by every namespace and
    /// connection that uses it.
    buckets: Mutex<Option<TokenBuckets>>,
    /// How long its device operations take (recorded by the shell); shared with the
    /// volume it replaced under one name, if any ([`Volume::with_latency`]).
    latency: Arc<VolumeLatency>,
    /// The file or block device it is on ([`medium`], resolved once opened).
    medium: Option<PathBuf>,
    /// See [`Volume::contents_id`].
    contents_id: Option<[u8; 16]>,
}

impl Volume {
    /// Closes a backend that may block on its way out on a blocking thread when dropped
    /// within a tokio runtime: the last close of a block device waits for its dirty
    /// pages to be written (Linux's `blkdev_release` syncs it), an NFS file's flushes
    /// them, and the last reference to a volume often goes on an async task (a Sync
    /// replacing its volumes, a connection letting a removed namespace go). Elsewhere,
    /// or once the runtime is shutting down, it closes where it is.
    fn close_off_the_reactor(&mut self) {
        if self.backend.memory_only() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let backend = std::mem::replace(&mut self.backend, Box::new(Closed));
        drop(runtime.spawn_blocking(move || drop(backend)));
    }

    /// How long its reads, writes and flushes take on the device (file and block device
    /// volumes; a RAM volume's copies are not counted).
    pub fn latency(&self) -> &VolumeLatency {
        &self.latency
    }

    /// Records its operations' latency in `latency`: a volume opened anew under the name
    /// of another counts on in the other's histograms (which also take the operations
    /// the other still completes), so the counts under the name never go down.
    pub fn with_latency(mut self, latency: Arc<VolumeLatency>) -> Self {
        self.latency = latency;
        self
    }

    /// A volume of `size` bytes on `backend`.
    pub fn new(
        name: impl Into<String>,
        block_size: u32,
        size: u64,
        backend: Box<dyn BlockBackend>,
    ) -> Result<Self, VolumeError> {
        check_geometry(block_size, size)?;
        let blocks = AtomicU64::new(size / u64::from(block_size));
        Ok(Self {
            name: name.into(),
            block_size,
            blocks,
            backend,
            limited: AtomicBool::new(false),
            buckets: Mutex::new(None),
            latency: Arc::default(),
            medium: None,
            contents_id: None,
        })
    }

    /// What tells its data apart from the data of the volume's other openings, where that
    /// data ends with it: a RAM volume's, random, drawn when it is opened (a grow keeps it).
    /// `None` where the data lives on in its file or device. Default namespace IDs hash it
    /// (`crate::default_namespace_ids`), so a host that finds a namespace's IDs again finds
    /// its data again: Linux keeps its cached pages of a disk whose IDs did not change.
    pub fn contents_id(&self) -> Option<&[u8; 16]> {
        self.contents_id.as_ref()
    }

    /// The file or block device it is on, as [`medium`] resolved it when the volume was
    /// opened (so the service compares its volumes without touching the file system);
    /// `None` for a RAM volume or one on another backend.
    pub fn medium(&self) -> Option<&Path> {
        self.medium.as_deref()
    }

    /// Notes that it is on the file or device at `path`, which it opened. Blocks.
    fn on(mut self, path: &Path) -> Self {
        self.medium = Some(medium(path));
        self
    }

    /// Limits the commands and bytes per second of every host together (0 for no limit
    /// in a dimension); commands past the limit wait in their connection until it lets
    /// them through. A new limit starts with full buckets; the same limit again keeps
    /// the current ones.
    pub fn set_rate_limit(&self, limit: RateLimit, now: Instant) {
        let mut b = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if b.as_ref().map(TokenBuckets::limit) == Some(limit) {
            return;
        }
        // The byte bucket holds at least one largest command.
        let largest = u64::from(crate::identify::MAX_TRANSFER);
        *b = (!limit.is_unlimited()).then(|| TokenBuckets::new(limit, largest, now));
        let limited = b.is_some();
        if self.limited.swap(limited, Ordering::Relaxed) != limited {
            count_rate_limited(limited);
        }
    }

    /// The limit set by [`Volume::set_rate_limit`] (unlimited unless set).
    pub fn rate_limit(&self) -> RateLimit {
        let b = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        b.as_ref().map(TokenBuckets::limit).unwrap_or_default()
    }

    /// Takes a command of `bytes` at `now` from the volume's limits, or says when to try
    /// again. One relaxed load for an unlimited volume.
    pub fn admit(&self, now: Instant, bytes: u64) -> Result<(), Instant> {
        if !self.limited.load(Ordering::Relaxed) {
            return Ok(());
        }
        let mut b = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        b.as_mut().map_or(Ok(()), |b| b.admit(now, bytes))
    }

    /// A sparse RAM volume, with a [`contents_id`](Self::contents_id) of its own.
    pub fn ram(name: impl Into<String>, block_size: u32, size: u64) -> Result<Self, VolumeError> {
        let mut volume = Self::new(name, block_size, size, Box::new(RamBackend::new(size)?))?;
        let random = crate::dhchap::random_bytes(16).ok_or(VolumeError::NoRandom)?;
        let mut id = [0; 16];
        id.copy_from_slice(&random);
        volume.contents_id = Some(id);
        Ok(volume)
    }

    /// A volume on a (sparse) regular file, created if missing (see
    /// [`file_noting`](Self::file_noting) for a file that must not be made).
    pub fn file(
        name: impl Into<String>,
        path: &Path,
        block_size: u32,
        size: u64,
    ) -> Result<Self, VolumeError> {
        Self::file_noting(name, path, block_size, size, true).map(|(volume, _)| volume)
    }

    /// As [`file`](Self::file), creating a missing file only if `create` (else it is
    /// [`VolumeError::FileMissing`]: the volume was opened before, so the file held its
    /// data), also saying what it changed on disk ([`FileBackend::open_file_noting`]).
    pub fn file_noting(
        name: impl Into<String>,
        path: &Path,
        block_size: u32,
        size: u64,
        create: bool,
    ) -> Result<(Self, FileChange), VolumeError> {
        let name = name.into();
        // Validate before touching the file system.
        check_geometry(block_size, size)?;
        if size > MAX_FILE_VOLUME {
            return Err(VolumeError::FileTooLarge { path: path.to_owned(), size });
        }
        let (backend, change) =
            FileBackend::open_file_noting(path, size, create).map_err(|e| match e {
                VolumeError::Io { path, source }
                    if !create && source.kind() == io::ErrorKind::NotFound =>
                {
                    VolumeError::FileMissing { name: name.clone(), path }
                }
                e => e,
            })?;
        Ok((Self::new(name, block_size, size, Box::new(backend))?.on(path), change))
    }

    /// A volume on a whole block device (size rounded down to the block size), with
    /// `block_size`, or the device's own logical block size if `None` (as Linux's nvmet
    /// does). A block size below the device's is refused: the device could not write
    /// such a block atomically, nor read or write it directly.
    pub fn block_device(
        name: impl Into<String>,
        path: &Path,
        block_size: Option<u32>,
    ) -> Result<Self, VolumeError> {
        let (backend, size) = FileBackend::open_block_device(path)?;
        let device = backend.device_block_size.unwrap_or(512);
        let block_size = block_size.unwrap_or(device);
        if !BLOCK_SIZES.contains(&block_size) {
            return Err(VolumeError::BadBlockSize(block_size));
        }
        if block_size < device {
            return Err(VolumeError::BelowDeviceBlockSize {
                path: path.to_owned(),
                block_size,
                device,
            });
        }
        let size = size - size % u64::from(block_size);
        Self::new(name, block_size, size, Box::new(backend)).map(|v| v.on(path))
    }

    /// Name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Logical block size in bytes.
    pub fn block_size(&self) -> u32 {
        self.block_size
    }

    /// Number of logical blocks.
    pub fn blocks(&self) -> u64 {
        // Acquire: a command that sees the new size finds the backend grown.
        self.blocks.load(Ordering::Acquire)
    }

    /// The size hosts see, in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.blocks() * u64::from(self.block_size)
    }

    /// Follows a block device that grew (`lvextend`, `losetup -c`, a resized virtual
    /// disk): grows the volume to the device's size, rounded down to the block size.
    /// Returns whether it grew; a volume of another backend never does. A device that
    /// shrank is not followed (I/O of its blocks past the end fails with Internal Error:
    /// `past_device_end`). Blocks for a
    /// system call.
    pub fn follow_device(&self) -> Result<bool, VolumeError> {
        let Some(device) = self.backend.device_size() else { return Ok(false) };
        let device = device?;
        let size = device - device % u64::from(self.block_size);
        if size <= self.size_bytes() {
            return Ok(false);
        }
        self.grow(size)?;
        Ok(true)
    }

    /// Grows the volume in place to `size` bytes (a multiple of the block size, not
    /// below the present size; the same size changes nothing). Data stays; the new
    /// blocks of a RAM or file volume read as zero (a block device's hold what its
    /// device holds there). Blocks (file volumes: sets the file's length, and zeroes
    /// what a longer file held past the present size); the caller tells hosts
    /// ([`Target::volume_resized`](crate::Target::volume_resized)) and serializes
    /// resizes of one volume.
    pub fn grow(&self, size: u64) -> Result<(), VolumeError> {
        let block_size = self.block_size;
        if size == 0 || !size.is_multiple_of(u64::from(block_size)) {
            return Err(VolumeError::BadSize { size, block_size });
        }
        let present = self.size_bytes();
        if size < present {
            return Err(VolumeError::Shrink { size, present });
        }
        if size > present {
            self.backend.grow(present, size)?;
            // Release: after the backend has room for the new blocks, zeroed.
            self.blocks.fetch_max(size / u64::from(block_size), Ordering::Release);
        }
        Ok(())
    }

    /// The backend.
    pub fn backend(&self) -> &dyn BlockBackend {
        self.backend.as_ref()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use super::*;

    fn exercise(v: &Volume) {
        let b = v.backend();
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        b.write_at(&data, 12_345).unwrap();
        let mut back = vec![0u8; data.len()];
        b.read_at(&mut back, 12_345).unwrap();
        assert_eq!(back, data);
        b.write_zeroes(20_000, 70_000).unwrap();
        b.read_at(&mut back, 12_345).unwrap();
        assert!(back[20_000 - 12_345..90_000 - 12_345].iter().all(|&x| x == 0));
        assert_eq!(back[..20_000 - 12_345], data[..20_000 - 12_345]);
        b.deallocate(0, 1 << 20).unwrap();
        b.read_at(&mut back, 12_345).unwrap();
        assert!(back.iter().all(|&x| x == 0));
        b.flush().unwrap();
    }

    #[test]
    fn ram_volume_roundtrip_and_sparse() {
        let v = Volume::ram("r", 512, 4 << 20).unwrap();
        assert_eq!(v.blocks(), 8192);
        exercise(&v);
        let ram = RamBackend::new(8 << 20).unwrap();
        assert_eq!(ram.allocated_bytes(), Some(0));
        ram.write_at(&[1], (3 << 20) + 5).unwrap();
        assert_eq!(ram.allocated_bytes(), Some(RAM_CHUNK));
        // A write across a chunk boundary maps both chunks; a whole chunk deallocated
        // is unmapped again, a partial one reads back zero.
        ram.write_at(&[7; 8], (4 << 20) - 4).unwrap();
        assert_eq!(ram.allocated_bytes(), Some(2 * RAM_CHUNK));
        ram.deallocate(2 << 20, RAM_CHUNK).unwrap();
        assert_eq!(ram.allocated_bytes(), Some(RAM_CHUNK));
        let mut back = [9u8; 8];
        ram.read_at(&mut back, (4 << 20) - 4).unwrap();
        assert_eq!(back, [0, 0, 0, 0, 7, 7, 7, 7]);
    }

    #[test]
    fn ram_read_append_matches_read_at() {
        let ram = RamBackend::new(5 * RAM_CHUNK).unwrap();
        let data: Vec<u8> = (0..3 * RAM_CHUNK as u32).map(|i| (i % 251) as u8).collect();
        ram.write_at(&data, RAM_CHUNK).unwrap();
        // Within a chunk, across a chunk boundary, in a never written chunk, odd lengths
        // and offsets, all appended to one output behind what it held.
        let c = RAM_CHUNK;
        let wanted =
            [(c + 4096, 4096), (c + 8192, 512), (2 * c - 100, 300), (7, 4096), (4 * c + 10, 1000)];
        let mut out = vec![0xEE; 3];
        let mut want = out.clone();
        for &(offset, n) in &wanted {
            ram.read_append(&mut out, offset, n).unwrap();
            let mut w = vec![0; n];
            ram.read_at(&mut w, offset).unwrap();
            want.extend_from_slice(&w);
        }
        assert_eq!(out, want);
        assert_eq!(out[3..3 + 4096], data[4096..8192]);
        // Beyond the table (the volume range-checks its own size first), inside one chunk
        // slot or across the end: an error, and the output is as it was.
        let end = MAX_RAM_VOLUME;
        for (offset, n) in [(end, 512), (end - 100, 512)] {
            let before = out.clone();
            assert!(ram.read_append(&mut out, offset, n).is_err());
            assert_eq!(out, before);
        }
    }

    /// The default `read_append` (file and block backends) zeroes the room, reads into
    /// it, and takes it back out on error.
    #[test]
    fn default_read_append_reads_or_leaves_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let b = FileBackend::open_file(&dir.path().join("f"), 8192).unwrap();
        let data: Vec<u8> = (0..4096u32).map(|i| (i % 241) as u8).collect();
        b.write_at(&data, 4096).unwrap();
        let mut out = vec![1, 2];
        b.read_append(&mut out, 4096, 4096).unwrap();
        assert_eq!(out[..2], [1, 2]);
        assert_eq!(out[2..], data[..]);
        assert!(b.read_append(&mut out, 8192, 4096).is_err());
        assert_eq!(out.len(), 2 + 4096);
    }

    /// A file volume says what it did to its file and can take it back; a size the file
    /// system refuses (past `off_t`) leaves no file it created, and an existing file as
    /// it was.
    #[test]
    fn a_file_volume_notes_its_change_and_a_refused_size_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vol.img");
        let refused = Volume::file("f", &path, 512, 1 << 63).unwrap_err().to_string();
        assert!(refused.starts_with(&path.display().to_string()), "{refused}");
        assert!(!path.exists(), "a refused volume left its file behind");
        let (_, made) = Volume::file_noting("f", &path, 512, 8192, true).unwrap();
        assert_eq!(made, FileChange::Created);
        assert!(Volume::file("f", &path, 512, 1 << 63).is_err());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 8192, "an existing file stays");
        let (_, grown) = Volume::file_noting("f", &path, 512, 16384, true).unwrap();
        assert_eq!(grown, FileChange::Grown(8192));
        let (_, same) = Volume::file_noting("f", &path, 512, 4096, true).unwrap();
        assert_eq!(same, FileChange::Unchanged);
        grown.undo(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 8192);
        same.undo(&path).unwrap();
        made.undo(&path).unwrap();
        assert!(!path.exists());
        // A symlink to a file not made yet: the file is made (as before the check for
        // files this call created), and taken back without the operator's link.
        let link = dir.path().join("link.img");
        std::os::unix::fs::symlink("target.img", &link).unwrap();
        let (_, made) = Volume::file_noting("f", &link, 512, 8192, true).unwrap();
        assert_eq!(made, FileChange::Created);
        assert_eq!(std::fs::metadata(dir.path().join("target.img")).unwrap().len(), 8192);
        made.undo(&link).unwrap();
        assert!(!dir.path().join("target.img").exists());
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    }

    /// A volume keeps the medium it opened as the file system resolved it then, once the
    /// file exists (the service compares its volumes by it without touching the file
    /// system): through a symbolic link to a file it made, the file, which is also the
    /// link's medium before it was made.
    #[test]
    fn a_volume_keeps_the_medium_it_opened() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.img");
        std::os::unix::fs::symlink("target.img", &link).unwrap();
        let before = medium(&link);
        let v = Volume::file("f", &link, 512, 8192).unwrap();
        let made = std::fs::canonicalize(dir.path().join("target.img")).unwrap();
        assert_eq!(v.medium(), Some(made.as_path()));
        assert_eq!(before, made, "not there yet: where it would be made");
        assert_eq!(Volume::ram("r", 512, 8192).unwrap().medium(), None);
    }

    /// A path not made yet names one medium however it is spelt: `..` after a directory
    /// (there or not), `.` and repeated `/`, or a symbolic link to a directory on the way
    /// all resolve to where the file would be made.
    #[test]
    fn a_missing_file_has_one_medium_however_spelt() {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(real.join("a")).unwrap();
        std::os::unix::fs::symlink(real.join("a"), real.join("to-a")).unwrap();
        let d = real.display();
        let want = real.join("f.img");
        for spelt in [
            format!("{d}/a/../f.img"),
            format!("{d}/missing/../f.img"),
            format!("{d}/missing/deeper/../../f.img"),
            format!("{d}/./f.img"),
            format!("{d}//f.img"),
            format!("{d}/to-a/../f.img"),
        ] {
            assert_eq!(medium(Path::new(&spelt)), want, "{spelt}");
        }
        let in_a = real.join("a").join("f.img");
        assert_eq!(medium(&real.join("to-a").join("f.img")), in_a, "through a linked directory");
        assert_eq!(medium(&real.join("missing/../to-a/f.img")), in_a, "a link after `..`");
        assert_eq!(medium(Path::new("/../..")), Path::new("/"), "`..` of the root is the root");
        // A link to a file not made yet: opening it makes its target.
        std::os::unix::fs::symlink("a/../made.img", real.join("dangling.img")).unwrap();
        assert_eq!(medium(&real.join("dangling.img")), real.join("made.img"));
    }

    #[test]
    fn file_volume_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vol.img");
        let v = Volume::file("f", &path, 4096, 4 << 20).unwrap();
        assert_eq!(v.blocks(), 1024);
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.len(), 4 << 20);
        use std::os::unix::fs::MetadataExt;
        assert!(meta.blocks() * 512 < 64 << 10, "sparse: {} blocks allocated", meta.blocks());
        exercise(&v);
        // Aligned (direct where supported) and unaligned transfers see each other.
        let b = FileBackend::open_file(&path, 4 << 20).unwrap();
        println!("O_DIRECT on the test file system: {}", b.is_direct());
        let before = b.allocated_bytes().unwrap();
        let data: Vec<u8> = (0..65536u32).map(|i| (i % 253) as u8).collect();
        b.write_at(&data, 8192).unwrap();
        // The file's blocks, as `du` counts them: the 64 KiB just written are among them.
        let after = b.allocated_bytes().unwrap();
        assert!(after >= before + 65536 && after < 4 << 20, "{before} -> {after}");
        let mut back = vec![0u8; 1000];
        b.read_at(&mut back, 8192 + 512).unwrap();
        assert_eq!(back, data[512..1512]);
        b.write_at(&[7u8; 100], 8192 + 4096).unwrap();
        let mut all = vec![0u8; 65536];
        b.read_at(&mut all, 8192).unwrap();
        assert_eq!(&all[4096..4196], &[7u8; 100][..]);
        assert_eq!(all[4196..], data[4196..]);
    }

    /// Opening a file volume asks its file system whether it punches holes with a punch
    /// past the file's end, which leaves the file's size, data and blocks as they were
    /// (ext4, xfs, tmpfs: whatever the test's directory is on); there deallocated blocks
    /// read as zero (DLFEAT 001b). Ramfs, which cannot: the `block_device` tests.
    #[test]
    fn asking_for_holes_leaves_the_file_as_it_was() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("probed.img");
        let data: Vec<u8> = (0..65536u32).map(|i| (i % 249) as u8).collect();
        let f = File::create(&path).unwrap();
        f.write_all_at(&data, (1 << 20) - 65536).unwrap();
        f.sync_all().unwrap();
        let before = std::fs::metadata(&path).unwrap();
        for size in [1 << 20, 512 << 10] {
            let v = Volume::file("p", &path, 512, size).unwrap();
            assert!(v.backend().deallocated_reads_zero(), "{size}");
        }
        let after = std::fs::metadata(&path).unwrap();
        assert_eq!((after.len(), after.blocks()), (before.len(), before.blocks()));
        assert_eq!(std::fs::read(&path).unwrap()[(1 << 20) - 65536..], data[..]);
    }

    #[test]
    fn block_device_backend_refuses_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain");
        std::fs::write(&path, [0u8; 4096]).unwrap();
        let e = Volume::block_device("b", &path, Some(512)).unwrap_err().to_string();
        assert!(e.contains("not a block device"), "{e}");
        assert!(Volume::block_device("b", &dir.path().join("missing"), None).is_err());
    }

    /// RAM and file volumes grow in place: data stays, new blocks read as zero and take
    /// writes (a RAM write into a 2 GiB segment never touched before, a file's sparse
    /// tail); shrinking and odd sizes are refused and change nothing (block devices follow
    /// their device: the `block_device` test).
    #[test]
    fn volumes_grow_in_place_and_never_shrink() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grow.img");
        let ram = Volume::ram("r", 512, 1 << 20).unwrap();
        let file = Volume::file("f", &path, 512, 1 << 20).unwrap();
        for (v, new_size) in [(&ram, 5u64 << 30), (&file, 8 << 20)] {
            let b = v.backend();
            b.write_at(&[0x42; 512], (1 << 20) - 512).unwrap();
            for bad in [(1 << 20) - 512, (4 << 20) + 100, 0] {
                assert!(v.grow(bad).is_err(), "{bad}");
            }
            assert!(matches!(v.grow(512 << 10), Err(VolumeError::Shrink { .. })));
            assert_eq!(v.blocks(), 2048, "refusals change nothing");
            v.grow(1 << 20).unwrap();
            assert_eq!(v.blocks(), 2048, "the same size is no change");
            v.grow(new_size).unwrap();
            assert_eq!(v.blocks(), new_size / 512);
            let mut back = [0u8; 1024];
            b.read_at(&mut back, (1 << 20) - 512).unwrap();
            assert_eq!(back[..512], [0x42; 512], "data before the old end stays");
            assert_eq!(back[512..], [0; 512], "new blocks read as zero");
            b.write_at(&[0x17; 512], new_size - 512).unwrap();
            let mut last = [0u8; 512];
            b.read_at(&mut last, new_size - 512).unwrap();
            assert_eq!(last, [0x17; 512]);
        }
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 8 << 20);
        assert!(matches!(
            ram.grow(MAX_RAM_VOLUME + 512),
            Err(VolumeError::RamTooLarge(s)) if s == MAX_RAM_VOLUME + 512
        ));
    }

    /// A file longer than its volume (reopened at a smaller size) keeps its tail out of
    /// reach, and growing the volume over that tail zeroes it (a hole) before the new
    /// blocks are visible: old data never shows up in "new" blocks.
    #[test]
    fn growing_over_an_old_longer_file_reads_zero() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("longer.img");
        let (mib, old) = (1u64 << 20, [0xAB; 4096]);
        let v = Volume::file("f", &path, 4096, 8 * mib).unwrap();
        v.backend().write_at(&[0x11; 4096], 3 * mib).unwrap();
        v.backend().write_at(&old, 6 * mib).unwrap();
        v.backend().flush().unwrap();
        drop(v);
        // Reopened smaller (a restart with a smaller size, a new volume on the path):
        // the file keeps its length and data.
        let v = Volume::file("f", &path, 4096, 4 * mib).unwrap();
        assert_eq!((v.size_bytes(), std::fs::metadata(&path).unwrap().len()), (4 * mib, 8 * mib));
        let held = std::fs::metadata(&path).unwrap().blocks() * 512;
        v.grow(8 * mib).unwrap();
        let b = v.backend();
        let mut back = [0xEE; 4096];
        b.read_at(&mut back, 6 * mib).unwrap();
        assert!(back.iter().all(|&x| x == 0), "the new blocks read as zero: {:x?}", &back[..8]);
        b.read_at(&mut back, 3 * mib).unwrap();
        assert!(back.iter().all(|&x| x == 0x11), "data below the old size stays");
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.len(), 8 * mib);
        assert!(meta.blocks() * 512 < held, "the stale tail was punched out: {held} bytes before");
        // Past the file's end too: the file is extended, and what it held is zeroed.
        b.write_at(&old, 7 * mib).unwrap();
        drop(v);
        let v2 = Volume::file("g", &path, 4096, 4 * mib).unwrap();
        v2.grow(12 * mib).unwrap();
        for at in [7 * mib, 12 * mib - 4096] {
            v2.backend().read_at(&mut back, at).unwrap();
            assert!(back.iter().all(|&x| x == 0), "at {at}: {:x?}", &back[..8]);
        }
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 12 * mib);
    }

    #[test]
    fn bad_geometry_rejected() {
        assert!(matches!(Volume::ram("x", 1024, 4096), Err(VolumeError::BadBlockSize(1024))));
        assert!(matches!(Volume::ram("x", 512, 1000), Err(VolumeError::BadSize { .. })));
        assert!(matches!(Volume::ram("x", 512, 0), Err(VolumeError::BadSize { .. })));
        let huge = MAX_RAM_VOLUME + 4096;
        assert!(
            matches!(Volume::ram("x", 4096, huge), Err(VolumeError::RamTooLarge(s)) if s == huge)
        );
    }

    /// A backend that notes on which thread it is dropped.
    #[derive(Debug)]
    struct NotesItsClose(Arc<Mutex<Option<std::thread::ThreadId>>>);

    impl Drop for NotesItsClose {
        fn drop(&mut self) {
            *self.0.lock().unwrap() = Some(std::thread::current().id());
        }
    }

    impl BlockBackend for NotesItsClose {
        fn read_at(&self, _: &mut [u8], _: u64) -> io::Result<()> {
            Ok(())
        }
        fn write_at(&self, _: &[u8], _: u64) -> io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
        fn write_zeroes(&self, _: u64, _: u64) -> io::Result<()> {
            Ok(())
        }
        fn deallocate(&self, _: u64, _: u64) -> io::Result<()> {
            Ok(())
        }
        fn volatile_cache(&self) -> bool {
            true
        }
    }

    /// A volume dropped on an async task closes its backend on a blocking thread (a
    /// block device's last close waits for its writeback), not on the reactor; outside
    /// a runtime, where it is.
    #[tokio::test]
    async fn a_volume_dropped_on_the_reactor_closes_its_backend_off_it() {
        let closed = Arc::new(Mutex::new(None));
        let backend = Box::new(NotesItsClose(closed.clone()));
        drop(Volume::new("v", 512, 1 << 20, backend).unwrap());
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        let on = loop {
            if let Some(thread) = *closed.lock().unwrap() {
                break thread;
            }
            assert!(Instant::now() < deadline, "never closed");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        };
        assert_ne!(on, std::thread::current().id(), "closed on the reactor");
        std::thread::spawn(move || {
            let closed = Arc::new(Mutex::new(None));
            drop(Volume::new("v", 512, 1 << 20, Box::new(NotesItsClose(closed.clone()))));
            assert_eq!(*closed.lock().unwrap(), Some(std::thread::current().id()));
        })
        .join()
        .unwrap();
    }
}
