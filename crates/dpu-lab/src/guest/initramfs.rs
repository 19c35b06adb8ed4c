//! The guest's initramfs: static busybox, host binaries with their shared libraries, kernel
//! modules and an `/init` script, packed as a `newc` cpio archive.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::kernel::{Kernel, module_load_order};
use super::{CMD_TIMEOUT, find_command};
use crate::error::{LabError, Result};
use crate::proc::run_ok;

/// Directories every initramfs gets.
const DIRS: &[&str] =
    &["bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "modules", "etc", "tmp", "mnt"];

/// An initramfs tree under construction.
#[derive(Debug)]
pub struct Initramfs {
    root: PathBuf,
    modules: Vec<String>,
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir)
            .map_err(|e| LabError::io(format!("creating {}", dir.display()), e))?;
    }
    fs::copy(from, to)
        .map_err(|e| LabError::io(format!("copying {} to {}", from.display(), to.display()), e))?;
    Ok(())
}

/// The absolute library paths in `ldd` output (`libc.so.6 => /lib/.../libc.so.6 (0x...)` and
/// the loader's own `/lib64/ld-linux-x86-64.so.2 (0x...)`).
fn ldd_paths(ldd: &str) -> Vec<&str> {
    ldd.lines()
        .filter_map(|line| match line.split("=>").nth(1) {
            Some(right) => right.split_whitespace().next(),
            None => line.split_whitespace().next(),
        })
        .filter(|p| p.starts_with('/'))
        .collect()
}

impl Initramfs {
    /// Starts a fresh tree at `root` (anything there is removed) with the host's static
    /// busybox as `/bin/busybox` and `/bin/sh`.
    pub fn new(root: &Path) -> Result<Self> {
        let _ = fs::remove_dir_all(root);
        for d in DIRS {
            let dir = root.join(d);
            fs::create_dir_all(&dir)
                .map_err(|e| LabError::io(format!("creating {}", dir.display()), e))?;
        }
        let tree = Initramfs { root: root.to_owned(), modules: Vec::new() };
        copy(&find_command("busybox")?, &root.join("bin/busybox"))?;
        tree.symlink("busybox", "/bin/sh")?;
        Ok(tree)
    }

    /// Copies the host command `tool` (found on PATH) to `dest` with its shared libraries.
    pub fn add_command(&mut self, tool: &str, dest: &str) -> Result<()> {
        self.add_binary(&find_command(tool)?, dest)
    }

    /// Copies the binary `bin` to `dest` and every shared library `ldd` lists for it to the
    /// same path inside the tree.
    pub fn add_binary(&mut self, bin: &Path, dest: &str) -> Result<()> {
        copy(bin, &self.root.join(dest.trim_start_matches('/')))?;
        let mut ldd = Command::new("ldd");
        ldd.arg(bin);
        let out = run_ok(ldd, CMD_TIMEOUT)?;
        for lib in ldd_paths(&String::from_utf8_lossy(&out.stdout)) {
            let to = self.root.join(lib.trim_start_matches('/'));
            if !to.exists() {
                copy(Path::new(lib), &to)?;
            }
        }
        Ok(())
    }

    /// A symbolic link `link` (absolute inside the tree) pointing at `target`.
    pub fn symlink(&self, target: &str, link: &str) -> Result<()> {
        let at = self.root.join(link.trim_start_matches('/'));
        let _ = fs::remove_file(&at);
        symlink(target, &at).map_err(|e| LabError::io(format!("linking {}", at.display()), e))
    }

    /// Copies the modules `roots` need from `kernel` into `/modules`, remembering the order
    /// they must be loaded in ([`Initramfs::modules`]). They are plain `.ko` files also when
    /// the kernel ships `.ko.xz` ([`module_load_order`] decompresses them).
    pub fn add_modules(&mut self, kernel: &Kernel, roots: &[&str]) -> Result<()> {
        for ko in module_load_order(&kernel.modules, roots)? {
            let Some(name) = ko.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                continue;
            };
            if !self.modules.contains(&name) {
                copy(&ko, &self.root.join("modules").join(&name))?;
                self.modules.push(name);
            }
        }
        Ok(())
    }

    /// The module files under `/modules`, in load order.
    pub fn modules(&self) -> &[String] {
        &self.modules
    }

    /// Writes `init` as `/init` and packs the tree into the cpio archive `out`.
    pub fn write_cpio(&self, init: &str, out: &Path) -> Result<PathBuf> {
        let path = self.root.join("init");
        fs::write(&path, init)
            .map_err(|e| LabError::io(format!("writing {}", path.display()), e))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
            .map_err(|e| LabError::io(format!("chmod {}", path.display()), e))?;
        let mut cpio = Command::new("sh");
        cpio.arg("-c")
            .arg("find . | cpio -o -H newc --quiet > \"$1\"")
            .arg("sh")
            .arg(out)
            .current_dir(&self.root);
        run_ok(cpio, CMD_TIMEOUT)?;
        Ok(out.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_lines_give_absolute_paths_only() {
        let ldd = "\tlinux-vdso.so.1 (0x00007ffd)\n\
                   \tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f58)\n\
                   \t/lib64/ld-linux-x86-64.so.2 (0x00007f58)\n\
                   \tlibmissing.so => not found\n";
        assert_eq!(
            ldd_paths(ldd),
            ["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]
        );
    }
}
