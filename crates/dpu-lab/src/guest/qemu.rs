//! A QEMU guest on the serial console: started with user-mode networking, read line by line
//! with deadlines, killed on every exit path.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use super::{GUEST_NET, MARK};
use crate::error::{LabError, Result};
use crate::proc::{TERM_GRACE, describe, poll_until, spawn_tied, stop_group};

/// How a guest is started.
#[derive(Debug, Clone)]
pub struct QemuConfig {
    /// The kernel image.
    pub kernel: PathBuf,
    /// The initramfs.
    pub initrd: PathBuf,
    /// Guest memory in MiB (the initramfs is unpacked into it).
    pub memory_mib: u32,
    /// vCPUs; Linux's NVMe/TCP host opens one I/O queue per vCPU.
    pub cpus: u32,
    /// Run QEMU inside this network namespace (`ip netns exec`): slirp then connects from there.
    pub netns: Option<String>,
    /// Print every serial line with this prefix as it arrives.
    pub echo: Option<String>,
}

impl QemuConfig {
    /// Two vCPUs, 512 MiB, no namespace, serial lines echoed as `guest: ...`.
    pub fn new(kernel: PathBuf, initrd: PathBuf) -> Self {
        QemuConfig {
            kernel,
            initrd,
            memory_mib: 512,
            cpus: 2,
            netns: None,
            echo: Some("guest: ".into()),
        }
    }

    /// The command line: TCG (no KVM needed), no reboot, serial console on stdio, a virtio NIC
    /// on slirp with `net=` in a documentation range. The vCPUs take turns on one TCG thread:
    /// with a thread each, a vCPU could run code another had just patched (the kernel flips
    /// static keys with int3 breakpoints, e.g. when its random generator becomes ready) from a
    /// stale translation, and the guest died of "Oops: int3" in `urandom_read_iter`. The
    /// guests are I/O-bound, and on two host cores they run no slower this way.
    fn command(&self) -> Command {
        let mut cmd = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "qemu-system-x86_64"]);
                c
            }
            None => Command::new("qemu-system-x86_64"),
        };
        cmd.args(["-nographic", "-no-reboot", "-accel", "tcg,thread=single"])
            .arg("-m")
            .arg(self.memory_mib.to_string())
            .arg("-smp")
            .arg(self.cpus.to_string())
            .arg("-kernel")
            .arg(&self.kernel)
            .arg("-initrd")
            .arg(&self.initrd)
            .args(["-append", "console=ttyS0 panic=-1 quiet"])
            .arg("-netdev")
            .arg(format!("user,id=n0,net={GUEST_NET}"))
            .args(["-device", "virtio-net-pci,netdev=n0"]);
        cmd
    }
}

/// A running guest. Dropping it stops QEMU (TERM, then KILL).
#[derive(Debug)]
pub struct Guest {
    child: Child,
    reaped: bool,
    lines: Receiver<String>,
    log: Vec<String>,
    echo: Option<String>,
    started: Instant,
}

/// `line` without terminal control sequences (the firmware and the kernel reset the console:
/// `ESC c`, `ESC [ ... letter`) and other control characters.
fn strip_escapes(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next_if_eq(&'[').is_some() {
                // CSI: parameters and intermediates up to a final byte in @..~.
                while chars.next().is_some_and(|c| !('@'..='~').contains(&c)) {}
            } else {
                chars.next();
            }
        } else if !c.is_control() || c == '\t' {
            out.push(c);
        }
    }
    out
}

/// Forwards the lines of `source` (with `tag` in front) until it ends.
fn forward_lines<R: Read + Send + 'static>(source: R, tag: &'static str, tx: Sender<String>) {
    thread::spawn(move || {
        let mut reader = BufReader::new(source);
        let mut buf = Vec::new();
        while reader.read_until(b'\n', &mut buf).is_ok_and(|n| n > 0) {
            let line = String::from_utf8_lossy(&buf);
            if tx.send(format!("{tag}{}", strip_escapes(&line))).is_err() {
                break;
            }
            buf.clear();
        }
    });
}

impl Guest {
    /// Starts QEMU in its own process group, tied to this process: the kernel kills it when
    /// the process dies, also by SIGKILL.
    pub fn spawn(config: &QemuConfig) -> Result<Guest> {
        let mut cmd = config.command();
        let desc = describe(&cmd);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
        let mut child = spawn_tied(cmd).map_err(|source| LabError::Spawn { cmd: desc, source })?;
        let (tx, lines) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            forward_lines(out, "", tx.clone());
        }
        if let Some(err) = child.stderr.take() {
            forward_lines(err, "qemu stderr: ", tx);
        }
        Ok(Guest {
            child,
            reaped: false,
            lines,
            log: Vec::new(),
            echo: config.echo.clone(),
            started: Instant::now(),
        })
    }

    /// Time since QEMU started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Everything the guest printed so far (serial console and QEMU's stderr).
    pub fn log(&self) -> &[String] {
        &self.log
    }

    /// The last `n` lines of the log, one string.
    pub fn log_tail(&self, n: usize) -> String {
        self.log[self.log.len().saturating_sub(n)..].join("\n")
    }

    /// The next mark line's text (after `GUEST-MARK `), reading until `deadline`. `Ok(None)`
    /// when QEMU's output ended (the guest powered off or QEMU died).
    pub fn next_mark(&mut self, deadline: Instant) -> Result<Option<String>> {
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            let line = match self.lines.recv_timeout(wait) {
                Ok(line) => line,
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
                Err(RecvTimeoutError::Timeout) => {
                    return Err(LabError::GuestDeadline {
                        after: self.elapsed(),
                        tail: self.log_tail(40),
                    });
                }
            };
            if let Some(prefix) = &self.echo {
                println!("{prefix}{line}");
            }
            // The console may put escape sequences before the first mark of a line.
            let mark = line.find(MARK).map(|i| line[i + MARK.len()..].trim().to_owned());
            self.log.push(line);
            if mark.is_some() {
                return Ok(mark);
            }
        }
    }

    /// Waits up to `timeout` for QEMU to exit (after the guest's `poweroff`).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut status = None;
        poll_until(timeout, || match self.child.try_wait() {
            Ok(Some(s)) => {
                status = Some(s);
                true
            }
            Ok(None) => false,
            Err(_) => true,
        });
        self.reaped = status.is_some();
        status
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        let _ = stop_group(&mut self.child, self.reaped, TERM_GRACE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_escapes_and_line_ends_are_removed() {
        assert_eq!(strip_escapes("\x1bc\x1b[?7l\x1b[2JGUEST-MARK boot\r\n"), "GUEST-MARK boot");
        assert_eq!(strip_escapes("a\tb"), "a\tb");
        assert_eq!(strip_escapes("cut \x1b["), "cut ");
    }
}
