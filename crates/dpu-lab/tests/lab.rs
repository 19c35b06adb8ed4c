//! The lab's acceptance tests (run as root): after a test, passed or failed, no namespace, veth or
//! process of the lab remains.
#![allow(clippy::unwrap_used)] // Helpers of tests: a panic is a test failure.

use std::io::{BufRead, BufReader};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
const KILL_BASE: &str = "dlkill";

/// The running helper: killed on drop, and its lab cleaned up, also when the test fails.
struct Helper(std::process::Child);

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = cleanup_stale(KILL_BASE);
    }
}

#[test]
fn killed_owner_is_cleaned_up() {
    let root_before = root_ifnames();
    let mut helper = Helper(
        Command::new(helper_example())
            .arg(KILL_BASE)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let child = &mut helper.0;
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
            report = Some((prefix, pid));
            break;
        }
    }
    let (prefix, sleeper_pid) = report.expect("helper did not report its lab");
    child.kill().unwrap(); // SIGKILL: no Drop runs in the helper.
    child.wait().unwrap();

    // The crash left the lab behind, the sleeper still runs...
    assert_eq!(namespaces_of(&prefix).len(), 5);
    assert!(is_alive(sleeper_pid));

    // ...and cleanup_stale removes it, but no lab of a live owner (this process).
    let mine =
        Lab::up(LabOptions { prefix_base: KILL_BASE.to_owned(), ..Default::default() }).unwrap();
    let report = cleanup_stale(KILL_BASE).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert!(report.removed.iter().any(|n| n.starts_with(&prefix)), "{report:?}");
    assert!(report.live_prefixes.contains(&mine.prefix().to_owned()), "{report:?}");
    assert_eq!(namespaces_of(mine.prefix()).len(), 5, "a live lab was removed");
    // Cleanup kills with SIGKILL; the orphan is reaped by init, but a zombie is not alive.
    assert_gone(&prefix, &[sleeper_pid], &root_before);
    let mine_prefix = mine.prefix().to_owned();
    drop(mine);
    assert_gone(&mine_prefix, &[], &root_before);
}
