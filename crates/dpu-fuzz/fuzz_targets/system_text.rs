//! Text the system service and the agent parse: /proc files, sysctl keys and values, resource names.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = dpu_system::inventory::parse_meminfo(&text);
    let _ = dpu_system::inventory::parse_cpuinfo(&text);
    let _ = dpu_system::inventory::parse_uptime(&text);
    let _ = dpu_system::inventory::parse_cpu_list(&text);
    let _ = dpu_system::inventory::parse_midr(&text);
    let _ = dpu_system::sysctl::validate_key(&text);
    let _ = dpu_system::sysctl::validate_value(&text);
    let _ = dpu_system::sysctl::key_from_name(&text);
    let _ = dpud::api::parse_name(&text, "sysctls", "name");
});
