//! Discovery referrals followed by the unmodified Linux initiator in a QEMU guest (Debian's
//! amd64 kernel and nvme-cli, as in `linux_initiator.rs`): one card's discovery port leads
//! a host to the subsystems of another card, as `nvme connect-all` does it.
//!
//! Two `dpu-nvmf` processes, each started from its TOML configuration, play two cards in
//! the lab: card A on the uplink of the dpu namespace (198.51.100.1), card B on the fabric
//! (198.51.100.2). Each has a discovery-only listener on 8009 that refers to the other's,
//! and an I/O listener on 4420. The guest runs in the fabric namespace, so slirp connects
//! from there and the addresses the discovery logs carry are the ones the guest reaches.
//!
//! The guest asks A's discovery port: `nvme discover` lists A's discovery subsystem itself
//! at that port (the current discovery subsystem, which returns the same log and takes
//! persistent connections), A's subsystem and a referral to B; `nvme connect-all` does
//! not connect to the first again, connects A's subsystem, follows the referral to B's discovery
//! controller, connects the subsystem B lets this host see (not the one it keeps for
//! another host), and stops there although B refers back to A. The guest then writes a
//! block through B's namespace, which lands in B's backing file, and reads it back. The
//! entries let hosts disable SQ flow control (TREQ bit 2, as Linux's nvmet), so
//! connect-all's controllers do (reads complete with their C2HData PDU alone). Card B
//! grants one I/O queue per controller (`max_io_queues`), and the two-vCPU guest, which
//! asks for two, connects one.

#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dpu_lab::guest::{Guest, Marks, QemuConfig};
use dpu_lab::{Lab, LabOptions, LabProcess, Role, SpawnOptions};

const GUEST_NQN: &str = "nqn.2014-08.org.nvmexpress:uuid:3f1c2a9e-7b4d-4e8a-9c61-d25e0b7a4f13";
const OTHER_NQN: &str = "nqn.2014-08.org.example:referrals-other-host";
const NQN_A: &str = "nqn.2024-01.io.example.dpu:card-a";
const NQN_B: &str = "nqn.2024-01.io.example.dpu:card-b";
const NQN_B_HIDDEN: &str = "nqn.2024-01.io.example.dpu:card-b-other-host";
const CARD_A: &str = "198.51.100.1";
const CARD_B: &str = "198.51.100.2";
const DEADLINE: Duration = Duration::from_secs(600);
/// Card B's namespace: 16 MiB of 512-byte blocks (card A's: 8 MiB).
const B_BLOCKS: u64 = (16 << 20) / 512;

/// One subsystem of a card: NQN, allowed host, volume size, backing file, I/O queue limit.
type CardSubsystem<'a> = (&'a str, &'a str, u64, &'a Path, u16);

/// A card's configuration: discovery on `ip`:8009 referring to `refer_to`:8009, I/O on
/// `ip`:4420, and `subsystems`.
fn card_config(ip: &str, refer_to: &str, subsystems: &[CardSubsystem<'_>]) -> String {
    let mut c = format!(
        "io_threads = 4\ndiscovery = \"{ip}:8009\"\ndiscovery_referrals = [\"{refer_to}:8009\"]\n\
         [[listeners]]\nport_id = 1\naddress = \"{ip}:4420\"\n"
    );
    for (i, (nqn, host, size, path, queues)) in subsystems.iter().enumerate() {
        c += &format!(
            "[[volumes]]\nname = \"v{i}\"\nkind = \"file\"\npath = \"{}\"\nsize = {size}\n\
             [[subsystems]]\nnqn = \"{nqn}\"\nserial = \"REF{i}\"\nhosts = [\"{host}\"]\n\
             max_io_queues = {queues}\n\
             [[subsystems.namespaces]]\nnsid = 1\nvolume = \"v{i}\"\n",
            path.display()
        );
    }
    c
}

/// Starts `dpu-nvmf` with `config` in the lab's namespace `role`, logging to `dir/name.log`, and
/// waits (bounded) until it serves its two listeners. Dropping the result stops it.
fn start_card(lab: &Lab, role: Role, dir: &Path, name: &str, config: &str) -> LabProcess {
    let path = dir.join(format!("{name}.toml"));
    fs::write(&path, config).unwrap();
    let log = dir.join(format!("{name}.log"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dpu-nvmf"));
    // JSON lines, with the queues' Connects.
    cmd.args(["--log-format", "json", "--config"])
        .arg(&path)
        .env("RUST_LOG", "info,dpu_nvmf::queue=debug");
    let out = SpawnOptions {
        stdin: Stdio::null(),
        stdout: Stdio::null(),
        stderr: fs::File::create(&log).unwrap().into(),
    };
    let card = lab.spawn_in_with(role, cmd, out).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = fs::read_to_string(&log).unwrap_or_default();
        if text.contains("discovery listener") && text.contains("NVMe/TCP listener") {
            return card;
        }
        assert!(Instant::now() < deadline, "card {name} did not start:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn init_script(modules: &[String]) -> String {
    let prelude = common::nvme_init_prelude(modules);
    format!(
        r#"{prelude}
A="-t tcp -a {CARD_A} -s 8009 --hostnqn={GUEST_NQN}"
nvme discover $A > /tmp/d 2>&1
mark discover rc=$?
mark entries $(grep -E '^(subtype|trsvcid|subnqn|traddr):' /tmp/d | tr -s ' ' | tr '\n' ';')
mark eflags $(grep -E '^eflags:' /tmp/d | tr -s ' ' | tr '\n' ';')
nvme connect-all $A > /tmp/c 2>&1
mark connect-all rc=$?
cat /tmp/c
mark subsystems $(cat /sys/class/nvme-subsystem/*/subsysnqn | sort | tr '\n' ' ')
i=0
while [ $(ls /sys/block | grep -c -E '^nvme[0-9]+n1$') -lt 2 ] && [ $i -lt 100 ]; do usleep 200000; i=$((i+1)); done
B=
for d in $(ls /sys/block | grep -E '^nvme[0-9]+n1$'); do [ "$(cat /sys/block/$d/size)" = {B_BLOCKS} ] && B=$d; done
mark disks $(for d in $(ls /sys/block | grep -E '^nvme[0-9]+n1$'); do cat /sys/block/$d/size; done | sort -n | tr '\n' ' ')
[ -n "$B" ] || fail "no namespace of card B"
head -c 4096 /dev/urandom > /tmp/blk
dd if=/tmp/blk of=/dev/$B bs=4096 count=1 conv=fsync 2>/dev/null
mark write-b rc=$? $(sha256sum < /tmp/blk | cut -c1-64)
echo 3 > /proc/sys/vm/drop_caches
mark read-b $(dd if=/dev/$B bs=4096 count=1 2>/dev/null | sha256sum | cut -c1-64)
nvme disconnect-all
mark disconnect rc=$?
mark done
poweroff -f
sleep 10
"#
    )
}

/// SHA-256 (hex) of the first 4 KiB of `file`, by the host's `sha256sum`.
fn first_block_sha256(file: &Path) -> String {
    let block = file.with_extension("first-block");
    let data = fs::read(file).unwrap();
    fs::write(&block, &data[..4096]).unwrap();
    let out = Command::new("sha256sum").arg(&block).output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linux_connect_all_follows_a_referral_to_another_card() {
    let (cache, kernel) = common::guest_kernel(&[("sha256sum", "coreutils")]);
    let lab = Lab::up(LabOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (disk_a, disk_b, disk_hidden) =
        (dir.path().join("a.img"), dir.path().join("b.img"), dir.path().join("hidden.img"));
    // Card B grants one I/O queue per controller; the two-vCPU guest asks for two.
    let a = card_config(CARD_A, CARD_B, &[(NQN_A, GUEST_NQN, 8 << 20, &disk_a, 32)]);
    let b = card_config(
        CARD_B,
        CARD_A,
        &[
            (NQN_B, GUEST_NQN, 16 << 20, &disk_b, 1),
            (NQN_B_HIDDEN, OTHER_NQN, 4 << 20, &disk_hidden, 32),
        ],
    );
    let _card_a = start_card(&lab, Role::Dpu, dir.path(), "card-a", &a);
    let _card_b = start_card(&lab, Role::Fabric, dir.path(), "card-b", &b);

    let initrd = common::nvme_initramfs(&cache, &kernel, "referrals", init_script);
    let config = QemuConfig {
        netns: Some(lab.ns_name(Role::Fabric)),
        ..QemuConfig::new(kernel.vmlinuz.clone(), initrd)
    };
    let mut vm = Guest::spawn(&config).unwrap();
    let mut marks = Marks::default();
    let deadline = Instant::now() + DEADLINE;
    while common::next_mark(&mut vm, &mut marks, deadline).is_some() {}
    tokio::task::block_in_place(|| vm.wait_exit(Duration::from_secs(30)));

    let log = || vm.log().join("\n");
    let entries = marks.value("entries ").unwrap_or_default().to_owned();
    assert!(entries.contains(&format!("subnqn: {NQN_A}")), "{entries}\n{}", log());
    // The referral: B's discovery service, by the discovery NQN.
    let referral =
        format!("trsvcid: 8009;subnqn: nqn.2014-08.org.nvmexpress.discovery;traddr: {CARD_B}");
    assert!(entries.contains(&referral), "{entries}");
    assert!(entries.contains("referral"), "SUBTYPE shown as a referral: {entries}");
    // The first entry: A's discovery service itself, at the port the guest asked.
    let itself = format!(
        "subtype: current discovery subsystem;trsvcid: 8009;subnqn: nqn.2014-08.org.nvmexpress.discovery;traddr: {CARD_A};"
    );
    assert!(entries.starts_with(&itself), "{entries}");
    let eflags = marks.value("eflags ").unwrap_or_default();
    assert!(
        eflags.starts_with(
            "eflags: explicit discovery connections, duplicate discovery information;"
        ),
        "EFLAGS of the current discovery subsystem (EPCSD, DUPRETINFO): {eflags}"
    );
    let expect = [
        "discover rc=0".to_owned(),
        "connect-all rc=0".to_owned(),
        format!("subsystems {NQN_A} {NQN_B}"),
        format!("disks {} {B_BLOCKS}", (8 << 20) / 512),
        "disconnect rc=0".to_owned(),
        "done".to_owned(),
    ];
    let expect: Vec<&str> = expect.iter().map(String::as_str).collect();
    let missing = marks.missing(&expect);
    assert!(missing.is_empty(), "missing marks {missing:?}; serial log:\n{}", log());
    let written = marks.value("write-b rc=0 ").unwrap_or_default().to_owned();
    assert_eq!(first_block_sha256(&disk_b), written, "the block landed in card B's file");
    assert_eq!(marks.value("read-b "), Some(written.as_str()), "and reads back through B");
    // The I/O queues each card's log shows connected: (with SQ flow control off, on).
    let io_queues = |card: &str| {
        let log = fs::read_to_string(dir.path().join(format!("{card}.log"))).unwrap();
        let queues = log.lines().filter(|l| l.contains("I/O queue connected"));
        let (off, on): (Vec<_>, Vec<_>) =
            queues.partition(|l| l.contains(r#""sqflow_disabled":true"#));
        (off.len(), on.len())
    };
    assert_eq!(io_queues("card-a"), (2, 0), "one queue per vCPU, SQ flow control off");
    assert_eq!(io_queues("card-b"), (1, 0), "B grants one");
    println!(
        "linux referrals: connect-all through card A's discovery port connected {NQN_A} and, by the referral, {NQN_B} ({:?} for discover and connect-all); the block written through B's namespace is in B's backing file; the guest connected 2 I/O queues to A, and to B the 1 it grants",
        marks.between("net-up", "connect-all rc=0").unwrap_or_default(),
    );
    lab.down().unwrap();
}
