//! Linux guests for interoperability tests and the demo: Debian's amd64 kernel (its modules,
//! e.g. `nvme-tcp.ko`) booted in qemu-system-x86_64 under TCG with a small initramfs.
//!
//! [`debian_kernel`] downloads and extracts the kernel package into a cache (6.1;
//! [`debian_kernel_6_12`] the 6.12 one, whose `.ko.xz` modules are decompressed as needed);
//! [`Initramfs`] gathers static busybox, host binaries with their shared libraries and the
//! kernel modules a scenario needs; [`init_prelude`] is the start every `/init` shares
//! (mounts, modules, network, the `mark`/`fail` helpers); [`Guest`] runs QEMU with user-mode
//! networking (`net=192.0.2.0/24`, the host is the gateway 192.0.2.2), reads the serial
//! console and hands out the `GUEST-MARK` lines the scenario prints, with a deadline. QEMU
//! runs in its own process group and is stopped whenever the [`Guest`] is dropped, also on
//! panic.
//!
//! Nothing is loaded into the host kernel and nothing but the listed tools is installed.

mod initramfs;
mod kernel;
mod qemu;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

pub use self::initramfs::Initramfs;
pub use self::kernel::{
    Kernel, debian_kernel, debian_kernel_6_12, debian_kernel_from, module_load_order,
};
pub use self::qemu::{Guest, QemuConfig};
use crate::error::{LabError, Result};
use crate::packages;
use crate::proc::run_ok;

/// The guest's user-mode network (documentation range).
pub const GUEST_NET: &str = "192.0.2.0/24";
/// The guest's address.
pub const GUEST_IP: &str = "192.0.2.15";
/// QEMU's user-mode gateway; connections to it reach the host's loopback.
pub const GUEST_GATEWAY: &str = "192.0.2.2";
/// What a scenario prints in front of a mark (`mark TEXT` in [`init_prelude`]).
pub const MARK: &str = "GUEST-MARK ";

/// Whether mark `m` ends a scenario: `done`, or the `FAIL ...` of [`init_prelude`]'s `fail`.
pub fn is_last_mark(m: &str) -> bool {
    m == "done" || m.starts_with("FAIL")
}

/// The marks a scenario printed, each with the time since the guest started.
#[derive(Debug, Clone, Default)]
pub struct Marks(pub Vec<(String, Duration)>);

impl Marks {
    /// Records mark `m`, printed `at`.
    pub fn push(&mut self, m: String, at: Duration) {
        self.0.push((m, at));
    }

    /// Whether exactly `m` was printed.
    pub fn has(&self, m: &str) -> bool {
        self.0.iter().any(|(x, _)| x == m)
    }

    /// When the first mark starting with `prefix` was printed ([`Marks::value`]).
    pub fn at(&self, prefix: &str) -> Option<Duration> {
        self.0.iter().find(|(x, _)| rest_of(x, prefix).is_some()).map(|(_, t)| *t)
    }

    /// The rest of the first mark starting with `prefix` and of the same name, the text up
    /// to the first space (`fio rc=` finds `fio rc=0`; `fio` is not `fio-write rc=0`).
    pub fn value(&self, prefix: &str) -> Option<&str> {
        self.0.iter().find_map(|(x, _)| rest_of(x, prefix))
    }

    /// The marks of `expected` that were not printed.
    pub fn missing<'a>(&self, expected: &[&'a str]) -> Vec<&'a str> {
        expected.iter().copied().filter(|m| !self.has(m)).collect()
    }

    /// How long after the first mark starting with `asked` the first one starting with
    /// `seen` came (the guest's reaction to what the host did at `asked`).
    pub fn between(&self, asked: &str, seen: &str) -> Option<Duration> {
        self.at(seen).zip(self.at(asked)).map(|(s, a)| s.saturating_sub(a))
    }
}

/// What follows `prefix` in `mark` when the mark starts with it and has its name (the text
/// up to the first space): a prefix may reach into a mark's value, never into its name.
fn rest_of<'a>(mark: &'a str, prefix: &str) -> Option<&'a str> {
    let name = |m: &str| m.split(' ').next().unwrap_or_default().len();
    mark.strip_prefix(prefix).filter(|_| name(mark) == name(prefix))
}

/// Limit for the helper commands (apt-get, dpkg-deb, ldd, cpio).
const CMD_TIMEOUT: Duration = Duration::from_secs(600);

/// Host commands a guest build needs, with the Debian package of each.
pub const HOST_TOOLS: &[(&str, &str)] = &[
    ("qemu-system-x86_64", "qemu-system-x86"),
    ("busybox", "busybox-static"),
    ("cpio", "cpio"),
    ("ldd", "libc-bin"),
    ("apt-get", "apt"),
    ("dpkg-deb", "dpkg"),
];

/// `tool` on PATH, as a canonical path.
pub fn find_command(tool: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
        .and_then(|p| p.canonicalize().ok())
        .ok_or_else(|| LabError::Guest(format!("`{tool}` is not on PATH")))
}

/// Every Debian package the workspace's tests install with [`ensure_commands`]. xtask's
/// `TEST_APT` holds all of them (its unit test checks), so `cargo xtask test` installs them up
/// front after one `apt-get update`; the installs here are only a fallback.
pub const TEST_PACKAGES: &[&str] = &[
    // HOST_TOOLS: what a guest is built from.
    "qemu-system-x86",
    "busybox-static",
    "cpio",
    "libc-bin",
    "apt",
    "dpkg",
    "xz-utils", // the kernel package's compressed modules
    // Tools of the NVMe/TCP guests and the host-side checks of their volumes.
    "nvme-cli",
    "e2fsprogs",
    "fio",
    "coreutils",
    "mount",      // losetup
    "util-linux", // fincore
    // The switch's lab tests (crates/dpu-switch/tests/lab.rs).
    "ethtool",
    "iperf3",
    "tshark",
    "traceroute",
    "openvswitch-switch",
];

/// Installs (apt-get) the packages of the `(command, package)` pairs whose command is missing,
/// saying so; fails if a command is still missing afterwards. Every package must be one of
/// [`TEST_PACKAGES`]. Open vSwitch (and any package of [`packages::NO_START`]) installs with
/// its service held back ([`packages::ServiceHold`]): the tests start their own daemons inside
/// a lab namespace, none in the root namespace.
pub fn ensure_commands(tools: &[(&str, &str)]) -> Result<()> {
    ensure_commands_with("apt-get", &packages::SYSTEM, tools)
}

fn ensure_commands_with(
    apt_get: &str,
    hold: &packages::ServiceHold<'_>,
    tools: &[(&str, &str)],
) -> Result<()> {
    // Checked even when the command is present, so a new package cannot slip past TEST_APT
    // on a machine that happens to have it.
    if let Some((tool, pkg)) = tools.iter().find(|(_, pkg)| !TEST_PACKAGES.contains(pkg)) {
        return Err(LabError::Guest(format!(
            "package `{pkg}` (for `{tool}`) is not in dpu_lab::guest::TEST_PACKAGES: add it there \
             and to xtask's TEST_APT"
        )));
    }
    let missing: Vec<&str> =
        tools.iter().filter(|(tool, _)| find_command(tool).is_err()).map(|(_, pkg)| *pkg).collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("guest: installing {}", missing.join(" "));
    let install = || {
        // Another apt (another test binary, or the system's) may hold dpkg's lock: wait for it.
        let mut install = Command::new(apt_get);
        install
            .args([
                "-o",
                "DPkg::Lock::Timeout=300",
                "install",
                "-y",
                "-q",
                "--no-install-recommends",
            ])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive");
        run_ok(install, CMD_TIMEOUT)
    };
    hold.run(&missing, || {
        if let Err(e) = install() {
            // A fresh image has empty package lists ("Unable to locate package").
            println!("guest: {e}; running apt-get update and trying once more");
            let mut update = Command::new(apt_get);
            update.args(["-o", "DPkg::Lock::Timeout=300", "update", "-q"]);
            run_ok(update, CMD_TIMEOUT)?;
            install()?;
        }
        Ok::<_, LabError>(())
    })?;
    for (tool, _) in tools {
        find_command(tool)?;
    }
    Ok(())
}

/// The start of an `/init` script: busybox applets, /proc, /sys, /dev, tmpfs on /tmp and /run,
/// `mark TEXT` (prints a [`MARK`] line), `fail TEXT` (marks `FAIL TEXT` and powers off),
/// `waitblk REGEX 1|0` (waits up to 60 s until a block device matching REGEX appears / is
/// gone; prints its name), the modules loaded in order, and eth0 up as [`GUEST_IP`] with
/// [`GUEST_GATEWAY`] as default route. Marks `boot` and `net-up`.
pub fn init_prelude(modules: &[String]) -> String {
    let insmods: String =
        modules.iter().map(|m| format!("insmod /modules/{m} || fail insmod {m}\n")).collect();
    format!(
        r#"#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /mnt /run /etc
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mark() {{ echo "{MARK}$*"; }}
fail() {{ mark FAIL "$*"; poweroff -f; sleep 10; }}
waitblk() {{
  i=0
  while [ $i -lt 300 ]; do
    d=$(ls /sys/block | grep -E -m1 "^$1\$")
    if [ "$2" = 1 ] && [ -n "$d" ]; then echo "$d"; return 0; fi
    if [ "$2" = 0 ] && [ -z "$d" ]; then return 0; fi
    usleep 200000
    i=$((i+1))
  done
  return 1
}}
mark boot
{insmods}
ip link set lo up
ip link set eth0 up
ip addr add {GUEST_IP}/24 dev eth0
ip route add default via {GUEST_GATEWAY}
mark net-up
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prelude_loads_modules_in_the_given_order_and_marks() {
        let s = init_prelude(&["a.ko".into(), "b.ko".into()]);
        let a = s.find("insmod /modules/a.ko").unwrap_or(usize::MAX);
        let b = s.find("insmod /modules/b.ko").unwrap_or(0);
        assert!(a < b, "{s}");
        assert!(s.contains("echo \"GUEST-MARK $*\""));
        assert!(s.contains("192.0.2.15/24") && s.contains("via 192.0.2.2"));
    }

    #[test]
    fn marks_are_found_by_text_and_prefix() {
        let mut m = Marks::default();
        m.push("want-x".into(), Duration::from_millis(100));
        m.push("x-seen 42".into(), Duration::from_millis(350));
        assert!(m.has("want-x") && !m.has("x-seen"));
        assert_eq!(m.value("x-seen "), Some("42"));
        assert_eq!(m.between("want-x", "x-seen"), Some(Duration::from_millis(250)));
        assert_eq!(m.missing(&["want-x", "done"]), ["done"]);
        assert!(is_last_mark("done") && is_last_mark("FAIL no device") && !is_last_mark("x"));
    }

    /// A mark is found by its name (the text up to its first space) and what follows: `fio`
    /// is not `fio-write rc=0`, printed first, nor `want-ns-2` the `want-ns-2-hidden`
    /// printed when `want-ns-2` was not; `fio rc=` still finds `fio rc=0`.
    #[test]
    fn a_mark_is_not_found_by_a_longer_name() {
        let mut m = Marks::default();
        m.push("fio-write rc=0".into(), Duration::from_millis(100));
        m.push("want-ns-2-hidden".into(), Duration::from_millis(150));
        m.push("fio rc=0".into(), Duration::from_millis(200));
        m.push("device-after 42".into(), Duration::from_millis(250));
        assert_eq!(m.at("fio"), Some(Duration::from_millis(200)));
        assert_eq!(m.at("fio rc="), Some(Duration::from_millis(200)));
        assert_eq!(m.at("want-ns-2"), None);
        assert_eq!(m.between("want-ns-2", "fio rc="), None);
        assert_eq!(m.value("fio rc="), Some("0"));
        assert_eq!(m.value("device"), None);
        assert_eq!(m.value("device-after "), Some("42"));
    }

    /// A fake `apt-get` in `dir` that logs its arguments to `dir/log` and fails `install`
    /// until `update` ran, as apt does with empty package lists ("Unable to locate package").
    fn apt_needing_update(dir: &std::path::Path) -> String {
        let apt = dir.join("apt-get");
        let d = dir.display();
        std::fs::write(
            &apt,
            format!(
                "#!/bin/sh\necho \"$*\" >> {d}/log\ncase \" $*\" in\n  *\\ update*) touch {d}/updated ;;\n  \
                 *\\ install\\ *) [ -e {d}/updated ] || {{ echo 'E: Unable to locate package' >&2; exit 100; }} ;;\nesac\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&apt, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        apt.display().to_string()
    }

    /// A failed install runs `apt-get update` and tries once more.
    #[test]
    fn a_failed_install_updates_the_package_lists_and_retries() {
        let dir = tempfile::tempdir().unwrap();
        let apt = apt_needing_update(dir.path());
        // The command stays missing (the fake installs nothing): the error names it.
        let e = ensure_commands_with(&apt, &NO_HOLD, &[("no-such-command-for-dpu-lab", "fio")])
            .unwrap_err();
        assert!(e.to_string().contains("`no-such-command-for-dpu-lab` is not on PATH"), "{e}");
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap();
        let verbs: Vec<&str> =
            log.lines().map(|l| if l.contains(" update") { "update" } else { "install" }).collect();
        assert_eq!(verbs, ["install", "update", "install"], "{log}");
        assert!(log.lines().all(|l| l.ends_with(" update -q") || l.ends_with(" fio")), "{log}");
    }

    /// A package outside [`TEST_PACKAGES`] is refused before apt runs, so xtask's TEST_APT
    /// (which must hold them all) cannot miss one.
    #[test]
    fn only_registered_packages_are_installed() {
        let dir = tempfile::tempdir().unwrap();
        let apt = apt_needing_update(dir.path());
        let e = ensure_commands_with(&apt, &NO_HOLD, &[("sh", "not-a-test-package")]).unwrap_err();
        assert!(
            e.to_string().contains("not-a-test-package") && e.to_string().contains("TEST_PACKAGES"),
            "{e}"
        );
        assert!(!dir.path().join("log").exists());
        for (_, pkg) in HOST_TOOLS {
            assert!(TEST_PACKAGES.contains(pkg), "{pkg} of HOST_TOOLS is not in TEST_PACKAGES");
        }
    }

    /// Where the tests without Open vSwitch would hold services back: nowhere they can reach.
    const NO_HOLD: packages::ServiceHold<'static> = packages::ServiceHold {
        policy_rc_d: "/nonexistent/policy-rc.d",
        systemctl: "/nonexistent/systemctl",
        systemd_run: "/nonexistent/systemd",
    };

    /// The fallback install of Open vSwitch goes through the service hold: its unit masked
    /// first, and apt-get runs while the policy-rc.d forbids starts (removed afterwards).
    // Not under qemu-user (the aarch64 unit-test step): qemu emulates a process's own
    // /proc/self/stat, so the start time the writer reads of itself is not the one the
    // native shell running the policy script reads. The hold runs on the x86-64 build
    // host only, where these tests run in the workspace step.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn open_vswitch_installs_with_its_service_held_back() {
        use crate::packages::tests::{fake, log};
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy-rc.d");
        let systemctl = fake(dir.path(), "systemctl", "exit 0");
        // What invoke-rc.d would be told by the policy-rc.d, were the postinst to start ovs.
        let apt_log = dir.path().join("apt-get.log");
        let apt = fake(
            dir.path(),
            "apt-get",
            &format!("{} ; echo \"policy $?\" >> {}", policy.display(), apt_log.display()),
        );
        let (p, d) = (policy.display().to_string(), dir.path().display().to_string());
        let hold =
            packages::ServiceHold { policy_rc_d: &p, systemctl: &systemctl, systemd_run: &d };
        let e = ensure_commands_with(
            &apt,
            &hold,
            &[("sh", "fio"), ("no-such-command-for-dpu-lab", "openvswitch-switch")],
        )
        .unwrap_err();
        assert!(e.to_string().contains("`no-such-command-for-dpu-lab` is not on PATH"), "{e}");
        let installs = log(dir.path(), "apt-get");
        assert!(installs.contains(" install ") && installs.contains(" openvswitch-switch\n"));
        assert!(
            installs.ends_with("\npolicy 101\n"),
            "apt-get ran with starts allowed: {installs}"
        );
        assert!(log(dir.path(), "systemctl").ends_with("\nmask openvswitch-switch.service\n"));
        assert!(!policy.exists(), "policy-rc.d left behind");
    }

    #[test]
    fn missing_command_is_an_error() {
        assert!(find_command("no-such-command-for-dpu-lab").is_err());
        assert!(find_command("sh").is_ok());
    }
}
