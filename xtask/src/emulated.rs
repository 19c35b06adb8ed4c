//! The aarch64 unit tests under qemu-user, each test binary watched by a timer.
//!
//! qemu-user can hang a multi-threaded program's child between fork and exec: the child
//! inherits the emulator's own locks as another thread held them. std's `Command::spawn` then
//! waits for an exec that never comes. A CI run timed out that way (two dpu-lab tests that start
//! `xz` and a fake apt-get, stuck for an hour); the same binary passed 190 runs out of 190 here,
//! under load too, so it is the emulator's rare hang, not the tests'. The same tests run natively,
//! without a timer, in the tests step.
//!
//! So cargo runs xtask as the aarch64 runner: xtask runs qemu-user and kills it (its whole
//! process group) when a test binary runs past [`BINARY_TIMEOUT`], then runs that binary once
//! more. A binary that hangs twice fails the step, with its name; a binary that fails is never
//! run again.

use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::sys::prctl;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::prereq::AARCH64;
use crate::util::{self, run};

/// The emulator and its sysroot, as `.cargo/config.toml` names them for the aarch64 target (a
/// test checks the two agree).
pub const QEMU: &[&str] = &["qemu-aarch64-static", "-L", "/usr/aarch64-linux-gnu"];

/// Set in the step's environment: xtask, started by cargo as the runner, then watches the test.
const RUNNER_ENV: &str = "XTASK_QEMU_RUNNER";

/// The longest a test binary may run under qemu-user: the slowest took 35 s in the last CI run
/// on this kind of machine (dpud's 98 lib tests).
const BINARY_TIMEOUT: Duration = Duration::from_secs(300);

/// How often a running binary is checked.
const POLL: Duration = Duration::from_millis(100);

/// Runs the unit tests of the aarch64 build under qemu-user, xtask as cargo's runner.
pub fn run_unit_tests(cargo: &mut Command) -> Result<()> {
    let xtask = std::env::current_exe().context("cannot find the xtask executable")?;
    let xtask = xtask.to_str().filter(|p| !p.contains(char::is_whitespace)).with_context(|| {
        // cargo splits a runner given in the environment at whitespace.
        format!("the xtask executable's path {} cannot be a cargo runner", xtask.display())
    })?;
    let runner_var = format!("CARGO_TARGET_{}_RUNNER", AARCH64.to_uppercase().replace('-', "_"));
    run(cargo
        .args(["test", "--workspace", "--exclude", "xtask", "--lib", "--bins", "--target", AARCH64])
        .env(runner_var, xtask)
        .env(RUNNER_ENV, "1"))
}

/// The runner of [`run_unit_tests`]: when cargo started xtask as one, this runs the test binary
/// (the arguments) under qemu-user and exits with its status; it does not return.
pub fn act_as_runner_if_asked() {
    if std::env::var_os(RUNNER_ENV).is_none() {
        return;
    }
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let code = match run_watched(&args, BINARY_TIMEOUT) {
        Ok(status) => exit_code(status),
        Err(e) => {
            eprintln!("xtask as qemu-user runner: {e:#}");
            101
        }
    };
    std::process::exit(code);
}

/// Runs `test` (a test binary and its arguments) under qemu-user, watched.
fn run_watched(test: &[OsString], timeout: Duration) -> Result<ExitStatus> {
    let Some(binary) = test.first() else { bail!("no test binary to run") };
    let emulated = || {
        let mut cmd = Command::new(QEMU[0]);
        cmd.args(&QEMU[1..]).args(test);
        cmd
    };
    watch(&binary.to_string_lossy(), emulated, timeout)
}

/// Runs the command `make` builds; a run past `timeout` is killed and the command run once more.
fn watch(name: &str, make: impl Fn() -> Command, timeout: Duration) -> Result<ExitStatus> {
    for attempt in 1..=2 {
        if let Some(status) = run_once(make(), timeout)? {
            return Ok(status);
        }
        eprintln!(
            "xtask: {name} ran past {}s under qemu-user (attempt {attempt} of 2) and was killed; \
             qemu-user can hang a child of a multi-threaded program between fork and exec",
            timeout.as_secs()
        );
    }
    bail!("{name} hung twice under qemu-user ({}s each)", timeout.as_secs())
}

/// One run in a process group of its own: its exit status, or `None` if it ran past `timeout`
/// (then the whole group is killed, and the command reaped).
#[allow(unsafe_code)] // `pre_exec` (see the SAFETY note).
fn run_once(mut cmd: Command, timeout: Duration) -> Result<Option<ExitStatus>> {
    cmd.process_group(0);
    // SAFETY: between fork and exec the closure makes one system call and allocates nothing.
    unsafe {
        // A group of its own does not get the terminal's Ctrl-C: it dies with the runner.
        cmd.pre_exec(|| prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from));
    }
    let mut child = cmd.spawn().with_context(|| format!("cannot start `{}`", util::show(&cmd)))?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if started.elapsed() >= timeout {
            let pid = i32::try_from(child.id()).context("pid out of range")?;
            // The leader is not reaped yet, so the group id is still this run's.
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(POLL);
    }
}

/// The exit code a shell would show for `status`.
fn exit_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runner xtask wraps is the one `.cargo/config.toml` gives cargo for plain
    /// `cargo test --target aarch64-unknown-linux-gnu` runs.
    #[test]
    fn the_emulator_is_the_one_cargo_is_configured_with() {
        let config = util::root().join(".cargo/config.toml");
        let config: toml::Value =
            toml::from_str(&std::fs::read_to_string(config).unwrap()).unwrap();
        let runner = config["target"][AARCH64]["runner"].as_str().unwrap();
        assert_eq!(runner, QEMU.join(" "));
    }

    /// A binary that hangs is killed and run once more; one that fails is reported at once.
    #[test]
    fn a_hang_is_killed_and_retried_and_a_failure_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let tries = dir.path().join("tries");
        let tries_arg = OsString::from(&tries);
        // qemu-user runs only aarch64 binaries, so the watch is tested on `sh` directly.
        let sh = |script: &'static str| {
            let tries = tries_arg.clone();
            move || {
                let mut cmd = Command::new("sh");
                cmd.args(["-c", script, "sh"]).arg(&tries);
                cmd
            }
        };
        let hang_once = sh("echo x >> \"$1\"; [ $(wc -l < \"$1\") -ge 2 ] || sleep 30");
        let status = watch("hang-once", hang_once, Duration::from_secs(1)).unwrap();
        assert!(status.success(), "{status}");
        assert_eq!(std::fs::read_to_string(&tries).unwrap().lines().count(), 2);

        std::fs::remove_file(&tries).unwrap();
        let fail = sh("echo x >> \"$1\"; exit 3");
        assert_eq!(watch("fail", fail, Duration::from_secs(5)).unwrap().code(), Some(3));
        assert_eq!(std::fs::read_to_string(&tries).unwrap().lines().count(), 1);

        let hang = sh("sleep 30");
        let started = Instant::now();
        let e = watch("hang", hang, Duration::from_millis(500)).unwrap_err();
        assert!(e.to_string().contains("hung twice"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
