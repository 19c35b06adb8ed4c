//! The unmodified Linux NVMe/TCP initiator against our target.
//!
//! Boots Debian's amd64 kernel (its `nvme-tcp.ko`) in qemu-system-x86_64 (TCG, no
//! KVM) with a small initramfs: busybox, nvme-cli and mke2fs with their shared
//! libraries, and the kernel modules for virtio-net, NVMe/TCP and ext4. The guest
//! reaches the target, which runs in this test process on 127.0.0.1, through QEMU's
//! user-mode network gateway (net 192.0.2.0/24, gateway 192.0.2.2).
//!
//! The guest's init script runs the scenario and prints `NVMF-MARK` lines; this test
//! reacts to some (namespace hot add/remove) and asserts on all of them:
//! `nvme discover` (discovery port and I/O port) lists the allowed subsystem only;
//! `nvme connect` without and with digests (and SQ flow control disabled, so reads
//! complete by the C2HData SUCCESS flag); `nvme list`/`id-ctrl`/`id-ns` show our
//! identity; mkfs.ext4, mount, write files, checksums verified after reconnecting; namespace hot add and remove seen
//! through asynchronous events; a 2 s keep-alive timeout drops the controller when the
//! guest goes silent. Two vCPUs, so Linux opens two I/O queues per controller.
//!
//! Tools are installed with apt-get if missing; the kernel package is downloaded
//! (`apt-get download`) and extracted into a cache under the target directory.
//! Nothing is loaded into the host kernel. QEMU is killed on every exit path.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpu_nvmf::target::{ListenerSpec, SubsystemSpec};
use dpu_nvmf::{Server, Target, Volume};
use tokio::io::{AsyncBufReadExt, BufReader};

const SUBNQN: &str = "nqn.2024-01.io.example.dpu:linux-guest";
const HIDDEN: &str = "nqn.2024-01.io.example.dpu:not-for-this-host";
const HOSTNQN: &str = "nqn.2014-08.org.nvmexpress:uuid:5f1e7a52-0d1b-4c4e-9a59-3c2a6b1d0e01";
const SERIAL: &str = "DPUQEMU0001";
const MODEL: &str = "dpu-nvmf qemu test";
/// Whole scenario, boot to power-off.
const DEADLINE: Duration = Duration::from_secs(900);

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Installs the tools the scenario needs if any is missing.
fn ensure_tools() {
    let tools = ["qemu-system-x86_64", "busybox", "nvme", "cpio", "mke2fs", "apt-get", "dpkg-deb"];
    if tools.iter().all(|t| have(t)) {
        return;
    }
    eprintln!("installing qemu-system-x86 busybox-static nvme-cli cpio e2fsprogs");
    run(Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .args(["qemu-system-x86", "busybox-static", "nvme-cli", "cpio", "e2fsprogs"])
        .env("DEBIAN_FRONTEND", "noninteractive"));
    for t in tools {
        assert!(have(t), "{t} still missing after apt-get install");
    }
}

/// Downloads and extracts the newest Debian `linux-image-<ver>-amd64` (cached).
/// Returns (vmlinuz, modules dir).
fn kernel(cache: &Path) -> (PathBuf, PathBuf) {
    fs::create_dir_all(cache).unwrap();
    let root = cache.join("kernel");
    let find = |root: &Path| -> Option<(PathBuf, PathBuf)> {
        let boot = fs::read_dir(root.join("boot")).ok()?;
        let vmlinuz = boot
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-")))?;
        let ver = vmlinuz.file_name()?.to_string_lossy().trim_start_matches("vmlinuz-").to_owned();
        let modules = root.join("lib/modules").join(ver);
        modules.join("kernel/drivers/nvme/host").is_dir().then_some((vmlinuz, modules))
    };
    if let Some(k) = find(&root) {
        return k;
    }
    let list = run(Command::new("apt-cache").args([
        "search",
        "--names-only",
        "^linux-image-[0-9.]+-[0-9]+-amd64$",
    ]));
    let mut pkgs: Vec<(Vec<u32>, String)> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(|p| {
            let nums = p
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .filter_map(|s| s.parse().ok())
                .collect();
            (nums, p.to_owned())
        })
        .collect();
    pkgs.sort();
    let (_, pkg) =
        pkgs.pop().expect("no linux-image-*-amd64 package in apt-cache (apt-get update?)");
    eprintln!("downloading {pkg}");
    let dl = cache.join("deb");
    let _ = fs::remove_dir_all(&dl);
    fs::create_dir_all(&dl).unwrap();
    run(Command::new("apt-get").arg("download").arg(&pkg).current_dir(&dl));
    let deb = fs::read_dir(&dl).unwrap().filter_map(Result::ok).map(|e| e.path()).next().unwrap();
    let _ = fs::remove_dir_all(&root);
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    let _ = fs::remove_dir_all(&dl);
    find(&root).expect("kernel package without vmlinuz or nvme modules")
}

/// Normalized module name of a `.ko` path.
fn module_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().trim_end_matches(".ko").replace('-', "_")
}

/// The `depends=` list from a module's `.modinfo` section.
fn module_deps(ko: &Path) -> Vec<String> {
    let bytes = fs::read(ko).unwrap();
    let key = b"depends=";
    let Some(pos) = bytes.windows(key.len()).position(|w| w == key) else { return Vec::new() };
    let rest = &bytes[pos + key.len()..];
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end])
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace('-', "_"))
        .collect()
}

/// Modules in load order (dependencies first) for the given roots.
fn module_load_order(modules: &Path, roots: &[&str]) -> Vec<PathBuf> {
    let mut index = HashMap::new();
    let mut stack = vec![modules.join("kernel")];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "ko") {
                index.insert(module_name(&p), p);
            }
        }
    }
    fn visit(
        name: &str,
        index: &HashMap<String, PathBuf>,
        seen: &mut BTreeSet<String>,
        out: &mut Vec<PathBuf>,
    ) {
        if !seen.insert(name.to_owned()) {
            return;
        }
        // Not in the index: built into the kernel.
        let Some(path) = index.get(name) else { return };
        for d in module_deps(path) {
            visit(&d, index, seen, out);
        }
        out.push(path.clone());
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for r in roots {
        visit(&r.replace('-', "_"), &index, &mut seen, &mut out);
    }
    out
}

/// Copies `bin` and the shared libraries `ldd` lists into `root`.
fn copy_with_libs(bin: &Path, root: &Path, dest: &str) {
    let copy = |from: &Path, to: &Path| {
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    };
    copy(bin, &root.join(dest.trim_start_matches('/')));
    let ldd = run(Command::new("ldd").arg(bin));
    for line in ldd.lines() {
        let path = match line.split("=>").nth(1) {
            Some(r) => r.split_whitespace().next(),
            None => line.split_whitespace().next().filter(|p| p.starts_with('/')),
        };
        if let Some(p) = path.filter(|p| p.starts_with('/')) {
            copy(Path::new(p), &root.join(p.trim_start_matches('/')));
        }
    }
}

fn which(tool: &str) -> PathBuf {
    let out = run(Command::new("sh").arg("-c").arg(format!("command -v {tool}")));
    fs::canonicalize(out.trim()).unwrap()
}

fn init_script(io_port: u16, disc_port: u16, modules: &[String]) -> String {
    let insmods: String =
        modules.iter().map(|m| format!("insmod /modules/{m} || fail insmod {m}\n")).collect();
    format!(
        r#"#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /mnt /run /etc/nvme
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mark() {{ echo "NVMF-MARK $*"; }}
fail() {{ mark FAIL "$*"; poweroff -f; sleep 10; }}
waitdev() {{
  # waitdev SUFFIX PRESENT(1|0): a namespace block device nvme*nSUFFIX appears/vanishes.
  i=0
  while [ $i -lt 300 ]; do
    d=$(ls /sys/block | grep -E -m1 "^nvme[0-9]+n$1\$")
    if [ "$2" = 1 ] && [ -n "$d" ]; then echo "$d"; return 0; fi
    if [ "$2" = 0 ] && [ -z "$d" ]; then return 0; fi
    usleep 200000
    i=$((i+1))
  done
  return 1
}}
mark boot
{insmods}
ip link set lo up
ip link set eth0 up
ip addr add 192.0.2.15/24 dev eth0
ip route add default via 192.0.2.2
T=192.0.2.2
Q=--hostnqn={HOSTNQN}
mark net-up

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
nvme id-ns /dev/$DEV > /tmp/idn
mark id-ns rc=$?
grep -E '^(nsze|ncap|nuse|nmic|nguid|lbaf)' /tmp/idn
grep -q '^nsze *: 0x20000' /tmp/idn && mark id-ns-size

START=$(date +%s)
mkfs.ext4 -q -F /dev/$DEV
mark mkfs rc=$?
mount -t ext4 /dev/$DEV /mnt
mark mount rc=$?
for i in 1 2 3 4; do dd if=/dev/urandom of=/mnt/f$i bs=64k count=$((i*8)) 2>/dev/null || fail dd; done
sync
(cd /mnt && sha256sum f1 f2 f3 f4) > /tmp/sums
cat /tmp/sums
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
umount /mnt

mark want-ns-add
NEW=$(waitdev 2 1) && mark ns-added $NEW
mark want-ns-remove
waitdev 2 0 && mark ns-removed

nvme disconnect -n {SUBNQN}
mark disconnect-2 rc=$?
waitdev 1 0 || fail "namespace still present after the second disconnect"

# Keep alive: a 2 s KATO, then silence (link down) until the target drops the controller.
nvme connect -t tcp -a $T -s {io_port} -n {SUBNQN} $Q --keep-alive-tmo=2 --ctrl-loss-tmo=30
mark connect-kato rc=$?
waitdev 1 1 > /dev/null || fail "no namespace with KATO"
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

/// Builds the initramfs; returns its path.
fn initramfs(cache: &Path, modules_dir: &Path, io_port: u16, disc_port: u16) -> PathBuf {
    let root = cache.join("initramfs-root");
    let _ = fs::remove_dir_all(&root);
    for d in ["bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "modules", "etc", "tmp"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::copy(which("busybox"), root.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
    copy_with_libs(&which("nvme"), &root, "/usr/sbin/nvme");
    copy_with_libs(&which("mke2fs"), &root, "/usr/sbin/mke2fs");
    std::os::unix::fs::symlink("mke2fs", root.join("usr/sbin/mkfs.ext4")).unwrap();
    let order = module_load_order(
        modules_dir,
        &["virtio_pci", "virtio_net", "crc32c_generic", "nvme-tcp", "ext4"],
    );
    let mut names = Vec::new();
    for m in &order {
        let n = m.file_name().unwrap().to_string_lossy().into_owned();
        fs::copy(m, root.join("modules").join(&n)).unwrap();
        names.push(n);
    }
    assert!(names.iter().any(|n| n == "nvme-tcp.ko"), "nvme-tcp.ko not found: {names:?}");
    let init = root.join("init");
    fs::write(&init, init_script(io_port, disc_port, &names)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&init, fs::Permissions::from_mode(0o755)).unwrap();
    let out = cache.join("initramfs.cpio");
    run(Command::new("sh")
        .arg("-c")
        .arg(format!("find . | cpio -o -H newc --quiet > '{}'", out.display()))
        .current_dir(&root));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linux_initiator_discovers_connects_formats_and_verifies() {
    ensure_tools();
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nvmf-linux");
    let (vmlinuz, modules) = kernel(&cache);

    // The target: one allowed subsystem with a 64 MiB RAM namespace, one hidden one.
    let t = Target::new();
    t.add_subsystem(SubsystemSpec {
        nqn: SUBNQN.into(),
        serial: SERIAL.into(),
        model: MODEL.into(),
        allow_any_host: false,
        hosts: BTreeSet::from([HOSTNQN.to_owned()]),
    })
    .unwrap();
    t.add_subsystem(SubsystemSpec {
        nqn: HIDDEN.into(),
        serial: "HIDDEN".into(),
        model: MODEL.into(),
        allow_any_host: false,
        hosts: BTreeSet::from(["nqn.2014-08.org.example:someone-else".to_owned()]),
    })
    .unwrap();
    let vol = Volume::ram("guest", 512, 64 << 20).unwrap();
    t.add_namespace(
        SUBNQN,
        1,
        Arc::new(vol),
        dpu_nvmf::stable_id(&[b"n1"]),
        dpu_nvmf::stable_id(&[b"u1"]),
    )
    .unwrap();
    let server = Server::new(t.clone(), 8);
    let io = server
        .add_listener(ListenerSpec {
            port_id: 1,
            addr: "127.0.0.1:0".parse().unwrap(),
            allow_hdgst: true,
            allow_ddgst: true,
        })
        .await
        .unwrap();
    let disc = server.add_discovery_listener("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let initrd = initramfs(&cache, &modules, io.port(), disc.port());

    let started = Instant::now();
    let mut child = tokio::process::Command::new("qemu-system-x86_64")
        .args(["-nographic", "-no-reboot", "-m", "512", "-smp", "2", "-accel", "tcg"])
        .arg("-kernel")
        .arg(&vmlinuz)
        .arg("-initrd")
        .arg(&initrd)
        .args(["-append", "console=ttyS0 panic=-1 quiet"])
        .args(["-netdev", "user,id=n0,net=192.0.2.0/24", "-device", "virtio-net-pci,netdev=n0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("qemu-system-x86_64");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut log = Vec::new();
    let mut marks: Vec<(String, Duration)> = Vec::new();
    let mut kato_drop = None;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let line = match tokio::time::timeout_at(deadline, lines.next_line()).await {
            Ok(Ok(Some(l))) => l,
            Ok(Ok(None)) | Ok(Err(_)) => break,
            Err(_) => {
                let _ = child.kill().await;
                panic!("scenario timed out; serial log:\n{}", log.join("\n"));
            }
        };
        let line = line.trim_end_matches('\r').to_owned();
        println!("guest: {line}");
        if let Some(m) = line.find("NVMF-MARK ").map(|i| &line[i + 10..]) {
            marks.push((m.to_owned(), started.elapsed()));
            match m {
                "want-ns-add" => {
                    let v = Volume::ram("hot", 4096, 16 << 20).unwrap();
                    t.add_namespace(SUBNQN, 2, Arc::new(v), [2; 16], [3; 16]).unwrap();
                }
                "want-ns-remove" => t.remove_namespace(SUBNQN, 2).unwrap(),
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
            if m == "done" || m.starts_with("FAIL") {
                log.push(line);
                break;
            }
        }
        log.push(line);
    }
    // QEMU exits on poweroff; do not wait forever.
    if tokio::time::timeout(Duration::from_secs(30), child.wait()).await.is_err() {
        let _ = child.kill().await;
    }
    let has = |m: &str| marks.iter().any(|(x, _)| x == m);
    let at = |m: &str| marks.iter().find(|(x, _)| x.starts_with(m)).map(|(_, t)| *t);
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
        "id-ns rc=0",
        "id-ns-size",
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
        "ns-removed",
        "disconnect-2 rc=0",
        "connect-kato rc=0",
        "link-down",
        "done",
    ];
    let missing: Vec<&str> = expect.iter().copied().filter(|m| !has(m)).collect();
    assert!(
        missing.is_empty() && !has("discover-lists-hidden"),
        "missing marks {missing:?} (hidden listed: {}); serial log:\n{}",
        has("discover-lists-hidden"),
        log.join("\n")
    );
    assert!(marks.iter().any(|(m, _)| m.starts_with("ns-added nvme")), "{marks:?}");
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
    // Two vCPUs: Linux opens two I/O queues per controller (admin + 2 connections per
    // connect), three connects and two discoveries.
    let conns = t.stats.connections.load(std::sync::atomic::Ordering::Relaxed);
    assert!(conns >= 11, "{conns} connections");
    // The digest connect disabled SQ flow control: reads completed by C2HData SUCCESS.
    let by_flag = t.stats.success_flag_completions.load(std::sync::atomic::Ordering::Relaxed);
    assert!(by_flag > 0, "no C2HData SUCCESS completions");
    let kato_drop = kato_drop.expect("controller still present 9 s after the guest went silent");
    assert!(t.stats.kato_expired.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    println!(
        "linux initiator: KATO 2 s controller dropped {kato_drop:?} after the guest link went down"
    );
    server.stop();
}
