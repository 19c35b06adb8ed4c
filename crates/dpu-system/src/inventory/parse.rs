//! Pure parsers for the /proc and /sys files the inventory reads. Each takes the file's text and
//! returns `None`/defaults on anything unexpected; none of them panics.

/// Memory figures from /proc/meminfo, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemInfo {
    pub total_bytes: Option<u64>,
    pub available_bytes: Option<u64>,
}

/// Parses /proc/meminfo (proc_meminfo(5)). The "kB" there means KiB. `MemAvailable` exists since
/// Linux 3.14; older kernels only give `MemFree`, used as a (pessimistic) fallback.
pub fn parse_meminfo(text: &str) -> MemInfo {
    let mut total = None;
    let mut available = None;
    let mut free = None;
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else { continue };
        let slot = match key.trim() {
            "MemTotal" => &mut total,
            "MemAvailable" => &mut available,
            "MemFree" => &mut free,
            _ => continue,
        };
        if slot.is_none() {
            *slot = parse_kib(rest);
        }
    }
    MemInfo { total_bytes: total, available_bytes: available.or(free) }
}

/// "   16318028 kB" -> bytes. A value without unit is taken as bytes.
fn parse_kib(field: &str) -> Option<u64> {
    let mut parts = field.split_whitespace();
    let number: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        None => Some(number),
        Some(unit) if unit.eq_ignore_ascii_case("kB") => number.checked_mul(1024),
        Some(_) => None,
    }
}

/// What /proc/cpuinfo tells about the processor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuInfo {
    /// Human-readable model, when the file names one.
    pub model: Option<String>,
    /// Number of `processor` entries (all CPUs that were online when the file was read).
    pub processors: u32,
}

/// Parses /proc/cpuinfo (proc_cpuinfo(5)), whose keys differ per architecture:
/// x86 has `model name`; aarch64 has no model name, only `CPU implementer` and `CPU part` (the
/// MIDR_EL1 fields, named here from a small table); 32-bit Arm kernels use `model name` or
/// `Processor`; powerpc `cpu`; mips `cpu model`; riscv `uarch`.
pub fn parse_cpuinfo(text: &str) -> CpuInfo {
    let mut processors = 0u32;
    let mut model_name = None;
    let mut legacy_name = None;
    let mut implementer = None;
    let mut part = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match key.trim() {
            "processor" => processors = processors.saturating_add(1),
            "model name" => set_once(&mut model_name, value),
            "Processor" | "cpu model" | "cpu" | "uarch" => set_once(&mut legacy_name, value),
            "CPU implementer" if implementer.is_none() => implementer = parse_hex(value),
            "CPU part" if part.is_none() => part = parse_hex(value),
            _ => {}
        }
    }
    let arm_name = match (implementer, part) {
        (Some(implementer), Some(part)) => Some(arm_cpu_name(implementer, part)),
        _ => None,
    };
    CpuInfo { model: model_name.or(arm_name).or(legacy_name), processors }
}

fn set_once(slot: &mut Option<String>, value: &str) {
    if slot.is_none() && !value.is_empty() {
        *slot = Some(value.to_owned());
    }
}

/// "0x41" -> 0x41.
fn parse_hex(value: &str) -> Option<u32> {
    let digits = value.strip_prefix("0x").or_else(|| value.strip_prefix("0X"))?;
    u32::from_str_radix(digits, 16).ok()
}

/// Names an Arm core from its MIDR implementer and part number. Covers the cores of
/// BlueField-class cards (BlueField-2: Cortex-A72, BlueField-3: Cortex-A78AE) and common
/// servers; anything else is shown by its numbers.
pub fn arm_cpu_name(implementer: u32, part: u32) -> String {
    let vendor = match implementer {
        0x41 => "ARM",
        0x42 => "Broadcom",
        0x43 => "Cavium",
        0x46 => "Fujitsu",
        0x48 => "HiSilicon",
        0x4e => "NVIDIA",
        0x50 => "APM",
        0x51 => "Qualcomm",
        0x61 => "Apple",
        0xc0 => "Ampere",
        _ => return format!("Arm implementer {implementer:#04x} part {part:#05x}"),
    };
    let core = match (implementer, part) {
        (0x41, 0xd03) => "Cortex-A53",
        (0x41, 0xd04) => "Cortex-A35",
        (0x41, 0xd05) => "Cortex-A55",
        (0x41, 0xd07) => "Cortex-A57",
        (0x41, 0xd08) => "Cortex-A72",
        (0x41, 0xd09) => "Cortex-A73",
        (0x41, 0xd0a) => "Cortex-A75",
        (0x41, 0xd0b) => "Cortex-A76",
        (0x41, 0xd0c) => "Neoverse-N1",
        (0x41, 0xd0d) => "Cortex-A77",
        (0x41, 0xd40) => "Neoverse-V1",
        (0x41, 0xd41) => "Cortex-A78",
        (0x41, 0xd42) => "Cortex-A78AE",
        (0x41, 0xd49) => "Neoverse-N2",
        (0x41, 0xd4f) => "Neoverse-V2",
        (0xc0, 0xac3) => "Ampere-1",
        _ => return format!("{vendor} part {part:#05x}"),
    };
    format!("{vendor} {core}")
}

/// Parses `/sys/devices/system/cpu/cpu0/regs/identification/midr_el1` ("0x00000000410fd083")
/// into (implementer, part): bits 31..24 and 15..4 of MIDR_EL1.
pub fn parse_midr(text: &str) -> Option<(u32, u32)> {
    let text = text.trim();
    let digits = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"))?;
    let midr = u64::from_str_radix(digits, 16).ok()?;
    let implementer = ((midr >> 24) & 0xff) as u32;
    let part = ((midr >> 4) & 0xfff) as u32;
    Some((implementer, part))
}

/// Counts the CPUs in a kernel CPU list such as `/sys/devices/system/cpu/online`: "0-3,6,8-9".
pub fn parse_cpu_list(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut count = 0u32;
    for range in text.split(',') {
        let (low, high) = match range.split_once('-') {
            Some((low, high)) => {
                (low.trim().parse::<u32>().ok()?, high.trim().parse::<u32>().ok()?)
            }
            None => {
                let cpu = range.trim().parse::<u32>().ok()?;
                (cpu, cpu)
            }
        };
        let width = high.checked_sub(low)?.checked_add(1)?;
        count = count.checked_add(width)?;
    }
    Some(count)
}

/// Whole seconds since boot from /proc/uptime ("350735.47 234388.90").
pub fn parse_uptime(text: &str) -> Option<u64> {
    let first = text.split_whitespace().next()?;
    let whole = first.split_once('.').map_or(first, |(whole, _)| whole);
    whole.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMINFO: &str = "MemTotal:       16318028 kB\nMemFree:         1023456 kB\n\
        MemAvailable:   12001234 kB\nBuffers:          123456 kB\nHugePages_Total:       0\n";

    const CPUINFO_X86: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n\
        model\t\t: 85\nmodel name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz\nflags\t\t: fpu vme\n\n\
        processor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz\n\n";

    // Shaped like a BlueField-2 (8x Cortex-A72); no "model name" on aarch64.
    const CPUINFO_AARCH64: &str = "processor\t: 0\nBogoMIPS\t: 400.00\n\
        Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid\nCPU implementer\t: 0x41\n\
        CPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n\
        processor\t: 1\nBogoMIPS\t: 400.00\nCPU implementer\t: 0x41\nCPU architecture: 8\n\
        CPU variant\t: 0x0\nCPU part\t: 0xd08\nCPU revision\t: 3\n\n";

    #[test]
    fn meminfo() {
        let info = parse_meminfo(MEMINFO);
        assert_eq!(info.total_bytes, Some(16_318_028 * 1024));
        assert_eq!(info.available_bytes, Some(12_001_234 * 1024));
    }

    #[test]
    fn meminfo_old_kernel_falls_back_to_free() {
        let info = parse_meminfo("MemTotal: 100 kB\nMemFree: 40 kB\n");
        assert_eq!(info.available_bytes, Some(40 * 1024));
    }

    #[test]
    fn meminfo_odd_input() {
        for text in
            ["", "MemTotal:", "MemTotal: x kB", "MemTotal: 1 MB", ":::\n\n", "MemTotal 5 kB"]
        {
            assert_eq!(parse_meminfo(text).total_bytes, None, "{text:?}");
        }
        let huge = format!("MemTotal: {} kB\n", u64::MAX);
        assert_eq!(parse_meminfo(&huge).total_bytes, None);
    }

    #[test]
    fn cpuinfo_x86() {
        let info = parse_cpuinfo(CPUINFO_X86);
        assert_eq!(info.model.as_deref(), Some("Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz"));
        assert_eq!(info.processors, 2);
    }

    #[test]
    fn cpuinfo_aarch64() {
        let info = parse_cpuinfo(CPUINFO_AARCH64);
        assert_eq!(info.model.as_deref(), Some("ARM Cortex-A72"));
        assert_eq!(info.processors, 2);
    }

    #[test]
    fn cpuinfo_arm32_and_others() {
        let arm32 = "Processor\t: ARMv7 Processor rev 10 (v7l)\nprocessor\t: 0\n";
        assert_eq!(parse_cpuinfo(arm32).model.as_deref(), Some("ARMv7 Processor rev 10 (v7l)"));
        let ppc = "processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\n";
        assert_eq!(parse_cpuinfo(ppc).model.as_deref(), Some("POWER9 (raw), altivec supported"));
    }

    #[test]
    fn cpuinfo_odd_input() {
        for text in
            ["", "\n\n", "processor", "CPU implementer: 0xzz\nCPU part: 0xd08", "model name:\n"]
        {
            assert_eq!(parse_cpuinfo(text).model, None, "{text:?}");
        }
        assert_eq!(parse_cpuinfo("CPU implementer: 0x41\n").model, None);
    }

    #[test]
    fn arm_names() {
        assert_eq!(arm_cpu_name(0x41, 0xd42), "ARM Cortex-A78AE");
        assert_eq!(arm_cpu_name(0x41, 0xfff), "ARM part 0xfff");
        assert_eq!(arm_cpu_name(0x99, 0x001), "Arm implementer 0x99 part 0x001");
    }

    #[test]
    fn midr() {
        assert_eq!(parse_midr("0x00000000410fd083\n"), Some((0x41, 0xd08)));
        assert_eq!(parse_midr("410fd083"), None);
        assert_eq!(parse_midr("0x"), None);
        assert_eq!(parse_midr(""), None);
    }

    #[test]
    fn cpu_list() {
        assert_eq!(parse_cpu_list("0-3\n"), Some(4));
        assert_eq!(parse_cpu_list("0"), Some(1));
        assert_eq!(parse_cpu_list("0-3,6,8-9"), Some(7));
        for text in ["", "\n", "3-1", "a-b", "0-", ",", "0,,1", "-1"] {
            assert_eq!(parse_cpu_list(text), None, "{text:?}");
        }
        assert_eq!(parse_cpu_list(&format!("0-{}", u32::MAX)), None);
    }

    #[test]
    fn uptime() {
        assert_eq!(parse_uptime("350735.47 234388.90\n"), Some(350_735));
        assert_eq!(parse_uptime("12 3"), Some(12));
        for text in ["", "x", "-1.0 2", "NaN", "1e9 0"] {
            assert_eq!(parse_uptime(text), None, "{text:?}");
        }
    }
}
