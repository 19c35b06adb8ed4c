//! Process plumbing: bounded command execution, process-group teardown, /proc scanning.
//!
//! Every process the lab starts is started by [`spawn_tied`], so it is killed when the test
//! process dies, also by SIGKILL when no `Drop` runs.
#![allow(unsafe_code)] // `pre_exec` (see the SAFETY note in `spawn_tied`).

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::prctl;
use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::{Pid, getpid, getppid};

use crate::error::{LabError, Result};

/// How long a process group gets between SIGTERM and SIGKILL.
pub(crate) const TERM_GRACE: Duration = Duration::from_secs(3);
/// How long we wait for processes to vanish after SIGKILL.
pub(crate) const KILL_WAIT: Duration = Duration::from_secs(5);

/// A printable command line.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Polls `done` with a growing sleep until it returns true or `timeout` passes.
pub(crate) fn poll_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

fn to_pid(pid: u32) -> Option<Pid> {
    i32::try_from(pid).ok().filter(|p| *p > 0).map(Pid::from_raw)
}

/// True once `pid` has exited (it may still be an unreaped zombie). Does not reap.
pub(crate) fn has_exited(pid: u32) -> bool {
    let Some(p) = to_pid(pid) else { return true };
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(p), flags) {
        Ok(WaitStatus::StillAlive) => false,
        Ok(_) => true,
        // Not our child (or already reaped): fall back to /proc.
        Err(_) => !is_alive(pid),
    }
}

/// One line of /proc/<pid>/stat, the fields we need (proc(5)).
struct Stat {
    state: char,
    pgrp: u32,
    /// Field 22, starttime: clock ticks after boot. A reused pid has another.
    start: u64,
}

fn read_stat(pid: u32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may itself contain spaces or ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    // Fields 6 to 21 (session to itrealvalue) come before the start time.
    let start = fields.nth(16)?.parse().ok()?;
    Some(Stat { state, pgrp, start })
}

fn running(s: &Stat) -> bool {
    s.state != 'Z' && s.state != 'X'
}

/// True if `pid` exists and is not a zombie.
pub fn is_alive(pid: u32) -> bool {
    read_stat(pid).is_some_and(|s| running(&s))
}

/// When `pid` started (field 22 of /proc/PID/stat, clock ticks after boot), if it runs.
/// With the pid it names one process: a pid reused later has another start time.
pub(crate) fn start_time(pid: u32) -> Option<u64> {
    read_stat(pid).filter(running).map(|s| s.start)
}

/// Live (non-zombie) processes whose process group is `pgid`.
pub(crate) fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(dir) = fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| read_stat(*pid).is_some_and(|s| s.pgrp == pgid && running(&s)))
        .collect()
}

fn signal_group(pgid: u32, sig: Signal) {
    if let Some(p) = to_pid(pgid) {
        // ESRCH just means the group is already empty.
        let _ = killpg(p, sig);
    }
}

pub(crate) fn signal_pid(pid: u32, sig: Signal) -> Result<(), Errno> {
    match to_pid(pid) {
        Some(p) => kill(p, sig),
        None => Err(Errno::ESRCH),
    }
}

/// Stops the process group led by `child` (TERM, grace, KILL) and reaps the leader.
///
/// The leader is reaped last, so its pid (the group id) cannot be reused while we signal the
/// group. `reaped` says the caller already reaped the leader; then only live members are signalled.
/// Returns a description of what survived, if anything.
pub(crate) fn stop_group(child: &mut Child, reaped: bool, grace: Duration) -> Option<String> {
    let pgid = child.id();
    if reaped && group_members(pgid).is_empty() {
        return None;
    }
    // Zombies do not count, so an exited but unreaped leader counts as gone.
    let all_gone = || group_members(pgid).is_empty();
    signal_group(pgid, Signal::SIGTERM);
    if !poll_until(grace, all_gone) {
        signal_group(pgid, Signal::SIGKILL);
        poll_until(KILL_WAIT, all_gone);
    }
    if !reaped {
        // The leader got SIGKILL at the latest, so this returns promptly unless the process is
        // stuck in the kernel; do not block forever in that case.
        if poll_until(KILL_WAIT, || has_exited(pgid)) {
            let _ = child.wait();
        }
    }
    let left = group_members(pgid);
    if left.is_empty() {
        None
    } else {
        Some(format!("process group {pgid} still has live members {left:?}"))
    }
}

/// A command to start and where to send the result.
type SpawnJob = (Command, mpsc::Sender<io::Result<Child>>);

/// The thread that starts every child: it lives as long as the process (its receiver never
/// sees all senders go, one stays in the static), because the kernel sends the parent-death
/// signal when the *thread* that forked a child exits (prctl(2), PR_SET_PDEATHSIG), and
/// callers' threads (tokio's blocking pool, short-lived helpers) may exit long before the
/// children they started are done.
fn spawner() -> &'static mpsc::Sender<SpawnJob> {
    static SPAWNER: OnceLock<mpsc::Sender<SpawnJob>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnJob>();
        // If the thread cannot start, `rx` is dropped and every spawn reports that.
        let _ = thread::Builder::new().name("dpu-lab-spawner".into()).spawn(move || {
            for (mut cmd, reply) in rx {
                let _ = reply.send(spawn_unless_busy(&mut cmd));
            }
        });
        tx
    })
}

/// Starts `cmd` so that the kernel kills it (SIGKILL) when this process dies, however it dies:
/// a killed test run leaves no child running. Only the process itself is tied; what it forks
/// is not (a daemon that detaches escapes, but one in a lab namespace is killed by
/// [`crate::cleanup_stale`]). `ip netns exec` execs its program without forking, so the tie
/// holds for it too.
pub(crate) fn spawn_tied(mut cmd: Command) -> io::Result<Child> {
    let parent = getpid();
    // SAFETY: the closure runs in the forked child before exec, where only async-signal-safe
    // work is allowed: it makes two system calls (prctl, getppid) and allocates nothing
    // (an `Errno` becomes an `io::Error` without allocating).
    unsafe {
        cmd.pre_exec(move || {
            prctl::set_pdeathsig(Signal::SIGKILL)?;
            // Had we died before the prctl, the signal would never come: do not run orphaned.
            if getppid() != parent {
                return Err(Errno::ESRCH.into());
            }
            Ok(())
        });
    }
    let (reply, result) = mpsc::channel();
    spawner().send((cmd, reply)).map_err(|_| io::Error::other("the spawner thread is gone"))?;
    result.recv().map_err(|_| io::Error::other("the spawner thread is gone"))?
}

/// Starts `cmd`, trying again for up to a second while its program is busy (ETXTBSY): a
/// script this process has just written (a test's fake tool, a policy-rc.d) stays busy
/// while a child another thread forked meanwhile still holds the descriptor it was written
/// through, until that child execs (close-on-exec closes it only then), and the kernel
/// refuses to execute a file open for writing.
pub fn spawn_unless_busy(cmd: &mut Command) -> io::Result<Child> {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match cmd.spawn() {
            Err(e)
                if e.raw_os_error() == Some(Errno::ETXTBSY as i32) && Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(5));
            }
            result => return result,
        }
    }
}

const READER_WAIT: Duration = Duration::from_secs(2);

fn spawn_reader<R: Read + Send + 'static>(source: Option<R>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut s) = source {
            let _ = s.read_to_end(&mut buf);
        }
        let _ = tx.send(buf);
    });
    rx
}

/// Runs `cmd` to completion with captured output, killing its whole process group if it takes
/// longer than `timeout`. Anything the command left running in its process group is killed too.
pub(crate) fn output_with_timeout(mut cmd: Command, timeout: Duration) -> Result<Output> {
    let desc = describe(&cmd);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    let mut child =
        spawn_tied(cmd).map_err(|source| LabError::Spawn { cmd: desc.clone(), source })?;
    let pgid = child.id();
    let out_reader = spawn_reader(child.stdout.take());
    let err_reader = spawn_reader(child.stderr.take());
    let finished = poll_until(timeout, || has_exited(pgid));
    // Leader exited (or timed out) but is not reaped yet: the group id is still ours.
    signal_group(pgid, Signal::SIGKILL);
    let status: ExitStatus = match child.wait() {
        Ok(s) => s,
        Err(source) => return Err(LabError::io(format!("waiting for `{desc}`"), source)),
    };
    // A process that escaped the group could keep the pipes open: do not wait for it forever.
    let stdout = out_reader.recv_timeout(READER_WAIT).unwrap_or_default();
    let stderr = err_reader.recv_timeout(READER_WAIT).unwrap_or_default();
    if !finished {
        return Err(LabError::Timeout { cmd: desc, timeout });
    }
    Ok(Output { status, stdout, stderr })
}

/// Runs a command and requires exit status 0.
pub(crate) fn run_ok(cmd: Command, timeout: Duration) -> Result<Output> {
    let desc = describe(&cmd);
    let out = output_with_timeout(cmd, timeout)?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(LabError::CommandFailed {
            cmd: desc,
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// `ip ARGS...`, requiring success.
pub(crate) fn ip<I, S>(args: I) -> Result<Output>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new("ip");
    cmd.args(args);
    run_ok(cmd, Duration::from_secs(20))
}

// Not under qemu-user (the aarch64 unit-test step), whose execve runs a script open for
// writing all the same; the x86-64 build host runs these in the workspace step.
#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// A script still open for writing somewhere cannot be executed (ETXTBSY), as when a
    /// child another thread forked holds the descriptor it was written through: it starts
    /// once that descriptor is closed.
    #[test]
    fn a_script_busy_for_a_moment_starts_once_it_is_not() {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tool");
        let mut writing =
            fs::OpenOptions::new().write(true).create_new(true).mode(0o755).open(&path).unwrap();
        writing.write_all(b"#!/bin/sh\nexit 7\n").unwrap();
        let busy = Command::new(&path).spawn().map(|_| ()).unwrap_err();
        assert_eq!(busy.raw_os_error(), Some(Errno::ETXTBSY as i32), "{busy}");
        let closer = thread::spawn(move || {
            thread::sleep(Duration::from_millis(100));
            drop(writing);
        });
        let status = spawn_unless_busy(&mut Command::new(&path)).unwrap().wait().unwrap();
        assert_eq!(status.code(), Some(7));
        closer.join().unwrap();
    }
}
