//! NVMe/TCP target for the card, and a small NVMe/TCP initiator library.
//!
//! | module | contents |
//! |---|---|
//! | [`queue`] | sans-IO controller side of one connection: PDUs + time in, PDUs + volume I/O out |
//! | [`target`] | the registry: subsystems, namespaces, hosts, listeners, controllers (CNTLIDs) |
//! | [`identify`] | Identify data, log pages (incl. discovery), properties |
//! | [`volume`] | RAM, file and block-device volumes (blocking; run on a pool) |
//! | [`server`] | tokio shell: listeners, connection tasks, bounded I/O pool |
//! | [`config`] | the binary's TOML configuration applied to a target |
//! | [`initiator`] | host side: connect, identify, read/write over NVMe/TCP (tests, benches) |
//!
//! Specifications cited: NVM Express Base 2.0, NVM Express over Fabrics 1.1, NVM
//! Express TCP Transport 1.0, NVM Command Set 1.0. The wire layer is `dpu-nvmf-proto`.

pub mod config;
pub mod identify;
pub mod initiator;
pub mod queue;
pub mod server;
pub mod target;
pub mod volume;

pub use queue::{Connection, IoOp, IoRequest, QueueConfig};
pub use server::Server;
pub use target::{ListenerSpec, SubsystemSpec, Target};
pub use volume::Volume;

/// A stable 16-byte identifier derived from `parts` (used for default NGUIDs and
/// UUIDs, so a namespace keeps its identity across restarts). Formatted as an
/// RFC 9562 version 8 UUID.
pub fn stable_id(parts: &[&[u8]]) -> [u8; 16] {
    use dpu_nvmf_proto::digest::{crc32c, crc32c_append};
    let mut out = [0u8; 16];
    for (i, chunk) in out.chunks_exact_mut(4).enumerate() {
        let mut c = crc32c(&[i as u8, 0x5a]);
        for p in parts {
            c = crc32c_append(c, p);
            c = crc32c_append(c, &[0]);
        }
        chunk.copy_from_slice(&c.to_be_bytes());
    }
    out[6] = (out[6] & 0x0F) | 0x80;
    out[8] = (out[8] & 0x3F) | 0x80;
    out
}
