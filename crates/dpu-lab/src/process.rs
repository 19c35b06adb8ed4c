//! Long-running processes started inside a lab namespace.

use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::error::{LabError, Result};
use crate::proc::{self, TERM_GRACE};

/// Standard streams for [`crate::Lab::spawn_in_with`]. The default: stdin from `/dev/null`,
/// stdout and stderr inherited.
#[derive(Debug)]
pub struct SpawnOptions {
    /// The child's stdin.
    pub stdin: Stdio,
    /// The child's stdout.
    pub stdout: Stdio,
    /// The child's stderr.
    pub stderr: Stdio,
}

impl Default for SpawnOptions {
    fn default() -> Self {
        SpawnOptions { stdin: Stdio::null(), stdout: Stdio::inherit(), stderr: Stdio::inherit() }
    }
}

impl SpawnOptions {
    /// stdin from `/dev/null`, stdout and stderr piped (read them with
    /// [`LabProcess::take_stdout`] / [`LabProcess::take_stderr`]).
    pub fn piped() -> Self {
        SpawnOptions { stdin: Stdio::null(), stdout: Stdio::piped(), stderr: Stdio::piped() }
    }
}

#[derive(Debug)]
struct State {
    child: Child,
    /// The leader has been reaped (its exit status collected).
    reaped: bool,
    exit: Option<ExitStatus>,
    /// The whole group has been stopped; never signal it again (its id may be reused).
    stopped: bool,
}

/// Shared between a [`LabProcess`] handle and the [`crate::Lab`] that started it, so that whoever
/// goes first stops the process group.
#[derive(Debug)]
pub(crate) struct Tracked {
    pid: u32,
    cmd: String,
    state: Mutex<State>,
}

impl Tracked {
    pub(crate) fn new(child: Child, cmd: String) -> Arc<Self> {
        Arc::new(Tracked {
            pid: child.id(),
            cmd,
            state: Mutex::new(State { child, reaped: false, exit: None, stopped: false }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Stops the process group (TERM, then KILL after `grace`). Idempotent.
    pub(crate) fn stop(&self, grace: Duration) -> Option<String> {
        let mut st = self.lock();
        if st.stopped {
            return None;
        }
        let reaped = st.reaped;
        let problem = proc::stop_group(&mut st.child, reaped, grace);
        if !st.reaped
            && let Ok(Some(status)) = st.child.try_wait()
        {
            st.reaped = true;
            st.exit = Some(status);
        }
        if problem.is_none() {
            st.stopped = true;
        }
        problem.map(|p| format!("`{}` (pid {}): {p}", self.cmd, self.pid))
    }

    fn try_wait(&self) -> Result<Option<ExitStatus>> {
        let mut st = self.lock();
        if let Some(status) = st.exit {
            return Ok(Some(status));
        }
        // Reaping the leader while other group members live is fine: the kernel keeps the
        // group id reserved until the last member is gone.
        match st.child.try_wait() {
            Ok(Some(status)) => {
                st.reaped = true;
                st.exit = Some(status);
                Ok(Some(status))
            }
            Ok(None) => Ok(None),
            Err(source) => Err(LabError::io(format!("waiting for `{}`", self.cmd), source)),
        }
    }
}

/// A process started by [`crate::Lab::spawn_in`], running in its own process group inside a lab
/// namespace.
///
/// Dropping the handle stops the process group (SIGTERM, then SIGKILL after a grace period);
/// dropping or tearing down the lab does the same for every process it started.
#[derive(Debug)]
pub struct LabProcess {
    inner: Arc<Tracked>,
}

impl LabProcess {
    pub(crate) fn new(inner: Arc<Tracked>) -> Self {
        LabProcess { inner }
    }

    /// The pid of the process (also its process group id).
    pub fn pid(&self) -> u32 {
        self.inner.pid
    }

    /// The command line it was started with.
    pub fn command_line(&self) -> &str {
        &self.inner.cmd
    }

    /// Its exit status if it has exited, without blocking.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        self.inner.try_wait()
    }

    /// Waits at most `timeout` for it to exit; `Ok(None)` if it is still running.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        let mut result = Ok(None);
        proc::poll_until(timeout, || {
            result = self.inner.try_wait();
            !matches!(result, Ok(None))
        });
        result
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.try_wait(), Ok(None))
    }

    /// Stops the process group now: SIGTERM, then SIGKILL after `grace`.
    pub fn stop(&mut self, grace: Duration) -> Result<Option<ExitStatus>> {
        if let Some(problem) = self.inner.stop(grace) {
            return Err(LabError::Teardown { prefix: String::new(), problems: vec![problem] });
        }
        self.try_wait()
    }

    /// Takes the child's stdin pipe (with [`SpawnOptions`] `stdin: Stdio::piped()`).
    pub fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.inner.lock().child.stdin.take()
    }

    /// Takes the child's stdout pipe (with [`SpawnOptions::piped`]).
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.inner.lock().child.stdout.take()
    }

    /// Takes the child's stderr pipe (with [`SpawnOptions::piped`]).
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.inner.lock().child.stderr.take()
    }
}

impl Drop for LabProcess {
    fn drop(&mut self) {
        if let Some(problem) = self.inner.stop(TERM_GRACE) {
            eprintln!("dpu-lab: {problem}");
        }
    }
}
