//! A persistent discovery controller of the unmodified Linux initiator in a QEMU guest
//! (Debian's amd64 kernel and nvme-cli, as in `linux_initiator.rs`): the host learns of
//! new subsystems without polling, as fleets that attach volumes on demand rely on.
//!
//! The guest keeps a discovery controller (`nvme discover -p`) and listens to the kernel's
//! uevents as udev does (busybox `uevent`). When the operator lets the guest's host NQN use
//! a new subsystem, the target sends a Discovery Log Page Change notice; the kernel turns it
//! into a `NVME_AEN=0x70f002` uevent on the discovery controller (the event nvme-cli's
//! `70-nvmf-autoconnect.rules` starts `nvme connect-all --device=…` on). The guest reads the
//! log again through that controller (`nvme discover --device`, which re-arms the notice),
//! finds the new subsystem and connects to it. When the operator withdraws the host's
//! access, a second notice follows and the log no longer lists it.
//!
//! The new subsystem has a second namespace only another host may see (its allowed
//! hosts): the guest's kernel does not show it. When the operator lets the guest see it,
//! the disk appears (the kernel rescans on the namespace notice); when it is taken away
//! again, the disk goes.
//!
//! The guest connects by the address it discovered through (slirp's host alias) rather
//! than `connect-all`: behind slirp's NAT the target sees, and its log reports, the
//! loopback address it serves on.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpu_lab::guest::{Guest, Marks, QemuConfig};
use dpu_nvmf::target::NamespaceAttrs;
use dpu_nvmf::{Server, Target, Volume};

fn hosts(nqns: &[&str]) -> BTreeSet<String> {
    nqns.iter().map(|h| (*h).to_owned()).collect()
}

const FIRST: &str = "nqn.2024-01.io.example.dpu:discovery-first";
const LATER: &str = "nqn.2024-01.io.example.dpu:discovery-later";
const GUEST_NQN: &str = "nqn.2014-08.org.nvmexpress:uuid:8c0e4b2a-61f7-4d3e-a5c9-2f7b1d6e0a94";
const DISCOVERY_NQN: &str = "nqn.2014-08.org.nvmexpress.discovery";
const OTHER_NQN: &str = "nqn.2014-08.org.example:discovery-other-host";
const DEADLINE: Duration = Duration::from_secs(600);

fn init_script(port: u16, modules: &[String]) -> String {
    let prelude = common::nvme_init_prelude(modules);
    format!(
        r#"{prelude}
T="-t tcp -a 192.0.2.2 -s {port} --hostnqn={GUEST_NQN}"
nvme discover $T -p > /tmp/d1 2>&1
mark discover rc=$?
DISC=
for c in /sys/class/nvme/*; do [ "$(cat $c/subsysnqn)" = "{DISCOVERY_NQN}" ] && DISC=$(basename $c); done
[ -n "$DISC" ] || fail "no persistent discovery controller"
mark persistent kato=$(cat /sys/class/nvme/$DISC/kato 2>/dev/null)
# The subsystems a discovery log lists, space-separated.
subsystems() {{ grep -E '^subnqn:' "$1" | awk '{{print $2}}' | grep -v '{DISCOVERY_NQN}' | sort | tr '\n' ' '; }}
mark log-1 $(subsystems /tmp/d1)
# Waits up to 20 s for the Nth notice.
awaitaen() {{ i=0; while [ $(wc -l < /tmp/aen) -lt $1 ] && [ $i -lt 200 ]; do usleep 100000; i=$((i+1)); done; }}
mark want-new-subsystem
awaitaen 1
mark aen-1 $(sed -n 1p /tmp/aen)
nvme discover $T --device=$DISC > /tmp/d2 2>&1
mark log-2 $(subsystems /tmp/d2)
nvme connect $T -n {LATER}
mark connect-later rc=$?
DEV=$(waitblk "nvme[0-9]+n1" 1) || fail "no namespace"
mark namespace $(cat /sys/block/$DEV/size)
NS2=$(echo $DEV | sed 's/n1$/n2/')
mark disks $(ls /sys/block | grep -c -E '^nvme[0-9]+n[0-9]+$')
mark want-namespace-2
waitblk "$NS2" 1 > /dev/null && mark namespace-2 $(cat /sys/block/$NS2/size)
mark want-namespace-2-hidden
waitblk "$NS2" 0 && mark namespace-2-gone
mark want-withdrawal
awaitaen 2
mark aen-2 $(sed -n 2p /tmp/aen)
nvme discover $T --device=$DISC > /tmp/d3 2>&1
mark log-3 $(subsystems /tmp/d3)
nvme disconnect-all
mark disconnect rc=$?
mark done
poweroff -f
sleep 10
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linux_learns_of_new_subsystems_through_a_persistent_discovery_controller() {
    let (cache, kernel) = common::guest_kernel(&[]);
    let t = Target::new();
    common::add_subsystem(&t, FIRST, "DPUDISC01", "dpu-nvmf discovery test", &[GUEST_NQN]);
    let server = Server::new(t.clone(), 4);
    let addr = common::loopback_listener(&server, 1).await;
    let initrd =
        common::nvme_initramfs(&cache, &kernel, "discovery", |m| init_script(addr.port(), m));
    let mut vm = Guest::spawn(&QemuConfig::new(kernel.vmlinuz.clone(), initrd)).unwrap();

    let mut marks = Marks::default();
    let deadline = Instant::now() + DEADLINE;
    while let Some(m) = common::next_mark(&mut vm, &mut marks, deadline) {
        match m.as_str() {
            "want-new-subsystem" => {
                common::add_subsystem(&t, LATER, "DPUDISC02", "dpu-nvmf discovery", &[GUEST_NQN]);
                let vol = Arc::new(Volume::ram("later", 512, 8 << 20).unwrap());
                t.add_namespace(LATER, 1, vol, [3; 16], [4; 16]).unwrap();
                let vol = Arc::new(Volume::ram("other's", 512, 16 << 20).unwrap());
                let only_other =
                    NamespaceAttrs { allowed_hosts: hosts(&[OTHER_NQN]), ..Default::default() };
                t.add_namespace_with(LATER, 2, vol, [5; 16], [6; 16], only_other).unwrap();
            }
            "want-namespace-2" => {
                t.set_allowed_hosts(LATER, 2, hosts(&[OTHER_NQN, GUEST_NQN])).unwrap();
            }
            "want-namespace-2-hidden" => {
                t.set_allowed_hosts(LATER, 2, hosts(&[OTHER_NQN])).unwrap()
            }
            "want-withdrawal" => t.set_hosts(LATER, false, BTreeSet::new()).unwrap(),
            _ => {}
        }
    }
    tokio::task::block_in_place(|| vm.wait_exit(Duration::from_secs(30)));
    let expect = [
        "discover rc=0".to_owned(),
        format!("log-1 {FIRST}"),
        "aen-1 nvme0 0x70f002".to_owned(),
        format!("log-2 {FIRST} {LATER}"),
        "connect-later rc=0".to_owned(),
        format!("namespace {}", (8 << 20) / 512),
        "disks 1".to_owned(),
        format!("namespace-2 {}", (16 << 20) / 512),
        "namespace-2-gone".to_owned(),
        "aen-2 nvme0 0x70f002".to_owned(),
        format!("log-3 {FIRST}"),
        "disconnect rc=0".to_owned(),
        "done".to_owned(),
    ];
    let expect: Vec<&str> = expect.iter().map(String::as_str).collect();
    let missing = marks.missing(&expect);
    assert!(missing.is_empty(), "missing marks {missing:?}; serial log:\n{}", vm.log().join("\n"));
    println!(
        "linux discovery: persistent discovery controller ({}); notice of the new subsystem {:?} after it was added, of the withdrawal {:?} after it",
        marks.value("persistent ").unwrap_or_default(),
        marks.between("want-new-subsystem", "aen-1").unwrap_or_default(),
        marks.between("want-withdrawal", "aen-2").unwrap_or_default(),
    );
    println!(
        "linux namespace masking: the namespace only another host saw appeared {:?} after the guest was allowed, and went {:?} after it was withdrawn",
        marks.between("want-namespace-2", "namespace-2 ").unwrap_or_default(),
        marks.between("want-namespace-2-hidden", "namespace-2-gone").unwrap_or_default(),
    );
    server.stop();
}
