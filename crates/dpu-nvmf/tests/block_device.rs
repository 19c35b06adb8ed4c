//! Block-device volumes on real block devices: loop devices (512 and 4096-byte sectors)
//! over sparse files in the target directory, so what reaches the device can be read back
//! from the file. Needs root (`losetup`); every device is detached on every exit path.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use dpu_lab::loopdev::LoopDevice;
use dpu_nvmf::Volume;
use dpu_nvmf::volume::{FileBackend, VolumeError};
use nix::unistd::{Whence, lseek};

const DEVICE_BYTES: u64 = 8 << 20;
const MIB: u64 = 1 << 20;

/// A sparse backing file of [`DEVICE_BYTES`] in a fresh directory.
fn backing_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("nvmf-blockdev-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let file = dir.path().join("device.img");
    std::fs::File::create(&file).unwrap().set_len(DEVICE_BYTES).unwrap();
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
