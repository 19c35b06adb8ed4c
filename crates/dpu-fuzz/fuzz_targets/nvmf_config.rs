//! The `dpu-nvmf` binary's TOML configuration: any text gives a config or an error, never
//! a panic; a config with RAM volumes only (sparse: nothing is allocated until written) is
//! also applied to a target, which checks NQNs, strings, controller limits, host secrets
//! (the DH-HMAC-CHAP secret parser) and namespaces.
#![no_main]

use dpu_nvmf::Target;
use dpu_nvmf::config::{Config, VolumeKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(config) = Config::parse(text) else { return };
    let _ = config.listener_specs();
    if config.volumes.iter().all(|v| v.kind == VolumeKind::Ram) {
        let target = Target::new();
        if config.apply(&target).is_ok() {
            let _ = config.ana_states();
        }
    }
});
