//! Bursts of arbitrary frames through the switch pipeline (access, trunk and VXLAN uplink
//! ports, MAC learning, flow cache, ageing ticks).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dpu_switch::fuzz::run_pipeline(data);
});
