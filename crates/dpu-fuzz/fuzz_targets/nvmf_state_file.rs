//! The `dpu-nvmf` service's namespace state files (`--state-dir`/namespaces: PTPL
//! reservations and a host's Write Protect), read at start: any bytes give a state or an
//! error, never a panic, and a state read back saves to a file that reads back the same.
#![no_main]

use dpu_nvmf::persist::parse_state_file;
use dpu_nvmf::reservation::Reservations;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(state) = parse_state_file(data) else { return };
    let saved = state.reservations.save();
    let again = Reservations::restore(&saved).expect("a restored state saves to a valid one");
    assert_eq!(again.save(), saved, "the same state after a second round");
});
