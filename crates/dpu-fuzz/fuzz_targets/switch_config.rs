//! The switch's configuration, as each of its readers meets it: the `dpu-switch` binary's file
//! (TOML, or JSON for a `.json` path) and the agent's wire configuration (`api::from_proto`,
//! which `dpud` runs on what the operator applied), each followed by `SwitchConfig::validate`.
//! Any bytes give a config or an error, never a panic; a valid config survives the proto
//! round trip (`to_proto`, `from_proto`) unchanged.
#![no_main]

use dpu_proto::dpu::switch::v1 as pb;
use dpu_switch::api;
use dpu_switch::config::SwitchConfig;
use libfuzzer_sys::fuzz_target;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let mut configs = Vec::new();
    if let Ok(text) = std::str::from_utf8(data) {
        configs.extend(toml::from_str::<SwitchConfig>(text).ok());
        configs.extend(serde_json::from_str::<SwitchConfig>(text).ok());
    }
    if let Ok(wire) = pb::SwitchConfig::decode(data) {
        configs.extend(api::from_proto(&wire).ok());
    }
    for config in configs {
        if config.validate().is_ok() {
            let back = api::from_proto(&api::to_proto(&config));
            assert_eq!(back.as_ref().ok(), Some(&config), "proto round trip: {back:?}");
        }
    }
});
