//! What /proc says of a process (proc(5)): the one reader of those files for the services,
//! the tests and the benchmarks.

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
}
