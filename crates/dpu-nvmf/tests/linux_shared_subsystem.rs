//! One subsystem exported by two cards to the unmodified Linux initiator: the
//! controller ID ranges (`SubsystemSpec::cntlids`, the API's `min_cntlid`/`max_cntlid`)
//! that let the host use both, and the failover they make possible.
//!
//! Two targets in this test process stand for two cards; each has the same subsystem
//! (NQN, serial, model) with namespace 1 on the same backing file and the same NGUID/UUID,
//! as cards in front of shared storage export it, and a listener of its own. Debian's
//! amd64 kernel boots in qemu-system-x86_64 with busybox and nvme-cli, as in
//! `linux_multipath.rs`, and:
//! - connects to both with the default ranges: both controllers get CNTLID 1 and the
//!   kernel refuses the second ("Duplicate cntlid"), so the host has one path only;
//! - after the operator gives card A 1-99 and card B 100-199 (in place), connects to both:
//!   one namespace head with a path through each card; a 1 MiB pattern goes through it;
//! - card A drops the subsystem (a card taken out of service): the pattern read through
//!   the head comes back intact, served by card B; the backing file holds it.
//!
//! Nothing is loaded into the host kernel; QEMU is stopped on every exit path.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use dpu_lab::guest::{Guest, Marks, QemuConfig};
use dpu_nvmf::{Server, Target, Volume};

const SUBNQN: &str = "nqn.2024-01.io.example.dpu:shared";
const HOSTNQN: &str = "nqn.2014-08.org.nvmexpress:uuid:2f7d9c41-0b6e-4a53-9e1d-6c8a4b3f5e10";
const NS_BYTES: u64 = 64 << 20;
/// Whole scenario, boot to power-off.
const DEADLINE: Duration = Duration::from_secs(300);

fn init_script(port_a: u16, port_b: u16, modules: &[String]) -> String {
    let prelude = common::nvme_init_prelude(modules);
    let same_ids = common::connect_two_paths(SUBNQN, HOSTNQN, [port_a, port_b], "same-ids-");
    let connect = common::connect_two_paths(SUBNQN, HOSTNQN, [port_a, port_b], "");
    format!(
        r#"{prelude}
{same_ids}
# Controllers of the subsystem (the namespace head is in the same directory).
ctrls() {{ ls /sys/class/nvme-subsystem/nvme-subsys*/ | grep -cE "^nvme[0-9]+$"; }}
mark same-ids-controllers $(ctrls)
nvme disconnect -n {SUBNQN}
waitblk "nvme[0-9]+n1" 0 || fail "namespace still present after disconnect"
mark want-ranges
{connect}
HEAD=$(waitblk "nvme[0-9]+n1" 1) || fail "no namespace head"
CA=$(ctrl_of {port_a}); CB=$(ctrl_of {port_b})
waitblk "nvme[0-9]+c${{CA#nvme}}n1" 1 >/dev/null || fail "no path through A"
waitblk "nvme[0-9]+c${{CB#nvme}}n1" 1 >/dev/null || fail "no path through B"
mark cntlids $(cat /sys/class/nvme/$CA/cntlid) $(cat /sys/class/nvme/$CB/cntlid)
mark controllers $(ctrls) heads $(ls /sys/block | grep -cE "^nvme[0-9]+n1$")
dd if=/dev/urandom of=/tmp/pat bs=64k count=16 2>/dev/null
dd if=/tmp/pat of=/dev/$HEAD bs=64k oflag=direct conv=fsync 2>/dev/null
mark write rc=$?
mark sha256 $(sha256sum /tmp/pat | cut -d' ' -f1)
mark want-card-a-gone
# Card A closed its controller: the host keeps only B's path live.
i=0; while [ "$(cat /sys/class/nvme/$CA/state)" = live ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
mark a-state $(cat /sys/class/nvme/$CA/state)
dd if=/dev/$HEAD of=/tmp/back bs=64k count=16 iflag=direct 2>/dev/null && cmp /tmp/pat /tmp/back
mark read-after-a-gone rc=$?
nvme disconnect -n {SUBNQN}
mark disconnect rc=$?
waitblk "nvme[0-9]+n1" 0 || fail "namespace still present after disconnect"
mark done
poweroff -f
sleep 10
"#
    )
}

/// A card: a target with the shared subsystem and namespace, served on a loopback port.
async fn card(backing: &std::path::Path) -> (Arc<Target>, Arc<Server>, u16) {
    let t = Target::new();
    common::add_subsystem(&t, SUBNQN, "DPUSHARED01", "dpu-nvmf shared test", &[HOSTNQN]);
    let vol = Arc::new(Volume::file("shared", backing, 512, NS_BYTES).unwrap());
    t.add_namespace(SUBNQN, 1, vol, [7; 16], [8; 16]).unwrap();
    let server = Server::new(t.clone(), 4);
    let port = common::loopback_listener(&server, 1).await.port();
    (t, server, port)
}

/// Reads the subsystem of `t` completed, through controllers live and gone.
fn reads(t: &Target) -> u64 {
    let s = t.subsystem_stats().into_iter().find(|s| s.nqn == SUBNQN);
    s.map_or(0, |s| s.counters.io.reads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linux_uses_one_subsystem_through_two_cards() {
    let (cache, kernel) = common::guest_kernel(&[]);
    let dir = tempfile::tempdir().unwrap();
    let backing = dir.path().join("shared.img");
    let (ta, server_a, port_a) = card(&backing).await;
    let (tb, server_b, port_b) = card(&backing).await;
    let initrd = common::nvme_initramfs(&cache, &kernel, "shared-subsystem", |m| {
        init_script(port_a, port_b, m)
    });
    let mut vm = Guest::spawn(&QemuConfig::new(kernel.vmlinuz.clone(), initrd)).unwrap();
    let mut marks = Marks::default();
    let mut b_reads_before = 0;
    let deadline = Instant::now() + DEADLINE;
    while let Some(m) = common::next_mark(&mut vm, &mut marks, deadline) {
        match m.as_str() {
            "want-ranges" => {
                ta.set_cntlid_range(SUBNQN, 1..=99).unwrap();
                tb.set_cntlid_range(SUBNQN, 100..=199).unwrap();
            }
            "want-card-a-gone" => {
                b_reads_before = reads(&tb);
                ta.remove_subsystem(SUBNQN).unwrap();
            }
            _ => {}
        }
    }
    tokio::task::block_in_place(|| vm.wait_exit(Duration::from_secs(30)));
    let log = vm.log().join("\n");
    let expect = [
        "same-ids-connect-a rc=0",
        "same-ids-controllers 1",
        "connect-a rc=0",
        "connect-b rc=0",
        "controllers 2 heads 1",
        "write rc=0",
        "read-after-a-gone rc=0",
        "disconnect rc=0",
        "done",
    ];
    let missing = marks.missing(&expect);
    assert!(missing.is_empty(), "missing marks {missing:?}; serial log:\n{log}");
    // With the same IDs the kernel refused card B's controller.
    assert!(!marks.has("same-ids-connect-b rc=0"), "{log}");
    assert!(log.contains("Duplicate cntlid 1"), "the kernel's reason; serial log:\n{log}");
    // With the ranges each card's controller has an ID of its own.
    let cntlids = marks.value("cntlids ").unwrap();
    let ids: Vec<u16> = cntlids.split_whitespace().map(|x| x.parse().unwrap()).collect();
    let [a, b] = ids[..] else { panic!("{cntlids}") };
    assert!((1..=99).contains(&a) && (100..=199).contains(&b), "{cntlids}");
    // The pattern read after card A went came from card B, and the file holds it.
    let b_reads = reads(&tb) - b_reads_before;
    assert!(b_reads >= 8, "card B served {b_reads} reads after card A went");
    let pattern = marks.value("sha256 ").unwrap();
    let file = std::fs::read(&backing).unwrap();
    let on_disk = ring::digest::digest(&ring::digest::SHA256, &file[..1 << 20]);
    let hex: String = on_disk.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, pattern.trim(), "the backing file holds the pattern");
    println!(
        "linux shared subsystem: same IDs -> {:?}; ranges -> cntlids {a} and {b}, {:?}; \
         card A gone -> host state {:?} after {:?}, card B served {b_reads} reads",
        marks.value("same-ids-connect-b "),
        marks.value("controllers "),
        marks.value("a-state "),
        marks.between("want-card-a-gone", "a-state"),
    );
    server_a.stop();
    server_b.stop();
}
