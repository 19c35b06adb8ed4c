//! Loop devices over regular files and mounts of file systems, for tests of block-device
//! and file storage.
//!
//! A [`LoopDevice`] is detached when dropped (also while a test panics). Linux defers the
//! detach of a device that is still open until its last user closes it, so a leaked
//! descriptor never leaves the device behind once the process exits.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::error::{LabError, Result};
use crate::proc::run_ok;

/// Longest wait for `losetup`, `mount` or `umount`.
const TOOL_TIMEOUT: Duration = Duration::from_secs(20);

/// A loop device attached to a file (`losetup`; needs root).
#[derive(Debug)]
pub struct LoopDevice {
    path: PathBuf,
    attached: bool,
}

impl LoopDevice {
    /// Attaches `file` to a free loop device with `sector_size`-byte logical blocks
    /// (installing `losetup` first if it is missing).
    pub fn attach(file: &Path, sector_size: u32) -> Result<Self> {
        crate::guest::ensure_commands(&[("losetup", "mount")])?;
        let mut cmd = Command::new("losetup");
        cmd.args(["--find", "--show", "--sector-size", &sector_size.to_string()]).arg(file);
        let out = run_ok(cmd, TOOL_TIMEOUT)?;
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !path.starts_with("/dev/loop") {
            return Err(LabError::CommandFailed {
                cmd: "losetup --find --show".into(),
                status: out.status.to_string(),
                stderr: format!("printed {path:?}, not a loop device"),
            });
        }
        Ok(Self { path: PathBuf::from(path), attached: true })
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

    /// Detaches the device now, reporting failure (dropping detaches quietly).
    pub fn detach(mut self) -> Result<()> {
        self.attached = false;
        losetup_detach(&self.path)
    }
}

impl Drop for LoopDevice {
    fn drop(&mut self) {
        if self.attached {
            let _ = losetup_detach(&self.path);
        }
    }
}

fn losetup_detach(device: &Path) -> Result<()> {
    let mut cmd = Command::new("losetup");
    cmd.arg("--detach").arg(device);
    run_ok(cmd, TOOL_TIMEOUT).map(drop)
}

/// A file system mounted on a directory (`mount`; needs root), unmounted when dropped
/// (lazily if it is still busy, so a panicking test never leaves it in use).
#[derive(Debug)]
pub struct Mount {
    target: PathBuf,
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
        let mut cmd = Command::new("mount");
        cmd.args(["-t", fstype]);
        if !options.is_empty() {
            cmd.args(["-o", &options.join(",")]);
        }
        cmd.arg(source).arg(target);
        run_ok(cmd, TOOL_TIMEOUT)?;
        Ok(Self { target: target.to_owned() })
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        &self.target
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let mut cmd = Command::new("umount");
        cmd.arg(&self.target);
        if run_ok(cmd, TOOL_TIMEOUT).is_err() {
            let mut lazy = Command::new("umount");
            lazy.arg("--lazy").arg(&self.target);
            let _ = run_ok(lazy, TOOL_TIMEOUT);
        }
    }
}
