//! Volumes: the block storage behind namespaces.
//!
//! A [`Volume`] is a fixed number of logical blocks of 512 or 4096 bytes backed by
//! RAM ([`RamBackend`], sparse), a regular file ([`FileBackend`], a sparse file grown
//! to the volume size) or a block device (also [`FileBackend`], opened as is).
//!
//! Every backend call is synchronous and may block: the controller core never calls
//! them, it emits [`IoRequest`](crate::queue::IoRequest)s, and the shell runs them
//! on a bounded pool of blocking threads ([`crate::server`]). Byte offsets and
//! lengths handed to a backend are already range-checked against the volume size.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use memmap2::MmapMut;

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
    /// Opening or sizing the backing file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

/// One read of a batch given to [`BlockBackend::read_batch`].
#[derive(Debug)]
pub struct BatchRead<'a> {
    /// Byte offset in the volume.
    pub offset: u64,
    /// Where the data goes; its length is the read's.
    pub buf: &'a mut [u8],
    /// The read's own result, set by `read_batch`.
    pub result: io::Result<()>,
}

/// The storage operations a volume needs. Implementations may block.
pub trait BlockBackend: Send + Sync + std::fmt::Debug {
    /// Fills `buf` from byte `offset`.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Runs several reads, each recording its own result. A memory backend copies
    /// several at once (see [`RamBackend`]); the default reads one after the other.
    fn read_batch(&self, reads: &mut [BatchRead<'_>]) {
        for r in reads {
            r.result = self.read_at(r.buf, r.offset);
        }
    }
    /// Writes `data` at byte `offset`.
    fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()>;
    /// Makes completed writes durable.
    fn flush(&self) -> io::Result<()>;
    /// Zeroes `len` bytes from `offset`.
    fn write_zeroes(&self, offset: u64, len: u64) -> io::Result<()>;
    /// Deallocates `len` bytes from `offset`; later reads return zeroes.
    fn deallocate(&self, offset: u64, len: u64) -> io::Result<()>;
    /// Whether the backend has a volatile write cache that [`flush`](Self::flush) empties.
    fn volatile_cache(&self) -> bool;
    /// Whether every operation only copies memory (never waits for a device), so the
    /// shell may run it on the reactor instead of the blocking pool.
    fn memory_only(&self) -> bool {
        false
    }
}

/// Chunk size of the sparse RAM backend: one transparent huge page, so a random read
/// of the volume costs one TLB entry per 2 MiB instead of one per 4 KiB page (with
/// 4 KiB pages, the page walk of each random 4 KiB read dominated its copy).
const RAM_CHUNK: u64 = 2 * 1024 * 1024;

/// Largest RAM volume (1 TiB, beyond any DPU's memory): its chunk table is allocated
/// up front (about 24 bytes per 2 MiB).
pub const MAX_RAM_VOLUME: u64 = 1 << 40;

/// One allocated chunk: an anonymous mapping (zero until written), or none (reads as zero).
type ChunkSlot = RwLock<Option<MmapMut>>;

/// Sparse RAM storage: a fixed table of chunks, each mapped on first write and behind
/// its own lock, so commands on different chunks never contend and finding a chunk is
/// an index, not a lookup. Unwritten chunks read as zero.
#[derive(Debug)]
pub struct RamBackend {
    chunks: Box<[ChunkSlot]>,
}

impl RamBackend {
    /// Storage for `size` bytes (nothing allocated until written).
    pub fn new(size: u64) -> Result<Self, VolumeError> {
        if size > MAX_RAM_VOLUME {
            return Err(VolumeError::RamTooLarge(size));
        }
        let n = size.div_ceil(RAM_CHUNK);
        Ok(Self { chunks: (0..n).map(|_| RwLock::new(None)).collect() })
    }

    /// Bytes of RAM currently allocated.
    pub fn allocated(&self) -> u64 {
        let mapped = self.chunks.iter().filter(|c| c.read().is_ok_and(|c| c.is_some()));
        mapped.count() as u64 * RAM_CHUNK
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

    /// The slot of chunk `idx`; offsets are range-checked before they get here, so a
    /// miss is an internal error, reported rather than panicking.
    fn slot(&self, idx: u64) -> io::Result<&ChunkSlot> {
        usize::try_from(idx)
            .ok()
            .and_then(|i| self.chunks.get(i))
            .ok_or_else(|| io::Error::other("RAM volume offset beyond its size"))
    }
}

/// Reads [`RamBackend::read_batch`] copies at once, and the bytes of each it copies in
/// turn: a random block of a large volume misses every cache, and copied one after
/// the other each block waits for its own misses; taken in turns, the misses of four
/// blocks overlap (4 KiB blocks out of 256 MiB: about 330 instead of 400-500 ns a block
/// on the 2-core development VM).
const INTERLEAVE: usize = 4;
const INTERLEAVE_STRIDE: usize = 256;

type ChunkGuard<'a> = std::sync::RwLockReadGuard<'a, Option<MmapMut>>;

impl RamBackend {
    /// Reads a group of at most [`INTERLEAVE`] reads with their chunks' read locks
    /// held together, so each read's data is whole with respect to concurrent writes.
    fn read_group(&self, group: &mut [BatchRead<'_>]) {
        // A read across chunks is read alone, before any lock of the group is held
        // (a thread must never wait for a lock it already holds for reading).
        for r in group.iter_mut() {
            if !Self::in_one_chunk(r.offset, r.buf.len()) {
                r.result = self.read_at(r.buf, r.offset);
            }
        }
        // Each distinct chunk locked once, in ascending chunk order: a reader holding
        // several chunks then only ever waits for a higher one, and writers hold one chunk
        // at a time, so no cycle of waits can form (a writer waiting for a chunk holds up
        // new readers of it; in request order, two groups each holding the chunk the other
        // wants behind such writers would wait forever).
        let mut guards: [Option<(u64, Result<ChunkGuard<'_>, String>)>; INTERLEAVE] =
            Default::default();
        for (slot, idx) in guards.iter_mut().zip(Self::lock_order(group).into_iter().flatten()) {
            let guard = self.slot(idx).and_then(|s| s.read().map_err(poisoned));
            *slot = Some((idx, guard.map_err(|e| e.to_string())));
        }
        // `which[i]` is read i's guard, if it takes part.
        let mut which = [None; INTERLEAVE];
        for (i, r) in group.iter_mut().enumerate() {
            if !Self::in_one_chunk(r.offset, r.buf.len()) {
                continue;
            }
            let idx = r.offset / RAM_CHUNK;
            let g = guards.iter().position(|g| g.as_ref().is_some_and(|(c, _)| *c == idx));
            match g.and_then(|g| Some((g, &guards[g].as_ref()?.1))) {
                Some((g, Ok(_))) => which[i] = Some(g),
                Some((_, Err(e))) => r.result = Err(io::Error::other(e.clone())),
                None => r.result = Err(io::Error::other("RAM volume chunk not locked")),
            }
        }
        let longest = group.iter().map(|r| r.buf.len()).max().unwrap_or(0);
        for at in (0..longest).step_by(INTERLEAVE_STRIDE) {
            for (r, w) in group.iter_mut().zip(which) {
                let Some((_, Ok(guard))) = w.and_then(|g| guards[g].as_ref()) else { continue };
                if at >= r.buf.len() {
                    continue;
                }
                let end = (at + INTERLEAVE_STRIDE).min(r.buf.len());
                let within = (r.offset % RAM_CHUNK) as usize;
                match guard.as_ref() {
                    Some(c) => r.buf[at..end].copy_from_slice(&c[within + at..within + end]),
                    None => r.buf[at..end].fill(0),
                }
            }
        }
        for (r, w) in group.iter_mut().zip(which) {
            if w.is_some() {
                r.result = Ok(());
            }
        }
    }

    /// The distinct chunks of a group's single-chunk reads, ascending (the order
    /// [`read_group`](Self::read_group) locks them in), then `None`s.
    fn lock_order(group: &[BatchRead<'_>]) -> [Option<u64>; INTERLEAVE] {
        let mut order = [None; INTERLEAVE];
        for (o, r) in order.iter_mut().zip(group) {
            if Self::in_one_chunk(r.offset, r.buf.len()) {
                *o = Some(r.offset / RAM_CHUNK);
            }
        }
        // `None` sorts first; put the chunks first, ascending, each once.
        order.sort_unstable_by_key(|c| (c.is_none(), *c));
        let mut distinct = [None; INTERLEAVE];
        let mut n = 0;
        for c in order.into_iter().flatten() {
            if n == 0 || distinct[n - 1] != Some(c) {
                distinct[n] = Some(c);
                n += 1;
            }
        }
        distinct
    }

    fn in_one_chunk(offset: u64, len: usize) -> bool {
        offset % RAM_CHUNK + len as u64 <= RAM_CHUNK
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
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut res = Ok(());
        Self::for_each_chunk(offset, buf.len() as u64, |idx, within, n, at| {
            let mut read = || -> io::Result<()> {
                let dst = &mut buf[at..at + n];
                match self.slot(idx)?.read().map_err(poisoned)?.as_ref() {
                    Some(c) => dst.copy_from_slice(&c[within..within + n]),
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

    fn read_batch(&self, reads: &mut [BatchRead<'_>]) {
        for group in reads.chunks_mut(INTERLEAVE) {
            self.read_group(group);
        }
    }

    fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        let mut res = Ok(());
        Self::for_each_chunk(offset, data.len() as u64, |idx, within, n, at| {
            let write = || -> io::Result<()> {
                let mut chunk = self.slot(idx)?.write().map_err(poisoned)?;
                let c = match chunk.as_mut() {
                    Some(c) => c,
                    None => chunk.insert(map_chunk()?),
                };
                c[within..within + n].copy_from_slice(&data[at..at + n]);
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
                let mut chunk = self.slot(idx)?.write().map_err(poisoned)?;
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
}

/// Alignment of O_DIRECT transfers (offset, length and buffer address).
pub const DIRECT_ALIGN: usize = 4096;

/// A regular file (sparse, sized to the volume) or a block device, accessed with
/// `pread`/`pwrite`. Where the file system allows it, aligned transfers bypass the
/// page cache through a second descriptor opened with `O_DIRECT`; the rest (and
/// everything on file systems without O_DIRECT, such as tmpfs) goes through the page
/// cache. Linux keeps the two coherent (direct I/O writes back and invalidates the
/// cached range first).
#[derive(Debug)]
pub struct FileBackend {
    file: File,
    direct: Option<File>,
    is_block_device: bool,
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
struct AlignedBuf {
    mem: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    fn new(len: usize) -> Self {
        let mem = vec![0u8; len + DIRECT_ALIGN];
        let addr = mem.as_ptr() as usize;
        let start = (DIRECT_ALIGN - addr % DIRECT_ALIGN) % DIRECT_ALIGN;
        Self { mem, start, len }
    }

    fn as_mut(&mut self) -> &mut [u8] {
        &mut self.mem[self.start..self.start + self.len]
    }

    fn as_ref(&self) -> &[u8] {
        &self.mem[self.start..self.start + self.len]
    }
}

fn aligned(offset: u64, len: usize) -> bool {
    len > 0 && offset.is_multiple_of(DIRECT_ALIGN as u64) && len.is_multiple_of(DIRECT_ALIGN)
}

impl FileBackend {
    /// Opens (creating if needed) a regular file and sets its length to `size`
    /// (growing it sparsely; an existing larger file is not truncated).
    pub fn open_file(path: &Path, size: u64) -> Result<Self, VolumeError> {
        let io_err = |source| VolumeError::Io { path: path.to_owned(), source };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_err)?;
        let len = file.metadata().map_err(io_err)?.len();
        if len < size {
            file.set_len(size).map_err(io_err)?;
        }
        Ok(Self { file, direct: open_direct(path), is_block_device: false })
    }

    /// Opens a block device; returns it with its size in bytes.
    pub fn open_block_device(path: &Path) -> Result<(Self, u64), VolumeError> {
        use std::io::{Seek, SeekFrom};
        use std::os::unix::fs::FileTypeExt;
        let io_err = |source| VolumeError::Io { path: path.to_owned(), source };
        let mut file = OpenOptions::new().read(true).write(true).open(path).map_err(io_err)?;
        let ft = file.metadata().map_err(io_err)?.file_type();
        if !ft.is_block_device() {
            return Err(io_err(io::Error::new(io::ErrorKind::InvalidInput, "not a block device")));
        }
        let size = file.seek(SeekFrom::End(0)).map_err(io_err)?;
        Ok((Self { file, direct: open_direct(path), is_block_device: true }, size))
    }

    /// Whether aligned transfers use O_DIRECT.
    pub fn is_direct(&self) -> bool {
        self.direct.is_some()
    }
}

impl BlockBackend for FileBackend {
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
        if let Some(d) = self.direct.as_ref().filter(|_| aligned(offset, data.len())) {
            let mut b = AlignedBuf::new(data.len());
            b.as_mut().copy_from_slice(data);
            return d.write_all_at(b.as_ref(), offset);
        }
        self.file.write_all_at(data, offset)
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
            self.file.write_all_at(&zeroes[..n], offset + done)?;
            done += n as u64;
        }
        Ok(())
    }

    fn deallocate(&self, offset: u64, len: u64) -> io::Result<()> {
        use nix::fcntl::{FallocateFlags, fallocate};
        let (Ok(off), Ok(l)) = (i64::try_from(offset), i64::try_from(len)) else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "range too large"));
        };
        let flags = FallocateFlags::FALLOC_FL_PUNCH_HOLE | FallocateFlags::FALLOC_FL_KEEP_SIZE;
        if self.is_block_device || fallocate(&self.file, flags, off, l).is_err() {
            // Deallocated blocks must read as zero (we announce DLFEAT = 001b).
            return self.write_zeroes(offset, len);
        }
        Ok(())
    }

    fn volatile_cache(&self) -> bool {
        true
    }
}

/// A volume: a number of logical blocks on a backend.
#[derive(Debug)]
pub struct Volume {
    name: String,
    block_size: u32,
    blocks: u64,
    backend: Box<dyn BlockBackend>,
}

impl Volume {
    /// A volume of `size` bytes on `backend`.
    pub fn new(
        name: impl Into<String>,
        block_size: u32,
        size: u64,
        backend: Box<dyn BlockBackend>,
    ) -> Result<Self, VolumeError> {
        if !BLOCK_SIZES.contains(&block_size) {
            return Err(VolumeError::BadBlockSize(block_size));
        }
        if size == 0 || !size.is_multiple_of(u64::from(block_size)) {
            return Err(VolumeError::BadSize { size, block_size });
        }
        Ok(Self { name: name.into(), block_size, blocks: size / u64::from(block_size), backend })
    }

    /// A sparse RAM volume.
    pub fn ram(name: impl Into<String>, block_size: u32, size: u64) -> Result<Self, VolumeError> {
        Self::new(name, block_size, size, Box::new(RamBackend::new(size)?))
    }

    /// A volume on a (sparse) regular file, created if missing.
    pub fn file(
        name: impl Into<String>,
        path: &Path,
        block_size: u32,
        size: u64,
    ) -> Result<Self, VolumeError> {
        // Validate before touching the file system.
        if !BLOCK_SIZES.contains(&block_size) {
            return Err(VolumeError::BadBlockSize(block_size));
        }
        if size == 0 || !size.is_multiple_of(u64::from(block_size)) {
            return Err(VolumeError::BadSize { size, block_size });
        }
        let backend = FileBackend::open_file(path, size)?;
        Self::new(name, block_size, size, Box::new(backend))
    }

    /// A volume on a whole block device (size rounded down to the block size).
    pub fn block_device(
        name: impl Into<String>,
        path: &Path,
        block_size: u32,
    ) -> Result<Self, VolumeError> {
        let (backend, size) = FileBackend::open_block_device(path)?;
        let size = size - size % u64::from(block_size.max(1));
        Self::new(name, block_size, size, Box::new(backend))
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
        self.blocks
    }

    /// The backend.
    pub fn backend(&self) -> &dyn BlockBackend {
        self.backend.as_ref()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
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
        ram.write_at(&[1], (3 << 20) + 5).unwrap();
        assert_eq!(ram.allocated(), RAM_CHUNK);
        // A write across a chunk boundary maps both chunks; a whole chunk deallocated
        // is unmapped again, a partial one reads back zero.
        ram.write_at(&[7; 8], (4 << 20) - 4).unwrap();
        assert_eq!(ram.allocated(), 2 * RAM_CHUNK);
        ram.deallocate(2 << 20, RAM_CHUNK).unwrap();
        assert_eq!(ram.allocated(), RAM_CHUNK);
        let mut back = [9u8; 8];
        ram.read_at(&mut back, (4 << 20) - 4).unwrap();
        assert_eq!(back, [0, 0, 0, 0, 7, 7, 7, 7]);
    }

    #[test]
    fn ram_read_batch_matches_read_at() {
        let ram = RamBackend::new(5 * RAM_CHUNK).unwrap();
        let data: Vec<u8> = (0..3 * RAM_CHUNK as u32).map(|i| (i % 251) as u8).collect();
        ram.write_at(&data, RAM_CHUNK).unwrap();
        // Same chunk twice in a group (locked once), across a chunk boundary, in a
        // never written chunk, odd lengths and offsets, more reads than one group.
        let c = RAM_CHUNK;
        let wanted = [
            (c + 4096, 4096),
            (c + 8192, 512),
            (2 * c - 100, 300),
            (7, 4096),
            (4 * c + 10, 1000),
            (3 * c + 1, 16384),
            (c + 4096, 4096),
        ];
        let mut bufs: Vec<Vec<u8>> = wanted.iter().map(|&(_, n)| vec![0xEE; n]).collect();
        let mut reads: Vec<BatchRead<'_>> = wanted
            .iter()
            .zip(bufs.iter_mut())
            .map(|(&(offset, _), buf)| BatchRead {
                offset,
                buf,
                result: Err(io::Error::other("unset")),
            })
            .collect();
        ram.read_batch(&mut reads);
        assert!(reads.iter().all(|r| r.result.is_ok()));
        drop(reads);
        for ((offset, n), got) in wanted.iter().zip(&bufs) {
            let mut want = vec![0; *n];
            ram.read_at(&mut want, *offset).unwrap();
            assert_eq!(got, &want, "read at {offset}");
        }
        // Beyond the volume: that read fails, the others of its group do not.
        let (mut a, mut b) = (vec![0; 512], vec![0; 512]);
        let mut reads = [
            BatchRead { offset: 6 * c, buf: &mut a, result: Ok(()) },
            BatchRead { offset: c, buf: &mut b, result: Ok(()) },
        ];
        ram.read_batch(&mut reads);
        assert!(reads[0].result.is_err() && reads[1].result.is_ok());
        assert_eq!(b, data[..512]);
    }

    /// A group locks its chunks in ascending order whatever order its reads came in:
    /// in request order two groups wanting the same two chunks the other way round could
    /// each hold the chunk the other waits for behind a waiting writer, forever.
    #[test]
    fn ram_read_groups_lock_chunks_in_ascending_order() {
        let c = RAM_CHUNK;
        let mut bufs = [[0u8; 512]; 4];
        let mut it = bufs.iter_mut();
        let mut read = |offset| BatchRead { offset, buf: it.next().unwrap(), result: Ok(()) };
        // Chunk 3, chunk 0, chunk 3 again, and one across chunks 1-2 (read alone, unlocked).
        let group = [read(3 * c), read(10), read(3 * c + 512), read(2 * c - 100)];
        assert_eq!(RamBackend::lock_order(&group), [Some(0), Some(3), None, None]);
    }

    /// Stress check of the same: two reader groups wanting two chunks in opposite
    /// request order while writers hammer both. Bounded: a hang fails after 20 s.
    #[test]
    fn ram_read_groups_and_writers_never_deadlock() {
        let ram = std::sync::Arc::new(RamBackend::new(2 * RAM_CHUNK).unwrap());
        let c = RAM_CHUNK;
        let (tx, rx) = std::sync::mpsc::channel();
        let mut threads = Vec::new();
        for (first, second) in [(0, c), (c, 0)] {
            let (ram, tx) = (ram.clone(), tx.clone());
            threads.push(std::thread::spawn(move || {
                let (mut a, mut b) = (vec![0; 4096], vec![0; 4096]);
                for _ in 0..20_000 {
                    let mut reads = [
                        BatchRead { offset: first, buf: &mut a, result: Ok(()) },
                        BatchRead { offset: second, buf: &mut b, result: Ok(()) },
                    ];
                    ram.read_batch(&mut reads);
                    assert!(reads.iter().all(|r| r.result.is_ok()));
                }
                tx.send(()).unwrap();
            }));
        }
        for at in [0, c] {
            let (ram, tx) = (ram.clone(), tx.clone());
            threads.push(std::thread::spawn(move || {
                for i in 0..20_000u32 {
                    ram.write_at(&i.to_le_bytes(), at).unwrap();
                }
                tx.send(()).unwrap();
            }));
        }
        for _ in 0..threads.len() {
            rx.recv_timeout(std::time::Duration::from_secs(20))
                .expect("readers and writers of two chunks deadlocked");
        }
        for t in threads {
            t.join().unwrap();
        }
    }

    #[test]
    fn file_volume_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vol.img");
        let v = Volume::file("f", &path, 4096, 4 << 20).unwrap();
        assert_eq!(v.blocks(), 1024);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 4 << 20);
        exercise(&v);
        // Aligned (direct where supported) and unaligned transfers see each other.
        let b = FileBackend::open_file(&path, 4 << 20).unwrap();
        println!("O_DIRECT on the test file system: {}", b.is_direct());
        let data: Vec<u8> = (0..65536u32).map(|i| (i % 253) as u8).collect();
        b.write_at(&data, 8192).unwrap();
        let mut back = vec![0u8; 1000];
        b.read_at(&mut back, 8192 + 512).unwrap();
        assert_eq!(back, data[512..1512]);
        b.write_at(&[7u8; 100], 8192 + 4096).unwrap();
        let mut all = vec![0u8; 65536];
        b.read_at(&mut all, 8192).unwrap();
        assert_eq!(&all[4096..4196], &[7u8; 100][..]);
        assert_eq!(all[4196..], data[4196..]);
    }

    #[test]
    fn block_device_backend_refuses_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain");
        std::fs::write(&path, [0u8; 4096]).unwrap();
        let e = Volume::block_device("b", &path, 512).unwrap_err().to_string();
        assert!(e.contains("not a block device"), "{e}");
        assert!(Volume::block_device("b", &dir.path().join("missing"), 512).is_err());
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
}
