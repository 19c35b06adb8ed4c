//! Network interfaces of the calling process's network namespace.
//!
//! getifaddrs(3) asks the kernel over netlink, so it always sees this process's namespace; it
//! gives names, flags, link addresses and IP addresses. MTU and operational state come from
//! `/sys/class/net/IF/` (sysfs-class-net ABI). sysfs shows the namespace it was mounted in, which
//! differs from ours when a process entered a namespace without remounting /sys, so each
//! interface's `ifindex` there is checked first; on a mismatch those two fields fall back to
//! "unknown" (MTU 0, state from the flags).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use dpu_proto::dpu::system::v1::NetworkInterface;
use nix::ifaddrs::getifaddrs;
use nix::net::if_::{InterfaceFlags, if_nametoindex};
use nix::sys::socket::SockaddrStorage;

/// Everything getifaddrs reported for one interface name.
#[derive(Debug, Default)]
struct Collected {
    if_index: u32,
    flags: Option<InterfaceFlags>,
    mac: String,
    addresses: Vec<String>,
}

/// Lists every interface, ordered by index. `sys_dir` is normally `/sys`.
pub(crate) fn interfaces(sys_dir: &Path) -> Result<Vec<NetworkInterface>, nix::Error> {
    let entries: Vec<_> = getifaddrs()?.collect();
    // Every device has a link-layer entry, under its own name.
    let devices: BTreeSet<&str> = entries
        .iter()
        .filter(|e| e.address.as_ref().is_some_and(|a| a.as_link_addr().is_some()))
        .map(|e| e.interface_name.as_str())
        .collect();
    let mut by_name: BTreeMap<String, Collected> = BTreeMap::new();
    for entry in &entries {
        let name = device_name(&entry.interface_name, &devices);
        let item = by_name.entry(name.to_owned()).or_default();
        item.flags = Some(item.flags.unwrap_or(InterfaceFlags::empty()) | entry.flags);
        let Some(address) = entry.address.as_ref() else { continue };
        if let Some(link) = address.as_link_addr() {
            item.if_index = u32::try_from(link.ifindex()).unwrap_or(0);
            if link.halen() == 6 {
                item.mac = link.addr().map(|mac| format_mac(&mac)).unwrap_or_default();
            }
        } else if let Some(cidr) = ip_cidr(address, entry.netmask.as_ref())
            && !item.addresses.contains(&cidr)
        {
            item.addresses.push(cidr);
        }
    }

    let mut out: Vec<NetworkInterface> = by_name
        .into_iter()
        .map(|(name, item)| {
            let if_index = if item.if_index != 0 {
                item.if_index
            } else {
                if_nametoindex(name.as_str()).unwrap_or(0)
            };
            let flags = item.flags.unwrap_or(InterfaceFlags::empty());
            let sysfs = SysfsView::read(sys_dir, &name, if_index, flags);
            NetworkInterface {
                oper_state: sysfs
                    .oper_state
                    .unwrap_or_else(|| oper_state_from_flags(flags).to_owned()),
                mtu: sysfs.mtu.unwrap_or(0),
                admin_up: flags.contains(InterfaceFlags::IFF_UP),
                mac_address: item.mac,
                addresses: item.addresses,
                if_index,
                name,
            }
        })
        .collect();
    out.sort_by(|a, b| (a.if_index, &a.name).cmp(&(b.if_index, &b.name)));
    Ok(out)
}

/// The device an entry of getifaddrs(3) belongs to. glibc names an IPv4 address by its label,
/// which is its device's name unless the address was given one: an alias (`eth0:1`, from
/// ifconfig or ifupdown) or `ip addr add ... label eth0:web`. A device's name never contains
/// ':' (the kernel refuses it), so a label `DEV:anything` of a device `DEV` is that device's,
/// as `ip addr` shows it.
fn device_name<'a>(name: &'a str, devices: &BTreeSet<&str>) -> &'a str {
    if devices.contains(name) {
        return name;
    }
    match name.split_once(':') {
        Some((device, _)) if devices.contains(device) => device,
        _ => name,
    }
}

/// The fields read from `/sys/class/net/IF/`, present only when sysfs shows our interface.
#[derive(Debug, Default)]
struct SysfsView {
    mtu: Option<u32>,
    oper_state: Option<String>,
}

impl SysfsView {
    /// `if_index` and `flags` are what netlink reported; sysfs must agree on both to be trusted
    /// (`lo` has index 1 in every namespace, so the index alone cannot tell them apart).
    fn read(sys_dir: &Path, name: &str, if_index: u32, flags: InterfaceFlags) -> Self {
        // Interface names cannot contain '/', but never build a path from one that does.
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Self::default();
        }
        let dir = sys_dir.join("class/net").join(name);
        let read = |file: &str| fs::read_to_string(dir.join(file)).ok();
        let same_index =
            read("ifindex").and_then(|text| text.trim().parse::<u32>().ok()) == Some(if_index);
        let up = InterfaceFlags::IFF_UP.bits() as u32;
        let same_admin_state = read("flags")
            .and_then(|text| parse_hex_flags(&text))
            .is_some_and(|sys_flags| (sys_flags & up) == (flags.bits() as u32 & up));
        if !(same_index && same_admin_state) {
            return Self::default();
        }
        Self {
            mtu: read("mtu").and_then(|text| text.trim().parse().ok()),
            oper_state: read("operstate")
                .map(|text| text.trim().to_owned())
                .filter(|state| !state.is_empty()),
        }
    }
}

/// `/sys/class/net/IF/flags` is printed as "0x1003".
fn parse_hex_flags(text: &str) -> Option<u32> {
    let text = text.trim();
    u32::from_str_radix(text.strip_prefix("0x").unwrap_or(text), 16).ok()
}

/// RFC 2863 state as the kernel names it, approximated from the flags.
fn oper_state_from_flags(flags: InterfaceFlags) -> &'static str {
    if !flags.contains(InterfaceFlags::IFF_UP) {
        "down"
    } else if flags.contains(InterfaceFlags::IFF_LOWER_UP) {
        "up"
    } else {
        "unknown"
    }
}

/// Lower-case colon hex; empty for the all-zero address (loopback has no real MAC).
pub fn format_mac(mac: &[u8; 6]) -> String {
    if mac.iter().all(|b| *b == 0) {
        return String::new();
    }
    mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

fn ip_cidr(address: &SockaddrStorage, netmask: Option<&SockaddrStorage>) -> Option<String> {
    if let Some(v4) = address.as_sockaddr_in() {
        let prefix = netmask.and_then(|m| m.as_sockaddr_in()).map_or(32, |m| prefix_len_v4(m.ip()));
        return Some(cidr(IpAddr::V4(v4.ip()), prefix));
    }
    if let Some(v6) = address.as_sockaddr_in6() {
        let prefix =
            netmask.and_then(|m| m.as_sockaddr_in6()).map_or(128, |m| prefix_len_v6(m.ip()));
        return Some(cidr(IpAddr::V6(v6.ip()), prefix));
    }
    None
}

/// Prefix length of a netmask: its leading one bits (masks from the kernel are contiguous).
pub fn prefix_len_v4(mask: Ipv4Addr) -> u32 {
    u32::from(mask).leading_ones()
}

pub fn prefix_len_v6(mask: Ipv6Addr) -> u32 {
    u128::from(mask).leading_ones()
}

pub fn cidr(ip: IpAddr, prefix: u32) -> String {
    format!("{ip}/{prefix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs() {
        assert_eq!(format_mac(&[0x02, 0xAB, 0, 0x10, 0xff, 1]), "02:ab:00:10:ff:01");
        assert_eq!(format_mac(&[0; 6]), "");
    }

    #[test]
    fn prefixes() {
        assert_eq!(prefix_len_v4(Ipv4Addr::new(255, 255, 255, 252)), 30);
        assert_eq!(prefix_len_v4(Ipv4Addr::new(255, 0, 0, 0)), 8);
        assert_eq!(prefix_len_v4(Ipv4Addr::UNSPECIFIED), 0);
        assert_eq!(prefix_len_v4(Ipv4Addr::BROADCAST), 32);
        let mask: Ipv6Addr = "ffff:ffff:ffff:ffff::".parse().unwrap();
        assert_eq!(prefix_len_v6(mask), 64);
        assert_eq!(prefix_len_v6(Ipv6Addr::UNSPECIFIED), 0);
        assert_eq!(cidr("2001:db8::1".parse().unwrap(), 64), "2001:db8::1/64");
        assert_eq!(cidr("192.168.100.2".parse().unwrap(), 30), "192.168.100.2/30");
    }

    #[test]
    fn labels_name_their_device() {
        let devices = BTreeSet::from(["lo", "eth0", "p0"]);
        assert_eq!(device_name("eth0", &devices), "eth0");
        assert_eq!(device_name("eth0:1", &devices), "eth0");
        assert_eq!(device_name("eth0:web", &devices), "eth0");
        // Nothing to attach it to: shown as it came.
        assert_eq!(device_name("eth1:1", &devices), "eth1:1");
        assert_eq!(device_name("other", &devices), "other");
        assert_eq!(device_name(":1", &devices), ":1");
    }

    #[test]
    fn state_from_flags() {
        assert_eq!(oper_state_from_flags(InterfaceFlags::empty()), "down");
        assert_eq!(oper_state_from_flags(InterfaceFlags::IFF_UP), "unknown");
        assert_eq!(
            oper_state_from_flags(InterfaceFlags::IFF_UP | InterfaceFlags::IFF_LOWER_UP),
            "up"
        );
    }

    #[test]
    fn sysfs_view_ignores_other_namespace() {
        let sys = tempfile::tempdir().unwrap();
        let dir = sys.path().join("class/net/veth0");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("ifindex"), "7\n").unwrap();
        fs::write(dir.join("mtu"), "1500\n").unwrap();
        fs::write(dir.join("operstate"), "up\n").unwrap();
        fs::write(dir.join("flags"), "0x1003\n").unwrap();
        let up = InterfaceFlags::IFF_UP;
        let view = SysfsView::read(sys.path(), "veth0", 7, up);
        assert_eq!((view.mtu, view.oper_state.as_deref()), (Some(1500), Some("up")));
        let other_index = SysfsView::read(sys.path(), "veth0", 8, up);
        assert_eq!((other_index.mtu, other_index.oper_state), (None, None));
        let other_state = SysfsView::read(sys.path(), "veth0", 7, InterfaceFlags::empty());
        assert_eq!((other_state.mtu, other_state.oper_state), (None, None));
        let traversal = SysfsView::read(sys.path(), "..", 7, up);
        assert_eq!(traversal.mtu, None);
        assert_eq!(parse_hex_flags("0x9\n"), Some(9));
        assert_eq!(parse_hex_flags("zz"), None);
    }
}
