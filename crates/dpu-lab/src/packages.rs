//! Installing Debian packages without starting their services.
//!
//! Some packages start a system daemon from their maintainer scripts: Open vSwitch's postinst
//! starts ovsdb-server and ovs-vswitchd in the root namespace (and loads the openvswitch
//! module), while the tests need only its binaries and run their own daemons inside a lab
//! namespace. [`ServiceHold::run`] is the one place that holds such services back; xtask's
//! prerequisites and the tests' fallback installer [`crate::guest::ensure_commands`] both
//! install through it.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::error::{LabError, Result};
use crate::proc::{self, run_ok};

/// Packages whose maintainer scripts would start a system service, with its systemd unit.
pub const NO_START: &[(&str, &str)] = &[("openvswitch-switch", "openvswitch-switch.service")];

/// Where [`ServiceHold::run`] holds services back: the real system's paths in [`SYSTEM`],
/// temporary ones and fake tools in tests.
#[derive(Debug, Clone, Copy)]
pub struct ServiceHold<'a> {
    /// Asked by invoke-rc.d and deb-systemd-invoke before a maintainer script starts a
    /// service; exit status 101 forbids it (init-system-helpers' README.policy-rc.d).
    pub policy_rc_d: &'a str,
    /// The `systemctl` that masks the units.
    pub systemctl: &'a str,
    /// A directory that exists when systemd is the running init (sd_booted(3)).
    pub systemd_run: &'a str,
}

/// The running system's policy-rc.d, systemctl and systemd directory.
pub const SYSTEM: ServiceHold<'static> = ServiceHold {
    policy_rc_d: "/usr/sbin/policy-rc.d",
    systemctl: "systemctl",
    systemd_run: "/run/systemd/system",
};

/// Limit for one `systemctl` command.
const SYSTEMCTL_TIMEOUT: Duration = Duration::from_secs(60);

impl ServiceHold<'_> {
    /// Runs `install` (of `pkgs`) so that the [`NO_START`] packages among `pkgs` start no
    /// service: their units masked first (under systemd; boots do not start them either) and
    /// a policy-rc.d forbidding starts while it runs, removed afterwards also on failure.
    /// Other packages install as they are.
    pub fn run<T, E: From<LabError>>(
        &self,
        pkgs: &[&str],
        install: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let units: Vec<&str> =
            NO_START.iter().filter(|(pkg, _)| pkgs.contains(pkg)).map(|(_, unit)| *unit).collect();
        if units.is_empty() {
            return install();
        }
        let mut version = Command::new(self.systemctl);
        version.arg("--version");
        if Path::new(self.systemd_run).is_dir() && run_ok(version, SYSTEMCTL_TIMEOUT).is_ok() {
            println!(
                "    masking {} first: the tests run their own daemons in a lab namespace, none \
                 in the root namespace (`systemctl unmask` undoes it)",
                units.join(" ")
            );
            let mut mask = Command::new(self.systemctl);
            mask.arg("mask").args(&units);
            run_ok(mask, SYSTEMCTL_TIMEOUT)?;
        }
        let _held = PolicyRcD::forbid_starts(Path::new(self.policy_rc_d), std::process::id())?;
        install()
    }
}

/// The second line of the policy-rc.d we write, followed by its writer's pid and start time.
const MARKER: &str = "# dpu-lab service hold, writer pid and start time:";

/// What xtask wrote before its policy-rc.d named its writer: left behind by a killed run, it
/// forbids every start for good, so it is replaced like a stale one of ours.
const UNCONDITIONAL: &str =
    "#!/bin/sh\n# cargo xtask: no service starts while it installs packages\nexit 101\n";

/// A policy-rc.d that forbids every service start while process `pid`, started at `start`
/// (field 22 of /proc/PID/stat), runs. A writer killed before it could remove the file (no
/// `Drop` runs on SIGKILL, and xtask's test path has no SIGINT handler) leaves a file that
/// allows every start and removes itself, instead of silently holding back every service of
/// every later install on the machine.
fn script(pid: u32, start: u64) -> String {
    format!(
        r#"#!/bin/sh
{MARKER} {pid} {start}
# Exit 101 forbids the start (init-system-helpers' README.policy-rc.d), but only while the
# process that wrote this file installs packages: a reused pid has another start time.
set -f
if stat=$(cat /proc/{pid}/stat 2>/dev/null); then
  # Past the command name (in parentheses, which it may contain) comes field 3, the state;
  # field 22 is the start time.
  set -- ${{stat##*)}}
  if [ "$1" != Z ] && [ "$1" != X ] && [ "${{20}}" = {start} ]; then
    exit 101
  fi
fi
# Its writer is gone: remove this file, unless a new writer has replaced it meanwhile.
{{ read -r _ && read -r mark; }} <"$0" && [ "$mark" = "{MARKER} {pid} {start}" ] && rm -f "$0"
exit 0
"#
    )
}

/// Whether `text` is a policy-rc.d of ours whose writer is gone.
fn stale(text: &str) -> bool {
    if text == UNCONDITIONAL {
        return true;
    }
    let Some(writer) = text.lines().nth(1).and_then(|l| l.strip_prefix(MARKER)) else {
        return false;
    };
    let mut words = writer.split_whitespace().map(str::parse::<u64>);
    match (words.next(), words.next()) {
        (Some(Ok(pid)), Some(Ok(start))) => {
            u32::try_from(pid).ok().and_then(proc::start_time).is_none_or(|now| now != start)
        }
        _ => false,
    }
}

/// A policy-rc.d forbidding every service start while its writer runs, removed when dropped;
/// or nothing, when one was there already (it is not ours to replace, unless it is a stale one
/// of ours).
struct PolicyRcD(Option<PathBuf>);

impl PolicyRcD {
    /// Writes the policy-rc.d at `path` for `writer` (a pid; this process outside tests).
    fn forbid_starts(path: &Path, writer: u32) -> Result<PolicyRcD> {
        let start = proc::start_time(writer).ok_or_else(|| {
            LabError::io(
                format!("reading /proc/{writer}/stat"),
                std::io::ErrorKind::NotFound.into(),
            )
        })?;
        if let Ok(meta) = path.symlink_metadata() {
            // Never through a symlink: only a file of ours is replaced.
            let ours = meta.is_file() && fs::read_to_string(path).is_ok_and(|t| stale(&t));
            if !ours {
                println!(
                    "    {} exists: left as it is, it decides which services start",
                    path.display()
                );
                return Ok(PolicyRcD(None));
            }
            println!("    {} was left by a run killed mid-install: replacing it", path.display());
            if let Err(e) = fs::remove_file(path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                return Err(LabError::io(format!("removing {}", path.display()), e));
            }
        }
        println!(
            "    writing {} (exit 101 while process {writer} runs: no service starts while it \
             installs), removed afterwards",
            path.display()
        );
        let creating = |e| LabError::io(format!("creating {}", path.display()), e);
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o755)
            .open(path)
            .map_err(creating)?;
        let held = PolicyRcD(Some(path.to_owned()));
        f.write_all(script(writer, start).as_bytes()).map_err(creating)?;
        Ok(held)
    }
}

impl Drop for PolicyRcD {
    fn drop(&mut self) {
        if let Some(path) = &self.0
            && let Err(e) = fs::remove_file(path)
        {
            println!("    could not remove {}: {e}; remove it by hand", path.display());
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An executable shell script `dir/name` that appends its arguments to `dir/name.log`
    /// and then runs `body`; returns its path.
    // Used by the tests that run on x86-64 only (see below).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub(crate) fn fake(dir: &Path, name: &str, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        let log = dir.join(format!("{name}.log"));
        fs::write(&path, format!("#!/bin/sh\necho \"$*\" >> {}\n{body}\n", log.display())).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    // Used by the tests that run on x86-64 only (see below).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub(crate) fn log(dir: &Path, name: &str) -> String {
        fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default()
    }

    /// Whether running `script` exits with status `code`.
    // Used by the tests that run on x86-64 only (see below).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    fn exits(script: &Path, code: i32) -> bool {
        crate::proc::spawn_unless_busy(&mut Command::new(script)).unwrap().wait().unwrap().code()
            == Some(code)
    }

    /// A policy-rc.d forbids starts while its writer runs. A writer killed before it could
    /// remove the file leaves one that allows starts and removes itself; a reused pid (the
    /// same pid, another start time) does not count as the writer.
    // Not under qemu-user (the aarch64 unit-test step): qemu emulates a process's own
    // /proc/self/stat, so the start time the writer reads of itself is not the one the
    // native shell running the policy script reads. The hold runs on the x86-64 build
    // host only, where these tests run in the workspace step.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn a_policy_rc_d_outlived_by_its_writer_allows_starts() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy-rc.d");
        let mut writer = Command::new("sleep").arg("600").spawn().unwrap();
        // Forgotten, not dropped: the writer is killed before it could remove the file.
        std::mem::forget(PolicyRcD::forbid_starts(&policy, writer.id()).unwrap());
        assert!(exits(&policy, 101), "a live writer's policy-rc.d allows starts");
        assert!(exits(&policy, 101), "once more");
        writer.kill().unwrap();
        writer.wait().unwrap();
        assert!(exits(&policy, 0), "a killed writer's policy-rc.d still forbids starts");
        assert!(!policy.exists(), "a killed writer's policy-rc.d stays");

        // This process's pid, but another start time: a process that reused the pid.
        let me = std::process::id();
        let start = proc::start_time(me).unwrap();
        for (s, code) in [(start + 1, 0), (start, 101)] {
            fs::write(&policy, script(me, s)).unwrap();
            fs::set_permissions(&policy, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
            assert!(exits(&policy, code), "start time {s} (ours {start}): not {code}");
        }
    }

    /// A stale policy-rc.d of ours (its writer gone; or the unconditional one xtask wrote
    /// before) is replaced by the next hold; a live writer's, and anyone else's, stays.
    #[test]
    fn a_stale_policy_rc_d_of_ours_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy-rc.d");
        let me = std::process::id();
        let start = proc::start_time(me).unwrap();
        for old in [UNCONDITIONAL.to_owned(), script(me, start + 1)] {
            fs::write(&policy, &old).unwrap();
            let held = PolicyRcD::forbid_starts(&policy, me).unwrap();
            assert_eq!(fs::read_to_string(&policy).unwrap(), script(me, start), "{old}");
            drop(held);
            assert!(!policy.exists());
        }
        let live = script(me, start);
        for theirs in [
            live.as_str(),
            "#!/bin/sh\nexit 101\n",
            "",
            "#!/bin/sh\n# dpu-lab service hold, writer pid and start time: x\n",
        ] {
            fs::write(&policy, theirs).unwrap();
            drop(PolicyRcD::forbid_starts(&policy, me).unwrap());
            assert_eq!(fs::read_to_string(&policy).unwrap(), theirs, "replaced");
        }
    }

    /// Installing Open vSwitch runs with its unit masked (under systemd) and a policy-rc.d
    /// forbidding starts, removed afterwards also when the install fails; an existing
    /// policy-rc.d is left alone; other packages install as they are.
    // Not under qemu-user (the aarch64 unit-test step): qemu emulates a process's own
    // /proc/self/stat, so the start time the writer reads of itself is not the one the
    // native shell running the policy script reads. The hold runs on the x86-64 build
    // host only, where these tests run in the workspace step.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn open_vswitch_installs_without_starting_its_service() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy-rc.d");
        let systemctl = fake(dir.path(), "systemctl", "exit 0");
        let p = policy.display().to_string();
        let d = dir.path().display().to_string();
        let hold = ServiceHold { policy_rc_d: &p, systemctl: &systemctl, systemd_run: &d };
        let e = hold
            .run(&["fio", "openvswitch-switch"], || -> Result<()> {
                let script = fs::read_to_string(&policy).unwrap();
                assert!(script.starts_with("#!/bin/sh") && script.contains("exit 101"), "{script}");
                assert!(exits(&policy, 101), "policy-rc.d allows");
                Err(LabError::Guest("apt-get failed".into()))
            })
            .unwrap_err();
        assert_eq!(e.to_string(), "guest: apt-get failed");
        assert!(!policy.exists(), "policy-rc.d left behind");
        let masks =
            || log(dir.path(), "systemctl").lines().filter(|l| l.starts_with("mask")).count();
        assert!(log(dir.path(), "systemctl").ends_with("\nmask openvswitch-switch.service\n"));

        // Someone else's policy-rc.d stays as it was; no systemd, no systemctl.
        fs::write(&policy, "theirs").unwrap();
        let hold = ServiceHold { systemd_run: "/nonexistent/systemd", ..hold };
        hold.run(&["openvswitch-switch"], || Ok::<_, LabError>(())).unwrap();
        assert_eq!(fs::read_to_string(&policy).unwrap(), "theirs");
        fs::remove_file(&policy).unwrap();
        assert_eq!(masks(), 1);

        // Other packages: nothing held back.
        hold.run(&["fio"], || {
            assert!(!policy.exists());
            Ok::<_, LabError>(())
        })
        .unwrap();
    }
}
