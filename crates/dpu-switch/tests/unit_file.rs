//! The switch under the privileges its systemd unit gives it (`images/`): the capability
//! bounding set and no new privileges, applied with setpriv(1) as systemd applies them, in a
//! network namespace of its own. What the switch does by default must work there.

#![allow(clippy::unwrap_used)] // A panic in a test is its failure report.

use std::fs;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The switch's process; killed on drop, which also ends its network namespace.
struct Switch(Child);

impl Drop for Switch {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The nice value of the process's thread whose name starts with `name`, if it runs.
fn thread_nice(pid: u32, name: &str) -> Option<i64> {
    for task in fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let dir = task.ok()?.path();
        let comm = fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !comm.starts_with(name) {
            continue;
        }
        // Field 19 (nice), counted after the command name, which is in parentheses.
        let stat = fs::read_to_string(dir.join("stat")).ok()?;
        let after_comm = &stat[stat.rfind(')')? + 2..];
        return after_comm.split(' ').nth(16)?.parse().ok();
    }
    None
}

/// The workers' default nice value (-10, below other processes) needs CAP_SYS_NICE: the unit
/// must keep it, or on a card they run at 0 and the switch warns at every start.
/// Needs root, unshare(1) and setpriv(1).
#[test]
fn the_workers_get_their_default_nice_value_under_the_unit() {
    let has =
        |tool: &str| Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    let can_unshare =
        Command::new("unshare").args(["-n", "true"]).status().is_ok_and(|s| s.success());
    assert!(
        can_unshare && has("setpriv"),
        "this test needs root, unshare(1) and setpriv(1) (`cargo xtask test` runs as root)"
    );
    let unit = dpu_lab::unit::read("dpu-switch.service").unwrap();
    let setpriv = dpu_lab::unit::setpriv_prefix(&unit).expect("the unit bounds its capabilities");
    assert!(setpriv.iter().any(|a| a == "--no-new-privs"), "NoNewPrivileges=yes");

    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let child = Command::new("unshare")
        .arg("-n")
        .args(&setpriv)
        .arg(env!("CARGO_BIN_EXE_dpu-switch"))
        .arg("--socket")
        .arg(dir.path().join("switch.sock"))
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let switch = Switch(child);
    let pid = switch.0.id();
    let start = Instant::now();
    let warning = "cannot set the worker's nice value";
    // The worker sets its nice value when it starts, or warns that it cannot.
    loop {
        let log = fs::read_to_string(&log).unwrap_or_default();
        assert!(!log.contains(warning), "{setpriv:?}:\n{log}");
        if thread_nice(pid, "dpu-switch-work") == Some(-10) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "no worker at nice -10; log:\n{log}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
