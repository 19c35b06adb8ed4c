//! NVMe reservations between the unmodified Linux initiator (nvme-cli's `resv-*`
//! commands through the kernel's passthrough, and block I/O) in a QEMU guest and a second
//! host, our initiator library in this test process, with another Host Identifier.
//!
//! The guest (Debian's amd64 kernel and nvme-cli, as in `linux_initiator.rs`) registers key
//! 0xAA and takes a Write Exclusive reservation; `nvme resv-report --eds` shows it. The other
//! host reads but cannot write (Reservation Conflict) and registers key 0xBB. It preempts
//! the guest and aborts its commands (Preempt and Abort): the guest's direct writes then fail, the report names the new holder, and the
//! guest's own acquire conflicts. When the other host clears the reservation, the guest
//! writes again. The preemption is announced to the guest as Linux's nvmet announces it:
//! an asynchronous event (the kernel's `NVME_AEN=0x800006` uevent) and a Reservation
//! Notification log page (`nvme resv-notif-log`).
//!
//! Then the namespace is write-protected, as a golden image shared read-only: the guest's
//! kernel marks the disk read-only when it re-reads Identify Namespace after the namespace
//! attribute notice, a write sent through the kernel's passthrough fails at the target
//! (Namespace Is Write Protected), reads work, and once the protection is lifted the disk
//! is writable again. The guest then sets Write Protect Until Power Cycle, which no host
//! can lift; the operator lifts it (`Target::clear_host_write_protection`, the API's
//! ClearHostWriteProtection) and the disk is writable again.
//!
//! Last, Persist Through Power Loss against the service binary (`dpu-nvmf --config
//! --state-dir`): the guest connects to it (reconnecting after 1 s), registers key 0xCC
//! asking that the registration persist (`--cptpl=3`) and takes Write Exclusive. The test
//! kills the service (SIGKILL) and starts it again: the guest's kernel reconnects, the
//! other host, once more a stranger to the new process, finds the guest's reservation
//! there (its write conflicts) and registers 0xDD, and the guest's report shows both
//! registrants with itself the holder; its writes work. Then the guest write-protects
//! the namespace (`nvme set-feature -f 0x84 -v 1`) and the service is killed again: after
//! the kernel's reconnect the namespace is still protected (Write Protect outlives a power
//! cycle, NVMe Base 2.0 §8.12), for the other host too. Write Protect Until Power Cycle
//! (`-v 2`) cannot be lifted (`-v 0` refused) and ends with the next restart.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use dpu_lab::guest::{Guest, Marks, QemuConfig};
use dpu_nvmf::initiator::{HostController, HostOptions};
use dpu_nvmf::target::HostWriteProtection;
use dpu_nvmf::{Server, Target, Volume};
use dpu_nvmf_proto::Status;
use dpu_nvmf_proto::sqe::io_opcode;

const SUBNQN: &str = "nqn.2024-01.io.example.dpu:reservations";
const GUEST_NQN: &str = "nqn.2014-08.org.nvmexpress:uuid:3d1f0c5e-7a2b-4c61-9e0d-5b8a4f2c6e17";
const GUEST_HOSTID: &str = "3d1f0c5e-7a2b-4c61-9e0d-5b8a4f2c6e17";
const OTHER_NQN: &str = "nqn.2014-08.org.example:reservations-other-host";
const OTHER_HOSTID: [u8; 16] = [0x0B; 16];
const NS_BYTES: u64 = 16 << 20;
const DEADLINE: Duration = Duration::from_secs(600);

const PTPL_NQN: &str = "nqn.2024-01.io.example.dpu:ptpl";

fn init_script(port: u16, ptpl_port: u16, modules: &[String]) -> String {
    let prelude = common::nvme_init_prelude(modules);
    format!(
        r#"{prelude}
nvme connect -t tcp -a 192.0.2.2 -s {port} -n {SUBNQN} --hostnqn={GUEST_NQN} --hostid={GUEST_HOSTID}
mark connect rc=$?
DEV=$(waitblk "nvme[0-9]+n1" 1) || fail "no namespace"
# The report's header and entries as "field:value" words.
report() {{ nvme resv-report /dev/$DEV -n 1 --eds > /tmp/rep 2>&1; grep -E '^[[:space:]]*(rtype|regctl|ptpls|rcsts|rkey)[[:space:]]*:' /tmp/rep | tr -d ' \t' | tr '\n' ' '; }}
wr() {{ dd if=/dev/urandom of=/dev/$DEV bs=4096 count=16 oflag=direct 2>/dev/null; }}
# Waits up to $2 tenths of a second (10 s without) until the report shows "$1" (the
# other host acts on the marks).
await() {{ i=0; while ! report | grep -q "$1" && [ $i -lt ${{2:-100}} ]; do usleep 100000; i=$((i+1)); done; }}
nvme resv-register /dev/$DEV -n 1 --nrkey=0xAA --rrega=0
mark register rc=$?
nvme resv-acquire /dev/$DEV -n 1 --crkey=0xAA --rtype=1 --racqa=0
mark acquire rc=$?
mark report-1 $(report)
wr
mark holder-write rc=$?
mark want-other-host
mark want-preempt
await rkey:bb
wr
mark write-after-preempt rc=$?
# The preemption is announced: an asynchronous event, and the notification log page.
i=0; while [ ! -s /tmp/aen ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done
mark aen $(cat /tmp/aen)
nvme resv-notif-log /dev/nvme0 > /tmp/notif 2>&1
rc=$?
cat /tmp/notif
mark notif-log rc=$rc $(grep -iE 'count|type|namespace|nsid' /tmp/notif | tr -d ' \t' | tr '\n' ' ')
mark report-2 $(report)
nvme resv-acquire /dev/$DEV -n 1 --crkey=0xAA --rtype=1 --racqa=0 > /dev/null 2>&1
mark acquire-unregistered rc=$?
mark want-clear
await rtype:0
wr
mark write-after-clear rc=$?
# Waits up to 10 s until the kernel shows the disk read-only ($1 = 1) or writable (0).
awaitro() {{ i=0; while [ "$(cat /sys/block/$DEV/ro)" != "$1" ] && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done; }}
mark want-read-only
awaitro 1
mark ro=$(cat /sys/block/$DEV/ro)
dd if=/dev/urandom of=/tmp/blk bs=4096 count=1 2>/dev/null
nvme write /dev/$DEV -n 1 -s 64 -c 7 -z 4096 -d /tmp/blk > /tmp/w 2>&1
rc=$?
cat /tmp/w
[ $rc -ne 0 ] && mark passthrough-write refused
dd if=/dev/$DEV of=/dev/null bs=4096 count=16 iflag=direct 2>/dev/null
mark read-only-read rc=$?
mark want-writable
awaitro 0
mark ro=$(cat /sys/block/$DEV/ro)
wr
mark write-after-writable rc=$?
# Write Protect Until Power Cycle, which no host can lift; the operator can.
nvme set-feature /dev/$DEV -f 0x84 -n 1 -v 2 > /dev/null 2>&1
mark host-wpupc rc=$?
awaitro 1
mark host-wpupc-ro=$(cat /sys/block/$DEV/ro)
mark want-operator-clear
awaitro 0
mark operator-cleared ro=$(cat /sys/block/$DEV/ro) $(nvme get-feature /dev/$DEV -f 0x84 -n 1 2>&1 | sed -n 's/.*Current value://p')
wr
mark write-after-operator-clear rc=$?
nvme disconnect -n {SUBNQN}
mark disconnect rc=$?
waitblk "nvme[0-9]+n1" 0
nvme connect -t tcp -a 192.0.2.2 -s {ptpl_port} -n {PTPL_NQN} --hostnqn={GUEST_NQN} --hostid={GUEST_HOSTID} --reconnect-delay=1 --ctrl-loss-tmo=60
mark ptpl-connect rc=$?
DEV=$(waitblk "nvme[0-9]+n1" 1) || fail "no namespace"
mark ptpl-$(nvme id-ns /dev/$DEV -n 1 | grep -E '^rescap' | tr -d ' \t')
nvme resv-register /dev/$DEV -n 1 --nrkey=0xCC --rrega=0 --cptpl=3
mark ptpl-register rc=$?
nvme resv-acquire /dev/$DEV -n 1 --crkey=0xCC --rtype=1 --racqa=0
mark ptpl-acquire rc=$?
mark ptpl-report-1 $(report)
mark want-power-loss
await regctl:2 300
mark ptpl-report-2 $(report)
wr
mark ptpl-holder-write rc=$?
nvme resv-register /dev/$DEV -n 1 --crkey=0xCC --rrega=1
mark ptpl-unregister rc=$?
# A host's Write Protect (Feature 84h) outlives the restart; Until Power Cycle ends with it.
reconnected() {{ dmesg | grep -c "Successfully reconnected"; }}
# Waits up to 60 s until the kernel has reconnected $1 times.
awaitreconnect() {{ i=0; while [ "$(reconnected)" -lt "$1" ] && [ $i -lt 600 ]; do usleep 100000; i=$((i+1)); done; }}
wps() {{ nvme get-feature /dev/$DEV -f 0x84 -n 1 2>&1 | sed -n 's/.*Current value://p'; }}
nvme set-feature /dev/$DEV -f 0x84 -n 1 -v 1 > /dev/null 2>&1
mark wp-set rc=$?
awaitro 1
mark wp-ro=$(cat /sys/block/$DEV/ro) $(wps)
n=$(reconnected)
mark want-restart-wp
awaitreconnect $((n+1))
mark wp-after-restart ro=$(cat /sys/block/$DEV/ro) $(wps)
nvme set-feature /dev/$DEV -f 0x84 -n 1 -v 2 > /dev/null 2>&1
mark wpupc-set rc=$? $(wps)
nvme set-feature /dev/$DEV -f 0x84 -n 1 -v 0 > /dev/null 2>&1
[ $? -ne 0 ] && mark wpupc-clear refused $(wps)
n=$(reconnected)
mark want-restart-wpupc
awaitreconnect $((n+1))
awaitro 0
mark wpupc-after-restart ro=$(cat /sys/block/$DEV/ro) $(wps)
wr
mark wpupc-write-after-restart rc=$?
nvme disconnect -n {PTPL_NQN}
mark ptpl-disconnect rc=$?
mark done
poweroff -f
sleep 10
"#
    )
}

/// A reservation command on namespace 1 with its keys; returns the status.
async fn reservation(c: &mut HostController, op: u8, cdw10: u32, keys: &[u64]) -> Status {
    c.io[0].reservation(op, 1, cdw10, keys).await.unwrap().cqe.status
}

async fn write(c: &mut HostController) -> Status {
    c.io[0].write(1, 64, &[0x5A; 4096], 512).await.unwrap().cqe.status
}

/// The service binary with a file volume and a state directory.
fn start_service(dir: &std::path::Path, port: u16) -> common::Service {
    let disk = dir.join("disk.img");
    let toml = format!(
        "[[listeners]]\nport_id = 1\naddress = \"127.0.0.1:{port}\"\n\
         [[volumes]]\nname = \"disk\"\nkind = \"file\"\npath = \"{}\"\nsize = {NS_BYTES}\n\
         [[subsystems]]\nnqn = \"{PTPL_NQN}\"\nserial = \"DPUPTPL01\"\nhosts = [\"{GUEST_NQN}\", \"{OTHER_NQN}\"]\n\
         [[subsystems.namespaces]]\nnsid = 1\nvolume = \"disk\"\n",
        disk.display()
    );
    common::Service::start(dir, &toml)
}

/// Connects as `opts` to the service at `addr`, retrying for up to 20 s while it starts.
async fn connect_when_up(addr: std::net::SocketAddr, opts: &HostOptions) -> HostController {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match HostController::connect(addr, PTPL_NQN, opts, 1).await {
            Ok(c) => return c,
            Err(e) => assert!(Instant::now() < deadline, "the service did not come up: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linux_and_another_host_share_a_namespace_by_reservation_then_read_only() {
    let (cache, kernel) = common::guest_kernel(&[]);
    let t = Target::new();
    let hosts = [GUEST_NQN, OTHER_NQN];
    common::add_subsystem(&t, SUBNQN, "DPURESV01", "dpu-nvmf reservations test", &hosts);
    let vol = Arc::new(Volume::ram("resv", 512, NS_BYTES).unwrap());
    t.add_namespace(SUBNQN, 1, vol, [7; 16], [8; 16]).unwrap();
    let ns = t.namespace(SUBNQN, 1).unwrap();
    // Namespace 1's failed commands before the preemption and after the guest's write that
    // follows it (the guest waits until its report shows the new holder).
    let mut failed = (0, 0);
    // Its failed commands when the protection was set and when it was lifted.
    let mut protected = (0, 0);
    // What the operator's clear replaced of the guest's protection.
    let mut operator_cleared = None;
    let server = Server::new(t.clone(), 4);
    let addr = common::loopback_listener(&server, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let ptpl_port = common::free_loopback_port();
    let ptpl_addr = std::net::SocketAddr::from(([127, 0, 0, 1], ptpl_port));
    let mut service = start_service(dir.path(), ptpl_port);
    let initrd = common::nvme_initramfs(&cache, &kernel, "reservations", |m| {
        init_script(addr.port(), ptpl_port, m)
    });
    let mut vm = Guest::spawn(&QemuConfig::new(kernel.vmlinuz.clone(), initrd)).unwrap();

    let opts =
        HostOptions { hostnqn: OTHER_NQN.into(), hostid: OTHER_HOSTID, ..HostOptions::default() };
    let mut other = None;
    // What the other host saw while the guest held the reservation.
    let mut seen = Vec::new();
    // What it saw of the service after the restart, and when that served again.
    let mut after_power_loss = Vec::new();
    let mut back_after = None;
    // The other host's writes after the restarts that follow the guest's protection.
    let mut after_restarts = Vec::new();
    let conflict = Status::RESERVATION_CONFLICT.with_dnr();
    let mut marks = Marks::default();
    let deadline = Instant::now() + DEADLINE;
    while let Some(m) = common::next_mark(&mut vm, &mut marks, deadline) {
        match m.as_str() {
            "want-other-host" => {
                let mut c = HostController::connect(addr, SUBNQN, &opts, 1).await.unwrap();
                let read = c.io[0].read(1, 0, 8, 512).await.unwrap().cqe.status;
                seen.push(("read", read));
                seen.push(("write", write(&mut c).await));
                let registered =
                    reservation(&mut c, io_opcode::RESERVATION_REGISTER, 0, &[0, 0xBB]).await;
                seen.push(("register", registered));
                other = Some(c);
            }
            "want-preempt" => {
                // Preempt and Abort (RACQA 2) the holder's key 0xAA, Write Exclusive: the
                // guest's writes were let through and finished before, so it completes.
                failed.0 = ns.stats.snapshot().errors;
                let c = other.as_mut().unwrap();
                let cdw10 = 2 | (1 << 8);
                let preempted =
                    reservation(c, io_opcode::RESERVATION_ACQUIRE, cdw10, &[0xBB, 0xAA]).await;
                seen.push(("preempt", preempted));
                seen.push(("write-as-holder", write(c).await));
            }
            "write-after-preempt rc=1" => failed.1 = ns.stats.snapshot().errors,
            "want-read-only" => {
                protected.0 = ns.stats.snapshot().errors;
                t.set_write_protected(SUBNQN, 1, true).unwrap();
            }
            "want-writable" => {
                protected.1 = ns.stats.snapshot().errors;
                t.set_write_protected(SUBNQN, 1, false).unwrap();
            }
            "want-operator-clear" => {
                operator_cleared = Some(t.clear_host_write_protection(SUBNQN, 1).unwrap());
            }
            "want-power-loss" => {
                let killed = Instant::now();
                service.kill_and_restart();
                let mut c = connect_when_up(ptpl_addr, &opts).await;
                back_after = Some(killed.elapsed());
                after_power_loss.push(("write", write(&mut c).await));
                let registered =
                    reservation(&mut c, io_opcode::RESERVATION_REGISTER, 0, &[0, 0xDD]).await;
                after_power_loss.push(("register", registered));
                other = Some(c);
            }
            // The guest write-protected the namespace (WPS 1, then 2) before each.
            m @ ("want-restart-wp" | "want-restart-wpupc") => {
                service.kill_and_restart();
                let mut c = connect_when_up(ptpl_addr, &opts).await;
                let after = if m.ends_with("wp") { "wp" } else { "wpupc" };
                after_restarts.push((after, write(&mut c).await));
                other = Some(c);
            }
            "want-clear" => {
                let c = other.as_mut().unwrap();
                seen.push((
                    "clear",
                    reservation(c, io_opcode::RESERVATION_RELEASE, 1, &[0xBB]).await,
                ));
            }
            _ => {}
        }
    }
    tokio::task::block_in_place(|| vm.wait_exit(Duration::from_secs(30)));
    let expect = [
        "connect rc=0",
        "register rc=0",
        "acquire rc=0",
        "report-1 rtype:1 regctl:1 ptpls:0 rcsts:1 rkey:aa",
        "holder-write rc=0",
        "write-after-preempt rc=1",
        "aen nvme0 0x800006",
        "report-2 rtype:1 regctl:1 ptpls:0 rcsts:1 rkey:bb",
        "acquire-unregistered rc=1",
        "write-after-clear rc=0",
        "ro=1",
        "passthrough-write refused",
        "read-only-read rc=0",
        "ro=0",
        "write-after-writable rc=0",
        "host-wpupc rc=0",
        "host-wpupc-ro=1",
        "operator-cleared ro=0 00000000",
        "write-after-operator-clear rc=0",
        "disconnect rc=0",
        "ptpl-connect rc=0",
        "ptpl-rescap:0xff",
        "ptpl-register rc=0",
        "ptpl-acquire rc=0",
        "ptpl-report-1 rtype:1 regctl:1 ptpls:1 rcsts:1 rkey:cc",
        // The other host (Host Identifier 0B..) sorts first.
        "ptpl-report-2 rtype:1 regctl:2 ptpls:1 rcsts:0 rkey:dd rcsts:1 rkey:cc",
        "ptpl-holder-write rc=0",
        "ptpl-unregister rc=0",
        "wp-set rc=0",
        "wp-ro=1 0x00000001",
        "wp-after-restart ro=1 0x00000001",
        "wpupc-set rc=0 0x00000002",
        "wpupc-clear refused 0x00000002",
        // nvme-cli prints a value of 0 without "0x".
        "wpupc-after-restart ro=0 00000000",
        "wpupc-write-after-restart rc=0",
        "ptpl-disconnect rc=0",
        "done",
    ];
    let missing = marks.missing(&expect);
    assert!(missing.is_empty(), "missing marks {missing:?}; serial log:\n{}", vm.log().join("\n"));
    let ok = Status::SUCCESS;
    assert_eq!(
        seen,
        [
            ("read", ok),
            ("write", conflict),
            ("register", ok),
            ("preempt", ok),
            ("write-as-holder", ok),
            ("clear", ok),
        ],
        "the other host"
    );
    assert_eq!(after_power_loss, [("write", conflict), ("register", ok)], "after the restart");
    let refused = Status::NAMESPACE_WRITE_PROTECTED.with_dnr();
    assert_eq!(after_restarts, [("wp", refused), ("wpupc", ok)], "the other host's writes");
    // The notification log page: Log Page Count 1, type 1 (Registration Preempted; nvme-cli
    // 2.3 labels type 1 "Empty Log Page", its names are one off), NSID 1.
    let notif = marks.value("notif-log ").unwrap_or_default();
    assert!(
        notif.starts_with("rc=0 LogPageCount:1 ResvNotifLogPageType:1") && notif.ends_with(":1"),
        "{notif}"
    );
    // The guest's write failed at the target (its Reservation Conflict), not on the way.
    assert!(failed.1 > failed.0, "{failed:?}");
    // The passthrough write failed at the target, the only command that did meanwhile.
    assert_eq!(protected.1, protected.0 + 1, "{protected:?}");
    assert_eq!(operator_cleared, Some(HostWriteProtection::UntilPowerCycle));
    println!(
        "linux reservations: guest held Write Exclusive ({}); the other host {seen:?}; guest after preemption: {}, {}",
        marks.value("report-1 ").unwrap_or_default(),
        marks.value("write-after-preempt ").unwrap_or_default(),
        marks.value("report-2 ").unwrap_or_default(),
    );
    println!("linux reservations: the guest was told of the preemption: {notif}");
    println!(
        "linux read-only: the guest's disk read-only {:?} after the protection, a passthrough write refused at the target (failed commands {protected:?}), writable {:?} after it was lifted",
        marks.between("want-read-only", "ro=1").unwrap_or_default(),
        marks.between("want-writable", "ro=0").unwrap_or_default(),
    );
    println!(
        "linux operator clear: the guest's Write Protect Until Power Cycle ({operator_cleared:?}) lifted by the operator, the disk writable {:?} after",
        marks.between("want-operator-clear", "operator-cleared").unwrap_or_default(),
    );
    println!(
        "linux PTPL: the service served again {back_after:?} after SIGKILL; the other host then {after_power_loss:?}; the guest saw {} {:?} after the restart began",
        marks.value("ptpl-report-2 ").unwrap_or_default(),
        marks.between("want-power-loss", "ptpl-report-2").unwrap_or_default(),
    );
    println!(
        "linux write protection across restarts: the guest saw {:?} and {:?}; the other host's writes {after_restarts:?}",
        marks.value("wp-after-restart ").unwrap_or_default(),
        marks.value("wpupc-after-restart ").unwrap_or_default(),
    );
    server.stop();
}
