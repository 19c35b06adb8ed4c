//! Native NVMe multipath of the unmodified Linux initiator against our target's
//! Asymmetric Namespace Access (ANA) reporting.
//!
//! Debian's amd64 kernel (its `nvme-tcp.ko`, native multipath built in) boots in
//! qemu-system-x86_64 with busybox and nvme-cli, as in `linux_initiator.rs`. The guest
//! connects to one subsystem through two listeners of the target (this test process, on
//! 127.0.0.1, reached through QEMU's user-mode gateway 192.0.2.2): one namespace head
//! (`nvme0n1`) with a path per controller. Then the operator's ANA changes reach the host
//! through the ANA change notice and the ANA log page:
//! - both paths start optimized in ANA group 1; a 1 MiB pattern is written through the head;
//! - listener B shows group 1 inaccessible: the host marks B's path inaccessible, A's stays;
//! - A inaccessible and B optimized at once: the host moves to B, and the pattern read
//!   through the head comes back intact, carried by B's controller alone (the target's
//!   per-controller counters);
//! - the namespace moves to ANA group 2, inaccessible through B: the host follows the
//!   group and keeps serving through A; I/O runs through a change of path without error.
//!
//! Nothing is loaded into the host kernel; QEMU is stopped on every exit path.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpu_lab::guest::{Guest, Marks, QemuConfig};
use dpu_nvmf::target::AnaState;
use dpu_nvmf::{Server, Target, Volume};

const SUBNQN: &str = "nqn.2024-01.io.example.dpu:multipath";
const HOSTNQN: &str = "nqn.2014-08.org.nvmexpress:uuid:7c0e2b8a-51f4-4d8e-8a0b-2f6d3e9c1a44";
const NS_BYTES: u64 = 64 << 20;
/// Port IDs of the two listeners (paths A and B).
const PORT_A: u16 = 1;
const PORT_B: u16 = 2;
/// Whole scenario, boot to power-off.
const DEADLINE: Duration = Duration::from_secs(600);

fn init_script(port_a: u16, port_b: u16, modules: &[String]) -> String {
    let prelude = common::nvme_init_prelude(modules);
    let connect = common::connect_two_paths(SUBNQN, HOSTNQN, [port_a, port_b], "");
    format!(
        r#"{prelude}
{connect}
HEAD=$(waitblk "nvme[0-9]+n1" 1) || fail "no namespace head"
mark head $HEAD
# The path device of namespace 1 of controller $1.
path_of() {{ waitblk "nvme[0-9]+c${{1#nvme}}n1" 1; }}
CA=$(ctrl_of {port_a}); CB=$(ctrl_of {port_b})
PA=$(path_of $CA) || fail "no path through A"
PB=$(path_of $CB) || fail "no path through B"
mark paths $PA $PB
mark cntlids $(cat /sys/class/nvme/$CA/cntlid) $(cat /sys/class/nvme/$CB/cntlid)
state() {{ cat /sys/block/$1/ana_state; }}
# Waits up to 10 s for path $1 to reach state $2; prints the state it has.
waitstate() {{ i=0; while [ "$(state $1)" != "$2" ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done; state $1; }}
mark initial $(waitstate $PA optimized) $(waitstate $PB optimized) group $(cat /sys/block/$PA/ana_grpid)
dd if=/dev/urandom of=/tmp/pat bs=64k count=16 2>/dev/null
dd if=/tmp/pat of=/dev/$HEAD bs=64k conv=fsync 2>/dev/null
mark write rc=$?

mark want-b-inaccessible
mark b-inaccessible $(waitstate $PB inaccessible) a $(state $PA)

mark want-swap
mark swapped $(waitstate $PA inaccessible) $(waitstate $PB optimized)
echo 3 > /proc/sys/vm/drop_caches
dd if=/dev/$HEAD of=/tmp/back bs=64k count=16 2>/dev/null && cmp /tmp/pat /tmp/back
mark read-through-b rc=$?
mark want-read-count

# Reads run while the namespace moves to group 2, which is optimized through A and
# inaccessible through B: the host changes path under them.
(i=0; while [ $i -lt 40 ]; do dd if=/dev/$HEAD of=/dev/null bs=64k count=16 iflag=direct 2>/dev/null || exit 1; i=$((i+1)); done) &
LOOP=$!
mark want-group-2
mark group-2 $(waitstate $PA optimized) $(waitstate $PB inaccessible) group $(cat /sys/block/$PA/ana_grpid)
wait $LOOP
mark reads-across-the-change rc=$?
echo 3 > /proc/sys/vm/drop_caches
dd if=/dev/$HEAD of=/tmp/back bs=64k count=16 2>/dev/null && cmp /tmp/pat /tmp/back
mark read-through-a rc=$?
nvme disconnect -n {SUBNQN}
mark disconnect rc=$?
waitblk "nvme[0-9]+n1" 0 || fail "namespace still present after disconnect"
mark done
poweroff -f
sleep 10
"#
    )
}

/// Builds the initramfs; returns its path.
/// A per-queue counter summed per CNTLID over the subsystem's live controllers.
fn by_controller(
    t: &Target,
    counter: fn(&dpu_nvmf::stats::QueueCounters) -> u64,
) -> BTreeMap<u16, u64> {
    let s = t.subsystem_stats().into_iter().find(|s| s.nqn == SUBNQN).unwrap();
    s.controllers.iter().map(|c| (c.cntlid, c.queues.iter().map(counter).sum())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linux_multipath_follows_ana_states() {
    let (cache, kernel) = common::guest_kernel(&[]);
    let t = Target::new();
    common::add_subsystem(&t, SUBNQN, "DPUMPATH01", "dpu-nvmf multipath test", &[HOSTNQN]);
    let vol = Arc::new(Volume::ram("mpath", 512, NS_BYTES).unwrap());
    t.add_namespace(SUBNQN, 1, vol, [5; 16], [6; 16]).unwrap();
    let server = Server::new(t.clone(), 4);
    let mut ports = Vec::new();
    for port_id in [PORT_A, PORT_B] {
        ports.push(common::loopback_listener(&server, port_id).await.port());
    }
    let initrd = common::nvme_initramfs(&cache, &kernel, "multipath", |m| {
        init_script(ports[0], ports[1], m)
    });
    let mut vm = Guest::spawn(&QemuConfig::new(kernel.vmlinuz.clone(), initrd)).unwrap();
    let states = |pairs: &[(u32, AnaState)]| pairs.iter().copied().collect::<BTreeMap<_, _>>();
    let mut marks = Marks::default();
    let mut read_counts = Vec::new();
    let mut failed_commands = None;
    let deadline = Instant::now() + DEADLINE;
    while let Some(m) = common::next_mark(&mut vm, &mut marks, deadline) {
        match m.as_str() {
            "want-b-inaccessible" => {
                t.set_ana_states(PORT_B, &states(&[(1, AnaState::Inaccessible)]), Instant::now())
                    .unwrap();
            }
            "want-swap" => {
                // Counted before the states change, which the guest waits for before it
                // reads.
                read_counts.push(by_controller(&t, |q| q.io.reads));
                t.set_ana_states(PORT_A, &states(&[(1, AnaState::Inaccessible)]), Instant::now())
                    .unwrap();
                t.set_ana_states(PORT_B, &states(&[]), Instant::now()).unwrap();
            }
            "want-read-count" => read_counts.push(by_controller(&t, |q| q.io.reads)),
            "reads-across-the-change rc=0" => {
                failed_commands = Some(by_controller(&t, |q| q.io.errors));
            }
            "want-group-2" => {
                t.set_ana_states(PORT_A, &states(&[]), Instant::now()).unwrap();
                t.set_ana_states(PORT_B, &states(&[(2, AnaState::Inaccessible)]), Instant::now())
                    .unwrap();
                t.set_ana_group(SUBNQN, 1, 2).unwrap();
            }
            _ => {}
        }
    }
    tokio::task::block_in_place(|| vm.wait_exit(Duration::from_secs(30)));
    let expect = [
        "connect-a rc=0",
        "connect-b rc=0",
        "initial optimized optimized group 1",
        "write rc=0",
        "b-inaccessible inaccessible a optimized",
        "swapped inaccessible optimized",
        "read-through-b rc=0",
        "group-2 optimized inaccessible group 2",
        "reads-across-the-change rc=0",
        "read-through-a rc=0",
        "disconnect rc=0",
        "done",
    ];
    let missing = marks.missing(&expect);
    assert!(missing.is_empty(), "missing marks {missing:?}; serial log:\n{}", vm.log().join("\n"));

    // The pattern read after the swap came through B's controller only.
    let cntlids = marks.value("cntlids ").unwrap();
    let ids: Vec<u16> = cntlids.split_whitespace().map(|x| x.parse().unwrap()).collect();
    let [a, b] = ids[..] else { panic!("{cntlids}") };
    let [before, after] = &read_counts[..] else { panic!("{read_counts:?}") };
    let delta = |id: u16| after.get(&id).unwrap_or(&0) - before.get(&id).unwrap_or(&0);
    println!(
        "linux multipath: paths {:?}; reads after the swap: controller A (cntlid {a}) {}, B (cntlid {b}) {}",
        marks.value("paths "),
        delta(a),
        delta(b)
    );
    assert!(delta(b) > 0 && delta(a) == 0, "{before:?} -> {after:?}");
    println!(
        "linux multipath: the host saw B inaccessible {:?} after the change, the swap {:?}, group 2 {:?}",
        marks.between("want-b-inaccessible", "b-inaccessible"),
        marks.between("want-swap", "swapped"),
        marks.between("want-group-2", "group-2"),
    );
    println!(
        "linux multipath: commands that failed by CNTLID (ANA statuses, retried on the other path) {:?}",
        failed_commands.unwrap()
    );
    server.stop();
}
