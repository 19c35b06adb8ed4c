//! The NVMe/TCP PDU decoder, SQE, Fabrics Connect data and authentication message parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dpu_nvmf_proto::fuzz_decode(data);
});
