//! Debian's amd64 kernel for guests: download once into a cache, find its modules and the
//! order to load them in. Modules may be plain (`.ko`, Debian's 6.1) or xz-compressed
//! (`.ko.xz`, Debian's 6.12); a compressed one is decompressed beside itself when first
//! needed, so what callers get is always a plain `.ko` that busybox `insmod` loads.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{CMD_TIMEOUT, ensure_commands};
use crate::error::{LabError, Result};
use crate::proc::run_ok;

/// A kernel image and its module tree.
#[derive(Debug, Clone)]
pub struct Kernel {
    /// `boot/vmlinuz-<version>`.
    pub vmlinuz: PathBuf,
    /// `lib/modules/<version>`.
    pub modules: PathBuf,
}

/// The `apt-cache search --names-only` pattern of Debian's default (6.1) kernel packages.
const KERNEL_6_1: &str = "^linux-image-[0-9.]+-[0-9]+-amd64$";
/// The pattern of bookworm's 6.12 kernel packages (`linux-image-6.12.<n>+deb12-amd64-unsigned`).
const KERNEL_6_12: &str = r"^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$";

/// The kernel already extracted under `root`, if it is complete (has the NVMe host modules).
fn find_extracted(root: &Path) -> Option<Kernel> {
    let boot = fs::read_dir(root.join("boot")).ok()?;
    let vmlinuz = boot
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-")))?;
    let version = vmlinuz.file_name()?.to_string_lossy().trim_start_matches("vmlinuz-").to_owned();
    // Packages for a merged /usr may put the modules under usr/lib.
    ["lib/modules", "usr/lib/modules"]
        .iter()
        .map(|dir| root.join(dir).join(&version))
        .find(|m| m.join("kernel/drivers/nvme/host").is_dir())
        .map(|modules| Kernel { vmlinuz, modules })
}

/// The numeric parts of a package name, for ordering `linux-image-6.1.0-9` before `-10`.
fn version_key(pkg: &str) -> Vec<u32> {
    pkg.split(|c: char| !c.is_ascii_digit()).filter_map(|s| s.parse().ok()).collect()
}

/// The newest package (by the numbers in its name) in an `apt-cache search` listing.
fn newest_kernel_package(listing: &str) -> Option<String> {
    listing
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .max_by_key(|p| version_key(p))
        .map(str::to_owned)
}

fn io_err(context: String) -> impl FnOnce(std::io::Error) -> LabError {
    move |source| LabError::io(context, source)
}

/// Debian's newest `linux-image-<version>-amd64` (6.1 on bookworm), downloaded
/// (`apt-get download`) and extracted (`dpkg-deb -x`) under `cache/kernel` the first time;
/// later calls reuse the extraction. Nothing is installed on the host.
pub fn debian_kernel(cache: &Path) -> Result<Kernel> {
    debian_kernel_from(cache, KERNEL_6_1, "kernel")
}

/// Bookworm's newest 6.12 kernel (`linux-image-6.12.<n>+deb12-amd64-unsigned`), as
/// [`debian_kernel`] but under `cache/kernel-6.12`. Its configuration has what 6.1's lacks,
/// e.g. NVMe in-band authentication (`CONFIG_NVME_HOST_AUTH`, DH-HMAC-CHAP); its modules are
/// `.ko.xz`, decompressed as [`module_load_order`] needs them (`xz`, installed if missing).
pub fn debian_kernel_6_12(cache: &Path) -> Result<Kernel> {
    debian_kernel_from(cache, KERNEL_6_12, "kernel-6.12")
}

/// The newest package matching `pattern` (an `apt-cache search --names-only` regular
/// expression; versions compared by the numbers in the names) downloaded and extracted under
/// `cache/dir` the first time; later calls reuse the extraction. The package must contain a
/// `boot/vmlinuz-<version>` and its modules with the NVMe host drivers.
pub fn debian_kernel_from(cache: &Path, pattern: &str, dir: &str) -> Result<Kernel> {
    let root = cache.join(dir);
    if let Some(k) = find_extracted(&root) {
        return Ok(k);
    }
    fs::create_dir_all(cache).map_err(io_err(format!("creating {}", cache.display())))?;
    let search = || -> Result<Option<String>> {
        let mut search = Command::new("apt-cache");
        search.args(["search", "--names-only", pattern]);
        let listing = run_ok(search, CMD_TIMEOUT)?;
        Ok(newest_kernel_package(&String::from_utf8_lossy(&listing.stdout)))
    };
    let pkg = match search()? {
        Some(pkg) => pkg,
        None => {
            // Package lists older than the kernel (a fresh machine's image): refresh them
            // once, as installing a missing package would.
            println!("guest: no package matching {pattern}; running apt-get update");
            let mut update = Command::new("apt-get");
            update.args(["update", "-q"]);
            run_ok(update, CMD_TIMEOUT)?;
            search()?.ok_or_else(|| {
                LabError::Guest(format!("no package matching {pattern} after apt-get update"))
            })?
        }
    };
    println!("guest: downloading {pkg} into {}", cache.display());
    let dl = cache.join(format!("deb-{dir}"));
    let _ = fs::remove_dir_all(&dl);
    fs::create_dir_all(&dl).map_err(io_err(format!("creating {}", dl.display())))?;
    let mut download = Command::new("apt-get");
    download.arg("download").arg(&pkg).current_dir(&dl);
    run_ok(download, CMD_TIMEOUT)?;
    let deb = fs::read_dir(&dl)
        .map_err(io_err(format!("reading {}", dl.display())))?
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or_else(|| LabError::Guest(format!("apt-get download {pkg} left no .deb")))?;
    let _ = fs::remove_dir_all(&root);
    let mut extract = Command::new("dpkg-deb");
    extract.arg("-x").arg(&deb).arg(&root);
    run_ok(extract, CMD_TIMEOUT)?;
    let _ = fs::remove_dir_all(&dl);
    find_extracted(&root)
        .ok_or_else(|| LabError::Guest(format!("{pkg} has no vmlinuz or no NVMe host modules")))
}

/// A module file name without its suffix (`nvme-tcp.ko` or `nvme-tcp.ko.xz` → `nvme-tcp`);
/// `None` for any other file.
fn module_stem(file: &str) -> Option<&str> {
    file.strip_suffix(".ko").or_else(|| file.strip_suffix(".ko.xz"))
}

/// A module's name as the kernel spells it (`nvme-tcp.ko`, `nvme-tcp.ko.xz` → `nvme_tcp`).
fn module_name(ko: &Path) -> String {
    ko.file_name()
        .map(|n| {
            let n = n.to_string_lossy();
            module_stem(&n).unwrap_or(&n).replace('-', "_")
        })
        .unwrap_or_default()
}

/// Host command and Debian package that decompress `.ko.xz` modules.
const XZ: (&str, &str) = ("xz", "xz-utils");

/// The plain module `path` stands for and its bytes: `path` itself if it is not compressed;
/// for `x.ko.xz`, `x.ko` beside it, decompressed (`xz -dc`) now. The `.ko` is written under a
/// temporary name and renamed, so a concurrent reader never sees it half written.
fn plain_module(path: &Path) -> Result<(PathBuf, Vec<u8>)> {
    if path.extension().is_none_or(|x| x != "xz") {
        let bytes = fs::read(path).map_err(io_err(format!("reading {}", path.display())))?;
        return Ok((path.to_owned(), bytes));
    }
    static TMP: AtomicU64 = AtomicU64::new(0);
    ensure_commands(&[XZ])?;
    let mut xz = Command::new("xz");
    xz.arg("-dc").arg(path);
    let bytes = run_ok(xz, CMD_TIMEOUT)?.stdout;
    let ko = path.with_extension("");
    let n = TMP.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("{}-{n}.tmp", std::process::id()));
    fs::write(&tmp, &bytes).map_err(io_err(format!("writing {}", tmp.display())))?;
    fs::rename(&tmp, &ko).map_err(io_err(format!("renaming {}", tmp.display())))?;
    Ok((ko, bytes))
}

/// The `depends=` entry of a module's `.modinfo` section.
fn module_deps(bytes: &[u8]) -> Vec<String> {
    let key = b"depends=";
    let Some(pos) = bytes.windows(key.len()).position(|w| w == key) else { return Vec::new() };
    let rest = &bytes[pos + key.len()..];
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end])
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace('-', "_"))
        .collect()
}

/// Every `.ko` and `.ko.xz` under `modules/kernel`, by module name; where both are there
/// (decompressed earlier), the `.ko`.
fn module_index(modules: &Path) -> Result<HashMap<String, PathBuf>> {
    let mut index = HashMap::new();
    let mut stack = vec![modules.join("kernel")];
    while let Some(dir) = stack.pop() {
        let entries = fs::read_dir(&dir).map_err(io_err(format!("reading {}", dir.display())))?;
        for p in entries.filter_map(std::result::Result::ok).map(|e| e.path()) {
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let file = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if module_stem(&file).is_some() {
                let plain = file.ends_with(".ko");
                let name = module_name(&p);
                if plain || !index.contains_key(&name) {
                    index.insert(name, p);
                }
            }
        }
    }
    Ok(index)
}

/// The modules `roots` need, dependencies first (the order `insmod` needs), as plain `.ko`
/// files (a needed `.ko.xz` is decompressed beside itself; no other is touched). A name
/// missing from the tree is built into the kernel and skipped, except a root: that is an error.
pub fn module_load_order(modules: &Path, roots: &[&str]) -> Result<Vec<PathBuf>> {
    let mut index = module_index(modules)?;
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    // Depth-first with an explicit stack: (module, its dependencies already pushed).
    for root in roots {
        let root = root.replace('-', "_");
        let mut stack = vec![(root, false)];
        while let Some((name, expanded)) = stack.pop() {
            let Some(path) = index.get(&name) else { continue };
            if expanded {
                order.push(path.clone());
                continue;
            }
            if !seen.insert(name.clone()) {
                continue;
            }
            let (ko, bytes) = plain_module(path)?;
            index.insert(name.clone(), ko);
            stack.push((name, true));
            stack.extend(module_deps(&bytes).into_iter().map(|d| (d, false)));
        }
    }
    for root in roots {
        let name = root.replace('-', "_");
        let built_in = modules.join("modules.builtin");
        let is_builtin = fs::read_to_string(&built_in)
            .is_ok_and(|s| s.lines().any(|l| module_name(Path::new(l)) == name));
        if !index.contains_key(&name) && !is_builtin {
            return Err(LabError::Guest(format!("kernel module {root} not found")));
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn newest_package_orders_versions_numerically() {
        let listing = "linux-image-6.1.0-9-amd64 - Linux 6.1\n\
                       linux-image-6.1.0-10-amd64 - Linux 6.1\n\
                       linux-image-5.10.0-28-amd64 - Linux 5.10\n";
        assert_eq!(newest_kernel_package(listing).as_deref(), Some("linux-image-6.1.0-10-amd64"));
        assert_eq!(newest_kernel_package(""), None);
        let listing = "linux-image-6.12.99+deb12-amd64-unsigned - Linux 6.12\n\
                       linux-image-6.12.118+deb12-amd64-unsigned - Linux 6.12\n\
                       linux-image-6.12.107+deb12-amd64-unsigned - Linux 6.12\n";
        assert_eq!(
            newest_kernel_package(listing).as_deref(),
            Some("linux-image-6.12.118+deb12-amd64-unsigned")
        );
    }

    #[test]
    fn compressed_module_names_drop_the_suffix() {
        assert_eq!(module_stem("nvme-tcp.ko"), Some("nvme-tcp"));
        assert_eq!(module_stem("nvme-tcp.ko.xz"), Some("nvme-tcp"));
        assert_eq!(module_stem("nvme-tcp.ko.zst"), None);
        assert_eq!(module_stem("modules.dep"), None);
        assert_eq!(module_name(Path::new("/m/nvme-tcp.ko.xz")), "nvme_tcp");
        assert_eq!(module_name(Path::new("/m/nvme-tcp.ko")), "nvme_tcp");
        assert_eq!(module_name(Path::new("kernel/crypto/crc32c_generic.ko")), "crc32c_generic");
    }

    /// A module tree in a temporary directory (removed on drop, also when an unwrap
    /// fails): each `(file, modinfo)` under `kernel/drivers`, which is returned with it.
    fn module_tree(modules: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let kdir = tmp.path().join("kernel/drivers");
        fs::create_dir_all(&kdir).unwrap();
        for (file, deps) in modules {
            fs::write(kdir.join(file), format!("\0{deps}\0")).unwrap();
        }
        (tmp, kdir)
    }

    #[test]
    fn compressed_modules_are_decompressed_when_needed_only() {
        let (tmp, kdir) = module_tree(&[
            ("nvme-tcp.ko", "depends=nvme-fabrics,nvme-core"),
            ("nvme-fabrics.ko", "depends=nvme-core,nvme-auth"),
            ("nvme-core.ko", "depends=nvme-auth"),
            ("nvme-auth.ko", "depends="),
            ("unused.ko", "depends="),
        ]);
        let dir = tmp.path();
        // All but nvme-tcp compressed, as Debian's 6.12 ships them.
        ensure_commands(&[XZ]).unwrap();
        let mut xz = Command::new("xz");
        xz.arg("-z").args(["nvme-fabrics.ko", "nvme-core.ko", "nvme-auth.ko", "unused.ko"]);
        xz.current_dir(&kdir);
        run_ok(xz, CMD_TIMEOUT).unwrap();
        assert!(!kdir.join("nvme-core.ko").exists() && kdir.join("nvme-core.ko.xz").exists());

        let first = module_load_order(dir, &["nvme-tcp"]).unwrap();
        // Later calls find the decompressed files and give the same answer.
        let again = module_load_order(dir, &["nvme-tcp"]).unwrap();
        let names: Vec<String> = first.iter().map(|p| module_name(p)).collect();
        let all_plain = first.iter().all(|p| p.extension().is_some_and(|x| x == "ko"));
        let core = fs::read(kdir.join("nvme-core.ko")).unwrap_or_default();
        let unused_untouched = !kdir.join("unused.ko").exists();
        let leftovers = fs::read_dir(&kdir)
            .unwrap()
            .filter_map(std::result::Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .count();
        assert_eq!(names, ["nvme_auth", "nvme_core", "nvme_fabrics", "nvme_tcp"]);
        assert_eq!(first, again);
        assert!(all_plain, "{first:?}");
        assert_eq!(core, b"\0depends=nvme-auth\0");
        assert!(unused_untouched);
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn modinfo_depends_is_read_and_normalised() {
        let modinfo = b"license=GPL\0depends=nvme-core,nvme-fabrics\0vermagic=6.1\0";
        assert_eq!(module_deps(modinfo), ["nvme_core", "nvme_fabrics"]);
        assert!(module_deps(b"depends=\0").is_empty());
        assert!(module_deps(b"no modinfo here").is_empty());
    }

    #[test]
    fn load_order_puts_dependencies_first() {
        let (tmp, _) = module_tree(&[
            ("nvme-tcp.ko", "depends=nvme-fabrics,nvme-core"),
            ("nvme-fabrics.ko", "depends=nvme-core"),
            ("nvme-core.ko", "depends="),
        ]);
        let dir = tmp.path();
        let order = module_load_order(dir, &["nvme-tcp"]);
        let names: Vec<String> = order.iter().flatten().map(|p| module_name(p)).collect();
        assert!(module_load_order(dir, &["no_such_module"]).is_err());
        assert_eq!(names, ["nvme_core", "nvme_fabrics", "nvme_tcp"]);
    }
}
