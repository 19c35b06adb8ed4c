//! dpuctl's manifest parser (YAML documents, proto3 JSON specs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = dpu_client::manifest::parse(text);
    }
});
