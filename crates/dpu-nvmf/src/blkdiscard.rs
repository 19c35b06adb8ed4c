//! A block device's discard (`BLKDISCARD`): the one ioctl, and so the `unsafe`, of block
//! device volumes. The kernel's `blkdev_issue_discard`, which Linux's nvmet runs for a
//! Dataset Management Deallocate: the device may unmap the range or not, and what it
//! reads afterwards is its own (`fallocate` offers block devices only zeroing modes).
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

// BLKDISCARD is _IO(0x12, 119) and takes a pointer to {start, length} in bytes.
nix::ioctl_write_ptr_bad!(blkdiscard, nix::request_code_none!(0x12, 119), [u64; 2]);

/// Discards `len` bytes from byte `offset` of the block device open as `device`. A
/// device without discard (EOPNOTSUPP) has nothing to do, as for nvmet.
pub(crate) fn discard(device: &File, offset: u64, len: u64) -> io::Result<()> {
    let range = [offset, len];
    // SAFETY: the descriptor is open for as long as `device` is borrowed, and the kernel
    // only reads the two u64 of `range`, which outlives the call.
    match unsafe { blkdiscard(device.as_raw_fd(), &range) } {
        Ok(_) | Err(nix::errno::Errno::EOPNOTSUPP) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use dpu_lab::loopdev::LoopDevice;
    use nix::unistd::{Whence, lseek};
    use std::os::unix::fs::FileExt;

    /// A loop device over a file discards by punching its file: the discarded range
    /// holds no data any more, the blocks around it keep theirs.
    #[test]
    fn a_discard_reaches_the_device() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.img");
        let mut options = std::fs::File::options();
        let file = options.read(true).write(true).create_new(true).open(&path).unwrap();
        file.set_len(4 << 20).unwrap();
        file.write_all_at(&[0x5A; 3 << 20], 0).unwrap();
        file.sync_all().unwrap();
        let dev = LoopDevice::attach(&path, 512).unwrap();
        let device = std::fs::OpenOptions::new().write(true).open(dev.path()).unwrap();
        discard(&device, 1 << 20, 1 << 20).unwrap();
        device.sync_all().unwrap();
        let hole = lseek(&file, 1 << 20, Whence::SeekData).unwrap();
        assert_eq!(hole, 2 << 20, "the discarded MiB holds no data");
        let mut back = [0u8; 512];
        file.read_exact_at(&mut back, (1 << 20) - 512).unwrap();
        assert_eq!(back, [0x5A; 512], "the block before it is kept");
        drop(device);
        dev.detach().unwrap();
    }
}
