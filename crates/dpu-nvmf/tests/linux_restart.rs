//! The service restarts under the unmodified Linux initiator's I/O and no write is lost.
//!
//! The guest (Debian's amd64 kernel, nvme-cli and fio, as in `linux_initiator.rs`)
//! connects to the service binary (`dpu-nvmf --config`, a file volume) asking to reconnect
//! after 1 s, and fio writes random 4 KiB blocks at QD 32 on both I/O queues, each block
//! with a crc32c header. Once a tenth of them are in the backing file, the test kills the
//! service (SIGKILL: the crash of an upgrade gone wrong, or the OOM killer) and starts it
//! again on the same files. The kernel sees its connections close, reconnects to the new
//! process, resends the commands that were outstanding, and fio runs on; its verify
//! pass then reads every block back through the new process. The namespace must keep its
//! identity through the restart (the kernel drops a namespace whose NGUID changed), no
//! command may fail, and every block must hold what fio wrote.

#![allow(clippy::unwrap_used)]

mod common;

use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use dpu_lab::guest::{Guest, Marks, QemuConfig};

const SUBNQN: &str = "nqn.2024-01.io.example.dpu:restart";
const HOSTNQN: &str = "nqn.2014-08.org.nvmexpress:uuid:8c1b2f3e-5d4a-4b6c-9e7f-0a1b2c3d4e5f";
/// Bytes each of the two fio jobs writes (its own region) and verifies.
const FIO_JOB_MIB: u64 = 24;
const NS_BYTES: u64 = (2 * FIO_JOB_MIB) << 20;
/// The service is killed once this much of the namespace is in the backing file.
const KILL_AT_BYTES: u64 = NS_BYTES / 10;
const DEADLINE: Duration = Duration::from_secs(600);

fn init_script(port: u16, modules: &[String]) -> String {
    let prelude = common::nvme_init_prelude(modules);
    format!(
        r#"{prelude}
nvme connect -t tcp -a 192.0.2.2 -s {port} -n {SUBNQN} --hostnqn={HOSTNQN} --reconnect-delay=1 --ctrl-loss-tmo=60
mark connect rc=$?
DEV=$(waitblk "nvme[0-9]+n1" 1) || fail "no namespace"
mark device $DEV
mark fio-start
fio --name=restart --filename=/dev/$DEV --thread --numjobs=2 --cpus_allowed=0-1 --cpus_allowed_policy=split --rw=randwrite --bs=4k --iodepth=32 --ioengine=libaio --direct=1 --size={FIO_JOB_MIB}m --offset_increment={FIO_JOB_MIB}m --runtime=300 --verify=crc32c --verify_fatal=1 --do_verify=1 --group_reporting --output-format=terse --terse-version=3 > /tmp/fio 2>&1
mark fio rc=$?
cat /tmp/fio
mark fio-terse $(grep '^3;' /tmp/fio)
mark reconnects $(dmesg | grep -c "Successfully reconnected")
mark device-after $(ls /sys/block | grep -E -m1 "^nvme[0-9]+n1$")
dmesg | grep -i nvme | tail -n 20
nvme disconnect -n {SUBNQN}
mark disconnect rc=$?
mark done
poweroff -f
sleep 10
"#
    )
}

/// Bytes of the backing file's blocks on disk (a sparse file's written part).
fn allocated(file: &std::path::Path) -> u64 {
    std::fs::metadata(file).map_or(0, |m| m.blocks() * 512)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linux_rides_through_a_service_restart_without_losing_a_write() {
    let (cache, kernel) = common::guest_kernel(&[("fio", "fio")]);
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk.img");
    let port = common::free_loopback_port();
    let config = format!(
        "[[listeners]]\nport_id = 1\naddress = \"127.0.0.1:{port}\"\n\
         [[volumes]]\nname = \"disk\"\nkind = \"file\"\npath = \"{}\"\nsize = {NS_BYTES}\n\
         [[subsystems]]\nnqn = \"{SUBNQN}\"\nserial = \"DPURESTART01\"\nhosts = [\"{HOSTNQN}\"]\n\
         [[subsystems.namespaces]]\nnsid = 1\nvolume = \"disk\"\n",
        disk.display()
    );
    let mut service = common::Service::start(dir.path(), &config);
    let initrd =
        common::nvme_initramfs_with(&cache, &kernel, "restart", &[("fio", "/usr/bin/fio")], |m| {
            init_script(port, m)
        });
    let mut vm = Guest::spawn(&QemuConfig::new(kernel.vmlinuz.clone(), initrd)).unwrap();

    let mut marks = Marks::default();
    let deadline = Instant::now() + DEADLINE;
    // Bytes in the backing file when the service was killed, and whether fio had ended.
    let mut killed_at = None;
    while let Some(m) = common::next_mark(&mut vm, &mut marks, deadline) {
        if m == "fio-start" {
            let waiting = Instant::now();
            while allocated(&disk) < KILL_AT_BYTES {
                assert!(waiting.elapsed() < Duration::from_secs(120), "fio wrote nothing");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            killed_at = Some(allocated(&disk));
            service.kill_and_restart();
        }
    }
    let expect =
        ["connect rc=0", "fio-start", "fio rc=0", "reconnects 1", "disconnect rc=0", "done"];
    let missing = marks.missing(&expect);
    assert!(missing.is_empty(), "missing marks {missing:?}; serial log:\n{}", vm.log().join("\n"));
    // The same block device: the kernel kept the namespace (its identifiers unchanged).
    assert_eq!(marks.value("device-after "), marks.value("device "), "the namespace's device");
    let killed_at = killed_at.unwrap();
    let fio = common::fio_mark(&marks, "fio");
    assert_eq!(fio.errors, 0, "fio errors");
    let written = FIO_JOB_MIB * 2 * 1024;
    assert_eq!((fio.write_kib, fio.read_kib), (written, written), "fio wrote and verified all");
    // The kill came while fio wrote: most of the namespace was written after it.
    assert!(killed_at < NS_BYTES / 2, "killed at {killed_at} bytes");
    println!(
        "linux restart: the service was killed with {} of {} MiB written; the kernel reconnected \
         and fio (running {:?}) wrote {} KiB at {} IOPS and verified {} KiB, no errors",
        killed_at >> 20,
        NS_BYTES >> 20,
        marks.between("fio-start", "fio rc=").unwrap_or_default(),
        fio.write_kib,
        fio.write_iops,
        fio.read_kib,
    );
}
