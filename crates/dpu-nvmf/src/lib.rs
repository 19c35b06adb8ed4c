//! NVMe/TCP target for the card, and a small NVMe/TCP initiator library.
//!
//! | module | contents |
//! |---|---|
//! | [`queue`] | sans-IO controller side of one connection: PDUs + time in, PDUs + volume I/O out |
//! | [`target`] | the registry: subsystems, namespaces, hosts, listeners, controllers (CNTLIDs) |
//! | [`stats`] | per-subsystem and per-queue counters (single-writer, read by the API) |
//! | [`identify`] | Identify data, log pages (incl. discovery), properties |
//! | [`volume`] | RAM, file and block-device volumes (blocking calls; run on a pool) |
//! | [`volume_records`] | the file volumes opened before, so a missing file is made only at the first |
//! | [`write_budget`] | the target-wide bound on write data asked for by R2T and not yet received |
//! | [`latency`] | per-volume histograms of device operation times (read, write, flush) |
//! | `volume_copy` | copies into (streaming stores: `unsafe`) and out of RAM volumes |
//! | `uring` | file and block-device reads and writes as io_uring transfers (`unsafe`) |
//! | `blkdiscard` | a block device's discard ioctl (`unsafe`) |
//! | `trim` | when freed connection memory goes back to the system (`malloc_trim`: `unsafe`) |
//! | `by_peer` | state the connections of one peer address share (pool turns, write budget) |
//! | [`server`] | tokio shell: listeners, connection tasks, io_uring or bounded I/O pool |
//! | [`config`] | the binary's TOML configuration applied to a target |
//! | [`internal`] | the agent-facing internal gRPC API (whole-state Sync, stats) |
//! | [`initiator`] | host side: connect, identify, read/write over NVMe/TCP (tests, benches) |
//!
//! Specifications cited: NVM Express Base 2.0, NVM Express over Fabrics 1.1, NVM
//! Express TCP Transport 1.0, NVM Command Set 1.0. The wire layer is `dpu-nvmf-proto`.

pub mod auth;
mod blkdiscard;
mod by_peer;
mod cid_map;
pub mod config;
pub mod dhchap;
pub mod error_log;
pub mod features;
mod ffdhe;
pub mod identify;
pub mod initiator;
pub mod internal;
pub mod latency;
pub mod persist;
pub mod queue;
pub mod rate_limit;
pub mod reservation;
pub mod server;
pub mod stats;
pub mod target;
mod trim;
mod uring;
pub mod volume;
mod volume_copy;
pub mod volume_records;
pub mod write_budget;

pub use queue::{Connection, IoOp, IoRequest, QueueConfig};
pub use server::Server;
pub use target::{AnaState, ListenerSpec, SubsystemSpec, Target};
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
    uuid_v8(out)
}

/// `id` with the version and variant bits of an RFC 9562 version 8 UUID.
fn uuid_v8(mut id: [u8; 16]) -> [u8; 16] {
    id[6] = (id[6] & 0x0F) | 0x80;
    id[8] = (id[8] & 0x3F) | 0x80;
    id
}

/// Default (NGUID, UUID) of namespace `nsid` of subsystem `nqn` on the volume that
/// `volume` identifies (its name and what backs it) and whose data `contents` tells apart
/// ([`Volume::contents_id`]): stable across restarts where the data is (a file or block
/// device), new with each opening of a RAM volume, and new when the NSID is reused for
/// another volume, since an identifier may not be reused for a different namespace (NVMe
/// Base 2.0 §4.7.1) and a host takes equal ones for the same data.
pub fn default_namespace_ids(
    nqn: &str,
    nsid: u32,
    volume: &[u8],
    contents: Option<&[u8; 16]>,
) -> ([u8; 16], [u8; 16]) {
    let nsid = nsid.to_le_bytes();
    let id = |what: &[u8]| {
        let parts = [nqn.as_bytes(), &nsid, volume, what];
        match contents {
            None => stable_id(&parts),
            Some(contents) => hashed_id(&parts, contents),
        }
    };
    (id(b"nguid"), id(b"uuid"))
}

/// A 16-byte identifier from `parts` and the random `salt`, formatted as
/// [`stable_id`]'s. SHA-256, not crc32c: that is linear, so two salts would give equal
/// identifiers once in 2^32, not once in 2^122.
fn hashed_id(parts: &[&[u8]], salt: &[u8; 16]) -> [u8; 16] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_le_bytes());
        ctx.update(p);
    }
    ctx.update(salt);
    let mut out = [0u8; 16];
    out.copy_from_slice(&ctx.finish().as_ref()[..16]);
    uuid_v8(out)
}

/// Entry point for fuzzing the controller core: `data` is what a hostile host sends
/// on one connection. Must never panic, whatever `data` is.
///
/// The first byte selects how far the connection is brought with valid PDUs before
/// the fuzz input follows (nothing; ICReq with the digests of bits 1-2; an admin
/// queue that is connected and enabled; an I/O queue) and, by bit 0, whether reads are
/// completed straight into the output (as on a RAM volume), the second how the rest is
/// split into `receive` calls. Volume I/O runs inline on a small RAM namespace;
/// time advances by a second per chunk so keep alive and deadlines fire too.
pub fn fuzz_controller(data: &[u8]) {
    use std::time::{Duration, Instant};

    use dpu_nvmf_proto::fabrics::{CNTLID_DYNAMIC, ConnectCmd, ConnectData, PropertySetCmd};
    use dpu_nvmf_proto::{Bytes, CapsuleCmd, Framing, IcReq, Pdu, SglDescriptor};

    const SUB: &str = "nqn.2024-01.io.example:fuzz";
    const HOST: &str = "nqn.2014-08.org.example:fuzz-host";
    let Some((&sel, rest)) = data.split_first() else { return };
    let (chunk_seed, body) = rest.split_first().map_or((1u8, rest), |(c, r)| (*c, r));
    let target = Target::new();
    let spec = SubsystemSpec {
        nqn: SUB.into(),
        serial: "FUZZ".into(),
        model: "fuzz".into(),
        allow_any_host: true,
        hosts: Default::default(),
        host_secrets: Default::default(),
        cntlids: crate::target::ALL_CNTLIDS,
        max_io_queues: crate::target::DEFAULT_IO_QUEUES,
    };
    if target.add_subsystem(spec).is_err() {
        return;
    }
    let Ok(vol) = Volume::ram("fuzz", 512, 1 << 20) else { return };
    let now = Instant::now();
    // The chunk seed's bit 6 rate-limits the volume: commands then wait for ticks.
    if chunk_seed & 0x40 != 0 {
        let limit = rate_limit::RateLimit { iops: 50, bytes_per_second: 1 << 20 };
        vol.set_rate_limit(limit, now);
    }
    let _ = target.add_namespace(SUB, 1, std::sync::Arc::new(vol), [1; 16], [2; 16]);
    // The chunk seed's top bit write-protects the namespace.
    let _ = target.set_write_protected(SUB, 1, chunk_seed & 0x80 != 0);
    // Its bit 5 (also part of the chunk size) hides the namespace from the fuzz host.
    if chunk_seed & 0x20 != 0 {
        let other = std::collections::BTreeSet::from(["nqn.2014-08.org.example:other".to_owned()]);
        let _ = target.set_allowed_hosts(SUB, 1, other);
    }
    // Both queues come through listener 1, where bits 6-7 choose group 1's ANA state.
    let listener = ListenerSpec {
        port_id: 1,
        addr: std::net::SocketAddr::from(([127, 0, 0, 1], 4420)),
        allow_hdgst: true,
        allow_ddgst: true,
        discovery_only: false,
    };
    if target.add_listener(listener).is_err() {
        return;
    }
    let ana =
        [AnaState::Optimized, AnaState::NonOptimized, AnaState::Inaccessible, AnaState::Change]
            [usize::from(sel >> 6)];
    let _ = target.set_ana_states(1, &std::collections::BTreeMap::from([(1, ana)]), now);
    let cfg = || QueueConfig { port_id: Some(1), ..QueueConfig::default() };
    let (hdgst, ddgst) = (sel & 2 != 0, sel & 4 != 0);
    let framing = Framing { hdgst, ddgst, pda: 0 };
    let pdu = |p: Pdu, f: &Framing| p.to_vec(f).unwrap_or_default();
    let ic = pdu(Pdu::IcReq(IcReq { hdgst, ddgst, ..IcReq::default() }), &Framing::PLAIN);
    let connect = |qid: u16, cntlid: u16| {
        let mut sqe =
            ConnectCmd { recfmt: 0, qid, sqsize: 31, cattr: sel & 8, kato: 5000 }.to_sqe(1);
        let d = ConnectData { hostid: [3; 16], cntlid, subnqn: SUB.into(), hostnqn: HOST.into() };
        sqe.set_sgl(SglDescriptor::in_capsule(1024));
        pdu(Pdu::CapsuleCmd(CapsuleCmd { sqe, data: d.to_bytes().into() }), &framing)
    };
    let enable = pdu(
        Pdu::CapsuleCmd(CapsuleCmd {
            sqe: PropertySetCmd { eight_bytes: false, offset: 0x14, value: 0x0046_0001 }.to_sqe(2),
            data: Bytes::new(),
        }),
        &framing,
    );
    let run = |conn: &mut Connection| {
        while let Some(req) = conn.poll_io() {
            // Bit 0: reads are copied into the output as the shell does on a RAM volume.
            if sel & 1 != 0
                && let IoOp::Read { offset, len, .. } = req.op
            {
                let backend = req.volume.backend();
                conn.complete_read(req.tag, |out| backend.read_append(out, offset, len));
            } else {
                let r = queue::execute_io(&req);
                conn.complete_io(req.tag, r);
            }
        }
        let _ = conn.take_output();
    };
    // An admin queue that owns the controller I/O queues attach to.
    let mut admin = Connection::new(target.clone(), cfg(), now);
    admin.receive(&ic, now);
    admin.receive(&connect(0, CNTLID_DYNAMIC), now);
    admin.receive(&enable, now);
    run(&mut admin);
    let cntlid = admin.queue().map_or(1, |(c, _)| c);

    let mut conn = Connection::new(target.clone(), cfg(), now);
    let mode = (sel >> 4) & 3;
    if mode >= 1 {
        conn.receive(&ic, now);
    }
    match mode {
        2 => {
            // The chunk seed's bit 4 (also part of the chunk size) gives the host a
            // DH-HMAC-CHAP secret: this second controller's queue must authenticate, so
            // the input meets the authentication messages' decoder and state machine.
            if chunk_seed & 0x10 != 0
                && let Ok(host) = dhchap::Secret::new(&[0x11; 32], 0)
            {
                let ctrl = dhchap::Secret::new(&[0x22; 32], 1).ok();
                // Its bit 2 (likewise) makes the transaction use ffdhe2048, and its bit 3
                // requires SHA-512, so input may offer a hash the operator refuses.
                let dh_group = (chunk_seed >> 2) & 1;
                let hash = if chunk_seed & 0x08 != 0 { 3 } else { 0 };
                let secrets = std::sync::Arc::new(auth::HostSecrets { host, ctrl, dh_group, hash });
                let map = std::collections::BTreeMap::from([(HOST.to_owned(), secrets)]);
                let _ = target.set_host_secrets(SUB, map);
            }
            conn.receive(&connect(0, CNTLID_DYNAMIC), now);
            conn.receive(&enable, now);
        }
        3 => conn.receive(&connect(1, cntlid), now),
        _ => {}
    }
    run(&mut conn);
    let chunk = usize::from(chunk_seed % 64) + 1;
    let mut t = now;
    for piece in body.chunks(chunk) {
        // A DH computation the queue asked for in a piece completes only after the
        // next piece came, as a slow one on the pool would.
        let computing = conn.poll_dh();
        conn.receive(piece, t);
        if let Some(req) = computing {
            conn.complete_dh(req.tag, req.job.run());
        }
        run(&mut conn);
        t += Duration::from_millis(u64::from(chunk_seed) * 20);
        conn.tick(t);
        admin.tick(t);
        run(&mut admin);
        if conn.is_closed().is_some() {
            break;
        }
    }
    conn.shutdown();
    admin.shutdown();
}

#[cfg(test)]
mod tests {
    /// The fuzz entry point on pseudo-random inputs and on inputs that reach deep
    /// states (valid commands after an established I/O queue).
    #[test]
    fn fuzz_entry_survives_random_and_structured_input() {
        use dpu_nvmf_proto::sqe::io_opcode;
        use dpu_nvmf_proto::{CapsuleCmd, Framing, Pdu, SglDescriptor, Sqe};
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for len in 0..400usize {
            let mut v = Vec::with_capacity(len);
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                v.push(x as u8);
            }
            super::fuzz_controller(&v);
        }
        for sel in [0x30u8, 0x36, 0x20, 0x26, 0x31, 0x37] {
            let framing = Framing { hdgst: sel & 2 != 0, ddgst: sel & 4 != 0, pda: 0 };
            let mut input = vec![sel, 63];
            for (i, op) in [io_opcode::WRITE, io_opcode::READ, io_opcode::WRITE].iter().enumerate()
            {
                let mut sqe = Sqe::new(*op, 10 + i as u16);
                sqe.nsid = 1;
                sqe.set_rw(i as u64, 1);
                let data = if *op == io_opcode::WRITE { vec![0xA5; 512] } else { Vec::new() };
                sqe.set_sgl(if data.is_empty() {
                    SglDescriptor::transport(512)
                } else {
                    SglDescriptor::in_capsule(512)
                });
                input.extend(
                    Pdu::CapsuleCmd(CapsuleCmd { sqe, data: data.into() })
                        .to_vec(&framing)
                        .unwrap(),
                );
            }
            let n = input.len();
            input[n - 3] ^= 0x40;
            super::fuzz_controller(&input);
        }
    }
}
