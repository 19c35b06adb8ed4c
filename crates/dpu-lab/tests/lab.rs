//! The lab's acceptance tests (run as root): after a test, passed or failed, no namespace, veth or
//! process of the lab remains.
#![allow(clippy::unwrap_used)] // Helpers of tests: a panic is a test failure.

use std::io::{BufRead, BufReader};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dpu_lab::loopdev::{LoopDevice, Mount, cleanup_stale_mounts};
use dpu_lab::{Lab, LabError, LabOptions, Role, SpawnOptions, cleanup_stale, is_alive, list_netns};

/// Interface names the lab uses; none of them may ever show up in the root namespace.
const LAB_IFNAMES: [&str; 4] = ["tmfifo_net0", "pf0vf0", "pf0vf1", "p0"];

fn root_ifnames() -> Vec<String> {
    std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn namespaces_of(prefix: &str) -> Vec<String> {
    list_netns().unwrap().into_iter().filter(|n| n.starts_with(&format!("{prefix}-"))).collect()
}

/// Asserts that nothing of the lab `prefix` remains: no namespace, no spawned process, no
/// interface of ours in the root namespace, no lock file.
fn assert_gone(prefix: &str, pids: &[u32], root_before: &[String]) {
    assert_eq!(namespaces_of(prefix), Vec::<String>::new(), "namespaces of {prefix} remain");
    for pid in pids {
        assert!(!is_alive(*pid), "process {pid} of lab {prefix} is still alive");
    }
    for name in root_ifnames() {
        assert!(
            !LAB_IFNAMES.contains(&name.as_str()) || root_before.contains(&name),
            "interface {name} appeared in the root namespace"
        );
    }
    assert!(
        !std::path::Path::new(&format!("{}/{prefix}.lock", dpu_lab::LOCK_DIR)).exists(),
        "lock file of {prefix} remains"
    );
}

fn ping(lab: &Lab, from: Role, to: &str) -> bool {
    // Bounded: at most 3 attempts of one echo with a 2 s deadline each.
    (0..3).any(|_| {
        let out = lab.exec_in(from, ["ping", "-n", "-c", "1", "-W", "2", to]).unwrap();
        out.status.success()
    })
}

fn sleeper(lab: &Lab, role: Role) -> dpu_lab::LabProcess {
    let mut cmd = Command::new("sleep");
    cmd.arg("600");
    lab.spawn_in(role, cmd).unwrap()
}

#[test]
fn up_ping_down_leaves_nothing() {
    let root_before = root_ifnames();
    let lab = Lab::up(LabOptions::default()).unwrap();
    let prefix = lab.prefix().to_owned();
    assert_eq!(namespaces_of(&prefix).len(), 5);
    assert!(ping(&lab, Role::Host, "192.168.100.2"), "host cannot ping the card over tmfifo");
    assert!(ping(&lab, Role::Dpu, "192.168.100.1"), "card cannot ping the host over tmfifo");
    assert!(ping(&lab, Role::Fabric, "198.51.100.1"), "fabric cannot ping the card's uplink");

    // Links exist where they belong, and are up.
    let links = lab.run_in(Role::Dpu, ["ip", "-o", "link", "show"]).unwrap();
    let links = String::from_utf8_lossy(&links.stdout);
    for name in ["tmfifo_net0@", "pf0vf0@", "pf0vf1@", "p0@"] {
        assert!(links.contains(name), "{name} missing in dpu ns: {links}");
    }
    for role in [Role::Vm1, Role::Vm2, Role::Fabric] {
        let out = lab.run_in(role, ["ip", "-o", "link", "show", "eth0"]).unwrap();
        assert!(String::from_utf8_lossy(&out.stdout).contains("state UP"), "{role} eth0 not up");
    }

    // A spawned process runs inside the namespace, in its own process group.
    let mut p = sleeper(&lab, Role::Dpu);
    let pid = p.pid();
    assert!(p.is_running());
    let out = Command::new("ip").args(["netns", "pids", &lab.ns_name(Role::Dpu)]).output().unwrap();
    let in_ns =
        String::from_utf8_lossy(&out.stdout).split_whitespace().any(|x| x == pid.to_string());
    assert!(in_ns, "spawned process is not in the dpu namespace");

    // A second process that forks a grandchild: teardown must get both.
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "sleep 600 & echo $!; wait"]);
    let mut q = lab.spawn_in_with(Role::Fabric, cmd, SpawnOptions::piped()).unwrap();
    let mut line = String::new();
    BufReader::new(q.take_stdout().unwrap()).read_line(&mut line).unwrap();
    let grandchild: u32 = line.trim().parse().unwrap();
    assert!(is_alive(grandchild));

    let pids = vec![pid, q.pid(), grandchild];
    let started = Instant::now();
    lab.down().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "teardown took {:?}", started.elapsed());
    drop((p, q));
    assert_gone(&prefix, &pids, &root_before);
}

#[test]
fn drop_on_panic_leaves_nothing() {
    let root_before = root_ifnames();
    let seen: Mutex<Option<(String, Vec<u32>)>> = Mutex::new(None);
    let result = catch_unwind(AssertUnwindSafe(|| {
        let lab = Lab::up(LabOptions::default()).unwrap();
        let p = sleeper(&lab, Role::Host);
        let q = sleeper(&lab, Role::Vm2);
        *seen.lock().unwrap() = Some((lab.prefix().to_owned(), vec![p.pid(), q.pid()]));
        // Keep the handles alive so only the lab's own teardown can stop them.
        std::mem::forget(p);
        std::mem::forget(q);
        panic!("test body fails while the lab is up");
    }));
    assert!(result.is_err());
    let (prefix, pids) = seen.lock().unwrap().take().unwrap();
    assert_gone(&prefix, &pids, &root_before);
}

#[test]
fn failed_up_removes_what_it_made() {
    let root_before = root_ifnames();
    for steps in [0, 3, 12, 20] {
        let opts = LabOptions { fail_after_steps: Some(steps), ..LabOptions::default() };
        match Lab::up(opts) {
            Err(LabError::Injected { steps: n, prefix }) => {
                assert_eq!(n, steps);
                assert_gone(&prefix, &[], &root_before);
            }
            other => panic!("expected an injected failure, got {other:?}"),
        }
    }
    for name in root_ifnames() {
        assert!(!LAB_IFNAMES.contains(&name.as_str()) || root_before.contains(&name));
    }
}

#[test]
fn bad_prefix_base_is_rejected() {
    let opts = LabOptions { prefix_base: "Bad-1".into(), ..LabOptions::default() };
    assert!(matches!(Lab::up(opts), Err(LabError::InvalidPrefixBase(_))));
    assert!(cleanup_stale("").is_err());
}

/// The `lab_then_hang` example, which `cargo test` builds next to the test binaries.
fn helper_example() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().and_then(|deps| deps.parent()).unwrap().join("examples/lab_then_hang");
    assert!(path.exists(), "{} is not built (cargo test builds examples)", path.display());
    path
}

/// Prefix base of the labs of `killed_owner_is_cleaned_up`: its cleanups touch no other test's.
const KILL_BASE: &str = dpu_lab::KILL_TEST_PREFIX_BASE;

/// `losetup -j FILE`: the loop devices attached to `file`, one line each.
fn loops_of(file: &Path) -> String {
    let out = Command::new("losetup").arg("-j").arg(file).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Whether something is mounted on `dir` (field 5 of /proc/self/mountinfo).
fn is_mounted(dir: &Path) -> bool {
    let dir = dir.to_str().unwrap();
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    info.lines().any(|l| l.split(' ').nth(4) == Some(dir))
}

/// The running helper: killed on drop, and what it made cleaned up, also when the test fails.
struct Helper {
    child: std::process::Child,
    image: PathBuf,
    mount_dir: PathBuf,
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = cleanup_stale(KILL_BASE);
        let _ = cleanup_stale_mounts();
        // Safety net for a failing test, so its temp dir can go.
        while is_mounted(&self.mount_dir) {
            if !Command::new("umount")
                .arg("--lazy")
                .arg(&self.mount_dir)
                .status()
                .unwrap()
                .success()
            {
                break;
            }
        }
        for line in loops_of(&self.image).lines() {
            if let Some((dev, _)) = line.split_once(':') {
                let _ = Command::new("losetup").arg("-d").arg(dev).status();
            }
        }
    }
}

#[test]
fn killed_owner_is_cleaned_up() {
    let root_before = root_ifnames();
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    std::fs::File::create(&image).unwrap().set_len(1 << 20).unwrap();
    let mount_dir = dir.path().join("mnt");
    std::fs::create_dir(&mount_dir).unwrap();
    let mut helper = Helper {
        child: Command::new(helper_example())
            .arg(KILL_BASE)
            .arg(&image)
            .arg(&mount_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        image: image.clone(),
        mount_dir: mount_dir.clone(),
    };
    let child = &mut helper.child;
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut report = None;
    for _ in 0..50 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(rest) = line.split_once("LAB ").map(|(_, r)| r) {
            let mut it = rest.split_whitespace();
            let prefix = it.next().unwrap().to_owned();
            let pid: u32 = it.next().unwrap().parse().unwrap();
            let device = it.next().unwrap().to_owned();
            report = Some((prefix, pid, device));
            break;
        }
    }
    let (prefix, sleeper_pid, device) = report.expect("helper did not report its lab");
    assert!(loops_of(&image).starts_with(&format!("{device}:")), "{}", loops_of(&image));
    assert!(is_mounted(&mount_dir));
    child.kill().unwrap(); // SIGKILL: no Drop runs in the helper.
    child.wait().unwrap();

    // The crash left the namespaces behind; the process it started dies with it, and the
    // kernel detaches the loop device once its last user (the helper) is gone.
    assert_eq!(namespaces_of(&prefix).len(), 5);
    let mut leftovers = Vec::new();
    let wait = Duration::from_secs(5);
    if !poll(wait, || !is_alive(sleeper_pid)) {
        leftovers.push(format!("process {sleeper_pid} outlived its killed parent"));
    }
    if !poll(wait, || loops_of(&image).is_empty()) {
        leftovers.push(format!("loop device attached after its owner died: {}", loops_of(&image)));
    }

    // ...and cleanup_stale removes the lab, but no lab of a live owner (this process).
    let mine =
        Lab::up(LabOptions { prefix_base: KILL_BASE.to_owned(), ..Default::default() }).unwrap();
    let report = cleanup_stale(KILL_BASE).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(report.removed.iter().any(|n| n.starts_with(&prefix)), "{report:?}");
    assert!(report.live_prefixes.contains(&mine.prefix().to_owned()), "{report:?}");
    assert_eq!(namespaces_of(mine.prefix()).len(), 5, "a live lab was removed");
    let mounts = cleanup_stale_mounts().unwrap();
    assert!(mounts.problems.is_empty(), "{mounts:?}");
    if is_mounted(&mount_dir) {
        leftovers.push(format!("{} still mounted after cleanup", mount_dir.display()));
    }
    assert!(leftovers.is_empty(), "the killed helper left behind: {leftovers:?}");
    assert_gone(&prefix, &[sleeper_pid], &root_before);
    let mine_prefix = mine.prefix().to_owned();
    drop(mine);
    assert_gone(&mine_prefix, &[], &root_before);
}

/// Polls `done` every 20 ms until it holds or `timeout` passes.
fn poll(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// A target that holds the device open keeps using it after the `LoopDevice` is dropped
/// (autoclear defers the detach to the last close), and the detach follows its close.
#[test]
fn loop_device_outlives_its_handle_only_while_a_target_holds_it() {
    use std::io::{Read, Seek, SeekFrom, Write};
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    std::fs::File::create(&image).unwrap().set_len(1 << 20).unwrap();
    let dev = LoopDevice::attach(&image, 4096).unwrap();
    let name = dev.path().file_name().unwrap().to_str().unwrap().to_owned();
    let block_size = std::fs::read_to_string(format!("/sys/block/{name}/queue/logical_block_size"));
    assert_eq!(block_size.unwrap().trim(), "4096", "the sector size survives setting autoclear");
    let mut target = std::fs::File::options().read(true).write(true).open(dev.path()).unwrap();
    drop(dev);

    assert!(!loops_of(&image).is_empty(), "detached while a target still had it open");
    let block = [0x5a_u8; 4096];
    target.write_all(&block).unwrap();
    target.sync_all().unwrap();
    let mut back = [0_u8; 4096];
    target.seek(SeekFrom::Start(0)).unwrap();
    target.read_exact(&mut back).unwrap();
    assert_eq!(back, block);
    assert_eq!(std::fs::read(&image).unwrap()[..4096], block, "the write reached the file");

    drop(target);
    assert!(poll(Duration::from_secs(5), || loops_of(&image).is_empty()), "{}", loops_of(&image));
}

/// A dropped `Mount` is unmounted and leaves no record; a live one's record is left alone
/// by the cleanup.
#[test]
fn mount_records_live_as_long_as_the_mount() {
    let dir = tempfile::tempdir().unwrap();
    let mount = Mount::new("ramfs", Path::new("dl-record-test"), dir.path()).unwrap();
    let canonical = std::fs::canonicalize(dir.path()).unwrap();
    let records = || -> Vec<String> {
        std::fs::read_dir(dpu_lab::loopdev::MOUNT_RECORD_DIR)
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
            .filter(|t| Path::new(t) == canonical)
            .collect()
    };
    assert_eq!(records().len(), 1);
    let report = cleanup_stale_mounts().unwrap();
    assert!(!report.unmounted.contains(&canonical), "{report:?}");
    assert!(is_mounted(&canonical), "a live mount was unmounted");
    drop(mount);
    assert!(!is_mounted(&canonical));
    assert_eq!(records(), Vec::<String>::new(), "the record outlived the mount");
}
