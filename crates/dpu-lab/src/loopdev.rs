//! Loop devices over regular files and mounts of file systems, for tests of block-device
//! and file storage.
//!
//! Neither outlives the test run, also when it is killed and no `Drop` runs:
//!
//! - A [`LoopDevice`] holds the device open and sets `LO_FLAGS_AUTOCLEAR`, so the kernel
//!   detaches it when its last user closes it: us when we die, or a target still using it
//!   after that. Dropping it detaches at once (deferred the same way while others use it).
//! - A [`Mount`] records its mount point in a file under [`MOUNT_RECORD_DIR`], locked while
//!   the owner lives (the kernel drops the lock when it dies); [`cleanup_stale_mounts`]
//!   unmounts what dead owners recorded (`cargo xtask lab cleanup` runs it).
#![allow(unsafe_code)] // The loop ioctls (see the SAFETY notes).

use std::fs::{self, File};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::error::{LabError, Result};
use crate::proc::run_ok;
use crate::{Owner, acquire_lock, lock_if_owner_gone, unique_id};

/// Longest wait for `losetup`, `mount` or `umount`.
const TOOL_TIMEOUT: Duration = Duration::from_secs(20);

/// `struct loop_info64` of `<linux/loop.h>`, the argument of `LOOP_GET_STATUS64` and
/// `LOOP_SET_STATUS64`.
#[repr(C)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; 64],
    lo_crypt_name: [u8; 64],
    lo_encrypt_key: [u8; 32],
    lo_init: [u64; 2],
}

/// `LO_FLAGS_AUTOCLEAR` of `<linux/loop.h>`: detach when the last opener closes the device.
const LO_FLAGS_AUTOCLEAR: u32 = 4;

// The request numbers of `<linux/loop.h>` (not `_IO`-encoded, hence the `_bad` macros).
nix::ioctl_read_bad!(loop_get_status64, 0x4C05, LoopInfo64);
nix::ioctl_write_ptr_bad!(loop_set_status64, 0x4C04, LoopInfo64);
nix::ioctl_none_bad!(loop_clr_fd, 0x4C01);

/// A loop device attached to a file (`losetup`; needs root).
#[derive(Debug)]
pub struct LoopDevice {
    path: PathBuf,
    /// The device, open while we hold it: its close (also by the kernel when we die) is what
    /// lets `LO_FLAGS_AUTOCLEAR` detach it. `None` once detached.
    device: Option<File>,
}

impl LoopDevice {
    /// Attaches `file` to a free loop device with `sector_size`-byte logical blocks
    /// (installing `losetup` first if it is missing), to be detached when we are done with it
    /// or die.
    pub fn attach(file: &Path, sector_size: u32) -> Result<Self> {
        crate::guest::ensure_commands(&[("losetup", "mount")])?;
        let mut cmd = Command::new("losetup");
        cmd.args(["--find", "--show", "--sector-size", &sector_size.to_string()]).arg(file);
        let out = run_ok(cmd, TOOL_TIMEOUT)?;
        let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if !path.to_string_lossy().starts_with("/dev/loop") {
            return Err(LabError::CommandFailed {
                cmd: "losetup --find --show".into(),
                status: out.status.to_string(),
                stderr: format!("printed {path:?}, not a loop device"),
            });
        }
        // losetup has no option for autoclear (only `mount -o loop` sets it): set it here.
        // Killed in between, the device stays attached: a window of two system calls.
        let device = match File::options().read(true).write(true).open(&path) {
            Ok(device) => device,
            Err(e) => {
                let _ = losetup_detach(&path);
                return Err(LabError::io(format!("opening {}", path.display()), e));
            }
        };
        let dev = Self { path, device: Some(device) };
        dev.set_autoclear()?; // On error, dropping `dev` detaches it.
        Ok(dev)
    }

    fn set_autoclear(&self) -> Result<()> {
        let fd = self.device.as_ref().map(AsRawFd::as_raw_fd).unwrap_or(-1);
        let mut info = LoopInfo64 {
            lo_device: 0,
            lo_inode: 0,
            lo_rdevice: 0,
            lo_offset: 0,
            lo_sizelimit: 0,
            lo_number: 0,
            lo_encrypt_type: 0,
            lo_encrypt_key_size: 0,
            lo_flags: 0,
            lo_file_name: [0; 64],
            lo_crypt_name: [0; 64],
            lo_encrypt_key: [0; 32],
            lo_init: [0; 2],
        };
        // SAFETY: `fd` is our open loop device (or -1: EBADF) and `info` is a writable
        // `struct loop_info64` that lives across the call.
        unsafe { loop_get_status64(fd, &mut info) }.map_err(|e| {
            LabError::io(format!("LOOP_GET_STATUS64 {}", self.path.display()), e.into())
        })?;
        // The kernel changes only the settable flags from what it gets back (offset, size
        // limit and name are as it reported them).
        info.lo_flags |= LO_FLAGS_AUTOCLEAR;
        // SAFETY: as above; the kernel only reads `info`.
        unsafe { loop_set_status64(fd, &info) }.map_err(|e| {
            LabError::io(format!("LOOP_SET_STATUS64 {}", self.path.display()), e.into())
        })?;
        Ok(())
    }

    /// The device node, such as `/dev/loop3`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the device take its file's present size (`losetup --set-capacity`), as after
    /// the file grew.
    pub fn refresh_capacity(&self) -> Result<()> {
        let mut cmd = Command::new("losetup");
        cmd.arg("--set-capacity").arg(&self.path);
        run_ok(cmd, TOOL_TIMEOUT).map(drop)
    }

    /// Detaches the device now, reporting failure (dropping detaches quietly). If someone
    /// else still has it open (a target), the kernel detaches it when they close it.
    pub fn detach(mut self) -> Result<()> {
        self.clear()
    }

    /// `LOOP_CLR_FD` on our descriptor, then closes it. With us the only opener, the device is
    /// detached at once; otherwise the kernel defers it to the last close (it sets autoclear).
    fn clear(&mut self) -> Result<()> {
        let Some(device) = self.device.take() else { return Ok(()) };
        // SAFETY: the request takes no argument; `device` is our open loop device.
        let cleared = unsafe { loop_clr_fd(device.as_raw_fd()) };
        drop(device);
        cleared
            .map(drop)
            .map_err(|e| LabError::io(format!("detaching {}", self.path.display()), e.into()))
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        let _ = self.clear();
    }
}

fn losetup_detach(device: &Path) -> Result<()> {
    let mut cmd = Command::new("losetup");
    cmd.arg("--detach").arg(device);
    run_ok(cmd, TOOL_TIMEOUT).map(drop)
}

/// Where each live [`Mount`] keeps its record (under [`crate::LOCK_DIR`]): a file
/// `<pid>n<counter>.mount` holding the mount point, locked by the owner.
pub const MOUNT_RECORD_DIR: &str = "/run/dpu-lab/mounts";

/// A file system mounted on a directory (`mount`; needs root), unmounted when dropped
/// (lazily if it is still busy, so a panicking test never leaves it in use), or by
/// [`cleanup_stale_mounts`] after the owner died without dropping it.
#[derive(Debug)]
pub struct Mount {
    target: PathBuf,
    /// The record file and its lock.
    record: PathBuf,
    _lock: File,
}

impl Mount {
    /// Mounts `source` (a device, or any name for a memory file system such as `ramfs`)
    /// of type `fstype` on the existing directory `target`.
    pub fn new(fstype: &str, source: &Path, target: &Path) -> Result<Self> {
        Self::with_options(fstype, source, target, &[])
    }

    /// As [`new`](Self::new), with mount options (`-o`, e.g. `size=4m` for a tmpfs that
    /// fills up).
    pub fn with_options(
        fstype: &str,
        source: &Path,
        target: &Path,
        options: &[&str],
    ) -> Result<Self> {
        // /proc/self/mountinfo names the mount point canonically.
        let target = fs::canonicalize(target)
            .map_err(|e| LabError::io(format!("mount point {}", target.display()), e))?;
        // Recorded before mounting, so a kill in between leaves a record, not a mount.
        let (record, lock) = record_mount(&target)?;
        let mut cmd = Command::new("mount");
        cmd.args(["-t", fstype]);
        if !options.is_empty() {
            cmd.args(["-o", &options.join(",")]);
        }
        cmd.arg(source).arg(&target);
        if let Err(e) = run_ok(cmd, TOOL_TIMEOUT) {
            let _ = fs::remove_file(&record);
            return Err(e);
        }
        Ok(Self { target, record, _lock: lock })
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        &self.target
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        // Kept (and unlocked with the file) if the unmount failed: the next cleanup retries.
        if unmount(&self.target).is_ok() {
            let _ = fs::remove_file(&self.record);
        }
    }
}

/// Creates and locks the record of a mount on `target`.
fn record_mount(target: &Path) -> Result<(PathBuf, File)> {
    fs::create_dir_all(MOUNT_RECORD_DIR)
        .map_err(|e| LabError::io(format!("creating {MOUNT_RECORD_DIR}"), e))?;
    let path = Path::new(MOUNT_RECORD_DIR).join(format!("{}.mount", unique_id()));
    // A record under our name is a leftover of a dead process that had our pid: its mount
    // must go before we reuse the name.
    if path.exists()
        && let Err(problem) = remove_stale_record(&path)
    {
        return Err(LabError::Lock { path, source: std::io::Error::other(problem) });
    }
    let mut file = acquire_lock(&path)?;
    file.write_all(target.as_os_str().as_bytes())
        .map_err(|e| LabError::io(format!("writing {}", path.display()), e))?;
    Ok((path, file))
}

/// Unmounts `target`, lazily if it is busy.
fn unmount(target: &Path) -> Result<()> {
    let mut cmd = Command::new("umount");
    cmd.arg(target);
    if run_ok(cmd, TOOL_TIMEOUT).is_err() {
        let mut lazy = Command::new("umount");
        lazy.arg("--lazy").arg(target);
        run_ok(lazy, TOOL_TIMEOUT)?;
    }
    Ok(())
}

/// Whether something is mounted on `dir`: field 5 of /proc/self/mountinfo, in which space,
/// tab, newline and backslash are octal escapes (proc_pid_mountinfo(5)).
fn is_mounted(dir: &Path) -> bool {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else { return false };
    let want = dir.as_os_str().as_bytes();
    info.lines().filter_map(|l| l.split(' ').nth(4)).any(|field| unescape(field) == want)
}

fn unescape(field: &str) -> Vec<u8> {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b.get(i + 1..i + 4).filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) if b[i] == b'\\' => {
                let value = d.iter().fold(0u32, |v, c| v * 8 + u32::from(c - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            _ => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    out
}

/// What [`cleanup_stale_mounts`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MountCleanup {
    /// Mount points that were unmounted.
    pub unmounted: Vec<PathBuf>,
    /// Mounts left alone because their owner still runs.
    pub live: usize,
    /// Things that could not be removed.
    pub problems: Vec<String>,
}

/// What happened to one record.
enum Record {
    Live,
    Removed(Option<PathBuf>),
}

/// Unmounts the mount a dead owner recorded in `path` (if still mounted) and removes the
/// record; leaves a live owner's alone. Err: a description of the problem.
fn remove_stale_record(path: &Path) -> std::result::Result<Record, String> {
    let _guard = match lock_if_owner_gone(path)? {
        Owner::Alive => return Ok(Record::Live),
        Owner::Gone(None) => return Ok(Record::Removed(None)),
        Owner::Gone(Some(file)) => file,
    };
    let text = fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    // Empty: the owner died before writing it (or one with its pid is about to).
    let target = PathBuf::from(std::ffi::OsStr::from_bytes(&text));
    let mut unmounted = None;
    if !text.is_empty() && is_mounted(&target) {
        unmount(&target).map_err(|e| format!("unmounting {}: {e}", target.display()))?;
        unmounted = Some(target);
    }
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("removing {}: {e}", path.display()))
        }
        _ => Ok(Record::Removed(unmounted)),
    }
}

/// Unmounts the mounts of [`Mount`]s whose owner died without dropping them (a killed test
/// run), and removes their records. Mounts of live owners are left alone.
pub fn cleanup_stale_mounts() -> Result<MountCleanup> {
    let mut report = MountCleanup::default();
    let dir = match fs::read_dir(MOUNT_RECORD_DIR) {
        Ok(dir) => dir,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(report),
        Err(e) => return Err(LabError::io(format!("reading {MOUNT_RECORD_DIR}"), e)),
    };
    for entry in dir.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "mount") {
            continue;
        }
        match remove_stale_record(&path) {
            Ok(Record::Live) => report.live += 1,
            Ok(Record::Removed(target)) => report.unmounted.extend(target),
            Err(problem) => report.problems.push(problem),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loop_info_has_the_kernel_layout() {
        assert_eq!(std::mem::size_of::<LoopInfo64>(), 232);
    }

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape(r"/tmp/a\040b\134c"), b"/tmp/a b\\c");
        assert_eq!(unescape(r"/x\04"), b"/x\\04");
        assert_eq!(unescape("/plain"), b"/plain");
    }
}
