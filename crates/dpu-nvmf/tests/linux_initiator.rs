//! The unmodified Linux NVMe/TCP initiator against our target.
//!
//! Boots Debian's amd64 kernel (its `nvme-tcp.ko`) in qemu-system-x86_64 (TCG, no
//! KVM) with a small initramfs: busybox, nvme-cli, mke2fs and fio with their shared
//! libraries, and the kernel modules for virtio-net, NVMe/TCP and ext4. The guest
//! reaches the target, which runs in this test process on 127.0.0.1, through QEMU's
//! user-mode network gateway (net 192.0.2.0/24, gateway 192.0.2.2). Namespace 1 is a
//! file-backed volume (a sparse file in a temporary directory); namespace 2, hot-added, is a
//! block-device volume on a loop device with 4 KiB sectors (over another sparse file).
//!
//! The guest's init script runs the scenario and prints `GUEST-MARK` lines; this test
//! reacts to some (namespace hot add/remove, counter snapshots) and asserts on all of them:
//! `nvme discover` (discovery port and I/O port) lists the allowed subsystem only;
//! `nvme connect` without and with digests (and SQ flow control disabled, so reads
//! complete by the C2HData SUCCESS flag); `nvme list`/`id-ctrl`/`id-ns` show our
//! identity; fio random 4 KiB writes at QD 32 from two jobs pinned to the two vCPUs
//! (so both I/O queues carry them, checked with the target's per-queue statistics)
//! with crc32c verification, then a verify-only pass after reconnecting; mkfs.ext4, mount,
//! write files, checksums verified after reconnecting and after a controller reset, and on
//! the host in the backing file itself (`e2fsck -fn`, `debugfs` dump + SHA-256); the
//! file-backed volume grown while mounted (the host reads the new size after the namespace
//! attribute notice, `resize2fs` grows ext4 online, a file larger than the old namespace
//! is written and found in the backing file); namespace 2's loop device grown under the
//! connected host (the target follows the device, the host reads the new size); namespace
//! hot add and remove seen through asynchronous events, and on the hot-added block device
//! 4 KiB logical blocks, a pattern written and read back, half of it discarded (Dataset
//! Management) to zeroes and to a hole in the loop device's file; with a 2 s keep-alive
//! timeout, 12 s of reads keep the controller alive without Keep Alive commands (Traffic
//! Based Keep Alive), and the timeout drops the controller when the guest goes silent. Two
//! vCPUs, so Linux opens two I/O queues per controller.
//!
//! The guest machinery (kernel cache, initramfs, QEMU, marks) is `dpu_lab::guest`: tools
//! are installed with apt-get if missing; the kernel package is downloaded and extracted
//! into a cache under the target directory. Nothing is loaded into the host kernel. QEMU
//! is stopped on every exit path.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpu_lab::guest::{self, Guest, Initramfs, Kernel, Marks, QemuConfig};
use dpu_lab::loopdev::LoopDevice;

use dpu_nvmf::rate_limit::RateLimit;
use dpu_nvmf::volume::FileBackend;
use dpu_nvmf::{Server, Target, Volume};

const SUBNQN: &str = "nqn.2024-01.io.example.dpu:linux-guest";
const HIDDEN: &str = "nqn.2024-01.io.example.dpu:not-for-this-host";
const HOSTNQN: &str = "nqn.2014-08.org.nvmexpress:uuid:5f1e7a52-0d1b-4c4e-9a59-3c2a6b1d0e01";
const SERIAL: &str = "DPUQEMU0001";
const MODEL: &str = "dpu-nvmf qemu test";
/// Commands the scenario copies into the guest, with their Debian packages.
const GUEST_TOOLS: &[(&str, &str)] =
    &[("nvme", "nvme-cli"), ("mke2fs", "e2fsprogs"), ("fio", "fio")];
/// Host commands that check the backing file.
const HOST_CHECKS: &[(&str, &str)] =
    &[("debugfs", "e2fsprogs"), ("e2fsck", "e2fsprogs"), ("sha256sum", "coreutils")];
/// Bytes each of the two fio jobs writes (its own region) and verifies.
const FIO_JOB_MIB: u64 = 16;
/// Size of namespace 1 (Identify Namespace shows 0x20000 blocks of 512 bytes).
const NS_BYTES: u64 = 64 << 20;
/// Namespace 1's size after it grows while the guest has it mounted.
const NS_GROWN_BYTES: u64 = 2 * NS_BYTES;
/// The file the guest writes after growing ext4: larger than the whole namespace was.
const GROWN_FILE_MIB: u64 = 72;
/// Size of namespace 2, hot-added on a loop device with 4 KiB sectors, and after its
/// device grew.
const NS2_BYTES: u64 = 16 << 20;
const NS2_GROWN_BYTES: u64 = 2 * NS2_BYTES;
/// The guest writes [`ns2_pattern`] to namespace 2 from this 4 KiB block on, then
/// deallocates its first half.
const NS2_PATTERN_BLOCK: u64 = 256;
const NS2_PATTERN_BYTES: u64 = 256 << 10;
/// Whole scenario, boot to power-off.
/// Namespace 2's volume comes with this rate limit (commands per second), lifted when it
/// grows: fio's random reads run at it, then far past it.
const NS2_IOPS_LIMIT: u64 = 50;
const DEADLINE: Duration = Duration::from_secs(900);

fn init_script(io_port: u16, disc_port: u16, modules: &[String]) -> String {
    let prelude = common::nvme_init_prelude(modules);
    let ns2_blocks = NS2_PATTERN_BYTES / 4096;
    let ns2_offset = NS2_PATTERN_BLOCK * 4096;
    let (ns2_half, ns2_half_blocks) = (NS2_PATTERN_BYTES / 2, ns2_blocks / 2);
    let grown_sectors = NS_GROWN_BYTES / 512;
    let ns2_grown_sectors = NS2_GROWN_BYTES / 512;
    format!(
        r#"{prelude}
waitdev() {{ waitblk "nvme[0-9]+n$1" "$2"; }}
T=192.0.2.2
Q=--hostnqn={HOSTNQN}

nvme discover -t tcp -a $T -s {disc_port} $Q > /tmp/disc 2>&1
mark discover rc=$?
cat /tmp/disc
grep -q "{SUBNQN}" /tmp/disc && mark discover-lists-subsystem
grep -q "{HIDDEN}" /tmp/disc && mark discover-lists-hidden
nvme discover -t tcp -a $T -s {io_port} $Q > /tmp/disc2 2>&1
mark discover-io-port rc=$?
grep -q "{SUBNQN}" /tmp/disc2 && mark discover-io-port-lists-subsystem

nvme connect -t tcp -a $T -s {io_port} -n {SUBNQN} $Q
mark connect rc=$?
DEV=$(waitdev 1 1) || fail "no namespace block device"
mark device $DEV
mark cpus $(grep -c ^processor /proc/cpuinfo)
nvme list
mark list rc=$?
CTRL=$(ls /sys/class/nvme | grep -m1 '^nvme[0-9]')
nvme id-ctrl /dev/$CTRL > /tmp/idc
mark id-ctrl rc=$?
grep -E '^(vid|sn|mn|fr|cntlid|ver|mdts|kas|oncs|vwc|sgls|subnqn|ioccsz|iorcsz|cntrltype) ' /tmp/idc
grep -q "{SERIAL}" /tmp/idc && mark id-ctrl-serial
grep -q "{MODEL}" /tmp/idc && mark id-ctrl-model
grep -q "subnqn *: {SUBNQN}" /tmp/idc && mark id-ctrl-subnqn
# SGLS: SGLs (bit 0) and offsets for in-capsule data (bit 20), nothing else.
grep -q '^sgls *: 0x100001$' /tmp/idc && mark id-ctrl-sgls
nvme id-ns /dev/$DEV > /tmp/idn
mark id-ns rc=$?
grep -E '^(nsze|ncap|nuse|nmic|nguid|lbaf)' /tmp/idn
grep -q '^nsze *: 0x20000' /tmp/idn && mark id-ns-size

# fio on the raw namespace: one job per vCPU (each pinned, so both I/O queues carry it),
# random 4 KiB writes at QD 32 with crc32c verification, then after a reconnect a
# verify-only pass over the same blocks. Terse lines: field 5 errors, 7/8 read KiB/s
# and IOPS, 48/49 write KiB/s and IOPS, 6/47 read/written KiB.
FIO="fio --name=qd32 --filename=/dev/$DEV --thread --numjobs=2 --cpus_allowed=0-1 --cpus_allowed_policy=split --rw=randwrite --bs=4k --iodepth=32 --ioengine=libaio --direct=1 --size={FIO_JOB_MIB}m --offset_increment={FIO_JOB_MIB}m --runtime=300 --verify=crc32c --verify_fatal=1 --group_reporting --output-format=terse --terse-version=3"
$FIO --do_verify=1 > /tmp/fio-w 2>&1
mark fio-write rc=$?
cat /tmp/fio-w
mark fio-write-terse $(grep '^3;' /tmp/fio-w)
nvme disconnect -n {SUBNQN}
mark fio-disconnect rc=$?
waitdev 1 0 || fail "namespace still present after disconnect"
nvme connect -t tcp -a $T -s {io_port} -n {SUBNQN} $Q
mark fio-reconnect rc=$?
DEV=$(waitdev 1 1) || fail "no namespace block device after reconnect"
$FIO --verify_only > /tmp/fio-v 2>&1
mark fio-verify rc=$?
cat /tmp/fio-v
mark fio-verify-terse $(grep '^3;' /tmp/fio-v)

START=$(date +%s)
mkfs.ext4 -q -F /dev/$DEV
mark mkfs rc=$?
mount -t ext4 /dev/$DEV /mnt
mark mount rc=$?
for i in 1 2 3 4; do dd if=/dev/urandom of=/mnt/f$i bs=64k count=$((i*8)) 2>/dev/null || fail dd; done
sync
(cd /mnt && sha256sum f1 f2 f3 f4) > /tmp/sums
while read sum file; do mark sha256 $file $sum; done < /tmp/sums
umount /mnt
mark umount rc=$?
mark write-seconds $(( $(date +%s) - START ))
nvme disconnect -n {SUBNQN}
mark disconnect rc=$?
waitdev 1 0 || fail "namespace still present after disconnect"

nvme connect -t tcp -a $T -s {io_port} -n {SUBNQN} $Q --hdr-digest --data-digest --disable-sqflow
mark connect-digests rc=$?
DEV=$(waitdev 1 1) || fail "no namespace block device after reconnect"
mount -t ext4 /dev/$DEV /mnt
mark remount rc=$?
(cd /mnt && sha256sum -c /tmp/sums)
mark verify rc=$?
umount /mnt
# A controller reset tears down every queue and connects a new controller.
CTRL=$(ls /sys/class/nvme | grep -m1 '^nvme[0-9]')
nvme reset /dev/$CTRL
mark reset rc=$?
i=0
while [ "$(cat /sys/class/nvme/$CTRL/state)" != live ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
mark state-after-reset $(cat /sys/class/nvme/$CTRL/state)
mount -t ext4 /dev/$DEV /mnt && (cd /mnt && sha256sum -c /tmp/sums > /dev/null)
mark verify-after-reset rc=$?

# Namespace 1's volume grows while the file system is mounted: the namespace attribute
# notice makes the host read the new size, and ext4 grows online into the new blocks
# with a file larger than the whole old namespace.
mark want-ns1-grow
i=0
while [ "$(cat /sys/block/$DEV/size)" != {grown_sectors} ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
mark ns1-sectors $(cat /sys/block/$DEV/size)
ln -sf /proc/mounts /etc/mtab
resize2fs /dev/$DEV > /tmp/rs 2>&1
mark resize2fs rc=$?
cat /tmp/rs
dd if=/dev/urandom of=/mnt/f5 bs=1M count={GROWN_FILE_MIB} 2>/dev/null && sync
mark grown-write rc=$?
(cd /mnt && sha256sum f5) > /tmp/sum5
while read sum file; do mark sha256 $file $sum; done < /tmp/sum5
umount /mnt

mark want-ns-add
NEW=$(waitdev 2 1) && mark ns-added $NEW
# Namespace 2 is a block device with 4 KiB sectors: write a known pattern, read it back past
# the page cache, deallocate half of it (blkdiscard: Dataset Management) and read zeroes.
mark ns2-lbs $(cat /sys/block/$NEW/queue/logical_block_size)
seq -w 0 99999 | head -c {NS2_PATTERN_BYTES} > /tmp/pat
dd if=/tmp/pat of=/dev/$NEW bs=4096 seek={NS2_PATTERN_BLOCK} conv=fsync 2>/dev/null
mark ns2-write rc=$?
echo 3 > /proc/sys/vm/drop_caches
dd if=/dev/$NEW of=/tmp/back bs=4096 skip={NS2_PATTERN_BLOCK} count={ns2_blocks} 2>/dev/null && cmp /tmp/pat /tmp/back
mark ns2-readback rc=$?
blkdiscard -o {ns2_offset} -l {ns2_half} /dev/$NEW
mark ns2-discard rc=$?
echo 3 > /proc/sys/vm/drop_caches
dd if=/dev/$NEW of=/tmp/back bs=4096 skip={NS2_PATTERN_BLOCK} count={ns2_half_blocks} 2>/dev/null && head -c {ns2_half} /dev/zero | cmp - /tmp/back
mark ns2-zeroes rc=$?
# Its volume is limited to {NS2_IOPS_LIMIT} commands per second: random reads at QD 8 wait in
# the target's queue and run at that rate.
QOS="fio --name=qos --filename=/dev/$NEW --rw=randread --bs=4k --iodepth=8 --ioengine=libaio --direct=1 --time_based --output-format=terse --terse-version=3"
$QOS --runtime=3 > /tmp/fio-q 2>&1
mark fio-limited rc=$?
mark fio-limited-terse $(grep '^3;' /tmp/fio-q)
# The loop device under namespace 2 grows (its file, then losetup --set-capacity): the
# target follows the device and the host reads the new size.
mark want-ns2-grow
i=0
while [ "$(cat /sys/block/$NEW/size)" != {ns2_grown_sectors} ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
mark ns2-sectors $(cat /sys/block/$NEW/size)
# The limit went before the growth the host just saw.
$QOS --runtime=2 > /tmp/fio-u 2>&1
mark fio-unlimited rc=$?
mark fio-unlimited-terse $(grep '^3;' /tmp/fio-u)
mark want-ns-remove
waitdev 2 0 && mark ns-removed

nvme disconnect -n {SUBNQN}
mark disconnect-2 rc=$?
waitdev 1 0 || fail "namespace still present after the second disconnect"

# Keep alive: a 2 s KATO. 12 s of reads with no Keep Alive command (Traffic Based Keep
# Alive), counted over 6 s inside them: from once reads complete (until then the host
# sends Keep Alives, as when idle) to well before fio's end. Then 3 s idle with Keep
# Alives, then silence (link down) until the target drops the controller.
nvme connect -t tcp -a $T -s {io_port} -n {SUBNQN} $Q --keep-alive-tmo=2 --ctrl-loss-tmo=30
mark connect-kato rc=$?
KDEV=$(waitdev 1 1) || fail "no namespace with KATO"
# Reads completed on the NVMe disks: the multipath node's own counters stay at zero on
# this kernel, its path's count them.
reads() {{ awk '$3 ~ /^nvme/ {{ n += $4 }} END {{ print n + 0 }}' /proc/diskstats; }}
R=$(reads)
fio --name=tbkas --filename=/dev/$KDEV --rw=randread --bs=4k --ioengine=psync --direct=1 --time_based --runtime=12 > /dev/null 2>&1 &
FIO=$!
i=0
until [ "$(reads)" -ge $((R + 20)) ]; do
  [ $i -lt 400 ] || {{ cat /proc/diskstats; fail "no reads from fio in 20 s"; }}
  usleep 50000; i=$((i+1))
done
mark tbkas-window-start
sleep 6
mark tbkas-window-end
wait $FIO
mark tbkas-io rc=$?
sleep 3
mark tbkas-idle $(for c in /sys/class/nvme/*; do [ "$(cat $c/subsysnqn)" = "{SUBNQN}" ] && cat $c/state; done)
ip link set eth0 down
mark link-down
sleep 10
ip link set eth0 up
nvme disconnect -n {SUBNQN} > /dev/null
mark disconnect-3 rc=$?
mark done
poweroff -f
sleep 10
"#
    )
}

/// What `seq -w 0 99999 | head -c NS2_PATTERN_BYTES` prints in the guest: six-byte lines,
/// so no two 4 KiB blocks are alike.
fn ns2_pattern() -> Vec<u8> {
    let text: String = (0..100_000).map(|i| format!("{i:05}\n")).collect();
    text.into_bytes()[..NS2_PATTERN_BYTES as usize].to_vec()
}

/// Checks on the host that namespace 2's device file holds the second half of the
/// pattern where the guest wrote it, and that the deallocated first half became a hole
/// (the target discarded it on the loop device, which punched its file) reading zero.
fn check_ns2_file(image: &Path) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::open(image).unwrap();
    let start = NS2_PATTERN_BLOCK * 4096;
    let mut got = vec![0u8; NS2_PATTERN_BYTES as usize];
    f.read_exact_at(&mut got, start).unwrap();
    let (half, want) = (got.len() / 2, ns2_pattern());
    assert!(got[..half].iter().all(|&b| b == 0), "the deallocated half is not zero");
    assert!(got[half..] == want[half..], "namespace 2's file differs from the guest's pattern");
    let data = nix::unistd::lseek(&f, start as i64, nix::unistd::Whence::SeekData).unwrap();
    assert!(data >= (start + half as u64) as i64, "data at {data} in the deallocated half");
}

/// Builds the initramfs; returns its path.
fn initramfs(cache: &Path, kernel: &Kernel, io_port: u16, disc_port: u16) -> PathBuf {
    let mut tree = Initramfs::new(&cache.join("initramfs-root")).unwrap();
    tree.add_command("nvme", "/usr/sbin/nvme").unwrap();
    tree.add_command("mke2fs", "/usr/sbin/mke2fs").unwrap();
    tree.symlink("mke2fs", "/usr/sbin/mkfs.ext4").unwrap();
    tree.add_command("resize2fs", "/usr/sbin/resize2fs").unwrap();
    tree.add_command("fio", "/usr/bin/fio").unwrap();
    tree.add_modules(kernel, &["virtio_pci", "virtio_net", "crc32c_generic", "nvme-tcp", "ext4"])
        .unwrap();
    let init = init_script(io_port, disc_port, tree.modules());
    tree.write_cpio(&init, &cache.join("initramfs.cpio")).unwrap()
}

/// Checks on the host that the backing file holds the guest's file system: `e2fsck -fn`
/// finds it clean and every file `debugfs` dumps from it has the SHA-256 the guest printed.
fn check_backing_file(image: &Path, sums: &[(String, String)], out: &Path) {
    let fsck = std::process::Command::new("e2fsck").arg("-fn").arg(image).output().unwrap();
    assert!(
        fsck.status.success(),
        "e2fsck -fn on the backing file: {}\n{}{}",
        fsck.status,
        String::from_utf8_lossy(&fsck.stdout),
        String::from_utf8_lossy(&fsck.stderr)
    );
    for (file, want) in sums {
        let dumped = out.join(file);
        let req = format!("dump /{file} {}", dumped.display());
        let status =
            std::process::Command::new("debugfs").arg("-R").arg(&req).arg(image).output().unwrap();
        assert!(status.status.success(), "debugfs {req}: {status:?}");
        let sum = std::process::Command::new("sha256sum").arg(&dumped).output().unwrap();
        let got = String::from_utf8_lossy(&sum.stdout);
        assert_eq!(
            got.split_whitespace().next(),
            Some(want.as_str()),
            "{file} in the backing file differs from what the guest wrote"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linux_initiator_discovers_connects_formats_and_verifies() {
    guest::ensure_commands(GUEST_TOOLS).unwrap();
    let (cache, kernel) = common::guest_kernel(HOST_CHECKS);

    // The target: one allowed subsystem with a 64 MiB file-backed namespace, one hidden one.
    let t = Target::new();
    common::add_subsystem(&t, SUBNQN, SERIAL, MODEL, &[HOSTNQN]);
    common::add_subsystem(&t, HIDDEN, "HIDDEN", MODEL, &["nqn.2014-08.org.example:someone-else"]);
    // Namespace 1 lives in a sparse file (O_DIRECT where the file system allows it), so the
    // test can read afterwards what reached it.
    let dir = tempfile::Builder::new()
        .prefix("nvmf-linux-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let image = dir.path().join("backing.img");
    let backend = FileBackend::open_file(&image, NS_BYTES).unwrap();
    let direct = backend.is_direct();
    let vol = Arc::new(Volume::new("guest", 512, NS_BYTES, Box::new(backend)).unwrap());
    t.add_namespace(
        SUBNQN,
        1,
        vol.clone(),
        dpu_nvmf::stable_id(&[b"n1"]),
        dpu_nvmf::stable_id(&[b"u1"]),
    )
    .unwrap();
    let server = Server::new(t.clone(), 8);
    let io = common::loopback_listener(&server, 1).await;
    let disc = common::loopback_discovery_listener(&server, 2).await;
    // Namespace 2, added while the guest is connected, is a loop device with 4 KiB sectors
    // over a sparse file (detached on every exit path).
    let hot_image = dir.path().join("hot.img");
    std::fs::File::create(&hot_image).unwrap().set_len(NS2_BYTES).unwrap();
    let hot_device = LoopDevice::attach(&hot_image, 4096).unwrap();
    let initrd = initramfs(&cache, &kernel, io.port(), disc.port());

    // fio's libraries make the initramfs ~100 MiB; it is unpacked into guest memory.
    let config = QemuConfig { memory_mib: 1024, ..QemuConfig::new(kernel.vmlinuz.clone(), initrd) };
    let mut vm = Guest::spawn(&config).unwrap();
    let mut marks = Marks::default();
    let mut kato_drop = None;
    // Commands on the admin queue of the KATO controller (the only one then) once its reads
    // flow, 6 s later, at their end and after 3 s idle; namespace 1's reads 6 s in and at
    // their end.
    let mut admin_commands = Vec::new();
    let mut tbkas_reads = Vec::new();
    let mut kato_expired_before_link_down = None;
    let admin_commands_now = || {
        let subsystem = t.subsystem_stats().into_iter().find(|s| s.nqn == SUBNQN);
        let controllers = subsystem.map(|s| s.controllers).unwrap_or_default();
        let admin = controllers.iter().flat_map(|c| &c.queues).filter(|q| q.info.qid == 0);
        admin.map(|q| q.io.commands).sum::<u64>()
    };
    // Namespace 1's counters around fio's verify-only pass.
    let mut verify_ns = (None, None);
    // The subsystem's live controllers with their queues' counters after fio's writes.
    let mut fio_controllers = Vec::new();
    let ns1 = t.namespace(SUBNQN, 1).unwrap();
    // Namespace 2's commands that waited for its rate limit.
    let mut ns2_throttled = 0;
    let deadline = Instant::now() + DEADLINE;
    // The guest API blocks; the target's tasks keep running on the other worker.
    while let Some(m) = common::next_mark(&mut vm, &mut marks, deadline) {
        match m.as_str() {
            "want-ns-add" => {
                // The device's own 4 KiB block size.
                let v = Volume::block_device("hot", hot_device.path(), None).unwrap();
                let limit = RateLimit { iops: NS2_IOPS_LIMIT, bytes_per_second: 0 };
                v.set_rate_limit(limit, Instant::now());
                t.add_namespace(SUBNQN, 2, Arc::new(v), [2; 16], [3; 16]).unwrap();
            }
            "want-ns-remove" => t.remove_namespace(SUBNQN, 2).unwrap(),
            "want-ns2-grow" => {
                let ns2 = t.namespace(SUBNQN, 2).unwrap();
                ns2.volume.set_rate_limit(RateLimit::default(), Instant::now());
                ns2_throttled = ns2.stats.snapshot().throttled;
                let f = std::fs::OpenOptions::new().write(true).open(&hot_image).unwrap();
                f.set_len(NS2_GROWN_BYTES).unwrap();
                hot_device.refresh_capacity().unwrap();
            }
            "want-ns1-grow" => {
                vol.grow(NS_GROWN_BYTES).unwrap();
                assert_eq!(t.volume_resized(&vol), 1, "namespace 1 is on the volume");
            }
            "fio-write rc=0" => {
                let subsystem = t.subsystem_stats().into_iter().find(|s| s.nqn == SUBNQN);
                fio_controllers = subsystem.map(|s| s.controllers).unwrap_or_default();
            }
            "fio-reconnect rc=0" => verify_ns.0 = Some(ns1.stats.snapshot()),
            "fio-verify rc=0" => verify_ns.1 = Some(ns1.stats.snapshot()),
            "tbkas-window-start" => admin_commands.push(admin_commands_now()),
            "tbkas-window-end" | "tbkas-io rc=0" => {
                admin_commands.push(admin_commands_now());
                tbkas_reads.push(ns1.stats.snapshot().reads);
            }
            m if m.starts_with("tbkas-idle") => {
                admin_commands.push(admin_commands_now());
                kato_expired_before_link_down =
                    Some(t.stats.kato_expired.load(std::sync::atomic::Ordering::Relaxed));
            }
            "link-down" => {
                // The guest is silent for 10 s: the controller must go within KATO
                // (2 s) plus the target's slack.
                let t0 = Instant::now();
                while t.controller_count(SUBNQN) > 0 && t0.elapsed() < Duration::from_secs(9) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                kato_drop = (t.controller_count(SUBNQN) == 0).then(|| t0.elapsed());
            }
            _ => {}
        }
    }
    // QEMU exits on poweroff; dropping the guest stops it otherwise.
    tokio::task::block_in_place(|| vm.wait_exit(Duration::from_secs(30)));
    let has = |m: &str| marks.has(m);
    let at = |m: &str| marks.at(m);
    let expect = [
        "boot",
        "net-up",
        "discover rc=0",
        "discover-lists-subsystem",
        "discover-io-port rc=0",
        "discover-io-port-lists-subsystem",
        "connect rc=0",
        "list rc=0",
        "id-ctrl rc=0",
        "id-ctrl-serial",
        "id-ctrl-model",
        "id-ctrl-subnqn",
        "id-ctrl-sgls",
        "id-ns rc=0",
        "id-ns-size",
        "fio-write rc=0",
        "fio-disconnect rc=0",
        "fio-reconnect rc=0",
        "fio-verify rc=0",
        "mkfs rc=0",
        "mount rc=0",
        "umount rc=0",
        "disconnect rc=0",
        "connect-digests rc=0",
        "remount rc=0",
        "verify rc=0",
        "reset rc=0",
        "state-after-reset live",
        "verify-after-reset rc=0",
        "resize2fs rc=0",
        "grown-write rc=0",
        "ns2-lbs 4096",
        "ns2-write rc=0",
        "ns2-readback rc=0",
        "ns2-discard rc=0",
        "ns2-zeroes rc=0",
        "fio-limited rc=0",
        "fio-unlimited rc=0",
        "ns-removed",
        "disconnect-2 rc=0",
        "connect-kato rc=0",
        "tbkas-window-start",
        "tbkas-window-end",
        "tbkas-io rc=0",
        "tbkas-idle live",
        "link-down",
        "done",
    ];
    let missing = marks.missing(&expect);
    assert!(
        missing.is_empty() && !has("discover-lists-hidden"),
        "missing marks {missing:?} (hidden listed: {}); serial log:\n{}",
        has("discover-lists-hidden"),
        vm.log().join("\n")
    );
    assert!(marks.at("ns-added nvme").is_some(), "{marks:?}");
    // How long after asking (`want-nsN-grow`) the host read namespace N's new size.
    let seen_grown = |n: u8, bytes: u64| {
        let grown = format!("ns{n}-sectors {}", bytes / 512);
        assert!(has(&grown), "the host did not see namespace {n} grow: {marks:?}");
        marks.between(&format!("want-ns{n}-grow"), &grown)
    };
    println!(
        "linux initiator: namespace 2's loop device grown to {} MiB, seen by the host {:?} after losetup --set-capacity",
        NS2_GROWN_BYTES >> 20,
        seen_grown(2, NS2_GROWN_BYTES),
    );
    println!(
        "linux initiator: namespace 1 grown to {} MiB, seen by the host {:?} after the request; ext4 grown online, a {GROWN_FILE_MIB} MiB file written into it",
        NS_GROWN_BYTES >> 20,
        seen_grown(1, NS_GROWN_BYTES),
    );
    let ns = t.namespace(SUBNQN, 1).unwrap().stats.snapshot();
    println!(
        "linux initiator: boot->net {:?}, connect at {:?}, done at {:?}; namespace 1: {} reads ({} bytes), {} writes ({} bytes); target: {} connections, {} terminated, {} completions by C2HData SUCCESS",
        at("net-up"),
        at("connect rc"),
        at("done"),
        ns.reads,
        ns.read_bytes,
        ns.writes,
        ns.write_bytes,
        t.stats.connections.load(std::sync::atomic::Ordering::Relaxed),
        t.stats.terminated.load(std::sync::atomic::Ordering::Relaxed),
        t.stats.success_flag_completions.load(std::sync::atomic::Ordering::Relaxed),
    );
    assert!(ns.write_bytes >= 4 << 20, "the files reached the target");
    // ext4's journal commits and `sync` reach the file as flushes (data syncs), and every
    // read, write and flush of it is timed as the volume's device latency.
    let latency = vol.latency();
    let timed = [&latency.read, &latency.write, &latency.flush].map(|h| h.snapshot());
    assert!(timed.iter().all(|h| h.count() > 0), "reads, writes and flushes timed: {timed:?}");
    let [reads, writes, flushes] =
        timed.map(|h| (h.count(), h.quantile_us(0.5), h.quantile_us(0.99)));
    println!(
        "linux initiator: namespace 1's device operations (count, p50, p99 at most µs): reads {reads:?}, writes {writes:?}, flushes {flushes:?}"
    );
    // Two vCPUs: Linux opens two I/O queues per controller (admin + 2 connections per
    // connect), three connects and two discoveries.
    let conns = t.stats.connections.load(std::sync::atomic::Ordering::Relaxed);
    assert!(conns >= 11, "{conns} connections");
    // The digest connect disabled SQ flow control: reads completed by C2HData SUCCESS.
    let by_flag = t.stats.success_flag_completions.load(std::sync::atomic::Ordering::Relaxed);
    assert!(by_flag > 0, "no C2HData SUCCESS completions");
    // Traffic Based Keep Alive: 12 s of reads kept the 2 s KATO controller alive (fio ran
    // to the end, the controller live after) with next to no Keep Alives; idle, the host
    // sent them again.
    let [window_start, window_end, io_end, idle_end] = admin_commands[..] else {
        panic!("admin command counts {admin_commands:?}")
    };
    assert_eq!(
        kato_expired_before_link_down,
        Some(0),
        "the controller was dropped for want of Keep Alives while it served reads"
    );
    let [reads_at_window_end, reads_at_io_end] = tbkas_reads[..] else {
        panic!("namespace 1's reads {tbkas_reads:?}")
    };
    assert!(reads_at_io_end > reads_at_window_end, "fio read on after the counted window");
    // Without TBKA a Linux host sends a Keep Alive every KATO / 2 (1 s): about one per
    // second of the window. With it, one only when a KATO / 4 (0.5 s) period passed
    // without a completion, which a guest stalled on a loaded 2-core machine still sees
    // now and then. So at most one per two seconds of the window's real length (6 s in
    // the guest, longer as seen here when the guest stalls), which leaves room for such
    // stalls and still fails a host sending one a second.
    let window = marks.between("tbkas-window-start", "tbkas-window-end").unwrap_or_default();
    assert!(window >= Duration::from_secs(5), "the guest slept 6 s: {window:?}");
    let during = window_end - window_start;
    assert!(
        (during as f64) <= window.as_secs_f64() / 2.0,
        "{during} Keep Alives in {window:?} of reads: {admin_commands:?}"
    );
    assert!(idle_end - io_end >= 2, "Keep Alives while idle: {admin_commands:?}");
    println!(
        "linux initiator: KATO 2 s, {window:?} inside the reads: {during} admin commands (Traffic Based Keep Alive), 3 s idle: {}",
        idle_end - io_end
    );
    let kato_drop = kato_drop.expect("controller still present 9 s after the guest went silent");
    assert!(t.stats.kato_expired.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    println!(
        "linux initiator: KATO 2 s controller dropped {kato_drop:?} after the guest link went down"
    );

    // Namespace 2's rate limit: fio's reads ran at it (its first tenth of a second's
    // burst included), and far faster once it was lifted.
    let (limited, unlimited) =
        (common::fio_mark(&marks, "fio-limited"), common::fio_mark(&marks, "fio-unlimited"));
    println!(
        "linux initiator: namespace 2 limited to {NS2_IOPS_LIMIT} IOPS: fio randread 4k QD 8 {} IOPS ({ns2_throttled} commands waited at the target); unlimited {} IOPS",
        limited.read_iops, unlimited.read_iops
    );
    let cap = NS2_IOPS_LIMIT as f64;
    assert!((0.5 * cap..=1.15 * cap).contains(&(limited.read_iops as f64)), "{limited:?}");
    assert!(unlimited.read_iops as f64 > 2.0 * cap, "{unlimited:?}");
    // Most of fio's reads waited at the target (QD 8 against a budget of one at a time).
    assert!(ns2_throttled * 2 > limited.read_iops * 3, "{ns2_throttled} throttled");
    assert_eq!((limited.errors, unlimited.errors), (0, 0));

    // fio: both passes exited 0 with no errors; the write pass wrote and verified both jobs'
    // regions, the verify-only pass read them all back after the reconnect.
    let write = common::fio_mark(&marks, "fio-write");
    let verify = common::fio_mark(&marks, "fio-verify");
    let total_kib = 2 * FIO_JOB_MIB * 1024;
    assert_eq!((write.errors, verify.errors), (0, 0), "{write:?} {verify:?}");
    assert_eq!(write.write_kib, total_kib, "{write:?}");
    assert_eq!(write.read_kib, total_kib, "the write pass verifies what it wrote: {write:?}");
    assert_eq!(verify.read_kib, total_kib, "{verify:?}");
    // The target saw the verify-only pass as reads alone.
    let (before, after) = (verify_ns.0.unwrap(), verify_ns.1.unwrap());
    assert_eq!(after.writes, before.writes, "the verify-only pass wrote");
    assert!(after.read_bytes - before.read_bytes >= total_kib * 1024, "{before:?} {after:?}");
    // Both I/O queues (one per vCPU, each job pinned to one) carried one job's writes, as
    // the target's per-queue counters show; the admin queue wrote nothing. Nothing else
    // writes on this controller before fio.
    assert_eq!(fio_controllers.len(), 1, "one controller during fio: {fio_controllers:?}");
    let queues = &fio_controllers[0].queues;
    let per_queue: Vec<(u16, u64, u64)> =
        queues.iter().map(|q| (q.info.qid, q.io.writes, q.io.write_bytes)).collect();
    println!(
        "linux initiator fio: randwrite 4k QD 32 x 2 jobs {} IOPS ({} KiB), verify read {} IOPS; verify-only after reconnect {} IOPS ({} KiB); per queue (qid, writes, bytes) {per_queue:?}; O_DIRECT backing file: {direct}",
        write.write_iops, write.write_kib, write.read_iops, verify.read_iops, verify.read_kib,
    );
    let job = FIO_JOB_MIB << 20;
    assert_eq!(
        per_queue,
        vec![(0, 0, 0), (1, job / 4096, job), (2, job / 4096, job)],
        "each I/O queue carries one job's 4 KiB writes: {queues:?}"
    );
    for q in &queues[1..] {
        assert_eq!((q.in_flight, q.io.errors), (0, 0), "{q:?}");
        assert!(!q.info.hdgst && !q.info.ddgst, "the first connect asks for no digests");
    }

    // The backing file holds what the guest wrote.
    let sums: Vec<(String, String)> = marks
        .0
        .iter()
        .filter_map(|(m, _)| {
            let mut w = m.strip_prefix("sha256 ")?.split_whitespace();
            Some((w.next()?.to_owned(), w.next()?.to_owned()))
        })
        .collect();
    assert_eq!(sums.len(), 5, "the guest printed a checksum per file: {sums:?}");
    server.stop();
    check_backing_file(&image, &sums, dir.path());
    check_ns2_file(&hot_image);
    hot_device.detach().unwrap();
    println!(
        "linux initiator: backing file {} clean (e2fsck -fn), {} files match the guest's SHA-256",
        image.display(),
        sums.len()
    );
}

#[test]
fn fio_terse_fields_are_read_by_position() {
    let mut fields = vec!["0"; 130];
    fields[0] = "3";
    fields[1] = "fio-3.33";
    fields[2] = "qd32";
    (fields[4], fields[5], fields[7]) = ("0", "32768", "3164.5");
    (fields[46], fields[48]) = ("32768", "1823");
    let r = common::fio_terse(&fields.join(";")).unwrap();
    assert_eq!(
        (r.errors, r.read_kib, r.read_iops, r.write_kib, r.write_iops),
        (0, 32768, 3164, 32768, 1823)
    );
    fields[0] = "2";
    assert!(common::fio_terse(&fields.join(";")).is_none(), "another terse version");
    assert!(common::fio_terse("3;fio-3.33;qd32;0;1").is_none(), "a cut line");
}
