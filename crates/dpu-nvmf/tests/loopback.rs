//! The target on loopback TCP, driven by our initiator library: connect, identify,
//! write/read-verify with and without digests, error statuses, malformed PDUs,
//! keep alive expiry, namespace hot add with an asynchronous event, per-subsystem
//! and per-queue statistics, DH-HMAC-CHAP key exchanges that leave other hosts' I/O running.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dpu_nvmf::initiator::{HostController, HostOptions, HostQueue, InitiatorError};
use dpu_nvmf::server::Connections;
use dpu_nvmf::stats::IoTotals;
use dpu_nvmf::target::{ListenerSpec, SubsystemSpec};
use dpu_nvmf::{Server, Target, Volume};
use dpu_nvmf_proto::Fes;
use dpu_nvmf_proto::Sqe;
use dpu_nvmf_proto::cqe::Status;
use dpu_nvmf_proto::fabrics::{CNTLID_DYNAMIC, DISCOVERY_NQN};
use dpu_nvmf_proto::sqe::admin_opcode;

const SUB: &str = "nqn.2024-01.io.example:loop";
const HOST: &str = "nqn.2014-08.org.example:loop-host";

/// A target with the test subsystem ([`SUB`], open to [`HOST`] only).
fn target_with_subsystem(serial: &str, model: &str) -> Arc<Target> {
    let t = Target::new();
    t.add_subsystem(SubsystemSpec {
        nqn: SUB.into(),
        serial: serial.into(),
        model: model.into(),
        allow_any_host: false,
        hosts: BTreeSet::from([HOST.to_owned()]),
        host_secrets: Default::default(),
        cntlids: dpu_nvmf::target::ALL_CNTLIDS,
        max_io_queues: dpu_nvmf::target::DEFAULT_IO_QUEUES,
    })
    .unwrap();
    t
}

/// Serves `t` with `pool_threads` I/O threads on a loopback listener (port 1, any free
/// port number, both digests allowed).
async fn serve(t: Arc<Target>, pool_threads: usize) -> (Arc<Server>, SocketAddr) {
    let server = Server::new(t, pool_threads);
    let addr = server.add_listener(loopback_listener(1)).await.unwrap();
    (server, addr)
}

/// Listener `port_id` on 127.0.0.1, any free port number, both digests allowed.
fn loopback_listener(port_id: u16) -> ListenerSpec {
    ListenerSpec {
        port_id,
        addr: "127.0.0.1:0".parse().unwrap(),
        allow_hdgst: true,
        allow_ddgst: true,
        discovery_only: false,
    }
}

async fn start(dir: &std::path::Path) -> (Arc<Server>, SocketAddr) {
    let t = target_with_subsystem("LOOP0001", "dpu loopback");
    let file = Volume::file("f", &dir.join("vol.img"), 512, 16 << 20).unwrap();
    t.add_namespace(SUB, 1, Arc::new(file), [1; 16], [2; 16]).unwrap();
    let ram = Volume::ram("r", 4096, 16 << 20).unwrap();
    t.add_namespace(SUB, 2, Arc::new(ram), [3; 16], [4; 16]).unwrap();
    serve(t, 8).await
}

fn opts(hdgst: bool, ddgst: bool) -> HostOptions {
    HostOptions { hostnqn: HOST.into(), hdgst, ddgst, ..HostOptions::default() }
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

async fn write_read_verify(c: &mut HostController, nsid: u32, bs: u32) -> usize {
    let q = &mut c.io[0];
    let mut bytes = 0;
    // In-capsule (4 KiB), R2T (64 KiB), the largest transfer (128 KiB).
    for (i, len) in [4096usize, 65536, 131072].into_iter().enumerate() {
        let data = pattern(len, i as u32 + nsid);
        let slba = (i as u64) * 512;
        let w = q.write(nsid, slba, &data, bs).await.unwrap();
        assert!(w.cqe.status.is_success(), "{:?}", w.cqe);
        let r = q.read(nsid, slba, (len / bs as usize) as u32, bs).await.unwrap();
        assert!(r.cqe.status.is_success());
        assert!(r.data == data, "data read back differs (nsid {nsid}, {len} bytes)");
        bytes += 2 * len;
    }
    bytes
}

#[tokio::test]
async fn connect_identify_and_verify_data_with_and_without_digests() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start(dir.path()).await;
    for (h, d) in [(false, false), (true, false), (false, true), (true, true)] {
        let started = Instant::now();
        let mut c = HostController::connect(addr, SUB, &opts(h, d), 2).await.unwrap();
        let id = c.admin.identify(1, 0).await.unwrap();
        assert_eq!(u16::from_le_bytes([id[78], id[79]]), c.cntlid);
        assert_eq!(&id[4..12], b"LOOP0001");
        let ns = c.admin.identify(0, 2).await.unwrap();
        assert_eq!(ns[130], 12);
        let bytes =
            write_read_verify(&mut c, 1, 512).await + write_read_verify(&mut c, 2, 4096).await;
        c.shutdown().await.unwrap();
        println!("digests hdgst={h} ddgst={d}: verified {bytes} bytes in {:?}", started.elapsed());
    }
    // Reads split over several C2HData PDUs (copied into the output below 16 KiB, sent
    // from the read buffer above it), each with its data digest: the host gathers them.
    server.set_max_c2h_data(40 * 1024);
    let mut c = HostController::connect(addr, SUB, &opts(true, true), 1).await.unwrap();
    let bytes = write_read_verify(&mut c, 1, 512).await + write_read_verify(&mut c, 2, 4096).await;
    c.shutdown().await.unwrap();
    println!("reads in PDUs of 40 KiB: verified {bytes} bytes");
    let ns = server.target().namespace(SUB, 1).unwrap().stats.snapshot();
    assert_eq!(ns.writes, 15);
    assert_eq!(ns.reads, 15);
}

#[tokio::test]
async fn sq_flow_control_disabled_reads_complete_by_success_flag() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, addr) = start(dir.path()).await;
    let o = HostOptions { disable_sqflow: true, ..opts(false, false) };
    let mut c = HostController::connect(addr, SUB, &o, 1).await.unwrap();
    let r = c.io[0].read(1, 0, 8, 512).await.unwrap();
    assert!(r.via_success_flag);
    let r = c.admin.identify(1, 0).await.unwrap();
    assert_eq!(r.len(), 4096);
}

/// Waits (up to 10 s) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A target with a RAM namespace served with at most `max_unconnected` connections
/// waiting for their Connect.
async fn serve_with_max_unconnected(
    serial: &str,
    max_unconnected: usize,
) -> (Arc<Target>, Arc<Server>, SocketAddr) {
    let t = target_with_subsystem(serial, "dpu loopback");
    let ram = Volume::ram("r", 512, 1 << 20).unwrap();
    t.add_namespace(SUB, 1, Arc::new(ram), [1; 16], [2; 16]).unwrap();
    let (server, addr) = serve(t.clone(), 2).await;
    server.set_max_unconnected(max_unconnected);
    (t, server, addr)
}

/// Whether the target closed `s` within 5 s (a read finds its end).
async fn closed(s: &mut tokio::net::TcpStream) -> bool {
    use tokio::io::AsyncReadExt;
    let mut b = [0u8; 1];
    let r = tokio::time::timeout(Duration::from_secs(5), s.read(&mut b)).await;
    matches!(r, Ok(Ok(0)) | Ok(Err(_)))
}

/// Connections that never connect hold a bounded share of the server: past the bound a
/// new one is closed as it is accepted and counted, while connected hosts (whose queues
/// leave the bound once connected) go on, and a place that comes free takes a host again.
#[tokio::test]
async fn connections_waiting_for_their_connect_are_bounded() {
    let (t, _server, addr) = serve_with_max_unconnected("LOOP0003", 2).await;
    let stats = &t.stats;
    let accepted = || stats.connections.load(std::sync::atomic::Ordering::Relaxed);
    let shed = || stats.connections_shed.load(std::sync::atomic::Ordering::Relaxed);
    let silent = || tokio::net::TcpStream::connect(addr);
    let closed_at_once = async |mut s: tokio::net::TcpStream| closed(&mut s).await;
    let (s1, _s2) = (silent().await.unwrap(), silent().await.unwrap());
    until("two accepted", || accepted() == 2).await;
    assert!(closed_at_once(silent().await.unwrap()).await, "the third is closed");
    assert_eq!((accepted(), shed()), (2, 1));

    // A place comes free: a host connects (admin and I/O queue, one after the other).
    drop(s1);
    let mut c = loop {
        match HostController::connect(addr, SUB, &opts(false, false), 1).await {
            Ok(c) => break c,
            Err(e) => assert!(shed() < 100, "the freed place never came: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Its connected queues hold no place: one is free beside the silent s2.
    let before = shed();
    let _s4 = silent().await.unwrap();
    assert!(closed_at_once(silent().await.unwrap()).await, "past the bound again");
    assert_eq!(shed(), before + 1);
    let w = c.io[0].write(1, 0, &[7; 512], 512).await.unwrap();
    assert!(w.cqe.status.is_success(), "the connected host goes on");
    c.shutdown().await.unwrap();
}

/// At the bound, a new connection takes the place of the oldest waiting one of the
/// address with the most waiting (past a host's share, here half the bound) unless that
/// is its own: a peer that holds every place with silent connections crowds out only
/// itself, and a host from another address still connects.
#[tokio::test]
async fn a_crowd_of_silent_connections_sheds_its_own_not_other_hosts() {
    let (t, _server, addr) = serve_with_max_unconnected("LOOP0004", 3).await;
    let stats = &t.stats;
    let accepted = || stats.connections.load(std::sync::atomic::Ordering::Relaxed);
    let shed = || stats.connections_shed.load(std::sync::atomic::Ordering::Relaxed);
    // The crowd, from 127.0.0.2 (loopback: the whole of 127/8 is local).
    let from_crowd = async || {
        let s = tokio::net::TcpSocket::new_v4().unwrap();
        s.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        s.connect(addr).await.unwrap()
    };
    let mut crowd = Vec::new();
    for _ in 0..3 {
        crowd.push(from_crowd().await);
    }
    until("three accepted", || accepted() == 3).await;
    let mut fourth = from_crowd().await;
    assert!(closed(&mut fourth).await, "the crowd's own next one is closed");
    assert_eq!(shed(), 1);
    // A host from 127.0.0.1 connects (admin and I/O queue), shedding the crowd's oldest.
    let mut c = HostController::connect(addr, SUB, &opts(false, false), 1).await.unwrap();
    let w = c.io[0].write(1, 0, &[7; 512], 512).await.unwrap();
    assert!(w.cqe.status.is_success());
    assert!(closed(&mut crowd[0]).await, "the oldest of the crowd went");
    assert!(shed() >= 2);
    c.shutdown().await.unwrap();
}

/// Waits (up to 10 s) until GetNvmfStats reports `want` as its (open, unconnected)
/// connection gauges; the last figures read are in the failure.
async fn until_gauges(internal: &dpu_nvmf::internal::NvmfInternal, want: (u64, u64)) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = internal.stats().await;
        let got = (s.open_connections, s.unconnected_connections);
        if got == want {
            return;
        }
        assert!(Instant::now() < deadline, "(open, unconnected) {got:?}, waited for {want:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// GetNvmfStats' gauges follow the TCP connections of every listener, a discovery one's
/// too: `open_connections` counts each until it closes, `unconnected_connections` those
/// of them still waiting for their Fabrics Connect; both fall back as the peers go.
#[tokio::test]
async fn stats_gauge_open_and_unconnected_connections_of_every_listener() {
    let (server, addr) = serve(target_with_subsystem("LOOP0010", "dpu loopback"), 2).await;
    let disc_only = ListenerSpec { discovery_only: true, ..loopback_listener(2) };
    let disc = server.add_listener(disc_only).await.unwrap();
    let internal = dpu_nvmf::internal::NvmfInternal::new(server.clone());
    until_gauges(&internal, (0, 0)).await;
    // A host's controller: its admin and I/O queues, both connected.
    let mut c = HostController::connect(addr, SUB, &opts(false, false), 1).await.unwrap();
    until_gauges(&internal, (2, 0)).await;
    // Three peers that never connect, one of them on the discovery listener.
    let silent = [
        tokio::net::TcpStream::connect(addr).await.unwrap(),
        tokio::net::TcpStream::connect(addr).await.unwrap(),
        tokio::net::TcpStream::connect(disc).await.unwrap(),
    ];
    until_gauges(&internal, (5, 3)).await;
    let accepted = internal.stats().await.connections;
    assert_eq!(accepted, 5, "the total counts the same connections");
    drop(silent);
    until_gauges(&internal, (2, 0)).await;
    c.shutdown().await.unwrap();
    drop(c);
    until_gauges(&internal, (0, 0)).await;
    assert_eq!(internal.stats().await.connections, accepted, "a total does not fall");
}

#[tokio::test]
async fn error_statuses_and_refused_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, addr) = start(dir.path()).await;
    let mut c = HostController::connect(addr, SUB, &opts(false, false), 1).await.unwrap();
    let q = &mut c.io[0];
    let r = q.read(1, 32767, 2, 512).await.unwrap();
    assert_eq!(r.cqe.status, Status::LBA_OUT_OF_RANGE.with_dnr());
    let r = q.write(1, 32760, &[0u8; 8192], 512).await.unwrap();
    assert_eq!(r.cqe.status, Status::LBA_OUT_OF_RANGE.with_dnr());
    let r = q.read(3, 0, 1, 512).await.unwrap();
    assert_eq!(r.cqe.status, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr());
    // The queue still works.
    assert!(q.read(1, 0, 1, 512).await.unwrap().cqe.status.is_success());
    // A host that is not allowed.
    let stranger = HostOptions {
        hostnqn: "nqn.2014-08.org.example:stranger".into(),
        ..HostOptions::default()
    };
    let e = HostController::connect(addr, SUB, &stranger, 1).await.unwrap_err();
    assert!(
        matches!(e, InitiatorError::Status(s) if s == Status::CONNECT_INVALID_HOST.with_dnr()),
        "{e}"
    );
}

#[tokio::test]
async fn discovery_log_lists_allowed_subsystems_only() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start(dir.path()).await;
    server
        .target()
        .add_subsystem(SubsystemSpec {
            nqn: "nqn.2024-01.io.example:hidden".into(),
            serial: "H".into(),
            model: "M".into(),
            allow_any_host: false,
            hosts: BTreeSet::new(),
            host_secrets: Default::default(),
            cntlids: dpu_nvmf::target::ALL_CNTLIDS,
            max_io_queues: dpu_nvmf::target::DEFAULT_IO_QUEUES,
        })
        .unwrap();
    let disc_only = ListenerSpec { discovery_only: true, ..loopback_listener(8) };
    let disc = server.add_listener(disc_only).await.unwrap();
    let mut q = HostQueue::open(disc, &opts(false, false)).await.unwrap();
    assert!(q.connect(DISCOVERY_NQN, 0, 31, CNTLID_DYNAMIC).await.unwrap().cqe.status.is_success());
    q.property_set(0x14, 1).await.unwrap();
    let hdr = q.get_log_page(0x70, 1024, 0).await.unwrap();
    let n = u64::from_le_bytes(hdr[8..16].try_into().unwrap());
    assert_eq!(n, 2, "the discovery subsystem itself and the allowed subsystem");
    let log = q.get_log_page(0x70, 3072, 0).await.unwrap();
    let itself = &log[1024..2048];
    assert_eq!(itself[2], 3, "SUBTYPE: current discovery subsystem");
    assert_eq!(u16::from_le_bytes([itself[4], itself[5]]), 8, "PORTID: the listener's");
    assert_eq!(&itself[256..256 + DISCOVERY_NQN.len()], DISCOVERY_NQN.as_bytes());
    let disc_port = format!("{}\0", disc.port());
    assert_eq!(&itself[32..32 + disc_port.len()], disc_port.as_bytes());
    let e = &log[2048..];
    assert_eq!((e[0], e[2]), (3, 2), "TCP, an NVM subsystem");
    assert_eq!(&e[256..256 + SUB.len()], SUB.as_bytes());
    let port = addr.port().to_string();
    assert_eq!(&e[32..32 + port.len()], port.as_bytes());
}

/// Eight Get Log Page commands of MDTS (128 KiB) each arrive in one read; the target
/// answers the first two, pauses decoding until those answers are sent (256 KiB at most
/// wait), then goes on: every answer arrives, in full, and nothing stalls.
#[tokio::test]
async fn a_batch_of_large_answers_is_sent_in_turn() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, addr) = start(dir.path()).await;
    let mut c = HostController::connect(addr, SUB, &opts(false, true), 1).await.unwrap();
    let len = dpu_nvmf::identify::MAX_TRANSFER as usize;
    let numd = (len / 4 - 1) as u32;
    let mut cids = Vec::new();
    // Written back to back without yielding: one read on the target's side.
    for _ in 0..8 {
        let mut sqe = Sqe::new(admin_opcode::GET_LOG_PAGE, 0);
        sqe.nsid = 0xFFFF_FFFF;
        // SMART / Health Information (512 bytes; the rest zeroes).
        (sqe.cdw[0], sqe.cdw[1]) = (0x02 | (numd & 0xFFFF) << 16, numd >> 16);
        cids.push(c.admin.start(sqe, None, len).await.unwrap());
    }
    let answers = async {
        for cid in cids {
            let done = c.admin.wait(cid).await.unwrap();
            assert!(done.cqe.status.is_success(), "{:?}", done.cqe);
            assert_eq!(done.data.len(), len);
            assert!(done.data[512..].iter().all(|&b| b == 0));
        }
    };
    tokio::time::timeout(Duration::from_secs(30), answers).await.expect("every answer came");
}

#[tokio::test]
async fn malformed_pdu_terminates_only_its_connection() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start(dir.path()).await;
    let mut good = HostController::connect(addr, SUB, &opts(true, true), 1).await.unwrap();
    let mut bad = HostController::connect(addr, SUB, &opts(false, false), 1).await.unwrap();
    // A CapsuleCmd whose HLEN is wrong: Invalid PDU Header Field at offset 2.
    let mut raw = vec![0x04, 0, 70, 0, 72, 0, 0, 0];
    raw.resize(72, 0);
    bad.io[0].send_raw(&raw).await.unwrap();
    let t = bad.io[0].wait_closed().await.unwrap().expect("a C2HTermReq");
    assert_eq!((t.fes, t.fei), (Fes::InvalidHeaderField.code(), 2));
    // The other controller keeps working.
    let data = pattern(65536, 9);
    assert!(good.io[0].write(1, 64, &data, 512).await.unwrap().cqe.status.is_success());
    assert_eq!(good.io[0].read(1, 64, 128, 512).await.unwrap().data, data);
    // A PDU type the host may not send (C2HData) on the bad controller's admin queue.
    let mut raw = vec![0x07, 0, 24, 0, 24, 0, 0, 0];
    raw.resize(24, 0);
    bad.admin.send_raw(&raw).await.unwrap();
    let t = bad.admin.wait_closed().await.unwrap().expect("a C2HTermReq");
    assert_eq!((t.fes, t.fei), (Fes::InvalidHeaderField.code(), 0));
    assert!(server.target().stats.terminated.load(std::sync::atomic::Ordering::Relaxed) >= 2);
    assert!(good.admin.keep_alive().await.is_ok());
}

/// A shutdown notification deletes the controller's I/O queues (NVMe Base 2.0 §3.6.1): the
/// target closes their connections (woken at once, not at their next tick) and reports the
/// shutdown complete once the I/O they started is done.
#[tokio::test]
async fn a_shutdown_closes_the_io_queues() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, addr) = start(dir.path()).await;
    let o = HostOptions { timeout: Duration::from_secs(5), ..opts(false, false) };
    let mut c = HostController::connect(addr, SUB, &o, 2).await.unwrap();
    write_read_verify(&mut c, 1, 512).await;
    c.shutdown().await.unwrap();
    for q in &mut c.io {
        assert!(q.wait_closed().await.unwrap().is_none(), "closed without a termination");
    }
}

#[tokio::test]
async fn keep_alive_expiry_drops_the_controller() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start(dir.path()).await;
    let o = HostOptions { kato_ms: 1000, ..opts(false, false) };
    let mut c = HostController::connect(addr, SUB, &o, 1).await.unwrap();
    // Keep alives hold it for 3 s.
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        c.admin.keep_alive().await.unwrap();
    }
    assert_eq!(server.target().controller_count(SUB), 1);
    let silent = Instant::now();
    assert!(c.admin.wait_closed().await.unwrap().is_none());
    let after = silent.elapsed();
    assert_eq!(server.target().controller_count(SUB), 0);
    assert!(after >= Duration::from_millis(1000), "{after:?}");
    // About 2 s (KATO rounded up to a second, plus the second allowed): the upper bound
    // only says that it expired, with room for a loaded machine.
    assert!(after < Duration::from_secs(10), "{after:?}");
    assert!(c.io[0].wait_closed().await.unwrap().is_none());
    println!("controller dropped {after:?} after the last keep alive (KATO 1000 ms)");
}

/// Deleting a listener closes its connections and ends the controllers made through it
/// (as Linux's nvmet deletes a port's controllers); binding one anew keeps them.
#[tokio::test]
async fn a_deleted_listener_takes_its_connections_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start(dir.path()).await;
    let mut kept = HostController::connect(addr, SUB, &opts(false, false), 1).await.unwrap();
    server.remove_listener(1, Connections::Keep).await.unwrap();
    let other = server.add_listener(loopback_listener(1)).await.unwrap();
    write_read_verify(&mut kept, 2, 4096).await;
    let mut gone = HostController::connect(other, SUB, &opts(false, false), 1).await.unwrap();
    assert_eq!(server.target().controller_count(SUB), 2);
    server.remove_listener(1, Connections::Close).await.unwrap();
    assert!(gone.admin.wait_closed().await.unwrap().is_none());
    assert!(gone.io[0].wait_closed().await.unwrap().is_none());
    assert!(kept.admin.wait_closed().await.unwrap().is_none());
    until("both controllers gone", || server.target().controller_count(SUB) == 0).await;
}

/// A listener bound anew (another address) keeps the connections it had, and the ANA
/// states of its port for them while it is unbound: a path the operator made Inaccessible
/// stays so, else a planned failover could let two cards write one medium meanwhile.
#[tokio::test]
async fn a_listener_bound_anew_keeps_its_ana_states_meanwhile() {
    use dpu_nvmf::target::AnaState;
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start(dir.path()).await;
    let mut c = HostController::connect(addr, SUB, &opts(false, false), 1).await.unwrap();
    let target = server.target();
    let inaccessible = std::collections::BTreeMap::from([(1, AnaState::Inaccessible)]);
    target.set_ana_states(1, &inaccessible, Instant::now()).unwrap();
    let write = async |c: &mut HostController| {
        c.io[0].write(1, 0, &pattern(4096, 7), 512).await.unwrap().cqe.status
    };
    assert_eq!(write(&mut c).await, Status::ANA_INACCESSIBLE);
    server.remove_listener(1, Connections::Keep).await.unwrap();
    assert_eq!(write(&mut c).await, Status::ANA_INACCESSIBLE, "while unbound");
    server.add_listener(loopback_listener(1)).await.unwrap();
    assert_eq!(write(&mut c).await, Status::ANA_INACCESSIBLE, "bound anew");
    target.set_ana_states(1, &Default::default(), Instant::now()).unwrap();
    assert!(write(&mut c).await.is_success(), "optimized again");
}

#[tokio::test]
async fn namespace_hot_add_and_remove_raise_events() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start(dir.path()).await;
    let mut c = HostController::connect(addr, SUB, &opts(false, false), 1).await.unwrap();
    c.admin.set_features(0x0B, 1 << 8).await.unwrap();
    c.admin.send_only(dpu_nvmf_proto::Sqe::new(0x0C, 0)).await.unwrap();
    let t = server.target();
    t.add_namespace(SUB, 5, Arc::new(Volume::ram("hot", 512, 1 << 20).unwrap()), [5; 16], [6; 16])
        .unwrap();
    let ev = c.admin.next_event(Duration::from_secs(5)).await.unwrap();
    assert_eq!(ev.dw0, 0x0004_0002);
    let log = c.admin.get_log_page(4, 4096, 0).await.unwrap();
    assert_eq!(&log[0..8], &[5, 0, 0, 0, 0, 0, 0, 0]);
    let list = c.admin.identify(2, 0).await.unwrap();
    assert_eq!(&list[0..12], &[1, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0]);
    assert!(c.io[0].read(5, 0, 1, 512).await.unwrap().cqe.status.is_success());
    c.admin.send_only(dpu_nvmf_proto::Sqe::new(0x0C, 0)).await.unwrap();
    t.remove_namespace(SUB, 5).unwrap();
    let ev = c.admin.next_event(Duration::from_secs(5)).await.unwrap();
    assert_eq!(ev.dw0, 0x0004_0002);
    let r = c.io[0].read(5, 0, 1, 512).await.unwrap();
    assert_eq!(r.cqe.status, Status::INVALID_NAMESPACE_OR_FORMAT.with_dnr());
}

#[tokio::test]
async fn ipv6_listener_and_its_discovery_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start(dir.path()).await;
    let v6 = server
        .add_listener(ListenerSpec {
            port_id: 6,
            addr: "[::1]:0".parse().unwrap(),
            allow_hdgst: false,
            allow_ddgst: false,
            discovery_only: false,
        })
        .await
        .unwrap();
    let mut c = HostController::connect(v6, SUB, &opts(false, false), 1).await.unwrap();
    let data = pattern(8192, 6);
    assert!(c.io[0].write(2, 7, &data, 4096).await.unwrap().cqe.status.is_success());
    assert_eq!(c.io[0].read(2, 7, 2, 4096).await.unwrap().data, data);
    // Digests are refused on this listener: the host gets a termination.
    let e = HostQueue::open(v6, &opts(true, false)).await.unwrap_err();
    assert!(
        matches!(&e, InitiatorError::Terminated(t) if t.fes == Fes::UnsupportedParameter.code()),
        "{e}"
    );
    // Discovery through the IPv6 listener lists the discovery subsystem at that listener,
    // then both listeners, the IPv6 one with ADRFAM 2.
    let mut q = HostQueue::open(v6, &opts(false, false)).await.unwrap();
    assert!(q.connect(DISCOVERY_NQN, 0, 31, CNTLID_DYNAMIC).await.unwrap().cqe.status.is_success());
    q.property_set(0x14, 1).await.unwrap();
    let log = q.get_log_page(0x70, 4096, 0).await.unwrap();
    assert_eq!(u64::from_le_bytes(log[8..16].try_into().unwrap()), 3);
    let itself = &log[1024..2048];
    assert_eq!((itself[1], itself[2], u16::from_le_bytes([itself[4], itself[5]])), (2, 3, 6));
    let e6 = &log[3072..];
    assert_eq!((e6[1], e6[2], u16::from_le_bytes([e6[4], e6[5]])), (2, 2, 6));
    assert_eq!(&e6[512..515], b"::1");
}

#[tokio::test]
async fn thirty_two_commands_in_flight_on_one_queue() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start(dir.path()).await;
    let mut c = HostController::connect(addr, SUB, &opts(false, true), 1).await.unwrap();
    let q = &mut c.io[0];
    assert!(q.queue_depth() >= 32, "queue depth {}", q.queue_depth());
    // 32 writes of 4 KiB on the RAM namespace (4 KiB blocks), all in flight at once.
    let blocks: Vec<Vec<u8>> = (0..32u32).map(|i| pattern(4096, 1000 + i)).collect();
    let mut cids = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        cids.push(q.start_write(2, (i as u64) * 7, b, 4096).await.unwrap());
    }
    assert_eq!(q.in_flight(), 32);
    let distinct: BTreeSet<u16> = cids.iter().copied().collect();
    assert_eq!(distinct.len(), 32, "CIDs must be distinct");
    for _ in 0..32 {
        let (cid, done) = q.next_completion().await.unwrap();
        assert!(distinct.contains(&cid));
        assert!(done.cqe.status.is_success(), "{:?}", done.cqe);
    }
    assert_eq!(q.in_flight(), 0);
    // 32 reads in flight; wait for them in reverse order so completions are matched by CID.
    let mut reads = Vec::new();
    for i in 0..32u64 {
        reads.push((i as usize, q.start_read(2, i * 7, 1, 4096).await.unwrap()));
    }
    assert_eq!(q.in_flight(), 32);
    for (i, cid) in reads.into_iter().rev() {
        let r = q.wait(cid).await.unwrap();
        assert!(r.cqe.status.is_success(), "{:?}", r.cqe);
        assert!(r.data == blocks[i], "block {i} read back differs");
    }
    // 32 writes of 64 KiB (R2T/H2CData per command) then reads, on the file namespace.
    let big: Vec<Vec<u8>> = (0..32u32).map(|i| pattern(65536, 2000 + i)).collect();
    let mut cids = Vec::new();
    for (i, b) in big.iter().enumerate() {
        cids.push(q.start_write(1, (i as u64) * 128, b, 512).await.unwrap());
    }
    for cid in cids {
        assert!(q.wait(cid).await.unwrap().cqe.status.is_success());
    }
    let mut reads = Vec::new();
    for i in 0..32u64 {
        reads.push(q.start_read(1, i * 128, 128, 512).await.unwrap());
    }
    for (i, cid) in reads.into_iter().enumerate() {
        assert!(q.wait(cid).await.unwrap().data == big[i], "64 KiB block {i} differs");
    }
    c.shutdown().await.unwrap();
    let ns = server.target().namespace(SUB, 2).unwrap().stats.snapshot();
    assert_eq!((ns.writes, ns.reads), (32, 32));
}

/// A host that stops reading its answers loses the queue once a send to it has been
/// stuck for [`dpu_nvmf::server::SEND_TIMEOUT`], and keeps it until then: the target does
/// not hold a connection for ever on a peer that stopped reading. (Its clock paused: the
/// runtime moves it on whenever every task waits.)
#[tokio::test(start_paused = true)]
async fn a_host_that_stops_reading_loses_its_queue_after_the_send_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start(dir.path()).await;
    let mut c = HostController::connect(addr, SUB, &opts(false, false), 1).await.unwrap();
    let q = &mut c.io[0];
    // 96 reads of 128 KiB (12 MiB), never read: far more than the socket buffers of a
    // receiver that does not read (its window does not grow) and the sender (4 MiB).
    let len = dpu_nvmf::identify::MAX_TRANSFER;
    for i in 0..96u64 {
        q.start_read(2, i % 4 * u64::from(len / 4096), len / 4096, 4096).await.unwrap();
    }
    let open = || server.connection_gauges().open;
    assert_eq!(open(), 2, "the admin and the I/O queue");
    let timeout = dpu_nvmf::server::SEND_TIMEOUT;
    tokio::time::sleep(timeout - Duration::from_secs(1)).await;
    assert_eq!(open(), 2, "closed before its send timed out");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    while open() != 1 {
        assert!(tokio::time::Instant::now() < deadline, "the I/O queue stayed open");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn starting_more_commands_than_the_queue_holds_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, addr) = start(dir.path()).await;
    let mut q = HostQueue::open(addr, &opts(false, false)).await.unwrap();
    // SQSIZE 3 is 0's based: four entries, four commands in flight.
    let c = q.connect(SUB, 0, 3, CNTLID_DYNAMIC).await.unwrap();
    assert!(c.cqe.status.is_success());
    assert_eq!(q.queue_depth(), 4);
    let mut cids = Vec::new();
    for _ in 0..4 {
        let mut sqe = dpu_nvmf_proto::Sqe::new(0x06, 0);
        sqe.cdw[0] = 1;
        cids.push(q.start(sqe, None, 4096).await.unwrap());
    }
    let mut sqe = dpu_nvmf_proto::Sqe::new(0x06, 0);
    sqe.cdw[0] = 1;
    assert!(matches!(q.start(sqe, None, 4096).await, Err(InitiatorError::QueueFull(4))));
    for cid in cids {
        q.wait(cid).await.unwrap();
    }
}

#[tokio::test]
async fn subsystem_and_queue_statistics_count_each_queues_commands() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start(dir.path()).await;
    let stranger = HostOptions {
        hostnqn: "nqn.2014-08.org.example:stranger".into(),
        ..HostOptions::default()
    };
    HostController::connect(addr, SUB, &stranger, 1).await.unwrap_err();
    let mut c = HostController::connect(addr, SUB, &opts(false, true), 2).await.unwrap();
    // Queue 1: three 8 KiB writes and two 8 KiB reads; queue 2: four 4 KiB reads and
    // one read past the end (RAM namespace 2, 4 KiB blocks, 4096 of them).
    let data = pattern(8192, 5);
    for i in 0..3u64 {
        assert!(c.io[0].write(2, i * 2, &data, 4096).await.unwrap().cqe.status.is_success());
    }
    for i in 0..2u64 {
        assert!(c.io[0].read(2, i * 2, 2, 4096).await.unwrap().cqe.status.is_success());
    }
    for i in 0..4u64 {
        assert!(c.io[1].read(2, i, 1, 4096).await.unwrap().cqe.status.is_success());
    }
    let r = c.io[1].read(2, 4096, 1, 4096).await.unwrap();
    assert_eq!(r.cqe.status, Status::LBA_OUT_OF_RANGE.with_dnr());
    // An Asynchronous Event Request stays outstanding on the admin queue.
    c.admin.send_only(dpu_nvmf_proto::Sqe::new(0x0C, 0)).await.unwrap();

    let report = |server: &Server| {
        server.target().subsystem_stats().into_iter().find(|s| s.nqn == SUB).unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let s = loop {
        let s = report(&server);
        if s.controllers[0].queues[0].in_flight == 1 || Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!((s.counters.connects_accepted, s.counters.connects_refused), (3, 1));
    assert_eq!(s.controllers.len(), 1);
    let ctrl = &s.controllers[0];
    assert_eq!((ctrl.cntlid, ctrl.hostnqn.as_str()), (c.cntlid, HOST));
    let qids: Vec<u16> = ctrl.queues.iter().map(|q| q.info.qid).collect();
    assert_eq!(qids, vec![0, 1, 2]);
    let mut ports = BTreeSet::new();
    for q in &ctrl.queues {
        assert_eq!(q.info.cntlid, c.cntlid);
        assert!(!q.info.hdgst && q.info.ddgst, "digests of queue {}", q.info.qid);
        let peer = q.info.peer.unwrap();
        assert!(peer.ip().is_loopback());
        ports.insert(peer.port());
    }
    assert_eq!(ports.len(), 3, "each queue is its own connection");
    let (admin, q1, q2) = (&ctrl.queues[0], &ctrl.queues[1], &ctrl.queues[2]);
    // The initiator asked for 32 and 128 entries (SQSIZE 31 and 127, 0's based).
    assert_eq!((admin.info.sq_size, q1.info.sq_size, q2.info.sq_size), (32, 128, 128));
    // Admin: Connect, Property Get CAP, Property Set CC, Property Get CSTS, Identify
    // Controller (IOCCSZ), Set Features Number of Queues completed; the AER is in flight.
    assert_eq!(admin.io, IoTotals { commands: 6, ..IoTotals::default() });
    assert_eq!(admin.in_flight, 1);
    // I/O queues: their Connect plus their own commands, nothing in flight.
    let io1 = IoTotals {
        commands: 6,
        reads: 2,
        writes: 3,
        read_bytes: 2 * 8192,
        write_bytes: 3 * 8192,
        compares: 0,
        compare_bytes: 0,
        errors: 0,
    };
    let io2 = IoTotals {
        commands: 6,
        reads: 4,
        writes: 0,
        read_bytes: 4 * 4096,
        write_bytes: 0,
        compares: 0,
        compare_bytes: 0,
        errors: 1,
    };
    assert_eq!((q1.io, q1.in_flight), (io1, 0));
    assert_eq!((q2.io, q2.in_flight), (io2, 0));
    let total = IoTotals {
        commands: 18,
        reads: 6,
        writes: 3,
        read_bytes: 2 * 8192 + 4 * 4096,
        write_bytes: 3 * 8192,
        compares: 0,
        compare_bytes: 0,
        errors: 1,
    };
    assert_eq!(s.counters.io, total);

    // The subsystem's totals outlive the controller.
    drop(c);
    let deadline = Instant::now() + Duration::from_secs(5);
    let s = loop {
        let s = report(&server);
        if s.counters.queues.is_empty() && s.controllers.is_empty() || Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(s.controllers.is_empty());
    assert_eq!(s.counters.io, total);
}

/// Write Zeroes and Dataset Management (deallocate) through the server on a file and a RAM
/// volume: the ranges read back as zeroes (DLFEAT 001b), the blocks between keep their data.
/// On RAM volumes these run on the I/O pool, not inline on the reactor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_zeroes_and_deallocate_read_back_zeroes() {
    use dpu_nvmf_proto::sqe::{Sqe, io_opcode};
    let dir = tempfile::tempdir().unwrap();
    let (_server, addr) = start(dir.path()).await;
    let mut c = HostController::connect(addr, SUB, &opts(false, false), 1).await.unwrap();
    for (nsid, bs) in [(1u32, 512usize), (2, 4096)] {
        let q = &mut c.io[0];
        let data = pattern(6 * bs, nsid);
        q.write(nsid, 100, &data, bs as u32).await.unwrap();
        // Blocks 100-101 zeroed.
        let mut wz = Sqe::new(io_opcode::WRITE_ZEROES, 0);
        wz.nsid = nsid;
        wz.set_rw(100, 2);
        q.submit_ok(wz, None, 0).await.unwrap();
        // Blocks 104-105 deallocated: one range (context attributes, NLB, SLBA), AD set.
        let mut range = [0u8; 16];
        range[4..8].copy_from_slice(&2u32.to_le_bytes());
        range[8..16].copy_from_slice(&104u64.to_le_bytes());
        let mut dsm = Sqe::new(io_opcode::DATASET_MANAGEMENT, 0);
        dsm.nsid = nsid;
        dsm.cdw[1] = 1 << 2;
        q.submit_ok(dsm, Some(&range), 0).await.unwrap();
        let r = q.read(nsid, 100, 6, bs as u32).await.unwrap();
        assert!(r.cqe.status.is_success(), "{:?}", r.cqe);
        assert!(r.data[..2 * bs].iter().all(|&b| b == 0), "nsid {nsid}: zeroed blocks");
        assert_eq!(r.data[2 * bs..4 * bs], data[2 * bs..4 * bs], "nsid {nsid}: kept blocks");
        assert!(r.data[4 * bs..].iter().all(|&b| b == 0), "nsid {nsid}: deallocated blocks");
    }
    c.shutdown().await.unwrap();
}

/// A device whose operations block until the test opens its gate, counting how many
/// run at once.
#[derive(Debug, Default)]
struct GatedDevice {
    state: std::sync::Mutex<Gate>,
    changed: std::sync::Condvar,
}

#[derive(Debug, Default)]
struct Gate {
    open: bool,
    running: usize,
    most: usize,
}

impl GatedDevice {
    fn pass(&self) {
        let mut g = self.state.lock().unwrap();
        g.running += 1;
        g.most = g.most.max(g.running);
        self.changed.notify_all();
        while !g.open {
            g = self.changed.wait(g).unwrap();
        }
        g.running -= 1;
    }

    fn running(&self) -> (usize, usize) {
        let g = self.state.lock().unwrap();
        (g.running, g.most)
    }

    fn open(&self) {
        self.state.lock().unwrap().open = true;
        self.changed.notify_all();
    }
}

/// Opens the gate when dropped, so a failing test does not leave pool threads blocked.
struct OpenOnDrop(Arc<GatedDevice>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

#[derive(Debug)]
struct Gated(Arc<GatedDevice>);

impl dpu_nvmf::volume::BlockBackend for Gated {
    fn read_at(&self, buf: &mut [u8], _offset: u64) -> std::io::Result<()> {
        self.0.pass();
        buf.fill(0x6A);
        Ok(())
    }
    fn write_at(&self, _data: &[u8], _offset: u64) -> std::io::Result<()> {
        self.0.pass();
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        self.0.pass();
        Ok(())
    }
    fn write_zeroes(&self, _offset: u64, _len: u64) -> std::io::Result<()> {
        self.0.pass();
        Ok(())
    }
    fn deallocate(&self, _offset: u64, _len: u64) -> std::io::Result<()> {
        self.0.pass();
        Ok(())
    }
    fn volatile_cache(&self) -> bool {
        false
    }
}

/// Volume operations that block (a device, not memory) run on the bounded pool: with 2
/// threads and 6 reads outstanding, 2 run and 4 wait, and meanwhile the reactor serves
/// other commands (admin commands, a second controller's Connect and Identify).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_device_operations_use_a_bounded_pool_off_the_reactor() {
    let t = target_with_subsystem("POOL0001", "dpu pool");
    let device = Arc::new(GatedDevice::default());
    let _release = OpenOnDrop(device.clone());
    let v = Volume::new("gated", 512, 1 << 20, Box::new(Gated(device.clone()))).unwrap();
    t.add_namespace(SUB, 1, Arc::new(v), [5; 16], [6; 16]).unwrap();
    let (_server, addr) = serve(t, 2).await;
    let mut c = HostController::connect(addr, SUB, &opts(false, false), 1).await.unwrap();
    let mut cids = Vec::new();
    for i in 0..6 {
        cids.push(c.io[0].start_read(1, i * 8, 8, 512).await.unwrap());
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while device.running().0 < 2 {
        assert!(Instant::now() < deadline, "the pool never started: {:?}", device.running());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The reactor is free while both pool threads block: admin commands on this
    // controller and a whole new controller are served.
    const WITHIN: Duration = Duration::from_secs(10);
    tokio::time::timeout(WITHIN, c.admin.keep_alive()).await.expect("keep alive served").unwrap();
    let host = opts(false, false);
    let other = tokio::time::timeout(WITHIN, HostController::connect(addr, SUB, &host, 0));
    let mut other = other.await.expect("a new controller served").unwrap();
    let id =
        tokio::time::timeout(WITHIN, other.admin.identify(1, 0)).await.expect("identify served");
    let id = id.unwrap();
    assert_eq!(&id[4..12], b"POOL0001");
    assert_eq!(device.running(), (2, 2), "two at a time: the other four wait for a thread");
    device.open();
    for cid in cids {
        let done = tokio::time::timeout(WITHIN, c.io[0].wait(cid)).await.expect("read completed");
        let done = done.unwrap();
        assert!(done.cqe.status.is_success() && done.data == vec![0x6A; 4096]);
    }
    assert_eq!(device.running(), (0, 2), "never more than the pool's two threads");
}

/// MDTS-sized reads of a device served by the pool: the target starts them until the
/// reads in flight hold the output pause (256 KiB, two of them), then waits for their
/// completions, decoding and reading nothing more of the queue meanwhile, and goes on;
/// every read completes, and never more than two were at the device at once (the pool
/// has four threads).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_reads_in_flight_hold_no_more_than_the_output_pause() {
    let t = target_with_subsystem("POOL0002", "dpu pool");
    let device = Arc::new(GatedDevice::default());
    let _release = OpenOnDrop(device.clone());
    let v = Volume::new("gated", 512, 1 << 20, Box::new(Gated(device.clone()))).unwrap();
    t.add_namespace(SUB, 1, Arc::new(v), [5; 16], [6; 16]).unwrap();
    let (_server, addr) = serve(t, 4).await;
    let mut c = HostController::connect(addr, SUB, &opts(false, false), 1).await.unwrap();
    let len = dpu_nvmf::identify::MAX_TRANSFER;
    let mut cids = Vec::new();
    for _ in 0..8 {
        cids.push(c.io[0].start_read(1, 0, len / 512, 512).await.unwrap());
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while device.running().0 < 2 {
        assert!(Instant::now() < deadline, "the reads never started: {:?}", device.running());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    device.open();
    for cid in cids {
        let done = tokio::time::timeout(Duration::from_secs(10), c.io[0].wait(cid));
        let done = done.await.expect("read completed").unwrap();
        assert!(done.cqe.status.is_success() && done.data == vec![0x6A; len as usize]);
    }
    assert_eq!(device.running(), (0, 2), "two reads of 128 KiB at once");
}

/// A host's DH-HMAC-CHAP key exchange (ffdhe8192: tens of milliseconds per
/// exponentiation) runs off the reactor: on a runtime of one thread, serving the target
/// and both hosts, another host's reads go on while the target makes its key pair for
/// the Challenge. Were it made on the connection's task, the thread would stop for the
/// whole computation and at most a read or two would complete before the Challenge.
#[tokio::test]
async fn dh_computations_do_not_stall_other_connections() {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicBool, Ordering};

    use dpu_nvmf::auth::HostSecrets;
    use dpu_nvmf::dhchap::Secret;
    use dpu_nvmf_proto::auth::{AuthMessage, Negotiate, dh_group, hash};

    const AUTH_HOST: &str = "nqn.2014-08.org.example:loop-auth-host";
    let t = Target::new();
    t.add_subsystem(SubsystemSpec {
        nqn: SUB.into(),
        serial: "LOOPDH01".into(),
        model: "dpu loopback".into(),
        allow_any_host: false,
        hosts: BTreeSet::from([HOST.to_owned(), AUTH_HOST.to_owned()]),
        host_secrets: Default::default(),
        cntlids: dpu_nvmf::target::ALL_CNTLIDS,
        max_io_queues: dpu_nvmf::target::DEFAULT_IO_QUEUES,
    })
    .unwrap();
    let secrets = HostSecrets {
        host: Secret::new(&[7; 32], 0).unwrap(),
        ctrl: None,
        dh_group: dh_group::FFDHE8192,
        hash: 0,
    };
    t.set_host_secrets(SUB, BTreeMap::from([(AUTH_HOST.to_owned(), Arc::new(secrets))])).unwrap();
    let ram = Volume::ram("r", 4096, 1 << 20).unwrap();
    t.add_namespace(SUB, 1, Arc::new(ram), [1; 16], [2; 16]).unwrap();
    let (server, addr) = serve(t, 2).await;
    let mut other = HostController::connect(addr, SUB, &opts(false, false), 1).await.unwrap();

    // The authenticating host's admin queue, driven message by message.
    let auth_opts = HostOptions { hostnqn: AUTH_HOST.into(), ..HostOptions::default() };
    let mut q = HostQueue::open(addr, &auth_opts).await.unwrap();
    let e = q.connect(SUB, 0, 31, CNTLID_DYNAMIC).await.unwrap_err();
    assert!(matches!(e, InitiatorError::Auth(_)), "{e}");
    let negotiate = AuthMessage::Negotiate(Negotiate {
        tid: 0,
        sc_c: 0,
        hashes: vec![hash::SHA256],
        dh_groups: vec![dh_group::FFDHE8192],
    });
    assert!(q.auth_send(&negotiate.to_bytes()).await.unwrap().is_success());
    let challenged = Arc::new(AtomicBool::new(false));
    let flag = challenged.clone();
    let started = Instant::now();
    let challenge = tokio::spawn(async move {
        let m = q.auth_receive(4096).await;
        flag.store(true, Ordering::SeqCst);
        (m, started.elapsed())
    });
    let mut reads = 0;
    while !challenged.load(Ordering::SeqCst) && reads < 1_000_000 {
        let r = other.io[0].read(1, reads % 256, 1, 4096).await.unwrap();
        assert!(r.cqe.status.is_success(), "{:?}", r.cqe);
        reads += 1;
    }
    let (m, took) = challenge.await.unwrap();
    let Ok(AuthMessage::Challenge(c)) = m else { panic!("{m:?}") };
    assert_eq!((c.dh_group, c.dh_value.len()), (dh_group::FFDHE8192, 1024));
    eprintln!("{reads} reads of another host while the target made its ffdhe8192 key ({took:?})");
    assert!(reads >= 10, "only {reads} reads went through during the key's {took:?}");
    other.shutdown().await.unwrap();
    server.stop();
}

/// A regular file that counts the reads and writes it runs through its own blocking calls
/// and offers its descriptor for transfers, as a file volume does (never O_DIRECT here).
#[derive(Debug)]
struct CountedFile {
    file: std::fs::File,
    calls: Arc<std::sync::atomic::AtomicUsize>,
}

impl dpu_nvmf::volume::BlockBackend for CountedFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.file.read_exact_at(buf, offset)
    }
    fn write_at(&self, data: &[u8], offset: u64) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.file.write_all_at(data, offset)
    }
    fn flush(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }
    fn write_zeroes(&self, _offset: u64, _len: u64) -> std::io::Result<()> {
        Err(std::io::Error::other("not used by this test"))
    }
    fn deallocate(&self, _offset: u64, _len: u64) -> std::io::Result<()> {
        Err(std::io::Error::other("not used by this test"))
    }
    fn volatile_cache(&self) -> bool {
        true
    }
    fn transfer_fd(
        &self,
        _offset: u64,
        _len: usize,
    ) -> Option<(std::os::fd::BorrowedFd<'_>, bool)> {
        Some((std::os::fd::AsFd::as_fd(&self.file), false))
    }
}

/// Reads and writes of a file volume run as io_uring transfers of their connection (none
/// through the backend's blocking calls), or each on the pool with io_uring off; either
/// way the data read back, and the file, hold what was written: 512 B to 64 KiB writes
/// (every fourth with FUA) at pseudo-random blocks, 32 in flight on each of two queues.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_transfers_run_on_io_uring_or_on_the_pool_with_the_same_data() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const SIZE: usize = 4 << 20;
    const BS: u32 = 512;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counted.img");
    let file =
        std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path).unwrap();
    file.set_len(SIZE as u64).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let backend = CountedFile { file, calls: calls.clone() };
    let t = target_with_subsystem("RING0001", "dpu ring");
    let v = Arc::new(Volume::new("counted", BS, SIZE as u64, Box::new(backend)).unwrap());
    t.add_namespace(SUB, 1, v.clone(), [7; 16], [8; 16]).unwrap();
    let (server, addr) = serve(t, 4).await;
    let mut expected = vec![0u8; SIZE];
    // Each device operation is timed, on the ring and on the pool alike.
    let timed = || {
        let l = v.latency();
        [&l.read, &l.write, &l.flush].map(|h| h.snapshot().count() as usize)
    };
    for (round, ring) in [(0u32, true), (1, false)] {
        server.set_io_uring(ring);
        let before = calls.load(Ordering::Relaxed);
        let timed_before = timed();
        let c = HostController::connect(addr, SUB, &opts(false, false), 2).await.unwrap();
        let mut commands = 0;
        let mut tasks = Vec::new();
        for (qi, q) in c.io.into_iter().enumerate() {
            // Each queue writes its own half, so the expected content does not depend on
            // the order the two queues' writes land in.
            let half = (SIZE / 2) as u64 / u64::from(BS);
            let base = qi as u64 * half;
            let seed = round * 2 + qi as u32 + 1;
            tasks.push(tokio::spawn(write_at_depth(q, base, half, seed)));
        }
        for task in tasks {
            let (q, writes) = task.await.unwrap();
            for (slba, data) in writes {
                let at = slba as usize * BS as usize;
                expected[at..at + data.len()].copy_from_slice(&data);
                commands += 1;
            }
            drop(q);
        }
        let mut c = HostController::connect(addr, SUB, &opts(false, false), 1).await.unwrap();
        let q = &mut c.io[0];
        let piece = 128 * 1024;
        for at in (0..SIZE).step_by(piece) {
            let r = q.read(1, (at / BS as usize) as u64, (piece / BS as usize) as u32, BS).await;
            let r = r.unwrap();
            assert!(r.cqe.status.is_success(), "{:?}", r.cqe);
            assert!(r.data == expected[at..at + piece], "round {round}: bytes at {at} differ");
            commands += 1;
        }
        let mut flush = dpu_nvmf_proto::sqe::Sqe::new(dpu_nvmf_proto::sqe::io_opcode::FLUSH, 0);
        flush.nsid = 1;
        q.submit_ok(flush, None, 0).await.unwrap();
        c.shutdown().await.unwrap();
        let reads = SIZE / piece;
        let now = timed();
        let delta: Vec<usize> = (0..3).map(|i| now[i] - timed_before[i]).collect();
        // Two flushes: the host's, and its shutdown's of the file's write cache.
        assert_eq!(
            delta,
            [reads, commands - reads, 2],
            "round {round}: reads, writes, flushes timed"
        );
        let blocking = calls.load(Ordering::Relaxed) - before;
        println!("io_uring {ring}: {commands} reads and writes, {blocking} blocking calls");
        if ring {
            assert_eq!(blocking, 0, "with io_uring, no read or write is a blocking call");
        } else {
            assert_eq!(blocking, commands, "without io_uring, each one is");
        }
    }
    assert!(std::fs::read(&path).unwrap() == expected, "the file differs from what was written");
}

/// A file cut short under its volume (another program truncated it): a read of blocks
/// past its new end, or across it, fails with Internal Error and Do Not Retry, as Linux's
/// nvmet answers what is not the medium's failure, not with a media error; on io_uring and
/// on the pool alike. The blocks before the end still read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_past_the_end_of_a_file_cut_short_is_an_internal_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.img");
    let t = target_with_subsystem("CUT0001", "dpu cut");
    let v = Volume::file("f", &path, 512, 1 << 20).unwrap();
    t.add_namespace(SUB, 1, Arc::new(v), [5; 16], [6; 16]).unwrap();
    let (server, addr) = serve(t, 2).await;
    let data = pattern(4096, 9);
    let mut c = HostController::connect(addr, SUB, &opts(false, false), 1).await.unwrap();
    assert!(c.io[0].write(1, 0, &data, 512).await.unwrap().cqe.status.is_success());
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(512 << 10).unwrap();
    for ring in [true, false] {
        server.set_io_uring(ring);
        let mut c = HostController::connect(addr, SUB, &opts(false, false), 1).await.unwrap();
        let q = &mut c.io[0];
        for slba in [1024, 1020] {
            let r = q.read(1, slba, 8, 512).await.unwrap();
            assert_eq!(r.cqe.status, Status::INTERNAL_ERROR.with_dnr(), "{slba}, ring {ring}");
        }
        assert_eq!(q.read(1, 0, 8, 512).await.unwrap().data, data, "ring {ring}");
    }
}

/// Writes 256 pieces of pseudo-random data and sizes in `blocks` blocks from `base`, 32
/// in flight on `q`; returns the queue and the writes in the order started. The writes in
/// flight never overlap (NVMe leaves the order of overlapping ones open): each goes into
/// one of 32 slots of the range, and the oldest completes before another starts.
async fn write_at_depth(
    mut q: HostQueue,
    base: u64,
    blocks: u64,
    seed: u32,
) -> (HostQueue, Vec<(u64, Vec<u8>)>) {
    use dpu_nvmf_proto::sqe::{Sqe, io_opcode};
    const DEPTH: usize = 32;
    let slot = blocks / DEPTH as u64;
    let mut x = u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut writes = Vec::new();
    let mut started = std::collections::VecDeque::new();
    for i in 0..256u32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let nlb = [1u64, 8, 16, 128][(x % 4) as usize].min(slot);
        let slba = base + (i as u64 % DEPTH as u64) * slot + (x >> 8) % (slot - nlb + 1);
        let data = pattern((nlb * 512) as usize, seed * 1000 + i);
        let mut sqe = Sqe::new(io_opcode::WRITE, 0);
        sqe.nsid = 1;
        sqe.set_rw(slba, nlb as u32);
        if i % 4 == 0 {
            sqe.cdw[2] |= 1 << 30; // FUA (NVM Command Set 1.0 §3.2.6, CDW12 bit 30)
        }
        if started.len() == DEPTH {
            let oldest = started.pop_front().unwrap();
            let done = q.wait(oldest).await.unwrap();
            assert!(done.cqe.status.is_success(), "{:?}", done.cqe);
        }
        started.push_back(q.start(sqe, Some(&data), 0).await.unwrap());
        writes.push((slba, data));
    }
    for cid in started {
        let done = q.wait(cid).await.unwrap();
        assert!(done.cqe.status.is_success(), "{:?}", done.cqe);
    }
    (q, writes)
}

/// Sends a Write of `len` bytes at `slba` of namespace 1 under `cid` by hand, its data to
/// come by R2T (sent with [`send_asked_data`]).
async fn send_write_asking(q: &mut HostQueue, cid: u16, slba: u64, len: usize) {
    use dpu_nvmf_proto::sqe::io_opcode;
    use dpu_nvmf_proto::{CapsuleCmd, Pdu, SglDescriptor};
    let mut sqe = Sqe::new(io_opcode::WRITE, 0);
    sqe.cid = cid;
    sqe.nsid = 1;
    sqe.set_rw(slba, (len / 512) as u32);
    sqe.set_sgl(SglDescriptor::transport(len as u32));
    let capsule = Pdu::CapsuleCmd(CapsuleCmd { sqe, data: Default::default() });
    q.send_raw(&capsule.to_vec(&q.framing()).unwrap()).await.unwrap();
}

/// The next PDU on `q` by hand, which must be an R2T for `cid`.
async fn r2t_for(q: &mut HostQueue, cid: u16) -> dpu_nvmf_proto::R2t {
    match q.recv_pdu().await.unwrap() {
        dpu_nvmf_proto::Pdu::R2t(r) if r.cccid == cid => r,
        p => panic!("expected an R2T for {cid}: {p:?}"),
    }
}

/// Sends all the data `r` asked for, each byte the low byte of its CID, and takes the
/// write's completion, which must be a success.
async fn send_asked_data(q: &mut HostQueue, r: &dpu_nvmf_proto::R2t) {
    use dpu_nvmf_proto::pdu::{DataPduHeader, encode_h2c_data};
    let h = DataPduHeader { cccid: r.cccid, ttag: r.ttag, datao: 0, last: true, success: false };
    let mut b = Vec::new();
    encode_h2c_data(&h, &vec![r.cccid as u8; r.r2tl as usize], &q.framing(), &mut b).unwrap();
    q.send_raw(&b).await.unwrap();
    match q.recv_pdu().await.unwrap() {
        dpu_nvmf_proto::Pdu::CapsuleResp(c) if c.cid == r.cccid && c.status.is_success() => {}
        p => panic!("expected the completion of {}: {p:?}", r.cccid),
    }
}

/// The target-wide write budget (here one MDTS-sized write for the whole server): a
/// queue's first R2T always goes, a further one takes the budget or waits for it, and a
/// queue waiting is woken as soon as another queue's data gives the budget back, not only
/// when its own data came. Four queues writing 128 KiB at depth 8 all the while complete
/// with the right data, and the budget ends where it started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_write_budget_wakes_waiting_queues_and_every_write_lands() {
    let t = target_with_subsystem("LOOP0009", "dpu loopback");
    let ram = Volume::ram("r", 512, 64 << 20).unwrap();
    t.add_namespace(SUB, 1, Arc::new(ram), [5; 16], [6; 16]).unwrap();
    let (server, addr) = serve(t, 4).await;
    let mdts = dpu_nvmf::identify::MAX_TRANSFER as usize;
    server.set_write_data_budget(mdts);
    let budget = server.write_data_budget().clone();
    let waits =
        || server.target().stats.write_budget_waits.load(std::sync::atomic::Ordering::Relaxed);
    let mut c = HostController::connect(addr, SUB, &opts(false, false), 4).await.unwrap();
    let (a, rest) = c.io.split_first_mut().unwrap();
    let b = &mut rest[0];
    // A: its first R2T goes free, its second takes the whole budget.
    send_write_asking(a, 1, 0, mdts).await;
    let a1 = r2t_for(a, 1).await;
    send_write_asking(a, 2, 256, mdts).await;
    let a2 = r2t_for(a, 2).await;
    assert_eq!(budget.taken(), mdts);
    // B: its first goes all the same, its second waits for the budget.
    send_write_asking(b, 1, 512, mdts).await;
    let b1 = r2t_for(b, 1).await;
    send_write_asking(b, 2, 768, mdts).await;
    let early = tokio::time::timeout(Duration::from_millis(300), b.recv_pdu()).await;
    assert!(early.is_err(), "no R2T while the budget is taken: {early:?}");
    assert_eq!(waits(), 1);
    let internal = dpu_nvmf::internal::NvmfInternal::new(server.clone());
    assert_eq!(internal.stats().await.write_budget_waits, 1, "GetNvmfStats reports it");
    // A's second write's data gives the budget back: B's second R2T goes now, while B
    // still holds its first write's data back.
    send_asked_data(a, &a2).await;
    let b2 = tokio::time::timeout(Duration::from_secs(5), r2t_for(b, 2))
        .await
        .expect("the waiting queue was woken when the budget came back");
    assert_eq!(budget.taken(), mdts);
    send_asked_data(a, &a1).await;
    send_asked_data(b, &b1).await;
    send_asked_data(b, &b2).await;
    assert_eq!(budget.taken(), 0);
    // Four queues of 128 KiB writes at depth 8, all at once, then read back.
    let tasks: Vec<_> = std::mem::take(&mut c.io)
        .into_iter()
        .enumerate()
        .map(|(n, mut q)| {
            tokio::spawn(async move {
                let base = 2048 + n as u64 * 16 * 256;
                let data: Vec<Vec<u8>> =
                    (0..16u32).map(|i| pattern(mdts, n as u32 * 100 + i)).collect();
                let mut started = std::collections::VecDeque::new();
                for (i, d) in data.iter().enumerate() {
                    if started.len() == 8 {
                        let done = q.wait(started.pop_front().unwrap()).await.unwrap();
                        assert!(done.cqe.status.is_success(), "{:?}", done.cqe);
                    }
                    started
                        .push_back(q.start_write(1, base + i as u64 * 256, d, 512).await.unwrap());
                }
                for cid in started {
                    assert!(q.wait(cid).await.unwrap().cqe.status.is_success());
                }
                for (i, d) in data.iter().enumerate() {
                    let r = q.read(1, base + i as u64 * 256, 256, 512).await.unwrap();
                    assert!(r.cqe.status.is_success() && r.data == *d, "queue {n} write {i}");
                }
                q
            })
        })
        .collect();
    for task in tasks {
        let q = tokio::time::timeout(Duration::from_secs(60), task).await.unwrap().unwrap();
        c.io.push(q);
    }
    assert_eq!(budget.taken(), 0, "every byte taken came back");
    println!("R2Ts that waited for the budget: {}", waits());
    c.shutdown().await.unwrap();
}
