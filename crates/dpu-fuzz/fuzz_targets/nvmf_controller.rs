//! The NVMe/TCP controller core (dpu-nvmf): arbitrary bytes from a host on a fresh,
//! initialized, admin or I/O queue connection, with volume I/O run inline.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dpu_nvmf::fuzz_controller(data);
});
