//! What the card is: host, kernel, CPU, memory, uptime and network interfaces, read from the
//! running machine.
//!
//! Collection is best effort: a source that cannot be read leaves its fields empty (and logs a
//! warning) instead of failing the whole inventory, so the agent always gets an answer.

mod net;
mod parse;

use std::fs;
use std::path::{Path, PathBuf};

use dpu_proto::dpu::system::v1::{ComponentVersion, Inventory};
use tracing::warn;

pub use net::{cidr, format_mac, prefix_len_v4, prefix_len_v6};
pub use parse::{
    CpuInfo, MemInfo, arm_cpu_name, parse_cpu_list, parse_cpuinfo, parse_meminfo, parse_midr,
    parse_uptime,
};

/// Where procfs and sysfs are mounted; tests may point these elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    pub proc_dir: PathBuf,
    pub sys_dir: PathBuf,
}

impl Default for Sources {
    fn default() -> Self {
        Self { proc_dir: PathBuf::from("/proc"), sys_dir: PathBuf::from("/sys") }
    }
}

/// This crate's entry in `Inventory.versions`; the agent adds its own and the other services'.
pub fn component_version() -> ComponentVersion {
    ComponentVersion {
        component: crate::SERVICE_NAME.to_owned(),
        version: crate::VERSION.to_owned(),
    }
}

/// Reads the whole inventory. Blocking (file reads and a netlink dump): call it from
/// `spawn_blocking` in async code.
pub fn collect(sources: &Sources) -> Inventory {
    let mut inventory = Inventory { versions: vec![component_version()], ..Default::default() };

    match nix::unistd::gethostname() {
        Ok(name) => inventory.hostname = name.to_string_lossy().into_owned(),
        Err(err) => warn!(%err, "gethostname failed"),
    }
    match nix::sys::utsname::uname() {
        Ok(uts) => {
            inventory.kernel_release = uts.release().to_string_lossy().into_owned();
            inventory.kernel_version = uts.version().to_string_lossy().into_owned();
            inventory.architecture = uts.machine().to_string_lossy().into_owned();
        }
        Err(err) => warn!(%err, "uname failed"),
    }

    let cpuinfo = read(&sources.proc_dir.join("cpuinfo")).map(|t| parse_cpuinfo(&t));
    inventory.cpu_model = cpu_model(cpuinfo.as_ref(), &sources.sys_dir);
    inventory.cpu_count = cpu_count(cpuinfo.as_ref(), &sources.sys_dir);

    if let Some(mem) = read(&sources.proc_dir.join("meminfo")).map(|t| parse_meminfo(&t)) {
        inventory.memory_total_bytes = mem.total_bytes.unwrap_or(0);
        inventory.memory_available_bytes = mem.available_bytes.unwrap_or(0);
    }
    inventory.uptime_seconds =
        read(&sources.proc_dir.join("uptime")).and_then(|t| parse_uptime(&t)).unwrap_or(0);

    match net::interfaces(&sources.sys_dir) {
        Ok(interfaces) => inventory.interfaces = interfaces,
        Err(err) => warn!(%err, "getifaddrs failed; inventory has no interfaces"),
    }
    inventory
}

/// /proc/cpuinfo first; on aarch64 kernels that print no implementer/part, MIDR_EL1 from sysfs.
fn cpu_model(cpuinfo: Option<&CpuInfo>, sys_dir: &Path) -> String {
    if let Some(model) = cpuinfo.and_then(|info| info.model.clone()) {
        return model;
    }
    read(&sys_dir.join("devices/system/cpu/cpu0/regs/identification/midr_el1"))
        .and_then(|text| parse_midr(&text))
        .map(|(implementer, part)| arm_cpu_name(implementer, part))
        .unwrap_or_default()
}

/// Online CPUs (sysfs-devices-system-cpu ABI), else the processors listed in /proc/cpuinfo,
/// else what the standard library sees.
fn cpu_count(cpuinfo: Option<&CpuInfo>, sys_dir: &Path) -> u32 {
    read(&sys_dir.join("devices/system/cpu/online"))
        .and_then(|text| parse_cpu_list(&text))
        .or_else(|| cpuinfo.map(|info| info.processors).filter(|n| *n > 0))
        .or_else(|| {
            std::thread::available_parallelism().ok().and_then(|n| u32::try_from(n.get()).ok())
        })
        .unwrap_or(0)
}

fn read(path: &Path) -> Option<String> {
    match fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(err) => {
            warn!(path = %path.display(), %err, "cannot read inventory source");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_from_this_machine() {
        let inventory = collect(&Sources::default());
        assert!(!inventory.hostname.is_empty());
        assert!(!inventory.kernel_release.is_empty());
        assert_eq!(inventory.architecture, std::env::consts::ARCH);
        assert!(inventory.cpu_count >= 1);
        assert!(!inventory.cpu_model.is_empty());
        assert!(inventory.memory_total_bytes > 0);
        assert!(inventory.memory_available_bytes <= inventory.memory_total_bytes);
        assert_eq!(inventory.versions, vec![component_version()]);
    }

    /// Assumes /sys was mounted in this test's network namespace (true in the root namespace and
    /// under `ip netns exec`; not after a bare `unshare -n`, where sysfs shows the parent's).
    #[test]
    fn interfaces_match_sysfs() {
        let inventory = collect(&Sources::default());
        let mut from_sysfs: Vec<String> = fs::read_dir("/sys/class/net")
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        from_sysfs.sort();
        let mut names: Vec<String> = inventory.interfaces.iter().map(|i| i.name.clone()).collect();
        names.sort();
        assert_eq!(names, from_sysfs);

        let lo = inventory.interfaces.iter().find(|i| i.name == "lo").unwrap();
        let sysfs = |file: &str| fs::read_to_string(format!("/sys/class/net/lo/{file}")).unwrap();
        assert_eq!(lo.mtu, sysfs("mtu").trim().parse::<u32>().unwrap());
        assert_eq!(lo.if_index, sysfs("ifindex").trim().parse::<u32>().unwrap());
        assert_eq!(lo.oper_state, sysfs("operstate").trim());
        let flags =
            u32::from_str_radix(sysfs("flags").trim().trim_start_matches("0x"), 16).unwrap();
        assert_eq!(lo.admin_up, flags & 0x1 != 0, "IFF_UP");
        assert_eq!(lo.mac_address, "");
        if lo.admin_up {
            assert!(lo.addresses.iter().any(|a| a == "127.0.0.1/8"), "{:?}", lo.addresses);
        }
    }

    #[test]
    fn missing_sources_leave_fields_empty() {
        let empty = tempfile::tempdir().unwrap();
        let sources =
            Sources { proc_dir: empty.path().join("proc"), sys_dir: empty.path().join("sys") };
        let inventory = collect(&sources);
        assert_eq!(inventory.memory_total_bytes, 0);
        assert_eq!(inventory.uptime_seconds, 0);
        assert_eq!(inventory.cpu_model, "");
        // Still counts CPUs through the standard library.
        assert!(inventory.cpu_count >= 1);
        // Without sysfs, interfaces still come from netlink; MTU becomes unknown.
        let lo = inventory.interfaces.iter().find(|i| i.name == "lo").unwrap();
        assert_eq!(lo.mtu, 0);
    }

    #[test]
    fn aarch64_model_from_midr_when_cpuinfo_has_none() {
        let sys = tempfile::tempdir().unwrap();
        let dir = sys.path().join("devices/system/cpu/cpu0/regs/identification");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("midr_el1"), "0x00000000410fd421\n").unwrap();
        let info = CpuInfo { model: None, processors: 8 };
        assert_eq!(cpu_model(Some(&info), sys.path()), "ARM Cortex-A78AE");
        assert_eq!(cpu_count(Some(&info), sys.path()), 8);
        fs::write(sys.path().join("devices/system/cpu/online"), "0-15\n").unwrap();
        assert_eq!(cpu_count(Some(&info), sys.path()), 16);
    }
}
