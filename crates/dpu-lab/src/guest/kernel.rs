//! Debian's amd64 kernel for guests: download once into a cache, find its modules and the
//! order to load them in.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::CMD_TIMEOUT;
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

/// The kernel already extracted under `root`, if it is complete (has the NVMe host modules).
fn find_extracted(root: &Path) -> Option<Kernel> {
    let boot = fs::read_dir(root.join("boot")).ok()?;
    let vmlinuz = boot
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-")))?;
    let version = vmlinuz.file_name()?.to_string_lossy().trim_start_matches("vmlinuz-").to_owned();
    let modules = root.join("lib/modules").join(version);
    modules.join("kernel/drivers/nvme/host").is_dir().then_some(Kernel { vmlinuz, modules })
}

/// The numeric parts of a package name, for ordering `linux-image-6.1.0-9` before `-10`.
fn version_key(pkg: &str) -> Vec<u32> {
    pkg.split(|c: char| !c.is_ascii_digit()).filter_map(|s| s.parse().ok()).collect()
}

/// The newest `linux-image-<version>-amd64` package in an `apt-cache search` listing.
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

/// Debian's newest `linux-image-<version>-amd64`, downloaded (`apt-get download`) and extracted
/// (`dpkg-deb -x`) under `cache/kernel` the first time; later calls reuse the extraction.
/// Nothing is installed on the host.
pub fn debian_kernel(cache: &Path) -> Result<Kernel> {
    let root = cache.join("kernel");
    if let Some(k) = find_extracted(&root) {
        return Ok(k);
    }
    fs::create_dir_all(cache).map_err(io_err(format!("creating {}", cache.display())))?;
    let mut search = Command::new("apt-cache");
    search.args(["search", "--names-only", "^linux-image-[0-9.]+-[0-9]+-amd64$"]);
    let listing = run_ok(search, CMD_TIMEOUT)?;
    let pkg =
        newest_kernel_package(&String::from_utf8_lossy(&listing.stdout)).ok_or_else(|| {
            LabError::Guest(
                "no linux-image-<version>-amd64 package in apt-cache (run apt-get update)".into(),
            )
        })?;
    println!("guest: downloading {pkg} into {}", cache.display());
    let dl = cache.join("deb");
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

/// A module's name as the kernel spells it (`nvme-tcp.ko` → `nvme_tcp`).
fn module_name(ko: &Path) -> String {
    ko.file_name()
        .map(|n| n.to_string_lossy().trim_end_matches(".ko").replace('-', "_"))
        .unwrap_or_default()
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

/// Every `.ko` under `modules/kernel`, by module name.
fn module_index(modules: &Path) -> Result<HashMap<String, PathBuf>> {
    let mut index = HashMap::new();
    let mut stack = vec![modules.join("kernel")];
    while let Some(dir) = stack.pop() {
        let entries = fs::read_dir(&dir).map_err(io_err(format!("reading {}", dir.display())))?;
        for p in entries.filter_map(std::result::Result::ok).map(|e| e.path()) {
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "ko") {
                index.insert(module_name(&p), p);
            }
        }
    }
    Ok(index)
}

/// The modules `roots` need, dependencies first (the order `insmod` needs). A name missing from
/// the tree is built into the kernel and skipped, except a root: that is an error.
pub fn module_load_order(modules: &Path, roots: &[&str]) -> Result<Vec<PathBuf>> {
    let index = module_index(modules)?;
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
            let bytes = fs::read(path).map_err(io_err(format!("reading {}", path.display())))?;
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
        let dir = std::env::temp_dir().join(format!("dpu-lab-modules-{}", std::process::id()));
        let kdir = dir.join("kernel/drivers");
        fs::create_dir_all(&kdir).unwrap();
        for (file, deps) in [
            ("nvme-tcp.ko", "depends=nvme-fabrics,nvme-core"),
            ("nvme-fabrics.ko", "depends=nvme-core"),
            ("nvme-core.ko", "depends="),
        ] {
            fs::write(kdir.join(file), format!("\0{deps}\0")).unwrap();
        }
        let order = module_load_order(&dir, &["nvme-tcp"]);
        let names: Vec<String> = order.iter().flatten().map(|p| module_name(p)).collect();
        assert!(module_load_order(&dir, &["no_such_module"]).is_err());
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(names, ["nvme_core", "nvme_fabrics", "nvme_tcp"]);
    }
}
