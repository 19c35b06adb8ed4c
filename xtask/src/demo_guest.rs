//! The demo's Linux guest: Debian's amd64 kernel in QEMU (TCG) inside the lab's fabric
//! namespace, running the real Linux NVMe/TCP initiator (`nvme-tcp.ko` + nvme-cli) against the
//! card's listener. The guest's user-mode network (`net=192.0.2.0/24`) connects out from the
//! fabric namespace, so slirp carries the guest's TCP to 198.51.100.1:4420 over the uplink.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dpu_lab::guest::{self, Guest, Initramfs, QemuConfig};
use dpu_lab::{Lab, Role};

use crate::prereq;
use crate::util;

/// Debian packages of the host tools the guest is built from.
const GUEST_APT: &[&str] = &["qemu-system-x86", "busybox-static", "nvme-cli", "cpio"];
/// Boot to power-off under TCG.
const DEADLINE: Duration = Duration::from_secs(240);
/// What the guest writes, reads back after reconnecting and compares.
pub const DATA_MIB: u32 = 4;
/// The guest's mark asking the demo to grow the namespace's volume while it is connected.
pub const WANT_GROW: &str = "want-grow";
/// The guest's mark asking the demo to drain the first listener (ANA inaccessible) while
/// the guest is connected through both.
pub const WANT_DRAIN: &str = "want-drain";
/// The guest's mark asking the operator to lift the write protection a host set until the
/// target restarts (`dpuctl nvmf clear-host-write-protection`).
pub const WANT_CLEAR_HOST_WP: &str = "want-clear-host-wp";
/// The guest's mark asking the demo to make the namespace read-only (write protected).
pub const WANT_READ_ONLY: &str = "want-read-only";

/// Where the guest connects.
pub struct NvmfTarget<'a> {
    /// Address of the listener (reached from the fabric namespace).
    pub ip: &'a str,
    /// Its port.
    pub port: u16,
    /// A second listener's port on the same address: the guest's second path.
    pub second_port: u16,
    /// Subsystem NQN.
    pub subnqn: &'a str,
    /// Host NQN the subsystem allows.
    pub hostnqn: &'a str,
    /// The namespace's size in 512-byte sectors after the demo grew its volume.
    pub grown_sectors: u64,
}

fn init_script(modules: &[String], t: &NvmfTarget<'_>) -> String {
    let prelude = guest::init_prelude(modules);
    let NvmfTarget { ip, port, second_port, subnqn, hostnqn, grown_sectors } = t;
    format!(
        r#"{prelude}
mkdir -p /etc/nvme
A="-t tcp -a {ip} -s {port} --hostnqn={hostnqn}"
nvme discover $A
mark discover rc=$?
nvme connect $A -n {subnqn}
mark connect rc=$?
DEV=$(waitblk 'nvme[0-9]+n1' 1) || fail "no namespace block device"
nvme list
mark list rc=$?
dd if=/dev/urandom of=/tmp/data bs=1M count={DATA_MIB} 2>/dev/null
dd if=/tmp/data of=/dev/$DEV bs=64k conv=fsync 2>/dev/null
mark write rc=$? $(sha256sum < /tmp/data | cut -c1-16)
nvme disconnect -n {subnqn}
mark disconnect rc=$?
waitblk 'nvme[0-9]+n1' 0 || fail "namespace still present after disconnect"
nvme connect $A -n {subnqn}
mark reconnect rc=$?
DEV=$(waitblk 'nvme[0-9]+n1' 1) || fail "no namespace block device after reconnect"
dd if=/dev/$DEV of=/tmp/back bs=1M count={DATA_MIB} 2>/dev/null
mark read rc=$? $(sha256sum < /tmp/back | cut -c1-16)
cmp /tmp/data /tmp/back
mark compare rc=$?
# The operator grows the volume while this host is connected: the namespace attribute
# notice makes Linux read the new size.
mark sectors $(cat /sys/block/$DEV/size)
mark {WANT_GROW}
i=0
while [ "$(cat /sys/block/$DEV/size)" != {grown_sectors} ] && [ $i -lt 300 ]; do usleep 100000; i=$((i+1)); done
mark grown $(cat /sys/block/$DEV/size)
dd if=/dev/$DEV of=/tmp/back bs=1M count={DATA_MIB} 2>/dev/null
mark read-grown rc=$? $(sha256sum < /tmp/back | cut -c1-16)
# A second path through the second listener: native multipath, one device, two
# controllers. The operator drains the first listener (ANA inaccessible); Linux moves
# the I/O to the second path.
nvme connect -t tcp -a {ip} -s {second_port} --hostnqn={hostnqn} -n {subnqn}
mark connect-second rc=$?
path() {{ for c in /sys/class/nvme/nvme*; do grep -q "trsvcid=$1" $c/address && waitblk "nvme[0-9]+c${{c##*/nvme}}n1" 1; done; }}
P1=$(path {port}); P2=$(path {second_port})
waitstate() {{ i=0; while [ "$(cat /sys/block/$1/ana_state)" != "$2" ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done; cat /sys/block/$1/ana_state; }}
mark paths $P1=$(waitstate $P1 optimized) $P2=$(waitstate $P2 optimized)
mark {WANT_DRAIN}
mark drained $P1=$(waitstate $P1 inaccessible) $P2=$(cat /sys/block/$P2/ana_state)
echo 3 > /proc/sys/vm/drop_caches
dd if=/dev/$DEV of=/tmp/back bs=1M count={DATA_MIB} 2>/dev/null
mark read-second-path rc=$? $(sha256sum < /tmp/back | cut -c1-16)
# The host write-protects the namespace until the target restarts (Feature 84h, WPS 2:
# Write Protect Until Power Cycle), which no host can lift; the operator lifts it.
ro() {{ i=0; while [ "$(cat /sys/block/$DEV/ro)" != $1 ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done; cat /sys/block/$DEV/ro; }}
C2=$(for c in /sys/class/nvme/nvme*; do grep -q "trsvcid={second_port}" $c/address && echo ${{c##*/}}; done)
nvme set-feature /dev/$C2 -f 0x84 -n 1 -v 2 > /dev/null
mark host-wp rc=$? ro=$(ro 1)
nvme set-feature /dev/$C2 -f 0x84 -n 1 -v 0 > /dev/null 2>&1
[ $? -ne 0 ] && mark host-cannot-lift
mark {WANT_CLEAR_HOST_WP}
mark host-wp-cleared ro=$(ro 0)
# The first 4 KiB again, as they were: the data's checksum stays.
dd if=/tmp/data of=/dev/$DEV bs=4096 count=1 oflag=direct 2>/dev/null
mark write-after-clear rc=$?
# The operator makes the namespace read-only: Linux marks the disk read-only after the
# namespace attribute notice, and the target refuses a write sent past the kernel's check.
mark {WANT_READ_ONLY}
i=0
while [ "$(cat /sys/block/$DEV/ro)" != 1 ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
mark read-only $(cat /sys/block/$DEV/ro)
dd if=/dev/urandom of=/tmp/blk bs=4096 count=1 2>/dev/null
nvme write /dev/$DEV -s 0 -c 7 -z 4096 -d /tmp/blk
[ $? -ne 0 ] && mark write-refused
dd if=/dev/$DEV of=/tmp/back bs=1M count={DATA_MIB} 2>/dev/null
mark read-read-only rc=$? $(sha256sum < /tmp/back | cut -c1-16)
nvme disconnect -n {subnqn}
mark disconnect-2 rc=$?
mark done
poweroff -f
sleep 10
"#
    )
}

/// Builds the guest (installing the tools and downloading the kernel package if needed),
/// boots it in the fabric namespace, and checks every step it reports; `operator` runs
/// what the guest asks for while it is connected ([`WANT_GROW`], [`WANT_DRAIN`],
/// [`WANT_CLEAR_HOST_WP`], [`WANT_READ_ONLY`]). Returns the marks. Stops early (QEMU killed) when `interrupted` is set.
pub fn run(
    lab: &Lab,
    work: &Path,
    target: &NvmfTarget<'_>,
    interrupted: &AtomicBool,
    operator: &mut dyn FnMut(&Lab, &str) -> Result<()>,
) -> Result<Vec<String>> {
    prereq::ensure_apt(GUEST_APT)?;
    // The same cache as the linux_initiator test (CARGO_TARGET_TMPDIR/nvmf-linux).
    let cache = util::target_dir().join("tmp/nvmf-linux");
    println!("    kernel: Debian's linux-image-*-amd64, cached in {}", cache.display());
    let kernel = guest::debian_kernel(&cache)?;
    println!("    kernel: {}", kernel.vmlinuz.display());
    let mut tree = Initramfs::new(&work.join("guest-root"))?;
    tree.add_command("nvme", "/usr/sbin/nvme")?;
    tree.add_modules(&kernel, &["virtio_pci", "virtio_net", "nvme-tcp"])?;
    let initrd = tree.write_cpio(&init_script(tree.modules(), target), &work.join("guest.cpio"))?;
    let ns = lab.ns_name(Role::Fabric);
    println!(
        "    [fabric ns] $ qemu-system-x86_64 -accel tcg -smp 2 -m 512 -netdev user,net={} ... (guest {} -> {}:{})",
        guest::GUEST_NET,
        guest::GUEST_IP,
        target.ip,
        target.port
    );
    let config = QemuConfig {
        netns: Some(ns),
        echo: Some("    guest: ".into()),
        ..QemuConfig::new(kernel.vmlinuz.clone(), initrd)
    };
    let mut vm = Guest::spawn(&config)?;
    let deadline = Instant::now() + DEADLINE;
    let mut marks = Vec::new();
    loop {
        // Wake every second to notice Ctrl-C; the overall deadline still applies.
        let now = Instant::now();
        let m = match vm.next_mark(deadline.min(now + Duration::from_secs(1))) {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(_) if interrupted.load(Ordering::SeqCst) => bail!("interrupted"),
            Err(dpu_lab::LabError::GuestDeadline { .. }) if now < deadline => continue,
            Err(e) => return Err(e.into()),
        };
        let last = dpu_lab::guest::is_last_mark(&m);
        if [WANT_GROW, WANT_DRAIN, WANT_CLEAR_HOST_WP, WANT_READ_ONLY].contains(&m.as_str()) {
            operator(lab, &m)?;
        }
        marks.push(m);
        if last {
            break;
        }
    }
    vm.wait_exit(Duration::from_secs(20));
    let has = |want: &str| marks.iter().any(|m| m.starts_with(want));
    let expected = [
        "boot",
        "net-up",
        "discover rc=0",
        "connect rc=0",
        "list rc=0",
        "write rc=0",
        "disconnect rc=0",
        "reconnect rc=0",
        "read rc=0",
        "compare rc=0",
        "read-grown rc=0",
        "connect-second rc=0",
        "read-second-path rc=0",
        "host-wp rc=0 ro=1",
        "host-cannot-lift",
        "host-wp-cleared ro=0",
        "write-after-clear rc=0",
        "read-only 1",
        "write-refused",
        "read-read-only rc=0",
        "disconnect-2 rc=0",
        "done",
    ];
    let missing: Vec<&str> = expected.iter().copied().filter(|m| !has(m)).collect();
    if !missing.is_empty() {
        bail!("the guest did not report {missing:?}; last console lines:\n{}", vm.log_tail(30));
    }
    let sum = |prefix: &str| {
        marks.iter().find_map(|m| m.strip_prefix(prefix)).and_then(|r| r.split(' ').nth(1))
    };
    let (written, read) = (sum("write rc=0"), sum("read rc=0"));
    if written.is_none() || written != read {
        bail!("the guest read back {read:?}, wrote {written:?}");
    }
    let grown = format!("grown {}", target.grown_sectors);
    if !has(&grown) || sum("read-grown rc=0") != written {
        bail!(
            "the guest did not see its namespace grow to {} sectors with its data: {marks:?}",
            target.grown_sectors
        );
    }
    // Drained: the first path inaccessible, the second optimized, the data read through it.
    let paths = marks.iter().find_map(|m| m.strip_prefix("paths ")).unwrap_or_default();
    let drained = marks.iter().find_map(|m| m.strip_prefix("drained ")).unwrap_or_default();
    fn states(marked: &str) -> Vec<Option<&str>> {
        marked.split(' ').map(|p| p.split_once('=').map(|x| x.1)).collect()
    }
    if states(paths) != [Some("optimized"); 2]
        || states(drained) != [Some("inaccessible"), Some("optimized")]
        || sum("read-second-path rc=0") != written
    {
        bail!("the guest did not move to its second path with its data: {paths:?} -> {drained:?}");
    }
    println!(
        "    two paths ({paths}); after the operator drained the first listener: {drained}; {DATA_MIB} MiB read through the second path, same data"
    );
    println!(
        "    host write protection: the guest locked its namespace until the target restarts (its disk read-only, its own attempt to unlock refused); the operator's clear-host-write-protection made it writable again"
    );
    if sum("read-read-only rc=0") != written {
        bail!("the guest's data changed on the read-only namespace: {marks:?}");
    }
    println!(
        "    read-only: the guest's disk turned read-only, the target refused its passthrough write (Namespace Is Write Protected), the data unchanged"
    );
    let before = marks.iter().find_map(|m| m.strip_prefix("sectors ")).unwrap_or("?");
    println!(
        "    the guest saw its namespace grow from {before} to {} sectors while connected, data intact",
        target.grown_sectors
    );
    println!(
        "    the guest (Linux nvme-tcp) wrote {DATA_MIB} MiB, reconnected and read back the same data (sha256 {}...) in {:.0?}",
        written.context("checked above")?,
        vm.elapsed()
    );
    Ok(marks)
}
