//! Block-device volumes on real block devices: loop devices (512 and 4096-byte sectors)
//! over sparse files in the target directory, so what reaches the device can be read back
//! from the file; and file volumes on file systems mounted for the test (ext4 on a loop
//! device, ramfs), to see where their I/O goes. Needs root (`losetup`, `mount`); every
//! device is detached and every file system unmounted on every exit path.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use dpu_lab::loopdev::{LoopDevice, Mount};
use dpu_nvmf::Volume;
use dpu_nvmf::volume::{BlockBackend, FileBackend, VolumeError};
use nix::unistd::{Whence, lseek};

const DEVICE_BYTES: u64 = 8 << 20;
const MIB: u64 = 1 << 20;

/// A sparse backing file of [`DEVICE_BYTES`] in a fresh directory.
fn backing_file() -> (tempfile::TempDir, PathBuf) {
    backing_file_of(DEVICE_BYTES)
}

fn backing_file_of(bytes: u64) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("nvmf-blockdev-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let file = dir.path().join("device.img");
    std::fs::File::create(&file).unwrap().set_len(bytes).unwrap();
    (dir, file)
}

fn read_file(path: &Path, offset: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    std::fs::File::open(path).unwrap().read_exact_at(&mut buf, offset).unwrap();
    buf
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8 ^ seed).collect()
}

#[test]
fn block_device_volume_reads_writes_zeroes_and_deallocates_on_a_512_byte_device() {
    let (_dir, file) = backing_file();
    let dev = LoopDevice::attach(&file, 512).unwrap();
    let (backend, size) = FileBackend::open_block_device(dev.path()).unwrap();
    assert_eq!((size, backend.device_block_size()), (DEVICE_BYTES, Some(512)));
    assert!(backend.is_direct(), "a loop device takes O_DIRECT");
    drop(backend);

    // Unset block size: the device's own.
    let v = Volume::block_device("loop", dev.path(), None).unwrap();
    assert_eq!((v.block_size(), v.blocks()), (512, DEVICE_BYTES / 512));
    let b = v.backend();

    // An aligned write (direct) and a 512-byte one beside it (through the page cache).
    let big = pattern(64 << 10, 0);
    let small = pattern(512, 0x5A);
    b.write_at(&big, MIB).unwrap();
    b.write_at(&small, 2 * MIB + 512).unwrap();
    b.flush().unwrap();
    let mut back = vec![0u8; big.len()];
    b.read_at(&mut back, MIB).unwrap();
    assert_eq!(back, big);
    let mut back = vec![0u8; 512];
    b.read_at(&mut back, 2 * MIB + 512).unwrap();
    assert_eq!(back, small);
    assert_eq!(read_file(&file, MIB, big.len()), big, "the device's file holds the write");
    assert_eq!(read_file(&file, 2 * MIB + 512, 512), small);

    // Write Zeroes: zeroes in place.
    b.write_zeroes(MIB + 8192, 8192).unwrap();
    let mut back = vec![0xFFu8; 16384];
    b.read_at(&mut back, MIB).unwrap();
    assert_eq!(back[..8192], big[..8192]);
    assert!(back[8192..].iter().all(|&x| x == 0));

    // Deallocate: reads zero, and the device gives the space back (the loop device punches
    // a hole into its file).
    let (start, len) = (MIB + 32768, 32768u64);
    b.deallocate(start, len).unwrap();
    let mut back = vec![0xFFu8; len as usize];
    b.read_at(&mut back, start).unwrap();
    assert!(back.iter().all(|&x| x == 0));
    b.flush().unwrap();
    let f = std::fs::File::open(&file).unwrap();
    let start = start as i64;
    let next_data = lseek(&f, start, Whence::SeekData).unwrap();
    assert!(next_data >= start + len as i64, "data at {next_data} inside the deallocated range");
    // Only that range: the written block before it is still there.
    assert_eq!(read_file(&file, MIB + 16384, 16384), big[16384..32768]);
    dev.detach().unwrap();
}

#[test]
fn a_4096_byte_device_refuses_smaller_volume_blocks() {
    let (_dir, file) = backing_file();
    let dev = LoopDevice::attach(&file, 4096).unwrap();
    let e = Volume::block_device("loop", dev.path(), Some(512)).unwrap_err();
    assert!(
        matches!(e, VolumeError::BelowDeviceBlockSize { block_size: 512, device: 4096, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("use 4096"), "{e}");
    assert!(matches!(
        Volume::block_device("loop", dev.path(), Some(1024)),
        Err(VolumeError::BadBlockSize(1024))
    ));
    for chosen in [None, Some(4096)] {
        let v = Volume::block_device("loop", dev.path(), chosen).unwrap();
        assert_eq!((v.block_size(), v.blocks()), (4096, DEVICE_BYTES / 4096));
        let data = pattern(4096, 7);
        v.backend().write_at(&data, 3 * 4096).unwrap();
        v.backend().flush().unwrap();
        assert_eq!(read_file(&file, 3 * 4096, 4096), data);
    }
    dev.detach().unwrap();
}

/// Runs `cmd`, failing the test with its output if it fails.
fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Bytes of `path` in the page cache, as `fincore` counts them (mincore(2)).
fn cached_bytes(path: &Path) -> u64 {
    let out = Command::new("fincore")
        .args(["--bytes", "--noheadings", "--output", "RES"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "fincore: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// A file volume on ext4 (which takes O_DIRECT) moves its aligned blocks around the page
/// cache, and its unaligned ones through it, coherently; on ramfs (which refuses O_DIRECT;
/// tmpfs takes it since Linux 6.6) everything goes through the page cache.
#[test]
fn file_volume_io_bypasses_the_page_cache_where_the_file_system_allows() {
    dpu_lab::guest::ensure_commands(&[("mkfs.ext4", "e2fsprogs"), ("fincore", "util-linux")])
        .unwrap();
    const VOLUME_BYTES: u64 = 8 * MIB;
    let (dir, image) = backing_file_of(32 * MIB);
    let dev = LoopDevice::attach(&image, 512).unwrap();
    run(Command::new("mkfs.ext4").args(["-q", "-F"]).arg(dev.path()));
    let ext4_dir = dir.path().join("ext4");
    std::fs::create_dir(&ext4_dir).unwrap();
    let ext4 = Mount::new("ext4", dev.path(), &ext4_dir).unwrap();

    let path = ext4.path().join("volume.img");
    Volume::file("f", &path, 4096, VOLUME_BYTES).unwrap();
    let b = FileBackend::open_file(&path, VOLUME_BYTES).unwrap();
    assert!(b.is_direct(), "ext4 takes O_DIRECT");
    let big = pattern(MIB as usize, 3);
    b.write_at(&big, MIB).unwrap();
    b.flush().unwrap();
    let mut back = vec![0u8; big.len()];
    b.read_at(&mut back, MIB).unwrap();
    assert_eq!(back, big);
    assert_eq!(cached_bytes(&path), 0, "aligned writes and reads leave the page cache empty");

    // A 512-byte write goes through the page cache; an aligned read of its block then
    // sees it (Linux writes cached pages back before a direct read of their range).
    let small = pattern(512, 0x33);
    b.write_at(&small, 3 * MIB + 512).unwrap();
    let mut block = vec![0u8; 4096];
    b.read_at(&mut block, 3 * MIB).unwrap();
    assert_eq!(&block[512..1024], &small[..]);
    assert!(block[..512].iter().chain(&block[1024..]).all(|&x| x == 0));
    // A direct write over a cached block replaces what a buffered read sees.
    let over = pattern(4096, 0x44);
    b.write_at(&over, 3 * MIB).unwrap();
    assert_eq!(read_file(&path, 3 * MIB, 4096), over);
    assert_eq!(read_file(&path, MIB, big.len()), big, "the file holds the direct writes");
    drop(b);
    drop(ext4);
    dev.detach().unwrap();

    let ramfs_dir = dir.path().join("ramfs");
    std::fs::create_dir(&ramfs_dir).unwrap();
    let ramfs = Mount::new("ramfs", Path::new("nvmf-test"), &ramfs_dir).unwrap();
    let path = ramfs.path().join("volume.img");
    Volume::file("f", &path, 4096, VOLUME_BYTES).unwrap();
    let b = FileBackend::open_file(&path, VOLUME_BYTES).unwrap();
    assert!(!b.is_direct(), "ramfs refuses O_DIRECT");
    b.write_at(&big, MIB).unwrap();
    let mut back = vec![0u8; big.len()];
    b.read_at(&mut back, MIB).unwrap();
    assert_eq!(back, big);
    assert!(cached_bytes(&path) >= MIB, "ramfs holds the data in the page cache");
}
