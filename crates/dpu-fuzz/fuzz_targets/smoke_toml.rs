//! TEMPORARY smoke target: proves the fuzzing machinery (build with coverage instrumentation on
//! stable, run under libFuzzer, report crashes) on a parser that exists. Replace it with the
//! project's own parsers (dpud config, manifests, packet views) and delete this file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        // Parsing untrusted text must never panic; the result does not matter.
        let _ = toml::from_str::<toml::Value>(text);
    }
});
