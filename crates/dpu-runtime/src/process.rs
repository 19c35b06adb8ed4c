//! What /proc says of a process (proc(5)): the one reader of those files for the services,
//! their tests and the benchmarks (the lab crate, which stays free of the runtime, reads
//! `/proc/PID/stat` itself).

/// The resident set of process `pid` (this process for `None`) in KiB: `VmRSS` of its
/// `/proc/<pid>/status`. `None` when there is no such process or no such line (a kernel
/// thread, no /proc).
pub fn resident_kib(pid: Option<u32>) -> Option<u64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    let value = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    value.split_whitespace().next()?.parse().ok()
}

/// What `/proc/PID/stat` says of a process that the services' supervision uses (proc(5)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// Field 3: R, S, D, T, Z...
    pub state: char,
    /// Field 4: its parent.
    pub ppid: i32,
    /// Field 5: its process group.
    pub pgrp: i32,
    /// Field 22: clock ticks after boot it started at. A pid reused later has another.
    pub start_time: u64,
}

impl Stat {
    /// Not a zombie its parent has not reaped (nor one being reaped).
    pub fn runs(&self) -> bool {
        !matches!(self.state, 'Z' | 'X')
    }
}

/// The `/proc/PID/stat` of process `pid`, if there is one. The command name before the
/// fields may hold spaces and parentheses, so they count from its last ')'.
pub fn stat(pid: i32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = text.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    // Fields 4, 5 and 22 overall; `state` was field 3.
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    let start_time = fields.nth(16)?.parse().ok()?;
    Some(Stat { state, ppid, pgrp, start_time })
}

/// Whether a process of group `pgrp` runs (zombies do not count): /proc lists every
/// process, each with its group.
pub fn group_runs(pgrp: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else { return false };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .any(|pid| stat(pid).is_some_and(|s| s.pgrp == pgrp && s.runs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_resident_set_and_no_process_has_none() {
        let own = resident_kib(None).expect("VmRSS of this process");
        assert!(own > 0);
        assert!(resident_kib(Some(std::process::id())).is_some());
        // Above the kernel's pid_max limit (2^22): never a process.
        assert_eq!(resident_kib(Some(u32::MAX)), None);
    }

    /// A child leading a group of its own (not this process: qemu-user, which runs the
    /// aarch64 tests, makes up its own `/proc/self/stat` with most fields 0).
    #[test]
    fn a_process_group_runs_until_its_last_process_is_gone() {
        use std::os::unix::process::CommandExt;
        let mut child =
            std::process::Command::new("sleep").arg("30").process_group(0).spawn().unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        let s = stat(pid).expect("stat of the child");
        assert!(s.runs() && s.start_time > 0, "{s:?}");
        assert_eq!(s.pgrp, pid, "the child leads its group");
        assert_eq!(
            u32::try_from(s.ppid).ok(),
            Some(std::process::id()),
            "this process is its parent"
        );
        assert!(group_runs(pid));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(stat(pid), None, "reaped");
        assert!(!group_runs(pid));
        assert_eq!(stat(i32::MAX), None);
    }
}
