//! What an operator reads and sets with nvme-cli and the kernel's hwmon device, against
//! the unmodified Linux initiator in a QEMU guest (Debian's amd64 kernel and nvme-cli, as
//! in `linux_initiator.rs`):
//! - a failed command shows in `nvme error-log` (its queue, status, LBA, namespace, the
//!   byte of the command in error) and in `nvme smart-log`'s error count;
//! - `nvme effects-log` lists the commands the controller runs, writes marked as changing
//!   logical block content; `nvme supported-log-pages` lists the log pages it returns,
//!   and each of them reads;
//! - `nvme set-feature -f 0x84` write-protects the namespace: the kernel turns the disk
//!   read-only and a write fails; lifted, the disk takes writes again;
//! - a write to a sparse file volume whose file system is full fails in the guest with
//!   "No space left on device" (Capacity Exceeded), not an I/O error; `nvme verify` checks a range and fails past the end;
//! - the I/O commands besides Read and Write, each on fresh random data: `nvme compare`
//!   passes on the same data and fails with Compare Failure on other data; `nvme
//!   write-zeroes` (with and without DEAC), the kernel's own Write Zeroes (util-linux
//!   `blkdiscard -z`, and `fallocate -p`, which needs Write Zeroes with no fallback) and
//!   `nvme dsm --ad` leave zeroes; `nvme flush` succeeds; `nvme ns-descs` shows the
//!   namespace's NGUID and UUID and `nvme fw-log` the active slot;
//! - the mandatory features read back (`nvme get-feature`), and a power state the
//!   controller does not have is refused;
//! - the kernel's hwmon device shows the composite temperature and the thresholds
//!   (temp1_input, temp1_max from WCTEMP, temp1_crit from CCTEMP); a temp1_max the host
//!   sets below the temperature raises temp1_alarm (SMART's temperature warning) and,
//!   with temperature notices enabled, a SMART / Health asynchronous event the kernel
//!   turns into an `NVME_AEN` uevent;
//! - the operator takes the host off the subsystem's allowed hosts: its controller stops
//!   at once (the kernel's goes to reconnecting) and the kernel's reconnects are refused
//!   as from a host not allowed; back on the list, the next reconnect brings it back.
//!
//! Nothing is loaded into the host kernel; QEMU is stopped on every exit path.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpu_lab::guest::{Guest, Marks, QemuConfig};
use dpu_lab::loopdev::Mount;
use dpu_nvmf::{Server, Target, Volume};

const SUBNQN: &str = "nqn.2024-01.io.example.dpu:admin";
const HOSTNQN: &str = "nqn.2014-08.org.nvmexpress:uuid:2d4c6e8a-0b1d-4f3e-9a5c-7e6b8d0f1a23";
const NS_BYTES: u64 = 64 << 20;
/// The first block past the namespace (512-byte blocks): a read there fails.
const PAST_END: u64 = NS_BYTES / 512;
const DEADLINE: Duration = Duration::from_secs(600);
/// The tmpfs under namespace 2's sparse file volume, and what the guest writes to it.
const FULL_FS_MIB: u64 = 4;
const FULL_VOLUME_MIB: u64 = 16;
const FULL_WRITE_MIB: u64 = 8;

fn init_script(port: u16, modules: &[String]) -> String {
    let prelude = common::nvme_init_prelude(modules);
    format!(
        r#"{prelude}
# Reconnects every second, for two minutes, once the connection is lost.
nvme connect -t tcp -a 192.0.2.2 -s {port} -n {SUBNQN} --hostnqn={HOSTNQN} --reconnect-delay=1 --ctrl-loss-tmo=120
mark connect rc=$?
DEV=$(waitblk "nvme[0-9]+n1" 1) || fail "no namespace"
C=/dev/$(ls /sys/class/nvme | grep -m1 '^nvme[0-9]'); N=/dev/$DEV
# The value of field $1 in nvme-cli's "name : value" output in file $2.
field() {{ grep -m1 "^$1[[:space:]]*:" "$2" | sed 's/^[^:]*:[[:space:]]*//'; }}
nvme smart-log $C > /tmp/s0; cat /tmp/s0
mark errors-before $(field num_err_log_entries /tmp/s0)
nvme read $N -s {PAST_END} -c 0 -z 512 -d /tmp/r > /tmp/r.out 2>&1
mark read-past-end rc=$?
cat /tmp/r.out
nvme error-log $C -e 1 > /tmp/e; cat /tmp/e
mark error-log count=$(field error_count /tmp/e) lba=$(field lba /tmp/e) nsid=$(field nsid /tmp/e) loc=$(field parm_err_loc /tmp/e)
# The I/O queue of the CPU nvme-cli ran on.
[ "$(field sqid /tmp/e)" -ge 1 ] && mark error-log-io-queue
grep -q "LBA Out of Range" /tmp/e && mark error-log-status
nvme smart-log $C > /tmp/s1
mark errors-after $(field num_err_log_entries /tmp/s1)
# nvme-cli 2.4 prints nothing without --csi on a fabrics controller (it looks for
# PCI registers first).
nvme effects-log $C --csi=0 > /tmp/fx 2>&1
mark effects-log rc=$?
cat /tmp/fx
grep -Eq '^ACS6 .*\] 00000001$' /tmp/fx && mark effects-identify
grep -Eq '^IOCS2 .*\] 00000001$' /tmp/fx && mark effects-read
grep -Eq '^IOCS1 .*\] 00000003$' /tmp/fx && mark effects-write-changes-content
grep -Eq '^IOCS12 .*\] 00000001$' /tmp/fx && mark effects-verify
grep -Eq '^ACS128 ' /tmp/fx || mark effects-no-format
nvme supported-log-pages $C > /tmp/slp 2>&1
mark supported-log-pages rc=$?
cat /tmp/slp
LIDS=$(grep -oiE 'LID 0x[0-9a-f]+' /tmp/slp | awk '{{print $2}}')
mark supported-lids $(echo $LIDS)
# Each listed page reads (RAE: no event re-armed, no log cleared; a Reservation Notification
# read takes its page whatever RAE says, but none is queued here).
for l in $LIDS; do nvme get-log $C --log-id=$l --log-len=512 --rae > /dev/null 2>&1 || mark unreadable-log $l; done
mark listed-logs-read
# Namespace write protection (Feature 84h): the disk turns read-only and refuses writes;
# lifted, it takes them again.
ro() {{ i=0; while [ "$(cat /sys/block/$DEV/ro)" != $1 ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done; cat /sys/block/$DEV/ro; }}
nvme set-feature $C -f 0x84 -n 1 -v 1 > /dev/null 2>&1
mark wp-set rc=$?
mark wp-ro $(ro 1) $(nvme get-feature $C -f 0x84 -n 1 2>&1 | sed -n 's/.*Current value://p')
dd if=/dev/zero of=$N bs=512 seek=8 count=1 oflag=direct 2>/dev/null
mark wp-write rc=$?
nvme set-feature $C -f 0x84 -n 1 -v 0 > /dev/null 2>&1
mark wp-clear rc=$?
mark wp-rw $(ro 0) $(nvme get-feature $C -f 0x84 -n 1 2>&1 | sed -n 's/.*Current value://p')
dd if=/dev/zero of=$N bs=512 seek=8 count=1 oflag=direct 2>/dev/null
mark wp-write-after rc=$?
# A file volume whose file system is full: the write fails with ENOSPC.
mark want-full-namespace
NS2=$(waitblk "nvme[0-9]+n2" 1) || fail "no namespace 2"
dd if=/dev/urandom of=/dev/$NS2 bs=1M count={FULL_WRITE_MIB} oflag=direct > /tmp/dd 2>&1
mark full-write rc=$? $(grep -o 'No space left on device' /tmp/dd | head -1)
cat /tmp/dd
# Verify: the first 8 blocks, then one past the end.
nvme verify $N -s 0 -c 7 > /dev/null 2>&1
mark verify rc=$?
nvme verify $N -s {PAST_END} -c 0 > /dev/null 2>&1
mark verify-past-end rc=$?
# The I/O commands besides Read and Write, as nvme-cli and the block layer send them.
# Each on its own 4 KiB (8 blocks) of fresh random data, read back with O_DIRECT.
head -c 4096 /dev/zero > /tmp/z
fresh() {{ head -c 4096 /dev/urandom > /tmp/rnd; dd if=/tmp/rnd of=$N bs=4096 seek=$1 count=1 oflag=direct 2>/dev/null; }}
zeroed() {{ dd if=$N bs=4096 skip=$1 count=1 iflag=direct 2>/dev/null | cmp -s - /tmp/z && echo zeroes; }}
mark write-zeroes-limit $(cat /sys/block/$DEV/queue/write_zeroes_max_bytes)
fresh 16
nvme compare $N -s 128 -c 7 -z 4096 -d /tmp/rnd > /tmp/cmp 2>&1
mark compare-same rc=$?
cat /tmp/cmp
head -c 4096 /dev/urandom > /tmp/other
nvme compare $N -s 128 -c 7 -z 4096 -d /tmp/other > /tmp/cmp 2>&1
mark compare-differs rc=$?
cat /tmp/cmp
grep -q "COMPARE_FAILED\|Compare Failure" /tmp/cmp && mark compare-failure-status
fresh 17
nvme write-zeroes $N -s 128 -c 7 > /dev/null 2>&1
mark write-zeroes rc=$? $(zeroed 16)
nvme write-zeroes $N -s 136 -c 7 --deac > /dev/null 2>&1
mark write-zeroes-deac rc=$? $(zeroed 17)
# The kernel's own Write Zeroes (util-linux; busybox's blkdiscard has no -z): BLKZEROOUT,
# and a hole punched in the disk (Write Zeroes with DEAC, as DLFEAT allows).
fresh 19
/ul/blkdiscard -z -o $((19 * 4096)) -l 4096 $N
mark zeroout rc=$? $(zeroed 19)
fresh 20
/ul/fallocate -p -o $((20 * 4096)) -l 4096 $N
mark punch-hole rc=$? $(zeroed 20)
fresh 18
nvme dsm $N --ad -s 144 -b 8 > /dev/null 2>&1
mark deallocate rc=$? $(zeroed 18)
nvme flush $N > /dev/null 2>&1
mark flush rc=$?
nvme ns-descs $N > /tmp/d 2>&1
cat /tmp/d
mark ns-descs nguid=$(field nguid /tmp/d) uuid=$(field uuid /tmp/d)
nvme fw-log $C > /tmp/fw 2>&1
R=$?
cat /tmp/fw
mark fw-log rc=$R afi=$(field afi /tmp/fw)
for f in 1 2 4 5 0xa; do nvme get-feature $C -f $f -n 1 > /tmp/f 2>&1; mark get-feature-$f rc=$? $(sed 's/.*Current value:[[:space:]]*//' /tmp/f); done
nvme set-feature $C -f 2 -v 1 > /tmp/ps 2>&1
mark set-power-state-1 rc=$?
H=$(ls -d /sys/class/nvme/${{C#/dev/}}/hwmon* | head -1)
ls $H
mark hwmon input=$(cat $H/temp1_input) max=$(cat $H/temp1_max) crit=$(cat $H/temp1_crit) min=$(cat $H/temp1_min) alarm=$(cat $H/temp1_alarm)
# Temperature notices (AEC bit 1) on top of those the kernel enabled.
AEC=$(nvme get-feature $C -f 0xb | sed 's/.*Current value:[[:space:]]*//')
mark aec-was $AEC
nvme set-feature $C -f 0xb -v $((AEC | 2)) > /dev/null
mark aec-set rc=$?
echo 25000 > $H/temp1_max
mark set-max rc=$?
mark hwmon-low max=$(cat $H/temp1_max) alarm=$(cat $H/temp1_alarm)
i=0; while ! grep -q . /tmp/aen && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
mark aen $(cat /tmp/aen)
echo 69850 > $H/temp1_max
mark hwmon-restored max=$(cat $H/temp1_max) alarm=$(cat $H/temp1_alarm)
# The operator takes the host off the subsystem's list: its controller goes at once and
# it cannot connect again (the kernel keeps trying every second); then lets it back.
CN=${{C#/dev/}}
state() {{ cat /sys/class/nvme/$CN/state; }}
mark want-revoke
# The kernel passes through resetting (its error recovery) on the way to connecting.
i=0; while [ $i -lt 100 ] && {{ [ "$(state)" = live ] || [ "$(state)" = resetting ]; }}; do usleep 100000; i=$((i+1)); done
mark revoked state=$(state)
# The kernel's reconnect, a second later, is refused as from a host not allowed.
i=0; while ! dmesg | grep -q "is not allowed, hostnqn: {HOSTNQN}" && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
dmesg | grep -q "is not allowed, hostnqn: {HOSTNQN}" && mark reconnect-refused state=$(state)
mark want-restore
i=0; while [ "$(state)" != live ] && [ $i -lt 300 ]; do usleep 100000; i=$((i+1)); done
mark restored state=$(state)
dd if=$N of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null
mark read-after-restore rc=$?
nvme disconnect -n {SUBNQN} > /dev/null
mark disconnect rc=$?
mark done
poweroff -f
sleep 10
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nvme_cli_reads_the_error_log_effects_and_features_and_hwmon_the_temperature() {
    let (cache, kernel) = common::guest_kernel(&[]);
    let t = Target::new();
    common::add_subsystem(&t, SUBNQN, "DPUADMIN01", "dpu-nvmf admin test", &[HOSTNQN]);
    let vol = Arc::new(Volume::ram("admin", 512, NS_BYTES).unwrap());
    t.add_namespace(SUBNQN, 1, vol, [3; 16], [4; 16]).unwrap();
    // Namespace 2, added when the guest asks: a sparse file volume four times the size
    // of the tmpfs it is on.
    let dir = tempfile::tempdir().unwrap();
    let full_dir = dir.path().join("full");
    std::fs::create_dir(&full_dir).unwrap();
    let size = format!("size={FULL_FS_MIB}m");
    let full_fs =
        Mount::with_options("tmpfs", "dpu-nvmf-full".as_ref(), &full_dir, &[&size]).unwrap();
    let full_volume = full_fs.path().join("volume.img");
    let full = Arc::new(Volume::file("full", &full_volume, 512, FULL_VOLUME_MIB << 20).unwrap());
    let server = Server::new(t.clone(), 4);
    let addr = common::loopback_listener(&server, 1).await;
    let util_linux = [("blkdiscard", "/ul/blkdiscard"), ("fallocate", "/ul/fallocate")];
    let initrd = common::nvme_initramfs_with(&cache, &kernel, "admin", &util_linux, |m| {
        init_script(addr.port(), m)
    });
    let mut vm = Guest::spawn(&QemuConfig::new(kernel.vmlinuz.clone(), initrd)).unwrap();
    let mut marks = Marks::default();
    let deadline = Instant::now() + DEADLINE;
    while let Some(m) = common::next_mark(&mut vm, &mut marks, deadline) {
        match m.as_str() {
            "want-revoke" => t.set_hosts(SUBNQN, false, BTreeSet::new()).unwrap(),
            "want-restore" => t.set_hosts(SUBNQN, false, [HOSTNQN.to_owned()].into()).unwrap(),
            "want-full-namespace" => {
                t.add_namespace(SUBNQN, 2, full.clone(), [5; 16], [6; 16]).unwrap()
            }
            _ => {}
        }
    }
    tokio::task::block_in_place(|| vm.wait_exit(Duration::from_secs(30)));
    let expect = [
        "connect rc=0".to_owned(),
        "errors-before 0".to_owned(),
        "read-past-end rc=1".to_owned(),
        // The read's entry: the LBA, the namespace and byte 40 (SLBA); its I/O queue.
        format!("error-log count=1 lba={PAST_END:#x} nsid=0x1 loc=0x28"),
        "error-log-io-queue".to_owned(),
        "error-log-status".to_owned(),
        "errors-after 1".to_owned(),
        "effects-log rc=0".to_owned(),
        "effects-identify".to_owned(),
        "effects-read".to_owned(),
        "effects-write-changes-content".to_owned(),
        "effects-verify".to_owned(),
        "effects-no-format".to_owned(),
        "supported-log-pages rc=0".to_owned(),
        "supported-lids 0x0 0x1 0x2 0x3 0x4 0x5 0xc 0x80".to_owned(),
        "listed-logs-read".to_owned(),
        // Feature 84h: read-only disk, WPS 1 (nvme-cli prints a non-zero value with 0x).
        "wp-set rc=0".to_owned(),
        "wp-ro 1 0x00000001".to_owned(),
        "wp-write rc=1".to_owned(),
        "wp-clear rc=0".to_owned(),
        "wp-rw 0 00000000".to_owned(),
        "wp-write-after rc=0".to_owned(),
        // Capacity Exceeded: the host's write fails with ENOSPC, not an I/O error.
        "full-write rc=1 No space left on device".to_owned(),
        "verify rc=0".to_owned(),
        "verify-past-end rc=1".to_owned(),
        // The kernel's Write Zeroes limit: MDTS (128 KiB).
        "write-zeroes-limit 131072".to_owned(),
        "compare-same rc=0".to_owned(),
        "compare-differs rc=1".to_owned(),
        "compare-failure-status".to_owned(),
        "write-zeroes rc=0 zeroes".to_owned(),
        "write-zeroes-deac rc=0 zeroes".to_owned(),
        "zeroout rc=0 zeroes".to_owned(),
        "punch-hole rc=0 zeroes".to_owned(),
        "deallocate rc=0 zeroes".to_owned(),
        "flush rc=0".to_owned(),
        "ns-descs nguid=03030303030303030303030303030303 uuid=04040404-0404-0404-0404-040404040404"
            .to_owned(),
        // Slot 1 active.
        "fw-log rc=0 afi=0x1".to_owned(),
        "get-feature-1 rc=0 0x00000007".to_owned(),
        "get-feature-2 rc=0 00000000".to_owned(),
        // 343 K, WCTEMP.
        "get-feature-4 rc=0 0x00000157".to_owned(),
        "get-feature-5 rc=0 00000000".to_owned(),
        "get-feature-0xa rc=0 00000000".to_owned(),
        "set-power-state-1 rc=1".to_owned(),
        // 300 K, WCTEMP 343 K, CCTEMP 358 K, an under threshold of 0 K, in m°C.
        "hwmon input=26850 max=69850 crit=84850 min=-273150 alarm=0".to_owned(),
        "aec-set rc=0".to_owned(),
        "set-max rc=0".to_owned(),
        "hwmon-low max=24850 alarm=1".to_owned(),
        // SMART / Health (1), Temperature Threshold (01h), log page 02h.
        "aen nvme0 0x020101".to_owned(),
        "hwmon-restored max=69850 alarm=0".to_owned(),
        // The kernel's controller leaves the live state; its reconnects are refused as
        // from a host the subsystem does not allow; back on the list, the next one
        // brings the controller back and I/O runs.
        "revoked state=connecting".to_owned(),
        "reconnect-refused state=connecting".to_owned(),
        "restored state=live".to_owned(),
        "read-after-restore rc=0".to_owned(),
        "disconnect rc=0".to_owned(),
        "done".to_owned(),
    ];
    let expect: Vec<&str> = expect.iter().map(String::as_str).collect();
    let missing = marks.missing(&expect);
    assert!(missing.is_empty(), "missing marks {missing:?}; serial log:\n{}", vm.log().join("\n"));
    assert!(marks.at("unreadable-log").is_none(), "a listed log page failed: {marks:?}");
    println!(
        "linux admin: error log entry for the read past the end, effects log, five mandatory features, hwmon temperature {}; temperature notice {:?} after temp1_max was lowered; controller out of the live state {:?} after the host was revoked, live again {:?} after it was let back",
        marks.value("hwmon input=").unwrap_or_default(),
        marks.between("set-max", "aen ").unwrap_or_default(),
        marks.between("want-revoke", "revoked ").unwrap_or_default(),
        marks.between("want-restore", "restored ").unwrap_or_default(),
    );
    let full_errors = t.namespace(SUBNQN, 2).unwrap().stats.snapshot().errors;
    assert!(full_errors >= 1, "namespace 2 counted its failed writes");
    println!(
        "linux admin: a {FULL_WRITE_MIB} MiB write to a sparse {FULL_VOLUME_MIB} MiB file volume on a {FULL_FS_MIB} MiB tmpfs: \"No space left on device\" in the guest, {full_errors} commands failed with Capacity Exceeded"
    );
    server.stop();
    // The volume's file closes before its file system is unmounted.
    t.remove_namespace(SUBNQN, 2).unwrap();
    drop(full);
    drop(full_fs);
}
