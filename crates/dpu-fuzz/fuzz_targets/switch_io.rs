//! The switch's AF_PACKET backend parsers: ring slots (TPACKET_V2 frames, TPACKET_V3 blocks)
//! and the TCP coalescer's planning and merging of a send burst.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dpu_switch::fuzz::run_io_parsers(data);
});
