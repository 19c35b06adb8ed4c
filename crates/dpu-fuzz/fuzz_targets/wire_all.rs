//! Every packet parser of the wire crate on the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dpu_wire::fuzz_parse_all(data);
});
