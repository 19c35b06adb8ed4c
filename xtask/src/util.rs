//! Small helpers shared by the xtask commands: running commands loudly, timing steps.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    crate::codegen::workspace_root()
}

/// The cargo that runs us (`$CARGO`), falling back to `cargo` on PATH.
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// The target directory all our cargo invocations share.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// A printable command line.
pub fn show(cmd: &Command) -> String {
    let mut s = String::new();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            s.push_str(&format!("{}={} ", k.to_string_lossy(), v.to_string_lossy()));
        }
    }
    s.push_str(&cmd.get_program().to_string_lossy());
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.contains(' ') || a.is_empty() {
            s.push_str(&format!(" '{a}'"));
        } else {
            s.push(' ');
            s.push_str(&a);
        }
    }
    s
}

/// Runs `cmd` with inherited stdio, printing it first; a non-zero exit is an error.
pub fn run(cmd: &mut Command) -> Result<()> {
    println!("    $ {}", show(cmd));
    let status = dpu_lab::spawn_unless_busy(cmd)
        .and_then(|mut child| child.wait())
        .with_context(|| format!("cannot start `{}`", show(cmd)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", show(cmd));
    }
    Ok(())
}

/// Runs `cmd` quietly and returns whether it succeeded (missing program = false).
pub fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    dpu_lab::spawn_unless_busy(cmd).and_then(|mut child| child.wait()).is_ok_and(|s| s.success())
}

/// Runs `cmd` quietly and returns its stdout if it succeeded.
pub fn stdout_of(cmd: &mut Command) -> Option<String> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::null());
    let out = dpu_lab::spawn_unless_busy(cmd).and_then(|child| child.wait_with_output()).ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `12.3s` / `4m05s`.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let s = d.as_secs();
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// A numbered sequence of steps that prints each one as it starts and ends, and fails fast.
pub struct Steps {
    name: &'static str,
    total: usize,
    done: usize,
    started: Instant,
    timings: Vec<(String, Duration)>,
}

impl Steps {
    pub fn new(name: &'static str, total: usize) -> Self {
        Steps { name, total, done: 0, started: Instant::now(), timings: Vec::new() }
    }

    /// Runs one step; on error prints which step failed and returns the error.
    pub fn step(&mut self, title: &str, f: impl FnOnce() -> Result<()>) -> Result<()> {
        let n = self.done + 1;
        println!("\n==> [{n}/{}] {title}", self.total);
        let t0 = Instant::now();
        match f() {
            Ok(()) => {
                let took = t0.elapsed();
                println!("<== [{n}/{}] {title}: ok ({})", self.total, human(took));
                self.timings.push((title.to_owned(), took));
                self.done += 1;
                Ok(())
            }
            Err(e) => {
                println!("<== [{n}/{}] {title}: FAILED after {}", self.total, human(t0.elapsed()));
                println!("\n{}: step {n}/{} \"{title}\" failed: {e:#}", self.name, self.total);
                self.summary();
                println!("xtask: {} passed, 1 failed", self.done);
                Err(e.context(format!("step \"{title}\" failed")))
            }
        }
    }

    fn summary(&self) {
        println!("\n{} step timings:", self.name);
        for (title, took) in &self.timings {
            println!("  {:>8}  {title}", human(*took));
        }
        println!("  {:>8}  total", human(self.started.elapsed()));
    }

    /// Prints the timings and the closing line.
    pub fn finish(self) {
        self.summary();
        println!("{}: all {} steps passed", self.name, self.done);
        // The plain closing line CI reads: "N passed, N failed", one word and a colon before it.
        println!("xtask: {} passed, 0 failed", self.done);
    }
}
