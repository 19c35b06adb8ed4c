//! The unmodified Linux initiator's queue options against the target's queue limits.
//!
//! The guest (Debian's amd64 kernel, nvme-cli and fio, two vCPUs) connects asking for more
//! than the subsystem allows: default queues for each vCPU plus two write and two poll
//! queues (`--nr-io-queues=8 --nr-write-queues=2 --nr-poll-queues=2`: six I/O queues on
//! two vCPUs) of 1,024 entries each (`--queue-size=1024`). The subsystem allows five I/O
//! queues (`max_io_queues`) of 128 entries (MAXCMD): Set Features Number of Queues grants
//! five, which the kernel maps as two default (write) queues, two read queues and one poll
//! queue, and it clamps its queue size to 128. Then fio, one job on each vCPU, writes
//! random blocks at QD 256 (twice what a queue holds: the kernel keeps the rest waiting)
//! through the default queues and reads them back through the read queues, verifying
//! each. No command may fail. (Polled I/O itself is left out: Debian's 6.1 host warns of
//! sleeping in an RCU read-side section in `nvme_tcp_poll`, whatever the target.)

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpu_lab::guest::{self, Guest, Marks, QemuConfig};
use dpu_nvmf::target::SubsystemSpec;
use dpu_nvmf::{Server, Target, Volume};

const SUBNQN: &str = "nqn.2024-01.io.example.dpu:queues";
const HOSTNQN: &str = "nqn.2014-08.org.nvmexpress:uuid:1e2d3c4b-5a69-4788-9a0b-c1d2e3f40516";
/// The subsystem's I/O queue limit.
const MAX_IO_QUEUES: u16 = 5;
const NS_BYTES: u64 = 32 << 20;
const DEADLINE: Duration = Duration::from_secs(600);

fn init_script(port: u16, modules: &[String]) -> String {
    let prelude = common::nvme_init_prelude(modules);
    format!(
        r#"{prelude}
C="-t tcp -a 192.0.2.2 -s {port} -n {SUBNQN} --hostnqn={HOSTNQN}"
nvme connect $C --nr-io-queues=8 --nr-write-queues=2 --nr-poll-queues=2 --queue-size=1024
mark connect rc=$?
DEV=$(waitblk "nvme[0-9]+n1" 1) || fail "no namespace"
CTRL=$(ls /sys/class/nvme | grep -m1 '^nvme[0-9]')
mark queues $(dmesg | grep -o 'mapped [0-9/]* default/read/poll' | tail -n 1 | cut -d' ' -f2)
mark sqsize $(cat /sys/class/nvme/$CTRL/sqsize)
dmesg | grep -i nvme
fio --name=deep --filename=/dev/$DEV --thread --numjobs=2 --cpus_allowed=0-1 --cpus_allowed_policy=split --size=4m --offset_increment=4m --direct=1 --bs=4k --ioengine=libaio --rw=randwrite --iodepth=256 --verify=crc32c --verify_fatal=1 --do_verify=1 --group_reporting --output-format=terse --terse-version=3 > /tmp/deep 2>&1
mark fio-deep rc=$?
cat /tmp/deep
mark fio-deep-terse $(grep '^3;' /tmp/deep)
nvme disconnect -n {SUBNQN}
mark disconnect rc=$?
mark done
poweroff -f
sleep 10
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linux_queue_options_meet_the_targets_limits() {
    guest::ensure_commands(&[("fio", "fio")]).unwrap();
    let (cache, kernel) = common::guest_kernel(&[]);
    let t = Target::new();
    t.add_subsystem(SubsystemSpec {
        nqn: SUBNQN.into(),
        serial: "DPUQUEUES01".into(),
        model: "dpu-nvmf queues test".into(),
        allow_any_host: false,
        hosts: BTreeSet::from([HOSTNQN.to_owned()]),
        host_secrets: Default::default(),
        cntlids: dpu_nvmf::target::ALL_CNTLIDS,
        max_io_queues: MAX_IO_QUEUES,
    })
    .unwrap();
    let vol = Arc::new(Volume::ram("queues", 512, NS_BYTES).unwrap());
    t.add_namespace(SUBNQN, 1, vol, [9; 16], [10; 16]).unwrap();
    let server = Server::new(t.clone(), 4);
    let addr = common::loopback_listener(&server, 1).await;
    let initrd =
        common::nvme_initramfs_with(&cache, &kernel, "queues", &[("fio", "/usr/bin/fio")], |m| {
            init_script(addr.port(), m)
        });
    let mut vm = Guest::spawn(&QemuConfig::new(kernel.vmlinuz.clone(), initrd)).unwrap();
    let mut marks = Marks::default();
    let deadline = Instant::now() + DEADLINE;
    // The queues (QID, entries) each controller of the subsystem has connected, seen after
    // the second Connect.
    let mut queues_per_controller = Vec::new();
    while let Some(m) = common::next_mark(&mut vm, &mut marks, deadline) {
        if m.starts_with("fio-deep rc=") {
            let ours = t.subsystem_stats().into_iter().find(|s| s.nqn == SUBNQN).unwrap();
            queues_per_controller = ours
                .controllers
                .iter()
                .map(|c| c.queues.iter().map(|q| (q.info.qid, q.info.sq_size)).collect::<Vec<_>>())
                .collect();
        }
    }
    tokio::task::block_in_place(|| vm.wait_exit(Duration::from_secs(30)));
    let expect =
        ["connect rc=0", "queues 2/2/1", "sqsize 127", "fio-deep rc=0", "disconnect rc=0", "done"];
    let missing = marks.missing(&expect);
    assert!(missing.is_empty(), "missing marks {missing:?}; serial log:\n{}", vm.log().join("\n"));
    let deep = common::fio_mark(&marks, "fio-deep");
    assert_eq!(deep.errors, 0, "fio errors");
    assert_eq!((deep.write_kib, deep.read_kib), (8192, 8192), "QD 256 writes verified");
    // The admin queue (32 entries) and five I/O queues of 128 each.
    let granted = [(0, 32), (1, 128), (2, 128), (3, 128), (4, 128), (5, 128)];
    assert_eq!(queues_per_controller, [granted], "the controller's queues");
    println!(
        "linux queues: asked for 6 I/O queues of 1,024 entries, granted {MAX_IO_QUEUES} mapped \
         default/read/poll {} of {} entries (0's based); QD 256 random writes at {} IOPS, \
         read back and verified at {} IOPS; queues (QID, entries) {queues_per_controller:?}",
        marks.value("queues ").unwrap_or_default(),
        marks.value("sqsize ").unwrap_or_default(),
        deep.write_iops,
        deep.read_iops,
    );
    server.stop();
}
